//! Peer validation end to end: the `[validation]` policy, `ovn approve`, validation status in
//! `ovn status` and `ovn payout`, `ovn review` and `ovn check --history`, on real git
//! repositories with several identities (GIT_AUTHOR_EMAIL per command).

use crate::common;

use std::path::Path;

use crate::common::{Sandbox, approve, base_repo, git_as, policy_repo, ssh_key};
use assert_cmd::prelude::*;
use predicates::prelude::*;

const A1: &str = "01aaaaaaaaaaaaaaaaaaaaaaa1"; // ana, 20 h electronics
const A2: &str = "01aaaaaaaaaaaaaaaaaaaaaaa2"; // ben, 20 h
const A5: &str = "01aaaaaaaaaaaaaaaaaaaaaaa5"; // cy, printer 10 h

const BEN: &str = "ben@fablab.example";
const CY: &str = "cy@fablab.example";

fn payout_json(s: &Sandbox, dir: &Path) -> serde_json::Value {
    let out = s
        .ovn(dir)
        .args(["payout", "3000", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn left_out(json: &serde_json::Value) -> Vec<(String, String)> {
    json["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["contribution"].as_str().unwrap().to_owned(),
                l["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_policy_asking_for_more_approvals_than_other_agents_is_a_problem() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 4); // four agents: at most three others
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "asks for 4 approvals, but a contributor has at most 3 other agents",
        ));
}

#[test]
fn payout_counts_only_approved_contributions_and_says_why_it_left_the_rest_out() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    let json = payout_json(&s, &dir);
    let out = left_out(&json);
    assert_eq!(out.len(), 5, "{out:?}");
    assert!(out.iter().all(|(_, r)| r == "awaiting approval"), "{out:?}");

    assert!(approve(&s, &dir, BEN, &[A1, A5]).status.success());
    assert!(
        approve(
            &s,
            &dir,
            CY,
            &[
                "01aaaaaaaaaaaaaaaaaaaaaaa2",
                "01aaaaaaaaaaaaaaaaaaaaaaa3",
                "01aaaaaaaaaaaaaaaaaaaaaaa4"
            ]
        )
        .status
        .success()
    );
    let json = payout_json(&s, &dir);
    assert_eq!(left_out(&json), Vec::<(String, String)>::new());
    // The worked example again, once everything is approved.
    let total: Vec<(String, String)> = json["totals"]
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
    assert!(
        total.contains(&("ben".to_owned(), "1501.06".to_owned())),
        "{total:?}"
    );
    s.ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Every contribution on main is validated.",
        ));
}

#[test]
fn an_edit_voids_earlier_approvals() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    assert!(approve(&s, &dir, CY, &[A2]).status.success());
    let path = dir.join("contributions/2026/03/11/01aaaaaaaaaaaaaaaaaaaaaaa2.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("hours = \"20\"", "hours = \"24\"");
    std::fs::write(&path, text).unwrap();
    s.git(&dir, &["commit", "-qam", "ben: more hours"]);
    s.ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{A2}  ben 24h work on drone  awaiting approval (0 of 1)"
        )))
        .stdout(predicate::str::contains(
            "does not count: the record was edited after the approval",
        ));
}

#[test]
fn an_approval_added_under_the_contributors_identity_does_not_count() {
    // Written by hand (ovn approve refuses it) and committed by the contributor.
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    assert!(approve(&s, &dir, CY, &[A2]).status.success());
    // Cy's approval file, copied under a new id and committed by ben for his own record.
    let files = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    let cy_file = files.trim();
    let text = std::fs::read_to_string(dir.join(cy_file)).unwrap();
    let forged_id = "01m85wdw11aaaaaaaaaaaaaaaa";
    let id_line = text.lines().next().unwrap().to_owned();
    let forged = text.replace(&id_line, &format!("id = \"{forged_id}\""));
    std::fs::write(
        dir.join(format!("approvals/2026/11/24/{forged_id}.toml")),
        forged,
    )
    .unwrap();
    s.git(&dir, &["add", "-A"]);
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let ok = git
        .env("GIT_AUTHOR_EMAIL", BEN)
        .args(["commit", "-qm", "approve my own"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(ok.success());
    s.ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "approval {forged_id} of {A2} does not count: self-approval"
        )));
}

fn review(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = s.ovn(dir).arg("review").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn review_of_a_branch_shows_the_new_record_and_who_gains() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "ana-week"]);
    s.ovn(&dir)
        .args([
            "log",
            "4h",
            "Soldered the harness",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    let (code, out, err) = review(&s, &dir, &["--amount", "3000"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Added (1):"), "{out}");
    assert!(out.contains("ana 4h work on drone"), "{out}");
    assert!(out.contains("Policy violations: none"), "{out}");
    assert!(out.contains("Payout impact on drone for 3000.00:"), "{out}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("ana ")
            && l.contains("1150.00")
            && l.contains('+')),
        "{out}"
    );
    // JSON for bots, with the same content.
    let (code, out, _) = review(&s, &dir, &["--amount", "3000", "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["added"].as_array().unwrap().len(), 1);
    let ana = json["impact"][0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "ana")
        .unwrap()
        .clone();
    assert_eq!(ana["before"], "1150.00");
    // The whole-ledger part can be left out.
    let (_, out, _) = review(&s, &dir, &["--no-impact", "--format", "markdown"]);
    assert!(out.starts_with("### Ledger review:"), "{out}");
    assert!(!out.contains("Payout impact"), "{out}");
}

#[test]
fn review_flags_edits_and_deletions_of_validated_records_field_by_field() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "fix"]);
    let path = "contributions/2026/03/12/01aaaaaaaaaaaaaaaaaaaaaaa3.toml";
    let text = std::fs::read_to_string(dir.join(path))
        .unwrap()
        .replace("hours = \"10\"", "hours = \"12\"");
    std::fs::write(dir.join(path), text).unwrap();
    std::fs::remove_file(dir.join("contributions/2026/03/13/01aaaaaaaaaaaaaaaaaaaaaaa5.toml"))
        .unwrap();
    s.git(&dir, &["commit", "-qam", "rewrite history by hand"]);
    let (code, out, _) = review(&s, &dir, &["main..fix", "--no-impact"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hours: \"10\" -> \"12\""), "{out}");
    assert!(
        out.contains("edits validated contribution 01aaaaaaaaaaaaaaaaaaaaaaa3"),
        "{out}"
    );
    assert!(
        out.contains("deletes validated contribution 01aaaaaaaaaaaaaaaaaaaaaaa5"),
        "{out}"
    );
    assert!(out.contains("Removed (1):"), "{out}");
}

#[test]
fn review_flags_a_self_approval_and_unknown_references() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "b"]);
    // cy approves ben's record through ovn; then ben copies it as his own approval.
    assert!(approve(&s, &dir, CY, &[A2]).status.success());
    let files = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    let text = std::fs::read_to_string(dir.join(files.trim())).unwrap();
    let forged_id = "01m85wdw11bbbbbbbbbbbbbbbb";
    let first = text.lines().next().unwrap().to_owned();
    std::fs::write(
        dir.join(format!("approvals/2026/11/24/{forged_id}.toml")),
        text.replace(&first, &format!("id = \"{forged_id}\"")),
    )
    .unwrap();
    common::write_files(
        &dir,
        &[(
            "contributions/2026/11/20/01bbbbbbbbbbbbbbbbbbbbbbb1.toml",
            "id = \"01bbbbbbbbbbbbbbbbbbbbbbb1\"\nagent = \"dee\"\ndate = 2026-11-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Ghost work\"\nhours = \"2\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    git_as(&s, &dir, BEN, &["commit", "-qm", "my own approval"]);
    let (code, out, _) = review(&s, &dir, &["--no-impact"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "self-approval: ben approved their own contribution {A2} (approval {forged_id})"
        )),
        "{out}"
    );
    assert!(out.contains("`agent` refers to unknown agent dee"), "{out}");
    // cy's own approval is fine.
    assert_eq!(out.matches("self-approval").count(), 1, "{out}");
}

#[test]
fn review_refuses_bad_ranges_with_exit_2() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    for bad in ["main", "main...HEAD", "..HEAD", "main..nope"] {
        let (code, _, err) = review(&s, &dir, &[bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    s.git(&dir, &["checkout", "-q", "--orphan", "other"]);
    s.git(&dir, &["commit", "-qm", "unrelated"]);
    let (code, _, err) = review(&s, &dir, &["main..other"]);
    assert_eq!(code, 2);
    assert!(err.contains("share no history"), "{err}");
    let (code, _, err) = review(&s, &dir, &["--amount", "-5"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_impact_amount_defaults_to_the_last_recorded_payout() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.ovn(&dir)
        .args([
            "payout",
            "1000",
            "--record",
            "--date",
            "2026-11-01",
            "--memo",
            "INV-1",
        ])
        .assert()
        .success();
    s.git(&dir, &["switch", "-q", "-c", "b"]);
    s.ovn(&dir)
        .args([
            "log",
            "4h",
            "Soldered",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    let (_, out, _) = review(&s, &dir, &[]);
    assert!(out.contains("Payout impact on drone for 1000.00:"), "{out}");

    // The base's totals for that amount are now kept; the next review (answers cleared)
    // takes them, found by the amount the head's payouts/ folder gives, and says the same
    // as one without any cache.
    let kept = dir.join(".git/ovn/cache/totals");
    assert_eq!(
        std::fs::read_dir(&kept).unwrap().count(),
        2,
        "base and head"
    );
    std::fs::remove_dir_all(dir.join(".git/ovn/cache/answers")).unwrap();
    let again = review(&s, &dir, &[]);
    let no_cache = s.ovn(&dir).args(["--no-cache", "review"]).output().unwrap();
    assert_eq!(again.1, String::from_utf8(no_cache.stdout).unwrap());
    assert_eq!(again.1, out);
}

/// Two branches each adding a contribution and an approval, merged into main in either
/// order, give the same statuses and the same payout.
#[test]
fn two_branches_merged_in_either_order_give_the_same_outcome() {
    let outcome = |order: [&str; 2]| -> (String, String) {
        let s = Sandbox::new();
        let dir = policy_repo(&s, "l", 1);
        assert!(
            approve(
                &s,
                &dir,
                CY,
                &[
                    A1,
                    "01aaaaaaaaaaaaaaaaaaaaaaa2",
                    "01aaaaaaaaaaaaaaaaaaaaaaa3",
                    "01aaaaaaaaaaaaaaaaaaaaaaa4"
                ]
            )
            .status
            .success()
        );
        assert!(approve(&s, &dir, BEN, &[A5]).status.success());
        for (branch, email, hours) in [("b1", BEN, "3h"), ("b2", CY, "5h")] {
            s.git(&dir, &["switch", "-q", "-c", branch, "main"]);
            s.ovn(&dir)
                .env("GIT_AUTHOR_EMAIL", email)
                .args([
                    "log",
                    hours,
                    "Night shift",
                    "-p",
                    "drone",
                    "--date",
                    "2026-11-20",
                ])
                .assert()
                .success();
        }
        // ana approves both, on each branch.
        for branch in ["b1", "b2"] {
            s.git(&dir, &["switch", "-q", branch]);
            let added = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
            let stem = added
                .trim()
                .rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".toml")
                .to_owned();
            s.ovn(&dir).args(["approve", &stem]).assert().success();
        }
        s.git(&dir, &["switch", "-q", "main"]);
        for b in order {
            s.git(
                &dir,
                &["merge", "-q", "--no-ff", "-m", &format!("merge {b}"), b],
            );
        }
        let status = s.git(&dir, &["status", "--porcelain"]);
        assert_eq!(status, "");
        let st = s.ovn(&dir).arg("status").output().unwrap();
        let json = payout_json(&s, &dir);
        (
            String::from_utf8(st.stdout).unwrap(),
            json["totals"].to_string(),
        )
    };
    let a = outcome(["b1", "b2"]);
    let b = outcome(["b2", "b1"]);
    assert!(
        a.0.contains("Every contribution on main is validated."),
        "{}",
        a.0
    );
    assert_eq!(a.1, b.1);
    assert_eq!(a.0, b.0);
}

#[test]
fn a_squash_merge_keeps_the_approval_with_the_squash_author() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    s.git(&dir, &["switch", "-q", "-c", "review-ben"]);
    assert!(approve(&s, &dir, CY, &[A2]).status.success());
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--squash", "review-ben"]);
    // The forge squashes under the approver's name, as GitHub does for the PR author.
    git_as(&s, &dir, CY, &["commit", "-qm", "Approvals by cy (#12)"]);
    let json = payout_json(&s, &dir);
    let out = left_out(&json);
    assert!(!out.iter().any(|(id, _)| id == A2), "{out:?}");
}

fn history(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = s
        .ovn(dir)
        .args(["check", "--history"])
        .args(args)
        .output()
        .unwrap();
    let mut text = String::from_utf8(out.stdout).unwrap();
    text.push_str(&String::from_utf8(out.stderr).unwrap());
    (out.status.code().unwrap(), text)
}

#[test]
fn history_check_detects_a_merged_rewrite_of_a_validated_record() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (code, out) = history(&s, &dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok: 1 commit of main checked (from the root"),
        "{out}"
    );
    // Appending is fine; the next run starts at the remembered commit.
    s.ovn(&dir)
        .args(["log", "2h", "Tested", "-p", "drone", "--date", "2026-11-20"])
        .assert()
        .success();
    let (code, out) = history(&s, &dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok: 1 commit of main checked (after "),
        "{out}"
    );
    // A branch edits a validated record and is merged.
    s.git(&dir, &["switch", "-q", "-c", "fix"]);
    let path = "contributions/2026/03/12/01aaaaaaaaaaaaaaaaaaaaaaa3.toml";
    let text = std::fs::read_to_string(dir.join(path))
        .unwrap()
        .replace("hours = \"10\"", "hours = \"12\"");
    std::fs::write(dir.join(path), text).unwrap();
    git_as(&s, &dir, BEN, &["commit", "-qam", "more hours"]);
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge fix", "fix"]);
    let (code, out) = history(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(\"merge fix\", <ana@fablab.example>) modifies validated contribution 01aaaaaaaaaaaaaaaaaaaaaaa3"),
        "{out}"
    );
    // The branch itself, as a range: the commit that did it.
    let (code, out) = history(&s, &dir, &["main~1..fix"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(\"more hours\", <ben@fablab.example>) modifies"),
        "{out}"
    );
}

#[test]
fn history_check_detects_a_force_push_that_rewrote_the_validated_branch() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.ovn(&dir)
        .args(["log", "2h", "Tested", "-p", "drone", "--date", "2026-11-20"])
        .assert()
        .success();
    assert_eq!(history(&s, &dir, &[]).0, 0);
    // Rewrite: drop the last commit and commit something else in its place.
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);
    s.ovn(&dir)
        .args([
            "log",
            "3h",
            "Tested again",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    let (code, out) = history(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no longer descends from"), "{out}");
    assert!(out.contains("its history was rewritten"), "{out}");
}

#[test]
fn history_check_refuses_bad_ranges() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "b"]);
    s.ovn(&dir)
        .args(["log", "2h", "Tested", "-p", "drone", "--date", "2026-11-20"])
        .assert()
        .success();
    for bad in ["main", "b..main", "main..nope", "..b"] {
        let (code, out) = history(&s, &dir, &[bad]);
        assert_eq!(code, 2, "{bad}: {out}");
    }
    assert!(!dir.join(".git/ovn/verified").exists());
}

#[test]
#[allow(clippy::disallowed_methods)] // the hook needs the test's PATH to find git and sh
fn the_example_pre_commit_hook_refuses_a_ledger_with_problems() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/pre-commit");
    let hooks = dir.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(&hook, hooks.join("pre-commit")).unwrap();
    // The hook finds `ovn` on PATH: the binary under test.
    let bin = assert_cmd::cargo::cargo_bin("ovn");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    common::write_files(&dir, &[("agents/dee.toml", "id = \"dee\"\n")]);
    s.git(&dir, &["add", "-A"]);
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let out = git
        .env("PATH", &path)
        .args(["commit", "-qm", "dee"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    // git passes a hook's output to stderr.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("error[missing-field]"), "{said}");
    common::write_files(
        &dir,
        &[("agents/dee.toml", "id = \"dee\"\nname = \"Dee\"\n")],
    );
    s.git(&dir, &["add", "-A"]);
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let ok = git
        .env("PATH", &path)
        .args(["commit", "-qm", "dee"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_rebased_approval_keeps_its_approver() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    s.git(&dir, &["switch", "-q", "-c", "cy-approvals"]);
    assert!(approve(&s, &dir, CY, &[A2]).status.success());
    s.git(&dir, &["switch", "-q", "main"]);
    s.ovn(&dir)
        .args([
            "log",
            "1h",
            "Swept the lab",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    // Rebase (as a maintainer would, committing as ana): git keeps the author.
    s.git(&dir, &["switch", "-q", "cy-approvals"]);
    s.git(&dir, &["rebase", "-q", "main"]);
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--ff-only", "cy-approvals"]);
    let out = left_out(&payout_json(&s, &dir));
    assert!(!out.iter().any(|(id, _)| id == A2), "{out:?}");
    assert!(out.iter().any(|(id, _)| id == A1), "{out:?}");
}

fn signed_commit(s: &Sandbox, dir: &Path, email: &str, key: Option<&Path>, message: &str) {
    s.git(dir, &["add", "-A"]);
    let mut args: Vec<String> = vec!["-c".into(), "gpg.format=ssh".into()];
    if let Some(key) = key {
        args.extend(["-c".into(), format!("user.signingkey={}", key.display())]);
    }
    args.extend(["commit".into(), "-qm".into(), message.into()]);
    if key.is_some() {
        args.push("-S".into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    git_as(s, dir, email, &refs);
}

#[test]
fn signed_approvals_count_only_with_a_valid_signature_by_the_approvers_key() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (ben_key, ben_pub) = ssh_key(&s, "ben");
    let (cy_key, cy_pub) = ssh_key(&s, "cy");
    for (agent, public) in [("ben", &ben_pub), ("cy", &cy_pub)] {
        let path = dir.join(format!("agents/{agent}.toml"));
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("keys = [\"{public}\"]\n"));
        std::fs::write(&path, text).unwrap();
    }
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str("\n[validation]\napprovals = 1\nsigned = true\n");
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "policy: signed approvals; keys"]);
    s.ovn(&dir).arg("check").assert().success();

    let approve_uncommitted = |email: &str, id: &str| {
        s.ovn(&dir)
            .env("GIT_AUTHOR_EMAIL", email)
            .args(["approve", id, "--no-commit"])
            .assert()
            .success();
    };
    // Valid: ben approves A1, signed with his own key.
    approve_uncommitted(BEN, A1);
    signed_commit(&s, &dir, BEN, Some(&ben_key), "approve A1 (signed)");
    // Missing signature: cy approves A2 without signing.
    approve_uncommitted(CY, A2);
    signed_commit(&s, &dir, CY, None, "approve A2 (unsigned)");
    // Wrong key: ben approves A5 but signs with cy's key.
    approve_uncommitted(BEN, A5);
    signed_commit(&s, &dir, BEN, Some(&cy_key), "approve A5 (cy's key)");

    let out = s.ovn(&dir).arg("status").output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        !out.contains(&format!("{A1}  ana")),
        "A1 is validated: {out}"
    );
    assert!(
        out.contains(&format!(
            "of {A2} does not count: its commit has no valid signature"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "of {A5} does not count: its commit is signed with a key of cy"
        )),
        "{out}"
    );
    let left = left_out(&payout_json(&s, &dir));
    assert!(!left.iter().any(|(id, _)| id == A1), "{left:?}");
    assert!(
        left.contains(&(A2.to_owned(), "awaiting approval".to_owned())),
        "{left:?}"
    );
    assert!(
        left.contains(&(A5.to_owned(), "awaiting approval".to_owned())),
        "{left:?}"
    );
}

#[test]
fn without_an_amount_or_a_recorded_payout_the_impact_says_so() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "b"]);
    s.ovn(&dir)
        .args([
            "log",
            "4h",
            "Soldered",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    let (_, out, err) = review(&s, &dir, &[]);
    assert!(
        out.contains("no --amount given and no recorded payout to take it from"),
        "{out}{err}"
    );
    let no_cache = s.ovn(&dir).args(["--no-cache", "review"]).output().unwrap();
    assert_eq!(out, String::from_utf8(no_cache.stdout).unwrap());
}

/// Issue 20: a change that misspells a rule's kind is a violation naming the place and the
/// kind meant, not only an agreement "changed".
#[test]
fn review_names_a_misspelt_kind_in_a_changed_agreement() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "typo"]);
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("kind = \"material\"", "kind = \"materials\""),
    )
    .unwrap();
    s.git(&dir, &["commit", "-qam", "typo"]);
    let (code, out, err) = review(&s, &dir, &["main..typo", "--no-impact"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("agreements/drone-ve.toml:23:8: error[invalid-value]: `buckets[2].rules[2].kind` is \"materials\""),
        "{out}"
    );
    assert!(out.contains("(did you mean `material`?)"), "{out}");
}

/// Issue 20: hours are counted after corrections; a record the change supersedes no longer
/// adds its hours to the day (8h replaced by 5h is 5h, not "13h ... unusual").
#[test]
fn review_counts_hours_after_corrections() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "fix"]);
    let logged = common::ok(
        &s,
        &dir,
        &[
            "log",
            "8h",
            "Soldering",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ],
    );
    let id = logged.split_whitespace().nth(1).unwrap().to_owned();
    common::ok(
        &s,
        &dir,
        &[
            "log",
            "5h",
            "Soldering, corrected",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
            "--supersedes",
            &id,
        ],
    );
    let (code, out, err) = review(&s, &dir, &["--no-impact"]);
    assert!(!out.contains("unusual"), "{out}");
    assert_eq!(code, 0, "{out}{err}");
}

/// Issue 20: under a policy asking for approvals, what the change's own contributions would
/// pay once approved is said, not left out silently.
#[test]
fn review_says_what_work_awaiting_approval_would_change() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    s.git(&dir, &["switch", "-q", "-c", "ana-week"]);
    let logged = common::ok(
        &s,
        &dir,
        &[
            "log",
            "4h",
            "Soldered the harness",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ],
    );
    let id = logged.split_whitespace().nth(1).unwrap().to_owned();
    let (_, out, err) = review(&s, &dir, &["--amount", "3000"]);
    assert!(
        out.contains(&format!(
            "1 contribution of this change awaits approval and counts for nothing until approved ({id}); once approved:"
        )),
        "{out}{err}"
    );
    let (_, out, _) = review(&s, &dir, &["--amount", "3000", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let awaiting = &json["impact"][0]["awaiting_approval"];
    assert_eq!(awaiting["contributions"], serde_json::json!([id]));
    let ana = awaiting["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "ana")
        .unwrap();
    assert!(
        ana["difference"].as_str().unwrap().parse::<f64>().unwrap() > 0.0,
        "{awaiting}"
    );
}

/// Issue 20: review JSON names revisions as a ref and a commit apart, writes amounts as
/// `ovn payout` does ("3000.00", "0.00"), and a changed agreement is diffed by field path.
#[test]
fn review_json_has_refs_commits_and_amounts_in_one_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let main = common::head(&s, &dir);
    s.git(&dir, &["switch", "-q", "-c", "rules"]);
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("kind = \"use\"", "kind = \"care\"")).unwrap();
    s.git(&dir, &["commit", "-qam", "care"]);
    let head = common::head(&s, &dir);
    let (_, out, _) = review(&s, &dir, &["main..rules", "--amount", "3000"]);
    assert!(
        out.contains("buckets[3].rules[2].kind: \"use\" -> \"care\""),
        "{out}"
    );
    assert!(!out.contains("buckets: ["), "{out}");
    let (_, out, _) = review(
        &s,
        &dir,
        &["main..rules", "--amount", "3000", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["base"]["ref"], "main");
    assert_eq!(json["base"]["commit"], main.trim());
    assert_eq!(json["base"]["merge_base"], main.trim());
    assert_eq!(json["head"]["ref"], "rules");
    assert_eq!(json["head"]["commit"], head.trim());
    assert_eq!(json["impact"][0]["amount"], "3000.00");
    let cy = json["impact"][0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "cy")
        .unwrap();
    assert_eq!(cy["after"], "0.00", "{cy}");
    assert_eq!(
        json["changed"][0]["fields"][0]["field"],
        "buckets[3].rules[2].kind"
    );
}

#[test]
fn review_of_a_departure_shows_it_as_a_governance_change_with_its_payout_impact() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    std::fs::write(
        dir.join("agreements/drone-ve.toml"),
        crate::cli::agent::DRONE_VE_WITH_LEAVING,
    )
    .unwrap();
    s.git(&dir, &["commit", "-q", "-am", "leaver terms"]);
    s.git(&dir, &["switch", "-q", "-c", "ben-leaves"]);
    s.ovn(&dir)
        .args([
            "agent",
            "leave",
            "ben",
            "--date",
            "2026-04-01",
            "--reason",
            "bad",
        ])
        .assert()
        .success();
    // Like every governance change, it is flagged for a human look (exit 1).
    let (code, out, err) = review(&s, &dir, &["--amount", "3000"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("Governance changes (1), judged by the base's rules:"),
        "{out}"
    );
    assert!(
        out.contains("[ok ] agents/ben.toml  ben left on 2026-04-01 (bad leaver)"),
        "{out}"
    );
    assert!(
        out.contains("departures: (none) -> [{ left = 2026-04-01, reason = \"bad\" }]"),
        "{out}"
    );
    assert!(out.contains("Payout impact on drone for 3000.00:"), "{out}");
    // ben's work (900 of the 1880 equity weight) is forfeited; his 400.00 of money is still
    // repaid. The 2300.00 equity budget goes to ana (940) and cy (40) alone.
    let json: serde_json::Value =
        serde_json::from_str(&review(&s, &dir, &["--amount", "3000", "--format", "json"]).1)
            .unwrap();
    let agent = |id: &str| {
        json["impact"][0]["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["agent"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(agent("ben")["before"], "1501.06");
    assert_eq!(agent("ben")["after"], "400.00");
    assert_eq!(agent("ana")["after"], "2206.12");
    assert_eq!(agent("cy")["after"], "93.88");
}

/// Issue 17: a change to a project whose agreement pays projects (`to_project`) moves the
/// payouts at every level of its cascade, and review shows them all: each agent's total over
/// the top payout and every sub-payout (the lab's and the fund's members), never the line
/// that pays a project as if it were an agent. Quick, cached and whole loads agree.
#[test]
fn review_shows_the_impact_across_a_cascade() {
    let s = Sandbox::new();
    let dir = common::cascade_repo(&s, "l");
    s.git(&dir, &["switch", "-q", "-c", "ana-week"]);
    s.ovn(&dir)
        .args([
            "log",
            "4h",
            "Soldered the harness",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ])
        .assert()
        .success();
    let (code, out, err) = review(&s, &dir, &["--amount", "3000"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "Payout impact on drone for 3000.00:\n  through its cascade to lab, fund: each agent's total over every level\n"
        ),
        "{out}"
    );
    // Every level's agents: the lab's workers (ana and cy gain from the lab's 240.00 too),
    // the fund's (ben's 20.00 loan repaid, 40.00 to the network fund); never the lab itself.
    assert!(
        out.contains(
            "  agent             before        after   difference\n  ana              1210.00      1279.00       +69.00\n  ben              1521.06      1455.00       -66.06\n  cy                228.94       226.00        -2.94\n  fablab-fund        40.00        40.00         0.00\n"
        ),
        "{out}"
    );
    assert!(!out.contains("\n  lab "), "{out}");
    let json = |extra: &[&str]| -> serde_json::Value {
        let (_, out, _) = review(
            &s,
            &dir,
            &[&["--amount", "3000", "--format", "json"][..], extra].concat(),
        );
        serde_json::from_str(&out).unwrap()
    };
    let v = json(&[]);
    let impact = &v["impact"][0];
    assert_eq!(impact["sub_projects"], serde_json::json!(["lab", "fund"]));
    let agents: Vec<&str> = impact["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["ana", "ben", "cy", "fablab-fund"], "{impact}");
    // The totals over every level still sum to the revenue on each side.
    for side in ["before", "after"] {
        let sum: rust_decimal::Decimal = impact["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a[side]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(sum.to_string(), "3000.00", "{side}: {impact}");
    }
    // The same with the cache off, and again with it warm.
    assert_eq!(json(&["--no-cache"]), v);
    assert_eq!(json(&[]), v);
}
