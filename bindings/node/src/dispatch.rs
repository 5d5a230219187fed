//! Outbox dispatch, through a mailer written in JavaScript or a built-in one.
//!
//! The core's dispatcher runs on the libuv pool and calls `Mailer::send` synchronously.
//! A JS mailer (a function, or an object with `send`) is called on the JS thread
//! through a threadsafe function; the worker waits for its outcome. A returned Promise
//! is awaited; a rejection, a synchronous throw, or no answer within the timeout is a
//! delivery failure (retried by the outbox), never a crash. A built-in mailer (a
//! `Mailer`, or its configuration object) runs entirely on the pool.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use chrono::{DateTime, Utc};
use invite_core::mail::{InvitationEmail as CoreEmail, MailError, Mailer};
use invite_core::service::DispatchReport as CoreReport;
use invite_core::{Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{
    AsyncTask, CallbackContext, ClassInstance, Either, Either4, Function, JsObjectValue, Object,
    PromiseRaw, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Status, ValueType};
use napi_derive::napi;

use crate::mailer::{Mailer as BuiltIn, MailerPlan};
use crate::service::InviteService;
use crate::task::Job;

/// Default time a mailer has to settle one email.
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
    /// Seconds the mailer has to settle one email before it counts as failed (default 30).
    pub timeout_seconds: Option<Option<f64>>,
}

/// What the JS mailer returned: a promise to await, or any other value (success).
type MailerReturn = Either<PromiseRaw<'static, Unknown<'static>>, Unknown<'static>>;
type MailerFn =
    ThreadsafeFunction<InvitationEmail, MailerReturn, InvitationEmail, Status, false, false, 0>;

/// The `Mailer` port backed by a JS function.
struct JsMailer {
    function: MailerFn,
    timeout: Duration,
}

type Outcome = Result<(), String>;

/// The message of a rejection or throw, read without running user code.
fn reason(value: Unknown<'_>) -> String {
    let reason = napi::Error::from_unknown_without_coercion(value).reason;
    if reason.is_empty() {
        "the mailer failed".to_owned()
    } else {
        reason
    }
}

/// On the JS thread: turns the mailer's return value into one outcome on `tx`.
fn settle(returned: napi::Result<MailerReturn>, tx: mpsc::Sender<Outcome>) {
    match returned {
        Err(error) => {
            let message = if error.reason.is_empty() {
                "the mailer threw".to_owned()
            } else {
                error.reason.clone()
            };
            let _ = tx.send(Err(message));
        }
        Ok(Either::B(_)) => {
            let _ = tx.send(Ok(()));
        }
        Ok(Either::A(promise)) => {
            let on_reject = tx.clone();
            let on_fail = tx.clone();
            let attached = promise
                .then(move |_| {
                    let _ = tx.send(Ok(()));
                    Ok(())
                })
                .and_then(|next| {
                    next.catch(move |ctx: CallbackContext<Unknown<'_>>| {
                        let _ = on_reject.send(Err(reason(ctx.value)));
                        Ok(())
                    })
                });
            if let Err(error) = attached {
                let _ = on_fail.send(Err(format!(
                    "the mailer's promise failed: {}",
                    error.reason
                )));
            }
        }
    }
}

impl Mailer for JsMailer {
    fn send(&self, email: &CoreEmail) -> Result<(), MailError> {
        let (tx, rx) = mpsc::channel::<Outcome>();
        let status = self.function.call_with_return_value(
            InvitationEmail::from(email),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |returned, _env| {
                settle(returned, tx);
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(MailError(format!(
                "the mailer could not be called ({status})"
            )));
        }
        match rx.recv_timeout(self.timeout) {
            Ok(outcome) => outcome.map_err(MailError),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(MailError(format!(
                "the mailer did not settle within {} seconds",
                self.timeout.as_secs_f64()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(MailError("the mailer's outcome was lost".to_owned()))
            }
        }
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

fn threadsafe(f: &JsFunction<'_>, timeout: Duration) -> Result<Delivery, CoreError> {
    let function = f
        .build_threadsafe_function::<InvitationEmail>()
        .callee_handled::<false>()
        .build()
        .map_err(|e| CoreError::internal(format!("cannot hold the mailer: {}", e.reason)))?;
    Ok(Delivery::Js(JsMailer { function, timeout }))
}

/// Sorts out what `dispatchOutbox` was given: a function, a `Mailer`, an object with a
/// `send` method (called with its `this`), or a configuration object (one with a
/// `kind` and no `send`).
fn delivery(mailer: MailerArg<'_>, timeout: Duration) -> Result<Delivery, CoreError> {
    match mailer {
        Either4::A(built) => Ok(Delivery::Native(built.inner.clone())),
        Either4::B(f) => threadsafe(&f, timeout),
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
                    threadsafe(&bound, timeout)
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
    /// Failed deliveries are retried with backoff and visible on the invitation, never a
    /// crash. `options.timeoutSeconds` bounds a JavaScript mailer (an SMTP mailer has its
    /// own `timeoutSeconds`). Resolves with what was delivered, retried and failed.
    #[napi(
        catch_unwind,
        ts_args_type = "mailer: ((email: InvitationEmail) => unknown) | { send(email: InvitationEmail): unknown } | Mailer | FileMailerConfig | SmtpMailerConfig, options?: DispatchOptions | undefined | null",
        ts_return_type = "Promise<DispatchReport>"
    )]
    pub fn dispatch_outbox(
        &self,
        mailer: MailerArg<'_>,
        options: Option<DispatchOptions>,
    ) -> AsyncTask<Job<DispatchReport>> {
        let mailer = timeout(options.as_ref()).and_then(|t| delivery(mailer, t));
        self.run(move |s| mailer?.dispatch(s).map(DispatchReport::from))
    }
}
