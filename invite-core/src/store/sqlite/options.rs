//! What the host can choose: journal mode, synchronous level, busy timeout, readers,
//! checkpoint size, page size.

use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};

/// The rollback journal SQLite keeps for atomic commits (`PRAGMA journal_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JournalMode {
    /// Write-ahead log: readers never block the writer, a commit appends to the log.
    /// Needs a local file system (shared memory between the processes on one file).
    #[default]
    Wal,
    /// SQLite's classic rollback journal, deleted at each commit (a fresh file's default).
    Delete,
}

impl JournalMode {
    /// `"wal"` or `"delete"`, as in the URL and in `PRAGMA journal_mode`.
    pub const fn as_str(self) -> &'static str {
        match self {
            JournalMode::Wal => "wal",
            JournalMode::Delete => "delete",
        }
    }

    /// Parses [`JournalMode::as_str`] (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "wal" => Some(JournalMode::Wal),
            "delete" => Some(JournalMode::Delete),
            _ => None,
        }
    }
}

/// How hard SQLite flushes to disk at commit (`PRAGMA synchronous`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Synchronous {
    /// No fsync: an OS crash or power loss can corrupt the file. Tests and scratch data only.
    Off,
    /// In WAL mode: consistent after any crash; a power loss may drop the last commits.
    Normal,
    /// fsync at every commit: a committed transaction survives a power loss.
    Full,
}

impl Synchronous {
    /// `"off"`, `"normal"` or `"full"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "off",
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        }
    }

    /// Parses [`Synchronous::as_str`] (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "off" => Some(Synchronous::Off),
            "normal" => Some(Synchronous::Normal),
            "full" => Some(Synchronous::Full),
            _ => None,
        }
    }
}

/// Default time a connection waits for a lock held by another connection or process.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest busy timeout SQLite takes (`i32::MAX` milliseconds, about 24 days).
pub const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Default WAL size, in pages, that triggers a checkpoint (`PRAGMA wal_autocheckpoint`).
///
/// Ten times SQLite's 1000: an invitation's unit of work writes about thirty pages (its
/// row and indexes, events, outbox), so SQLite's default would checkpoint every few dozen
/// operations; 10,000 pages (about 20 MB with the default 2 KiB pages, 40 MB at 4 KiB)
/// about doubled the throughput of the PERF.md workload in WAL mode on the development
/// machine, and still bounds the log.
pub const DEFAULT_WAL_AUTOCHECKPOINT: u32 = 10_000;

/// Default page size, in bytes, of a new database file (`PRAGMA page_size`).
///
/// Half SQLite's 4,096. A send or an accept changes one leaf in each of about fifteen
/// B-trees (rows, indexes, events, outbox), and every changed page is written whole at
/// commit: to the log in WAL mode, to the journal and the file in rollback mode. Pages of
/// 2,048 bytes halve those bytes at the cost of slightly deeper trees; in WAL mode the
/// PERF.md workload ran about 25 % faster on the development machine (1,024 was no
/// faster again, and rollback mode, bound by its fsyncs, was unchanged). One large
/// transaction writes each page once whatever its size, so there smaller pages only add
/// B-tree work: a 10,000-row bulk send ran about 25 % slower than with 4,096 (still
/// 25,000 rows/s). Hosts that mostly bulk-load can choose 4,096. An existing file keeps
/// the page size it was created with.
pub const DEFAULT_PAGE_SIZE: u32 = 2048;

/// The page sizes SQLite takes: powers of two from 512 to 65,536 bytes.
pub const PAGE_SIZES: std::ops::RangeInclusive<u32> = 512..=65_536;

/// `INVALID_CONFIG` unless `bytes` is a page size SQLite takes (SQLite itself would
/// silently keep its default).
pub(super) fn check_page_size(bytes: u32) -> Result<u32> {
    if PAGE_SIZES.contains(&bytes) && bytes.is_power_of_two() {
        Ok(bytes)
    } else {
        Err(Error::new(
            ErrorCode::InvalidConfig,
            format!("{bytes} is not an SQLite page size"),
        )
        .with_help("use a power of two from 512 to 65536"))
    }
}

/// The largest `wal_autocheckpoint` SQLite takes (a C `int`).
pub const MAX_WAL_AUTOCHECKPOINT: u32 = i32::MAX as u32;

/// Default number of read-only connections a file store keeps.
pub const DEFAULT_MAX_READERS: usize = 4;

/// Options of a [`SqliteStore`](super::SqliteStore).
///
/// The default is WAL with `synchronous=NORMAL` and a 5 s busy timeout (see the module
/// documentation for why); [`SqliteOptions::rollback_journal`] is SQLite's own default
/// (rollback journal, `synchronous=FULL`).
///
/// ```
/// use std::time::Duration;
/// use invite_core::store::sqlite::{JournalMode, SqliteOptions, Synchronous};
///
/// let options = SqliteOptions::default()
///     .with_journal_mode(JournalMode::Delete)
///     .with_busy_timeout(Duration::from_secs(2));
/// assert_eq!(options.synchronous(), Synchronous::Full);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    journal_mode: JournalMode,
    synchronous: Option<Synchronous>,
    busy_timeout: Duration,
    max_readers: usize,
    wal_autocheckpoint: u32,
    page_size: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            journal_mode: JournalMode::Wal,
            synchronous: None,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            max_readers: DEFAULT_MAX_READERS,
            wal_autocheckpoint: DEFAULT_WAL_AUTOCHECKPOINT,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl SqliteOptions {
    /// WAL with `synchronous=NORMAL` (the default; PERF.md's `wal` mode).
    pub fn wal() -> Self {
        SqliteOptions::default()
    }

    /// A fresh SQLite file's defaults: rollback journal with `synchronous=FULL`
    /// (PERF.md's `default` mode).
    pub fn rollback_journal() -> Self {
        SqliteOptions::default().with_journal_mode(JournalMode::Delete)
    }

    /// Sets the journal mode.
    pub fn with_journal_mode(mut self, mode: JournalMode) -> Self {
        self.journal_mode = mode;
        self
    }

    /// Sets the synchronous level (default: `NORMAL` in WAL, `FULL` otherwise).
    pub fn with_synchronous(mut self, level: Synchronous) -> Self {
        self.synchronous = Some(level);
        self
    }

    /// Sets how long to wait for another connection's lock before `STORAGE_CONFLICT`
    /// (at most [`MAX_BUSY_TIMEOUT`]; longer is cut to it).
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout.min(MAX_BUSY_TIMEOUT);
        self
    }

    /// Sets how many read-only connections a file store may open (at least 1).
    pub fn with_max_readers(mut self, n: usize) -> Self {
        self.max_readers = n.max(1);
        self
    }

    /// Sets the WAL size, in pages, past which the log is checkpointed into the database:
    /// by the store's checkpointer thread, or by a commit once the log reaches twice
    /// this size (0 turns automatic checkpoints off, and the thread; at most `i32::MAX`,
    /// SQLite's own limit, past which it would read as 0). Only matters in WAL mode.
    pub fn with_wal_autocheckpoint(mut self, pages: u32) -> Self {
        self.wal_autocheckpoint = pages.min(MAX_WAL_AUTOCHECKPOINT);
        self
    }

    /// Sets the page size, in bytes, of a database created by this open (default
    /// [`DEFAULT_PAGE_SIZE`]); an existing file keeps its own. Opening fails with
    /// `INVALID_CONFIG` unless it is a power of two from 512 to 65,536.
    pub fn with_page_size(mut self, bytes: u32) -> Self {
        self.page_size = bytes;
        self
    }

    /// The journal mode asked for.
    pub fn journal_mode(&self) -> JournalMode {
        self.journal_mode
    }

    /// The synchronous level in force: the one set, else `NORMAL` in WAL and `FULL` otherwise.
    pub fn synchronous(&self) -> Synchronous {
        self.synchronous.unwrap_or(match self.journal_mode {
            JournalMode::Wal => Synchronous::Normal,
            JournalMode::Delete => Synchronous::Full,
        })
    }

    /// The busy timeout.
    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// The most read-only connections a file store opens.
    pub fn max_readers(&self) -> usize {
        self.max_readers
    }

    /// The WAL size, in pages, that triggers a checkpoint.
    pub fn wal_autocheckpoint(&self) -> u32 {
        self.wal_autocheckpoint
    }

    /// The page size a new database gets.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}
