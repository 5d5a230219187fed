//! Write batching: one `pwrite` per commit to the WAL instead of two per page changed,
//! and one per sync to a rollback journal instead of three per page.
//!
//! SQLite appends a transaction to the write-ahead log one frame at a time, and each
//! frame as two writes: its 24-byte header, then the page. A send changes ~24 pages, so
//! ~48 system calls per commit, and on the development machine (where a `pwrite` into
//! the page cache costs ~1.7 µs) they were more than half of a send's time in WAL mode
//! (`strace -c`; system time 0.4 s of the workload's 0.6 s). A rollback journal gets
//! three writes per page (its number, the page, a checksum).
//!
//! This VFS wraps SQLite's own `unix` one and changes one thing: how a connection
//! writes its WAL file and its rollback journal. A run of appends is kept in memory and
//! written with one call:
//!
//! - **WAL**: when the page of the transaction's commit frame arrives (the frame whose
//!   header carries the database size). SQLite writes that page before it publishes
//!   the commit in the WAL index, so no other connection or process can see a commit
//!   whose frames are not in the file yet (they read frames through the file, up to the
//!   index's last commit); a failed write still fails the commit (the error is the
//!   commit frame's, and SQLite rolls the transaction back as it would for a write that
//!   failed on its own); and a crash loses nothing committed (what is still in memory
//!   belongs to a transaction that has not committed). Every other write to the WAL (a
//!   page rewritten in place within its transaction, checksums rewritten after the
//!   commit frame) first writes what is pending, then goes straight to the file.
//! - **Rollback journal**: when SQLite next syncs, reads, sizes, truncates or closes
//!   it. At every `synchronous` level but `off`, SQLite syncs a journal before it writes
//!   any page of the database file that journal protects, so every journal byte that
//!   recovery could need is in the file first; a failed write fails that sync, before
//!   the database file is touched. At `synchronous=off` SQLite writes the database
//!   without syncing the journal, so the store opens such files with [`WAL_ONLY`], which
//!   leaves journals alone ([`batching_vfs`] picks).
//!
//! Any other access to a batched file (read, sync, size, truncate, file control, close)
//! writes what is pending first. The database file, its shared memory and every other
//! file use the `unix` VFS's own methods, untouched. The file format is SQLite's: any
//! SQLite reads and writes these files, with or without this VFS.
//!
//! Where the `unix` VFS is missing (a platform without it), the store opens files with
//! SQLite's default VFS instead.
#![allow(
    unsafe_code,
    reason = "a SQLite VFS is a table of C callbacks over raw file objects"
)]

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

use super::Synchronous;

/// The VFS that batches WAL and rollback journal writes.
const ALL: &CStr = c"invite-core-batch";

/// The VFS that batches WAL writes only (for `synchronous=off`).
const WAL_ONLY: &CStr = c"invite-core-batch-wal";

/// SQLite's WAL header (at offset 0) and frame header sizes.
const WAL_HEADER_BYTES: c_int = 32;
const FRAME_HEADER_BYTES: c_int = 24;

/// The most bytes the `unix` VFS writes in one call (it keeps a length's low 17 bits),
/// so the most kept pending: a larger transaction's frames are written ~128 KiB at a
/// time.
const MAX_PENDING_BYTES: usize = 0x1_ffff;

/// Counts, on this thread, the writes SQLite asks of batched files and those made to them
/// (tests only).
fn count_write(asked: u64, made: u64) {
    #[cfg(test)]
    tests::WRITES.with(|w| {
        let (a, m) = w.get();
        w.set((a + asked, m + made));
    });
    #[cfg(not(test))]
    let _ = (asked, made);
}

/// The name of the VFS the store opens its files with at `synchronous` (registering
/// it in this process's SQLite on first use), for a host's own `rusqlite` connections
/// to the same files: their commits are then written the same way (see the [`super`]
/// module's defaults). `None` where SQLite has no `unix` VFS. Ask with the level the
/// connection runs at: at `synchronous=off` a rollback journal must not be batched, and
/// the VFS returned for that level leaves journals alone.
///
/// ```
/// use invite_core::store::sqlite::{Synchronous, batching_vfs};
/// use rusqlite::{Connection, OpenFlags};
///
/// let dir = tempfile::tempdir()?;
/// let vfs = batching_vfs(Synchronous::Normal).expect("a unix VFS");
/// let conn = Connection::open_with_flags_and_vfs(dir.path().join("app.db"), OpenFlags::default(), vfs)?;
/// conn.execute_batch(
///     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
///      CREATE TABLE t (x); INSERT INTO t VALUES (1)",
/// )?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn batching_vfs(synchronous: Synchronous) -> Option<&'static str> {
    vfs_name(synchronous).and_then(|name| name.to_str().ok())
}

/// [`batching_vfs`] as SQLite takes it.
pub(super) fn vfs_name(synchronous: Synchronous) -> Option<&'static CStr> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // At `synchronous=off` SQLite writes database pages without syncing their journal
    // first: a journal's records must then reach the file as SQLite writes them.
    let name = if synchronous == Synchronous::Off {
        WAL_ONLY
    } else {
        ALL
    };
    REGISTERED
        .get_or_init(|| register(ALL, open::<true>) && register(WAL_ONLY, open::<false>))
        .then_some(name)
}

/// The type of a VFS's `xOpen`.
type OpenFn = unsafe extern "C" fn(
    *mut ffi::sqlite3_vfs,
    ffi::sqlite3_filename,
    *mut ffi::sqlite3_file,
    c_int,
    *mut c_int,
) -> c_int;

/// Registers a batching VFS named `name` opening files with `open` (not as the
/// default); false if it could not be.
fn register(name: &'static CStr, open: OpenFn) -> bool {
    // SAFETY: `sqlite3_vfs_find` takes a NUL-terminated name and returns SQLite's own
    // static VFS object (or null); it initializes SQLite if needed.
    let unix = unsafe { ffi::sqlite3_vfs_find(c"unix".as_ptr()) };
    if unix.is_null() {
        return false;
    }
    // SAFETY: `unix` points to a registered VFS, which SQLite never frees.
    let mut vfs: ffi::sqlite3_vfs = unsafe { *unix };
    let Ok(own) = c_int::try_from(size_of::<BatchedFile>()) else {
        return false;
    };
    vfs.szOsFile += own;
    vfs.pNext = ptr::null_mut();
    vfs.zName = name.as_ptr();
    // The `unix` VFS reads `pAppData` only in its `xOpen`, which `open` calls with the
    // `unix` VFS itself; every other method copied here ignores it.
    vfs.pAppData = unix.cast();
    vfs.xOpen = Some(open);
    // Registered once per process (see `vfs_name`) and never unregistered: SQLite keeps
    // the pointer for the life of the process.
    let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
    // SAFETY: `vfs` is a complete VFS object that lives for the rest of the process.
    unsafe { ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK }
}

/// A batched file as SQLite sees it: the `unix` VFS's file object follows this struct
/// in the memory SQLite gives `xOpen` (`szOsFile` counts both).
#[repr(C)]
struct BatchedFile {
    /// SQLite's view: `pMethods` points to [`BATCHED_METHODS`] (null if the open failed).
    base: ffi::sqlite3_file,
    /// What has been appended but not written yet.
    pending: Pending,
}

/// Which file a batch is for: when it is written depends on it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Wal,
    Journal,
}

/// Appends not yet written: `bytes` belong at offset `start` of the file.
struct Pending {
    kind: Kind,
    start: i64,
    bytes: Vec<u8>,
    /// Where the next append goes (the end of the last write past every earlier one),
    /// if known.
    append_at: Option<i64>,
    /// The last append was a commit frame's header: its page completes the commit.
    commit_page_next: bool,
}

impl Pending {
    fn end(&self) -> i64 {
        self.start + self.bytes.len() as i64
    }

    /// Whether a write of `len` bytes at `offset` continues the run of appends: right
    /// after what is pending; with nothing pending, any journal write, or a WAL write
    /// where the next frame goes or the WAL header of a log that starts over.
    fn continues(&self, offset: i64, len: c_int) -> bool {
        if !self.bytes.is_empty() {
            return offset == self.end();
        }
        match self.kind {
            Kind::Journal => true,
            Kind::Wal => self.append_at == Some(offset) || (offset == 0 && len == WAL_HEADER_BYTES),
        }
    }
}

/// The `unix` VFS this one wraps (kept in its `pAppData`).
///
/// # Safety
/// `vfs` must be the batching VFS registered by [`register`].
unsafe fn unix_vfs(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    // SAFETY: per the contract, `vfs` is ours, whose `pAppData` is the `unix` VFS.
    unsafe { (*vfs).pAppData.cast() }
}

/// The `unix` VFS's file object behind a batched file.
///
/// # Safety
/// `file` must be a [`BatchedFile`] opened by [`open`].
unsafe fn real(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: `open` placed the real file object right after the `BatchedFile`.
    unsafe { file.cast::<u8>().add(size_of::<BatchedFile>()).cast() }
}

/// The real file's methods.
///
/// # Safety
/// `file` must be a [`BatchedFile`] opened by [`open`] and not closed.
unsafe fn real_methods(file: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    // SAFETY: an open real file's `pMethods` points to the `unix` VFS's static table.
    unsafe { &*(*real(file)).pMethods }
}

/// The pending appends of a batched file.
///
/// # Safety
/// `file` must be a [`BatchedFile`] opened by [`open`] and not closed, and no other
/// reference to its `Pending` may be alive (SQLite calls a file's methods one at a
/// time).
unsafe fn pending<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Pending {
    // SAFETY: per the contract; `BatchedFile` is `repr(C)` with `base` first.
    unsafe { &mut (*file.cast::<BatchedFile>()).pending }
}

/// `xOpen` of [`ALL`] (`JOURNALS`) and [`WAL_ONLY`]: a WAL file (and a rollback journal
/// if `JOURNALS`) gets the batching methods; any other file is opened by the `unix` VFS
/// in place, with its own methods.
unsafe extern "C" fn open<const JOURNALS: bool>(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite calls `xOpen` with the VFS it was registered as.
    let unix = unsafe { unix_vfs(vfs) };
    // SAFETY: the `unix` VFS always has `xOpen`.
    let Some(unix_open) = (unsafe { (*unix).xOpen }) else {
        return ffi::SQLITE_CANTOPEN;
    };
    let kind = if flags & ffi::SQLITE_OPEN_WAL != 0 {
        Kind::Wal
    } else if JOURNALS && flags & ffi::SQLITE_OPEN_MAIN_JOURNAL != 0 {
        Kind::Journal
    } else {
        // SAFETY: `file` has `szOsFile` bytes, more than the `unix` VFS's file needs.
        return unsafe { unix_open(unix, name, file, flags, out_flags) };
    };
    // SAFETY: `file` has room for a `BatchedFile` followed by the real file object.
    let rc = unsafe { unix_open(unix, name, real(file), flags, out_flags) };
    if rc != ffi::SQLITE_OK {
        // SAFETY: as above; a null `pMethods` tells SQLite there is nothing to close.
        unsafe { (*file).pMethods = ptr::null() };
        return rc;
    }
    let batched = BatchedFile {
        base: ffi::sqlite3_file {
            pMethods: &BATCHED_METHODS,
        },
        pending: Pending {
            kind,
            start: 0,
            bytes: Vec::new(),
            append_at: None,
            commit_page_next: false,
        },
    };
    // SAFETY: `file` is SQLite's uninitialised, suitably aligned memory for a file
    // object; `close` drops what is written here.
    unsafe { ptr::write(file.cast::<BatchedFile>(), batched) };
    ffi::SQLITE_OK
}

/// Writes what is pending; the first step of every method but an append.
///
/// # Safety
/// As for [`pending`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: per the contract.
    let pending = unsafe { pending(file) };
    if pending.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let rc = match (
        // SAFETY: per the contract.
        unsafe { real_methods(file) }.xWrite,
        c_int::try_from(pending.bytes.len()),
    ) {
        (Some(write), Ok(len)) => {
            count_write(0, 1);
            // SAFETY: the real file is open; the buffer holds `len` initialised bytes.
            unsafe {
                write(
                    real(file),
                    pending.bytes.as_ptr().cast(),
                    len,
                    pending.start,
                )
            }
        }
        _ => ffi::SQLITE_IOERR_WRITE,
    };
    if rc != ffi::SQLITE_OK {
        // SQLite fails the transaction these frames belong to and writes its next one
        // from its own idea of the log's end.
        pending.append_at = None;
    }
    pending.bytes.clear();
    rc
}

/// `xWrite`: a WAL's appends wait for their commit, and any other WAL write goes
/// straight through; a journal's writes wait for its next sync (or other access).
unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    len: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    count_write(1, 0);
    let Ok(byte_len) = usize::try_from(len) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite passes `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), byte_len) };
    // SAFETY: SQLite calls a file's methods one at a time, on an open file.
    let pending = unsafe { pending(file) };
    // A WAL frame header's bytes 4..8 hold the database size in pages after a commit,
    // and zero in every other frame.
    let commit_header = pending.kind == Kind::Wal
        && len == FRAME_HEADER_BYTES
        && bytes.get(4..8).is_some_and(|size| size != [0; 4]);
    let completes_commit = std::mem::replace(&mut pending.commit_page_next, commit_header);
    if pending.bytes.len() + byte_len > MAX_PENDING_BYTES
        || (pending.kind == Kind::Journal && !pending.continues(offset, len))
    {
        // SAFETY: as above; `pending` is not used again.
        let rc = unsafe { flush(file) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    // SAFETY: as above; no other reference to the pending state is alive.
    let pending = unsafe { self::pending(file) };
    if byte_len <= MAX_PENDING_BYTES && pending.continues(offset, len) {
        if pending.bytes.is_empty() {
            pending.start = offset;
        }
        pending.bytes.extend_from_slice(bytes);
        pending.append_at = Some(pending.end());
        return if completes_commit {
            // SAFETY: as above.
            unsafe { flush(file) }
        } else {
            ffi::SQLITE_OK
        };
    }
    // SAFETY: as above.
    let rc = unsafe { flush(file) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    // SAFETY: as above.
    let Some(real_write) = unsafe { real_methods(file) }.xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    count_write(0, 1);
    // SAFETY: the real file is open; `data` holds `len` bytes.
    let rc = unsafe { real_write(real(file), data, len, offset) };
    let end = offset + i64::from(len);
    // SAFETY: as above.
    let pending = unsafe { self::pending(file) };
    if rc == ffi::SQLITE_OK && pending.append_at.is_none_or(|at| end > at) {
        pending.append_at = Some(end);
    }
    rc
}

/// Defines a method that writes what is pending, then calls the real file's method.
macro_rules! flush_then {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* ) -> $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls a file's methods one at a time, on an open file.
            let rc = unsafe { flush(file) };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            // SAFETY: as above.
            match unsafe { real_methods(file) }.$method {
                // SAFETY: the real file is open; the arguments are SQLite's own.
                Some(method) => unsafe { method(real(file) $(, $arg)*) },
                None => $missing,
            }
        }
    };
}

flush_then!(read, xRead(buf: *mut c_void, len: c_int, offset: ffi::sqlite3_int64) -> ffi::SQLITE_IOERR_READ);
flush_then!(truncate, xTruncate(size: ffi::sqlite3_int64) -> ffi::SQLITE_IOERR_TRUNCATE);
flush_then!(sync, xSync(flags: c_int) -> ffi::SQLITE_IOERR_FSYNC);
flush_then!(file_size, xFileSize(size: *mut ffi::sqlite3_int64) -> ffi::SQLITE_IOERR_FSTAT);
flush_then!(file_control, xFileControl(op: c_int, arg: *mut c_void) -> ffi::SQLITE_NOTFOUND);

/// Defines a method that calls the real file's method as it is.
macro_rules! pass {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* ) -> $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls a file's methods one at a time, on an open file.
            match unsafe { real_methods(file) }.$method {
                // SAFETY: the real file is open; the arguments are SQLite's own.
                Some(method) => unsafe { method(real(file) $(, $arg)*) },
                None => $missing,
            }
        }
    };
}

pass!(lock, xLock(level: c_int) -> ffi::SQLITE_OK);
pass!(unlock, xUnlock(level: c_int) -> ffi::SQLITE_OK);
pass!(check_reserved_lock, xCheckReservedLock(out: *mut c_int) -> ffi::SQLITE_OK);
pass!(sector_size, xSectorSize() -> 4096);
pass!(device_characteristics, xDeviceCharacteristics() -> 0);

/// `xClose`: writes what is pending, closes the real file and frees the batch.
unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes an open file once, with no other call in flight.
    let flushed = unsafe { flush(file) };
    // SAFETY: as above.
    let closed = match unsafe { real_methods(file) }.xClose {
        // SAFETY: the real file is open, and closed only here.
        Some(close) => unsafe { close(real(file)) },
        None => ffi::SQLITE_OK,
    };
    // SAFETY: `open` wrote this `BatchedFile`; SQLite frees its memory after `xClose`.
    unsafe { ptr::drop_in_place(file.cast::<BatchedFile>()) };
    if flushed != ffi::SQLITE_OK {
        flushed
    } else {
        closed
    }
}

/// A batched file's methods. Version 1: SQLite maps and shares memory through the
/// database file's methods only, never a WAL's or a journal's.
static BATCHED_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::cell::Cell;
    use std::path::{Path, PathBuf};

    use rusqlite::{Connection, OpenFlags};

    use super::{Synchronous, vfs_name};

    thread_local! {
        /// WAL writes SQLite asked for and writes made, on this thread.
        pub(super) static WRITES: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }

    /// The writes asked and made while `work` ran.
    fn writes_during(work: impl FnOnce()) -> (u64, u64) {
        let before = WRITES.with(Cell::get);
        work();
        let after = WRITES.with(Cell::get);
        (after.0 - before.0, after.1 - before.1)
    }

    /// A connection through the batching VFS, in WAL mode with `synchronous=NORMAL`.
    fn batched(path: &Path) -> Connection {
        batched_in(
            path,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
        )
    }

    /// A connection through the batching VFS, set up with `pragmas`, with table `t`.
    fn batched_in(path: &Path, pragmas: &str) -> Connection {
        let vfs = vfs_name(Synchronous::Full).unwrap();
        let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA page_size = 2048; {pragmas}; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k BLOB UNIQUE, v BLOB);
             CREATE INDEX IF NOT EXISTS t_v ON t (v)"
        ))
        .unwrap();
        conn
    }

    /// Copies the database and its log, but not the log's index, as a crash would leave
    /// them: a connection opening the copy rebuilds the index from the log's frames.
    fn crash_copy(path: &Path, dir: &Path, name: &str) -> PathBuf {
        crash_copy_with(path, dir, name, "db-wal")
    }

    /// Copies the database and its file with extension `companion` (its log or its
    /// rollback journal) as a crash would leave them.
    fn crash_copy_with(path: &Path, dir: &Path, name: &str, companion: &str) -> PathBuf {
        let copy = dir.join(name);
        std::fs::copy(path, &copy).unwrap();
        std::fs::copy(
            path.with_extension(companion),
            copy.with_extension(companion),
        )
        .unwrap();
        copy
    }

    /// Row count and a hash of every row of `t` in id order, read through SQLite's own
    /// VFS from a file that passes its integrity check.
    fn content(path: &Path) -> (i64, u64) {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let conn = Connection::open(path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let mut stmt = conn.prepare("SELECT id, k, v FROM t ORDER BY id").unwrap();
        let mut rows = stmt.query([]).unwrap();
        let (mut count, mut hasher) = (0, DefaultHasher::new());
        while let Some(row) = rows.next().unwrap() {
            count += 1;
            row.get::<_, i64>(0).unwrap().hash(&mut hasher);
            row.get::<_, Vec<u8>>(1).unwrap().hash(&mut hasher);
            row.get::<_, Vec<u8>>(2).unwrap().hash(&mut hasher);
        }
        (count, hasher.finish())
    }

    fn insert(conn: &Connection, rows: std::ops::Range<i64>, value_len: i64) {
        let mut stmt = conn
            .prepare_cached("INSERT INTO t (id, k, v) VALUES (?1, randomblob(16), randomblob(?2))")
            .unwrap();
        for id in rows {
            stmt.execute((id, value_len)).unwrap();
        }
    }

    #[test]
    fn a_commit_is_written_with_one_call_and_is_in_the_file_when_commit_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut conn = batched(&path);
        insert(&conn, 0..1, 10);

        let (asked, made) = writes_during(|| {
            let tx = conn.transaction().unwrap();
            insert(&tx, 1..41, 100);
            tx.commit().unwrap();
        });
        // Two writes per frame asked (header and page), over several pages.
        assert!(asked >= 8, "asked {asked}");
        assert_eq!(made, 1, "asked {asked}");

        // What a crash right after the commit leaves holds the commit.
        let live = content(&path);
        assert_eq!(live.0, 41);
        assert_eq!(content(&crash_copy(&path, dir.path(), "copy.db")), live);
    }

    #[test]
    fn spills_rewrites_restarts_and_two_writers_keep_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let mut first = batched(&path);
        let second = batched(&path);
        let reader = Connection::open(&path).unwrap();
        let count = |c: &Connection| -> i64 {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap()
        };

        // A transaction far larger than the page cache and the batch: SQLite spills
        // frames to the log before the commit, reads them back, rewrites some in place
        // and then their checksums.
        first.execute_batch("PRAGMA cache_size = 10").unwrap();
        let tx = first.transaction().unwrap();
        insert(&tx, 0..3000, 300);
        tx.execute("UPDATE t SET v = randomblob(200) WHERE id % 7 = 0", [])
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(count(&reader), 3000);
        let live = content(&path);
        assert_eq!(content(&crash_copy(&path, dir.path(), "spilled.db")), live);

        // Two connections take turns writing the same log (each finds it grown by the
        // other), then the log starts over after a checkpoint.
        for round in 0..20_i64 {
            let writer = if round % 2 == 0 { &first } else { &second };
            insert(writer, 10_000 + round * 10..10_000 + round * 10 + 10, 50);
            assert_eq!(count(&reader), 3000 + (round + 1) * 10);
            if round == 9 {
                writer
                    .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                    .unwrap();
            }
        }
        let live = content(&path);
        assert_eq!(live.0, 3200);
        assert_eq!(content(&crash_copy(&path, dir.path(), "turns.db")), live);

        // Closing writes nothing more, and the file reads the same without this VFS.
        drop((first, second, reader));
        assert_eq!(content(&path), live);
    }

    #[test]
    fn a_rollback_journal_is_in_the_file_before_the_database_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut conn = batched_in(&path, "PRAGMA synchronous = FULL");
        insert(&conn, 0..500, 100);
        let before = content(&path);

        // A commit: three writes per journaled page asked, a few made (the journal is
        // written at its syncs).
        let (asked, made) = writes_during(|| {
            let tx = conn.transaction().unwrap();
            tx.execute("UPDATE t SET v = randomblob(100) WHERE id % 50 = 0", [])
                .unwrap();
            tx.commit().unwrap();
        });
        assert!(asked >= 12, "asked {asked}");
        assert!(made <= 3, "asked {asked}, made {made}");

        // A transaction larger than the page cache writes pages of the database before
        // it commits: a crash then leaves a hot journal, which must restore the file.
        let before_spill = content(&path);
        assert_eq!(before_spill.0, before.0);
        conn.execute_batch("PRAGMA cache_size = 10").unwrap();
        let tx = conn.transaction().unwrap();
        insert(&tx, 1000..4000, 300);
        tx.execute("UPDATE t SET v = randomblob(100) WHERE id < 500", [])
            .unwrap();
        let copy = crash_copy_with(&path, dir.path(), "hot.db", "db-journal");
        assert_eq!(content(&copy), before_spill);
        tx.commit().unwrap();
        assert_eq!(content(&path).0, 3500);
    }

    #[test]
    fn at_synchronous_off_journals_are_written_as_sqlite_asks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("off.db");
        let vfs = vfs_name(Synchronous::Off).unwrap();
        assert_ne!(vfs, vfs_name(Synchronous::Normal).unwrap());
        let mut conn =
            Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), vfs).unwrap();
        conn.execute_batch(
            "PRAGMA synchronous = OFF;
             CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB UNIQUE, v BLOB);
             CREATE INDEX t_v ON t (v)",
        )
        .unwrap();
        insert(&conn, 0..500, 100);
        let (asked, made) = writes_during(|| {
            let tx = conn.transaction().unwrap();
            tx.execute("UPDATE t SET v = randomblob(100) WHERE id % 50 = 0", [])
                .unwrap();
            tx.commit().unwrap();
        });
        // The journal is the `unix` VFS's own file: nothing passes through the batch.
        assert_eq!((asked, made), (0, 0));
        assert_eq!(content(&path).0, 500);
    }

    /// One committed step of a random history on a log two connections share.
    #[derive(Clone, Debug)]
    enum Step {
        Insert { rows: i64, len: i64 },
        Update { modulo: i64, len: i64 },
        Delete { modulo: i64 },
        Checkpoint { restart: bool },
        OtherWriter,
        CacheSize(i64),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            (1..300_i64, 1..600_i64).prop_map(|(rows, len)| Step::Insert { rows, len }),
            (1..8_i64, 1..600_i64).prop_map(|(modulo, len)| Step::Update { modulo, len }),
            (2..9_i64).prop_map(|modulo| Step::Delete { modulo }),
            any::<bool>().prop_map(|restart| Step::Checkpoint { restart }),
            Just(Step::OtherWriter),
            prop_oneof![Just(10_i64), Just(2000)].prop_map(Step::CacheSize),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// After every commit of any history (large and small transactions, spills,
        /// checkpoints that restart the log, two writers taking turns), the files as a
        /// crash would leave them hold exactly what the live database holds.
        #[test]
        fn every_commit_of_any_history_is_in_the_files(steps in proptest::collection::vec(step(), 1..12)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.db");
            let writers = [batched(&path), batched(&path)];
            let mut current = 0;
            let mut next_id = 0_i64;
            for (i, step) in steps.iter().enumerate() {
                let writer = &writers[current];
                match *step {
                    Step::Insert { rows, len } => {
                        writer.execute_batch("BEGIN").unwrap();
                        insert(writer, next_id..next_id + rows, len);
                        writer.execute_batch("COMMIT").unwrap();
                        next_id += rows;
                    }
                    Step::Update { modulo, len } => {
                        writer
                            .execute("UPDATE t SET v = randomblob(?1) WHERE id % ?2 = 0", (len, modulo))
                            .unwrap();
                    }
                    Step::Delete { modulo } => {
                        writer.execute("DELETE FROM t WHERE id % ?1 = 1", [modulo]).unwrap();
                    }
                    Step::Checkpoint { restart } => {
                        let mode = if restart { "RESTART" } else { "PASSIVE" };
                        writer
                            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
                            .unwrap();
                    }
                    Step::OtherWriter => current = 1 - current,
                    Step::CacheSize(pages) => {
                        writer.execute_batch(&format!("PRAGMA cache_size = {pages}")).unwrap();
                    }
                }
                let copy = crash_copy(&path, dir.path(), &format!("step{i}.db"));
                proptest::prop_assert_eq!(content(&copy), content(&path), "after {:?}", step);
            }
        }
    }
}
