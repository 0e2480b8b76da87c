//! The core stays pure: no file system, git, environment, clock or process in `src/core`.
//! (The clippy configuration additionally bans reading the environment outside
//! `src/context.rs`.) And the tests keep their shape: one binary, a file per subcommand.

use std::path::Path;

#[test]
fn core_does_no_io() {
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
    // Every `.rs` file, in subfolders too (`src/core/templates/` holds TOML, not code).
    for (path, text) in layer("core") {
        for word in banned {
            if text.contains(word) {
                found.push(format!("{}: {word}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "I/O in the pure core: {found:#?}");
}

/// The integration tests are one binary (see `tests/suite/main.rs`): a file directly under
/// `tests/`, or another folder with a `main.rs`, would quietly become a second crate that
/// links everything again.
#[test]
fn tests_are_one_binary() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut strays = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && name != "suite" && path.join("main.rs").exists() {
            strays.push(format!("{name}/main.rs"));
        }
        if path.extension().is_some_and(|e| e == "rs") {
            strays.push(name);
        }
    }
    assert!(
        strays.is_empty(),
        "test binaries besides tests/suite: {strays:?}; make them modules of tests/suite/main.rs"
    );
}

/// Every `ovn` subcommand has its end-to-end tests in `tests/suite/cli/<command>.rs`.
#[test]
fn every_subcommand_has_a_test_file() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite");
    let main = std::fs::read_to_string(suite.join("main.rs")).unwrap();
    let missing: Vec<String> = ovn::cli::command()
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .filter(|name| {
            !suite.join(format!("cli/{name}.rs")).is_file()
                || !main.contains(&format!("    mod {name};\n"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "subcommands without tests/suite/cli/<command>.rs in main.rs: {missing:?}"
    );
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

/// The layers depend downwards only: cli → ops → cache → store → core. The core uses no
/// other layer, the store not the cache (the cache reads through the store, so the store
/// reads git only), the store and the cache neither the use cases nor the command line, the
/// use cases not the command line; and the command line reaches git only through the store (ids included, as
/// `store::Oid`).
#[test]
fn layers_depend_downwards() {
    let rules: [(&str, &[&str]); 5] = [
        (
            "core",
            &[
                "crate::store",
                "crate::cache",
                "crate::ops",
                "crate::cli",
                "git2::",
            ],
        ),
        ("store", &["crate::cache", "crate::ops", "crate::cli"]),
        ("cache", &["crate::ops", "crate::cli"]),
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
