//! The invitee's side: peek (read-only), accept and decline, all by token.

use serde::{Deserialize, Serialize};

use super::catalog::{active_subscription, already_member, ensure_app_enabled};
use super::lifecycle::{convert_reservation, leave_pending};
use super::{InviteService, Unit, found, inviter_rights};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::UserId;
use crate::input::Email;
use crate::model::{
    EventKind, Invitation, InvitationRecord, InvitationStatus, Invitee, Membership, User,
};
use crate::token::{REDACTED, Token, invalid_token};

/// Who accepts. With neither field, the token alone identifies the invitee: the invited
/// user, or a new user created with the invited names (or the user who registered the
/// invited email since).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptRequest {
    /// The token from the link.
    pub token: String,
    /// The signed-in user accepting, if any: must own the invited email.
    pub user_id: Option<UserId>,
    /// The verified email of the person accepting, if the host knows it: must match.
    pub email: Option<String>,
}

/// Redacts the token (SECURITY.md T1: raw tokens never reach logs).
impl std::fmt::Debug for AcceptRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptRequest")
            .field("token", &REDACTED)
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .finish()
    }
}

impl AcceptRequest {
    /// Accept with the token alone.
    pub fn new(token: impl Into<String>) -> Self {
        AcceptRequest {
            token: token.into(),
            user_id: None,
            email: None,
        }
    }

    /// As a signed-in user.
    pub fn as_user(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }

    /// With the accepting person's verified email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// The result of an accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// What the accept page shows. Reading it never changes anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl InviteService {
    /// Shows an invitation by token without changing any state (mail scanners may open
    /// links). Unknown, used and revoked tokens are all `INVALID_TOKEN`.
    pub fn peek(&self, token: &str) -> Result<InvitationPreview> {
        let token = Token::parse(token)?;
        self.read(|tx, now| {
            let record = tx
                .get_invitation_by_token_hash(&token.hash())?
                .ok_or_else(invalid_token)?;
            let inv = record.invitation.as_of(now);
            if !matches!(
                inv.status,
                InvitationStatus::Pending | InvitationStatus::Expired
            ) {
                return Err(invalid_token());
            }
            let business = found(tx.get_business(inv.business_id)?, "business")?;
            let app = found(tx.get_app(inv.app_id)?, "app")?;
            let role = found(tx.get_role(inv.role_id)?, "role")?;
            let inviter = found(tx.get_user(inv.inviter_id)?, "user")?;
            let (first_name, last_name, creates_user) = match &inv.invitee {
                Invitee::Existing { user_id } => {
                    let user = found(tx.get_user(*user_id)?, "user")?;
                    (user.first_name, user.last_name, false)
                }
                Invitee::New {
                    first_name,
                    last_name,
                } => {
                    let exists = tx.get_user_by_email_key(&inv.email_key)?.is_some();
                    (first_name.clone(), last_name.clone(), !exists)
                }
            };
            Ok(InvitationPreview {
                business_name: business.name,
                app_name: app.name,
                role_name: role.name,
                inviter_name: inviter.display_name(),
                first_name,
                last_name,
                creates_user,
                invitation: inv,
            })
        })
    }

    /// Accepts by token: re-checks the subscription, the role (with the inviter's rights
    /// now), the seat (its own reservation counts for it) and the identity
    /// (`EMAIL_MISMATCH`); creates the user for a new invitee; turns the reservation into
    /// a membership. Single-use, even under concurrent accepts.
    pub fn accept(&self, request: &AcceptRequest) -> Result<Accepted> {
        let token = Token::parse(&request.token)?;
        let claimed_email = match &request.email {
            Some(raw) => Some(
                Email::parse(raw, "email", self.config.email_policy)
                    .map_err(|e| Error::validation(vec![e]))?,
            ),
            None => None,
        };
        self.write(|u| {
            let mut record = pending_by_token(u, &token)?;
            let inv = record.invitation.clone();
            let subscription =
                active_subscription(&mut *u.tx, inv.business_id, inv.subscription_id, u.now)?;
            ensure_app_enabled(&mut *u.tx, inv.business_id, inv.app_id)?;
            let role = u.tx.get_role(inv.role_id)?;
            let rights = inviter_rights(
                &mut *u.tx,
                inv.inviter_id,
                inv.business_id,
                inv.app_id,
                u.now,
            )?;
            let grantable = role.as_ref().is_some_and(|r| {
                self.policy.may_invite(&rights) && self.policy.may_grant(&rights, r)
            });
            if !grantable {
                return Err(Error::new(
                    ErrorCode::RoleNotAssignable,
                    "the invited role can no longer be granted",
                ));
            }
            if claimed_email
                .as_ref()
                .is_some_and(|e| e.key() != inv.email_key)
            {
                return Err(email_mismatch());
            }
            let (user, user_created) = self.accepting_user(u, &inv, request.user_id)?;
            if u.tx
                .find_membership(inv.business_id, inv.subscription_id, user.id)?
                .is_some()
            {
                return Err(already_member());
            }
            convert_reservation(u, &inv, subscription.seats)?;
            let membership = Membership {
                id: u.new_id()?,
                business_id: inv.business_id,
                subscription_id: inv.subscription_id,
                app_id: inv.app_id,
                user_id: user.id,
                role_id: inv.role_id,
                created_at: u.now,
            };
            u.tx.insert_membership(&membership)?;
            record.invitation.status = InvitationStatus::Accepted;
            record.invitation.responded_at = Some(u.now);
            record.invitation.accepted_user_id = Some(user.id);
            u.tx.update_invitation(&record)?;
            super::lifecycle::cancel_messages(u, &record.invitation)?;
            u.event(
                inv.business_id,
                inv.id,
                EventKind::Accepted,
                Some(user.id),
                None,
            )?;
            Ok(Accepted {
                invitation: record.invitation,
                user,
                user_created,
                membership,
            })
        })
    }

    /// Declines by token: the seat is released. Final.
    pub fn decline(&self, token: &str) -> Result<Invitation> {
        let token = Token::parse(token)?;
        self.write(|u| {
            let mut record = pending_by_token(u, &token)?;
            leave_pending(u, &mut record, InvitationStatus::Declined)?;
            let inv = &record.invitation;
            u.event(inv.business_id, inv.id, EventKind::Declined, None, None)?;
            Ok(record.invitation)
        })
    }

    /// The user who accepts, created from the invited names when needed.
    fn accepting_user(
        &self,
        u: &mut Unit<'_>,
        inv: &Invitation,
        claimed: Option<UserId>,
    ) -> Result<(User, bool)> {
        if let Some(id) = claimed {
            let user = found(u.tx.get_user(id)?, "user")?;
            if user.email_key != inv.email_key {
                return Err(email_mismatch());
            }
            return Ok((user, false));
        }
        match &inv.invitee {
            Invitee::Existing { user_id } => {
                let user = found(u.tx.get_user(*user_id)?, "user")?;
                if user.email_key != inv.email_key {
                    return Err(email_mismatch());
                }
                Ok((user, false))
            }
            Invitee::New {
                first_name,
                last_name,
            } => {
                if let Some(user) = u.tx.get_user_by_email_key(&inv.email_key)? {
                    return Ok((user, false));
                }
                let user = User {
                    id: u.new_id()?,
                    email: inv.email.clone(),
                    email_key: inv.email_key.clone(),
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                    created_at: u.now,
                };
                u.tx.insert_user(&user)?;
                Ok((user, true))
            }
        }
    }
}

/// The pending invitation of a token: `INVITATION_EXPIRED` past its expiry, and
/// `INVALID_TOKEN` for unknown, used, declined and revoked tokens alike.
fn pending_by_token(u: &mut Unit<'_>, token: &Token) -> Result<InvitationRecord> {
    let record =
        u.tx.get_invitation_by_token_hash(&token.hash())?
            .ok_or_else(invalid_token)?;
    match record.invitation.status_at(u.now) {
        InvitationStatus::Pending => Ok(record),
        InvitationStatus::Expired => Err(Error::new(
            ErrorCode::InvitationExpired,
            "the invitation has expired",
        )
        .with_help("ask the inviter to resend it")),
        _ => Err(invalid_token()),
    }
}

fn email_mismatch() -> Error {
    Error::new(
        ErrorCode::EmailMismatch,
        "this invitation was sent to another email address",
    )
    .with_help("sign in with the invited address, or ask for an invitation to yours")
}
