//! The live sessions of this process, by folder and id, so that any thread
//! of the process (a worker) can attach to a session a manager created.
//!
//! Entries are weak: the manager owns its sessions. A session leaves the
//! registry when it finishes (complete or fail) or when its manager drops it.
//!
//! # Lock order
//! The map's lock is a leaf ([`crate`]), taken with no other lock held.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

use crate::error::Result;
use crate::session::Session;
use crate::store::{sessions_dir, SessionStore, StoreOptions};
use crate::sync::{Rank, RankedMutex};

type Key = (PathBuf, String);

fn live() -> &'static RankedMutex<HashMap<Key, Weak<Session>>> {
    static LIVE: OnceLock<RankedMutex<HashMap<Key, Weak<Session>>>> = OnceLock::new();
    LIVE.get_or_init(|| RankedMutex::with_default(Rank::Leaf))
}

/// The folder as the registry names it: canonical when it exists. A
/// manager computes it once and passes it to [`register`] and [`unregister`].
pub(crate) fn canonical(sessions_dir: &Path) -> PathBuf {
    std::fs::canonicalize(sessions_dir).unwrap_or_else(|_| sessions_dir.to_path_buf())
}

pub(crate) fn register(canonical_dir: &Path, session: &Arc<Session>) {
    let key = (canonical_dir.to_path_buf(), session.id().to_string());
    let mut map = live().lock();
    map.retain(|_, s| s.strong_count() > 0);
    map.insert(key, Arc::downgrade(session));
}

pub(crate) fn unregister(canonical_dir: &Path, id: &str) {
    live()
        .lock()
        .remove(&(canonical_dir.to_path_buf(), id.to_string()));
}

/// The live session `id` that a manager of this process created below
/// `base_path`, if any.
pub fn attach(base_path: &Path, id: &str) -> Option<Arc<Session>> {
    let key = (canonical(&sessions_dir(base_path)), id.to_string());
    live().lock().get(&key).and_then(Weak::upgrade)
}

/// [`attach`], once the folders below `base_path` have been checked
/// ([`SessionStore::check_folders`], with `options`): what JavaScript's
/// `attachSession` reaches.
pub fn attach_checked(
    base_path: &Path,
    id: &str,
    options: StoreOptions,
) -> Result<Option<Arc<Session>>> {
    SessionStore::open(base_path, options)?;
    Ok(attach(base_path, id))
}

/// How many entries the registry holds.
pub(crate) fn len() -> usize {
    live().lock().len()
}
