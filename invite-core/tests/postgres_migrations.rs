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

/// What each migration after the first added (version, the statements that undo it,
/// the indexes it created): a schema at version `v` is the current one without the
/// additions of the versions above `v`.
const ADDED: &[(i32, &str, &[&str])] = &[
    (
        2,
        "DROP INDEX events_resent_by_actor",
        &["events_resent_by_actor"],
    ),
    (
        3,
        "DROP INDEX idempotency_keys_by_expiry; DROP INDEX invitations_email",
        &["idempotency_keys_by_expiry", "invitations_email"],
    ),
    (4, "DROP INDEX invitations_status", &["invitations_status"]),
];

/// A schema at each older version (version 1: before the index of resends by actor;
/// version 2: before the indexes of idempotency records by expiry and of invitations by
/// email; version 3: before the index of invitations by status) is brought to the
/// current version on open, its data kept.
#[test]
fn an_older_schema_is_upgraded_in_place() {
    assert_eq!(
        ADDED.last().map(|a| a.0),
        Some(SCHEMA_VERSION),
        "every migration listed"
    );
    for older in 1..SCHEMA_VERSION {
        let Some(db) = TestDb::new() else { return };
        let config = || invite_core::Config::with_base_url("https://app.example.com/accept");
        let service = postgres_support::service(Arc::new(db.store()), config()).unwrap();
        let acme = service.create_business("Acme").unwrap();
        drop(service);
        for (_, undo, _) in ADDED.iter().filter(|a| a.0 > older) {
            db.client().batch_execute(undo).unwrap();
        }
        db.client()
            .execute(
                "DELETE FROM invite_core_migrations WHERE version > $1",
                &[&older],
            )
            .unwrap();
        assert_eq!(versions(&db), (1..=older).collect::<Vec<_>>());

        let service = postgres_support::service(Arc::new(db.store()), config()).unwrap();
        assert_eq!(versions(&db), expected_versions(), "from version {older}");
        for index in ADDED.iter().flat_map(|a| a.2) {
            let found: i64 = db
                .client()
                .query_one(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = $1 \
                     AND schemaname = current_schema()",
                    &[index],
                )
                .unwrap()
                .get(0);
            assert_eq!(found, 1, "{index} from version {older}");
        }
        assert_eq!(service.get_business(acme.id).unwrap().name, "Acme");
    }
}
