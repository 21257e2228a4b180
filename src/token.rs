//! `NativeToken`: a cancellation token (and its source) for JavaScript.

use std::cell::RefCell;
use std::ptr;

use msw_session_core::{cancel_flags, CancellationSource, CancellationToken};
use napi::bindgen_prelude::{Function, Unknown};
use napi::{sys, Env};
use napi_derive::napi;

use crate::convert::Text;
use crate::error::OrThrow;
use crate::handles::Counted;
use crate::js_function::JsFunction;
use crate::listeners::JsCancelListener;

/// A cancellation token and its source. JavaScript reads `isCancelled` from
/// the memory returned by `flag()`; everything else goes through these methods.
#[napi(custom_finalize)]
pub struct NativeToken {
    token: CancellationToken,
    source: CancellationSource,
    _counted: Counted,
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
            _counted: Counted::new(),
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

    /// The cancelled flag: an `Int32Array` of one element, 0 until the
    /// token is cancelled and 1 after, over memory the core shares with
    /// every thread. It is a window on this thread's mapping of a page of
    /// [`cancel_flags`](msw_session_core::cancel_flags), so it needs no
    /// finalizer; the slot is the token's while this object lives.
    #[napi(catch_unwind, ts_return_type = "Int32Array")]
    pub fn flag<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
        let (page, at) = self.token.shared_flag().place();
        let buffer = page_buffer(env.raw(), page)?;
        let mut view = ptr::null_mut();
        // SAFETY: `buffer` is an ArrayBuffer of this env holding PAGE_SLOTS
        // 32-bit flags, and `at` < PAGE_SLOTS.
        napi::check_status!(unsafe {
            sys::napi_create_typedarray(
                env.raw(),
                sys::TypedarrayType::int32_array,
                1,
                buffer,
                at * 4,
                &mut view,
            )
        })?;
        // SAFETY: `view` was just created in this env.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), view) })
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

thread_local! {
    /// This thread's mapping of each page of cancelled flags: a strong
    /// reference to an `ArrayBuffer` over it, made once per page and thread
    /// (a page may be exposed to a thread only once), kept for the thread's
    /// life as the page is kept for the process's.
    static PAGES: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// This thread's `ArrayBuffer` over flag page `page`.
fn page_buffer(env: sys::napi_env, page: usize) -> napi::Result<sys::napi_value> {
    PAGES.with(|pages| {
        let mut pages = pages.borrow_mut();
        while pages.len() <= page {
            let index = pages.len();
            let data = cancel_flags::page(index).ok_or_else(|| {
                napi::Error::from_reason(format!("no page {index} of cancelled flags"))
            })?;
            let mut buffer = ptr::null_mut();
            let mut reference = ptr::null_mut();
            // SAFETY: the page lives for the process, so the buffer needs no
            // finalizer; `env` is this thread's live env.
            unsafe {
                napi::check_status!(sys::napi_create_external_arraybuffer(
                    env,
                    data as *mut std::ffi::c_void,
                    cancel_flags::PAGE_SLOTS * 4,
                    None,
                    ptr::null_mut(),
                    &mut buffer,
                ))?;
                napi::check_status!(sys::napi_create_reference(env, buffer, 1, &mut reference))?;
            }
            pages.push(reference as usize);
        }
        let mut buffer = ptr::null_mut();
        // SAFETY: the reference is strong and of this thread's env.
        napi::check_status!(unsafe {
            sys::napi_get_reference_value(env, pages[page] as sys::napi_ref, &mut buffer)
        })?;
        Ok(buffer)
    })
}

crate::handles::finalized_by_handles!(NativeToken);
