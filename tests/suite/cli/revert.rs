//! `ovn revert` end to end on real git repositories: the reversal record it writes and
//! commits, `--date` and `--no-commit`, a record corrected once, and refusals (exit 2, nothing
//! written). What a reversal does to recorded payouts is in `scenarios::corrections`.

use crate::common::{
    Sandbox, assert_clean, assert_same_files_but, base_repo, commit_count, read_added, run,
    snapshot, subject,
};
use assert_cmd::prelude::*;
use predicates::prelude::*;

#[test]
fn supersede_and_revert() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    // ana already has 20 h on 2026-03-10: superseding that record frees the day.
    let old = "01aaaaaaaaaaaaaaaaaaaaaaa1";
    // The date, project, agent and skill are the original's.
    s.ovn(&dir)
        .args(["log", "22h", "Routed the motor board (all of it)", "--supersedes", old])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "Supersedes 01aaaaaaaaaaaaaaaaaaaaaaa1; changed:\n  description: \"Routed the motor board\" -> \"Routed the motor board (all of it)\"\n  hours: 20h -> 22h\n",
        ));
    let text = read_added(&s, &dir);
    assert!(text.contains("date = 2026-03-10\n"), "{text}");
    assert!(text.contains("skill = \"electronics\"\n"), "{text}");
    assert!(text.ends_with(&format!("supersedes = \"{old}\"\n")));
    assert!(subject(&s, &dir).ends_with(&format!("log: ana 22h work on drone (supersedes {old})")));

    s.ovn(&dir)
        .args(["revert", "01aaaaaaaaaaaaaaaaaaaaaaa4", "--reason", "Logged the receipt twice"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(
            r"^Reverted 01aaaaaaaaaaaaaaaaaaaaaaa4 \(ben 400.00 EUR money on drone\) with [0-9a-z]{26} in contributions/2026/11/24/[0-9a-z]{26}\.toml, commit [0-9a-f]{12} on main\n$",
        )
        .unwrap());
    let text = read_added(&s, &dir);
    assert!(text.contains("agent = \"ben\"\ndate = 2026-11-24\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Logged the receipt twice\"\nreverses = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\n"), "{text}");
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> revert: 01aaaaaaaaaaaaaaaaaaaaaaa4 (ben 400.00 EUR money on drone)"
    );
    // A use reversal keeps its resource, as the format requires.
    s.ovn(&dir)
        .args([
            "revert",
            "01aaaaaaaaaaaaaaaaaaaaaaa5",
            "--reason",
            "Never printed",
        ])
        .assert()
        .success();
    assert!(read_added(&s, &dir).contains("resource = \"printer\"\nreverses = "));
    s.ovn(&dir)
        .args(["revert", "01nope", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no contribution has the id 01nope",
        ));
    s.ovn(&dir).arg("check").assert().success();
    assert_clean(&s, &dir);
}

#[test]
fn a_dated_reversal_without_commit_is_written_only() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "revert",
            "01aaaaaaaaaaaaaaaaaaaaaaa2",
            "--reason",
            "Logged twice",
            "--date",
            "2026-03-20",
            "--no-commit",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let said = predicate::str::is_match(
        r"^Reverted 01aaaaaaaaaaaaaaaaaaaaaaa2 \(ben 20h work on drone\) with [0-9a-z]{26} in contributions/2026/03/20/[0-9a-z]{26}\.toml, not committed \(--no-commit\)\n$",
    )
    .unwrap();
    assert!(said.eval(&out), "{out}");
    assert_eq!(commit_count(&s, &dir), before);
    let status = s.git(&dir, &["status", "--porcelain"]);
    assert_eq!(status, "?? contributions/2026/03/20/\n");
    let dir_20 = dir.join("contributions/2026/03/20");
    let files: Vec<_> = std::fs::read_dir(&dir_20).unwrap().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(
        text.ends_with("agent = \"ben\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Logged twice\"\nreverses = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\n"),
        "{text}"
    );
}

#[test]
fn a_record_is_reverted_once_and_bad_input_writes_nothing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .args([
            "revert",
            "01aaaaaaaaaaaaaaaaaaaaaaa2",
            "--reason",
            "Logged twice",
        ])
        .assert()
        .success();
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> revert: 01aaaaaaaaaaaaaaaaaaaaaaa2 (ben 20h work on drone)"
    );
    let before = snapshot(&dir);
    for (args, needle) in [
        (
            &["revert", "01aaaaaaaaaaaaaaaaaaaaaaa2", "--reason", "Again"][..],
            "error: 01aaaaaaaaaaaaaaaaaaaaaaa2 is already reversed by ",
        ),
        (
            &[
                "revert",
                "01aaaaaaaaaaaaaaaaaaaaaaa3",
                "--reason",
                "x",
                "--date",
                "2026-13-01",
            ],
            "error: --date \"2026-13-01\" is not a date\n",
        ),
        (
            &["revert", "01aaaaaaaaaaaaaaaaaaaaaaa3"],
            "the following required arguments were not provided:\n  --reason <TEXT>",
        ),
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "ovn {args:?}: {out}{err}");
        assert_eq!(out, "", "ovn {args:?}");
        assert!(err.contains(needle), "ovn {args:?}: {err}");
    }
    // Reading the ledger fills the cache in .git/ovn/; the ledger and git are untouched.
    assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);
    assert_clean(&s, &dir);
}
