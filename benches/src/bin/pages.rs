//! Pages written per operation on the SQLite store in WAL mode: what bounds its
//! throughput (every page a commit changes is appended whole to the log).
//!
//! `pages [N] [PAGE_SIZE]` (defaults 500 and the store's default page size) prints one
//! JSON line: log frames per send, per email dispatched and per accept, measured on a
//! warmed-up file (2,000 invitations, half accepted) with automatic checkpoints off, so
//! the log holds exactly the frames each phase appended, and the frames of a send and
//! of an accept by the B-tree (table or index) their pages belong to. The floor's bare
//! INSERT writes one or two.
#![allow(
    clippy::expect_used,
    reason = "a benchmark aborts loudly on a broken setup"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use invite_core::store::sqlite::{DEFAULT_PAGE_SIZE, SqliteOptions, SqliteStore};
use invite_core::{AcceptRequest, CapturingMailer, InviteService, SendInvitationRequest, Store};
use serde_json::json;

/// What one phase appended to the log: its frame count, and the frames per B-tree
/// (table or index, named as in the schema; `freelist` for pages no B-tree holds).
struct Phase {
    frames: u64,
    by_btree: BTreeMap<String, u64>,
}

/// Reads the frames in the log, checkpoints and truncates it so the next phase starts
/// empty, then names each frame's page by the B-tree that holds it now (`dbstat`).
fn drain_log(path: &Path, page_size: u32) -> Phase {
    const WAL_HEADER: usize = 32;
    const FRAME_HEADER: usize = 24;
    let wal = path.with_extension("sqlite-wal");
    let log = std::fs::read(&wal).unwrap_or_default();
    let frame = FRAME_HEADER + page_size as usize;
    let pages: Vec<u32> = log
        .get(WAL_HEADER..)
        .unwrap_or_default()
        .chunks_exact(frame)
        .map(|f| u32::from_be_bytes([f[0], f[1], f[2], f[3]]))
        .collect();
    let conn = rusqlite::Connection::open(path).expect("open for checkpoint");
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .expect("checkpoint");
    assert_eq!(busy, 0, "the checkpoint completed");
    let mut owner = conn
        .prepare("SELECT name FROM dbstat WHERE pageno = ?1")
        .expect("dbstat");
    let mut by_btree = BTreeMap::new();
    for page in &pages {
        let name: String = owner
            .query_row([page], |row| row.get(0))
            .unwrap_or_else(|_| "freelist".to_owned());
        *by_btree.entry(name).or_insert(0) += 1;
    }
    Phase {
        frames: pages.len() as u64,
        by_btree,
    }
}

fn send_all(
    service: &InviteService,
    base: &SendInvitationRequest,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    (0..n)
        .map(|i| {
            let request = base.clone().new_user(
                &format!("First{i}"),
                &format!("Last{i}"),
                &format!("{prefix}{i}@example.com"),
            );
            service
                .send(&request)
                .expect("send")
                .token
                .expose()
                .to_owned()
        })
        .collect()
}

fn accept_all(service: &InviteService, tokens: &[String]) {
    for token in tokens {
        service.accept(&AcceptRequest::new(token)).expect("accept");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(500);
    let page_size: u32 = args
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let dir = std::env::temp_dir().join(format!("invite-pages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("pages.sqlite");
    let options = SqliteOptions::wal()
        .with_wal_autocheckpoint(0)
        .with_page_size(page_size);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path, options).expect("open sqlite"));
    let catalog = invite_benches::create_catalog(Arc::clone(&store), None);
    let service = invite_benches::bench_service(store);
    let base = SendInvitationRequest::new(catalog.admin)
        .business(catalog.business)
        .app(catalog.app)
        .subscription(catalog.subscription)
        .role(catalog.role);

    let warm = send_all(&service, &base, "warm", 2000);
    service
        .dispatch_outbox(&CapturingMailer::new())
        .expect("dispatch");
    accept_all(&service, &warm[..1000]);
    drain_log(&path, page_size);

    let tokens = send_all(&service, &base, "user", n);
    let send = drain_log(&path, page_size);
    service
        .dispatch_outbox(&CapturingMailer::new())
        .expect("dispatch");
    let dispatch = drain_log(&path, page_size);
    accept_all(&service, &tokens);
    let accept = drain_log(&path, page_size);
    let _ = std::fs::remove_dir_all(&dir);

    let per_op = |frames: u64| (frames as f64 / n as f64 * 10.0).round() / 10.0;
    // `[name, frames per operation]` of a phase's B-trees, most frames first; those
    // under half a frame per operation summed as `other`.
    let by_btree = |phase: &Phase| {
        let mut rows: Vec<(&String, &u64)> = phase.by_btree.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let (shown, rest): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|(_, frames)| per_op(**frames) >= 0.5);
        let mut out: Vec<_> = shown
            .into_iter()
            .map(|(name, frames)| json!([name, per_op(*frames)]))
            .collect();
        let rest: u64 = rest.into_iter().map(|(_, frames)| frames).sum();
        out.push(json!(["other", per_op(rest)]));
        out
    };
    println!(
        "{}",
        json!({
            "impl": "invite-core/rust/sqlite",
            "n": n,
            "page_size": page_size,
            "wal_frames_per_send": per_op(send.frames),
            "wal_frames_per_dispatched_email": per_op(dispatch.frames),
            "wal_frames_per_accept": per_op(accept.frames),
            "send_frames_by_btree": by_btree(&send),
            "accept_frames_by_btree": by_btree(&accept),
        })
    );
}
