//! `ovn payout` end to end on real git repositories: preview formats, the validated branch
//! and pending contributions, recording, refusing a second record of one event, and
//! re-deriving a recorded payout.

use crate::common::{Sandbox, base_repo, run, write_files};
use assert_cmd::prelude::*;
use predicates::prelude::*;

const TABLE: &str = "\
───────────────────────────────────────────────────────────
 agent         network   reimbursement    equity     total
───────────────────────────────────────────────────────────
 ana                                     1150.00   1150.00
 ben                            400.00   1101.06   1501.06
 cy                                        48.94     48.94
 fablab-fund    300.00                              300.00
 total          300.00          400.00   2300.00   3000.00
───────────────────────────────────────────────────────────
bucket \"reimbursement\": budget 900.00, paid 400.00; 500.00 went back to the pool (its debt claims needed less)
";

#[test]
fn preview_of_the_worked_example() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (code, out, err) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    assert_eq!(
        out,
        format!(
            "Payout of 3000.00 EUR for project drone by agreement drone-ve (main at {})\n{TABLE}",
            &head[..12]
        )
    );
    // The only project is the default; the preview wrote nothing.
    let (code, again, _) = run(&s, &dir, &["payout", "3000"]);
    assert_eq!((code, again), (0, out));
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "1");
}

#[test]
fn json_csv_and_markdown() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (_, out, _) = run(
        &s,
        &dir,
        &["payout", "3000", "-p", "drone", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["project"], "drone");
    assert_eq!(v["amount"], "3000.00");
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["commit"].as_str().unwrap().len(), 40);
    assert_eq!(v["lines"][0]["agent"], "fablab-fund");
    assert_eq!(v["lines"][0]["bucket"], "network");
    assert_eq!(v["lines"][0]["amount"], "300.00");
    assert_eq!(v["totals"][1]["agent"], "ben");
    assert_eq!(v["totals"][1]["amount"], "1501.06");
    let (_, csv, _) = run(
        &s,
        &dir,
        &["payout", "3000", "-p", "drone", "--format", "csv"],
    );
    assert_eq!(
        csv,
        "agent,bucket,amount\nfablab-fund,network,300.00\nben,reimbursement,400.00\nana,equity,1150.00\nben,equity,1101.06\ncy,equity,48.94\n"
    );
    let (_, md, _) = run(
        &s,
        &dir,
        &["payout", "3000", "-p", "drone", "--format", "markdown"],
    );
    assert!(
        md.contains("| ben |  | 400.00 | 1101.06 | 1501.06 |"),
        "{md}"
    );
    let (_, explained, _) = run(&s, &dir, &["payout", "3000", "-p", "drone", "--explain"]);
    assert!(
        explained.contains("20 h × 45 (the electronics rate) = 900"),
        "{explained}"
    );
    assert!(
        explained.contains("line ben: exact 1101.06383 → 1101.06"),
        "{explained}"
    );
}

#[test]
fn only_merged_contributions_count() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["checkout", "-q", "-b", "feature"]);
    let id = "01bbbbbbbbbbbbbbbbbbbbbbb9";
    write_files(
        &dir,
        &[(
            &format!("contributions/2026/04/02/{id}.toml") as &str,
            &format!(
                "id = \"{id}\"\nagent = \"cy\"\ndate = 2026-04-02\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Wiring\"\nhours = \"10\"\n"
            ) as &str,
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "log"]);
    let (_, out, _) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert!(
        out.contains(&format!("left out {id}: pending review (not merged yet)")),
        "{out}"
    );
    assert!(
        out.contains(" cy                                        48.94     48.94\n"),
        "{out}"
    );
    // Read at HEAD, the branch's contribution counts.
    let (_, at_head, _) = run(&s, &dir, &["payout", "3000", "-p", "drone", "--at", "HEAD"]);
    assert!(!at_head.contains("pending review"));
    assert!(
        !at_head.contains(" cy                                        48.94 "),
        "{at_head}"
    );
}

#[test]
fn recording_settles_debts_refuses_duplicates_and_verifies() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let args = [
        "payout",
        "3000",
        "-p",
        "drone",
        "--record",
        "--date",
        "2026-11-30",
        "--memo",
        "Invoice 2026-114",
    ];
    let (code, out, err) = run(&s, &dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Recorded payout "), "{out}");
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "2");
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
    let files = s.git(&dir, &["show", "--name-only", "--format=%s", "HEAD"]);
    let mut lines = files.lines();
    assert_eq!(
        lines.next(),
        Some("payout: drone 3000.00 EUR on 2026-11-30 (Invoice 2026-114)")
    );
    let path = lines.find(|l| !l.is_empty()).unwrap().to_owned();
    assert!(
        path.starts_with("payouts/2026/") && path.ends_with(".toml"),
        "{path}"
    );
    let id = path
        .trim_start_matches("payouts/2026/")
        .trim_end_matches(".toml")
        .to_owned();
    let text = std::fs::read_to_string(dir.join(&path)).unwrap();
    assert!(
        text.contains("amount = \"3000.00\"\ncurrency = \"EUR\"\nmemo = \"Invoice 2026-114\"\n"),
        "{text}"
    );
    assert!(text.contains("[[settled]]\ncontribution = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"400.00\"\n"), "{text}");
    s.ovn(&dir).arg("check").assert().success();

    // The same event again is refused and writes nothing.
    let (code, _, err) = run(&s, &dir, &args);
    assert_eq!(code, 2);
    assert!(err.contains("is already recorded as payout"), "{err}");
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "2");

    // The next payout sees that ben's money was repaid.
    let (_, next, _) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert!(
        next.contains("bucket \"reimbursement\": budget 900.00, paid 0.00; 900.00 went back"),
        "{next}"
    );
    assert!(next.contains("debt already repaid"), "{next}");

    // verify re-derives it byte for byte.
    s.ovn(&dir)
        .args(["payout", "verify", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("payout {id} matches")));
    // A unique prefix names it too; one no payout starts with is refused.
    s.ovn(&dir)
        .args(["payout", "verify", &id[..8]])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("payout {id} matches")));
    s.ovn(&dir)
        .args(["payout", "verify", "zz"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no payout record `zz`"));
    // A tampered record no longer matches.
    let tampered = text
        .replace("amount = \"1150.00\"", "amount = \"1160.00\"")
        .replace("amount = \"1101.06\"", "amount = \"1091.06\"");
    std::fs::write(dir.join(&path), tampered).unwrap();
    s.git(&dir, &["commit", "-q", "-am", "edit payout"]);
    s.ovn(&dir)
        .args(["payout", "verify", &id])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("does NOT match"))
        .stdout(predicate::str::contains("- amount = \"1160.00\""));
}

#[test]
fn bad_input_is_refused_with_clear_errors() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    for (args, message) in [
        (
            vec!["payout", "0", "-p", "drone"],
            "must be greater than zero",
        ),
        (
            vec!["payout", "-5", "-p", "drone"],
            "must be greater than zero",
        ),
        (
            vec!["payout", "12.345", "-p", "drone"],
            "more than 2 decimal places",
        ),
        (vec!["payout", "1e3", "-p", "drone"], "is not an amount"),
        (
            vec!["payout", "3000", "-p", "drones"],
            "did you mean `drone`?",
        ),
        (vec!["payout", "3000", "--at", "nope"], "not found"),
        (vec!["payout"], "give the revenue AMOUNT"),
        (
            vec!["payout", "3000", "--memo", "x"],
            "--memo goes with --record",
        ),
    ] {
        let (code, out, err) = run(&s, &dir, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // A project without an agreement.
    write_files(&dir, &[("projects/x.toml", "id = \"x\"\nname = \"X\"\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "x"]);
    let (code, _, err) = run(&s, &dir, &["payout", "100", "-p", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("project `x` has no agreement"), "{err}");
    // A broken ledger is never paid out.
    write_files(
        &dir,
        &[(
            "agents/ana.toml",
            "id = \"ana\"\nname = \"Ana\"\nemails = \"x\"\n",
        )],
    );
    s.git(&dir, &["commit", "-q", "-am", "broken"]);
    let (code, _, err) = run(&s, &dir, &["payout", "100", "-p", "drone"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("agents/ana.toml:3:10: error[wrong-type]"),
        "{err}"
    );
    // No validated branch.
    s.git(&dir, &["branch", "-m", "main", "trunk"]);
    let (code, _, err) = run(&s, &dir, &["payout", "100", "-p", "drone"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the validated branch `main` does not exist"),
        "{err}"
    );
}

/// The bundled `examples/policies` ledger, committed in `work/name`.
fn policies_repo(s: &Sandbox, name: &str) -> std::path::PathBuf {
    let dir = s.repo(name);
    crate::common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "policies example"]);
    dir
}

/// The id `ovn payout --record` printed.
fn recorded_id(out: &str) -> String {
    out.strip_prefix("Recorded payout ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no payout recorded: {out}"))
        .to_owned()
}

/// Decay and a balanced bucket end to end on the example: the first payout weighs each claim
/// by its age, the second pays the balanced bucket first to whoever is furthest below their
/// share of everything it has paid (dee, new, takes most of it), and both re-derive byte for
/// byte from their pinned commits.
#[test]
fn decay_and_balanced_buckets_on_the_policies_example() {
    let s = Sandbox::new();
    let dir = policies_repo(&s, "l");
    s.ovn(&dir).arg("check").assert().success();
    let first = ["payout", "2000", "-p", "radio", "--date", "2026-06-30"];
    let (code, preview, err) = run(&s, &dir, &first);
    assert_eq!(code, 0, "{err}");
    for row in [
        " ana                                   167.44             167.44",
        " ben                          300.00   186.05             486.05",
        " cy                                    446.51   800.00   1246.51",
    ] {
        assert!(preview.contains(row), "{preview}");
    }
    assert!(
        preview.contains("left out 01ex0000000000000000000001: older than the lookback window"),
        "{preview}"
    );
    let (code, out, err) = run(&s, &dir, &[&first[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let grant_1 = recorded_id(&out);

    let second = ["payout", "1000", "-p", "radio", "--date", "2026-12-15"];
    let (code, explained, err) = run(&s, &dir, &[&second[..], &["--explain"]].concat());
    assert_eq!(code, 0, "{err}");
    for line in [
        "3. bucket \"legacy\": 40% of the total, balanced → budget 400.00",
        "   ana 01ex0000000000000000000002: 10 h × 30 (the work rate) = 300; × decay 0.25 (age 4y 7m on 2026-12-15, under 5y); equity weight 75; exact share 16.068687 → 16.07",
        "   balanced: recorded payouts paid 800.00 from \"legacy\" before; with this budget 1200.00, shared by weight as targets",
        "   cy: weight 360 of 825, target 523.636364; received 446.51; below target by 77.126364",
        "   dee: weight 180 of 825, target 261.818182; received 0.00; below target by 261.818182",
        "   line dee: exact 261.818182 → 261.82",
    ] {
        assert!(explained.contains(line), "{line:?} in\n{explained}");
    }
    assert!(
        explained.contains(" dee                   261.82   183.33    445.15"),
        "{explained}"
    );
    let (code, out, err) = run(&s, &dir, &[&second[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let grant_2 = recorded_id(&out);
    s.ovn(&dir).arg("check").assert().success();
    for id in [&grant_1, &grant_2] {
        s.ovn(&dir)
            .args(["payout", "verify", id])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("payout {id} matches")));
    }
}

/// Issue 20: a contribution two buckets pay is named under the payout, with the buckets and
/// the fix, and listed in the JSON.
#[test]
fn a_contribution_paid_from_two_buckets_is_named() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, crate::common::with_role_bucket(&text)).unwrap();
    s.git(&dir, &["commit", "-qam", "role bucket"]);
    let (code, out, err) = run(&s, &dir, &["payout", "3000"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 contribution is claimed by buckets \"development\" and \"equity\" (01aaaaaaaaaaaaaaaaaaaaaaa1): paid from each; if that is not meant, add a filter such as `skill` to one of their rules"),
        "{out}"
    );
    let (_, json, _) = run(&s, &dir, &["payout", "3000", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["claimed_twice"],
        serde_json::json!([{
            "buckets": ["development", "equity"],
            "contributions": ["01aaaaaaaaaaaaaaaaaaaaaaa1"]
        }])
    );
}

/// Issue 20: `--record --format json` prints the record (id, path, commit, branch) and the
/// payout it holds, as JSON; `--date` takes a day as the other commands do (`2026-11-3`).
/// A payout record lists every debt it settles, so a payout of a project with hundreds of
/// outstanding expenses is larger than the 64 KiB other ledger files may hold: it is written,
/// read back, checked and verified like any other (a payout record may hold 8 MiB).
#[test]
fn a_payout_settling_hundreds_of_debts_is_recorded_and_reads_back() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let records: Vec<(String, String)> = (0..900)
        .map(|n| {
            let id = format!("01many{n:020}");
            let agent = ["ana", "ben", "cy"][n % 3];
            (
                format!("contributions/2026/10/01/{id}.toml"),
                format!(
                    "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-10-01\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Parts\"\namount = \"1.00\"\n"
                ),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = records
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &files);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "900 expenses"]);
    let args = [
        "payout",
        "3000",
        "-p",
        "drone",
        "--record",
        "--date",
        "2026-11-30",
    ];
    let (code, out, err) = run(&s, &dir, &args);
    assert_eq!(code, 0, "{err}");
    let id = out
        .strip_prefix("Recorded payout ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_owned();
    let path = dir.join(format!("payouts/2026/{id}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    // Every debt got its share of the reimbursement budget, and is listed.
    assert_eq!(text.matches("[[settled]]").count(), 901, "{}", &text[..400]);
    assert!(text.len() > 64 * 1024, "{} bytes", text.len());
    s.ovn(&dir)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
    s.ovn(&dir)
        .args(["payout", "verify", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("payout {id} matches")));
    // The next payout reads what this one settled: the budget repaid what was left.
    let (code, next, err) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        next.contains("bucket \"reimbursement\": budget 900.00, paid 400.00"),
        "{next}"
    );
    // Tampered (one settled amount raised, a comment hiding text behind a right-to-left
    // override): verify lists the lines the re-derivation lacks, the hidden one made
    // visible (the amount it replaced is still on other lines, so no line is missing).
    let first = text.find("amount = \"0.").unwrap();
    let end = first + text[first..].find('\n').unwrap();
    let tampered = format!(
        "{}amount = \"9.99\"{}# \u{202e}paid in full\n",
        &text[..first],
        &text[end..]
    );
    std::fs::write(&path, &tampered).unwrap();
    s.git(&dir, &["commit", "-qam", "a settled amount, raised"]);
    let (code, out, _) = run(&s, &dir, &["payout", "verify", &id]);
    assert_eq!(code, 1, "{out}");
    let diff: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        diff,
        ["- amount = \"9.99\"", "- # \u{FFFD}paid in full"],
        "{out}"
    );
}

#[test]
fn a_recorded_payout_is_printed_as_json_and_dates_are_lenient() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "--record",
            "--date",
            "2026-11-3",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let id = json["id"].as_str().unwrap();
    assert_eq!(json["path"], format!("payouts/2026/{id}.toml"));
    assert_eq!(json["branch"], "main");
    assert_eq!(json["commit"].as_str().unwrap().len(), 40);
    assert_eq!(json["payout"]["amount"], "3000.00");
    assert_eq!(json["payout"]["date"], "2026-11-03");
    let (code, _, err) = run(&s, &dir, &["payout", "3000", "--date", "2026-11"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--date \"2026-11\" is a period, not a day"),
        "{err}"
    );
}

/// Issue 20: once a payout repaid every debt, the reimbursement bucket of the next one says
/// its claims are settled, not that its rules match nothing.
#[test]
fn a_bucket_whose_debts_are_repaid_says_so() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let (code, _, err) = run(&s, &dir, &["payout", "3000", "--record"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&s, &dir, &["payout", "3000"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("900.00 went back to the pool (no claim left to pay; left out below: 1 debt already repaid)"),
        "{out}"
    );
    assert!(!out.contains("no contribution matches its rules"), "{out}");
    let (_, out, _) = run(&s, &dir, &["payout", "3000", "--explain"]);
    assert!(
        out.contains("no claim left to pay; left out below: 1 debt already repaid: the budget goes back to the pool"),
        "{out}"
    );
}

/// The bundled `examples/freeze` ledger, committed in `work/name`.
fn freeze_repo(s: &Sandbox, name: &str) -> std::path::PathBuf {
    let dir = s.repo(name);
    crate::common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/freeze"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "freeze example"]);
    dir
}

/// Issue 18, freeze: the pie of `examples/freeze` is frozen from 2026-06-01, later work paid
/// as debt at 25/h ahead of the slices. Derived by hand:
///
/// - slices before the freeze (work at the agent's rate × 2, money × 4): ann 10 h × 50 × 2 =
///   1000; bo 20 h × 40 × 2 = 1600 and 250.00 × 4 = 1000, so 2600. Weights 1000 : 2600.
/// - after it: ann 8 h, bo 4 h (12 h) are debts at 25/h: ann 200.00, bo 100.00.
/// - 1000.00 on 2026-07-31: the debts take 300.00 first; 700.00 is shared 1000 : 2600:
///   ann 700 × 1000 / 3600 = 194.444…, bo 700 × 2600 / 3600 = 505.555…; lines ann 394.444…,
///   bo 605.555…, floored to 394.44 and 605.55, the missing cent to bo's larger remainder:
///   ann 394.44, bo 605.56.
/// - 500.00 on 2026-08-31: the debts are settled (left out as repaid), all 500.00 by slices:
///   ann 138.888…, bo 361.111…; floored 138.88 + 361.11, the cent to ann: 138.89, 361.11.
/// - with `after = "none"` instead, 1000.00 is shared 1000 : 2600 alone: ann 277.777… →
///   277.78, bo 722.222… → 722.22 (the Slicing Pie example of ovn-ledger(5)).
#[test]
fn a_frozen_pie_repays_later_work_as_debt_ahead_of_the_slices() {
    let s = Sandbox::new();
    let dir = freeze_repo(&s, "l");
    s.ovn(&dir).arg("check").assert().success();
    let first = ["payout", "1000", "-p", "studio", "--date", "2026-07-31"];
    let (code, explained, err) = run(&s, &dir, &[&first[..], &["--explain"]].concat());
    assert_eq!(code, 0, "{err}");
    for line in [
        " ann      394.44    394.44",
        " bo       605.56    605.56",
        "   frozen from 2026-06-01: equity weights as of that date; 12h after it paid as debt at 25/h, ahead of equity",
        "   ann 01fz0000000000000000000004: frozen from 2026-06-01, as debt: 8 h × 25 (frozen rate) = 200; debt outstanding 200.00; exact share 200 → 200.00",
        "   ann 01fz0000000000000000000001: (10 h × 50 (ann's rate)) × 2 = 1000; equity weight 1000; exact share 194.444444 → 194.44",
        "   bo 01fz0000000000000000000005: frozen from 2026-06-01, as debt: 4 h × 25 (frozen rate) = 100; debt outstanding 100.00; exact share 100 → 100.00",
    ] {
        assert!(explained.contains(line), "{line:?} in\n{explained}");
    }
    // The JSON says the same, for scripts.
    let (_, json, _) = run(&s, &dir, &[&first[..], &["--format", "json"]].concat());
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["buckets"][0]["freeze"],
        serde_json::json!({
            "from": "2026-06-01", "after": "debt", "rate": "25", "contributions": 2,
            "hours": "12",
            "text": "frozen from 2026-06-01: equity weights as of that date; 12h after it paid as debt at 25/h, ahead of equity"
        })
    );
    let (code, out, err) = run(&s, &dir, &[&first[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let first_id = recorded_id(&out);
    let settled =
        std::fs::read_to_string(dir.join(format!("payouts/2026/{first_id}.toml"))).unwrap();
    assert!(
        settled.contains(
            "[[settled]]\ncontribution = \"01fz0000000000000000000004\"\nagent = \"ann\"\nclaim = \"debt\"\namount = \"200.00\"\n"
        ),
        "{settled}"
    );

    let second = ["payout", "500", "-p", "studio", "--date", "2026-08-31"];
    let (code, out, err) = run(&s, &dir, &second);
    assert_eq!(code, 0, "{err}");
    for line in [
        " ann     138.89   138.89",
        " bo      361.11   361.11",
        "left out 01fz0000000000000000000004: debt already repaid",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    let (code, out, err) = run(&s, &dir, &[&second[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let second_id = recorded_id(&out);
    s.ovn(&dir).arg("check").assert().success();
    for id in [&first_id, &second_id] {
        s.ovn(&dir)
            .args(["payout", "verify", id])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("payout {id} matches")));
    }

    // Later work not counted at all: the slices alone share the revenue.
    let path = dir.join("agreements/pie.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let none = text.replace("after = \"debt\", rate = \"25\"", "after = \"none\"");
    assert_ne!(none, text);
    std::fs::write(&path, none).unwrap();
    s.git(&dir, &["commit", "-qam", "freeze: later work not counted"]);
    let (code, out, err) = run(&s, &dir, &[&first[..], &["--explain"]].concat());
    assert_eq!(code, 0, "{err}");
    for line in [
        " ann      277.78    277.78",
        " bo       722.22    722.22",
        "left out 01fz0000000000000000000005: after its bucket's freeze, not counted",
        "   frozen from 2026-06-01: equity weights as of that date; 12h after it not counted",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
}

pub(crate) use crate::common::CASCADE;

/// A sub-project cascade end to end (issue 17): the preview shows every level, one
/// `--record` writes the three linked records in one commit, each level sums to its budget,
/// `ovn check` accepts them, `payout verify` re-derives the cascade from any of its records
/// and catches an edit to a sub-payout, `ovn pay` pays a leaf line but refuses the line that
/// pays a project, and a loop of projects paying each other is rejected by `ovn check`.
#[test]
fn a_sub_project_cascade_records_verifies_and_pays() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let drone_ve = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&drone_ve).unwrap();
    std::fs::write(
        &drone_ve,
        text.replace("to = \"fablab-fund\"", "to_project = \"lab\""),
    )
    .unwrap();
    write_files(&dir, CASCADE);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "sub-projects"]);
    s.ovn(&dir).arg("check").assert().success();

    // The preview: drone's table, then the lab's and the fund's, indented per level.
    let (code, out, err) = run(&s, &dir, &["payout", "3000", "-p", "drone", "--explain"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("line 1 (\"network\", 300.00) pays project lab"),
        "{out}"
    );
    assert!(
        out.contains("\n  Payout of 300.00 EUR for project lab by agreement lab-ve (sub-payout of line 1 (\"network\") of drone's payout)"),
        "{out}"
    );
    assert!(
        out.contains("\n    Payout of 60.00 EUR for project fund by agreement fund-ve (sub-payout of line 1 (\"fund\") of lab's payout)"),
        "{out}"
    );
    assert!(out.contains("\n    How it is computed (60.00 EUR"), "{out}");

    let before = crate::common::commit_count(&s, &dir);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--record",
            "--date",
            "2026-11-20",
            "--memo",
            "Invoice 7",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Recorded payout "), "{out}");
    assert_eq!(crate::common::commit_count(&s, &dir), before + 1);
    let files = crate::common::last_commit_files(&s, &dir);
    assert_eq!(files.len(), 3, "one commit, three records: {files:?}");
    let top = recorded_id(&out);
    let read =
        |id: &str| std::fs::read_to_string(dir.join(format!("payouts/2026/{id}.toml"))).unwrap();
    let field = |text: &str, key: &str| -> Option<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_owned())
    };
    let top_text = read(&top);
    assert!(
        top_text.contains(
            "[[lines]]\nproject = \"lab\"\nbucket = \"network\"\namount = \"300.00\"\npayout = \""
        ),
        "{top_text}"
    );
    let lab = field(&top_text, "payout").unwrap();
    let lab_text = read(&lab);
    assert!(
        lab_text.contains(&format!("parent = \"{top}\"\nparent_line = 1\n")),
        "{lab_text}"
    );
    assert!(
        lab_text.contains("amount = \"300.00\"\ncurrency"),
        "{lab_text}"
    );
    let fund = field(&lab_text, "payout").unwrap();
    let fund_text = read(&fund);
    assert!(
        fund_text.contains(&format!("parent = \"{lab}\"\nparent_line = 1\n")),
        "{fund_text}"
    );
    // Every level sums to its budget: the reader refuses lines that do not, and the fund's
    // 60.00 repays ben's loan (at most 30.00, half of it) before its reserve.
    assert!(
        fund_text.contains("[[lines]]\nagent = \"ben\"\nbucket = \"loans\"\namount = \"20.00\"\n"),
        "{fund_text}"
    );
    assert!(
        fund_text.contains(
            "[[lines]]\nagent = \"fablab-fund\"\nbucket = \"reserve\"\namount = \"40.00\"\n"
        ),
        "{fund_text}"
    );
    assert!(
        lab_text.contains("[[lines]]\nagent = \"cy\"\nbucket = \"work\"\namount = \"180.00\"\n"),
        "{lab_text}"
    );
    s.ovn(&dir).arg("check").assert().success();

    // verify re-derives the whole cascade from any of its records.
    for id in [&top, &lab, &fund] {
        s.ovn(&dir)
            .args(["payout", "verify", id])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "payout {id} matches: its cascade from {top}"
            )))
            .stdout(predicate::str::contains("(3 payouts, "));
    }

    // A leaf line is paid; the line paying a project is settled by its sub-payout.
    let (code, _, err) = run(
        &s,
        &dir,
        &["pay", &fund, "--agent", "ben", "--method", "cash"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        &s,
        &dir,
        &["pay", &top, "--agent", "lab", "--method", "cash"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "line 1 of payout {top} pays project `lab`: it is settled by its sub-payout {lab}"
        )),
        "{err}"
    );
    let (_, report, _) = run(&s, &dir, &["report", "payouts"]);
    // The revenue is counted once, and nobody is owed the lab's line as an agent.
    assert!(!report.contains("\n lab "), "{report}");
    assert!(
        report.contains(" total               3   3000.00   100.00%"),
        "{report}"
    );
    s.ovn(&dir).arg("check").assert().success();

    // An edited sub-payout no longer matches, from the top or from itself.
    let tampered = lab_text
        .replace("amount = \"180.00\"", "amount = \"179.00\"")
        .replace(
            "agent = \"ana\"\nbucket = \"work\"\namount = \"60.00\"",
            "agent = \"ana\"\nbucket = \"work\"\namount = \"61.00\"",
        );
    assert_ne!(tampered, lab_text);
    std::fs::write(dir.join(format!("payouts/2026/{lab}.toml")), tampered).unwrap();
    s.git(&dir, &["commit", "-q", "-am", "edit sub-payout"]);
    s.ovn(&dir)
        .args(["payout", "verify", &top])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("does NOT match"))
        .stdout(predicate::str::contains("- amount = \"179.00\""));

    // The fund paying the drone back closes a loop: ovn check names it, located.
    let fund_ve = dir.join("agreements/fund-ve.toml");
    let text = std::fs::read_to_string(&fund_ve).unwrap();
    std::fs::write(
        &fund_ve,
        text.replace("to = \"fablab-fund\"", "to_project = \"drone\""),
    )
    .unwrap();
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error[cascade-cycle]: projects pay each other in a loop: drone -> lab -> fund -> drone",
        ))
        .stdout(predicate::str::contains("agreements/drone-ve.toml:12:14"));
    // And a misspelt project is an unknown reference with the nearest id.
    std::fs::write(
        &fund_ve,
        text.replace("to = \"fablab-fund\"", "to_project = \"dron\""),
    )
    .unwrap();
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "`to_project` refers to unknown project `dron`",
        ))
        .stdout(predicate::str::contains("did you mean `drone`?"));
}

/// Slicing Pie with a good and a bad leaver on `examples/slicing-pie`, both payouts recorded
/// in a real repository and verified. The figures, by hand (slices = value × multiplier):
/// ana work 40 h × 50 × 2 = 4000, money 1000 × 4 = 4000, May work 10 h × 50 × 2 = 1000;
/// ben work 30 h × 50 × 2 = 3000, money 500 × 4 = 2000; cy work 20 h × 50 × 2 = 2000,
/// money 250 × 4 = 1000, and a 300.00 expense (a debt).
/// - 10000.00 on 2026-02-28: nobody has left, the expense (2026-03-10) and ana's May work are
///   later; the reimbursement bucket returns its 3000.00 and 10000.00 is split over
///   8000 + 5000 + 3000 = 16000: ana 5000.00, ben 3125.00, cy 1875.00.
/// - 10000.00 on 2026-06-30: ben (good leaver, 2026-04-01) keeps everything; cy (bad leaver,
///   2026-04-15) forfeits her work (× 0) and keeps her cash. The debt is repaid first: cy
///   300.00, 2700.00 back to the pool. 9700.00 over 9000 + 5000 + 1000 = 15000: ana
///   9700 × 9000 / 15000 = 5820.00, ben 3233.333.. → 3233.33, cy 646.666.. → 646.67 (the
///   missing cent to the largest remainder); cy 946.67 in all; 10000.00 exactly.
#[test]
fn slicing_pie_example_with_a_good_and_a_bad_leaver() {
    let s = Sandbox::new();
    let dir = s.repo("pie");
    crate::common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slicing-pie"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "slicing pie example"]);
    s.ovn(&dir).arg("check").assert().success();
    let first = ["payout", "10000", "-p", "app", "--date", "2026-02-28"];
    let (code, out, err) = run(&s, &dir, &[&first[..], &["--format", "csv"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "agent,bucket,amount\nana,slices,5000.00\nben,slices,3125.00\ncy,slices,1875.00\n"
    );
    let (code, out, err) = run(&s, &dir, &[&first[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let before_leaving = recorded_id(&out);

    let second = ["payout", "10000", "-p", "app", "--date", "2026-06-30"];
    let (code, out, err) = run(&s, &dir, &[&second[..], &["--format", "csv"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "agent,bucket,amount\ncy,reimbursement,300.00\nana,slices,5820.00\nben,slices,3233.33\ncy,slices,646.67\n"
    );
    let (code, explained, err) = run(&s, &dir, &[&second[..], &["--explain"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        explained.contains("   cy 01kf0000000000000000000c01: (20 h × 50 (the work rate)) × 2 = 2000; × 0 forfeited (bad leaver on 2026-04-15); equity weight 0; exact share 0 → 0.00"),
        "{explained}"
    );
    // ben is a good leaver: his claims carry no factor.
    assert!(!explained.contains("good leaver"), "{explained}");
    let (code, out, err) = run(
        &s,
        &dir,
        &[&second[..], &["--explain", "--format", "json"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let claims = json["buckets"][1]["claims"].as_array().unwrap();
    let forfeited: Vec<&serde_json::Value> = claims
        .iter()
        .filter(|c| c.get("leaving").is_some())
        .collect();
    assert_eq!(forfeited.len(), 1, "{claims:?}");
    assert_eq!(forfeited[0]["contribution"], "01kf0000000000000000000c01");
    assert_eq!(forfeited[0]["leaving"]["factor"], "0");
    assert_eq!(
        forfeited[0]["leaving"]["why"],
        "forfeited (bad leaver on 2026-04-15)"
    );
    let (code, out, err) = run(&s, &dir, &[&second[..], &["--record"]].concat());
    assert_eq!(code, 0, "{err}");
    let after_leaving = recorded_id(&out);
    s.ovn(&dir).arg("check").assert().success();
    for id in [&before_leaving, &after_leaving] {
        s.ovn(&dir)
            .args(["payout", "verify", id])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("payout {id} matches")));
    }
}

/// Money in another currency after a freeze is a debt of its converted amount, as it would
/// be before the freeze: 100.00 USD at 0.9 is 90.00 EUR, repaid ahead of the slices (the
/// whole payout stopped here before).
#[test]
fn a_frozen_debt_in_another_currency_counts_converted() {
    let s = Sandbox::new();
    let dir = freeze_repo(&s, "l");
    crate::common::write_files(
        &dir,
        &[(
            "contributions/2026/07/10/01fz0000000000000000000009.toml",
            "id = \"01fz0000000000000000000009\"\nagent = \"bo\"\ndate = 2026-07-10\nproject = \"studio\"\nkind = \"money\"\ndescription = \"Paid the kiln repair\"\namount = \"100.00\"\ncurrency = \"USD\"\nrate = \"0.9\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "a repair paid in dollars"]);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "1000",
            "-p",
            "studio",
            "--date",
            "2026-07-31",
            "--explain",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("bo 01fz0000000000000000000009: frozen from 2026-06-01, as debt: 90.00 = 90; debt outstanding 90.00; exact share 90 → 90.00"),
        "{out}"
    );
}
