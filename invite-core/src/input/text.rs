use crate::error::{FieldCode, FieldError};

use super::name::is_refused;

/// Maximum length of a display name (business, app, role), in characters.
pub const MAX_TEXT_LEN: usize = 200;
/// Maximum length of a plan name, in characters.
pub const MAX_PLAN_LEN: usize = 100;
/// Maximum length of a locale tag.
pub const MAX_LOCALE_LEN: usize = 35;

/// Trims and bounds a one-line text field (1..=`max` characters, no control characters
/// and no U+FFFD, which marks text that was not valid Unicode).
pub fn bounded_text(raw: &str, field: &str, max: usize) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(
            field,
            FieldCode::Required,
            format!("{field} is required"),
        ));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            FieldCode::TooLong,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if text.chars().any(is_refused) {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidCharacters,
            format!("{field} contains control or replacement characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Checks a BCP 47-style locale tag (`en`, `pt-BR`): letters, digits and `-`, ≤ 35.
pub fn validate_locale(raw: &str, field: &str) -> Result<String, FieldError> {
    let tag = raw.trim();
    if tag.len() > MAX_LOCALE_LEN {
        return Err(FieldError::new(
            field,
            FieldCode::TooLong,
            "locale is longer than 35 characters",
        ));
    }
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidCharacters,
            "locale is not a language tag",
        ));
    }
    Ok(tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_and_the_replacement_character() {
        for bad in ["Acme\nCorp", "Acme\u{202E}", "Acme \u{FFFD}"] {
            let err = bounded_text(bad, "name", MAX_TEXT_LEN).unwrap_err();
            assert_eq!(err.code, FieldCode::InvalidCharacters, "{bad:?}");
        }
        assert_eq!(
            bounded_text(" Acme ", "name", MAX_TEXT_LEN).unwrap(),
            "Acme"
        );
    }
}
