//! The headless form model of the Invite User page (`InviteForm`): the page's choices,
//! the options of each step, seat information, field errors, hints and `canSend`. The
//! rules (clearing downstream choices, dropping new-user fields) live in the core; this
//! class only forwards to it.

use invite_core::Error as CoreError;
use invite_core::form::{
    FormFields, FormView as CoreView, Hint as CoreHint, HintCode as CoreHintCode,
    InviteForm as CoreForm, SubmitError as CoreSubmitError, SubmitOutcome as CoreOutcome,
    UserMode as CoreMode,
};
use napi::Env;
use napi_derive::napi;

use crate::convert::{id, one_of};
use crate::error::{FieldError, sync};
use crate::lifecycle::SentInvitation;
use crate::model::{App, Role, SeatUsage, User, list};
use crate::queries::{BusinessOption, SubscriptionOption};
use crate::service::InviteService;
use crate::task::{Call, call};

/// Whether the page invites an existing user or enters a new one.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserMode {
    /// Pick a user from the directory.
    Existing,
    /// Enter first name, last name and email.
    New,
}

impl From<CoreMode> for UserMode {
    fn from(m: CoreMode) -> Self {
        match m {
            CoreMode::Existing => UserMode::Existing,
            CoreMode::New => UserMode::New,
        }
    }
}

impl From<UserMode> for CoreMode {
    fn from(m: UserMode) -> Self {
        match m {
            UserMode::Existing => CoreMode::Existing,
            UserMode::New => CoreMode::New,
        }
    }
}

/// The guide's troubleshooting hints, as stable codes (same strings as Rust's `HintCode`).
#[napi(string_enum = "UPPER_SNAKE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintCode {
    /// The inviter may invite into no business.
    NoBusinesses,
    /// "App list is empty: select a business first".
    SelectBusinessFirst,
    /// The chosen business has no app this inviter may invite into.
    NoAppsEnabled,
    /// "Subscription list is empty: select business and app".
    SelectBusinessAndApp,
    /// The business has no subscription to the app.
    NoSubscriptions,
    /// "No seats left" on the chosen subscription.
    NoSeatsLeft,
    /// The chosen subscription is suspended, expired or outside its window.
    SubscriptionInactive,
    /// Roles appear once an app is chosen.
    SelectAppFirst,
    /// The inviter may grant no role of the app.
    NoAssignableRoles,
    /// The user search matched nobody: add a new user instead.
    NoMatchingUsers,
}

/// How many users a form view lists at most (`FormView.users`); when more match,
/// `usersTruncated` is true.
#[napi]
pub const USER_OPTIONS: u32 = invite_core::form::USER_OPTIONS;

/// Every hint code, in the core's order (`HintCode::ALL`).
#[napi(ts_return_type = "HintCode[]")]
pub fn hint_codes() -> Vec<String> {
    CoreHintCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// The form's state: what a page posts back. Field names in errors and hints are the
/// core's (`"business_id"`, `"first_name"`, …).
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct FormState {
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

impl From<&CoreForm> for FormState {
    fn from(f: &CoreForm) -> Self {
        FormState {
            mode: f.mode().into(),
            user_query: f.user_query().to_owned(),
            user_id: f.user_id().map(str::to_owned),
            first_name: f.first_name().to_owned(),
            last_name: f.last_name().to_owned(),
            email: f.email().to_owned(),
            business_id: f.business_id().map(str::to_owned),
            app_id: f.app_id().map(str::to_owned),
            subscription_id: f.subscription_id().map(str::to_owned),
            role_id: f.role_id().map(str::to_owned),
        }
    }
}

/// A saved form state to restore (every field optional).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct FormStateInput {
    /// Existing or new user (default `"existing"`).
    #[napi(ts_type = "UserMode | undefined | null")]
    pub mode: Option<Option<String>>,
    /// The user search text.
    pub user_query: Option<Option<String>>,
    /// The chosen user.
    pub user_id: Option<Option<String>>,
    /// New user's first name.
    pub first_name: Option<Option<String>>,
    /// New user's last name.
    pub last_name: Option<Option<String>>,
    /// New user's email.
    pub email: Option<Option<String>>,
    /// The chosen business.
    pub business_id: Option<Option<String>>,
    /// The chosen app.
    pub app_id: Option<Option<String>>,
    /// The chosen subscription.
    pub subscription_id: Option<Option<String>>,
    /// The chosen role.
    pub role_id: Option<Option<String>>,
}

/// Rebuilds a form through its own setters, top-down so nothing is cleared.
fn restore(state: FormStateInput) -> Result<CoreForm, CoreError> {
    let mode = state
        .mode
        .flatten()
        .map(|m| one_of(&m, "mode", CoreMode::parse))
        .transpose()?;
    Ok(CoreForm::from(FormFields {
        mode: mode.unwrap_or_default(),
        user_query: state.user_query.flatten().unwrap_or_default(),
        user_id: state.user_id.flatten(),
        first_name: state.first_name.flatten().unwrap_or_default(),
        last_name: state.last_name.flatten().unwrap_or_default(),
        email: state.email.flatten().unwrap_or_default(),
        business_id: state.business_id.flatten(),
        app_id: state.app_id.flatten(),
        subscription_id: state.subscription_id.flatten(),
        role_id: state.role_id.flatten(),
    }))
}

/// A hint shown next to a field.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Hint {
    /// Stable code.
    #[napi(ts_type = "HintCode")]
    pub code: String,
    /// The field it belongs to.
    pub field: String,
    /// A human sentence.
    pub message: String,
}

impl From<CoreHint> for Hint {
    fn from(h: CoreHint) -> Self {
        Hint {
            code: h.code.as_str().to_owned(),
            field: h.field,
            message: h.message,
        }
    }
}

/// Everything the page shows for the current form state.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct FormView {
    /// The state this view was made from.
    pub form: FormState,
    /// Users matching the search (existing-user mode), at most `USER_OPTIONS` (20).
    /// An over-long search lists none and is a `user_query` `TOO_LONG` field error.
    pub users: Vec<User>,
    /// More users match than are listed: the page can ask to refine the search.
    pub users_truncated: bool,
    /// The chosen user, if valid.
    pub selected_user: Option<User>,
    /// Businesses the inviter may invite into.
    pub businesses: Vec<BusinessOption>,
    /// Apps of the chosen business (empty until one is chosen).
    pub apps: Vec<App>,
    /// Subscriptions of the chosen business and app (empty until both are chosen).
    pub subscriptions: Vec<SubscriptionOption>,
    /// Seat information of the chosen subscription.
    pub seats: Option<SeatUsage>,
    /// Roles the inviter may grant in the chosen app (empty until one is chosen).
    pub roles: Vec<Role>,
    /// Problems with what is filled in so far.
    pub field_errors: Vec<FieldError>,
    /// Required fields still empty.
    pub missing: Vec<String>,
    /// Troubleshooting hints.
    pub hints: Vec<Hint>,
    /// Whether "Send Invitation" can succeed as far as the form can tell.
    pub can_send: bool,
}

impl From<CoreView> for FormView {
    fn from(v: CoreView) -> Self {
        FormView {
            form: FormState::from(&v.form),
            users: list(v.users),
            users_truncated: v.users_truncated,
            selected_user: v.selected_user.map(User::from),
            businesses: list(v.businesses),
            apps: list(v.apps),
            subscriptions: list(v.subscriptions),
            seats: v.seats.map(SeatUsage::from),
            roles: list(v.roles),
            field_errors: v.field_errors.iter().map(FieldError::from).collect(),
            missing: v.missing,
            hints: list(v.hints),
            can_send: v.can_send,
        }
    }
}

/// A submit the service refused, ready to show next to the fields.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SubmitError {
    /// The error code (`VALIDATION_FAILED`, `SEAT_LIMIT_REACHED`, …).
    #[napi(ts_type = "ErrorCode")]
    pub code: String,
    /// A lowercase message.
    pub message: String,
    /// The field a domain error belongs to (`subscription_id` for seat limits, …).
    pub field: Option<String>,
    /// Every field problem of a `VALIDATION_FAILED`.
    pub field_errors: Vec<FieldError>,
    /// What to do about it, when the library knows.
    pub help: Option<String>,
    /// Seconds until retrying may succeed, for `RATE_LIMITED`.
    pub retry_after_seconds: Option<f64>,
}

impl From<CoreSubmitError> for SubmitError {
    fn from(e: CoreSubmitError) -> Self {
        SubmitError {
            code: e.code.as_str().to_owned(),
            message: e.message,
            field: e.field,
            field_errors: e.field_errors.iter().map(FieldError::from).collect(),
            help: e.help,
            retry_after_seconds: e.retry_after.map(|d| d.as_secs_f64()),
        }
    }
}

/// The outcome of `submit`: `ok` with `sent`, or not `ok` with `error`.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SubmitOutcome {
    /// Whether the invitation was saved and queued.
    pub ok: bool,
    /// The sent invitation (token shown once).
    pub sent: Option<SentInvitation>,
    /// Why it was refused (nothing was saved).
    pub error: Option<SubmitError>,
}

impl From<CoreOutcome> for SubmitOutcome {
    fn from(o: CoreOutcome) -> Self {
        match o {
            CoreOutcome::Sent(sent) => SubmitOutcome {
                ok: true,
                sent: Some(SentInvitation::from(*sent)),
                error: None,
            },
            CoreOutcome::Rejected(error) => SubmitOutcome {
                ok: false,
                sent: None,
                error: Some(error.into()),
            },
        }
    }
}

/// The Invite User page as a headless model. Setters follow the guide (a new business
/// clears app, subscription and role; a new app clears subscription and role; switching
/// to an existing user drops the new-user fields). `view` and `submit` touch the store
/// and return Promises.
#[napi]
pub struct InviteForm {
    inner: CoreForm,
}

#[napi]
impl InviteForm {
    /// An empty form, or one restored from a saved `state`.
    #[napi(constructor, catch_unwind, strict)]
    pub fn new(env: Env, state: Option<FormStateInput>) -> napi::Result<Self> {
        sync(&env, || {
            Ok(InviteForm {
                inner: state.map(restore).transpose()?.unwrap_or_default(),
            })
        })
    }

    /// The current state (plain object; pass it to the constructor to restore).
    #[napi(getter, catch_unwind)]
    pub fn state(&self) -> FormState {
        FormState::from(&self.inner)
    }

    /// The current state, for `JSON.stringify`.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self) -> FormState {
        FormState::from(&self.inner)
    }

    /// Resets every field ("Clear").
    #[napi(catch_unwind, strict)]
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// Switches between an existing and a new user; throws `VALIDATION_FAILED` for an
    /// unknown mode.
    #[napi(catch_unwind, strict, ts_args_type = "mode: UserMode")]
    pub fn set_mode(&mut self, env: Env, mode: String) -> napi::Result<()> {
        sync(&env, || {
            self.inner.set_mode(one_of(&mode, "mode", CoreMode::parse)?);
            Ok(())
        })
    }

    /// The text typed in the user search box (existing-user mode; ignored in new-user
    /// mode, which clears it).
    #[napi(catch_unwind, strict)]
    pub fn set_user_query(&mut self, query: String) {
        self.inner.set_user_query(&query);
    }

    /// Chooses an existing user (`null` to unselect).
    #[napi(catch_unwind, strict)]
    pub fn select_user(&mut self, user_id: Option<String>) {
        self.inner.select_user(user_id.as_deref());
    }

    /// Sets the new user's first name (switches to new-user mode).
    #[napi(catch_unwind, strict)]
    pub fn set_first_name(&mut self, value: String) {
        self.inner.set_first_name(&value);
    }

    /// Sets the new user's last name (switches to new-user mode).
    #[napi(catch_unwind, strict)]
    pub fn set_last_name(&mut self, value: String) {
        self.inner.set_last_name(&value);
    }

    /// Sets the new user's email (switches to new-user mode).
    #[napi(catch_unwind, strict)]
    pub fn set_email(&mut self, value: String) {
        self.inner.set_email(&value);
    }

    /// Chooses a business; a different one clears app, subscription and role.
    #[napi(catch_unwind, strict)]
    pub fn select_business(&mut self, business_id: Option<String>) {
        self.inner.select_business(business_id.as_deref());
    }

    /// Chooses an app; a different one clears subscription and role. Without a business
    /// the app stays empty.
    #[napi(catch_unwind, strict)]
    pub fn select_app(&mut self, app_id: Option<String>) {
        self.inner.select_app(app_id.as_deref());
    }

    /// Chooses a subscription; a different one clears the role. Without an app the
    /// subscription stays empty.
    #[napi(catch_unwind, strict)]
    pub fn select_subscription(&mut self, subscription_id: Option<String>) {
        self.inner.select_subscription(subscription_id.as_deref());
    }

    /// Chooses a role (an app's): without an app the role stays empty.
    #[napi(catch_unwind, strict)]
    pub fn select_role(&mut self, role_id: Option<String>) {
        self.inner.select_role(role_id.as_deref());
    }

    /// Sets one field by its page name (`"business_id"`, `"email"`, `"mode"`, …) with the
    /// same rules; throws `VALIDATION_FAILED` for an unknown field or mode.
    #[napi(catch_unwind, strict)]
    pub fn set_field(
        &mut self,
        env: Env,
        field: String,
        value: Option<String>,
    ) -> napi::Result<()> {
        sync(&env, || self.inner.set_field(&field, value.as_deref()))
    }

    /// Everything the page shows for this state, for `inviterId`. Problems with what is
    /// filled in (an over-long search included) are `fieldErrors`, never a rejection; it
    /// rejects only for a malformed inviter id (`NOT_FOUND`) and storage failures (an
    /// unknown inviter sees no business to choose).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<FormView>")]
    pub fn view(&self, service: &InviteService, inviter_id: String) -> Call<FormView> {
        let form = self.inner.clone();
        let core = service.inner.clone();
        call(service.execution, move || {
            form.view(&core, id(&inviter_id)?).map(FormView::from)
        })
    }

    /// Sends the invitation this form stands for. Resolves `{ ok: false, error }` when the
    /// service refuses (every field problem at once, or one domain error with its field);
    /// rejects only for a malformed inviter id (`NOT_FOUND`), storage and internal
    /// failures. Give each rendering of the form a
    /// fresh `idempotencyKey`: the same form submitted again under it (a double-clicked
    /// Send) resolves with the first send (`sent.replayed`) instead of `ALREADY_INVITED`.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<SubmitOutcome>")]
    pub fn submit(
        &self,
        service: &InviteService,
        inviter_id: String,
        idempotency_key: Option<String>,
    ) -> Call<SubmitOutcome> {
        let form = self.inner.clone();
        let core = service.inner.clone();
        call(service.execution, move || {
            let inviter = id(&inviter_id)?;
            match idempotency_key.as_deref() {
                Some(key) => form.submit_with_key(&core, inviter, key),
                None => form.submit(&core, inviter),
            }
            .map(SubmitOutcome::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_codes_follow_the_core() {
        assert_eq!(hint_codes().len(), CoreHintCode::ALL.len());
        assert_eq!(USER_OPTIONS, invite_core::form::USER_OPTIONS);
    }

    #[test]
    fn restore_keeps_every_choice() {
        let state = FormStateInput {
            mode: Some(Some("new".into())),
            first_name: Some(Some("Nia".into())),
            business_id: Some(Some("b".into())),
            app_id: Some(Some("a".into())),
            subscription_id: Some(Some("s".into())),
            role_id: Some(Some("r".into())),
            ..FormStateInput::default()
        };
        let form = restore(state).unwrap();
        assert_eq!(form.mode(), CoreMode::New);
        assert_eq!(form.first_name(), "Nia");
        assert_eq!(form.role_id(), Some("r"));
        let unknown = FormStateInput {
            mode: Some(Some("neither".into())),
            ..FormStateInput::default()
        };
        let err = restore(unknown).unwrap_err();
        assert_eq!(
            err.field_errors()[0].code,
            invite_core::FieldCode::UnknownOption
        );
    }
}
