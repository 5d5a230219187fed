//! A proptest state machine: random sequences of send (to a new or an existing user),
//! bulk send, keyed send, resend, revoke, decline, accept, replayed old token, sweep,
//! clock advance, dispatch (with failing mailers), failed email retried, direct
//! membership added and removed, seat cap changed, subscription suspended and
//! reactivated, against a simple reference model. After every step: the outcome matches
//! the model, used + reserved <= cap, counters equal a recount, at most one pending
//! invitation per email, exactly the pending, unexpired invitations have a valid token,
//! and every invitation's emails agree with its delivery status.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use invite_core::{
    AcceptRequest, BulkInvitee, CapturingMailer, DeliveryState, ErrorCode, FailingMailer,
    InvitationFilter, InvitationId, InvitationStatus, MembershipId, OutboxState, PageRequest,
    Store, SubscriptionChanges, Token,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::{World, person};
use crate::contract::code;

const EMAILS: usize = 4;
const CAP: u32 = 3;

#[derive(Clone, Debug)]
enum Op {
    Send(usize),
    /// A send to the person's user by id, once the person has one.
    SendExisting(usize),
    SendKeyed(usize, usize),
    Bulk(Vec<usize>),
    Resend(usize),
    Revoke(usize),
    Decline(usize),
    Accept(usize),
    AcceptOldToken(usize),
    Sweep,
    Advance(i64),
    Dispatch(u32),
    /// The admin gives the person a seat directly (`add_membership`).
    AddMember(usize),
    /// The admin takes the person's seat away (`remove_membership`).
    RemoveMember(usize),
    /// The admin sets the seat cap.
    SetCap(u32),
    /// The admin suspends (true) or reactivates (false) the subscription.
    Suspend(bool),
    /// The admin queues an invitation's failed email again.
    RetryDelivery(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..EMAILS).prop_map(Op::Send),
        2 => (0..EMAILS).prop_map(Op::SendExisting),
        2 => (0..EMAILS, 0..3usize).prop_map(|(e, k)| Op::SendKeyed(e, k)),
        1 => proptest::collection::vec(0..EMAILS, 1..5).prop_map(Op::Bulk),
        2 => (0..8usize).prop_map(Op::Resend),
        1 => (0..8usize).prop_map(Op::Revoke),
        1 => (0..8usize).prop_map(Op::Decline),
        3 => (0..8usize).prop_map(Op::Accept),
        1 => (0..8usize).prop_map(Op::AcceptOldToken),
        1 => Just(Op::Sweep),
        2 => prop_oneof![Just(1i64), Just(24), Just(24 * 7), Just(24 * 8)].prop_map(Op::Advance),
        1 => (0..3u32).prop_map(Op::Dispatch),
        2 => (0..EMAILS).prop_map(Op::AddMember),
        1 => (0..EMAILS).prop_map(Op::RemoveMember),
        1 => (1..=CAP + 1).prop_map(Op::SetCap),
        1 => any::<bool>().prop_map(Op::Suspend),
        2 => (0..8usize).prop_map(Op::RetryDelivery),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stored {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

#[derive(Debug)]
struct ModelInvitation {
    id: InvitationId,
    email: usize,
    stored: Stored,
    expires_at: DateTime<Utc>,
    token: Token,
    old_tokens: Vec<Token>,
}

#[derive(Debug)]
struct Model {
    invitations: Vec<ModelInvitation>,
    /// Who holds a seat, and its membership.
    members: HashMap<usize, MembershipId>,
    keys: HashMap<usize, (usize, usize, DateTime<Utc>)>,
    cap: u32,
    suspended: bool,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            invitations: Vec::new(),
            members: HashMap::new(),
            keys: HashMap::new(),
            cap: CAP,
            suspended: false,
        }
    }
}

type Outcome = Result<(), ErrorCode>;

impl Model {
    fn effective(&self, i: usize, now: DateTime<Utc>) -> Stored {
        let inv = &self.invitations[i];
        if inv.stored == Stored::Pending && now >= inv.expires_at {
            Stored::Expired
        } else {
            inv.stored
        }
    }

    fn pending_count(&self) -> u32 {
        self.invitations
            .iter()
            .filter(|i| i.stored == Stored::Pending)
            .count() as u32
    }

    fn held(&self) -> u32 {
        self.members.len() as u32 + self.pending_count()
    }

    fn free(&self) -> u32 {
        self.cap.saturating_sub(self.held())
    }

    /// Stored-pending invitations past their expiry at `now`.
    fn overdue_count(&self, now: DateTime<Utc>) -> u32 {
        self.invitations
            .iter()
            .filter(|i| i.stored == Stored::Pending && now >= i.expires_at)
            .count() as u32
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        for inv in &mut self.invitations {
            if inv.stored == Stored::Pending && now >= inv.expires_at {
                inv.stored = Stored::Expired;
            }
        }
    }

    fn reserve(&mut self, now: DateTime<Utc>) -> Outcome {
        if self.free() == 0 {
            self.sweep(now);
        }
        if self.free() == 0 {
            Err(ErrorCode::SeatLimitReached)
        } else {
            Ok(())
        }
    }

    /// Predicts a send; on success the caller records the new invitation.
    fn send(&mut self, email: usize, now: DateTime<Utc>) -> Outcome {
        if self.suspended {
            return Err(ErrorCode::SubscriptionInactive);
        }
        self.take_seat(email, now)
    }

    /// The checks a new seat or reservation for `email` passes, in the service's order
    /// (a send's, after the subscription's status; a direct membership's, which does not
    /// look at the status): a seat held, an invitation pending (one past its expiry
    /// is expired on the spot), a seat free (overdue invitations swept to make one).
    fn take_seat(&mut self, email: usize, now: DateTime<Utc>) -> Outcome {
        if self.members.contains_key(&email) {
            return Err(ErrorCode::AlreadyMember);
        }
        if let Some(i) = self
            .invitations
            .iter()
            .position(|i| i.email == email && i.stored == Stored::Pending)
        {
            if now < self.invitations[i].expires_at {
                return Err(ErrorCode::AlreadyInvited);
            }
            self.invitations[i].stored = Stored::Expired;
        }
        self.reserve(now)
    }

    /// Predicts a cap change: below the seats held it is refused, unless sweeping the
    /// overdue invitations makes room (a refused change rolls its sweep back).
    fn set_cap(&mut self, cap: u32, now: DateTime<Utc>) -> Outcome {
        if self.held() > cap {
            if self.held() - self.overdue_count(now) > cap {
                return Err(ErrorCode::SeatLimitReached);
            }
            self.sweep(now);
        }
        self.cap = cap;
        Ok(())
    }
}

fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

struct Run {
    w: World,
    model: Model,
}

impl Run {
    fn now(&self) -> DateTime<Utc> {
        self.w.clock_now()
    }

    fn record(&mut self, email: usize, sent: invite_core::SentInvitation) {
        self.model.invitations.push(ModelInvitation {
            id: sent.invitation.id,
            email,
            stored: Stored::Pending,
            expires_at: sent.invitation.expires_at,
            token: sent.token,
            old_tokens: Vec::new(),
        });
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now();
        let w = &self.w;
        match op {
            Op::Send(e) => {
                let expected = self.model.send(*e, now);
                let actual = w.service.send(&w.invite_new("P", "Q", &email(*e)));
                prop_assert_eq!(code(&actual), expected, "send {}", e);
                if let Ok(sent) = actual {
                    self.record(*e, sent);
                }
            }
            Op::SendExisting(e) => {
                let Some(user) = w
                    .service
                    .find_user_by_email(&email(*e))
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
                else {
                    return Ok(());
                };
                let expected = self.model.send(*e, now);
                let actual = w.service.send(&w.invite_existing(&user));
                prop_assert_eq!(code(&actual), expected, "send to existing {}", e);
                if let Ok(sent) = actual {
                    self.record(*e, sent);
                }
            }
            Op::SendKeyed(e, key) => {
                let request = w
                    .invite_new("P", "Q", &email(*e))
                    .idempotency_key(&format!("key-{key}"));
                let remembered = self
                    .model
                    .keys
                    .get(key)
                    .copied()
                    .filter(|(_, _, at)| now < *at + Duration::hours(24));
                let actual = w.service.send(&request);
                match remembered {
                    Some((first_email, idx, _)) if first_email == *e => {
                        let sent = actual
                            .map_err(|e| TestCaseError::fail(format!("replay failed: {e:?}")))?;
                        prop_assert!(sent.replayed);
                        prop_assert_eq!(sent.invitation.id, self.model.invitations[idx].id);
                    }
                    Some(_) => prop_assert_eq!(code(&actual), Err(ErrorCode::IdempotencyConflict)),
                    None => {
                        let expected = self.model.send(*e, now);
                        prop_assert_eq!(code(&actual), expected, "keyed send {}", e);
                        if let Ok(sent) = actual {
                            self.record(*e, sent);
                            self.model
                                .keys
                                .insert(*key, (*e, self.model.invitations.len() - 1, now));
                        }
                    }
                }
            }
            Op::Bulk(emails) => {
                let rows = emails
                    .iter()
                    .map(|e| BulkInvitee::new_user("B", "B", &email(*e)))
                    .collect();
                let request = w.bulk_request(w.subscription.id, rows);
                let result = w.service.bulk_send(&request);
                if self.model.suspended {
                    prop_assert_eq!(code(&result), Err(ErrorCode::SubscriptionInactive));
                    return self.check();
                }
                let result =
                    result.map_err(|e| TestCaseError::fail(format!("bulk failed: {e:?}")))?;
                for (e, row) in emails.iter().zip(result.rows) {
                    let expected = self.model.send(*e, now);
                    prop_assert_eq!(
                        row.as_ref().map(|_| ()).map_err(|r| r.code),
                        expected,
                        "bulk row {}",
                        e
                    );
                    if let Ok(sent) = row {
                        self.record(*e, sent);
                    }
                }
            }
            Op::Resend(i) => {
                let Some(inv) = self.model.invitations.get(*i) else {
                    return Ok(());
                };
                let expected = match self.model.effective(*i, now) {
                    Stored::Pending | Stored::Expired if self.model.suspended => {
                        Err(ErrorCode::SubscriptionInactive)
                    }
                    Stored::Pending | Stored::Expired
                        if self.model.members.contains_key(&inv.email) =>
                    {
                        Err(ErrorCode::AlreadyMember)
                    }
                    Stored::Pending | Stored::Expired if inv.stored == Stored::Pending => Ok(()),
                    // Revived as a send would take its seat: a live newer invitation to
                    // the same person refuses, an overdue one is expired on the spot.
                    Stored::Expired => {
                        let email = inv.email;
                        self.model.take_seat(email, now)
                    }
                    _ => Err(ErrorCode::InvitationNotPending),
                };
                let id = self.model.invitations[*i].id;
                let actual = w.service.resend(w.business.id, id, w.admin.id, None);
                prop_assert_eq!(code(&actual), expected, "resend {}", i);
                if let Ok(sent) = actual {
                    let inv = &mut self.model.invitations[*i];
                    inv.stored = Stored::Pending;
                    inv.expires_at = sent.invitation.expires_at;
                    inv.old_tokens
                        .push(std::mem::replace(&mut inv.token, sent.token));
                }
            }
            Op::Revoke(i) => {
                let Some(inv) = self.model.invitations.get(*i) else {
                    return Ok(());
                };
                let pending = self.model.effective(*i, now) == Stored::Pending;
                let actual = w.service.revoke(w.business.id, inv.id, w.admin.id);
                prop_assert_eq!(
                    code(&actual),
                    if pending {
                        Ok(())
                    } else {
                        Err(ErrorCode::InvitationNotPending)
                    }
                );
                if pending {
                    self.model.invitations[*i].stored = Stored::Revoked;
                }
            }
            Op::Decline(i) | Op::Accept(i) => {
                let Some(inv) = self.model.invitations.get(*i) else {
                    return Ok(());
                };
                let accept = matches!(op, Op::Accept(_));
                let expected = match self.model.effective(*i, now) {
                    Stored::Pending if accept && self.model.suspended => {
                        Err(ErrorCode::SubscriptionInactive)
                    }
                    Stored::Pending if accept && self.model.members.contains_key(&inv.email) => {
                        Err(ErrorCode::AlreadyMember)
                    }
                    Stored::Pending => Ok(()),
                    Stored::Expired => Err(ErrorCode::InvitationExpired),
                    _ => Err(ErrorCode::InvalidToken),
                };
                let token = inv.token.expose().to_owned();
                let (actual, membership) = if accept {
                    let accepted = w.service.accept(&AcceptRequest::new(token));
                    (code(&accepted), accepted.ok().map(|a| a.membership.id))
                } else {
                    (code(&w.service.decline(&token)), None)
                };
                prop_assert_eq!(actual, expected, "{:?}", op);
                if actual.is_ok() {
                    let inv = &mut self.model.invitations[*i];
                    inv.stored = if accept {
                        Stored::Accepted
                    } else {
                        Stored::Declined
                    };
                    if let Some(membership) = membership {
                        self.model.members.insert(inv.email, membership);
                    }
                }
            }
            Op::AcceptOldToken(i) => {
                let Some(inv) = self.model.invitations.get(*i) else {
                    return Ok(());
                };
                for old in &inv.old_tokens {
                    prop_assert_eq!(
                        code(&w.service.accept(&AcceptRequest::new(old.expose()))),
                        Err(ErrorCode::InvalidToken)
                    );
                }
            }
            Op::Sweep => {
                w.service
                    .expire_overdue()
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                self.model.sweep(now);
            }
            Op::Advance(hours) => w.clock.advance(Duration::hours(*hours)),
            Op::Dispatch(failures) => {
                let mails = if *failures > 0 {
                    let failing = FailingMailer::new(*failures);
                    w.service
                        .dispatch_outbox(&failing)
                        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    failing.delivered()
                } else {
                    let capture = CapturingMailer::new();
                    w.service
                        .dispatch_outbox(&capture)
                        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    capture.sent()
                };
                for mail in mails {
                    let inv = w
                        .service
                        .get_invitation(w.business.id, mail.invitation_id)
                        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                    prop_assert_eq!(
                        inv.status,
                        InvitationStatus::Pending,
                        "mail only for pending invitations"
                    );
                    // A resend supersedes the email still waiting: only the live token
                    // is ever mailed, never one a resend killed.
                    let model = self.model.invitations.iter().find(|i| i.id == inv.id);
                    let live = model.map(|i| w.service.accept_link(&i.token));
                    prop_assert_eq!(
                        Some(&mail.accept_link),
                        live.as_ref(),
                        "mail with a dead token"
                    );
                    prop_assert_eq!(mail.expires_at, inv.expires_at);
                }
            }
            Op::AddMember(e) => {
                let known = w
                    .service
                    .find_user_by_email(&email(*e))
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                let user = match known {
                    Some(user) => user,
                    None => w
                        .service
                        .create_user(&person("M", "N", &email(*e)))
                        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?,
                };
                let expected = self.model.take_seat(*e, now);
                let actual = w.service.add_membership(
                    w.business.id,
                    w.subscription.id,
                    user.id,
                    w.member.id,
                );
                prop_assert_eq!(code(&actual), expected, "add member {}", e);
                if let Ok(membership) = actual {
                    self.model.members.insert(*e, membership.id);
                }
            }
            Op::RemoveMember(e) => {
                let Some(id) = self.model.members.remove(e) else {
                    return Ok(());
                };
                let actual = w.service.remove_membership(w.business.id, id);
                prop_assert_eq!(code(&actual), Ok(()), "remove member {}", e);
            }
            Op::SetCap(cap) => {
                let expected = self.model.set_cap(*cap, now);
                let changes = SubscriptionChanges {
                    seats: Some(Some(*cap)),
                    ..SubscriptionChanges::default()
                };
                let actual =
                    w.service
                        .change_subscription(w.business.id, w.subscription.id, &changes);
                prop_assert_eq!(code(&actual), expected, "cap {}", cap);
            }
            Op::RetryDelivery(i) => {
                let Some(inv) = self.model.invitations.get(*i) else {
                    return Ok(());
                };
                let failed = w
                    .service
                    .invitation_messages(w.business.id, inv.id)
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
                    .iter()
                    .any(|m| m.state == OutboxState::Failed);
                let expected = if self.model.effective(*i, now) == Stored::Pending && failed {
                    Ok(())
                } else {
                    Err(ErrorCode::InvitationNotPending)
                };
                let actual = w.service.retry_delivery(w.business.id, inv.id, w.admin.id);
                prop_assert_eq!(code(&actual), expected, "retry delivery {}", i);
            }
            Op::Suspend(suspended) => {
                let actual = w.set_suspended(w.subscription.id, *suspended);
                prop_assert_eq!(code(&actual), Ok(()), "suspend {}", suspended);
                self.model.suspended = *suspended;
            }
        }
        self.check()
    }

    /// The invitation's emails (invariant 7): one per send and resend, at most one
    /// waiting, none waiting once the invitation left pending, and the invitation's
    /// delivery status is its latest email's.
    fn check_delivery(&self, inv: &ModelInvitation) -> Result<(), TestCaseError> {
        let w = &self.w;
        let fail = |e: invite_core::Error| TestCaseError::fail(format!("{e:?}"));
        let messages = w
            .service
            .invitation_messages(w.business.id, inv.id)
            .map_err(fail)?;
        let current = w
            .service
            .get_invitation(w.business.id, inv.id)
            .map_err(fail)?;
        prop_assert_eq!(
            messages.len(),
            current.send_count as usize,
            "one email per send"
        );
        let waiting = messages
            .iter()
            .filter(|m| m.state == OutboxState::Queued)
            .count();
        prop_assert!(waiting <= 1, "two emails waiting for one invitation");
        if inv.stored != Stored::Pending {
            prop_assert_eq!(waiting, 0, "an email waiting for a closed invitation");
        }
        if let Some(latest) = messages.last() {
            prop_assert!(
                messages[..messages.len() - 1]
                    .iter()
                    .all(|m| m.state != OutboxState::Queued),
                "an older email still waiting"
            );
            let state = match latest.state {
                OutboxState::Queued => Some(DeliveryState::Queued),
                OutboxState::Sent => Some(DeliveryState::Sent),
                OutboxState::Failed => Some(DeliveryState::Failed),
                OutboxState::Cancelled => None,
            };
            if let Some(state) = state {
                prop_assert_eq!(current.delivery.state, state, "delivery status");
                prop_assert_eq!(current.delivery.attempts, latest.attempts);
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let w = &self.w;
        let now = self.now();
        let usage = w.usage();
        prop_assert_eq!(usage.total, Some(self.model.cap));
        prop_assert!(
            usage.used + usage.reserved <= self.model.cap,
            "oversold: {:?}",
            usage
        );
        let recount = w
            .service
            .recount_seats(w.business.id, w.subscription.id)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(
            (usage.used, usage.reserved),
            (recount.used, recount.reserved),
            "counters drifted"
        );
        prop_assert_eq!(usage.reserved, self.model.pending_count());
        prop_assert_eq!(usage.used, self.model.members.len() as u32);
        for e in 0..EMAILS {
            let filter = InvitationFilter {
                status: Some(InvitationStatus::Pending),
                email: Some(email(e)),
                ..Default::default()
            };
            let pending = w
                .service
                .list_invitations(w.business.id, &filter, &PageRequest::first(50))
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert!(
                pending.items.len() <= 1,
                "two pending invitations for {}",
                email(e)
            );
        }
        for inv in &self.model.invitations {
            self.check_delivery(inv)?;
        }
        for (i, inv) in self.model.invitations.iter().enumerate() {
            let live = self.model.effective(i, now) == Stored::Pending;
            prop_assert_eq!(
                w.service.peek(inv.token.expose()).is_ok() && live,
                live,
                "token validity of {}",
                i
            );
            if !matches!(
                self.model.effective(i, now),
                Stored::Pending | Stored::Expired
            ) {
                prop_assert!(w.service.peek(inv.token.expose()).is_err());
            }
            for old in &inv.old_tokens {
                prop_assert!(
                    w.service.peek(old.expose()).is_err(),
                    "an old token is still valid"
                );
            }
        }
        Ok(())
    }
}

/// The test world's configuration, with two delivery attempts per email so that runs
/// reach emails given up on.
fn model_config() -> invite_core::Config {
    let mut config = crate::common::config();
    config.delivery.max_attempts = 2;
    config
}

/// Runs the state machine on fresh stores from `factory`.
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    crate::common::check_property(
        "state machine failed",
        "INVITE_MODEL_CASES",
        48,
        &proptest::collection::vec(op(), 1..40),
        |ops| {
            let Some(store) = factory() else {
                return Ok(());
            };
            let mut run = Run {
                w: World::with_config(store, model_config(), Some(CAP)),
                model: Model::default(),
            };
            for op in &ops {
                run.step(op)?;
            }
            Ok(())
        },
    );
}
