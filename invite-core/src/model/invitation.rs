use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, BusinessId, InvitationId, RoleId, SubscriptionId, UserId};
use crate::token::TokenHash;

/// Invitation states. Only `Pending` moves (a resend may revive `Expired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Sent; holds a seat reservation.
    Pending,
    /// Accepted: the reservation became a membership.
    Accepted,
    /// Declined by the invitee.
    Declined,
    /// Revoked by an admin.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl InvitationStatus {
    /// Every status.
    pub const ALL: &'static [InvitationStatus] = &[
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
        InvitationStatus::Revoked,
        InvitationStatus::Expired,
    ];

    /// `"pending"`, `"accepted"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    /// Parses [`InvitationStatus::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == text)
    }

    /// The effective status at `now` of a stored status whose link expires at
    /// `expires_at`: a pending invitation at or past its expiry is expired.
    pub fn effective_at(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if self == InvitationStatus::Pending && now >= expires_at {
            InvitationStatus::Expired
        } else {
            self
        }
    }

    /// Whether an invitation with this stored status holds a seat reservation.
    pub fn holds_reservation(self) -> bool {
        self == InvitationStatus::Pending
    }
}

/// Who is invited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Invitee {
    /// A user already in the directory.
    Existing {
        /// The user.
        user_id: UserId,
    },
    /// A new person; the user is created with these names at accept.
    New {
        /// First name.
        first_name: String,
        /// Last name.
        last_name: String,
    },
}

/// Where the invitation's latest email stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// In the outbox, not yet delivered.
    Queued,
    /// Handed to the mailer.
    Sent,
    /// Gave up after the maximum attempts (an admin can retry).
    Failed,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: &'static [DeliveryState] = &[
        DeliveryState::Queued,
        DeliveryState::Sent,
        DeliveryState::Failed,
    ];

    /// `"queued"`, `"sent"`, `"failed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses [`DeliveryState::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(DeliveryState::Queued),
            "sent" => Some(DeliveryState::Sent),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// Delivery status of an invitation's latest email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// State.
    pub state: DeliveryState,
    /// Delivery attempts of the latest email.
    pub attempts: u32,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When it was last handed to the mailer.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryStatus {
    /// A freshly queued email.
    pub fn queued() -> Self {
        DeliveryStatus {
            state: DeliveryState::Queued,
            attempts: 0,
            last_error: None,
            delivered_at: None,
        }
    }
}

/// An invitation as callers see it. The token hash is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Id.
    pub id: InvitationId,
    /// Business.
    pub business_id: BusinessId,
    /// App.
    pub app_id: ApplicationId,
    /// Subscription whose seat is reserved.
    pub subscription_id: SubscriptionId,
    /// Role granted at accept.
    pub role_id: RoleId,
    /// Who is invited.
    pub invitee: Invitee,
    /// Address as entered: where mail goes.
    pub email: String,
    /// Canonical email key.
    pub email_key: String,
    /// Who sent it first: a resend by someone else keeps it, and accept re-checks this
    /// inviter's rights.
    pub inviter_id: UserId,
    /// Status as stored; see [`Invitation::status_at`] for the effective one.
    pub status: InvitationStatus,
    /// Locale for the email, if chosen.
    pub locale: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires (accept at or after this instant fails).
    pub expires_at: DateTime<Utc>,
    /// Last (re)sent.
    pub last_sent_at: DateTime<Utc>,
    /// How many times it was sent (1 + resends).
    pub send_count: u32,
    /// When it left `pending` (accepted, declined, revoked or swept as expired).
    pub responded_at: Option<DateTime<Utc>>,
    /// The user who accepted.
    pub accepted_user_id: Option<UserId>,
    /// Delivery status of the latest email.
    pub delivery: DeliveryStatus,
}

impl Invitation {
    /// The effective status at `now`: a pending invitation at or past its expiry is expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        self.status.effective_at(self.expires_at, now)
    }

    /// This invitation with its status made effective at `now`.
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.status = self.status_at(now);
        self
    }

    /// Whether this invitation holds a seat reservation (stored status `pending`).
    pub fn holds_reservation(&self) -> bool {
        self.status.holds_reservation()
    }
}

/// What a store keeps: the invitation plus the hash of its one live token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    /// The invitation.
    pub invitation: Invitation,
    /// SHA-256 of the live token.
    pub token_hash: TokenHash,
}
