//! Every command's `--format json` output against its schema in `schemas/` (issue 20): the
//! schemas are the documented contract for scripts, and these tests keep them true. The
//! outputs are real ones, on the worked example and the bundled fablab ledger, in the
//! variants a script meets (a preview and a record, with and without --explain, a review
//! with awaiting approvals and a changed agreement, a check with problems and warnings).

use std::path::Path;

use crate::common::{self, Sandbox, base_repo, fablab_repo, policy_repo, run};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Runs `ovn ARGS` in `dir` and checks its stdout against `schemas/<name>.json`.
fn conforms(s: &Sandbox, dir: &Path, name: &str, args: &[&str]) {
    let (_, out, err) = run(s, dir, args);
    let value: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("ovn {args:?} printed no JSON ({e}): {out}{err}"));
    let errors = common::schema::errors(&schema(name), &value);
    assert!(
        errors.is_empty(),
        "ovn {args:?} breaks schemas/{name}.json: {errors:#?}"
    );
}

#[test]
fn every_schema_is_tested_here() {
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
            .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "agent",
            "agreement",
            "check",
            "export",
            "payout",
            "project",
            "report",
            "resource",
            "review",
            "status"
        ]
    );
}

#[test]
fn check_json_conforms() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    conforms(&s, &dir, "check", &["check", "--format", "json"]);
    conforms(
        &s,
        &dir,
        "check",
        &["check", "--at", "HEAD", "--format", "json"],
    );
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        common::with_role_bucket(&text).replace("kind = \"money\"", "kind = \"mony\""),
    )
    .unwrap();
    conforms(&s, &dir, "check", &["check", "--format", "json"]);
}

#[test]
fn payout_json_conforms() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fab");
    for p in ["drone", "lab", "seedbank"] {
        conforms(
            &s,
            &dir,
            "payout",
            &["payout", "3000", "-p", p, "--format", "json"],
        );
        conforms(
            &s,
            &dir,
            "payout",
            &["payout", "3000", "-p", p, "--format", "json", "--explain"],
        );
    }
    conforms(
        &s,
        &dir,
        "payout",
        &[
            "payout", "3000", "-p", "drone", "--record", "--format", "json",
        ],
    );
    // A claim a leaver's terms lowered carries `leaving` (examples/slicing-pie).
    let pie = s.repo("pie");
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slicing-pie"),
        &pie,
    );
    s.git(&pie, &["add", "-A"]);
    s.git(&pie, &["commit", "-q", "-m", "pie"]);
    conforms(
        &s,
        &pie,
        "payout",
        &[
            "payout",
            "10000",
            "-p",
            "app",
            "--date",
            "2026-06-30",
            "--format",
            "json",
            "--explain",
        ],
    );
}

/// A cascade's JSON (issue 17): `sub_payouts`, every level below the top with where it comes
/// from, in a preview (with and without --explain) and a record, over three levels.
#[test]
fn payout_json_of_a_cascade_conforms() {
    let s = Sandbox::new();
    let dir = common::cascade_repo(&s, "casc");
    let preview = ["payout", "3000", "-p", "drone", "--format", "json"];
    let (code, out, err) = run(&s, &dir, &preview);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let subs = v["sub_payouts"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "{out}");
    assert_eq!(
        (
            &subs[0]["project"],
            &subs[0]["depth"],
            &subs[0]["parent_project"],
            &subs[0]["parent_line"]
        ),
        (
            &Value::from("lab"),
            &Value::from(1),
            &Value::from("drone"),
            &Value::from(1)
        ),
        "{out}"
    );
    assert_eq!(
        (
            &subs[1]["project"],
            &subs[1]["depth"],
            &subs[1]["parent_project"],
            &subs[1]["amount"]
        ),
        (
            &Value::from("fund"),
            &Value::from(2),
            &Value::from("lab"),
            &Value::from("60.00")
        ),
        "{out}"
    );
    conforms(&s, &dir, "payout", &preview);
    conforms(&s, &dir, "payout", &[&preview[..], &["--explain"]].concat());
    conforms(
        &s,
        &dir,
        "payout",
        &[&preview[..], &["--record", "--date", "2026-11-20"]].concat(),
    );
    // A sub-payout's own JSON is a payout's, with no `sub_payouts` of its own.
    let mut broken = v.clone();
    broken["sub_payouts"][0]["sub_payouts"] = Value::Array(Vec::new());
    assert!(!common::schema::errors(&schema("payout"), &broken).is_empty());
}

/// A review of a change to a project paying projects: its impact's `sub_projects`.
#[test]
fn review_json_of_a_cascade_conforms() {
    let s = Sandbox::new();
    let dir = common::cascade_repo(&s, "casc");
    common::ok(
        &s,
        &dir,
        &[
            "log",
            "4h",
            "Soldered",
            "-p",
            "drone",
            "--date",
            "2026-11-20",
        ],
    );
    let args = [
        "review",
        "HEAD~1..HEAD",
        "--amount",
        "3000",
        "--format",
        "json",
    ];
    let (_, out, _) = run(&s, &dir, &args);
    assert!(out.contains("\"sub_projects\": ["), "{out}");
    conforms(&s, &dir, "review", &args);
}

#[test]
fn report_json_conforms() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fab");
    common::ok(&s, &dir, &["payout", "3000", "-p", "drone", "--record"]);
    for args in [
        &["report", "contributions", "--format", "json"][..],
        &[
            "report",
            "contributions",
            "--by",
            "agent,project",
            "--format",
            "json",
        ],
        &["report", "claims", "--format", "json"],
        &["report", "payouts", "--format", "json"],
        &["report", "resources", "--format", "json"],
    ] {
        conforms(&s, &dir, "report", args);
    }
}

#[test]
fn review_json_conforms() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    s.git(&dir, &["switch", "-q", "-c", "week"]);
    common::ok(
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
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("kind = \"use\"", "kind = \"care\"")).unwrap();
    s.git(&dir, &["commit", "-qam", "care"]);
    conforms(
        &s,
        &dir,
        "review",
        &["review", "--amount", "3000", "--format", "json"],
    );
    conforms(
        &s,
        &dir,
        "review",
        &["review", "--format", "json", "--no-impact"],
    );
    conforms(
        &s,
        &dir,
        "review",
        &["review", "main..week", "--format", "json"],
    );
}

#[test]
fn record_show_and_list_json_conform() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fab");
    for (kind, id) in [
        ("agent", "ana"),
        ("project", "drone"),
        ("resource", "greenhouse"),
        ("resource", "laser"),
        ("agreement", "drone-ve"),
    ] {
        conforms(&s, &dir, kind, &[kind, "list", "--format", "json"]);
        conforms(&s, &dir, kind, &[kind, "show", id, "--format", "json"]);
    }
    // Every agreement of the fablab, with its fixed amounts, caps and rule limits.
    let (_, out, _) = run(&s, &dir, &["agreement", "list", "--format", "json"]);
    let list: Value = serde_json::from_str(&out).unwrap();
    for a in list["agreements"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        conforms(
            &s,
            &dir,
            "agreement",
            &["agreement", "show", id, "--format", "json"],
        );
    }
}

/// An agreement with a balanced bucket, a decay schedule and a lookback (`examples/policies`)
/// shows them, as its schema says.
#[test]
fn an_agreement_with_policies_shows_them() {
    let s = Sandbox::new();
    let dir = s.repo("policies");
    common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "policies example"]);
    let args = ["agreement", "show", "radio-ve", "--format", "json"];
    conforms(&s, &dir, "agreement", &args);
    let (_, out, _) = run(&s, &dir, &args);
    let v: Value = serde_json::from_str(&out).unwrap();
    let legacy = &v["buckets"][2];
    assert_eq!(legacy["policy"], "balanced", "{v}");
    assert_eq!(legacy["decay"][1]["until"], "2y", "{v}");
    assert_eq!(legacy["decay"][1]["factor"], "0.5", "{v}");
    assert_eq!(v["buckets"][3]["lookback"], "12m", "{v}");
    let (_, human, _) = run(&s, &dir, &["agreement", "show", "radio-ve"]);
    assert!(
        human.contains("balanced, decay 1 until 1y / 0.5 until 2y / 0.25 until 5y then 0"),
        "{human}"
    );
}

#[test]
fn export_json_conforms() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fab");
    conforms(&s, &dir, "export", &["export", "json"]);
    common::ok(&s, &dir, &["payout", "3000", "-p", "drone", "--record"]);
    common::ok(
        &s,
        &dir,
        &[
            "payout", "1200", "-p", "seedbank", "--record", "--memo", "autumn",
        ],
    );
    let (_, out, _) = run(&s, &dir, &["export", "json"]);
    assert!(out.contains("\"settled\": [\n"), "{out}");
    conforms(&s, &dir, "export", &["export", "json"]);
}

#[test]
fn status_json_conforms() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "l", 1);
    conforms(&s, &dir, "status", &["status", "--format", "json"]);
    // An upstream for main, so `upstream` and the validated branch's are objects too.
    let up = dir.parent().unwrap().join("up.git");
    s.git(&dir, &["clone", "-q", "--bare", ".", up.to_str().unwrap()]);
    s.git(&dir, &["remote", "add", "origin", up.to_str().unwrap()]);
    s.git(&dir, &["fetch", "-q", "origin"]);
    s.git(&dir, &["branch", "-q", "-u", "origin/main"]);
    let (_, out, _) = run(&s, &dir, &["status", "--format", "json"]);
    assert!(out.contains("\"upstream\": {"), "{out}");
    conforms(&s, &dir, "status", &["status", "--format", "json"]);
    s.git(&dir, &["switch", "-q", "-c", "week"]);
    common::ok(
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
    std::fs::write(dir.join("agents/new.toml"), "id = \"new\"\n").unwrap();
    let (_, out, _) = run(&s, &dir, &["status", "--format", "json"]);
    assert!(out.contains("\"awaiting_approval\": ["), "{out}");
    conforms(&s, &dir, "status", &["status", "--format", "json"]);
}

/// The validator is not a rubber stamp: the shapes issue 20 replaced are refused.
#[test]
fn the_old_shapes_break_the_schemas() {
    let old_review = serde_json::json!({
        "base": "main (536543719fde)", "head": "HEAD (536543719fde)", "added": [], "changed": [],
        "removed": [], "violations": [], "governance": [], "records": [], "impact": []
    });
    assert!(!common::schema::errors(&schema("review"), &old_review).is_empty());
    let old_row = serde_json::json!({
        "report": "contributions", "commit": "0".repeat(40), "notes": [],
        "rows": [{ "agent": "ana", "contributions": "14" }], "total": null
    });
    assert!(!common::schema::errors(&schema("report"), &old_row).is_empty());
    // A list's record without its path, or under the wrong key, is refused.
    let agents = serde_json::json!({ "agents": [{
        "id": "ana", "name": "Ana", "kind": "person", "emails": [], "keys": [], "joined": null
    }] });
    assert!(!common::schema::errors(&schema("agent"), &agents).is_empty());
    let projects = serde_json::json!({ "agents": [] });
    assert!(!common::schema::errors(&schema("project"), &projects).is_empty());
}

/// Issue 18: the payout JSON carries what a script needs to re-derive the numbers — each
/// claim's decay factor and age, a balanced bucket's target, received and shortfall rows, a
/// bucket's freeze — on the `examples/policies` and `examples/freeze` ledgers, as its schema
/// says; and `agreement show` shows the freeze.
#[test]
fn payout_json_carries_decay_balance_and_freeze() {
    let s = Sandbox::new();
    let example = |name: &str| {
        let dir = s.repo(name);
        common::copy_tree(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(name),
            &dir,
        );
        s.git(&dir, &["add", "-A"]);
        s.git(&dir, &["commit", "-qm", "example"]);
        dir
    };
    let dir = example("policies");
    let first = ["payout", "2000", "-p", "radio", "--date", "2026-06-30"];
    common::ok(&s, &dir, &[&first[..], &["--record"]].concat());
    let second = ["payout", "1000", "-p", "radio", "--date", "2026-12-15"];
    for extra in [
        &["--format", "json"][..],
        &["--format", "json", "--explain"],
    ] {
        conforms(&s, &dir, "payout", &[&second[..], extra].concat());
    }
    let (_, out, _) = run(
        &s,
        &dir,
        &[&second[..], &["--format", "json", "--explain"]].concat(),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let legacy = &v["buckets"][2];
    // ana's schematic of 2022-05-10: 4y 7m old on 2026-12-15, factor 0.25 (weight = value × factor).
    let claim = legacy["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contribution"] == "01ex0000000000000000000002")
        .unwrap();
    assert_eq!(claim["value"], "300", "{claim}");
    assert_eq!(claim["weight"], "75", "{claim}");
    assert_eq!(claim["decay"]["factor"], "0.25", "{claim}");
    assert_eq!(claim["decay"]["age_months"], 55, "{claim}");
    assert_eq!(
        claim["decay"]["why"], "age 4y 7m on 2026-12-15, under 5y",
        "{claim}"
    );
    // The balanced rows: dee is 261.818… below target and takes it.
    let balance = &legacy["balance"];
    assert_eq!(balance["received"], "800.00", "{balance}");
    assert_eq!(balance["everything"], "1200.00", "{balance}");
    let dee = balance["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "dee")
        .unwrap();
    assert_eq!(dee["weight"], "180", "{dee}");
    assert_eq!(dee["received"], "0.00", "{dee}");
    assert!(
        dee["target"].as_str().unwrap().starts_with("261.818181"),
        "{dee}"
    );
    assert_eq!(dee["target"], dee["shortfall"], "{dee}");
    // Without --explain, the balanced rows are there but no claims.
    let (_, out, _) = run(&s, &dir, &[&second[..], &["--format", "json"]].concat());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["buckets"][2]["claims"].is_null(), "{v}");
    assert_eq!(v["buckets"][2]["balance"]["agents"][3]["agent"], "dee");

    let dir = example("freeze");
    let pay = ["payout", "1000", "-p", "studio", "--date", "2026-07-31"];
    for extra in [
        &["--format", "json"][..],
        &["--format", "json", "--explain"],
    ] {
        conforms(&s, &dir, "payout", &[&pay[..], extra].concat());
    }
    let show = ["agreement", "show", "pie", "--format", "json"];
    conforms(&s, &dir, "agreement", &show);
    let (_, out, _) = run(&s, &dir, &show);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["buckets"][0]["freeze"],
        serde_json::json!({"from": "2026-06-01", "after": "debt", "rate": "25"})
    );
    let (_, human, _) = run(&s, &dir, &["agreement", "show", "pie"]);
    assert!(
        human.contains("1. pie: rest, equity, frozen from 2026-06-01, later work as debt at 25/h"),
        "{human}"
    );
}
