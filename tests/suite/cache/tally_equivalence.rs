//! Property test: a cold cache filled a few files at a time (`OVN_FILL_WINDOW`), which counts
//! the question's parts while it holds each window's records (`cache::tally`), answers every
//! counted question byte for byte as `--no-cache` does, on random changes to the example
//! ledger: new records on old and new days, and reversals and supersessions of records near
//! and far, so that a correction and the record it names fall in one window or in two.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{Sandbox, cache_dir, fablab_repo};

const AGENTS: &[&str] = &["ana", "ben", "chloe", "nuria", "zoe"];
const PROJECTS: &[&str] = &["drone", "lab", "seedbank"];

/// The counted questions a cold fill tallies.
const QUESTIONS: &[&[&str]] = &[
    &["report", "contributions", "--by", "agent,project"],
    &["report", "claims"],
    &["report", "resources", "--since", "2026-02-01"],
    &["export", "hledger"],
    &["export", "beancount", "--hours", "-p", "lab"],
    &["export", "valueflows"],
];

#[derive(Clone, Debug)]
struct Add {
    /// Index into the base ledger's days, or past them: a new day.
    day: usize,
    agent: usize,
    project: usize,
    hours: u32,
    /// Reverses (or supersedes) the base record with this index.
    correction: Option<(bool, usize)>,
}

fn change() -> impl Strategy<Value = (Vec<Add>, usize)> {
    let add = (
        any::<usize>(),
        0..AGENTS.len(),
        0..PROJECTS.len(),
        1u32..5,
        prop::option::weighted(0.5, (any::<bool>(), any::<usize>())),
    )
        .prop_map(|(day, agent, project, hours, correction)| Add {
            day,
            agent,
            project,
            hours,
            correction,
        });
    // Windows of a few files to a few hundred: from every folder alone to months at once.
    (prop::collection::vec(add, 1..6), 1usize..300)
}

/// The base ledger's contribution files (`2026/03/05/<id>.toml`, sorted) and day folders.
fn base(dir: &Path) -> (Vec<String>, Vec<String>) {
    let root = dir.join("contributions");
    let mut files = Vec::new();
    let mut days = Vec::new();
    for y in std::fs::read_dir(&root).unwrap().flatten() {
        for m in std::fs::read_dir(y.path()).unwrap().flatten() {
            for d in std::fs::read_dir(m.path()).unwrap().flatten() {
                let day = d
                    .path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                    files.push(format!("{day}/{}", f.file_name().to_string_lossy()));
                }
                days.push(day);
            }
        }
    }
    files.sort();
    days.sort();
    (files, days)
}

/// Writes the change's records: a correction copies the record it names (its agent,
/// project and kind), dated its own day or a later one, each base record corrected once.
fn apply(dir: &Path, adds: &[Add], files: &[String], days: &[String]) {
    let root = dir.join("contributions");
    let mut corrected = Vec::new();
    for (n, a) in adds.iter().enumerate() {
        let id = format!("01tally{n:019}");
        let correction = a
            .correction
            .map(|(reverses, k)| (reverses, &files[k % files.len()]))
            .filter(|(_, f)| !corrected.contains(*f));
        let (day, text) = match correction {
            Some((reverses, file)) => {
                corrected.push(file.clone());
                let (target_day, name) = file.rsplit_once('/').unwrap();
                // The target's own day, a later base day, or a new one.
                let later: Vec<&String> = days
                    .iter()
                    .filter(|d| *d >= &target_day.to_owned())
                    .collect();
                let day = later
                    .get(a.day % (later.len() + 2))
                    .map_or_else(|| format!("2026/11/0{}", a.day % 3 + 1), |d| (*d).clone());
                let target = name.trim_end_matches(".toml");
                let old = std::fs::read_to_string(root.join(file)).unwrap();
                let mut text: String = old
                    .lines()
                    .filter(|l| !l.starts_with("id =") && !l.starts_with("date ="))
                    .map(|l| format!("{l}\n"))
                    .collect();
                let field = if reverses { "reverses" } else { "supersedes" };
                text = format!(
                    "id = \"{id}\"\ndate = {}\n{text}{field} = \"{target}\"\n",
                    day.replace('/', "-")
                );
                (day, text)
            }
            None => {
                let day = days
                    .get(a.day % (days.len() + 2))
                    .cloned()
                    .unwrap_or_else(|| format!("2026/11/0{}", a.day % 3 + 1));
                let text = format!(
                    "id = \"{id}\"\nagent = \"{}\"\ndate = {}\nproject = \"{}\"\nkind = \"work\"\ndescription = \"Random work\"\nhours = \"{}\"\n",
                    AGENTS[a.agent],
                    day.replace('/', "-"),
                    PROJECTS[a.project],
                    a.hours
                );
                (day, text)
            }
        };
        let path = root.join(&day).join(format!("{id}.toml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn a_cold_fill_counts_every_question_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let base_commit = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let (files, days) = base(&dir);
    let clean = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&change(), |(adds, window)| {
            s.git(&dir, &["reset", "-q", "--hard", &base_commit]);
            s.git(&dir, &["clean", "-q", "-fd", "contributions"]);
            apply(&dir, &adds, &files, &days);
            s.git(&dir, &["add", "-A"]);
            s.git(&dir, &["commit", "-q", "-m", "change"]);
            let mut all_ok = true;
            for q in QUESTIONS {
                let reference = s.ovn(&dir).arg("--no-cache").args(*q).output().unwrap();
                let _ = std::fs::remove_dir_all(cache_dir(&dir));
                let cold = s
                    .ovn(&dir)
                    .env("OVN_FILL_WINDOW", window.to_string())
                    .args(*q)
                    .output()
                    .unwrap();
                let answer = |o: &std::process::Output| {
                    (o.status.code(), o.stdout.clone(), o.stderr.clone())
                };
                prop_assert_eq!(answer(&cold), answer(&reference), "ovn {}", q.join(" "));
                all_ok &= reference.status.success();
            }
            if all_ok {
                clean.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // Most changes are clean, so the fill counted and the report used what it kept.
    let clean = clean.into_inner();
    assert!(clean >= 8, "changes every question answered: {clean}");
}
