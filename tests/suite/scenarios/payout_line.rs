//! The payout line end to end on real git repositories: payouts recorded on two branches
//! (merged either way, or rebased) fork the project's line and `ovn check` says so with the
//! overpaid claims; `ovn payout reconcile` is the way out; `--record --at` an older commit is
//! refused; a crafted cache entry changes neither `--record` nor `verify`; an orphaned
//! pinned commit is caught by `ovn check --history` in a fresh clone.

use crate::common;

use std::path::Path;

use crate::common::{Sandbox, base_repo, cache_entries, craft_entry, repo_with_payout, run};

/// Records a 3000.00 payout of drone with `memo` on the current branch, computed at HEAD;
/// returns its id.
fn record(s: &Sandbox, dir: &Path, memo: &str) -> String {
    let (code, out, err) = run(
        s,
        dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--at",
            "HEAD",
            "--record",
            "--date",
            "2026-11-30",
            "--memo",
            memo,
        ],
    );
    assert_eq!(code, 0, "{err}");
    out.split_whitespace().nth(2).unwrap().to_owned()
}

fn path_of(id: &str) -> String {
    format!("payouts/2026/{id}.toml")
}

/// Two branches off main, each recording a payout computed at main's tip.
fn two_branches(s: &Sandbox) -> (std::path::PathBuf, String, String) {
    let dir = base_repo(s, "l");
    s.git(&dir, &["checkout", "-q", "-b", "a"]);
    let a = record(s, &dir, "A");
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["checkout", "-q", "-b", "b"]);
    let b = record(s, &dir, "B");
    (dir, a, b)
}

/// `ovn check` fails naming both payouts and ben's debt, repaid twice.
fn assert_fork(s: &Sandbox, dir: &Path, a: &str, b: &str) {
    let (code, out, err) = run(s, dir, &["check", "--format", "short"]);
    assert_eq!(code, 1, "{out}{err}");
    for id in [a, b] {
        assert!(
            out.contains(&format!(
                "{}:10:11: error[payout-fork]: payout `{id}`",
                path_of(id)
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("error[payout-fork]: the debt claim of ben on contribution `01aaaaaaaaaaaaaaaaaaaaaaa4` is repaid 800.00 in all but owed 400.00: overpaid by 400.00"),
        "{out}"
    );
}

#[test]
fn payouts_on_two_branches_merged_either_way_are_a_fork() {
    let s = Sandbox::new();
    let (dir, a, b) = two_branches(&s);
    // Each branch alone is one line.
    run(&s, &dir, &["check"]);
    assert_eq!(run(&s, &dir, &["check"]).0, 0);
    let text = std::fs::read_to_string(dir.join(path_of(&b))).unwrap();
    assert!(text.contains("follows = []\n"), "{text}");

    // b merged into a, and a merged into b: the same fork.
    s.git(&dir, &["checkout", "-q", "a"]);
    // Warm the cache on a's tip: the day folders are unchanged by the merge, so the reads
    // below take the quick path (summaries), which must not prove the fork clean.
    assert_eq!(run(&s, &dir, &["check", "--at", "HEAD"]).0, 0);
    assert_eq!(
        run(&s, &dir, &["payout", "100", "-p", "drone", "--at", "HEAD"]).0,
        0
    );
    assert!(
        cache_entries(&dir)
            .iter()
            .any(|p| p.to_string_lossy().contains("summaries"))
    );
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge b", "b"]);
    assert_fork(&s, &dir, &a, &b);
    for _ in 0..2 {
        let (code, out, _) = run(&s, &dir, &["check", "--at", "HEAD", "--format", "short"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("overpaid by 400.00"), "{out}");
    }
    s.git(&dir, &["checkout", "-q", "b"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge a", "a~1"]);
    assert_fork(&s, &dir, &a, &b);
    // Nothing is computed on a forked line.
    let (code, _, err) = run(&s, &dir, &["payout", "100", "-p", "drone", "--at", "HEAD"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("payout-fork"), "{err}");
}

#[test]
fn a_rebased_payout_is_a_fork() {
    let s = Sandbox::new();
    let (dir, a, b) = two_branches(&s);
    s.git(&dir, &["rebase", "-q", "a"]);
    assert_fork(&s, &dir, &a, &b);
}

#[test]
fn a_payout_after_the_first_follows_it() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let first = record(&s, &dir, "A");
    let second = record(&s, &dir, "B");
    let text = std::fs::read_to_string(dir.join(path_of(&second))).unwrap();
    assert!(
        text.contains(&format!("follows = [\"{first}\"]\n")),
        "{text}"
    );
    assert_eq!(run(&s, &dir, &["check"]).0, 0);
    let (code, out, err) = run(&s, &dir, &["payout", "verify", &second]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_payout_after_one_recorded_before_follows_existed_follows_it() {
    let s = Sandbox::new();
    let (dir, _) = repo_with_payout(&s, "Invoice 1");
    let next = record(&s, &dir, "Invoice 2");
    let text = std::fs::read_to_string(dir.join(path_of(&next))).unwrap();
    assert!(
        text.contains(&format!("follows = [\"{}\"]\n", common::PAYOUT_ID)),
        "{text}"
    );
    assert_eq!(run(&s, &dir, &["check"]).0, 0);
    assert_eq!(run(&s, &dir, &["payout", "verify", common::PAYOUT_ID]).0, 0);
    assert_eq!(run(&s, &dir, &["payout", "verify", &next]).0, 0);
}

#[test]
fn record_at_a_commit_that_lacks_a_payout_of_the_branch_is_refused() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    record(&s, &dir, "A");
    let before = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "payout", "100", "-p", "drone", "--record", "--at", "HEAD~1", "--memo", "2",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("the ledger at HEAD~1 lacks payout") && err.contains("that this branch has"),
        "{err}"
    );
    assert_eq!(s.git(&dir, &["rev-parse", "HEAD"]), before);
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_reconciliation_joins_the_fork_and_keeps_the_overpayment_on_record() {
    let s = Sandbox::new();
    let (dir, a, b) = two_branches(&s);
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge a", "a"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge b", "b"]);
    assert_fork(&s, &dir, &a, &b);

    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "payout",
            "reconcile",
            "-p",
            "drone",
            "--memo",
            "ben repays 400.00",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Recorded reconciliation "), "{out}");
    assert!(
        out.contains("  overpaid: debt claim of ben on 01aaaaaaaaaaaaaaaaaaaaaaa4: repaid 800.00, owed 400.00, 400.00 beyond\n"),
        "{out}"
    );
    let id = out.split_whitespace().nth(2).unwrap().to_owned();
    let text = std::fs::read_to_string(dir.join(path_of(&id))).unwrap();
    let (first, second) = if a < b { (&a, &b) } else { (&b, &a) };
    assert!(
        text.contains("amount = \"0.00\"\ncurrency = \"EUR\"\nmemo = \"ben repays 400.00\"\n")
            && text.contains(&format!("follows = [\"{first}\", \"{second}\"]\n"))
            && text.ends_with("[[overpaid]]\ncontribution = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"400.00\"\n"),
        "{text}"
    );
    // One line again: check passes, the reconciliation re-derives, and nothing is left to
    // reconcile.
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&s, &dir, &["payout", "verify", &id]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("matches"), "{out}");
    let (code, _, err) = run(&s, &dir, &["payout", "reconcile", "-p", "drone"]);
    assert_eq!(code, 2);
    assert!(err.contains("no fork to reconcile"), "{err}");
    // The next payout takes nothing for ben's debt, says why, and follows the
    // reconciliation.
    let (code, out, err) = run(&s, &dir, &["payout", "3000", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("paid 0.00; 900.00 went back"), "{out}");
    assert!(
        out.contains(&format!("overpaid: ben on 01aaaaaaaaaaaaaaaaaaaaaaa4 (debt) was repaid 800.00 of 400.00 owed, 400.00 beyond (stated by reconciliation {id})")),
        "{out}"
    );
    let (code, out, err) = run(&s, &dir, &["report", "claims", "-p", "drone"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("overpaid: ben on 01aaaaaaaaaaaaaaaaaaaaaaa4 (debt) was repaid 800.00 of 400.00 owed, 400.00 beyond (stated by reconciliation {id})")),
        "{out}"
    );
    // A reconciliation moves no money: exports leave it out.
    let (code, out, err) = run(&s, &dir, &["export", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains(&id) && out.contains(&a) && out.contains(&b),
        "{out}"
    );
    let next = record(&s, &dir, "C");
    let text = std::fs::read_to_string(dir.join(path_of(&next))).unwrap();
    assert!(text.contains(&format!("follows = [\"{id}\"]\n")), "{text}");
    assert_eq!(run(&s, &dir, &["check"]).0, 0);
}

#[test]
fn a_crafted_cache_changes_neither_record_nor_verify() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let preview = [
        "payout", "3000", "-p", "drone", "--at", "HEAD", "--format", "csv",
    ];
    let (_, truth, _) = run(&s, &dir, &[&["--no-cache"][..], &preview[..]].concat());
    // Warm the cache, then swap two agents in every entry, keeping each entry whole.
    run(&s, &dir, &preview);
    let mut crafted = 0;
    for path in cache_entries(&dir) {
        let mut bytes = std::fs::read(&path).unwrap();
        if craft_entry(&mut bytes, b"ana", b"ben") {
            crafted += 1;
        }
        std::fs::write(&path, bytes).unwrap();
    }
    assert!(crafted > 0);
    let (_, lied, _) = run(&s, &dir, &preview);
    assert_ne!(lied, truth, "the crafted cache is read by a preview");

    // The record is what git objects give, and verify says so with the crafted cache too.
    let id = record(&s, &dir, "Invoice 1");
    let text = std::fs::read_to_string(dir.join(path_of(&id))).unwrap();
    for row in truth.lines().skip(1) {
        let mut cols = row.split(',');
        let (agent, bucket, amount) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        assert!(
            text.contains(&format!(
                "[[lines]]\nagent = \"{agent}\"\nbucket = \"{bucket}\"\namount = \"{amount}\"\n"
            )),
            "{row} in\n{text}"
        );
    }
    let (code, out, err) = run(&s, &dir, &["--no-cache", "payout", "verify", &id]);
    assert_eq!(code, 0, "{out}{err}");
    // Craft the entries again (the record's own run may have rewritten them): verify with
    // the cache on still matches, and a tampered record still does not.
    for path in cache_entries(&dir) {
        let mut bytes = std::fs::read(&path).unwrap();
        craft_entry(&mut bytes, b"ana", b"ben");
        std::fs::write(&path, bytes).unwrap();
    }
    let (code, out, err) = run(&s, &dir, &["payout", "verify", &id]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("matches"), "{out}");
}

#[test]
fn an_orphaned_pinned_commit_is_caught_in_a_fresh_clone() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // A contribution, then a payout computed at it.
    common::write_files(
        &dir,
        &[(
            "contributions/2026/04/02/01bbbbbbbbbbbbbbbbbbbbbbb9.toml",
            "id = \"01bbbbbbbbbbbbbbbbbbbbbbb9\"\nagent = \"cy\"\ndate = 2026-04-02\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Wiring\"\nhours = \"10\"\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "log"]);
    let id = record(&s, &dir, "A");
    assert_eq!(run(&s, &dir, &["check", "--history"]).0, 0);
    // The history is rewritten: the contribution's commit is dropped, the payout kept.
    s.git(&dir, &["rebase", "-q", "--onto", "HEAD~2", "HEAD~1"]);
    let bare = s.work().join("rewritten.git");
    s.git(
        &s.work(),
        &[
            "clone",
            "-q",
            "--no-local",
            "--bare",
            dir.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let clone = s.work().join("clone");
    s.git(
        &s.work(),
        &[
            "clone",
            "-q",
            "--no-local",
            bare.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let (code, out, err) = run(&s, &clone, &["check", "--history"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "error: payout {id} ({}) was computed at commit",
            path_of(&id)
        )) && out.contains("which is not in the history of"),
        "{out}"
    );
    let (code, out, err) = run(&s, &clone, &["payout", "verify", &id]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("which this repository does not have: a rewritten history orphaned it"),
        "{err}"
    );
}

#[test]
fn review_flags_a_payout_that_forks_or_was_computed_off_the_tip() {
    let s = Sandbox::new();
    let (dir, a, b) = two_branches(&s);
    // a is merged; b, computed at main's old tip, is reviewed against main.
    s.git(&dir, &["checkout", "-q", "main"]);
    s.git(&dir, &["merge", "-q", "--no-ff", "-m", "merge a", "a"]);
    s.git(&dir, &["checkout", "-q", "b"]);
    // On its own branch b does not fork yet, but it was computed before a landed.
    let (code, out, err) = run(&s, &dir, &["review", "--no-impact"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("payout {b} was computed at ")) && !out.contains("fork"),
        "{out}"
    );
    let _ = a;
    s.git(
        &dir,
        &["merge", "-q", "--no-ff", "-m", "merge main", "main"],
    );
    let (code, out, err) = run(&s, &dir, &["review", "--no-impact"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("payout {b} was computed at "))
            && out.contains("not at the tip of main"),
        "{out}"
    );
    assert!(
        out.contains("the payouts of project drone fork: ") && out.contains(&b),
        "{out}"
    );
    // A payout computed at the tip of main, on a branch, is fine.
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.git(&dir, &["checkout", "-q", "-b", "c"]);
    record(&s, &dir, "C");
    let (code, out, err) = run(&s, &dir, &["review", "--no-impact"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Policy violations: none"), "{out}");
}
