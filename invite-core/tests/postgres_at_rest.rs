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

#[test]
fn no_raw_token_is_stored_in_any_row() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let w = common::World::with_config(Arc::new(db.store()), common::config(), Some(500));
    let tokens = w.mint_tokens_every_way(30);

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
