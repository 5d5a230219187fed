//! T10 and T11: emails carry no injected markup, and links only come from the base URL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::sync::Arc;

use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer};
use invite_core::random::SeededRandom;
use invite_core::{CapturingMailer, Config, ErrorCode, InMemoryStore, InviteService, Token};

fn context(name: &str) -> EmailContext {
    EmailContext {
        inviter_name: name.into(),
        invitee_name: Some("<b>Bob</b> & \"friends\"".into()),
        business_name: "Acme <script>alert(1)</script>".into(),
        app_name: "Billing".into(),
        role_name: "Member".into(),
        expires_at: common::start(),
        accept_link: "https://app.example.com/accept?token=abc&x=\"y\"".into(),
        locale: None,
    }
}

#[test]
fn html_escapes_every_value() {
    let email = DefaultTemplates.render(&context("Eve <img src=x onerror=alert(1)>"));
    assert!(!email.html.contains("<script>"));
    assert!(!email.html.contains("<img"));
    assert!(!email.html.contains("<b>Bob"));
    assert!(email.html.contains("&lt;script&gt;"));
    assert!(
        email
            .html
            .contains("href=\"https://app.example.com/accept?token=abc&amp;x=&quot;y&quot;\"")
    );
    assert!(
        email.text.contains("<b>Bob</b>"),
        "plain text keeps text as is"
    );
    assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    assert_eq!(email.locale, "en");
}

#[test]
fn base_urls_that_could_leave_the_origin_are_refused() {
    for bad in [
        "//evil.example/accept",
        "javascript:alert(1)",
        "ftp://files.example/x",
        "https://user:pw@app.example.com/a",
        "app.example.com/accept",
        "",
        "https:///nohost",
        "data:text/html,hi",
        "https://app.example.com/a#frag",
        // A token of its own would shadow the real one for servers reading the first.
        "https://app.example.com/a?token=abc",
        "https://app.example.com/a?x=1&token=",
        // However a server may read it: `;` as a separator, another case, encoded.
        "https://app.example.com/a?;token=abc",
        "https://app.example.com/a?x=1;token=abc",
        "https://app.example.com/a?TOKEN=abc",
        "https://app.example.com/a?tok%65n=abc",
    ] {
        let err = InviteService::new(Arc::new(InMemoryStore::new()), Config::with_base_url(bad))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{bad}");
        assert!(
            !err.to_string().contains("pw@"),
            "the error repeats no password"
        );
    }
}

#[test]
fn links_in_mail_start_with_the_configured_base_only() {
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    w.service
        .send(&w.invite_new("Eve", "Evil", "eve@example.com"))
        .unwrap();
    w.service
        .send(&w.invite_new("Mallory\u{2028}Bcc", "X", "mal@example.com"))
        .unwrap_err();
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    for mail in mailer.sent() {
        assert!(
            mail.accept_link
                .starts_with("https://app.example.com/invite/accept?token="),
            "off-origin link: {}",
            mail.accept_link
        );
        assert!(mail.text.contains(&mail.accept_link));
        assert_eq!(mail.to, "eve@example.com", "recipients unchanged");
    }
}

#[test]
fn accept_links_are_the_base_url_with_the_token_added_to_its_query() {
    let random = SeededRandom::new(5);
    for base in [
        "https://app.example.com/invite/accept",
        "https://app.example.com",
        "https://app.example.com/",
        "https://app.example.com/accept?",
        "https://app.example.com/accept?ref=mail&lang=fr",
        "http://localhost:8080/a%20b/accept/",
        "https://BÜCHER.example/annehmen",
        "https://app.example.com/accept?q=a+b%26c",
    ] {
        let service =
            InviteService::new(Arc::new(InMemoryStore::new()), Config::with_base_url(base))
                .unwrap();
        for _ in 0..50 {
            let token = Token::mint(&random).unwrap();
            let mut expected = url::Url::parse(base).unwrap();
            expected
                .query_pairs_mut()
                .append_pair("token", token.expose());
            assert_eq!(service.accept_link(&token), expected.as_str(), "{base}");
        }
    }
}

#[test]
fn the_default_english_email_is_exactly_this() {
    let email = DefaultTemplates.render(&context("Ada\u{2028}Admin"));
    assert_eq!(
        email.subject,
        "Ada\u{FFFD}Admin invited you to Billing on Acme <script>alert(1)</script>"
    );
    assert_eq!(
        email.text,
        "Hello <b>Bob</b> & \"friends\",\n\n\
         Ada\u{FFFD}Admin invited you to join Billing on Acme <script>alert(1)</script> as Member.\n\n\
         Accept the invitation:\nhttps://app.example.com/accept?token=abc&x=\"y\"\n\n\
         The link expires on 2026-03-02 09:00 UTC. If you did not expect this email, you can ignore it.\n"
    );
    assert_eq!(
        email.html,
        "<!doctype html><html lang=\"en\"><body><p>Hello &lt;b&gt;Bob&lt;/b&gt; &amp; \"friends\",</p>\
         <p>Ada\u{FFFD}Admin invited you to join <b>Billing</b> on <b>Acme &lt;script&gt;alert(1)&lt;/script&gt;</b> as <b>Member</b>.</p>\
         <p><a href=\"https://app.example.com/accept?token=abc&amp;x=&quot;y&quot;\">Accept the invitation</a></p>\
         <p>The link expires on 2026-03-02 09:00 UTC. If you did not expect this email, you can ignore it.</p></body></html>"
    );
    assert_eq!(email.locale, "en");
}
