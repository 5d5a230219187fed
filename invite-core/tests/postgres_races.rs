//! Races on one PostgreSQL database: several OS processes (SECURITY.md T8) and many
//! threads (T2, T15, DESIGN.md invariant 2). Without `INVITE_TEST_POSTGRES_URL` every
//! test prints SKIPPED.
//!
//! The process race re-runs this test binary as children (`race_child`, a no-op unless
//! `INVITE_PG_RACE_CHILD` names the database and ids), each with its own pool and service.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
mod postgres_support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use invite_core::service::Limits;
use invite_core::{
    AcceptRequest, Config, ErrorCode, InviteService, NewSubscription, SendInvitationRequest,
};
use postgres_support::{ScopedStore, TestDb};

const CHILD_ENV: &str = "INVITE_PG_RACE_CHILD";
const PROCESSES: usize = 4;
const THREADS_PER_PROCESS: usize = 2;
const SEATS: u32 = 5;
const ROUNDS: usize = 3;

fn child_config() -> Config {
    Config {
        limits: Limits::unlimited(),
        ..Config::with_base_url("https://app.example.com/invite/accept")
    }
}

/// What one child did in one round.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    sent: u32,
    accepted: u32,
    declined: u32,
    seat_limit: u32,
    max_taken: u32,
}

impl Tally {
    fn parse(line: &str) -> Option<Tally> {
        // libtest may print `test race_child ... ` on the same line.
        let start = line.find("RACE-RESULT ")?;
        let mut fields = line[start..].strip_prefix("RACE-RESULT ")?.split(' ');
        let mut next = || fields.next()?.split('=').nth(1)?.parse().ok();
        Some(Tally {
            sent: next()?,
            accepted: next()?,
            declined: next()?,
            seat_limit: next()?,
            max_taken: next()?,
        })
    }
}

/// The child's side: `INVITE_PG_RACE_CHILD` =
/// `schema,business,app,subscription,role,admin,tag,start_at_unix_ms`.
/// Every thread sends `SEATS` invitations, accepting or declining each; only
/// `SEAT_LIMIT_REACHED` may refuse a send.
#[test]
fn race_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let f: Vec<&str> = spec.split(',').collect();
    let url = postgres_support::url().expect("the parent passes the database url");
    let db = TestDb::attach(url, f[0].to_owned());
    let store = Arc::new(db.store_with(db.options().max_connections(4)));
    // The system clock and the OS random source: ids must not repeat across processes.
    let service = Arc::new(
        InviteService::builder(store)
            .config(child_config())
            .outbox_key(postgres_support::OUTBOX_KEY)
            .build()
            .unwrap(),
    );
    let (business, app, sub, role, admin) = (
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
        f[4].parse().unwrap(),
        f[5].parse().unwrap(),
    );
    let tag = f[6].to_owned();
    // Start together: every child waits for the same wall-clock instant.
    let start_at: u128 = f[7].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    thread::sleep(Duration::from_millis(
        u64::try_from(start_at.saturating_sub(now)).unwrap(),
    ));
    let barrier = Arc::new(Barrier::new(THREADS_PER_PROCESS));
    let handles: Vec<_> = (0..THREADS_PER_PROCESS)
        .map(|t| {
            let (service, barrier, tag) = (service.clone(), barrier.clone(), tag.clone());
            thread::spawn(move || {
                barrier.wait();
                let mut tally = Tally::default();
                for i in 0..SEATS {
                    let request = SendInvitationRequest::new(admin)
                        .new_user("R", "R", &format!("{tag}t{t}i{i}@example.com"))
                        .business(business)
                        .app(app)
                        .subscription(sub)
                        .role(role);
                    match service.send(&request) {
                        Ok(sent) => {
                            tally.sent += 1;
                            if (i + t as u32).is_multiple_of(2) {
                                service
                                    .accept(&AcceptRequest::new(sent.token.expose()))
                                    .unwrap();
                                tally.accepted += 1;
                            } else {
                                service.decline(sent.token.expose()).unwrap();
                                tally.declined += 1;
                            }
                        }
                        Err(e) if e.code() == ErrorCode::SeatLimitReached => tally.seat_limit += 1,
                        Err(e) => panic!("unexpected send error: {e:?}"),
                    }
                    let usage = service.seat_usage(business, sub).unwrap();
                    tally.max_taken = tally.max_taken.max(usage.used + usage.reserved);
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for h in handles {
        let t = h.join().unwrap();
        total.sent += t.sent;
        total.accepted += t.accepted;
        total.declined += t.declined;
        total.seat_limit += t.seat_limit;
        total.max_taken = total.max_taken.max(t.max_taken);
    }
    println!(
        "RACE-RESULT sent={} accepted={} declined={} seat_limit={} max_taken={}",
        total.sent, total.accepted, total.declined, total.seat_limit, total.max_taken
    );
}

#[test]
fn processes_never_oversell_seats() {
    let Some(db) = TestDb::new() else { return };
    let w = common::World::with_config(Arc::new(db.store()), common::config(), Some(SEATS));
    let exe = std::env::current_exe().unwrap();
    for round in 0..ROUNDS {
        // A fresh subscription per round: every round starts from zero seats taken.
        let sub = w
            .service
            .create_subscription(&NewSubscription::new(
                w.business.id,
                w.app.id,
                format!("Round {round}"),
                Some(SEATS),
            ))
            .unwrap();
        // The parent watches the counters while the children race.
        let stop = Arc::new(AtomicBool::new(false));
        let watched_max = Arc::new(AtomicU32::new(0));
        let watcher = {
            let (service, stop, max) = (w.service.clone(), stop.clone(), watched_max.clone());
            let (business, sub) = (w.business.id, sub.id);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let usage = service.seat_usage(business, sub).unwrap();
                    max.fetch_max(usage.used + usage.reserved, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(2));
                }
            })
        };
        let start_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 1_500;
        let children: Vec<_> = (0..PROCESSES)
            .map(|p| {
                let spec = [
                    db.schema.clone(),
                    w.business.id.to_string(),
                    w.app.id.to_string(),
                    sub.id.to_string(),
                    w.member.id.to_string(),
                    w.admin.id.to_string(),
                    format!("r{round}p{p}"),
                    start_at.to_string(),
                ]
                .join(",");
                Command::new(&exe)
                    .args(["race_child", "--exact", "--nocapture", "--test-threads=1"])
                    .env(CHILD_ENV, spec)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut total = Tally::default();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "a child process failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let tally = stdout
                .lines()
                .find_map(Tally::parse)
                .expect("the child reports its tally");
            total.sent += tally.sent;
            total.accepted += tally.accepted;
            total.declined += tally.declined;
            total.seat_limit += tally.seat_limit;
            total.max_taken = total.max_taken.max(tally.max_taken);
        }
        stop.store(true, Ordering::Relaxed);
        watcher.join().unwrap();
        eprintln!(
            "round {round}: {total:?}, watched max {}",
            watched_max.load(Ordering::Relaxed)
        );
        let attempts = (PROCESSES * THREADS_PER_PROCESS) as u32 * SEATS;
        assert_eq!(
            total.sent + total.seat_limit,
            attempts,
            "round {round}: every send answered"
        );
        assert_eq!(total.sent, total.accepted + total.declined);
        assert!(
            total.seat_limit > 0,
            "round {round}: the race reached the cap"
        );
        assert!(
            total.max_taken <= SEATS,
            "round {round}: a child saw an oversold subscription"
        );
        assert!(
            total.accepted <= SEATS,
            "round {round}: one seat per accept, no more"
        );
        let usage = w.service.seat_usage(w.business.id, sub.id).unwrap();
        let recount = w.service.recount_seats(w.business.id, sub.id).unwrap();
        assert!(
            usage.used + usage.reserved <= SEATS,
            "round {round}: oversold"
        );
        assert!(
            watched_max.load(Ordering::Relaxed) <= SEATS,
            "round {round}: oversold while racing"
        );
        assert_eq!(
            (usage.used, usage.reserved),
            (recount.used, recount.reserved),
            "round {round}: counters drifted"
        );
        assert_eq!(
            (usage.used, usage.reserved),
            (total.accepted, 0),
            "round {round}: a seat per accept, none left reserved"
        );
        // No seat leaked: (whether the race's timing let every accept in or refused some
        // for seats reserved a moment by invitations then declined) exactly the seats
        // left can still be taken, and then no more.
        for i in total.accepted..SEATS {
            let request = SendInvitationRequest {
                subscription_id: Some(sub.id),
                ..w.invite_new("Top", "Up", &format!("top{round}x{i}@example.com"))
            };
            let sent = w.service.send(&request).unwrap();
            w.service
                .accept(&AcceptRequest::new(sent.token.expose()))
                .unwrap();
        }
        let one_more = SendInvitationRequest {
            subscription_id: Some(sub.id),
            ..w.invite_new("One", "More", &format!("more{round}@example.com"))
        };
        assert_eq!(
            w.service.send(&one_more).unwrap_err().code(),
            ErrorCode::SeatLimitReached,
            "round {round}: the cap holds after the race"
        );
    }
}

#[test]
fn sixty_four_threads_accept_one_token_once() {
    let Some(pg) = ScopedStore::fresh_with_pool(16) else {
        return;
    };
    let w = common::World::new(Arc::new(pg));
    // An existing user: the losers meet the winner's membership, not a new user.
    let sent = w.service.send(&w.invite_existing(&w.alice)).unwrap();
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
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code(), ErrorCode::InvalidToken);
    }
    let recount = w
        .service
        .recount_seats(w.business.id, w.subscription.id)
        .unwrap();
    assert_eq!((recount.used, recount.reserved), (1, 0), "one membership");
    w.assert_counters_match(&w.subscription);
}

#[test]
fn concurrent_sends_to_one_person_leave_one_pending_invitation() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::with_config(Arc::new(pg), common::config(), None);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (service, barrier) = (w.service.clone(), barrier.clone());
            let request = w.invite_new("Dee", "Dup", "dee@example.com");
            thread::spawn(move || {
                barrier.wait();
                service.send(&request)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code(), ErrorCode::AlreadyInvited, "the losers learn why");
    }
    assert_eq!(w.usage().reserved, 1);
    w.assert_counters_match(&w.subscription);
}

#[test]
fn concurrent_accepts_by_one_new_person_create_one_user() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::with_config(Arc::new(pg), common::config(), None);
    for round in 0..3 {
        let email = format!("twin{round}@example.com");
        let into = |sub: &invite_core::Subscription| SendInvitationRequest {
            subscription_id: Some(sub.id),
            ..w.invite_new("Tw", "In", &email)
        };
        let tokens = [
            w.service.send(&into(&w.subscription)).unwrap().token,
            w.service.send(&into(&w.unlimited)).unwrap().token,
        ];
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = tokens
            .iter()
            .map(|token| {
                let (service, barrier) = (w.service.clone(), barrier.clone());
                let token = token.expose().to_owned();
                thread::spawn(move || {
                    barrier.wait();
                    service.accept(&AcceptRequest::new(token))
                })
            })
            .collect();
        let accepted: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        assert_eq!(
            accepted[0].user.id, accepted[1].user.id,
            "one person, one user"
        );
        assert_eq!(accepted.iter().filter(|a| a.user_created).count(), 1);
    }
}

/// DESIGN.md invariant 1 while the cap changes: a send (or a direct membership) that read
/// the subscription before another transaction lowered its seats must check the cap in
/// force once it holds the seat lock, not the one it read.
#[test]
fn seats_are_checked_against_the_cap_in_force_once_the_seat_lock_is_held() {
    type Take = fn(&common::World) -> invite_core::Result<()>;
    let takes: [(&str, Take); 2] = [
        ("send", |w| {
            let request = w.invite_new("Lo", "Cap", "lo@example.com");
            w.service.send(&request).map(drop)
        }),
        ("add_membership", |w| {
            let (b, s, u, r) = (w.business.id, w.subscription.id, w.alice.id, w.member.id);
            w.service.add_membership(b, s, u, r).map(drop)
        }),
    ];
    for (what, take) in takes {
        let Some(pg) = ScopedStore::fresh() else {
            return;
        };
        let (mut holder, mut watcher) = (pg.db.client(), pg.db.client());
        let w = Arc::new(common::World::new(Arc::new(pg)));
        let sub = w.subscription.id;
        let before = w.usage();
        assert_eq!((before.total, before.used + before.reserved), (Some(3), 0));

        // Another writer holds the subscription row, as `update_subscription` does.
        let mut other = holder.transaction().unwrap();
        let holder_pid: i32 = other
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        other
            .execute(
                "SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE",
                &[sub.as_uuid()],
            )
            .unwrap();
        let taking = {
            let w = Arc::clone(&w);
            thread::spawn(move || take(&w))
        };
        // It has read the subscription (3 seats) and now waits for the seat lock.
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))";
        while watcher
            .query_one(waiting, &[&holder_pid])
            .unwrap()
            .get::<_, i64>(0)
            == 0
        {
            assert!(
                !taking.is_finished(),
                "{what} never waited for the seat lock"
            );
            thread::sleep(Duration::from_millis(5));
        }
        other
            .execute(
                "UPDATE subscriptions SET seats = 0 WHERE id = $1",
                &[sub.as_uuid()],
            )
            .unwrap();
        other.commit().unwrap();

        let err = taking.join().unwrap().unwrap_err();
        assert_eq!(err.code(), ErrorCode::SeatLimitReached, "{what}");
        let after = w.usage();
        assert_eq!(
            (after.total, after.used + after.reserved),
            (Some(0), 0),
            "{what}"
        );
        w.assert_counters_match(&w.subscription);
    }
}

/// A send to a person and a direct membership for them, started together, never both
/// succeed: one seat per person (invariant 2), under PostgreSQL's concurrent writers.
/// Both check for the other only once they hold the subscription's seat lock.
#[test]
fn a_send_and_a_membership_for_one_person_never_both_take_a_seat() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = Arc::new(common::World::new(Arc::new(pg)));
    for round in 0..40 {
        let person = w
            .service
            .create_user(&common::person(
                "Race",
                "Person",
                &format!("race{round}@example.com"),
            ))
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let sending = {
            let (w, barrier, person) = (Arc::clone(&w), Arc::clone(&barrier), person.clone());
            thread::spawn(move || {
                barrier.wait();
                w.service
                    .send(&w.invite_existing(&person).subscription(w.unlimited.id))
                    .is_ok()
            })
        };
        barrier.wait();
        let joined = w
            .service
            .add_membership(w.business.id, w.unlimited.id, person.id, w.member.id)
            .is_ok();
        let sent = sending.join().unwrap();
        assert!(
            !(sent && joined),
            "round {round}: a seat and a pending invitation"
        );
        assert!(sent || joined, "round {round}: one of them succeeds");
    }
    w.assert_counters_match(&w.unlimited);
}
