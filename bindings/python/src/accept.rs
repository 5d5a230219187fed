//! The invitee's side, by token: peek (read-only), accept, decline.

use invite_core::UserId;
use invite_core::service::AcceptRequest;
use pyo3::prelude::*;

use crate::convert::{Text, opt_id, opt_text};
use crate::invitation::{PyAccepted, PyInvitation, PyInvitationPreview};
use crate::service::PyInviteService;

#[pymethods]
impl PyInviteService {
    /// What the accept page shows. Never changes any state (mail scanners open links).
    ///
    /// Args:
    ///     token: The token from the link.
    fn peek(&self, py: Python<'_>, token: Text) -> PyResult<PyInvitationPreview> {
        self.run(py, |s| s.peek(&token)).map(Into::into)
    }

    /// Accepts by token: re-checks subscription, role, seat and identity; creates the
    /// user for a new invitee; turns the seat reservation into a membership.
    ///
    /// Args:
    ///     token: The token from the link.
    ///     user_id: The signed-in user accepting, if any (must own the invited email).
    ///     email: The accepting person's verified email, if known (must match).
    #[pyo3(signature = (token, *, user_id = None, email = None))]
    fn accept(
        &self,
        py: Python<'_>,
        token: Text,
        user_id: Option<Text>,
        email: Option<Text>,
    ) -> PyResult<PyAccepted> {
        let user_id: Option<UserId> = opt_id(py, user_id.as_deref())?;
        let request = AcceptRequest {
            token: token.into(),
            user_id,
            email: opt_text(email),
        };
        self.run(py, |s| s.accept(&request)).map(Into::into)
    }

    /// Declines by token: the seat is released. Final.
    fn decline(&self, py: Python<'_>, token: Text) -> PyResult<PyInvitation> {
        self.run(py, |s| s.decline(&token)).map(Into::into)
    }
}
