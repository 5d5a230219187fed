//! Catalog a host loads: businesses, apps, subscriptions, roles, users, admins, seats.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lifecycle::{refuse_pending_duplicate, sweep_overdue};
use super::paging::{Listing, next_cursor};
use super::{InviteService, Unit, found};
use crate::clock::in_service_years;
use crate::error::{Error, ErrorCode, FieldCode, FieldError, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, MembershipId, RoleId, SubscriptionId, UserId};
use crate::input::{Email, MAX_PLAN_LEN, MAX_TEXT_LEN, bounded_text, validate_name};
use crate::model::{
    Application, Business, Membership, Role, SeatCounts, SeatUsage, Subscription,
    SubscriptionStatus, User,
};
use crate::store::Transaction;

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email as entered.
    pub email: String,
}

/// A subscription to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubscription {
    /// Owning business.
    pub business_id: BusinessId,
    /// App (must exist).
    pub app_id: ApplicationId,
    /// Plan name.
    pub plan: String,
    /// Seat cap; `None` is unlimited.
    pub seats: Option<u32>,
    /// Status.
    pub status: SubscriptionStatus,
    /// Start of validity.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of validity (exclusive).
    pub valid_until: Option<DateTime<Utc>>,
}

impl NewSubscription {
    /// An active subscription with `seats` (`None`: unlimited) and no validity window.
    pub fn new(
        business_id: BusinessId,
        app_id: ApplicationId,
        plan: impl Into<String>,
        seats: Option<u32>,
    ) -> Self {
        NewSubscription {
            business_id,
            app_id,
            plan: plan.into(),
            seats,
            status: SubscriptionStatus::Active,
            valid_from: None,
            valid_until: None,
        }
    }
}

/// What [`InviteService::change_subscription`] changes: each field that is `Some` is
/// set (`seats: Some(None)` makes the subscription unlimited), the others are kept as
/// the store has them when the change is applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionChanges {
    /// New plan name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// New seat cap (`Some(None)`: unlimited).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub seats: Option<Option<u32>>,
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SubscriptionStatus>,
    /// New start of validity (`Some(None)`: none).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<Option<DateTime<Utc>>>,
    /// New end of validity, exclusive (`Some(None)`: none).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

/// A field of a change that is present in the input: `null` is `Some(None)` (clear),
/// not `None` (keep), which only a missing field means.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl SubscriptionChanges {
    /// Changes that set every field to `subscription`'s.
    pub fn replacing(subscription: &Subscription) -> Self {
        SubscriptionChanges {
            plan: Some(subscription.plan.clone()),
            seats: Some(subscription.seats),
            status: Some(subscription.status),
            valid_from: Some(subscription.valid_from),
            valid_until: Some(subscription.valid_until),
        }
    }

    /// `current` with these changes applied.
    fn apply(&self, current: &Subscription) -> Subscription {
        Subscription {
            plan: self.plan.clone().unwrap_or_else(|| current.plan.clone()),
            seats: self.seats.unwrap_or(current.seats),
            status: self.status.unwrap_or(current.status),
            valid_from: self.valid_from.unwrap_or(current.valid_from),
            valid_until: self.valid_until.unwrap_or(current.valid_until),
            ..current.clone()
        }
    }
}

fn one_field(result: Result<String, FieldError>) -> Result<String> {
    result.map_err(|e| Error::validation(vec![e]))
}

/// A subscription's validity window: each bound in the years 1 to 9999 the service
/// works with (see [`crate::Clock`]; every store and both bindings' date types hold
/// them), and able to contain an instant: `valid_until` after `valid_from` when both
/// are set. `VALIDATION_FAILED`, the bound `OUT_OF_RANGE`, otherwise.
fn check_window(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<()> {
    let mut errors = FieldErrors::new();
    for (field, bound) in [("valid_from", from), ("valid_until", until)] {
        if bound.is_some_and(|at| !in_service_years(at)) {
            errors.push(
                field,
                FieldCode::OutOfRange,
                format!("{field} must fall in the years 1 to 9999"),
            );
        }
    }
    if errors.is_empty()
        && let (Some(from), Some(until)) = (from, until)
        && until <= from
    {
        errors.push(
            "valid_until",
            FieldCode::OutOfRange,
            "the subscription must end after it starts",
        );
    }
    errors.into_result()
}

impl InviteService {
    /// Creates a business.
    pub fn create_business(&self, name: &str) -> Result<Business> {
        let name = one_field(bounded_text(name, "name", MAX_TEXT_LEN))?;
        self.write(|u| {
            let business = Business {
                id: u.new_id()?,
                name: name.clone(),
                created_at: u.now,
            };
            u.tx.insert_business(&business)?;
            Ok(business)
        })
    }

    /// Renames a business.
    pub fn rename_business(&self, id: BusinessId, name: &str) -> Result<Business> {
        let name = one_field(bounded_text(name, "name", MAX_TEXT_LEN))?;
        self.write(|u| {
            let mut business = found(u.tx.get_business(id)?, "business")?;
            business.name = name.clone();
            u.tx.update_business(&business)?;
            Ok(business)
        })
    }

    /// A business by id.
    pub fn get_business(&self, id: BusinessId) -> Result<Business> {
        self.read(|tx, _| found(tx.get_business(id)?, "business"))
    }

    /// Every business.
    pub fn list_businesses(&self) -> Result<Vec<Business>> {
        self.read(|tx, _| tx.list_businesses())
    }

    /// Creates an app.
    pub fn create_app(&self, name: &str) -> Result<Application> {
        let name = one_field(bounded_text(name, "name", MAX_TEXT_LEN))?;
        self.write(|u| {
            let app = Application {
                id: u.new_id()?,
                name: name.clone(),
                created_at: u.now,
            };
            u.tx.insert_app(&app)?;
            Ok(app)
        })
    }

    /// Renames an app.
    pub fn rename_app(&self, id: ApplicationId, name: &str) -> Result<Application> {
        let name = one_field(bounded_text(name, "name", MAX_TEXT_LEN))?;
        self.write(|u| {
            let mut app = found(u.tx.get_app(id)?, "app")?;
            app.name = name.clone();
            u.tx.update_app(&app)?;
            Ok(app)
        })
    }

    /// An app by id.
    pub fn get_app(&self, id: ApplicationId) -> Result<Application> {
        self.read(|tx, _| found(tx.get_app(id)?, "app"))
    }

    /// Every app.
    pub fn list_apps(&self) -> Result<Vec<Application>> {
        self.read(|tx, _| tx.list_apps())
    }

    /// Enables or disables an app for a business.
    pub fn set_app_enabled(
        &self,
        business: BusinessId,
        app: ApplicationId,
        enabled: bool,
    ) -> Result<()> {
        self.write(|u| {
            found(u.tx.get_business(business)?, "business")?;
            found(u.tx.get_app(app)?, "app")?;
            u.tx.set_app_enabled(business, app, enabled)
        })
    }

    /// Creates a subscription (business and app must exist). A window that ends before
    /// it starts, or a bound outside the years 1 to 9999, is `VALIDATION_FAILED`.
    pub fn create_subscription(&self, new: &NewSubscription) -> Result<Subscription> {
        let plan = one_field(bounded_text(&new.plan, "plan", MAX_PLAN_LEN))?;
        check_window(new.valid_from, new.valid_until)?;
        self.write(|u| {
            found(u.tx.get_business(new.business_id)?, "business")?;
            found(u.tx.get_app(new.app_id)?, "app")?;
            let subscription = Subscription {
                id: u.new_id()?,
                business_id: new.business_id,
                app_id: new.app_id,
                plan: plan.clone(),
                seats: new.seats,
                status: new.status,
                valid_from: new.valid_from,
                valid_until: new.valid_until,
                created_at: u.now,
            };
            u.tx.insert_subscription(&subscription)?;
            Ok(subscription)
        })
    }

    /// Replaces a subscription's plan, seats, status and window with `subscription`'s
    /// (its business, app and creation time are kept); see
    /// [`InviteService::change_subscription`].
    pub fn update_subscription(&self, subscription: &Subscription) -> Result<Subscription> {
        self.change_subscription(
            subscription.business_id,
            subscription.id,
            &SubscriptionChanges::replacing(subscription),
        )
    }

    /// Changes some of a subscription's plan, seats, status and window, in one
    /// transaction: fields left out keep the values the store has at that moment, so
    /// two admins changing different fields at once both keep their change. Lowering
    /// the cap below the seats in use or reserved is `SEAT_LIMIT_REACHED`: the invariant
    /// holds at every instant. A window that ends before it starts, or a bound outside
    /// the years 1 to 9999, is `VALIDATION_FAILED`.
    pub fn change_subscription(
        &self,
        business: BusinessId,
        id: SubscriptionId,
        changes: &SubscriptionChanges,
    ) -> Result<Subscription> {
        let plan = changes
            .plan
            .as_deref()
            .map(|plan| one_field(bounded_text(plan, "plan", MAX_PLAN_LEN)))
            .transpose()?;
        self.write(|u| {
            // The seat lock first (as in `lock_seats`): the subscription read after it is
            // the latest, and concurrent changes wait for this one.
            let mut counts = u.tx.seat_counts_for_update(business, id)?;
            let current = found(u.tx.get_subscription(business, id)?, "subscription")?;
            let subscription = SubscriptionChanges {
                plan: plan.clone(),
                ..changes.clone()
            }
            .apply(&current);
            check_window(subscription.valid_from, subscription.valid_until)?;
            let above = |counts: SeatCounts| {
                subscription
                    .seats
                    .is_some_and(|cap| counts.used.saturating_add(counts.reserved) > cap)
            };
            if above(counts) {
                // Overdue invitations hold no seat: sweep them, then recount.
                sweep_overdue(u, current.id)?;
                counts =
                    u.tx.seat_counts_for_update(current.business_id, current.id)?;
            }
            if above(counts) {
                return Err(Error::new(
                    ErrorCode::SeatLimitReached,
                    format!(
                        "{} seats are in use or reserved; the cap cannot go below that",
                        counts.used + counts.reserved
                    ),
                ));
            }
            u.tx.update_subscription(&subscription)?;
            Ok(subscription)
        })
    }

    /// A subscription of the business.
    pub fn get_subscription(
        &self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<Subscription> {
        self.read(|tx, _| found(tx.get_subscription(business, id)?, "subscription"))
    }

    /// Seat usage of a subscription, read from its counters (O(1)). An invitation past
    /// its expiry keeps its reservation here until a sweep ([`InviteService::expire_overdue`])
    /// or the next write that needs the seat releases it; the Invite User form's
    /// subscription options ([`InviteService::subscriptions_for`]) already leave it out.
    pub fn seat_usage(&self, business: BusinessId, id: SubscriptionId) -> Result<SeatUsage> {
        self.read(|tx, _| {
            let subscription = found(tx.get_subscription(business, id)?, "subscription")?;
            let counts = tx.seat_counts_for_update(business, id)?;
            Ok(SeatUsage::new(subscription.seats, counts))
        })
    }

    /// Creates a role of an app with a permission set.
    pub fn create_role(
        &self,
        app: ApplicationId,
        key: &str,
        name: &str,
        permissions: &[&str],
    ) -> Result<Role> {
        let mut errors = FieldErrors::new();
        let key = errors.take(bounded_text(key, "key", MAX_TEXT_LEN));
        let name = errors.take(bounded_text(name, "name", MAX_TEXT_LEN));
        let mut set = BTreeSet::new();
        for (i, p) in permissions.iter().enumerate() {
            if let Some(p) =
                errors.take(bounded_text(p, &format!("permissions[{i}]"), MAX_TEXT_LEN))
            {
                set.insert(p);
            }
        }
        errors.into_result()?;
        let (Some(key), Some(name)) = (key, name) else {
            return Err(Error::internal("validated fields missing"));
        };
        self.write(|u| {
            found(u.tx.get_app(app)?, "app")?;
            let role = Role {
                id: u.new_id()?,
                app_id: app,
                key: key.clone(),
                name: name.clone(),
                permissions: set.clone(),
                created_at: u.now,
            };
            u.tx.insert_role(&role)?;
            Ok(role)
        })
    }

    /// A role by id.
    pub fn get_role(&self, id: RoleId) -> Result<Role> {
        self.read(|tx, _| found(tx.get_role(id)?, "role"))
    }

    /// Every role of an app.
    pub fn list_roles(&self, app: ApplicationId) -> Result<Vec<Role>> {
        self.read(|tx, _| tx.list_roles(app))
    }

    /// Creates a user; `ALREADY_EXISTS` if the canonical email is taken.
    pub fn create_user(&self, new: &NewUser) -> Result<User> {
        let (first_name, last_name, email) = self.validate_person(new)?;
        self.write(|u| {
            let (address, key) = email.clone().into_parts();
            let user = User {
                id: u.new_id()?,
                email: address,
                email_key: key,
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                created_at: u.now,
            };
            u.tx.insert_user(&user)?;
            Ok(user)
        })
    }

    /// Changes a user's names and email.
    pub fn update_user(&self, id: UserId, new: &NewUser) -> Result<User> {
        let (first_name, last_name, email) = self.validate_person(new)?;
        self.write(|u| {
            let mut user = found(u.tx.get_user(id)?, "user")?;
            let (address, key) = email.clone().into_parts();
            user.first_name = first_name.clone();
            user.last_name = last_name.clone();
            user.email = address;
            user.email_key = key;
            u.tx.update_user(&user)?;
            Ok(user)
        })
    }

    fn validate_person(&self, new: &NewUser) -> Result<(String, String, Email)> {
        let mut errors = FieldErrors::new();
        let first = errors.take(validate_name(&new.first_name, "first_name"));
        let last = errors.take(validate_name(&new.last_name, "last_name"));
        let email = errors.take(Email::parse(&new.email, "email", self.config.email_policy));
        errors.into_result()?;
        match (first, last, email) {
            (Some(f), Some(l), Some(e)) => Ok((f, l, e)),
            _ => Err(Error::internal("validated fields missing")),
        }
    }

    /// A user by id.
    pub fn get_user(&self, id: UserId) -> Result<User> {
        self.read(|tx, _| found(tx.get_user(id)?, "user"))
    }

    /// A user by email (compared by canonical key).
    pub fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = Email::parse(email, "email", self.config.email_policy)
            .map_err(|e| Error::validation(vec![e]))?;
        self.read(|tx, _| tx.get_user_by_email_key(email.key()))
    }

    /// Makes a user an admin of a business, or not.
    pub fn set_business_admin(
        &self,
        business: BusinessId,
        user: UserId,
        admin: bool,
    ) -> Result<()> {
        self.write(|u| {
            found(u.tx.get_business(business)?, "business")?;
            found(u.tx.get_user(user)?, "user")?;
            u.tx.set_business_admin(business, user, admin)
        })
    }

    /// Gives a user a seat with a role directly (no invitation). Uses one seat.
    /// `ALREADY_INVITED` while a pending invitation to the subscription holds the
    /// person's seat (revoke it, or let them accept it).
    pub fn add_membership(
        &self,
        business: BusinessId,
        subscription: SubscriptionId,
        user: UserId,
        role: RoleId,
    ) -> Result<Membership> {
        self.write(|u| {
            let sub = found(
                u.tx.get_subscription(business, subscription)?,
                "subscription",
            )?;
            let person = found(u.tx.get_user(user)?, "user")?;
            let role = found(u.tx.get_role(role)?, "role")?;
            if role.app_id != sub.app_id {
                return Err(Error::new(
                    ErrorCode::RoleNotAssignable,
                    "the role is not a role of the subscription's app",
                ));
            }
            // The seat lock before the checks: a concurrent send to this person (or
            // membership) waits, and the checks see what it committed (on PostgreSQL
            // each statement reads what was committed before it started).
            let (mut counts, cap) = lock_seats(u, business, subscription)?;
            if u.tx
                .find_membership(business, subscription, user)?
                .is_some()
            {
                return Err(already_member());
            }
            // A pending invitation already holds this person's seat.
            if refuse_pending_duplicate(u, business, subscription, &person.email_key)? {
                counts = u.tx.seat_counts_for_update(business, subscription)?;
            }
            let mut counts = room_swept(u, business, subscription, counts, cap)?;
            counts.used += 1;
            check_cap(cap, counts)?;
            let membership = Membership {
                id: u.new_id()?,
                business_id: business,
                subscription_id: subscription,
                app_id: sub.app_id,
                user_id: user,
                role_id: role.id,
                created_at: u.now,
            };
            u.tx.insert_membership(&membership)?;
            u.tx.set_seat_counts(subscription, counts)?;
            Ok(membership)
        })
    }

    /// Removes a membership, freeing its seat.
    pub fn remove_membership(&self, business: BusinessId, id: MembershipId) -> Result<()> {
        self.write(|u| {
            let membership = found(u.tx.get_membership(business, id)?, "membership")?;
            let mut counts =
                u.tx.seat_counts_for_update(business, membership.subscription_id)?;
            counts.used = counts.used.saturating_sub(1);
            u.tx.delete_membership(business, id)?;
            u.tx.set_seat_counts(membership.subscription_id, counts)
        })
    }

    /// A subscription's memberships.
    pub fn list_memberships(
        &self,
        business: BusinessId,
        subscription: SubscriptionId,
        page: &super::PageRequest,
    ) -> Result<super::Page<Membership>> {
        let limit = page.size()?;
        let after = page.after_id(Listing::Memberships)?;
        self.read(|tx, _| {
            let items = tx.list_memberships(business, subscription, after, limit)?;
            let next_cursor =
                next_cursor(Listing::Memberships, &items, limit, |m| m.id.to_string());
            Ok(super::Page { items, next_cursor })
        })
    }

    /// A user's memberships (in one business, if given).
    pub fn memberships_of_user(
        &self,
        user: UserId,
        business: Option<BusinessId>,
    ) -> Result<Vec<Membership>> {
        self.read(|tx, _| tx.memberships_of_user(user, business))
    }

    /// Recounts a subscription's seats from its memberships and pending invitations
    /// (O(n): for checks and repair tools, not for the page).
    pub fn recount_seats(
        &self,
        business: BusinessId,
        subscription: SubscriptionId,
    ) -> Result<SeatCounts> {
        self.read(|tx, _| {
            found(tx.get_subscription(business, subscription)?, "subscription")?;
            Ok(SeatCounts {
                used: tx.count_memberships(subscription)?,
                reserved: tx.count_pending_in_subscription(subscription)?,
            })
        })
    }
}

pub(crate) fn already_member() -> Error {
    Error::new(
        ErrorCode::AlreadyMember,
        "the user already holds a seat in this subscription",
    )
}

/// Locks the subscription's seat counters for this unit and reads its cap as of the lock
/// (`seats_for_update`, one read).
///
/// As of the lock: a concurrent `update_subscription` lowering the cap has either
/// committed before it (and its cap is read here) or waits for this unit (and then sees
/// its seats). A cap read before the lock may no longer hold by the time the counters
/// change (on PostgreSQL, where writers of other rows run concurrently).
pub(crate) fn lock_seats(
    u: &mut Unit<'_>,
    business: BusinessId,
    subscription: SubscriptionId,
) -> Result<(SeatCounts, Option<u32>)> {
    u.tx.seats_for_update(business, subscription)
}

/// A subscription's seat counters as of `now`, for display: the reservations of
/// invitations past their expiry but not swept yet are left out (expiry is read from the
/// time; the next write that needs the seat sweeps them).
pub(crate) fn counts_at(
    tx: &mut dyn Transaction,
    business: BusinessId,
    subscription: SubscriptionId,
    now: DateTime<Utc>,
) -> Result<SeatCounts> {
    let mut counts = tx.seat_counts_for_update(business, subscription)?;
    if counts.reserved > 0 {
        let overdue = tx.count_overdue_pending(now, subscription)?;
        counts.reserved = counts.reserved.saturating_sub(overdue);
    }
    Ok(counts)
}

/// A subscription's counters with room made if it is full: its overdue invitations
/// still hold seats nobody can take up, so they are swept and the counters re-read
/// (under the seat lock the caller holds). `counts` as they were when there is room.
pub(crate) fn room_swept(
    u: &mut Unit<'_>,
    business: BusinessId,
    subscription: SubscriptionId,
    counts: SeatCounts,
    cap: Option<u32>,
) -> Result<SeatCounts> {
    if cap.is_none_or(|cap| counts.used.saturating_add(counts.reserved) < cap) {
        return Ok(counts);
    }
    sweep_overdue(u, subscription)?;
    u.tx.seat_counts_for_update(business, subscription)
}

/// `SEAT_LIMIT_REACHED` when `counts` exceed the cap.
pub(crate) fn check_cap(cap: Option<u32>, counts: SeatCounts) -> Result<()> {
    match cap {
        Some(cap) if counts.used.saturating_add(counts.reserved) > cap => Err(Error::new(
            ErrorCode::SeatLimitReached,
            format!("no seat left: all {cap} seats are in use or reserved"),
        )
        .with_help("free a seat, revoke a pending invitation, or raise the subscription's seats")),
        _ => Ok(()),
    }
}

/// Used by the lifecycle: reads the subscription and fails unless active at `now`.
pub(crate) fn active_subscription(
    tx: &mut dyn Transaction,
    business: BusinessId,
    id: SubscriptionId,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    let subscription = found(tx.get_subscription(business, id)?, "subscription")?;
    ensure_active(&subscription, now)?;
    Ok(subscription)
}

/// `APP_NOT_ENABLED` unless the business has the app enabled (checked by send, resend
/// and accept alike).
pub(crate) fn ensure_app_enabled(
    tx: &mut dyn Transaction,
    business: BusinessId,
    app: ApplicationId,
) -> Result<()> {
    if tx.is_app_enabled(business, app)? {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::AppNotEnabled,
        "the app is not enabled for this business",
    ))
}

/// `SUBSCRIPTION_INACTIVE` unless the subscription is active and in its window at `now`.
pub(crate) fn ensure_active(subscription: &Subscription, now: DateTime<Utc>) -> Result<()> {
    if subscription.is_active_at(now) {
        return Ok(());
    }
    let why = if subscription.status == SubscriptionStatus::Active {
        "outside its validity window"
    } else {
        subscription.status.as_str()
    };
    Err(Error::new(
        ErrorCode::SubscriptionInactive,
        format!("the subscription is {why}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::SubscriptionChanges;

    #[test]
    fn changes_keep_clear_and_set_through_json() {
        let clear = SubscriptionChanges {
            seats: Some(None),
            valid_until: Some(None),
            plan: Some("Team".into()),
            ..SubscriptionChanges::default()
        };
        let json = serde_json::to_string(&clear).unwrap_or_default();
        assert_eq!(json, r#"{"plan":"Team","seats":null,"valid_until":null}"#);
        let back: Option<SubscriptionChanges> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(clear), "null clears; only a missing field keeps");
        let keep: Option<SubscriptionChanges> = serde_json::from_str("{}").ok();
        assert_eq!(keep, Some(SubscriptionChanges::default()));
        let set: Option<SubscriptionChanges> = serde_json::from_str(r#"{"seats":5}"#).ok();
        assert_eq!(set.and_then(|c| c.seats), Some(Some(5)));
    }
}
