//! The admin side of the lifecycle: send, resend, revoke, the expiry sweep.

use invite_core::service::NewInvitee;
use invite_core::{SendInvitationDraft, SendInvitationRequest, SentInvitation as CoreSent};
use napi_derive::napi;

use crate::convert::{draft_lifetime, id, opt_seconds};
use crate::model::{INVITATION, Invitation};
use crate::service::InviteService;
use crate::shape::{Args, Prop, Shape, Shaped, to_napi_by_shape};
use crate::task::Call;

/// New-person details as typed on the page. Missing fields are reported as `REQUIRED`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct NewInviteeInput {
    /// First name.
    pub first_name: Option<Option<String>>,
    /// Last name.
    pub last_name: Option<Option<String>>,
    /// Email as entered.
    pub email: Option<Option<String>>,
}

/// A send request as the page gathers it: ids as text, everything optional so that
/// every missing or invalid field is reported at once (`VALIDATION_FAILED`).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SendInvitationInput {
    /// Who sends (the signed-in admin).
    pub inviter_id: String,
    /// An existing user to invite (exclusive with `newUser`).
    pub user_id: Option<Option<String>>,
    /// Or a new person (exclusive with `userId`).
    pub new_user: Option<Option<NewInviteeInput>>,
    /// Business.
    pub business_id: Option<Option<String>>,
    /// App.
    pub app_id: Option<Option<String>>,
    /// Subscription.
    pub subscription_id: Option<Option<String>>,
    /// Role.
    pub role_id: Option<Option<String>>,
    /// Lifetime in seconds (1 hour to 30 days; default from the configuration).
    pub expires_in_seconds: Option<Option<f64>>,
    /// Email locale.
    pub locale: Option<Option<String>>,
    /// Idempotency key: the same key returns the first result.
    pub idempotency_key: Option<Option<String>>,
}

impl NewInviteeInput {
    /// The core's new-invitee details; missing fields are empty (the core reports them).
    /// With no field at all (each `null` or left out) there is no new person, as when
    /// `newUser` itself is left out (and as in Python).
    pub fn into_core(self) -> Option<NewInvitee> {
        let (first, last, email) = (
            self.first_name.flatten(),
            self.last_name.flatten(),
            self.email.flatten(),
        );
        if first.is_none() && last.is_none() && email.is_none() {
            return None;
        }
        Some(NewInvitee {
            first_name: first.unwrap_or_default(),
            last_name: last.unwrap_or_default(),
            email: email.unwrap_or_default(),
        })
    }
}

impl SendInvitationInput {
    /// The core request (parsing only; the core validates).
    pub fn into_request(self) -> invite_core::Result<SendInvitationRequest> {
        let inviter = id(&self.inviter_id)?;
        let mut errors = Vec::new();
        let expires = draft_lifetime(self.expires_in_seconds.flatten(), &mut errors);
        let draft = SendInvitationDraft {
            user_id: self.user_id.flatten(),
            new_user: self.new_user.flatten().and_then(NewInviteeInput::into_core),
            business_id: self.business_id.flatten(),
            app_id: self.app_id.flatten(),
            subscription_id: self.subscription_id.flatten(),
            role_id: self.role_id.flatten(),
            expires_in_seconds: expires,
            locale: self.locale.flatten(),
            idempotency_key: self.idempotency_key.flatten(),
        };
        let mut request = SendInvitationRequest::from_draft(inviter, &draft);
        request.draft_errors.extend(errors);
        Ok(request)
    }
}

/// The result of a send or resend.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct SentInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The one-time token: shown once here, never stored or listed.
    pub token: String,
    /// The accept link (copy-link fallback).
    pub accept_link: String,
    /// True when an idempotency key returned an earlier result.
    pub replayed: bool,
}

impl From<CoreSent> for SentInvitation {
    fn from(s: CoreSent) -> Self {
        SentInvitation {
            token: s.token.expose().to_owned(),
            invitation: s.invitation.into(),
            accept_link: s.accept_link,
            replayed: s.replayed,
        }
    }
}

/// `SentInvitation`'s properties, in field order (built by `shape`).
pub const SENT_INVITATION: &[Prop] = &[
    Prop::Object("invitation", INVITATION),
    Prop::Value("token"),
    Prop::Value("acceptLink"),
    Prop::Value("replayed"),
];

impl Shaped for SentInvitation {
    const SHAPE: Shape = Shape::SentInvitation;

    /// Pushes the values of `SENT_INVITATION`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let SentInvitation {
            invitation,
            token,
            accept_link,
            replayed,
        } = self;
        invitation.push(args)?;
        args.string(&token)?;
        args.string(&accept_link)?;
        args.value(replayed)
    }
}

to_napi_by_shape!(SentInvitation);

/// Which invitation an admin acts on, and who acts.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct InvitationAction {
    /// Business of the invitation.
    pub business_id: String,
    /// The invitation.
    pub invitation_id: String,
    /// Who acts (checked with their rights now).
    pub actor_id: String,
}

/// A resend: which invitation, who, and an optional new lifetime.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ResendInput {
    /// Business of the invitation.
    pub business_id: String,
    /// The invitation.
    pub invitation_id: String,
    /// Who resends.
    pub actor_id: String,
    /// New lifetime in seconds (default from the configuration).
    pub expires_in_seconds: Option<Option<f64>>,
}

#[napi]
impl InviteService {
    /// Sends an invitation: every field problem at once (`VALIDATION_FAILED`), then
    /// rights, role, subscription, duplicates, limits and seats; saves the invitation and
    /// queues its email in one transaction. Resolves with the one-time token and link.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<SentInvitation>")]
    pub fn send(&self, input: SendInvitationInput) -> Call<SentInvitation> {
        self.run(move |s| s.send(&input.into_request()?).map(SentInvitation::from))
    }

    /// Sends a pending or expired invitation again: new token (the old one dies), new
    /// expiry, new email.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<SentInvitation>")]
    pub fn resend(&self, input: ResendInput) -> Call<SentInvitation> {
        self.run(move |s| {
            let expires = opt_seconds(input.expires_in_seconds.flatten(), "expires_in")?;
            s.resend(
                id(&input.business_id)?,
                id(&input.invitation_id)?,
                id(&input.actor_id)?,
                expires,
            )
            .map(SentInvitation::from)
        })
    }

    /// Revokes a pending invitation: its token dies and its seat is released. The actor
    /// must be able to grant its role (`ROLE_NOT_ASSIGNABLE`), as for a resend.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Invitation>")]
    pub fn revoke(&self, input: InvitationAction) -> Call<Invitation> {
        self.run(move |s| {
            s.revoke(
                id(&input.business_id)?,
                id(&input.invitation_id)?,
                id(&input.actor_id)?,
            )
            .map(Invitation::from)
        })
    }

    /// Queues an invitation's failed email again (an admin's "retry delivery"), recorded
    /// as a `sent` event by the actor, who must be able to grant its role
    /// (`ROLE_NOT_ASSIGNABLE`).
    #[napi(catch_unwind, strict, ts_return_type = "Promise<void>")]
    pub fn retry_delivery(&self, input: InvitationAction) -> Call<()> {
        self.run(move |s| {
            s.retry_delivery(
                id(&input.business_id)?,
                id(&input.invitation_id)?,
                id(&input.actor_id)?,
            )
        })
    }

    /// Writes `expired` on every pending invitation past its expiry and releases their
    /// seats, then deletes idempotency records past their lifetime (with the sealed tokens
    /// they keep). Resolves with how many invitations it expired. Run it on a schedule.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<number>")]
    pub fn expire_overdue(&self) -> Call<f64> {
        self.run(|s| s.expire_overdue().map(|n| n as f64))
    }
}
