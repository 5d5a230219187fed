//! The PERF.md workload runner for Rust: prints one JSON line per run.
//!
//! `workload STORE [N]` where STORE is `memory`, `sqlite-default`, `sqlite-wal`,
//! `floor-default`, `floor-wal` or `postgres` (URL from `INVITE_BENCH_POSTGRES_URL`).
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::sync::Arc;

use invite_benches::{peak_rss_mb, run_workload};
use invite_core::{InMemoryStore, Store};
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let store = args.next().unwrap_or_else(|| "memory".to_owned());
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("invite-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (name, figures, sqlite) = match store.as_str() {
        "memory" => {
            let store: Arc<dyn Store> = Arc::new(InMemoryStore::new());
            (
                "invite-core/rust/memory".to_owned(),
                run_workload(store, n),
                None,
            )
        }
        #[cfg(feature = "sqlite")]
        mode @ ("sqlite-default" | "sqlite-wal") => {
            let wal = mode == "sqlite-wal";
            let path = dir.join("bench.sqlite");
            let query = if wal {
                "journal_mode=wal&synchronous=normal"
            } else {
                "journal_mode=delete&synchronous=full"
            };
            let store = invite_core::store::open(&format!("sqlite:{}?{query}", path.display()))
                .expect("open sqlite");
            let figures = run_workload(store, n);
            let modes = json!({ "journal_mode": if wal { "wal" } else { "delete" }, "synchronous": if wal { "normal" } else { "full" } });
            ("invite-core/rust/sqlite".to_owned(), figures, Some(modes))
        }
        #[cfg(feature = "sqlite")]
        mode @ ("floor-default" | "floor-wal") => {
            let wal = mode == "floor-wal";
            let path = dir.join("floor.sqlite");
            let figures = invite_benches::sqlite_floor(&path, wal, n);
            let modes = json!({ "journal_mode": if wal { "wal" } else { "delete" }, "synchronous": if wal { "normal" } else { "full" } });
            ("floor/rust".to_owned(), figures, Some(modes))
        }
        #[cfg(feature = "postgres")]
        "postgres" => {
            let url =
                std::env::var("INVITE_BENCH_POSTGRES_URL").expect("INVITE_BENCH_POSTGRES_URL");
            let store = invite_core::store::open(&url).expect("open postgres");
            (
                "invite-core/rust/postgres".to_owned(),
                run_workload(store, n),
                None,
            )
        }
        other => {
            eprintln!("unknown store `{other}`");
            std::process::exit(2);
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let mut line = json!({
        "impl": name,
        "n": n,
        "invite_per_s": (figures.invite_per_s * 10.0).round() / 10.0,
        "accept_per_s": (figures.accept_per_s * 10.0).round() / 10.0,
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
    });
    if let Some(modes) = sqlite {
        line["sqlite"] = modes;
    }
    println!("{line}");
}
