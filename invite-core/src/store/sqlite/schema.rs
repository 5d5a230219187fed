//! Versioned schema migrations, applied on open inside one `BEGIN IMMEDIATE`
//! transaction (so processes opening the same file at once migrate it once).
//!
//! The version lives in `PRAGMA user_version`. Migration `n` (1-based) takes the schema
//! from version `n - 1` to `n`; a file whose version is above [`SCHEMA_VERSION`] was
//! written by a newer library and is refused with `SCHEMA_VERSION_UNSUPPORTED`.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::codec::{parse_ts, ts_bytes};
use super::errors::SqlResultExt;
use crate::error::{Error, ErrorCode, Result};

/// Version 1: every table of the port, seat counters on the subscription row, and one
/// index per query the adapter runs.
///
/// Tables keyed by an id are `WITHOUT ROWID`: ids are time-ordered, so rows are appended
/// to the primary-key B-tree itself and an insert touches one B-tree less. Every index
/// costs a page write per commit that changes it, so there is none beyond the queries'.
const V1: &str = r#"
CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
-- One row per distinct folded search key of a user (User::search_keys).
CREATE TABLE user_search_keys (
    key      TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (key, user_id)
) WITHOUT ROWID;

CREATE TABLE businesses (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE apps (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE business_apps (
    business_id  TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    PRIMARY KEY (business_id, app_id)
) WITHOUT ROWID;
CREATE TABLE business_admins (
    business_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    PRIMARY KEY (business_id, user_id)
) WITHOUT ROWID;
CREATE INDEX business_admins_by_user ON business_admins (user_id, business_id);

CREATE TABLE subscriptions (
    id           TEXT PRIMARY KEY NOT NULL,
    business_id  TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    plan         TEXT NOT NULL,
    seats        INTEGER,
    status       TEXT NOT NULL,
    valid_from   TEXT,
    valid_until  TEXT,
    created_at   TEXT NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_business ON subscriptions (business_id, id);

CREATE TABLE roles (
    id           TEXT PRIMARY KEY NOT NULL,
    app_id       TEXT NOT NULL,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL, -- JSON array of strings, sorted
    created_at   TEXT NOT NULL,
    UNIQUE (app_id, key)
) WITHOUT ROWID;
CREATE INDEX roles_by_app ON roles (app_id, id);

CREATE TABLE memberships (
    id               TEXT PRIMARY KEY NOT NULL,
    business_id      TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    app_id           TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    role_id          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (subscription_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_subscription ON memberships (subscription_id, id);
CREATE INDEX memberships_by_user ON memberships (user_id, id);

CREATE TABLE invitations (
    id                  TEXT PRIMARY KEY NOT NULL,
    business_id         TEXT NOT NULL,
    app_id              TEXT NOT NULL,
    subscription_id     TEXT NOT NULL,
    role_id             TEXT NOT NULL,
    invitee_kind        TEXT NOT NULL CHECK (invitee_kind IN ('existing', 'new')),
    invitee_user_id     TEXT,
    invitee_first_name  TEXT,
    invitee_last_name   TEXT,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    inviter_id          TEXT NOT NULL,
    status              TEXT NOT NULL,
    locale              TEXT,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    last_sent_at        TEXT NOT NULL,
    send_count          INTEGER NOT NULL,
    responded_at        TEXT,
    accepted_user_id    TEXT,
    delivery_state      TEXT NOT NULL,
    delivery_attempts   INTEGER NOT NULL,
    delivery_error      TEXT,
    delivered_at        TEXT,
    token_hash          BLOB NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE INDEX invitations_by_business ON invitations (business_id, id);
CREATE INDEX invitations_pending_by_email ON invitations (business_id, subscription_id, email_key)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_by_expiry ON invitations (expires_at, id)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_by_subscription ON invitations (subscription_id, expires_at, id)
    WHERE status = 'pending';
CREATE INDEX invitations_by_inviter ON invitations (inviter_id, created_at);

-- Stored-pending invitations per business, kept by triggers so `count_pending` is O(1).
CREATE TABLE business_pending (
    business_id  TEXT PRIMARY KEY NOT NULL,
    pending      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER invitations_pending_insert AFTER INSERT ON invitations
WHEN NEW.status = 'pending'
BEGIN
    INSERT INTO business_pending (business_id, pending) VALUES (NEW.business_id, 1)
    ON CONFLICT (business_id) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER invitations_pending_leave AFTER UPDATE OF status, business_id ON invitations
WHEN OLD.status = 'pending' AND (NEW.status <> 'pending' OR NEW.business_id <> OLD.business_id)
BEGIN
    UPDATE business_pending SET pending = pending - 1 WHERE business_id = OLD.business_id;
END;
CREATE TRIGGER invitations_pending_enter AFTER UPDATE OF status, business_id ON invitations
WHEN NEW.status = 'pending' AND (OLD.status <> 'pending' OR NEW.business_id <> OLD.business_id)
BEGIN
    INSERT INTO business_pending (business_id, pending) VALUES (NEW.business_id, 1)
    ON CONFLICT (business_id) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER invitations_pending_delete AFTER DELETE ON invitations
WHEN OLD.status = 'pending'
BEGIN
    UPDATE business_pending SET pending = pending - 1 WHERE business_id = OLD.business_id;
END;

CREATE TABLE events (
    id             TEXT PRIMARY KEY NOT NULL,
    business_id    TEXT NOT NULL,
    invitation_id  TEXT NOT NULL,
    kind           TEXT NOT NULL,
    actor_id       TEXT,
    at             TEXT NOT NULL,
    detail         TEXT
) WITHOUT ROWID;
CREATE INDEX events_by_business ON events (business_id, id);
CREATE INDEX events_by_invitation ON events (invitation_id, id);

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    business_id      TEXT NOT NULL,
    invitation_id    TEXT NOT NULL,
    sealed_token     TEXT,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    created_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_by_invitation ON outbox (invitation_id, id);

CREATE TABLE idempotency (
    business_id  TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (business_id, key)
);
"#;

/// Version 2: resends count against the actor's daily budget, counted by this partial
/// index (only `resent` events have entries, so other appends do not write it).
const V2: &str = r#"
CREATE INDEX events_resent_by_actor ON events (actor_id, at) WHERE kind = 'resent';
"#;

/// Version 3: ids and instants stored as BLOBs (`codec`): 16 bytes for an id, 12 for an
/// instant, instead of 36 and 30 characters of text. Index entries shrink by half or
/// more, so a send or an accept changes fewer pages: on PERF.md's workload in WAL mode,
/// about a fifth fewer log frames per operation and, in interleaved runs, about a quarter
/// more operations per second.
///
/// Every table is rebuilt with the same columns, keys, indexes and triggers: the old
/// tables are renamed, their rows copied through `invite_v2_id` and `invite_v2_instant`
/// (which read version 2's text, registered for the upgrade only), then dropped. On a new
/// file the tables are empty and this only re-creates them. Each table checks that the
/// id every insert writes first is a BLOB: a process of an older version that had the
/// file open across the upgrade (its statements are prepared again against the new
/// tables) fails its inserts instead of adding rows in the old layout. (Clustering events
/// by business would save their index by business, but an event id must stay unique
/// across businesses, which would need an index of its own.) With [`V4`]'s two indexes,
/// this is the whole current schema.
const V3: &str = r#"
DROP TRIGGER invitations_pending_insert;
DROP TRIGGER invitations_pending_leave;
DROP TRIGGER invitations_pending_enter;
DROP TRIGGER invitations_pending_delete;

ALTER TABLE users RENAME TO v2_users;
ALTER TABLE user_search_keys RENAME TO v2_user_search_keys;
ALTER TABLE businesses RENAME TO v2_businesses;
ALTER TABLE apps RENAME TO v2_apps;
ALTER TABLE business_apps RENAME TO v2_business_apps;
ALTER TABLE business_admins RENAME TO v2_business_admins;
ALTER TABLE subscriptions RENAME TO v2_subscriptions;
ALTER TABLE roles RENAME TO v2_roles;
ALTER TABLE memberships RENAME TO v2_memberships;
ALTER TABLE invitations RENAME TO v2_invitations;
ALTER TABLE business_pending RENAME TO v2_business_pending;
ALTER TABLE events RENAME TO v2_events;
ALTER TABLE outbox RENAME TO v2_outbox;
ALTER TABLE idempotency RENAME TO v2_idempotency;

CREATE TABLE users (
    id          BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL UNIQUE,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    created_at  BLOB NOT NULL
) WITHOUT ROWID;
-- One row per distinct folded search key of a user (User::search_keys).
CREATE TABLE user_search_keys (
    key      TEXT NOT NULL,
    user_id  BLOB NOT NULL CHECK (typeof(user_id) = 'blob'),
    PRIMARY KEY (key, user_id)
) WITHOUT ROWID;

CREATE TABLE businesses (
    id          BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    name        TEXT NOT NULL,
    created_at  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE apps (
    id          BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    name        TEXT NOT NULL,
    created_at  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE business_apps (
    business_id  BLOB NOT NULL CHECK (typeof(business_id) = 'blob'),
    app_id       BLOB NOT NULL,
    PRIMARY KEY (business_id, app_id)
) WITHOUT ROWID;
CREATE TABLE business_admins (
    business_id  BLOB NOT NULL CHECK (typeof(business_id) = 'blob'),
    user_id      BLOB NOT NULL,
    PRIMARY KEY (business_id, user_id)
) WITHOUT ROWID;

CREATE TABLE subscriptions (
    id           BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    business_id  BLOB NOT NULL,
    app_id       BLOB NOT NULL,
    plan         TEXT NOT NULL,
    seats        INTEGER,
    status       TEXT NOT NULL,
    valid_from   BLOB,
    valid_until  BLOB,
    created_at   BLOB NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
) WITHOUT ROWID;

CREATE TABLE roles (
    id           BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    app_id       BLOB NOT NULL,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL, -- JSON array of strings, sorted
    created_at   BLOB NOT NULL,
    UNIQUE (app_id, key)
) WITHOUT ROWID;

CREATE TABLE memberships (
    id               BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    business_id      BLOB NOT NULL,
    subscription_id  BLOB NOT NULL,
    app_id           BLOB NOT NULL,
    user_id          BLOB NOT NULL,
    role_id          BLOB NOT NULL,
    created_at       BLOB NOT NULL,
    UNIQUE (subscription_id, user_id)
) WITHOUT ROWID;

CREATE TABLE invitations (
    id                  BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    business_id         BLOB NOT NULL,
    app_id              BLOB NOT NULL,
    subscription_id     BLOB NOT NULL,
    role_id             BLOB NOT NULL,
    invitee_kind        TEXT NOT NULL CHECK (invitee_kind IN ('existing', 'new')),
    invitee_user_id     BLOB,
    invitee_first_name  TEXT,
    invitee_last_name   TEXT,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL,
    inviter_id          BLOB NOT NULL,
    status              TEXT NOT NULL,
    locale              TEXT,
    created_at          BLOB NOT NULL,
    expires_at          BLOB NOT NULL,
    last_sent_at        BLOB NOT NULL,
    send_count          INTEGER NOT NULL,
    responded_at        BLOB,
    accepted_user_id    BLOB,
    delivery_state      TEXT NOT NULL,
    delivery_attempts   INTEGER NOT NULL,
    delivery_error      TEXT,
    delivered_at        BLOB,
    token_hash          BLOB NOT NULL UNIQUE
) WITHOUT ROWID;

-- Stored-pending invitations per business, kept by triggers so `count_pending` is O(1).
CREATE TABLE business_pending (
    business_id  BLOB PRIMARY KEY NOT NULL CHECK (typeof(business_id) = 'blob'),
    pending      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    id             BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    business_id    BLOB NOT NULL,
    invitation_id  BLOB NOT NULL,
    kind           TEXT NOT NULL,
    actor_id       BLOB,
    at             BLOB NOT NULL,
    detail         TEXT
) WITHOUT ROWID;

CREATE TABLE outbox (
    id               BLOB PRIMARY KEY NOT NULL CHECK (typeof(id) = 'blob'),
    business_id      BLOB NOT NULL,
    invitation_id    BLOB NOT NULL,
    sealed_token     TEXT,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BLOB NOT NULL,
    last_error       TEXT,
    created_at       BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE idempotency (
    business_id  BLOB NOT NULL CHECK (typeof(business_id) = 'blob'),
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   BLOB NOT NULL,
    expires_at   BLOB NOT NULL,
    PRIMARY KEY (business_id, key)
);

INSERT INTO users
SELECT invite_v2_id(id), email, email_key, first_name, last_name,
       invite_v2_instant(created_at)
FROM v2_users;
INSERT INTO user_search_keys SELECT key, invite_v2_id(user_id) FROM v2_user_search_keys;
INSERT INTO businesses
SELECT invite_v2_id(id), name, invite_v2_instant(created_at) FROM v2_businesses;
INSERT INTO apps SELECT invite_v2_id(id), name, invite_v2_instant(created_at) FROM v2_apps;
INSERT INTO business_apps
SELECT invite_v2_id(business_id), invite_v2_id(app_id) FROM v2_business_apps;
INSERT INTO business_admins
SELECT invite_v2_id(business_id), invite_v2_id(user_id) FROM v2_business_admins;
INSERT INTO subscriptions
SELECT invite_v2_id(id), invite_v2_id(business_id), invite_v2_id(app_id), plan, seats, status,
       invite_v2_instant(valid_from), invite_v2_instant(valid_until),
       invite_v2_instant(created_at), used, reserved
FROM v2_subscriptions;
INSERT INTO roles
SELECT invite_v2_id(id), invite_v2_id(app_id), key, name, permissions,
       invite_v2_instant(created_at)
FROM v2_roles;
INSERT INTO memberships
SELECT invite_v2_id(id), invite_v2_id(business_id), invite_v2_id(subscription_id),
       invite_v2_id(app_id), invite_v2_id(user_id), invite_v2_id(role_id),
       invite_v2_instant(created_at)
FROM v2_memberships;
INSERT INTO invitations
SELECT invite_v2_id(id), invite_v2_id(business_id), invite_v2_id(app_id),
       invite_v2_id(subscription_id), invite_v2_id(role_id), invitee_kind,
       invite_v2_id(invitee_user_id), invitee_first_name, invitee_last_name, email, email_key,
       invite_v2_id(inviter_id), status, locale, invite_v2_instant(created_at),
       invite_v2_instant(expires_at), invite_v2_instant(last_sent_at), send_count,
       invite_v2_instant(responded_at), invite_v2_id(accepted_user_id), delivery_state,
       delivery_attempts, delivery_error, invite_v2_instant(delivered_at), token_hash
FROM v2_invitations;
INSERT INTO business_pending
SELECT invite_v2_id(business_id), pending FROM v2_business_pending;
INSERT INTO events
SELECT invite_v2_id(id), invite_v2_id(business_id), invite_v2_id(invitation_id), kind,
       invite_v2_id(actor_id), invite_v2_instant(at), detail
FROM v2_events;
INSERT INTO outbox
SELECT invite_v2_id(id), invite_v2_id(business_id), invite_v2_id(invitation_id), sealed_token,
       state, attempts, invite_v2_instant(next_attempt_at), last_error,
       invite_v2_instant(created_at)
FROM v2_outbox;
INSERT INTO idempotency
SELECT invite_v2_id(business_id), key, fingerprint, result, invite_v2_instant(created_at),
       invite_v2_instant(expires_at)
FROM v2_idempotency;

DROP TABLE v2_users;
DROP TABLE v2_user_search_keys;
DROP TABLE v2_businesses;
DROP TABLE v2_apps;
DROP TABLE v2_business_apps;
DROP TABLE v2_business_admins;
DROP TABLE v2_subscriptions;
DROP TABLE v2_roles;
DROP TABLE v2_memberships;
DROP TABLE v2_invitations;
DROP TABLE v2_business_pending;
DROP TABLE v2_events;
DROP TABLE v2_outbox;
DROP TABLE v2_idempotency;

CREATE INDEX business_admins_by_user ON business_admins (user_id, business_id);
CREATE INDEX subscriptions_by_business ON subscriptions (business_id, id);
CREATE INDEX roles_by_app ON roles (app_id, id);
CREATE INDEX memberships_by_subscription ON memberships (subscription_id, id);
CREATE INDEX memberships_by_user ON memberships (user_id, id);
CREATE INDEX invitations_by_business ON invitations (business_id, id);
CREATE INDEX invitations_pending_by_email ON invitations (business_id, subscription_id, email_key)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_by_expiry ON invitations (expires_at, id)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_by_subscription ON invitations (subscription_id, expires_at, id)
    WHERE status = 'pending';
CREATE INDEX invitations_by_inviter ON invitations (inviter_id, created_at);
CREATE INDEX events_by_business ON events (business_id, id);
CREATE INDEX events_by_invitation ON events (invitation_id, id);
-- Resends count against the actor's daily budget (only `resent` events have entries).
CREATE INDEX events_resent_by_actor ON events (actor_id, at) WHERE kind = 'resent';
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_by_invitation ON outbox (invitation_id, id);

CREATE TRIGGER invitations_pending_insert AFTER INSERT ON invitations
WHEN NEW.status = 'pending'
BEGIN
    INSERT INTO business_pending (business_id, pending) VALUES (NEW.business_id, 1)
    ON CONFLICT (business_id) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER invitations_pending_leave AFTER UPDATE OF status, business_id ON invitations
WHEN OLD.status = 'pending' AND (NEW.status <> 'pending' OR NEW.business_id <> OLD.business_id)
BEGIN
    UPDATE business_pending SET pending = pending - 1 WHERE business_id = OLD.business_id;
END;
CREATE TRIGGER invitations_pending_enter AFTER UPDATE OF status, business_id ON invitations
WHEN NEW.status = 'pending' AND (OLD.status <> 'pending' OR NEW.business_id <> OLD.business_id)
BEGIN
    INSERT INTO business_pending (business_id, pending) VALUES (NEW.business_id, 1)
    ON CONFLICT (business_id) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER invitations_pending_delete AFTER DELETE ON invitations
WHEN OLD.status = 'pending'
BEGIN
    UPDATE business_pending SET pending = pending - 1 WHERE business_id = OLD.business_id;
END;
"#;

/// Version 4, two indexes:
///
/// - idempotency records by expiry, so the sweep that deletes the expired ones reads
///   only those. Without it, each sweep scanned every live record while holding the
///   write lock (`scale sweep sqlite 1000000`: 264 ms with a million live records). An
///   idempotent send writes one more B-tree.
/// - invitations by (business, email, subscription), every status, in place of the
///   pending ones by (business, subscription, email): the duplicate check of a send
///   reads the person's few invitations to the subscription, and a listing filtered by
///   email reads only the person's, where it walked every invitation of the business
///   (`scale list sqlite 1000000`: 538 ms). A send writes the same B-trees as before,
///   and an accept, a revoke or an expiry one fewer (an invitation no longer leaves
///   this index when it stops being pending).
const V4: &str = r#"
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
DROP INDEX invitations_pending_by_email;
CREATE INDEX invitations_by_email ON invitations (business_id, email_key, subscription_id);
"#;

/// Every migration, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: u32 = 4;

const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize);

/// The schema version recorded in the database (0 for a new file).
pub(super) fn version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .db()?;
    u32::try_from(v).map_err(|_| unsupported(v))
}

/// Whether the database has any table (a file this library never migrated is empty).
fn holds_tables(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')",
        [],
        |row| row.get(0),
    )
    .db()
}

fn unsupported(found: i64) -> Error {
    Error::new(
        ErrorCode::SchemaVersionUnsupported,
        format!(
            "the database has schema version {found}; this library supports up to {SCHEMA_VERSION}"
        ),
    )
    .with_help("upgrade invite-core, or open a database written by this version")
}

/// Brings the database to [`SCHEMA_VERSION`]; refuses a newer one.
///
/// A database already at the current version is only read (opening takes no write
/// lock). Otherwise the migrations run in one immediate transaction that re-reads the
/// version (another process may have migrated meanwhile): a failure leaves the schema
/// as it was.
pub(super) fn migrate(conn: &Connection) -> Result<u32> {
    match version(conn)? {
        SCHEMA_VERSION => return Ok(SCHEMA_VERSION),
        newer if newer > SCHEMA_VERSION => return Err(unsupported(i64::from(newer))),
        _ => {}
    }
    conn.execute_batch("BEGIN IMMEDIATE").db()?;
    let outcome = apply_pending(conn);
    match outcome {
        Ok(_) => conn.execute_batch("COMMIT").db()?,
        Err(_) => {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
    outcome
}

fn apply_pending(conn: &Connection) -> Result<u32> {
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(unsupported(i64::from(current)));
    }
    // Read in the migration's transaction: a file another process is migrating is not
    // taken for a foreign one.
    if current == 0 && holds_tables(conn)? {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            "the SQLite file holds another program's tables (it has no invite-core schema \
             version): it is left as it is",
        )
        .with_help("point the store at a new file, or at one invite-core created"));
    }
    register_v2_readers(conn)?;
    let applied = apply_from(conn, current);
    unregister_v2_readers(conn);
    applied?;
    version(conn)
}

fn apply_from(conn: &Connection, current: u32) -> Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        conn.execute_batch(sql).db()?;
        let next = index + 1;
        conn.execute_batch(&format!("PRAGMA user_version = {next}"))
            .db()?;
    }
    Ok(())
}

/// Reads version 2's text for [`V3`]: `invite_v2_id(text)` is the id's 16 bytes,
/// `invite_v2_instant(text)` the instant's stored bytes (`codec::ts_bytes`); NULL stays
/// NULL, and anything unreadable fails the upgrade (which then changes nothing).
fn register_v2_readers(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("invite_v2_id", 1, flags, |ctx| {
        v2_text(ctx, |text| {
            uuid::Uuid::parse_str(text)
                .ok()
                .map(|id| id.as_bytes().to_vec())
        })
    })
    .db()?;
    conn.create_scalar_function("invite_v2_instant", 1, flags, |ctx| {
        v2_text(ctx, |text| parse_ts(text).map(|at| ts_bytes(at).to_vec()))
    })
    .db()
}

fn unregister_v2_readers(conn: &Connection) {
    let _ = conn.remove_function("invite_v2_id", 1);
    let _ = conn.remove_function("invite_v2_instant", 1);
}

/// The argument read by `read` (NULL for NULL); an error for anything else.
fn v2_text(
    ctx: &Context<'_>,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) -> rusqlite::Result<Option<Vec<u8>>> {
    let value = ctx.get_raw(0);
    let read = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(text) => std::str::from_utf8(text).ok().and_then(read),
        _ => None,
    };
    read.map(Some).ok_or_else(|| {
        rusqlite::Error::UserFunctionError(
            format!("not a schema version 2 value: {value:?}").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use chrono::{DateTime, Utc};
    use rusqlite::types::Value;

    use super::*;
    use crate::store::sqlite::codec::{ts_from_bytes, ts_text};

    const ID: &str = "019cadc6-9a80-700d-94e5-1d543166124c";

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_442_000, 123_456_000).unwrap()
    }

    /// One row in every table of version 1's schema, written as version 1 wrote them
    /// (every id the same text, every instant `at()`, even where NULL is allowed; other
    /// nullable columns NULL).
    fn version_1_file() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch("PRAGMA user_version = 1").unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for table in tables {
            let columns: Vec<(String, String, bool)> = conn
                .prepare(&format!(
                    "SELECT name, type, \"notnull\" FROM pragma_table_info('{table}')"
                ))
                .unwrap()
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let values: Vec<Value> = columns
                .iter()
                .map(
                    |(name, kind, not_null)| match (name.as_str(), kind.as_str()) {
                        ("invitee_kind", _) => Value::Text("new".into()),
                        ("token_hash", _) => Value::Blob(vec![7; 32]),
                        (name, _) if name == "id" || name.ends_with("_id") => {
                            Value::Text(ID.into())
                        }
                        (name, _)
                            if name == "at"
                                || name.ends_with("_at")
                                || name.starts_with("valid_") =>
                        {
                            Value::Text(ts_text(at()))
                        }
                        (_, _) if !not_null => Value::Null,
                        (_, "INTEGER") => Value::Integer(1),
                        _ => Value::Text("text".into()),
                    },
                )
                .collect();
            let marks = vec!["?"; values.len()].join(", ");
            conn.execute(
                &format!("INSERT INTO {table} VALUES ({marks})"),
                rusqlite::params_from_iter(values),
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn a_version_1_file_gets_binary_ids_and_instants() {
        let conn = version_1_file();
        assert_eq!(apply_pending(&conn).unwrap(), SCHEMA_VERSION);
        let columns: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT m.name, c.name, c.type FROM sqlite_master AS m, pragma_table_info(m.name) AS c
                 WHERE m.type = 'table'",
            )
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let (mut ids, mut instants) = (0, 0);
        for (table, column, kind) in columns {
            let value: Value = conn
                .query_row(&format!("SELECT \"{column}\" FROM {table}"), [], |row| {
                    row.get(0)
                })
                .unwrap();
            match value {
                Value::Blob(bytes) if bytes.len() == 16 => {
                    assert_eq!(uuid::Uuid::from_slice(&bytes).unwrap().to_string(), ID);
                    ids += 1;
                }
                Value::Blob(bytes) if bytes.len() == 12 => {
                    assert_eq!(ts_from_bytes(&bytes), Some(at()), "{table}.{column}");
                    instants += 1;
                }
                Value::Blob(bytes) => assert_eq!(bytes, vec![7; 32], "{table}.{column}"),
                Value::Null => {}
                other => assert_ne!(kind, "BLOB", "{table}.{column} holds {other:?}"),
            }
        }
        assert_eq!((ids, instants), (36, 18), "every id and instant converted");
        let index: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_resent_by_actor'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(index, 1, "version 2's index");
    }

    #[test]
    fn an_upgrade_that_fails_leaves_no_reader_behind() {
        let conn = version_1_file();
        conn.execute_batch("UPDATE apps SET id = 'not an id'")
            .unwrap();
        assert!(apply_pending(&conn).is_err());
        let left: rusqlite::Result<i64> =
            conn.query_row("SELECT length(invite_v2_id(?1))", [ID], |row| row.get(0));
        assert!(left.is_err(), "the upgrade's functions are removed");
    }
}
