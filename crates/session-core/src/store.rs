//! Session files in `<base>/.msw/sessions/`.
//!
//! # Invariants
//! - A path is only ever built from a checked [`SessionId`], so every file
//!   touched is directly inside the sessions folder.
//! - A write never leaves a partial file: the text goes to a new temporary
//!   file in the same folder (created exclusively, never an existing file or
//!   link), which is then renamed over `<id>.json`.
//! - On Unix the folder is created `0700` and files `0600`: contexts may hold
//!   secrets.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::state::{SessionState, SessionStatus};

/// The folder below the base path that holds the session files.
pub const SESSIONS_DIR: &str = ".msw/sessions";

/// Reads and writes session files.
#[derive(Clone, Debug)]
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    /// A store for `<base_path>/.msw/sessions`. Nothing is created until the
    /// first save.
    pub fn new(base_path: impl AsRef<Path>) -> Self {
        Self {
            dir: base_path.as_ref().join(SESSIONS_DIR),
        }
    }

    /// The sessions folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a session.
    pub fn path_of(&self, id: &SessionId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes a state atomically, creating the folder when needed.
    pub fn save(&self, state: &SessionState) -> Result<()> {
        let id = SessionId::parse(&state.id)?;
        self.write_atomic(&id, state.to_pretty_json().as_bytes())
    }

    /// Checks and writes a state given as JSON text.
    pub fn save_json(&self, text: &str) -> Result<()> {
        self.save(&SessionState::from_json(text)?)
    }

    /// The text of a session file, when it exists and holds a session state;
    /// `None` when it is missing or unreadable.
    pub fn load_text(&self, id: &str) -> Result<Option<String>> {
        let id = SessionId::parse(id)?;
        Ok(self.read(&id).map(|(text, _)| text))
    }

    /// A session file, parsed; `None` when missing or unreadable.
    pub fn load(&self, id: &str) -> Result<Option<SessionState>> {
        let id = SessionId::parse(id)?;
        Ok(self.read(&id).map(|(_, state)| state))
    }

    fn read(&self, id: &SessionId) -> Option<(String, SessionState)> {
        let text = fs::read_to_string(self.path_of(id)).ok()?;
        let state = SessionState::from_json(&text).ok()?;
        Some((text, state))
    }

    /// Deletes a session file; `false` when there was none.
    pub fn remove(&self, id: &str) -> Result<bool> {
        let id = SessionId::parse(id)?;
        let path = self.path_of(&id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CoreError::io("remove session file", path, e)),
        }
    }

    /// The ids of all session files, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CoreError::io("read session folder", &self.dir, e)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?;
                SessionId::parse(id).ok().map(|_| id.to_string())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Active sessions whose `updatedAt` is more than `stale_ms` before
    /// `now_ms`, as copies with status `crashed` and `crashedAt` set.
    pub fn find_crashed(&self, stale_ms: f64, now_ms: i64) -> Result<Vec<SessionState>> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let crashed_at = clock::iso_from_ms(now_ms).unwrap_or_default();
        let mut found = Vec::new();
        for id in self.list()? {
            let Ok(Some(mut state)) = self.load(&id) else {
                continue;
            };
            if state.status == SessionStatus::Active && is_older(&state, stale_ms, now_ms) {
                state.status = SessionStatus::Crashed;
                state.crashed_at = Some(crashed_at.clone());
                found.push(state);
            }
        }
        Ok(found)
    }

    /// Removes sessions that are not active and were last written more than
    /// `max_age_days` before `now_ms`; returns how many were removed.
    pub fn cleanup(&self, max_age_days: f64, now_ms: i64) -> Result<u32> {
        check_non_negative("maxAgeDays", max_age_days)?;
        let max_age_ms = max_age_days * 24.0 * 60.0 * 60.0 * 1000.0;
        let mut removed = 0;
        for id in self.list()? {
            let Ok(Some(state)) = self.load(&id) else {
                continue;
            };
            if state.status != SessionStatus::Active
                && is_older(&state, max_age_ms, now_ms)
                && self.remove(&id)?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn ensure_dir(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| CoreError::io("create session folder", &self.dir, e))
    }

    fn write_atomic(&self, id: &SessionId, bytes: &[u8]) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let target = self.path_of(id);
        let temp = self.dir.join(format!(
            ".{id}.json.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let write = |temp: &Path| -> io::Result<()> {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(temp)?;
            file.write_all(bytes)?;
            Ok(())
        };
        let mut first = write(&temp);
        if matches!(&first, Err(e) if e.kind() == io::ErrorKind::NotFound) {
            self.ensure_dir()?;
            first = write(&temp);
        }
        let renamed = first.and_then(|()| fs::rename(&temp, &target));
        renamed.map_err(|e| {
            let _ = fs::remove_file(&temp);
            CoreError::io("write session file", target, e)
        })
    }
}

fn is_older(state: &SessionState, age_ms: f64, now_ms: i64) -> bool {
    clock::parse_iso_ms(&state.updated_at).is_some_and(|t| (now_ms - t) as f64 > age_ms)
}

fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(CoreError::out_of_range(
            name,
            "a number >= 0",
            crate::progress::js_display(value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::ProgressState;

    pub(crate) fn state(id: &str, status: SessionStatus, updated_at: &str) -> SessionState {
        let mut progress = ProgressState::new(id.into(), "op".into());
        progress.updated_at = updated_at.into();
        SessionState {
            id: id.into(),
            operation: "op".into(),
            status,
            progress,
            context: serde_json::json!({"k": "v"}),
            created_at: updated_at.into(),
            updated_at: updated_at.into(),
            crashed_at: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn saves_loads_lists_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        assert_eq!(store.list().unwrap(), Vec::<String>::new());
        let s = state("a", SessionStatus::Active, &clock::now_iso());
        store.save(&s).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(s));
        assert_eq!(store.list().unwrap(), vec!["a"]);
        assert!(store
            .load_text("a")
            .unwrap()
            .unwrap()
            .starts_with("{\n  \"id\": \"a\""));
        assert!(store.remove("a").unwrap());
        assert!(!store.remove("a").unwrap());
        assert_eq!(store.load("a").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn creates_private_folder_and_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(&store.path_of(&SessionId::parse("a").unwrap())), 0o600);
    }

    #[test]
    fn unreadable_files_load_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap();
        fs::write(store.dir().join("torn.json"), "{\"id\": \"to").unwrap();
        assert_eq!(store.load("torn").unwrap(), None);
        assert_eq!(store.list().unwrap(), vec!["a", "torn"]);
    }

    #[test]
    fn refuses_ids_that_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        for bad in ["../x", "..", "a/b"] {
            assert_eq!(
                store.load(bad).unwrap_err().code(),
                "ERR_INVALID_SESSION_ID"
            );
            assert_eq!(
                store.remove(bad).unwrap_err().code(),
                "ERR_INVALID_SESSION_ID"
            );
        }
        let err = store
            .save(&state("../evil", SessionStatus::Active, "x"))
            .unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_SESSION_ID");
        assert!(!dir.path().join(".msw").exists());
    }

    #[test]
    fn finds_stale_active_sessions_and_cleans_old_finished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let old = clock::iso_from_ms(now - 10 * 86_400_000).unwrap();
        let fresh = clock::iso_from_ms(now).unwrap();
        store
            .save(&state("stale", SessionStatus::Active, &old))
            .unwrap();
        store
            .save(&state("fresh", SessionStatus::Active, &fresh))
            .unwrap();
        store
            .save(&state("done", SessionStatus::Completed, &old))
            .unwrap();
        store
            .save(&state("recent", SessionStatus::Failed, &fresh))
            .unwrap();
        let crashed = store.find_crashed(60_000.0, now).unwrap();
        assert_eq!(crashed.len(), 1);
        assert_eq!(crashed[0].id, "stale");
        assert_eq!(crashed[0].status, SessionStatus::Crashed);
        assert!(crashed[0].crashed_at.is_some());
        assert_eq!(
            store.load("stale").unwrap().unwrap().status,
            SessionStatus::Active
        );
        assert_eq!(store.cleanup(7.0, now).unwrap(), 1);
        assert_eq!(store.list().unwrap(), vec!["fresh", "recent", "stale"]);
        assert!(store.find_crashed(f64::NAN, now).is_err());
        assert!(store.cleanup(-1.0, now).is_err());
    }

    #[test]
    fn a_refused_write_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("a-file");
        fs::write(&base, "not a folder").unwrap();
        let store = SessionStore::new(&base);
        let err = store
            .save(&state(
                "a",
                SessionStatus::Active,
                "2026-01-01T00:00:00.000Z",
            ))
            .unwrap_err();
        assert_eq!(err.code(), "ERR_SESSION_IO");
        assert!(err.to_string().contains("a-file"), "{err}");
        assert_eq!(fs::read_to_string(&base).unwrap(), "not a folder");
    }
}
