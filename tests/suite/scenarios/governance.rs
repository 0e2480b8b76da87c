//! `ovn review` against hostile pull requests: governance changes judged by the base's rules
//! (policy, identities, stewards), and who did what (authors mapped through the base's
//! agents, records logged for others, unknown identities, far dates, gitlinks, symlinks and
//! unreadable files), each flagged with exit 1, on real repositories with several identities.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{Sandbox, base_repo, git_as, write_files};
use assert_cmd::prelude::*;

const A1: &str = "01aaaaaaaaaaaaaaaaaaaaaaa1"; // ana's work
const ANA: &str = "ana@fablab.example";
const BEN: &str = "ben@fablab.example";
const CY: &str = "cy@fablab.example";
const EVE: &str = "eve@elsewhere.example";

fn commit_as(s: &Sandbox, dir: &Path, email: &str, message: &str) {
    s.git(dir, &["add", "-A"]);
    git_as(s, dir, email, &["commit", "-qm", message]);
}

fn review(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = s
        .ovn(dir)
        .args(["review", "--no-impact"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn review_json(s: &Sandbox, dir: &Path) -> serde_json::Value {
    let (_, out) = review(s, dir, &["--format", "json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The worked example with `policy` appended to ovn.toml on main, and a branch `pr`.
fn repo_with_policy(s: &Sandbox, policy: &str) -> PathBuf {
    let dir = base_repo(s, "l");
    if !policy.is_empty() {
        let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
        toml.push_str(policy);
        std::fs::write(dir.join("ovn.toml"), toml).unwrap();
        s.git(&dir, &["commit", "-qam", "policy"]);
    }
    s.git(&dir, &["switch", "-q", "-c", "pr"]);
    dir
}

fn edit(dir: &Path, path: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    assert!(text.contains(from), "{path}: {text}");
    std::fs::write(dir.join(path), text.replace(from, to)).unwrap();
}

#[test]
fn a_benign_pull_request_shows_who_did_what_and_exits_0() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    s.ovn(&dir)
        .args(["log", "4h", "Soldered the harness", "-p", "drone"])
        .args(["--date", "2026-11-20"])
        .output()
        .unwrap();
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Who did what (1):"), "{out}");
    assert!(out.contains("by ana, for ana"), "{out}");
    assert!(out.contains("      Soldered the harness"), "{out}");
    assert!(!out.contains("Governance changes"), "{out}");
    assert!(out.contains("Policy violations: none"), "{out}");
    let json = review_json(&s, &dir);
    assert_eq!(json["records"][0]["author"], "ana");
    assert_eq!(json["records"][0]["description"], "Soldered the harness");
    assert_eq!(json["governance"].as_array().unwrap().len(), 0);
}

#[test]
fn lowering_the_policy_is_a_governance_change_judged_by_the_base() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\nsigned = true\n");
    edit(
        &dir,
        "ovn.toml",
        "approvals = 1\nsigned = true\n",
        "approvals = 0\n",
    );
    // cy stewards no project: under the base's policy the change is not validated.
    commit_as(&s, &dir, CY, "relax the policy");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Governance changes (1), judged by the base's rules:"),
        "{out}"
    );
    assert!(
        out.contains("[NOT] ovn.toml  validation policy: approvals 1, stewards false, signed true"),
        "{out}"
    );
    assert!(
        out.contains("-> approvals 0, stewards false, signed false"),
        "{out}"
    );
    assert!(
        out.contains("needs a steward of a project at the base"),
        "{out}"
    );
    let json = review_json(&s, &dir);
    assert_eq!(json["governance"][0]["validated"], false);
    assert!(
        json["violations"].as_array().unwrap().iter().any(|v| v
            .as_str()
            .unwrap()
            .starts_with("governance change: validation policy")),
        "{json}"
    );
}

#[test]
fn a_policy_change_by_a_steward_is_validated_and_still_listed() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    edit(&dir, "ovn.toml", "approvals = 1\n", "approvals = 2\n");
    commit_as(&s, &dir, ANA, "two approvals");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[ok ] ovn.toml  validation policy"), "{out}");
    assert!(out.contains("validated: made by ana"), "{out}");
}

#[test]
fn a_key_added_to_another_agent_and_an_approval_signed_with_it_are_flagged() {
    let s = Sandbox::new();
    let key = |name: &str| {
        let path = s.home().join(format!("key-{name}"));
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(ok.success());
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        (path, public.trim().to_owned())
    };
    let (_, ben_pub) = key("ben");
    let (eve_key, eve_pub) = key("eve");
    let dir = base_repo(&s, "l");
    let mut ben = std::fs::read_to_string(dir.join("agents/ben.toml")).unwrap();
    ben.push_str(&format!("keys = [\"{ben_pub}\"]\n"));
    std::fs::write(dir.join("agents/ben.toml"), &ben).unwrap();
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str("\n[validation]\napprovals = 1\nsigned = true\n");
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "signed approvals"]);
    s.git(&dir, &["switch", "-q", "-c", "pr"]);
    // cy slips her key into ben's keys, then approves ana's work as ben, signed with it.
    std::fs::write(
        dir.join("agents/ben.toml"),
        ben.replace(&ben_pub, &format!("{ben_pub}\", \"{eve_pub}")),
    )
    .unwrap();
    commit_as(&s, &dir, CY, "keys");
    s.ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", BEN)
        .args(["approve", A1, "--no-commit"])
        .output()
        .unwrap();
    s.git(&dir, &["add", "-A"]);
    git_as(
        &s,
        &dir,
        BEN,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={}", eve_key.display()),
            "commit",
            "-S",
            "-qm",
            "approve",
        ],
    );
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[NOT] agents/ben.toml  keys of ben: 1 added, 0 removed"),
        "{out}"
    );
    assert!(
        out.contains("not validated: made by cy, who may not"),
        "{out}"
    );
    assert!(
        out.contains("is not signed with a key the base lists on ben"),
        "{out}"
    );
}

#[test]
fn an_agent_added_in_the_same_change_approves_nothing() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    write_files(
        &dir,
        &[(
            "agents/eve.toml",
            &format!("id = \"eve\"\nname = \"Eve\"\nkind = \"person\"\nemails = [\"{EVE}\"]\n"),
        )],
    );
    commit_as(&s, &dir, EVE, "join");
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", EVE)
        .args(["approve", A1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[NOT] agents/eve.toml  new agent eve"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "authored by <{EVE}>, which no agent lists at the base"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("was added by <{EVE}>, which no agent lists")),
        "{out}"
    );
    assert!(out.contains(&format!("by <{EVE}>, approves {A1}")), "{out}");
}

#[test]
fn stewards_and_emails_changes_are_listed_even_under_the_default_policy() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    edit(
        &dir,
        "projects/drone.toml",
        "[\"ana\", \"ben\"]",
        "[\"cy\"]",
    );
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"{EVE}\"]"),
    );
    commit_as(&s, &dir, CY, "take over");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Governance changes (2)"), "{out}");
    assert!(
        out.contains("stewards of project drone: ana, ben -> cy"),
        "{out}"
    );
    assert!(
        out.contains(&format!("emails of ben: {BEN} -> {EVE}")),
        "{out}"
    );
    assert!(
        out.contains("validated by merging: the base's policy asks for no approvals"),
        "{out}"
    );
    let md = {
        let (_, md) = review(&s, &dir, &["--format", "markdown"]);
        md
    };
    assert!(md.contains("#### Governance changes"), "{md}");
    assert!(md.contains("stewards of project drone"), "{md}");
}

#[test]
fn an_email_change_by_someone_else_is_not_validated_under_a_policy() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"{EVE}\"]"),
    );
    commit_as(&s, &dir, CY, "take over ben");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[NOT] agents/ben.toml  emails of ben"),
        "{out}"
    );
    assert!(
        out.contains("needs ben or a steward, as the base knows them"),
        "{out}"
    );
    // The same change by ben himself is validated.
    s.git(&dir, &["reset", "-q", "--hard", "main"]);
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        "[\"ben@new.example\"]",
    );
    commit_as(&s, &dir, BEN, "new address");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[ok ] agents/ben.toml  emails of ben"),
        "{out}"
    );
}

#[test]
fn work_logged_for_another_agent_or_by_an_unknown_identity_is_flagged() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    for email in [EVE, ANA] {
        let out = s
            .ovn(&dir)
            .env("GIT_AUTHOR_EMAIL", email)
            .args(["log", "2h", "Did things", "-p", "drone", "--agent", "ben"])
            .args(["--date", "2026-11-23"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("by <{EVE}>, for ben")), "{out}");
    assert!(
        out.contains(&format!(
            "! unknown identity: authored by <{EVE}>, which no agent lists at the base"
        )),
        "{out}"
    );
    assert!(out.contains("by ana, for ben"), "{out}");
    assert!(out.contains("! logged for ben by ana"), "{out}");
    let json = review_json(&s, &dir);
    let records = json["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{json}");
    assert!(records.iter().all(|r| r["agent"] == "ben"), "{json}");
}

#[test]
fn contributions_dated_far_from_their_commit_are_flagged() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    let record = |id: &str, date: &str| {
        let (y, rest) = date.split_at(4);
        let (m, d) = (&rest[1..3], &rest[4..6]);
        (
            format!("contributions/{y}/{m}/{d}/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"ana\"\ndate = {date}\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Time travel\"\nhours = \"2\"\n"
            ),
        )
    };
    let files = [
        record("01cccccccccccccccccccccc01", "2099-01-01"),
        record("01cccccccccccccccccccccc02", "2016-05-01"),
        record("01cccccccccccccccccccccc03", "2026-10-01"),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &refs);
    commit_as(&s, &dir, ANA, "old and new work");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("dated 2099-01-01, 26336 days from its commit (2026-11-24): more than max_date_skew_days = 90"),
        "{out}"
    );
    assert!(out.contains("dated 2016-05-01"), "{out}");
    // 54 days: within the default threshold.
    assert!(!out.contains("dated 2026-10-01"), "{out}");
    // A network may ask for less; the threshold is the base's.
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\nmax_date_skew_days = 30\n");
    s.ovn(&dir).arg("check").assert().success();
    write_files(&dir, &refs[2..]);
    commit_as(&s, &dir, ANA, "October");
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("dated 2026-10-01, 54 days from its commit (2026-11-24): more than max_date_skew_days = 30"),
        "{out}"
    );
}

#[test]
fn gitlinks_symlinks_and_unreadable_files_are_flagged() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    std::os::unix::fs::symlink("/proc/self/environ", dir.join("agents/env.toml")).unwrap();
    write_files(
        &dir,
        &[(
            "contributions/2026/11/20/01dddddddddddddddddddddd01.toml",
            "this is = = not toml\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    // A gitlink has nothing in the working tree: staged by hand, after `add -A`.
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    s.git(
        &dir,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{},contributions/2026/11/20/sub", head.trim()),
        ],
    );
    git_as(&s, &dir, ANA, &["commit", "-qm", "odd entries"]);
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("contributions/2026/11/20/sub: a gitlink (submodule) in the ledger"),
        "{out}"
    );
    assert!(
        out.contains("agents/env.toml: a symlink in the ledger"),
        "{out}"
    );
    assert!(
        out.contains(
            "contributions/2026/11/20/01dddddddddddddddddddddd01.toml: not a readable record"
        ),
        "{out}"
    );
    // Nothing the symlink points to is read.
    assert!(!out.contains("HOME="), "{out}");
}

#[test]
fn check_history_reports_a_merged_governance_change_that_was_not_validated() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    // ben changes his own address: validated under the rules before it.
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        "[\"ben@new.example\"]",
    );
    commit_as(&s, &dir, BEN, "new address");
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge pr", "pr"]);
    let (code, out, _) = common::run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 0, "{out}");
    // cy takes over ana's identity on a branch that is merged.
    s.git(&dir, &["switch", "-q", "-c", "takeover"]);
    edit(
        &dir,
        "agents/ana.toml",
        "[\"ana@fablab.example\"]",
        &format!("[\"{EVE}\"]"),
    );
    commit_as(&s, &dir, CY, "take over ana");
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(
        &dir,
        &["merge", "-q", "--no-ff", "-m", "merge takeover", "takeover"],
    );
    let (code, out, _) = common::run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "brings a governance change that was not validated under the rules before it: emails of ana: {ANA} -> {EVE} (not validated: made by cy, who may not"
        )),
        "{out}"
    );
}

fn merge(s: &Sandbox, dir: &Path, branch: &str) {
    s.git(dir, &["switch", "-q", "main"]);
    s.git(
        dir,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("merge {branch}"),
            branch,
        ],
    );
}

/// Contributions `ovn payout` leaves out for want of approvals.
fn awaiting(s: &Sandbox, dir: &Path) -> Vec<String> {
    let (code, out, err) = common::run(s, dir, &["payout", "3000", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    json["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["reason"] == "awaiting approval")
        .map(|l| l["contribution"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_merged_policy_change_that_was_not_validated_does_not_apply() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    assert_eq!(awaiting(&s, &dir).len(), 5);
    edit(&dir, "ovn.toml", "approvals = 1\n", "approvals = 0\n");
    commit_as(&s, &dir, CY, "no more approvals");
    merge(&s, &dir, "pr");
    // The files say 0; the rules in force still ask for one approval.
    assert_eq!(awaiting(&s, &dir).len(), 5);
    let (code, out, err) = common::run(
        &s,
        &dir,
        &["payout", "3000", "-p", "drone", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["left_out"].as_array().unwrap().len(), 5, "{json}");
    let (_, out, _) = common::run(&s, &dir, &["status"]);
    assert!(out.contains(A1), "{out}");
    let (code, out, _) = common::run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("validation policy: approvals 1"), "{out}");
    // The same change made by a steward applies.
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);
    s.git(&dir, &["switch", "-q", "-c", "pr2"]);
    edit(&dir, "ovn.toml", "approvals = 1\n", "approvals = 0\n");
    commit_as(&s, &dir, ANA, "no more approvals");
    merge(&s, &dir, "pr2");
    assert!(awaiting(&s, &dir).is_empty());
}

#[test]
fn an_email_added_without_validation_approves_nothing_after_the_merge() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    // cy adds eve's address to ben's emails; merged, then eve approves ana's work as ben.
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"ben@fablab.example\", \"{EVE}\"]"),
    );
    commit_as(&s, &dir, CY, "ben's other address");
    merge(&s, &dir, "pr");
    s.git(&dir, &["switch", "-q", "-c", "approval"]);
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", EVE)
        .args(["approve", A1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    merge(&s, &dir, "approval");
    assert!(awaiting(&s, &dir).contains(&A1.to_owned()));
    // Had ben added it himself, the approval would count.
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"ben@fablab.example\", \"{EVE}\"]"),
    );
    commit_as(&s, &dir, BEN, "my other address");
    merge(&s, &dir, "pr");
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", EVE)
        .args(["approve", A1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!awaiting(&s, &dir).contains(&A1.to_owned()));
}

#[test]
fn an_author_email_with_terminal_escapes_is_shown_escaped() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "");
    let forged = "x\u{1b}]0;owned\u{7}\u{202e}@evil.example";
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", forged)
        .args(["log", "2h", "Did things", "-p", "drone", "--agent", "ben"])
        .args(["--date", "2026-11-23"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, out) = review(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    let who = out
        .split("Who did what")
        .nth(1)
        .and_then(|w| w.split("Policy violations").next())
        .unwrap();
    assert!(who.contains("unknown identity"), "{out}");
    assert!(
        !who.contains('\u{1b}') && !who.contains('\u{7}') && !who.contains('\u{202e}'),
        "{who:?}"
    );
}

#[test]
fn an_email_added_in_the_same_change_as_an_approval_approves_nothing() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    // ana, a steward, may change ben's emails; but in the same change an approval by the
    // new address (of ana's own work) must not count once merged.
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"ben@fablab.example\", \"{EVE}\"]"),
    );
    commit_as(&s, &dir, ANA, "ben's other address");
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", EVE)
        .args(["approve", A1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    merge(&s, &dir, "pr");
    assert!(awaiting(&s, &dir).contains(&A1.to_owned()));
    let (_, out, _) = common::run(&s, &dir, &["status"]);
    assert!(out.contains(A1), "{out}");
}

#[test]
fn a_review_judges_by_the_rules_in_force_at_its_base_not_by_a_policy_merged_unvalidated() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    // cy, no steward, lowers the policy; merged without being validated.
    edit(&dir, "ovn.toml", "approvals = 1\n", "approvals = 0\n");
    commit_as(&s, &dir, CY, "no more approvals");
    merge(&s, &dir, "pr");
    // A later change of ben's emails by cy is judged under approvals = 1, still in force.
    s.git(&dir, &["switch", "-q", "-c", "pr2"]);
    edit(
        &dir,
        "agents/ben.toml",
        "[\"ben@fablab.example\"]",
        &format!("[\"ben@fablab.example\", \"{EVE}\"]"),
    );
    commit_as(&s, &dir, CY, "ben's other address");
    let (code, out) = review(&s, &dir, &["main..pr2"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[NOT] agents/ben.toml  emails of ben"),
        "{out}"
    );
    assert!(!out.contains("validated by merging"), "{out}");
}

#[test]
fn the_payout_impact_of_a_review_pays_what_payout_pays_under_an_approvals_policy() {
    let s = Sandbox::new();
    let dir = repo_with_policy(&s, "\n[validation]\napprovals = 1\n");
    let (code, out, err) = common::run(
        &s,
        &dir,
        &[
            "payout", "3000", "-p", "drone", "--at", "main", "--format", "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let payout: serde_json::Value = serde_json::from_str(&out).unwrap();
    let totals: Vec<(String, String)> = payout["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["agent"].as_str().unwrap().to_owned(),
                t["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    write_files(
        &dir,
        &[(
            "contributions/2026/03/14/01bbbbbbbbbbbbbbbbbbbbbbd0.toml",
            "id = \"01bbbbbbbbbbbbbbbbbbbbbbd0\"\nagent = \"ben\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Frame\"\nhours = \"3\"\n",
        )],
    );
    commit_as(&s, &dir, BEN, "frame");
    let out = s
        .ovn(&dir)
        .args(["review", "--amount", "3000", "--format", "json"])
        .output()
        .unwrap();
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let before: Vec<(String, String)> = review["impact"][0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["before"] != "0.00")
        .map(|a| {
            (
                a["agent"].as_str().unwrap().to_owned(),
                a["before"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(before, totals, "{review}");
}
