//! Live sessions: each a tracker, a cancellation source and a context, kept
//! in memory and written to the [`SessionStore`] by the manager's
//! `Writer` (see [`writer`](crate::writer) for when a change reaches the
//! disk).
//!
//! # Invariants
//! - A session is in the manager only after its file was written: a create
//!   or resume that fails leaves nothing behind.
//! - Every change of a session's tracker first notifies the manager's
//!   listeners, then goes to the writer (the reference's order).
//! - A cancel is on disk before it can be seen: the file says `cancelled`
//!   (the state the tracker's cancel will make) before the token is
//!   cancelled; then the token's listeners, the tracker's, and the file
//!   again with what they changed (the reference's `cancelSession` order).
//! - The context is read through its [`ContextProvider`] at every save, so
//!   in-place changes made by its owner are written by the next save of any
//!   kind; where the provider cannot be read (another thread) the last
//!   context read is written.
//! - A live session keeps its manager: its tracker's hook holds the
//!   manager's core until the session is let go (finished or released), so
//!   a session held any way at all is written, served and owned even when
//!   every handle on its manager is gone (`SaveOnChange`).
//! - No user code (a listener, a context's `toJSON`) runs under a lock of
//!   the package, so it may call any method of the manager.
//! - Every write records this process as the session's owner, and the
//!   manager holds the process's owner lock ([`owner`](crate::owner)) from
//!   before its first write until it shuts down, or else until the process
//!   exits (and again
//!   from its next write after a shutdown): while a session of the manager
//!   can be written, crash scans find its owner alive. After `shutdown` the
//!   manager holds nothing open in the folder (no owner lock, no watch of
//!   `requests/`), so the folder can be removed where open files block it;
//!   sessions it left unfinished read as crashed, as after an exit. Resuming takes the session's claim and
//!   checks the recorded owner is gone, so of several processes (or
//!   managers) resuming one session, exactly one wins.
//!
//! # Lock order
//! `auto_save` is first in the crate's order ([`crate`]): held while its
//! timer starts, which takes a timer's queue. `sessions` and `requests` are
//! leaves: a watch is started, and serves the requests already waiting,
//! outside `requests`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use crate::clock;
use crate::context::{ContextCell, Read};
use crate::crash::CrashScan;
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::inspect::{Inspection, StateFilter};
use crate::js_text;
use crate::listeners::{self, Executor, Listener, ListenerId, Listeners};
use crate::owner::{Liveness, Owner};
use crate::progress::{ProgressState, ProgressTracker};
pub use crate::session::{ContextProvider, ReadError, Session};
use crate::state::{SessionState, SessionStatus};
use crate::store::{SessionStore, StoreOptions, DEFAULT_CLEANUP_DAYS, DEFAULT_STALE_MS};
use crate::sync::{Rank, RankedMutex};
use crate::timer::{self, TimerHandle};
use crate::writer::{push_failure, Failures, Writer};

/// How a manager is set up.
#[derive(Clone, Debug)]
pub struct ManagerOptions {
    /// The folder that holds `.msw/`.
    pub base_path: PathBuf,
    /// The period of auto-save.
    pub auto_save_interval: Duration,
    /// How long the disk may lag behind a tracker change (zero: no lag).
    pub persist_interval: Duration,
    /// How files are written.
    pub store: StoreOptions,
}

/// The auto-save period unless told otherwise (the reference's), in ms.
pub const DEFAULT_AUTO_SAVE_INTERVAL_MS: f64 = 5000.0;

/// The largest lag of the disk behind a tracker change unless told
/// otherwise, in ms.
pub const DEFAULT_PERSIST_INTERVAL_MS: f64 = 100.0;

impl ManagerOptions {
    /// Options with an auto-save period in milliseconds (a positive, finite number).
    pub fn new(base_path: impl Into<PathBuf>, auto_save_interval_ms: f64) -> Result<Self> {
        let ms = auto_save_interval_ms;
        Ok(Self {
            base_path: base_path.into(),
            auto_save_interval: timer::millis(
                "autoSaveIntervalMs",
                "a positive, finite number",
                ms,
                ms > 0.0 && ms.is_finite(),
            )?,
            persist_interval: Duration::from_secs_f64(DEFAULT_PERSIST_INTERVAL_MS / 1000.0),
            store: StoreOptions::default(),
        })
    }

    /// Options from what JavaScript passed, each absent one its default
    /// ([`DEFAULT_AUTO_SAVE_INTERVAL_MS`], [`DEFAULT_PERSIST_INTERVAL_MS`]),
    /// each given one checked, with the store's options (see
    /// [`StoreOptions::from_js`]).
    pub fn from_js(
        base_path: impl Into<PathBuf>,
        auto_save_interval_ms: Option<f64>,
        persist_interval_ms: Option<f64>,
        store: StoreOptions,
    ) -> Result<Self> {
        Ok(Self::new(
            base_path,
            auto_save_interval_ms.unwrap_or(DEFAULT_AUTO_SAVE_INTERVAL_MS),
        )?
        .with_persist_interval_ms(persist_interval_ms.unwrap_or(DEFAULT_PERSIST_INTERVAL_MS))?
        .with_store_options(store))
    }

    /// Sets how files are written.
    pub fn with_store_options(mut self, store: StoreOptions) -> Self {
        self.store = store;
        self
    }

    /// Sets the largest lag of the disk behind a tracker change, in ms (a
    /// finite number >= 0; 0 writes every change before it returns).
    pub fn with_persist_interval_ms(mut self, ms: f64) -> Result<Self> {
        self.persist_interval = timer::millis(
            "persistIntervalMs",
            "a finite number >= 0",
            ms,
            ms.is_finite() && ms >= 0.0,
        )?;
        Ok(self)
    }
}

fn owner_record() -> Value {
    serde_json::to_value(Owner::this_process()).unwrap_or(Value::Null)
}

struct Inner {
    store: SessionStore,
    interval: Duration,
    sessions: RankedMutex<IndexMap<String, Arc<Session>>>,
    listeners: Listeners<ProgressState>,
    writer: Arc<Writer>,
    auto_save: RankedMutex<Option<TimerHandle>>,
    /// Watches the folder for cancellation requests while sessions are live.
    requests: RankedMutex<Option<crate::requests::Watch>>,
    /// The sessions folder as the registry of live sessions names it,
    /// computed once (after the first write has created the folder).
    registry_dir: std::sync::OnceLock<PathBuf>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stopped outside the locks.
        let watch = self.requests.lock().take();
        drop(watch);
        let auto_save = self.auto_save.lock().take();
        if let Some(handle) = auto_save {
            handle.cancel();
        }
        // The writer, dropped after this, writes what is still dirty.
    }
}

impl Inner {
    fn registry_dir(&self) -> &std::path::Path {
        self.registry_dir
            .get_or_init(|| crate::registry::canonical(self.store.dir()))
    }

    fn cancel(&self, id: &str, reason: Option<String>, how: Read) -> Result<bool> {
        let Some(session) = self.sessions.lock().get(id).cloned() else {
            return Ok(false);
        };
        // The file says `cancelled` before the token does: whoever sees the
        // token cancelled (a listener, another thread, the flag JavaScript
        // reads) finds it on disk. Then the reference's order: the token's
        // listeners, the tracker's, and the file with what they changed. A
        // failed first write is reported by the last one.
        let _ = self.writer.write_cancelled(&session, reason.clone(), how);
        session.source.cancel(reason.clone());
        session.tracker.cancel(reason);
        self.writer.write_now(&session, how)?;
        Ok(true)
    }

    /// Serves the cancellation requests waiting in the folder for sessions
    /// of this manager (see [`crate::requests`]).
    fn serve_requests(&self) {
        for (id, reason) in self
            .store
            .take_requests(|id| self.sessions.lock().contains_key(id))
        {
            // Off the JavaScript thread: the context is the last one read.
            if let Err(err) = self.cancel(&id, reason, Read::WithoutReading) {
                self.writer.keep_error(id, err);
            }
        }
    }

    /// One auto-save: every live session written; a failure is kept, by
    /// session, for the next flush (no caller is there to hear it).
    fn auto_save_tick(&self) {
        self.writer.keep_errors(self.save_all_failures());
    }

    /// Writes every live session, then every other change; every session
    /// is attempted, and the error names each one that failed.
    fn save_all(&self) -> Result<()> {
        CoreError::from_failures(self.save_all_failures())
    }

    /// [`save_all`](Self::save_all), with what failed by session.
    fn save_all_failures(&self) -> Failures {
        let sessions: Vec<_> = self.sessions.lock().values().cloned().collect();
        let mut failed = Vec::new();
        let mut failures = Vec::new();
        for session in sessions {
            self.writer.forget_dirty(session.id());
            if let Err(err) = self.writer.write(&session, Read::ForCaller, true) {
                failures.push((session.id.to_string(), err));
                failed.push(session);
            }
        }
        // Finished sessions changed since their last write, too.
        for (id, err) in self.writer.flush_failures() {
            push_failure(&mut failures, id, err);
        }
        for session in &failed {
            self.writer.retry_later(session);
        }
        failures
    }
}

/// The tracker listener that makes a session's changes heard by the manager
/// and written to disk.
///
/// It holds the manager strongly: a live session keeps its manager's core
/// (the writer, its hold on the owner lock, the watch for cancellation
/// requests, auto-save) alive however the session is reached: its tracker,
/// its token, a worker's attached handle, a loop that never yields. The
/// manager's handle may be collected long before (a batch loop that never
/// names the manager again), and a session whose updates went nowhere, its
/// file read as crashed by other processes while its process still worked
/// on it, was the bug this closes. The cycle this makes (manager →
/// sessions → session → tracker → this hook → manager) is broken when the
/// session is let go (`forget` removes the hook); a session never finished
/// keeps its manager until the process exits, whose exit write
/// ([`crate::writer::flush_all`]) then writes it.
struct SaveOnChange {
    manager: Arc<Inner>,
    session: Weak<Session>,
}

impl Listener<ProgressState> for SaveOnChange {
    fn call(&self, state: &ProgressState) {
        let Some(session) = self.session.upgrade() else {
            return;
        };
        listeners::notify(&self.manager.listeners.snapshot(), state);
        // As in the reference, a failed write on a progress update does not
        // reach the caller; explicit saves report it.
        self.manager.writer.changed(&session);
    }
}

/// Tracks live sessions and persists them.
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

impl SessionManager {
    /// A manager over `<base_path>/.msw/sessions`.
    pub fn new(options: ManagerOptions) -> Self {
        let store = SessionStore::with_options(&options.base_path, options.store);
        Self {
            inner: Arc::new(Inner {
                writer: Writer::new(store.clone(), options.persist_interval),
                store,
                interval: options.auto_save_interval,
                sessions: RankedMutex::new(Rank::Leaf, IndexMap::new()),
                listeners: Listeners::default(),
                auto_save: RankedMutex::new(Rank::AutoSaveSlot, None),
                requests: RankedMutex::new(Rank::Leaf, None),
                registry_dir: std::sync::OnceLock::new(),
            }),
        }
    }

    /// A manager whose folders have been checked
    /// ([`SessionStore::check_folders`]): the constructor JavaScript
    /// reaches. [`new`](Self::new) checks them only when it creates one.
    pub fn open(options: ManagerOptions) -> Result<Self> {
        let manager = Self::new(options);
        manager.inner.store.check_folders()?;
        Ok(manager)
    }

    /// The store this manager writes to.
    pub fn store(&self) -> &SessionStore {
        &self.inner.store
    }

    /// Creates a session with a random id and writes its file.
    ///
    /// `context_json` is the context as `JSON.stringify` printed it (an
    /// object); `provider` reads it anew at each save.
    pub fn create_session(
        &self,
        operation: String,
        context_json: String,
        provider: Option<Box<dyn ContextProvider>>,
    ) -> Result<Arc<Session>> {
        let id = SessionId::random();
        let context = ContextCell::new(context_json, provider, &id)?;
        let tracker = ProgressTracker::new(id.to_string(), operation.clone());
        let session = Session::new(
            id,
            operation,
            clock::now_ms(),
            tracker,
            context,
            owner_record(),
            Default::default(),
        );
        self.admit(session)
    }

    /// Takes over a crashed session: same id, operation, context, progress,
    /// steps and start time, status running, keys in the order the
    /// reference's resume gives them ([`ProgressState::resumed`]); its file
    /// is written at once.
    /// `None` when a session with that id is live in this manager.
    pub fn resume_session(
        &self,
        state: SessionState,
        provider: Option<Box<dyn ContextProvider>>,
    ) -> Result<Option<Arc<Session>>> {
        let id = SessionId::parse(&state.id)?;
        if self.inner.sessions.lock().contains_key(id.as_str()) {
            return Ok(None);
        }
        let context_json = js_text::json_out(state.context.to_string());
        let context = ContextCell::new(context_json, provider, &id)?;
        // Exclusive: under the session's claim, check the file as it is now
        // — not finished, its owner gone — and write this process as the new
        // owner. Whoever claims it next finds a live owner.
        // Another user's file is never resumed (it is moved aside).
        if self.inner.store.refuse_foreign(&id) {
            return Ok(None);
        }
        let Some(_claim) = self.inner.store.claim(&id)? else {
            return Ok(None);
        };
        if let Some((_, on_disk)) = self.inner.store.read(&id) {
            let finished = !matches!(
                on_disk.status,
                SessionStatus::Active | SessionStatus::Crashed
            );
            if finished || self.inner.store.stored_liveness(&on_disk) == Liveness::Alive {
                return Ok(None);
            }
        }
        let mut extra = state.extra;
        extra.remove("owner");
        let progress = (state.progress).resumed(id.to_string(), state.operation.clone());
        let created_at_ms = clock::parse_iso_ms(&state.created_at).unwrap_or_else(clock::now_ms);
        let session = Session::new(
            id,
            state.operation,
            created_at_ms,
            ProgressTracker::from_state(progress),
            context,
            owner_record(),
            extra,
        );
        self.admit(session).map(Some)
    }

    fn admit(&self, session: Arc<Session>) -> Result<Arc<Session>> {
        // The context was just given as text: it is the first checkpoint,
        // paired with the tracker as it starts.
        session.context.first_checkpoint(&session.tracker);
        self.inner
            .writer
            .write(&session, Read::WithoutReading, true)?;
        let hook = session.tracker.on_progress(Arc::new(SaveOnChange {
            manager: self.inner.clone(),
            session: Arc::downgrade(&session),
        }));
        let _ = session.hook.set(hook);
        let id = session.id.to_string();
        self.inner.sessions.lock().insert(id, session.clone());
        crate::registry::register(self.inner.registry_dir(), &session);
        self.watch_requests();
        Ok(session)
    }

    /// Starts serving cancellation requests from other processes, once.
    fn watch_requests(&self) {
        if self.inner.requests.lock().is_some() {
            return;
        }
        // Started outside the slot's lock: a watch serves the requests
        // already there at once, which cancels sessions (and runs their
        // listeners). Of two threads that start one, the second's goes.
        let manager = Arc::downgrade(&self.inner);
        // A folder that cannot be made is polled (and found empty) until it can.
        let dir = (self.inner.store.ensure_requests_dir())
            .unwrap_or_else(|_| self.inner.store.requests_dir());
        let watch = crate::requests::Watch::start(&dir, move || {
            if let Some(inner) = manager.upgrade() {
                inner.serve_requests();
            }
        });
        let extra = {
            let mut slot = self.inner.requests.lock();
            match *slot {
                None => slot.replace(watch),
                Some(_) => Some(watch),
            }
        };
        drop(extra);
    }

    /// The live session with that id.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.inner.sessions.lock().get(id).cloned()
    }

    /// All live sessions, in creation order.
    pub fn sessions(&self) -> Vec<Arc<Session>> {
        self.inner.sessions.lock().values().cloned().collect()
    }

    /// Cancels the session's token and tracker and writes its file; the
    /// session stays live. `false` for an unknown id.
    pub fn cancel_session(&self, id: &str, reason: Option<String>) -> Result<bool> {
        self.inner.cancel(id, reason, Read::ForCaller)
    }

    /// Completes the session, writes its file and forgets it. `false` for
    /// an unknown id. When the write fails the session stays live.
    pub fn complete_session(&self, id: &str) -> Result<bool> {
        self.finish(id, |tracker| tracker.complete())
    }

    /// Fails the session with `error`, writes its file and forgets it.
    pub fn fail_session(&self, id: &str, error: String) -> Result<bool> {
        self.finish(id, move |tracker| tracker.fail(error))
    }

    /// Forgets a finished session — completed, failed or cancelled — and
    /// keeps its status: its file is written once more only if its tracker
    /// changed since the last write, then the session leaves memory as
    /// [`complete_session`](Self::complete_session) makes it leave. This is
    /// how a long-lived process lets go of a cancelled session without
    /// turning it `completed`: `complete_session` and `fail_session` change
    /// the tracker's status, as the reference's do (its `completeSession`
    /// after `cancelSession` completes the session), and keep doing so.
    ///
    /// `false` when no session with that id is live here, or when it is
    /// still pending or running (it stays live: finish it with
    /// `complete_session`, `fail_session` or `cancel_session` first). When
    /// the write fails the session stays live.
    pub fn release_session(&self, id: &str) -> Result<bool> {
        let Some(session) = self.get(id) else {
            return Ok(false);
        };
        if SessionStatus::from(session.tracker.status()) == SessionStatus::Active {
            return Ok(false);
        }
        self.inner.writer.forget_dirty(id);
        if let Err(err) = self.inner.writer.write(&session, Read::ForCaller, false) {
            self.inner.writer.retry_later(&session);
            return Err(err);
        }
        self.forget(&session);
        Ok(true)
    }

    /// Writes one live session now, reading its context anew (as
    /// [`save_all`](Self::save_all) writes each), without writing any
    /// other. `false` for an id that is not live here. When the write fails
    /// the session stays due for the next write of any kind.
    pub fn save_session(&self, id: &str) -> Result<bool> {
        let Some(session) = self.get(id) else {
            return Ok(false);
        };
        self.inner.writer.write_now(&session, Read::ForCaller)?;
        Ok(true)
    }

    fn finish(&self, id: &str, change: impl FnOnce(&ProgressTracker)) -> Result<bool> {
        let Some(session) = self.get(id) else {
            return Ok(false);
        };
        change(&session.tracker);
        self.inner.writer.write_now(&session, Read::ForCaller)?;
        self.forget(&session);
        Ok(true)
    }

    /// Lets go of a session whose last state is written.
    fn forget(&self, session: &Arc<Session>) {
        let id = session.id();
        session
            .finished
            .store(true, std::sync::atomic::Ordering::Release);
        self.inner.sessions.lock().shift_remove(id);
        crate::registry::unregister(self.inner.registry_dir(), id);
        // What the session holds goes now, not when the JavaScript objects
        // on it are collected (a loop that never yields gives no turn for
        // that): its context reader, and its tracker's tie to this manager
        // (later changes of a finished session's tracker are heard by the
        // tracker's own listeners only, and not written).
        session.context.release();
        if let Some(hook) = session.hook.get() {
            session.tracker.remove_listener(*hook);
        }
    }

    /// Registers a listener for every session's changes.
    pub fn on_progress(&self, listener: Arc<dyn Listener<ProgressState>>) -> ListenerId {
        self.inner.listeners.add(listener)
    }

    /// Removes a listener; `false` when it was not registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.listeners.remove(id)
    }

    /// A scan for the crashed sessions in this manager's folder (threshold
    /// [`DEFAULT_STALE_MS`]; see [`SessionStore::scan_crashed`]).
    pub fn scan_crashed(&self) -> Result<CrashScan> {
        self.inner
            .store
            .scan_crashed(DEFAULT_STALE_MS, clock::now_ms())
    }

    /// Session `id` of this manager's folder with its owner's liveness (see
    /// [`SessionStore::inspect`]; threshold [`DEFAULT_STALE_MS`]): the file
    /// as it is, which for a live session of this manager may lag its
    /// tracker by up to the persist interval
    /// ([`save_session`](Self::save_session) first for the latest). `None`
    /// for no such session, or an id that is not a session id.
    pub fn inspect(&self, id: &str) -> Option<Inspection> {
        self.inner
            .store
            .inspect(id, DEFAULT_STALE_MS, clock::now_ms())
            .ok()
            .flatten()
    }

    /// Every session of this manager's folder that `filter` admits, with
    /// its owner's liveness (see [`SessionStore::list_states`]; threshold
    /// [`DEFAULT_STALE_MS`]).
    pub fn list_states(&self, filter: &StateFilter) -> Result<Vec<Inspection>> {
        self.inner
            .store
            .list_states(filter, DEFAULT_STALE_MS, clock::now_ms())
    }

    /// Marks every crashed session of this manager's folder `failed` on
    /// disk with `reason` (see [`SessionStore::fail_crashed`]; threshold
    /// [`DEFAULT_STALE_MS`]); returns their ids.
    pub fn recover_crashed(&self, reason: &str) -> Result<Vec<String>> {
        self.inner
            .store
            .fail_crashed(reason, DEFAULT_STALE_MS, clock::now_ms())
    }

    /// Removes finished sessions last written more than `older_than_ms`
    /// ago (see [`SessionStore::cleanup_older_than_ms`]).
    pub fn cleanup_older_than_ms(&self, older_than_ms: f64) -> Result<u32> {
        self.inner
            .store
            .cleanup_older_than_ms(older_than_ms, clock::now_ms())
    }

    /// Removes finished sessions older than `max_age_days` (default
    /// [`DEFAULT_CLEANUP_DAYS`]).
    pub fn cleanup(&self, max_age_days: Option<f64>) -> Result<u32> {
        self.inner.store.cleanup(
            max_age_days.unwrap_or(DEFAULT_CLEANUP_DAYS),
            clock::now_ms(),
        )
    }

    /// Writes every live session (and any finished one with unwritten
    /// changes). Every session is attempted; the first error is returned.
    pub fn save_all(&self) -> Result<()> {
        self.inner.save_all()
    }

    /// Writes every change not written yet, reading contexts anew. Returns
    /// the first error, including one of a background write since the last
    /// flush.
    pub fn flush(&self) -> Result<()> {
        self.inner.writer.flush()
    }

    /// Saves every live session each auto-save period. The timer runs on the
    /// timer thread; the saves run wherever `executor` puts them (the
    /// thread that owns the contexts). Calling it again changes nothing.
    /// A tick handed to the executor before a stop (or a shutdown) and run
    /// after it saves nothing: a busy thread that runs it late never writes
    /// again, or takes the owner lock back, after auto-save was stopped.
    pub fn start_auto_save(&self, executor: Arc<dyn Executor>) {
        let mut slot = self.inner.auto_save.lock();
        if slot.is_some() {
            return;
        }
        let manager = Arc::downgrade(&self.inner);
        // The timer's own handle, for its ticks to check when they run (set
        // once scheduled; a tick that runs before that is a live one).
        let this_timer = Arc::new(OnceLock::<TimerHandle>::new());
        let handle = timer::every(self.inner.interval, {
            let this_timer = this_timer.clone();
            move || {
                let (manager, this_timer) = (manager.clone(), this_timer.clone());
                executor.execute(Box::new(move || {
                    let live = this_timer.get().is_none_or(TimerHandle::is_active);
                    if let (true, Some(inner)) = (live, manager.upgrade()) {
                        inner.auto_save_tick();
                    }
                }));
            }
        });
        let _ = this_timer.set(handle.clone());
        *slot = Some(handle);
    }

    /// One auto-save: what each period of [`start_auto_save`](Self::start_auto_save)
    /// runs, for a caller that keeps the period itself (a test's fake timers).
    pub fn auto_save_tick(&self) {
        self.inner.auto_save_tick();
    }

    /// The auto-save period.
    pub fn auto_save_interval(&self) -> Duration {
        self.inner.interval
    }

    /// Stops auto-save.
    pub fn stop_auto_save(&self) {
        let auto_save = self.inner.auto_save.lock().take();
        if let Some(handle) = auto_save {
            handle.cancel();
        }
    }

    /// Whether auto-save is on.
    pub fn is_auto_saving(&self) -> bool {
        self.inner.auto_save.lock().is_some()
    }

    /// Stops auto-save, writes every live session and every change, and
    /// lets go of the folder: stops watching it for cancellation requests
    /// and gives back the manager's hold on the process's owner lock (the
    /// last hold closes it; see [`owner`](crate::owner)). A later write of
    /// the manager takes them again.
    pub fn shutdown(&self) -> Result<()> {
        self.stop_auto_save();
        let saved = self.save_all();
        let watch = self.inner.requests.lock().take();
        drop(watch);
        self.inner.writer.release_owner_lock();
        saved
    }
}

#[cfg(test)]
impl SessionManager {
    /// Lets go of a live session as a crash would: not finished, not
    /// written again.
    fn sessions_for_test_forget(&self, id: &str) {
        let session = self.inner.sessions.lock().shift_remove(id);
        if let Some(session) = session {
            crate::registry::unregister(self.inner.registry_dir(), id);
            session.context.release();
            if let Some(hook) = session.hook.get() {
                session.tracker.remove_listener(*hook);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listeners::FnListener;
    use crate::progress::ProgressStatus;
    use crate::state::SessionStatus;
    use std::sync::atomic::Ordering;
    use std::sync::mpsc;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A manager that writes every change before it returns.
    fn manager(dir: &tempfile::TempDir) -> SessionManager {
        lagging(dir, 0.0)
    }

    fn lagging(dir: &tempfile::TempDir, persist_ms: f64) -> SessionManager {
        let options = ManagerOptions::new(dir.path(), 5000.0)
            .unwrap()
            .with_persist_interval_ms(persist_ms)
            .unwrap();
        SessionManager::new(options)
    }

    fn progress_on_disk(m: &SessionManager, id: &str) -> f64 {
        m.store().load(id).unwrap().unwrap().progress.progress
    }

    #[test]
    fn changes_reach_the_disk_within_the_interval_coalesced() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 20.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        for p in 1..=50 {
            s.tracker().set_progress(p as f64, None).unwrap();
        }
        // The call returned before the write; the writer thread catches up.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while progress_on_disk(&m, s.id()) != 50.0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never caught up"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn flush_waits_for_a_background_write_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 1.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        for round in 1..=300 {
            s.tracker()
                .set_progress(f64::from(round % 100), None)
                .unwrap();
            m.flush().unwrap();
            assert_eq!(
                progress_on_disk(&m, s.id()),
                f64::from(round % 100),
                "round {round}"
            );
        }
    }

    #[test]
    fn flush_writes_what_is_pending_and_a_dropped_handle_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 3_600_000.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        s.tracker().set_progress(10.0, None).unwrap();
        assert_eq!(progress_on_disk(&m, s.id()), 0.0);
        m.flush().unwrap();
        assert_eq!(progress_on_disk(&m, s.id()), 10.0);
        s.tracker().set_progress(20.0, None).unwrap();
        let weak = Arc::downgrade(&m.inner);
        drop(m);
        // The live session keeps its manager, with what is not written yet.
        let m = SessionManager {
            inner: weak.upgrade().expect("kept by its live session"),
        };
        m.flush().unwrap();
        assert_eq!(progress_on_disk(&m, s.id()), 20.0);
    }

    /// The bug: a batch loop that never names its manager again let the
    /// manager go (its handle collected), and the session's updates went
    /// nowhere. A live session keeps its manager; a finished one lets it go.
    #[test]
    fn a_live_session_keeps_its_manager_and_a_finished_one_lets_it_go() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 0.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        let weak = Arc::downgrade(&m.inner);
        drop(m);
        s.tracker().set_progress(40.0, None).unwrap();
        let m = SessionManager {
            inner: weak.upgrade().expect("kept by its live session"),
        };
        assert_eq!(progress_on_disk(&m, s.id()), 40.0);
        assert!(m.complete_session(s.id()).unwrap());
        drop(m);
        assert!(
            weak.upgrade().is_none(),
            "a finished session lets its manager go"
        );
        // Its tracker no longer reaches the manager, and nothing fails.
        s.tracker().set_progress(50.0, None).unwrap();
    }

    #[test]
    fn a_failed_background_write_is_reported_by_flush_and_the_manager_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 3_600_000.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        let folder = m.store().dir().to_path_buf();
        std::fs::rename(&folder, dir.path().join("moved")).unwrap();
        std::fs::write(&folder, "in the way").unwrap();
        s.tracker().set_progress(10.0, None).unwrap();
        let err = m.flush().unwrap_err();
        assert_eq!(err.code(), "ERR_SESSION_IO");
        assert!(err.to_string().contains("sessions"), "{err}");
        assert_eq!(s.tracker().state().progress, 10.0);
        std::fs::remove_file(&folder).unwrap();
        m.save_all().unwrap();
        assert_eq!(progress_on_disk(&m, s.id()), 10.0);
    }

    #[test]
    fn a_failed_write_is_retried_by_the_next_flush_without_a_new_change() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 0.0);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        let folder = m.store().dir().to_path_buf();
        std::fs::rename(&folder, dir.path().join("moved")).unwrap();
        std::fs::write(&folder, "in the way").unwrap();
        s.tracker().set_progress(10.0, None).unwrap();
        assert_eq!(m.flush().unwrap_err().code(), "ERR_SESSION_IO");
        std::fs::remove_file(&folder).unwrap();
        // No new change: the failed session is still due, and written now.
        m.flush().unwrap();
        assert_eq!(progress_on_disk(&m, s.id()), 10.0);
        // Its error went with the successful write.
        m.flush().unwrap();
    }

    #[test]
    fn one_unsaveable_session_does_not_stop_the_others_and_each_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let (cell_a, cell_b) = (
            Arc::new(Mutex::new(Ok(None))),
            Arc::new(Mutex::new(Ok(None))),
        );
        let a = m
            .create_session(
                "a".into(),
                "{}".into(),
                Some(Box::new(Shared(cell_a.clone()))),
            )
            .unwrap();
        let good = m.create_session("good".into(), "{}".into(), None).unwrap();
        let b = m
            .create_session(
                "b".into(),
                "{}".into(),
                Some(Box::new(Shared(cell_b.clone()))),
            )
            .unwrap();
        *cell_a.lock().unwrap() = Err("cycle a".into());
        *cell_b.lock().unwrap() = Err("cycle b".into());
        good.tracker().set_progress(7.0, None).unwrap();
        let err = m.save_all().unwrap_err();
        assert_eq!(err.code(), "ERR_CONTEXT_NOT_SERIALIZABLE");
        let CoreError::Sessions { failures } = &err else {
            panic!("not an aggregate: {err}")
        };
        let ids: Vec<_> = failures.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, [a.id(), b.id()]);
        assert!(err.to_string().contains("cycle b"), "{err}");
        assert_eq!(progress_on_disk(&m, good.id()), 7.0);
    }

    /// Reads a context whose serializer calls back into the manager.
    struct Reentrant(Mutex<Option<SessionManager>>);
    impl ContextProvider for Reentrant {
        fn read(&self) -> std::result::Result<Option<String>, crate::session::ReadError> {
            if let Some(m) = self.0.lock().unwrap().clone() {
                let _ = m.flush();
                let _ = m.save_all();
            }
            Ok(Some("{\"n\":1}".into()))
        }
    }

    #[test]
    fn a_context_read_that_calls_back_into_the_manager_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 3_600_000.0);
        let provider = Arc::new(Reentrant(Mutex::new(None)));
        struct Forward(Arc<Reentrant>);
        impl ContextProvider for Forward {
            fn read(&self) -> std::result::Result<Option<String>, crate::session::ReadError> {
                self.0.read()
            }
        }
        let s = m
            .create_session(
                "op".into(),
                "{}".into(),
                Some(Box::new(Forward(provider.clone()))),
            )
            .unwrap();
        *provider.0.lock().unwrap() = Some(m.clone());
        s.tracker().set_progress(3.0, None).unwrap();
        m.flush().unwrap();
        m.shutdown().unwrap();
        *provider.0.lock().unwrap() = None;
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(
            (on_disk.progress.progress, on_disk.context["n"].as_i64()),
            (3.0, Some(1))
        );
    }

    type Job = Box<dyn FnOnce() + Send>;

    /// A context on a thread of its own: reads are counted, and jobs posted
    /// to its thread wait until the test runs them.
    #[derive(Clone)]
    struct Home {
        thread: std::thread::ThreadId,
        n: Arc<std::sync::atomic::AtomicU64>,
        reads: Arc<std::sync::atomic::AtomicU64>,
        posted: Arc<Mutex<Vec<Job>>>,
    }
    impl ContextProvider for Home {
        fn read(&self) -> std::result::Result<Option<String>, crate::session::ReadError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(format!("{{\"n\":{}}}", self.n.load(Ordering::SeqCst))))
        }
        fn readable_here(&self) -> bool {
            std::thread::current().id() == self.thread
        }
        fn post(&self, job: Box<dyn FnOnce() + Send>) {
            self.posted.lock().unwrap().push(job);
        }
    }
    impl Home {
        /// A context at home on the calling thread.
        fn here() -> Self {
            Self {
                thread: std::thread::current().id(),
                n: Default::default(),
                reads: Default::default(),
                posted: Default::default(),
            }
        }
        fn reads(&self) -> u64 {
            self.reads.load(Ordering::SeqCst)
        }
        /// An in-place change of the context, then a step, at `ms`.
        fn step(&self, s: &Session, n: u64, ms: f64) {
            self.n.store(n, Ordering::SeqCst);
            clock::with_time(ms, || s.tracker().set_progress(n as f64, None).unwrap());
        }
    }

    fn on_disk(m: &SessionManager, id: &str) -> (f64, Value) {
        let state = m.store().load(id).unwrap().unwrap();
        (state.progress.progress, state.context["n"].clone())
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// A session created at time 0 with the context `{"n":0}` at home here.
    fn home_session(m: &SessionManager) -> (Home, Arc<Session>) {
        let home = Home::here();
        let s = clock::with_time(0.0, || {
            m.create_session(
                "op".into(),
                "{\"n\":0}".into(),
                Some(Box::new(home.clone())),
            )
        })
        .unwrap();
        (home, s)
    }

    #[test]
    fn an_update_reads_the_context_at_most_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 100.0);
        let (home, s) = home_session(&m);
        assert_eq!(
            home.reads(),
            0,
            "the text given at creation is the first read"
        );
        for (n, ms) in (1..=9).zip((10..).step_by(10)) {
            home.step(&s, n, ms as f64);
        }
        assert_eq!(home.reads(), 0);
        // A thread that keeps updating reads again once an interval passed.
        home.step(&s, 10, 100.0);
        assert_eq!(home.reads(), 1);
        home.step(&s, 11, 150.0);
        assert_eq!(home.reads(), 1);
        home.step(&s, 12, 200.0);
        assert_eq!(home.reads(), 2);
        // Every explicit save reads it anew.
        m.save_all().unwrap();
        assert_eq!(home.reads(), 3);
        assert_eq!(on_disk(&m, s.id()), (12.0, 12.into()));
    }

    #[test]
    fn the_writer_writes_a_context_with_its_own_progress_then_catches_up() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 100.0);
        let (home, s) = home_session(&m);
        home.step(&s, 1, 100.0);
        for n in 2..=6 {
            home.step(&s, n, 100.0 + n as f64);
        }
        assert_eq!(home.reads(), 1);
        // The background write: progress 1 with the context read with it,
        // not progress 6 with a context of progress 1.
        wait_for("no catch-up was posted", || {
            !home.posted.lock().unwrap().is_empty()
        });
        assert_eq!(on_disk(&m, s.id()), (1.0, 1.into()));
        // Once the context's thread is free, it reads and the disk catches up.
        let jobs = std::mem::take(&mut *home.posted.lock().unwrap());
        for job in jobs {
            clock::with_time(150.0, job);
        }
        assert_eq!(home.reads(), 2);
        wait_for("the disk never caught up", || {
            on_disk(&m, s.id()) == (6.0, 6.into())
        });
        assert!(home.posted.lock().unwrap().is_empty());
    }

    struct Shared(Arc<Mutex<std::result::Result<Option<String>, String>>>);
    impl ContextProvider for Shared {
        fn read(&self) -> std::result::Result<Option<String>, crate::session::ReadError> {
            self.0.lock().unwrap().clone().map_err(Into::into)
        }
    }

    #[test]
    fn seed_plan_create_update_file_complete() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m
            .create_session("index".into(), "{\"a\":1}".into(), None)
            .unwrap();
        let path = m.store().path_of(&SessionId::parse(s.id()).unwrap());
        assert!(path.exists());
        s.tracker().start(Some(2.0)).unwrap();
        s.tracker().complete_step(Some("one".into()));
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(on_disk.status, SessionStatus::Active);
        assert_eq!(on_disk.progress.progress, 50.0);
        assert_eq!(on_disk.context, serde_json::json!({"a": 1}));
        assert!(m.complete_session(s.id()).unwrap());
        assert!(m.get(s.id()).is_none());
        assert!(!m.complete_session(s.id()).unwrap());
        assert_eq!(
            m.store().load(s.id()).unwrap().unwrap().status,
            SessionStatus::Completed
        );
    }

    #[test]
    fn cancel_keeps_the_session_and_stores_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        assert!(m.cancel_session(s.id(), Some("stop".into())).unwrap());
        assert!(s.source().token().is_cancelled());
        assert!(m.get(s.id()).is_some());
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(on_disk.status, SessionStatus::Cancelled);
        assert_eq!(on_disk.progress.error.as_deref(), Some("stop"));
        assert!(!m.cancel_session("unknown", None).unwrap());
    }

    #[test]
    fn a_refused_create_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let err = m
            .create_session("op".into(), "[1]".into(), None)
            .err()
            .unwrap();
        assert_eq!(err.code(), "ERR_CONTEXT_NOT_SERIALIZABLE");
        assert!(m.sessions().is_empty());
        assert!(m.store().list().unwrap().is_empty());
        m.shutdown().unwrap();
    }

    #[test]
    fn context_is_read_anew_at_each_save() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let cell = Arc::new(Mutex::new(Ok(None)));
        let s = m
            .create_session(
                "op".into(),
                "{\"n\":1}".into(),
                Some(Box::new(Shared(cell.clone()))),
            )
            .unwrap();
        *cell.lock().unwrap() = Ok(Some("{\"n\":2}".into()));
        s.tracker().set_progress(5.0, None).unwrap();
        assert_eq!(m.store().load(s.id()).unwrap().unwrap().context["n"], 2);
        *cell.lock().unwrap() = Err("Converting circular structure to JSON".into());
        // A progress update keeps the last good context...
        s.tracker().set_progress(6.0, None).unwrap();
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(
            (on_disk.context["n"].as_i64(), on_disk.progress.progress),
            (Some(2), 6.0)
        );
        // ...an explicit save reports the error.
        let err = m.save_all().unwrap_err();
        assert_eq!(err.code(), "ERR_CONTEXT_NOT_SERIALIZABLE");
        assert!(err.to_string().contains("circular"));
    }

    #[test]
    fn manager_listeners_hear_every_session_before_saving() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let id = m.on_progress(Arc::new(FnListener(move |st: &ProgressState| {
            s2.lock()
                .unwrap()
                .push((st.session_id.clone(), st.progress))
        })));
        let a = m.create_session("a".into(), "{}".into(), None).unwrap();
        let b = m.create_session("b".into(), "{}".into(), None).unwrap();
        a.tracker().set_progress(10.0, None).unwrap();
        b.tracker().set_progress(20.0, None).unwrap();
        assert!(m.remove_listener(id));
        a.tracker().set_progress(30.0, None).unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(a.id().to_string(), 10.0), (b.id().to_string(), 20.0)]
        );
    }

    #[test]
    fn resume_restores_everything_and_writes_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m
            .create_session("op".into(), "{\"cursor\":7}".into(), None)
            .unwrap();
        s.tracker().start(Some(4.0)).unwrap();
        s.tracker().complete_step(Some("one".into()));
        let (id, created_at_ms) = (s.id().to_string(), s.created_at_ms());
        let store = m.store().clone();
        let mut crashed = store.load(&id).unwrap().unwrap();
        crashed.status = SessionStatus::Crashed;
        // While the owner (this process) lives, nobody can take the session.
        let other = manager(&dir);
        assert!(other
            .resume_session(crashed.clone(), None)
            .unwrap()
            .is_none());
        // As a crash would: the file now names an owner that is gone.
        drop((s, m));
        with_dead_owner(&store, &id);
        let resumed = other
            .resume_session(crashed.clone(), None)
            .unwrap()
            .unwrap();
        let st = resumed.tracker().state();
        assert_eq!(st.status, ProgressStatus::Running);
        assert_eq!(
            (st.progress, st.total_steps, st.completed_steps),
            (25.0, Some(4.0), Some(1.0))
        );
        assert_eq!(st.current_step.as_deref(), Some("one"));
        assert_eq!(st.started_at, crashed.progress.started_at);
        assert!(other
            .resume_session(crashed.clone(), None)
            .unwrap()
            .is_none());
        assert!(manager(&dir)
            .resume_session(crashed.clone(), None)
            .unwrap()
            .is_none());
        let on_disk = store.load(&id).unwrap().unwrap();
        assert_eq!(on_disk.status, SessionStatus::Active);
        assert_eq!(on_disk.context["cursor"], 7);
        assert_eq!(on_disk.extra["owner"]["pid"], std::process::id());
        assert_eq!(
            on_disk.extra["owner"]["instance"],
            crate::process::this_instance()
        );
        assert_eq!(resumed.created_at_ms(), created_at_ms);
        // A finished session is not resumed again.
        assert!(other.complete_session(&id).unwrap());
        with_dead_owner(&store, &id);
        let mut finished = store.load(&id).unwrap().unwrap();
        assert_eq!(finished.status, SessionStatus::Completed);
        finished.status = SessionStatus::Crashed;
        assert!(manager(&dir)
            .resume_session(finished, None)
            .unwrap()
            .is_none());
    }

    /// Rewrites a session file as if its owner were a process that is gone.
    fn with_dead_owner(store: &SessionStore, id: &str) {
        let mut state = store.load(id).unwrap().unwrap();
        state.extra["owner"]["instance"] = "a-process-that-is-gone".into();
        store.save(&state).unwrap();
    }

    #[test]
    fn other_threads_attach_to_live_sessions_only() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m
            .create_session("op".into(), "{\"a\":1}".into(), None)
            .unwrap();
        let id = s.id().to_string();
        let base = dir.path().to_path_buf();
        let attached = std::thread::spawn(move || crate::registry::attach(&base, &id))
            .join()
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(&attached, &s));
        assert_eq!(attached.context_json(), "{\"a\":1}");
        assert!(crate::registry::attach(dir.path(), "unknown").is_none());
        m.complete_session(s.id()).unwrap();
        assert!(crate::registry::attach(dir.path(), s.id()).is_none());
    }

    #[test]
    fn a_cancellation_request_reaches_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        let requester = SessionStore::new(dir.path());
        assert!(requester
            .request_cancellation(s.id(), Some("from afar".into()))
            .unwrap());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !s.source().token().is_cancelled() {
            assert!(
                std::time::Instant::now() < deadline,
                "the request was not served"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(s.source().token().reason(), Some(Some("from afar".into())));
        // The file said so before the token did (issue 21.3).
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(on_disk.status, SessionStatus::Cancelled);
        assert_eq!(on_disk.progress.error.as_deref(), Some("from afar"));
        // No live owner, no request.
        m.complete_session(s.id()).unwrap();
        assert!(!requester.request_cancellation(s.id(), None).unwrap());
        assert!(!requester.request_cancellation("unknown", None).unwrap());
    }

    #[test]
    fn a_cancel_is_on_disk_before_the_token_says_so() {
        let dir = tempfile::tempdir().unwrap();
        for lag in [0.0, 3_600_000.0] {
            let m = lagging(&dir, lag);
            let s = m.create_session("op".into(), "{}".into(), None).unwrap();
            s.tracker().set_progress(40.0, None).unwrap();
            let (tx, rx) = mpsc::channel();
            let store = m.store().clone();
            let id = s.id().to_string();
            // A listener of the token that reads the file as it fires, and
            // one of the tracker: the token's is heard first.
            let order = Arc::new(Mutex::new(Vec::new()));
            let heard = order.clone();
            s.source()
                .token()
                .on_cancelled(Arc::new(FnListener(move |_: &Option<String>| {
                    heard.lock().unwrap().push("token");
                    tx.send(store.load(&id).unwrap().unwrap()).unwrap();
                })));
            let heard = order.clone();
            s.tracker()
                .on_progress(Arc::new(FnListener(move |p: &ProgressState| {
                    if p.status == ProgressStatus::Cancelled {
                        heard.lock().unwrap().push("tracker");
                    }
                })));
            assert!(m.cancel_session(s.id(), Some("stop".into())).unwrap());
            let seen = rx.try_recv().unwrap();
            assert_eq!(seen.status, SessionStatus::Cancelled, "lag {lag}");
            assert_eq!(seen.progress.error.as_deref(), Some("stop"));
            assert_eq!(seen.progress.progress, 40.0);
            assert_eq!(*order.lock().unwrap(), ["token", "tracker"]);
            let last = m.store().load(s.id()).unwrap().unwrap();
            assert_eq!(last.status, SessionStatus::Cancelled);
            assert_eq!(last.progress.updated_at, s.tracker().state().updated_at);
        }
    }

    #[test]
    fn a_served_request_is_on_disk_before_the_token_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        let (tx, rx) = mpsc::channel();
        let store = m.store().clone();
        let id = s.id().to_string();
        s.source()
            .token()
            .on_cancelled(Arc::new(FnListener(move |_: &Option<String>| {
                tx.send(store.load(&id).unwrap().unwrap()).unwrap();
            })));
        let requester = SessionStore::new(dir.path());
        assert!(requester.request_cancellation(s.id(), None).unwrap());
        let seen = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(seen.status, SessionStatus::Cancelled);
        assert_eq!(seen.progress.error.as_deref(), Some("Cancelled by user"));
    }

    /// The files of `dir` this process has open (Linux: `/proc/self/fd`).
    #[cfg(target_os = "linux")]
    fn open_files_in(dir: &std::path::Path) -> Vec<PathBuf> {
        let dir = std::fs::canonicalize(dir).unwrap();
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.starts_with(&dir))
            .collect()
    }

    #[test]
    fn shutdown_gives_back_the_owner_lock_when_no_other_manager_holds_it() {
        use crate::owner::{probe, Liveness};
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (manager(&dir), manager(&dir));
        let lock_file = a.store().owner_lock_path(crate::process::this_instance());
        let sa = a.create_session("op".into(), "{}".into(), None).unwrap();
        let sb = b.create_session("op".into(), "{}".into(), None).unwrap();
        assert_eq!(a.store().process_lock_holders(), 2);
        // One manager shut down: the other's session still has a live owner.
        a.shutdown().unwrap();
        assert_eq!(a.store().process_lock_holders(), 1);
        assert_eq!(probe(&lock_file), Liveness::Alive);
        let scan = |m: &SessionManager| {
            let found = m
                .store()
                .find_crashed(DEFAULT_STALE_MS, clock::now_ms())
                .unwrap();
            serde_json::from_str::<Vec<Value>>(&found).unwrap().len()
        };
        // The lock is the process's: a's session too reads alive.
        assert_eq!(scan(&b), 0);
        // A shut-down manager's next write takes its hold again.
        sa.tracker().set_progress(5.0, None).unwrap();
        assert_eq!(a.store().process_lock_holders(), 2);
        assert_eq!(scan(&b), 0);
        a.complete_session(sa.id()).unwrap();
        a.shutdown().unwrap();
        b.complete_session(sb.id()).unwrap();
        b.shutdown().unwrap();
        assert_eq!(b.store().process_lock_holders(), 0);
        assert_eq!(probe(&lock_file), Liveness::Gone);
        assert!(!lock_file.exists());
        #[cfg(target_os = "linux")]
        assert_eq!(open_files_in(dir.path()), Vec::<PathBuf>::new());
        // The folder can go, and a new manager starts over in its place.
        std::fs::remove_dir_all(dir.path().join(crate::store::MSW_DIR)).unwrap();
        let c = manager(&dir);
        let sc = c.create_session("op".into(), "{}".into(), None).unwrap();
        assert_eq!(probe(&lock_file), Liveness::Alive);
        assert_eq!(scan(&c), 0);
        assert_eq!(
            c.store().load(sc.id()).unwrap().unwrap().status,
            SessionStatus::Active
        );
        // A manager dropped without a shutdown keeps its hold: its sessions
        // keep a live owner while the process lives.
        drop(sc);
        drop(c);
        assert_eq!(probe(&lock_file), Liveness::Alive);
    }

    #[test]
    fn of_many_racing_resumers_exactly_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let state = {
            let m = manager(&dir);
            let s = m.create_session("op".into(), "{}".into(), None).unwrap();
            with_dead_owner(m.store(), s.id());
            m.store().load(s.id()).unwrap().unwrap()
        };
        let managers: Vec<_> = (0..8).map(|_| manager(&dir)).collect();
        let barrier = std::sync::Barrier::new(managers.len());
        let winners = std::thread::scope(|scope| {
            let handles: Vec<_> = managers
                .iter()
                .map(|m| {
                    let (state, barrier) = (state.clone(), &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        m.resume_session(state, None).unwrap().is_some()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|won| *won)
                .count()
        });
        assert_eq!(winners, 1);
    }

    #[test]
    fn auto_save_runs_on_the_executor_and_stops() {
        struct Channel(Mutex<mpsc::Sender<Box<dyn FnOnce() + Send>>>);
        impl Executor for Channel {
            fn execute(&self, job: Box<dyn FnOnce() + Send>) {
                let _ = self.0.lock().unwrap().send(job);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let m = SessionManager::new(ManagerOptions::new(dir.path(), 1.0).unwrap());
        let cell = Arc::new(Mutex::new(Ok(Some("{\"v\":1}".to_string()))));
        let s = m
            .create_session(
                "op".into(),
                "{\"v\":0}".into(),
                Some(Box::new(Shared(cell.clone()))),
            )
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let (tx2, rx2) = mpsc::channel();
        let (tx3, rx3) = mpsc::channel();
        m.start_auto_save(Arc::new(Channel(Mutex::new(tx))));
        m.start_auto_save(Arc::new(Channel(Mutex::new(mpsc::channel().0))));
        let job = rx.recv().unwrap();
        *cell.lock().unwrap() = Ok(Some("{\"v\":2}".into()));
        job();
        assert_eq!(m.store().load(s.id()).unwrap().unwrap().context["v"], 2);
        assert!(m.is_auto_saving());
        // A tick handed over before the shutdown, run after it (a thread
        // busy meanwhile), saves nothing.
        let late = rx.recv().unwrap();
        m.shutdown().unwrap();
        assert!(!m.is_auto_saving());
        *cell.lock().unwrap() = Ok(Some("{\"v\":3}".into()));
        late();
        assert_eq!(m.store().load(s.id()).unwrap().unwrap().context["v"], 2);
        // Nor one handed over before a stop; a restart's ticks save again.
        m.start_auto_save(Arc::new(Channel(Mutex::new(tx2))));
        let late = rx2.recv().unwrap();
        m.stop_auto_save();
        late();
        assert_eq!(m.store().load(s.id()).unwrap().unwrap().context["v"], 2);
        m.start_auto_save(Arc::new(Channel(Mutex::new(tx3))));
        rx3.recv().unwrap()();
        assert_eq!(m.store().load(s.id()).unwrap().unwrap().context["v"], 3);
        m.stop_auto_save();
    }

    #[test]
    fn a_cancelled_session_is_released_and_its_file_stays_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        for lag in [0.0, 3_600_000.0] {
            let m = lagging(&dir, lag);
            let s = m.create_session("op".into(), "{}".into(), None).unwrap();
            s.tracker().set_progress(40.0, None).unwrap();
            assert!(m.cancel_session(s.id(), Some("stop".into())).unwrap());
            // A change after the cancel is written by the release.
            s.tracker().set_progress(45.0, None).unwrap();
            assert!(m.release_session(s.id()).unwrap(), "lag {lag}");
            assert!(m.get(s.id()).is_none());
            assert!(crate::registry::attach(dir.path(), s.id()).is_none());
            let on_disk = m.store().load(s.id()).unwrap().unwrap();
            assert_eq!(on_disk.status, SessionStatus::Cancelled);
            assert_eq!(on_disk.progress.status, ProgressStatus::Cancelled);
            assert_eq!(on_disk.progress.error.as_deref(), Some("stop"));
            assert_eq!(on_disk.progress.progress, 45.0);
            // Gone from memory: nothing more to release, save or complete.
            assert!(!m.release_session(s.id()).unwrap());
            assert!(!m.complete_session(s.id()).unwrap());
            m.flush().unwrap();
            assert_eq!(
                m.store().load(s.id()).unwrap().unwrap().status,
                SessionStatus::Cancelled
            );
        }
    }

    #[test]
    fn release_takes_finished_sessions_only() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        assert!(!m.release_session("unknown").unwrap());
        assert!(!m.release_session("../x").unwrap());
        // Pending, then running: stays live.
        assert!(!m.release_session(s.id()).unwrap());
        s.tracker().start(None).unwrap();
        assert!(!m.release_session(s.id()).unwrap());
        assert!(m.get(s.id()).is_some());
        // Finished through its own tracker: released with its status.
        s.tracker().fail("broke".into());
        assert!(m.release_session(s.id()).unwrap());
        let on_disk = m.store().load(s.id()).unwrap().unwrap();
        assert_eq!(on_disk.status, SessionStatus::Failed);
    }

    #[test]
    fn complete_after_cancel_completes_as_the_reference_does() {
        // The reference's completeSession completes whatever the tracker
        // says (its tracker has no guard); release_session is the way to
        // let go of a cancelled session and keep `cancelled`.
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let s = m.create_session("op".into(), "{}".into(), None).unwrap();
        m.cancel_session(s.id(), None).unwrap();
        assert!(m.complete_session(s.id()).unwrap());
        assert_eq!(s.tracker().status(), ProgressStatus::Completed);
        assert_eq!(
            m.store().load(s.id()).unwrap().unwrap().status,
            SessionStatus::Completed
        );
    }

    #[test]
    fn save_session_writes_that_session_only() {
        let dir = tempfile::tempdir().unwrap();
        let m = lagging(&dir, 3_600_000.0);
        let cell = Arc::new(Mutex::new(Ok(None)));
        let bad = m
            .create_session(
                "bad".into(),
                "{}".into(),
                Some(Box::new(Shared(cell.clone()))),
            )
            .unwrap();
        let good = m
            .create_session("good".into(), "{\"n\":1}".into(), None)
            .unwrap();
        *cell.lock().unwrap() = Err("Converting circular structure to JSON".into());
        bad.tracker().set_progress(10.0, None).unwrap();
        good.tracker()
            .set_steps(3.0, Some(5.0), Some("three".into()))
            .unwrap();
        // An unserializable context of another session does not stop it.
        assert!(m.save_session(good.id()).unwrap());
        let on_disk = m.store().load(good.id()).unwrap().unwrap();
        assert_eq!(
            (
                on_disk.progress.completed_steps,
                on_disk.progress.total_steps
            ),
            (Some(3.0), Some(5.0))
        );
        assert_eq!(on_disk.progress.progress, 60.0);
        assert_eq!(on_disk.progress.current_step.as_deref(), Some("three"));
        // The other session was not written.
        assert_eq!(progress_on_disk(&m, bad.id()), 0.0);
        assert_eq!(
            m.save_session(bad.id()).unwrap_err().code(),
            "ERR_CONTEXT_NOT_SERIALIZABLE"
        );
        assert!(!m.save_session("unknown").unwrap());
    }

    #[test]
    fn inspect_list_and_recover_on_the_manager() {
        use crate::crash::OwnerState;
        let dir = tempfile::tempdir().unwrap();
        let m = manager(&dir);
        let live = m.create_session("job".into(), "{}".into(), None).unwrap();
        let dead = m.create_session("job".into(), "{}".into(), None).unwrap();
        let done = m.create_session("other".into(), "{}".into(), None).unwrap();
        m.complete_session(done.id()).unwrap();
        let dead_id = dead.id().to_string();
        drop(dead);
        m.sessions_for_test_forget(&dead_id);
        with_dead_owner(m.store(), &dead_id);
        let state_of = |id: &str| m.inspect(id).map(|found| found.owner_state);
        assert_eq!(state_of(live.id()), Some(OwnerState::Alive));
        assert_eq!(state_of(&dead_id), Some(OwnerState::Crashed));
        assert_eq!(state_of(done.id()), Some(OwnerState::Finished));
        assert_eq!(state_of("../../etc/passwd"), None);
        assert_eq!(state_of("missing"), None);
        let jobs = m
            .list_states(&StateFilter {
                operation: Some("job".into()),
                status: None,
            })
            .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(
            m.recover_crashed("server died").unwrap(),
            vec![dead_id.clone()]
        );
        let found = m.inspect(&dead_id).unwrap();
        assert_eq!(
            (found.status, found.owner_state),
            (SessionStatus::Failed, OwnerState::Finished)
        );
        assert!(m.scan_crashed().unwrap().next().is_none());
        assert_eq!(m.cleanup_older_than_ms(3_600_000.0).unwrap(), 0);
        // Right after the settle, in the same millisecond or not.
        assert_eq!(m.cleanup_older_than_ms(0.0).unwrap(), 2);
        assert_eq!(m.store().list().unwrap(), [live.id().to_string()]);
    }

    #[test]
    fn options_refuse_bad_intervals() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                ManagerOptions::new(".", bad).unwrap_err().code(),
                "ERR_OUT_OF_RANGE"
            );
        }
    }
}
