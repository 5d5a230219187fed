//! The outbox dispatcher: claims due emails, renders them, hands them to a `Mailer`
//! outside any transaction, and records the outcome with retries and backoff.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::lifecycle::not_pending;
use super::{InviteService, Unit, found};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{BusinessId, InvitationId, UserId};
use crate::mail::{EmailContext, InvitationEmail, Mailer};
use crate::model::{
    DeliveryState, EventKind, Invitation, InvitationStatus, Invitee, OutboxMessage, OutboxState,
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

/// Messages taken by one claim, each with what its email needs or the reason it cannot
/// be built.
type Claimed = Vec<(OutboxMessage, Result<(EmailContext, Invitation), String>)>;

/// How many messages one claim transaction takes.
const CLAIM_BATCH: usize = 100;

impl InviteService {
    /// Delivers every due outbox email through `mailer`, in batches, until none is due.
    /// At-least-once: a crash between the mailer and the bookkeeping re-sends the same
    /// `message_id` after the lease.
    pub fn dispatch_outbox(&self, mailer: &dyn Mailer) -> Result<DispatchReport> {
        let mut report = DispatchReport::default();
        loop {
            let Some(claimed) = self.write(|u| self.claim(u))? else {
                return Ok(report);
            };
            let outcomes: Vec<(OutboxMessage, Result<(), String>)> = claimed
                .into_iter()
                .map(|(message, context)| {
                    let outcome = match context {
                        Ok((context, inv)) => mailer
                            .send(&self.render(&message, &context, inv))
                            .map_err(|e| e.0),
                        Err(reason) => Err(reason),
                    };
                    (message, outcome)
                })
                .collect();
            // One commit records the whole batch: a crash before it re-sends the batch
            // after the lease, under the same message ids.
            let states = self.write(|u| {
                outcomes
                    .iter()
                    .map(|(message, outcome)| self.record_outcome(u, message, outcome.clone()))
                    .collect::<Result<Vec<_>>>()
            })?;
            for state in states {
                match state {
                    OutboxState::Sent => report.delivered += 1,
                    OutboxState::Queued => report.retrying += 1,
                    OutboxState::Failed => report.failed += 1,
                    OutboxState::Cancelled => {}
                }
            }
        }
    }

    /// Queues an invitation's failed email again (an admin's "retry delivery").
    pub fn retry_delivery(
        &self,
        business: BusinessId,
        invitation: InvitationId,
        actor: UserId,
    ) -> Result<()> {
        self.write(|u| {
            let mut record = found(u.tx.get_invitation(business, invitation)?, "invitation")?;
            if record.invitation.status_at(u.now) != InvitationStatus::Pending {
                return Err(not_pending(&record.invitation));
            }
            let rights =
                super::inviter_rights(&mut *u.tx, actor, business, record.invitation.app_id)?;
            if !self.policy.may_invite(&rights) {
                return Err(Error::new(
                    ErrorCode::PermissionDenied,
                    "you may not manage invitations of this business and app",
                ));
            }
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
            u.tx.update_invitation(&record)
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
            message.next_attempt_at = u.now + self.config.delivery.lease;
            u.tx.update_message(&message)?;
            let context = self.email_context(u, &message, invitation)?;
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
        let business = found(u.tx.get_business(inv.business_id)?, "business")?;
        let app = found(u.tx.get_app(inv.app_id)?, "app")?;
        let role = found(u.tx.get_role(inv.role_id)?, "role")?;
        let inviter = found(u.tx.get_user(inv.inviter_id)?, "user")?;
        let invitee_name = match &inv.invitee {
            Invitee::New {
                first_name,
                last_name,
            } => Some(format!("{first_name} {last_name}")),
            Invitee::Existing { user_id } => {
                u.tx.get_user(*user_id)?.map(|user| user.display_name())
            }
        };
        let context = EmailContext {
            inviter_name: inviter.display_name(),
            invitee_name,
            business_name: business.name,
            app_name: app.name,
            role_name: role.name,
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
    fn record_outcome(
        &self,
        u: &mut Unit<'_>,
        claimed: &OutboxMessage,
        outcome: Result<(), String>,
    ) -> Result<OutboxState> {
        let Some(mut message) = u.tx.get_message(claimed.id)? else {
            return Err(Error::not_found("message"));
        };
        if message.state == OutboxState::Cancelled {
            return Ok(OutboxState::Cancelled);
        }
        let mut record = found(
            u.tx.get_invitation(message.business_id, message.invitation_id)?,
            "invitation",
        )?;
        let delivery = &mut record.invitation.delivery;
        delivery.attempts = message.attempts;
        let (kind, detail) = match outcome {
            Ok(()) => {
                message.state = OutboxState::Sent;
                message.sealed_token = None;
                message.last_error = None;
                delivery.state = DeliveryState::Sent;
                delivery.delivered_at = Some(u.now);
                delivery.last_error = None;
                (EventKind::Delivered, None)
            }
            Err(reason) => {
                let reason: String = reason.chars().take(1_000).collect();
                message.last_error = Some(reason.clone());
                delivery.last_error = Some(reason.clone());
                if message.attempts >= self.config.delivery.max_attempts {
                    message.state = OutboxState::Failed;
                    delivery.state = DeliveryState::Failed;
                } else {
                    message.state = OutboxState::Queued;
                    message.next_attempt_at = u.now + self.backoff(message.attempts);
                    delivery.state = DeliveryState::Queued;
                }
                (EventKind::DeliveryFailed, Some(reason))
            }
        };
        u.tx.update_message(&message)?;
        u.tx.update_invitation(&record)?;
        u.event(
            message.business_id,
            message.invitation_id,
            kind,
            None,
            detail,
        )?;
        Ok(message.state)
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
