use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldCode, FieldError};

/// Maximum length of a first or last name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Trims, NFC-normalises and checks a person's name (1–100 characters, at least one that
/// shows, no control, line-separator or bidi-control characters: names reach email
/// headers; no U+FFFD, which marks text that was not valid Unicode, such as a lone
/// surrogate from JavaScript or Python). A name of invisible characters only
/// (zero-width spaces, a Hangul filler, a lone combining mark) is blank: `REQUIRED`.
/// Punctuation shows: `-` or `.`, which people with a single name often give as the
/// other, are names.
pub fn validate_name(raw: &str, field: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    let name: String = if trimmed.is_ascii() {
        trimmed.to_owned()
    } else {
        trimmed.nfc().collect()
    };
    if name.is_empty() {
        return Err(FieldError::new(
            field,
            FieldCode::Required,
            "name is required",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            field,
            FieldCode::TooLong,
            "name is longer than 100 characters",
        ));
    }
    if name.chars().any(is_refused) {
        return Err(FieldError::new(
            field,
            FieldCode::InvalidCharacters,
            "name contains control, direction-override or replacement characters",
        ));
    }
    if !name.chars().any(shows) {
        return Err(FieldError::new(
            field,
            FieldCode::Required,
            "name has no visible character",
        ));
    }
    Ok(name)
}

/// Whether `c` renders as something: not a space, a combining mark on its own, a
/// format character (zero-width space and joiners, word joiner, soft hyphen, tags,
/// variation selectors) nor a Hangul filler (a letter that renders blank).
fn shows(c: char) -> bool {
    !c.is_whitespace()
        && !unicode_normalization::char::is_combining_mark(c)
        && !matches!(
            c,
            '\u{00AD}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether a name or another one-line text field may not hold `c`: a forbidden
/// character, or U+FFFD, which a decoder leaves where its input was not text. Node
/// and the Python binding turn a lone UTF-16 surrogate (which `JSON.parse` and
/// `json.loads` take from `"\\ud800"`) into it, so refusing it here gives every
/// language the same field error for text that was never valid Unicode.
pub(crate) fn is_refused(c: char) -> bool {
    is_forbidden(c) || c == char::REPLACEMENT_CHARACTER
}

/// Control characters (C0, C1 incl. NEL), line/paragraph separators and every bidi control.
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_names_are_blank() {
        for invisible in [
            "\u{200B}",
            "\u{3164}",
            "\u{0301}",
            "\u{2060}\u{00AD}",
            "\u{E0041}",
            "\u{180E}\u{FE0F}",
        ] {
            let err = validate_name(invisible, "first_name").unwrap_err();
            assert_eq!(err.code, FieldCode::Required, "{invisible:?}");
        }
        // Letters of any script, with joiners where a script needs them, are names.
        for name in [
            "Zoë",
            "李",
            "مهر\u{200C}داد",
            "O'Brien",
            "Jean-Luc",
            "X Æ A-12",
            "-",
            ".",
        ] {
            assert!(validate_name(name, "first_name").is_ok(), "{name:?}");
        }
    }

    #[test]
    fn trims_and_normalises() {
        assert_eq!(validate_name("  Zoe\u{0308} ", "f").unwrap(), "Zoë");
    }

    #[test]
    fn rejects_header_breaking_characters() {
        for bad in [
            "A\rB",
            "A\nB",
            "A\0B",
            "A\u{2028}B",
            "A\u{0085}B",
            "A\u{202E}B",
            "A\u{2067}B",
        ] {
            assert_eq!(
                validate_name(bad, "f").unwrap_err().code,
                FieldCode::InvalidCharacters
            );
        }
    }

    #[test]
    fn rejects_the_replacement_character() {
        // What a lone surrogate becomes on its way in from Node or Python.
        for bad in ["Ann\u{FFFD}", "\u{FFFD}"] {
            assert_eq!(
                validate_name(bad, "f").unwrap_err().code,
                FieldCode::InvalidCharacters,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bounds_length() {
        assert_eq!(
            validate_name(" ", "f").unwrap_err().code,
            FieldCode::Required
        );
        assert!(validate_name(&"é".repeat(100), "f").is_ok());
        assert_eq!(
            validate_name(&"é".repeat(101), "f").unwrap_err().code,
            FieldCode::TooLong
        );
    }
}
