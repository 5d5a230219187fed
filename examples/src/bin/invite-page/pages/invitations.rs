//! The invitations list: status, delivery status, expiry, history; resend and revoke.

use invite_core::{DeliveryState, Event, Invitation, InvitationStatus};
use maud::{Markup, html};

use super::{Nav, csrf_field, done_notice, layout, when};
use crate::listing::{HISTORY_LIMIT, LIST_LIMIT};
use crate::session::Flash;

/// One invitation with the names the table shows.
pub struct Row {
    pub invitation: Invitation,
    pub business: String,
    pub app: String,
    pub plan: String,
    pub role: String,
    pub invitee: String,
    /// The newest events of its history, oldest first.
    pub events: Vec<Event>,
    /// How many earlier events are not shown.
    pub events_hidden: usize,
}

/// A business with more invitations than the list shows.
pub struct Hidden {
    pub business: String,
    /// How many of its older invitations are not shown.
    pub count: usize,
}

/// What the list shows.
#[derive(Default)]
pub struct List {
    /// Newest first.
    pub rows: Vec<Row>,
    pub hidden: Vec<Hidden>,
}

/// A row's Resend or Revoke button, named for the invitee (several rows have the same
/// buttons). A `confirm` question is asked by page.js before the form is posted.
fn action(name: &str, label: &str, row: &Row, csrf: &str, confirm: Option<&str>) -> Markup {
    let email = &row.invitation.email;
    html! {
        form.inline method="post" action=(format!("/invitations/{name}")) {
            (csrf_field(csrf))
            input type="hidden" name="business_id" value=(row.invitation.business_id.to_string());
            input type="hidden" name="invitation_id" value=(row.invitation.id.to_string());
            button type="submit" data-action=(name) data-confirm=[confirm]
                aria-label=(format!("{label} the invitation to {email}")) { (label) }
        }
    }
}

fn history(row: &Row) -> Markup {
    html! {
        details {
            summary { "History" }
            @if row.events_hidden > 0 {
                p.small data-testid="history-hidden" data-count=(row.events_hidden) {
                    (row.events_hidden) " earlier events are not shown (the newest "
                    (HISTORY_LIMIT) " are)."
                }
            }
            ol.history {
                @for e in &row.events {
                    li data-event=(e.kind.as_str()) { (when(e.at)) " " (e.kind.as_str()) }
                }
            }
        }
    }
}

fn delivery(row: &Row) -> Markup {
    let d = &row.invitation.delivery;
    html! {
        span.badge data-delivery-state=(d.state.as_str()) { (d.state.as_str()) }
        @if d.state == DeliveryState::Failed {
            @if let Some(e) = &d.last_error { br; small { (e) } }
        }
        @if let Some(at) = d.delivered_at { br; small { (when(at)) } }
    }
}

/// Renders the list (newest first).
pub fn render(list: &List, csrf: &str, flash: Option<&Flash>, admin_name: &str) -> Markup {
    let rows = &list.rows;
    let body = html! {
        h1 { "Invitations" }
        @match flash {
            Some(Flash::Done { code, message, accept_link }) => {
                (done_notice(code, message, accept_link.as_deref()))
            }
            Some(Flash::Failed { code, message }) => {
                div.alert role="alert" data-testid="action-error" data-code=(code) { p { (message) } }
            }
            _ => {}
        }
        @for hidden in &list.hidden {
            p.small data-testid="older-hidden" data-business=(hidden.business) data-count=(hidden.count) {
                strong { (hidden.business) } ": " (hidden.count)
                " older invitations are not shown (the list shows the newest " (LIST_LIMIT) " of each business)."
            }
        }
        @if rows.is_empty() {
            p data-testid="no-invitations" { "No invitations yet. " a href="/" { "Invite someone." } }
        } @else {
            table.invitations data-testid="invitations" {
                thead { tr {
                    th { "Invitee" } th { "Business / app" } th { "Subscription" } th { "Role" }
                    th { "Status" } th { "Delivery" } th { "Sent" } th { "Expires" } th { "Actions" }
                } }
                tbody {
                    @for row in rows {
                        @let inv = &row.invitation;
                        tr data-invitation=(inv.id.to_string()) data-email=(inv.email)
                            data-status=(inv.status.as_str()) data-delivery=(inv.delivery.state.as_str()) {
                            td { (row.invitee) br; small { (inv.email) } }
                            td { (row.business) " / " (row.app) }
                            td { (row.plan) }
                            td { (row.role) }
                            td { span.badge data-status-badge=(inv.status.as_str()) { (inv.status.as_str()) } }
                            td { (delivery(row)) }
                            td { (inv.send_count) "×, last " (when(inv.last_sent_at)) }
                            td { (when(inv.expires_at)) }
                            td.actions {
                                @if matches!(inv.status, InvitationStatus::Pending | InvitationStatus::Expired) {
                                    (action("resend", "Resend", row, csrf, None))
                                }
                                @if inv.status == InvitationStatus::Pending {
                                    (action("revoke", "Revoke", row, csrf,
                                        Some(&format!("Revoke the invitation to {}? Its link will stop working.", inv.email))))
                                }
                                (history(row))
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Invitations", Nav::Invitations, Some(admin_name), body)
}
