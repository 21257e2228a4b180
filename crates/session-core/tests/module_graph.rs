//! The core's modules form no import cycle: each one's `crate::<module>`
//! references (outside comments and its test module) point one way only, so
//! a reader can take the modules in an order where each uses only those
//! before it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Each module's name and the other modules its code refers to.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut code = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            let text = fs::read_to_string(&path).unwrap();
            // The test modules may use anything: cut from the first
            // `#[cfg(test)]` that opens a module (test modules come last;
            // test-only items before them count as code).
            let cut = text.match_indices("#[cfg(test)]\n").find(|(i, _)| {
                text[*i..]
                    .lines()
                    .nth(1)
                    .is_some_and(|l| l.trim_start().starts_with("mod ") || l.contains(" mod "))
            });
            let text = cut.map_or(text.clone(), |(i, _)| text[..i].to_string());
            let code_only: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            code.insert(name, code_only);
        }
    }
    let names: BTreeSet<String> = code.keys().cloned().collect();
    code.iter()
        .map(|(name, text)| {
            let uses = text
                .match_indices("crate::")
                .map(|(i, _)| {
                    text[i + 7..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|m| names.contains(m) && m != name)
                .collect();
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn the_modules_of_the_core_form_no_cycle() {
    let graph = graph();
    assert!(graph.len() > 10, "found only {:?}", graph.keys());
    // Kahn's algorithm: take modules that use nothing not yet taken.
    let mut left = graph.clone();
    let mut order = Vec::new();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|(_, uses)| uses.iter().all(|u| !left.contains_key(u)))
            .map(|(name, _)| name.clone())
            .collect();
        assert!(
            !ready.is_empty(),
            "an import cycle among {:?} (taken so far, in order: {order:?})",
            left
        );
        for name in ready {
            left.remove(&name);
            order.push(name);
        }
    }
}
