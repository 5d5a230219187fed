//! The PERF.md invite/accept workload and its floor, shared by the `workload` binary.
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::sync::Arc;
use std::time::Instant;

use invite_core::service::Limits;
use invite_core::{
    AcceptRequest, CapturingMailer, Config, InviteService, NewSubscription, NewUser,
    SendInvitationRequest, Store,
};

/// Figures of one run.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Invitations per second (send + outbox drain).
    pub invite_per_s: f64,
    /// Accepts per second (each creating the invited user).
    pub accept_per_s: f64,
}

/// Peak resident set size of this process, in MiB (`VmHWM`).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs the workload: setup (untimed), N invites to new users through the public API
/// with the outbox drained into an in-memory mailer (timed), N accepts (timed).
pub fn run_workload(store: Arc<dyn Store>, n: usize) -> Figures {
    let service = bench_service(store);
    let business = service.create_business("Bench Co").expect("business");
    let app = service.create_app("Bench App").expect("app");
    service
        .set_app_enabled(business.id, app.id, true)
        .expect("enable");
    let seats = u32::try_from(n + 1).expect("seats fit u32");
    let sub = service
        .create_subscription(&NewSubscription::new(
            business.id,
            app.id,
            "Bench",
            Some(seats),
        ))
        .expect("sub");
    let role = service
        .create_role(app.id, "member", "Member", &["app.use"])
        .expect("role");
    let admin = service
        .create_user(&NewUser {
            first_name: "Ada".into(),
            last_name: "Admin".into(),
            email: "admin@example.com".into(),
        })
        .expect("admin");
    service
        .set_business_admin(business.id, admin.id, true)
        .expect("admin rights");
    let base = SendInvitationRequest::new(admin.id)
        .business(business.id)
        .app(app.id)
        .subscription(sub.id)
        .role(role.id);
    let requests: Vec<_> = (0..n)
        .map(|i| {
            base.clone().new_user(
                &format!("First{i}"),
                &format!("Last{i}"),
                &format!("user{i}@example.com"),
            )
        })
        .collect();

    let mailer = CapturingMailer::new();
    let started = Instant::now();
    let mut tokens = Vec::with_capacity(n);
    for request in &requests {
        tokens.push(service.send(request).expect("send").token);
    }
    let report = service.dispatch_outbox(&mailer).expect("dispatch");
    let invite_secs = started.elapsed().as_secs_f64();
    assert_eq!(report.delivered as usize, n, "every invitation mailed");

    let started = Instant::now();
    for token in &tokens {
        service
            .accept(&AcceptRequest::new(token.expose()))
            .expect("accept");
    }
    let accept_secs = started.elapsed().as_secs_f64();
    let usage = service.seat_usage(business.id, sub.id).expect("usage");
    assert_eq!(usage.used as usize, n, "every invitee holds a seat");
    Figures {
        invite_per_s: n as f64 / invite_secs,
        accept_per_s: n as f64 / accept_secs,
    }
}

/// The floor: N bare single-row INSERTs, each its own transaction, then N UPDATEs, on a
/// fresh SQLite file in the given mode.
#[cfg(feature = "sqlite")]
pub fn sqlite_floor(path: &std::path::Path, wal: bool, n: usize) -> Figures {
    let conn = rusqlite::Connection::open(path).expect("open floor db");
    if wal {
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .expect("sync");
    }
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT NOT NULL, status TEXT NOT NULL)",
    )
    .expect("table");
    // Prepared once, as Python's `sqlite3` and better-sqlite3 floors do: the floor is
    // what a commit costs, not what compiling its statement costs.
    let mut insert = conn
        .prepare("INSERT INTO t (id, email, status) VALUES (?1, ?2, 'pending')")
        .expect("prepare insert");
    let started = Instant::now();
    for i in 0..n {
        insert
            .execute(rusqlite::params![i as i64, format!("user{i}@example.com")])
            .expect("insert");
    }
    let insert_secs = started.elapsed().as_secs_f64();
    let mut update = conn
        .prepare("UPDATE t SET status = 'accepted' WHERE id = ?1")
        .expect("prepare update");
    let started = Instant::now();
    for i in 0..n {
        update.execute([i as i64]).expect("update");
    }
    let update_secs = started.elapsed().as_secs_f64();
    Figures {
        invite_per_s: n as f64 / insert_secs,
        accept_per_s: n as f64 / update_secs,
    }
}

/// The ids a multi-process run shares.
#[derive(Clone, Copy, Debug)]
pub struct SharedCatalog {
    /// The inviting admin.
    pub admin: invite_core::UserId,
    /// The business.
    pub business: invite_core::BusinessId,
    /// The app.
    pub app: invite_core::ApplicationId,
    /// The subscription.
    pub subscription: invite_core::SubscriptionId,
    /// The role.
    pub role: invite_core::RoleId,
}

/// A fresh schema (`bench_<pid><suffix>`) in the database `INVITE_BENCH_POSTGRES_URL`
/// names, as a store URL: runs against one database never collide.
pub fn postgres_schema_url(suffix: &str) -> String {
    let url = std::env::var("INVITE_BENCH_POSTGRES_URL").expect("INVITE_BENCH_POSTGRES_URL");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema=bench_{}{suffix}", std::process::id())
}

/// The outbox key every benchmark process shares (PostgreSQL requires one, and the
/// processes of `postgres-processes` must open each other's queued emails).
pub const BENCH_OUTBOX_KEY: [u8; 32] = [7; 32];

/// A service for benchmarks: no abuse limits, the shared outbox key.
pub fn bench_service(store: Arc<dyn Store>) -> InviteService {
    let config = Config {
        limits: Limits::unlimited(),
        ..Config::with_base_url("https://app.example.com/accept")
    };
    InviteService::builder(store)
        .config(config)
        .outbox_key(BENCH_OUTBOX_KEY)
        .build()
        .expect("service")
}

/// Creates the workload's catalog: one business, app, role and admin, and a
/// subscription with `seats` seats (`None`: unlimited).
pub fn create_catalog(store: Arc<dyn Store>, seats: Option<u32>) -> SharedCatalog {
    let service = bench_service(store);
    let business = service.create_business("Bench Co").expect("business").id;
    let app = service.create_app("Bench App").expect("app").id;
    service
        .set_app_enabled(business, app, true)
        .expect("enable");
    let subscription = service
        .create_subscription(&NewSubscription::new(business, app, "Bench", seats))
        .expect("sub")
        .id;
    let role = service
        .create_role(app, "member", "Member", &["app.use"])
        .expect("role")
        .id;
    let admin = service
        .create_user(&NewUser {
            first_name: "Ada".into(),
            last_name: "Admin".into(),
            email: "admin@example.com".into(),
        })
        .expect("admin")
        .id;
    service
        .set_business_admin(business, admin, true)
        .expect("admin rights");
    SharedCatalog {
        admin,
        business,
        app,
        subscription,
        role,
    }
}

/// One app process's share: `n` invites (`{prefix}{i}@example.com`), then their accepts.
/// Returns how many sends hit the seat limit.
pub fn invite_and_accept(store: Arc<dyn Store>, c: SharedCatalog, prefix: &str, n: usize) -> usize {
    let service = bench_service(store);
    let base = SendInvitationRequest::new(c.admin)
        .business(c.business)
        .app(c.app)
        .subscription(c.subscription)
        .role(c.role);
    let mut tokens = Vec::with_capacity(n);
    let mut full = 0;
    for i in 0..n {
        let email = format!("{prefix}{i}@example.com");
        let result = service.send(&base.clone().new_user("First", "Last", &email));
        if result
            .as_ref()
            .is_err_and(|e| e.code() == invite_core::ErrorCode::SeatLimitReached)
        {
            full += 1;
            continue;
        }
        tokens.push(result.expect("send").token);
    }
    for token in &tokens {
        service
            .accept(&AcceptRequest::new(token.expose()))
            .expect("accept");
    }
    full
}
