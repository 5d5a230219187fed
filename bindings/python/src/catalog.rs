//! Catalog setup: businesses, apps, subscriptions, roles, users, admins, memberships.

use invite_core::service::{NewSubscription, NewUser, SubscriptionChanges};
use invite_core::{
    ApplicationId, BusinessId, MembershipId, RoleId, SubscriptionId, SubscriptionStatus, UserId,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{Count, Text, UtcTime, choice, id, opt_count, opt_id, page, wrap_all};
use crate::model::{
    PyApp, PyBusiness, PyMembership, PyRole, PySeatCounts, PySeatUsage, PySubscription, PyUser,
};
use crate::page::PyPage;
use crate::service::PyInviteService;

fn status(py: Python<'_>, raw: &str) -> PyResult<SubscriptionStatus> {
    choice(py, raw, "status", SubscriptionStatus::parse)
}

#[pymethods]
impl PyInviteService {
    /// Creates a business.
    ///
    /// Args:
    ///     name: Display name.
    fn create_business(&self, py: Python<'_>, name: Text) -> PyResult<PyBusiness> {
        self.run(py, |s| s.create_business(&name)).map(Into::into)
    }

    /// Renames a business.
    fn rename_business(
        &self,
        py: Python<'_>,
        business_id: Text,
        name: Text,
    ) -> PyResult<PyBusiness> {
        let business: BusinessId = id(py, &business_id)?;
        self.run(py, |s| s.rename_business(business, &name))
            .map(Into::into)
    }

    /// A business by id (`NotFoundError` if missing).
    fn get_business(&self, py: Python<'_>, business_id: Text) -> PyResult<PyBusiness> {
        let business: BusinessId = id(py, &business_id)?;
        self.run(py, |s| s.get_business(business)).map(Into::into)
    }

    /// Every business.
    fn list_businesses(&self, py: Python<'_>) -> PyResult<Vec<PyBusiness>> {
        self.run(py, |s| s.list_businesses()).map(wrap_all)
    }

    /// Creates an app.
    fn create_app(&self, py: Python<'_>, name: Text) -> PyResult<PyApp> {
        self.run(py, |s| s.create_app(&name)).map(Into::into)
    }

    /// Renames an app.
    fn rename_app(&self, py: Python<'_>, app_id: Text, name: Text) -> PyResult<PyApp> {
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.rename_app(app, &name)).map(Into::into)
    }

    /// An app by id.
    fn get_app(&self, py: Python<'_>, app_id: Text) -> PyResult<PyApp> {
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.get_app(app)).map(Into::into)
    }

    /// Every app.
    fn list_apps(&self, py: Python<'_>) -> PyResult<Vec<PyApp>> {
        self.run(py, |s| s.list_apps()).map(wrap_all)
    }

    /// Enables (or disables) an app for a business.
    #[pyo3(signature = (business_id, app_id, enabled = true))]
    fn set_app_enabled(
        &self,
        py: Python<'_>,
        business_id: Text,
        app_id: Text,
        enabled: bool,
    ) -> PyResult<()> {
        let business: BusinessId = id(py, &business_id)?;
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.set_app_enabled(business, app, enabled))
    }

    /// Creates a subscription of a business to an app.
    ///
    /// Args:
    ///     business_id: Owning business.
    ///     app_id: The app.
    ///     plan: Plan name.
    ///     seats: Seat cap; `None` is unlimited.
    ///     status: `"active"`, `"suspended"` or `"expired"`.
    ///     valid_from: Start of validity (inclusive; timezone-aware).
    ///     valid_until: End of validity (exclusive; timezone-aware).
    #[pyo3(signature = (business_id, app_id, *, plan, seats = None, status = "active".into(), valid_from = None, valid_until = None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per subscription field"
    )]
    fn create_subscription(
        &self,
        py: Python<'_>,
        business_id: Text,
        app_id: Text,
        plan: Text,
        seats: Option<Count>,
        status: Text,
        valid_from: Option<UtcTime>,
        valid_until: Option<UtcTime>,
    ) -> PyResult<PySubscription> {
        let new = NewSubscription {
            business_id: id(py, &business_id)?,
            app_id: id(py, &app_id)?,
            plan: plan.into(),
            seats: opt_count(py, seats, "seats")?,
            status: self::status(py, &status)?,
            valid_from: valid_from.map(|t| t.0),
            valid_until: valid_until.map(|t| t.0),
        };
        self.run(py, |s| s.create_subscription(&new))
            .map(Into::into)
    }

    /// Changes a subscription. Only the given keywords change (`seats=None` makes it
    /// unlimited), in one transaction: a concurrent change of other fields is kept.
    /// Lowering the cap below the seats taken is `SeatLimitError`.
    ///
    /// Args:
    ///     business_id: Owning business.
    ///     subscription_id: The subscription.
    ///     **changes: `plan`, `seats`, `status`, `valid_from`, `valid_until`.
    #[pyo3(signature = (business_id, subscription_id, **changes))]
    fn update_subscription(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
        changes: Option<Bound<'_, PyDict>>,
    ) -> PyResult<PySubscription> {
        let business: BusinessId = id(py, &business_id)?;
        let sub_id: SubscriptionId = id(py, &subscription_id)?;
        let mut change = SubscriptionChanges::default();
        for (key, value) in changes.iter().flat_map(|c| c.iter()) {
            let time = |value: &Bound<'_, PyAny>| -> PyResult<_> {
                Ok(value.extract::<Option<UtcTime>>()?.map(|t| t.0))
            };
            match &*key.extract::<Text>()? {
                "plan" => change.plan = Some(value.extract::<Text>()?.into()),
                "seats" => change.seats = Some(opt_count(py, value.extract()?, "seats")?),
                "status" => change.status = Some(status(py, &value.extract::<Text>()?)?),
                "valid_from" => change.valid_from = Some(time(&value)?),
                "valid_until" => change.valid_until = Some(time(&value)?),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "update_subscription() got an unexpected keyword argument '{other}'"
                    )));
                }
            }
        }
        self.run(py, |s| s.change_subscription(business, sub_id, &change))
            .map(Into::into)
    }

    /// A subscription of the business.
    fn get_subscription(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
    ) -> PyResult<PySubscription> {
        let business: BusinessId = id(py, &business_id)?;
        let sub: SubscriptionId = id(py, &subscription_id)?;
        self.run(py, |s| s.get_subscription(business, sub))
            .map(Into::into)
    }

    /// Seat usage of a subscription (total, used, reserved, available), O(1) from its
    /// counters: an invitation past its expiry keeps its reservation here until
    /// `expire_overdue` (or the next write that needs the seat) releases it.
    fn seat_usage(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
    ) -> PyResult<PySeatUsage> {
        let business: BusinessId = id(py, &business_id)?;
        let sub: SubscriptionId = id(py, &subscription_id)?;
        self.run(py, |s| s.seat_usage(business, sub))
            .map(Into::into)
    }

    /// Recounts a subscription's seats from its records (O(n): checks, repair tools).
    fn recount_seats(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
    ) -> PyResult<PySeatCounts> {
        let business: BusinessId = id(py, &business_id)?;
        let sub: SubscriptionId = id(py, &subscription_id)?;
        self.run(py, |s| s.recount_seats(business, sub))
            .map(Into::into)
    }

    /// Creates a role of an app.
    ///
    /// Args:
    ///     app_id: The app.
    ///     key: Stable key (`"member"`).
    ///     name: Display name.
    ///     permissions: Permission names (`"invitations.send"` lets members invite).
    #[pyo3(signature = (app_id, key, name, permissions = Vec::new()))]
    fn create_role(
        &self,
        py: Python<'_>,
        app_id: Text,
        key: Text,
        name: Text,
        permissions: Vec<Text>,
    ) -> PyResult<PyRole> {
        let app: ApplicationId = id(py, &app_id)?;
        let perms: Vec<&str> = permissions.iter().map(|p| &**p).collect();
        self.run(py, |s| s.create_role(app, &key, &name, &perms))
            .map(Into::into)
    }

    /// A role by id.
    fn get_role(&self, py: Python<'_>, role_id: Text) -> PyResult<PyRole> {
        let role: RoleId = id(py, &role_id)?;
        self.run(py, |s| s.get_role(role)).map(Into::into)
    }

    /// Every role of an app.
    fn list_roles(&self, py: Python<'_>, app_id: Text) -> PyResult<Vec<PyRole>> {
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.list_roles(app)).map(wrap_all)
    }

    /// Creates a user (`AlreadyExistsError` if the email is taken).
    fn create_user(
        &self,
        py: Python<'_>,
        first_name: Text,
        last_name: Text,
        email: Text,
    ) -> PyResult<PyUser> {
        let new = NewUser {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: email.into(),
        };
        self.run(py, |s| s.create_user(&new)).map(Into::into)
    }

    /// Changes a user's names and email.
    fn update_user(
        &self,
        py: Python<'_>,
        user_id: Text,
        first_name: Text,
        last_name: Text,
        email: Text,
    ) -> PyResult<PyUser> {
        let user: UserId = id(py, &user_id)?;
        let new = NewUser {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: email.into(),
        };
        self.run(py, |s| s.update_user(user, &new)).map(Into::into)
    }

    /// A user by id.
    fn get_user(&self, py: Python<'_>, user_id: Text) -> PyResult<PyUser> {
        let user: UserId = id(py, &user_id)?;
        self.run(py, |s| s.get_user(user)).map(Into::into)
    }

    /// A user by email (compared by canonical key), or `None`.
    fn find_user_by_email(&self, py: Python<'_>, email: Text) -> PyResult<Option<PyUser>> {
        self.run(py, |s| s.find_user_by_email(&email))
            .map(|u| u.map(Into::into))
    }

    /// Makes a user an admin of a business (or not, with `admin=False`).
    #[pyo3(signature = (business_id, user_id, admin = true))]
    fn set_business_admin(
        &self,
        py: Python<'_>,
        business_id: Text,
        user_id: Text,
        admin: bool,
    ) -> PyResult<()> {
        let business: BusinessId = id(py, &business_id)?;
        let user: UserId = id(py, &user_id)?;
        self.run(py, |s| s.set_business_admin(business, user, admin))
    }

    /// Gives a user a seat with a role directly (no invitation). Uses one seat.
    fn add_membership(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
        user_id: Text,
        role_id: Text,
    ) -> PyResult<PyMembership> {
        let business: BusinessId = id(py, &business_id)?;
        let sub: SubscriptionId = id(py, &subscription_id)?;
        let user: UserId = id(py, &user_id)?;
        let role: RoleId = id(py, &role_id)?;
        self.run(py, |s| s.add_membership(business, sub, user, role))
            .map(Into::into)
    }

    /// Removes a membership, freeing its seat.
    fn remove_membership(
        &self,
        py: Python<'_>,
        business_id: Text,
        membership_id: Text,
    ) -> PyResult<()> {
        let business: BusinessId = id(py, &business_id)?;
        let membership: MembershipId = id(py, &membership_id)?;
        self.run(py, |s| s.remove_membership(business, membership))
    }

    /// A subscription's memberships, one page at a time.
    #[pyo3(signature = (business_id, subscription_id, *, cursor = None, limit = None))]
    fn list_memberships(
        &self,
        py: Python<'_>,
        business_id: Text,
        subscription_id: Text,
        cursor: Option<Text>,
        limit: Option<Count>,
    ) -> PyResult<PyPage> {
        let business: BusinessId = id(py, &business_id)?;
        let sub: SubscriptionId = id(py, &subscription_id)?;
        let request = page(py, cursor, limit)?;
        let found = self.run(py, |s| s.list_memberships(business, sub, &request))?;
        PyPage::new::<PyMembership, _>(py, found)
    }

    /// A user's memberships (in one business, if given).
    #[pyo3(signature = (user_id, business_id = None))]
    fn memberships_of_user(
        &self,
        py: Python<'_>,
        user_id: Text,
        business_id: Option<Text>,
    ) -> PyResult<Vec<PyMembership>> {
        let user: UserId = id(py, &user_id)?;
        let business: Option<BusinessId> = opt_id(py, business_id.as_deref())?;
        self.run(py, |s| s.memberships_of_user(user, business))
            .map(wrap_all)
    }
}
