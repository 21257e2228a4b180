//! The positional layouts in which Rust hands values to JavaScript, each
//! defined once, here, beside the JavaScript that reads it. A value crosses
//! as positional arguments (or an array) rather than an object because
//! building an object in Rust costs a microsecond or two, in JavaScript a
//! nanosecond (see `MEASUREMENTS.md`).
//!
//! | Rust | layout | read by (`lib/trackers.js`) |
//! |---|---|---|
//! | [`STATUSES`], [`status_names`] | a status is its index in this list | `STATUSES` (taken from [`status_names`] at load) |
//! | [`shape`] | a status and the optional keys present, in their order, as one number | `buildState` |
//! | [`state_args`] | the whole state, [`STATE_ARGS`] arguments | `buildState`: manager listeners (`stateListener`), `getState` |
//! | [`changing_args`] | the last [`CHANGING_ARGS`] of [`state_args`]: the fields an update can change | the tracker's listener (`trackerListener`), which calls `buildState` |
//! | [`estimate_tuple`] | `[ratePerSec, remainingMs, etaMs, inSteps]` | `ProgressTracker#estimate` |
//! | [`NativeInspection`] | `{ stateJson, ownerState }`: one session's file text and its owner's state | `inspect` (store, manager) |
//! | [`NativeStateList`] | `{ statesJson, ownerStates }`: one JSON array of the states, and the owner state of each at the same index | `listStates` (store, manager) |
//!
//! Adding a field to `ProgressState` means: a position at the end of
//! [`changing_args`] (or, when no update changes it, among the first
//! arguments of [`state_args`]), the parameter of `buildState` at that
//! position (and of the tracker's listener), and, for an optional field, a
//! place in [`OPTIONAL`] and its case in `buildState`'s switch.
//!
//! The layouts are spelled out again where a type must name them: the
//! `ts_args_type` of `NativeManager::on_progress`, `NativeTracker::on_progress`
//! and `NativeTracker::state` (hence `binding.d.ts`), and `ProgressState`,
//! `ProgressStatus` and `ProgressEstimate` in `index.d.ts`.
//! `__test__/protocol.spec.ts` reads the layouts from this file (the bodies
//! of [`state_args`], [`changing_args`] and [`estimate_tuple`], [`STATUSES`]
//! and [`OPTIONAL`]) and fails when any of those places, or the JavaScript
//! that reads the values, disagrees.

use msw_session_core::progress::{Estimate, Key};
use msw_session_core::{Inspection, ProgressState, ProgressStatus, SessionStatus, StateFilter};
use napi::sys;
use napi_derive::napi;

use crate::convert::{js_number, js_opt_number, js_opt_string, Text};
use crate::error::OrThrow;

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

fn status_index(status: ProgressStatus) -> u32 {
    STATUSES.iter().position(|s| *s == status).unwrap_or(0) as u32
}

/// The number of arguments of [`state_args`].
pub(crate) const STATE_ARGS: usize = 3 + CHANGING_ARGS;

/// The number of arguments of [`changing_args`].
pub(crate) const CHANGING_ARGS: usize = 8;

/// The optional keys, in the order of their arguments in [`changing_args`];
/// [`shape`] names each by its place here plus one (the `case` of
/// `buildState`'s switch).
const OPTIONAL: [Key; 5] = [
    Key::CurrentStep,
    Key::TotalSteps,
    Key::CompletedSteps,
    Key::Error,
    Key::Eta,
];

/// The status and the keys of a state as one number: the status's index in
/// [`STATUSES`] in the low 3 bits, then 3 bits per optional key present, in
/// the state's order of keys (the first lowest), each its place in
/// [`OPTIONAL`] plus one. `buildState` lists the six base keys first (a
/// tracker's state always has them so, see `Keys`), then the optional ones
/// in this order, `undefined` ones included. At most 18 bits.
fn shape(s: &ProgressState) -> f64 {
    let (mut shape, mut shift) = (status_index(s.status), 3);
    for key in s.keys().iter() {
        let code = CODES[key as usize];
        if code != 0 {
            shape |= code << shift;
            shift += 3;
        }
    }
    f64::from(shape)
}

/// Each key's code in [`shape`], by `Key as usize`: its place in
/// [`OPTIONAL`] plus one; 0 for a base key.
const CODES: [u32; Key::ALL.len()] = {
    let mut codes = [0; Key::ALL.len()];
    let mut place = 0;
    while place < OPTIONAL.len() {
        codes[OPTIONAL[place] as usize] = place as u32 + 1;
        place += 1;
    }
    codes
};

/// A progress state as the arguments of `buildState`: `(sessionId,
/// operation, startedAt)`, then [`changing_args`].
///
/// # Safety
/// `env` must be the live env of the current thread.
pub(crate) unsafe fn state_args(
    env: sys::napi_env,
    s: &ProgressState,
) -> [sys::napi_value; STATE_ARGS] {
    let mut args = [std::ptr::null_mut(); STATE_ARGS];
    // SAFETY: per the function's contract.
    unsafe {
        args[0] = js_opt_string(env, Some(&s.session_id));
        args[1] = js_opt_string(env, Some(&s.operation));
        args[2] = js_opt_string(env, Some(&s.started_at));
        args[3..].copy_from_slice(&changing_args(env, s));
    }
    args
}

/// The fields of a state that an update can change, as arguments: `(shape,
/// progress, updatedAt, currentStep, totalSteps, completedSteps, error,
/// eta)`, [`shape`] for the status and the keys, `undefined` for a field
/// without a value (whether its key is there is told by `shape`).
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
            js_number(env, shape(s)),
            js_number(env, s.progress),
            js_opt_string(env, Some(&s.updated_at)),
            js_opt_string(env, s.current_step.as_deref()),
            js_opt_number(env, s.total_steps),
            js_opt_number(env, s.completed_steps),
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

/// One session and its owner's state, as `inspect` hands them over: the
/// file's text (`JSON.parse` it) and `"alive"`, `"crashed"`, `"unknown"`
/// or `"finished"`.
#[napi(object, object_from_js = false)]
pub struct NativeInspection {
    /// The text of the session file, as `load` gives it.
    pub state_json: String,
    /// What can be said of the owner: `alive`, `crashed`, `unknown` or
    /// `finished`.
    #[napi(ts_type = "'alive' | 'crashed' | 'unknown' | 'finished'")]
    pub owner_state: String,
}

impl From<Inspection> for NativeInspection {
    fn from(found: Inspection) -> Self {
        Self {
            state_json: found.text,
            owner_state: found.owner_state.name().to_string(),
        }
    }
}

/// Sessions and their owners' states, as `listStates` hands them over: one
/// JSON array of the states (one `JSON.parse` for all), and the owner
/// state of the state at each index.
#[napi(object, object_from_js = false)]
pub struct NativeStateList {
    /// A JSON array of the session files' states, in the order of the
    /// sorted listing.
    pub states_json: String,
    /// The owner state of each state, at the same index.
    #[napi(ts_type = "Array<'alive' | 'crashed' | 'unknown' | 'finished'>")]
    pub owner_states: Vec<String>,
}

impl From<Vec<Inspection>> for NativeStateList {
    fn from(found: Vec<Inspection>) -> Self {
        let mut states_json =
            String::with_capacity(found.iter().map(|f| f.text.len() + 1).sum::<usize>() + 2);
        states_json.push('[');
        let mut owner_states = Vec::with_capacity(found.len());
        for (n, f) in found.into_iter().enumerate() {
            if n > 0 {
                states_json.push(',');
            }
            states_json.push_str(&f.text);
            owner_states.push(f.owner_state.name().to_string());
        }
        states_json.push(']');
        Self {
            states_json,
            owner_states,
        }
    }
}

/// The filter of `listStates` from its arguments: an operation, and a
/// stored status by name (`ERR_OUT_OF_RANGE` for another name).
pub(crate) fn state_filter(
    env: &napi::Env,
    operation: Option<Text>,
    status: Option<Text>,
) -> napi::Result<StateFilter> {
    let status = status
        .map(|name| SessionStatus::from_name("status", &name.0))
        .transpose()
        .or_throw(env)?;
    Ok(StateFilter {
        operation: operation.map(|t| t.0),
        status,
    })
}
