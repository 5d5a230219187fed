//! Configuration bounds: every duration and count the service computes instants or loops
//! from is checked when the service is built (`INVALID_CONFIG`), so no value a host can
//! pass makes a later call overflow.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use invite_core::service::{MAX_DELIVERY_ATTEMPTS, MAX_DURATION};
use invite_core::{Clock, Config, ErrorCode, InMemoryStore, InviteService, ManualClock};

/// Sets one field of a configuration to a duration.
type SetDuration = fn(&mut Config, Duration);

fn build(change: impl FnOnce(&mut Config)) -> invite_core::Result<InviteService> {
    let mut config = Config::with_base_url("https://app.example.com/accept");
    change(&mut config);
    InviteService::new(Arc::new(InMemoryStore::new()), config)
}

#[test]
fn out_of_range_durations_and_attempts_are_invalid_config() {
    let too_long = MAX_DURATION + Duration::seconds(1);
    let negative = Duration::seconds(-1);
    let refused: [(&str, SetDuration, Duration); 9] = [
        ("lease zero", |c, d| c.delivery.lease = d, Duration::zero()),
        ("lease too long", |c, d| c.delivery.lease = d, too_long),
        (
            "base backoff negative",
            |c, d| c.delivery.base_backoff = d,
            negative,
        ),
        (
            "base backoff too long",
            |c, d| {
                c.delivery.base_backoff = d;
                c.delivery.max_backoff = d;
            },
            too_long,
        ),
        (
            "max backoff below base",
            |c, d| c.delivery.max_backoff = d,
            negative,
        ),
        (
            "max backoff too long",
            |c, d| c.delivery.max_backoff = d,
            too_long,
        ),
        (
            "idempotency ttl zero",
            |c, d| c.idempotency_ttl = d,
            Duration::zero(),
        ),
        (
            "idempotency ttl too long",
            |c, d| c.idempotency_ttl = d,
            too_long,
        ),
        (
            "cooldown too long",
            |c, d| c.limits.resend_cooldown = d,
            too_long,
        ),
    ];
    for (what, set, value) in refused {
        let err = build(|c| set(c, value)).err().map(|e| e.code());
        assert_eq!(err, Some(ErrorCode::InvalidConfig), "{what}");
    }
    for attempts in [0, MAX_DELIVERY_ATTEMPTS + 1, u32::MAX] {
        let err = build(|c| c.delivery.max_attempts = attempts)
            .err()
            .map(|e| e.code());
        assert_eq!(err, Some(ErrorCode::InvalidConfig), "{attempts} attempts");
    }
    // The bounds themselves are fine.
    build(|c| {
        c.delivery.max_attempts = MAX_DELIVERY_ATTEMPTS;
        c.delivery.base_backoff = Duration::zero();
        c.delivery.max_backoff = MAX_DURATION;
        c.delivery.lease = MAX_DURATION;
        c.idempotency_ttl = MAX_DURATION;
        c.limits.resend_cooldown = MAX_DURATION;
    })
    .unwrap();
}

#[test]
fn a_manual_clock_stops_at_the_ends_of_time() {
    let clock = ManualClock::new(DateTime::<Utc>::UNIX_EPOCH);
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    clock.advance(Duration::MIN);
    clock.advance(Duration::MIN);
    assert_eq!(clock.now(), DateTime::<Utc>::MIN_UTC);
}
