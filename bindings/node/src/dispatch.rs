//! Outbox dispatch, through a mailer written in JavaScript or a built-in one.
//!
//! A dispatch always runs on a thread of its own (`task::own_thread`), whatever the
//! service's execution mode, so that waiting on a JS mailer never holds a libuv pool
//! thread that the mailer's own I/O may need. The core's dispatcher calls the mailer synchronously, once per claimed batch
//! (`Mailer::send_batch`, up to 100 emails). A JS mailer (a function, or an object with
//! `send`) is reached through ONE threadsafe-function call per batch: on the JS thread
//! the function is called for every email in order, without waiting in between, and the
//! worker waits for all of them to settle. A returned Promise is awaited; a rejection, a
//! synchronous throw, a promise whose `then` throws, or no answer within the timeout
//! fails that email only (retried by the outbox), never a crash. A built-in mailer (a
//! `Mailer`, or its configuration object) runs entirely on the dispatch's thread.
//!
//! Per email on the JS thread: the email object (a `shape` factory), the call, and for a
//! promise one call of the `shape::attach` helper, whose JS closures report to two native
//! functions made once per batch (`Reactions`). Outcomes land in the batch's `Outcomes`,
//! which wake the waiting dispatch thread once, when the last one is in.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use invite_core::Error as CoreError;
use invite_core::mail::{InvitationEmail as CoreEmail, MailError, Mailer};
use invite_core::service::DispatchReport as CoreReport;
use napi::bindgen_prelude::{
    ClassInstance, Either4, FromNapiValue, Function, FunctionRef, JsObjectValue, JsValue, Object,
    ToNapiValue, Unknown,
};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status, ValueType, sys};
use napi_derive::napi;

use crate::convert::only;
use crate::error::{clear_pending_exception, invalid_config, reason};
use crate::mailer::{Mailer as BuiltIn, MailerPlan};
use crate::service::InviteService;
use crate::shape::{Args, Prop, Shape, Shaped, to_napi_by_shape};
use crate::task::Call;

/// Default time a mailer has to settle the emails of one batch.
const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

/// One invitation email, ready for delivery: what a JS mailer receives.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    /// Stable id: the same on every retry of this email (de-duplicate on it).
    pub message_id: String,
    /// Business.
    pub business_id: String,
    /// Invitation.
    pub invitation_id: String,
    /// Recipient: the address as entered.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The accept link.
    pub accept_link: String,
    /// Locale the email was rendered in.
    pub locale: String,
    /// When the link expires.
    pub expires_at: DateTime<Utc>,
}

impl From<&CoreEmail> for InvitationEmail {
    fn from(e: &CoreEmail) -> Self {
        InvitationEmail {
            message_id: e.message_id.to_string(),
            business_id: e.business_id.to_string(),
            invitation_id: e.invitation_id.to_string(),
            to: e.to.clone(),
            subject: e.subject.clone(),
            text: e.text.clone(),
            html: e.html.clone(),
            accept_link: e.accept_link.clone(),
            locale: e.locale.clone(),
            expires_at: e.expires_at,
        }
    }
}

/// `InvitationEmail`'s properties, in field order (built by `shape`).
pub const INVITATION_EMAIL: &[Prop] = &[
    Prop::Value("messageId"),
    Prop::Value("businessId"),
    Prop::Value("invitationId"),
    Prop::Value("to"),
    Prop::Value("subject"),
    Prop::Value("text"),
    Prop::Value("html"),
    Prop::Value("acceptLink"),
    Prop::Value("locale"),
    Prop::Value("expiresAt"),
];

impl Shaped for InvitationEmail {
    const SHAPE: Shape = Shape::InvitationEmail;

    /// Pushes the values of `INVITATION_EMAIL`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let InvitationEmail {
            message_id,
            business_id,
            invitation_id,
            to,
            subject,
            text,
            html,
            accept_link,
            locale,
            expires_at,
        } = self;
        args.string(&message_id)?;
        args.string(&business_id)?;
        args.string(&invitation_id)?;
        args.string(&to)?;
        args.string(&subject)?;
        args.string(&text)?;
        args.string(&html)?;
        args.string(&accept_link)?;
        args.string(&locale)?;
        args.value(expires_at)
    }
}

to_napi_by_shape!(InvitationEmail);

/// What one dispatch run did.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct DispatchReport {
    /// Emails the mailer accepted.
    pub delivered: u32,
    /// Failed attempts that will be retried.
    pub retrying: u32,
    /// Emails given up after the maximum attempts.
    pub failed: u32,
}

impl From<CoreReport> for DispatchReport {
    fn from(r: CoreReport) -> Self {
        DispatchReport {
            delivered: r.delivered,
            retrying: r.retrying,
            failed: r.failed,
        }
    }
}

/// Options of `dispatchOutbox`.
// Declared for TypeScript; `timeout` reads the options by hand, so nothing throws.
#[napi(object)]
#[derive(Debug, Clone, Default)]
#[allow(
    dead_code,
    reason = "a TypeScript declaration: `timeout` reads the options"
)]
pub struct DispatchOptions {
    /// Seconds a JavaScript mailer has to settle the emails of one batch (all started
    /// together) before those still unsettled count as failed attempts (default 30).
    pub timeout_seconds: Option<Option<f64>>,
}

/// What the JS mailer returned: a promise to await, or any other value (success).
enum MailerReturn {
    /// An object or a function, of the current callback scope: maybe a promise or a
    /// thenable (a Bluebird or query-builder promise), awaited as `await` would.
    Awaitable(sys::napi_value),
    /// A primitive (`undefined`, a string…): delivered.
    Value,
}

/// One outcome per email of a batch: `Err` carries the reason recorded on the invitation.
type Outcome = Result<(), String>;

/// A batch handed to the JS thread: the emails, in outbox order, and where each email's
/// outcome goes (by its index).
struct Batch {
    emails: Vec<InvitationEmail>,
    outcomes: Reporter,
}

/// The outcomes of one batch: filled on the JS thread, read on the dispatch's thread once
/// every email has one, or at the timeout, or once no `Reporter` is left (the rest are
/// lost). The dispatch's thread is woken once per batch, not once per email.
struct Outcomes {
    slots: Mutex<Slots>,
    changed: Condvar,
}

struct Slots {
    /// One per email, in batch order; `None` until it settles.
    outcomes: Vec<Option<Outcome>>,
    /// Emails still without an outcome.
    pending: usize,
    /// Live `Reporter`s.
    reporters: usize,
}

impl Outcomes {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        // Nothing panics while holding the lock; a poisoned one still holds valid slots.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What can report outcomes (the batch on the JS thread, its promise reactions): when
/// the last one goes with emails still pending, the dispatch thread learns their outcome is lost.
struct Reporter(Arc<Outcomes>);

impl Reporter {
    /// The reporter of a batch of `count` emails, and the outcomes the dispatch thread waits for.
    fn new(count: usize) -> (Reporter, Arc<Outcomes>) {
        let outcomes = Arc::new(Outcomes {
            slots: Mutex::new(Slots {
                outcomes: vec![None; count],
                pending: count,
                reporters: 1,
            }),
            changed: Condvar::new(),
        });
        (Reporter(outcomes.clone()), outcomes)
    }

    /// Records email `index`'s outcome (the first one only; late ones go nowhere).
    fn report(&self, index: usize, outcome: Outcome) {
        let mut slots = self.0.lock();
        if let Some(slot @ None) = slots.outcomes.get_mut(index) {
            *slot = Some(outcome);
            slots.pending -= 1;
            if slots.pending == 0 {
                self.0.changed.notify_all();
            }
        }
    }
}

impl Clone for Reporter {
    fn clone(&self) -> Self {
        self.0.lock().reporters += 1;
        Reporter(self.0.clone())
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let mut slots = self.0.lock();
        slots.reporters -= 1;
        if slots.reporters == 0 {
            self.0.changed.notify_all();
        }
    }
}

/// One threadsafe-function call per batch. Its JS function is a no-op: the work happens
/// in its callback on the JS thread (`start_batch`), which calls the user's function once
/// per email.
type BatchFn = ThreadsafeFunction<Batch, (), (), Status, false, false, 0>;

/// The `Mailer` port backed by a JS function (or a bound `send` method).
struct JsMailer {
    function: BatchFn,
    timeout: Duration,
}

/// On the JS thread: calls `mailer(email)` with `this` undefined and returns what it
/// returned, or the reason of what it threw (read without coercion: a thrown symbol or
/// an object with a throwing `toString` is a reason like any other).
#[allow(
    unsafe_code,
    reason = "a raw call, to take a thrown value without coercing it (napi-rs `Function::call` coerces)"
)]
fn call_mailer(
    env: &Env,
    mailer: &JsFunction<'_>,
    email: InvitationEmail,
) -> Result<MailerReturn, String> {
    let raw_env = env.raw();
    // SAFETY: `raw_env` is the live env of this (the JS) thread.
    let arg = unsafe { InvitationEmail::to_napi_value(raw_env, email) }
        .map_err(|e| format!("the email could not be handed to the mailer: {}", e.reason))?;
    let mut this = std::ptr::null_mut();
    let mut returned = std::ptr::null_mut();
    // SAFETY: live env, valid out-pointers, `mailer` is a function of this env.
    let status = unsafe {
        let _ = sys::napi_get_undefined(raw_env, &mut this);
        sys::napi_call_function(raw_env, this, mailer.value().value, 1, &arg, &mut returned)
    };
    match status {
        sys::Status::napi_ok => {
            let mut kind = sys::ValueType::napi_undefined;
            // SAFETY: `returned` is the call's result in this env; valid out-pointer.
            match unsafe { sys::napi_typeof(raw_env, returned, &mut kind) } {
                sys::Status::napi_ok
                    if kind == sys::ValueType::napi_object
                        || kind == sys::ValueType::napi_function =>
                {
                    Ok(MailerReturn::Awaitable(returned))
                }
                sys::Status::napi_ok => Ok(MailerReturn::Value),
                status => Err(format!(
                    "the mailer's return value could not be read: {}",
                    Status::from(status)
                )),
            }
        }
        sys::Status::napi_pending_exception => {
            let mut exception = std::ptr::null_mut();
            // SAFETY: an exception is pending in this env; taking it clears it.
            let taken = unsafe { sys::napi_get_and_clear_last_exception(raw_env, &mut exception) };
            if taken != sys::Status::napi_ok || exception.is_null() {
                return Err("the mailer threw".to_owned());
            }
            // SAFETY: `exception` is a live value of this env.
            Err(reason(
                unsafe { Unknown::from_raw_unchecked(raw_env, exception) },
                "the mailer threw",
            ))
        }
        status => Err(format!(
            "the mailer could not be called ({})",
            Status::from(status)
        )),
    }
}

/// Where a batch's promises report: two native functions, made on the batch's first
/// promise, each holding a `Reporter` of the batch (so the dispatch thread learns the
/// outcomes are lost once no reaction can run any more). `shape::attach` attaches them to
/// each promise with the email's index.
struct Reactions {
    settled: sys::napi_value,
    failed: sys::napi_value,
}

impl Reactions {
    fn new(env: &Env, outcomes: &Reporter) -> napi::Result<Self> {
        let on_settled = outcomes.clone();
        let settled: Function<'_, (), ()> =
            env.create_function_from_closure("inviteCoreMailerSettled", move |ctx| {
                if let Ok(index) = ctx.get::<u32>(0) {
                    on_settled.report(index as usize, Ok(()));
                }
                Ok(())
            })?;
        let on_failed = outcomes.clone();
        let failed: Function<'_, (), ()> =
            env.create_function_from_closure("inviteCoreMailerFailed", move |ctx| {
                let Ok(index) = ctx.get::<u32>(0) else {
                    return Ok(());
                };
                let message = match ctx.get::<Unknown<'_>>(1) {
                    // `then` itself threw: the promise could not be awaited.
                    Ok(error) if ctx.get::<bool>(2).unwrap_or(false) => format!(
                        "the mailer's promise failed: {}",
                        reason(error, "its `then` threw")
                    ),
                    Ok(rejection) => reason(rejection, "the mailer failed"),
                    Err(_) => "the mailer failed".to_owned(),
                };
                on_failed.report(index as usize, Err(message));
                Ok(())
            })?;
        Ok(Reactions {
            settled: settled.raw(),
            failed: failed.raw(),
        })
    }
}

/// On the JS thread: turns the mailer's return value for email `index` into its outcome
/// on `outcomes`, now (a throw, a plain value) or when the returned promise settles (through
/// the batch's `reactions`, made on its first promise).
#[allow(unsafe_code, reason = "`shape::attach` is a raw napi call")]
fn settle(
    env: &Env,
    index: usize,
    returned: Result<MailerReturn, String>,
    outcomes: &Reporter,
    reactions: &mut Option<napi::Result<Reactions>>,
) {
    match returned {
        Err(message) => outcomes.report(index, Err(message)),
        Ok(MailerReturn::Value) => outcomes.report(index, Ok(())),
        Ok(MailerReturn::Awaitable(promise)) => {
            let attached = match reactions.get_or_insert_with(|| Reactions::new(env, outcomes)) {
                Ok(reactions) => u32::try_from(index)
                    .map_err(|_| napi::Error::from_reason("too many emails in a batch"))
                    .and_then(|i| {
                        // SAFETY: on the JS thread of `env`, whose values these all are
                        // (the batch runs in one callback scope).
                        unsafe {
                            crate::shape::attach(
                                env.raw(),
                                promise,
                                i,
                                reactions.settled,
                                reactions.failed,
                            )
                        }
                    }),
                Err(error) => Err(napi::Error::from_reason(error.reason.clone())),
            };
            if let Err(error) = attached {
                outcomes.report(
                    index,
                    Err(format!("the mailer's promise failed: {}", error.reason)),
                );
            }
        }
    }
}

/// On the JS thread: starts every email of `batch`, in order, each call starting
/// synchronously after the previous one returned (a mailer that pushes into an array
/// sees the outbox order). Outcomes are reported as they settle.
fn start_batch(env: &Env, mailer: &FunctionRef<InvitationEmail, Unknown<'static>>, batch: Batch) {
    let Batch { emails, outcomes } = batch;
    let mailer = match mailer.borrow_back(env) {
        Ok(mailer) => mailer,
        Err(error) => {
            let message = format!("the mailer could not be called ({})", error.reason);
            for index in 0..emails.len() {
                outcomes.report(index, Err(message.clone()));
            }
            return;
        }
    };
    let mut reactions = None;
    for (index, email) in emails.into_iter().enumerate() {
        let returned = call_mailer(env, &mailer, email);
        settle(env, index, returned, &outcomes, &mut reactions);
    }
}

impl JsMailer {
    /// Waits until every email of the batch has an outcome, or the timeout: an email
    /// still unsettled then is a failed attempt (its late outcome is ignored).
    fn collect(&self, outcomes: &Outcomes) -> Vec<Outcome> {
        // A timeout too far out to be an instant is no deadline at all.
        let deadline = Instant::now().checked_add(self.timeout);
        let mut slots = outcomes.lock();
        while slots.pending > 0 && slots.reporters > 0 {
            slots = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    outcomes
                        .changed
                        .wait_timeout(slots, left)
                        .map_or_else(|poisoned| poisoned.into_inner().0, |(slots, _)| slots)
                }
                None => outcomes
                    .changed
                    .wait(slots)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
        let lost = slots.reporters == 0;
        std::mem::take(&mut slots.outcomes)
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| {
                    Err(if lost {
                        "the mailer's outcome was lost".to_owned()
                    } else {
                        format!(
                            "the mailer did not settle within {} seconds",
                            self.timeout.as_secs_f64()
                        )
                    })
                })
            })
            .collect()
    }
}

impl Mailer for JsMailer {
    fn send(&self, email: &CoreEmail) -> Result<(), MailError> {
        self.send_batch(std::slice::from_ref(email))
            .pop()
            .unwrap_or_else(|| Err(MailError("the mailer's outcome was lost".to_owned())))
    }

    /// One threadsafe-function call for the whole batch: the JS function is called for
    /// every email in order on the JS thread, and the batch waits (up to the timeout)
    /// for all of them to settle.
    fn send_batch(&self, emails: &[CoreEmail]) -> Vec<Result<(), MailError>> {
        if emails.is_empty() {
            return Vec::new();
        }
        let (reporter, outcomes) = Reporter::new(emails.len());
        let batch = Batch {
            emails: emails.iter().map(InvitationEmail::from).collect(),
            outcomes: reporter,
        };
        let status = self
            .function
            .call(batch, ThreadsafeFunctionCallMode::NonBlocking);
        if status != Status::Ok {
            let message = format!("the mailer could not be called ({status})");
            return emails
                .iter()
                .map(|_| Err(MailError(message.clone())))
                .collect();
        }
        self.collect(&outcomes)
            .into_iter()
            .map(|outcome| outcome.map_err(MailError))
            .collect()
    }
}

type JsFunction<'a> = Function<'a, InvitationEmail, Unknown<'static>>;

/// What `dispatchOutbox` accepts (sorted out by `delivery`).
type MailerArg<'a> = Either4<ClassInstance<'a, BuiltIn>, JsFunction<'a>, Object<'a>, Unknown<'a>>;

fn bad_mailer() -> CoreError {
    invalid_config(
        "the mailer must be a function, an object with a `send` method, a `Mailer`, or a mailer configuration with a `kind`",
    )
}

/// The mailer a dispatch run delivers through.
enum Delivery {
    /// JavaScript code, called on the JS thread.
    Js(JsMailer),
    /// A built-in mailer, built already.
    Native(Arc<dyn Mailer>),
    /// A built-in mailer's configuration, built on the dispatch's thread.
    Planned(MailerPlan),
}

impl Delivery {
    /// Runs the dispatch through this mailer (on the dispatch's thread).
    fn dispatch(self, service: &invite_core::InviteService) -> Result<CoreReport, CoreError> {
        match self {
            Delivery::Js(mailer) => service.dispatch_outbox(&mailer),
            Delivery::Native(mailer) => service.dispatch_outbox(&*mailer),
            Delivery::Planned(plan) => service.dispatch_outbox(&*plan.build()?),
        }
    }
}

/// Holds the JS mailer for the dispatch thread: a threadsafe function whose callback starts a whole
/// batch on the JS thread (`start_batch`).
fn threadsafe(env: &Env, f: &JsFunction<'_>, timeout: Duration) -> Result<Delivery, CoreError> {
    let cannot =
        |e: napi::Error| CoreError::internal(format!("cannot hold the mailer: {}", e.reason));
    let mailer = f.create_ref().map_err(cannot)?;
    let runner: Function<'_, (), ()> = env
        .create_function_from_closure("inviteCoreMailerBatch", |_| Ok(()))
        .map_err(cannot)?;
    let function = runner
        .build_threadsafe_function::<Batch>()
        .callee_handled::<false>()
        .build_callback(move |ctx: ThreadsafeCallContext<Batch>| {
            // No panic may unwind into the JS thread's callback: on one, the batch's
            // senders drop and its emails fail as "outcome lost".
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                start_batch(&ctx.env, &mailer, ctx.value)
            }));
            Ok(())
        })
        .map_err(cannot)?;
    Ok(Delivery::Js(JsMailer { function, timeout }))
}

/// Sorts out what `dispatchOutbox` was given: a function, a `Mailer`, an object with a
/// `send` method (called with its `this`), or a configuration object (one with a
/// `kind` and no `send`).
fn delivery(env: &Env, mailer: MailerArg<'_>, timeout: Duration) -> Result<Delivery, CoreError> {
    match mailer {
        Either4::A(built) => Ok(Delivery::Native(built.inner.clone())),
        Either4::B(f) => threadsafe(env, &f, timeout),
        Either4::C(object) => {
            let send: Unknown<'_> = object
                .get_named_property("send")
                .map_err(|_| bad_mailer())?;
            match send.get_type().map_err(|_| bad_mailer())? {
                ValueType::Function => {
                    let send: JsFunction<'_> = object
                        .get_named_property("send")
                        .map_err(|_| bad_mailer())?;
                    let bound = send.bind(object).map_err(|_| bad_mailer())?;
                    threadsafe(env, &bound, timeout)
                }
                ValueType::Undefined if object.has_named_property("kind").unwrap_or(false) => {
                    MailerPlan::read(&object, None).map(Delivery::Planned)
                }
                _ => Err(bad_mailer()),
            }
        }
        Either4::D(_) => Err(bad_mailer()),
    }
}

/// The mailer timeout from `dispatchOutbox`'s options, read without throwing: options
/// that are not an object of known names, or a `timeoutSeconds` that is not a positive
/// number (a string from `process.env`, say), reject the call's Promise instead of
/// throwing, so `setInterval(() => dispatchOutbox(…).catch(…))` never crashes.
fn timeout(options: Option<Unknown<'_>>) -> Result<Duration, CoreError> {
    let bad = || {
        crate::error::invalid_field(
            "timeout_seconds",
            invite_core::FieldCode::OutOfRange,
            "the mailer timeout must be a positive number of seconds",
        )
    };
    let unreadable = |_| invalid_config("the dispatch options cannot be read");
    let seconds = match options {
        None => DEFAULT_TIMEOUT_SECONDS,
        Some(value) => match value.get_type().map_err(unreadable)? {
            ValueType::Undefined | ValueType::Null => DEFAULT_TIMEOUT_SECONDS,
            ValueType::Object => {
                let object = Object::from_unknown(value).map_err(unreadable)?;
                only(&object, &["timeoutSeconds"], "dispatchOutbox")?;
                let timeout: Unknown<'_> = object
                    .get_named_property("timeoutSeconds")
                    .map_err(unreadable)?;
                match timeout.get_type().map_err(unreadable)? {
                    ValueType::Undefined | ValueType::Null => DEFAULT_TIMEOUT_SECONDS,
                    ValueType::Number => f64::from_unknown(timeout).map_err(unreadable)?,
                    _ => return Err(bad()),
                }
            }
            _ => return Err(invalid_config("the dispatch options must be an object")),
        },
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(bad)
}

#[napi]
impl InviteService {
    /// Delivers every due outbox email through `mailer`:
    /// - an async function receiving an `InvitationEmail`, or an object with such a `send`
    ///   method: a rejected promise or a thrown error is a delivery failure;
    /// - a built-in `Mailer` (`Mailer.fromConfig`, `Mailer.file`, `Mailer.smtp`);
    /// - or a built-in mailer's configuration (`{ kind: 'file', dir }`,
    ///   `{ kind: 'smtp', host, port, tls, from, … }`), checked on every call: a bad one
    ///   rejects with `INVALID_CONFIG` before anything is claimed.
    ///
    /// A JavaScript mailer is called for every email of a claimed batch (up to 100) in
    /// outbox order, each call starting right after the previous one returned (not after
    /// its promise settled): the emails of a batch are in flight together. Failed
    /// deliveries are retried with backoff and visible on the invitation, never a crash.
    /// `options.timeoutSeconds` bounds a JavaScript mailer: an email of a batch not
    /// settled that long after the batch started is a failed attempt (an SMTP mailer has
    /// its own `timeoutSeconds`). Resolves with what was delivered, retried and failed.
    ///
    /// Always runs on a thread of its own, even with `execution: 'inline'`: a JavaScript
    /// mailer may be async, and the event loop must keep turning while the dispatch
    /// waits for it; nor does the wait hold a libuv pool thread that the mailer's own
    /// I/O (`fs`, `dns.lookup`) may need.
    #[napi(
        catch_unwind,
        ts_args_type = "mailer: ((email: InvitationEmail) => unknown) | { send(email: InvitationEmail): unknown } | Mailer | FileMailerConfig | SmtpMailerConfig, options?: DispatchOptions | undefined | null",
        ts_return_type = "Promise<DispatchReport>"
    )]
    pub fn dispatch_outbox(
        &self,
        env: Env,
        mailer: MailerArg<'_>,
        options: Option<Unknown<'_>>,
    ) -> Call<DispatchReport> {
        let mailer = timeout(options).and_then(|t| delivery(&env, mailer, t));
        if mailer.is_err() {
            // A throwing getter or proxy trap left its exception pending: the failure goes
            // to the Promise, and nothing may be thrown besides.
            clear_pending_exception(&env);
        }
        self.on_own_thread(move |s| mailer?.dispatch(s).map(DispatchReport::from))
    }
}
