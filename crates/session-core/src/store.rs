//! Session files in `<base>/.msw/sessions/`.
//!
//! # Invariants
//! - A path is only ever built from a checked [`SessionId`], so every file
//!   touched is directly inside the sessions folder.
//! - A write never leaves a partial file: the text goes to a new temporary
//!   file in the same folder (created exclusively, never an existing file or
//!   link), which is then renamed over `<id>.json`.
//! - On Unix the folder is created `0700` and files `0600` (contexts may hold
//!   secrets), unless [`StoreOptions::file_mode`] widens them.
//! - A file that cannot be read as a session state is never deleted: it is
//!   moved aside to `<id>.json.corrupt` (`.corrupt.1`, … when taken) and
//!   listed by [`SessionStore::corrupt_files`].
//! - With [`StoreOptions::fsync`], the file is flushed to the device before
//!   the rename and the folder after it, so a write survives power loss.
//! - On Windows, a rename refused because another process holds the target
//!   open (an antivirus scan, an indexer) is tried again for a bounded time
//!   (`rename_with_retry`); elsewhere such an error is final and reported at
//!   once.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock;
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::owner::{self, Liveness, Owner, OwnerLock};
use crate::state::{SessionState, SessionStatus};

/// The folder below the base path that holds the session files.
pub const SESSIONS_DIR: &str = ".msw/sessions";

/// How long an active session without a checkable owner may go unwritten
/// before a crash scan calls it crashed (the reference's default), in ms.
pub const DEFAULT_STALE_MS: f64 = 60_000.0;

/// The age in days past which `cleanup` removes a finished session (the
/// reference's default).
pub const DEFAULT_CLEANUP_DAYS: f64 = 7.0;

/// The mode of new session files unless told otherwise: owner only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;

/// How files are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Flush each file and its folder to the device (survives power loss;
    /// costs a device flush per write).
    pub fsync: bool,
    /// The mode of new session and lock files (Unix); the folder gets the
    /// same bits plus search (`x`) wherever read is allowed.
    pub file_mode: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            fsync: false,
            file_mode: DEFAULT_FILE_MODE,
        }
    }
}

impl StoreOptions {
    /// Options from what JavaScript passed, each absent one its default:
    /// `fsync` false, `file_mode` [`DEFAULT_FILE_MODE`] (checked).
    pub fn from_js(fsync: Option<bool>, file_mode: Option<f64>) -> Result<Self> {
        let options = Self {
            fsync: fsync.unwrap_or(false),
            ..Self::default()
        };
        match file_mode {
            Some(mode) => options.with_file_mode(mode),
            None => Ok(options),
        }
    }

    /// Checks a file mode given by JavaScript (0 to 0o777, owner read and
    /// write included).
    pub fn with_file_mode(mut self, mode: f64) -> Result<Self> {
        let valid =
            mode.fract() == 0.0 && (0.0..=511.0).contains(&mode) && (mode as u32) & 0o600 == 0o600;
        if !valid {
            return Err(CoreError::out_of_range(
                "fileMode",
                "a file mode from 0o600 to 0o777 that lets the owner read and write",
                crate::js_number::js_display(mode),
            ));
        }
        self.file_mode = mode as u32;
        Ok(self)
    }

    /// The mode of new folders (only Unix has modes).
    #[cfg(unix)]
    fn dir_mode(&self) -> u32 {
        self.file_mode | ((self.file_mode & 0o444) >> 2)
    }
}

/// Reads and writes session files.
#[derive(Clone, Debug)]
pub struct SessionStore {
    dir: PathBuf,
    options: StoreOptions,
}

impl SessionStore {
    /// A store for `<base_path>/.msw/sessions`. Nothing is created until the
    /// first save.
    pub fn new(base_path: impl AsRef<Path>) -> Self {
        Self::with_options(base_path, StoreOptions::default())
    }

    /// A store with the given options.
    pub fn with_options(base_path: impl AsRef<Path>, options: StoreOptions) -> Self {
        Self {
            dir: base_path.as_ref().join(SESSIONS_DIR),
            options,
        }
    }

    /// The claim file of a session, locked while it is being resumed (see
    /// [`owner`]).
    pub fn lock_path(&self, id: &SessionId) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    /// The lock file of an owning process.
    pub fn owner_lock_path(&self, instance: &str) -> PathBuf {
        self.dir.join("owners").join(format!("{instance}.lock"))
    }

    /// Takes the claim of a session; `None` when someone holds it (tried
    /// again for some milliseconds: a crash scan's probe holds it for an
    /// instant).
    pub fn claim(&self, id: &SessionId) -> Result<Option<OwnerLock>> {
        let path = self.lock_path(id);
        let mode = self.options.file_mode;
        let mut attempt = OwnerLock::acquire_contended(&path, mode);
        if matches!(&attempt, Err(e) if e.kind() == io::ErrorKind::NotFound) {
            self.ensure_dir()?;
            attempt = OwnerLock::acquire_contended(&path, mode);
        }
        attempt.map_err(|e| CoreError::io("lock session", path, e))
    }

    /// Makes this process a live owner in this folder: takes (once per
    /// process and folder) the lock on `owners/<instance>.lock`, held until
    /// the process exits.
    pub fn hold_process_lock(&self) -> Result<()> {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock};
        static HELD: OnceLock<Mutex<HashMap<PathBuf, OwnerLock>>> = OnceLock::new();
        let mut held = crate::sync::lock(HELD.get_or_init(Default::default));
        if held.contains_key(&self.dir) {
            return Ok(());
        }
        let path = self.owner_lock_path(owner::this_instance());
        self.make_dir(&self.dir.join("owners"), "create owners folder")?;
        let lock = OwnerLock::try_acquire(&path, self.options.file_mode)
            .map_err(|e| CoreError::io("lock owner file", &path, e))?
            .ok_or_else(|| CoreError::Internal(format!("{} is held by another", path.display())))?;
        held.insert(self.dir.clone(), lock);
        Ok(())
    }

    /// Deletes the lock files of owning processes that are gone.
    fn remove_dead_owner_files(&self) {
        let Ok(entries) = fs::read_dir(self.dir.join("owners")) else {
            return;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let mine = path
                .file_stem()
                .is_some_and(|s| s == owner::this_instance());
            if !mine && owner::probe(&path) == Liveness::Gone {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Whether the owner recorded in `state` is alive.
    pub fn liveness(&self, state: &SessionState) -> Liveness {
        let owner = state
            .extra
            .get("owner")
            .and_then(|v| serde_json::from_value::<Owner>(v.clone()).ok());
        self.owner_liveness(owner.as_ref())
    }

    fn owner_liveness(&self, owner: Option<&Owner>) -> Liveness {
        match owner {
            // The instance becomes a file name: refuse one that is not plain.
            Some(owner) if owner.is_local() && SessionId::parse(&owner.instance).is_ok() => {
                owner::probe(&self.owner_lock_path(&owner.instance))
            }
            _ => Liveness::Unknown,
        }
    }

    /// The request file of a session (see [`requests`](crate::requests)).
    pub fn request_path(&self, id: &SessionId) -> PathBuf {
        self.dir.join(format!("{id}.cancel"))
    }

    /// Asks the owner of session `id` to cancel it. Returns whether a live
    /// owner exists: only then is the request written.
    pub fn request_cancellation(&self, id: &str, reason: Option<String>) -> Result<bool> {
        let id = SessionId::parse(id)?;
        let Some(state) = self.read(&id).map(|(_, state)| state) else {
            return Ok(false);
        };
        if state.status != SessionStatus::Active || self.liveness(&state) != Liveness::Alive {
            return Ok(false);
        }
        let request = crate::requests::Request {
            reason,
            pid: std::process::id(),
            at: clock::now_iso(),
        };
        let text = serde_json::to_string(&request).unwrap_or_default();
        self.write_atomic_to(&self.request_path(&id), text.as_bytes())?;
        Ok(true)
    }

    /// Takes (reads and deletes) the requests waiting for the sessions that
    /// `mine` accepts, as (id, reason).
    pub fn take_requests(&self, mine: impl Fn(&str) -> bool) -> Vec<(String, Option<String>)> {
        let names = self.entries().unwrap_or_default();
        let mut taken = Vec::new();
        for name in names {
            let Some(id) = name.strip_suffix(".cancel") else {
                continue;
            };
            let (Ok(parsed), true) = (SessionId::parse(id), mine(id)) else {
                continue;
            };
            let path = self.request_path(&parsed);
            let request: crate::requests::Request = fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
            if fs::remove_file(&path).is_ok() {
                taken.push((id.to_string(), request.reason));
            }
        }
        taken
    }

    /// The files moved aside because they could not be read, as paths.
    pub fn corrupt_files(&self) -> Result<Vec<PathBuf>> {
        let mut found: Vec<PathBuf> = self
            .entries()?
            .into_iter()
            .filter(|name| name.contains(".json.corrupt"))
            .map(|name| self.dir.join(name))
            .collect();
        found.sort();
        Ok(found)
    }

    fn entries(&self) -> Result<Vec<String>> {
        match fs::read_dir(&self.dir) {
            Ok(entries) => Ok(entries
                .filter_map(|entry| entry.ok())
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(CoreError::io("read session folder", &self.dir, e)),
        }
    }

    /// Moves an unreadable file aside, never over another.
    fn quarantine(&self, id: &SessionId) {
        let from = self.path_of(id);
        for n in 0..1000 {
            let name = match n {
                0 => format!("{id}.json.corrupt"),
                n => format!("{id}.json.corrupt.{n}"),
            };
            let to = self.dir.join(name);
            if to.exists() {
                continue;
            }
            let _ = fs::rename(&from, &to);
            return;
        }
    }

    /// The sessions folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a session.
    pub fn path_of(&self, id: &SessionId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes a state atomically, creating the folder when needed.
    pub fn save<C: serde::Serialize>(&self, state: &SessionState<C>) -> Result<()> {
        let id = SessionId::parse(&state.id)?;
        self.write_atomic(&id, state.to_pretty_json().as_bytes())
    }

    /// Checks and writes a state given as JSON text.
    pub fn save_json(&self, text: &str) -> Result<()> {
        self.save(&SessionState::from_json(text)?)
    }

    /// The text of a session file, when it exists and holds a session state;
    /// `None` when it is missing or unreadable.
    pub fn load_text(&self, id: &str) -> Result<Option<String>> {
        let id = SessionId::parse(id)?;
        Ok(self.read(&id).map(|(text, _)| text))
    }

    /// A session file, parsed; `None` when missing or unreadable.
    pub fn load(&self, id: &str) -> Result<Option<SessionState>> {
        let id = SessionId::parse(id)?;
        Ok(self.read(&id).map(|(_, state)| state))
    }

    fn read(&self, id: &SessionId) -> Option<(String, SessionState)> {
        let text = self.read_text(id)?;
        match SessionState::from_json(&text) {
            Ok(state) => Some((text, state)),
            Err(_) => {
                self.quarantine(id);
                None
            }
        }
    }

    /// Deletes a session file; `false` when there was none.
    pub fn remove(&self, id: &str) -> Result<bool> {
        let id = SessionId::parse(id)?;
        let path = self.path_of(&id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CoreError::io("remove session file", path, e)),
        }
    }

    /// The ids of all session files, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self
            .entries()?
            .into_iter()
            .filter_map(|name| {
                let id = name.strip_suffix(".json")?;
                SessionId::parse(id).ok().map(|_| id.to_string())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Active sessions whose owner is gone — at once when its lock shows it,
    /// otherwise (another host, a file without an owner) when `updatedAt` is
    /// more than `stale_ms` before `now_ms` — as copies with status `crashed`
    /// and `crashedAt` set. A live owner is never reported.
    pub fn find_crashed(&self, stale_ms: f64, now_ms: i64) -> Result<Vec<SessionState>> {
        let crashed_at = clock::iso_from_ms(now_ms).unwrap_or_default();
        let texts = self.find_crashed_texts(stale_ms, now_ms)?;
        Ok(texts
            .iter()
            .filter_map(|text| SessionState::from_json(text).ok())
            .map(|mut state| {
                state.status = SessionStatus::Crashed;
                state.crashed_at = Some(crashed_at.clone());
                state
            })
            .collect())
    }

    /// The files of the sessions [`find_crashed`](Self::find_crashed)
    /// reports, as they are on disk (not yet marked crashed). Only the fields
    /// that decide are parsed, so a scan costs little more than reading.
    pub fn find_crashed_texts(&self, stale_ms: f64, now_ms: i64) -> Result<Vec<String>> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let ids = self.list()?;
        // Reading files is most of the work: spread it over the cores.
        Ok(parallel_filter_map(&ids, |id| {
            let id = SessionId::parse(id).ok()?;
            let text = self.read_text(&id)?;
            let mapped = crate::js_text::json_in(&text);
            let header = match serde_json::from_str::<Header<'_>>(&mapped) {
                Ok(header) => header,
                Err(_) => {
                    self.quarantine(&id);
                    return None;
                }
            };
            if header.status != SessionStatus::Active {
                return None;
            }
            let owner = header
                .owner
                .and_then(|v| serde_json::from_value::<Owner>(v).ok());
            let crashed = match self.owner_liveness(owner.as_ref()) {
                Liveness::Alive => false,
                // The owner may have finished between the read and the
                // probe: only a file still active counts.
                Liveness::Gone => self
                    .read_text(&id)
                    .and_then(|again| {
                        serde_json::from_str::<Header<'_>>(&crate::js_text::json_in(&again))
                            .ok()
                            .map(|h| h.status)
                    })
                    .is_some_and(|status| status == SessionStatus::Active),
                Liveness::Unknown => clock::parse_iso_ms(&header.updated_at)
                    .is_some_and(|t| (now_ms - t) as f64 > stale_ms),
            };
            crashed.then_some(text)
        }))
    }

    /// The text of a session file, when it can be read as UTF-8 (an
    /// unreadable one is moved aside).
    fn read_text(&self, id: &SessionId) -> Option<String> {
        let bytes = read_small(&self.path_of(id)).ok()?;
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                self.quarantine(id);
                None
            }
        }
    }

    /// Removes sessions that are not active and were last written more than
    /// `max_age_days` before `now_ms`; returns how many were removed.
    pub fn cleanup(&self, max_age_days: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("maxAgeDays", max_age_days)?;
        let max_age_ms = max_age_days * 24.0 * 60.0 * 60.0 * 1000.0;
        let mut removed = 0;
        for id in self.list()? {
            let Ok(Some(state)) = self.load(&id) else {
                continue;
            };
            if state.status != SessionStatus::Active
                && is_older(&state, max_age_ms, now_ms)
                && self.remove(&id)?
            {
                removed += 1;
                // The claim file of a session that is gone is no longer needed.
                if let Ok(id) = SessionId::parse(&id) {
                    let _ = fs::remove_file(self.lock_path(&id));
                }
            }
        }
        self.remove_dead_owner_files();
        Ok(removed)
    }

    fn ensure_dir(&self) -> Result<()> {
        self.make_dir(&self.dir, "create session folder")
    }

    /// Creates a folder (and its parents) with the store's folder mode.
    fn make_dir(&self, path: &Path, action: &'static str) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, self.options.dir_mode());
        builder
            .create(path)
            .map_err(|e| CoreError::io(action, path, e))
    }

    fn write_atomic(&self, id: &SessionId, bytes: &[u8]) -> Result<()> {
        self.write_atomic_to(&self.path_of(id), bytes)
    }

    fn write_atomic_to(&self, target: &Path, bytes: &[u8]) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("session");
        let temp = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let write = |temp: &Path| -> io::Result<()> {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, self.options.file_mode);
            let mut file = options.open(temp)?;
            file.write_all(bytes)?;
            if self.options.fsync {
                file.sync_all()?;
            }
            Ok(())
        };
        let mut first = write(&temp);
        if matches!(&first, Err(e) if e.kind() == io::ErrorKind::NotFound) {
            self.ensure_dir()?;
            first = write(&temp);
        }
        let renamed = first.and_then(|()| rename_over(&temp, target));
        renamed.and_then(|()| self.sync_dir()).map_err(|e| {
            let _ = fs::remove_file(&temp);
            CoreError::io("write session file", target, e)
        })
    }

    /// Makes a rename durable: flushes the folder (Unix, with `fsync` only).
    fn sync_dir(&self) -> io::Result<()> {
        #[cfg(unix)]
        if self.options.fsync {
            fs::File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// The total time an atomic write's rename waits out a file held open
/// before it gives up with the last error (graceful-fs waits up to 60 s; a
/// session write blocks its thread, so a few seconds).
const RENAME_RETRY_BUDGET: Duration = Duration::from_secs(3);

/// How much longer each wait between two rename attempts is than the one
/// before (the first wait is this long), as in graceful-fs.
const RENAME_RETRY_STEP: Duration = Duration::from_millis(10);

/// The longest wait between two rename attempts, as in graceful-fs.
const RENAME_RETRY_MAX_WAIT: Duration = Duration::from_millis(100);

/// Windows errors of a file held open that std gives no [`io::ErrorKind`]:
/// `ERROR_SHARING_VIOLATION` and `ERROR_LOCK_VIOLATION` (libuv reports both
/// as `EBUSY`).
const WINDOWS_SHARING_ERRORS: [i32; 2] = [32, 33];

/// Renames `from` over `to`. On Windows another process holding `to` (or
/// `from`) open without sharing delete refuses the rename for as long as it
/// holds it — for an antivirus scan or an indexer, a moment — so the rename
/// is retried ([`rename_with_retry`]). On Unix a rename is not blocked by open
/// files and a permission error is final: one attempt, so that such an error
/// is reported at once rather than after the retry budget.
fn rename_over(from: &Path, to: &Path) -> io::Result<()> {
    if cfg!(windows) {
        rename_with_retry(|| fs::rename(from, to), std::thread::sleep)
    } else {
        fs::rename(from, to)
    }
}

/// Runs `rename` until it succeeds, fails with an error that is not one of
/// a file held open ([`is_held_open`]), or has waited (through `sleep`) a
/// total of [`RENAME_RETRY_BUDGET`]; then returns its last result. The waits
/// grow by [`RENAME_RETRY_STEP`] up to [`RENAME_RETRY_MAX_WAIT`], like
/// graceful-fs's retry of `rename` on win32. Unlike graceful-fs, which tries
/// again only when the target has meanwhile disappeared, every such error is
/// retried: here the target usually exists (it is the file being replaced).
fn rename_with_retry(
    mut rename: impl FnMut() -> io::Result<()>,
    mut sleep: impl FnMut(Duration),
) -> io::Result<()> {
    let mut slept = Duration::ZERO;
    let mut wait = Duration::ZERO;
    loop {
        match rename() {
            Err(e) if is_held_open(&e) && slept < RENAME_RETRY_BUDGET => {
                wait = (wait + RENAME_RETRY_STEP)
                    .min(RENAME_RETRY_MAX_WAIT)
                    .min(RENAME_RETRY_BUDGET - slept);
                sleep(wait);
                slept += wait;
            }
            result => return result,
        }
    }
}

/// Whether a rename failed because another process holds a file open: the
/// errors graceful-fs retries (`EACCES`, `EPERM`, `EBUSY`), and on Windows
/// the sharing errors std leaves uncategorized.
fn is_held_open(e: &io::Error) -> bool {
    use io::ErrorKind::{PermissionDenied, ResourceBusy};
    matches!(e.kind(), PermissionDenied | ResourceBusy)
        || (cfg!(windows)
            && e.raw_os_error()
                .is_some_and(|code| WINDOWS_SHARING_ERRORS.contains(&code)))
}

/// Reads a whole (small) file with open, read until end, close: unlike
/// `fs::read`, without asking the size first (a `statx`) — session files are
/// a few KB, and a crash scan reads thousands of them.
fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(4096);
    loop {
        if bytes.len() == bytes.capacity() {
            bytes.reserve(bytes.capacity());
        }
        let len = bytes.len();
        bytes.resize(bytes.capacity(), 0);
        match file.read(&mut bytes[len..]) {
            Ok(0) => {
                bytes.truncate(len);
                return Ok(bytes);
            }
            Ok(n) => bytes.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => bytes.truncate(len),
            Err(e) => return Err(e),
        }
    }
}

/// The fields of a session file that decide whether it crashed; the rest
/// is skipped without being built.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header<'a> {
    status: SessionStatus,
    #[serde(borrow)]
    updated_at: std::borrow::Cow<'a, str>,
    /// Read leniently: an owner of another shape is no owner.
    #[serde(default)]
    owner: Option<serde_json::Value>,
}

/// `items.iter().filter_map(f)`, in order, on up to four threads when there
/// are enough items to be worth it.
fn parallel_filter_map<T, R: Send>(items: &[T], f: impl Fn(&T) -> Option<R> + Sync) -> Vec<R>
where
    T: Sync,
{
    const MIN_PER_THREAD: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
        .min(items.len() / MIN_PER_THREAD)
        .max(1);
    if threads == 1 {
        return items.iter().filter_map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().filter_map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn is_older(state: &SessionState, age_ms: f64, now_ms: i64) -> bool {
    clock::parse_iso_ms(&state.updated_at).is_some_and(|t| (now_ms - t) as f64 > age_ms)
}

fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(CoreError::out_of_range(
            name,
            "a number >= 0",
            crate::js_number::js_display(value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::ProgressState;

    pub(crate) fn state(id: &str, status: SessionStatus, updated_at: &str) -> SessionState {
        let mut progress = ProgressState::new(id.into(), "op".into());
        progress.updated_at = updated_at.into();
        SessionState {
            id: id.into(),
            operation: "op".into(),
            status,
            progress,
            context: serde_json::json!({"k": "v"}),
            created_at: updated_at.into(),
            updated_at: updated_at.into(),
            crashed_at: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn saves_loads_lists_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        assert_eq!(store.list().unwrap(), Vec::<String>::new());
        let s = state("a", SessionStatus::Active, &clock::now_iso());
        store.save(&s).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(s));
        assert_eq!(store.list().unwrap(), vec!["a"]);
        assert!(store
            .load_text("a")
            .unwrap()
            .unwrap()
            .starts_with("{\n  \"id\": \"a\""));
        assert!(store.remove("a").unwrap());
        assert!(!store.remove("a").unwrap());
        assert_eq!(store.load("a").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn creates_private_folder_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        assert_eq!(modes_after_a_save(&store), (0o700, 0o600));
    }

    /// Saves a session and returns the modes of the folder and the file.
    #[cfg(unix)]
    fn modes_after_a_save(store: &SessionStore) -> (u32, u32) {
        use std::os::unix::fs::PermissionsExt;
        store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let file = store.path_of(&SessionId::parse("a").unwrap());
        (mode(store.dir()), mode(&file))
    }

    #[test]
    fn unreadable_files_load_as_none_and_are_moved_aside_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap();
        fs::write(store.dir().join("torn.json"), "{\"id\": \"to").unwrap();
        assert_eq!(store.list().unwrap(), vec!["a", "torn"]);
        assert_eq!(store.load("torn").unwrap(), None);
        assert_eq!(store.list().unwrap(), vec!["a"]);
        let aside = store.corrupt_files().unwrap();
        assert_eq!(aside, vec![store.dir().join("torn.json.corrupt")]);
        assert_eq!(fs::read_to_string(&aside[0]).unwrap(), "{\"id\": \"to");
        // A second corrupt file of the same id does not replace the first.
        fs::write(store.dir().join("torn.json"), [0xff, 0xfe]).unwrap();
        let crashed = store.find_crashed(0.0, clock::now_ms()).unwrap();
        assert_eq!(
            crashed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        assert_eq!(store.corrupt_files().unwrap().len(), 2);
        assert_eq!(store.cleanup(0.0, clock::now_ms()).unwrap(), 0);
        assert_eq!(store.corrupt_files().unwrap().len(), 2);
    }

    #[test]
    fn a_live_owner_is_never_reported_and_a_gone_one_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let long_ago = clock::iso_from_ms(now - 86_400_000).unwrap();
        let owned_by = |instance: &str| {
            let mut owner = Owner::this_process();
            owner.instance = instance.into();
            serde_json::to_value(owner).unwrap()
        };
        // A live owner, quiet for a day: another process holding its lock.
        let mut quiet = state("quiet", SessionStatus::Active, &long_ago);
        quiet.extra.insert("owner".into(), owned_by("live-owner"));
        std::fs::create_dir_all(store.dir().join("owners")).unwrap();
        let live = OwnerLock::try_acquire(&store.owner_lock_path("live-owner"), 0o600)
            .unwrap()
            .unwrap();
        // An owner that is gone (no lock held), updated just now.
        let mut gone = state(
            "gone",
            SessionStatus::Active,
            &clock::iso_from_ms(now).unwrap(),
        );
        gone.extra.insert("owner".into(), owned_by("dead-owner"));
        store.save(&quiet).unwrap();
        store.save(&gone).unwrap();
        let found = store.find_crashed(60_000.0, now).unwrap();
        assert_eq!(
            found.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["gone"]
        );
        drop(live);
        assert_eq!(store.find_crashed(60_000.0, now).unwrap().len(), 2);
        // This process, once it holds its own lock, is a live owner too.
        store.hold_process_lock().unwrap();
        let mut mine = state("mine", SessionStatus::Active, &long_ago);
        mine.extra
            .insert("owner".into(), owned_by(owner::this_instance()));
        store.save(&mine).unwrap();
        assert!(store
            .find_crashed(0.0, now)
            .unwrap()
            .iter()
            .all(|s| s.id != "mine"));
    }

    #[test]
    fn a_scan_of_many_files_keeps_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let old = clock::iso_from_ms(clock::now_ms() - 86_400_000).unwrap();
        for i in 0..300 {
            let status = if i % 3 == 0 {
                SessionStatus::Completed
            } else {
                SessionStatus::Active
            };
            store
                .save(&state(&format!("s{i:03}"), status, &old))
                .unwrap();
        }
        let found = store.find_crashed(60_000.0, clock::now_ms()).unwrap();
        let expected: Vec<String> = (0..300)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("s{i:03}"))
            .collect();
        assert_eq!(
            found.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn reads_files_of_any_size_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, 4095, 4096, 4097, 100_000] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            assert_eq!(read_small(&path).unwrap(), bytes);
        }
    }

    #[test]
    fn a_claim_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let id = SessionId::parse("x").unwrap();
        let held = store.claim(&id).unwrap();
        assert!(held.is_some());
        assert!(store.claim(&id).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn fsync_and_wider_modes_are_options() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            fsync: true,
            ..Default::default()
        }
        .with_file_mode(f64::from(0o640))
        .unwrap();
        let store = SessionStore::with_options(dir.path(), options);
        assert_eq!(modes_after_a_save(&store), (0o750, 0o640));
        for bad in [f64::from(0o400), f64::from(0o1000), 1.5, f64::NAN] {
            assert!(StoreOptions::default().with_file_mode(bad).is_err());
        }
    }

    #[test]
    fn refuses_ids_that_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        for bad in ["../x", "..", "a/b"] {
            assert_eq!(
                store.load(bad).unwrap_err().code(),
                "ERR_INVALID_SESSION_ID"
            );
            assert_eq!(
                store.remove(bad).unwrap_err().code(),
                "ERR_INVALID_SESSION_ID"
            );
        }
        let err = store
            .save(&state("../evil", SessionStatus::Active, "x"))
            .unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_SESSION_ID");
        assert!(!dir.path().join(".msw").exists());
    }

    #[test]
    fn finds_stale_active_sessions_and_cleans_old_finished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let old = clock::iso_from_ms(now - 10 * 86_400_000).unwrap();
        let fresh = clock::iso_from_ms(now).unwrap();
        store
            .save(&state("stale", SessionStatus::Active, &old))
            .unwrap();
        store
            .save(&state("fresh", SessionStatus::Active, &fresh))
            .unwrap();
        store
            .save(&state("done", SessionStatus::Completed, &old))
            .unwrap();
        store
            .save(&state("recent", SessionStatus::Failed, &fresh))
            .unwrap();
        let crashed = store.find_crashed(60_000.0, now).unwrap();
        assert_eq!(crashed.len(), 1);
        assert_eq!(crashed[0].id, "stale");
        assert_eq!(crashed[0].status, SessionStatus::Crashed);
        assert!(crashed[0].crashed_at.is_some());
        assert_eq!(
            store.load("stale").unwrap().unwrap().status,
            SessionStatus::Active
        );
        assert_eq!(store.cleanup(7.0, now).unwrap(), 1);
        assert_eq!(store.list().unwrap(), vec!["fresh", "recent", "stale"]);
        assert!(store.find_crashed(f64::NAN, now).is_err());
        assert!(store.cleanup(-1.0, now).is_err());
    }

    /// A fake rename that fails with `kind` its first `failures` times, then
    /// succeeds, counting its calls in `calls`.
    fn failing_rename(
        failures: usize,
        kind: io::ErrorKind,
        calls: &mut usize,
    ) -> impl FnMut() -> io::Result<()> + '_ {
        move || {
            *calls += 1;
            if *calls <= failures {
                Err(io::Error::new(kind, format!("attempt {calls}")))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn a_rename_refused_for_a_moment_is_retried_with_growing_waits() {
        let (mut calls, mut waits) = (0, Vec::new());
        let rename = failing_rename(3, io::ErrorKind::PermissionDenied, &mut calls);
        rename_with_retry(rename, |d| waits.push(d)).unwrap();
        let ms = Duration::from_millis;
        assert_eq!((calls, waits), (4, vec![ms(10), ms(20), ms(30)]));
        let mut calls = 0;
        let rename = failing_rename(1, io::ErrorKind::ResourceBusy, &mut calls);
        rename_with_retry(rename, |_| {}).unwrap();
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_rename_refused_for_good_gives_up_with_the_last_error_after_the_budget() {
        let (mut calls, mut waits) = (0, Vec::new());
        let rename = failing_rename(usize::MAX, io::ErrorKind::PermissionDenied, &mut calls);
        let err = rename_with_retry(rename, |d| waits.push(d)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(err.to_string(), format!("attempt {calls}"));
        assert_eq!(calls, waits.len() + 1);
        assert_eq!(waits.iter().sum::<Duration>(), RENAME_RETRY_BUDGET);
        assert!(waits.iter().all(|w| *w <= RENAME_RETRY_MAX_WAIT));
    }

    #[test]
    fn a_rename_failing_otherwise_is_not_retried() {
        let (mut calls, mut waits) = (0, Vec::new());
        let rename = failing_rename(1, io::ErrorKind::NotFound, &mut calls);
        let err = rename_with_retry(rename, |d| waits.push(d)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!((calls, waits.len()), (1, 0));
    }

    #[test]
    fn a_refused_write_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("a-file");
        fs::write(&base, "not a folder").unwrap();
        let store = SessionStore::new(&base);
        let err = store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap_err();
        assert_eq!(err.code(), "ERR_SESSION_IO");
        assert!(err.to_string().contains("a-file"), "{err}");
        assert_eq!(fs::read_to_string(&base).unwrap(), "not a folder");
    }
}
