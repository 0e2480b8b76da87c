//! Validation status: what peers have accepted, derived from the ledger and from who added
//! each approval (`ovn-ledger(5)`, APPROVALS and "Validation status").
//!
//! The status of a contribution is a function of the ledger on the validated branch, the
//! network's policy (`[validation]` in `ovn.toml`) and, for each approval, who approved it:
//! the agent who authored the commit that added it, or, for an approval signed inside the
//! record, its `by` once the caller has checked the signature against the keys `by` had
//! before the change that added it ([`Evidence`]). The store finds authors and checks
//! signatures; this module only counts, so it is tested without git. Pending (not on the validated branch) is
//! the caller's to say: such a contribution is not in the ledger given here.

use std::collections::{BTreeMap, HashSet};

use super::ledger::Ledger;
use super::record::{Agent, Approval, Contribution};
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
    /// The policy asks for signatures inside approval records (`signed = "record"`), and
    /// this one has none.
    NotSignedInRecord,
    /// Its in-record signature does not prove `by` (the agent named).
    BadSignature(Id, RecordSignature),
    /// The same agent approved the same record before (the approval named): an agent's
    /// approvals of one record count once.
    Duplicate(Id, Id),
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
            Void::NotSignedInRecord => {
                "the network asks for approvals signed in the record (signed = \"record\"), and it has no signature".to_owned()
            }
            Void::BadSignature(by, why) => why.text(by),
            Void::Duplicate(by, first) => {
                format!("{by} approved it already (approval {first}): an agent's approvals count once")
            }
        }
    }
}

/// How an approval's in-record signature was judged by the caller (who can run `ssh-keygen`),
/// against the SSH keys its `by` had before the change that added it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordSignature {
    /// A good signature by one of those keys.
    Good,
    /// `by` had no SSH key then.
    NoKey,
    /// A good signature, by a key `by` did not have then (another agent's, or one added in
    /// the same change).
    KeyNotListed,
    /// The signature does not match the approval's content (edited after signing).
    Invalid,
}

impl RecordSignature {
    /// Explains a failed one in a few words, for the approval signed as `by`.
    pub fn text(&self, by: &Id) -> String {
        match self {
            RecordSignature::Good => format!("signed by {by}"),
            RecordSignature::NoKey => {
                format!("signed as {by}, who had no SSH key listed before the change that added it")
            }
            RecordSignature::KeyNotListed => format!(
                "signed as {by} with a key not listed on {by} before the change that added it"
            ),
            RecordSignature::Invalid => {
                "its signature does not match its content (edited after signing)".to_owned()
            }
        }
    }
}

/// What the caller found out about each approval, by approval id: who added it (the author
/// of its commit), how that commit was signed (when the policy asks for signed commits; an
/// approval missing there is unsigned), and how its in-record signature was judged (for
/// approvals with `by`; one missing there does not count).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Who added each approval.
    pub approvers: BTreeMap<Id, Approver>,
    /// How each approval's commit was signed.
    pub signatures: BTreeMap<Id, Signature>,
    /// How each in-record signature was judged.
    pub in_record: BTreeMap<Id, RecordSignature>,
}

/// An approval that counts, and for whom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Counted {
    /// The approval's id.
    pub approval: Id,
    /// The contribution it approves.
    pub record: Id,
    /// The approving agent.
    pub agent: Id,
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
    let evidence = Evidence {
        approvers: approvers.clone(),
        signatures: signatures.clone(),
        in_record: BTreeMap::new(),
    };
    let (statuses, voids, _) = judge_all(ledger, &evidence);
    (statuses, voids)
}

/// As [`statuses`], with in-record signatures judged, and the approvals that count (in
/// ledger order). An agent's approvals of one record count once: the first that counts;
/// later ones are [`Void::Duplicate`].
pub fn judge_all(
    ledger: &Ledger,
    evidence: &Evidence,
) -> (BTreeMap<Id, Status>, Vec<VoidApproval>, Vec<Counted>) {
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
        .filter_map(|c| c.reverses().map(|r| &r.value))
        .collect();
    let mut voids = Vec::new();
    let mut counted = Vec::new();
    // Distinct approving agents per contribution, with the first approval of each.
    let mut approved: BTreeMap<&Id, BTreeMap<&Id, &Id>> = BTreeMap::new();
    let mut digests: BTreeMap<&Id, String> = BTreeMap::new();
    for a in &ledger.approvals {
        match judge(a, &by_id, evidence, &policy, &mut digests) {
            Ok(agent) => {
                let first = approved.entry(&a.record.value).or_default();
                if let Some(earlier) = first.get(agent) {
                    voids.push(VoidApproval {
                        approval: a.id.value.clone(),
                        record: a.record.value.clone(),
                        why: Void::Duplicate(agent.clone(), (*earlier).clone()),
                    });
                } else {
                    first.insert(agent, &a.id.value);
                    counted.push(Counted {
                        approval: a.id.value.clone(),
                        record: a.record.value.clone(),
                        agent: agent.clone(),
                    });
                }
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
            let have = agents.map_or(0, BTreeMap::len) as u32;
            let steward_missing = policy.stewards
                && !ledger
                    .projects
                    .iter()
                    .find(|p| p.id.value == c.project.value)
                    .is_some_and(|p| {
                        p.stewards
                            .iter()
                            .any(|s| agents.is_some_and(|a| a.contains_key(&s.value)))
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
    (out, voids, counted)
}

/// The agent an approval counts for, or why it does not count. A signed approval (with
/// `by`) is judged by its signature alone, whoever authored its commit.
fn judge<'l>(
    a: &'l Approval,
    by_id: &BTreeMap<&Id, &'l Contribution>,
    evidence: &'l Evidence,
    policy: &super::record::Validation,
    digests: &mut BTreeMap<&'l Id, String>,
) -> Result<&'l Id, Void> {
    let Some(c) = by_id.get(&a.record.value) else {
        return Err(Void::UnknownRecord);
    };
    let agent = match &a.by {
        Some(by) => match evidence.in_record.get(&a.id.value) {
            Some(RecordSignature::Good) => &by.value,
            Some(why) => return Err(Void::BadSignature(by.value.clone(), why.clone())),
            None => {
                return Err(Void::BadSignature(
                    by.value.clone(),
                    RecordSignature::Invalid,
                ));
            }
        },
        None if policy.record_signatures => return Err(Void::NotSignedInRecord),
        None => {
            let agent = match evidence.approvers.get(&a.id.value) {
                None => return Err(Void::NoCommit),
                Some(Approver::Unknown(email)) => {
                    return Err(Void::UnknownApprover(email.clone()));
                }
                Some(Approver::Agent(agent)) => agent,
            };
            if *agent == c.agent.value {
                return Err(Void::SelfApproval);
            }
            if policy.signed {
                match evidence.signatures.get(&a.id.value) {
                    None | Some(Signature::Missing) => return Err(Void::Unsigned),
                    Some(Signature::By(signer)) if signer != agent => {
                        return Err(Void::WrongKey(signer.clone()));
                    }
                    Some(Signature::By(_)) => {}
                }
            }
            agent
        }
    };
    if *agent == c.agent.value {
        return Err(Void::SelfApproval);
    }
    let digest = digests
        .entry(&c.id.value)
        .or_insert_with(|| write::contribution_digest(c));
    if *digest != a.digest {
        return Err(Void::Edited);
    }
    Ok(agent)
}

/// The namespace of approval signatures (`ssh-keygen -Y sign -n`), so a signature made for
/// a git commit or anything else cannot pass for an approval.
pub const SIGNATURE_NAMESPACE: &str = "ovn-approval";

/// The exact text an in-record signature covers: the approval's id, the approved record's
/// id and digest, and the approver. Fields the signature does not cover (`date`, `comment`)
/// may be reformatted; any edit of these voids it.
pub fn approval_message(a: &Approval, by: &Id) -> String {
    format!(
        "ovn approval 1\napproval {}\nrecord {}\ndigest {}\nby {}\n",
        a.id.value, a.record.value, a.digest, by
    )
}

/// The SSH keys listed on `agent` among `agents` (none for an unknown agent). Which list
/// of agents to pass is the caller's choice, and the point: to judge a change, pass the
/// agents as the base of the change had them, so keys added by the change do not count.
pub fn ssh_keys<'a>(agents: &'a [Agent], agent: &Id) -> Vec<&'a str> {
    agents
        .iter()
        .filter(|a| a.id.value == *agent)
        .flat_map(|a| a.keys.iter())
        .filter(|k| is_ssh_key(k))
        .map(|k| k.trim())
        .collect()
}

/// An allowed-signers file (see ssh-keygen(1)) naming `principal` for each of `keys`, for
/// approval signatures only.
pub fn allowed_signers_for(principal: &Id, keys: &[&str]) -> String {
    let mut out = String::new();
    for key in keys {
        out.push_str(&format!(
            "{principal} namespaces=\"{SIGNATURE_NAMESPACE}\" {key}\n"
        ));
    }
    out
}

/// Whether `s` looks like the one-line base64 body of an SSH signature (`SSHSIG...`).
pub fn is_signature_body(s: &str) -> bool {
    s.starts_with("U1NIU0lH")
        && s.len() < 16_384
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// The base64 body of an armored SSH signature (`-----BEGIN SSH SIGNATURE-----`), on one
/// line, as approval records keep it.
pub fn signature_body(armored: &str) -> Option<String> {
    let body: String = armored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    is_signature_body(&body).then_some(body)
}

/// The armored form of a signature body, as `ssh-keygen -Y verify` reads it (70 columns).
pub fn armor(body: &str) -> String {
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    let bytes = body.as_bytes();
    for chunk in bytes.chunks(70) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    const B2: &str = "01aaaaaaaaaaaaaaaaaaaaaaa2";

    /// Agents ana, ben and cy, ben's contribution B2, the policy given, and `approvals`
    /// (id, by) approving B2 as it is.
    fn ledger(policy: &str, approvals: &[(&str, Option<&str>)]) -> Ledger {
        let mut files = vec![
            (
                "ovn.toml".to_owned(),
                format!("format = 1\nname = \"N\"\ncurrency = \"EUR\"\n\n[validation]\n{policy}\n"),
            ),
            (
                "projects/p.toml".to_owned(),
                "id = \"p\"\nname = \"P\"\n".to_owned(),
            ),
            (
                format!("contributions/2026/03/11/{B2}.toml"),
                format!(
                    "id = \"{B2}\"\nagent = \"ben\"\ndate = 2026-03-11\nproject = \"p\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"2\"\n"
                ),
            ),
        ];
        for a in ["ana", "ben", "cy"] {
            files.push((
                format!("agents/{a}.toml"),
                format!(
                    "id = \"{a}\"\nname = \"{a}\"\nkind = \"person\"\nemails = [\"{a}@x.org\"]\n"
                ),
            ));
        }
        let raw: Vec<RawFile> = files
            .iter()
            .map(|(p, t)| RawFile {
                path: p.clone(),
                bytes: t.clone().into_bytes(),
            })
            .collect();
        let digest = write::contribution_digest(&ledger::load(&raw).ledger.contributions[0]);
        let mut raw = raw;
        for (id, by) in approvals {
            let signed = by.map_or(String::new(), |b| {
                format!("by = \"{b}\"\nsignature = \"U1NIU0lHAAAA\"\n")
            });
            raw.push(RawFile {
                path: format!("approvals/2026/03/12/{id}.toml"),
                bytes: format!(
                    "id = \"{id}\"\nrecord = \"{B2}\"\ndigest = \"{digest}\"\ndate = 2026-03-12\n{signed}"
                )
                .into_bytes(),
            });
        }
        let loaded = ledger::load(&raw);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.ledger
    }

    fn id(s: &str) -> Id {
        Id::parse(s).unwrap()
    }

    fn author(evidence: &mut Evidence, approval: &str, agent: &str) {
        evidence
            .approvers
            .insert(id(approval), Approver::Agent(id(agent)));
    }

    #[test]
    fn a_good_in_record_signature_names_the_approver_whoever_made_the_commit() {
        let l = ledger("approvals = 1", &[("01zz1", Some("cy"))]);
        let mut e = Evidence::default();
        // Squashed by ben, the contributor: the commit says ben, the signature says cy.
        author(&mut e, "01zz1", "ben");
        e.in_record.insert(id("01zz1"), RecordSignature::Good);
        let (statuses, voids, counted) = judge_all(&l, &e);
        assert_eq!(statuses[&id(B2)], Status::Validated);
        assert!(voids.is_empty());
        assert_eq!(counted[0].agent, id("cy"));
        // The same record with a signature that does not verify does not count, and does not
        // fall back to the commit's author.
        author(&mut e, "01zz1", "ana");
        e.in_record
            .insert(id("01zz1"), RecordSignature::KeyNotListed);
        let (statuses, voids, _) = judge_all(&l, &e);
        assert!(matches!(statuses[&id(B2)], Status::AwaitingApproval { .. }));
        assert_eq!(
            voids[0].why,
            Void::BadSignature(id("cy"), RecordSignature::KeyNotListed)
        );
    }

    #[test]
    fn a_record_policy_counts_only_approvals_signed_in_the_record() {
        let l = ledger("approvals = 1\nsigned = \"record\"", &[("01zz1", None)]);
        assert!(l.network.as_ref().unwrap().validation.record_signatures);
        let mut e = Evidence::default();
        author(&mut e, "01zz1", "cy");
        e.signatures.insert(id("01zz1"), Signature::By(id("cy")));
        let (_, voids, _) = judge_all(&l, &e);
        assert_eq!(voids[0].why, Void::NotSignedInRecord);
    }

    #[test]
    fn a_signed_self_approval_never_counts() {
        let l = ledger("approvals = 1", &[("01zz1", Some("ben"))]);
        let mut e = Evidence::default();
        author(&mut e, "01zz1", "cy");
        e.in_record.insert(id("01zz1"), RecordSignature::Good);
        let (_, voids, _) = judge_all(&l, &e);
        assert_eq!(voids[0].why, Void::SelfApproval);
    }

    #[test]
    fn one_agents_approvals_of_one_record_count_once() {
        let l = ledger(
            "approvals = 2",
            &[("01zz1", None), ("01zz2", Some("cy")), ("01zz3", None)],
        );
        let mut e = Evidence::default();
        author(&mut e, "01zz1", "cy");
        author(&mut e, "01zz2", "ana");
        author(&mut e, "01zz3", "ana");
        e.in_record.insert(id("01zz2"), RecordSignature::Good);
        let (statuses, voids, counted) = judge_all(&l, &e);
        assert_eq!(statuses[&id(B2)], Status::Validated);
        // cy (commit) and cy (signature) are one approver; ana's counts.
        assert_eq!(
            counted.iter().map(|c| c.agent.as_str()).collect::<Vec<_>>(),
            ["cy", "ana"]
        );
        assert_eq!(voids.len(), 1);
        assert_eq!(voids[0].why, Void::Duplicate(id("cy"), id("01zz1")));
    }

    #[test]
    fn signed_reads_true_commit_and_record_and_refuses_other_words() {
        let policy = |text: &str| {
            ledger::load(&[RawFile {
                path: "ovn.toml".to_owned(),
                bytes: format!(
                    "format = 1\nname = \"N\"\ncurrency = \"EUR\"\n\n[validation]\napprovals = 1\nsigned = {text}\n"
                )
                .into_bytes(),
            }])
        };
        for (text, signed, record) in [
            ("true", true, false),
            ("false", false, false),
            ("\"commit\"", true, false),
            ("\"record\"", true, true),
        ] {
            let l = policy(text);
            let v = &l.ledger.network.as_ref().unwrap().validation;
            assert_eq!((v.signed, v.record_signatures), (signed, record), "{text}");
        }
        let bad = policy("\"records\"");
        assert_eq!(
            bad.diagnostics[0].code,
            crate::core::diag::Code::InvalidValue
        );
        assert!(
            bad.diagnostics[0]
                .hint
                .as_deref()
                .unwrap_or_default()
                .contains("`record`"),
            "{:?}",
            bad.diagnostics
        );
    }

    #[test]
    fn signatures_keep_their_body_through_armor() {
        let body = format!("U1NIU0lH{}", "A".repeat(150));
        let armored = armor(&body);
        assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert!(
            armored
                .lines()
                .all(|l| l.len() <= 70 || l.starts_with("-----"))
        );
        assert_eq!(signature_body(&armored), Some(body));
        assert_eq!(signature_body("-----BEGIN X-----\nnot base64!\n"), None);
    }
}
