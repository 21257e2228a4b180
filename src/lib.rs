//! The Node.js binding of msw-session.
//!
//! This crate only converts and dispatches: JavaScript values become core
//! values, JavaScript callbacks become core [`Listener`]s, core errors become
//! JavaScript errors with a `code`. What the package does lives in
//! `crates/session-core`.
//!
//! The classes exported here (`Native*`) are the private half of the public
//! API: the hand-written `index.js` wraps them into the reference's classes,
//! holding what must be JavaScript (the `CancellationError` subclass, object
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
mod js_function;
mod js_thread;
mod listeners;
mod manager;
mod protocol;
mod store;
mod token;
mod tracker;
