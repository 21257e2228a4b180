//! A live session: its tracker, its cancellation source, and its context,
//! read through a [`ContextProvider`] where the context lives.
//!
//! # Invariants
//! - The context is kept as the text `JSON.stringify` printed
//!   ([`ContextText`]), with the tracker state read right after it, so a
//!   write can always pair a context with its own progress.
//! - A context is read (which runs user code) with no lock of the package
//!   held; a read started from inside a read of the same context (a
//!   `toJSON` that flushes) uses the last context read instead.
//!
//! # Lock order
//! `Session::written` is a `Written` in the crate's order ([`crate`]),
//! below the writer's `batch`: a write takes the tracker's state lock and
//! the map of held owner locks under it. `ContextCell`'s `last` and
//! `provider` are leaves: the tracker's state lock is never taken inside
//! them, and a context is never read under any lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cancellation::CancellationSource;
use crate::clock;
use crate::error::{CoreError, Result, Thrown};
use crate::id::SessionId;
use crate::progress::{ProgressState, ProgressTracker};
use crate::state::{ContextText, SessionState};
use crate::sync::{Rank, RankedMutex};

/// Why a context could not be serialized.
#[derive(Debug)]
pub struct ReadError {
    /// The message of what the serializer threw.
    pub message: String,
    /// What it threw, kept with the error this read becomes.
    pub thrown: Option<Thrown>,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        Self {
            message,
            thrown: None,
        }
    }
}

/// Reads a session's context where it lives (a JavaScript object, say).
pub trait ContextProvider: Send + Sync {
    /// The context as JSON text, read now; `Ok(None)` when it cannot be read
    /// on this thread; `Err` when it cannot be serialized.
    fn read(&self) -> std::result::Result<Option<String>, ReadError>;

    /// Whether [`read`](Self::read) can read the context on the calling
    /// thread (its own thread).
    fn readable_here(&self) -> bool {
        true
    }

    /// Runs `job` on the context's own thread, later; a job for a thread
    /// that is gone is dropped.
    fn post(&self, job: Box<dyn FnOnce() + Send>) {
        job();
    }
}

/// How a save reads the context.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Read it anew; a context that cannot be serialized is an error.
    Strict,
    /// Read it anew; keep the last good one when it cannot be serialized.
    Lenient,
    /// Use the last one read, with the tracker as it is now (off the
    /// context's thread, or at teardown).
    Cached,
    /// Use the last one read, with the tracker as it was then if progress
    /// was made on the context's thread since (the background writer: a
    /// file's progress never runs ahead of its context).
    Checkpoint,
}

/// A session's context, read through its provider: at every save made on
/// its own thread, and on a progress update at most once per persist
/// interval (a read serializes the whole context).
pub(crate) struct ContextCell {
    /// The last context read.
    pub(crate) last: RankedMutex<LastRead>,
    /// Where the context lives; taken away when the session finishes
    /// ([`release`](Self::release)), so that a finished session holds no
    /// reference into JavaScript while its handle waits to be collected.
    /// A leaf lock, held only to clone or take the `Arc`.
    provider: RankedMutex<Option<Arc<dyn ContextProvider>>>,
    /// Set while the provider runs, so that a save started by user code
    /// from inside it (a `toJSON` that flushes) uses the last context read.
    pub(crate) reading: AtomicBool,
}

pub(crate) struct LastRead {
    /// The context as `JSON.stringify` printed it.
    pub(crate) json: ContextText,
    /// When it was read ([`clock::monotonic_ms`]).
    pub(crate) read_at: f64,
    /// The tracker's state and version right after it was read.
    pub(crate) paired: Option<(ProgressState, u64)>,
    /// Progress was made on the context's thread since it was read, without
    /// reading it: the context may have changed with it.
    pub(crate) stale: bool,
}

impl ContextCell {
    pub(crate) fn new(
        json: String,
        provider: Option<Box<dyn ContextProvider>>,
        id: &SessionId,
    ) -> Result<Self> {
        Ok(Self {
            last: RankedMutex::new(
                Rank::Leaf,
                LastRead {
                    json: context_text(json, id)?,
                    read_at: clock::monotonic_ms(),
                    paired: None,
                    stale: false,
                },
            ),
            provider: RankedMutex::new(Rank::Leaf, provider.map(Arc::from)),
            reading: AtomicBool::new(false),
        })
    }

    /// Where the context lives, while the session is live.
    pub(crate) fn provider(&self) -> Option<Arc<dyn ContextProvider>> {
        self.provider.lock().clone()
    }

    /// Whether the context can be read on the calling thread (asked on
    /// every progress update: no `Arc` is cloned for it, and the provider's
    /// answer runs no user code).
    pub(crate) fn readable_here(&self) -> bool {
        self.provider
            .lock()
            .as_ref()
            .is_some_and(|p| p.readable_here())
    }

    /// Lets go of the provider and of the tracker state paired with the
    /// last read: the context is not read again. Dropped outside the lock
    /// (dropping a JavaScript reference may post to its thread).
    pub(crate) fn release(&self) {
        let provider = self.provider.lock().take();
        self.last.lock().paired = None;
        drop(provider);
    }

    /// Reads the context anew where `how` asks for it and it can be read
    /// here; `Ok(false)` when it was not read.
    pub(crate) fn refresh(
        &self,
        id: &SessionId,
        how: Read,
        tracker: &ProgressTracker,
    ) -> Result<bool> {
        let read = match self.provider() {
            Some(provider)
                if matches!(how, Read::Strict | Read::Lenient)
                    && !self.reading.swap(true, Ordering::AcqRel) =>
            {
                // Cleared however the read ends (a panic included), so a
                // failed read never leaves the context unreadable.
                struct Done<'a>(&'a AtomicBool);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Release);
                    }
                }
                let _done = Done(&self.reading);
                provider.read()
            }
            _ => Ok(None),
        };
        let json = match read {
            Ok(Some(json)) => json,
            Ok(None) => return Ok(false),
            Err(e) if how == Read::Strict => {
                return Err(CoreError::context(id, e.message, e.thrown))
            }
            Err(_) => return Ok(false),
        };
        let json = match context_text(json, id) {
            Ok(json) => json,
            Err(err) if how == Read::Strict => return Err(err),
            Err(_) => return Ok(false),
        };
        // Taken after the read (which may run listeners) and outside `last`.
        let paired = tracker.snapshot();
        let mut last = self.last.lock();
        if last.json != json {
            last.json = json;
        }
        last.read_at = clock::monotonic_ms();
        last.paired = Some(paired);
        last.stale = false;
        Ok(true)
    }

    /// After a progress update: reads the context when it was last read
    /// `interval` ago or more (so a thread busy with updates still
    /// checkpoints every interval), else marks it stale. An update on
    /// another thread changes nothing: the context is not there.
    pub(crate) fn on_update(&self, id: &SessionId, interval: Duration, tracker: &ProgressTracker) {
        if !self.readable_here() {
            return;
        }
        let since = clock::monotonic_ms() - self.last.lock().read_at;
        // A clock set back (a test's fake clock) counts as time passed.
        if (since >= interval.as_secs_f64() * 1000.0 || since < 0.0)
            && self.refresh(id, Read::Lenient, tracker).unwrap_or(false)
        {
            return;
        }
        self.last.lock().stale = true;
    }

    /// The context to write and, for a checkpoint of a stale context, the
    /// tracker state read with it.
    pub(crate) fn to_write(&self, how: Read) -> (ContextText, Option<(ProgressState, u64)>) {
        let last = self.last.lock();
        let paired = if how == Read::Checkpoint && last.stale {
            last.paired.clone()
        } else {
            None
        };
        (last.json.clone(), paired)
    }

    pub(crate) fn is_stale(&self) -> bool {
        self.last.lock().stale
    }
}

/// `json` as a context, checked to be an object (what `JSON.stringify`
/// prints for one starts with `{`).
pub(crate) fn context_text(json: String, id: &SessionId) -> Result<ContextText> {
    ContextText::new(json).ok_or_else(|| {
        CoreError::context(
            id,
            "the context must serialize to a JSON object".into(),
            None,
        )
    })
}

/// `Session` values alive in this process, live or finished but still held
/// (see [`live`](crate::live)).
pub(crate) static ALIVE: crate::sync::Counter = crate::sync::Counter::new();

/// One live session.
pub struct Session {
    pub(crate) id: SessionId,
    pub(crate) operation: String,
    pub(crate) created_at_ms: i64,
    pub(crate) tracker: ProgressTracker,
    pub(crate) source: CancellationSource,
    pub(crate) context: ContextCell,
    /// The tracker version last written; the lock serializes writes.
    pub(crate) written: RankedMutex<Option<u64>>,
    /// Set when the session was completed or failed and left its manager.
    pub(crate) finished: AtomicBool,
    /// The tracker listener that reports the session's changes to its
    /// manager, removed when the session finishes.
    pub(crate) hook: std::sync::OnceLock<crate::listeners::ListenerId>,
    /// This process as the owner, as written in the file.
    pub(crate) owner: Value,
    /// Fields of a resumed file that this version does not know, kept.
    pub(crate) extra: serde_json::Map<String, Value>,
}

impl Drop for Session {
    fn drop(&mut self) {
        ALIVE.down();
    }
}

impl Session {
    /// The session id.
    pub fn id(&self) -> &str {
        self.id.as_str()
    }

    /// What the session does.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Creation time, ms since the epoch.
    pub fn created_at_ms(&self) -> i64 {
        self.created_at_ms
    }

    /// The context as last read, as JSON text (a copy for other threads).
    pub fn context_json(&self) -> String {
        self.context.last.lock().json.as_str().to_string()
    }

    /// The session's tracker.
    pub fn tracker(&self) -> &ProgressTracker {
        &self.tracker
    }

    /// The session's cancellation source.
    pub fn source(&self) -> &CancellationSource {
        &self.source
    }

    pub(crate) fn to_state(
        &self,
        context: ContextText,
        progress: ProgressState,
    ) -> SessionState<ContextText> {
        SessionState {
            id: self.id.to_string(),
            operation: self.operation.clone(),
            status: progress.status.into(),
            progress,
            context,
            created_at: clock::iso_from_ms(self.created_at_ms).unwrap_or_default(),
            updated_at: clock::now_iso(),
            crashed_at: None,
            extra: {
                let mut extra = self.extra.clone();
                extra.insert("owner".into(), self.owner.clone());
                extra
            },
        }
    }
}
