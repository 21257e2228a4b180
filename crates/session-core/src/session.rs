//! A live session: its tracker, its cancellation source, and its context,
//! read through a [`ContextProvider`] where the context lives (see
//! [`context`](crate::context) for how it is read and checkpointed).
//!
//! # Lock order
//! `Session::written` is a `Written` in the crate's order ([`crate`]),
//! below the writer's `batch`: a write takes the context's checkpoint, the
//! tracker's state lock and the map of held owner locks under it. `ContextCell`'s `last` and
//! `provider` are leaves: the tracker's state lock is never taken inside
//! them, and a context is never read under any lock.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::Value;

use crate::cancellation::CancellationSource;
use crate::clock;
use crate::context::ContextCell;
pub use crate::context::{ContextProvider, ReadError};
use crate::id::SessionId;
use crate::progress::{ProgressState, ProgressTracker};
use crate::state::{ContextText, SessionState};
use crate::sync::{Rank, RankedMutex};

/// What a session's last write wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    /// The tracker version of the state written.
    pub(crate) version: u64,
    /// The read of the context written ([`crate::context::Checkpoint`]).
    pub(crate) generation: u64,
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
    /// What was last written; the lock serializes writes.
    pub(crate) written: RankedMutex<Option<Written>>,
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
    /// A session not yet admitted by a manager: nothing written, no hook,
    /// not finished; counted alive until dropped.
    pub(crate) fn new(
        id: SessionId,
        operation: String,
        created_at_ms: i64,
        tracker: ProgressTracker,
        context: ContextCell,
        owner: Value,
        extra: serde_json::Map<String, Value>,
    ) -> Arc<Self> {
        ALIVE.up();
        Arc::new(Session {
            id,
            operation,
            created_at_ms,
            tracker,
            source: CancellationSource::new(),
            context,
            written: RankedMutex::new(Rank::Written, None),
            finished: Default::default(),
            hook: Default::default(),
            owner,
            extra,
        })
    }

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::context::ContextProvider;
    use std::sync::Arc;

    /// A session as a manager creates it (`SessionManager::create_session`
    /// and `admit`), without a manager: its first checkpoint is the text
    /// given, paired with the tracker as it starts.
    pub(crate) fn session(json: &str, provider: Option<Box<dyn ContextProvider>>) -> Arc<Session> {
        let id = SessionId::random();
        let context = ContextCell::new(json.into(), provider, &id).unwrap();
        let tracker = ProgressTracker::new(id.to_string(), "op".into());
        let session = Session::new(
            id,
            "op".into(),
            clock::now_ms(),
            tracker,
            context,
            Value::Null,
            Default::default(),
        );
        session.context.first_checkpoint(&session.tracker);
        session
    }

    #[test]
    fn a_state_pairs_the_context_given_with_the_progress_given_and_names_the_owner() {
        let s = session("{\"n\":1}", None);
        assert_eq!(s.context_json(), "{\"n\":1}");
        s.tracker().set_progress(30.0, None).unwrap();
        let checkpoint = s.context.to_write(crate::context::Read::WithoutReading);
        assert!(checkpoint.paired.is_none());
        let state = s.to_state(checkpoint.json, s.tracker().state());
        assert_eq!(
            (
                state.id.as_str(),
                state.progress.progress,
                state.context.as_str()
            ),
            (s.id(), 30.0, "{\"n\":1}")
        );
        assert_eq!(state.status, crate::state::SessionStatus::Active);
        assert_eq!(state.extra["owner"], Value::Null);
        assert_eq!(
            clock::parse_iso_ms(&state.created_at),
            Some(s.created_at_ms())
        );
    }
}
