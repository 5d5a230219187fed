//! Catalog records: businesses, apps, subscriptions, seats, roles, users, memberships.

use chrono::{DateTime, Utc};
use invite_core::service::{BusinessOption, SubscriptionOption};
use invite_core::{
    Application, Business, Membership, Role, SeatCounts, SeatUsage, Subscription, User,
};

use pyo3::prelude::*;

use crate::convert::{Count, record, wrapper};

wrapper!(
    /// A business (tenant).
    PyBusiness => "Business", Business
);
record!(PyBusiness, repr = [id, name], {
    /// Id.
    id -> String = |b| b.id.to_string();
    /// Display name.
    name -> String = |b| b.name.clone();
    /// When it was created.
    created_at -> DateTime<Utc> = |b| b.created_at;
});

wrapper!(
    /// An application a business can enable.
    PyApp => "App", Application
);
record!(PyApp, repr = [id, name], {
    /// Id.
    id -> String = |a| a.id.to_string();
    /// Display name.
    name -> String = |a| a.name.clone();
    /// When it was created.
    created_at -> DateTime<Utc> = |a| a.created_at;
});

wrapper!(
    /// One business's subscription to one app.
    PySubscription => "Subscription", Subscription
);
record!(PySubscription, repr = [id, plan, seats, status], {
    /// Id.
    id -> String = |s| s.id.to_string();
    /// Owning business.
    business_id -> String = |s| s.business_id.to_string();
    /// The app subscribed to.
    app_id -> String = |s| s.app_id.to_string();
    /// Plan name.
    plan -> String = |s| s.plan.clone();
    /// Seat cap; `None` is unlimited.
    seats -> Option<u32> = |s| s.seats;
    /// `"active"`, `"suspended"` or `"expired"`.
    status -> &'static str = |s| s.status.as_str();
    /// Start of validity (inclusive), if bounded.
    valid_from -> Option<DateTime<Utc>> = |s| s.valid_from;
    /// End of validity (exclusive), if bounded.
    valid_until -> Option<DateTime<Utc>> = |s| s.valid_until;
    /// When it was created.
    created_at -> DateTime<Utc> = |s| s.created_at;
});

wrapper!(
    /// Seat information of a subscription, from its counters.
    PySeatUsage => "SeatUsage", SeatUsage
);
record!(PySeatUsage, repr = [total, used, reserved, available], {
    /// Seat cap; `None` is unlimited.
    total -> Option<u32> = |s| s.total;
    /// Seats held by members.
    used -> u32 = |s| s.used;
    /// Seats reserved by pending invitations.
    reserved -> u32 = |s| s.reserved;
    /// Free seats; `None` is unlimited.
    available -> Option<u32> = |s| s.available;
    /// Whether there is no cap.
    unlimited -> bool = |s| s.is_unlimited();
});

#[pyo3::pymethods]
impl PySeatUsage {
    /// Whether at least `n` seats are free.
    ///
    /// Args:
    ///     n: How many seats are needed.
    #[pyo3(signature = (n = Count::from(1)), text_signature = "($self, n=1)")]
    fn has_room_for(&self, py: Python<'_>, n: Count) -> PyResult<bool> {
        Ok(self.inner.has_room_for(n.to_u32(py, "n")?))
    }
}

wrapper!(
    /// Seat counts recounted from the records (a check, not for the page).
    PySeatCounts => "SeatCounts", SeatCounts
);
record!(PySeatCounts, repr = [used, reserved], {
    /// Seats held by memberships.
    used -> u32 = |s| s.used;
    /// Seats reserved by pending invitations.
    reserved -> u32 = |s| s.reserved;
});

wrapper!(
    /// An application role: key, name and permission set.
    PyRole => "Role", Role
);
record!(PyRole, repr = [id, key, name], {
    /// Id.
    id -> String = |r| r.id.to_string();
    /// The app this role belongs to.
    app_id -> String = |r| r.app_id.to_string();
    /// Stable key (`"member"`, `"admin"`).
    key -> String = |r| r.key.clone();
    /// Display name.
    name -> String = |r| r.name.clone();
    /// Permissions granted, sorted.
    permissions -> Vec<String> = |r| r.permissions.iter().cloned().collect();
    /// When it was created.
    created_at -> DateTime<Utc> = |r| r.created_at;
});

wrapper!(
    /// A person known to the system.
    PyUser => "User", User
);
record!(PyUser, repr = [id, email, first_name, last_name], {
    /// Id.
    id -> String = |u| u.id.to_string();
    /// The address as entered: where mail goes.
    email -> String = |u| u.email.clone();
    /// Canonical email key, used for every comparison.
    email_key -> String = |u| u.email_key.clone();
    /// First name.
    first_name -> String = |u| u.first_name.clone();
    /// Last name.
    last_name -> String = |u| u.last_name.clone();
    /// "First Last".
    display_name -> String = |u| u.display_name();
    /// When the user was created.
    created_at -> DateTime<Utc> = |u| u.created_at;
});

wrapper!(
    /// A seat: one user in one subscription with one role.
    PyMembership => "Membership", Membership
);
record!(PyMembership, repr = [id, user_id, subscription_id, role_id], {
    /// Id.
    id -> String = |m| m.id.to_string();
    /// Business of the subscription.
    business_id -> String = |m| m.business_id.to_string();
    /// The subscription whose seat this is.
    subscription_id -> String = |m| m.subscription_id.to_string();
    /// The subscription's app.
    app_id -> String = |m| m.app_id.to_string();
    /// The member.
    user_id -> String = |m| m.user_id.to_string();
    /// The member's role.
    role_id -> String = |m| m.role_id.to_string();
    /// When the seat was taken.
    created_at -> DateTime<Utc> = |m| m.created_at;
});

wrapper!(
    /// A business the inviter may invite into.
    PyBusinessOption => "BusinessOption", BusinessOption
);
record!(PyBusinessOption, repr = [business, is_admin], {
    /// The business.
    business -> PyBusiness = |o| o.business.clone().into();
    /// Whether the inviter administers it.
    is_admin -> bool = |o| o.is_admin;
});

wrapper!(
    /// A subscription of the chosen business and app, with its seats.
    PySubscriptionOption => "SubscriptionOption", SubscriptionOption
);
record!(PySubscriptionOption, repr = [subscription, seats, active], {
    /// The subscription.
    subscription -> PySubscription = |o| o.subscription.clone().into();
    /// Seat usage as of now: an invitation past its expiry holds no seat, swept or not.
    seats -> PySeatUsage = |o| o.seats.into();
    /// Active and inside its validity window now.
    active -> bool = |o| o.active;
});
