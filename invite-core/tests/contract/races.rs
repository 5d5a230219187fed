//! Threads racing on one subscription and one token (T2, T8 within a process), and on
//! one inviter's limits (T13).

use std::sync::{Arc, Barrier};
use std::thread;

use invite_core::service::Limits;
use invite_core::{AcceptRequest, Config, ErrorCode, SendInvitationRequest, Store};

use crate::common::{World, config};

pub fn concurrent_accepts_of_one_token(store: Arc<dyn Store>) {
    let w = World::new(store);
    for round in 0..3 {
        let sent = w
            .service
            .send(&w.invite_new("R", "R", &format!("race{round}@example.com")))
            .unwrap();
        let barrier = Arc::new(Barrier::new(64));
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let service = w.service.clone();
                let token = sent.token.expose().to_owned();
                let barrier = barrier.clone();
                thread::spawn(move || {
                    barrier.wait();
                    service.accept(&AcceptRequest::new(token))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: exactly one accept wins");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code(), ErrorCode::InvalidToken);
        }
    }
    assert_eq!(w.usage().used, 3, "one membership per token");
    w.assert_counters_match(&w.subscription);
}

pub fn threads_never_oversell(store: Arc<dyn Store>) {
    let seats = 5u32;
    let w = World::with_config(store, crate::common::config(), Some(seats));
    for round in 0..4 {
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let service = w.service.clone();
                let barrier = barrier.clone();
                let request =
                    |i: usize| w.invite_new("T", "T", &format!("r{round}t{t}i{i}@example.com"));
                let requests: Vec<_> = (0..(seats as usize)).map(request).collect();
                let (business, subscription) = (w.business.id, w.subscription.id);
                thread::spawn(move || {
                    barrier.wait();
                    let mut max_seen = 0;
                    for request in requests {
                        match service.send(&request) {
                            Ok(sent) => {
                                if t % 2 == 0 {
                                    service
                                        .accept(&AcceptRequest::new(sent.token.expose()))
                                        .unwrap();
                                } else {
                                    service.decline(sent.token.expose()).unwrap();
                                }
                            }
                            Err(e) => assert_eq!(e.code(), ErrorCode::SeatLimitReached),
                        }
                        let usage = service.seat_usage(business, subscription).unwrap();
                        max_seen = max_seen.max(usage.used + usage.reserved);
                    }
                    max_seen
                })
            })
            .collect();
        for h in handles {
            assert!(
                h.join().unwrap() <= seats,
                "round {round}: used + reserved exceeded the cap"
            );
        }
        let usage = w.usage();
        assert!(usage.used + usage.reserved <= seats);
        w.assert_counters_match(&w.subscription);
    }
    // Which thread wins a seat is up to the scheduler: a declining thread can take the
    // write lock back first and hold the last seat whenever an accepting one tries it, so
    // the rounds need not fill the seats. Filled one by one now, they stop at the cap.
    for i in 0..=seats {
        match w
            .service
            .send(&w.invite_new("F", "F", &format!("fill{i}@example.com")))
        {
            Ok(sent) => {
                w.service
                    .accept(&AcceptRequest::new(sent.token.expose()))
                    .unwrap();
            }
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::SeatLimitReached);
                break;
            }
        }
    }
    assert_eq!(w.usage().used, seats, "the seats were all taken by accepts");
    w.assert_counters_match(&w.subscription);
}

/// Sixteen concurrent sends by one inviter, spread over two subscriptions (so seat row
/// locks do not order them), against a limit of five: exactly five pass, the rest are
/// `RATE_LIMITED`.
fn race_sends_against_a_limit_of_five(store: Arc<dyn Store>, limits: Limits) {
    let w = World::with_config(store, Config { limits, ..config() }, None);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (service, barrier) = (w.service.clone(), barrier.clone());
            let subscription = if i % 2 == 0 {
                &w.subscription
            } else {
                &w.unlimited
            };
            let request = SendInvitationRequest {
                subscription_id: Some(subscription.id),
                ..w.invite_new("Li", "Mit", &format!("limit{i}@example.com"))
            };
            thread::spawn(move || {
                barrier.wait();
                service.send(&request).map(drop).map_err(|e| e.code())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        5,
        "{results:?}"
    );
    for code in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(*code, ErrorCode::RateLimited);
    }
}

pub fn concurrent_sends_never_pass_the_daily_budget(store: Arc<dyn Store>) {
    let limits = Limits {
        invites_per_inviter_per_day: Some(5),
        ..Limits::unlimited()
    };
    race_sends_against_a_limit_of_five(store, limits);
}

pub fn concurrent_sends_never_pass_the_pending_cap(store: Arc<dyn Store>) {
    let limits = Limits {
        pending_per_business: Some(5),
        ..Limits::unlimited()
    };
    race_sends_against_a_limit_of_five(store, limits);
}

pub fn concurrent_changes_of_different_fields_all_stick(store: Arc<dyn Store>) {
    use invite_core::{SubscriptionChanges, SubscriptionStatus};
    let w = Arc::new(World::new(store));
    // A change names only its fields; the others stay as they are.
    let renamed = w
        .service
        .change_subscription(
            w.business.id,
            w.subscription.id,
            &SubscriptionChanges {
                plan: Some("Team+".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (renamed.plan.as_str(), renamed.seats, renamed.status),
        ("Team+", w.subscription.seats, SubscriptionStatus::Active)
    );
    for round in 0..10 {
        let barrier = Arc::new(Barrier::new(2));
        let renamer = {
            let (w, barrier) = (Arc::clone(&w), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for i in 0..20 {
                    let plan = Some(format!("Plan {round}.{i}"));
                    let changes = SubscriptionChanges {
                        plan,
                        ..Default::default()
                    };
                    w.service
                        .change_subscription(w.business.id, w.subscription.id, &changes)
                        .unwrap();
                }
            })
        };
        barrier.wait();
        let suspend = SubscriptionChanges {
            status: Some(SubscriptionStatus::Suspended),
            ..Default::default()
        };
        w.service
            .change_subscription(w.business.id, w.subscription.id, &suspend)
            .unwrap();
        renamer.join().unwrap();
        let after = w
            .service
            .get_subscription(w.business.id, w.subscription.id)
            .unwrap();
        assert_eq!(after.status, SubscriptionStatus::Suspended, "round {round}");
        assert_eq!(after.plan, format!("Plan {round}.19"), "round {round}");
        let reactivate = SubscriptionChanges {
            status: Some(SubscriptionStatus::Active),
            ..Default::default()
        };
        w.service
            .change_subscription(w.business.id, w.subscription.id, &reactivate)
            .unwrap();
    }
    // A window that ends before it starts is refused, whichever field makes it so.
    let start = w.clock_now() + chrono::Duration::days(1);
    w.service
        .change_subscription(
            w.business.id,
            w.subscription.id,
            &SubscriptionChanges {
                valid_from: Some(Some(start)),
                ..Default::default()
            },
        )
        .unwrap();
    let err = w
        .service
        .change_subscription(
            w.business.id,
            w.subscription.id,
            &SubscriptionChanges {
                valid_until: Some(Some(start)),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
}
