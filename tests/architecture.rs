//! The core stays pure: no file system, git, environment, clock or process in `src/core`.
//! (The clippy configuration additionally bans reading the environment outside
//! `src/context.rs`.)

use std::path::Path;

#[test]
fn core_does_no_io() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let banned = [
        "std::fs",
        "std::env",
        "std::process",
        "std::net",
        "git2",
        "Utc::now",
        "Local::now",
        "SystemTime",
        "println!",
        "eprintln!",
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&core).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for word in banned {
            if text.contains(word) {
                found.push(format!("{}: {word}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "I/O in the pure core: {found:#?}");
}

/// Every `.rs` file under `src/<layer>`, with its text.
fn layer(name: &str) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out
}

/// The layers depend downwards only: cli → ops → store → core. The core uses no other
/// layer, the store neither the use cases nor the command line, the use cases not the
/// command line; and the command line reaches git only through the store (ids included, as
/// `store::Oid`).
#[test]
fn layers_depend_downwards() {
    let rules: [(&str, &[&str]); 4] = [
        (
            "core",
            &["crate::store", "crate::ops", "crate::cli", "git2::"],
        ),
        ("store", &["crate::ops", "crate::cli"]),
        ("ops", &["crate::cli", "super::super::cli"]),
        ("cli", &["git2::", "use git2"]),
    ];
    let mut found = Vec::new();
    for (name, banned) in rules {
        for (path, text) in layer(name) {
            for word in banned {
                if text.contains(word) {
                    found.push(format!("{}: {word}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "a layer reaching upwards: {found:#?}");
}
