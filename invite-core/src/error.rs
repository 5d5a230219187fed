//! Errors with stable codes shared by Rust, Python and Node.
//!
//! Every public function returns [`Error`], whose [`Error::code`] is one of
//! [`ErrorCode::ALL`]. Codes are only ever added, never renamed; tests and host
//! code match on codes, never on message text.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The small closed set of error kinds; each binding maps a kind to an exception class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::LimitExceeded,
        ErrorKind::PermissionDenied,
        ErrorKind::Storage,
        ErrorKind::Internal,
    ];

    /// The kind as a `snake_case` string (`"limit_exceeded"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Storage => "storage",
            ErrorKind::Internal => "internal",
        }
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal => $kind:ident, )*) => {
        /// A stable error code (`SCREAMING_SNAKE_CASE`, the same string in every language).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $text)] $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order. Retired codes stay here.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code as its stable string (`"SEAT_LIMIT_REACHED"`).
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $text, )* }
            }

            /// The kind this code belongs to.
            pub const fn kind(self) -> ErrorKind {
                match self { $( ErrorCode::$variant => ErrorKind::$kind, )* }
            }

            /// Parses a code from its stable string.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text { $( $text => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    /// One or more fields are invalid; see [`Error::field_errors`].
    ValidationFailed = "VALIDATION_FAILED" => InvalidInput,
    /// The configuration passed by the host is invalid.
    InvalidConfig = "INVALID_CONFIG" => InvalidInput,
    /// The record does not exist, or belongs to another business.
    NotFound = "NOT_FOUND" => NotFound,
    /// A record with the same unique key exists already.
    AlreadyExists = "ALREADY_EXISTS" => AlreadyExists,
    /// The actor may not invite into this business and app.
    PermissionDenied = "PERMISSION_DENIED" => PermissionDenied,
    /// The role is not of the app, or the actor may not grant it.
    RoleNotAssignable = "ROLE_NOT_ASSIGNABLE" => PermissionDenied,
    /// The app is not enabled for the business.
    AppNotEnabled = "APP_NOT_ENABLED" => Conflict,
    /// The subscription has no free seat.
    SeatLimitReached = "SEAT_LIMIT_REACHED" => LimitExceeded,
    /// The subscription is suspended, expired or outside its validity window.
    SubscriptionInactive = "SUBSCRIPTION_INACTIVE" => Conflict,
    /// The invitee holds a seat in the subscription already.
    AlreadyMember = "ALREADY_MEMBER" => AlreadyExists,
    /// A pending invitation for this email and subscription exists already.
    AlreadyInvited = "ALREADY_INVITED" => AlreadyExists,
    /// The invitation expired.
    InvitationExpired = "INVITATION_EXPIRED" => Conflict,
    /// The invitation is no longer pending.
    InvitationNotPending = "INVITATION_NOT_PENDING" => Conflict,
    /// The token is malformed, unknown, used or revoked.
    InvalidToken = "INVALID_TOKEN" => InvalidInput,
    /// The accepting identity does not match the invited email.
    EmailMismatch = "EMAIL_MISMATCH" => PermissionDenied,
    /// A rate or volume limit was hit; see [`Error::retry_after`].
    RateLimited = "RATE_LIMITED" => LimitExceeded,
    /// The idempotency key was used with different parameters.
    IdempotencyConflict = "IDEMPOTENCY_CONFLICT" => Conflict,
    /// The store detected a concurrent conflicting write; retrying may succeed.
    StorageConflict = "STORAGE_CONFLICT" => Storage,
    /// The store cannot be reached or failed.
    StorageUnavailable = "STORAGE_UNAVAILABLE" => Storage,
    /// The store's schema is newer than this library understands.
    SchemaVersionUnsupported = "SCHEMA_VERSION_UNSUPPORTED" => Storage,
    /// The operation is not supported by this adapter or build (a feature it lacks).
    NotSupported = "NOT_SUPPORTED" => Internal,
    /// A bug or an unexpected condition.
    Internal = "INTERNAL" => Internal,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Field-level problem codes carried by `VALIDATION_FAILED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FieldCode {
    /// The field is required.
    #[serde(rename = "REQUIRED")]
    Required,
    /// Not a valid email address.
    #[serde(rename = "INVALID_EMAIL")]
    InvalidEmail,
    /// The email's local part has non-ASCII characters and the host did not enable them.
    #[serde(rename = "NON_ASCII_EMAIL")]
    NonAsciiEmail,
    /// Longer than the field's maximum.
    #[serde(rename = "TOO_LONG")]
    TooLong,
    /// Contains control, bidi-override or otherwise forbidden characters.
    #[serde(rename = "INVALID_CHARACTERS")]
    InvalidCharacters,
    /// The id is not one of the options (missing, malformed or of another business).
    #[serde(rename = "UNKNOWN_OPTION")]
    UnknownOption,
    /// The value is outside its allowed range.
    #[serde(rename = "OUT_OF_RANGE")]
    OutOfRange,
    /// Two fields that exclude each other were both given.
    #[serde(rename = "CONFLICTING")]
    Conflicting,
}

impl FieldCode {
    /// Every field code.
    pub const ALL: &'static [FieldCode] = &[
        FieldCode::Required,
        FieldCode::InvalidEmail,
        FieldCode::NonAsciiEmail,
        FieldCode::TooLong,
        FieldCode::InvalidCharacters,
        FieldCode::UnknownOption,
        FieldCode::OutOfRange,
        FieldCode::Conflicting,
    ];

    /// The code as its stable string.
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldCode::Required => "REQUIRED",
            FieldCode::InvalidEmail => "INVALID_EMAIL",
            FieldCode::NonAsciiEmail => "NON_ASCII_EMAIL",
            FieldCode::TooLong => "TOO_LONG",
            FieldCode::InvalidCharacters => "INVALID_CHARACTERS",
            FieldCode::UnknownOption => "UNKNOWN_OPTION",
            FieldCode::OutOfRange => "OUT_OF_RANGE",
            FieldCode::Conflicting => "CONFLICTING",
        }
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The request field (`"email"`, `"business_id"`, `"rows[3].email"`, …).
    pub field: String,
    /// The stable problem code.
    pub code: FieldCode,
    /// A lowercase human message.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every fallible function in this crate.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    help: Option<String>,
    field_errors: Vec<FieldError>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Source>,
}

impl Error {
    /// An error with a code and a lowercase message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            help: None,
            field_errors: Vec::new(),
            retry_after: None,
            source: None,
        }
    }

    /// `VALIDATION_FAILED` carrying every field problem.
    pub fn validation(field_errors: Vec<FieldError>) -> Self {
        let message = match field_errors.as_slice() {
            [one] => format!("invalid `{}`: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Error {
            field_errors,
            ..Error::new(ErrorCode::ValidationFailed, message)
        }
    }

    /// `NOT_FOUND` for a kind of record.
    pub fn not_found(what: &str) -> Self {
        Error::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// `RATE_LIMITED`, retryable after `retry_after`.
    pub fn rate_limited(message: impl Into<String>, retry_after: Duration) -> Self {
        Error {
            retry_after: Some(retry_after),
            ..Error::new(ErrorCode::RateLimited, message)
        }
    }

    /// `STORAGE_UNAVAILABLE` wrapping a backend error.
    pub fn storage(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        let message = format!("storage failed: {source}");
        Error::new(ErrorCode::StorageUnavailable, message).with_source(source)
    }

    /// `INTERNAL` for a broken invariant.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    /// Says when retrying may succeed (a `RATE_LIMITED` error carried over).
    pub(crate) fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// Adds a help hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The code's kind.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }

    /// The human message (lowercase, no final period).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An extra hint, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The field problems of a `VALIDATION_FAILED` error (empty otherwise).
    pub fn field_errors(&self) -> &[FieldError] {
        &self.field_errors
    }

    /// When to retry a `RATE_LIMITED` error.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether running the same unit of work again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.code == ErrorCode::StorageConflict
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors so that validation reports every problem at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl From<Vec<FieldError>> for FieldErrors {
    fn from(errors: Vec<FieldError>) -> Self {
        FieldErrors(errors)
    }
}

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        FieldErrors::default()
    }

    /// Adds one problem.
    pub fn push(&mut self, field: impl Into<String>, code: FieldCode, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Adds a ready-made problem.
    pub fn add(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value of `result`, recording its error under `field`.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Whether a problem was recorded for `field`.
    pub fn mentions(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, else `VALIDATION_FAILED` with every problem.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(self.0))
        }
    }

    /// The recorded problems.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}
