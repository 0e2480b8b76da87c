//! Approvals signed inside the record (`ovn approve --sign`), end to end on real repositories
//! with three identities (ana merges, ben contributes, cy approves): they keep their approver
//! through squash merges and rebases, count only with a key the approver had before the change
//! that brought them, and break when their content is edited. Also: one agent's approvals of
//! one record count once, and `ovn status` says when a merge lost an unsigned approval's
//! approver. Needs `ssh-keygen` (skipped with a message without it).

use std::path::{Path, PathBuf};

use crate::common::{Sandbox, approve, base_repo, git_as, head, policy_repo, run, ssh_key};
use assert_cmd::prelude::*;
use predicates::prelude::*;

const A1: &str = "01aaaaaaaaaaaaaaaaaaaaaaa1"; // ana's
const A2: &str = "01aaaaaaaaaaaaaaaaaaaaaaa2"; // ben's
const A5: &str = "01aaaaaaaaaaaaaaaaaaaaaaa5"; // cy's

const ANA: &str = "ana@fablab.example";
const BEN: &str = "ben@fablab.example";
const CY: &str = "cy@fablab.example";

/// Whether `ssh-keygen` runs; prints why a test is skipped when it does not.
fn have_ssh_keygen() -> bool {
    let ok = std::process::Command::new("ssh-keygen")
        .arg("-?")
        .output()
        .is_ok();
    if !ok {
        println!("SKIPPED: `ssh-keygen` (OpenSSH) is not installed");
    }
    ok
}

/// Adds `public` to the `keys` of `agent` (in the working tree).
fn add_key(dir: &Path, agent: &str, public: &str) {
    let path = dir.join(format!("agents/{agent}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let text = match text.find("keys = [") {
        Some(at) => format!(
            "{}keys = [\"{public}\", {}",
            &text[..at],
            &text[at + "keys = [".len()..]
        ),
        None => format!("{text}keys = [\"{public}\"]\n"),
    };
    std::fs::write(&path, text).unwrap();
}

/// The worked example with ben's and cy's keys and `[validation]` (`signed` as given, one
/// approval), committed on main by ana. Returns the repository and the private keys.
fn signed_repo(s: &Sandbox, signed: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = base_repo(s, "l");
    let (ben_key, ben_pub) = ssh_key(s, "ben");
    let (cy_key, cy_pub) = ssh_key(s, "cy");
    add_key(&dir, "ben", &ben_pub);
    add_key(&dir, "cy", &cy_pub);
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str(&format!(
        "\n[validation]\napprovals = 1\nsigned = {signed}\n"
    ));
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "policy and keys"]);
    let (code, out, err) = run(s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    (dir, ben_key, cy_key)
}

/// `ovn ARGS` as the agent with `email`.
fn ovn_as(s: &Sandbox, dir: &Path, email: &str, args: &[&str]) -> (i32, String, String) {
    let out = s
        .ovn(dir)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_EMAIL", email)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Whether `ovn status` on main lists `id` as awaiting approval; and the whole output.
fn awaiting(s: &Sandbox, dir: &Path, id: &str) -> (bool, String) {
    let (code, out, err) = run(s, dir, &["status"]);
    assert_eq!(code, 0, "{out}{err}");
    (
        out.lines()
            .any(|l| l.trim_start().starts_with(id) && l.contains("awaiting approval")),
        out,
    )
}

/// The one approval file under `approvals/` whose text mentions `record`.
fn approval_file(dir: &Path, record: &str) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.join("approvals")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read_to_string(&p).unwrap().contains(record) {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

#[test]
fn a_signed_approval_survives_a_squash_merge_by_a_third_identity() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, _, cy_key) = signed_repo(&s, "\"record\"");
    s.git(&dir, &["switch", "-q", "-c", "cy-review"]);
    let key = cy_key.to_str().unwrap();
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", "--key", key, A2]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(approval_file(&dir, A2)).unwrap();
    assert!(
        text.contains("by = \"cy\"\nsignature = \"U1NIU0lH"),
        "{text}"
    );
    s.git(&dir, &["switch", "-q", "main"]);
    assert!(awaiting(&s, &dir, A2).0);
    // ana squashes cy's branch: the commit that adds the approval is ana's.
    git_as(&s, &dir, ANA, &["merge", "-q", "--squash", "cy-review"]);
    git_as(&s, &dir, ANA, &["commit", "-qm", "Review by cy (#12)"]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(!waiting, "{out}");
    assert!(!out.contains("does not count"), "{out}");
    assert!(!out.contains("approver is lost"), "{out}");
    // Verified signatures are remembered: the same answer again.
    assert!(dir.join(".git/ovn/good-signatures").exists());
    assert_eq!(awaiting(&s, &dir, A2).1, out);
}

#[test]
fn a_signed_approval_survives_a_rebase_that_resets_its_author() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, _, cy_key) = signed_repo(&s, "true");
    s.git(&dir, &["switch", "-q", "-c", "cy-review"]);
    let key = cy_key.to_str().unwrap();
    // One approval signed in the record, one not (its commit unsigned too).
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", "--key", key, A2]).0, 0);
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", A1]).0, 0);
    s.git(&dir, &["switch", "-q", "main"]);
    let (code, out, err) = ovn_as(&s, &dir, ANA, &["log", "1h", "Swept", "-p", "drone"]);
    assert_eq!(code, 0, "{out}{err}");
    // ana rebases cy's branch onto main and takes authorship of every commit.
    s.git(&dir, &["switch", "-q", "cy-review"]);
    git_as(
        &s,
        &dir,
        ANA,
        &[
            "rebase",
            "-q",
            "main",
            "--exec",
            "git commit -q --amend --no-edit --reset-author",
        ],
    );
    assert!(
        s.git(&dir, &["log", "-2", "--format=%ae"])
            .lines()
            .all(|l| l == ANA)
    );
    s.git(&dir, &["switch", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--ff-only", "cy-review"]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(!waiting, "the signed approval still counts for cy: {out}");
    // The unsigned one is credited to ana now: under signed = true it needs a signed commit.
    assert!(awaiting(&s, &dir, A1).0, "{out}");
}

#[test]
fn a_key_not_on_the_approver_or_added_in_the_same_change_does_not_count() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, ben_key, _) = signed_repo(&s, "\"record\"");
    let ben = ben_key.to_str().unwrap();
    // ovn approve refuses to sign as cy with a key cy does not list.
    let (code, _, err) = ovn_as(&s, &dir, CY, &["approve", "--key", ben, A2]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the key you signed with is not listed on your agent cy"),
        "{err}"
    );
    assert!(!dir.join("approvals").exists());

    // ben, on his own branch, adds his key to cy's agent and approves his own work as cy.
    s.git(&dir, &["switch", "-q", "-c", "ben-forges"]);
    let ben_pub = std::fs::read_to_string(ben_key.with_extension("pub")).unwrap();
    add_key(&dir, "cy", ben_pub.trim());
    git_as(&s, &dir, BEN, &["commit", "-qam", "cy's new key"]);
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", "--key", ben, A2]);
    assert_eq!(code, 0, "{out}{err}");
    s.git(&dir, &["switch", "-q", "main"]);
    // Merged with a merge commit: the base is main before the merge, where cy had one key.
    git_as(
        &s,
        &dir,
        ANA,
        &["merge", "-q", "--no-ff", "-m", "merge", "ben-forges"],
    );
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(
        out.contains("signed as cy with a key not listed on cy before the change that added it"),
        "{out}"
    );
    // Squashed instead: the same.
    s.git(&dir, &["reset", "-q", "--hard", "HEAD^"]);
    git_as(&s, &dir, ANA, &["merge", "-q", "--squash", "ben-forges"]);
    git_as(&s, &dir, ANA, &["commit", "-qm", "squash"]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(out.contains("with a key not listed on cy"), "{out}");
    // Once the key is on main (a change of its own), a new approval signed with it counts:
    // the old one stays void, since its base did not know the key.
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", "--key", ben, A2]);
    assert_eq!(code, 0, "{out}{err}");
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(!waiting, "{out}");
}

#[test]
fn a_tampered_digest_or_signer_breaks_the_signature() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, _, cy_key) = signed_repo(&s, "\"record\"");
    let key = cy_key.to_str().unwrap();
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", "--key", key, A2]).0, 0);
    assert!(!awaiting(&s, &dir, A2).0);
    // ben edits his contribution and moves the approval's digest along with it.
    let contribution = dir.join(format!("contributions/2026/03/11/{A2}.toml"));
    let text = std::fs::read_to_string(&contribution).unwrap();
    std::fs::write(&contribution, text.replace("\"20\"", "\"21\"")).unwrap();
    let file = approval_file(&dir, A2);
    let approval = std::fs::read_to_string(&file).unwrap();
    let old = approval
        .lines()
        .find(|l| l.starts_with("digest = "))
        .unwrap()
        .to_owned();
    let ledger = ovn::core::ledger::load(&[ovn::core::ledger::RawFile {
        path: format!("contributions/2026/03/11/{A2}.toml"),
        bytes: std::fs::read(&contribution).unwrap(),
    }]);
    let digest = ovn::core::write::contribution_digest(&ledger.ledger.contributions[0]);
    std::fs::write(
        &file,
        approval.replace(&old, &format!("digest = \"{digest}\"")),
    )
    .unwrap();
    git_as(&s, &dir, BEN, &["commit", "-qam", "more hours"]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(
        out.contains("its signature does not match its content (edited after signing)"),
        "{out}"
    );
    // Renaming the signer breaks it as well.
    s.git(&dir, &["reset", "-q", "--hard", "HEAD^"]);
    std::fs::write(&file, approval.replace("by = \"cy\"", "by = \"ana\"")).unwrap();
    git_as(&s, &dir, BEN, &["commit", "-qam", "ana approved"]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(
        out.contains("its signature does not match its content"),
        "{out}"
    );
}

#[test]
fn record_policy_refuses_unsigned_approvals_and_signs_with_gits_signing_key() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, _, cy_key) = signed_repo(&s, "\"record\"");
    // No key: ovn approve signs without being asked, so it needs one.
    let (code, _, err) = ovn_as(&s, &dir, CY, &["approve", A2]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no SSH key to sign the approval with"),
        "{err}"
    );
    // An unsigned approval written by hand does not count.
    std::fs::create_dir_all(dir.join("approvals/2026/11/24")).unwrap();
    let digest = {
        let l = ovn::core::ledger::load(&[ovn::core::ledger::RawFile {
            path: format!("contributions/2026/03/11/{A2}.toml"),
            bytes: std::fs::read(dir.join(format!("contributions/2026/03/11/{A2}.toml"))).unwrap(),
        }]);
        ovn::core::write::contribution_digest(&l.ledger.contributions[0])
    };
    let id = "01zzzzzzzzzzzzzzzzzzzzzzz1";
    std::fs::write(
        dir.join(format!("approvals/2026/11/24/{id}.toml")),
        format!("id = \"{id}\"\nrecord = \"{A2}\"\ndigest = \"{digest}\"\ndate = 2026-11-24\n"),
    )
    .unwrap();
    s.git(&dir, &["add", "-A"]);
    git_as(&s, &dir, CY, &["commit", "-qm", &format!("approve: {A2}")]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(
        out.contains("the network asks for approvals signed in the record"),
        "{out}"
    );
    // git's user.signingkey is the key ovn signs with; the unsigned approval does not make
    // this one a duplicate.
    s.git(
        &dir,
        &["config", "user.signingkey", cy_key.to_str().unwrap()],
    );
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", A2]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!awaiting(&s, &dir, A2).0);
}

#[test]
fn one_agents_approvals_of_one_record_count_once() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str("\n[validation]\napprovals = 2\n");
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "policy: two approvals"]);
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", A2]).0, 0);
    let before = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, _, err) = ovn_as(&s, &dir, CY, &["approve", A2]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("you (cy) approved {A2} already (approval ")),
        "{err}"
    );
    assert!(err.contains("an agent's approvals of one record count once"));
    assert_eq!(
        s.git(&dir, &["rev-parse", "HEAD"]),
        before,
        "nothing written"
    );
    // A second approval copied by hand and committed by cy: counted once.
    let file = approval_file(&dir, A2);
    let text = std::fs::read_to_string(&file).unwrap();
    let first = file.file_stem().unwrap().to_str().unwrap().to_owned();
    let copy = "01zzzzzzzzzzzzzzzzzzzzzzz2";
    std::fs::write(
        file.with_file_name(format!("{copy}.toml")),
        text.replace(&first, copy),
    )
    .unwrap();
    s.git(&dir, &["add", "-A"]);
    git_as(&s, &dir, CY, &["commit", "-qm", &format!("approve: {A2}")]);
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    assert!(out.contains("awaiting approval (1 of 2)"), "{out}");
    let (dup, orig) = if first.as_str() < copy {
        (copy, first.as_str())
    } else {
        (first.as_str(), copy)
    };
    assert!(
        out.contains(&format!(
            "approval {dup} of {A2} does not count: cy approved it already (approval {orig})"
        )),
        "{out}"
    );
    // Another agent's approval completes it.
    assert_eq!(ovn_as(&s, &dir, ANA, &["approve", A2]).0, 0);
    assert!(!awaiting(&s, &dir, A2).0);
}

#[test]
fn status_says_when_a_squash_lost_the_approver_of_unsigned_approvals() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str("\n[validation]\napprovals = 1\n");
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "policy"]);
    s.git(&dir, &["switch", "-q", "-c", "cy-review"]);
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", A1, A2]).0, 0);
    s.git(&dir, &["switch", "-q", "main"]);
    // ben squashes with git's own message, which names the squashed commits' authors.
    git_as(&s, &dir, BEN, &["merge", "-q", "--squash", "cy-review"]);
    git_as(&s, &dir, BEN, &["commit", "-q", "--no-edit"]);
    let squash = s.git(&dir, &["rev-parse", "--short=12", "HEAD"]);
    let squash = squash.trim();
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(waiting, "{out}");
    let approval = |record: &str| {
        approval_file(&dir, record)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (x1, x2) = (approval(A1), approval(A2));
    // On ben's own contribution: a self-approval in appearance.
    assert!(
        out.contains(&format!(
            "  approval {x2} of {A2}: the approver is lost: it is credited to <{BEN}>, author of commit {squash} \"Squashed commit of the following:\" that added it, which is not the `ovn approve` commit of {A2} (a squash or rebase merge); so it does not count\n    that commit's message names <{CY}> as an author of what it squashed\n    fix: the approver runs `git switch main && ovn approve {A2}`\n"
        )),
        "{out}"
    );
    // On ana's: it counts, for the merger.
    assert!(
        out.contains(&format!(
            "  approval {x1} of {A1}: the approver is lost: it is credited to <{BEN}>, author of commit {squash} \"Squashed commit of the following:\" that added it, which is not the `ovn approve` commit of {A1} (a squash or rebase merge); it counts for ben\n"
        )),
        "{out}"
    );
    // The fix: cy approves again on main (cy's earlier approval is not cy's any more).
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", A2]);
    assert_eq!(code, 0, "{out}{err}");
    let (waiting, out) = awaiting(&s, &dir, A2);
    assert!(!waiting, "{out}");
    assert!(
        !out.contains(&format!("approval {x2} of {A2}: the approver")),
        "{out}"
    );
}

#[test]
fn review_judges_signed_approvals_by_their_signature_and_the_bases_keys() {
    if !have_ssh_keygen() {
        return;
    }
    let s = Sandbox::new();
    let (dir, ben_key, cy_key) = signed_repo(&s, "\"record\"");
    // cy's signed approval, committed by ben in ben's own branch: no self-approval.
    s.git(&dir, &["switch", "-q", "-c", "ben-work"]);
    let cy = cy_key.to_str().unwrap();
    let (code, out, err) = ovn_as(&s, &dir, CY, &["approve", "--key", cy, "--no-commit", A2]);
    assert_eq!(code, 0, "{out}{err}");
    s.git(&dir, &["add", "-A"]);
    git_as(&s, &dir, BEN, &["commit", "-qm", "cy's approval"]);
    let (code, out, err) = run(&s, &dir, &["review", "--no-impact"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("self-approval"), "{out}");
    // ben adds his key to cy and signs another approval as cy: the base did not know it.
    s.git(&dir, &["switch", "-q", "-c", "ben-forges", "main"]);
    let ben_pub = std::fs::read_to_string(ben_key.with_extension("pub")).unwrap();
    add_key(&dir, "cy", ben_pub.trim());
    git_as(&s, &dir, BEN, &["commit", "-qam", "cy's new key"]);
    let ben = ben_key.to_str().unwrap();
    assert_eq!(ovn_as(&s, &dir, CY, &["approve", "--key", ben, A2]).0, 0);
    let (code, out, _) = run(&s, &dir, &["review", "--no-impact"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "of {A2}: signed as cy with a key not listed on cy before the change that added it; it does not count"
        )),
        "{out}"
    );
}

#[test]
fn approve_writes_one_record_per_id_in_one_commit_authored_by_the_approver() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    let out = approve(&s, &dir, BEN, &[A1, A5]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("Approved 2 contributions in approvals/2026/11/24/"));
    let files = s.git(&dir, &["show", "--name-status", "--format=%ae %s", "HEAD"]);
    let mut lines = files.lines();
    assert_eq!(lines.next().unwrap(), format!("{BEN} approve: {A1}, {A5}"));
    let added: Vec<&str> = lines.filter(|l| l.starts_with("A\t")).collect();
    assert_eq!(added.len(), 2, "{files}");
    let text = std::fs::read_to_string(dir.join(&added[0][2..])).unwrap();
    assert!(text.contains("digest = \"sha256:"), "{text}");
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn self_approval_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    let before = head(&s, &dir);
    s.ovn(&dir)
        .args(["approve", A1]) // ana is the pinned identity; A1 is ana's
        .assert()
        .code(2)
        .stderr(predicate::str::contains("self-approval never counts"));
    assert_eq!(head(&s, &dir), before);
    assert!(!dir.join("approvals").exists());
}

#[test]
fn unknown_reversed_and_unmapped_approvals_are_refused() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    let before = head(&s, &dir);
    s.ovn(&dir)
        .args(["approve", "01zzzzzzzzzzzzzzzzzzzzzzz9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no contribution has the id"));
    s.ovn(&dir).args(["approve", "not an id"]).assert().code(2);
    s.ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", "stranger@example.org")
        .args(["approve", A2])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("belongs to no single agent"));
    assert_eq!(head(&s, &dir), before);
    // Reversed: ben reverses his own contribution, then cy may not approve it.
    s.ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", BEN)
        .args(["revert", A2, "--reason", "Logged twice"])
        .assert()
        .success();
    let before = head(&s, &dir);
    let out = approve(&s, &dir, CY, &[A2]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is reversed by"));
    assert_eq!(head(&s, &dir), before);
}

#[test]
fn no_commit_writes_the_approval_only_and_no_ids_is_a_usage_error() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    let before = head(&s, &dir);
    let (code, out, err) = run(&s, &dir, &["approve", A2, "--no-commit"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.starts_with("Approved 1 contribution in approvals/2026/11/24/"),
        "{out}"
    );
    assert!(
        out.ends_with(".toml, not committed (--no-commit)\n"),
        "{out}"
    );
    assert_eq!(head(&s, &dir), before);
    let status = s.git(&dir, &["status", "--porcelain"]);
    assert!(status.starts_with("?? approvals/"), "{status}");
    let (code, out, err) = run(&s, &dir, &["approve"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("the following required arguments were not provided"),
        "{err}"
    );
    assert_eq!(head(&s, &dir), before);
}

/// Issue 20: approving a contribution the current branch lacks names the branches that have
/// it (a pushed pull request's branch among them) and says to switch to one, writing nothing.
#[test]
fn approving_work_of_another_branch_names_that_branch() {
    let s = Sandbox::new();
    let (_origin, ben) = crate::common::origin_and_clone(&s, "ben");
    s.git(&ben, &["switch", "-q", "-c", "frame-tests"]);
    let (code, out, err) = ovn_as(&s, &ben, BEN, &["log", "3h", "Frame tests", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    s.git(&ben, &["push", "-q", "origin", "frame-tests"]);

    let ana = s.work().join("ana");
    s.git(&s.work(), &["clone", "-q", "origin.git", "ana"]);
    let before = head(&s, &ana);
    let (code, _, err) = ovn_as(&s, &ana, ANA, &["approve", &id]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "no contribution has the id {id} on this branch; it is on origin/frame-tests"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("git switch frame-tests, then ovn approve {id}")),
        "{err}"
    );
    assert_eq!(head(&s, &ana), before, "nothing written");
    // Where the hint leads, the approval is made.
    s.git(&ana, &["switch", "-q", "frame-tests"]);
    assert_eq!(ovn_as(&s, &ana, ANA, &["approve", &id]).0, 0);
    // An id no branch has keeps the plain error.
    let (code, _, err) = ovn_as(&s, &ana, ANA, &["approve", "01zzzzzzzzzzzzzzzzzzzzzzz9"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no contribution has the id 01zzzzzzzzzzzzzzzzzzzzzzz9"),
        "{err}"
    );
}
