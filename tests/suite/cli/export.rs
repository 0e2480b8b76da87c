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
; Fablab Commons: the treasurer's books, exported by ovn from ledger commit {head}
; Revenue is income of its project; what members advanced is owed to them until a payout
; line settles it; each line is owed to its agent until paid. Accounts: ovn-ledger(5).

commodity 100000.00 EUR
account assets:receivable:drone
account assets:reserve:fablab-fund
account equity:distributions:ana
account equity:distributions:ben
account equity:distributions:cy
account expenses:projects:drone:money
account income:projects:drone
account liabilities:members:ben
account liabilities:payable:ana
account liabilities:payable:ben
account liabilities:payable:cy
account liabilities:payable:fablab-fund

2026-03-12 * (01aaaaaaaaaaaaaaaaaaaaaaa4) Contribution ben | Bought motors and sensors
    ; project: drone, kind: money
    expenses:projects:drone:money  400.00 EUR  ; bucket: reimbursement
    liabilities:members:ben  -400.00 EUR

2026-11-30 * ({PAYOUT_ID}) Payout drone | Invoice 114, \"spring\", paid
    ; agreement: drone-ve, commit: {computed_at}, digest: sha256:"
    );
    assert!(journal.starts_with(&expected_head), "{journal}");
    assert!(
        journal.ends_with(
            "
    assets:receivable:drone  3000.00 EUR
    income:projects:drone  -3000.00 EUR
    assets:reserve:fablab-fund  300.00 EUR  ; bucket: network
    liabilities:payable:fablab-fund  -300.00 EUR
    liabilities:members:ben  400.00 EUR  ; bucket: reimbursement
    liabilities:payable:ben  -400.00 EUR
    equity:distributions:ana  1150.00 EUR  ; bucket: equity
    liabilities:payable:ana  -1150.00 EUR
    equity:distributions:ben  1101.06 EUR  ; bucket: equity
    liabilities:payable:ben  -1101.06 EUR
    equity:distributions:cy  48.94 EUR  ; bucket: equity
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
            "2026-03-12 open Liabilities:Payable:Fablab-fund EUR\n\n2026-03-12 * \"Contribution ben\" \"Bought motors and sensors\"\n  contribution: \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\n  project: \"drone\"\n  kind: \"money\"\n  Expenses:Projects:Drone:Money  400.00 EUR\n    bucket: \"reimbursement\"\n  Liabilities:Members:Ben  -400.00 EUR\n\n2026-11-30 * \"Payout drone\" \"Invoice 114, \\\"spring\\\", paid\"\n  payout: \"01pa0000000000000000000001\"\n  agreement: \"drone-ve\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  Equity:Distributions:Ben  1101.06 EUR\n    bucket: \"equity\"\n  Liabilities:Payable:Ben  -1101.06 EUR\n"),
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
    // Nothing before the first contribution (without a period, the base ledger's books hold
    // ben's advance, though no payout is recorded).
    let until = ["--until", "2026-03-01"];
    let journal = ok(&s, &dir, &[&["export", "hledger"][..], &until].concat());
    assert_eq!(journal.lines().count(), 4);
    assert!(ok(&s, &dir, &["export", "hledger"]).contains("liabilities:members:ben  -400.00 EUR"));
    let ledger = ok(&s, &dir, &[&["export", "ledger"][..], &until].concat());
    assert_eq!(ledger, journal);
    let bean = ok(&s, &dir, &[&["export", "beancount"][..], &until].concat());
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
    // Ids come from the repository's first commit when ovn.toml sets no base.
    let root = s.git(&dir, &["rev-list", "--max-parents=0", "HEAD"]);
    assert_eq!(v["@context"]["ledger"], format!("urn:ovn:{}:", root.trim()));
    let events = nodes(&v, "vf:EconomicEvent");
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["vf:action"]["@id"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "vf:work",
            "vf:work",
            "vf:work",
            "vf:transfer",
            "vf:use",
            "vf:use"
        ]
    );
    assert_eq!(events[0]["vf:provider"]["@id"], "ledger:agent/ana");
    assert_eq!(
        events[0]["vf:effortQuantity"]["vf:hasNumericalValue"]["@value"],
        "20"
    );
    assert_eq!(
        events[0]["vf:effortQuantity"]["vf:hasUnit"]["@id"],
        "ledger:unit/hour"
    );
    // The use of the pooled printer is provided by its owners, 5 h each, not by cy who
    // logged it.
    for (e, owner) in [(events[4], "ana"), (events[5], "cy")] {
        assert_eq!(
            e["vf:resourceInventoriedAs"]["@id"],
            "ledger:resource/printer"
        );
        assert_eq!(e["vf:provider"]["@id"], format!("ledger:agent/{owner}"));
        assert_eq!(
            e["vf:effortQuantity"]["vf:hasNumericalValue"]["@value"],
            "5"
        );
    }
    assert!(
        !text.contains("om2:") && !text.contains("urn:ovn:vocab") && !text.contains("ovn:kind")
    );
    expands(&s, &text, "l.jsonld");
}

/// The nodes of a JSON-LD export's graph of one type.
fn nodes<'v>(v: &'v serde_json::Value, kind: &str) -> Vec<&'v serde_json::Value> {
    v["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["@type"] == kind)
        .collect()
}

/// A real JSON-LD processor (pyld, which `.ci/run` installs with pip for the beancount test
/// anyway, so it costs CI no build time, unlike a Rust JSON-LD crate) expands the export,
/// and every id is absolute. Skipped with a message when pyld is missing.
fn expands(s: &Sandbox, text: &str, name: &str) {
    let file = s.work().join(name);
    std::fs::write(&file, text).unwrap();
    let script = "import json,sys\nfrom pyld import jsonld\nd=jsonld.expand(json.load(open(sys.argv[1])))\ng=d[0]['@graph']\nbad=[n['@id'] for n in g if ':' not in n.get('@id','') or n['@id'].startswith('ledger:')]\nassert not bad, bad\nprint(len(g))";
    let expand = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output();
    let count = text.lines().filter(|l| l.starts_with("    {")).count();
    match expand {
        Ok(o) if o.status.success() => {
            assert_eq!(
                String::from_utf8(o.stdout).unwrap().trim(),
                count.to_string()
            );
        }
        Ok(o) if !String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            panic!("pyld: {}", String::from_utf8_lossy(&o.stderr));
        }
        _ => println!("SKIPPED: JSON-LD expansion needs python3 with pyld (pip install pyld)"),
    }
}

/// The worked example with its payout, a material contribution of 144 pcs with evidence, a
/// reversal, a replacement and an approval.
fn rich_ledger(s: &Sandbox) -> PathBuf {
    let (dir, _) = with_payout(s);
    common::write_files(
        &dir,
        &[
            (
                "contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaaa6.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa6\"\nagent = \"ana\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"material\"\ndescription = \"M3 screws\"\namount = \"28.80\"\nquantity = \"144\"\nunit = \"pcs\"\nevidence = [\"https://fablab.example/receipts/7\"]\n",
            ),
            (
                "contributions/2026/03/20/01aaaaaaaaaaaaaaaaaaaaaaa7.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa7\"\nagent = \"ben\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Logged twice\"\nreverses = \"01aaaaaaaaaaaaaaaaaaaaaaa3\"\n",
            ),
            (
                "contributions/2026/03/21/01aaaaaaaaaaaaaaaaaaaaaaa8.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa8\"\nagent = \"ben\"\ndate = 2026-03-21\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Frame design and test flights (all of it)\"\nhours = \"22\"\nsupersedes = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\n",
            ),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "more"]);
    let out = common::approve(
        s,
        &dir,
        "ben@fablab.example",
        &["01aaaaaaaaaaaaaaaaaaaaaaa1"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn valueflows_exports_quantities_corrections_claims_payouts_and_approvals() {
    let s = Sandbox::new();
    let dir = rich_ledger(&s);
    std::fs::write(
        dir.join("ovn.toml"),
        std::fs::read_to_string(dir.join("ovn.toml")).unwrap()
            + "base_uri = \"https://fablab.example/ledger/\"\n",
    )
    .unwrap();
    s.git(&dir, &["commit", "-qam", "base"]);
    let text = ok(&s, &dir, &["export", "valueflows"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["@context"]["ledger"], "https://fablab.example/ledger/");
    let by_id = |id: &str| -> serde_json::Value {
        v["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["@id"] == id)
            .unwrap_or_else(|| panic!("no node {id} in {text}"))
            .clone()
    };
    let c = |n: u32| format!("ledger:contribution/01aaaaaaaaaaaaaaaaaaaaaaa{n}");
    // Material: 144 pcs, in a unit OM knows; its money value is the contributor's claim.
    let screws = by_id(&c(6));
    assert_eq!(
        screws["vf:resourceQuantity"]["vf:hasNumericalValue"]["@value"],
        "144"
    );
    let pcs = by_id(
        screws["vf:resourceQuantity"]["vf:hasUnit"]["@id"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(pcs["@type"], "vf:Unit");
    assert_eq!(
        pcs["vf:omUnitIdentifier"]["@value"],
        "http://www.ontology-of-units-of-measure.org/resource/om-2/one"
    );
    assert_eq!(
        screws["vf:note"],
        "M3 screws\nevidence: https://fablab.example/receipts/7"
    );
    let claim = by_id("ledger:claim/01aaaaaaaaaaaaaaaaaaaaaaa6/ana");
    assert_eq!(claim["@type"], "vf:Claim");
    assert_eq!(claim["vf:triggeredBy"]["@id"], c(6));
    assert_eq!(
        claim["vf:resourceQuantity"]["vf:hasNumericalValue"]["@value"],
        "28.8"
    );
    assert_eq!(
        by_id(
            claim["vf:resourceQuantity"]["vf:hasUnit"]["@id"]
                .as_str()
                .unwrap()
        )["vf:label"],
        "EUR"
    );
    // A reversal backs the reversed event out: same action, negated quantity, corrects it.
    let reversal = by_id(&c(7));
    assert_eq!(reversal["vf:corrects"]["@id"], c(3));
    assert_eq!(reversal["vf:action"]["@id"], "vf:work");
    assert_eq!(
        reversal["vf:effortQuantity"]["vf:hasNumericalValue"]["@value"],
        "-10"
    );
    // A replacement backs the original out, then is an event of its own.
    let backout = by_id(&format!("{}/correction", c(8)));
    assert_eq!(backout["vf:corrects"]["@id"], c(2));
    assert_eq!(
        backout["vf:effortQuantity"]["vf:hasNumericalValue"]["@value"],
        "-20"
    );
    assert_eq!(
        backout["vf:hasPointInTime"]["@value"],
        "2026-03-21T00:00:00Z"
    );
    let replacement = by_id(&c(8));
    assert_eq!(
        replacement["vf:effortQuantity"]["vf:hasNumericalValue"]["@value"],
        "22"
    );
    assert!(replacement.get("vf:corrects").is_none());
    // The payout: the revenue, then one transfer per line, settling the debt claim.
    let revenue = by_id(&format!("ledger:payout/{PAYOUT_ID}"));
    assert_eq!(
        revenue["vf:resourceQuantity"]["vf:hasNumericalValue"]["@value"],
        "3000"
    );
    assert_eq!(
        revenue["vf:realizationOf"]["@id"],
        "ledger:agreement/drone-ve"
    );
    let line = by_id(&format!("ledger:payout/{PAYOUT_ID}/line/2"));
    assert_eq!(line["vf:action"]["@id"], "vf:transfer");
    assert_eq!(line["vf:receiver"]["@id"], "ledger:agent/ben");
    assert_eq!(
        line["vf:resourceQuantity"]["vf:hasNumericalValue"]["@value"],
        "400"
    );
    assert_eq!(
        line["vf:settles"][0]["@id"],
        "ledger:claim/01aaaaaaaaaaaaaaaaaaaaaaa4/ben"
    );
    // The approval.
    let approvals = nodes(&v, "vf:Agreement");
    let approval = approvals
        .iter()
        .find(|a| a["@id"].as_str().unwrap().starts_with("ledger:approval/"))
        .unwrap();
    assert_eq!(approval["vf:realizes"]["@id"], c(1));
    assert!(
        approval["vf:note"]
            .as_str()
            .unwrap()
            .starts_with("approval of contribution 01aaaaaaaaaaaaaaaaaaaaaaa1 (sha256:")
    );
    vocabulary_check(&v);
    expands(&s, &text, "rich.jsonld");
}

#[test]
fn a_bad_base_uri_is_a_ledger_problem() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    std::fs::write(
        dir.join("ovn.toml"),
        std::fs::read_to_string(dir.join("ovn.toml")).unwrap() + "base_uri = \"fablab ledger\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("ovn.toml:6:12") && out.contains("`base_uri` must be an absolute URI"),
        "{out}"
    );
}

#[test]
fn two_networks_never_share_an_id() {
    let s = Sandbox::new();
    // Two networks with the same records but their own names (and so their own first
    // commits).
    let a = base_repo(&s, "a");
    let b = s.repo("b");
    common::write_files(&b, common::BASE);
    std::fs::write(
        b.join("ovn.toml"),
        common::BASE[0]
            .1
            .replace("Fablab Commons", "Fablab Commons Berlin"),
    )
    .unwrap();
    s.git(&b, &["add", "-A"]);
    s.git(&b, &["commit", "-q", "-m", "b"]);
    let ids = |dir: &PathBuf| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&s, dir, &["export", "valueflows"])).unwrap();
        let base = v["@context"]["ledger"].as_str().unwrap().to_owned();
        v["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["@id"].as_str().unwrap().replacen("ledger:", &base, 1))
            .collect()
    };
    let (ia, ib) = (ids(&a), ids(&b));
    assert!(ia.iter().all(|id| !ib.contains(id)), "{ia:?}");
    // The same network exports the same ids again.
    assert_eq!(ids(&a), ia);
}

mod vocabulary {
    //! A reader of the Turtle of `tests/suite/data/vf-1.0.ttl`, just enough for its layout:
    //! each statement ends with a line ending in ` .`; it keeps each `vf:` term's kind,
    //! domain, range, super class and union members.

    use std::collections::BTreeMap;

    /// One declared term.
    #[derive(Default, Debug)]
    pub struct Term {
        pub kinds: Vec<String>,
        pub domain: Option<String>,
        pub range: Option<String>,
        pub super_class: Vec<String>,
        pub union: Vec<String>,
    }

    pub fn read() -> BTreeMap<String, Term> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/data/vf-1.0.ttl");
        let text = std::fs::read_to_string(path).unwrap();
        let mut terms = BTreeMap::new();
        let mut statement = String::new();
        for line in text.lines() {
            if line.trim_start().starts_with('#') || line.trim_start().starts_with('@') {
                continue;
            }
            statement.push_str(line);
            statement.push(' ');
            let t = line.trim_end();
            if t == "." || t.trim() == "." || t.ends_with(" .") {
                if let Some((name, term)) = parse(&statement) {
                    terms.insert(name, term);
                }
                statement.clear();
            }
        }
        terms
    }

    fn parse(statement: &str) -> Option<(String, Term)> {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let name = words.first()?.to_string();
        if !name.starts_with("vf:") {
            return None;
        }
        let mut term = Term::default();
        let value = |i: usize| {
            words
                .get(i + 1)
                .map(|w| w.trim_end_matches([';', ',']).to_string())
        };
        for (i, w) in words.iter().enumerate() {
            match *w {
                "a" => {
                    let mut j = i + 1;
                    while let Some(k) = words.get(j) {
                        term.kinds.push(k.trim_end_matches([';', ',']).to_string());
                        if !k.ends_with(',') {
                            break;
                        }
                        j += 1;
                    }
                }
                "rdfs:domain" => term.domain = value(i),
                "rdfs:range" => term.range = value(i),
                "rdfs:subClassOf" => term.super_class.extend(value(i)),
                "owl:unionOf" => {
                    for m in &words[i + 1..] {
                        let m = m.trim_matches(['(', ')', '.']);
                        if m.starts_with("vf:") {
                            term.union.push(m.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        Some((name, term))
    }
}

/// Whether a node of `class` may be where `allowed` (a class or a union of classes) is.
fn fits(
    terms: &std::collections::BTreeMap<String, vocabulary::Term>,
    class: &str,
    allowed: &str,
) -> bool {
    if class == allowed {
        return true;
    }
    let term = &terms[allowed];
    if term.union.iter().any(|m| fits(terms, class, m)) {
        return true;
    }
    terms.get(class).is_some_and(|t| {
        t.super_class
            .iter()
            .any(|s| s.starts_with("vf:") && fits(terms, s, allowed))
    })
}

/// Every term of the export is declared by ValueFlows 1.0: types are classes, keys are
/// properties whose domain admits the node's type, values of object properties have a type
/// their range admits (where the value is a node of the export), actions are declared
/// individuals; and nothing but `vf:` terms and JSON-LD keywords is used.
fn vocabulary_check(v: &serde_json::Value) {
    let terms = vocabulary::read();
    assert!(
        terms.len() > 150,
        "the vocabulary reader found only {} terms",
        terms.len()
    );
    let is = |name: &str, kind: &str| {
        terms
            .get(name)
            .is_some_and(|t| t.kinds.iter().any(|k| k == kind))
    };
    let graph = v["@graph"].as_array().unwrap();
    let types: std::collections::BTreeMap<&str, &str> = graph
        .iter()
        .map(|n| (n["@id"].as_str().unwrap(), n["@type"].as_str().unwrap()))
        .collect();
    let mut used = std::collections::BTreeSet::new();
    let mut stack: Vec<&serde_json::Value> = graph.iter().collect();
    while let Some(node) = stack.pop() {
        let class = node["@type"]
            .as_str()
            .unwrap_or_else(|| panic!("untyped node {node}"));
        assert!(is(class, "owl:Class"), "{class} is not a VF 1.0 class");
        used.insert(class.to_owned());
        for (key, value) in node.as_object().unwrap() {
            if key.starts_with('@') {
                continue;
            }
            assert!(key.starts_with("vf:"), "{key} is not a VF term");
            used.insert(key.clone());
            let term = terms
                .get(key.as_str())
                .unwrap_or_else(|| panic!("{key} is not declared by VF 1.0"));
            assert!(
                term.kinds
                    .iter()
                    .any(|k| k == "owl:ObjectProperty" || k == "owl:DatatypeProperty"),
                "{key} is not a property"
            );
            let domain = term
                .domain
                .as_deref()
                .unwrap_or_else(|| panic!("{key} has no domain"));
            assert!(
                fits(&terms, class, domain),
                "{key} is not allowed on a {class} (domain {domain})"
            );
            let values: Vec<&serde_json::Value> = match value {
                serde_json::Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let range = term.range.as_deref().unwrap_or("");
            for value in values {
                if let Some(t) = value.get("@type").and_then(|t| t.as_str())
                    && value.get("@value").is_none()
                {
                    assert!(
                        fits(&terms, t, range),
                        "{key} holds a {t}, its range is {range}"
                    );
                    stack.push(value);
                } else if let Some(id) = value.get("@id").and_then(|i| i.as_str()) {
                    if id.starts_with("vf:") {
                        assert!(
                            is(id, "owl:NamedIndividual"),
                            "{id} is not a VF 1.0 individual"
                        );
                        used.insert(id.to_owned());
                    } else if let Some(t) = types.get(id)
                        && range.starts_with("vf:")
                    {
                        assert!(
                            fits(&terms, t, range),
                            "{key} points at a {t}, its range is {range}"
                        );
                    }
                }
            }
        }
    }
    // The check saw the terms the issue is about.
    for t in [
        "vf:hasNumericalValue",
        "vf:hasUnit",
        "vf:Unit",
        "vf:corrects",
        "vf:Claim",
        "vf:settles",
        "vf:Agreement",
        "vf:resourceQuantity",
    ] {
        assert!(used.contains(t), "{t} unused: {used:?}");
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

/// The balances `tool` (`hledger` or `ledger`) reads from `file` under `prefix`, per account
/// leaf after it, as exact decimals (zero balances left out).
fn balances(
    tool: &str,
    file: &std::path::Path,
    prefix: &str,
) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
    let mut cmd = Command::new(tool);
    match tool {
        "hledger" => cmd
            .args(["balance", "--flat", "-N", prefix, "-f"])
            .arg(file),
        _ => cmd
            .args([
                "--pedantic",
                "balance",
                "--flat",
                "--no-total",
                prefix,
                "-f",
            ])
            .arg(file),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let leaf = w.get(2)?.strip_prefix(prefix)?.trim_start_matches(':');
            Some((leaf.to_owned(), w[0].parse().unwrap()))
        })
        .filter(|(_, v): &(String, rust_decimal::Decimal)| !v.is_zero())
        .collect()
}

/// What a report's JSON rows say per agent, in `column`, added up (zero left out).
fn per_agent(
    rows: &serde_json::Value,
    column: &str,
    sign: i64,
) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
    let mut out = std::collections::BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let v: rust_decimal::Decimal = r[column].as_str().unwrap().parse().unwrap();
        *out.entry(r["agent"].as_str().unwrap().to_owned())
            .or_insert(rust_decimal::Decimal::ZERO) += v * rust_decimal::Decimal::from(sign);
    }
    out.retain(|_, v| !v.is_zero());
    out
}

#[test]
fn the_books_reconcile_with_the_reports_to_the_cent_in_hledger_ledger_and_beancount() {
    let s = Sandbox::new();
    let (dir, _) = with_payout(&s);
    // After the payout: ana advances material (still owed), and payments are recorded.
    common::write_files(
        &dir,
        &[(
            "contributions/2026/12/01/01aaaaaaaaaaaaaaaaaaaaaaa9.toml",
            "id = \"01aaaaaaaaaaaaaaaaaaaaaaa9\"\nagent = \"ana\"\ndate = 2026-12-01\nproject = \"drone\"\nkind = \"material\"\ndescription = \"Carbon tubes\"\namount = \"250.35\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "ana's tubes"]);
    for args in [
        &["--agent", "ana", "--amount", "150.10"][..],
        &["--agent", "ben", "--bucket", "reimbursement"],
        &["--agent", "fablab-fund"],
    ] {
        let out = s
            .ovn(&dir)
            .env("OVN_NOW", "2026-12-10T12:00:00+00:00")
            .args([&["pay", "01pa", "--method", "bank transfer"][..], args].concat())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&ok(&s, &dir, &[args, &["--format", "json"]].concat())).unwrap()
    };
    // Owed to members: debts outstanding; payable: owed minus paid; hours given per member.
    let debts = per_agent(&json(&["report", "claims"])["rows"], "debt_outstanding", -1);
    assert_eq!(debts.len(), 1, "{debts:?}");
    let payable = per_agent(
        &json(&["report", "payouts", "--lines"])["outstanding"]["rows"],
        "outstanding",
        -1,
    );
    assert_eq!(payable.len(), 3, "{payable:?}");
    let contributions = json(&["report", "contributions", "--by", "agent"]);
    let hours = per_agent(&contributions["rows"], "hours", -1);
    let use_hours: rust_decimal::Decimal = per_agent(&contributions["rows"], "use_hours", -1)
        .values()
        .sum();

    for (tool, format) in [("hledger", "hledger"), ("ledger", "ledger")] {
        let text = ok(&s, &dir, &["export", format, "--hours"]);
        assert!(
            text.contains("    liabilities:members:ben  400.00 EUR  ; bucket: reimbursement\n    liabilities:payable:ben  -400.00 EUR\n"),
            "a reimbursement settles what the network owed ben:\n{text}"
        );
        assert!(
            text.contains(
                "    expenses:hours:drone:work  20 HOURS\n    equity:hours:ana  -20 HOURS\n"
            ),
            "{text}"
        );
        if !installed(tool) {
            continue;
        }
        let file = s.work().join(format!("books.{format}"));
        std::fs::write(&file, &text).unwrap();
        if tool == "hledger" {
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
        }
        assert_eq!(
            balances(tool, &file, "liabilities:members"),
            debts,
            "{tool}"
        );
        assert_eq!(
            balances(tool, &file, "liabilities:payable"),
            payable,
            "{tool}"
        );
        assert_eq!(balances(tool, &file, "equity:hours"), hours, "{tool}");
        let resources: rust_decimal::Decimal =
            balances(tool, &file, "equity:resources").values().sum();
        assert_eq!(resources, use_hours, "{tool}");
        // The money of the books: the network owes members, payees and nobody else; what it
        // kept is in the reserve.
        assert_eq!(
            balances(tool, &file, "assets:reserve"),
            [(
                "fablab-fund".to_owned(),
                rust_decimal::Decimal::new(30000, 2)
            )]
            .into()
        );
    }
    let bean = ok(&s, &dir, &["export", "beancount", "--hours"]);
    assert!(
        bean.contains("  Liabilities:Members:Ana  -250.35 EUR\n"),
        "{bean}"
    );
    if installed("bean-check") {
        let file = s.work().join("books.beancount");
        std::fs::write(&file, &bean).unwrap();
        let check = Command::new("bean-check").arg(&file).output().unwrap();
        assert!(
            check.status.success(),
            "bean-check: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
    // --hours is for the journals.
    let (code, _, err) = run(&s, &dir, &["export", "csv", "--hours"]);
    assert_eq!(code, 2);
    assert!(err.contains("--hours"), "{err}");
}

/// A cascade in the books (issue 17): the revenue is receivable once, each line paying a
/// project moves that much income from the paying project to it, and only the sub-payouts'
/// lines to agents are payable: hledger, ledger and bean-check accept it, and the payables
/// add up to the revenue.
#[test]
fn a_cascade_books_income_transfers_between_projects() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let drone_ve = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&drone_ve).unwrap();
    std::fs::write(
        &drone_ve,
        text.replace("to = \"fablab-fund\"", "to_project = \"lab\""),
    )
    .unwrap();
    common::write_files(&dir, super::payout::CASCADE);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "sub-projects"]);
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--date",
            "2026-04-01",
            "--record",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let journal = ok(&s, &dir, &["export", "hledger"]);
    // Once receivable, at the top; the sub-payouts take none.
    assert_eq!(
        journal.matches("assets:receivable:").count(),
        2,
        "{journal}"
    );
    assert!(
        journal.contains("    income:projects:drone  300.00 EUR  ; bucket: network\n    income:projects:lab  -300.00 EUR\n"),
        "{journal}"
    );
    assert!(
        journal.contains("    income:projects:fund  -60.00 EUR\n"),
        "{journal}"
    );
    assert!(!journal.contains("payable:lab"), "{journal}");
    assert!(!journal.contains("payable:fund"), "{journal}");
    for (tool, format) in [("hledger", "hledger"), ("ledger", "ledger")] {
        if !installed(tool) {
            continue;
        }
        let file = dir.join(format!("books.{format}"));
        std::fs::write(&file, ok(&s, &dir, &["export", format])).unwrap();
        let income = balances(tool, &file, "income:projects");
        assert_eq!(
            income.values().copied().sum::<rust_decimal::Decimal>(),
            rust_decimal::Decimal::new(-300000, 2),
            "{tool}: {income:?}"
        );
        assert_eq!(
            income.get("lab").copied(),
            Some(rust_decimal::Decimal::new(-24000, 2)),
            "{tool}: {income:?}"
        );
        let payable = balances(tool, &file, "liabilities:payable");
        assert_eq!(
            payable.values().copied().sum::<rust_decimal::Decimal>(),
            rust_decimal::Decimal::new(-300000, 2),
            "{tool}: {payable:?}"
        );
    }
    if installed("hledger") {
        let file = dir.join("books.journal");
        std::fs::write(&file, &journal).unwrap();
        let out = Command::new("hledger")
            .args(["check", "--strict", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if installed("bean-check") {
        let file = dir.join("books.beancount");
        std::fs::write(&file, ok(&s, &dir, &["export", "beancount"])).unwrap();
        let out = Command::new("bean-check").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
