//! Core errors as Python exceptions.
//!
//! The exception classes live in `invite_core/exceptions.py`; this file only picks the
//! class for a code (one class per kind, and per code a user would catch) and fills in
//! `code`, `kind`, `errors`, `help` and `retry_after`. The underlying cause, if any,
//! becomes `__cause__`.

use invite_core::{Error, ErrorCode, ErrorKind};
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// The class for a kind: every code without its own class raises its kind's class.
/// Exhaustive on purpose: a new kind in the core breaks this build until it is mapped.
pub(crate) const fn kind_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AlreadyExists => "AlreadyExistsError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::LimitExceeded => "LimitExceededError",
        ErrorKind::PermissionDenied => "PermissionDeniedError",
        ErrorKind::Storage => "StorageError",
        ErrorKind::Internal => "InternalError",
    }
}

/// The class raised for a code (a subclass of its kind's class, or that class).
pub(crate) const fn class_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::ValidationFailed => "ValidationError",
        ErrorCode::InvalidConfig => "InvalidConfigError",
        ErrorCode::InvalidToken => "InvalidTokenError",
        ErrorCode::AlreadyMember => "AlreadyMemberError",
        ErrorCode::AlreadyInvited => "AlreadyInvitedError",
        ErrorCode::AppNotEnabled => "AppNotEnabledError",
        ErrorCode::SubscriptionInactive => "SubscriptionInactiveError",
        ErrorCode::InvitationExpired => "InvitationExpiredError",
        ErrorCode::InvitationNotPending => "InvitationNotPendingError",
        ErrorCode::IdempotencyConflict => "IdempotencyConflictError",
        ErrorCode::SeatLimitReached => "SeatLimitError",
        ErrorCode::RateLimited => "RateLimitedError",
        ErrorCode::RoleNotAssignable => "RoleNotAssignableError",
        ErrorCode::EmailMismatch => "EmailMismatchError",
        ErrorCode::StorageConflict => "StorageConflictError",
        ErrorCode::StorageUnavailable => "StorageUnavailableError",
        ErrorCode::SchemaVersionUnsupported => "SchemaVersionUnsupportedError",
        ErrorCode::NotSupported => "NotSupportedError",
        other => kind_class(other.kind()),
    }
}

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    EXCEPTIONS
        .get_or_try_init(py, || {
            py.import("invite_core.exceptions").map(Bound::unbind)
        })
        .map(|m| m.bind(py))
}

/// Builds the exception object for a core error.
pub(crate) fn exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let class = exceptions(py)?.getattr(class_name(error.code()))?;
    let errors = crate::convert::field_error_dicts(error.field_errors());
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", error.code().as_str())?;
    kwargs.set_item("kind", error.kind().as_str())?;
    kwargs.set_item("errors", errors)?;
    kwargs.set_item("help", error.help())?;
    kwargs.set_item("retry_after", error.retry_after().map(|d| d.as_secs_f64()))?;
    class.call((error.message(),), Some(&kwargs))
}

/// Converts a core error into the matching Python exception, with `__cause__` set
/// from the error's source. Never fails: a broken exceptions module yields `RuntimeError`.
pub(crate) fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, error) {
        Ok(value) => {
            let err = PyErr::from_value(value);
            if let Some(source) = std::error::Error::source(error) {
                err.set_cause(py, Some(PyException::new_err(source.to_string())));
            }
            err
        }
        Err(broken) => {
            let err = PyRuntimeError::new_err(format!("{}: {}", error.code(), error.message()));
            err.set_cause(py, Some(broken));
            err
        }
    }
}

/// `Result<T, invite_core::Error>` into `PyResult<T>`.
pub(crate) trait IntoPyResult<T> {
    /// Maps the core error to its Python exception.
    fn into_py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn into_py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, &e))
    }
}

/// Every error code, in the core's order (`ErrorCode::ALL`).
#[pyfunction]
pub(crate) fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

/// Every error kind, in the core's order.
#[pyfunction]
pub(crate) fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// Every field code a `ValidationError` can carry.
#[pyfunction]
pub(crate) fn field_codes() -> Vec<&'static str> {
    invite_core::FieldCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// The exception class name raised for a code (used by the drift tests).
#[pyfunction]
pub(crate) fn error_class_name(code: String) -> Option<&'static str> {
    ErrorCode::parse(&code).map(class_name)
}

/// Test hook: the exception the binding raises for `code`, built from a core error
/// (for codes only storage failures reach). Returns it; does not raise.
#[pyfunction]
#[pyo3(signature = (code, message = "test error".to_owned(), cause = None))]
pub(crate) fn _error_for_code<'py>(
    py: Python<'py>,
    code: String,
    message: String,
    cause: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(parsed) = ErrorCode::parse(&code) else {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "unknown error code `{code}`"
        )));
    };
    let mut error = Error::new(parsed, message);
    if let Some(cause) = cause {
        error = error.with_source(std::io::Error::other(cause));
    }
    Ok(to_py_err(py, &error)
        .into_value(py)
        .into_bound(py)
        .into_any())
}
