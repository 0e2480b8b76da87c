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

use std::path::Path;

use super::read::Handle;
use super::{Store, StoreError};
use crate::core::ledger::{Loaded, NETWORK_FILE, RecordType, Role, classify, near_miss_folder};

/// The ledger as staged, and the paths whose merge conflict is not resolved.
pub struct Staged {
    /// The staged ledger, checked.
    pub loaded: Loaded,
    /// Ledger-relative paths with conflict stages in the index (nothing is staged for them).
    pub unmerged: Vec<String>,
}

/// Staged files (ledger-relative path, how to read it), sorted by path.
type Items = Vec<(String, Handle)>;

/// The git file modes of a symbolic link and of a submodule (gitlink).
const LINK: u32 = 0o120000;
const GITLINK: u32 = 0o160000;

/// `git add -N` (intent to add): an entry with no content, which a commit does not hold.
const INTENT_TO_ADD: u16 = 1 << 13;

impl Store {
    /// Parses and checks the ledger as staged in git's index (`index_file` when git names
    /// another: see `index_to_commit`).
    pub fn load_staged(&self, index_file: Option<&Path>) -> Result<Staged, StoreError> {
        let (items, unmerged) = self.list_staged(index_file)?;
        // No cache: the index names blobs, not the folder trees the cache is keyed by.
        let loaded = self.load_items(items)?;
        Ok(Staged { loaded, unmerged })
    }

    /// The staged bytes of each of `paths` that the index holds as a regular file no larger
    /// than the size limit (for excerpts of problems), read with one listing of the index.
    pub fn read_staged_files(
        &self,
        index_file: Option<&Path>,
        paths: &[&str],
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let (items, _) = self.list_staged(index_file)?;
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
    fn list_staged(&self, index_file: Option<&Path>) -> Result<(Items, Vec<String>), StoreError> {
        if self.repo.is_bare() {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        }
        let index = self.index_to_commit(index_file)?;
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut items = Vec::new();
        let mut unmerged = Vec::new();
        for entry in index.iter() {
            // Names that are not UTF-8 are skipped, as a revision's listing skips them.
            let Ok(path) = std::str::from_utf8(&entry.path) else {
                continue;
            };
            let Some(path) = path.strip_prefix(&prefix) else {
                continue;
            };
            if !in_ledger(path) {
                continue;
            }
            if (entry.flags >> 12) & 3 != 0 {
                if unmerged.last() != Some(&path.to_owned()) {
                    unmerged.push(path.to_owned());
                }
                continue;
            }
            if entry.flags_extended & INTENT_TO_ADD != 0 || matches!(classify(path), Role::Ignored)
            {
                continue;
            }
            let handle = match entry.mode & 0o170000 {
                LINK => Handle::Special("a symbolic link"),
                GITLINK => Handle::Special("a submodule (gitlink)"),
                _ => Handle::Blob(entry.id),
            };
            items.push((path.to_owned(), handle));
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((items, unmerged))
    }
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
