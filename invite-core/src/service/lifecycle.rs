//! Resend, revoke and the expiry sweep; the seat and outbox bookkeeping they share.

use chrono::{DateTime, Duration, Utc};

use super::catalog::{
    active_subscription, already_member, check_cap, ensure_app_enabled, lock_seats,
};
use super::request::SentInvitation;
use super::{InviteService, MAX_EXPIRY, MIN_EXPIRY, Standing, Unit, found};
use crate::authz::InviterRights;
use crate::clock::later;
use crate::error::{Error, ErrorCode, FieldCode, FieldError, Result};
use crate::ids::{BusinessId, InvitationId, SubscriptionId, UserId};
use crate::model::{
    DeliveryStatus, EventKind, Invitation, InvitationRecord, InvitationStatus, Invitee, OutboxState,
};
use crate::token::Token;

/// How many overdue invitations one sweep transaction expires.
const SWEEP_BATCH: usize = 500;

impl InviteService {
    /// Sends a pending or expired invitation again: a new token (the old one dies), a new
    /// expiry, a new email. An expired invitation needs a free seat again, and room under
    /// the business's pending cap. The actor's rights are checked as they are now; the
    /// resend counts against the actor's daily budget, as a send does.
    pub fn resend(
        &self,
        business: BusinessId,
        id: InvitationId,
        actor: UserId,
        expires_in: Option<Duration>,
    ) -> Result<SentInvitation> {
        let lifetime = expires_in.unwrap_or(self.config.default_expiry);
        if !(MIN_EXPIRY..=MAX_EXPIRY).contains(&lifetime) {
            return Err(Error::validation(vec![FieldError::new(
                "expires_in",
                FieldCode::OutOfRange,
                "expiry must be between 1 hour and 30 days",
            )]));
        }
        self.write(|u| {
            let (mut record, rights) = self.managed_invitation(u, business, id, actor)?;
            let inv = &record.invitation;
            if !matches!(
                inv.status_at(u.now),
                InvitationStatus::Pending | InvitationStatus::Expired
            ) {
                return Err(not_pending(inv, u.now));
            }
            self.check_grant(u, &rights, inv)?;
            let subscription =
                active_subscription(&mut *u.tx, business, inv.subscription_id, u.now)?;
            ensure_app_enabled(&mut *u.tx, business, inv.app_id)?;
            let since_last = u.now - inv.last_sent_at;
            let cooldown = self.config.limits.resend_cooldown;
            if since_last < cooldown {
                let retry = (cooldown - since_last).to_std().unwrap_or_default();
                return Err(Error::rate_limited(
                    "this invitation was sent moments ago; wait before resending",
                    retry,
                ));
            }
            if invitee_is_member(u, inv)? {
                return Err(already_member());
            }
            self.check_daily_budget(u, actor, 1)?;
            if !inv.holds_reservation() {
                // A newer invitation to the same person blocks the revival only while it
                // is live; one past its expiry is expired here, as a send would.
                refuse_pending_duplicate(u, business, inv.subscription_id, &inv.email_key)?;
                // Revived: pending again, so it counts against the pending cap.
                self.check_pending_cap(u, business, 1)?;
                let (counts, cap) = lock_seats(u, business, subscription.id)?;
                self.reserve_seat(u, &subscription, counts, cap)?;
            }
            let token = Token::mint(&*self.random)?;
            let inv = &mut record.invitation;
            inv.status = InvitationStatus::Pending;
            inv.expires_at = later(u.now, lifetime, "the invitation's expiry")?;
            inv.last_sent_at = u.now;
            inv.send_count += 1;
            inv.responded_at = None;
            inv.delivery = DeliveryStatus::queued();
            record.token_hash = token.hash();
            u.tx.update_invitation(&record)?;
            self.enqueue_email(u, &record.invitation, &token)?;
            u.event(business, id, EventKind::Resent, Some(actor), None)?;
            let accept_link = self.accept_link(&token);
            Ok(SentInvitation {
                invitation: record.invitation,
                token,
                accept_link,
                replayed: false,
            })
        })
    }

    /// Revokes a pending invitation: its token dies and its seat is released. Final.
    /// The actor must be able to grant its role, as for a resend: a clerk cannot revoke
    /// an owner's invitation (`ROLE_NOT_ASSIGNABLE`).
    pub fn revoke(
        &self,
        business: BusinessId,
        id: InvitationId,
        actor: UserId,
    ) -> Result<Invitation> {
        self.write(|u| {
            let (mut record, rights) = self.managed_invitation(u, business, id, actor)?;
            if record.invitation.status_at(u.now) != InvitationStatus::Pending {
                return Err(not_pending(&record.invitation, u.now));
            }
            self.check_grant(u, &rights, &record.invitation)?;
            leave_pending(u, &mut record, InvitationStatus::Revoked)?;
            u.event(business, id, EventKind::Revoked, Some(actor), None)?;
            Ok(record.invitation)
        })
    }

    /// Writes `expired` on every pending invitation past its expiry and releases their
    /// seats, in batches, then deletes the idempotency records past their lifetime (and
    /// the sealed tokens they keep). Returns how many invitations it expired. Safe to
    /// run from several processes; run it on a schedule.
    pub fn expire_overdue(&self) -> Result<u64> {
        let expired = self.expire_overdue_invitations()?;
        while self.write(|u| u.tx.purge_idempotency(u.now, SWEEP_BATCH))? == SWEEP_BATCH {}
        Ok(expired)
    }

    fn expire_overdue_invitations(&self) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let n = self.write(|u| {
                let overdue = u.tx.overdue_pending(u.now, None, SWEEP_BATCH)?;
                let n = overdue.len();
                for record in overdue {
                    expire_record(u, record)?;
                }
                Ok(n)
            })?;
            total += n as u64;
            if n < SWEEP_BATCH {
                return Ok(total);
            }
        }
    }

    /// The invitation `id` of `business`, for an `actor` who may manage the business's
    /// invitations of its app (with the actor's rights, for [`Self::check_grant`]).
    ///
    /// An actor without those rights who has no part in the business (neither its admin
    /// nor a member of any of its subscriptions) gets `NOT_FOUND`, exactly as for a
    /// missing id: nothing about another tenant's invitations leaks, not even whether
    /// one exists or is still pending (SECURITY.md T7). Inside the business it is
    /// `PERMISSION_DENIED`.
    pub(crate) fn managed_invitation(
        &self,
        u: &mut Unit<'_>,
        business: BusinessId,
        id: InvitationId,
        actor: UserId,
    ) -> Result<(InvitationRecord, InviterRights)> {
        let record = found(u.tx.get_invitation(business, id)?, "invitation")?;
        let standing = Standing::read(&mut *u.tx, actor, business)?;
        let rights =
            standing.rights(&mut *u.tx, actor, business, record.invitation.app_id, u.now)?;
        if self.policy.may_invite(&rights) {
            return Ok((record, rights));
        }
        if !standing.is_insider() {
            return Err(Error::not_found("invitation"));
        }
        Err(Error::new(
            ErrorCode::PermissionDenied,
            "you may not manage invitations of this business and app",
        ))
    }

    /// `ROLE_NOT_ASSIGNABLE` unless the actor may (still) grant the invitation's role.
    pub(crate) fn check_grant(
        &self,
        u: &mut Unit<'_>,
        rights: &InviterRights,
        inv: &Invitation,
    ) -> Result<()> {
        let role = found(u.tx.get_role(inv.role_id)?, "role")?;
        self.check_role_grant(rights, &role, inv.app_id)
    }
}

/// Whether the invitee holds a seat in the invitation's subscription already (joined by
/// another route since it was sent): resending it could only end in `ALREADY_MEMBER`.
fn invitee_is_member(u: &mut Unit<'_>, inv: &Invitation) -> Result<bool> {
    let user = match &inv.invitee {
        Invitee::Existing { user_id } => Some(*user_id),
        Invitee::New { .. } => {
            u.tx.get_user_by_email_key(&inv.email_key)?
                .map(|user| user.id)
        }
    };
    match user {
        Some(user) => Ok(u
            .tx
            .find_membership(inv.business_id, inv.subscription_id, user)?
            .is_some()),
        None => Ok(false),
    }
}

/// `INVITATION_NOT_PENDING`, naming the invitation's status at `now` (an unswept
/// overdue invitation is expired).
pub(crate) fn not_pending(inv: &Invitation, now: DateTime<Utc>) -> Error {
    Error::new(
        ErrorCode::InvitationNotPending,
        format!("the invitation is {}", inv.status_at(now).as_str()),
    )
}

/// Moves a stored-pending invitation to `status`, releasing its seat and cancelling its
/// waiting emails. The caller records the event.
pub(crate) fn leave_pending(
    u: &mut Unit<'_>,
    record: &mut InvitationRecord,
    status: InvitationStatus,
) -> Result<()> {
    if record.invitation.holds_reservation() {
        release_reservation(u, &record.invitation)?;
    }
    record.invitation.status = status;
    record.invitation.responded_at = Some(u.now);
    u.tx.update_invitation(record)?;
    cancel_messages(u, &record.invitation)
}

/// Expires one overdue invitation (releases its seat) and records the event.
/// `ALREADY_INVITED` if the person with `email_key` has a pending invitation to the
/// subscription (one pending invitation, or one seat, per person: invariant 2). An
/// overdue one is expired on the spot, releasing its seat: then `Ok(true)`, and the
/// caller's seat counters are stale.
pub(crate) fn refuse_pending_duplicate(
    u: &mut Unit<'_>,
    business: BusinessId,
    subscription: SubscriptionId,
    email_key: &str,
) -> Result<bool> {
    let Some(pending) =
        u.tx.find_pending_invitation(business, subscription, email_key)?
    else {
        return Ok(false);
    };
    if u.now < pending.invitation.expires_at {
        return Err(Error::new(
            ErrorCode::AlreadyInvited,
            "this person already has a pending invitation to this subscription",
        )
        .with_help("resend or revoke the pending invitation instead"));
    }
    expire_record(u, pending)?;
    Ok(true)
}

/// Expires up to 1,000 of the subscription's overdue pending invitations, releasing
/// their seats. Run before a decision that counts reservations or pending invitations
/// (a seat, a lower cap, the pending cap), so that one past its expiry never counts.
pub(crate) fn sweep_overdue(u: &mut Unit<'_>, subscription: SubscriptionId) -> Result<()> {
    for overdue in u.tx.overdue_pending(u.now, Some(subscription), 1_000)? {
        expire_record(u, overdue)?;
    }
    Ok(())
}

pub(crate) fn expire_record(u: &mut Unit<'_>, mut record: InvitationRecord) -> Result<()> {
    leave_pending(u, &mut record, InvitationStatus::Expired)?;
    u.event(
        record.invitation.business_id,
        record.invitation.id,
        EventKind::Expired,
        None,
        None,
    )
}

fn release_reservation(u: &mut Unit<'_>, inv: &Invitation) -> Result<()> {
    let mut counts =
        u.tx.seat_counts_for_update(inv.business_id, inv.subscription_id)?;
    counts.reserved = counts.reserved.checked_sub(1).ok_or_else(|| {
        Error::internal("seat counters out of step: releasing a reservation that is not counted")
    })?;
    u.tx.set_seat_counts(inv.subscription_id, counts)
}

/// Converts the invitation's own reservation into a used seat (accept).
pub(crate) fn convert_reservation(
    u: &mut Unit<'_>,
    inv: &Invitation,
    cap: Option<u32>,
) -> Result<()> {
    let mut counts =
        u.tx.seat_counts_for_update(inv.business_id, inv.subscription_id)?;
    counts.reserved = counts.reserved.checked_sub(1).ok_or_else(|| {
        Error::internal("seat counters out of step: accepting without a counted reservation")
    })?;
    counts.used += 1;
    check_cap(cap, counts)?;
    u.tx.set_seat_counts(inv.subscription_id, counts)
}

/// Cancels the invitation's emails that still wait (queued) or could be retried
/// (failed), erasing their sealed tokens.
pub(crate) fn cancel_messages(u: &mut Unit<'_>, inv: &Invitation) -> Result<()> {
    for mut message in u.tx.messages_for_invitation(inv.business_id, inv.id)? {
        if matches!(message.state, OutboxState::Queued | OutboxState::Failed) {
            message.state = OutboxState::Cancelled;
            message.sealed_token = None;
            u.tx.update_message(&message)?;
        }
    }
    Ok(())
}
