//! Hostile content, end to end on real repositories: links, FIFOs, devices and gitlinks are
//! never followed or read, big files are not read, writes never go through a link, names
//! reach the terminal escaped, formulas cannot overflow the stack, shallow clones are said to
//! be shallow.

#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Sandbox, base_repo};

/// A value put in `ovn`'s environment: it must never be printed.
const SECRET: &str = "hunter2-s3cr3t-0vn";

/// Runs `cmd` and gives its exit code and output, killing it if it has not finished after a
/// generous bound: a regression that hangs (a FIFO read) fails instead of stalling the suite.
fn finish(mut cmd: Command) -> (i32, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("ovn did not finish: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ovn(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = s.ovn(dir);
    cmd.args(args).env("OVN_TEST_SECRET", SECRET);
    finish(cmd)
}

fn link(target: &str, at: &Path) {
    std::os::unix::fs::symlink(target, at).unwrap();
}

#[test]
fn a_link_to_proc_environ_is_never_read_in_any_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    link("/proc/self/environ", &dir.join("agents/env.toml"));
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "hostile"]);
    for at in [&[][..], &["--at", "HEAD"][..]] {
        for format in ["human", "short", "json"] {
            let mut args = vec!["check", "--format", format];
            args.extend(at);
            let (code, out, err) = ovn(&s, &dir, &args);
            assert_eq!(code, 1, "{args:?}: {out}{err}");
            assert!(
                !out.contains(SECRET) && !err.contains(SECRET),
                "{args:?} leaked"
            );
            assert!(out.contains("not-a-file"), "{args:?}: {out}");
            assert!(out.contains("agents/env.toml"), "{args:?}: {out}");
        }
    }
    let (_, out, _) = ovn(&s, &dir, &["check"]);
    assert!(
        out.contains("a symbolic link is not a ledger file"),
        "{out}"
    );
}

#[test]
fn a_fifo_or_a_link_to_one_does_not_hang_and_dev_zero_is_not_read() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let fifo = s.work().join("pipe");
    let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    let ok = Command::new("mkfifo")
        .arg(dir.join("agents/pipe.toml"))
        .status()
        .unwrap();
    assert!(ok.success());
    link(fifo.to_str().unwrap(), &dir.join("agents/fifo.toml"));
    link("/dev/zero", &dir.join("agents/zero.toml"));
    let (code, out, err) = ovn(&s, &dir, &["check", "--format", "short"]);
    assert_eq!(code, 1, "{out}{err}");
    for (name, what) in [
        ("agents/pipe.toml", "a FIFO"),
        ("agents/fifo.toml", "a symbolic link"),
        ("agents/zero.toml", "a symbolic link"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(name) && l.contains("not-a-file") && l.contains(what)),
            "{name}: {out}"
        );
    }
}

#[test]
fn a_linked_ovn_toml_is_refused() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    std::fs::remove_file(dir.join("ovn.toml")).unwrap();
    link("/proc/self/environ", &dir.join("ovn.toml"));
    let (code, out, err) = ovn(&s, &dir, &["check"]);
    assert_ne!(code, 0);
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "hostile"]);
    let (code, out, err) = ovn(&s, &dir, &["check", "--at", "HEAD"]);
    assert_ne!(code, 0);
    assert!(err.contains("ovn.toml is a symbolic link"), "{out}{err}");
}

#[test]
fn a_gitlink_in_a_record_folder_is_not_a_file() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    let cacheinfo = format!("160000,{},agents/sub.toml", head.trim());
    s.git(&dir, &["update-index", "--add", "--cacheinfo", &cacheinfo]);
    s.git(&dir, &["commit", "-q", "-m", "gitlink"]);
    let (code, out, err) = ovn(&s, &dir, &["check", "--at", "HEAD", "--format", "short"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("agents/sub.toml:1:1: error[not-a-file]: a submodule (gitlink)"),
        "{out}"
    );
    assert!(!out.contains("missing field"), "{out}");
    // Checked out, a submodule is a folder: in the working tree that is not a file either.
    std::fs::create_dir_all(dir.join("agents/sub.toml")).unwrap();
    let (code, out, _) = ovn(&s, &dir, &["check", "--format", "short"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("agents/sub.toml:1:1: error[not-a-file]: a directory"),
        "{out}"
    );
}

#[test]
fn a_committed_link_is_not_a_file_at_a_revision() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    link("../ovn.toml", &dir.join("agents/dee.toml"));
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "link"]);
    std::fs::remove_file(dir.join("agents/dee.toml")).unwrap();
    let (code, out, _) = ovn(&s, &dir, &["check", "--at", "HEAD", "--format", "short"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("agents/dee.toml:1:1: error[not-a-file]: a symbolic link"),
        "{out}"
    );
}

#[test]
fn a_write_through_a_linked_folder_is_refused_and_writes_nothing_outside() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let outside = s.work().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // Today's contributions (the pinned clock says 2026-11-24) would go under 2026/.
    std::fs::remove_dir_all(dir.join("contributions/2026")).unwrap();
    link("../../outside", &dir.join("contributions/2026"));
    let before = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, out, err) = ovn(&s, &dir, &["log", "2h", "Soldering", "-p", "drone"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("refusing to write through contributions/2026"),
        "{err}"
    );
    assert!(err.contains("a symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(
        s.git(&dir, &["rev-parse", "HEAD"]),
        before,
        "nothing committed"
    );
}

#[test]
fn a_record_over_the_size_limit_is_not_read() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let mut big = "id = \"dee\"\nname = \"Dee\"\nkind = \"person\"\nemails = []\n".to_owned();
    big.push_str(&format!("# {}\n", "x".repeat(70 * 1024)));
    std::fs::write(dir.join("agents/dee.toml"), &big).unwrap();
    let (code, out, _) = ovn(&s, &dir, &["check", "--format", "short"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("agents/dee.toml:1:1: error[too-large]: file is larger than the 64 KiB"),
        "{out}"
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "big"]);
    let (code, out, _) = ovn(&s, &dir, &["check", "--at", "HEAD", "--format", "short"]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "agents/dee.toml:1:1: error[too-large]: file is larger than the 64 KiB a ledger file may hold ({} bytes)",
            big.len()
        )),
        "{out}"
    );
}

/// A payout record may hold 8 MiB (it lists every claim it settled), no more: a larger one
/// in the working tree, the index or a commit is reported by its size and never read.
#[test]
fn a_payout_record_over_its_larger_limit_is_not_read() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let path = "payouts/2026/01hugepayout00000000000000.toml";
    let mut big = "id = \"01hugepayout00000000000000\"\n".to_owned();
    big.push_str(&format!("# {}\n", "x".repeat(8 * 1024 * 1024)));
    std::fs::create_dir_all(dir.join("payouts/2026")).unwrap();
    std::fs::write(dir.join(path), &big).unwrap();
    let said = format!(
        "{path}:1:1: error[too-large]: file is larger than the 8 MiB a payout record may hold ({} bytes)",
        big.len()
    );
    for args in [
        &["check", "--format", "short"][..],
        &["check", "--staged", "--format", "short"],
        &["check", "--at", "HEAD", "--format", "short"],
    ] {
        if args.contains(&"--staged") {
            s.git(&dir, &["add", "-A"]);
        }
        if args.contains(&"--at") {
            s.git(&dir, &["commit", "-q", "-m", "big"]);
        }
        let (code, out, err) = ovn(&s, &dir, args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(out.contains(&said), "{args:?}: {out}");
    }
}

#[test]
fn deep_and_long_formulas_are_reported_not_crashes() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    for formula in [
        format!("{}hours{}", "(".repeat(5000), ")".repeat(5000)),
        vec!["1"; 20_000].join("+"),
    ] {
        let hostile = text.replace(
            "[[buckets.rules]]\nkind = \"work\"\n",
            &format!("[[buckets.rules]]\nkind = \"work\"\nformula = \"{formula}\"\n"),
        );
        std::fs::write(&path, hostile).unwrap();
        let (code, out, err) = ovn(&s, &dir, &["check", "--format", "short"]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("agreements/drone-ve.toml:")
                    && l.contains("invalid-agreement")
                    && (l.contains("nests deeper") || l.contains("longer than"))),
            "{out}"
        );
        // The other commands refuse the ledger instead of overflowing.
        for args in [&["payout", "drone", "100"][..], &["review"][..]] {
            let (code, out, err) = ovn(&s, &dir, args);
            assert!(code != 134 && code != -1, "{args:?}: {code} {out}{err}");
        }
    }
}

#[test]
fn a_shallow_clone_cannot_prove_its_history() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    std::fs::write(dir.join("README.md"), "more\n").unwrap();
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "second"]);
    let url = format!("file://{}", dir.display());
    s.git(&s.work(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let clone = s.work().join("shallow");
    let (code, out, err) = ovn(&s, &clone, &["check", "--history"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("shallow clone"), "{err}");
    assert!(err.contains("git fetch --unshallow"), "{err}");
    // The full clone proves it.
    let (code, out, err) = ovn(&s, &dir, &["check", "--history"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// File names a hostile pull request may hold: a carriage return, a terminal-title escape, a
/// newline (to forge a line of `--format short`), a right-to-left override, a zero-width space.
const HOSTILE_NAMES: &[&str] = &[
    "agents/a\rb.toml",
    "agents/\x1b]0;pwned\x07.toml",
    "agents/x\nforged.toml:1:1: error[ok]: fine.toml",
    "agents/\u{202e}lmth.toml",
    "agents/z\u{200b}.toml",
];

/// Whether `text` holds anything a terminal would act on or hide.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}')
    })
}

#[test]
fn hostile_file_names_are_escaped_in_check_review_and_status() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.git(&dir, &["switch", "-q", "-c", "hostile"]);
    for name in HOSTILE_NAMES {
        std::fs::write(dir.join(name), "id = \"x\"\n").unwrap();
    }
    // Status sees them uncommitted, then pending review once committed.
    let (code, out, _) = ovn(&s, &dir, &["status"]);
    assert_eq!(code, 0);
    assert_eq!(raw_control(&out), None, "{out:?}");
    assert!(out.contains("agents/a\\rb.toml"), "{out}");
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "hostile names"]);
    for at in [&[][..], &["--at", "HEAD"][..]] {
        for format in ["human", "short", "json"] {
            let mut args = vec!["check", "--format", format];
            args.extend(at);
            let (code, out, _) = ovn(&s, &dir, &args);
            assert_eq!(code, 1, "{args:?}");
            assert_eq!(raw_control(&out), None, "{args:?}: {out:?}");
            for escaped in [
                "agents/a\\rb.toml",
                "agents/\\u{1b}]0;pwned\\u{7}.toml",
                "agents/x\\nforged.toml",
                "agents/\\u{202e}lmth.toml",
                "agents/z\\u{200b}.toml",
            ] {
                let escaped = if format == "json" {
                    escaped.replace('\\', "\\\\")
                } else {
                    escaped.to_owned()
                };
                assert!(out.contains(&escaped), "{args:?}: {escaped} in {out}");
            }
            match format {
                // No forged line: every line names one of the real files.
                "short" => {
                    for line in out.lines().filter(|l| l.contains("error[")) {
                        assert!(line.starts_with("agents/"), "{line:?}");
                    }
                    assert!(!out.contains("\nforged.toml"), "{out}");
                }
                "json" => {
                    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                    assert!(v["problems"].as_array().is_some_and(|p| !p.is_empty()));
                }
                _ => {}
            }
        }
    }
    let (_, out, _) = ovn(&s, &dir, &["status"]);
    assert_eq!(raw_control(&out), None, "{out:?}");
    for format in ["table", "markdown", "json"] {
        let (_, out, err) = ovn(&s, &dir, &["review", "main..hostile", "--format", format]);
        assert_eq!(raw_control(&out), None, "{format}: {out:?}{err}");
        assert!(out.contains("\\u{202e}lmth.toml"), "{format}: {out}");
        if format == "json" {
            serde_json::from_str::<serde_json::Value>(&out).unwrap();
        }
    }
}

#[test]
fn windows_device_names_are_not_ids_and_names_hold_no_zero_width_space() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    std::fs::write(
        dir.join("agents/con.toml"),
        "id = \"con\"\nname = \"Con\"\nkind = \"person\"\nemails = []\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("agents/dee.toml"),
        "id = \"dee\"\nname = \"A\u{200b}na Lima\"\nkind = \"person\"\nemails = []\n",
    )
    .unwrap();
    let (code, out, _) = ovn(&s, &dir, &["check", "--format", "short"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("agents/con.toml:1:6: error[invalid-id]") && out.contains("Windows reserves"),
        "{out}"
    );
    assert!(
        out.contains("agents/dee.toml:2:8: error[forbidden-char]: `name` holds the invisible character U+200B"),
        "{out}"
    );
}

#[test]
fn markdown_shows_hostile_text_as_text() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "ledger");
    s.git(&dir, &["switch", "-q", "-c", "hostile"]);
    let payload =
        "<img src=x onerror=alert(1)> [x](https://evil.example) <b>bold</b> `code` *em* | cell";
    std::fs::create_dir_all(dir.join("contributions/2026/03/14")).unwrap();
    std::fs::write(
        dir.join("contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaaa9.toml"),
        format!(
            "id = \"01aaaaaaaaaaaaaaaaaaaaaaa9\"\nagent = \"ana\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"work\"\ndescription = \"{payload}\"\nhours = \"1\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("agents/dee.toml"),
        format!("id = \"dee\"\nname = \"{payload}\"\nkind = \"person\"\nemails = []\n"),
    )
    .unwrap();
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "payload"]);
    let (code, out, err) = ovn(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, md, err) = ovn(
        &s,
        &dir,
        &["review", "main..hostile", "--format", "markdown"],
    );
    assert!(md.contains("### Ledger review"), "{md}{err}");
    let (_, report, err) = ovn(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--by",
            "agent,project",
            "--format",
            "markdown",
        ],
    );
    for out in [&md, &report] {
        for markup in [
            "<img",
            "<b>",
            "](https://",
            "[x]",
            "`code`",
            "*em*",
            "https://",
        ] {
            assert!(!out.contains(markup), "{markup} in {out}{err}");
        }
    }
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
    assert!(md.contains("\\[x\\](https:\\/\\/evil.example)"), "{md}");
    assert!(md.contains("\\| cell"), "{md}");
    // Every table row is still one row with its three cells.
    for line in md.lines().filter(|l| l.starts_with("| added")) {
        assert_eq!(line.matches(" | ").count(), 2, "{line}");
    }
}
