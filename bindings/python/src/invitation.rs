//! Invitation records: the invitation, its delivery status, audit events, outbox
//! messages, and the results of send, accept and peek.

use chrono::{DateTime, Utc};
use invite_core::service::SentInvitation;
use invite_core::{
    Accepted, DeliveryStatus, Event, Invitation, InvitationPreview, Invitee, OutboxMessage,
};
use pyo3::prelude::*;

use crate::convert::{record, wrapper};
use crate::model::{PyMembership, PyUser};

wrapper!(
    /// Delivery status of an invitation's latest email.
    PyDeliveryStatus => "DeliveryStatus", DeliveryStatus
);
record!(PyDeliveryStatus, repr = [state, attempts, last_error], {
    /// `"queued"`, `"sent"` or `"failed"`.
    state -> &'static str = |d| d.state.as_str();
    /// Delivery attempts of the latest email.
    attempts -> u32 = |d| d.attempts;
    /// The last failure's message.
    last_error -> Option<String> = |d| d.last_error.clone();
    /// When it was last handed to the mailer.
    delivered_at -> Option<DateTime<Utc>> = |d| d.delivered_at;
});

wrapper!(
    /// An invitation. The token is never part of it.
    PyInvitation => "Invitation", Invitation
);
record!(PyInvitation, repr = [id, email, status, send_count], {
    /// Id.
    id -> String = |i| i.id.to_string();
    /// Business.
    business_id -> String = |i| i.business_id.to_string();
    /// App.
    app_id -> String = |i| i.app_id.to_string();
    /// Subscription whose seat is reserved.
    subscription_id -> String = |i| i.subscription_id.to_string();
    /// Role granted at accept.
    role_id -> String = |i| i.role_id.to_string();
    /// The invited existing user; `None` for a new user.
    invitee_user_id -> Option<String> = |i| match &i.invitee {
        Invitee::Existing { user_id } => Some(user_id.to_string()),
        Invitee::New { .. } => None,
    };
    /// A new invitee's first name; `None` for an existing user.
    invitee_first_name -> Option<String> = |i| match &i.invitee {
        Invitee::New { first_name, .. } => Some(first_name.clone()),
        Invitee::Existing { .. } => None,
    };
    /// A new invitee's last name; `None` for an existing user.
    invitee_last_name -> Option<String> = |i| match &i.invitee {
        Invitee::New { last_name, .. } => Some(last_name.clone()),
        Invitee::Existing { .. } => None,
    };
    /// Address as entered: where mail goes.
    email -> String = |i| i.email.clone();
    /// Canonical email key.
    email_key -> String = |i| i.email_key.clone();
    /// Who sent it first: a resend by someone else keeps it, and accept re-checks this
    /// inviter's rights.
    inviter_id -> String = |i| i.inviter_id.to_string();
    /// `"pending"`, `"accepted"`, `"declined"`, `"revoked"` or `"expired"` (effective).
    status -> &'static str = |i| i.status.as_str();
    /// Locale for the email, if chosen.
    locale -> Option<String> = |i| i.locale.clone();
    /// Created.
    created_at -> DateTime<Utc> = |i| i.created_at;
    /// Expires: accepting at or after this instant fails.
    expires_at -> DateTime<Utc> = |i| i.expires_at;
    /// Last (re)sent.
    last_sent_at -> DateTime<Utc> = |i| i.last_sent_at;
    /// How many times it was sent (1 + resends).
    send_count -> u32 = |i| i.send_count;
    /// When it left `pending`.
    responded_at -> Option<DateTime<Utc>> = |i| i.responded_at;
    /// The user who accepted.
    accepted_user_id -> Option<String> = |i| i.accepted_user_id.map(|u| u.to_string());
    /// Delivery status of the latest email.
    delivery -> PyDeliveryStatus = |i| i.delivery.clone().into();
});

wrapper!(
    /// An audit record of one state change.
    PyEvent => "Event", Event
);
record!(PyEvent, repr = [kind, invitation_id, actor_id, at], {
    /// Id (time-ordered).
    id -> String = |e| e.id.to_string();
    /// Business.
    business_id -> String = |e| e.business_id.to_string();
    /// The invitation concerned.
    invitation_id -> String = |e| e.invitation_id.to_string();
    /// `"created"`, `"sent"`, `"resent"`, `"delivered"`, `"delivery_failed"`,
    /// `"accepted"`, `"declined"`, `"revoked"` or `"expired"`.
    kind -> &'static str = |e| e.kind.as_str();
    /// Who did it (`None` for the system or an anonymous invitee).
    actor_id -> Option<String> = |e| e.actor_id.map(|a| a.to_string());
    /// When.
    at -> DateTime<Utc> = |e| e.at;
    /// Extra detail (a delivery error's message, …).
    detail -> Option<String> = |e| e.detail.clone();
});

wrapper!(
    /// One email of an invitation's delivery history (no token).
    PyOutboxMessage => "OutboxMessage", OutboxMessage
);
record!(PyOutboxMessage, repr = [id, state, attempts, last_error], {
    /// Id; also the message id mailers de-duplicate on.
    id -> String = |m| m.id.to_string();
    /// Business.
    business_id -> String = |m| m.business_id.to_string();
    /// Invitation.
    invitation_id -> String = |m| m.invitation_id.to_string();
    /// `"queued"`, `"sent"`, `"failed"` or `"cancelled"`.
    state -> &'static str = |m| m.state.as_str();
    /// Attempts so far.
    attempts -> u32 = |m| m.attempts;
    /// Earliest next attempt.
    next_attempt_at -> DateTime<Utc> = |m| m.next_attempt_at;
    /// Last failure's message.
    last_error -> Option<String> = |m| m.last_error.clone();
    /// Queued at.
    created_at -> DateTime<Utc> = |m| m.created_at;
});

/// The result of a send or resend: the invitation, its one-time token and the link.
/// The token is shown once: it is left out of `repr` (it is in `to_dict()`).
#[pyclass(name = "SentInvitation", module = "invite_core._native", frozen)]
pub struct PySentInvitation {
    pub(crate) inner: SentInvitation,
}

impl From<SentInvitation> for PySentInvitation {
    fn from(inner: SentInvitation) -> Self {
        PySentInvitation { inner }
    }
}

record!(PySentInvitation, repr = [invitation, replayed], {
    /// The invitation.
    invitation -> PyInvitation = |s| s.invitation.clone().into();
    /// The token: shown once, never stored raw. Put it in the accept link only.
    token -> String = |s| s.token.expose().to_owned();
    /// The accept link (copy-link fallback).
    accept_link -> String = |s| s.accept_link.clone();
    /// True when an idempotency key returned an earlier result.
    replayed -> bool = |s| s.replayed;
});

wrapper!(
    /// The result of an accept.
    PyAccepted => "Accepted", Accepted
);
record!(PyAccepted, repr = [invitation, user, user_created], {
    /// The invitation, now accepted.
    invitation -> PyInvitation = |a| a.invitation.clone().into();
    /// The user who joined.
    user -> PyUser = |a| a.user.clone().into();
    /// Whether that user was created by this accept.
    user_created -> bool = |a| a.user_created;
    /// The new seat.
    membership -> PyMembership = |a| a.membership.clone().into();
});

wrapper!(
    /// What the accept page shows. Reading it never changes anything.
    PyInvitationPreview => "InvitationPreview", InvitationPreview
);
record!(PyInvitationPreview, repr = [business_name, app_name, role_name, inviter_name, creates_user], {
    /// The invitation (effective status: `"pending"` or `"expired"`).
    invitation -> PyInvitation = |p| p.invitation.clone().into();
    /// Business name.
    business_name -> String = |p| p.business_name.clone();
    /// App name.
    app_name -> String = |p| p.app_name.clone();
    /// Role name.
    role_name -> String = |p| p.role_name.clone();
    /// Inviter's name.
    inviter_name -> String = |p| p.inviter_name.clone();
    /// Invitee's first name.
    first_name -> String = |p| p.first_name.clone();
    /// Invitee's last name.
    last_name -> String = |p| p.last_name.clone();
    /// Whether accepting creates a new user.
    creates_user -> bool = |p| p.creates_user;
});
