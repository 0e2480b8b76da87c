//! The store: a ledger inside a git repository.
//!
//! Reading goes two ways with one result type ([`RawFile`](crate::core::ledger::RawFile)s for the core): from the working
//! tree (what `ovn check` judges before a commit) or from the objects of any revision (what
//! review and payouts use; no checkout, so it works in bare and sparse clones too). Writing
//! builds blobs, a tree and a commit in the object database first and moves the branch last,
//! so a crash leaves either the old state or the new one. `ovn` never talks to a remote.

pub(crate) mod atomic;
mod error;
mod foreign;
mod fsmonitor;
mod history;
mod index;
mod inflate;
mod init;
mod loose;
mod pack;
mod range;
pub(crate) mod read;
pub mod rev;
mod safe;
mod sshsig;
mod staged;
mod stamp;
mod status;
mod treediff;
mod txn;
mod write;

pub use error::{ErrorKind, StoreError};
pub use fsmonitor::{Changed, Report};
/// Commit and object ids, as the store names them (the layers above never use git2 itself).
pub use git2::Oid;
pub use history::{AddedBy, FileChange};
pub use init::{InitOutcome, NewLedger, init};
pub use pack::{PackReader, Prepared};
pub use range::{RuleIds, Special, Touch};
pub use rev::ResolvedRev;
pub use sshsig::{SigningKey, VerifyJob};
pub use staged::{IndexFiles, IndexVouch, Refused, SharedDigests, Staged, folder_tree_id};
pub use stamp::{FolderStamp, Shown, Stamp, Trusted};
pub use status::{Change, ChangeKind, InProgress, Pending, UNSTAGED, Uncommitted, Upstream};
pub use txn::{Interrupted, Mode, Outcome, Plan, View, WriteOptions};
pub use write::Identity;

use std::path::{Path, PathBuf};

use git2::Repository;

use crate::core::ledger::NETWORK_FILE;

/// A ledger found on disk: its repository and where in it the ledger lives.
pub struct Store {
    repo: Repository,
    /// The ledger root in the working tree (absent for a bare repository).
    root: Option<PathBuf>,
    /// The ledger root's path inside the repository tree (`""` at the top, else `a/b`).
    prefix: String,
    /// Whether the caches above the store may be used and filled (`--no-cache` turns it
    /// off): carried here because every read of this ledger goes through this store.
    cache: bool,
    /// Whether they may also be written (`ovn status` reads the cache others filled and
    /// writes nothing).
    cache_writes: bool,
    /// Testing only: how many files a cold cache is filled with at a time (see
    /// [`Store::fill_window`]).
    fill_window: Option<usize>,
    /// Testing only: a read aborts the process at this named point (see
    /// [`Store::fail_at`]).
    failpoint: Option<String>,
}

impl Store {
    /// Finds the ledger for `start`: the nearest `ovn.toml` in `start` or a parent, and the git
    /// repository around it. In a bare repository the ledger is read at its top level.
    ///
    /// With no `ovn.toml` in `start` or above it, a ledger kept in a subfolder of a code
    /// repository is still found from anywhere in that repository (its top, `src/`, a
    /// sibling folder): the one `ovn.toml` git tracks (in its index: committed or staged) and
    /// the working tree has as a plain file. Several are an error that lists them, to be
    /// chosen with `-C`; none is "not in a ledger".
    pub fn discover(start: &Path) -> Result<Store, StoreError> {
        let start = start
            .canonicalize()
            .map_err(|e| StoreError::io(start, "cannot open directory", e))?;
        let ledger_root = start
            .ancestors()
            .find(|dir| dir.join(NETWORK_FILE).is_file());
        let Some(root) = ledger_root else {
            // No ovn.toml on disk: a bare clone, or a working tree that is not checked out
            // (or a sparse checkout). The ledger can still be read from git objects with
            // `--at`, taking the directory's place in the repository as the ledger's.
            if let Ok(repo) = Repository::discover(&start) {
                let prefix = match repo.workdir() {
                    None => Some(String::new()),
                    Some(workdir) => workdir
                        .canonicalize()
                        .ok()
                        .and_then(|w| start.strip_prefix(w).ok().map(repo_relative)),
                };
                // Only where HEAD (or, in a bare clone, anything) has a ledger there; a plain
                // code repository without a ledger is "not in a ledger".
                let committed = |prefix: &str| {
                    let path = if prefix.is_empty() {
                        NETWORK_FILE.to_owned()
                    } else {
                        format!("{prefix}/{NETWORK_FILE}")
                    };
                    repo.head()
                        .and_then(|h| h.peel_to_tree())
                        .is_ok_and(|t| t.get_path(Path::new(&path)).is_ok())
                };
                if let Some(prefix) = prefix
                    && (repo.is_bare() || committed(&prefix))
                {
                    return Ok(Store {
                        repo,
                        root: None,
                        prefix,
                        cache: true,
                        cache_writes: true,
                        fill_window: None,
                        failpoint: None,
                    });
                }
                // A ledger in a subfolder of a code repository, asked from its top or from
                // a sibling folder: the only one git tracks in the repository.
                if let Some(workdir) = repo.workdir() {
                    let found = tracked_ledgers(&repo, workdir);
                    match found.as_slice() {
                        [] => {}
                        [one] => return Store::discover(&workdir.join(one)),
                        many => {
                            let relative = |dir: &String| {
                                let dir = workdir.join(dir);
                                let dir = dir.canonicalize().unwrap_or(dir);
                                relative_to(&dir, &start)
                            };
                            return Err(StoreError::SeveralLedgers {
                                found: many.iter().map(relative).collect(),
                                start,
                            });
                        }
                    }
                }
            }
            return Err(StoreError::NotALedger { start });
        };
        let repo = Repository::discover(root).map_err(|_| StoreError::NotARepository {
            path: root.to_path_buf(),
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| StoreError::NotARepository {
                path: root.to_path_buf(),
            })?
            .canonicalize()
            .map_err(|e| StoreError::io(root, "cannot open the repository's working tree", e))?;
        let relative = root
            .strip_prefix(&workdir)
            .map_err(|_| StoreError::NotARepository {
                path: root.to_path_buf(),
            })?;
        let prefix = repo_relative(relative);
        Ok(Store {
            repo,
            root: Some(root.to_path_buf()),
            prefix,
            cache: true,
            cache_writes: true,
            fill_window: None,
            failpoint: None,
        })
    }

    /// The ledger root in the working tree, if there is one.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The ledger's path inside the repository (`""` when it is the repository's top).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where the search for this ledger started, for messages.
    pub fn describe(&self) -> PathBuf {
        match self.repo.workdir() {
            Some(w) if self.prefix.is_empty() => w.components().collect(),
            Some(w) => w.join(&self.prefix),
            None => self.repo.path().to_path_buf(),
        }
    }

    /// The underlying repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// Another handle on the same ledger, for reading on another thread (a libgit2
    /// repository handle is not shared between threads).
    pub fn reopen(&self) -> Result<Store, StoreError> {
        let repo = Repository::open(self.repo.path())
            .map_err(StoreError::git("cannot open the repository"))?;
        Ok(Store {
            repo,
            root: self.root.clone(),
            prefix: self.prefix.clone(),
            cache: self.cache,
            cache_writes: self.cache_writes,
            fill_window: self.fill_window,
            failpoint: self.failpoint.clone(),
        })
    }

    /// Checks the loose file of `oid`, if it has one, before libgit2 reads it: a truncated
    /// one would hang libgit2 (see the `loose` module).
    pub(crate) fn guard(&self, oid: git2::Oid) -> Result<(), StoreError> {
        loose::verify(self.repo.commondir(), oid)
    }

    /// Turns the caches off (`--no-cache`) or on (the default) for this ledger's reads. The
    /// store itself reads git only; the cache, a layer above it, asks [`Store::caching`].
    pub fn set_cache(&mut self, on: bool) {
        self.cache = on;
    }

    /// Whether the layers above may use and fill their caches for this ledger.
    pub fn caching(&self) -> bool {
        self.cache
    }

    /// Lets the caches be read but never written, pruned or made (`false`), or read and
    /// filled (`true`, the default) while caching is on: for a command that promises to write
    /// nothing but may as well use what others kept.
    pub fn set_cache_writes(&mut self, on: bool) {
        self.cache_writes = on;
    }

    /// Whether the caches may be written (see [`Store::set_cache_writes`]).
    pub fn cache_writes(&self) -> bool {
        self.cache_writes
    }

    /// Sets how many files a cold cache is filled with at a time (tests make it small;
    /// `None`: the cache's own size).
    pub fn set_fill_window(&mut self, files: Option<usize>) {
        self.fill_window = files;
    }

    /// How many files a cold cache is filled with at a time, when set (see
    /// [`Store::set_fill_window`]).
    pub fn fill_window(&self) -> Option<usize> {
        self.fill_window
    }

    /// Sets the point a read aborts the process at (`OVN_FAILPOINT`; tests only).
    pub fn set_failpoint(&mut self, point: Option<String>) {
        self.failpoint = point;
    }

    /// Aborts the process (or pauses it) when `name` is the failpoint set, as a write does
    /// at its own: a test can then see what a read left behind at that point (the cache a
    /// cold fill wrote, say), as a crash would.
    pub fn fail_at(&self, name: &str) {
        txn::failpoint_at(self.failpoint.as_deref(), name);
    }
}

/// The folders (repository-relative, `/`-separated, sorted) of every `ovn.toml` that git's
/// index tracks as a plain file and the working tree has as one (never through a link).
/// An index that cannot be read (libgit2 cannot read a split one) finds none.
fn tracked_ledgers(repo: &Repository, workdir: &Path) -> Vec<String> {
    let Ok(index) = repo.index() else {
        return Vec::new();
    };
    let mut found: Vec<String> = index
        .iter()
        .filter(|e| e.mode & 0o170000 == 0o100000)
        .filter_map(|e| {
            let path = std::str::from_utf8(&e.path).ok()?;
            let dir = match path.strip_suffix(NETWORK_FILE)? {
                "" => "",
                dir => dir.strip_suffix('/')?,
            };
            let on_disk = std::fs::symlink_metadata(workdir.join(path)).ok()?;
            on_disk.is_file().then(|| dir.to_owned())
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// `path` as seen from `from` (both absolute), for messages: `ledger`, `../ledger`.
fn relative_to(path: &Path, from: &Path) -> String {
    let common = path
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count().saturating_sub(common);
    let mut parts: Vec<String> = vec!["..".to_owned(); ups];
    parts.extend(
        path.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// A relative path as the `/`-separated form git trees use.
fn repo_relative(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
