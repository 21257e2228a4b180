//! Counts of what the package holds per session, so that a test (or a
//! long-lived server's health check) can see that a finished session leaves
//! nothing behind.
//!
//! Each counter is one relaxed atomic, changed when an entry is made and
//! when it is dropped; reading them costs nothing on any other path.

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
        sessions: crate::session::ALIVE.get().max(0) as usize,
        attachable: crate::registry::len(),
        dirty,
        managers,
    }
}
