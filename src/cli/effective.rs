//! The rules payouts and statuses apply on the validated branch: the policy, agents'
//! identities (emails, keys) and stewards as last validated along its first-parent history
//! (`review_gov::InForce`), not as the ledger's files say when a governance change reached
//! the branch without being validated.
//!
//! The walk starts at the last commit known to have its own files as the rules in force (the
//! one `ovn check --history` last verified, or the last one a walk found so, remembered in
//! `.git/ovn/rules-in-force` unless `--no-cache`) or at the root (trusted as it is), and
//! reads only the commits whose `ovn.toml`, `agents/`, `projects/` or `agreements/` differ
//! from their first parent's, by tree ids.

use crate::store::Oid;

use super::CliError;
use super::review_gov::InForce;
use crate::core::ledger::Ledger;
use crate::store::Store;

/// The rules in force at `commit` (network, agents, projects), or `None` when they are the
/// ledger's own (every governance change on the way was validated).
pub(super) fn rules(store: &Store, commit: Oid) -> Result<Option<Ledger>, CliError> {
    // The later of the two known starting points that `commit` descends from.
    let known = [store.rules_own(), store.verified()];
    let mut start = None;
    for k in known.into_iter().flatten() {
        if store.is_ancestor(k, commit).unwrap_or(false)
            && start.is_none_or(|s| store.is_ancestor(s, k).unwrap_or(false))
        {
            start = Some(k);
        }
    }
    let mut in_force = InForce::default();
    // Each commit's rule ids are read once and compared with its parent's.
    let mut before: Option<(Oid, crate::store::RuleIds)> = None;
    for (c, parent) in store.first_parent_chain(commit, start)? {
        let ids = store.rule_ids(c)?;
        if let Some(p) = parent {
            let parent_ids = match before {
                Some((b, ids)) if b == p => ids,
                _ => store.rule_ids(p)?,
            };
            if parent_ids != ids {
                in_force.step(store, p, c)?;
            }
        }
        before = Some((c, ids));
    }
    if in_force.diverged {
        return Ok(in_force.rules);
    }
    // The rules in force here are the files' own: the next walk starts here.
    store.set_rules_own(commit);
    Ok(None)
}

/// `ledger` with the rules in force: their policy, each agent's emails and keys (none for an
/// agent whose addition was not validated), each project's stewards (none likewise).
pub(super) fn applied(ledger: &Ledger, rules: &Ledger) -> Ledger {
    let mut out = ledger.clone();
    if let (Some(n), Some(r)) = (out.network.as_mut(), rules.network.as_ref()) {
        n.validation = r.validation.clone();
    }
    for a in &mut out.agents {
        match rules.agents.iter().find(|r| r.id.value == a.id.value) {
            Some(r) => {
                a.emails.clone_from(&r.emails);
                a.keys.clone_from(&r.keys);
            }
            None => {
                a.emails.clear();
                a.keys.clear();
            }
        }
    }
    for p in &mut out.projects {
        match rules.projects.iter().find(|r| r.id.value == p.id.value) {
            Some(r) => p.stewards.clone_from(&r.stewards),
            None => p.stewards.clear(),
        }
    }
    out
}
