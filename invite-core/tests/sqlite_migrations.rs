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

fn journal_mode(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))
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
    // A newer library (or the host) keeps this file in rollback-journal mode.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "PRAGMA journal_mode = delete; PRAGMA user_version = {newer}"
        ))
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
    assert_eq!(journal_mode(&path), "delete", "its journal mode too");
}

#[test]
fn a_foreign_file_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.db");
    // A file of another program: a store pointed at the wrong file.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE users (whatever TEXT);")
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
    assert_eq!(user_version(&path), 0, "no version was recorded");
    assert_eq!(table_count(&path), 1, "no table was added");
    assert_eq!(journal_mode(&path), "delete", "nor a switch to WAL");
}

#[test]
fn failed_migration_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clash.db");
    // No table, but a view named like a table of version 1: the migration fails
    // part-way, and its transaction leaves nothing behind.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE VIEW events AS SELECT 1 AS whatever;")
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageUnavailable);
    assert_eq!(user_version(&path), 0, "no version was recorded");
    assert_eq!(
        table_count(&path),
        0,
        "no table of the failed migration remains"
    );
    assert_eq!(journal_mode(&path), "delete", "nor a switch to WAL");
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

/// Every row of every table, as text, sorted: what a file holds, whatever its layout.
fn rows(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let mut query = statement.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<rusqlite::types::Value> =
                (0..columns).map(|i| row.get(i).unwrap()).collect();
            rows.push(format!("{table}: {values:?}"));
        }
    }
    rows.sort();
    rows
}

/// Every schema object (tables, indexes, triggers) with its SQL, sorted by name.
fn schema(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Rewrites a current file's ids and instants in schema version 2's text form (a
/// 16-byte BLOB is an id, a 12-byte one an instant; token hashes are 32 bytes and stay)
/// and records version 2: the rows a version 2 file held.
fn write_as_version_2(path: &std::path::Path) {
    use rusqlite::functions::FunctionFlags;
    use rusqlite::types::{Value, ValueRef};
    let conn = rusqlite::Connection::open(path).unwrap();
    // Version 3's tables refuse text ids (see `an_older_process_cannot_write_text_ids`).
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")
        .unwrap();
    conn.create_scalar_function("v2_text", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Blob(b) if b.len() == 16 => {
                Value::Text(uuid::Uuid::from_slice(b).unwrap().hyphenated().to_string())
            }
            ValueRef::Blob(b) if b.len() == 12 => {
                let seconds = (u64::from_be_bytes(b[..8].try_into().unwrap()) ^ (1 << 63)) as i64;
                let nanos = u32::from_be_bytes(b[8..].try_into().unwrap());
                let at = chrono::DateTime::from_timestamp(seconds, nanos).unwrap();
                Value::Text(at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
            }
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).unwrap()),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Null => Value::Null,
        })
    })
    .unwrap();
    // The triggers would count the rewritten business ids as moves between businesses.
    let triggers: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(triggers.len(), 4, "the pending counters' triggers");
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
    let columns: Vec<(String, String)> = conn
        .prepare(
            "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c
             WHERE m.type = 'table'",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (table, column) in columns {
        conn.execute_batch(&format!(
            "UPDATE \"{table}\" SET \"{column}\" = v2_text(\"{column}\")"
        ))
        .unwrap();
    }
    for (_, sql) in &triggers {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch("PRAGMA user_version = 2").unwrap();
}

/// A file written at version 2 (ids and instants as text) is brought to the current
/// version on open: every row is kept exactly, the schema is a new file's, and the
/// service goes on where it stopped (a token sent before the upgrade is accepted after
/// it, the seat counters hold).
#[test]
fn a_version_2_file_is_upgraded_in_place() {
    use invite_core::{AcceptRequest, CapturingMailer, InvitationStatus};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let (w, pending) = {
        let w = common::World::with_config(
            Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap()),
            common::config(),
            Some(10),
        );
        let s = &w.service;
        let first = s
            .send(&w.invite_new("Ada", "Pending", "pending@example.com"))
            .unwrap();
        let accepted = s
            .send(&w.invite_new("Bo", "Accepted", "accepted@example.com"))
            .unwrap();
        s.accept(&AcceptRequest::new(accepted.token.expose()))
            .unwrap();
        let revoked = s
            .send(&w.invite_new("Cy", "Revoked", "revoked@example.com"))
            .unwrap();
        s.revoke(w.business.id, revoked.invitation.id, w.admin.id)
            .unwrap();
        s.send(
            &w.invite_new("Di", "Keyed", "keyed@example.com")
                .idempotency_key("key-1"),
        )
        .unwrap();
        s.dispatch_outbox(&CapturingMailer::new()).unwrap();
        // A resend later on: the invitation's instants all differ.
        w.clock.advance(chrono::Duration::minutes(90));
        let pending = s
            .resend(w.business.id, first.invitation.id, w.admin.id, None)
            .unwrap();
        (w, pending)
    };
    let stored = w
        .service
        .get_invitation(w.business.id, pending.invitation.id)
        .unwrap();
    let before = rows(&path);
    let fresh = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh, SqliteOptions::default()).unwrap());

    write_as_version_2(&path);
    assert_ne!(rows(&path), before, "the file holds version 2's text");
    let upgraded = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    assert_eq!(rows(&path), before, "every row as it was");
    assert_eq!(schema(&path), schema(&fresh), "the schema of a new file");

    let (service, _) = common::service_on(upgraded, common::config());
    assert_eq!(
        service
            .get_invitation(w.business.id, pending.invitation.id)
            .unwrap(),
        stored
    );
    assert_eq!(
        service
            .seat_usage(w.business.id, w.subscription.id)
            .unwrap(),
        w.usage(),
        "the counters kept"
    );
    let accepted = service
        .accept(&AcceptRequest::new(pending.token.expose()))
        .unwrap();
    assert_eq!(accepted.invitation.status, InvitationStatus::Accepted);
    let found = service
        .search_users("accepted@", &invite_core::PageRequest::first(10))
        .unwrap();
    assert_eq!(found.items.len(), 1, "the search keys kept");
}

/// A file at version 3 (before the index of idempotency records by expiry, and with
/// pending invitations indexed by subscription and email rather than all by email) gets
/// version 4's indexes on open, every row kept, and the schema of a new file; a
/// duplicate is still refused and the email filter still finds the person.
#[test]
fn a_version_3_file_gets_version_4s_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let w = common::World::new(Arc::new(
        SqliteStore::open(&path, SqliteOptions::default()).unwrap(),
    ));
    let keyed = w
        .invite_new("Di", "Keyed", "keyed@example.com")
        .idempotency_key("key-1");
    let first = w.service.send(&keyed).unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh, SqliteOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP INDEX idempotency_by_expiry;
         DROP INDEX invitations_by_email;
         CREATE INDEX invitations_pending_by_email
             ON invitations (business_id, subscription_id, email_key) WHERE status = 'pending';
         PRAGMA user_version = 3",
    )
    .unwrap();
    drop(conn);
    let before = rows(&path);
    assert_ne!(schema(&path), schema(&fresh), "version 3's indexes");

    let upgraded = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    assert_eq!(user_version(&path), i64::from(SCHEMA_VERSION));
    assert_eq!(rows(&path), before, "every row as it was");
    assert_eq!(schema(&path), schema(&fresh), "the schema of a new file");
    let (service, _) = common::service_on(upgraded, common::config());
    let replayed = service.send(&keyed).unwrap();
    assert!(replayed.replayed, "the record is read after the upgrade");
    assert_eq!(replayed.invitation.id, first.invitation.id);
    let again = w.invite_new("Di", "Keyed", "KEYED@example.com");
    assert_eq!(
        service.send(&again).unwrap_err().code(),
        invite_core::ErrorCode::AlreadyInvited
    );
    let filter = invite_core::InvitationFilter {
        email: Some("keyed@EXAMPLE.com".into()),
        ..Default::default()
    };
    let listed = service
        .list_invitations(w.business.id, &filter, &invite_core::PageRequest::first(10))
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [first.invitation.id]
    );
}

/// A version 2 file holding a value that is not version 2's text is refused, and left
/// as it was.
#[test]
fn an_unreadable_version_2_file_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.db");
    drop(common::World::new(Arc::new(
        SqliteStore::open(&path, SqliteOptions::default()).unwrap(),
    )));
    write_as_version_2(&path);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("UPDATE businesses SET created_at = 'yesterday'")
        .unwrap();
    drop(conn);
    let before = (rows(&path), schema(&path));

    let error = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert_eq!(error.code(), ErrorCode::StorageUnavailable);
    assert_eq!(user_version(&path), 2);
    assert_eq!((rows(&path), schema(&path)), before);
}

/// A process of an older version that had the file open across the upgrade prepares
/// its statements again against the new tables; its inserts, which bind text ids, fail
/// instead of adding rows in the old layout, in every table.
#[test]
fn an_older_process_cannot_write_text_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guarded.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: Vec<(String, i64)> = conn
        .prepare(
            "SELECT m.name, COUNT(*) FROM sqlite_master AS m, pragma_table_info(m.name) AS c
             WHERE m.type = 'table' GROUP BY m.name",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables.len(), 14);
    let id = "019cadc6-9a80-700d-94e5-1d543166124c";
    for (table, columns) in tables {
        // Every column text (an old process's ids and instants), but `invitee_kind`.
        let values: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .map(|name| match name.unwrap().as_str() {
                "invitee_kind" => "'new'".to_owned(),
                _ => format!("'{id}'"),
            })
            .collect();
        assert_eq!(values.len() as i64, columns);
        let error = conn
            .execute(
                &format!("INSERT INTO {table} VALUES ({})", values.join(", ")),
                [],
            )
            .unwrap_err();
        assert_eq!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation),
            "{table}: {error}"
        );
    }
}

/// Every page of `search_users(query)`, one user per page, as names.
fn search_one_by_one(service: &invite_core::InviteService, query: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut page = invite_core::PageRequest::first(1);
    loop {
        let found = service.search_users(query, &page).unwrap();
        names.extend(found.items.iter().map(invite_core::User::display_name));
        match found.next_cursor {
            Some(cursor) => page = invite_core::PageRequest::after(cursor, 1),
            None => return names,
        }
    }
}

/// Versions before this one also kept a search key of the first name alone. A file
/// still holding those keys searches as a new one does: search skips them.
#[test]
fn first_name_keys_of_earlier_versions_are_skipped_by_search() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.db");
    let store = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let (service, _) = common::service_on(store, common::config());
    let people = [
        ("Ada", "Lovelace", "lovelace@example.com"),
        ("Ada", "Byron", "byron@example.com"),
        ("Adam", "Smith", "smith@example.com"),
        ("Bea", "Ada", "bea@example.com"),
        ("Adaline", "Ng", "ng@example.com"),
    ];
    let mut ids = Vec::new();
    for (first, last, email) in people {
        ids.push(
            service
                .create_user(&common::person(first, last, email))
                .unwrap()
                .id,
        );
    }
    let before = search_one_by_one(&service, "ada");
    assert_eq!(
        before,
        [
            "Bea Ada",
            "Ada Byron",
            "Ada Lovelace",
            "Adaline Ng",
            "Adam Smith"
        ],
        "by smallest matching key: the last name, then the full names"
    );

    // What an earlier version wrote besides: one key per first name.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (id, (first, ..)) in ids.iter().zip(people) {
        conn.execute(
            "INSERT INTO user_search_keys (key, user_id) VALUES (lower(?1), ?2)",
            rusqlite::params![first, id.as_uuid().as_bytes().as_slice()],
        )
        .unwrap();
    }
    drop(conn);
    assert_eq!(search_one_by_one(&service, "ada"), before);
    assert_eq!(search_one_by_one(&service, "adam"), ["Adam Smith"]);

    // Renamed, a user is no longer found by the old first name, whose key remains.
    service
        .update_user(
            ids[0],
            &common::person("Grace", "Lovelace", "lovelace@example.com"),
        )
        .unwrap();
    assert_eq!(
        search_one_by_one(&service, "ada"),
        ["Bea Ada", "Ada Byron", "Adaline Ng", "Adam Smith"]
    );
    assert_eq!(search_one_by_one(&service, "grace"), ["Grace Lovelace"]);
}
