//! `ovn log` in a checkout stages its record by rewriting git's index in one pass (see
//! `src/store/index.rs`). Whatever kind of index the repository has, git must afterwards see
//! exactly the commit: a clean status, the record staged with its blob, every other entry
//! (skip-worktree bits included) as it was, and a checksum git accepts.

use crate::common;

use std::path::Path;

use crate::common::{Sandbox, fablab_repo, run};

/// The index's version, and whether it holds cached trees (`TREE`).
fn index_kind(dir: &Path) -> (u32, bool) {
    let bytes = std::fs::read(dir.join(".git/index")).unwrap();
    let version = u32::from_be_bytes(bytes[4..8].try_into().unwrap());
    (version, bytes.windows(4).any(|w| w == b"TREE"))
}

/// The cached trees (`TREE`) of `.git/index` (versions 2 and 3): each folder's path and
/// whether it is valid; `None` without them.
fn cached_trees(dir: &Path) -> Option<Vec<(String, bool)>> {
    let b = std::fs::read(dir.join(".git/index")).unwrap();
    let word = |at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    if word(4) == 4 {
        return None;
    }
    let mut at = 12;
    for _ in 0..word(8) {
        let flags = u16::from_be_bytes([b[at + 60], b[at + 61]]);
        let name_at = at + 62 + if flags & 0x4000 != 0 { 2 } else { 0 };
        let nul = name_at + b[name_at..].iter().position(|&c| c == 0).unwrap();
        at += (nul - at + 8) / 8 * 8;
    }
    while at < b.len() - 20 {
        let size = word(at + 4);
        if &b[at..at + 4] == b"TREE" {
            return Some(tree_nodes(&b[at + 8..at + 8 + size]));
        }
        at += 8 + size;
    }
    None
}

/// The nodes of a `TREE` extension's data: (path, valid), depth first.
fn tree_nodes(d: &[u8]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut p = 0;
    while p < d.len() {
        let z = p + d[p..].iter().position(|&c| c == 0).unwrap();
        let nl = z + d[z..].iter().position(|&c| c == b'\n').unwrap();
        let name = String::from_utf8(d[p..z].to_vec()).unwrap();
        let (count, subs) = std::str::from_utf8(&d[z + 1..nl])
            .unwrap()
            .split_once(' ')
            .unwrap();
        let valid = count != "-1";
        p = nl + 1 + if valid { 20 } else { 0 };
        let path = match open.last_mut() {
            None => name,
            Some((parent, left)) => {
                *left -= 1;
                if parent.is_empty() {
                    name
                } else {
                    format!("{parent}/{name}")
                }
            }
        };
        while open.last().is_some_and(|o| o.1 == 0) {
            open.pop();
        }
        let subs: usize = subs.parse().unwrap();
        if subs > 0 {
            open.push((path.clone(), subs));
        }
        out.push((path, valid));
    }
    out
}

/// Logs one record and checks git agrees with the commit; returns its path.
fn log_and_check(s: &Sandbox, dir: &Path) -> String {
    let before = s.git(dir, &["ls-files", "-t"]);
    let had_trees = cached_trees(dir).is_some();
    let (code, out, err) = run(
        s,
        dir,
        &["log", "2h", "Index test", "-p", "drone", "--agent", "ana"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("index was not updated"), "{err}");
    let path = out
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("the record's path")
        .to_owned();
    assert_eq!(
        s.git(dir, &["status", "--porcelain"]),
        "",
        "status is clean"
    );
    // Staged with the committed blob, nothing else staged.
    s.git(dir, &["diff", "--cached", "--quiet", "HEAD"]);
    let staged = s.git(dir, &["ls-files", "-s", "--", &path]);
    let blob = s.git(dir, &["rev-parse", &format!("HEAD:{path}")]);
    assert!(staged.contains(blob.trim()), "{staged} vs {blob}");
    // Every other entry as it was (with its skip-worktree bit).
    let after = s.git(dir, &["ls-files", "-t"]);
    let mut kept: Vec<&str> = after.lines().filter(|l| !l.ends_with(&path)).collect();
    let mut was: Vec<&str> = before.lines().collect();
    kept.sort_unstable();
    was.sort_unstable();
    assert_eq!(kept, was);
    // Read-only (a refresh may write the index anew): the stat data matches the files.
    s.git(dir, &["diff-files", "--quiet"]);
    // Cached trees kept are invalid exactly above the record (as `git add` leaves them), so
    // the tree git writes from the index is the commit's.
    let trees = cached_trees(dir);
    assert_eq!(trees.is_some(), had_trees, "cached trees kept");
    if let Some(trees) = trees {
        assert!(
            trees.iter().filter(|(_, valid)| *valid).count() > 3,
            "{trees:?}"
        );
        for (folder, valid) in &trees {
            let above = folder.is_empty() || path.starts_with(&format!("{folder}/"));
            assert_eq!(*valid, !above, "{folder} for {path}");
        }
    }
    s.git(dir, &["fsck", "--no-progress"]);
    assert_eq!(
        s.git(dir, &["write-tree"]),
        s.git(dir, &["rev-parse", "HEAD^{tree}"])
    );
    path
}

#[test]
fn a_plain_index_is_rewritten_in_one_pass() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "plain");
    assert_eq!(
        index_kind(&dir),
        (2, true),
        "git's own index, with cached trees"
    );
    log_and_check(&s, &dir);
    // Written by the one-pass writer: the cached trees are kept, only those above the record
    // invalidated (`log_and_check` makes sure), the others still valid for git and for
    // `check --staged`.
    assert_eq!(index_kind(&dir), (2, true));
    // git commits on top of it as usual.
    s.git(&dir, &["commit", "-q", "--allow-empty", "-m", "after"]);
    assert!(index_kind(&dir).1, "git writes its cached trees again");
    log_and_check(&s, &dir);
    log_and_check(&s, &dir);
}

#[test]
fn a_sparse_checkout_keeps_its_skip_worktree_entries() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "sparse");
    s.git(
        &dir,
        &[
            "sparse-checkout",
            "set",
            "--cone",
            "agents",
            "projects",
            "resources",
            "agreements",
        ],
    );
    assert_eq!(index_kind(&dir).0, 3, "skip-worktree bits need version 3");
    let skipped = s
        .git(&dir, &["ls-files", "-t"])
        .lines()
        .filter(|l| l.starts_with("S "))
        .count();
    assert!(skipped > 300, "{skipped}");
    log_and_check(&s, &dir);
    assert_eq!(index_kind(&dir).0, 3);
}

#[test]
fn other_kinds_of_index_are_left_to_libgit2() {
    let s = Sandbox::new();
    // Version 4 (path compression), as `feature.manyFiles` sets it.
    let dir = fablab_repo(&s, "v4");
    s.git(&dir, &["update-index", "--index-version", "4"]);
    log_and_check(&s, &dir);
    assert_eq!(
        index_kind(&dir),
        (4, true),
        "written by libgit2, which keeps them"
    );

    // No checksum (`index.skipHash`): kept without one.
    let dir = fablab_repo(&s, "skiphash");
    s.git(&dir, &["config", "index.skipHash", "true"]);
    std::fs::remove_file(dir.join(".git/index")).unwrap();
    s.git(&dir, &["reset", "-q"]);
    let bytes = std::fs::read(dir.join(".git/index")).unwrap();
    assert_eq!(
        &bytes[bytes.len() - 20..],
        &[0; 20],
        "git wrote no checksum"
    );
    log_and_check(&s, &dir);
    let bytes = std::fs::read(dir.join(".git/index")).unwrap();
    assert_eq!(&bytes[bytes.len() - 20..], &[0; 20]);
}

/// The `sharedindex.*` files of a split index, with their bytes.
fn shared_indexes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join(".git"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("sharedindex."))
        .map(|name| {
            let bytes = std::fs::read(dir.join(".git").join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    found.sort();
    found
}

/// Whether `.git/index` links to a shared index (git's `link` extension).
fn is_split(dir: &Path) -> bool {
    let bytes = std::fs::read(dir.join(".git/index")).unwrap();
    bytes.windows(4).any(|w| w == b"link")
}

#[test]
fn a_split_index_takes_the_new_entries_and_leaves_its_shared_part_alone() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "split");
    // As README advises for a large checkout: git then keeps the index split whenever it
    // writes it.
    s.git(&dir, &["config", "core.splitIndex", "true"]);
    s.git(&dir, &["update-index", "--split-index"]);
    let shared = shared_indexes(&dir);
    assert_eq!(shared.len(), 1, "git wrote one shared index");
    let main_before = std::fs::metadata(dir.join(".git/index")).unwrap().len();
    for _ in 0..3 {
        log_and_check(&s, &dir);
    }
    assert!(is_split(&dir), "still split");
    assert_eq!(
        shared_indexes(&dir),
        shared,
        "the shared index is untouched"
    );
    let main_after = std::fs::metadata(dir.join(".git/index")).unwrap().len();
    assert!(
        main_after < main_before + 3 * 200,
        "only the three new entries were added: {main_before} -> {main_after} bytes"
    );
    // After git writes it itself (every entry replaced, with empty names, ahead of the added
    // ones), the same again.
    s.git(&dir, &["commit", "-q", "--allow-empty", "-m", "after"]);
    s.git(&dir, &["reset", "-q"]);
    assert!(is_split(&dir));
    log_and_check(&s, &dir);
    let (code, out, err) = run(&s, &dir, &["check"]);
    assert_eq!(code, 0, "{out}{err}");

    // libgit2 cannot read a split index; `ovn status` asks git for what is not committed.
    std::fs::write(dir.join("agents/ana.toml"), "# changed\n").unwrap();
    std::fs::write(dir.join("contributions/loose.toml"), "").unwrap();
    let (code, out, err) = run(&s, &dir, &["status"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("modified   agents/ana.toml"), "{out}");
    assert!(out.contains("new        contributions/loose.toml"), "{out}");
}

#[test]
fn a_split_index_whose_shared_part_clashes_is_left_as_it_was() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "clash");
    // A file staged where the record's day folder will be: git merges a split index's added
    // entries without looking for that, so the writer must not add one.
    let blob = s.git(&dir, &["rev-parse", "HEAD:ovn.toml"]);
    let info = format!("100644,{},contributions/2024/01/05", blob.trim());
    s.git(&dir, &["update-index", "--add", "--cacheinfo", &info]);
    s.git(&dir, &["update-index", "--split-index"]);
    let index = std::fs::read(dir.join(".git/index")).unwrap();
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, out, err) = run(
        &s,
        &dir,
        &[
            "log",
            "2h",
            "Clash",
            "-p",
            "drone",
            "--agent",
            "ana",
            "--date",
            "2024-01-05",
        ],
    );
    // Refused before anything is committed: a commit the index cannot follow is what a
    // user's next `git commit` would undo.
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("ovn cannot update git's index") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(err.contains("--no-commit"), "{err}");
    assert_eq!(s.git(&dir, &["rev-parse", "HEAD"]), head, "no commit");
    assert_eq!(
        std::fs::read(dir.join(".git/index")).unwrap(),
        index,
        "left as it was"
    );
    assert!(!dir.join(".git/index.lock").exists());
}

#[test]
fn a_sparse_index_is_refused_before_anything_is_committed() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "sparse-index");
    s.git(
        &dir,
        &["sparse-checkout", "init", "--cone", "--sparse-index"],
    );
    s.git(
        &dir,
        &[
            "sparse-checkout",
            "set",
            "agents",
            "projects",
            "contributions",
        ],
    );
    let index = std::fs::read(dir.join(".git/index")).unwrap();
    assert!(
        index.windows(4).any(|w| w == b"sdir"),
        "git wrote a sparse index"
    );
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, out, err) = run(
        &s,
        &dir,
        &["log", "2h", "Sparse", "-p", "drone", "--agent", "ana"],
    );
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("is a sparse index") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(
        err.contains("git sparse-checkout init --no-sparse-index") && err.contains("--no-commit"),
        "{err}"
    );
    assert_eq!(s.git(&dir, &["rev-parse", "HEAD"]), head, "no commit");
    assert_eq!(std::fs::read(dir.join(".git/index")).unwrap(), index);
    assert!(!dir.join(".git/index.lock").exists());
    assert_eq!(
        s.git(&dir, &["status", "--porcelain"]),
        "",
        "no file written"
    );

    // As the hint says: the sparse checkout stays, the index is a full one again, and the
    // record is committed and staged.
    s.git(&dir, &["sparse-checkout", "init", "--no-sparse-index"]);
    log_and_check(&s, &dir);
}

#[test]
fn a_large_index_without_a_split_gets_a_hint_once_it_is_worth_it() {
    use std::io::Write as _;
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "large");
    // A small checkout: no advice.
    let (code, _, err) = run(
        &s,
        &dir,
        &["log", "2h", "Small", "-p", "drone", "--agent", "ana"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("hint:"), "{err}");

    // About 190,000 more entries (one blob, staged by path only) make a 17 MiB index, past
    // the 16 MiB where advice starts.
    let blob = s.git(&dir, &["rev-parse", "HEAD:ovn.toml"]);
    let mut lines = String::new();
    for n in 0..190_000 {
        lines.push_str(&format!(
            "100644 {}\t0\tbulk/{:03}/file-{n:07}.toml\n",
            blob.trim(),
            n % 1000
        ));
    }
    let mut git = std::process::Command::new("git");
    common::hermetic(&mut git, &s.home());
    let mut child = git
        .args(["update-index", "--index-info"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let (code, _, err) = run(
        &s,
        &dir,
        &["log", "2h", "Large", "-p", "drone", "--agent", "ana"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("hint: git's index here is 1")
            && err.contains("git config core.splitIndex true"),
        "{err}"
    );

    // Taken (or declined): no more advice.
    s.git(&dir, &["config", "core.splitIndex", "true"]);
    s.git(&dir, &["update-index", "--split-index"]);
    let (code, _, err) = run(
        &s,
        &dir,
        &["log", "2h", "Split", "-p", "drone", "--agent", "ana"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("hint:"), "{err}");
    assert!(is_split(&dir));
}

#[test]
fn a_clash_in_the_shared_part_is_found_through_its_table_of_contents() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "clash-toc");
    // As in the test above, a file where a record's day folder will be; git writes a new
    // shared index holding it.
    let blob = s.git(&dir, &["rev-parse", "HEAD:ovn.toml"]);
    let info = format!("100644,{},contributions/2024/01/05", blob.trim());
    s.git(&dir, &["update-index", "--add", "--cacheinfo", &info]);
    s.git(&dir, &["update-index", "--split-index"]);
    // A log on another day is staged, and leaves the table of where the shared index's
    // entries start for the next write.
    let args = ["log", "2h", "Clash", "-p", "drone", "--agent", "ana"];
    let (code, out, err) = run(&s, &dir, &[&args[..], &["--date", "2024-01-06"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    let toc = dir.join(".git/ovn/sharedindex.toc");
    assert!(toc.exists());
    let made = std::fs::read(&toc).unwrap();
    // The next write looks through that table, and finds the clash all the same.
    let index = std::fs::read(dir.join(".git/index")).unwrap();
    let head = s.git(&dir, &["rev-parse", "HEAD"]);
    let (code, out, err) = run(&s, &dir, &[&args[..], &["--date", "2024-01-05"]].concat());
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("ovn cannot update git's index"), "{err}");
    assert_eq!(s.git(&dir, &["rev-parse", "HEAD"]), head, "no commit");
    assert_eq!(std::fs::read(dir.join(".git/index")).unwrap(), index);
    assert_eq!(
        std::fs::read(&toc).unwrap(),
        made,
        "the table was used as it was"
    );
    // A new shared index gets a table of its own.
    s.git(&dir, &["rm", "-q", "--cached", "contributions/2024/01/05"]);
    s.git(&dir, &["update-index", "--split-index"]);
    log_and_check(&s, &dir);
    assert_ne!(std::fs::read(&toc).unwrap(), made);
    let (code, out, err) = run(&s, &dir, &[&args[..], &["--date", "2024-01-05"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(s.git(&dir, &["status", "--porcelain"]), "");
}
