//! PERF.md's scale figures, one JSON line each:
//!
//! - `scale search STORE N`: p50/p99 of an existing-user prefix search over N users;
//! - `scale seats STORE N`: seat-usage latency with N memberships in one subscription;
//! - `scale pending N`: peak RSS holding N pending invitations in the in-memory store;
//! - `scale bulk STORE N`: one bulk send of N rows (rows/s).
//!
//! STORE is `memory` or `sqlite` (a fresh WAL file).
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::sync::Arc;
use std::time::Instant;

use invite_benches::{SharedCatalog, bench_service, create_catalog, peak_rss_mb};
use invite_core::{
    BulkInvitee, BulkSendRequest, InMemoryStore, InviteService, NewUser, PageRequest, Store,
};
use serde_json::json;

fn open(store: &str, dir: &std::path::Path) -> Arc<dyn Store> {
    match store {
        "memory" => Arc::new(InMemoryStore::new()),
        "sqlite" => invite_core::store::open(&format!(
            "sqlite:{}?journal_mode=wal&synchronous=normal",
            dir.join("scale.sqlite").display()
        ))
        .expect("open sqlite"),
        other => {
            eprintln!("unknown store `{other}`");
            std::process::exit(2)
        }
    }
}

/// The scale figures' service and catalog (an unlimited subscription).
struct Setup {
    service: InviteService,
    catalog: SharedCatalog,
}

fn setup(store: Arc<dyn Store>) -> Setup {
    Setup {
        service: bench_service(store.clone()),
        catalog: create_catalog(store, None),
    }
}

fn rows(n: usize, prefix: &str) -> Vec<BulkInvitee> {
    (0..n)
        .map(|i| {
            BulkInvitee::new_user(
                &format!("Name{i}"),
                &format!("Family{i}"),
                &format!("{prefix}{i}@example.com"),
            )
        })
        .collect()
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("search", String::as_str);
    let dir = std::env::temp_dir().join(format!("invite-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let line = match what {
        "search" | "seats" | "bulk" => {
            let store_name = args.get(1).map_or("memory", String::as_str);
            let n: usize = args
                .get(2)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            let s = setup(open(store_name, &dir));
            match what {
                "search" => {
                    // Bulk sends create no users (accepting does): create them directly.
                    for chunk in 0..n.div_ceil(10_000) {
                        for row in rows(10_000.min(n - chunk * 10_000), &format!("c{chunk}u")) {
                            let new = row.new_user.expect("row");
                            s.service
                                .create_user(&NewUser {
                                    first_name: new.first_name,
                                    last_name: new.last_name,
                                    email: new.email,
                                })
                                .expect("user");
                        }
                    }
                    let queries = [
                        "name1", "family42", "c3u7", "name99", "c0u12345", "zzz", "na", "family7",
                    ];
                    let mut samples = Vec::new();
                    for round in 0..200 {
                        let q = queries[round % queries.len()];
                        let started = Instant::now();
                        let page = s
                            .service
                            .search_users(q, &PageRequest::first(20))
                            .expect("search");
                        samples.push(started.elapsed().as_secs_f64() * 1000.0);
                        std::hint::black_box(page);
                    }
                    json!({"bench": "user_search", "store": store_name, "users": n, "p50_ms": percentile(&mut samples, 0.5), "p99_ms": percentile(&mut samples, 0.99)})
                }
                "seats" => {
                    let members: Vec<_> = (0..n)
                        .map(|i| {
                            s.service
                                .create_user(&NewUser {
                                    first_name: "M".into(),
                                    last_name: "M".into(),
                                    email: format!("m{i}@example.com"),
                                })
                                .expect("user")
                                .id
                        })
                        .collect();
                    for user in members {
                        s.service
                            .add_membership(
                                s.catalog.business,
                                s.catalog.subscription,
                                user,
                                s.catalog.role,
                            )
                            .expect("membership");
                    }
                    let mut samples = Vec::new();
                    for _ in 0..1000 {
                        let started = Instant::now();
                        std::hint::black_box(
                            s.service
                                .seat_usage(s.catalog.business, s.catalog.subscription)
                                .expect("usage"),
                        );
                        samples.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    json!({"bench": "seat_usage", "store": store_name, "memberships": n, "p50_ms": percentile(&mut samples, 0.5), "p99_ms": percentile(&mut samples, 0.99)})
                }
                _ => {
                    let request = BulkSendRequest::new(
                        s.catalog.admin,
                        s.catalog.business,
                        s.catalog.app,
                        s.catalog.subscription,
                        s.catalog.role,
                        rows(n, "bulk"),
                    );
                    let started = Instant::now();
                    let result = s.service.bulk_send(&request).expect("bulk");
                    let secs = started.elapsed().as_secs_f64();
                    assert_eq!(result.sent(), n);
                    json!({"bench": "bulk_send", "store": store_name, "rows": n, "rows_per_s": (n as f64 / secs).round()})
                }
            }
        }
        "pending" => {
            let n: usize = args
                .get(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            let s = setup(Arc::new(InMemoryStore::new()));
            let before = peak_rss_mb();
            for chunk in 0..n.div_ceil(10_000) {
                let batch = rows(10_000.min(n - chunk * 10_000), &format!("p{chunk}x"));
                let result = s
                    .service
                    .bulk_send(&BulkSendRequest::new(
                        s.catalog.admin,
                        s.catalog.business,
                        s.catalog.app,
                        s.catalog.subscription,
                        s.catalog.role,
                        batch,
                    ))
                    .expect("bulk");
                std::hint::black_box(result.sent());
            }
            let usage = s
                .service
                .seat_usage(s.catalog.business, s.catalog.subscription)
                .expect("usage");
            assert_eq!(usage.reserved as usize, n);
            json!({"bench": "pending_in_memory", "invitations": n, "peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": before})
        }
        other => {
            eprintln!("unknown figure `{other}`");
            std::process::exit(2)
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    println!("{line}");
}
