//! `ovn log`, `ovn agent/project/resource add`, `ovn revert` and `ovn status` end to end, on
//! real git repositories in temporary directories with the clock and identity pinned.

use crate::common;

use std::path::Path;

use crate::common::{
    Sandbox, assert_clean, base_repo, commit_count, last_commit_files, read_added, subject,
};
use assert_cmd::prelude::*;
use predicates::prelude::*;

/// Runs `ovn log ARGS` and returns the record it committed.
fn log_ok(s: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let before = commit_count(s, dir);
    s.ovn(dir)
        .arg("log")
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::is_match(
            r"^Logged [0-9a-hjkmnp-tv-z]{26} \(.*\) in contributions/2026/\d\d/\d\d/[0-9a-z]{26}\.toml, commit [0-9a-f]{12} on main\n$",
        )
        .unwrap());
    assert_eq!(commit_count(s, dir), before + 1);
    assert_clean(s, dir);
    read_added(s, dir)
}

/// Runs `ovn log ARGS`, expecting a refusal with `status` that names `needle`, and that
/// nothing changed.
fn log_refused(s: &Sandbox, dir: &Path, args: &[&str], status: i32, needle: &str) {
    let before = commit_count(s, dir);
    s.ovn(dir)
        .arg("log")
        .args(args)
        .assert()
        .code(status)
        .stdout("")
        .stderr(predicate::str::contains(needle));
    assert_eq!(
        commit_count(s, dir),
        before,
        "nothing committed for {args:?}"
    );
    assert_clean(s, dir);
}

#[test]
fn log_work_in_every_duration_form() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let text = log_ok(
        &s,
        &dir,
        &["2h30m", "Routed the motor board", "-p", "drone"],
    );
    let id = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("id = ")
        .unwrap()
        .trim_matches('"');
    // Ids are time-sortable: the first 10 characters are OVN_NOW in milliseconds.
    assert!(id.starts_with("01m86ch3m0"), "{id}");
    assert_eq!(
        text,
        format!(
            "id = \"{id}\"\nagent = \"ana\"\ndate = 2026-11-24\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Routed the motor board\"\nhours = \"2.5\"\n"
        )
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> log: ana 2.5h work on drone"
    );
    for (form, hours) in [
        ("90m", "1.5"),
        ("1.5h", "1.5"),
        ("1:30", "1.5"),
        ("2h", "2"),
    ] {
        let text = log_ok(&s, &dir, &[form, "More work"]);
        assert!(
            text.contains(&format!("hours = \"{hours}\"\n")),
            "{form}: {text}"
        );
    }
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn minutes_are_rounded_to_four_places_and_the_output_says_so() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .args(["log", "20m", "Quick fix"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(ana 0.3333h work on drone; 20m rounded to 0.3333h)",
        ));
    assert!(read_added(&s, &dir).contains("hours = \"0.3333\"\n"));
}

#[test]
fn log_with_skill_date_evidence_and_agent() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let text = log_ok(
        &s,
        &dir,
        &[
            "3h",
            "Flight tests",
            "--skill",
            "electronics",
            "--date",
            "yesterday",
            "--evidence",
            "https://fablab.example/a",
            "--evidence",
            "https://fablab.example/b",
            "--agent",
            "ben",
        ],
    );
    assert!(
        text.contains("agent = \"ben\"\ndate = 2026-11-23\n"),
        "{text}"
    );
    assert!(text.contains("skill = \"electronics\"\n"));
    assert!(
        text.contains("evidence = [\"https://fablab.example/a\", \"https://fablab.example/b\"]\n")
    );
    assert!(last_commit_files(&s, &dir)[0].contains("contributions/2026/11/23/"));
    // The author is still the user's git identity.
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> log: ben 3h work on drone"
    );
    let text = log_ok(&s, &dir, &["1h", "Older", "--date", "2026-03-14"]);
    assert!(text.contains("date = 2026-03-14\n"));
}

#[test]
fn log_money_material_use_and_other_kinds() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let text = log_ok(
        &s,
        &dir,
        &["--money", "120.50", "Bought sensors", "-p", "drone"],
    );
    assert!(
        text.contains("kind = \"money\"\ndescription = \"Bought sensors\"\namount = \"120.50\"\n")
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> log: ana 120.50 EUR money on drone"
    );

    let text = log_ok(
        &s,
        &dir,
        &[
            "--material",
            "80",
            "--quantity",
            "4",
            "--unit",
            "pcs",
            "Carbon frames",
        ],
    );
    assert!(
        text.contains("amount = \"80.00\"\nquantity = \"4\"\nunit = \"pcs\"\n"),
        "{text}"
    );

    let text = log_ok(&s, &dir, &["--use", "printer", "3h", "Printed arms"]);
    assert!(text.contains(
        "kind = \"use\"\ndescription = \"Printed arms\"\nhours = \"3\"\nresource = \"printer\"\n"
    ));
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> log: ana 3h use of printer on drone"
    );

    let text = log_ok(
        &s,
        &dir,
        &["--kind", "care", "2h", "Hosted the open evening"],
    );
    assert!(text.contains("kind = \"care\"\n"));
    let text = log_ok(
        &s,
        &dir,
        &["--kind", "cite", "--amount", "50", "Cited the frame design"],
    );
    assert!(text.contains(
        "kind = \"cite\"\ndescription = \"Cited the frame design\"\namount = \"50.00\"\n"
    ));
    let text = log_ok(
        &s,
        &dir,
        &[
            "--money",
            "99",
            "--currency",
            "usd",
            "--rate",
            "0.92",
            "Paid in dollars",
        ],
    );
    assert!(
        text.contains("amount = \"99.00\"\ncurrency = \"USD\"\nrate = \"0.92\"\n"),
        "{text}"
    );
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn bad_durations_are_refused() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    log_refused(
        &s,
        &dir,
        &["0h", "x"],
        2,
        "duration \"0h\" is not more than zero",
    );
    log_refused(
        &s,
        &dir,
        &["-2h", "x"],
        2,
        "duration \"-2h\" is not more than zero",
    );
    log_refused(
        &s,
        &dir,
        &["25h", "x"],
        2,
        "more than the 24 hours of a day",
    );
    log_refused(
        &s,
        &dir,
        &["2x", "x"],
        2,
        "hint: durations look like 2h30m, 90m, 1.5h or 1:30",
    );
    log_refused(
        &s,
        &dir,
        &["2", "x"],
        2,
        "write 2h for hours or 2m for minutes",
    );
    log_refused(
        &s,
        &dir,
        &["1.5m", "x"],
        2,
        "minutes that are not a whole number",
    );
    log_refused(
        &s,
        &dir,
        &["1.00001h", "x"],
        2,
        "more than 4 decimal places",
    );
    log_refused(
        &s,
        &dir,
        &["Routed the board"],
        2,
        "how long? give a duration",
    );
    log_refused(
        &s,
        &dir,
        &["--money", "10", "2h", "x"],
        2,
        "has no duration",
    );
}

#[test]
fn bad_references_get_suggestions() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    log_refused(
        &s,
        &dir,
        &["2h", "x", "-p", "dron"],
        2,
        "error: unknown project `dron`\n  hint: did you mean `drone`?",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--agent", "anna"],
        2,
        "unknown agent `anna`\n  hint: did you mean `ana`?",
    );
    log_refused(
        &s,
        &dir,
        &["--use", "printr", "2h", "x"],
        2,
        "did you mean `printer`?",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--skill", "electronic"],
        2,
        "did you mean `electronics`?",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--agent", "Ana"],
        2,
        "ids are lowercase: ana",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--supersedes", "01zzzzzzzzzzzzzzzzzzzzzzzz"],
        2,
        "no contribution has this id",
    );
}

#[test]
fn an_identity_without_an_agent_is_told_how_to_add_one() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", "dee@fablab.example")
        .args(["log", "2h", "Sanded the frames"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: your git identity <dee@fablab.example> belongs to no agent of this ledger",
        ))
        .stderr(predicate::str::contains(
            "`ovn agent add ID --email dee@fablab.example`, or add \"dee@fablab.example\" to `emails` in agents/ID.toml",
        ));
    assert_clean(&s, &dir);
}

#[test]
fn bad_dates_amounts_and_texts_are_refused() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--date", "2026-11-25"],
        2,
        "--date 2026-11-25 is in the future (today is 2026-11-24)",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--date", "2026-02-30"],
        2,
        "is not a date",
    );
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--date", "tomorrow"],
        2,
        "is not a date",
    );
    log_refused(
        &s,
        &dir,
        &["--money", "12.505", "x"],
        2,
        "--money 12.505 has 3 decimal places; EUR amounts have at most 2",
    );
    log_refused(&s, &dir, &["--money", "1,20", "x"], 2, "is not an amount");
    log_refused(&s, &dir, &["--money", "-5", "x"], 2, "not more than zero");
    log_refused(&s, &dir, &["2h", "  "], 2, "the description is empty");
    log_refused(
        &s,
        &dir,
        &["2h", "bad\u{202E}text"],
        2,
        "forbidden character U+202E (RIGHT-TO-LEFT OVERRIDE)",
    );
    log_refused(
        &s,
        &dir,
        &["--kind", "Care", "2h", "x"],
        2,
        "is not a lowercase word",
    );
    log_refused(
        &s,
        &dir,
        &["--kind", "care", "x"],
        2,
        "needs a duration or --amount",
    );
}

#[test]
fn a_day_over_24_hours_is_refused_with_the_check_diagnostic() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    // BASE has ana's 20 h on 2026-03-10.
    log_refused(
        &s,
        &dir,
        &["5h", "More", "--date", "2026-03-10"],
        1,
        "error[day-overflow]: ana has 25 hours on 2026-03-10 across 2 contributions; a day has 24 hours",
    );
    s.ovn(&dir)
        .args(["log", "5h", "More", "--date", "2026-03-10"])
        .assert()
        .stderr(predicate::str::contains(
            "error: nothing written: the new record would bring 1 problem",
        ))
        .stderr(predicate::str::contains("hours = \"5\"\n  |         ^^^"));
    // Exactly 24 is allowed; use does not count towards the day.
    log_ok(&s, &dir, &["4h", "More", "--date", "2026-03-10"]);
    log_ok(
        &s,
        &dir,
        &["--use", "printer", "5h", "Printing", "--date", "2026-03-10"],
    );
}

#[test]
fn project_may_be_omitted_only_when_there_is_one() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    log_ok(&s, &dir, &["1h", "x"]);
    s.ovn(&dir)
        .args(["project", "add", "lab", "--name", "Lab"])
        .assert()
        .success();
    log_refused(
        &s,
        &dir,
        &["1h", "x"],
        2,
        "give -p PROJECT, one of: drone, lab",
    );
    log_ok(&s, &dir, &["1h", "x", "-p", "lab"]);
}

#[test]
fn the_users_staged_and_unstaged_changes_are_untouched() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    std::fs::write(dir.join("NOTES.md"), "draft\n").unwrap();
    s.git(&dir, &["add", "NOTES.md"]);
    let ben = dir.join("agents/ben.toml");
    let edited = std::fs::read_to_string(&ben)
        .unwrap()
        .replace("Ben Okafor", "Ben O.");
    std::fs::write(&ben, &edited).unwrap();
    std::fs::write(dir.join("scratch.txt"), "untracked\n").unwrap();
    let status_before = s.git(&dir, &["status", "--porcelain"]);

    s.ovn(&dir)
        .args(["log", "2h", "Routed the motor board"])
        .assert()
        .success();
    let files = last_commit_files(&s, &dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("A\tcontributions/2026/11/24/"));
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), status_before);
    assert_eq!(
        s.git(&dir, &["diff", "--cached", "--name-only"]),
        "NOTES.md\n"
    );
    assert_eq!(std::fs::read_to_string(&ben).unwrap(), edited);
}

#[test]
fn no_commit_writes_the_file_only() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args(["log", "2h", "By hand", "--no-commit"])
        .assert()
        .success()
        .stdout(predicate::str::contains("not committed (--no-commit)"));
    assert_eq!(commit_count(&s, &dir), before);
    let status = s.git(&dir, &["status", "--porcelain", "-uall"]);
    assert!(
        status.starts_with("?? contributions/2026/11/24/"),
        "{status}"
    );
    assert_eq!(status.lines().count(), 1);
    // Judged against the working tree: an uncommitted agent can log with --no-commit.
    s.ovn(&dir)
        .args(["agent", "add", "dee", "--no-commit"])
        .assert()
        .success();
    s.ovn(&dir)
        .args(["log", "1h", "x", "--agent", "dee", "--no-commit"])
        .assert()
        .success();
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn detached_head_and_merge_in_progress_are_explained() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.git(&dir, &["checkout", "-q", "--detach"]);
    log_refused(
        &s,
        &dir,
        &["1h", "x"],
        2,
        "HEAD is detached (not on a branch): ovn does not guess",
    );
    s.git(&dir, &["checkout", "-q", "main"]);

    s.git(&dir, &["checkout", "-q", "-b", "other"]);
    std::fs::write(dir.join("README.md"), "theirs\n").unwrap();
    s.git(&dir, &["commit", "-qam", "x", "--allow-empty"]);
    s.git(&dir, &["add", "README.md"]);
    s.git(&dir, &["commit", "-qm", "theirs"]);
    s.git(&dir, &["checkout", "-q", "main"]);
    std::fs::write(dir.join("README.md"), "ours\n").unwrap();
    s.git(&dir, &["add", "README.md"]);
    s.git(&dir, &["commit", "-qm", "ours"]);
    let mut merge = std::process::Command::new("git");
    common::hermetic(&mut merge, &s.home());
    let _ = merge
        .args(["merge", "other"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args(["log", "1h", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a merge is in progress in this repository; nothing was written",
        ));
    assert_eq!(commit_count(&s, &dir), before);
}

#[test]
fn two_branches_that_log_merge_without_conflict() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.git(&dir, &["checkout", "-q", "-b", "ana-week"]);
    log_like_branch(&s, &dir, "ana-week", &["2h", "Ana's work"]);
    log_like_branch(&s, &dir, "ana-week", &["--money", "10", "Ana's money"]);
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["checkout", "-q", "-b", "ben-week"]);
    log_like_branch(
        &s,
        &dir,
        "ben-week",
        &["3h", "Ben's work", "--agent", "ben"],
    );
    s.ovn(&dir).args(["agent", "add", "dee"]).assert().success();
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-edit", "ana-week"]);
    s.git(&dir, &["merge", "-q", "--no-edit", "ben-week"]);
    assert_eq!(
        s.git(&dir, &["ls-files", "contributions/2026/11/24"])
            .lines()
            .count(),
        3
    );
    s.ovn(&dir)
        .arg("check")
        .assert()
        .success()
        .stdout("ok: 16 records, no problems\n");
    assert_clean(&s, &dir);
    log_ok(&s, &dir, &["1h", "After the merge"]);
}

fn log_like_branch(s: &Sandbox, dir: &Path, branch: &str, args: &[&str]) {
    s.ovn(dir)
        .arg("log")
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::ends_with(format!(" on {branch}\n")));
}

#[test]
fn a_bare_clone_takes_commits_straight_into_its_objects() {
    // A bare clone has no working tree and no index to keep in step: `ovn log` writes the
    // record, its trees and the commit, and moves the branch. A clone with a working tree
    // that lacks the ledger (sparse, not checked out) is still refused, because a commit
    // missing from its index would look like a staged deletion to git.
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&s.work(), &["clone", "-q", "--bare", "l", "bare.git"]);
    let bare = s.work().join("bare.git");
    let before = commit_count(&s, &bare);
    let out = s
        .ovn(&bare)
        .args(["log", "2h", "Bare soldering", "-p", "drone"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(commit_count(&s, &bare), before + 1);
    let added = s.git(&bare, &["show", "--stat", "--format=%s", "HEAD"]);
    assert!(added.contains("contributions/2026/11/24/"), "{added}");
    s.git(&bare, &["fsck", "--no-progress"]);
    s.ovn(&bare)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();

    // --no-commit has nowhere to write.
    s.ovn(&bare)
        .args(["log", "1h", "x", "-p", "drone", "--no-commit"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no ovn.toml in the working tree"));

    // A clone without a checkout keeps refusing.
    s.git(&s.work(), &["clone", "-q", "--no-checkout", "l", "nock"]);
    let nock = s.work().join("nock");
    s.ovn(&nock)
        .args(["log", "1h", "x", "-p", "drone"])
        .assert()
        .code(3);
    assert_eq!(commit_count(&s, &nock), commit_count(&s, &dir));
}

#[test]
fn durations_and_dates_as_people_write_them_and_swapped_arguments_noticed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let rec = log_ok(
        &s,
        &dir,
        &["2h30", "Routed the board", "--date", "2026-11-2"],
    );
    assert!(rec.contains("hours = \"2.5\""), "{rec}");
    assert!(rec.contains("date = 2026-11-02"), "{rec}");
    log_refused(
        &s,
        &dir,
        &["Did stuff", "2h"],
        2,
        "error: the duration comes before the description: \"2h\" is a duration, \"Did stuff\" is not\n  hint: ovn log 2h \"Did stuff\"\n",
    );
    // A month is no day.
    log_refused(
        &s,
        &dir,
        &["2h", "x", "--date", "2026-11"],
        2,
        "is not a date",
    );
}
