//! A JavaScript function held by Rust, callable from its home thread.
//!
//! # Strong and weak
//! A reference Rust holds is a GC root: a function held strongly keeps alive
//! everything it closes over. A listener usually closes over the object it
//! listens to (`session.progress.onProgress(() => session…)`), and that
//! object owns the native value that holds the listener — a cycle through a
//! root, which the garbage collector can never break. So listeners are held
//! **weakly** ([`JsFunction::weak`]): the JavaScript object they were
//! registered on keeps them alive (the JavaScript layer, `lib/`, stores them
//! in a `Map` of the wrapper), and a listener whose wrapper was collected is
//! simply not called.
//! Only a function that closes over nothing that leads back to its holder
//! is held strongly ([`JsFunction::new`]: a session's context reader).
//!
//! # Invariants
//! - The reference is created, used and deleted on the home thread only,
//!   outside the garbage collector; a `JsFunction` dropped elsewhere, or in
//!   a finalizer the collector runs (`handles`), posts the deletion home (or,
//!   when the home thread is gone, leaves it to the env's teardown).
//! - A call never leaves an exception pending: a throw is caught, cleared and
//!   returned as `Err` with the exception, so one listener cannot disturb
//!   another or the caller.

use std::ptr;
use std::sync::Arc;

use napi::{sys, Env, JsValue};

use crate::js_thread::JsThread;

/// How many `JsFunction`s are alive (see `liveCounts`).
pub(crate) static ALIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A persistent reference to a JavaScript value, at home on the thread that
/// made it.
pub(crate) struct JsRef {
    home: Arc<JsThread>,
    reference: usize,
}

// SAFETY: `reference` is only dereferenced on `home`'s thread (every use
// goes through `home.env()`), and deletion is routed there.
unsafe impl Send for JsRef {}
// SAFETY: as above.
unsafe impl Sync for JsRef {}

impl JsRef {
    /// A reference to `value` with `count` (0: weak, 1: strong), at home on
    /// the calling thread, `home`.
    ///
    /// # Safety
    /// `env` must be the live env of the calling thread, `home` its record,
    /// and `value` a value of that env.
    pub(crate) unsafe fn new(
        env: sys::napi_env,
        home: Arc<JsThread>,
        value: sys::napi_value,
        count: u32,
    ) -> napi::Result<Self> {
        let mut reference = ptr::null_mut();
        // SAFETY: per the function's contract.
        napi::check_status!(unsafe {
            sys::napi_create_reference(env, value, count, &mut reference)
        })?;
        Ok(Self {
            home,
            reference: reference as usize,
        })
    }

    /// The value, on the home thread while it is alive (`None` elsewhere, or
    /// for a weak reference whose value was collected).
    pub(crate) fn value(&self) -> Option<(sys::napi_env, sys::napi_value)> {
        let env = self.home.env()?;
        let mut value = ptr::null_mut();
        // SAFETY: on the home thread, whose env is live.
        unsafe { sys::napi_get_reference_value(env, self.reference as sys::napi_ref, &mut value) };
        (!value.is_null()).then_some((env, value))
    }
}

impl Drop for JsRef {
    fn drop(&mut self) {
        let reference = self.reference;
        let delete = move |env: sys::napi_env| {
            // SAFETY: runs on the home thread with its live env.
            unsafe { sys::napi_delete_reference(env, reference as sys::napi_ref) };
        };
        match self.home.env() {
            // Inside the garbage collector (`handles`), deletion waits for a turn.
            Some(env) if !crate::handles::finalizing() => delete(env),
            _ => {
                self.home.post(Box::new(move |env: Env| delete(env.raw())));
            }
        }
    }
}

/// A persistent reference to a JavaScript function.
pub(crate) struct JsFunction {
    held: JsRef,
}

impl JsFunction {
    /// Holds `function` strongly, at home on the calling thread.
    pub(crate) fn new<'env, V: JsValue<'env>>(env: &Env, function: &V) -> napi::Result<Self> {
        Self::with_count(env, function, 1)
    }

    /// Holds `function` weakly: it is called while JavaScript keeps it alive.
    pub(crate) fn weak<'env, V: JsValue<'env>>(env: &Env, function: &V) -> napi::Result<Self> {
        Self::with_count(env, function, 0)
    }

    fn with_count<'env, V: JsValue<'env>>(
        env: &Env,
        function: &V,
        count: u32,
    ) -> napi::Result<Self> {
        let home = JsThread::current(env)?;
        // SAFETY: env and value come from the running #[napi] call.
        let held = unsafe { JsRef::new(env.raw(), home, function.value().value, count) }?;
        ALIVE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Self { held })
    }

    /// The thread this function belongs to.
    pub(crate) fn home(&self) -> &Arc<JsThread> {
        &self.held.home
    }

    /// Calls the function with `args`, on the home thread only (`None`
    /// elsewhere). `Some(Err(exception))` when it threw.
    pub(crate) fn call<A: AsRef<[sys::napi_value]>>(
        &self,
        args: impl FnOnce(sys::napi_env) -> A,
    ) -> Option<Result<sys::napi_value, sys::napi_value>> {
        let (env, function) = self.held.value()?;
        // SAFETY: we are on the home thread (`value` checked it), inside a
        // call from JavaScript or a job of the thread-safe function, so `env`
        // is live and a handle scope is open.
        unsafe {
            let argv = args(env);
            let argv = argv.as_ref();
            let receiver = crate::convert::js_undefined(env);
            let mut result = ptr::null_mut();
            let status = sys::napi_call_function(
                env,
                receiver,
                function,
                argv.len(),
                argv.as_ptr(),
                &mut result,
            );
            // A throw makes the call fail with `napi_pending_exception`.
            if status != sys::Status::napi_ok {
                let mut exception = ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut exception);
                return Some(Err(exception));
            }
            Some(Ok(result))
        }
    }
}

impl Drop for JsFunction {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}
