use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, RoleId};

/// The permission that lets a member invite others into its app.
pub const PERMISSION_INVITATIONS_SEND: &str = "invitations.send";

/// An application role (belongs to one app): key, name and permission set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Id.
    pub id: RoleId,
    /// The app this role belongs to.
    pub app_id: ApplicationId,
    /// Stable key (`"member"`, `"admin"`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Permissions granted.
    pub permissions: BTreeSet<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Role {
    /// Whether the role carries `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
}
