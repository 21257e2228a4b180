//! `NativeTracker`: a progress tracker for JavaScript.

use msw_session_core::ProgressTracker;
use napi::bindgen_prelude::{validate_type_tag, Function, JsValue, TypeTag, Unknown};
use napi::sys;
use napi::Env;
use napi_derive::napi;

use crate::convert::{self, Text};
use crate::error::OrThrow;
use crate::handles::Counted;
use crate::js_function::JsFunction;
use crate::listeners::{Args, JsProgressListener};

/// A progress tracker. Argument types are checked by the JavaScript layer;
/// values (NaN, ranges) are checked by the core.
#[napi(custom_finalize)]
pub struct NativeTracker {
    tracker: ProgressTracker,
    _counted: Counted,
}

impl NativeTracker {
    /// Wraps a core tracker (a session's).
    pub(crate) fn from_core(tracker: ProgressTracker) -> Self {
        Self {
            tracker,
            _counted: Counted::new(),
        }
    }
}

#[napi]
impl NativeTracker {
    /// A pending tracker at 0 %.
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "string")] session_id: Text,
        #[napi(ts_arg_type = "string")] operation: Text,
    ) -> Self {
        Self::from_core(ProgressTracker::new(session_id.0, operation.0))
    }

    /// Registers `listener`, held weakly (the JavaScript wrapper keeps it
    /// alive), called with the fields an update can change as positional
    /// arguments (`protocol::changing_args`; the others never change);
    /// returns its id.
    #[napi(
        catch_unwind,
        ts_args_type = "listener: (shape: number, progress: number, updatedAt: string, currentStep: string | undefined, totalSteps: number | undefined, completedSteps: number | undefined, error: string | undefined, eta: string | undefined) => void"
    )]
    pub fn on_progress(&self, env: Env, listener: Function<'_>) -> napi::Result<i64> {
        let listener = JsProgressListener::new(JsFunction::weak(&env, &listener)?, Args::Changing);
        Ok(self.tracker.on_progress(listener) as i64)
    }

    /// Removes a listener; `false` when it was not registered.
    #[napi(catch_unwind)]
    pub fn remove_listener(&self, id: i64) -> bool {
        self.tracker.remove_listener(id as u64)
    }

    /// Calls `build` with the current state as arguments
    /// (`protocol::state_args`) and returns what it returns.
    #[napi(
        catch_unwind,
        ts_generic_types = "T",
        ts_args_type = "build: (sessionId: string, operation: string, startedAt: string, shape: number, progress: number, updatedAt: string, currentStep: string | undefined, totalSteps: number | undefined, completedSteps: number | undefined, error: string | undefined, eta: string | undefined) => T",
        ts_return_type = "T"
    )]
    pub fn state<'env>(
        &self,
        env: &'env Env,
        build: Function<'env>,
    ) -> napi::Result<Unknown<'env>> {
        let state = self.tracker.state();
        // SAFETY: `env` is the live env of this call.
        let args = unsafe { crate::protocol::state_args(env.raw(), &state) };
        let mut result = std::ptr::null_mut();
        // SAFETY: as above; `build` is a function of this env.
        napi::check_status!(unsafe {
            napi::sys::napi_call_function(
                env.raw(),
                convert::js_undefined(env.raw()),
                napi::JsValue::value(&build).value,
                args.len(),
                args.as_ptr(),
                &mut result,
            )
        })?;
        // SAFETY: `result` was returned by the call above.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), result) })
    }

    /// `[ratePerSec, remainingMs, etaMs, inSteps]` (laid out by
    /// `protocol::estimate_tuple`), or `null` until the rate is known.
    #[napi(catch_unwind)]
    pub fn estimate(&self) -> Option<Vec<f64>> {
        self.tracker
            .estimate()
            .map(|e| crate::protocol::estimate_tuple(&e))
    }

    /// Whether the status is `running`.
    #[napi(catch_unwind)]
    pub fn is_running(&self) -> bool {
        self.tracker.is_running()
    }

    /// Starts; `totalSteps` must be a whole number from 0 to 2^53 - 1.
    #[napi(catch_unwind)]
    pub fn start(&self, env: Env, total_steps: Option<f64>) -> napi::Result<()> {
        self.tracker.start(total_steps).or_throw(&env)
    }

    /// Counts one completed step.
    #[napi(catch_unwind)]
    pub fn complete_step(
        &self,
        #[napi(ts_arg_type = "string | undefined | null")] step_name: Option<Text>,
    ) {
        self.tracker.complete_step(step_name.map(|t| t.0))
    }

    /// Sets the steps as they are: `done` of `totalSteps` (kept when not
    /// given), the current step (cleared when not given), the percentage
    /// as `completeStep` computes it; both whole numbers from 0 to 2^53 - 1.
    #[napi(catch_unwind)]
    pub fn set_steps(
        &self,
        env: Env,
        done: f64,
        total_steps: Option<f64>,
        #[napi(ts_arg_type = "string | undefined | null")] step: Option<Text>,
    ) -> napi::Result<()> {
        self.tracker
            .set_steps(done, total_steps, step.map(|t| t.0))
            .or_throw(&env)
    }

    /// Finishes successfully.
    #[napi(catch_unwind)]
    pub fn complete(&self) {
        self.tracker.complete()
    }

    /// Finishes with an error.
    #[napi(catch_unwind)]
    pub fn fail(&self, #[napi(ts_arg_type = "string")] error: Text) {
        self.tracker.fail(error.0)
    }

    /// Stops on request.
    #[napi(catch_unwind)]
    pub fn cancel(&self, #[napi(ts_arg_type = "string | undefined | null")] reason: Option<Text>) {
        self.tracker.cancel(reason.map(|t| t.0))
    }

    /// Sets the estimated completion from a time value in ms.
    #[napi(catch_unwind)]
    pub fn set_eta(&self, env: Env, eta_ms: f64) -> napi::Result<()> {
        self.tracker.set_eta(eta_ms).or_throw(&env)
    }
}

/// Sets a tracker's percentage (clamped; NaN refused) and current step: the
/// hot path of a tracker, a function rather than a method of
/// `NativeTracker` so that the tracker is borrowed by [`receiver`], not as
/// `&self` (see there why).
#[napi(
    catch_unwind,
    ts_args_type = "tracker: NativeTracker, progress: number, currentStep?: string | undefined | null"
)]
pub fn set_tracker_progress(
    env: Env,
    tracker: Unknown,
    progress: f64,
    current_step: Option<Text>,
) -> napi::Result<()> {
    // SAFETY: `env` and `tracker` are this call's.
    let tracker = unsafe { receiver(&env, tracker.raw()) }?;
    tracker
        .tracker
        .set_progress(progress, current_step.map(|t| t.0))
        .or_throw(&env)
}

/// The `NativeTracker` that `value` wraps, checked by its type tag as napi-rs
/// checks a `&self` receiver, but without napi-rs's registry of native
/// borrows: for each `&self` call, that takes a process-wide lock and adds
/// and removes a hash-map entry, a seventh of a whole tracker update. The
/// registry refuses a `&mut` borrow beside another borrow; no method of
/// `NativeTracker` takes `&mut self`, and the object lives for the call (it
/// is an argument of the call), so a shared borrow here can conflict with
/// nothing.
///
/// # Safety
/// `env` must be the live env of the current call, `value` a value of it.
unsafe fn receiver<'a>(env: &Env, value: sys::napi_value) -> napi::Result<&'a NativeTracker> {
    let mut wrapped = std::ptr::null_mut();
    // SAFETY: per the function's contract; the tag check rejects an object
    // of another class before the cast.
    unsafe {
        validate_type_tag(
            env.raw(),
            value,
            &<NativeTracker as TypeTag>::type_tag(),
            "NativeTracker",
        )?;
        napi::check_status!(sys::napi_unwrap(env.raw(), value, &mut wrapped))?;
        Ok(&*wrapped.cast::<NativeTracker>())
    }
}

crate::handles::finalized_by_handles!(NativeTracker);
