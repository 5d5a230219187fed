//! A small connection pool: a mutex-guarded stack of idle connections and a condvar.
//!
//! The store keeps one pool of at most one connection for writes (so this process's
//! writers wait here on a condvar instead of polling in SQLite's busy handler) and one
//! of a few read-only connections. Waiting longer than the busy timeout is
//! `STORAGE_CONFLICT`, like a lock held too long by another process.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::errors;
use crate::error::{Error, Result};

type Opener = Box<dyn Fn() -> Result<Connection> + Send + Sync>;

struct Slots {
    idle: Vec<Connection>,
    open: usize,
}

/// Connections opened on demand, up to `max`.
pub(super) struct Pool {
    slots: Mutex<Slots>,
    freed: Condvar,
    max: usize,
    wait: Duration,
    opener: Opener,
    /// Never close the connection (it holds an in-memory database).
    pinned: bool,
}

impl Pool {
    /// A pool that opens connections with `opener` (lazily), at most `max` at a time.
    pub(super) fn new(max: usize, wait: Duration, opener: Opener) -> Self {
        Pool {
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max: max.max(1),
            wait,
            opener,
            pinned: false,
        }
    }

    /// A pool around one connection that is never closed (an in-memory database lives
    /// only as long as its connection).
    pub(super) fn single(conn: Connection, wait: Duration) -> Self {
        let lost = || {
            Err(Error::internal(
                "the in-memory database's connection was lost",
            ))
        };
        let pool = Pool {
            pinned: true,
            ..Pool::new(1, wait, Box::new(lost))
        };
        pool.seed(conn);
        pool
    }

    /// Adds an already opened connection (counted against `max`).
    pub(super) fn seed(&self, conn: Connection) {
        let mut slots = self.lock();
        slots.open += 1;
        slots.idle.push(conn);
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks out a connection, waiting at most the pool's timeout for one to be free.
    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.wait;
        let mut slots = self.lock();
        loop {
            if let Some(conn) = slots.idle.pop() {
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if slots.open < self.max {
                slots.open += 1;
                drop(slots);
                return match (self.opener)() {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(errors::pool_timeout());
            }
            slots = self
                .freed
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    fn put_back(&self, conn: Connection) {
        self.lock().idle.push(conn);
        self.freed.notify_one();
    }

    fn forget_one(&self) {
        self.lock().open -= 1;
        self.freed.notify_one();
    }
}

/// A checked-out connection; goes back to the pool on drop.
pub(super) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Connection>,
}

impl Pooled<'_> {
    /// The connection (present from checkout until drop).
    pub(super) fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::internal("a pooled connection was used after release"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if !conn.is_autocommit() {
            // Left inside a transaction (its owner could not end it): roll it back.
            let _ = conn.execute_batch("ROLLBACK");
        }
        if conn.is_autocommit() || self.pool.pinned {
            self.pool.put_back(conn);
        } else {
            drop(conn);
            self.pool.forget_one();
        }
    }
}
