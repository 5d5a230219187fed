//! A proptest of who may invite and grant what (DESIGN.md invariants 6 and 9) against
//! a reference rule, with random permission sets: roles drawn over four permissions,
//! an inviter holding random memberships (in two subscriptions, either of which may be
//! suspended) and maybe the admin flag. For every role of the app:
//!
//! - the business is offered to the inviter, and the role listed as grantable, exactly
//!   as the rule says;
//! - a send with that role answers as the rule says (`PERMISSION_DENIED` inside the
//!   business without the right to invite, `VALIDATION_FAILED` for an outsider,
//!   `ROLE_NOT_ASSIGNABLE` for a role beyond the inviter's);
//! - after the inviter's standing changes at random (a membership removed, a
//!   subscription suspended, the admin flag flipped), accepting answers as the rule says
//!   for the inviter's rights at that moment.
//!
//! The rule: an admin may invite and grant any role; otherwise the inviter may invite
//! when one of the roles of its memberships in active subscriptions carries
//! `invitations.send`, and grant a role whose permissions are a subset of such a role's.

use std::collections::BTreeSet;
use std::sync::Arc;

use invite_core::{AcceptRequest, ErrorCode, MembershipId, NewSubscription, Role, Store};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::{World, person};
use crate::contract::code;

const PERMISSIONS: [&str; 4] = [
    "billing.read",
    "billing.write",
    "billing.admin",
    "invitations.send",
];
const SEND: &str = "invitations.send";

/// What changes between the sends and the accepts.
#[derive(Clone, Debug)]
enum Change {
    Nothing,
    RemoveMembership(usize),
    Suspend(usize),
    Admin(bool),
}

#[derive(Clone, Debug)]
struct Case {
    /// The permissions of four new roles, as bit sets over `PERMISSIONS`.
    roles: Vec<u8>,
    /// The inviter's memberships: (subscription 0 or 1, role index among all roles).
    memberships: Vec<(usize, usize)>,
    admin: bool,
    /// Subscriptions suspended before the sends.
    suspended: [bool; 2],
    change: Change,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(0..16u8, 4),
        prop::collection::vec((0..2usize, 0..7usize), 0..3),
        prop::bool::weighted(0.2),
        [prop::bool::weighted(0.2), prop::bool::weighted(0.2)],
        prop_oneof![
            Just(Change::Nothing),
            (0..3usize).prop_map(Change::RemoveMembership),
            (0..2usize).prop_map(Change::Suspend),
            any::<bool>().prop_map(Change::Admin),
        ],
    )
        .prop_map(|(roles, memberships, admin, suspended, change)| Case {
            roles,
            memberships,
            admin,
            suspended,
            change,
        })
}

/// The reference rule's view of the inviter.
#[derive(Clone, Debug, Default)]
struct Standing {
    admin: bool,
    /// (subscription index, role index, membership) of each membership held.
    memberships: Vec<(usize, usize, MembershipId)>,
    suspended: [bool; 2],
}

impl Standing {
    /// The permission sets of the roles that count: memberships in active subscriptions.
    fn active_roles<'a>(&'a self, roles: &'a [Role]) -> impl Iterator<Item = &'a Role> + 'a {
        self.memberships
            .iter()
            .filter(|(s, _, _)| !self.suspended[*s])
            .map(|(_, r, _)| &roles[*r])
    }

    fn may_invite(&self, roles: &[Role]) -> bool {
        self.admin
            || self
                .active_roles(roles)
                .any(|r| r.permissions.contains(SEND))
    }

    fn may_grant(&self, roles: &[Role], role: &Role) -> bool {
        self.admin
            || self.active_roles(roles).any(|own| {
                own.permissions.contains(SEND) && role.permissions.is_subset(&own.permissions)
            })
    }

    fn insider(&self) -> bool {
        self.admin || !self.memberships.is_empty()
    }

    /// What a send with `role` answers.
    fn send(&self, roles: &[Role], role: &Role) -> Result<(), ErrorCode> {
        if !self.may_invite(roles) {
            return Err(if self.insider() {
                ErrorCode::PermissionDenied
            } else {
                ErrorCode::ValidationFailed
            });
        }
        if self.may_grant(roles, role) {
            Ok(())
        } else {
            Err(ErrorCode::RoleNotAssignable)
        }
    }
}

fn check(case: &Case, w: &World) -> Result<(), TestCaseError> {
    let fail = |e: invite_core::Error| TestCaseError::fail(format!("{e:?}"));
    let mut roles = vec![w.member.clone(), w.manager.clone(), w.owner.clone()];
    for (i, bits) in case.roles.iter().enumerate() {
        let permissions: Vec<&str> = PERMISSIONS
            .iter()
            .enumerate()
            .filter(|(p, _)| bits & (1 << p) != 0)
            .map(|(_, name)| *name)
            .collect();
        roles.push(
            w.service
                .create_role(w.app.id, &format!("r{i}"), &format!("R{i}"), &permissions)
                .map_err(fail)?,
        );
    }
    // The inviter's memberships live in two subscriptions of their own; the invitations
    // go to a third, which stays active.
    let homes = [
        w.unlimited.clone(),
        w.service
            .create_subscription(&NewSubscription::new(w.business.id, w.app.id, "Side", None))
            .map_err(fail)?,
    ];
    let inviter = w
        .service
        .create_user(&person("Ivy", "Inviter", "ivy@example.com"))
        .map_err(fail)?;
    let mut standing = Standing {
        admin: case.admin,
        ..Standing::default()
    };
    for &(s, r) in &case.memberships {
        if let Ok(m) = w
            .service
            .add_membership(w.business.id, homes[s].id, inviter.id, roles[r].id)
        {
            standing.memberships.push((s, r, m.id));
        }
    }
    w.service
        .set_business_admin(w.business.id, inviter.id, case.admin)
        .map_err(fail)?;
    for (s, &suspended) in case.suspended.iter().enumerate() {
        w.set_suspended(homes[s].id, suspended).map_err(fail)?;
        standing.suspended[s] = suspended;
    }

    let offered = w
        .service
        .businesses_for_inviter(inviter.id)
        .map_err(fail)?
        .iter()
        .any(|b| b.business.id == w.business.id);
    prop_assert_eq!(offered, standing.may_invite(&roles), "business offered");
    let grantable: BTreeSet<_> = w
        .service
        .grantable_roles(inviter.id, w.business.id, w.app.id)
        .map_err(fail)?
        .iter()
        .map(|r| r.id)
        .collect();
    let expected: BTreeSet<_> = roles
        .iter()
        .filter(|r| standing.may_invite(&roles) && standing.may_grant(&roles, r))
        .map(|r| r.id)
        .collect();
    prop_assert_eq!(grantable, expected, "grantable roles");

    let mut sent = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let request = invite_core::SendInvitationRequest::new(inviter.id)
            .new_user("N", "N", &format!("n{i}@example.com"))
            .business(w.business.id)
            .app(w.app.id)
            .subscription(w.subscription.id)
            .role(role.id);
        let result = w.service.send(&request);
        prop_assert_eq!(
            code(&result),
            standing.send(&roles, role),
            "send role {}",
            i
        );
        if let Ok(s) = result {
            sent.push((i, s.token));
        }
    }

    match case.change {
        Change::Nothing => {}
        Change::RemoveMembership(k) => {
            if k < standing.memberships.len() {
                let (_, _, id) = standing.memberships.remove(k);
                w.service
                    .remove_membership(w.business.id, id)
                    .map_err(fail)?;
            }
        }
        Change::Suspend(s) => {
            w.set_suspended(homes[s].id, true).map_err(fail)?;
            standing.suspended[s] = true;
        }
        Change::Admin(admin) => {
            w.service
                .set_business_admin(w.business.id, inviter.id, admin)
                .map_err(fail)?;
            standing.admin = admin;
        }
    }
    for (i, token) in sent {
        let role = &roles[i];
        let expected = if standing.may_invite(&roles) && standing.may_grant(&roles, role) {
            Ok(())
        } else {
            Err(ErrorCode::RoleNotAssignable)
        };
        let accepted = w.service.accept(&AcceptRequest::new(token.expose()));
        prop_assert_eq!(code(&accepted), expected, "accept role {}", i);
    }
    Ok(())
}

/// Runs the property on fresh stores from `factory`.
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    crate::common::check_property(
        "authorization differs from the rule",
        "INVITE_AUTHZ_CASES",
        24,
        &case(),
        |case| {
            let Some(store) = factory() else {
                return Ok(());
            };
            let w = World::with_config(store, crate::common::config(), None);
            check(&case, &w)
        },
    );
}
