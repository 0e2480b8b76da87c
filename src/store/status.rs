//! What is pending review and what is not committed: the data behind `ovn status`.
//!
//! "Pending" is what the current branch has that the validated branch has not: the changes
//! between their merge base and the branch tip, found by walking both trees together and
//! skipping every subtree whose id is equal on both sides (cheap on large ledgers, where a
//! branch changes a few of thousands of day folders, unlike a full tree diff). "Uncommitted" is git's own status of
//! the ledger's files in the working tree: libgit2's, or the `git` program's where libgit2
//! cannot read the index (a split index, `core.splitIndex`).

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, StatusOptions, Tree};

use super::{Store, StoreError};
use crate::core::ledger::{Role, classify};

/// How a file differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// New on the branch.
    Added,
    /// Changed on the branch.
    Modified,
    /// Removed on the branch.
    Removed,
}

impl ChangeKind {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One ledger file that differs between the validated branch and the current one.
#[derive(Clone, Debug)]
pub struct Change {
    /// How.
    pub kind: ChangeKind,
    /// Ledger-relative path.
    pub path: String,
    /// The file's content on the current branch (absent when removed).
    pub bytes: Option<Vec<u8>>,
}

/// What the current branch has that the validated branch has not.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The current branch (`None` when HEAD is detached).
    pub branch: Option<String>,
    /// The validated branch as found (`main`, or `origin/main` when there is no local one);
    /// `None` when neither exists.
    pub validated: Option<String>,
    /// Commits on the current branch that the validated branch does not have.
    pub ahead: usize,
    /// Commits on the validated branch that the current branch does not have.
    pub behind: usize,
    /// The ledger files that differ, sorted by path.
    pub changes: Vec<Change>,
}

/// A ledger file whose working-tree or index state differs from HEAD.
#[derive(Clone, Debug)]
pub struct Uncommitted {
    /// Ledger-relative path.
    pub path: String,
    /// `new`, `modified`, `deleted` (in the working tree), `staged` (in the index only) or
    /// [`UNSTAGED`].
    pub state: &'static str,
}

/// The state of a file that HEAD has and the working tree has, but git's index has not:
/// the next `git commit` would delete it. A git command that read the index before an `ovn`
/// write staged its record, and wrote that index back after, leaves exactly this (git reads
/// the index without its lock; see the `txn` module); so can `git rm --cached`.
pub const UNSTAGED: &str = "unstaged";

/// A remote-tracking branch that a local branch follows (its upstream).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// The remote's name (`origin`).
    pub remote: String,
    /// The branch as git shows it (`origin/main`).
    pub name: String,
    /// Its commit.
    pub commit: Oid,
}

/// A git operation stopped half-way in the working tree (it waits for the user).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InProgress {
    /// `git merge` stopped (a conflict, or `--no-commit`).
    Merge,
    /// `git rebase` stopped.
    Rebase,
    /// `git cherry-pick` stopped.
    CherryPick,
    /// `git revert` stopped.
    Revert,
    /// `git am` or `git bisect`, or another operation git names.
    Other,
}

impl InProgress {
    /// The git command, as users type it.
    pub fn as_str(self) -> &'static str {
        match self {
            InProgress::Merge => "merge",
            InProgress::Rebase => "rebase",
            InProgress::CherryPick => "cherry-pick",
            InProgress::Revert => "revert",
            InProgress::Other => "git operation",
        }
    }
}

impl Store {
    /// The upstream of the local branch `branch`: the one git's configuration names for it
    /// (`branch.NAME.remote` and `.merge`), else `NAME` on `origin`, else `NAME` on the only
    /// remote that has it. The local branch itself need not exist (a clone that has only
    /// `origin/main`). `None` when no remote-tracking branch fits.
    pub fn upstream(&self, branch: &str) -> Option<Upstream> {
        let repo = &self.repo;
        let local = format!("refs/heads/{branch}");
        let configured = repo.branch_upstream_name(&local).ok().and_then(|name| {
            let name = name.as_str().ok()?.to_owned();
            let remote = repo.branch_upstream_remote(&local).ok()?;
            let remote = remote.as_str().ok()?.to_owned();
            Some((remote, name))
        });
        let by_name = |remote: &str| {
            let refname = format!("refs/remotes/{remote}/{branch}");
            repo.refname_to_id(&refname)
                .ok()
                .map(|commit| (remote.to_owned(), refname, commit))
        };
        let found = match configured {
            Some((remote, refname)) => repo
                .refname_to_id(&refname)
                .ok()
                .map(|commit| (remote, refname, commit)),
            None => by_name("origin").or_else(|| {
                let remotes = repo.remotes().ok()?;
                // Only a branch one remote alone has is its upstream: two would be a guess.
                let mut having = Vec::new();
                for remote in remotes.iter().flatten() {
                    having.extend(remote.and_then(by_name));
                }
                (having.len() == 1).then(|| having.remove(0))
            }),
        }?;
        let (remote, refname, commit) = found;
        let name = refname
            .strip_prefix("refs/remotes/")
            .unwrap_or(&refname)
            .to_owned();
        Some(Upstream {
            remote,
            name,
            commit,
        })
    }

    /// Whether the repository has any remote.
    pub fn has_remotes(&self) -> bool {
        self.repo.remotes().is_ok_and(|r| !r.is_empty())
    }

    /// The commit of the local branch `branch`, if it exists.
    pub fn local_branch(&self, branch: &str) -> Option<Oid> {
        self.repo
            .refname_to_id(&format!("refs/heads/{branch}"))
            .ok()
    }

    /// How many commits `a` has that `b` has not, and `b` has that `a` has not.
    pub fn ahead_behind(&self, a: Oid, b: Oid) -> Result<(usize, usize), StoreError> {
        self.guard(a)?;
        self.guard(b)?;
        self.repo
            .graph_ahead_behind(a, b)
            .map_err(StoreError::git("cannot compare two branches"))
    }

    /// The git operation stopped half-way in this working tree, if any.
    pub fn in_progress(&self) -> Option<InProgress> {
        use git2::RepositoryState as S;
        match self.repo.state() {
            S::Clean => None,
            S::Merge => Some(InProgress::Merge),
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some(InProgress::Rebase),
            S::CherryPick | S::CherryPickSequence => Some(InProgress::CherryPick),
            S::Revert | S::RevertSequence => Some(InProgress::Revert),
            _ => Some(InProgress::Other),
        }
    }

    /// Compares HEAD with the validated branch, as resolved once for every command (see
    /// `ops::branch`); `None` when this repository has none.
    pub fn pending(&self, validated: Option<&super::ResolvedRev>) -> Result<Pending, StoreError> {
        let repo = &self.repo;
        let branch = self.branch().ok();
        let head = repo
            .head()
            .map_err(StoreError::git("cannot read HEAD"))?
            .target()
            .ok_or_else(|| {
                StoreError::git("cannot read HEAD")(git2::Error::from_str(
                    "HEAD points at no commit",
                ))
            })?;
        let head = super::loose::commit(repo, head, "cannot read HEAD")?;
        let Some((validated_id, shown)) = validated.map(|v| (v.commit(), v.name().to_owned()))
        else {
            return Ok(Pending {
                branch,
                validated: None,
                ahead: 0,
                behind: 0,
                changes: Vec::new(),
            });
        };
        self.guard(validated_id)?;
        let base = repo.merge_base(head.id(), validated_id).ok();
        let count = |from: Oid, hide: Option<Oid>| -> Result<usize, StoreError> {
            let mut walk = repo
                .revwalk()
                .map_err(StoreError::git("cannot walk history"))?;
            walk.push(from)
                .map_err(StoreError::git("cannot walk history"))?;
            if let Some(hide) = hide {
                walk.hide(hide)
                    .map_err(StoreError::git("cannot walk history"))?;
            }
            Ok(walk.count())
        };
        let ahead = count(head.id(), base)?;
        let behind = count(validated_id, base)?;
        let old = match base {
            Some(b) => self.ledger_tree(b)?,
            None => None,
        };
        let new = self.ledger_tree(head.id())?;
        let mut found = Vec::new();
        diff(repo, old.as_ref(), new.as_ref(), "", &mut found)?;
        let mut changes = Vec::new();
        for (kind, path, blob) in found {
            if matches!(classify(&path), Role::Ignored) {
                continue;
            }
            let bytes = match blob {
                Some(oid) => Some(
                    super::loose::blob(repo, oid, "cannot read a blob")?
                        .content()
                        .to_vec(),
                ),
                None => None,
            };
            changes.push(Change { kind, path, bytes });
        }
        Ok(Pending {
            branch,
            validated: Some(shown),
            ahead,
            behind,
            changes,
        })
    }

    /// Ledger files that are new, changed, deleted or staged but not committed.
    pub fn uncommitted(&self) -> Result<Vec<Uncommitted>, StoreError> {
        if self.root().is_none() {
            return Ok(Vec::new());
        }
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        if !self.prefix.is_empty() {
            options.pathspec(format!("{}/", self.prefix));
        }
        // libgit2 walks HEAD's ledger trees for this on its own; a truncated one would hang it
        // (see the `loose` module), so they are checked first: one failed `open` per packed
        // tree, a few milliseconds for a ledger of a million records.
        if let Ok(head) = self.repo.head()
            && let Some(oid) = head.target()
        {
            let commit = super::loose::commit(&self.repo, oid, "cannot read HEAD")?;
            let mut tree = self.tree_of(&commit)?;
            if !self.prefix.is_empty() {
                match super::loose::entry_at(&self.repo, &tree, &self.prefix)? {
                    Some(e) if e.kind() == Some(ObjectType::Tree) => {
                        tree = super::loose::tree(&self.repo, e.id(), "cannot read a tree")?;
                    }
                    _ => {}
                }
            }
            self.guard_trees(&tree)?;
        }
        let statuses = match self.repo.statuses(Some(&mut options)) {
            Ok(statuses) => statuses,
            // libgit2 cannot read a split index (`core.splitIndex`); git can.
            Err(e) if super::error::unreadable_index_extension(&e, "link") => {
                return self.uncommitted_by_git();
            }
            Err(e) => {
                return Err(StoreError::git(
                    "cannot read the status of the working tree",
                )(e));
            }
        };
        let mut out = Vec::new();
        for entry in statuses.iter() {
            let Ok(path) = entry.path() else { continue };
            let s = entry.status();
            let state = if s.is_index_deleted() && s.is_wt_new() {
                UNSTAGED
            } else if s.is_wt_new() {
                "new"
            } else if s.is_wt_deleted() {
                "deleted"
            } else if s.is_wt_modified() || s.is_wt_typechange() || s.is_wt_renamed() {
                "modified"
            } else if s.is_index_new()
                || s.is_index_modified()
                || s.is_index_deleted()
                || s.is_index_renamed()
                || s.is_index_typechange()
            {
                "staged"
            } else if s.is_conflicted() {
                "conflicted"
            } else {
                continue;
            };
            self.push_uncommitted(&mut out, path, state);
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// [`Store::uncommitted`] as `git status` reports it, for an index libgit2 cannot read.
    fn uncommitted_by_git(&self) -> Result<Vec<Uncommitted>, StoreError> {
        let workdir = self.repo.workdir().unwrap_or(self.repo.path());
        let mut git = std::process::Command::new("git");
        git.current_dir(workdir).args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=all",
            "--no-renames",
        ]);
        if !self.prefix.is_empty() {
            git.args(["--", &self.prefix]);
        }
        let output = git.output().map_err(|e| {
            StoreError::io(
                workdir,
                "cannot run `git status` (libgit2 cannot read this split index, git can)",
                e,
            )
        })?;
        if !output.status.success() {
            return Err(StoreError::io(
                workdir,
                "cannot read the status of the working tree",
                std::io::Error::other(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
            ));
        }
        let mut out = Vec::new();
        let mut deleted_in_index = std::collections::BTreeSet::new();
        // Each entry is "XY path" and a NUL: X the index's state, Y the working tree's. A file
        // removed from the index but still in the working tree comes twice: "D " and "??".
        for item in output.stdout.split(|&b| b == 0) {
            if let (Some(b"D  "), Some(path)) = (item.get(..3), item.get(3..)) {
                deleted_in_index.insert(path.to_vec());
            }
        }
        for item in output.stdout.split(|&b| b == 0) {
            let (Some(&[x, y, b' ']), Some(path)) = (item.get(..3), item.get(3..)) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(path) else {
                continue;
            };
            let unstaged = deleted_in_index.contains(path);
            let state = match (x, y) {
                (b'?', b'?') if unstaged => UNSTAGED,
                (b'D', b' ') if unstaged => continue,
                (b'U', _) | (_, b'U') | (b'A', b'A') | (b'D', b'D') => "conflicted",
                (b'?', b'?') => "new",
                (_, b'D') => "deleted",
                (_, b'M' | b'T') => "modified",
                (b'A' | b'M' | b'D' | b'T', _) => "staged",
                _ => continue,
            };
            self.push_uncommitted(&mut out, text, state);
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Stages again the ledger files in the [`UNSTAGED`] state whose working-tree content
    /// is exactly what HEAD has (anything else is the user's to decide), under git's index
    /// lock as an `ovn` write takes it. Returns their ledger paths.
    pub fn restage_unstaged(&self) -> Result<Vec<String>, StoreError> {
        let (Some(root), Ok(head)) = (self.root(), self.repo.head()) else {
            return Ok(Vec::new());
        };
        let Some(tip) = head.target() else {
            return Ok(Vec::new());
        };
        let commit = super::loose::commit(&self.repo, tip, "cannot read HEAD")?;
        let tree = self.tree_of(&commit)?;
        let mut files = Vec::new();
        for u in self.uncommitted()? {
            if u.state != UNSTAGED {
                continue;
            }
            let Ok(entry) = tree.get_path(Path::new(&self.repo_path(&u.path))) else {
                continue;
            };
            let on_disk = super::safe::read_bytes(root, &u.path).ok().flatten();
            let same = on_disk
                .and_then(|bytes| Oid::hash_object(ObjectType::Blob, &bytes).ok())
                .is_some_and(|oid| oid == entry.id());
            if same {
                files.push((u.path, entry.id()));
            }
        }
        if !files.is_empty() {
            self.stage_committed(&files)?;
        }
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }

    /// Adds the repository path `path` to `out` when it is a ledger file.
    fn push_uncommitted(&self, out: &mut Vec<Uncommitted>, path: &str, state: &'static str) {
        let ledger_path = if self.prefix.is_empty() {
            path
        } else {
            match path.strip_prefix(&format!("{}/", self.prefix)) {
                Some(p) => p,
                None => return,
            }
        };
        if !matches!(classify(ledger_path), Role::Ignored) {
            out.push(Uncommitted {
                path: ledger_path.to_owned(),
                state,
            });
        }
    }

    /// Checks every tree below `tree` before libgit2 reads it.
    fn guard_trees(&self, tree: &Tree<'_>) -> Result<(), StoreError> {
        for entry in tree.iter() {
            if entry.kind() == Some(ObjectType::Tree) {
                let sub = super::loose::tree(&self.repo, entry.id(), "cannot read a tree")?;
                self.guard_trees(&sub)?;
            }
        }
        Ok(())
    }

    /// The ledger's tree at `commit`, or None when the commit has no ledger there.
    pub(super) fn ledger_tree(&self, commit: Oid) -> Result<Option<Tree<'_>>, StoreError> {
        let commit = super::loose::commit(&self.repo, commit, "cannot read a commit")?;
        let tree = self.tree_of(&commit)?;
        if self.prefix.is_empty() {
            return Ok(Some(tree));
        }
        Ok(tree
            .get_path(Path::new(&self.prefix))
            .ok()
            .and_then(|e| self.repo.find_tree(e.id()).ok()))
    }
}

type Found = Vec<(ChangeKind, String, Option<Oid>)>;

/// The blobs that differ between two trees, descending only into subtrees whose ids differ.
fn diff(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: Option<&Tree<'_>>,
    dir: &str,
    out: &mut Found,
) -> Result<(), StoreError> {
    let entries = |t: Option<&Tree<'_>>| -> BTreeMap<String, (Oid, Option<ObjectType>)> {
        t.map(|t| {
            t.iter()
                .filter_map(|e| Some((e.name().ok()?.to_owned(), (e.id(), e.kind()))))
                .collect()
        })
        .unwrap_or_default()
    };
    let (before, after) = (entries(old), entries(new));
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let path = format!("{dir}{name}");
        let (b, a) = (before.get(name), after.get(name));
        if let (Some(b), Some(a)) = (b, a)
            && b.0 == a.0
        {
            continue;
        }
        let as_tree = |e: Option<&(Oid, Option<ObjectType>)>| match e
            .filter(|e| e.1 == Some(ObjectType::Tree))
        {
            Some(e) => super::loose::tree(repo, e.0, "cannot read a tree").map(Some),
            None => Ok(None),
        };
        let (bt, at) = (as_tree(b)?, as_tree(a)?);
        if bt.is_some() || at.is_some() {
            diff(repo, bt.as_ref(), at.as_ref(), &format!("{path}/"), out)?;
        }
        let blob = |e: Option<&(Oid, Option<ObjectType>)>| {
            e.filter(|e| e.1 == Some(ObjectType::Blob)).map(|e| e.0)
        };
        match (blob(b), blob(a)) {
            (None, Some(new)) => out.push((ChangeKind::Added, path, Some(new))),
            (Some(_), Some(new)) => out.push((ChangeKind::Modified, path, Some(new))),
            (Some(_), None) => out.push((ChangeKind::Removed, path, None)),
            (None, None) => {}
        }
    }
    Ok(())
}
