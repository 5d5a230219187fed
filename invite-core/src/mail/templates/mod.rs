//! The built-in email templates: one layout, one set of sentences per language.
//!
//! Every value from [`EmailContext`] is plain text. The renderer makes each one-line
//! value safe before any language sees it: characters that could break a header or
//! reorder text (controls, line separators, bidi controls) become U+FFFD, and the HTML
//! body gets the values HTML-escaped. So a language module only arranges words.

mod de;
mod en;
mod fr;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute, encode_text};
use serde::{Deserialize, Serialize};

/// What a template may use. Every value is plain text; HTML renderers must escape it.
/// `Debug` does not show the accept link (it carries the token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContext {
    /// The inviter's name.
    pub inviter_name: String,
    /// The invitee's name, if known.
    pub invitee_name: Option<String>,
    /// The business.
    pub business_name: String,
    /// The app.
    pub app_name: String,
    /// The role granted.
    pub role_name: String,
    /// When the link expires.
    pub expires_at: DateTime<Utc>,
    /// The accept link.
    pub accept_link: String,
    /// The requested locale (`None`: the default).
    pub locale: Option<String>,
}

/// A rendered email body. `Debug` does not show the bodies (they carry the link).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    /// Subject (one line).
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
    /// The locale actually used.
    pub locale: String,
}

impl std::fmt::Debug for EmailContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailContext")
            .field("inviter_name", &self.inviter_name)
            .field("invitee_name", &self.invitee_name)
            .field("business_name", &self.business_name)
            .field("app_name", &self.app_name)
            .field("role_name", &self.role_name)
            .field("expires_at", &self.expires_at)
            .field("accept_link", &crate::token::REDACTED)
            .field("locale", &self.locale)
            .finish()
    }
}

impl std::fmt::Debug for RenderedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("subject", &self.subject)
            .field("text", &crate::token::REDACTED)
            .field("html", &crate::token::REDACTED)
            .field("locale", &self.locale)
            .finish()
    }
}

/// Renders invitation emails; the host can replace [`DefaultTemplates`].
pub trait EmailRenderer: Send + Sync {
    /// Renders the email for `context`.
    fn render(&self, context: &EmailContext) -> RenderedEmail;
}

/// The built-in templates in English (`en`, the default), French (`fr`) and German
/// (`de`). The language comes from the context's locale by its primary subtag (`fr`,
/// `fr-CA` and `FR_ca` are French); an unknown or missing locale is English.
/// [`RenderedEmail::locale`] names the language actually used.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultTemplates;

impl DefaultTemplates {
    /// The language codes these templates speak, the default first.
    pub const LANGUAGES: &'static [&'static str] = &["en", "fr", "de"];

    /// The language used for a requested locale (`"fr-CA"` → `"fr"`, unknown → `"en"`).
    pub fn language_for(locale: Option<&str>) -> &'static str {
        Language::for_locale(locale).code
    }
}

impl EmailRenderer for DefaultTemplates {
    fn render(&self, c: &EmailContext) -> RenderedEmail {
        let language = Language::for_locale(c.locale.as_deref());
        let plain = OwnedValues::plain(c, language);
        let words = (language.words)(&plain.borrow());
        let text = [
            &words.greeting,
            "\n\n",
            &words.invited,
            "\n\n",
            words.action,
            language.colon,
            "\n",
            &c.accept_link,
            "\n\n",
            &words.expiry,
            " ",
            words.ignore,
            "\n",
        ]
        .concat();
        let html_words = (language.words)(&plain.html().borrow());
        let html = [
            "<!doctype html><html lang=\"",
            language.code,
            "\"><body><p>",
            &html_words.greeting,
            "</p><p>",
            &html_words.invited,
            "</p><p><a href=\"",
            &encode_double_quoted_attribute(&c.accept_link),
            "\">",
            html_words.action,
            "</a></p><p>",
            &html_words.expiry,
            " ",
            html_words.ignore,
            "</p></body></html>",
        ]
        .concat();
        RenderedEmail {
            subject: words.subject,
            text,
            html,
            locale: language.code.to_owned(),
        }
    }
}

/// One language: its code, how it writes a date and its sentences.
#[derive(Clone, Copy)]
struct Language {
    /// ISO 639-1 code (`RenderedEmail::locale`).
    code: &'static str,
    /// The colon that introduces the link, with the space this language puts before it.
    colon: &'static str,
    /// The expiry instant as this language writes it.
    date: fn(DateTime<Utc>) -> String,
    /// The sentences, from values already made safe for the output (text or HTML).
    words: fn(&Values<'_>) -> Words,
}

impl Language {
    const ALL: [Language; 3] = [en::ENGLISH, fr::FRENCH, de::GERMAN];

    fn for_locale(locale: Option<&str>) -> Language {
        let primary = locale
            .and_then(|l| l.trim().split(['-', '_']).next())
            .unwrap_or("");
        Language::ALL
            .into_iter()
            .find(|lang| lang.code.eq_ignore_ascii_case(primary))
            .unwrap_or(en::ENGLISH)
    }
}

/// The values a language arranges, each already safe for where it goes (one line; and
/// escaped and emphasised for HTML).
struct Values<'a> {
    inviter: &'a str,
    invitee: Option<&'a str>,
    business: &'a str,
    app: &'a str,
    role: &'a str,
    expires: &'a str,
}

/// Owned values: the one-line plain forms, or their HTML forms (borrowed from the
/// context, or from the plain forms, wherever nothing had to change).
struct OwnedValues<'a> {
    inviter: Cow<'a, str>,
    invitee: Option<Cow<'a, str>>,
    business: Cow<'a, str>,
    app: Cow<'a, str>,
    role: Cow<'a, str>,
    expires: Cow<'a, str>,
}

impl<'a> OwnedValues<'a> {
    /// One-line plain values (forbidden characters replaced).
    fn plain(c: &'a EmailContext, language: Language) -> OwnedValues<'a> {
        OwnedValues {
            inviter: one_line(&c.inviter_name),
            invitee: c.invitee_name.as_deref().map(one_line),
            business: one_line(&c.business_name),
            app: one_line(&c.app_name),
            role: one_line(&c.role_name),
            expires: Cow::Owned((language.date)(c.expires_at)),
        }
    }

    /// HTML forms of plain values: escaped, and the app, business and role in bold.
    fn html(&self) -> OwnedValues<'_> {
        let bold = |s: &str| Cow::Owned(["<b>", &encode_text(s), "</b>"].concat());
        OwnedValues {
            inviter: encode_text(&self.inviter),
            invitee: self.invitee.as_deref().map(encode_text),
            business: bold(&self.business),
            app: bold(&self.app),
            role: bold(&self.role),
            expires: encode_text(&self.expires),
        }
    }

    fn borrow(&self) -> Values<'_> {
        Values {
            inviter: &self.inviter,
            invitee: self.invitee.as_deref(),
            business: &self.business,
            app: &self.app,
            role: &self.role,
            expires: &self.expires,
        }
    }
}

/// A date line: each part is a number, its zero-padded width and the text after it
/// (`[(2026, 4, "-"), (7, 2, "")]` is `2026-07`). It writes what `format!("{:04}")`
/// writes at a fraction of the cost: padding through `format!` cost more than the rest
/// of a default email.
fn date_line(parts: &[(i64, u32, &str)]) -> String {
    let mut line = String::with_capacity(32);
    for &(value, width, after) in parts {
        push_padded(&mut line, value, width);
        line.push_str(after);
    }
    line
}

/// Appends `value` in decimal, zero-padded to `width` characters (a minus sign counts
/// as one, as in `format!`).
fn push_padded(line: &mut String, value: i64, width: u32) {
    if value < 0 {
        line.push('-');
    }
    let magnitude = value.unsigned_abs();
    let digits = magnitude.checked_ilog10().map_or(1, |log| log + 1);
    let width = width.saturating_sub(u32::from(value < 0));
    for place in (0..digits.max(width)).rev() {
        let digit = 10u64
            .checked_pow(place)
            .map_or(0, |unit| magnitude / unit % 10);
        line.extend(char::from_digit(u32::try_from(digit).unwrap_or(0), 10));
    }
}

/// The sentences of one email.
struct Words {
    subject: String,
    greeting: String,
    invited: String,
    action: &'static str,
    expiry: String,
    ignore: &'static str,
}

/// A value fit for one line of a header or a sentence: every control, line-separator
/// and bidi-control character becomes U+FFFD (so hostile host data shows as such
/// instead of breaking a header or reordering text).
fn one_line(value: &str) -> Cow<'_, str> {
    if !value.chars().any(is_forbidden_char) {
        return Cow::Borrowed(value);
    }
    value
        .chars()
        .map(|c| if is_forbidden_char(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// The characters names may not contain (the same set as the input rules): C0 and C1
/// controls (CR, LF, NUL, NEL, …), line and paragraph separators and bidi controls.
pub(crate) fn is_forbidden_char(c: char) -> bool {
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
    fn picks_the_language_by_primary_subtag() {
        for (locale, code) in [
            (None, "en"),
            (Some("en"), "en"),
            (Some("en-GB"), "en"),
            (Some("fr"), "fr"),
            (Some("fr-CA"), "fr"),
            (Some("FR_ca"), "fr"),
            (Some("de-AT"), "de"),
            (Some("pt-BR"), "en"),
            (Some(""), "en"),
            (Some("-fr"), "en"),
        ] {
            assert_eq!(DefaultTemplates::language_for(locale), code, "{locale:?}");
        }
    }

    proptest::proptest! {
        /// A date line pads as `format!` does, signs and all.
        #[test]
        fn date_lines_pad_as_format_does(value in proptest::num::i64::ANY, width in 0u32..24) {
            let padded = date_line(&[(value, width, "|")]);
            let w = width as usize;
            proptest::prop_assert_eq!(padded, format!("{value:0w$}|"));
        }
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!((en::ENGLISH.date)(at), "2026-03-04 05:06 UTC");
        assert_eq!((fr::FRENCH.date)(at), "04/03/2026 à 05:06 UTC");
        assert_eq!((de::GERMAN.date)(at), "04.03.2026 um 05:06 UTC");
    }

    #[test]
    fn one_line_replaces_header_breaking_characters() {
        assert_eq!(
            one_line("a\r\nb\u{2028}c\u{202E}d\0"),
            "a\u{FFFD}\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}"
        );
    }
}
