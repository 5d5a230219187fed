//! A proptest of identity (SECURITY.md T5 and T9, invariant 2): addresses drawn from
//! spellings that fold into one another (case, fullwidth, the Kelvin sign, IDN and
//! punycode domains) and ones that must not (a dotless ı, ß against ss, another
//! domain), with non-ASCII local parts allowed. Two addresses are one person exactly
//! when `Email::parse` gives them one key; against that rule:
//!
//! - a second invitation to the same person is `ALREADY_INVITED`, to another is sent;
//! - accepting with a claimed email, or as a signed-in user, succeeds only for the
//!   invited person (`EMAIL_MISMATCH` otherwise), and an accept by token alone joins
//!   the user who holds the invited person's key, creating one only when there is none;
//! - the invitation and the user keep each address as it was entered.

use std::sync::Arc;

use invite_core::input::{Email, EmailPolicy};
use invite_core::{AcceptRequest, ErrorCode, Store};
use proptest::prelude::*;

use crate::common::{World, person};

/// Spellings of a few people, and some that only look like them.
const ADDRESSES: &[&str] = &[
    "mike@example.com",
    "MIKE@EXAMPLE.COM",
    "ｍｉｋｅ@example.com",
    "mıke@example.com",
    "mike@example.org",
    "kim@bücher.example",
    "\u{212A}im@xn--bcher-kva.example",
    "KIM@BÜCHER.example",
    "strasse@example.com",
    "straße@example.com",
    "STRASSE@example.com",
];

fn policy() -> EmailPolicy {
    EmailPolicy {
        allow_non_ascii_local_part: true,
    }
}

fn key(address: &str) -> String {
    Email::parse(address, "email", policy())
        .map(|e| e.key().to_owned())
        .unwrap_or_default()
}

#[derive(Clone, Debug)]
struct Case {
    /// The invited address, and a second invitation's.
    invited: usize,
    second: usize,
    /// A user registered before the accept, if any.
    registered: Option<usize>,
    /// How the invitee accepts: by token alone, claiming an email, or signed in as the
    /// registered user.
    claim: Claim,
}

#[derive(Clone, Debug)]
enum Claim {
    TokenOnly,
    Email(usize),
    SignedIn,
}

fn case() -> impl Strategy<Value = Case> {
    let address = 0..ADDRESSES.len();
    (
        address.clone(),
        address.clone(),
        prop::option::of(address.clone()),
        prop_oneof![
            Just(Claim::TokenOnly),
            address.prop_map(Claim::Email),
            Just(Claim::SignedIn),
        ],
    )
        .prop_map(|(invited, second, registered, claim)| Case {
            invited,
            second,
            registered,
            claim,
        })
}

fn check(case: &Case, w: &World) -> Result<(), TestCaseError> {
    let fail = |e: invite_core::Error| TestCaseError::fail(format!("{e:?}"));
    let invited = ADDRESSES[case.invited];
    let sent = w
        .service
        .send(&w.invite_new("I", "I", invited))
        .map_err(fail)?;
    prop_assert_eq!(&sent.invitation.email, invited, "kept as entered");

    let second = ADDRESSES[case.second];
    let again = w.service.send(&w.invite_new("S", "S", second));
    let same_person = key(second) == key(invited);
    prop_assert_eq!(
        again.as_ref().err().map(|e| e.code()),
        same_person.then_some(ErrorCode::AlreadyInvited),
        "second invitation to {}",
        second
    );

    let registered = match case.registered {
        Some(r) => Some(
            w.service
                .create_user(&person("R", "R", ADDRESSES[r]))
                .map_err(fail)?,
        ),
        None => None,
    };
    let holder = registered
        .as_ref()
        .filter(|user| user.email_key == key(invited));

    let request = AcceptRequest::new(sent.token.expose());
    let (request, expected) = match &case.claim {
        Claim::TokenOnly => (request, Ok(())),
        Claim::Email(c) => {
            let claimed = ADDRESSES[*c];
            let expected = if key(claimed) == key(invited) {
                Ok(())
            } else {
                Err(ErrorCode::EmailMismatch)
            };
            (request.with_email(claimed), expected)
        }
        Claim::SignedIn => match &registered {
            Some(user) => {
                let expected = if holder.is_some() {
                    Ok(())
                } else {
                    Err(ErrorCode::EmailMismatch)
                };
                (request.as_user(user.id), expected)
            }
            None => (request, Ok(())),
        },
    };
    let accepted = w.service.accept(&request);
    prop_assert_eq!(
        accepted.as_ref().map(|_| ()).map_err(|e| e.code()),
        expected,
        "accept of {} ({:?})",
        invited,
        case.claim
    );
    if let Ok(accepted) = accepted {
        match holder {
            Some(user) => {
                prop_assert_eq!(accepted.user.id, user.id, "joins the registered user");
                prop_assert!(!accepted.user_created);
            }
            None => {
                prop_assert!(accepted.user_created, "a user is created for a new person");
                prop_assert_eq!(&accepted.user.email, invited, "kept as entered");
            }
        }
    }
    Ok(())
}

/// Runs the property on fresh stores from `factory`.
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    crate::common::check_property(
        "identity differs from the rule",
        "INVITE_IDENTITY_CASES",
        32,
        &case(),
        |case| {
            let Some(store) = factory() else {
                return Ok(());
            };
            let mut config = crate::common::config();
            config.email_policy = policy();
            let w = World::with_config(store, config, None);
            check(&case, &w)
        },
    );
}
