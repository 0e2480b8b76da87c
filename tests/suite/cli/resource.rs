//! `ovn resource add` end to end on real git repositories: ownership from the owners (none is
//! commons, one individual), `--use-rate` and `--no-commit`, and refusals (exit 2, nothing
//! written). A pooled resource with shares, and the refusals of bad shares and owners, are
//! in `cli::agent` (`agent_project_and_resource_add`, `bad_additions_are_refused`).

use crate::common::{
    Sandbox, assert_clean, assert_same_files_but, base_repo, commit_count, run, snapshot, subject,
};
use assert_cmd::prelude::*;
use predicates::prelude::*;

#[test]
fn a_resource_without_owners_is_commons() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .args(["resource", "add", "space", "--name", "Workshop space"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^Added resource space \(Workshop space, commons\) in resources/space.toml, commit [0-9a-f]{12} on main\n$",
            )
            .unwrap(),
        );
    assert_eq!(
        std::fs::read_to_string(dir.join("resources/space.toml")).unwrap(),
        "id = \"space\"\nname = \"Workshop space\"\nownership = \"commons\"\n"
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> resource: add space (Workshop space, commons)"
    );
    assert_clean(&s, &dir);
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn one_owner_is_individual_and_no_commit_writes_the_file_only() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args([
            "resource",
            "add",
            "drill",
            "--owner",
            "ben",
            "--use-rate",
            "3",
            "--no-commit",
        ])
        .assert()
        .success()
        .stdout("Added resource drill (drill, individual) in resources/drill.toml, not committed (--no-commit)\n");
    assert_eq!(commit_count(&s, &dir), before);
    assert_eq!(
        s.git(&dir, &["status", "--porcelain"]),
        "?? resources/drill.toml\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("resources/drill.toml")).unwrap(),
        "id = \"drill\"\nname = \"drill\"\nownership = \"individual\"\nowners = [\n  { agent = \"ben\", share = \"100%\" },\n]\nuse_rate = \"3\"\n"
    );
}

#[test]
fn an_existing_id_or_a_bad_rate_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = snapshot(&dir);
    for (args, needle) in [
        (
            &["resource", "add", "printer"][..],
            "error: resource `printer` already exists (resources/printer.toml)\n",
        ),
        (
            &["resource", "add", "cnc", "--use-rate", "cheap"],
            "--use-rate",
        ),
        (
            &["resource", "add", "cnc", "--steward", "bem"],
            "did you mean `ben`?",
        ),
        (
            &["resource", "add", "cnc", "--ownership", "shared"],
            "invalid value 'shared'",
        ),
        (&["resource", "add"], "<ID>"),
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
fn resource_show_and_list_in_every_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    assert_eq!(
        crate::common::ok(&s, &dir, &["resource", "show", "printer"]),
        "resource printer (Prusa MK4)\n  ownership  pooled\n  owners     ana 50%, cy 50%\n  stewards   cy\n  use rate   8 an hour\n  file       resources/printer.toml\n"
    );
    assert_eq!(
        crate::common::ok(&s, &dir, &["resource", "list", "--format", "csv"]),
        "id,name,ownership,owners,stewards,use_rate\nprinter,Prusa MK4,pooled,\"ana 50%, cy 50%\",cy,8\n"
    );
    let list: serde_json::Value = serde_json::from_str(&crate::common::ok(
        &s,
        &dir,
        &["resource", "list", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(list["resources"][0]["owners"][1]["agent"], "cy");
    assert_eq!(list["resources"][0]["owners"][1]["share"], "50%");
    assert_eq!(list["resources"][0]["use_rate"], "8");
    let (code, _, err) = crate::common::run(&s, &dir, &["resource", "show", "printr"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `printer`?"), "{err}");
    // An empty ledger says how to add one.
    let empty = s.repo("empty");
    crate::common::ok(&s, &empty, &["init", "--name", "E", "--currency", "EUR"]);
    assert_eq!(
        crate::common::ok(&s, &empty, &["resource", "list"]),
        "No resources yet: add one with `ovn resource add ID`.\n"
    );
    assert_eq!(
        crate::common::ok(&s, &empty, &["resource", "list", "--format", "json"]),
        "{\n  \"resources\": []\n}\n"
    );
}

#[test]
fn resource_edit_changes_owners_rate_and_stewards() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let out = crate::common::ok(
        &s,
        &dir,
        &[
            "resource",
            "edit",
            "printer",
            "--owner",
            "ana=60%",
            "--owner",
            "cy=40%",
            "--use-rate",
            "9.50",
            "--add-steward",
            "ana",
        ],
    );
    assert!(
        out.starts_with("Edited resource printer (pooled, owners ana=60% cy=40%; stewards +ana; use rate 9.5) in resources/printer.toml, commit "),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("resources/printer.toml")).unwrap(),
        "id = \"printer\"\nname = \"Prusa MK4\"\nownership = \"pooled\"\nowners = [\n  { agent = \"ana\", share = \"60%\" },\n  { agent = \"cy\", share = \"40%\" },\n]\nstewards = [\"cy\", \"ana\"]\nuse_rate = \"9.50\"\n"
    );
    let before = crate::common::commit_count(&s, &dir);
    for (args, says) in [
        (
            &[
                "resource", "edit", "printer", "--owner", "ana=60%", "--owner", "cy=30%",
            ][..],
            "sum to 90%",
        ),
        (
            &["resource", "edit", "printer", "--owner", "zed"][..],
            "unknown agent `zed`",
        ),
        (
            &["resource", "edit", "printer", "--use-rate", "-1"][..],
            "is not a number more than zero",
        ),
        (
            &["resource", "edit", "printer", "--use-rate", "9.5"][..],
            "nothing to change",
        ),
        (
            &["resource", "edit", "printr", "--use-rate", "2"][..],
            "did you mean `printer`?",
        ),
    ] {
        let (code, out, err) = crate::common::run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(crate::common::commit_count(&s, &dir), before);
    let out = crate::common::ok(
        &s,
        &dir,
        &[
            "resource",
            "edit",
            "printer",
            "--ownership",
            "commons",
            "--no-use-rate",
        ],
    );
    assert!(
        out.starts_with("Edited resource printer (commons, no owners; no use rate)"),
        "{out}"
    );
    crate::common::assert_clean(&s, &dir);
}
