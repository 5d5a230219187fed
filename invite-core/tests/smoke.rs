#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
mod common;

use std::sync::Arc;

use invite_core::{AcceptRequest, CapturingMailer, InMemoryStore, InvitationStatus};

#[test]
fn invite_dispatch_accept() {
    let w = common::World::new(Arc::new(InMemoryStore::new()));
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "Bob@Example.com"))
        .unwrap();
    assert_eq!(w.usage().reserved, 1);
    let mailer = CapturingMailer::new();
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(report.delivered, 1);
    let mail = &mailer.sent()[0];
    assert_eq!(mail.to, "Bob@Example.com");
    assert_eq!(mail.accept_link, sent.accept_link);
    let accepted = w
        .service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    assert!(accepted.user_created);
    assert_eq!(accepted.invitation.status, InvitationStatus::Accepted);
    let usage = w.usage();
    assert_eq!(
        (usage.used, usage.reserved, usage.available),
        (1, 0, Some(2))
    );
    w.assert_counters_match(&w.subscription);
}
