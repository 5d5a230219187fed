//! The authorization port: who may invite into a business and app, and which roles
//! they may grant. The host can replace [`DefaultPolicy`].

use crate::ids::{ApplicationId, BusinessId, UserId};
use crate::model::{PERMISSION_INVITATIONS_SEND, Role};

/// What the service knows of an inviter's rights in one business and app, gathered
/// fresh from the store each time the policy is asked: on send, resend, revoke, retry
/// of delivery, accept and in the page's option lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviterRights {
    /// The inviter.
    pub user_id: UserId,
    /// The business invited into.
    pub business_id: BusinessId,
    /// The app invited into.
    pub app_id: ApplicationId,
    /// Whether the inviter administers the business.
    pub is_business_admin: bool,
    /// The inviter's roles in this business's subscriptions of this app that are active
    /// now (a suspended or expired subscription's membership grants nothing).
    pub roles: Vec<Role>,
}

/// Decides who may invite and what they may grant.
pub trait AuthorizationPolicy: Send + Sync {
    /// Whether the inviter may invite anyone into this business and app.
    fn may_invite(&self, rights: &InviterRights) -> bool;
    /// Whether the inviter may grant `role` (a role of this app).
    fn may_grant(&self, rights: &InviterRights, role: &Role) -> bool;
}

/// The default policy (DESIGN.md invariant 6): business admins may invite and grant any
/// role; a member whose role carries `invitations.send` may invite and grant only roles
/// whose permission set is a subset of that role's.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPolicy;

impl AuthorizationPolicy for DefaultPolicy {
    fn may_invite(&self, rights: &InviterRights) -> bool {
        rights.is_business_admin
            || rights
                .roles
                .iter()
                .any(|r| r.has(PERMISSION_INVITATIONS_SEND))
    }

    fn may_grant(&self, rights: &InviterRights, role: &Role) -> bool {
        if role.app_id != rights.app_id {
            return false;
        }
        rights.is_business_admin
            || rights.roles.iter().any(|own| {
                own.has(PERMISSION_INVITATIONS_SEND) && role.permissions.is_subset(&own.permissions)
            })
    }
}
