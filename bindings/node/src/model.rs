//! The records JS receives: camelCase objects with `Date` timestamps and string unions.
//! Thin copies of the core's model types (`From` impls only).

use chrono::{DateTime, Utc};
use invite_core as core;
use napi_derive::napi;

use crate::shape::{Args, Prop, Shape, Shaped, to_napi_by_shape};

/// Invitation states.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Sent; holds a seat reservation.
    Pending,
    /// Accepted: the reservation became a membership.
    Accepted,
    /// Declined by the invitee.
    Declined,
    /// Revoked by an admin.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl From<core::InvitationStatus> for InvitationStatus {
    fn from(s: core::InvitationStatus) -> Self {
        match s {
            core::InvitationStatus::Pending => Self::Pending,
            core::InvitationStatus::Accepted => Self::Accepted,
            core::InvitationStatus::Declined => Self::Declined,
            core::InvitationStatus::Revoked => Self::Revoked,
            core::InvitationStatus::Expired => Self::Expired,
        }
    }
}

impl From<InvitationStatus> for core::InvitationStatus {
    fn from(s: InvitationStatus) -> Self {
        match s {
            InvitationStatus::Pending => Self::Pending,
            InvitationStatus::Accepted => Self::Accepted,
            InvitationStatus::Declined => Self::Declined,
            InvitationStatus::Revoked => Self::Revoked,
            InvitationStatus::Expired => Self::Expired,
        }
    }
}

/// Whether a subscription can take new members.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// In force.
    Active,
    /// Paused by the provider.
    Suspended,
    /// Ended.
    Expired,
}

impl From<core::SubscriptionStatus> for SubscriptionStatus {
    fn from(s: core::SubscriptionStatus) -> Self {
        match s {
            core::SubscriptionStatus::Active => Self::Active,
            core::SubscriptionStatus::Suspended => Self::Suspended,
            core::SubscriptionStatus::Expired => Self::Expired,
        }
    }
}

impl From<SubscriptionStatus> for core::SubscriptionStatus {
    fn from(s: SubscriptionStatus) -> Self {
        match s {
            SubscriptionStatus::Active => Self::Active,
            SubscriptionStatus::Suspended => Self::Suspended,
            SubscriptionStatus::Expired => Self::Expired,
        }
    }
}

/// What an audit event records.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Invitation saved.
    Created,
    /// Its email was queued.
    Sent,
    /// Sent again with a new token.
    Resent,
    /// The mailer took the email.
    Delivered,
    /// A delivery attempt failed.
    DeliveryFailed,
    /// Accepted.
    Accepted,
    /// Declined.
    Declined,
    /// Revoked.
    Revoked,
    /// Expired (written by the sweep).
    Expired,
}

impl From<core::EventKind> for EventKind {
    fn from(k: core::EventKind) -> Self {
        match k {
            core::EventKind::Created => Self::Created,
            core::EventKind::Sent => Self::Sent,
            core::EventKind::Resent => Self::Resent,
            core::EventKind::Delivered => Self::Delivered,
            core::EventKind::DeliveryFailed => Self::DeliveryFailed,
            core::EventKind::Accepted => Self::Accepted,
            core::EventKind::Declined => Self::Declined,
            core::EventKind::Revoked => Self::Revoked,
            core::EventKind::Expired => Self::Expired,
        }
    }
}

/// Where an invitation's latest email stands.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// In the outbox, not yet delivered.
    Queued,
    /// Handed to the mailer.
    Sent,
    /// Gave up after the maximum attempts (an admin can retry).
    Failed,
}

impl From<core::DeliveryState> for DeliveryState {
    fn from(s: core::DeliveryState) -> Self {
        match s {
            core::DeliveryState::Queued => Self::Queued,
            core::DeliveryState::Sent => Self::Sent,
            core::DeliveryState::Failed => Self::Failed,
        }
    }
}

/// Where an outbox message stands.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for (re)delivery.
    Queued,
    /// Delivered.
    Sent,
    /// Gave up.
    Failed,
    /// Superseded by a newer email, or its invitation left pending.
    Cancelled,
}

impl From<core::OutboxState> for OutboxState {
    fn from(s: core::OutboxState) -> Self {
        match s {
            core::OutboxState::Queued => Self::Queued,
            core::OutboxState::Sent => Self::Sent,
            core::OutboxState::Failed => Self::Failed,
            core::OutboxState::Cancelled => Self::Cancelled,
        }
    }
}

/// A tenant (organisation).
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct Business {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<core::Business> for Business {
    fn from(b: core::Business) -> Self {
        Business {
            id: b.id.to_string(),
            name: b.name,
            created_at: b.created_at,
        }
    }
}

/// An application a business can enable.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct App {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<core::Application> for App {
    fn from(a: core::Application) -> Self {
        App {
            id: a.id.to_string(),
            name: a.name,
            created_at: a.created_at,
        }
    }
}

/// One business's subscription to one app.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Id.
    pub id: String,
    /// Owning business.
    pub business_id: String,
    /// The app subscribed to.
    pub app_id: String,
    /// Plan name.
    pub plan: String,
    /// Seat cap; `null` is unlimited.
    pub seats: Option<u32>,
    /// Status.
    pub status: SubscriptionStatus,
    /// Start of validity (inclusive), if bounded.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of validity (exclusive), if bounded.
    pub valid_until: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<core::Subscription> for Subscription {
    fn from(s: core::Subscription) -> Self {
        Subscription {
            id: s.id.to_string(),
            business_id: s.business_id.to_string(),
            app_id: s.app_id.to_string(),
            plan: s.plan,
            seats: s.seats,
            status: s.status.into(),
            valid_from: s.valid_from,
            valid_until: s.valid_until,
            created_at: s.created_at,
        }
    }
}

/// Seat information shown on the page.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct SeatUsage {
    /// Seat cap; `null` is unlimited.
    pub total: Option<u32>,
    /// Seats held by members.
    pub used: u32,
    /// Seats reserved by pending invitations.
    pub reserved: u32,
    /// Free seats; `null` is unlimited.
    pub available: Option<u32>,
    /// No cap.
    pub unlimited: bool,
}

impl From<core::SeatUsage> for SeatUsage {
    fn from(u: core::SeatUsage) -> Self {
        SeatUsage {
            total: u.total,
            used: u.used,
            reserved: u.reserved,
            available: u.available,
            unlimited: u.is_unlimited(),
        }
    }
}

/// Seat counters as recounted from the records.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SeatCounts {
    /// Seats held by memberships.
    pub used: u32,
    /// Seats reserved by pending invitations.
    pub reserved: u32,
}

impl From<core::SeatCounts> for SeatCounts {
    fn from(c: core::SeatCounts) -> Self {
        SeatCounts {
            used: c.used,
            reserved: c.reserved,
        }
    }
}

/// An application role: key, name and permission set.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct Role {
    /// Id.
    pub id: String,
    /// The app this role belongs to.
    pub app_id: String,
    /// Stable key (`"member"`, `"admin"`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Permissions granted, sorted.
    pub permissions: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<core::Role> for Role {
    fn from(r: core::Role) -> Self {
        Role {
            id: r.id.to_string(),
            app_id: r.app_id.to_string(),
            key: r.key,
            name: r.name,
            permissions: r.permissions.into_iter().collect(),
            created_at: r.created_at,
        }
    }
}

/// A person known to the system.
#[napi(object, use_nullable = true, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// The address as entered: where mail goes.
    pub email: String,
    /// Canonical email key: used for every comparison.
    pub email_key: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl From<core::User> for User {
    fn from(u: core::User) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            email_key: u.email_key,
            first_name: u.first_name,
            last_name: u.last_name,
            created_at: u.created_at,
        }
    }
}

/// `User`'s properties, in field order (built by `shape`).
pub const USER: &[Prop] = &[
    Prop::Value("id"),
    Prop::Value("email"),
    Prop::Value("emailKey"),
    Prop::Value("firstName"),
    Prop::Value("lastName"),
    Prop::Value("createdAt"),
];

impl Shaped for User {
    const SHAPE: Shape = Shape::User;

    /// Pushes the values of `USER`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let User {
            id,
            email,
            email_key,
            first_name,
            last_name,
            created_at,
        } = self;
        args.string(&id)?;
        args.string(&email)?;
        args.string(&email_key)?;
        args.string(&first_name)?;
        args.string(&last_name)?;
        args.value(created_at)
    }
}

/// A seat: one user in one subscription with one role.
#[napi(object, use_nullable = true, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct Membership {
    /// Id.
    pub id: String,
    /// Business of the subscription.
    pub business_id: String,
    /// The subscription whose seat this is.
    pub subscription_id: String,
    /// The subscription's app.
    pub app_id: String,
    /// The member.
    pub user_id: String,
    /// The member's role.
    pub role_id: String,
    /// When the seat was taken.
    pub created_at: DateTime<Utc>,
}

impl From<core::Membership> for Membership {
    fn from(m: core::Membership) -> Self {
        Membership {
            id: m.id.to_string(),
            business_id: m.business_id.to_string(),
            subscription_id: m.subscription_id.to_string(),
            app_id: m.app_id.to_string(),
            user_id: m.user_id.to_string(),
            role_id: m.role_id.to_string(),
            created_at: m.created_at,
        }
    }
}

/// `Membership`'s properties, in field order (built by `shape`).
pub const MEMBERSHIP: &[Prop] = &[
    Prop::Value("id"),
    Prop::Value("businessId"),
    Prop::Value("subscriptionId"),
    Prop::Value("appId"),
    Prop::Value("userId"),
    Prop::Value("roleId"),
    Prop::Value("createdAt"),
];

impl Shaped for Membership {
    const SHAPE: Shape = Shape::Membership;

    /// Pushes the values of `MEMBERSHIP`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let Membership {
            id,
            business_id,
            subscription_id,
            app_id,
            user_id,
            role_id,
            created_at,
        } = self;
        args.string(&id)?;
        args.string(&business_id)?;
        args.string(&subscription_id)?;
        args.string(&app_id)?;
        args.string(&user_id)?;
        args.string(&role_id)?;
        args.value(created_at)
    }
}

/// Who is invited: an existing user (`kind: "existing"`, `userId`) or a new person
/// (`kind: "new"`, `firstName`, `lastName`).
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct Invitee {
    /// `"existing"` or `"new"`.
    #[napi(ts_type = "'existing' | 'new'")]
    pub kind: String,
    /// The existing user.
    pub user_id: Option<String>,
    /// A new person's first name.
    pub first_name: Option<String>,
    /// A new person's last name.
    pub last_name: Option<String>,
}

impl From<core::Invitee> for Invitee {
    fn from(i: core::Invitee) -> Self {
        match i {
            core::Invitee::Existing { user_id } => Invitee {
                kind: "existing".to_owned(),
                user_id: Some(user_id.to_string()),
                first_name: None,
                last_name: None,
            },
            core::Invitee::New {
                first_name,
                last_name,
            } => Invitee {
                kind: "new".to_owned(),
                user_id: None,
                first_name: Some(first_name),
                last_name: Some(last_name),
            },
        }
    }
}

/// Delivery status of an invitation's latest email.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct DeliveryStatus {
    /// State.
    pub state: DeliveryState,
    /// Delivery attempts of the latest email.
    pub attempts: u32,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When it was last handed to the mailer.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<core::DeliveryStatus> for DeliveryStatus {
    fn from(d: core::DeliveryStatus) -> Self {
        DeliveryStatus {
            state: d.state.into(),
            attempts: d.attempts,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

/// An invitation (never carries its token).
#[napi(object, use_nullable = true, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Business.
    pub business_id: String,
    /// App.
    pub app_id: String,
    /// Subscription whose seat is reserved.
    pub subscription_id: String,
    /// Role granted at accept.
    pub role_id: String,
    /// Who is invited.
    pub invitee: Invitee,
    /// Address as entered: where mail goes.
    pub email: String,
    /// Canonical email key.
    pub email_key: String,
    /// Who sent it first: a resend by someone else keeps it, and accept re-checks this
    /// inviter's rights.
    pub inviter_id: String,
    /// Effective status (a pending invitation past its expiry reads `expired`).
    pub status: InvitationStatus,
    /// Locale for the email, if chosen.
    pub locale: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires (accept at or after this instant fails).
    pub expires_at: DateTime<Utc>,
    /// Last (re)sent.
    pub last_sent_at: DateTime<Utc>,
    /// How many times it was sent (1 + resends).
    pub send_count: u32,
    /// When it left `pending`.
    pub responded_at: Option<DateTime<Utc>>,
    /// The user who accepted.
    pub accepted_user_id: Option<String>,
    /// Delivery status of the latest email.
    pub delivery: DeliveryStatus,
}

impl From<core::Invitation> for Invitation {
    fn from(i: core::Invitation) -> Self {
        Invitation {
            id: i.id.to_string(),
            business_id: i.business_id.to_string(),
            app_id: i.app_id.to_string(),
            subscription_id: i.subscription_id.to_string(),
            role_id: i.role_id.to_string(),
            invitee: i.invitee.into(),
            email: i.email,
            email_key: i.email_key,
            inviter_id: i.inviter_id.to_string(),
            status: i.status.into(),
            locale: i.locale,
            created_at: i.created_at,
            expires_at: i.expires_at,
            last_sent_at: i.last_sent_at,
            send_count: i.send_count,
            responded_at: i.responded_at,
            accepted_user_id: i.accepted_user_id.map(|u| u.to_string()),
            delivery: i.delivery.into(),
        }
    }
}

/// `Invitation`'s properties, in field order (built by `shape`), with its `invitee` and
/// `delivery`.
pub const INVITATION: &[Prop] = &[
    Prop::Value("id"),
    Prop::Value("businessId"),
    Prop::Value("appId"),
    Prop::Value("subscriptionId"),
    Prop::Value("roleId"),
    Prop::Object(
        "invitee",
        &[
            Prop::Value("kind"),
            Prop::Value("userId"),
            Prop::Value("firstName"),
            Prop::Value("lastName"),
        ],
    ),
    Prop::Value("email"),
    Prop::Value("emailKey"),
    Prop::Value("inviterId"),
    Prop::Value("status"),
    Prop::Value("locale"),
    Prop::Value("createdAt"),
    Prop::Value("expiresAt"),
    Prop::Value("lastSentAt"),
    Prop::Value("sendCount"),
    Prop::Value("respondedAt"),
    Prop::Value("acceptedUserId"),
    Prop::Object(
        "delivery",
        &[
            Prop::Value("state"),
            Prop::Value("attempts"),
            Prop::Value("lastError"),
            Prop::Value("deliveredAt"),
        ],
    ),
];

impl Shaped for Invitation {
    const SHAPE: Shape = Shape::Invitation;

    /// Pushes the values of `INVITATION`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let Invitation {
            id,
            business_id,
            app_id,
            subscription_id,
            role_id,
            invitee,
            email,
            email_key,
            inviter_id,
            status,
            locale,
            created_at,
            expires_at,
            last_sent_at,
            send_count,
            responded_at,
            accepted_user_id,
            delivery,
        } = self;
        args.string(&id)?;
        args.string(&business_id)?;
        args.string(&app_id)?;
        args.string(&subscription_id)?;
        args.string(&role_id)?;
        let Invitee {
            kind,
            user_id,
            first_name,
            last_name,
        } = invitee;
        args.string(&kind)?;
        args.nullable_string(user_id.as_deref())?;
        args.nullable_string(first_name.as_deref())?;
        args.nullable_string(last_name.as_deref())?;
        args.string(&email)?;
        args.string(&email_key)?;
        args.string(&inviter_id)?;
        args.value(status)?;
        args.nullable_string(locale.as_deref())?;
        args.value(created_at)?;
        args.value(expires_at)?;
        args.value(last_sent_at)?;
        args.value(send_count)?;
        args.nullable(responded_at)?;
        args.nullable_string(accepted_user_id.as_deref())?;
        let DeliveryStatus {
            state,
            attempts,
            last_error,
            delivered_at,
        } = delivery;
        args.value(state)?;
        args.value(attempts)?;
        args.nullable_string(last_error.as_deref())?;
        args.nullable(delivered_at)
    }
}

to_napi_by_shape!(User, Membership, Invitation);

/// An audit record of one state change. Never contains a token.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct Event {
    /// Id (time-ordered).
    pub id: String,
    /// Business.
    pub business_id: String,
    /// The invitation concerned.
    pub invitation_id: String,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (`null` for the system or an anonymous invitee).
    pub actor_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Extra detail (a delivery error's message, …).
    pub detail: Option<String>,
}

impl From<core::Event> for Event {
    fn from(e: core::Event) -> Self {
        Event {
            id: e.id.to_string(),
            business_id: e.business_id.to_string(),
            invitation_id: e.invitation_id.to_string(),
            kind: e.kind.into(),
            actor_id: e.actor_id.map(|a| a.to_string()),
            at: e.at,
            detail: e.detail,
        }
    }
}

/// One email of an invitation's delivery history (the sealed token is never exposed).
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// Id; also the stable `messageId` handed to mailers.
    pub id: String,
    /// Business.
    pub business_id: String,
    /// Invitation the email is for.
    pub invitation_id: String,
    /// State.
    pub state: OutboxState,
    /// Attempts so far.
    pub attempts: u32,
    /// Earliest next attempt.
    pub next_attempt_at: DateTime<Utc>,
    /// Last failure's message.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: DateTime<Utc>,
}

impl From<core::OutboxMessage> for OutboxMessage {
    fn from(m: core::OutboxMessage) -> Self {
        OutboxMessage {
            id: m.id.to_string(),
            business_id: m.business_id.to_string(),
            invitation_id: m.invitation_id.to_string(),
            state: m.state.into(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
        }
    }
}

/// A page of users.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The items.
    pub items: Vec<User>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of invitations.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct InvitationPage {
    /// The items.
    pub items: Vec<Invitation>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of audit events.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The items.
    pub items: Vec<Event>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of memberships.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct MembershipPage {
    /// The items.
    pub items: Vec<Membership>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Converts a core page into a JS page type.
pub fn page<T, U: From<T>, P>(
    page: core::Page<T>,
    make: impl FnOnce(Vec<U>, Option<String>) -> P,
) -> P {
    make(
        page.items.into_iter().map(U::from).collect(),
        page.next_cursor,
    )
}

/// Converts every item of a list.
pub fn list<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}
