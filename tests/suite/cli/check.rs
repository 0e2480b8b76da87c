//! `ovn check` end to end on real git repositories: working tree, `--at` any revision,
//! discovery, formats, determinism, and that it never writes.

use crate::common;

use std::path::Path;

use crate::common::{BASE, Sandbox, base_repo, write_files};
use assert_cmd::prelude::*;
use predicates::prelude::*;

fn stdout(cmd: &mut std::process::Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Everything under `dir` including `.git`, to prove a command wrote nothing.
fn fingerprint(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    // The cache is the one thing a read may write: outside the ledger, never committed.
    let cache = dir.join(".git/ovn/cache");
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.path() == cache {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

const BAD_WORK: &str = "id = \"01bbbbbbbbbbbbbbbbbbbbbbb1\"\nagent = \"anna\"\ndate = 2026-04-01\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Soldering\"\nhours = \"2\"\n";
const BAD_PATH: &str = "contributions/2026/04/01/01bbbbbbbbbbbbbbbbbbbbbbb1.toml";

#[test]
fn a_valid_ledger_passes() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.ovn(&dir)
        .arg("check")
        .assert()
        .success()
        .stdout(format!("ok: {} records, no problems\n", BASE.len() - 1));
}

#[test]
fn working_tree_problems_are_reported_and_at_reads_commits() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    write_files(&dir, &[(BAD_PATH, BAD_WORK)]);
    let before = fingerprint(&dir);
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error[unknown-reference]: `agent` refers to unknown agent `anna`",
        ))
        .stdout(predicate::str::contains(format!(" --> {BAD_PATH}:2:9")))
        .stdout(predicate::str::contains("2 | agent = \"anna\""))
        .stdout(predicate::str::contains("  |         ^^^^^^"))
        .stdout(predicate::str::contains("= help: did you mean `ana`?"))
        .stdout(predicate::str::ends_with(
            "error: 1 problem in 1 file (13 records)\n",
        ));
    // HEAD does not have the uncommitted record.
    s.ovn(&dir)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
    assert_eq!(fingerprint(&dir), before, "ovn check wrote nothing");

    // Commit the mistake, then fix it: the past commit still reports it.
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "bad record"]);
    s.git(&dir, &["tag", "v-bad"]);
    write_files(&dir, &[(BAD_PATH, &BAD_WORK.replace("anna", "ana"))]);
    s.git(&dir, &["commit", "-q", "-am", "fix agent"]);
    s.ovn(&dir)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
    for rev in ["HEAD~1", "v-bad"] {
        s.ovn(&dir)
            .args(["check", "--at", rev, "--format", "short"])
            .assert()
            .code(1)
            .stdout(format!(
                "{BAD_PATH}:2:9: error[unknown-reference]: `agent` refers to unknown agent `anna`\n"
            ));
    }
    // --at does not touch the working tree: make it dirty and check an old commit.
    write_files(&dir, &[("agents/ana.toml", "broken = [")]);
    let before = fingerprint(&dir);
    s.ovn(&dir)
        .args(["check", "--at", "main"])
        .assert()
        .success();
    assert_eq!(fingerprint(&dir), before);
}

#[test]
fn unknown_revision_is_a_usage_error() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    s.ovn(&dir)
        .args(["check", "--at", "no-such-branch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "revision \"no-such-branch\" not found",
        ));
}

#[test]
fn outside_a_ledger_is_an_environment_error() {
    let s = Sandbox::new();
    s.ovn(&s.work())
        .arg("check")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not in a ledger"))
        .stderr(predicate::str::contains("hint: run `ovn init`"));
    s.ovn(&s.work())
        .args(["-C", "missing-dir", "check"])
        .assert()
        .code(2);
}

#[test]
fn a_ledger_outside_git_is_an_environment_error() {
    let s = Sandbox::new();
    let dir = s.work().join("plain");
    write_files(&dir, BASE);
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not inside a git working tree"));
}

#[test]
fn a_ledger_in_a_subdirectory_is_read_at_any_revision_and_from_a_bare_clone() {
    let s = Sandbox::new();
    let repo = s.repo("code");
    write_files(&repo, &[("src/main.c", "int main(){}\n")]);
    let files: Vec<(String, &str)> = BASE
        .iter()
        .map(|(p, t)| (format!("ledger/{p}"), *t))
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    write_files(&repo, &files);
    s.git(&repo, &["add", "-A"]);
    s.git(&repo, &["commit", "-q", "-m", "code and ledger"]);
    s.ovn(&repo.join("ledger/contributions"))
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
    // A bare clone has no working tree: the ledger is read from objects.
    s.git(&s.work(), &["clone", "-q", "--bare", "code", "ledger.git"]);
    let bare = s.work().join("ledger-only.git");
    std::fs::create_dir(&bare).unwrap();
    let ledger_repo = s.repo("ledger-only");
    write_files(&ledger_repo, BASE);
    s.git(&ledger_repo, &["add", "-A"]);
    s.git(&ledger_repo, &["commit", "-q", "-m", "ledger"]);
    std::fs::remove_dir(&bare).unwrap();
    s.git(
        &s.work(),
        &["clone", "-q", "--bare", "ledger-only", "ledger-only.git"],
    );
    s.ovn(&bare)
        .args(["check", "--at", "main"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok: 12 records at "));
    // In the bare clone of the code repository the ledger is not at the top.
    s.ovn(&s.work().join("ledger.git"))
        .args(["check", "--at", "main"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no ledger"));
}

#[test]
fn two_hundred_distinct_problems_are_all_reported() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let mut files = Vec::new();
    for i in 0..200 {
        let id = format!("02c{i:023}");
        let day = 1 + i % 28;
        let (field, value) = match i % 4 {
            0 => ("agent", format!("agent = \"ghost-{i}\"\nhours = \"1\"")),
            1 => ("hours", format!("agent = \"ana\"\nhours = \"0.{i:05}\"")),
            2 => ("hours", format!("agent = \"ben\"\nhours = \"-{}\"", i + 1)),
            _ => (
                "skill",
                format!("agent = \"cy\"\nhours = \"1\"\nskill = \"Bad Skill {i}\""),
            ),
        };
        let _ = field;
        let text = format!(
            "id = \"{id}\"\n{value}\ndate = 2026-05-{day:02}\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Task {i}\"\n"
        );
        files.push((format!("contributions/2026/05/{day:02}/{id}.toml"), text));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(&dir, &refs);
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--format", "short"]));
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 200, "{out}");
    let distinct: std::collections::BTreeSet<&str> = lines.iter().copied().collect();
    assert_eq!(distinct.len(), 200);
    for code in [
        "unknown-reference",
        "too-precise",
        "not-positive",
        "invalid-value",
    ] {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains(&format!("error[{code}]")))
                .count(),
            50,
            "{code}"
        );
    }
    let (_, human) = stdout(s.ovn(&dir).arg("check"));
    assert!(
        human.ends_with("error: 200 problems in 200 files (212 records)\n"),
        "{human}"
    );
}

#[test]
fn output_does_not_depend_on_file_order_or_locale() {
    let s = Sandbox::new();
    let mut outputs = Vec::new();
    for (n, order) in [false, true].into_iter().enumerate() {
        let dir = s.repo(&format!("l{n}"));
        let mut files: Vec<(&str, &str)> = BASE.to_vec();
        files.push((BAD_PATH, BAD_WORK));
        files.push((
            "agents/zed.toml",
            "id = \"zed\"\nname = \"\"\nkind = \"robot\"\n",
        ));
        files.push((
            "projects/p2.toml",
            "id = \"p3\"\nname = \"P\"\nparent = \"nope\"\n",
        ));
        if order {
            files.reverse();
        }
        write_files(&dir, &files);
        for format in ["human", "short", "json"] {
            let mut cmd = s.ovn(&dir);
            if order {
                cmd.env("LC_ALL", "de_DE.UTF-8")
                    .env("TZ", "Pacific/Kiritimati");
            }
            outputs.push((format, stdout(cmd.args(["check", "--format", format]))));
        }
    }
    let (a, b) = outputs.split_at(3);
    assert_eq!(a, b);
    assert!(a[1].1.1.lines().count() >= 5, "{}", a[1].1.1);
}

#[test]
fn json_output_is_machine_readable() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    write_files(&dir, &[(BAD_PATH, BAD_WORK)]);
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--format", "json"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["records"], 13);
    assert_eq!(v["problems"][0]["code"], "unknown-reference");
    assert_eq!(v["problems"][0]["path"], BAD_PATH);
    assert_eq!(v["problems"][0]["line"], 2);
    assert_eq!(v["problems"][0]["column"], 9);
    assert_eq!(v["problems"][0]["hint"], "did you mean `ana`?");
}

#[test]
fn ignored_local_files_are_not_stray_but_committed_ones_are() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    write_files(
        &dir,
        &[
            (".gitignore", ".DS_Store\n"),
            ("agents/.DS_Store", "junk"),
            ("agents/notes.md", "hi"),
        ],
    );
    s.ovn(&dir)
        .args(["check", "--format", "short"])
        .assert()
        .code(1)
        .stdout("agents/notes.md:1:1: error[stray-file]: stray file in agents/: it is not a `.toml` record\n");
}

#[test]
fn the_example_ledger_passes() {
    let s = Sandbox::new();
    let dir = s.repo("fablab");
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fablab"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "example"]);
    let (code, out) = stdout(s.ovn(&dir).arg("check"));
    assert_eq!(code, 0, "{out}");
    let records: usize = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(records > 300, "{out}");
    s.ovn(&dir)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
}

#[test]
fn a_repository_without_a_checkout_is_read_from_objects() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // Empty the working tree (as after `git clone --no-checkout` or in a sparse checkout).
    for (path, _) in BASE {
        std::fs::remove_file(dir.join(path)).unwrap();
    }
    s.ovn(&dir)
        .arg("check")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no ovn.toml in the working tree"))
        .stderr(predicate::str::contains("ovn check --at HEAD"));
    s.ovn(&dir)
        .args(["check", "--at", "HEAD"])
        .assert()
        .success();
    // A repository that never had a ledger is simply not a ledger.
    let plain = s.repo("plain");
    s.ovn(&plain)
        .args(["check", "--at", "HEAD"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not in a ledger"));
}

#[test]
fn a_misspelt_folder_is_reported_in_the_working_tree_and_at_a_commit() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    write_files(
        &dir,
        &[("Agents/dee.toml", "id = \"dee\"\nname = \"Dee\"\n")],
    );
    let expected = "Agents/:1:1: error[stray-file]: folder `Agents/` is not a ledger folder; its 1 file is not read\n";
    s.ovn(&dir)
        .args(["check", "--format", "short"])
        .assert()
        .code(1)
        .stdout(expected);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "misspelt"]);
    s.ovn(&dir)
        .args(["check", "--format", "short", "--at", "HEAD"])
        .assert()
        .code(1)
        .stdout(expected);
}

#[test]
fn a_signed_approval_by_an_unknown_agent_is_reported() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let path = "approvals/2026/11/24/01zzzzzzzzzzzzzzzzzzzzzzz1.toml";
    let text = format!(
        "id = \"01zzzzzzzzzzzzzzzzzzzzzzz1\"\nrecord = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\ndigest = \"sha256:{}\"\ndate = 2026-11-24\nby = \"nobody\"\nsignature = \"U1NIU0lHAAAAAQ==\"\n",
        "0".repeat(64)
    );
    write_files(&dir, &[(path, &text)]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "approve by a stranger"]);
    // The working tree, then the commit twice (the second with a warm cache, a quick load).
    for args in [
        &["check"][..],
        &["check", "--at", "HEAD"],
        &["check", "--at", "HEAD"],
    ] {
        let (code, out) = stdout(s.ovn(&dir).args(args));
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(
            out.contains(&format!(
                "error[unknown-reference]: `by` refers to unknown agent `nobody`\n --> {path}:5:6"
            )),
            "{args:?}: {out}"
        );
    }
}

/// A contribution by a new agent whose file was left untracked: the working tree is fine, the
/// commit would not be.
const NEW_AGENT: (&str, &str) = (
    "agents/dee.toml",
    "id = \"dee\"\nname = \"Dee\"\nkind = \"person\"\nemails = [\"dee@fablab.example\"]\n",
);
const BY_NEW_AGENT: (&str, &str) = (
    "contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaaa9.toml",
    "id = \"01aaaaaaaaaaaaaaaaaaaaaaa9\"\nagent = \"dee\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Soldering\"\nhours = \"3\"\n",
);

#[test]
fn staged_reads_the_index_not_the_working_tree() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "staged");
    write_files(&dir, &[NEW_AGENT, BY_NEW_AGENT]);
    s.git(&dir, &["add", BY_NEW_AGENT.0]);
    // The working tree has both files; the index only the contribution.
    assert_eq!(stdout(s.ovn(&dir).args(["check"])).0, 0);
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--staged", "--format", "short"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("01aaaaaaaaaaaaaaaaaaaaaaa9.toml:2:9: error[unknown-reference]"),
        "{out}"
    );
    s.git(&dir, &["add", NEW_AGENT.0]);
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--staged"]));
    assert_eq!((code, out.as_str()), (0, "ok: 14 records, no problems\n"));
    // An edit made after `git add` is not what the commit holds.
    std::fs::write(dir.join(NEW_AGENT.0), "id = 3\n").unwrap();
    assert_eq!(stdout(s.ovn(&dir).args(["check", "--staged"])).0, 0);
    assert_eq!(stdout(s.ovn(&dir).args(["check"])).0, 1);
}

#[test]
fn staged_excerpts_come_from_the_index_and_links_are_never_followed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "staged-hostile");
    write_files(&dir, &[("agents/bad.toml", "id = \"bad\"\nname = 3\n")]);
    s.git(&dir, &["add", "agents/bad.toml"]);
    // The working tree's text differs from the staged one: the excerpt shows the staged.
    std::fs::write(dir.join("agents/bad.toml"), "# edited later\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("agents/link.toml")).unwrap();
    s.git(&dir, &["add", "agents/link.toml"]);
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--staged"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("2 | name = 3"), "{out}");
    assert!(!out.contains("edited later"), "{out}");
    assert!(out.contains("error[not-a-file]"), "{out}");
    assert!(!out.contains("root:"), "{out}");
}

#[test]
fn staged_refuses_an_unresolved_conflict_and_other_modes() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "staged-conflict");
    s.git(&dir, &["checkout", "-q", "-b", "side"]);
    write_files(
        &dir,
        &[(
            "agents/ana.toml",
            "id = \"ana\"\nname = \"Ana L.\"\nkind = \"person\"\nemails = []\n",
        )],
    );
    s.git(&dir, &["commit", "-qam", "side"]);
    s.git(&dir, &["checkout", "-q", "main"]);
    write_files(
        &dir,
        &[(
            "agents/ana.toml",
            "id = \"ana\"\nname = \"Ana Lima-Okafor\"\nkind = \"person\"\nemails = []\n",
        )],
    );
    s.git(&dir, &["commit", "-qam", "main"]);
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let out = git
        .args(["merge", "-q", "side"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the merge should conflict");
    let (code, _, stderr) = common::run(&s, &dir, &["check", "--staged"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("agents/ana.toml has an unresolved merge conflict"),
        "{stderr}"
    );
    let (code, _, stderr) = common::run(&s, &dir, &["check", "--staged", "--at", "HEAD"]);
    assert_eq!(code, 2, "{stderr}");
}

/// The pre-commit hook of `examples/ci/` refuses a commit whose new agent file was left
/// untracked and lets the complete one through.
#[test]
#[allow(clippy::disallowed_methods)] // the hook finds `ovn` on the PATH git is given
fn the_pre_commit_hook_checks_what_is_staged() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "hooked");
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/pre-commit");
    let installed = dir.join(".git/hooks/pre-commit");
    std::fs::copy(&hook, &installed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&installed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("ovn");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = |message: &str| {
        let mut git = std::process::Command::new("git");
        common::hermetic(&mut git, &s.home());
        git.env("PATH", &path)
            .args(["commit", "-q", "-m", message])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    write_files(&dir, &[NEW_AGENT, BY_NEW_AGENT]);
    s.git(&dir, &["add", BY_NEW_AGENT.0]);
    let refused = commit("work by dee");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(
        stderr.contains("the staged ledger has problems"),
        "{stderr}"
    );
    assert_eq!(common::commit_count(&s, &dir), 1);
    s.git(&dir, &["add", NEW_AGENT.0]);
    let done = commit("work by dee, and dee");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(common::commit_count(&s, &dir), 2);
    // `git commit -a` and `git commit FILE` stage into a temporary index and point the hook
    // at it with GIT_INDEX_FILE: that index, not .git/index, is what they commit.
    let broken = BY_NEW_AGENT.1.replace("agent = \"dee\"", "agent = \"de\"");
    write_files(&dir, &[(BY_NEW_AGENT.0, broken.as_str())]);
    for args in [vec!["-a"], vec!["--", BY_NEW_AGENT.0]] {
        let mut git = std::process::Command::new("git");
        common::hermetic(&mut git, &s.home());
        let out = git
            .env("PATH", &path)
            .args(["commit", "-q", "-m", "typo"])
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("unknown agent `de`"), "{args:?}: {stderr}");
        assert_eq!(common::commit_count(&s, &dir), 2);
    }
}

/// `.pre-commit-hooks.yaml` declares the staged check for the pre-commit framework.
#[test]
fn the_pre_commit_framework_hook_runs_the_staged_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hooks = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("entry: ovn check --staged"), "{hooks}");
    assert!(hooks.contains("pass_filenames: false"), "{hooks}");
}

/// The pre-commit framework itself runs the `ovn-check-system` hook of
/// `.pre-commit-hooks.yaml` (`pre-commit try-repo`): the incomplete commit is refused, the
/// complete one passes. Skipped where pre-commit is not installed (`.ci/run` installs it).
#[test]
#[allow(clippy::disallowed_methods)] // the hook finds `ovn` on the PATH it is given
fn the_pre_commit_framework_refuses_what_is_staged_incomplete() {
    if std::process::Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: pre-commit is not installed");
        return;
    }
    let s = Sandbox::new();
    let dir = base_repo(&s, "framework");
    let bin = assert_cmd::cargo::cargo_bin("ovn");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A repository of the hooks file alone: try-repo on ovn's own would copy all of it.
    let hooks = s.repo("hooks");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    s.git(&hooks, &["add", "-A"]);
    s.git(&hooks, &["commit", "-qm", "hooks"]);
    let here = hooks.to_str().unwrap();
    let try_repo = || {
        let mut cmd = std::process::Command::new("pre-commit");
        common::hermetic(&mut cmd, &s.home());
        cmd.env("PATH", &path)
            .env("PRE_COMMIT_HOME", s.home().join("pre-commit"))
            .args(["try-repo", here, "ovn-check-system"])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    write_files(&dir, &[NEW_AGENT, BY_NEW_AGENT]);
    s.git(&dir, &["add", BY_NEW_AGENT.0]);
    let refused = try_repo();
    let out = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "{out}");
    assert!(out.contains("error[unknown-reference]"), "{out}");
    s.git(&dir, &["add", NEW_AGENT.0]);
    let passed = try_repo();
    let out = String::from_utf8_lossy(&passed.stdout);
    assert!(passed.status.success(), "{out}");
    assert!(out.contains("Passed"), "{out}");
}

/// Issue 20: a rule whose kind is one slip from a built-in kind selects nothing; `ovn check`
/// says where, and what was meant.
#[test]
fn a_misspelt_kind_in_a_rule_is_located_with_a_suggestion() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("kind = \"material\"", "kind = \"materials\""),
    )
    .unwrap();
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--format", "short"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("agreements/drone-ve.toml:23:8: error[invalid-value]: `buckets[2].rules[2].kind` is \"materials\""),
        "{out}"
    );
    let (_, human) = stdout(s.ovn(&dir).arg("check"));
    assert!(human.contains("did you mean `material`?"), "{human}");
}

/// Issue 20: two buckets that can claim one contribution are a warning naming both buckets,
/// their rules and the fix; the check still passes.
#[test]
fn two_buckets_claiming_one_contribution_are_a_warning() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, common::with_role_bucket(&text)).unwrap();
    let (code, out) = stdout(s.ovn(&dir).arg("check"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning[claimed-twice]: buckets \"development\" and \"equity\" both claim contributions of kind `work` (buckets[3].rules[1] and buckets[4].rules[1])"),
        "{out}"
    );
    assert!(out.contains("a filter such as `skill"), "{out}");
    assert!(out.contains("no problems, 1 warning"), "{out}");
    let (_, json) = stdout(s.ovn(&dir).args(["check", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["warnings"][0]["code"], "claimed-twice");
    assert_eq!(json["warnings"][0]["path"], "agreements/drone-ve.toml");
    // A filter that keeps the rules apart silences it.
    std::fs::write(
        &path,
        common::with_role_bucket(&text).replace(
            "[[buckets.rules]]\nkind = \"work\"\n\n[[buckets.rules]]\nkind = \"use\"",
            "[[buckets.rules]]\nkind = \"work\"\nskill = \"carpentry\"\n\n[[buckets.rules]]\nkind = \"use\"",
        ),
    )
    .unwrap();
    let (code, out) = stdout(s.ovn(&dir).arg("check"));
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("warning"), "{out}");
}

/// The bundled examples give no such warning: the lab's founders bonus is a `once` claim on
/// top of equity, which is what `once` is for.
#[test]
fn the_bundled_example_claims_nothing_twice() {
    let s = Sandbox::new();
    let dir = common::fablab_repo(&s, "fab");
    let (code, out) = stdout(s.ovn(&dir).arg("check"));
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("warning"), "{out}");
}

/// Runs `ovn check ARGS` with the cache and with `--no-cache`: (exit code, stdout) of the
/// cached run, after asserting both runs gave the same.
fn check_both(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String) {
    let cached = stdout(s.ovn(dir).arg("check").args(args));
    let fresh = stdout(s.ovn(dir).args(["--no-cache", "check"]).args(args));
    assert_eq!(cached, fresh, "check {args:?} with the cache and without");
    cached
}

/// The stored working-tree answers (in `answers/`: a read of the working tree stores none
/// elsewhere).
fn stored_answers(dir: &Path) -> Vec<std::path::PathBuf> {
    common::cache_entries(dir)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("answers")))
        .collect()
}

/// Issue 21: `ovn check` on the working tree replays its answer while no file changed, and
/// every change (an edit keeping the size and modification time, a new file, a deleted one,
/// a file replaced by a link or a FIFO, a folder renamed) is read afresh, as `--no-cache`.
#[test]
fn the_working_tree_answer_is_replayed_only_while_nothing_changed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let ok = format!("ok: {} records, no problems\n", BASE.len() - 1);
    // An answer is stored only for files settled for a while (a change in the same tick of
    // the clock would not show in their times).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(check_both(&s, &dir, &[]), (0, ok.clone()));
    let stored = stored_answers(&dir);
    assert_eq!(stored.len(), 1, "{stored:?}");
    // Replayed: a crafted answer (whole, with its CRC) is what the next run prints.
    let mut bytes = std::fs::read(&stored[0]).unwrap();
    assert!(common::craft_entry(&mut bytes, b"ok: ", b"OK: "));
    std::fs::write(&stored[0], &bytes).unwrap();
    s.ovn(&dir)
        .arg("check")
        .assert()
        .success()
        .stdout(ok.replace("ok: ", "OK: "));
    // `--format` is part of the question.
    let (code, short) = check_both(&s, &dir, &["--format", "short"]);
    assert_eq!((code, short.as_str()), (0, ""));

    // An edit that keeps the size and the modification time: only its change time tells.
    let agent = dir.join("agents/ana.toml");
    let text = std::fs::read_to_string(&agent).unwrap();
    let mtime = std::fs::metadata(&agent).unwrap().modified().unwrap();
    let edited = text.replacen("id = \"ana\"", "id = \"anb\"", 1);
    assert_eq!(edited.len(), text.len());
    std::fs::write(&agent, &edited).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&agent)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&agent).unwrap().modified().unwrap(),
        mtime
    );
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    std::fs::write(&agent, &text).unwrap();
    assert_eq!(check_both(&s, &dir, &[]), (0, ok.clone()));

    // A new record, then deleted.
    write_files(&dir, &[(BAD_PATH, BAD_WORK)]);
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    std::fs::remove_file(dir.join(BAD_PATH)).unwrap();
    assert_eq!(check_both(&s, &dir, &[]), (0, ok.clone()));
    // A deleted agent its contributions name.
    std::fs::remove_file(&agent).unwrap();
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    // The file replaced by a link to its old text, then by a FIFO: never followed or read.
    let elsewhere = s.work().join("ana.toml");
    std::fs::write(&elsewhere, &text).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&elsewhere, &agent).unwrap();
        let (code, out) = check_both(&s, &dir, &["--format", "short"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("symbolic link"), "{out}");
        std::fs::remove_file(&agent).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&agent).status();
        if made.is_ok_and(|s| s.success()) {
            let (code, out) = check_both(&s, &dir, &["--format", "short"]);
            assert_eq!(code, 1, "{out}");
            assert!(out.contains("FIFO"), "{out}");
            std::fs::remove_file(&agent).unwrap();
        }
    }
    std::fs::write(&agent, &text).unwrap();
    assert_eq!(check_both(&s, &dir, &[]), (0, ok.clone()));
    // A day folder renamed: its records now sit under another date.
    let day = common::BASE
        .iter()
        .find_map(|(p, _)| p.strip_prefix("contributions/"))
        .and_then(|p| p.rsplit_once('/'))
        .map(|(day, _)| format!("contributions/{day}"))
        .unwrap();
    std::fs::rename(dir.join(&day), dir.join("contributions/2026/03/09")).unwrap();
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
}

/// A stray file's fate depends on `.gitignore`, which the working tree's stamp does not
/// cover: with one, no answer is stored or replayed.
#[test]
fn a_working_tree_with_a_stray_file_is_never_replayed() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    write_files(&dir, &[("agents/notes.txt", "hello\n")]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 1, "{out}");
    write_files(&dir, &[(".gitignore", "notes.txt\n")]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (code, out) = check_both(&s, &dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(stored_answers(&dir).is_empty());
}

/// `check --staged` in every output format, with the cache and without: (code, stdout) each.
fn staged_both_ways(s: &Sandbox, dir: &Path) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for format in ["human", "short", "json"] {
        let args = ["check", "--staged", "--format", format];
        let cached = stdout(s.ovn(dir).args(args));
        let fresh = stdout(s.ovn(dir).args(args).arg("--no-cache"));
        assert_eq!(cached, fresh, "--format {format}, cached and not");
        out.push(cached);
    }
    out
}

/// The staged check takes unchanged day folders from the cache and reads the changed ones
/// from the index, with and without git's split index (which libgit2 cannot read): after an
/// edit staged but undone in the working tree, a new file, a deleted file and a renamed
/// folder, its every output is the uncached one's, byte for byte.
#[test]
fn staged_through_the_cache_is_the_uncached_check() {
    const EDITED: &str = "contributions/2026/03/01/01kjkb3q00bx3jdv2fxj7113x3.toml";
    for split in [false, true] {
        let s = Sandbox::new();
        let dir = common::fablab_repo(&s, "staged-cached");
        if split {
            s.git(&dir, &["config", "core.splitIndex", "true"]);
            s.git(&dir, &["update-index", "--split-index"]);
        }
        // The cache knows every folder of HEAD, summarised.
        assert_eq!(stdout(s.ovn(&dir).args(["check", "--at", "HEAD"])).0, 0);
        let clean = staged_both_ways(&s, &dir);
        assert_eq!(clean[0].0, 0, "{}", clean[0].1);
        assert!(clean[0].1.starts_with("ok: 384 records"), "{}", clean[0].1);
        // A bad edit, staged, then undone in the working tree only: the commit would hold it.
        let text = std::fs::read_to_string(dir.join(EDITED)).unwrap();
        std::fs::write(dir.join(EDITED), text.replace("lukas", "nobody")).unwrap();
        s.git(&dir, &["add", EDITED]);
        std::fs::write(dir.join(EDITED), &text).unwrap();
        let edited = staged_both_ways(&s, &dir);
        assert_eq!(edited[1].0, 1, "{}", edited[1].1);
        assert!(
            edited[1]
                .1
                .contains("01kjkb3q00bx3jdv2fxj7113x3.toml:2:9: error[unknown-reference]"),
            "{}",
            edited[1].1
        );
        // A new file in a new folder, by an agent the index lacks; then its agent too.
        write_files(&dir, &[NEW_AGENT, BY_NEW_AGENT]);
        s.git(&dir, &["add", BY_NEW_AGENT.0]);
        s.git(&dir, &["reset", "-q", "--", EDITED]);
        let new = staged_both_ways(&s, &dir);
        assert_eq!(new[0].0, 1, "{}", new[0].1);
        s.git(&dir, &["add", NEW_AGENT.0]);
        let new = staged_both_ways(&s, &dir);
        assert_eq!(new[0], (0, "ok: 386 records, no problems\n".to_owned()));
        // A deleted file, and a renamed folder (its records' dates no longer match it).
        s.git(&dir, &["rm", "-q", EDITED]);
        let deleted = staged_both_ways(&s, &dir);
        assert_eq!(deleted[0], (0, "ok: 385 records, no problems\n".to_owned()));
        s.git(
            &dir,
            &["mv", "contributions/2026/03/03", "contributions/2026/03/02"],
        );
        let renamed = staged_both_ways(&s, &dir);
        assert_eq!(renamed[1].0, 1, "{}", renamed[1].1);
        assert!(
            renamed[1].1.contains("contributions/2026/03/02/"),
            "{}",
            renamed[1].1
        );
        // Once committed, the staged folders the check cached serve the commit's check.
        s.git(
            &dir,
            &["mv", "contributions/2026/03/02", "contributions/2026/03/03"],
        );
        s.git(&dir, &["commit", "-qm", "staged"]);
        let committed = staged_both_ways(&s, &dir);
        assert_eq!(
            committed[0],
            (0, "ok: 385 records, no problems\n".to_owned())
        );
        let at = stdout(s.ovn(&dir).args(["check", "--at", "HEAD"]));
        assert!(at.1.starts_with("ok: 385 records at "), "{}", at.1);
    }
}

/// Issue 21: a refused commit is judged as quickly as a clean one, from the summaries of the
/// day folders it leaves alone. A staged file that is not TOML holds no record; with every
/// other folder's records gone from the cache and one of their blobs lost, so that no load
/// of every record could read the index any more, `check --staged` still refuses it exactly
/// as `--no-cache` did before, in every format. Such a file named after a record of another
/// folder is a problem only a full load can tell (the summaries know ids by hash), and it
/// is still reported.
#[test]
fn a_refused_commit_is_judged_without_reading_every_record() {
    use common::{fablab_repo, lose_blob, run};
    // The one record a summary names outside its own folder (a reversal's target): the
    // folders holding that name are asked for it by name, so their entries stay.
    const TARGET: &str = "01kt2t2j004b7r47nekbpn404h";
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "refused");
    assert_eq!(stdout(s.ovn(&dir).args(["check", "--at", "HEAD"])).0, 0);

    let twice = "contributions/2026/07/01/01kdy02100c3nn0qbbet707xt2.toml";
    write_files(&dir, &[(twice, "id = [\n")]);
    staged_refusal(
        &s,
        &dir,
        &[twice],
        &[format!("{twice}:1:1: error[duplicate-id]")],
    );

    s.git(&dir, &["rm", "-q", "--cached", twice]);
    std::fs::remove_file(dir.join(twice)).unwrap();
    let broken = "contributions/2026/07/01/01brokenbrokenbrokenbroken.toml";
    let typo = "contributions/2026/07/01/01typotypotypotypotypotypo.toml";
    write_files(
        &dir,
        &[
            (broken, "id = \"01brokenbrokenbrokenbroken\"\nhours = six\n"),
            (
                typo,
                "id = \"01typotypotypotypotypotypo\"\nagent = \"mehmed\"\ndate = 2026-07-01\nproject = \"lab\"\nkind = \"work\"\ndescription = \"Typo\"\nhours = \"2\"\n",
            ),
        ],
    );
    let refused = staged_refusal(
        &s,
        &dir,
        &[broken, typo],
        &[
            format!("{broken}:2:9: error[syntax]"),
            format!("{typo}:2:9: error[unknown-reference]"),
        ],
    );

    common::keep_only_folders_naming(&dir, &[TARGET]);
    lose_blob(&s, &dir, &format!(":{FIRST}"));
    let (code, _, err) = run(&s, &dir, &["--no-cache", "check", "--staged"]);
    assert_ne!(
        code, 1,
        "a load of every record cannot read the index: {err}"
    );
    for (format, want) in ["human", "short", "json"].iter().zip(&refused) {
        let got = stdout(s.ovn(&dir).args(["check", "--staged", "--format", format]));
        assert_eq!(&got, want, "--format {format}, from the summaries");
    }
}

/// Issue 21: two people correct the same record on their own branches, and the merge
/// commit holds both corrections. CI's first `check --at` of it reports the second
/// correction (and nothing else) exactly as `--no-cache` does, from the summaries of the
/// folders the merge did not touch: with their records gone from the cache and one of their
/// blobs lost, so that no load of every record could read the commit, the answer is the
/// same.
#[test]
fn a_record_corrected_twice_in_a_merge_is_judged_from_the_summaries() {
    use common::{fablab_repo, lose_blob, run};
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "twice");
    assert_eq!(stdout(s.ovn(&dir).args(["check", "--at", "HEAD"])).0, 0);
    let target = "01kdy02100c3nn0qbbet707xt2";
    let correction = |id: &str, day: &str, field: &str| {
        (
            format!("contributions/2026/07/{day}/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"mehmet\"\ndate = 2026-07-{day}\nproject = \"lab\"\nkind = \"material\"\ndescription = \"Correction\"\namount = \"80.00\"\n{field} = \"{target}\"\n"
            ),
        )
    };
    let base = s.git(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]);
    let base = base.trim();
    for (branch, id, day, field) in [
        ("ana", "01anafixanafixanafixanafix", "01", "supersedes"),
        ("ben", "01benfixbenfixbenfixbenfix", "02", "supersedes"),
    ] {
        s.git(&dir, &["checkout", "-q", "-b", branch, base]);
        let (path, text) = correction(id, day, field);
        write_files(&dir, &[(path.as_str(), text.as_str())]);
        s.git(&dir, &["add", "-A"]);
        s.git(&dir, &["commit", "-qm", branch]);
    }
    s.git(&dir, &["checkout", "-q", base]);
    s.git(&dir, &["merge", "-q", "--ff-only", "ana"]);
    s.git(&dir, &["merge", "-q", "--no-edit", "ben"]);
    // Asked without the cache: the new folders are cached by the first read with it, and
    // once both corrections are summarised, a quick load cannot tell them apart from one.
    let short = ["--no-cache", "check", "--at", "HEAD", "--format", "short"];
    let want = stdout(s.ovn(&dir).args(short));
    assert_eq!(want.0, 1, "{}", want.1);
    assert_eq!(want.1.lines().count(), 1, "{}", want.1);
    assert!(
        want.1
            .contains("01benfixbenfixbenfixbenfix.toml:8:14: error[corrected-twice]"),
        "{}",
        want.1
    );

    // The folders the corrections name by id stay in the cache (the quick load confirms
    // the ids by name there); every other folder's records go, and a blob of one of them.
    common::keep_only_folders_naming(&dir, &[target, "01kt2t2j004b7r47nekbpn404h"]);
    let (object, bytes) = lose_blob(&s, &dir, &format!("HEAD:{}", another_record(&dir)));
    let (code, _, err) = run(&s, &dir, &["--no-cache", "check", "--at", "HEAD"]);
    assert_ne!(
        code, 1,
        "a load of every record cannot read the commit: {err}"
    );
    let got = stdout(s.ovn(&dir).args(&short[1..]));
    assert_eq!(got, want, "from the summaries");
    // Every format, the blob back, as without the cache.
    std::fs::write(&object, bytes).unwrap();
    for format in ["human", "short", "json"] {
        check_both(&s, &dir, &["--at", "HEAD", "--format", format]);
    }
}

/// With git's split index, the shared part is digested once (`.git/ovn/cache/index/`), and
/// a staged check after `git add` reads the small file and the folders it touches through
/// the digest; it answers as the uncached check does, and a damaged digest is a miss,
/// written anew.
#[test]
fn a_split_index_is_digested_once_and_a_damaged_digest_is_a_miss() {
    const EDITED: &str = "contributions/2026/03/01/01kjkb3q00bx3jdv2fxj7113x3.toml";
    let s = Sandbox::new();
    let dir = common::fablab_repo(&s, "staged-digest");
    s.git(&dir, &["config", "core.splitIndex", "true"]);
    s.git(&dir, &["config", "splitIndex.maxPercentChange", "100"]);
    s.git(&dir, &["update-index", "--split-index"]);
    let digests = dir.join(".git/ovn/cache/index");
    let kept = || -> Vec<std::path::PathBuf> {
        match std::fs::read_dir(&digests) {
            Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    };
    let clean = staged_both_ways(&s, &dir);
    assert_eq!(clean[0].0, 0, "{}", clean[0].1);
    let first = kept();
    assert_eq!(first.len(), 1, "one digest: {first:?}");
    let text = std::fs::read_to_string(dir.join(EDITED)).unwrap();
    std::fs::write(dir.join(EDITED), text.replace("lukas", "nobody")).unwrap();
    s.git(&dir, &["add", EDITED]);
    let edited = staged_both_ways(&s, &dir);
    assert_eq!(edited[1].0, 1, "{}", edited[1].1);
    assert!(
        edited[1]
            .1
            .contains("01kjkb3q00bx3jdv2fxj7113x3.toml:2:9: error[unknown-reference]"),
        "{}",
        edited[1].1
    );
    assert_eq!(kept(), first, "the same digest, still");
    let digest = std::fs::read(&first[0]).unwrap();
    std::fs::write(&first[0], &digest[..digest.len() / 2]).unwrap();
    // A new index file, so that no answer stored for the last one is replayed.
    s.git(&dir, &["update-index", "--force-write-index"]);
    assert_eq!(staged_both_ways(&s, &dir), edited);
    assert_eq!(std::fs::read(&first[0]).unwrap(), digest, "written anew");
}

/// The pre-commit hook's case: `ovn log`, then `git add` of another record. The index
/// `ovn log` wrote keeps git's cached trees (invalid only above its record), `git add`
/// invalidates above the other, and the staged check, which takes the valid folders' tree
/// ids from them instead of hashing their files, answers as the uncached one does; then git
/// commits exactly the index. With and without git's split index.
#[test]
fn staged_after_a_log_and_an_add_reads_git_s_cached_trees() {
    const COPIED: &str = "contributions/2026/03/01/01kjkb3q00bx3jdv2fxj7113x3.toml";
    for split in [false, true] {
        let s = Sandbox::new();
        let dir = common::fablab_repo(&s, "staged-trees");
        if split {
            s.git(&dir, &["config", "core.splitIndex", "true"]);
            s.git(&dir, &["update-index", "--split-index"]);
        }
        assert_eq!(stdout(s.ovn(&dir).args(["check", "--at", "HEAD"])).0, 0);
        let (code, out, err) = common::run(
            &s,
            &dir,
            &["log", "2h", "Trees", "-p", "drone", "--agent", "ana"],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(!err.contains("index was not updated"), "{err}");
        let index = std::fs::read(dir.join(".git/index")).unwrap();
        assert!(index.windows(4).any(|w| w == b"TREE"), "cached trees kept");
        let text = std::fs::read_to_string(dir.join(COPIED)).unwrap();
        let copy = COPIED.replace("x3.toml", "x4.toml");
        std::fs::write(dir.join(&copy), text.replace("7113x3", "7113x4")).unwrap();
        s.git(&dir, &["add", &copy]);
        let staged = staged_both_ways(&s, &dir);
        assert_eq!(staged[0].0, 0, "{}", staged[0].1);
        s.git(&dir, &["commit", "-qm", "copied"]);
        assert_eq!(
            s.git(&dir, &["ls-tree", "-r", "--name-only", "HEAD", "--", &copy])
                .trim(),
            copy
        );
        s.git(&dir, &["fsck", "--no-progress"]);
        assert_eq!(
            s.git(&dir, &["write-tree"]),
            s.git(&dir, &["rev-parse", "HEAD^{tree}"])
        );
        assert_eq!(staged_both_ways(&s, &dir)[0].0, 0);
    }
}

/// A `git add -N` entry has no content and is skipped, a staged link is reported and not
/// followed, and `GIT_INDEX_FILE` names the index read, with the cache as without it.
#[test]
fn staged_through_the_cache_skips_intents_and_honours_the_index_file() {
    let s = Sandbox::new();
    let dir = common::fablab_repo(&s, "staged-intent");
    assert_eq!(stdout(s.ovn(&dir).args(["check", "--at", "HEAD"])).0, 0);
    write_files(
        &dir,
        &[(
            "contributions/2026/03/01/01bbbbbbbbbbbbbbbbbbbbbbb1.toml",
            "id = 3\n",
        )],
    );
    s.git(
        &dir,
        &[
            "add",
            "-N",
            "contributions/2026/03/01/01bbbbbbbbbbbbbbbbbbbbbbb1.toml",
        ],
    );
    std::os::unix::fs::symlink(
        "/etc/passwd",
        dir.join("contributions/2026/03/03/01bbbbbbbbbbbbbbbbbbbbbbb2.toml"),
    )
    .unwrap();
    s.git(
        &dir,
        &[
            "add",
            "contributions/2026/03/03/01bbbbbbbbbbbbbbbbbbbbbbb2.toml",
        ],
    );
    let out = staged_both_ways(&s, &dir);
    assert_eq!(out[1].0, 1, "{}", out[1].1);
    assert!(
        out[1].1.contains("01bbbbbbbbbbbbbbbbbbbbbbb2.toml"),
        "{}",
        out[1].1
    );
    assert!(
        !out[1].1.contains("01bbbbbbbbbbbbbbbbbbbbbbb1.toml"),
        "{}",
        out[1].1
    );
    assert!(!out[0].1.contains("root:"), "{}", out[0].1);
    // Another index, holding HEAD: what it names is checked, not `.git/index`.
    let other = dir.join(".git/other-index");
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let status = git
        .args(["read-tree", "HEAD"])
        .env("GIT_INDEX_FILE", &other)
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    for cache in [true, false] {
        let mut cmd = s.ovn(&dir);
        cmd.args(["check", "--staged"])
            .env("GIT_INDEX_FILE", &other);
        if !cache {
            cmd.arg("--no-cache");
        }
        assert_eq!(
            stdout(&mut cmd),
            (0, "ok: 384 records, no problems\n".to_owned())
        );
    }
}

/// `ovn check` in every output format, with the cache and without (see [`check_both`]).
fn check_all_formats(s: &Sandbox, dir: &Path) -> Vec<(i32, String)> {
    ["human", "short", "json"]
        .iter()
        .map(|f| check_both(s, dir, &["--format", f]))
        .collect()
}

/// The parsed day folders in the cache (`xx/…`, not answers, summaries or memories).
fn cached_folders(dir: &Path) -> usize {
    common::cache_entries(dir)
        .iter()
        .filter(|p| common::is_folder_entry(p))
        .count()
}

/// Stages `paths`, lets the index settle, and checks it both ways (see [`staged_both_ways`]):
/// refused, the short output holding each of `expected`.
fn staged_refusal(
    s: &Sandbox,
    dir: &Path,
    paths: &[&str],
    expected: &[String],
) -> Vec<(i32, String)> {
    s.git(dir, &[&["add"], paths].concat());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let refused = staged_both_ways(s, dir);
    assert_eq!(refused[1].0, 1, "{}", refused[1].1);
    for e in expected {
        assert!(refused[1].1.contains(e.as_str()), "{e} in {}", refused[1].1);
    }
    refused
}

/// The lab's first contribution, an agent it names, and one of a later day.
const FIRST: &str = "contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml";

/// The path of some contribution of a day other than [`FIRST`]'s.
fn another_record(dir: &Path) -> String {
    let day = dir.join("contributions/2026/01/03");
    let name = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .min()
        .unwrap();
    format!("contributions/2026/01/03/{name}")
}

/// Issue 21: the working tree's first read remembers each day folder (its stat digest and
/// tree id; its records go to the folder cache), and after an edit, a new file, a new
/// folder or a revert, the check reads only what changed and prints what `--no-cache`
/// prints, in every format.
#[test]
fn after_an_edit_the_working_tree_check_reads_only_the_changed_folders() {
    let s = Sandbox::new();
    let dir = common::fablab_repo(&s, "wt");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let clean = check_all_formats(&s, &dir);
    assert_eq!(clean[0].0, 0, "{}", clean[0].1);
    // Before, a working-tree check left no folder in the cache: it read every file each time.
    assert!(
        cached_folders(&dir) > 10,
        "{:?}",
        common::cache_entries(&dir)
    );
    // An edit that makes a problem, in one day folder.
    let path = dir.join(FIRST);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("agent = \"mehmet\"", "agent = \"mehmed\""),
    )
    .unwrap();
    let edited = check_all_formats(&s, &dir);
    assert_eq!(edited[0].0, 1, "{}", edited[0].1);
    assert!(edited[1].1.contains(FIRST), "{}", edited[1].1);
    // A second edit elsewhere, once the first has settled, and a new file in a new folder.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let other = another_record(&dir);
    let other_text = std::fs::read_to_string(dir.join(&other)).unwrap();
    std::fs::write(
        dir.join(&other),
        other_text.replace("description = \"", "description = \"Edited: "),
    )
    .unwrap();
    write_files(&dir, &[(BAD_PATH, BAD_WORK)]);
    let both = check_all_formats(&s, &dir);
    assert_eq!(both[0].0, 1, "{}", both[0].1);
    assert!(
        both[1].1.contains(BAD_PATH) && both[1].1.contains(FIRST),
        "{}",
        both[1].1
    );
    // Everything undone: the clean answer again.
    std::fs::write(&path, &text).unwrap();
    std::fs::write(dir.join(&other), &other_text).unwrap();
    std::fs::remove_file(dir.join(BAD_PATH)).unwrap();
    assert_eq!(check_all_formats(&s, &dir), clean);
}

/// Writes a `core.fsmonitor` hook that prints the file `answer` beside it (or does what
/// `body` says), and configures it. Returns the answer file.
fn fsmonitor_hook(s: &Sandbox, dir: &Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let hook = s.work().join("fsmonitor-hook");
    let answer = s.work().join("fsmonitor-answer");
    std::fs::write(&hook, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.git(dir, &["config", "core.fsmonitor", hook.to_str().unwrap()]);
    answer
}

/// Issue 21: with git's `core.fsmonitor` hook, the working tree's check asks it what changed
/// (protocol 2, with the token the last read stored) before looking at any file: nothing
/// changed is the stored answer, without a look at the files (so an edit the hook does not
/// report is not seen, as git does not see it); a path reported is its day folder read again;
/// `/`, a failing hook, output that does not parse, and a boolean `core.fsmonitor` all read
/// with the stat walk, never a stale answer.
#[test]
#[cfg(unix)]
fn the_fsmonitor_hook_says_what_to_read_again() {
    let s = Sandbox::new();
    let dir = common::fablab_repo(&s, "wt");
    let answer = fsmonitor_hook(
        &s,
        &dir,
        &format!(
            "echo \"$1 $2\" >> {0}.log; cat {0}",
            s.work().join("fsmonitor-answer").display()
        ),
    );
    std::fs::write(&answer, "t1\0").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let clean = check_all_formats(&s, &dir);
    assert_eq!(clean[0].0, 0, "{}", clean[0].1);
    let log = std::fs::read_to_string(s.work().join("fsmonitor-answer.log")).unwrap();
    assert!(log.starts_with("2 \n2 t1\n"), "{log}");

    // An edit the hook does not report is not seen: the answer is replayed unread.
    let path = dir.join(FIRST);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("agent = \"mehmet\"", "agent = \"mehmed\""),
    )
    .unwrap();
    let other = another_record(&dir);
    let other_text = std::fs::read_to_string(dir.join(&other)).unwrap();
    std::fs::write(
        dir.join(&other),
        other_text.replace("agent = \"", "agent = \"x"),
    )
    .unwrap();
    assert_eq!(stdout(s.ovn(&dir).arg("check")), clean[0]);
    // Reported, its folder is read again; the other edit's folder still is not.
    std::fs::write(&answer, format!("t2\0{FIRST}\0README.md\0")).unwrap();
    let (code, out) = stdout(s.ovn(&dir).args(["check", "--format", "short"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(FIRST) && !out.contains(&other), "{out}");
    // `/` is anything: both are read, as `--no-cache` reads them.
    std::fs::write(&answer, "t3\0/\0").unwrap();
    let both = check_all_formats(&s, &dir);
    assert!(
        both[1].1.contains(FIRST) && both[1].1.contains(&other),
        "{}",
        both[1].1
    );
    // Each read asked with the token the last one stored.
    let log = std::fs::read_to_string(s.work().join("fsmonitor-answer.log")).unwrap();
    assert!(log.contains("\n2 t1\n2 t2\n"), "{log}");
    // A failing hook, or output that does not parse: the stat walk, never a stale answer.
    std::fs::write(&path, &text).unwrap();
    fsmonitor_hook(&s, &dir, "echo t4; exit 1");
    let (code, out) = check_both(&s, &dir, &["--format", "short"]);
    assert!(
        code == 1 && !out.contains(FIRST) && out.contains(&other),
        "{out}"
    );
    std::fs::write(dir.join(&other), &other_text).unwrap();
    fsmonitor_hook(&s, &dir, "printf '\\0\\0garbage'");
    assert_eq!(check_all_formats(&s, &dir), clean);
    // A boolean asks for git's own daemon, which ovn does not speak to: the stat walk.
    std::fs::write(
        &path,
        text.replace("agent = \"mehmet\"", "agent = \"mehmed\""),
    )
    .unwrap();
    s.git(&dir, &["config", "core.fsmonitor", "true"]);
    let (code, out) = check_both(&s, &dir, &["--format", "short"]);
    assert!(code == 1 && out.contains(FIRST), "{out}");
}

/// Sets the stat data git's index (version 2 or 3, no split) holds for `path` to what the
/// file has now, and the index's checksum after: git then takes the file as the blob it
/// hashed before, whatever it holds (as `git status` would).
fn restamp_index_entry(dir: &Path, path: &str) {
    use sha1::Digest;
    use std::os::unix::fs::MetadataExt;
    let index = dir.join(".git/index");
    let mut bytes = std::fs::read(&index).unwrap();
    assert!(bytes.starts_with(b"DIRC"), "an index");
    let count = u32::from_be_bytes(bytes[8..12].try_into().unwrap());
    let meta = std::fs::symlink_metadata(dir.join(path)).unwrap();
    let mut at = 12;
    let mut found = false;
    for _ in 0..count {
        let flags = u16::from_be_bytes([bytes[at + 60], bytes[at + 61]]);
        let name_at = at + if flags & 0x4000 != 0 { 64 } else { 62 };
        let len = bytes[name_at..].iter().position(|&b| b == 0).unwrap();
        if &bytes[name_at..name_at + len] == path.as_bytes() {
            let words = [
                meta.ctime() as u32,
                meta.ctime_nsec() as u32,
                meta.mtime() as u32,
                meta.mtime_nsec() as u32,
            ];
            for (k, w) in words.iter().enumerate() {
                bytes[at + 4 * k..at + 4 * k + 4].copy_from_slice(&w.to_be_bytes());
            }
            bytes[at + 36..at + 40].copy_from_slice(&(meta.size() as u32).to_be_bytes());
            found = true;
        }
        at += (name_at - at + len + 8) / 8 * 8;
    }
    assert!(found, "{path} in the index");
    let end = bytes.len() - 20;
    let sum = sha1::Sha1::digest(&bytes[..end]);
    bytes[end..].copy_from_slice(&sum);
    std::fs::write(&index, &bytes).unwrap();
}

/// Issue 21: a first working-tree check (no memory, a cold cache: a fresh clone) takes
/// each day folder git's index vouches for (every file's `lstat` data what git stored when
/// it hashed it) from git's objects by blob id, not from disk, and prints what `--no-cache`
/// prints; an edited file is read from disk. Shown by an index made to vouch for an edited
/// file (its stat data restamped, as only a tool writing the index by hand can): the blob
/// is what is checked, as `git status` would call the file clean, unless git may convert
/// content here (an attributes file, `core.autocrlf`), when the file is read from disk.
#[test]
fn a_first_working_tree_check_takes_what_git_s_index_vouches_for_from_git() {
    let s = Sandbox::new();
    let origin = common::fablab_repo(&s, "origin");
    let dir = s.work().join("clone");
    s.git(
        &s.work(),
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    );
    // Files written in the second the index was are racily clean: never vouched for.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let clean = check_all_formats(&s, &dir);
    assert_eq!(clean[0], (0, "ok: 384 records, no problems\n".to_owned()));
    assert!(cached_folders(&dir) > 10, "the folders went to the cache");

    // An edit, seen by its stat data: read from disk, reported.
    let edited = |s: &Sandbox, name: &str| {
        let dir = s.work().join(name);
        s.git(
            &s.work(),
            &[
                "clone",
                "-q",
                origin.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
        let text = std::fs::read_to_string(dir.join(FIRST)).unwrap();
        std::fs::write(
            dir.join(FIRST),
            text.replace("agent = \"mehmet\"", "agent = \"mehmed\""),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2100));
        dir
    };
    let dir = edited(&s, "edited");
    let seen = check_all_formats(&s, &dir);
    assert_eq!(seen[0].0, 1, "{}", seen[0].1);
    assert!(seen[1].1.contains(FIRST), "{}", seen[1].1);

    // The same edit with the index restamped to vouch for it: the blob is checked.
    let dir = edited(&s, "restamped");
    restamp_index_entry(&dir, FIRST);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        s.git(&dir, &["status", "--porcelain"]),
        "",
        "git calls it clean"
    );
    let (code, out) = stdout(s.ovn(&dir).arg("check"));
    assert_eq!((code, out.as_str()), (0, "ok: 384 records, no problems\n"));
    let (code, out) = stdout(s.ovn(&dir).args(["--no-cache", "check"]));
    assert_eq!(
        code, 1,
        "without the cache every file is read from disk: {out}"
    );

    // Where git may convert content, nothing is vouched for: the file is read.
    let user = s.home().join("git/attributes");
    for name in ["attributes", "autocrlf", "user"] {
        let dir = edited(&s, name);
        restamp_index_entry(&dir, FIRST);
        match name {
            "attributes" => std::fs::write(dir.join(".gitattributes"), "*.md text\n").unwrap(),
            "autocrlf" => {
                s.git(&dir, &["config", "core.autocrlf", "input"]);
            }
            _ => {
                std::fs::create_dir_all(user.parent().unwrap()).unwrap();
                std::fs::write(&user, "*.md text\n").unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (code, out) = stdout(s.ovn(&dir).arg("check"));
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("mehmed"), "{name}: {out}");
    }
    std::fs::remove_file(&user).unwrap();

    // A ledger in a folder of a code repository: the index's paths are the repository's.
    let code = s.repo("code");
    write_files(&code, &[("src/main.c", "int main(){}\n")]);
    std::fs::create_dir_all(code.join("ledger")).unwrap();
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fablab"),
        &code.join("ledger"),
    );
    s.git(&code, &["add", "-A"]);
    s.git(&code, &["commit", "-q", "-m", "code and ledger"]);
    let dir = s.work().join("code-clone");
    s.git(
        &s.work(),
        &["clone", "-q", code.to_str().unwrap(), dir.to_str().unwrap()],
    );
    let record = dir.join("ledger").join(FIRST);
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(
        &record,
        text.replace("agent = \"mehmet\"", "agent = \"mehmed\""),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    restamp_index_entry(&dir, &format!("ledger/{FIRST}"));
    std::thread::sleep(std::time::Duration::from_millis(50));
    let ledger = dir.join("ledger");
    let (code, out) = stdout(s.ovn(&ledger).arg("check"));
    assert_eq!((code, out.as_str()), (0, "ok: 384 records, no problems\n"));
    let (code, _) = stdout(s.ovn(&ledger).args(["--no-cache", "check"]));
    assert_eq!(code, 1);
}

/// `check --staged` (the pre-commit hook) is answered again, without reading the index,
/// while git's index file and HEAD are those it was answered from; anything that changes
/// either is read afresh, and so is an answer that looked at the working tree.
#[test]
fn a_staged_check_is_replayed_while_the_index_and_head_are_unchanged() {
    use common::{cache_dir, fablab_repo, lose_blob, run};
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let staged = ["check", "--staged"];
    let no_cache = ["--no-cache", "check", "--staged"];
    // An index written just before the read is not trusted: let it settle.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let reference = run(&s, &dir, &no_cache);
    assert_eq!(reference.0, 0, "{reference:?}");
    assert_eq!(run(&s, &dir, &staged), reference);

    // Replayed: with the folder cache gone and a record's blob lost, the index cannot be
    // read any more (`--no-cache` fails), and the stored answer still is the answer.
    let record = "contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml";
    for entry in std::fs::read_dir(cache_dir(&dir)).unwrap().flatten() {
        if entry.file_name() != "answers" {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let (object, bytes) = lose_blob(&s, &dir, &format!(":{record}"));
    assert_ne!(run(&s, &dir, &no_cache).0, 0, "the blob is needed");
    assert_eq!(run(&s, &dir, &staged), reference, "replayed");
    std::fs::write(&object, bytes).unwrap();

    // A new index (an edit staged) is read afresh, and so is a new HEAD.
    let text = std::fs::read_to_string(dir.join(record)).unwrap();
    let negative = text.replace("amount = \"", "amount = \"-");
    write_files(&dir, &[(record, &negative)]);
    s.git(&dir, &["add", record]);
    let edited = run(&s, &dir, &no_cache);
    assert_eq!(edited.0, 1, "{edited:?}");
    assert_eq!(run(&s, &dir, &staged), edited);
    s.git(&dir, &["commit", "-qm", "a negative amount"]);
    write_files(&dir, &[(record, &text)]);
    s.git(&dir, &["commit", "-qam", "the amount again"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(run(&s, &dir, &staged), reference);

    // A record HEAD holds taken out of the index and off the disk is a deletion, and the
    // check passes; put back on disk as committed (the index untouched) it is what a racing
    // `git commit` leaves, and the check refuses: the first answer looked at the working
    // tree, so it was not stored under the index's stamp.
    s.git(&dir, &["rm", "-q", "--cached", record]);
    std::fs::remove_file(dir.join(record)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let deleted = run(&s, &dir, &staged);
    assert_eq!(deleted, run(&s, &dir, &no_cache));
    assert_eq!(deleted.0, 0, "{deleted:?}");
    write_files(&dir, &[(record, &text)]);
    let lost = run(&s, &dir, &staged);
    assert_eq!(lost, run(&s, &dir, &no_cache));
    assert_ne!(lost.0, 0, "{lost:?}");
    assert!(lost.2.contains("missing from git's index"), "{lost:?}");
}
