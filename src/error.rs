//! Core errors as JavaScript errors. The stable `code` of each error is
//! decided in the core ([`CoreError::code`]) and only copied here; what is
//! decided here is the JavaScript class of each variant (`TypeError`,
//! `RangeError` or `Error`) and how the error is built (its `code`, its
//! `errors` for a save of several sessions, its `cause` when the context's
//! serializer threw).

use std::ptr;

use msw_session_core::CoreError;
use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, Error, Status};

use crate::js_function::JsRef;

/// The JavaScript class of an error.
#[derive(Clone, Copy)]
enum Class {
    Type,
    Range,
    Plain,
}

fn class_of(error: &CoreError) -> Class {
    match error {
        CoreError::OutOfRange { .. } => Class::Range,
        CoreError::InvalidSessionId { .. }
        | CoreError::InvalidState { .. }
        | CoreError::ContextNotSerializable { .. } => Class::Type,
        CoreError::Io { .. } | CoreError::UnsafeFolder(_) | CoreError::Internal(_) => Class::Plain,
        // A save of several sessions fails as its first failure does.
        CoreError::Sessions { failures } => failures
            .first()
            .map_or(Class::Plain, |(_, first)| class_of(first)),
    }
}

/// The path a file-system error names (a save of several sessions: its
/// first failure's).
fn path_of(error: &CoreError) -> Option<String> {
    match error {
        CoreError::Io { path, .. } => Some(path.display().to_string()),
        CoreError::UnsafeFolder(refusal) => Some(refusal.path.display().to_string()),
        CoreError::Sessions { failures } => failures.first().and_then(|(_, e)| path_of(e)),
        _ => None,
    }
}

/// What user code threw to cause `error` (a save of several sessions: its
/// first failure's), as a value of the calling thread.
fn thrown_of(error: &CoreError) -> Option<sys::napi_value> {
    match error {
        CoreError::ContextNotSerializable {
            thrown: Some(thrown),
            ..
        } => thrown
            .0
            .downcast_ref::<JsRef>()
            .and_then(JsRef::value)
            .map(|(_, value)| value),
        CoreError::Sessions { failures } => failures.first().and_then(|(_, e)| thrown_of(e)),
        _ => None,
    }
}

/// Sets `object[name] = value`, ignoring a failure (the error stays usable).
///
/// # Safety
/// `env` must be the live env of the current thread.
unsafe fn set(
    env: sys::napi_env,
    object: sys::napi_value,
    name: &std::ffi::CStr,
    value: sys::napi_value,
) {
    // SAFETY: per the function's contract.
    unsafe { sys::napi_set_named_property(env, object, name.as_ptr(), value) };
}

/// The JavaScript error for `error`: its class, `code`, `message`, `path`
/// for a file-system error, and for a save of several sessions `errors`
/// (one error per session, each with its `sessionId`).
///
/// # Safety
/// `env` must be the live env of the current thread.
unsafe fn create(env: sys::napi_env, error: &CoreError) -> Option<sys::napi_value> {
    let message = error.to_string();
    // SAFETY: per the function's contract.
    unsafe {
        let js_code = crate::convert::js_string(env, error.code()).ok()?;
        let js_message = crate::convert::js_string(env, &message).ok()?;
        let mut js_error = ptr::null_mut();
        let status = match class_of(error) {
            Class::Type => sys::napi_create_type_error(env, js_code, js_message, &mut js_error),
            Class::Range => sys::napi_create_range_error(env, js_code, js_message, &mut js_error),
            Class::Plain => sys::napi_create_error(env, js_code, js_message, &mut js_error),
        };
        if status != sys::Status::napi_ok {
            return None;
        }
        if let Some(js_path) = path_of(error).and_then(|p| crate::convert::js_string(env, &p).ok())
        {
            set(env, js_error, c"path", js_path);
        }
        if let Some(thrown) = thrown_of(error) {
            set(env, js_error, c"cause", thrown);
        }
        if let CoreError::Sessions { failures } = error {
            let mut list = ptr::null_mut();
            sys::napi_create_array_with_length(env, failures.len(), &mut list);
            for (i, (id, failure)) in failures.iter().enumerate() {
                if let Some(item) = create(env, failure) {
                    if let Ok(js_id) = crate::convert::js_string(env, id) {
                        set(env, item, c"sessionId", js_id);
                    }
                    sys::napi_set_element(env, list, i as u32, item);
                }
            }
            set(env, js_error, c"errors", list);
        }
        Some(js_error)
    }
}

/// Throws `error` into `env` as a JavaScript error (see [`create`]) and
/// returns the napi error that tells napi-rs an exception is already pending.
pub(crate) fn throw(env: &Env, error: CoreError) -> Error {
    let raw = env.raw();
    // SAFETY: `raw` is the live env of the current JS thread (every caller is
    // a #[napi] method running on it); the error is created and thrown at once.
    unsafe {
        match create(raw, &error) {
            Some(js_error) => sys::napi_throw(raw, js_error),
            None => return Error::new(Status::GenericFailure, error.to_string()),
        };
    }
    Error::from_status(Status::PendingException)
}

/// `error` as a JavaScript error value, not thrown (see [`create`]).
pub(crate) fn to_js<'env>(env: &'env Env, error: &CoreError) -> napi::Result<Unknown<'env>> {
    // SAFETY: `env` is the live env of the current JS thread (every caller is
    // a #[napi] function running on it).
    match unsafe { create(env.raw(), error) } {
        Some(js_error) => Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), js_error) }),
        None => Err(Error::new(Status::GenericFailure, error.to_string())),
    }
}

/// The error JavaScript throws when `JSON.stringify` refuses the argument
/// `name` (`context`, `state`, `crashedState`) with `reason`: the core's
/// `ERR_CONTEXT_NOT_SERIALIZABLE`, so that its text is built in one place.
#[napi_derive::napi(ts_return_type = "TypeError & { code: string }")]
pub fn argument_not_serializable<'env>(
    env: &'env Env,
    name: String,
    #[napi(ts_arg_type = "string")] reason: crate::convert::Text,
) -> napi::Result<Unknown<'env>> {
    to_js(env, &CoreError::argument_not_serializable(name, reason.0))
}

/// Turns a core result into a napi result, throwing the error into JavaScript.
pub(crate) trait OrThrow<T> {
    /// See [`throw`].
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for Result<T, CoreError> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|error| throw(env, error))
    }
}
