//! Versioned schema migrations, applied when a store opens.
//!
//! One transaction holds a transaction-level advisory lock (keyed by the schema name)
//! while it reads the applied versions and applies the missing ones, so concurrent
//! openers (many app processes starting at once) wait for each other and each migration
//! runs exactly once. PostgreSQL DDL is transactional: a failed migration leaves nothing.
//! A database whose schema is newer than this library is refused with
//! `SCHEMA_VERSION_UNSUPPORTED` rather than used.

use postgres::Client;

use super::error::{bad_row, map};
use crate::error::{Error, ErrorCode, Result};

/// One migration: applied in order, recorded in `invite_core_migrations`.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "resent_by_actor",
        sql: include_str!("migrations/0002_resent_by_actor.sql"),
    },
    Migration {
        version: 3,
        name: "expiry_and_email_indexes",
        sql: include_str!("migrations/0003_expiry_and_email_indexes.sql"),
    },
    Migration {
        version: 4,
        name: "invitations_by_status",
        sql: include_str!("migrations/0004_invitations_by_status.sql"),
    },
];

/// The schema version this library writes and understands.
pub const SCHEMA_VERSION: i32 = 4;

const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('invite-core migrations'), \
                    hashtext(coalesce($1::text, current_schema()::text, '')))";

const VERSIONS: &str = "CREATE TABLE IF NOT EXISTS invite_core_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)";

/// Brings the schema (created when named and missing) up to [`SCHEMA_VERSION`].
/// Returns the version found before migrating.
pub(super) fn run(client: &mut Client, schema: Option<&str>) -> Result<i32> {
    let mut tx = client.transaction().map_err(map)?;
    tx.execute(LOCK, &[&schema]).map_err(map)?;
    if let Some(schema) = schema {
        // `schema` was checked to be a plain lowercase identifier; quoted, it may also be
        // a keyword such as `user`.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .map_err(map)?;
    }
    tx.batch_execute(VERSIONS).map_err(map)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM invite_core_migrations",
            &[],
        )
        .map_err(map)?;
    let found: i32 = row.try_get(0).map_err(|_| bad_row("migration"))?;
    if found > SCHEMA_VERSION {
        return Err(Error::new(
            ErrorCode::SchemaVersionUnsupported,
            format!(
                "the database schema is at version {found}, newer than the {SCHEMA_VERSION} \
                 this library understands"
            ),
        )
        .with_help("upgrade invite-core in this application, or point it at another database"));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.batch_execute(migration.sql).map_err(map)?;
        tx.execute(
            "INSERT INTO invite_core_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .map_err(map)?;
    }
    tx.commit().map_err(map)?;
    Ok(found)
}

/// Whether `name` can be used as a schema without quoting: `[a-z_][a-z0-9_]{0,62}`.
pub(super) fn valid_schema_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    first_ok
        && name.len() <= 63
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with("pg_")
}

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, SCHEMA_VERSION, valid_schema_name};

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(usize::try_from(m.version).ok(), Some(i + 1), "{}", m.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema_name("invite"));
        assert!(valid_schema_name("t_0a9f"));
        for bad in [
            "",
            "Invite",
            "9x",
            "a-b",
            "a b",
            "a;drop",
            "pg_catalog",
            &"a".repeat(64),
        ] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
