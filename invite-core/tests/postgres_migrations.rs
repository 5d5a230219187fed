//! Schema migrations on open: idempotent, safe for concurrent openers, and a newer
//! schema is refused. Without `INVITE_TEST_POSTGRES_URL` every test prints SKIPPED.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod postgres_support;

use std::sync::{Arc, Barrier};

use invite_core::store::postgres::SCHEMA_VERSION;
use invite_core::{ErrorCode, Store};
use postgres_support::TestDb;

fn versions(db: &TestDb) -> Vec<i32> {
    db.client()
        .query(
            "SELECT version FROM invite_core_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn expected_versions() -> Vec<i32> {
    (1..=SCHEMA_VERSION).collect()
}

#[test]
fn reopening_migrates_nothing_and_keeps_the_data() {
    let Some(db) = TestDb::new() else { return };
    let first = Arc::new(db.store());
    let service = postgres_support::service(
        first.clone(),
        invite_core::Config::with_base_url("https://app.example.com/accept"),
    )
    .unwrap();
    let acme = service.create_business("Acme").unwrap();
    drop(service);
    drop(first);
    for _ in 0..3 {
        let again: Arc<dyn Store> = Arc::new(db.store());
        let service = postgres_support::service(
            again,
            invite_core::Config::with_base_url("https://app.example.com/accept"),
        )
        .unwrap();
        assert_eq!(service.get_business(acme.id).unwrap().name, "Acme");
    }
    assert_eq!(
        versions(&db),
        expected_versions(),
        "each migration recorded once"
    );
}

#[test]
fn concurrent_openers_migrate_once() {
    let Some(db) = TestDb::new() else { return };
    let db = Arc::new(db);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                db.store_with(db.options().max_connections(1)).kind()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "postgres");
    }
    assert_eq!(versions(&db), expected_versions());
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = TestDb::new() else { return };
    drop(db.store());
    db.client()
        .execute(
            "INSERT INTO invite_core_migrations (version, name) VALUES ($1, 'from the future')",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    let refused = invite_core::store::postgres::PostgresStore::open_with(&db.url, db.options());
    assert_eq!(
        refused.unwrap_err().code(),
        ErrorCode::SchemaVersionUnsupported
    );
    // Nothing was changed by the refused open.
    assert_eq!(versions(&db).last(), Some(&(SCHEMA_VERSION + 1)));
}

/// A schema at version 1 (before the index of resends by actor) is brought to the
/// current version on open, its data kept.
#[test]
fn a_version_1_schema_is_upgraded_in_place() {
    let Some(db) = TestDb::new() else { return };
    let config = || invite_core::Config::with_base_url("https://app.example.com/accept");
    let service = postgres_support::service(Arc::new(db.store()), config()).unwrap();
    let acme = service.create_business("Acme").unwrap();
    drop(service);
    // What version 1 was: the same tables, without version 2's index.
    db.client()
        .batch_execute(
            "DROP INDEX events_resent_by_actor; \
             DELETE FROM invite_core_migrations WHERE version >= 2;",
        )
        .unwrap();
    assert_eq!(versions(&db), [1]);

    let service = postgres_support::service(Arc::new(db.store()), config()).unwrap();
    assert_eq!(versions(&db), expected_versions());
    let index: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'events_resent_by_actor' \
             AND schemaname = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(index, 1);
    assert_eq!(service.get_business(acme.id).unwrap().name, "Acme");
}
