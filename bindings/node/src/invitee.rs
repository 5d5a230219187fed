//! The invitee's side, by token: peek (read-only), accept, decline.

use invite_core::{AcceptRequest, Accepted as CoreAccepted, InvitationPreview as CorePreview};
use napi_derive::napi;

use crate::convert::opt_id;
use crate::model::{INVITATION, Invitation, MEMBERSHIP, Membership, USER, User};
use crate::service::InviteService;
use crate::shape::{Args, Prop, Shape, Shaped, to_napi_by_shape};
use crate::task::Call;

/// Who accepts. With neither `userId` nor `email`, the token alone identifies the invitee.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct AcceptInput {
    /// The token from the link.
    pub token: String,
    /// The signed-in user accepting, if any: must own the invited email.
    pub user_id: Option<Option<String>>,
    /// The verified email of the person accepting, if known: must match.
    pub email: Option<Option<String>>,
}

/// The result of an accept.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The invitation, now accepted.
    pub invitation: Invitation,
    /// The user who joined.
    pub user: User,
    /// Whether that user was created by this accept.
    pub user_created: bool,
    /// The new seat.
    pub membership: Membership,
}

impl From<CoreAccepted> for Accepted {
    fn from(a: CoreAccepted) -> Self {
        Accepted {
            invitation: a.invitation.into(),
            user: a.user.into(),
            user_created: a.user_created,
            membership: a.membership.into(),
        }
    }
}

/// `Accepted`'s properties, in field order (built by `shape`).
pub const ACCEPTED: &[Prop] = &[
    Prop::Object("invitation", INVITATION),
    Prop::Object("user", USER),
    Prop::Value("userCreated"),
    Prop::Object("membership", MEMBERSHIP),
];

impl Shaped for Accepted {
    const SHAPE: Shape = Shape::Accepted;

    /// Pushes the values of `ACCEPTED`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let Accepted {
            invitation,
            user,
            user_created,
            membership,
        } = self;
        invitation.push(args)?;
        user.push(args)?;
        args.value(user_created)?;
        membership.push(args)
    }
}

to_napi_by_shape!(Accepted);

/// What the accept page shows. Reading it never changes anything.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct InvitationPreview {
    /// The invitation (effective status: `pending` or `expired`).
    pub invitation: Invitation,
    /// Business name.
    pub business_name: String,
    /// App name.
    pub app_name: String,
    /// Role name.
    pub role_name: String,
    /// Inviter's name.
    pub inviter_name: String,
    /// Invitee's first name.
    pub first_name: String,
    /// Invitee's last name.
    pub last_name: String,
    /// Whether accepting creates a new user.
    pub creates_user: bool,
}

impl From<CorePreview> for InvitationPreview {
    fn from(p: CorePreview) -> Self {
        InvitationPreview {
            invitation: p.invitation.into(),
            business_name: p.business_name,
            app_name: p.app_name,
            role_name: p.role_name,
            inviter_name: p.inviter_name,
            first_name: p.first_name,
            last_name: p.last_name,
            creates_user: p.creates_user,
        }
    }
}

#[napi]
impl InviteService {
    /// Shows an invitation by token without changing any state. Unknown, used and
    /// revoked tokens are all `INVALID_TOKEN`.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<InvitationPreview>")]
    pub fn peek(&self, token: String) -> Call<InvitationPreview> {
        self.run(move |s| s.peek(&token).map(InvitationPreview::from))
    }

    /// Accepts by token: re-checks subscription, role, seat and identity; creates the
    /// user for a new invitee; turns the reservation into a membership. Single-use.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Accepted>")]
    pub fn accept(&self, input: AcceptInput) -> Call<Accepted> {
        self.run(move |s| {
            let request = AcceptRequest {
                token: input.token,
                user_id: opt_id(input.user_id.flatten().as_deref())?,
                email: input.email.flatten(),
            };
            s.accept(&request).map(Accepted::from)
        })
    }

    /// Declines by token: the seat is released. Final.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Invitation>")]
    pub fn decline(&self, token: String) -> Call<Invitation> {
        self.run(move |s| s.decline(&token).map(Invitation::from))
    }
}
