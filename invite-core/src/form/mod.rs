//! The headless form model of the Invite User page.
//!
//! [`InviteForm`] is the page's state as a value the host keeps between requests (it is
//! serde-serializable: put it in a session or a hidden field). Its setters enforce the
//! guide's rules (changing an upstream choice clears everything below it; switching to
//! an existing user drops the new-user fields), [`InviteForm::view`] yields everything
//! the page shows (options for each step, seat information, field errors, hints,
//! `can_send`), and [`InviteForm::submit`] sends through the service. Every front end
//! built on it behaves exactly like the guide, with no rule re-implemented.
//!
//! ```
//! # use std::sync::Arc;
//! # use invite_core::*;
//! # use invite_core::form::{InviteForm, HintCode};
//! # let service = InviteService::new(Arc::new(InMemoryStore::new()), Config::default())?;
//! # let admin = service.create_user(&NewUser { first_name: "Ada".into(), last_name: "Admin".into(), email: "ada@acme.example".into() })?;
//! let form = InviteForm::new();
//! let view = form.view(&service, admin.id)?;
//! assert!(view.apps.is_empty());
//! assert!(view.hints.iter().any(|h| h.code == HintCode::SelectBusinessFirst));
//! assert!(!view.can_send);
//! # Ok::<(), invite_core::Error>(())
//! ```

mod view;

pub use view::{FormView, Hint, HintCode, SubmitError, SubmitOutcome, USER_OPTIONS, error_field};

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldCode, FieldError, Result};
use crate::service::{NewInvitee, SendInvitationDraft};

/// Whether the page invites an existing user or enters a new one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserMode {
    /// Pick a user from the directory.
    #[default]
    Existing,
    /// Enter first name, last name and email.
    New,
}

impl UserMode {
    /// `"existing"` or `"new"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UserMode::Existing => "existing",
            UserMode::New => "new",
        }
    }

    /// Parses [`UserMode::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "existing" => Some(UserMode::Existing),
            "new" => Some(UserMode::New),
            _ => None,
        }
    }
}

/// The page's state. Ids are kept as text, as a page posts them. Deserializing goes
/// through the setters ([`FormFields`]), so a stored or posted state obeys the same
/// rules as one built by hand (trimmed choices, no app without a business, no
/// subscription or role without an app, no new-user fields in existing-user mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FormFields")]
pub struct InviteForm {
    mode: UserMode,
    user_query: String,
    user_id: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    business_id: Option<String>,
    app_id: Option<String>,
    subscription_id: Option<String>,
    role_id: Option<String>,
}

/// An [`InviteForm`] as stored or posted, before its setters apply it
/// (`InviteForm::from(fields)`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FormFields {
    /// Existing or new user.
    pub mode: UserMode,
    /// The user search text.
    pub user_query: String,
    /// The chosen user.
    pub user_id: Option<String>,
    /// New user's first name.
    pub first_name: String,
    /// New user's last name.
    pub last_name: String,
    /// New user's email.
    pub email: String,
    /// The chosen business.
    pub business_id: Option<String>,
    /// The chosen app.
    pub app_id: Option<String>,
    /// The chosen subscription.
    pub subscription_id: Option<String>,
    /// The chosen role.
    pub role_id: Option<String>,
}

impl From<FormFields> for InviteForm {
    /// Applies the fields through the setters, top-down, so nothing is cleared that
    /// belongs and nothing stays that the setters would not allow.
    fn from(f: FormFields) -> Self {
        let mut form = InviteForm::new();
        form.set_mode(f.mode);
        match f.mode {
            UserMode::Existing => {
                form.set_user_query(&f.user_query);
                form.select_user(f.user_id.as_deref());
            }
            UserMode::New => {
                form.set_first_name(&f.first_name);
                form.set_last_name(&f.last_name);
                form.set_email(&f.email);
            }
        }
        form.select_business(f.business_id.as_deref());
        form.select_app(f.app_id.as_deref());
        form.select_subscription(f.subscription_id.as_deref());
        form.select_role(f.role_id.as_deref());
        form
    }
}

/// The form's fields, by their names on the page (and in field errors).
pub const FIELDS: &[&str] = &[
    "mode",
    "user_query",
    "user_id",
    "first_name",
    "last_name",
    "email",
    "business_id",
    "app_id",
    "subscription_id",
    "role_id",
];

fn choice(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl InviteForm {
    /// An empty form (existing-user mode, nothing chosen).
    pub fn new() -> Self {
        InviteForm::default()
    }

    /// Resets every field ("Clear").
    pub fn clear(&mut self) {
        *self = InviteForm::default();
    }

    /// Switches between an existing and a new user. Switching to an existing user drops
    /// the new-user fields; switching to a new user drops the chosen user.
    pub fn set_mode(&mut self, mode: UserMode) {
        if mode == self.mode {
            return;
        }
        self.mode = mode;
        match mode {
            UserMode::Existing => {
                self.first_name.clear();
                self.last_name.clear();
                self.email.clear();
            }
            UserMode::New => {
                self.user_id = None;
                self.user_query.clear();
            }
        }
    }

    /// The text typed in the user search box, which belongs to existing-user mode: in
    /// new-user mode it is ignored (as switching to new-user mode clears it), so a page
    /// posting every input never loses the new user's fields to an empty search box.
    pub fn set_user_query(&mut self, query: &str) {
        if self.mode == UserMode::Existing {
            self.user_query = query.to_owned();
        }
    }

    /// Chooses an existing user (switches to existing-user mode).
    pub fn select_user(&mut self, user_id: Option<&str>) {
        self.set_mode(UserMode::Existing);
        self.user_id = choice(user_id);
    }

    /// Sets the new user's first name (switches to new-user mode).
    pub fn set_first_name(&mut self, value: &str) {
        self.set_mode(UserMode::New);
        self.first_name = value.to_owned();
    }

    /// Sets the new user's last name (switches to new-user mode).
    pub fn set_last_name(&mut self, value: &str) {
        self.set_mode(UserMode::New);
        self.last_name = value.to_owned();
    }

    /// Sets the new user's email (switches to new-user mode).
    pub fn set_email(&mut self, value: &str) {
        self.set_mode(UserMode::New);
        self.email = value.to_owned();
    }

    /// Chooses a business; a different one clears app, subscription and role.
    pub fn select_business(&mut self, id: Option<&str>) {
        let id = choice(id);
        if id != self.business_id {
            self.business_id = id;
            self.app_id = None;
            self.subscription_id = None;
            self.role_id = None;
        }
    }

    /// Chooses an app; a different one clears subscription and role. Without a
    /// business there is no app to choose: the app stays empty.
    pub fn select_app(&mut self, id: Option<&str>) {
        let id = choice(id).filter(|_| self.business_id.is_some());
        if id != self.app_id {
            self.app_id = id;
            self.subscription_id = None;
            self.role_id = None;
        }
    }

    /// Chooses a subscription; a different one clears the role. Without an app (of a
    /// business) there is none to choose: the subscription stays empty.
    pub fn select_subscription(&mut self, id: Option<&str>) {
        let id = choice(id).filter(|_| self.app_id.is_some());
        if id != self.subscription_id {
            self.subscription_id = id;
            self.role_id = None;
        }
    }

    /// Chooses a role. Roles are an app's, so without an app the role stays empty; it may
    /// be chosen before the subscription (the page lists roles once the app is chosen),
    /// though choosing another subscription clears it.
    pub fn select_role(&mut self, id: Option<&str>) {
        self.role_id = choice(id).filter(|_| self.app_id.is_some());
    }

    /// Sets one field by its page name (see [`FIELDS`]), with the same rules as the
    /// typed setters: what a page or a binding forwards from a generic "field changed"
    /// event. An unknown field name or mode is `VALIDATION_FAILED` (`UNKNOWN_OPTION`).
    pub fn set_field(&mut self, field: &str, value: Option<&str>) -> Result<()> {
        let text = value.unwrap_or("");
        match field {
            "mode" => {
                let mode = UserMode::parse(text.trim()).ok_or_else(|| {
                    Error::validation(vec![FieldError::new(
                        "mode",
                        FieldCode::UnknownOption,
                        "mode must be `existing` or `new`",
                    )])
                })?;
                self.set_mode(mode);
            }
            "user_query" => self.set_user_query(text),
            "user_id" => self.select_user(value),
            "first_name" => self.set_first_name(text),
            "last_name" => self.set_last_name(text),
            "email" => self.set_email(text),
            "business_id" => self.select_business(value),
            "app_id" => self.select_app(value),
            "subscription_id" => self.select_subscription(value),
            "role_id" => self.select_role(value),
            other => {
                return Err(Error::validation(vec![FieldError::new(
                    "field",
                    FieldCode::UnknownOption,
                    format!(
                        "unknown form field `{}`",
                        other.chars().take(40).collect::<String>()
                    ),
                )]));
            }
        }
        Ok(())
    }

    /// User mode.
    pub fn mode(&self) -> UserMode {
        self.mode
    }

    /// The user search text.
    pub fn user_query(&self) -> &str {
        &self.user_query
    }

    /// The chosen user.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// New user's first name.
    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    /// New user's last name.
    pub fn last_name(&self) -> &str {
        &self.last_name
    }

    /// New user's email.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The chosen business.
    pub fn business_id(&self) -> Option<&str> {
        self.business_id.as_deref()
    }

    /// The chosen app.
    pub fn app_id(&self) -> Option<&str> {
        self.app_id.as_deref()
    }

    /// The chosen subscription.
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription_id.as_deref()
    }

    /// The chosen role.
    pub fn role_id(&self) -> Option<&str> {
        self.role_id.as_deref()
    }

    /// The send request this form stands for.
    pub fn to_draft(&self) -> SendInvitationDraft {
        let new_user = (self.mode == UserMode::New).then(|| NewInvitee {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
        });
        SendInvitationDraft {
            user_id: if self.mode == UserMode::Existing {
                self.user_id.clone()
            } else {
                None
            },
            new_user,
            business_id: self.business_id.clone(),
            app_id: self.app_id.clone(),
            subscription_id: self.subscription_id.clone(),
            role_id: self.role_id.clone(),
            ..SendInvitationDraft::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{InviteForm, UserMode};

    fn restored(json: &str) -> InviteForm {
        serde_json::from_str(json).unwrap_or_default()
    }

    #[test]
    fn a_stored_form_comes_back_through_the_setters() {
        let mut form = InviteForm::new();
        form.set_mode(UserMode::New);
        form.set_email("ada@example.com");
        form.select_business(Some("b1"));
        form.select_app(Some("a1"));
        form.select_subscription(Some("s1"));
        form.select_role(Some("r1"));
        let json = serde_json::to_string(&form).unwrap_or_default();
        assert_eq!(restored(&json), form, "a form survives its round trip");
        // Blank choices are no choice, as the setters read them.
        let blank = restored(r#"{"business_id":" b2 ","app_id":"","role_id":" r2 "}"#);
        assert_eq!((blank.business_id(), blank.app_id()), (Some("b2"), None));
        assert_eq!(blank.role_id(), None, "no role without an app");
        // Nothing below a missing choice: a choice whose step above is empty is dropped,
        // so view() and submit() agree on what is missing.
        let orphans =
            restored(r#"{"user_id":"u1","app_id":"a1","subscription_id":"s1","role_id":"r1"}"#);
        assert_eq!(orphans.business_id(), None);
        assert_eq!(
            (
                orphans.app_id(),
                orphans.subscription_id(),
                orphans.role_id()
            ),
            (None, None, None)
        );
        let mut by_hand = InviteForm::new();
        by_hand.select_app(Some("a1"));
        by_hand.select_role(Some("r1"));
        assert_eq!((by_hand.app_id(), by_hand.role_id()), (None, None));
        by_hand.select_business(Some("b1"));
        by_hand.select_app(Some("a1"));
        by_hand.select_role(Some("r1"));
        assert_eq!(
            (by_hand.app_id(), by_hand.role_id()),
            (Some("a1"), Some("r1"))
        );
        // New-user fields do not survive in existing-user mode.
        let mixed = restored(r#"{"mode":"existing","user_id":"u1","email":"x@example.com"}"#);
        assert_eq!((mixed.user_id(), mixed.email()), (Some("u1"), ""));
    }
}
