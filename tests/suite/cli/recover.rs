//! `ovn recover` end to end on real git repositories: with nothing to finish it says so and
//! changes nothing; after a write killed once its branch moved it finishes it, and after one
//! killed before, it clears what was left; outside a ledger it is exit 3. Every kill point,
//! with what `ovn status` says about each, is in `robustness::write_safety`.

use crate::common::{
    Sandbox, assert_clean, assert_same_files, assert_same_files_but, base_repo, commit_count, run,
    snapshot,
};

#[test]
fn with_nothing_to_finish_it_says_so_and_writes_nothing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["recover"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "No interrupted ovn write: nothing to do.\n", "")
    );
    // It takes the write lock (so no write is under way), whose file stays in .git/ovn/.
    assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);
}

#[test]
fn a_write_killed_after_its_commit_is_finished_and_one_killed_before_is_cleared() {
    for (point, landed, said) in [
        ("after-ref", true, "Finished"),
        ("after-lock", false, "Cleared"),
    ] {
        let s = Sandbox::new();
        let dir = base_repo(&s, "ledger");
        let before = commit_count(&s, &dir);
        let out = s
            .ovn(&dir)
            .env("OVN_FAILPOINT", point)
            .args(["log", "2h", "Killed"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}");
        let (code, out, err) = run(&s, &dir, &["recover"]);
        assert_eq!((code, err.as_str()), (0, ""), "{point}: {out}");
        assert!(out.starts_with(said), "{point}: {out}");
        assert_eq!(commit_count(&s, &dir), before + usize::from(landed));
        assert_clean(&s, &dir);
        let (code, again, _) = run(&s, &dir, &["recover"]);
        assert_eq!(
            (code, again.as_str()),
            (0, "No interrupted ovn write: nothing to do.\n")
        );
    }
}

#[test]
fn outside_a_ledger_it_says_so_with_exit_3() {
    let s = Sandbox::new();
    let dir = s.repo("not-a-ledger");
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["recover"]);
    assert_eq!((code, out.as_str()), (3, ""));
    assert!(
        err.starts_with("error: not in a ledger: no ovn.toml in "),
        "{err}"
    );
    assert_same_files(&before, &snapshot(&dir));
}
