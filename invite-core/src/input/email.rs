use email_address::{EmailAddress, Options};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldCode, FieldError};

use super::name::is_refused;

const MAX_LOCAL_OCTETS: usize = 64;
const MAX_EMAIL_OCTETS: usize = 254;

/// Which addresses the host accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPolicy {
    /// Accept non-ASCII local parts (RFC 6531). Off by default: many mail systems
    /// mishandle them and they open homograph confusion.
    pub allow_non_ascii_local_part: bool,
}

/// A validated email: the address as entered (trimmed, mail goes here) and its
/// canonical key (used for every comparison, never for sending).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    address: String,
    key: String,
}

impl Email {
    /// Validates and canonicalises an address; `field` names the request field in errors.
    pub fn parse(raw: &str, field: &str, policy: EmailPolicy) -> Result<Email, FieldError> {
        let invalid = |code, message: &str| FieldError::new(field, code, message);
        let address = raw.trim();
        if address.is_empty() {
            return Err(invalid(FieldCode::Required, "email is required"));
        }
        if address.len() > MAX_EMAIL_OCTETS {
            return Err(invalid(
                FieldCode::TooLong,
                "email is longer than 254 octets",
            ));
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(invalid(
                FieldCode::InvalidEmail,
                "email is not a valid address",
            ));
        };
        if address.chars().any(is_refused) {
            // What names refuse, for the same reasons: control characters (the C1 ones,
            // NEL among them, pass the address syntax in a non-ASCII local part), line
            // separators and bidi controls break or disguise the `To` header; U+FFFD
            // marks text that was not valid Unicode (a lone surrogate from JavaScript or
            // Python). No mailbox is named with any of them.
            return Err(invalid(
                FieldCode::InvalidEmail,
                "email contains control, bidi or replacement characters",
            ));
        }
        if local.starts_with('"') || local.contains('\\') {
            // Quoted local parts are valid RFC 5322 but read differently by different
            // mail software (a display name to some); no invitee needs one.
            return Err(invalid(
                FieldCode::InvalidEmail,
                "quoted email addresses are not accepted",
            ));
        }
        if address.contains("=?") {
            // `=?` opens an RFC 2047 encoded-word. It is allowed in an address, but mail
            // parsers decode it in a `To` header (one read `=?utf-8?q?a?=@example.com`
            // as a display name with no address), so readers would not see the
            // recipient that was accepted.
            return Err(invalid(
                FieldCode::InvalidEmail,
                "email addresses containing \"=?\" are not accepted",
            ));
        }
        if local.len() > MAX_LOCAL_OCTETS {
            return Err(invalid(
                FieldCode::TooLong,
                "email local part is longer than 64 octets",
            ));
        }
        if EmailAddress::parse_with_options(address, strict_options()).is_err() {
            return Err(invalid(
                FieldCode::InvalidEmail,
                "email is not a valid address",
            ));
        }
        if !local.is_ascii() && !policy.allow_non_ascii_local_part {
            return Err(invalid(
                FieldCode::NonAsciiEmail,
                "email addresses with non-ascii characters before the @ are not accepted",
            ));
        }
        let Some(ascii_domain) = host_name(domain) else {
            return Err(invalid(
                FieldCode::InvalidEmail,
                "email domain is not a host name",
            ));
        };
        let key = format!("{}@{}", fold_local_part(local), ascii_domain.to_lowercase());
        Ok(Email {
            address: address.to_owned(),
            key,
        })
    }

    /// The address as entered (trimmed): where mail is sent.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The canonical key: NFKC + casefold local part, lowercase punycode domain.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Splits into (address, key).
    pub fn into_parts(self) -> (String, String) {
        (self.address, self.key)
    }
}

/// The crate's strictest parse: no display text (`Ann <a@b.com>`), no domain literal
/// (`a@[127.0.0.1]`), a dot in the domain. Whatever it accepts, the crate's default
/// parse accepts too.
fn strict_options() -> Options {
    Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal()
}

/// The domain as a mail host name, in lowercase punycode, or `None`. The address syntax
/// lets through domains no mail can reach (`exa_mple.com`, `ex*ample.com`, `1.2.3.4`);
/// this takes what DNS names a host: labels of letters, digits and inner hyphens after
/// IDNA mapping (UTS 46 with the STD3 rules), 1 to 63 octets each, at least two of them,
/// and a top-level label that is not all digits (RFC 3696, section 2: an IP address is
/// written as a bracketed literal, which is refused).
fn host_name(domain: &str) -> Option<String> {
    let ascii = Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Verify,
        )
        .ok()?;
    let (_, top) = ascii.rsplit_once('.')?;
    (!top.bytes().all(|b| b.is_ascii_digit())).then(|| ascii.into_owned())
}

/// NFKC, full Unicode case folding, NFKC again (the NFKC_Casefold closure in practice).
fn fold_local_part(local: &str) -> String {
    if local.is_ascii() {
        return local.to_ascii_lowercase();
    }
    let nfkc: String = local.nfkc().collect();
    caseless::default_case_fold_str(&nfkc).nfkc().collect()
}

/// The search key of an address whose domain has IDN labels, as people type it: the
/// canonical key with its domain in Unicode, folded (`anna@bücher.example` for the key
/// `anna@xn--bcher-kva.example`). `None` when no label of the domain is punycode (the
/// key is then already the address as typed, folded), or when it does not decode.
pub(crate) fn unicode_search_key(key: &str) -> Option<String> {
    let (local, domain) = key.rsplit_once('@')?;
    if !domain.split('.').any(|label| label.starts_with("xn--")) {
        return None;
    }
    let (unicode, decoded) = idna::domain_to_unicode(domain);
    decoded.ok()?;
    let shown = fold_search_text(&format!("{local}@{unicode}"));
    (shown != key).then_some(shown)
}

/// Folds free text (a search query, a name) the way email keys are folded: NFKC +
/// casefold. No validation.
pub fn fold_search_text(text: &str) -> String {
    let text = text.trim();
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let nfkc: String = text.nfkc().collect();
    caseless::default_case_fold_str(&nfkc).nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        Email::parse(raw, "email", EmailPolicy::default())
            .unwrap()
            .key()
            .to_owned()
    }

    fn code(raw: &str) -> FieldCode {
        Email::parse(raw, "email", EmailPolicy::default())
            .unwrap_err()
            .code
    }

    #[test]
    fn keeps_the_address_and_folds_the_key() {
        let email =
            Email::parse("  Ann.Lee@Example.COM ", "email", EmailPolicy::default()).unwrap();
        assert_eq!(email.address(), "Ann.Lee@Example.COM");
        assert_eq!(email.key(), "ann.lee@example.com");
    }

    #[test]
    fn idn_and_punycode_domains_compare_equal() {
        assert_eq!(key("a@bücher.example"), key("a@xn--bcher-kva.example"));
        assert_eq!(key("a@BÜCHER.example"), key("a@xn--bcher-kva.example"));
    }

    #[test]
    fn an_idn_key_has_a_unicode_search_key_whichever_form_was_entered() {
        let shown = Some("anna@bücher.example".to_owned());
        assert_eq!(unicode_search_key(&key("Anna@BÜCHER.example")), shown);
        assert_eq!(
            unicode_search_key(&key("anna@xn--bcher-kva.example")),
            shown
        );
        // Folded as a query is: ß folds to ss in both.
        assert_eq!(
            unicode_search_key(&key("a@straße.example")).as_deref(),
            Some(fold_search_text("a@STRASSE.example").as_str())
        );
        assert_eq!(unicode_search_key(&key("ann@example.com")), None);
        assert_eq!(unicode_search_key(&key("ann@xn.example")), None);
    }

    #[test]
    fn rejects_bad_addresses_with_codes() {
        assert_eq!(code(""), FieldCode::Required);
        assert_eq!(code("not-an-email"), FieldCode::InvalidEmail);
        assert_eq!(code("a@b"), FieldCode::InvalidEmail);
        assert_eq!(code("Ann <a@b.com>"), FieldCode::InvalidEmail);
        assert_eq!(code("a@[127.0.0.1]"), FieldCode::InvalidEmail);
        assert_eq!(
            code(&format!("{}@x.com", "a".repeat(65))),
            FieldCode::TooLong
        );
        assert_eq!(
            code(&format!("a@{}.com", "b".repeat(260))),
            FieldCode::TooLong
        );
        assert_eq!(code("mıke@x.com"), FieldCode::NonAsciiEmail);
        assert_eq!(code("\"&a\"@example.com"), FieldCode::InvalidEmail);
        assert_eq!(code("\"a b\"@example.com"), FieldCode::InvalidEmail);
        for encoded_word in [
            "=?utf-8?q?abc?=@example.com",
            "=?utf-8?b?YWJj?=@example.com",
            "a=?b@example.com",
            "=?0ymOPZ$OiCe@elom.e8?Q?0.bp?=?DDQm.e",
        ] {
            assert_eq!(
                code(encoded_word),
                FieldCode::InvalidEmail,
                "{encoded_word}"
            );
        }
        assert_eq!(key("a?=b@example.com"), "a?=b@example.com");
    }

    #[test]
    fn the_domain_must_be_a_host_name() {
        for not_a_host in [
            "a@exa_mple.com",
            "a@ex*ample.com",
            "a@ex!ample.com",
            "a@ex$ample.com",
            "a@ex'ample.com",
            "a@example.com_",
            // Fullwidth low line: IDNA maps it to `_`.
            "a@example\u{FF3F}.com",
            "a@1.2.3.4",
            "a@example.123",
            // A label is at most 63 octets in punycode, which lengthens this one.
            &format!("a@{}.com", "ü".repeat(60)),
        ] {
            assert_eq!(code(not_a_host), FieldCode::InvalidEmail, "{not_a_host}");
        }
        for host in [
            "a@ab--cd.com",
            "a@1example.com",
            "a@example.c0m",
            "a@x-1.example",
            "a@EXAMPLE.COM",
            "a@\u{FF25}xample.com",
            "a@b\u{FC}cher.de",
            &format!("a@{}.com", "b".repeat(63)),
        ] {
            assert!(
                Email::parse(host, "email", EmailPolicy::default()).is_ok(),
                "{host}"
            );
        }
        assert_eq!(key("a@\u{FF25}xample.com"), "a@example.com");
    }

    proptest::proptest! {
        /// One parse is enough: the strict one accepts nothing the default one refuses.
        #[test]
        fn the_strict_parse_accepts_nothing_the_default_refuses(
            raw in "[a-z<>\\[\\]\" .()]{0,6}@[a-z0-9<>\\[\\]. -]{0,10}"
        ) {
            if EmailAddress::parse_with_options(&raw, strict_options()).is_ok() {
                proptest::prop_assert!(raw.parse::<EmailAddress>().is_ok(), "{raw:?}");
            }
        }
    }

    #[test]
    fn non_ascii_local_parts_fold_when_enabled() {
        let policy = EmailPolicy {
            allow_non_ascii_local_part: true,
        };
        let k = |raw: &str| Email::parse(raw, "email", policy).unwrap().key().to_owned();
        assert_ne!(k("mike@x.com"), k("mıke@x.com"));
        assert_eq!(k("\u{212A}im@x.com"), k("kim@x.com"));
        assert_eq!(k("ｍｉｋｅ@x.com"), k("mike@x.com"));
    }

    #[test]
    fn control_bidi_and_replacement_characters_are_no_address_under_either_policy() {
        let lenient = EmailPolicy {
            allow_non_ascii_local_part: true,
        };
        for raw in [
            "a\u{FFFD}@x.com",
            "a@x\u{FFFD}.com",
            "\u{FFFD}@x.com",
            // C1 controls, NEL among them, are UTF-8 the address syntax lets through.
            "atey\u{93}e@ax.com",
            "a\u{85}bcc@x.com",
            "a\u{2028}b@x.com",
            "\u{202E}ab@x.com",
            "a\u{200F}b@x.com",
        ] {
            for policy in [EmailPolicy::default(), lenient] {
                let err = Email::parse(raw, "email", policy).unwrap_err();
                assert_eq!(err.code, FieldCode::InvalidEmail, "{raw:?}");
            }
        }
    }
}
