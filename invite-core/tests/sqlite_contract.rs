#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The store contract suite on SQLite: a fresh temporary file per test, in WAL mode (the
//! default) and with the rollback journal, and a private `sqlite::memory:` database.
//!
//! The rollback-journal run turns fsync off: it checks the locking of that mode (readers
//! and the writer exclude each other), not the disk; `sqlite_races` runs it with FULL.

mod common;
#[macro_use]
mod contract;

use std::sync::Arc;

use invite_core::store::Transaction;
use invite_core::store::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use invite_core::{Result, Store};

/// A SQLite store on a file in its own temporary directory, removed with the store.
struct TempSqlite {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Store for TempSqlite {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        self.store.begin()
    }

    fn begin_read(&self) -> Result<Box<dyn Transaction + '_>> {
        self.store.begin_read()
    }

    fn kind(&self) -> &'static str {
        self.store.kind()
    }
}

fn temp_file(options: SqliteOptions) -> Option<Arc<dyn Store>> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("invite.db"), options).unwrap();
    Some(Arc::new(TempSqlite { store, _dir: dir }))
}

mod wal_file {
    use super::*;
    contract_tests!(|| temp_file(SqliteOptions::wal()));
}

mod rollback_journal_file {
    use super::*;
    contract_tests!(|| temp_file(
        SqliteOptions::rollback_journal().with_synchronous(Synchronous::Off)
    ));
}

mod in_memory {
    contract_tests!(|| Some(invite_core::store::open("sqlite::memory:").unwrap()));
}
