//! `ovn status` end to end on real git repositories: the validated branch, what a branch has
//! pending review, uncommitted files, contributions awaiting approval under a policy, a
//! detached HEAD, outside a ledger, and that it never writes. How it explains a killed write
//! is in `robustness::write_safety`, and a squash that lost an approver in `cli::approve`.

use crate::common::{
    Sandbox, approve, assert_same_files, assert_same_files_but, base_repo, policy_repo, run,
    snapshot,
};
use assert_cmd::prelude::*;

#[test]
fn status_shows_pending_review_and_uncommitted_files() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .stdout("On branch main, the validated branch: what is committed here is validated\nNo uncommitted ledger files.\n");
    s.git(&dir, &["checkout", "-q", "-b", "ana-week"]);
    s.ovn(&dir)
        .args(["log", "2h", "Routed the motor board"])
        .assert()
        .success();
    s.ovn(&dir)
        .args(["agent", "add", "dee", "--name", "Dee Okoro"])
        .assert()
        .success();
    std::fs::write(
        dir.join("agents/eve.toml"),
        "id = \"eve\"\nname = \"Eve\"\n",
    )
    .unwrap();
    let cy = dir.join("agents/cy.toml");
    let text = std::fs::read_to_string(&cy).unwrap();
    std::fs::write(&cy, text.replace("Cy Dubois", "Cy D.")).unwrap();
    let out = s
        .ovn(&dir)
        .arg("status")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "On branch ana-week: 2 ledger files in 2 commits pending review (not on main)"
    );
    assert_eq!(
        lines[1],
        "  added   agents/dee.toml                                           agent dee (Dee Okoro)"
    );
    assert!(lines[2].starts_with("  added   contributions/2026/11/24/"));
    assert!(lines[2].ends_with("  ana 2h work on drone"), "{}", lines[2]);
    assert_eq!(
        &lines[3..],
        [
            "Not committed:",
            "  modified   agents/cy.toml",
            "  new        agents/eve.toml"
        ]
    );
}

#[test]
fn under_a_policy_it_lists_what_awaits_approval_and_writes_nothing() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "ledger", 1);
    let out = approve(
        &s,
        &dir,
        "ben@fablab.example",
        &["01aaaaaaaaaaaaaaaaaaaaaaa1", "01aaaaaaaaaaaaaaaaaaaaaaa5"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "On branch main, the validated branch: what is committed here is validated\n\
         3 contributions on main await approval (they do not count yet):\n\
         \x20 01aaaaaaaaaaaaaaaaaaaaaaa2  ben 20h work on drone  awaiting approval (0 of 1)\n\
         \x20 01aaaaaaaaaaaaaaaaaaaaaaa3  ben 10h work on drone  awaiting approval (0 of 1)\n\
         \x20 01aaaaaaaaaaaaaaaaaaaaaaa4  ben 400.00 EUR money on drone  awaiting approval (0 of 1)\n\
         No uncommitted ledger files.\n";
    // Without the cache, not a byte changes anywhere, `.git` included.
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["--no-cache", "status"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, expected, ""));
    assert_same_files(&before, &snapshot(&dir));
    // With it, only the cache in .git/ovn/ is filled (the rules in force among it).
    let (code, out, err) = run(&s, &dir, &["status"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, expected, ""));
    assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);
}

#[test]
fn a_detached_head_has_nothing_pending_review() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.git(&dir, &["checkout", "-q", "--detach"]);
    s.ovn(&dir).arg("status").assert().success().stdout(
        "On a detached HEAD: nothing pending review against main\nNo uncommitted ledger files.\n",
    );
}

#[test]
fn outside_a_ledger_it_says_so_with_exit_3() {
    let s = Sandbox::new();
    let dir = s.repo("not-a-ledger");
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["status"]);
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(
        err.starts_with("error: not in a ledger: no ovn.toml in "),
        "{err}"
    );
    assert_same_files(&before, &snapshot(&dir));
}
