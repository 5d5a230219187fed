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
/// switch modes). The cascade is applied top-down and stops at the first choice that
/// changes: the options below it were rendered for the old choice, so their posted
/// values are stale, and the library has just cleared them.
pub fn apply(form: &mut InviteForm, input: &FormInput) -> Result<(), &'static str> {
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
    let steps: [(Option<&String>, Step); 4] = [
        (
            input.business_id.as_ref(),
            (InviteForm::select_business, InviteForm::business_id),
        ),
        (
            input.app_id.as_ref(),
            (InviteForm::select_app, InviteForm::app_id),
        ),
        (
            input.subscription_id.as_ref(),
            (InviteForm::select_subscription, InviteForm::subscription_id),
        ),
        (
            input.role_id.as_ref(),
            (InviteForm::select_role, InviteForm::role_id),
        ),
    ];
    for (posted, (set, get)) in steps {
        let Some(posted) = posted else { continue };
        let before = get(form).map(str::to_owned);
        set(form, Some(posted));
        if get(form) != before.as_deref() {
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
        apply(&mut form, &input(&[("business_id", "b1")])).unwrap();
        apply(
            &mut form,
            &input(&[("business_id", "b1"), ("app_id", "a1")]),
        )
        .unwrap();
        apply(
            &mut form,
            &input(&[
                ("business_id", "b1"),
                ("app_id", "a1"),
                ("subscription_id", "s1"),
            ]),
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
        )
        .unwrap();
        assert_eq!(form.business_id(), Some("b2"));
        assert_eq!(form.app_id(), None);
        assert_eq!(form.subscription_id(), None);
    }

    #[test]
    fn new_user_fields_are_ignored_in_existing_mode() {
        let mut form = InviteForm::new();
        apply(&mut form, &input(&[("mode", "new"), ("first_name", "Bo")])).unwrap();
        assert_eq!(form.first_name(), "Bo");
        apply(
            &mut form,
            &input(&[("mode", "existing"), ("first_name", "Bo")]),
        )
        .unwrap();
        assert_eq!(form.mode(), UserMode::Existing);
        assert_eq!(form.first_name(), "");
        assert_eq!(apply(&mut form, &input(&[("mode", "bogus")])), Err("mode"));
    }
}
