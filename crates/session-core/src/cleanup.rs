//! Removing what a sessions folder no longer needs: finished sessions past
//! an age, the claims of the sessions removed, and the lock files of owning
//! processes that are gone.

use std::fs;

use crate::clock;
use crate::error::Result;
use crate::id::SessionId;
use crate::state::{SessionStatus, StoredState};
use crate::store::{check_non_negative, SessionStore};

impl SessionStore {
    /// Removes sessions that are not active and were last written more than
    /// `max_age_days` before `now_ms`; returns how many were removed. Each
    /// file is read as `JSON.parse` reads it; one that is not a session state
    /// is moved aside (see [`SessionStore::load`]), never removed.
    pub fn cleanup(&self, max_age_days: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("maxAgeDays", max_age_days)?;
        self.remove_finished(max_age_days * 24.0 * 60.0 * 60.0 * 1000.0, now_ms)
    }

    /// [`cleanup`](Self::cleanup) with the age in milliseconds: removes
    /// sessions that are not active and were last written more than
    /// `older_than_ms` before `now_ms` (a number >= 0; fractions allowed).
    pub fn cleanup_older_than_ms(&self, older_than_ms: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("olderThanMs", older_than_ms)?;
        self.remove_finished(older_than_ms, now_ms)
    }

    fn remove_finished(&self, max_age_ms: f64, now_ms: i64) -> Result<u32> {
        let mut removed = 0;
        for id in self.list()? {
            let Ok(id) = SessionId::parse(&id) else {
                continue;
            };
            // An unreadable file is moved aside, never removed.
            let Some((_, state)) = self.read(&id) else {
                continue;
            };
            if state.status != SessionStatus::Active
                && is_older(&state, max_age_ms, now_ms)
                && self.remove(id.as_str())?
            {
                removed += 1;
                // The claim file of a session that is gone is no longer needed.
                let _ = fs::remove_file(self.claim_path(&id));
            }
        }
        self.remove_dead_owner_files();
        Ok(removed)
    }
}

fn is_older(state: &StoredState, age_ms: f64, now_ms: i64) -> bool {
    clock::parse_iso_ms(&state.updated_at).is_some_and(|t| (now_ms - t) as f64 > age_ms)
}
