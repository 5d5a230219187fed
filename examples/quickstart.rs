//! Walks the Invite User guide against the library and prints each step: load a catalog, read the page's options, send to a new and an
//! existing user, hit the troubleshooting cases, deliver the emails, accept, resend,
//! revoke. Run it with `scripts/demo` (or `cargo run -p invite-examples --example quickstart`).
//!
//! The store URL comes from `INVITE_STORE_URL` (default `memory:`; another store must be
//! empty, as the walk creates its own catalog).
#![allow(
    clippy::unwrap_used,
    reason = "the example shows expected refusals with unwrap_err"
)]

use invite_core::form::{InviteForm, SubmitOutcome, UserMode};
use invite_core::{
    AcceptRequest, CapturingMailer, Config, InviteService, NewSubscription, NewUser, PageRequest,
    SendInvitationRequest,
};

fn person(first: &str, last: &str, email: &str) -> NewUser {
    NewUser {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
    }
}

fn main() -> Result<(), invite_core::Error> {
    let url = std::env::var("INVITE_STORE_URL").unwrap_or_else(|_| "memory:".to_owned());
    let store = invite_core::store::open(&url)?;
    println!("store: {url} ({})", store.kind());

    // ANCHOR: setup
    let service = InviteService::new(
        store,
        Config::with_base_url("https://app.example.com/invite/accept"),
    )?;
    let acme = service.create_business("Acme")?;
    let billing = service.create_app("Billing")?;
    service.set_app_enabled(acme.id, billing.id, true)?;
    let team =
        service.create_subscription(&NewSubscription::new(acme.id, billing.id, "Team", Some(2)))?;
    let member = service.create_role(billing.id, "member", "Member", &["billing.read"])?;
    let admin = service.create_user(&person("Ada", "Admin", "ada@acme.example"))?;
    service.set_business_admin(acme.id, admin.id, true)?;
    let alice = service.create_user(&person("Alice", "Archer", "alice@example.com"))?;
    // ANCHOR_END: setup
    println!(
        "1. catalog loaded: business {}, app {}, subscription {} with 2 seats",
        acme.name, billing.name, team.plan
    );

    let mut form = InviteForm::new();
    let view = form.view(&service, admin.id)?;
    println!(
        "2. empty form: {} apps, hints {:?}",
        view.apps.len(),
        view.hints
            .iter()
            .map(|h| h.code.as_str())
            .collect::<Vec<_>>()
    );
    form.select_business(Some(&acme.id.to_string()));
    form.select_app(Some(&billing.id.to_string()));
    form.select_subscription(Some(&team.id.to_string()));
    let view = form.view(&service, admin.id)?;
    if let Some(seats) = view.seats {
        println!(
            "3. seat information: total {:?}, used {}, reserved {}, available {:?}",
            seats.total, seats.used, seats.reserved, seats.available
        );
    }

    // ANCHOR: send
    let sent = service.send(
        &SendInvitationRequest::new(admin.id)
            .new_user("Bob", "Baker", "bob@example.com")
            .business(acme.id)
            .app(billing.id)
            .subscription(team.id)
            .role(member.id),
    )?;
    println!(
        "4. invited a new user: {} (link {})",
        sent.invitation.email, sent.accept_link
    );
    // ANCHOR_END: send

    form.select_role(Some(&member.id.to_string()));
    form.set_mode(UserMode::Existing);
    form.select_user(Some(&alice.id.to_string()));
    match form.submit(&service, admin.id)? {
        SubmitOutcome::Sent(s) => println!(
            "5. invited an existing user through the form: {}",
            s.invitation.email
        ),
        SubmitOutcome::Rejected(e) => println!("5. form rejected: {}", e.code),
    }

    let incomplete = service
        .send(&SendInvitationRequest::new(admin.id))
        .unwrap_err();
    let fields: Vec<_> = incomplete
        .field_errors()
        .iter()
        .map(|e| format!("{}={}", e.field, e.code))
        .collect();
    println!(
        "6. missing fields: {} [{}]",
        incomplete.code(),
        fields.join(", ")
    );
    let bad_email = service
        .send(
            &SendInvitationRequest::new(admin.id)
                .new_user("Eve", "E", "not-an-email")
                .business(acme.id)
                .app(billing.id)
                .subscription(team.id)
                .role(member.id),
        )
        .unwrap_err();
    println!(
        "7. invalid email: {} {:?}",
        bad_email.code(),
        bad_email.field_errors().first().map(|e| e.code.as_str())
    );
    let full = service
        .send(
            &SendInvitationRequest::new(admin.id)
                .new_user("Carl", "C", "carl@example.com")
                .business(acme.id)
                .app(billing.id)
                .subscription(team.id)
                .role(member.id),
        )
        .unwrap_err();
    println!("8. seat limit: {}", full.code());

    let mailer = CapturingMailer::new();
    let report = service.dispatch_outbox(&mailer)?;
    println!(
        "9. outbox delivered {} emails: {:?}",
        report.delivered,
        mailer
            .sent()
            .iter()
            .map(|m| m.to.as_str())
            .collect::<Vec<_>>()
    );

    // ANCHOR: accept
    let accepted = service.accept(&AcceptRequest::new(sent.token.expose()))?;
    println!(
        "10. {} accepted; a user was created: {}",
        accepted.user.display_name(),
        accepted.user_created
    );
    // ANCHOR_END: accept
    let seats = service.seat_usage(acme.id, team.id)?;
    println!(
        "11. seats now: used {}, reserved {}, available {:?}",
        seats.used, seats.reserved, seats.available
    );

    let pending =
        service.list_invitations(acme.id, &Default::default(), &PageRequest::default())?;
    let alice_invite = pending
        .items
        .iter()
        .find(|i| i.email == alice.email)
        .map(|i| i.id);
    if let Some(id) = alice_invite {
        println!(
            "12. resend is rate limited right after sending: {}",
            service
                .resend(acme.id, id, admin.id, None)
                .unwrap_err()
                .code()
        );
        let revoked = service.revoke(acme.id, id, admin.id)?;
        println!(
            "13. revoked the invitation to {}: {}",
            revoked.email,
            revoked.status.as_str()
        );
    }
    let events = service.list_events(acme.id, None, &PageRequest::first(100))?;
    println!(
        "14. audit trail: {:?}",
        events
            .items
            .iter()
            .map(|e| e.kind.as_str())
            .collect::<Vec<_>>()
    );
    Ok(())
}
