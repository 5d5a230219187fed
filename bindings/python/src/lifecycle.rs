//! Resend, revoke, retry delivery and the expiry sweep.

use chrono::TimeDelta;
use invite_core::{BusinessId, InvitationId, UserId};
use pyo3::prelude::*;

use crate::convert::{Text, id};
use crate::invitation::{PyInvitation, PySentInvitation};
use crate::service::PyInviteService;

#[pymethods]
impl PyInviteService {
    /// Sends a pending (or expired) invitation again: a new token (the old one dies),
    /// a new expiry, a new email. An expired one needs a free seat again.
    ///
    /// Args:
    ///     business_id: Business.
    ///     invitation_id: The invitation.
    ///     actor_id: Who resends (rights checked as they are now).
    ///     expires_in: New lifetime (default from the config).
    #[pyo3(signature = (business_id, invitation_id, actor_id, *, expires_in = None))]
    fn resend(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Text,
        actor_id: Text,
        expires_in: Option<TimeDelta>,
    ) -> PyResult<PySentInvitation> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: InvitationId = id(py, &invitation_id)?;
        let actor: UserId = id(py, &actor_id)?;
        self.run(py, |s| s.resend(business, invitation, actor, expires_in))
            .map(Into::into)
    }

    /// Revokes a pending invitation: its token dies and its seat is released. Final. The
    /// actor must be able to grant its role (`RoleNotAssignableError`), as for a resend.
    fn revoke(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Text,
        actor_id: Text,
    ) -> PyResult<PyInvitation> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: InvitationId = id(py, &invitation_id)?;
        let actor: UserId = id(py, &actor_id)?;
        self.run(py, |s| s.revoke(business, invitation, actor))
            .map(Into::into)
    }

    /// Queues an invitation's failed email again (an admin's "retry delivery"), recorded
    /// as a `sent` event by the actor, who must be able to grant its role
    /// (`RoleNotAssignableError`).
    fn retry_delivery(
        &self,
        py: Python<'_>,
        business_id: Text,
        invitation_id: Text,
        actor_id: Text,
    ) -> PyResult<()> {
        let business: BusinessId = id(py, &business_id)?;
        let invitation: InvitationId = id(py, &invitation_id)?;
        let actor: UserId = id(py, &actor_id)?;
        self.run(py, |s| s.retry_delivery(business, invitation, actor))
    }

    /// Writes `expired` on every pending invitation past its expiry and releases their
    /// seats, then deletes idempotency records past their lifetime (with the sealed tokens
    /// they keep). Returns how many invitations it expired. Safe to run from several
    /// processes; run it on a schedule.
    fn expire_overdue(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |s| s.expire_overdue())
    }
}
