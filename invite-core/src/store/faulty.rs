//! `FaultyStore`: a wrapper that fails the k-th store operation, for fault-injection
//! tests ("for every k, nothing is half-written"). Not for production use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{
    EventRepo, IdempotencyRepo, InvitationQuery, InvitationRepo, MembershipRepo, OutboxRepo,
    RoleRepo, Store, SubscriptionRepo, TenantRepo, Transaction, UserKeyCursor, UserRepo,
};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
use crate::model::{
    Application, Business, Event, IdempotencyRecord, Invitation, InvitationRecord, Membership,
    OutboxMessage, Role, SeatCounts, Subscription, User,
};
use crate::token::TokenHash;

/// Wraps a store; every operation (begin, each repository call, commit) is counted and
/// the one [`FaultyStore::fail_in`] names fails with `STORAGE_UNAVAILABLE` (or the code
/// [`FaultyStore::fail_in_with`] gives, such as the `ALREADY_EXISTS` of a unique key).
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    count: AtomicU64,
    fail_at: AtomicU64,
    code: Mutex<ErrorCode>,
}

impl std::fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStore")
            .field("inner", &self.inner.kind())
            .field("count", &self.operations())
            .finish()
    }
}

impl FaultyStore {
    /// Wraps `inner` with no fault armed.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FaultyStore {
            inner,
            count: AtomicU64::new(0),
            fail_at: AtomicU64::new(0),
            code: Mutex::new(ErrorCode::StorageUnavailable),
        }
    }

    /// Operations counted so far.
    pub fn operations(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Fails the `k`-th operation from now (1 = the next one) with
    /// `STORAGE_UNAVAILABLE`.
    pub fn fail_in(&self, k: u64) {
        self.fail_in_with(k, ErrorCode::StorageUnavailable);
    }

    /// Fails the `k`-th operation from now with `code` (`ALREADY_EXISTS` stands for a
    /// unique key a write runs into).
    pub fn fail_in_with(&self, k: u64, code: ErrorCode) {
        if let Ok(mut slot) = self.code.lock() {
            *slot = code;
        }
        self.fail_at.store(self.operations() + k, Ordering::SeqCst);
    }

    /// Disarms the fault.
    pub fn disarm(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
    }

    /// Whether the armed fault has fired (the counter passed it).
    pub fn fired(&self) -> bool {
        let at = self.fail_at.load(Ordering::SeqCst);
        at != 0 && self.operations() >= at
    }

    fn tick(&self) -> Result<()> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            let code = self
                .code
                .lock()
                .map_or(ErrorCode::StorageUnavailable, |code| *code);
            Err(Error::new(code, format!("injected fault at operation {n}")))
        } else {
            Ok(())
        }
    }
}

impl Store for FaultyStore {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        self.tick()?;
        Ok(Box::new(FaultyTx {
            inner: self.inner.begin()?,
            store: self,
        }))
    }

    fn begin_read(&self) -> Result<Box<dyn Transaction + '_>> {
        self.tick()?;
        Ok(Box::new(FaultyTx {
            inner: self.inner.begin_read()?,
            store: self,
        }))
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

struct FaultyTx<'a> {
    inner: Box<dyn Transaction + 'a>,
    store: &'a FaultyStore,
}

impl Transaction for FaultyTx<'_> {
    fn commit(self: Box<Self>) -> Result<()> {
        self.store.tick()?;
        self.inner.commit()
    }
}

macro_rules! delegate {
    ($trait:ident { $( fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )* }) => {
        impl $trait for FaultyTx<'_> {
            $( fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                self.store.tick()?;
                self.inner.$name($($arg),*)
            } )*
        }
    };
}

delegate!(UserRepo {
    fn insert_user(&mut self, user: &User) -> Result<()>;
    fn update_user(&mut self, user: &User) -> Result<()>;
    fn get_user(&mut self, id: UserId) -> Result<Option<User>>;
    fn get_user_by_email_key(&mut self, key: &str) -> Result<Option<User>>;
    fn list_users(&mut self, after: Option<UserId>, limit: usize) -> Result<Vec<User>>;
    fn scan_user_keys(&mut self, prefix: &str, after: Option<&UserKeyCursor>, limit: usize) -> Result<Vec<(String, User)>>;
});

delegate!(TenantRepo {
    fn insert_business(&mut self, business: &Business) -> Result<()>;
    fn update_business(&mut self, business: &Business) -> Result<()>;
    fn get_business(&mut self, id: BusinessId) -> Result<Option<Business>>;
    fn list_businesses(&mut self) -> Result<Vec<Business>>;
    fn insert_app(&mut self, app: &Application) -> Result<()>;
    fn update_app(&mut self, app: &Application) -> Result<()>;
    fn get_app(&mut self, id: ApplicationId) -> Result<Option<Application>>;
    fn list_apps(&mut self) -> Result<Vec<Application>>;
    fn set_app_enabled(&mut self, business: BusinessId, app: ApplicationId, enabled: bool) -> Result<()>;
    fn enabled_apps(&mut self, business: BusinessId) -> Result<Vec<ApplicationId>>;
    fn is_app_enabled(&mut self, business: BusinessId, app: ApplicationId) -> Result<bool>;
    fn set_business_admin(&mut self, business: BusinessId, user: UserId, admin: bool) -> Result<()>;
    fn is_business_admin(&mut self, business: BusinessId, user: UserId) -> Result<bool>;
    fn admin_businesses(&mut self, user: UserId) -> Result<Vec<BusinessId>>;
});

delegate!(SubscriptionRepo {
    fn insert_subscription(&mut self, subscription: &Subscription) -> Result<()>;
    fn update_subscription(&mut self, subscription: &Subscription) -> Result<()>;
    fn get_subscription(&mut self, business: BusinessId, id: SubscriptionId) -> Result<Option<Subscription>>;
    fn list_subscriptions(&mut self, business: BusinessId, app: Option<ApplicationId>) -> Result<Vec<Subscription>>;
    fn seat_counts_for_update(&mut self, business: BusinessId, id: SubscriptionId) -> Result<SeatCounts>;
    fn set_seat_counts(&mut self, id: SubscriptionId, counts: SeatCounts) -> Result<()>;
});

delegate!(RoleRepo {
    fn insert_role(&mut self, role: &Role) -> Result<()>;
    fn update_role(&mut self, role: &Role) -> Result<()>;
    fn get_role(&mut self, id: RoleId) -> Result<Option<Role>>;
    fn list_roles(&mut self, app: ApplicationId) -> Result<Vec<Role>>;
});

delegate!(MembershipRepo {
    fn insert_membership(&mut self, membership: &Membership) -> Result<()>;
    fn delete_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<()>;
    fn get_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<Option<Membership>>;
    fn find_membership(&mut self, business: BusinessId, subscription: SubscriptionId, user: UserId) -> Result<Option<Membership>>;
    fn memberships_of_user(&mut self, user: UserId, business: Option<BusinessId>) -> Result<Vec<Membership>>;
    fn list_memberships(&mut self, business: BusinessId, subscription: SubscriptionId, after: Option<MembershipId>, limit: usize) -> Result<Vec<Membership>>;
    fn count_memberships(&mut self, subscription: SubscriptionId) -> Result<u32>;
});

// `seats_for_update` and `update_delivery` are left to the port's defaults (a read, then a replace), so that
// faults can fire at either step and the default itself runs in the contract suite.
delegate!(InvitationRepo {
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()>;
    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()>;
    fn get_invitation(&mut self, business: BusinessId, id: InvitationId) -> Result<Option<InvitationRecord>>;
    fn get_invitation_by_token_hash(&mut self, hash: &TokenHash) -> Result<Option<InvitationRecord>>;
    fn find_pending_invitation(&mut self, business: BusinessId, subscription: SubscriptionId, email_key: &str) -> Result<Option<InvitationRecord>>;
    fn list_invitations(&mut self, query: &InvitationQuery) -> Result<Vec<Invitation>>;
    fn overdue_pending(&mut self, now: DateTime<Utc>, subscription: Option<SubscriptionId>, limit: usize) -> Result<Vec<InvitationRecord>>;
    fn count_pending(&mut self, business: BusinessId) -> Result<u32>;
    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32>;
    fn count_overdue_pending(&mut self, now: DateTime<Utc>, subscription: SubscriptionId) -> Result<u32>;
    fn count_created_by_inviter_since(&mut self, inviter: UserId, since: DateTime<Utc>) -> Result<u32>;
});

delegate!(EventRepo {
    fn append_event(&mut self, event: &Event) -> Result<()>;
    fn list_events(&mut self, business: BusinessId, invitation: Option<InvitationId>, after: Option<EventId>, limit: usize) -> Result<Vec<Event>>;
    fn count_resent_by_actor_since(&mut self, actor: UserId, since: DateTime<Utc>) -> Result<u32>;
});

delegate!(OutboxRepo {
    fn enqueue_message(&mut self, message: &OutboxMessage) -> Result<()>;
    fn update_message(&mut self, message: &OutboxMessage) -> Result<()>;
    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>>;
    fn due_messages(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>>;
    fn messages_for_invitation(&mut self, business: BusinessId, invitation: InvitationId) -> Result<Vec<OutboxMessage>>;
});

delegate!(IdempotencyRepo {
    fn get_idempotency(&mut self, business: BusinessId, key: &str) -> Result<Option<IdempotencyRecord>>;
    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()>;
    fn purge_idempotency(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize>;
});
