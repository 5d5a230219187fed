//! The form model walked through every task and troubleshooting case of the guide.

use std::sync::Arc;

use invite_core::form::{HintCode, InviteForm, SubmitOutcome, UserMode};
use invite_core::{ErrorCode, FieldCode, PageRequest, Store, SubscriptionStatus};

use crate::common::World;

fn hints(view: &invite_core::FormView) -> Vec<HintCode> {
    view.hints.iter().map(|h| h.code).collect()
}

fn s<T: ToString>(id: T) -> String {
    id.to_string()
}

/// A form filled for a new user into the capped subscription.
fn filled(w: &World, email: &str) -> InviteForm {
    let mut form = InviteForm::new();
    form.set_mode(UserMode::New);
    form.set_first_name("Bob");
    form.set_last_name("Baker");
    form.set_email(email);
    form.select_business(Some(&s(w.business.id)));
    form.select_app(Some(&s(w.app.id)));
    form.select_subscription(Some(&s(w.subscription.id)));
    form.select_role(Some(&s(w.member.id)));
    form
}

pub fn walk_through_a_new_user_invitation(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = InviteForm::new();
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(view.apps.is_empty() && view.subscriptions.is_empty() && view.roles.is_empty());
    assert!(hints(&view).contains(&HintCode::SelectBusinessFirst));
    assert!(hints(&view).contains(&HintCode::SelectBusinessAndApp));
    assert!(!view.can_send);
    assert!(
        view.users.iter().any(|u| u.id == w.alice.id),
        "the user list shows the directory"
    );

    form.select_business(Some(&s(w.business.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(
        view.apps.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![w.app.id]
    );
    assert!(
        view.subscriptions.is_empty(),
        "empty until an app is chosen too"
    );
    assert!(hints(&view).contains(&HintCode::SelectBusinessAndApp));

    form.select_app(Some(&s(w.app.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(view.subscriptions.len(), 2);
    assert_eq!(view.roles.len(), 3);
    assert!(view.seats.is_none());

    form.select_subscription(Some(&s(w.subscription.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    let seats = view.seats.unwrap();
    assert_eq!(
        (seats.total, seats.used, seats.reserved, seats.available),
        (Some(3), 0, 0, Some(3))
    );

    form.select_role(Some(&s(w.member.id)));
    form.set_mode(UserMode::New);
    form.set_first_name("Bob");
    form.set_last_name("Baker");
    form.set_email("bob@example.com");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(
        view.field_errors.is_empty() && view.missing.is_empty(),
        "{view:?}"
    );
    assert!(view.can_send);
    // The host keeps the form between requests.
    let json = serde_json::to_string(&form).unwrap();
    let form: InviteForm = serde_json::from_str(&json).unwrap();
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Sent(sent) => assert_eq!(sent.invitation.email, "bob@example.com"),
        SubmitOutcome::Rejected(e) => panic!("rejected: {e:?}"),
    }
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(
        view.seats.unwrap().reserved,
        1,
        "seat information reflects the reservation"
    );
}

pub fn walk_through_an_existing_user_invitation(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = filled(&w, "x@example.com");
    form.set_mode(UserMode::Existing);
    assert_eq!(
        (form.first_name(), form.last_name(), form.email()),
        ("", "", ""),
        "switching drops new-user fields"
    );
    form.set_user_query("ALI");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(
        view.users.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![w.alice.id]
    );
    assert!(view.missing.contains(&"user_id".to_owned()));
    form.select_user(Some(&s(w.alice.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(view.selected_user.as_ref().map(|u| u.id), Some(w.alice.id));
    assert!(view.can_send);
    assert!(matches!(
        form.submit(&w.service, w.admin.id).unwrap(),
        SubmitOutcome::Sent(_)
    ));
    form.set_user_query("nobody-matches");
    assert!(
        hints(&form.view(&w.service, w.admin.id).unwrap()).contains(&HintCode::NoMatchingUsers)
    );
}

pub fn upstream_changes_clear_downstream_and_clear_resets(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = filled(&w, "bob@example.com");
    form.select_subscription(Some(&s(w.unlimited.id)));
    assert_eq!(form.role_id(), None, "a new subscription clears the role");
    form.select_role(Some(&s(w.member.id)));
    form.select_app(Some(&s(w.other_app.id)));
    assert_eq!((form.subscription_id(), form.role_id()), (None, None));
    form.select_app(Some(&s(w.app.id)));
    form.select_subscription(Some(&s(w.subscription.id)));
    form.select_business(Some(&s(w.business.id)));
    assert!(
        form.subscription_id().is_some(),
        "choosing the same business again keeps the rest"
    );
    form.select_business(Some(&s(w.other_business.id)));
    assert_eq!(
        (form.app_id(), form.subscription_id(), form.role_id()),
        (None, None, None)
    );
    assert_eq!(
        form.email(),
        "bob@example.com",
        "the invitee is not downstream of the business"
    );
    form.set_field("mode", Some("existing")).unwrap();
    assert_eq!(form.email(), "");
    assert_eq!(
        form.set_field("mode", Some("bogus")).unwrap_err().code(),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        form.set_field("nope", Some("x")).unwrap_err().code(),
        ErrorCode::ValidationFailed
    );
    form.set_field("business_id", Some(&s(w.business.id)))
        .unwrap();
    form.clear();
    assert_eq!(form, InviteForm::new());
}

pub fn troubleshooting_missing_fields_and_bad_email(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = InviteForm::new();
    form.set_mode(UserMode::New);
    form.set_email("not-an-email");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(
        view.field_errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect::<Vec<_>>(),
        vec![("email", FieldCode::InvalidEmail)]
    );
    let mut missing = view.missing.clone();
    missing.sort();
    assert_eq!(
        missing,
        [
            "app_id",
            "business_id",
            "first_name",
            "last_name",
            "role_id",
            "subscription_id"
        ]
    );
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => {
            assert_eq!(e.code, ErrorCode::ValidationFailed);
            let mut fields: Vec<_> = e.field_errors.iter().map(|f| f.field.as_str()).collect();
            fields.sort();
            assert_eq!(
                fields,
                [
                    "app_id",
                    "business_id",
                    "email",
                    "first_name",
                    "last_name",
                    "role_id",
                    "subscription_id"
                ]
            );
        }
        SubmitOutcome::Sent(_) => panic!("sent an incomplete form"),
    }
    // An id that is not one of the options (another tenant's subscription).
    let mut form = filled(&w, "bob@example.com");
    form.select_subscription(Some(&s(w.other_subscription.id)));
    form.select_role(Some(&s(w.member.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(view.field_errors[0].field, "subscription_id");
    assert_eq!(view.field_errors[0].code, FieldCode::UnknownOption);
    assert!(!view.can_send);
}

pub fn troubleshooting_seats_subscription_and_duplicates(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..3 {
        assert!(matches!(
            filled(&w, &format!("f{i}@example.com"))
                .submit(&w.service, w.admin.id)
                .unwrap(),
            SubmitOutcome::Sent(_)
        ));
    }
    let form = filled(&w, "late@example.com");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(hints(&view).contains(&HintCode::NoSeatsLeft));
    assert!(!view.can_send);
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => {
            assert_eq!(e.code, ErrorCode::SeatLimitReached);
            assert_eq!(e.field.as_deref(), Some("subscription_id"));
        }
        SubmitOutcome::Sent(_) => panic!("oversold"),
    }
    let mut dup = filled(&w, "F0@example.com");
    dup.select_subscription(Some(&s(w.unlimited.id)));
    dup.select_role(Some(&s(w.member.id)));
    assert!(matches!(
        dup.submit(&w.service, w.admin.id).unwrap(),
        SubmitOutcome::Sent(_)
    ));
    match dup.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => {
            assert_eq!(e.code, ErrorCode::AlreadyInvited);
            // Named as the form's fields: a new person's duplicate is found by email.
            assert_eq!(e.field.as_deref(), Some("email"));
            assert!(invite_core::form::FIELDS.contains(&"email"));
        }
        SubmitOutcome::Sent(_) => panic!("duplicate pending invitation"),
    }
    let mut suspended = w.unlimited.clone();
    suspended.status = SubscriptionStatus::Suspended;
    w.service.update_subscription(&suspended).unwrap();
    let mut form = filled(&w, "s@example.com");
    form.select_subscription(Some(&s(w.unlimited.id)));
    form.select_role(Some(&s(w.member.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(hints(&view).contains(&HintCode::SubscriptionInactive));
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => assert_eq!(e.code, ErrorCode::SubscriptionInactive),
        SubmitOutcome::Sent(_) => panic!("sent on a suspended subscription"),
    }
    // A business without apps, and an inviter with no business at all.
    let empty = w.service.create_business("Initech").unwrap();
    w.service
        .set_business_admin(empty.id, w.admin.id, true)
        .unwrap();
    let mut form = InviteForm::new();
    form.select_business(Some(&s(empty.id)));
    assert!(hints(&form.view(&w.service, w.admin.id).unwrap()).contains(&HintCode::NoAppsEnabled));
    assert!(
        hints(&InviteForm::new().view(&w.service, w.alice.id).unwrap())
            .contains(&HintCode::NoBusinesses)
    );
}

pub fn long_searches_are_field_errors_and_lists_say_when_truncated(store: Arc<dyn Store>) {
    let w = World::new(store);
    for i in 0..25 {
        w.service
            .create_user(&crate::common::person(
                "Zed",
                &format!("Z{i}"),
                &format!("zed{i}@example.com"),
            ))
            .unwrap();
    }
    let mut form = InviteForm::new();
    form.set_user_query("zed");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(view.users.len(), invite_core::form::USER_OPTIONS as usize);
    assert!(view.users_truncated);
    form.set_user_query("zed2");
    assert!(!form.view(&w.service, w.admin.id).unwrap().users_truncated);
    form.set_user_query(&"z".repeat(300));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(
        view.field_errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect::<Vec<_>>(),
        vec![("user_query", FieldCode::TooLong)]
    );
}

pub fn a_resubmitted_form_under_its_key_replays_the_first_send(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = filled(&w, "twice@example.com");
    form.select_subscription(Some(&s(w.unlimited.id)));
    form.select_role(Some(&s(w.member.id)));
    let first = match form
        .submit_with_key(&w.service, w.admin.id, "render-1")
        .unwrap()
    {
        SubmitOutcome::Sent(sent) => sent,
        SubmitOutcome::Rejected(e) => panic!("refused: {e:?}"),
    };
    assert!(!first.replayed);
    // A double-clicked Send: the same form, the same key, the first result.
    match form
        .submit_with_key(&w.service, w.admin.id, "render-1")
        .unwrap()
    {
        SubmitOutcome::Sent(again) => {
            assert!(again.replayed);
            assert_eq!(again.invitation.id, first.invitation.id);
            assert_eq!(again.accept_link, first.accept_link);
        }
        SubmitOutcome::Rejected(e) => panic!("a resubmission was refused: {e:?}"),
    }
    // Without the key (or under a new one) it is a second invitation: refused.
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => assert_eq!(e.code, ErrorCode::AlreadyInvited),
        SubmitOutcome::Sent(_) => panic!("duplicate pending invitation"),
    }
    // A refused send stores nothing under its key: the corrected form may reuse it.
    let mut wrong = filled(&w, "not an email");
    wrong.select_subscription(Some(&s(w.unlimited.id)));
    wrong.select_role(Some(&s(w.member.id)));
    assert!(matches!(
        wrong
            .submit_with_key(&w.service, w.admin.id, "render-2")
            .unwrap(),
        SubmitOutcome::Rejected(_)
    ));
    wrong.set_email("fixed@example.com");
    assert!(matches!(
        wrong.submit_with_key(&w.service, w.admin.id, "render-2").unwrap(),
        SubmitOutcome::Sent(sent) if !sent.replayed
    ));
}

pub fn an_overdue_invitation_holds_no_seat_on_the_form(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(1));
    assert!(matches!(
        filled(&w, "first@example.com")
            .submit(&w.service, w.admin.id)
            .unwrap(),
        SubmitOutcome::Sent(_)
    ));
    let form = filled(&w, "second@example.com");
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(hints(&view).contains(&HintCode::NoSeatsLeft));
    // Past its expiry, before any sweep: the form shows the seat free and sendable.
    w.clock.advance(chrono::Duration::days(8));
    let view = form.view(&w.service, w.admin.id).unwrap();
    let seats = view.seats.unwrap();
    assert_eq!((seats.reserved, seats.available), (0, Some(1)));
    assert!(!hints(&view).contains(&HintCode::NoSeatsLeft));
    assert!(view.can_send);
    assert!(matches!(
        form.submit(&w.service, w.admin.id).unwrap(),
        SubmitOutcome::Sent(_)
    ));
}

/// Past a thousand overdue invitations (the form once looked at no more): every
/// reservation they hold is still left out of the form's counts.
pub fn many_overdue_invitations_hold_no_seat_on_the_form(store: Arc<dyn Store>) {
    const N: u32 = 1_001;
    let w = World::with_config(store, crate::common::config(), Some(N));
    let rows = (0..N)
        .map(|i| {
            invite_core::BulkInvitee::new_user("Many", "Invitees", &format!("m{i}@example.com"))
        })
        .collect();
    let request = w.bulk_request(w.subscription.id, rows);
    let sent = w.service.bulk_send(&request).unwrap();
    assert!(sent.rows.iter().all(Result::is_ok), "every row sent");
    let form = filled(&w, "one-more@example.com");
    assert!(hints(&form.view(&w.service, w.admin.id).unwrap()).contains(&HintCode::NoSeatsLeft));
    w.clock.advance(chrono::Duration::days(8));
    let view = form.view(&w.service, w.admin.id).unwrap();
    let seats = view.seats.unwrap();
    assert_eq!((seats.reserved, seats.available), (0, Some(N)));
    assert!(view.can_send);
}

/// What `view()` calls missing, `submit()` reports on the same field: every field a
/// refusal names is one of the form's (`FIELDS`), the invitee's included.
pub fn submit_names_problems_as_the_form_fields(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = InviteForm::new();
    form.select_business(Some(&s(w.business.id)));
    form.select_app(Some(&s(w.app.id)));
    form.select_subscription(Some(&s(w.subscription.id)));
    form.select_role(Some(&s(w.member.id)));
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert_eq!(view.missing, ["user_id"]);
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => {
            let fields: Vec<_> = e.field_errors.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, ["user_id"]);
            assert_eq!(e.field_errors[0].code, FieldCode::Required);
        }
        SubmitOutcome::Sent(_) => panic!("sent without an invitee"),
    }
    form.select_user(Some(&s(w.alice.id)));
    assert!(matches!(
        form.submit(&w.service, w.admin.id).unwrap(),
        SubmitOutcome::Sent(_)
    ));
    match form.submit(&w.service, w.admin.id).unwrap() {
        SubmitOutcome::Rejected(e) => {
            assert_eq!(e.code, ErrorCode::AlreadyInvited);
            assert_eq!(e.field.as_deref(), Some("user_id"));
        }
        SubmitOutcome::Sent(_) => panic!("duplicate pending invitation"),
    }
}

/// An over-long search is the search's error only: a form whose user is chosen can
/// still send (submit ignores the search), and no "no user matches" hint shows for a
/// search that did not run. In new-user mode the search box is ignored, so the form
/// survives its round trip.
pub fn a_long_search_does_not_stop_a_complete_form(store: Arc<dyn Store>) {
    let w = World::new(store);
    let mut form = InviteForm::new();
    form.select_user(Some(&s(w.alice.id)));
    form.select_business(Some(&s(w.business.id)));
    form.select_app(Some(&s(w.app.id)));
    form.select_subscription(Some(&s(w.subscription.id)));
    form.select_role(Some(&s(w.member.id)));
    form.set_user_query(&"x".repeat(300));
    let view = form.view(&w.service, w.admin.id).unwrap();
    let errors: Vec<_> = view
        .field_errors
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    assert_eq!(errors, [("user_query", FieldCode::TooLong)]);
    assert!(!hints(&view).contains(&HintCode::NoMatchingUsers));
    assert!(view.can_send);
    assert!(matches!(
        form.submit(&w.service, w.admin.id).unwrap(),
        SubmitOutcome::Sent(_)
    ));

    // The limit is on what is searched: surrounding blanks do not count, in the form
    // and in the service alike.
    let padded = format!("{}ali", " ".repeat(300));
    form.set_user_query(&padded);
    let view = form.view(&w.service, w.admin.id).unwrap();
    assert!(view.field_errors.is_empty(), "{:?}", view.field_errors);
    assert!(view.users.iter().any(|u| u.id == w.alice.id));
    let found = w
        .service
        .search_users(&padded, &PageRequest::first(10))
        .unwrap();
    assert!(found.items.iter().any(|u| u.id == w.alice.id));
    let err = w
        .service
        .search_users(&"x".repeat(255), &PageRequest::first(10))
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, FieldCode::TooLong);

    let mut typed = filled(&w, "new@example.com");
    typed.set_user_query("ali");
    assert_eq!(typed.user_query(), "");
    let json = serde_json::to_string(&typed).unwrap();
    assert_eq!(serde_json::from_str::<InviteForm>(&json).unwrap(), typed);
}
