//! What review and validation need from git history: which commit added each approval (its
//! author is the approver), and the ledger files two revisions differ in.
//!
//! Both descend trees by hand and skip every subtree whose id is equal on both sides, so the
//! cost follows the size of the change, not of the ledger (a day's change touches a few of
//! the thousands of day-folder trees of a large ledger).

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Sort, Tree};

use super::{Store, StoreError};
use crate::core::ledger::{NETWORK_FILE, RecordType};

/// One ledger file that differs between two revisions: absent `old` means added, absent
/// `new` means removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Ledger-relative path.
    pub path: String,
    /// The bytes at the base revision.
    pub old: Option<Vec<u8>>,
    /// The bytes at the head revision.
    pub new: Option<Vec<u8>>,
}

/// Who added one approval file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedBy {
    /// The commit that added it.
    pub commit: Oid,
    /// Its author's email.
    pub email: String,
}

impl Store {
    /// The history of `head`, oldest first, parents before children: the order in which
    /// files are added, changed and approved.
    pub(crate) fn oldest_first(&self, head: Oid) -> Result<git2::Revwalk<'_>, StoreError> {
        let mut walk = self
            .repo
            .revwalk()
            .map_err(StoreError::git("cannot walk history"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(StoreError::git("cannot walk history"))?;
        walk.push(head)
            .map_err(StoreError::git("cannot walk history"))?;
        Ok(walk)
    }

    /// The ledger's subtree at a commit (`None` when the commit has no ledger there).
    pub(super) fn history_tree<'r>(
        &'r self,
        commit: &git2::Commit<'r>,
    ) -> Result<Option<Tree<'r>>, StoreError> {
        let tree = self.tree_of(commit)?;
        if self.prefix.is_empty() {
            return Ok(Some(tree));
        }
        match tree.get_path(Path::new(&self.prefix)) {
            Ok(entry) => Ok(self.repo.find_tree(entry.id()).ok()),
            Err(_) => Ok(None),
        }
    }

    pub(super) fn history_subtree<'r>(
        &'r self,
        tree: Option<&Tree<'r>>,
        name: &str,
    ) -> Option<Tree<'r>> {
        let entry = tree?.get_name(name)?;
        if entry.kind() != Some(ObjectType::Tree) {
            return None;
        }
        // A damaged tree reads as absent here rather than hang libgit2; the reads that
        // return errors report it.
        super::loose::tree(&self.repo, entry.id(), "cannot read a tree").ok()
    }

    /// For every approval file reachable from `rev`, the first commit (oldest first, in
    /// topological order) that added it, by approval id (the file name). A commit adds a
    /// file that none of its parents has; merges therefore add nothing of their own unless
    /// the file is new to both sides, and a squash merge counts as the adding commit.
    pub fn approval_authors(&self, rev: &str) -> Result<BTreeMap<String, AddedBy>, StoreError> {
        let head = self.resolve(rev)?;
        // Each commit's trees are read once or twice: libgit2's object cache would only grow.
        git2::opts::enable_caching(false);
        let walk = self.oldest_first(head.id())?;
        let folder = RecordType::Approval.folder();
        let mut out: BTreeMap<String, AddedBy> = BTreeMap::new();
        for oid in walk {
            let oid = oid.map_err(StoreError::git("cannot walk history"))?;
            let commit = super::loose::commit(&self.repo, oid, "cannot read a commit")?;
            let Some(here) = self.history_subtree(self.history_tree(&commit)?.as_ref(), folder)
            else {
                continue;
            };
            let mut parents = Vec::new();
            for p in commit.parents() {
                parents.push(self.history_subtree(self.history_tree(&p)?.as_ref(), folder));
            }
            if parents.iter().flatten().any(|p| p.id() == here.id()) {
                continue;
            }
            let mut added = Vec::new();
            self.collect_new(&here, &parents, folder, &mut added)?;
            let email = commit.author().email().unwrap_or_default().to_owned();
            for path in added {
                let stem = path
                    .rsplit('/')
                    .next()
                    .and_then(|f| f.strip_suffix(".toml"))
                    .unwrap_or_default()
                    .to_owned();
                out.entry(stem).or_insert_with(|| AddedBy {
                    commit: oid,
                    email: email.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Blob paths of `new` that none of `olds` has at the same path.
    fn collect_new(
        &self,
        new: &Tree<'_>,
        olds: &[Option<Tree<'_>>],
        dir: &str,
        out: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        if let [old] = olds {
            return self.collect_new_one(new, old.as_ref(), dir, out);
        }
        for entry in new.iter() {
            let Ok(name) = entry.name() else { continue };
            let befores: Vec<Option<git2::TreeEntry<'_>>> = olds
                .iter()
                .map(|o| {
                    o.as_ref()
                        .and_then(|o| o.get_name(name).map(|e| e.to_owned()))
                })
                .collect();
            if befores.iter().flatten().any(|b| b.id() == entry.id()) {
                continue;
            }
            let path = format!("{dir}/{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let sub = super::loose::tree(&self.repo, entry.id(), "cannot read a tree")?;
                    let old_subs: Vec<Option<Tree<'_>>> = befores
                        .iter()
                        .map(|b| {
                            b.as_ref()
                                .filter(|b| b.kind() == Some(ObjectType::Tree))
                                .and_then(|b| self.repo.find_tree(b.id()).ok())
                        })
                        .collect();
                    self.collect_new(&sub, &old_subs, &path, out)?;
                }
                Some(ObjectType::Blob) if befores.iter().all(Option::is_none) => out.push(path),
                _ => {}
            }
        }
        Ok(())
    }

    /// [`Store::collect_new`] against one parent, the usual case: both trees list their
    /// entries in the same order, so they are walked side by side and an unchanged entry costs
    /// one id comparison (a folder of thousands of approvals gains one file per commit).
    fn collect_new_one(
        &self,
        new: &Tree<'_>,
        old: Option<&Tree<'_>>,
        dir: &str,
        out: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        super::treediff::walk_differing(&self.repo, new, old, dir, &mut |path, _, before| {
            if before.is_none() {
                out.push(path.to_owned());
            }
            Ok(())
        })
    }

    /// The ledger files (`ovn.toml` and the record folders) that differ between `base` and
    /// `head`, sorted by path, read from git objects.
    pub fn changed_files(&self, base: &str, head: &str) -> Result<Vec<FileChange>, StoreError> {
        let old = self.history_tree(&self.resolve(base)?)?;
        let new = self.history_tree(&self.resolve(head)?)?;
        let mut out = Vec::new();
        let blob = |t: Option<&Tree<'_>>, name: &str| -> Result<Option<Vec<u8>>, StoreError> {
            match t.and_then(|t| t.get_name(name)) {
                Some(e) if e.kind() == Some(ObjectType::Blob) => Ok(Some(
                    super::loose::blob(&self.repo, e.id(), "cannot read a blob")?
                        .content()
                        .to_vec(),
                )),
                _ => Ok(None),
            }
        };
        let (a, b) = (
            blob(old.as_ref(), NETWORK_FILE)?,
            blob(new.as_ref(), NETWORK_FILE)?,
        );
        if a != b {
            out.push(FileChange {
                path: NETWORK_FILE.to_owned(),
                old: a,
                new: b,
            });
        }
        for kind in RecordType::ALL {
            let folder = kind.folder();
            let o = self.history_subtree(old.as_ref(), folder);
            let n = self.history_subtree(new.as_ref(), folder);
            self.diff_both(o.as_ref(), n.as_ref(), folder, &mut out)?;
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn diff_both(
        &self,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
        dir: &str,
        out: &mut Vec<FileChange>,
    ) -> Result<(), StoreError> {
        if let (Some(o), Some(n)) = (old, new)
            && o.id() == n.id()
        {
            return Ok(());
        }
        let mut names: Vec<String> = Vec::new();
        for t in [old, new].into_iter().flatten() {
            for e in t.iter() {
                if let Ok(name) = e.name() {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        names.dedup();
        for name in names {
            let a = old.and_then(|t| t.get_name(&name).map(|e| e.to_owned()));
            let b = new.and_then(|t| t.get_name(&name).map(|e| e.to_owned()));
            if let (Some(a), Some(b)) = (&a, &b)
                && a.id() == b.id()
            {
                continue;
            }
            let path = format!("{dir}/{name}");
            let as_tree = |e: &Option<git2::TreeEntry<'_>>| {
                e.as_ref()
                    .filter(|e| e.kind() == Some(ObjectType::Tree))
                    .and_then(|e| self.repo.find_tree(e.id()).ok())
            };
            let as_blob = |e: &Option<git2::TreeEntry<'_>>| -> Result<Option<Vec<u8>>, StoreError> {
                match e.as_ref().filter(|e| e.kind() == Some(ObjectType::Blob)) {
                    Some(e) => Ok(Some(
                        super::loose::blob(&self.repo, e.id(), "cannot read a blob")?
                            .content()
                            .to_vec(),
                    )),
                    None => Ok(None),
                }
            };
            let (ta, tb) = (as_tree(&a), as_tree(&b));
            if ta.is_some() || tb.is_some() {
                self.diff_both(ta.as_ref(), tb.as_ref(), &path, out)?;
            }
            let (ba, bb) = (as_blob(&a)?, as_blob(&b)?);
            if ba.is_some() || bb.is_some() {
                out.push(FileChange {
                    path,
                    old: ba,
                    new: bb,
                });
            }
        }
        Ok(())
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, StoreError> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(descendant, ancestor)
            .map_err(StoreError::git("cannot compare commits"))
    }
}

impl Store {
    /// The files directly in a ledger folder at a revision (none when it does not exist).
    pub fn read_folder_at(
        &self,
        rev: &str,
        folder: &str,
    ) -> Result<Vec<crate::core::ledger::RawFile>, StoreError> {
        self.read_files_at(rev, folder, false)
    }

    /// The files of a folder and of every folder below it at a revision (for a small
    /// folder such as `payouts/`, whose records sit in year folders).
    pub fn read_tree_at(
        &self,
        rev: &str,
        folder: &str,
    ) -> Result<Vec<crate::core::ledger::RawFile>, StoreError> {
        self.read_files_at(rev, folder, true)
    }

    fn read_files_at(
        &self,
        rev: &str,
        folder: &str,
        deep: bool,
    ) -> Result<Vec<crate::core::ledger::RawFile>, StoreError> {
        let root = self.history_tree(&self.resolve(rev)?)?;
        let mut tree = root;
        for part in folder.split('/') {
            tree = self.history_subtree(tree.as_ref(), part);
        }
        let Some(tree) = tree else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut pending = vec![(folder.to_owned(), tree)];
        while let Some((path, tree)) = pending.pop() {
            for e in tree.iter() {
                let Ok(name) = e.name() else { continue };
                match e.kind() {
                    Some(ObjectType::Blob) => {
                        let blob = super::loose::blob(&self.repo, e.id(), "cannot read a blob")?;
                        out.push(crate::core::ledger::RawFile {
                            path: format!("{path}/{name}"),
                            bytes: blob.content().to_vec(),
                        });
                    }
                    Some(ObjectType::Tree) if deep => {
                        let sub = super::loose::tree(&self.repo, e.id(), "cannot read a tree")?;
                        pending.push((format!("{path}/{name}"), sub));
                    }
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The path of the contribution `id` at a revision, by tree listings only (newest day
    /// folders first).
    pub fn find_contribution_at(&self, rev: &str, id: &str) -> Result<Option<String>, StoreError> {
        let root = self.history_tree(&self.resolve(rev)?)?;
        let Some(top) = self.history_subtree(root.as_ref(), RecordType::Contribution.folder())
        else {
            return Ok(None);
        };
        let file = format!("{id}.toml");
        Ok(
            super::txn::contribution_paths_in(&self.repo, &top, |name| name == file, 1)
                .into_iter()
                .next(),
        )
    }

    /// The branches, local then remote-tracking (at most `limit`, of the first 64 looked at),
    /// whose tip has the contribution `id`: where to approve one that the current branch
    /// lacks. Each is its short name and whether it is remote-tracking. Only looked up when
    /// an id is not found, so a tree listing per branch is fine.
    pub fn branches_with_contribution(
        &self,
        id: &str,
        limit: usize,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let mut names = Vec::new();
        for kind in [git2::BranchType::Local, git2::BranchType::Remote] {
            let branches = self
                .repo
                .branches(Some(kind))
                .map_err(StoreError::git("cannot list branches"))?;
            for (branch, _) in branches.flatten() {
                if let Ok(Some(name)) = branch.name()
                    && !name.ends_with("/HEAD")
                {
                    names.push((name.to_owned(), kind == git2::BranchType::Remote));
                }
            }
        }
        let mut found = Vec::new();
        for (name, remote) in names.into_iter().take(64) {
            if found.len() == limit {
                break;
            }
            if let Ok(Some(_)) = self.find_contribution_at(&name, id) {
                found.push((name, remote));
            }
        }
        Ok(found)
    }

    /// The commit a revision names, and the merge base of two revisions.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<Oid>, StoreError> {
        let (a, b) = (self.resolve(a)?.id(), self.resolve(b)?.id());
        match self.repo.merge_base(a, b) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(StoreError::git("cannot find a merge base")(e)),
        }
    }
}

/// Where `ovn check --history` remembers the last commit it verified.
const VERIFIED_FILE: &str = "ovn/verified";

impl Store {
    /// The first-parent chain from `head` back to `stop` (excluded) or to the root, oldest
    /// first, each with its first parent.
    pub fn first_parent_chain(
        &self,
        head: Oid,
        stop: Option<Oid>,
    ) -> Result<Vec<(Oid, Option<Oid>)>, StoreError> {
        // Each commit's trees are read once: libgit2's object cache would only grow.
        git2::opts::enable_caching(false);
        let boundary = self.shallow_boundary();
        let mut out = Vec::new();
        let mut at = Some(head);
        while let Some(oid) = at {
            if Some(oid) == stop {
                break;
            }
            // A shallow clone's oldest commits look like roots: proving from there would
            // pass a history that was never read.
            if boundary.contains(&oid) {
                return Err(StoreError::Shallow);
            }
            let commit = super::loose::commit(&self.repo, oid, "cannot read a commit")?;
            let parent = commit.parent_id(0).ok();
            out.push((oid, parent));
            at = parent;
        }
        out.reverse();
        Ok(out)
    }

    /// The commits whose parents a shallow clone left out (git's `shallow` file); empty in a
    /// full clone.
    fn shallow_boundary(&self) -> std::collections::HashSet<Oid> {
        if !self.repo.is_shallow() {
            return Default::default();
        }
        let text =
            std::fs::read_to_string(self.repo.commondir().join("shallow")).unwrap_or_default();
        text.lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect()
    }

    /// The commit `ovn check --history` last verified, if any.
    pub fn verified(&self) -> Option<Oid> {
        let text = std::fs::read_to_string(self.repo.path().join(VERIFIED_FILE)).ok()?;
        Oid::from_str(text.trim()).ok()
    }

    /// Remembers `commit` as verified (written to a temporary file, then renamed).
    pub fn set_verified(&self, commit: Oid) -> Result<(), StoreError> {
        let path = self.repo.path().join(VERIFIED_FILE);
        let dir = path.parent().unwrap_or(self.repo.path());
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::io(dir, "cannot create directory", e))?;
        let tmp = path.with_extension("tmp");
        super::atomic::write_bytes(&path, &tmp, false, format!("{commit}\n").as_bytes())
            .map_err(|(failed, e)| StoreError::io(failed, "cannot write", e))
    }

    /// The first line of a commit's message and its author email, for reports.
    pub fn commit_summary(&self, commit: Oid) -> Result<(String, String), StoreError> {
        let c = super::loose::commit(&self.repo, commit, "cannot read a commit")?;
        Ok((
            String::from_utf8_lossy(c.summary_bytes().unwrap_or_default()).into_owned(),
            c.author().email().unwrap_or_default().to_owned(),
        ))
    }
}

impl Store {
    /// Verifies a commit's SSH signature with git's own verification (`git verify-commit`)
    /// against `allowed_signers` (the text of an allowed-signers file): the principal (email)
    /// of the key that made a good signature, or `None` when the commit is unsigned, signed
    /// with a key not listed, or its signature does not verify. Needs `git` on PATH.
    pub fn ssh_signer(
        &self,
        commit: Oid,
        allowed_signers: &str,
    ) -> Result<Option<String>, StoreError> {
        let dir = self.repo.path().join("ovn");
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::io(&dir, "cannot create directory", e))?;
        let file = dir.join(format!("allowed_signers.{}", std::process::id()));
        std::fs::write(&file, allowed_signers)
            .map_err(|e| StoreError::io(&file, "cannot write", e))?;
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .arg("-c")
            .arg("gpg.format=ssh")
            .arg("-c")
            .arg(format!("gpg.ssh.allowedSignersFile={}", file.display()))
            .args(["verify-commit", "--raw"])
            .arg(commit.to_string())
            .stdin(std::process::Stdio::null())
            .output();
        let _ = std::fs::remove_file(&file);
        let out = out.map_err(|e| StoreError::io(Path::new("git"), "cannot run", e))?;
        if !out.status.success() {
            return Ok(None);
        }
        // ssh-keygen -Y verify: `Good "git" signature for EMAIL with ED25519 key SHA256:...`
        let text = String::from_utf8_lossy(&out.stderr);
        Ok(text.lines().find_map(|l| {
            let rest = l.split_once("signature for ")?.1;
            let (principal, _) = rest.split_once(" with ")?;
            Some(principal.trim().to_owned())
        }))
    }
}

impl Store {
    /// The record files of `folders` that `parent` has and `commit` modifies or deletes:
    /// (path, deleted). Added files are not looked at, and no blob is read: equal subtree ids
    /// are skipped, so the cost follows what the commit changed.
    pub fn rewritten_files(
        &self,
        parent: Oid,
        commit: Oid,
        folders: &[&str],
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let find = |oid: Oid| super::loose::commit(&self.repo, oid, "cannot read a commit");
        let old = self.history_tree(&find(parent)?)?;
        let new = self.history_tree(&find(commit)?)?;
        let mut out = Vec::new();
        for folder in folders {
            let Some(o) = self.history_subtree(old.as_ref(), folder) else {
                continue;
            };
            let n = self.history_subtree(new.as_ref(), folder);
            self.rewritten_in(&o, n.as_ref(), folder, &mut out)?;
        }
        Ok(out)
    }

    fn rewritten_in(
        &self,
        old: &Tree<'_>,
        new: Option<&Tree<'_>>,
        dir: &str,
        out: &mut Vec<(String, bool)>,
    ) -> Result<(), StoreError> {
        super::treediff::walk_differing(&self.repo, old, new, dir, &mut |path, _, after| {
            let deleted = after.is_none_or(|a| a.kind() != Some(ObjectType::Blob));
            out.push((path.to_owned(), deleted));
            Ok(())
        })
    }
}
