//! PostgreSQL errors to stable codes.
//!
//! | SQLSTATE | code |
//! |---|---|
//! | `40001` serialization failure, `40P01` deadlock | `STORAGE_CONFLICT` (the service retries) |
//! | `23505` on the one-pending-invitation index | `STORAGE_CONFLICT`: a concurrent send won; the retry answers `ALREADY_INVITED` |
//! | `23505` elsewhere | `ALREADY_EXISTS` |
//! | anything else, no SQLSTATE (I/O, closed connection), pool timeout | `STORAGE_UNAVAILABLE` |
//!
//! Inserts do not normally raise `23505`: they use `ON CONFLICT DO NOTHING` and decide
//! between `ALREADY_EXISTS` and `STORAGE_CONFLICT` themselves (see `tx.rs`), so that a
//! duplicate does not abort the transaction.

use postgres::error::SqlState;

use crate::error::{Error, ErrorCode};

/// The partial unique index behind "one pending invitation per (business,
/// subscription, email key)".
pub(super) const ONE_PENDING_INDEX: &str = "invitations_one_pending";

/// Maps a driver error to the crate's error.
pub(super) fn map(error: postgres::Error) -> Error {
    let Some(state) = error.code() else {
        return unavailable(error);
    };
    if *state == SqlState::T_R_SERIALIZATION_FAILURE || *state == SqlState::T_R_DEADLOCK_DETECTED {
        return conflict("a concurrent transaction changed the same rows").with_source(error);
    }
    // A `lock_timeout` that ran out: another transaction holds the rows, as SQLite's busy
    // timeout; retrying may succeed.
    if *state == SqlState::LOCK_NOT_AVAILABLE {
        return conflict("another transaction holds the rows this one needs").with_source(error);
    }
    if *state == SqlState::UNIQUE_VIOLATION {
        let constraint = error.as_db_error().and_then(|db| db.constraint());
        if constraint == Some(ONE_PENDING_INDEX) {
            return conflict("a concurrent transaction created a pending invitation")
                .with_source(error);
        }
        return Error::new(
            ErrorCode::AlreadyExists,
            "a record with this key already exists",
        )
        .with_source(error);
    }
    unavailable(error)
}

/// `STORAGE_UNAVAILABLE` naming what the server said: the driver's own text for a
/// server error is only "db error".
pub(super) fn unavailable(error: postgres::Error) -> Error {
    Error::new(
        ErrorCode::StorageUnavailable,
        format!("storage failed: {}", describe(&error)),
    )
    .with_source(error)
}

/// The server's error (severity, SQLSTATE, message) or the driver's text.
pub(super) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => error.to_string(),
    }
}

/// Whether `error` says the server ended this connection (an administrator's
/// `pg_terminate_backend`, a shutdown, a crash of another backend): the connection is
/// dead even if the driver has not noticed yet.
pub(super) fn ends_connection(error: &postgres::Error) -> bool {
    error.code().is_some_and(|state| {
        *state == SqlState::ADMIN_SHUTDOWN
            || *state == SqlState::CRASH_SHUTDOWN
            || *state == SqlState::CANNOT_CONNECT_NOW
    })
}

/// A first connection refused for a reason retrying cannot fix (the database, the
/// role or its password): `INVALID_CONFIG` with the server's words; anything else
/// (the server down or unreachable) `STORAGE_UNAVAILABLE`.
pub(super) fn connect_failed(error: postgres::Error) -> Error {
    let settings = error.code().is_some_and(|state| {
        *state == SqlState::INVALID_CATALOG_NAME
            || *state == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            || *state == SqlState::INVALID_PASSWORD
    });
    if settings {
        let message = format!("PostgreSQL refused the connection: {}", describe(&error));
        return Error::new(ErrorCode::InvalidConfig, message)
            .with_source(error)
            .with_help("check the database, user and password in the connection url");
    }
    unavailable(error).with_help("check that PostgreSQL is running and reachable")
}

/// `STORAGE_CONFLICT`: retrying the unit of work may succeed.
pub(super) fn conflict(message: &str) -> Error {
    Error::new(ErrorCode::StorageConflict, message.to_owned())
}

/// `ALREADY_EXISTS` for a kind of record.
pub(super) fn already_exists(what: &str) -> Error {
    Error::new(ErrorCode::AlreadyExists, format!("{what} already exists"))
}

/// `INTERNAL` for a row the schema should not allow.
pub(super) fn bad_row(what: &str) -> Error {
    Error::internal(format!("unreadable {what} row in the database"))
}
