//! The directory: users, tenants, subscriptions and their seats, roles, memberships and
//! idempotency keys, in plain maps of model values. Each write records its undo entry.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::{MemoryTx, State, Undo, already_exists};
use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, MembershipId, RoleId, SubscriptionId, UserId};
use crate::model::{
    Application, Business, IdempotencyRecord, Membership, Role, SeatCounts, Subscription, User,
};
use crate::store::{
    IdempotencyRepo, MembershipRepo, RoleRepo, SubscriptionRepo, TenantRepo, UserKeyCursor,
    UserRepo,
};

impl State {
    /// Stores (`Some`) or removes (`None`) the record of `key`, and its entry by expiry;
    /// the record it replaces.
    pub(super) fn put_idempotency(
        &mut self,
        business: BusinessId,
        key: String,
        record: Option<IdempotencyRecord>,
    ) -> Option<IdempotencyRecord> {
        let old = self.idempotency.remove(&(business, key.clone()));
        if let Some(old) = &old {
            self.idempotency_by_expiry
                .remove(&(old.expires_at, business, key.clone()));
        }
        if let Some(record) = record {
            self.idempotency_by_expiry
                .insert((record.expires_at, business, key.clone()));
            self.idempotency.insert((business, key), record);
        }
        old
    }

    pub(super) fn put_user(&mut self, id: UserId, user: Option<User>) -> Option<User> {
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

    pub(super) fn put_membership(
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
}

pub(super) fn put<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, value: Option<Box<V>>) {
    match value {
        Some(v) => {
            map.insert(key, *v);
        }
        None => {
            map.remove(&key);
        }
    }
}

pub(super) fn set_flag<T: Ord>(set: &mut BTreeSet<T>, item: T, on: bool) -> bool {
    if on {
        !set.insert(item)
    } else {
        set.remove(&item)
    }
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

impl UserRepo for MemoryTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<()> {
        if self.state.user_by_key.contains_key(&user.email_key)
            || self.state.users.contains_key(&user.id)
        {
            return Err(already_exists("a user with this email"));
        }
        let old = self.state.put_user(user.id, Some(user.clone()));
        self.undo.push(Undo::User(user.id, old.map(Box::new)));
        Ok(())
    }

    fn update_user(&mut self, user: &User) -> Result<()> {
        if !self.state.users.contains_key(&user.id) {
            return Err(Error::not_found("user"));
        }
        if self
            .state
            .user_by_key
            .get(&user.email_key)
            .is_some_and(|owner| *owner != user.id)
        {
            return Err(already_exists("a user with this email"));
        }
        let old = self.state.put_user(user.id, Some(user.clone()));
        self.undo.push(Undo::User(user.id, old.map(Box::new)));
        Ok(())
    }

    fn get_user(&mut self, id: UserId) -> Result<Option<User>> {
        Ok(self.state.users.get(&id).cloned())
    }

    fn get_user_by_email_key(&mut self, key: &str) -> Result<Option<User>> {
        Ok(self
            .state
            .user_by_key
            .get(key)
            .and_then(|id| self.state.users.get(id))
            .cloned())
    }

    fn list_users(&mut self, after: Option<UserId>, limit: usize) -> Result<Vec<User>> {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let state = &*self.state;
        Ok(state
            .user_ids
            .range((start, Bound::Unbounded))
            .take(limit)
            .filter_map(|id| state.users.get(id).cloned())
            .collect())
    }

    fn scan_user_keys(
        &mut self,
        prefix: &str,
        after: Option<&UserKeyCursor>,
        limit: usize,
    ) -> Result<Vec<(String, User)>> {
        let state = &*self.state;
        let start = match after {
            Some(c) if c.key.as_str() >= prefix => Bound::Excluded((c.key.clone(), c.user_id)),
            _ => Bound::Included((prefix.to_owned(), UserId::from_uuid(uuid::Uuid::nil()))),
        };
        Ok(state
            .user_search
            .range((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .take(limit)
            .filter_map(|(key, id)| state.users.get(id).map(|u| (key.clone(), u.clone())))
            .collect())
    }
}

impl TenantRepo for MemoryTx<'_> {
    fn insert_business(&mut self, business: &Business) -> Result<()> {
        if self.state.businesses.contains_key(&business.id) {
            return Err(already_exists("business"));
        }
        self.state.businesses.insert(business.id, business.clone());
        self.undo.push(Undo::Business(business.id, None));
        Ok(())
    }

    fn update_business(&mut self, business: &Business) -> Result<()> {
        let old = self.state.businesses.insert(business.id, business.clone());
        if old.is_none() {
            self.state.businesses.remove(&business.id);
            return Err(Error::not_found("business"));
        }
        self.undo
            .push(Undo::Business(business.id, old.map(Box::new)));
        Ok(())
    }

    fn get_business(&mut self, id: BusinessId) -> Result<Option<Business>> {
        Ok(self.state.businesses.get(&id).cloned())
    }

    fn list_businesses(&mut self) -> Result<Vec<Business>> {
        Ok(self.state.businesses.values().cloned().collect())
    }

    fn insert_app(&mut self, app: &Application) -> Result<()> {
        if self.state.apps.contains_key(&app.id) {
            return Err(already_exists("app"));
        }
        self.state.apps.insert(app.id, app.clone());
        self.undo.push(Undo::App(app.id, None));
        Ok(())
    }

    fn update_app(&mut self, app: &Application) -> Result<()> {
        let old = self.state.apps.insert(app.id, app.clone());
        if old.is_none() {
            self.state.apps.remove(&app.id);
            return Err(Error::not_found("app"));
        }
        self.undo.push(Undo::App(app.id, old.map(Box::new)));
        Ok(())
    }

    fn get_app(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        Ok(self.state.apps.get(&id).cloned())
    }

    fn list_apps(&mut self) -> Result<Vec<Application>> {
        Ok(self.state.apps.values().cloned().collect())
    }

    fn set_app_enabled(
        &mut self,
        business: BusinessId,
        app: ApplicationId,
        enabled: bool,
    ) -> Result<()> {
        let was = set_flag(&mut self.state.enabled, (business, app), enabled);
        self.undo.push(Undo::Enabled(business, app, was));
        Ok(())
    }

    fn enabled_apps(&mut self, business: BusinessId) -> Result<Vec<ApplicationId>> {
        Ok(self
            .state
            .enabled
            .range((business, ApplicationId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|(b, _)| *b == business)
            .map(|(_, a)| *a)
            .collect())
    }

    fn is_app_enabled(&mut self, business: BusinessId, app: ApplicationId) -> Result<bool> {
        Ok(self.state.enabled.contains(&(business, app)))
    }

    fn set_business_admin(
        &mut self,
        business: BusinessId,
        user: UserId,
        admin: bool,
    ) -> Result<()> {
        let was = set_flag(&mut self.state.admins, (business, user), admin);
        set_flag(&mut self.state.admin_of, (user, business), admin);
        self.undo.push(Undo::Admin(business, user, was));
        Ok(())
    }

    fn is_business_admin(&mut self, business: BusinessId, user: UserId) -> Result<bool> {
        Ok(self.state.admins.contains(&(business, user)))
    }

    fn admin_businesses(&mut self, user: UserId) -> Result<Vec<BusinessId>> {
        Ok(self
            .state
            .admin_of
            .range((user, BusinessId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|(u, _)| *u == user)
            .map(|(_, b)| *b)
            .collect())
    }
}

impl SubscriptionRepo for MemoryTx<'_> {
    fn insert_subscription(&mut self, subscription: &Subscription) -> Result<()> {
        if self.state.subscriptions.contains_key(&subscription.id) {
            return Err(already_exists("subscription"));
        }
        self.state
            .subscriptions
            .insert(subscription.id, subscription.clone());
        self.undo.push(Undo::Subscription(subscription.id, None));
        let old = self
            .state
            .seats
            .insert(subscription.id, SeatCounts::default());
        self.undo.push(Undo::Seats(subscription.id, old));
        Ok(())
    }

    fn update_subscription(&mut self, subscription: &Subscription) -> Result<()> {
        let old = self
            .state
            .subscriptions
            .insert(subscription.id, subscription.clone());
        if old.is_none() {
            self.state.subscriptions.remove(&subscription.id);
            return Err(Error::not_found("subscription"));
        }
        self.undo
            .push(Undo::Subscription(subscription.id, old.map(Box::new)));
        Ok(())
    }

    fn get_subscription(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        Ok(self
            .state
            .subscriptions
            .get(&id)
            .filter(|s| s.business_id == business)
            .cloned())
    }

    fn list_subscriptions(
        &mut self,
        business: BusinessId,
        app: Option<ApplicationId>,
    ) -> Result<Vec<Subscription>> {
        Ok(self
            .state
            .subscriptions
            .values()
            .filter(|s| s.business_id == business && app.is_none_or(|a| s.app_id == a))
            .cloned()
            .collect())
    }

    fn seat_counts_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<SeatCounts> {
        Ok(self.seats_for_update(business, id)?.0)
    }

    fn seats_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<(SeatCounts, Option<u32>)> {
        match self.state.subscriptions.get(&id) {
            Some(s) if s.business_id == business => Ok((
                self.state.seats.get(&id).copied().unwrap_or_default(),
                s.seats,
            )),
            _ => Err(Error::not_found("subscription")),
        }
    }

    fn set_seat_counts(&mut self, id: SubscriptionId, counts: SeatCounts) -> Result<()> {
        if !self.state.subscriptions.contains_key(&id) {
            return Err(Error::not_found("subscription"));
        }
        let old = self.state.seats.insert(id, counts);
        self.undo.push(Undo::Seats(id, old));
        Ok(())
    }
}

impl RoleRepo for MemoryTx<'_> {
    fn insert_role(&mut self, role: &Role) -> Result<()> {
        let taken = self
            .state
            .roles
            .values()
            .any(|r| r.app_id == role.app_id && r.key == role.key);
        if taken || self.state.roles.contains_key(&role.id) {
            return Err(already_exists("a role with this key"));
        }
        self.state.roles.insert(role.id, role.clone());
        self.undo.push(Undo::Role(role.id, None));
        Ok(())
    }

    fn update_role(&mut self, role: &Role) -> Result<()> {
        let taken = self
            .state
            .roles
            .values()
            .any(|r| r.id != role.id && r.app_id == role.app_id && r.key == role.key);
        if taken {
            return Err(already_exists("a role with this key"));
        }
        let old = self.state.roles.insert(role.id, role.clone());
        if old.is_none() {
            self.state.roles.remove(&role.id);
            return Err(Error::not_found("role"));
        }
        self.undo.push(Undo::Role(role.id, old.map(Box::new)));
        Ok(())
    }

    fn get_role(&mut self, id: RoleId) -> Result<Option<Role>> {
        Ok(self.state.roles.get(&id).cloned())
    }

    fn list_roles(&mut self, app: ApplicationId) -> Result<Vec<Role>> {
        Ok(self
            .state
            .roles
            .values()
            .filter(|r| r.app_id == app)
            .cloned()
            .collect())
    }
}

impl MembershipRepo for MemoryTx<'_> {
    fn insert_membership(&mut self, membership: &Membership) -> Result<()> {
        let seat = (membership.subscription_id, membership.user_id);
        if self.state.membership_by_seat.contains_key(&seat)
            || self.state.memberships.contains_key(&membership.id)
        {
            return Err(already_exists("membership"));
        }
        let old = self
            .state
            .put_membership(membership.id, Some(membership.clone()));
        self.undo
            .push(Undo::Membership(membership.id, old.map(Box::new)));
        Ok(())
    }

    fn delete_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<()> {
        if self
            .state
            .memberships
            .get(&id)
            .is_none_or(|m| m.business_id != business)
        {
            return Err(Error::not_found("membership"));
        }
        let old = self.state.put_membership(id, None);
        self.undo.push(Undo::Membership(id, old.map(Box::new)));
        Ok(())
    }

    fn get_membership(
        &mut self,
        business: BusinessId,
        id: MembershipId,
    ) -> Result<Option<Membership>> {
        Ok(self
            .state
            .memberships
            .get(&id)
            .filter(|m| m.business_id == business)
            .cloned())
    }

    fn find_membership(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        user: UserId,
    ) -> Result<Option<Membership>> {
        Ok(self
            .state
            .membership_by_seat
            .get(&(subscription, user))
            .and_then(|id| self.state.memberships.get(id))
            .filter(|m| m.business_id == business)
            .cloned())
    }

    fn memberships_of_user(
        &mut self,
        user: UserId,
        business: Option<BusinessId>,
    ) -> Result<Vec<Membership>> {
        let state = &*self.state;
        Ok(state
            .memberships_by_user
            .range((user, MembershipId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|(u, _)| *u == user)
            .filter_map(|(_, id)| state.memberships.get(id))
            .filter(|m| business.is_none_or(|b| m.business_id == b))
            .cloned()
            .collect())
    }

    fn list_memberships(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        after: Option<MembershipId>,
        limit: usize,
    ) -> Result<Vec<Membership>> {
        Ok(page_after(&self.state.memberships, after, limit, |m| {
            m.business_id == business && m.subscription_id == subscription
        }))
    }

    fn count_memberships(&mut self, subscription: SubscriptionId) -> Result<u32> {
        let n = self
            .state
            .memberships
            .values()
            .filter(|m| m.subscription_id == subscription)
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

impl IdempotencyRepo for MemoryTx<'_> {
    fn get_idempotency(
        &mut self,
        business: BusinessId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        Ok(self
            .state
            .idempotency
            .get(&(business, key.to_owned()))
            .cloned())
    }

    fn purge_idempotency(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize> {
        let expired: Vec<(BusinessId, String)> = self
            .state
            .idempotency_by_expiry
            .iter()
            .take_while(|(expires_at, _, _)| *expires_at <= now)
            .take(limit)
            .map(|(_, business, key)| (*business, key.clone()))
            .collect();
        for (business, key) in &expired {
            let old = self.state.put_idempotency(*business, key.clone(), None);
            self.undo
                .push(Undo::Idempotency(*business, key.clone(), old.map(Box::new)));
        }
        Ok(expired.len())
    }

    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()> {
        let old = self.state.put_idempotency(
            record.business_id,
            record.key.clone(),
            Some(record.clone()),
        );
        self.undo.push(Undo::Idempotency(
            record.business_id,
            record.key.clone(),
            old.map(Box::new),
        ));
        Ok(())
    }
}
