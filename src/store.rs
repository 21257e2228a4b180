//! `NativeStore`: session files for JavaScript. States cross the boundary as
//! JSON text: one string instead of dozens of property reads and writes.

use msw_session_core::{clock, store, SessionStore, StoreOptions};
use napi::Env;
use napi_derive::napi;

use crate::convert::Text;
use crate::crash::NativeCrashScan;
use crate::error::OrThrow;
use crate::protocol::{NativeInspection, NativeStateList};

/// Session files in `<basePath>/.msw/sessions/`.
#[napi(custom_finalize)]
pub struct NativeStore {
    store: SessionStore,
}

/// The paths of a store's corrupt files, for JavaScript.
pub(crate) fn corrupt_files(store: &SessionStore, env: &Env) -> napi::Result<Vec<String>> {
    let paths = store.corrupt_files().or_throw(env)?;
    Ok(paths.iter().map(|p| p.display().to_string()).collect())
}

/// The store options a native constructor takes, as the JavaScript layer
/// passes them (type-checked there; each absent one the core's default):
/// the one place their layout is defined.
#[napi(object, object_to_js = false)]
pub struct NativeStoreOptions {
    /// Flush each write to the device.
    pub fsync: Option<bool>,
    /// The mode of new files (Unix).
    pub file_mode: Option<f64>,
    /// Use a folder that another user controls.
    pub trust_folder: Option<bool>,
}

impl NativeStoreOptions {
    /// The core's options (see `StoreOptions::from_js`).
    pub(crate) fn to_core(&self, env: &Env) -> napi::Result<StoreOptions> {
        StoreOptions::from_js(self.fsync, self.file_mode, self.trust_folder).or_throw(env)
    }
}

#[napi]
impl NativeStore {
    /// A store below `basePath` whose folders have been checked
    /// (`ERR_UNSAFE_FOLDER`); `fileMode` (default 0o600) must let the owner
    /// read and write.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, base_path: String, options: NativeStoreOptions) -> napi::Result<Self> {
        let options = options.to_core(&env)?;
        Ok(Self {
            store: SessionStore::open(base_path, options).or_throw(&env)?,
        })
    }

    /// The paths of files moved aside because they could not be read.
    #[napi(catch_unwind)]
    pub fn corrupt_files(&self, env: Env) -> napi::Result<Vec<String>> {
        corrupt_files(&self.store, &env)
    }

    /// The sessions folder, `<basePath>/.msw/sessions` (the core's
    /// `sessions_dir`: the one place its name is spelled).
    #[napi(getter, catch_unwind)]
    pub fn dir(&self) -> String {
        self.store.dir().to_string_lossy().into_owned()
    }

    /// Checks and writes a state given as JSON text.
    #[napi(catch_unwind)]
    pub fn save(&self, env: Env, state_json: String) -> napi::Result<()> {
        self.store.save_json(&state_json).or_throw(&env)
    }

    /// The text of a session file, or `undefined` when missing or unreadable.
    #[napi(catch_unwind)]
    pub fn load(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
    ) -> napi::Result<Option<String>> {
        self.store.load_text(&id.0).or_throw(&env)
    }

    /// Deletes a session file; `false` when there was none.
    #[napi(catch_unwind)]
    pub fn remove(&self, env: Env, #[napi(ts_arg_type = "string")] id: Text) -> napi::Result<bool> {
        self.store.remove(&id.0).or_throw(&env)
    }

    /// The ids of all session files.
    #[napi(catch_unwind)]
    pub fn list(&self, env: Env) -> napi::Result<Vec<String>> {
        self.store.list().or_throw(&env)
    }

    /// Starts a crash scan (see the core's `SessionStore::scan_crashed`).
    #[napi(catch_unwind)]
    pub fn scan_crashed(
        &self,
        env: Env,
        stale_threshold_ms: Option<f64>,
    ) -> napi::Result<NativeCrashScan> {
        let stale = stale_threshold_ms.unwrap_or(store::DEFAULT_STALE_MS);
        self.store
            .scan_crashed(stale, clock::now_ms())
            .map(NativeCrashScan::from)
            .or_throw(&env)
    }

    /// Removes old finished sessions; returns the count.
    #[napi(catch_unwind)]
    pub fn cleanup(&self, env: Env, max_age_days: Option<f64>) -> napi::Result<u32> {
        let days = max_age_days.unwrap_or(store::DEFAULT_CLEANUP_DAYS);
        self.store.cleanup(days, clock::now_ms()).or_throw(&env)
    }

    /// Removes finished sessions last written `olderThanMs` or more ago (`0`:
    /// every finished one); returns the count.
    #[napi(catch_unwind)]
    pub fn cleanup_older_than_ms(&self, env: Env, older_than_ms: f64) -> napi::Result<u32> {
        self.store
            .cleanup_older_than_ms(older_than_ms, clock::now_ms())
            .or_throw(&env)
    }

    /// One session and its owner's state (see the core's
    /// `SessionStore::inspect`); `null` when there is none, or when `id` is
    /// not a session id.
    #[napi(catch_unwind)]
    pub fn inspect(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] id: Text,
        stale_threshold_ms: Option<f64>,
    ) -> napi::Result<Option<NativeInspection>> {
        let stale = stale_threshold_ms.unwrap_or(store::DEFAULT_STALE_MS);
        let found = self.store.inspect(&id.0, stale, clock::now_ms());
        Ok(found.or_throw(&env)?.map(NativeInspection::from))
    }

    /// Every session (of `operation`, with stored `status`, when given)
    /// and its owner's state, each file read once (see the core's
    /// `SessionStore::list_states`).
    #[napi(catch_unwind)]
    pub fn list_states(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string | undefined | null")] operation: Option<Text>,
        #[napi(
            ts_arg_type = "'active' | 'completed' | 'failed' | 'cancelled' | 'crashed' | undefined | null"
        )]
        status: Option<Text>,
        stale_threshold_ms: Option<f64>,
    ) -> napi::Result<NativeStateList> {
        let filter = crate::protocol::state_filter(&env, operation, status)?;
        let stale = stale_threshold_ms.unwrap_or(store::DEFAULT_STALE_MS);
        let found = self.store.list_states(&filter, stale, clock::now_ms());
        Ok(found.or_throw(&env)?.into())
    }

    /// Marks every crashed session `failed` on disk with `reason`; returns
    /// their ids (see the core's `SessionStore::fail_crashed`).
    #[napi(catch_unwind)]
    pub fn fail_crashed(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] reason: Text,
        stale_threshold_ms: Option<f64>,
    ) -> napi::Result<Vec<String>> {
        let stale = stale_threshold_ms.unwrap_or(store::DEFAULT_STALE_MS);
        self.store
            .fail_crashed(&reason.0, stale, clock::now_ms())
            .or_throw(&env)
    }
}

/// Whether `id` is a session id the store accepts (a plain file name); a
/// lookup by any other finds nothing.
#[napi(catch_unwind)]
pub fn is_session_id(#[napi(ts_arg_type = "string")] id: Text) -> bool {
    msw_session_core::is_session_id(&id.0)
}

/// Asks the owner of session `id` below `basePath`, in any process on this
/// machine, to cancel it; returns whether a live owner exists.
#[napi(catch_unwind)]
pub fn request_cancellation(
    env: Env,
    base_path: String,
    #[napi(ts_arg_type = "string")] id: Text,
    #[napi(ts_arg_type = "string | undefined | null")] reason: Option<Text>,
    options: NativeStoreOptions,
) -> napi::Result<bool> {
    SessionStore::open(base_path, options.to_core(&env)?)
        .and_then(|store| store.request_cancellation(&id.0, reason.map(|t| t.0)))
        .or_throw(&env)
}

crate::handles::finalized_by_handles!(NativeStore);
