//! Records a commit of the index would delete without anyone meaning to: committed in HEAD,
//! unchanged in the working tree, but gone from git's index.
//!
//! `git commit` reads the index before it takes the index's lock, then writes what it read
//! back under the lock. One that read the index just before an `ovn log` staged its record
//! and took the lock just after that write let it go writes the index back without the
//! record: its own commit then fails (the branch moved under it), but the record stays
//! unstaged, and the next `git commit` deletes it from the ledger. A race test caught this
//! under load. `ovn` cannot stop git from writing what it read; the pre-commit hook can stop
//! the commit that would carry the deletion, so `ovn check --staged` asks for such records.
//!
//! The footprint is exact: the file is in HEAD and in the working tree with HEAD's content,
//! and not in the index. A deletion meant by the user (`git rm`) takes the file away too,
//! and an edit changes it: neither is reported here (what a deletion means for a merged
//! record is `check --history`'s and review's to judge).
//!
//! At a million records it must cost little: HEAD's day folders are compared with the
//! index's by tree id (computed by the staged listing anyway), and only a folder whose ids
//! differ is compared name by name. The other record folders (agents, projects, payouts...)
//! are small and compared whole.

use std::collections::HashMap;

use git2::{ObjectType, Oid, Tree, TreeWalkMode, TreeWalkResult};

use super::{Store, StoreError, in_ledger};
use crate::core::ledger::RecordType;

impl Store {
    /// The ledger paths HEAD holds as regular files that the index lacks (`staged` says
    /// whether it holds a ledger path staged with content), whose working-tree file is still
    /// exactly HEAD's: what a `git commit` racing an `ovn` write leaves (see the module's
    /// comment). `folders` maps the index's day folders (ledger-relative) to the tree ids
    /// their entries hash to. With them, whether any file of the working tree was looked at
    /// (HEAD holds a file the index lacks).
    pub(super) fn unstaged_records(
        &self,
        staged: &dyn Fn(&str) -> bool,
        folders: &HashMap<&str, Oid>,
    ) -> Result<(Vec<String>, bool), StoreError> {
        let Some(root) = self.root() else {
            return Ok((Vec::new(), false));
        };
        let Some(tree) = self.head_ledger_tree()? else {
            return Ok((Vec::new(), false));
        };
        let mut missing: Vec<(String, Oid)> = Vec::new();
        let day_foldered = [RecordType::Contribution, RecordType::Approval];
        for top in tree.iter() {
            let Ok(name) = std::str::from_utf8(top.name_bytes()) else {
                continue;
            };
            match top.kind() {
                Some(ObjectType::Blob) if in_ledger(name) && !staged(name) => {
                    missing.push((name.to_owned(), top.id()));
                }
                Some(ObjectType::Tree) if day_foldered.iter().any(|k| k.folder() == name) => {
                    let sub = self.subtree(top.id())?;
                    self.compare_days(name, &sub, folders, staged, &mut missing)?;
                }
                Some(ObjectType::Tree) if in_ledger(&format!("{name}/x")) => {
                    let sub = self.subtree(top.id())?;
                    walk_blobs(&sub, name, &mut |path, id| {
                        if !staged(path) {
                            missing.push((path.to_owned(), id));
                        }
                    });
                }
                _ => {}
            }
        }
        // Only a file still on disk exactly as committed is the race's footprint.
        let looked = !missing.is_empty();
        let mut out = Vec::new();
        for (path, id) in missing {
            let Ok(Some(bytes)) = super::super::safe::read_bytes(root, &path) else {
                continue;
            };
            if Oid::hash_object(ObjectType::Blob, &bytes).is_ok_and(|oid| oid == id) {
                out.push(path);
            }
        }
        out.sort();
        Ok((out, looked))
    }

    /// The ledger's tree at HEAD, or None (no commit yet, or no ledger there).
    fn head_ledger_tree(&self) -> Result<Option<Tree<'_>>, StoreError> {
        match self.repo.head().ok().and_then(|head| head.target()) {
            Some(tip) => self.ledger_tree(tip),
            None => Ok(None),
        }
    }

    fn subtree(&self, id: Oid) -> Result<Tree<'_>, StoreError> {
        super::super::loose::tree(&self.repo, id, "cannot read a tree of HEAD")
    }

    /// Compares the day folders of HEAD's `kind` folder (`tree`) with the index's: a folder
    /// whose tree id the index's entries hash to is whole; any other is compared by name.
    fn compare_days(
        &self,
        kind: &str,
        tree: &Tree<'_>,
        folders: &HashMap<&str, Oid>,
        staged: &dyn Fn(&str) -> bool,
        missing: &mut Vec<(String, Oid)>,
    ) -> Result<(), StoreError> {
        for year in tree.iter() {
            let Some(year_name) = name_of_tree(&year) else {
                continue;
            };
            let years = self.subtree(year.id())?;
            for month in years.iter() {
                let Some(month_name) = name_of_tree(&month) else {
                    continue;
                };
                let months = self.subtree(month.id())?;
                for day in months.iter() {
                    let Some(day_name) = name_of_tree(&day) else {
                        continue;
                    };
                    let folder = format!("{kind}/{year_name}/{month_name}/{day_name}");
                    if folders.get(folder.as_str()) == Some(&day.id()) {
                        continue;
                    }
                    walk_blobs(&self.subtree(day.id())?, &folder, &mut |path, id| {
                        if !staged(path) {
                            missing.push((path.to_owned(), id));
                        }
                    });
                }
            }
        }
        Ok(())
    }
}

/// The UTF-8 name of a tree entry that is itself a tree.
fn name_of_tree(entry: &git2::TreeEntry<'_>) -> Option<String> {
    (entry.kind() == Some(ObjectType::Tree))
        .then(|| {
            std::str::from_utf8(entry.name_bytes())
                .ok()
                .map(str::to_owned)
        })
        .flatten()
}

/// Calls `each` with the path (under `base`) and blob id of every regular file below
/// `tree`. Links and submodules are not records a commit could drop unnoticed.
fn walk_blobs(tree: &Tree<'_>, base: &str, each: &mut dyn FnMut(&str, Oid)) {
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let regular = matches!(entry.filemode(), 0o100644 | 0o100755);
        if let (true, Ok(name)) = (regular, std::str::from_utf8(entry.name_bytes())) {
            each(&format!("{base}/{dir}{name}"), entry.id());
        }
        TreeWalkResult::Ok
    });
}
