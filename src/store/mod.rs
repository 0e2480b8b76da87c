//! The store: a ledger inside a git repository.
//!
//! Reading goes two ways with one result type ([`RawFile`]s for the core): from the working
//! tree (what `ovn check` judges before a commit) or from the objects of any revision (what
//! review and payouts use; no checkout, so it works in bare and sparse clones too). Writing
//! builds blobs, a tree and a commit in the object database first and moves the branch last,
//! so a crash leaves either the old state or the new one. `ovn` never talks to a remote.

mod error;
mod init;
mod read;
mod write;

pub use error::{ErrorKind, StoreError};
pub use init::{InitOutcome, NewLedger, init};
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
}

impl Store {
    /// Finds the ledger for `start`: the nearest `ovn.toml` in `start` or a parent, and the git
    /// repository around it. In a bare repository the ledger is read at its top level.
    pub fn discover(start: &Path) -> Result<Store, StoreError> {
        let start = start
            .canonicalize()
            .map_err(|e| StoreError::io(start, "cannot open directory", e))?;
        let ledger_root = start
            .ancestors()
            .find(|dir| dir.join(NETWORK_FILE).is_file());
        let Some(root) = ledger_root else {
            // A bare clone has no working tree to search: read the ledger from its objects.
            if let Ok(repo) = Repository::open(&start)
                && repo.is_bare()
            {
                return Ok(Store {
                    repo,
                    root: None,
                    prefix: String::new(),
                });
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
        let prefix = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        Ok(Store {
            repo,
            root: Some(root.to_path_buf()),
            prefix,
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

    /// The underlying repository.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }
}
