#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Schema migrations: idempotent, transactional, refusing a newer schema; data survives.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use invite_core::ErrorCode;
use invite_core::store::sqlite::{DEFAULT_PAGE_SIZE, SCHEMA_VERSION, SqliteOptions, SqliteStore};

fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

fn table_count(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |row| row.get(0),
    )
    .unwrap()
}

#[test]
fn fresh_file_gets_the_current_schema_and_reopens_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    let tables = table_count(&path);
    assert!(tables >= 10, "the schema is in place ({tables} tables)");
    drop(store);
    for _ in 0..2 {
        let again = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
    }
    assert_eq!(table_count(&path), tables, "reopening creates nothing");
}

fn page_size(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA page_size", [], |row| row.get(0))
        .unwrap()
}

/// A new file gets the page size asked for (in both journal modes, and in memory); an
/// existing file keeps its own, and its data.
#[test]
fn page_size_applies_to_new_files_only() {
    for options in [SqliteOptions::wal(), SqliteOptions::rollback_journal()] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let store = SqliteStore::open(&path, options.clone()).unwrap();
        assert_eq!(store.page_size_in_force().unwrap(), DEFAULT_PAGE_SIZE);
        let w = common::World::new(Arc::new(store));
        let business = w.business.id;
        drop(w);
        assert_eq!(page_size(&path), i64::from(DEFAULT_PAGE_SIZE));

        let store = SqliteStore::open(&path, options.clone().with_page_size(8192)).unwrap();
        assert_eq!(store.page_size_in_force().unwrap(), DEFAULT_PAGE_SIZE);
        let service = invite_core::InviteService::new(
            Arc::new(store),
            invite_core::Config::with_base_url("https://app.example.com/accept"),
        )
        .unwrap();
        assert_eq!(service.get_business(business).unwrap().id, business);

        let other = dir.path().join("big.db");
        let store = SqliteStore::open(&other, options.with_page_size(8192)).unwrap();
        assert_eq!(store.page_size_in_force().unwrap(), 8192);
        drop(store);
        assert_eq!(page_size(&other), 8192);
    }
    let store = SqliteStore::open_in_memory(SqliteOptions::default().with_page_size(1024)).unwrap();
    assert_eq!(store.page_size_in_force().unwrap(), 1024);
}

#[test]
fn a_page_size_sqlite_does_not_take_is_invalid_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    for bytes in [0, 256, 3000, 131_072] {
        let options = SqliteOptions::default().with_page_size(bytes);
        let code = SqliteStore::open(&path, options.clone())
            .err()
            .map(|e| e.code());
        assert_eq!(code, Some(ErrorCode::InvalidConfig), "{bytes}");
        let code = SqliteStore::open_in_memory(options).err().map(|e| e.code());
        assert_eq!(code, Some(ErrorCode::InvalidConfig), "{bytes}");
    }
    assert!(!path.exists(), "no file is created for a refused option");
}

#[test]
fn data_survives_reopen_in_both_journal_modes() {
    for options in [SqliteOptions::wal(), SqliteOptions::rollback_journal()] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let (business, subscription, invitation, token) = {
            let w =
                common::World::new(Arc::new(SqliteStore::open(&path, options.clone()).unwrap()));
            let sent = w
                .service
                .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
                .unwrap();
            (
                w.business.clone(),
                w.subscription.clone(),
                sent.invitation,
                sent.token,
            )
        };
        let store = Arc::new(SqliteStore::open(&path, options.clone()).unwrap());
        let (service, _clock) = common::service_on(store, common::config());
        assert_eq!(service.get_business(business.id).unwrap(), business);
        assert_eq!(
            service.get_invitation(business.id, invitation.id).unwrap(),
            invitation
        );
        assert_eq!(
            service
                .seat_usage(business.id, subscription.id)
                .unwrap()
                .reserved,
            1
        );
        let accepted = service
            .accept(&invite_core::AcceptRequest::new(token.expose()))
            .unwrap();
        assert!(accepted.user_created, "{options:?}");
    }
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let newer = i64::from(SCHEMA_VERSION) + 1;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {newer}"))
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaVersionUnsupported);
    let url = format!("sqlite:{}", path.display());
    let code = invite_core::store::open(&url).err().map(|e| e.code());
    assert_eq!(code, Some(ErrorCode::SchemaVersionUnsupported));
    assert_eq!(
        user_version(&path),
        newer,
        "a refused file is left untouched"
    );
}

#[test]
fn failed_migration_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.db");
    // A file of another program whose `events` table clashes with version 1.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE events (whatever TEXT);")
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageUnavailable);
    assert_eq!(user_version(&path), 0, "no version was recorded");
    assert_eq!(
        table_count(&path),
        1,
        "no table of the failed migration remains"
    );
}

#[test]
fn concurrent_first_opens_migrate_once() {
    // Several rounds: a lost race between openers shows up in a few percent of them.
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("app.db"));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    SqliteStore::open(&*path, SqliteOptions::default()).map(|s| s.schema_version())
                })
            })
            .collect();
        for h in handles {
            let opened = h.join().unwrap();
            let version = opened.unwrap_or_else(|e| panic!("round {round}: {:?}", e.code()));
            assert_eq!(version.unwrap(), SCHEMA_VERSION);
        }
        assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    }
}

/// A file written at version 1 (before the index of resends by actor) is brought to the
/// current version on open, its data kept.
#[test]
fn a_version_1_file_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let (business, invitation) = {
        let w = common::World::new(Arc::new(
            SqliteStore::open(&path, SqliteOptions::default()).unwrap(),
        ));
        let sent = w
            .service
            .send(&w.invite_new("Old", "File", "old@example.com"))
            .unwrap();
        (w.business.id, sent.invitation.id)
    };
    // What version 1 was: the same tables, without version 2's index.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP INDEX events_resent_by_actor; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);

    let reopened = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let service = invite_core::InviteService::new(Arc::new(reopened), common::config()).unwrap();
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_resent_by_actor'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(index, 1);
    assert_eq!(
        service.get_invitation(business, invitation).unwrap().email,
        "old@example.com"
    );
}
