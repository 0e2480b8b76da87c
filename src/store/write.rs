//! Writing records: new files and one commit holding exactly them.
//!
//! The commit is built from the current branch tip's tree plus the new blobs, not from the
//! index, so whatever the user has staged is never swept into an `ovn` commit. Objects are
//! written first (harmless if interrupted), then the files, then the branch is moved, and
//! only then the index learns the new paths.

use std::path::{Path, PathBuf};

use git2::{FileMode, Oid, Repository, Signature, Time};

use super::{Store, StoreError};
use crate::context::Context;

/// Who authors a commit, and when.
#[derive(Clone, Debug)]
pub struct Identity {
    /// Author name.
    pub name: String,
    /// Author email.
    pub email: String,
    /// Commit time.
    pub time: Time,
}

impl Identity {
    /// The identity git would use for this repository (`GIT_AUTHOR_*` first, then
    /// `user.name`/`user.email` from git config), stamped with the context's clock.
    pub fn resolve(repo: &Repository, ctx: &Context) -> Result<Identity, StoreError> {
        Identity::from_config(repo.config().ok(), ctx)
    }

    /// The same, from a git configuration (the user's global one when there is no repository).
    pub fn from_config(
        config: Option<git2::Config>,
        ctx: &Context,
    ) -> Result<Identity, StoreError> {
        let get = |key: &str| {
            config
                .as_ref()
                .and_then(|c| c.get_string(key).ok())
                .filter(|s| !s.is_empty())
        };
        let name = ctx.author_name.clone().or_else(|| get("user.name"));
        let email = ctx.author_email.clone().or_else(|| get("user.email"));
        match (name, email) {
            (Some(name), Some(email)) => Ok(Identity {
                name,
                email,
                time: Time::new(ctx.now.timestamp(), ctx.now.offset().local_minus_utc() / 60),
            }),
            _ => Err(StoreError::NoIdentity),
        }
    }

    pub(crate) fn signature(&self) -> Result<Signature<'static>, StoreError> {
        Signature::new(&self.name, &self.email, &self.time)
            .map_err(StoreError::git("invalid author identity"))
    }
}

impl Store {
    /// The path of a ledger file inside the repository.
    pub fn repo_path(&self, ledger_path: &str) -> String {
        if self.prefix.is_empty() {
            ledger_path.to_owned()
        } else {
            format!("{}/{ledger_path}", self.prefix)
        }
    }

    /// Writes new files (ledger-relative paths) into the working tree and commits exactly those
    /// files on the current branch. On failure, the files it wrote are removed again.
    pub fn commit_new_files(
        &self,
        files: &[(String, Vec<u8>)],
        message: &str,
        identity: &Identity,
    ) -> Result<Oid, StoreError> {
        let mut written = Written::default();
        let result = self.commit_new_files_tracked(files, message, identity, &mut written);
        if result.is_err() {
            written.undo();
        }
        result
    }

    /// [`Store::commit_new_files`], recording what it creates in `written` so a caller with
    /// more to undo (a new repository) can roll everything back together.
    pub(crate) fn commit_new_files_tracked(
        &self,
        files: &[(String, Vec<u8>)],
        message: &str,
        identity: &Identity,
        written: &mut Written,
    ) -> Result<Oid, StoreError> {
        let root = self.root().ok_or(StoreError::BareRepository {
            path: self.repo.path().to_path_buf(),
        })?;
        let repo = &self.repo;
        let parent = match repo.head() {
            Ok(head) => Some(
                head.peel_to_commit()
                    .map_err(StoreError::git("cannot read HEAD"))?,
            ),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                None
            }
            Err(e) => return Err(StoreError::git("cannot read HEAD")(e)),
        };
        let base = match &parent {
            Some(commit) => commit
                .tree()
                .map_err(StoreError::git("cannot read HEAD's tree"))?,
            None => {
                let empty = repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(StoreError::git("cannot write a tree"))?;
                repo.find_tree(empty)
                    .map_err(StoreError::git("cannot write a tree"))?
            }
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, bytes) in files {
            let oid = repo
                .blob(bytes)
                .map_err(StoreError::git("cannot write a blob"))?;
            update.upsert(self.repo_path(path), oid, FileMode::Blob);
        }
        let tree_id = update
            .create_updated(repo, &base)
            .map_err(StoreError::git("cannot build the new tree"))?;
        let tree = repo
            .find_tree(tree_id)
            .map_err(StoreError::git("cannot build the new tree"))?;

        for (path, bytes) in files {
            written.write(root, path, bytes)?;
        }
        let signature = identity.signature()?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let commit = match repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        ) {
            Ok(oid) => oid,
            Err(e) => return Err(StoreError::git("cannot commit")(e)),
        };
        // The commit is in; bring the index up to date for just these paths so `git status`
        // is clean and nothing the user staged changes.
        let mut index = repo
            .index()
            .map_err(StoreError::git("cannot open the index"))?;
        for (path, _) in files {
            index
                .add_path(Path::new(&self.repo_path(path)))
                .map_err(StoreError::git("cannot update the index"))?;
        }
        index
            .write()
            .map_err(StoreError::git("cannot write the index"))?;
        Ok(commit)
    }
}

/// Files and folders created so far, to remove if a later step fails.
#[derive(Default)]
pub(crate) struct Written {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    git_dir: Option<PathBuf>,
}

impl Written {
    /// Remembers a repository created by this run, to remove on failure.
    pub(crate) fn created_repository(&mut self, git_dir: PathBuf) {
        self.git_dir = Some(git_dir);
    }

    /// Creates `root/path` with `bytes`: written to a temporary file and renamed into place, so
    /// a reader never sees half a record.
    pub(crate) fn write(
        &mut self,
        root: &Path,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        // Never through a link in the working tree (`agents -> /elsewhere`).
        super::safe::check_write_target(root, path)?;
        let full = root.join(path);
        let dir = full.parent().unwrap_or(root);
        self.create_dirs(dir)?;
        let tmp = dir.join(format!(
            ".{}.ovn-tmp",
            full.file_name().unwrap_or_default().to_string_lossy()
        ));
        super::atomic::write_bytes(&full, &tmp, true, bytes)
            .map_err(|(_, e)| StoreError::io(&full, "cannot write", e))?;
        self.files.push(full);
        Ok(())
    }

    /// Creates `dir` and any missing parents, remembering which ones were new.
    pub(crate) fn create_dirs(&mut self, dir: &Path) -> Result<(), StoreError> {
        let mut missing = Vec::new();
        let mut at = dir;
        while !at.exists() {
            missing.push(at.to_path_buf());
            match at.parent() {
                Some(parent) => at = parent,
                None => break,
            }
        }
        for d in missing.into_iter().rev() {
            std::fs::create_dir(&d)
                .map_err(|e| StoreError::io(&d, "cannot create directory", e))?;
            self.dirs.push(d);
        }
        Ok(())
    }

    /// Removes what was created, newest first.
    pub(crate) fn undo(&mut self) {
        if let Some(git_dir) = self.git_dir.take() {
            let _ = std::fs::remove_dir_all(git_dir);
        }
        for f in self.files.drain(..).rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in self.dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}
