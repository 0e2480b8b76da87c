//! `ovn pay` end to end on real git repositories: partial payments adding up, over-payment
//! and unknown lines refused with nothing written, paying every line in one commit, two
//! payments of one line recorded on two branches and merged (rejected by `ovn check`, made
//! whole by a refund), payments protected by `ovn check --history`, and hostile text kept
//! as data.

use std::path::Path;

use crate::common::{PAYOUT_ID, Sandbox, commit_count, repo_with_payout, run, write_files};

/// After the payout's date (2026-11-30): a payment is dated when the money moves.
const LATER: &str = "2026-12-10T12:00:00+00:00";

/// `ovn ARGS` in `dir` on [`LATER`]: exit code, stdout and stderr.
fn pay(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = s
        .ovn(dir)
        .env("OVN_NOW", LATER)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn payments(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(years) = std::fs::read_dir(dir.join("payments")) {
        for y in years.flatten().filter(|y| y.path().is_dir()) {
            for f in std::fs::read_dir(y.path()).unwrap().flatten() {
                out.push(std::fs::read_to_string(f.path()).unwrap());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn partial_payments_add_up_and_the_rest_is_paid_by_default() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let (code, out, err) = pay(
        &s,
        &dir,
        &[
            "pay",
            "01pa",
            "--agent",
            "ana",
            "--amount",
            "150",
            "--method",
            "bank transfer",
            "--reference",
            "TX-1",
            "--date",
            "2026-12-01",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Recorded payment ")
            && out.contains(": 150.00 EUR to ana (equity) of payout 01pa0000000000000000000001, 2026-12-01 bank transfer in payments/2026/"),
        "{out}"
    );
    let text = &payments(&dir)[0];
    assert!(text.contains("payout = \"01pa0000000000000000000001\"\nagent = \"ana\"\nbucket = \"equity\"\namount = \"150.00\"\ncurrency = \"EUR\"\ndate = 2026-12-01\nmethod = \"bank transfer\"\nreference = \"TX-1\"\n"), "{text}");
    // Without --amount: what is outstanding (1150.00 - 150.00).
    let (code, out, err) = pay(
        &s,
        &dir,
        &["pay", PAYOUT_ID, "--agent", "ana", "--method", "cash"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": 1000.00 EUR to ana (equity)"), "{out}");
    assert_eq!(commit_count(&s, &dir), 4);
    assert!(
        s.git(&dir, &["log", "-1", "--format=%s"])
            .starts_with("pay: payment "),
        "one commit per payment"
    );
    // Nothing is outstanding any more.
    let before = commit_count(&s, &dir);
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", PAYOUT_ID, "--agent", "ana", "--method", "cash"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("nothing is outstanding on ana's line equity of payout 01pa0000000000000000000001: 1150.00 owed, 1150.00 paid"), "{err}");
    assert_eq!(commit_count(&s, &dir), before);
    let (code, out, _) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn over_payment_unknown_payouts_and_lines_are_refused_and_write_nothing() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let before = commit_count(&s, &dir);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--agent", "cy", "--amount", "48.95"],
            "48.95 is more than the 48.94 outstanding on cy's line equity",
        ),
        (
            &["--agent", "dee"],
            "payout 01pa0000000000000000000001 has no line for dee",
        ),
        (&["--agent", "ben"], "ben has 2 lines in payout"),
        (
            &["--agent", "ben", "--bucket", "network"],
            "has no line for ben in bucket network",
        ),
        (&["--line", "6"], "has no line 6 (it has 5)"),
        (
            &["--line", "1", "--amount", "0"],
            "--amount must be greater than zero",
        ),
        (
            &["--line", "1", "--amount", "1.001"],
            "more than the 2 decimal places of EUR",
        ),
        (&["--all", "--amount", "1"], "--amount pays one line"),
        (
            &["--line", "1", "--date", "2026-11-29"],
            "is before the payout's date 2026-11-30",
        ),
        (&["--line", "1", "--refund"], "is not overpaid"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["pay", "01pa", "--method", "cash"];
        all.extend_from_slice(args);
        let (code, out, err) = pay(&s, &dir, &all);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01zz", "--line", "1", "--method", "cash"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no recorded payout has the id 01zz"), "{err}");
    let (code, _, err) = pay(&s, &dir, &["pay", "01pa", "--method", "cash"]);
    assert_eq!(code, 2);
    assert!(err.contains("which line?"), "{err}");
    assert_eq!(commit_count(&s, &dir), before);
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
    assert!(payments(&dir).is_empty());
}

#[test]
fn all_pays_every_outstanding_line_in_one_commit_and_dry_run_writes_nothing() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let (code, _, err) = pay(
        &s,
        &dir,
        &[
            "pay", "01pa", "--line", "2", "--amount", "100", "--method", "cash",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let before = commit_count(&s, &dir);
    let (code, out, err) = pay(
        &s,
        &dir,
        &[
            "pay",
            "01pa",
            "--all",
            "--method",
            "bank transfer",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Would record 5 payments of payout 01pa0000000000000000000001, 2900.00 EUR in all (nothing written):\n  300.00 EUR to fablab-fund (network)"), "{out}");
    assert!(
        out.contains("\n  300.00 EUR to ben (reimbursement)"),
        "{out}"
    );
    assert_eq!(commit_count(&s, &dir), before);
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
    let (code, out, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--all", "--method", "bank transfer"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Recorded 5 payments of payout 01pa0000000000000000000001, 2900.00 EUR in all in payments/2026/"), "{out}");
    assert_eq!(commit_count(&s, &dir), before + 1);
    assert_eq!(payments(&dir).len(), 6);
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--all", "--method", "bank transfer"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("every line is paid"), "{err}");
}

#[test]
fn two_payments_of_one_line_on_two_branches_are_rejected_once_merged_and_a_refund_mends_it() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    s.git(&dir, &["checkout", "-q", "-b", "treasurer-a"]);
    let (code, _, err) = pay(
        &s,
        &dir,
        &[
            "pay",
            "01pa",
            "--agent",
            "ana",
            "--method",
            "bank transfer",
            "--reference",
            "A-1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["checkout", "-q", "-b", "treasurer-b"]);
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--agent", "ana", "--method", "cash"],
    );
    assert_eq!(code, 0, "each branch alone pays within what is owed: {err}");
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "a", "treasurer-a"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "b", "treasurer-b"]);
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 1, "{err}");
    let err = format!("{out}{err}");
    assert!(err.contains("error[overpayment]: the payments of ana's line \"equity\" of payout 01pa0000000000000000000001 sum to 2300.00, more than the 1150.00 it owes"), "{err}");
    // No more can be paid on it; the excess returned is recorded as a refund.
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--agent", "ana", "--method", "cash"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = pay(
        &s,
        &dir,
        &[
            "pay",
            "01pa",
            "--agent",
            "ana",
            "--refund",
            "--method",
            "bank transfer",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Recorded refund ") && out.contains(": refund of 1150.00 EUR to ana (equity)"),
        "{out}"
    );
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_merged_payment_is_never_modified_or_deleted() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--agent", "cy", "--method", "cash"],
    );
    assert_eq!(code, 0, "{err}");
    let path = s
        .git(&dir, &["show", "--name-only", "--format=", "HEAD"])
        .trim()
        .to_owned();
    let text = std::fs::read_to_string(dir.join(&path)).unwrap();
    write_files(
        &dir,
        &[(&path as &str, &text.replace("cash", "wire") as &str)],
    );
    s.git(&dir, &["commit", "-q", "-am", "edit a payment"]);
    let (code, out, err) = run(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("modifies validated payment"),
        "{out}{err}"
    );
}

#[test]
fn hostile_text_is_refused_or_kept_as_data() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let before = commit_count(&s, &dir);
    for (flag, value) in [
        ("--method", "cash\n[[lines]]"),
        ("--reference", "\u{1b}[31mred"),
        ("--memo", "a\u{202e}b"),
    ] {
        let mut args = vec!["pay", "01pa", "--line", "1", "--method", "cash"];
        if flag == "--method" {
            args[5] = value;
        } else {
            args.extend([flag, value]);
        }
        let (code, _, err) = pay(&s, &dir, &args);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err:?}"
        );
    }
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa\u{1b}[2J", "--line", "1", "--method", "cash"],
    );
    assert_eq!(code, 2);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    let (code, _, err) = pay(
        &s,
        &dir,
        &["pay", "01pa", "--agent", "../ana", "--method", "cash"],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(commit_count(&s, &dir), before);
    // Quotes, backslashes and brackets are text: escaped in the record, read back the same.
    let (code, _, err) = pay(
        &s,
        &dir,
        &[
            "pay",
            "01pa",
            "--line",
            "1",
            "--method",
            "say \"hi\" \\ [[lines]]",
            "--reference",
            "x = \"y\"",
            "--memo",
            "# not a comment",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = &payments(&dir)[0];
    assert!(text.contains("method = \"say \\\"hi\\\" \\\\ [[lines]]\"\nreference = \"x = \\\"y\\\"\"\nmemo = \"# not a comment\"\n"), "{text}");
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Whether `tool --version` runs; says why a check is skipped when it does not.
fn installed(tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: `{tool}` is not installed (bash .ci/run installs it)");
    }
    ok
}

#[test]
fn exports_book_payments_and_reconcile_with_the_report_to_the_cent() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let before_hl = crate::common::ok(&s, &dir, &["export", "hledger"]);
    let text = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    write_files(
        &dir,
        &[(
            "ovn.toml",
            &format!("{text}payment_account = \"assets:bank:checking\"\n") as &str,
        )],
    );
    s.git(
        &dir,
        &[
            "commit",
            "-q",
            "-am",
            "book payments from the checking account",
        ],
    );
    for args in [
        &[
            "--agent",
            "ana",
            "--amount",
            "150.10",
            "--memo",
            "first; \"half\" # of it",
        ][..],
        &["--agent", "ben", "--bucket", "reimbursement"],
        &["--agent", "cy", "--amount", "0.01"],
    ] {
        let mut all = vec!["pay", "01pa", "--method", "bank transfer"];
        all.extend_from_slice(args);
        let (code, _, err) = pay(&s, &dir, &all);
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = pay(
        &s,
        &dir,
        &[
            "pay", "01pa", "--agent", "ana", "--refund", "--amount", "0.10", "--method", "cash",
        ],
    );
    assert_eq!(code, 0, "{err}");

    let journal = crate::common::ok(&s, &dir, &["export", "hledger"]);
    let payout_entry = &before_hl[before_hl.find("\n2026-11-30 *").unwrap()..];
    assert!(
        journal.contains(payout_entry),
        "payouts book as before:\n{journal}"
    );
    assert!(
        journal.contains("account assets:bank:checking\n"),
        "{journal}"
    );
    assert!(journal.contains(") Payment ana | payout 01pa0000000000000000000001\n    ; bucket: equity, method: bank transfer, memo: first, \"half\" # of it\n    liabilities:payable:ana  150.10 EUR\n    assets:bank:checking  -150.10 EUR\n"), "{journal}");
    assert!(journal.contains(") Refund ana | payout 01pa0000000000000000000001\n    ; bucket: equity, method: cash\n    liabilities:payable:ana  -0.10 EUR\n    assets:bank:checking  0.10 EUR\n"), "{journal}");
    let beancount = crate::common::ok(&s, &dir, &["export", "beancount"]);
    assert!(
        beancount.contains("2026-03-12 open Assets:Bank:Checking EUR\n"),
        "{beancount}"
    );
    assert!(
        beancount.contains(
            "  Liabilities:Payable:Ben  400.00 EUR\n  Assets:Bank:Checking  -400.00 EUR\n"
        ),
        "{beancount}"
    );

    // What the report says is outstanding, per agent.
    let report = crate::common::ok(
        &s,
        &dir,
        &["report", "payouts", "--lines", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let rows = v["outstanding"]["rows"].as_array().unwrap();
    let outstanding: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_owned(),
                r["outstanding"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outstanding,
        [
            ("ana".to_owned(), "1000.00".to_owned()),
            ("ben".to_owned(), "1101.06".to_owned()),
            ("cy".to_owned(), "48.93".to_owned()),
            ("fablab-fund".to_owned(), "300.00".to_owned()),
        ]
    );
    assert_eq!(v["outstanding"]["total"]["outstanding"], "2449.99");
    let csv = crate::common::ok(
        &s,
        &dir,
        &["report", "payouts", "--lines", "--format", "csv"],
    );
    assert!(csv.starts_with("payout,date,project,line,agent,bucket,owed,paid,outstanding\n01pa0000000000000000000001,2026-11-30,drone,1,fablab-fund,network,300.00,0.00,300.00\n"), "{csv}");
    assert!(
        csv.contains(",3,ana,equity,1150.00,150.00,1000.00\n"),
        "{csv}"
    );

    if installed("hledger") {
        let file = s.work().join("books.journal");
        std::fs::write(&file, &journal).unwrap();
        let check = std::process::Command::new("hledger")
            .args(["check", "--strict", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "hledger check: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let bal = std::process::Command::new("hledger")
            .args(["balance", "--flat", "-N", "-f"])
            .arg(&file)
            .arg("liabilities:payable")
            .output()
            .unwrap();
        let books: Vec<(String, String)> = String::from_utf8(bal.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let mut w = l.split_whitespace();
                let amount = w.next().unwrap().trim_start_matches('-').to_owned();
                let account = w
                    .nth(1)
                    .unwrap()
                    .trim_start_matches("liabilities:payable:")
                    .to_owned();
                (account, amount)
            })
            .collect();
        assert_eq!(
            books, outstanding,
            "the payables left are what the report says is outstanding"
        );
    }
    if installed("bean-check") {
        let file = s.work().join("books.beancount");
        std::fs::write(&file, &beancount).unwrap();
        let check = std::process::Command::new("bean-check")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "bean-check: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
}
