//! T1: tokens from the OS CSPRNG, fixed format, never at rest raw.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use invite_core::random::OsRandom;
use invite_core::token::{TOKEN_LEN, Token};
use invite_core::{AcceptRequest, CapturingMailer, InMemoryStore};

#[test]
fn a_million_tokens_have_no_duplicates_and_a_fixed_format() {
    let mut seen = HashSet::with_capacity(1_000_000);
    for _ in 0..1_000_000 {
        let token = Token::mint(&OsRandom).unwrap();
        assert_eq!(token.expose().len(), TOKEN_LEN);
        assert!(seen.insert(token.hash()), "duplicate token");
    }
    assert_eq!(seen.len(), 1_000_000);
}

#[test]
fn parse_accepts_exactly_the_minted_format() {
    let token = Token::mint(&OsRandom).unwrap();
    assert_eq!(Token::parse(token.expose()).unwrap(), token);
    assert_eq!(
        Token::parse(&format!("  {}\n", token.expose())).unwrap(),
        token,
        "surrounding whitespace from copy-paste"
    );
    let mut wrong = token.expose().to_owned();
    wrong.replace_range(0..1, "+");
    for bad in [
        String::new(),
        "a".repeat(42),
        "a".repeat(44),
        "a".repeat(10_240),
        wrong,
        "é".repeat(22),
    ] {
        assert_eq!(
            Token::parse(&bad).unwrap_err().code(),
            invite_core::ErrorCode::InvalidToken
        );
    }
}

#[test]
fn hashes_differ_from_tokens_and_debug_is_redacted() {
    let token = Token::mint(&OsRandom).unwrap();
    assert!(!token.hash().to_hex().contains(token.expose()));
    assert_eq!(format!("{token:?}"), "Token(<redacted>)");
}

/// T1 "never in logs": the results and emails that carry a raw token (in the token, the
/// link or the bodies) print without it.
#[test]
fn debug_output_of_what_carries_a_token_is_redacted() {
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let raw = sent.token.expose().to_owned();
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    let email = mailer.sent().pop().unwrap();
    assert!(email.accept_link.contains(&raw) && email.text.contains(&raw));
    let request = AcceptRequest::new(raw.clone());
    // What a host renderer sees and returns carries the link too.
    let context = invite_core::mail::EmailContext {
        inviter_name: "Ada".into(),
        invitee_name: None,
        business_name: "Acme".into(),
        app_name: "CRM".into(),
        role_name: "Member".into(),
        expires_at: sent.invitation.expires_at,
        accept_link: email.accept_link.clone(),
        locale: None,
    };
    let rendered =
        invite_core::mail::EmailRenderer::render(&invite_core::mail::DefaultTemplates, &context);
    for printed in [
        format!("{sent:?}"),
        format!("{sent:#?}"),
        format!("{email:?}"),
        format!("{request:?}"),
        format!("{context:?}"),
        format!("{rendered:?}"),
    ] {
        assert!(!printed.contains(&raw), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}
