//! The SMTP mailer against real SMTP servers on loopback (started by
//! `scripts/with-smtp`, which exports `INVITE_TEST_SMTP*`): what the server receives
//! parses back to exactly what was sent, hostile text adds no header or recipient
//! (T10), TLS and AUTH work, and a closed or refusing server is a retried delivery
//! failure through the outbox dispatcher (T14).
//!
//! Run: `scripts/with-smtp cargo test -p invite-core --features smtp --test smtp_delivery`.
//! Tests that need a server say `SKIPPED` on stderr when the variables are missing.
#![cfg(feature = "smtp")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

#[path = "../../fuzz/src/checks.rs"]
#[allow(
    dead_code,
    reason = "the fuzz checks module has more than these tests use"
)]
mod checks;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use invite_core::mail::{
    InvitationEmail, MailError, Mailer, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls,
};
use invite_core::service::{DeliveryConfig, DispatchReport};
use invite_core::{BusinessId, DeliveryState, InMemoryStore, InvitationId, MessageId};

/// `host:port` of a test server, or `None` (after saying so) when not started.
fn server(var: &str) -> Option<(String, u16)> {
    match std::env::var(var) {
        Ok(addr) => {
            let (host, port) = addr.rsplit_once(':').expect("host:port");
            Some((host.to_owned(), port.parse().expect("a port")))
        }
        Err(_) => {
            eprintln!("SKIPPED: {var} is not set; run under scripts/with-smtp");
            None
        }
    }
}

fn mail_dir() -> PathBuf {
    PathBuf::from(std::env::var("INVITE_TEST_SMTP_DIR").expect("INVITE_TEST_SMTP_DIR"))
}

fn config(host: &str, port: u16, tls: SmtpTls) -> SmtpConfig {
    let mut config = SmtpConfig::new(host, checks::FROM);
    config.port = port;
    config.tls = tls;
    config.from_name = Some("Acme \"Invitations\"".into());
    config.timeout = Duration::from_secs(10);
    config.hello_name = Some("invite-core.test".into());
    config
}

/// Records what it hands to the inner mailer (the email "as sent").
struct Recording<M> {
    inner: M,
    sent: Mutex<Vec<InvitationEmail>>,
}

impl<M: Mailer> Recording<M> {
    fn new(inner: M) -> Self {
        Recording {
            inner,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self) -> Vec<InvitationEmail> {
        self.sent.lock().unwrap().clone()
    }
}

impl<M: Mailer> Mailer for Recording<M> {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        self.sent.lock().unwrap().push(email.clone());
        self.inner.send(email)
    }
}

/// A received message: its envelope (from the server's JSON) and raw bytes.
struct Received {
    mail_from: String,
    rcpt_tos: Vec<String>,
    server: String,
    tls: bool,
    auth: bool,
    raw: Vec<u8>,
}

/// Every message the servers stored with this `Message-ID`, oldest first.
fn received(message_id: &str) -> Vec<Received> {
    let mut found = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(mail_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    for path in paths {
        let raw = std::fs::read(&path).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        if parsed.message_id().map(|id| format!("<{id}>")).as_deref() != Some(message_id) {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
        found.push(Received {
            mail_from: meta["mail_from"].as_str().unwrap().to_owned(),
            rcpt_tos: meta["rcpt_tos"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
            server: meta["server"].as_str().unwrap().to_owned(),
            tls: meta["tls"].as_bool().unwrap(),
            auth: meta["auth"].as_bool().unwrap(),
            raw,
        });
    }
    found
}

/// Checks that exactly one message with `email`'s id arrived, to its one recipient,
/// and that it parses back to exactly what was sent.
fn assert_delivered(mailer: &SmtpMailer, email: &InvitationEmail) -> Received {
    let id = mailer.mime().message_id(email.message_id);
    let mut got = received(&id);
    assert_eq!(got.len(), 1, "one message with {id}");
    let got = got.remove(0);
    assert_eq!(got.mail_from, checks::FROM);
    assert_eq!(got.rcpt_tos, vec![email.to.clone()], "envelope recipients");
    checks::check_parsed_mime(email, &got.raw, &id);
    got
}

fn email(id: u128, to: &str, subject: &str) -> InvitationEmail {
    InvitationEmail {
        message_id: MessageId::from(uuid::Uuid::now_v7()),
        business_id: BusinessId::from(uuid::Uuid::from_u128(id)),
        invitation_id: InvitationId::from(uuid::Uuid::from_u128(id)),
        to: to.into(),
        subject: subject.into(),
        text: format!("{subject}\n\nAccept:\nhttps://app.example.com/accept?token=abc\n"),
        html: format!("<p>{subject}</p>"),
        accept_link: "https://app.example.com/accept?token=abc".into(),
        locale: "en".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
    }
}

#[test]
fn invitations_arrive_exactly_as_sent() {
    let Some((host, port)) = server("INVITE_TEST_SMTP") else {
        return;
    };
    let smtp = SmtpMailer::new(&config(&host, port, SmtpTls::None)).unwrap();
    let mailer = Recording::new(smtp.clone());
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let sent = w
        .service
        .send(
            &w.invite_new("Zoë", "Ünal-Lefèvre", "Zoe.Unal@Example.COM")
                .locale("fr-CA"),
        )
        .unwrap();
    w.service.send(&w.invite_existing(&w.alice)).unwrap();
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(report.delivered, 2);
    let emails = mailer.sent();
    assert_eq!(emails.len(), 2);
    for email in &emails {
        assert_delivered(&smtp, email);
    }
    let zoe = emails
        .iter()
        .find(|e| e.invitation_id == sent.invitation.id)
        .unwrap();
    assert_eq!(
        zoe.to, "Zoe.Unal@Example.COM",
        "mail goes to the address as entered"
    );
    assert_eq!(zoe.locale, "fr");
    let inv = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    assert_eq!(inv.delivery.state, DeliveryState::Sent);
}

#[test]
fn hostile_text_adds_no_header_and_no_recipient() {
    let Some((host, port)) = server("INVITE_TEST_SMTP") else {
        return;
    };
    let smtp = SmtpMailer::new(&config(&host, port, SmtpTls::None)).unwrap();
    for (i, hostile) in [
        "Eve\r\nBcc: evil@example.com",
        "Eve\nTo: evil@example.com",
        "Eve\u{0}Cc: evil@example.com",
        "Eve\u{2028}Bcc: evil@example.com",
        "Eve\u{85}Bcc: evil@example.com",
        "=?utf-8?b?RXZlDQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",
        "Eve\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<evil@example.com>",
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = email(
            i as u128,
            "ann@example.com",
            &format!("{hostile} invited you"),
        );
        e.text = format!("{hostile}\r\n.\r\n{hostile}");
        e.html = format!("<p>{hostile}</p>\n.\n");
        smtp.send(&e).unwrap();
        assert_delivered(&smtp, &e);
    }
    let strays: Vec<_> = std::fs::read_dir(mail_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("evil@"))
        .collect();
    assert!(strays.is_empty(), "no message went to an injected address");
}

#[test]
fn a_retried_message_keeps_its_message_id() {
    let Some((host, port)) = server("INVITE_TEST_SMTP") else {
        return;
    };
    let smtp = SmtpMailer::new(&config(&host, port, SmtpTls::None)).unwrap();
    let e = email(100, "ann@example.com", "Retry me");
    smtp.send(&e).unwrap();
    smtp.send(&e).unwrap();
    let got = received(&smtp.mime().message_id(e.message_id));
    assert_eq!(
        got.len(),
        2,
        "at-least-once: both arrive, with one Message-ID"
    );
}

#[test]
fn starttls_with_credentials() {
    let (Some((host, port)), Ok(ca), Ok(user), Ok(password)) = (
        server("INVITE_TEST_SMTP_STARTTLS"),
        std::env::var("INVITE_TEST_SMTP_CA"),
        std::env::var("INVITE_TEST_SMTP_USER"),
        std::env::var("INVITE_TEST_SMTP_PASSWORD"),
    ) else {
        return;
    };
    let mut c = config(&host, port, SmtpTls::StartTls);
    c.extra_root_certificate_pem = Some(std::fs::read_to_string(&ca).unwrap());
    c.credentials = Some(SmtpCredentials::new(user.clone(), password));
    let smtp = SmtpMailer::new(&c).unwrap();
    let e = email(200, "ann@example.com", "Over STARTTLS");
    smtp.send(&e).unwrap();
    let got = assert_delivered(&smtp, &e);
    assert_eq!(got.server, "starttls");
    assert!(got.tls && got.auth);

    c.credentials = Some(SmtpCredentials::new(user, "wrong"));
    let wrong = SmtpMailer::new(&c).unwrap();
    assert!(
        wrong.send(&email(201, "ann@example.com", "x")).is_err(),
        "bad password"
    );

    c.extra_root_certificate_pem = None;
    let untrusted = SmtpMailer::new(&c).unwrap();
    assert!(
        untrusted.send(&email(202, "ann@example.com", "x")).is_err(),
        "an unknown CA is refused"
    );
}

#[test]
fn implicit_tls() {
    let (Some((host, port)), Ok(ca)) = (
        server("INVITE_TEST_SMTP_TLS"),
        std::env::var("INVITE_TEST_SMTP_CA"),
    ) else {
        return;
    };
    let mut c = config(&host, port, SmtpTls::Implicit);
    c.extra_root_certificate_pem = Some(std::fs::read_to_string(&ca).unwrap());
    let smtp = SmtpMailer::new(&c).unwrap();
    let e = email(300, "ann@example.com", "Over TLS");
    smtp.send(&e).unwrap();
    let got = assert_delivered(&smtp, &e);
    assert_eq!(got.server, "tls");
    assert!(got.tls);
}

/// Sends one invitation and dispatches until the outbox gives up, moving the clock
/// past each backoff; returns the reports and the invitation.
fn dispatch_until_failed(mailer: &SmtpMailer) -> (Vec<DispatchReport>, invite_core::Invitation) {
    let config = invite_core::Config {
        delivery: DeliveryConfig {
            max_attempts: 3,
            ..DeliveryConfig::default()
        },
        ..common::config()
    };
    let w = common::World::with_config(Arc::new(InMemoryStore::new()), config, Some(3));
    let sent = w
        .service
        .send(&w.invite_new("Ann", "Lee", "ann@example.com"))
        .unwrap();
    let queued = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    assert_eq!(queued.delivery.state, DeliveryState::Queued);
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(w.service.dispatch_outbox(mailer).unwrap());
        let inv = w
            .service
            .get_invitation(w.business.id, sent.invitation.id)
            .unwrap();
        assert!(inv.delivery.last_error.is_some(), "the failure is recorded");
        w.clock.advance(chrono::Duration::hours(2));
    }
    let inv = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    (reports, inv)
}

fn assert_retried_then_failed(reports: &[DispatchReport], inv: &invite_core::Invitation) {
    let retrying: u32 = reports.iter().map(|r| r.retrying).sum();
    let failed: u32 = reports.iter().map(|r| r.failed).sum();
    let delivered: u32 = reports.iter().map(|r| r.delivered).sum();
    assert_eq!((delivered, retrying, failed), (0, 2, 1), "{reports:?}");
    assert_eq!(inv.delivery.state, DeliveryState::Failed);
    assert_eq!(inv.delivery.attempts, 3);
    assert!(
        inv.delivery
            .last_error
            .as_deref()
            .is_some_and(|e| !e.is_empty())
    );
}

#[test]
fn a_closed_port_is_a_retried_delivery_failure() {
    // Needs no server: a port that was just free is closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut c = config("127.0.0.1", port, SmtpTls::None);
    c.timeout = Duration::from_secs(2);
    let smtp = SmtpMailer::new(&c).unwrap();
    let (reports, inv) = dispatch_until_failed(&smtp);
    assert_retried_then_failed(&reports, &inv);
}

#[test]
fn a_refusing_server_is_a_retried_delivery_failure() {
    let Some((host, port)) = server("INVITE_TEST_SMTP_REFUSE") else {
        return;
    };
    let smtp = SmtpMailer::new(&config(&host, port, SmtpTls::None)).unwrap();
    let (reports, inv) = dispatch_until_failed(&smtp);
    assert_retried_then_failed(&reports, &inv);
}
