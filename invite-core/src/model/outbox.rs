use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, InvitationId, MessageId};

/// Where an outbox message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for (re)delivery at `next_attempt_at`.
    Queued,
    /// Delivered.
    Sent,
    /// Gave up.
    Failed,
    /// Superseded by a newer email for the same invitation (resend), or its invitation left pending.
    Cancelled,
}

impl OutboxState {
    /// Every state.
    pub const ALL: &'static [OutboxState] = &[
        OutboxState::Queued,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Cancelled,
    ];

    /// `"queued"`, `"sent"`, `"failed"`, `"cancelled"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Cancelled => "cancelled",
        }
    }

    /// Parses [`OutboxState::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "queued" => Some(OutboxState::Queued),
            "sent" => Some(OutboxState::Sent),
            "failed" => Some(OutboxState::Failed),
            "cancelled" => Some(OutboxState::Cancelled),
            _ => None,
        }
    }
}

/// An email waiting in the outbox, written in the same transaction as its invitation.
///
/// The token needed for the link is kept only sealed (encrypted with the service's
/// outbox key) and erased once the message leaves the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Id; also the stable message id handed to mailers for de-duplication.
    pub id: MessageId,
    /// Business.
    pub business_id: BusinessId,
    /// Invitation the email is for.
    pub invitation_id: InvitationId,
    /// The token sealed with the outbox key; `None` once the message left the queue.
    pub sealed_token: Option<String>,
    /// State.
    pub state: OutboxState,
    /// Attempts so far.
    pub attempts: u32,
    /// Earliest next attempt.
    pub next_attempt_at: DateTime<Utc>,
    /// Last failure's message.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: DateTime<Utc>,
}

/// The first result of a send under an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Business the key is scoped to.
    pub business_id: BusinessId,
    /// The caller's key.
    pub key: String,
    /// SHA-256 (hex) of the request's parameters.
    pub fingerprint: String,
    /// The stored result (opaque JSON; tokens in it are sealed).
    pub result: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When the key may be reused.
    pub expires_at: DateTime<Utc>,
}
