//! Another network's ledger, read from its repository's objects.
//!
//! A network taking in what another network's payout paid it reads that network's ledger
//! (`core::incoming`): from a local clone given as a path, or from a ref of this repository
//! that a `git fetch` brought in. Either way only git objects are read, exactly as `--at REV`
//! reads this ledger: no checkout, no working tree, no cache (what is recorded and verified
//! never comes from one). A path is the repository itself, never searched for upwards, and
//! none of its components may be a symbolic link: a path from a script or a pull request is
//! data, and a link could point the reading anywhere. The ledger is at the top of the other
//! repository's tree.

use std::path::{Component, Path, PathBuf};

use git2::{Repository, RepositoryOpenFlags};

use super::{Store, StoreError};

impl Store {
    /// Opens the repository at `path` (relative to `cwd`) for reading another network's
    /// ledger at its top level, refusing a path through a symbolic link.
    pub fn open_foreign(cwd: &Path, path: &Path) -> Result<Store, StoreError> {
        let full = cwd.join(path);
        let mut walked = PathBuf::new();
        // Only what was given is judged: the components of `cwd` are the caller's own.
        let skip = if path.is_absolute() {
            0
        } else {
            cwd.components().count()
        };
        for (i, c) in full.components().enumerate() {
            walked.push(c);
            if i < skip || !matches!(c, Component::Normal(_)) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&walked)
                .map_err(|e| StoreError::io(&walked, "cannot open the source repository", e))?;
            if meta.file_type().is_symlink() {
                return Err(StoreError::NotAFile {
                    path: walked.display().to_string(),
                    what: "a symbolic link",
                });
            }
        }
        if let Ok(meta) = std::fs::symlink_metadata(full.join(".git"))
            && meta.file_type().is_symlink()
        {
            return Err(StoreError::NotAFile {
                path: full.join(".git").display().to_string(),
                what: "a symbolic link",
            });
        }
        let repo = Repository::open_ext(&full, RepositoryOpenFlags::NO_SEARCH, [] as [&Path; 0])
            .map_err(|e| {
                StoreError::io(
                    &full,
                    "cannot open the source repository",
                    std::io::Error::other(e.message().to_owned()),
                )
            })?;
        Ok(Store {
            repo,
            root: None,
            prefix: String::new(),
            cache: false,
            cache_writes: false,
            fill_window: None,
            failpoint: None,
        })
    }

    /// This repository with the ledger at the top of its tree, uncached: for another
    /// network's ledger fetched into a ref here.
    pub fn foreign_here(&self) -> Result<Store, StoreError> {
        let repo = Repository::open(self.repo.path())
            .map_err(StoreError::git("cannot open the repository"))?;
        Ok(Store {
            repo,
            root: None,
            prefix: String::new(),
            cache: false,
            cache_writes: false,
            fill_window: None,
            failpoint: None,
        })
    }
}
