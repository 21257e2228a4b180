//! Cancellation requested by another process.
//!
//! A requester writes `requests/<id>.cancel` (atomically, like a session
//! file) in the sessions folder, holding the reason; the owner's manager
//! watches that folder, takes the request (reads and deletes the file) and
//! cancels the session: token, tracker and file. Requests have a folder of
//! their own so that a wake-up of the watcher means a request: the session
//! files' own writes (a temporary file and a rename each, from every process
//! writing the folder) never wake it. Watching costs nothing while nobody
//! asks: it uses the platform's file-system notification (inotify on Linux,
//! FSEvents on macOS, ReadDirectoryChangesW on Windows, through the `notify`
//! crate); where that cannot be set up, the folder is polled every
//! [`POLL_INTERVAL`] instead (one directory read).
//!
//! # Threads
//! The watch calls `serve` on `notify`'s thread (or the timer thread when it
//! polls), and once when the watch starts, with no lock held. Serving a
//! request cancels the session as `cancel_session` does, taking the locks of
//! a write and of a cancel in the crate's order ([`crate`]): the manager's
//! `sessions`, `Session::written`, the token's and the tracker's state locks
//! and their listener lists. It writes the session with the context last
//! read (it never reads a context), and runs the listeners of the token and
//! the tracker that have no home thread (those at home on a JavaScript
//! thread are posted there), with no lock held.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::Result;
use crate::id::SessionId;
use crate::owner::Liveness;
use crate::state::SessionStatus;
use crate::store::SessionStore;
use crate::timer::{self, TimerHandle};

pub use crate::store::REQUESTS_DIR;

/// How often the folder is polled where notification is unavailable.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The content of a request file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The reason to cancel with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The requesting process.
    #[serde(default)]
    pub pid: u32,
    /// When it asked (ISO 8601).
    #[serde(default)]
    pub at: String,
}

/// A running watch; dropping it stops it.
pub enum Watch {
    /// File-system notification, with how many events woke it.
    Notify(notify::RecommendedWatcher, Arc<AtomicUsize>),
    /// Polling on the timer thread.
    Poll(TimerHandle),
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Watch::Poll(handle) = self {
            handle.cancel();
        }
    }
}

impl Watch {
    /// Calls `serve` whenever a request may have arrived in `dir`, and once
    /// at the start (for requests that came before).
    pub fn start(dir: &Path, serve: impl Fn() + Send + Sync + 'static) -> Watch {
        use notify::Watcher;
        let serve = Arc::new(serve);
        let on_event = serve.clone();
        let wakeups = Arc::new(AtomicUsize::new(0));
        let woken = wakeups.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            woken.fetch_add(1, Ordering::Relaxed);
            let wanted = event.is_ok_and(|e| {
                e.paths
                    .iter()
                    .any(|p| p.extension().is_some_and(|x| x == "cancel"))
            });
            if wanted {
                on_event();
            }
        });
        let watching = watcher.ok().and_then(|mut w| {
            w.watch(dir, notify::RecursiveMode::NonRecursive)
                .ok()
                .map(|()| w)
        });
        let watch = match watching {
            Some(w) => Watch::Notify(w, wakeups),
            None => {
                let poll = serve.clone();
                Watch::Poll(timer::every(POLL_INTERVAL, move || poll()))
            }
        };
        serve();
        watch
    }

    /// How many file-system events have woken the watch (`None` when it
    /// polls).
    pub fn wakeups(&self) -> Option<usize> {
        match self {
            Watch::Notify(_, wakeups) => Some(wakeups.load(Ordering::Relaxed)),
            Watch::Poll(_) => None,
        }
    }
}

/// The request files of a sessions folder.
impl SessionStore {
    /// The folder of request files (see [`requests`](crate::requests)).
    pub fn requests_dir(&self) -> PathBuf {
        self.dir().join(REQUESTS_DIR)
    }

    /// The request file of a session.
    pub fn request_path(&self, id: &SessionId) -> PathBuf {
        self.requests_dir().join(format!("{id}.cancel"))
    }

    /// Creates the folder of request files (with the store's folder mode),
    /// so that it can be watched.
    pub(crate) fn ensure_requests_dir(&self) -> Result<PathBuf> {
        let dir = self.requests_dir();
        self.make_dir(&dir, "create requests folder")?;
        Ok(dir)
    }

    /// Asks the owner of session `id` to cancel it. Returns whether a live
    /// owner exists: only then is the request written.
    pub fn request_cancellation(&self, id: &str, reason: Option<String>) -> Result<bool> {
        let id = SessionId::parse(id)?;
        let Some(state) = self.read(&id).map(|(_, state)| state) else {
            return Ok(false);
        };
        if state.status != SessionStatus::Active || self.stored_liveness(&state) != Liveness::Alive
        {
            return Ok(false);
        }
        let request = Request {
            reason,
            pid: crate::process::this_pid(),
            at: clock::now_iso(),
        };
        let text = serde_json::to_string(&request).unwrap_or_default();
        self.write_atomic_to(&self.request_path(&id), text.as_bytes())?;
        Ok(true)
    }

    /// Takes (reads and deletes) the requests waiting for the sessions that
    /// `mine` accepts, as (id, reason).
    pub fn take_requests(&self, mine: impl Fn(&str) -> bool) -> Vec<(String, Option<String>)> {
        let names = crate::store::entries_in(&self.requests_dir()).unwrap_or_default();
        let mut taken = Vec::new();
        for name in names {
            let Some(id) = name.strip_suffix(".cancel") else {
                continue;
            };
            let (Ok(parsed), true) = (SessionId::parse(id), mine(id)) else {
                continue;
            };
            let path = self.request_path(&parsed);
            let request: Request = fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
            if fs::remove_file(&path).is_ok() {
                taken.push((id.to_string(), request.reason));
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_a_request_file() {
        let dir = tempfile::tempdir().unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let _watch = Watch::start(dir.path(), move || {
            s.fetch_add(1, Ordering::SeqCst);
        });
        let at_start = seen.load(Ordering::SeqCst);
        assert_eq!(at_start, 1);
        std::fs::write(dir.path().join("x.cancel"), "{}").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while seen.load(Ordering::SeqCst) == at_start {
            assert!(std::time::Instant::now() < deadline, "no notification");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn session_writes_never_wake_the_watch_and_a_request_wakes_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let requests = store.ensure_requests_dir().unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let s = served.clone();
        let watch = Watch::start(&requests, move || {
            s.fetch_add(1, Ordering::SeqCst);
        });
        let Some(0) = watch.wakeups() else {
            eprintln!("skipped: no file-system notification here (the watch polls)");
            return;
        };
        for i in 0..50 {
            let id = format!("s{i}");
            let state =
                crate::store::tests::state(&id, SessionStatus::Active, "2026-01-01T00:00:00.000Z");
            store.save(&state).unwrap();
        }
        let id = SessionId::parse("s0").unwrap();
        store
            .write_atomic_to(&store.request_path(&id), b"{}")
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while served.load(Ordering::SeqCst) < 2 {
            assert!(std::time::Instant::now() < deadline, "no notification");
            std::thread::sleep(Duration::from_millis(5));
        }
        // Events arrive in order: the 50 saves (each a new file and a
        // rename) would have come before the request's one rename.
        assert_eq!(watch.wakeups(), Some(1));
        assert_eq!(served.load(Ordering::SeqCst), 2);
    }
}
