#![cfg(all(feature = "sqlite", target_os = "linux"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! WAL checkpoints run on a thread of the store, and the log stays bounded.
//!
//! One test function on purpose: it counts the process's checkpointer threads
//! (`/proc/self/task/*/comm`), which a store opened by a concurrent test would disturb.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use invite_core::store::sqlite::{SqliteOptions, SqliteStore};
use invite_core::{AcceptRequest, CapturingMailer, Store};

mod common;
use common::{World, config, service_on};

/// The checkpointer threads of this process, by the name the store gives them: once
/// their count is `expected`, or after 5 s (a new thread names itself once it runs).
fn checkpointer_threads(expected: usize) -> usize {
    let count = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.unwrap().path().join("comm")).ok())
            .filter(|name| name.trim_end() == "invite-ckpt")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = count();
        if now == expected || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn open(path: &Path, options: SqliteOptions) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(path, options).unwrap())
}

#[test]
fn wal_checkpoints_run_on_a_thread_of_the_store_and_the_log_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(checkpointer_threads(0), 0);

    // Only a file in WAL mode with checkpoints on has a checkpointer, until it closes.
    let rollback = open(
        &dir.path().join("rollback.db"),
        SqliteOptions::rollback_journal(),
    );
    let off = open(
        &dir.path().join("off.db"),
        SqliteOptions::wal().with_wal_autocheckpoint(0),
    );
    let memory: Arc<dyn Store> =
        Arc::new(SqliteStore::open_in_memory(SqliteOptions::wal()).unwrap());
    assert_eq!(
        checkpointer_threads(0),
        0,
        "rollback, off and in memory: none"
    );
    let wal = open(&dir.path().join("wal.db"), SqliteOptions::wal());
    assert_eq!(checkpointer_threads(1), 1);
    drop((rollback, off, memory, wal));
    assert_eq!(
        checkpointer_threads(0),
        0,
        "closing the store stops its thread"
    );

    // Sustained writes: a checkpoint every 100 pages. SQLite restarts the log only after
    // a checkpoint copied all of it, so the commits checkpoint inline past 200 pages:
    // the log file never holds more than that plus the commit that crossed the line.
    const THRESHOLD: u32 = 100;
    let path = dir.path().join("busy.db");
    let options = SqliteOptions::wal().with_wal_autocheckpoint(THRESHOLD);
    let page_size = u64::from(options.page_size());
    let world = World::with_config(open(&path, options), config(), None);
    let mut tokens = Vec::new();
    for i in 0..300 {
        let request = world
            .invite_new("Bo", "Busy", &format!("busy{i}@example.com"))
            .subscription(world.unlimited.id);
        tokens.push(world.service.send(&request).unwrap().token);
    }
    let report = world
        .service
        .dispatch_outbox(&CapturingMailer::new())
        .unwrap();
    assert_eq!(report.delivered, 300);
    for token in &tokens {
        world
            .service
            .accept(&AcceptRequest::new(token.expose()))
            .unwrap();
    }
    let wal_file = path.with_extension("db-wal");
    let frames = std::fs::metadata(&wal_file).unwrap().len() / (page_size + 24);
    // A send or an accept writes ~30 pages, a dispatched batch of 100 emails ~130.
    let bound = u64::from(2 * THRESHOLD) + 200;
    assert!(
        frames <= bound,
        "the log grew to {frames} frames (at most {bound}); about 18,000 were written"
    );
    let (business, unlimited) = (world.business.id, world.unlimited.id);
    drop(world);

    // Every commit is there for a store opened afresh.
    let (reopened, _) = service_on(open(&path, SqliteOptions::wal()), config());
    assert_eq!(reopened.seat_usage(business, unlimited).unwrap().used, 300);
}
