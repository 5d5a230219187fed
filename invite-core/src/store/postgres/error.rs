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
        return Error::storage(error);
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
    Error::storage(error)
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
