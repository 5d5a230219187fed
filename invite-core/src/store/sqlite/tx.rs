//! One unit of work on one pooled connection: `BEGIN IMMEDIATE` for writes, a deferred
//! `BEGIN` for reads; `COMMIT` on commit, `ROLLBACK` on drop.

use rusqlite::{Params, Row, ToSql};

use super::errors::{self, SqlResultExt};
use super::pool::Pooled;
use crate::error::{Error, Result};
use crate::store::Transaction;

/// A transaction of a [`SqliteStore`](super::SqliteStore).
pub(super) struct SqliteTx<'s> {
    conn: Pooled<'s>,
    open: bool,
}

impl<'s> SqliteTx<'s> {
    /// Starts a transaction on `conn`: `BEGIN IMMEDIATE` when `write`, else `BEGIN`.
    ///
    /// `BEGIN IMMEDIATE` takes the database's write lock now (waiting up to the busy
    /// timeout), so everything this transaction reads stays as read until it ends.
    pub(super) fn begin(conn: Pooled<'s>, write: bool) -> Result<Self> {
        let sql = if write { "BEGIN IMMEDIATE" } else { "BEGIN" };
        conn.conn()?.prepare_cached(sql).db()?.execute([]).db()?;
        Ok(SqliteTx { conn, open: true })
    }

    /// Runs a statement; returns the number of rows changed.
    pub(super) fn exec(&self, sql: &str, params: impl Params) -> Result<usize> {
        let conn = self.conn.conn()?;
        let mut stmt = conn.prepare_cached(sql).db()?;
        stmt.execute(params).db()
    }

    /// Runs a statement with as many of `params` as it has (the leading ones): for SQL
    /// assembled from optional parts over one numbering, which may stop short of the
    /// last parameter. Returns the number of rows changed.
    pub(super) fn exec_prefix(&self, sql: &str, params: &[&dyn ToSql]) -> Result<usize> {
        let conn = self.conn.conn()?;
        let mut stmt = conn.prepare_cached(sql).db()?;
        let bound = params
            .get(..stmt.parameter_count())
            .ok_or_else(|| Error::internal("a statement has more parameters than given"))?;
        stmt.execute(bound).db()
    }

    /// The first row mapped by `map`, if any.
    pub(super) fn one<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        let conn = self.conn.conn()?;
        let mut stmt = conn.prepare_cached(sql).db()?;
        let mut rows = stmt.query(params).db()?;
        match rows.next().db()? {
            Some(row) => map(row).map(Some).db(),
            None => Ok(None),
        }
    }

    /// Every row mapped by `map`.
    pub(super) fn all<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.scan(sql, params, map, |_| true)
    }

    /// Rows mapped by `map`, in order, while `keep` accepts them (the rest are never read).
    pub(super) fn scan<T>(
        &self,
        sql: &str,
        params: impl Params,
        mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
        mut keep: impl FnMut(&T) -> bool,
    ) -> Result<Vec<T>> {
        let conn = self.conn.conn()?;
        let mut stmt = conn.prepare_cached(sql).db()?;
        let mut rows = stmt.query(params).db()?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().db()? {
            let item = map(row).db()?;
            if !keep(&item) {
                break;
            }
            out.push(item);
        }
        Ok(out)
    }

    /// A single integer (`COUNT(*)`, …); 0 when there is no row.
    pub(super) fn count(&self, sql: &str, params: impl Params) -> Result<u32> {
        let n = self.one(sql, params, |row| row.get::<_, i64>(0))?;
        Ok(super::codec::count(n.unwrap_or(0)))
    }

    /// Whether any row matches.
    pub(super) fn exists(&self, sql: &str, params: impl Params) -> Result<bool> {
        Ok(self.one(sql, params, |_| Ok(()))?.is_some())
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open
            && let Ok(conn) = self.conn.conn()
            && !conn.is_autocommit()
        {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

impl Transaction for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        let conn = self.conn.conn()?;
        let outcome = conn
            .prepare_cached("COMMIT")
            .and_then(|mut stmt| stmt.execute([]));
        match outcome {
            Ok(_) => {
                self.open = false;
                Ok(())
            }
            Err(error) => {
                // A commit that could not take the lock (rollback journal, readers still
                // active past the busy timeout) is still open: undo it, report a conflict.
                let error = errors::map(error);
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                self.open = false;
                Err(error)
            }
        }
    }
}
