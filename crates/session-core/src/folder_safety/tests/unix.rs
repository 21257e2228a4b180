//! The folder checks on Unix, as root where a test gives a file to another
//! user (skipped, with a note, elsewhere).

use std::os::unix::fs::PermissionsExt;

use super::super::*;
use crate::clock;
use crate::error::CoreError;
use crate::id::SessionId;
use crate::state::SessionStatus;
use crate::store::tests::state;
use crate::store::{SessionStore, StoreOptions};

/// A user id other than this process's, for `chown` (root only).
const OTHER_UID: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives `path` to another user; `false` (and a note) where this
/// process may not (it is not root).
fn give_away(path: &Path) -> bool {
    match std::os::unix::fs::lchown(path, Some(OTHER_UID), None) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("skipped: cannot give a file to another user here ({e})");
            false
        }
    }
}

fn problem(store: &SessionStore) -> Option<(PathBuf, Problem)> {
    match store.check_folders() {
        Ok(()) => None,
        Err(CoreError::UnsafeFolder(Refusal { path, problem })) => Some((path, problem)),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// A store below a new temporary folder whose four folders exist,
/// private.
fn with_folders() -> (tempfile::TempDir, SessionStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    for folder in store.checked_folders() {
        fs::create_dir_all(&folder).unwrap();
        chmod(&folder, 0o700);
    }
    (dir, store)
}

#[test]
fn missing_and_private_folders_pass() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open(dir.path(), StoreOptions::default()).unwrap();
    store
        .save(&state("a", SessionStatus::Active, &clock::now_iso()))
        .unwrap();
    assert_eq!(problem(&store), None);
    let (_dir, store) = with_folders();
    assert_eq!(problem(&store), None);
}

#[test]
fn each_folder_writable_by_group_or_others_is_refused_by_name() {
    for (i, (mode, by)) in [
        (0o770, "group"),
        (0o707, "others"),
        (0o777, "group and others"),
    ]
    .into_iter()
    .cycle()
    .take(4)
    .enumerate()
    {
        let (_dir, store) = with_folders();
        let folder = store.checked_folders()[i].clone();
        chmod(&folder, mode);
        let expected = Problem::Writable {
            by,
            mode: Some(mode),
        };
        assert_eq!(problem(&store), Some((folder, expected)));
    }
}

#[test]
fn a_sticky_world_writable_folder_is_refused_too() {
    let (_dir, store) = with_folders();
    chmod(store.dir(), 0o1777);
    let (_, found) = problem(&store).unwrap();
    assert_eq!(
        found.to_string(),
        "it is writable by group and others (mode 1777)"
    );
}

#[test]
fn a_symlinked_msw_is_refused_and_a_plain_file_left_to_the_os() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let msw = dir.path().join(crate::store::MSW_DIR);
    std::os::unix::fs::symlink(elsewhere.path(), &msw).unwrap();
    let err = SessionStore::open(dir.path(), StoreOptions::default()).unwrap_err();
    assert_eq!(err.code(), "ERR_UNSAFE_FOLDER");
    assert!(
        matches!(&err, CoreError::UnsafeFolder(r) if r.path == msw && r.problem == Problem::Symlink)
    );
    assert!(err.to_string().contains(&format!("\"{}\"", msw.display())));
    fs::remove_file(&msw).unwrap();
    fs::write(&msw, "").unwrap();
    // A file is not a folder: left to the OS's error.
    let store = SessionStore::new(dir.path());
    assert_eq!(problem(&store), None);
    assert_eq!(store.list().unwrap_err().code(), "ERR_SESSION_IO");
}

#[test]
fn a_folder_owned_by_another_user_is_refused() {
    let (_dir, store) = with_folders();
    let owners = store.owners_dir();
    if !give_away(&owners) {
        return;
    }
    let (path, found) = problem(&store).unwrap();
    assert_eq!(path, owners);
    assert!(matches!(found, Problem::Owner { ref owner, .. } if owner == "uid 65534"));
}

#[test]
fn trust_folder_accepts_every_folder() {
    let (_dir, store) = with_folders();
    chmod(store.dir(), 0o777);
    give_away(store.dir());
    let options = StoreOptions {
        trust_folder: true,
        ..StoreOptions::default()
    };
    let base = store.dir().parent().unwrap().parent().unwrap();
    let trusted = SessionStore::open(base, options).unwrap();
    trusted
        .save(&state("a", SessionStatus::Active, &clock::now_iso()))
        .unwrap();
    assert!(SessionStore::open(base, StoreOptions::default()).is_err());
}

#[test]
fn a_file_mode_shared_with_the_group_accepts_a_group_writable_folder() {
    let (_dir, store) = with_folders();
    chmod(store.dir(), 0o770);
    let base = store.dir().parent().unwrap().parent().unwrap();
    let options = StoreOptions::default()
        .with_file_mode(0o660 as f64)
        .unwrap();
    SessionStore::open(base, options).unwrap();
    chmod(store.dir(), 0o777);
    assert!(SessionStore::open(base, options).is_err());
}

#[test]
fn a_folder_made_by_another_after_the_check_is_refused_at_creation() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open(dir.path(), StoreOptions::default()).unwrap();
    let msw = dir.path().join(crate::store::MSW_DIR);
    fs::create_dir(&msw).unwrap();
    chmod(&msw, 0o777);
    let err = store
        .save(&state("a", SessionStatus::Active, &clock::now_iso()))
        .unwrap_err();
    assert_eq!(err.code(), "ERR_UNSAFE_FOLDER");
    assert_eq!(store.list().unwrap(), Vec::<String>::new());
}

#[test]
fn another_users_session_file_is_never_loaded_reported_or_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    let old = clock::iso_from_ms(clock::now_ms() - 86_400_000).unwrap();
    store
        .save(&state("planted", SessionStatus::Active, &old))
        .unwrap();
    let file = store.path_of(&SessionId::parse("planted").unwrap());
    if !give_away(&file) {
        return;
    }
    assert_eq!(store.find_crashed(0.0, clock::now_ms()).unwrap(), "[]");
    assert!(!file.exists());
    assert_eq!(store.corrupt_files().unwrap().len(), 1);

    // Planted again: load and resume refuse it as well.
    store
        .save(&state("planted", SessionStatus::Active, &old))
        .unwrap();
    give_away(&file);
    assert_eq!(store.load("planted").unwrap(), None);
    store
        .save(&state("planted", SessionStatus::Active, &old))
        .unwrap();
    give_away(&file);
    let manager =
        crate::SessionManager::open(crate::ManagerOptions::new(dir.path(), 60_000.0).unwrap())
            .unwrap();
    let resumed = manager
        .resume_session(state("planted", SessionStatus::Active, &old), None)
        .unwrap();
    assert!(resumed.is_none());
    assert_eq!(store.corrupt_files().unwrap().len(), 3);
    assert_eq!(store.list().unwrap(), Vec::<String>::new());
}

#[test]
fn a_file_judged_in_its_open_folder_is_judged_as_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    fs::write(path.join("mine.json"), "{}").unwrap();
    fs::write(path.join("given.json"), "{}").unwrap();
    let given = give_away(&path.join("given.json"));
    fs::create_dir(path.join("folder.json")).unwrap();
    std::os::unix::fs::symlink(path.join("mine.json"), path.join("link.json")).unwrap();
    let open = fs::File::open(path).unwrap();
    for (name, foreign) in [
        ("mine.json", false),
        ("missing.json", false),
        ("folder.json", true),
        ("link.json", true),
        ("given.json", given),
        ("with\0nul.json", false),
    ] {
        assert_eq!(is_foreign_file_in(&open, path, name), foreign, "{name}");
        if !name.contains('\0') {
            assert_eq!(is_foreign_file(&path.join(name)), foreign, "{name}");
        }
    }
}
