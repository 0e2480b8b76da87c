//! Issue 14, items 5 to 8, end to end: the largest values (refused beyond their bound by
//! `ovn check`, computed exactly at it by every command, a revenue beyond it refused), a
//! preview that shows what `--record` records, `--explain` stating true equations, and
//! `--memo` judged like the field it fills.

use crate::common;

use std::path::Path;
use std::str::FromStr;

use crate::common::{Sandbox, base_repo, run, write_files};
use rust_decimal::Decimal;

/// Nine money contributions of `amount` by ben and one use of the printer for `hours`, as
/// files of the worked example's ledger.
fn large(amount: &str, hours: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for i in 0..9 {
        let id = format!("01bbbbbbbbbbbbbbbbbbbbbbb{i}");
        files.push((
            format!("contributions/2026/03/14/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"ben\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Parts\"\namount = \"{amount}\"\n"
            ),
        ));
    }
    let id = "01bbbbbbbbbbbbbbbbbbbbbbc1";
    files.push((
        format!("contributions/2026/03/15/{id}.toml"),
        format!(
            "id = \"{id}\"\nagent = \"cy\"\ndate = 2026-03-15\nproject = \"drone\"\nkind = \"use\"\ndescription = \"Printing\"\nresource = \"printer\"\nhours = \"{hours}\"\n"
        ),
    ));
    files
}

fn commit_files(s: &Sandbox, dir: &Path, files: &[(String, String)], message: &str) {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(dir, &refs);
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", message]);
}

/// Runs `ovn ARGS` and asserts it ended by itself, not by a panic.
fn run_clean(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = run(s, dir, args);
    assert!(
        code != 101 && !err.contains("panicked"),
        "ovn {args:?} panicked: {err}"
    );
    (code, out, err)
}

#[test]
fn values_beyond_their_bound_are_refused_with_their_place_and_nothing_panics() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["checkout", "-q", "-b", "big"]);
    commit_files(
        &s,
        &dir,
        &large(
            "9999999999999999999999999999",
            "999999999999999999999999.9999",
        ),
        "big",
    );
    let (code, out, _) = run_clean(&s, &dir, &["check", "--at", "big"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("error[out-of-range]: `amount` = 9999999999999999999999999999 is more than 1000000000000")
            && out.contains(" --> contributions/2026/03/14/01bbbbbbbbbbbbbbbbbbbbbbb0.toml:7:10")
            && out.contains("error[out-of-range]: `hours` = 999999999999999999999999.9999 is more than 100000")
            && out.contains(" --> contributions/2026/03/15/01bbbbbbbbbbbbbbbbbbbbbbc1.toml:8:9"),
        "{out}"
    );
    // Every command that reads the ledger refuses it, cleanly.
    for args in [
        &["payout", "100", "-p", "drone", "--at", "big"][..],
        &["report", "claims", "--at", "big"],
        &["report", "contributions", "--at", "big"],
        &["report", "resources", "--at", "big"],
        &["export", "hledger", "--at", "big"],
    ] {
        let (code, _, err) = run_clean(&s, &dir, args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("out-of-range"), "{args:?}: {err}");
    }
    let site = s.work().join("site");
    let (code, _, _) = run_clean(&s, &dir, &["site", site.to_str().unwrap(), "--at", "big"]);
    assert_ne!(code, 0);
    // A review of the change says the payout impact cannot be computed, instead of
    // panicking.
    let (_, out, _) = run_clean(&s, &dir, &["review", "--amount", "3000"]);
    assert!(
        out.contains("not computed: after: 10 problem(s) in the ledger"),
        "{out}"
    );
}

#[test]
fn the_largest_values_compute_exactly_in_every_command() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    commit_files(&s, &dir, &large("1000000000000", "100000"), "largest");
    let (code, out, _) = run_clean(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}");
    for revenue in ["1000000000000", "999999999999.99", "0.01", "3000"] {
        let (code, out, err) = run_clean(
            &s,
            &dir,
            &["payout", revenue, "-p", "drone", "--format", "csv"],
        );
        assert_eq!(code, 0, "{err}");
        let sum: Decimal = out
            .lines()
            .skip(1)
            .map(|l| Decimal::from_str(l.rsplit(',').next().unwrap()).unwrap())
            .sum();
        assert_eq!(sum, Decimal::from_str(revenue).unwrap(), "{out}");
    }
    // Recorded at the largest revenue, then everything that reads payouts and claims.
    let (code, _, err) = run_clean(
        &s,
        &dir,
        &[
            "payout",
            "1000000000000",
            "-p",
            "drone",
            "--record",
            "--memo",
            "max",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let site = s.work().join("site");
    for args in [
        &["check"][..],
        &["payout", "1000000000000", "-p", "drone", "--explain"],
        &["report", "claims"],
        &["report", "contributions"],
        &["report", "resources"],
        &["report", "payouts"],
        &["export", "hledger"],
        &["export", "beancount"],
        &["export", "json"],
        &["site", site.to_str().unwrap()],
    ] {
        let (code, _, err) = run_clean(&s, &dir, args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    let (_, claims, _) = run_clean(&s, &dir, &["report", "claims"]);
    // ben's nine debts of 10^12 and the 400.00 of the example: owed in full, exactly.
    assert!(claims.contains("9000000000400.00"), "{claims}");
    // A review of a branch adding one more of the largest amount.
    s.git(&dir, &["checkout", "-q", "-b", "more"]);
    let mut more = large("1000000000000", "100000");
    more.truncate(1);
    more[0].0 = more[0].0.replace("b0.toml", "d0.toml");
    more[0].1 = more[0].1.replace("bbb0\"", "bbd0\"");
    commit_files(&s, &dir, &more, "one more");
    let (code, out, err) = run_clean(&s, &dir, &["review", "--amount", "1000000000000"]);
    // ana commits ben's record, dated months back: review flags who did what (exit 1), and
    // still works out the impact of the largest amount exactly.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("logged for ben by ana"), "{out}");
    assert!(out.contains("Payout impact on drone"), "{out}");
}

#[test]
fn a_revenue_beyond_the_bound_is_refused_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    for revenue in [
        "9999999999999999999999999999",
        "999999999999999999999999999",
        "1000000000000.01",
    ] {
        for record in [false, true] {
            let mut args = vec!["payout", revenue, "-p", "drone"];
            if record {
                args.push("--record");
            }
            let (code, out, err) = run_clean(&s, &dir, &args);
            assert_eq!((code, out.as_str()), (2, ""), "{err}");
            assert!(
                err.contains(&format!(
                    "the revenue amount {revenue} is more than 1000000000000, the largest revenue ovn computes exactly"
                )),
                "{err}"
            );
        }
    }
    // The other commands that take a revenue refuse it the same way.
    for args in [
        &["review", "--amount", "1000000000000.01"][..],
        &[
            "report",
            "claims",
            "-p",
            "drone",
            "--amount",
            "9999999999999999999999999999",
        ],
    ] {
        let (code, _, err) = run_clean(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("is more than 1000000000000"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "1");
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_preview_shows_what_record_records_with_a_future_dated_contribution() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // Dated after today (the tests' clock is 2026-11-24).
    let id = "01cccccccccccccccccccccccc";
    commit_files(
        &s,
        &dir,
        &[(
            format!("contributions/2026/12/01/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"cy\"\ndate = 2026-12-01\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Planned test flights\"\nhours = \"4\"\n"
            ),
        )],
        "future",
    );
    let (code, preview, err) = run(
        &s,
        &dir,
        &["payout", "500", "-p", "drone", "--format", "csv"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, table, _) = run(&s, &dir, &["payout", "500", "-p", "drone"]);
    assert!(
        table.contains(&format!("left out {id}: dated after the payout")),
        "{table}"
    );
    let (code, _, err) = run(&s, &dir, &["payout", "500", "-p", "drone", "--record"]);
    assert_eq!(code, 0, "{err}");
    let file = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    let recorded = std::fs::read_to_string(dir.join(file.trim())).unwrap();
    assert!(recorded.contains("date = 2026-11-24"), "{recorded}");
    // The recorded lines are the preview's, line for line.
    let value: toml::Value = toml::from_str(&recorded).unwrap();
    let mut lines = String::from("agent,bucket,amount\n");
    for l in value["lines"].as_array().unwrap() {
        lines.push_str(&format!(
            "{},{},{}\n",
            l["agent"].as_str().unwrap(),
            l["bucket"].as_str().unwrap(),
            l["amount"].as_str().unwrap()
        ));
    }
    assert_eq!(lines, preview);
    // An explicit later date counts the contribution, in a preview and a record alike.
    let (_, dated, _) = run(
        &s,
        &dir,
        &[
            "payout",
            "500",
            "-p",
            "drone",
            "--date",
            "2026-12-31",
            "--format",
            "csv",
        ],
    );
    assert_ne!(dated, preview);
    assert!(dated.contains("cy,equity,"), "{dated}");
}

#[test]
fn explain_states_true_equations_for_a_capped_debt_partly_repaid() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // The shapes: work valued 10 h × 30 as a debt capped at 1.2, and a money debt of
    // 1000.00 capped at 1.2, after a recorded payout repaid part of them.
    let agreement = common::BASE
        .iter()
        .find(|(p, _)| *p == "agreements/drone-ve.toml")
        .unwrap()
        .1
        .replace("claim = \"debt\"\n", "claim = \"debt\"\ncap = \"1.2\"\n")
        .replace(
            "kind = \"money\"\n",
            "kind = \"money\"\n\n[[buckets.rules]]\nkind = \"work\"\nagent = \"cy\"\n",
        );
    let work = "01cccccccccccccccccccccccc";
    let money = "01cccccccccccccccccccccccd";
    commit_files(
        &s,
        &dir,
        &[
            ("agreements/drone-ve.toml".to_owned(), agreement),
            (
                format!("contributions/2026/03/20/{work}.toml"),
                format!(
                    "id = \"{work}\"\nagent = \"cy\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Wiring\"\nhours = \"10\"\n"
                ),
            ),
            (
                format!("contributions/2026/03/20/{money}.toml"),
                format!(
                    "id = \"{money}\"\nagent = \"cy\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Batteries\"\namount = \"1000.00\"\n"
                ),
            ),
        ],
        "capped debts",
    );
    let (code, before, err) = run(&s, &dir, &["payout", "1000", "-p", "drone", "--explain"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        before.contains(&format!(
            "cy {money}: 1000.00 = 1000; owed 1000 × cap 1.2 = 1200; debt outstanding 1200.00;"
        )),
        "{before}"
    );
    assert!(
        before.contains(&format!(
            "cy {work}: 10 h × 30 (the work rate) = 300; owed 300 × cap 1.2 = 360; debt outstanding 360.00;"
        )),
        "{before}"
    );
    let (code, _, err) = run(&s, &dir, &["payout", "1000", "-p", "drone", "--record"]);
    assert_eq!(code, 0, "{err}");
    let (_, after, _) = run(
        &s,
        &dir,
        &["payout", "1000", "-p", "drone", "--explain", "--at", "HEAD"],
    );
    // What the record repaid on the work debt, and what is left: a true subtraction.
    let line = after
        .lines()
        .find(|l| l.contains(&format!("cy {work}:")))
        .unwrap_or_else(|| panic!("{after}"));
    let (_, tail) = line
        .split_once("owed 300 × cap 1.2 = 360; 360.00 − ")
        .unwrap();
    let (repaid, rest) = tail.split_once(" already repaid = ").unwrap();
    let (left, _) = rest.split_once(';').unwrap();
    assert_eq!(
        Decimal::from_str("360.00").unwrap() - Decimal::from_str(repaid).unwrap(),
        Decimal::from_str(left).unwrap(),
        "{line}"
    );
    assert!(
        line.contains(&format!("debt outstanding {left};")),
        "{line}"
    );
}

#[test]
fn memo_is_judged_like_the_field_before_anything_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    for (memo, says) in [
        (
            "Invoice \u{1b}[31m114",
            "--memo holds the forbidden character U+001B (ESCAPE)",
        ),
        ("", "--memo is empty"),
        ("   ", "--memo is empty"),
        (
            "Invoice \u{202E}411",
            "--memo holds the forbidden character U+202E (RIGHT-TO-LEFT OVERRIDE)",
        ),
    ] {
        let (code, out, err) = run(
            &s,
            &dir,
            &["payout", "3000", "-p", "drone", "--record", "--memo", memo],
        );
        assert_eq!((code, out.as_str()), (2, ""), "{memo:?}: {err}");
        assert!(err.contains(says), "{memo:?}: {err}");
    }
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "1");
    // The ledger stays valid and a good memo is recorded, trimmed like every text flag.
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--record",
            "--memo",
            " Invoice 114 ",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        s.git(&dir, &["log", "-1", "--format=%s"]).trim(),
        "payout: drone 3000.00 EUR on 2026-11-24 (Invoice 114)"
    );
    let (code, out, _) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}");
    // The other write commands' text flags follow the same rule.
    for args in [
        &["log", "2h", "Fix \u{1b}[2J", "-p", "drone"][..],
        &[
            "log",
            "2h",
            "Wiring",
            "-p",
            "drone",
            "--evidence",
            "\u{202E}",
        ],
        &["agent", "add", "dee", "--name", " "],
        &["project", "add", "kite", "--name", "Kite\u{7}"],
        &[
            "resource",
            "add",
            "lathe",
            "--name",
            "\u{2066}Lathe",
            "--ownership",
            "commons",
        ],
    ] {
        let (code, _, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("is empty") || err.contains("forbidden character"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(s.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "2");
}
