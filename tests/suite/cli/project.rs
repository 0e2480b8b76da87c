//! `ovn project add` end to end on real git repositories: the record it writes and commits,
//! `--parent` and `--no-commit`, and refusals (exit 2, nothing written). Adding a project
//! with an agreement, a parent and a steward, and the suggestions for a misspelt agreement or
//! steward, are in `cli::agent` (`agent_project_and_resource_add`, `bad_additions_are_refused`).

use crate::common::{
    Sandbox, assert_clean, assert_same_files_but, base_repo, commit_count, run, snapshot, subject,
};
use assert_cmd::prelude::*;
use predicates::prelude::*;

#[test]
fn a_project_with_only_an_id_is_named_after_it_and_committed_alone() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args(["project", "add", "lab"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^Added project lab \(lab\) in projects/lab.toml, commit [0-9a-f]{12} on main\n$",
            )
            .unwrap(),
        );
    assert_eq!(
        std::fs::read_to_string(dir.join("projects/lab.toml")).unwrap(),
        "id = \"lab\"\nname = \"lab\"\n"
    );
    assert_eq!(commit_count(&s, &dir), before + 1);
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> project: add lab (lab)"
    );
    assert_eq!(
        s.git(&dir, &["show", "--name-status", "--format=", "HEAD"]),
        "A\tprojects/lab.toml\n"
    );
    assert_clean(&s, &dir);
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn a_sub_project_without_commit_is_written_only() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args([
            "project",
            "add",
            "arms",
            "--parent",
            "drone",
            "--name",
            "Drone arms",
            "--no-commit",
        ])
        .assert()
        .success()
        .stdout(
            "Added project arms (Drone arms) in projects/arms.toml, not committed (--no-commit)\n",
        );
    assert_eq!(commit_count(&s, &dir), before);
    assert_eq!(
        s.git(&dir, &["status", "--porcelain"]),
        "?? projects/arms.toml\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("projects/arms.toml")).unwrap(),
        "id = \"arms\"\nname = \"Drone arms\"\nparent = \"drone\"\n"
    );
}

#[test]
fn an_existing_id_or_an_unknown_parent_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = snapshot(&dir);
    for (args, needle) in [
        (
            &["project", "add", "drone"][..],
            "error: project `drone` already exists (projects/drone.toml)\n  hint: ids are never reused",
        ),
        (
            &["project", "add", "arms", "--parent", "dron"],
            "error: unknown project `dron`\n  hint: did you mean `drone`?\n",
        ),
        (&["project", "add", "Arms"], "ids are lowercase: arms"),
        (&["project", "add"], "<ID>"),
        (&["project"], "Usage: ovn project"),
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "ovn {args:?}: {out}{err}");
        assert_eq!(out, "", "ovn {args:?}");
        assert!(err.contains(needle), "ovn {args:?}: {err}");
    }
    // The refusal comes after taking the write lock, whose file stays in .git/ovn/.
    assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);
}

#[test]
fn an_agreement_only_in_the_working_tree_is_named_as_not_committed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    std::fs::write(
        dir.join("agreements/lab-ve.toml"),
        "id = \"lab-ve\"\nname = \"Lab\"\nkind = \"value-equation\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n",
    )
    .unwrap();
    s.ovn(&dir)
        .args(["project", "add", "lab", "--agreement", "lab-ve"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "agreement `lab-ve` is not committed: agreements/lab-ve.toml is only in the working tree",
        ))
        .stderr(predicate::str::contains("git add agreements/lab-ve.toml"));
    assert_eq!(commit_count(&s, &dir), before);
    assert!(!dir.join("projects/lab.toml").exists());
    // Once committed, the same command adds the project.
    s.git(&dir, &["add", "agreements/lab-ve.toml"]);
    s.git(&dir, &["commit", "-qm", "agreement lab-ve"]);
    s.ovn(&dir)
        .args(["project", "add", "lab", "--agreement", "lab-ve"])
        .assert()
        .success();
    // An agreement that is nowhere is still unknown, with the known ones.
    s.ovn(&dir)
        .args(["project", "add", "lab2", "--agreement", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown agreement `nowhere`"));
}

#[test]
fn project_show_and_list_in_every_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    crate::common::ok(&s, &dir, &["project", "add", "frame", "--parent", "drone"]);
    assert_eq!(
        crate::common::ok(&s, &dir, &["project", "show", "drone"]),
        "project drone (Open Drone)\n  agreement  drone-ve\n  parent     (none)\n  stewards   ana, ben\n  projects   frame\n  file       projects/drone.toml\n"
    );
    assert_eq!(
        crate::common::ok(&s, &dir, &["project", "list", "--format", "csv"]),
        "id,name,agreement,parent,stewards\ndrone,Open Drone,drone-ve,,\"ana, ben\"\nframe,frame,,drone,\n"
    );
    let table = crate::common::ok(&s, &dir, &["project", "list"]);
    assert!(
        table.contains("\n frame   frame                    drone\n"),
        "{table}"
    );
    let one: serde_json::Value = serde_json::from_str(&crate::common::ok(
        &s,
        &dir,
        &["project", "show", "frame", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(one["parent"], "drone");
    assert_eq!(one["agreement"], serde_json::Value::Null);
    let (code, _, err) = crate::common::run(&s, &dir, &["project", "show", "dorne"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown project `dorne`"), "{err}");
    assert!(err.contains("did you mean `drone`?"), "{err}");
}

#[test]
fn project_edit_sets_agreement_parent_and_stewards() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    crate::common::ok(&s, &dir, &["agreement", "add", "frame-ve"]);
    crate::common::ok(&s, &dir, &["project", "add", "frame"]);
    let before = crate::common::commit_count(&s, &dir);
    let out = crate::common::ok(
        &s,
        &dir,
        &[
            "project",
            "edit",
            "frame",
            "--agreement",
            "frame-ve",
            "--parent",
            "drone",
            "--add-steward",
            "cy",
            "--name",
            "Drone frame",
        ],
    );
    assert!(
        out.starts_with("Edited project frame (name \"Drone frame\"; agreement frame-ve; parent drone; stewards +cy) in projects/frame.toml, commit "),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("projects/frame.toml")).unwrap(),
        "id = \"frame\"\nname = \"Drone frame\"\nagreement = \"frame-ve\"\nparent = \"drone\"\nstewards = [\"cy\"]\n"
    );
    crate::common::ok(
        &s,
        &dir,
        &[
            "project",
            "edit",
            "frame",
            "--no-parent",
            "--remove-steward",
            "cy",
        ],
    );
    assert_eq!(crate::common::commit_count(&s, &dir), before + 2);
    for (args, says) in [
        (
            &["project", "edit", "frame", "--agreement", "nope-ve"][..],
            "unknown agreement `nope-ve`",
        ),
        (
            &["project", "edit", "frame", "--parent", "frame"][..],
            "problem",
        ),
        (
            &["project", "edit", "frame", "--add-steward", "zed"][..],
            "unknown agent `zed`",
        ),
        (
            &["project", "edit", "frame", "--remove-steward", "ana"][..],
            "not among the stewards",
        ),
        (
            &["project", "edit", "frame", "--no-parent"][..],
            "nothing to change",
        ),
        (
            &["project", "edit", "frme", "--no-parent"][..],
            "did you mean `frame`?",
        ),
    ] {
        let (code, out, err) = crate::common::run(&s, &dir, args);
        assert_ne!(code, 0, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(crate::common::commit_count(&s, &dir), before + 2);
    crate::common::assert_clean(&s, &dir);
    let (code, out, err) = crate::common::run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 0, "{out}{err}");
}
