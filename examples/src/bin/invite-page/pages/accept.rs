//! The invitee's page: what the invitation is (reading it changes nothing), and the
//! Accept and Decline buttons, which POST.

use invite_core::{Accepted, Invitation, InvitationPreview, InvitationStatus};
use maud::{Markup, html};

use super::{Nav, csrf_field, layout, when};

/// The invitation behind a link, with Accept and Decline while it is pending.
pub fn preview(p: &InvitationPreview, token: &str, csrf: &str) -> Markup {
    let inv = &p.invitation;
    let body = html! {
        h1 { "You are invited" }
        section.invitation data-testid="invitation" data-status=(inv.status.as_str()) data-creates-user=(p.creates_user) {
            p data-testid="invitation-summary" {
                strong data-testid="inviter" { (p.inviter_name) } " invited "
                strong data-testid="invitee" { (p.first_name) " " (p.last_name) }
                " (" (inv.email) ") to join " strong data-testid="app" { (p.app_name) }
                " on " strong data-testid="business" { (p.business_name) }
                " as " strong data-testid="role" { (p.role_name) } "."
            }
            @if inv.status == InvitationStatus::Pending {
                @if p.creates_user {
                    p data-testid="new-account" {
                        "Accepting creates your account as "
                        strong { (p.first_name) " " (p.last_name) } "."
                    }
                }
                p.small { "The link expires " (when(inv.expires_at)) "." }
                div.actions {
                    form.inline method="post" action="/invitations/accept" {
                        (csrf_field(csrf))
                        input type="hidden" name="token" value=(token);
                        button.primary type="submit" data-testid="accept" { "Accept" }
                    }
                    form.inline method="post" action="/invitations/decline" {
                        (csrf_field(csrf))
                        input type="hidden" name="token" value=(token);
                        button type="submit" data-testid="decline" { "Decline" }
                    }
                }
            } @else {
                p.small { "The link expired " (when(inv.expires_at)) "." }
                div.alert role="alert" data-testid="error" data-code="INVITATION_EXPIRED" {
                    p { "This invitation has expired. Ask the person who invited you to resend it." }
                }
            }
        }
    };
    layout("Invitation", Nav::None, None, body)
}

/// After a successful accept.
pub fn accepted(a: &Accepted, business: &str, app: &str) -> Markup {
    let body = html! {
        h1 { "Welcome" }
        div.success role="status" data-testid="accepted" data-code="INVITATION_ACCEPTED"
            data-user-created=(a.user_created) data-user-id=(a.user.id.to_string()) {
            p { "Welcome, " strong { (a.user.display_name()) } ". You joined "
                strong { (app) } " on " strong { (business) } "." }
            @if a.user_created { p { "Your account was created with the invited name." } }
        }
    };
    layout("Invitation accepted", Nav::None, None, body)
}

/// After a decline.
pub fn declined(inv: &Invitation) -> Markup {
    let body = html! {
        h1 { "Invitation declined" }
        div.success role="status" data-testid="declined" data-code="INVITATION_DECLINED" data-status=(inv.status.as_str()) {
            p { "You declined the invitation. Nothing else will happen." }
        }
    };
    layout("Invitation declined", Nav::None, None, body)
}

/// A link or button that cannot work (bad, used, revoked or expired token, …).
pub fn refused(code: &str, message: &str) -> Markup {
    let body = html! {
        h1 { "Invitation" }
        div.alert role="alert" data-testid="error" data-code=(code) {
            p { (message) }
        }
    };
    layout("Invitation", Nav::None, None, body)
}
