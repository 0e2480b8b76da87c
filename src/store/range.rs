//! Who did what in a range of history (BASE..HEAD, as a pull request): the commits that
//! touched each ledger file, with their authors, and the entries git can hold that are not
//! files (symlinks and gitlinks), which a review must flag rather than skip.

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Tree};

use super::{Store, StoreError};
use crate::core::ledger::{NETWORK_FILE, RecordType};

/// One commit of a range that touched a ledger file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touch {
    /// The commit.
    pub commit: Oid,
    /// Its author's email.
    pub email: String,
    /// Its author date, as the author's own calendar day.
    pub date: chrono::NaiveDate,
    /// Whether the commit added the file (no parent had it).
    pub added: bool,
}

/// A ledger entry that is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// A symbolic link (git mode 120000).
    Symlink,
    /// A gitlink: a submodule's commit (git mode 160000).
    Gitlink,
}

impl Special {
    /// The word for reports.
    pub fn noun(self) -> &'static str {
        match self {
            Special::Symlink => "symlink",
            Special::Gitlink => "gitlink (submodule)",
        }
    }
}

const SYMLINK: i32 = 0o120000;
const GITLINK: i32 = 0o160000;

impl Store {
    /// For every ledger file (`ovn.toml` and the record folders) that a commit reachable from
    /// `head` but not from `base` touched, those commits, oldest first. A commit touches a
    /// file when its content differs from every parent's (a merge that takes one side's
    /// version touches nothing); the first commit of a range counts against `base`'s history.
    pub fn range_touches(
        &self,
        base: Oid,
        head: Oid,
    ) -> Result<BTreeMap<String, Vec<Touch>>, StoreError> {
        let mut walk = self.oldest_first(head)?;
        walk.hide(base)
            .map_err(StoreError::git("cannot walk history"))?;
        let mut out: BTreeMap<String, Vec<Touch>> = BTreeMap::new();
        for oid in walk {
            let oid = oid.map_err(StoreError::git("cannot walk history"))?;
            let commit = self
                .repo
                .find_commit(oid)
                .map_err(StoreError::git("cannot read a commit"))?;
            let here = self.history_tree(&commit)?;
            let parents: Vec<Option<Tree<'_>>> = commit
                .parents()
                .map(|p| self.history_tree(&p))
                .collect::<Result<_, _>>()?;
            // Per parent, the files that differ and whether the parent had them.
            let mut per_parent: Vec<BTreeMap<String, bool>> = Vec::new();
            for parent in parents.iter().map(Option::as_ref) {
                let mut differ = BTreeMap::new();
                if let Some(here) = &here {
                    self.ledger_diff(here, parent, &mut differ)?;
                }
                per_parent.push(differ);
            }
            if per_parent.is_empty()
                && let Some(here) = &here
            {
                let mut differ = BTreeMap::new();
                self.ledger_diff(here, None, &mut differ)?;
                per_parent.push(differ);
            }
            let Some((first, rest)) = per_parent.split_first() else {
                continue;
            };
            let author = commit.author();
            let when = author.when();
            let date = chrono::DateTime::from_timestamp(when.seconds(), 0)
                .map(|t| {
                    let offset = chrono::FixedOffset::east_opt(when.offset_minutes() * 60)
                        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero"));
                    t.with_timezone(&offset).date_naive()
                })
                .unwrap_or_default();
            let email = author.email().unwrap_or_default().to_owned();
            for (path, existed) in first {
                if rest.iter().all(|r| r.contains_key(path)) {
                    let added = !existed && rest.iter().all(|r| !r[path]);
                    out.entry(path.clone()).or_default().push(Touch {
                        commit: oid,
                        email: email.clone(),
                        date,
                        added,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The ledger blobs of `new` that differ from `old` (path → whether `old` has a blob
    /// there). Removed files are not listed: nobody authors a record by deleting it.
    fn ledger_diff(
        &self,
        new: &Tree<'_>,
        old: Option<&Tree<'_>>,
        out: &mut BTreeMap<String, bool>,
    ) -> Result<(), StoreError> {
        let blob_id = |t: Option<&Tree<'_>>| {
            t.and_then(|t| t.get_name(NETWORK_FILE))
                .filter(|e| e.kind() == Some(ObjectType::Blob))
                .map(|e| e.id())
        };
        if let Some(id) = blob_id(Some(new)) {
            let before = blob_id(old);
            if before != Some(id) {
                out.insert(NETWORK_FILE.to_owned(), before.is_some());
            }
        }
        for kind in RecordType::ALL {
            let folder = kind.folder();
            let Some(n) = self.history_subtree(Some(new), folder) else {
                continue;
            };
            let o = self.history_subtree(old, folder);
            super::treediff::walk_differing(
                &self.repo,
                &n,
                o.as_ref(),
                folder,
                &mut |path, _, before| {
                    let existed = before.is_some_and(|b| b.kind() == Some(ObjectType::Blob));
                    out.insert(path.to_owned(), existed);
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    /// The symlinks and gitlinks among the ledger's entries at `head` (in the record folders,
    /// or in place of `ovn.toml`) that `base` does not have at the same path with the same
    /// id, sorted by path. Nothing they point to is read.
    pub fn special_entries(
        &self,
        base: Oid,
        head: Oid,
    ) -> Result<Vec<(String, Special)>, StoreError> {
        let find = |oid: Oid| {
            self.repo
                .find_commit(oid)
                .map_err(StoreError::git("cannot read a commit"))
        };
        let old = self.history_tree(&find(base)?)?;
        let new = self.history_tree(&find(head)?)?;
        let mut out = Vec::new();
        let Some(new) = new else {
            return Ok(out);
        };
        let mut names: Vec<&str> = vec![NETWORK_FILE];
        names.extend(RecordType::ALL.iter().map(|k| k.folder()));
        for name in names {
            let Some(entry) = new.get_name(name) else {
                continue;
            };
            let before = old.as_ref().and_then(|o| o.get_name(name));
            self.special_in(&entry, before.as_ref(), name, &mut out)?;
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn special_in(
        &self,
        entry: &git2::TreeEntry<'_>,
        before: Option<&git2::TreeEntry<'_>>,
        path: &str,
        out: &mut Vec<(String, Special)>,
    ) -> Result<(), StoreError> {
        if before.is_some_and(|b| b.id() == entry.id() && b.filemode() == entry.filemode()) {
            return Ok(());
        }
        match entry.filemode() {
            SYMLINK => out.push((path.to_owned(), Special::Symlink)),
            GITLINK => out.push((path.to_owned(), Special::Gitlink)),
            _ if entry.kind() == Some(ObjectType::Tree) => {
                let tree = self
                    .repo
                    .find_tree(entry.id())
                    .map_err(StoreError::git("cannot read a tree"))?;
                let old = before
                    .filter(|b| b.kind() == Some(ObjectType::Tree))
                    .and_then(|b| self.repo.find_tree(b.id()).ok());
                for e in tree.iter() {
                    let Ok(name) = e.name() else { continue };
                    let b = old.as_ref().and_then(|o| o.get_name(name));
                    self.special_in(&e, b.as_ref(), &format!("{path}/{name}"), out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The object ids of what makes the rules at a commit: `ovn.toml`, `agents/`, `projects/`
/// and `agreements/` (absent ones as `None`).
pub type RuleIds = [Option<Oid>; 4];

impl Store {
    /// [`RuleIds`] at `commit` (one commit and one tree read).
    pub fn rule_ids(&self, commit: Oid) -> Result<RuleIds, StoreError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(StoreError::git("cannot read a commit"))?;
        let tree = self.history_tree(&c)?;
        let id = |name: &str| tree.as_ref().and_then(|t| t.get_name(name)).map(|e| e.id());
        Ok([
            id(NETWORK_FILE),
            id(RecordType::Agent.folder()),
            id(RecordType::Project.folder()),
            id(RecordType::Agreement.folder()),
        ])
    }

    /// Whether `commit` changes the rules: `ovn.toml`, `agents/`, `projects/` or
    /// `agreements/` differ from `parent` (by object id only; nothing is read).
    pub fn governance_touched(&self, parent: Oid, commit: Oid) -> Result<bool, StoreError> {
        Ok(self.rule_ids(parent)? != self.rule_ids(commit)?)
    }
}

/// Where the last commit whose rules in force were found to be its own files is remembered.
const RULES_FILE: &str = "ovn/rules-in-force";

impl Store {
    /// The last commit whose rules in force were found to be its own (every governance
    /// change before it validated), when the cache is on.
    pub fn rules_own(&self) -> Option<Oid> {
        if !self.cache {
            return None;
        }
        let text = std::fs::read_to_string(self.repo.path().join(RULES_FILE)).ok()?;
        Oid::from_str(text.trim()).ok()
    }

    /// Remembers `commit` for [`Store::rules_own`] (best effort: a failure only means the
    /// next walk starts further back).
    pub fn set_rules_own(&self, commit: Oid) {
        if !self.cache || !self.cache_writes || self.rules_own() == Some(commit) {
            return;
        }
        let path = self.repo.path().join(RULES_FILE);
        let tmp = path.with_extension("tmp");
        if path
            .parent()
            .is_some_and(|d| std::fs::create_dir_all(d).is_ok())
        {
            let _ =
                super::atomic::write_bytes(&path, &tmp, false, format!("{commit}\n").as_bytes());
        }
    }
}
