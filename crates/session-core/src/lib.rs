//! The pure-Rust core of msw-session: cancellation tokens, progress trackers,
//! session files and the session manager.
//!
//! Nothing here depends on Node or N-API: the Node binding (the crate at the
//! repository root) converts JS values into these types and hands listeners
//! and context readers in as [`Listener`] and [`ContextProvider`]
//! implementations; everything that decides behaviour — the state machine,
//! validation of values, persistence, timers and threads, and the `code` of
//! every error ([`CoreError::code`]) — lives here and is tested with
//! `cargo test -p msw-session-core`. What the core knows of JavaScript is
//! its rules where the reference's files and values must be matched:
//! `JSON.parse` ([`js_json`]), number printing ([`js_number`]), text as
//! `JSON.stringify` prints it ([`js_text`]); and what JavaScript threw is
//! carried, opaque, as a [`Thrown`].
//!
//! # Threads
//! Every type is `Send + Sync`. A change made on one thread reaches listeners
//! bound to another thread through [`Listener::post`], which must only queue
//! work; listeners without a home thread, or at home on the changing thread,
//! are called in place with [`Listener::call`]. See [`listeners`].
//!
//! No user code runs under a lock of the core: listeners are called, and
//! contexts read ([`ContextProvider::read`]), with no lock held, so they may
//! call back into any method. Under a lock the core calls only
//! [`Listener::post`] and [`ContextProvider::readable_here`], which must
//! queue or answer without running user code (the binding's do), and drops
//! nothing that holds user code.
//!
//! # Folders
//! Folders found on disk are checked before anything is read or written
//! ([`SessionStore::open`], [`SessionManager::open`]); one that another user
//! controls is refused with `ERR_UNSAFE_FOLDER`. The rules and messages are
//! in [`folder_safety`].
//!
//! # Lock order
//! This is the one place the order is written; each module that holds a lock
//! names its locks' place in it. Every lock is a `RankedMutex` with a rank
//! (`sync::Rank`); a thread takes locks down this list only, never two of
//! one rank at once, and in debug builds (so in every `cargo test`) taking
//! one against the order panics at once. In release builds the ranks cost
//! nothing.
//!
//! 1. `AutoSaveSlot`: a manager's `auto_save` slot ([`manager`]), held
//!    while its timer is started (which takes a timer's queue).
//! 2. `Batch`: `Writer::batch` ([`writer`]), held by the background writer
//!    and by a flush while they write a batch; it takes the writer's `dirty`
//!    and `background_errors`, contexts' `last` and `provider`, and every
//!    lock below.
//! 3. `Written`: `Session::written` ([`session`]), which serializes the
//!    writes of one session; it takes the context's checkpoint (`last`),
//!    the tracker's state lock (the state to write, or the one a cancel
//!    will make) and the map of held owner locks ([`owner`]).
//! 4. `Notifier`: the tracker's and the token's state locks ([`progress`],
//!    [`cancellation`]). A change takes its listener list under it and
//!    posts the event to listeners at home on other threads
//!    ([`Listener::post`], which queues) before releasing it, so that
//!    events posted to one thread arrive in the order of the changes;
//!    `on_cancelled` adds to the list under it.
//! 5. `ListenerList`: a listener list ([`listeners`]).
//! 6. `Leaf`: every other lock, held for a few assignments (or one system
//!    call), with no lock taken inside it: the writer's `dirty` and
//!    `background_errors`; the manager's `sessions` and `requests` (a watch
//!    of the folder is started, and serves the requests already waiting,
//!    outside it); a context's `last` and
//!    `provider` ([`session`]); a source's `links` and `timer`
//!    ([`cancellation`]); the timer lanes' queues and job slots ([`timer`]);
//!    and the process-wide maps of live sessions ([`registry`]), of writers
//!    ([`writer`]) and of held owner locks ([`owner`]).
//!
//! 7. `FlagTable`: the table of cancelled flags ([`cancel_flags`]), taken
//!    to hand a token its flag or take it back; a token may be dropped
//!    under any lock, so it comes last, and takes none.
//!
//! The binding holds no lock of its own; the thread-safe functions it posts
//! through have N-API's.

pub mod cancel_flags;
pub mod cancellation;
pub mod cleanup;
pub mod clock;
pub mod context;
pub mod crash;
pub mod error;
mod file_read;
pub mod folder_safety;
pub mod id;
pub mod inspect;
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

mod interleave;
#[cfg(test)]
mod shapes;
mod sync;

pub use cancellation::{CancellationSource, CancellationToken, SharedFlag};
pub use crash::{CrashScan, OwnerState};
pub use error::{CoreError, Result, Thrown};
pub use id::SessionId;
pub use inspect::{is_session_id, Inspection, StateFilter};
pub use listeners::{Executor, Listener, ListenerId};
pub use manager::{ContextProvider, ManagerOptions, ReadError, Session, SessionManager};
pub use progress::{ProgressState, ProgressStatus, ProgressTracker};
pub use state::{SessionState, SessionStatus};
pub use store::{SessionStore, StoreOptions};
