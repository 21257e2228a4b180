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
//! - A file is read as the reference reads it, `JSON.parse(readFileSync(path,
//!   "utf-8"))` (bytes that are not UTF-8 as U+FFFD; see
//!   [`js_json`](crate::js_json)). One that `JSON.parse` refuses, or whose
//!   state has the wrong shape (a field of [`SessionState`] missing or of
//!   another type, checked without building the free-form values), is never
//!   deleted: it is moved aside whole to `<id>.json.corrupt` (`.corrupt.1`,
//!   … when taken) and listed by [`SessionStore::corrupt_files`].
//! - With [`StoreOptions::fsync`], the file is flushed to the device before
//!   the rename and the folder after it, so a write survives power loss.
//! - On Windows, a rename refused because another process holds the target
//!   open (an antivirus scan, an indexer) is tried again for a bounded time
//!   (`rename_with_retry`): [`CALLER_RENAME_BUDGET`] on a thread a caller
//!   waits on (the JavaScript thread), [`BACKGROUND_RENAME_BUDGET`] on the
//!   background writer's; elsewhere such an error is final and reported at
//!   once.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{CoreError, Result};
use crate::file_read;
use crate::folder_safety::Failure;
use crate::id::SessionId;
use crate::js_text;
use crate::state::{SessionState, StoredState};

/// The folder below the base path that holds the package's folders.
pub const MSW_DIR: &str = ".msw";

/// The folder inside [`MSW_DIR`] that holds the session files.
pub const SESSIONS_DIR: &str = "sessions";

/// The folder inside the sessions folder of the owning processes' lock
/// files (see [`owner`](crate::owner)).
pub const OWNERS_DIR: &str = "owners";

/// The folder inside the sessions folder of cancellation request files
/// (see [`requests`](crate::requests)).
pub const REQUESTS_DIR: &str = "requests";

/// The sessions folder of `base_path`: `<base_path>/.msw/sessions`, joined
/// one component at a time so that every separator is the platform's
/// ([`std::path::MAIN_SEPARATOR`]; a piece `".msw/sessions"` would keep its
/// `/` on Windows).
pub fn sessions_dir(base_path: &Path) -> PathBuf {
    base_path.join(MSW_DIR).join(SESSIONS_DIR)
}

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
    /// Use the folders found on disk even where another user owns them or
    /// may write in them (see [`folder_safety`](crate::folder_safety)):
    /// that user can then replace, remove or plant session files. Off by
    /// default.
    pub trust_folder: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            fsync: false,
            file_mode: DEFAULT_FILE_MODE,
            trust_folder: false,
        }
    }
}

impl StoreOptions {
    /// Options from what JavaScript passed, each absent one its default:
    /// `fsync` false, `file_mode` [`DEFAULT_FILE_MODE`] (checked),
    /// `trust_folder` false.
    pub fn from_js(
        fsync: Option<bool>,
        file_mode: Option<f64>,
        trust_folder: Option<bool>,
    ) -> Result<Self> {
        let options = Self {
            fsync: fsync.unwrap_or(false),
            trust_folder: trust_folder.unwrap_or(false),
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

    /// The mode of new folders (Unix; elsewhere it only says which write
    /// bits of group and others a folder found may have).
    fn dir_mode(&self) -> u32 {
        self.file_mode | ((self.file_mode & 0o444) >> 2)
    }
}

/// Reads and writes session files.
#[derive(Clone, Debug)]
pub struct SessionStore {
    dir: PathBuf,
    pub(crate) options: StoreOptions,
}

impl SessionStore {
    /// A store for `<base_path>/.msw/sessions`. Nothing is created until the
    /// first save. The folders found are not checked until the store creates
    /// one: [`open`](Self::open) checks them at once.
    pub fn new(base_path: impl AsRef<Path>) -> Self {
        Self::with_options(base_path, StoreOptions::default())
    }

    /// A store with the given options.
    pub fn with_options(base_path: impl AsRef<Path>, options: StoreOptions) -> Self {
        Self {
            dir: sessions_dir(base_path.as_ref()),
            options,
        }
    }

    /// A store for `<base_path>/.msw/sessions` whose folders have been
    /// checked ([`check_folders`](Self::check_folders)): the constructor
    /// JavaScript reaches.
    pub fn open(base_path: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let store = Self::with_options(base_path, options);
        store.check_folders()?;
        Ok(store)
    }

    /// The folders [`check_folders`](Self::check_folders) checks, outermost
    /// first: `.msw`, the sessions folder, its `owners/` and `requests/`.
    pub fn checked_folders(&self) -> [PathBuf; 4] {
        [
            self.dir.parent().unwrap_or(&self.dir).to_path_buf(),
            self.dir.clone(),
            self.dir.join(OWNERS_DIR),
            self.dir.join(REQUESTS_DIR),
        ]
    }

    /// Checks the folders of the sessions folder that exist, one `lstat`
    /// each ([`folder_safety`](crate::folder_safety)); nothing when the
    /// store's options trust the folder. `ERR_UNSAFE_FOLDER` names the first
    /// that fails.
    pub fn check_folders(&self) -> Result<()> {
        if self.options.trust_folder {
            return Ok(());
        }
        let allowed = self.options.dir_mode() & 0o022;
        crate::folder_safety::check(&self.checked_folders(), allowed).map_err(|f| match f {
            Failure::Refused(refusal) => CoreError::UnsafeFolder(refusal),
            Failure::Io { path, source } => CoreError::io("check session folder", path, source),
        })
    }

    /// Whether the file of session `id` exists and is not a regular file
    /// of the current user: such a file is moved aside, as an unreadable
    /// one is, and never used (see [`folder_safety`](crate::folder_safety)).
    pub(crate) fn refuse_foreign(&self, id: &SessionId) -> bool {
        self.refuse_foreign_in(None, id)
    }

    /// [`refuse_foreign`](Self::refuse_foreign), looking the file up
    /// relative to `dir`, the sessions folder open, when given.
    pub(crate) fn refuse_foreign_in(&self, dir: Option<&fs::File>, id: &SessionId) -> bool {
        let foreign = match dir {
            Some(dir) => {
                crate::folder_safety::is_foreign_file_in(dir, &self.dir, &format!("{id}.json"))
            }
            None => crate::folder_safety::is_foreign_file(&self.path_of(id)),
        };
        if foreign {
            self.quarantine(id);
        }
        foreign
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

    pub(crate) fn entries(&self) -> Result<Vec<String>> {
        entries_in(&self.dir)
    }

    /// Moves an unreadable file aside, never over another.
    pub(crate) fn quarantine(&self, id: &SessionId) {
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

    /// The text of a session file, when it exists and holds a session state
    /// (as `JSON.parse` reads it: see the [module docs](self)); `None` when
    /// it is missing or unreadable (and then moved aside).
    pub fn load_text(&self, id: &str) -> Result<Option<String>> {
        let id = SessionId::parse(id)?;
        Ok(self.read(&id).map(|(text, _)| text))
    }

    /// A session file, parsed; `None` when missing or unreadable (and then
    /// moved aside). A file the store reads but that cannot be built as a
    /// [`SessionState`] — a free-form value nested deeper than 127 levels or
    /// holding a number beyond a double's range, which `JSON.parse` reads —
    /// is an `ERR_INVALID_SESSION_STATE` error, and stays where it is.
    pub fn load(&self, id: &str) -> Result<Option<SessionState>> {
        let id = SessionId::parse(id)?;
        self.read(&id)
            .map(|(text, _)| SessionState::from_json(&text))
            .transpose()
    }

    /// The text of a session file and what it says, when it holds a session
    /// state as `JSON.parse` reads it (see [`StoredState`]); a file that is
    /// not one is moved aside.
    /// A file another user owns is moved aside unread
    /// ([`refuse_foreign`](Self::refuse_foreign)).
    pub(crate) fn read(&self, id: &SessionId) -> Option<(String, StoredState)> {
        self.read_in(None, id)
    }

    /// [`read`](Self::read), opening the file relative to `dir`, the
    /// sessions folder open, when given (see [`file_read::with_file_in`]).
    pub(crate) fn read_in(
        &self,
        dir: Option<&fs::File>,
        id: &SessionId,
    ) -> Option<(String, StoredState)> {
        if self.refuse_foreign_in(dir, id) {
            return None;
        }
        let read = self.with_text_in(dir, id, |text| {
            let state = StoredState::check(&js_text::json_in(text)).ok()?;
            Some((text.to_string(), state))
        })?;
        if read.is_none() {
            self.quarantine(id);
        }
        read
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

    /// Hands the text of a session file to `f` (without copying it when it is
    /// UTF-8), `None` when it cannot be read (it is missing, say). Bytes that
    /// are not UTF-8 are read as `readFileSync(path, "utf-8")` reads them, as
    /// U+FFFD. `f` must not read a file itself (see [`file_read::with_file`]).
    /// The file is opened relative to `dir`, the sessions folder open, when
    /// given (see [`file_read::with_file_in`]).
    pub(crate) fn with_text_in<R>(
        &self,
        dir: Option<&fs::File>,
        id: &SessionId,
        f: impl FnOnce(&str) -> R,
    ) -> Option<R> {
        let text = |bytes: &[u8]| f(&String::from_utf8_lossy(bytes));
        match dir {
            Some(dir) => file_read::with_file_in(dir, &self.dir, &format!("{id}.json"), text),
            None => file_read::with_file(&self.path_of(id), text),
        }
        .ok()
    }

    pub(crate) fn ensure_dir(&self) -> Result<()> {
        self.make_dir(&self.dir, "create session folder")
    }

    /// Creates a folder (and its parents) private, with the store's folder
    /// mode ([`folder_safety::create_dir`]), then checks the folders again:
    /// another user may have made one of them first.
    ///
    /// [`folder_safety::create_dir`]: crate::folder_safety::create_dir
    pub(crate) fn make_dir(&self, path: &Path, action: &'static str) -> Result<()> {
        crate::folder_safety::create_dir(path, self.options.dir_mode())
            .map_err(|e| CoreError::io(action, path, e))?;
        self.check_folders()
    }

    fn write_atomic(&self, id: &SessionId, bytes: &[u8]) -> Result<()> {
        self.write_atomic_to(&self.path_of(id), bytes)
    }

    /// Writes `bytes` to `target` (a file of the sessions folder or of a
    /// folder inside it) atomically: a new temporary file in the sessions
    /// folder, renamed over it (so a watcher of `target`'s folder sees one
    /// event per file). Folders are created when missing.
    pub(crate) fn write_atomic_to(&self, target: &Path, bytes: &[u8]) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("session");
        let folder = target.parent().unwrap_or(&self.dir);
        let temp = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            crate::process::this_pid(),
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
        let mut renamed = first.and_then(|()| rename_over(&temp, target));
        if matches!(&renamed, Err(e) if e.kind() == io::ErrorKind::NotFound) && folder != self.dir {
            if let Err(e) = self.make_dir(folder, "create session folder") {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
            renamed = rename_over(&temp, target);
        }
        renamed.and_then(|()| self.sync_dir(folder)).map_err(|e| {
            let _ = fs::remove_file(&temp);
            CoreError::io("write session file", target, e)
        })
    }

    /// Makes a rename durable: flushes the folder (Unix, with `fsync` only).
    fn sync_dir(&self, folder: &Path) -> io::Result<()> {
        #[cfg(unix)]
        if self.options.fsync {
            fs::File::open(folder)?.sync_all()?;
        }
        #[cfg(not(unix))]
        let _ = folder;
        Ok(())
    }
}

/// The total time an atomic write's rename waits out a file held open
/// before it gives up with the last error, on a thread a caller waits on —
/// the JavaScript thread of an explicit save, of a progress update written
/// before it returns (`persistIntervalMs: 0`), of an auto-save or a flush.
/// Past it, an explicit save fails with `ERR_SESSION_IO`; a progress update
/// keeps the session dirty and the error for the next flush, and the next
/// write of any kind (the background writer's included) tries again.
pub const CALLER_RENAME_BUDGET: Duration = Duration::from_millis(150);

/// [`CALLER_RENAME_BUDGET`] on the background writer's thread, which no
/// caller waits on (graceful-fs waits up to 60 s; this thread also serves
/// the other managers' writes, so a few seconds).
pub const BACKGROUND_RENAME_BUDGET: Duration = Duration::from_secs(3);

thread_local! {
    /// Whether this thread is the background writer's ([`BACKGROUND_RENAME_BUDGET`]).
    static BACKGROUND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as the background writer's: its renames wait
/// out a file held open for [`BACKGROUND_RENAME_BUDGET`] rather than
/// [`CALLER_RENAME_BUDGET`]. Called once, by that thread ([`crate::timer`]).
pub(crate) fn mark_background_writer_thread() {
    BACKGROUND.with(|b| b.set(true));
}

/// How long a rename on the calling thread may wait out a file held open.
fn rename_budget() -> Duration {
    if BACKGROUND.with(std::cell::Cell::get) {
        BACKGROUND_RENAME_BUDGET
    } else {
        CALLER_RENAME_BUDGET
    }
}

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
        rename_with_retry(|| fs::rename(from, to), std::thread::sleep, rename_budget())
    } else {
        fs::rename(from, to)
    }
}

/// Runs `rename` until it succeeds, fails with an error that is not one of
/// a file held open ([`is_held_open`]), or has waited (through `sleep`) a
/// total of `budget` (the calling thread's: [`rename_budget`]); then
/// returns its last result. The waits
/// grow by [`RENAME_RETRY_STEP`] up to [`RENAME_RETRY_MAX_WAIT`], like
/// graceful-fs's retry of `rename` on win32. Unlike graceful-fs, which tries
/// again only when the target has meanwhile disappeared, every such error is
/// retried: here the target usually exists (it is the file being replaced).
fn rename_with_retry(
    mut rename: impl FnMut() -> io::Result<()>,
    mut sleep: impl FnMut(Duration),
    budget: Duration,
) -> io::Result<()> {
    let mut slept = Duration::ZERO;
    let mut wait = Duration::ZERO;
    loop {
        match rename() {
            Err(e) if is_held_open(&e) && slept < budget => {
                wait = (wait + RENAME_RETRY_STEP)
                    .min(RENAME_RETRY_MAX_WAIT)
                    .min(budget - slept);
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

/// The names of the entries of `folder` (none when it does not exist).
pub(crate) fn entries_in(folder: &Path) -> Result<Vec<String>> {
    match fs::read_dir(folder) {
        Ok(entries) => Ok(entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CoreError::io("read session folder", folder, e)),
    }
}

pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
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
pub(crate) mod tests {
    use super::*;
    use crate::clock;
    use crate::progress::ProgressState;
    use crate::state::SessionStatus;

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

    /// Saves four sessions at `now_ms`: `stale` (active, written ten days
    /// before), `fresh` (active, now), `done` (completed, ten days before)
    /// and `recent` (failed, now).
    pub(crate) fn save_four(store: &SessionStore, now_ms: i64) {
        let old = clock::iso_from_ms(now_ms - 10 * 86_400_000).unwrap();
        let fresh = clock::iso_from_ms(now_ms).unwrap();
        for (id, status, at) in [
            ("stale", SessionStatus::Active, &old),
            ("fresh", SessionStatus::Active, &fresh),
            ("done", SessionStatus::Completed, &old),
            ("recent", SessionStatus::Failed, &fresh),
        ] {
            store.save(&state(id, status, at)).unwrap();
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
        let crashed = crate::crash::tests::crashed(&store, 0.0, clock::now_ms());
        assert_eq!(
            crashed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        assert_eq!(store.corrupt_files().unwrap().len(), 2);
        assert_eq!(store.cleanup(0.0, clock::now_ms()).unwrap(), 0);
        assert_eq!(store.corrupt_files().unwrap().len(), 2);
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
    fn paths_are_joined_one_component_at_a_time_with_the_platforms_separator() {
        use std::path::{Component, MAIN_SEPARATOR};
        // Each folder name is one component: joined whole, a name holding a
        // `/` keeps it on Windows (`C:\\base\\.msw/sessions\\x.json`).
        for name in [
            MSW_DIR,
            SESSIONS_DIR,
            crate::owner::OWNERS_DIR,
            crate::requests::REQUESTS_DIR,
        ] {
            let components: Vec<_> = Path::new(name).components().collect();
            assert_eq!(components, [Component::Normal(name.as_ref())], "{name}");
            assert!(!name.contains(['/', '\\']), "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let store = SessionStore::new(base);
        let id = SessionId::parse("x").unwrap();
        let sep = MAIN_SEPARATOR;
        let b = base.display();
        let expected = [
            (
                store.dir().to_path_buf(),
                format!("{b}{sep}.msw{sep}sessions"),
            ),
            (
                store.path_of(&id),
                format!("{b}{sep}.msw{sep}sessions{sep}x.json"),
            ),
            (
                store.owners_dir(),
                format!("{b}{sep}.msw{sep}sessions{sep}owners"),
            ),
            (
                store.requests_dir(),
                format!("{b}{sep}.msw{sep}sessions{sep}requests"),
            ),
            (
                store.claim_path(&id),
                format!("{b}{sep}.msw{sep}sessions{sep}x.lock"),
            ),
        ];
        for (path, text) in expected {
            assert_eq!(path.to_str(), Some(text.as_str()));
            let tail: Vec<_> = path.strip_prefix(base).unwrap().components().collect();
            assert!(tail.iter().all(|c| matches!(c, Component::Normal(_))));
            assert_eq!(
                tail.len(),
                text.matches(sep).count() - b.to_string().matches(sep).count()
            );
        }
        assert_eq!(sessions_dir(base), store.dir());
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
        assert!(!dir.path().join(MSW_DIR).exists());
    }

    #[test]
    fn cleanup_removes_old_finished_sessions_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        save_four(&store, now);
        assert_eq!(store.cleanup(7.0, now).unwrap(), 1);
        assert_eq!(store.list().unwrap(), vec!["fresh", "recent", "stale"]);
        assert!(store.cleanup(-1.0, now).is_err());
        assert!(store.cleanup(f64::NAN, now).is_err());
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
        rename_with_retry(rename, |d| waits.push(d), BACKGROUND_RENAME_BUDGET).unwrap();
        let ms = Duration::from_millis;
        assert_eq!((calls, waits), (4, vec![ms(10), ms(20), ms(30)]));
        let mut calls = 0;
        let rename = failing_rename(1, io::ErrorKind::ResourceBusy, &mut calls);
        rename_with_retry(rename, |_| {}, CALLER_RENAME_BUDGET).unwrap();
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_rename_refused_for_good_gives_up_with_the_last_error_after_the_budget() {
        let (mut calls, mut waits) = (0, Vec::new());
        let rename = failing_rename(usize::MAX, io::ErrorKind::PermissionDenied, &mut calls);
        let err =
            rename_with_retry(rename, |d| waits.push(d), BACKGROUND_RENAME_BUDGET).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(err.to_string(), format!("attempt {calls}"));
        assert_eq!(calls, waits.len() + 1);
        assert_eq!(waits.iter().sum::<Duration>(), BACKGROUND_RENAME_BUDGET);
        assert!(waits.iter().all(|w| *w <= RENAME_RETRY_MAX_WAIT));
    }

    /// How many times a rename refused `failures` times is attempted on
    /// the calling thread, and whether it succeeded.
    fn attempts_here(failures: usize) -> (usize, bool) {
        let mut calls = 0;
        let rename = failing_rename(failures, io::ErrorKind::PermissionDenied, &mut calls);
        let ok = rename_with_retry(rename, |_| {}, rename_budget()).is_ok();
        (calls, ok)
    }

    #[test]
    fn a_caller_waits_out_a_file_held_open_briefly_and_the_background_writer_longer() {
        // A caller's thread (the JavaScript thread): waits of 10, 20, 30,
        // 40 and 50 ms, 150 ms in all, so six attempts at most.
        assert_eq!(CALLER_RENAME_BUDGET, Duration::from_millis(150));
        assert_eq!(attempts_here(5), (6, true));
        assert_eq!(attempts_here(usize::MAX), (6, false));
        // The background writer's thread: 10 to 100 ms waits, 3 s in all.
        let background = std::thread::spawn(|| {
            mark_background_writer_thread();
            (attempts_here(6), attempts_here(usize::MAX))
        });
        assert_eq!(background.join().unwrap(), ((7, true), (36, false)));
        // The writer's own thread is marked.
        let (tx, rx) = std::sync::mpsc::channel();
        crate::timer::after_on(crate::timer::Lane::Writes, Duration::ZERO, move || {
            tx.send(rename_budget()).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), BACKGROUND_RENAME_BUDGET);
    }

    #[test]
    fn a_rename_failing_otherwise_is_not_retried() {
        let (mut calls, mut waits) = (0, Vec::new());
        let rename = failing_rename(1, io::ErrorKind::NotFound, &mut calls);
        let err = rename_with_retry(rename, |d| waits.push(d), CALLER_RENAME_BUDGET).unwrap_err();
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

    /// A store whose folder holds the file `f.json` with `bytes`.
    fn store_with(bytes: &[u8]) -> (tempfile::TempDir, SessionStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        fs::create_dir_all(store.dir()).unwrap();
        fs::write(store.dir().join("f.json"), bytes).unwrap();
        (dir, store)
    }

    #[test]
    fn reads_files_in_every_shape_as_json_parse_does() {
        use crate::shapes::{self, Rng, Style};
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        fs::create_dir_all(store.dir()).unwrap();
        let mut rng = Rng::new(1);
        let mut files = Vec::new();
        for i in 0..200 {
            let id = format!("s{i:03}");
            let status = rng.pick(&["active", "completed", "failed", "cancelled"]);
            let state = shapes::state(&mut rng, &id, status, "2026-01-01T00:00:00.000Z");
            let text = shapes::write(&state, &Style::random(&mut rng), &mut rng);
            fs::write(store.dir().join(format!("{id}.json")), &text).unwrap();
            files.push((id, text));
        }
        // The shapes are there: CRLF, tabs, escapes, keys written twice.
        let count = |f: &dyn Fn(&str) -> bool| files.iter().filter(|(_, t)| f(t)).count();
        assert!(count(&|t| t.contains("\r\n")) > 20);
        assert!(count(&|t| t.contains("\n\t\"")) > 20);
        assert!(count(&|t| t.contains("\"st\\u0061tus\"") || t.contains("\"st\\u0061tu")) > 5);
        // Many that a derived impl refuses (a key written twice, the first
        // time with a value of another type).
        let refused = |t: &str| serde_json::from_str::<SessionState>(&js_text::json_in(t)).is_err();
        assert!(count(&refused) > 40);
        for (id, text) in &files {
            let expected: SessionState =
                serde_json::from_value(shapes::parse(text).unwrap()).unwrap();
            assert_eq!(
                store.load_text(id).unwrap().as_deref(),
                Some(text.as_str()),
                "{id}"
            );
            assert_eq!(store.load(id).unwrap(), Some(expected), "{id}");
        }
        assert_eq!(store.corrupt_files().unwrap(), Vec::<PathBuf>::new());
        // cleanup reads them alike: every finished one is old.
        let finished = files
            .iter()
            .filter(|(_, t)| !t.contains("\"running\""))
            .count();
        let far = clock::parse_iso_ms("2027-01-01T00:00:00.000Z").unwrap();
        let finished_now = files
            .iter()
            .filter(|(id, _)| store.load(id).unwrap().unwrap().status != SessionStatus::Active)
            .count();
        assert!(finished_now > 50 && finished_now <= finished);
        assert_eq!(store.cleanup(7.0, far).unwrap() as usize, finished_now);
        assert_eq!(store.list().unwrap().len(), files.len() - finished_now);
        assert_eq!(store.corrupt_files().unwrap(), Vec::<PathBuf>::new());
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_node_decodes_them() {
        // `readFileSync(path, "utf-8")` reads them as U+FFFD, which
        // JSON.parse accepts inside a string.
        let text = serde_json::to_string(&state("f", SessionStatus::Active, "x")).unwrap();
        let mut bytes = text.replacen("\"op\"", "\"o@\"", 1).into_bytes();
        let at = bytes.iter().position(|&b| b == b'@').unwrap();
        bytes[at] = 0xff;
        let (_dir, store) = store_with(&bytes);
        assert_eq!(store.load("f").unwrap().unwrap().operation, "o\u{FFFD}");
        assert!(store.corrupt_files().unwrap().is_empty());
    }

    #[test]
    fn a_state_nested_deeper_than_serde_json_builds_is_read_and_kept() {
        let mut value = serde_json::to_value(state(
            "f",
            SessionStatus::Completed,
            "2020-01-01T00:00:00.000Z",
        ))
        .unwrap();
        value["context"] = serde_json::json!({"deep": "@"});
        let depth = 100_000;
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let text = value.to_string().replace("\"@\"", &nested);
        let (_dir, store) = store_with(text.as_bytes());
        // JSON.parse reads it: the store does, and keeps it; only a
        // SessionState cannot hold it.
        assert_eq!(
            store.load_text("f").unwrap().as_deref(),
            Some(text.as_str())
        );
        assert_eq!(
            store.load("f").unwrap_err().code(),
            "ERR_INVALID_SESSION_STATE"
        );
        assert!(store.corrupt_files().unwrap().is_empty());
        let now = clock::now_ms();
        assert_eq!(store.cleanup(7.0, now).unwrap(), 1);
    }

    #[test]
    fn damaged_files_are_read_as_json_parse_reads_them_or_moved_aside_whole() {
        use crate::shapes::{self, Rng, Style};
        let mut rng = Rng::new(3);
        let old = "2020-01-01T00:00:00.000Z";
        let sources: Vec<String> = (0..20)
            .map(|i| {
                let status = if i % 2 == 0 { "active" } else { "completed" };
                let state = shapes::state(&mut rng, "f", status, old);
                shapes::write(&state, &Style::random(&mut rng), &mut rng)
            })
            .collect();
        let now = clock::now_ms();
        for case in 0..200 {
            let source = sources[rng.below(sources.len())].clone();
            let (kind, bytes) = shapes::damaged(&mut rng, source.as_bytes());
            let label = format!(
                "case {case} ({kind}): {:?}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
            let text = String::from_utf8_lossy(&bytes);
            // Never a panic, whatever the text.
            let _ = crate::crash::mark_crashed(&text, &crate::crash::quoted(old), false);
            let json = shapes::is_json(&bytes);
            let built = SessionState::from_json(&text);
            for call in ["load", "scan", "cleanup"] {
                let (_dir, store) = store_with(&bytes);
                match call {
                    "load" => {
                        if let Some(read) = store.load_text("f").unwrap() {
                            assert_eq!(read, text, "{label}");
                        }
                    }
                    "scan" => {
                        let found = store.find_crashed(0.0, now).unwrap();
                        assert!(shapes::is_json(found.as_bytes()), "{label}: {found}");
                    }
                    _ => {
                        store.cleanup(7.0, now).unwrap();
                    }
                }
                let (file, aside) = (
                    store.dir().join("f.json"),
                    store.dir().join("f.json.corrupt"),
                );
                if aside.exists() {
                    assert_eq!(fs::read(&aside).unwrap(), bytes, "{label}");
                    assert!(!file.exists(), "{label}");
                    // Moved aside only when JSON.parse refuses it or its
                    // shape is wrong.
                    assert!(!json || built.is_err(), "{call} {label}");
                    assert!(!(kind == "deep" && json), "{call} {label}");
                } else if file.exists() {
                    assert_eq!(fs::read(&file).unwrap(), bytes, "{label}");
                    // What JSON.parse refuses is moved aside.
                    assert!(json, "{call} {label}");
                } else {
                    assert_eq!(call, "cleanup", "{label}");
                    assert!(json, "{label}");
                }
            }
        }
    }
}
