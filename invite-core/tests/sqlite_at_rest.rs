//! T1 at rest on SQLite: after sends, resends, keyed sends, bulk sends, dispatch and
//! accepts, no raw token appears anywhere in the database file or its WAL.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use chrono::Duration;
use invite_core::{AcceptRequest, BulkInvitee, BulkSendRequest, CapturingMailer};

/// Every raw token the run produced, and the bytes of every file of the database.
#[test]
fn no_raw_token_is_stored_anywhere_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("at-rest.sqlite");
    let store = invite_core::store::open(&format!("sqlite:{}", path.display())).unwrap();
    let w = common::World::with_config(store, common::config(), Some(500));
    let mut tokens = Vec::new();
    for i in 0..50 {
        let sent = w
            .service
            .send(
                &w.invite_new("T", "T", &format!("t{i}@example.com"))
                    .idempotency_key(&format!("k{i}")),
            )
            .unwrap();
        tokens.push(sent.token.expose().to_owned());
    }
    let rows = (0..50)
        .map(|i| BulkInvitee::new_user("B", "B", &format!("b{i}@example.com")))
        .collect();
    let bulk = BulkSendRequest::new(
        w.admin.id,
        w.business.id,
        w.app.id,
        w.subscription.id,
        w.member.id,
        rows,
    );
    for row in w.service.bulk_send(&bulk).unwrap().rows {
        tokens.push(row.unwrap().token.expose().to_owned());
    }
    let first = w
        .service
        .list_invitations(
            w.business.id,
            &Default::default(),
            &invite_core::PageRequest::first(10),
        )
        .unwrap();
    w.clock.advance(Duration::minutes(5));
    for inv in &first.items {
        tokens.push(
            w.service
                .resend(w.business.id, inv.id, w.admin.id, None)
                .unwrap()
                .token
                .expose()
                .to_owned(),
        );
    }
    w.service.dispatch_outbox(&CapturingMailer::new()).unwrap();
    w.service
        .accept(&AcceptRequest::new(tokens.last().unwrap()))
        .unwrap();
    assert_eq!(tokens.len(), 110);

    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        files.push((entry.file_name(), std::fs::read(entry.path()).unwrap()));
    }
    let needle = b"t0@example.com";
    assert!(
        files
            .iter()
            .any(|(_, b)| b.windows(needle.len()).any(|w| w == needle)),
        "the scan reads the stored rows"
    );
    let mut found = 0;
    for token in &tokens {
        for (name, bytes) in &files {
            if bytes
                .windows(token.len())
                .any(|window| window == token.as_bytes())
            {
                eprintln!("raw token found in {name:?}");
                found += 1;
            }
        }
    }
    assert_eq!(found, 0, "raw tokens at rest");
}
