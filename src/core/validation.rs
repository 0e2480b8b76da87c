//! Validation status: what peers have accepted, derived from the ledger and from who added
//! each approval (`../shared/domain.md` §5).
//!
//! The status of a contribution is a function of the ledger on the validated branch, the
//! network's policy (`[validation]` in `ovn.toml`) and, for each approval, the agent who
//! authored the commit that added it. The store finds those authors in git history; this
//! module only counts, so it is tested without git. Pending (not on the validated branch) is
//! the caller's to say: such a contribution is not in the ledger given here.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::ledger::Ledger;
use super::record::{Approval, Contribution};
use super::value::Id;
use super::write;

/// Where a contribution stands.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Not on the validated branch yet.
    Pending,
    /// Merged, but the policy's approvals are missing.
    AwaitingApproval {
        /// Approvals that count.
        have: u32,
        /// Approvals needed.
        need: u32,
        /// Whether a steward's approval is still missing.
        steward_missing: bool,
    },
    /// Merged and approved as the policy asks: it counts.
    Validated,
    /// Cancelled by a reversal on the validated branch.
    Reversed,
}

impl Status {
    /// A few words for tables.
    pub fn text(&self) -> String {
        match self {
            Status::Pending => "pending".to_owned(),
            Status::AwaitingApproval {
                have,
                need,
                steward_missing,
            } => {
                let mut t = format!("awaiting approval ({have} of {need}");
                if *steward_missing {
                    t.push_str(", no steward yet");
                }
                t.push(')');
                t
            }
            Status::Validated => "validated".to_owned(),
            Status::Reversed => "reversed".to_owned(),
        }
    }
}

/// Who added an approval: the agent the commit's author email maps to, or the email when it
/// maps to no agent (such an approval never counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approver {
    /// A known agent.
    Agent(Id),
    /// An email no agent lists.
    Unknown(String),
}

/// How the commit that added an approval was signed, when the policy asks for signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// No signature, or one git could not verify against the agents' keys.
    Missing,
    /// A valid signature by a key listed on this agent.
    By(Id),
}

/// Why an approval does not count.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Void {
    /// The contributor approved their own contribution.
    SelfApproval,
    /// The record was edited after it was approved (the digest no longer matches).
    Edited,
    /// The commit that added it was authored by an email no agent lists.
    UnknownApprover(String),
    /// It names no contribution of the ledger.
    UnknownRecord,
    /// No commit adding it was found on the validated branch.
    NoCommit,
    /// The policy asks for signatures, and its commit has none valid.
    Unsigned,
    /// Signed with a key of another agent than the approver.
    WrongKey(Id),
}

impl Void {
    /// Explains it in a few words.
    pub fn text(&self) -> String {
        match self {
            Void::SelfApproval => "self-approval (never counts)".to_owned(),
            Void::Edited => "the record was edited after the approval".to_owned(),
            Void::UnknownApprover(e) => format!("added by <{e}>, which no agent lists"),
            Void::UnknownRecord => "names no contribution".to_owned(),
            Void::NoCommit => "no commit adding it was found".to_owned(),
            Void::Unsigned => {
                "its commit has no valid signature by a key listed on an agent".to_owned()
            }
            Void::WrongKey(a) => format!("its commit is signed with a key of {a}"),
        }
    }
}

/// An approval that does not count, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VoidApproval {
    /// The approval's id.
    pub approval: Id,
    /// The contribution it names.
    pub record: Id,
    /// Why.
    pub why: Void,
}

/// The status of every contribution of `ledger` (the ledger on the validated branch), and
/// the approvals that do not count. `approvers` maps approval ids to who added them;
/// `signatures`, needed when the policy asks for signed approvals, how their commits were
/// signed (an approval missing from it is unsigned).
pub fn statuses(
    ledger: &Ledger,
    approvers: &BTreeMap<Id, Approver>,
    signatures: &BTreeMap<Id, Signature>,
) -> (BTreeMap<Id, Status>, Vec<VoidApproval>) {
    let policy = ledger
        .network
        .as_ref()
        .map(|n| n.validation.clone())
        .unwrap_or_default();
    let by_id: BTreeMap<&Id, &Contribution> = ledger
        .contributions
        .iter()
        .map(|c| (&c.id.value, c.as_ref()))
        .collect();
    let reversed: HashSet<&Id> = ledger
        .contributions
        .iter()
        .filter_map(|c| c.reverses.as_ref().map(|r| &r.value))
        .collect();
    let mut voids = Vec::new();
    // Distinct approving agents per contribution.
    let mut approved: BTreeMap<&Id, BTreeSet<&Id>> = BTreeMap::new();
    let mut digests: BTreeMap<&Id, String> = BTreeMap::new();
    for a in &ledger.approvals {
        let signed = policy.signed.then(|| signatures.get(&a.id.value));
        match judge(a, &by_id, approvers, signed, &mut digests) {
            Ok(agent) => {
                approved.entry(&a.record.value).or_default().insert(agent);
            }
            Err(why) => voids.push(VoidApproval {
                approval: a.id.value.clone(),
                record: a.record.value.clone(),
                why,
            }),
        }
    }
    voids.sort();
    let mut out = BTreeMap::new();
    for c in &ledger.contributions {
        let status = if reversed.contains(&c.id.value) {
            Status::Reversed
        } else {
            let agents = approved.get(&c.id.value);
            let have = agents.map_or(0, BTreeSet::len) as u32;
            let steward_missing = policy.stewards
                && !ledger
                    .projects
                    .iter()
                    .find(|p| p.id.value == c.project.value)
                    .is_some_and(|p| {
                        p.stewards
                            .iter()
                            .any(|s| agents.is_some_and(|a| a.contains(&s.value)))
                    });
            if have >= policy.approvals && !steward_missing {
                Status::Validated
            } else {
                Status::AwaitingApproval {
                    have,
                    need: policy.approvals,
                    steward_missing,
                }
            }
        };
        out.insert(c.id.value.clone(), status);
    }
    (out, voids)
}

/// The agent an approval counts for, or why it does not count.
fn judge<'l>(
    a: &Approval,
    by_id: &BTreeMap<&Id, &'l Contribution>,
    approvers: &'l BTreeMap<Id, Approver>,
    signed: Option<Option<&Signature>>,
    digests: &mut BTreeMap<&'l Id, String>,
) -> Result<&'l Id, Void> {
    let Some(c) = by_id.get(&a.record.value) else {
        return Err(Void::UnknownRecord);
    };
    let agent = match approvers.get(&a.id.value) {
        None => return Err(Void::NoCommit),
        Some(Approver::Unknown(email)) => return Err(Void::UnknownApprover(email.clone())),
        Some(Approver::Agent(agent)) => agent,
    };
    if *agent == c.agent.value {
        return Err(Void::SelfApproval);
    }
    match signed {
        None => {}
        Some(None | Some(Signature::Missing)) => return Err(Void::Unsigned),
        Some(Some(Signature::By(signer))) if signer != agent => {
            return Err(Void::WrongKey(signer.clone()));
        }
        Some(Some(Signature::By(_))) => {}
    }
    let digest = digests
        .entry(&c.id.value)
        .or_insert_with(|| write::contribution_digest(c));
    if *digest != a.digest {
        return Err(Void::Edited);
    }
    Ok(agent)
}

/// The agent whose `emails` list `email` (case-insensitive), if exactly one does.
pub fn agent_by_email<'l>(ledger: &'l Ledger, email: &str) -> Option<&'l Id> {
    let mut found = ledger
        .agents
        .iter()
        .filter(|a| a.emails.iter().any(|e| e.value.eq_ignore_ascii_case(email)));
    let first = found.next()?;
    found.next().is_none().then_some(&first.id.value)
}

/// The allowed-signers file (`gpg.ssh.allowedSignersFile`, see ssh-keygen(1)) that lets git
/// verify approval signatures: one line per agent email and SSH key listed on the agent. GPG
/// keys are left out (git verifies those against the user's own keyring).
pub fn allowed_signers(ledger: &Ledger) -> String {
    let mut out = String::new();
    for a in &ledger.agents {
        for key in a.keys.iter().filter(|k| is_ssh_key(k)) {
            for email in &a.emails {
                out.push_str(&email.value);
                out.push_str(" namespaces=\"git\" ");
                out.push_str(key.trim());
                out.push('\n');
            }
        }
    }
    out
}

/// Whether a listed key is an SSH public key (`ssh-ed25519 AAAA...`, `ecdsa-...`, `sk-...`).
pub fn is_ssh_key(key: &str) -> bool {
    let key = key.trim();
    ["ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-"]
        .iter()
        .any(|p| key.starts_with(p))
        && !key.contains('\n')
}
