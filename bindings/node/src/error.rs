//! Error mapping: every core error becomes a JS `Error` with `.code` (one of
//! `ErrorCode`), `.kind`, `.errors` (field problems of `VALIDATION_FAILED`), and, when
//! the core has them, `.help`, `.retryAfterSeconds` and `.cause`.

use invite_core::{Error as CoreError, ErrorCode as CoreCode, FieldCode as CoreFieldCode};
use napi::bindgen_prelude::{
    FnArgs, FromNapiValue, Function, JsObjectValue, JsValue, Object, Unknown,
};
use napi::{Env, Status, ValueType, sys};
use napi_derive::napi;

/// A stable error code: the `code` of every error this package throws or rejects with.
/// The same strings as Rust's `ErrorCode::ALL` (checked by a drift test).
#[napi(string_enum = "UPPER_SNAKE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// One or more fields are invalid; see `errors`.
    ValidationFailed,
    /// The configuration passed by the host is invalid.
    InvalidConfig,
    /// The record does not exist, or belongs to another business.
    NotFound,
    /// A record with the same unique key exists already.
    AlreadyExists,
    /// The actor may not invite into this business and app.
    PermissionDenied,
    /// The role is not of the app, or the actor may not grant it.
    RoleNotAssignable,
    /// The app is not enabled for the business.
    AppNotEnabled,
    /// The subscription has no free seat.
    SeatLimitReached,
    /// The subscription is suspended, expired or outside its validity window.
    SubscriptionInactive,
    /// The invitee holds a seat in the subscription already.
    AlreadyMember,
    /// A pending invitation for this email and subscription exists already.
    AlreadyInvited,
    /// The invitation expired.
    InvitationExpired,
    /// The invitation is no longer pending.
    InvitationNotPending,
    /// The token is malformed, unknown, used or revoked.
    InvalidToken,
    /// The accepting identity does not match the invited email.
    EmailMismatch,
    /// A rate or volume limit was hit; see `retryAfterSeconds`.
    RateLimited,
    /// The idempotency key was used with different parameters.
    IdempotencyConflict,
    /// The store detected a concurrent conflicting write; retrying may succeed.
    StorageConflict,
    /// The store cannot be reached or failed.
    StorageUnavailable,
    /// The store's schema is newer than this library understands.
    SchemaVersionUnsupported,
    /// The operation is not supported by this adapter.
    NotSupported,
    /// A bug or an unexpected condition.
    Internal,
}

/// A field problem code carried in `errors[].code` of `VALIDATION_FAILED`.
#[napi(string_enum = "UPPER_SNAKE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCode {
    /// The field is required.
    Required,
    /// Not a valid email address.
    InvalidEmail,
    /// The email's local part has non-ASCII characters and the host did not enable them.
    NonAsciiEmail,
    /// Longer than the field's maximum.
    TooLong,
    /// Contains control, bidi-override or otherwise forbidden characters.
    InvalidCharacters,
    /// The id is not one of the options (missing, malformed or of another business).
    UnknownOption,
    /// The value is outside its allowed range.
    OutOfRange,
    /// Two fields that exclude each other were both given.
    Conflicting,
}

/// The kind of an error code (`error.kind`).
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something malformed or incomplete.
    InvalidInput,
    /// The record does not exist (or belongs to another business).
    NotFound,
    /// The record exists already.
    AlreadyExists,
    /// The request conflicts with the current state.
    Conflict,
    /// A limit (seats, rate) would be exceeded.
    LimitExceeded,
    /// The actor may not do this.
    PermissionDenied,
    /// The storage backend failed or is unavailable.
    Storage,
    /// A bug or an unexpected condition.
    Internal,
}

/// One problem with one field (`error.errors[i]`).
#[napi(object)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, in the core's `snake_case` (`"email"`, `"business_id"`, `"rows[3].email"`).
    pub field: String,
    /// The stable problem code.
    #[napi(ts_type = "FieldCode")]
    pub code: String,
    /// A lowercase human message.
    pub message: String,
}

impl From<&invite_core::FieldError> for FieldError {
    fn from(e: &invite_core::FieldError) -> Self {
        FieldError {
            field: e.field.clone(),
            code: e.code.as_str().to_owned(),
            message: e.message.clone(),
        }
    }
}

/// Every error code, in the core's order (`ErrorCode::ALL`).
#[napi(ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<String> {
    CoreCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// Every field problem code (`FieldCode::ALL`).
#[napi(ts_return_type = "FieldCode[]")]
pub fn field_codes() -> Vec<String> {
    CoreFieldCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// The kind of a code (`"limit_exceeded"`); `null` for an unknown code.
#[napi(ts_args_type = "code: string", ts_return_type = "ErrorKind | null")]
pub fn error_kind(code: String) -> Option<String> {
    CoreCode::parse(&code).map(|c| c.kind().as_str().to_owned())
}

/// What every error this package throws or rejects with carries besides `message`: in
/// TypeScript the error is `Error & InviteErrorDetails` (see `isInviteError`).
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
#[allow(
    dead_code,
    reason = "a TypeScript declaration only: the errors themselves are built by build_js_error"
)]
pub struct InviteErrorDetails {
    /// The stable code.
    pub code: ErrorCode,
    /// The code's kind (`errorKind(code)`).
    pub kind: ErrorKind,
    /// The field problems, for `VALIDATION_FAILED`.
    pub errors: Option<Vec<FieldError>>,
    /// What to do about it, when the library knows.
    pub help: Option<String>,
    /// When trying again may succeed, in seconds (`RATE_LIMITED`).
    pub retry_after_seconds: Option<f64>,
    /// The underlying failure (a store's own message), for storage errors.
    #[napi(ts_type = "Error")]
    pub cause: Option<String>,
}

/// Whether `error` is an error of this package: an `Error` whose `code` is one of
/// `ErrorCode` (narrows it to `Error & InviteErrorDetails` in TypeScript).
///
/// ```js
/// try { await service.send(request) } catch (e) {
///   if (!isInviteError(e)) throw e
///   if (e.code === 'SEAT_LIMIT_REACHED') showNoSeatsLeft()
/// }
/// ```
#[napi(
    catch_unwind,
    ts_args_type = "error: unknown",
    ts_return_type = "error is Error & InviteErrorDetails"
)]
#[cfg_attr(test, allow(dead_code, reason = "called from JavaScript only"))]
pub fn is_invite_error(error: Unknown<'_>) -> bool {
    if !error.is_error().unwrap_or(false) {
        return false;
    }
    let Ok(object) = Object::from_unknown(error) else {
        return false;
    };
    object
        .get_named_property::<Unknown<'_>>("code")
        .ok()
        .filter(|code| code.get_type().ok() == Some(ValueType::String))
        .and_then(|code| String::from_unknown(code).ok())
        .is_some_and(|code| CoreCode::parse(&code).is_some())
}

/// `INVALID_CONFIG`: a bad option of `open`, a dispatch or a mailer configuration.
pub fn invalid_config(message: impl Into<String>) -> CoreError {
    CoreError::new(CoreCode::InvalidConfig, message)
}

/// A binding-level validation problem (bad option string, bad number), reported like the
/// core reports its own.
pub fn invalid_field(field: &str, code: CoreFieldCode, message: impl Into<String>) -> CoreError {
    CoreError::validation(vec![invite_core::FieldError::new(field, code, message)])
}

/// Clears an exception a failed property read (a throwing getter, a proxy trap) left
/// pending: the failure is reported as this package's error, and a pending exception
/// would be thrown as well when the call returns.
#[allow(
    unsafe_code,
    reason = "napi's raw exception calls; napi-rs has no safe way to drop a pending exception"
)]
pub fn clear_pending_exception(env: &Env) {
    let raw = env.raw();
    let mut pending = false;
    // SAFETY: `raw` is the live env of this (the JS) thread; valid out-pointers.
    unsafe {
        if sys::napi_is_exception_pending(raw, &mut pending) == sys::Status::napi_ok && pending {
            let mut exception = std::ptr::null_mut();
            let _ = sys::napi_get_and_clear_last_exception(raw, &mut exception);
        }
    }
}

/// Builds the JS error object for a core error.
pub fn to_js_error(env: &Env, error: &CoreError) -> napi::Error {
    match build_js_error(env, error) {
        Ok(object) => napi::Error::from(object.to_unknown()),
        // Could not even build the object (env tearing down): a plain error, code kept.
        Err(_) => napi::Error::new(Status::GenericFailure, error.message().to_owned()),
    }
}

fn build_js_error<'e>(env: &'e Env, error: &CoreError) -> napi::Result<Object<'e>> {
    let code = error.code();
    let mut object = env.create_error(napi::Error::new(
        Status::GenericFailure,
        error.message().to_owned(),
    ))?;
    object.set_named_property("code", code.as_str())?;
    object.set_named_property("kind", code.kind().as_str())?;
    if code == CoreCode::ValidationFailed {
        let errors: Vec<FieldError> = error.field_errors().iter().map(FieldError::from).collect();
        object.set_named_property("errors", errors)?;
    }
    if let Some(help) = error.help() {
        object.set_named_property("help", help)?;
    }
    if let Some(retry) = error.retry_after() {
        object.set_named_property("retryAfterSeconds", retry.as_secs_f64())?;
    }
    if let Some(source) = std::error::Error::source(error) {
        let mut cause =
            env.create_error(napi::Error::new(Status::GenericFailure, source.to_string()))?;
        // napi labels it `GenericFailure`, a code outside the contract: the cause is a
        // plain `Error` carrying the underlying message only.
        cause.delete_named_property("code")?;
        object.set_named_property("cause", cause)?;
    }
    Ok(object)
}

/// Runs `work`, turning a panic into an `INTERNAL` error: no panic crosses into JS.
pub fn guard<T>(work: impl FnOnce() -> Result<T, CoreError>) -> Result<T, CoreError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(CoreError::internal(format!("internal error: {detail}")))
        }
    }
}

/// Runs a synchronous entry point: panics become `INTERNAL`, core errors become rich JS
/// errors (needs the env to build them).
pub fn sync<T>(env: &Env, work: impl FnOnce() -> Result<T, CoreError>) -> napi::Result<T> {
    guard(work).map_err(|e| {
        // A throwing getter read on the way may have left its exception pending: this
        // package's error is the one thrown.
        clear_pending_exception(env);
        to_js_error(env, &e)
    })
}

/// The message of a rejection or throw, read without running user code (`fallback` when
/// it has none).
pub fn reason(value: Unknown<'_>, fallback: &str) -> String {
    let reason = napi::Error::from_unknown_without_coercion(value).reason;
    if !reason.is_empty() {
        return reason;
    }
    object_message(value).unwrap_or_else(|| fallback.to_owned())
}

/// The string `message` of a plain object thrown or rejected with (`{ message: 'quota' }`),
/// read as `reason.message` would; a throwing getter leaves no pending exception.
fn object_message(value: Unknown<'_>) -> Option<String> {
    if value.get_type().ok()? != ValueType::Object {
        return None;
    }
    let object = Object::from_unknown(value).ok()?;
    let message = match object.get_named_property::<Unknown<'_>>("message") {
        Ok(message) => message,
        Err(_) => {
            clear_pending_exception(&Env::from_raw(value.value().env));
            return None;
        }
    };
    if message.get_type().ok()? != ValueType::String {
        return None;
    }
    String::from_unknown(message).ok().filter(|m| !m.is_empty())
}

/// `process.emitWarning(message, { type: 'InviteCoreWarning', code })`: how a callback
/// of the host (an event hook, a policy) that failed where no caller can be told is
/// reported. If even that fails, nothing more.
pub fn warn(env: &Env, code: &str, message: &str) {
    let _ = emit_warning(env, code, message);
}

fn emit_warning(env: &Env, code: &str, message: &str) -> napi::Result<()> {
    let process: Object<'_> = env.get_global()?.get_named_property("process")?;
    let emit: Function<'_, FnArgs<(&str, Object<'_>)>, Unknown<'_>> =
        process.get_named_property("emitWarning")?;
    let mut options = Object::new(env)?;
    options.set_named_property("type", "InviteCoreWarning")?;
    options.set_named_property("code", code)?;
    emit.apply(process, FnArgs::from((message, options)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lists_follow_the_core() {
        let codes = error_codes();
        assert_eq!(codes.len(), CoreCode::ALL.len());
        assert_eq!(codes[0], "VALIDATION_FAILED");
        assert_eq!(field_codes().len(), CoreFieldCode::ALL.len());
        assert_eq!(
            error_kind("SEAT_LIMIT_REACHED".into()).as_deref(),
            Some("limit_exceeded")
        );
        assert_eq!(error_kind("NOPE".into()), None);
    }

    #[test]
    fn a_panic_becomes_internal() {
        let result: Result<(), CoreError> = guard(|| {
            let empty: Vec<u8> = Vec::new();
            let _ = empty[usize::from(empty.is_empty())];
            Ok(())
        });
        assert_eq!(result.map_err(|e| e.code()), Err(CoreCode::Internal));
    }
}
