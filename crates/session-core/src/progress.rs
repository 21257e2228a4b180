//! The progress state machine of one operation, and its state's keys.
//!
//! # Invariants
//! - `progress` is always within 0..=100 and never NaN.
//! - Every change replaces the state and stamps `updated_at`; listeners hear
//!   each change exactly once, with the state right after it (see
//!   [`listeners`] for threads and order).
//! - A state has the reference's keys in the reference's order ([`Keys`]):
//!   each change adds the keys of the reference's partial state for that
//!   call, `undefined` ones included; files and JSON keep the order they had.
//!
//! # Lock order
//! The state lock is a `Notifier` in the crate's order ([`crate`]), taken
//! under `Session::written` (a write reads the state to write): an update
//! takes the listener list under it and posts to listeners at home on other
//! threads (which queues) before releasing it; listeners are called after
//! it is released.

use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::js_number::{js_display, js_round, JsonNumber, MAX_SAFE_INTEGER};
use crate::listeners::{self, Listener, ListenerId, Listeners};
use crate::sync::{Rank, RankedMutex};

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

/// A field of a [`ProgressState`], by the name JavaScript and the files give
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `sessionId`
    SessionId,
    /// `operation`
    Operation,
    /// `status`
    Status,
    /// `progress`
    Progress,
    /// `startedAt`
    StartedAt,
    /// `updatedAt`
    UpdatedAt,
    /// `currentStep`
    CurrentStep,
    /// `totalSteps`
    TotalSteps,
    /// `completedSteps`
    CompletedSteps,
    /// `error`
    Error,
    /// `eta`
    Eta,
}

impl Key {
    /// The keys every state has, in the order in which a new tracker has
    /// them (the reference's constructor sets them so).
    pub const BASE: &[Key] = Key::ALL.split_at(6).0;

    /// Every key: [`Key::BASE`], then the optional ones in the order of the
    /// reference's `ProgressState` declaration; the order of the enum, so
    /// that `Key::ALL[key as usize] == key`.
    pub const ALL: [Key; 11] = [
        Key::SessionId,
        Key::Operation,
        Key::Status,
        Key::Progress,
        Key::StartedAt,
        Key::UpdatedAt,
        Key::CurrentStep,
        Key::TotalSteps,
        Key::CompletedSteps,
        Key::Error,
        Key::Eta,
    ];

    /// The name in JavaScript and in the files (`"currentStep"`).
    pub fn name(self) -> &'static str {
        match self {
            Key::SessionId => "sessionId",
            Key::Operation => "operation",
            Key::Status => "status",
            Key::Progress => "progress",
            Key::StartedAt => "startedAt",
            Key::UpdatedAt => "updatedAt",
            Key::CurrentStep => "currentStep",
            Key::TotalSteps => "totalSteps",
            Key::CompletedSteps => "completedSteps",
            Key::Error => "error",
            Key::Eta => "eta",
        }
    }

    /// The key of that name.
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == name)
    }

    /// Whether a state may lack the key (it is not in [`Key::BASE`]).
    pub fn is_optional(self) -> bool {
        !Key::BASE.contains(&self)
    }

    /// The key's 4-bit code in [`Keys`] (never 0, which ends the list).
    fn code(self) -> u64 {
        self as u64 + 1
    }
}

/// Which keys a state has, in their order, as the reference's object spread
/// (`{ ...state, ...partial, updatedAt }`) leaves them: a key keeps the place
/// where it first appeared, and a key set to `undefined` is there all the
/// same (`getState()` lists it; `JSON.stringify` leaves it out of a file).
///
/// # Invariants
/// - Each key is listed at most once.
/// - An optional field of [`ProgressState`] that holds a value has its key
///   listed; a listed key whose field holds `None` is `undefined`. (Fields
///   are public: a value set without its key is still written, after the
///   listed keys.)
/// - In a tracker's state, the six [`Key::BASE`] keys come first, in that
///   order (the binding shows JavaScript the optional keys only as a suffix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// One key per 4 bits ([`Key::code`]), the first in the lowest bits; a
    /// 0 ends the list. Eleven keys take 44 bits.
    packed: u64,
    /// Bit `key as u16` is set when `key` is listed (an update asks for each
    /// key of its partial state).
    listed: u16,
    /// Where each field of [`ProgressState::extra`] stands, in its order:
    /// how many listed keys come before it. A field beyond this list stands
    /// after all of them.
    extra_at: Vec<u8>,
}

impl Keys {
    /// The keys of a new tracker: [`Key::BASE`].
    pub fn base() -> Self {
        let mut keys = Self::none();
        keys.add_all(Key::BASE);
        keys
    }

    fn none() -> Self {
        Self {
            packed: 0,
            listed: 0,
            extra_at: Vec::new(),
        }
    }

    /// The listed keys, in order.
    pub fn iter(&self) -> impl Iterator<Item = Key> + '_ {
        let mut packed = self.packed;
        std::iter::from_fn(move || {
            let code = packed & 0xF;
            packed >>= 4;
            (code != 0).then(|| Key::ALL[code as usize - 1])
        })
    }

    /// The number of listed keys.
    pub fn len(&self) -> usize {
        self.listed.count_ones() as usize
    }

    /// Whether no key is listed.
    pub fn is_empty(&self) -> bool {
        self.packed == 0
    }

    /// Whether `key` is listed.
    pub fn contains(&self, key: Key) -> bool {
        self.listed & (1 << key as u16) != 0
    }

    /// Lists `key` last, unless it is listed already.
    pub fn add(&mut self, key: Key) {
        if !self.contains(key) {
            self.packed |= key.code() << (4 * self.len());
            self.listed |= 1 << key as u16;
        }
    }

    /// Adds each of `keys` in turn: what spreading a partial state with
    /// those keys, in that order, does to the keys of a state.
    pub fn add_all(&mut self, keys: &[Key]) {
        for &key in keys {
            self.add(key);
        }
    }

    /// The same keys with [`Key::BASE`] first, in its order, and the
    /// optional ones after them in the order they had; extra fields stand
    /// after all of them.
    fn base_first(&self) -> Self {
        let mut keys = Self::base();
        for key in self.iter().filter(|k| k.is_optional()) {
            keys.add(key);
        }
        keys
    }
}

/// A snapshot of a tracker, with the field names of the reference's
/// `ProgressState`, and its keys in the reference's order ([`Keys`]).
/// Fields it does not know are kept in `extra`, in their places.
///
/// Read from JSON (a file, a state JavaScript handed over), the keys are
/// listed as the text has them; a duplicate key keeps its first place and
/// its last value, as `JSON.parse` does; `null` for an optional field is
/// read as `undefined` (it is left out when written back). Written, the keys
/// come in their order, `undefined` ones left out, as `JSON.stringify`
/// writes them.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressState {
    /// The session the tracker belongs to.
    pub session_id: String,
    /// What is being done.
    pub operation: String,
    /// Where the operation is in its life cycle.
    pub status: ProgressStatus,
    /// Percentage done, 0..=100.
    pub progress: f64,
    /// The step being worked on.
    pub current_step: Option<String>,
    /// Steps announced by `start`.
    pub total_steps: Option<f64>,
    /// Steps completed.
    pub completed_steps: Option<f64>,
    /// Creation time (ISO 8601).
    pub started_at: String,
    /// Time of the last change (ISO 8601).
    pub updated_at: String,
    /// Failure or cancellation message.
    pub error: Option<String>,
    /// Estimated time of completion (ISO 8601).
    pub eta: Option<String>,
    /// Fields written by someone else, kept as they are.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Which keys the state has, in what order.
    keys: Keys,
}

impl ProgressState {
    /// The state of a new tracker: pending, 0 %, both timestamps now, the
    /// keys [`Key::BASE`].
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
            keys: Keys::base(),
        }
    }

    /// Which keys the state has, in order.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The state a resumed session's tracker continues from: this one, as
    /// `session_id`'s, running, without `error`, changed now, with
    /// `completedSteps` 0 when it had none. Keyed as the reference's
    /// `resumeSession` keys its new tracker — [`Key::BASE`], then
    /// `start(totalSteps)`'s `totalSteps` and `completedSteps`, then
    /// `setProgress(progress, currentStep)`'s `currentStep` (each listed,
    /// `undefined` when the state had no value) — and then `eta` when it
    /// has one (the reference drops it). Extra fields stand after all of
    /// them.
    pub fn resumed(mut self, session_id: String, operation: String) -> Self {
        self.session_id = session_id;
        self.operation = operation;
        self.status = ProgressStatus::Running;
        self.error = None;
        self.completed_steps.get_or_insert(0.0);
        self.updated_at = clock::now_iso();
        self.keys = Keys::base();
        self.keys
            .add_all(&[Key::TotalSteps, Key::CompletedSteps, Key::CurrentStep]);
        if self.eta.is_some() {
            self.keys.add(Key::Eta);
        }
        self
    }

    /// This state failed with `error` at `at` (ISO 8601), keyed as the
    /// tracker's [`fail`](ProgressTracker::fail) keys it: what marking a
    /// crashed session failed writes ([`SessionStore::fail_crashed`]).
    ///
    /// [`SessionStore::fail_crashed`]: crate::store::SessionStore::fail_crashed
    pub(crate) fn failed_at(mut self, error: String, at: String) -> Self {
        let (partial, change) = fail_change(error);
        apply(&mut self, &partial, change);
        self.updated_at = at;
        self
    }

    /// Whether the field of `key` holds a value (`false` for an unlisted or
    /// `undefined` key).
    fn has_value(&self, key: Key) -> bool {
        match key {
            Key::CurrentStep => self.current_step.is_some(),
            Key::TotalSteps => self.total_steps.is_some(),
            Key::CompletedSteps => self.completed_steps.is_some(),
            Key::Error => self.error.is_some(),
            Key::Eta => self.eta.is_some(),
            _ => true,
        }
    }

    /// Writes the entry of `key`, unless its field holds no value.
    fn serialize_entry<M: SerializeMap>(&self, map: &mut M, key: Key) -> Result<(), M::Error> {
        let name = key.name();
        match key {
            Key::SessionId => map.serialize_entry(name, &self.session_id),
            Key::Operation => map.serialize_entry(name, &self.operation),
            Key::Status => map.serialize_entry(name, &self.status),
            Key::Progress => map.serialize_entry(name, &JsonNumber(self.progress)),
            Key::StartedAt => map.serialize_entry(name, &self.started_at),
            Key::UpdatedAt => map.serialize_entry(name, &self.updated_at),
            Key::CurrentStep => match &self.current_step {
                Some(step) => map.serialize_entry(name, step),
                None => Ok(()),
            },
            Key::TotalSteps => match self.total_steps {
                Some(total) => map.serialize_entry(name, &JsonNumber(total)),
                None => Ok(()),
            },
            Key::CompletedSteps => match self.completed_steps {
                Some(done) => map.serialize_entry(name, &JsonNumber(done)),
                None => Ok(()),
            },
            Key::Error => match &self.error {
                Some(error) => map.serialize_entry(name, error),
                None => Ok(()),
            },
            Key::Eta => match &self.eta {
                Some(eta) => map.serialize_entry(name, eta),
                None => Ok(()),
            },
        }
    }
}

impl Serialize for ProgressState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let places = self.keys.extra_at.iter().map(|&at| usize::from(at));
        let mut extra = (self.extra.iter())
            .zip(places.chain(std::iter::repeat(usize::MAX)))
            .peekable();
        for (listed, key) in self.keys.iter().enumerate() {
            while let Some(((name, value), _)) = extra.next_if(|(_, at)| *at <= listed) {
                map.serialize_entry(name, value)?;
            }
            self.serialize_entry(&mut map, key)?;
        }
        // Values set without their key (see `Keys`), then the extra fields
        // that stand after every key.
        for key in Key::ALL {
            if !self.keys.contains(key) && self.has_value(key) {
                self.serialize_entry(&mut map, key)?;
            }
        }
        for ((name, value), _) in extra {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A key of a progress state as read: known, or someone else's.
enum Field {
    Known(Key),
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(
                    Key::from_name(name)
                        .map_or_else(|| Field::Other(name.to_owned()), Field::Known),
                )
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for ProgressState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StateVisitor)
    }
}

struct StateVisitor;

impl<'de> Visitor<'de> for StateVisitor {
    type Value = ProgressState;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a progress state object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProgressState, A::Error> {
        let mut keys = Keys::none();
        let (mut session_id, mut operation, mut status, mut progress) = (None, None, None, None);
        let (mut started_at, mut updated_at) = (None, None);
        let (mut current_step, mut total_steps, mut completed_steps) = (None, None, None);
        let (mut error, mut eta) = (None, None);
        let mut extra = serde_json::Map::new();
        while let Some(field) = map.next_key::<Field>()? {
            let key = match field {
                Field::Known(key) => key,
                Field::Other(name) => {
                    let value = map.next_value()?;
                    if !extra.contains_key(&name) {
                        // At most 11 keys are listed: the place fits a u8.
                        keys.extra_at.push(keys.len() as u8);
                    }
                    extra.insert(name, value);
                    continue;
                }
            };
            keys.add(key);
            match key {
                Key::SessionId => session_id = Some(map.next_value()?),
                Key::Operation => operation = Some(map.next_value()?),
                Key::Status => status = Some(map.next_value()?),
                Key::Progress => progress = Some(map.next_value()?),
                Key::StartedAt => started_at = Some(map.next_value()?),
                Key::UpdatedAt => updated_at = Some(map.next_value()?),
                Key::CurrentStep => current_step = map.next_value()?,
                Key::TotalSteps => total_steps = map.next_value()?,
                Key::CompletedSteps => completed_steps = map.next_value()?,
                Key::Error => error = map.next_value()?,
                Key::Eta => eta = map.next_value()?,
            }
        }
        let missing = |key: Key| de::Error::missing_field(key.name());
        Ok(ProgressState {
            session_id: session_id.ok_or_else(|| missing(Key::SessionId))?,
            operation: operation.ok_or_else(|| missing(Key::Operation))?,
            status: status.ok_or_else(|| missing(Key::Status))?,
            progress: progress.ok_or_else(|| missing(Key::Progress))?,
            current_step,
            total_steps,
            completed_steps,
            started_at: started_at.ok_or_else(|| missing(Key::StartedAt))?,
            updated_at: updated_at.ok_or_else(|| missing(Key::UpdatedAt))?,
            error,
            eta,
            extra,
            keys,
        })
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
    state: RankedMutex<Tracked>,
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
    /// Its keys keep their order, except that [`Key::BASE`] come first (see
    /// [`Keys`]); extra fields stand after all keys.
    pub fn from_state(mut state: ProgressState) -> Self {
        state.keys = state.keys.base_first();
        Self {
            inner: Arc::new(Inner {
                state: RankedMutex::new(
                    Rank::Notifier,
                    Tracked {
                        state: Arc::new(state),
                        version: 0,
                        steps: Rate::default(),
                        percent: Rate::default(),
                    },
                ),
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
        ProgressState::clone(&self.inner.state.lock().state)
    }

    /// A copy of the current state and its version: the number of changes
    /// made so far, which only grows.
    pub fn snapshot(&self) -> (ProgressState, u64) {
        let tracked = self.inner.state.lock();
        (ProgressState::clone(&tracked.state), tracked.version)
    }

    /// The measured rate and what it predicts: by steps when `start` gave a
    /// step total, else by percent; `None` until two observations show
    /// progress.
    pub fn estimate(&self) -> Option<Estimate> {
        let tracked = self.inner.state.lock();
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
        self.inner.state.lock().state.status
    }

    /// Whether the status is `Running`.
    pub fn is_running(&self) -> bool {
        self.status() == ProgressStatus::Running
    }

    /// Starts the operation: `Running`, `completed_steps = 0`, `total_steps`
    /// as given (a whole number from 0 to 2^53 - 1).
    pub fn start(&self, total_steps: Option<f64>) -> Result<()> {
        if let Some(total) = total_steps {
            whole_steps("totalSteps", total)?;
        }
        let partial = [Key::Status, Key::TotalSteps, Key::CompletedSteps];
        self.update(&partial, |s| {
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
        self.update(&[Key::Progress, Key::CurrentStep], |s| {
            s.progress = progress;
            s.current_step = current_step;
        });
        Ok(())
    }

    /// Counts one completed step; the percentage becomes
    /// `Math.round(done / (total || done) * 100)`, at most 100.
    pub fn complete_step(&self, step_name: Option<String>) {
        let partial = [Key::CompletedSteps, Key::Progress, Key::CurrentStep];
        self.update(&partial, |s| {
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

    /// Sets the steps as they are: `completed_steps` to `done`,
    /// `total_steps` to `total` when given (kept as it is otherwise), the
    /// current step to `step` (cleared when `None`, as
    /// [`set_progress`](Self::set_progress) and
    /// [`complete_step`](Self::complete_step) do), and the percentage as
    /// `complete_step` computes it, `Math.round(done / (total || done) *
    /// 100)` at most 100 (0 for 0 of 0). The status is left as it is. `done`
    /// and `total` are whole numbers from 0 to 2^53 - 1.
    ///
    /// Keys that the state does not have yet join it in the order
    /// `totalSteps` (when given), `completedSteps`, `progress`,
    /// `currentStep`: as `start(total)` followed by `completeStep(step)`
    /// would add them.
    ///
    /// ```
    /// use msw_session_core::ProgressTracker;
    /// let t = ProgressTracker::new("s1".into(), "job".into());
    /// t.set_steps(3.0, Some(5.0), Some("three".into())).unwrap();
    /// let s = t.state();
    /// assert_eq!((s.completed_steps, s.total_steps, s.progress), (Some(3.0), Some(5.0), 60.0));
    /// assert_eq!(s.current_step.as_deref(), Some("three"));
    /// ```
    pub fn set_steps(&self, done: f64, total: Option<f64>, step: Option<String>) -> Result<()> {
        whole_steps("completedSteps", done)?;
        if let Some(total) = total {
            whole_steps("totalSteps", total)?;
        }
        let with_total = [
            Key::TotalSteps,
            Key::CompletedSteps,
            Key::Progress,
            Key::CurrentStep,
        ];
        let partial = if total.is_some() {
            &with_total[..]
        } else {
            &with_total[1..]
        };
        self.update(partial, |s| {
            if total.is_some() {
                s.total_steps = total;
            }
            let of = match s.total_steps {
                Some(t) if t != 0.0 => t,
                _ => done,
            };
            s.completed_steps = Some(done);
            s.progress = if of == 0.0 {
                0.0
            } else {
                js_round(done / of * 100.0).min(100.0)
            };
            s.current_step = step;
        });
        Ok(())
    }

    /// Finishes successfully: `Completed`, 100 %.
    pub fn complete(&self) {
        self.update(&[Key::Status, Key::Progress], |s| {
            s.status = ProgressStatus::Completed;
            s.progress = 100.0;
        });
    }

    /// Finishes with an error.
    pub fn fail(&self, error: String) {
        let (partial, change) = fail_change(error);
        self.update(&partial, change);
    }

    /// Stops on request; the error is the reason or `"Cancelled by user"`
    /// (also for an empty reason, as `reason || default` does).
    pub fn cancel(&self, reason: Option<String>) {
        let (partial, change) = cancel_change(reason);
        self.update(&partial, change);
    }

    /// The state that [`cancel`](Self::cancel) would make now and the
    /// version it would have, without making it (nothing changes, no
    /// listener hears): for a caller that must put the cancelled state on
    /// disk before the cancellation can be seen.
    pub fn preview_cancel(&self, reason: Option<String>) -> (ProgressState, u64) {
        let (partial, change) = cancel_change(reason);
        let tracked = self.inner.state.lock();
        let mut state = ProgressState::clone(&tracked.state);
        apply(&mut state, &partial, change);
        (state, tracked.version + 1)
    }

    /// Sets the estimated time of completion from a JavaScript time value.
    pub fn set_eta(&self, eta_ms: f64) -> Result<()> {
        let iso = (eta_ms.is_finite())
            .then(|| clock::iso_from_ms(eta_ms as i64))
            .flatten()
            .ok_or_else(|| CoreError::out_of_range("eta", "a valid Date", js_display(eta_ms)))?;
        self.update(&[Key::Eta], |s| s.eta = Some(iso));
        Ok(())
    }

    /// Changes the state as the reference's `update(partial)` does, where
    /// `partial` lists the keys of its partial state in their order: they
    /// join the state's keys (see [`Keys`]), `change` sets their fields, and
    /// `updatedAt` becomes now.
    fn update(&self, partial: &[Key], change: impl FnOnce(&mut ProgressState)) {
        let here = listeners::current_thread_id();
        let (snapshot, listeners) = {
            let mut guard = self.inner.state.lock();
            let tracked = &mut *guard;
            let state = Arc::make_mut(&mut tracked.state);
            apply(state, partial, change);
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

/// What `update(partial, change)` does to the state itself: the keys of
/// `partial` join its keys, `change` sets their fields, `updatedAt` becomes
/// now.
fn apply(state: &mut ProgressState, partial: &[Key], change: impl FnOnce(&mut ProgressState)) {
    state.keys.add_all(partial);
    change(state);
    state.updated_at = clock::now_iso();
}

/// Checks a count of steps: a whole number from 0 to 2^53 - 1.
fn whole_steps(name: &'static str, value: f64) -> Result<()> {
    if (0.0..=MAX_SAFE_INTEGER).contains(&value) && value.fract() == 0.0 {
        Ok(())
    } else {
        Err(CoreError::out_of_range(
            name,
            "a whole number from 0 to 9007199254740991",
            js_display(value),
        ))
    }
}

/// The change [`ProgressTracker::fail`] makes.
fn fail_change(error: String) -> ([Key; 2], impl FnOnce(&mut ProgressState)) {
    ([Key::Status, Key::Error], move |s: &mut ProgressState| {
        s.status = ProgressStatus::Failed;
        s.error = Some(error);
    })
}

/// The change [`ProgressTracker::cancel`] makes: the error is the reason or
/// `"Cancelled by user"` (also for an empty reason, as `reason || default`
/// does).
fn cancel_change(reason: Option<String>) -> ([Key; 2], impl FnOnce(&mut ProgressState)) {
    let error = reason
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "Cancelled by user".to_string());
    ([Key::Status, Key::Error], move |s: &mut ProgressState| {
        s.status = ProgressStatus::Cancelled;
        s.error = Some(error);
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::listeners::FnListener;
    use std::sync::Mutex;

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
    fn a_previewed_cancel_is_the_cancel_without_making_it() {
        let t = tracker();
        t.start(Some(4.0)).unwrap();
        let heard = Arc::new(Mutex::new(0));
        let h = heard.clone();
        t.on_progress(Arc::new(FnListener(move |_: &ProgressState| {
            *h.lock().unwrap() += 1;
        })));
        let before = t.snapshot();
        let (preview, version) = t.preview_cancel(Some("why".into()));
        assert_eq!(t.snapshot(), before);
        assert_eq!(*heard.lock().unwrap(), 0);
        t.cancel(Some("why".into()));
        let (after, after_version) = t.snapshot();
        assert_eq!(version, after_version);
        let same_time = ProgressState {
            updated_at: after.updated_at.clone(),
            ..preview
        };
        assert_eq!(same_time, after);
        assert_eq!(names(same_time.keys()), names(after.keys()));
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

    fn names(keys: &Keys) -> Vec<&'static str> {
        keys.iter().map(Key::name).collect()
    }

    /// The keys of `state` as they are written, in order.
    fn written_keys(state: &ProgressState) -> Vec<String> {
        let json = serde_json::to_value(state).unwrap();
        json.as_object().unwrap().keys().cloned().collect()
    }

    /// The keys every state has, in the reference's order.
    pub(crate) const BASE_NAMES: [&str; 6] = [
        "sessionId",
        "operation",
        "status",
        "progress",
        "startedAt",
        "updatedAt",
    ];

    #[test]
    fn keys_come_in_the_order_updates_first_set_them() {
        for (place, key) in Key::ALL.into_iter().enumerate() {
            assert_eq!(key as usize, place);
            assert_eq!(Key::from_name(key.name()), Some(key));
        }
        let t = tracker();
        assert_eq!(names(t.state().keys()), BASE_NAMES);
        t.set_eta(0.0).unwrap();
        t.start(None).unwrap();
        t.complete_step(None);
        t.fail("boom".into());
        t.start(Some(2.0)).unwrap();
        let st = t.state();
        let mut expected = BASE_NAMES.to_vec();
        expected.extend([
            "eta",
            "totalSteps",
            "completedSteps",
            "currentStep",
            "error",
        ]);
        assert_eq!(names(st.keys()), expected);
        // Listeners see the keys of the change they hear.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let t = tracker();
        t.on_progress(Arc::new(FnListener(move |st: &ProgressState| {
            s.lock().unwrap().push(names(st.keys()).len());
        })));
        t.set_progress(5.0, None).unwrap();
        t.cancel(None);
        assert_eq!(*seen.lock().unwrap(), vec![7, 8]);
    }

    #[test]
    fn a_key_set_to_undefined_is_listed_and_left_out_of_json() {
        let t = tracker();
        t.start(None).unwrap();
        t.set_progress(10.0, Some("a".into())).unwrap();
        t.complete_step(None);
        let st = t.state();
        assert!(st.keys().contains(Key::TotalSteps) && st.total_steps.is_none());
        assert!(st.keys().contains(Key::CurrentStep) && st.current_step.is_none());
        assert!(!st.keys().contains(Key::Error));
        let mut expected = BASE_NAMES.to_vec();
        expected.push("completedSteps");
        assert_eq!(written_keys(&st), expected);
    }

    #[test]
    fn json_is_read_and_written_in_its_own_order_with_unknown_fields_in_place() {
        let text = r#"{"completedSteps":2,"sessionId":"s","x":[1],"operation":"op","status":"running","progress":40,"currentStep":null,"startedAt":"a","sessionId":"t","updatedAt":"b","totalSteps":5,"y":true}"#;
        let st: ProgressState = serde_json::from_str(text).unwrap();
        // A duplicate keeps its first place and its last value, as JSON.parse does.
        assert_eq!(st.session_id, "t");
        assert_eq!(
            names(st.keys()),
            [
                "completedSteps",
                "sessionId",
                "operation",
                "status",
                "progress",
                "currentStep",
                "startedAt",
                "updatedAt",
                "totalSteps"
            ]
        );
        // null is read as undefined: listed, and left out when written.
        assert_eq!(st.current_step, None);
        let again = serde_json::to_string(&st).unwrap();
        assert_eq!(
            again,
            r#"{"completedSteps":2,"sessionId":"t","x":[1],"operation":"op","status":"running","progress":40,"startedAt":"a","updatedAt":"b","totalSteps":5,"y":true}"#
        );
        let back: ProgressState = serde_json::from_str(&again).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), again);
    }

    #[test]
    fn reading_names_a_missing_or_wrong_field() {
        let err = serde_json::from_str::<ProgressState>(r#"{"sessionId":"s","operation":"o"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("missing field `status`"), "{err}");
        let err = serde_json::from_str::<ProgressState>(r#"{"totalSteps":"many"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn a_value_set_without_its_key_is_still_written() {
        let mut st = ProgressState::new("s".into(), "op".into());
        st.error = Some("set directly".into());
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().next_back().unwrap(),
            "error"
        );
    }

    #[test]
    fn a_resumed_state_is_keyed_as_the_reference_resume_keys_it() {
        let text = r#"{"sessionId":"old","operation":"op","status":"failed","progress":40,"eta":"e","error":"x","startedAt":"a","updatedAt":"b","z":1}"#;
        let st: ProgressState = serde_json::from_str(text).unwrap();
        let resumed = st.resumed("new".into(), "op2".into());
        let mut expected = BASE_NAMES.to_vec();
        expected.extend(["totalSteps", "completedSteps", "currentStep", "eta"]);
        assert_eq!(names(resumed.keys()), expected);
        assert_eq!(
            (
                resumed.status,
                resumed.completed_steps,
                resumed.error.as_deref()
            ),
            (ProgressStatus::Running, Some(0.0), None)
        );
        assert_eq!(resumed.session_id, "new");
        let mut expected = BASE_NAMES.to_vec();
        expected.extend(["completedSteps", "eta", "z"]);
        assert_eq!(written_keys(&resumed), expected);
    }

    #[test]
    fn a_tracker_from_a_state_lists_the_base_keys_first() {
        let text = r#"{"currentStep":"c","sessionId":"s","operation":"op","status":"running","error":"x","progress":1,"startedAt":"a","updatedAt":"b"}"#;
        let t = ProgressTracker::from_state(serde_json::from_str(text).unwrap());
        let mut expected = BASE_NAMES.to_vec();
        expected.extend(["currentStep", "error"]);
        assert_eq!(names(t.state().keys()), expected);
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

    #[test]
    fn set_steps_keeps_the_steps_as_they_are() {
        let t = tracker();
        t.start(Some(5.0)).unwrap();
        t.set_steps(3.0, None, Some("three".into())).unwrap();
        let st = t.state();
        assert_eq!(
            (st.completed_steps, st.total_steps, st.progress),
            (Some(3.0), Some(5.0), 60.0)
        );
        assert_eq!(st.current_step.as_deref(), Some("three"));
        assert_eq!(st.status, ProgressStatus::Running);
        // A new total; a step name left out clears the current step.
        t.set_steps(5.0, Some(8.0), None).unwrap();
        let st = t.state();
        assert_eq!(
            (st.completed_steps, st.total_steps, st.progress),
            (Some(5.0), Some(8.0), 63.0)
        );
        assert_eq!(st.current_step, None);
        // Past the total: at most 100 %. Without a total: all of it. Nothing of nothing: 0.
        t.set_steps(9.0, None, None).unwrap();
        assert_eq!(t.state().progress, 100.0);
        let t = tracker();
        t.set_steps(2.0, None, None).unwrap();
        assert_eq!(t.state().progress, 100.0);
        t.set_steps(0.0, Some(0.0), None).unwrap();
        assert_eq!(t.state().progress, 0.0);
        // Back down is allowed: steps as they are.
        t.set_steps(1.0, Some(4.0), None).unwrap();
        assert_eq!(t.state().progress, 25.0);
        // Refused and nothing changed.
        for (done, total, name) in [
            (-1.0, None, "completedSteps"),
            (1.5, None, "completedSteps"),
            (f64::NAN, None, "completedSteps"),
            (1.0, Some(f64::INFINITY), "totalSteps"),
            (1.0, Some(-2.0), "totalSteps"),
        ] {
            let err = t.set_steps(done, total, None).unwrap_err();
            assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
            assert!(err.to_string().contains(name), "{err}");
        }
        assert_eq!(
            (t.state().completed_steps, t.state().total_steps),
            (Some(1.0), Some(4.0))
        );
    }

    #[test]
    fn set_steps_adds_its_keys_in_the_order_first_set() {
        // On a new tracker: as start(total) then completeStep(step) add them.
        let t = tracker();
        t.set_steps(3.0, Some(5.0), Some("c".into())).unwrap();
        let mut expected = BASE_NAMES.to_vec();
        expected.extend(["totalSteps", "completedSteps", "currentStep"]);
        assert_eq!(names(t.state().keys()), expected);
        assert_eq!(written_keys(&t.state()), expected);
        // Without a total, totalSteps is not added.
        let t = tracker();
        t.set_eta(0.0).unwrap();
        t.set_steps(1.0, None, None).unwrap();
        let mut expected = BASE_NAMES.to_vec();
        expected.extend(["eta", "completedSteps", "currentStep"]);
        assert_eq!(names(t.state().keys()), expected);
        // Keys already there keep their places.
        t.set_steps(2.0, Some(4.0), Some("d".into())).unwrap();
        expected.push("totalSteps");
        assert_eq!(names(t.state().keys()), expected);
    }
}
