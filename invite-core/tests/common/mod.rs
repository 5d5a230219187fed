//! Shared fixtures for the integration tests: a small catalog on any store.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fixtures"
)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use invite_core::service::Limits;
use invite_core::{
    Application, Business, Config, InviteService, ManualClock, NewSubscription, NewUser, Role,
    SeededRandom, SendInvitationRequest, Store, Subscription, User,
};

/// A catalog: one business with an app enabled, a capped subscription, roles, an admin.
pub struct World {
    pub service: Arc<InviteService>,
    pub clock: Arc<ManualClock>,
    pub business: Business,
    pub other_business: Business,
    pub app: Application,
    pub other_app: Application,
    pub subscription: Subscription,
    pub unlimited: Subscription,
    pub other_subscription: Subscription,
    pub member: Role,
    pub manager: Role,
    pub owner: Role,
    pub other_app_role: Role,
    pub admin: User,
    pub alice: User,
}

pub fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn config() -> Config {
    Config {
        limits: Limits::unlimited(),
        ..Config::with_base_url("https://app.example.com/invite/accept")
    }
}

pub fn service_on(store: Arc<dyn Store>, config: Config) -> (Arc<InviteService>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start()));
    let service = InviteService::builder(store)
        .clock(clock.clone())
        .random(Arc::new(SeededRandom::new(7)))
        .outbox_key([9; 32])
        .config(config)
        .build()
        .unwrap();
    (Arc::new(service), clock)
}

pub fn person(first: &str, last: &str, email: &str) -> NewUser {
    NewUser {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
    }
}

impl World {
    pub fn new(store: Arc<dyn Store>) -> World {
        Self::with_config(store, config(), Some(3))
    }

    pub fn with_config(store: Arc<dyn Store>, config: Config, seats: Option<u32>) -> World {
        let (service, clock) = service_on(store, config);
        let s = &service;
        let business = s.create_business("Acme").unwrap();
        let other_business = s.create_business("Globex").unwrap();
        let app = s.create_app("Billing").unwrap();
        let other_app = s.create_app("Analytics").unwrap();
        s.set_app_enabled(business.id, app.id, true).unwrap();
        s.set_app_enabled(other_business.id, app.id, true).unwrap();
        let subscription = s
            .create_subscription(&NewSubscription::new(business.id, app.id, "Team", seats))
            .unwrap();
        let unlimited = s
            .create_subscription(&NewSubscription::new(
                business.id,
                app.id,
                "Enterprise",
                None,
            ))
            .unwrap();
        let other_subscription = s
            .create_subscription(&NewSubscription::new(
                other_business.id,
                app.id,
                "Team",
                Some(5),
            ))
            .unwrap();
        let member = s
            .create_role(app.id, "member", "Member", &["billing.read"])
            .unwrap();
        let manager = s
            .create_role(
                app.id,
                "manager",
                "Manager",
                &["billing.read", "billing.write", "invitations.send"],
            )
            .unwrap();
        let owner = s
            .create_role(
                app.id,
                "owner",
                "Owner",
                &[
                    "billing.read",
                    "billing.write",
                    "billing.admin",
                    "invitations.send",
                ],
            )
            .unwrap();
        let other_app_role = s
            .create_role(other_app.id, "viewer", "Viewer", &["analytics.read"])
            .unwrap();
        let admin = s
            .create_user(&person("Ada", "Admin", "ada@acme.example"))
            .unwrap();
        s.set_business_admin(business.id, admin.id, true).unwrap();
        let alice = s
            .create_user(&person("Alice", "Archer", "alice@example.com"))
            .unwrap();
        World {
            service,
            clock,
            business,
            other_business,
            app,
            other_app,
            subscription,
            unlimited,
            other_subscription,
            member,
            manager,
            owner,
            other_app_role,
            admin,
            alice,
        }
    }

    /// A complete request from the admin for a new user into the capped subscription.
    pub fn invite_new(&self, first: &str, last: &str, email: &str) -> SendInvitationRequest {
        SendInvitationRequest::new(self.admin.id)
            .new_user(first, last, email)
            .business(self.business.id)
            .app(self.app.id)
            .subscription(self.subscription.id)
            .role(self.member.id)
    }

    /// The admin's bulk send of `rows` into the business, app and member role.
    pub fn bulk_request(
        &self,
        subscription: invite_core::SubscriptionId,
        rows: Vec<invite_core::BulkInvitee>,
    ) -> invite_core::BulkSendRequest {
        invite_core::BulkSendRequest::new(
            self.admin.id,
            self.business.id,
            self.app.id,
            subscription,
            self.member.id,
            rows,
        )
    }

    /// A new user (`first last <email>`) holding a seat of `subscription` in the
    /// business with `role`, added by the admin; the user and the seat.
    pub fn new_member(
        &self,
        (first, last, email): (&str, &str, &str),
        subscription: &Subscription,
        role: &Role,
    ) -> (User, invite_core::Membership) {
        let user = self
            .service
            .create_user(&person(first, last, email))
            .unwrap();
        let seat = self
            .service
            .add_membership(self.business.id, subscription.id, user.id, role.id)
            .unwrap();
        (user, seat)
    }

    /// A complete request from the admin for an existing user.
    pub fn invite_existing(&self, user: &User) -> SendInvitationRequest {
        self.invite_user(user.id)
    }

    /// A complete request from the admin for the existing user `id`.
    pub fn invite_user(&self, id: invite_core::UserId) -> SendInvitationRequest {
        SendInvitationRequest::new(self.admin.id)
            .existing_user(id)
            .business(self.business.id)
            .app(self.app.id)
            .subscription(self.subscription.id)
            .role(self.member.id)
    }

    pub fn usage(&self) -> invite_core::SeatUsage {
        self.service
            .seat_usage(self.business.id, self.subscription.id)
            .unwrap()
    }

    /// used + reserved from the counters equal a recount.
    pub fn assert_counters_match(&self, subscription: &Subscription) {
        let usage = self
            .service
            .seat_usage(subscription.business_id, subscription.id)
            .unwrap();
        let recount = self
            .service
            .recount_seats(subscription.business_id, subscription.id)
            .unwrap();
        assert_eq!(
            (usage.used, usage.reserved),
            (recount.used, recount.reserved),
            "counters drifted from a recount"
        );
    }
}

impl World {
    /// Suspends a subscription of the business, or makes it active again.
    pub fn set_suspended(
        &self,
        subscription: invite_core::SubscriptionId,
        suspended: bool,
    ) -> invite_core::Result<Subscription> {
        let status = if suspended {
            invite_core::SubscriptionStatus::Suspended
        } else {
            invite_core::SubscriptionStatus::Active
        };
        let changes = invite_core::SubscriptionChanges {
            status: Some(status),
            ..invite_core::SubscriptionChanges::default()
        };
        self.service
            .change_subscription(self.business.id, subscription, &changes)
    }

    /// The business's first `n` invitations (by id), unfiltered.
    pub fn invitations(&self, n: u32) -> invite_core::Result<Vec<invite_core::Invitation>> {
        self.service
            .list_invitations(
                self.business.id,
                &invite_core::InvitationFilter::default(),
                &invite_core::PageRequest::first(n),
            )
            .map(|page| page.items)
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use invite_core::Clock;
        self.clock.now()
    }
}

impl World {
    /// Mints tokens every way there is (keyed sends, a bulk send, resends), delivers the
    /// outbox and accepts one invitation; returns every raw token, for at-rest scans.
    pub fn mint_tokens_every_way(&self, n: usize) -> Vec<String> {
        use invite_core::{AcceptRequest, BulkInvitee, CapturingMailer};
        let mut tokens = Vec::new();
        for i in 0..n {
            let request = self
                .invite_new("T", "T", &format!("t{i}@example.com"))
                .idempotency_key(&format!("k{i}"));
            tokens.push(
                self.service
                    .send(&request)
                    .unwrap()
                    .token
                    .expose()
                    .to_owned(),
            );
        }
        let rows = (0..n)
            .map(|i| BulkInvitee::new_user("B", "B", &format!("b{i}@example.com")))
            .collect();
        let bulk = self.bulk_request(self.subscription.id, rows);
        for row in self.service.bulk_send(&bulk).unwrap().rows {
            tokens.push(row.unwrap().token.expose().to_owned());
        }
        let first = self.invitations(10).unwrap();
        self.clock.advance(chrono::Duration::minutes(5));
        for inv in &first {
            tokens.push(
                self.service
                    .resend(self.business.id, inv.id, self.admin.id, None)
                    .unwrap()
                    .token
                    .expose()
                    .to_owned(),
            );
        }
        self.service
            .dispatch_outbox(&CapturingMailer::new())
            .unwrap();
        self.service
            .accept(&AcceptRequest::new(tokens.last().unwrap()))
            .unwrap();
        tokens
    }
}

/// Runs the property `test` on `strategy` for the number of cases the environment
/// variable `cases_var` names (`default_cases` without it), with no failure files
/// written; panics with `what` and the shrunk failing input when it fails.
pub fn check_property<S: proptest::strategy::Strategy>(
    what: &str,
    cases_var: &str,
    default_cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) {
    let cases = std::env::var(cases_var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    if let Err(e) = runner.run(strategy, test) {
        panic!("{what}: {e}");
    }
}
