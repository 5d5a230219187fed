//! Send: validate every field at once, then the domain checks, then one transaction
//! with the invitation, its seat reservation, its events and its outbox email.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::catalog::{already_member, check_cap, ensure_active};
use super::idempotency::idempotency_key;
use super::lifecycle::expire_record;
use super::{InviteService, MAX_EXPIRY, MIN_EXPIRY, Unit, found, inviter_rights};
use crate::error::{Error, ErrorCode, FieldCode, FieldError, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, RoleId, SubscriptionId, UserId};
use crate::input::{Email, validate_locale, validate_name};
use crate::model::{
    DeliveryStatus, EventKind, Invitation, InvitationRecord, InvitationStatus, Invitee,
    OutboxMessage, OutboxState, Role, SeatCounts, Subscription,
};
use crate::token::Token;

/// New-user details as typed on the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvitee {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email as entered.
    pub email: String,
}

/// A send request with every id as text, as a page or a binding receives it.
/// Malformed ids become `UNKNOWN_OPTION` field errors, reported with all the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendInvitationDraft {
    /// An existing user's id (exclusive with `new_user`).
    pub user_id: Option<String>,
    /// A new user's details (exclusive with `user_id`).
    pub new_user: Option<NewInvitee>,
    /// Business id.
    pub business_id: Option<String>,
    /// App id.
    pub app_id: Option<String>,
    /// Subscription id.
    pub subscription_id: Option<String>,
    /// Role id.
    pub role_id: Option<String>,
    /// Lifetime in seconds (1 hour to 30 days; default from the config).
    pub expires_in_seconds: Option<i64>,
    /// Email locale.
    pub locale: Option<String>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

/// A request to invite one person. Build with [`SendInvitationRequest::new`] and setters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendInvitationRequest {
    /// Who sends (the authenticated admin).
    pub inviter_id: UserId,
    /// An existing user to invite.
    pub user_id: Option<UserId>,
    /// Or a new user's details.
    pub new_user: Option<NewInvitee>,
    /// Business.
    pub business_id: Option<BusinessId>,
    /// App.
    pub app_id: Option<ApplicationId>,
    /// Subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Role.
    pub role_id: Option<RoleId>,
    /// Lifetime (1 hour to 30 days); `None`: the configured default.
    pub expires_in: Option<Duration>,
    /// Email locale.
    pub locale: Option<String>,
    /// Idempotency key: the same key returns the first result.
    pub idempotency_key: Option<String>,
    /// Problems found while reading a text draft (malformed ids), reported with all others.
    pub draft_errors: Vec<FieldError>,
}

impl SendInvitationRequest {
    /// An empty request from `inviter`.
    pub fn new(inviter_id: UserId) -> Self {
        SendInvitationRequest {
            inviter_id,
            user_id: None,
            new_user: None,
            business_id: None,
            app_id: None,
            subscription_id: None,
            role_id: None,
            expires_in: None,
            locale: None,
            idempotency_key: None,
            draft_errors: Vec::new(),
        }
    }

    /// From a text draft; malformed ids are kept as field errors for [`InviteService::send`].
    pub fn from_draft(inviter_id: UserId, draft: &SendInvitationDraft) -> Self {
        let mut errors = FieldErrors::new();
        SendInvitationRequest {
            inviter_id,
            user_id: parse_draft_id(&draft.user_id, "user_id", &mut errors),
            new_user: draft.new_user.clone(),
            business_id: parse_draft_id(&draft.business_id, "business_id", &mut errors),
            app_id: parse_draft_id(&draft.app_id, "app_id", &mut errors),
            subscription_id: parse_draft_id(&draft.subscription_id, "subscription_id", &mut errors),
            role_id: parse_draft_id(&draft.role_id, "role_id", &mut errors),
            expires_in: parse_draft_lifetime(draft.expires_in_seconds, &mut errors),
            locale: draft.locale.clone(),
            idempotency_key: draft.idempotency_key.clone(),
            draft_errors: errors.into_vec(),
        }
    }

    /// Invites an existing user.
    pub fn existing_user(mut self, id: UserId) -> Self {
        self.user_id = Some(id);
        self
    }

    /// Invites a new user.
    pub fn new_user(mut self, first_name: &str, last_name: &str, email: &str) -> Self {
        self.new_user = Some(NewInvitee {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: email.into(),
        });
        self
    }

    /// Business.
    pub fn business(mut self, id: BusinessId) -> Self {
        self.business_id = Some(id);
        self
    }

    /// App.
    pub fn app(mut self, id: ApplicationId) -> Self {
        self.app_id = Some(id);
        self
    }

    /// Subscription.
    pub fn subscription(mut self, id: SubscriptionId) -> Self {
        self.subscription_id = Some(id);
        self
    }

    /// Role.
    pub fn role(mut self, id: RoleId) -> Self {
        self.role_id = Some(id);
        self
    }

    /// Lifetime.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }

    /// Email locale.
    pub fn locale(mut self, locale: &str) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Idempotency key.
    pub fn idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// The result of a send or resend: the invitation, its one-time token and the link.
#[derive(Clone, Debug)]
pub struct SentInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The token: shown once, never stored raw.
    pub token: Token,
    /// The accept link (copy-link fallback).
    pub accept_link: String,
    /// True when an idempotency key returned an earlier result.
    pub replayed: bool,
}

/// Reads an id typed as text: blank is absent; malformed is an `UNKNOWN_OPTION` under
/// `field`, reported with every other problem.
pub(crate) fn parse_draft_id<T: std::str::FromStr>(
    raw: &Option<String>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    let text = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let parsed = text.parse().ok();
    if parsed.is_none() {
        let what = field
            .rsplit('.')
            .next()
            .unwrap_or(field)
            .trim_end_matches("_id");
        errors.push(field, FieldCode::UnknownOption, format!("unknown {what}"));
    }
    parsed
}

/// Reads a lifetime given in seconds; one too large to represent is `OUT_OF_RANGE`.
pub(crate) fn parse_draft_lifetime(
    seconds: Option<i64>,
    errors: &mut FieldErrors,
) -> Option<Duration> {
    let seconds = seconds?;
    let lifetime = Duration::try_seconds(seconds);
    if lifetime.is_none() {
        errors.push(
            "expires_in",
            FieldCode::OutOfRange,
            "expiry must be between 1 hour and 30 days",
        );
    }
    lifetime
}

/// Who is invited, validated.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Existing(UserId),
    New {
        first_name: String,
        last_name: String,
        email: Email,
    },
}

/// Fields common to a single send and every row of a bulk send, validated.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    pub inviter: UserId,
    pub business: BusinessId,
    pub subscription: Subscription,
    pub role: Role,
    pub lifetime: Duration,
    pub locale: Option<String>,
}

/// Validates the invitee part of a request into `errors` (`prefix` names bulk rows).
pub(crate) fn validate_target(
    service: &InviteService,
    u: &mut Unit<'_>,
    user_id: Option<UserId>,
    new_user: Option<&NewInvitee>,
    prefix: &str,
    errors: &mut FieldErrors,
) -> Result<Option<Target>> {
    match (user_id, new_user) {
        (Some(_), Some(_)) => {
            errors.push(
                format!("{prefix}user"),
                FieldCode::Conflicting,
                "choose an existing user or enter a new one, not both",
            );
            Ok(None)
        }
        (None, None) => {
            if !errors.mentions(&format!("{prefix}user_id")) {
                errors.push(
                    format!("{prefix}user"),
                    FieldCode::Required,
                    "select a user or add a new one",
                );
            }
            Ok(None)
        }
        (Some(id), None) => {
            if u.tx.get_user(id)?.is_some() {
                Ok(Some(Target::Existing(id)))
            } else {
                errors.push(
                    format!("{prefix}user_id"),
                    FieldCode::UnknownOption,
                    "unknown user",
                );
                Ok(None)
            }
        }
        (None, Some(new)) => {
            let first = errors.take(validate_name(
                &new.first_name,
                &format!("{prefix}first_name"),
            ));
            let last = errors.take(validate_name(&new.last_name, &format!("{prefix}last_name")));
            let email = errors.take(Email::parse(
                &new.email,
                &format!("{prefix}email"),
                service.config.email_policy,
            ));
            Ok(match (first, last, email) {
                (Some(first_name), Some(last_name), Some(email)) => Some(Target::New {
                    first_name,
                    last_name,
                    email,
                }),
                _ => None,
            })
        }
    }
}

/// Validates business, app, subscription, role, lifetime and locale into `errors`.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per form field keeps the call sites readable"
)]
pub(crate) fn validate_placement(
    service: &InviteService,
    u: &mut Unit<'_>,
    inviter: UserId,
    business: Option<BusinessId>,
    app: Option<ApplicationId>,
    subscription: Option<SubscriptionId>,
    role: Option<RoleId>,
    expires_in: Option<Duration>,
    locale: Option<&str>,
    errors: &mut FieldErrors,
) -> Result<Option<Placement>> {
    let required = |errors: &mut FieldErrors, field: &str, what: &str| {
        errors.push(field, FieldCode::Required, format!("select {what}"));
    };
    let unknown = |errors: &mut FieldErrors, field: &str, what: &str| {
        errors.push(field, FieldCode::UnknownOption, format!("unknown {what}"));
    };
    let already = |errors: &FieldErrors, field: &str| errors.mentions(field);
    let business = match business {
        Some(id) if u.tx.get_business(id)?.is_some() => Some(id),
        Some(_) => {
            unknown(errors, "business_id", "business");
            None
        }
        None => {
            if !already(errors, "business_id") {
                required(errors, "business_id", "a business");
            }
            None
        }
    };
    let app = match app {
        Some(id) if u.tx.get_app(id)?.is_some() => Some(id),
        Some(_) => {
            unknown(errors, "app_id", "app");
            None
        }
        None => {
            if !already(errors, "app_id") {
                required(errors, "app_id", "an app");
            }
            None
        }
    };
    let subscription = match (subscription, business) {
        (Some(id), Some(b)) => match u.tx.get_subscription(b, id)? {
            Some(s) if app.is_none_or(|a| s.app_id == a) => Some(s),
            _ => {
                unknown(errors, "subscription_id", "subscription");
                None
            }
        },
        (Some(_), None) => None,
        (None, _) => {
            if !already(errors, "subscription_id") {
                required(errors, "subscription_id", "a subscription");
            }
            None
        }
    };
    let role = match role {
        Some(id) => match u.tx.get_role(id)? {
            Some(r) => Some(r),
            None => {
                unknown(errors, "role_id", "role");
                None
            }
        },
        None => {
            if !already(errors, "role_id") {
                required(errors, "role_id", "a role");
            }
            None
        }
    };
    let lifetime = expires_in.unwrap_or(service.config.default_expiry);
    if !(MIN_EXPIRY..=MAX_EXPIRY).contains(&lifetime) {
        errors.push(
            "expires_in",
            FieldCode::OutOfRange,
            "expiry must be between 1 hour and 30 days",
        );
    }
    let locale = locale.and_then(|l| errors.take(validate_locale(l, "locale")));
    Ok(match (business, subscription, role) {
        (Some(business), Some(subscription), Some(role)) if errors.is_empty() => Some(Placement {
            inviter,
            business,
            subscription,
            role,
            lifetime,
            locale,
        }),
        _ => None,
    })
}

impl InviteService {
    /// Sends an invitation: validates every field at once (`VALIDATION_FAILED`), checks
    /// the inviter's rights and the role (`PERMISSION_DENIED`, `APP_NOT_ENABLED`,
    /// `ROLE_NOT_ASSIGNABLE`), the subscription (`SUBSCRIPTION_INACTIVE`), duplicates
    /// (`ALREADY_MEMBER`, `ALREADY_INVITED`), limits (`RATE_LIMITED`) and seats
    /// (`SEAT_LIMIT_REACHED`); then, in one transaction, stores the invitation (token
    /// hash only), reserves its seat, records `created` and `sent` events and queues the
    /// email in the outbox.
    pub fn send(&self, request: &SendInvitationRequest) -> Result<SentInvitation> {
        let key = idempotency_key(request.idempotency_key.as_deref())?;
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
            errors.into_result()?;
            let (Some(target), Some(placement)) = (target, placement) else {
                return Err(Error::internal("validated request is incomplete"));
            };
            let fingerprint = key.as_ref().map(|_| fingerprint(&[(&target, &placement)]));
            if let (Some(key), Some(fp)) = (&key, &fingerprint)
                && let Some(replay) = self.replay(u, placement.business, key, fp)?
            {
                let first = replay.into_iter().next();
                return first
                    .ok_or_else(|| Error::internal("empty idempotent result"))?
                    .map_err(Error::from);
            }
            self.authorize(u, &placement)?;
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

    /// The domain checks shared by send and bulk send (rights, app, role, subscription).
    pub(crate) fn authorize(&self, u: &mut Unit<'_>, p: &Placement) -> Result<()> {
        let app = p.subscription.app_id;
        let rights = inviter_rights(&mut *u.tx, p.inviter, p.business, app)?;
        if !self.policy.may_invite(&rights) {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "you may not invite people into this business and app",
            ));
        }
        if !u.tx.is_app_enabled(p.business, app)? {
            return Err(Error::new(
                ErrorCode::AppNotEnabled,
                "the app is not enabled for this business",
            ));
        }
        if p.role.app_id != app || !self.policy.may_grant(&rights, &p.role) {
            return Err(Error::new(
                ErrorCode::RoleNotAssignable,
                format!("you may not grant the role `{}` in this app", p.role.key),
            ));
        }
        // The subscription was read in this transaction by validation.
        ensure_active(&p.subscription, u.now)
    }

    /// `RATE_LIMITED` if `n` more invitations would pass the inviter's daily budget or
    /// the business's pending cap.
    pub(crate) fn check_inviter_limits(
        &self,
        u: &mut Unit<'_>,
        inviter: UserId,
        business: BusinessId,
        n: u32,
    ) -> Result<()> {
        let limits = &self.config.limits;
        if let Some(max) = limits.invites_per_inviter_per_day {
            let day_start = u
                .now
                .date_naive()
                .and_time(chrono::NaiveTime::MIN)
                .and_utc();
            let sent_today = u.tx.count_created_by_inviter_since(inviter, day_start)?;
            if sent_today.saturating_add(n) > max {
                let retry = (day_start + Duration::days(1) - u.now)
                    .to_std()
                    .unwrap_or_default();
                return Err(Error::rate_limited(
                    format!("you reached the limit of {max} invitations per day"),
                    retry,
                ));
            }
        }
        if let Some(max) = limits.pending_per_business
            && u.tx.count_pending(business)?.saturating_add(n) > max
        {
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
        if let Some(user) = existing
            && u.tx.find_membership(p.business, sub.id, user)?.is_some()
        {
            return Err(already_member());
        }
        if let Some(pending) =
            u.tx.find_pending_invitation(p.business, sub.id, &email_key)?
        {
            if u.now < pending.invitation.expires_at {
                return Err(Error::new(
                    ErrorCode::AlreadyInvited,
                    "this person already has a pending invitation to this subscription",
                )
                .with_help("resend the pending invitation instead"));
            }
            expire_record(u, pending)?;
        }
        self.reserve_seat(u, sub)?;
        let token = Token::mint(&*self.random)?;
        let invitation = Invitation {
            id: self.new_id()?,
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
            expires_at: u.now + p.lifetime,
            last_sent_at: u.now,
            send_count: 1,
            responded_at: None,
            accepted_user_id: None,
            delivery: DeliveryStatus::queued(),
        };
        u.tx.insert_invitation(&InvitationRecord {
            invitation: invitation.clone(),
            token_hash: token.hash(),
        })?;
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

    /// Reserves one seat, sweeping this subscription's overdue invitations first if full.
    pub(crate) fn reserve_seat(&self, u: &mut Unit<'_>, sub: &Subscription) -> Result<()> {
        let mut counts = u.tx.seat_counts_for_update(sub.business_id, sub.id)?;
        if !has_room(sub.seats, counts) {
            for overdue in u.tx.overdue_pending(u.now, Some(sub.id), 1_000)? {
                expire_record(u, overdue)?;
            }
            counts = u.tx.seat_counts_for_update(sub.business_id, sub.id)?;
        }
        counts.reserved += 1;
        check_cap(sub.seats, counts)?;
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
            id: self.new_id()?,
            business_id: invitation.business_id,
            invitation_id: invitation.id,
            sealed_token: Some(self.sealer.seal(token, &*self.random)?),
            state: OutboxState::Queued,
            attempts: 0,
            next_attempt_at: u.now,
            last_error: None,
            created_at: u.now,
        };
        u.tx.enqueue_message(&message)
    }
}

fn has_room(cap: Option<u32>, counts: SeatCounts) -> bool {
    cap.is_none_or(|cap| counts.used.saturating_add(counts.reserved) < cap)
}

/// SHA-256 over the validated parameters of one or more sends.
pub(crate) fn fingerprint(rows: &[(&Target, &Placement)]) -> String {
    let mut hasher = Sha256::new();
    for (target, p) in rows {
        let who = match target {
            Target::Existing(id) => format!("user:{id}"),
            Target::New {
                first_name,
                last_name,
                email,
            } => format!("new:{first_name}\u{1f}{last_name}\u{1f}{}", email.key()),
        };
        let line = format!(
            "{who}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\n",
            p.inviter,
            p.business,
            p.subscription.id,
            p.role.id,
            p.lifetime.num_seconds(),
            p.locale.as_deref().unwrap_or("")
        );
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
