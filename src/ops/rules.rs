//! The rules payouts and statuses apply on the validated branch: the policy, agents'
//! identities (emails, keys) and stewards as last validated along its first-parent history
//! ([`InForce`]), not as the ledger's files say when a governance change reached the branch
//! without being validated.
//!
//! The walk starts at the last commit known to have its own files as the rules in force (the
//! one `ovn check --history` last verified, or the last one a walk found so, remembered in
//! `.git/ovn/rules-in-force` unless `--no-cache`) or at the root (trusted as it is), and
//! reads only the commits whose `ovn.toml`, `agents/`, `projects/` or `agreements/` differ
//! from their first parent's, by tree ids.
//!
//! Judging a governance change is the same rule wherever it is asked: a step of this walk,
//! `ovn check --history`, and `ovn review` of a change (which judges it by its base's
//! rules). So the pieces of that judgement live here too: the base's rules ([`base_rules`]),
//! who authored a commit by those rules ([`Identities`]), and the verdict on each change
//! ([`judged`]). Everything here only reads the repository, so its errors are the store's.

use std::collections::BTreeMap;

use super::load::{self, Pick};
use crate::core::governance::{self, Change};
use crate::core::ledger::{Ledger, RawFile, RecordType, Role, classify};
use crate::core::validation::{agent_by_email, allowed_signers};
use crate::core::value::Id;
use crate::store::{FileChange, Oid, Store, StoreError, Touch};

/// The rules in force at `commit` (network, agents, projects), or `None` when they are the
/// ledger's own (every governance change on the way was validated).
pub fn rules(store: &Store, commit: Oid) -> Result<Option<Ledger>, StoreError> {
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
pub fn applied(ledger: &Ledger, rules: &Ledger) -> Ledger {
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

/// The base's rules: its network, all its agents and all its projects (small folders).
pub fn base_rules(store: &Store, base: &str) -> Result<Ledger, StoreError> {
    let picks = [
        Pick::Folder(RecordType::Agent.folder()),
        Pick::Folder(RecordType::Project.folder()),
    ];
    Ok(load::part(store, base, &picks)?.into_ledger())
}

/// The base's rules as they are in force at `base`: a governance change merged earlier
/// without being validated does not judge a change on top of it.
pub fn base_in_force(store: &Store, base: Oid) -> Result<Ledger, StoreError> {
    let own = base_rules(store, &base.to_string())?;
    Ok(match rules(store, base)? {
        Some(in_force) => applied(&own, &in_force),
        None => own,
    })
}

/// Maps commits to agents with the base's emails and, where asked, the base's keys.
pub struct Identities<'a> {
    store: &'a Store,
    base: &'a Ledger,
    signers: String,
    signed_by: BTreeMap<Oid, Option<String>>,
}

impl<'a> Identities<'a> {
    /// Identities by the rules of `base` (its agents' emails and keys).
    pub fn new(store: &'a Store, base: &'a Ledger) -> Identities<'a> {
        Identities {
            store,
            base,
            signers: allowed_signers(base),
            signed_by: BTreeMap::new(),
        }
    }

    /// The agent who authored `t`, or why none counts. With `signed`, the commit must also
    /// carry a valid signature by a key the base lists on that agent.
    pub fn author(&mut self, t: &Touch, signed: bool) -> Result<Result<Id, String>, StoreError> {
        let Some(agent) = agent_by_email(self.base, &t.email) else {
            return Ok(Err(format!(
                "authored by <{}>, which no agent lists at the base",
                t.email
            )));
        };
        if signed {
            let signer = match self.signed_by.get(&t.commit) {
                Some(s) => s.clone(),
                None => {
                    let s = self.store.ssh_signer(t.commit, &self.signers)?;
                    self.signed_by.insert(t.commit, s.clone());
                    s
                }
            };
            let by = signer.as_deref().and_then(|e| agent_by_email(self.base, e));
            if by != Some(agent) {
                return Ok(Err(format!(
                    "commit {} is not signed with a key the base lists on {agent}",
                    &t.commit.to_string()[..12]
                )));
            }
        }
        Ok(Ok(agent.clone()))
    }
}

/// `changes` judged with the rules `ids` holds (the base's), made by the commits `touches`
/// lists for their files.
pub fn judged(
    ids: &mut Identities<'_>,
    mut changes: Vec<Change>,
    touches: &BTreeMap<String, Vec<Touch>>,
) -> Result<Vec<Change>, StoreError> {
    let signed = ids
        .base
        .network
        .as_ref()
        .is_some_and(|n| n.validation.signed);
    for change in &mut changes {
        let mut authors = Vec::new();
        for t in touches.get(&change.path).into_iter().flatten() {
            let agent = ids.author(t, false)?;
            let unsigned = match (&agent, signed) {
                (Ok(_), true) => ids.author(t, true)?.err(),
                _ => None,
            };
            authors.push(governance::Author { agent, unsigned });
        }
        governance::judge(change, ids.base, &authors);
    }
    Ok(changes)
}

/// The rules in force along a first-parent history, step by step (`ovn check --history`,
/// and the rules payouts and statuses apply): a governance change joins them only when it
/// is validated under the rules in force before it.
#[derive(Default)]
pub struct InForce {
    /// The rules in force (network, agents, projects), once a step changed any.
    pub rules: Option<Ledger>,
    /// Whether some governance change was not validated, so the rules in force differ from
    /// the ledger's own.
    pub diverged: bool,
}

impl InForce {
    /// Judges the governance changes `commit` brings over `parent` (its first parent) with
    /// the rules in force, makes the validated ones part of them, and returns the others.
    /// The commits that made them are those reachable from `commit` and not from `parent`:
    /// a merge's own and those of the branch it merged.
    pub fn step(
        &mut self,
        store: &Store,
        parent: Oid,
        commit: Oid,
    ) -> Result<Vec<Change>, StoreError> {
        if !store.governance_touched(parent, commit)? {
            return Ok(Vec::new());
        }
        let (p, c) = (parent.to_string(), commit.to_string());
        let changes: Vec<FileChange> = store
            .changed_files(&p, &c)?
            .into_iter()
            .filter(|f| {
                matches!(
                    classify(&f.path),
                    Role::Network
                        | Role::Record(
                            RecordType::Agent | RecordType::Project | RecordType::Agreement,
                            ..
                        )
                )
            })
            .collect();
        let side = |pick: fn(&FileChange) -> Option<&Vec<u8>>| -> Ledger {
            let files: Vec<RawFile> = changes
                .iter()
                .filter_map(|f| {
                    pick(f).map(|b| RawFile {
                        path: f.path.clone(),
                        bytes: b.clone(),
                    })
                })
                .collect();
            load::files(&files).into_ledger()
        };
        let (old, new) = (side(|f| f.old.as_ref()), side(|f| f.new.as_ref()));
        // Until a step changes them, the rules in force are the ledger's own.
        let base = match self.rules.take() {
            Some(rules) => rules,
            None => base_rules(store, &p)?,
        };
        let touches = store.range_touches(parent, commit)?;
        let mut ids = Identities::new(store, &base);
        let judged = judged(&mut ids, governance::changes(&old, &new), &touches)?;
        let mut rules = base;
        let mut refused = Vec::new();
        for change in judged {
            if change.validated {
                governance::apply(&change, &mut rules, &new);
            } else {
                self.diverged = true;
                refused.push(change);
            }
        }
        self.rules = Some(rules);
        Ok(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(files: &[(&str, &str)]) -> Ledger {
        let files: Vec<RawFile> = files
            .iter()
            .map(|(path, text)| RawFile {
                path: (*path).to_owned(),
                bytes: text.as_bytes().to_vec(),
            })
            .collect();
        load::files(&files).into_ledger()
    }

    const NETWORK: &str = "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"ana\"\n";

    #[test]
    fn the_rules_in_force_replace_policy_identities_and_drop_unvalidated_agents() {
        let agent = |id: &str, email: &str| {
            format!("id = \"{id}\"\nname = \"{id}\"\nkind = \"person\"\nemails = [\"{email}\"]\n")
        };
        let own = ledger(&[
            ("ovn.toml", NETWORK),
            ("agents/ana.toml", &agent("ana", "ana@new.example")),
            ("agents/ben.toml", &agent("ben", "ben@example.org")),
        ]);
        let in_force = ledger(&[
            (
                "ovn.toml",
                &format!("{NETWORK}\n[validation]\napprovals = 1\n"),
            ),
            ("agents/ana.toml", &agent("ana", "ana@old.example")),
        ]);
        assert_eq!(own.agents.len(), 2, "the sample agents read");
        let applied = applied(&own, &in_force);
        let network = applied.network.as_ref().expect("the network reads");
        assert_eq!(network.validation.approvals, 1, "the policy in force");
        let emails = |id: &str| -> Vec<String> {
            let a = applied.agents.iter().find(|a| a.id.value.as_str() == id);
            a.expect("the agent stays")
                .emails
                .iter()
                .map(|e| e.value.clone())
                .collect()
        };
        assert_eq!(emails("ana"), ["ana@old.example"], "the validated emails");
        assert!(
            emails("ben").is_empty(),
            "an unvalidated agent vouches for nothing"
        );
    }
}
