//! `SqliteStore`: the embedded, durable store (cargo feature `sqlite`).
//!
//! # Defaults, and why
//!
//! - **WAL journal with `synchronous=NORMAL`** ([`SqliteOptions::default`]). A commit
//!   appends to the write-ahead log without an fsync; the log is synced at checkpoints.
//!   The database stays consistent after any crash, and a commit survives the
//!   application crashing; only a power loss or OS crash may drop the last few commits.
//!   In exchange a commit costs a write instead of several fsyncs (tens of times faster
//!   on ordinary disks), and readers never block the writer nor the writer readers.
//!   Hosts that need every commit to survive a power loss, or whose file lives on a
//!   network file system (where WAL's shared memory does not work), choose
//!   [`SqliteOptions::rollback_journal`]: SQLite's own defaults, a rollback journal with
//!   `synchronous=FULL` (PERF.md's `default` mode), or set `synchronous=FULL` in WAL.
//! - **WAL checkpoint every 10,000 pages** (SQLite's default is 1,000): a unit of work
//!   here writes about thirty pages, see [`DEFAULT_WAL_AUTOCHECKPOINT`]. A file store
//!   runs its checkpoints on a thread of its own (`invite-ckpt`), not in the commit that
//!   crosses the line (then again after each further quarter of the threshold); a commit
//!   checkpoints inline only when the log reaches twice the threshold (the thread's
//!   checkpoints never quite catch a busy writer, and SQLite restarts the log only after
//!   one has copied all of it). That took the PERF.md workload in WAL mode from ~6,300
//!   to ~7,900 invites/s on the development machine.
//! - **One write per commit to the WAL**: SQLite writes a commit's frames with two
//!   system calls each (~50 for a send); the store opens its files through a VFS that
//!   wraps SQLite's `unix` one and writes a commit's frames with one call, before SQLite
//!   publishes the commit (and a rollback journal's records with one call per sync).
//!   The file format and every crash guarantee are SQLite's own; that gave the PERF.md
//!   workload 1.5–2× the sends and accepts per second in WAL mode, and 8–16 % more in
//!   rollback-journal mode. The rules and why they are safe: [`batching_vfs`] and
//!   `write_batch.rs`.
//! - **Pages of 2,048 bytes** for a new file (SQLite's default is 4,096): every page a
//!   commit changes is written whole, see [`DEFAULT_PAGE_SIZE`].
//! - **Busy timeout 5 s**: how long a transaction waits for another process's (or this
//!   process's) lock before failing with `STORAGE_CONFLICT`, which the service retries.
//!
//! # Concurrency
//!
//! - Every write transaction starts with `BEGIN IMMEDIATE`: it takes the database's
//!   write lock before its first read, so the seat counters it reads cannot change
//!   until it commits, across threads *and* processes. No write transaction can fail
//!   half-way for having read stale data.
//! - Within a process, writers queue on one write connection (a pool of one) rather
//!   than spinning in SQLite's busy handler; between processes the busy timeout does the
//!   waiting. Reads ([`Store::begin_read`]) use a deferred transaction on a pool of
//!   read-only (`query_only`) connections and, in WAL mode, run beside the writer.
//! - `SQLITE_BUSY`/`SQLITE_LOCKED` that outlive the timeout are `STORAGE_CONFLICT`;
//!   unique-key violations `ALREADY_EXISTS`; any other failure `STORAGE_UNAVAILABLE`.
//!
//! # In memory
//!
//! [`SqliteStore::open_in_memory`] (`sqlite::memory:`) keeps a private database on a
//! single connection that every transaction shares in turn (each connection to
//! `:memory:` would be a database of its own). The journal-mode option does not apply.
//!
//! # Schema
//!
//! Versioned migrations run on open (see [`SCHEMA_VERSION`]); a file written by a newer
//! library is refused with `SCHEMA_VERSION_UNSUPPORTED`. Ids are stored as their 16
//! UUID bytes and instants as 12 bytes that sort in time order (both BLOBs: short index
//! entries mean fewer pages written per commit); version 3 converts the text of earlier
//! files in place, in the opening transaction. Stop every process running an older
//! version of this library before opening its file with a newer one: a process that had
//! the file open across an upgrade finds the new tables, and its writes fail (each table
//! checks that the ids inserted into it are bytes) or find nothing.
//!
//! ```
//! use std::sync::Arc;
//! use invite_core::store::sqlite::{SqliteOptions, SqliteStore};
//! use invite_core::{Config, InviteService};
//!
//! let store = SqliteStore::open_in_memory(SqliteOptions::default())?;
//! let service = InviteService::new(Arc::new(store), Config::with_base_url("https://app.example.com/accept"))?;
//! let acme = service.create_business("Acme")?;
//! assert_eq!(service.get_business(acme.id)?.name, "Acme");
//! # Ok::<(), invite_core::Error>(())
//! ```

mod checkpoint;
mod codec;
mod errors;
mod options;
mod pool;
mod repo;
mod schema;
mod tx;
mod url;
mod write_batch;

pub use options::{
    DEFAULT_BUSY_TIMEOUT, DEFAULT_MAX_READERS, DEFAULT_PAGE_SIZE, DEFAULT_WAL_AUTOCHECKPOINT,
    JournalMode, MAX_BUSY_TIMEOUT, PAGE_SIZES, SqliteOptions, Synchronous,
};
pub use schema::SCHEMA_VERSION;
pub use url::{SqliteLocation, SqliteUrl};
pub use write_batch::batching_vfs;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use self::checkpoint::{Checkpointer, HandOff};
use self::errors::SqlResultExt;
use self::pool::Pool;
use self::tx::SqliteTx;
use super::{Store, Transaction};
use crate::error::{Error, ErrorCode, Result};

/// Prepared statements kept per connection (the adapter runs about sixty distinct ones).
const STATEMENT_CACHE: usize = 128;

/// A [`Store`] on an SQLite database file (or a private in-memory database).
/// Safe to share between threads, and between processes opening the same file.
pub struct SqliteStore {
    writer: Pool,
    readers: Option<Pool>,
    location: SqliteLocation,
    options: SqliteOptions,
    /// Runs the WAL checkpoints of a file in WAL mode (see `checkpoint`); stopped after
    /// the pools close.
    _checkpointer: Option<Checkpointer>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Bytes a WAL (or a kept rollback journal) is cut back to after a checkpoint resets
/// it: far above what checkpoints every `wal_autocheckpoint` pages leave.
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Which pool a connection serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
}

/// Per-connection settings: busy timeout, synchronous level, WAL checkpoint size,
/// statement cache, and `query_only` for readers.
fn configure(conn: &Connection, options: &SqliteOptions, role: Role) -> Result<()> {
    conn.busy_timeout(options.busy_timeout()).db()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query-planner stability: plans never depend on bound values, so cached statements
    // are not re-prepared every time a parameter changes (the bundled SQLite is built
    // with STAT4, which otherwise recompiles any statement comparing a parameter with
    // an indexed column: a quarter of a send's CPU time).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .db()?;
    // A WAL grown past JOURNAL_SIZE_LIMIT while a long read held off its checkpoints
    // is cut back to it once a checkpoint resets the log (else the file keeps its
    // largest size on disk for good).
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {}; PRAGMA wal_autocheckpoint = {}; \
         PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}",
        options.synchronous().as_str(),
        options.wal_autocheckpoint()
    ))
    .db()?;
    if role == Role::Reader {
        conn.execute_batch("PRAGMA query_only = ON").db()?;
    }
    Ok(())
}

/// Opens a connection to the file; a write connection given a `hand_off` hands its WAL
/// checkpoints to the store's checkpointer.
fn open_file(
    path: &Path,
    options: &SqliteOptions,
    role: Role,
    hand_off: Option<&HandOff>,
) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = match write_batch::vfs_name(options.synchronous()) {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
        None => Connection::open_with_flags(path, flags),
    }
    .db()?;
    configure(&conn, options, role)?;
    if let (Role::Writer, Some(hand_off)) = (role, hand_off) {
        hand_off.attach(&mut conn)?;
    }
    Ok(conn)
}

/// The checkpointer of a file in WAL mode with checkpoints on; `None` otherwise (or if
/// its thread cannot start: SQLite's own auto-checkpoint then stays in place).
fn start_checkpointer(path: &Path, options: &SqliteOptions) -> Result<Option<Checkpointer>> {
    if options.journal_mode() != JournalMode::Wal || options.wal_autocheckpoint() == 0 {
        return Ok(None);
    }
    // Not a reader's connection: `query_only` is for connections that never write the
    // file, and a checkpoint writes it. No hand-off: this connection never commits.
    let conn = open_file(path, options, Role::Writer, None)?;
    Ok(Checkpointer::start(
        conn,
        options.wal_autocheckpoint(),
        options.busy_timeout(),
    ))
}

/// Sets the page size of a database that has no page yet (a no-op on any other: SQLite
/// keeps a file's page size). Comes before the journal mode, which writes the first page.
fn set_page_size(conn: &Connection, bytes: u32) -> Result<()> {
    conn.execute_batch(&format!("PRAGMA page_size = {bytes}"))
        .db()
}

/// Sets the (persistent) journal mode, if it is not in force yet, and checks that
/// SQLite took it.
fn set_journal_mode(conn: &Connection, mode: JournalMode) -> Result<()> {
    let current: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .db()?;
    if current.eq_ignore_ascii_case(mode.as_str()) {
        return Ok(());
    }
    let got: String = conn
        .query_row(
            &format!("PRAGMA journal_mode = {}", mode.as_str()),
            [],
            |row| row.get(0),
        )
        .db()?;
    if got.eq_ignore_ascii_case(mode.as_str()) {
        Ok(())
    } else {
        Err(Error::storage(std::io::Error::other(format!(
            "sqlite kept journal_mode `{got}` instead of `{}`",
            mode.as_str()
        ))))
    }
}

/// Runs `step` again while it fails with `STORAGE_CONFLICT`, for up to `wait`.
///
/// For the open-time steps only, which are idempotent. SQLite does not call its busy
/// handler when a `PRAGMA journal_mode` switch meets another connection's lock (the
/// statement already holds a read lock, and waiting could deadlock), so processes
/// opening a new file at the same moment would otherwise see `SQLITE_BUSY` at once.
fn retry_while_busy<T>(wait: Duration, mut step: impl FnMut() -> Result<T>) -> Result<T> {
    const PAUSE: Duration = Duration::from_millis(2);
    let deadline = Instant::now() + wait;
    loop {
        match step() {
            Err(e) if e.code() == ErrorCode::StorageConflict && Instant::now() < deadline => {
                std::thread::sleep(PAUSE);
            }
            outcome => return outcome,
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates its schema.
    ///
    /// Fails with `SCHEMA_VERSION_UNSUPPORTED` if the file was written by a newer library,
    /// `STORAGE_UNAVAILABLE` if it cannot be opened.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        // Absolute once: every connection of the pools (opened later, on demand) must
        // open this file, whatever the process's working directory is by then. (And a
        // name starting with `file:`, which the bundled SQLite would read as a URI, is
        // taken as the file name it is.)
        let path: PathBuf = std::path::absolute(path.as_ref()).map_err(Error::storage)?;
        let page_size = options::check_page_size(options.page_size())?;
        let mut first = open_file(&path, &options, Role::Writer, None)?;
        set_page_size(&first, page_size)?;
        // The schema first, the journal mode after: a file this library refuses (a
        // newer schema, a foreign one whose migration fails) is left in its own mode.
        retry_while_busy(options.busy_timeout(), || {
            schema::migrate(&first)?;
            set_journal_mode(&first, options.journal_mode())
        })?;
        let checkpointer = start_checkpointer(&path, &options)?;
        let hand_off = checkpointer.as_ref().map(Checkpointer::hand_off);
        if let Some(hand_off) = &hand_off {
            hand_off.attach(&mut first)?;
        }
        let opener = |role: Role| {
            let (path, options, hand_off) = (path.clone(), options.clone(), hand_off.clone());
            Box::new(move || open_file(&path, &options, role, hand_off.as_ref()))
        };
        let wait = options.busy_timeout();
        let writer = Pool::new(1, wait, opener(Role::Writer));
        writer.seed(first);
        let readers = Pool::new(options.max_readers(), wait, opener(Role::Reader));
        Ok(SqliteStore {
            writer,
            readers: Some(readers),
            location: SqliteLocation::File(path),
            options,
            _checkpointer: checkpointer,
        })
    }

    /// A new private in-memory database with the schema in place.
    pub fn open_in_memory(options: SqliteOptions) -> Result<SqliteStore> {
        let page_size = options::check_page_size(options.page_size())?;
        let conn = Connection::open_in_memory().db()?;
        configure(&conn, &options, Role::Writer)?;
        set_page_size(&conn, page_size)?;
        schema::migrate(&conn)?;
        Ok(SqliteStore {
            writer: Pool::single(conn, options.busy_timeout()),
            readers: None,
            location: SqliteLocation::Memory,
            options,
            _checkpointer: None,
        })
    }

    /// Opens a `sqlite:` URL (see [`SqliteUrl`]).
    ///
    /// ```
    /// let store = invite_core::store::sqlite::SqliteStore::open_url("sqlite::memory:")?;
    /// assert_eq!(store.schema_version()?, invite_core::store::sqlite::SCHEMA_VERSION);
    /// # Ok::<(), invite_core::Error>(())
    /// ```
    pub fn open_url(url: &str) -> Result<SqliteStore> {
        let SqliteUrl { location, options } = SqliteUrl::parse(url)?;
        match location {
            SqliteLocation::Memory => SqliteStore::open_in_memory(options),
            SqliteLocation::File(path) => SqliteStore::open(path, options),
        }
    }

    /// Where the database lives.
    pub fn location(&self) -> &SqliteLocation {
        &self.location
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &SqliteOptions {
        &self.options
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<u32> {
        let conn = self.writer.get()?;
        schema::version(conn.conn()?)
    }

    /// The journal mode in force, as SQLite reports it (`"wal"`, `"delete"`, or
    /// `"memory"` for an in-memory database): for benchmark reports and health checks.
    pub fn journal_mode_in_force(&self) -> Result<String> {
        let mode: String = self.pragma("journal_mode")?;
        Ok(mode.to_ascii_lowercase())
    }

    /// The database's page size, in bytes (the option applies to new files only).
    pub fn page_size_in_force(&self) -> Result<u32> {
        self.pragma("page_size")
    }

    /// The synchronous level in force on the write connection.
    pub fn synchronous_in_force(&self) -> Result<Synchronous> {
        let level: i64 = self.pragma("synchronous")?;
        match level {
            0 => Ok(Synchronous::Off),
            1 => Ok(Synchronous::Normal),
            2 => Ok(Synchronous::Full),
            other => Err(Error::internal(format!(
                "sqlite reports an unexpected synchronous level {other}"
            ))),
        }
    }

    /// The value of `PRAGMA name` on the write connection.
    fn pragma<T: rusqlite::types::FromSql>(&self, name: &str) -> Result<T> {
        let conn = self.writer.get()?;
        conn.conn()?
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .db()
    }
}

impl Store for SqliteStore {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        Ok(Box::new(SqliteTx::begin(self.writer.get()?, true)?))
    }

    fn begin_read(&self) -> Result<Box<dyn Transaction + '_>> {
        let pool = self.readers.as_ref().unwrap_or(&self.writer);
        Ok(Box::new(SqliteTx::begin(pool.get()?, false)?))
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}
