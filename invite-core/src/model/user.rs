use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// A person known to the system (global: not scoped to a business).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// The address as entered: where mail goes.
    pub email: String,
    /// Canonical email key (unique): used for every comparison.
    pub email_key: String,
    /// First name (NFC, 1–100 characters).
    pub first_name: String,
    /// Last name (NFC, 1–100 characters).
    pub last_name: String,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// "First Last".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The folded keys a prefix search matches: email key, first, last and full name.
    pub fn search_keys(&self) -> Vec<String> {
        use crate::input::fold_search_text as fold;
        vec![
            self.email_key.clone(),
            fold(&self.first_name),
            fold(&self.last_name),
            fold(&self.display_name()),
        ]
    }
}
