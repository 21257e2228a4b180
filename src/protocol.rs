//! The positional layouts in which Rust hands values to JavaScript, each
//! defined once, here, beside the JavaScript that reads it. A value crosses
//! as positional arguments (or an array) rather than an object because
//! building an object in Rust costs a microsecond or two, in JavaScript a
//! nanosecond (see `MEASUREMENTS.md`).
//!
//! | Rust | layout | read by (`index.js`) |
//! |---|---|---|
//! | [`STATUSES`], [`status_names`] | a status is its index in this list | `STATUSES` (taken from [`status_names`] at load) |
//! | [`state_args`] | the whole state, [`STATE_ARGS`] arguments | `buildState`: manager listeners (`stateListener`), `getState` |
//! | [`changing_args`] | the fields an update can change, [`CHANGING_ARGS`] arguments | the tracker's listener in `ProgressTracker#makeListeners` |
//! | [`estimate_tuple`] | `[ratePerSec, remainingMs, etaMs, inSteps]` | `ProgressTracker#estimate` |
//!
//! Adding a field to `ProgressState` means: a position in [`state_args`]
//! (and in [`changing_args`] when an update can change it), the parameter of
//! `buildState` at that position, and the tracker listener's parameter.

use msw_session_core::progress::Estimate;
use msw_session_core::{ProgressState, ProgressStatus};
use napi::sys;
use napi_derive::napi;

use crate::convert::{js_number, js_opt_number, js_opt_string};

/// The statuses, each passed as its index in this list (a number costs less
/// to hand over than a string).
pub(crate) const STATUSES: [ProgressStatus; 5] = [
    ProgressStatus::Pending,
    ProgressStatus::Running,
    ProgressStatus::Completed,
    ProgressStatus::Failed,
    ProgressStatus::Cancelled,
];

/// The progress statuses, in the order in which the core passes them as
/// numbers (`["pending", "running", …]`).
#[napi]
pub fn status_names() -> Vec<String> {
    STATUSES.iter().map(|s| s.name()).collect()
}

fn status_index(status: ProgressStatus) -> f64 {
    STATUSES.iter().position(|s| *s == status).unwrap_or(0) as f64
}

/// The number of arguments of [`state_args`].
pub(crate) const STATE_ARGS: usize = 11;

/// The number of arguments of [`changing_args`].
pub(crate) const CHANGING_ARGS: usize = 8;

/// A progress state as the arguments of `buildState`, in the order of
/// `ProgressState`'s declaration: `(sessionId, operation, status, progress,
/// currentStep, totalSteps, completedSteps, startedAt, updatedAt, error,
/// eta)`; `undefined` for an absent field; `status` as its index in
/// [`STATUSES`].
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn state_args(
    env: sys::napi_env,
    s: &ProgressState,
) -> [sys::napi_value; STATE_ARGS] {
    // SAFETY: per the function's contract.
    unsafe {
        [
            js_opt_string(env, Some(&s.session_id)),
            js_opt_string(env, Some(&s.operation)),
            js_number(env, status_index(s.status)),
            js_number(env, s.progress),
            js_opt_string(env, s.current_step.as_deref()),
            js_opt_number(env, s.total_steps),
            js_opt_number(env, s.completed_steps),
            js_opt_string(env, Some(&s.started_at)),
            js_opt_string(env, Some(&s.updated_at)),
            js_opt_string(env, s.error.as_deref()),
            js_opt_string(env, s.eta.as_deref()),
        ]
    }
}

/// The fields of a state that an update can change, as arguments:
/// `(status, progress, currentStep, totalSteps, completedSteps, updatedAt,
/// error, eta)` (see [`state_args`]; the tracker's listener knows the rest).
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn changing_args(
    env: sys::napi_env,
    s: &ProgressState,
) -> [sys::napi_value; CHANGING_ARGS] {
    // SAFETY: per the function's contract.
    unsafe {
        [
            js_number(env, status_index(s.status)),
            js_number(env, s.progress),
            js_opt_string(env, s.current_step.as_deref()),
            js_opt_number(env, s.total_steps),
            js_opt_number(env, s.completed_steps),
            js_opt_string(env, Some(&s.updated_at)),
            js_opt_string(env, s.error.as_deref()),
            js_opt_string(env, s.eta.as_deref()),
        ]
    }
}

/// An estimate as `[ratePerSec, remainingMs, etaMs, inSteps]`, `inSteps` 1
/// when the rate is in steps and 0 when in percent.
pub(crate) fn estimate_tuple(e: &Estimate) -> Vec<f64> {
    vec![
        e.rate_per_sec,
        e.remaining_ms,
        e.eta_ms,
        if e.in_steps { 1.0 } else { 0.0 },
    ]
}
