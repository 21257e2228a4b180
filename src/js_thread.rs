//! One record per JavaScript thread that loaded the addon.
//!
//! # Invariants
//! - `env` is used only on `thread`, the thread that owns it; the record is
//!   created there, on the first call that needs it, and kept in a
//!   thread-local.
//! - `queue` is a *weak* thread-safe function: it never keeps the event loop
//!   alive. A job posted to a thread that is shutting down is dropped, not
//!   run; its captured values are released by N-API.
//! - A job runs on `thread`, inside the handle scope N-API opens for it.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::ThreadId;

use msw_session_core::listeners::current_thread_id;
use msw_session_core::Executor;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Status};

/// Work for a JavaScript thread.
pub(crate) type Job = Box<dyn FnOnce(Env) + Send>;

type Queue = ThreadsafeFunction<Job, (), (), Status, false, true>;

/// A JavaScript thread: where its callbacks live and how to reach it.
pub(crate) struct JsThread {
    thread: ThreadId,
    env: usize,
    queue: Queue,
}

// SAFETY: `env` is an address only dereferenced on `thread` (checked by
// `env()`); the thread-safe function is built to be used from any thread.
unsafe impl Send for JsThread {}
// SAFETY: as above.
unsafe impl Sync for JsThread {}

thread_local! {
    static CURRENT: RefCell<Option<Arc<JsThread>>> = const { RefCell::new(None) };
}

impl JsThread {
    /// The record of the calling thread, made on first use.
    pub(crate) fn current(env: &Env) -> napi::Result<Arc<JsThread>> {
        if let Some(found) = CURRENT.with(|c| c.borrow().clone()) {
            return Ok(found);
        }
        let dispatch: Function<'_, (), ()> =
            env.create_function_from_closure("mswSessionDispatch", |_| Ok(()))?;
        let queue: Queue = dispatch
            .build_threadsafe_function::<Job>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|ctx| {
                (ctx.value)(ctx.env);
                Ok(())
            })?;
        let record = Arc::new(JsThread {
            thread: current_thread_id(),
            env: env.raw() as usize,
            queue,
        });
        CURRENT.with(|c| *c.borrow_mut() = Some(record.clone()));
        Ok(record)
    }

    /// The thread's id.
    pub(crate) fn id(&self) -> ThreadId {
        self.thread
    }

    /// The env, when called on this thread.
    pub(crate) fn env(&self) -> Option<sys::napi_env> {
        (current_thread_id() == self.thread).then_some(self.env as sys::napi_env)
    }

    /// Queues `job` to run on this thread; `false` when the thread is gone.
    pub(crate) fn post(&self, job: Job) -> bool {
        self.queue
            .call(job, ThreadsafeFunctionCallMode::NonBlocking)
            == Status::Ok
    }
}

impl Executor for JsThread {
    fn execute(&self, job: Box<dyn FnOnce() + Send>) {
        self.post(Box::new(move |_| job()));
    }
}
