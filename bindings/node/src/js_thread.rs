//! Reaching the host's JS thread from the core's threads: how the event hook, the
//! authorization policy and the email renderer call JavaScript.
//!
//! A [`JsThread`] wraps a weak threadsafe function (a service holding one keeps no
//! process alive) whose JS function is a no-op: each value posted is handed to a Rust
//! closure on the JS thread, which calls the host's function there and catches what it
//! throws. It also knows the JS thread itself, so a caller already on it (an `inline`
//! call) can call JavaScript directly instead of queueing behind itself. A call running
//! off the JS thread can [`hold`](JsThread::hold) the queue: while held, it keeps the
//! process alive, until everything posted before the hold's end has run. [`guard`]
//! wraps a host's function whose answer is read (a policy method, a renderer) so that
//! a throw of any value is reported and answers `false`.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak, mpsc};
use std::thread::{self, ThreadId};
use std::time::Duration;

use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, JsValuesTupleIntoVec, Unknown};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status, sys};

use crate::error::reason;

/// What travels through the threadsafe function: a posted value, or the end of a hold.
enum Item<T> {
    Value(T),
    Release,
}

type Tsfn<T> = ThreadsafeFunction<Item<T>, (), (), Status, false, true, 0>;

/// The threadsafe function, and how many holds keep it referenced.
struct Queue<T: 'static> {
    /// Set once made (its own callback refers back to this queue, weakly).
    function: Option<Tsfn<T>>,
    holds: usize,
}

type SharedQueue<T> = Arc<Mutex<Queue<T>>>;

fn lock<T>(queue: &Mutex<Queue<T>>) -> MutexGuard<'_, Queue<T>> {
    // Nothing panics while holding the lock; a poisoned one is still consistent.
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

#[allow(
    deprecated,
    reason = "`refer`/`unref` are napi_ref/unref_threadsafe_function, whether the function keeps \
              the event loop alive, which is what a hold changes; the suggested `clone` counts \
              threads instead"
)]
impl<T> Queue<T> {
    /// On the JS thread: one more hold; the first refers the function (the process stays
    /// alive while it is referenced).
    fn hold(&mut self, env: &Env) -> bool {
        let Some(function) = self.function.as_mut() else {
            return false;
        };
        if self.holds == 0 && function.refer(env).is_err() {
            return false;
        }
        self.holds += 1;
        true
    }

    /// On the JS thread: one hold fewer; the last unrefers the function.
    fn release(&mut self, env: &Env) {
        self.holds = self.holds.saturating_sub(1);
        if self.holds == 0
            && let Some(function) = self.function.as_mut()
        {
            // Fails only while the environment shuts down: nothing is left to keep alive.
            let _ = function.unref(env);
        }
    }
}

/// Values of type `T` handed to a closure on the JS thread.
pub struct JsThread<T: 'static> {
    queue: SharedQueue<T>,
    /// The JS thread, and its `napi_env` (as an address: used only on that thread).
    thread: ThreadId,
    env: usize,
}

/// A hold on a [`JsThread`] (see [`JsThread::hold`]), ended when dropped, on any thread.
pub struct Held<T: 'static> {
    queue: SharedQueue<T>,
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        // Behind everything posted so far: the hold ends once those have run. Refused
        // only while the environment shuts down.
        let _ = post_item(&self.queue, Item::Release);
    }
}

/// Queues `item`; `false` when the environment shuts down.
fn post_item<T>(queue: &Mutex<Queue<T>>, item: Item<T>) -> bool {
    lock(queue).function.as_ref().is_some_and(|function| {
        function.call(item, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    })
}

impl<T: Send + 'static> JsThread<T> {
    /// Made on the JS thread of `env`; `run` gets each posted value there (a panic in
    /// it is caught: none may unwind into the JS thread's callback).
    pub fn new(
        env: &Env,
        name: &str,
        mut run: impl FnMut(&Env, T) + 'static,
    ) -> napi::Result<Self> {
        let queue: SharedQueue<T> = Arc::new(Mutex::new(Queue {
            function: None,
            holds: 0,
        }));
        // Weak: the function lives in the queue, and must not keep its own queue alive.
        let itself: Weak<Mutex<Queue<T>>> = Arc::downgrade(&queue);
        let runner: Function<'_, (), ()> = env.create_function_from_closure(name, |_| Ok(()))?;
        let function = runner
            .build_threadsafe_function::<Item<T>>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |ctx: ThreadsafeCallContext<Item<T>>| {
                match ctx.value {
                    Item::Value(value) => {
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| run(&ctx.env, value)));
                    }
                    Item::Release => {
                        if let Some(queue) = itself.upgrade() {
                            lock(&queue).release(&ctx.env);
                        }
                    }
                }
                Ok(())
            })?;
        lock(&queue).function = Some(function);
        Ok(JsThread {
            queue,
            thread: thread::current().id(),
            env: env.raw() as usize,
        })
    }

    /// The JS thread's env, when the caller runs on that thread.
    pub fn here(&self) -> Option<Env> {
        (thread::current().id() == self.thread).then(|| Env::from_raw(self.env as sys::napi_env))
    }

    /// Queues `value` for the closure; `false` when the environment shuts down.
    pub fn post(&self, value: T) -> bool {
        post_item(&self.queue, Item::Value(value))
    }

    /// Called on the JS thread by a call about to run elsewhere: until the returned hold
    /// is dropped and every value posted before that has run, the process stays alive
    /// (the values a call posts are not lost if its Promise settles first and nothing
    /// else keeps the event loop turning). `None` off the JS thread, or while the
    /// environment shuts down.
    pub fn hold(&self) -> Option<Held<T>> {
        let env = self.here()?;
        lock(&self.queue).hold(&env).then(|| Held {
            queue: Arc::clone(&self.queue),
        })
    }
}

/// A question for the JS thread, with where its answer goes.
pub struct Asked<Q, A> {
    pub question: Q,
    pub answer: mpsc::SyncSender<A>,
}

impl<Q: Send + 'static, A: Send + 'static> JsThread<Asked<Q, A>> {
    /// Asks from another thread and waits for the answer: `None` when none came within
    /// `timeout` (the JS thread busy) or at all (the environment shut down).
    pub fn ask(&self, question: Q, timeout: Duration) -> Option<A> {
        let (answer, answered) = mpsc::sync_channel(1);
        if !self.post(Asked { question, answer }) {
            return None;
        }
        answered.recv_timeout(timeout).ok()
    }

    /// Made like [`JsThread::new`]; `answer` turns each question into its answer.
    pub fn answering(
        env: &Env,
        name: &str,
        mut answer: impl FnMut(&Env, Q) -> A + 'static,
    ) -> napi::Result<Self> {
        JsThread::new(env, name, move |env, asked: Asked<Q, A>| {
            // A send fails only if the asking thread gave up waiting: nothing to do.
            let _ = asked.answer.send(answer(env, asked.question));
        })
    }
}

/// Calls `method` with `self` as its `this`; a throw is handed to `report` and the call
/// answers `false`.
const GUARD_SOURCE: &str = "(function (method, self, report) {\n\
  return function () {\n\
    try { return method.apply(self, arguments) } catch (error) { report(error); return false }\n\
  }\n\
})";

/// The guard's maker: `(method, self, report) => guarded method`.
type GuardMaker<'a, Args> = Function<
    'a,
    FnArgs<(Unknown<'a>, Unknown<'a>, Function<'a, Unknown<'a>, ()>)>,
    Function<'a, Args, Unknown<'static>>,
>;

/// A reference to `method` (called with `this`) that never throws: what it throws
/// reaches `on_throw` as its reason (read without running user code), and the call
/// answers `false`. Made on the JS thread of `env`; `name` names the reporting function.
pub fn guard<Args: JsValuesTupleIntoVec>(
    env: &Env,
    method: Unknown<'_>,
    this: Unknown<'_>,
    name: &str,
    on_throw: impl Fn(&Env, &str) + 'static,
) -> napi::Result<FunctionRef<Args, Unknown<'static>>> {
    let report: Function<'_, Unknown<'_>, ()> =
        env.create_function_from_closure(name, move |ctx| {
            let thrown: Unknown<'_> = ctx.get(0)?;
            on_throw(ctx.env, &reason(thrown, "it threw"));
            Ok(())
        })?;
    let make: GuardMaker<'_, Args> = env.run_script(GUARD_SOURCE)?;
    make.call(FnArgs::from((method, this, report)))?
        .create_ref()
}
