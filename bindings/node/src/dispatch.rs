//! Outbox dispatch, through a mailer written in JavaScript or a built-in one.
//!
//! A dispatch always runs on the libuv pool, whatever the service's execution mode: the
//! core's dispatcher calls the mailer synchronously, once per claimed batch
//! (`Mailer::send_batch`, up to 100 emails). A JS mailer (a function, or an object with
//! `send`) is reached through ONE threadsafe-function call per batch: on the JS thread
//! the function is called for every email in order, without waiting in between, and the
//! worker waits for all of them to settle. A returned Promise is awaited; a rejection, a
//! synchronous throw, or no answer within the timeout fails that email only (retried by
//! the outbox), never a crash. A built-in mailer (a `Mailer`, or its configuration
//! object) runs entirely on the pool.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use invite_core::mail::{InvitationEmail as CoreEmail, MailError, Mailer};
use invite_core::service::DispatchReport as CoreReport;
use invite_core::{Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{
    CallbackContext, ClassInstance, Either, Either4, FromNapiValue, Function, FunctionRef,
    JsObjectValue, JsValue, Object, PromiseRaw, ToNapiValue, Unknown,
};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status, ValueType, sys};
use napi_derive::napi;

use crate::config::Execution;
use crate::mailer::{Mailer as BuiltIn, MailerPlan};
use crate::service::InviteService;
use crate::task::Call;

/// Default time a mailer has to settle the emails of one batch.
const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

/// One invitation email, ready for delivery: what a JS mailer receives.
#[napi(object)]
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
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DispatchOptions {
    /// Seconds a JavaScript mailer has to settle the emails of one batch (all started
    /// together) before those still unsettled count as failed attempts (default 30).
    pub timeout_seconds: Option<Option<f64>>,
}

/// What the JS mailer returned: a promise to await, or any other value (success).
type MailerReturn = Either<PromiseRaw<'static, Unknown<'static>>, Unknown<'static>>;

/// One outcome per email of a batch: `Err` carries the reason recorded on the invitation.
type Outcome = Result<(), String>;

/// A batch handed to the JS thread: the emails, in outbox order, and where each email's
/// outcome goes (tagged with its index).
struct Batch {
    emails: Vec<InvitationEmail>,
    outcomes: mpsc::Sender<(usize, Outcome)>,
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

/// The message of a rejection or throw, read without running user code (`fallback` when
/// it has none).
fn reason(value: Unknown<'_>, fallback: &str) -> String {
    let reason = napi::Error::from_unknown_without_coercion(value).reason;
    if reason.is_empty() {
        fallback.to_owned()
    } else {
        reason
    }
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
            // SAFETY: `returned` is the call's result in this env.
            unsafe { MailerReturn::from_napi_value(raw_env, returned) }
                .map_err(|e| format!("the mailer's return value could not be read: {}", e.reason))
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

/// On the JS thread: turns the mailer's return value for email `index` into its outcome
/// on `tx`, now (a throw, a plain value) or when the returned promise settles.
fn settle(
    index: usize,
    returned: Result<MailerReturn, String>,
    tx: mpsc::Sender<(usize, Outcome)>,
) {
    match returned {
        Err(message) => {
            let _ = tx.send((index, Err(message)));
        }
        Ok(Either::B(_)) => {
            let _ = tx.send((index, Ok(())));
        }
        Ok(Either::A(promise)) => {
            let on_reject = tx.clone();
            let on_fail = tx.clone();
            let attached = promise
                .then(move |_| {
                    let _ = tx.send((index, Ok(())));
                    Ok(())
                })
                .and_then(|next| {
                    next.catch(move |ctx: CallbackContext<Unknown<'_>>| {
                        let _ =
                            on_reject.send((index, Err(reason(ctx.value, "the mailer failed"))));
                        Ok(())
                    })
                });
            if let Err(error) = attached {
                let _ = on_fail.send((
                    index,
                    Err(format!("the mailer's promise failed: {}", error.reason)),
                ));
            }
        }
    }
}

/// On the JS thread: starts every email of `batch`, in order, each call starting
/// synchronously after the previous one returned (a mailer that pushes into an array
/// sees the outbox order). Outcomes arrive on the batch's channel as they settle.
fn start_batch(env: &Env, mailer: &FunctionRef<InvitationEmail, MailerReturn>, batch: Batch) {
    let Batch { emails, outcomes } = batch;
    let mailer = match mailer.borrow_back(env) {
        Ok(mailer) => mailer,
        Err(error) => {
            let message = format!("the mailer could not be called ({})", error.reason);
            for index in 0..emails.len() {
                let _ = outcomes.send((index, Err(message.clone())));
            }
            return;
        }
    };
    for (index, email) in emails.into_iter().enumerate() {
        settle(index, call_mailer(env, &mailer, email), outcomes.clone());
    }
}

impl JsMailer {
    /// Waits until every email of a batch of `count` has an outcome, or the timeout: an
    /// email still unsettled then is a failed attempt (its late outcome is ignored).
    fn collect(&self, count: usize, rx: &mpsc::Receiver<(usize, Outcome)>) -> Vec<Outcome> {
        // A timeout too far out to be an instant is no deadline at all.
        let deadline = Instant::now().checked_add(self.timeout);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; count];
        let mut pending = count;
        let mut lost = false;
        while pending > 0 {
            let received = match deadline {
                Some(deadline) => {
                    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                }
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match received {
                Ok((index, outcome)) => {
                    if let Some(slot @ None) = outcomes.get_mut(index) {
                        *slot = Some(outcome);
                        pending -= 1;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    lost = true;
                    break;
                }
            }
        }
        outcomes
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
        let (tx, rx) = mpsc::channel();
        let batch = Batch {
            emails: emails.iter().map(InvitationEmail::from).collect(),
            outcomes: tx,
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
        self.collect(emails.len(), &rx)
            .into_iter()
            .map(|outcome| outcome.map_err(MailError))
            .collect()
    }
}

type JsFunction<'a> = Function<'a, InvitationEmail, MailerReturn>;

/// What `dispatchOutbox` accepts (sorted out by `delivery`).
type MailerArg<'a> = Either4<ClassInstance<'a, BuiltIn>, JsFunction<'a>, Object<'a>, Unknown<'a>>;

fn bad_mailer() -> CoreError {
    CoreError::new(
        ErrorCode::InvalidConfig,
        "the mailer must be a function, an object with a `send` method, a `Mailer`, or a mailer configuration with a `kind`",
    )
}

/// The mailer a dispatch run delivers through.
enum Delivery {
    /// JavaScript code, called on the JS thread.
    Js(JsMailer),
    /// A built-in mailer, built already.
    Native(Arc<dyn Mailer>),
    /// A built-in mailer's configuration, built on the pool.
    Planned(MailerPlan),
}

impl Delivery {
    /// Runs the dispatch through this mailer (on the pool).
    fn dispatch(self, service: &invite_core::InviteService) -> Result<CoreReport, CoreError> {
        match self {
            Delivery::Js(mailer) => service.dispatch_outbox(&mailer),
            Delivery::Native(mailer) => service.dispatch_outbox(&*mailer),
            Delivery::Planned(plan) => service.dispatch_outbox(&*plan.build()?),
        }
    }
}

/// Holds the JS mailer for the pool: a threadsafe function whose callback starts a whole
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

fn timeout(options: Option<&DispatchOptions>) -> Result<Duration, CoreError> {
    let seconds = options
        .and_then(|o| o.timeout_seconds.flatten())
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            crate::error::invalid_field(
                "timeout_seconds",
                invite_core::FieldCode::OutOfRange,
                "the mailer timeout must be a positive number of seconds",
            )
        })
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
    /// Always runs on the libuv pool, even with `execution: 'inline'`: a JavaScript
    /// mailer may be async, and the event loop must keep turning while the dispatch
    /// waits for it.
    #[napi(
        catch_unwind,
        ts_args_type = "mailer: ((email: InvitationEmail) => unknown) | { send(email: InvitationEmail): unknown } | Mailer | FileMailerConfig | SmtpMailerConfig, options?: DispatchOptions | undefined | null",
        ts_return_type = "Promise<DispatchReport>"
    )]
    pub fn dispatch_outbox(
        &self,
        env: Env,
        mailer: MailerArg<'_>,
        options: Option<DispatchOptions>,
    ) -> Call<DispatchReport> {
        let mailer = timeout(options.as_ref()).and_then(|t| delivery(&env, mailer, t));
        self.run_in(Execution::ThreadPool, move |s| {
            mailer?.dispatch(s).map(DispatchReport::from)
        })
    }
}
