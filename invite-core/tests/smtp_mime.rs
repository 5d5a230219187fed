//! T10 at the mailer level, without a server: the MIME message the SMTP mailer builds
//! (lettre) parses back (mail-parser) with exactly our headers, one recipient and the
//! bodies unchanged, whatever the subject, names or bodies contain.
#![cfg(feature = "smtp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

#[path = "../../fuzz/src/checks.rs"]
#[allow(
    dead_code,
    reason = "the fuzz checks module has more than these tests use"
)]
mod checks;

use chrono::{TimeZone, Utc};
use invite_core::mail::{
    DefaultTemplates, EmailContext, EmailRenderer, InvitationEmail, MimeBuilder, SmtpConfig,
    SmtpCredentials, SmtpMailer, SmtpTls,
};
use invite_core::{BusinessId, ErrorCode, InvitationId, MessageId};

/// Hostile values for names, subjects and business names (SECURITY.md T10).
const HOSTILE: &[&str] = &[
    "Eve\r\nBcc: evil@example.com",
    "Eve\nTo: evil@example.com",
    "Eve\rCc: evil@example.com",
    "Eve\u{0}Bcc: evil@example.com",
    "Eve\u{2028}Bcc: evil@example.com",
    "Eve\u{2029}Bcc: evil@example.com",
    "Eve\u{85}Bcc: evil@example.com",
    "=?utf-8?q?Eve=0D=0ABcc:_evil@example.com?=",
    "=?utf-8?b?RXZlDQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",
    "=?ISO-8859-1?Q?Andr=E9?= <evil@example.com>",
    "Eve\r\n\r\n<html>fake body",
    "Ève \u{202E}lanigiro\u{202C} Ünal",
    "\"Eve\" <evil@example.com>, other@example.com",
];

fn email(subject: &str, text: &str, html: &str) -> InvitationEmail {
    InvitationEmail {
        message_id: MessageId::from(uuid::Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0001,
        )),
        business_id: BusinessId::from(uuid::Uuid::from_u128(1)),
        invitation_id: InvitationId::from(uuid::Uuid::from_u128(2)),
        to: "Ann.Lee@Example.COM".into(),
        subject: subject.into(),
        text: text.into(),
        html: html.into(),
        accept_link: "https://app.example.com/accept?token=abc".into(),
        locale: "en".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
    }
}

fn context(name: &str, locale: Option<&str>) -> EmailContext {
    EmailContext {
        inviter_name: name.into(),
        invitee_name: Some(name.into()),
        business_name: name.into(),
        app_name: "Billing".into(),
        role_name: name.into(),
        expires_at: Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
        accept_link: "https://app.example.com/accept?token=abc".into(),
        locale: locale.map(Into::into),
    }
}

fn builder() -> MimeBuilder {
    MimeBuilder::new(checks::FROM, Some("Acme Invitations")).unwrap()
}

fn build(email: &InvitationEmail) -> Vec<u8> {
    let b = builder();
    let raw = b.build(email).unwrap();
    checks::check_parsed_mime(email, &raw, &b.message_id(email.message_id));
    raw
}

#[test]
fn a_rendered_email_round_trips_exactly() {
    for locale in [None, Some("fr-CA"), Some("de")] {
        let r = DefaultTemplates.render(&context("Zoë Ünal", locale));
        let mut e = email(&r.subject, &r.text, &r.html);
        e.locale = r.locale;
        let raw = build(&e);
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.subject(),
            Some(e.subject.as_str()),
            "subject exactly"
        );
        assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), e.text);
        assert_eq!(parsed.body_html(0).unwrap().replace("\r\n", "\n"), e.html);
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some(checks::FROM));
        assert_eq!(from.name(), Some("Acme Invitations"));
        assert!(parsed.date().is_some());
    }
}

#[test]
fn hostile_subjects_cannot_add_headers_or_recipients() {
    for hostile in HOSTILE {
        let e = email(&format!("{hostile} invited you"), hostile, hostile);
        build(&e);
    }
}

#[test]
fn long_subjects_are_folded_under_the_line_limit() {
    for subject in [
        format!("Ann invited you to {}", "Billing".repeat(40)),
        "word ".repeat(60),
        format!("Zoë {}", "ü".repeat(120)),
    ] {
        let raw = build(&email(&subject, "text", "<p>html</p>"));
        let raw = String::from_utf8(raw).unwrap();
        let (head, _) = raw.split_once("\r\n\r\n").unwrap();
        for line in head.split("\r\n") {
            assert!(
                line.len() <= 78,
                "header line of {} bytes: {line}",
                line.len()
            );
        }
    }
}

#[test]
fn encoded_word_look_alikes_are_shown_as_typed() {
    for hostile in HOSTILE.iter().filter(|h| h.contains("=?")) {
        let e = email(hostile, "text", "<p>html</p>");
        let raw = build(&e);
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.subject(),
            Some(*hostile),
            "not decoded by the receiver"
        );
    }
}

#[test]
fn hostile_context_values_through_the_templates() {
    for hostile in HOSTILE {
        for locale in [None, Some("fr"), Some("de-AT")] {
            let r = DefaultTemplates.render(&context(hostile, locale));
            assert!(!r.subject.contains(['\r', '\n', '\0', '\u{2028}', '\u{85}']));
            assert!(!r.html.contains("<html>fake"), "values are escaped");
            build(&email(&r.subject, &r.text, &r.html));
        }
    }
}

#[test]
fn only_a_single_plain_address_is_accepted_as_recipient() {
    let b = builder();
    for to in [
        "a@example.com\r\nBcc: evil@example.com",
        "a@example.com, evil@example.com",
        "Ann <a@example.com>",
        "<a@example.com>",
        "a@example.com\0",
        "",
        "not-an-address",
    ] {
        let mut e = email("Hi", "text", "<p>html</p>");
        e.to = to.into();
        assert!(b.build(&e).is_err(), "{to:?} must be refused");
    }
}

#[test]
fn the_message_id_is_derived_from_the_stable_id() {
    let b = builder();
    let e = email("Hi", "text", "<p>html</p>");
    let first = mail_parser::MessageParser::default()
        .parse(&b.build(&e).unwrap())
        .unwrap()
        .message_id()
        .map(str::to_owned);
    let second = mail_parser::MessageParser::default()
        .parse(&b.build(&e).unwrap())
        .unwrap()
        .message_id()
        .map(str::to_owned);
    assert_eq!(first, second, "a retry carries the same Message-ID");
    assert_eq!(
        first.as_deref(),
        Some(format!("{}@example.com", e.message_id).as_str())
    );
    let other = MimeBuilder::new("x@Bücher.Example", None).unwrap();
    assert_eq!(
        other.message_id(e.message_id),
        format!("<{}@xn--bcher-kva.example>", e.message_id),
        "an IDN sender domain becomes punycode in the Message-ID"
    );
    // And in `From` (so in the envelope's source): no message needs SMTPUTF8 for an
    // internationalised sender domain alone.
    let parsed = mail_parser::MessageParser::default()
        .parse(&other.build(&e).unwrap())
        .unwrap()
        .from()
        .and_then(|from| from.first())
        .and_then(|from| from.address())
        .map(str::to_owned);
    assert_eq!(parsed.as_deref(), Some("x@xn--bcher-kva.example"));
}

#[test]
fn bad_sender_or_server_settings_are_invalid_config() {
    for from in [
        "",
        "not an address",
        "a@b.com\r\nBcc: c@d.com",
        "A <a@b.com>",
        // Parses as an address, but no message can be sent from it.
        "inv@[127.0.0.1]",
    ] {
        let err = MimeBuilder::new(from, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{from:?}");
        let err = SmtpMailer::new(&SmtpConfig::new("smtp.example.com", from)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{from:?}");
    }
    for host in [
        "",
        "smtp example.com",
        "smtp.example.com\r\nX",
        "smtp\0.example.com",
        // A secret or a port in the host would show in every recorded delivery error.
        "smtp://invites:S3cret@127.0.0.1",
        "invites:S3cret@smtp.example.com",
        "smtp.example.com:25",
        "smtp.example.com/path",
    ] {
        let err = SmtpMailer::new(&SmtpConfig::new(host, "a@example.com")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{host:?}");
    }
    let mut config = SmtpConfig::new("smtp.example.com", "a@example.com");
    config.tls = SmtpTls::Implicit;
    config.extra_root_certificate_pem = Some("not a certificate".into());
    assert_eq!(
        SmtpMailer::new(&config).unwrap_err().code(),
        ErrorCode::InvalidConfig
    );
    for hello in [
        "me.test\r\nRCPT TO:<attacker@evil.test>",
        "me.test\nRSET",
        "",
        "me test",
        "-me.test",
        "me..test",
        "[127.0.0.1]",
        "mé.test",
        &"a".repeat(64),
    ] {
        let mut config = SmtpConfig::new("smtp.example.com", "a@example.com");
        config.hello_name = Some(hello.to_owned());
        let err = SmtpMailer::new(&config).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{hello:?}");
    }
    for hello in [
        "mail.example.com",
        "localhost",
        "x-1.example",
        "192.0.2.1",
        "2001:db8::1",
    ] {
        let mut config = SmtpConfig::new("smtp.example.com", "a@example.com");
        config.hello_name = Some(hello.to_owned());
        SmtpMailer::new(&config).unwrap();
    }
    for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Implicit] {
        let mut config = SmtpConfig::new("smtp.example.com", "a@example.com");
        config.tls = tls;
        SmtpMailer::new(&config).unwrap();
    }
}

#[test]
fn debug_output_never_shows_the_password() {
    let mut config = SmtpConfig::new("smtp.example.com", "a@example.com");
    config.credentials = Some(SmtpCredentials::new("user", "hunter2-secret"));
    assert!(!format!("{config:?}").contains("hunter2-secret"));
    let mailer = SmtpMailer::new(&config).unwrap();
    assert!(!format!("{mailer:?}").contains("hunter2-secret"));
}
