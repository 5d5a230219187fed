//! The error-code contract shared with Python and Node.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::HashSet;

use invite_core::{ErrorCode, ErrorKind, FieldCode};

#[test]
fn codes_are_unique_screaming_snake_case_and_round_trip() {
    let mut seen = HashSet::new();
    for code in ErrorCode::ALL {
        let text = code.as_str();
        assert!(seen.insert(text), "duplicate code {text}");
        assert!(
            text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{text}"
        );
        assert!(
            !text.starts_with('_') && !text.ends_with('_') && !text.contains("__"),
            "{text}"
        );
        assert_eq!(ErrorCode::parse(text), Some(*code));
        assert_eq!(serde_json::to_string(code).unwrap(), format!("\"{text}\""));
        assert!(ErrorKind::ALL.contains(&code.kind()));
    }
    assert_eq!(ErrorCode::parse("NOPE"), None);
}

#[test]
fn design_md_codes_are_all_present() {
    for required in [
        "VALIDATION_FAILED",
        "NOT_FOUND",
        "PERMISSION_DENIED",
        "ROLE_NOT_ASSIGNABLE",
        "SEAT_LIMIT_REACHED",
        "SUBSCRIPTION_INACTIVE",
        "ALREADY_MEMBER",
        "ALREADY_INVITED",
        "INVITATION_EXPIRED",
        "INVITATION_NOT_PENDING",
        "INVALID_TOKEN",
        "EMAIL_MISMATCH",
        "RATE_LIMITED",
        "IDEMPOTENCY_CONFLICT",
        "STORAGE_CONFLICT",
        "STORAGE_UNAVAILABLE",
        "INTERNAL",
    ] {
        assert!(ErrorCode::parse(required).is_some(), "{required} missing");
    }
    for field in [
        "REQUIRED",
        "INVALID_EMAIL",
        "TOO_LONG",
        "INVALID_CHARACTERS",
        "UNKNOWN_OPTION",
    ] {
        assert!(
            FieldCode::ALL.iter().any(|c| c.as_str() == field),
            "{field} missing"
        );
    }
}

#[test]
fn kinds_group_codes_as_documented() {
    assert_eq!(ErrorCode::SeatLimitReached.kind(), ErrorKind::LimitExceeded);
    assert_eq!(ErrorCode::RateLimited.kind(), ErrorKind::LimitExceeded);
    assert_eq!(ErrorCode::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(ErrorCode::ValidationFailed.kind(), ErrorKind::InvalidInput);
    assert_eq!(ErrorCode::StorageConflict.kind(), ErrorKind::Storage);
    let kinds: HashSet<_> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds.len(), ErrorKind::ALL.len());
}
