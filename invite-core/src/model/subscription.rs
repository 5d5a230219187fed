use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, BusinessId, SubscriptionId};

/// Whether a subscription can take new members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// In force.
    Active,
    /// Paused by the provider (unpaid, abuse…).
    Suspended,
    /// Ended.
    Expired,
}

impl SubscriptionStatus {
    /// Every status.
    pub const ALL: &'static [SubscriptionStatus] = &[
        SubscriptionStatus::Active,
        SubscriptionStatus::Suspended,
        SubscriptionStatus::Expired,
    ];

    /// `"active"`, `"suspended"`, `"expired"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Suspended => "suspended",
            SubscriptionStatus::Expired => "expired",
        }
    }

    /// Parses [`SubscriptionStatus::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(SubscriptionStatus::Active),
            "suspended" => Some(SubscriptionStatus::Suspended),
            "expired" => Some(SubscriptionStatus::Expired),
            _ => None,
        }
    }
}

/// One business's subscription to one app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Id.
    pub id: SubscriptionId,
    /// Owning business.
    pub business_id: BusinessId,
    /// The app subscribed to.
    pub app_id: ApplicationId,
    /// Plan name.
    pub plan: String,
    /// Seat cap; `None` is unlimited.
    pub seats: Option<u32>,
    /// Status.
    pub status: SubscriptionStatus,
    /// Start of validity (inclusive), if bounded.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of validity (exclusive), if bounded.
    pub valid_until: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    /// Active and inside its validity window at `now`.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.status == SubscriptionStatus::Active
            && self.valid_from.is_none_or(|from| now >= from)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// Seat counters a store keeps per subscription, updated in the same transaction as
/// every membership and invitation change (so usage is O(1)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatCounts {
    /// Seats held by memberships.
    pub used: u32,
    /// Seats reserved by pending invitations.
    pub reserved: u32,
}

/// Seat information shown on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatUsage {
    /// Seat cap; `None` is unlimited.
    pub total: Option<u32>,
    /// Seats held by members.
    pub used: u32,
    /// Seats reserved by pending invitations.
    pub reserved: u32,
    /// Free seats; `None` is unlimited.
    pub available: Option<u32>,
}

impl SeatUsage {
    /// Usage of `counts` under cap `total`.
    pub fn new(total: Option<u32>, counts: SeatCounts) -> Self {
        let taken = counts.used.saturating_add(counts.reserved);
        SeatUsage {
            total,
            used: counts.used,
            reserved: counts.reserved,
            available: total.map(|cap| cap.saturating_sub(taken)),
        }
    }

    /// No cap.
    pub fn is_unlimited(&self) -> bool {
        self.total.is_none()
    }

    /// Whether at least `n` seats are free.
    pub fn has_room_for(&self, n: u32) -> bool {
        self.available.is_none_or(|free| free >= n)
    }
}
