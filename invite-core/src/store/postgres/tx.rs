//! One unit of work on one pooled connection: `BEGIN` … `COMMIT`, rolled back on drop.
//!
//! Write transactions run at READ COMMITTED and take the locks the port asks for; read
//! transactions run at REPEATABLE READ READ ONLY (one consistent snapshot, no locks, never
//! a serialization failure). See the module docs of `postgres` for the whole scheme.

use std::collections::{HashMap, HashSet};

use postgres::Row;
use postgres::types::ToSql;
use r2d2::PooledConnection;
use uuid::Uuid;

use super::error::{already_exists, bad_row, conflict, ends_connection, map};
use super::pool::Manager;
use crate::error::{Error, ErrorCode, Result};
use crate::store::Transaction;

/// Statement parameters.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A transaction on a pooled connection.
pub(super) struct PgTx {
    conn: PooledConnection<Manager>,
    /// A read-only (REPEATABLE READ READ ONLY) transaction: no row locks.
    pub(super) read_only: bool,
    /// `pg_current_snapshot()` taken right after `BEGIN` (write transactions only).
    snapshot: String,
    /// Committed, or rolled back explicitly.
    finished: bool,
    /// The code of the first statement that failed: PostgreSQL aborted the transaction.
    failed: Option<ErrorCode>,
    /// The version of each invitation first read by this transaction (or last written).
    invitation_versions: HashMap<Uuid, i64>,
    /// The same for outbox messages.
    message_versions: HashMap<Uuid, i64>,
    /// This transaction holds outbox row locks (a dispatcher's claim, or an update).
    holds_message_locks: bool,
    /// The write locks this transaction holds (see [`PgTx::lock_for_write`]).
    write_locks: HashSet<(WriteLock, String)>,
}

/// What two write transactions must not read at once: the second waits for the first
/// to commit, then reads what it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum WriteLock {
    /// One idempotency key of one business (a retried send replays the first result).
    IdempotencyKey,
    /// An inviter's daily send budget.
    InviterBudget,
    /// A business's pending cap.
    BusinessPending,
}

impl WriteLock {
    /// Seeds the advisory lock's key hash: the kinds never share a lock.
    fn seed(self) -> i64 {
        match self {
            WriteLock::IdempotencyKey => 7,
            WriteLock::InviterBudget => 8,
            WriteLock::BusinessPending => 9,
        }
    }
}

/// A transaction-level advisory lock on a kind and a key.
const WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, $2))";

impl PgTx {
    /// Starts a transaction on `conn`.
    /// Begins a transaction on `conn`. `Err(Ok(error))` when the connection turned out
    /// dead (the server restarted or dropped it): nothing was done, another connection
    /// may work. `Err(Err(error))` for any other failure.
    pub(super) fn begin(
        conn: PooledConnection<Manager>,
        read_only: bool,
    ) -> std::result::Result<PgTx, std::result::Result<Error, Error>> {
        let mut tx = PgTx {
            conn,
            read_only,
            snapshot: String::new(),
            finished: false,
            failed: None,
            invitation_versions: HashMap::new(),
            message_versions: HashMap::new(),
            holds_message_locks: false,
            write_locks: HashSet::new(),
        };
        let sql = if read_only {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_current_snapshot()::text"
        };
        let messages = match tx.conn.simple(sql) {
            Ok(messages) => messages,
            Err(e) => {
                let dead = e.is_closed() || ends_connection(&e) || tx.conn.client().is_closed();
                if dead {
                    // Nothing to roll back; the pool discards it.
                    tx.conn.broken = true;
                    tx.finished = true;
                }
                let error = map(e);
                return Err(if dead { Ok(error) } else { Err(error) });
            }
        };
        if !read_only {
            tx.snapshot = messages
                .iter()
                .find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .ok_or_else(|| Err(bad_row("snapshot")))?;
        }
        Ok(tx)
    }

    fn note<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T> {
        result.map_err(|e| {
            let error = map(e);
            self.failed.get_or_insert(error.code());
            error
        })
    }

    /// Every row of a statement.
    pub(super) fn rows(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let result = self.conn.query(sql, params);
        self.note(result)
    }

    /// The row of a statement that returns at most one.
    pub(super) fn opt(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// The row of a statement that always returns exactly one.
    pub(super) fn one(&mut self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        self.opt(sql, params)?
            .ok_or_else(|| Error::internal("a statement returned no row"))
    }

    /// How many rows a statement touched.
    pub(super) fn exec(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let result = self.conn.execute(sql, params);
        self.note(result)
    }

    /// Runs `insert`, an `INSERT … ON CONFLICT DO NOTHING` that returns its row count as
    /// one bigint. On a conflict, `seen` tells what it was: it gets this transaction's
    /// start snapshot as `$1` (then `seen_params`) and returns whether a conflicting row
    /// was visible when the transaction began or written by it. Such a row could have
    /// been checked for: `ALREADY_EXISTS`. Otherwise a concurrent first-writer won:
    /// `STORAGE_CONFLICT`, and the service's retry sees that row and answers for it.
    pub(super) fn insert_unique(
        &mut self,
        what: &str,
        insert: &'static str,
        params: Params<'_>,
        seen: &'static str,
        seen_params: Params<'_>,
    ) -> Result<()> {
        let inserted: i64 = get(&self.one(insert, params)?, 0)?;
        if inserted > 0 {
            return Ok(());
        }
        let snapshot = self.snapshot.clone();
        let mut all: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(seen_params.len() + 1);
        all.push(&snapshot);
        all.extend_from_slice(seen_params);
        let visible: bool = get(&self.one(seen, &all)?, 0)?;
        if visible {
            Err(already_exists(what))
        } else {
            Err(conflict(&format!(
                "a concurrent transaction created the same {what}"
            )))
        }
    }

    /// The start snapshot, for statements that decide visibility themselves.
    pub(super) fn snapshot(&self) -> String {
        self.snapshot.clone()
    }

    /// Remembers the version of an invitation this transaction read.
    pub(super) fn saw_invitation(&mut self, id: Uuid, version: i64) {
        self.invitation_versions.entry(id).or_insert(version);
    }

    /// The version an update must find: the one first read, if this transaction read it.
    pub(super) fn invitation_version(&self, id: Uuid) -> Option<i64> {
        self.invitation_versions.get(&id).copied()
    }

    /// Records the version this transaction wrote.
    pub(super) fn wrote_invitation(&mut self, id: Uuid, version: i64) {
        self.invitation_versions.insert(id, version);
    }

    /// Whether invitation reads lock their rows (`FOR UPDATE`). They do in write
    /// transactions, so that every writer of an invitation works from its latest state:
    /// the lock order is invitation, then subscription (seats), then outbox rows. A
    /// transaction that already holds outbox locks (a dispatcher claiming messages) reads
    /// invitations without locking them, keeping that order; its writes are still
    /// checked by version.
    pub(super) fn locks_invitations(&self) -> bool {
        !self.read_only && !self.holds_message_locks
    }

    /// In a write transaction, waits until no other transaction holds the `kind` lock
    /// of `key`, then holds it until commit (taken once per transaction). What is read
    /// after this includes everything the earlier holders committed: two concurrent
    /// sends cannot both pass a limit that has room for one, and a retried send finds
    /// the first one's idempotency record.
    pub(super) fn lock_for_write(&mut self, kind: WriteLock, key: String) -> Result<()> {
        if self.read_only || self.write_locks.contains(&(kind, key.clone())) {
            return Ok(());
        }
        self.exec(WRITE_LOCK, &[&key, &kind.seed()])?;
        self.write_locks.insert((kind, key));
        Ok(())
    }

    /// Notes that this transaction now holds outbox row locks.
    pub(super) fn locked_messages(&mut self) {
        self.holds_message_locks = true;
    }

    /// Remembers the version of an outbox message this transaction read.
    pub(super) fn saw_message(&mut self, id: Uuid, version: i64) {
        self.message_versions.entry(id).or_insert(version);
    }

    /// The version an update of a message must find.
    pub(super) fn message_version(&self, id: Uuid) -> Option<i64> {
        self.message_versions.get(&id).copied()
    }

    /// Records the version of a message this transaction wrote.
    pub(super) fn wrote_message(&mut self, id: Uuid, version: i64) {
        self.message_versions.insert(id, version);
    }

    fn rollback(&mut self) {
        self.finished = true;
        if self.conn.simple("ROLLBACK").is_err() {
            self.conn.broken = true;
        }
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if !self.finished {
            self.rollback();
        }
    }
}

impl Transaction for PgTx {
    fn commit(mut self: Box<Self>) -> Result<()> {
        if let Some(code) = self.failed {
            self.rollback();
            return Err(Error::new(
                code,
                "the transaction was aborted by an earlier error and rolled back",
            ));
        }
        self.finished = true;
        let result = self.conn.simple("COMMIT");
        result.map(|_| ()).map_err(|e| {
            self.conn.broken = true;
            map(e)
        })
    }
}

/// A column by index or name, typed.
pub(super) fn get<'a, T, I>(row: &'a Row, column: I) -> Result<T>
where
    T: postgres::types::FromSql<'a>,
    I: postgres::row::RowIndex + std::fmt::Display,
{
    row.try_get(column)
        .map_err(|e| bad_row("column").with_source(e))
}

/// A non-negative count column as `u32`.
pub(super) fn get_u32<I>(row: &Row, column: I) -> Result<u32>
where
    I: postgres::row::RowIndex + std::fmt::Display,
{
    let value: i64 = get(row, column)?;
    u32::try_from(value).map_err(|_| bad_row("count"))
}

/// A page's lower bound: the id it resumes after, or for the first page the nil UUID,
/// below every id (ids are minted as version 7 UUIDs, never nil).
///
/// Listings compare with a bound that is always there (`id > $n`), never `($n IS NULL OR
/// id > $n)`: their statements are cached, and after five runs PostgreSQL may switch to
/// a generic plan, one that cannot use an optional bound to start the index scan. Each
/// page would then scan from the first row (one page of the user search took 26 ms over
/// 20,000 users).
pub(super) fn after_id(after: Option<&uuid::Uuid>) -> uuid::Uuid {
    after.copied().unwrap_or(uuid::Uuid::nil())
}

/// `usize` limits as SQL bigints.
pub(super) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Whether a lookup key can be stored at all (PostgreSQL text cannot hold NUL).
pub(super) fn storable(key: &str) -> bool {
    !key.contains('\0')
}
