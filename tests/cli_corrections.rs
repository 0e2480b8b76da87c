//! Settlement follows corrections (issue 14, domain §7), end to end on real git
//! repositories: what recorded payouts paid on a contribution counts against whatever
//! supersedes it, a record is corrected once, `--supersedes` starts from the original, and a
//! reversal after a repayment is shown plainly.

mod common;

use std::path::Path;

use common::{Sandbox, base_repo, run, write_files};

/// ben's 400.00 money contribution in the base ledger (a debt claim).
const MONEY: &str = "01aaaaaaaaaaaaaaaaaaaaaaa4";
/// ben's 20 h of work (an equity claim).
const WORK: &str = "01aaaaaaaaaaaaaaaaaaaaaaa2";

/// Runs `ovn ARGS`, expecting success; returns stdout.
fn ok(s: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(s, dir, args);
    assert_eq!(code, 0, "ovn {args:?} failed: {err}{out}");
    out
}

fn commits(s: &Sandbox, dir: &Path) -> usize {
    s.git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// Records a payout of `amount` for drone, dated 2026-11-30 with memo `memo`.
fn record(s: &Sandbox, dir: &Path, amount: &str, memo: &str) -> String {
    ok(
        s,
        dir,
        &[
            "payout",
            amount,
            "-p",
            "drone",
            "--record",
            "--date",
            "2026-11-30",
            "--memo",
            memo,
        ],
    )
}

/// The id of the contribution the last commit added.
fn last_id(s: &Sandbox, dir: &Path) -> String {
    let files = s.git(dir, &["show", "--name-only", "--format=", "HEAD"]);
    let path = files.lines().find(|l| !l.is_empty()).unwrap();
    Path::new(path)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The cells of the first row of a table whose first cells are `start`.
fn row(table: &str, start: &[&str]) -> Vec<String> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|cells| cells.len() >= start.len() && cells[..start.len()] == *start)
        .unwrap_or_else(|| panic!("no row {start:?} in\n{table}"))
}

#[test]
fn a_supersede_after_a_partial_repayment_repays_only_the_rest() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // 1000: 100 to the network, a 300.00 reimbursement budget, all of it to ben's 400.00.
    record(&s, &dir, "1000", "Invoice 1");
    // Only the description changes.
    ok(
        &s,
        &dir,
        &[
            "log",
            "--money",
            "400.00",
            "Bought motors and sensors (receipt)",
            "--agent",
            "ben",
            "--supersedes",
            MONEY,
        ],
    );
    let next = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    // 100.00 is all that is still owed: the rest of the budget goes back to the pool.
    assert!(
        next.contains("bucket \"reimbursement\": budget 300.00, paid 100.00; 200.00 went back"),
        "{next}"
    );
    assert!(
        next.contains(&format!(
            "{MONEY} was corrected by {} after 300.00 was repaid to ben; it counts against the correction",
            last_id(&s, &dir)
        )),
        "{next}"
    );
    let claims = ok(&s, &dir, &["report", "claims", "-p", "drone"]);
    // debt owed, repaid, outstanding
    assert_eq!(
        row(&claims, &["drone", "ben"])[4..7],
        ["400.00", "300.00", "100.00"]
    );
    // The second payout repays the 100.00, and then nothing is owed.
    record(&s, &dir, "1000", "Invoice 2");
    let after = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert!(
        after.contains("bucket \"reimbursement\": budget 300.00, paid 0.00; 300.00 went back"),
        "{after}"
    );
    ok(&s, &dir, &["check"]);
}
