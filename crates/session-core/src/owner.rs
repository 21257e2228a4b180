//! Who owns a live session, and whether that owner is still alive.
//!
//! The owner of a session is a process. Each process that writes sessions
//! into a folder holds, while a manager of it uses that folder, an exclusive OS lock
//! (`flock` on Unix, `LockFileEx` on Windows, through `File::try_lock`) on
//! `owners/<instance>.lock` in that folder — the lock-file approach of SQLite
//! and LevelDB, with one lock per process rather than per session, so that a
//! session costs no file descriptor and no file of its own. The OS drops the
//! lock when the process dies, however it dies, so any process on the machine
//! can tell at once whether an owner is alive: if it can take the lock,
//! nobody holds it.
//!
//! The session file records its owner (`owner`: pid, host, `instance` — a
//! random id of the owning process — and when it took the session), which
//! survives pid reuse and names owners on other hosts, whose liveness cannot
//! be checked.
//!
//! Resuming a session is made exclusive by a second, short-lived lock, the
//! session's *claim* (`<id>.lock`): a resumer holds it while it checks that
//! the recorded owner is gone and writes itself as the new owner. Whoever
//! comes next finds a live owner.
//!
//! # Invariants
//! - A session is written with an `owner` only by that owner, which holds
//!   its process lock from before the write until it exits or every manager
//!   of it on that folder that wrote has shut down: the lock is
//!   counted, one hold per manager that has written since it last shut
//!   down ([`SessionStore::hold_process_lock`]), and the last hold given
//!   back closes and deletes the lock file, so that nothing of the process
//!   stays open in the folder (where an open file blocks deletion, as on
//!   Windows, the folder can then be removed). A manager's next write takes
//!   a hold again.
//! - A claim is held only around a resume's check-and-write; claim files are
//!   never deleted while a session may be resumed (only by `cleanup`, of
//!   finished sessions).
//! - A lock is held only on the file its path names: a lock file is removed
//!   only by whoever holds its exclusive lock (the last hold of its owner,
//!   or `cleanup` once it has taken a dead owner's lock), and a taker that
//!   finds, once it holds the lock, that the path no longer names the file it
//!   locked (removed in between) takes the path's new file instead. Without
//!   this, a process whose lock file `cleanup` removed just as it took it
//!   held a lock nobody could see, and its live sessions read as crashed.
//!
//! # Lock order
//! The map of the owner locks this process holds (one per folder) is a leaf
//! ([`crate`]): held while one folder's lock file is taken or given back,
//! nothing else.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::sync::{Rank, RankedMutex};

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::js_json;
use crate::process::{this_host, this_instance, this_pid};
use crate::state::{SessionState, StoredState};
use crate::store::SessionStore;

/// The owner record stored in a session file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The owning process id.
    pub pid: u32,
    /// The host name of the owner's machine.
    pub host: String,
    /// A random id of the owning process (pids are reused; this is not).
    pub instance: String,
    /// When the owner took the session (ISO 8601).
    pub since: String,
}

impl Owner {
    /// This process, now.
    pub fn this_process() -> Self {
        Self {
            pid: this_pid(),
            host: this_host().to_string(),
            instance: this_instance().to_string(),
            since: clock::now_iso(),
        }
    }

    /// The owner record that the JSON text `text` (an `owner` field's value,
    /// as [`json_in`](crate::js_text::json_in) maps it) holds, read as
    /// `JSON.parse` reads it; `None` when it is not one (a field of another
    /// shape names no owner).
    pub fn read(text: &str) -> Option<Self> {
        js_json::from_str(text).ok()
    }

    /// Whether the owner runs on this machine.
    pub fn is_local(&self) -> bool {
        self.host == this_host()
    }
}

/// What can be said of an owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Its lock is held.
    Alive,
    /// Nobody holds its lock (or it has none): the owner is gone.
    Gone,
    /// It cannot be checked from here (another host, no owner record).
    Unknown,
}

/// An exclusive lock on a file — an owning process's, or a session's claim —
/// released when dropped (and by the OS when the process dies).
#[derive(Debug)]
pub struct FileLock {
    /// Held, never read: closing the file releases the lock.
    _file: File,
}

impl FileLock {
    /// Tries to take the lock at `path`, creating the file (mode `mode`);
    /// `Ok(None)` when someone else holds it.
    pub fn try_acquire(path: &Path, mode: u32) -> io::Result<Option<FileLock>> {
        Self::try_acquire_with(path, mode, || {})
    }

    /// [`try_acquire`](Self::try_acquire), with `opened` run between the
    /// open and the lock (a test removes the file there, as a `cleanup` of
    /// another process may).
    fn try_acquire_with(
        path: &Path,
        mode: u32,
        mut opened: impl FnMut(),
    ) -> io::Result<Option<FileLock>> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        // The file locked may be removed between the open and the lock (its
        // remover held it): then the path's new file is taken. A remover
        // holds the lock while it removes, so each round that finds the
        // file gone follows a removal that has ended; a few rounds suffice.
        for _ in 0..8 {
            let file = options.open(path)?;
            opened();
            match file.try_lock() {
                Ok(()) if names(path, &file)? => return Ok(Some(FileLock { _file: file })),
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Removes the lock file at `path` when nobody holds its lock (its owner
    /// is gone), holding the lock while it does (see the module's
    /// invariants); `false` when it is held or cannot be opened.
    fn remove_if_free(path: &Path) -> bool {
        let Ok(file) = File::open(path) else {
            return false;
        };
        if file.try_lock().is_err() || !names(path, &file).unwrap_or(false) {
            return false;
        }
        let removed = fs::remove_file(path).is_ok();
        drop(file);
        removed
    }

    /// Like [`try_acquire`](Self::try_acquire), but a lock found taken is
    /// tried again a few times over some milliseconds, so that a probe
    /// holding it for an instant is not mistaken for a live owner.
    pub fn acquire_contended(path: &Path, mode: u32) -> io::Result<Option<FileLock>> {
        Self::acquire_retrying(path, mode, |attempt| {
            std::thread::sleep(std::time::Duration::from_micros(250 << attempt.min(4)))
        })
    }

    /// [`acquire_contended`](Self::acquire_contended) with `wait(attempt)`
    /// run between attempts (a test waits for a condition instead of time).
    fn acquire_retrying(
        path: &Path,
        mode: u32,
        mut wait: impl FnMut(u32),
    ) -> io::Result<Option<FileLock>> {
        for attempt in 0..8 {
            if let Some(lock) = Self::try_acquire(path, mode)? {
                return Ok(Some(lock));
            }
            wait(attempt);
        }
        Ok(None)
    }
}

/// Whether `path` names the file `file` has open (it was not removed, or
/// replaced by another, since it was opened).
fn names(path: &Path, file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let on_path = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let open = file.metadata()?;
        Ok((open.dev(), open.ino()) == (on_path.dev(), on_path.ino()))
    }
    #[cfg(windows)]
    {
        // Removed while open: its name stays until the last handle closes
        // (the path then names nothing), or goes at once (POSIX semantics).
        if windows_delete_pending(file)? {
            return Ok(false);
        }
        let Ok(again) = File::open(path) else {
            return Ok(false);
        };
        Ok(windows_file_id(file)? == windows_file_id(&again)?)
    }
}

/// Whether an open file has been removed (deleted while open) on Windows.
#[cfg(windows)]
fn windows_delete_pending(file: &File) -> io::Result<bool> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        FileStandardInfo, GetFileInformationByHandleEx, FILE_STANDARD_INFO,
    };
    // SAFETY: the handle is open for the call; the buffer is a plain struct
    // of the size passed.
    unsafe {
        let mut info: FILE_STANDARD_INFO = std::mem::zeroed();
        if GetFileInformationByHandleEx(
            file.as_raw_handle() as _,
            FileStandardInfo,
            (&raw mut info).cast(),
            std::mem::size_of::<FILE_STANDARD_INFO>() as u32,
        ) == 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(info.DeletePending)
    }
}

/// The volume and index that identify an open file on Windows.
#[cfg(windows)]
fn windows_file_id(file: &File) -> io::Result<(u32, u64)> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
    };
    // SAFETY: the handle is open for the call; the struct is plain data.
    unsafe {
        let mut info: BY_HANDLE_FILE_INFORMATION = std::mem::zeroed();
        if GetFileInformationByHandle(file.as_raw_handle() as _, &mut info) == 0 {
            return Err(io::Error::last_os_error());
        }
        let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
        Ok((info.dwVolumeSerialNumber, index))
    }
}

/// Whether whoever should hold the lock at `path` is alive.
///
/// The probe takes a *shared* lock for an instant: probes never disturb one
/// another, and only an owner's exclusive lock stops them. A taker of the
/// exclusive lock (a resume) can meet a probe's instant; it retries (see
/// [`FileLock::acquire_contended`]).
pub fn probe(path: &Path) -> Liveness {
    let file = match OpenOptions::new().read(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Liveness::Gone,
        Err(_) => return Liveness::Unknown,
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Liveness::Gone
        }
        Err(std::fs::TryLockError::WouldBlock) => Liveness::Alive,
        Err(std::fs::TryLockError::Error(_)) => Liveness::Unknown,
    }
}

pub use crate::store::OWNERS_DIR;

/// An owner lock of this process and how many hold it.
struct Held {
    lock: FileLock,
    holders: usize,
}

/// The owner locks this process holds, by sessions folder: taken by the
/// first hold on a folder, given back with the last.
fn held_owner_locks() -> &'static RankedMutex<HashMap<PathBuf, Held>> {
    static HELD: OnceLock<RankedMutex<HashMap<PathBuf, Held>>> = OnceLock::new();
    HELD.get_or_init(|| RankedMutex::with_default(Rank::Leaf))
}

/// The owner files and claims of a sessions folder.
impl SessionStore {
    /// The claim file of a session, locked while it is being resumed.
    pub fn claim_path(&self, id: &SessionId) -> PathBuf {
        self.dir().join(format!("{id}.lock"))
    }

    /// The folder of the owning processes' lock files.
    pub fn owners_dir(&self) -> PathBuf {
        self.dir().join(OWNERS_DIR)
    }

    /// The lock file of an owning process.
    pub fn owner_lock_path(&self, instance: &str) -> PathBuf {
        self.owners_dir().join(format!("{instance}.lock"))
    }

    /// Takes the claim of a session; `None` when someone holds it (tried
    /// again for some milliseconds: a crash scan's probe holds it for an
    /// instant).
    pub fn claim(&self, id: &SessionId) -> Result<Option<FileLock>> {
        let path = self.claim_path(id);
        let mode = self.options.file_mode;
        let mut attempt = FileLock::acquire_contended(&path, mode);
        if matches!(&attempt, Err(e) if e.kind() == io::ErrorKind::NotFound) {
            self.ensure_dir()?;
            attempt = FileLock::acquire_contended(&path, mode);
        }
        attempt.map_err(|e| CoreError::io("lock session", path, e))
    }

    /// Makes this process a live owner in this folder: takes one hold on
    /// its lock on `owners/<instance>.lock`, taking the lock itself when it
    /// is the first. Each hold is given back with
    /// [`release_process_lock`](Self::release_process_lock).
    pub fn hold_process_lock(&self) -> Result<()> {
        let mut held = held_owner_locks().lock();
        if let Some(held) = held.get_mut(self.dir()) {
            held.holders += 1;
            return Ok(());
        }
        let path = self.owner_lock_path(this_instance());
        self.make_dir(&self.owners_dir(), "create owners folder")?;
        // A probe may hold the file for an instant: wait it out.
        let lock = FileLock::acquire_contended(&path, self.options.file_mode)
            .map_err(|e| CoreError::io("lock owner file", &path, e))?
            .ok_or_else(|| CoreError::Internal(format!("{} is held by another", path.display())))?;
        held.insert(self.dir().to_path_buf(), Held { lock, holders: 1 });
        Ok(())
    }

    /// Gives back one hold taken by
    /// [`hold_process_lock`](Self::hold_process_lock); the last one closes
    /// and deletes the lock file (this process is then no live owner in
    /// this folder, and holds nothing open in it).
    pub fn release_process_lock(&self) {
        let mut held = held_owner_locks().lock();
        let Some(entry) = held.get_mut(self.dir()) else {
            return;
        };
        entry.holders -= 1;
        if entry.holders == 0 {
            if let Some(Held { lock, .. }) = held.remove(self.dir()) {
                drop(lock);
                let _ = fs::remove_file(self.owner_lock_path(this_instance()));
            }
        }
    }

    /// How many holds this process has on its owner lock in this folder.
    pub fn process_lock_holders(&self) -> usize {
        held_owner_locks()
            .lock()
            .get(self.dir())
            .map_or(0, |held| held.holders)
    }

    /// Deletes the lock files of owning processes that are gone.
    pub(crate) fn remove_dead_owner_files(&self) {
        let Ok(entries) = fs::read_dir(self.owners_dir()) else {
            return;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let mine = path.file_stem().is_some_and(|s| s == this_instance());
            if !mine {
                FileLock::remove_if_free(&path);
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

    /// What can be said of the owner a session file names (see
    /// [`StoredState`]).
    pub(crate) fn stored_liveness(&self, state: &StoredState) -> Liveness {
        let owner = state.owner.as_deref().and_then(Owner::read);
        self.owner_liveness(owner.as_ref())
    }

    pub(crate) fn owner_liveness(&self, owner: Option<&Owner>) -> Liveness {
        match owner {
            // The instance becomes a file name: refuse one that is not plain.
            Some(owner) if owner.is_local() && SessionId::parse(&owner.instance).is_ok() => {
                probe(&self.owner_lock_path(&owner.instance))
            }
            _ => Liveness::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_released_one_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        assert_eq!(probe(&path), Liveness::Gone);
        let lock = FileLock::try_acquire(&path, 0o600).unwrap().unwrap();
        assert_eq!(probe(&path), Liveness::Alive);
        // A second taker in the same process is refused too.
        assert!(FileLock::try_acquire(&path, 0o600).unwrap().is_none());
        drop(lock);
        assert_eq!(probe(&path), Liveness::Gone);
        assert!(FileLock::try_acquire(&path, 0o600).unwrap().is_some());
    }

    #[test]
    fn probes_do_not_disturb_each_other_and_a_resume_waits_out_a_probe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        drop(FileLock::try_acquire(&path, 0o600).unwrap());
        // A probe in progress (a shared lock) does not make another probe
        // think the owner is alive.
        let probing = File::open(&path).unwrap();
        probing.try_lock_shared().unwrap();
        assert_eq!(probe(&path), Liveness::Gone);
        // A resume meeting the probe's instant waits it out: the probe ends
        // after the first attempt was refused (whenever that is, however
        // busy the machine), and the next attempt takes the lock.
        let mut probing = Some(probing);
        let mut waits = 0;
        let lock = FileLock::acquire_retrying(&path, 0o600, |_| {
            waits += 1;
            probing.take();
        });
        assert!(lock.unwrap().is_some());
        assert_eq!(waits, 1);
    }

    /// The bug: `cleanup` in another process removed a lock file between
    /// its taker's open and its lock; the taker then held a lock on a file
    /// no path named, and every probe found its owner gone.
    #[test]
    fn a_lock_file_removed_before_it_is_locked_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owner.lock");
        let mut removals = 0;
        let lock = FileLock::try_acquire_with(&path, 0o600, || {
            if removals == 0 {
                fs::remove_file(&path).unwrap();
            }
            removals += 1;
        })
        .unwrap()
        .expect("taken");
        assert!(removals >= 1);
        // What the taker holds is what a probe of the path finds. Where the
        // name went with the removal (Unix; Windows with POSIX semantics),
        // that is the path's new file, taken in a second round; where it
        // stays while a handle is open (wine), the file first opened.
        assert_eq!(probe(&path), Liveness::Alive);
        drop(lock);
        assert_eq!(probe(&path), Liveness::Gone);
    }

    #[test]
    fn cleanup_removes_a_free_lock_file_and_never_a_held_one() {
        let dir = tempfile::tempdir().unwrap();
        let (held, free) = (dir.path().join("held.lock"), dir.path().join("free.lock"));
        let lock = FileLock::try_acquire(&held, 0o600).unwrap().unwrap();
        drop(FileLock::try_acquire(&free, 0o600).unwrap().unwrap());
        assert!(!FileLock::remove_if_free(&held));
        assert!(FileLock::remove_if_free(&free));
        assert!(held.exists() && !free.exists());
        // A probe's instant makes it wait for a later cleanup, never remove.
        let probing = File::open(&held).unwrap();
        drop(lock);
        probing.try_lock_shared().unwrap();
        assert!(!FileLock::remove_if_free(&held));
        drop(probing);
        assert!(FileLock::remove_if_free(&held));
        assert!(!FileLock::remove_if_free(&held), "already gone");
    }

    #[test]
    fn the_owner_record_names_this_process() {
        let me = Owner::this_process();
        assert_eq!(me.pid, std::process::id());
        assert!(me.is_local());
        assert_eq!(me.instance, this_instance());
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
}
