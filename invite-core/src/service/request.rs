//! Send requests as callers build them (typed, or text drafts from pages and bindings)
//! and the result of a send.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::error::{FieldCode, FieldError, FieldErrors};
use crate::ids::{ApplicationId, BusinessId, RoleId, SubscriptionId, UserId};
use crate::model::Invitation;
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

    /// From a text draft; malformed ids are kept as field errors for
    /// [`InviteService::send`](crate::InviteService::send).
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
/// `Debug` redacts the token and the link that carries it.
#[derive(Clone)]
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

impl std::fmt::Debug for SentInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentInvitation")
            .field("invitation", &self.invitation)
            .field("token", &self.token)
            .field("accept_link", &crate::token::REDACTED)
            .field("replayed", &self.replayed)
            .finish()
    }
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
