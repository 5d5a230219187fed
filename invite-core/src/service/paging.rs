use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldCode, FieldError, Result};

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

    /// Decodes the cursor into its parts (`None` for the first page).
    pub(crate) fn decode(&self) -> Result<Option<(String, String)>> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bad = || {
            Error::validation(vec![FieldError::new(
                "cursor",
                FieldCode::UnknownOption,
                "cursor is not valid",
            )])
        };
        if cursor.len() > 2048 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (a, b) = text.split_once('\n').ok_or_else(bad)?;
        Ok(Some((a.to_owned(), b.to_owned())))
    }
}

pub(crate) fn encode_cursor(a: &str, b: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{a}\n{b}"))
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
