//! The event hook (`InviteService.open({ eventHook })`): a JS function the service calls
//! after each commit with that commit's events, as Python's `event_hook` and Rust's
//! `EventHook` are.
//!
//! The hook runs on the JS thread soon after the commit, never inside the call that
//! committed, in the order the commits queued their events:
//! - a commit on the JS thread itself (an `inline` call) queues a microtask, which runs
//!   before the event loop could decide the process is done;
//! - a commit on another thread (the libuv pool, a dispatch's own thread) goes through
//!   a weak threadsafe function, so an idle service with a hook does not keep the
//!   process alive. Each call the service sends off the JS thread holds it for its
//!   duration ([`JsEventHook::hold`]): the process stays alive until the events that call
//!   queued have reached the hook, even when its Promise settles first and nothing else
//!   keeps the event loop turning.
//!
//! What the hook does cannot undo the commit: a throw, or a rejection of the promise it
//! returns, becomes a process warning (`'warning'` event, `code` `EVENT_HOOK_FAILED`),
//! never an uncaught exception.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use invite_core::Error as CoreError;
use invite_core::model::Event as CoreEvent;
use invite_core::service::EventHook;
use napi::Env;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, JsObjectValue, JsValue, Unknown};

use crate::error::{reason, warn};
use crate::js_thread::{Held, JsThread};
use crate::model::Event;

/// The warning code of a hook that threw or rejected.
const HOOK_FAILED: &str = "EVENT_HOOK_FAILED";

/// The hook as options give it: called with one commit's events.
pub type HookFunction<'a> = Function<'a, Vec<Event>, Unknown<'static>>;

/// Wraps the hook in JS, so that a throw or a rejection of any value (a string, a
/// thenable's) reaches `report` as that value, read without running user code.
const GUARD_SOURCE: &str = "(function (hook, report) {\n\
  return function (events) {\n\
    try {\n\
      const returned = hook(events)\n\
      if (returned !== null && (typeof returned === 'object' || typeof returned === 'function')\n\
          && typeof returned.then === 'function') returned.then(undefined, report)\n\
    } catch (error) { report(error) }\n\
  }\n\
})";

/// The guard's maker: `(hook, report) => guarded hook`.
type GuardMaker<'a> =
    Function<'a, FnArgs<(HookFunction<'a>, Function<'a, Unknown<'a>, ()>)>, HookFunction<'a>>;

/// A reference to the hook, shared by both ways of reaching it.
type HookRef = Arc<FunctionRef<Vec<Event>, Unknown<'static>>>;

/// The core's `EventHook` port backed by a JS function.
pub struct JsEventHook {
    hook: HookRef,
    /// Events of commits made on other threads, delivered by `deliver`.
    queue: JsThread<Vec<CoreEvent>>,
}

impl JsEventHook {
    /// Called on the JS thread when a call starts off it: keep what it is held by until
    /// the call has ended (see the module's notes).
    pub fn hold(&self) -> Option<Held<Vec<CoreEvent>>> {
        self.queue.hold()
    }
}

impl EventHook for JsEventHook {
    fn on_events(&self, events: &[CoreEvent]) {
        if let Some(env) = self.queue.here()
            && defer(&env, &self.hook, events.to_vec()).is_ok()
        {
            return;
        }
        // Refused only while the environment shuts down: no one is left to tell.
        let _ = self.queue.post(events.to_vec());
    }
}

/// On the JS thread: `queueMicrotask` of a call of the hook with `events`.
fn defer(env: &Env, hook: &HookRef, events: Vec<CoreEvent>) -> napi::Result<()> {
    let hook = Arc::clone(hook);
    // A microtask runs once, on this thread.
    let events = Cell::new(Some(events));
    let task: Function<'_, (), ()> =
        env.create_function_from_closure("inviteCoreEventHook", move |ctx| {
            if let Some(events) = events.take() {
                let env = *ctx.env;
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| deliver(&env, &hook, events)));
            }
            Ok(())
        })?;
    let queue_microtask: Function<'_, Function<'_, (), ()>, Unknown<'_>> =
        env.get_global()?.get_named_property("queueMicrotask")?;
    queue_microtask.call(task)?;
    Ok(())
}

/// Holds `hook` for the service (on the JS thread, while `open` reads its options).
pub fn event_hook(hook: &HookFunction<'_>) -> Result<Arc<JsEventHook>, CoreError> {
    let cannot =
        |e: napi::Error| CoreError::internal(format!("cannot hold the event hook: {}", e.reason));
    let env = Env::from_raw(hook.value().env);
    let report: Function<'_, Unknown<'_>, ()> = env
        .create_function_from_closure("inviteCoreEventHookFailed", |ctx| {
            let thrown: Unknown<'_> = ctx.get(0)?;
            warn(
                ctx.env,
                HOOK_FAILED,
                &format!("the event hook failed: {}", reason(thrown, "it threw")),
            );
            Ok(())
        })
        .map_err(cannot)?;
    let make: GuardMaker<'_> = env.run_script(GUARD_SOURCE).map_err(cannot)?;
    let guarded = make
        .call(FnArgs::from((hook.clone(), report)))
        .map_err(cannot)?;
    let hook: HookRef = Arc::new(guarded.create_ref().map_err(cannot)?);
    let shared = Arc::clone(&hook);
    let queue = JsThread::new(&env, "inviteCoreEventHook", move |env, events| {
        deliver(env, &shared, events)
    })
    .map_err(cannot)?;
    Ok(Arc::new(JsEventHook { hook, queue }))
}

/// On the JS thread: calls the (guarded) hook with one commit's events.
fn deliver(env: &Env, hook: &FunctionRef<Vec<Event>, Unknown<'static>>, events: Vec<CoreEvent>) {
    let events = events.into_iter().map(Event::from).collect();
    if let Err(error) = hook.borrow_back(env).and_then(|hook| hook.call(events)) {
        warn(
            env,
            HOOK_FAILED,
            &format!("the event hook failed: {}", error.reason),
        );
    }
}
