//! `InMemoryStore`: the zero-setup default. One mutex-guarded state; a transaction
//! holds the lock (so transactions are serial) and keeps an undo log for rollback.
//!
//! The invitation log (invitations, events, outbox) is built to hold millions of rows
//! compactly: dense tables whose rows keep their insertion slot ([`table`]), indexes that
//! hold 4-byte slots ([`slot_index`], [`chains`], [`time_index`]), shared ids interned
//! ([`interner`]) and strings packed ([`packed_text`]). The directory (users, tenants,
//! memberships, …) is kept in plain maps ([`directory`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use hashbrown::HashMap;

use super::{Store, Transaction};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{ApplicationId, BusinessId, MembershipId, RoleId, SubscriptionId, UserId};
use crate::model::{
    Application, Business, IdempotencyRecord, Membership, Role, SeatCounts, Subscription, User,
};

mod chains;
mod directory;
mod events;
mod interner;
mod invitations;
mod outbox;
mod packed_text;
mod slot_index;
mod table;
mod time_index;

use directory::{put, set_flag};
use events::EventLog;
use interner::Interner;
use invitations::{InvitationRow, Invitations};
use outbox::{MessageRow, Outbox};
use table::{IndexedTable, Slot};

/// A store in process memory, safe to share across threads. Nothing survives the process.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        InMemoryStore::default()
    }
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryStore").finish_non_exhaustive()
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

#[derive(Debug, Default)]
struct State {
    // The directory.
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
    idempotency: HashMap<(BusinessId, String), IdempotencyRecord>,
    /// The records by expiry, so a purge reads only the expired ones.
    idempotency_by_expiry: BTreeSet<(DateTime<Utc>, BusinessId, String)>,
    // The invitation log.
    /// The ids its rows share.
    refs: Interner,
    invitations: Invitations,
    events: EventLog,
    outbox: Outbox,
}

/// One reversible change: what to restore. Old values are boxed so that the log of a
/// large batch (mostly inserts, which restore nothing) stays small.
#[derive(Debug)]
enum Undo {
    User(UserId, Option<Box<User>>),
    Business(BusinessId, Option<Box<Business>>),
    App(ApplicationId, Option<Box<Application>>),
    Enabled(BusinessId, ApplicationId, bool),
    Admin(BusinessId, UserId, bool),
    Subscription(SubscriptionId, Option<Box<Subscription>>),
    Seats(SubscriptionId, Option<SeatCounts>),
    Role(RoleId, Option<Box<Role>>),
    Membership(MembershipId, Option<Box<Membership>>),
    Idempotency(BusinessId, String, Option<Box<IdempotencyRecord>>),
    /// The newest invitation was inserted: remove it.
    InvitationInserted,
    /// The invitation at the slot was replaced: put the old row back.
    InvitationReplaced(Slot, Box<InvitationRow>),
    /// The newest event was appended: remove it.
    EventAppended,
    /// The newest message was enqueued: remove it.
    MessageEnqueued,
    /// The message at the slot was replaced: put the old row back.
    MessageReplaced(Slot, Box<MessageRow>),
}

impl State {
    fn apply(&mut self, undo: Undo) {
        match undo {
            Undo::User(id, old) => {
                self.put_user(id, old.map(|user| *user));
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
                self.put_membership(id, old.map(|membership| *membership));
            }
            Undo::Idempotency(b, key, old) => {
                self.put_idempotency(b, key, old.map(|record| *record));
            }
            Undo::InvitationInserted => self.invitations.remove_newest(),
            Undo::InvitationReplaced(slot, old) => {
                self.invitations.replace(slot, *old);
            }
            Undo::EventAppended => self.events.remove_newest(),
            Undo::MessageEnqueued => self.outbox.remove_newest(),
            Undo::MessageReplaced(slot, old) => {
                self.outbox.replace(slot, *old);
            }
        }
    }
}

/// Index upkeep checks for tests: `Err` names the first index that disagrees with its
/// table.
#[cfg(test)]
type Checked = std::result::Result<(), String>;

#[cfg(test)]
fn expect_count(index: &str, found: usize, expected: usize) -> Checked {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{index}: {found} entries, expected {expected}"))
    }
}

#[cfg(test)]
impl State {
    /// Every index of the invitation log matches its table.
    fn check_indexes(&self) -> Checked {
        self.invitations.check_indexes()?;
        self.events.check_indexes()?;
        self.outbox.check_indexes()
    }
}

fn already_exists(what: &str) -> Error {
    Error::new(ErrorCode::AlreadyExists, format!("{what} already exists"))
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

#[cfg(test)]
mod log_tests;

#[cfg(test)]
mod tests {

    /// What a pending invitation costs (PERF.md: a million of them in under 1 GB): its row,
    /// its two events and its outbox row, before their text and index entries.
    #[test]
    fn rows_stay_compact() {
        assert!(std::mem::size_of::<super::InvitationRow>() <= 168);
        assert!(std::mem::size_of::<super::events::EventRow>() <= 56);
        assert!(std::mem::size_of::<super::MessageRow>() <= 88);
        assert!(std::mem::size_of::<super::Undo>() <= 48);
    }
}
