//! Bulk send: per-row results, exact seats across the batch, large batches.

use std::sync::Arc;

use invite_core::{BulkInvitee, BulkSendRequest, CapturingMailer, ErrorCode, FieldCode, Store};

use crate::common::World;

pub fn bulk_rows_succeed_and_fail_independently(store: Arc<dyn Store>) {
    let w = World::with_config(store, crate::common::config(), Some(4));
    let rows = vec![
        BulkInvitee::new_user("A", "A", "a@example.com"),
        BulkInvitee::existing(w.alice.id),
        BulkInvitee::new_user("", "B", "not-an-email"),
        BulkInvitee::new_user("A", "A", "A@EXAMPLE.com"),
        BulkInvitee::new_user("C", "C", "c@example.com"),
        BulkInvitee::new_user("D", "D", "d@example.com"),
        BulkInvitee::new_user("E", "E", "e@example.com"),
    ];
    let result = w
        .service
        .bulk_send(&w.bulk_request(w.subscription.id, rows))
        .unwrap();
    let codes: Vec<Option<ErrorCode>> = result
        .rows
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code))
        .collect();
    assert_eq!(
        codes,
        vec![
            None,
            None,
            Some(ErrorCode::ValidationFailed),
            Some(ErrorCode::AlreadyInvited),
            None,
            None,
            Some(ErrorCode::SeatLimitReached)
        ]
    );
    let bad = result.rows[2].as_ref().unwrap_err();
    let mut fields: Vec<_> = bad
        .field_errors
        .iter()
        .map(|f| (f.field.as_str(), f.code))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("rows[2].email", FieldCode::InvalidEmail),
            ("rows[2].first_name", FieldCode::Required)
        ]
    );
    assert_eq!((result.sent(), result.failed()), (4, 3));
    assert_eq!(w.usage().reserved, 4, "never oversold");
    w.assert_counters_match(&w.subscription);
    let mailer = CapturingMailer::new();
    assert_eq!(w.service.dispatch_outbox(&mailer).unwrap().delivered, 4);
    // Shared-field problems fail the whole call.
    let mut broken = w.bulk_request(
        w.subscription.id,
        vec![BulkInvitee::new_user("Z", "Z", "z@example.com")],
    );
    broken.role_id = None;
    assert_eq!(
        w.service.bulk_send(&broken).unwrap_err().code(),
        ErrorCode::ValidationFailed
    );
    let stranger = BulkSendRequest {
        inviter_id: w.alice.id,
        ..w.bulk_request(
            w.unlimited.id,
            vec![BulkInvitee::new_user("Z", "Z", "z@example.com")],
        )
    };
    // An outsider cannot even tell that the business exists (T7)...
    let err = w.service.bulk_send(&stranger).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    assert_eq!(err.field_errors()[0].field, "business_id");
    assert_eq!(err.field_errors()[0].code, FieldCode::UnknownOption);
    // ...while a member without the right to invite is refused.
    w.service
        .add_membership(w.business.id, w.unlimited.id, w.alice.id, w.member.id)
        .unwrap();
    assert_eq!(
        w.service.bulk_send(&stranger).unwrap_err().code(),
        ErrorCode::PermissionDenied
    );
}

pub fn bulk_of_ten_thousand(store: Arc<dyn Store>) {
    let w = World::new(store);
    let rows: Vec<_> = (0..10_000)
        .map(|i| BulkInvitee::new_user("Bulk", "User", &format!("bulk{i}@example.com")))
        .collect();
    let result = w
        .service
        .bulk_send(&w.bulk_request(w.unlimited.id, rows))
        .unwrap();
    assert_eq!(result.sent(), 10_000);
    let usage = w.service.seat_usage(w.business.id, w.unlimited.id).unwrap();
    assert_eq!(usage.reserved, 10_000);
    w.assert_counters_match(&w.unlimited);
    // One row more than a call takes: refused whole, nothing sent (a call is one
    // transaction holding the store's write lock).
    let rows: Vec<_> = (0..=invite_core::service::MAX_BULK_ROWS)
        .map(|i| BulkInvitee::new_user("More", "User", &format!("more{i}@example.com")))
        .collect();
    let err = w
        .service
        .bulk_send(&w.bulk_request(w.unlimited.id, rows))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    let fields: Vec<_> = err
        .field_errors()
        .iter()
        .map(|f| (f.field.as_str(), f.code))
        .collect();
    assert_eq!(fields, [("rows", FieldCode::OutOfRange)]);
    let usage = w.service.seat_usage(w.business.id, w.unlimited.id).unwrap();
    assert_eq!(usage.reserved, 10_000);
}

pub fn bulk_drafts_report_malformed_ids(store: Arc<dyn Store>) {
    use invite_core::{BulkRowDraft, BulkSendDraft};
    let w = World::new(store);
    let draft = BulkSendDraft {
        business_id: Some(w.business.id.to_string()),
        app_id: Some(w.app.id.to_string()),
        subscription_id: Some(w.unlimited.id.to_string()),
        role_id: Some(w.member.id.to_string()),
        rows: vec![
            BulkRowDraft {
                user_id: Some("nope".into()),
                new_user: None,
            },
            BulkRowDraft {
                user_id: Some(w.alice.id.to_string()),
                new_user: None,
            },
        ],
        ..Default::default()
    };
    let result = w
        .service
        .bulk_send(&BulkSendRequest::from_draft(w.admin.id, &draft))
        .unwrap();
    let bad = result.rows[0].as_ref().unwrap_err();
    assert_eq!(bad.code, ErrorCode::ValidationFailed);
    assert_eq!(
        bad.field_errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect::<Vec<_>>(),
        vec![("rows[0].user_id", FieldCode::UnknownOption)]
    );
    assert!(result.rows[1].is_ok());
    let broken = BulkSendDraft {
        app_id: Some("x".into()),
        role_id: None,
        ..draft
    };
    let err = w
        .service
        .bulk_send(&BulkSendRequest::from_draft(w.admin.id, &broken))
        .unwrap_err();
    let mut fields: Vec<_> = err
        .field_errors()
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("app_id", FieldCode::UnknownOption),
            ("role_id", FieldCode::Required)
        ]
    );
}
