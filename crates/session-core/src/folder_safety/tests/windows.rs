//! The folder checks on Windows: the owner-only access list of the folders
//! the package makes, and the refusal of one that Everyone may write in.

use super::super::windows::testing::{allowed_sids, open_to_everyone, user_sid};
use super::super::*;

/// Whether this runs under wine, whose system folder has its own tools.
/// Wine 8 accepts a folder's access list and does not keep it (the folder
/// keeps the mode its umask gave it), so what the list holds afterwards
/// can only be checked on Windows itself.
fn under_wine() -> bool {
    Path::new(r"C:\windows\system32\wineboot.exe").exists()
}

fn temp_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "msw-session-folder-safety-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_folder_the_package_makes_lets_only_the_current_user_in() {
    let base = temp_folder("private");
    let made = base.join(".msw");
    create_dir(&made, 0o700).unwrap();
    assert!(matches!(check(std::slice::from_ref(&made), 0o600), Ok(())));
    if under_wine() {
        eprintln!("skipped: wine does not keep a folder's access list; checked on Windows only");
        fs::remove_dir_all(&base).unwrap();
        return;
    }
    assert_eq!(allowed_sids(&made), vec![user_sid()]);
    // What it holds inherits the list: a file inside is the user's only.
    fs::write(made.join("x.json"), b"{}").unwrap();
    assert_eq!(allowed_sids(&made.join("x.json")), vec![user_sid()]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_folder_everyone_may_write_in_is_refused() {
    let base = temp_folder("open");
    let open = base.join(".msw");
    create_dir(&open, 0o700).unwrap();
    open_to_everyone(&open);
    match check(std::slice::from_ref(&open), 0o600) {
        Err(Failure::Refused(refusal)) => {
            assert_eq!(refusal.path, open);
            assert_eq!(
                refusal.problem,
                Problem::Writable {
                    by: "Everyone",
                    mode: None
                }
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    fs::remove_dir_all(&base).unwrap();
}
