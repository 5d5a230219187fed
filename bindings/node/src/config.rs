//! Configuration from an options object, the effective configuration back, and the
//! injectable manual clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use invite_core::input::EmailPolicy;
use invite_core::mail::EmailRenderer;
use invite_core::service::{DeliveryConfig, EventHook, Limits};
use invite_core::{AuthorizationPolicy, Config, Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{
    ClassInstance, Either, FromNapiValue, JsObjectValue, JsValue, Null, Object, Uint8Array, Unknown,
};
use napi::{Env, ValueType};
use napi_derive::napi;

use crate::convert::{JsInstant, count, in_calendar, only, opt_instant, opt_seconds, to_seconds};
use crate::error::{clear_pending_exception, invalid_config as invalid};
use crate::hook::{HookFunction, JsEventHook, event_hook};
use crate::policy::authorization_policy;
use crate::render::email_renderer;

/// Abuse limits. Omit a field for its default; `null` means no limit.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct LimitsOptions {
    /// Invitation emails one inviter may cause per UTC day, new invitations and resends
    /// together (default 5000; `null`: unlimited).
    pub invites_per_inviter_per_day: Option<Either<f64, Null>>,
    /// Minimum seconds between two sends of one invitation (default 60; `null`: none).
    pub resend_cooldown_seconds: Option<Either<f64, Null>>,
    /// Pending invitations one business may have at once (default 50000; `null`: unlimited).
    pub pending_per_business: Option<Either<f64, Null>>,
}

/// Outbox delivery settings (retries with exponential backoff).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DeliveryOptions {
    /// Attempts before an email is marked failed (default 5, at most 100).
    pub max_attempts: Option<Option<f64>>,
    /// Wait after the first failure, in seconds; doubles after each further one (default 30).
    pub base_backoff_seconds: Option<Option<f64>>,
    /// Longest wait between attempts, in seconds (default 3600).
    pub max_backoff_seconds: Option<Option<f64>>,
    /// How long a dispatcher owns a message it picked up, in seconds (default 300).
    /// Outcomes are recorded once per claim of up to 100 emails: keep it above 100
    /// times the mailer's slowest delivery, or another dispatcher may send the batch
    /// again.
    pub lease_seconds: Option<Option<f64>>,
}

/// Options of `InviteService.open`. Every field is optional.
#[napi(object, object_to_js = false)]
pub struct ServiceOptions<'a> {
    /// Store URL: `memory:` (default), `sqlite:PATH` / `sqlite::memory:` (when built with
    /// SQLite), `postgres://…` (when built with PostgreSQL).
    pub store: Option<Option<String>>,
    /// Base of every accept link; the token is added as the `token` query parameter.
    pub accept_base_url: Option<Option<String>>,
    /// Lifetime of an invitation when a request gives none, in seconds (1 hour to 30 days; default 7 days).
    pub default_expiry_seconds: Option<Option<f64>>,
    /// Accept non-ASCII local parts in email addresses (default false).
    pub allow_non_ascii_email: Option<Option<bool>>,
    /// Abuse limits.
    pub limits: Option<Option<LimitsOptions>>,
    /// Outbox delivery.
    pub delivery: Option<Option<DeliveryOptions>>,
    /// How long an idempotency key remembers its first result, in seconds (default 24 hours).
    pub idempotency_ttl_seconds: Option<Option<f64>>,
    /// 32 secret bytes sealing tokens in the outbox, so queued emails survive a restart
    /// (default: a random per-process key). Required on PostgreSQL, where every app
    /// server must use the same key (`INVALID_CONFIG` without one).
    pub outbox_key: Option<Option<Uint8Array>>,
    /// A manual clock (tests, simulations); default: the system clock.
    pub clock: Option<Option<ClassInstance<'a, ManualClock>>>,
    /// Where the service's calls run (default `'threadPool'`): `'threadPool'` runs each
    /// on the libuv pool, so the event loop keeps turning while it runs; `'inline'` runs
    /// each on the calling thread and returns an already-settled Promise (no hop to the
    /// pool; the event loop waits for the call). Any other value rejects with
    /// `INVALID_CONFIG`.
    #[napi(ts_type = "Execution | undefined | null")]
    pub execution: Option<Option<String>>,
    /// Called after each commit with that commit's events, oldest first, on the JS
    /// thread soon after the commit (never inside the call that committed), in the
    /// order the commits queued them. A throw, or a rejection of the promise it returns,
    /// becomes a process warning (`code` `EVENT_HOOK_FAILED`); it cannot undo the
    /// commit. An idle service's hook does not keep the process alive; a call's events
    /// reach it before the process exits.
    #[napi(ts_type = "((events: Array<Event>) => unknown) | undefined | null")]
    pub event_hook: Option<Option<HookFunction<'a>>>,
    /// Replaces the authorization rule (who may invite, which roles they may grant) in
    /// part or whole: `mayInvite(rights)` and/or `mayGrant(rights, role)`, each
    /// answering `true`, `false`, or `undefined`/`null` (the default rule decides; so
    /// does a missing method). Called synchronously, inside the store transaction, on
    /// the JS thread: keep it quick, and do not call the service from it (the call
    /// throws). A throw or any other answer denies, with a process warning (`code`
    /// `AUTHORIZATION_POLICY_FAILED`).
    #[napi(
        ts_type = "{ mayInvite?(rights: InviterRights): boolean | null | undefined; mayGrant?(rights: InviterRights, role: Role): boolean | null | undefined } | undefined | null"
    )]
    pub policy: Option<Option<Object<'a>>>,
    /// Renders every email instead of the built-in templates: a function (or an object
    /// with `render`) taking an `EmailContext` and answering `{ subject, text, html,
    /// locale? }`, synchronously, on the JS thread, for each email a dispatch claimed
    /// (outside any store transaction). A throw or any other answer leaves that email
    /// to the built-in templates, with a process warning (`code`
    /// `EMAIL_RENDERER_FAILED`). `renderDefaultEmail(context)` is the built-in email.
    #[napi(
        ts_type = "((context: EmailContext) => RenderedEmail) | { render(context: EmailContext): RenderedEmail } | undefined | null"
    )]
    pub renderer: Option<Option<Unknown<'a>>>,
}

/// Where a service's calls run (`InviteService.open({ execution })`).
#[napi(string_enum = "camelCase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Execution {
    /// On the libuv thread pool; the Promise settles when the call is done (the default).
    /// The event loop keeps turning while a call runs; each call costs a hop to the pool
    /// and back.
    #[default]
    ThreadPool,
    /// On the calling (main) thread; the Promise is settled before the method returns.
    /// No hop, but the event loop waits for the call: for the memory store and embedded
    /// SQLite in WAL mode, where a call takes microseconds.
    Inline,
}

impl Execution {
    /// Parses the `execution` option (`undefined`/`null`: the default).
    fn parse(value: Option<&str>) -> Result<Execution, CoreError> {
        match value {
            None | Some("threadPool") => Ok(Execution::ThreadPool),
            Some("inline") => Ok(Execution::Inline),
            Some(other) => {
                let shown: String = other.chars().take(40).collect();
                Err(CoreError::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "the option `execution` must be `threadPool` or `inline`, not `{shown}`"
                    ),
                ))
            }
        }
    }
}

/// Everything `open` needs, taken from the JS options on the JS thread.
pub struct OpenPlan {
    pub store: String,
    pub config: Result<Config, CoreError>,
    pub outbox_key: Option<Vec<u8>>,
    pub clock: Option<Arc<invite_core::ManualClock>>,
    /// Where the service's calls run; an unknown value is kept as the error `open`
    /// rejects with.
    pub execution: Result<Execution, CoreError>,
    /// The event hook, held for the service's threads.
    pub event_hook: Result<Option<Arc<JsEventHook>>, CoreError>,
    /// The authorization policy, held for the service's threads.
    pub policy: Result<Option<Arc<dyn AuthorizationPolicy>>, CoreError>,
    /// The email renderer, held for the dispatches.
    pub renderer: Result<Option<Arc<dyn EmailRenderer>>, CoreError>,
}

/// A limit: its default when omitted, none when `null`, else a whole number.
fn limit(
    value: Option<Either<f64, Null>>,
    default: Option<u32>,
    field: &str,
) -> Result<Option<u32>, CoreError> {
    match value {
        None => Ok(default),
        Some(Either::A(n)) => count(n, field).map(Some),
        Some(Either::B(Null)) => Ok(None),
    }
}

fn build_config(options: &ServiceOptions<'_>) -> Result<Config, CoreError> {
    let mut config = Config::default();
    if let Some(Some(url)) = &options.accept_base_url {
        config.accept_base_url = url.clone();
    }
    if let Some(expiry) = opt_seconds(
        options.default_expiry_seconds.flatten(),
        "default_expiry_seconds",
    )? {
        config.default_expiry = expiry;
    }
    config.email_policy = EmailPolicy {
        allow_non_ascii_local_part: options.allow_non_ascii_email.flatten().unwrap_or(false),
    };
    if let Some(Some(l)) = &options.limits {
        let d = Limits::default();
        config.limits = Limits {
            invites_per_inviter_per_day: limit(
                l.invites_per_inviter_per_day,
                d.invites_per_inviter_per_day,
                "invites_per_inviter_per_day",
            )?,
            resend_cooldown: match l.resend_cooldown_seconds {
                None => d.resend_cooldown,
                Some(Either::B(Null)) => chrono::Duration::zero(),
                Some(Either::A(n)) => {
                    opt_seconds(Some(n), "resend_cooldown_seconds")?.unwrap_or(d.resend_cooldown)
                }
            },
            pending_per_business: limit(
                l.pending_per_business,
                d.pending_per_business,
                "pending_per_business",
            )?,
        };
    }
    if let Some(Some(o)) = &options.delivery {
        let d = DeliveryConfig::default();
        config.delivery = DeliveryConfig {
            max_attempts: match o.max_attempts.flatten() {
                Some(n) => count(n, "max_attempts")?,
                None => d.max_attempts,
            },
            base_backoff: opt_seconds(o.base_backoff_seconds.flatten(), "base_backoff_seconds")?
                .unwrap_or(d.base_backoff),
            max_backoff: opt_seconds(o.max_backoff_seconds.flatten(), "max_backoff_seconds")?
                .unwrap_or(d.max_backoff),
            lease: opt_seconds(o.lease_seconds.flatten(), "lease_seconds")?.unwrap_or(d.lease),
        };
    }
    if let Some(ttl) = opt_seconds(
        options.idempotency_ttl_seconds.flatten(),
        "idempotency_ttl_seconds",
    )? {
        config.idempotency_ttl = ttl;
    }
    Ok(config)
}

/// The options `InviteService.open` knows, and those of its nested objects: any other
/// name is a typo that must not silently drop a setting (`storeUrl` would open an
/// in-memory store).
const OPEN_KEYS: &[&str] = &[
    "store",
    "acceptBaseUrl",
    "defaultExpirySeconds",
    "allowNonAsciiEmail",
    "limits",
    "delivery",
    "idempotencyTtlSeconds",
    "outboxKey",
    "clock",
    "execution",
    "eventHook",
    "policy",
    "renderer",
];
const LIMITS_KEYS: &[&str] = &[
    "invitesPerInviterPerDay",
    "resendCooldownSeconds",
    "pendingPerBusiness",
];
const DELIVERY_KEYS: &[&str] = &[
    "maxAttempts",
    "baseBackoffSeconds",
    "maxBackoffSeconds",
    "leaseSeconds",
];

/// A problem with one option is a configuration problem: `INVALID_CONFIG` naming the
/// option, whatever the reader that found it called it.
fn as_invalid_config(error: CoreError) -> CoreError {
    if error.code() != ErrorCode::ValidationFailed {
        return error;
    }
    let fields: Vec<&str> = error
        .field_errors()
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    invalid(format!(
        "bad option {}: {}",
        fields.join(", "),
        error.message()
    ))
}

/// The options object of `InviteService.open`: `undefined`/`null` for the defaults, else
/// a plain object whose names (and those of `limits` and `delivery`) are all known.
/// Anything else is `INVALID_CONFIG`, so `open` rejects instead of throwing.
fn read_options(options: Option<Unknown<'_>>) -> Result<Option<ServiceOptions<'_>>, CoreError> {
    let unreadable = || invalid("the options of InviteService.open cannot be read");
    let Some(value) = options else {
        return Ok(None);
    };
    match value.get_type().map_err(|_| unreadable())? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::Object if !value.is_array().map_err(|_| unreadable())? => {}
        _ => {
            return Err(invalid(
                "the options of InviteService.open must be an object",
            ));
        }
    }
    let object = Object::from_unknown(value).map_err(|_| unreadable())?;
    only(&object, OPEN_KEYS, "InviteService.open")?;
    for (name, keys) in [("limits", LIMITS_KEYS), ("delivery", DELIVERY_KEYS)] {
        let nested: Unknown<'_> = object.get_named_property(name).map_err(|_| unreadable())?;
        match nested.get_type().map_err(|_| unreadable())? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::Object if !nested.is_array().map_err(|_| unreadable())? => only(
                &Object::from_unknown(nested).map_err(|_| unreadable())?,
                keys,
                name,
            )?,
            // napi would read a string or a number as an object with no fields: the
            // defaults, silently.
            _ => return Err(invalid(format!("`{name}` must be an object"))),
        }
    }
    let hook: Unknown<'_> = object
        .get_named_property("eventHook")
        .map_err(|_| unreadable())?;
    if !matches!(
        hook.get_type().map_err(|_| unreadable())?,
        ValueType::Undefined | ValueType::Null | ValueType::Function
    ) {
        return Err(invalid("`eventHook` must be a function"));
    }
    ServiceOptions::from_unknown(value)
        .map(Some)
        .map_err(|e| invalid(format!("bad option: {}", e.reason)))
}

impl OpenPlan {
    /// Reads `InviteService.open`'s options; a malformed object becomes the error `open`
    /// rejects with.
    pub fn from_js(options: Option<Unknown<'_>>) -> OpenPlan {
        let env = options.map(|o| Env::from_raw(o.value().env));
        let plan = match read_options(options) {
            Ok(options) => OpenPlan::new(options),
            Err(error) => OpenPlan {
                config: Err(error),
                ..OpenPlan::new(None)
            },
        };
        // A throwing getter or proxy trap (of the options, a policy or a renderer) left
        // its exception pending: the failure goes to the Promise, and nothing may be
        // thrown besides.
        if let Some(env) = &env {
            clear_pending_exception(env);
        }
        plan
    }

    /// Reads the options (no validation beyond parsing; the core validates when building).
    pub fn new(options: Option<ServiceOptions<'_>>) -> OpenPlan {
        let Some(options) = options else {
            return OpenPlan {
                store: "memory:".to_owned(),
                config: Ok(Config::default()),
                outbox_key: None,
                clock: None,
                execution: Ok(Execution::default()),
                event_hook: Ok(None),
                policy: Ok(None),
                renderer: Ok(None),
            };
        };
        OpenPlan {
            store: options
                .store
                .clone()
                .flatten()
                .unwrap_or_else(|| "memory:".to_owned()),
            config: build_config(&options).map_err(as_invalid_config),
            outbox_key: options
                .outbox_key
                .as_ref()
                .and_then(|k| k.as_ref())
                .map(|k| k.to_vec()),
            clock: options
                .clock
                .as_ref()
                .and_then(|c| c.as_ref())
                .map(|c| c.inner.clone()),
            execution: Execution::parse(options.execution.as_ref().and_then(|e| e.as_deref())),
            event_hook: options
                .event_hook
                .as_ref()
                .and_then(|h| h.as_ref())
                .map(event_hook)
                .transpose(),
            policy: options
                .policy
                .as_ref()
                .and_then(|p| p.as_ref())
                .map(authorization_policy)
                .transpose(),
            renderer: options
                .renderer
                .flatten()
                .filter(|r| !matches!(r.get_type(), Ok(ValueType::Undefined | ValueType::Null)))
                .map(email_renderer)
                .transpose(),
        }
    }

    /// Where `open` itself runs: inline when the options ask for it (and are valid).
    pub fn execution(&self) -> Execution {
        self.execution.as_ref().copied().unwrap_or_default()
    }

    /// Opens the store and builds the service (runs off the main thread).
    pub fn open(self) -> Result<Opened, CoreError> {
        let config = self.config?;
        let execution = self.execution?;
        let event_hook = self.event_hook?;
        let policy = self.policy?;
        let renderer = self.renderer?;
        let key = match self.outbox_key {
            None => None,
            Some(bytes) => Some(<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                CoreError::new(
                    ErrorCode::InvalidConfig,
                    format!("outbox key must be 32 bytes, not {}", bytes.len()),
                )
            })?),
        };
        let store = invite_core::store::open(&self.store)?;
        let mut builder = invite_core::InviteService::builder(store).config(config);
        if let Some(key) = key {
            builder = builder.outbox_key(key);
        }
        if let Some(clock) = self.clock {
            builder = builder.clock(clock);
        }
        if let Some(hook) = &event_hook {
            builder = builder.event_hook(Arc::clone(hook) as Arc<dyn EventHook>);
        }
        if let Some(policy) = policy {
            builder = builder.policy(policy);
        }
        if let Some(renderer) = renderer {
            builder = builder.renderer(renderer);
        }
        builder.build().map(|service| Opened {
            service,
            execution,
            event_hook,
        })
    }
}

/// A service `OpenPlan::open` built, with what the binding keeps beside it.
pub struct Opened {
    pub service: invite_core::InviteService,
    pub execution: Execution,
    /// The event hook, which calls run off the JS thread hold (see `hook.rs`).
    pub event_hook: Option<Arc<JsEventHook>>,
}

/// Abuse limits in force (`null`: no limit).
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct LimitsView {
    /// Invitation emails one inviter may cause per UTC day (sends and resends).
    pub invites_per_inviter_per_day: Option<u32>,
    /// Minimum seconds between two sends of one invitation.
    pub resend_cooldown_seconds: f64,
    /// Pending invitations one business may have at once.
    pub pending_per_business: Option<u32>,
}

/// Outbox delivery settings in force.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct DeliveryView {
    /// Attempts before an email is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failure, in seconds.
    pub base_backoff_seconds: f64,
    /// Longest wait between attempts, in seconds.
    pub max_backoff_seconds: f64,
    /// Lease on a picked-up message, in seconds.
    pub lease_seconds: f64,
}

/// The configuration in force (`service.config()`).
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ConfigView {
    /// Base of every accept link.
    pub accept_base_url: String,
    /// Default invitation lifetime, in seconds.
    pub default_expiry_seconds: f64,
    /// Whether non-ASCII local parts are accepted.
    pub allow_non_ascii_email: bool,
    /// Abuse limits.
    pub limits: LimitsView,
    /// Outbox delivery.
    pub delivery: DeliveryView,
    /// Idempotency memory, in seconds.
    pub idempotency_ttl_seconds: f64,
    /// Where the service's calls run.
    pub execution: Execution,
}

impl ConfigView {
    /// The view of a service's configuration and its execution mode.
    pub fn new(c: &Config, execution: Execution) -> Self {
        ConfigView {
            accept_base_url: c.accept_base_url.clone(),
            default_expiry_seconds: to_seconds(c.default_expiry),
            allow_non_ascii_email: c.email_policy.allow_non_ascii_local_part,
            limits: LimitsView {
                invites_per_inviter_per_day: c.limits.invites_per_inviter_per_day,
                resend_cooldown_seconds: to_seconds(c.limits.resend_cooldown),
                pending_per_business: c.limits.pending_per_business,
            },
            delivery: DeliveryView {
                max_attempts: c.delivery.max_attempts,
                base_backoff_seconds: to_seconds(c.delivery.base_backoff),
                max_backoff_seconds: to_seconds(c.delivery.max_backoff),
                lease_seconds: to_seconds(c.delivery.lease),
            },
            idempotency_ttl_seconds: to_seconds(c.idempotency_ttl),
            execution,
        }
    }
}

/// A clock that only moves when told to. Pass it as `clock` to `InviteService.open` to
/// test expiry, cooldowns and retries without waiting. A call that would write an instant
/// past the year 9999 (a send's expiry, with the clock in the last days of that year)
/// rejects with `INVALID_CONFIG` and writes nothing.
#[napi]
pub struct ManualClock {
    inner: Arc<invite_core::ManualClock>,
}

#[napi]
impl ManualClock {
    /// A clock standing at `start` (default: now).
    #[napi(
        constructor,
        catch_unwind,
        strict,
        ts_args_type = "start?: Date | undefined | null"
    )]
    pub fn new(env: napi::Env, start: Option<JsInstant>) -> napi::Result<Self> {
        crate::error::sync(&env, || {
            let start = opt_instant(start, "start")?;
            Ok(ManualClock {
                inner: Arc::new(invite_core::ManualClock::new(
                    start.unwrap_or_else(Utc::now),
                )),
            })
        })
    }

    /// The clock's current instant.
    #[napi(catch_unwind, strict)]
    pub fn now(&self) -> DateTime<Utc> {
        invite_core::Clock::now(&*self.inner)
    }

    /// Sets the clock.
    #[napi(catch_unwind, strict, ts_args_type = "to: Date")]
    pub fn set(&self, env: napi::Env, to: JsInstant) -> napi::Result<()> {
        crate::error::sync(&env, || {
            self.inner.set(to.to_utc("to")?);
            Ok(())
        })
    }

    /// Moves the clock forward (or back, when negative) by whole seconds, at most 100
    /// years per call; a larger move, or one past the years 1 to 9999, is
    /// `VALIDATION_FAILED` (`OUT_OF_RANGE`) and leaves it.
    #[napi(catch_unwind, strict)]
    pub fn advance_seconds(&self, env: napi::Env, seconds: f64) -> napi::Result<()> {
        crate::error::sync(&env, || {
            let by = crate::convert::seconds(seconds, "seconds")?;
            let now = invite_core::Clock::now(&*self.inner);
            match now.checked_add_signed(by).filter(|at| in_calendar(*at)) {
                Some(at) => {
                    self.inner.set(at);
                    Ok(())
                }
                None => Err(crate::error::invalid_field(
                    "seconds",
                    invite_core::FieldCode::OutOfRange,
                    "the clock would leave the years 1 to 9999",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_parses_the_two_modes_and_refuses_others() {
        assert_eq!(Execution::parse(None).ok(), Some(Execution::ThreadPool));
        assert_eq!(
            Execution::parse(Some("threadPool")).ok(),
            Some(Execution::ThreadPool)
        );
        assert_eq!(
            Execution::parse(Some("inline")).ok(),
            Some(Execution::Inline)
        );
        for bad in ["", "Inline", "thread_pool", "sync"] {
            let code = Execution::parse(Some(bad)).map_err(|e| e.code());
            assert_eq!(code, Err(ErrorCode::InvalidConfig), "{bad}");
        }
        assert_eq!(Execution::default(), Execution::ThreadPool);
    }
}
