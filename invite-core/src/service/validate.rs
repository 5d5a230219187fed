//! Validation of a send: every field problem at once, then the validated placement.

use chrono::Duration;
use sha2::{Digest, Sha256};

use super::request::NewInvitee;
use super::{InviteService, MAX_EXPIRY, MIN_EXPIRY, Standing, Unit};
use crate::error::{FieldCode, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, RoleId, SubscriptionId, UserId};
use crate::input::{Email, validate_locale, validate_name};
use crate::model::{Role, Subscription};

/// Who is invited, validated.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Existing(UserId),
    New {
        first_name: String,
        last_name: String,
        email: Email,
    },
}

/// Fields common to a single send and every row of a bulk send, validated.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    pub inviter: UserId,
    pub business: BusinessId,
    pub subscription: Subscription,
    pub role: Role,
    pub lifetime: Duration,
    pub locale: Option<String>,
    /// The inviter's standing in the business, read once by validation: the rights
    /// checks that follow derive from it.
    pub standing: Standing,
}

/// Validates the invitee part of a request into `errors` (`prefix` names bulk rows).
pub(crate) fn validate_target(
    service: &InviteService,
    u: &mut Unit<'_>,
    user_id: Option<UserId>,
    new_user: Option<&NewInvitee>,
    prefix: &str,
    errors: &mut FieldErrors,
) -> Result<Option<Target>> {
    match (user_id, new_user) {
        (Some(_), Some(_)) => {
            errors.push(
                format!("{prefix}user"),
                FieldCode::Conflicting,
                "choose an existing user or enter a new one, not both",
            );
            Ok(None)
        }
        (None, None) => {
            if !errors.mentions(&format!("{prefix}user_id")) {
                errors.push(
                    format!("{prefix}user"),
                    FieldCode::Required,
                    "select a user or add a new one",
                );
            }
            Ok(None)
        }
        (Some(id), None) => {
            if u.tx.get_user(id)?.is_some() {
                Ok(Some(Target::Existing(id)))
            } else {
                errors.push(
                    format!("{prefix}user_id"),
                    FieldCode::UnknownOption,
                    "unknown user",
                );
                Ok(None)
            }
        }
        (None, Some(new)) => {
            let first = errors.take(validate_name(
                &new.first_name,
                &format!("{prefix}first_name"),
            ));
            let last = errors.take(validate_name(&new.last_name, &format!("{prefix}last_name")));
            let email = errors.take(Email::parse(
                &new.email,
                &format!("{prefix}email"),
                service.config.email_policy,
            ));
            Ok(match (first, last, email) {
                (Some(first_name), Some(last_name), Some(email)) => Some(Target::New {
                    first_name,
                    last_name,
                    email,
                }),
                _ => None,
            })
        }
    }
}

/// The inviter's standing in `business` if they may see that it exists: an insider
/// (its admin or a member), or someone the policy lets invite into it. To anyone else a
/// foreign business is an unknown option, exactly like a missing id (SECURITY.md T7).
fn visible(
    service: &InviteService,
    u: &mut Unit<'_>,
    inviter: UserId,
    business: BusinessId,
    app: Option<ApplicationId>,
) -> Result<Option<Standing>> {
    let standing = Standing::read(&mut *u.tx, inviter, business)?;
    let visible = standing.is_insider()
        || match app {
            Some(app) => service
                .policy
                .may_invite(&standing.rights(&mut *u.tx, inviter, business, app, u.now)?),
            None => false,
        };
    Ok(visible.then_some(standing))
}

/// Validates business, app, subscription, role, lifetime and locale into `errors`.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per form field keeps the call sites readable"
)]
pub(crate) fn validate_placement(
    service: &InviteService,
    u: &mut Unit<'_>,
    inviter: UserId,
    business: Option<BusinessId>,
    app: Option<ApplicationId>,
    subscription: Option<SubscriptionId>,
    role: Option<RoleId>,
    expires_in: Option<Duration>,
    locale: Option<&str>,
    errors: &mut FieldErrors,
) -> Result<Option<Placement>> {
    let required = |errors: &mut FieldErrors, field: &str, what: &str| {
        errors.push(field, FieldCode::Required, format!("select {what}"));
    };
    let unknown = |errors: &mut FieldErrors, field: &str, what: &str| {
        errors.push(field, FieldCode::UnknownOption, format!("unknown {what}"));
    };
    let already = |errors: &FieldErrors, field: &str| errors.mentions(field);
    let mut standing = None;
    let business = match business {
        Some(id) if u.tx.get_business(id)?.is_some() => {
            standing = visible(service, u, inviter, id, app)?;
            if standing.is_none() {
                unknown(errors, "business_id", "business");
            }
            standing.is_some().then_some(id)
        }
        Some(_) => {
            unknown(errors, "business_id", "business");
            None
        }
        None => {
            if !already(errors, "business_id") {
                required(errors, "business_id", "a business");
            }
            None
        }
    };
    let app = match app {
        Some(id) if u.tx.get_app(id)?.is_some() => Some(id),
        Some(_) => {
            unknown(errors, "app_id", "app");
            None
        }
        None => {
            if !already(errors, "app_id") {
                required(errors, "app_id", "an app");
            }
            None
        }
    };
    let subscription = match (subscription, business) {
        (Some(id), Some(b)) => match u.tx.get_subscription(b, id)? {
            Some(s) if app.is_none_or(|a| s.app_id == a) => Some(s),
            _ => {
                unknown(errors, "subscription_id", "subscription");
                None
            }
        },
        (Some(_), None) => None,
        (None, _) => {
            if !already(errors, "subscription_id") {
                required(errors, "subscription_id", "a subscription");
            }
            None
        }
    };
    let role = match role {
        Some(id) => match u.tx.get_role(id)? {
            Some(r) => Some(r),
            None => {
                unknown(errors, "role_id", "role");
                None
            }
        },
        None => {
            if !already(errors, "role_id") {
                required(errors, "role_id", "a role");
            }
            None
        }
    };
    let lifetime = expires_in.unwrap_or(service.config.default_expiry);
    if !(MIN_EXPIRY..=MAX_EXPIRY).contains(&lifetime) {
        errors.push(
            "expires_in",
            FieldCode::OutOfRange,
            "expiry must be between 1 hour and 30 days",
        );
    }
    // A blank locale is no locale (the default templates), as a blank optional field is.
    let locale = locale
        .filter(|l| !l.trim().is_empty())
        .and_then(|l| errors.take(validate_locale(l, "locale")));
    Ok(match (business, subscription, role, standing) {
        (Some(business), Some(subscription), Some(role), Some(standing)) if errors.is_empty() => {
            Some(Placement {
                inviter,
                business,
                subscription,
                role,
                lifetime,
                locale,
                standing,
            })
        }
        _ => None,
    })
}

/// The idempotency fingerprint of one send: SHA-256 over its validated parameters.
pub(crate) fn fingerprint(target: &Target, p: &Placement) -> String {
    digest([target_line(target, p)])
}

/// One validated send as a line of a fingerprint.
pub(crate) fn target_line(target: &Target, p: &Placement) -> String {
    let who = match target {
        Target::Existing(id) => format!("user:{id}"),
        Target::New {
            first_name,
            last_name,
            email,
        } => format!("new:{first_name}\u{1f}{last_name}\u{1f}{}", email.key()),
    };
    format!(
        "{who}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\u{1e}{}\n",
        p.inviter,
        p.business,
        p.subscription.id,
        p.role.id,
        p.lifetime.num_seconds(),
        p.locale.as_deref().unwrap_or("")
    )
}

/// SHA-256 over fingerprint lines, as hex.
pub(crate) fn digest(lines: impl IntoIterator<Item = String>) -> String {
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
