//! Input rules: email canonicalisation, names, bounded text. One place for each rule.

mod email;
mod name;
mod text;

pub(crate) use email::unicode_search_key;
pub use email::{Email, EmailPolicy, fold_search_text};
pub(crate) use name::is_forbidden;
pub use name::{MAX_NAME_CHARS, validate_name};
pub use text::{MAX_LOCALE_LEN, MAX_PLAN_LEN, MAX_TEXT_LEN, bounded_text, validate_locale};
