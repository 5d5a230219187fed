//! Opening a store from a URL taken from configuration.

use std::sync::Arc;

use super::{InMemoryStore, Store};
use crate::error::{Error, ErrorCode, Result};

/// Opens a store by URL: `memory:`; with the `sqlite` feature `sqlite:PATH` or
/// `sqlite::memory:`; with the `postgres` feature `postgres://…` (add `?schema=NAME` to
/// keep the tables in their own schema).
///
/// ```
/// let store = invite_core::store::open("memory:")?;
/// assert_eq!(store.kind(), "memory");
/// # Ok::<(), invite_core::Error>(())
/// ```
pub fn open(url: &str) -> Result<Arc<dyn Store>> {
    let url = url.trim();
    if url == "memory:" || url == "memory://" {
        return Ok(Arc::new(InMemoryStore::new()));
    }
    if url.starts_with("sqlite:") {
        #[cfg(feature = "sqlite")]
        return Ok(Arc::new(super::sqlite::SqliteStore::open_url(url)?));
        #[cfg(not(feature = "sqlite"))]
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            "this build of invite-core has no SQLite store",
        )
        .with_help("enable the `sqlite` cargo feature"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(super::postgres::PostgresStore::open(url)?));
        // Not echoed: the url may carry a password.
        #[cfg(not(feature = "postgres"))]
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            "this build of invite-core has no PostgreSQL store",
        )
        .with_help("enable the `postgres` cargo feature"));
    }
    // Only the scheme is echoed: a url may carry credentials.
    let scheme = url
        .split(':')
        .next()
        .unwrap_or("")
        .chars()
        .take(20)
        .collect::<String>();
    Err(Error::new(
        ErrorCode::InvalidConfig,
        format!("unsupported store url scheme `{scheme}`"),
    )
    .with_help(
        "use `memory:`, `sqlite:PATH` or `postgres://…` (the last two need their cargo features)",
    ))
}
