//! A team over a shared bare repository: every command reads the same validated branch
//! (the local one, else its upstream) and warns when the local one is behind.

use crate::common::{Sandbox, base_repo, origin_and_clone, run, write_files};

/// A commit on origin's main, pushed from another clone: one more contribution.
fn push_from_elsewhere(s: &Sandbox, origin: &std::path::Path) {
    let other = s.work().join("other");
    s.git(
        &s.work(),
        &["clone", "-q", origin.to_str().unwrap(), "other"],
    );
    let (code, _, err) = run(
        s,
        &other,
        &[
            "log",
            "3h",
            "Printed the frame",
            "--project",
            "drone",
            "--date",
            "2026-11-20",
        ],
    );
    assert_eq!(code, 0, "{err}");
    s.git(&other, &["push", "-q", "origin", "main"]);
}

/// Every command that reads the validated branch (none given `--at`).
const READERS: &[&[&str]] = &[
    &["payout", "1000", "-p", "drone"],
    &["report", "contributions"],
    &["export", "hledger"],
    &["site", "../site"],
    &["check", "--history"],
    &["status"],
];

#[test]
fn a_clone_with_only_origin_main_reads_it_in_every_command() {
    let s = Sandbox::new();
    let (_, clone) = origin_and_clone(&s, "c");
    s.git(&clone, &["switch", "-q", "-c", "ana-week"]);
    s.git(&clone, &["branch", "-q", "-D", "main"]);
    for args in READERS {
        let (code, out, err) = run(&s, &clone, args);
        assert_eq!(code, 0, "ovn {args:?}: {out}{err}");
        assert!(!err.contains("does not exist"), "ovn {args:?}: {err}");
    }
    let (code, out, err) = run(&s, &clone, &["review"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("origin/main"), "{out}");
    let (_, out, _) = run(&s, &clone, &["status"]);
    assert!(
        out.contains("nothing pending review against origin/main"),
        "{out}"
    );
}

#[test]
fn a_local_main_behind_origin_is_read_with_a_warning_naming_the_fix() {
    let s = Sandbox::new();
    let (origin, clone) = origin_and_clone(&s, "c");
    push_from_elsewhere(&s, &origin);
    s.git(&clone, &["fetch", "-q"]);
    for args in READERS.iter().chain([&["review"] as &[&str]].iter()) {
        let (_, out, err) = run(&s, &clone, args);
        assert!(
            err.contains(
                "warning: the validated branch main is 1 commit behind origin/main; reading main as it is here; update it: `git pull --ff-only`"
            ),
            "ovn {args:?}: {out}{err}"
        );
    }
    // Read again (from the cache): the warning still comes.
    let (_, _, err) = run(&s, &clone, &["payout", "1000", "-p", "drone"]);
    assert!(err.contains("1 commit behind"), "{err}");
    // From another branch, the fix does not need a switch.
    s.git(&clone, &["switch", "-q", "-c", "ana-week"]);
    let (_, _, err) = run(&s, &clone, &["report", "contributions"]);
    assert!(
        err.contains("update it: `git fetch origin main:main`"),
        "{err}"
    );
    // With --at, the validated branch is not read: no warning.
    let (_, _, err) = run(&s, &clone, &["report", "contributions", "--at", "HEAD"]);
    assert_eq!(err, "");
    // Once updated, nothing to say.
    s.git(&clone, &["fetch", "-q", "origin", "main:main"]);
    let (_, _, err) = run(&s, &clone, &["payout", "1000", "-p", "drone"]);
    assert_eq!(err, "");
}

#[test]
fn a_diverged_main_is_read_with_a_warning_to_reconcile() {
    let s = Sandbox::new();
    let (origin, clone) = origin_and_clone(&s, "c");
    push_from_elsewhere(&s, &origin);
    s.git(&clone, &["fetch", "-q"]);
    write_files(&clone, &[("notes.txt", "local\n")]);
    s.git(&clone, &["add", "-A"]);
    s.git(&clone, &["commit", "-q", "-m", "local only"]);
    let (code, _, err) = run(&s, &clone, &["payout", "1000", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "warning: the validated branch main has diverged from origin/main (1 commit only on origin/main, 1 commit only on main); reading main as it is here; reconcile them (`git switch main && git pull`) before you rely on it"
        ),
        "{err}"
    );
}

#[test]
fn a_clone_without_any_validated_branch_still_says_it_does_not_exist() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "other"]);
    s.git(&dir, &["branch", "-q", "-D", "main"]);
    let (code, _, err) = run(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the validated branch `main` does not exist in this repository"),
        "{err}"
    );
}
