//! The Invite User page: user selection, business → app → subscription (with seat
//! information) → role, Send Invitation and Clear. Everything shown comes from
//! `InviteForm::view`; every rule lives in the library.

use invite_core::form::{FormView, Hint, SubmitError};
use invite_core::{ErrorCode, FieldError, SeatUsage, SubscriptionStatus, UserMode};
use maud::{Markup, html};

use super::{Nav, csrf_field, layout};
use crate::session::Flash;

/// One problem shown next to a field (and in the summary after a refused send).
struct Problem {
    field: String,
    code: String,
    message: String,
}

/// Every problem the page shows: the view's live field errors, then those of the last
/// refused send (with the field a domain error belongs to), without repeats.
struct Problems(Vec<Problem>);

impl Problems {
    fn new(view: &FormView, extra: &[FieldError], rejected: Option<&SubmitError>) -> Self {
        let mut out = Problems(Vec::new());
        for e in view.field_errors.iter().chain(extra) {
            out.add(&e.field, e.code.as_str(), &e.message);
        }
        if let Some(r) = rejected {
            for e in &r.field_errors {
                out.add(&e.field, e.code.as_str(), &e.message);
            }
            if let Some(field) = &r.field {
                out.add(field, r.code.as_str(), &r.message);
            }
        }
        out
    }

    fn add(&mut self, field: &str, code: &str, message: &str) {
        if !self.0.iter().any(|p| p.field == field && p.code == code) {
            self.0.push(Problem {
                field: field.to_owned(),
                code: code.to_owned(),
                message: message.to_owned(),
            });
        }
    }

    /// The problems of `fields`, rendered next to them.
    fn at(&self, fields: &[&str]) -> Markup {
        html! {
            @for p in self.0.iter().filter(|p| fields.contains(&p.field.as_str())) {
                p.error data-field=(p.field) data-code=(p.code) { (p.message) }
            }
        }
    }
}

/// The page's name for a field of the form model.
fn label(field: &str) -> &str {
    match field {
        "user_id" => "User",
        "user_query" => "Search",
        "first_name" => "First name",
        "last_name" => "Last name",
        "email" => "Email",
        "business_id" => "Business",
        "app_id" => "App",
        "subscription_id" => "Subscription",
        "role_id" => "Role",
        other => other,
    }
}

fn hints_at(hints: &[Hint], field: &str) -> Markup {
    html! {
        @for h in hints.iter().filter(|h| h.field == field) {
            p.hint data-hint=(h.code.as_str()) data-field=(h.field) { (h.message) }
        }
    }
}

/// A `<select>` of one cascade step: a placeholder, then the options; disabled while
/// the library offers none (the hint next to it says why).
fn step_select(
    name: &str,
    label: &str,
    placeholder: &str,
    chosen: Option<&str>,
    options: &[(String, String)],
) -> Markup {
    html! {
        label for=(name) { (label) }
        select #(name) name=(name) data-autosubmit disabled[options.is_empty()] {
            option value="" selected[chosen.is_none()] { (placeholder) }
            @for (id, text) in options {
                option value=(id) selected[chosen == Some(id.as_str())] { (text) }
            }
        }
    }
}

fn seat_info(seats: &SeatUsage) -> Markup {
    let number = |n: Option<u32>| n.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    html! {
        section.seats data-testid="seats"
            data-unlimited=(seats.is_unlimited())
            data-total=(number(seats.total))
            data-used=(seats.used)
            data-reserved=(seats.reserved)
            data-available=(number(seats.available)) {
            h3 { "Seat information" }
            @if seats.is_unlimited() {
                p data-testid="seats-unlimited" { "Unlimited seats" }
            }
            dl {
                dt { "Total" } dd data-seat="total" { (number(seats.total)) }
                dt { "Used" } dd data-seat="used" { (seats.used) }
                dt { "Reserved by pending invitations" } dd data-seat="reserved" { (seats.reserved) }
                dt { "Available" } dd data-seat="available" { (number(seats.available)) }
            }
        }
    }
}

fn flash_block(flash: Option<&Flash>, problems: &Problems) -> Markup {
    html! {
        @match flash {
            Some(Flash::Sent { email, accept_link }) => {
                div.success role="status" data-testid="success" data-code="INVITATION_SENT" {
                    p { "Invitation sent to " strong { (email) } ". The email is queued for delivery." }
                    p.small { "Copy link (if the email does not arrive): "
                        a data-testid="copy-link" href=(accept_link) { (accept_link) } }
                }
            }
            Some(Flash::Rejected(r)) => {
                div.alert role="alert" data-testid="submit-error" data-code=(r.code.as_str()) {
                    @if r.code == ErrorCode::ValidationFailed {
                        // The page's own words: the library's message names fields by id.
                        p { "The invitation was not sent: "
                            @if problems.0.len() == 1 { "1 field needs attention." }
                            @else { (problems.0.len()) " fields need attention." } }
                    } @else {
                        p { "The invitation was not sent: " (r.message) }
                    }
                    @if r.code == ErrorCode::ValidationFailed {
                        ul {
                            @for p in &problems.0 {
                                li data-field=(p.field) data-code=(p.code) { strong { (label(&p.field)) } ": " (p.message) }
                            }
                        }
                    }
                }
            }
            Some(Flash::Failed { code, message }) => {
                div.alert role="alert" data-testid="submit-error" data-code=(code) { p { (message) } }
            }
            Some(Flash::Done { code, message }) => {
                div.success role="status" data-testid="notice" data-code=(code) { p { (message) } }
            }
            None => {}
        }
    }
}

/// Renders the page for `view`.
pub fn render(
    view: &FormView,
    csrf: &str,
    send_key: &str,
    flash: Option<&Flash>,
    extra_errors: &[FieldError],
    admin_name: &str,
) -> Markup {
    let rejected = match flash {
        Some(Flash::Rejected(r)) => Some(r),
        _ => None,
    };
    let problems = Problems::new(view, extra_errors, rejected);
    let form = &view.form;
    let mode = form.mode();
    let businesses: Vec<(String, String)> = view
        .businesses
        .iter()
        .map(|b| (b.business.id.to_string(), b.business.name.clone()))
        .collect();
    let apps: Vec<(String, String)> = view
        .apps
        .iter()
        .map(|a| (a.id.to_string(), a.name.clone()))
        .collect();
    let subscriptions: Vec<(String, String)> = view
        .subscriptions
        .iter()
        .map(|s| {
            let seats = s
                .subscription
                .seats
                .map_or_else(|| "unlimited seats".to_owned(), |n| format!("{n} seats"));
            let state = match (s.active, s.subscription.status) {
                (true, _) => String::new(),
                (false, SubscriptionStatus::Active) => " (outside its validity window)".to_owned(),
                (false, status) => format!(" ({})", status.as_str()),
            };
            (
                s.subscription.id.to_string(),
                format!("{}: {seats}{state}", s.subscription.plan),
            )
        })
        .collect();
    let roles: Vec<(String, String)> = view
        .roles
        .iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();

    let body = html! {
        h1 { "Invite User" }
        (flash_block(flash, &problems))
        form #invite-form method="post" action="/form" novalidate
            data-can-send=(view.can_send) data-mode=(mode.as_str()) {
            (csrf_field(csrf))
            input type="hidden" name="idempotency_key" value=(send_key);
            // The default button (Enter in a text field) applies what is typed.
            button.visually-hidden type="submit" name="action" value="update" tabindex="-1" { "Apply" }

            fieldset #user-section data-section="user" {
                legend { "User" }
                div.modes role="radiogroup" {
                    label { input type="radio" name="mode" value="existing" data-autosubmit checked[mode == UserMode::Existing]; " Existing user" }
                    label { input type="radio" name="mode" value="new" data-autosubmit checked[mode == UserMode::New]; " Add new user" }
                }
                @if mode == UserMode::Existing {
                    div.search {
                        label for="user_query" { "Search users" }
                        input #user_query type="search" name="user_query" value=(form.user_query())
                            placeholder="name or email" autocomplete="off";
                        button type="submit" name="action" value="search" { "Search" }
                    }
                    (problems.at(&["user_query"]))
                    label for="user_id" { "Users" }
                    select #user_id name="user_id" size="8" data-autosubmit {
                        @for u in &view.users {
                            option value=(u.id.to_string()) selected[form.user_id() == Some(u.id.to_string().as_str())] {
                                (u.display_name()) " <" (u.email) ">"
                            }
                        }
                    }
                    @if view.users_truncated {
                        p.small data-testid="users-truncated" {
                            "More users match: type more of the name or email to find the one you want."
                        }
                    }
                    (hints_at(&view.hints, "user_id"))
                    @if let Some(u) = &view.selected_user {
                        p.selected data-testid="selected-user" data-user-id=(u.id.to_string()) {
                            "Selected: " strong { (u.display_name()) } " <" (u.email) ">"
                        }
                    }
                    (problems.at(&["user_id"]))
                } @else {
                    div.new-user data-testid="new-user-fields" {
                        div.field {
                            label for="first_name" { "First name" }
                            input #first_name type="text" name="first_name" value=(form.first_name()) aria-required="true" autocomplete="given-name";
                            (problems.at(&["first_name"]))
                        }
                        div.field {
                            label for="last_name" { "Last name" }
                            input #last_name type="text" name="last_name" value=(form.last_name()) aria-required="true" autocomplete="family-name";
                            (problems.at(&["last_name"]))
                        }
                        div.field {
                            label for="email" { "Email" }
                            input #email type="email" name="email" value=(form.email()) aria-required="true" autocomplete="email";
                            (problems.at(&["email"]))
                        }
                    }
                    (problems.at(&["user_id"]))
                }
            }

            fieldset #placement-section {
                legend { "Access" }
                div.field data-step="business_id" {
                    (step_select("business_id", "Business", "Select a business", form.business_id(), &businesses))
                    (hints_at(&view.hints, "business_id"))
                    (problems.at(&["business_id"]))
                }
                div.field data-step="app_id" {
                    (step_select("app_id", "App", "Select an app", form.app_id(), &apps))
                    (hints_at(&view.hints, "app_id"))
                    (problems.at(&["app_id"]))
                }
                div.field data-step="subscription_id" {
                    (step_select("subscription_id", "Subscription", "Select a subscription", form.subscription_id(), &subscriptions))
                    (hints_at(&view.hints, "subscription_id"))
                    @if let Some(seats) = &view.seats { (seat_info(seats)) }
                    (problems.at(&["subscription_id"]))
                }
                div.field data-step="role_id" {
                    (step_select("role_id", "Role", "Select a role", form.role_id(), &roles))
                    (hints_at(&view.hints, "role_id"))
                    (problems.at(&["role_id"]))
                }
            }

            div.actions {
                noscript { button type="submit" name="action" value="update" { "Apply choices" } }
                button.primary type="submit" name="action" value="send" data-testid="send" { "Send Invitation" }
                button type="submit" name="action" value="clear" data-testid="clear" { "Clear" }
            }
        }
    };
    layout("Invite User", Nav::Invite, Some(admin_name), body)
}
