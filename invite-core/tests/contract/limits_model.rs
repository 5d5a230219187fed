//! A proptest of the abuse limits (SECURITY.md T13) against a reference model: a daily
//! budget, a resend cooldown and a pending cap drawn at random, and random sequences of
//! sends, resends, revokes, accepts, sweeps and time passing (minutes to days, across
//! UTC midnights and invitation expiries). Every answer must match the model's, a
//! `RATE_LIMITED` one with the model's retry-after: the time to the next UTC day for the
//! budget, what is left of the cooldown, an hour for the pending cap.
//!
//! The model: the budget counts the inviter's new invitations and resends since the
//! start of the UTC day; the pending cap counts pending invitations, overdue ones
//! swept first (a refused call keeps nothing of its sweep); the cooldown runs from an
//! invitation's last send.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use invite_core::service::Limits;
use invite_core::{AcceptRequest, ErrorCode, InvitationId, Store, Token};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::World;

const PEOPLE: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    Send(usize),
    Resend(usize),
    Revoke(usize),
    Accept(usize),
    Sweep,
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..PEOPLE).prop_map(Op::Send),
        4 => (0..8usize).prop_map(Op::Resend),
        1 => (0..8usize).prop_map(Op::Revoke),
        1 => (0..8usize).prop_map(Op::Accept),
        1 => Just(Op::Sweep),
        3 => prop_oneof![Just(1i64), Just(30), Just(5 * 60), Just(24 * 60), Just(3 * 24 * 60)]
            .prop_map(Op::Advance),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stored {
    Pending,
    Closed,
    Expired,
}

#[derive(Debug)]
struct Sent {
    id: InvitationId,
    person: usize,
    stored: Stored,
    expires_at: DateTime<Utc>,
    last_sent_at: DateTime<Utc>,
    token: Token,
}

#[derive(Debug)]
struct Model {
    budget: u32,
    cooldown: Duration,
    pending_cap: u32,
    invitations: Vec<Sent>,
    members: Vec<usize>,
    /// When the inviter created an invitation or resent one.
    mailed: Vec<DateTime<Utc>>,
}

/// A refusal: its code, and its retry-after if any.
type Refusal = (ErrorCode, Option<StdDuration>);
type Answer = Result<(), Refusal>;

fn limited(retry: Duration) -> Refusal {
    (ErrorCode::RateLimited, retry.to_std().ok())
}

impl Model {
    fn overdue(&self, i: usize, now: DateTime<Utc>) -> bool {
        let inv = &self.invitations[i];
        inv.stored == Stored::Pending && now >= inv.expires_at
    }

    fn stored_pending(&self) -> u32 {
        self.invitations
            .iter()
            .filter(|i| i.stored == Stored::Pending)
            .count() as u32
    }

    fn overdue_count(&self, now: DateTime<Utc>) -> u32 {
        (0..self.invitations.len())
            .filter(|i| self.overdue(*i, now))
            .count() as u32
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        for i in 0..self.invitations.len() {
            if self.overdue(i, now) {
                self.invitations[i].stored = Stored::Expired;
            }
        }
    }

    /// The daily budget: `RATE_LIMITED` until the next UTC day once spent.
    fn budget(&self, now: DateTime<Utc>) -> Answer {
        let day_start = now.date_naive().and_time(NaiveTime::MIN).and_utc();
        let spent = self.mailed.iter().filter(|at| **at >= day_start).count() as u32;
        if spent + 1 > self.budget {
            return Err(limited(day_start + Duration::days(1) - now));
        }
        Ok(())
    }

    /// The pending cap; `Ok(true)` when it takes a sweep to make room.
    fn pending_cap(&self, now: DateTime<Utc>) -> Result<bool, Refusal> {
        let pending = self.stored_pending();
        if pending < self.pending_cap {
            return Ok(false);
        }
        if pending - self.overdue_count(now) < self.pending_cap {
            return Ok(true);
        }
        Err(limited(Duration::hours(1)))
    }

    /// Predicts a send to `person`, applying it when it succeeds.
    fn send(&mut self, person: usize, now: DateTime<Utc>) -> Answer {
        self.budget(now)?;
        let swept = self.pending_cap(now)?;
        if self.members.contains(&person) {
            return Err((ErrorCode::AlreadyMember, None));
        }
        let duplicate = self
            .invitations
            .iter()
            .position(|i| i.person == person && i.stored == Stored::Pending);
        if let Some(d) = duplicate
            && !self.overdue(d, now)
        {
            return Err((ErrorCode::AlreadyInvited, None));
        }
        if swept {
            self.sweep(now);
        }
        if let Some(d) = duplicate {
            self.invitations[d].stored = Stored::Expired;
        }
        self.mailed.push(now);
        Ok(())
    }

    /// Predicts a resend of invitation `i`, applying it when it succeeds. One that is
    /// still stored pending (overdue or not) holds its place; an expired one is
    /// revived, so it must fit under the pending cap again.
    fn resend(&mut self, i: usize, now: DateTime<Utc>) -> Answer {
        let inv = &self.invitations[i];
        if inv.stored == Stored::Closed {
            return Err((ErrorCode::InvitationNotPending, None));
        }
        let since = now - inv.last_sent_at;
        if since < self.cooldown {
            return Err(limited(self.cooldown - since));
        }
        if self.members.contains(&inv.person) {
            return Err((ErrorCode::AlreadyMember, None));
        }
        self.budget(now)?;
        let mut swept = false;
        if inv.stored == Stored::Expired {
            // As a send: a live newer invitation to the same person refuses, an overdue
            // one is expired first (and back with the rest if the cap refuses).
            let person = inv.person;
            let duplicate = self
                .invitations
                .iter()
                .position(|o| o.person == person && o.stored == Stored::Pending);
            if let Some(d) = duplicate {
                if !self.overdue(d, now) {
                    return Err((ErrorCode::AlreadyInvited, None));
                }
                self.invitations[d].stored = Stored::Expired;
            }
            swept = match self.pending_cap(now) {
                Ok(swept) => swept,
                Err(refusal) => {
                    if let Some(d) = duplicate {
                        self.invitations[d].stored = Stored::Pending;
                    }
                    return Err(refusal);
                }
            };
        }
        if swept {
            self.sweep(now);
        }
        self.mailed.push(now);
        Ok(())
    }
}

fn email(person: usize) -> String {
    format!("limit{person}@example.com")
}

fn answer<T>(result: &invite_core::Result<T>) -> Answer {
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err((e.code(), e.retry_after())),
    }
}

fn step(w: &World, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    use invite_core::Clock;
    let now = w.clock.now();
    match op {
        Op::Send(person) => {
            let expected = model.send(*person, now);
            let sent = w.service.send(&w.invite_new("L", "L", &email(*person)));
            prop_assert_eq!(answer(&sent), expected, "send to {}", person);
            if let Ok(sent) = sent {
                model.invitations.push(Sent {
                    id: sent.invitation.id,
                    person: *person,
                    stored: Stored::Pending,
                    expires_at: sent.invitation.expires_at,
                    last_sent_at: now,
                    token: sent.token,
                });
            }
        }
        Op::Resend(i) => {
            if *i >= model.invitations.len() {
                return Ok(());
            }
            let expected = model.resend(*i, now);
            let id = model.invitations[*i].id;
            let sent = w.service.resend(w.business.id, id, w.admin.id, None);
            prop_assert_eq!(answer(&sent), expected, "resend {}", i);
            if let Ok(sent) = sent {
                let inv = &mut model.invitations[*i];
                inv.stored = Stored::Pending;
                inv.expires_at = sent.invitation.expires_at;
                inv.last_sent_at = now;
                inv.token = sent.token;
            }
        }
        Op::Revoke(i) => {
            if *i >= model.invitations.len() {
                return Ok(());
            }
            let pending =
                model.invitations[*i].stored == Stored::Pending && !model.overdue(*i, now);
            let id = model.invitations[*i].id;
            let revoked = w.service.revoke(w.business.id, id, w.admin.id);
            let expected = if pending {
                Ok(())
            } else {
                Err((ErrorCode::InvitationNotPending, None))
            };
            prop_assert_eq!(answer(&revoked), expected, "revoke {}", i);
            if pending {
                model.invitations[*i].stored = Stored::Closed;
            }
        }
        Op::Accept(i) => {
            if *i >= model.invitations.len() {
                return Ok(());
            }
            let inv = &model.invitations[*i];
            let expected = match inv.stored {
                Stored::Pending if now < inv.expires_at => Ok(()),
                Stored::Pending | Stored::Expired => Err((ErrorCode::InvitationExpired, None)),
                Stored::Closed => Err((ErrorCode::InvalidToken, None)),
            };
            let accepted = w.service.accept(&AcceptRequest::new(inv.token.expose()));
            prop_assert_eq!(answer(&accepted), expected, "accept {}", i);
            if accepted.is_ok() {
                let person = inv.person;
                model.invitations[*i].stored = Stored::Closed;
                model.members.push(person);
            }
        }
        Op::Sweep => {
            w.service
                .expire_overdue()
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            model.sweep(now);
        }
        Op::Advance(minutes) => w.clock.advance(Duration::minutes(*minutes)),
    }
    Ok(())
}

/// Runs the property on fresh stores from `factory`.
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    let strategy = (
        1..7u32,
        prop_oneof![Just(0i64), Just(60), Just(3600)],
        1..5u32,
        prop::collection::vec(op(), 1..40),
    );
    crate::common::check_property(
        "the limits differ from the model",
        "INVITE_LIMITS_CASES",
        32,
        &strategy,
        |(budget, cooldown, pending_cap, ops)| {
            let Some(store) = factory() else {
                return Ok(());
            };
            let config = invite_core::Config {
                limits: Limits {
                    invites_per_inviter_per_day: Some(budget),
                    resend_cooldown: Duration::seconds(cooldown),
                    pending_per_business: Some(pending_cap),
                },
                ..crate::common::config()
            };
            let w = World::with_config(store, config, None);
            let mut model = Model {
                budget,
                cooldown: Duration::seconds(cooldown),
                pending_cap,
                invitations: Vec::new(),
                members: Vec::new(),
                mailed: Vec::new(),
            };
            for op in &ops {
                step(&w, &mut model, op)?;
            }
            Ok(())
        },
    );
}
