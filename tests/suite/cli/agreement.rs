//! `ovn agreement add|show|list` end to end on real git repositories: a template written and
//! committed as one validated write that `ovn check` accepts as it stands, the dry run, the
//! refusals (an id taken, a template that does not exist, a bad name), and `show` and `list`
//! in every format, hostile names included.

use crate::common::{
    Sandbox, assert_clean, base_repo, commit_count, ok, read_added, run, subject, write_files,
};

#[test]
fn add_writes_a_template_that_passes_check_and_commits_it_alone() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    for template in ["simple", "sensorica", "slicing-pie", "sourcecred-balanced"] {
        let id = format!("{template}-ve");
        let before = commit_count(&s, &dir);
        let (code, out, err) = run(
            &s,
            &dir,
            &[
                "agreement",
                "add",
                &id,
                "--template",
                template,
                "--name",
                "Our \"value\" equation",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(&format!(
                "Added agreement {id} (Our \"value\" equation, template {template}) in agreements/{id}.toml, commit "
            )),
            "{out}"
        );
        assert!(
            err.contains(&format!("hint: edit agreements/{id}.toml")),
            "{err}"
        );
        assert_eq!(commit_count(&s, &dir), before + 1);
        let text = read_added(&s, &dir);
        assert!(
            text.starts_with(&format!("# Agreement {id}: a value equation")),
            "{text}"
        );
        assert!(text.contains(&format!(
            "id = \"{id}\"\nname = \"Our \\\"value\\\" equation\"\n"
        )));
        assert_eq!(
            subject(&s, &dir),
            format!(
                "Ana Lima <ana@fablab.example> agreement: add {id} (Our \"value\" equation, template {template})"
            )
        );
        assert_clean(&s, &dir);
    }
    assert_eq!(ok(&s, &dir, &["check"]), "ok: 16 records, no problems\n");
    // A project can now be added with it, as the hint of `project add` said.
    ok(
        &s,
        &dir,
        &["project", "add", "lab", "--agreement", "sensorica-ve"],
    );
    let shown = ok(&s, &dir, &["agreement", "show", "sensorica-ve"]);
    assert!(shown.starts_with("agreement sensorica-ve (Our \"value\" equation)\n  kind      value-equation\n  projects  lab\n"), "{shown}");
    assert!(
        shown.contains("    2. costs: 20% of total, debt\n         material\n"),
        "{shown}"
    );
}

#[test]
fn the_default_template_is_simple_and_a_dry_run_writes_nothing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    let (code, out, err) = run(&s, &dir, &["agreement", "add", "new-ve", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("from the template \"simple\""), "{out}");
    assert!(
        out.contains("id = \"new-ve\"\nname = \"new-ve\"\n"),
        "{out}"
    );
    assert!(
        err.contains("dry run: nothing written (would write agreements/new-ve.toml"),
        "{err}"
    );
    assert_eq!(commit_count(&s, &dir), before);
    assert!(!dir.join("agreements/new-ve.toml").exists());
    assert_clean(&s, &dir);
    // A dry run is judged like the write: a taken id is refused.
    let (code, _, err) = run(&s, &dir, &["agreement", "add", "drone-ve", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("agreement `drone-ve` already exists (agreements/drone-ve.toml)"),
        "{err}"
    );
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    for (args, says) in [
        (
            &["agreement", "add", "drone-ve"][..],
            "agreement `drone-ve` already exists",
        ),
        (
            &["agreement", "add", "x-ve", "--template", "slicing"][..],
            "invalid value 'slicing' for '--template <TEMPLATE>'",
        ),
        (&["agreement", "add", "Bad Id"][..], "is not a valid id"),
        (
            &["agreement", "add", "x-ve", "--name", "evil\u{1b}[31mred"][..],
            "--name holds the forbidden character U+001B (ESCAPE)",
        ),
        (
            &["agreement", "show", "nope"][..],
            "unknown agreement `nope`",
        ),
        (
            &["agreement", "show", "drone-vx"][..],
            "did you mean `drone-ve`?",
        ),
        (
            &["agreement", "show", "evil\u{1b}[2J"][..],
            "unknown agreement `evil\\u{1b}[2J`",
        ),
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}') || args.contains(&"slicing-pie"),
            "{err:?}"
        );
    }
    assert_eq!(commit_count(&s, &dir), before);
    assert_clean(&s, &dir);
}

#[test]
fn the_template_list_is_in_help() {
    let s = Sandbox::new();
    let dir = s.work();
    let help = ok(&s, &dir, &["agreement", "add", "--help"]);
    assert!(help.contains("simple"), "{help}");
    assert!(help.contains("sensorica"), "{help}");
    assert!(help.contains("slicing-pie"), "{help}");
    assert!(help.contains("sourcecred-balanced"), "{help}");
}

#[test]
fn list_and_show_in_every_format_with_hostile_names_escaped() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let table = ok(&s, &dir, &["agreement", "list"]);
    assert!(
        table.contains(" drone-ve   Drone value equation   value-equation   3         drone"),
        "{table}"
    );
    assert_eq!(
        ok(&s, &dir, &["agreement", "list", "--format", "csv"]),
        "id,name,kind,buckets,projects\ndrone-ve,Drone value equation,value-equation,3,drone\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&s, &dir, &["agreement", "list", "--format", "json"])).unwrap();
    assert_eq!(json["agreements"][0]["id"], "drone-ve");
    assert_eq!(json["agreements"][0]["rates"]["skill"]["electronics"], "45");
    assert_eq!(json["agreements"][0]["buckets"][0]["to"], "fablab-fund");
    assert_eq!(
        json["agreements"][0]["buckets"][1]["rules"][1]["kind"],
        "material"
    );
    let one: serde_json::Value = serde_json::from_str(&ok(
        &s,
        &dir,
        &["agreement", "show", "drone-ve", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(one, json["agreements"][0]);
    assert_eq!(one["projects"][0], "drone");

    // A name a pull request wrote: an invisible character makes the record unreadable (ovn
    // check names it), so it is not listed and its text reaches no output; a comma and
    // quotes are data, quoted in CSV and JSON.
    write_files(
        &dir,
        &[
            (
                "agreements/evil-ve.toml",
                "id = \"evil-ve\"\nname = \"Evil \u{200b}gnp.exe\"\nkind = \"value-equation\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n",
            ),
            (
                "agreements/odd-ve.toml",
                "id = \"odd-ve\"\nname = \"Odd, \\\"quoted\\\" | <b>\"\nkind = \"value-equation\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n",
            ),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "evil"]);
    for format in ["table", "csv", "json"] {
        let out = ok(&s, &dir, &["agreement", "list", "--format", format]);
        assert!(
            !out.contains('\u{200b}') && !out.contains("evil"),
            "{format}: {out}"
        );
    }
    let csv = ok(&s, &dir, &["agreement", "list", "--format", "csv"]);
    assert!(
        csv.contains("\nodd-ve,\"Odd, \"\"quoted\"\" | <b>\",value-equation,1,\n"),
        "{csv}"
    );
    let out = ok(&s, &dir, &["agreement", "show", "odd-ve"]);
    assert!(
        out.starts_with("agreement odd-ve (Odd, \"quoted\" | <b>)\n"),
        "{out}"
    );
    let (code, _, err) = run(&s, &dir, &["agreement", "show", "evil-ve"]);
    assert_eq!(code, 2, "{err}");
    // --at reads another revision.
    let out = ok(
        &s,
        &dir,
        &["agreement", "list", "--at", "HEAD~1", "--format", "csv"],
    );
    assert!(!out.contains("odd"), "{out}");
}

#[test]
fn an_empty_list_says_how_to_add_one_and_project_add_hint_is_true() {
    let s = Sandbox::new();
    let dir = s.repo("empty");
    ok(&s, &dir, &["init", "--name", "Lab", "--currency", "EUR"]);
    assert_eq!(
        ok(&s, &dir, &["agreement", "list"]),
        "No agreements yet: add one with `ovn agreement add ID`.\n"
    );
    // `project add` with an unknown agreement names the command that adds one; it works.
    let (code, _, err) = run(
        &s,
        &dir,
        &["project", "add", "lab", "--agreement", "lab-ve"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("the ledger has no agreement yet; add one with `ovn agreement add ID`"),
        "{err}"
    );
    ok(&s, &dir, &["agreement", "add", "lab-ve"]);
    ok(
        &s,
        &dir,
        &["project", "add", "lab", "--agreement", "lab-ve"],
    );
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn add_with_project_makes_the_project_use_it_in_the_same_commit() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    let out = ok(
        &s,
        &dir,
        &[
            "agreement",
            "add",
            "drone-ve2",
            "--template",
            "sensorica",
            "--project",
            "drone",
        ],
    );
    assert!(
        out.starts_with("Added agreement drone-ve2 (drone-ve2, template sensorica), for project drone instead of drone-ve in agreements/drone-ve2.toml, projects/drone.toml, commit "),
        "{out}"
    );
    assert_eq!(commit_count(&s, &dir), before + 1);
    assert_eq!(
        s.git(&dir, &["show", "--name-status", "--format=", "HEAD"]),
        "A\tagreements/drone-ve2.toml\nM\tprojects/drone.toml\n"
    );
    assert!(
        std::fs::read_to_string(dir.join("projects/drone.toml"))
            .unwrap()
            .contains("agreement = \"drone-ve2\"\n")
    );
    assert_clean(&s, &dir);
    assert_eq!(ok(&s, &dir, &["check"]), "ok: 13 records, no problems\n");
    // A payout of drone now follows the new agreement.
    let payout = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert!(payout.contains("participants"), "{payout}");
    // An unknown project is refused, and nothing is written.
    let (code, _, err) = run(&s, &dir, &["agreement", "add", "x-ve", "--project", "dron"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `drone`?"), "{err}");
    assert!(!dir.join("agreements/x-ve.toml").exists());
    assert_eq!(commit_count(&s, &dir), before + 1);
}
