//! Writes that are safe under crashes and concurrency: one record, one commit, or nothing.
//!
//! Every command that adds records (`ovn log`, `ovn agent add`, ...) runs as one
//! [`Store::transact`]:
//!
//! 1. **Lock.** An exclusive advisory lock (`flock`) on `ovn/write.lock` in the repository's
//!    git directory serialises `ovn` writers, so eight `ovn log` started at once queue up
//!    instead of racing. The operating system releases it when the process dies, so a
//!    killed write never leaves a lock that blocks the next one.
//! 2. **Recover.** If an earlier write died half-way, its journal (below) says what it was
//!    doing, and the next write (or `ovn recover`) finishes it: restores the record file and
//!    index entry of a commit that landed, and removes the lock files that write left. Only
//!    locks provably its own: git's `index.lock` when it still holds the marker the journal
//!    records, the branch's lock when it holds the journal's new commit id (what libgit2
//!    writes in it). A lock a live git holds is never removed, however old: `git commit -a`
//!    holds `index.lock` for as long as its editor is open.
//! 3. **Read and judge.** The caller reads what it needs from the branch tip (a [`View`]:
//!    never the whole ledger for a single record), builds the new records and checks them.
//! 4. **Objects.** Blobs, trees and the commit are written to the object database. Until the
//!    branch moves they are unreachable and harmless (`git gc` prunes them).
//! 5. **Journal and git's index lock.** The journal names the branch, its old and new
//!    commit, the files and a random marker; then git's own `index.lock` is taken (appearing
//!    with that marker in it), as `git commit` takes it, and the index is checked under it:
//!    one `ovn` cannot update (a sparse index) is refused here, before anything is
//!    committed. If git holds the lock, the write waits briefly, then fails having written
//!    nothing.
//! 6. **Files and index, then compare-and-swap, then the lock goes.** Still under git's
//!    lock, the record files are written (to a temporary file in the git directory, then
//!    renamed into place, so no reader and no crash ever sees half a record) and the index
//!    learns exactly those paths (a new index renamed over the old, which is kept aside):
//!    what the user has staged or changed is never swept into an `ovn` commit. Only then is
//!    the branch moved, and only if it still points at the commit the records were judged
//!    against. If another program committed in between, the index goes back to the copy
//!    kept aside, the files are removed, and the whole transaction is judged again on the
//!    new tip.
//!
//! Why the index before the branch: `git commit` reads the branch, then reads the index
//! *without* its lock, and only takes the lock to write that index back and commit it. Had
//! the branch moved first, a `git commit` reading it just after the move and the index just
//! before it was updated would commit the records' deletion on top of their own commit.
//! Updated first, any git that sees the new branch sees the new index; one that read the old
//! branch fails its own compare-and-swap. A git reaching for the lock meanwhile fails
//! cleanly ("index.lock exists") and can be run again.
//!
//! So a kill at any instant leaves a write either not committed (steps 1 to 6 before the
//! branch moves: maybe the files written and staged, and git's index locked, which the next
//! write or `ovn recover` rolls back, restoring the index kept aside) or committed whole,
//! with its files and index entries (only the locks and journal are then left to clear).
//! `ovn status` says which.
//! Objects are not fsynced (libgit2's default): the guarantee is against killed processes,
//! not power loss.
//!
//! libgit2 never packs objects, so after a write that leaves more loose objects than git's
//! own `gc.auto` threshold, `git gc --auto` is started in the background when git is
//! installed (counting them costs one directory listing).

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{ErrorCode, FileMode, ObjectType, Oid, RepositoryState, Tree, TreeWalkMode};

use super::index::{IndexLock, Staged};
use super::write::Identity;
use super::{Store, StoreError};
use crate::core::ledger::{NETWORK_FILE, RawFile};

/// Whether a write commits its records or only writes the files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One commit on the current branch holding exactly the new files (the default).
    Commit,
    /// Write the files into the working tree only, judged against the working tree.
    NoCommit,
}

/// How to run a transaction.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Commit or not.
    pub mode: Mode,
    /// The commit's author and committer (required for [`Mode::Commit`]).
    pub identity: Option<Identity>,
    /// For tests of crash safety: abort the process at this named point (`OVN_FAILPOINT`).
    pub failpoint: Option<String>,
    /// How long to wait for another `ovn` writer.
    pub lock_timeout: Duration,
    /// Whether the plan's files may replace committed files at their paths (an edit of a
    /// record). Off, a write only adds files. On, a file is replaced only when its
    /// working-tree copy is the committed one (the user's uncommitted changes are never
    /// overwritten), and a write that does not land puts the committed text back.
    pub replace: bool,
}

/// What a transaction's body decided to write.
#[derive(Clone, Debug)]
pub struct Plan<T> {
    /// New files, ledger-relative paths with their bytes.
    pub files: Vec<(String, Vec<u8>)>,
    /// The commit message.
    pub message: String,
    /// Anything the caller wants back.
    pub value: T,
}

/// What a transaction wrote.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The new commit, unless `--no-commit`.
    pub commit: Option<Oid>,
    /// The branch it is on.
    pub branch: Option<String>,
    /// The ledger-relative paths written.
    pub paths: Vec<String>,
    /// Advice that would make the next write faster.
    pub hint: Option<String>,
}

/// A write that a killed `ovn` left unfinished, as its journal tells (see [`Store::interrupted`]).
#[derive(Clone, Debug)]
pub struct Interrupted {
    /// The branch it was adding its commit to.
    pub branch: String,
    /// Its commit.
    pub commit: Oid,
    /// Whether the commit is on the branch (else nothing was committed).
    pub landed: bool,
    /// The ledger paths it was writing.
    pub paths: Vec<String>,
    /// Whether any of them is in the working tree (a write killed before its branch moved
    /// may have written and staged them; one from an older `ovn` killed after may not have).
    pub on_disk: bool,
    /// Whether git's `index.lock` it took is still there (git commands that write the index
    /// fail until it is gone).
    pub index_locked: bool,
}

/// A read-only view of the ledger a transaction builds on: the branch tip's tree (or the
/// working tree with `--no-commit`). Reads only what is asked for.
pub struct View<'a> {
    store: &'a Store,
    base: Base<'a>,
}

enum Base<'a> {
    /// The ledger's subtree at the branch tip.
    Tree { tree: Tree<'a>, commit: Oid },
    /// The working tree's ledger root.
    Worktree(PathBuf),
}

const LOCK_FILE: &str = "ovn/write.lock";
const JOURNAL_FILE: &str = "ovn/journal";
const TMP_DIR: &str = "ovn/tmp";
/// The index as it was before a write staged its records (a hard link, so free), put back
/// if the branch then does not move. Empty when there was no index.
const SAVED_INDEX: &str = "ovn/index-before";
/// How many times a transaction is judged again when another program moves the branch.
const ATTEMPTS: usize = 3;
/// How long a write waits for a lock git holds (the index's, the branch's): git holds them
/// for milliseconds while it writes, but for as long as an editor is open in `git commit -a`,
/// so past this the write gives up cleanly rather than wait or take the lock away.
const GIT_WAIT: Duration = Duration::from_secs(2);

impl Store {
    /// Runs `body` as one write: lock, recover, read, judge, commit (or write only), as the
    /// module documentation describes. `body` may run more than once (when another program
    /// moves the branch meanwhile) and must only read through the [`View`].
    pub fn transact<T, E: From<StoreError>>(
        &self,
        options: &WriteOptions,
        mut body: impl FnMut(&View<'_>) -> Result<Plan<T>, E>,
    ) -> Result<(Outcome, T), E> {
        // A bare repository has no working tree and no index: a commit there is objects and a
        // branch move only. Anywhere else the files must be on disk, because a commit that
        // skipped the index would show up in `git status` as a staged deletion.
        let root = match self.root() {
            Some(root) => Some(root.to_path_buf()),
            None if self.repo.is_bare() && options.mode == Mode::Commit => None,
            None => {
                return Err(StoreError::NotCheckedOut {
                    path: self.describe(),
                }
                .into());
            }
        };
        let _lock = self.lock(options.lock_timeout)?;
        self.recover()?;
        check_state(self.repo.state())?;
        let result = match (options.mode, root) {
            (Mode::Commit, root) => self.commit_transaction(root.as_deref(), options, &mut body),
            (Mode::NoCommit, None) => Err(StoreError::NotCheckedOut {
                path: self.describe(),
            }
            .into()),
            (Mode::NoCommit, Some(root)) => {
                let view = View {
                    store: self,
                    base: Base::Worktree(root.clone()),
                };
                let plan = body(&view)?;
                check_sizes(&plan.files)?;
                for (path, _) in &plan.files {
                    super::safe::check_write_target(&root, path)?;
                    if root.join(path).exists() && !options.replace {
                        return Err(StoreError::Exists {
                            path: path.clone(),
                            committed: false,
                        }
                        .into());
                    }
                }
                for (path, bytes) in &plan.files {
                    self.write_file(&root, path, bytes, options)?;
                }
                Ok((
                    Outcome {
                        commit: None,
                        branch: self.branch().ok(),
                        paths: plan.files.iter().map(|(p, _)| p.clone()).collect(),
                        hint: None,
                    },
                    plan.value,
                ))
            }
        };
        drop(_lock);
        if matches!(&result, Ok((outcome, _)) if outcome.commit.is_some()) {
            self.maybe_gc();
        }
        result
    }

    /// One write, steps 3 to 6 of the module's essay, retried when the branch moves.
    ///
    /// Long on purpose: the order of these steps is what makes a write safe (objects,
    /// journal, git's lock, files and index, branch; and each failure's undo right where it
    /// can happen), and it reads best top to bottom in one place; the steps themselves are
    /// the functions it calls.
    fn commit_transaction<T, E: From<StoreError>>(
        &self,
        root: Option<&Path>,
        options: &WriteOptions,
        body: &mut impl FnMut(&View<'_>) -> Result<Plan<T>, E>,
    ) -> Result<(Outcome, T), E> {
        let identity = options.identity.as_ref().ok_or(StoreError::NoIdentity)?;
        let branch = self.branch()?;
        let refname = format!("refs/heads/{branch}");
        for _ in 0..ATTEMPTS {
            let tip = match self.repo.refname_to_id(&refname) {
                Ok(oid) => oid,
                Err(e) if e.code() == ErrorCode::NotFound => {
                    return Err(StoreError::UnbornBranch { branch }.into());
                }
                Err(e) => return Err(StoreError::git("cannot read the branch")(e).into()),
            };
            let commit = super::loose::commit(&self.repo, tip, "cannot read the branch's commit")?;
            let top = self.tree_of(&commit)?;
            let tree = if self.prefix.is_empty() {
                top.clone()
            } else {
                top.get_path(Path::new(&self.prefix))
                    .ok()
                    .and_then(|e| self.repo.find_tree(e.id()).ok())
                    .ok_or_else(|| StoreError::NoLedgerAtRevision {
                        rev: branch.clone(),
                        prefix: self.prefix.clone(),
                    })?
            };
            let view = View {
                store: self,
                base: Base::Tree { tree, commit: tip },
            };
            let plan = body(&view)?;
            check_sizes(&plan.files)?;
            for (path, _) in &plan.files {
                let committed = view.exists(path)?;
                if committed && !options.replace {
                    return Err(StoreError::Exists {
                        path: path.clone(),
                        committed: true,
                    }
                    .into());
                }
                // Refused before anything is committed: a write never goes through a link.
                if let Some(root) = root {
                    super::safe::check_write_target(root, path)?;
                }
                if committed {
                    // An edit: only over the committed text, never over the user's changes.
                    if let Some(root) = root
                        && !self.same_as_committed(&top, root, path)?
                    {
                        return Err(StoreError::Modified { path: path.clone() }.into());
                    }
                } else if root.is_some_and(|root| root.join(path).exists()) {
                    return Err(StoreError::Exists {
                        path: path.clone(),
                        committed: false,
                    }
                    .into());
                }
            }

            // Objects first: unreachable until the branch moves.
            let mut update = git2::build::TreeUpdateBuilder::new();
            let mut blobs = Vec::new();
            for (path, bytes) in &plan.files {
                let oid = self
                    .repo
                    .blob(bytes)
                    .map_err(StoreError::git("cannot write a blob"))?;
                update.upsert(self.repo_path(path), oid, FileMode::Blob);
                blobs.push(oid);
            }
            let new_tree = update
                .create_updated(&self.repo, &top)
                .map_err(StoreError::git("cannot build the new tree"))?;
            let new_tree = super::loose::tree(&self.repo, new_tree, "cannot build the new tree")?;
            let signature = identity.signature()?;
            let new = self
                .repo
                .commit(
                    None,
                    &signature,
                    &signature,
                    &plan.message,
                    &new_tree,
                    &[&commit],
                )
                .map_err(StoreError::git("cannot write the commit"))?;
            failpoint(options, "after-objects");

            let journal = Journal {
                refname: refname.clone(),
                old: tip,
                new,
                lock: lock_marker()?,
                files: plan
                    .files
                    .iter()
                    .zip(&blobs)
                    .map(|((path, _), oid)| (path.clone(), *oid))
                    .collect(),
            };
            // Without a working tree there is nothing to finish after the branch moves.
            if root.is_some() {
                self.write_journal(&journal)?;
            }
            failpoint(options, "after-journal");

            // git's own index lock, held from before the index changes until the branch has
            // moved. What the index cannot take is refused here, before anything is committed.
            let index = match root {
                Some(_) => match self.lock_index(&journal.lock, &journal.files) {
                    Ok(held) => Some(held),
                    Err(e) => {
                        self.remove_journal()?;
                        return Err(e.into());
                    }
                },
                None => None,
            };
            failpoint(options, "after-lock");

            // Files and index before the branch (see the module's step 6): a git command that
            // reads the branch after it moved then reads an index that has the records.
            if let (Some(root), Some(held)) = (root, &index)
                && let Err(e) = self.stage_first(root, held, &plan.files, &journal.files, options)
            {
                self.roll_back(root, &journal.files, Some(&top));
                drop(index);
                self.remove_journal()?;
                return Err(e.into());
            }

            let subject = plan.message.lines().next().unwrap_or_default();
            let moved = self.move_branch(&refname, new, tip, &format!("commit: {subject}"));
            // A `git commit` whose pre-commit hook ran re-reads the index after it, without
            // the index's lock, and moves the branch without it: one that re-read it after
            // the records were staged committed them itself, and its branch move beat ours.
            // The records are then in, judged on the tip they were staged on: rolling them
            // back would take them from the index and the disk while the branch holds them
            // (the next commit deleting them), and judging again would log them twice.
            if matches!(moved, Err(Moved::Yes))
                && let Some(landed) = self.holding(&refname, &journal.files)
            {
                let outcome = self.landed_in(landed, branch, &plan.files, index)?;
                return Ok((outcome, plan.value));
            }
            if moved.is_err()
                && let Some(root) = root
            {
                self.roll_back(root, &journal.files, Some(&top));
            }
            match moved {
                Ok(()) => {}
                Err(Moved::Yes) => {
                    drop(index);
                    self.remove_journal()?;
                    continue;
                }
                Err(Moved::Failed(e)) => {
                    drop(index);
                    self.remove_journal()?;
                    return Err(e.into());
                }
            }
            failpoint(options, "after-ref");

            let outcome = self.landed_in(new, branch, &plan.files, index)?;
            return Ok((outcome, plan.value));
        }
        Err(StoreError::BranchMoved { branch }.into())
    }

    /// The write a killed `ovn` left unfinished, if any: what `ovn status` explains and the
    /// next write (or `ovn recover`) finishes. None while another `ovn` write is running, whose
    /// journal is its own. Reads only.
    pub fn interrupted(&self) -> Option<Interrupted> {
        let text = fs::read_to_string(self.ovn_dir().join(JOURNAL_FILE)).ok()?;
        let journal = Journal::parse(&text)?;
        // A running writer holds the write lock; opened, never created, here.
        if let Ok(file) = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.repo.commondir().join(LOCK_FILE))
            && let Err(fs::TryLockError::WouldBlock) = file.try_lock()
        {
            return None;
        }
        Some(self.describe_journal(&journal))
    }

    /// Whether the journal's commit is on its branch, whose tip is `tip` (the branch may
    /// have moved on since).
    fn landed(&self, journal: &Journal, tip: Option<Oid>) -> bool {
        tip.is_some_and(|tip| {
            tip == journal.new
                || self
                    .repo
                    .graph_descendant_of(tip, journal.new)
                    .unwrap_or(false)
        })
    }

    /// A write's outcome once its records are in `commit`, with their files and index
    /// entries: only git's lock (`index`), the index kept aside and the journal are left to
    /// clear.
    fn landed_in(
        &self,
        commit: Oid,
        branch: String,
        files: &[(String, Vec<u8>)],
        index: Option<HeldIndex>,
    ) -> Result<Outcome, StoreError> {
        let in_worktree = index.is_some();
        drop(index);
        let _ = fs::remove_file(self.ovn_dir().join(SAVED_INDEX));
        self.remove_journal()?;
        Ok(Outcome {
            commit: Some(commit),
            branch: Some(branch),
            paths: files.iter().map(|(p, _)| p.clone()).collect(),
            hint: in_worktree.then(|| self.index_hint()).flatten(),
        })
    }

    /// The tip of `refname` when it holds every one of `files` (ledger path, blob) as a
    /// regular file with that content: the write's records are in, whoever committed them.
    fn holding(&self, refname: &str, files: &[(String, Oid)]) -> Option<Oid> {
        let tip = self.repo.refname_to_id(refname).ok()?;
        let commit = super::loose::commit(&self.repo, tip, "cannot read the branch's tip").ok()?;
        let tree = self.tree_of(&commit).ok()?;
        files
            .iter()
            .all(|(path, blob)| {
                tree.get_path(Path::new(&self.repo_path(path)))
                    .is_ok_and(|e| e.id() == *blob && e.filemode() == 0o100644)
            })
            .then_some(tip)
    }

    fn describe_journal(&self, journal: &Journal) -> Interrupted {
        let tip = self.repo.refname_to_id(&journal.refname).ok();
        let landed = self.landed(journal, tip);
        Interrupted {
            branch: journal
                .refname
                .strip_prefix("refs/heads/")
                .unwrap_or(&journal.refname)
                .to_owned(),
            commit: journal.new,
            landed,
            paths: journal.files.iter().map(|(p, _)| p.clone()).collect(),
            on_disk: self
                .root()
                .is_some_and(|root| journal.files.iter().any(|(p, _)| root.join(p).exists())),
            index_locked: !journal.lock.is_empty()
                && super::index::holds_marker(&self.repo.path().join("index.lock"), &journal.lock),
        }
    }

    /// Finishes or clears a write a killed `ovn` left (what every write does first), under the
    /// write lock; returns what it was.
    pub fn recover_now(&self, timeout: Duration) -> Result<Option<Interrupted>, StoreError> {
        let _lock = self.lock(timeout)?;
        let found = fs::read_to_string(self.ovn_dir().join(JOURNAL_FILE))
            .ok()
            .and_then(|text| Journal::parse(&text))
            .map(|journal| self.describe_journal(&journal));
        self.recover()?;
        Ok(found)
    }

    /// The branch HEAD points at; an error when HEAD is detached.
    pub fn branch(&self) -> Result<String, StoreError> {
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(StoreError::git("cannot read HEAD"))?;
        match head.symbolic_target().ok().flatten() {
            Some(target) => target
                .strip_prefix("refs/heads/")
                .map(str::to_owned)
                .ok_or(StoreError::DetachedHead),
            None => Err(StoreError::DetachedHead),
        }
    }

    fn ovn_dir(&self) -> PathBuf {
        self.repo.path().to_path_buf()
    }

    fn lock(&self, timeout: Duration) -> Result<File, StoreError> {
        // In the common directory, so linked worktrees of one repository share it.
        let path = self.repo.commondir().join(LOCK_FILE);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, "cannot create", e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, "cannot open the lock file", e))?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(fs::TryLockError::WouldBlock) => {
                    if start.elapsed() > timeout {
                        return Err(StoreError::Busy { path });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io(&path, "cannot lock", e));
                }
            }
        }
    }

    /// Moves `refname` from `old` to `new`, only if it still points at `old`.
    fn move_branch(&self, refname: &str, new: Oid, old: Oid, log: &str) -> Result<(), Moved> {
        let mut pause = Duration::from_millis(10);
        let start = Instant::now();
        loop {
            match self.repo.reference_matching(refname, new, true, old, log) {
                Ok(_) => return Ok(()),
                Err(e) if e.code() == ErrorCode::Modified => return Err(Moved::Yes),
                // Another git process holds the branch's lock file for a moment.
                Err(e) if e.code() == ErrorCode::Locked && start.elapsed() < GIT_WAIT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(e) if e.code() == ErrorCode::Locked => {
                    return Err(Moved::Failed(StoreError::GitLocked {
                        path: self.repo.commondir().join(format!("{refname}.lock")),
                    }));
                }
                Err(e) => {
                    return Err(Moved::Failed(StoreError::git("cannot move the branch")(e)));
                }
            }
        }
    }

    /// Writes `root/path` atomically: a temporary file in the git directory (invisible to
    /// `git status` and `ovn check`), synced, then renamed into place. Not
    /// [`super::atomic::write`]: a kill point sits between the two steps, and a git directory
    /// on another file system falls back to a temporary file beside the target.
    fn write_file(
        &self,
        root: &Path,
        path: &str,
        bytes: &[u8],
        options: &WriteOptions,
    ) -> Result<(), StoreError> {
        super::safe::check_write_target(root, path)?;
        let full = root.join(path);
        let dir = full.parent().unwrap_or(root);
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, "cannot create directory", e))?;
        let name = full.file_name().unwrap_or_default().to_string_lossy();
        let tmp_dir = self.ovn_dir().join(TMP_DIR);
        fs::create_dir_all(&tmp_dir)
            .map_err(|e| StoreError::io(&tmp_dir, "cannot create directory", e))?;
        let write = |tmp: &Path| {
            File::create(tmp)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
                .map_err(|e| StoreError::io(tmp, "cannot write", e))
        };
        let tmp = tmp_dir.join(format!("{}.{name}", std::process::id()));
        write(&tmp)?;
        failpoint(options, "after-tmp");
        match fs::rename(&tmp, &full) {
            Ok(()) => Ok(()),
            // The git directory is on another file system: stage next to the target.
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                let _ = fs::remove_file(&tmp);
                let near = dir.join(format!(".{name}.ovn-tmp"));
                write(&near)?;
                fs::rename(&near, &full).map_err(|e| {
                    let _ = fs::remove_file(&near);
                    StoreError::io(&full, "cannot write", e)
                })
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(StoreError::io(&full, "cannot write", e))
            }
        }
    }

    /// Advice for a checkout whose index every commit rewrites whole and which has grown
    /// large (about 150,000 files): git's split index keeps the rewrite to what changed.
    /// None once `core.splitIndex` is set either way: the user has chosen.
    fn index_hint(&self) -> Option<String> {
        const LARGE: u64 = 16 << 20;
        let len = fs::metadata(self.repo.path().join("index")).ok()?.len();
        if len < LARGE || self.repo.config().ok()?.get_bool("core.splitIndex").is_ok() {
            return None;
        }
        Some(format!(
            "git's index here is {} MiB and every commit rewrites it whole; `git config core.splitIndex true && git update-index --split-index` makes it rewrite only what changed",
            len >> 20
        ))
    }

    /// Takes git's `index.lock` (waiting up to [`GIT_WAIT`] for a git command that holds it)
    /// and finds out how the index can take `files`: in one pass, through libgit2, or not at
    /// all, which is an error while nothing is committed yet.
    fn lock_index(&self, marker: &str, files: &[(String, Oid)]) -> Result<HeldIndex, StoreError> {
        let git_dir = self.repo.path();
        let tmp_dir = self.ovn_dir().join(TMP_DIR);
        let start = Instant::now();
        let lock = loop {
            match IndexLock::acquire(git_dir, &tmp_dir, marker) {
                Ok(Some(lock)) => break lock,
                Ok(None) if start.elapsed() < GIT_WAIT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    return Err(StoreError::GitLocked {
                        path: git_dir.join("index.lock"),
                    });
                }
                Err(e) => {
                    return Err(StoreError::io(
                        &git_dir.join("index.lock"),
                        "cannot create",
                        e,
                    ));
                }
            }
        };
        let index_path = git_dir.join("index");
        let in_repo: Vec<(String, Oid)> = files
            .iter()
            .map(|(path, oid)| (self.repo_path(path), *oid))
            .collect();
        let one_pass = super::index::probe(git_dir, &in_repo)
            .map_err(|e| StoreError::io(&index_path, "cannot read", e))?;
        if one_pass == Staged::Done {
            return Ok(HeldIndex {
                lock,
                one_pass: true,
            });
        }
        // libgit2 writes every version and extension it can read; a sparse index (`sdir`)
        // or a split one it cannot.
        if index_path.exists()
            && let Err(e) = git2::Index::open(&index_path)
        {
            return Err(StoreError::IndexUnwritable {
                path: index_path,
                sparse: super::error::unreadable_index_extension(&e, "sdir"),
                reason: e.message().to_owned(),
            });
        }
        Ok(HeldIndex {
            lock,
            one_pass: false,
        })
    }

    /// Adds exactly these paths to the index, as committed; nothing else in it changes. Runs
    /// under the index lock taken before the commit.
    fn stage(&self, held: &HeldIndex, files: &[(String, Oid)]) -> Result<(), StoreError> {
        let git_dir = self.repo.path();
        let index_path = git_dir.join("index");
        let tmp_dir = self.ovn_dir().join(TMP_DIR);
        let Some(workdir) = self.repo.workdir() else {
            return Ok(());
        };
        let in_repo: Vec<(String, Oid)> = files
            .iter()
            .map(|(path, oid)| (self.repo_path(path), *oid))
            .collect();
        // In one pass over the index file where it is a kind that writer knows (a million
        // entries cost libgit2 over a second to read and write back); libgit2 otherwise.
        let staged = super::index::add(
            &held.lock,
            git_dir,
            &tmp_dir,
            workdir,
            &in_repo,
            held.one_pass,
        )
        .map_err(|e| StoreError::io(&index_path, "cannot update", e))?;
        if staged == Staged::Done {
            return Ok(());
        }
        // libgit2 would take the lock this process holds: it writes a copy of the index
        // instead, which is then renamed into place, still under the lock.
        let side = tmp_dir.join(format!("index-libgit2.{}", std::process::id()));
        let _ = fs::remove_file(&side);
        match fs::copy(&index_path, &side) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&index_path, "cannot read", e)),
        }
        let result = (|| {
            let mut index =
                git2::Index::open(&side).map_err(StoreError::git("cannot read the index"))?;
            for (path, oid) in &in_repo {
                let full = workdir.join(path);
                let meta = fs::symlink_metadata(&full)
                    .map_err(|e| StoreError::io(&full, "cannot read", e))?;
                index
                    .add(&index_entry(path, *oid, &meta))
                    .map_err(StoreError::git("cannot update the index"))?;
            }
            index
                .write()
                .map_err(StoreError::git("cannot write the index"))?;
            fs::rename(&side, &index_path)
                .map_err(|e| StoreError::io(&index_path, "cannot write", e))
        })();
        let _ = fs::remove_file(&side);
        result
    }

    /// Adds `files` (ledger paths and the blob ids HEAD has for them) to git's index under
    /// its lock, as a write stages its records; nothing else in the index changes.
    pub(super) fn stage_committed(&self, files: &[(String, Oid)]) -> Result<(), StoreError> {
        let held = self.lock_index(&lock_marker()?, files)?;
        self.stage(&held, files)
    }

    /// Writes the record files and stages them, under the index lock, before the branch
    /// moves; the index as it was is kept aside for [`Store::roll_back`].
    fn stage_first(
        &self,
        root: &Path,
        held: &HeldIndex,
        files: &[(String, Vec<u8>)],
        blobs: &[(String, Oid)],
        options: &WriteOptions,
    ) -> Result<(), StoreError> {
        let index = self.repo.path().join("index");
        let saved = self.ovn_dir().join(SAVED_INDEX);
        let _ = fs::remove_file(&saved);
        let kept = match fs::hard_link(&index, &saved) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::create(&saved).map(drop),
            // A file system without hard links: a copy, once per write.
            Err(_) => fs::copy(&index, &saved).map(drop),
            ok => ok,
        };
        kept.map_err(|e| StoreError::io(&saved, "cannot write", e))?;
        for (path, bytes) in files {
            self.write_file(root, path, bytes, options)?;
        }
        failpoint(options, "after-files");
        self.stage(held, blobs)?;
        failpoint(options, "after-index");
        Ok(())
    }

    /// Whether the working-tree file at the ledger path `path` holds exactly what `top` (the
    /// branch tip's tree) commits there: the one state an edit may replace.
    fn same_as_committed(
        &self,
        top: &Tree<'_>,
        root: &Path,
        path: &str,
    ) -> Result<bool, StoreError> {
        let committed = top
            .get_path(Path::new(&self.repo_path(path)))
            .ok()
            .map(|e| e.id());
        let full = root.join(path);
        // Never through a link: a link where a record was is a change of its own.
        let on_disk = match fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() => {
                let bytes = fs::read(&full).map_err(|e| StoreError::io(&full, "cannot read", e))?;
                Oid::hash_object(ObjectType::Blob, &bytes).ok()
            }
            _ => None,
        };
        Ok(committed.is_some() && on_disk == committed)
    }

    /// Undoes what [`Store::stage_first`] did for a write whose branch did not move: the
    /// index goes back to the copy kept aside (nobody else can have written it: the lock
    /// was held throughout), and each record file holding exactly its blob is removed (no
    /// commit has it), or, for a file `old` (the tree the write built on) has, given its
    /// committed text back (an edit that did not land). Best effort: it runs on the way to
    /// an error, or in recovery.
    fn roll_back(&self, root: &Path, files: &[(String, Oid)], old: Option<&Tree<'_>>) {
        let index = self.repo.path().join("index");
        let saved = self.ovn_dir().join(SAVED_INDEX);
        match fs::metadata(&saved) {
            Ok(meta) if meta.len() == 0 => {
                let _ = fs::remove_file(&index);
                let _ = fs::remove_file(&saved);
            }
            Ok(_) => {
                let _ = fs::rename(&saved, &index);
            }
            Err(_) => {}
        }
        for (path, blob) in files {
            let full = root.join(path);
            let ours = fs::symlink_metadata(&full).is_ok_and(|m| m.is_file())
                && fs::read(&full)
                    .ok()
                    .and_then(|bytes| Oid::hash_object(ObjectType::Blob, &bytes).ok())
                    == Some(*blob);
            let before = old
                .and_then(|t| t.get_path(Path::new(&self.repo_path(path))).ok())
                .and_then(|e| self.repo.find_blob(e.id()).ok());
            if ours && let Some(before) = before {
                let options = WriteOptions {
                    mode: Mode::Commit,
                    identity: None,
                    failpoint: None,
                    lock_timeout: Duration::ZERO,
                    replace: true,
                };
                let _ = self.write_file(root, path, before.content(), &options);
            } else if ours {
                let _ = fs::remove_file(&full);
                // The month folder it made, if now empty; never past the ledger's root.
                let mut dir = full.parent();
                while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
                    if fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
    }

    fn write_journal(&self, journal: &Journal) -> Result<(), StoreError> {
        let path = self.ovn_dir().join(JOURNAL_FILE);
        let tmp = path.with_extension("tmp");
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, "cannot create", e))?;
        }
        super::atomic::write_bytes(&path, &tmp, true, journal.to_text().as_bytes())
            .map_err(|(_, e)| StoreError::io(&path, "cannot write", e))
    }

    fn remove_journal(&self) -> Result<(), StoreError> {
        let path = self.ovn_dir().join(JOURNAL_FILE);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&path, "cannot remove", e)),
        }
    }

    /// Finishes or clears what a killed write left behind. Runs under the write lock, so the
    /// process that left it is gone.
    fn recover(&self) -> Result<(), StoreError> {
        let tmp_dir = self.ovn_dir().join(TMP_DIR);
        if let Ok(entries) = fs::read_dir(&tmp_dir) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        let path = self.ovn_dir().join(JOURNAL_FILE);
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(());
        };
        let Some(journal) = Journal::parse(&text) else {
            // Not ours or torn: it was never acted on before it was complete.
            return self.remove_journal();
        };
        let git_dir = self.repo.path();
        let tip = self.repo.refname_to_id(&journal.refname).ok();
        let landed = self.landed(&journal, tip);
        let index_ours = !journal.lock.is_empty()
            && super::index::holds_marker(&git_dir.join("index.lock"), &journal.lock);
        if !landed && let Some(root) = self.root() {
            // Killed after staging, before the branch moved: put the index back while the
            // dead write's lock still guards it, and remove the files no commit holds.
            if !index_ours {
                let _ = fs::remove_file(self.ovn_dir().join(SAVED_INDEX));
            }
            let tree = tip
                .and_then(|t| self.repo.find_commit(t).ok())
                .and_then(|c| c.tree().ok());
            let uncommitted: Vec<(String, Oid)> = journal
                .files
                .iter()
                .filter(|(path, blob)| {
                    tree.as_ref()
                        .and_then(|t| t.get_path(Path::new(&self.repo_path(path))).ok())
                        .is_none_or(|e| e.id() != *blob)
                })
                .cloned()
                .collect();
            self.roll_back(root, &uncommitted, tree.as_ref());
        }
        let _ = fs::remove_file(self.ovn_dir().join(SAVED_INDEX));
        // The dead process may have left git's lock files behind, which block every later
        // write and the user's git. Only those provably its own are removed: the index lock
        // holding its journal's marker, the branch's lock holding its new commit's id (what
        // libgit2 writes in it). A lock a live git holds is never touched.
        if index_ours {
            let _ = fs::remove_file(git_dir.join("index.lock"));
        }
        let ref_lock = self
            .repo
            .commondir()
            .join(format!("{}.lock", journal.refname));
        // libgit2 creates the branch's lock empty and then writes the id: a write killed in
        // between leaves an empty or partial lock. While our journal stands, a lock holding
        // nothing but the start of our own new id is ours.
        let ours = format!("{}\n", journal.new);
        if fs::read(&ref_lock).is_ok_and(|bytes| ours.as_bytes().starts_with(&bytes)) {
            let _ = fs::remove_file(&ref_lock);
        }

        if landed && let Some(root) = self.root() {
            let index = self.repo.index().ok();
            let mut missing = Vec::new();
            for (path, blob) in &journal.files {
                let full = root.join(path);
                if !full.exists() {
                    let bytes = super::loose::blob(&self.repo, *blob, "cannot read a blob")?
                        .content()
                        .to_vec();
                    let options = WriteOptions {
                        mode: Mode::Commit,
                        identity: None,
                        failpoint: None,
                        lock_timeout: Duration::ZERO,
                        replace: false,
                    };
                    self.write_file(root, path, &bytes, &options)?;
                }
                let staged = index
                    .as_ref()
                    .and_then(|i| i.get_path(Path::new(&self.repo_path(path)), 0))
                    .is_some();
                if !staged {
                    missing.push((path.clone(), *blob));
                }
            }
            if !missing.is_empty() {
                // With the journal's marker, so a kill now is recovered the same way.
                let marker = match journal.lock.as_str() {
                    "" => lock_marker()?,
                    marker => marker.to_owned(),
                };
                let held = self.lock_index(&marker, &missing)?;
                self.stage(&held, &missing)?;
            }
        }
        self.remove_journal()
    }

    /// Starts `git gc --auto` in the background when the loose objects pass git's own
    /// threshold. Counting them the way git does (one of the 256 object folders) is cheap.
    fn maybe_gc(&self) {
        let threshold = self
            .repo
            .config()
            .ok()
            .and_then(|c| c.get_i64("gc.auto").ok())
            .unwrap_or(6700);
        if threshold <= 0 {
            return;
        }
        let per_folder = (threshold as usize).div_ceil(256);
        let folder = self.repo.commondir().join("objects/17");
        let count = fs::read_dir(folder).map_or(0, |entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().len() == 38)
                .count()
        });
        if count <= per_folder {
            return;
        }
        let dir = self
            .repo
            .workdir()
            .unwrap_or_else(|| self.repo.path())
            .to_path_buf();
        // git detaches the actual work itself (gc.autoDetach); if git is not installed, the
        // repository just stays unpacked a while longer.
        let _ = std::process::Command::new("git")
            .args(["gc", "--auto", "--quiet"])
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

enum Moved {
    Yes,
    Failed(StoreError),
}

fn check_state(state: RepositoryState) -> Result<(), StoreError> {
    let operation = match state {
        RepositoryState::Clean => return Ok(()),
        RepositoryState::Merge => "merge",
        RepositoryState::Revert | RepositoryState::RevertSequence => "revert",
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "cherry-pick",
        RepositoryState::Bisect => "bisect",
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge => "rebase",
        RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => "git am",
    };
    Err(StoreError::InProgress { operation })
}

/// [`failpoint_at`] the point a write's options name.
fn failpoint(options: &WriteOptions, name: &str) {
    failpoint_at(options.failpoint.as_deref(), name);
}

/// Refuses a write of a file over its bound ([`crate::core::parse::max_bytes`]): every
/// reader would report it unread, and the ledger would not read until someone removed it.
fn check_sizes(files: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
    for (path, bytes) in files {
        let limit = crate::core::parse::max_bytes(path);
        if bytes.len() > limit {
            return Err(StoreError::TooLarge {
                path: path.clone(),
                size: bytes.len(),
                limit,
            });
        }
    }
    Ok(())
}

/// Aborts the process at a named point when `point` names it (crash-safety tests).
/// `pause:NAME:FILE` pauses there instead: it creates FILE and waits (ten seconds at most)
/// until the test removes it, so a test can run git at exactly that moment.
pub(crate) fn failpoint_at(point: Option<&str>, name: &str) {
    let Some(point) = point else {
        return;
    };
    if point == name {
        std::process::abort();
    }
    if let Some((at, file)) = point
        .strip_prefix("pause:")
        .and_then(|rest| rest.split_once(':'))
        && at == name
    {
        let file = Path::new(file);
        if fs::write(file, b"").is_ok() {
            let start = Instant::now();
            while file.exists() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// A new marker for the index lock of one write: the process and 64 random bits, so no
/// other write's lock (nor a git's, which holds an index) can look the same.
fn lock_marker() -> Result<String, StoreError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| StoreError::Io {
        path: PathBuf::from("/dev/urandom"),
        action: "cannot read random bytes from",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(format!(
        "ovn {} {:016x}\n",
        std::process::id(),
        u64::from_be_bytes(random)
    ))
}

/// git's index lock held by a write, and whether the one-pass writer found the index to its
/// liking (else libgit2 writes it).
struct HeldIndex {
    lock: IndexLock,
    one_pass: bool,
}

/// libgit2's index entry for the file `path` (repository-relative) with blob `oid`.
fn index_entry(path: &str, oid: Oid, meta: &fs::Metadata) -> git2::IndexEntry {
    use std::os::unix::fs::MetadataExt;
    // 32-bit fields, truncated as git does.
    git2::IndexEntry {
        ctime: git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
        mtime: git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode: if meta.mode() & 0o111 != 0 {
            0o100755
        } else {
            0o100644
        },
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.size() as u32,
        id: oid,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// What a commit transaction is about to do, kept until its files are in place.
struct Journal {
    refname: String,
    old: Oid,
    new: Oid,
    /// What the write's `index.lock` holds (ends in a newline), so the next write knows
    /// that lock for its own.
    lock: String,
    files: Vec<(String, Oid)>,
}

impl Journal {
    const HEADER: &'static str = "ovn-journal 2";

    fn to_text(&self) -> String {
        let mut out = format!(
            "{}\nref {}\nold {}\nnew {}\nlock {}",
            Self::HEADER,
            self.refname,
            self.old,
            self.new,
            self.lock
        );
        for (path, oid) in &self.files {
            out.push_str(&format!("file {oid} {path}\n"));
        }
        out.push_str("end\n");
        out
    }

    fn parse(text: &str) -> Option<Journal> {
        let mut lines = text.lines().peekable();
        let version = lines.next()?;
        if !(version == Self::HEADER || version == "ovn-journal 1") || !text.ends_with("end\n") {
            return None;
        }
        let refname = lines.next()?.strip_prefix("ref ")?.to_owned();
        let old = Oid::from_str(lines.next()?.strip_prefix("old ")?).ok()?;
        let new = Oid::from_str(lines.next()?.strip_prefix("new ")?).ok()?;
        // Version 1 (an older ovn) named no lock: none is taken for its.
        let lock = match lines.peek().and_then(|l| l.strip_prefix("lock ")) {
            Some(marker) => {
                let marker = format!("{marker}\n");
                lines.next();
                marker
            }
            None => String::new(),
        };
        let mut files = Vec::new();
        for line in lines {
            if line == "end" {
                break;
            }
            let (oid, path) = line.strip_prefix("file ")?.split_once(' ')?;
            files.push((path.to_owned(), Oid::from_str(oid).ok()?));
        }
        Some(Journal {
            refname,
            old,
            new,
            lock,
            files,
        })
    }
}

impl View<'_> {
    /// The store the view reads through.
    pub fn store(&self) -> &Store {
        self.store
    }

    /// The commit the view shows, unless it is the working tree.
    pub fn commit(&self) -> Option<Oid> {
        match &self.base {
            Base::Tree { commit, .. } => Some(*commit),
            Base::Worktree(_) => None,
        }
    }

    /// Whether a ledger file exists in the view.
    pub fn exists(&self, path: &str) -> Result<bool, StoreError> {
        Ok(match &self.base {
            Base::Tree { tree, .. } => {
                super::loose::entry_at(&self.store.repo, tree, path)?.is_some()
            }
            Base::Worktree(root) => root.join(path).exists(),
        })
    }

    /// One ledger file, if it exists.
    pub fn read(&self, path: &str) -> Result<Option<RawFile>, StoreError> {
        match &self.base {
            Base::Tree { tree, .. } => {
                let Some(entry) = super::loose::entry_at(&self.store.repo, tree, path)? else {
                    return Ok(None);
                };
                if entry.kind() != Some(ObjectType::Blob) {
                    return Ok(None);
                }
                let blob = super::loose::blob(&self.store.repo, entry.id(), "cannot read a blob")?;
                Ok(Some(RawFile {
                    path: path.to_owned(),
                    bytes: blob.content().to_vec(),
                }))
            }
            // Never through a link, a FIFO or a device (see `safe`).
            Base::Worktree(root) => Ok(super::safe::read_bytes(root, path)?.map(|bytes| RawFile {
                path: path.to_owned(),
                bytes,
            })),
        }
    }

    /// `ovn.toml` and every file under the given folders (e.g. `agents`,
    /// `contributions/2026/11/24`). Missing folders are empty.
    pub fn read_folders(&self, folders: &[&str]) -> Result<Vec<RawFile>, StoreError> {
        let mut out = Vec::new();
        if let Some(network) = self.read(NETWORK_FILE)? {
            out.push(network);
        }
        for folder in folders {
            match &self.base {
                Base::Tree { tree, .. } => {
                    let Some(entry) = super::loose::entry_at(&self.store.repo, tree, folder)?
                    else {
                        continue;
                    };
                    if entry.kind() != Some(ObjectType::Tree) {
                        continue;
                    }
                    let sub =
                        super::loose::tree(&self.store.repo, entry.id(), "cannot read a tree")?;
                    let mut blobs = Vec::new();
                    sub.walk(TreeWalkMode::PreOrder, |dir, e| {
                        if e.kind() == Some(ObjectType::Blob)
                            && let Ok(name) = e.name()
                        {
                            blobs.push((format!("{folder}/{dir}{name}"), e.id()));
                        }
                        git2::TreeWalkResult::Ok
                    })
                    .map_err(StoreError::git("cannot walk the tree"))?;
                    for (path, oid) in blobs {
                        let blob = super::loose::blob(&self.store.repo, oid, "cannot read a blob")?;
                        out.push(RawFile {
                            path,
                            bytes: blob.content().to_vec(),
                        });
                    }
                }
                Base::Worktree(root) => walk_disk(root, folder, &mut out)?,
            }
        }
        Ok(out)
    }

    /// Every file of the ledger (what `ovn check` reads): for the rare checks a part of the
    /// ledger cannot settle.
    pub fn read_all(&self) -> Result<Vec<RawFile>, StoreError> {
        match &self.base {
            Base::Tree { commit, .. } => Ok(self.store.read_revision(&commit.to_string())?.files),
            Base::Worktree(_) => self.store.read_worktree(),
        }
    }

    /// The path of the contribution with this id, looking through the day folders by name
    /// (tree listings only, no record is read).
    pub fn find_contribution(&self, id: &str) -> Result<Option<String>, StoreError> {
        let file = format!("{id}.toml");
        Ok(self
            .contribution_paths(|name| name == file, 1)?
            .into_iter()
            .next())
    }

    /// The paths of the contributions whose ids start with `prefix`, at most `limit` of them
    /// (newest days first): what an abbreviated id may mean. Reads tree entries (or folder
    /// listings) only, never a record.
    pub fn contributions_starting_with(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.contribution_paths(
            |name| name.starts_with(prefix) && name.ends_with(".toml"),
            limit,
        )
    }

    /// The paths of the files in contribution day folders whose names `keep` accepts, newest
    /// day first (corrections and abbreviations are mostly of recent records), at most
    /// `limit`. Tree entries or folder listings only; symlinks are not files here.
    fn contribution_paths(
        &self,
        keep: impl Fn(&str) -> bool,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        match &self.base {
            Base::Tree { tree, .. } => {
                let repo = &self.store.repo;
                if let Some(top) = tree
                    .get_name("contributions")
                    .and_then(|e| repo.find_tree(e.id()).ok())
                {
                    out = contribution_paths_in(repo, &top, keep, limit);
                }
            }
            Base::Worktree(root) => {
                let names = |p: &Path, dirs: bool| -> Vec<String> {
                    let mut names: Vec<String> = fs::read_dir(p)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .filter(|e| {
                            e.file_type()
                                .is_ok_and(|t| if dirs { t.is_dir() } else { t.is_file() })
                        })
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect();
                    names.sort();
                    names.reverse();
                    names
                };
                let top = root.join("contributions");
                for y in names(&top, true) {
                    for m in names(&top.join(&y), true) {
                        for d in names(&top.join(&y).join(&m), true) {
                            for name in names(&top.join(&y).join(&m).join(&d), false) {
                                if keep(&name) {
                                    out.push(format!("contributions/{y}/{m}/{d}/{name}"));
                                    if out.len() >= limit {
                                        return Ok(out);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The paths of the files in the contribution day folders under `top` (the `contributions`
/// tree of a commit) whose names `keep` accepts, newest day first, at most `limit`: tree
/// listings only, never a blob. Shared by a write's lookups and by history's.
pub(super) fn contribution_paths_in(
    repo: &git2::Repository,
    top: &Tree<'_>,
    keep: impl Fn(&str) -> bool,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let subtrees = |t: &Tree<'_>| -> Vec<(String, Oid)> {
        t.iter()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .filter_map(|e| Some((e.name().ok()?.to_owned(), e.id())))
            .collect()
    };
    for (y, yid) in subtrees(top).into_iter().rev() {
        let Ok(year) = repo.find_tree(yid) else {
            continue;
        };
        for (m, mid) in subtrees(&year).into_iter().rev() {
            let Ok(month) = repo.find_tree(mid) else {
                continue;
            };
            for (d, did) in subtrees(&month).into_iter().rev() {
                let Ok(day) = repo.find_tree(did) else {
                    continue;
                };
                for name in day.iter().filter_map(|e| e.name().ok().map(str::to_owned)) {
                    if keep(&name) {
                        out.push(format!("contributions/{y}/{m}/{d}/{name}"));
                        if out.len() >= limit {
                            return out;
                        }
                    }
                }
            }
        }
    }
    out
}

fn walk_disk(root: &Path, rel: &str, out: &mut Vec<RawFile>) -> Result<(), StoreError> {
    let dir = root.join(rel);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(&dir, "cannot list", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}/{name}");
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk_disk(root, &path, out)?;
        } else {
            // The listing does not enter linked folders; the file itself is opened without
            // following a link.
            if let Some(bytes) = super::safe::read_bytes(root, &path)? {
                out.push(RawFile { path, bytes });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_its_bound_is_never_written() {
        use crate::core::parse::{MAX_FILE_BYTES, MAX_PAYOUT_BYTES};
        let file = |path: &str, size: usize| (path.to_owned(), vec![b'#'; size]);
        // At the bound: written.
        let fits = [
            file("payouts/2026/p.toml", MAX_PAYOUT_BYTES),
            file("contributions/2026/11/24/c.toml", MAX_FILE_BYTES),
        ];
        assert!(check_sizes(&fits).is_ok());
        // One byte over: refused, naming the file and its bound.
        for (path, size, bound) in [
            ("payouts/2026/p.toml", MAX_PAYOUT_BYTES + 1, "8 MiB"),
            (
                "contributions/2026/11/24/c.toml",
                MAX_FILE_BYTES + 1,
                "64 KiB",
            ),
            ("agents/a.toml", MAX_FILE_BYTES + 1, "64 KiB"),
        ] {
            let err = check_sizes(&[file("ovn.toml", 10), file(path, size)]).unwrap_err();
            assert!(
                matches!(&err, StoreError::TooLarge { path: p, size: n, .. } if p == path && *n == size),
                "{err:?}"
            );
            let said = err.to_string();
            assert!(
                said.contains(bound) && said.contains("nothing was written"),
                "{said}"
            );
            // The advice fits the file: only a payout record settles claims.
            let hint = err.hint().unwrap_or_default();
            assert_eq!(
                hint.contains("payout"),
                path.starts_with("payouts/"),
                "{hint}"
            );
        }
    }

    #[test]
    fn journal_round_trip_and_torn_journals() {
        let j = Journal {
            refname: "refs/heads/main".to_owned(),
            old: Oid::from_str("1111111111111111111111111111111111111111").unwrap(),
            new: Oid::from_str("2222222222222222222222222222222222222222").unwrap(),
            lock: "ovn 42 0123456789abcdef\n".to_owned(),
            files: vec![(
                "contributions/2026/11/24/x y.toml".to_owned(),
                Oid::from_str("3333333333333333333333333333333333333333").unwrap(),
            )],
        };
        let text = j.to_text();
        let back = Journal::parse(&text).unwrap();
        assert_eq!(back.refname, j.refname);
        assert_eq!(back.files, j.files);
        assert_eq!(back.lock, j.lock);
        assert!(Journal::parse(&text[..text.len() - 2]).is_none());
    }
}
