//! Reaching the host's JS thread from the core's threads: how the event hook, the
//! authorization policy and the email renderer call JavaScript.
//!
//! A [`JsThread`] wraps a weak threadsafe function (a service holding one keeps no
//! process alive) whose JS function is a no-op: each value posted is handed to a Rust
//! closure on the JS thread, which calls the host's function there and catches what it
//! throws. It also knows the JS thread itself, so a caller already on it (an `inline`
//! call) can call JavaScript directly instead of queueing behind itself. [`guard`]
//! wraps a host's function whose answer is read (a policy method, a renderer) so that
//! a throw of any value is reported and answers `false`.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, JsValuesTupleIntoVec, Unknown};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status, sys};

use crate::error::reason;

/// Values of type `T` handed to a closure on the JS thread.
pub struct JsThread<T: 'static> {
    queue: ThreadsafeFunction<T, (), (), Status, false, true, 0>,
    /// The JS thread, and its `napi_env` (as an address: used only on that thread).
    thread: ThreadId,
    env: usize,
}

impl<T: Send + 'static> JsThread<T> {
    /// Made on the JS thread of `env`; `run` gets each posted value there (a panic in
    /// it is caught: none may unwind into the JS thread's callback).
    pub fn new(
        env: &Env,
        name: &str,
        mut run: impl FnMut(&Env, T) + 'static,
    ) -> napi::Result<Self> {
        let runner: Function<'_, (), ()> = env.create_function_from_closure(name, |_| Ok(()))?;
        let queue = runner
            .build_threadsafe_function::<T>()
            .callee_handled::<false>()
            .weak::<true>()
            .build_callback(move |ctx: ThreadsafeCallContext<T>| {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| run(&ctx.env, ctx.value)));
                Ok(())
            })?;
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
        self.queue
            .call(value, ThreadsafeFunctionCallMode::NonBlocking)
            == Status::Ok
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
