//! The service object: construction from a store, a config and the injectable ports.
//! The use cases are bound in the other files, one per core area.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use invite_core::{Error, ErrorCode, InviteService, SeededRandom, Token};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use pyo3::PyTraverseError;
use pyo3::exceptions::PyTypeError;
use pyo3::gc::PyVisit;

use crate::callbacks::{self, Callback, PythonHook, PythonRenderer};
use crate::config::{PyConfig, PyManualClock, PyStore};
use crate::convert::{Count, Text};
use crate::error::IntoPyResult;
use crate::policy::{self, PythonPolicy};

/// Where a service keeps its records: a store URL or an opened `Store`.
#[derive(FromPyObject)]
pub(crate) enum StoreArg<'py> {
    Url(Text),
    Opened(Bound<'py, PyStore>),
}

/// The invitation engine. Thread-safe: share one per process; every call that touches
/// the store releases the GIL.
///
/// Args:
///     store: A store URL (`"memory:"`, `"sqlite:PATH"`, …) or an opened `Store`.
///     config: The configuration (default: `Config()`).
///     clock: A `ManualClock` for deterministic tests (default: the system clock).
///     random_seed: Deterministic ids and tokens for tests, so only with the in-memory
///         store: anyone who knows the seed can compute the tokens (`InvalidConfigError`
///         with any other store).
///     outbox_key: 32 secret bytes sealing tokens in queued emails, so they survive a
///         restart (default: a per-process key). Required on PostgreSQL, where every
///         app server must use the same key (`InvalidConfigError` without one).
///     event_hook: Called after each commit with the committed events (`list[Event]`,
///         oldest first), on the calling thread. An exception it raises is logged
///         (logger `invite_core`) and ignored: the events stay committed.
///     renderer: An object whose `render(context: EmailContext)` returns `{"subject",
///         "text", "html"}` (and optionally `"locale"`) for each email (default: the
///         built-in templates). If it raises or answers something else, the failure is
///         logged and the built-in templates are used. It runs outside any store
///         transaction, once per email a dispatch claimed; it may call the service.
///     policy: Replaces the authorization rule (who may invite, which roles they may
///         grant) in part or whole: an object with `may_invite(rights: InviterRights)`
///         and/or `may_grant(rights: InviterRights, role: Role)`, each answering `True`,
///         `False` or `None` (the default rule decides; so does a missing method). It
///         runs inside the store transaction: keep it quick, and do not call the
///         service from it (`RuntimeError`). Raising, or any other answer, denies; the
///         exception is logged (logger `invite_core`).
#[pyclass(name = "InviteService", module = "invite_core._native", frozen)]
pub struct PyInviteService {
    pub(crate) inner: InviteService,
    /// The Python callables the core holds, also kept here for the garbage collector.
    callbacks: Vec<Arc<Callback>>,
}

impl PyInviteService {
    /// Runs `work` on the service with the GIL released, mapping its error.
    pub(crate) fn run<T, F>(&self, py: Python<'_>, work: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&InviteService) -> invite_core::Result<T> + Send,
    {
        policy::refuse_reentry()?;
        let service = &self.inner;
        // A bug in the engine must not leave Python with a PanicException (which
        // `except Exception` does not catch): it is an InternalError like any other.
        let result = py.detach(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(service))).unwrap_or_else(
                |_| {
                    Err(invite_core::Error::internal(
                        "the engine failed unexpectedly (a panic)",
                    ))
                },
            )
        });
        if let Some(interrupt) = callbacks::take_interrupt() {
            return Err(interrupt);
        }
        result.into_py(py)
    }
}

#[pymethods]
impl PyInviteService {
    #[new]
    #[pyo3(signature = (
        store = None, *, config = None, clock = None, random_seed = None, outbox_key = None,
        event_hook = None, renderer = None, policy = None,
    ))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per injectable port"
    )]
    fn new(
        py: Python<'_>,
        store: Option<StoreArg<'_>>,
        config: Option<Bound<'_, PyConfig>>,
        clock: Option<Bound<'_, PyManualClock>>,
        random_seed: Option<Count>,
        outbox_key: Option<Bound<'_, PyBytes>>,
        event_hook: Option<Bound<'_, PyAny>>,
        renderer: Option<Bound<'_, PyAny>>,
        policy: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if let Some(hook) = &event_hook {
            if !hook.is_callable() {
                return Err(PyTypeError::new_err("event_hook must be callable"));
            }
            callbacks::refuse_async(py, hook, "event_hook")?;
        }
        if let Some(renderer) = &renderer {
            callbacks::sync_method(py, renderer, "renderer", "render(context)")?;
        }
        if let Some(policy) = &policy {
            crate::policy::check(py, policy)?;
        }
        // Checked before a store is opened: a refused service creates no database file.
        if random_seed.is_some() {
            let in_memory = match &store {
                Some(StoreArg::Opened(s)) => s.get().inner.kind() == "memory",
                Some(StoreArg::Url(url)) => matches!(url.trim(), "memory:" | "memory://"),
                None => true,
            };
            if !in_memory {
                let refused: Result<(), Error> = Err(Error::new(
                    ErrorCode::InvalidConfig,
                    "random_seed makes every token predictable: it is for tests, on the in-memory store",
                )
                .with_help("drop random_seed, or use the \"memory:\" store"));
                refused.into_py(py)?;
            }
        }
        let store = match store {
            Some(StoreArg::Opened(s)) => s.get().inner.clone(),
            Some(StoreArg::Url(url)) => py.detach(|| invite_core::store::open(&url)).into_py(py)?,
            None => py
                .detach(|| invite_core::store::open("memory:"))
                .into_py(py)?,
        };
        let mut builder = InviteService::builder(store)
            .config(config.map(|c| c.get().inner.clone()).unwrap_or_default());
        if let Some(clock) = clock {
            builder = builder.clock(clock.get().inner.clone());
        }
        if let Some(seed) = random_seed {
            let seed = seed.within(py, "random_seed", 0, u64::MAX)?;
            builder = builder.random(Arc::new(SeededRandom::new(seed)));
        }
        if let Some(key) = outbox_key {
            let key: [u8; 32] = key
                .as_bytes()
                .try_into()
                .map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidConfig,
                        "outbox key must be exactly 32 bytes",
                    )
                })
                .into_py(py)?;
            builder = builder.outbox_key(key);
        }
        let mut callbacks = Vec::new();
        if let Some(hook) = event_hook {
            let slot = Callback::new(hook);
            builder = builder.event_hook(Arc::new(PythonHook(Arc::clone(&slot))));
            callbacks.push(slot);
        }
        if let Some(renderer) = renderer {
            let slot = Callback::new(renderer);
            builder = builder.renderer(Arc::new(PythonRenderer(Arc::clone(&slot))));
            callbacks.push(slot);
        }
        if let Some(policy) = policy {
            let slot = Callback::new(policy);
            builder = builder.policy(Arc::new(PythonPolicy(Arc::clone(&slot))));
            callbacks.push(slot);
        }
        let inner = builder.build().into_py(py)?;
        Ok(PyInviteService { inner, callbacks })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for callback in &self.callbacks {
            callback.traverse(&visit)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        for callback in &self.callbacks {
            callback.clear();
        }
    }

    /// The configuration in force.
    #[getter]
    fn config(&self) -> PyConfig {
        PyConfig {
            inner: self.inner.config().clone(),
        }
    }

    /// The store's kind: `"memory"`, `"sqlite"`, `"postgres"`, …
    #[getter]
    fn store_kind(&self) -> &'static str {
        self.inner.store().kind()
    }

    /// The current time by the service's clock (UTC).
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// The accept link for a token (the configured base URL with `token` added).
    ///
    /// Args:
    ///     token: A token returned by `send` or `resend`.
    fn accept_link(&self, py: Python<'_>, token: Text) -> PyResult<String> {
        let token = Token::parse(&token).into_py(py)?;
        Ok(self.inner.accept_link(&token))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let url = pyo3::types::PyString::new(py, &self.inner.config().accept_base_url).repr()?;
        Ok(format!(
            "InviteService(store='{}', base_url={url})",
            self.inner.store().kind()
        ))
    }
}
