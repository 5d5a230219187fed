//! The demo catalog loaded into an empty store: businesses, apps enabled per business,
//! subscriptions with limited and unlimited seats (one nearly full, one suspended),
//! roles per app, the admin who is "signed in", and existing users with seats.

use invite_core::{
    ApplicationId, BusinessId, InviteService, NewSubscription, NewUser, Result, RoleId,
    SubscriptionStatus, User, UserId,
};

/// The seeded admin, the demo's signed-in inviter.
pub const ADMIN_EMAIL: &str = "ada@acme.example";

/// Existing users: (first, last, email).
const PEOPLE: &[(&str, &str, &str)] = &[
    ("Alice", "Anderson", "alice@acme.example"),
    ("Bob", "Brown", "bob@acme.example"),
    ("Carol", "Chen", "carol@example.com"),
    ("Dan", "Davis", "dan@acme.example"),
    ("Erin", "Evans", "erin@acme.example"),
    ("Frank", "Fischer", "frank@acme.example"),
    ("Grace", "Garcia", "grace@acme.example"),
    ("Heidi", "Hansen", "heidi@acme.example"),
    ("Ivan", "Ivanov", "ivan@globex.example"),
    ("Judy", "Jones", "judy@globex.example"),
    ("Mallory", "Miller", "mallory@example.com"),
    ("Niaj", "Nguyen", "niaj@example.com"),
    ("Oscar", "Ortiz", "oscar@example.com"),
    ("Peggy", "Park", "peggy@example.com"),
    ("Trent", "Turner", "trent@example.com"),
    ("Victor", "Vance", "victor@example.com"),
    ("Walter", "White", "walter@example.com"),
    ("Zoe", "Zhang", "zoe@example.com"),
];

fn person(first: &str, last: &str, email: &str) -> NewUser {
    NewUser {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        email: email.to_owned(),
    }
}

struct Seeder<'a> {
    service: &'a InviteService,
    users: Vec<User>,
}

impl Seeder<'_> {
    fn user(&self, email: &str) -> Result<UserId> {
        match self.users.iter().find(|u| u.email == email) {
            Some(user) => Ok(user.id),
            None => Err(invite_core::Error::not_found("user")),
        }
    }

    fn app(
        &self,
        name: &str,
        roles: &[(&str, &str, &[&str])],
    ) -> Result<(ApplicationId, Vec<RoleId>)> {
        let app = self.service.create_app(name)?;
        let mut ids = Vec::new();
        for (key, role_name, permissions) in roles {
            ids.push(
                self.service
                    .create_role(app.id, key, role_name, permissions)?
                    .id,
            );
        }
        Ok((app.id, ids))
    }

    fn business(&self, name: &str, apps: &[ApplicationId], admin: UserId) -> Result<BusinessId> {
        let business = self.service.create_business(name)?;
        for app in apps {
            self.service.set_app_enabled(business.id, *app, true)?;
        }
        self.service.set_business_admin(business.id, admin, true)?;
        Ok(business.id)
    }

    /// A subscription with members: (email, role).
    fn subscription(&self, new: NewSubscription, members: &[(&str, RoleId)]) -> Result<()> {
        let subscription = self.service.create_subscription(&new)?;
        for (email, role) in members {
            let user = self.user(email)?;
            self.service
                .add_membership(new.business_id, subscription.id, user, *role)?;
        }
        Ok(())
    }
}

/// Loads the demo catalog unless the store already has businesses. Returns whether it did.
pub fn seed(service: &InviteService) -> Result<bool> {
    if !service.list_businesses()?.is_empty() {
        return Ok(false);
    }
    let admin = service.create_user(&person("Ada", "Admin", ADMIN_EMAIL))?;
    let mut users = Vec::new();
    for (first, last, email) in PEOPLE {
        users.push(service.create_user(&person(first, last, email))?);
    }
    let s = Seeder { service, users };

    let (billing, billing_roles) = s.app(
        "Billing",
        &[
            ("viewer", "Viewer", &["billing.read"]),
            (
                "accountant",
                "Accountant",
                &["billing.read", "billing.write"],
            ),
            (
                "admin",
                "Billing admin",
                &[
                    "billing.read",
                    "billing.write",
                    "billing.admin",
                    "invitations.send",
                ],
            ),
        ],
    )?;
    let (crm, crm_roles) = s.app(
        "CRM",
        &[
            ("rep", "Sales rep", &["crm.read", "crm.write"]),
            (
                "manager",
                "Sales manager",
                &["crm.read", "crm.write", "crm.reports", "invitations.send"],
            ),
        ],
    )?;
    let (analytics, analytics_roles) = s.app(
        "Analytics",
        &[
            ("analyst", "Analyst", &["analytics.read"]),
            (
                "editor",
                "Dashboard editor",
                &["analytics.read", "analytics.write"],
            ),
        ],
    )?;
    let (helpdesk, _) = s.app(
        "Helpdesk",
        &[
            ("agent", "Agent", &["helpdesk.tickets"]),
            (
                "supervisor",
                "Supervisor",
                &["helpdesk.tickets", "helpdesk.reports", "invitations.send"],
            ),
        ],
    )?;
    let role = |roles: &[RoleId], i: usize| {
        roles
            .get(i)
            .copied()
            .ok_or_else(|| invite_core::Error::not_found("role"))
    };
    let (viewer, accountant) = (role(&billing_roles, 0)?, role(&billing_roles, 1)?);
    let (rep, manager) = (role(&crm_roles, 0)?, role(&crm_roles, 1)?);
    let analyst = role(&analytics_roles, 0)?;

    let acme = s.business("Acme Corp", &[billing, crm, analytics], admin.id)?;
    s.subscription(
        NewSubscription::new(acme, billing, "Team", Some(10)),
        &[
            ("alice@acme.example", accountant),
            ("bob@acme.example", viewer),
            ("dan@acme.example", viewer),
        ],
    )?;
    // Nearly full: one seat left.
    s.subscription(
        NewSubscription::new(acme, billing, "Starter", Some(3)),
        &[
            ("erin@acme.example", viewer),
            ("frank@acme.example", viewer),
        ],
    )?;
    s.subscription(
        NewSubscription::new(acme, crm, "Enterprise", None),
        &[("alice@acme.example", manager), ("grace@acme.example", rep)],
    )?;
    s.subscription(
        NewSubscription {
            status: SubscriptionStatus::Suspended,
            ..NewSubscription::new(acme, analytics, "Pro", Some(5))
        },
        &[("heidi@acme.example", analyst)],
    )?;

    let globex = s.business("Globex", &[crm, helpdesk], admin.id)?;
    s.subscription(
        NewSubscription::new(globex, crm, "Business", Some(20)),
        &[
            ("ivan@globex.example", manager),
            ("judy@globex.example", rep),
        ],
    )?;
    s.subscription(NewSubscription::new(globex, helpdesk, "Support", None), &[])?;

    let initech = s.business("Initech", &[billing], admin.id)?;
    s.subscription(
        NewSubscription::new(initech, billing, "Basic", Some(5)),
        &[],
    )?;

    // No app enabled: the guide's "no apps" troubleshooting case.
    s.business("Umbrella Labs", &[], admin.id)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use invite_core::{Config, InMemoryStore};

    use super::*;

    #[test]
    fn seeds_once() {
        let service =
            InviteService::new(Arc::new(InMemoryStore::new()), Config::default()).unwrap();
        assert!(seed(&service).unwrap());
        assert!(!seed(&service).unwrap());
        assert_eq!(service.list_businesses().unwrap().len(), 4);
        let admin = service.find_user_by_email(ADMIN_EMAIL).unwrap().unwrap();
        assert_eq!(service.businesses_for_inviter(admin.id).unwrap().len(), 4);
    }
}
