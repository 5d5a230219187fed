//! Reading invitations, their audit events and their delivery history.

use invite_core::service::InvitationFilter;
use invite_core::{BusinessId, InvitationId, InvitationStatus};
use pyo3::prelude::*;

use crate::convert::{Count, Text, choice, id, opt_id, opt_text, page, wrap_all};
use crate::invitation::{PyEvent, PyInvitation, PyOutboxMessage};
use crate::page::PyPage;
use crate::service::PyInviteService;

#[pymethods]
impl PyInviteService {
    /// An invitation of the business, with its effective status. An id of another
    /// business is `NotFoundError`, like a missing one.
    fn get_invitation(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Text,
    ) -> PyResult<PyInvitation> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: InvitationId = id(py, &invitation_id)?;
        self.run(py, |s| s.get_invitation(business, invitation))
            .map(Into::into)
    }

    /// The business's invitations, oldest first, one page at a time.
    ///
    /// Args:
    ///     business_id: Business.
    ///     app_id: Only this app.
    ///     subscription_id: Only this subscription.
    ///     status: Only this effective status (`"expired"` includes overdue pending ones).
    ///     email: Only this email (compared by canonical key).
    ///     cursor: `next_cursor` of the previous page.
    ///     limit: Items per page (1–500; default 50).
    #[pyo3(signature = (business_id, *, app_id = None, subscription_id = None, status = None, email = None, cursor = None, limit = None))]
    #[expect(clippy::too_many_arguments, reason = "one keyword argument per filter")]
    fn list_invitations(
        &self,
        py: Python<'_>,
        business_id: Text,
        app_id: Option<Text>,
        subscription_id: Option<Text>,
        status: Option<Text>,
        email: Option<Text>,
        cursor: Option<Text>,
        limit: Option<Count>,
    ) -> PyResult<PyPage> {
        let business: BusinessId = id(py, &business_id)?;
        let filter = InvitationFilter {
            app_id: opt_id(py, app_id.as_deref())?,
            subscription_id: opt_id(py, subscription_id.as_deref())?,
            status: status
                .map(|s| choice(py, &s, "status", InvitationStatus::parse))
                .transpose()?,
            email: opt_text(email),
        };
        let request = page(py, cursor, limit)?;
        let found = self.run(py, |s| s.list_invitations(business, &filter, &request))?;
        PyPage::new::<PyInvitation, _>(py, found)
    }

    /// The business's audit events (of one invitation, if given), oldest first.
    #[pyo3(signature = (business_id, *, invitation_id = None, cursor = None, limit = None))]
    fn list_events(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Option<Text>,
        cursor: Option<Text>,
        limit: Option<Count>,
    ) -> PyResult<PyPage> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: Option<InvitationId> = opt_id(py, invitation_id.as_deref())?;
        let request = page(py, cursor, limit)?;
        let found = self.run(py, |s| s.list_events(business, invitation, &request))?;
        PyPage::new::<PyEvent, _>(py, found)
    }

    /// The invitation's outbox messages (delivery history), oldest first.
    fn invitation_messages(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Text,
    ) -> PyResult<Vec<PyOutboxMessage>> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: InvitationId = id(py, &invitation_id)?;
        self.run(py, |s| s.invitation_messages(business, invitation))
            .map(wrap_all)
    }
}
