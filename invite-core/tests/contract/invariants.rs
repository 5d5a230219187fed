//! DESIGN.md invariants and SECURITY.md T1–T7, T9, T12, each asserting its figure.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use invite_core::{
    AcceptRequest, CapturingMailer, ErrorCode, FieldCode, InvitationStatus, NewSubscription,
    PageRequest, SendInvitationRequest, SentInvitation, Store, SubscriptionStatus, UserId,
};

use crate::common::{World, person};

pub fn seats_reserved_released_and_converted(store: Arc<dyn Store>) {
    let w = World::new(store);
    let a = w
        .service
        .send(&w.invite_new("A", "A", "a@example.com"))
        .unwrap();
    let b = w
        .service
        .send(&w.invite_new("B", "B", "b@example.com"))
        .unwrap();
    let c = w
        .service
        .send(&w.invite_new("C", "C", "c@example.com"))
        .unwrap();
    assert_eq!(w.usage().reserved, 3);
    assert_eq!(
        w.service
            .send(&w.invite_new("D", "D", "d@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::SeatLimitReached
    );
    w.service.decline(b.token.expose()).unwrap();
    w.service
        .revoke(w.business.id, c.invitation.id, w.admin.id)
        .unwrap();
    assert_eq!((w.usage().used, w.usage().reserved), (0, 1));
    // Accepting converts its own reservation even when every other seat is taken.
    w.service
        .send(&w.invite_new("D", "D", "d@example.com"))
        .unwrap();
    w.service
        .send(&w.invite_new("E", "E", "e@example.com"))
        .unwrap();
    assert_eq!(w.usage().available, Some(0));
    w.service
        .accept(&AcceptRequest::new(a.token.expose()))
        .unwrap();
    let usage = w.usage();
    assert_eq!(
        (usage.used, usage.reserved, usage.available),
        (1, 2, Some(0))
    );
    w.assert_counters_match(&w.subscription);
    // The cap cannot be lowered below what is in use.
    let mut lowered = w.subscription.clone();
    lowered.seats = Some(2);
    assert_eq!(
        w.service.update_subscription(&lowered).unwrap_err().code(),
        ErrorCode::SeatLimitReached
    );
}

pub fn one_pending_invitation_per_email(store: Arc<dyn Store>) {
    let w = World::new(store);
    w.service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    for variant in ["BOB@example.com", " bob@EXAMPLE.com", "Bob@Example.Com"] {
        let err = w
            .service
            .send(&w.invite_new("Bob", "Baker", variant))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::AlreadyInvited, "{variant}");
    }
    let pending = w
        .service
        .list_invitations(
            w.business.id,
            &invite_core::InvitationFilter {
                status: Some(InvitationStatus::Pending),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(pending.items.len(), 1, "duplicate pending by case: 0");
    // Another subscription of the same business may invite the same person.
    w.service
        .send(&SendInvitationRequest {
            subscription_id: Some(w.unlimited.id),
            ..w.invite_new("Bob", "Baker", "bob@example.com")
        })
        .unwrap();
    // After expiry a fresh invitation may be sent; the stale one is expired, its seat freed.
    w.clock.advance(Duration::days(8));
    w.service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    assert_eq!(w.usage().reserved, 1);
    w.assert_counters_match(&w.subscription);
}

pub fn already_member_is_refused(store: Arc<dyn Store>) {
    let w = World::new(store);
    w.service
        .add_membership(w.business.id, w.subscription.id, w.alice.id, w.member.id)
        .unwrap();
    assert_eq!(
        w.service
            .send(&w.invite_existing(&w.alice))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyMember
    );
    // Typing the member's email as a "new user" is the same person.
    assert_eq!(
        w.service
            .send(&w.invite_new("Al", "A", "ALICE@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyMember
    );
    assert_eq!(
        w.service
            .add_membership(w.business.id, w.subscription.id, w.alice.id, w.member.id)
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyMember
    );
}

pub fn tokens_are_hashed_rotated_and_single_use(store: Arc<dyn Store>) {
    let w = World::new(store);
    let first = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    assert_eq!(first.token.expose().len(), 43, "32 bytes, base64url");
    let mut tokens = vec![first.token.clone()];
    let id = first.invitation.id;
    for _ in 0..4 {
        w.clock.advance(Duration::minutes(5));
        tokens.push(
            w.service
                .resend(w.business.id, id, w.admin.id, None)
                .unwrap()
                .token,
        );
    }
    // T4: exactly one valid token per invitation.
    let valid: Vec<_> = tokens
        .iter()
        .filter(|t| w.service.peek(t.expose()).is_ok())
        .collect();
    assert_eq!(valid.len(), 1);
    assert_eq!(valid[0], tokens.last().unwrap());
    for old in &tokens[..tokens.len() - 1] {
        assert_eq!(
            w.service
                .accept(&AcceptRequest::new(old.expose()))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidToken
        );
    }
    // T1: the raw token appears in no listing, event or outbox record.
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    let listed = serde_json::to_string(
        &w.service
            .list_invitations(w.business.id, &Default::default(), &PageRequest::default())
            .unwrap(),
    )
    .unwrap();
    let events = serde_json::to_string(
        &w.service
            .list_events(w.business.id, None, &PageRequest::first(500))
            .unwrap(),
    )
    .unwrap();
    let messages =
        serde_json::to_string(&w.service.invitation_messages(w.business.id, id).unwrap()).unwrap();
    for token in &tokens {
        for (what, text) in [
            ("listing", &listed),
            ("events", &events),
            ("outbox", &messages),
        ] {
            assert!(!text.contains(token.expose()), "raw token in {what}");
        }
        assert!(
            !format!("{token:?}").contains(token.expose()),
            "Debug redacts tokens"
        );
    }
    // Malformed tokens never reach the store.
    for bad in [
        "",
        "short",
        &"A".repeat(10_000),
        &"!".repeat(43),
        &format!("{}=", &tokens[0].expose()[..42]),
    ] {
        assert_eq!(
            w.service
                .accept(&AcceptRequest::new(bad))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidToken
        );
        assert_eq!(
            w.service.peek(bad).unwrap_err().code(),
            ErrorCode::InvalidToken
        );
    }
    // Single use.
    let last = tokens.last().unwrap();
    w.service
        .accept(&AcceptRequest::new(last.expose()))
        .unwrap();
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(last.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidToken
    );
    w.assert_counters_match(&w.subscription);
}

pub fn expiry_boundary_is_exact(store: Arc<dyn Store>) {
    let w = World::new(store);
    let seven_days = Duration::days(7);
    for (offset, ok) in [(-1i64, true), (0, false), (1, false)] {
        let email = format!("t{}@example.com", offset + 1);
        let sent = w.service.send(&w.invite_new("T", "T", &email)).unwrap();
        assert_eq!(
            sent.invitation.expires_at - w.clock_now(),
            seven_days,
            "default expiry is 7 days"
        );
        let start = w.clock_now();
        w.clock.set(start + seven_days + Duration::seconds(offset));
        let result = w.service.accept(&AcceptRequest::new(sent.token.expose()));
        match (ok, result) {
            (true, Ok(_)) => {}
            (false, Err(e)) => assert_eq!(e.code(), ErrorCode::InvitationExpired),
            (ok, other) => panic!("offset {offset}s: expected ok={ok}, got {other:?}"),
        }
        w.clock.set(start);
        if !ok {
            w.service.expire_overdue().unwrap();
        }
    }
}

/// A clock finer than the microseconds every store keeps (a host's `Clock`, a
/// `ManualClock` set to nanoseconds) gives the same instants and the same expiry
/// boundary on every store: the service reads its clock at microsecond precision.
pub fn a_clock_finer_than_microseconds_keeps_the_stores_in_step(store: Arc<dyn Store>) {
    let w = World::new(store);
    let start = w.clock_now();
    w.clock.set(start + Duration::nanoseconds(500));
    let sent = w
        .service
        .send(&w.invite_new("N", "N", "ns@example.com"))
        .unwrap();
    assert_eq!(sent.invitation.created_at, start);
    assert_eq!(sent.invitation.expires_at, start + Duration::days(7));
    assert_eq!(
        w.service
            .get_invitation(w.business.id, sent.invitation.id)
            .unwrap(),
        sent.invitation,
        "the instants returned are the ones stored"
    );
    // 100 ns before the expiry reads as the microsecond before it: still pending.
    w.clock
        .set(sent.invitation.expires_at - Duration::nanoseconds(100));
    w.service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
}

pub fn expiry_bounds_are_validated(store: Arc<dyn Store>) {
    let w = World::new(store);
    for (lifetime, ok) in [
        (Duration::minutes(59), false),
        (Duration::hours(1), true),
        (Duration::days(30), true),
        (Duration::days(30) + Duration::seconds(1), false),
    ] {
        let email = format!("e{}@example.com", lifetime.num_seconds());
        let result = w
            .service
            .send(&w.invite_new("E", "E", &email).expires_in(lifetime));
        match (ok, result) {
            (true, Ok(sent)) => assert_eq!(
                sent.invitation.expires_at - sent.invitation.created_at,
                lifetime
            ),
            (false, Err(e)) => {
                assert_eq!(e.code(), ErrorCode::ValidationFailed);
                assert_eq!(e.field_errors()[0].code, FieldCode::OutOfRange);
            }
            (ok, other) => panic!("{lifetime}: expected ok={ok}, got {other:?}"),
        }
    }
}

pub fn tenant_isolation(store: Arc<dyn Store>) {
    let w = World::new(store);
    // Globex (business B) has its own admin and invitation.
    let globex_admin = w
        .service
        .create_user(&person("Gus", "Globex", "gus@globex.example"))
        .unwrap();
    w.service
        .set_business_admin(w.other_business.id, globex_admin.id, true)
        .unwrap();
    let theirs = w
        .service
        .send(
            &SendInvitationRequest::new(globex_admin.id)
                .new_user("Vic", "Victim", "vic@example.com")
                .business(w.other_business.id)
                .app(w.app.id)
                .subscription(w.other_subscription.id)
                .role(w.member.id),
        )
        .unwrap();
    let missing = invite_core::InvitationId::from_uuid(uuid::Uuid::now_v7());
    let before = w
        .service
        .get_invitation(w.other_business.id, theirs.invitation.id)
        .unwrap();
    // Acme's admin, scoped to Acme, with Globex's ids: the same answer as a missing id.
    for id in [theirs.invitation.id, missing] {
        assert_eq!(
            w.service
                .get_invitation(w.business.id, id)
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            w.service
                .revoke(w.business.id, id, w.admin.id)
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            w.service
                .resend(w.business.id, id, w.admin.id, None)
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            w.service
                .list_events(w.business.id, Some(id), &PageRequest::default())
                .unwrap()
                .items
                .len(),
            0
        );
    }
    // Globex's subscription inside an Acme send is an unknown option, like a missing one.
    for sub in [
        w.other_subscription.id,
        invite_core::SubscriptionId::from_uuid(uuid::Uuid::now_v7()),
    ] {
        let err = w
            .service
            .send(&SendInvitationRequest {
                subscription_id: Some(sub),
                ..w.invite_new("X", "Y", "x@example.com")
            })
            .unwrap_err();
        assert_eq!(err.field_errors()[0].field, "subscription_id");
        assert_eq!(err.field_errors()[0].code, FieldCode::UnknownOption);
        assert_eq!(
            w.service.seat_usage(w.business.id, sub).unwrap_err().code(),
            ErrorCode::NotFound
        );
    }
    // Naming Globex itself does not help Acme's admin: Globex's pending invitation, a
    // revoked one and a missing id all answer NOT_FOUND to every lifecycle call, so
    // neither existence nor status leaks.
    let revoked = w
        .service
        .send(
            &SendInvitationRequest::new(globex_admin.id)
                .new_user("Rev", "Oked", "rev@example.com")
                .business(w.other_business.id)
                .app(w.app.id)
                .subscription(w.other_subscription.id)
                .role(w.member.id),
        )
        .unwrap();
    w.service
        .revoke(w.other_business.id, revoked.invitation.id, globex_admin.id)
        .unwrap();
    w.clock.advance(chrono::Duration::minutes(5));
    let b = w.other_business.id;
    for id in [theirs.invitation.id, revoked.invitation.id, missing] {
        let answers = [
            w.service.revoke(b, id, w.admin.id).map(drop),
            w.service.resend(b, id, w.admin.id, None).map(drop),
            w.service.retry_delivery(b, id, w.admin.id),
        ];
        for answer in answers {
            assert_eq!(answer.unwrap_err().code(), ErrorCode::NotFound, "{id}");
        }
    }
    // Sending into Globex, or into a business that does not exist: the same answer, so
    // an outsider cannot even tell that Globex's id names a business.
    let missing_business = invite_core::BusinessId::from_uuid(uuid::Uuid::now_v7());
    let answers: Vec<_> = [w.other_business.id, missing_business]
        .into_iter()
        .map(|business| {
            let err = w
                .service
                .send(
                    &SendInvitationRequest::new(w.admin.id)
                        .new_user("X", "Y", "x@example.com")
                        .business(business)
                        .app(w.app.id)
                        .subscription(w.other_subscription.id)
                        .role(w.member.id),
                )
                .unwrap_err();
            let fields: Vec<_> = err
                .field_errors()
                .iter()
                .map(|e| (e.field.clone(), e.code))
                .collect();
            (err.code(), fields)
        })
        .collect();
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, ErrorCode::ValidationFailed);
    assert!(
        answers[0]
            .1
            .contains(&("business_id".to_owned(), FieldCode::UnknownOption))
    );
    let listed = w
        .service
        .list_invitations(w.business.id, &Default::default(), &PageRequest::default())
        .unwrap();
    assert!(listed.items.iter().all(|i| i.business_id == w.business.id));
    // Changes in B: 0.
    assert_eq!(
        w.service
            .get_invitation(w.other_business.id, theirs.invitation.id)
            .unwrap(),
        before
    );
    assert_eq!(
        w.service
            .seat_usage(w.other_business.id, w.other_subscription.id)
            .unwrap()
            .reserved,
        1
    );
}

pub fn no_privilege_escalation(store: Arc<dyn Store>) {
    let w = World::new(store);
    let roles = [w.member.clone(), w.manager.clone(), w.owner.clone()];
    let mut violations = 0;
    for (i, inviter_role) in roles.iter().enumerate() {
        let email = format!("inviter{i}@example.com");
        let (inviter, _) = w.new_member(("Inv", "Iter", &email), &w.unlimited, inviter_role);
        for (j, target) in roles.iter().enumerate() {
            let request = SendInvitationRequest::new(inviter.id)
                .new_user("T", "T", &format!("t{i}{j}@example.com"))
                .business(w.business.id)
                .app(w.app.id)
                .subscription(w.unlimited.id)
                .role(target.id);
            let may_invite = inviter_role.has("invitations.send");
            let allowed = may_invite && target.permissions.is_subset(&inviter_role.permissions);
            match w.service.send(&request) {
                Ok(sent) => {
                    if !allowed {
                        violations += 1;
                    }
                    // Resend by the same inviter is checked again, and so is accept.
                    w.clock.advance(Duration::minutes(2));
                    w.service
                        .resend(w.business.id, sent.invitation.id, inviter.id, None)
                        .unwrap();
                }
                Err(e) => {
                    let expected = if may_invite {
                        ErrorCode::RoleNotAssignable
                    } else {
                        ErrorCode::PermissionDenied
                    };
                    assert_eq!(
                        e.code(),
                        expected,
                        "inviter {} target {}",
                        inviter_role.key,
                        target.key
                    );
                    if allowed {
                        violations += 1;
                    }
                }
            }
        }
    }
    assert_eq!(violations, 0);
    // A role of another app is never assignable, even by an admin.
    let err = w
        .service
        .send(
            &w.invite_new("O", "A", "oa@example.com")
                .role(w.other_app_role.id),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RoleNotAssignable);
    // Rights are checked as they are at resend and accept time: demote a manager.
    let (manager, seat) = w.new_member(("Max", "M", "max@example.com"), &w.unlimited, &w.manager);
    let sent = w
        .service
        .send(
            &SendInvitationRequest::new(manager.id)
                .new_user("N", "N", "n@example.com")
                .business(w.business.id)
                .app(w.app.id)
                .subscription(w.unlimited.id)
                .role(w.manager.id),
        )
        .unwrap();
    w.service.remove_membership(w.business.id, seat.id).unwrap();
    w.service
        .add_membership(w.business.id, w.unlimited.id, manager.id, w.member.id)
        .unwrap();
    rights_are_lost(&w, &sent, manager.id);
}

/// What an inviter who lost their rights sent: they may not resend it
/// (`PERMISSION_DENIED`), and it can no longer be accepted (`ROLE_NOT_ASSIGNABLE`: the
/// inviter's rights are checked again at accept).
fn rights_are_lost(w: &World, sent: &SentInvitation, inviter: UserId) {
    w.clock.advance(Duration::minutes(2));
    assert_eq!(
        w.service
            .resend(w.business.id, sent.invitation.id, inviter, None)
            .unwrap_err()
            .code(),
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::RoleNotAssignable
    );
}

/// Rights come only from memberships of subscriptions active now: a manager whose only
/// membership is in a suspended subscription, or one past its validity window, may not
/// invite through any other subscription of the app either, nor resend, and what they
/// sent can no longer be accepted; the form offers them nothing. Reactivated, the
/// rights are back.
pub fn rights_come_only_from_active_subscriptions(store: Arc<dyn Store>) {
    let w = World::new(store);
    let (manager, _) = w.new_member(("Max", "M", "max@example.com"), &w.subscription, &w.manager);
    let invite = |email: &str| {
        SendInvitationRequest::new(manager.id)
            .new_user("N", "N", email)
            .business(w.business.id)
            .app(w.app.id)
            .subscription(w.unlimited.id)
            .role(w.member.id)
    };
    let sent = w.service.send(&invite("first@example.com")).unwrap();
    let offered = |w: &World| {
        (
            w.service.businesses_for_inviter(manager.id).unwrap().len(),
            w.service
                .apps_for_inviter(manager.id, w.business.id)
                .unwrap()
                .len(),
            w.service
                .grantable_roles(manager.id, w.business.id, w.app.id)
                .unwrap()
                .len(),
        )
    };
    assert_eq!(offered(&w), (1, 1, 2), "member and manager are grantable");

    let mut suspended = w.subscription.clone();
    suspended.status = SubscriptionStatus::Suspended;
    let mut lapsed = w.subscription.clone();
    lapsed.valid_until = Some(w.clock_now() - Duration::seconds(1));
    for inactive in [suspended, lapsed] {
        w.service.update_subscription(&inactive).unwrap();
        assert_eq!(
            w.service
                .send(&invite("second@example.com"))
                .unwrap_err()
                .code(),
            ErrorCode::PermissionDenied
        );
        assert_eq!(offered(&w), (0, 0, 0));
        rights_are_lost(&w, &sent, manager.id);
        assert_eq!(
            w.service
                .get_invitation(w.business.id, sent.invitation.id)
                .unwrap()
                .status,
            InvitationStatus::Pending,
            "a refused accept changes nothing"
        );
    }

    w.service.update_subscription(&w.subscription).unwrap();
    assert_eq!(offered(&w), (1, 1, 2));
    w.service.send(&invite("second@example.com")).unwrap();
    let accepted = w
        .service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    assert_eq!(accepted.invitation.status, InvitationStatus::Accepted);
}

pub fn accept_rechecks_subscription_role_and_identity(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let mut suspended = w.subscription.clone();
    suspended.status = SubscriptionStatus::Suspended;
    w.service.update_subscription(&suspended).unwrap();
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::SubscriptionInactive
    );
    assert_eq!(
        w.service
            .send(&w.invite_new("C", "C", "c@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::SubscriptionInactive
    );
    w.service.update_subscription(&w.subscription).unwrap();
    // Validity window: not yet valid is inactive too.
    let mut future = w.subscription.clone();
    future.valid_from = Some(w.clock_now() + Duration::days(1));
    w.service.update_subscription(&future).unwrap();
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::SubscriptionInactive
    );
    w.service.update_subscription(&w.subscription).unwrap();
    // A window that ends before (or as) it starts could never be active: refused on
    // create and on update, and nothing changes.
    for end in [Duration::zero(), Duration::days(-1)] {
        let from = w.clock_now() + Duration::days(1);
        let mut empty = w.subscription.clone();
        empty.valid_from = Some(from);
        empty.valid_until = Some(from + end);
        let err = w.service.update_subscription(&empty).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert_eq!(err.field_errors()[0].field, "valid_until");
        assert_eq!(err.field_errors()[0].code, FieldCode::OutOfRange);
        let mut new = NewSubscription::new(w.business.id, w.app.id, "Empty", Some(1));
        new.valid_from = empty.valid_from;
        new.valid_until = empty.valid_until;
        assert_eq!(
            w.service.create_subscription(&new).unwrap_err().code(),
            ErrorCode::ValidationFailed
        );
    }
    // A bound outside the years 1 to 9999 (which every store and both bindings' date
    // types hold) is refused on create and on update, naming the bound.
    let year_10000 = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    let year_0 = Utc.with_ymd_and_hms(0, 12, 31, 23, 59, 59).unwrap();
    for (field, from, until) in [
        ("valid_until", None, Some(year_10000)),
        ("valid_from", Some(year_0), None),
        ("valid_from", Some(year_10000), None),
    ] {
        let mut far = w.subscription.clone();
        far.valid_from = from;
        far.valid_until = until;
        let err = w.service.update_subscription(&far).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(fields, [(field, FieldCode::OutOfRange)]);
        let mut new = NewSubscription::new(w.business.id, w.app.id, "Far", Some(1));
        new.valid_from = from;
        new.valid_until = until;
        assert_eq!(
            w.service.create_subscription(&new).unwrap_err().code(),
            ErrorCode::ValidationFailed
        );
    }
    let mut last_instant = w.subscription.clone();
    last_instant.valid_until = Some(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
    w.service.update_subscription(&last_instant).unwrap();
    w.service.update_subscription(&w.subscription).unwrap();
    assert_eq!(
        w.service
            .get_subscription(w.business.id, w.subscription.id)
            .unwrap(),
        w.subscription
    );
    // The app disabled for the business blocks accept.
    w.service
        .set_app_enabled(w.business.id, w.app.id, false)
        .unwrap();
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::AppNotEnabled
    );
    assert_eq!(
        w.service
            .send(&w.invite_new("C", "C", "c@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::AppNotEnabled
    );
    w.service
        .set_app_enabled(w.business.id, w.app.id, true)
        .unwrap();
    // Someone registered the invited email meanwhile: accept uses that user.
    let bob = w
        .service
        .create_user(&person("Robert", "Baker", "BOB@example.com"))
        .unwrap();
    let accepted = w
        .service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    assert_eq!(accepted.user.id, bob.id);
    assert!(!accepted.user_created);
    assert_eq!(w.usage().used, 1);
}

pub fn wrong_identity_cannot_accept(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("A", "A", "a@x.example"))
        .unwrap();
    let b = w
        .service
        .create_user(&person("B", "B", "b@x.example"))
        .unwrap();
    // T5: accept as b@x (by id and by verified email): refused; as A@X: the same person.
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()).as_user(b.id))
            .unwrap_err()
            .code(),
        ErrorCode::EmailMismatch
    );
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()).with_email("b@x.example"))
            .unwrap_err()
            .code(),
        ErrorCode::EmailMismatch
    );
    assert!(
        w.service
            .memberships_of_user(b.id, None)
            .unwrap()
            .is_empty(),
        "wrong-identity memberships: 0"
    );
    let accepted = w
        .service
        .accept(&AcceptRequest::new(sent.token.expose()).with_email("A@X.EXAMPLE"))
        .unwrap();
    assert_eq!(accepted.user.email_key, "a@x.example");
}

pub fn peeking_never_changes_state(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let before = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    let events_before = w
        .service
        .list_events(w.business.id, None, &PageRequest::first(500))
        .unwrap()
        .items
        .len();
    for _ in 0..50 {
        let preview = w.service.peek(sent.token.expose()).unwrap();
        assert_eq!(preview.business_name, "Acme");
        assert_eq!(preview.app_name, "Billing");
        assert_eq!(preview.role_name, "Member");
        assert_eq!(preview.inviter_name, "Ada Admin");
        assert_eq!(
            (preview.first_name.as_str(), preview.last_name.as_str()),
            ("Bob", "Baker")
        );
        assert!(preview.creates_user);
    }
    assert_eq!(
        w.service
            .get_invitation(w.business.id, sent.invitation.id)
            .unwrap(),
        before,
        "state changes from peeks: 0"
    );
    assert_eq!(
        w.service
            .list_events(w.business.id, None, &PageRequest::first(500))
            .unwrap()
            .items
            .len(),
        events_before
    );
    assert_eq!(w.usage().reserved, 1);
    w.service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    assert_eq!(
        w.service.peek(sent.token.expose()).unwrap_err().code(),
        ErrorCode::InvalidToken,
        "used tokens answer like unknown ones"
    );
}

pub fn failed_send_leaves_nothing(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..3 {
        w.service
            .send(&w.invite_new("G", "G", &format!("g{i}@example.com")))
            .unwrap();
    }
    let events = w
        .service
        .list_events(w.business.id, None, &PageRequest::first(500))
        .unwrap()
        .items
        .len();
    assert_eq!(
        w.service
            .send(&w.invite_new("L", "L", "late@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::SeatLimitReached
    );
    assert_eq!(
        w.service
            .list_events(w.business.id, None, &PageRequest::first(500))
            .unwrap()
            .items
            .len(),
        events
    );
    assert_eq!(
        w.service
            .list_invitations(w.business.id, &Default::default(), &PageRequest::default())
            .unwrap()
            .items
            .len(),
        3
    );
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(
        mailer.sent().len(),
        3,
        "mails for rolled-back invitations: 0"
    );
    assert!(mailer.sent_to("late@example.com").is_empty());
}

pub fn unicode_and_case_identity(store: Arc<dyn Store>) {
    let mut config = crate::common::config();
    config.email_policy.allow_non_ascii_local_part = true;
    let w = World::with_config(store, config, Some(50));
    let mike = w
        .service
        .send(&w.invite_new("Mike", "M", "mike@example.com"))
        .unwrap();
    // T9: a dotless ı is another person; Kelvin sign and fullwidth fold to ASCII; IDN == punycode.
    w.service
        .send(&w.invite_new("Mıke", "M", "mıke@example.com"))
        .unwrap();
    assert_eq!(
        w.service
            .send(&w.invite_new("Mike", "M", "ｍｉｋｅ@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyInvited
    );
    w.service
        .send(&w.invite_new("Kim", "K", "kim@bücher.example"))
        .unwrap();
    assert_eq!(
        w.service
            .send(&w.invite_new("Kim", "K", "\u{212A}im@xn--bcher-kva.example"))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyInvited
    );
    let all = w
        .service
        .list_invitations(w.business.id, &Default::default(), &PageRequest::default())
        .unwrap();
    assert_eq!(
        all.items.len(),
        3,
        "distinct people merged: 0; duplicates by case: 0"
    );
    assert_eq!(mike.invitation.email, "mike@example.com");
}

/// Invariant 6, T6: managing an invitation takes the right to grant its role. A manager
/// (who may grant member and manager) can neither revoke nor retry the delivery of an
/// owner's invitation; the admin can.
pub fn managing_an_invitation_needs_the_right_to_grant_its_role(store: Arc<dyn Store>) {
    let mut cfg = crate::common::config();
    cfg.delivery.max_attempts = 1;
    let w = World::with_config(store, cfg, None);
    let (manager, _) = w.new_member(("Max", "M", "max@example.com"), &w.unlimited, &w.manager);
    let owner_invite = w
        .service
        .send(
            &w.invite_new("Olga", "Owner", "olga@example.com")
                .role(w.owner.id),
        )
        .unwrap()
        .invitation
        .id;
    // Its only delivery attempt fails: the email is failed, to retry by hand.
    let report = w
        .service
        .dispatch_outbox(&invite_core::FailingMailer::new(1))
        .unwrap();
    assert_eq!(report.failed, 1);
    for refused in [
        w.service
            .retry_delivery(w.business.id, owner_invite, manager.id)
            .unwrap_err(),
        w.service
            .revoke(w.business.id, owner_invite, manager.id)
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert_eq!(refused.code(), ErrorCode::RoleNotAssignable);
    }
    w.service
        .retry_delivery(w.business.id, owner_invite, w.admin.id)
        .unwrap();
    let revoked = w
        .service
        .revoke(w.business.id, owner_invite, w.admin.id)
        .unwrap();
    assert_eq!(revoked.status, InvitationStatus::Revoked);
}

/// A seat held only by an invitation past its expiry is free for a membership too, as
/// it is for a send (and as the form shows it): `add_membership` sweeps when full.
pub fn a_membership_takes_the_seat_of_an_overdue_invitation(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(1));
    let overdue = w
        .service
        .send(&w.invite_new("Ada", "Early", "ada@example.com"))
        .unwrap()
        .invitation
        .id;
    let bob = w
        .service
        .create_user(&person("Bob", "Baker", "bob@example.com"))
        .unwrap();
    assert_eq!(
        w.service
            .add_membership(w.business.id, w.subscription.id, bob.id, w.member.id)
            .unwrap_err()
            .code(),
        ErrorCode::SeatLimitReached,
        "the pending invitation holds the only seat"
    );
    w.clock.advance(Duration::days(8));
    w.service
        .add_membership(w.business.id, w.subscription.id, bob.id, w.member.id)
        .unwrap();
    assert_eq!(
        w.service
            .get_invitation(w.business.id, overdue)
            .unwrap()
            .status,
        InvitationStatus::Expired
    );
    assert_eq!((w.usage().used, w.usage().reserved), (1, 0));
    w.assert_counters_match(&w.subscription);
}
