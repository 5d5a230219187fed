//! The repository traits on a [`MemoryTx`]: each write records its undo entry.

use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::{MemoryTx, Undo, already_exists, page_after, set_flag};
use crate::error::{Error, Result};
use crate::ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
use crate::model::{
    Application, Business, Event, IdempotencyRecord, Invitation, InvitationRecord,
    InvitationStatus, Membership, OutboxMessage, Role, SeatCounts, Subscription, User,
};
use crate::store::{
    EventRepo, IdempotencyRepo, InvitationQuery, InvitationRepo, MembershipRepo, OutboxRepo,
    RoleRepo, SubscriptionRepo, TenantRepo, UserKeyCursor, UserRepo,
};
use crate::token::TokenHash;

impl UserRepo for MemoryTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<()> {
        if self.state.user_by_key.contains_key(&user.email_key)
            || self.state.users.contains_key(&user.id)
        {
            return Err(already_exists("a user with this email"));
        }
        let old = self.state.put_user(user.id, Some(user.clone()));
        self.undo.push(Undo::User(user.id, old));
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
        self.undo.push(Undo::User(user.id, old));
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
        self.undo.push(Undo::Business(business.id, old));
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
        self.undo.push(Undo::App(app.id, old));
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
        self.undo.push(Undo::Subscription(subscription.id, old));
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
        match self.state.subscriptions.get(&id) {
            Some(s) if s.business_id == business => {
                Ok(self.state.seats.get(&id).copied().unwrap_or_default())
            }
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
        self.undo.push(Undo::Role(role.id, old));
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
        self.undo.push(Undo::Membership(membership.id, old));
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
        self.undo.push(Undo::Membership(id, old));
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

impl InvitationRepo for MemoryTx<'_> {
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let id = record.invitation.id;
        if self.state.invitations.contains_key(&id)
            || self
                .state
                .invitation_by_token
                .contains_key(&record.token_hash)
        {
            return Err(already_exists("invitation"));
        }
        let old = self.state.put_invitation(id, Some(record.clone()));
        self.undo.push(Undo::Invitation(id, old));
        Ok(())
    }

    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let id = record.invitation.id;
        if !self.state.invitations.contains_key(&id) {
            return Err(Error::not_found("invitation"));
        }
        if self
            .state
            .invitation_by_token
            .get(&record.token_hash)
            .is_some_and(|owner| *owner != id)
        {
            return Err(already_exists("invitation token"));
        }
        let old = self.state.put_invitation(id, Some(record.clone()));
        self.undo.push(Undo::Invitation(id, old));
        Ok(())
    }

    fn get_invitation(
        &mut self,
        business: BusinessId,
        id: InvitationId,
    ) -> Result<Option<InvitationRecord>> {
        Ok(self
            .state
            .invitations
            .get(&id)
            .filter(|r| r.invitation.business_id == business)
            .cloned())
    }

    fn get_invitation_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>> {
        Ok(self
            .state
            .invitation_by_token
            .get(hash)
            .and_then(|id| self.state.invitations.get(id))
            .cloned())
    }

    fn find_pending_invitation(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        email_key: &str,
    ) -> Result<Option<InvitationRecord>> {
        let key = (business, subscription, email_key.to_owned());
        Ok(self
            .state
            .pending_by_key
            .get(&key)
            .and_then(|id| self.state.invitations.get(id))
            .cloned())
    }

    fn list_invitations(&mut self, query: &InvitationQuery) -> Result<Vec<Invitation>> {
        let start = query.after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .state
            .invitations
            .range((start, Bound::Unbounded))
            .map(|(_, r)| &r.invitation)
            .filter(|i| {
                i.business_id == query.business_id
                    && query.app_id.is_none_or(|a| i.app_id == a)
                    && query.subscription_id.is_none_or(|s| i.subscription_id == s)
                    && query.status.is_none_or(|s| i.status_at(query.now) == s)
                    && query.email_key.as_deref().is_none_or(|k| i.email_key == k)
            })
            .take(query.limit)
            .cloned()
            .collect())
    }

    fn overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: Option<SubscriptionId>,
        limit: usize,
    ) -> Result<Vec<InvitationRecord>> {
        let state = &*self.state;
        Ok(state
            .pending_by_expiry
            .iter()
            .take_while(|(expires, _)| *expires <= now)
            .filter_map(|(_, id)| state.invitations.get(id))
            .filter(|r| subscription.is_none_or(|s| r.invitation.subscription_id == s))
            .take(limit)
            .cloned()
            .collect())
    }

    fn count_pending(&mut self, business: BusinessId) -> Result<u32> {
        Ok(self
            .state
            .pending_per_business
            .get(&business)
            .copied()
            .unwrap_or(0))
    }

    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32> {
        let n = self
            .state
            .invitations
            .values()
            .filter(|r| {
                r.invitation.subscription_id == subscription
                    && r.invitation.status == InvitationStatus::Pending
            })
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn count_created_by_inviter_since(
        &mut self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let from = (inviter, since, InvitationId::from_uuid(uuid::Uuid::nil()));
        let n = self
            .state
            .created_by_inviter
            .range(from..)
            .take_while(|(u, _, _)| *u == inviter)
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

impl EventRepo for MemoryTx<'_> {
    fn append_event(&mut self, event: &Event) -> Result<()> {
        if self.state.events.contains_key(&event.id) {
            return Err(already_exists("event"));
        }
        let old = self.state.put_event(event.id, Some(event.clone()));
        self.undo.push(Undo::Event(event.id, old));
        Ok(())
    }

    fn list_events(
        &mut self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let state = &*self.state;
        match invitation {
            Some(inv) => {
                let start = match after {
                    Some(e) => Bound::Excluded((inv, e)),
                    None => Bound::Included((inv, EventId::from_uuid(uuid::Uuid::nil()))),
                };
                Ok(state
                    .events_by_invitation
                    .range((start, Bound::Unbounded))
                    .take_while(|(i, _)| *i == inv)
                    .filter_map(|(_, id)| state.events.get(id))
                    .filter(|e| e.business_id == business)
                    .take(limit)
                    .cloned()
                    .collect())
            }
            None => Ok(page_after(&state.events, after, limit, |e| {
                e.business_id == business
            })),
        }
    }
}

impl OutboxRepo for MemoryTx<'_> {
    fn enqueue_message(&mut self, message: &OutboxMessage) -> Result<()> {
        if self.state.outbox.contains_key(&message.id) {
            return Err(already_exists("message"));
        }
        let old = self.state.put_message(message.id, Some(message.clone()));
        self.undo.push(Undo::Message(message.id, old));
        Ok(())
    }

    fn update_message(&mut self, message: &OutboxMessage) -> Result<()> {
        if !self.state.outbox.contains_key(&message.id) {
            return Err(Error::not_found("message"));
        }
        let old = self.state.put_message(message.id, Some(message.clone()));
        self.undo.push(Undo::Message(message.id, old));
        Ok(())
    }

    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>> {
        Ok(self.state.outbox.get(&id).cloned())
    }

    fn due_messages(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        let state = &*self.state;
        Ok(state
            .outbox_due
            .iter()
            .take_while(|(at, _)| *at <= now)
            .filter_map(|(_, id)| state.outbox.get(id))
            .take(limit)
            .cloned()
            .collect())
    }

    fn messages_for_invitation(
        &mut self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>> {
        let state = &*self.state;
        Ok(state
            .outbox_by_invitation
            .range((invitation, MessageId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|(i, _)| *i == invitation)
            .filter_map(|(_, id)| state.outbox.get(id))
            .filter(|m| m.business_id == business)
            .cloned()
            .collect())
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

    fn put_idempotency(&mut self, record: &IdempotencyRecord) -> Result<()> {
        let key = (record.business_id, record.key.clone());
        let old = self.state.idempotency.insert(key, record.clone());
        self.undo.push(Undo::Idempotency(
            record.business_id,
            record.key.clone(),
            old,
        ));
        Ok(())
    }
}
