//! The error corpus: one fixture per diagnostic code under `tests/diagnostics/<code>/`.
//!
//! Each fixture is a small overlay written on top of [`crate::common::BASE`] (a valid ledger), with an
//! optional `remove.txt` (base paths to delete first), a `README.md` saying what the mistake is
//! and how to fix it, and `expected.txt`, the exact output of `ovn check`. The fixtures double
//! as documentation of every code, so they are kept minimal and realistic.
//!
//! Refresh the expected outputs after a deliberate wording change with
//! `OVN_BLESS=1 cargo test --test suite diagnostics::`, then read the diff.

#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{BASE, Sandbox, write_files};
use ovn::core::diag::Code;

/// Files of a fixture directory that are not part of the ledger overlay.
const META_FILES: &[&str] = &["README.md", "expected.txt", "remove.txt"];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics")
}

/// The fixture directories, sorted by name.
fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("readable entry"))
        .filter(|e| e.file_type().expect("file type").is_dir())
        .map(|e| e.file_name().into_string().expect("UTF-8 fixture name"))
        .collect();
    names.sort();
    names
}

fn blessing() -> bool {
    std::env::var_os("OVN_BLESS").is_some_and(|v| v == "1")
}

/// Copies the overlay files of `from` into `to`, skipping the fixture's own files at its top.
fn copy_overlay(from: &Path, to: &Path, top: bool) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if top && META_FILES.iter().any(|m| name == *m) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_symlink() {
            // A link stays a link (the not-a-file fixture): never copied through.
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_overlay(&entry.path(), &target, false);
        } else {
            // Raw bytes: some fixtures are deliberately not UTF-8.
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// Builds the fixture's ledger in a fresh repository and commits it.
fn build_ledger(sandbox: &Sandbox, fixture: &Path) -> PathBuf {
    let dir = sandbox.repo("ledger");
    write_files(&dir, BASE);
    if let Ok(list) = std::fs::read_to_string(fixture.join("remove.txt")) {
        for line in list.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            std::fs::remove_file(dir.join(line))
                .unwrap_or_else(|e| panic!("remove.txt names {line}, which is not there: {e}"));
        }
    }
    copy_overlay(fixture, &dir, true);
    sandbox.git(&dir, &["add", "-A"]);
    sandbox.git(&dir, &["commit", "-q", "-m", "fixture"]);
    dir
}

/// Runs `ovn check` with `args` in `dir`: exit code and stdout.
fn check(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = sandbox
        .ovn(dir)
        .arg("check")
        .args(args)
        .output()
        .expect("ovn runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Everything but the last line (the summary, which names the commit under `--at`).
fn without_summary(text: &str) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    body.rfind('\n').map_or("", |i| &body[..=i])
}

/// A line-by-line comparison, marking the lines that differ.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => writeln!(out, "  {x}").unwrap(),
            (x, y) => {
                if let Some(x) = x {
                    writeln!(out, "- {x}").unwrap();
                }
                if let Some(y) = y {
                    writeln!(out, "+ {y}").unwrap();
                }
            }
        }
    }
    out
}

/// Runs one fixture; returns its problems (empty when it passes).
fn run_fixture(name: &str, bless: bool) -> Vec<String> {
    let fixture = corpus_dir().join(name);
    let mut problems = Vec::new();
    let sandbox = Sandbox::new();
    let dir = build_ledger(&sandbox, &fixture);

    let (code, stdout, stderr) = check(&sandbox, &dir, &[]);
    if code != Some(1) {
        problems.push(format!(
            "`ovn check` exited with {code:?}, expected 1\nstdout:\n{stdout}stderr:\n{stderr}"
        ));
    }
    if !stdout.contains(&format!("error[{name}]")) {
        problems.push(format!("stdout does not contain `error[{name}]`"));
    }
    let expected_path = fixture.join("expected.txt");
    if bless {
        std::fs::write(&expected_path, &stdout).unwrap();
    } else {
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == stdout => {}
            Ok(expected) => problems.push(format!(
                "stdout differs from expected.txt (- expected, + actual):\n{}\n\
                 --- expected.txt ---\n{expected}--- actual stdout ---\n{stdout}",
                diff(&expected, &stdout)
            )),
            Err(e) => problems.push(format!(
                "cannot read expected.txt ({e}); run with OVN_BLESS=1 to create it"
            )),
        }
    }

    let (at_code, at_stdout, at_stderr) = check(&sandbox, &dir, &["--at", "HEAD"]);
    if at_code != Some(1) {
        problems.push(format!(
            "`ovn check --at HEAD` exited with {at_code:?}, expected 1\n\
             stdout:\n{at_stdout}stderr:\n{at_stderr}"
        ));
    }
    if without_summary(&at_stdout) != without_summary(&stdout) {
        problems.push(format!(
            "`ovn check --at HEAD` reports other problems than the working tree \
             (- working tree, + --at HEAD):\n{}",
            diff(without_summary(&stdout), without_summary(&at_stdout))
        ));
    }
    problems
}

#[test]
fn every_fixture_reports_its_code() {
    let bless = blessing();
    let names = fixture_names();
    assert!(!names.is_empty(), "no fixtures under tests/diagnostics");
    let mut failures = String::new();
    let mut failed = 0;
    for name in &names {
        let problems = run_fixture(name, bless);
        if !problems.is_empty() {
            failed += 1;
            writeln!(failures, "==== fixture {name} ====").unwrap();
            for p in problems {
                writeln!(failures, "{p}").unwrap();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{failed} of {} fixtures failed (refresh with OVN_BLESS=1 only if the new output is \
         right):\n\n{failures}",
        names.len()
    );
}

#[test]
fn every_code_has_a_fixture() {
    let codes: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let dirs: BTreeSet<String> = fixture_names().into_iter().collect();
    let missing: Vec<&&str> = codes.iter().filter(|c| !dirs.contains(**c)).collect();
    let unknown: Vec<&String> = dirs
        .iter()
        .filter(|d| Code::from_name(d).is_none())
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "codes without a fixture in tests/diagnostics: {missing:?}; \
         fixture directories that are not codes: {unknown:?}"
    );
    for name in &dirs {
        let readme = corpus_dir().join(name).join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap_or_default();
        assert!(
            !text.trim().is_empty(),
            "{} is missing or empty",
            readme.display()
        );
    }
}
