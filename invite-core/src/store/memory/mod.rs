//! `InMemoryStore`: the zero-setup default. One mutex-guarded state; a transaction
//! holds the lock (so transactions are serial) and keeps an undo log for rollback.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{Store, Transaction};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
use crate::model::{
    Application, Business, Event, IdempotencyRecord, InvitationRecord, Membership, OutboxMessage,
    OutboxState, Role, SeatCounts, Subscription, User,
};
use crate::token::TokenHash;

mod repos;

/// A store in process memory, safe to share across threads. Nothing survives the process.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        InMemoryStore::default()
    }
}

impl Store for InMemoryStore {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let guard = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(Box::new(MemoryTx {
            state: guard,
            undo: Vec::new(),
        }))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

type PendingKey = (BusinessId, SubscriptionId, String);

#[derive(Debug, Default)]
struct State {
    users: HashMap<UserId, User>,
    user_by_key: HashMap<String, UserId>,
    user_ids: BTreeSet<UserId>,
    user_search: BTreeSet<(String, UserId)>,
    businesses: BTreeMap<BusinessId, Business>,
    apps: BTreeMap<ApplicationId, Application>,
    enabled: BTreeSet<(BusinessId, ApplicationId)>,
    admins: BTreeSet<(BusinessId, UserId)>,
    admin_of: BTreeSet<(UserId, BusinessId)>,
    subscriptions: BTreeMap<SubscriptionId, Subscription>,
    seats: HashMap<SubscriptionId, SeatCounts>,
    roles: BTreeMap<RoleId, Role>,
    memberships: BTreeMap<MembershipId, Membership>,
    membership_by_seat: HashMap<(SubscriptionId, UserId), MembershipId>,
    memberships_by_user: BTreeSet<(UserId, MembershipId)>,
    invitations: BTreeMap<InvitationId, InvitationRecord>,
    invitation_by_token: HashMap<TokenHash, InvitationId>,
    pending_by_key: HashMap<PendingKey, InvitationId>,
    pending_by_expiry: BTreeSet<(DateTime<Utc>, InvitationId)>,
    pending_per_business: HashMap<BusinessId, u32>,
    pending_per_subscription: HashMap<SubscriptionId, u32>,
    created_by_inviter: BTreeSet<(UserId, DateTime<Utc>, InvitationId)>,
    events: BTreeMap<EventId, Event>,
    events_by_invitation: BTreeSet<(InvitationId, EventId)>,
    outbox: BTreeMap<MessageId, OutboxMessage>,
    outbox_due: BTreeSet<(DateTime<Utc>, MessageId)>,
    outbox_by_invitation: BTreeSet<(InvitationId, MessageId)>,
    idempotency: HashMap<(BusinessId, String), IdempotencyRecord>,
}

/// One reversible change: the key and the value it had before.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "undo entries are short-lived; boxing would cost an allocation per write"
)]
enum Undo {
    User(UserId, Option<User>),
    Business(BusinessId, Option<Business>),
    App(ApplicationId, Option<Application>),
    Enabled(BusinessId, ApplicationId, bool),
    Admin(BusinessId, UserId, bool),
    Subscription(SubscriptionId, Option<Subscription>),
    Seats(SubscriptionId, Option<SeatCounts>),
    Role(RoleId, Option<Role>),
    Membership(MembershipId, Option<Membership>),
    Invitation(InvitationId, Option<InvitationRecord>),
    Event(EventId, Option<Event>),
    Message(MessageId, Option<OutboxMessage>),
    Idempotency(BusinessId, String, Option<IdempotencyRecord>),
}

impl State {
    fn put_user(&mut self, id: UserId, user: Option<User>) -> Option<User> {
        let old = match user {
            Some(user) => self.users.insert(id, user),
            None => self.users.remove(&id),
        };
        if let Some(old) = &old {
            self.user_by_key.remove(&old.email_key);
            self.user_ids.remove(&id);
            for key in old.search_keys() {
                self.user_search.remove(&(key, id));
            }
        }
        if let Some(new) = self.users.get(&id) {
            self.user_by_key.insert(new.email_key.clone(), id);
            self.user_ids.insert(id);
            for key in new.search_keys() {
                self.user_search.insert((key, id));
            }
        }
        old
    }

    fn put_membership(
        &mut self,
        id: MembershipId,
        value: Option<Membership>,
    ) -> Option<Membership> {
        let old = match value {
            Some(m) => self.memberships.insert(id, m),
            None => self.memberships.remove(&id),
        };
        if let Some(old) = &old {
            self.membership_by_seat
                .remove(&(old.subscription_id, old.user_id));
            self.memberships_by_user.remove(&(old.user_id, id));
        }
        if let Some(new) = self.memberships.get(&id) {
            self.membership_by_seat
                .insert((new.subscription_id, new.user_id), id);
            self.memberships_by_user.insert((new.user_id, id));
        }
        old
    }

    fn put_invitation(
        &mut self,
        id: InvitationId,
        value: Option<InvitationRecord>,
    ) -> Option<InvitationRecord> {
        let old = match value {
            Some(r) => self.invitations.insert(id, r),
            None => self.invitations.remove(&id),
        };
        if let Some(old) = &old {
            self.invitation_by_token.remove(&old.token_hash);
            let inv = &old.invitation;
            self.created_by_inviter
                .remove(&(inv.inviter_id, inv.created_at, id));
            if inv.holds_reservation() {
                self.pending_by_key.remove(&(
                    inv.business_id,
                    inv.subscription_id,
                    inv.email_key.clone(),
                ));
                self.pending_by_expiry.remove(&(inv.expires_at, id));
                decrement(&mut self.pending_per_business, inv.business_id);
                decrement(&mut self.pending_per_subscription, inv.subscription_id);
            }
        }
        if let Some(new) = self.invitations.get(&id) {
            self.invitation_by_token.insert(new.token_hash, id);
            let inv = &new.invitation;
            self.created_by_inviter
                .insert((inv.inviter_id, inv.created_at, id));
            if inv.holds_reservation() {
                self.pending_by_key.insert(
                    (inv.business_id, inv.subscription_id, inv.email_key.clone()),
                    id,
                );
                self.pending_by_expiry.insert((inv.expires_at, id));
                *self
                    .pending_per_business
                    .entry(inv.business_id)
                    .or_default() += 1;
                *self
                    .pending_per_subscription
                    .entry(inv.subscription_id)
                    .or_default() += 1;
            }
        }
        old
    }

    fn put_event(&mut self, id: EventId, value: Option<Event>) -> Option<Event> {
        let old = match value {
            Some(e) => self.events.insert(id, e),
            None => self.events.remove(&id),
        };
        if let Some(old) = &old {
            self.events_by_invitation.remove(&(old.invitation_id, id));
        }
        if let Some(new) = self.events.get(&id) {
            self.events_by_invitation.insert((new.invitation_id, id));
        }
        old
    }

    fn put_message(
        &mut self,
        id: MessageId,
        value: Option<OutboxMessage>,
    ) -> Option<OutboxMessage> {
        let old = match value {
            Some(m) => self.outbox.insert(id, m),
            None => self.outbox.remove(&id),
        };
        if let Some(old) = &old {
            self.outbox_due.remove(&(old.next_attempt_at, id));
            self.outbox_by_invitation.remove(&(old.invitation_id, id));
        }
        if let Some(new) = self.outbox.get(&id) {
            if new.state == OutboxState::Queued {
                self.outbox_due.insert((new.next_attempt_at, id));
            }
            self.outbox_by_invitation.insert((new.invitation_id, id));
        }
        old
    }

    fn apply(&mut self, undo: Undo) {
        match undo {
            Undo::User(id, old) => {
                self.put_user(id, old);
            }
            Undo::Business(id, old) => put(&mut self.businesses, id, old),
            Undo::App(id, old) => put(&mut self.apps, id, old),
            Undo::Enabled(b, a, was) => {
                set_flag(&mut self.enabled, (b, a), was);
            }
            Undo::Admin(b, u, was) => {
                set_flag(&mut self.admins, (b, u), was);
                set_flag(&mut self.admin_of, (u, b), was);
            }
            Undo::Subscription(id, old) => put(&mut self.subscriptions, id, old),
            Undo::Seats(id, old) => match old {
                Some(counts) => {
                    self.seats.insert(id, counts);
                }
                None => {
                    self.seats.remove(&id);
                }
            },
            Undo::Role(id, old) => put(&mut self.roles, id, old),
            Undo::Membership(id, old) => {
                self.put_membership(id, old);
            }
            Undo::Invitation(id, old) => {
                self.put_invitation(id, old);
            }
            Undo::Event(id, old) => {
                self.put_event(id, old);
            }
            Undo::Message(id, old) => {
                self.put_message(id, old);
            }
            Undo::Idempotency(b, key, old) => match old {
                Some(record) => {
                    self.idempotency.insert((b, key), record);
                }
                None => {
                    self.idempotency.remove(&(b, key));
                }
            },
        }
    }
}

fn put<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, value: Option<V>) {
    match value {
        Some(v) => {
            map.insert(key, v);
        }
        None => {
            map.remove(&key);
        }
    }
}

fn set_flag<T: Ord>(set: &mut BTreeSet<T>, item: T, on: bool) -> bool {
    if on {
        !set.insert(item)
    } else {
        set.remove(&item)
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n = n.saturating_sub(1);
    }
}

fn already_exists(what: &str) -> Error {
    Error::new(ErrorCode::AlreadyExists, format!("{what} already exists"))
}

/// Items of an id-ordered map strictly after `after`, at most `limit`.
fn page_after<K: Ord + Copy, V: Clone>(
    map: &BTreeMap<K, V>,
    after: Option<K>,
    limit: usize,
    keep: impl Fn(&V) -> bool,
) -> Vec<V> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((start, Bound::Unbounded))
        .map(|(_, v)| v)
        .filter(|v| keep(v))
        .take(limit)
        .cloned()
        .collect()
}

struct MemoryTx<'a> {
    state: MutexGuard<'a, State>,
    undo: Vec<Undo>,
}

impl Drop for MemoryTx<'_> {
    fn drop(&mut self) {
        while let Some(undo) = self.undo.pop() {
            self.state.apply(undo);
        }
    }
}

impl Transaction for MemoryTx<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        self.undo.clear();
        Ok(())
    }
}
