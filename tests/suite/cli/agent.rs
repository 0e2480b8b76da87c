//! `ovn agent add` end to end on real git repositories: the record it writes and commits,
//! `--kind`, `--joined`, `--key` and `--no-commit`, and every refusal (exit 2, nothing
//! written). The test of all three `add` commands in one ledger lives here too (agents come
//! first: projects and resources name them).

use std::path::Path;

use crate::common::{
    Sandbox, assert_clean, assert_same_files, base_repo, commit_count, run, snapshot, subject,
};
use assert_cmd::prelude::*;
use predicates::prelude::*;

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
fn an_organization_with_a_joining_date_and_a_key_is_written_as_given() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "add",
            "makers-fund",
            "--name",
            "Makers fund",
            "--kind",
            "organization",
            "--joined",
            "2026-01-05",
            "--key",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb fund",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.starts_with(
            "Added agent makers-fund (Makers fund) in agents/makers-fund.toml, commit "
        ),
        "{out}"
    );
    assert!(out.ends_with(" on main\n"), "{out}");
    let text = std::fs::read_to_string(dir.join("agents/makers-fund.toml")).unwrap();
    assert!(
        text.starts_with(
            "id = \"makers-fund\"\nname = \"Makers fund\"\nkind = \"organization\"\nemails = []\n"
        ),
        "{text}"
    );
    assert!(text.contains("joined = 2026-01-05\n"), "{text}");
    assert!(
        text.contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBb fund"),
        "{text}"
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> agent: add makers-fund (Makers fund)"
    );
    assert_clean(&s, &dir);
    s.ovn(&dir).arg("check").assert().success();
}

#[test]
fn no_commit_writes_the_record_and_leaves_it_uncommitted() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    s.ovn(&dir)
        .args(["agent", "add", "eve", "--no-commit"])
        .assert()
        .success()
        .stdout("Added agent eve (eve) in agents/eve.toml, not committed (--no-commit)\n");
    assert_eq!(commit_count(&s, &dir), before);
    assert_eq!(
        s.git(&dir, &["status", "--porcelain"]),
        "?? agents/eve.toml\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/eve.toml")).unwrap(),
        "id = \"eve\"\nname = \"eve\"\nkind = \"person\"\nemails = []\n"
    );
}

#[test]
fn a_bad_id_date_or_kind_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = snapshot(&dir);
    for (args, needle) in [
        (&["agent", "add", "bad id"][..], "is not a valid id"),
        (
            &["agent", "add", "eve", "--joined", "2026-02-30"],
            "is not a date",
        ),
        (
            &["agent", "add", "eve", "--kind", "robot"],
            "invalid value 'robot'",
        ),
        (&["agent", "add"], "<ID>"),
        (&["agent"], "Usage: ovn agent"),
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "ovn {args:?}: {out}{err}");
        assert_eq!(out, "", "ovn {args:?}");
        assert!(err.contains(needle), "ovn {args:?}: {err}");
    }
    assert_same_files(&before, &snapshot(&dir));
}

#[test]
fn outside_a_ledger_it_says_so_with_exit_3() {
    let s = Sandbox::new();
    let dir = s.repo("not-a-ledger");
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["agent", "add", "eve"]);
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(
        err.starts_with("error: not in a ledger: no ovn.toml in "),
        "{err}"
    );
    assert_same_files(&before, &snapshot(&dir));
    assert!(!Path::new(&dir.join("agents")).exists());
}

#[test]
fn agent_show_and_list_in_every_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    assert_eq!(
        crate::common::ok(&s, &dir, &["agent", "show", "ana"]),
        "agent ana (Ana Lima)\n  kind        person\n  emails      ana@fablab.example\n  keys        (none)\n  joined      (not given)\n  steward of  drone\n  owns        printer 50%\n  file        agents/ana.toml\n"
    );
    let table = crate::common::ok(&s, &dir, &["agent", "list"]);
    assert!(
        table.contains(" fablab-fund   Fablab infrastructure fund   organization\n"),
        "{table}"
    );
    assert_eq!(
        crate::common::ok(&s, &dir, &["agent", "list", "--format", "csv"]),
        "id,name,kind,emails,joined\nana,Ana Lima,person,ana@fablab.example,\nben,Ben Okafor,person,ben@fablab.example,\ncy,Cy Dubois,person,cy@fablab.example,\nfablab-fund,Fablab infrastructure fund,organization,,\n"
    );
    let list: serde_json::Value = serde_json::from_str(&crate::common::ok(
        &s,
        &dir,
        &["agent", "list", "--format", "json"],
    ))
    .unwrap();
    let one: serde_json::Value = serde_json::from_str(&crate::common::ok(
        &s,
        &dir,
        &["agent", "show", "cy", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(list["agents"][2], one);
    assert_eq!(one["emails"][0], "cy@fablab.example");
    assert_eq!(one["path"], "agents/cy.toml");
    assert_eq!(one["joined"], serde_json::Value::Null);
}

#[test]
fn agent_show_refuses_unknown_and_hostile_ids_escaped() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let (code, _, err) = run(&s, &dir, &["agent", "show", "anna"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown agent `anna`"), "{err}");
    assert!(err.contains("did you mean `ana`?"), "{err}");
    let (code, _, err) = run(&s, &dir, &["agent", "show", "x\u{1b}]0;pwned\u{7}\u{202e}"]);
    assert_eq!(code, 2);
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(
        err.contains("unknown agent `x\\u{1b}]0;pwned\\u{7}\\u{202e}`"),
        "{err}"
    );
    assert!(err.contains("list them with `ovn agent list`"), "{err}");
    // A name with a comma, quotes and markup is data: quoted in CSV, as it is in the table.
    crate::common::ok(
        &s,
        &dir,
        &[
            "agent",
            "add",
            "eve",
            "--name",
            "Eve, \"the\" <b>|tester|</b>",
        ],
    );
    let csv = crate::common::ok(&s, &dir, &["agent", "list", "--format", "csv"]);
    assert!(
        csv.contains("\neve,\"Eve, \"\"the\"\" <b>|tester|</b>\",person,,\n"),
        "{csv}"
    );
    // --at reads another revision: eve was not there before her commit.
    let before = crate::common::ok(&s, &dir, &["agent", "list", "--at", "HEAD~1"]);
    assert!(!before.contains("eve"), "{before}");
    let (code, _, err) = run(&s, &dir, &["agent", "list", "--at", "nowhere"]);
    assert_ne!(code, 0);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn agent_edit_changes_one_file_in_one_commit_that_check_history_accepts() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "edit",
            "ana",
            "--name",
            "Ana M. Lima",
            "--add-email",
            "ana@home.example",
            "--joined",
            "2026-01-05",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Edited agent ana (name \"Ana M. Lima\"; emails +ana@home.example; joined 2026-01-05) in agents/ana.toml, commit "),
        "{out}"
    );
    assert_eq!(err, "", "a canonical file keeps its layout: no note");
    assert_eq!(commit_count(&s, &dir), before + 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/ana.toml")).unwrap(),
        "id = \"ana\"\nname = \"Ana M. Lima\"\nkind = \"person\"\nemails = [\"ana@fablab.example\", \"ana@home.example\"]\njoined = 2026-01-05\n"
    );
    assert_eq!(
        s.git(&dir, &["show", "--name-status", "--format=%s", "HEAD"]),
        "agent: edit ana (name \"Ana M. Lima\"; emails +ana@home.example; joined 2026-01-05)\n\nM\tagents/ana.toml\n"
    );
    assert_clean(&s, &dir);
    // The new email is hers at once; the old one goes.
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "edit",
            "ana",
            "--remove-email",
            "ana@fablab.example",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // Agents are edited in place by design: the validated history accepts it.
    let (code, out, err) = run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("no validated record was modified or deleted"),
        "{out}"
    );
}

#[test]
fn agent_edit_refusals_write_nothing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    // A hand-written file: comments are not kept, and the command says so.
    std::fs::write(
        dir.join("agents/cy.toml"),
        "# Cy, our printer steward\nid = \"cy\"\nname = \"Cy Dubois\"\nkind = \"person\"\nemails = [\"cy@fablab.example\"]\n",
    )
    .unwrap();
    s.git(&dir, &["commit", "-qam", "cy: a comment"]);
    let before = commit_count(&s, &dir);
    for (args, says) in [
        (
            &["agent", "edit", "anna", "--name", "X"][..],
            "unknown agent `anna`",
        ),
        (
            &["agent", "edit", "ana"][..],
            "nothing to change: agent `ana` is already so",
        ),
        (
            &["agent", "edit", "ana", "--name", "Ana Lima"][..],
            "nothing to change",
        ),
        (
            &["agent", "edit", "ana", "--add-email", "ANA@fablab.example"][..],
            "--add-email ANA@fablab.example: already among the emails",
        ),
        (
            &["agent", "edit", "ana", "--remove-email", "x@y.example"][..],
            "--remove-email x@y.example: not among the emails",
        ),
        (
            &["agent", "edit", "ana", "--add-email", "ben@fablab.example"][..],
            "email ben@fablab.example already belongs to agent `ben`",
        ),
        (
            &["agent", "edit", "ana", "--add-email", "not-an-email"][..],
            "is not an email address",
        ),
        (
            &["agent", "edit", "ana", "--name", "e\u{1b}[2Jvil"][..],
            "--name holds the forbidden character U+001B",
        ),
        (
            &["agent", "edit", "x\u{202e}y", "--name", "X"][..],
            "is not a valid id",
        ),
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err:?}"
        );
    }
    assert_eq!(commit_count(&s, &dir), before);
    assert_clean(&s, &dir);
    // Uncommitted changes to the file are never overwritten.
    std::fs::write(
        dir.join("agents/ana.toml"),
        "id = \"ana\"\nname = \"Mine\"\n",
    )
    .unwrap();
    let (code, _, err) = run(&s, &dir, &["agent", "edit", "ana", "--name", "Ana L."]);
    assert_eq!(code, 2);
    assert!(
        err.contains("agents/ana.toml has changes that are not committed; nothing was written"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/ana.toml")).unwrap(),
        "id = \"ana\"\nname = \"Mine\"\n"
    );
    assert_eq!(commit_count(&s, &dir), before);
    s.git(&dir, &["checkout", "agents/ana.toml"]);
    let (code, _, err) = run(&s, &dir, &["agent", "edit", "cy", "--kind", "organization"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: agents/cy.toml was written again in the layout ovn writes"),
        "{err}"
    );
    assert!(
        !std::fs::read_to_string(dir.join("agents/cy.toml"))
            .unwrap()
            .contains('#')
    );
}

#[test]
fn an_edit_killed_at_each_point_leaves_the_committed_file_or_its_commit() {
    for (point, lands) in [
        ("after-objects", false),
        ("after-journal", false),
        ("after-lock", false),
        ("after-tmp", false),
        ("after-files", false),
        ("after-index", false),
        ("after-ref", true),
    ] {
        let s = Sandbox::new();
        let dir = base_repo(&s, "ledger");
        let before = commit_count(&s, &dir);
        let old = std::fs::read_to_string(dir.join("agents/ben.toml")).unwrap();
        let out = s
            .ovn(&dir)
            .env("OVN_FAILPOINT", point)
            .args(["agent", "edit", "ben", "--name", "Ben O."])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the process was aborted");
        assert_eq!(
            commit_count(&s, &dir),
            before + usize::from(lands),
            "{point}"
        );
        // The next command finishes or undoes it: the file is the committed one, and clean.
        s.ovn(&dir).arg("recover").assert().success();
        let now = std::fs::read_to_string(dir.join("agents/ben.toml")).unwrap();
        if lands {
            assert!(now.contains("name = \"Ben O.\""), "{point}: {now}");
        } else {
            assert_eq!(now, old, "{point}: the committed text is back");
        }
        assert_eq!(
            s.git(&dir, &["status", "--porcelain", "-uall"]),
            "",
            "{point}"
        );
        for lock in ["index.lock", "refs/heads/main.lock", "ovn/journal"] {
            assert!(
                !dir.join(".git").join(lock).exists(),
                "{point}: {lock} left behind"
            );
        }
    }
}

/// The base ledger's agreement with Slicing Pie's leaver terms: a bad leaver forfeits work.
pub(crate) const DRONE_VE_WITH_LEAVING: &str = "id = \"drone-ve\"\nname = \"Drone value equation\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"30\"\nskill = { electronics = \"45\" }\n\n[[buckets]]\nname = \"network\"\nshare = \"10%\"\nto = \"fablab-fund\"\n\n[[buckets]]\nname = \"reimbursement\"\nshare = \"30%\"\nclaim = \"debt\"\n\n[[buckets.rules]]\nkind = \"money\"\n\n[[buckets.rules]]\nkind = \"material\"\n\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\nclaim = \"equity\"\n\n[[buckets.rules]]\nkind = \"work\"\n\n[[buckets.rules]]\nkind = \"use\"\n\n[leaving.bad]\nwork = \"forfeit\"\n";

#[test]
fn leave_and_rejoin_each_commit_one_judged_edit_and_refuse_what_cannot_be() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let n0 = commit_count(&s, &dir);
    // Work already logged on or after the day is refused, and nothing is written.
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "leave",
            "ben",
            "--date",
            "2026-03-12",
            "--reason",
            "good",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("contribution by ben dated 2026-03-12, but ben left on 2026-03-12"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(commit_count(&s, &dir), n0);
    // A unique prefix names the agent; one commit records the departure.
    let n = commit_count(&s, &dir);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "leave",
            "be",
            "--date",
            "2026-04-01",
            "--reason",
            "bad",
            "--note",
            "left mid-project",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Agent left: ben (bad leaver on 2026-04-01) in agents/ben.toml, commit "),
        "{out}"
    );
    assert_eq!(commit_count(&s, &dir), n + 1);
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> agent: leave ben (bad leaver on 2026-04-01)"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("agents/ben.toml")).unwrap(),
        "id = \"ben\"\nname = \"Ben Okafor\"\nkind = \"person\"\nemails = [\"ben@fablab.example\"]\n\n[[departures]]\nleft = 2026-04-01\nreason = \"bad\"\nnote = \"left mid-project\"\n"
    );
    // Refusals: exit 2, a clear error, nothing written; a dry run prints the record only.
    let before = snapshot(&dir);
    let n = commit_count(&s, &dir);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "leave",
            "cy",
            "--date",
            "2026-04-01",
            "--reason",
            "good",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("# agents/cy.toml (dry run: nothing written)\n"),
        "{out}"
    );
    assert!(
        out.ends_with("[[departures]]\nleft = 2026-04-01\nreason = \"good\"\n"),
        "{out}"
    );
    for (args, says) in [
        (
            &[
                "agent",
                "leave",
                "ben",
                "--date",
                "2026-05-01",
                "--reason",
                "good",
            ][..],
            "agent `ben` already left on 2026-04-01 and has not rejoined",
        ),
        (
            &["agent", "rejoin", "ben", "--date", "2026-03-31"][..],
            "--date 2026-03-31 is before agent `ben` left (2026-04-01)",
        ),
        (
            &["agent", "rejoin", "ana", "--date", "2026-05-01"][..],
            "agent `ana` has not left, so it cannot rejoin",
        ),
        (
            &[
                "agent",
                "leave",
                "bem",
                "--date",
                "2026-05-01",
                "--reason",
                "good",
            ][..],
            "did you mean `ben`?",
        ),
        (
            &[
                "agent",
                "leave",
                "ana",
                "--date",
                "2026-05-01",
                "--reason",
                "worse",
            ][..],
            "invalid value 'worse' for '--reason <REASON>'",
        ),
    ] {
        let (code, _, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(commit_count(&s, &dir), n);
    assert_same_files(&before, &snapshot(&dir));
    // ben comes back; from then on he can log again, and can leave again later.
    let (code, out, err) = run(
        &s,
        &dir,
        &["agent", "rejoin", "ben", "--date", "2026-06-01"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Agent rejoined: ben (on 2026-06-01)"),
        "{out}"
    );
    assert_eq!(
        subject(&s, &dir),
        "Ana Lima <ana@fablab.example> agent: rejoin ben (on 2026-06-01)"
    );
    assert!(
        std::fs::read_to_string(dir.join("agents/ben.toml"))
            .unwrap()
            .ends_with("note = \"left mid-project\"\nrejoined = 2026-06-01\n")
    );
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "leave",
            "ben",
            "--date",
            "2026-05-31",
            "--reason",
            "good",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--date 2026-05-31 is before agent `ben` rejoined (2026-06-01)"),
        "{err}"
    );
    assert_clean(&s, &dir);
}

#[test]
fn log_refuses_work_by_someone_who_has_left_until_they_rejoin() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "agent",
            "leave",
            "ben",
            "--date",
            "2026-04-01",
            "--reason",
            "good",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let n = commit_count(&s, &dir);
    let log = |date: &str| {
        run(
            &s,
            &dir,
            &[
                "log",
                "2h",
                "Test flight",
                "-p",
                "drone",
                "--agent",
                "ben",
                "--date",
                date,
            ],
        )
    };
    let (code, _, err) = log("2026-04-02");
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "contribution by ben dated 2026-04-02, but ben left on 2026-04-01 (good leaver)"
        ),
        "{err}"
    );
    assert!(err.contains("after-leaving"), "{err}");
    assert_eq!(commit_count(&s, &dir), n);
    // Work done before leaving is still recorded.
    let (code, _, err) = log("2026-03-31");
    assert_eq!(code, 0, "{err}");
    run(
        &s,
        &dir,
        &["agent", "rejoin", "ben", "--date", "2026-05-01"],
    );
    let (code, _, err) = log("2026-05-01");
    assert_eq!(code, 0, "{err}");
    assert_eq!(ok_check(&s, &dir), 0);
}

fn ok_check(s: &Sandbox, dir: &Path) -> i32 {
    run(s, dir, &["check"]).0
}

/// Issue 17: a member network's ledger location is set and cleared with `agent edit`, and
/// `agent show` / `agent list --format json` carry it (`null` for an agent without one).
#[test]
fn edit_sets_and_clears_a_networks_ledger() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    crate::common::ok(
        &s,
        &dir,
        &["agent", "add", "repair-cafe", "--kind", "network"],
    );
    let url = "https://git.example/repair-cafe/ledger.git";
    let out = crate::common::ok(&s, &dir, &["agent", "edit", "repair-cafe", "--ledger", url]);
    assert!(out.contains(&format!("ledger {url}")), "{out}");
    let text = std::fs::read_to_string(dir.join("agents/repair-cafe.toml")).unwrap();
    assert!(text.contains(&format!("ledger = \"{url}\"")), "{text}");
    let json = crate::common::ok(
        &s,
        &dir,
        &["agent", "show", "repair-cafe", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ledger"], url, "{json}");
    let list = crate::common::ok(&s, &dir, &["agent", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let ledgers: Vec<(&str, &serde_json::Value)> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), &a["ledger"]))
        .filter(|(id, _)| ["ana", "repair-cafe"].contains(id))
        .collect();
    assert_eq!(
        ledgers,
        [
            ("ana", &serde_json::Value::Null),
            ("repair-cafe", &serde_json::json!(url))
        ]
    );
    // Only a network has one.
    let (code, _, err) = crate::common::run(&s, &dir, &["agent", "edit", "ana", "--ledger", url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ana is of kind person"), "{err}");
    // Cleared.
    let out = crate::common::ok(&s, &dir, &["agent", "edit", "repair-cafe", "--no-ledger"]);
    assert!(out.contains("ledger removed"), "{out}");
    let text = std::fs::read_to_string(dir.join("agents/repair-cafe.toml")).unwrap();
    assert!(!text.contains("ledger"), "{text}");
    let json = crate::common::ok(
        &s,
        &dir,
        &["agent", "show", "repair-cafe", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ledger"], serde_json::Value::Null, "{json}");
}
