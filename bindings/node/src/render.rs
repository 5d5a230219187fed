//! Email templates from JavaScript (`InviteService.open({ renderer })`), as Python's
//! `renderer=` and Rust's `EmailRenderer` are: a function (or an object with `render`)
//! that turns an `EmailContext` into `{ subject, text, html, locale? }`, and
//! `renderDefaultEmail(context)`, the built-in templates, to start from.
//!
//! The core renders each email a dispatch claimed, after the claim committed and
//! outside any store transaction, on the dispatch's own thread: the context goes to the
//! JS thread through a weak threadsafe function and the dispatch waits for the answer
//! (at most `ANSWER_TIMEOUT`). A renderer that throws, answers anything else (a Promise
//! included) or does not answer in time leaves that email to the built-in templates,
//! with a process warning (`code` `EMAIL_RENDERER_FAILED`) when it threw or answered
//! wrong: a broken template never blocks delivery.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use invite_core::Error as CoreError;
use invite_core::mail::{
    DefaultTemplates, EmailContext as CoreContext, EmailRenderer, RenderedEmail as CoreRendered,
};
use napi::bindgen_prelude::{FromNapiValue, FunctionRef, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

use crate::convert::JsInstant;
use crate::error::{clear_pending_exception, invalid_config, warn};
use crate::js_thread::{Asked, JsThread, guard};
use crate::shape::{Args, Prop, Shape, Shaped, to_napi_by_shape};

/// The warning code of a renderer that threw or answered something else.
const RENDERER_FAILED: &str = "EMAIL_RENDERER_FAILED";

/// How long a dispatch waits for the JS thread to render one email.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What a renderer receives. Every value is plain text: an HTML template must escape
/// it. `console.log` shows `'<redacted>'` for `acceptLink` (it carries a live token).
#[napi(object, use_nullable = true, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct EmailContext {
    /// The inviter's name.
    pub inviter_name: String,
    /// The invitee's name, if known.
    pub invitee_name: Option<String>,
    /// The business.
    pub business_name: String,
    /// The app.
    pub app_name: String,
    /// The role granted.
    pub role_name: String,
    /// When the link expires (given to `renderDefaultEmail`: an Invalid Date, or one
    /// outside the years 1 to 9999, is `VALIDATION_FAILED`, `expires_at` /
    /// `OUT_OF_RANGE`).
    #[napi(ts_type = "Date")]
    pub expires_at: JsInstant,
    /// The accept link.
    pub accept_link: String,
    /// The requested locale (`null`: the default).
    pub locale: Option<String>,
}

impl From<&CoreContext> for EmailContext {
    fn from(c: &CoreContext) -> Self {
        EmailContext {
            inviter_name: c.inviter_name.clone(),
            invitee_name: c.invitee_name.clone(),
            business_name: c.business_name.clone(),
            app_name: c.app_name.clone(),
            role_name: c.role_name.clone(),
            expires_at: JsInstant::from(c.expires_at),
            accept_link: c.accept_link.clone(),
            locale: c.locale.clone(),
        }
    }
}

impl TryFrom<EmailContext> for CoreContext {
    type Error = CoreError;

    fn try_from(c: EmailContext) -> Result<Self, CoreError> {
        Ok(CoreContext {
            inviter_name: c.inviter_name,
            invitee_name: c.invitee_name,
            business_name: c.business_name,
            app_name: c.app_name,
            role_name: c.role_name,
            expires_at: c.expires_at.to_utc("expires_at")?,
            accept_link: c.accept_link,
            locale: c.locale,
        })
    }
}

/// `EmailContext`'s properties, in field order (built by `shape`).
pub const EMAIL_CONTEXT: &[Prop] = &[
    Prop::Value("inviterName"),
    Prop::Value("inviteeName"),
    Prop::Value("businessName"),
    Prop::Value("appName"),
    Prop::Value("roleName"),
    Prop::Value("expiresAt"),
    Prop::Value("acceptLink"),
    Prop::Value("locale"),
];

impl Shaped for EmailContext {
    const SHAPE: Shape = Shape::EmailContext;

    /// Pushes the values of `EMAIL_CONTEXT`.
    fn push(self, args: &mut Args) -> napi::Result<()> {
        let EmailContext {
            inviter_name,
            invitee_name,
            business_name,
            app_name,
            role_name,
            expires_at,
            accept_link,
            locale,
        } = self;
        args.string(&inviter_name)?;
        args.nullable_string(invitee_name.as_deref())?;
        args.string(&business_name)?;
        args.string(&app_name)?;
        args.string(&role_name)?;
        args.value(expires_at)?;
        args.string(&accept_link)?;
        args.nullable_string(locale.as_deref())
    }
}

to_napi_by_shape!(EmailContext);

/// A rendered email: what a renderer answers (`locale` optional: the language actually
/// used; default the requested locale, else `'en'`) and what `renderDefaultEmail`
/// returns (`locale` always set). Values go out as given: escape context values in
/// `html`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The language of the email.
    pub locale: Option<Option<String>>,
}

impl RenderedEmail {
    /// The core's rendered email, with the locale `context` asked for when none is given.
    fn into_core(self, context: &CoreContext) -> CoreRendered {
        CoreRendered {
            subject: self.subject,
            text: self.text,
            html: self.html,
            locale: self
                .locale
                .flatten()
                .or_else(|| context.locale.clone())
                .unwrap_or_else(|| DefaultTemplates::LANGUAGES[0].to_owned()),
        }
    }
}

/// The email the built-in templates render for `context` (English, French, German by
/// the locale's primary subtag; English otherwise). A renderer can start from it.
/// An `expiresAt` that is no valid Date in the years 1 to 9999 throws
/// `VALIDATION_FAILED` (`expires_at`, `OUT_OF_RANGE`).
#[napi(catch_unwind, strict)]
#[cfg_attr(test, allow(dead_code, reason = "called from JavaScript only"))]
pub fn render_default_email(env: Env, context: EmailContext) -> napi::Result<RenderedEmail> {
    crate::error::sync(&env, || {
        let rendered = DefaultTemplates.render(&CoreContext::try_from(context)?);
        Ok(RenderedEmail {
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            locale: Some(Some(rendered.locale)),
        })
    })
}

/// The guarded renderer (see `guard`: a throw is reported and answers `false`), and
/// whether its last call threw, which tells that `false` from one the renderer itself
/// answered.
struct Render {
    function: FunctionRef<EmailContext, Unknown<'static>>,
    threw: Arc<AtomicBool>,
}

/// The core's `EmailRenderer` backed by a JS function.
struct JsRenderer {
    render: Arc<Render>,
    /// Emails to render from a dispatch's thread, answered by `rendered`.
    queue: JsThread<Asked<CoreContext, Option<CoreRendered>>>,
}

impl EmailRenderer for JsRenderer {
    fn render(&self, context: &CoreContext) -> CoreRendered {
        self.ask(context)
            .unwrap_or_else(|| DefaultTemplates.render(context))
    }
}

impl JsRenderer {
    /// The renderer's email for `context`, rendered on the JS thread (`None`: use the
    /// built-in templates).
    fn ask(&self, context: &CoreContext) -> Option<CoreRendered> {
        match self.queue.here() {
            Some(env) => rendered(&env, &self.render, context),
            None => self.queue.ask(context.clone(), ANSWER_TIMEOUT).flatten(),
        }
    }
}

/// On the JS thread: calls the guarded renderer and reads its answer.
fn rendered(env: &Env, render: &Render, context: &CoreContext) -> Option<CoreRendered> {
    render.threw.store(false, Ordering::Relaxed);
    let called = std::panic::catch_unwind(AssertUnwindSafe(|| {
        render
            .function
            .borrow_back(env)
            .and_then(|f| f.call(EmailContext::from(context)))
    }));
    let answer = match called {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => {
            warn(env, RENDERER_FAILED, &failed(&error.reason));
            return None;
        }
        Err(_) => return None,
    };
    match answer.get_type() {
        // The guard's answer for a throw it already reported.
        Ok(ValueType::Boolean) if render.threw.load(Ordering::Relaxed) => None,
        Ok(ValueType::Object) => match RenderedEmail::from_unknown(answer) {
            Ok(email) => Some(email.into_core(context)),
            Err(error) => {
                // A throwing getter of the answer left its exception pending.
                clear_pending_exception(env);
                warn(
                    env,
                    RENDERER_FAILED,
                    &failed(&format!(
                        "it must answer {{ subject, text, html }} strings ({})",
                        error.reason
                    )),
                );
                None
            }
        },
        _ => {
            warn(
                env,
                RENDERER_FAILED,
                &failed("it must answer { subject, text, html } strings"),
            );
            None
        }
    }
}

/// The warning for a renderer that failed (`why`).
fn failed(why: &str) -> String {
    format!("the email renderer failed, so the built-in templates were used: {why}")
}

/// Holds `renderer` (a function, or an object with a `render` method) for the
/// dispatches (on the JS thread, while `open` reads its options); `INVALID_CONFIG` for
/// anything else.
pub fn email_renderer(renderer: Unknown<'_>) -> Result<Arc<dyn EmailRenderer>, CoreError> {
    let bad =
        || invalid_config("`renderer` must be a function, or an object with a `render` method");
    let env = Env::from_raw(renderer.value().env);
    let (render, this): (Unknown<'_>, Unknown<'_>) = match renderer.get_type().map_err(|_| bad())? {
        ValueType::Function => (renderer, renderer),
        ValueType::Object => {
            let object = Object::from_unknown(renderer).map_err(|_| bad())?;
            let render: Unknown<'_> = object.get_named_property("render").map_err(|_| bad())?;
            if render.get_type().map_err(|_| bad())? != ValueType::Function {
                return Err(bad());
            }
            (render, renderer)
        }
        _ => return Err(bad()),
    };
    let cannot =
        |e: napi::Error| CoreError::internal(format!("cannot hold the renderer: {}", e.reason));
    let threw = Arc::new(AtomicBool::new(false));
    let reported = Arc::clone(&threw);
    let function = guard(
        &env,
        render,
        this,
        "inviteCoreRendererFailed",
        move |env, why| {
            reported.store(true, Ordering::Relaxed);
            warn(env, RENDERER_FAILED, &failed(why));
        },
    )
    .map_err(cannot)?;
    let render = Arc::new(Render { function, threw });
    let shared = Arc::clone(&render);
    let queue = JsThread::answering(&env, "inviteCoreRenderer", move |env, context| {
        rendered(env, &shared, &context)
    })
    .map_err(cannot)?;
    Ok(Arc::new(JsRenderer { render, queue }))
}
