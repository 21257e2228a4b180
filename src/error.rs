//! Core errors as JavaScript errors: one class and one stable `code` per
//! variant, decided here and nowhere else.

use std::ptr;

use msw_session_core::CoreError;
use napi::{sys, Env, Error, Status};

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
        CoreError::Io { .. } | CoreError::Internal(_) => Class::Plain,
    }
}

/// Throws `error` into `env` as a JavaScript error with its `code` (and
/// `path`, for a file-system error) and returns the napi error that tells
/// napi-rs an exception is already pending.
pub(crate) fn throw(env: &Env, error: CoreError) -> Error {
    let raw = env.raw();
    let path = match &error {
        CoreError::Io { path, .. } => Some(path.display().to_string()),
        _ => None,
    };
    let code = error.code();
    let message = error.to_string();
    // SAFETY: `raw` is the live env of the current JS thread (every caller is
    // a #[napi] method running on it); values are created and thrown at once.
    unsafe {
        let (Ok(js_code), Ok(js_message)) = (
            crate::convert::js_string(raw, code),
            crate::convert::js_string(raw, &message),
        ) else {
            return Error::new(Status::GenericFailure, message);
        };
        let mut js_error = ptr::null_mut();
        let status = match class_of(&error) {
            Class::Type => sys::napi_create_type_error(raw, js_code, js_message, &mut js_error),
            Class::Range => sys::napi_create_range_error(raw, js_code, js_message, &mut js_error),
            Class::Plain => sys::napi_create_error(raw, js_code, js_message, &mut js_error),
        };
        if status != sys::Status::napi_ok {
            return Error::new(Status::GenericFailure, message);
        }
        if let Some(path) = path {
            if let Ok(js_path) = crate::convert::js_string(raw, &path) {
                sys::napi_set_named_property(raw, js_error, c"path".as_ptr(), js_path);
            }
        }
        sys::napi_throw(raw, js_error);
    }
    Error::from_status(Status::PendingException)
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
