//! Outbox dispatch through a mailer written in JavaScript.
//!
//! The core's dispatcher runs on the libuv pool and calls `Mailer::send` synchronously.
//! The JS mailer (a function, or an object with `send`) is called on the JS thread
//! through a threadsafe function; the worker waits for its outcome. A returned Promise
//! is awaited; a rejection, a synchronous throw, or no answer within the timeout is a
//! delivery failure (retried by the outbox), never a crash.

use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use invite_core::mail::{InvitationEmail as CoreEmail, MailError, Mailer};
use invite_core::service::DispatchReport as CoreReport;
use invite_core::{Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{
    AsyncTask, CallbackContext, Either, Either3, Function, JsObjectValue, Object, PromiseRaw,
    Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Status, ValueType};
use napi_derive::napi;

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

fn bad_mailer() -> CoreError {
    CoreError::new(
        ErrorCode::InvalidConfig,
        "the mailer must be a function or an object with a `send` method",
    )
}

/// Builds the threadsafe mailer from a function or an object with `send`.
fn js_mailer(
    mailer: Either3<JsFunction<'_>, Object<'_>, Unknown<'_>>,
    timeout: Duration,
) -> Result<JsMailer, CoreError> {
    let build = |f: &JsFunction<'_>| {
        f.build_threadsafe_function::<InvitationEmail>()
            .callee_handled::<false>()
            .build()
            .map_err(|e| CoreError::internal(format!("cannot hold the mailer: {}", e.reason)))
    };
    let function = match mailer {
        Either3::A(f) => build(&f)?,
        Either3::B(object) => {
            let send: Unknown<'_> = object
                .get_named_property("send")
                .map_err(|_| bad_mailer())?;
            if send.get_type().map_err(|_| bad_mailer())? != ValueType::Function {
                return Err(bad_mailer());
            }
            let send: JsFunction<'_> = object
                .get_named_property("send")
                .map_err(|_| bad_mailer())?;
            let bound = send.bind(object).map_err(|_| bad_mailer())?;
            build(&bound)?
        }
        Either3::C(_) => return Err(bad_mailer()),
    };
    Ok(JsMailer { function, timeout })
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
    /// Delivers every due outbox email through `mailer`: an async function receiving an
    /// `InvitationEmail`, or an object with such a `send` method. A rejected promise or a
    /// thrown error is a delivery failure (retried with backoff, visible on the
    /// invitation), never a crash. Resolves with what was delivered, retried and failed.
    #[napi(
        catch_unwind,
        ts_args_type = "mailer: ((email: InvitationEmail) => unknown) | { send(email: InvitationEmail): unknown }, options?: DispatchOptions | undefined | null",
        ts_return_type = "Promise<DispatchReport>"
    )]
    pub fn dispatch_outbox(
        &self,
        mailer: Either3<JsFunction<'_>, Object<'_>, Unknown<'_>>,
        options: Option<DispatchOptions>,
    ) -> AsyncTask<Job<DispatchReport>> {
        let mailer = timeout(options.as_ref()).and_then(|t| js_mailer(mailer, t));
        self.run(move |s| {
            let mailer = mailer?;
            s.dispatch_outbox(&mailer).map(DispatchReport::from)
        })
    }
}
