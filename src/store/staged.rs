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

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use git2::Oid;
use rayon::prelude::*;
use sha1::{Digest, Sha1};

use super::read::{Handle, LevelHook};
use super::{Store, StoreError};
use crate::core::ledger::{Loaded, NETWORK_FILE, RecordType, Role, classify, near_miss_folder};

mod digest;
mod entries;
mod unstaged;
mod vouch;

pub use digest::SharedDigests;
pub use vouch::{IndexFiles, IndexVouch};

use digest::{Group, Grouped, Held, SharedDigest, SharedFile};
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
            .list_staged::<Handle>(index_file, &mut |_, _, _| true, None)?
            .expect("a listing without a hook that gives up always completes");
        let loaded = self.load_items(items)?;
        Ok(Staged { loaded, refused })
    }

    /// The staged bytes of each of `paths` that the index holds as a regular file no larger
    /// than the size limit (for excerpts of problems), read with one listing of the index
    /// (through `digests`, when given, as `list_staged` reads it).
    pub fn read_staged_files(
        &self,
        index_file: Option<&Path>,
        paths: &[&str],
        digests: Option<&dyn SharedDigests>,
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
            .list_staged::<Handle>(
                index_file,
                &mut |folders, _, _| {
                    folders.retain(|(folder, _)| wanted(folder));
                    true
                },
                digests,
            )?
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
            if size > crate::core::parse::max_bytes(path) {
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
    /// and puts their files in itself. `None` when `level` gives up. With `digests`, a split
    /// index's shared part is read through its digest (see `digest`), kept there when it is
    /// read whole.
    pub(crate) fn list_staged<H: From<Handle> + Send>(
        &self,
        index_file: Option<&Path>,
        level: LevelHook<'_, H>,
        digests: Option<&dyn SharedDigests>,
    ) -> Result<Option<StagedListing<H>>, StoreError> {
        if self.repo.is_bare() {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        }
        let git_dir = self.repo.path();
        let path = index_file.map_or_else(|| git_dir.join("index"), Path::to_path_buf);
        let prefix = self.prefix_slash();
        // Read here when this reader understands the index (see `entries`); anything else
        // (no index yet, version 4, a sparse index, damage) through libgit2, as before, which
        // reads what it can and reports what it cannot.
        if let Some(digests) = digests
            && let Some(listed) = self.list_digested_whole(&path, digests, &mut *level)?
        {
            return Ok(listed);
        }
        if let Ok(files) = entries::read(&path, git_dir) {
            if let Some(digests) = digests
                && let Some(listed) = self.list_digested(&files, digests, &mut *level)?
            {
                return Ok(listed);
            }
            if let Some((entries, trees)) = files.entries() {
                if let Some(digests) = digests
                    && let Some((id, shared)) = files.shared()
                    && let Some(digest) = SharedDigest::of(shared, prefix.as_bytes())
                {
                    digests.put(id, &self.prefix, &digest.encode());
                }
                let grouped = group(&entries, prefix.as_bytes(), &trees);
                let listed = self.finish_listing(grouped, None, level)?;
                // A listing given up is about to be made again (a cold cache filled first):
                // an index with no shared part is digested whole for it, under its own
                // checksum, so the second listing does not read it again.
                if listed.is_none()
                    && let Some(digests) = digests
                    && files.shared().is_none()
                    && let Some((id, own)) = files.own_bytes()
                    && !id.is_zero()
                    && let Some(digest) = SharedDigest::of(own, prefix.as_bytes())
                {
                    digests.put(id, &self.prefix, &digest.encode());
                }
                return Ok(listed);
            }
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
        let grouped = group(&entries, prefix.as_bytes(), &entries::Trees::default());
        self.finish_listing(grouped, None, level)
    }

    /// [`Store::list_staged`] of a split index whose shared part `digests` holds a digest
    /// of (see `digest`): the small file and the digest read, and from the shared file only
    /// the day folders the small file touches (and those `level` leaves). `None`, with
    /// `level` not called, when there is no such digest or it does not fit the index: the
    /// whole index is read then.
    fn list_digested<H: From<Handle> + Send>(
        &self,
        files: &entries::Files,
        digests: &dyn SharedDigests,
        level: LevelHook<'_, H>,
    ) -> Result<Option<Option<StagedListing<H>>>, StoreError> {
        let Some(own) = files.own() else {
            return Ok(None);
        };
        let Some(link) = own.link.as_ref().filter(|l| l.shared != [0; entries::HASH]) else {
            return Ok(None);
        };
        let digest = Oid::from_bytes(&link.shared)
            .ok()
            .and_then(|id| digests.get(id, &self.prefix))
            .and_then(|bytes| SharedDigest::decode(&bytes));
        let Some(digest) = digest else {
            return Ok(None);
        };
        let file = files
            .shared_paths(&link.shared)
            .and_then(|paths| digest.file(&link.shared, &paths));
        let Some(file) = file else {
            return Ok(None);
        };
        let prefix = self.prefix_slash();
        let Some(plan) = digest.plan(own.entries, link, prefix.as_bytes()) else {
            return Ok(None);
        };
        let read = plan
            .touched()
            .into_iter()
            .map(|(offset, len)| file.bytes(offset, len))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::io(file.path(), "cannot read", e))?;
        // The small file's cached trees, trusted as a whole index's are (see `entries`).
        let trees = own
            .tree
            .filter(|_| files.own_checksum_holds())
            .and_then(|data| entries::read_trees(data, usize::MAX))
            .unwrap_or_default();
        match plan.grouped(&read, &trees) {
            Some(grouped) => self.finish_listing(grouped, Some(&file), level).map(Some),
            None => Ok(None),
        }
    }

    /// [`Store::list_staged`] of an index file `digests` holds a digest of whole, under its
    /// own checksum (one with no shared part, digested when a listing of it was given up),
    /// without reading it: the day folders are read from it, by byte range, only where
    /// `level` leaves them. `None`, with `level` not called, when there is no such digest
    /// (every index file git writes has a checksum of its own).
    fn list_digested_whole<H: From<Handle> + Send>(
        &self,
        path: &Path,
        digests: &dyn SharedDigests,
        level: LevelHook<'_, H>,
    ) -> Result<Option<Option<StagedListing<H>>>, StoreError> {
        let Some(id) = digest::checksum_of(path) else {
            return Ok(None);
        };
        let digest = Oid::from_bytes(&id)
            .ok()
            .and_then(|oid| digests.get(oid, &self.prefix))
            .and_then(|bytes| SharedDigest::decode(&bytes));
        let Some(digest) = digest else {
            return Ok(None);
        };
        let Some(file) = digest.file(&id, std::slice::from_ref(&path.to_path_buf())) else {
            return Ok(None);
        };
        let prefix = self.prefix_slash();
        let whole = entries::Link {
            shared: id,
            delete: Vec::new(),
            replace: Vec::new(),
        };
        let grouped = digest
            .plan(Vec::new(), &whole, prefix.as_bytes())
            .and_then(|plan| plan.grouped(&[], &entries::Trees::default()));
        match grouped {
            Some(grouped) => self.finish_listing(grouped, Some(&file), level).map(Some),
            None => Ok(None),
        }
    }

    /// The ledger's place in the repository as a path prefix: empty, or ending in `/`.
    fn prefix_slash(&self) -> String {
        if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }

    /// The listing of the index's entries under the ledger (`grouped`; the day folders left
    /// in a split index's `shared` file read from it when needed): see
    /// [`Store::list_staged`].
    ///
    /// A day folder is offered to `level` only when every entry in it is a regular file
    /// staged with content (no conflict, no `git add -N`, no link or submodule, no folder
    /// below it, no name the ledger ignores): then its files are exactly what a revision
    /// holding its tree lists, and the tree's id is the one its group carries. Any other
    /// folder is listed entry by entry, as it always was.
    fn finish_listing<H: From<Handle> + Send>(
        &self,
        grouped: Grouped<'_>,
        shared: Option<&SharedFile>,
        level: LevelHook<'_, H>,
    ) -> Result<Option<StagedListing<H>>, StoreError> {
        let prefix = self.prefix_slash();
        let mut items: Vec<(String, H)> = Vec::new();
        let mut unmerged: Vec<String> = Vec::new();
        let mut settings = None;
        for e in &grouped.others {
            if e.path.strip_prefix(prefix.as_bytes()) == Some(NETWORK_FILE.as_bytes())
                && e.stage == 0
                && !e.intent
                && !matches!(e.mode & 0o170000, LINK | GITLINK)
            {
                settings = Some(e.id);
            }
            list_entry(e, &prefix, &mut items, &mut unmerged);
        }
        // One group per folder, in order, or no folder is offered: a folder met twice (an
        // index not sorted by path) would be hashed in parts, and cached from the whole.
        // Without `ovn.toml` there is nothing to key a cache on: every folder is listed.
        let offer = settings.is_some() && grouped.folders.windows(2).all(|w| w[0].path < w[1].path);
        let mut offered: Vec<usize> = Vec::new();
        let mut folders: Vec<(String, Oid)> = Vec::new();
        for (n, g) in grouped.folders.iter().enumerate() {
            let rel = g.path.strip_prefix(prefix.as_bytes());
            match (offer, g.tree, rel.and_then(|r| std::str::from_utf8(r).ok())) {
                (true, Some(tree), Some(rel)) => {
                    offered.push(n);
                    folders.push((rel.to_owned(), tree));
                }
                _ => list_group(g, shared, &prefix, &mut items, &mut unmerged)?,
            }
        }
        let ids: HashMap<&str, Oid> = folders.iter().map(|(f, id)| (f.as_str(), *id)).collect();
        let failed = std::cell::RefCell::new(None);
        let staged = |path: &str| {
            grouped
                .staged(
                    format!("{prefix}{path}").as_bytes(),
                    prefix.as_bytes(),
                    shared,
                )
                .unwrap_or_else(|e| {
                    failed.borrow_mut().get_or_insert(e);
                    false
                })
        };
        let (unstaged, looked) = self.unstaged_records(&staged, &ids)?;
        if let Some(e) = failed.into_inner() {
            return Err(e);
        }
        drop(ids);
        if let Some(settings) = settings
            && !level(&mut folders, settings, &mut items)
        {
            return Ok(None);
        }
        // The folders left are listed from the index; `folders` kept `offered`'s order.
        let mut left = folders.iter().peekable();
        for n in offered {
            let g = &grouped.folders[n];
            let rel = g.path.strip_prefix(prefix.as_bytes()).unwrap_or_default();
            if left.peek().is_some_and(|(f, _)| f.as_bytes() == rel) {
                left.next();
                list_group(g, shared, &prefix, &mut items, &mut unmerged)?;
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

/// The index's `entries` (sorted by path) under the ledger at `prefix`, grouped: the day
/// folders, each with the id of the tree git writes for it when it may stand for its files
/// (from the index's cached `trees`, else hashed), and the other entries.
fn group<'a>(entries: &'a [Entry<'a>], prefix: &[u8], trees: &entries::Trees) -> Grouped<'a> {
    let mut others = Vec::new();
    let mut ranges: Vec<(&[u8], Range<usize>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(rel) = strip(e.path, prefix) else {
            continue;
        };
        let Some(folder) = day_folder_of(rel) else {
            others.push(*e);
            continue;
        };
        let path = &e.path[..prefix.len() + folder.len()];
        match ranges.last_mut() {
            Some((last, range)) if range.end == i && same(last, path) => range.end = i + 1,
            _ => ranges.push((path, i..i + 1)),
        }
    }
    let folders = ranges
        .into_par_iter()
        .map(|(path, range)| {
            let held = &entries[range];
            Group {
                path,
                tree: tree_of(path, held, trees),
                held: Held::Here(Cow::Borrowed(held)),
            }
        })
        .collect();
    Grouped { others, folders }
}

/// Lists the entries of the day folder `g` (read from the `shared` file when they are
/// there) as [`list_entry`] does.
fn list_group<H: From<Handle>>(
    g: &Group<'_>,
    shared: Option<&SharedFile>,
    prefix: &str,
    items: &mut Vec<(String, H)>,
    unmerged: &mut Vec<String>,
) -> Result<(), StoreError> {
    with_entries(g, shared, |entries| {
        for e in entries {
            list_entry(e, prefix, items, unmerged);
        }
    })
}

/// Calls `f` with the entries of the day folder `g`, read from the `shared` file when they
/// are there; an error when they cannot be read, or do not read as its digest says.
fn with_entries<R>(
    g: &Group<'_>,
    shared: Option<&SharedFile>,
    f: impl FnOnce(&[Entry<'_>]) -> R,
) -> Result<R, StoreError> {
    let (offset, len, count) = match &g.held {
        Held::Here(entries) => return Ok(f(entries)),
        Held::Shared { offset, len, count } => (*offset, *len, *count),
    };
    let corrupt = |path: &Path| {
        let reason = "a folder's entries are not where the index's digest has them";
        StoreError::io(path, "cannot read", std::io::Error::other(reason))
    };
    let Some(shared) = shared else {
        return Err(corrupt(Path::new("the shared index")));
    };
    let bytes = shared
        .bytes(offset, len)
        .map_err(|e| StoreError::io(shared.path(), "cannot read", e))?;
    let entries = shared
        .entries(&bytes, count)
        .ok_or_else(|| corrupt(shared.path()))?;
    Ok(f(&entries))
}

impl Grouped<'_> {
    /// Whether the index holds `path` (in the repository, under the ledger at `prefix`)
    /// staged with content (stage 0, not `git add -N`).
    fn staged(
        &self,
        path: &[u8],
        prefix: &[u8],
        shared: Option<&SharedFile>,
    ) -> Result<bool, StoreError> {
        let holds = |entries: &[Entry<'_>]| {
            let at = entries.partition_point(|e| e.path < path);
            entries
                .get(at)
                .is_some_and(|e| e.path == path && e.stage == 0 && !e.intent)
        };
        let rel = path.strip_prefix(prefix);
        let Some(folder) = rel.and_then(day_folder_of) else {
            return Ok(holds(&self.others));
        };
        let folder = &path[..prefix.len() + folder.len()];
        // Every group of a folder: an index out of path order may have met it twice.
        let at = self.folders.partition_point(|g| g.path < folder);
        for g in self.folders[at..].iter().take_while(|g| g.path == folder) {
            if with_entries(g, shared, holds)? {
                return Ok(true);
            }
        }
        Ok(false)
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
        .any(|k| same(k.folder().as_bytes(), top))
        .then_some(&rel[..end])
}

/// Whether two short byte strings (paths, folder names) are equal, compared inline, eight
/// bytes at a time. Listing an index compares every entry's path with its folder's and its
/// ledger's place: a million calls to `memcmp` for a few bytes each cost more than the
/// compares (measured: half of a cold `check --staged`'s first, serial, 0.4 s).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().unwrap_or_default());
    if (&mut a8).zip(&mut b8).any(|(x, y)| word(x) != word(y)) {
        return false;
    }
    let tail = |c: &[u8]| c.iter().fold(0u64, |w, &b| w << 8 | u64::from(b));
    tail(a8.remainder()) == tail(b8.remainder())
}

/// `path` without the ledger's place `prefix` in front, if it is there ([`same`]'s way).
#[inline]
fn strip<'a>(path: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = path.split_at_checked(prefix.len())?;
    same(head, prefix).then_some(rest)
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

/// The id of the tree git writes for the day folder `path` of `held` entries (in path
/// order), when it may stand for them: from the index's cached `trees`, else hashed.
fn tree_of(path: &[u8], held: &[Entry<'_>], trees: &entries::Trees) -> Option<Oid> {
    let folder = std::str::from_utf8(path).ok()?;
    let whole = !held.is_empty()
        && held.iter().all(|e| {
            let name = e.path.get(folder.len() + 1..).unwrap_or_default();
            strip(e.path, path).is_some() && plain_file(e, name, e.path)
        });
    whole.then(|| {
        trees
            .valid(path, held.len())
            .unwrap_or_else(|| tree_id(held))
    })
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

    /// Runs `git` in `dir` with no user or system configuration; it must succeed.
    pub(super) fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

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

    /// `same` and `strip` answer as `==` and `strip_prefix` do, for every length up to past
    /// two words and a difference at every place (a word's bytes, the tail's, the length).
    #[test]
    fn inline_compares_answer_as_the_library_does() {
        let base: Vec<u8> = b"contributions/2026/12/01/01m8qedc0000jwpbznpz1b9dve".to_vec();
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(same(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same(a, &b), "{len} {at}");
                assert_eq!(strip(&base, &b), base.strip_prefix(&b[..]));
            }
            assert!(!same(a, &base[..len.saturating_sub(1)]) || len == 0);
            assert_eq!(strip(&base, a), base.strip_prefix(a));
            assert_eq!(strip(a, &base), a.strip_prefix(&base[..]));
        }
    }

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

#[cfg(test)]
mod digest_tests {
    use std::process::Command;
    use std::sync::Mutex;

    use super::*;

    /// Digests kept in memory, counting what was kept and found.
    #[derive(Default)]
    pub(super) struct Kept {
        digests: Mutex<HashMap<(Oid, String), Vec<u8>>>,
        pub(super) puts: Mutex<usize>,
        pub(super) hits: Mutex<usize>,
    }

    impl SharedDigests for Kept {
        fn get(&self, shared: Oid, prefix: &str) -> Option<Vec<u8>> {
            let found = self
                .digests
                .lock()
                .unwrap()
                .get(&(shared, prefix.to_owned()))
                .cloned();
            *self.hits.lock().unwrap() += usize::from(found.is_some());
            found
        }
        fn put(&self, shared: Oid, prefix: &str, digest: &[u8]) {
            *self.puts.lock().unwrap() += 1;
            let key = (shared, prefix.to_owned());
            self.digests.lock().unwrap().insert(key, digest.to_vec());
        }
    }

    use super::tests::git;

    fn write(dir: &Path, path: &str, text: &str) {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// The whole listing (files, refused paths) and the day folders offered, as text.
    pub(super) fn listing(store: &Store, digests: Option<&dyn SharedDigests>) -> String {
        let mut offered = String::new();
        let listed = store
            .list_staged::<Handle>(
                None,
                &mut |folders, settings, _| {
                    offered = format!("{settings} {folders:?}");
                    true
                },
                digests,
            )
            .unwrap()
            .unwrap();
        format!("{offered}\n{:?}\n{:?}", listed.0, listed.1)
    }

    /// The listing of a split index read through its shared part's digest is the listing of
    /// the whole index, after every kind of change git's small file records: an entry
    /// replaced, added to a folder, deleted, a folder added or deleted whole, a link or a
    /// nested folder staged in a day folder, `git add -N`, the other records' files changed,
    /// and a record HEAD holds taken out of the index. The digest is kept once, and used by
    /// every listing after.
    #[test]
    fn a_digested_listing_is_the_whole_index_s_listing() {
        // At the top of its repository, and in a folder of a code repository.
        for sub in ["", "ledger"] {
            digested_like_whole(sub);
        }
    }

    /// Long because it is one scenario: a split index set up, then every kind of change
    /// git's small file records, each listed both ways in turn.
    fn digested_like_whole(sub: &str) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let dir = &root.join(sub);
        git(root, &["init", "-q"]);
        for (k, v) in [
            ("core.splitIndex", "true"),
            ("splitIndex.maxPercentChange", "100"),
            ("user.name", "t"),
            ("user.email", "t@example.org"),
        ] {
            git(root, &["config", k, v]);
        }
        write(dir, "ovn.toml", "name = \"n\"\n");
        write(root, "README.md", "outside the ledger\n");
        write(
            root,
            "src/contributions/2026/01/01/x.toml",
            "not the ledger's\n",
        );
        write(dir, "agents/ana.toml", "id = \"ana\"\n");
        for day in ["01", "02", "03", "04"] {
            for n in 0..3 {
                let path = format!("contributions/2026/01/{day}/r{n}.toml");
                write(dir, &path, &format!("id = \"{day}{n}\"\n"));
            }
        }
        write(dir, "approvals/2026/01/02/a.toml", "id = \"a\"\n");
        // A folder listed entry by entry (it holds a link), read from the shared file
        // whenever it is listed or looked into.
        write(dir, "contributions/2026/01/05/r.toml", "id = \"r\"\n");
        let link = dir.join("contributions/2026/01/05/l.toml");
        std::os::unix::fs::symlink("r.toml", link).unwrap();
        // Files older than the index, so that git does not refresh racily clean entries into
        // the small file (which would touch every folder).
        let old = Command::new("find")
            .arg(root)
            .args([
                "-path", "*/.git", "-prune", "-o", "-exec", "touch", "-h", "-d",
            ])
            .args(["2020-01-01T00:00:00", "{}", "+"])
            .status()
            .unwrap();
        assert!(old.success());
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "one"]);
        git(root, &["update-index", "--split-index"]);
        let store = Store::discover(dir).unwrap();
        let kept = Kept::default();
        let same = |step: &str| {
            let whole = listing(&store, None);
            let digested = listing(&store, Some(&kept));
            assert_eq!(digested, whole, "after {step}");
            // A second time, through the digest for certain.
            assert_eq!(listing(&store, Some(&kept)), whole, "after {step}, again");
        };
        same("nothing");
        let steps: &[(&str, &dyn Fn())] = &[
            ("an edit", &|| {
                write(dir, "contributions/2026/01/01/r1.toml", "id = \"edited\"\n");
                git(dir, &["add", "contributions/2026/01/01/r1.toml"]);
            }),
            ("a file added", &|| {
                write(dir, "contributions/2026/01/02/r5.toml", "id = \"new\"\n");
                git(dir, &["add", "contributions/2026/01/02/r5.toml"]);
            }),
            ("a file deleted", &|| {
                git(dir, &["rm", "-q", "contributions/2026/01/03/r0.toml"]);
            }),
            ("a folder added", &|| {
                write(dir, "contributions/2026/02/01/x.toml", "id = \"x\"\n");
                git(dir, &["add", "contributions/2026/02/01/x.toml"]);
            }),
            ("a folder deleted", &|| {
                git(dir, &["rm", "-rq", "contributions/2026/01/04"]);
            }),
            ("a link staged", &|| {
                let link = dir.join("contributions/2026/01/01/link.toml");
                std::os::unix::fs::symlink("/etc/passwd", link).unwrap();
                git(dir, &["add", "contributions/2026/01/01/link.toml"]);
            }),
            ("a nested folder", &|| {
                write(dir, "contributions/2026/01/02/sub/y.toml", "id = \"y\"\n");
                git(dir, &["add", "contributions/2026/01/02/sub/y.toml"]);
            }),
            ("an intent to add", &|| {
                write(dir, "contributions/2026/01/03/n.toml", "id = \"n\"\n");
                git(dir, &["add", "-N", "contributions/2026/01/03/n.toml"]);
            }),
            ("the other records changed", &|| {
                write(dir, "ovn.toml", "name = \"m\"\n");
                write(dir, "agents/ben.toml", "id = \"ben\"\n");
                git(dir, &["add", "ovn.toml", "agents/ben.toml"]);
                git(dir, &["rm", "-q", "agents/ana.toml"]);
            }),
            ("a file outside the ledger changed", &|| {
                write(root, "README.md", "still outside\n");
                write(root, "src/lib.rs", "// new\n");
                git(root, &["add", "README.md", "src/lib.rs"]);
            }),
            ("a record HEAD holds unstaged", &|| {
                git(
                    dir,
                    &["rm", "-q", "--cached", "contributions/2026/01/02/r1.toml"],
                );
            }),
        ];
        for (step, change) in steps {
            change();
            same(step);
        }
        assert_eq!(*kept.puts.lock().unwrap(), 1, "one digest, kept once");
        assert!(*kept.hits.lock().unwrap() >= 2 * steps.len());
        let listed = listing(&store, Some(&kept));
        assert!(
            listed.contains("contributions/2026/01/02/r1.toml"),
            "{listed}"
        );
        assert!(listed.contains("a symbolic link"), "{listed}");
    }
}

#[cfg(test)]
mod whole_digest_tests {
    use super::digest_tests::{Kept, listing};
    use super::tests::git;
    use super::*;

    /// An index with no shared part is digested whole only when a listing of it is given up
    /// (a cold cache, filled before the index is listed again), under its own checksum; the
    /// listing after it reads the digest, not the index, and is the whole index's listing.
    /// Once git rewrites the index (a new checksum), or writes none (`index.skipHash`), the
    /// index is read whole.
    #[test]
    fn an_index_listed_again_is_read_through_its_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        for (path, text) in [
            ("ovn.toml", "name = \"n\"\n"),
            ("agents/ana.toml", "id = \"ana\"\n"),
            ("contributions/2026/01/01/a.toml", "id = \"a\"\n"),
            ("contributions/2026/01/02/b.toml", "id = \"b\"\n"),
        ] {
            std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(path), text).unwrap();
        }
        git(dir, &["add", "-A"]);
        let store = Store::discover(dir).unwrap();
        let kept = Kept::default();
        let give_up = |kept: &Kept| {
            let listed = store
                .list_staged::<Handle>(None, &mut |_, _, _| false, Some(kept))
                .unwrap();
            assert!(listed.is_none());
        };
        let whole = listing(&store, None);
        assert_eq!(listing(&store, Some(&kept)), whole);
        assert_eq!(
            *kept.puts.lock().unwrap(),
            0,
            "not digested unless given up"
        );
        give_up(&kept);
        assert_eq!(*kept.puts.lock().unwrap(), 1);
        let hits = *kept.hits.lock().unwrap();
        assert_eq!(listing(&store, Some(&kept)), whole);
        assert_eq!(
            *kept.hits.lock().unwrap(),
            hits + 1,
            "read through the digest"
        );

        // A new index file: a new checksum, read whole.
        std::fs::write(dir.join("contributions/2026/01/02/c.toml"), "id = \"c\"\n").unwrap();
        git(dir, &["add", "-A"]);
        let hits = *kept.hits.lock().unwrap();
        let whole = listing(&store, None);
        assert_eq!(listing(&store, Some(&kept)), whole);
        assert_eq!(*kept.hits.lock().unwrap(), hits, "no digest of this index");

        // No checksum at all: never digested.
        git(dir, &["config", "index.skipHash", "true"]);
        std::fs::write(dir.join("contributions/2026/01/02/d.toml"), "id = \"d\"\n").unwrap();
        git(dir, &["add", "-A"]);
        let index = std::fs::read(dir.join(".git/index")).unwrap();
        assert_eq!(index[index.len() - 20..], [0; 20], "git wrote no checksum");
        give_up(&kept);
        assert_eq!(
            *kept.puts.lock().unwrap(),
            1,
            "the first index's digest alone"
        );
        assert_eq!(listing(&store, Some(&kept)), listing(&store, None));
    }
}
