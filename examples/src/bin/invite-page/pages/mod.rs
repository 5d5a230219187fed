//! Server-rendered pages (maud escapes every interpolated value).

pub mod accept;
pub mod form;
pub mod invitations;
pub mod mailbox;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

/// Which navigation entry is current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Invite,
    Invitations,
    Mailbox,
    None,
}

/// The page frame: head, navigation, the signed-in admin, then `body`.
pub fn layout(title: &str, nav: Nav, signed_in: Option<&str>, body: Markup) -> Markup {
    let link = |href: &str, label: &str, this: Nav| {
        html! {
            a href=(href) aria-current=[(nav == this).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · invite-core demo" }
                link rel="stylesheet" href="/static/page.css";
                script src="/static/page.js" defer {}
            }
            body {
                header.top {
                    span.brand { "invite-core demo" }
                    nav {
                        (link("/", "Invite User", Nav::Invite))
                        (link("/invitations", "Invitations", Nav::Invitations))
                        (link("/mailbox", "Mailbox (dev)", Nav::Mailbox))
                    }
                    @if let Some(name) = signed_in {
                        span.who data-testid="signed-in" { "Signed in as " strong { (name) } " (demo admin)" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A hidden CSRF field for a POST form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An instant, readable and machine-readable.
pub fn when(at: DateTime<Utc>) -> Markup {
    html! { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M UTC").to_string()) } }
}

/// Who an error page speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The signed-in admin: the page links back to the Invite User form.
    Admin,
    /// The person who followed an invitation link: no way into the admin console.
    Invitee,
}

/// A page that only reports an error with its stable code, to the admin.
pub fn error_page(title: &str, code: &str, message: &str, signed_in: Option<&str>) -> Markup {
    error_page_for(Audience::Admin, title, code, message, signed_in)
}

/// A page that only reports an error with its stable code, to `audience`.
pub fn error_page_for(
    audience: Audience,
    title: &str,
    code: &str,
    message: &str,
    signed_in: Option<&str>,
) -> Markup {
    layout(
        title,
        Nav::None,
        signed_in,
        html! {
            h1 { (title) }
            div.alert role="alert" data-testid="error" data-code=(code) {
                p { (message) }
                p.code { code { (code) } }
            }
            @if audience == Audience::Admin {
                p { a href="/" data-testid="back-to-console" { "Back to Invite User" } }
            }
        },
    )
}

/// The copy-link fallback: the accept link, for when the email does not arrive.
pub fn copy_link(accept_link: &str) -> Markup {
    html! {
        p.small { "Copy link (if the email does not arrive): "
            a data-testid="copy-link" href=(accept_link) { (accept_link) } }
    }
}

/// The result of an action on the invitations list, with a resend's new link.
pub fn done_notice(code: &str, message: &str, accept_link: Option<&str>) -> Markup {
    html! {
        div.success role="status" data-testid="notice" data-code=(code) {
            p { (message) }
            @if let Some(link) = accept_link { (copy_link(link)) }
        }
    }
}
