#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! `sqlite:` URLs: every accepted form, and `INVALID_CONFIG` for the rest.

use std::path::PathBuf;
use std::time::Duration;

use invite_core::store::sqlite::{
    DEFAULT_PAGE_SIZE, JournalMode, MAX_BUSY_TIMEOUT, SqliteLocation, SqliteOptions, SqliteStore,
    SqliteUrl, Synchronous,
};
use invite_core::{ErrorCode, Store};

fn file(path: &str) -> SqliteLocation {
    SqliteLocation::File(PathBuf::from(path))
}

#[test]
fn accepted_forms() {
    let cases = [
        ("sqlite::memory:", SqliteLocation::Memory),
        ("sqlite://:memory:", SqliteLocation::Memory),
        ("sqlite:/var/lib/app.db", file("/var/lib/app.db")),
        ("sqlite:///var/lib/app.db", file("/var/lib/app.db")),
        ("sqlite:app.db", file("app.db")),
        ("sqlite://app.db", file("app.db")),
        ("sqlite:data/app.db", file("data/app.db")),
        ("  sqlite:app.db  ", file("app.db")),
    ];
    for (url, location) in cases {
        let parsed = SqliteUrl::parse(url).unwrap();
        assert_eq!(parsed.location, location, "{url}");
        assert_eq!(parsed.options, SqliteOptions::default(), "{url}");
    }
}

#[test]
fn query_parameters() {
    let parsed = SqliteUrl::parse("sqlite:app.db?journal_mode=delete&synchronous=full").unwrap();
    assert_eq!(parsed.location, file("app.db"));
    assert_eq!(parsed.options.journal_mode(), JournalMode::Delete);
    assert_eq!(parsed.options.synchronous(), Synchronous::Full);

    let parsed = SqliteUrl::parse("sqlite:///tmp/x.db?journal_mode=WAL&synchronous=Off").unwrap();
    assert_eq!(parsed.location, file("/tmp/x.db"));
    assert_eq!(parsed.options.journal_mode(), JournalMode::Wal);
    assert_eq!(parsed.options.synchronous(), Synchronous::Off);

    let parsed = SqliteUrl::parse(
        "sqlite::memory:?busy_timeout_ms=250&synchronous=normal&wal_autocheckpoint=0",
    )
    .unwrap();
    assert_eq!(parsed.location, SqliteLocation::Memory);
    assert_eq!(parsed.options.busy_timeout(), Duration::from_millis(250));
    assert_eq!(parsed.options.wal_autocheckpoint(), 0);
    assert_eq!(parsed.options.synchronous(), Synchronous::Normal);

    let parsed = SqliteUrl::parse("sqlite:app.db?page_size=4096").unwrap();
    assert_eq!(parsed.options.page_size(), 4096);
    assert_eq!(SqliteOptions::default().page_size(), DEFAULT_PAGE_SIZE);

    // The synchronous default follows the journal mode.
    let parsed = SqliteUrl::parse("sqlite:app.db?journal_mode=delete").unwrap();
    assert_eq!(parsed.options.synchronous(), Synchronous::Full);
    let parsed = SqliteUrl::parse("sqlite:app.db?").unwrap();
    assert_eq!(parsed.options, SqliteOptions::default());
    assert_eq!(parsed.options.synchronous(), Synchronous::Normal);
}

#[test]
fn an_endless_busy_timeout_is_cut_to_what_sqlite_takes() {
    let url = "sqlite::memory:?busy_timeout_ms=18446744073709551615";
    let parsed = SqliteUrl::parse(url).unwrap();
    assert_eq!(parsed.options.busy_timeout(), MAX_BUSY_TIMEOUT);
    let store = SqliteStore::open_url(url).unwrap();
    assert_eq!(store.options().busy_timeout(), MAX_BUSY_TIMEOUT);
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::default().with_busy_timeout(Duration::MAX);
    let store = SqliteStore::open(dir.path().join("a.db"), options).unwrap();
    store.begin().unwrap().commit().unwrap();
}

#[test]
fn invalid_urls_are_invalid_config() {
    let cases = [
        "sqlite:",
        "sqlite://",
        "sqlite:?journal_mode=wal",
        "postgres://localhost/db",
        "sqlite:app.db?foo=bar",
        "sqlite:app.db?journal_mode=truncate",
        "sqlite:app.db?journal_mode=",
        "sqlite:app.db?journal_mode",
        "sqlite:app.db?synchronous=extra",
        "sqlite:app.db?busy_timeout_ms=-1",
        "sqlite:app.db?busy_timeout_ms=soon",
        "sqlite:app.db?wal_autocheckpoint=-5",
        // Past SQLite's int: it would read as 0, turning checkpoints off.
        "sqlite:app.db?wal_autocheckpoint=2147483648",
        "sqlite:app.db?journal_mode=wal&journal_mode=delete",
        "sqlite::memory:?cache=shared",
        // SQLite would silently keep its default for a size it does not take.
        "sqlite:app.db?page_size=3000",
        "sqlite:app.db?page_size=256",
        "sqlite:app.db?page_size=131072",
        "sqlite:app.db?page_size=big",
    ];
    for url in cases {
        let err = SqliteUrl::parse(url).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{url}");
    }
    for url in [
        "sqlite:app.db?foo=bar",
        "sqlite:",
        "sqlite:x.db?synchronous=sometimes",
    ] {
        let code = invite_core::store::open(url).err().map(|e| e.code());
        assert_eq!(code, Some(ErrorCode::InvalidConfig), "{url}");
    }
}

#[test]
fn store_open_dispatches_sqlite_urls() {
    let store = invite_core::store::open("sqlite::memory:").unwrap();
    assert_eq!(store.kind(), "sqlite");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by-url.db");
    let url = format!(
        "sqlite://{}?journal_mode=delete&synchronous=full",
        path.display()
    );
    let store = invite_core::store::open(&url).unwrap();
    assert_eq!(store.kind(), "sqlite");
    assert!(path.exists(), "the file is created");
    drop(store);
    let direct = SqliteStore::open_url(&url).unwrap();
    assert_eq!(direct.journal_mode_in_force().unwrap(), "delete");
    assert_eq!(direct.synchronous_in_force().unwrap(), Synchronous::Full);
    assert_eq!(direct.location(), &SqliteLocation::File(path.clone()));
}

/// A path starting with `file:` is a file of that name, not a SQLite URI (which would be
/// percent-decoded, or `file::memory:` in memory).
#[test]
fn a_path_starting_with_file_colon_is_taken_as_is() {
    let name = format!("file:invite-core-literal-{}%20x.db", std::process::id());
    let store = invite_core::store::open(&format!("sqlite:{name}")).unwrap();
    drop(store);
    let exists = std::path::Path::new(&name).exists();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{name}{suffix}"));
    }
    assert!(exists, "the file is named as written, `%20` included");
}

#[test]
fn unopenable_file_is_storage_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}/missing-dir/app.db", dir.path().display());
    let code = invite_core::store::open(&url).err().map(|e| e.code());
    assert_eq!(code, Some(ErrorCode::StorageUnavailable));
}
