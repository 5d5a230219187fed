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
        "postgres-processes" => {
            postgres_processes(n);
            return;
        }
        #[cfg(feature = "postgres")]
        "postgres-child" => {
            postgres_child();
            return;
        }
        #[cfg(feature = "postgres")]
        "postgres" => {
            let url = invite_benches::postgres_schema_url("");
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

/// PERF.md: throughput with K concurrent app processes sharing one PostgreSQL database
/// (K = 1, 2, 4, 8), N invites + accepts in all, against one subscription whose seats
/// run out at 90 % of N, so the seat check is contended; afterwards the counters must
/// equal a recount.
#[cfg(feature = "postgres")]
fn postgres_processes(n: usize) {
    use std::process::Command;
    for k in [1usize, 2, 4, 8] {
        let store_url = invite_benches::postgres_schema_url(&format!("_{k}"));
        let seats = u32::try_from(n * 9 / 10).expect("seats");
        let c = invite_benches::create_catalog(
            invite_core::store::open(&store_url).expect("open"),
            Some(seats),
        );
        let started = std::time::Instant::now();
        let children: Vec<_> = (0..k)
            .map(|i| {
                Command::new(std::env::current_exe().expect("exe"))
                    .args(["postgres-child", &(n / k).to_string()])
                    .env("CHILD_URL", &store_url)
                    .env("CHILD_PREFIX", format!("p{i}u"))
                    .env(
                        "CHILD_IDS",
                        format!(
                            "{} {} {} {} {}",
                            c.admin, c.business, c.app, c.subscription, c.role
                        ),
                    )
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().expect("wait").success(), "a child failed");
        }
        let secs = started.elapsed().as_secs_f64();
        let service = invite_core::InviteService::builder(
            invite_core::store::open(&store_url).expect("open"),
        )
        .outbox_key(invite_benches::BENCH_OUTBOX_KEY)
        .build()
        .expect("service");
        let usage = service
            .seat_usage(c.business, c.subscription)
            .expect("usage");
        let recount = service
            .recount_seats(c.business, c.subscription)
            .expect("recount");
        assert!(usage.used + usage.reserved <= seats, "oversold");
        assert_eq!(
            (usage.used, usage.reserved),
            (recount.used, recount.reserved),
            "counters drifted"
        );
        println!(
            "{}",
            json!({"impl": "invite-core/rust/postgres", "processes": k, "n": n, "seats": seats,
                   "used": usage.used, "ops_per_s": ((n + usage.used as usize) as f64 / secs).round()})
        );
    }
}

#[cfg(feature = "postgres")]
fn postgres_child() {
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .expect("n");
    let url = std::env::var("CHILD_URL").expect("url");
    let prefix = std::env::var("CHILD_PREFIX").expect("prefix");
    let ids = std::env::var("CHILD_IDS").expect("ids");
    let parts: Vec<uuid::Uuid> = ids.split(' ').map(|s| s.parse().expect("uuid")).collect();
    let c = invite_benches::SharedCatalog {
        admin: parts[0].into(),
        business: parts[1].into(),
        app: parts[2].into(),
        subscription: parts[3].into(),
        role: parts[4].into(),
    };
    let store = invite_core::store::open(&url).expect("open");
    invite_benches::invite_and_accept(store, c, &prefix, n);
}
