//! Fault injection: for every k, failing the k-th store operation of a send, resend,
//! accept or dispatch leaves nothing half-written (invitation, reservation, events and
//! outbox agree), and delivery stays at-least-once with a stable message id.

use std::sync::Arc;

use chrono::Duration;
use invite_core::store::FaultyStore;
use invite_core::{AcceptRequest, BulkInvitee, CapturingMailer, ErrorCode, PageRequest, Store};

use crate::common::World;

/// Everything observable about the business, to compare before and after a failure.
fn snapshot(w: &World) -> String {
    let invitations = w
        .service
        .list_invitations(w.business.id, &Default::default(), &PageRequest::first(500))
        .unwrap();
    let events = w
        .service
        .list_events(w.business.id, None, &PageRequest::first(500))
        .unwrap();
    let messages: Vec<_> = invitations
        .items
        .iter()
        .map(|i| w.service.invitation_messages(w.business.id, i.id).unwrap())
        .collect();
    let usage = w.usage();
    let users = w
        .service
        .search_users("", &PageRequest::first(500))
        .unwrap();
    format!(
        "{}\n{}\n{}\n{:?}\n{}",
        serde_json::to_string(&invitations).unwrap(),
        serde_json::to_string(&events).unwrap(),
        serde_json::to_string(&messages).unwrap(),
        usage,
        serde_json::to_string(&users).unwrap()
    )
}

/// Runs `op` with the k-th operation failing with `code`, for k = 1, 2, … until it
/// succeeds; after every failure the state must equal the state before.
fn for_every_k<T: std::fmt::Debug>(
    w: &World,
    faulty: &FaultyStore,
    code: ErrorCode,
    mut op: impl FnMut() -> invite_core::Result<T>,
) -> (T, u64) {
    for k in 1..10_000 {
        let before = snapshot(w);
        faulty.fail_in_with(k, code);
        let result = op();
        let fired = faulty.fired();
        faulty.disarm();
        match result {
            Ok(value) => {
                assert!(!fired, "k={k}: an injected fault was swallowed");
                return (value, k);
            }
            Err(e) => {
                assert!(fired, "k={k}: failed without a fault: {e:?}");
                assert_eq!(e.code(), code, "k={k}");
                assert_eq!(
                    snapshot(w),
                    before,
                    "k={k}: a failed operation left changes behind"
                );
                w.assert_counters_match(&w.subscription);
                w.assert_counters_match(&w.unlimited);
            }
        }
    }
    panic!("operation never succeeded");
}

pub fn every_failed_step_leaves_nothing_half_written(store: Arc<dyn Store>) {
    let faulty = Arc::new(FaultyStore::new(store));
    let w = World::new(faulty.clone());
    let (sent, steps) = for_every_k(&w, &faulty, ErrorCode::StorageUnavailable, || {
        w.service
            .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
    });
    assert!(steps > 5, "a send takes several operations");
    w.clock.advance(Duration::minutes(5));
    let (again, _) = for_every_k(&w, &faulty, ErrorCode::StorageUnavailable, || {
        w.service
            .resend(w.business.id, sent.invitation.id, w.admin.id, None)
    });
    let (accepted, _) = for_every_k(&w, &faulty, ErrorCode::StorageUnavailable, || {
        w.service.accept(&AcceptRequest::new(again.token.expose()))
    });
    assert!(accepted.user_created);
    let usage = w.usage();
    assert_eq!((usage.used, usage.reserved), (1, 0));
    w.assert_counters_match(&w.subscription);
}

/// A store failure in any row of a bulk send fails the whole call and leaves nothing
/// behind: no row's writes are committed with a row reported as failed. So does a
/// unique key a row's write runs into (`ALREADY_EXISTS` from the store), which is not
/// one of the row's own refusals (those come before its writes).
pub fn bulk_faults_fail_the_whole_batch_and_leave_nothing_half_written(store: Arc<dyn Store>) {
    let faulty = Arc::new(FaultyStore::new(store));
    let w = World::new(faulty.clone());
    for (i, code) in [ErrorCode::StorageUnavailable, ErrorCode::AlreadyExists]
        .into_iter()
        .enumerate()
    {
        let rows = vec![
            BulkInvitee::new_user("A", "A", &format!("a{i}@example.com")),
            BulkInvitee::new_user("C", "C", &format!("c{i}@example.com")),
            BulkInvitee::new_user("", "B", "not-an-email"),
        ];
        let request = w.bulk_request(w.unlimited.id, rows);
        let (result, steps) = for_every_k(&w, &faulty, code, || w.service.bulk_send(&request));
        assert!(steps > 10, "two rows take many operations");
        let codes: Vec<_> = result
            .rows
            .iter()
            .map(|r| r.as_ref().err().map(|e| e.code))
            .collect();
        assert_eq!(codes, [None, None, Some(ErrorCode::ValidationFailed)]);
        let usage = w.service.seat_usage(w.business.id, w.unlimited.id).unwrap();
        assert_eq!(usage.reserved, 2 * (i as u32 + 1));
        w.assert_counters_match(&w.unlimited);
    }
}

pub fn dispatch_faults_lose_nothing_and_duplicate_only_by_id(store: Arc<dyn Store>) {
    let faulty = Arc::new(FaultyStore::new(store));
    let w = World::new(faulty.clone());
    let mut invitations = Vec::new();
    for i in 0..3 {
        invitations.push(
            w.service
                .send(&w.invite_new("D", "D", &format!("d{i}@example.com")))
                .unwrap()
                .invitation
                .id,
        );
    }
    let mailer = CapturingMailer::new();
    // Fail every k in turn during dispatch; after each failure let the lease run out.
    for k in 1..200 {
        faulty.fail_in(k);
        let result = w.service.dispatch_outbox(&mailer);
        let fired = faulty.fired();
        faulty.disarm();
        if result.is_ok() && !fired {
            break;
        }
        w.clock.advance(Duration::minutes(10));
    }
    w.clock.advance(Duration::minutes(10));
    w.service.dispatch_outbox(&mailer).unwrap();
    let mails = mailer.sent();
    for id in &invitations {
        let inv = w.service.get_invitation(w.business.id, *id).unwrap();
        assert_eq!(
            inv.delivery.state,
            invite_core::DeliveryState::Sent,
            "invitations never mailed: 0"
        );
        let for_this: Vec<_> = mails.iter().filter(|m| m.invitation_id == *id).collect();
        assert!(!for_this.is_empty());
        assert!(
            for_this
                .iter()
                .all(|m| m.message_id == for_this[0].message_id),
            "duplicates only with the same message id"
        );
    }
}
