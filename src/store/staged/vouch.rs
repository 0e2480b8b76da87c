//! Day folders of the working tree that git's index vouches for, so that a first working-tree
//! read takes them from git's objects instead of opening every file.
//!
//! git keeps, for each file it hashed, the `lstat` data the file had then; a file whose
//! `lstat` data is still exactly that holds what git hashed (the rule `git status` lives
//! by). A fresh checkout has a million such files: opening and reading each costs seconds
//! of the kernel's time, while the same blobs come out of the pack in a fraction of it (and
//! a cache warm for the commit has them already). So while the working tree is walked for
//! its stamp, each day folder's entries are compared with the index's: when the folder
//! holds exactly the files the index lists there, each a regular file whose every `lstat`
//! field git stores (times, device, inode, mode, owner, group, size) is the index's, the
//! folder is what those blobs make, and its tree id is the one git would write.
//!
//! Nothing is vouched for that git itself would look at again: an entry git marks
//! assume-unchanged or skip-worktree (it does not watch the file), a conflicted or
//! intent-to-add one, and a racily clean one (modified in or after the second the index was
//! written: a second change in the same tick of the clock would keep its times). And
//! nothing at all where the file on disk may differ from its blob though git calls it clean:
//! where git converts content on checkout (`core.autocrlf`, or any attributes file, which
//! may name `text`, `eol`, `ident`, a `filter` such as git-crypt's, or an encoding). What
//! the index does not prove is read from disk, as before; the index is read only when a
//! folder is asked about, and an index this reader does not understand vouches for nothing.

use std::fs::Metadata;
use std::path::PathBuf;
use std::sync::OnceLock;

use git2::Oid;

use super::entries::{Entry, Files, Trees};
use crate::store::Store;

/// The bytes of a working tree's index, read the first time a folder is asked about.
pub struct IndexFiles {
    index: PathBuf,
    git_dir: PathBuf,
    /// The ledger's folder on disk.
    root: PathBuf,
    /// Whether git may convert content between blob and file here (see the module's
    /// comment): then nothing is vouched for.
    converts: bool,
    /// The ledger's folder in the repository, with a trailing `/` (empty at the root).
    prefix: String,
    /// The files, and the index file's modification time (seconds, nanoseconds).
    files: OnceLock<Option<(Files, (i64, i64))>>,
}

/// What vouches for day folders, over an [`IndexFiles`]: its entries, parsed once.
pub struct IndexVouch<'a> {
    files: &'a IndexFiles,
    parsed: OnceLock<Option<Parsed<'a>>>,
}

struct Parsed<'a> {
    entries: Vec<Entry<'a>>,
    trees: Trees,
    written: (i64, i64),
    /// Whether any folder of the ledger above a day folder holds a `.gitattributes` file,
    /// by folder (ledger-relative), as found.
    attributes: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl Store {
    /// The index of this working tree, to vouch for day folders with (`None` in a bare
    /// repository); `user_attributes` is the user's default attributes file (see
    /// `Context::user_attributes`). Nothing is read yet.
    pub fn index_files(&self, user_attributes: Option<&std::path::Path>) -> Option<IndexFiles> {
        let root = self.root()?.to_path_buf();
        let git_dir = self.repo.path().to_path_buf();
        let converts = converts(&self.repo, &root, user_attributes.map(PathBuf::from));
        let prefix = self.prefix_slash();
        Some(IndexFiles {
            index: git_dir.join("index"),
            git_dir,
            root,
            converts,
            prefix,
            files: OnceLock::new(),
        })
    }
}

impl IndexFiles {
    /// What vouches for folders with these files.
    pub fn vouch(&self) -> IndexVouch<'_> {
        IndexVouch {
            files: self,
            parsed: OnceLock::new(),
        }
    }

    fn files(&self) -> Option<&(Files, (i64, i64))> {
        if self.converts {
            return None;
        }
        self.files
            .get_or_init(|| {
                let written = mtime(&std::fs::metadata(&self.index).ok()?)?;
                let files = super::entries::read(&self.index, &self.git_dir).ok()?;
                Some((files, written))
            })
            .as_ref()
    }
}

impl IndexVouch<'_> {
    /// Whether the index vouches for the day folder `day` (ledger-relative) holding exactly
    /// `files` (name and `lstat` data, sorted by name), and if so, the id of the tree git
    /// writes for it.
    pub fn folder(&self, day: &str, files: &[(String, Metadata)]) -> Option<Oid> {
        let parsed = self
            .parsed
            .get_or_init(|| {
                let (files, written) = self.files.files()?;
                let (entries, trees) = files.entries()?;
                // A tracked attributes file anywhere may apply to the ledger.
                let attributes = |e: &Entry<'_>| {
                    e.path == b".gitattributes" || e.path.ends_with(b"/.gitattributes")
                };
                if entries.iter().any(attributes) {
                    return None;
                }
                Some(Parsed {
                    entries,
                    trees,
                    written: *written,
                    attributes: Default::default(),
                })
            })
            .as_ref()?;
        if self.attributes_above(parsed, day) {
            return None;
        }
        let mut folder = Vec::with_capacity(self.files.prefix.len() + day.len() + 1);
        folder.extend_from_slice(self.files.prefix.as_bytes());
        folder.extend_from_slice(day.as_bytes());
        folder.push(b'/');
        let start = parsed.entries.partition_point(|e| e.path < &folder[..]);
        let entries = parsed.entries.get(start..start.checked_add(files.len())?)?;
        // The folder's entries end where the files do: one more would be a file deleted.
        let next = parsed.entries.get(start + files.len());
        if files.is_empty() || next.is_some_and(|e| e.path.starts_with(&folder)) {
            return None;
        }
        for (e, (name, meta)) in entries.iter().zip(files) {
            let same_name = e
                .path
                .strip_prefix(&folder[..])
                .is_some_and(|n| n == name.as_bytes());
            if !same_name || !unchanged(e, meta, parsed.written) {
                return None;
            }
        }
        let tree = parsed
            .trees
            .valid(&folder[..folder.len() - 1], entries.len())
            .unwrap_or_else(|| super::tree_id(entries));
        Some(tree)
    }

    /// Whether a folder of the ledger above the day folder `day` holds a `.gitattributes`
    /// file (tracked or not: git reads both), each folder looked at once.
    fn attributes_above(&self, parsed: &Parsed<'_>, day: &str) -> bool {
        let mut folders = vec![String::new()];
        let mut at = 0;
        while let Some(slash) = day[at..].find('/') {
            folders.push(day[..at + slash].to_owned());
            at += slash + 1;
        }
        let mut seen = parsed.attributes.lock().unwrap_or_else(|p| p.into_inner());
        folders.into_iter().any(|folder| {
            *seen.entry(folder).or_insert_with_key(|folder| {
                let file = self.files.root.join(folder).join(".gitattributes");
                std::fs::symlink_metadata(file).is_ok()
            })
        })
    }
}

/// Whether git may convert content between a blob and its file in this repository, for a
/// ledger at `root`: `core.autocrlf` set to anything but false, or an attributes file
/// git reads (the repository's own, the user's (`core.attributesFile`, else
/// `user_attributes`), the system's, or a `.gitattributes` in the
/// folders from the working tree's top down to the ledger's). Tracked attributes files
/// elsewhere are found in the index, and those inside the ledger as the folders are asked
/// about.
fn converts(
    repo: &git2::Repository,
    root: &std::path::Path,
    user_attributes: Option<PathBuf>,
) -> bool {
    let Ok(config) = repo.config() else {
        return true;
    };
    let autocrlf = match config.get_bool("core.autocrlf") {
        Ok(on) => on,
        // Set, but not a boolean (`input`): converts on the way in.
        Err(_) => config.get_entry("core.autocrlf").is_ok(),
    };
    if autocrlf {
        return true;
    }
    let mut files: Vec<PathBuf> = vec![
        repo.path().join("info/attributes"),
        repo.commondir().join("info/attributes"),
    ];
    files.extend(
        config
            .get_path("core.attributesFile")
            .ok()
            .or(user_attributes),
    );
    files.extend(["/etc/gitattributes", "/usr/local/etc/gitattributes"].map(PathBuf::from));
    if let Some(top) = repo.workdir() {
        let mut folder = Some(root);
        while let Some(dir) = folder {
            files.push(dir.join(".gitattributes"));
            if dir == top || !dir.starts_with(top) {
                break;
            }
            folder = dir.parent();
        }
    }
    files.iter().any(|f| std::fs::symlink_metadata(f).is_ok())
}

/// Whether entry `e` proves the file with `meta` to hold its blob: a clean, watched entry
/// of a regular file, every stored `lstat` field equal, and not racily clean against the
/// index `written` then.
#[cfg(unix)]
fn unchanged(e: &Entry<'_>, meta: &Metadata, written: (i64, i64)) -> bool {
    use std::os::unix::fs::MetadataExt;
    if e.stage != 0 || e.intent || e.unwatched || !meta.is_file() {
        return false;
    }
    let executable = meta.mode() & 0o100 != 0;
    let mode = if executable { 0o100755 } else { 0o100644 };
    // git stores each field as its low 32 bits.
    let word =
        |k: usize| u32::from_be_bytes([e.stat[k], e.stat[k + 1], e.stat[k + 2], e.stat[k + 3]]);
    let now = [
        meta.ctime() as u32,
        meta.ctime_nsec() as u32,
        meta.mtime() as u32,
        meta.mtime_nsec() as u32,
        meta.dev() as u32,
        meta.ino() as u32,
        mode,
        meta.uid(),
        meta.gid(),
        meta.size() as u32,
    ];
    let same = now.iter().enumerate().all(|(k, &n)| word(4 * k) == n);
    let modified = (i64::from(word(8)), i64::from(word(12)));
    same && e.mode == mode && modified < written
}

#[cfg(not(unix))]
fn unchanged(_: &Entry<'_>, _: &Metadata, _: (i64, i64)) -> bool {
    false
}

/// A file's modification time (seconds, nanoseconds since the epoch).
#[cfg(unix)]
fn mtime(meta: &Metadata) -> Option<(i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.mtime(), meta.mtime_nsec()))
}

#[cfg(not(unix))]
fn mtime(_: &Metadata) -> Option<(i64, i64)> {
    None
}
