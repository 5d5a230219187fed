//! `PostgresStore`: the store for many app processes sharing one PostgreSQL database
//! (feature `postgres`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use invite_core::store::postgres::{PostgresOptions, PostgresStore};
//! use invite_core::{Config, InviteService};
//!
//! let store = PostgresStore::open_with(
//!     "postgres://app@db.internal/app",
//!     PostgresOptions::default().schema("invites").max_connections(16),
//! )?;
//! let service = InviteService::new(Arc::new(store), Config::with_base_url("https://app.example.com/accept"))?;
//! # Ok::<(), invite_core::Error>(())
//! ```
//!
//! # Concurrency
//!
//! Write transactions run at **READ COMMITTED with row locks**; read transactions
//! ([`Store::begin_read`]) at REPEATABLE READ READ ONLY (one snapshot, no locks, never a
//! serialization failure).
//!
//! - **Seats.** [`seat_counts_for_update`](crate::store::SubscriptionRepo::seat_counts_for_update)
//!   is `SELECT seats_used, seats_reserved FROM subscriptions WHERE business_id = $1 AND
//!   id = $2 FOR UPDATE`: the counters are columns of the subscription row, so every
//!   writer of one subscription's seats queues on that row and reads fresh counters;
//!   the service reads the seat cap after taking that lock, so a concurrent
//!   `update_subscription` lowering it is seen.
//!   `used + reserved <= seats` holds across processes without aborting anyone. (At
//!   REPEATABLE READ or SERIALIZABLE every concurrent writer of a busy subscription would
//!   fail with a serialization error instead and burn the service's bounded retries.)
//! - **Invitations.** In write transactions, reading an invitation (by id, by token, the
//!   pending one of an email, the overdue ones) locks its row, so every writer of an
//!   invitation works from its latest state: 64 concurrent accepts of one token queue on
//!   it, one wins, the others then read `accepted` and answer `INVALID_TOKEN`. Lock
//!   order: invitation, then subscription, then outbox rows. A transaction already
//!   holding outbox locks (a dispatcher's claim) reads invitations without locking,
//!   which keeps that order. Deadlocks that remain possible (SQLSTATE `40P01`) are
//!   reported as `STORAGE_CONFLICT` and retried by the service.
//! - **Lost updates are refused.** Invitations and outbox messages carry a `version`;
//!   an update matches only the version the transaction first read, otherwise
//!   `STORAGE_CONFLICT` (the service's retry sees the other transaction's result).
//! - **Unique keys without aborts.** Inserts are `INSERT … ON CONFLICT DO NOTHING`, so a
//!   duplicate leaves the transaction usable. On a conflict one more statement asks
//!   whether the conflicting row was visible when this transaction began (the snapshot
//!   taken right after `BEGIN`) or written by it: `ALREADY_EXISTS`. A row committed
//!   meanwhile by a concurrent first-writer gives `STORAGE_CONFLICT` instead, and the
//!   retry re-reads and gives the right answer: `ALREADY_INVITED` for two sends to one
//!   person, one user for two accepts by one new person.
//! - **One pending invitation per (business, subscription, email key)** is a partial
//!   unique index (`invitations_one_pending`): concurrent sends cannot both insert.
//! - **Idempotency keys.** A write transaction reading a key first takes a
//!   transaction-level advisory lock on (business, key): a concurrent retry of a send
//!   waits for the first and replays its result. Records are upserted only over a
//!   record the transaction could see (an expired key) or wrote.
//! - `due_messages` and the sweep's `overdue_pending` use `FOR UPDATE SKIP LOCKED`:
//!   dispatchers and sweepers in several processes split the work.
//! - SQLSTATE `40001`/`40P01` are `STORAGE_CONFLICT`; connection and server failures
//!   `STORAGE_UNAVAILABLE` (see `error.rs`).
//!
//! - **Limits.** Before counting against the daily send budget or the pending cap, a
//!   write transaction takes a transaction-level advisory lock on the inviter (or the
//!   business), so concurrent sends count one after the other and see each other's
//!   invitations: the limits are exact under concurrency (SECURITY.md T13). Lock order
//!   in a send: idempotency key, inviter, business, then the rows above.
//!
//! Known limit of READ COMMITTED: checks on rows a transaction only reads (a
//! subscription's status or role rights) can be passed by a transaction that started
//! before a concurrent change committed. Seats, tokens, pending uniqueness, limits,
//! memberships and idempotency keys are exact.
//!
//! # Round trips
//!
//! Every repository call is one prepared statement, cached per pooled connection (one
//! round trip after warm-up). Exceptions: an insert that hits a unique key takes a
//! second; reading an idempotency key in a write transaction, and counting against a
//! configured limit, take a second (the advisory lock). A transaction adds one for
//! `BEGIN` (which also takes the start snapshot) and one for `COMMIT`. Measured with
//! [`PostgresStore::round_trips`] (warm pool, business admin inviting, no idempotency
//! key, no limits, `tests/postgres_store.rs`): a **send** to a new person takes **17**
//! round trips (the inviter's standing in the business is read once, for the insider
//! check and the rights; the seat cap comes with the seat lock), the **accept** that creates the user **18**, and a **dispatch** of ten emails **76**: six
//! per email (its invitation and its lease in the claim; its message read and written,
//! the invitation's delivery and the event in the bookkeeping) and sixteen per run.
//!
//! # Schema
//!
//! Migrations run on open (`migrate.rs`): versioned, idempotent, serialised between
//! concurrent openers by an advisory lock, and a newer schema is refused with
//! `SCHEMA_VERSION_UNSUPPORTED`. Timestamps are `timestamptz` (microseconds: finer
//! digits of a `DateTime` are dropped), ids `uuid`.

mod error;
mod migrate;
mod pool;
mod repos;
mod rows;
mod tx;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use migrate::SCHEMA_VERSION;

use self::pool::Manager;
use self::tx::PgTx;
use super::{Store, Transaction};
use crate::error::{Error, ErrorCode, Result};

/// How a [`PostgresStore`] connects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Most pooled connections (default 10). Each transaction holds one.
    pub max_connections: u32,
    /// A schema to keep the tables in (created if missing); `None`: the connection's
    /// default (`public`). A lowercase identifier: `[a-z_][a-z0-9_]*`, at most 63 bytes.
    pub schema: Option<String>,
    /// How long to wait for a connection, new or pooled (default 10 s).
    pub connect_timeout: Duration,
    /// Check each pooled connection with an empty query before use (one more round
    /// trip per transaction). Default off: a connection found dead at `BEGIN` (the
    /// server restarted) is dropped and another taken, before anything was done, so no
    /// call fails for it.
    pub test_on_checkout: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
            schema: None,
            connect_timeout: Duration::from_secs(10),
            test_on_checkout: false,
        }
    }
}

impl PostgresOptions {
    /// Keeps the tables in `schema`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// At most `n` pooled connections (at least 1).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Waits at most `timeout` for a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks pooled connections before use.
    pub fn test_on_checkout(mut self, test: bool) -> Self {
        self.test_on_checkout = test;
        self
    }
}

/// A store in a PostgreSQL database, shared by any number of processes. `Send + Sync`;
/// each transaction takes a connection from an internal pool.
pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    schema: Option<String>,
    round_trips: Arc<AtomicU64>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.pool.state();
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?…`, any option
    /// libpq-style URLs take) with default options and migrates the schema.
    ///
    /// `INVALID_CONFIG` for a malformed URL, `STORAGE_UNAVAILABLE` when the server cannot
    /// be reached, `SCHEMA_VERSION_UNSUPPORTED` when its schema is newer than this library.
    ///
    /// One option of this library's own may ride in the URL: `schema=NAME` keeps the
    /// tables in that schema (created if missing), like [`PostgresOptions::schema`].
    pub fn open(url: &str) -> Result<Self> {
        let (url, schema) = split_schema_param(url)?;
        let options = PostgresOptions {
            schema,
            ..PostgresOptions::default()
        };
        Self::open_with(&url, options)
    }

    /// Connects with `options` and migrates the schema.
    pub fn open_with(url: &str, options: PostgresOptions) -> Result<Self> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Error::new(
                ErrorCode::InvalidConfig,
                "the PostgreSQL connection url is invalid",
            )
            .with_source(e)
            .with_help("use postgres://user:password@host:port/database")
        })?;
        if options.connect_timeout.is_zero() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                "the PostgreSQL connect timeout must be positive",
            ));
        }
        if let Some(schema) = &options.schema {
            if !migrate::valid_schema_name(schema) {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("`{schema}` is not a plain lowercase schema name"),
                ));
            }
            // Quoted: a name such as `user` is a keyword.
            let search_path = format!("-c search_path=\"{schema}\"");
            let combined = match config.get_options() {
                Some(existing) => format!("{existing} {search_path}"),
                None => search_path,
            };
            config.options(&combined);
        }
        if config.get_application_name().is_none() {
            config.application_name("invite-core");
        }
        // A `connect_timeout` in the URL stands, for connecting and for waiting on the
        // pool; else the options' (default 10 s).
        let connect_timeout = match config.get_connect_timeout() {
            Some(timeout) if !timeout.is_zero() => *timeout,
            _ => options.connect_timeout,
        };
        config.connect_timeout(connect_timeout);
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                "this build connects to PostgreSQL without TLS, so `sslmode=require` can never \
                 be met",
            )
            .with_help(
                "connect over a local socket or a trusted network (sslmode=disable or prefer), \
                 or through a TLS-terminating proxy",
            ));
        }
        let round_trips = Arc::new(AtomicU64::new(0));
        let manager = Manager::new(config, Arc::clone(&round_trips));
        // The first connection outside the pool: a refusal comes back at once, with the
        // server's reason, where the pool would retry it until its timeout and keep only
        // its text.
        let mut first = r2d2::ManageConnection::connect(&manager).map_err(error::connect_failed)?;
        migrate::run(first.client(), options.schema.as_deref())?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(0))
            .test_on_check_out(options.test_on_checkout)
            .connection_timeout(connect_timeout)
            .build_unchecked(manager);
        Ok(PostgresStore {
            pool,
            schema: options.schema,
            round_trips,
        })
    }

    /// The schema the tables live in, if one was chosen.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Round trips to the server so far, all connections together (diagnostics: how
    /// many a unit of work takes).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// A pooled connection. Waiting out the connect timeout with every connection of a
    /// full pool busy is `STORAGE_CONFLICT` (too many concurrent calls: retrying may
    /// succeed, as SQLite's busy timeout); otherwise the server could not be reached
    /// (`STORAGE_UNAVAILABLE`).
    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| {
            let state = self.pool.state();
            if state.connections >= self.pool.max_size() && state.idle_connections == 0 {
                return error::conflict("every pooled connection stayed busy")
                    .with_source(e)
                    .with_help(
                        "raise PostgresOptions::max_connections, or make fewer calls at once",
                    );
            }
            Error::storage(e).with_help("check that PostgreSQL is running and reachable")
        })
    }
}

impl PostgresStore {
    /// Begins a transaction. After a server restart every pooled connection is dead and
    /// would fail one call each: as nothing was done yet, a dead one is dropped and the
    /// next tried (a fresh one at worst), once per pooled connection.
    fn begin_tx(&self, read_only: bool) -> Result<PgTx> {
        let mut last = None;
        for _ in 0..=self.pool.max_size() {
            match PgTx::begin(self.connection()?, read_only) {
                Ok(tx) => return Ok(tx),
                Err(Ok(dead)) => last = Some(dead),
                Err(Err(error)) => return Err(error),
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("no connection was tried")))
    }
}

impl Store for PostgresStore {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        Ok(Box::new(self.begin_tx(false)?))
    }

    fn begin_read(&self) -> Result<Box<dyn Transaction + '_>> {
        Ok(Box::new(self.begin_tx(true)?))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}

/// Takes this library's `schema=NAME` query parameter out of a connection URL (the
/// PostgreSQL driver refuses parameters it does not know). Every other pair is kept byte
/// for byte (the driver decodes them itself; re-encoding turned spaces into `+`), and
/// URLs the `url` crate cannot read (several hosts) work too. A `schema` given twice is
/// `INVALID_CONFIG`.
fn split_schema_param(raw: &str) -> Result<(String, Option<String>)> {
    let Some((base, query)) = raw.split_once('?') else {
        return Ok((raw.to_owned(), None));
    };
    let mut schema = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("schema", value)) => {
                if schema.replace(value.to_owned()).is_some() {
                    return Err(Error::new(
                        ErrorCode::InvalidConfig,
                        "the PostgreSQL url names `schema` twice",
                    ));
                }
            }
            _ => kept.push(pair),
        }
    }
    if schema.is_none() {
        return Ok((raw.to_owned(), None));
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, schema))
}

#[cfg(test)]
mod tests {
    use super::split_schema_param;
    use crate::error::ErrorCode;

    #[test]
    fn the_schema_parameter_leaves_the_rest_of_the_url_as_it_was() {
        let split = |raw: &str| split_schema_param(raw).map_err(|e| e.code());
        assert_eq!(
            split("postgres://u@h/db?options=-c%20statement_timeout%3D5000&schema=s"),
            Ok((
                "postgres://u@h/db?options=-c%20statement_timeout%3D5000".to_owned(),
                Some("s".to_owned())
            ))
        );
        assert_eq!(
            split("postgres://u@h:1,h2:2/db?schema=s&application_name=my%20app"),
            Ok((
                "postgres://u@h:1,h2:2/db?application_name=my%20app".to_owned(),
                Some("s".to_owned())
            ))
        );
        assert_eq!(
            split("postgres://u@h/db?schema=s"),
            Ok(("postgres://u@h/db".to_owned(), Some("s".to_owned())))
        );
        assert_eq!(
            split("postgres://u@h/db?sslmode=disable"),
            Ok(("postgres://u@h/db?sslmode=disable".to_owned(), None))
        );
        assert_eq!(
            split("postgres://u@h/db?schema=a&schema=b"),
            Err(ErrorCode::InvalidConfig)
        );
    }
}
