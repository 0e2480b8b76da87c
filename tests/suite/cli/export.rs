//! `ovn export` end to end: the hledger journal and the beancount file of recorded payouts,
//! checked by the real `hledger check` and `bean-check` (skipped with a message when they are
//! not installed; `.ci/run` installs them), CSV, JSON, ValueFlows JSON-LD, and atomic writes.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Sandbox, base_repo, ok, run};

use crate::common::PAYOUT_ID;

/// The worked example with its 3000.00 payout recorded (a fixed id, so output is stable),
/// memo with a comma, quotes and a semicolon.
fn with_payout(s: &Sandbox) -> (PathBuf, String) {
    common::repo_with_payout(s, "Invoice 114; \"spring\", paid")
}

/// Whether `tool --version` runs; prints why a test is skipped when it does not.
fn installed(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: `{tool}` is not installed (bash .ci/run installs it)");
    }
    ok
}

#[test]
fn hledger_journal_of_the_worked_example() {
    let s = Sandbox::new();
    let (dir, computed_at) = with_payout(&s);
    let head = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let journal = ok(&s, &dir, &["export", "hledger"]);
    let expected_head = format!(
        "\
; Fablab Commons: recorded payouts, exported by ovn from ledger commit {head}
; Revenue is income of its project, to be received; each payout line is an expense owed
; to its agent until paid. See ovn-export(1).

commodity 100000.00 EUR
account assets:receivable:drone
account expenses:payouts:ana
account expenses:payouts:ben
account expenses:payouts:cy
account expenses:payouts:fablab-fund
account income:projects:drone
account liabilities:payable:ana
account liabilities:payable:ben
account liabilities:payable:cy
account liabilities:payable:fablab-fund

2026-11-30 * ({PAYOUT_ID}) Payout drone | Invoice 114, \"spring\", paid
    ; agreement: drone-ve, commit: {computed_at}, digest: sha256:"
    );
    assert!(journal.starts_with(&expected_head), "{journal}");
    assert!(
        journal.ends_with(
            "
    assets:receivable:drone  3000.00 EUR
    income:projects:drone  -3000.00 EUR
    expenses:payouts:fablab-fund  300.00 EUR  ; bucket: network
    liabilities:payable:fablab-fund  -300.00 EUR
    expenses:payouts:ben  400.00 EUR  ; bucket: reimbursement
    liabilities:payable:ben  -400.00 EUR
    expenses:payouts:ana  1150.00 EUR  ; bucket: equity
    liabilities:payable:ana  -1150.00 EUR
    expenses:payouts:ben  1101.06 EUR  ; bucket: equity
    liabilities:payable:ben  -1101.06 EUR
    expenses:payouts:cy  48.94 EUR  ; bucket: equity
    liabilities:payable:cy  -48.94 EUR
"
        ),
        "{journal}"
    );
    if !installed("hledger") {
        return;
    }
    let file = s.work().join("payouts.journal");
    ok(
        &s,
        &dir,
        &["export", "hledger", "-o", file.to_str().unwrap()],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), journal);
    let check = Command::new("hledger")
        .args(["check", "--strict", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "hledger check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let bal = Command::new("hledger")
        .args(["balance", "--flat", "-N", "-f"])
        .arg(&file)
        .arg("payable:ben")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(bal.stdout).unwrap().trim(),
        "-1501.06 EUR  liabilities:payable:ben"
    );
}

#[test]
fn beancount_file_passes_bean_check() {
    let s = Sandbox::new();
    let (dir, _) = with_payout(&s);
    let text = ok(&s, &dir, &["export", "beancount"]);
    assert!(
        text.contains(
            "2026-11-30 open Liabilities:Payable:Fablab-fund EUR\n\n2026-11-30 * \"Payout drone\" \"Invoice 114, \\\"spring\\\", paid\"\n  payout: \"01pa0000000000000000000001\"\n  agreement: \"drone-ve\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  Expenses:Payouts:Ben  1101.06 EUR\n    bucket: \"equity\"\n  Liabilities:Payable:Ben  -1101.06 EUR\n"),
        "{text}"
    );
    if !installed("bean-check") {
        return;
    }
    let file = s.work().join("payouts.beancount");
    ok(
        &s,
        &dir,
        &["export", "beancount", "-o", file.to_str().unwrap()],
    );
    let check = Command::new("bean-check").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "bean-check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn an_empty_journal_is_still_valid() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let journal = ok(&s, &dir, &["export", "hledger"]);
    assert_eq!(journal.lines().count(), 4);
    let bean = ok(&s, &dir, &["export", "beancount"]);
    assert!(
        bean.ends_with("option \"title\" \"Fablab Commons: payouts\"\n"),
        "{bean}"
    );
    if installed("hledger") {
        let file = s.work().join("empty.journal");
        std::fs::write(&file, journal).unwrap();
        let check = Command::new("hledger")
            .args(["check", "--strict", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(check.status.success());
    }
    if installed("bean-check") {
        let file = s.work().join("empty.beancount");
        std::fs::write(&file, bean).unwrap();
        let check = Command::new("bean-check").arg(&file).output().unwrap();
        assert!(check.status.success());
    }
}

#[test]
fn csv_and_json() {
    let s = Sandbox::new();
    let (dir, at) = with_payout(&s);
    let memo = "\"Invoice 114; \"\"spring\"\", paid\"";
    assert_eq!(
        ok(&s, &dir, &["export", "csv"]),
        format!(
            "\
date,payout,project,agreement,memo,agent,bucket,amount,currency,commit
2026-11-30,{PAYOUT_ID},drone,drone-ve,{memo},fablab-fund,network,300.00,EUR,{at}
2026-11-30,{PAYOUT_ID},drone,drone-ve,{memo},ben,reimbursement,400.00,EUR,{at}
2026-11-30,{PAYOUT_ID},drone,drone-ve,{memo},ana,equity,1150.00,EUR,{at}
2026-11-30,{PAYOUT_ID},drone,drone-ve,{memo},ben,equity,1101.06,EUR,{at}
2026-11-30,{PAYOUT_ID},drone,drone-ve,{memo},cy,equity,48.94,EUR,{at}
"
        )
    );
    assert_eq!(
        ok(&s, &dir, &["export", "csv", "--until", "2026-11-29"]),
        "date,payout,project,agreement,memo,agent,bucket,amount,currency,commit\n"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&s, &dir, &["export", "json"])).unwrap();
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["payouts"][0]["id"], PAYOUT_ID);
    assert_eq!(v["payouts"][0]["lines"][3]["amount"], "1101.06");
    assert_eq!(
        v["payouts"][0]["settled"][0]["contribution"],
        "01aaaaaaaaaaaaaaaaaaaaaaa4"
    );
    assert_eq!(v["payouts"][0]["settled"][0]["claim"], "debt");
}

#[test]
fn valueflows_json_ld() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let text = ok(&s, &dir, &["export", "valueflows"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["@context"]["vf"], "https://w3id.org/valueflows/ont/vf#");
    let events: Vec<&serde_json::Value> = v["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["@type"] == "vf:EconomicEvent")
        .collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["vf:action"]["@id"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["vf:work", "vf:work", "vf:work", "vf:transfer", "vf:use"]
    );
    assert_eq!(events[0]["vf:provider"]["@id"], "urn:ovn:agent:ana");
    assert_eq!(
        events[0]["vf:effortQuantity"]["om2:hasNumericalValue"]["@value"],
        "20"
    );
    assert_eq!(
        events[4]["vf:resourceInventoriedAs"]["@id"],
        "urn:ovn:resource:printer"
    );
    // Valid JSON-LD: it expands (with pyld, when Python has it).
    let file = s.work().join("l.jsonld");
    std::fs::write(&file, &text).unwrap();
    let expand = Command::new("python3")
        .arg("-c")
        .arg("import json,sys\nfrom pyld import jsonld\nd=jsonld.expand(json.load(open(sys.argv[1])))\nprint(len(d[0]['@graph']) if '@graph' in d[0] else len(d))")
        .arg(&file)
        .output();
    match expand {
        Ok(o) if o.status.success() => {
            assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), "11");
        }
        _ => println!("SKIPPED: JSON-LD expansion needs python3 with pyld (pip install pyld)"),
    }
}

#[test]
fn output_files_are_written_whole_or_not_at_all() {
    let s = Sandbox::new();
    let (dir, _) = with_payout(&s);
    let file = s.work().join("out.csv");
    std::fs::write(&file, "old").unwrap();
    let (code, out, err) = run(&s, &dir, &["export", "csv", "-o", file.to_str().unwrap()]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("date,payout")
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(s.work())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    // A missing folder, or a folder as the file: an environment error, nothing written.
    let missing = s.work().join("no/such/dir/out.csv");
    let (code, _, err) = run(
        &s,
        &dir,
        &["export", "csv", "-o", missing.to_str().unwrap()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.starts_with("error: cannot write "), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    let (code, _, err) = run(
        &s,
        &dir,
        &["export", "json", "-o", s.work().to_str().unwrap()],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("it is a directory"), "{err}");
    // A bad filter is a usage error.
    let (code, _, err) = run(&s, &dir, &["export", "hledger", "-p", "dron"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `drone`"), "{err}");
    let (code, _, _) = run(&s, &dir, &["export", "ledger-cli"]);
    assert_eq!(code, 2);
}
