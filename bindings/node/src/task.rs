//! Where a store call runs, and the Promise it settles.
//!
//! - On the libuv pool (`Execution::ThreadPool`, the default): an `AsyncTask` runs the
//!   call off the main thread and settles the Promise. The core error is kept aside and
//!   turned into a rich JS error on the JS thread (`reject`), so `.code` and `.errors`
//!   survive.
//! - Inline (`Execution::Inline`): the call runs on the calling thread and the Promise
//!   is created already settled, with the same value or the same rich error, so callers
//!   see the same API without the hop.
//!
//! - On a thread of its own (`own_thread`): for work that waits on JavaScript (a dispatch
//!   through a JS mailer). Such work must not hold a libuv pool thread while it waits: the
//!   JavaScript it waits for may itself need the pool (`fs`, `dns.lookup`), and four such
//!   waits would starve it. The Promise is settled from that thread through a napi
//!   deferred, with the same value or the same rich error.
//!
//! Every way, a panic becomes `INTERNAL` (`guard`), never a crash. A call made from
//! inside an authorization policy method is not started at all: it throws (see
//! `policy.rs`).

use std::sync::{Arc, Mutex, PoisonError};

use invite_core::Error as CoreError;
use napi::bindgen_prelude::{AsyncTask, JsValue, ToNapiValue, TypeName};
use napi::{Env, JsDeferred, Status, Task, ValueType, sys};

use crate::config::Execution;
use crate::error::{guard, to_js_error};
use crate::policy::refuse_reentry;

type Work<T> = Box<dyn FnOnce() -> Result<T, CoreError> + Send>;

/// One unit of work for the libuv pool.
pub struct Job<T: Send + 'static> {
    work: Option<Work<T>>,
    failure: Option<CoreError>,
}

/// Wraps `work` as a Promise-returning task on the libuv pool.
pub fn job<T>(work: impl FnOnce() -> Result<T, CoreError> + Send + 'static) -> AsyncTask<Job<T>>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    AsyncTask::new(Job {
        work: Some(Box::new(work)),
        failure: None,
    })
}

impl<T> Task for Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<T> {
        let outcome = match self.work.take() {
            Some(work) => guard(work),
            None => Err(CoreError::internal("the task ran twice")),
        };
        outcome.map_err(|e| {
            self.failure = Some(e);
            napi::Error::from_status(Status::GenericFailure)
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<T> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<T> {
        let failure = self
            .failure
            .take()
            .unwrap_or_else(|| CoreError::internal(format!("the task failed: {}", err.reason)));
        Err(to_js_error(&env, &failure))
    }
}

/// What a service method returns: a Promise of `T` in either execution mode.
pub enum Call<T: ToNapiValue + TypeName + Send + 'static> {
    /// Runs on the libuv pool when converted (the Promise settles later).
    Pool(AsyncTask<Job<T>>),
    /// Ran already, on the calling thread; converted into a settled Promise.
    Inline(Result<T, CoreError>),
    /// Runs on a thread of its own when converted (the Promise settles later).
    Thread(Work<T>),
    /// Not started: thrown synchronously (a call from inside an authorization policy).
    Refused(CoreError),
}

/// Runs `work` where `execution` says: queued for the pool, or right now on this
/// thread (under the panic guard).
pub fn call<T>(
    execution: Execution,
    work: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Call<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    if let Some(refused) = refuse_reentry() {
        return Call::Refused(refused);
    }
    match execution {
        Execution::ThreadPool => Call::Pool(job(work)),
        Execution::Inline => Call::Inline(guard(work)),
    }
}

/// Runs `work` on a thread of its own, started when the call returns to JavaScript: for
/// work that waits on JavaScript, which must not hold a libuv pool thread.
pub fn own_thread<T>(work: impl FnOnce() -> Result<T, CoreError> + Send + 'static) -> Call<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    match refuse_reentry() {
        Some(refused) => Call::Refused(refused),
        None => Call::Thread(Box::new(work)),
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> TypeName for Call<T> {
    fn type_name() -> &'static str {
        "Promise"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

#[allow(unsafe_code, reason = "`ToNapiValue` is an unsafe trait method")]
impl<T> ToNapiValue for Call<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val {
            // SAFETY: called by the generated glue with its live env, on the JS thread.
            Call::Pool(task) => unsafe { AsyncTask::to_napi_value(env, task) },
            // SAFETY: as above.
            Call::Inline(outcome) => unsafe { settled(env, outcome) },
            Call::Thread(work) => on_own_thread(&Env::from_raw(env), work),
            Call::Refused(failure) => Err(to_js_error(&Env::from_raw(env), &failure)),
        }
    }
}

/// Settles a deferred from any thread: `T` converted on the JS thread, or the rich error.
type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// Starts `work` on a new thread and returns the Promise it settles. If no thread can be
/// started, the Promise rejects with `INTERNAL`.
fn on_own_thread<T>(env: &Env, work: Work<T>) -> napi::Result<sys::napi_value>
where
    T: ToNapiValue + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Settle<T>>()?;
    // Shared so that a refused spawn (which drops the closure) can still settle it.
    let slot = Arc::new(Mutex::new(Some(deferred)));
    let theirs = Arc::clone(&slot);
    let started = std::thread::Builder::new()
        .name("invite-core-dispatch".to_owned())
        .spawn(move || settle(&theirs, guard(work)));
    if let Err(e) = started {
        let failure = CoreError::internal(format!("cannot start a thread: {e}"));
        settle(&slot, Err(failure));
    }
    Ok(promise.raw())
}

/// Settles the deferred in `slot` (once) with `outcome`.
fn settle<T>(slot: &Mutex<Option<JsDeferred<T, Settle<T>>>>, outcome: Result<T, CoreError>)
where
    T: ToNapiValue + Send + 'static,
{
    let deferred = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(deferred) = deferred {
        deferred.resolve(Box::new(move |env| {
            outcome.map_err(|failure| to_js_error(&env, &failure))
        }));
    }
}

/// A Promise already settled with `outcome`, as the pool path would settle it: the value
/// converted by `T::to_napi_value` (a conversion failure rejects with that error), or the
/// rich error of `to_js_error`.
///
/// # Safety
/// `env` is the live env of the calling JS thread.
#[allow(
    unsafe_code,
    reason = "a promise settled before it is returned needs napi's raw deferred calls"
)]
unsafe fn settled<T: ToNapiValue>(
    env: sys::napi_env,
    outcome: Result<T, CoreError>,
) -> napi::Result<sys::napi_value> {
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    // SAFETY: `env` is live (the caller's contract); both out-pointers are valid.
    let status = unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) };
    if status != sys::Status::napi_ok {
        return Err(napi::Error::new(
            Status::from(status),
            "cannot create a promise".to_owned(),
        ));
    }
    // No panic may cross into JS, nor leave the deferred unsettled: a panicking
    // conversion rejects with `INTERNAL`.
    let js_env = Env::from_raw(env);
    let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        outcome
            .map_err(|failure| to_js_error(&js_env, &failure))
            // SAFETY: `env` is live, on its own thread.
            .and_then(|value| unsafe { T::to_napi_value(env, value) })
    }))
    .unwrap_or_else(|_| {
        let failure = CoreError::internal("internal error: a result could not be converted");
        Err(to_js_error(&js_env, &failure))
    });
    let status = match value {
        // SAFETY: `deferred` came from `napi_create_promise` above and is settled once.
        Ok(value) => unsafe { sys::napi_resolve_deferred(env, deferred, value) },
        Err(error) => {
            // SAFETY: `env` is live; the error's retained JS object is handed back as is.
            let rejection = unsafe { <napi::Error as ToNapiValue>::to_napi_value(env, error) }?;
            // SAFETY: as for resolve.
            unsafe { sys::napi_reject_deferred(env, deferred, rejection) }
        }
    };
    match status {
        sys::Status::napi_ok => Ok(promise),
        status => Err(napi::Error::new(
            Status::from(status),
            "cannot settle a promise".to_owned(),
        )),
    }
}
