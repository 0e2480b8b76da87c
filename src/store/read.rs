//! Reading a ledger's files from the working tree or from a revision's git objects.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use git2::{ObjectType, Oid, TreeWalkMode, TreeWalkResult};
use rayon::prelude::*;

use super::cache::{self, Entry, FolderCache, Key, Records, ToStore};
use super::{Store, StoreError};
use crate::core::ledger::{
    self, Loaded, NETWORK_FILE, Outcome, Paths, RawFile, RecordType, Role, classify,
    near_miss_folder,
};
use crate::core::record::{Approval, Contribution, FileId};

/// Files read at a revision, and the commit they were read from.
pub struct Snapshot {
    /// The ledger's files.
    pub files: Vec<RawFile>,
    /// The commit id.
    pub commit: Oid,
}

impl Store {
    /// Reads the ledger's files as they are in the working tree, skipping git-ignored files
    /// that are not records (editor backups, `.DS_Store`).
    pub fn read_worktree(&self) -> Result<Vec<RawFile>, StoreError> {
        let (root, paths) = self.list_worktree()?;
        paths
            .into_par_iter()
            .map(|path| {
                let full = root.join(&path);
                std::fs::read(&full)
                    .map(|bytes| RawFile { path, bytes })
                    .map_err(|e| StoreError::io(&full, "cannot read", e))
            })
            .collect()
    }

    /// The ledger's files in the working tree (ledger-relative paths), and the root.
    fn list_worktree(&self) -> Result<(PathBuf, Vec<String>), StoreError> {
        let Some(root) = self.root() else {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        };
        let mut paths = Vec::new();
        if root.join(NETWORK_FILE).is_file() {
            paths.push(NETWORK_FILE.to_owned());
        }
        // The record folders, and near misses of them (`Agents/`) so they can be reported.
        let entries =
            std::fs::read_dir(root).map_err(|e| StoreError::io(root, "cannot list", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(root, "cannot list", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && is_ledger_folder(&name) {
                walk(&entry.path(), &name, &mut paths)?;
            }
        }
        paths.retain(|p| !matches!(classify(p), Role::Stray(..)) || !self.is_ignored(p));
        Ok((root.to_path_buf(), paths))
    }

    fn is_ignored(&self, ledger_path: &str) -> bool {
        let in_repo = if self.prefix.is_empty() {
            ledger_path.to_owned()
        } else {
            format!("{}/{ledger_path}", self.prefix)
        };
        self.repo
            .is_path_ignored(Path::new(&in_repo))
            .unwrap_or(false)
    }

    /// Resolves a revision (commit id, branch, tag, `HEAD~2`, ...) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<git2::Commit<'_>, StoreError> {
        let object = self
            .repo
            .revparse_single(rev)
            .map_err(|e| StoreError::UnknownRevision {
                rev: rev.to_owned(),
                reason: e.message().to_owned(),
            })?;
        object
            .peel_to_commit()
            .map_err(|e| StoreError::UnknownRevision {
                rev: rev.to_owned(),
                reason: e.message().to_owned(),
            })
    }

    /// Reads the ledger's files at a revision straight from git objects; the working tree and
    /// index are not touched.
    pub fn read_revision(&self, rev: &str) -> Result<Snapshot, StoreError> {
        let (blobs, commit) = self.list_blobs(rev)?;
        let files = read_blobs(self.repo.path(), blobs)?;
        Ok(Snapshot { files, commit })
    }

    /// Parses and checks the ledger at a revision, reading and parsing its blobs in one
    /// parallel pass so the raw files are never all in memory at once.
    ///
    /// Day folders whose tree id the folder cache knows are not read from git at all; the
    /// others are, and are cached afterwards when every file in them was a clean record.
    pub fn load_revision(&self, rev: &str) -> Result<(Loaded, Oid), StoreError> {
        let cache = self.folder_cache();
        match self.load_revision_with(rev, cache.as_ref())? {
            Some(done) => Ok(done),
            // A cache entry that passed its checks but did not decode: read without the cache.
            None => Ok(self
                .load_revision_with(rev, None)?
                .expect("a load without the cache always completes")),
        }
    }

    fn load_revision_with(
        &self,
        rev: &str,
        cache: Option<&FolderCache>,
    ) -> Result<Option<(Loaded, Oid)>, StoreError> {
        let Listing {
            items,
            entries,
            hits,
            missed,
            commit,
        } = self.list_revision(rev, cache)?;
        let failed: Mutex<Option<StoreError>> = Mutex::new(None);
        let undecodable = AtomicBool::new(false);
        let git_dir = self.repo.path().to_path_buf();
        let fail = |e: StoreError| {
            let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
        };
        let read_blob = |repo: &mut Option<git2::Repository>, handle: &Handle| -> Option<Vec<u8>> {
            let oid = match handle {
                Handle::Blob(oid) => *oid,
                Handle::Submodule => return Some(Vec::new()),
                Handle::Cached { .. } => return None,
            };
            let Some(repo) = repo else {
                fail(StoreError::NotARepository {
                    path: git_dir.clone(),
                });
                return None;
            };
            match repo.find_blob(oid) {
                Ok(blob) => Some(blob.content().to_vec()),
                Err(e) => {
                    fail(StoreError::git("cannot read a blob")(e));
                    None
                }
            }
        };
        let open = || git2::Repository::open(&git_dir).ok();
        let loaded = ledger::load_with(
            items,
            |handle| read_blob(&mut open(), handle),
            |parser, handles| {
                // Cached folders first, decoded in parallel.
                // Each entry's bytes are freed as soon as it is decoded.
                let mut decoded: Vec<Option<Decoded>> = entries
                    .into_par_iter()
                    .map(|e| {
                        e.records().map(|r| match r {
                            Records::Contributions(v) => Decoded::Contributions(
                                v.into_iter()
                                    .map(|mut c| {
                                        parser.share_ids(&mut c);
                                        Some(c)
                                    })
                                    .collect(),
                            ),
                            Records::Approvals(v) => {
                                Decoded::Approvals(v.into_iter().map(Some).collect())
                            }
                        })
                    })
                    .collect();
                if decoded.iter().any(Option::is_none) {
                    undecodable.store(true, Ordering::Relaxed);
                }
                // Everything not in the cache is read from git, in path order; the two
                // streams are then merged back into path order without a third list.
                let to_read: Vec<FileId> = handles
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| !matches!(h, Handle::Cached { .. }))
                    .map(|(pos, _)| pos as FileId)
                    .collect();
                let read = if to_read.len() == handles.len() {
                    parser.pipeline(&handles, None, open, read_blob)
                } else {
                    parser.pipeline(&handles, Some(&to_read), open, read_blob)
                };
                drop(to_read);
                let outcomes: Vec<Outcome> = if read.len() == handles.len() {
                    read
                } else {
                    let mut read = read.into_iter();
                    let mut out = Vec::with_capacity(handles.len());
                    for (pos, handle) in handles.into_iter().enumerate() {
                        let Handle::Cached { entry, record } = handle else {
                            out.push(read.next().unwrap_or_else(Outcome::nothing));
                            continue;
                        };
                        let file = pos as FileId;
                        let k = record as usize;
                        let outcome = match decoded[entry as usize].as_mut() {
                            Some(Decoded::Contributions(v)) => {
                                v[k].take().map(|c| Outcome::contribution(file, c))
                            }
                            Some(Decoded::Approvals(v)) => {
                                v[k].take().map(|a| Outcome::approval(file, a))
                            }
                            None => None,
                        };
                        out.push(outcome.unwrap_or_else(Outcome::nothing));
                    }
                    out
                };
                drop(decoded);
                if let Some(cache) = cache
                    && !missed.is_empty()
                    && failed.lock().is_ok_and(|f| f.is_none())
                {
                    fill(cache, parser.paths(), &outcomes, &missed);
                    // Only after a miss: a warm run touches nothing. Entries of this
                    // revision stay; others go once a week old.
                    let keep = hits
                        .iter()
                        .chain(&missed)
                        .map(|k| cache.entry_path(k))
                        .collect();
                    cache.prune(&keep, PRUNE_AFTER);
                }
                outcomes
            },
        );
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        if undecodable.load(Ordering::Relaxed) {
            return Ok(None);
        }
        Ok(Some((loaded, commit)))
    }

    /// Parses and checks the ledger in the working tree, reading files in parallel.
    pub fn load_worktree(&self) -> Result<Loaded, StoreError> {
        let (root, paths) = self.list_worktree()?;
        let failed: Mutex<Option<StoreError>> = Mutex::new(None);
        let read = |path: &String| {
            let full = root.join(path);
            match std::fs::read(&full) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
                    slot.get_or_insert(StoreError::io(&full, "cannot read", e));
                    None
                }
            }
        };
        // Files, unlike git's packs, read well from every core at once: each worker reads
        // and parses its own files.
        let loaded = ledger::load_with(
            paths.into_iter().map(|p| (p.clone(), p)).collect(),
            read,
            |parser, handles| {
                handles
                    .par_iter()
                    .enumerate()
                    .map(|(pos, path)| {
                        let file = pos as FileId;
                        if !parser.needs_bytes(file) {
                            return parser.judge_path(file);
                        }
                        match read(path) {
                            Some(bytes) => parser.parse(file, bytes),
                            None => Outcome::nothing(),
                        }
                    })
                    .collect()
            },
        );
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(loaded),
        }
    }

    /// The ledger's blobs at a revision (path and id), and the commit.
    fn list_blobs(&self, rev: &str) -> Result<(Vec<(String, Oid)>, Oid), StoreError> {
        let listing = self.list_revision(rev, None)?;
        let blobs = listing
            .items
            .into_iter()
            .map(|(path, handle)| match handle {
                Handle::Blob(oid) => (path, oid),
                _ => (path, Oid::ZERO_SHA1),
            })
            .collect();
        Ok((blobs, listing.commit))
    }

    /// The ledger's files at a revision, each with how to read it: walks the tree, and where
    /// `cache` knows a day folder's tree, takes its file names from the cache instead of
    /// descending into it.
    fn list_revision(&self, rev: &str, cache: Option<&FolderCache>) -> Result<Listing, StoreError> {
        // Re-hashing every object on read would double the cost of inflating it; git itself
        // does not do it on reads either (`git fsck` is the integrity check).
        git2::opts::strict_hash_verification(false);
        let commit = self.resolve(rev)?;
        let tree = commit
            .tree()
            .map_err(StoreError::git("cannot read the commit's tree"))?;
        let missing = || StoreError::NoLedgerAtRevision {
            rev: rev.to_owned(),
            prefix: self.prefix.clone(),
        };
        let tree = if self.prefix.is_empty() {
            tree
        } else {
            let entry = tree
                .get_path(Path::new(&self.prefix))
                .map_err(|_| missing())?;
            self.repo.find_tree(entry.id()).map_err(|_| missing())?
        };
        let Some(settings) = tree.get_name(NETWORK_FILE).map(|e| e.id()) else {
            return Err(missing());
        };
        let mut listing = Listing {
            items: Vec::new(),
            entries: Vec::new(),
            hits: Vec::new(),
            missed: Vec::new(),
            commit: commit.id(),
        };
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let Ok(name) = entry.name() else {
                return TreeWalkResult::Skip;
            };
            let path = format!("{dir}{name}");
            match entry.kind() {
                // Only descend into record folders: a ledger may share its repository with
                // source code that is none of its business.
                Some(ObjectType::Tree) => {
                    let top = path.split('/').next().unwrap_or_default();
                    if !is_ledger_folder(top) {
                        return TreeWalkResult::Skip;
                    }
                    let (Some(cache), Some(kind)) = (cache, cache::day_folder(&path)) else {
                        return TreeWalkResult::Ok;
                    };
                    let key = Key {
                        kind,
                        folder: path.clone(),
                        tree: entry.id(),
                        settings,
                    };
                    match cache.open(&key) {
                        Some(hit) => {
                            listing.hits.push(key);
                            let n = listing.entries.len() as u32;
                            for (k, file) in hit.names.iter().enumerate() {
                                listing.items.push((
                                    format!("{path}/{file}"),
                                    Handle::Cached {
                                        entry: n,
                                        record: k as u32,
                                    },
                                ));
                            }
                            listing.entries.push(hit);
                            TreeWalkResult::Skip
                        }
                        None => {
                            listing.missed.push(key);
                            TreeWalkResult::Ok
                        }
                    }
                }
                Some(ObjectType::Blob) => {
                    if !matches!(classify(&path), Role::Ignored) {
                        listing.items.push((path, Handle::Blob(entry.id())));
                    }
                    TreeWalkResult::Ok
                }
                Some(ObjectType::Commit) => {
                    // A submodule inside a record folder: treat it as a stray file.
                    if !matches!(classify(&path), Role::Ignored) {
                        listing.items.push((path, Handle::Submodule));
                    }
                    TreeWalkResult::Ok
                }
                _ => TreeWalkResult::Ok,
            }
        })
        .map_err(StoreError::git("cannot walk the tree"))?;
        Ok(listing)
    }
}

/// How long a folder entry no read uses any more is kept.
const PRUNE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// How one file of a revision is read.
#[derive(Clone)]
enum Handle {
    /// From its blob.
    Blob(Oid),
    /// A submodule where a file should be: judged as an empty file.
    Submodule,
    /// Record `record` of cache entry `entry`.
    Cached { entry: u32, record: u32 },
}

/// Decoded cache entries, each record taken out as it moves into the ledger.
enum Decoded {
    Contributions(Vec<Option<Box<Contribution>>>),
    Approvals(Vec<Option<Box<Approval>>>),
}

/// A revision's files, with the cache entries that stand in for some of its day folders.
struct Listing {
    items: Vec<(String, Handle)>,
    entries: Vec<Entry>,
    /// The keys of `entries`.
    hits: Vec<Key>,
    /// Day folders the cache did not have, to fill after the read.
    missed: Vec<Key>,
    commit: Oid,
}

/// Caches each missed day folder whose every file came out a clean record.
fn fill(cache: &FolderCache, paths: &Paths, outcomes: &[Outcome], missed: &[Key]) {
    missed.par_iter().for_each(|key| {
        let prefix = format!("{}/", key.folder);
        let (mut start, mut high) = (0, paths.len());
        while start < high {
            let mid = (start + high) / 2;
            if paths.get(mid as FileId) < prefix.as_str() {
                start = mid + 1;
            } else {
                high = mid;
            }
        }
        let end = start
            + (start..paths.len())
                .take_while(|&i| paths.get(i as FileId).starts_with(&prefix))
                .count();
        if start == end {
            return;
        }
        let names: Vec<&str> = (start..end)
            .map(|i| &paths.get(i as FileId)[prefix.len()..])
            .collect();
        // Nested folders are not records; a folder holding one is never cached.
        if names.iter().any(|n| n.contains('/')) {
            return;
        }
        let records = match key.kind {
            RecordType::Contribution => outcomes[start..end]
                .iter()
                .map(Outcome::clean_contribution)
                .collect::<Option<Vec<_>>>()
                .map(ToStore::Contributions),
            RecordType::Approval => outcomes[start..end]
                .iter()
                .map(Outcome::clean_approval)
                .collect::<Option<Vec<_>>>()
                .map(ToStore::Approvals),
            _ => None,
        };
        if let Some(records) = records {
            cache.put(key, &names, &records);
        }
    });
}

/// Reads blobs in parallel, one repository handle per worker: a libgit2 handle is not shared
/// across threads, and inflating is most of the cost of reading a ledger from git.
fn read_blobs(git_dir: &Path, blobs: Vec<(String, Oid)>) -> Result<Vec<RawFile>, StoreError> {
    let workers = rayon::current_num_threads().max(1);
    let chunk = blobs.len().div_ceil(workers).max(1);
    let chunks: Vec<Vec<RawFile>> = blobs
        .par_chunks(chunk)
        .map(|part| {
            let repo = git2::Repository::open(git_dir)
                .map_err(StoreError::git("cannot open the repository"))?;
            part.iter()
                .map(|(path, oid)| {
                    let bytes = if oid.is_zero() {
                        Vec::new()
                    } else {
                        repo.find_blob(*oid)
                            .map_err(StoreError::git("cannot read a blob"))?
                            .content()
                            .to_vec()
                    };
                    Ok(RawFile {
                        path: path.clone(),
                        bytes,
                    })
                })
                .collect()
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(chunks.into_iter().flatten().collect())
}

/// Whether a top-level folder is read: a record folder or a near miss of one.
fn is_ledger_folder(name: &str) -> bool {
    RecordType::ALL.iter().any(|k| k.folder() == name) || near_miss_folder(name).is_some()
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, "cannot list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(dir, "cannot list", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = format!("{rel}/{name}");
        let file_type = entry
            .file_type()
            .map_err(|e| StoreError::io(&entry.path(), "cannot stat", e))?;
        if file_type.is_dir() {
            walk(&entry.path(), &rel_path, out)?;
        } else {
            out.push(rel_path);
        }
    }
    Ok(())
}

impl Store {
    /// One ledger file at a revision, if it exists there.
    pub fn read_file_at(
        &self,
        rev: &str,
        ledger_path: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let commit = self.resolve(rev)?;
        let tree = commit
            .tree()
            .map_err(StoreError::git("cannot read the commit's tree"))?;
        let Ok(entry) = tree.get_path(Path::new(&self.repo_path(ledger_path))) else {
            return Ok(None);
        };
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(StoreError::git("cannot read a blob"))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Record files under `folder` that `head` has and `base` does not (or has with other
    /// content): what a branch adds on top of the validated branch. Walks both trees together
    /// and skips every subtree whose id is the same in both, so the cost follows the size of
    /// the difference, not of the ledger.
    pub fn added_files(
        &self,
        base: &str,
        head: &str,
        folder: &str,
    ) -> Result<Vec<RawFile>, StoreError> {
        let subtree = |rev: &str| -> Result<Option<git2::Tree<'_>>, StoreError> {
            let tree = self
                .resolve(rev)?
                .tree()
                .map_err(StoreError::git("cannot read the commit's tree"))?;
            let path = self.repo_path(folder);
            match tree.get_path(Path::new(&path)) {
                Ok(entry) => Ok(self.repo.find_tree(entry.id()).ok()),
                Err(_) => Ok(None),
            }
        };
        let (Some(new), old) = (subtree(head)?, subtree(base)?) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        super::treediff::walk_differing(
            &self.repo,
            &new,
            old.as_ref(),
            folder,
            &mut |path, entry, _| {
                let blob = self
                    .repo
                    .find_blob(entry.id())
                    .map_err(StoreError::git("cannot read a blob"))?;
                out.push(RawFile {
                    path: path.to_owned(),
                    bytes: blob.content().to_vec(),
                });
                Ok(())
            },
        )?;
        Ok(out)
    }
}
