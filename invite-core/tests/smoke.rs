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

/// Services of one process built without an outbox key share the process's key: a
/// dispatch worker sends what a web handler queued on the same store.
#[test]
fn keyless_services_of_one_process_send_each_others_emails() {
    let store: Arc<dyn invite_core::Store> = Arc::new(InMemoryStore::new());
    let w = common::World::new(store.clone());
    let keyless = || {
        invite_core::InviteService::builder(store.clone())
            .clock(w.clock.clone())
            .config(common::config())
            .build()
            .unwrap()
    };
    let (web, worker) = (keyless(), keyless());
    let sent = web
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let mailer = CapturingMailer::new();
    assert_eq!(worker.dispatch_outbox(&mailer).unwrap().delivered, 1);
    assert_eq!(mailer.sent()[0].accept_link, sent.accept_link);
}
