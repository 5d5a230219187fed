//! What the page shows for a form state, and what a submit returns.

use serde::{Deserialize, Serialize};

use super::{InviteForm, UserMode};
use crate::error::{Error, ErrorCode, ErrorKind, FieldCode, FieldError, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, RoleId, SubscriptionId, UserId};
use crate::input::{Email, validate_name};
use crate::model::{Application, Role, SeatUsage, User};
use crate::service::{
    BusinessOption, InviteService, PageRequest, SendInvitationDraft, SendInvitationRequest,
    SentInvitation, SubscriptionOption, check_query_len,
};

/// How many users the search list shows.
pub const USER_OPTIONS: u32 = 20;

/// The guide's troubleshooting hints, as stable codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum HintCode {
    /// The inviter may invite into no business.
    NoBusinesses,
    /// "App list is empty → select a business first".
    SelectBusinessFirst,
    /// The chosen business has no app this inviter may invite into.
    NoAppsEnabled,
    /// "Subscription list is empty → select business and app".
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

impl HintCode {
    /// The code's stable string.
    pub const fn as_str(self) -> &'static str {
        match self {
            HintCode::NoBusinesses => "NO_BUSINESSES",
            HintCode::SelectBusinessFirst => "SELECT_BUSINESS_FIRST",
            HintCode::NoAppsEnabled => "NO_APPS_ENABLED",
            HintCode::SelectBusinessAndApp => "SELECT_BUSINESS_AND_APP",
            HintCode::NoSubscriptions => "NO_SUBSCRIPTIONS",
            HintCode::NoSeatsLeft => "NO_SEATS_LEFT",
            HintCode::SubscriptionInactive => "SUBSCRIPTION_INACTIVE",
            HintCode::SelectAppFirst => "SELECT_APP_FIRST",
            HintCode::NoAssignableRoles => "NO_ASSIGNABLE_ROLES",
            HintCode::NoMatchingUsers => "NO_MATCHING_USERS",
        }
    }

    /// Every hint code.
    pub const ALL: &'static [HintCode] = &[
        HintCode::NoBusinesses,
        HintCode::SelectBusinessFirst,
        HintCode::NoAppsEnabled,
        HintCode::SelectBusinessAndApp,
        HintCode::NoSubscriptions,
        HintCode::NoSeatsLeft,
        HintCode::SubscriptionInactive,
        HintCode::SelectAppFirst,
        HintCode::NoAssignableRoles,
        HintCode::NoMatchingUsers,
    ];
}

/// A hint shown next to a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    /// Stable code.
    pub code: HintCode,
    /// The field it belongs to.
    pub field: String,
    /// A human sentence.
    pub message: String,
}

/// Everything the page shows for the current form state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormView {
    /// The state this view was made from.
    pub form: InviteForm,
    /// Users matching the search (existing-user mode), at most [`USER_OPTIONS`].
    pub users: Vec<User>,
    /// More users match than are listed: the page can ask to refine the search.
    pub users_truncated: bool,
    /// The chosen user, if valid.
    pub selected_user: Option<User>,
    /// Businesses the inviter may invite into.
    pub businesses: Vec<BusinessOption>,
    /// Apps of the chosen business (empty until one is chosen).
    pub apps: Vec<Application>,
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

/// A submit that the service refused, ready to show next to the fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitError {
    /// The error code (`VALIDATION_FAILED`, `SEAT_LIMIT_REACHED`, …).
    pub code: ErrorCode,
    /// A lowercase message.
    pub message: String,
    /// The field a domain error belongs to (`subscription_id` for seat limits, `user_id`
    /// or `email` for a duplicate, …), one of the form's fields.
    pub field: Option<String>,
    /// Every field problem of a `VALIDATION_FAILED`, named as the form's fields.
    pub field_errors: Vec<FieldError>,
    /// What to do about it, when the library knows.
    pub help: Option<String>,
    /// When retrying may succeed, for `RATE_LIMITED`.
    pub retry_after: Option<std::time::Duration>,
}

/// The outcome of [`InviteForm::submit`].
#[derive(Clone, Debug)]
pub enum SubmitOutcome {
    /// Saved and queued for email.
    Sent(Box<SentInvitation>),
    /// Refused; nothing was saved.
    Rejected(SubmitError),
}

/// The field of a send request a domain error is shown next to (`user` is the invitee as
/// a whole; the form names it `user_id` or `email`).
pub fn error_field(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::SeatLimitReached | ErrorCode::SubscriptionInactive => Some("subscription_id"),
        ErrorCode::RoleNotAssignable => Some("role_id"),
        ErrorCode::AppNotEnabled => Some("app_id"),
        ErrorCode::PermissionDenied => Some("business_id"),
        ErrorCode::AlreadyMember | ErrorCode::AlreadyInvited => Some("user"),
        _ => None,
    }
}

fn hint(hints: &mut Vec<Hint>, code: HintCode, field: &str, message: &str) {
    hints.push(Hint {
        code,
        field: field.to_owned(),
        message: message.to_owned(),
    });
}

/// Parses a chosen id and checks it is one of `options`; records `UNKNOWN_OPTION` if not.
fn chosen<T: std::str::FromStr + PartialEq + Copy>(
    raw: Option<&str>,
    field: &str,
    options: impl IntoIterator<Item = T>,
    errors: &mut FieldErrors,
) -> Option<T> {
    let raw = raw?;
    let id = raw
        .parse::<T>()
        .ok()
        .filter(|id| options.into_iter().any(|o| o == *id));
    if id.is_none() {
        errors.push(field, FieldCode::UnknownOption, "not one of the options");
    }
    id
}

impl InviteForm {
    /// Everything the page shows for this state, for `inviter`.
    pub fn view(&self, service: &InviteService, inviter: UserId) -> Result<FormView> {
        let mut errors = FieldErrors::new();
        let mut search_errors = FieldErrors::new();
        let mut hints = Vec::new();
        let mut missing = Vec::new();
        let mut users_truncated = false;

        let (users, selected_user) = match self.mode {
            UserMode::Existing => {
                let checked = check_query_len(&self.user_query, "user_query");
                let searchable = checked.is_ok();
                let (users, more) = match checked {
                    Ok(()) => {
                        let page = service
                            .search_users(&self.user_query, &PageRequest::first(USER_OPTIONS))?;
                        (page.items, page.next_cursor.is_some())
                    }
                    // Only the search is refused: what it would pick is not sent, so the
                    // error does not stop a form whose user is chosen (see `can_send`).
                    Err(too_long) => {
                        search_errors.add(too_long);
                        (Vec::new(), false)
                    }
                };
                users_truncated = more;
                if searchable && users.is_empty() && !self.user_query.trim().is_empty() {
                    hint(
                        &mut hints,
                        HintCode::NoMatchingUsers,
                        "user_id",
                        "no user matches; add a new user instead",
                    );
                }
                let selected = match self.user_id.as_deref() {
                    Some(raw) => match raw.parse::<UserId>().ok().map(|id| service.get_user(id)) {
                        Some(Ok(user)) => Some(user),
                        Some(Err(e)) if e.kind() != ErrorKind::NotFound => return Err(e),
                        _ => {
                            errors.push("user_id", FieldCode::UnknownOption, "unknown user");
                            None
                        }
                    },
                    None => {
                        missing.push("user_id".to_owned());
                        None
                    }
                };
                (users, selected)
            }
            UserMode::New => {
                for (field, value) in [
                    ("first_name", &self.first_name),
                    ("last_name", &self.last_name),
                ] {
                    if value.trim().is_empty() {
                        missing.push(field.to_owned());
                    } else {
                        errors.take(validate_name(value, field));
                    }
                }
                if self.email.trim().is_empty() {
                    missing.push("email".to_owned());
                } else {
                    errors.take(Email::parse(
                        &self.email,
                        "email",
                        service.config().email_policy,
                    ));
                }
                (Vec::new(), None)
            }
        };

        let businesses = service.businesses_for_inviter(inviter)?;
        if businesses.is_empty() {
            hint(
                &mut hints,
                HintCode::NoBusinesses,
                "business_id",
                "you cannot invite into any business",
            );
        }
        let business: Option<BusinessId> = chosen(
            self.business_id.as_deref(),
            "business_id",
            businesses.iter().map(|b| b.business.id),
            &mut errors,
        );
        if self.business_id.is_none() {
            missing.push("business_id".to_owned());
        }

        let apps = match business {
            Some(b) => service.apps_for_inviter(inviter, b)?,
            None => Vec::new(),
        };
        match business {
            None => hint(
                &mut hints,
                HintCode::SelectBusinessFirst,
                "app_id",
                "select a business first",
            ),
            Some(_) if apps.is_empty() => hint(
                &mut hints,
                HintCode::NoAppsEnabled,
                "app_id",
                "no app is enabled for this business",
            ),
            Some(_) => {}
        }
        let app: Option<ApplicationId> = chosen(
            self.app_id.as_deref(),
            "app_id",
            apps.iter().map(|a| a.id),
            &mut errors,
        );
        if self.app_id.is_none() {
            missing.push("app_id".to_owned());
        }

        let (subscriptions, roles) = match (business, app) {
            (Some(b), Some(a)) => (
                service.subscriptions_for(b, a)?,
                service.grantable_roles(inviter, b, a)?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        if business.is_none() || app.is_none() {
            hint(
                &mut hints,
                HintCode::SelectBusinessAndApp,
                "subscription_id",
                "select a business and an app first",
            );
            hint(
                &mut hints,
                HintCode::SelectAppFirst,
                "role_id",
                "select an app first",
            );
        } else {
            if subscriptions.is_empty() {
                hint(
                    &mut hints,
                    HintCode::NoSubscriptions,
                    "subscription_id",
                    "the business has no subscription to this app",
                );
            }
            if roles.is_empty() {
                hint(
                    &mut hints,
                    HintCode::NoAssignableRoles,
                    "role_id",
                    "you may not grant any role of this app",
                );
            }
        }
        let subscription: Option<SubscriptionId> = chosen(
            self.subscription_id.as_deref(),
            "subscription_id",
            subscriptions.iter().map(|s| s.subscription.id),
            &mut errors,
        );
        if self.subscription_id.is_none() {
            missing.push("subscription_id".to_owned());
        }
        let picked =
            subscription.and_then(|id| subscriptions.iter().find(|s| s.subscription.id == id));
        let seats = picked.map(|s| s.seats);
        let mut usable = true;
        if let Some(option) = picked {
            if !option.active {
                usable = false;
                hint(
                    &mut hints,
                    HintCode::SubscriptionInactive,
                    "subscription_id",
                    "this subscription is not active",
                );
            }
            if !option.seats.has_room_for(1) {
                usable = false;
                hint(
                    &mut hints,
                    HintCode::NoSeatsLeft,
                    "subscription_id",
                    "no seats left on this subscription",
                );
            }
        }
        let _role: Option<RoleId> = chosen(
            self.role_id.as_deref(),
            "role_id",
            roles.iter().map(|r| r.id),
            &mut errors,
        );
        if self.role_id.is_none() {
            missing.push("role_id".to_owned());
        }

        let can_send = usable && missing.is_empty() && errors.is_empty();
        let mut field_errors = search_errors.into_vec();
        field_errors.extend(errors.into_vec());
        Ok(FormView {
            form: self.clone(),
            users,
            users_truncated,
            selected_user,
            businesses,
            apps,
            subscriptions,
            seats,
            roles,
            field_errors,
            missing,
            hints,
            can_send,
        })
    }

    /// Sends the invitation this form stands for. Refusals (every field problem at once,
    /// or one domain error with the field it belongs to) come back as
    /// [`SubmitOutcome::Rejected`]; only storage and internal failures are `Err`.
    pub fn submit(&self, service: &InviteService, inviter: UserId) -> Result<SubmitOutcome> {
        self.submit_draft(service, inviter, self.to_draft())
    }

    /// [`InviteForm::submit`] under an idempotency key: the same form submitted again
    /// with the same key (a double-clicked Send, a retried post) comes back as the first
    /// send's result (`replayed`) instead of `ALREADY_INVITED`. Give each rendering of
    /// the form a fresh key; a refused send stores nothing, so the corrected form may
    /// reuse its key.
    pub fn submit_with_key(
        &self,
        service: &InviteService,
        inviter: UserId,
        idempotency_key: &str,
    ) -> Result<SubmitOutcome> {
        let draft = SendInvitationDraft {
            idempotency_key: Some(idempotency_key.to_owned()),
            ..self.to_draft()
        };
        self.submit_draft(service, inviter, draft)
    }

    fn submit_draft(
        &self,
        service: &InviteService,
        inviter: UserId,
        draft: SendInvitationDraft,
    ) -> Result<SubmitOutcome> {
        let request = SendInvitationRequest::from_draft(inviter, &draft);
        match service.send(&request) {
            Ok(sent) => Ok(SubmitOutcome::Sent(Box::new(sent))),
            // The host's problems (storage, a bug, its configuration) are errors, not
            // refusals to show next to the fields.
            Err(e)
                if matches!(e.kind(), ErrorKind::Storage | ErrorKind::Internal)
                    || e.code() == ErrorCode::InvalidConfig =>
            {
                Err(e)
            }
            Err(e) => Ok(SubmitOutcome::Rejected(rejection(e, self.invitee_field()))),
        }
    }

    /// The form's field that stands for the invitee: the chosen user, or the new
    /// person's email (what a duplicate is found by).
    fn invitee_field(&self) -> &'static str {
        match self.mode() {
            UserMode::Existing => "user_id",
            UserMode::New => "email",
        }
    }
}

/// A refusal with its fields named as the form's ([`FIELDS`](super::FIELDS)): the
/// service's `user` (the invitee as a whole) becomes `invitee_field`.
fn rejection(e: Error, invitee_field: &str) -> SubmitError {
    let on_form = |field: &str| {
        if field == "user" {
            invitee_field.to_owned()
        } else {
            field.to_owned()
        }
    };
    let mut field_errors = e.field_errors().to_vec();
    for error in &mut field_errors {
        error.field = on_form(&error.field);
    }
    SubmitError {
        code: e.code(),
        message: e.message().to_owned(),
        field: error_field(e.code()).map(on_form),
        field_errors,
        help: e.help().map(str::to_owned),
        retry_after: e.retry_after(),
    }
}
