//! Abuse limits (T13): RATE_LIMITED exactly at each bound, with a retry-after.

use std::sync::Arc;

use chrono::Duration;
use invite_core::service::Limits;
use invite_core::{BulkInvitee, CapturingMailer, ErrorCode, Store};

use crate::common::{World, config};

/// The fixture world with only `limits` on (and no seat cap).
fn world_with(store: Arc<dyn Store>, limits: Limits) -> World {
    let mut cfg = config();
    cfg.limits = limits;
    World::with_config(store, cfg, None)
}

pub fn daily_budget_per_inviter(store: Arc<dyn Store>) {
    let w = world_with(
        store,
        Limits {
            invites_per_inviter_per_day: Some(3),
            ..Limits::unlimited()
        },
    );
    for i in 0..3 {
        w.service
            .send(&w.invite_new("D", "D", &format!("d{i}@example.com")))
            .unwrap();
    }
    let err = w
        .service
        .send(&w.invite_new("D", "D", "d3@example.com"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(15 * 3600)),
        "until the next UTC day (09:00 → 24:00)"
    );
    let bulk = w.bulk_request(
        w.subscription.id,
        vec![BulkInvitee::new_user("E", "E", "e@example.com")],
    );
    let rows = w.service.bulk_send(&bulk).unwrap().rows;
    let row = rows[0].as_ref().unwrap_err();
    assert_eq!(row.code, ErrorCode::RateLimited);
    assert_eq!(
        row.retry_after,
        err.retry_after(),
        "a row says when, as a single send does"
    );
    // The form's rejection too.
    let mut form = invite_core::InviteForm::new();
    form.set_mode(invite_core::UserMode::New);
    form.set_first_name("F");
    form.set_last_name("F");
    form.set_email("f@example.com");
    form.select_business(Some(&w.business.id.to_string()));
    form.select_app(Some(&w.app.id.to_string()));
    form.select_subscription(Some(&w.subscription.id.to_string()));
    form.select_role(Some(&w.member.id.to_string()));
    match form.submit(&w.service, w.admin.id).unwrap() {
        invite_core::form::SubmitOutcome::Rejected(r) => {
            assert_eq!(r.code, ErrorCode::RateLimited);
            assert_eq!(r.retry_after, err.retry_after());
        }
        invite_core::form::SubmitOutcome::Sent(_) => panic!("past the budget"),
    }
    w.clock.advance(Duration::hours(15));
    w.service
        .send(&w.invite_new("D", "D", "d3@example.com"))
        .unwrap();
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(mailer.sent().len(), 4, "mails per day within budget");
}

pub fn resend_cooldown(store: Arc<dyn Store>) {
    let w = world_with(
        store,
        Limits {
            resend_cooldown: Duration::seconds(60),
            ..Limits::unlimited()
        },
    );
    let sent = w
        .service
        .send(&w.invite_new("R", "R", "r@example.com"))
        .unwrap();
    w.clock.advance(Duration::seconds(59));
    let err = w
        .service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(1)));
    w.clock.advance(Duration::seconds(1));
    w.service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap();
}

pub fn pending_cap_per_business(store: Arc<dyn Store>) {
    let w = world_with(
        store,
        Limits {
            pending_per_business: Some(2),
            ..Limits::unlimited()
        },
    );
    let a = w
        .service
        .send(&w.invite_new("P", "P", "p0@example.com"))
        .unwrap();
    w.service
        .send(&w.invite_new("P", "P", "p1@example.com"))
        .unwrap();
    assert_eq!(
        w.service
            .send(&w.invite_new("P", "P", "p2@example.com"))
            .unwrap_err()
            .code(),
        ErrorCode::RateLimited
    );
    w.service
        .revoke(w.business.id, a.invitation.id, w.admin.id)
        .unwrap();
    w.service
        .send(&w.invite_new("P", "P", "p2@example.com"))
        .unwrap();
}

/// A resend mails the invitee like a send: it counts against the actor's daily budget
/// (SECURITY.md T13: mails per day stay within the budget, resends included).
pub fn resends_count_against_the_daily_budget(store: Arc<dyn Store>) {
    let w = world_with(
        store,
        Limits {
            invites_per_inviter_per_day: Some(3),
            resend_cooldown: Duration::seconds(60),
            ..Limits::unlimited()
        },
    );
    let sent = w
        .service
        .send(&w.invite_new("R", "R", "r@example.com"))
        .unwrap();
    for _ in 0..2 {
        w.clock.advance(Duration::minutes(2));
        w.service
            .resend(w.business.id, sent.invitation.id, w.admin.id, None)
            .unwrap();
    }
    w.clock.advance(Duration::minutes(2));
    let resend = w
        .service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap_err();
    assert_eq!(resend.code(), ErrorCode::RateLimited);
    assert!(resend.retry_after().is_some());
    let send = w
        .service
        .send(&w.invite_new("S", "S", "s@example.com"))
        .unwrap_err();
    assert_eq!(
        send.code(),
        ErrorCode::RateLimited,
        "the resends used the budget"
    );
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert!(mailer.sent().len() <= 3, "mails per day within budget");
    // The next UTC day has a fresh budget.
    w.clock.advance(Duration::days(1));
    w.service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap();
}

/// Reviving an expired invitation makes it pending again: it needs room under the
/// business's pending cap, as a new invitation does.
pub fn reviving_an_expired_invitation_respects_the_pending_cap(store: Arc<dyn Store>) {
    let w = world_with(
        store,
        Limits {
            pending_per_business: Some(1),
            ..Limits::unlimited()
        },
    );
    let old = w
        .service
        .send(&w.invite_new("O", "O", "o@example.com"))
        .unwrap();
    w.clock.advance(Duration::days(8));
    assert_eq!(w.service.expire_overdue().unwrap(), 1);
    w.service
        .send(&w.invite_new("N", "N", "n@example.com"))
        .unwrap();
    let err = w
        .service
        .resend(w.business.id, old.invitation.id, w.admin.id, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(
        w.usage().reserved,
        1,
        "the refused revival reserved nothing"
    );
}
