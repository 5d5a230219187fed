//! The `Store` port: a unit of work with typed repositories for every concept.
//!
//! # Contract (every adapter must honour it; `tests/contract` checks it)
//!
//! - [`Store::begin`] starts a transaction. Everything done through it becomes visible
//!   to others only at [`Transaction::commit`], all at once; dropping it without commit
//!   rolls everything back. Transactions are serialisable with respect to each other:
//!   the seat counters read by [`SubscriptionRepo::seat_counts_for_update`] cannot change
//!   under the transaction until it ends (a lock, `BEGIN IMMEDIATE`, or a conflict
//!   reported as `STORAGE_CONFLICT` at the latest on commit, which makes the service retry).
//! - Lookups scoped by business return `None` for a record of another business.
//! - Unique keys (user email key, membership per subscription and user, token hash,
//!   idempotency key per business) report `ALREADY_EXISTS` on violation.
//! - Listing methods order by id (ids are time-ordered) and return at most `limit`
//!   items strictly after `after`.
//! - Backend failures are `STORAGE_UNAVAILABLE`; serialisation failures and deadlocks
//!   are `STORAGE_CONFLICT`.

mod faulty;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod url;

pub use faulty::FaultyStore;
pub use memory::InMemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};
pub use url::open;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
use crate::model::{
    Application, Business, DeliveryStatus, Event, IdempotencyRecord, Invitation, InvitationRecord,
    InvitationStatus, Membership, OutboxMessage, Role, SeatCounts, Subscription, User,
};
use crate::token::TokenHash;

/// A storage backend. Shared across threads; each unit of work is a [`Transaction`].
pub trait Store: Send + Sync {
    /// Begins a unit of work that may write.
    fn begin(&self) -> Result<Box<dyn Transaction + '_>>;

    /// Begins a unit of work that only reads. Adapters may run it concurrently with others.
    fn begin_read(&self) -> Result<Box<dyn Transaction + '_>> {
        self.begin()
    }

    /// `"memory"`, `"sqlite"`, `"postgres"`, …
    fn kind(&self) -> &'static str;
}

/// A unit of work with every repository. Rolls back on drop unless committed.
pub trait Transaction:
    UserRepo
    + TenantRepo
    + SubscriptionRepo
    + RoleRepo
    + MembershipRepo
    + InvitationRepo
    + EventRepo
    + OutboxRepo
    + IdempotencyRepo
{
    /// Makes every change of this unit of work durable and visible, atomically.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Where a user-search scan resumes: strictly after this (key, user) pair.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserKeyCursor {
    /// The folded search key.
    pub key: String,
    /// The user.
    pub user_id: UserId,
}

/// Users (global).
pub trait UserRepo {
    /// Inserts a user; `ALREADY_EXISTS` if its email key is taken.
    fn insert_user(&mut self, user: &User) -> Result<()>;
    /// Replaces a user; `NOT_FOUND` if missing, `ALREADY_EXISTS` if the new email key is taken.
    fn update_user(&mut self, user: &User) -> Result<()>;
    /// A user by id.
    fn get_user(&mut self, id: UserId) -> Result<Option<User>>;
    /// A user by canonical email key.
    fn get_user_by_email_key(&mut self, key: &str) -> Result<Option<User>>;
    /// Users by id.
    fn list_users(&mut self, after: Option<UserId>, limit: usize) -> Result<Vec<User>>;
    /// The search index: `(key, user)` pairs whose key (one of [`User::search_keys`])
    /// starts with `prefix`, ordered by `(key, user id)`, strictly after `after`.
    /// A user appears once per matching key.
    fn scan_user_keys(
        &mut self,
        prefix: &str,
        after: Option<&UserKeyCursor>,
        limit: usize,
    ) -> Result<Vec<(String, User)>>;
}

/// Businesses, apps, which apps each business enabled, and business admins.
pub trait TenantRepo {
    /// Inserts a business.
    fn insert_business(&mut self, business: &Business) -> Result<()>;
    /// Replaces a business; `NOT_FOUND` if missing.
    fn update_business(&mut self, business: &Business) -> Result<()>;
    /// A business by id.
    fn get_business(&mut self, id: BusinessId) -> Result<Option<Business>>;
    /// Every business, by id.
    fn list_businesses(&mut self) -> Result<Vec<Business>>;
    /// Inserts an app.
    fn insert_app(&mut self, app: &Application) -> Result<()>;
    /// Replaces an app; `NOT_FOUND` if missing.
    fn update_app(&mut self, app: &Application) -> Result<()>;
    /// An app by id.
    fn get_app(&mut self, id: ApplicationId) -> Result<Option<Application>>;
    /// Every app, by id.
    fn list_apps(&mut self) -> Result<Vec<Application>>;
    /// Enables or disables an app for a business (idempotent).
    fn set_app_enabled(
        &mut self,
        business: BusinessId,
        app: ApplicationId,
        enabled: bool,
    ) -> Result<()>;
    /// The apps a business enabled, by id.
    fn enabled_apps(&mut self, business: BusinessId) -> Result<Vec<ApplicationId>>;
    /// Whether the app is enabled for the business.
    fn is_app_enabled(&mut self, business: BusinessId, app: ApplicationId) -> Result<bool>;
    /// Makes a user an admin of a business, or not (idempotent).
    fn set_business_admin(&mut self, business: BusinessId, user: UserId, admin: bool)
    -> Result<()>;
    /// Whether the user administers the business.
    fn is_business_admin(&mut self, business: BusinessId, user: UserId) -> Result<bool>;
    /// Businesses the user administers, by id.
    fn admin_businesses(&mut self, user: UserId) -> Result<Vec<BusinessId>>;
}

/// Subscriptions and their seat counters.
pub trait SubscriptionRepo {
    /// Inserts a subscription with zeroed seat counters.
    fn insert_subscription(&mut self, subscription: &Subscription) -> Result<()>;
    /// Replaces a subscription's fields (not its counters); `NOT_FOUND` if missing.
    fn update_subscription(&mut self, subscription: &Subscription) -> Result<()>;
    /// A subscription of the business.
    fn get_subscription(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>>;
    /// The business's subscriptions (to one app, if given), by id.
    fn list_subscriptions(
        &mut self,
        business: BusinessId,
        app: Option<ApplicationId>,
    ) -> Result<Vec<Subscription>>;
    /// Seat counters (O(1)). Within a write transaction they stay fixed until it ends
    /// (row lock); `NOT_FOUND` if the subscription is not the business's.
    fn seat_counts_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<SeatCounts>;
    /// Seat counters and the seat cap (`None`: unlimited), both as of the row lock that
    /// [`Self::seat_counts_for_update`] takes: a cap lowered concurrently has either
    /// committed before the lock (and is read here) or waits. `NOT_FOUND` as there. The
    /// default reads the counters, then the subscription; stores read both at once.
    fn seats_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<(SeatCounts, Option<u32>)> {
        let counts = self.seat_counts_for_update(business, id)?;
        let Some(subscription) = self.get_subscription(business, id)? else {
            return Err(Error::not_found("subscription"));
        };
        Ok((counts, subscription.seats))
    }
    /// Writes seat counters.
    fn set_seat_counts(&mut self, id: SubscriptionId, counts: SeatCounts) -> Result<()>;
}

/// Application roles (global, per app).
pub trait RoleRepo {
    /// Inserts a role; `ALREADY_EXISTS` if its key is taken in the app.
    fn insert_role(&mut self, role: &Role) -> Result<()>;
    /// Replaces a role; `NOT_FOUND` if missing.
    fn update_role(&mut self, role: &Role) -> Result<()>;
    /// A role by id.
    fn get_role(&mut self, id: RoleId) -> Result<Option<Role>>;
    /// The app's roles, by id.
    fn list_roles(&mut self, app: ApplicationId) -> Result<Vec<Role>>;
}

/// Memberships (seats).
pub trait MembershipRepo {
    /// Inserts; `ALREADY_EXISTS` if the user holds a seat in the subscription already.
    fn insert_membership(&mut self, membership: &Membership) -> Result<()>;
    /// Deletes; `NOT_FOUND` if missing.
    fn delete_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<()>;
    /// A membership of the business.
    fn get_membership(
        &mut self,
        business: BusinessId,
        id: MembershipId,
    ) -> Result<Option<Membership>>;
    /// The user's seat in the subscription, if any.
    fn find_membership(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        user: UserId,
    ) -> Result<Option<Membership>>;
    /// The user's memberships (in one business, if given), by id.
    fn memberships_of_user(
        &mut self,
        user: UserId,
        business: Option<BusinessId>,
    ) -> Result<Vec<Membership>>;
    /// A subscription's memberships, by id.
    fn list_memberships(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        after: Option<MembershipId>,
        limit: usize,
    ) -> Result<Vec<Membership>>;
    /// How many memberships the subscription has (a recount, for checks).
    fn count_memberships(&mut self, subscription: SubscriptionId) -> Result<u32>;
}

/// Filters for listing invitations. `status` is the effective status at `now`
/// (a stored `pending` at or past its expiry counts as `expired`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationQuery {
    /// Business (required: every lookup is scoped).
    pub business_id: BusinessId,
    /// Only this app.
    pub app_id: Option<ApplicationId>,
    /// Only this subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Only this effective status.
    pub status: Option<InvitationStatus>,
    /// Only this canonical email key.
    pub email_key: Option<String>,
    /// The instant effective statuses are computed at.
    pub now: DateTime<Utc>,
    /// Resume after this id.
    pub after: Option<InvitationId>,
    /// At most this many.
    pub limit: usize,
}

/// Invitations.
pub trait InvitationRepo {
    /// Inserts; `ALREADY_EXISTS` on a duplicate token hash.
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()>;
    /// Replaces (status, token hash, timestamps, delivery…); `NOT_FOUND` if missing.
    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()>;
    /// Sets the delivery status of an invitation of the business and nothing else: the
    /// dispatcher's bookkeeping, which need not read the invitation first. `NOT_FOUND`
    /// if the business has no such invitation. The default reads and replaces the
    /// record; stores write the delivery in place.
    fn update_delivery(
        &mut self,
        business: BusinessId,
        id: InvitationId,
        delivery: &DeliveryStatus,
    ) -> Result<()> {
        let Some(mut record) = self.get_invitation(business, id)? else {
            return Err(Error::not_found("invitation"));
        };
        record.invitation.delivery = delivery.clone();
        self.update_invitation(&record)
    }
    /// An invitation of the business.
    fn get_invitation(
        &mut self,
        business: BusinessId,
        id: InvitationId,
    ) -> Result<Option<InvitationRecord>>;
    /// The invitation whose live token hashes to `hash`.
    fn get_invitation_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>>;
    /// The stored-`pending` invitation for (business, subscription, email key), if any.
    fn find_pending_invitation(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        email_key: &str,
    ) -> Result<Option<InvitationRecord>>;
    /// Invitations matching the query, by id.
    fn list_invitations(&mut self, query: &InvitationQuery) -> Result<Vec<Invitation>>;
    /// Stored-`pending` invitations at or past expiry (of one subscription, if given),
    /// ordered by (expires_at, id): the longest overdue first.
    fn overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: Option<SubscriptionId>,
        limit: usize,
    ) -> Result<Vec<InvitationRecord>>;
    /// How many stored-`pending` invitations the business has. In a write transaction
    /// the count is exact until commit: a concurrent writer counting for the same
    /// business waits (the pending cap holds under concurrency).
    fn count_pending(&mut self, business: BusinessId) -> Result<u32>;
    /// How many stored-`pending` invitations the subscription has (a recount, for checks).
    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32>;
    /// How many of the subscription's stored-`pending` invitations are at or past expiry
    /// at `now` (what [`Self::overdue_pending`] would list without a limit), for the
    /// seat counts a form shows. The default lists them; stores count in place.
    fn count_overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: SubscriptionId,
    ) -> Result<u32> {
        let overdue = self.overdue_pending(now, Some(subscription), usize::MAX)?;
        Ok(u32::try_from(overdue.len()).unwrap_or(u32::MAX))
    }
    /// How many invitations the inviter created at or after `since`. In a write
    /// transaction the count is exact until commit, as for [`Self::count_pending`] (the
    /// daily budget holds under concurrency).
    fn count_created_by_inviter_since(
        &mut self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32>;
}

/// The audit log.
pub trait EventRepo {
    /// Appends an event.
    fn append_event(&mut self, event: &Event) -> Result<()>;
    /// The business's events (of one invitation, if given), by id.
    fn list_events(
        &mut self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<Event>>;
    /// How many `resent` events `actor` caused at or after `since`, in every business
    /// (each resend mails the invitee: it counts against the actor's daily budget, as
    /// [`InvitationRepo::count_created_by_inviter_since`] does for new invitations).
    fn count_resent_by_actor_since(&mut self, actor: UserId, since: DateTime<Utc>) -> Result<u32>;
}

/// The outbox of emails written with their invitations.
pub trait OutboxRepo {
    /// Adds a message.
    fn enqueue_message(&mut self, message: &OutboxMessage) -> Result<()>;
    /// Replaces a message; `NOT_FOUND` if missing.
    fn update_message(&mut self, message: &OutboxMessage) -> Result<()>;
    /// A message by id.
    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>>;
    /// `queued` messages with `next_attempt_at <= now`, oldest attempt first.
    /// Adapters shared by several processes skip rows locked by another transaction.
    fn due_messages(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// An invitation's messages, by id.
    fn messages_for_invitation(
        &mut self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>>;
}

/// Idempotency keys.
pub trait IdempotencyRepo {
    /// The record for (business, key), expired or not.
    fn get_idempotency(
        &mut self,
        business: BusinessId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>>;
    /// Inserts or replaces the record for (business, key).
    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()>;
    /// Deletes up to `limit` records expired at `now` (`expires_at <= now`), with the
    /// sealed tokens they hold; returns how many. The sweep calls it until it returns
    /// less than `limit`, in a write transaction each time: find the records by expiry
    /// (an index), not by reading the live ones.
    fn purge_idempotency(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize>;
}
