//! Configuration (base URL, expiry, limits, delivery), the injectable clock, and
//! stores opened by URL. Defaults come from the core, never from this file.

use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use invite_core::input::EmailPolicy;
use invite_core::service::{Config, DeliveryConfig, Limits};
use invite_core::{Clock, ManualClock, Store};
use pyo3::prelude::*;

use crate::convert::{Count, Text, UtcTime, config_count, record};
use crate::error::IntoPyResult;

/// Abuse limits. Each one answers `RateLimitedError` with a `retry_after`.
///
/// Args:
///     invites_per_inviter_per_day: Invitation emails one inviter may cause per UTC day,
///         new invitations and resends together (`None`: unlimited).
///     resend_cooldown: Minimum time between two sends of one invitation.
///     pending_per_business: Pending invitations one business may have at once
///         (`None`: unlimited).
#[pyclass(name = "Limits", module = "invite_core._native", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyLimits {
    pub(crate) inner: Limits,
}

#[pymethods]
impl PyLimits {
    #[new]
    #[pyo3(signature = (
        *,
        invites_per_inviter_per_day = Limits::default().invites_per_inviter_per_day.map(Count::from),
        resend_cooldown = Limits::default().resend_cooldown,
        pending_per_business = Limits::default().pending_per_business.map(Count::from),
    ))]
    fn new(
        py: Python<'_>,
        invites_per_inviter_per_day: Option<Count>,
        resend_cooldown: TimeDelta,
        pending_per_business: Option<Count>,
    ) -> PyResult<Self> {
        Ok(PyLimits {
            inner: Limits {
                invites_per_inviter_per_day: config_count(
                    py,
                    invites_per_inviter_per_day,
                    "invites_per_inviter_per_day",
                )?,
                resend_cooldown,
                pending_per_business: config_count(
                    py,
                    pending_per_business,
                    "pending_per_business",
                )?,
            },
        })
    }

    /// No limits at all (bulk imports the host already vets, tests).
    #[staticmethod]
    fn unlimited() -> Self {
        PyLimits {
            inner: Limits::unlimited(),
        }
    }
}

record!(PyLimits, repr = [invites_per_inviter_per_day, resend_cooldown, pending_per_business], {
    /// Invitation emails one inviter may cause per UTC day, new invitations and resends
    /// together (`None`: unlimited).
    invites_per_inviter_per_day -> Option<u32> = |l| l.invites_per_inviter_per_day;
    /// Minimum time between two sends of one invitation.
    resend_cooldown -> TimeDelta = |l| l.resend_cooldown;
    /// Pending invitations one business may have at once (`None`: unlimited).
    pending_per_business -> Option<u32> = |l| l.pending_per_business;
});

/// Outbox delivery settings.
///
/// Args:
///     max_attempts: Attempts before an email is marked failed.
///     base_backoff: Wait after the first failure; doubles after each further one.
///     max_backoff: Longest wait between attempts.
///     lease: How long a dispatcher owns a message it picked up. Outcomes are recorded
///         once per claim of up to 100 emails: keep it above 100 times the mailer's
///         slowest delivery, or another dispatcher may send the batch again.
#[pyclass(name = "DeliveryConfig", module = "invite_core._native", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyDeliveryConfig {
    pub(crate) inner: DeliveryConfig,
}

#[pymethods]
impl PyDeliveryConfig {
    #[new]
    #[pyo3(signature = (
        *,
        max_attempts = Count::from(DeliveryConfig::default().max_attempts),
        base_backoff = DeliveryConfig::default().base_backoff,
        max_backoff = DeliveryConfig::default().max_backoff,
        lease = DeliveryConfig::default().lease,
    ))]
    fn new(
        py: Python<'_>,
        max_attempts: Count,
        base_backoff: TimeDelta,
        max_backoff: TimeDelta,
        lease: TimeDelta,
    ) -> PyResult<Self> {
        Ok(PyDeliveryConfig {
            inner: DeliveryConfig {
                max_attempts: config_count(py, Some(max_attempts), "max_attempts")?
                    .unwrap_or_default(),
                base_backoff,
                max_backoff,
                lease,
            },
        })
    }
}

record!(PyDeliveryConfig, repr = [max_attempts, base_backoff, max_backoff, lease], {
    /// Attempts before an email is marked failed.
    max_attempts -> u32 = |d| d.max_attempts;
    /// Wait after the first failure.
    base_backoff -> TimeDelta = |d| d.base_backoff;
    /// Longest wait between attempts.
    max_backoff -> TimeDelta = |d| d.max_backoff;
    /// Dispatcher lease on a picked-up message.
    lease -> TimeDelta = |d| d.lease;
});

/// Service configuration, validated when the service is built (`InvalidConfigError`).
///
/// Args:
///     base_url: Base of every accept link; the token is added as the `token` query
///         parameter. Absolute `http(s)` without credentials.
///     default_expiry: Invitation lifetime when a send gives none (1 hour to 30 days).
///     limits: Abuse limits.
///     delivery: Outbox delivery settings.
///     idempotency_ttl: How long an idempotency key remembers its first result.
///     allow_non_ascii_email: Accept non-ASCII local parts in email addresses.
#[pyclass(name = "Config", module = "invite_core._native", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyConfig {
    pub(crate) inner: Config,
}

#[pymethods]
impl PyConfig {
    #[new]
    #[pyo3(signature = (
        base_url = Config::default().accept_base_url.as_str().into(),
        *,
        default_expiry = Config::default().default_expiry,
        limits = None,
        delivery = None,
        idempotency_ttl = Config::default().idempotency_ttl,
        allow_non_ascii_email = false,
    ))]
    fn new(
        base_url: Text,
        default_expiry: TimeDelta,
        limits: Option<Bound<'_, PyLimits>>,
        delivery: Option<Bound<'_, PyDeliveryConfig>>,
        idempotency_ttl: TimeDelta,
        allow_non_ascii_email: bool,
    ) -> Self {
        PyConfig {
            inner: Config {
                accept_base_url: base_url.into(),
                default_expiry,
                email_policy: EmailPolicy {
                    allow_non_ascii_local_part: allow_non_ascii_email,
                },
                limits: limits.map(|l| l.get().inner.clone()).unwrap_or_default(),
                delivery: delivery.map(|d| d.get().inner.clone()).unwrap_or_default(),
                idempotency_ttl,
            },
        }
    }
}

record!(PyConfig, repr = [base_url, default_expiry], {
    /// Base of every accept link.
    base_url -> String = |c| c.accept_base_url.clone();
    /// Invitation lifetime when a send gives none.
    default_expiry -> TimeDelta = |c| c.default_expiry;
    /// Abuse limits.
    limits -> PyLimits = |c| PyLimits { inner: c.limits.clone() };
    /// Outbox delivery settings.
    delivery -> PyDeliveryConfig = |c| PyDeliveryConfig { inner: c.delivery.clone() };
    /// How long an idempotency key remembers its first result.
    idempotency_ttl -> TimeDelta = |c| c.idempotency_ttl;
    /// Whether non-ASCII local parts are accepted.
    allow_non_ascii_email -> bool = |c| c.email_policy.allow_non_ascii_local_part;
});

/// A clock that only moves when told to: inject it to test expiry deterministically.
///
/// A call that would write an instant past the year 9999 (a send's expiry, with the
/// clock in the last days of that year) raises `InvalidConfigError` and writes nothing.
///
/// Args:
///     start: Where the clock stands (timezone-aware; default: now).
#[pyclass(name = "ManualClock", module = "invite_core._native", frozen)]
pub struct PyManualClock {
    pub(crate) inner: Arc<ManualClock>,
}

#[pymethods]
impl PyManualClock {
    #[new]
    #[pyo3(signature = (start = None))]
    fn new(start: Option<UtcTime>) -> Self {
        let start = start.map_or_else(Utc::now, |s| s.0);
        PyManualClock {
            inner: Arc::new(ManualClock::new(start)),
        }
    }

    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// Moves the clock forward (or back, with a negative `timedelta`).
    ///
    /// Args:
    ///     by: How far to move.
    ///
    /// Raises:
    ///     ValueError: The clock would leave the years `datetime` can hold (1 to 9999).
    fn advance(&self, by: TimeDelta) -> PyResult<()> {
        let next = self.inner.now().checked_add_signed(by);
        if !next.is_some_and(|t| (1..=9999).contains(&t.year())) {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "the clock would leave the years datetime can hold (1 to 9999)",
            ));
        }
        self.inner.advance(by);
        Ok(())
    }

    /// Sets the clock.
    ///
    /// Args:
    ///     to: The new instant (timezone-aware).
    fn set(&self, to: UtcTime) {
        self.inner.set(to.0);
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let now = self.inner.now().into_pyobject(py)?.repr()?;
        Ok(format!("ManualClock({now})"))
    }
}

/// A store opened by URL: `"memory:"`, and with the matching cargo features
/// `"sqlite:PATH"`, `"sqlite::memory:"` or `"postgres://…"`. Several services may
/// share one store.
///
/// Args:
///     url: The store URL.
#[pyclass(name = "Store", module = "invite_core._native", frozen)]
pub struct PyStore {
    pub(crate) inner: Arc<dyn Store>,
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (url = "memory:".into()))]
    fn new(py: Python<'_>, url: Text) -> PyResult<Self> {
        let inner = py.detach(|| invite_core::store::open(&url)).into_py(py)?;
        Ok(PyStore { inner })
    }

    /// `"memory"`, `"sqlite"`, `"postgres"`, …
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn __repr__(&self) -> String {
        format!("Store(kind='{}')", self.inner.kind())
    }
}
