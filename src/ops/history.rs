//! `ovn check --history`: validated records are never modified or deleted.
//!
//! Walks the validated branch's first-parent history (its merges, as the network accepted
//! them) and compares every commit with its first parent by tree-id descent: whatever a
//! commit's first parent had is validated, so a commit that modifies or deletes a
//! contribution, payout, approval or payment there rewrites validated history. The last verified tip
//! is remembered in the repository (`.git/ovn/verified`): later runs start there, and a branch
//! that no longer descends from it was rewritten (a force-push). Every payout recorded at the
//! tip must also pin a commit of the tip's history, or it can no longer be re-derived.

use super::Error;
use super::load::{self, Pick};
use crate::core::ledger::{RecordType, Role, classify};
use crate::store::{Oid, Store};

/// What a walk of the history found.
pub struct Walk {
    /// What was walked: the validated branch's name, or the range as given.
    pub label: String,
    /// The last commit walked.
    pub head: Oid,
    /// Where the walk started: after this commit, or from the root when `None`.
    pub after: Option<Oid>,
    /// How many commits were compared with their first parent.
    pub commits: usize,
    /// Each problem, in the order found, as a sentence.
    pub problems: Vec<String>,
}

/// Walks `range` (`BASE..HEAD`), or with an empty range the validated branch from the last
/// verified commit, and remembers its tip as verified when nothing is wrong.
///
/// Long because it is the whole walk (range, first-parent chain, each merge judged with the
/// rules in force before it, pinned payouts, the remembered tip), read best in order.
pub fn walk(store: &Store, range: &str) -> Result<Walk, Error> {
    let mut problems: Vec<String> = Vec::new();
    let (label, head, stop, remember) = if range.is_empty() {
        let validated = super::branch::resolve(store)?;
        let (branch, head) = (validated.name().to_owned(), validated.commit());
        let stop = match store.verified() {
            Some(v) if store.is_ancestor(v, head).unwrap_or(false) => Some(v),
            Some(v) => {
                problems.push(format!(
                    "the validated branch {branch} no longer descends from {} (the last verified commit): its history was rewritten",
                    short(v)
                ));
                None
            }
            None => None,
        };
        (branch, head, stop, true)
    } else {
        let (base, head) = range
            .split_once("..")
            .filter(|(b, h)| !b.is_empty() && !h.is_empty() && !h.starts_with('.'))
            .ok_or_else(|| {
                Error::usage(
                    format!("{range:?} is not a range"),
                    Some("write BASE..HEAD, e.g. v1.0..main".to_owned()),
                )
            })?;
        let (b, h) = (store.resolve(base)?.id(), store.resolve(head)?.id());
        if !store.is_ancestor(b, h)? {
            return Err(Error::usage(
                format!("{base} is not an ancestor of {head}"),
                Some("the range's base must be a commit of the history it checks".to_owned()),
            ));
        }
        (range.to_owned(), h, Some(b), false)
    };

    let mut chain = store.first_parent_chain(head, stop)?;
    // A base that is not on the first-parent line: keep only what it does not contain.
    if let Some(b) = stop
        && chain.first().is_some_and(|(_, p)| p.is_none())
    {
        let mut kept = Vec::new();
        for (c, p) in chain {
            if !store.is_ancestor(c, b)? {
                kept.push((c, p));
            }
        }
        chain = kept;
    }
    let folders = [
        RecordType::Contribution.folder(),
        RecordType::Payout.folder(),
        RecordType::Approval.folder(),
        RecordType::Payment.folder(),
    ];
    let mut in_force = super::rules::InForce::default();
    for (commit, parent) in &chain {
        let Some(parent) = parent else { continue };
        for (path, deleted) in store.rewritten_files(*parent, *commit, &folders)? {
            let Role::Record(kind, stem, _) = classify(&path) else {
                continue;
            };
            let verb = if deleted { "deletes" } else { "modifies" };
            let (summary, email) = store.commit_summary(*commit)?;
            problems.push(format!(
                "commit {} ({summary:?}, <{email}>) {verb} validated {} {stem} ({path})",
                short(*commit),
                kind.noun(),
            ));
        }
        for change in in_force.step(store, *parent, *commit)? {
            problems.push(format!(
                "commit {} brings a governance change that was not validated under the rules before it: {} ({}; needs {})",
                short(*commit),
                change.what,
                change.verdict,
                change.needs
            ));
        }
    }

    problems.extend(orphaned_pins(store, head)?);

    if problems.is_empty() && remember {
        store.set_verified(head)?;
    }
    Ok(Walk {
        label,
        head,
        after: stop,
        commits: chain.len(),
        problems,
    })
}

/// Every recorded payout at `head` whose pinned commit is not in `head`'s history (a rewrite
/// orphaned it, or it was computed on a branch that was squashed or rebased away): such a
/// payout can no longer be re-derived from the history that holds it. Found in a fresh
/// clone too, where an orphaned commit is simply absent.
fn orphaned_pins(store: &Store, head: Oid) -> Result<Vec<String>, Error> {
    let payouts = load::part(
        store,
        &head.to_string(),
        &[Pick::Tree(RecordType::Payout.folder())],
    )?;
    let mut out = Vec::new();
    for p in &payouts.ledger().payouts {
        let in_history = Oid::from_str(&p.commit)
            .ok()
            .filter(|c| store.repo().find_commit(*c).is_ok())
            .map(|c| store.is_ancestor(c, head))
            .transpose()?
            .unwrap_or(false);
        if in_history {
            continue;
        }
        out.push(format!(
            "payout {} ({}) was computed at commit {}, which is not in the history of {}: a rewrite orphaned it (or it was computed on a branch squashed or rebased away), so it can no longer be re-derived; restore the history that holds that commit (from a clone that has it), or keep that commit reachable from the validated branch by merging it",
            p.id.value,
            payouts.ledger().path(p.file),
            &p.commit[..12.min(p.commit.len())],
            short(head)
        ));
    }
    Ok(out)
}

/// A commit id as the messages show it.
pub fn short(oid: Oid) -> String {
    oid.to_string()[..12].to_owned()
}
