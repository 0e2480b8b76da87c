//! The rules payouts and statuses apply on the validated branch: the policy, agents'
//! identities (emails, keys) and stewards as last validated along its first-parent history
//! (`review_gov::InForce`), not as the ledger's files say when a governance change reached
//! the branch without being validated.
//!
//! The walk starts at the commit `ovn check --history` last verified (every governance
//! change up to it was validated, so the files there are the rules in force) or at the root
//! (trusted as it is), and reads only the commits whose `ovn.toml`, `agents/`, `projects/`
//! or `agreements/` differ from their first parent's, by tree ids.

use git2::Oid;

use super::CliError;
use super::review_gov::InForce;
use crate::core::ledger::Ledger;
use crate::store::Store;

/// The rules in force at `commit` (network, agents, projects), or `None` when they are the
/// ledger's own (every governance change on the way was validated).
pub(super) fn rules(store: &Store, commit: Oid) -> Result<Option<Ledger>, CliError> {
    let start = store
        .verified()
        .filter(|v| store.is_ancestor(*v, commit).unwrap_or(false));
    let mut in_force = InForce::default();
    for (c, parent) in store.first_parent_chain(commit, start)? {
        if let Some(p) = parent {
            in_force.step(store, p, c)?;
        }
    }
    Ok(in_force.rules.filter(|_| in_force.diverged))
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
