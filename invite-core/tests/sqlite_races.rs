#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! SECURITY.md T8 on one SQLite file: seats are never oversold by concurrent sends and
//! accepts from several OS processes (each a re-run of this test binary, selecting
//! `race_child`), nor by threads; a token is accepted once under 64 concurrent accepts.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use invite_core::store::sqlite::{JournalMode, SqliteOptions, SqliteStore};
use invite_core::{
    AcceptRequest, ErrorCode, InviteService, PageRequest, SendInvitationRequest, Store,
};

/// Set only in child processes: what the child works on.
const CHILD_ENV: &str = "INVITE_CORE_SQLITE_RACE_CHILD";
/// The child's test name (run with `--exact`).
const CHILD_TEST: &str = "race_child";

const PROCESSES: usize = 4;
const SEATS: u32 = 5;
const ROUNDS: usize = 3;

/// What a child process is told, as `key=value` pairs separated by `;`.
struct Spec {
    path: PathBuf,
    journal: JournalMode,
    go: PathBuf,
    tag: String,
    sends: usize,
    business: String,
    app: String,
    subscription: String,
    role: String,
    admin: String,
}

impl Spec {
    fn encode(&self) -> String {
        format!(
            "path={};journal={};go={};tag={};sends={};business={};app={};subscription={};role={};admin={}",
            self.path.display(),
            self.journal.as_str(),
            self.go.display(),
            self.tag,
            self.sends,
            self.business,
            self.app,
            self.subscription,
            self.role,
            self.admin
        )
    }

    fn decode(text: &str) -> Spec {
        let get = |key: &str| {
            text.split(';')
                .find_map(|pair| {
                    pair.strip_prefix(key)
                        .and_then(|rest| rest.strip_prefix('='))
                })
                .unwrap_or_else(|| panic!("`{key}` missing from the child spec"))
                .to_owned()
        };
        Spec {
            path: PathBuf::from(get("path")),
            journal: JournalMode::parse(&get("journal")).unwrap(),
            go: PathBuf::from(get("go")),
            tag: get("tag"),
            sends: get("sends").parse().unwrap(),
            business: get("business"),
            app: get("app"),
            subscription: get("subscription"),
            role: get("role"),
            admin: get("admin"),
        }
    }
}

/// One child's tally, printed as a `RACE_REPORT` line.
#[derive(Debug, Default, PartialEq)]
struct Report {
    accepted: u32,
    declined: u32,
    refused: u32,
    max_seen: u32,
}

impl Report {
    fn parse(stdout: &str) -> Option<Report> {
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("RACE_REPORT ").map(|(_, r)| r))?;
        let mut report = Report::default();
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            let value: u32 = value.parse().ok()?;
            match key {
                "accepted" => report.accepted = value,
                "declined" => report.declined = value,
                "refused" => report.refused = value,
                "max_seen" => report.max_seen = value,
                _ => return None,
            }
        }
        Some(report)
    }
}

fn options(journal: JournalMode) -> SqliteOptions {
    SqliteOptions::default().with_journal_mode(journal)
}

fn wait_for(go: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !go.exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The child's work: send `sends` invitations (holding their reservations), then accept
/// every other one and decline the rest, sampling the seat counters after each step.
/// A no-op unless started by `processes_never_oversell_*` (the variable is unset).
#[test]
fn race_child() {
    let Ok(text) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec = Spec::decode(&text);
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&spec.path, options(spec.journal)).unwrap());
    let service = InviteService::new(store, common::config()).unwrap();
    let (business, subscription) = (
        spec.business.parse().unwrap(),
        spec.subscription.parse().unwrap(),
    );
    let mut report = Report::default();
    let sample = |service: &InviteService, report: &mut Report| {
        let usage = service.seat_usage(business, subscription).unwrap();
        report.max_seen = report.max_seen.max(usage.used + usage.reserved);
    };
    wait_for(&spec.go);
    let mut tokens = Vec::new();
    for i in 0..spec.sends {
        let request = SendInvitationRequest::new(spec.admin.parse().unwrap())
            .new_user("Race", "Child", &format!("{}-{i}@example.com", spec.tag))
            .business(business)
            .app(spec.app.parse().unwrap())
            .subscription(subscription)
            .role(spec.role.parse().unwrap());
        match service.send(&request) {
            Ok(sent) => tokens.push(sent.token),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::SeatLimitReached, "send: {e}");
                report.refused += 1;
            }
        }
        sample(&service, &mut report);
    }
    for (i, token) in tokens.iter().enumerate() {
        if i % 2 == 0 {
            service.accept(&AcceptRequest::new(token.expose())).unwrap();
            report.accepted += 1;
        } else {
            service.decline(token.expose()).unwrap();
            report.declined += 1;
        }
        sample(&service, &mut report);
    }
    println!(
        "RACE_REPORT accepted={} declined={} refused={} max_seen={}",
        report.accepted, report.declined, report.refused, report.max_seen
    );
}

fn spawn_child(spec: &Spec) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, spec.encode())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn processes_never_oversell(journal: JournalMode) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db");
    let store = Arc::new(SqliteStore::open(&path, options(journal)).unwrap());
    let w = common::World::with_config(store, common::config(), Some(SEATS));
    let mut total_accepted = 0;
    for round in 0..ROUNDS {
        let go = dir.path().join(format!("go-{round}"));
        let children: Vec<Child> = (0..PROCESSES)
            .map(|k| {
                spawn_child(&Spec {
                    path: path.clone(),
                    journal,
                    go: go.clone(),
                    tag: format!("{}-r{round}-p{k}", journal.as_str()),
                    sends: SEATS as usize,
                    business: w.business.id.to_string(),
                    app: w.app.id.to_string(),
                    subscription: w.subscription.id.to_string(),
                    role: w.member.id.to_string(),
                    admin: w.admin.id.to_string(),
                })
            })
            .collect();
        std::fs::write(&go, b"go").unwrap();
        let mut reports = Vec::new();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "round {round}: a child failed\n{stdout}\n{stderr}"
            );
            reports.push(
                Report::parse(&stdout)
                    .unwrap_or_else(|| panic!("no report from a child:\n{stdout}")),
            );
        }
        let accepted: u32 = reports.iter().map(|r| r.accepted).sum();
        let attempts: u32 = reports
            .iter()
            .map(|r| r.accepted + r.declined + r.refused)
            .sum();
        assert_eq!(
            attempts,
            PROCESSES as u32 * SEATS,
            "round {round}: every send was answered"
        );
        assert!(accepted >= 1, "round {round}: the race made progress");
        for report in &reports {
            assert!(
                report.max_seen <= SEATS,
                "round {round}: a child saw {report:?} with {SEATS} seats"
            );
        }
        let usage = w.usage();
        assert!(
            usage.used + usage.reserved <= SEATS,
            "round {round}: {usage:?}"
        );
        assert_eq!(
            (usage.used, usage.reserved),
            (accepted, 0),
            "round {round}: every accept holds one seat"
        );
        w.assert_counters_match(&w.subscription);
        let members = w
            .service
            .list_memberships(w.business.id, w.subscription.id, &PageRequest::first(500))
            .unwrap();
        assert_eq!(members.items.len() as u32, accepted);
        total_accepted += accepted;
        // Free the seats for the next round.
        for m in members.items {
            w.service.remove_membership(w.business.id, m.id).unwrap();
        }
        assert_eq!(w.usage().used, 0);
    }
    assert!(total_accepted >= ROUNDS as u32);
}

#[test]
fn processes_never_oversell_wal() {
    processes_never_oversell(JournalMode::Wal);
}

#[test]
fn processes_never_oversell_rollback_journal() {
    processes_never_oversell(JournalMode::Delete);
}

#[test]
fn sixty_four_threads_accept_one_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(dir.path().join("accept.db"), SqliteOptions::default()).unwrap(),
    );
    let w = common::World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Once", "Only", "once@example.com"))
        .unwrap();
    let barrier = Arc::new(Barrier::new(64));
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let (service, barrier) = (w.service.clone(), barrier.clone());
            let token = sent.token.expose().to_owned();
            thread::spawn(move || {
                barrier.wait();
                service.accept(&AcceptRequest::new(token))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "exactly one accept wins"
    );
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(err.code(), ErrorCode::InvalidToken);
    }
    let members = w
        .service
        .list_memberships(w.business.id, w.subscription.id, &PageRequest::first(100))
        .unwrap();
    assert_eq!(members.items.len(), 1, "one membership");
    let usage = w.usage();
    assert_eq!((usage.used, usage.reserved), (1, 0));
    w.assert_counters_match(&w.subscription);
}
