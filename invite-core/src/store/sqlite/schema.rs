//! Versioned schema migrations, applied on open inside one `BEGIN IMMEDIATE`
//! transaction (so processes opening the same file at once migrate it once).
//!
//! The version lives in `PRAGMA user_version`. Migration `n` (1-based) takes the schema
//! from version `n - 1` to `n`; a file whose version is above [`SCHEMA_VERSION`] was
//! written by a newer library and is refused with `SCHEMA_VERSION_UNSUPPORTED`.

use rusqlite::Connection;

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

/// Every migration, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this library writes and reads.
pub const SCHEMA_VERSION: u32 = 2;

const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize);

/// The schema version recorded in the database (0 for a new file).
pub(super) fn version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .db()?;
    u32::try_from(v).map_err(|_| unsupported(v))
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
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        conn.execute_batch(sql).db()?;
        let next = index + 1;
        conn.execute_batch(&format!("PRAGMA user_version = {next}"))
            .db()?;
    }
    version(conn)
}
