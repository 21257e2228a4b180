//! The Node.js binding of msw-session.
//!
//! This crate only converts and dispatches: JavaScript values become core
//! values, JavaScript callbacks become core [`Listener`]s, core errors become
//! JavaScript errors with a `code`. What the package does lives in
//! `crates/session-core`.
//!
//! The classes exported here (`Native*`) are the private half of the public
//! API: the hand-written `index.js` and `lib/` wrap them into the reference's
//! classes, holding what must be JavaScript (the `CancellationError` subclass, object
//! identity, building state objects, reading the shared cancelled flag).
//!
//! # Threads
//! Each JavaScript thread (the main thread, each worker) that loads the addon
//! gets a [`js_thread::JsThread`]: its id and a weak thread-safe function. A
//! JavaScript callback is at home on the thread that registered it. A change
//! made on that thread calls it synchronously; a change made on any other
//! thread (the timer thread, a worker) is posted to it through the
//! thread-safe function and runs there in order. Nothing here keeps Node's
//! event loop alive.
//!
//! [`Listener`]: msw_session_core::Listener

mod clock;
mod convert;
mod crash;
mod error;
mod handles;
mod js_function;
mod js_thread;
mod listeners;
mod manager;
mod protocol;
mod store;
mod token;
mod tracker;

/// The Node-API version this module asks for, as Node asks a module that
/// exports this function: the experimental version, `i32::MAX`
/// (`NAPI_VERSION_EXPERIMENTAL`).
///
/// Its one effect used here: Node runs the finalizer of a wrapped native
/// object inside the garbage collector, as the collector takes the wrapper,
/// instead of on a later turn of the event loop. A batch loop that never
/// yields gives no turn, and without this every finished session's tracker
/// and token stayed in memory until the loop ended (issue 20.3). Inside the
/// collector a finalizer must not touch the JavaScript heap; `handles` makes
/// sure ours do not (a reference released there is deleted on a later turn).
/// Node 20.12 and later, 22, 24 and 26 honour it; an older Node ignores the
/// version and runs finalizers on a turn, as before.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    i32::MAX
}
