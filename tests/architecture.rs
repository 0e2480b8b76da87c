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
