//! Locking that never turns a panic into a second failure, and a relaxed
//! counter (for [`live`](crate::live)).
//!
//! Listeners run outside every lock and inside `catch_unwind`, so a lock can
//! only be poisoned by a panic in the few lines that hold it, which assign
//! whole values. The data behind a poisoned lock is therefore still
//! consistent, and it is used as it is rather than reported to JavaScript as
//! a crash.

use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering the guard of a poisoned lock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One kind of entry that is counted.
pub(crate) struct Counter(AtomicIsize);

impl Counter {
    pub(crate) const fn new() -> Self {
        Self(AtomicIsize::new(0))
    }

    pub(crate) fn up(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn down(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> isize {
        self.0.load(Ordering::Relaxed)
    }
}
