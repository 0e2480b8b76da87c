//! How the ledger's files stand in the working tree, in 32 bytes: the stamp a cache keys a
//! working-tree answer on.
//!
//! Reading and parsing a million files costs seconds; asking the file system what each of
//! them is costs a fraction of that. Git's index works the same way: a file whose `lstat`
//! data (inode, size, modification and change times, type) is what it was has the content it
//! had. So the stamp is a digest of the `lstat` data of every entry a working-tree read lists
//! (the same walk as `read`'s listing: `ovn.toml`, the record folders and their near misses,
//! every folder below them not named like a record), with each entry's path. A new, deleted
//! or renamed file changes the paths; an edit changes the change time (`ctime`), which no
//! program can set back, even when it keeps the size and the modification time; a file
//! replaced by a link or a FIFO changes its type and inode. Nothing is opened or read, and no
//! link is followed.
//!
//! Two things the digest cannot see are reported beside it, for the caller to decline:
//! entries changed so recently that a change in the same tick of the file system's clock
//! would leave their times as they are (git's "racily clean" files: [`Stamp::newest`]), and
//! stray files (whether they are read depends on `.gitignore`, which is not stamped:
//! [`Stamp::strays`]). Platforms without `lstat`'s inode and change time get no stamp.
//!
//! Each day folder's own part of the digest is reported too ([`Stamp::days`]): a cache
//! that remembers what a folder held when its part was last seen knows, from an equal part,
//! that it holds the same now, and reads only the folders that changed. And a caller that
//! knows some day folders unchanged without asking the file system (git's `core.fsmonitor`
//! hook) hands in their remembered parts ([`Store::worktree_stamp_trusting`]): they are not
//! walked at all, and the digest comes out as a full walk would make it.

use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::read::{enters, is_ledger_folder};
use super::{Store, StoreError};
use crate::core::ledger::{NETWORK_FILE, Role, classify};

/// The working tree's ledger files as `lstat` sees them (see the module's comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// SHA-256 of every listed entry's path and `lstat` data, in a fixed order.
    pub digest: [u8; 32],
    /// The latest modification or change time of any entry (seconds and nanoseconds since
    /// the epoch): an entry changed within a tick of the clock before a read may change
    /// again without changing its times.
    pub newest: (i64, i64),
    /// Whether any file is stray (not a record's name), so that whether it is read at all
    /// depends on `.gitignore`.
    pub strays: bool,
    /// Every day folder's part (`contributions/2026/03/05`: a record folder's folder three
    /// levels down), by path.
    pub days: Vec<(String, FolderStamp)>,
}

/// One folder's part of a stamp: its entries and every folder below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderStamp {
    /// SHA-256 of its entries' paths and `lstat` data, and of its folders' parts.
    pub digest: [u8; 32],
    /// The latest modification or change time of any entry in it.
    pub newest: (i64, i64),
    /// Whether any file in it is stray.
    pub strays: bool,
    /// Whether every entry in it is a regular file with a UTF-8 name: then its files are
    /// exactly what a git tree of them would list.
    pub plain: bool,
}

/// Remembered parts of day folders known to be unchanged, by path (see the module's comment).
pub type Trusted<'a> = &'a (dyn Fn(&str) -> Option<FolderStamp> + Sync);

/// Shown each day folder walked: its path, its part, and its entries (name and `lstat`
/// data, sorted by name), from the walk's threads (see [`Store::worktree_stamp_showing`]).
pub type Shown<'a> = &'a (dyn Fn(&str, &FolderStamp, &[(String, std::fs::Metadata)]) + Sync);

/// A folder's part and the parts of the day folders in and below it.
type Walked = (FolderStamp, Vec<(String, FolderStamp)>);

impl Store {
    /// The stamp of git's index file (`index_file`, else the repository's `index`) and HEAD,
    /// for a cache that keys what it answered from the index on them: a digest of the file's
    /// path and `lstat` data (as [`Stamp::digest`] takes each entry's) and of HEAD's commit
    /// id, with the file's latest time (see [`Stamp::newest`]). Git writes its index whole, to
    /// a new file renamed over the old one, so the `lstat` data stand for the content. `None`
    /// without an index file, or where the platform gives no inode and change time.
    pub fn index_stamp(&self, index_file: Option<&Path>) -> Option<([u8; 32], (i64, i64))> {
        if !cfg!(unix) {
            return None;
        }
        let path = index_file.map_or_else(|| self.repo.path().join("index"), Path::to_path_buf);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let head = self
            .repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .unwrap_or(git2::Oid::ZERO_SHA1);
        let mut hasher = Sha256::new();
        let newest = entry(&mut hasher, &path.to_string_lossy(), &meta);
        hasher.update(head.as_bytes());
        Some((hasher.finalize().into(), newest))
    }

    /// The stamp of the ledger's files in the working tree, or `None` where the platform
    /// gives no inode and change time. An error when the working tree cannot be listed (the
    /// read that follows reports it as it would).
    pub fn worktree_stamp(&self) -> Result<Option<Stamp>, StoreError> {
        self.worktree_stamp_trusting(&|_| None)
    }

    /// [`Store::worktree_stamp`], taking the part of each day folder `trusted` gives as it
    /// is instead of walking the folder.
    pub fn worktree_stamp_trusting(
        &self,
        trusted: Trusted<'_>,
    ) -> Result<Option<Stamp>, StoreError> {
        self.worktree_stamp_showing(trusted, &|_, _, _| ())
    }

    /// [`Store::worktree_stamp_trusting`], showing `shown` each day folder it walks with the
    /// `lstat` data of its entries, for a caller that compares them with what git's index
    /// holds (without a second `lstat` of a million files).
    pub fn worktree_stamp_showing(
        &self,
        trusted: Trusted<'_>,
        shown: Shown<'_>,
    ) -> Result<Option<Stamp>, StoreError> {
        let Some(root) = self.root() else {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        };
        if !cfg!(unix) {
            return Ok(None);
        }
        let mut hasher = Sha256::new();
        let mut newest = (i64::MIN, 0);
        let mut strays = false;
        // `ovn.toml` itself (not followed: a link to it is listed, and refused when read).
        if let Ok(meta) = std::fs::symlink_metadata(root.join(NETWORK_FILE)) {
            newest = newest.max(entry(&mut hasher, NETWORK_FILE, &meta));
        }
        let mut top = Vec::new();
        let entries =
            std::fs::read_dir(root).map_err(|e| StoreError::io(root, "cannot list", e))?;
        for found in entries {
            let found = found.map_err(|e| StoreError::io(root, "cannot list", e))?;
            let name = found.file_name().to_string_lossy().into_owned();
            if is_ledger_folder(&name) {
                let meta = found
                    .metadata()
                    .map_err(|e| StoreError::io(&found.path(), "cannot stat", e))?;
                top.push((name, meta));
            }
        }
        top.sort_by(|a, b| a.0.cmp(&b.0));
        let parts: Vec<Option<Walked>> = top
            .par_iter()
            .map(|(name, meta)| {
                // A linked record folder is listed, not entered, as the read does.
                if meta.is_dir() {
                    folder(&root.join(name), name, trusted, shown).map(Some)
                } else {
                    Ok(None)
                }
            })
            .collect::<Result<_, _>>()?;
        let mut days = Vec::new();
        for ((name, meta), part) in top.iter().zip(parts) {
            newest = newest.max(entry(&mut hasher, name, meta));
            if let Some((part, below)) = part {
                hasher.update(part.digest);
                newest = newest.max(part.newest);
                strays |= part.strays;
                days.extend(below);
            }
        }
        days.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Some(Stamp {
            digest: hasher.finalize().into(),
            newest,
            strays,
            days,
        }))
    }
}

/// Whether `rel` is where a day folder is: three levels into the contributions or the
/// approvals (the cache judges the names).
fn is_day(rel: &str) -> bool {
    (rel.starts_with("contributions/") || rel.starts_with("approvals/"))
        && rel.bytes().filter(|&b| b == b'/').count() == 3
}

/// The part of the folder `dir` (ledger path `rel`): its entries, sorted by name, and the
/// folders below it, entered as the read enters them (not those named like a record), on
/// all cores; a day folder `trusted` knows is not entered, one walked is `shown`. With it,
/// the parts of the day folders in and below it.
fn folder(
    dir: &Path,
    rel: &str,
    trusted: Trusted<'_>,
    shown: Shown<'_>,
) -> Result<Walked, StoreError> {
    let mut entries = Vec::new();
    let mut plain = true;
    for found in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, "cannot list", e))? {
        let found = found.map_err(|e| StoreError::io(dir, "cannot list", e))?;
        // Relative to the folder's open handle, without following a link (`fstatat`).
        let meta = found
            .metadata()
            .map_err(|e| StoreError::io(&found.path(), "cannot stat", e))?;
        plain &= meta.is_file() && found.file_name().to_str().is_some();
        entries.push((found.file_name().to_string_lossy().into_owned(), meta));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let below: Vec<Option<Walked>> = entries
        .par_iter()
        .map(|(name, meta)| {
            if !enters(name, meta.is_dir()) {
                return Ok(None);
            }
            let rel = format!("{rel}/{name}");
            if is_day(&rel)
                && let Some(part) = trusted(&rel)
            {
                return Ok(Some((part, vec![(rel, part)])));
            }
            let (part, mut days) = folder(&dir.join(name), &rel, trusted, shown)?;
            if is_day(&rel) {
                days.push((rel, part));
            }
            Ok(Some((part, days)))
        })
        .collect::<Result<_, _>>()?;
    let mut hasher = Sha256::new();
    let mut newest = (i64::MIN, 0);
    let mut strays = false;
    let mut days = Vec::new();
    let mut path = String::new();
    for ((name, meta), part) in entries.iter().zip(below) {
        path.clear();
        path.push_str(rel);
        path.push('/');
        path.push_str(name);
        newest = newest.max(entry(&mut hasher, &path, meta));
        match part {
            Some((part, below)) => {
                hasher.update(part.digest);
                newest = newest.max(part.newest);
                strays |= part.strays;
                days.extend(below);
            }
            None => strays |= matches!(classify(&path), Role::Stray(..)),
        }
    }
    let part = FolderStamp {
        digest: hasher.finalize().into(),
        newest,
        strays,
        plain: plain && !strays,
    };
    if is_day(rel) {
        shown(rel, &part, &entries);
    }
    Ok((part, days))
}

/// Adds one entry (its path and `lstat` data) to `hasher`; returns its latest time.
#[cfg(unix)]
fn entry(hasher: &mut Sha256, path: &str, meta: &std::fs::Metadata) -> (i64, i64) {
    use std::os::unix::fs::MetadataExt;
    // The length first, so that no two different entries make the same bytes.
    hasher.update((path.len() as u64).to_le_bytes());
    hasher.update(path.as_bytes());
    for n in [
        meta.dev(),
        meta.ino(),
        u64::from(meta.mode()),
        meta.size(),
        meta.mtime() as u64,
        meta.mtime_nsec() as u64,
        meta.ctime() as u64,
        meta.ctime_nsec() as u64,
    ] {
        hasher.update(n.to_le_bytes());
    }
    (meta.mtime(), meta.mtime_nsec()).max((meta.ctime(), meta.ctime_nsec()))
}

/// Never called: without `lstat`'s inode and change time there is no stamp.
#[cfg(not(unix))]
fn entry(_: &mut Sha256, _: &str, _: &std::fs::Metadata) -> (i64, i64) {
    (i64::MAX, 0)
}
