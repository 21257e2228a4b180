//! The pure-Rust core of msw-session: cancellation tokens, progress trackers,
//! session files and the session manager.
//!
//! Nothing here knows about JavaScript. The Node binding (the crate at the
//! repository root) converts JS values into these types and hands listeners
//! in as [`Listener`] implementations; everything that decides behaviour — the
//! state machine, validation of values, persistence, timers and threads —
//! lives here and is tested with `cargo test -p msw-session-core`.
//!
//! # Threads
//! Every type is `Send + Sync`. A change made on one thread reaches listeners
//! bound to another thread through [`Listener::post`], which must only queue
//! work; listeners without a home thread, or at home on the changing thread,
//! are called in place with [`Listener::call`]. See [`listeners`].
//!
//! # Folders
//! Folders found on disk are checked before anything is read or written
//! ([`SessionStore::open`], [`SessionManager::open`]); one that another user
//! controls is refused with `ERR_UNSAFE_FOLDER`. The rules and messages are
//! in [`folder_safety`].
//!
//! # Lock order
//! This is the one place the order is written; each module that holds a lock
//! names its locks' place in it.
//!
//! Files are written under two locks, taken in this order and never the
//! other way:
//! 1. `Writer::batch` ([`writer`]), held by the background writer and by a
//!    flush while they write a batch;
//! 2. `Session::written` ([`session`]), which serializes the writes of one
//!    session.
//!
//! Every other lock is a leaf: held for a few assignments, with no other
//! lock taken inside it and no user code run. They are the writer's `dirty`
//! and `background_errors`; the manager's `sessions`, `auto_save` and
//! `requests`; a context's `last` ([`session`]); the tracker's and the
//! token's state locks ([`progress`], [`cancellation`]); the listener lists
//! ([`listeners`]); the timer lanes' queues ([`timer`]); and the process-wide
//! maps of live sessions ([`registry`]), of writers ([`writer`]) and of held
//! owner locks ([`owner`]), taken below `written` at most.

pub mod cancellation;
pub mod cleanup;
pub mod clock;
pub mod crash;
pub mod error;
pub mod folder_safety;
pub mod id;
pub mod js_json;
pub mod js_number;
pub mod js_text;
pub mod listeners;
pub mod live;
pub mod manager;
pub mod owner;
pub mod process;
pub mod progress;
pub mod registry;
pub mod requests;
pub mod session;
pub mod state;
pub mod store;
pub mod timer;
pub mod writer;

#[cfg(test)]
mod shapes;
mod sync;

pub use cancellation::{CancellationSource, CancellationToken, SharedFlag};
pub use crash::CrashScan;
pub use error::{CoreError, Result, Thrown};
pub use id::SessionId;
pub use listeners::{Executor, Listener, ListenerId};
pub use manager::{ContextProvider, ManagerOptions, ReadError, Session, SessionManager};
pub use progress::{ProgressState, ProgressStatus, ProgressTracker};
pub use state::{SessionState, SessionStatus};
pub use store::{SessionStore, StoreOptions};
