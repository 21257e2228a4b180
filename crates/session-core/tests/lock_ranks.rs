//! Every lock of the core has a rank: outside `sync.rs` (which defines
//! `RankedMutex`) and the test modules, the code names no `Mutex`, `RwLock`
//! or other lock type but `RankedMutex`, so the lock-order check of debug
//! builds sees every lock (see the lock order in the crate's docs).

use std::fs;
use std::path::Path;

/// The code of `text` outside comments and its test-only modules (cut from
/// the first `#[cfg(test)]` followed by a `mod` line: a file's test modules
/// come last).
fn code_of(text: &str) -> String {
    let cut = text.match_indices("#[cfg(test)]\n").find(|(i, _)| {
        text[*i..]
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_start().starts_with("mod ") || l.contains(" mod "))
    });
    let text = cut.map_or(text, |(i, _)| &text[..i]);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lock types named in `code` other than `RankedMutex`.
fn unranked_locks(code: &str) -> Vec<String> {
    let words = code.split(|c: char| !(c.is_alphanumeric() || c == '_'));
    words
        .filter(|w| matches!(*w, "Mutex" | "RwLock" | "ReentrantMutex" | "parking_lot"))
        .map(String::from)
        .collect()
}

#[test]
fn every_lock_of_the_core_is_ranked() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut ranked = 0;
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || name == "sync.rs" {
            continue;
        }
        let code = code_of(&fs::read_to_string(&path).unwrap());
        ranked += code.matches("RankedMutex::").count();
        for lock in unranked_locks(&code) {
            found.push(format!("{name}: {lock}"));
        }
    }
    assert!(ranked > 10, "found only {ranked} ranked locks");
    assert_eq!(found, Vec::<String>::new(), "locks without a rank");
}

#[test]
fn the_check_sees_a_plain_mutex() {
    assert_eq!(
        unranked_locks("use std::sync::{Arc, Mutex};\nlet m: RankedMutex<()> = x;"),
        ["Mutex"]
    );
}
