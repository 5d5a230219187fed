//! Send: one invitation from the page's fields, every problem reported at once.

use chrono::TimeDelta;
use invite_core::UserId;
use invite_core::service::{NewInvitee, SendInvitationDraft, SendInvitationRequest};
use pyo3::prelude::*;

use crate::convert::{Text, id, opt_text};
use crate::invitation::PySentInvitation;
use crate::service::PyInviteService;

/// New-user details when any of them is given (missing ones are reported as required).
pub(crate) fn new_invitee(
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
) -> Option<NewInvitee> {
    if first_name.is_none() && last_name.is_none() && email.is_none() {
        return None;
    }
    Some(NewInvitee {
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        email: email.unwrap_or_default(),
    })
}

#[pymethods]
impl PyInviteService {
    /// Sends an invitation: saves it, reserves its seat and queues its email in one
    /// transaction. Invalid fields raise one `ValidationError` listing every problem.
    ///
    /// Args:
    ///     inviter_id: Who sends (the signed-in admin).
    ///     user_id: An existing user to invite (or give the new user's names and email).
    ///     first_name: A new user's first name.
    ///     last_name: A new user's last name.
    ///     email: A new user's email.
    ///     business_id: Business.
    ///     app_id: App.
    ///     subscription_id: Subscription whose seat the invitation reserves.
    ///     role_id: Role granted at accept.
    ///     expires_in: Lifetime (1 hour to 30 days; default from the config).
    ///     locale: Email locale.
    ///     idempotency_key: The same key returns the first result.
    ///
    /// Returns:
    ///     The invitation, its one-time token and the accept link.
    #[pyo3(signature = (
        inviter_id, *, user_id = None, first_name = None, last_name = None, email = None,
        business_id = None, app_id = None, subscription_id = None, role_id = None,
        expires_in = None, locale = None, idempotency_key = None,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per form field"
    )]
    fn send(
        &self,
        py: Python<'_>,
        inviter_id: Text,
        user_id: Option<Text>,
        first_name: Option<Text>,
        last_name: Option<Text>,
        email: Option<Text>,
        business_id: Option<Text>,
        app_id: Option<Text>,
        subscription_id: Option<Text>,
        role_id: Option<Text>,
        expires_in: Option<TimeDelta>,
        locale: Option<Text>,
        idempotency_key: Option<Text>,
    ) -> PyResult<PySentInvitation> {
        let inviter: UserId = id(py, &inviter_id)?;
        let draft = SendInvitationDraft {
            user_id: opt_text(user_id),
            new_user: new_invitee(opt_text(first_name), opt_text(last_name), opt_text(email)),
            business_id: opt_text(business_id),
            app_id: opt_text(app_id),
            subscription_id: opt_text(subscription_id),
            role_id: opt_text(role_id),
            expires_in_seconds: None,
            locale: opt_text(locale),
            idempotency_key: opt_text(idempotency_key),
        };
        let mut request = SendInvitationRequest::from_draft(inviter, &draft);
        request.expires_in = expires_in;
        self.run(py, |s| s.send(&request)).map(Into::into)
    }
}
