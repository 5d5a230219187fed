//! T1 at rest on PostgreSQL: no raw token in any row of any table of the schema.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
mod postgres_support;

use std::sync::Arc;

use chrono::Duration;
use invite_core::{AcceptRequest, BulkInvitee, BulkSendRequest, CapturingMailer};

#[test]
fn no_raw_token_is_stored_in_any_row() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let w = common::World::with_config(Arc::new(db.store()), common::config(), Some(500));
    let mut tokens = Vec::new();
    for i in 0..30 {
        let sent = w
            .service
            .send(
                &w.invite_new("T", "T", &format!("t{i}@example.com"))
                    .idempotency_key(&format!("k{i}")),
            )
            .unwrap();
        tokens.push(sent.token.expose().to_owned());
    }
    let rows = (0..30)
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

    let mut client = db.client();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&db.schema],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 8, "every table scanned: {tables:?}");
    let mut dump = String::new();
    for table in &tables {
        for row in client
            .query(&format!("SELECT t::text FROM \"{table}\" t"), &[])
            .unwrap()
        {
            dump.push_str(&row.get::<_, String>(0));
            dump.push('\n');
        }
    }
    assert!(dump.contains("t0@example.com"), "the dump holds the data");
    let at_rest = tokens.iter().filter(|t| dump.contains(t.as_str())).count();
    assert_eq!(at_rest, 0, "raw tokens at rest");
}
