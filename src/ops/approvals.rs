//! Whose approvals count: the evidence history gives about each approval (who added it, how
//! its commit or its record is signed) and the statuses the core judges from it.
//!
//! An unsigned approval is credited to the author of the commit that added it, an approval
//! signed in its record to its `by`, judged against the SSH keys that agent had at the base of
//! the change that brought it. Both need one walk of history, which is why this reads the
//! store; the judgement itself is the core's (`core::validation::judge_all`). `ovn approve`
//! (is it approved by me already?), `ovn status` and `ovn review` (the verdicts) and a payout
//! under a policy asking for approvals (what still awaits them) all ask here, so they agree.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::core::ledger::Ledger;
use crate::core::record::{Agent, Approval};
use crate::core::validation::{
    self, Approver, Evidence, RecordSignature, Signature, Status, Void, VoidApproval,
    agent_by_email,
};
use crate::core::value::Id;
use crate::store::{AddedBy, Oid, Store, StoreError, VerifyJob};

/// Every contribution's validation status.
pub type Statuses = BTreeMap<Id, Status>;
/// The approvals that do not count.
pub type Voids = Vec<VoidApproval>;

/// What history says about the approvals of `ledger` (read at `rev`): who added each one (the
/// author of the adding commit), how that commit was signed (when the policy asks for signed
/// commits), and whether each in-record signature verifies against the SSH keys its `by` had
/// at the base of the change that brought it onto `rev` ([`Store::approval_bases`]).
/// `only`, when given, limits the signature checks to approvals of those records.
pub fn evidence(
    store: &Store,
    rev: &str,
    ledger: &Ledger,
    only: Option<&BTreeSet<Id>>,
) -> Result<Evidence, StoreError> {
    Ok(gather(store, rev, ledger, only)?.0)
}

/// One walk of the history of `rev` for the approvals of `ledger` (those of `only`'s records
/// where signatures are checked), with the agents at each base commit read once per base.
struct Walk<'s> {
    store: &'s Store,
    ledger: &'s Ledger,
    only: Option<&'s BTreeSet<Id>>,
    /// The base of the change that brought each approval, by approval id.
    bases: BTreeMap<String, Oid>,
    agents_at: HashMap<Oid, Vec<Agent>>,
}

/// [`evidence`], and the commit that added each approval: one walk of the change's history
/// finds each approval, the commit that added it and its author as known at the base, which
/// the counts need together.
fn gather(
    store: &Store,
    rev: &str,
    ledger: &Ledger,
    only: Option<&BTreeSet<Id>>,
) -> Result<(Evidence, BTreeMap<Id, AddedBy>), StoreError> {
    let mut evidence = Evidence::default();
    let mut added = BTreeMap::new();
    if ledger.approvals.is_empty() {
        return Ok((evidence, added));
    }
    // The base of the change that brought each approval: an email (or an agent) that the
    // same change added identifies nobody in it, so the approver must be known there too.
    let mut walk = Walk {
        store,
        ledger,
        only,
        bases: store.approval_bases(rev)?,
        agents_at: HashMap::new(),
    };
    if ledger.approvals.iter().any(|a| a.by.is_none()) {
        added = walk.by_commit(rev, &mut evidence)?;
    }
    walk.in_record(&mut evidence)?;
    Ok((evidence, added))
}

impl Walk<'_> {
    /// Whether `a` is one of the approvals asked about.
    fn wanted(&self, a: &Approval) -> bool {
        self.only.is_none_or(|o| o.contains(&a.record.value))
    }

    /// The agents at `base`, read once.
    fn agents(&mut self, base: Oid) -> Result<&[Agent], StoreError> {
        Ok(match self.agents_at.entry(base) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(self.store.agents_at(base)?),
        })
    }

    /// Whether `agent` listed `email` at the base of the change that added approval `id`;
    /// true when there is no base to ask.
    fn known_at_base(&mut self, id: &Id, agent: &Id, email: &str) -> Result<bool, StoreError> {
        let Some(&base) = self.bases.get(id.as_str()) else {
            return Ok(true);
        };
        Ok(self.agents(base)?.iter().any(|a| {
            a.id.value == *agent && a.emails.iter().any(|e| e.value.eq_ignore_ascii_case(email))
        }))
    }

    /// The approvers of the approvals history adds (the adding commits' authors, as the
    /// base knows them) and, when the policy asks for signed commits, those commits'
    /// signers; the commit that added each approval.
    fn by_commit(
        &mut self,
        rev: &str,
        evidence: &mut Evidence,
    ) -> Result<BTreeMap<Id, AddedBy>, StoreError> {
        let (store, ledger) = (self.store, self.ledger);
        let policy = ledger
            .network
            .as_ref()
            .map(|n| n.validation.clone())
            .unwrap_or_default();
        let commit_signed = policy.signed && !policy.record_signatures;
        let allowed = validation::allowed_signers(ledger);
        // One verification per commit, however many approvals it adds.
        let mut verified: HashMap<Oid, Signature> = HashMap::new();
        let by_id: BTreeMap<&str, &Approval> = ledger
            .approvals
            .iter()
            .map(|a| (a.id.value.as_str(), a))
            .collect();
        let mut added = BTreeMap::new();
        for (id, by) in store.approval_authors(rev)? {
            let Ok(id) = Id::parse(&id) else {
                continue;
            };
            let who = match agent_by_email(ledger, &by.email) {
                Some(agent) if self.known_at_base(&id, agent, &by.email)? => {
                    Approver::Agent(agent.clone())
                }
                _ => Approver::Unknown(by.email.clone()),
            };
            added.insert(id.clone(), by.clone());
            evidence.approvers.insert(id.clone(), who);
            let check = by_id
                .get(id.as_str())
                .is_some_and(|a| a.by.is_none() && self.wanted(a));
            if commit_signed && check {
                let signature = match verified.get(&by.commit) {
                    Some(s) => s.clone(),
                    None => {
                        let s = match store.ssh_signer(by.commit, &allowed)? {
                            Some(principal) => match agent_by_email(ledger, &principal) {
                                Some(agent) => Signature::By(agent.clone()),
                                None => Signature::Missing,
                            },
                            None => Signature::Missing,
                        };
                        verified.insert(by.commit, s.clone());
                        s
                    }
                };
                evidence.signatures.insert(id, signature);
            }
        }
        Ok(added)
    }

    /// How each approval signed in its record judges against the SSH keys its `by` had at
    /// the base of the change that brought it (all verified in one batch).
    fn in_record(&mut self, evidence: &mut Evidence) -> Result<(), StoreError> {
        let ledger = self.ledger;
        let signed: Vec<_> = ledger
            .approvals
            .iter()
            .filter(|a| self.wanted(a))
            .filter_map(|a| Some((a, a.by.as_ref()?, a.signature.as_ref()?)))
            .collect();
        if signed.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::new();
        let mut jobs = Vec::new();
        for (a, by, body) in signed {
            let Some(&base) = self.bases.get(a.id.value.as_str()) else {
                continue;
            };
            let keys = validation::ssh_keys(self.agents(base)?, &by.value);
            ids.push(a.id.value.clone());
            jobs.push(VerifyJob {
                principal: by.value.clone(),
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
                message: validation::approval_message(a, &by.value),
                body: body.clone(),
            });
        }
        for (id, judged) in ids.into_iter().zip(self.store.ssh_verify_all(&jobs)?) {
            evidence.in_record.insert(id, judged);
        }
        Ok(())
    }
}

/// An unsigned approval whose approver a merge may have lost: the commit that added it is
/// not the `ovn approve` commit of its record (a squash, or a rewrite by someone else), so
/// the author the approval is credited to may be the merger, not the approver.
pub struct Lost {
    /// The approval.
    pub approval: Id,
    /// The contribution it approves.
    pub record: Id,
    /// The adding commit's short id, subject and author email.
    pub commit: (String, String, String),
    /// Whom it counts for, if it counts.
    pub counts_for: Option<Id>,
    /// Other authors the commit's message names (a squash message's `Author:` lines, or
    /// `Co-authored-by:` trailers): likely approvers.
    pub named: Vec<String>,
}

/// For an approval signed in the record: its signer (`by`) and how the signature judges
/// against the SSH keys the signer had at `base` (for a review, the merge base: keys the
/// change itself adds do not count). `None` for an unsigned approval.
pub fn signed_by(
    store: &Store,
    base: &str,
    approval: &Approval,
) -> Result<Option<(Id, RecordSignature)>, StoreError> {
    let (Some(by), Some(body)) = (&approval.by, &approval.signature) else {
        return Ok(None);
    };
    let agents = store.agents_at(store.resolve(base)?.id())?;
    let keys = validation::ssh_keys(&agents, &by.value);
    let message = validation::approval_message(approval, &by.value);
    let judged = store.ssh_verify(&by.value, &keys, &message, body)?;
    Ok(Some((by.value.clone(), judged)))
}

/// [`statuses`], and the unsigned approvals whose approver a merge may have lost.
pub fn statuses_and_lost(
    store: &Store,
    rev: &str,
    ledger: &Ledger,
) -> Result<(Statuses, Voids, Vec<Lost>), StoreError> {
    let (evidence, added) = gather(store, rev, ledger, None)?;
    let (statuses, voids, counted) = validation::judge_all(ledger, &evidence);
    let mut lost = Vec::new();
    for a in ledger.approvals.iter().filter(|a| a.by.is_none()) {
        let counts_for = counted
            .iter()
            .find(|c| c.approval == a.id.value)
            .map(|c| c.agent.clone());
        // Only where the adding commit decides: void for being the contributor's, an unknown
        // email's or unsigned (a squash drops the approver's commit signature), or counting
        // for whoever made the commit.
        let judged_by_author = counts_for.is_some()
            || voids.iter().any(|v| {
                v.approval == a.id.value
                    && matches!(
                        v.why,
                        Void::SelfApproval | Void::UnknownApprover(_) | Void::Unsigned
                    )
            });
        let Some(by) = added.get(&a.id.value) else {
            continue;
        };
        if !judged_by_author {
            continue;
        }
        let message = store.commit_message(by.commit)?;
        let subject = message.lines().next().unwrap_or_default().to_owned();
        let named = named_authors(&message, &by.email);
        let own_commit = subject
            .strip_prefix("approve: ")
            .is_some_and(|ids| ids.split(", ").any(|i| i.trim() == a.record.value.as_str()));
        if own_commit && named.is_empty() {
            continue;
        }
        let short = by.commit.to_string()[..12].to_owned();
        lost.push(Lost {
            approval: a.id.value.clone(),
            record: a.record.value.clone(),
            commit: (short, subject, by.email.clone()),
            counts_for,
            named,
        });
    }
    Ok((statuses, voids, lost))
}

/// The emails a commit message names as authors other than `author`: `Author: Name <email>`
/// lines (git merge --squash's message) and `Co-authored-by:` trailers (forges' squashes).
fn named_authors(message: &str, author: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in message.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("Author:")
            .or_else(|| line.strip_prefix("Co-authored-by:"));
        let Some(rest) = rest else { continue };
        let Some((_, email)) = rest.rsplit_once('<') else {
            continue;
        };
        let email = email.trim_end_matches('>').trim();
        if !email.is_empty()
            && !email.eq_ignore_ascii_case(author)
            && !out.iter().any(|e| e.eq_ignore_ascii_case(email))
        {
            out.push(email.to_owned());
        }
    }
    out
}

/// The validation status of every contribution of `ledger` (read at `rev`), and the
/// approvals that do not count (see [`evidence`] for how approvers are found).
pub fn statuses(
    store: &Store,
    rev: &str,
    ledger: &Ledger,
) -> Result<(Statuses, Voids), StoreError> {
    let evidence = evidence(store, rev, ledger, None)?;
    let (statuses, voids, _) = validation::judge_all(ledger, &evidence);
    Ok((statuses, voids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_squash_message_names_its_other_authors_once() {
        let message = "approve: 01a (#12)\n\n* approve: 01a\n\nAuthor: Ben <ben@example.org>\n\
                       Co-authored-by: Ben <BEN@example.org>\nCo-authored-by: Ana <ana@example.org>\n";
        assert_eq!(
            named_authors(message, "ana@example.org"),
            ["ben@example.org"],
            "the committer is not named again, and an email counts once whatever its case"
        );
        assert!(named_authors("approve: 01a\n", "ana@example.org").is_empty());
    }
}
