//! The `Clock` port: where "now" comes from, injectable so tests are deterministic.

use std::sync::Mutex;

use chrono::{DateTime, Datelike, Duration, SubsecRound, Utc};

use crate::error::{Error, ErrorCode, Result};

/// A source of the current time.
///
/// The service works with instants in the years 1 to 9999 (UTC), the years every store
/// and both bindings' date types hold: a call made while the clock reads outside them,
/// or one that would write an instant past them (an expiry 7 days after a clock in the
/// last week of 9999), fails with `INVALID_CONFIG` and changes nothing.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// Whether `at` lies in the years the service works with (see [`Clock`]).
pub(crate) fn in_service_years(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// `at` if it lies in the years the service works with (see [`Clock`]), else
/// `INVALID_CONFIG` naming `what`.
pub(crate) fn within_range(at: DateTime<Utc>, what: &str) -> Result<DateTime<Utc>> {
    Some(at)
        .filter(|t| in_service_years(*t))
        .ok_or_else(|| out_of_range(what))
}

/// `at + by`, checked to lie in the years the service works with (see [`Clock`]).
pub(crate) fn later(at: DateTime<Utc>, by: Duration, what: &str) -> Result<DateTime<Utc>> {
    at.checked_add_signed(by)
        .ok_or_else(|| out_of_range(what))
        .and_then(|t| within_range(t, what))
}

fn out_of_range(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidConfig,
        format!("{what} falls outside the years 1 to 9999 the service works with; check the clock"),
    )
}

/// The system clock, at microsecond precision (what SQL timestamp columns keep, so
/// every store round-trips instants exactly).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to (tests, simulations).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Moves the clock forward (or back, with a negative duration), stopping at the
    /// first or last instant `DateTime<Utc>` can hold.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now
            .checked_add_signed(by)
            .unwrap_or(if by < Duration::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
    }

    /// Sets the clock.
    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
