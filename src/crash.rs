//! `NativeCrashScan`: a crash scan handed to JavaScript batch by batch, so
//! that it parses one batch while the scan's threads read the next.

use msw_session_core::CrashScan;
use napi::Env;
use napi_derive::napi;

use crate::error::OrThrow;

/// A crash scan under way (from `NativeStore.scanCrashed` or
/// `NativeManager.scanCrashed`).
#[napi(custom_finalize)]
pub struct NativeCrashScan {
    scan: CrashScan,
}

impl From<CrashScan> for NativeCrashScan {
    fn from(scan: CrashScan) -> Self {
        NativeCrashScan { scan }
    }
}

#[napi]
impl NativeCrashScan {
    /// The next batch of crashed states, marked, as one JSON array; `null`
    /// when the scan is done. A batch is the files' own text (not strings
    /// the core mapped, see `js_text`), so it goes to JavaScript as plain
    /// UTF-8: a char of the plane the mapping uses stays that char.
    #[napi(catch_unwind, ts_return_type = "string | null")]
    pub fn next(&mut self, env: Env) -> napi::Result<Option<String>> {
        self.scan.next().transpose().or_throw(&env)
    }
}

crate::handles::finalized_by_handles!(NativeCrashScan);
