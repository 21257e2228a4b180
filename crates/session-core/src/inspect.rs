//! Queries of a sessions folder that answer with each session's liveness:
//! one session ([`SessionStore::inspect`]), all of them in one pass
//! ([`SessionStore::list_states`]), and the settling of the crashed ones
//! ([`SessionStore::fail_crashed`]). Each judges a session with
//! [`SessionStore::decide`], as the crash scan does, so the four can never
//! disagree.
//!
//! # Cost
//! A query of one session reads its file once and probes its owner's lock
//! once (only for an active session whose owner is on this host): it never
//! lists the folder, so its cost does not grow with the number of files. A
//! listing reads each file once. In both, a session whose owner is found
//! gone is read a second time, to tell a crash from a session its owner
//! finished just before it exited.
//!
//! # Ids from clients
//! A lookup takes any string: an id that is not a plain file name (see
//! [`SessionId`]) is no session, `None`, never an error, so that an id
//! a client sent needs no `try`/`catch` ([`is_session_id`] tells the two
//! apart for a caller that wants to).
//!
//! # Locks
//! None of the package's: a recovery holds the session's claim (a lock
//! file, see [`owner`](crate::owner)) while it checks and writes.

use std::fs::File;

use crate::clock;
use crate::crash::{Decision, OwnerState};
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::owner::Owner;
use crate::state::{SessionState, SessionStatus, StoredState};
use crate::store::{check_non_negative, SessionStore};

/// Whether `id` is a session id that the store accepts: a plain file name
/// (see [`SessionId::parse`]). A lookup by any other id finds nothing.
///
/// ```
/// use msw_session_core::inspect::is_session_id;
/// assert!(is_session_id("5b1c-42"));
/// assert!(!is_session_id("../../etc/passwd"));
/// assert!(!is_session_id(""));
/// ```
pub fn is_session_id(id: &str) -> bool {
    SessionId::parse(id).is_ok()
}

/// One session as a query finds it: its file and what can be said of its
/// owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// The session id.
    pub id: String,
    /// The text of the session file, as [`SessionStore::load_text`] gives
    /// it: the state as stored (an active session whose owner crashed says
    /// `active` here; [`owner_state`](Self::owner_state) says `crashed`).
    pub text: String,
    /// What the session does.
    pub operation: String,
    /// The stored status.
    pub status: SessionStatus,
    /// Whether its owner is at work ([`SessionStore::decide`]).
    pub owner_state: OwnerState,
}

/// Which sessions [`SessionStore::list_states`] lists; `None` for any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateFilter {
    /// Only sessions of this operation.
    pub operation: Option<String>,
    /// Only sessions with this stored status.
    pub status: Option<SessionStatus>,
}

impl StateFilter {
    fn admits(&self, state: &StoredState) -> bool {
        self.operation
            .as_ref()
            .is_none_or(|op| *op == state.operation)
            && self.status.is_none_or(|status| status == state.status)
    }
}

impl SessionStore {
    /// [`decide`](Self::decide) for a state as read from its file.
    fn decide_stored(&self, stored: &StoredState, stale_ms: f64, now_ms: i64) -> Decision {
        let owner = stored.owner.as_deref().and_then(Owner::read);
        self.decide(
            stored.status,
            &stored.updated_at,
            owner.as_ref(),
            stale_ms,
            now_ms,
        )
    }

    /// Session `id` with its owner's liveness, judged at `now_ms` with
    /// `stale_ms` as the threshold for owners that cannot be checked: one
    /// read of its file and at most one probe of a lock (see the [module
    /// docs](self)). `None` when there is no such session: no file, a file
    /// that is not a session state (moved aside, as [`load`](Self::load)
    /// does), another user's file, or an id that is not a session id (no
    /// error: see [`is_session_id`]). An error only for a `stale_ms` that
    /// is negative or NaN.
    pub fn inspect(&self, id: &str, stale_ms: f64, now_ms: i64) -> Result<Option<Inspection>> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let Ok(id) = SessionId::parse(id) else {
            return Ok(None);
        };
        Ok(self.inspect_in(None, &id, &StateFilter::default(), stale_ms, now_ms))
    }

    /// Every session of the folder that `filter` admits, with its owner's
    /// liveness, in the order of the sorted listing: each file read once
    /// (see the [module docs](self)), the filter applied before any lock
    /// is probed. Files that are not session states are moved aside and
    /// left out, as [`load`](Self::load) does.
    pub fn list_states(
        &self,
        filter: &StateFilter,
        stale_ms: f64,
        now_ms: i64,
    ) -> Result<Vec<Inspection>> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let ids = self.list()?;
        // Each file is opened relative to the folder, not by its whole path.
        let dir = File::open(self.dir()).ok();
        Ok(ids
            .iter()
            .filter_map(|id| SessionId::parse(id).ok())
            .filter_map(|id| self.inspect_in(dir.as_ref(), &id, filter, stale_ms, now_ms))
            .collect())
    }

    /// Marks every crashed session of the folder `failed` on disk, with
    /// `reason` as its error, which makes it final (no longer found by a
    /// crash scan, no longer resumable) and removable by
    /// [`cleanup`](Self::cleanup); returns their ids, sorted. Each is
    /// checked again, and written, under its claim, as a resume takes it:
    /// of a recovery and a resume of one session, exactly one acts, and a
    /// session whose claim is held (being resumed) is left alone.
    ///
    /// The file keeps every field as it was, but `status` and `updatedAt`
    /// and, in `progress`, `status`, `error` and `updatedAt` (keyed as the
    /// tracker's `fail` keys them). Every crashed session is attempted;
    /// when some could not be written the error names each (and those that
    /// were are marked all the same).
    pub fn fail_crashed(&self, reason: &str, stale_ms: f64, now_ms: i64) -> Result<Vec<String>> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let crashed = StateFilter {
            operation: None,
            status: Some(SessionStatus::Active),
        };
        let mut failed = Vec::new();
        let mut failures = Vec::new();
        for found in self.list_states(&crashed, stale_ms, now_ms)? {
            if found.owner_state != OwnerState::Crashed {
                continue;
            }
            match self.fail_one(&found.id, reason, stale_ms, now_ms) {
                Ok(true) => failed.push(found.id),
                Ok(false) => {}
                Err(err) => failures.push((found.id, err)),
            }
        }
        CoreError::from_failures(failures)?;
        Ok(failed)
    }

    /// Marks session `id` failed when, under its claim, it is still crashed.
    fn fail_one(&self, id: &str, reason: &str, stale_ms: f64, now_ms: i64) -> Result<bool> {
        let id = SessionId::parse(id)?;
        let Some(_claim) = self.claim(&id)? else {
            return Ok(false);
        };
        let any = StateFilter::default();
        let Some(found) = self.inspect_in(None, &id, &any, stale_ms, now_ms) else {
            return Ok(false);
        };
        if found.owner_state != OwnerState::Crashed {
            return Ok(false);
        }
        let mut state = SessionState::from_json(&found.text)?;
        let at = clock::iso_from_ms(now_ms).unwrap_or_else(clock::now_iso);
        state.status = SessionStatus::Failed;
        state.progress = state.progress.failed_at(reason.to_string(), at.clone());
        state.updated_at = at;
        self.save(&state)?;
        Ok(true)
    }

    /// Session `id` as [`inspect`](Self::inspect) finds it, opened relative
    /// to `dir` when given; `None` also when `filter` does not admit it.
    fn inspect_in(
        &self,
        dir: Option<&File>,
        id: &SessionId,
        filter: &StateFilter,
        stale_ms: f64,
        now_ms: i64,
    ) -> Option<Inspection> {
        let (text, stored) = self.read_in(dir, id)?;
        if !filter.admits(&stored) {
            return None;
        }
        let decision = self.decide_stored(&stored, stale_ms, now_ms);
        let (text, stored, owner_state) = match decision {
            Decision::Is(owner_state) => (text, stored, owner_state),
            // The owner is gone: read again, to tell a crash from a session
            // finished just before its owner exited.
            Decision::OwnerGone => {
                // (A resumer may have taken it meanwhile: judged anew.)
                let (text, stored) = self.read_in(dir, id)?;
                let again = self.decide_stored(&stored, stale_ms, now_ms);
                let owner_state = match again {
                    Decision::Is(owner_state) => owner_state,
                    Decision::OwnerGone => OwnerState::Crashed,
                };
                if !filter.admits(&stored) {
                    return None;
                }
                (text, stored, owner_state)
            }
        };
        Some(Inspection {
            id: id.as_str().to_string(),
            text,
            operation: stored.operation,
            status: stored.status,
            owner_state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crash::tests::crashed;
    use crate::owner::FileLock;
    use crate::store::tests::state;

    /// A folder with one session of each kind the decision tells apart, at
    /// `now`: `alive` (its owner's lock held by the returned guard),
    /// `gone` (a local owner whose lock nobody holds), `far-fresh` and
    /// `far-stale` (an owner on another host, written now and a day ago),
    /// `bare-stale` (no owner, as the reference writes, a day old), `done`
    /// (completed) and `cut` (cancelled).
    fn every_kind(store: &SessionStore, now: i64) -> FileLock {
        let fresh = clock::iso_from_ms(now).unwrap();
        let day_ago = clock::iso_from_ms(now - 86_400_000).unwrap();
        let owned_by = |instance: &str, host: &str| {
            let mut owner = Owner::this_process();
            owner.instance = instance.into();
            owner.host = host.into();
            serde_json::to_value(owner).unwrap()
        };
        let here = crate::process::this_host().to_string();
        let sessions = [
            (
                "alive",
                SessionStatus::Active,
                &day_ago,
                Some(owned_by("live-owner", &here)),
            ),
            (
                "gone",
                SessionStatus::Active,
                &fresh,
                Some(owned_by("dead-owner", &here)),
            ),
            (
                "far-fresh",
                SessionStatus::Active,
                &fresh,
                Some(owned_by("x", "elsewhere")),
            ),
            (
                "far-stale",
                SessionStatus::Active,
                &day_ago,
                Some(owned_by("x", "elsewhere")),
            ),
            ("bare-stale", SessionStatus::Active, &day_ago, None),
            ("done", SessionStatus::Completed, &day_ago, None),
            (
                "cut",
                SessionStatus::Cancelled,
                &fresh,
                Some(owned_by("dead-owner", &here)),
            ),
        ];
        for (id, status, at, owner) in sessions {
            let mut s = state(id, status, at);
            if let Some(owner) = owner {
                s.extra.insert("owner".into(), owner);
            }
            s.operation = if status == SessionStatus::Active {
                "job"
            } else {
                "other"
            }
            .into();
            store.save(&s).unwrap();
        }
        std::fs::create_dir_all(store.owners_dir()).unwrap();
        FileLock::try_acquire(&store.owner_lock_path("live-owner"), 0o600)
            .unwrap()
            .unwrap()
    }

    fn expected() -> Vec<(&'static str, OwnerState)> {
        vec![
            ("alive", OwnerState::Alive),
            ("bare-stale", OwnerState::Crashed),
            ("cut", OwnerState::Finished),
            ("done", OwnerState::Finished),
            ("far-fresh", OwnerState::Unknown),
            ("far-stale", OwnerState::Crashed),
            ("gone", OwnerState::Crashed),
        ]
    }

    #[test]
    fn inspect_gives_the_state_and_the_owner_state_of_one_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let _live = every_kind(&store, now);
        for (id, owner_state) in expected() {
            let found = store.inspect(id, 60_000.0, now).unwrap().unwrap();
            assert_eq!((found.id.as_str(), found.owner_state), (id, owner_state));
            assert_eq!(Some(found.text), store.load_text(id).unwrap());
        }
        let gone = store.inspect("gone", 60_000.0, now).unwrap().unwrap();
        // The state as stored: the file says active, the owner state crashed.
        assert_eq!(gone.status, SessionStatus::Active);
        assert_eq!(gone.operation, "job");
        assert_eq!(
            store.inspect("bad", f64::NAN, now).unwrap_err().code(),
            "ERR_OUT_OF_RANGE"
        );
    }

    #[test]
    fn a_lookup_by_a_hostile_or_unknown_id_is_none_never_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        store
            .save(&state("real", SessionStatus::Active, &clock::now_iso()))
            .unwrap();
        let long = "x".repeat(500);
        for id in [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "a/b",
            "a\\b",
            "nul\0",
            &long,
            "missing",
        ] {
            assert_eq!(store.inspect(id, 60_000.0, now).unwrap(), None, "{id:?}");
            assert!(!is_session_id(id) || id == "missing", "{id:?}");
        }
        assert!(is_session_id("real"));
        // A file that is not a session state is no session (and moved aside).
        std::fs::write(store.dir().join("junk.json"), "{not json").unwrap();
        assert_eq!(store.inspect("junk", 60_000.0, now).unwrap(), None);
        assert_eq!(store.corrupt_files().unwrap().len(), 1);
    }

    #[test]
    fn inspect_list_states_and_the_crash_scan_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let _live = every_kind(&store, now);
        let listed: Vec<_> = store
            .list_states(&StateFilter::default(), 60_000.0, now)
            .unwrap()
            .into_iter()
            .map(|found| {
                let one = store.inspect(&found.id, 60_000.0, now).unwrap().unwrap();
                assert_eq!(one, found);
                (found.id, found.owner_state)
            })
            .collect();
        let listed: Vec<_> = listed.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        assert_eq!(listed, expected());
        let mut scanned: Vec<_> = crashed(&store, 60_000.0, now)
            .into_iter()
            .map(|s| s.id)
            .collect();
        scanned.sort();
        let crashed_listed: Vec<_> = listed
            .iter()
            .filter(|(_, s)| *s == OwnerState::Crashed)
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(scanned, crashed_listed);
    }

    #[test]
    fn list_states_filters_by_operation_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let _live = every_kind(&store, now);
        let ids = |filter: StateFilter| -> Vec<String> {
            store
                .list_states(&filter, 60_000.0, now)
                .unwrap()
                .into_iter()
                .map(|found| found.id)
                .collect()
        };
        assert_eq!(
            ids(StateFilter {
                operation: Some("other".into()),
                status: None
            }),
            ["cut", "done"]
        );
        assert_eq!(
            ids(StateFilter {
                operation: None,
                status: Some(SessionStatus::Cancelled)
            }),
            ["cut"]
        );
        assert_eq!(
            ids(StateFilter {
                operation: Some("job".into()),
                status: Some(SessionStatus::Completed)
            }),
            Vec::<String>::new()
        );
        assert!(SessionStore::new(dir.path().join("none"))
            .list_states(&StateFilter::default(), 60_000.0, now)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn fail_crashed_marks_crashed_sessions_failed_and_final() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let _live = every_kind(&store, now);
        let before = store.load("gone").unwrap().unwrap();
        let failed = store.fail_crashed("server died", 60_000.0, now).unwrap();
        assert_eq!(failed, ["bare-stale", "far-stale", "gone"]);
        let after = store.load("gone").unwrap().unwrap();
        assert_eq!(after.status, SessionStatus::Failed);
        assert_eq!(after.progress.status, crate::ProgressStatus::Failed);
        assert_eq!(after.progress.error.as_deref(), Some("server died"));
        assert_eq!(after.context, before.context);
        assert_eq!(after.extra["owner"], before.extra["owner"]);
        assert_eq!(after.updated_at, clock::iso_from_ms(now).unwrap());
        // The progress keys as the tracker's fail leaves them.
        let keys: Vec<_> = after.progress.keys().iter().map(|k| k.name()).collect();
        let mut expected = crate::progress::tests::BASE_NAMES.to_vec();
        expected.push("error");
        assert_eq!(keys, expected);
        // Final: no longer crashed, nothing left to fail, removable.
        assert!(crashed(&store, 60_000.0, now).is_empty());
        assert_eq!(
            store
                .inspect("gone", 60_000.0, now)
                .unwrap()
                .unwrap()
                .owner_state,
            OwnerState::Finished
        );
        assert!(store
            .fail_crashed("again", 60_000.0, now)
            .unwrap()
            .is_empty());
        let later = now + 2 * 86_400_000;
        assert_eq!(store.cleanup(1.0, later).unwrap(), 5);
        assert_eq!(store.list().unwrap(), ["alive", "far-fresh"]);
    }

    #[test]
    fn fail_crashed_leaves_a_session_being_resumed_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        store
            .save(&state(
                "bare",
                SessionStatus::Active,
                &clock::iso_from_ms(now - 86_400_000).unwrap(),
            ))
            .unwrap();
        let id = SessionId::parse("bare").unwrap();
        let claim = store.claim(&id).unwrap().unwrap();
        assert!(store.fail_crashed("x", 60_000.0, now).unwrap().is_empty());
        drop(claim);
        assert_eq!(store.fail_crashed("x", 60_000.0, now).unwrap(), ["bare"]);
    }

    #[test]
    fn cleanup_takes_an_age_in_milliseconds() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        for (id, status, age_ms) in [
            ("old", SessionStatus::Completed, 5_000),
            ("new", SessionStatus::Failed, 500),
            ("busy", SessionStatus::Active, 5_000),
        ] {
            store
                .save(&state(
                    id,
                    status,
                    &clock::iso_from_ms(now - age_ms).unwrap(),
                ))
                .unwrap();
        }
        assert_eq!(store.cleanup_older_than_ms(1_000.0, now).unwrap(), 1);
        assert_eq!(store.list().unwrap(), ["busy", "new"]);
        assert_eq!(store.cleanup_older_than_ms(0.0, now).unwrap(), 1);
        assert_eq!(store.list().unwrap(), ["busy"]);
        for bad in [-1.0, f64::NAN] {
            let err = store.cleanup_older_than_ms(bad, now).unwrap_err();
            assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
            assert!(err.to_string().contains("olderThanMs"), "{err}");
        }
    }

    /// `olderThanMs: 0` reaches the age of a session written in this very
    /// millisecond; the reference's `cleanup(0)` must exceed it, so keeps it.
    #[test]
    fn an_age_of_zero_ms_removes_a_session_finished_this_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let written = clock::iso_from_ms(now).unwrap();
        store
            .save(&state("just", SessionStatus::Completed, &written))
            .unwrap();
        assert_eq!(store.cleanup(0.0, now).unwrap(), 0);
        assert_eq!(store.cleanup_older_than_ms(1.0, now).unwrap(), 0);
        assert_eq!(store.list().unwrap(), ["just"]);
        assert_eq!(store.cleanup_older_than_ms(0.0, now).unwrap(), 1);
        assert!(store.list().unwrap().is_empty());
    }

    /// The cost of `inspect` with 10 and with 10,000 files in the folder,
    /// printed (no threshold: timings vary by machine). Run with
    /// `cargo test --release -p msw-session-core inspect_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand"]
    fn inspect_cost_does_not_grow_with_the_folder() {
        for files in [10usize, 10_000] {
            let dir = tempfile::tempdir().unwrap();
            let store = SessionStore::new(dir.path());
            let now = clock::now_ms();
            let at = clock::iso_from_ms(now).unwrap();
            for n in 0..files {
                store
                    .save(&state(&format!("s{n:05}"), SessionStatus::Active, &at))
                    .unwrap();
            }
            let probe = format!("s{:05}", files / 2);
            let rounds = 2_000;
            let started = std::time::Instant::now();
            for _ in 0..rounds {
                assert!(store.inspect(&probe, 60_000.0, now).unwrap().is_some());
            }
            let per_call = started.elapsed() / rounds;
            let started = std::time::Instant::now();
            let listed = store
                .list_states(&StateFilter::default(), 60_000.0, now)
                .unwrap()
                .len();
            println!(
                "{files} files: inspect {per_call:?} per call; list_states {:?} for {listed}",
                started.elapsed()
            );
        }
    }
}
