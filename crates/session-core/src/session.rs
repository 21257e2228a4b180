//! A live session: its tracker, its cancellation source, and its context,
//! read through a [`ContextProvider`] where the context lives (see
//! [`context`](crate::context) for how it is read and checkpointed).
//!
//! # Lock order
//! `Session::written` is a `Written` in the crate's order ([`crate`]),
//! below the writer's `batch`: a write takes the tracker's state lock and
//! the map of held owner locks under it. `ContextCell`'s `last` and
//! `provider` are leaves: the tracker's state lock is never taken inside
//! them, and a context is never read under any lock.

use std::sync::atomic::AtomicBool;

use serde_json::Value;

use crate::cancellation::CancellationSource;
use crate::clock;
use crate::context::ContextCell;
pub use crate::context::{ContextProvider, ReadError};
use crate::id::SessionId;
use crate::progress::{ProgressState, ProgressTracker};
use crate::state::{ContextText, SessionState};
use crate::sync::RankedMutex;

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
        self.context.last_json()
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
