//! Settlement follows corrections (issue 14, domain §7), end to end on real git
//! repositories: what recorded payouts paid on a contribution counts against whatever
//! supersedes it, a record is corrected once, `--supersedes` starts from the original, and a
//! reversal after a repayment is shown plainly.

use std::path::Path;

use crate::common::{Sandbox, base_repo, ok, run, write_files};

/// ben's 400.00 money contribution in the base ledger (a debt claim).
const MONEY: &str = "01aaaaaaaaaaaaaaaaaaaaaaa4";
/// ben's 20 h of work (an equity claim).
const WORK: &str = "01aaaaaaaaaaaaaaaaaaaaaaa2";

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

/// The base ledger with a `bounty` bucket of once claims (10% of the total, before equity)
/// and cy's 50.00 bounty, committed.
fn with_bounty(s: &Sandbox) -> std::path::PathBuf {
    let dir = base_repo(s, "l");
    let agreement = std::fs::read_to_string(dir.join("agreements/drone-ve.toml")).unwrap();
    let agreement = agreement.replace(
        "[[buckets]]\nname = \"equity\"",
        "[[buckets]]\nname = \"bounty\"\nshare = \"10%\"\nclaim = \"once\"\n\n[[buckets.rules]]\nkind = \"bounty\"\n\n[[buckets]]\nname = \"equity\"",
    );
    write_files(&dir, &[("agreements/drone-ve.toml", &agreement)]);
    s.git(&dir, &["commit", "-qam", "bounty bucket"]);
    ok(
        s,
        &dir,
        &[
            "log",
            "--kind",
            "bounty",
            "--amount",
            "50.00",
            "Found the crash",
            "--agent",
            "cy",
        ],
    );
    dir
}

#[test]
fn a_once_claim_paid_before_a_supersede_is_not_paid_again() {
    let s = Sandbox::new();
    let dir = with_bounty(&s);
    let bounty = last_id(&s, &dir);
    let first = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert_eq!(row(&first, &["cy"])[1], "100.00", "{first}");
    record(&s, &dir, "1000", "Invoice 1");
    let out = ok(
        &s,
        &dir,
        &[
            "log",
            "Found the crash in the motor driver",
            "--supersedes",
            &bounty,
        ],
    );
    assert!(
        out.ends_with(&format!(
            "Supersedes {bounty}; changed:\n  description: \"Found the crash\" -> \"Found the crash in the motor driver\"\n"
        )),
        "{out}"
    );
    let next = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert!(
        next.contains("bucket \"bounty\": budget 100.00, paid 0.00; 100.00 went back"),
        "{next}"
    );
    assert!(
        next.contains(&format!(
            "left out {}: once claim already paid",
            last_id(&s, &dir)
        )),
        "{next}"
    );
    assert!(
        next.contains("after 100.00 was paid to cy on its once claim"),
        "{next}"
    );
}

#[test]
fn a_chain_of_corrections_carries_every_payment_to_its_head() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    record(&s, &dir, "1000", "Invoice 1"); // 300.00 of ben's 400.00
    ok(
        &s,
        &dir,
        &["log", "Motors and sensors", "--supersedes", MONEY],
    );
    let b = last_id(&s, &dir);
    // 500: a 150.00 budget, of which the 100.00 still owed.
    record(&s, &dir, "500", "Invoice 2");
    ok(&s, &dir, &["log", "--money", "450.00", "--supersedes", &b]);
    let c = last_id(&s, &dir);
    let next = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    // A and B's 400.00 count against C's 450.00: 50.00 is left.
    assert!(
        next.contains("bucket \"reimbursement\": budget 300.00, paid 50.00; 250.00 went back"),
        "{next}"
    );
    assert!(
        next.contains(&format!(
            "{MONEY} was corrected by {c} after 300.00 was repaid to ben"
        )),
        "{next}"
    );
    assert!(
        next.contains(&format!(
            "{b} was corrected by {c} after 100.00 was repaid to ben"
        )),
        "{next}"
    );
    let claims = ok(&s, &dir, &["report", "claims", "-p", "drone"]);
    assert_eq!(
        row(&claims, &["drone", "ben"])[4..7],
        ["450.00", "400.00", "50.00"]
    );
    // A correction of a correction is fine; a second correction of A or B is not.
    ok(&s, &dir, &["check"]);
}

#[test]
fn a_record_is_corrected_once() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    ok(
        &s,
        &dir,
        &["log", "Motors and sensors", "--supersedes", MONEY],
    );
    let b = last_id(&s, &dir);
    ok(&s, &dir, &["revert", WORK, "--reason", "Logged twice"]);
    let r = last_id(&s, &dir);
    let before = commits(&s, &dir);
    let (code, out, err) = run(&s, &dir, &["log", "Again", "--supersedes", MONEY]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains(&format!("{MONEY} is already superseded by {b} (contributions/2026/03/12/{b}.toml); a record is corrected once")),
        "{err}"
    );
    assert!(
        err.contains(&format!("ovn log ... --supersedes {b}")),
        "{err}"
    );
    let (code, _, err) = run(&s, &dir, &["revert", MONEY, "--reason", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is already superseded by"), "{err}");
    let (code, _, err) = run(&s, &dir, &["revert", WORK, "--reason", "again"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{WORK} is already reversed by {r}")),
        "{err}"
    );
    let (code, _, err) = run(&s, &dir, &["log", "10h", "Again", "--supersedes", WORK]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is already reversed by"), "{err}");
    // In the working tree too (--no-commit reads the files on disk).
    let (code, _, err) = run(
        &s,
        &dir,
        &["log", "Again", "--no-commit", "--supersedes", MONEY],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is already superseded by"), "{err}");
    assert_eq!(commits(&s, &dir), before, "nothing written");
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");

    // Warm the folder cache, then write second corrections by hand: `ovn check` reports
    // both, each naming the first correction's file.
    ok(&s, &dir, &["check"]);
    let second = |id: &str, field: &str, target: &str| {
        format!(
            "id = \"{id}\"\nagent = \"ben\"\ndate = 2026-11-20\nproject = \"drone\"\nkind = \"money\"\ndescription = \"By hand\"\namount = \"10.00\"\n{field} = \"{target}\"\n"
        )
    };
    let twice_s = "01zzzzzzzzzzzzzzzzzzzzzzc1";
    let twice_r = "01zzzzzzzzzzzzzzzzzzzzzzc2";
    write_files(
        &dir,
        &[
            (
                &format!("contributions/2026/11/20/{twice_s}.toml") as &str,
                &second(twice_s, "supersedes", MONEY) as &str,
            ),
            (
                &format!("contributions/2026/11/20/{twice_r}.toml") as &str,
                &second(twice_r, "reverses", WORK) as &str,
            ),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "by hand"]);
    let (code, err, _) = run(&s, &dir, &["check"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("error[corrected-twice]: contribution `{MONEY}` is already superseded by {b} (contributions/2026/03/12/{b}.toml)")), "{err}");
    assert!(
        err.contains(&format!("--> contributions/2026/11/20/{twice_s}.toml:8:14")),
        "{err}"
    );
    assert!(err.contains(&format!("error[corrected-twice]: contribution `{WORK}` is already reversed by {r} (contributions/2026/11/24/{r}.toml)")), "{err}");
    assert!(
        err.contains(&format!("--> contributions/2026/11/20/{twice_r}.toml:8:12")),
        "{err}"
    );
}

#[test]
fn a_supersede_keeps_what_is_not_given_and_says_what_changed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // A second project, and ana's 4 h of design at the 40/h design rate.
    let agreement = std::fs::read_to_string(dir.join("agreements/drone-ve.toml")).unwrap();
    write_files(
        &dir,
        &[
            (
                "agreements/drone-ve.toml",
                &agreement.replace(
                    "electronics = \"45\"",
                    "electronics = \"45\", design = \"40\"",
                ),
            ),
            (
                "projects/lab.toml",
                "id = \"lab\"\nname = \"Lab\"\nagreement = \"drone-ve\"\nstewards = [\"ana\"]\n",
            ),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "design rate, lab"]);
    ok(
        &s,
        &dir,
        &[
            "log",
            "4h",
            "Frame sketches",
            "-p",
            "lab",
            "--skill",
            "design",
            "--date",
            "2026-11-02",
        ],
    );
    let a = last_id(&s, &dir);
    // Run by ben, without --agent: the agent stays ana, and so do the project and the skill.
    let out = s
        .ovn(&dir)
        .env("GIT_AUTHOR_EMAIL", "ben@fablab.example")
        .args(["log", "5h", "--supersedes", &a])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("(ana 5h work on lab)"), "{stdout}");
    assert!(
        stdout.ends_with(&format!("Supersedes {a}; changed:\n  hours: 4h -> 5h\n")),
        "{stdout}"
    );
    let b = last_id(&s, &dir);
    let text =
        std::fs::read_to_string(dir.join(format!("contributions/2026/11/02/{b}.toml"))).unwrap();
    assert_eq!(
        text,
        format!(
            "id = \"{b}\"\nagent = \"ana\"\ndate = 2026-11-02\nproject = \"lab\"\nkind = \"work\"\ndescription = \"Frame sketches\"\nhours = \"5\"\nskill = \"design\"\nsupersedes = \"{a}\"\n"
        )
    );
    // 5 h at the design rate, not the 30/h work rate.
    let claims = ok(&s, &dir, &["report", "claims", "-p", "lab"]);
    assert_eq!(row(&claims, &["lab", "ana"])[2], "200.00", "{claims}");
    // The agent, project and kind change only with their flags, and the output says so.
    let out = ok(
        &s,
        &dir,
        &["log", "--agent", "ben", "-p", "drone", "--supersedes", &b],
    );
    assert!(
        out.ends_with(&format!(
            "Supersedes {b}; changed:\n  agent: ana -> ben\n  project: lab -> drone\n"
        )),
        "{out}"
    );
    let c = last_id(&s, &dir);
    let (code, _, err) = run(&s, &dir, &["log", "2h", "--supersedes", MONEY]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{MONEY} is a money contribution, which has no duration"
        )),
        "{err}"
    );
    let (code, _, err) = run(&s, &dir, &["log", "--supersedes", &c]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to correct"), "{err}");
    let out = ok(&s, &dir, &["log", "--kind", "care", "--supersedes", &c]);
    assert!(out.ends_with("  kind: work -> care\n"), "{out}");
    ok(&s, &dir, &["check"]);
}

#[test]
fn a_reversal_after_a_repayment_is_shown_plainly() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    record(&s, &dir, "1000", "Invoice 1"); // 300.00 of ben's 400.00
    let out = ok(
        &s,
        &dir,
        &["revert", MONEY, "--reason", "Paid by the lab after all"],
    );
    assert!(
        out.ends_with("\nNote: recorded payouts already paid 300.00 to ben on its debt claim; that stays paid (ovn report claims shows it)\n"),
        "{out}"
    );
    let r = last_id(&s, &dir);
    let note = format!(
        "{MONEY} was reversed (by {r}) after 300.00 was repaid to ben; nothing more is owed on it, and what was paid stays paid"
    );
    let claims = ok(&s, &dir, &["report", "claims", "-p", "drone"]);
    assert!(claims.contains(&note), "{claims}");
    // No debt is left, and nothing is netted out.
    assert_eq!(
        row(&claims, &["drone", "ben"])[4..7],
        ["0.00", "0.00", "0.00"]
    );
    let next = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert!(next.contains(&note), "{next}");
    assert!(
        !next.split_whitespace().any(|w| w.starts_with('-')),
        "no negative line: {next}"
    );
    assert!(
        next.contains("bucket \"reimbursement\": budget 300.00, paid 0.00"),
        "{next}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        &s,
        &dir,
        &["payout", "1000", "-p", "drone", "--format", "json"],
    ))
    .unwrap();
    let paid = &json["paid_before_corrections"][0];
    assert_eq!(paid["paid_on"], MONEY);
    assert_eq!(paid["amount"], "300.00");
    assert_eq!(paid["reversed_by"], r.as_str());
    assert_eq!(paid["note"], note.as_str());
}

#[test]
fn an_agent_change_after_a_repayment_pays_the_new_agent_only_what_remains() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    record(&s, &dir, "1000", "Invoice 1"); // 300.00 of ben's 400.00
    ok(&s, &dir, &["log", "--agent", "cy", "--supersedes", MONEY]);
    let b = last_id(&s, &dir);
    let next = ok(&s, &dir, &["payout", "1000", "-p", "drone"]);
    assert_eq!(row(&next, &["cy"])[1], "100.00", "{next}");
    assert!(next.contains(&format!(
        "{MONEY} was corrected by {b} after 300.00 was repaid to ben; it counts against the correction, whose claim is now cy's (cy is paid only what remains)"
    )), "{next}");
}
