use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, EventId, InvitationId, UserId};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Invitation saved.
    Created,
    /// Its email was queued.
    Sent,
    /// Sent again with a new token.
    Resent,
    /// The mailer took the email.
    Delivered,
    /// A delivery attempt failed.
    DeliveryFailed,
    /// Accepted.
    Accepted,
    /// Declined.
    Declined,
    /// Revoked.
    Revoked,
    /// Expired (written by the sweep).
    Expired,
}

impl EventKind {
    /// Every kind.
    pub const ALL: &'static [EventKind] = &[
        EventKind::Created,
        EventKind::Sent,
        EventKind::Resent,
        EventKind::Delivered,
        EventKind::DeliveryFailed,
        EventKind::Accepted,
        EventKind::Declined,
        EventKind::Revoked,
        EventKind::Expired,
    ];

    /// `"created"`, `"delivery_failed"`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Sent => "sent",
            EventKind::Resent => "resent",
            EventKind::Delivered => "delivered",
            EventKind::DeliveryFailed => "delivery_failed",
            EventKind::Accepted => "accepted",
            EventKind::Declined => "declined",
            EventKind::Revoked => "revoked",
            EventKind::Expired => "expired",
        }
    }

    /// Parses [`EventKind::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

/// An audit record of one state change. Never contains a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Id (time-ordered).
    pub id: EventId,
    /// Business.
    pub business_id: BusinessId,
    /// The invitation concerned.
    pub invitation_id: InvitationId,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (`None` for the system: sweep, dispatcher, anonymous invitee).
    pub actor_id: Option<UserId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Extra detail (a delivery error's message, …).
    pub detail: Option<String>,
}
