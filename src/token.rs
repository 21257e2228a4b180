//! `NativeToken`: a cancellation token (and its source) for JavaScript.

use std::ptr;

use msw_session_core::{CancellationSource, CancellationToken, SharedFlag};
use napi::bindgen_prelude::{ArrayBuffer, Function};
use napi::{sys, Env};
use napi_derive::napi;

use crate::convert::Text;
use crate::error::OrThrow;
use crate::js_function::JsFunction;
use crate::listeners::JsCancelListener;

/// A cancellation token and its source. JavaScript reads `isCancelled` from
/// the memory returned by `flag()`; everything else goes through these methods.
#[napi]
pub struct NativeToken {
    token: CancellationToken,
    source: CancellationSource,
}

impl NativeToken {
    /// Wraps a core token (a session's).
    pub(crate) fn from_core(token: CancellationToken) -> Self {
        Self::from_source(CancellationSource::from_token(token))
    }

    fn from_source(source: CancellationSource) -> Self {
        Self {
            token: source.token().clone(),
            source,
        }
    }
}

#[napi]
impl NativeToken {
    /// A token that is not cancelled.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::from_core(CancellationToken::new())
    }

    /// A token cancelled after `timeoutMs` on the timer thread with `reason`.
    /// Throws RangeError `ERR_OUT_OF_RANGE` for NaN or a negative count.
    #[napi(factory, catch_unwind)]
    pub fn with_timeout(
        env: Env,
        timeout_ms: f64,
        #[napi(ts_arg_type = "string")] reason: Text,
    ) -> napi::Result<Self> {
        let (source, _timer) =
            CancellationSource::with_timeout_ms(timeout_ms, reason.0).or_throw(&env)?;
        Ok(Self::from_source(source))
    }

    /// The cancelled flag: an `ArrayBuffer` of 4 bytes over the core's
    /// memory, read as `new Int32Array(buffer)[0] !== 0`. Call it once per
    /// token: the memory may be exposed to this thread only once.
    #[napi(catch_unwind)]
    pub fn flag<'env>(&self, env: &'env Env) -> napi::Result<ArrayBuffer<'env>> {
        let flag = Box::new(self.token.shared_flag());
        let data = flag.as_ptr() as *mut std::ffi::c_void;
        let hint = Box::into_raw(flag);
        let mut buffer = ptr::null_mut();
        // SAFETY: `data` points at an aligned i32 kept alive by `hint` (an
        // owned `SharedFlag`) until the finalizer below drops it.
        napi::check_status!(unsafe {
            sys::napi_create_external_arraybuffer(
                env.raw(),
                data,
                4,
                Some(release_flag),
                hint.cast(),
                &mut buffer,
            )
        })
        .inspect_err(|_| {
            // SAFETY: creation failed, so N-API does not own `hint`.
            drop(unsafe { Box::from_raw(hint) });
        })?;
        // SAFETY: `buffer` was just created in this env.
        unsafe { napi::bindgen_prelude::FromNapiValue::from_napi_value(env.raw(), buffer) }
    }

    /// The reason, once cancelled; `undefined` without one or before.
    #[napi(getter, catch_unwind, ts_return_type = "string | null")]
    pub fn reason(&self) -> Option<Text> {
        self.token.reason().flatten().map(Text)
    }

    /// Cancels; `false` when it already was.
    #[napi(catch_unwind)]
    pub fn cancel(
        &self,
        #[napi(ts_arg_type = "string | undefined | null")] reason: Option<Text>,
    ) -> bool {
        self.token.cancel(reason.map(|t| t.0))
    }

    /// Registers a callback, held weakly (the JavaScript wrapper keeps it
    /// alive); returns its id, or `null` when the token was already
    /// cancelled and the callback has run.
    #[napi(catch_unwind, ts_args_type = "callback: (reason?: string) => void")]
    pub fn on_cancelled(&self, env: Env, callback: Function<'_>) -> napi::Result<Option<i64>> {
        let listener = JsCancelListener::new(JsFunction::weak(&env, &callback)?);
        Ok(self.token.on_cancelled(listener).map(|id| id as i64))
    }

    /// Removes a callback; `false` when it was not registered.
    #[napi(catch_unwind)]
    pub fn remove_callback(&self, id: i64) -> bool {
        self.token.remove_callback(id as u64)
    }

    /// Cancels this token when `parent` is cancelled (at once when it is),
    /// with the parent's reason.
    #[napi(catch_unwind)]
    pub fn link(&self, parent: &NativeToken) {
        self.source.link(&parent.token);
    }

    /// Releases the links to parents and stops the timer.
    #[napi(catch_unwind)]
    pub fn dispose(&self) {
        self.source.dispose();
    }
}

unsafe extern "C" fn release_flag(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: `hint` is the `Box<SharedFlag>` leaked in `flag`, released once.
    drop(unsafe { Box::from_raw(hint.cast::<SharedFlag>()) });
}
