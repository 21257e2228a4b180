//! `NativeManager` and `NativeSession`: the session manager for JavaScript.

use std::sync::Arc;

use msw_session_core::{ManagerOptions, Session, SessionManager, SessionState};
use napi::bindgen_prelude::Function;
use napi::Env;
use napi_derive::napi;

use crate::convert::Text;
use crate::crash::NativeCrashScan;
use crate::error::OrThrow;
use crate::handles::Counted;
use crate::js_function::JsFunction;
use crate::js_thread::JsThread;
use crate::listeners::{Args, JsContextProvider, JsProgressListener};
use crate::protocol::{NativeInspection, NativeStateList};
use crate::store::{corrupt_files, NativeStoreOptions};
use crate::token::NativeToken;
use crate::tracker::NativeTracker;

/// A live session as the manager made it.
#[napi(custom_finalize)]
pub struct NativeSession {
    session: Arc<Session>,
    _counted: Counted,
}

#[napi]
impl NativeSession {
    /// The session id.
    #[napi(getter, ts_return_type = "string")]
    pub fn id(&self) -> Text {
        Text(self.session.id().to_string())
    }

    /// Creation time, ms since the epoch.
    #[napi(getter)]
    pub fn created_at_ms(&self) -> f64 {
        self.session.created_at_ms() as f64
    }

    /// What the session does.
    #[napi(getter, ts_return_type = "string")]
    pub fn operation(&self) -> Text {
        Text(self.session.operation().to_string())
    }

    /// The context as last read on its own thread, as JSON text.
    #[napi(getter)]
    pub fn context_json(&self) -> String {
        self.session.context_json()
    }

    /// A handle on the session's cancellation token.
    #[napi(getter)]
    pub fn token(&self) -> NativeToken {
        NativeToken::from_core(self.session.source().token().clone())
    }

    /// A handle on the session's tracker.
    #[napi(getter)]
    pub fn tracker(&self) -> NativeTracker {
        NativeTracker::from_core(self.session.tracker().clone())
    }
}

/// A session as its manager hands it to JavaScript: its parts, and no
/// handle on the session itself, so that a finished session is freed when
/// its manager lets go of it, not when a handle is collected (a loop that
/// never yields gives no turn for that).
#[napi(object, object_from_js = false)]
pub struct SessionParts {
    /// The session id.
    #[napi(ts_type = "string")]
    pub id: Text,
    /// Creation time, ms since the epoch.
    pub created_at_ms: f64,
    /// A handle on the session's tracker.
    pub tracker: NativeTracker,
    /// A handle on the session's cancellation token.
    pub token: NativeToken,
}

impl SessionParts {
    fn of(session: &Session) -> Self {
        Self {
            id: Text(session.id().to_string()),
            created_at_ms: session.created_at_ms() as f64,
            tracker: NativeTracker::from_core(session.tracker().clone()),
            token: NativeToken::from_core(session.source().token().clone()),
        }
    }
}

/// The session manager.
#[napi(custom_finalize)]
pub struct NativeManager {
    manager: SessionManager,
}

#[napi]
impl NativeManager {
    /// A manager below `basePath` whose folders have been checked
    /// (`ERR_UNSAFE_FOLDER`); each absent option takes the core's default.
    /// `autoSaveIntervalMs` must be positive, `persistIntervalMs` a finite
    /// number >= 0.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        base_path: String,
        auto_save_interval_ms: Option<f64>,
        persist_interval_ms: Option<f64>,
        store: NativeStoreOptions,
    ) -> napi::Result<Self> {
        let store = store.to_core(&env)?;
        let options =
            ManagerOptions::from_js(base_path, auto_save_interval_ms, persist_interval_ms, store)
                .or_throw(&env)?;
        Ok(Self {
            manager: SessionManager::open(options).or_throw(&env)?,
        })
    }

    /// Creates a session and writes its file. `contextJson` is
    /// `JSON.stringify(context)`; `readContext()` returns it anew at each save.
    #[napi(
        catch_unwind,
        ts_args_type = "operation: string, contextJson: string, readContext: () => string | undefined"
    )]
    pub fn create_session(
        &self,
        env: Env,
        operation: Text,
        context_json: String,
        read_context: Function<'_>,
    ) -> napi::Result<SessionParts> {
        let provider = JsContextProvider::new(JsFunction::new(&env, &read_context)?);
        let session = self
            .manager
            .create_session(operation.0, context_json, Some(provider))
            .or_throw(&env)?;
        Ok(SessionParts::of(&session))
    }

    /// Resumes a crashed session given as JSON text; `null` when it is live here.
    #[napi(
        catch_unwind,
        ts_args_type = "stateJson: string, readContext: () => string | undefined"
    )]
    pub fn resume_session(
        &self,
        env: Env,
        state_json: String,
        read_context: Function<'_>,
    ) -> napi::Result<Option<SessionParts>> {
        let state = SessionState::from_json(&state_json).or_throw(&env)?;
        let provider = JsContextProvider::new(JsFunction::new(&env, &read_context)?);
        let session = self
            .manager
            .resume_session(state, Some(provider))
            .or_throw(&env)?;
        Ok(session.as_deref().map(SessionParts::of))
    }

    /// Cancels a session; `false` for an unknown id.
    #[napi(catch_unwind)]
    pub fn cancel_session(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
        #[napi(ts_arg_type = "string | undefined | null")] reason: Option<Text>,
    ) -> napi::Result<bool> {
        self.manager
            .cancel_session(&id.0, reason.map(|t| t.0))
            .or_throw(&env)
    }

    /// Completes and forgets a session; `false` for an unknown id.
    #[napi(catch_unwind)]
    pub fn complete_session(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
    ) -> napi::Result<bool> {
        self.manager.complete_session(&id.0).or_throw(&env)
    }

    /// Fails and forgets a session; `false` for an unknown id.
    #[napi(catch_unwind)]
    pub fn fail_session(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
        #[napi(ts_arg_type = "string")] error: Text,
    ) -> napi::Result<bool> {
        self.manager.fail_session(&id.0, error.0).or_throw(&env)
    }

    /// Forgets a finished session and keeps its status on disk; `false`
    /// for an unknown id or a session still pending or running (see the
    /// core's `SessionManager::release_session`).
    #[napi(catch_unwind)]
    pub fn release_session(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
    ) -> napi::Result<bool> {
        self.manager.release_session(&id.0).or_throw(&env)
    }

    /// Writes one live session now; `false` for an unknown id.
    #[napi(catch_unwind)]
    pub fn save_session(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
    ) -> napi::Result<bool> {
        self.manager.save_session(&id.0).or_throw(&env)
    }

    /// One session of the folder and its owner's state; `null` when there
    /// is none, or when `id` is not a session id.
    #[napi(catch_unwind)]
    pub fn inspect(&self, #[napi(ts_arg_type = "string")] id: Text) -> Option<NativeInspection> {
        self.manager.inspect(&id.0).map(NativeInspection::from)
    }

    /// Every session of the folder (of `operation`, with stored `status`,
    /// when given) and its owner's state, each file read once.
    #[napi(catch_unwind)]
    pub fn list_states(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string | undefined | null")] operation: Option<Text>,
        #[napi(
            ts_arg_type = "'active' | 'completed' | 'failed' | 'cancelled' | 'crashed' | undefined | null"
        )]
        status: Option<Text>,
    ) -> napi::Result<NativeStateList> {
        let filter = crate::protocol::state_filter(&env, operation, status)?;
        Ok(self.manager.list_states(&filter).or_throw(&env)?.into())
    }

    /// Marks every crashed session of the folder `failed` on disk with
    /// `reason`; returns their ids.
    #[napi(catch_unwind)]
    pub fn recover_crashed(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] reason: Text,
    ) -> napi::Result<Vec<String>> {
        self.manager.recover_crashed(&reason.0).or_throw(&env)
    }

    /// Removes finished sessions last written `olderThanMs` or more ago (`0`:
    /// every finished one); returns the count.
    #[napi(catch_unwind)]
    pub fn cleanup_older_than_ms(&self, env: Env, older_than_ms: f64) -> napi::Result<u32> {
        self.manager
            .cleanup_older_than_ms(older_than_ms)
            .or_throw(&env)
    }

    /// Registers a listener for every session, held weakly (the JavaScript
    /// wrapper keeps it alive), called with the whole state as positional
    /// arguments (`protocol::state_args`); returns its id.
    #[napi(
        catch_unwind,
        ts_args_type = "listener: (sessionId: string, operation: string, startedAt: string, shape: number, progress: number, updatedAt: string, currentStep: string | undefined, totalSteps: number | undefined, completedSteps: number | undefined, error: string | undefined, eta: string | undefined) => void"
    )]
    pub fn on_progress(&self, env: Env, listener: Function<'_>) -> napi::Result<i64> {
        let listener = JsProgressListener::new(JsFunction::weak(&env, &listener)?, Args::Whole);
        Ok(self.manager.on_progress(listener) as i64)
    }

    /// Removes a listener; `false` when it was not registered.
    #[napi(catch_unwind)]
    pub fn remove_listener(&self, id: i64) -> bool {
        self.manager.remove_listener(id as u64)
    }

    /// The paths of files moved aside because they could not be read.
    #[napi(catch_unwind)]
    pub fn corrupt_files(&self, env: Env) -> napi::Result<Vec<String>> {
        corrupt_files(self.manager.store(), &env)
    }

    /// Starts a crash scan (see the core's `SessionManager::scan_crashed`).
    #[napi(catch_unwind)]
    pub fn scan_crashed(&self, env: Env) -> napi::Result<NativeCrashScan> {
        self.manager
            .scan_crashed()
            .map(NativeCrashScan::from)
            .or_throw(&env)
    }

    /// Removes old finished sessions; returns the count.
    #[napi(catch_unwind)]
    pub fn cleanup(&self, env: Env, max_age_days: Option<f64>) -> napi::Result<u32> {
        self.manager.cleanup(max_age_days).or_throw(&env)
    }

    /// Writes every session.
    #[napi(catch_unwind)]
    pub fn save_all(&self, env: Env) -> napi::Result<()> {
        self.manager.save_all().or_throw(&env)
    }

    /// Saves every session periodically, on this thread.
    #[napi(catch_unwind)]
    pub fn start_auto_save(&self, env: Env) -> napi::Result<()> {
        self.manager.start_auto_save(JsThread::current(&env)?);
        Ok(())
    }

    /// One auto-save period's saves, for auto-save on a test's fake timers;
    /// failures are kept for the next flush, as the timer's are.
    #[napi(catch_unwind)]
    pub fn auto_save_tick(&self) {
        self.manager.auto_save_tick();
    }

    /// Whether auto-save runs on the timer thread.
    #[napi(getter)]
    pub fn auto_saving(&self) -> bool {
        self.manager.is_auto_saving()
    }

    /// The auto-save period, in ms.
    #[napi(getter)]
    pub fn auto_save_interval_ms(&self) -> f64 {
        self.manager.auto_save_interval().as_secs_f64() * 1000.0
    }

    /// Stops auto-save.
    #[napi(catch_unwind)]
    pub fn stop_auto_save(&self) {
        self.manager.stop_auto_save()
    }

    /// Writes every change not written yet.
    #[napi(catch_unwind)]
    pub fn flush(&self, env: Env) -> napi::Result<()> {
        self.manager.flush().or_throw(&env)
    }

    /// Stops auto-save and writes every session.
    #[napi(catch_unwind)]
    pub fn shutdown(&self, env: Env) -> napi::Result<()> {
        self.manager.shutdown().or_throw(&env)
    }
}

/// Writes what every manager of the process has not written yet (called at
/// process exit by the JavaScript layer); a session that could not be
/// written is told on stderr, naming it and its file, since no caller is
/// left to hear an error.
#[napi(catch_unwind)]
pub fn flush_all() {
    for line in msw_session_core::writer::flush_all() {
        eprintln!("{line}");
    }
}

/// The live session `id` that a manager of this process created below
/// `basePath`, from any thread, once the folders there have been checked;
/// `null` when there is none.
#[napi(catch_unwind)]
pub fn attach_session(
    env: Env,
    base_path: String,
    #[napi(ts_arg_type = "string")] id: Text,
    options: NativeStoreOptions,
) -> napi::Result<Option<NativeSession>> {
    let options = options.to_core(&env)?;
    let session = msw_session_core::registry::attach_checked(
        std::path::Path::new(&base_path),
        &id.0,
        options,
    )
    .or_throw(&env)?;
    Ok(session.map(|session| NativeSession {
        session,
        _counted: Counted::new(),
    }))
}

/// What the process holds per session now: a finished session, once
/// collected, leaves every count where it was before it was created.
#[napi(object)]
pub struct LiveCounts {
    /// Core session values alive (held by a manager, a handle or a worker).
    pub sessions: u32,
    /// Entries of the registry that `attachSession` reads.
    pub attachable: u32,
    /// Sessions waiting for the background writer.
    pub dirty: u32,
    /// Managers alive.
    pub managers: u32,
    /// JavaScript functions held by the addon (listeners, context readers).
    pub callbacks: u32,
    /// Native objects held by JavaScript wrappers (a token's, a tracker's,
    /// an attached session's); each is freed as its wrapper is collected.
    pub handles: u32,
}

/// The counts of what the process holds per session, now.
#[napi(catch_unwind)]
pub fn live_counts() -> LiveCounts {
    let c = msw_session_core::live::counts();
    LiveCounts {
        sessions: c.sessions as u32,
        attachable: c.attachable as u32,
        dirty: c.dirty as u32,
        managers: c.managers as u32,
        callbacks: crate::js_function::ALIVE.load(std::sync::atomic::Ordering::Relaxed) as u32,
        handles: crate::handles::alive() as u32,
    }
}

crate::handles::finalized_by_handles!(NativeSession);

crate::handles::finalized_by_handles!(NativeManager);
