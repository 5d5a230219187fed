use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, BusinessId, MembershipId, RoleId, SubscriptionId, UserId};

/// A seat: one user in one subscription with one role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Id.
    pub id: MembershipId,
    /// Business of the subscription.
    pub business_id: BusinessId,
    /// The subscription whose seat this is.
    pub subscription_id: SubscriptionId,
    /// The subscription's app.
    pub app_id: ApplicationId,
    /// The member.
    pub user_id: UserId,
    /// The member's role in the app.
    pub role_id: RoleId,
    /// When the seat was taken.
    pub created_at: DateTime<Utc>,
}
