//! One test per task and troubleshooting case of the user guide.

use std::sync::Arc;

use invite_core::{
    AcceptRequest, CapturingMailer, ErrorCode, FieldCode, InvitationStatus, PageRequest,
    SendInvitationRequest, Store,
};

use crate::common::{World, person};

fn field_codes(err: &invite_core::Error) -> Vec<(String, FieldCode)> {
    err.field_errors()
        .iter()
        .map(|e| (e.field.clone(), e.code))
        .collect()
}

/// The field errors sorted by field name, to compare with a list in any order.
fn sorted_field_codes(err: &invite_core::Error) -> Vec<(String, FieldCode)> {
    let mut codes = field_codes(err);
    codes.sort();
    codes
}

pub fn invite_existing_user(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w.service.send(&w.invite_existing(&w.alice)).unwrap();
    assert_eq!(sent.invitation.status, InvitationStatus::Pending);
    assert_eq!(sent.invitation.email, w.alice.email);
    assert!(
        sent.accept_link
            .starts_with("https://app.example.com/invite/accept?token=")
    );
    assert!(sent.accept_link.ends_with(sent.token.expose()));
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    assert_eq!(mailer.sent_to(&w.alice.email).len(), 1);
    let got = w
        .service
        .get_invitation(w.business.id, sent.invitation.id)
        .unwrap();
    assert_eq!(got.delivery.state, invite_core::DeliveryState::Sent);
}

pub fn invite_new_user(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", " Bob@Example.COM "))
        .unwrap();
    assert_eq!(
        sent.invitation.email, "Bob@Example.COM",
        "mail goes to the address as entered"
    );
    assert_eq!(sent.invitation.email_key, "bob@example.com");
    match &sent.invitation.invitee {
        invite_core::Invitee::New {
            first_name,
            last_name,
        } => assert_eq!((first_name.as_str(), last_name.as_str()), ("Bob", "Baker")),
        other => panic!("unexpected invitee {other:?}"),
    }
    assert!(
        w.service
            .find_user_by_email("bob@example.com")
            .unwrap()
            .is_none(),
        "no user before accept"
    );
}

pub fn check_seats_before_inviting(store: Arc<dyn Store>) {
    let w = World::new(store);
    let options = w
        .service
        .subscriptions_for(w.business.id, w.app.id)
        .unwrap();
    let capped = options
        .iter()
        .find(|o| o.subscription.id == w.subscription.id)
        .unwrap();
    assert_eq!(
        (
            capped.seats.total,
            capped.seats.used,
            capped.seats.reserved,
            capped.seats.available
        ),
        (Some(3), 0, 0, Some(3))
    );
    let unlimited = options
        .iter()
        .find(|o| o.subscription.id == w.unlimited.id)
        .unwrap();
    assert!(unlimited.seats.is_unlimited());
    assert_eq!(unlimited.seats.available, None);
    w.service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let usage = w.usage();
    assert_eq!(
        (usage.used, usage.reserved, usage.available),
        (0, 1, Some(2))
    );
}

pub fn app_list_empty_until_business_has_apps(store: Arc<dyn Store>) {
    let w = World::new(store);
    let empty = w.service.create_business("Initech").unwrap();
    w.service
        .set_business_admin(empty.id, w.admin.id, true)
        .unwrap();
    assert!(
        w.service
            .apps_for_inviter(w.admin.id, empty.id)
            .unwrap()
            .is_empty()
    );
    let apps = w
        .service
        .apps_for_inviter(w.admin.id, w.business.id)
        .unwrap();
    assert_eq!(
        apps.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![w.app.id],
        "only enabled apps"
    );
    // A stranger (no admin, no membership) sees no apps and no businesses.
    assert!(
        w.service
            .apps_for_inviter(w.alice.id, w.business.id)
            .unwrap()
            .is_empty()
    );
    assert!(
        w.service
            .businesses_for_inviter(w.alice.id)
            .unwrap()
            .is_empty()
    );
    let businesses = w.service.businesses_for_inviter(w.admin.id).unwrap();
    assert!(
        businesses
            .iter()
            .any(|b| b.business.id == w.business.id && b.is_admin)
    );
}

pub fn subscription_list_empty_without_business_and_app(store: Arc<dyn Store>) {
    let w = World::new(store);
    // The app is not enabled for the other app / business pair: no subscriptions.
    assert!(
        w.service
            .subscriptions_for(w.business.id, w.other_app.id)
            .unwrap()
            .is_empty()
    );
    let subs = w
        .service
        .subscriptions_for(w.business.id, w.app.id)
        .unwrap();
    assert_eq!(subs.len(), 2);
    assert!(
        subs.iter()
            .all(|s| s.subscription.business_id == w.business.id
                && s.subscription.app_id == w.app.id)
    );
}

pub fn missing_fields_are_all_reported(store: Arc<dyn Store>) {
    let w = World::new(store);
    let err = w
        .service
        .send(&SendInvitationRequest::new(w.admin.id))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    let mut fields: Vec<String> = err.field_errors().iter().map(|e| e.field.clone()).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "app_id",
            "business_id",
            "role_id",
            "subscription_id",
            "user"
        ]
    );
    assert!(
        err.field_errors()
            .iter()
            .all(|e| e.code == FieldCode::Required)
    );
    // New-user mode with every detail blank: three more field errors, still all at once.
    let blank = SendInvitationRequest::new(w.admin.id).new_user(" ", "", "");
    let err = w.service.send(&blank).unwrap_err();
    let codes = field_codes(&err);
    for field in [
        "first_name",
        "last_name",
        "email",
        "business_id",
        "app_id",
        "subscription_id",
        "role_id",
    ] {
        assert!(
            codes.contains(&(field.to_owned(), FieldCode::Required)),
            "{field} missing from {codes:?}"
        );
    }
    assert!(
        w.service
            .list_invitations(w.business.id, &Default::default(), &PageRequest::default())
            .unwrap()
            .items
            .is_empty()
    );
}

pub fn each_missing_field_has_its_own_error(store: Arc<dyn Store>) {
    let w = World::new(store);
    let full = w.invite_new("Bob", "Baker", "bob@example.com");
    let cases: Vec<(&str, SendInvitationRequest)> = vec![
        (
            "user",
            SendInvitationRequest {
                new_user: None,
                ..full.clone()
            },
        ),
        ("first_name", w.invite_new("", "Baker", "bob@example.com")),
        ("last_name", w.invite_new("Bob", "", "bob@example.com")),
        ("email", w.invite_new("Bob", "Baker", "")),
        (
            "business_id",
            SendInvitationRequest {
                business_id: None,
                ..full.clone()
            },
        ),
        (
            "app_id",
            SendInvitationRequest {
                app_id: None,
                ..full.clone()
            },
        ),
        (
            "subscription_id",
            SendInvitationRequest {
                subscription_id: None,
                ..full.clone()
            },
        ),
        (
            "role_id",
            SendInvitationRequest {
                role_id: None,
                ..full.clone()
            },
        ),
    ];
    for (field, request) in cases {
        let err = w.service.send(&request).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed, "{field}");
        assert_eq!(
            field_codes(&err),
            vec![(field.to_owned(), FieldCode::Required)],
            "{field}"
        );
    }
    // Both an existing user and new-user details: a conflict, not a guess.
    let both = w
        .invite_existing(&w.alice)
        .new_user("Bob", "Baker", "bob@example.com");
    assert_eq!(
        field_codes(&w.service.send(&both).unwrap_err()),
        vec![("user".to_owned(), FieldCode::Conflicting)]
    );
    // Malformed and unknown ids are unknown options.
    let draft = invite_core::SendInvitationDraft {
        user_id: Some("not-a-uuid".into()),
        business_id: Some(w.business.id.to_string()),
        app_id: Some(w.app.id.to_string()),
        subscription_id: Some(uuid::Uuid::nil().to_string()),
        role_id: Some(w.member.id.to_string()),
        ..Default::default()
    };
    let err = w
        .service
        .send(&SendInvitationRequest::from_draft(w.admin.id, &draft))
        .unwrap_err();
    assert_eq!(
        sorted_field_codes(&err),
        vec![
            ("subscription_id".to_owned(), FieldCode::UnknownOption),
            ("user_id".to_owned(), FieldCode::UnknownOption)
        ]
    );
}

pub fn invalid_email(store: Arc<dyn Store>) {
    let w = World::new(store);
    for (email, code) in [
        ("bob", FieldCode::InvalidEmail),
        ("bob@localhost", FieldCode::InvalidEmail),
        ("Bob <bob@example.com>", FieldCode::InvalidEmail),
        ("bob@exa mple.com", FieldCode::InvalidEmail),
        // An RFC 2047 encoded-word, which mail parsers decode in a `To` header.
        ("=?utf-8?q?bob?=@example.com", FieldCode::InvalidEmail),
        // A C1 control (NEL): refused as a character, before the non-ASCII rule.
        ("bo\u{85}b@example.com", FieldCode::InvalidEmail),
        ("bøb@example.com", FieldCode::NonAsciiEmail),
        // Domains no mail can reach: not host names.
        ("bob@exa_mple.com", FieldCode::InvalidEmail),
        ("bob@192.0.2.1", FieldCode::InvalidEmail),
    ] {
        let err = w
            .service
            .send(&w.invite_new("Bob", "Baker", email))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert_eq!(
            field_codes(&err),
            vec![("email".to_owned(), code)],
            "{email}"
        );
    }
    let long = format!("{}@example.com", "b".repeat(65));
    assert_eq!(
        field_codes(
            &w.service
                .send(&w.invite_new("Bob", "Baker", &long))
                .unwrap_err()
        ),
        vec![("email".to_owned(), FieldCode::TooLong)]
    );
    let err = w
        .service
        .send(&w.invite_new(
            "Bob\r\nBcc: x@evil.example",
            &"B".repeat(101),
            "bob@example.com",
        ))
        .unwrap_err();
    assert_eq!(
        sorted_field_codes(&err),
        vec![
            ("first_name".to_owned(), FieldCode::InvalidCharacters),
            ("last_name".to_owned(), FieldCode::TooLong)
        ]
    );
    // U+FFFD is what a lone surrogate becomes on its way in from Node or Python.
    let err = w
        .service
        .send(&w.invite_new("Bob\u{FFFD}", "Baker", "b\u{FFFD}b@example.com"))
        .unwrap_err();
    assert_eq!(
        sorted_field_codes(&err),
        vec![
            ("email".to_owned(), FieldCode::InvalidEmail),
            ("first_name".to_owned(), FieldCode::InvalidCharacters)
        ]
    );
}

pub fn seat_limit(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..3 {
        w.service
            .send(&w.invite_new("Guest", "User", &format!("g{i}@example.com")))
            .unwrap();
    }
    let err = w
        .service
        .send(&w.invite_new("Late", "User", "late@example.com"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::SeatLimitReached);
    assert_eq!(w.usage().available, Some(0));
    // The unlimited subscription still takes invitations.
    let unlimited = SendInvitationRequest {
        subscription_id: Some(w.unlimited.id),
        ..w.invite_new("Late", "User", "late@example.com")
    };
    w.service.send(&unlimited).unwrap();
}

pub fn invitee_accepts(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "Bob@Example.com"))
        .unwrap();
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    let link = &mailer.sent_to("bob@example.com")[0].accept_link;
    let token = link.split("token=").nth(1).unwrap();
    let accepted = w.service.accept(&AcceptRequest::new(token)).unwrap();
    assert!(accepted.user_created);
    assert_eq!(
        (
            accepted.user.first_name.as_str(),
            accepted.user.last_name.as_str()
        ),
        ("Bob", "Baker")
    );
    assert_eq!(accepted.user.email, "Bob@Example.com");
    assert_eq!(accepted.membership.role_id, w.member.id);
    assert_eq!(accepted.invitation.status, InvitationStatus::Accepted);
    let usage = w.usage();
    assert_eq!((usage.used, usage.reserved), (1, 0));
    assert_eq!(
        w.service
            .get_invitation(w.business.id, sent.invitation.id)
            .unwrap()
            .accepted_user_id,
        Some(accepted.user.id)
    );
    // An existing user accepting keeps their account.
    let s2 = w.service.send(&w.invite_existing(&w.alice)).unwrap();
    let a2 = w
        .service
        .accept(&AcceptRequest::new(s2.token.expose()).as_user(w.alice.id))
        .unwrap();
    assert!(!a2.user_created);
    assert_eq!(a2.user.id, w.alice.id);
    w.assert_counters_match(&w.subscription);
}

pub fn resend_after_not_received(store: Arc<dyn Store>) {
    let w = World::new(store);
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    w.clock.advance(chrono::Duration::hours(2));
    let again = w
        .service
        .resend(w.business.id, sent.invitation.id, w.admin.id, None)
        .unwrap();
    assert_ne!(again.token.expose(), sent.token.expose());
    assert_eq!(again.invitation.send_count, 2);
    assert_eq!(
        again.invitation.expires_at,
        w.clock_now() + chrono::Duration::days(7)
    );
    assert_eq!(w.usage().reserved, 1, "a resend keeps the one reservation");
    let mailer = CapturingMailer::new();
    w.service.dispatch_outbox(&mailer).unwrap();
    let mails = mailer.sent_to("bob@example.com");
    assert_eq!(mails.len(), 1, "the superseded email is not delivered");
    assert_eq!(mails[0].accept_link, again.accept_link);
    assert_eq!(
        w.service
            .accept(&AcceptRequest::new(sent.token.expose()))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidToken
    );
    w.service
        .accept(&AcceptRequest::new(again.token.expose()))
        .unwrap();
}

pub fn user_search_is_prefix_case_insensitive_and_paginated(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..25 {
        w.service
            .create_user(&person(
                &format!("Sam{i:02}"),
                "Smith",
                &format!("sam{i:02}@example.com"),
            ))
            .unwrap();
    }
    w.service
        .create_user(&person("Samantha", "Jones", "sj@example.com"))
        .unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10);
    loop {
        let result = w.service.search_users("SAM", &page).unwrap();
        assert!(result.items.len() <= 10);
        seen.extend(result.items.iter().map(|u| u.id));
        match result.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor, 10),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 26, "every Sam once");
    assert_eq!(unique.len(), 26);
    assert_eq!(
        w.service
            .search_users("smith", &PageRequest::first(50))
            .unwrap()
            .items
            .len(),
        25
    );
    assert_eq!(
        w.service
            .search_users("sam05 smi", &PageRequest::first(50))
            .unwrap()
            .items
            .len(),
        1,
        "full name prefix"
    );
    assert_eq!(
        w.service
            .search_users("alice@EX", &PageRequest::first(50))
            .unwrap()
            .items[0]
            .id,
        w.alice.id
    );
    assert!(
        w.service
            .search_users("zzz", &PageRequest::first(50))
            .unwrap()
            .items
            .is_empty()
    );
    let err = w
        .service
        .search_users("x", &PageRequest::first(0))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
}

/// An address with an IDN domain is found as people type it (Unicode) and as its key
/// (punycode), whichever form was entered, listed once; changing the email drops it.
pub fn user_search_finds_idn_domains_in_either_form(store: Arc<dyn Store>) {
    let w = World::new(store);
    let search = |query: &str| -> Vec<_> {
        w.service
            .search_users(query, &PageRequest::first(50))
            .unwrap()
            .items
            .into_iter()
            .map(|u| u.id)
            .collect()
    };
    let anna = w
        .service
        .create_user(&person("Zoe", "Quill", "Anna@BÜCHER.example"))
        .unwrap();
    let bert = w
        .service
        .create_user(&person("Yan", "Quill", "bert@xn--bcher-kva.example"))
        .unwrap();
    assert_eq!(search("anna@bü"), vec![anna.id], "typed as shown");
    assert_eq!(search("ANNA@XN--BCHER"), vec![anna.id], "typed as its key");
    assert_eq!(
        search("bert@Bücher.ex"),
        vec![bert.id],
        "entered as punycode"
    );
    assert_eq!(search("bert@xn--b"), vec![bert.id]);
    // Both of bert's email keys start with "bert": he is listed once.
    assert_eq!(search("bert"), vec![bert.id]);
    w.service
        .update_user(anna.id, &person("Zoe", "Quill", "anna@example.org"))
        .unwrap();
    assert!(search("anna@bü").is_empty(), "the old domain's key is gone");
    assert_eq!(search("anna@ex"), vec![anna.id]);
}

pub fn inviter_sees_only_grantable_roles(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut all: Vec<_> = w
        .service
        .grantable_roles(w.admin.id, w.business.id, w.app.id)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    all.sort();
    let mut expected = vec![w.member.id, w.manager.id, w.owner.id];
    expected.sort();
    assert_eq!(all, expected, "admins may grant any role of the app");
    let (manager, _) = w.new_member(
        ("Max", "Manager", "max@example.com"),
        &w.unlimited,
        &w.manager,
    );
    let mut roles: Vec<_> = w
        .service
        .grantable_roles(manager.id, w.business.id, w.app.id)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    roles.sort();
    let mut expected = vec![w.member.id, w.manager.id];
    expected.sort();
    assert_eq!(roles, expected, "a manager may not grant owner");
    assert!(
        w.service
            .grantable_roles(w.alice.id, w.business.id, w.app.id)
            .unwrap()
            .is_empty()
    );
}

/// A search cursor carries the folded key it resumes after, and folding can expand a
/// name 18-fold (U+FDFA is 18 characters under NFKC): every page is still reachable.
pub fn user_search_pages_through_names_that_fold_long(store: Arc<dyn Store>) {
    let w = World::new(store);
    let long = "\u{FDFA}".repeat(100);
    for i in 0..3 {
        w.service
            .create_user(&person(&long, "Wide", &format!("wide{i}@example.com")))
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let result = w.service.search_users("\u{FDFA}", &page).unwrap();
        seen.extend(result.items.iter().map(|u| u.id));
        match result.next_cursor {
            Some(cursor) => {
                assert!(
                    cursor.len() > 2048,
                    "a long cursor ({} bytes)",
                    cursor.len()
                );
                page = PageRequest::after(cursor, 1);
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
}
