use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::input::EmailPolicy;

/// Shortest allowed invitation lifetime.
pub const MIN_EXPIRY: Duration = Duration::hours(1);
/// Longest allowed invitation lifetime.
pub const MAX_EXPIRY: Duration = Duration::days(30);
/// Default invitation lifetime.
pub const DEFAULT_EXPIRY: Duration = Duration::days(7);

/// Abuse limits. Every one answers `RATE_LIMITED` with a retry-after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Invitation emails one inviter may cause per UTC day, new invitations and resends
    /// together (`None`: unlimited).
    pub invites_per_inviter_per_day: Option<u32>,
    /// Minimum time between two sends of one invitation.
    pub resend_cooldown: Duration,
    /// Pending invitations one business may have at once (`None`: unlimited).
    pub pending_per_business: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            invites_per_inviter_per_day: Some(5_000),
            resend_cooldown: Duration::seconds(60),
            pending_per_business: Some(50_000),
        }
    }
}

impl Limits {
    /// No limits at all (benchmarks, bulk imports the host already vets).
    pub fn unlimited() -> Self {
        Limits {
            invites_per_inviter_per_day: None,
            resend_cooldown: Duration::zero(),
            pending_per_business: None,
        }
    }
}

/// Outbox delivery settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryConfig {
    /// Attempts before an email is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failure; doubles after each further one.
    pub base_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// How long a dispatcher owns a message it picked up (a crashed dispatcher's
    /// messages become due again after this). A dispatcher takes up to 100 messages
    /// at a time and records their outcomes together once the mailer is done with
    /// them: keep the lease above 100 times the mailer's slowest delivery, or another
    /// dispatcher may claim and send the same batch again meanwhile (at-least-once:
    /// same message ids).
    pub lease: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 5,
            base_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
            lease: Duration::minutes(5),
        }
    }
}

/// Service configuration. Validated when the service is built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Base of every accept link (`https://app.example.com/invite`); the token is added
    /// as the `token` query parameter. Must be absolute `http(s)` without credentials.
    pub accept_base_url: String,
    /// Lifetime of an invitation when a request gives none (1 hour to 30 days).
    pub default_expiry: Duration,
    /// Which email addresses are accepted.
    pub email_policy: EmailPolicy,
    /// Abuse limits.
    pub limits: Limits,
    /// Outbox delivery.
    pub delivery: DeliveryConfig,
    /// How long an idempotency key remembers its first result.
    pub idempotency_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            accept_base_url: "http://localhost:8080/invitations/accept".to_owned(),
            default_expiry: DEFAULT_EXPIRY,
            email_policy: EmailPolicy::default(),
            limits: Limits::default(),
            delivery: DeliveryConfig::default(),
            idempotency_ttl: Duration::hours(24),
        }
    }
}

/// The most delivery attempts an email may be given.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 100;

/// The longest any configured duration may be (ten years): instants computed from them
/// stay far inside what the time types can hold.
pub const MAX_DURATION: Duration = Duration::days(3_650);

impl Config {
    /// A default configuration with this accept base URL.
    pub fn with_base_url(url: impl Into<String>) -> Self {
        Config {
            accept_base_url: url.into(),
            ..Config::default()
        }
    }

    /// Checks the configuration; returns every accept link's text up to its token.
    pub(crate) fn validate(&self) -> Result<String> {
        let invalid = |m: &str| Error::new(ErrorCode::InvalidConfig, m.to_owned());
        let base = parse_base_url(&self.accept_base_url)?;
        if !(MIN_EXPIRY..=MAX_EXPIRY).contains(&self.default_expiry) {
            return Err(invalid("default expiry must be between 1 hour and 30 days"));
        }
        let d = &self.delivery;
        if !(1..=MAX_DELIVERY_ATTEMPTS).contains(&d.max_attempts) {
            return Err(invalid("delivery max attempts must be between 1 and 100"));
        }
        let within = |value: Duration, low: Duration| (low..=MAX_DURATION).contains(&value);
        if !within(d.base_backoff, Duration::zero())
            || !within(d.max_backoff, d.base_backoff)
            || !within(d.lease, Duration::nanoseconds(1))
        {
            return Err(invalid(
                "delivery lease must be positive and backoffs from 0 with the longest no shorter \
                 than the first, each at most 10 years",
            ));
        }
        if !within(self.idempotency_ttl, Duration::nanoseconds(1))
            || !within(self.limits.resend_cooldown, Duration::zero())
        {
            return Err(invalid(
                "idempotency ttl must be positive and resend cooldown not negative, each at \
                 most 10 years",
            ));
        }
        Ok(accept_link_prefix(base))
    }
}

/// The base URL with an empty `token` added to its query: an accept link is this text
/// followed by the token, whose base64url characters form-urlencoding keeps as they
/// are (and the base has no fragment to come after it).
fn accept_link_prefix(mut base: url::Url) -> String {
    base.query_pairs_mut().append_pair("token", "");
    base.into()
}

/// `raw` for messages: whatever stands between `://` and an `@` (a user and password)
/// replaced by `***`, so an error never repeats a secret.
fn without_userinfo(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => raw.to_owned(),
    }
}

/// Accepts only absolute http(s) URLs with a host, no credentials (no `//evil`,
/// `javascript:` or `https://user@host`), no fragment and no `token` parameter.
fn parse_base_url(raw: &str) -> Result<url::Url> {
    let invalid = || {
        Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "accept base url `{}` is not an absolute http(s) url without credentials",
                without_userinfo(raw)
            ),
        )
    };
    let raw_trimmed = raw.trim();
    let authority = raw_trimmed.split_once("://").map(|(_, rest)| rest);
    if authority.is_none_or(|rest| rest.starts_with('/') || rest.starts_with('\\')) {
        return Err(invalid());
    }
    let url = url::Url::parse(raw_trimmed).map_err(|_| invalid())?;
    // A `token` of its own would come first in every link, and servers that read the
    // first `token` would never see the real one: refused however a server might read
    // it (`;` as a separator too, as older servers take it, in any case).
    let names_token = url.query().is_some_and(|query| {
        query.split(['&', ';']).any(|pair| {
            url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case("token"))
        })
    });
    let fine = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
        && !names_token;
    if fine { Ok(url) } else { Err(invalid()) }
}
