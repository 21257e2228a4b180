//! Cancellation requested by another process.
//!
//! A requester writes `<id>.cancel` (atomically, like a session file) beside
//! the session file, holding the reason; the owner's manager watches its
//! folder, takes the request (reads and deletes the file) and cancels the
//! session: token, tracker and file. Watching costs nothing while nobody
//! asks: it uses the platform's file-system notification (inotify on Linux,
//! FSEvents on macOS, ReadDirectoryChangesW on Windows, through the `notify`
//! crate); where that cannot be set up, the folder is polled every
//! [`POLL_INTERVAL`] instead (one directory read).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::Result;
use crate::id::SessionId;
use crate::owner::Liveness;
use crate::state::SessionStatus;
use crate::store::SessionStore;
use crate::timer::{self, TimerHandle};

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
    /// File-system notification.
    Notify(notify::RecommendedWatcher),
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
        let serve = std::sync::Arc::new(serve);
        let on_event = serve.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
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
            Some(w) => Watch::Notify(w),
            None => {
                let poll = serve.clone();
                Watch::Poll(timer::every(POLL_INTERVAL, move || poll()))
            }
        };
        serve();
        watch
    }
}

/// The request files of a sessions folder.
impl SessionStore {
    /// The request file of a session (see [`requests`](crate::requests)).
    pub fn request_path(&self, id: &SessionId) -> PathBuf {
        self.dir().join(format!("{id}.cancel"))
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
        let request = Request {
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

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
}
