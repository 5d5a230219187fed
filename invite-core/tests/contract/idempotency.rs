//! Idempotency keys (T15): one invitation and one email per key, even from 16 threads.

use std::sync::{Arc, Barrier};

use chrono::Duration;
use invite_core::{
    BulkInvitee, BulkSendRequest, CapturingMailer, ErrorCode, IdempotencyRecord, InvitationFilter,
    PageRequest, Store,
};

use crate::common::World;

pub fn same_key_returns_the_first_result(store: Arc<dyn Store>) {
    let w = World::new(store);
    let request = w
        .invite_new("Bob", "Baker", "bob@example.com")
        .idempotency_key("req-1");
    let first = w.service.send(&request).unwrap();
    let again = w.service.send(&request).unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(again.invitation.id, first.invitation.id);
    assert_eq!(again.token.expose(), first.token.expose());
    // Same key, other parameters: a conflict.
    let other = w
        .invite_new("Bob", "Baker", "robert@example.com")
        .idempotency_key("req-1");
    assert_eq!(
        w.service.send(&other).unwrap_err().code(),
        ErrorCode::IdempotencyConflict
    );
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(mailer.sent().len(), 1, "no second email");
    // Keys expire (default 24 h): the same key then sends anew (here: already invited).
    w.clock.advance(Duration::hours(25));
    assert_eq!(
        w.service.send(&request).unwrap_err().code(),
        ErrorCode::AlreadyInvited
    );
    // Bulk sends honour keys too.
    let bulk = BulkSendRequest {
        idempotency_key: Some("bulk-1".into()),
        ..w.bulk_request(
            w.unlimited.id,
            vec![
                BulkInvitee::new_user("C", "C", "c@example.com"),
                BulkInvitee::new_user("", "", "bad"),
            ],
        )
    };
    let first = w.service.bulk_send(&bulk).unwrap();
    let again = w.service.bulk_send(&bulk).unwrap();
    assert!(again.replayed);
    assert_eq!(
        again.rows[0].as_ref().unwrap().invitation.id,
        first.rows[0].as_ref().unwrap().invitation.id
    );
    assert_eq!(
        again.rows[1].as_ref().unwrap_err().code,
        ErrorCode::ValidationFailed
    );
    // The key covers every row in its place, the invalid ones too: the same valid row
    // with other invalid rows, or in another position, is another request.
    let with_rows = |rows: Vec<BulkInvitee>| BulkSendRequest {
        rows,
        ..bulk.clone()
    };
    for changed in [
        with_rows(vec![
            BulkInvitee::new_user("", "", "bad"),
            BulkInvitee::new_user("C", "C", "c@example.com"),
        ]),
        with_rows(vec![
            BulkInvitee::new_user("C", "C", "c@example.com"),
            BulkInvitee::new_user("", "", "worse"),
        ]),
    ] {
        assert_eq!(
            w.service.bulk_send(&changed).unwrap_err().code(),
            ErrorCode::IdempotencyConflict
        );
    }
}

pub fn same_key_from_sixteen_threads(store: Arc<dyn Store>) {
    let w = World::new(store);
    let request = w
        .invite_new("Bob", "Baker", "bob@example.com")
        .idempotency_key("race");
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (service, request, barrier) = (w.service.clone(), request.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                service.send(&request).map(|s| s.invitation.id)
            })
        })
        .collect();
    let ids: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every caller sees the one invitation"
    );
    let listed = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter::default(),
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(listed.items.len(), 1, "invitations per key: 1");
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(mailer.sent().len(), 1, "mails per key: 1");
}

/// Invariant 6: a replay hands back a live link, so it needs the rights to send it at
/// that moment. A manager demoted to member gets `PERMISSION_DENIED`, for a send and a
/// bulk send alike, where a fresh send would too.
pub fn a_replay_needs_the_rights_to_send_at_that_moment(store: Arc<dyn Store>) {
    let w = World::new(store);
    let (manager, seat) = w.new_member(("Max", "M", "max@example.com"), &w.unlimited, &w.manager);
    let request = invite_core::SendInvitationRequest::new(manager.id)
        .new_user("N", "N", "n@example.com")
        .business(w.business.id)
        .app(w.app.id)
        .subscription(w.unlimited.id)
        .role(w.member.id)
        .idempotency_key("k-1");
    let bulk = BulkSendRequest {
        idempotency_key: Some("bulk-1".into()),
        ..BulkSendRequest::new(
            manager.id,
            w.business.id,
            w.app.id,
            w.unlimited.id,
            w.member.id,
            vec![BulkInvitee::new_user("B", "B", "b@example.com")],
        )
    };
    assert!(!w.service.send(&request).unwrap().replayed);
    assert!(!w.service.bulk_send(&bulk).unwrap().replayed);
    assert!(
        w.service.send(&request).unwrap().replayed,
        "a retry replays"
    );

    w.service.remove_membership(w.business.id, seat.id).unwrap();
    w.service
        .add_membership(w.business.id, w.unlimited.id, manager.id, w.member.id)
        .unwrap();
    assert_eq!(
        w.service.send(&request).unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        w.service.bulk_send(&bulk).unwrap_err().code(),
        ErrorCode::PermissionDenied
    );

    // Still allowed to invite, no longer to grant the role: ROLE_NOT_ASSIGNABLE.
    let sender = w
        .service
        .create_role(w.app.id, "sender", "Sender", &["invitations.send"])
        .unwrap();
    let seat = w
        .service
        .list_memberships(w.business.id, w.unlimited.id, &PageRequest::first(100))
        .unwrap()
        .items
        .into_iter()
        .find(|m| m.user_id == manager.id)
        .unwrap();
    w.service.remove_membership(w.business.id, seat.id).unwrap();
    w.service
        .add_membership(w.business.id, w.unlimited.id, manager.id, sender.id)
        .unwrap();
    assert_eq!(
        w.service.send(&request).unwrap_err().code(),
        ErrorCode::RoleNotAssignable
    );
}

/// A retry through a service with another outbox key (a restart without a fixed key, a
/// second process) cannot rebuild the first result's link: `INVALID_CONFIG`, which names
/// the cause, not `INTERNAL`.
pub fn a_replay_under_another_outbox_key_is_invalid_config(store: Arc<dyn Store>) {
    let w = World::new(store.clone());
    let request = w
        .invite_new("Bob", "Baker", "bob@example.com")
        .idempotency_key("req-1");
    w.service.send(&request).unwrap();
    let other = invite_core::InviteService::builder(store)
        .clock(w.clock.clone())
        .outbox_key([1; 32])
        .config(crate::common::config())
        .build()
        .unwrap();
    let err = other.send(&request).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
    assert!(err.help().is_some());
    // Through the form model it is the host's error, not a refusal shown next to fields.
    let mut form = invite_core::form::InviteForm::new();
    form.set_mode(invite_core::form::UserMode::New);
    form.set_first_name("Cy");
    form.set_last_name("Cole");
    form.set_email("cy@example.com");
    form.select_business(Some(&w.business.id.to_string()));
    form.select_app(Some(&w.app.id.to_string()));
    form.select_subscription(Some(&w.subscription.id.to_string()));
    form.select_role(Some(&w.member.id.to_string()));
    assert!(
        w.service
            .send(&request_from(&w, "form-key", "cy@example.com"))
            .is_ok()
    );
    let err = form
        .submit_with_key(&other, w.admin.id, "form-key")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
}

fn request_from(w: &World, key: &str, email: &str) -> invite_core::SendInvitationRequest {
    w.invite_new("Cy", "Cole", email).idempotency_key(key)
}

/// A bad key is one more field error among the request's others, not the only one
/// reported; a blank key is no key, and a blank locale no locale, as blank optional
/// fields are absent.
pub fn a_bad_key_is_reported_with_every_other_problem(store: Arc<dyn Store>) {
    let w = World::new(store);
    let bad = w
        .invite_new("", "Baker", "not-an-email")
        .idempotency_key("line\nbreak");
    let err = w.service.send(&bad).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    let mut fields: Vec<_> = err
        .field_errors()
        .iter()
        .map(|f| (f.field.as_str(), f.code))
        .collect();
    fields.sort_unstable_by_key(|(field, _)| *field);
    assert_eq!(
        fields,
        [
            ("email", invite_core::FieldCode::InvalidEmail),
            ("first_name", invite_core::FieldCode::Required),
            ("idempotency_key", invite_core::FieldCode::InvalidCharacters),
        ]
    );
    let bulk = BulkSendRequest {
        idempotency_key: Some("x".repeat(201)),
        expires_in: Some(Duration::minutes(1)),
        ..w.bulk_request(
            w.subscription.id,
            vec![BulkInvitee::new_user("B", "B", "b@example.com")],
        )
    };
    let fields: Vec<_> = w
        .service
        .bulk_send(&bulk)
        .unwrap_err()
        .field_errors()
        .iter()
        .map(|f| f.field.clone())
        .collect();
    assert_eq!(fields, ["expires_in", "idempotency_key"]);

    let blank = w
        .invite_new("Bob", "Baker", "bob@example.com")
        .idempotency_key("  ")
        .locale(" ");
    let sent = w.service.send(&blank).unwrap();
    assert!(!sent.replayed);
    assert_eq!(sent.invitation.locale, None);
    assert_eq!(
        w.service.send(&blank).unwrap_err().code(),
        ErrorCode::AlreadyInvited,
        "no key was stored"
    );
}

/// A replayed row keeps its error's help, and a `RATE_LIMITED` row says how long is
/// left to wait as of the replay.
pub fn a_replayed_row_keeps_its_help_and_retry_after(store: Arc<dyn Store>) {
    let mut cfg = crate::common::config();
    cfg.limits.invites_per_inviter_per_day = Some(3);
    let w = World::with_config(store, cfg, Some(2));
    let bulk = |subscription, key: &str, emails: &[&str]| BulkSendRequest {
        idempotency_key: Some(key.to_owned()),
        ..w.bulk_request(
            subscription,
            emails
                .iter()
                .map(|e| BulkInvitee::new_user("Some", "One", e))
                .collect(),
        )
    };
    // Two seats for three rows: the third is SEAT_LIMIT_REACHED, with help.
    let seats = bulk(
        w.subscription.id,
        "seats",
        &["a@x.example", "b@x.example", "c@x.example"],
    );
    let first = w.service.bulk_send(&seats).unwrap();
    let full = first.rows[2].as_ref().unwrap_err();
    assert_eq!(full.code, ErrorCode::SeatLimitReached);
    assert!(full.help.is_some());
    // A budget of three a day: the fourth email is RATE_LIMITED, with a retry-after.
    let budget = bulk(w.unlimited.id, "budget", &["d@x.example", "e@x.example"]);
    let first_budget = w.service.bulk_send(&budget).unwrap();
    let limited = first_budget.rows[1].as_ref().unwrap_err();
    assert_eq!(limited.code, ErrorCode::RateLimited);
    let wait = limited.retry_after.unwrap();

    w.clock.advance(Duration::hours(1));
    let again = w.service.bulk_send(&seats).unwrap();
    assert!(again.replayed);
    assert_eq!(again.rows[2].as_ref().unwrap_err().help, full.help);
    let again = w.service.bulk_send(&budget).unwrap();
    assert!(again.replayed);
    let replayed = again.rows[1].as_ref().unwrap_err();
    assert_eq!(
        replayed.retry_after,
        Some(wait - std::time::Duration::from_secs(3600))
    );
    // Past that instant nothing is left to wait for (within the key's 24 hours).
    w.clock
        .advance(Duration::from_std(wait).unwrap() - Duration::hours(1) + Duration::seconds(1));
    let late = w.service.bulk_send(&budget).unwrap();
    assert!(late.replayed);
    assert_eq!(late.rows[1].as_ref().unwrap_err().retry_after, None);
}

/// T1 at rest: an idempotency record keeps the first result's token (sealed) for the
/// key's lifetime only; the scheduled sweep deletes it after, and keeps the live ones.
pub fn the_sweep_deletes_idempotency_records_past_their_lifetime(store: Arc<dyn Store>) {
    let w = World::new(store.clone());
    let old = w
        .invite_new("Bob", "Baker", "bob@example.com")
        .idempotency_key("old-key");
    w.service.send(&old).unwrap();
    w.clock.advance(Duration::hours(23));
    let young = w
        .invite_new("Cy", "Cole", "cy@example.com")
        .idempotency_key("young-key");
    w.service.send(&young).unwrap();
    w.clock.advance(Duration::hours(2));
    w.service.expire_overdue().unwrap();
    let record = |key: &str| {
        store
            .begin_read()
            .unwrap()
            .get_idempotency(w.business.id, key)
            .unwrap()
    };
    assert!(record("old-key").is_none(), "past its 24 hours: deleted");
    assert!(record("young-key").is_some(), "still live: kept");
    assert!(w.service.send(&young).unwrap().replayed);
}

/// The sweep reads the records by expiry: it deletes every expired one, over several of
/// its batches of 500 and whatever order they were written in, and no live one; a key
/// written again with a later expiry is live; writes and deletes that were rolled back
/// leave the order as it was.
pub fn the_sweep_finds_expired_records_by_expiry(store: Arc<dyn Store>) {
    let w = World::new(store.clone());
    let now = w.clock_now();
    let record = |key: String, expires_at| IdempotencyRecord {
        business_id: w.business.id,
        key,
        fingerprint: "f".into(),
        result: "[]".into(),
        created_at: now,
        expires_at,
    };
    let put = |records: Vec<IdempotencyRecord>| {
        let mut tx = store.begin().unwrap();
        for r in &records {
            tx.put_idempotency(r).unwrap();
        }
        tx
    };
    // 1,201 expired (minutes to days ago, written out of order), 40 live, and a key
    // written first expired, then again live.
    let expired: Vec<_> = (0..1201i64)
        .map(|i| {
            let minutes = (i * 7919) % 1201 + 1;
            record(format!("expired-{i}"), now - Duration::minutes(minutes))
        })
        .collect();
    let live: Vec<_> = (0..40i64)
        .map(|i| record(format!("live-{i}"), now + Duration::minutes(i % 3 + 1)))
        .collect();
    let mut all = expired.clone();
    all.extend(live.iter().cloned());
    all.push(record("rewritten".into(), now - Duration::hours(1)));
    put(all).commit().unwrap();
    put(vec![record("rewritten".into(), now + Duration::hours(1))])
        .commit()
        .unwrap();
    // Rolled back: a rewrite of a live key as expired, a new expired key, and a purge.
    drop(put(vec![
        record("live-0".into(), now - Duration::days(9)),
        record("never".into(), now - Duration::days(9)),
    ]));
    {
        let mut tx = store.begin().unwrap();
        assert_eq!(tx.purge_idempotency(now, 10_000).unwrap(), 1201);
    }

    let keys = |tx: &mut Box<dyn invite_core::store::Transaction + '_>| {
        let mut found = Vec::new();
        for r in expired.iter().chain(&live) {
            if tx.get_idempotency(w.business.id, &r.key).unwrap().is_some() {
                found.push(r.key.clone());
            }
        }
        found
    };
    assert_eq!(
        keys(&mut store.begin().unwrap()).len(),
        1241,
        "nothing purged yet"
    );
    assert_eq!(
        w.service.expire_overdue().unwrap(),
        0,
        "no invitation was due"
    );
    let mut tx = store.begin().unwrap();
    let left = keys(&mut tx);
    let live_keys: Vec<_> = live.iter().map(|r| r.key.clone()).collect();
    assert_eq!(
        left, live_keys,
        "every expired record deleted, every live one kept"
    );
    let rewritten = tx.get_idempotency(w.business.id, "rewritten").unwrap();
    assert_eq!(
        rewritten.map(|r| r.expires_at),
        Some(now + Duration::hours(1)),
        "a key written again lives until its new expiry"
    );
    assert!(
        tx.get_idempotency(w.business.id, "never")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        tx.purge_idempotency(now, 10).unwrap(),
        0,
        "nothing left to purge"
    );
    drop(tx);

    w.clock.advance(Duration::hours(1));
    w.service.expire_overdue().unwrap();
    let mut tx = store.begin().unwrap();
    assert!(
        keys(&mut tx).is_empty(),
        "the live ones, once expired, go too"
    );
    assert!(
        tx.get_idempotency(w.business.id, "rewritten")
            .unwrap()
            .is_none()
    );
}
