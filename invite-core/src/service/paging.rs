use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldCode, FieldError, Result};

/// Longest cursor read back. A user-search cursor carries the folded search key it
/// resumes after: a 100-character name can fold (NFKC) to 18 times as many characters
/// (a few KB of UTF-8), and base64 adds a third; 16 KiB leaves room for any of them.
const MAX_CURSOR_LEN: usize = 16 * 1024;

/// Largest page a caller can ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Which page to read: an opaque cursor from the previous page and a size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// `next_cursor` of the previous page; `None` for the first.
    pub cursor: Option<String>,
    /// Items per page (1–500; default 50).
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            cursor: None,
            limit: Some(limit),
        }
    }

    /// The page after `cursor`.
    pub fn after(cursor: impl Into<String>, limit: u32) -> Self {
        PageRequest {
            cursor: Some(cursor.into()),
            limit: Some(limit),
        }
    }

    pub(crate) fn size(&self) -> Result<usize> {
        match self.limit {
            None => Ok(DEFAULT_PAGE_SIZE as usize),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n as usize),
            Some(_) => Err(Error::validation(vec![FieldError::new(
                "limit",
                FieldCode::OutOfRange,
                "page size must be between 1 and 500",
            )])),
        }
    }

    /// Decodes the cursor of `listing` into its parts (`None` for the first page); a
    /// cursor another listing wrote is `bad_cursor`.
    pub(crate) fn decode(&self, listing: Listing) -> Result<Option<(String, String)>> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(bad_cursor());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
        let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
        let (tag, rest) = text.split_once('\n').ok_or_else(bad_cursor)?;
        if tag != listing.tag() {
            return Err(bad_cursor());
        }
        let (a, b) = rest.split_once('\n').ok_or_else(bad_cursor)?;
        Ok(Some((a.to_owned(), b.to_owned())))
    }

    /// The id the cursor of `listing` resumes after, for lists ordered by id (`None` for
    /// the first page).
    pub(crate) fn after_id<T: std::str::FromStr>(&self, listing: Listing) -> Result<Option<T>> {
        match self.decode(listing)? {
            Some((id, _)) => id.parse().map(Some).map_err(|_| bad_cursor()),
            None => Ok(None),
        }
    }
}

/// The listing a cursor belongs to, written into it: the next page of invitations
/// cannot be read with a cursor of events (both are ordered by time-ordered ids, so it
/// would silently skip items).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listing {
    Invitations,
    Events,
    Memberships,
    Users,
}

impl Listing {
    fn tag(self) -> &'static str {
        match self {
            Listing::Invitations => "invitations",
            Listing::Events => "events",
            Listing::Memberships => "memberships",
            Listing::Users => "users",
        }
    }
}

/// `VALIDATION_FAILED` with `cursor` / `UNKNOWN_OPTION`: a cursor this library did not
/// write.
pub(crate) fn bad_cursor() -> Error {
    Error::validation(vec![FieldError::new(
        "cursor",
        FieldCode::UnknownOption,
        "cursor is not valid",
    )])
}

pub(crate) fn encode_cursor(listing: Listing, a: &str, b: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\n{a}\n{b}", listing.tag()))
}

/// The cursor of the page after `items` (a full page of `limit`), for lists ordered by
/// the id `id` gives; `None` after the last page.
pub(crate) fn next_cursor<T>(
    listing: Listing,
    items: &[T],
    limit: usize,
    id: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() < limit {
        None
    } else {
        items
            .last()
            .map(|last| encode_cursor(listing, &id(last), ""))
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
