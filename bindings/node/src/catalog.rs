//! Catalog: businesses, apps, subscriptions, roles, users, admins, memberships, seats.

use invite_core::{NewSubscription, NewUser, SubscriptionChanges};
use napi::bindgen_prelude::{Either, Null};
use napi_derive::napi;

use invite_core::Error as CoreError;

use crate::convert::{
    JsInstant, PageOptions, id, nullable_count, nullable_instant, one_of, opt_id, opt_instant,
    page_request,
};
use crate::model::{
    App, Business, Membership, MembershipPage, Role, SeatCounts, SeatUsage, Subscription, User,
    list, page,
};
use crate::service::InviteService;
use crate::task::Call;

/// A person to create.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NewUserInput {
    /// First name (1–100 characters).
    pub first_name: String,
    /// Last name (1–100 characters).
    pub last_name: String,
    /// Email as entered.
    pub email: String,
}

impl From<NewUserInput> for NewUser {
    fn from(u: NewUserInput) -> Self {
        NewUser {
            first_name: u.first_name,
            last_name: u.last_name,
            email: u.email,
        }
    }
}

/// A subscription to create.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NewSubscriptionInput {
    /// Owning business.
    pub business_id: String,
    /// App (must exist).
    pub app_id: String,
    /// Plan name.
    pub plan: String,
    /// Seat cap, a whole number; omit or `null` for unlimited.
    pub seats: Option<Either<f64, Null>>,
    /// Status (default `"active"`).
    #[napi(ts_type = "SubscriptionStatus | undefined | null")]
    pub status: Option<Option<String>>,
    /// Start of validity (inclusive).
    #[napi(ts_type = "Date | undefined | null")]
    pub valid_from: Option<Option<JsInstant>>,
    /// End of validity (exclusive).
    #[napi(ts_type = "Date | undefined | null")]
    pub valid_until: Option<Option<JsInstant>>,
}

/// Changes to a subscription: a field left out (or `undefined`) keeps its value; `null`
/// makes the seats unlimited or removes a validity bound. A whole subscription as read
/// (changed) works too. The app and creation time cannot change.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SubscriptionInput {
    /// Id.
    pub id: String,
    /// Owning business.
    pub business_id: String,
    /// Plan name.
    pub plan: Option<String>,
    /// Seat cap, a whole number; `null` is unlimited.
    pub seats: Option<Either<f64, Null>>,
    /// Status.
    #[napi(ts_type = "SubscriptionStatus")]
    pub status: Option<String>,
    /// Start of validity (inclusive); `null` for none.
    #[napi(ts_type = "Date | null")]
    pub valid_from: Option<Either<JsInstant, Null>>,
    /// End of validity (exclusive); `null` for none.
    #[napi(ts_type = "Date | null")]
    pub valid_until: Option<Either<JsInstant, Null>>,
}

/// A role to create.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NewRoleInput {
    /// The app the role belongs to.
    pub app_id: String,
    /// Stable key (`"member"`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Permissions granted (`"invitations.send"` lets holders invite).
    pub permissions: Vec<String>,
}

/// A seat given directly, without an invitation.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NewMembershipInput {
    /// Business.
    pub business_id: String,
    /// Subscription.
    pub subscription_id: String,
    /// User.
    pub user_id: String,
    /// Role (of the subscription's app).
    pub role_id: String,
}

fn subscription_status(value: &str) -> Result<invite_core::SubscriptionStatus, CoreError> {
    one_of(value, "status", invite_core::SubscriptionStatus::parse)
}

#[napi]
impl InviteService {
    /// Creates a business.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Business>")]
    pub fn create_business(&self, name: String) -> Call<Business> {
        self.run(move |s| s.create_business(&name).map(Business::from))
    }

    /// Renames a business.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Business>")]
    pub fn rename_business(&self, business_id: String, name: String) -> Call<Business> {
        self.run(move |s| {
            s.rename_business(id(&business_id)?, &name)
                .map(Business::from)
        })
    }

    /// A business by id (`NOT_FOUND` if missing).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Business>")]
    pub fn get_business(&self, business_id: String) -> Call<Business> {
        self.run(move |s| s.get_business(id(&business_id)?).map(Business::from))
    }

    /// Every business.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<Business>>")]
    pub fn list_businesses(&self) -> Call<Vec<Business>> {
        self.run(|s| s.list_businesses().map(list))
    }

    /// Creates an app.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<App>")]
    pub fn create_app(&self, name: String) -> Call<App> {
        self.run(move |s| s.create_app(&name).map(App::from))
    }

    /// Renames an app.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<App>")]
    pub fn rename_app(&self, app_id: String, name: String) -> Call<App> {
        self.run(move |s| s.rename_app(id(&app_id)?, &name).map(App::from))
    }

    /// An app by id.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<App>")]
    pub fn get_app(&self, app_id: String) -> Call<App> {
        self.run(move |s| s.get_app(id(&app_id)?).map(App::from))
    }

    /// Every app.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<App>>")]
    pub fn list_apps(&self) -> Call<Vec<App>> {
        self.run(|s| s.list_apps().map(list))
    }

    /// Enables or disables an app for a business.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<void>")]
    pub fn set_app_enabled(&self, business_id: String, app_id: String, enabled: bool) -> Call<()> {
        self.run(move |s| s.set_app_enabled(id(&business_id)?, id(&app_id)?, enabled))
    }

    /// Creates a subscription (business and app must exist).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Subscription>")]
    pub fn create_subscription(&self, input: NewSubscriptionInput) -> Call<Subscription> {
        self.run(move |s| {
            let mut new = NewSubscription::new(
                id(&input.business_id)?,
                id(&input.app_id)?,
                input.plan,
                nullable_count(input.seats, "seats")?,
            );
            if let Some(status) = input.status.flatten() {
                new.status = subscription_status(&status)?;
            }
            new.valid_from = opt_instant(input.valid_from.flatten(), "valid_from")?;
            new.valid_until = opt_instant(input.valid_until.flatten(), "valid_until")?;
            s.create_subscription(&new).map(Subscription::from)
        })
    }

    /// Changes a subscription's plan, seats, status or window: the fields given change,
    /// the others keep their value, in one transaction (a concurrent change of other
    /// fields is kept). A cap below the seats in use or reserved is
    /// `SEAT_LIMIT_REACHED`; a window that ends before it starts is `VALIDATION_FAILED`.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Subscription>")]
    pub fn update_subscription(&self, input: SubscriptionInput) -> Call<Subscription> {
        self.run(move |s| {
            let changes = SubscriptionChanges {
                plan: input.plan,
                seats: input
                    .seats
                    .map(|n| nullable_count(Some(n), "seats"))
                    .transpose()?,
                status: input
                    .status
                    .map(|status| subscription_status(&status))
                    .transpose()?,
                valid_from: input
                    .valid_from
                    .map(|t| nullable_instant(Some(t), "valid_from"))
                    .transpose()?,
                valid_until: input
                    .valid_until
                    .map(|t| nullable_instant(Some(t), "valid_until"))
                    .transpose()?,
            };
            s.change_subscription(id(&input.business_id)?, id(&input.id)?, &changes)
                .map(Subscription::from)
        })
    }

    /// A subscription of the business.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Subscription>")]
    pub fn get_subscription(
        &self,
        business_id: String,
        subscription_id: String,
    ) -> Call<Subscription> {
        self.run(move |s| {
            s.get_subscription(id(&business_id)?, id(&subscription_id)?)
                .map(Subscription::from)
        })
    }

    /// Seat usage of a subscription (total, used, reserved, available), O(1) from its
    /// counters: an invitation past its expiry keeps its reservation here until
    /// `expireOverdue` (or the next write that needs the seat) releases it.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<SeatUsage>")]
    pub fn seat_usage(&self, business_id: String, subscription_id: String) -> Call<SeatUsage> {
        self.run(move |s| {
            s.seat_usage(id(&business_id)?, id(&subscription_id)?)
                .map(SeatUsage::from)
        })
    }

    /// Recounts a subscription's seats from its records (O(n): for checks and repairs).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<SeatCounts>")]
    pub fn recount_seats(&self, business_id: String, subscription_id: String) -> Call<SeatCounts> {
        self.run(move |s| {
            s.recount_seats(id(&business_id)?, id(&subscription_id)?)
                .map(SeatCounts::from)
        })
    }

    /// Creates a role of an app with a permission set.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Role>")]
    pub fn create_role(&self, input: NewRoleInput) -> Call<Role> {
        self.run(move |s| {
            let permissions: Vec<&str> = input.permissions.iter().map(String::as_str).collect();
            s.create_role(id(&input.app_id)?, &input.key, &input.name, &permissions)
                .map(Role::from)
        })
    }

    /// A role by id.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Role>")]
    pub fn get_role(&self, role_id: String) -> Call<Role> {
        self.run(move |s| s.get_role(id(&role_id)?).map(Role::from))
    }

    /// Every role of an app.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<Role>>")]
    pub fn list_roles(&self, app_id: String) -> Call<Vec<Role>> {
        self.run(move |s| s.list_roles(id(&app_id)?).map(list))
    }

    /// Creates a user; `ALREADY_EXISTS` if the email is taken, `VALIDATION_FAILED` with
    /// every field problem otherwise.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<User>")]
    pub fn create_user(&self, input: NewUserInput) -> Call<User> {
        self.run(move |s| s.create_user(&input.into()).map(User::from))
    }

    /// Changes a user's names and email.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<User>")]
    pub fn update_user(&self, user_id: String, input: NewUserInput) -> Call<User> {
        self.run(move |s| s.update_user(id(&user_id)?, &input.into()).map(User::from))
    }

    /// A user by id.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<User>")]
    pub fn get_user(&self, user_id: String) -> Call<User> {
        self.run(move |s| s.get_user(id(&user_id)?).map(User::from))
    }

    /// A user by email (compared canonically), or `null`.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<User | null>")]
    pub fn find_user_by_email(&self, email: String) -> Call<Option<User>> {
        self.run(move |s| s.find_user_by_email(&email).map(|u| u.map(User::from)))
    }

    /// Makes a user an admin of a business, or not.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<void>")]
    pub fn set_business_admin(
        &self,
        business_id: String,
        user_id: String,
        admin: bool,
    ) -> Call<()> {
        self.run(move |s| s.set_business_admin(id(&business_id)?, id(&user_id)?, admin))
    }

    /// Gives a user a seat with a role directly (uses one seat).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Membership>")]
    pub fn add_membership(&self, input: NewMembershipInput) -> Call<Membership> {
        self.run(move |s| {
            s.add_membership(
                id(&input.business_id)?,
                id(&input.subscription_id)?,
                id(&input.user_id)?,
                id(&input.role_id)?,
            )
            .map(Membership::from)
        })
    }

    /// Removes a membership, freeing its seat.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<void>")]
    pub fn remove_membership(&self, business_id: String, membership_id: String) -> Call<()> {
        self.run(move |s| s.remove_membership(id(&business_id)?, id(&membership_id)?))
    }

    /// A subscription's memberships, one page at a time.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<MembershipPage>")]
    pub fn list_memberships(
        &self,
        business_id: String,
        subscription_id: String,
        page_options: Option<PageOptions>,
    ) -> Call<MembershipPage> {
        self.run(move |s| {
            let found = s.list_memberships(
                id(&business_id)?,
                id(&subscription_id)?,
                &page_request(page_options),
            )?;
            Ok(page(found, |items, next_cursor| MembershipPage {
                items,
                next_cursor,
            }))
        })
    }

    /// A user's memberships (in one business, if given).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<Membership>>")]
    pub fn memberships_of_user(
        &self,
        user_id: String,
        business_id: Option<String>,
    ) -> Call<Vec<Membership>> {
        self.run(move |s| {
            s.memberships_of_user(id(&user_id)?, opt_id(business_id.as_deref())?)
                .map(list)
        })
    }
}
