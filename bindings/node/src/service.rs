//! The `InviteService` class: opening a service, its configuration, and the helpers that
//! run every store call where the service's `execution` option says (the libuv pool, or
//! inline on the calling thread).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use invite_core::Error as CoreError;
use napi::bindgen_prelude::{ToNapiValue, TypeName, Unknown};
use napi_derive::napi;

use crate::config::{ConfigView, Execution, OpenPlan};
use crate::hook::JsEventHook;
use crate::task::{Call, call, own_thread};

/// The invitation engine. Open one with `await InviteService.open(options)`; share it.
/// Every method that touches the store returns a Promise: by default the call runs on
/// the libuv thread pool; with `execution: 'inline'` it runs on the calling thread and
/// the Promise is already settled. Failures reject with an `Error` carrying `.code` (and
/// `.errors` for `VALIDATION_FAILED`).
#[napi]
pub struct InviteService {
    pub(crate) inner: Arc<invite_core::InviteService>,
    pub(crate) execution: Execution,
    /// The event hook, if any: held by each call that runs off the JS thread.
    pub(crate) event_hook: Option<Arc<JsEventHook>>,
}

impl InviteService {
    /// Runs `work` against the core service where the service's `execution` says.
    pub(crate) fn run<T, F>(&self, work: F) -> Call<T>
    where
        T: ToNapiValue + TypeName + Send + 'static,
        F: FnOnce(&invite_core::InviteService) -> Result<T, CoreError> + Send + 'static,
    {
        // Inline, the hook's events go through microtasks: nothing to hold.
        let off_thread = matches!(self.execution, Execution::ThreadPool);
        call(self.execution, self.bind(work, off_thread))
    }

    /// Runs `work` against the core service on a thread of its own, whatever the
    /// service's mode: for calls that wait on JavaScript (a dispatch through a JS mailer).
    pub(crate) fn on_own_thread<T, F>(&self, work: F) -> Call<T>
    where
        T: ToNapiValue + TypeName + Send + 'static,
        F: FnOnce(&invite_core::InviteService) -> Result<T, CoreError> + Send + 'static,
    {
        own_thread(self.bind(work, true))
    }

    /// `work` bound to the core service. For a call that runs off the JS thread, the
    /// event hook is held until the work ends, so that the events it queued are not lost
    /// at exit (the hold ends behind them).
    fn bind<T, F>(
        &self,
        work: F,
        off_thread: bool,
    ) -> impl FnOnce() -> Result<T, CoreError> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&invite_core::InviteService) -> Result<T, CoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let held = self
            .event_hook
            .as_ref()
            .filter(|_| off_thread)
            .and_then(|hook| hook.hold());
        move || {
            let done = work(&inner);
            drop(held);
            done
        }
    }
}

#[napi]
impl InviteService {
    /// Opens the store named by `options.store` (default `memory:`) and builds a service.
    /// Rejects with `INVALID_CONFIG` for a bad URL, base URL, expiry, outbox key or
    /// execution mode. With `execution: 'inline'`, opening runs inline too.
    /// The options must be a plain object of known names (those of `ServiceOptions`);
    /// anything else rejects with `INVALID_CONFIG` instead of opening a default store.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: ServiceOptions | undefined | null",
        ts_return_type = "Promise<InviteService>"
    )]
    pub fn open(options: Option<Unknown<'_>>) -> Call<InviteService> {
        let plan = OpenPlan::from_js(options);
        call(plan.execution(), move || {
            plan.open().map(|opened| InviteService {
                inner: Arc::new(opened.service),
                execution: opened.execution,
                event_hook: opened.event_hook,
            })
        })
    }

    /// The configuration in force (with the execution mode).
    #[napi(catch_unwind, strict)]
    pub fn config(&self) -> ConfigView {
        ConfigView::new(self.inner.config(), self.execution)
    }

    /// The kind of store behind the service (`"memory"`, `"sqlite"`, `"postgres"`).
    #[napi(getter, catch_unwind)]
    pub fn store_kind(&self) -> String {
        self.inner.store().kind().to_owned()
    }

    /// The current time by the service's clock.
    #[napi(catch_unwind, strict)]
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }
}

/// How this native module was built.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BuildInfo {
    /// `"release"` or `"debug"` (a debug build is many times slower: never benchmark it).
    #[napi(ts_type = "'release' | 'debug'")]
    pub profile: String,
    /// Optional parts compiled in: `"sqlite"`, `"postgres"`, `"smtp"`.
    #[napi(ts_type = "Array<'sqlite' | 'postgres' | 'smtp'>")]
    pub features: Vec<String>,
}

/// How this native module was built (profile and optional features).
#[napi(catch_unwind, strict)]
pub fn build_info() -> BuildInfo {
    let features = [
        ("sqlite", cfg!(feature = "sqlite")),
        ("postgres", cfg!(feature = "postgres")),
        ("smtp", cfg!(feature = "smtp")),
    ];
    BuildInfo {
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        features: features
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| (*name).to_owned())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_names_the_profile() {
        let info = build_info();
        assert!(["debug", "release"].contains(&info.profile.as_str()));
        assert_eq!(
            info.features.contains(&"smtp".to_owned()),
            cfg!(feature = "smtp")
        );
    }
}
