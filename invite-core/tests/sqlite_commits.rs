#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! PERF.md's `default`-mode target: exactly one durable commit per invite and per
//! accept. A unit of work is one SQLite transaction whatever the journal mode, so the
//! commits are counted where SQLite writes them down one by one: in WAL mode with
//! checkpoints off, the log keeps every transaction since the store opened, each ending
//! with one commit frame.

use std::path::Path;
use std::sync::Arc;

use invite_core::service::BulkInvitee;
use invite_core::store::sqlite::{SqliteOptions, SqliteStore};
use invite_core::{AcceptRequest, CapturingMailer, ErrorCode, Store};

mod common;
use common::World;

/// WAL header and frame header sizes (sqlite.org/fileformat.html, "WAL File Format").
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// The transactions committed to the log: its frames of the current generation (their
/// salts are the header's) that end a transaction (their "database size after commit"
/// field is set).
fn commits(wal: &Path) -> usize {
    let log = std::fs::read(wal).unwrap();
    let header = log.get(..WAL_HEADER).expect("a log with a header");
    let page_size = u32::from_be_bytes(header[8..12].try_into().unwrap()) as usize;
    let salts = &header[16..24];
    log[WAL_HEADER..]
        .chunks_exact(FRAME_HEADER + page_size)
        .filter(|frame| &frame[8..16] == salts && frame[4..8] != [0; 4])
        .count()
}

#[test]
fn a_send_and_an_accept_are_one_commit_each_and_a_delivered_batch_two() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("commits.db");
    let wal = dir.path().join("commits.db-wal");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&path, SqliteOptions::wal().with_wal_autocheckpoint(0)).unwrap(),
    );
    let w = World::new(store);
    let mut expected = commits(&wal);
    assert!(expected > 0, "the catalog's setup is in the log");

    let mut tokens = Vec::new();
    for (first, email) in [("Ada", "ada@example.com"), ("Grace", "grace@example.com")] {
        let sent = w
            .service
            .send(&w.invite_new(first, "Invitee", email))
            .unwrap();
        tokens.push(sent.token.expose().to_owned());
        expected += 1;
        assert_eq!(commits(&wal), expected, "one commit per send ({email})");
    }

    // A refused send commits nothing.
    let refused = w
        .service
        .send(&w.invite_new("Ada", "Again", "ada@example.com"))
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AlreadyInvited);
    assert_eq!(commits(&wal), expected, "a refused send commits nothing");

    // A dispatch: one commit claims the batch, one records its outcomes; the claim that
    // finds nothing due writes nothing.
    let mailer = CapturingMailer::new();
    assert_eq!(w.service.dispatch_outbox(&mailer).unwrap().delivered, 2);
    expected += 2;
    assert_eq!(commits(&wal), expected, "two commits per delivered batch");

    for token in &tokens {
        let accepted = w.service.accept(&AcceptRequest::new(token)).unwrap();
        assert!(accepted.user_created);
        expected += 1;
        assert_eq!(commits(&wal), expected, "one commit per accept");
    }

    // A bulk send is one transaction for all its rows.
    let rows = (0..5)
        .map(|i| BulkInvitee::new_user("Bulk", "Row", &format!("bulk{i}@example.com")))
        .collect();
    let bulk = w.bulk_request(w.unlimited.id, rows);
    let result = w.service.bulk_send(&bulk).unwrap();
    assert!(result.rows.iter().all(Result::is_ok));
    expected += 1;
    assert_eq!(commits(&wal), expected, "one commit per bulk send");
}
