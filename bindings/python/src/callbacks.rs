//! Python objects the core calls back: the event hook and the email renderer (the
//! authorization policy, which shares their slots and reporting, is `policy.rs`).
//!
//! - The **event hook** (`event_hook=callable`) is called after each commit with the
//!   committed events (a `list[Event]`, oldest first), on the thread that made the call,
//!   before that call returns. The events are committed whatever the hook does: an
//!   `Exception` it raises is logged (logger `invite_core`, level ERROR, with the
//!   traceback) and otherwise ignored.
//! - The **renderer** (`renderer=obj`, `obj.render(context) -> {"subject", "text",
//!   "html"[, "locale"]}`) is called by a dispatch for each email it claimed, after the
//!   claim committed (outside any store transaction, so it may call the service). An
//!   `Exception` it raises, or an answer of the wrong shape, is logged the same way and
//!   the email is rendered with the default templates instead: a broken template never
//!   blocks delivery.
//! - A `BaseException` that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`)
//!   raised by either (or by a mailer) stops every Python callback for the rest of the call and is
//!   re-raised when the call returns; what was committed stays committed.
//!
//! The service keeps the callables in [`Callback`] slots it shares with the core, so
//! Python's garbage collector can see and break cycles such as a hook that is a bound
//! method of an object holding the service.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use invite_core::Event;
use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer, RenderedEmail};
use invite_core::service::EventHook;
use pyo3::PyTraverseError;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};

use crate::convert::{Text, UtcTime, opt_text, record, wrapper};
use crate::invitation::PyEvent;

thread_local! {
    /// A `BaseException` raised by a callback during the current call on this thread.
    static INTERRUPT: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Keeps the first interrupt of the current call, to re-raise when it returns.
pub(crate) fn defer_interrupt(err: PyErr) {
    INTERRUPT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
    });
}

/// Whether a callback of the current call was interrupted (no more callbacks then).
pub(crate) fn interrupted() -> bool {
    INTERRUPT.with(|slot| slot.borrow().is_some())
}

/// The interrupt to re-raise now that the call returns, if any.
pub(crate) fn take_interrupt() -> Option<PyErr> {
    INTERRUPT.with(|slot| slot.borrow_mut().take())
}

/// Refuses an `async def` callback (`what` names it): the core calls back synchronously,
/// so the coroutine it returns would never run.
pub(crate) fn refuse_async(
    py: Python<'_>,
    callback: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<()> {
    let inspect = py.import("inspect")?;
    if inspect
        .call_method1("iscoroutinefunction", (callback,))?
        .is_truthy()?
    {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a plain function, not `async def`: it is called synchronously, \
             so its coroutine would never run"
        )));
    }
    Ok(())
}

/// Checks that `target` (a `what`) has the plain method `call` names (`send(email)`):
/// a `TypeError` if it is missing, not callable, or `async def`.
pub(crate) fn sync_method(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    what: &str,
    call: &str,
) -> PyResult<()> {
    let name = call.split('(').next().unwrap_or(call);
    let method = target
        .getattr(name)
        .ok()
        .filter(|m| m.is_callable())
        .ok_or_else(|| {
            PyTypeError::new_err(format!("{what} must have a callable `{call}` method"))
        })?;
    refuse_async(py, &method, &format!("the {what}'s `{name}`"))
}

/// Whether a callback's answer is awaitable (a coroutine, a future): what an async
/// callable returns, whose work never ran. A coroutine is closed, so Python does not
/// also warn that it was never awaited.
pub(crate) fn discard_awaitable(answer: &Bound<'_, PyAny>) -> bool {
    if answer.is_none() || !answer.hasattr("__await__").unwrap_or(false) {
        return false;
    }
    if answer.hasattr("close").unwrap_or(false) {
        let _ = answer.call_method0("close");
    }
    true
}

/// The exception's message (`str(exc)`), or its class name when that is empty.
pub(crate) fn failure_message(py: Python<'_>, err: &PyErr) -> String {
    match err.value(py).str().map(|s| s.to_string()) {
        Ok(text) if !text.trim().is_empty() => text,
        _ => err
            .get_type(py)
            .name()
            .map_or_else(|_| "callback failed".to_owned(), |n| n.to_string()),
    }
}

/// An `Exception` is logged (`invite_core` logger, ERROR, with its traceback); any other
/// `BaseException` is kept to re-raise when the call returns.
pub(crate) fn report(py: Python<'_>, err: PyErr, what: &str) {
    if !err.is_instance_of::<PyException>(py) {
        defer_interrupt(err);
        return;
    }
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("invite_core",))?;
        let kwargs = PyDict::new(py);
        // The (type, value, traceback) triple: the value alone may carry no traceback.
        let exc_info = (err.get_type(py), err.value(py), err.traceback(py));
        kwargs.set_item("exc_info", exc_info)?;
        logger.call_method("error", (what,), Some(&kwargs))?;
        Ok(())
    })();
    if logged.is_err() {
        err.print(py);
    }
}

/// A Python object held for the core; `None` once the garbage collector cleared it.
pub(crate) struct Callback(Mutex<Option<Py<PyAny>>>);

impl Callback {
    pub(crate) fn new(target: Bound<'_, PyAny>) -> Arc<Self> {
        Arc::new(Callback(Mutex::new(Some(target.unbind()))))
    }

    pub(crate) fn get<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|t| t.bind(py).clone())
    }

    /// Reports the object to the garbage collector (skipped if the slot is busy: an
    /// unreported reference only keeps a cycle alive, it never frees too early).
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(guard) = self.0.try_lock()
            && let Some(target) = guard.as_ref()
        {
            visit.call(target)?;
        }
        Ok(())
    }

    /// Drops the object (the garbage collector breaking a cycle).
    pub(crate) fn clear(&self) {
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(taken);
    }
}

/// The core's `EventHook` over a Python callable.
pub(crate) struct PythonHook(pub(crate) Arc<Callback>);

impl EventHook for PythonHook {
    fn on_events(&self, events: &[Event]) {
        if interrupted() {
            return;
        }
        Python::attach(|py| {
            let Some(hook) = self.0.get(py) else { return };
            let events: Vec<PyEvent> = events.iter().cloned().map(PyEvent::from).collect();
            match hook.call1((events,)) {
                Ok(answer) if discard_awaitable(&answer) => report(
                    py,
                    PyTypeError::new_err("the event hook returned an awaitable, which never runs"),
                    "the event hook is async; the events stay committed",
                ),
                Ok(_) => {}
                Err(err) => report(py, err, "the event hook raised; the events stay committed"),
            }
        });
    }
}

/// The core's `EmailRenderer` over a Python object with `render(context)`.
pub(crate) struct PythonRenderer(pub(crate) Arc<Callback>);

/// Calls `render` and reads its answer.
fn call_render(target: &Bound<'_, PyAny>, context: &EmailContext) -> PyResult<RenderedEmail> {
    let answer = target.call_method1("render", (PyEmailContext::from(context.clone()),))?;
    let answer = answer.cast::<PyMapping>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "render() must return a mapping with `subject`, `text` and `html`",
        )
    })?;
    let text = |key: &str| -> PyResult<String> { answer.get_item(key)?.extract() };
    let locale: Option<String> = if answer.contains("locale")? {
        answer.get_item("locale")?.extract()?
    } else {
        None
    };
    Ok(RenderedEmail {
        subject: text("subject")?,
        text: text("text")?,
        html: text("html")?,
        locale: locale
            .or_else(|| context.locale.clone())
            .unwrap_or_else(|| DefaultTemplates::LANGUAGES[0].to_owned()),
    })
}

impl EmailRenderer for PythonRenderer {
    fn render(&self, context: &EmailContext) -> RenderedEmail {
        if !interrupted() {
            let rendered = Python::attach(|py| {
                let target = self.0.get(py)?;
                match call_render(&target, context) {
                    Ok(rendered) => Some(rendered),
                    Err(err) => {
                        report(
                            py,
                            err,
                            "the email renderer failed; the default templates were used",
                        );
                        None
                    }
                }
            });
            if let Some(rendered) = rendered {
                return rendered;
            }
        }
        DefaultTemplates.render(context)
    }
}

wrapper!(
    /// What a renderer's `render(context)` receives. Every value is plain text: an HTML
    /// template must escape it.
    ///
    /// Args:
    ///     inviter_name: The inviter's name.
    ///     business_name: The business.
    ///     app_name: The app.
    ///     role_name: The role granted.
    ///     expires_at: When the link expires (timezone-aware).
    ///     accept_link: The accept link.
    ///     invitee_name: The invitee's name, if known.
    ///     locale: The requested locale (`None`: the default).
    PyEmailContext => "EmailContext", EmailContext
);

#[pymethods]
impl PyEmailContext {
    #[new]
    #[pyo3(signature = (
        *, inviter_name, business_name, app_name, role_name, expires_at, accept_link,
        invitee_name = None, locale = None,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per context field"
    )]
    fn new(
        inviter_name: Text,
        business_name: Text,
        app_name: Text,
        role_name: Text,
        expires_at: UtcTime,
        accept_link: Text,
        invitee_name: Option<Text>,
        locale: Option<Text>,
    ) -> Self {
        PyEmailContext {
            inner: EmailContext {
                inviter_name: inviter_name.into(),
                invitee_name: opt_text(invitee_name),
                business_name: business_name.into(),
                app_name: app_name.into(),
                role_name: role_name.into(),
                expires_at: expires_at.0,
                accept_link: accept_link.into(),
                locale: opt_text(locale),
            },
        }
    }
}

record!(PyEmailContext, repr = [business_name, app_name, role_name, locale], {
    /// The inviter's name.
    inviter_name -> String = |c| c.inviter_name.clone();
    /// The invitee's name, if known.
    invitee_name -> Option<String> = |c| c.invitee_name.clone();
    /// The business.
    business_name -> String = |c| c.business_name.clone();
    /// The app.
    app_name -> String = |c| c.app_name.clone();
    /// The role granted.
    role_name -> String = |c| c.role_name.clone();
    /// When the link expires.
    expires_at -> DateTime<Utc> = |c| c.expires_at;
    /// The accept link.
    accept_link -> String = |c| c.accept_link.clone();
    /// The requested locale (`None`: the default).
    locale -> Option<String> = |c| c.locale.clone();
});

/// The email the built-in templates render for `context` (English, French, German by
/// the locale's primary subtag; English otherwise), as `{"subject", "text", "html",
/// "locale"}`. A custom renderer can start from it.
#[pyfunction]
pub(crate) fn render_default_email<'py>(
    py: Python<'py>,
    context: &PyEmailContext,
) -> PyResult<Bound<'py, PyDict>> {
    let rendered = DefaultTemplates.render(&context.inner);
    let dict = PyDict::new(py);
    dict.set_item("subject", rendered.subject)?;
    dict.set_item("text", rendered.text)?;
    dict.set_item("html", rendered.html)?;
    dict.set_item("locale", rendered.locale)?;
    Ok(dict)
}
