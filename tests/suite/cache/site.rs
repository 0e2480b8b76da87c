//! `ovn site` after a new commit puts the page together from what each day folder added to
//! it before (kept parts), counting only the folders that changed. The page must be byte
//! for byte the `--no-cache` page after every kind of change: a new folder, an edit in an
//! old one, a correction across folders, a new rate, an agent renamed, a payout recorded.
//! Each change alters the page, so a part kept under too loose a key would show.

use std::path::Path;

use crate::common::{Sandbox, cache_dir, fablab_repo, lose_blob, run, write_files};

/// The page `ovn site` writes (and its exit code and output), into a folder of its own.
fn site(s: &Sandbox, dir: &Path, extra: &[&str]) -> (i32, String, String, String) {
    let public = s.work().join(format!("public-{}", extra.len()));
    let _ = std::fs::remove_dir_all(&public);
    let args: Vec<&str> = extra
        .iter()
        .copied()
        .chain(["site", public.to_str().unwrap()])
        .collect();
    let (code, out, err) = run(s, dir, &args);
    let html = std::fs::read_to_string(public.join("index.html")).unwrap_or_default();
    (
        code,
        out.replace(public.to_str().unwrap(), "DIR"),
        err,
        html,
    )
}

/// The page with the cache (its stored answers cleared, so it is put together from the
/// kept parts) and without; they must be the same. Returns the page.
fn like_no_cache(s: &Sandbox, dir: &Path, when: &str) -> String {
    let want = site(s, dir, &["--no-cache"]);
    assert_eq!(want.0, 0, "{when}: {want:?}");
    let _ = std::fs::remove_dir_all(cache_dir(dir).join("answers"));
    let got = site(s, dir, &[]);
    assert_eq!(got, want, "{when}: the page differs from --no-cache");
    want.3
}

fn commit(s: &Sandbox, dir: &Path, message: &str) {
    s.git(dir, &["add", "-A"]);
    s.git(dir, &["commit", "-q", "-m", message]);
}

/// A work contribution's path and text.
fn work(id: &str, date: &str, agent: &str, project: &str, extra: &str) -> (String, String) {
    (
        format!("contributions/{}/{id}.toml", date.replace('-', "/")),
        format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"{project}\"\nkind = \"work\"\ndescription = \"Site work\"\nhours = \"2\"\n{extra}"
        ),
    )
}

/// Flips a byte in the middle of every file in `folder`; how many there were.
fn damage_each(folder: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(folder).unwrap() {
        let path = e.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x41;
        std::fs::write(&path, bytes).unwrap();
        n += 1;
    }
    n
}

fn edit(dir: &Path, path: &str, from: &str, to: &str) {
    let file = dir.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{path}: {text}");
    std::fs::write(&file, text.replace(from, to)).unwrap();
}

#[test]
fn the_site_from_kept_parts_is_the_site_without_the_cache_after_every_change() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let mut page = like_no_cache(&s, &dir, "first commit");
    assert!(
        cache_dir(&dir).join("reports").is_dir(),
        "the folders' parts are kept"
    );
    let mut changed = |dir: &Path, when: &str| {
        let now = like_no_cache(&s, dir, when);
        assert_ne!(now, page, "{when}: the change shows on the page");
        page = now;
    };

    // A new day folder.
    let (path, text) = work(
        "01site00000000000000000001",
        "2026-07-01",
        "ben",
        "drone",
        "",
    );
    write_files(&dir, &[(&path, &text)]);
    commit(&s, &dir, "new work");
    changed(&dir, "a new folder");

    // An edit of a record in an old folder: its tree changes, and so must its part.
    edit(
        &dir,
        "contributions/2026/03/21/01km6v2300wppns1vc372wvz3n.toml",
        "hours = \"8\"",
        "hours = \"9\"",
    );
    commit(&s, &dir, "an edit");
    changed(&dir, "an edit in an old folder");

    // A correction in a new folder of a record of an old one, whose tree does not change:
    // its part must not be reused (the key names the corrections its records are targets of).
    let (path, text) = work(
        "01site00000000000000000002",
        "2026-07-05",
        "mehmet",
        "lab",
        "supersedes = \"01kdy02100c3nn0qbbet707xt2\"\n",
    );
    write_files(&dir, &[(&path, &text)]);
    commit(&s, &dir, "a correction");
    changed(&dir, "a correction across folders");

    // A new rate changes the claims of every old folder, whose trees do not change (the key
    // names the ledger's other entries).
    edit(
        &dir,
        "agreements/drone-ve.toml",
        "work = \"30\"",
        "work = \"31\"",
    );
    commit(&s, &dir, "a new rate");
    changed(&dir, "a new rate");

    // An agent renamed: the page names people from their records.
    edit(&dir, "agents/ben.toml", "Ben Okafor", "Benedict Okafor");
    commit(&s, &dir, "ben's name");
    changed(&dir, "an agent renamed");

    // A payout recorded: it settles debts and once claims of old folders.
    let (code, out, err) = run(&s, &dir, &["payout", "3000", "-p", "lab", "--record"]);
    assert_eq!(code, 0, "{out}{err}");
    changed(&dir, "a payout recorded");

    // Damaged kept parts are misses: the page is counted again, the same.
    damage_each(&cache_dir(&dir).join("reports"));
    assert_eq!(like_no_cache(&s, &dir, "damaged parts"), page);
    // So are damaged checkpoints (what was added up to a month's end, resumed from).
    let kept = damage_each(&cache_dir(&dir).join("checkpoints"));
    assert!(kept > 0, "checkpoints are kept");
    assert_eq!(like_no_cache(&s, &dir, "damaged checkpoints"), page);

    // The page really comes from kept parts: with a record of an old folder gone from the
    // object database, a full read fails and the page is still the same.
    let (path, text) = work(
        "01site00000000000000000003",
        "2026-07-09",
        "zoe",
        "seedbank",
        "",
    );
    write_files(&dir, &[(&path, &text)]);
    commit(&s, &dir, "more work");
    let want = like_no_cache(&s, &dir, "before the record is lost");
    lose_blob(
        &s,
        &dir,
        "HEAD:contributions/2026/03/21/01km6v2300wppns1vc372wvz3n.toml",
    );
    let (code, _, err, _) = site(&s, &dir, &["--no-cache"]);
    assert_ne!(code, 0, "without the cache the record is needed");
    assert!(err.contains("blob"), "{err}");
    let _ = std::fs::remove_dir_all(cache_dir(&dir).join("answers"));
    assert_eq!(site(&s, &dir, &[]).3, want, "the page from kept parts");
}
