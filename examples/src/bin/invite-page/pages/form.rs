//! The Invite User page: user selection, business → app → subscription (with seat
//! information) → role, Send Invitation and Clear. Everything shown comes from
//! `InviteForm::view`; every rule lives in the library.

use invite_core::form::{FIELDS, FormView, Hint, SubmitError};
use invite_core::{
    ErrorCode, FieldError, InvitationStatus, SeatUsage, SubscriptionStatus, UserMode,
};
use maud::{Markup, html};

use super::{Nav, copy_link, csrf_field, done_notice, layout};
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

    /// The problems of `field` with the ids of their paragraphs (`error-<field>-<n>`).
    fn of<'a>(&'a self, field: &'a str) -> impl Iterator<Item = (String, &'a Problem)> + 'a {
        self.0
            .iter()
            .filter(move |p| p.field == field)
            .enumerate()
            .map(move |(n, p)| (format!("error-{field}-{n}"), p))
    }

    /// The problems of `field`, rendered next to it.
    fn at(&self, field: &str) -> Markup {
        html! {
            @for (id, p) in self.of(field) {
                p.error id=(id) data-field=(p.field) data-code=(p.code) { (p.message) }
            }
        }
    }

    /// `aria-invalid` of the control of `field`: `Some("true")` when it has problems.
    fn invalid(&self, field: &str) -> Option<&'static str> {
        self.of(field).next().map(|_| "true")
    }

    /// `aria-describedby` of the control of `field`: the ids of its problems.
    fn described_by(&self, field: &str) -> Option<String> {
        let ids: Vec<String> = self.of(field).map(|(id, _)| id).collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    /// The problems the refusal summary lists: those that block sending (not the
    /// search box's, which stays next to it), in the form's field order.
    fn blocking(&self) -> Vec<&Problem> {
        // The library's field order is the form's.
        let rank = |field: &str| {
            FIELDS
                .iter()
                .position(|f| *f == field)
                .unwrap_or(FIELDS.len())
        };
        let mut listed: Vec<&Problem> = self.0.iter().filter(|p| p.field != "user_query").collect();
        listed.sort_by_key(|p| rank(&p.field));
        listed
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
    problems: &Problems,
) -> Markup {
    html! {
        label for=(name) { (label) }
        select #(name) name=(name) data-autosubmit disabled[options.is_empty()]
            aria-invalid=[problems.invalid(name)] aria-describedby=[problems.described_by(name)] {
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
            h2 { "Seat information" }
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

/// The refusal of the last send: the problems that block it (with the fields they
/// belong to), or the library's message, its help and when to retry.
fn rejected_block(r: &SubmitError, problems: &Problems) -> Markup {
    let listed = problems.blocking();
    let mut fields: Vec<&str> = Vec::new();
    for p in &listed {
        if !fields.contains(&p.field.as_str()) {
            fields.push(&p.field);
        }
    }
    html! {
        div.alert role="alert" data-testid="submit-error" data-code=(r.code.as_str()) {
            @if r.code == ErrorCode::ValidationFailed {
                // The page's own words: the library's message names fields by id.
                p data-testid="problem-count" data-count=(fields.len()) { "The invitation was not sent: "
                    @if fields.len() == 1 { "1 field needs attention." }
                    @else { (fields.len()) " fields need attention." } }
                ul {
                    @for p in &listed {
                        li data-field=(p.field) data-code=(p.code) { strong { (label(&p.field)) } ": " (p.message) }
                    }
                }
            } @else {
                p { "The invitation was not sent: " (r.message) }
            }
            @if let Some(help) = &r.help {
                p data-testid="submit-help" { "What to do: " (help) }
            }
            @if let Some(retry) = r.retry_after {
                @let seconds = retry.as_secs().max(1);
                p data-testid="retry-after" data-seconds=(seconds) { "Try again in " (seconds) " s." }
            }
        }
    }
}

/// A replayed send of an invitation whose first link no longer works.
fn already_sent_block(email: &str, status: InvitationStatus) -> Markup {
    html! {
        div.notice role="status" data-testid="notice" data-code="INVITATION_ALREADY_SENT" data-status=(status.as_str()) {
            p { "This form was sent already: the invitation to " strong { (email) } " exists. "
                @if status == InvitationStatus::Pending {
                    "It has been resent since, so the link it was first sent with no longer works."
                } @else {
                    "It is " (status.as_str()) " now, so its link no longer works."
                }
            }
            p.small { "See the " a href="/invitations" { "invitations list" } "." }
        }
    }
}

fn flash_block(flash: Option<&Flash>, problems: &Problems) -> Markup {
    html! {
        @match flash {
            Some(Flash::Sent { email, accept_link }) => {
                div.success role="status" data-testid="success" data-code="INVITATION_SENT" {
                    p { "Invitation sent to " strong { (email) } ". The email is queued for delivery." }
                    (copy_link(accept_link))
                }
            }
            Some(Flash::AlreadySent { email, status }) => { (already_sent_block(email, *status)) }
            Some(Flash::Rejected(r)) => { (rejected_block(r, problems)) }
            Some(Flash::Failed { code, message }) => {
                div.alert role="alert" data-testid="submit-error" data-code=(code) { p { (message) } }
            }
            Some(Flash::Done { code, message, accept_link }) => {
                (done_notice(code, message, accept_link.as_deref()))
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
            // The default button (Enter in a text field) applies what is typed. Only the
            // keyboard's implicit submission uses it: hidden from sight and from screen
            // readers, which reach the Search and Send buttons instead.
            button.visually-hidden type="submit" name="action" value="update" tabindex="-1" aria-hidden="true" { "Apply" }

            fieldset #user-section data-section="user" {
                legend { "User" }
                // The group's name (a hidden element still names what points at it).
                span #mode-label hidden { "Existing or new user" }
                div.modes role="radiogroup" aria-labelledby="mode-label" {
                    label { input type="radio" name="mode" value="existing" data-autosubmit checked[mode == UserMode::Existing]; " Existing user" }
                    label { input type="radio" name="mode" value="new" data-autosubmit checked[mode == UserMode::New]; " Add new user" }
                }
                @if mode == UserMode::Existing {
                    div.search {
                        label for="user_query" { "Search users" }
                        input #user_query type="search" name="user_query" value=(form.user_query())
                            placeholder="name or email" autocomplete="off"
                            aria-invalid=[problems.invalid("user_query")]
                            aria-describedby=[problems.described_by("user_query")];
                        button type="submit" name="action" value="search" { "Search" }
                    }
                    (problems.at("user_query"))
                    label for="user_id" { "Users" }
                    select #user_id name="user_id" size="8" data-autosubmit
                        aria-invalid=[problems.invalid("user_id")]
                        aria-describedby=[problems.described_by("user_id")] {
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
                    (problems.at("user_id"))
                } @else {
                    div.new-user data-testid="new-user-fields" {
                        div.field {
                            label for="first_name" { "First name" }
                            input #first_name type="text" name="first_name" value=(form.first_name())
                                aria-required="true" autocomplete="given-name"
                                aria-invalid=[problems.invalid("first_name")]
                                aria-describedby=[problems.described_by("first_name")];
                            (problems.at("first_name"))
                        }
                        div.field {
                            label for="last_name" { "Last name" }
                            input #last_name type="text" name="last_name" value=(form.last_name())
                                aria-required="true" autocomplete="family-name"
                                aria-invalid=[problems.invalid("last_name")]
                                aria-describedby=[problems.described_by("last_name")];
                            (problems.at("last_name"))
                        }
                        div.field {
                            label for="email" { "Email" }
                            input #email type="email" name="email" value=(form.email())
                                aria-required="true" autocomplete="email"
                                aria-invalid=[problems.invalid("email")]
                                aria-describedby=[problems.described_by("email")];
                            (problems.at("email"))
                        }
                    }
                    (problems.at("user_id"))
                }
            }

            fieldset #placement-section {
                legend { "Access" }
                div.field data-step="business_id" {
                    (step_select("business_id", "Business", "Select a business", form.business_id(), &businesses, &problems))
                    (hints_at(&view.hints, "business_id"))
                    (problems.at("business_id"))
                }
                div.field data-step="app_id" {
                    (step_select("app_id", "App", "Select an app", form.app_id(), &apps, &problems))
                    (hints_at(&view.hints, "app_id"))
                    (problems.at("app_id"))
                }
                div.field data-step="subscription_id" {
                    (step_select("subscription_id", "Subscription", "Select a subscription", form.subscription_id(), &subscriptions, &problems))
                    (hints_at(&view.hints, "subscription_id"))
                    @if let Some(seats) = &view.seats { (seat_info(seats)) }
                    (problems.at("subscription_id"))
                }
                div.field data-step="role_id" {
                    (step_select("role_id", "Role", "Select a role", form.role_id(), &roles, &problems))
                    (hints_at(&view.hints, "role_id"))
                    (problems.at("role_id"))
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use invite_core::FieldCode;

    use super::*;

    fn refusal(code: ErrorCode, help: Option<&str>, retry: Option<u64>) -> SubmitError {
        SubmitError {
            code,
            message: "refused".to_owned(),
            field: None,
            field_errors: Vec::new(),
            help: help.map(str::to_owned),
            retry_after: retry.map(Duration::from_secs),
        }
    }

    fn problems(fields: &[&str]) -> Problems {
        let mut out = Problems(Vec::new());
        for field in fields {
            out.add(field, "REQUIRED", "is required");
        }
        out
    }

    #[test]
    fn a_refusal_shows_its_help_and_when_to_retry() {
        let html = rejected_block(
            &refusal(ErrorCode::RateLimited, Some("wait a little"), Some(90)),
            &problems(&[]),
        )
        .into_string();
        assert!(html.contains(r#"data-testid="submit-help""#), "{html}");
        assert!(
            html.contains(r#"data-testid="retry-after" data-seconds="90""#),
            "{html}"
        );
        let bare = rejected_block(
            &refusal(ErrorCode::AlreadyMember, None, None),
            &problems(&[]),
        )
        .into_string();
        assert!(!bare.contains("submit-help") && !bare.contains("retry-after"));
    }

    #[test]
    fn the_summary_skips_the_search_and_follows_the_form() {
        let found = problems(&[
            "role_id",
            "user_query",
            "email",
            "business_id",
            "first_name",
        ]);
        let fields: Vec<&str> = found.blocking().iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["first_name", "email", "business_id", "role_id"]);
        let mut twice = problems(&["email"]);
        twice.add("email", FieldCode::InvalidEmail.as_str(), "is not an email");
        let html =
            rejected_block(&refusal(ErrorCode::ValidationFailed, None, None), &twice).into_string();
        assert!(
            html.contains(r#"data-count="1""#),
            "one field, two problems: {html}"
        );
    }

    #[test]
    fn error_paragraphs_describe_their_control() {
        let mut found = problems(&["email"]);
        found.add("email", "INVALID_EMAIL", "is not an email");
        assert_eq!(found.invalid("email"), Some("true"));
        assert_eq!(
            found.described_by("email").as_deref(),
            Some("error-email-0 error-email-1")
        );
        assert_eq!(
            (found.invalid("role_id"), found.described_by("role_id")),
            (None, None)
        );
        let html = found.at("email").into_string();
        assert!(html.contains(r#"id="error-email-0""#) && html.contains(r#"id="error-email-1""#));
    }
}
