//! A cold cache filled a window of day folders at a time: the first quick-loadable read of
//! a ledger (`check --at`, a payout, `report payouts`, `export csv|json`) reads its day
//! folders a few at a time (`OVN_FILL_WINDOW` files here, so the fablab example spans a
//! hundred windows), caches and summarises each clean one, then answers from the summaries.
//! It must answer byte for byte as `--no-cache` does, leave a folder with any problem
//! uncached so the problem is reported exactly as a full load reports it, and leave the
//! cache warm.

use std::path::Path;

use crate::common::{Sandbox, cache_dir, fablab_repo, lose_blob, run, write_files};

/// The questions a cold cache is filled a window at a time for.
const QUESTIONS: &[&[&str]] = &[
    &["check", "--at", "HEAD"],
    &["check", "--at", "HEAD", "--format", "json"],
    &["payout", "3000", "-p", "drone", "--at", "HEAD"],
    &[
        "payout",
        "2000",
        "-p",
        "lab",
        "--at",
        "HEAD",
        "--format",
        "json",
        "--explain",
    ],
    &["report", "payouts", "--at", "HEAD"],
    &["export", "csv", "--at", "HEAD"],
    &["export", "json", "-p", "drone", "--at", "HEAD"],
];

/// The questions answered from kept parts per day folder, which a quick load cannot count
/// itself: when the parts are not kept (a cold cache, a question asked for the first time)
/// the summarised folders are held in full from their cache entries, `OVN_FILL_WINDOW`
/// files at a time too.
const COUNTED: &[&[&str]] = &[
    &["report", "contributions", "--by", "agent", "--at", "HEAD"],
    &[
        "report",
        "contributions",
        "--by",
        "project,month",
        "--at",
        "HEAD",
    ],
    &["report", "claims", "--at", "HEAD"],
    &["export", "hledger", "--at", "HEAD"],
    &["export", "beancount", "--at", "HEAD"],
    &["export", "valueflows", "--at", "HEAD"],
];

type Answer = (i32, String, String);

/// `ovn ARGS` with the cache filled `window` files at a time.
fn run_windowed(s: &Sandbox, dir: &Path, window: &str, args: &[&str]) -> Answer {
    let out = s
        .ovn(dir)
        .env("OVN_FILL_WINDOW", window)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asks each question on a cold cache (none at all before each) filled `window` files at a
/// time, and without the cache, and compares.
fn assert_cold_like_no_cache(s: &Sandbox, dir: &Path, window: &str, when: &str) -> Vec<Answer> {
    let mut want = Vec::new();
    for q in QUESTIONS {
        let mut args = vec!["--no-cache"];
        args.extend_from_slice(q);
        let reference = run(s, dir, &args);
        let _ = std::fs::remove_dir_all(cache_dir(dir));
        let got = run_windowed(s, dir, window, q);
        assert_eq!(got, reference, "{when}: cold `ovn {}` differs", q.join(" "));
        want.push(reference);
    }
    want
}

/// Asks each counted question with the folder cache `warm` (filled by a `check` first) or
/// cold, its parts never kept, held `window` files at a time, and without the cache, and
/// compares.
fn assert_counted_like_no_cache(s: &Sandbox, dir: &Path, window: &str, warm: bool) {
    for q in COUNTED {
        let mut args = vec!["--no-cache"];
        args.extend_from_slice(q);
        let reference = run(s, dir, &args);
        assert_eq!(reference.0, 0, "{reference:?}");
        let _ = std::fs::remove_dir_all(cache_dir(dir));
        if warm {
            let check = run_windowed(s, dir, window, &["check", "--at", "HEAD"]);
            assert_eq!(check.0, 0, "{check:?}");
        }
        let got = run_windowed(s, dir, window, q);
        assert_eq!(
            got,
            reference,
            "window {window}, warm {warm}: `ovn {}` differs",
            q.join(" ")
        );
        // Asked again, from the parts the first answer kept (its answer forgotten).
        let _ = std::fs::remove_dir_all(cache_dir(dir).join("answers"));
        let again = run_windowed(s, dir, window, q);
        assert_eq!(again, reference, "again: `ovn {}` differs", q.join(" "));
    }
}

#[test]
fn reports_and_exports_count_summarised_folders_a_window_at_a_time_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // The example corrects a record of another day (contributions/2026/06/05), so the
    // windows meet a record corrected from elsewhere.
    for (window, warm) in [("1", true), ("3", false), ("100000", true)] {
        assert_counted_like_no_cache(&s, &dir, window, warm);
    }
    s.git(&dir, &["gc", "-q"]);
    assert_counted_like_no_cache(&s, &dir, "2", false);
}

#[test]
fn a_summarised_folder_whose_entry_is_gone_is_counted_from_a_full_load() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let q: &[&str] = &["report", "claims", "--at", "HEAD"];
    let mut args = vec!["--no-cache"];
    args.extend_from_slice(q);
    let reference = run(&s, &dir, &args);
    // The summaries stay, the folders' entries go: a window cannot be held, and the
    // report is counted as without a window, from the ledger loaded in full.
    let check = run_windowed(&s, &dir, "3", &["check", "--at", "HEAD"]);
    assert_eq!(check.0, 0, "{check:?}");
    for shard in std::fs::read_dir(cache_dir(&dir)).unwrap().flatten() {
        if shard.file_name().len() == 2 {
            std::fs::remove_dir_all(shard.path()).unwrap();
        }
    }
    assert_eq!(entries(&dir), 0);
    assert!(cache_dir(&dir).join("summaries").is_dir());
    assert_eq!(run_windowed(&s, &dir, "3", q), reference);
}

#[test]
fn a_day_folder_without_a_record_of_the_projects_asked_keeps_an_empty_part() {
    for q in [
        &["report", "claims", "-p", "drone", "--at", "HEAD"] as &[&str],
        &["report", "contributions", "-p", "drone", "--at", "HEAD"],
        &["export", "hledger", "-p", "drone", "--at", "HEAD"],
        &["export", "valueflows", "-p", "drone", "--at", "HEAD"],
    ] {
        assert_an_empty_part_is_kept(q);
    }
}

/// Asks `q` (of project drone), then takes away a day folder with no drone record (its
/// cache entry and its blobs), and asks again: answered from the parts kept by the first.
fn assert_an_empty_part_is_kept(q: &[&str]) {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let mut args = vec!["--no-cache"];
    args.extend_from_slice(q);
    let reference = run(&s, &dir, &args);
    assert_eq!(reference.0, 0, "{reference:?}");
    assert_eq!(run(&s, &dir, q), reference, "{q:?}");
    // A day folder none of whose records is drone's (and that no correction names): its
    // entry and its records' blobs are gone, so it can be neither held nor read again.
    let day = "contributions/2026/03/23";
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join(day))
        .unwrap()
        .flatten()
        .map(|f| f.path())
        .collect();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains("project = \"drone\""), "{text}");
        let spec = format!("HEAD:{day}/{}", f.file_name().unwrap().to_str().unwrap());
        lose_blob(&s, &dir, &spec);
    }
    let id = files[0].file_stem().unwrap().to_str().unwrap().to_owned();
    assert_eq!(remove_entries_holding(&dir, &id), 1, "the folder's entry");
    let (code, _, err) = run(&s, &dir, &args);
    assert_ne!(code, 0, "without the cache the records are needed");
    assert!(err.contains("blob") || err.contains("object"), "{err}");
    // The answer is put together from the parts the first one kept, the folder's empty.
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(run(&s, &dir, q), reference, "{q:?}");
}

/// The folder entries in the cache (files in its two-hex-digit shards).
fn entries(dir: &Path) -> usize {
    let Ok(shards) = std::fs::read_dir(cache_dir(dir)) else {
        return 0;
    };
    shards
        .flatten()
        .filter(|s| s.file_name().len() == 2)
        .map(|s| std::fs::read_dir(s.path()).map_or(0, |f| f.count()))
        .sum()
}

/// The day folders of the fablab example (each holds only clean records).
fn day_folders(dir: &Path) -> usize {
    let mut n = 0;
    for year in std::fs::read_dir(dir.join("contributions"))
        .unwrap()
        .flatten()
    {
        for month in std::fs::read_dir(year.path()).unwrap().flatten() {
            n += std::fs::read_dir(month.path()).unwrap().count();
        }
    }
    n
}

#[test]
fn a_cold_cache_filled_a_window_at_a_time_answers_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // Loose objects (read through libgit2), then packed (through the pack reader prepared
    // once for every window); windows of one file, of a few, and one window for all.
    for (window, when) in [("1", "loose"), ("3", "loose"), ("100000", "loose")] {
        let got = assert_cold_like_no_cache(&s, &dir, window, when);
        assert_eq!(got[0].0, 0, "{got:?}");
    }
    s.git(&dir, &["gc", "-q"]);
    for (window, when) in [("1", "packed"), ("5", "packed"), ("100000", "packed")] {
        assert_cold_like_no_cache(&s, &dir, window, when);
    }

    // Every day folder is cached and summarised by the first cold read.
    let _ = std::fs::remove_dir_all(cache_dir(&dir));
    let first = run_windowed(&s, &dir, "3", &["check", "--at", "HEAD"]);
    assert_eq!(first.0, 0, "{first:?}");
    assert_eq!(entries(&dir), day_folders(&dir), "one entry per day folder");
    assert!(cache_dir(&dir).join("summaries").is_dir());
    // A cold payout is answered by a quick load, which keeps the records it picked for
    // its project (a full load would have had every record already).
    let _ = std::fs::remove_dir_all(cache_dir(&dir));
    let payout = run_windowed(&s, &dir, "3", QUESTIONS[2]);
    assert_eq!(payout.0, 0, "{payout:?}");
    assert!(
        cache_dir(&dir).join("picks").is_dir(),
        "picked from summaries"
    );
}

#[test]
fn after_a_cold_windowed_read_the_records_are_not_read_again() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let reference = run(&s, &dir, &["--no-cache", "check", "--at", "HEAD"]);
    let cold = run_windowed(&s, &dir, "3", &["check", "--at", "HEAD"]);
    assert_eq!(cold, reference);

    // A record gone from the object database: a full load cannot read the ledger any
    // more, and the check (its remembered answer dropped) still answers from the cache
    // the windows filled.
    lose_blob(
        &s,
        &dir,
        "HEAD:contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml",
    );
    let (code, _, err) = run(&s, &dir, &["--no-cache", "check", "--at", "HEAD"]);
    assert_ne!(code, 0, "without the cache the record is needed");
    assert!(err.contains("blob"), "{err}");
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(run(&s, &dir, &["check", "--at", "HEAD"]), reference);
}

#[test]
fn a_broken_record_in_one_window_is_reported_as_no_cache_reports_it() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let day = "contributions/2026/05/15";
    let folders_before = day_folders(&dir);
    // A record that does not parse clean (hours not a number), one with an id another
    // file has, a file in a folder inside a day folder, and a stray file: each in its own
    // day folder, among folders that are clean.
    let broken = std::fs::read_dir(dir.join(day))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&broken).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("hours") {
                "hours = \"lots\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&broken, text).unwrap();
    let dup = std::fs::read_dir(dir.join("contributions/2026/03/25"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let dup_name = dup.file_name().unwrap().to_str().unwrap().to_owned();
    let dup_text = std::fs::read_to_string(&dup).unwrap();
    write_files(
        &dir,
        &[
            (
                &format!("contributions/2026/08/15/{dup_name}") as &str,
                &dup_text as &str,
            ),
            (
                "contributions/2026/09/12/nested/01kdy0zz00c3nn0qbbet707xt2.toml",
                &dup_text,
            ),
            ("contributions/2026/10/05/notes.txt", "not a record\n"),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "problems"]);

    for window in ["1", "4", "100000"] {
        let got = assert_cold_like_no_cache(&s, &dir, window, "problems");
        assert_ne!(got[0].0, 0, "the check fails: {got:?}");
    }
    s.git(&dir, &["gc", "-q"]);
    assert_cold_like_no_cache(&s, &dir, "4", "problems, packed");

    // The folders with a problem are not cached (the nested one, whose folder is listed
    // with its files, nor the one with the broken record); the clean ones are, and the
    // check answers again from them exactly as before.
    let _ = std::fs::remove_dir_all(cache_dir(&dir));
    let first = run_windowed(&s, &dir, "4", &["check", "--at", "HEAD"]);
    assert!(entries(&dir) < folders_before, "{}", entries(&dir));
    assert!(entries(&dir) > folders_before / 2, "{}", entries(&dir));
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(run(&s, &dir, &["check", "--at", "HEAD"]), first);
}

#[test]
fn a_cold_staged_check_fills_the_cache_from_the_index_and_answers_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    s.git(&dir, &["gc", "-q"]);
    // Staged on top of the commit: a new day folder and an edit of a committed record.
    let edited = "contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml";
    let text = std::fs::read_to_string(dir.join(edited)).unwrap();
    let new_day = "contributions/2026/12/31/01kdy02100c3nn0qbbet7zzzzz.toml";
    let new_text = text
        .replace("01kdy02100c3nn0qbbet707xt2", "01kdy02100c3nn0qbbet7zzzzz")
        .replace("date = 2026-01-02", "date = 2026-12-31");
    write_files(
        &dir,
        &[
            (
                edited,
                text.replace("description = \"", "description = \"Edited: ")
                    .as_str(),
            ),
            (new_day, new_text.as_str()),
        ],
    );
    s.git(&dir, &["add", "-A"]);
    for window in ["1", "7", "100000"] {
        let reference = run(&s, &dir, &["--no-cache", "check", "--staged"]);
        assert_eq!(reference.0, 0, "{reference:?}");
        let _ = std::fs::remove_dir_all(cache_dir(&dir));
        let cold = run_windowed(&s, &dir, window, &["check", "--staged"]);
        assert_eq!(cold, reference, "window {window}");
        // Every committed day folder git has a tree for is cached by the fill; the staged
        // ones, which have none yet, by the read that follows.
        assert!(entries(&dir) >= day_folders(&dir) - 1, "window {window}");
        let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
        assert_eq!(run(&s, &dir, &["check", "--staged"]), reference);
    }
}

/// The questions whose parts a cold fill counts as it reads (see `cache::tally`).
const TALLIED: &[&[&str]] = &[
    &["report", "contributions", "--by", "agent", "--at", "HEAD"],
    &["report", "claims", "-p", "lab", "--at", "HEAD"],
    &["report", "resources", "--at", "HEAD"],
    &["export", "hledger", "--at", "HEAD"],
    &["export", "beancount", "--hours", "--at", "HEAD"],
    &["site", "page", "--at", "HEAD"],
    &["export", "valueflows", "--at", "HEAD"],
    &[
        "export",
        "valueflows",
        "-p",
        "lab",
        "--since",
        "2026-03-01",
        "--at",
        "HEAD",
    ],
];

#[test]
fn a_cold_fill_keeps_the_parts_of_the_question_it_was_filled_for() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let reference: Vec<Answer> = TALLIED
        .iter()
        .map(|q| {
            let mut args = vec!["--no-cache"];
            args.extend_from_slice(q);
            let answer = run(&s, &dir, &args);
            assert_eq!(answer.0, 0, "{answer:?}");
            answer
        })
        .collect();
    let page = std::fs::read(dir.join("page/index.html")).unwrap();
    // A day folder no approval, payment or correction names: a quick load stands for it
    // with its summary, without its entry or its records.
    let day = "contributions/2026/03/23";
    let record = std::fs::read_dir(dir.join(day))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let id = record.file_stem().unwrap().to_str().unwrap().to_owned();
    let spec = format!("HEAD:{day}/{id}.toml");
    let (object, bytes) = lose_blob(&s, &dir, &spec);
    std::fs::write(&object, &bytes).unwrap();
    for (q, want) in TALLIED.iter().zip(&reference) {
        let _ = std::fs::remove_dir_all(cache_dir(&dir));
        let _ = std::fs::remove_dir_all(dir.join("page"));
        // Stopped right after the fill, before the command asks for a part: what is kept
        // then, the fill kept.
        let stopped = s
            .ovn(&dir)
            .env("OVN_FAILPOINT", "after-fill")
            .args(*q)
            .output()
            .unwrap();
        assert!(!stopped.status.success(), "`ovn {}` stopped", q.join(" "));
        assert!(!dir.join("page").exists());
        // The folder can now be counted neither from its entry (held a window at a time)
        // nor from git (a full load): only a part kept by the fill answers for it.
        assert_eq!(remove_entries_holding(&dir, &id), 1, "the folder's entry");
        std::fs::remove_file(&object).unwrap();
        let got = run(&s, &dir, q);
        std::fs::write(&object, &bytes).unwrap();
        assert_eq!(
            &got,
            want,
            "`ovn {}` from the parts the fill kept",
            q.join(" ")
        );
        if q[0] == "site" {
            assert_eq!(std::fs::read(dir.join("page/index.html")).unwrap(), page);
        }
    }
}

#[test]
fn a_cold_fill_counts_beside_the_approvals_it_cached_first() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // Approvals of records of three months: approval day folders, which the fill caches
    // before any contribution folder and the count takes from the cache.
    for id in [
        "01kmh4mz00en35sj7h3fp0ee38",
        "01kggcs100v2t1b6w1s9f10zhh",
        "01m1j91d008tv0a1cvy9ehb1dw",
    ] {
        let (code, out, err) = run(&s, &dir, &["approve", id]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let asked = |s: &Sandbox| {
        for window in ["2", "100000"] {
            assert_counted_like_no_cache_of(s, &dir, window, TALLIED);
        }
    };
    asked(&s);
    // Asked by the network: the page is then counted from every record, not from parts.
    let toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    std::fs::write(
        dir.join("ovn.toml"),
        format!("{toml}\n[validation]\napprovals = 1\n"),
    )
    .unwrap();
    s.git(&dir, &["commit", "-qam", "policy: one approval"]);
    asked(&s);
}

/// Asks each of `questions` on a cold cache filled `window` files at a time and without
/// the cache, and compares (the site's page too).
fn assert_counted_like_no_cache_of(s: &Sandbox, dir: &Path, window: &str, questions: &[&[&str]]) {
    // The page the last question wrote, taken away.
    let page = || {
        let page = std::fs::read(dir.join("page/index.html")).ok();
        let _ = std::fs::remove_dir_all(dir.join("page"));
        page
    };
    for q in questions {
        let mut args = vec!["--no-cache"];
        args.extend_from_slice(q);
        page();
        let reference = run(s, dir, &args);
        assert_eq!(reference.0, 0, "{reference:?}");
        let want = page();
        let _ = std::fs::remove_dir_all(cache_dir(dir));
        let got = run_windowed(s, dir, window, q);
        let what = format!("window {window}: `ovn {}`", q.join(" "));
        assert_eq!(got, reference, "{what} differs");
        assert_eq!(page(), want, "{what}: the page differs");
    }
}

/// Removes the folder entries whose bytes hold `id` from the cache; how many there were.
fn remove_entries_holding(dir: &Path, id: &str) -> usize {
    let mut gone = 0;
    for shard in std::fs::read_dir(cache_dir(dir)).unwrap().flatten() {
        if shard.file_name().len() != 2 {
            continue;
        }
        for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            if bytes.windows(id.len()).any(|w| w == id.as_bytes()) {
                std::fs::remove_file(entry.path()).unwrap();
                gone += 1;
            }
        }
    }
    gone
}

/// Each month file of ValueFlows parts (the report cache's files), by name, as stored.
fn part_files(dir: &Path) -> std::collections::BTreeMap<std::ffi::OsString, Vec<u8>> {
    std::fs::read_dir(cache_dir(dir).join("reports"))
        .map(|files| {
            files
                .flatten()
                .map(|f| (f.file_name(), std::fs::read(f.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_cold_fill_keeps_the_valueflows_parts_under_the_keys_the_export_looks_for() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let q = ["export", "valueflows", "--at", "HEAD"];
    let mut args = vec!["--no-cache"];
    args.extend_from_slice(&q);
    let want = run(&s, &dir, &args);
    assert_eq!(want.0, 0, "{want:?}");
    // fablab reverses a record of another day folder (2026-06-05 reverses one of
    // 2026-06-02): in one window the fill holds both, in windows of 3 files it does not.
    for (window, rewritten) in [("100000", 0..=0), ("3", 1..=1)] {
        let _ = std::fs::remove_dir_all(cache_dir(&dir));
        let stopped = s
            .ovn(&dir)
            .env("OVN_FAILPOINT", "after-fill")
            .env("OVN_FILL_WINDOW", window)
            .args(q)
            .output()
            .unwrap();
        assert!(!stopped.status.success());
        let kept = part_files(&dir);
        assert!(!kept.is_empty(), "window {window}: the fill kept parts");
        assert_eq!(run(&s, &dir, &q), want, "window {window}");
        // The export writes a month's file again only when it had to render one of its
        // folders: every part the fill kept was found, and only a folder whose correction
        // names a record in another window was rendered by the export.
        let again = part_files(&dir)
            .iter()
            .filter(|(name, bytes)| kept.get(*name) != Some(*bytes))
            .count();
        assert!(
            rewritten.contains(&again),
            "window {window}: {again} rewritten"
        );
    }
}
