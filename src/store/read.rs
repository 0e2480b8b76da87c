//! Reading a ledger's files from the working tree or from a revision's git objects.
//!
//! Reading is the cost of every command on a large ledger, so a revision is read by the
//! hand-written pack reader where it can (see `pack`) and parsed in parallel. The store reads
//! git only: the cache, a layer above, lists a revision through [`Store::list_revision`]
//! (which shows it each level of the tree before reading it) and reads what it does not hold
//! through [`Reading`], so the two share one listing and one reader without the store
//! knowing the cache. Working-tree files are read through `safe`, which never follows a
//! link or opens a FIFO.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use git2::{ObjectType, Oid};
use rayon::prelude::*;

use super::safe::{self, Opened as Read};
use super::{PackReader, Prepared, Store, StoreError};
use crate::core::ledger::{
    self, Loaded, NETWORK_FILE, Outcome, Parser, RawFile, RecordType, Role, Unread, classify,
    near_miss_folder,
};
use crate::core::parse::{MAX_FILE_BYTES, max_bytes};
use crate::core::record::FileId;
use crate::core::summary::Elsewhere;

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
                // Never through a link, a FIFO or a device (see `safe`).
                let bytes = safe::read_bytes(&root, &path)?.unwrap_or_default();
                Ok(RawFile { path, bytes })
            })
            .collect()
    }

    /// One ledger file in the working tree, read safely: `Ok(None)` when it is not there, an
    /// error when it is a symbolic link, FIFO, device or socket (never followed or read), at
    /// most its bound ([`crate::core::parse::max_bytes`]) + 1 bytes of it.
    pub fn read_worktree_file(&self, ledger_path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.root() {
            Some(root) => safe::read_bytes(root, ledger_path),
            None => Ok(None),
        }
    }

    /// The ledger's files in the working tree (ledger-relative paths), and the root.
    fn list_worktree(&self) -> Result<(PathBuf, Vec<String>), StoreError> {
        self.list_worktree_skipping(&|_| false)
    }

    /// [`Store::list_worktree`] without entering the folders `skip` names (day folders a
    /// cache stands in for).
    pub(crate) fn list_worktree_skipping(
        &self,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<(PathBuf, Vec<String>), StoreError> {
        let Some(root) = self.root() else {
            return Err(StoreError::NotCheckedOut {
                path: self.describe(),
            });
        };
        let mut paths = Vec::new();
        // Not `is_file`, which follows a link: a linked `ovn.toml` is listed, and refused
        // when read.
        if std::fs::symlink_metadata(root.join(NETWORK_FILE)).is_ok_and(|m| !m.is_dir()) {
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
                walk(&entry.path(), &name, &mut paths, skip)?;
            } else if is_ledger_folder(&name) && entry.file_type().is_ok_and(|t| t.is_symlink()) {
                // A linked record folder (`agents -> /elsewhere`) is not entered: it is
                // listed, to be reported as not a file.
                paths.push(name);
            }
        }
        paths.retain(|p| !matches!(classify(p), Role::Stray(..)) || !self.is_ignored(p));
        Ok((root.to_path_buf(), paths))
    }

    /// Whether git ignores the file at `ledger_path` (`.gitignore`, `info/exclude`).
    pub(crate) fn is_ignored(&self, ledger_path: &str) -> bool {
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
    ///
    /// A name that resolves to an object the repository cannot read is damage (an error
    /// naming the object, or the pack and offset), not an unknown revision.
    pub fn resolve(&self, rev: &str) -> Result<git2::Commit<'_>, StoreError> {
        // What the name points at, found without reading an object, so the object can be
        // checked before libgit2 reads it (see the `loose` module).
        let target = self
            .repo
            .resolve_reference_from_short_name(rev)
            .ok()
            .and_then(|r| r.resolve().ok())
            .and_then(|r| r.target())
            .or_else(|| (rev.len() == 40).then(|| Oid::from_str(rev).ok()).flatten());
        if let Some(oid) = target {
            self.guard(oid)?;
        }
        let object = self.repo.revparse_single(rev).map_err(|e| match target {
            Some(oid) => super::loose::damaged(&self.repo, oid, "cannot read the revision", e),
            None => StoreError::UnknownRevision {
                rev: rev.to_owned(),
                reason: e.message().to_owned(),
            },
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

    /// Parses and checks the ledger at a revision from git alone, reading and parsing its
    /// blobs in one parallel pass so the raw files are never all in memory at once. (The
    /// cached read, which takes day folders from the cache, is the cache layer's `CachedRead`.)
    pub fn load_at(&self, rev: &str) -> Result<(Loaded, Oid), StoreError> {
        let (items, commit) = self
            .list_revision::<Handle>(rev, &mut |_, _, _| true)?
            .expect("a listing without a hook that gives up always completes");
        Ok((self.load_items(items)?, commit))
    }

    /// Parses and checks the ledger made of `items` (ledger path, git object), sorted by
    /// path, from git alone: a revision's listing, or the index's (`load_staged`).
    pub(crate) fn load_items(&self, items: Vec<(String, Handle)>) -> Result<Loaded, StoreError> {
        let failed: Mutex<Option<StoreError>> = Mutex::new(None);
        let fail = |e: StoreError| {
            let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
        };
        let git_dir = self.repo.path();
        let loaded = ledger::load_files(
            items,
            Elsewhere::default(),
            |handle| self.network_bytes(handle).map_err(fail).ok(),
            |parser, handles| {
                let all: Vec<FileId> = (0..handles.len() as FileId).collect();
                let reading = Reading::plan(parser, &handles, all);
                // Not needed while the blobs are read, when the read holds the most.
                drop(handles);
                let n = reading.len();
                reading.read(git_dir, parser).unwrap_or_else(|e| {
                    fail(e);
                    (0..n).map(|_| Outcome::nothing()).collect()
                })
            },
        );
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(loaded),
        }
    }

    /// The bytes of `ovn.toml` as the reading pipeline asks for them first: its blob's, or
    /// none when it is not a blob (judged, and reported, by the listing).
    pub(crate) fn network_bytes(&self, handle: &impl GitHandle) -> Result<Vec<u8>, StoreError> {
        match handle.git() {
            Some(Handle::Blob(oid)) => {
                Ok(super::loose::blob(&self.repo, *oid, "cannot read a blob")?
                    .content()
                    .to_vec())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Parses and checks the ledger in the working tree, reading files in parallel.
    pub fn load_worktree(&self) -> Result<Loaded, StoreError> {
        let (root, paths) = self.list_worktree()?;
        let failed: Mutex<Option<StoreError>> = Mutex::new(None);
        let fail = |e: StoreError| {
            let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
        };
        let read = |path: &String| open_in_worktree(&root, path).map_err(fail).ok();
        // Files, unlike git's packs, read well from every core at once: each worker reads
        // and parses its own files.
        let loaded = ledger::load_files(
            paths.into_iter().map(|p| (p.clone(), p)).collect(),
            Elsewhere::default(),
            // `ovn.toml` that is not a file is no ledger at all: an error, not a diagnostic.
            |path| match read(path)? {
                Read::Bytes(bytes) => Some(bytes),
                // Said so by the core, which finds it over the limit.
                Read::TooLarge(_) => Some(vec![b' '; max_bytes(path) + 1]),
                Read::NotAFile(what) => {
                    fail(StoreError::NotAFile {
                        path: path.clone(),
                        what,
                    });
                    None
                }
            },
            |parser, handles| {
                handles
                    .par_iter()
                    .enumerate()
                    .map(|(pos, path)| {
                        worktree_outcome(&root, parser, pos as FileId, path, |_| {}).unwrap_or_else(
                            |e| {
                                fail(e);
                                Outcome::nothing()
                            },
                        )
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
        let (items, commit) = self
            .list_revision::<Handle>(rev, &mut |_, _, _| true)?
            .expect("a listing without a hook that gives up always completes");
        let blobs = items
            .into_iter()
            .map(|(path, handle)| match handle {
                Handle::Blob(oid) => (path, oid),
                Handle::Special(_) => (path, Oid::ZERO_SHA1),
            })
            .collect();
        Ok((blobs, commit))
    }

    /// The ledger's files at a revision, each with how to read it, and the commit: walks the
    /// tree a level at a time, each level's trees decoded and parsed on all cores.
    ///
    /// Before each level is listed from git, `level` sees its folders (path, tree id) with
    /// the blob id of `ovn.toml`, and may take some out of the list and put their files into
    /// the listing itself, read in its own way (a cache does: `H` is then its own handle, of
    /// which a git [`Handle`] is one kind). `None` when `level` gives up.
    pub(crate) fn list_revision<H: From<Handle> + Send>(
        &self,
        rev: &str,
        level: LevelHook<'_, H>,
    ) -> Result<Option<Listed<H>>, StoreError> {
        read_without_rehashing();
        let (commit, tree) = self.ledger_at(rev)?;
        let settings = self.settings_id(rev, &tree)?;
        let mut items: Vec<(String, H)> = Vec::new();
        let mut folders = list_top(&tree, &mut items);
        let mut packs = None;
        while !folders.is_empty() {
            if !level(&mut folders, settings, &mut items) {
                return Ok(None);
            }
            // Reading a pack's index for a few hundred trees costs more than libgit2 takes to
            // read them; the pack reader is for the level of a thousand day folders.
            let packs = match &packs {
                _ if folders.len() < PACK_READER_MIN => None,
                Some(packs) => Some(packs),
                None => Some(&*packs.insert(PackReader::open(self.repo.path())?)),
            };
            folders =
                self.list_folders(packs.map(|p| p as &dyn TreeReader), &folders, &mut items)?;
        }
        // In path order, as the core wants them (so its own check finds them sorted).
        // A few sorted runs (one per level of the walk): a stable sort merges them in
        // close to one pass.
        items.par_sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Some((items, commit.id())))
    }

    /// The blob id of the ledger's `ovn.toml` in `tree` (the ledger's tree at `rev`), which
    /// must be a file.
    fn settings_id(&self, rev: &str, tree: &git2::Tree<'_>) -> Result<Oid, StoreError> {
        let Some(settings) = tree.get_name(NETWORK_FILE) else {
            return Err(self.no_ledger(rev));
        };
        if let Some(what) = not_a_file(settings.kind(), settings.filemode()) {
            return Err(StoreError::NotAFile {
                path: NETWORK_FILE.to_owned(),
                what,
            });
        }
        Ok(settings.id())
    }

    /// The entries of `folders` (path, tree id): files go to `items`, and the folders in them
    /// are returned, to be listed next.
    fn list_folders<H: From<Handle>>(
        &self,
        packs: Option<&dyn TreeReader>,
        folders: &[(String, Oid)],
        items: &mut Vec<(String, H)>,
    ) -> Result<Vec<(String, Oid)>, StoreError> {
        type Listed = (Vec<(String, Handle)>, Vec<(String, Oid)>);
        let listed: Vec<OnceLock<Listed>> = folders.iter().map(|_| OnceLock::new()).collect();
        let list = |i: usize, entries: &mut dyn Iterator<Item = (String, EntryKind, Oid)>| {
            let (mut files, mut below) = (Vec::new(), Vec::new());
            for (name, kind, id) in entries {
                let path = format!("{}/{name}", folders[i].0);
                keep_entry(path, kind, id, &mut files, &mut below);
            }
            let _ = listed[i].set((files, below));
        };
        let missed = match packs {
            Some(packs) => {
                let ids: Vec<Oid> = folders.iter().map(|(_, id)| *id).collect();
                packs.trees(&ids, &|i, bytes| {
                    // A tree that does not parse is left to libgit2 below, which says what
                    // is wrong with it.
                    if let Some(entries) = tree_entries(&bytes) {
                        list(i, &mut entries.into_iter());
                    }
                })?
            }
            None => (0..folders.len()).collect(),
        };
        let unparsed = (0..folders.len()).filter(|&i| listed[i].get().is_none());
        for i in missed.into_iter().chain(unparsed) {
            if listed[i].get().is_some() {
                continue;
            }
            let tree = super::loose::tree(&self.repo, folders[i].1, "cannot walk the tree")?;
            let mut entries = tree.iter().filter_map(|entry| {
                let name = entry.name().ok()?.to_owned();
                let kind = match entry.kind()? {
                    ObjectType::Tree => EntryKind::Folder,
                    ObjectType::Blob if entry.filemode() == LINK_MODE => EntryKind::Symlink,
                    ObjectType::Blob => EntryKind::File,
                    ObjectType::Commit => EntryKind::Submodule,
                    _ => return None,
                };
                Some((name, kind, entry.id()))
            });
            list(i, &mut entries);
        }
        let mut below = Vec::new();
        for slot in listed {
            let (files, folders) = slot.into_inner().unwrap_or_default();
            items.extend(files.into_iter().map(|(path, h)| (path, H::from(h))));
            below.extend(folders);
        }
        Ok(below)
    }
}

impl Store {
    /// The files of each of `folders` (path, tree id; day folders, in path order) with how
    /// to read them, and whether the folder holds a folder of its own (never cached): a
    /// window of a revision's day folders, listed through a pack reader prepared once for
    /// every window (see the cache's windowed fill).
    pub(crate) fn list_day_folders(
        &self,
        packs: &Prepared<'_>,
        folders: &[(String, Oid)],
    ) -> Result<Vec<DayFolder>, StoreError> {
        let mut out = Vec::with_capacity(folders.len());
        // One folder at a time through the shared listing, so each folder's files and
        // nested folders are told apart; the trees themselves are read all at once.
        let ids: Vec<Oid> = folders.iter().map(|(_, id)| *id).collect();
        let trees: Vec<OnceLock<Vec<u8>>> = folders.iter().map(|_| OnceLock::new()).collect();
        packs.read_trees(&ids, &|i, bytes| {
            let _ = trees[i].set(bytes);
        })?;
        // Each tree parsed into its files on all cores; those not in a pack, or that do
        // not parse here, are left to libgit2 below (which says what is wrong with them).
        let parsed: Vec<Option<DayFolder>> = folders
            .par_iter()
            .zip(trees)
            .map(|(folder, tree)| {
                let entries = tree_entries(tree.get()?)?;
                let (mut files, mut below) = (Vec::with_capacity(entries.len()), Vec::new());
                for (name, kind, id) in entries {
                    let mut path = String::with_capacity(folder.0.len() + 1 + name.len());
                    path.push_str(&folder.0);
                    path.push('/');
                    path.push_str(&name);
                    keep_entry(path, kind, id, &mut files, &mut below);
                }
                Some((files, !below.is_empty()))
            })
            .collect();
        for (folder, listed) in folders.iter().zip(parsed) {
            match listed {
                Some(listed) => out.push(listed),
                None => {
                    let mut files = Vec::new();
                    let below =
                        self.list_folders(None, std::slice::from_ref(folder), &mut files)?;
                    out.push((files, !below.is_empty()));
                }
            }
        }
        Ok(out)
    }
}

/// A day folder's files (path, how to read it) and whether it holds a folder of its own.
pub(crate) type DayFolder = (Vec<(String, Handle)>, bool);

/// What reads raw tree objects many at a time: a pack reader, or one prepared for many
/// reads.
trait TreeReader {
    /// See [`PackReader::read_trees`].
    fn trees(
        &self,
        wanted: &[Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError>;
}

impl TreeReader for PackReader {
    fn trees(
        &self,
        wanted: &[Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_trees(wanted, sink)
    }
}

impl TreeReader for Prepared<'_> {
    fn trees(
        &self,
        wanted: &[Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_trees(wanted, sink)
    }
}

/// Turns off libgit2's re-hashing of every object it reads, once for the process.
///
/// Re-hashing an object on read costs about as much as inflating it, and git itself does not
/// do it on reads either (`git fsck` is the integrity check). It is process-wide (libgit2
/// keeps it in a global, so it cannot be scoped to one read) and safe to leave off for all
/// that `ovn` does after: damage to an object almost always fails zlib's checksum when it
/// is inflated and is reported as damage; the pack reader, which reads most objects of a
/// large ledger, never re-hashes either, so both readers accept the same objects; and
/// writing always hashes what it writes, which this switch does not touch.
fn read_without_rehashing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

/// The top level of a ledger's `tree`: files go to `items`, and the record folders (and near
/// misses of them) are returned, to be listed next. A ledger may share its repository with
/// source code that is none of its business: only record folders are entered.
fn list_top<H: From<Handle>>(
    tree: &git2::Tree<'_>,
    items: &mut Vec<(String, H)>,
) -> Vec<(String, Oid)> {
    let mut folders = Vec::new();
    for entry in tree.iter() {
        let Ok(name) = entry.name() else {
            continue;
        };
        let kind = match entry.kind() {
            Some(ObjectType::Tree) if is_ledger_folder(name) => EntryKind::Folder,
            Some(ObjectType::Tree) => continue,
            Some(ObjectType::Blob) if entry.filemode() == LINK_MODE => EntryKind::Symlink,
            Some(ObjectType::Blob) => EntryKind::File,
            Some(ObjectType::Commit) => EntryKind::Submodule,
            _ => continue,
        };
        keep_entry(name.to_owned(), kind, entry.id(), items, &mut folders);
    }
    folders
}

/// What a tree entry is, for listing a ledger.
#[derive(Clone, Copy)]
enum EntryKind {
    Folder,
    File,
    /// A commit: a submodule.
    Submodule,
    /// A blob of mode 120000: a symbolic link, whose content is where it points.
    Symlink,
}

/// The git file mode of a symbolic link.
const LINK_MODE: i32 = 0o120000;

/// What a tree entry is in words, if it is not a blob of a regular file.
fn not_a_file(kind: Option<ObjectType>, mode: i32) -> Option<&'static str> {
    match kind {
        Some(ObjectType::Blob) if mode == LINK_MODE => Some("a symbolic link"),
        Some(ObjectType::Blob) => None,
        Some(ObjectType::Commit) => Some("a submodule (gitlink)"),
        _ => Some("not a file"),
    }
}

/// Files a ledger reads go to `files` (a submodule inside a record folder is judged as a
/// stray file), folders to `folders`.
fn keep_entry<H: From<Handle>>(
    path: String,
    kind: EntryKind,
    id: Oid,
    files: &mut Vec<(String, H)>,
    folders: &mut Vec<(String, Oid)>,
) {
    match kind {
        EntryKind::Folder => folders.push((path, id)),
        EntryKind::File | EntryKind::Submodule | EntryKind::Symlink
            if !ledger::is_ledger_path(&path) => {}
        EntryKind::File => files.push((path, Handle::Blob(id).into())),
        EntryKind::Submodule => files.push((path, Handle::Special("a submodule (gitlink)").into())),
        EntryKind::Symlink => files.push((path, Handle::Special("a symbolic link").into())),
    }
}

/// The entries of a raw tree object (`<octal mode> <name>\0<20-byte id>`, repeated), or
/// `None` if it does not parse as one. Names that are not UTF-8 are skipped, as libgit2's
/// walk did.
fn tree_entries(mut bytes: &[u8]) -> Option<Vec<(String, EntryKind, Oid)>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let space = bytes.iter().position(|&b| b == b' ')?;
        let nul = space + bytes[space..].iter().position(|&b| b == 0)?;
        let id = Oid::from_bytes(bytes.get(nul + 1..nul + 21)?).ok()?;
        let mut mode = 0u32;
        for &digit in &bytes[..space] {
            if !(b'0'..=b'7').contains(&digit) || mode > 0o177777 {
                return None;
            }
            mode = mode * 8 + u32::from(digit - b'0');
        }
        // As libgit2 types entries: by the mode's file-type bits.
        let kind = match mode & 0o170000 {
            0o040000 => EntryKind::Folder,
            0o160000 => EntryKind::Submodule,
            0o120000 => EntryKind::Symlink,
            _ => EntryKind::File,
        };
        if let Ok(name) = std::str::from_utf8(&bytes[space + 1..nul]) {
            out.push((name.to_owned(), kind, id));
        }
        bytes = &bytes[nul + 21..];
    }
    Some(out)
}

/// What reading some files of a listing from git needs of their handles: each file's blob
/// id, and what the few that are not blobs are. Made before the read so that the caller can
/// free its handles (a word or more per file, at a million files 24 MB or more) while the
/// blobs are inflated and parsed, which is when a cold read holds the most.
pub(crate) struct Reading {
    /// The files to read (positions in the listing), in the order their outcomes come back.
    files: Vec<FileId>,
    /// The blob of each of `files`, or the zero id when it is not read at all (a stray file,
    /// judged by its path; a file a layer above reads in its own way; not a blob).
    wanted: Vec<Oid>,
    /// The files (positions in `files`, ascending) that are not files in git, with what
    /// they are (a submodule, a link): never read, reported as such.
    special: Vec<(usize, &'static str)>,
}

impl Reading {
    /// The reading of `files` (positions in `handles`).
    pub(crate) fn plan<H: GitHandle>(
        parser: &Parser,
        handles: &[H],
        files: Vec<FileId>,
    ) -> Reading {
        let mut special = Vec::new();
        // Only records are read at all (a stray file is judged by its path): the others are
        // asked for as the zero id, which no pack holds.
        let wanted: Vec<Oid> = files
            .iter()
            .enumerate()
            .map(|(i, &file)| match handles[file as usize].git() {
                Some(Handle::Blob(oid)) if parser.needs_bytes(file) => *oid,
                Some(Handle::Special(what)) => {
                    special.push((i, *what));
                    Oid::ZERO_SHA1
                }
                _ => Oid::ZERO_SHA1,
            })
            .collect();
        Reading {
            files,
            wanted,
            special,
        }
    }

    /// How many files it reads (and outcomes it gives).
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Reads and parses the files: blobs in packs are decoded on all cores and each parsed
    /// on the thread that decoded it; the rest (loose objects, submodules) through libgit2,
    /// one handle per worker. The outcomes come back in the order of the files planned.
    pub(crate) fn read(self, git_dir: &Path, parser: &Parser) -> Result<Vec<Outcome>, StoreError> {
        if self.through_libgit2() {
            return self.read_in(None, git_dir, parser);
        }
        let packs = PackReader::open(git_dir)?;
        self.read_in(Some(&packs), git_dir, parser)
    }

    /// Whether [`Reading::read`] reads through libgit2 alone: opening the pack indexes costs
    /// more than libgit2 takes for a few hundred blobs (the small record folders and what a
    /// warm cache missed); the pack reader is for thousands.
    pub(crate) fn through_libgit2(&self) -> bool {
        self.wanted.len() < PACK_READER_MIN_BLOBS
    }

    /// The files to read (positions in the listing), in the order their outcomes come back.
    pub(crate) fn files(&self) -> &[FileId] {
        &self.files
    }

    /// The blob of each of [`Reading::files`], or the zero id when it is not read.
    pub(crate) fn wanted(&self) -> &[Oid] {
        &self.wanted
    }

    /// [`Reading::read`] for a reader that keeps small blobs: when few enough are read that
    /// libgit2 would read them ([`Reading::through_libgit2`]), those `kept` holds are taken
    /// from it, and each one libgit2 then reads is handed to `keep` (its position among the
    /// files, its bytes).
    pub(crate) fn read_keeping(
        self,
        git_dir: &Path,
        parser: &Parser,
        kept: &dyn BlobReader,
        keep: Keep<'_>,
    ) -> Result<Vec<Outcome>, StoreError> {
        if !self.through_libgit2() {
            return self.read(git_dir, parser);
        }
        self.read_with(Some(kept), git_dir, parser, Some(keep))
    }

    /// [`Reading::read`] through `packs` (a pack reader, or one prepared for many reads),
    /// or through libgit2 alone when `None`.
    pub(crate) fn read_in(
        self,
        packs: Option<&dyn BlobReader>,
        git_dir: &Path,
        parser: &Parser,
    ) -> Result<Vec<Outcome>, StoreError> {
        self.read_with(packs, git_dir, parser, None)
    }

    /// [`Reading::read_in`], each blob libgit2 reads handed to `keep` when given.
    fn read_with(
        self,
        packs: Option<&dyn BlobReader>,
        git_dir: &Path,
        parser: &Parser,
        keep: Option<Keep<'_>>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let Reading {
            files,
            wanted,
            special,
        } = self;
        // One slot per file, each filled once from whichever thread parsed it.
        let slots: Vec<OnceLock<Outcome>> = files.iter().map(|_| OnceLock::new()).collect();
        let parse = |i: usize, bytes: Vec<u8>| {
            let _ = slots[i].set(parser.parse(files[i], bytes));
        };
        let missed = match packs {
            None => (0..wanted.len()).collect(),
            // A blob over the limit of most files is left to libgit2's header read below
            // (which reads a payout record up to its larger bound), never inflated here.
            Some(packs) => packs.blobs_up_to(&wanted, MAX_FILE_BYTES, &parse)?,
        };
        missed.par_iter().try_for_each_init(
            || git2::Repository::open(git_dir).ok(),
            |repo, &i| {
                let file = files[i];
                let oid = wanted[i];
                // Not read (see `wanted`): judged below.
                if oid.is_zero() {
                    return Ok(());
                }
                let repo = repo.as_ref().ok_or_else(|| StoreError::NotARepository {
                    path: git_dir.to_path_buf(),
                })?;
                // A damaged loose object would make libgit2 spin: checked before it reads one.
                super::loose::verify(repo.commondir(), oid)?;
                let damaged = |e| super::loose::damaged(repo, oid, "cannot read a blob", e);
                // The size from the object's header, before inflating it.
                let odb = repo.odb().map_err(damaged)?;
                let (size, _) = odb.read_header(oid).map_err(damaged)?;
                if size > parser.max_bytes(file) {
                    let _ = slots[i].set(parser.unread(file, Unread::TooLarge(size as u64)));
                    return Ok(());
                }
                let bytes = repo.find_blob(oid).map_err(damaged)?.content().to_vec();
                if let Some(keep) = keep {
                    keep(i, &bytes);
                }
                parse(i, bytes);
                Ok::<(), StoreError>(())
            },
        )?;
        drop(wanted);
        Ok(slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                slot.into_inner().unwrap_or_else(|| {
                    match special.binary_search_by_key(&i, |&(at, _)| at) {
                        Ok(k) => parser.unread(files[i], Unread::NotAFile(special[k].1)),
                        Err(_) => parser.judge_path(files[i]),
                    }
                })
            })
            .collect())
    }
}

/// What is handed each blob libgit2 reads for [`Reading::read_keeping`]: its position among
/// the files planned, and its bytes.
pub(crate) type Keep<'k> = &'k (dyn Fn(usize, &[u8]) + Sync);

/// What reads many blobs at a time for a [`Reading`]: a pack reader, or one prepared for
/// many reads.
pub(crate) trait BlobReader: Sync {
    /// See [`PackReader::read_many_up_to`].
    fn blobs_up_to(
        &self,
        wanted: &[Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError>;
}

impl BlobReader for PackReader {
    fn blobs_up_to(
        &self,
        wanted: &[Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_many_up_to(wanted, limit, sink)
    }
}

impl BlobReader for Prepared<'_> {
    fn blobs_up_to(
        &self,
        wanted: &[Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_many_up_to(wanted, limit, sink)
    }
}

/// Fewer objects than this are read through libgit2, more with the pack reader.
const PACK_READER_MIN: usize = 256;

/// Fewer blobs than this are read through libgit2 (whose pack indexes are mapped, not read):
/// reading a million-object pack index costs more than a few day folders of blobs.
const PACK_READER_MIN_BLOBS: usize = 4096;

/// How one file of a revision is read from git.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Handle {
    /// From its blob.
    Blob(Oid),
    /// A submodule or a symbolic link where a file should be: what it is. Never read.
    Special(&'static str),
}

/// A handle of a listing that may be read from git: a git [`Handle`] itself, or a handle of
/// a layer above that reads some files in its own way (`None` for those).
pub(crate) trait GitHandle: Sync {
    /// How to read the file from git, if it is read from git.
    fn git(&self) -> Option<&Handle>;
}

impl GitHandle for Handle {
    fn git(&self) -> Option<&Handle> {
        Some(self)
    }
}

/// A revision's files (path, how to read it), in path order, and its commit.
pub(crate) type Listed<H> = (Vec<(String, H)>, Oid);

/// What [`Store::list_revision`] shows each level of the walk to: the folders about to be
/// listed from git, the blob id of `ovn.toml`, and the listing so far. `false` gives up.
pub(crate) type LevelHook<'a, H> =
    &'a mut dyn FnMut(&mut Vec<(String, Oid)>, Oid, &mut Vec<(String, H)>) -> bool;

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
                        super::loose::blob(&repo, *oid, "cannot read a blob")?
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

/// Opens the working-tree file at `path` (ledger-relative) under `root` as the working
/// tree's read does: never following a link or blocking on a FIFO, no further than the size
/// limit (the listing did not enter linked folders).
fn open_in_worktree(root: &Path, path: &str) -> Result<Read, StoreError> {
    let full = root.join(path);
    match safe::read(&full, max_bytes(path)) {
        Ok(opened) => Ok(opened),
        // A folder named like a record (a submodule's checkout, `agents/x.toml/`).
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Ok(Read::NotAFile("a directory")),
        Err(e) => Err(StoreError::io(&full, "cannot read", e)),
    }
}

/// Reads and parses the working-tree file `file` (at `path`, under `root`) as the working
/// tree's read does; `bytes` sees what was read of a record before it is parsed (a cache
/// hashes it).
pub(crate) fn worktree_outcome(
    root: &Path,
    parser: &Parser,
    file: FileId,
    path: &str,
    bytes: impl FnOnce(&[u8]),
) -> Result<Outcome, StoreError> {
    if !parser.needs_bytes(file) {
        // Judged by its path, unless it is a link or the like.
        let t = std::fs::symlink_metadata(root.join(path));
        return Ok(match t.ok().and_then(|m| safe::special(&m.file_type())) {
            Some(what) => parser.unread(file, Unread::NotAFile(what)),
            None => parser.judge_path(file),
        });
    }
    Ok(match open_in_worktree(root, path)? {
        Read::Bytes(read) => {
            bytes(&read);
            parser.parse(file, read)
        }
        Read::NotAFile(what) => parser.unread(file, Unread::NotAFile(what)),
        Read::TooLarge(size) => parser.unread(file, Unread::TooLarge(size)),
    })
}

/// Whether a top-level folder is read: a record folder or a near miss of one.
/// Whether a top-level folder is read: a record folder or a near miss of one (`Agents/`,
/// so it can be reported). The working tree's stamp lists by the same rule.
pub(super) fn is_ledger_folder(name: &str) -> bool {
    RecordType::ALL.iter().any(|k| k.folder() == name) || near_miss_folder(name).is_some()
}

/// Whether the listing goes into the entry `name` of a record folder. A folder named like a
/// record is listed, not entered: it is reported as not a file (where a submodule is checked
/// out, say). The working tree's stamp enters by the same rule.
pub(super) fn enters(name: &str, is_dir: bool) -> bool {
    is_dir && !name.ends_with(".toml")
}

fn walk(
    dir: &Path,
    rel: &str,
    out: &mut Vec<String>,
    skip: &dyn Fn(&str) -> bool,
) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, "cannot list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(dir, "cannot list", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = format!("{rel}/{name}");
        let file_type = entry
            .file_type()
            .map_err(|e| StoreError::io(&entry.path(), "cannot stat", e))?;
        if enters(&name, file_type.is_dir()) {
            if !skip(&rel_path) {
                walk(&entry.path(), &rel_path, out, skip)?;
            }
        } else {
            out.push(rel_path);
        }
    }
    Ok(())
}

impl Store {
    /// The commit `rev` names and the tree of the ledger in it (the repository's, or the
    /// folder the ledger lives in).
    fn ledger_at(&self, rev: &str) -> Result<(git2::Commit<'_>, git2::Tree<'_>), StoreError> {
        let commit = self.resolve(rev)?;
        let tree = self.tree_of(&commit)?;
        if self.prefix.is_empty() {
            return Ok((commit, tree));
        }
        let entry = tree
            .get_path(Path::new(&self.prefix))
            .map_err(|_| self.no_ledger(rev))?;
        if entry.kind() != Some(ObjectType::Tree) {
            return Err(self.no_ledger(rev));
        }
        let tree = super::loose::tree(&self.repo, entry.id(), "cannot read the ledger's tree")?;
        Ok((commit, tree))
    }

    /// The tree of `commit`, checked before libgit2 reads it (see the `loose` module).
    pub(crate) fn tree_of(&self, commit: &git2::Commit<'_>) -> Result<git2::Tree<'_>, StoreError> {
        super::loose::tree(
            &self.repo,
            commit.tree_id(),
            "cannot read the commit's tree",
        )
    }

    fn no_ledger(&self, rev: &str) -> StoreError {
        StoreError::NoLedgerAtRevision {
            rev: rev.to_owned(),
            prefix: self.prefix.clone(),
        }
    }

    /// The blob id of `ovn.toml` at `rev` (what the folder cache's keys name as the
    /// settings its records were parsed under); `None` when the ledger has none as a file.
    pub fn network_blob(&self, rev: &str) -> Result<Option<Oid>, StoreError> {
        let (_, tree) = self.ledger_at(rev)?;
        Ok(tree
            .get_name(NETWORK_FILE)
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| e.id()))
    }

    /// What a report over a revision's contributions depends on besides them: a digest of
    /// the ledger's other top-level entries (names and object ids: `ovn.toml`, agents,
    /// projects, agreements, ...), and the tree id of each contribution day folder.
    pub fn contribution_trees(
        &self,
        rev: &str,
    ) -> Result<(String, std::collections::HashMap<String, Oid>), StoreError> {
        use sha2::{Digest, Sha256};
        let (_, tree) = self.ledger_at(rev)?;
        let mut digest = Sha256::new();
        let mut days = std::collections::HashMap::new();
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            if name != RecordType::Contribution.folder() {
                digest.update(format!("{name} {}\n", entry.id()).as_bytes());
                continue;
            }
            // contributions/<yyyy>/<mm>/<dd>: three levels of small trees.
            let mut level = vec![(name, entry.id())];
            for _ in 0..3 {
                let mut next = Vec::new();
                for (path, id) in level {
                    let Ok(t) = self.repo.find_tree(id) else {
                        continue;
                    };
                    for e in t.iter() {
                        if e.kind() == Some(ObjectType::Tree) {
                            let n = String::from_utf8_lossy(e.name_bytes());
                            next.push((format!("{path}/{n}"), e.id()));
                        }
                    }
                }
                level = next;
            }
            days.extend(level);
        }
        let hex = crate::core::value::hex(&digest.finalize());
        Ok((hex, days))
    }

    /// One ledger file at a revision, if it exists there.
    pub fn read_file_at(
        &self,
        rev: &str,
        ledger_path: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let commit = self.resolve(rev)?;
        let tree = self.tree_of(&commit)?;
        let Ok(entry) = tree.get_path(Path::new(&self.repo_path(ledger_path))) else {
            return Ok(None);
        };
        let blob = super::loose::blob(&self.repo, entry.id(), "cannot read a blob")?;
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
            let tree = self.tree_of(&self.resolve(rev)?)?;
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
                let blob = super::loose::blob(&self.repo, entry.id(), "cannot read a blob")?;
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
#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mode: &str, name: &[u8], id: u8) -> Vec<u8> {
        let mut out = format!("{mode} ").into_bytes();
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(&[id; 20]);
        out
    }

    #[test]
    fn tree_entries_are_typed_by_mode_as_libgit2_does() {
        let mut tree = entry("100644", b"a.toml", 1);
        tree.extend(entry("100755", b"run.sh", 2));
        tree.extend(entry("120000", b"link", 3));
        tree.extend(entry("40000", b"2026", 4));
        tree.extend(entry("160000", b"vendored", 5));
        tree.extend(entry("100644", b"caf\xe9.toml", 6));
        let entries = tree_entries(&tree).unwrap();
        let kinds: Vec<(&str, &str, u8)> = entries
            .iter()
            .map(|(name, kind, id)| {
                let kind = match kind {
                    EntryKind::Folder => "folder",
                    EntryKind::File => "file",
                    EntryKind::Submodule => "submodule",
                    EntryKind::Symlink => "symlink",
                };
                (name.as_str(), kind, id.as_bytes()[0])
            })
            .collect();
        // The name that is not UTF-8 is skipped, as libgit2's walk skipped it. A link is
        // typed by its mode, as the libgit2 walk types it by `filemode`: never read.
        assert_eq!(
            kinds,
            [
                ("a.toml", "file", 1),
                ("run.sh", "file", 2),
                ("link", "symlink", 3),
                ("2026", "folder", 4),
                ("vendored", "submodule", 5),
            ]
        );
        assert!(tree_entries(b"").unwrap().is_empty());
    }

    #[test]
    fn malformed_trees_are_left_to_libgit2() {
        let whole = entry("100644", b"a.toml", 1);
        assert!(
            tree_entries(&whole[..whole.len() - 1]).is_none(),
            "short id"
        );
        assert!(tree_entries(b"100644 a.toml").is_none(), "no NUL");
        assert!(
            tree_entries(&entry("10x644", b"a", 1)).is_none(),
            "not octal"
        );
        assert!(
            tree_entries(&entry("1777777777777", b"a", 1)).is_none(),
            "mode overflow"
        );
    }
}
