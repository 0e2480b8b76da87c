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

#[test]
fn like_git_status_it_says_what_is_not_pushed_and_what_is_in_progress() {
    let s = Sandbox::new();
    let (_, dir) = crate::common::origin_and_clone(&s, "c");
    let (_, out, _) = run(&s, &dir, &["status"]);
    assert!(out.contains("\nUp to date with origin/main.\n"), "{out}");
    s.git(&dir, &["switch", "-q", "-c", "ana-week"]);
    let (code, out, err) = run(&s, &dir, &["log", "2h", "Routed the motor board"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run(&s, &dir, &["status"]);
    assert!(
        out.contains(
            "\nBranch ana-week has no upstream: not pushed yet (`git push -u origin ana-week`).\n"
        ),
        "{out}"
    );
    s.git(&dir, &["push", "-q", "-u", "origin", "ana-week"]);
    let (code, out, err) = run(&s, &dir, &["log", "1h", "Tested the board"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run(&s, &dir, &["status"]);
    assert!(
        out.contains("\nAhead of origin/ana-week by 1 commit: not pushed yet (`git push`).\n"),
        "{out}"
    );
    // A merge that stopped on a conflict.
    s.git(&dir, &["switch", "-q", "main"]);
    crate::common::write_files(&dir, &[("notes.md", "main\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "notes on main"]);
    s.git(&dir, &["switch", "-q", "ana-week"]);
    crate::common::write_files(&dir, &[("notes.md", "branch\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "notes on the branch"]);
    let mut git = std::process::Command::new("git");
    crate::common::hermetic(&mut git, &s.home());
    let failed = git
        .args(["merge", "-q", "main"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!failed.status.success(), "the merge conflicts");
    let (code, out, err) = run(&s, &dir, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\nA merge is in progress: ovn reads committed records only; finish it with `git commit`, or abort it with `git merge --abort`.\n"),
        "{out}"
    );
}

#[test]
fn status_format_json_has_refs_and_commits_apart_and_counts_as_strings() {
    let s = Sandbox::new();
    let (_, dir) = crate::common::origin_and_clone(&s, "c");
    s.git(&dir, &["switch", "-q", "-c", "ana-week"]);
    let (code, _, err) = run(&s, &dir, &["log", "2h", "Routed the motor board"]);
    assert_eq!(code, 0, "{err}");
    let main = s.git(&dir, &["rev-parse", "main"]).trim().to_owned();
    let head = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let (code, out, err) = run(&s, &dir, &["status", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["branch"], "ana-week");
    assert_eq!(v["head"], head.as_str());
    assert_eq!(v["upstream"], serde_json::Value::Null);
    assert_eq!(v["validated"]["branch"], "main");
    assert_eq!(v["validated"]["ref"], "main");
    assert_eq!(v["validated"]["commit"], main.as_str());
    assert_eq!(v["pending"]["ahead"], 1);
    assert_eq!(v["pending"]["behind"], 0);
    assert_eq!(v["validated"]["upstream"]["ref"], "origin/main");
    assert_eq!(v["validated"]["upstream"]["behind"], 0);
    assert_eq!(v["in_progress"], serde_json::Value::Null);
    assert_eq!(v["pending"]["changes"][0]["kind"], "added");
    assert!(
        v["pending"]["changes"][0]["about"]
            .as_str()
            .unwrap()
            .contains("2h work"),
        "{out}"
    );
    assert_eq!(v["awaiting_approval"], serde_json::Value::Null);
    assert_eq!(v["uncommitted"], serde_json::json!([]));
}

#[test]
fn status_writes_nothing_not_even_the_cache() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "ledger", 1);
    let before = snapshot(&dir);
    let (code, _, err) = run(&s, &dir, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert_same_files(&before, &snapshot(&dir));
}

/// With a cache other commands filled, status reads it, answers as without it, and still
/// writes nothing: no entry, no answer, no pruning, no memory of the rules in force, in
/// either format, even for a commit the cache has not seen (one small window at a time, so
/// that a fill would have had much to write).
#[test]
fn status_reads_a_filled_cache_and_writes_nothing_to_it() {
    const FORMATS: [&[&str]; 2] = [&["status"], &["status", "--format", "json"]];
    let s = Sandbox::new();
    let dir = policy_repo(&s, "ledger", 1);
    s.git(&dir, &["checkout", "-q", "-b", "more"]);
    s.ovn(&dir)
        .args(["log", "2h", "Routed the motor board"])
        .assert()
        .success();
    std::fs::write(
        dir.join("agents/eve.toml"),
        "id = \"eve\"\nname = \"Eve\"\n",
    )
    .unwrap();
    // Fill the cache at main (folders, summaries, answers, the rules in force) and here.
    for args in [
        &["check", "--at", "main"][..],
        &["report", "contributions", "--by", "agent", "--at", "main"],
        &["check"],
    ] {
        let (code, _, err) = run(&s, &dir, args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    assert!(dir.join(".git/ovn/cache").is_dir());
    // Then a commit on main the cache has not seen: its new day folder is read from git
    // and would be kept, were anything kept.
    s.git(&dir, &["checkout", "-q", "main"]);
    std::fs::create_dir_all(dir.join("contributions/2026/03/20")).unwrap();
    std::fs::write(
        dir.join("contributions/2026/03/20/01cccccccccccccccccccccc01.toml"),
        "id = \"01cccccccccccccccccccccc01\"\nagent = \"ben\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Late session\"\nhours = \"1\"\n",
    )
    .unwrap();
    s.git(&dir, &["add", "-A", "contributions"]);
    s.git(&dir, &["commit", "-qm", "one more"]);
    s.git(&dir, &["checkout", "-q", "more"]);
    let without: Vec<String> = FORMATS
        .iter()
        .map(|args| {
            let mut all = vec!["--no-cache"];
            all.extend_from_slice(args);
            let (code, out, err) = run(&s, &dir, &all);
            assert_eq!((code, err.as_str()), (0, ""));
            out
        })
        .collect();
    assert!(without[0].contains("await approval"), "{}", without[0]);
    assert!(
        without[0].contains("01cccccccccccccccccccccc01"),
        "{}",
        without[0]
    );
    let before = snapshot(&dir);
    for (args, want) in FORMATS.iter().zip(&without) {
        let out = s
            .ovn(&dir)
            .env("OVN_FILL_WINDOW", "1")
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(&String::from_utf8(out.stdout).unwrap(), want);
    }
    assert_same_files(&before, &snapshot(&dir));
}

#[test]
fn errors_are_coloured_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let s = Sandbox::new();
    let outside = s.work();
    let stderr = |env: &[(&str, &str)]| {
        let mut cmd = s.ovn(&outside);
        cmd.arg("status");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8(out.stderr).unwrap()
    };
    // Not a terminal: plain.
    assert!(stderr(&[]).starts_with("error: not in a ledger"));
    let forced = stderr(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.starts_with("\x1b[1;31merror\x1b[0m: not in a ledger"),
        "{forced:?}"
    );
    assert!(forced.contains("  \x1b[1;36mhint\x1b[0m: "), "{forced:?}");
    let plain = stderr(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(plain.starts_with("error: not in a ledger"), "{plain:?}");
}

/// A long list shows its first 20 entries and says how many more there are; `--all` lists
/// every one, and JSON always does. Here a branch with 23 files pending review, 26
/// contributions awaiting approval on main, and 21 files not committed.
#[test]
fn long_lists_show_twenty_and_how_many_more_and_all_lists_every_one() {
    let s = Sandbox::new();
    let dir = policy_repo(&s, "ledger", 1);
    let contribution = |n: usize| {
        let id = format!("01bbbbbbbbbbbbbbbbbbbbbb{n:02}");
        (
            format!("contributions/2026/03/12/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"ben\"\ndate = 2026-03-12\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Session {n}\"\nhours = \"0.25\"\n"
            ),
        )
    };
    for n in 1..=21 {
        let (path, text) = contribution(n);
        std::fs::create_dir_all(dir.join(&path).parent().unwrap()).unwrap();
        std::fs::write(dir.join(path), text).unwrap();
    }
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "21 sessions"]);
    s.git(&dir, &["checkout", "-q", "-b", "more"]);
    for n in 31..=53 {
        let (path, text) = contribution(n);
        std::fs::write(dir.join(path), text).unwrap();
    }
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "23 more sessions"]);
    for n in 0..21 {
        std::fs::write(
            dir.join(format!("agents/new-{n:02}.toml")),
            format!("id = \"new-{n:02}\"\nname = \"New {n}\"\n"),
        )
        .unwrap();
    }
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["status"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let lines: Vec<&str> = out.lines().collect();
    let at = |prefix: &str| {
        (lines.iter().position(|l| l.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?} in:\n{out}"))
    };
    let pending = at("On branch more: 23 ledger files in 1 commit pending review");
    assert!(
        lines[pending + 20]
            .starts_with("  added   contributions/2026/03/12/01bbbbbbbbbbbbbbbbbbbbbb50.toml")
    );
    assert_eq!(
        lines[pending + 21],
        "  … and 3 more (`ovn status --all` lists them all)"
    );
    let awaiting = at("26 contributions on main await approval");
    assert!(
        lines[awaiting + 20].starts_with("  01bbbbbbbbbbbbbbbbbbbbbb16  ben 0.25h work on drone"),
        "{out}"
    );
    assert_eq!(
        lines[awaiting + 21],
        "  … and 6 more (`ovn status --all` lists them all)"
    );
    let uncommitted = at("Not committed:");
    assert_eq!(lines[uncommitted + 20], "  new        agents/new-19.toml");
    assert_eq!(
        lines[uncommitted + 21],
        "  … and 1 more (`ovn status --all` lists them all)"
    );

    let (code, all, err) = run(&s, &dir, &["status", "--all"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(!all.contains(" more (`ovn status --all`"), "{all}");
    for n in (1..=21).chain(31..=53) {
        assert!(
            all.contains(&format!("01bbbbbbbbbbbbbbbbbbbbbb{n:02}")),
            "{n}"
        );
    }
    assert!(all.contains("  new        agents/new-20.toml"), "{all}");
    // What the cut lists leave out is all that differs.
    let shown: Vec<&str> = out.lines().filter(|l| !l.starts_with("  … and ")).collect();
    let every: Vec<&str> = all.lines().collect();
    assert!(shown.iter().all(|l| every.contains(l)));
    assert_eq!(every.len() - shown.len(), 3 + 6 + 1);

    let (code, json, _) = run(&s, &dir, &["status", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["pending"]["changes"].as_array().unwrap().len(), 23);
    assert_eq!(v["awaiting_approval"].as_array().unwrap().len(), 26);
    assert_eq!(v["uncommitted"].as_array().unwrap().len(), 21);
    assert_same_files(&before, &snapshot(&dir));
}
