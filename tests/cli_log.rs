//! `ovn log`, `ovn agent/project/resource add`, `ovn revert` and `ovn status` end to end, on
//! real git repositories in temporary directories with the clock and identity pinned.

mod common;

use std::path::Path;

use assert_cmd::prelude::*;
use common::{Sandbox, base_repo};
use predicates::prelude::*;

fn commit_count(s: &Sandbox, dir: &Path) -> usize {
    s.git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// The record files added by the last commit.
fn last_commit_files(s: &Sandbox, dir: &Path) -> Vec<String> {
    s.git(dir, &["show", "--name-status", "--format=", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn read_added(s: &Sandbox, dir: &Path) -> String {
    let files = last_commit_files(s, dir);
    assert_eq!(files.len(), 1, "one file per write: {files:?}");
    let path = files[0].strip_prefix("A\t").expect("an added file");
    std::fs::read_to_string(dir.join(path)).unwrap()
}

fn subject(s: &Sandbox, dir: &Path) -> String {
    s.git(dir, &["log", "-1", "--format=%an <%ae> %s"])
        .trim()
        .to_owned()
}

fn assert_clean(s: &Sandbox, dir: &Path) {
    assert_eq!(
        s.git(dir, &["status", "--porcelain"]),
        "",
        "git status is clean"
    );
}

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
        &["--money", "99", "--currency", "usd", "Paid in dollars"],
    );
    assert!(
        text.contains("amount = \"99.00\"\ncurrency = \"USD\"\n"),
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
fn agent_project_and_resource_add() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .args(["agent", "add", "dee", "--email", "dee@fablab.example"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^Added agent dee \(dee\) in agents/dee.toml, commit [0-9a-f]{12} on main\n$",
            )
            .unwrap(),
        );
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/dee.toml")).unwrap(),
        "id = \"dee\"\nname = \"dee\"\nkind = \"person\"\nemails = [\"dee@fablab.example\"]\n"
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> agent: add dee (dee)"
    );
    // dee can now log under their own identity.
    s.ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", "DEE@fablab.example")
        .args(["log", "1h", "First day"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(dee 1h work on drone)"));

    s.ovn(&dir)
        .args([
            "project",
            "add",
            "frame",
            "--name",
            "Drone frame",
            "--agreement",
            "drone-ve",
            "--parent",
            "drone",
            "--steward",
            "ben",
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.join("projects/frame.toml")).unwrap(),
        "id = \"frame\"\nname = \"Drone frame\"\nagreement = \"drone-ve\"\nparent = \"drone\"\nstewards = [\"ben\"]\n"
    );
    s.ovn(&dir)
        .args([
            "resource",
            "add",
            "cnc",
            "--name",
            "CNC mill",
            "--ownership",
            "pooled",
            "--owner",
            "ana=50%",
            "--owner",
            "cy=50",
            "--use-rate",
            "12.5",
            "--steward",
            "cy",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Added resource cnc (CNC mill, pooled) in resources/cnc.toml",
        ));
    assert_eq!(
        std::fs::read_to_string(dir.join("resources/cnc.toml")).unwrap(),
        "id = \"cnc\"\nname = \"CNC mill\"\nownership = \"pooled\"\nowners = [\n  { agent = \"ana\", share = \"50%\" },\n  { agent = \"cy\", share = \"50%\" },\n]\nstewards = [\"cy\"]\nuse_rate = \"12.5\"\n"
    );
    s.ovn(&dir)
        .args(["resource", "add", "lathe", "--owner", "ben"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(dir.join("resources/lathe.toml")).unwrap().contains("ownership = \"individual\"\nowners = [\n  { agent = \"ben\", share = \"100%\" },\n]\n"));
    s.ovn(&dir)
        .args(["resource", "add", "space", "--ownership", "commons"])
        .assert()
        .success();
    s.ovn(&dir).arg("check").assert().success();
    assert_clean(&s, &dir);
}

#[test]
fn bad_additions_are_refused() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    let refused = |args: &[&str], needle: &str| {
        s.ovn(&dir)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    };
    refused(
        &["agent", "add", "ana"],
        "agent `ana` already exists (agents/ana.toml)",
    );
    refused(&["agent", "add", "Dee"], "ids are lowercase: dee");
    refused(
        &["agent", "add", "dee", "--email", "ben@fablab.example"],
        "email ben@fablab.example already belongs to agent `ben`",
    );
    refused(
        &["agent", "add", "dee", "--email", "not-an-email"],
        "is not an email address",
    );
    refused(
        &["project", "add", "lab", "--agreement", "drone-v"],
        "did you mean `drone-ve`?",
    );
    refused(
        &["project", "add", "lab", "--steward", "bem"],
        "did you mean `ben`?",
    );
    refused(
        &[
            "resource", "add", "cnc", "--owner", "ana=50%", "--owner", "cy=40%",
        ],
        "the owners' shares sum to 90%, not 100%",
    );
    refused(
        &[
            "resource",
            "add",
            "cnc",
            "--ownership",
            "pooled",
            "--owner",
            "ana",
        ],
        "has no share",
    );
    refused(
        &[
            "resource",
            "add",
            "cnc",
            "--ownership",
            "commons",
            "--owner",
            "ana",
        ],
        "a commons resource has no owners",
    );
    refused(
        &["resource", "add", "cnc", "--owner", "ana=150%"],
        "not a percent from 0 to 100",
    );
    refused(
        &["resource", "add", "cnc", "--owner", "anna"],
        "did you mean `ana`?",
    );
    refused(
        &["resource", "add", "cnc", "--use-rate", "-1"],
        "--use-rate",
    );
    assert_eq!(commit_count(&s, &dir), before);
    assert_clean(&s, &dir);
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
fn status_shows_pending_review_and_uncommitted_files() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .stdout("On branch main, the validated branch: what is committed here is validated\nNo uncommitted ledger files.\n");
    s.git(&dir, &["checkout", "-q", "-b", "ana-week"]);
    s.ovn(&dir)
        .args(["log", "2h", "Routed the motor board"])
        .assert()
        .success();
    s.ovn(&dir)
        .args(["agent", "add", "dee", "--name", "Dee Okoro"])
        .assert()
        .success();
    std::fs::write(
        dir.join("agents/eve.toml"),
        "id = \"eve\"\nname = \"Eve\"\n",
    )
    .unwrap();
    let cy = dir.join("agents/cy.toml");
    let text = std::fs::read_to_string(&cy).unwrap();
    std::fs::write(&cy, text.replace("Cy Dubois", "Cy D.")).unwrap();
    let out = s
        .ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "On branch ana-week: 2 ledger files in 2 commits pending review (not on main)"
    );
    assert_eq!(
        lines[1],
        "  added   agents/dee.toml                                           agent dee (Dee Okoro)"
    );
    assert!(lines[2].starts_with("  added   contributions/2026/11/24/"));
    assert!(lines[2].ends_with("  ana 2h work on drone"), "{}", lines[2]);
    assert_eq!(
        &lines[3..],
        [
            "Not committed:",
            "  modified   agents/cy.toml",
            "  new        agents/eve.toml"
        ]
    );
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
