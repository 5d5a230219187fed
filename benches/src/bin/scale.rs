//! PERF.md's scale figures, one JSON line each:
//!
//! - `scale search STORE N`: p50/p99 of an existing-user prefix search over N users;
//! - `scale seats STORE N`: seat-usage latency with N memberships in one subscription;
//! - `scale pending N`: peak RSS holding N pending invitations in the in-memory store;
//! - `scale bulk STORE N`: one bulk send of N rows (rows/s);
//! - `scale sweep STORE N`: p50/p99 of `expire_overdue` (the scheduled sweep) with N
//!   idempotency records still live and nothing due;
//! - `scale list STORE N`: p50/p99 of a page of 20 of a business's N pending
//!   invitations: the first page, a page deep in the list, and pages filtered by an
//!   email that matches one, by a status that matches none (`accepted`) and by
//!   `expired` (none is: every invitation is live).
//!
//! STORE is `memory`, `sqlite` (a fresh WAL file) or, built with the `postgres` feature,
//! `postgres` (a fresh schema in the database `INVITE_BENCH_POSTGRES_URL` names). The
//! users, memberships and idempotency records a figure needs are written through the
//! store's port, 10,000 per transaction (setup, not timed: through the service each would
//! be a commit of its own); the figure itself is timed through the service.
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::sync::Arc;
use std::time::Instant;

use invite_benches::{SharedCatalog, bench_service, create_catalog, peak_rss_mb};
use invite_core::input::{Email, EmailPolicy};
use invite_core::{
    BulkInvitee, BulkSendRequest, Clock, IdempotencyRecord, InMemoryStore, InvitationFilter,
    InvitationStatus, InviteService, Membership, PageRequest, SeatCounts, Store, SystemClock, User,
    UserId,
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
        #[cfg(feature = "postgres")]
        "postgres" => invite_core::store::open(&invite_benches::postgres_schema_url(""))
            .expect("open postgres"),
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

impl Setup {
    /// A bulk send of `rows` into the catalog's subscription, by its admin.
    fn bulk(&self, rows: Vec<BulkInvitee>) -> BulkSendRequest {
        let c = &self.catalog;
        BulkSendRequest::new(c.admin, c.business, c.app, c.subscription, c.role, rows)
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

/// A fresh time-ordered (version 7) id for a seeded row: this process's start in
/// milliseconds, then a counter where the random bits would be.
fn seed_id<T: From<uuid::Uuid>>() -> T {
    static SEEDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let millis = *START
        .get_or_init(|| u64::try_from(SystemClock.now().timestamp_millis()).expect("after 1970"));
    let count = SEEDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bytes = [0u8; 10];
    bytes[2..].copy_from_slice(&count.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .into()
}

/// Setup: the users `(first, last, email)` of `people`, written through the store's port
/// in transactions of 10,000; their ids.
fn seed_users(
    store: &dyn Store,
    people: impl Iterator<Item = (String, String, String)>,
) -> Vec<UserId> {
    let people: Vec<_> = people.collect();
    let mut ids = Vec::with_capacity(people.len());
    for chunk in people.chunks(10_000) {
        let mut tx = store.begin().expect("begin");
        for (first_name, last_name, email) in chunk {
            let (email, email_key) = Email::parse(email, "email", EmailPolicy::default())
                .expect("email")
                .into_parts();
            let user = User {
                id: seed_id(),
                email,
                email_key,
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                created_at: SystemClock.now(),
            };
            tx.insert_user(&user).expect("user");
            ids.push(user.id);
        }
        tx.commit().expect("commit");
    }
    ids
}

/// Setup: a seat of the catalog's subscription for each of `users`, written through the
/// store's port in transactions of 10,000, the seat counters kept with them.
fn seed_memberships(store: &dyn Store, c: &SharedCatalog, users: &[UserId]) {
    for chunk in users.chunks(10_000) {
        let mut tx = store.begin().expect("begin");
        let counts = tx
            .seat_counts_for_update(c.business, c.subscription)
            .expect("counts");
        for &user_id in chunk {
            tx.insert_membership(&Membership {
                id: seed_id(),
                business_id: c.business,
                subscription_id: c.subscription,
                app_id: c.app,
                user_id,
                role_id: c.role,
                created_at: SystemClock.now(),
            })
            .expect("membership");
        }
        let added = u32::try_from(chunk.len()).expect("chunk");
        tx.set_seat_counts(
            c.subscription,
            SeatCounts {
                used: counts.used + added,
                ..counts
            },
        )
        .expect("counts");
        tx.commit().expect("commit");
    }
}

/// Setup: `n` idempotency records of the catalog's business, live for another day, each
/// keeping one sent row as a send stores it, written through the store's port in
/// transactions of 10,000.
fn seed_idempotency(store: &dyn Store, c: &SharedCatalog, n: usize) {
    let now = SystemClock.now();
    for chunk in 0..n.div_ceil(10_000) {
        let mut tx = store.begin().expect("begin");
        for i in chunk * 10_000..n.min((chunk + 1) * 10_000) {
            let invitation: uuid::Uuid = seed_id();
            tx.put_idempotency(&IdempotencyRecord {
                business_id: c.business,
                key: format!("import-{i}"),
                fingerprint: format!("{:064x}", i),
                result: format!(
                    r#"[{{"outcome":"sent","invitation_id":"{invitation}","sealed_token":"{}"}}]"#,
                    "s".repeat(110)
                ),
                created_at: now,
                expires_at: now + chrono::Duration::days(1),
            })
            .expect("record");
        }
        tx.commit().expect("commit");
    }
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
        "search" | "seats" | "bulk" | "sweep" | "list" => {
            let store_name = args.get(1).map_or("memory", String::as_str);
            let n: usize = args
                .get(2)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            let store = open(store_name, &dir);
            let s = setup(store.clone());
            match what {
                "search" => {
                    // Bulk sends create no users (accepting does): create them directly.
                    seed_users(
                        &*store,
                        (0..n.div_ceil(10_000)).flat_map(|chunk| {
                            rows(10_000.min(n - chunk * 10_000), &format!("c{chunk}u"))
                                .into_iter()
                                .map(|row| {
                                    let new = row.new_user.expect("row");
                                    (new.first_name, new.last_name, new.email)
                                })
                        }),
                    );
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
                    let members = seed_users(
                        &*store,
                        (0..n).map(|i| ("M".into(), "M".into(), format!("m{i}@example.com"))),
                    );
                    seed_memberships(&*store, &s.catalog, &members);
                    let usage = s
                        .service
                        .recount_seats(s.catalog.business, s.catalog.subscription)
                        .expect("recount");
                    assert_eq!(usage.used as usize, n, "the counters match the seats");
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
                "sweep" => {
                    seed_idempotency(&*store, &s.catalog, n);
                    let mut samples = Vec::new();
                    for _ in 0..20 {
                        let started = Instant::now();
                        let expired = s.service.expire_overdue().expect("sweep");
                        samples.push(started.elapsed().as_secs_f64() * 1000.0);
                        assert_eq!(expired, 0, "nothing is due");
                    }
                    json!({"bench": "sweep", "store": store_name, "idempotency_records": n, "p50_ms": percentile(&mut samples, 0.5), "p99_ms": percentile(&mut samples, 0.99)})
                }
                "list" => {
                    for chunk in 0..n.div_ceil(10_000) {
                        let request =
                            s.bulk(rows(10_000.min(n - chunk * 10_000), &format!("l{chunk}x")));
                        let sent = s.service.bulk_send(&request).expect("bulk").sent();
                        assert_eq!(sent, 10_000.min(n - chunk * 10_000));
                    }
                    let first = PageRequest::first(20);
                    let everything = InvitationFilter::default();
                    // A cursor past nine tenths of the list.
                    let (mut cursor, mut seen) = (None::<String>, 0);
                    while seen < n * 9 / 10 {
                        let page = PageRequest {
                            cursor: cursor.clone(),
                            limit: Some(500),
                        };
                        let page = s
                            .service
                            .list_invitations(s.catalog.business, &everything, &page)
                            .expect("page");
                        seen += page.items.len();
                        cursor = page.next_cursor;
                    }
                    let deep = PageRequest {
                        cursor,
                        limit: Some(20),
                    };
                    let by_email = InvitationFilter {
                        email: Some(format!("l0x{}@example.com", n.min(10_000) / 2)),
                        ..InvitationFilter::default()
                    };
                    let by_status = InvitationFilter {
                        status: Some(InvitationStatus::Accepted),
                        ..InvitationFilter::default()
                    };
                    // Every invitation is pending and live, so none is expired either.
                    let expired = InvitationFilter {
                        status: Some(InvitationStatus::Expired),
                        ..InvitationFilter::default()
                    };
                    let time = |filter: &InvitationFilter, page: &PageRequest, found: usize| {
                        let mut samples = Vec::new();
                        for _ in 0..20 {
                            let started = Instant::now();
                            let items = s
                                .service
                                .list_invitations(s.catalog.business, filter, page)
                                .expect("list")
                                .items;
                            samples.push(started.elapsed().as_secs_f64() * 1000.0);
                            assert_eq!(items.len(), found);
                        }
                        json!({"p50_ms": percentile(&mut samples, 0.5), "p99_ms": percentile(&mut samples, 0.99)})
                    };
                    json!({"bench": "invitation_listing", "store": store_name, "invitations": n,
                        "first_page": time(&everything, &first, 20.min(n)),
                        "deep_page": time(&everything, &deep, 20.min(n - seen)),
                        "email_filter": time(&by_email, &first, 1),
                        "status_filter_none": time(&by_status, &first, 0),
                        "expired_filter_none": time(&expired, &first, 0)})
                }
                _ => {
                    let request = s.bulk(rows(n, "bulk"));
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
                let result = s.service.bulk_send(&s.bulk(batch)).expect("bulk");
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
