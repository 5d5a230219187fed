//! The outbox dispatcher: claims due emails, renders them, hands them to a `Mailer`
//! outside any transaction, and records the outcome with retries and backoff.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::lifecycle::not_pending;
use super::{InviteService, Unit, found};
use crate::clock::later;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ApplicationId, BusinessId, InvitationId, RoleId, UserId};
use crate::input::is_forbidden;
use crate::mail::{EmailContext, InvitationEmail, MailError, Mailer};
use crate::model::{
    DeliveryState, DeliveryStatus, EventKind, Invitation, InvitationStatus, Invitee, OutboxMessage,
    OutboxState,
};

/// What one dispatch run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchReport {
    /// Emails the mailer accepted.
    pub delivered: u32,
    /// Failed attempts that will be retried.
    pub retrying: u32,
    /// Emails given up after the maximum attempts (or that cannot be rendered).
    pub failed: u32,
}

/// What became of one claimed email.
#[derive(Clone, Debug)]
enum Outcome {
    /// The mailer took it.
    Sent,
    /// It could not be built, or the mailer failed it: a failed attempt.
    Failed(String),
    /// The mailer stopped before it (its batch answer was short): not an attempt.
    NotAttempted,
}

/// Messages taken by one claim, each with what its email needs or the reason it cannot
/// be built.
type Claimed = Vec<(OutboxMessage, Result<(EmailContext, Invitation), String>)>;

/// How many messages one claim transaction takes.
const CLAIM_BATCH: usize = 100;

impl InviteService {
    /// Delivers every due outbox email through `mailer`, in batches, until none is due
    /// or the mailer stops (answers a batch short, see [`Mailer::send_batch`]): the
    /// emails it did not attempt are due again at once, their attempt not counted.
    /// At-least-once: a crash between the mailer and the bookkeeping re-sends the same
    /// `message_id` after the lease.
    pub fn dispatch_outbox(&self, mailer: &dyn Mailer) -> Result<DispatchReport> {
        let mut report = DispatchReport::default();
        loop {
            let Some(claimed) = self.write(|u| self.claim(u))? else {
                return Ok(report);
            };
            let outcomes = self.deliver(claimed, mailer);
            let stopped = outcomes
                .iter()
                .any(|(_, outcome)| matches!(outcome, Outcome::NotAttempted));
            // One commit records the whole batch: a crash before it re-sends the batch
            // after the lease, under the same message ids.
            let states = self.write(|u| {
                outcomes
                    .iter()
                    .map(|(message, outcome)| self.record_outcome(u, message, outcome.clone()))
                    .collect::<Result<Vec<_>>>()
            })?;
            for state in states.into_iter().flatten() {
                match state {
                    OutboxState::Sent => report.delivered += 1,
                    OutboxState::Queued => report.retrying += 1,
                    OutboxState::Failed => report.failed += 1,
                    OutboxState::Cancelled => {}
                }
            }
            if stopped {
                return Ok(report);
            }
        }
    }

    /// Renders the claimed messages and hands the renderable ones to `mailer` in one
    /// batch; a message that could not be built keeps its reason, and a message the
    /// mailer gave no outcome for (it stopped) was not attempted.
    ///
    /// The host's renderer and mailer are guarded: one that panics fails only the
    /// email it panicked on, as an attempt like any failure (retried, then `failed`).
    /// Left to unwind, the panic would end the run with the whole batch claimed and
    /// nothing recorded, to be claimed again after the lease and panic again.
    fn deliver(&self, claimed: Claimed, mailer: &dyn Mailer) -> Vec<(OutboxMessage, Outcome)> {
        let mut emails = Vec::with_capacity(claimed.len());
        let mut messages = Vec::with_capacity(claimed.len());
        for (message, context) in claimed {
            let unbuildable = match context {
                Ok((context, inv)) => {
                    match catch_unwind(AssertUnwindSafe(|| self.render(&message, &context, inv))) {
                        Ok(email) => {
                            emails.push(email);
                            None
                        }
                        Err(_) => Some("the email renderer panicked".to_owned()),
                    }
                }
                Err(reason) => Some(reason),
            };
            messages.push((message, unbuildable));
        }
        let outcomes = send_guarded(mailer, &emails);
        let mut delivered = emails.iter().zip(outcomes);
        messages
            .into_iter()
            .map(|(message, unbuildable)| {
                let outcome = match unbuildable {
                    Some(reason) => Outcome::Failed(reason),
                    None => match delivered.next() {
                        Some((_, Ok(()))) => Outcome::Sent,
                        // A mail server's refusal may quote the link (a URL blocklist,
                        // say): what is recorded never holds the token (T1).
                        Some((email, Err(e))) => {
                            Outcome::Failed(self.without_token(&e.0, &email.accept_link))
                        }
                        None => Outcome::NotAttempted,
                    },
                };
                (message, outcome)
            })
            .collect()
    }

    /// Queues an invitation's failed email again (an admin's "retry delivery"), recorded
    /// as a `sent` event by the actor (the email is queued again, with the same link).
    /// The actor must be able to grant its role, as for a resend (`ROLE_NOT_ASSIGNABLE`).
    pub fn retry_delivery(
        &self,
        business: BusinessId,
        invitation: InvitationId,
        actor: UserId,
    ) -> Result<()> {
        self.write(|u| {
            let (mut record, rights) = self.managed_invitation(u, business, invitation, actor)?;
            if record.invitation.status_at(u.now) != InvitationStatus::Pending {
                return Err(not_pending(&record.invitation, u.now));
            }
            self.check_grant(u, &rights, &record.invitation)?;
            let messages = u.tx.messages_for_invitation(business, invitation)?;
            let Some(mut message) = messages
                .into_iter()
                .rev()
                .find(|m| m.state == OutboxState::Failed)
            else {
                return Err(Error::new(
                    ErrorCode::InvitationNotPending,
                    "the invitation has no failed email to retry",
                ));
            };
            message.state = OutboxState::Queued;
            message.attempts = 0;
            message.next_attempt_at = u.now;
            u.tx.update_message(&message)?;
            record.invitation.delivery.state = DeliveryState::Queued;
            record.invitation.delivery.attempts = 0;
            u.tx.update_invitation(&record)?;
            u.event(business, invitation, EventKind::Sent, Some(actor), None)
        })
    }

    /// Takes a lease on due messages and renders them. Messages whose invitation is no
    /// longer pending (expired, answered, revoked) are cancelled instead: no mail goes
    /// out for a link that cannot work.
    /// `None` when nothing was due.
    fn claim(&self, u: &mut Unit<'_>) -> Result<Option<Claimed>> {
        let due = u.tx.due_messages(u.now, CLAIM_BATCH)?;
        if due.is_empty() {
            return Ok(None);
        }
        let mut claimed = Vec::new();
        let mut names = Names::default();
        for mut message in due {
            let record =
                u.tx.get_invitation(message.business_id, message.invitation_id)?;
            let Some(invitation) = record
                .map(|r| r.invitation)
                .filter(|i| i.status_at(u.now) == InvitationStatus::Pending)
            else {
                message.state = OutboxState::Cancelled;
                message.sealed_token = None;
                u.tx.update_message(&message)?;
                continue;
            };
            message.attempts += 1;
            message.next_attempt_at = later(
                u.now,
                self.config.delivery.lease,
                "the delivery lease's end",
            )?;
            u.tx.update_message(&message)?;
            let context = self.email_context(u, &mut names, &message, invitation)?;
            claimed.push((message, context));
        }
        Ok(Some(claimed))
    }

    /// Reads what the email of `message` needs (in the claim transaction); `Err(reason)`
    /// when it cannot be built (token sealed with another key). Rendering happens after
    /// the claim commits, so host templates never run while the store is locked.
    fn email_context(
        &self,
        u: &mut Unit<'_>,
        names: &mut Names,
        message: &OutboxMessage,
        inv: Invitation,
    ) -> Result<Result<(EmailContext, Invitation), String>> {
        let Some(token) = message
            .sealed_token
            .as_deref()
            .and_then(|s| self.sealer.open(s))
        else {
            return Ok(Err("the link could not be rebuilt (sealed with another outbox key); resend the invitation".to_owned()));
        };
        let business_name = names.business(u, inv.business_id)?;
        let app_name = names.app(u, inv.app_id)?;
        let role_name = names.role(u, inv.role_id)?;
        let inviter_name = found(names.user(u, inv.inviter_id)?, "user")?;
        let invitee_name = match &inv.invitee {
            Invitee::New {
                first_name,
                last_name,
            } => Some(format!("{first_name} {last_name}")),
            Invitee::Existing { user_id } => names.user(u, *user_id)?,
        };
        let context = EmailContext {
            inviter_name,
            invitee_name,
            business_name,
            app_name,
            role_name,
            expires_at: inv.expires_at,
            accept_link: self.accept_link(&token),
            locale: inv.locale.clone(),
        };
        Ok(Ok((context, inv)))
    }

    /// Renders a claimed message with the host's (or the default) templates.
    fn render(
        &self,
        message: &OutboxMessage,
        context: &EmailContext,
        inv: Invitation,
    ) -> InvitationEmail {
        let rendered = self.renderer.render(context);
        InvitationEmail {
            message_id: message.id,
            business_id: inv.business_id,
            invitation_id: inv.id,
            to: inv.email,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            accept_link: context.accept_link.clone(),
            locale: rendered.locale,
            expires_at: inv.expires_at,
        }
    }

    /// Records a delivery outcome on the message, the invitation and the audit log.
    /// Records what became of a claimed message; `None` for one not attempted.
    fn record_outcome(
        &self,
        u: &mut Unit<'_>,
        claimed: &OutboxMessage,
        outcome: Outcome,
    ) -> Result<Option<OutboxState>> {
        let Some(mut message) = u.tx.get_message(claimed.id)? else {
            return Err(Error::not_found("message"));
        };
        if message.state == OutboxState::Cancelled {
            return Ok(Some(OutboxState::Cancelled));
        }
        if !still_claimed(&message, claimed) {
            // This claim's lease ran out while the mailer worked: another dispatcher has
            // claimed the message since, or recorded it. Only a delivery is news to it
            // (an email went out); a failure or a skip must not undo the newer claim's
            // lease nor downgrade a delivery recorded meanwhile.
            match (&outcome, message.state) {
                (Outcome::Sent, OutboxState::Sent) => return Ok(Some(OutboxState::Sent)),
                (Outcome::Sent, _) => {}
                _ => return Ok(None),
            }
        }
        let failure = match outcome {
            Outcome::Sent => None,
            Outcome::Failed(reason) => Some(reason),
            Outcome::NotAttempted => {
                // Back as it was before the claim: due now, the claim's attempt undone.
                message.attempts = message.attempts.saturating_sub(1);
                message.next_attempt_at = u.now;
                u.tx.update_message(&message)?;
                return Ok(None);
            }
        };
        let (delivery, kind, detail) = match failure {
            None => {
                message.state = OutboxState::Sent;
                message.sealed_token = None;
                message.last_error = None;
                let delivered = DeliveryStatus {
                    state: DeliveryState::Sent,
                    attempts: message.attempts,
                    last_error: None,
                    delivered_at: Some(u.now),
                };
                (delivered, EventKind::Delivered, None)
            }
            Some(reason) => {
                // A failure keeps the instant of the invitation's last delivery, if any.
                let record = found(
                    u.tx.get_invitation(message.business_id, message.invitation_id)?,
                    "invitation",
                )?;
                let reason = recordable(&reason);
                message.last_error = Some(reason.clone());
                let state = if message.attempts >= self.config.delivery.max_attempts {
                    message.state = OutboxState::Failed;
                    DeliveryState::Failed
                } else {
                    message.state = OutboxState::Queued;
                    message.next_attempt_at = later(
                        u.now,
                        self.backoff(message.attempts),
                        "the next delivery attempt",
                    )?;
                    DeliveryState::Queued
                };
                let failed = DeliveryStatus {
                    state,
                    attempts: message.attempts,
                    last_error: Some(reason.clone()),
                    delivered_at: record.invitation.delivery.delivered_at,
                };
                (failed, EventKind::DeliveryFailed, Some(reason))
            }
        };
        u.tx.update_message(&message)?;
        // The delivery alone: a delivered email's bookkeeping reads no invitation.
        u.tx.update_delivery(message.business_id, message.invitation_id, &delivery)?;
        u.event(
            message.business_id,
            message.invitation_id,
            kind,
            None,
            detail,
        )?;
        Ok(Some(message.state))
    }

    /// Exponential backoff after `attempts` failures, capped.
    fn backoff(&self, attempts: u32) -> Duration {
        let d = &self.config.delivery;
        let factor = 1i32
            .checked_shl(attempts.saturating_sub(1).min(20))
            .unwrap_or(i32::MAX);
        (d.base_backoff * factor).min(d.max_backoff)
    }
}

/// `mailer.send_batch(emails)`, with a panic in it turned into outcomes: the batch is
/// sent again email by email, each guarded, so only the email that panics fails (those
/// the batch sent before the panic go out twice, under their message ids: delivery is
/// at-least-once).
fn send_guarded(mailer: &dyn Mailer, emails: &[InvitationEmail]) -> Vec<Result<(), MailError>> {
    catch_unwind(AssertUnwindSafe(|| mailer.send_batch(emails))).unwrap_or_else(|_| {
        emails
            .iter()
            .map(|email| {
                catch_unwind(AssertUnwindSafe(|| mailer.send(email)))
                    .unwrap_or_else(|_| Err(MailError("the mailer panicked".to_owned())))
            })
            .collect()
    })
}

/// Whether `stored` is still as the claim `claimed` left it: queued, with the claim's
/// attempt and lease. A newer claim counts another attempt; a recorded outcome changes
/// the state or the due time. Instants compare to the microsecond, the precision every
/// store keeps.
fn still_claimed(stored: &OutboxMessage, claimed: &OutboxMessage) -> bool {
    stored.state == OutboxState::Queued
        && stored.attempts == claimed.attempts
        && (stored.next_attempt_at - claimed.next_attempt_at)
            .num_microseconds()
            .is_some_and(|us| us.abs() < 1)
}

/// A mailer's failure text as it is recorded (outbox, invitation, event): at most 1,000
/// characters, control characters (a NUL above all, which PostgreSQL `text` refuses,
/// failing the whole batch's bookkeeping), line separators and bidi controls (which
/// would reorder what an admin page shows) each replaced by a space.
fn recordable(reason: &str) -> String {
    reason
        .chars()
        .take(1_000)
        .map(|c| if is_forbidden(c) { ' ' } else { c })
        .collect()
}

/// The names one claim's emails show, read once per claim: a batch usually shares its
/// business, app, role and inviter, so each is one store read instead of one per email.
#[derive(Default)]
struct Names {
    businesses: HashMap<BusinessId, String>,
    apps: HashMap<ApplicationId, String>,
    roles: HashMap<RoleId, String>,
    users: HashMap<UserId, Option<String>>,
}

impl Names {
    fn business(&mut self, u: &mut Unit<'_>, id: BusinessId) -> Result<String> {
        cached(&mut self.businesses, id, || {
            found(u.tx.get_business(id)?, "business").map(|b| b.name)
        })
    }

    fn app(&mut self, u: &mut Unit<'_>, id: ApplicationId) -> Result<String> {
        cached(&mut self.apps, id, || {
            found(u.tx.get_app(id)?, "app").map(|a| a.name)
        })
    }

    fn role(&mut self, u: &mut Unit<'_>, id: RoleId) -> Result<String> {
        cached(&mut self.roles, id, || {
            found(u.tx.get_role(id)?, "role").map(|r| r.name)
        })
    }

    /// A user's display name; `None` for a user that no longer exists.
    fn user(&mut self, u: &mut Unit<'_>, id: UserId) -> Result<Option<String>> {
        cached(&mut self.users, id, || {
            Ok(u.tx.get_user(id)?.map(|user| user.display_name()))
        })
    }
}

fn cached<K: std::hash::Hash + Eq, V: Clone>(
    map: &mut HashMap<K, V>,
    key: K,
    read: impl FnOnce() -> Result<V>,
) -> Result<V> {
    if let Some(value) = map.get(&key) {
        return Ok(value.clone());
    }
    let value = read()?;
    map.insert(key, value.clone());
    Ok(value)
}
