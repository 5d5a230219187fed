//! The event hook is called after commit with the committed events only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::sync::{Arc, Mutex};

use invite_core::service::EventHook;
use invite_core::{Event, EventKind, InMemoryStore, InviteService, ManualClock, SeededRandom};

#[derive(Default)]
struct Recorder(Mutex<Vec<EventKind>>);

impl EventHook for Recorder {
    fn on_events(&self, events: &[Event]) {
        self.0.lock().unwrap().extend(events.iter().map(|e| e.kind));
    }
}

#[test]
fn hook_sees_committed_events_and_never_rolled_back_ones() {
    let recorder = Arc::new(Recorder::default());
    let store = Arc::new(InMemoryStore::new());
    let w = common::World::new(store.clone());
    let service = InviteService::builder(store)
        .clock(Arc::new(ManualClock::new(common::start())))
        .random(Arc::new(SeededRandom::new(1)))
        .config(common::config())
        .event_hook(recorder.clone())
        .build()
        .unwrap();
    let sent = service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        vec![EventKind::Created, EventKind::Sent]
    );
    service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap_err();
    assert_eq!(
        recorder.0.lock().unwrap().len(),
        2,
        "a failed send reports nothing"
    );
    service
        .revoke(w.business.id, sent.invitation.id, w.admin.id)
        .unwrap();
    assert_eq!(recorder.0.lock().unwrap().last(), Some(&EventKind::Revoked));
}
