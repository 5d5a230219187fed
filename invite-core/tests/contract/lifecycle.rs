//! Revoke, decline, sweep, resend of expired invitations, listing, events, delivery, catalog.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer, RenderedEmail};
use invite_core::{
    AcceptRequest, CapturingMailer, DeliveryState, ErrorCode, EventKind, FailingMailer, FieldCode,
    InvitationEmail, InvitationFilter, InvitationStatus, InviteService, MailError, Mailer,
    NewSubscription, PageRequest, SendInvitationRequest, Store,
};

use crate::common::{World, person};

pub fn revoke_is_final(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let revoked = w
        .service
        .revoke(w.business.id, sent.invitation.id, w.admin.id)
        .unwrap();
    assert_eq!(revoked.status, InvitationStatus::Revoked);
    assert_eq!(w.usage().reserved, 0);
    // T3: 0 accepts after revoke; revoke, resend and accept all refuse.
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidToken
    );
    assert_eq!(
        w.service
            .revoke(w.business.id, sent.invitation.id, w.admin.id)
            .unwrap_err()
            .code(),
        ErrorCode::InvitationNotPending
    );
    w.clock.advance(Duration::hours(1));
    assert_eq!(
        w.service
            .resend(w.business.id, sent.invitation.id, w.admin.id, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvitationNotPending
    );
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert!(
        mailer.sent().is_empty(),
        "a revoked invitation's queued email is not sent"
    );
}

pub fn decline_releases_seat(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let declined = w.service.decline(sent.token.expose()).unwrap();
    assert_eq!(declined.status, InvitationStatus::Declined);
    assert_eq!(w.usage().reserved, 0);
    assert_eq!(
        w.service.decline(sent.token.expose()).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidToken
    );
    w.assert_counters_match(&w.subscription);
}

pub fn sweep_expires_and_releases(store: Arc<dyn Store>) {
    let w = World::new(store);
    let a = w
        .service
        .send(&w.invite_new("A", "A", "a@example.com"))
        .unwrap();
    w.service
        .send(
            &w.invite_new("B", "B", "b@example.com")
                .expires_in(Duration::days(10)),
        )
        .unwrap();
    w.clock.advance(Duration::days(7));
    // Derived at read time before any sweep.
    assert_eq!(
        w.service
            .get_invitation(w.business.id, a.invitation.id)
            .unwrap()
            .status,
        InvitationStatus::Expired
    );
    let expired = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                status: Some(InvitationStatus::Expired),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(expired.items.len(), 1);
    assert_eq!(w.usage().reserved, 2, "not yet swept");
    assert_eq!(w.service.expire_overdue().unwrap(), 1);
    assert_eq!(w.usage().reserved, 1);
    assert_eq!(w.service.expire_overdue().unwrap(), 0, "idempotent");
    let events = w
        .service
        .list_events(
            w.business.id,
            Some(a.invitation.id),
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(events.items.last().unwrap().kind, EventKind::Expired);
    assert_eq!(
        w.service.decline(a.token.expose()).unwrap_err().code(),
        ErrorCode::InvitationExpired
    );
    w.assert_counters_match(&w.subscription);
}

pub fn resend_revives_expired_when_a_seat_is_free(store: Arc<dyn Store>) {
    let w = World::new(store);
    let a = w
        .service
        .send(&w.invite_new("A", "A", "a@example.com"))
        .unwrap();
    w.clock.advance(Duration::days(8));
    w.service.expire_overdue().unwrap();
    for i in 0..3 {
        w.service
            .send(&w.invite_new("F", "F", &format!("f{i}@example.com")))
            .unwrap();
    }
    assert_eq!(
        w.service
            .resend(w.business.id, a.invitation.id, w.admin.id, None)
            .unwrap_err()
            .code(),
        ErrorCode::SeatLimitReached
    );
    let filler = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                email: Some("f0@example.com".into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .unwrap();
    w.service
        .revoke(w.business.id, filler.items[0].id, w.admin.id)
        .unwrap();
    let revived = w
        .service
        .resend(
            w.business.id,
            a.invitation.id,
            w.admin.id,
            Some(Duration::days(2)),
        )
        .unwrap();
    assert_eq!(revived.invitation.status, InvitationStatus::Pending);
    assert_eq!(
        revived.invitation.expires_at,
        w.clock_now() + Duration::days(2)
    );
    assert_eq!(w.usage().reserved, 3);
    w.service
        .accept(&AcceptRequest::new(revived.token.expose()))
        .unwrap();
    w.assert_counters_match(&w.subscription);
}

/// A newer invitation to the same person blocks reviving an expired one only while it
/// is live: one past its expiry (not yet swept) is expired by the resend, as a send
/// would expire it, and the resend goes through.
pub fn resend_revives_past_a_newer_overdue_invitation(store: Arc<dyn Store>) {
    let w = World::new(store);
    let first = w
        .service
        .send(&w.invite_new("X", "X", "x@example.com"))
        .unwrap();
    w.clock.advance(Duration::days(8));
    w.service.expire_overdue().unwrap();
    let second = w
        .service
        .send(&w.invite_new("X", "X", "x@example.com"))
        .unwrap();
    // While the second is live, the first cannot be revived beside it.
    assert_eq!(
        w.service
            .resend(w.business.id, first.invitation.id, w.admin.id, None)
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyInvited
    );
    w.clock.advance(Duration::days(8));
    let revived = w
        .service
        .resend(w.business.id, first.invitation.id, w.admin.id, None)
        .unwrap();
    assert_eq!(revived.invitation.status, InvitationStatus::Pending);
    assert_eq!(
        w.service
            .get_invitation(w.business.id, second.invitation.id)
            .unwrap()
            .status,
        InvitationStatus::Expired
    );
    assert_eq!(w.usage().reserved, 1);
    w.assert_counters_match(&w.subscription);
}

pub fn list_filters_and_pagination(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(100));
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            w.service
                .send(&w.invite_new("P", "P", &format!("p{i:02}@example.com")))
                .unwrap()
                .invitation
                .id,
        );
        w.clock.advance(Duration::seconds(1));
    }
    let other = w
        .service
        .send(&SendInvitationRequest {
            subscription_id: Some(w.unlimited.id),
            ..w.invite_new("U", "U", "u@example.com")
        })
        .unwrap();
    w.service.revoke(w.business.id, ids[0], w.admin.id).unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(5);
    let filter = InvitationFilter {
        subscription_id: Some(w.subscription.id),
        ..Default::default()
    };
    loop {
        let result = w
            .service
            .list_invitations(w.business.id, &filter, &page)
            .unwrap();
        seen.extend(result.items.iter().map(|i| i.id));
        match result.next_cursor {
            Some(c) => page = PageRequest::after(c, 5),
            None => break,
        }
    }
    assert_eq!(seen, ids, "oldest first, every one once");
    let pending = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                status: Some(InvitationStatus::Pending),
                ..filter.clone()
            },
            &PageRequest::first(100),
        )
        .unwrap();
    assert_eq!(pending.items.len(), 11);
    let revoked = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                status: Some(InvitationStatus::Revoked),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .unwrap();
    assert_eq!(
        revoked.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    let by_email = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                email: Some("U@EXAMPLE.COM".into()),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .unwrap();
    assert_eq!(
        by_email.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![other.invitation.id]
    );
    let by_app = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                app_id: Some(w.other_app.id),
                ..Default::default()
            },
            &PageRequest::first(100),
        )
        .unwrap();
    assert!(by_app.items.is_empty());
    assert_eq!(
        w.service
            .list_invitations(w.business.id, &filter, &PageRequest::after("garbage!", 5))
            .unwrap_err()
            .code(),
        ErrorCode::ValidationFailed
    );
    // Every paged list answers a cursor it did not write the same way: a field error on
    // `cursor`, whether the cursor is not even base64 or decodes to something that is
    // not an id.
    use base64::Engine;
    let not_an_id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("not-an-id\n");
    for cursor in ["garbage!", not_an_id.as_str()] {
        let page = PageRequest::after(cursor, 5);
        let (b, s) = (w.business.id, w.subscription.id);
        let answers = [
            w.service.list_invitations(b, &filter, &page).map(drop),
            w.service.list_events(b, None, &page).map(drop),
            w.service.list_memberships(b, s, &page).map(drop),
            w.service.search_users("a", &page).map(drop),
        ];
        for (i, answer) in answers.into_iter().enumerate() {
            let err = answer.unwrap_err();
            assert_eq!(err.code(), ErrorCode::ValidationFailed, "{cursor} #{i}");
            let fields: Vec<_> = err
                .field_errors()
                .iter()
                .map(|f| (f.field.as_str(), f.code))
                .collect();
            assert_eq!(
                fields,
                [("cursor", FieldCode::UnknownOption)],
                "{cursor} #{i}"
            );
        }
    }
}

/// A status filter answers by the status at the moment of the listing, whatever is
/// stored: a pending invitation past its expiry that no sweep has settled yet is listed
/// as expired, with the swept ones, and not as pending. Paged one at a time, so every
/// cursor crosses between the stored-expired and the overdue ones.
pub fn a_status_filter_reads_the_status_at_the_listing(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(100));
    let send = |email: &str| {
        let sent = w.service.send(&w.invite_new("S", "S", email)).unwrap();
        w.clock.advance(Duration::seconds(1));
        sent
    };
    let swept = [send("e0@example.com"), send("e1@example.com")];
    w.clock.advance(Duration::days(8));
    assert_eq!(w.service.expire_overdue().unwrap(), 2);
    // Sent between the swept ones and the live ones in id order, and overdue by the end.
    let overdue = [send("o0@example.com"), send("o1@example.com")];
    let accepted = send("x@example.com");
    w.service
        .accept(&AcceptRequest::new(accepted.token.expose()))
        .unwrap();
    let declined = send("d@example.com");
    w.service.decline(declined.token.expose()).unwrap();
    let revoked = send("r@example.com");
    w.service
        .revoke(w.business.id, revoked.invitation.id, w.admin.id)
        .unwrap();
    w.clock.advance(Duration::days(4));
    let live = [send("p0@example.com"), send("p1@example.com")];
    w.clock.advance(Duration::days(4));

    let ids = |sent: &[&invite_core::SentInvitation]| {
        let mut ids: Vec<_> = sent.iter().map(|s| s.invitation.id).collect();
        ids.sort();
        ids
    };
    let listed = |filter: &InvitationFilter| {
        let (mut seen, mut page) = (Vec::new(), PageRequest::first(1));
        loop {
            let result = w
                .service
                .list_invitations(w.business.id, filter, &page)
                .unwrap();
            for item in &result.items {
                assert_eq!(Some(item.status), filter.status, "{:?}", filter.status);
                seen.push(item.id);
            }
            match result.next_cursor {
                Some(c) => page = PageRequest::after(c, 1),
                None => return seen,
            }
        }
    };
    let status = |status| InvitationFilter {
        status: Some(status),
        ..Default::default()
    };
    let expired = ids(&[&swept[0], &swept[1], &overdue[0], &overdue[1]]);
    assert_eq!(listed(&status(InvitationStatus::Expired)), expired);
    assert_eq!(
        listed(&status(InvitationStatus::Pending)),
        ids(&[&live[0], &live[1]])
    );
    assert_eq!(
        listed(&status(InvitationStatus::Accepted)),
        ids(&[&accepted])
    );
    assert_eq!(
        listed(&status(InvitationStatus::Declined)),
        ids(&[&declined])
    );
    assert_eq!(listed(&status(InvitationStatus::Revoked)), ids(&[&revoked]));
    // With the other filters: the same answers within the app and the subscription, none
    // in another app or subscription.
    let within = |app, subscription| InvitationFilter {
        app_id: Some(app),
        subscription_id: Some(subscription),
        ..status(InvitationStatus::Expired)
    };
    assert_eq!(listed(&within(w.app.id, w.subscription.id)), expired);
    assert!(listed(&within(w.other_app.id, w.subscription.id)).is_empty());
    assert!(listed(&within(w.app.id, w.unlimited.id)).is_empty());
}

pub fn events_record_every_transition(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    w.clock.advance(Duration::minutes(5));
    let again = w
        .service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap();
    let failing = FailingMailer::new(1);
    w.service.dispatch_outbox(&failing).unwrap();
    w.clock.advance(Duration::minutes(5));
    w.service.dispatch_outbox(&failing).unwrap();
    w.service
        .accept(&AcceptRequest::new(again.token.expose()))
        .unwrap();
    let events = w
        .service
        .list_events(
            w.business.id,
            Some(sent.invitation.id),
            &PageRequest::default(),
        )
        .unwrap()
        .items;
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Sent,
            EventKind::Resent,
            EventKind::DeliveryFailed,
            EventKind::Delivered,
            EventKind::Accepted
        ]
    );
    assert_eq!(events[0].actor_id, Some(w.admin.id));
    assert!(
        events
            .iter()
            .all(|e| e.invitation_id == sent.invitation.id && e.business_id == w.business.id)
    );
    let other = w
        .service
        .send(&w.invite_new("C", "C", "c@example.com"))
        .unwrap();
    w.service.decline(other.token.expose()).unwrap();
    let third = w
        .service
        .send(&w.invite_new("D", "D", "d@example.com"))
        .unwrap();
    w.service
        .revoke(w.business.id, third.invitation.id, w.admin.id)
        .unwrap();
    let all: Vec<EventKind> = w
        .service
        .list_events(w.business.id, None, &PageRequest::first(500))
        .unwrap()
        .items
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(all.contains(&EventKind::Declined) && all.contains(&EventKind::Revoked));
}

/// A mailer that panics on one address and keeps the rest.
struct PanicsOn(&'static str, CapturingMailer);

impl Mailer for PanicsOn {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        assert_ne!(email.to, self.0, "a mailer bug");
        self.1.send(email)
    }
}

/// The built-in templates, except a panic for one invitee's email.
struct RenderPanicsOn(&'static str);

impl EmailRenderer for RenderPanicsOn {
    fn render(&self, context: &EmailContext) -> RenderedEmail {
        assert_ne!(
            context.invitee_name.as_deref(),
            Some(self.0),
            "a template bug"
        );
        DefaultTemplates.render(context)
    }
}

/// A host renderer or mailer that panics fails only the email it panicked on, as a
/// delivery attempt (retried with backoff, then `failed`): the rest of its batch is
/// delivered and recorded, and the run goes on (T14: invitations never mailed 0).
pub fn a_panicking_mailer_or_renderer_fails_only_its_email(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(10));
    let send = |email: &str, first: &str| {
        w.service
            .send(&w.invite_new(first, "Doe", email))
            .unwrap()
            .invitation
            .id
    };
    let (a, poisoned, b) = (
        send("a@example.com", "Ann"),
        send("x@example.com", "Xavier"),
        send("b@example.com", "Ben"),
    );
    let delivery = |id| {
        w.service
            .get_invitation(w.business.id, id)
            .unwrap()
            .delivery
    };
    let mailer = PanicsOn("x@example.com", CapturingMailer::new());
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!((report.delivered, report.retrying), (2, 1));
    let sent: Vec<String> = mailer.1.sent().into_iter().map(|m| m.to).collect();
    assert!(
        sent.contains(&"a@example.com".to_owned()) && sent.contains(&"b@example.com".to_owned())
    );
    assert_eq!(delivery(a).state, DeliveryState::Sent);
    assert_eq!(delivery(b).state, DeliveryState::Sent);
    let failing = delivery(poisoned);
    assert_eq!(
        (failing.state, failing.attempts),
        (DeliveryState::Queued, 1)
    );
    assert!(failing.last_error.is_some());
    // Retried like any failure, and given up on after the last attempt.
    let max = w.service.config().delivery.max_attempts;
    for _ in 1..max {
        w.clock.advance(Duration::hours(2));
        w.service.dispatch_outbox(&mailer).unwrap();
    }
    let given_up = delivery(poisoned);
    assert_eq!(
        (given_up.state, given_up.attempts),
        (DeliveryState::Failed, max)
    );

    // A renderer that panics on one email: the same, through another service on the
    // same store (same clock and outbox key, so it can open the queued links).
    let c = send("c@example.com", "Cora");
    let templated = send("t@example.com", "Tess");
    let rendering = InviteService::builder(w.service.store().clone())
        .clock(w.clock.clone())
        .outbox_key([9; 32])
        .config(crate::common::config())
        .renderer(Arc::new(RenderPanicsOn("Tess Doe")))
        .build()
        .unwrap();
    let captured = CapturingMailer::new();
    let report = rendering.dispatch_outbox(&captured).unwrap();
    assert_eq!((report.delivered, report.retrying), (1, 1));
    assert_eq!(delivery(c).state, DeliveryState::Sent);
    let unrendered = delivery(templated);
    assert_eq!(
        (unrendered.state, unrendered.attempts),
        (DeliveryState::Queued, 1)
    );
    assert!(captured.sent().iter().all(|m| m.to != "t@example.com"));
    w.assert_counters_match(&w.subscription);
}

pub fn dispatch_retries_and_marks_delivery(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let always = FailingMailer::always();
    let max = w.service.config().delivery.max_attempts;
    for attempt in 1..=max {
        let report = w.service.dispatch_outbox(&always).unwrap();
        let inv = w
            .service
            .get_invitation(w.business.id, sent.invitation.id)
            .unwrap();
        assert_eq!(inv.delivery.attempts, attempt);
        assert!(inv.delivery.last_error.is_some());
        if attempt < max {
            assert_eq!(
                (report.retrying, inv.delivery.state),
                (1, DeliveryState::Queued)
            );
            assert_eq!(
                w.service.dispatch_outbox(&always).unwrap().retrying,
                0,
                "backoff: not due yet"
            );
            w.clock.advance(Duration::hours(2));
        } else {
            assert_eq!(
                (report.failed, inv.delivery.state),
                (1, DeliveryState::Failed)
            );
        }
    }
    w.service
        .retry_delivery(w.business.id, sent.invitation.id, w.admin.id)
        .unwrap();
    let events = w
        .service
        .list_events(
            w.business.id,
            Some(sent.invitation.id),
            &PageRequest::first(100),
        )
        .unwrap()
        .items;
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind, last.actor_id, last.at),
        (EventKind::Sent, Some(w.admin.id), w.clock_now()),
        "the retry is in the audit log, with who asked for it"
    );
    let mailer = CapturingMailer::new();
    assert_eq!(w.service.dispatch_outbox(&mailer).unwrap().delivered, 1);
    let mail = &mailer.sent()[0];
    assert_eq!(
        mail.accept_link, sent.accept_link,
        "the retried email carries the live link"
    );
    let inv = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    assert_eq!(inv.delivery.state, DeliveryState::Sent);
    assert_eq!(
        w.service
            .retry_delivery(w.business.id, sent.invitation.id, w.admin.id)
            .unwrap_err()
            .code(),
        ErrorCode::InvitationNotPending
    );
}

/// A mailer that takes each claim as one batch: it records each batch's recipients, fails the
/// email to `fail@…` and stops before the batch's last email (answers one short).
#[derive(Default)]
struct BatchMailer {
    batches: Mutex<Vec<Vec<String>>>,
}

impl Mailer for BatchMailer {
    fn send(&self, _email: &InvitationEmail) -> Result<(), MailError> {
        Err(MailError("send_batch is the only path".into()))
    }

    fn send_batch(&self, emails: &[InvitationEmail]) -> Vec<Result<(), MailError>> {
        self.batches
            .lock()
            .unwrap()
            .push(emails.iter().map(|e| e.to.clone()).collect());
        emails
            .iter()
            .take(emails.len().saturating_sub(1))
            .map(|e| {
                if e.to.starts_with("fail@") {
                    Err(MailError("mailbox unavailable".into()))
                } else {
                    Ok(())
                }
            })
            .collect()
    }
}

pub fn dispatch_hands_each_claim_to_the_mailer_as_one_batch(store: Arc<dyn Store>) {
    let w = World::new(store);
    let addresses = ["ann@example.com", "fail@example.com", "last@example.com"];
    let sent: Vec<_> = addresses
        .iter()
        .map(|to| {
            w.service
                .send(&w.invite_new("Some", "One", to))
                .unwrap()
                .invitation
                .id
        })
        .collect();
    let mailer = BatchMailer::default();
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(
        *mailer.batches.lock().unwrap(),
        vec![
            addresses
                .iter()
                .map(|a| (*a).to_owned())
                .collect::<Vec<_>>()
        ],
        "one batch, in outbox order"
    );
    assert_eq!(
        (report.delivered, report.retrying, report.failed),
        (1, 1, 0),
        "the email the mailer stopped before is not a failed attempt"
    );
    let states: Vec<_> = sent
        .iter()
        .map(|id| {
            w.service
                .get_invitation(w.business.id, *id)
                .unwrap()
                .delivery
                .state
        })
        .collect();
    assert_eq!(
        states,
        [
            DeliveryState::Sent,
            DeliveryState::Queued,
            DeliveryState::Queued
        ],
        "a failed email and one the mailer stopped before wait; the rest are delivered"
    );
    let last = w.service.get_invitation(w.business.id, sent[2]).unwrap();
    assert_eq!(
        (last.delivery.attempts, last.delivery.last_error),
        (0, None)
    );
    // The one not attempted is due again at once; the failed one waits for its backoff.
    let mailer = CapturingMailer::new();
    let report = w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!((report.delivered, report.retrying), (1, 0));
    assert_eq!(mailer.sent()[0].to, "last@example.com");
}

pub fn catalog_crud(store: Arc<dyn Store>) {
    let w = World::new(store);
    let s = &w.service;
    let renamed = s.rename_business(w.business.id, "Acme Corp").unwrap();
    assert_eq!(s.get_business(w.business.id).unwrap(), renamed);
    assert_eq!(s.list_businesses().unwrap().len(), 2);
    assert_eq!(
        s.rename_app(w.app.id, "Billing Pro").unwrap().name,
        "Billing Pro"
    );
    assert_eq!(s.list_apps().unwrap().len(), 2);
    assert_eq!(s.list_roles(w.app.id).unwrap().len(), 3);
    assert_eq!(s.get_role(w.member.id).unwrap(), w.member);
    assert_eq!(
        s.create_role(w.app.id, "member", "Dup", &[])
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyExists
    );
    let updated = s
        .update_user(
            w.alice.id,
            &person("Alicia", "Archer", "alicia@example.com"),
        )
        .unwrap();
    assert_eq!(s.get_user(w.alice.id).unwrap(), updated);
    assert_eq!(
        s.find_user_by_email("ALICIA@example.com")
            .unwrap()
            .unwrap()
            .id,
        w.alice.id
    );
    assert_eq!(
        s.create_user(&person("X", "Y", "alicia@EXAMPLE.com"))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyExists
    );
    let sub = s
        .create_subscription(&NewSubscription::new(
            w.business.id,
            w.other_app.id,
            "Trial",
            Some(1),
        ))
        .unwrap();
    assert_eq!(s.get_subscription(w.business.id, sub.id).unwrap(), sub);
    assert_eq!(
        s.get_subscription(w.other_business.id, sub.id)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let m = s
        .add_membership(w.business.id, sub.id, w.alice.id, w.other_app_role.id)
        .unwrap();
    assert_eq!(
        s.add_membership(w.business.id, sub.id, w.admin.id, w.other_app_role.id)
            .unwrap_err()
            .code(),
        ErrorCode::SeatLimitReached
    );
    assert_eq!(
        s.add_membership(w.business.id, sub.id, w.admin.id, w.member.id)
            .unwrap_err()
            .code(),
        ErrorCode::RoleNotAssignable
    );
    assert_eq!(
        s.list_memberships(w.business.id, sub.id, &PageRequest::default())
            .unwrap()
            .items,
        vec![m.clone()]
    );
    s.remove_membership(w.business.id, m.id).unwrap();
    assert_eq!(s.seat_usage(w.business.id, sub.id).unwrap().used, 0);
    assert_eq!(
        s.remove_membership(w.business.id, m.id).unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        s.create_business(&"x".repeat(201)).unwrap_err().code(),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        s.create_business("").unwrap_err().code(),
        ErrorCode::ValidationFailed
    );
}

pub fn resend_to_someone_who_joined_meanwhile_is_already_member(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w.service.send(&w.invite_existing(&w.alice)).unwrap();
    w.clock.advance(Duration::days(8));
    w.service.expire_overdue().unwrap();
    w.service
        .add_membership(w.business.id, w.subscription.id, w.alice.id, w.member.id)
        .unwrap();
    let err = w
        .service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyMember);
    assert_eq!(
        w.usage().reserved,
        0,
        "no seat reserved for a doomed invitation"
    );
    w.assert_counters_match(&w.subscription);
}

pub fn resend_needs_the_app_still_enabled(store: Arc<dyn Store>) {
    let w = World::new(store);
    let pending = w
        .service
        .send(&w.invite_new("P", "P", "p@example.com"))
        .unwrap();
    let lapsed = w
        .service
        .send(&w.invite_new("L", "L", "l@example.com"))
        .unwrap();
    w.clock.advance(Duration::days(8));
    w.service.expire_overdue().unwrap();
    let pending = w
        .service
        .resend(w.business.id, pending.invitation.id, w.admin.id, None)
        .unwrap();
    w.clock.advance(Duration::hours(1));
    w.service
        .set_app_enabled(w.business.id, w.app.id, false)
        .unwrap();
    let before = w.usage();
    for id in [pending.invitation.id, lapsed.invitation.id] {
        let err = w
            .service
            .resend(w.business.id, id, w.admin.id, None)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::AppNotEnabled);
    }
    assert_eq!(
        w.usage(),
        before,
        "no seat reserved for a link that cannot be accepted"
    );
    let lapsed = w
        .service
        .get_invitation(w.business.id, lapsed.invitation.id)
        .unwrap();
    assert_eq!(lapsed.status, InvitationStatus::Expired);
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(pending.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::AppNotEnabled
    );
    w.assert_counters_match(&w.subscription);
}

pub fn a_pending_invitation_holds_the_only_seat_of_its_invitee(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w.service.send(&w.invite_existing(&w.alice)).unwrap();
    // Adding Alice directly would give her a second seat, and strand the invitation.
    let err = w
        .service
        .add_membership(w.business.id, w.subscription.id, w.alice.id, w.member.id)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyInvited);
    assert_eq!((w.usage().used, w.usage().reserved), (0, 1));
    // Accepting still works and takes that one seat.
    w.service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    assert_eq!((w.usage().used, w.usage().reserved), (1, 0));
    // A new user invited by email: someone who signs up with that address meanwhile
    // is that person, and cannot be given a second seat either.
    w.service
        .send(&w.invite_new("Nina", "New", "nina@example.com"))
        .unwrap();
    let nina = w
        .service
        .create_user(&person("Nina", "New", "NINA@example.com"))
        .unwrap();
    let err = w
        .service
        .add_membership(w.business.id, w.subscription.id, nina.id, w.member.id)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AlreadyInvited);
    // Once the invitation is overdue it no longer holds the seat: it is expired on the
    // spot and the membership takes its place.
    w.clock.advance(Duration::days(8));
    w.service
        .add_membership(w.business.id, w.subscription.id, nina.id, w.member.id)
        .unwrap();
    assert_eq!((w.usage().used, w.usage().reserved), (2, 0));
    w.assert_counters_match(&w.subscription);
}

pub fn overdue_invitations_count_against_no_limit(store: Arc<dyn Store>) {
    let mut config = crate::common::config();
    config.limits.pending_per_business = Some(1);
    let w = World::with_config(store, config, Some(1));
    let first = w
        .service
        .send(&w.invite_new("A", "A", "a@example.com"))
        .unwrap();
    // No sweep runs: the first invitation is merely overdue. It is expired, so it
    // neither uses up the pending cap nor holds the only seat.
    w.clock.advance(Duration::days(8));
    let second = w
        .service
        .send(&w.invite_new("B", "B", "b@example.com"))
        .unwrap();
    assert_eq!(
        w.service
            .get_invitation(w.business.id, first.invitation.id)
            .unwrap()
            .status,
        InvitationStatus::Expired
    );
    // Nor does an overdue invitation keep the cap from being lowered.
    w.clock.advance(Duration::days(8));
    let lowered = w
        .service
        .update_subscription(&invite_core::Subscription {
            seats: Some(0),
            ..w.subscription.clone()
        })
        .unwrap();
    assert_eq!(lowered.seats, Some(0));
    assert_eq!(
        w.service
            .get_invitation(w.business.id, second.invitation.id)
            .unwrap()
            .status,
        InvitationStatus::Expired
    );
    assert_eq!((w.usage().used, w.usage().reserved), (0, 0));
    w.assert_counters_match(&lowered);
}

/// A mailer that fails every email with a reason full of control characters.
struct ControlCharacterMailer;

impl Mailer for ControlCharacterMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        if email.to.starts_with("good@") {
            return Ok(());
        }
        Err(MailError(
            "550\0 rejected\r\n\u{7}by \u{202E}policy\u{2028}".into(),
        ))
    }
}

pub fn a_mailer_failure_with_control_characters_is_recorded_like_any_other(store: Arc<dyn Store>) {
    let w = World::new(store);
    for to in ["good@example.com", "bad@example.com"] {
        w.service.send(&w.invite_new("Some", "One", to)).unwrap();
    }
    // A NUL could not go into PostgreSQL text: the batch's bookkeeping failed, and the
    // good email was sent again after every lease.
    let report = w.service.dispatch_outbox(&ControlCharacterMailer).unwrap();
    assert_eq!((report.delivered, report.retrying), (1, 1));
    let bad = w
        .service
        .list_invitations(
            w.business.id,
            &InvitationFilter {
                email: Some("bad@example.com".into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .unwrap()
        .items
        .remove(0);
    let reason = bad.delivery.last_error.unwrap();
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    // Nor what would reorder or break the line an admin page shows it on.
    assert!(!reason.contains(['\u{202E}', '\u{2028}']), "{reason:?}");
    assert!(reason.contains("rejected"));
    w.clock.advance(Duration::hours(1));
    let again = w.service.dispatch_outbox(&ControlCharacterMailer).unwrap();
    assert_eq!(
        (again.delivered, again.retrying),
        (0, 1),
        "the good one went once"
    );
}

pub fn a_cursor_reads_only_the_listing_that_wrote_it(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..3 {
        w.service
            .send(&w.invite_new("P", "P", &format!("p{i}@example.com")))
            .unwrap();
    }
    let events = w
        .service
        .list_events(w.business.id, None, &PageRequest::first(2))
        .unwrap();
    let invitations = w
        .service
        .list_invitations(w.business.id, &Default::default(), &PageRequest::first(2))
        .unwrap();
    let (from_events, from_invitations) = (
        events.next_cursor.unwrap(),
        invitations.next_cursor.unwrap(),
    );
    // Each listing reads its own next page...
    let rest = w
        .service
        .list_invitations(
            w.business.id,
            &Default::default(),
            &PageRequest::after(from_invitations.clone(), 2),
        )
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    // ...and refuses another's cursor, which would silently skip items.
    let err = w
        .service
        .list_invitations(
            w.business.id,
            &Default::default(),
            &PageRequest::after(from_events, 2),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    assert_eq!(err.field_errors()[0].field, "cursor");
    assert_eq!(err.field_errors()[0].code, FieldCode::UnknownOption);
    let err = w
        .service
        .search_users("", &PageRequest::after(from_invitations, 2))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
}

/// A mailer whose server refuses every email quoting its link (a URL blocklist), and
/// the link once more as a quoted-printable body carries it: cut by a soft line break.
struct QuotingMailer;

impl Mailer for QuotingMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        let (head, tail) = email.accept_link.split_at(email.accept_link.len() - 20);
        Err(MailError(format!(
            "554 5.7.1 rejected: {} is listed; in the message: {head}=\r\n{tail}",
            email.accept_link
        )))
    }
}

/// T1: a mail server's refusal that quotes the link is recorded without its token, on
/// the invitation, the outbox message and the audit event.
pub fn a_refusal_quoting_the_link_is_recorded_without_the_token(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let token = sent.token.expose().to_owned();
    assert_eq!(
        w.service.dispatch_outbox(&QuotingMailer).unwrap().retrying,
        1
    );
    let id = sent.invitation.id;
    let delivery = w
        .service
        .get_invitation(w.business.id, id)
        .unwrap()
        .delivery;
    let mut recorded = vec![delivery.last_error.unwrap()];
    for message in w.service.invitation_messages(w.business.id, id).unwrap() {
        recorded.extend(message.last_error);
    }
    let events = w
        .service
        .list_events(w.business.id, Some(id), &PageRequest::default())
        .unwrap();
    recorded.extend(events.items.into_iter().filter_map(|e| e.detail));
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    for text in recorded {
        assert!(!text.contains(&token), "{text}");
        assert!(text.contains("?token=<redacted> is listed"), "{text}");
        // Neither half of the cut token is left either.
        assert!(!text.contains(&token[..token.len() - 20]), "{text}");
        assert!(!text.contains(&token[token.len() - 20..]), "{text}");
        assert!(
            text.contains("the message: "),
            "the rest of the reason stays: {text}"
        );
    }
}

/// A mailer that says when it starts an email, then waits to be told the outcome.
struct GateMailer {
    started: Mutex<std::sync::mpsc::Sender<()>>,
    outcome: Mutex<std::sync::mpsc::Receiver<Result<(), MailError>>>,
}

impl GateMailer {
    fn new() -> (
        GateMailer,
        std::sync::mpsc::Receiver<()>,
        std::sync::mpsc::Sender<Result<(), MailError>>,
    ) {
        let (started, on_start) = std::sync::mpsc::channel();
        let (release, outcome) = std::sync::mpsc::channel();
        let mailer = GateMailer {
            started: Mutex::new(started),
            outcome: Mutex::new(outcome),
        };
        (mailer, on_start, release)
    }
}

impl Mailer for GateMailer {
    fn send(&self, _email: &InvitationEmail) -> Result<(), MailError> {
        self.started.lock().unwrap().send(()).unwrap();
        self.outcome.lock().unwrap().recv().unwrap()
    }
}

/// Starts a dispatch run on a thread of `scope` and waits until its mailer holds the
/// email; the run ends once the mailer's outcome is sent on the returned channel.
fn hung_dispatch<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    service: &'scope invite_core::InviteService,
) -> (
    std::thread::ScopedJoinHandle<'scope, invite_core::service::DispatchReport>,
    std::sync::mpsc::Sender<Result<(), MailError>>,
) {
    let (mailer, started, release) = GateMailer::new();
    let run = scope.spawn(move || service.dispatch_outbox(&mailer).unwrap());
    started.recv().unwrap();
    (run, release)
}

/// T14: a dispatcher that outlives its lease (a slow mail server) records nothing over
/// a newer claim: a late failure neither breaks the newer claim's lease (a third
/// dispatcher would send the email again) nor downgrades a delivery recorded meanwhile,
/// and a late delivery is recorded once.
pub fn a_claim_past_its_lease_never_overwrites_a_newer_one(store: Arc<dyn Store>) {
    let w = World::new(store);
    let lease = invite_core::service::DeliveryConfig::default().lease;
    let id = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap()
        .invitation
        .id;
    let service = &w.service;
    std::thread::scope(|scope| {
        // A claims and hangs; its lease runs out; B claims the same email and hangs.
        let (a, a_release) = hung_dispatch(scope, service);
        w.clock.advance(lease + Duration::minutes(1));
        let (b, b_release) = hung_dispatch(scope, service);
        // A fails late: B's lease stands, so a third dispatcher finds nothing due.
        a_release.send(Err(MailError("timed out".into()))).unwrap();
        assert_eq!(
            a.join().unwrap().retrying,
            0,
            "the stale failure is not recorded"
        );
        w.clock.advance(Duration::minutes(1));
        let third = CapturingMailer::new();
        w.service.dispatch_outbox(&third).unwrap();
        assert!(third.sent().is_empty(), "B still holds the email");
        // B delivers.
        b_release.send(Ok(())).unwrap();
        assert_eq!(b.join().unwrap().delivered, 1);
    });
    let delivery = w
        .service
        .get_invitation(w.business.id, id)
        .unwrap()
        .delivery;
    assert_eq!(delivery.state, DeliveryState::Sent);

    // Now the other order: C claims and hangs past its lease, D claims and hangs, C
    // delivers late (recorded), then D fails late (not recorded: no downgrade).
    let id = w
        .service
        .send(&w.invite_new("Cy", "Cole", "cy@example.com"))
        .unwrap()
        .invitation
        .id;
    std::thread::scope(|scope| {
        let (c, c_release) = hung_dispatch(scope, service);
        w.clock.advance(lease + Duration::minutes(1));
        let (d, d_release) = hung_dispatch(scope, service);
        c_release.send(Ok(())).unwrap();
        assert_eq!(
            c.join().unwrap().delivered,
            1,
            "a late delivery is recorded"
        );
        d_release
            .send(Err(MailError("421 try later".into())))
            .unwrap();
        let d = d.join().unwrap();
        assert_eq!((d.retrying, d.failed), (0, 0), "nothing downgrades it");
    });
    let invitation = w.service.get_invitation(w.business.id, id).unwrap();
    assert_eq!(invitation.delivery.state, DeliveryState::Sent);
    assert_eq!(invitation.delivery.last_error, None);
    w.clock.advance(Duration::hours(3));
    let later = CapturingMailer::new();
    w.service.dispatch_outbox(&later).unwrap();
    assert!(
        later.sent().is_empty(),
        "a delivered email is not sent again"
    );
    let kinds: Vec<EventKind> = w
        .service
        .list_events(w.business.id, Some(id), &PageRequest::default())
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [EventKind::Created, EventKind::Sent, EventKind::Delivered]
    );
}

/// A clock in the last days of the year 9999, or past it, fails every call that would
/// write an instant past it with `INVALID_CONFIG`, and changes nothing: no panic, no
/// invitation a binding could not read back.
pub fn a_clock_past_the_years_served_changes_nothing(store: Arc<dyn Store>) {
    let mut config = crate::common::config();
    config.delivery.base_backoff = Duration::days(1);
    config.delivery.max_backoff = Duration::days(1);
    let w = World::with_config(store, config, Some(3));
    let earlier = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let year_end = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 0).unwrap();
    // A week before the year's end: the invitation expires in its last minute.
    w.clock.set(year_end - Duration::days(7));
    let last = w
        .service
        .send(&w.invite_new("Lou", "Last", "lou@example.com"))
        .unwrap();
    assert_eq!(last.invitation.expires_at, year_end);
    let snapshot = |w: &World| (w.usage(), w.invitations(100).unwrap());
    let before = snapshot(&w);
    let refused = |what: &str, result: invite_core::Result<()>| {
        assert_eq!(
            result.map_err(|e| e.code()),
            Err(ErrorCode::InvalidConfig),
            "{what}"
        );
    };
    w.clock.set(year_end - Duration::days(2));
    refused(
        "a send expiring in the year 10000",
        w.service
            .send(&w.invite_new("Ann", "After", "ann@example.com"))
            .map(drop),
    );
    refused(
        "a bulk send expiring in the year 10000",
        w.service
            .bulk_send(&w.bulk_request(
                w.subscription.id,
                vec![invite_core::BulkInvitee::new_user(
                    "Ann",
                    "After",
                    "ann@example.com",
                )],
            ))
            .map(drop),
    );
    refused(
        "a resend reviving the earlier invitation until the year 10000",
        w.service
            .resend(w.business.id, earlier.invitation.id, w.admin.id, None)
            .map(drop),
    );
    w.clock.set(year_end - Duration::hours(2));
    refused(
        "an idempotency record kept into the year 10000",
        w.service
            .send(
                &w.invite_new("Ann", "After", "ann@example.com")
                    .expires_in(Duration::hours(1))
                    .idempotency_key("late"),
            )
            .map(drop),
    );
    refused(
        "a failed email's next attempt a day later, in the year 10000",
        w.service
            .dispatch_outbox(&FailingMailer::always())
            .map(drop),
    );
    // Two minutes before the last invitation expires, its email's lease would end in
    // the year 10000.
    w.clock.set(year_end - Duration::minutes(2));
    let mailer = CapturingMailer::new();
    refused(
        "a claim whose lease ends in the year 10000",
        w.service.dispatch_outbox(&mailer).map(drop),
    );
    assert!(mailer.sent().is_empty());
    // A clock past the year 9999 (a manual clock stops at chrono's last instant) reads
    // nothing either.
    w.clock.set(DateTime::<Utc>::MAX_UTC);
    refused(
        "a user created at chrono's last instant",
        w.service
            .create_user(&person("Max", "Time", "max@example.com"))
            .map(drop),
    );
    refused(
        "a read",
        w.service
            .seat_usage(w.business.id, w.subscription.id)
            .map(drop),
    );
    w.clock.set(year_end - Duration::minutes(2));
    assert_eq!(snapshot(&w), before, "nothing changed");
    // The last invitation is still live; no delivery outcome was recorded for it.
    let accepted = w
        .service
        .accept(&AcceptRequest::new(last.token.expose()))
        .unwrap();
    assert_eq!(accepted.invitation.delivery.attempts, 0);
}
