//! The development `FileMailer`: one file per message id, overwritten on re-delivery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use invite_core::mail::{FileMailer, InvitationEmail, Mailer};
use invite_core::{BusinessId, DeliveryState, InMemoryStore, InvitationId, MessageId};

fn email(n: u128, subject: &str) -> InvitationEmail {
    InvitationEmail {
        message_id: MessageId::from(uuid::Uuid::from_u128(n)),
        business_id: BusinessId::from(uuid::Uuid::from_u128(1)),
        invitation_id: InvitationId::from(uuid::Uuid::from_u128(2)),
        to: "Ann.Lee@Example.COM".into(),
        subject: subject.into(),
        text: "Hello Ann,\n\nhttps://app.example.com/accept?token=abc\n".into(),
        html: "<p>Hello Ann,</p>".into(),
        accept_link: "https://app.example.com/accept?token=abc".into(),
        locale: "en".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
    }
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_one_file_per_message_id_and_overwrites_on_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(dir.path().join("mailbox"));
    assert!(
        mailer.read_all().unwrap().is_empty(),
        "a missing directory is empty"
    );
    let first = email(10, "First");
    mailer.send(&first).unwrap();
    assert_eq!(mailer.read(first.message_id).unwrap(), Some(first.clone()));
    let before = files(mailer.dir());

    let mut again = first.clone();
    again.subject = "First, again".into();
    mailer.send(&again).unwrap();
    assert_eq!(files(mailer.dir()), before, "same id: no new file");
    assert_eq!(mailer.read(first.message_id).unwrap(), Some(again.clone()));

    let second = email(11, "Second");
    mailer.send(&second).unwrap();
    assert_eq!(
        mailer.read_all().unwrap(),
        vec![again.clone(), second.clone()]
    );
    // Other files in the directory are no emails, and do not stop the reading.
    std::fs::write(mailer.dir().join("notes.json"), "not an email").unwrap();
    std::fs::write(mailer.dir().join("README.txt"), "the dev mailbox").unwrap();
    assert_eq!(mailer.read_all().unwrap(), vec![again, second.clone()]);
    std::fs::remove_file(mailer.dir().join("notes.json")).unwrap();
    std::fs::remove_file(mailer.dir().join("README.txt")).unwrap();
    assert!(mailer.json_path(second.message_id).exists());
    assert!(
        files(mailer.dir()).iter().all(|f| !f.starts_with('.')),
        "no temporary file is left behind"
    );
    assert_eq!(
        mailer
            .read(MessageId::from(uuid::Uuid::from_u128(99)))
            .unwrap(),
        None
    );
}

/// Every file holds a live accept link: only its owner may read it, and only its owner
/// may list a directory the mailer created.
#[cfg(unix)]
#[test]
fn the_files_and_a_created_directory_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(dir.path().join("new").join("mailbox"));
    let sent = email(12, "Private");
    mailer.send(&sent).unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(mailer.dir()), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    for name in files(mailer.dir()) {
        assert_eq!(mode(&mailer.dir().join(&name)), 0o600, "{name}");
    }
    assert!(mailer.json_path(sent.message_id).exists());
}

#[cfg(feature = "smtp")]
#[test]
fn writes_the_full_mime_message_next_to_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(dir.path());
    let e = email(12, "Zoë \r\nBcc: evil@example.com invited you");
    mailer.send(&e).unwrap();
    let raw = std::fs::read(mailer.eml_path(e.message_id)).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some(e.to.as_str())
    );
    assert!(parsed.bcc().is_none());
    assert_eq!(parsed.body_html(0).unwrap(), e.html);
    assert_eq!(
        parsed.message_id(),
        Some(format!("{}@localhost", e.message_id).as_str())
    );
    assert_eq!(files(dir.path()).len(), 2, ".eml and .json");
}

#[test]
fn an_unwritable_directory_is_a_retried_delivery_failure() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"file").unwrap();
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let sent = w
        .service
        .send(&w.invite_new("Ann", "Lee", "ann@example.com"))
        .unwrap();
    let report = w
        .service
        .dispatch_outbox(&FileMailer::new(&blocker))
        .unwrap();
    assert_eq!((report.delivered, report.retrying), (0, 1));
    let inv = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    assert_eq!(inv.delivery.state, DeliveryState::Queued);
    assert!(inv.delivery.last_error.is_some());
}

#[test]
fn the_outbox_delivers_into_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = FileMailer::new(dir.path());
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let sent = w
        .service
        .send(&w.invite_new("Ann", "Lee", "Ann@Example.com"))
        .unwrap();
    w.service.send(&w.invite_existing(&w.alice)).unwrap();
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(report.delivered, 2);
    let stored = mailer.read_all().unwrap();
    assert_eq!(stored.len(), 2);
    let ann = stored
        .iter()
        .find(|e| e.invitation_id == sent.invitation.id)
        .unwrap();
    assert_eq!(ann.to, "Ann@Example.com");
    assert_eq!(ann.accept_link, sent.accept_link);

    w.clock.advance(chrono::Duration::minutes(5));
    w.service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(
        mailer.read_all().unwrap().len(),
        3,
        "a resend is a new message"
    );
}
