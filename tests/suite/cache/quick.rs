//! Quick loads: after a new commit on top of a cached ledger, `ovn check`, payout previews,
//! reviews, reports of contributions, claims (with a payout preview too) and resources, exports of payouts and the journals
//! (hledger, ledger, beancount) read the day
//! folders' summaries, kept report parts and the records picked before for a payout's
//! projects instead of every record. They must
//! answer byte for byte as `--no-cache` does, find every problem a full load finds (by
//! falling back to one), and really not need the records they do not read.

use std::path::Path;

use crate::common::{self, Sandbox, cache_dir, fablab_repo, lose_blob, run, write_files};

/// The questions asked after each commit.
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
    &["report", "contributions", "--at", "HEAD"],
    &[
        "report",
        "contributions",
        "--by",
        "project",
        "--by",
        "month",
        "--at",
        "HEAD",
        "--format",
        "csv",
    ],
    &[
        "report",
        "contributions",
        "--by",
        "skill",
        "--project",
        "drone",
        "--since",
        "2026-02-01",
        "--at",
        "HEAD",
    ],
    &["review", "HEAD~1..HEAD", "--amount", "3000"],
    &["report", "claims", "--at", "HEAD"],
    &[
        "report",
        "claims",
        "--agent",
        "ben",
        "--until",
        "2026-06-30",
        "--at",
        "HEAD",
        "--format",
        "json",
    ],
    &["export", "csv", "--at", "HEAD"],
    &["export", "json", "-p", "drone", "--at", "HEAD"],
    &["export", "hledger", "--at", "HEAD"],
    &[
        "export", "ledger", "--hours", "-p", "drone", "-p", "lab", "--at", "HEAD",
    ],
    &[
        "export",
        "beancount",
        "--hours",
        "--since",
        "2026-02-01",
        "--at",
        "HEAD",
    ],
    &[
        "report", "claims", "-p", "drone", "--amount", "3000", "--at", "HEAD",
    ],
    // A payout preview in the claims report with the report's other filters.
    &[
        "report",
        "claims",
        "-p",
        "drone",
        "--amount",
        "3000",
        "--until",
        "2026-06-30",
        "--format",
        "json",
        "--agent",
        "ben",
        "--at",
        "HEAD",
    ],
    &["report", "resources", "--at", "HEAD"],
    &[
        "report",
        "resources",
        "--project",
        "drone",
        "--since",
        "2026-02-01",
        "--at",
        "HEAD",
        "--format",
        "json",
    ],
];

type Answer = (i32, String, String);

fn answers(s: &Sandbox, dir: &Path, extra: &[&str]) -> Vec<Answer> {
    common::answers(s, dir, QUESTIONS, extra)
}

/// Asks every question with the cache (answers cleared, so each is worked out again from
/// the folder cache, the summaries and the kept parts) and without, and compares.
fn assert_like_no_cache(s: &Sandbox, dir: &Path, when: &str) -> Vec<Answer> {
    let want = answers(s, dir, &["--no-cache"]);
    let _ = std::fs::remove_dir_all(cache_dir(dir).join("answers"));
    let got = answers(s, dir, &[]);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{when}: `ovn {}` differs", QUESTIONS[i].join(" "));
    }
    want
}

/// The example ledger committed, every question asked once: the cache warm at its commit
/// (day folders, summaries, report parts, picks).
fn warm(s: &Sandbox) -> std::path::PathBuf {
    let dir = fablab_repo(s, "fablab");
    answers(s, &dir, &[]);
    dir
}

fn commit(s: &Sandbox, dir: &Path, message: &str) {
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", message]);
}

/// A contribution file's path and text.
fn contribution(id: &str, date: &str, agent: &str, project: &str, extra: &str) -> (String, String) {
    let folder = date.replace('-', "/");
    (
        format!("contributions/{folder}/{id}.toml"),
        format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"{project}\"\nkind = \"work\"\ndescription = \"Test work\"\nhours = \"2\"\n{extra}"
        ),
    )
}

fn add(s: &Sandbox, dir: &Path, files: &[(String, String)], message: &str) {
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    write_files(dir, &files);
    commit(s, dir, message);
}

#[test]
fn a_new_commit_is_answered_from_summaries_like_no_cache() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // Warm at the first commit: every folder cached, summarised, and its report parts kept.
    let first = answers(&s, &dir, &[]);
    assert_eq!(first[0].0, 0, "{first:?}");
    assert!(cache_dir(&dir).join("summaries").is_dir());
    assert!(cache_dir(&dir).join("reports").is_dir());

    // One new contribution, and a correction of one logged months earlier (its target is in
    // another day folder, which the new folder's summary cannot see).
    add(
        &s,
        &dir,
        &[
            contribution(
                "01quick0000000000000000001",
                "2026-07-01",
                "ben",
                "drone",
                "",
            ),
            contribution(
                "01quick0000000000000000002",
                "2026-07-01",
                "mehmet",
                "lab",
                "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
            ),
        ],
        "two more",
    );
    let reference = assert_like_no_cache(&s, &dir, "after a commit");
    assert_eq!(reference[0].0, 0, "{reference:?}");
    assert!(reference[0].1.starts_with("ok: "), "{}", reference[0].1);
    assert!(
        reference[7].1.contains("ben 2h work on drone"),
        "{}",
        reference[7].1
    );

    // The check and the reports really come from summaries and kept parts: with a record
    // of an old lab folder gone from the object database, a full load cannot read the
    // ledger any more, and the quick answers are still the same.
    assert_answered_without_the_lab_record(&s, &dir, &reference);
}

/// Loses a lab record's blob (a load of every record then fails), asks every question but
/// the lab's again, its stored answers cleared, and compares with `reference`: the payouts
/// and the review read the records of their projects (from the folder cache or picks),
/// which the missing lab record is not one of for drone.
fn assert_answered_without_the_lab_record(s: &Sandbox, dir: &Path, reference: &[Answer]) {
    lose_blob(
        s,
        dir,
        "HEAD:contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml",
    );
    let (code, _, err) = run(s, dir, &["--no-cache", "check", "--at", "HEAD"]);
    assert_eq!(code, 3, "without the cache the record is needed: {err}");
    assert!(err.contains("blob"), "{err}");
    let _ = std::fs::remove_dir_all(cache_dir(dir).join("answers"));
    for (i, q) in QUESTIONS.iter().enumerate() {
        if q.contains(&"lab") {
            continue;
        }
        assert_eq!(
            run(s, dir, q),
            reference[i],
            "`ovn {}` from summaries",
            q.join(" ")
        );
    }
}

#[test]
fn problems_across_folders_are_reported_as_a_full_load_reports_them() {
    let s = Sandbox::new();
    let dir = warm(&s);

    // An id used again in another day folder (a record copied to a new date).
    let (_, old) = contribution(
        "01kdy02100c3nn0qbbet707xt2",
        "2026-01-02",
        "mehmet",
        "lab",
        "",
    );
    add(
        &s,
        &dir,
        &[(
            "contributions/2026/07/02/01kdy02100c3nn0qbbet707xt2.toml".to_owned(),
            old.replace("2026-01-02", "2026-07-02"),
        )],
        "a copied id",
    );
    let got = assert_like_no_cache(&s, &dir, "duplicate id");
    assert_ne!(got[0].0, 0);
    assert!(got[0].1.contains("is used by 2 files"), "{}", got[0].1);
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);

    // An agent that old folders name, removed.
    std::fs::remove_file(dir.join("agents/chloe.toml")).unwrap();
    commit(&s, &dir, "chloe leaves");
    let got = assert_like_no_cache(&s, &dir, "removed agent");
    assert_ne!(got[0].0, 0);
    assert!(got[0].1.contains("unknown agent `chloe`"), "{}", got[0].1);
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);

    // A correction naming a record that does not exist, and one naming itself.
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000003",
            "2026-07-03",
            "ben",
            "drone",
            "reverses = \"01nosuchrecord000000000000\"\n",
        )],
        "bad correction",
    );
    let got = assert_like_no_cache(&s, &dir, "unknown correction target");
    assert_ne!(got[0].0, 0);
    assert!(got[0].1.contains("unknown contribution"), "{}", got[0].1);
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);

    // Too many hours on one day, from a new record on a day the cache has.
    add(
        &s,
        &dir,
        &[(
            "contributions/2026/03/03/01quick0000000000000000004.toml".to_owned(),
            contribution(
                "01quick0000000000000000004",
                "2026-03-03",
                "nuria",
                "drone",
                "",
            )
            .1
            .replace("hours = \"2\"", "hours = \"17\""),
        )],
        "a long day",
    );
    let got = assert_like_no_cache(&s, &dir, "day over 24 hours");
    assert_ne!(got[0].0, 0);
    assert!(got[0].1.contains("a day has 24 hours"), "{}", got[0].1);
}

/// Issue 21: a change with a problem (a record that is not TOML, beside a new drone record)
/// is answered from summaries, kept parts and picks as a clean one is: the checks' and the
/// reports' refusals, the payout preview's and the review's payout impact are those of
/// `--no-cache`, and stay so with the other folders' records gone from the cache and a lab
/// record's blob lost, when a load of every record could not read the commit.
#[test]
fn a_change_with_a_problem_is_answered_from_summaries_like_no_cache() {
    let s = Sandbox::new();
    let dir = warm(&s);
    add(
        &s,
        &dir,
        &[
            contribution(
                "01quick0000000000000000011",
                "2026-07-11",
                "chloe",
                "drone",
                "",
            ),
            (
                "contributions/2026/07/11/01quickbroken0000000000011.toml".to_owned(),
                "id = [\n".to_owned(),
            ),
        ],
        "a record that is not TOML",
    );
    let want = assert_like_no_cache(&s, &dir, "a record that is not TOML");
    assert_eq!(want[0].0, 1, "{want:?}");
    assert!(
        want[7].1.contains("chloe 2h work on drone"),
        "{}",
        want[7].1
    );

    // The reversal's target is asked for by name, so the folders naming it keep their
    // entries; the lab record lost is no drone payout's or review's.
    common::keep_only_folders_naming(&dir, &["01kt2t2j004b7r47nekbpn404h"]);
    assert_answered_without_the_lab_record(&s, &dir, &want);
}

#[test]
fn lost_or_damaged_summaries_and_parts_change_nothing() {
    let s = Sandbox::new();
    let dir = warm(&s);
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000005",
            "2026-07-04",
            "zoe",
            "seedbank",
            "",
        )],
        "one more",
    );
    let reference = answers(&s, &dir, &["--no-cache"]);
    // `checkpoints`: the claims report's sums as they stood at a month's end.
    for (n, target) in ["summaries", "reports", "picks", "totals", "checkpoints"]
        .iter()
        .enumerate()
    {
        let folder = cache_dir(&dir).join(target);
        assert!(folder.is_dir(), "{target} written by the quick loads");
        for e in std::fs::read_dir(&folder).unwrap() {
            let path = e.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            let i = bytes.len() / 2;
            bytes[i] ^= 0x41;
            std::fs::write(&path, bytes).unwrap();
        }
        assert_eq!(
            assert_like_no_cache(&s, &dir, &format!("damaged {target}")),
            reference
        );
        std::fs::remove_dir_all(&folder).unwrap();
        assert_eq!(
            assert_like_no_cache(&s, &dir, &format!("lost {target} ({n})")),
            reference
        );
        // Written again, whole.
        assert!(folder.is_dir(), "{target} written again");
        assert_eq!(assert_like_no_cache(&s, &dir, "again"), reference);
    }
}

#[test]
fn a_review_takes_the_base_side_from_totals_kept_by_a_payout() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    // The base's totals for drone at 3000, kept by a payout preview.
    let (code, _, err) = run(&s, &dir, &["payout", "3000", "-p", "drone", "--at", "HEAD"]);
    assert_eq!(code, 0, "{err}");
    let kept = cache_dir(&dir).join("totals");
    let count = || std::fs::read_dir(&kept).map_or(0, |d| d.count());
    assert_eq!(count(), 1, "one revision, one project, one amount");
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000007",
            "2026-07-02",
            "ben",
            "drone",
            "",
        )],
        "one more",
    );
    let review = ["review", "HEAD~1..HEAD", "--amount", "3000"];
    let no_cache: Vec<&str> = ["--no-cache"].iter().chain(&review).copied().collect();
    let want = run(&s, &dir, &no_cache);
    // Added by ana for ben, dated months before its commit: flagged (exit 1).
    assert_eq!(want.0, 1, "{want:?}");
    assert!(want.1.contains("logged for ben by ana"), "{}", want.1);
    assert!(want.1.contains("ben"), "ben's share grows: {}", want.1);
    assert_eq!(count(), 1, "--no-cache keeps nothing");
    assert_eq!(run(&s, &dir, &review), want, "with the base's kept totals");
    assert_eq!(count(), 2, "the head's totals are kept too");

    // Damaged or lost, they are worked out again, the same.
    for e in std::fs::read_dir(&kept).unwrap() {
        let path = e.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes.len() - 6;
        bytes[i] ^= 0x41;
        std::fs::write(&path, bytes).unwrap();
    }
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(run(&s, &dir, &review), want, "damaged totals");
    std::fs::remove_dir_all(&kept).unwrap();
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(run(&s, &dir, &review), want, "lost totals");
    assert_eq!(count(), 2, "written again");
}

#[test]
fn corrections_that_loop_across_folders_are_reported_as_a_full_load_reports_them() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    const OLD: &str = "contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml";
    // A correction of an old record, in its own folder, cached and summarised.
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000005",
            "2026-07-05",
            "ben",
            "drone",
            "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
        )],
        "a correction",
    );
    assert_eq!(answers(&s, &dir, &[])[0].0, 0);

    // The old record edited by hand to supersede its correction: a loop through a folder
    // the quick load knows only by its summary.
    let old = std::fs::read_to_string(dir.join(OLD)).unwrap();
    write_files(
        &dir,
        &[(
            OLD,
            &format!("{old}supersedes = \"01quick0000000000000000005\"\n"),
        )],
    );
    commit(&s, &dir, "a loop");
    let got = assert_like_no_cache(&s, &dir, "a loop through a summary");
    assert_eq!(got[0].0, 1, "{got:?}");
    assert!(got[0].1.contains("error[correction-loop]"), "{}", got[0].1);

    // Both records of a loop in summarised folders, then an unrelated commit.
    s.git(&dir, &["reset", "-q", "--hard", "HEAD~2"]);
    add(
        &s,
        &dir,
        &[
            contribution(
                "01quick0000000000000000006",
                "2026-07-06",
                "ben",
                "drone",
                "supersedes = \"01quick0000000000000000007\"\n",
            ),
            contribution(
                "01quick0000000000000000007",
                "2026-07-07",
                "ben",
                "drone",
                "supersedes = \"01quick0000000000000000006\"\n",
            ),
        ],
        "a loop",
    );
    assert_eq!(answers(&s, &dir, &[])[0].0, 1);
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000008",
            "2026-07-08",
            "ben",
            "drone",
            "",
        )],
        "more work",
    );
    let got = assert_like_no_cache(&s, &dir, "a loop in summaries");
    assert_eq!(got[0].0, 1, "{got:?}");
    assert!(got[0].1.contains("error[correction-loop]"), "{}", got[0].1);
}

#[test]
fn kept_claims_follow_the_agreements_rates_and_corrections_they_were_counted_with() {
    let s = Sandbox::new();
    let dir = warm(&s);
    // A rate changes every claim of old folders, whose trees do not change: their kept
    // parts must not be reused (the key names the ledger's other entries).
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("work = \"30\"", "work = \"31\"")).unwrap();
    commit(&s, &dir, "a new rate");
    let before = assert_like_no_cache(&s, &dir, "after a new rate");
    // A correction of a record of an old folder: that folder's part must not be reused
    // (the key names the corrections its records are targets of).
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000009",
            "2026-07-05",
            "mehmet",
            "lab",
            "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
        )],
        "a correction",
    );
    let after = assert_like_no_cache(&s, &dir, "after a correction");
    let claims = QUESTIONS
        .iter()
        .position(|q| q.starts_with(&["report", "claims"]))
        .unwrap();
    assert_ne!(
        before[claims], after[claims],
        "the correction changes the claims"
    );
    // An edit of an old record: its folder's tree changes, and so must its part.
    let old = dir.join("contributions/2026/03/21/01km6v2300wppns1vc372wvz3n.toml");
    let text = std::fs::read_to_string(&old).unwrap();
    assert!(text.contains("hours = \"8\""), "{text}");
    std::fs::write(&old, text.replace("hours = \"8\"", "hours = \"9\"")).unwrap();
    commit(&s, &dir, "an edit");
    let edited = assert_like_no_cache(&s, &dir, "after an edit");
    assert_ne!(after[claims], edited[claims], "the edit changes the claims");
}

#[test]
fn kept_resources_follow_the_corrections_and_edits_of_their_uses() {
    let s = Sandbox::new();
    let dir = warm(&s);
    let resources = |answers: &[Answer]| {
        let i = QUESTIONS
            .iter()
            .position(|q| q.starts_with(&["report", "resources"]))
            .unwrap();
        answers[i].1.clone()
    };
    let before = assert_like_no_cache(&s, &dir, "warm");
    // A reversal, months later, of the printer's use by drone in an old folder: that
    // folder's kept part must not be reused (its key names the corrections of its records).
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000012",
            "2026-07-12",
            "cy",
            "drone",
            "reverses = \"01kmh4mz00en35sj7h3fp0ee38\"\n",
        )],
        "a reversal of a use",
    );
    let reversed = assert_like_no_cache(&s, &dir, "after a reversal of a use");
    assert_ne!(
        resources(&before),
        resources(&reversed),
        "the reversal takes the printer's 10 hours off drone"
    );
    // An edit of an old use: its folder's tree changes, and so must its part.
    let old = dir.join("contributions/2026/03/05/01kjxmpk00z5bxameca1h8cacx.toml");
    let text = std::fs::read_to_string(&old).unwrap();
    std::fs::write(&old, text.replace("hours = \"2\"", "hours = \"5\"")).unwrap();
    commit(&s, &dir, "an edit of a use");
    let edited = assert_like_no_cache(&s, &dir, "after an edit of a use");
    assert_ne!(
        resources(&reversed),
        resources(&edited),
        "the edit adds three hours of the van"
    );
}

/// A payout preview in the claims report reads the project's records (its payout's own
/// level: a bucket paying a sub-project pays it one line), the others summarised, and
/// answers as `--no-cache` does for projects that pay sub-projects and are paid by one.
#[test]
fn a_preview_in_the_claims_report_of_a_cascade_answers_like_no_cache() {
    let s = Sandbox::new();
    let dir = common::cascade_repo(&s, "casc");
    let questions: &[&[&str]] = &[
        &[
            "report", "claims", "-p", "drone", "--amount", "3000", "--at", "HEAD",
        ],
        &[
            "report", "claims", "-p", "lab", "--amount", "500", "--at", "HEAD", "--format", "json",
        ],
        &["payout", "3000", "-p", "drone", "--at", "HEAD"],
    ];
    common::answers(&s, &dir, questions, &[]);
    // New work for the fund, two levels below drone, in a day folder of its own.
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000013",
            "2026-07-13",
            "ana",
            "fund",
            "",
        )],
        "work for the fund",
    );
    let want = common::answers(&s, &dir, questions, &["--no-cache"]);
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    let got = common::answers(&s, &dir, questions, &[]);
    assert_eq!(got, want);
    assert!(want.iter().all(|a| a.0 == 0), "{want:?}");
    assert!(want[0].1.contains("drone"), "{}", want[0].1);
}

#[test]
fn kept_books_follow_the_agreements_and_corrections_they_were_rendered_with() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let books = QUESTIONS
        .iter()
        .position(|q| q.starts_with(&["export", "hledger"]))
        .unwrap();
    let hours = QUESTIONS
        .iter()
        .position(|q| q.starts_with(&["export", "ledger", "--hours"]))
        .unwrap();
    let first = answers(&s, &dir, &[]);
    assert!(
        first[books].1.contains("; bucket: reimbursement"),
        "{}",
        first[books].1
    );
    // A bucket renamed: every debt claim of old folders is booked to it, though their trees
    // do not change, so their kept parts must not be reused (the key names the ledger's
    // other entries).
    let path = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("name = \"reimbursement\"", "name = \"refunds\""),
    )
    .unwrap();
    commit(&s, &dir, "a bucket renamed");
    let renamed = assert_like_no_cache(&s, &dir, "after a bucket renamed");
    assert!(
        renamed[books].1.contains("; bucket: refunds"),
        "{}",
        renamed[books].1
    );
    // A correction of a record of an old folder (material, so a debt claim, and hours): its
    // folder's part must not be reused (the key names the corrections its records are
    // targets of).
    add(
        &s,
        &dir,
        &[contribution(
            "01quick0000000000000000010",
            "2026-07-05",
            "mehmet",
            "lab",
            "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
        )],
        "a correction",
    );
    let corrected = assert_like_no_cache(&s, &dir, "after a correction");
    assert!(
        renamed[books].1.contains("(01kdy02100c3nn0qbbet707xt2)")
            && !corrected[books].1.contains("(01kdy02100c3nn0qbbet707xt2)"),
        "the correction books the record no more: {}",
        corrected[books].1
    );
    assert_ne!(renamed[hours], corrected[hours], "nor its hours");
}
