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
    ///
    /// The age must be exceeded, as in the reference: `cleanup(0)` keeps a
    /// session written in the millisecond `now_ms` names.
    pub fn cleanup(&self, max_age_days: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("maxAgeDays", max_age_days)?;
        let max_age_ms = max_age_days * 24.0 * 60.0 * 60.0 * 1000.0;
        self.remove_finished(now_ms, |age_ms| age_ms > max_age_ms)
    }

    /// [`cleanup`](Self::cleanup) with the age in milliseconds: removes
    /// sessions that are not active and were last written `older_than_ms`
    /// or more before `now_ms` (a number >= 0; fractions allowed). The age
    /// is reached, not exceeded, so `0` removes every finished session,
    /// one finished in this very millisecond included: a retention pass
    /// right after `recover_crashed` removes what that pass settled.
    pub fn cleanup_older_than_ms(&self, older_than_ms: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("olderThanMs", older_than_ms)?;
        self.remove_finished(now_ms, |age_ms| age_ms >= older_than_ms)
    }

    /// Removes each finished session whose age (`now_ms` less its
    /// `updatedAt`, in milliseconds) `old_enough` accepts.
    fn remove_finished(&self, now_ms: i64, old_enough: impl Fn(f64) -> bool) -> Result<u32> {
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
                && age_ms(&state, now_ms).is_some_and(&old_enough)
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

/// How long before `now_ms` the state was last written; `None` when its
/// `updatedAt` is not a time (such a session is never removed).
fn age_ms(state: &StoredState, now_ms: i64) -> Option<f64> {
    clock::parse_iso_ms(&state.updated_at).map(|t| (now_ms - t) as f64)
}
