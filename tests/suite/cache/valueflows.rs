//! `ovn export valueflows` put together from kept parts (each day folder's JSON-LD, rendered
//! once): after every kind of change, whether it touched the folders that changed or what
//! their text depends on elsewhere (the record a correction backs out, a resource's owners,
//! an agent, an approval), the export is byte for byte the one `--no-cache` renders, to
//! standard output and to a file alike.

use std::path::Path;

use crate::common::{self, Sandbox, cache_entries, fablab_repo, lose_blob, run, write_files};

/// The exports asked after each change.
const QUESTIONS: &[&[&str]] = &[
    &["export", "valueflows", "--at", "HEAD"],
    &[
        "export",
        "valueflows",
        "-p",
        "drone",
        "--since",
        "2026-02-01",
        "--at",
        "HEAD",
    ],
];

type Answer = (i32, String, String);

/// Asks every question with the cache (twice: once filling what a change left unkept, once
/// from the parts alone) and without, and compares; also written to a file.
fn assert_like_no_cache(s: &Sandbox, dir: &Path, when: &str) -> Vec<Answer> {
    let want = common::answers(s, dir, QUESTIONS, &["--no-cache"]);
    for round in ["filling", "kept"] {
        let got = common::answers(s, dir, QUESTIONS, &[]);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(w.0, 0, "{when}: {w:?}");
            assert!(
                g == w,
                "{when} ({round}): `ovn {}` differs from --no-cache",
                QUESTIONS[i].join(" ")
            );
        }
    }
    let file = s.work().join("ledger.jsonld");
    let (code, out, err) = run(
        s,
        dir,
        &["export", "valueflows", "-o", file.to_str().unwrap()],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), want[0].1, "{when}");
    want
}

fn commit(s: &Sandbox, dir: &Path, message: &str) {
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", message]);
}

/// Replaces `from` by `to` in the ledger file `path` (which must hold it) and commits.
fn edit(s: &Sandbox, dir: &Path, path: &str, from: &str, to: &str) {
    let path = dir.join(path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    commit(s, dir, &format!("{from} -> {to}"));
}

/// A work contribution's path and text.
fn contribution(id: &str, date: &str, agent: &str, project: &str, extra: &str) -> (String, String) {
    let folder = date.replace('-', "/");
    (
        format!("contributions/{folder}/{id}.toml"),
        format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"{project}\"\nkind = \"work\"\ndescription = \"Test work\"\nhours = \"2\"\n{extra}"
        ),
    )
}

fn add(s: &Sandbox, dir: &Path, file: (String, String), message: &str) {
    write_files(dir, &[(file.0.as_str(), file.1.as_str())]);
    commit(s, dir, message);
}

/// Every kept part file (the report cache's month files), as stored.
fn kept_parts(dir: &Path) -> Vec<u8> {
    cache_entries(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/reports/"))
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// The text of every zstd frame in `bytes` (the parts' packed texts), one after another.
fn unpacked(bytes: &[u8]) -> Vec<u8> {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(n) = bytes[at..].windows(4).position(|w| w == MAGIC) {
        at += n;
        let Ok(len) = zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]) else {
            at += 4;
            continue;
        };
        out.extend(zstd::bulk::decompress(&bytes[at..at + len], 1 << 24).unwrap());
        at += len;
    }
    out
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn kept_parts_follow_everything_their_text_depends_on() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let first = assert_like_no_cache(&s, &dir, "first commit");
    // The events are kept as parts, and the gigabyte a large export is not kept again among
    // the answers.
    let event = "\"@id\":\"ledger:contribution/01kmh4mz00en35sj7h3fp0ee38/";
    assert!(first[0].1.contains(event), "{}", first[0].1);
    // Packed: the text is kept, but not as text, and in fewer bytes than it takes.
    let parts = kept_parts(&dir);
    let text = unpacked(&parts);
    assert!(holds(&text, event));
    assert!(!holds(&parts, event));
    assert!(parts.len() < text.len(), "{} bytes", parts.len());
    assert!(
        !cache_entries(&dir)
            .iter()
            .any(|p| p.to_string_lossy().contains("/answers/")),
        "no answer stored"
    );

    // One new contribution in a new folder.
    add(
        &s,
        &dir,
        contribution(
            "01vfparts00000000000000001",
            "2026-07-01",
            "ben",
            "drone",
            "",
        ),
        "one more",
    );
    assert_like_no_cache(&s, &dir, "after a commit");

    // A correction, in a new folder, of a record of an old one (its back-out repeats the
    // record's quantities).
    let target = "contributions/2026/01/02/01kdy02100c3nn0qbbet707xt2.toml";
    add(
        &s,
        &dir,
        contribution(
            "01vfparts00000000000000002",
            "2026-07-02",
            "mehmet",
            "lab",
            "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
        ),
        "a correction",
    );
    let corrected = assert_like_no_cache(&s, &dir, "after a correction");
    let backout = "ledger:contribution/01vfparts00000000000000002/correction";
    assert!(corrected[0].1.contains(backout), "{}", corrected[0].1);

    // The corrected record edited where it is: the correction's folder is unchanged, but
    // its back-out is not.
    edit(&s, &dir, target, "quantity = \"10\"", "quantity = \"12\"");
    let edited = assert_like_no_cache(&s, &dir, "after the corrected record's edit");
    assert_ne!(corrected[0], edited[0], "the back-out follows the record");
    assert!(edited[0].1.contains("\"-12\""), "{}", edited[0].1);

    // A resource's shares: the use of it in old folders is provided by its owners by share.
    edit(
        &s,
        &dir,
        "resources/printer.toml",
        "{ agent = \"ana\", share = \"50%\" },\n  { agent = \"cy\", share = \"50%\" },",
        "{ agent = \"ana\", share = \"75%\" },\n  { agent = \"cy\", share = \"25%\" },",
    );
    let shares = assert_like_no_cache(&s, &dir, "after new shares");
    assert_ne!(edited[0], shares[0], "the use events follow the shares");

    // An agent renamed.
    edit(&s, &dir, "agents/ben.toml", "Ben Okafor", "Ben O.");
    let renamed = assert_like_no_cache(&s, &dir, "after a renamed agent");
    assert!(renamed[0].1.contains("Ben O."), "{}", renamed[0].1);

    // An approval of a record of an old folder.
    let (code, out, err) = run(&s, &dir, &["approve", "01kmh4mz00en35sj7h3fp0ee38"]);
    assert_eq!(code, 0, "{out}{err}");
    let approved = assert_like_no_cache(&s, &dir, "after an approval");
    assert!(
        approved[0]
            .1
            .contains("approval of contribution 01kmh4mz00en35sj7h3fp0ee38"),
        "{}",
        approved[0].1
    );

    // The network's currency: every money measure of every folder.
    edit(
        &s,
        &dir,
        "ovn.toml",
        "currency = \"EUR\"",
        "currency = \"CHF\"",
    );
    assert_like_no_cache(&s, &dir, "after a new currency");
}

#[test]
fn after_a_commit_only_the_changed_month_is_kept_again() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let first = assert_like_no_cache(&s, &dir, "first commit");
    let months = |dir: &Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        cache_entries(dir)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/reports/"))
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
    };
    let before = months(&dir);
    add(
        &s,
        &dir,
        contribution(
            "01vfparts00000000000000003",
            "2026-07-03",
            "ben",
            "drone",
            "",
        ),
        "one more",
    );
    // An old record gone from the object database: the export reads its folder from the
    // summaries and the kept parts, not from git.
    let (object, kept) = lose_blob(
        &s,
        &dir,
        "HEAD:contributions/2026/03/25/01kmh4mz00en35sj7h3fp0ee38.toml",
    );
    let (code, _, err) = run(&s, &dir, &["--no-cache", "export", "valueflows"]);
    assert_ne!(code, 0, "without the cache the record is needed");
    assert!(err.contains("blob"), "{err}");
    let got = common::answers(&s, &dir, QUESTIONS, &[]);
    std::fs::write(&object, kept).unwrap();
    let reference = assert_like_no_cache(&s, &dir, "after a commit");
    assert!(got == reference, "the export from kept parts differs");
    assert!(first != reference);
    // Only July's parts were written again (for each question); every other month's file
    // is as it was.
    let after = months(&dir);
    let unchanged = before.iter().filter(|b| after.contains(b)).count();
    assert_eq!(
        unchanged + QUESTIONS.len(),
        before.len(),
        "one month's parts written again"
    );
}
