//! Rows to domain records. Column lists live next to their readers so that every
//! `SELECT` and its reader agree.

use std::collections::BTreeSet;

use postgres::Row;
use uuid::Uuid;

use super::error::bad_row;
use super::tx::{get, get_u32};
use crate::error::Result;
use crate::model::{
    Application, Business, DeliveryState, DeliveryStatus, Event, EventKind, IdempotencyRecord,
    Invitation, InvitationRecord, InvitationStatus, Invitee, Membership, OutboxMessage,
    OutboxState, Role, Subscription, SubscriptionStatus, User,
};
use crate::token::TokenHash;

/// Columns read by [`user`], unqualified.
macro_rules! user_cols {
    () => {
        "id, email, email_key, first_name, last_name, created_at"
    };
}
/// Columns read by [`subscription`].
macro_rules! subscription_cols {
    () => {
        "id, business_id, app_id, plan, seats, status, valid_from, valid_until, created_at"
    };
}
/// Columns read by [`role`].
macro_rules! role_cols {
    () => {
        "id, app_id, key, name, permissions, created_at"
    };
}
/// Columns read by [`membership`].
macro_rules! membership_cols {
    () => {
        "id, business_id, subscription_id, app_id, user_id, role_id, created_at"
    };
}
/// Columns read by [`invitation`], plus `token_hash` and `version` for records.
macro_rules! invitation_cols {
    () => {
        "id, business_id, app_id, subscription_id, role_id, invitee_user_id, \
         invitee_first_name, invitee_last_name, email, email_key, inviter_id, status, locale, \
         created_at, expires_at, last_sent_at, send_count, responded_at, accepted_user_id, \
         delivery_state, delivery_attempts, delivery_last_error, delivered_at, token_hash, version"
    };
}
/// Columns read by [`event`].
macro_rules! event_cols {
    () => {
        "id, business_id, invitation_id, kind, actor_id, at, detail"
    };
}
/// Columns read by [`message`], plus `version`.
macro_rules! message_cols {
    () => {
        "id, business_id, invitation_id, sealed_token, state, attempts, next_attempt_at, \
         last_error, created_at, version"
    };
}
pub(super) use {
    event_cols, invitation_cols, membership_cols, message_cols, role_cols, subscription_cols,
    user_cols,
};

/// A typed id column.
fn id<T: From<Uuid>>(row: &Row, column: &str) -> Result<T> {
    get::<Uuid, _>(row, column).map(T::from)
}

/// An optional typed id column.
fn opt_id<T: From<Uuid>>(row: &Row, column: &str) -> Result<Option<T>> {
    Ok(get::<Option<Uuid>, _>(row, column)?.map(T::from))
}

pub(super) fn user(row: &Row) -> Result<User> {
    Ok(User {
        id: id(row, "id")?,
        email: get(row, "email")?,
        email_key: get(row, "email_key")?,
        first_name: get(row, "first_name")?,
        last_name: get(row, "last_name")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn business(row: &Row) -> Result<Business> {
    Ok(Business {
        id: id(row, "id")?,
        name: get(row, "name")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn app(row: &Row) -> Result<Application> {
    Ok(Application {
        id: id(row, "id")?,
        name: get(row, "name")?,
        created_at: get(row, "created_at")?,
    })
}

/// A subscription's seat cap (`seats`, `None`: unlimited).
pub(super) fn seat_cap(row: &Row) -> Result<Option<u32>> {
    let seats: Option<i64> = get(row, "seats")?;
    seats
        .map(|s| u32::try_from(s).map_err(|_| bad_row("subscription")))
        .transpose()
}

pub(super) fn subscription(row: &Row) -> Result<Subscription> {
    let status: String = get(row, "status")?;
    Ok(Subscription {
        id: id(row, "id")?,
        business_id: id(row, "business_id")?,
        app_id: id(row, "app_id")?,
        plan: get(row, "plan")?,
        seats: seat_cap(row)?,
        status: SubscriptionStatus::parse(&status).ok_or_else(|| bad_row("subscription"))?,
        valid_from: get(row, "valid_from")?,
        valid_until: get(row, "valid_until")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn role(row: &Row) -> Result<Role> {
    let permissions: Vec<String> = get(row, "permissions")?;
    Ok(Role {
        id: id(row, "id")?,
        app_id: id(row, "app_id")?,
        key: get(row, "key")?,
        name: get(row, "name")?,
        permissions: permissions.into_iter().collect::<BTreeSet<_>>(),
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn membership(row: &Row) -> Result<Membership> {
    Ok(Membership {
        id: id(row, "id")?,
        business_id: id(row, "business_id")?,
        subscription_id: id(row, "subscription_id")?,
        app_id: id(row, "app_id")?,
        user_id: id(row, "user_id")?,
        role_id: id(row, "role_id")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn invitation(row: &Row) -> Result<Invitation> {
    let invitee = match opt_id(row, "invitee_user_id")? {
        Some(user_id) => Invitee::Existing { user_id },
        None => Invitee::New {
            first_name: get::<Option<String>, _>(row, "invitee_first_name")?
                .ok_or_else(|| bad_row("invitation"))?,
            last_name: get::<Option<String>, _>(row, "invitee_last_name")?
                .ok_or_else(|| bad_row("invitation"))?,
        },
    };
    let status: String = get(row, "status")?;
    let delivery_state: String = get(row, "delivery_state")?;
    Ok(Invitation {
        id: id(row, "id")?,
        business_id: id(row, "business_id")?,
        app_id: id(row, "app_id")?,
        subscription_id: id(row, "subscription_id")?,
        role_id: id(row, "role_id")?,
        invitee,
        email: get(row, "email")?,
        email_key: get(row, "email_key")?,
        inviter_id: id(row, "inviter_id")?,
        status: InvitationStatus::parse(&status).ok_or_else(|| bad_row("invitation"))?,
        locale: get(row, "locale")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        last_sent_at: get(row, "last_sent_at")?,
        send_count: get_u32(row, "send_count")?,
        responded_at: get(row, "responded_at")?,
        accepted_user_id: opt_id(row, "accepted_user_id")?,
        delivery: DeliveryStatus {
            state: DeliveryState::parse(&delivery_state).ok_or_else(|| bad_row("invitation"))?,
            attempts: get_u32(row, "delivery_attempts")?,
            last_error: get(row, "delivery_last_error")?,
            delivered_at: get(row, "delivered_at")?,
        },
    })
}

pub(super) fn invitation_record(row: &Row) -> Result<InvitationRecord> {
    let hash: Vec<u8> = get(row, "token_hash")?;
    Ok(InvitationRecord {
        invitation: invitation(row)?,
        token_hash: TokenHash(
            hash.try_into()
                .map_err(|_| bad_row("invitation token hash"))?,
        ),
    })
}

pub(super) fn event(row: &Row) -> Result<Event> {
    let kind: String = get(row, "kind")?;
    Ok(Event {
        id: id(row, "id")?,
        business_id: id(row, "business_id")?,
        invitation_id: id(row, "invitation_id")?,
        kind: EventKind::parse(&kind).ok_or_else(|| bad_row("event"))?,
        actor_id: opt_id(row, "actor_id")?,
        at: get(row, "at")?,
        detail: get(row, "detail")?,
    })
}

pub(super) fn message(row: &Row) -> Result<OutboxMessage> {
    let state: String = get(row, "state")?;
    Ok(OutboxMessage {
        id: id(row, "id")?,
        business_id: id(row, "business_id")?,
        invitation_id: id(row, "invitation_id")?,
        sealed_token: get(row, "sealed_token")?,
        state: OutboxState::parse(&state).ok_or_else(|| bad_row("outbox"))?,
        attempts: get_u32(row, "attempts")?,
        next_attempt_at: get(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn idempotency(row: &Row) -> Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        business_id: id(row, "business_id")?,
        key: get(row, "key")?,
        fingerprint: get(row, "fingerprint")?,
        result: get(row, "result")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
    })
}
