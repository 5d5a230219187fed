//! A proptest of the form model against the service: random sequences of what a page
//! does (switch mode, search, pick users, businesses, apps, subscriptions and roles from
//! the offered options, from other tenants' ids or from garbage; type names and emails,
//! valid or not; submit; let time pass; suspend a subscription), by an admin or by a
//! member whose role lets it invite. At every submit the form and the service agree:
//!
//! - a form that says it can send is sent, unless the invitee is a duplicate (an
//!   invitation pending or a seat held: the service's to find, not the form's);
//! - a form that says it cannot send is refused, never sent;
//! - a refusal names one of the form's fields, or none;
//! - the form survives its JSON round trip unchanged (the host keeps it between
//!   requests).

use std::sync::Arc;

use chrono::Duration;
use invite_core::form::{FIELDS, InviteForm, SubmitOutcome, UserMode};
use invite_core::{ErrorCode, NewSubscription, Store, Subscription, UserId};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::common::World;

/// How a step picks an id: one the form offers, one the world knows (maybe another
/// tenant's or another app's), text that is no id, or none.
#[derive(Clone, Debug)]
enum Pick {
    Offered(usize),
    Known(usize),
    Garbage,
    Clear,
}

#[derive(Clone, Debug)]
enum Op {
    Mode(bool),
    Query(usize),
    User(Pick),
    FirstName(usize),
    LastName(usize),
    Email(usize),
    Business(Pick),
    App(Pick),
    Subscription(Pick),
    Role(Pick),
    Submit,
    /// Eight days pass: every pending invitation is overdue.
    Advance,
    /// Suspends or reactivates one of the business's subscriptions.
    Suspend(usize, bool),
}

const QUERIES: &[&str] = &["", "ali", "ALI", "max", "zz-nobody", "  p"];
const NAMES: &[&str] = &["Pat", " Lee ", "", "   ", "Bad\u{202E}Name", "Zoë"];
const EMAILS: &[&str] = &[
    "p0@example.com",
    "p1@example.com",
    " P1@Example.com ",
    "ALICE@example.com",
    "max@acme.example",
    "not-an-email",
    "",
    "=?utf-8?q?a?=@example.com",
];

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => (0..4usize).prop_map(Pick::Offered),
        2 => (0..6usize).prop_map(Pick::Known),
        1 => Just(Pick::Garbage),
        1 => Just(Pick::Clear),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<bool>().prop_map(Op::Mode),
        1 => (0..QUERIES.len()).prop_map(Op::Query),
        2 => pick().prop_map(Op::User),
        2 => (0..NAMES.len()).prop_map(Op::FirstName),
        2 => (0..NAMES.len()).prop_map(Op::LastName),
        3 => (0..EMAILS.len()).prop_map(Op::Email),
        3 => pick().prop_map(Op::Business),
        3 => pick().prop_map(Op::App),
        3 => pick().prop_map(Op::Subscription),
        3 => pick().prop_map(Op::Role),
        4 => Just(Op::Submit),
        1 => Just(Op::Advance),
        1 => (0..3usize, any::<bool>()).prop_map(|(s, on)| Op::Suspend(s, on)),
    ]
}

struct Run {
    w: World,
    inviter: UserId,
    /// The business's subscriptions to the app: capped, unlimited (the member inviter's
    /// seat), and one with a single seat.
    subscriptions: [Subscription; 3],
    form: InviteForm,
}

/// Ids as the text a page posts.
fn texts<T: ToString>(ids: impl IntoIterator<Item = T>) -> Vec<String> {
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// The id `pick` chooses among `offered` (what the view lists) and `known`.
fn chosen(pick: &Pick, offered: &[String], known: &[String]) -> Option<String> {
    match pick {
        Pick::Offered(i) if !offered.is_empty() => Some(offered[i % offered.len()].clone()),
        Pick::Offered(_) | Pick::Clear => None,
        Pick::Known(i) => Some(known[i % known.len()].clone()),
        Pick::Garbage => Some("not-an-id".to_owned()),
    }
}

impl Run {
    fn fail(e: invite_core::Error) -> TestCaseError {
        TestCaseError::fail(format!("{e:?}"))
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let w = &self.w;
        let view = self
            .form
            .view(&w.service, self.inviter)
            .map_err(Self::fail)?;
        match op {
            Op::Mode(new) => self.form.set_mode(if *new {
                UserMode::New
            } else {
                UserMode::Existing
            }),
            Op::Query(i) => self.form.set_user_query(QUERIES[*i]),
            Op::User(p) => {
                let offered = texts(view.users.iter().map(|u| u.id));
                let known = texts([w.alice.id, w.admin.id]);
                self.form
                    .select_user(chosen(p, &offered, &known).as_deref());
            }
            Op::FirstName(i) => self.form.set_first_name(NAMES[*i]),
            Op::LastName(i) => self.form.set_last_name(NAMES[*i]),
            Op::Email(i) => self.form.set_email(EMAILS[*i]),
            Op::Business(p) => {
                let offered = texts(view.businesses.iter().map(|b| b.business.id));
                let known = texts([w.business.id, w.other_business.id]);
                self.form
                    .select_business(chosen(p, &offered, &known).as_deref());
            }
            Op::App(p) => {
                let offered = texts(view.apps.iter().map(|a| a.id));
                let known = texts([w.app.id, w.other_app.id]);
                self.form.select_app(chosen(p, &offered, &known).as_deref());
            }
            Op::Subscription(p) => {
                let offered = texts(view.subscriptions.iter().map(|s| s.subscription.id));
                let mut known = texts(self.subscriptions.iter().map(|s| s.id));
                known.push(w.other_subscription.id.to_string());
                self.form
                    .select_subscription(chosen(p, &offered, &known).as_deref());
            }
            Op::Role(p) => {
                let offered = texts(view.roles.iter().map(|r| r.id));
                let known = texts([w.member.id, w.manager.id, w.owner.id, w.other_app_role.id]);
                self.form
                    .select_role(chosen(p, &offered, &known).as_deref());
            }
            Op::Submit => self.submit(&view)?,
            Op::Advance => w.clock.advance(Duration::days(8)),
            Op::Suspend(i, suspended) => {
                w.set_suspended(self.subscriptions[*i].id, *suspended)
                    .map_err(Self::fail)?;
            }
        }
        let json =
            serde_json::to_string(&self.form).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let back: InviteForm =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&back, &self.form, "the JSON round trip changed the form");
        Ok(())
    }

    fn submit(&self, view: &invite_core::FormView) -> Result<(), TestCaseError> {
        let outcome = self
            .form
            .submit(&self.w.service, self.inviter)
            .map_err(Self::fail)?;
        match outcome {
            SubmitOutcome::Sent(sent) => {
                prop_assert!(
                    view.can_send,
                    "the service sent what the form said it could not: {:?}, {:?}",
                    view,
                    sent
                );
            }
            SubmitOutcome::Rejected(refusal) => {
                prop_assert!(
                    !view.can_send
                        || matches!(
                            refusal.code,
                            ErrorCode::AlreadyInvited | ErrorCode::AlreadyMember
                        ),
                    "the form said it could send, the service refused: {:?}, {:?}",
                    refusal,
                    view
                );
                if let Some(field) = refusal.field.as_deref() {
                    prop_assert!(FIELDS.contains(&field), "not a form field: {}", field);
                }
                for error in &refusal.field_errors {
                    prop_assert!(
                        FIELDS.contains(&error.field.as_str()),
                        "not a form field: {}",
                        error.field
                    );
                }
            }
        }
        Ok(())
    }
}

/// Runs the property on fresh stores from `factory`.
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    let strategy = (any::<bool>(), proptest::collection::vec(op(), 1..40));
    crate::common::check_property(
        "the form and the service disagree",
        "INVITE_FORM_CASES",
        32,
        &strategy,
        |(by_member, ops)| {
            let Some(store) = factory() else {
                return Ok(());
            };
            let w = World::new(store);
            let (max, _) = w.new_member(
                ("Max", "Manager", "max@acme.example"),
                &w.unlimited,
                &w.manager,
            );
            let single = w
                .service
                .create_subscription(&NewSubscription::new(
                    w.business.id,
                    w.app.id,
                    "Solo",
                    Some(1),
                ))
                .map_err(Run::fail)?;
            let mut run = Run {
                inviter: if by_member { max.id } else { w.admin.id },
                subscriptions: [w.subscription.clone(), w.unlimited.clone(), single],
                form: InviteForm::new(),
                w,
            };
            for op in &ops {
                run.step(op)?;
            }
            Ok(())
        },
    );
}
