//! Locking that never turns a panic into a second failure.
//!
//! Listeners run outside every lock and inside `catch_unwind`, so a lock can
//! only be poisoned by a panic in the few lines that hold it, which assign
//! whole values. The data behind a poisoned lock is therefore still
//! consistent, and it is used as it is rather than reported to JavaScript as
//! a crash.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering the guard of a poisoned lock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
