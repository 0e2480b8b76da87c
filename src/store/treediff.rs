//! Walking two trees together, skipping every subtree whose id is the same on both sides:
//! the cost follows the size of the difference, not of the ledger (see perf-notes: comparing
//! ids and descending only where they differ is what makes a one-record diff of a million
//! records take milliseconds).

use git2::{ObjectType, Repository, Tree, TreeEntry};

use super::StoreError;

/// What [`walk_differing`] calls for each differing blob: its path, its entry, and the entry
/// at the same path on the other side.
pub(crate) type Visit<'v> =
    dyn FnMut(&str, &TreeEntry<'_>, Option<&TreeEntry<'_>>) -> Result<(), StoreError> + 'v;

/// Calls `visit(path, entry, other)` for every blob under `tree` whose id differs from the
/// entry at the same path under `other` (`None` where `other` has nothing there, or not a
/// tree above it). Subtrees with equal ids are skipped whole.
///
/// Both trees list entries in name order, so they are walked side by side: an unchanged entry
/// costs one id comparison, and only an added or removed entry needs a lookup by name.
pub(crate) fn walk_differing(
    repo: &Repository,
    tree: &Tree<'_>,
    other: Option<&Tree<'_>>,
    dir: &str,
    visit: &mut Visit<'_>,
) -> Result<(), StoreError> {
    if other.is_some_and(|o| o.id() == tree.id()) {
        return Ok(());
    }
    let mut j = 0;
    let other_len = other.map_or(0, Tree::len);
    for entry in tree.iter() {
        let aligned = other
            .and_then(|o| o.get(j))
            .filter(|b| b.name_bytes() == entry.name_bytes());
        let counterpart = match aligned {
            Some(b) => {
                j += 1;
                Some(b)
            }
            // Not side by side (an added or removed entry): look it up by name.
            None => other.and_then(|o| {
                let found = o.get_name_bytes(entry.name_bytes());
                if found.is_some() && j < other_len {
                    j += 1;
                }
                found
            }),
        };
        if counterpart.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let Ok(name) = entry.name() else { continue };
        let path = if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = super::loose::tree(repo, entry.id(), "cannot read a tree")?;
                let other_sub = match counterpart.filter(|b| b.kind() == Some(ObjectType::Tree)) {
                    Some(b) => Some(super::loose::tree(repo, b.id(), "cannot read a tree")?),
                    None => None,
                };
                walk_differing(repo, &sub, other_sub.as_ref(), &path, visit)?;
            }
            Some(ObjectType::Blob) => visit(&path, &entry, counterpart.as_ref())?,
            _ => {}
        }
    }
    Ok(())
}
