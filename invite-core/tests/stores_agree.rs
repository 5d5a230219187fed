//! The stores against each other: the same random sequence of operations on the
//! in-memory store, SQLite and (with `INVITE_TEST_POSTGRES_URL`) PostgreSQL, each behind
//! a service with the same seeded randomness and clock, must give the same answers: the
//! same results and error codes, the same user search pages (order and cursors
//! included) for Unicode, case, width and IDN queries, the same invitation listings,
//! events, seat usage and delivered emails.
//!
//! The contract suite checks each store against what the guide expects; this checks
//! the stores against one another where the expectation is "whatever the others do",
//! such as the order of search results for names that fold alike.
#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
#[cfg(feature = "postgres")]
mod postgres_support;

use std::sync::Arc;

use chrono::Duration;
use invite_core::{
    AcceptRequest, CapturingMailer, InMemoryStore, InvitationFilter, InvitationId,
    InvitationStatus, PageRequest, Store, UserId,
};
use proptest::prelude::*;
use serde::Serialize;
use serde_json::Value;

use common::{World, person};

/// Names that fold, compose, widen or case-map into one another, and some that don't.
const NAMES: &[&str] = &[
    "Ärger",
    "ärger",
    "A\u{308}rger",
    "Zoë",
    "ZOË",
    "zoe",
    "Straße",
    "STRASSE",
    "İlker",
    "ılker",
    "Ａｌｉｃｅ",
    "\u{212A}elvin",
    "Kelvin",
    "Émile",
    "e\u{301}mile",
    "日本",
    "Ñandú",
    "O'Neil",
    "o'neil",
    "ǅemal",
    "Al",
    "",
];

const EMAILS: &[&str] = &[
    "a@example.com",
    "A@EXAMPLE.COM",
    "z@bücher.example",
    "Z@xn--bcher-kva.example",
    "kelvin@example.com",
    "ǆ@example.com",
    "user+tag@example.com",
    "o'neil@example.com",
    "ＡＢ@example.com",
    "ab@example.com",
    "not-an-email",
    "alice@example.com",
];

const QUERIES: &[&str] = &[
    "",
    "a",
    "Ä",
    "ä",
    "ar",
    "z",
    "ZOË",
    "zo",
    "ss",
    "ß",
    "stras",
    "é",
    "e\u{301}",
    "i",
    "İ",
    "k",
    "\u{212A}",
    "bü",
    "xn--",
    "z@b",
    "z@xn--bc",
    "ａ",
    "日",
    "o'",
    "alice archer",
    "al",
    "@",
    "ǆ",
];

#[derive(Clone, Debug)]
enum Op {
    CreateUser(usize, usize, usize),
    UpdateUser(usize, usize, usize, usize),
    Send {
        first: usize,
        last: usize,
        email: usize,
        unlimited: bool,
    },
    SendExisting(usize, bool),
    Accept(usize),
    Decline(usize),
    Revoke(usize),
    Resend(usize),
    Advance(i64),
    Sweep,
    Dispatch,
    Search(usize, usize),
    List(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    let email = 0..EMAILS.len();
    prop_oneof![
        4 => (name.clone(), name.clone(), email.clone())
            .prop_map(|(f, l, e)| Op::CreateUser(f, l, e)),
        1 => (0..16usize, name.clone(), name.clone(), email.clone())
            .prop_map(|(u, f, l, e)| Op::UpdateUser(u, f, l, e)),
        3 => (name.clone(), name, email, any::<bool>()).prop_map(|(first, last, email, unlimited)| {
            Op::Send { first, last, email, unlimited }
        }),
        2 => (0..16usize, any::<bool>()).prop_map(|(u, unlimited)| Op::SendExisting(u, unlimited)),
        2 => (0..16usize).prop_map(Op::Accept),
        1 => (0..16usize).prop_map(Op::Decline),
        1 => (0..16usize).prop_map(Op::Revoke),
        1 => (0..16usize).prop_map(Op::Resend),
        1 => prop_oneof![Just(1i64), Just(24 * 8)].prop_map(Op::Advance),
        1 => Just(Op::Sweep),
        1 => Just(Op::Dispatch),
        4 => (0..QUERIES.len(), 1..4usize).prop_map(|(q, size)| Op::Search(q, size)),
        2 => (0..8usize, 1..4usize).prop_map(|(f, size)| Op::List(f, size)),
    ]
}

/// One store's side: its world, the users it created and its invitations' tokens.
struct Side {
    kind: &'static str,
    w: World,
    users: Vec<UserId>,
    invitations: Vec<(InvitationId, String)>,
}

/// A result as comparable JSON: the value, or the error's code.
fn outcome<T: Serialize>(result: invite_core::Result<T>) -> Value {
    match result {
        Ok(value) => serde_json::json!({ "ok": value }),
        Err(e) => serde_json::json!({ "err": e.code() }),
    }
}

/// A send's result as comparable JSON (the token is a secret: not `Serialize`).
fn sent_outcome(result: &invite_core::Result<invite_core::SentInvitation>) -> Value {
    match result {
        Ok(sent) => serde_json::json!({ "ok": {
            "invitation": sent.invitation,
            "token": sent.token.expose(),
            "accept_link": sent.accept_link,
            "replayed": sent.replayed,
        }}),
        Err(e) => serde_json::json!({ "err": e.code() }),
    }
}

impl Side {
    fn new(kind: &'static str, store: Arc<dyn Store>) -> Side {
        let w = World::new(store);
        let users = vec![w.alice.id, w.admin.id];
        Side {
            kind,
            w,
            users,
            invitations: Vec::new(),
        }
    }

    fn user(&self, i: usize) -> UserId {
        self.users[i % self.users.len()]
    }

    fn invitation(&self, i: usize) -> Option<&(InvitationId, String)> {
        self.invitations.get(i.checked_rem(self.invitations.len())?)
    }

    fn record(&mut self, sent: &invite_core::Result<invite_core::SentInvitation>) {
        if let Ok(sent) = sent {
            self.invitations
                .push((sent.invitation.id, sent.token.expose().to_owned()));
        }
    }

    /// Every page of a search or a listing, with its cursor. The pages, one after the
    /// other, hold exactly what one page of 100 holds (nothing twice, nothing skipped).
    fn pages<T: Serialize>(
        size: usize,
        mut read: impl FnMut(&PageRequest) -> invite_core::Result<invite_core::Page<T>>,
    ) -> Value {
        let mut pages = Vec::new();
        let mut walked = Vec::new();
        let mut request = PageRequest::first(size as u32);
        for _ in 0..100 {
            match read(&request) {
                Ok(page) => {
                    let next = page.next_cursor.clone();
                    let items = serde_json::to_value(&page.items).unwrap();
                    walked.extend(items.as_array().cloned().unwrap_or_default());
                    if next.is_none() {
                        let whole = read(&PageRequest::first(100))
                            .map(|whole| serde_json::to_value(&whole.items).unwrap());
                        assert_eq!(
                            whole.map_err(|e| e.code()),
                            Ok(Value::Array(walked.clone())),
                            "pages of {size} differ from one page"
                        );
                    }
                    pages.push(serde_json::json!({ "items": items, "next": next }));
                    match next {
                        Some(cursor) => request = PageRequest::after(cursor, size as u32),
                        None => break,
                    }
                }
                Err(e) => {
                    pages.push(serde_json::json!({ "err": e.code() }));
                    break;
                }
            }
        }
        Value::Array(pages)
    }

    fn apply(&mut self, op: &Op) -> Value {
        let w = &self.w;
        let s = &w.service;
        match op {
            Op::CreateUser(f, l, e) => {
                let created = s.create_user(&person(NAMES[*f], NAMES[*l], EMAILS[*e]));
                if let Ok(user) = &created {
                    self.users.push(user.id);
                }
                outcome(created)
            }
            Op::UpdateUser(u, f, l, e) => {
                outcome(s.update_user(self.user(*u), &person(NAMES[*f], NAMES[*l], EMAILS[*e])))
            }
            Op::Send {
                first,
                last,
                email,
                unlimited,
            } => {
                let request = w
                    .invite_new(NAMES[*first], NAMES[*last], EMAILS[*email])
                    .subscription(if *unlimited {
                        w.unlimited.id
                    } else {
                        w.subscription.id
                    });
                let sent = s.send(&request);
                self.record(&sent);
                sent_outcome(&sent)
            }
            Op::SendExisting(u, unlimited) => {
                let user = self.user(*u);
                let request = w.invite_user(user).subscription(if *unlimited {
                    w.unlimited.id
                } else {
                    w.subscription.id
                });
                let sent = s.send(&request);
                self.record(&sent);
                sent_outcome(&sent)
            }
            Op::Accept(i) => match self.invitation(*i) {
                Some((_, token)) => outcome(s.accept(&AcceptRequest::new(token.clone()))),
                None => Value::Null,
            },
            Op::Decline(i) => match self.invitation(*i) {
                Some((_, token)) => outcome(s.decline(token)),
                None => Value::Null,
            },
            Op::Revoke(i) => match self.invitation(*i) {
                Some((id, _)) => outcome(s.revoke(w.business.id, *id, w.admin.id)),
                None => Value::Null,
            },
            Op::Resend(i) => {
                let Some(slot) = (!self.invitations.is_empty()).then(|| i % self.invitations.len())
                else {
                    return Value::Null;
                };
                let id = self.invitations[slot].0;
                let sent = s.resend(w.business.id, id, w.admin.id, None);
                if let Ok(sent) = &sent {
                    self.invitations[slot].1 = sent.token.expose().to_owned();
                }
                sent_outcome(&sent)
            }
            Op::Advance(hours) => {
                w.clock.advance(Duration::hours(*hours));
                Value::Null
            }
            Op::Sweep => outcome(s.expire_overdue()),
            Op::Dispatch => {
                let mailer = CapturingMailer::new();
                let report = outcome(s.dispatch_outbox(&mailer));
                serde_json::json!({ "report": report, "sent": mailer.sent() })
            }
            Op::Search(q, size) => Self::pages(*size, |page| s.search_users(QUERIES[*q], page)),
            Op::List(f, size) => {
                let by_status = |status| InvitationFilter {
                    status: Some(status),
                    ..InvitationFilter::default()
                };
                let filter = match f {
                    0 => InvitationFilter::default(),
                    1 => by_status(InvitationStatus::Pending),
                    2 => by_status(InvitationStatus::Expired),
                    3 => InvitationFilter {
                        email: Some("A@example.com".to_owned()),
                        ..InvitationFilter::default()
                    },
                    4 => InvitationFilter {
                        subscription_id: Some(w.unlimited.id),
                        ..by_status(InvitationStatus::Accepted)
                    },
                    5 => by_status(InvitationStatus::Revoked),
                    6 => by_status(InvitationStatus::Declined),
                    _ => InvitationFilter {
                        app_id: Some(w.app.id),
                        subscription_id: Some(w.subscription.id),
                        ..by_status(InvitationStatus::Expired)
                    },
                };
                let invitations = Self::pages(*size, |page| {
                    s.list_invitations(w.business.id, &filter, page)
                });
                let events = Self::pages(*size, |page| s.list_events(w.business.id, None, page));
                serde_json::json!({ "invitations": invitations, "events": events })
            }
        }
    }

    /// What every step is also compared on: both subscriptions' seats.
    fn seats(&self) -> Value {
        let w = &self.w;
        serde_json::json!([
            outcome(w.service.seat_usage(w.business.id, w.subscription.id)),
            outcome(w.service.seat_usage(w.business.id, w.unlimited.id)),
        ])
    }
}

fn stores() -> Vec<(&'static str, Arc<dyn Store>)> {
    #[cfg_attr(
        not(feature = "postgres"),
        allow(unused_mut, reason = "PostgreSQL joins only with its feature")
    )]
    let mut stores: Vec<(&'static str, Arc<dyn Store>)> = vec![
        ("memory", Arc::new(InMemoryStore::new())),
        (
            "sqlite",
            invite_core::store::open("sqlite::memory:").unwrap(),
        ),
    ];
    #[cfg(feature = "postgres")]
    if let Some(store) = postgres_support::ScopedStore::arc() {
        stores.push(("postgres", store));
    }
    stores
}

#[test]
fn every_store_gives_the_same_answers() {
    crate::common::check_property(
        "the stores disagree",
        "INVITE_AGREE_CASES",
        32,
        &proptest::collection::vec(op(), 1..60),
        |ops| {
            let mut sides: Vec<Side> = stores()
                .into_iter()
                .map(|(kind, store)| Side::new(kind, store))
                .collect();
            for (step, op) in ops.iter().enumerate() {
                let answers: Vec<(Value, Value)> = sides
                    .iter_mut()
                    .map(|side| (side.apply(op), side.seats()))
                    .collect();
                let (first, rest) = answers.split_first().unwrap();
                for (side, answer) in sides.iter().skip(1).zip(rest) {
                    prop_assert_eq!(
                        answer,
                        first,
                        "step {} ({:?}): {} answered differently from {}",
                        step,
                        op,
                        side.kind,
                        sides[0].kind
                    );
                }
            }
            Ok(())
        },
    );
}
