//! Parsing JS input into core types: ids, durations, pages. No rules, only parsing.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Utc};
use invite_core::{Error as CoreError, FieldCode, FieldError, PageRequest};
use napi::bindgen_prelude::{
    Either, FromNapiValue, JsObjectValue, Null, Object, ToNapiValue, TypeName, ValidateNapiValue,
};
use napi::{ValueType, sys};
use napi_derive::napi;

use crate::error::{invalid_config as invalid, invalid_field};

/// Parses an id; a malformed one is `NOT_FOUND`, like a missing record (the core's rule).
pub fn id<T: FromStr<Err = CoreError>>(raw: &str) -> Result<T, CoreError> {
    raw.trim().parse()
}

/// Parses an optional id.
pub fn opt_id<T: FromStr<Err = CoreError>>(raw: Option<&str>) -> Result<Option<T>, CoreError> {
    raw.map(id).transpose()
}

/// Whole seconds from JS (a number) as a duration; non-finite or fractional values and
/// values past ±100 years are `OUT_OF_RANGE` on `field`.
pub fn seconds(value: f64, field: &str) -> Result<Duration, CoreError> {
    const LIMIT: f64 = 100.0 * 366.0 * 86_400.0;
    if !value.is_finite() || value.fract() != 0.0 || value.abs() > LIMIT {
        return Err(invalid_field(
            field,
            FieldCode::OutOfRange,
            "must be a whole number of seconds, at most 100 years either way",
        ));
    }
    // A whole number well inside i64, checked above.
    Ok(Duration::seconds(value as i64))
}

/// A count from JS (a number) as a `u32`: negative, fractional, non-finite values and
/// values past 2³² − 1 are `OUT_OF_RANGE` on `field` (napi's own conversion would wrap
/// them: -1 to 4294967295, 2³² to 0, NaN to 0).
pub fn count(value: f64, field: &str) -> Result<u32, CoreError> {
    if value.is_finite() && value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // A whole number inside u32, checked above.
        Ok(value as u32)
    } else {
        Err(invalid_field(
            field,
            FieldCode::OutOfRange,
            "must be a whole number from 0 to 4294967295",
        ))
    }
}

/// A count that may be `null` (no limit): `None` when omitted or `null`.
pub fn nullable_count(
    value: Option<Either<f64, Null>>,
    field: &str,
) -> Result<Option<u32>, CoreError> {
    match value {
        Some(Either::A(n)) => count(n, field).map(Some),
        _ => Ok(None),
    }
}

/// Rejects an options object that is not a plain object (an object literal or
/// `Object.create(null)`), or that has a name not in `known` (`INVALID_CONFIG`): a typo
/// (`usename`, `storeUrl`) must not silently drop a setting, nor a `Map`, an array or a
/// Promise (a forgotten `await`), whose entries are no own properties, read as "no
/// options". `what` names the options.
pub fn only(object: &Object<'_>, known: &[&str], what: &str) -> Result<(), CoreError> {
    let unreadable = || invalid(format!("the {what} options cannot be read"));
    if !is_plain(object).map_err(|_| unreadable())? {
        return Err(invalid(format!(
            "the {what} options must be a plain object, not a Map, an array, a Promise \
             (a forgotten `await`?) or a class instance"
        )));
    }
    let names = object.get_property_names().map_err(|_| unreadable())?;
    let count = names.get_array_length().map_err(|_| unreadable())?;
    for i in 0..count {
        let name: String = names.get_element(i).map_err(|_| unreadable())?;
        if !known.contains(&name.as_str()) {
            let shown: String = name.chars().take(40).collect();
            return Err(invalid(format!(
                "unknown {what} option `{shown}` (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Whether `object`'s prototype is `null` or has a `null` prototype itself (is
/// `Object.prototype`, of this realm or another).
fn is_plain(object: &Object<'_>) -> napi::Result<bool> {
    let prototype = object.get_prototype()?;
    Ok(match prototype.get_type()? {
        ValueType::Null => true,
        ValueType::Object => {
            Object::from_unknown(prototype)?
                .get_prototype()?
                .get_type()?
                == ValueType::Null
        }
        _ => false,
    })
}

/// A page size: what the core checks (1–500), or 0 (which it refuses as `OUT_OF_RANGE`)
/// for a number no page size could be.
pub fn page_limit(value: Option<f64>) -> Option<u32> {
    value.map(|n| count(n, "limit").unwrap_or(0))
}

/// An instant from a JS `Date`, kept as its time value until checked: napi's own
/// conversion reads an Invalid Date (`new Date('garbage')`, time value NaN) as
/// 1970-01-01.
#[derive(Debug, Clone, Copy)]
pub struct JsInstant(f64);

/// Whether an instant lies in the years 1 to 9999 (UTC): the instants every binding can
/// hand back (Python's `datetime` has no others), so the only ones taken in.
pub fn in_calendar(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

impl From<DateTime<Utc>> for JsInstant {
    fn from(at: DateTime<Utc>) -> Self {
        // Instants in the years 1 to 9999 are whole milliseconds well inside f64's
        // exact integers (±2^53).
        JsInstant(at.timestamp_millis() as f64)
    }
}

impl JsInstant {
    /// The instant, or `OUT_OF_RANGE` on `field` for an Invalid Date or one outside the
    /// years 1 to 9999.
    pub fn to_utc(self, field: &str) -> Result<DateTime<Utc>, CoreError> {
        let JsInstant(millis) = self;
        // JS time values are whole milliseconds within ±8.64e15, well inside i64.
        Some(millis)
            .filter(|ms| ms.is_finite())
            .and_then(|ms| DateTime::from_timestamp_millis(ms as i64))
            .filter(|at| in_calendar(*at))
            .ok_or_else(|| {
                invalid_field(
                    field,
                    FieldCode::OutOfRange,
                    "must be a valid Date in the years 1 to 9999",
                )
            })
    }
}

impl TypeName for JsInstant {
    fn type_name() -> &'static str {
        "Date"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// A `T` read only after napi's type check for it passed: an array's element (a bulk
/// row) that is `null` or a number throws `InvalidArg` like a wrong argument does,
/// instead of a codeless `TypeError` from reading properties off it. (Arguments get the
/// same check from the methods' `strict`; napi checks no element of an array.)
#[derive(Debug, Clone)]
pub struct Checked<T>(pub T);

impl<T: TypeName> TypeName for Checked<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }

    fn value_type() -> ValueType {
        T::value_type()
    }
}

#[allow(unsafe_code, reason = "napi's conversion trait method is unsafe")]
impl<T: FromNapiValue + ValidateNapiValue> FromNapiValue for Checked<T> {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: `env` and `value` come from napi for this conversion, as `T`'s own
        // check and conversion expect.
        unsafe { T::validate(env, value) }?;
        // SAFETY: as above.
        unsafe { T::from_napi_value(env, value) }.map(Checked)
    }
}

#[allow(unsafe_code, reason = "napi's validation trait method is unsafe")]
impl ValidateNapiValue for JsInstant {
    unsafe fn validate(
        env: sys::napi_env,
        value: sys::napi_value,
    ) -> napi::Result<sys::napi_value> {
        // SAFETY: the same check napi's `DateTime` conversion runs.
        unsafe { <DateTime<Utc> as ValidateNapiValue>::validate(env, value) }
    }
}

#[allow(
    unsafe_code,
    reason = "napi's conversion trait method is unsafe; a raw date read"
)]
impl FromNapiValue for JsInstant {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let mut millis = 0.0;
        // SAFETY: `env` and `value` come from napi for this call; a non-Date fails here.
        let status = unsafe { sys::napi_get_date_value(env, value, &mut millis) };
        if status == sys::Status::napi_ok {
            Ok(JsInstant(millis))
        } else {
            Err(napi::Error::new(
                napi::Status::DateExpected,
                "expected a Date",
            ))
        }
    }
}

#[allow(unsafe_code, reason = "napi's conversion trait method is unsafe")]
impl ToNapiValue for JsInstant {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        let JsInstant(millis) = value;
        let mut date = std::ptr::null_mut();
        // SAFETY: `env` comes from napi for this call; `date` receives the new value.
        let status = unsafe { sys::napi_create_date(env, millis, &mut date) };
        if status == sys::Status::napi_ok {
            Ok(date)
        } else {
            Err(napi::Error::new(
                napi::Status::GenericFailure,
                "cannot create a Date",
            ))
        }
    }
}

/// An optional instant, checked.
pub fn opt_instant(
    value: Option<JsInstant>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, CoreError> {
    value.map(|v| v.to_utc(field)).transpose()
}

/// An optional instant that may also be `null`.
pub fn nullable_instant(
    value: Option<Either<JsInstant, Null>>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, CoreError> {
    match value {
        Some(Either::A(instant)) => instant.to_utc(field).map(Some),
        _ => Ok(None),
    }
}

/// One of the values of a string union (`InvitationStatus`, `SubscriptionStatus`,
/// `UserMode`), parsed with the core's own `parse`: anything else is `VALIDATION_FAILED`
/// with `UNKNOWN_OPTION` on `field` (napi's string enums would throw `InvalidArg`, a code
/// outside the contract).
pub fn one_of<T>(value: &str, field: &str, parse: fn(&str) -> Option<T>) -> Result<T, CoreError> {
    parse(value).ok_or_else(|| {
        invalid_field(
            field,
            FieldCode::UnknownOption,
            format!("`{value}` is not a known {field}"),
        )
    })
}

/// Optional seconds.
pub fn opt_seconds(value: Option<f64>, field: &str) -> Result<Option<Duration>, CoreError> {
    value.map(|v| seconds(v, field)).transpose()
}

/// A request's `expiresInSeconds` as its text draft takes it: a bad value leaves the
/// draft without one and is pushed to `errors`, to be reported with every other problem.
pub fn draft_lifetime(value: Option<f64>, errors: &mut Vec<FieldError>) -> Option<i64> {
    match value.map(|v| seconds(v, "expires_in")) {
        None => None,
        Some(Ok(lifetime)) => Some(lifetime.num_seconds()),
        Some(Err(error)) => {
            errors.extend(error.field_errors().iter().cloned());
            None
        }
    }
}

/// A duration as seconds for JS.
pub fn to_seconds(duration: Duration) -> f64 {
    duration.num_milliseconds() as f64 / 1000.0
}

/// Which page to read.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// `nextCursor` of the previous page; omit for the first page.
    pub cursor: Option<Option<String>>,
    /// Items per page (1–500; default 50).
    pub limit: Option<Option<f64>>,
}

/// The core's page request (first page of 50 when omitted).
pub fn page_request(page: Option<PageOptions>) -> PageRequest {
    let page = page.unwrap_or_default();
    PageRequest {
        cursor: page.cursor.flatten(),
        limit: page_limit(page.limit.flatten()),
    }
}
