//! What the page's forms post, and how the Invite User form's fields reach the form
//! model's setters.

use invite_core::{InviteForm, UserMode};
use serde::Deserialize;

/// The fields the Invite User form posts. A field not posted is left as it is.
#[derive(Debug, Default, Deserialize)]
pub struct FormInput {
    pub csrf: Option<String>,
    pub action: Option<String>,
    pub mode: Option<String>,
    pub user_query: Option<String>,
    pub user_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub business_id: Option<String>,
    pub app_id: Option<String>,
    pub subscription_id: Option<String>,
    pub role_id: Option<String>,
    /// The rendering's send key (see `App::form_page`).
    pub idempotency_key: Option<String>,
}

/// Resend and revoke.
#[derive(Debug, Default, Deserialize)]
pub struct ActionInput {
    pub csrf: Option<String>,
    pub business_id: Option<String>,
    pub invitation_id: Option<String>,
}

/// Accept and decline.
#[derive(Debug, Default, Deserialize)]
pub struct TokenInput {
    pub csrf: Option<String>,
    pub token: Option<String>,
}

type Step = (
    fn(&mut InviteForm, Option<&str>),
    fn(&InviteForm) -> Option<&str>,
);

/// Applies posted fields through the form's setters (which own every rule).
///
/// The mode comes first: in existing-user mode only the search and the user are
/// applied, in new-user mode only the names and email (calling a new-user setter would
/// switch modes).
///
/// The choices are applied top-down. On a Send (`whole`), every posted choice is
/// applied: the admin sent the form as seen (without JavaScript, or from another tab),
/// and the service checks every id. Otherwise (one choice changed, the page updating)
/// the cascade stops at the first business, app or subscription that changes: the guide
/// says changing an upstream choice clears every choice below it, the library's setter
/// has just cleared them, and the values posted below it are the old choices.
pub fn apply(form: &mut InviteForm, input: &FormInput, whole: bool) -> Result<(), &'static str> {
    if let Some(mode) = input.mode.as_deref() {
        form.set_mode(UserMode::parse(mode).ok_or("mode")?);
    }
    match form.mode() {
        UserMode::Existing => {
            if let Some(query) = &input.user_query {
                form.set_user_query(query);
            }
            if let Some(user) = &input.user_id {
                form.select_user(Some(user));
            }
        }
        UserMode::New => {
            if let Some(v) = &input.first_name {
                form.set_first_name(v);
            }
            if let Some(v) = &input.last_name {
                form.set_last_name(v);
            }
            if let Some(v) = &input.email {
                form.set_email(v);
            }
        }
    }
    // Each step: what was posted, its setter and getter, and whether a change of it
    // makes the posted choices below stale.
    let steps: [(Option<&String>, Step, bool); 4] = [
        (
            input.business_id.as_ref(),
            (InviteForm::select_business, InviteForm::business_id),
            true,
        ),
        (
            input.app_id.as_ref(),
            (InviteForm::select_app, InviteForm::app_id),
            true,
        ),
        (
            input.subscription_id.as_ref(),
            (InviteForm::select_subscription, InviteForm::subscription_id),
            true,
        ),
        (
            input.role_id.as_ref(),
            (InviteForm::select_role, InviteForm::role_id),
            false,
        ),
    ];
    for (posted, (set, get), upstream) in steps {
        let Some(posted) = posted else { continue };
        let before = get(form).map(str::to_owned);
        set(form, Some(posted));
        if !whole && upstream && get(form) != before.as_deref() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> FormInput {
        let mut i = FormInput::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "mode" => i.mode = v,
                "user_id" => i.user_id = v,
                "first_name" => i.first_name = v,
                "business_id" => i.business_id = v,
                "app_id" => i.app_id = v,
                "subscription_id" => i.subscription_id = v,
                "role_id" => i.role_id = v,
                _ => unreachable!(),
            }
        }
        i
    }

    #[test]
    fn a_changed_choice_ignores_the_stale_ones_below() {
        let mut form = InviteForm::new();
        apply(&mut form, &input(&[("business_id", "b1")]), false).unwrap();
        apply(
            &mut form,
            &input(&[("business_id", "b1"), ("app_id", "a1")]),
            false,
        )
        .unwrap();
        apply(
            &mut form,
            &input(&[
                ("business_id", "b1"),
                ("app_id", "a1"),
                ("subscription_id", "s1"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(form.subscription_id(), Some("s1"));
        // The business changes while the old app and subscription are still posted.
        apply(
            &mut form,
            &input(&[
                ("business_id", "b2"),
                ("app_id", "a1"),
                ("subscription_id", "s1"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(form.business_id(), Some("b2"));
        assert_eq!(form.app_id(), None);
        assert_eq!(form.subscription_id(), None);
    }

    /// A form with business b1 and app a1 chosen, one change at a time.
    fn up_to_the_app() -> InviteForm {
        let mut form = InviteForm::new();
        let upto_app = [("business_id", "b1"), ("app_id", "a1")];
        apply(&mut form, &input(&upto_app[..1]), false).unwrap();
        apply(&mut form, &input(&upto_app), false).unwrap();
        form
    }

    #[test]
    fn a_new_subscription_clears_the_role_posted_with_it() {
        let mut form = up_to_the_app();
        let first = [
            ("business_id", "b1"),
            ("app_id", "a1"),
            ("subscription_id", "s1"),
        ];
        apply(&mut form, &input(&first), false).unwrap();
        let with_role = [
            ("business_id", "b1"),
            ("app_id", "a1"),
            ("subscription_id", "s1"),
            ("role_id", "r1"),
        ];
        apply(&mut form, &input(&with_role), false).unwrap();
        assert_eq!(form.role_id(), Some("r1"), "the same subscription keeps it");
        // Another subscription is chosen while the old role is still posted.
        let other = [
            ("business_id", "b1"),
            ("app_id", "a1"),
            ("subscription_id", "s2"),
            ("role_id", "r1"),
        ];
        apply(&mut form, &input(&other), false).unwrap();
        assert_eq!((form.subscription_id(), form.role_id()), (Some("s2"), None));
    }

    #[test]
    fn a_send_keeps_a_subscription_and_role_chosen_together() {
        let mut form = up_to_the_app();
        // Without JavaScript both lists show once the app is chosen: both are posted.
        let both = [
            ("business_id", "b1"),
            ("app_id", "a1"),
            ("subscription_id", "s1"),
            ("role_id", "r1"),
        ];
        apply(&mut form, &input(&both), true).unwrap();
        assert_eq!(
            (form.subscription_id(), form.role_id()),
            (Some("s1"), Some("r1"))
        );
    }

    #[test]
    fn a_send_applies_every_posted_choice() {
        let mut form = InviteForm::new();
        apply(&mut form, &input(&[("business_id", "b1")]), false).unwrap();
        // Another tab sends a complete form for another business.
        let other = [
            ("business_id", "b2"),
            ("app_id", "a2"),
            ("subscription_id", "s2"),
            ("role_id", "r2"),
        ];
        apply(&mut form, &input(&other), true).unwrap();
        assert_eq!(
            (
                form.business_id(),
                form.app_id(),
                form.subscription_id(),
                form.role_id()
            ),
            (Some("b2"), Some("a2"), Some("s2"), Some("r2"))
        );
    }

    #[test]
    fn new_user_fields_are_ignored_in_existing_mode() {
        let mut form = InviteForm::new();
        apply(
            &mut form,
            &input(&[("mode", "new"), ("first_name", "Bo")]),
            false,
        )
        .unwrap();
        assert_eq!(form.first_name(), "Bo");
        apply(
            &mut form,
            &input(&[("mode", "existing"), ("first_name", "Bo")]),
            false,
        )
        .unwrap();
        assert_eq!(form.mode(), UserMode::Existing);
        assert_eq!(form.first_name(), "");
        assert_eq!(
            apply(&mut form, &input(&[("mode", "bogus")]), false),
            Err("mode")
        );
    }
}
