//! Contributions in another currency (issue 17), end to end on real git repositories: a EUR
//! network with USD contributions converted at a rate written on the record and at a dated
//! rate record, and a CHF one without any rate: `ovn check` (and `ovn review`, and the
//! pre-commit hook's `ovn check --staged`) fails with a `missing-rate` error naming the file,
//! line, field, currency pair and date; `ovn payout` still pays everyone else and says which
//! contribution it left out and why, in a preview, a record and its verification alike;
//! `--explain` shows the original and the converted amount; `ovn log` refuses an amount it
//! cannot convert; exports carry the rates as price directives.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, base_repo, ok, run, write_files};

/// ana's 100.00 USD at 1.0825 written on the record.
const ON_RECORD: &str = "01aaaaaaaaaaaaaaaaaaaaaaa6";
/// cy's 250.00 USD material, converted at the dated USD→EUR rate.
const DATED: &str = "01aaaaaaaaaaaaaaaaaaaaaaa7";
/// ben's 80.00 CHF, with no CHF→EUR rate.
const NO_RATE: &str = "01aaaaaaaaaaaaaaaaaaaaaaa8";

fn contribution(id: &str, agent: &str, day: &str, kind: &str, tail: &str) -> (String, String) {
    (
        format!("contributions/2026/03/{day}/{id}.toml"),
        format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-03-{day}\nproject = \"drone\"\nkind = \"{kind}\"\ndescription = \"Bought abroad\"\n{tail}"
        ),
    )
}

/// The worked example plus the three contributions in other currencies and one USD→EUR
/// rate (dated before cy's contribution, and a later one dated after it that must not
/// apply), committed.
fn ledger(s: &Sandbox) -> std::path::PathBuf {
    let dir = base_repo(s, "l");
    let files = [
        contribution(
            ON_RECORD,
            "ana",
            "14",
            "money",
            "amount = \"100.00\"\ncurrency = \"USD\"\nrate = \"1.0825\"\n",
        ),
        contribution(
            DATED,
            "cy",
            "15",
            "material",
            "amount = \"250.00\"\ncurrency = \"USD\"\n",
        ),
        contribution(
            NO_RATE,
            "ben",
            "16",
            "money",
            "amount = \"80.00\"\ncurrency = \"CHF\"\n",
        ),
        (
            "rates/2026/usd-eur-2026-03-01.toml".to_owned(),
            "id = \"usd-eur-2026-03-01\"\ndate = 2026-03-01\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.9231\"\n".to_owned(),
        ),
        (
            "rates/2026/usd-eur-2026-04-01.toml".to_owned(),
            "id = \"usd-eur-2026-04-01\"\ndate = 2026-04-01\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.5\"\n".to_owned(),
        ),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &refs);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "contributions abroad"]);
    dir
}

fn chf_rate(s: &Sandbox, dir: &Path) {
    write_files(
        dir,
        &[(
            "rates/2026/chf-eur-2026-03-02.toml",
            "id = \"chf-eur-2026-03-02\"\ndate = 2026-03-02\nfrom = \"CHF\"\nto = \"EUR\"\nrate = \"1.0465\"\n",
        )],
    );
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", "CHF rate"]);
}

#[test]
fn a_missing_rate_is_located_in_check_and_left_out_of_the_payout() {
    let s = Sandbox::new();
    let dir = ledger(&s);
    let (code, out, err) = run(&s, &dir, &["check"]);
    let all = format!("{out}{err}");
    assert_eq!(code, 1, "{all}");
    assert!(
        all.contains(&format!(
            "error[missing-rate]: contribution `{NO_RATE}` is in CHF (field `currency`), and no CHF→EUR rate is dated on or before 2026-03-16"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!("--> contributions/2026/03/16/{NO_RATE}.toml:3:8")),
        "{all}"
    );
    assert!(
        all.contains("= help: write its rate on it (rate = \"…\", EUR per CHF), or add a rate record rates/2026/chf-eur-2026-03-16.toml with from = \"CHF\", to = \"EUR\", date = 2026-03-16; until then payouts leave it out"),
        "{all}"
    );
    assert!(all.contains("error: 1 problem in 1 file"), "{all}");
    let (code, json, _) = run(&s, &dir, &["check", "--at", "HEAD", "--format", "json"]);
    assert_eq!(code, 1, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ok"], false, "{json}");
    assert_eq!(v["problems"][0]["code"], "missing-rate", "{json}");
    assert_eq!(v["problems"][0]["line"], 3, "{json}");
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(0), "{json}");

    // The payout runs for everyone else: 100.00 USD × 1.0825 = 108.25 and 250.00 USD ×
    // 0.9231 = 230.775 → 230.78 (half to even) are repaid as debts.
    let (code, out, err) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(" ana                            108.25    980.49   1088.74\n"),
        "{out}"
    );
    assert!(
        out.contains(" cy                             230.78     41.72    272.50\n"),
        "{out}"
    );
    assert!(
        out.contains(" total          300.00          739.03   1960.97   3000.00\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "left out {NO_RATE}: no exchange rate for its currency and date"
        )),
        "{out}"
    );
    let explained = ok(&s, &dir, &["payout", "3000", "-p", "drone", "--explain"]);
    assert!(
        explained.contains(&format!(
            "{ON_RECORD}: 100.00 USD × 1.0825 = 108.25 = 108.25"
        )),
        "{explained}"
    );
    assert!(
        explained.contains(&format!(
            "{DATED}: 250.00 USD × 0.9231 = 230.775 → 230.78 = 230.78"
        )),
        "{explained}"
    );
    // Reports run too: the converted debts are owed in EUR, the CHF one holds no claim.
    let claims = ok(&s, &dir, &["report", "claims"]);
    assert!(
        claims.contains(" total             1880.00                     739.03 "),
        "{claims}"
    );
    let contributions = ok(&s, &dir, &["report", "contributions", "--by", "agent"]);
    assert!(
        contributions.contains("3 contribution(s) with an amount in another currency are counted but not in amount; their value is the amount converted"),
        "{contributions}"
    );
    // JSON lines sum exactly to the revenue.
    let json = ok(
        &s,
        &dir,
        &["payout", "3000", "-p", "drone", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sum: rust_decimal::Decimal = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(sum.to_string(), "3000.00");
    assert_eq!(
        v["left_out"],
        serde_json::json!([{"contribution": NO_RATE, "reason": "no exchange rate for its currency and date"}]),
        "{json}"
    );
    // --explain tells it too, beside the conversions.
    assert!(
        explained.contains(&format!(
            "left out {NO_RATE}: no exchange rate for its currency and date"
        )),
        "{explained}"
    );
}

/// The record of a payout made while a rate was missing: it says what it left out, pays the
/// others, verifies; once the rate is recorded the next payout repays that debt, and the
/// first record still verifies (it was computed at its own commit).
#[test]
fn a_payout_recorded_without_a_rate_leaves_that_one_out_and_verifies() {
    let s = Sandbox::new();
    let dir = ledger(&s);
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
            "2026-11-30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Recorded payout "), "{out}");
    assert!(
        out.contains(&format!(
            "\nleft out {NO_RATE}: no exchange rate for its currency and date\n"
        )),
        "{out}"
    );
    let path = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    let path = path.trim().to_owned();
    let text = std::fs::read_to_string(dir.join(&path)).unwrap();
    assert!(!text.contains(NO_RATE), "{text}");
    assert!(
        text.contains(
            "[[lines]]\nagent = \"ana\"\nbucket = \"reimbursement\"\namount = \"108.25\"\n"
        ),
        "{text}"
    );
    let id = path
        .trim_start_matches("payouts/2026/")
        .trim_end_matches(".toml")
        .to_owned();
    let verified = ok(&s, &dir, &["payout", "verify", &id]);
    assert!(verified.contains("matches"), "{verified}");

    chf_rate(&s, &dir);
    ok(&s, &dir, &["check"]);
    let next = ok(
        &s,
        &dir,
        &["payout", "1000", "-p", "drone", "--date", "2026-12-01"],
    );
    assert!(
        next.contains(" ben                             83.72 "),
        "80.00 CHF × 1.0465 = 83.72 is repaid now: {next}"
    );
    assert!(!next.contains("no exchange rate"), "{next}");
    let verified = ok(&s, &dir, &["payout", "verify", &id]);
    assert!(verified.contains("matches"), "{verified}");
}

/// A change bringing a contribution no rate converts fails review and the pre-commit hook,
/// located; a rate recorded before the change still converts what it adds; review's payout
/// impact leaves the contribution out as `ovn payout` does.
#[test]
fn review_and_the_hook_fail_on_a_missing_rate() {
    let s = Sandbox::new();
    let dir = ledger(&s);
    let (code, out, err) = run(&s, &dir, &["review", "HEAD~1..HEAD", "--amount", "3000"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "contributions/2026/03/16/{NO_RATE}.toml:3:8: error[missing-rate]: contribution `{NO_RATE}` is in CHF (field `currency`), and no CHF→EUR rate is dated on or before 2026-03-16"
        )),
        "{out}"
    );
    // The dated USD rate converts cy's record: only the CHF one is reported. The rate
    // records are described, not taken for broken files.
    assert_eq!(out.matches("missing-rate").count(), 1, "{out}");
    assert!(
        out.contains(
            "rates/2026/usd-eur-2026-03-01.toml  exchange rate 1 USD = 0.9231 EUR from 2026-03-01\n"
        ),
        "{out}"
    );
    assert!(!out.contains("not a readable record"), "{out}");
    assert!(out.contains("Payout impact on drone for 3000.00:"), "{out}");
    assert!(
        out.contains(" ana              1150.00      1088.74       -61.26\n"),
        "{out}"
    );
    let (code, json, _) = run(
        &s,
        &dir,
        &[
            "review",
            "HEAD~1..HEAD",
            "--amount",
            "3000",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{json}");
    assert!(json.contains("error[missing-rate]"), "{json}");

    // A change adding a USD amount later: the rate recorded before it converts it.
    chf_rate(&s, &dir);
    let (path, text) = contribution(
        "01aaaaaaaaaaaaaaaaaaaaaaa9",
        "ana",
        "20",
        "money",
        "amount = \"10.00\"\ncurrency = \"USD\"\n",
    );
    write_files(&dir, &[(path.as_str(), text.as_str())]);
    s.git(&dir, &["add", "-A"]);
    ok(&s, &dir, &["check", "--staged"]);
    s.git(&dir, &["commit", "-q", "-m", "USD amount"]);
    let (_, out, _) = run(&s, &dir, &["review", "HEAD~1..HEAD"]);
    assert!(out.contains("Added (1):"), "{out}");
    assert!(!out.contains("missing-rate"), "{out}");

    // The pre-commit hook (`ovn check --staged`) refuses one in a currency without a rate.
    let (path, text) = contribution(
        "01aaaaaaaaaaaaaaaaaaaaaaab",
        "ana",
        "21",
        "money",
        "amount = \"10.00\"\ncurrency = \"GBP\"\n",
    );
    write_files(&dir, &[(path.as_str(), text.as_str())]);
    s.git(&dir, &["add", "-A"]);
    let (code, out, err) = run(&s, &dir, &["check", "--staged"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[missing-rate]: contribution `01aaaaaaaaaaaaaaaaaaaaaaab` is in GBP"),
        "{out}"
    );
}

#[test]
fn with_every_rate_the_payout_records_verifies_and_exports_prices() {
    let s = Sandbox::new();
    let dir = ledger(&s);
    chf_rate(&s, &dir);
    ok(&s, &dir, &["check"]);
    // 80.00 CHF × 1.0465 = 83.72.
    let out = ok(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--record",
            "--date",
            "2026-11-30",
        ],
    );
    assert!(out.starts_with("Recorded payout "), "{out}");
    let path = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    let path = path.trim();
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    assert!(
        text.contains(&format!(
            "[[settled]]\ncontribution = \"{NO_RATE}\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"83.72\"\n"
        )),
        "{text}"
    );
    let id = path
        .trim_start_matches("payouts/2026/")
        .trim_end_matches(".toml");
    let verified = ok(&s, &dir, &["payout", "verify", id]);
    assert!(verified.contains("matches"), "{verified}");

    let journal = ok(&s, &dir, &["export", "hledger"]);
    assert!(
        journal.ends_with(
            "\n; Exchange rates of the contributions in other currencies\ncommodity CHF\ncommodity USD\nP 2026-03-01 USD 0.9231 EUR\nP 2026-03-02 CHF 1.0465 EUR\nP 2026-03-14 USD 1.0825 EUR\n"
        ),
        "{journal}"
    );
    let bean = ok(&s, &dir, &["export", "beancount"]);
    assert!(
        bean.ends_with("2026-03-01 price USD 0.9231 EUR\n2026-03-02 price CHF 1.0465 EUR\n2026-03-14 price USD 1.0825 EUR\n"),
        "{bean}"
    );
    for (tool, args, text, name) in [
        (
            "hledger",
            &["check", "--strict", "-f"][..],
            &journal,
            "j.journal",
        ),
        ("bean-check", &[][..], &bean, "b.beancount"),
    ] {
        let installed = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            println!("SKIPPED: `{tool}` is not installed");
            continue;
        }
        let file = s.work().join(name);
        std::fs::write(&file, text).unwrap();
        let checked = Command::new(tool).args(args).arg(&file).output().unwrap();
        assert!(
            checked.status.success(),
            "{tool}: {}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}

#[test]
fn log_writes_a_rate_and_refuses_an_amount_it_cannot_convert() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let before = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "log",
            "Bought a gimbal",
            "--money",
            "120.00",
            "--currency",
            "USD",
            "--agent",
            "ana",
            "--date",
            "2026-03-20",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "is in USD (field `currency`), and no USD→EUR rate is dated on or before 2026-03-20"
        ),
        "{err}"
    );
    assert!(
        err.contains("= help: give its rate with --rate (EUR per USD), or first add a rate record rates/2026/usd-eur-2026-03-20.toml"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(s.git(&dir, &["rev-parse", "HEAD"]), before);
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");

    ok(
        &s,
        &dir,
        &[
            "log",
            "Bought a gimbal",
            "--money",
            "120.00",
            "--currency",
            "USD",
            "--rate",
            "0.9231",
            "--agent",
            "ana",
            "--date",
            "2026-03-20",
        ],
    );
    let added = s.git(&dir, &["show", "--format=", "HEAD"]);
    assert!(
        added.contains("+amount = \"120.00\"\n+currency = \"USD\"\n+rate = \"0.9231\"\n"),
        "{added}"
    );
    // With a dated rate record, no --rate is needed: the record has none of its own.
    write_files(
        &dir,
        &[(
            "rates/2026/usd-eur-2026-03-01.toml",
            "id = \"usd-eur-2026-03-01\"\ndate = 2026-03-01\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.9231\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "USD rate"]);
    ok(
        &s,
        &dir,
        &[
            "log",
            "Bought a second gimbal",
            "--money",
            "120.00",
            "--currency",
            "USD",
            "--agent",
            "ana",
            "--date",
            "2026-03-21",
        ],
    );
    let added = s.git(&dir, &["show", "--format=", "HEAD"]);
    assert!(
        added.contains("+currency = \"USD\"\n") && !added.contains("+rate"),
        "{added}"
    );
    let (code, _, err) = run(
        &s,
        &dir,
        &[
            "log", "Gimbal", "--money", "1", "--rate", "0.9", "--agent", "ana",
        ],
    );
    assert_eq!(code, 2, "{err}");
}
