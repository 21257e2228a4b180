//! The native objects JavaScript holds (`Native*` instances): how many are
//! alive, and how they are freed.
//!
//! The addon declares the experimental Node-API version (`lib.rs`), so Node
//! runs these objects' finalizers inside the garbage collector, as it takes
//! their JavaScript wrappers, instead of on a later event-loop turn that a
//! loop that never yields would not give. Code inside the collector must not
//! touch the JavaScript heap: deleting a reference to a value that the same
//! collection is freeing crashes V8. So a counted object is dropped through
//! [`finalize`], which marks the thread as finalizing, and a reference
//! released while it is marked is deleted later, on an event-loop turn
//! (`JsRef`'s drop asks [`finalizing`]).
//!
//! # Invariants
//! - Every `Native*` class that can hold a JavaScript reference, directly or
//!   through the core, has a custom finalizer that calls [`finalize`].
//! - [`finalizing`] is true only inside such a finalizer, on its thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

static ALIVE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static FINALIZING: Cell<bool> = const { Cell::new(false) };
}

/// Counts one native object while it lives; a field of each counted type.
pub(crate) struct Counted(());

impl Counted {
    pub(crate) fn new() -> Self {
        ALIVE.fetch_add(1, Ordering::Relaxed);
        Self(())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many counted native objects are alive.
pub(crate) fn alive() -> usize {
    ALIVE.load(Ordering::Relaxed)
}

/// Drops `object` as its finalizer must: with the thread marked as
/// finalizing, so that what it releases does not touch the JavaScript heap.
pub(crate) fn finalize<T>(object: T) {
    let was = FINALIZING.with(|f| f.replace(true));
    drop(object);
    FINALIZING.with(|f| f.set(was));
}

/// Whether this thread is inside a finalizer run by the garbage collector.
pub(crate) fn finalizing() -> bool {
    FINALIZING.with(Cell::get)
}

/// Gives a `Native*` class the finalizer of this module.
macro_rules! finalized_by_handles {
    ($($class:ty),* $(,)?) => {$(
        impl napi::bindgen_prelude::ObjectFinalize for $class {
            fn finalize(self, _env: napi::Env) -> napi::Result<()> {
                $crate::handles::finalize(self);
                Ok(())
            }
        }
    )*};
}
pub(crate) use finalized_by_handles;
