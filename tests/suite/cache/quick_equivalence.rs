//! Property test: on random changes committed on top of a cached ledger (new records on old
//! and new days, corrections of records near and far, of records that do not exist and of
//! themselves, ids used twice, too many hours in a day, unknown agents, an agent removed,
//! files that do not parse, records filed under another day), a quick load
//! (`CachedRead::load_revision_for`) reaches exactly the verdict, record count and payout of a
//! full load without the cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;

use crate::common::{Sandbox, fablab_repo};
use ovn::cache::{CachedRead, Scope};
use ovn::core::ledger::Loaded;
use ovn::core::payout::{self, Request};
use ovn::store::Store;

const AGENTS: &[&str] = &["ana", "ben", "chloe", "nuria", "zoe", "ghost"];
const PROJECTS: &[&str] = &["drone", "lab", "seedbank"];

#[derive(Clone, Debug)]
enum Target {
    /// A record of the base ledger (index into its ids).
    Old(usize),
    /// A record added by this change (index into the change's records).
    New(usize),
    Missing,
    Itself,
}

#[derive(Clone, Debug)]
struct Add {
    /// Index into the base ledger's days, or past them: a new day.
    day: usize,
    agent: usize,
    project: usize,
    hours: u32,
    correction: Option<(bool, Target)>,
    /// Reuse the id of a base record (a duplicate, in another folder).
    reuse: Option<usize>,
    /// A file that is not TOML (its hours a bare word): no record, but its name's id is
    /// still the ledger's.
    broken: bool,
    /// Dated another base day than its folder's (a misplaced record, whose hours may
    /// overflow that day).
    misplaced: Option<usize>,
}

#[derive(Clone, Debug)]
struct Change {
    adds: Vec<Add>,
    remove_agent: Option<usize>,
}

fn change() -> impl Strategy<Value = Change> {
    let target = prop_oneof![
        6 => any::<usize>().prop_map(Target::Old),
        2 => (0usize..4).prop_map(Target::New),
        1 => Just(Target::Missing),
        1 => Just(Target::Itself),
    ];
    let add = (
        any::<usize>(),
        0..AGENTS.len(),
        0..PROJECTS.len(),
        1u32..14,
        prop::option::weighted(0.3, (any::<bool>(), target)),
        prop::option::weighted(0.08, any::<usize>()),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.08, any::<usize>()),
    )
        .prop_map(
            |(day, agent, project, hours, correction, reuse, broken, misplaced)| Add {
                day,
                // Unknown agents only now and then.
                agent: if agent == AGENTS.len() - 1 && day % 3 != 0 {
                    0
                } else {
                    agent
                },
                project,
                hours,
                correction,
                // A file that does not parse takes a base record's id now and then too: only
                // its name says so.
                reuse: reuse.or((broken && day % 3 == 0).then_some(day / 3)),
                broken,
                misplaced,
            },
        );
    (
        prop::collection::vec(add, 1..4),
        prop::option::weighted(0.1, 0usize..3),
    )
        .prop_map(|(adds, remove_agent)| Change { adds, remove_agent })
}

/// The base ledger's contribution ids and day folders (`2026/03/05`).
fn base(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut days = Vec::new();
    let root = dir.join("contributions");
    for y in std::fs::read_dir(&root).unwrap() {
        let y = y.unwrap().path();
        for m in std::fs::read_dir(&y).unwrap() {
            let m = m.unwrap().path();
            for d in std::fs::read_dir(&m).unwrap() {
                let d = d.unwrap().path();
                days.push(
                    d.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
                for f in std::fs::read_dir(&d).unwrap() {
                    let name = f.unwrap().file_name().to_string_lossy().into_owned();
                    ids.push(name.trim_end_matches(".toml").to_owned());
                }
            }
        }
    }
    ids.sort();
    days.sort();
    (ids, days)
}

fn apply(dir: &Path, c: &Change, ids: &[String], days: &[String]) {
    let new_ids: Vec<String> = (0..c.adds.len())
        .map(|n| format!("01prop{:020}", n))
        .collect();
    for (n, a) in c.adds.iter().enumerate() {
        let day = days
            .get(a.day % (days.len() + 3))
            .cloned()
            .unwrap_or_else(|| format!("2026/08/0{}", a.day % 3 + 1));
        let date = match a.misplaced {
            Some(k) => days[k % days.len()].replace('/', "-"),
            None => day.replace('/', "-"),
        };
        let id = match a.reuse {
            Some(k) => ids[k % ids.len()].clone(),
            None => new_ids[n].clone(),
        };
        let hours = match (a.broken, a.misplaced) {
            // Not TOML: the file holds no record at all.
            (true, _) => "six".to_owned(),
            // Long enough to overflow the day it names with that day's base records.
            (false, Some(_)) => "\"23\"".to_owned(),
            (false, None) => format!("\"{}\"", a.hours),
        };
        // A misplaced record is by someone who worked the day it names, when anyone did.
        let agent = a
            .misplaced
            .and_then(|k| worked(dir, &days[k % days.len()]))
            .unwrap_or_else(|| AGENTS[a.agent].to_owned());
        let mut text = format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"{}\"\nkind = \"work\"\ndescription = \"Random work\"\nhours = {hours}\n",
            PROJECTS[a.project]
        );
        if let Some((reverses, target)) = &a.correction {
            let t = match target {
                Target::Old(k) => ids[k % ids.len()].clone(),
                Target::New(k) => new_ids[k % new_ids.len()].clone(),
                Target::Missing => "01nosuchrecord000000000000".to_owned(),
                Target::Itself => id.clone(),
            };
            let field = if *reverses { "reverses" } else { "supersedes" };
            text.push_str(&format!("{field} = \"{t}\"\n"));
        }
        let path = dir
            .join("contributions")
            .join(&day)
            .join(format!("{id}.toml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    if let Some(k) = c.remove_agent {
        let _ = std::fs::remove_file(dir.join("agents").join(format!("{}.toml", AGENTS[k])));
    }
}

/// The agent of a base record of `day` (`2026/03/05`) that has hours, if one has.
fn worked(dir: &Path, day: &str) -> Option<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("contributions").join(day))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.iter().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        if !text.contains("\nhours = ") {
            return None;
        }
        let line = text.lines().find(|l| l.starts_with("agent = "))?;
        Some(
            line.trim_start_matches("agent = ")
                .trim_matches('"')
                .to_owned(),
        )
    })
}

/// The drone payout worked out on `loaded`, problems or not (a review's payout impact is
/// worked out on a change with problems too).
fn payout_of(loaded: &Loaded) -> String {
    let settled = payout::settled_by_records(&loaded.ledger);
    let request = Request {
        project: "drone",
        amount: Decimal::new(300_000, 2),
        date: None,
    };
    format!("{:?}", payout::compute(&loaded.ledger, &request, &settled))
}

#[test]
fn quick_loads_reach_the_verdict_and_payout_of_full_loads() {
    let s = Sandbox::new();
    let dir: PathBuf = fablab_repo(&s, "fablab");
    let base_commit = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let (ids, days) = base(&dir);
    // The cache, warm for the base.
    let store = Store::discover(&dir).unwrap();
    store.load_revision("HEAD").unwrap();

    let quick_clean = AtomicUsize::new(0);
    let quick_problems = AtomicUsize::new(0);
    let problems = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&change(), |c| {
            s.git(&dir, &["reset", "-q", "--hard", &base_commit]);
            s.git(&dir, &["clean", "-q", "-fd", "contributions"]);
            apply(&dir, &c, &ids, &days);
            s.git(&dir, &["add", "-A"]);
            s.git(&dir, &["commit", "-q", "--allow-empty", "-m", "change"]);

            let mut plain = Store::discover(&dir).unwrap();
            plain.set_cache(false);
            let (full, _) = plain.load_revision("HEAD").unwrap();
            let cached = Store::discover(&dir).unwrap();
            for scope in [Scope::Checks, Scope::Projects(&["drone"])] {
                let (quick, _) = cached.load_revision_for("HEAD", scope).unwrap();
                prop_assert_eq!(
                    format!("{:?}", quick.diagnostics),
                    format!("{:?}", full.diagnostics)
                );
                prop_assert_eq!(quick.ledger.record_count(), full.ledger.record_count());
                prop_assert_eq!(quick.ledger.file_count(), full.ledger.file_count());
                if let Scope::Projects(_) = scope {
                    prop_assert_eq!(payout_of(&quick), payout_of(&full));
                }
                if quick.ledger.elsewhere.records > 0 {
                    if quick.diagnostics.is_empty() {
                        quick_clean.fetch_add(1, Ordering::Relaxed);
                    } else {
                        quick_problems.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if !full.diagnostics.is_empty() {
                problems.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // Every side was exercised: clean ledgers read quickly, problems, and problems a quick
    // load judged without the full load.
    let (clean, bad) = (quick_clean.into_inner(), problems.into_inner());
    let judged = quick_problems.into_inner();
    assert!(clean >= 10, "quick loads that answered: {clean}");
    assert!(bad >= 5, "changes with problems: {bad}");
    assert!(judged >= 2, "problems judged quickly: {judged}");
}
