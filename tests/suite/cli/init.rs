//! `ovn init` end to end, on real git repositories in temporary directories.

use crate::common;

use crate::common::{Sandbox, commit_count, snapshot};
use assert_cmd::prelude::*;
use predicates::prelude::*;

#[test]
fn init_creates_a_repository_and_one_commit() {
    let s = Sandbox::new();
    s.ovn(&s.work())
        .args([
            "init",
            "fablab",
            "--name",
            "Fablab Commons",
            "--currency",
            "eur",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Created ledger \"Fablab Commons\" (EUR)",
        ))
        .stdout(predicate::str::contains("in a new git repository"));
    let dir = s.work().join("fablab");
    assert_eq!(commit_count(&s, &dir), 1);
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
    assert_eq!(s.git(&dir, &["branch", "--show-current"]).trim(), "main");
    let files = s.git(&dir, &["ls-files"]);
    assert_eq!(
        files,
        "agents/.gitkeep\nagreements/.gitkeep\napprovals/.gitkeep\ncontributions/.gitkeep\novn.toml\npayments/.gitkeep\npayouts/.gitkeep\nprojects/.gitkeep\nresources/.gitkeep\n"
    );
    let toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    assert_eq!(
        toml,
        "# Open Value Network ledger: see ovn-ledger(5)\nformat = 1\nname = \"Fablab Commons\"\ncurrency = \"EUR\"\nvalidated_branch = \"main\"\n"
    );
    let log = s.git(&dir, &["log", "--format=%an <%ae> %s"]);
    assert_eq!(
        log.trim(),
        "Ana Lima <ana@fablab.example> init: ledger \"Fablab Commons\" (EUR)"
    );
    s.ovn(&dir)
        .arg("check")
        .assert()
        .success()
        .stdout("ok: 0 records, no problems\n");
}

#[test]
fn init_name_defaults_to_directory_and_minor_units_follow_currency() {
    let s = Sandbox::new();
    s.ovn(&s.work())
        .args(["init", "tokyo-lab", "--currency", "JPY"])
        .assert()
        .success();
    let toml = std::fs::read_to_string(s.work().join("tokyo-lab/ovn.toml")).unwrap();
    assert!(toml.contains("name = \"tokyo-lab\""), "{toml}");
    s.ovn(&s.work())
        .args(["init", "coins", "--currency", "EUR", "--minor-units", "4"])
        .assert()
        .success();
    let toml = std::fs::read_to_string(s.work().join("coins/ovn.toml")).unwrap();
    assert!(toml.contains("minor_units = 4\n"), "{toml}");
}

#[test]
fn init_in_a_subdirectory_of_an_existing_repository_commits_only_the_ledger() {
    let s = Sandbox::new();
    let repo = s.repo("code");
    std::fs::write(repo.join("README.md"), "code\n").unwrap();
    s.git(&repo, &["add", "README.md"]);
    s.git(&repo, &["commit", "-q", "-m", "code"]);
    // The user's own work in progress: one staged file, one unstaged edit.
    std::fs::write(repo.join("staged.txt"), "staged\n").unwrap();
    s.git(&repo, &["add", "staged.txt"]);
    std::fs::write(repo.join("README.md"), "code, edited\n").unwrap();

    s.ovn(&repo)
        .args(["init", "ledger", "--name", "Code Coop", "--currency", "USD"])
        .assert()
        .success()
        .stdout(predicate::str::contains("under ledger/"));
    assert_eq!(commit_count(&s, &repo), 2);
    let shown = s.git(&repo, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(shown.lines().all(|l| l.starts_with("ledger/")), "{shown}");
    assert!(shown.contains("ledger/ovn.toml"));
    let status = s.git(&repo, &["status", "--porcelain"]);
    assert_eq!(
        status, " M README.md\nA  staged.txt\n",
        "user changes untouched"
    );
    // Found from the repository root with -C, and from inside a record folder.
    s.ovn(&s.work())
        .args(["-C", "code/ledger", "check"])
        .assert()
        .success();
    s.ovn(&repo.join("ledger/agents"))
        .arg("check")
        .assert()
        .success();
    s.ovn(&repo)
        .args(["-C", "ledger", "check", "--at", "HEAD"])
        .assert()
        .success();
}

#[test]
fn init_follows_the_repository_branch() {
    let s = Sandbox::new();
    let dir = s.work().join("legacy");
    std::fs::create_dir(&dir).unwrap();
    s.git(&dir, &["init", "-q", "-b", "master"]);
    let out = s
        .ovn(&dir)
        .args(["init", "--currency", "EUR"])
        .assert()
        .success();
    let toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    assert!(toml.contains("validated_branch = \"master\""), "{toml}");
    // The path names the directory as a user would write it, without a trailing slash.
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("legacy in the existing repository"),
        "{stdout}"
    );
}

#[test]
fn init_twice_is_refused_and_changes_nothing() {
    let s = Sandbox::new();
    s.ovn(&s.work())
        .args(["init", "l", "--currency", "EUR"])
        .assert()
        .success();
    let dir = s.work().join("l");
    let before = snapshot(&dir);
    s.ovn(&dir)
        .args(["init", "--currency", "EUR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a ledger already exists here"));
    // Also from a subdirectory (a ledger inside a ledger would confuse discovery).
    s.ovn(&dir.join("agents"))
        .args(["init", "nested", "--currency", "EUR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a ledger already exists here"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn init_over_record_folders_with_files_is_refused() {
    let s = Sandbox::new();
    let dir = s.repo("x");
    common::write_files(&dir, &[("agents/ana.toml", "id = \"ana\"\n")]);
    let before = snapshot(&dir);
    s.ovn(&dir)
        .args(["init", "--currency", "EUR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already holds files"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn init_in_a_bare_repository_fails_cleanly() {
    let s = Sandbox::new();
    let bare = s.work().join("bare.git");
    std::fs::create_dir(&bare).unwrap();
    s.git(&bare, &["init", "-q", "--bare"]);
    let before = snapshot(&bare);
    s.ovn(&bare)
        .args(["init", "--currency", "EUR"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bare git repository"))
        .stderr(predicate::str::contains("hint: clone"));
    assert_eq!(snapshot(&bare), before);
}

#[test]
fn init_where_nothing_can_be_written_fails_cleanly() {
    let s = Sandbox::new();
    let locked = s.work().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let mut perms = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&locked, perms).unwrap();
    // Root ignores permission bits; then use a place no one can write to.
    let target = if std::fs::write(locked.join("probe"), "").is_ok() {
        std::fs::remove_file(locked.join("probe")).unwrap();
        std::path::PathBuf::from("/proc/ovn-cannot-write-here")
    } else {
        locked.join("ledger")
    };
    s.ovn(&s.work())
        .arg("init")
        .arg(&target)
        .args(["--currency", "EUR"])
        .assert()
        .code(3)
        .stderr(predicate::str::starts_with("error: cannot"));
    assert!(
        !target.exists(),
        "nothing left behind at {}",
        target.display()
    );
    assert_eq!(snapshot(&locked), vec![]);
}

#[test]
fn init_without_a_git_identity_explains_how_to_set_one() {
    let s = Sandbox::new();
    let mut cmd = s.ovn(&s.work());
    cmd.env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL");
    cmd.args(["init", "anon", "--currency", "EUR"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no git identity"))
        .stderr(predicate::str::contains("git config --global user.email"));
    assert!(!s.work().join("anon").exists());
}

#[test]
fn init_rejects_a_bad_currency() {
    let s = Sandbox::new();
    s.ovn(&s.work())
        .args(["init", "x", "--currency", "euro"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a currency code"));
    assert!(!s.work().join("x").exists());
    s.ovn(&s.work())
        .args(["init", "x", "--currency", "EUR", "--minor-units", "9"])
        .assert()
        .code(2);
}
