//! The progress state machine of one operation.
//!
//! # Invariants
//! - `progress` is always within 0..=100 and never NaN.
//! - Every change replaces the state and stamps `updated_at`; listeners hear
//!   each change exactly once, with the state right after it (see
//!   [`listeners`] for threads and order).
//!
//! # Lock order
//! The state lock is a leaf ([`crate`]): listeners are called after it is
//! released, and only posting (which queues) happens under it.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::js_number::{js_display, js_round, json_number, MAX_SAFE_INTEGER};
use crate::listeners::{self, Listener, ListenerId, Listeners};
use crate::sync::lock;

/// The life cycle of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressStatus {
    /// Created, not started.
    Pending,
    /// Started and not finished.
    Running,
    /// Finished successfully.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl ProgressStatus {
    /// The name the files and JavaScript use (`"running"`), as serde writes
    /// it.
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => String::new(),
        }
    }
}

/// A snapshot of a tracker, with the field names of the reference's
/// `ProgressState`. Fields it does not know are kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressState {
    /// The session the tracker belongs to.
    pub session_id: String,
    /// What is being done.
    pub operation: String,
    /// Where the operation is in its life cycle.
    pub status: ProgressStatus,
    /// Percentage done, 0..=100.
    #[serde(with = "json_number")]
    pub progress: f64,
    /// The step being worked on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    /// Steps announced by `start`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "json_number::option"
    )]
    pub total_steps: Option<f64>,
    /// Steps completed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "json_number::option"
    )]
    pub completed_steps: Option<f64>,
    /// Creation time (ISO 8601).
    pub started_at: String,
    /// Time of the last change (ISO 8601).
    pub updated_at: String,
    /// Failure or cancellation message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Estimated time of completion (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<String>,
    /// Fields written by someone else, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ProgressState {
    /// The state of a new tracker: pending, 0 %, both timestamps now.
    pub fn new(session_id: String, operation: String) -> Self {
        let now = clock::now_iso();
        Self {
            session_id,
            operation,
            status: ProgressStatus::Pending,
            progress: 0.0,
            current_step: None,
            total_steps: None,
            completed_steps: None,
            started_at: now.clone(),
            updated_at: now,
            error: None,
            eta: None,
            extra: serde_json::Map::new(),
        }
    }
}

/// The time constant of the rate estimate: observations older than this
/// weigh less than 1/e.
const RATE_TAU_MS: f64 = 10_000.0;

/// A smoothed rate of a growing quantity (steps done, or percent), in the
/// spirit of indicatif's estimator: a plain average over the first
/// [`RATE_TAU_MS`], then an exponentially weighted average over time, so a
/// burst or a pause moves the estimate gradually.
#[derive(Clone, Debug, Default)]
struct Rate {
    /// The first observation: value and [`clock::monotonic_ms`].
    origin: Option<(f64, f64)>,
    /// The last observation that grew.
    last: Option<(f64, f64)>,
    per_ms: f64,
}

impl Rate {
    fn observe(&mut self, value: f64, at: f64) {
        let Some((origin_value, origin_at)) = self.origin else {
            self.origin = Some((value, at));
            self.last = Some((value, at));
            return;
        };
        let Some((last_value, last_at)) = self.last else {
            return;
        };
        if value <= last_value {
            return;
        }
        // A clock set back (a test's fake clock) gives no negative time.
        let since_origin = (at - origin_at).max(0.0);
        let dt = (at - last_at).max(0.0);
        if since_origin <= RATE_TAU_MS {
            if since_origin > 0.0 {
                self.per_ms = (value - origin_value) / since_origin;
            }
        } else if dt > 0.0 {
            let alpha = 1.0 - (-dt / RATE_TAU_MS).exp();
            self.per_ms = alpha * ((value - last_value) / dt) + (1.0 - alpha) * self.per_ms;
        }
        self.last = Some((value, at));
    }
}

/// What [`ProgressTracker::estimate`] says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Steps per second when the tracker has a step total, else percent per second.
    pub rate_per_sec: f64,
    /// Whether the rate counts steps (`true`) or percent.
    pub in_steps: bool,
    /// Time left at that rate, in ms.
    pub remaining_ms: f64,
    /// The estimated time of completion, ms since the epoch.
    pub eta_ms: f64,
}

struct Tracked {
    /// Shared with the listeners of the last change; copied on write only
    /// when one of them still holds it.
    state: Arc<ProgressState>,
    /// How many changes made the state (0 for a new tracker).
    version: u64,
    steps: Rate,
    percent: Rate,
}

struct Inner {
    state: Mutex<Tracked>,
    listeners: Listeners<ProgressState>,
}

/// Tracks one operation. Clones share the same state.
#[derive(Clone)]
pub struct ProgressTracker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProgressTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ProgressTracker")
            .field(&self.state())
            .finish()
    }
}

impl ProgressTracker {
    /// A pending tracker at 0 %.
    ///
    /// ```
    /// use msw_session_core::{ProgressStatus, ProgressTracker};
    /// let t = ProgressTracker::new("s1".into(), "index".into());
    /// t.start(Some(4.0)).unwrap();
    /// t.complete_step(Some("one".into()));
    /// assert_eq!(t.state().progress, 25.0);
    /// assert_eq!(t.state().status, ProgressStatus::Running);
    /// ```
    pub fn new(session_id: String, operation: String) -> Self {
        Self::from_state(ProgressState::new(session_id, operation))
    }

    /// A tracker that continues from `state` (used to resume a session).
    pub fn from_state(state: ProgressState) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(Tracked {
                    state: Arc::new(state),
                    version: 0,
                    steps: Rate::default(),
                    percent: Rate::default(),
                }),
                listeners: Listeners::default(),
            }),
        }
    }

    /// Registers a listener for every change.
    pub fn on_progress(&self, listener: Arc<dyn Listener<ProgressState>>) -> ListenerId {
        self.inner.listeners.add(listener)
    }

    /// Removes a listener; `false` when it was not registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.listeners.remove(id)
    }

    /// A copy of the current state.
    pub fn state(&self) -> ProgressState {
        ProgressState::clone(&lock(&self.inner.state).state)
    }

    /// A copy of the current state and its version: the number of changes
    /// made so far, which only grows.
    pub fn snapshot(&self) -> (ProgressState, u64) {
        let tracked = lock(&self.inner.state);
        (ProgressState::clone(&tracked.state), tracked.version)
    }

    /// The measured rate and what it predicts: by steps when `start` gave a
    /// step total, else by percent; `None` until two observations show
    /// progress.
    pub fn estimate(&self) -> Option<Estimate> {
        let tracked = lock(&self.inner.state);
        let s = &tracked.state;
        let by_steps = match (s.total_steps, s.completed_steps) {
            (Some(total), Some(done)) if total > 0.0 && tracked.steps.per_ms > 0.0 => {
                Some((tracked.steps.per_ms, (total - done).max(0.0), true))
            }
            _ => None,
        };
        let (per_ms, left, in_steps) = by_steps.or_else(|| {
            (tracked.percent.per_ms > 0.0)
                .then(|| (tracked.percent.per_ms, (100.0 - s.progress).max(0.0), false))
        })?;
        let remaining_ms = left / per_ms;
        Some(Estimate {
            rate_per_sec: per_ms * 1000.0,
            in_steps,
            remaining_ms,
            eta_ms: clock::now_ms() as f64 + remaining_ms,
        })
    }

    /// The current status.
    pub fn status(&self) -> ProgressStatus {
        lock(&self.inner.state).state.status
    }

    /// Whether the status is `Running`.
    pub fn is_running(&self) -> bool {
        self.status() == ProgressStatus::Running
    }

    /// Starts the operation: `Running`, `completed_steps = 0`, `total_steps`
    /// as given (a whole number from 0 to 2^53 - 1).
    pub fn start(&self, total_steps: Option<f64>) -> Result<()> {
        if let Some(total) = total_steps {
            if !((0.0..=MAX_SAFE_INTEGER).contains(&total) && total.fract() == 0.0) {
                return Err(CoreError::out_of_range(
                    "totalSteps",
                    "a whole number from 0 to 9007199254740991",
                    js_display(total),
                ));
            }
        }
        self.update(|s| {
            s.status = ProgressStatus::Running;
            s.total_steps = total_steps;
            s.completed_steps = Some(0.0);
        });
        Ok(())
    }

    /// Sets the percentage (clamped to 0..=100; NaN is refused) and the
    /// current step (cleared when `None`).
    pub fn set_progress(&self, progress: f64, current_step: Option<String>) -> Result<()> {
        if progress.is_nan() {
            return Err(CoreError::out_of_range("progress", "a number", "NaN"));
        }
        // `+ 0.0` turns -0 into +0, as Math.max(0, -0) does.
        let progress = progress.clamp(0.0, 100.0) + 0.0;
        self.update(|s| {
            s.progress = progress;
            s.current_step = current_step;
        });
        Ok(())
    }

    /// Counts one completed step; the percentage becomes
    /// `Math.round(done / (total || done) * 100)`, at most 100.
    pub fn complete_step(&self, step_name: Option<String>) {
        self.update(|s| {
            let done = s.completed_steps.unwrap_or(0.0) + 1.0;
            let total = match s.total_steps {
                Some(t) if t != 0.0 => t,
                _ => done,
            };
            s.completed_steps = Some(done);
            s.progress = js_round(done / total * 100.0).min(100.0);
            s.current_step = step_name;
        });
    }

    /// Finishes successfully: `Completed`, 100 %.
    pub fn complete(&self) {
        self.update(|s| {
            s.status = ProgressStatus::Completed;
            s.progress = 100.0;
        });
    }

    /// Finishes with an error.
    pub fn fail(&self, error: String) {
        self.update(|s| {
            s.status = ProgressStatus::Failed;
            s.error = Some(error);
        });
    }

    /// Stops on request; the error is the reason or `"Cancelled by user"`
    /// (also for an empty reason, as `reason || default` does).
    pub fn cancel(&self, reason: Option<String>) {
        let error = reason
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "Cancelled by user".to_string());
        self.update(|s| {
            s.status = ProgressStatus::Cancelled;
            s.error = Some(error);
        });
    }

    /// Sets the estimated time of completion from a JavaScript time value.
    pub fn set_eta(&self, eta_ms: f64) -> Result<()> {
        let iso = (eta_ms.is_finite())
            .then(|| clock::iso_from_ms(eta_ms as i64))
            .flatten()
            .ok_or_else(|| CoreError::out_of_range("eta", "a valid Date", js_display(eta_ms)))?;
        self.update(|s| s.eta = Some(iso));
        Ok(())
    }

    fn update(&self, change: impl FnOnce(&mut ProgressState)) {
        let here = listeners::current_thread_id();
        let (snapshot, listeners) = {
            let mut guard = lock(&self.inner.state);
            let tracked = &mut *guard;
            let state = Arc::make_mut(&mut tracked.state);
            change(state);
            state.updated_at = clock::now_iso();
            tracked.version += 1;
            let now = clock::monotonic_ms();
            if let Some(done) = state.completed_steps {
                tracked.steps.observe(done, now);
            }
            let progress = state.progress;
            tracked.percent.observe(progress, now);
            let snapshot = tracked.state.clone();
            let listeners = self.inner.listeners.snapshot();
            listeners::post_remote(&listeners, &*snapshot, here);
            (snapshot, listeners)
        };
        listeners::call_local(&listeners, &*snapshot, here);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listeners::FnListener;

    fn tracker() -> ProgressTracker {
        ProgressTracker::new("id".into(), "op".into())
    }

    #[test]
    fn starts_pending_at_zero() {
        let s = tracker().state();
        assert_eq!(s.status, ProgressStatus::Pending);
        assert_eq!(s.progress, 0.0);
        assert_eq!(s.started_at.len(), 24);
    }

    #[test]
    fn complete_step_rounds_like_math_round_and_never_passes_100() {
        let t = tracker();
        t.start(Some(3.0)).unwrap();
        t.complete_step(None);
        assert_eq!(t.state().progress, 33.0);
        t.complete_step(Some("two".into()));
        assert_eq!(t.state().progress, 67.0);
        assert_eq!(t.state().current_step.as_deref(), Some("two"));
        t.complete_step(None);
        t.complete_step(None);
        assert_eq!(t.state().progress, 100.0);
        assert_eq!(t.state().completed_steps, Some(4.0));
        assert_eq!(t.state().current_step, None);
    }

    #[test]
    fn without_a_total_each_step_is_all_of_it() {
        let t = tracker();
        t.complete_step(None);
        assert_eq!(t.state().progress, 100.0);
        t.start(Some(0.0)).unwrap();
        t.complete_step(None);
        assert_eq!(t.state().progress, 100.0);
    }

    #[test]
    fn set_progress_clamps_and_refuses_nan() {
        let t = tracker();
        t.set_progress(150.0, Some("x".into())).unwrap();
        assert_eq!(t.state().progress, 100.0);
        t.set_progress(f64::NEG_INFINITY, None).unwrap();
        assert_eq!(t.state().progress, 0.0);
        assert!(t.state().progress.is_sign_positive());
        t.set_progress(12.5, None).unwrap();
        let before = t.state();
        let err = t.set_progress(f64::NAN, None).unwrap_err();
        assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
        assert!(err.to_string().contains("\"progress\""));
        assert_eq!(t.state(), before);
    }

    #[test]
    fn start_refuses_bad_totals_and_changes_nothing() {
        let t = tracker();
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 2f64.powi(53)] {
            assert_eq!(t.start(Some(bad)).unwrap_err().code(), "ERR_OUT_OF_RANGE");
        }
        assert_eq!(t.status(), ProgressStatus::Pending);
    }

    #[test]
    fn terminal_states() {
        let t = tracker();
        t.start(None).unwrap();
        assert!(t.is_running());
        t.cancel(Some(String::new()));
        assert_eq!(t.state().error.as_deref(), Some("Cancelled by user"));
        t.fail("boom".into());
        assert_eq!(t.state().status, ProgressStatus::Failed);
        t.complete();
        assert_eq!(t.state().progress, 100.0);
        t.set_eta(0.0).unwrap();
        assert_eq!(t.state().eta.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert!(t.set_eta(f64::NAN).is_err());
        assert!(t.set_eta(9e15).is_err());
    }

    #[test]
    fn listeners_hear_each_change_and_may_reenter() {
        let t = tracker();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, t2) = (seen.clone(), t.clone());
        let id = t.on_progress(Arc::new(FnListener(move |st: &ProgressState| {
            s.lock().unwrap().push(st.progress);
            if st.progress == 10.0 {
                t2.set_progress(20.0, None).unwrap();
            }
        })));
        t.set_progress(10.0, None).unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![10.0, 20.0]);
        assert!(t.remove_listener(id));
        t.complete();
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn estimates_from_the_measured_rate() {
        let at = |ms: f64, f: &dyn Fn()| clock::with_time(1_000_000.0 + ms, f);
        let t = tracker();
        assert!(t.estimate().is_none());
        at(0.0, &|| t.start(Some(100.0)).unwrap());
        assert!(t.estimate().is_none());
        at(20.0, &|| t.complete_step(None));
        let e = clock::with_time(1_000_020.0, || t.estimate()).unwrap();
        assert!(e.in_steps);
        // One step in 20 ms: 50 steps a second, 99 steps left.
        assert_eq!(e.rate_per_sec, 50.0);
        assert_eq!(e.remaining_ms, 1980.0);
        assert_eq!(e.eta_ms, 1_000_020.0 + 1980.0);
        let p = tracker();
        at(0.0, &|| p.set_progress(10.0, None).unwrap());
        at(5.0, &|| p.set_progress(20.0, None).unwrap());
        let e = p.estimate().unwrap();
        assert!(!e.in_steps);
        // 10 percent in 5 ms: 80 percent left take 40 ms.
        assert_eq!(e.remaining_ms, 40.0);
    }

    #[test]
    fn the_rate_smooths_after_its_window() {
        let mut rate = Rate::default();
        let at = |ms: u64| ms as f64;
        rate.observe(0.0, at(0));
        rate.observe(10.0, at(1_000));
        assert!((rate.per_ms - 0.01).abs() < 1e-12);
        // A sudden burst past the window moves the estimate only part way.
        rate.observe(20.0, at(20_000));
        rate.observe(1_000.0, at(20_100));
        assert!(rate.per_ms > 0.01 && rate.per_ms < 9.8);
    }
}
