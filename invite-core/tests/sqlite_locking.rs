#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Locking and its error codes: `BEGIN IMMEDIATE` writers exclude each other across
//! connections (and so processes) and within a store, waiting at most the busy timeout
//! before `STORAGE_CONFLICT`; WAL readers run beside the writer; read transactions
//! cannot write.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use invite_core::store::sqlite::{SqliteOptions, SqliteStore};
use invite_core::{Business, BusinessId, ErrorCode, Store};

const SHORT: Duration = Duration::from_millis(150);

fn business(n: u128) -> Business {
    Business {
        id: BusinessId::from_uuid(uuid::Uuid::from_u128(n)),
        name: format!("B{n}"),
        created_at: Utc::now(),
    }
}

fn temp_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    (dir, path)
}

fn begin_code(store: &dyn Store) -> Option<ErrorCode> {
    store.begin().err().map(|e| e.code())
}

#[test]
fn a_writer_on_another_connection_makes_begin_a_conflict_after_the_busy_timeout() {
    for options in [SqliteOptions::wal(), SqliteOptions::rollback_journal()] {
        let (_dir, path) = temp_path();
        let holder = SqliteStore::open(&path, options.clone()).unwrap();
        let other = SqliteStore::open(&path, options.clone().with_busy_timeout(SHORT)).unwrap();
        let tx = holder.begin().unwrap();
        let started = Instant::now();
        assert_eq!(
            begin_code(&other),
            Some(ErrorCode::StorageConflict),
            "{options:?}"
        );
        assert!(
            started.elapsed() >= SHORT - Duration::from_millis(20),
            "it waited for the lock first"
        );
        drop(tx);
        let mut tx = other.begin().unwrap();
        tx.insert_business(&business(1)).unwrap();
        tx.commit().unwrap();
        assert!(
            holder
                .begin_read()
                .unwrap()
                .get_business(business(1).id)
                .unwrap()
                .is_some()
        );
    }
}

#[test]
fn writers_of_one_store_queue_and_time_out_as_conflict() {
    let (_dir, path) = temp_path();
    let store = Arc::new(
        SqliteStore::open(&path, SqliteOptions::default().with_busy_timeout(SHORT)).unwrap(),
    );
    let tx = store.begin().unwrap();
    let waiter = {
        let store = store.clone();
        thread::spawn(move || begin_code(&*store))
    };
    assert_eq!(waiter.join().unwrap(), Some(ErrorCode::StorageConflict));
    // A writer that frees the lock within the timeout lets the next one in.
    let store2 = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let waiter = {
        let store = store2.clone();
        thread::spawn(move || {
            let mut tx = store.begin()?;
            tx.insert_business(&business(2))?;
            tx.commit()
        })
    };
    thread::sleep(Duration::from_millis(50));
    drop(tx);
    waiter.join().unwrap().unwrap();
    assert!(
        store
            .begin_read()
            .unwrap()
            .get_business(business(2).id)
            .unwrap()
            .is_some()
    );
}

#[test]
fn wal_readers_do_not_wait_for_the_writer_and_see_the_last_commit() {
    let (_dir, path) = temp_path();
    let store = Arc::new(
        SqliteStore::open(
            &path,
            SqliteOptions::wal().with_busy_timeout(Duration::from_secs(5)),
        )
        .unwrap(),
    );
    let mut tx = store.begin().unwrap();
    tx.insert_business(&business(1)).unwrap();
    tx.commit().unwrap();

    let mut writer = store.begin().unwrap();
    writer.insert_business(&business(2)).unwrap();
    let reader = {
        let store = store.clone();
        thread::spawn(move || {
            let started = Instant::now();
            let mut read = store.begin_read().unwrap();
            let seen = (
                read.get_business(business(1).id).unwrap().is_some(),
                read.get_business(business(2).id).unwrap().is_some(),
            );
            (seen, started.elapsed())
        })
    };
    let (seen, waited) = reader.join().unwrap();
    assert_eq!(
        seen,
        (true, false),
        "the committed row, not the uncommitted one"
    );
    assert!(
        waited < Duration::from_secs(1),
        "a WAL reader does not wait for the writer ({waited:?})"
    );
    writer.commit().unwrap();
    assert!(
        store
            .begin_read()
            .unwrap()
            .get_business(business(2).id)
            .unwrap()
            .is_some()
    );
}

#[test]
fn rollback_journal_commit_blocked_by_a_reader_is_a_conflict_and_rolls_back() {
    let (_dir, path) = temp_path();
    let options = SqliteOptions::rollback_journal().with_busy_timeout(SHORT);
    let store = SqliteStore::open(&path, options).unwrap();
    let mut read = store.begin_read().unwrap();
    assert!(read.get_business(business(1).id).unwrap().is_none()); // holds a shared lock now
    let mut tx = store.begin().unwrap();
    tx.insert_business(&business(1)).unwrap();
    let err = tx.commit().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageConflict);
    drop(read);
    assert!(
        store
            .begin_read()
            .unwrap()
            .get_business(business(1).id)
            .unwrap()
            .is_none(),
        "nothing committed"
    );
    let mut tx = store.begin().unwrap();
    tx.insert_business(&business(1)).unwrap();
    tx.commit().unwrap();
    assert!(
        store
            .begin_read()
            .unwrap()
            .get_business(business(1).id)
            .unwrap()
            .is_some()
    );
}

#[test]
fn read_transactions_cannot_write() {
    let (_dir, path) = temp_path();
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let mut read = store.begin_read().unwrap();
    let err = read.insert_business(&business(1)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageUnavailable);
}

#[test]
fn dropped_transactions_roll_back_and_free_the_connection() {
    // The directory outlives both stores (it is dropped, and removed, last).
    let (_dir, path) = temp_path();
    for store in [
        SqliteStore::open_in_memory(SqliteOptions::default().with_busy_timeout(SHORT)).unwrap(),
        SqliteStore::open(&path, SqliteOptions::default().with_busy_timeout(SHORT)).unwrap(),
    ] {
        for n in 0..3 {
            let mut tx = store.begin().unwrap();
            tx.insert_business(&business(n)).unwrap();
            // An error inside the transaction leaves it usable and rolled back on drop.
            assert_eq!(
                tx.insert_business(&business(n)).unwrap_err().code(),
                ErrorCode::AlreadyExists
            );
        }
        assert!(
            store
                .begin_read()
                .unwrap()
                .list_businesses()
                .unwrap()
                .is_empty()
        );
        let mut tx = store.begin().unwrap();
        tx.insert_business(&business(9)).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            store.begin_read().unwrap().list_businesses().unwrap().len(),
            1
        );
    }
}

#[test]
fn in_memory_store_is_private_and_shared_by_its_threads() {
    let a = Arc::new(SqliteStore::open_in_memory(SqliteOptions::default()).unwrap());
    let b = SqliteStore::open_in_memory(SqliteOptions::default()).unwrap();
    let handles: Vec<_> = (0..8u128)
        .map(|n| {
            let a = a.clone();
            thread::spawn(move || {
                let mut tx = a.begin().unwrap();
                tx.insert_business(&business(n)).unwrap();
                tx.commit().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(a.begin_read().unwrap().list_businesses().unwrap().len(), 8);
    assert!(
        b.begin_read()
            .unwrap()
            .list_businesses()
            .unwrap()
            .is_empty(),
        "each in-memory store is its own database"
    );
    assert_eq!(a.journal_mode_in_force().unwrap(), "memory");
}
