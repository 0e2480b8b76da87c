//! Abbreviated ids (issue 20): wherever a command takes an id, a unique prefix stands for
//! the whole one (`ovn approve 01m92jb1x8`, `ovn agent show fab`), and an ambiguous prefix
//! is refused with a few of the ids it could mean, escaped, and nothing written.

use crate::common::{Sandbox, approve, base_repo, commit_count, ok, policy_repo, run};

/// The id `ovn log` printed (`Logged ID (...)`).
fn logged(out: &str) -> String {
    out.strip_prefix("Logged ")
        .and_then(|r| r.split_whitespace().next())
        .expect("a logged id")
        .to_owned()
}

#[test]
fn a_unique_prefix_names_a_contribution_in_revert_supersede_and_approve() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "ledger", 1);
    let id = logged(&ok(&s, &dir, &["log", "2h", "Soldered the board"]));
    let short = &id[..12];
    // Ben approves it by its first characters.
    let out = approve(&s, &dir, "ben@fablab.example", &[short]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let approval = s.git(&dir, &["show", "--format=%s", "--name-only", "HEAD"]);
    assert!(
        approval.starts_with(&format!("approve: {id}\n")),
        "{approval}"
    );
    // A correction and a reversal name the whole id.
    let out = ok(&s, &dir, &["log", "3h", "--supersedes", short]);
    assert!(out.contains(&format!("Supersedes {id}; changed:")), "{out}");
    let second = logged(&ok(&s, &dir, &["log", "1h", "Cleaned up"]));
    let out = ok(
        &s,
        &dir,
        &["revert", &second[..14], "--reason", "Logged twice"],
    );
    assert!(out.starts_with(&format!("Reverted {second} (")), "{out}");
    ok(&s, &dir, &["check"]);
}

#[test]
fn an_ambiguous_prefix_lists_a_few_candidates_and_writes_nothing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = commit_count(&s, &dir);
    // The five contributions of the base ledger share their first 25 characters.
    for args in [
        &["revert", "01aaaaaaaaaa", "--reason", "x"][..],
        &["log", "1h", "--supersedes", "01aaaaaaaaaa"][..],
    ] {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("01aaaaaaaaaa is the start of several contribution ids: 01aaaaaaaaaaaaaaaaaaaaaaa1, 01aaaaaaaaaaaaaaaaaaaaaaa2, 01aaaaaaaaaaaaaaaaaaaaaaa3, 01aaaaaaaaaaaaaaaaaaaaaaa4, 01aaaaaaaaaaaaaaaaaaaaaaa5"),
            "{args:?}: {err}"
        );
        assert!(err.contains("give more of the id"), "{err}");
    }
    // An id that starts nothing is unknown, as before.
    let (code, _, err) = run(&s, &dir, &["revert", "01zz", "--reason", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("no contribution has the id 01zz"), "{err}");
    assert_eq!(commit_count(&s, &dir), before);
}

#[test]
fn a_unique_prefix_names_an_agent_project_or_resource() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    assert!(ok(&s, &dir, &["agent", "show", "fab"]).starts_with("agent fablab-fund ("));
    assert!(ok(&s, &dir, &["project", "show", "dr"]).starts_with("project drone ("));
    assert!(ok(&s, &dir, &["agreement", "show", "drone"]).starts_with("agreement drone-ve ("));
    let out = ok(&s, &dir, &["resource", "edit", "pri", "--use-rate", "9"]);
    assert!(
        out.starts_with("Edited resource printer (use rate 9) in resources/printer.toml"),
        "{out}"
    );
    // Two agents starting alike: the prefix is refused, each whole id still works.
    ok(&s, &dir, &["agent", "add", "anabel"]);
    let (code, _, err) = run(&s, &dir, &["agent", "edit", "an", "--name", "X"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("an is the start of several agent ids: ana, anabel"),
        "{err}"
    );
    assert!(ok(&s, &dir, &["agent", "show", "ana"]).starts_with("agent ana (Ana Lima)"));
}
