//! Mapping SQLite failures onto the port's error codes.

use rusqlite::ffi;

use crate::error::{Error, ErrorCode};

/// `SQLITE_BUSY`/`SQLITE_LOCKED` that outlived the busy timeout become `STORAGE_CONFLICT`
/// (the service retries those); unique-key violations become `ALREADY_EXISTS`; rows
/// that do not decode are `INTERNAL`; everything else is `STORAGE_UNAVAILABLE`.
pub(super) fn map(error: rusqlite::Error) -> Error {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked => conflict(error),
            ffi::ErrorCode::ConstraintViolation
                if matches!(
                    failure.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                Error::new(
                    ErrorCode::AlreadyExists,
                    "a record with this key already exists",
                )
                .with_source(error)
            }
            _ => Error::storage(error),
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            let message = format!("a stored row could not be read: {error}");
            Error::internal(message).with_source(error)
        }
        _ => Error::storage(error),
    }
}

/// `STORAGE_CONFLICT` wrapping a busy or locked database.
pub(super) fn conflict(error: rusqlite::Error) -> Error {
    Error::new(
        ErrorCode::StorageConflict,
        "the database is busy with another writer; retry",
    )
    .with_source(error)
}

/// `STORAGE_CONFLICT` after waiting `busy_timeout` for this process's write connection.
pub(super) fn pool_timeout() -> Error {
    Error::new(
        ErrorCode::StorageConflict,
        "timed out waiting for a database connection; retry",
    )
}

/// Extension to map rusqlite results in one call.
pub(super) trait SqlResultExt<T> {
    /// Maps the error with [`map`].
    fn db(self) -> crate::error::Result<T>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn db(self) -> crate::error::Result<T> {
        self.map_err(map)
    }
}
