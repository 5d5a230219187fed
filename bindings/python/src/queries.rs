//! The page's queries: user search and the options of each step for an inviter.

use invite_core::{ApplicationId, BusinessId, UserId};
use pyo3::prelude::*;

use crate::convert::{Count, Text, id, page, wrap_all};
use crate::model::{PyApp, PyBusinessOption, PyRole, PySubscriptionOption, PyUser};
use crate::page::PyPage;
use crate::service::PyInviteService;

#[pymethods]
impl PyInviteService {
    /// Existing users whose email, first, last or full name starts with `query`
    /// (case- and width-insensitive; an email's IDN domain matches typed in Unicode or
    /// in punycode), one page at a time.
    ///
    /// Args:
    ///     query: The prefix typed so far (`""` lists everyone).
    ///     cursor: `next_cursor` of the previous page.
    ///     limit: Items per page (1–500; default 50).
    #[pyo3(signature = (query = "".into(), *, cursor = None, limit = None))]
    fn search_users(
        &self,
        py: Python<'_>,
        query: Text,
        cursor: Option<Text>,
        limit: Option<Count>,
    ) -> PyResult<PyPage> {
        let request = page(py, cursor, limit)?;
        let found = self.run(py, |s| s.search_users(&query, &request))?;
        PyPage::new::<PyUser, _>(py, found)
    }

    /// Businesses the inviter may invite into, by name.
    fn businesses_for_inviter(
        &self,
        py: Python<'_>,
        inviter_id: Text,
    ) -> PyResult<Vec<PyBusinessOption>> {
        let inviter: UserId = id(py, &inviter_id)?;
        self.run(py, |s| s.businesses_for_inviter(inviter))
            .map(wrap_all)
    }

    /// Apps enabled for the business that the inviter may invite into, by name.
    fn apps_for_inviter(
        &self,
        py: Python<'_>,
        inviter_id: Text,
        business_id: Text,
    ) -> PyResult<Vec<PyApp>> {
        let inviter: UserId = id(py, &inviter_id)?;
        let business: BusinessId = id(py, &business_id)?;
        self.run(py, |s| s.apps_for_inviter(inviter, business))
            .map(wrap_all)
    }

    /// Subscriptions of the business *and* app, each with its seat usage.
    fn subscriptions_for(
        &self,
        py: Python<'_>,
        business_id: Text,
        app_id: Text,
    ) -> PyResult<Vec<PySubscriptionOption>> {
        let business: BusinessId = id(py, &business_id)?;
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.subscriptions_for(business, app))
            .map(wrap_all)
    }

    /// Roles of the app that the inviter may grant in this business, by name.
    fn grantable_roles(
        &self,
        py: Python<'_>,
        inviter_id: Text,
        business_id: Text,
        app_id: Text,
    ) -> PyResult<Vec<PyRole>> {
        let inviter: UserId = id(py, &inviter_id)?;
        let business: BusinessId = id(py, &business_id)?;
        let app: ApplicationId = id(py, &app_id)?;
        self.run(py, |s| s.grantable_roles(inviter, business, app))
            .map(wrap_all)
    }
}
