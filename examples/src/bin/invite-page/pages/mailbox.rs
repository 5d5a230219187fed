//! The development mailbox: every email the outbox delivered, newest first.

use invite_core::InvitationEmail;
use maud::{Markup, html};

use super::{Nav, layout, when};

/// Renders the mailbox.
pub fn render(emails: &[InvitationEmail], admin_name: &str) -> Markup {
    let body = html! {
        h1 { "Mailbox (development)" }
        p.small {
            "Emails the outbox delivered to this process's in-memory mailer, newest first. "
            "It starts empty at every restart; nothing leaves this machine."
        }
        @if emails.is_empty() {
            p data-testid="mailbox-empty" { "No emails yet." }
        }
        @for (n, email) in emails.iter().enumerate().rev() {
            article.email data-testid="email" data-to=(email.to) data-invitation=(email.invitation_id.to_string()) data-index=(n) {
                header {
                    h2 { (email.subject) }
                    p.small { "To: " strong { (email.to) } " · link expires " (when(email.expires_at)) }
                }
                p { a.button data-testid="accept-link" href=(email.accept_link) { "Open the invitation" } }
                details {
                    summary { "Plain-text body" }
                    pre { (email.text) }
                }
            }
        }
    };
    layout("Mailbox", Nav::Mailbox, Some(admin_name), body)
}
