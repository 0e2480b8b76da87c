//! Reading the ledger as it is staged: the blobs git's index names, not the working tree.
//!
//! A pre-commit hook must judge what the commit will hold. The working tree is the wrong
//! thing to read: a new agent file left untracked is there but not in the commit, an edit
//! made after `git add` is in the file but not in the index. So the index is listed (through
//! libgit2, which reads index versions 2 to 4 and refuses the extensions it cannot read,
//! a split index among them) and every entry under the ledger is read as a revision's tree
//! entry would be: by its blob id, from git's objects, through the same reader as `--at`
//! (size limit before inflating, damaged objects reported, not looped on). An entry staged
//! as a symbolic link or a submodule is reported as not a file and never read, so nothing
//! on disk is followed. Conflicted paths (stages 1 to 3) have no staged content: they are
//! returned for the caller to refuse, as `git commit` would.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use git2::Oid;
use rayon::prelude::*;
use sha1::{Digest, Sha1};

use super::read::{Handle, LevelHook};
use super::{Store, StoreError};
use crate::core::ledger::{Loaded, NETWORK_FILE, RecordType, Role, classify, near_miss_folder};

mod entries;
mod unstaged;
mod vouch;

pub use vouch::{IndexFiles, IndexVouch};

use entries::Entry;

/// The ledger as staged, and what in the index a commit must not take as it is.
pub struct Staged {
    /// The staged ledger, checked.
    pub loaded: Loaded,
    /// Paths a commit of this index must not be made with.
    pub refused: Refused,
}

/// Ledger-relative paths that make the index unfit to commit, whatever the records say.
#[derive(Debug, Default)]
pub struct Refused {
    /// Paths with conflict stages in the index (nothing is staged for them).
    pub unmerged: Vec<String>,
    /// Records HEAD holds, unchanged in the working tree, that the index lacks: a commit
    /// would delete them, as only a `git commit` racing an `ovn` write leaves them (see
    /// `unstaged`).
    pub unstaged: Vec<String>,
    /// Whether the working tree was looked at (HEAD holds a record the index lacks, so what
    /// is reported depends on the files too, not on the index and HEAD alone).
    pub looked: bool,
}

/// Staged files (ledger-relative path, how to read it), sorted by path, and the paths that
/// make the index unfit to commit.
pub(crate) type StagedListing<H> = (Vec<(String, H)>, Refused);

/// The git file modes of a symbolic link and of a submodule (gitlink).
const LINK: u32 = 0o120000;
const GITLINK: u32 = 0o160000;

/// `git add -N` (intent to add): an entry with no content, which a commit does not hold.
const INTENT_TO_ADD: u16 = 1 << 13;

impl Store {
    /// Parses and checks the ledger as staged in git's index (`index_file` when git names
    /// another: see `index_to_commit`), from git alone. (The cached read, which takes
    /// unchanged day folders from the cache, is the cache layer's.)
    pub fn load_staged(&self, index_file: Option<&Path>) -> Result<Staged, StoreError> {
        let (items, refused) = self
            .list_staged::<Handle>(index_file, &mut |_, _, _| true)?
            .expect("a listing without a hook that gives up always completes");
        let loaded = self.load_items(items)?;
        Ok(Staged { loaded, refused })
    }

    /// The staged bytes of each of `paths` that the index holds as a regular file no larger
    /// than the size limit (for excerpts of problems), read with one listing of the index.
    pub fn read_staged_files(
        &self,
        index_file: Option<&Path>,
        paths: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Most checks point at nothing: then the index is not listed again at all.
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        // Only the day folders holding a path asked for are listed file by file; the others
        // are dropped from the listing (a million names are not made for a few excerpts).
        let wanted = |folder: &str| {
            paths
                .iter()
                .any(|p| p.strip_prefix(folder).is_some_and(|r| r.starts_with('/')))
        };
        let (items, _) = self
            .list_staged::<Handle>(index_file, &mut |folders, _, _| {
                folders.retain(|(folder, _)| wanted(folder));
                true
            })?
            .expect("a listing whose hook never gives up always completes");
        let odb = self
            .repo
            .odb()
            .map_err(StoreError::git("cannot open the object database"))?;
        let mut out = Vec::new();
        for path in paths {
            let Ok(at) = items.binary_search_by(|(p, _)| p.as_str().cmp(path)) else {
                continue;
            };
            let Handle::Blob(oid) = &items[at].1 else {
                continue;
            };
            // The size from the object's header, before inflating it.
            let (size, _) = odb
                .read_header(*oid)
                .map_err(StoreError::git("cannot read a staged blob"))?;
            if size > crate::core::parse::MAX_FILE_BYTES {
                continue;
            }
            let blob = super::loose::blob(&self.repo, *oid, "cannot read a staged blob")?;
            out.push(((*path).to_owned(), blob.content().to_vec()));
        }
        Ok(out)
    }

    /// The index the next commit is made from: `index_file` when git names one (see
    /// `Context::index_file`: `git commit -a` stages into a temporary index, leaving
    /// `.git/index` as it was, so reading that would let such a commit through unchecked),
    /// else the repository's.
    fn index_to_commit(&self, index_file: Option<&Path>) -> Result<git2::Index, StoreError> {
        match index_file {
            Some(path) => git2::Index::open(path).map_err(StoreError::git(
                "cannot read the index GIT_INDEX_FILE names",
            )),
            None => self
                .repo
                .index()
                .map_err(StoreError::git("cannot read git's index")),
        }
    }

    /// The index's entries under the ledger, as a listing reads them, sorted by path, and
    /// the unmerged paths.
    ///
    /// Like a revision's listing (`list_revision`), it shows `level` the day folders it
    /// found, each with the id of the tree git would write for it, and the blob id of
    /// `ovn.toml`, before listing their files: a cache takes those it knows out of the list
    /// and puts their files in itself. `None` when `level` gives up.
    pub(crate) fn list_staged<H: From<Handle> + Send>(
        &self,
        index_file: Option<&Path>,
        level: LevelHook<'_, H>,
    ) -> Result<Option<StagedListing<H>>, StoreError> {
        if self.repo.is_bare() {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        }
        let git_dir = self.repo.path();
        let path = index_file.map_or_else(|| git_dir.join("index"), Path::to_path_buf);
        // Read here when this reader understands the index (see `entries`); anything else
        // (no index yet, version 4, a sparse index, damage) through libgit2, as before, which
        // reads what it can and reports what it cannot.
        if let Ok(files) = entries::read(&path, git_dir)
            && let Some((entries, trees)) = files.entries()
        {
            return self.listing(&entries, &trees, level);
        }
        let index = self.index_to_commit(index_file)?;
        let owned: Vec<(Vec<u8>, u32, Oid, u8, bool)> = index
            .iter()
            .map(|e| {
                let stage = ((e.flags >> 12) & 3) as u8;
                let intent = e.flags_extended & INTENT_TO_ADD != 0;
                (e.path, e.mode, e.id, stage, intent)
            })
            .collect();
        let entries: Vec<Entry<'_>> = owned
            .iter()
            .map(|(path, mode, id, stage, intent)| Entry {
                path,
                mode: *mode,
                id: *id,
                stage: *stage,
                intent: *intent,
                stat: &entries::NO_STAT,
                unwatched: true,
            })
            .collect();
        self.listing(&entries, &entries::Trees::default(), level)
    }

    /// The listing of the index's `entries` (sorted by path): see [`Store::list_staged`].
    ///
    /// A day folder is offered to `level` only when every entry in it is a regular file
    /// staged with content (no conflict, no `git add -N`, no link or submodule, no folder
    /// below it, no name the ledger ignores): then its files are exactly what a revision
    /// holding its tree lists, and the tree's id is a hash of the entries, computed here as
    /// git computes it, unless the index's cached `trees` hold the folder's id (see
    /// [`entries::Trees`]). Any other folder is listed entry by entry, as it always was.
    ///
    /// Long because it is one pass over every entry of the index (a million of them), which
    /// groups the day folders, lists the rest and hands the folders to `level` in between.
    fn listing<H: From<Handle> + Send>(
        &self,
        entries: &[Entry<'_>],
        trees: &entries::Trees,
        level: LevelHook<'_, H>,
    ) -> Result<Option<StagedListing<H>>, StoreError> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut items: Vec<(String, H)> = Vec::new();
        let mut unmerged: Vec<String> = Vec::new();
        let mut settings = None;
        // Day folders whose tree may stand for them (folder, their entries in `entries`).
        let mut offered: Vec<(String, Range<usize>)> = Vec::new();
        let mut group: Option<(&[u8], usize, bool)> = None;
        let close = |group: Option<(&[u8], usize, bool)>,
                     end: usize,
                     items: &mut Vec<(String, H)>,
                     unmerged: &mut Vec<String>,
                     offered: &mut Vec<(String, Range<usize>)>| {
            let Some((folder, start, whole)) = group else {
                return;
            };
            match std::str::from_utf8(folder) {
                Ok(folder) if whole => offered.push((folder.to_owned(), start..end)),
                _ => {
                    for e in &entries[start..end] {
                        list_entry(e, &prefix, items, unmerged);
                    }
                }
            }
        };
        for (i, e) in entries.iter().enumerate() {
            let rel = e.path.strip_prefix(prefix.as_bytes());
            let folder = rel.and_then(day_folder_of);
            if group.is_some_and(|(g, _, _)| Some(g) != folder) {
                close(group.take(), i, &mut items, &mut unmerged, &mut offered);
            }
            if let Some(folder) = folder {
                let (_, _, whole) = group.get_or_insert((folder, i, true));
                *whole &= rel.is_some_and(|rel| plain_file(e, &rel[folder.len() + 1..], rel));
                continue;
            }
            if rel == Some(NETWORK_FILE.as_bytes())
                && e.stage == 0
                && !e.intent
                && !matches!(e.mode & 0o170000, LINK | GITLINK)
            {
                settings = Some(e.id);
            }
            list_entry(e, &prefix, &mut items, &mut unmerged);
        }
        close(
            group.take(),
            entries.len(),
            &mut items,
            &mut unmerged,
            &mut offered,
        );
        let Some(settings) = settings else {
            // No `ovn.toml` to key a cache on: every folder is listed as it is.
            for (_, range) in &offered {
                for e in &entries[range.clone()] {
                    list_entry(e, &prefix, &mut items, &mut unmerged);
                }
            }
            items.par_sort_by(|a, b| a.0.cmp(&b.0));
            let (unstaged, looked) = self.unstaged_records(entries, &HashMap::new())?;
            let refused = Refused {
                unmerged,
                unstaged,
                looked,
            };
            return Ok(Some((items, refused)));
        };
        // One range per folder, in order, or no folder is offered: a folder met twice (an
        // index not sorted by path) would be hashed in parts, and cached from the whole.
        if offered.windows(2).any(|w| w[0].0 >= w[1].0) {
            for (_, range) in std::mem::take(&mut offered) {
                for e in &entries[range] {
                    list_entry(e, &prefix, &mut items, &mut unmerged);
                }
            }
        }
        let mut folders: Vec<(String, Oid)> = offered
            .par_iter()
            .map(|(folder, range)| {
                let id = trees
                    .valid(format!("{prefix}{folder}").as_bytes(), range.len())
                    .unwrap_or_else(|| tree_id(&entries[range.clone()]));
                (folder.clone(), id)
            })
            .collect();
        let ids: HashMap<&str, Oid> = folders.iter().map(|(f, id)| (f.as_str(), *id)).collect();
        let (unstaged, looked) = self.unstaged_records(entries, &ids)?;
        drop(ids);
        if !level(&mut folders, settings, &mut items) {
            return Ok(None);
        }
        // The folders left are listed from the index; `folders` kept `offered`'s order.
        let mut left = folders.iter().peekable();
        for (folder, range) in &offered {
            if left.peek().is_some_and(|(f, _)| f == folder) {
                left.next();
                for e in &entries[range.clone()] {
                    list_entry(e, &prefix, &mut items, &mut unmerged);
                }
            }
        }
        // In path order, as the core wants them: a few sorted runs, merged in close to one
        // pass by a stable sort.
        items.par_sort_by(|a, b| a.0.cmp(&b.0));
        let refused = Refused {
            unmerged,
            unstaged,
            looked,
        };
        Ok(Some((items, refused)))
    }
}

/// Lists one index entry as the staged read always has: names that are not UTF-8 or not
/// under the ledger skipped (as a revision's listing skips them), conflicts to `unmerged`,
/// `git add -N` and ignored names skipped, links and submodules listed to be reported.
fn list_entry<H: From<Handle>>(
    e: &Entry<'_>,
    prefix: &str,
    items: &mut Vec<(String, H)>,
    unmerged: &mut Vec<String>,
) {
    let Ok(path) = std::str::from_utf8(e.path) else {
        return;
    };
    let Some(path) = path.strip_prefix(prefix) else {
        return;
    };
    if !in_ledger(path) {
        return;
    }
    if e.stage != 0 {
        if unmerged.last().map(String::as_str) != Some(path) {
            unmerged.push(path.to_owned());
        }
        return;
    }
    if e.intent || matches!(classify(path), Role::Ignored) {
        return;
    }
    let handle = match e.mode & 0o170000 {
        LINK => Handle::Special("a symbolic link"),
        GITLINK => Handle::Special("a submodule (gitlink)"),
        _ => Handle::Blob(e.id),
    };
    items.push((path.to_owned(), handle.into()));
}

/// The day folder (`contributions/2026/03/05`) a ledger path of the index is in, at any
/// depth below it: the folders a cache keeps (contributions and approvals).
fn day_folder_of(rel: &[u8]) -> Option<&[u8]> {
    let mut slashes = rel.iter().enumerate().filter(|(_, b)| **b == b'/');
    let (first, _) = slashes.next()?;
    let (end, _) = slashes.nth(2)?;
    let top = &rel[..first];
    let cached = [RecordType::Contribution, RecordType::Approval];
    cached
        .iter()
        .any(|k| k.folder().as_bytes() == top)
        .then_some(&rel[..end])
}

/// Whether an entry of a day folder (its `name` in the folder, its ledger path `rel`) is
/// one a revision's tree lists as it is: a regular file with content, directly in the
/// folder, under a UTF-8 name. (No name under a record folder is one the ledger ignores:
/// each is a record, a keep file or a stray, all listed.)
fn plain_file(e: &Entry<'_>, name: &[u8], rel: &[u8]) -> bool {
    e.stage == 0
        && !e.intent
        && matches!(e.mode, 0o100644 | 0o100755)
        && !name.contains(&b'/')
        && std::str::from_utf8(rel).is_ok()
}

/// The id of the tree git writes for a folder of regular files (`entries`, sorted by name,
/// as the index keeps them): `<mode> <name>\0<id>` for each, hashed as a tree object.
fn tree_id(entries: &[Entry<'_>]) -> Oid {
    folder_tree_id(entries.iter().map(|e| {
        let name = e.path.rsplit(|&b| b == b'/').next().unwrap_or(e.path);
        (name, e.mode == 0o100755, e.id)
    }))
}

/// The id of the tree git writes for a folder of regular files (`files`: name, whether it
/// is executable, blob id; sorted by name): `<mode> <name>\0<id>` for each, hashed as a tree
/// object. (The working tree's read hashes its day folders with it too.)
pub fn folder_tree_id<'a>(files: impl Iterator<Item = (&'a [u8], bool, Oid)>) -> Oid {
    let mut body = Vec::new();
    for (name, executable, id) in files {
        body.extend_from_slice(if executable { b"100755 " } else { b"100644 " });
        body.extend_from_slice(name);
        body.push(0);
        body.extend_from_slice(id.as_bytes());
    }
    let mut hasher = Sha1::new();
    hasher.update(format!("tree {}\0", body.len()).as_bytes());
    hasher.update(&body);
    Oid::from_bytes(&hasher.finalize()).unwrap_or(Oid::ZERO_SHA1)
}

/// Whether a path of the index is one the ledger reads: `ovn.toml`, or a file in a record
/// folder or a near miss of one (`Agents/`), as the working tree's listing has it.
fn in_ledger(path: &str) -> bool {
    if path == NETWORK_FILE {
        return true;
    }
    let Some((top, _)) = path.split_once('/') else {
        return false;
    };
    RecordType::ALL.iter().any(|k| k.folder() == top) || near_miss_folder(top).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_ledger_s_files_are_listed() {
        assert!(in_ledger("ovn.toml"));
        assert!(in_ledger("agents/ana.toml"));
        assert!(in_ledger("contributions/2026/01/02/x.toml"));
        assert!(!in_ledger("README.md"));
        assert!(!in_ledger("src/main.rs"));
        assert!(!in_ledger("agents"));
    }
}

#[cfg(test)]
mod tree_tests {
    use super::*;

    /// The tree id computed from the index's entries is the one git writes, executable bits
    /// and name order included, so a staged folder meets its committed self in the cache.
    #[test]
    fn a_folder_s_tree_id_is_the_one_git_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(tmp.path()).unwrap();
        let day = tmp.path().join("contributions/2026/01/02");
        std::fs::create_dir_all(&day).unwrap();
        for name in ["b.toml", "a.toml", "a-b.toml", "ab.toml"] {
            std::fs::write(day.join(name), format!("id = \"{name}\"\n")).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(day.join("b.toml"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let want = tree
            .get_path(Path::new("contributions/2026/01/02"))
            .unwrap()
            .id();
        let files = entries::read(&repo.path().join("index"), repo.path()).unwrap();
        let (listed, _) = files.entries().unwrap();
        assert_eq!(listed.len(), 4);
        assert!(listed.iter().any(|e| e.mode == 0o100755));
        assert_eq!(tree_id(&listed), want);
        assert_eq!(
            day_folder_of(b"contributions/2026/01/02/a.toml"),
            Some(&b"contributions/2026/01/02"[..])
        );
        assert_eq!(day_folder_of(b"contributions/2026/01/a.toml"), None);
        assert_eq!(day_folder_of(b"agents/a/b/c/d.toml"), None);
    }
}

#[cfg(test)]
mod cached_tree_tests {
    use super::*;

    /// The index's bytes with `from` replaced by `to` (once) and the checksum made anew when
    /// `sum` says so.
    fn edit(path: &Path, from: &[u8], to: &[u8], sum: bool) {
        let mut bytes = std::fs::read(path).unwrap();
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        bytes.splice(at..at + from.len(), to.iter().copied());
        if sum {
            let body = bytes.len() - 20;
            let digest = Sha1::digest(&bytes[..body]);
            bytes[body..].copy_from_slice(&digest);
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// A day folder untouched since git wrote its tree takes its id from the index's cached
    /// trees, the same id hashing gives; the folder a new file went into, a count that does
    /// not agree with the entries, or a damaged extension, and the entries are hashed.
    #[test]
    fn cached_trees_stand_for_folders_only_when_sound() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(tmp.path()).unwrap();
        let files = [
            "contributions/2026/01/02/a.toml",
            "contributions/2026/01/02/b.toml",
            "contributions/2026/01/03/c.toml",
            "contributions/2026/01/03/d.toml",
        ];
        let mut index = repo.index().unwrap();
        for (k, name) in files.iter().enumerate() {
            let full = tmp.path().join(name);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, format!("id = {k}\n")).unwrap();
            // The last one is added after the trees are written.
            if k < 3 {
                index.add_path(Path::new(name)).unwrap();
            }
        }
        index.write_tree().unwrap();
        index.add_path(Path::new(files[3])).unwrap();
        index.write().unwrap();
        let path = repo.path().join("index");
        fn folder<'a>(listed: &[Entry<'a>], f: &str) -> Vec<Entry<'a>> {
            let f = format!("{f}/");
            listed
                .iter()
                .filter(|e| e.path.starts_with(f.as_bytes()))
                .copied()
                .collect()
        }
        let read = entries::read(&path, repo.path()).unwrap();
        let (listed, trees) = read.entries().unwrap();
        let two = folder(&listed, "contributions/2026/01/02");
        let three = folder(&listed, "contributions/2026/01/03");
        assert_eq!((two.len(), three.len()), (2, 2));
        assert!(trees.len() >= 1, "{trees:?}");
        let day = b"contributions/2026/01/02";
        assert_eq!(trees.valid(day, 2), Some(tree_id(&two)));
        assert_eq!(trees.valid(day, 3), None, "the count must agree");
        assert_eq!(trees.valid(b"contributions/2026/01/03", 2), None);
        assert_eq!(trees.valid(b"contributions/2026/01/03", 1), None);

        // A count that is not the entries', checksum and all: not used.
        edit(&path, b"02\x002 0\n", b"02\x003 0\n", true);
        let read = entries::read(&path, repo.path()).unwrap();
        let (_, trees) = read.entries().unwrap();
        assert_eq!(trees.valid(day, 2), None);
        // Damage the checksum finds: nothing of the extension is used.
        edit(&path, b"02\x003 0\n", b"02\x002 0\n", false);
        let read = entries::read(&path, repo.path()).unwrap();
        let (listed, trees) = read.entries().unwrap();
        assert_eq!((listed.len(), trees.len()), (4, 0));
    }
}
