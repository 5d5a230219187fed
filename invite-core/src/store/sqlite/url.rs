//! `sqlite:` URLs: `sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:`, with an optional
//! query of `journal_mode=wal|delete`, `synchronous=off|normal|full`, `busy_timeout_ms=N`
//! `wal_autocheckpoint=PAGES` and `page_size=BYTES` (a new file's), joined by `&`.
//!
//! Everything after `sqlite:` (or `sqlite://`) up to the first `?` is the path, taken
//! as is (no percent-decoding): `sqlite:///var/lib/app.db` and `sqlite:/var/lib/app.db`
//! name the same file, `sqlite://app.db` and `sqlite:app.db` a file relative to the
//! working directory. An unknown, repeated or malformed parameter is `INVALID_CONFIG`.

use std::path::PathBuf;
use std::time::Duration;

use super::options::{
    JournalMode, MAX_WAL_AUTOCHECKPOINT, SqliteOptions, Synchronous, check_page_size,
};
use crate::error::{Error, ErrorCode, Result};

/// Where a `sqlite:` URL points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqliteLocation {
    /// A private in-memory database (`sqlite::memory:`), gone with the store.
    Memory,
    /// A database file (created if missing).
    File(PathBuf),
}

/// A parsed `sqlite:` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteUrl {
    /// The database.
    pub location: SqliteLocation,
    /// The options from the query (defaults for those not given).
    pub options: SqliteOptions,
}

const HELP: &str = "use `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:`, optionally with \
     `?journal_mode=wal|delete&synchronous=off|normal|full&busy_timeout_ms=N&wal_autocheckpoint=PAGES&page_size=BYTES`";

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidConfig, message).with_help(HELP)
}

impl SqliteUrl {
    /// Parses a `sqlite:` URL; `INVALID_CONFIG` if it is not one or is malformed.
    pub fn parse(url: &str) -> Result<SqliteUrl> {
        let url = url.trim();
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(invalid(format!("`{url}` is not a sqlite: url")));
        };
        let (target, query) = match rest.split_once('?') {
            Some((target, query)) => (target, Some(query)),
            None => (rest, None),
        };
        let location = match target {
            ":memory:" | "//:memory:" => SqliteLocation::Memory,
            _ => {
                let path = target.strip_prefix("//").unwrap_or(target);
                if path.is_empty() {
                    return Err(invalid(format!("`{url}` names no database file")));
                }
                SqliteLocation::File(PathBuf::from(path))
            }
        };
        let options = match query {
            Some(query) => parse_query(query)?,
            None => SqliteOptions::default(),
        };
        Ok(SqliteUrl { location, options })
    }
}

fn parse_query(query: &str) -> Result<SqliteOptions> {
    let mut options = SqliteOptions::default();
    let mut seen: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(invalid(format!(
                "sqlite url parameter `{pair}` has no value"
            )));
        };
        if seen.contains(&name) {
            return Err(invalid(format!(
                "sqlite url parameter `{name}` is repeated"
            )));
        }
        seen.push(name);
        let bad_value = || invalid(format!("`{value}` is not a valid `{name}`"));
        options = match name {
            "journal_mode" => {
                options.with_journal_mode(JournalMode::parse(value).ok_or_else(bad_value)?)
            }
            "synchronous" => {
                options.with_synchronous(Synchronous::parse(value).ok_or_else(bad_value)?)
            }
            "busy_timeout_ms" => {
                let ms: u64 = value.parse().map_err(|_| bad_value())?;
                options.with_busy_timeout(Duration::from_millis(ms))
            }
            "wal_autocheckpoint" => {
                let pages: u32 = value.parse().map_err(|_| bad_value())?;
                if pages > MAX_WAL_AUTOCHECKPOINT {
                    return Err(bad_value());
                }
                options.with_wal_autocheckpoint(pages)
            }
            "page_size" => {
                let bytes: u32 = value.parse().map_err(|_| bad_value())?;
                options.with_page_size(check_page_size(bytes).map_err(|_| bad_value())?)
            }
            _ => return Err(invalid(format!("unknown sqlite url parameter `{name}`"))),
        };
    }
    Ok(options)
}
