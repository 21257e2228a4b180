//! Rust values as JavaScript values, at the cost of one N-API call each.

use std::ptr;

use msw_session_core::js_text;
use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{sys, ValueType};

/// A JavaScript string as the core holds it: every string, lone surrogates
/// included, read without loss ([`js_text::from_utf16`]) and given back as
/// it came. napi-rs's `String` would turn a lone surrogate into U+FFFD.
pub struct Text(pub(crate) String);

impl TypeName for Text {
    fn type_name() -> &'static str {
        "string"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for Text {}

impl FromNapiValue for Text {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let mut len = 0;
        // SAFETY: `env` and `value` come from the running call (napi-rs's contract).
        napi::check_status!(
            unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len) },
            "Expected a string"
        )?;
        let mut units = vec![0u16; len + 1];
        let mut written = 0;
        // SAFETY: as above; `units` has room for `len` units and the NUL.
        napi::check_status!(unsafe {
            sys::napi_get_value_string_utf16(env, value, units.as_mut_ptr(), len + 1, &mut written)
        })?;
        units.truncate(written);
        Ok(Text(js_text::from_utf16(&units)))
    }
}

impl ToNapiValue for Text {
    unsafe fn to_napi_value(env: sys::napi_env, text: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: `env` is the live env of this call (napi-rs's contract).
        unsafe { js_string(env, &text.0) }
            .map_err(|()| napi::Error::from_reason("cannot create a string"))
    }
}

/// A JavaScript string.
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn js_string(env: sys::napi_env, text: &str) -> Result<sys::napi_value, ()> {
    let mut value = ptr::null_mut();
    // SAFETY: per the function's contract. ASCII is valid Latin-1, whose
    // conversion skips UTF-8 decoding; a string with lone surrogates is
    // rebuilt from its UTF-16 code units.
    let status = unsafe {
        if text.is_ascii() {
            sys::napi_create_string_latin1(
                env,
                text.as_ptr().cast(),
                text.len() as isize,
                &mut value,
            )
        } else if let Some(units) = js_text::to_utf16(text) {
            sys::napi_create_string_utf16(env, units.as_ptr(), units.len() as isize, &mut value)
        } else {
            sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut value)
        }
    };
    if status == sys::Status::napi_ok {
        Ok(value)
    } else {
        Err(())
    }
}

pub(crate) unsafe fn js_number(env: sys::napi_env, number: f64) -> sys::napi_value {
    let mut value = ptr::null_mut();
    // SAFETY: `env` is live (caller's contract); a double always converts.
    unsafe { sys::napi_create_double(env, number, &mut value) };
    value
}

/// `undefined`.
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn js_undefined(env: sys::napi_env) -> sys::napi_value {
    let mut value = ptr::null_mut();
    // SAFETY: per the function's contract.
    unsafe { sys::napi_get_undefined(env, &mut value) };
    value
}

/// A string, or `undefined` for `None`.
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn js_opt_string(env: sys::napi_env, text: Option<&str>) -> sys::napi_value {
    // SAFETY: per the function's contract.
    unsafe {
        match text.map(|t| js_string(env, t)) {
            Some(Ok(value)) => value,
            _ => js_undefined(env),
        }
    }
}

pub(crate) unsafe fn js_opt_number(env: sys::napi_env, number: Option<f64>) -> sys::napi_value {
    // SAFETY: `env` is live (caller's contract).
    unsafe {
        match number {
            Some(n) => js_number(env, n),
            None => js_undefined(env),
        }
    }
}
