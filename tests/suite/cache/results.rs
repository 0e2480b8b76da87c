//! The cache in `.git/ovn/cache` never changes a result: cold, warm, deleted, damaged, or
//! written by another version, every answer is byte for byte the one `--no-cache` gives, on
//! a real repository holding the bundled fablab example (360 contributions in ~100 day
//! folders).

use std::path::{Path, PathBuf};

use crate::common::{self, Sandbox, cache_dir, cache_entries, craft_entry, fablab_repo, run};

/// The questions asked: payout previews (answer cache and folder cache), reports, a check,
/// and exports to standard output (streamed into and out of the answer cache).
const QUESTIONS: &[&[&str]] = &[
    &["payout", "3000", "-p", "drone", "--at", "HEAD"],
    &[
        "payout",
        "3000",
        "-p",
        "drone",
        "--at",
        "HEAD",
        "--format",
        "json",
        "--explain",
    ],
    &["report", "contributions", "--by", "agent", "--at", "HEAD"],
    &["report", "claims", "--at", "HEAD", "--format", "csv"],
    &["check", "--at", "HEAD"],
    &["export", "valueflows", "--at", "HEAD"],
    &["report", "payouts", "--at", "HEAD"],
    &["export", "hledger", "--at", "HEAD"],
    &["export", "beancount", "--at", "HEAD", "--hours"],
    &["export", "ledger", "--at", "HEAD"],
    &["export", "csv", "--at", "HEAD"],
    &["export", "json"],
];

/// Each question's (exit code, stdout, stderr).
fn answers(s: &Sandbox, dir: &Path, extra: &[&str]) -> Vec<(i32, String, String)> {
    common::answers(s, dir, QUESTIONS, extra)
}

fn assert_same(got: &[(i32, String, String)], want: &[(i32, String, String)], when: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{when}: `ovn {}` differs", QUESTIONS[i].join(" "));
    }
}

#[test]
fn every_state_of_the_cache_gives_the_answers_of_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let reference = answers(&s, &dir, &["--no-cache"]);
    assert!(
        reference[0].1.contains("ana") && reference[0].0 == 0,
        "the payout works: {reference:?}"
    );
    assert!(cache_entries(&dir).is_empty(), "--no-cache writes no cache");

    // Cold: the first run fills the cache (day folders and answers) and answers the same.
    assert_same(&answers(&s, &dir, &[]), &reference, "cold");
    let filled = cache_entries(&dir);
    let folders = filled
        .iter()
        .filter(|p| !p.to_string_lossy().contains("/answers/"))
        .count();
    assert!(folders > 50, "one entry per day folder, got {folders}");
    assert!(filled.len() > folders, "answers are stored too");

    // Warm: answered from the cache, the same bytes.
    assert_same(&answers(&s, &dir, &[]), &reference, "warm");
    assert_eq!(cache_entries(&dir), filled, "a warm run adds nothing");

    // Deleted.
    std::fs::remove_dir_all(cache_dir(&dir)).unwrap();
    assert_same(&answers(&s, &dir, &[]), &reference, "deleted");

    // Damaged in every way a file can be: a flipped byte, cut short, emptied, garbage.
    let damages: [fn(&mut Vec<u8>); 4] = [
        |b| {
            let i = b.len() / 2;
            b[i] ^= 0x20;
        },
        |b| b.truncate(b.len() / 3),
        |b| b.clear(),
        |b| *b = b"not a cache entry at all".repeat(7),
    ];
    for (n, damage) in damages.iter().enumerate() {
        for path in cache_entries(&dir) {
            let mut bytes = std::fs::read(&path).unwrap();
            damage(&mut bytes);
            std::fs::write(&path, bytes).unwrap();
        }
        assert_same(&answers(&s, &dir, &[]), &reference, &format!("damage {n}"));
        // A damaged entry is replaced by a good one on the next run.
        assert_same(
            &answers(&s, &dir, &[]),
            &reference,
            &format!("after damage {n}"),
        );
    }
}

#[test]
fn entries_written_by_another_version_are_never_trusted() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let reference = answers(&s, &dir, &["--no-cache"]);
    answers(&s, &dir, &[]);
    // Make every entry claim another ovn version, with tampered content that would show if
    // it were used: descriptions and names in the folder entries, amounts in the answers.
    let version = format!("ovn {} ", env!("CARGO_PKG_VERSION"));
    let older = format!("ovn {} ", "9".repeat(env!("CARGO_PKG_VERSION").len()));
    let mut tampered = 0;
    // Every entry; the mark of the last pruning holds no key (only its time is read).
    let entries = cache_entries(&dir)
        .into_iter()
        .filter(|p| !p.ends_with("pruned"));
    for path in entries {
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(craft_entry(
            &mut bytes,
            version.as_bytes(),
            older.as_bytes()
        ));
        craft_entry(&mut bytes, b"ana", b"eve");
        craft_entry(&mut bytes, b"1150.00", b"9999.99");
        std::fs::write(&path, bytes).unwrap();
        tampered += 1;
    }
    assert!(tampered > 50);
    assert_same(&answers(&s, &dir, &[]), &reference, "another version");
}

#[test]
fn a_new_commit_reads_only_the_changed_folder_and_answers_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    answers(&s, &dir, &[]);
    let before = cache_entries(&dir);
    // One more contribution on a day that already has records, committed on top.
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "log",
            "3h",
            "Wiring harness",
            "-p",
            "drone",
            "--agent",
            "ben",
            "--date",
            "2026-03-03",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let reference = answers(&s, &dir, &["--no-cache"]);
    assert_same(&answers(&s, &dir, &[]), &reference, "after a commit");
    // The review of that commit, with its payout impact: the same cold, warm and without.
    let review = ["review", "HEAD~1..HEAD", "--amount", "3000"];
    let fresh = run(&s, &dir, &[&["--no-cache"][..], &review].concat());
    // Ana logged it for ben: the review flags that (exit 1).
    assert_eq!(fresh.0, 1, "{fresh:?}");
    assert!(fresh.1.contains("ben 3h work on drone"), "{}", fresh.1);
    assert!(fresh.1.contains("logged for ben by ana"), "{}", fresh.1);
    assert_eq!(run(&s, &dir, &review), fresh, "review, cold");
    assert_eq!(run(&s, &dir, &review), fresh, "review, warm");
    let after = cache_entries(&dir);
    let new_folders: Vec<&PathBuf> = after
        .iter()
        .filter(|p| {
            let p_text = p.to_string_lossy();
            // Answers and payout totals are kept by commit, and a claims report's checkpoint
            // by every part before it (the change is in an old month): new ones are expected.
            !before.contains(p)
                && !p_text.contains("/answers/")
                && !p_text.contains("/totals/")
                && !p_text.contains("/checkpoints/")
        })
        .collect();
    assert_eq!(
        new_folders.len(),
        1,
        "only the changed day folder is parsed again and cached: {new_folders:?}"
    );
}

#[test]
fn concurrent_cold_runs_agree_and_leave_whole_entries() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let reference = run(
        &s,
        &dir,
        &[
            "--no-cache",
            "payout",
            "3000",
            "-p",
            "drone",
            "--at",
            "HEAD",
        ],
    );
    let children: Vec<_> = (0..6)
        .map(|_| {
            s.ovn(&dir)
                .args(["payout", "3000", "-p", "drone", "--at", "HEAD"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), reference.1);
    }
    let leftovers: Vec<PathBuf> = cache_entries(&dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    assert_eq!(
        run(&s, &dir, &["payout", "3000", "-p", "drone", "--at", "HEAD"]),
        reference
    );
}

#[test]
fn the_working_tree_check_and_writes_do_not_depend_on_the_cache() {
    // The working tree has no tree ids: `ovn check` there always parses, and a record
    // payout is never answered from the cache (it writes).
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    answers(&s, &dir, &[]);
    let check = run(&s, &dir, &["check"]);
    assert_eq!(check, run(&s, &dir, &["--no-cache", "check"]));
    assert_eq!(check.0, 0, "{check:?}");
}

#[test]
fn entries_no_read_uses_go_after_a_week_and_answers_are_bounded() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let payout = ["payout", "3000", "-p", "drone", "--at", "HEAD"];
    let reference = run(&s, &dir, &payout);
    let in_use: Vec<PathBuf> = cache_entries(&dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/answers/"))
        .collect();
    // A stale entry (another version's, say) and every real one made to look 8 days old.
    let stale = cache_dir(&dir).join("ab/cdef0123456789abcdef0123456789abcdef01");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"old").unwrap();
    touch("8 days ago", std::iter::once(&stale).chain(&in_use));
    // A warm run removes nothing; a run that misses a folder prunes what no read uses.
    assert_eq!(run(&s, &dir, &payout), reference);
    assert!(stale.exists(), "a warm run touches nothing");
    let (code, out, err) = run(
        &s,
        &dir,
        &["log", "1h", "Sanding", "-p", "drone", "--agent", "cy"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        run(&s, &dir, &payout),
        run(&s, &dir, &[&["--no-cache"][..], &payout].concat())
    );
    assert!(!stale.exists(), "the stale entry is pruned");
    let kept = in_use.iter().filter(|p| p.exists()).count();
    assert_eq!(kept, in_use.len(), "entries still in use stay, however old");

    // Answers: at most AnswerCache::MAX are kept.
    let git_dir = s.work().join("answers-only");
    let cache = ovn::cache::AnswerCache::new(&git_dir);
    for i in 0..ovn::cache::AnswerCache::MAX + 40 {
        cache.put(&format!("question {i}"), 0, b"answer");
    }
    let count = std::fs::read_dir(
        git_dir
            .join(".")
            .join(ovn::cache::CACHE_DIR)
            .join("answers"),
    )
    .unwrap()
    .count();
    assert!(
        count <= ovn::cache::AnswerCache::MAX,
        "{count} answers kept"
    );
    assert_eq!(
        cache.get(&format!("question {}", ovn::cache::AnswerCache::MAX + 39)),
        Some((0, b"answer".to_vec())),
        "the newest answer is kept"
    );
}

#[test]
fn small_records_are_kept_by_blob_id_and_used_only_when_they_hash_to_it() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let payout = ["payout", "3000", "-p", "drone", "--at", "HEAD"];
    let no_cache = [&["--no-cache"][..], &payout].concat();
    run(&s, &dir, &payout);
    // One file, each small record under its blob id.
    let kept = kept_blobs(&dir);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let ana = s.git(&dir, &["rev-parse", "HEAD:agents/ana.toml"]);
    let bytes = std::fs::read(&kept[0]).unwrap();
    assert!(
        bytes.windows(40).any(|w| w == ana.trim().as_bytes()),
        "ana's record is kept under its blob id"
    );
    // Crafted (whole, its CRC made again): names changed in every kept record. A read after
    // a new commit takes the small records from the file, and finds none that hashes to its
    // id, so it answers as without a cache.
    let mut crafted = bytes.clone();
    assert!(craft_entry(&mut crafted, b"ana", b"eve"));
    std::fs::write(&kept[0], &crafted).unwrap();
    let (code, out, err) = run(
        &s,
        &dir,
        &["log", "1h", "Sanding", "-p", "drone", "--agent", "cy"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(run(&s, &dir, &payout), run(&s, &dir, &no_cache));
    assert_eq!(
        run(&s, &dir, &["check", "--at", "HEAD"]),
        run(&s, &dir, &["--no-cache", "check", "--at", "HEAD"])
    );
    // The file was written again with the records as git has them.
    let again = std::fs::read(&kept[0]).unwrap();
    assert_ne!(again, crafted);
    assert!(again.windows(40).any(|w| w == ana.trim().as_bytes()));
}

#[test]
fn another_versions_small_records_go_when_the_file_is_written_again() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let check = ["check", "--at", "HEAD"];
    run(&s, &dir, &check);
    let kept = kept_blobs(&dir);
    assert_eq!(kept.len(), 1, "{kept:?}");
    // What an older `ovn` left (its key names its version, so its file has another name),
    // and a file another run is still writing.
    let older = kept[0].with_file_name("0123456789abcdef0123456789abcdef01234567");
    let writing = kept[0].with_file_name(".tmp-1-1");
    std::fs::copy(&kept[0], &older).unwrap();
    std::fs::copy(&kept[0], &writing).unwrap();
    // Nothing read from git: nothing written, nothing removed.
    run(&s, &dir, &check);
    assert_eq!(kept_blobs(&dir).len(), 3);
    // A small record changed: read from git, the file written again, the older one gone.
    let cy = dir.join("agents/cy.toml");
    let text = std::fs::read_to_string(&cy).unwrap();
    std::fs::write(&cy, format!("{text}# moved to the east wing\n")).unwrap();
    s.git(&dir, &["commit", "-qam", "A note on cy"]);
    let (code, out, err) = run(&s, &dir, &check);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(kept_blobs(&dir), vec![writing.clone(), kept[0].clone()]);
    assert_eq!(
        run(&s, &dir, &check),
        run(&s, &dir, &[&["--no-cache"][..], &check].concat())
    );
}

#[test]
fn small_records_past_four_mebibytes_are_not_kept() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // 80 resource files of 60,000 bytes each (a long comment): 4.8 MB, past the bound.
    let filler = format!("# {}\n", "x".repeat(997)).repeat(60);
    for n in 0..80 {
        let text = format!("id = \"big{n}\"\nname = \"Big {n}\"\n{filler}");
        std::fs::write(dir.join(format!("resources/big{n}.toml")), text).unwrap();
    }
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "Large resources"]);
    let check = ["check", "--at", "HEAD"];
    let with = run(&s, &dir, &check);
    assert_eq!(with, run(&s, &dir, &[&["--no-cache"][..], &check].concat()));
    let kept = kept_blobs(&dir).len();
    assert_eq!(kept, 0, "nothing kept past the bound");
}

/// Every file in the cache's folder of small records (`blobs/`), sorted.
fn kept_blobs(dir: &Path) -> Vec<PathBuf> {
    cache_entries(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/blobs/"))
        .collect()
}

/// Sets the modification time of `paths` as `touch -d WHEN` reads it.
fn touch<P: AsRef<Path>>(when: &str, paths: impl IntoIterator<Item = P>) {
    let done = std::process::Command::new("touch")
        .args(["-d", when])
        .args(paths.into_iter().map(|p| p.as_ref().to_owned()))
        .status()
        .unwrap();
    assert!(done.success());
}

#[test]
fn folder_entries_are_pruned_at_most_once_an_hour() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let payout = ["payout", "3000", "-p", "drone", "--at", "HEAD"];
    let mark = cache_dir(&dir).join("pruned");
    // A run that reads folders from git prunes, and marks when.
    run(&s, &dir, &payout);
    assert!(mark.exists(), "the first fill prunes and leaves its mark");
    let stale = |name: &str| {
        let path = cache_dir(&dir).join("ab").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"old").unwrap();
        touch("8 days ago", [&path]);
        path
    };
    let new_commit = |what: &str| {
        let (code, out, err) = run(
            &s,
            &dir,
            &["log", "1h", what, "-p", "drone", "--agent", "cy"],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            run(&s, &dir, &payout),
            run(&s, &dir, &[&["--no-cache"][..], &payout].concat())
        );
    };
    // Within the hour, a run that misses a folder does not look again.
    let first = stale("cdef0123456789abcdef0123456789abcdef01");
    new_commit("Sanding");
    assert!(first.exists(), "pruned within the hour");
    // An hour after the last time, it does.
    touch("61 minutes ago", [&mark]);
    new_commit("Sealing");
    assert!(
        !first.exists(),
        "the stale entry is pruned once the hour is past"
    );
    // A mark from the future (a clock set back) is no mark.
    let second = stale("cdef0123456789abcdef0123456789abcdef02");
    touch("tomorrow", [&mark]);
    new_commit("Priming");
    assert!(
        !second.exists(),
        "a mark from the future does not hold pruning off"
    );
}

#[test]
fn answers_under_a_signed_policy_are_never_stored() {
    // Whether an approval's signature verifies depends on the machine's ssh set-up, not only
    // on the commits: such answers are always computed.
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    std::fs::write(
        dir.join("ovn.toml"),
        format!("{toml}\n[validation]\napprovals = 1\nsigned = true\n"),
    )
    .unwrap();
    s.git(&dir, &["commit", "-qam", "signed approvals"]);
    let report = ["report", "contributions", "--by", "agent", "--at", "HEAD"];
    let first = run(&s, &dir, &report);
    assert_eq!(first.0, 0, "{first:?}");
    assert_eq!(run(&s, &dir, &report), first);
    let answers = cache_entries(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/answers/"))
        .count();
    assert_eq!(answers, 0, "no answer stored under a signed policy");
}

/// The answer entries of the cache, and what each holds after its key.
fn answer_entries(dir: &Path) -> Vec<Vec<u8>> {
    cache_entries(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/answers/"))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn exports_and_the_site_are_answered_from_the_cache_warm_and_after_a_commit() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let export = ["export", "valueflows"];
    let site = |name: &str, extra: &[&str]| {
        let public = s.work().join(name);
        let args: Vec<&str> = extra
            .iter()
            .copied()
            .chain(["site", public.to_str().unwrap()])
            .collect();
        let (code, out, err) = run(&s, &dir, &args);
        let html = std::fs::read_to_string(public.join("index.html")).unwrap_or_default();
        (
            code,
            out.replace(public.to_str().unwrap(), "DIR"),
            err,
            html,
        )
    };
    for round in ["first commit", "after a commit"] {
        let reference = run(&s, &dir, &[&["--no-cache"][..], &export].concat());
        assert_eq!(reference.0, 0, "{reference:?}");
        let reference_site = site("reference", &["--no-cache"]);
        assert!(reference_site.3.contains("<html"), "{reference_site:?}");
        for state in ["cold", "warm"] {
            assert_eq!(
                run(&s, &dir, &export),
                reference,
                "{round}, {state}: export"
            );
            assert_eq!(site(state, &[]), reference_site, "{round}, {state}: site");
        }
        // The page is kept whole among the answers; the export as its day folders' parts
        // (see `cache::valueflows`), not a second time as an answer.
        let stored = answer_entries(&dir);
        assert!(
            !stored.iter().any(|e| e
                .windows(reference.1.len())
                .any(|w| w == reference.1.as_bytes())),
            "{round}: the export is not kept again as an answer"
        );
        assert!(
            stored.iter().any(|e| e
                .windows(reference_site.3.len())
                .any(|w| w == reference_site.3.as_bytes())),
            "{round}: the page is kept"
        );
        let (code, out, err) = run(
            &s,
            &dir,
            &[
                "log",
                "3h",
                "Wiring",
                "-p",
                "drone",
                "--agent",
                "ben",
                "--date",
                "2026-03-03",
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
    }
}

#[test]
fn an_export_written_to_a_file_is_the_one_written_to_standard_output() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let stdout = run(&s, &dir, &["export", "hledger"]);
    for _ in 0..2 {
        let file = s.work().join("books.journal");
        let (code, out, err) = run(
            &s,
            &dir,
            &["export", "hledger", "-o", file.to_str().unwrap()],
        );
        assert_eq!((code, out.as_str()), (0, ""), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout.1);
        assert_eq!(run(&s, &dir, &["export", "hledger"]), stdout);
    }
}
