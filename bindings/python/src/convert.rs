//! Conversions shared by every area: ids from text, aware datetimes, enum strings,
//! page requests, and the `repr`/`to_dict` of result records.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use invite_core::service::PageRequest;
use invite_core::{Error, FieldCode, FieldError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTzInfo};

use crate::error::IntoPyResult;

/// Parses an id (`NOT_FOUND` when malformed, as the core treats unknown ids).
pub(crate) fn id<T: FromStr<Err = Error>>(py: Python<'_>, raw: &str) -> PyResult<T> {
    raw.trim().parse::<T>().into_py(py)
}

/// Parses an optional id.
pub(crate) fn opt_id<T: FromStr<Err = Error>>(
    py: Python<'_>,
    raw: Option<&String>,
) -> PyResult<Option<T>> {
    raw.map(|r| id(py, r)).transpose()
}

/// Parses an enum's string (`VALIDATION_FAILED` with `UNKNOWN_OPTION` on `field`).
pub(crate) fn choice<T>(
    py: Python<'_>,
    raw: &str,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> PyResult<T> {
    parse(raw)
        .ok_or_else(|| {
            Error::validation(vec![FieldError::new(
                field,
                FieldCode::UnknownOption,
                format!("unknown {field} `{raw}`"),
            )])
        })
        .into_py(py)
}

/// A timezone-aware `datetime` taken in any zone and converted to UTC. Naive datetimes
/// are refused with `TypeError`: the core never guesses a zone.
pub(crate) struct UtcTime(pub(crate) DateTime<Utc>);

impl<'py> FromPyObject<'_, 'py> for UtcTime {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        if ob.getattr("tzinfo").map(|t| t.is_none()).unwrap_or(true) {
            return Err(PyTypeError::new_err(
                "expected a timezone-aware datetime (tzinfo must not be None)",
            ));
        }
        let utc = PyTzInfo::utc(py)?;
        Ok(UtcTime(ob.call_method1("astimezone", (utc,))?.extract()?))
    }
}

/// The page request of a listing call.
pub(crate) fn page(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
    PageRequest { cursor, limit }
}

/// Converts a value for `to_dict`: records become dicts, lists are converted item by item.
fn plain<'py>(value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(list) = value.cast::<PyList>() {
        let out = PyList::empty(value.py());
        for item in list.iter() {
            out.append(plain(item)?)?;
        }
        return Ok(out.into_any());
    }
    if value.hasattr("to_dict")? && !value.is_instance_of::<pyo3::types::PyType>() {
        return value.call_method0("to_dict");
    }
    Ok(value)
}

/// `{name: getattr(record, name)}` for the record's fields, nested records as dicts.
pub(crate) fn record_dict<'py>(
    record: &Bound<'py, PyAny>,
    fields: &[&str],
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(record.py());
    for name in fields {
        dict.set_item(*name, plain(record.getattr(*name)?)?)?;
    }
    Ok(dict)
}

/// `TypeName(field=value!r, …)` over the given fields.
pub(crate) fn record_repr(record: &Bound<'_, PyAny>, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for name in fields {
        let value = record.getattr(*name)?.repr()?;
        parts.push(format!("{name}={value}"));
    }
    let ty = record.get_type().name()?;
    Ok(format!("{ty}({})", parts.join(", ")))
}

/// Declares read-only properties computed from `self.inner`, plus `to_dict()` (every
/// property) and `__repr__` (the listed ones). Keeps each result class a few lines.
macro_rules! record {
    (
        $ty:ty, repr = [$($r:ident),* $(,)?],
        { $( $(#[$doc:meta])* $name:ident -> $ret:ty = |$s:ident| $body:expr; )* }
    ) => {
        #[pyo3::pymethods]
        impl $ty {
            $(
                $(#[$doc])*
                #[getter]
                fn $name(&self) -> $ret {
                    let $s = &self.inner;
                    $body
                }
            )*

            /// The record as a plain `dict` (nested records as dicts; datetimes stay
            /// timezone-aware `datetime`s).
            fn to_dict<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
                $crate::convert::record_dict(slf.as_any(), &[$(stringify!($name)),*])
            }

            fn __repr__(slf: &pyo3::Bound<'_, Self>) -> pyo3::PyResult<String> {
                $crate::convert::record_repr(slf.as_any(), &[$(stringify!($r)),*])
            }
        }
    };
}

pub(crate) use record;

/// Declares a frozen result class wrapping a core value (`inner`), with `From` and `==`.
macro_rules! wrapper {
    ($(#[$doc:meta])* $py:ident => $name:literal, $core:ty) => {
        $(#[$doc])*
        #[pyo3::pyclass(name = $name, module = "invite_core._native", frozen, eq)]
        #[derive(Clone, PartialEq)]
        pub struct $py {
            pub(crate) inner: $core,
        }

        impl From<$core> for $py {
            fn from(inner: $core) -> Self {
                Self { inner }
            }
        }
    };
}

pub(crate) use wrapper;

/// Wraps every item of a core list.
pub(crate) fn wrap_all<C, P: From<C>>(items: Vec<C>) -> Vec<P> {
    items.into_iter().map(P::from).collect()
}

/// A field error as the `{"field", "code", "message"}` dict Python sees everywhere.
pub(crate) struct FieldErrorDict<'a>(pub(crate) &'a FieldError);

impl<'py> IntoPyObject<'py> for FieldErrorDict<'_> {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("field", &self.0.field)?;
        dict.set_item("code", self.0.code.as_str())?;
        dict.set_item("message", &self.0.message)?;
        Ok(dict)
    }
}

/// Field errors as a list of dicts.
pub(crate) fn field_error_dicts(errors: &[FieldError]) -> Vec<FieldErrorDict<'_>> {
    errors.iter().map(FieldErrorDict).collect()
}
