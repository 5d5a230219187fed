//! What a commit that changes k B-trees costs against PERF.md's floor, through SQLite's
//! own VFS and through the store's ([`batching_vfs`]), with no invite-core code in the
//! timed loop.
//!
//! `lower_bound [N] [RUNS]` (defaults 2000 and 3) times, in WAL mode with
//! `synchronous=NORMAL` and the store's page size, N transactions that each add one
//! entry to k B-trees: one INSERT of a row into a `WITHOUT ROWID` table with k − 1
//! indexes, every key time-ordered (each entry lands at its B-tree's right edge, the
//! cheapest case), for k = 1, 2, 4, 8, 16, 24. The floor in the same run is k = 1
//! through SQLite's own VFS: PERF.md's bare single-row INSERT per transaction. Prints
//! one JSON line per k and VFS with the median ratio to the floor's time per commit.
//! `benches/python/lower_bound.py` measures the same through Python's `sqlite3` (its own
//! SQLite, its own VFS), in both journal modes.
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::path::Path;
use std::time::Instant;

use invite_core::store::sqlite::{DEFAULT_PAGE_SIZE, Synchronous, batching_vfs};
use rusqlite::{Connection, OpenFlags, params_from_iter};
use serde_json::json;

const TREES: [usize; 6] = [1, 2, 4, 8, 16, 24];

/// Commits per second of `n` single-row INSERTs into a table with `k` B-trees, on a
/// fresh file opened through `vfs` (SQLite's default if `None`).
fn commits_per_s(dir: &Path, vfs: Option<&str>, k: usize, n: u64) -> f64 {
    let path = dir.join(format!("k{k}-{}.db", vfs.unwrap_or("sqlite")));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), vfs),
        None => Connection::open(&path),
    }
    .expect("open");
    conn.execute_batch(&format!(
        "PRAGMA page_size = {DEFAULT_PAGE_SIZE}; PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;"
    ))
    .expect("pragmas");
    let columns: Vec<String> = (0..k).map(|i| format!("c{i} BLOB NOT NULL")).collect();
    conn.execute_batch(&format!(
        "CREATE TABLE t ({}, PRIMARY KEY (c0)) WITHOUT ROWID",
        columns.join(", ")
    ))
    .expect("table");
    for i in 1..k {
        conn.execute_batch(&format!("CREATE INDEX t_c{i} ON t (c{i})"))
            .expect("index");
    }
    let slots: Vec<String> = (1..=k).map(|i| format!("?{i}")).collect();
    let mut insert = conn
        .prepare(&format!("INSERT INTO t VALUES ({})", slots.join(", ")))
        .expect("prepare");
    // Keys made before the clock starts: 16 bytes, time-ordered, distinct per column.
    let rows: Vec<Vec<[u8; 16]>> = (0..n)
        .map(|row| {
            (0..k as u64)
                .map(|column| {
                    let mut key = [0; 16];
                    key[..8].copy_from_slice(&row.to_be_bytes());
                    key[8..].copy_from_slice(&column.to_be_bytes());
                    key
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    for row in &rows {
        insert.execute(params_from_iter(row)).expect("insert");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(2000, |a| a.parse().expect("N"));
    let runs: usize = args.next().map_or(3, |a| a.parse().expect("RUNS"));
    let batching = batching_vfs(Synchronous::Normal).expect("SQLite's unix VFS");
    let dir = std::env::temp_dir().join(format!("invite-lower-bound-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    // Per run, the floor and each (k, VFS) interleaved, so swings hit them alike.
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); TREES.len() * 2];
    let mut floors = Vec::new();
    for _ in 0..runs {
        let floor = commits_per_s(&dir, None, 1, n);
        floors.push(floor);
        for (i, &k) in TREES.iter().enumerate() {
            for (j, vfs) in [None, Some(batching)].into_iter().enumerate() {
                ratios[i * 2 + j].push(floor / commits_per_s(&dir, vfs, k, n));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let floor = median(floors).round();
    for (i, &k) in TREES.iter().enumerate() {
        for (j, vfs) in ["sqlite", batching].into_iter().enumerate() {
            println!(
                "{}",
                json!({
                    "btrees": k,
                    "vfs": vfs,
                    "n": n,
                    "runs": runs,
                    "floor_commits_per_s": floor,
                    "times_floor": (median(ratios[i * 2 + j].clone()) * 100.0).round() / 100.0,
                })
            );
        }
    }
}
