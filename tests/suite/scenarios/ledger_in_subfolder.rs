//! A ledger kept in a subfolder of a code repository is found from anywhere in it.

use crate::common::{BASE, Sandbox, run, write_files};

/// A code repository with `src/main.rs` and the base ledger in `ledger/`, committed.
fn code_repo(s: &Sandbox) -> std::path::PathBuf {
    let dir = s.repo("code");
    write_files(
        &dir,
        &[("src/main.rs", "fn main() {}\n"), ("README", "code\n")],
    );
    let files: Vec<(String, &str)> = BASE
        .iter()
        .map(|(p, t)| (format!("ledger/{p}"), *t))
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    write_files(&dir, &files);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "code and ledger"]);
    dir
}

#[test]
fn the_ledger_is_found_from_the_top_and_from_a_sibling_folder() {
    let s = Sandbox::new();
    let dir = code_repo(&s);
    let (code, from_ledger, err) = run(&s, &dir.join("ledger"), &["report", "contributions"]);
    assert_eq!(code, 0, "{err}");
    for start in [dir.clone(), dir.join("src")] {
        let (code, out, err) = run(&s, &start, &["report", "contributions"]);
        assert_eq!(code, 0, "{}: {err}", start.display());
        assert_eq!(out, from_ledger);
        let (code, _, err) = run(&s, &start, &["check"]);
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
fn two_ledgers_in_a_repository_are_listed_with_minus_c_not_ovn_init() {
    let s = Sandbox::new();
    let dir = code_repo(&s);
    write_files(&dir, &[("examples/demo/ovn.toml", BASE[0].1)]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "a second ledger"]);
    let (code, out, err) = run(&s, &dir.join("src"), &["check"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("and 2 ledgers elsewhere in this repository: ../examples/demo, ../ledger"),
        "{err}"
    );
    assert!(
        err.contains("hint: name the one to use: `ovn -C ../examples/demo ...`"),
        "{err}"
    );
    assert!(!err.contains("ovn init"), "{err}");
}

#[test]
fn a_repository_without_any_ledger_still_suggests_ovn_init() {
    let s = Sandbox::new();
    let dir = s.repo("plain");
    write_files(&dir, &[("src/main.rs", "fn main() {}\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "code"]);
    let (code, _, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 3);
    assert!(err.contains("run `ovn init`"), "{err}");
}
