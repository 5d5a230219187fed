//! Threads doing everything at once: four threads each run a seeded random mix of
//! sends, bulk sends, accepts, declines, revokes, resends, direct memberships added and
//! removed, seat cap changes, sweeps and dispatches, for a small pool of people on two
//! subscriptions, so that they collide on the same people, seats and invitations.
//!
//! - Every call answers with a code its operation may give; none fails with a storage,
//!   internal or unique-key error (the service retries conflicts, and a duplicate is a
//!   domain answer, never the store's `ALREADY_EXISTS`).
//! - Every seat usage read, at any moment, has used + reserved within the cap it reports.
//! - Afterwards, for each subscription: the counters equal a recount, at most one
//!   invitation is pending per person, and nobody both holds a seat and has one reserved.
//!
//! And dispatchers running at once deliver every email, none twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;

use chrono::Duration;
use invite_core::{
    AcceptRequest, BulkInvitee, CapturingMailer, ErrorCode, FailingMailer, InvitationFilter,
    InvitationId, InvitationStatus, InviteService, MembershipId, PageRequest, Store,
    SubscriptionChanges, SubscriptionId,
};

use crate::common::{World, person};

const PEOPLE: usize = 8;
const THREADS: u64 = 4;
const STEPS: usize = 120;

fn email(i: usize) -> String {
    format!("chaos{i}@example.com")
}

/// A small deterministic generator per thread (the interleaving is the random part
/// that matters; the seed only varies what each thread asks for).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What the threads share: tokens and ids to act on.
#[derive(Default)]
struct Shared {
    tokens: Vec<String>,
    invitations: Vec<InvitationId>,
    memberships: Vec<MembershipId>,
}

/// Codes an operation may answer with besides success, whatever runs beside it.
fn allowed(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::AlreadyInvited
            | ErrorCode::AlreadyMember
            | ErrorCode::SeatLimitReached
            | ErrorCode::InvalidToken
            | ErrorCode::InvitationExpired
            | ErrorCode::InvitationNotPending
            | ErrorCode::NotFound
    )
}

struct Worker<'a> {
    w: &'a World,
    shared: &'a Mutex<Shared>,
    subscriptions: [SubscriptionId; 2],
    dice: Dice,
    /// Unexpected answers: (operation, code).
    bad: Vec<(&'static str, ErrorCode)>,
    /// Seat readings that broke the cap.
    oversold: Vec<String>,
}

impl Worker<'_> {
    fn service(&self) -> &InviteService {
        &self.w.service
    }

    fn note<T>(&mut self, what: &'static str, result: invite_core::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                if !allowed(e.code()) {
                    self.bad.push((what, e.code()));
                }
                None
            }
        }
    }

    fn pick<T: Clone>(&mut self, from: impl Fn(&Shared) -> &Vec<T>) -> Option<T> {
        let shared = self.shared.lock().ok()?;
        let list = from(&shared);
        if list.is_empty() {
            return None;
        }
        let i = self.dice.below(list.len());
        list.get(i).cloned()
    }

    fn remember_sent(&self, sent: &invite_core::SentInvitation) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.tokens.push(sent.token.expose().to_owned());
            shared.invitations.push(sent.invitation.id);
        }
    }

    fn step(&mut self) {
        let w = self.w;
        let subscription = self.subscriptions[self.dice.below(2)];
        let person_index = self.dice.below(PEOPLE);
        match self.dice.below(12) {
            0..=2 => {
                let request = w
                    .invite_new("C", "C", &email(person_index))
                    .subscription(subscription);
                let sent = self.service().send(&request);
                if let Some(sent) = self.note("send", sent) {
                    self.remember_sent(&sent);
                }
            }
            3 => {
                let rows = (0..3)
                    .map(|_| BulkInvitee::new_user("B", "B", &email(self.dice.below(PEOPLE))))
                    .collect();
                let result = self
                    .service()
                    .bulk_send(&w.bulk_request(subscription, rows));
                if let Some(result) = self.note("bulk send", result) {
                    for row in &result.rows {
                        match row {
                            Ok(sent) => self.remember_sent(sent),
                            Err(e) if !allowed(e.code) => self.bad.push(("bulk row", e.code)),
                            Err(_) => {}
                        }
                    }
                }
            }
            4..=5 => {
                if let Some(token) = self.pick(|s| &s.tokens) {
                    let accepted = self.service().accept(&AcceptRequest::new(token));
                    if let Some(accepted) = self.note("accept", accepted)
                        && let Ok(mut shared) = self.shared.lock()
                    {
                        shared.memberships.push(accepted.membership.id);
                    }
                }
            }
            6 => {
                if let Some(token) = self.pick(|s| &s.tokens) {
                    let declined = self.service().decline(&token);
                    self.note("decline", declined);
                }
            }
            7 => {
                if let Some(id) = self.pick(|s| &s.invitations) {
                    if self.dice.below(2) == 0 {
                        let revoked = self.service().revoke(w.business.id, id, w.admin.id);
                        self.note("revoke", revoked);
                    } else {
                        let resent = self.service().resend(w.business.id, id, w.admin.id, None);
                        if let Some(sent) = self.note("resend", resent) {
                            self.remember_sent(&sent);
                        }
                    }
                }
            }
            8 => {
                let user = match self.service().find_user_by_email(&email(person_index)) {
                    Ok(Some(user)) => Some(user),
                    Ok(None) => {
                        // Another thread may create the same person first.
                        match self
                            .service()
                            .create_user(&person("M", "M", &email(person_index)))
                        {
                            Ok(user) => Some(user),
                            Err(e) if e.code() == ErrorCode::AlreadyExists => None,
                            Err(e) => {
                                self.bad.push(("create user", e.code()));
                                None
                            }
                        }
                    }
                    Err(e) => {
                        self.bad.push(("find user", e.code()));
                        None
                    }
                };
                if let Some(user) = user {
                    let added = self.service().add_membership(
                        w.business.id,
                        subscription,
                        user.id,
                        w.member.id,
                    );
                    if let Some(m) = self.note("add membership", added)
                        && let Ok(mut shared) = self.shared.lock()
                    {
                        shared.memberships.push(m.id);
                    }
                }
            }
            9 => {
                if let Some(id) = self.pick(|s| &s.memberships) {
                    let removed = self.service().remove_membership(w.business.id, id);
                    self.note("remove membership", removed);
                }
            }
            10 => {
                let changes = SubscriptionChanges {
                    seats: Some(Some(2 + self.dice.below(4) as u32)),
                    ..SubscriptionChanges::default()
                };
                let changed = self.service().change_subscription(
                    w.business.id,
                    self.subscriptions[0],
                    &changes,
                );
                self.note("change cap", changed);
            }
            _ => {
                if self.dice.below(3) == 0 {
                    let swept = self.service().expire_overdue();
                    self.note("sweep", swept);
                } else if self.dice.below(2) == 0 {
                    let delivered = self.service().dispatch_outbox(&FailingMailer::new(1));
                    self.note("dispatch", delivered);
                } else {
                    let delivered = self.service().dispatch_outbox(&CapturingMailer::new());
                    self.note("dispatch", delivered);
                }
            }
        }
        let usage = self.service().seat_usage(w.business.id, subscription);
        if let Some(usage) = self.note("seat usage", usage)
            && usage
                .total
                .is_some_and(|cap| usage.used + usage.reserved > cap)
        {
            self.oversold.push(format!("{usage:?}"));
        }
    }
}

pub fn threads_doing_everything_keep_every_invariant(store: Arc<dyn Store>) {
    // `INVITE_CHAOS_SEED` varies what the threads ask for (a failure names its seed).
    let seed: u64 = std::env::var("INVITE_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let w = World::with_config(store, crate::common::config(), Some(4));
    let subscriptions = [w.subscription.id, w.unlimited.id];
    let shared = Mutex::new(Shared::default());
    let results: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (w, shared) = (&w, &shared);
                scope.spawn(move || {
                    let mut worker = Worker {
                        w,
                        shared,
                        subscriptions,
                        dice: Dice(seed ^ (t + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)),
                        bad: Vec::new(),
                        oversold: Vec::new(),
                    };
                    for step in 0..STEPS {
                        if t == 0 && step % 40 == 39 {
                            w.clock.advance(Duration::days(4));
                        }
                        worker.step();
                    }
                    (worker.bad, worker.oversold)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let shared = shared.into_inner().unwrap();
    assert!(
        shared.tokens.len() >= 20 && shared.memberships.len() >= 5,
        "the threads got work done: {} tokens, {} memberships",
        shared.tokens.len(),
        shared.memberships.len()
    );
    for (bad, oversold) in &results {
        assert!(bad.is_empty(), "seed {seed}: unexpected answers: {bad:?}");
        assert!(
            oversold.is_empty(),
            "seed {seed}: seats oversold: {oversold:?}"
        );
    }
    for subscription in subscriptions {
        let usage = w.service.seat_usage(w.business.id, subscription).unwrap();
        let recount = w
            .service
            .recount_seats(w.business.id, subscription)
            .unwrap();
        assert_eq!(
            (usage.used, usage.reserved),
            (recount.used, recount.reserved),
            "seed {seed}: counters drifted"
        );
        let filter = InvitationFilter {
            subscription_id: Some(subscription),
            status: Some(InvitationStatus::Pending),
            ..InvitationFilter::default()
        };
        let pending = w
            .service
            .list_invitations(w.business.id, &filter, &PageRequest::first(500))
            .unwrap()
            .items;
        let mut keys = HashSet::new();
        for invitation in &pending {
            assert!(
                keys.insert(invitation.email_key.clone()),
                "seed {seed}: two pending invitations for {}",
                invitation.email
            );
            if let Some(user) = w.service.find_user_by_email(&invitation.email).unwrap() {
                let seat = w
                    .service
                    .memberships_of_user(user.id, Some(w.business.id))
                    .unwrap()
                    .into_iter()
                    .any(|m| m.subscription_id == subscription);
                assert!(
                    !seat,
                    "{} holds a seat and has one reserved",
                    invitation.email
                );
            }
        }
    }
}

/// Four dispatchers running at once over 450 queued emails, more than four claims of up
/// to 100 (the clock stands still, so no lease runs out): between them every email is
/// delivered, and none twice.
pub fn concurrent_dispatchers_deliver_each_email_once(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), None);
    let mut expected = HashSet::new();
    let rows = (0..450)
        .map(|i| BulkInvitee::new_user("D", "D", &format!("dispatch{i}@example.com")))
        .collect();
    let sent = w
        .service
        .bulk_send(&w.bulk_request(w.unlimited.id, rows))
        .unwrap();
    for row in sent.rows {
        expected.insert(row.unwrap().invitation.id);
    }
    let mailers: Vec<CapturingMailer> = (0..4).map(|_| CapturingMailer::new()).collect();
    thread::scope(|scope| {
        for mailer in &mailers {
            let service = &w.service;
            scope.spawn(
                move || {
                    while service.dispatch_outbox(mailer).unwrap().delivered > 0 {}
                },
            );
        }
    });
    let mut delivered = HashSet::new();
    for mail in mailers.iter().flat_map(CapturingMailer::sent) {
        assert!(
            delivered.insert(mail.message_id),
            "email {} delivered twice",
            mail.message_id
        );
    }
    let invitations: HashSet<_> = mailers
        .iter()
        .flat_map(CapturingMailer::sent)
        .map(|mail| mail.invitation_id)
        .collect();
    assert_eq!(invitations, expected, "every invitation's email delivered");
}
