//! Counts of what the package holds per session, so that a test (or a
//! long-lived server's health check) can see that a finished session leaves
//! nothing behind.
//!
//! Each counter is one relaxed atomic, changed when an entry is made and
//! when it is dropped; reading them costs nothing on any other path.

use std::sync::atomic::{AtomicIsize, Ordering};

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

/// `Session` values alive in this process, live or finished but still held.
pub(crate) static SESSIONS: Counter = Counter::new();

/// What this process holds per session at this moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounts {
    /// Session values not yet dropped (held by a manager, a handle or a worker).
    pub sessions: usize,
    /// Entries of the registry that `attachSession` reads.
    pub attachable: usize,
    /// Sessions waiting for the background writer, over every manager.
    pub dirty: usize,
    /// Managers alive.
    pub managers: usize,
}

/// The counts now.
pub fn counts() -> LiveCounts {
    let (dirty, managers) = crate::writer::dirty_and_writers();
    LiveCounts {
        sessions: SESSIONS.get().max(0) as usize,
        attachable: crate::registry::len(),
        dirty,
        managers,
    }
}
