//! Store errors: what went wrong with the repository or the file system, said so a person can
//! act on it, and classified so the CLI can choose its exit code.

use std::path::{Path, PathBuf};

/// Whether an error is the user's request or the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request cannot be done as asked (unknown revision, ledger exists already).
    Usage,
    /// The machine, the repository or the file system failed or is not set up.
    Environment,
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No `ovn.toml` in the directory or any parent.
    #[error("not in a ledger: no ovn.toml in {} or any parent directory", .start.display())]
    NotALedger {
        /// Where the search started.
        start: PathBuf,
    },
    /// No `ovn.toml` in the directory or a parent, and several elsewhere in its repository.
    #[error(
        "not in a ledger: no ovn.toml in {} or any parent directory, and {} ledgers elsewhere in this repository: {}",
        .start.display(),
        .found.len(),
        .found.join(", ")
    )]
    SeveralLedgers {
        /// Where the search started.
        start: PathBuf,
        /// The ledgers' folders, relative to the current directory, sorted.
        found: Vec<String>,
    },
    /// The working tree has no ledger to read (bare, not checked out, or sparse); the
    /// repository may still hold one at a revision.
    #[error(
        "no ovn.toml in the working tree at {} (a bare, sparse or not checked-out repository)",
        .path.display()
    )]
    NotCheckedOut {
        /// The directory.
        path: PathBuf,
    },
    /// The ledger is not inside a git working tree.
    #[error("the ledger at {} is not inside a git working tree", .path.display())]
    NotARepository {
        /// The ledger root.
        path: PathBuf,
    },
    /// `ovn init` inside a bare repository.
    #[error(
        "{} is a bare git repository, which has no working tree for a ledger",
        .path.display()
    )]
    BareRepository {
        /// The repository.
        path: PathBuf,
    },
    /// `ovn init` where a ledger already is.
    #[error("a ledger already exists here: {}", .path.display())]
    AlreadyALedger {
        /// The existing `ovn.toml`.
        path: PathBuf,
    },
    /// `ovn init` over record folders that already hold files.
    #[error(
        "{} already holds files; ovn init only creates a new ledger and changes nothing that exists",
        .path.display()
    )]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// A revision that does not resolve to a commit.
    #[error("revision {rev:?} not found: {reason}")]
    UnknownRevision {
        /// What was asked.
        rev: String,
        /// What git said.
        reason: String,
    },
    /// The revision has no ledger at the ledger's path.
    #[error("revision {rev:?} has no ledger (no ovn.toml) at {}", ledger_place(.prefix))]
    NoLedgerAtRevision {
        /// What was asked.
        rev: String,
        /// Where the ledger was looked for.
        prefix: String,
    },
    /// No author identity for a commit.
    #[error("no git identity to author the commit")]
    NoIdentity,
    /// Another `ovn` process held the repository's write lock for too long.
    #[error("the repository is busy: another ovn process holds {}", .path.display())]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// HEAD is detached: there is no branch to add a commit to.
    #[error(
        "HEAD is detached (not on a branch): ovn does not guess which branch a record belongs on"
    )]
    DetachedHead,
    /// The current branch has no commit yet, so there is no ledger to add to.
    #[error("branch {branch:?} has no commit yet")]
    UnbornBranch {
        /// The branch.
        branch: String,
    },
    /// A merge, rebase, cherry-pick, revert or bisect is in progress.
    #[error("a {operation} is in progress in this repository; nothing was written")]
    InProgress {
        /// What is in progress, in words.
        operation: &'static str,
    },
    /// A write would replace a file that exists.
    #[error(
        "{path} already exists{}; nothing was written",
        if *.committed { "" } else { " (not committed)" }
    )]
    Exists {
        /// Ledger-relative path.
        path: String,
        /// Whether the file is committed (else it is only in the working tree).
        committed: bool,
    },
    /// An edit would replace a file whose working-tree copy differs from the committed one.
    #[error("{path} has changes that are not committed; nothing was written")]
    Modified {
        /// Ledger-relative path.
        path: String,
    },
    /// The branch kept moving while `ovn` tried to add its commit.
    #[error("branch {branch:?} moved while ovn was adding its commit; nothing was written")]
    BranchMoved {
        /// The branch.
        branch: String,
    },
    /// A file-system operation failed.
    // The name may come from a hostile tree: escaped like every other.
    #[error(
        "{action} {}: {source}",
        crate::core::render::one_line(&.path.display().to_string())
    )]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A pack file holds data that cannot be decoded.
    #[error("corrupt pack {} at offset {offset}: {reason}", .path.display())]
    CorruptPack {
        /// The `.pack` file.
        path: PathBuf,
        /// Where the entry starts in it.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A git lock (`index.lock`, a branch's) is held by another program (a git command
    /// running, or one that crashed); `ovn` never takes it away.
    #[error(
        "{} exists: another git command holds this lock; nothing was written",
        .path.display()
    )]
    GitLocked {
        /// The lock file.
        path: PathBuf,
    },
    /// git's index is of a kind `ovn` cannot update (a sparse index, an unknown required
    /// extension): refused before anything is committed.
    #[error("{}", index_unwritable(.path, .reason, *.sparse))]
    IndexUnwritable {
        /// The index file.
        path: PathBuf,
        /// What is in the way.
        reason: String,
        /// Whether it is git's sparse index (`sdir`).
        sparse: bool,
    },
    /// A loose object that cannot be read whole (truncated or damaged).
    #[error("corrupt object {oid} ({}): {reason}", .path.display())]
    CorruptObject {
        /// The object id.
        oid: String,
        /// The object's file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// libgit2 failed.
    #[error("{action}: {}", .source.message())]
    Git {
        /// What was being done.
        action: &'static str,
        /// The git error.
        source: git2::Error,
    },
    /// A ledger file that is a symbolic link, FIFO, device or socket: not followed or read.
    #[error(
        "{} is {what}, not a file; ovn does not follow or read it",
        crate::core::render::escaped(.path)
    )]
    NotAFile {
        /// Ledger-relative path.
        path: String,
        /// What it is, in words.
        what: &'static str,
    },
    /// A write whose target goes through a symbolic link or something else that is not a
    /// directory in the working tree: refused, nothing written.
    #[error(
        "refusing to write through {} ({what}); nothing was written",
        crate::core::render::escaped(.path)
    )]
    UnsafeWrite {
        /// The ledger-relative path of the offending component.
        path: String,
        /// What it is, in words.
        what: &'static str,
    },
    /// A file a write would make is larger than any reader accepts: written, the ledger would
    /// no longer read.
    #[error(
        "{} would hold {size} bytes, more than the {} such a ledger file may hold; nothing was written",
        crate::core::render::escaped(.path),
        crate::core::parse::describe_bytes(*.limit)
    )]
    TooLarge {
        /// Ledger-relative path.
        path: String,
        /// The bytes it would hold.
        size: usize,
        /// Its bound ([`crate::core::parse::max_bytes`]).
        limit: usize,
    },
    /// `--history` in a shallow clone: the oldest commit there is not the root.
    #[error(
        "this is a shallow clone: its oldest commits are not the ledger's first, so its history cannot be proved"
    )]
    Shallow,
}

impl StoreError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// A git error while doing `action`.
    pub fn git(action: &'static str) -> impl FnOnce(git2::Error) -> StoreError {
        move |source| StoreError::Git { action, source }
    }

    /// Usage or environment.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::AlreadyALedger { .. }
            | StoreError::NotEmpty { .. }
            | StoreError::UnknownRevision { .. }
            | StoreError::NoLedgerAtRevision { .. }
            | StoreError::DetachedHead
            | StoreError::UnbornBranch { .. }
            | StoreError::InProgress { .. }
            | StoreError::Exists { .. }
            | StoreError::Modified { .. }
            | StoreError::NotAFile { .. }
            | StoreError::UnsafeWrite { .. }
            | StoreError::TooLarge { .. }
            | StoreError::Shallow
            | StoreError::SeveralLedgers { .. } => ErrorKind::Usage,
            _ => ErrorKind::Environment,
        }
    }

    /// Advice for the user, where there is some.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::NotALedger { .. } => Some(
                "run `ovn init` to create a ledger here, or use `ovn -C DIR` to point at one".to_owned(),
            ),
            StoreError::SeveralLedgers { found, .. } => Some(format!(
                "name the one to use: `ovn -C {} ...`",
                found.first().map_or(".", String::as_str)
            )),
            StoreError::NotARepository { .. } => {
                Some("a ledger lives in a git repository; run `git init` in it or above it".to_owned())
            }
            StoreError::NotCheckedOut { .. } => Some(
                "read a commit instead, e.g. `ovn check --at HEAD`, or check the ledger out (`git checkout`)".to_owned(),
            ),
            StoreError::BareRepository { .. } => {
                Some("clone the repository (`git clone`) and run `ovn init` in the clone".to_owned())
            }
            StoreError::AlreadyALedger { .. } => Some("use the existing ledger; `ovn check` verifies it".to_owned()),
            StoreError::NoIdentity => Some(
                "tell git who you are: git config --global user.name \"Your Name\" && git config --global user.email you@example.org".to_owned(),
            ),
            StoreError::UnknownRevision { .. } => {
                Some("give a commit id, branch or tag, e.g. HEAD, main, HEAD~3, v1.0".to_owned())
            }
            StoreError::Busy { .. } => Some(
                "another ovn process is writing to this repository; wait for it and run the command again".to_owned(),
            ),
            StoreError::DetachedHead => Some(
                "switch to the branch the record belongs on (`git switch main`, or `git switch -c NAME` for a new branch), then run the command again".to_owned(),
            ),
            StoreError::UnbornBranch { .. } => Some(
                "commit the ledger first (`ovn init` does), then run the command again".to_owned(),
            ),
            StoreError::InProgress { .. } => Some(
                "finish or abort it first (`git status` says how), then run the command again".to_owned(),
            ),
            StoreError::Modified { path } => Some(format!(
                "an edit replaces the committed file: commit your changes to {path} first, or undo them with `git restore {path}`"
            )),
            StoreError::Exists { committed: false, .. } => Some(
                "the file is in the working tree but not committed: commit it, or move it away, and run the command again".to_owned(),
            ),
            StoreError::Exists { committed: true, .. } => Some(
                "ids are never reused; choose another id".to_owned(),
            ),
            StoreError::BranchMoved { .. } => Some(
                "another program kept committing to the branch; run the command again".to_owned(),
            ),
            StoreError::NotAFile { .. } => Some(
                "replace it with a regular file, or remove it; `ovn check` lists every such file".to_owned(),
            ),
            StoreError::UnsafeWrite { .. } => Some(
                "ovn writes only to real folders of the working tree: remove the link (or move it away) and run the command again".to_owned(),
            ),
            StoreError::TooLarge { limit, .. } if *limit == crate::core::parse::MAX_PAYOUT_BYTES => Some(
                "a payout record lists every debt and once claim it settles: this one settles more than a record may list (about 75,000)".to_owned(),
            ),
            StoreError::TooLarge { .. } => Some(
                "a record holds one thing: split it, or move the data out of the ledger".to_owned(),
            ),
            StoreError::Shallow => Some(
                "fetch the full history first: git fetch --unshallow".to_owned(),
            ),
            StoreError::GitLocked { path } => Some(format!(
                "wait for the git command to finish (a `git commit` waiting for its editor, say) and run this again; if no git command is running, one crashed and left the file: remove it (`rm {}`)",
                path.display()
            )),
            StoreError::IndexUnwritable { sparse: true, .. } => Some(
                "turn the sparse index off, keeping the sparse checkout (`git sparse-checkout init --no-sparse-index`), or write the record without committing (`--no-commit`) and commit it with git".to_owned(),
            ),
            StoreError::IndexUnwritable { sparse: false, .. } => Some(
                "write the record without committing (`--no-commit`), then `git add` and `git commit` it".to_owned(),
            ),
            StoreError::CorruptObject { .. } | StoreError::CorruptPack { .. } => Some(
                "the repository is damaged: `git fsck` lists what is broken; fetch the objects again from a clone that has them (or restore from a backup)".to_owned(),
            ),
            _ => None,
        }
    }
}

/// Where `NoLedgerAtRevision` looked: the folder, or the top level for an empty prefix.
fn ledger_place(prefix: &str) -> String {
    if prefix.is_empty() {
        "the repository's top level".to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// `IndexUnwritable`'s message: git's sparse index gets its own words (it has its own hint).
/// Whether `e` is libgit2 refusing an index for a mandatory extension it cannot read, this
/// one (`link`: a split index, `core.splitIndex`; `sdir`: a sparse index).
///
/// Matched on the message text, the one place `ovn` does so, because libgit2 gives this
/// failure nothing else to match: it is `ErrorCode::GenericError` in `ErrorClass::Index`,
/// like every other index failure (a damaged one included), and names the extension only in
/// its message, `unsupported mandatory extension: 'link'` (libgit2's own test asserts that
/// text). Kept here so that a libgit2 which words it otherwise is fixed in one place.
pub(crate) fn unreadable_index_extension(e: &git2::Error, signature: &str) -> bool {
    e.message().contains(&format!("'{signature}'"))
}

fn index_unwritable(path: &Path, reason: &str, sparse: bool) -> String {
    if sparse {
        format!(
            "{} is a sparse index (`git sparse-checkout --sparse-index`), which ovn cannot update; nothing was written",
            path.display()
        )
    } else {
        format!(
            "ovn cannot update git's index {} ({reason}); nothing was written",
            path.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_built_from_several_fields_read_as_before() {
        let at = |prefix: &str| StoreError::NoLedgerAtRevision {
            rev: "HEAD".to_owned(),
            prefix: prefix.to_owned(),
        };
        assert_eq!(
            at("").to_string(),
            "revision \"HEAD\" has no ledger (no ovn.toml) at the repository's top level"
        );
        assert_eq!(
            at("books").to_string(),
            "revision \"HEAD\" has no ledger (no ovn.toml) at books/"
        );
        let exists = |committed| StoreError::Exists {
            path: "agents/ana.toml".to_owned(),
            committed,
        };
        assert_eq!(
            exists(false).to_string(),
            "agents/ana.toml already exists (not committed); nothing was written"
        );
        assert_eq!(
            exists(true).to_string(),
            "agents/ana.toml already exists; nothing was written"
        );
        let index = |sparse| StoreError::IndexUnwritable {
            path: PathBuf::from("/r/.git/index"),
            reason: "unknown extension".to_owned(),
            sparse,
        };
        assert!(
            index(true)
                .to_string()
                .starts_with("/r/.git/index is a sparse index")
        );
        assert_eq!(
            index(false).to_string(),
            "ovn cannot update git's index /r/.git/index (unknown extension); nothing was written"
        );
        let io = StoreError::io(
            Path::new("a\nb"),
            "cannot read",
            std::io::Error::other("gone"),
        );
        assert_eq!(
            io.to_string(),
            format!(
                "cannot read {}: gone",
                crate::core::render::one_line("a\nb")
            )
        );
    }
}
