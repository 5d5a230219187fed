//! Conversions shared by every area: ids from text, aware datetimes, enum strings,
//! page requests, and the `repr`/`to_dict` of result records.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Utc};
use invite_core::service::{MAX_PAGE_SIZE, PageRequest};
use invite_core::{Error, FieldCode, FieldError};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyInt, PyList, PyString};

use crate::error::IntoPyResult;

/// A `str` argument, read as Node reads a JavaScript string: a lone surrogate, which
/// UTF-8 cannot encode (`json.loads('"\\ud800"')` yields one), becomes U+FFFD instead
/// of raising `UnicodeEncodeError`. The core refuses U+FFFD in names, addresses and
/// labels, so such text fails as its field (`INVALID_CHARACTERS`, `INVALID_EMAIL`),
/// like any other bad input; in an id, a token or a query it matches nothing. Anything
/// but a `str` is a `TypeError`, as for `String`.
#[derive(Clone, Debug)]
pub(crate) struct Text(String);

impl<'py> FromPyObject<'_, 'py> for Text {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let text = ob.cast::<PyString>()?;
        Ok(Text(match text.to_cow() {
            Ok(utf8) => utf8.into_owned(),
            Err(_) => text.to_string_lossy().into_owned(),
        }))
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(text.to_owned())
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

/// The text of an optional `str` argument.
pub(crate) fn opt_text(text: Option<Text>) -> Option<String> {
    text.map(String::from)
}

/// Parses an id (`NOT_FOUND` when malformed, as the core treats unknown ids).
pub(crate) fn id<T: FromStr<Err = Error>>(py: Python<'_>, raw: &str) -> PyResult<T> {
    raw.trim().parse::<T>().into_py(py)
}

/// Parses an optional id.
pub(crate) fn opt_id<T: FromStr<Err = Error>>(
    py: Python<'_>,
    raw: Option<&str>,
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
/// (no `tzinfo`, or one whose `utcoffset()` is `None`, as Python defines it) are refused
/// with `TypeError`: the core never guesses a zone. The conversion is done here, not by
/// `astimezone`, whose `OverflowError` at the ends of Python's calendar becomes a
/// `ValueError`: an instant outside the years 1 to 9999 in UTC could not come back.
pub(crate) struct UtcTime(pub(crate) DateTime<Utc>);

impl<'py> FromPyObject<'_, 'py> for UtcTime {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        let dt = ob.cast::<PyDateTime>()?;
        let offset = dt.call_method0("utcoffset")?;
        if offset.is_none() {
            return Err(PyTypeError::new_err(
                "expected a timezone-aware datetime (its utcoffset() must not be None)",
            ));
        }
        let offset: TimeDelta = offset.extract()?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("tzinfo", py.None())?;
        let wall: NaiveDateTime = dt.call_method("replace", (), Some(&kwargs))?.extract()?;
        wall.checked_sub_signed(offset)
            .map(|utc| utc.and_utc())
            .filter(|utc| (1..=9999).contains(&utc.year()))
            .map(UtcTime)
            .ok_or_else(|| {
                PyValueError::new_err("the datetime falls outside the years 1 to 9999 in UTC")
            })
    }
}

/// A whole-number argument (a seat cap, a limit, an attempt count): any integer (an
/// `int`, or anything `operator.index` takes, such as numpy's) but `bool` (that, like
/// any other type, is a `TypeError`). Kept exactly when it fits an `i128`, clamped past
/// that, so that [`Count::within`] reports a value out of range
/// as `VALIDATION_FAILED` / `OUT_OF_RANGE` on its field, never as an `OverflowError`
/// or a silently wrapped number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Count(i128);

impl From<u32> for Count {
    fn from(n: u32) -> Self {
        Count(i128::from(n))
    }
}

impl<'py> FromPyObject<'_, 'py> for Count {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let not_an_int = || -> PyResult<PyErr> {
            Ok(PyTypeError::new_err(format!(
                "expected an int, got {}",
                ob.get_type().name()?
            )))
        };
        if ob.is_instance_of::<PyBool>() {
            return Err(not_an_int()?);
        }
        // Any integer, numpy's too: what `operator.index` takes (as `range` does).
        let int = if ob.is_instance_of::<PyInt>() {
            ob.to_owned()
        } else {
            match ob.py().import("operator")?.call_method1("index", (ob,)) {
                Ok(int) => int,
                Err(_) => return Err(not_an_int()?),
            }
        };
        Ok(Count(match int.extract::<i128>() {
            Ok(n) => n,
            Err(_) if int.lt(0)? => i128::MIN,
            Err(_) => i128::MAX,
        }))
    }
}

impl Count {
    /// The value as `T` if it lies in `low..=high`.
    pub(crate) fn in_range<T>(self, low: T, high: T) -> Option<T>
    where
        T: TryFrom<i128> + PartialOrd,
    {
        T::try_from(self.0)
            .ok()
            .filter(|n| (low..=high).contains(n))
    }

    /// The value as `T` if it lies in `low..=high`; else `VALIDATION_FAILED` with
    /// `OUT_OF_RANGE` on `field`.
    pub(crate) fn within<T>(self, py: Python<'_>, field: &str, low: T, high: T) -> PyResult<T>
    where
        T: TryFrom<i128> + PartialOrd + std::fmt::Display + Copy,
    {
        self.in_range(low, high)
            .ok_or_else(|| {
                Error::validation(vec![FieldError::new(
                    field,
                    FieldCode::OutOfRange,
                    format!("{field} must be a whole number from {low} to {high}"),
                )])
            })
            .into_py(py)
    }

    /// A count from 0 to `u32::MAX` (see [`Count::within`]).
    pub(crate) fn to_u32(self, py: Python<'_>, field: &str) -> PyResult<u32> {
        self.within(py, field, 0, u32::MAX)
    }
}

/// A count of a configuration object (`Limits`, `DeliveryConfig`): out of range is
/// `INVALID_CONFIG`, as for every bad configuration value (and as in Node).
pub(crate) fn config_count(
    py: Python<'_>,
    value: Option<Count>,
    field: &str,
) -> PyResult<Option<u32>> {
    value
        .map(|n| {
            n.in_range(0, u32::MAX).ok_or_else(|| {
                Error::new(
                    invite_core::ErrorCode::InvalidConfig,
                    format!("{field} must be a whole number from 0 to {}", u32::MAX),
                )
            })
        })
        .transpose()
        .into_py(py)
}

/// An optional count (see [`Count::to_u32`]).
pub(crate) fn opt_count(
    py: Python<'_>,
    value: Option<Count>,
    field: &str,
) -> PyResult<Option<u32>> {
    value.map(|n| n.to_u32(py, field)).transpose()
}

/// The page request of a listing call (`limit` outside 1 to `MAX_PAGE_SIZE`:
/// `VALIDATION_FAILED`).
pub(crate) fn page(
    py: Python<'_>,
    cursor: Option<Text>,
    limit: Option<Count>,
) -> PyResult<PageRequest> {
    Ok(PageRequest {
        cursor: opt_text(cursor),
        limit: limit
            .map(|n| n.within(py, "limit", 1, MAX_PAGE_SIZE))
            .transpose()?,
    })
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
