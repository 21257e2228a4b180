//! JavaScript callbacks as core listeners. Each is at home on the thread that
//! registered it: called in place there, posted there from anywhere else.

use std::ptr;
use std::sync::Arc;
use std::thread::ThreadId;

use msw_session_core::{ContextProvider, Listener, ProgressState, ReadError, Thrown};
use napi::{sys, Env};

use crate::convert;
use crate::js_function::{JsFunction, JsRef};
use crate::protocol;

/// A progress callback. A manager's hears every session and receives the
/// whole state ([`protocol::state_args`]); a tracker's receives only the
/// fields an update can change ([`protocol::changing_args`]), the JavaScript
/// side knowing the rest.
pub(crate) struct JsProgressListener(Arc<JsFunction>, Args);

/// Which arguments a progress callback receives.
#[derive(Clone, Copy)]
pub(crate) enum Args {
    /// The whole state ([`protocol::state_args`]).
    Whole,
    /// The fields an update can change ([`protocol::changing_args`]).
    Changing,
}

impl JsProgressListener {
    pub(crate) fn new(function: JsFunction, args: Args) -> Arc<Self> {
        Arc::new(Self(Arc::new(function), args))
    }
}

fn call_with_state(function: &JsFunction, args: Args, state: &ProgressState) {
    // SAFETY: `call` runs the closures on the home thread with its live env.
    let _ = match args {
        Args::Whole => function.call(|env| unsafe { protocol::state_args(env, state) }),
        Args::Changing => function.call(|env| unsafe { protocol::changing_args(env, state) }),
    };
}

impl Listener<ProgressState> for JsProgressListener {
    fn call(&self, state: &ProgressState) {
        call_with_state(&self.0, self.1, state);
    }

    fn home(&self) -> Option<ThreadId> {
        Some(self.0.home().id())
    }

    fn post(&self, state: &ProgressState) {
        let (function, args) = (self.0.clone(), self.1);
        let state = state.clone();
        self.0.home().post(Box::new(move |_: Env| {
            call_with_state(&function, args, &state)
        }));
    }
}

/// A cancellation callback; receives the reason or `undefined`.
pub(crate) struct JsCancelListener(Arc<JsFunction>);

impl JsCancelListener {
    pub(crate) fn new(function: JsFunction) -> Arc<Self> {
        Arc::new(Self(Arc::new(function)))
    }
}

fn call_with_reason(function: &JsFunction, reason: &Option<String>) {
    // SAFETY: `call` runs the closure on the home thread with its live env.
    let _ = function.call(|env| [unsafe { convert::js_opt_string(env, reason.as_deref()) }]);
}

impl Listener<Option<String>> for JsCancelListener {
    fn call(&self, reason: &Option<String>) {
        call_with_reason(&self.0, reason);
    }

    fn home(&self) -> Option<ThreadId> {
        Some(self.0.home().id())
    }

    fn post(&self, reason: &Option<String>) {
        let function = self.0.clone();
        let reason = reason.clone();
        self.0
            .home()
            .post(Box::new(move |_: Env| call_with_reason(&function, &reason)));
    }
}

/// Reads a session's context through a JavaScript function that returns
/// `JSON.stringify(session.context)`; only on its home thread.
pub(crate) struct JsContextProvider(JsFunction);

impl JsContextProvider {
    pub(crate) fn new(function: JsFunction) -> Box<Self> {
        Box::new(Self(function))
    }
}

impl ContextProvider for JsContextProvider {
    fn read(&self) -> Result<Option<String>, ReadError> {
        let Some(env) = self.0.home().env() else {
            return Ok(None);
        };
        match self.0.call(|_| []) {
            None => Ok(None),
            // SAFETY: on the home thread with its live env (checked above).
            Some(Ok(value)) => unsafe { read_string(env, value) }
                .map(Some)
                .ok_or_else(|| "JSON.stringify did not return a string".to_string().into()),
            // SAFETY: as above; the exception is kept with this read's error,
            // for JavaScript to see as its `cause`.
            Some(Err(exception)) => Err(ReadError {
                message: unsafe { message_of(env, exception) },
                thrown: unsafe { JsRef::new(env, self.0.home().clone(), exception, 1) }
                    .ok()
                    .map(|held| Thrown(Arc::new(held))),
            }),
        }
    }

    fn readable_here(&self) -> bool {
        self.0.home().env().is_some()
    }

    fn post(&self, job: Box<dyn FnOnce() + Send>) {
        self.0.home().post(Box::new(move |_: Env| job()));
    }
}

unsafe fn read_string(env: sys::napi_env, value: sys::napi_value) -> Option<String> {
    // SAFETY: `env` is live on this thread (caller's contract).
    unsafe {
        let mut kind = 0;
        sys::napi_typeof(env, value, &mut kind);
        if kind != sys::ValueType::napi_string {
            return None;
        }
        let mut len = 0;
        sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len);
        let mut buf = vec![0u8; len + 1];
        sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), len + 1, &mut len);
        buf.truncate(len);
        String::from_utf8(buf).ok()
    }
}

/// The `message` of a thrown error, or a generic text.
unsafe fn message_of(env: sys::napi_env, exception: sys::napi_value) -> String {
    // SAFETY: `env` is live on this thread (caller's contract).
    unsafe {
        let mut kind = 0;
        if !exception.is_null() {
            sys::napi_typeof(env, exception, &mut kind);
        }
        if kind == sys::ValueType::napi_object {
            let mut message = ptr::null_mut();
            if sys::napi_get_named_property(env, exception, c"message".as_ptr(), &mut message)
                == sys::Status::napi_ok
            {
                if let Some(text) = read_string(env, message) {
                    return text;
                }
            }
            // A property read may throw (a getter); leave nothing pending.
            let mut ignored = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut ignored);
        }
        "the context's serializer threw".to_string()
    }
}
