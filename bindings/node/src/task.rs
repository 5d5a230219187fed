//! Off-main-thread work: every store call runs as an `AsyncTask` on the libuv pool and
//! settles a Promise. The core error is kept aside and turned into a rich JS error on
//! the JS thread (`reject`), so `.code` and `.errors` survive.

use invite_core::Error as CoreError;
use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName};
use napi::{Env, Status, Task};

use crate::error::{guard, to_js_error};

type Work<T> = Box<dyn FnOnce() -> Result<T, CoreError> + Send>;

/// One unit of work for the libuv pool.
pub struct Job<T: Send + 'static> {
    work: Option<Work<T>>,
    failure: Option<CoreError>,
}

/// Wraps `work` as a Promise-returning task.
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
