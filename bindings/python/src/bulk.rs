//! Bulk send: many invitees into one business / app / subscription / role, one
//! transaction, one result per row.

use chrono::TimeDelta;
use invite_core::service::{BulkRowDraft, BulkSendDraft, BulkSendRequest};
use invite_core::{Error, UserId};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};

use crate::convert::{Text, id, opt_text};
use crate::error::exception;
use crate::invitation::PySentInvitation;
use crate::service::PyInviteService;

/// One row of a bulk send: the invitation sent, or the error that row got.
#[pyclass(name = "BulkRowResult", module = "invite_core._native", frozen)]
pub struct PyBulkRowResult {
    index: usize,
    sent: Option<Py<PySentInvitation>>,
    error: Option<Py<PyAny>>,
}

#[pymethods]
impl PyBulkRowResult {
    /// The row's position in the request (0-based).
    #[getter]
    fn index(&self) -> usize {
        self.index
    }

    /// Whether the row was sent.
    #[getter]
    fn ok(&self) -> bool {
        self.sent.is_some()
    }

    /// The sent invitation (with its one-time token), if the row was sent.
    #[getter]
    fn sent(&self, py: Python<'_>) -> Option<Py<PySentInvitation>> {
        self.sent.as_ref().map(|s| s.clone_ref(py))
    }

    /// The row's error (an `InviteError`, not raised), if it failed. Field errors are
    /// named `rows[i].field`.
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }

    /// `{"index", "ok", "sent", "error"}`; the error as `{"code", "message", "errors"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("index", self.index)?;
        dict.set_item("ok", self.sent.is_some())?;
        let sent = match &self.sent {
            Some(s) => Some(s.bind(py).call_method0("to_dict")?),
            None => None,
        };
        dict.set_item("sent", sent)?;
        let error = match &self.error {
            Some(e) => {
                let e = e.bind(py);
                let out = PyDict::new(py);
                for key in ["code", "message", "errors"] {
                    out.set_item(key, e.getattr(key)?)?;
                }
                Some(out)
            }
            None => None,
        };
        dict.set_item("error", error)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(match (&self.sent, &self.error) {
            (Some(s), _) => format!(
                "BulkRowResult(index={}, sent={})",
                self.index,
                s.bind(py).repr()?
            ),
            (None, Some(e)) => format!(
                "BulkRowResult(index={}, error={})",
                self.index,
                e.bind(py).repr()?
            ),
            (None, None) => format!("BulkRowResult(index={})", self.index),
        })
    }
}

/// The result of a bulk send: one `BulkRowResult` per row, in order.
#[pyclass(name = "BulkSendResult", module = "invite_core._native", frozen)]
pub struct PyBulkSendResult {
    rows: Vec<Py<PyBulkRowResult>>,
    replayed: bool,
}

#[pymethods]
impl PyBulkSendResult {
    /// Per-row results, in request order.
    #[getter]
    fn rows(&self, py: Python<'_>) -> Vec<Py<PyBulkRowResult>> {
        self.rows.iter().map(|r| r.clone_ref(py)).collect()
    }

    /// True when an idempotency key returned an earlier result.
    #[getter]
    fn replayed(&self) -> bool {
        self.replayed
    }

    /// How many rows were sent.
    #[getter]
    fn sent(&self) -> usize {
        self.rows.iter().filter(|r| r.get().sent.is_some()).count()
    }

    /// How many rows failed.
    #[getter]
    fn failed(&self) -> usize {
        self.rows.len() - self.sent()
    }

    /// `{"rows": [...], "replayed", "sent", "failed"}`.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        crate::convert::record_dict(slf.as_any(), &["rows", "replayed", "sent", "failed"])
    }

    fn __repr__(&self) -> String {
        format!(
            "BulkSendResult(sent={}, failed={}, replayed={})",
            self.sent(),
            self.failed(),
            if self.replayed { "True" } else { "False" }
        )
    }
}

/// A row mapping (`user_id`, or `first_name` / `last_name` / `email`) as a draft row.
/// Ids stay text: the core parses them, so a malformed `user_id` fails only its row
/// (`rows[i].user_id`, `UNKNOWN_OPTION`) and the rows keep the caller's numbering.
fn row(index: usize, mapping: &Bound<'_, PyAny>) -> PyResult<BulkRowDraft> {
    let mapping = mapping
        .cast::<PyMapping>()
        .map_err(|_| PyTypeError::new_err(format!("rows[{index}] must be a mapping (a dict)")))?;
    let (mut user_id, mut first, mut last, mut email) = (None, None, None, None);
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key: String = key.extract().map_err(|_| {
            PyTypeError::new_err(format!("rows[{index}] has a key that is not a string"))
        })?;
        // Named by row and key: one bad cell in a 10,000-row file must say where it is.
        // Text with a lone surrogate is read, as an argument is (see `Text`): it fails
        // only its row, as `INVALID_CHARACTERS` or `INVALID_EMAIL`.
        let value: Option<Text> = value.extract().map_err(|_: PyErr| {
            let what = value
                .get_type()
                .name()
                .map_or_else(|_| "value".to_owned(), |n| n.to_string());
            PyTypeError::new_err(format!(
                "rows[{index}].{key} must be a string or None, not a {what}"
            ))
        })?;
        let slot = match key.as_str() {
            "user_id" => &mut user_id,
            "first_name" => &mut first,
            "last_name" => &mut last,
            "email" => &mut email,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "rows[{index}] has an unknown key '{other}'"
                )));
            }
        };
        *slot = opt_text(value);
    }
    Ok(BulkRowDraft {
        user_id,
        new_user: crate::send::new_invitee(first, last, email),
    })
}

#[pymethods]
impl PyInviteService {
    /// Invites many people into one subscription with one role, in one transaction.
    /// Problems with the shared fields (missing or malformed ids, all reported in one
    /// `ValidationError`) or the inviter's rights raise; everything about one invitee
    /// (validation, a malformed `user_id`, duplicates, seats, rate limits) fails only
    /// that row. A store failure raises and commits nothing.
    ///
    /// Args:
    ///     inviter_id: Who sends.
    ///     rows: One mapping per invitee: `{"user_id": ...}` for an existing user, or
    ///         `{"first_name": ..., "last_name": ..., "email": ...}` for a new one.
    ///     business_id: Business.
    ///     app_id: App.
    ///     subscription_id: Subscription whose seats the invitations reserve.
    ///     role_id: Role granted at accept.
    ///     expires_in: Lifetime of every invitation (default from the config).
    ///     locale: Email locale.
    ///     idempotency_key: The same key returns the first result.
    #[pyo3(signature = (
        inviter_id, rows, *, business_id = None, app_id = None, subscription_id = None,
        role_id = None, expires_in = None, locale = None, idempotency_key = None,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per shared field"
    )]
    fn bulk_send(
        &self,
        py: Python<'_>,
        inviter_id: Text,
        rows: Vec<Bound<'_, PyAny>>,
        business_id: Option<Text>,
        app_id: Option<Text>,
        subscription_id: Option<Text>,
        role_id: Option<Text>,
        expires_in: Option<TimeDelta>,
        locale: Option<Text>,
        idempotency_key: Option<Text>,
    ) -> PyResult<PyBulkSendResult> {
        let inviter: UserId = id(py, &inviter_id)?;
        let draft = BulkSendDraft {
            business_id: opt_text(business_id),
            app_id: opt_text(app_id),
            subscription_id: opt_text(subscription_id),
            role_id: opt_text(role_id),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| row(i, r))
                .collect::<PyResult<_>>()?,
            expires_in_seconds: None,
            locale: opt_text(locale),
            idempotency_key: opt_text(idempotency_key),
        };
        let mut request = BulkSendRequest::from_draft(inviter, &draft);
        request.expires_in = expires_in;
        let result = self.run(py, |s| s.bulk_send(&request))?;
        let mut out = Vec::with_capacity(result.rows.len());
        for (index, outcome) in result.rows.into_iter().enumerate() {
            let (sent, error) = match outcome {
                Ok(s) => (Some(Py::new(py, PySentInvitation::from(s))?), None),
                Err(e) => (None, Some(exception(py, &Error::from(e))?.unbind())),
            };
            out.push(Py::new(py, PyBulkRowResult { index, sent, error })?);
        }
        Ok(PyBulkSendResult {
            rows: out,
            replayed: result.replayed,
        })
    }
}
