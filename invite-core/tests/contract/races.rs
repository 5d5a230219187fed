//! Threads racing on one subscription and one token (T2, T8 within a process).

use std::sync::{Arc, Barrier};
use std::thread;

use invite_core::{AcceptRequest, ErrorCode, Store};

use crate::common::World;

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
    assert_eq!(w.usage().used, seats, "the seats were all taken by accepts");
}
