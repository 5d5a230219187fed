//! The headless form model of the Invite User page: state with the guide's rules,
//! a view (options per step, seat info, field errors, hints, `can_send`), and submit.

use invite_core::form::{FormView, Hint, InviteForm, SubmitError, SubmitOutcome, UserMode};
use invite_core::{Error, FieldCode, FieldError, UserId};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{
    FieldErrorDict, Text, choice, field_error_dicts, id, record, wrap_all, wrapper,
};
use crate::error::IntoPyResult;
use crate::invitation::PySentInvitation;
use crate::model::{PyApp, PyBusinessOption, PyRole, PySeatUsage, PySubscriptionOption, PyUser};
use crate::service::PyInviteService;

/// The page's state. Changing an upstream choice clears every choice below it;
/// switching to an existing user drops the new-user fields. Keep it between requests
/// with `to_json()` / `InviteForm.from_json()`.
#[pyclass(name = "InviteForm", module = "invite_core._native", eq)]
#[derive(Clone, PartialEq)]
pub struct PyInviteForm {
    inner: InviteForm,
}

/// A hint as the `{"code", "field", "message"}` dict Python sees.
struct HintDict<'a>(&'a Hint);

impl<'py> IntoPyObject<'py> for HintDict<'_> {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("code", self.0.code.as_str())?;
        dict.set_item("field", &self.0.field)?;
        dict.set_item("message", &self.0.message)?;
        Ok(dict)
    }
}

/// A form saved with `to_json()`, back through the form's setters (see
/// `PyInviteForm::from_json` for the errors).
fn restore(data: &str) -> invite_core::Result<InviteForm> {
    let refused = |field: &str, message: String| {
        Error::validation(vec![FieldError::new(
            field,
            FieldCode::UnknownOption,
            message,
        )])
    };
    let value: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| refused("form", format!("not a saved invite form: {e}")))?;
    if !value.is_object() {
        return Err(refused(
            "form",
            "not a saved invite form: a JSON object was expected".to_owned(),
        ));
    }
    if let Some(mode) = value.get("mode").and_then(serde_json::Value::as_str)
        && UserMode::parse(mode).is_none()
    {
        return Err(refused(
            "mode",
            "the user mode must be \"existing\" or \"new\"".to_owned(),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| refused("form", format!("not a saved invite form: {e}")))
}

#[pymethods]
impl PyInviteForm {
    #[new]
    fn new() -> Self {
        PyInviteForm {
            inner: InviteForm::new(),
        }
    }

    /// Restores a form saved with `to_json()`.
    ///
    /// Raises:
    ///     ValidationError: ``mode`` ``UNKNOWN_OPTION`` for a mode other than
    ///         ``"existing"`` or ``"new"``; ``form`` ``UNKNOWN_OPTION`` for text that is
    ///         not a saved form (not JSON, not an object, a field of the wrong type).
    #[staticmethod]
    fn from_json(py: Python<'_>, data: Text) -> PyResult<Self> {
        restore(&data)
            .map(|inner| PyInviteForm { inner })
            .into_py(py)
    }

    /// The form as JSON, to keep in a session or a hidden field.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Resets every field ("Clear").
    fn clear(&mut self) {
        self.inner.clear();
    }

    /// `"existing"` (pick a user) or `"new"` (enter names and email).
    fn set_mode(&mut self, py: Python<'_>, mode: Text) -> PyResult<()> {
        self.inner
            .set_mode(choice(py, &mode, "mode", UserMode::parse)?);
        Ok(())
    }

    /// The text typed in the user search box (existing-user mode; ignored in new-user
    /// mode, which clears it).
    fn set_user_query(&mut self, query: Text) {
        self.inner.set_user_query(&query);
    }

    /// Chooses an existing user (switches to existing-user mode); `None` unselects.
    fn select_user(&mut self, user_id: Option<Text>) {
        self.inner.select_user(user_id.as_deref());
    }

    /// Sets the new user's first name (switches to new-user mode).
    fn set_first_name(&mut self, value: Text) {
        self.inner.set_first_name(&value);
    }

    /// Sets the new user's last name (switches to new-user mode).
    fn set_last_name(&mut self, value: Text) {
        self.inner.set_last_name(&value);
    }

    /// Sets the new user's email (switches to new-user mode).
    fn set_email(&mut self, value: Text) {
        self.inner.set_email(&value);
    }

    /// Chooses a business; a different one clears app, subscription and role.
    fn select_business(&mut self, business_id: Option<Text>) {
        self.inner.select_business(business_id.as_deref());
    }

    /// Chooses an app; a different one clears subscription and role. Without a business
    /// the app stays empty.
    fn select_app(&mut self, app_id: Option<Text>) {
        self.inner.select_app(app_id.as_deref());
    }

    /// Chooses a subscription; a different one clears the role. Without an app the
    /// subscription stays empty.
    fn select_subscription(&mut self, subscription_id: Option<Text>) {
        self.inner.select_subscription(subscription_id.as_deref());
    }

    /// Chooses a role (an app's): without an app the role stays empty.
    fn select_role(&mut self, role_id: Option<Text>) {
        self.inner.select_role(role_id.as_deref());
    }

    /// Sets one field by its page name (`"business_id"`, `"email"`, `"mode"`, …) with
    /// the same rules as the setters; an unknown name is a `ValidationError`.
    fn set_field(&mut self, py: Python<'_>, field: Text, value: Option<Text>) -> PyResult<()> {
        self.inner.set_field(&field, value.as_deref()).into_py(py)
    }

    /// Everything the page shows for this state, for `inviter_id` (a malformed one
    /// raises `NotFoundError`).
    fn view(
        slf: PyRef<'_, Self>,
        service: &PyInviteService,
        inviter_id: Text,
    ) -> PyResult<PyFormView> {
        let py = slf.py();
        let inviter: UserId = id(py, &inviter_id)?;
        let form = detach(slf);
        service.run(py, |s| form.view(s, inviter)).map(Into::into)
    }

    /// Sends the invitation this form stands for. Refusals come back as
    /// `result.rejection` (every field problem at once, or one domain error with the
    /// field it belongs to); only a malformed `inviter_id` (`NotFoundError`), storage
    /// and internal failures raise.
    ///
    /// Args:
    ///     service: The service to send with.
    ///     inviter_id: Who sends.
    ///     idempotency_key: Give each rendering of the form a fresh key: the same form
    ///         submitted again under it (a double-clicked Send) returns the first send
    ///         (`sent.replayed`) instead of an `ALREADY_INVITED` rejection.
    #[pyo3(signature = (service, inviter_id, *, idempotency_key = None))]
    fn submit(
        slf: PyRef<'_, Self>,
        service: &PyInviteService,
        inviter_id: Text,
        idempotency_key: Option<Text>,
    ) -> PyResult<PySubmitResult> {
        let py = slf.py();
        let inviter: UserId = id(py, &inviter_id)?;
        let form = detach(slf);
        let outcome = service.run(py, |s| match idempotency_key.as_deref() {
            Some(key) => form.submit_with_key(s, inviter, key),
            None => form.submit(s, inviter),
        })?;
        Ok(match outcome {
            SubmitOutcome::Sent(sent) => PySubmitResult {
                sent: Some(Py::new(py, PySentInvitation::from(*sent))?),
                rejection: None,
            },
            SubmitOutcome::Rejected(error) => PySubmitResult {
                sent: None,
                rejection: Some(Py::new(py, PyRejection::from(error))?),
            },
        })
    }
}

/// A copy of the form's state, the borrow released: while the service works (the GIL
/// released), other threads may go on editing the form instead of failing with
/// "Already borrowed".
fn detach(form: PyRef<'_, PyInviteForm>) -> InviteForm {
    form.inner.clone()
}

record!(PyInviteForm, repr = [mode, user_id, email, business_id, app_id, subscription_id, role_id], {
    /// `"existing"` or `"new"`.
    mode -> &'static str = |f| f.mode().as_str();
    /// The user search text.
    user_query -> String = |f| f.user_query().to_owned();
    /// The chosen user.
    user_id -> Option<String> = |f| f.user_id().map(str::to_owned);
    /// New user's first name.
    first_name -> String = |f| f.first_name().to_owned();
    /// New user's last name.
    last_name -> String = |f| f.last_name().to_owned();
    /// New user's email.
    email -> String = |f| f.email().to_owned();
    /// The chosen business.
    business_id -> Option<String> = |f| f.business_id().map(str::to_owned);
    /// The chosen app.
    app_id -> Option<String> = |f| f.app_id().map(str::to_owned);
    /// The chosen subscription.
    subscription_id -> Option<String> = |f| f.subscription_id().map(str::to_owned);
    /// The chosen role.
    role_id -> Option<String> = |f| f.role_id().map(str::to_owned);
});

wrapper!(
    /// Everything the page shows for a form state.
    PyFormView => "FormView", FormView
);
record!(PyFormView, repr = [can_send, missing, hints], {
    /// The state this view was made from.
    form -> PyInviteForm = |v| PyInviteForm { inner: v.form.clone() };
    /// Users matching the search (existing-user mode), at most `USER_OPTIONS`.
    users -> Vec<PyUser> = |v| wrap_all(v.users.clone());
    /// More users match than are listed: the page can ask to refine the search.
    users_truncated -> bool = |v| v.users_truncated;
    /// The chosen user, if valid.
    selected_user -> Option<PyUser> = |v| v.selected_user.clone().map(Into::into);
    /// Businesses the inviter may invite into.
    businesses -> Vec<PyBusinessOption> = |v| wrap_all(v.businesses.clone());
    /// Apps of the chosen business (empty until one is chosen).
    apps -> Vec<PyApp> = |v| wrap_all(v.apps.clone());
    /// Subscriptions of the chosen business and app (empty until both are chosen).
    subscriptions -> Vec<PySubscriptionOption> = |v| wrap_all(v.subscriptions.clone());
    /// Seat information of the chosen subscription.
    seats -> Option<PySeatUsage> = |v| v.seats.map(Into::into);
    /// Roles the inviter may grant in the chosen app (empty until one is chosen).
    roles -> Vec<PyRole> = |v| wrap_all(v.roles.clone());
    /// Problems with what is filled in so far: `{"field", "code", "message"}` dicts
    /// (an over-long search is a `user_query` `TOO_LONG` error, not an exception).
    field_errors -> Vec<FieldErrorDict<'_>> = |v| field_error_dicts(&v.field_errors);
    /// Required fields still empty.
    missing -> Vec<String> = |v| v.missing.clone();
    /// Troubleshooting hints: `{"code", "field", "message"}` dicts.
    hints -> Vec<HintDict<'_>> = |v| v.hints.iter().map(HintDict).collect();
    /// Whether "Send Invitation" can succeed as far as the form can tell.
    can_send -> bool = |v| v.can_send;
});

wrapper!(
    /// A submit the service refused, ready to show next to the fields.
    PyRejection => "Rejection", SubmitError
);
record!(PyRejection, repr = [code, field, errors], {
    /// The error code (`"VALIDATION_FAILED"`, `"SEAT_LIMIT_REACHED"`, …).
    code -> &'static str = |r| r.code.as_str();
    /// A lowercase message.
    message -> String = |r| r.message.clone();
    /// The field a domain error belongs to (`"subscription_id"` for seat limits, …).
    field -> Option<String> = |r| r.field.clone();
    /// Every field problem of a `VALIDATION_FAILED`.
    errors -> Vec<FieldErrorDict<'_>> = |r| field_error_dicts(&r.field_errors);
    /// What to do about it, when the library knows.
    help -> Option<String> = |r| r.help.clone();
    /// Seconds until retrying may succeed, for `RATE_LIMITED` (as on `RateLimitedError`).
    retry_after -> Option<f64> = |r| r.retry_after.map(|d| d.as_secs_f64());
});

/// The outcome of `InviteForm.submit`: `sent`, or `rejection`.
#[pyclass(name = "SubmitResult", module = "invite_core._native", frozen)]
pub struct PySubmitResult {
    sent: Option<Py<PySentInvitation>>,
    rejection: Option<Py<PyRejection>>,
}

#[pymethods]
impl PySubmitResult {
    /// Whether the invitation was sent.
    #[getter]
    fn ok(&self) -> bool {
        self.sent.is_some()
    }

    /// The sent invitation (with its one-time token).
    #[getter]
    fn sent(&self, py: Python<'_>) -> Option<Py<PySentInvitation>> {
        self.sent.as_ref().map(|s| s.clone_ref(py))
    }

    /// Why nothing was sent.
    #[getter]
    fn rejection(&self, py: Python<'_>) -> Option<Py<PyRejection>> {
        self.rejection.as_ref().map(|r| r.clone_ref(py))
    }

    /// `{"ok", "sent", "rejection"}` with nested dicts.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        crate::convert::record_dict(slf.as_any(), &["ok", "sent", "rejection"])
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        crate::convert::record_repr(slf.as_any(), &["ok", "sent", "rejection"])
    }
}
