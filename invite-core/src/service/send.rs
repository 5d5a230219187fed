//! Send: validate every field at once, then the domain checks, then one transaction
//! with the invitation, its seat reservation, its events and its outbox email.

use chrono::Duration;

use super::catalog::{
    already_member, check_cap, ensure_active, ensure_app_enabled, lock_seats, room_swept,
};
use super::idempotency::idempotency_key;
use super::lifecycle::{refuse_pending_duplicate, sweep_overdue};
use super::request::{SendInvitationRequest, SentInvitation};
use super::validate::{Placement, Target, fingerprint, validate_placement, validate_target};
use super::{InviteService, Unit, found};
use crate::authz::InviterRights;
use crate::clock::later;
use crate::error::{Error, ErrorCode, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, UserId};
use crate::model::{
    DeliveryStatus, EventKind, Invitation, InvitationRecord, InvitationStatus, Invitee,
    OutboxMessage, OutboxState, Role, SeatCounts, Subscription,
};
use crate::token::Token;

impl InviteService {
    /// Sends an invitation: validates every field at once (`VALIDATION_FAILED`; a
    /// business the inviter has no part in is an unknown `business_id`, like a missing
    /// one), checks the inviter's rights and the role (`PERMISSION_DENIED`, `APP_NOT_ENABLED`,
    /// `ROLE_NOT_ASSIGNABLE`), the subscription (`SUBSCRIPTION_INACTIVE`), duplicates
    /// (`ALREADY_MEMBER`, `ALREADY_INVITED`), limits (`RATE_LIMITED`) and seats
    /// (`SEAT_LIMIT_REACHED`); then, in one transaction, stores the invitation (token
    /// hash only), reserves its seat, records `created` and `sent` events and queues the
    /// email in the outbox.
    pub fn send(&self, request: &SendInvitationRequest) -> Result<SentInvitation> {
        self.write(|u| {
            let mut errors = FieldErrors::from(request.draft_errors.clone());
            let target = validate_target(
                self,
                u,
                request.user_id,
                request.new_user.as_ref(),
                "",
                &mut errors,
            )?;
            let placement = validate_placement(
                self,
                u,
                request.inviter_id,
                request.business_id,
                request.app_id,
                request.subscription_id,
                request.role_id,
                request.expires_in,
                request.locale.as_deref(),
                &mut errors,
            )?;
            let key = idempotency_key(request.idempotency_key.as_deref(), &mut errors);
            errors.into_result()?;
            let (Some(target), Some(placement)) = (target, placement) else {
                return Err(Error::internal("validated request is incomplete"));
            };
            let fingerprint = key.as_ref().map(|_| fingerprint(&target, &placement));
            let rights = self.inviter_may_invite(u, &placement)?;
            if let (Some(key), Some(fp)) = (&key, &fingerprint)
                && let Some(replay) = self.replay(u, placement.business, key, fp)?
            {
                // A replay hands back the first result's link (live unless the
                // invitation was resent or left pending since): only to an inviter who
                // may still send it (invariant 6).
                self.check_role_grant(&rights, &placement.role, placement.subscription.app_id)?;
                let first = replay.into_iter().next();
                return first
                    .ok_or_else(|| Error::internal("empty idempotent result"))?
                    .map_err(Error::from);
            }
            self.authorize(u, &placement, &rights)?;
            self.check_inviter_limits(u, placement.inviter, placement.business, 1)?;
            let sent = self.create_invitation(u, &target, &placement)?;
            if let (Some(key), Some(fp)) = (&key, fingerprint) {
                let rows = [Ok(sent)];
                self.remember(u, placement.business, key, fp, &rows)?;
                let [sent] = rows;
                return sent.map_err(Error::from);
            }
            Ok(sent)
        })
    }

    /// The inviter's rights in the placement's business and app; `PERMISSION_DENIED`
    /// unless they may invite there. The first of the domain checks, before any replay.
    pub(crate) fn inviter_may_invite(
        &self,
        u: &mut Unit<'_>,
        p: &Placement,
    ) -> Result<InviterRights> {
        let rights = p.standing.rights(
            &mut *u.tx,
            p.inviter,
            p.business,
            p.subscription.app_id,
            u.now,
        )?;
        if !self.policy.may_invite(&rights) {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "you may not invite people into this business and app",
            ));
        }
        Ok(rights)
    }

    /// `ROLE_NOT_ASSIGNABLE` unless `role` is of `app` and `rights` may grant it: the one
    /// grant check of sends, replays and the lifecycle.
    pub(crate) fn check_role_grant(
        &self,
        rights: &InviterRights,
        role: &Role,
        app: ApplicationId,
    ) -> Result<()> {
        if role.app_id != app || !self.policy.may_grant(rights, role) {
            return Err(Error::new(
                ErrorCode::RoleNotAssignable,
                format!("you may not grant the role `{}` in this app", role.key),
            ));
        }
        Ok(())
    }

    /// The rest of the domain checks shared by send and bulk send, after
    /// [`Self::inviter_may_invite`]: app enabled, role grantable, subscription active.
    pub(crate) fn authorize(
        &self,
        u: &mut Unit<'_>,
        p: &Placement,
        rights: &InviterRights,
    ) -> Result<()> {
        ensure_app_enabled(&mut *u.tx, p.business, p.subscription.app_id)?;
        self.check_role_grant(rights, &p.role, p.subscription.app_id)?;
        // The subscription was read in this transaction by validation.
        ensure_active(&p.subscription, u.now)
    }

    /// The inviter's daily budget and the business's pending cap, for `n` new
    /// invitations (`RATE_LIMITED`).
    pub(crate) fn check_inviter_limits(
        &self,
        u: &mut Unit<'_>,
        inviter: UserId,
        business: BusinessId,
        n: u32,
    ) -> Result<()> {
        self.check_daily_budget(u, inviter, n)?;
        self.check_pending_cap(u, business, n)
    }

    /// `RATE_LIMITED` if `n` more invitation emails would take the actor past the daily
    /// budget. New invitations and resends both count: each mails the invitee.
    pub(crate) fn check_daily_budget(&self, u: &mut Unit<'_>, actor: UserId, n: u32) -> Result<()> {
        let Some(max) = self.config.limits.invites_per_inviter_per_day else {
            return Ok(());
        };
        let day_start = u
            .now
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let created = u.tx.count_created_by_inviter_since(actor, day_start)?;
        let resent = u.tx.count_resent_by_actor_since(actor, day_start)?;
        if created.saturating_add(resent).saturating_add(n) > max {
            let retry = (day_start + Duration::days(1) - u.now)
                .to_std()
                .unwrap_or_default();
            return Err(Error::rate_limited(
                format!("you reached the limit of {max} invitations per day (sends and resends)"),
                retry,
            ));
        }
        Ok(())
    }

    /// `RATE_LIMITED` if `n` more pending invitations would take the business past its
    /// pending cap.
    pub(crate) fn check_pending_cap(
        &self,
        u: &mut Unit<'_>,
        business: BusinessId,
        n: u32,
    ) -> Result<()> {
        let Some(max) = self.config.limits.pending_per_business else {
            return Ok(());
        };
        let over = |u: &mut Unit<'_>| -> Result<bool> {
            Ok(u.tx.count_pending(business)?.saturating_add(n) > max)
        };
        if over(u)? {
            // Overdue invitations are expired, not pending: sweep them, then recount.
            for subscription in u.tx.list_subscriptions(business, None)? {
                sweep_overdue(u, subscription.id)?;
            }
        }
        if over(u)? {
            return Err(Error::rate_limited(
                format!("the business has {max} pending invitations, the most allowed"),
                std::time::Duration::from_secs(3600),
            ));
        }
        Ok(())
    }

    /// Per-invitee checks and the write of one invitation (reservation, events, outbox).
    pub(crate) fn create_invitation(
        &self,
        u: &mut Unit<'_>,
        target: &Target,
        p: &Placement,
    ) -> Result<SentInvitation> {
        let (invitee, email, email_key, existing) = match target {
            Target::Existing(id) => {
                let user = found(u.tx.get_user(*id)?, "user")?;
                (
                    Invitee::Existing { user_id: user.id },
                    user.email,
                    user.email_key,
                    Some(user.id),
                )
            }
            Target::New {
                first_name,
                last_name,
                email,
            } => match u.tx.get_user_by_email_key(email.key())? {
                Some(user) => (
                    Invitee::Existing { user_id: user.id },
                    user.email,
                    user.email_key,
                    Some(user.id),
                ),
                None => (
                    Invitee::New {
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                    },
                    email.address().to_owned(),
                    email.key().to_owned(),
                    None,
                ),
            },
        };
        let sub = &p.subscription;
        // The seat lock before the checks, as in `add_membership`: a concurrent
        // membership of this person waits, and the checks see what it committed.
        let (mut counts, cap) = lock_seats(u, p.business, sub.id)?;
        if let Some(user) = existing
            && u.tx.find_membership(p.business, sub.id, user)?.is_some()
        {
            return Err(already_member());
        }
        if refuse_pending_duplicate(u, p.business, sub.id, &email_key)? {
            counts = u.tx.seat_counts_for_update(p.business, sub.id)?;
        }
        self.reserve_seat(u, sub, counts, cap)?;
        let token = Token::mint(&*self.random)?;
        let invitation = Invitation {
            id: u.new_id()?,
            business_id: p.business,
            app_id: sub.app_id,
            subscription_id: sub.id,
            role_id: p.role.id,
            invitee,
            email,
            email_key,
            inviter_id: p.inviter,
            status: InvitationStatus::Pending,
            locale: p.locale.clone(),
            created_at: u.now,
            expires_at: later(u.now, p.lifetime, "the invitation's expiry")?,
            last_sent_at: u.now,
            send_count: 1,
            responded_at: None,
            accepted_user_id: None,
            delivery: DeliveryStatus::queued(),
        };
        let record = InvitationRecord {
            invitation,
            token_hash: token.hash(),
        };
        u.tx.insert_invitation(&record)?;
        let invitation = record.invitation;
        u.event(
            p.business,
            invitation.id,
            EventKind::Created,
            Some(p.inviter),
            None,
        )?;
        self.enqueue_email(u, &invitation, &token)?;
        u.event(
            p.business,
            invitation.id,
            EventKind::Sent,
            Some(p.inviter),
            None,
        )?;
        let accept_link = self.accept_link(&token);
        Ok(SentInvitation {
            invitation,
            token,
            accept_link,
            replayed: false,
        })
    }

    /// Reserves one seat in `sub`, whose seat lock the caller holds (`counts` and `cap`
    /// as `lock_seats` read them), sweeping its overdue invitations first if full.
    pub(crate) fn reserve_seat(
        &self,
        u: &mut Unit<'_>,
        sub: &Subscription,
        counts: SeatCounts,
        cap: Option<u32>,
    ) -> Result<()> {
        let mut counts = room_swept(u, sub.business_id, sub.id, counts, cap)?;
        counts.reserved += 1;
        check_cap(cap, counts)?;
        u.tx.set_seat_counts(sub.id, counts)
    }

    /// Queues the invitation's email, superseding any earlier one still waiting.
    pub(crate) fn enqueue_email(
        &self,
        u: &mut Unit<'_>,
        invitation: &Invitation,
        token: &Token,
    ) -> Result<()> {
        if invitation.send_count > 1 {
            // A resend supersedes the email still waiting; a first send has none.
            super::lifecycle::cancel_messages(u, invitation)?;
        }
        let message = OutboxMessage {
            id: u.new_id()?,
            business_id: invitation.business_id,
            invitation_id: invitation.id,
            sealed_token: Some(u.seal(token)?),
            state: OutboxState::Queued,
            attempts: 0,
            next_attempt_at: u.now,
            last_error: None,
            created_at: u.now,
        };
        u.tx.enqueue_message(&message)
    }
}
