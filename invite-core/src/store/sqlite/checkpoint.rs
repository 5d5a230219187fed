//! WAL checkpoints off the commit path.
//!
//! In WAL mode a commit appends its pages to the log; a checkpoint copies the log back
//! into the database file and syncs it. SQLite's own auto-checkpoint runs in the
//! committing thread once the log passes `wal_autocheckpoint` pages, so one commit in
//! thousands pays for copying them all (and for the fsync). A file store in WAL mode
//! runs them on a thread of its own instead:
//!
//! - After each commit, the write connection's WAL hook wakes the checkpointer when the
//!   log holds `wal_autocheckpoint` pages or more (SQLite's own threshold) and has grown
//!   by a [`STEP_DIVISOR`]th of that since the last checkpoint (or restarted since):
//!   each checkpoint syncs the log and the file, so one per commit would cost an fsync
//!   per commit (a first version did: 3,400 fsyncs for PERF.md's 2,000 invitations and
//!   accepts, against under a hundred now).
//! - The checkpointer runs a `PASSIVE` checkpoint on a connection of its own: it copies
//!   what it can without waiting for, or blocking, readers and the writer.
//! - SQLite restarts the log from its start only once a checkpoint has copied all of it,
//!   which a checkpoint running beside a busy writer never quite does. So when the log
//!   reaches [`INLINE_FACTOR`] times the threshold, the committing connection runs a
//!   passive checkpoint itself, as SQLite's auto-checkpoint would. It copies only the tail
//!   the checkpointer has not copied yet (after the checkpointer's own checkpoint, if one
//!   is running, waiting at most the busy timeout), and the next write transaction
//!   restarts the log. The log stays within about twice the threshold, as SQLite's own
//!   keeps within about once.
//!
//! `wal_autocheckpoint=0` turns checkpoints off, as in SQLite: no thread, no hook. A
//! store whose thread cannot start keeps SQLite's own auto-checkpoint.

use std::ffi::c_int;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

use super::errors::SqlResultExt;
use crate::error::Result;

/// How many times the threshold the log may reach before a commit checkpoints inline.
pub(super) const INLINE_FACTOR: u32 = 2;

/// Past the threshold, the thread checkpoints again once the log has grown by the
/// threshold divided by this since its last checkpoint.
pub(super) const STEP_DIVISOR: u32 = 4;

/// What the WAL hooks and the checkpointer thread share.
struct Signal {
    state: Mutex<State>,
    /// Wakes the thread: a checkpoint is due, or the store is closing.
    wake: Condvar,
    /// Wakes inline checkpoints waiting for the thread's to end.
    idle: Condvar,
    /// How long an inline checkpoint waits for the thread's (the busy timeout).
    wait: Duration,
    /// Frames in the log at this store's last checkpoint (larger than the log once the
    /// log has restarted since).
    checkpointed_at: AtomicI64,
    /// Checkpoints this store ran (the thread's and inline ones).
    runs: AtomicU64,
}

#[derive(Default)]
struct State {
    /// A checkpoint is wanted (set by a hook, taken by the thread).
    due: bool,
    /// The store is closing: the thread ends.
    stop: bool,
    /// One of this store's checkpoints is running.
    running: bool,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the log's length at a checkpoint (`(frames in the log, frames copied)`,
    /// whatever it copied: a reader's snapshot may hold it back; an error or SQLite's -1
    /// changes nothing).
    fn checkpointed(&self, outcome: rusqlite::Result<(c_int, c_int)>) {
        if let Ok((log, _)) = outcome
            && log >= 0
        {
            self.checkpointed_at
                .store(i64::from(log), Ordering::Relaxed);
        }
    }

    /// Frames a log of `pages` frames has grown by since the last checkpoint: all of
    /// them if the log restarted since (it is shorter than it was then).
    fn grown_since_checkpoint(&self, pages: i64) -> i64 {
        let then = self.checkpointed_at.load(Ordering::Relaxed);
        if then > pages { pages } else { pages - then }
    }

    /// Asks for a checkpoint; wakes the thread only if none was asked for already.
    fn request(&self) {
        let mut state = self.lock();
        if !state.due {
            state.due = true;
            self.wake.notify_one();
        }
    }

    /// Runs `checkpoint` once no other checkpoint of this store runs; skips it if one
    /// still runs after the busy timeout.
    fn alone(&self, checkpoint: impl FnOnce()) {
        {
            let state = self.lock();
            let (mut state, _) = self
                .idle
                .wait_timeout_while(state, self.wait, |state| state.running)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if state.running {
                return;
            }
            state.running = true;
        }
        let _running = Running(self);
        self.runs.fetch_add(1, Ordering::Relaxed);
        checkpoint();
    }
}

/// Marks the store's checkpoint ended when dropped (even by a panic), waking the waiters.
struct Running<'a>(&'a Signal);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.lock().running = false;
        self.0.idle.notify_all();
    }
}

/// The checkpointer thread of one store; stopped and joined on drop.
pub(super) struct Checkpointer {
    hand_off: HandOff,
    thread: Option<JoinHandle<()>>,
}

/// What a write connection needs to hand its checkpoints to the thread.
#[derive(Clone)]
pub(super) struct HandOff {
    signal: Arc<Signal>,
    threshold: u32,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database (`conn`), checkpointing
    /// once the log holds `threshold` pages; an inline checkpoint waits at most `wait`
    /// for the thread's. `None` if no thread can be started (the store then keeps
    /// SQLite's inline auto-checkpoint).
    pub(super) fn start(conn: Connection, threshold: u32, wait: Duration) -> Option<Checkpointer> {
        let signal = Arc::new(Signal {
            state: Mutex::default(),
            wake: Condvar::new(),
            idle: Condvar::new(),
            wait,
            checkpointed_at: AtomicI64::new(0),
            runs: AtomicU64::new(0),
        });
        let theirs = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("invite-ckpt".to_owned())
            .spawn(move || run(&conn, &theirs))
            .ok()?;
        Some(Checkpointer {
            hand_off: HandOff { signal, threshold },
            thread: Some(thread),
        })
    }

    /// Checkpoints run so far, and whether one is asked for or running.
    #[cfg(test)]
    fn progress(&self) -> (u64, bool) {
        let signal = &self.hand_off.signal;
        let state = signal.lock();
        (
            signal.runs.load(Ordering::Relaxed),
            state.due || state.running,
        )
    }

    /// The hand-off for the store's write connections.
    pub(super) fn hand_off(&self) -> HandOff {
        self.hand_off.clone()
    }
}

impl HandOff {
    /// Hands the write connection `conn`'s checkpoints to the thread (replacing SQLite's
    /// auto-checkpoint hook on that connection).
    pub(super) fn attach(&self, conn: &mut Connection) -> Result<()> {
        let signal = Arc::clone(&self.signal);
        let threshold = i64::from(self.threshold);
        let inline = threshold * i64::from(INLINE_FACTOR);
        let step = (threshold / i64::from(STEP_DIVISOR)).max(1);
        let hook = move |wal: &mut Wal, pages: c_int| {
            let pages = i64::from(pages);
            if pages >= inline {
                // After the thread's checkpoint, if one is running. Busy (another
                // process is checkpointing) or failed: the next commit tries again. The
                // commit itself has happened either way, so the hook never reports an
                // error (SQLite would hand it to the committing statement).
                signal.alone(|| signal.checkpointed(wal.checkpoint_v2(CheckpointMode::PASSIVE)));
            } else if pages >= threshold && signal.grown_since_checkpoint(pages) >= step {
                signal.request();
            }
            Ok(())
        };
        conn.wal_hook(Some(hook)).db()
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        {
            let signal = &self.hand_off.signal;
            let mut state = signal.lock();
            state.stop = true;
            signal.wake.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: a passive checkpoint each time one is asked for, until the store closes.
fn run(conn: &Connection, signal: &Signal) {
    // A connection finds the file in WAL mode on its first read; until then SQLite
    // answers its checkpoints with "not in WAL mode" and copies nothing.
    let _ = conn.query_row("PRAGMA journal_mode", [], |_| Ok(()));
    loop {
        {
            let mut state = signal.lock();
            while !state.due && !state.stop {
                state = signal
                    .wake
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if state.stop {
                return;
            }
            state.due = false;
        }
        // Busy or failed: the next request tries again; the inline checkpoint bounds
        // the log meanwhile.
        signal.alone(|| {
            signal.checkpointed(conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE));
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::time::Instant;

    use super::*;

    /// Frames in the log of the database at `path` (the log is never truncated here).
    fn log_frames(path: &std::path::Path, page_size: u64) -> u64 {
        let wal = path.with_extension("db-wal");
        let bytes = std::fs::metadata(wal).map_or(0, |m| m.len());
        bytes.saturating_sub(32) / (page_size + 24)
    }

    /// A database at `path` in WAL mode with table `t`, written through a connection whose
    /// checkpoints go to a new checkpointer with `threshold`.
    fn wal_with_checkpointer(path: &std::path::Path, threshold: u32) -> (Connection, Checkpointer) {
        let mut writer = Connection::open(path).unwrap();
        writer
            .execute_batch(
                "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; CREATE TABLE t (x BLOB)",
            )
            .unwrap();
        let checkpointer = Checkpointer::start(
            Connection::open(path).unwrap(),
            threshold,
            Duration::from_secs(5),
        )
        .unwrap();
        checkpointer.hand_off().attach(&mut writer).unwrap();
        (writer, checkpointer)
    }

    /// Commits of a page or two each until the log holds `frames` frames.
    fn write_until(writer: &Connection, path: &std::path::Path, frames: u64) -> u32 {
        write_until_settled(writer, path, frames, None)
    }

    /// The same, letting `checkpointer` (if any) finish after each commit, so no
    /// request is merged into one already pending. (The log file never shrinks, so a
    /// log restarted by a complete checkpoint would never reach `frames`: the caller
    /// keeps one from completing.)
    fn write_until_settled(
        writer: &Connection,
        path: &std::path::Path,
        frames: u64,
        checkpointer: Option<&Checkpointer>,
    ) -> u32 {
        let mut commits = 0;
        while log_frames(path, 4096) < frames {
            // A log that restarted would never reach `frames`: fail, do not fill the disk.
            assert!(
                commits < 5_000,
                "the log stopped growing at {commits} commits"
            );
            writer
                .execute("INSERT INTO t (x) VALUES (zeroblob(3000))", [])
                .unwrap();
            commits += 1;
            if let Some(checkpointer) = checkpointer {
                settle(checkpointer);
            }
        }
        commits
    }

    /// Waits (at most 10 s) until `checkpointer` has nothing asked for nor running.
    fn settle(checkpointer: &Checkpointer) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while checkpointer.progress().1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    #[test]
    fn the_thread_checkpoints_once_per_step_not_once_per_commit() {
        const THRESHOLD: u32 = 400;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (writer, checkpointer) = wal_with_checkpointer(&path, THRESHOLD);
        // A reader's snapshot from before any row keeps every checkpoint from copying
        // the rows, so the log never restarts and keeps asking for checkpoints.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .unwrap();
        // Past the threshold by three steps, below the inline limit; every commit sees
        // the thread idle.
        let commits = write_until_settled(&writer, &path, 700, Some(&checkpointer));
        assert!(log_frames(&path, 4096) < u64::from(THRESHOLD * INLINE_FACTOR));
        let (runs, busy) = checkpointer.progress();
        assert!(!busy);
        // One at the threshold, then one per step of 100 frames: at most 4, against
        // ~150 commits past the threshold.
        assert!(
            (1..=4).contains(&runs),
            "{runs} checkpoints for {commits} commits"
        );
    }

    #[test]
    fn the_thread_copies_the_log_into_the_database_file() {
        const THRESHOLD: u32 = 40;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (writer, checkpointer) = wal_with_checkpointer(&path, THRESHOLD);
        let before = std::fs::metadata(&path).unwrap().len();
        // Until the log passes the threshold; it stays below the inline limit, so only
        // the thread can copy it.
        write_until(&writer, &path, u64::from(THRESHOLD));
        assert!(log_frames(&path, 4096) < u64::from(THRESHOLD * INLINE_FACTOR));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            std::fs::metadata(&path).unwrap().len() > before,
            "the checkpointer copied the log's pages into the database file"
        );
        drop(checkpointer);
        let rows: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert!(rows > 0);
    }
}
