//! `ovn approve`: record peer approvals of contributions, in one commit.
//!
//! Several ids make one commit so a reviewer's batch lands or fails whole. Whether a
//! contribution can be approved (it exists, is not reversed, not the approver's own, not yet
//! approved by them) depends on the whole ledger, so the transaction reads it all. The status
//! helpers (`statuses`, `signed_by`) are shared with `status` and `review`, which show the
//! same verdicts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use clap::Args;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::{self, RawFile};
use crate::core::record::{Approval, At};
use crate::core::validation::agent_by_email;
use crate::core::value::Id;
use crate::core::write;
use crate::store::{Plan, SigningKey, View};

/// Approve contributions of other agents.
///
/// Writes one approval record per ID, approvals/YYYY/MM/DD/APPROVAL-ID.toml, naming the approved
/// contribution and a digest of its content (`sha256:` of its canonical text), and commits
/// them all in one commit on the current branch, "approve: ID...". Merge that commit into the
/// validated branch as any other ledger change.
///
/// Who approved is, for an unsigned approval, the author of the commit that added it, mapped
/// to an agent through the agents' `emails` (your git user.email, or GIT_AUTHOR_EMAIL). A
/// squash merge, or a rebase by someone else that resets authors, loses that: the approval
/// then looks like the merger's (`ovn status` says so and gives the fix). With --sign, the
/// record itself names you (`by`) and carries your SSH signature (`signature`, made with
/// `ssh-keygen -Y sign -n ovn-approval` over the approval's id, the record's id and digest,
/// and your agent id), so the approval keeps its approver through any merge. It counts when
/// it verifies against the SSH keys your agent listed on the validated branch before the
/// change that brought the approval (a key added in the same change does not count).
///
/// Approving your own contribution is refused, and so is approving an unknown contribution,
/// one that is reversed, or one you approved already (an agent's approvals of one record count
/// once). An approval counts only while the contribution is unchanged: editing a record voids
/// the approvals given before (the digest no longer matches).
///
/// How many approvals a contribution needs, and whether a project steward must be among them,
/// is the network's policy: `[validation]` in ovn.toml (see ovn-ledger(5)). `ovn status` shows
/// what still awaits approval. With signed = "record" only approvals signed in the record
/// count, and ovn approve signs without being asked. With signed = true an approval counts
/// when it is signed in the record or its commit is signed with an SSH key listed on your
/// agent: for the latter write the records with --no-commit and commit them with `git commit
/// -S`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd 01kk0b9d11r4m2t5v9x3c6n1hq --comment \"Checked the invoice\"
  ovn approve --sign 01kk0b7c00q8m2t5v9x3c6n1hd
  ovn approve --key ~/.ssh/id_ed25519 01kk0b7c00q8m2t5v9x3c6n1hd
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd --no-commit && git commit -S -m \"approve: signed\"

Exit status: 0 approved, 1 the approval would bring problems, 2 bad input (an unknown or \
reversed contribution, your own contribution, one you approved already, a key that cannot \
sign or is not on your agent; nothing written), 3 environment error.")]
pub struct ApproveArgs {
    /// Ids of the contributions to approve
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,

    /// A note for the contributor and other reviewers (kept in each approval record)
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// Sign each approval inside its record with your SSH key (git's user.signingkey, as `git
    /// commit -S` uses it with gpg.format=ssh), so it survives squash and rebase merges
    #[arg(long)]
    pub sign: bool,

    /// The SSH key to sign with: a private key file, or a public key file whose private key
    /// is in ssh-agent (implies --sign)
    #[arg(long, value_name = "FILE")]
    pub key: Option<std::path::PathBuf>,

    /// Write the record files but do not commit them
    #[arg(long)]
    pub no_commit: bool,
}

/// Runs `ovn approve`.
pub fn run(
    args: ApproveArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let mut targets = Vec::new();
    for id in &args.ids {
        let id = writing::parse_id("contribution id", id.trim())?;
        if targets.contains(&id) {
            return Err(CliError::usage(format!("{id} is given twice"), None));
        }
        targets.push(id);
    }
    let comment = match &args.comment {
        Some(c) => Some(writing::text("--comment", c)?),
        None => None,
    };
    let today = ctx.now.date_naive();
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let email = options.identity.as_ref().map(|i| i.email.clone());
    let mut ids = Vec::new();
    for _ in &targets {
        ids.push(writing::new_id(ctx)?);
    }
    let key = match &args.key {
        Some(path) => Some(SigningKey::File(cwd.join(path))),
        None => store.signing_key(),
    };

    let result = store.transact(
        &options,
        |view: &View<'_>| -> Result<Plan<()>, Refusal> {
            // Whether a contribution is reversed can only be told from the whole ledger.
            let base = view.read_all()?;
            let loaded = ledger::load(&base);
            super::log::network(&loaded)?;
            let Some(email) = email.as_deref() else {
                return Err(CliError::usage(
                    "who approves? there is no git identity to find your agent by",
                    Some("set git config user.email to an email listed on your agent".to_owned()),
                )
                .into());
            };
            let me = agent_by_email(&loaded.ledger, email).ok_or_else(|| {
                CliError::usage(
                    format!("your git identity <{email}> belongs to no single agent of this ledger"),
                    Some(format!(
                        "approvals count for the agent whose `emails` list your git email: add \"{email}\" to your agent"
                    )),
                )
            })?;
            let sign = args.sign
                || args.key.is_some()
                || loaded
                    .ledger
                    .network
                    .as_ref()
                    .is_some_and(|n| n.validation.record_signatures);
            let mine = my_approvals(&store, &loaded.ledger, me, &targets)?;
            let mut files = Vec::new();
            let mut added = Vec::new();
            for (target, id) in targets.iter().zip(&ids) {
                let c = approvable(&loaded.ledger, me, &mine, target)?;
                let mut approval = Approval {
                    file: 0,
                    id: At::new(id.clone()),
                    record: At::new(target.clone()),
                    digest: write::contribution_digest(c),
                    date: At::new(today),
                    comment: comment.clone(),
                    by: None,
                    signature: None,
                };
                if sign {
                    let body = sign_approval(&store, key.as_ref(), &loaded.ledger, me, &approval)?;
                    approval.by = Some(At::new(me.clone()));
                    approval.signature = Some(body);
                }
                let path = format!("approvals/{}/{id}.toml", today.format("%Y/%m/%d"));
                let text = write::approval(&approval);
                added.push(RawFile {
                    path: path.clone(),
                    bytes: text.clone().into_bytes(),
                });
                files.push((path, text.into_bytes()));
            }
            writing::judge(view, &base, &loaded, &added)?;
            let list: Vec<&str> = targets.iter().map(|t| t.as_str()).collect();
            let mut message = format!("approve: {}\n", list.join(", "));
            if let Some(c) = &comment {
                message.push_str(&format!("\n{c}\n"));
            }
            Ok(Plan {
                files,
                message,
                value: (),
            })
        },
    );
    let (outcome, ()) = result.map_err(writing::refuse)?;
    let n = targets.len();
    writing::report(
        out,
        &format!("Approved {n} contribution{}", if n == 1 { "" } else { "s" }),
        &outcome,
    )?;
    Ok(EXIT_OK)
}

/// The contribution `target`, when `me` may approve it: it exists, is not `me`'s, is not
/// reversed, and `me` has no approval of it that counts yet (`mine`).
fn approvable<'l>(
    ledger: &'l crate::core::ledger::Ledger,
    me: &Id,
    mine: &BTreeMap<Id, Id>,
    target: &Id,
) -> Result<&'l crate::core::record::Contribution, CliError> {
    let c = ledger
        .contributions
        .iter()
        .find(|c| &c.id.value == target)
        .ok_or_else(|| {
            CliError::usage(
                format!("no contribution has the id {target}"),
                Some(
                    "give the id of a committed contribution (its file name without .toml)"
                        .to_owned(),
                ),
            )
        })?;
    if &c.agent.value == me {
        return Err(CliError::usage(
            format!("{target} is your own contribution: self-approval never counts"),
            Some("ask another agent to approve it".to_owned()),
        ));
    }
    if let Some(r) = ledger
        .contributions
        .iter()
        .find(|r| r.reverses.as_ref().is_some_and(|x| &x.value == target))
    {
        return Err(CliError::usage(
            format!(
                "{target} is reversed by {}: there is nothing to approve",
                r.id.value
            ),
            None,
        ));
    }
    if let Some(first) = mine.get(target) {
        return Err(CliError::usage(
            format!(
                "you ({me}) approved {target} already (approval {first}): an agent's approvals of one record count once"
            ),
            Some(
                "nothing to do; `ovn status` on the validated branch shows what each approval counts for"
                    .to_owned(),
            ),
        ));
    }
    Ok(c)
}

/// The approvals of `targets` in `ledger` (the current branch) that already count for `me`,
/// by record: approving again would add nothing. Cheap when none of them has an approval.
fn my_approvals(
    store: &crate::store::Store,
    ledger: &crate::core::ledger::Ledger,
    me: &Id,
    targets: &[Id],
) -> Result<BTreeMap<Id, Id>, CliError> {
    let only: BTreeSet<Id> = targets.iter().cloned().collect();
    if !ledger
        .approvals
        .iter()
        .any(|a| only.contains(&a.record.value))
    {
        return Ok(BTreeMap::new());
    }
    let evidence = evidence(store, "HEAD", ledger, Some(&only))?;
    let (_, _, counted) = crate::core::validation::judge_all(ledger, &evidence);
    Ok(counted
        .into_iter()
        .filter(|c| c.agent == *me && only.contains(&c.record))
        .map(|c| (c.record, c.approval))
        .collect())
}

/// Signs `approval` as `me`: the signature body for the record, once it verifies against the
/// keys `me` lists in `ledger` (so a key that is not on the agent is refused here, not
/// discovered after the merge).
fn sign_approval(
    store: &crate::store::Store,
    key: Option<&SigningKey>,
    ledger: &crate::core::ledger::Ledger,
    me: &Id,
    approval: &Approval,
) -> Result<String, CliError> {
    use crate::core::validation::{self, RecordSignature};
    let Some(key) = key else {
        return Err(CliError::usage(
            "no SSH key to sign the approval with",
            Some(
                "pass --key FILE, or set it as git does for signed commits: git config user.signingkey ~/.ssh/id_ed25519"
                    .to_owned(),
            ),
        ));
    };
    let message = validation::approval_message(approval, me);
    let armored = store.ssh_sign(key, &message)?.map_err(|said| {
        CliError::usage(
            format!("ssh-keygen could not sign the approval: {said}"),
            Some("check the key (--key or git config user.signingkey)".to_owned()),
        )
    })?;
    let body = validation::signature_body(&armored).ok_or_else(|| {
        CliError::usage(
            "ssh-keygen wrote something that is not an SSH signature",
            Some("check gpg.ssh.program".to_owned()),
        )
    })?;
    let keys = validation::ssh_keys(&ledger.agents, me);
    let why = match store.ssh_verify(me, &keys, &message, &body)? {
        RecordSignature::Good => return Ok(body),
        RecordSignature::NoKey => format!("your agent {me} lists no SSH key"),
        RecordSignature::KeyNotListed => {
            format!("the key you signed with is not listed on your agent {me}")
        }
        RecordSignature::Invalid => "the signature does not verify".to_owned(),
    };
    Err(CliError::usage(
        why,
        Some(format!(
            "add your public key (`ssh-keygen -y -f KEY`) to `keys` in agents/{me}.toml, and merge that into the validated branch before your signed approvals"
        )),
    ))
}

/// What history says about the approvals of `ledger` (read at `rev`): who added each one (the
/// author of the adding commit), how that commit was signed (when the policy asks for signed
/// commits), and whether each in-record signature verifies against the SSH keys its `by` had
/// at the base of the change that brought it onto `rev` ([`crate::store::Store::approval_bases`]).
/// `only`, when given, limits the signature checks to approvals of those records.
pub(super) fn evidence(
    store: &crate::store::Store,
    rev: &str,
    ledger: &crate::core::ledger::Ledger,
    only: Option<&BTreeSet<Id>>,
) -> Result<crate::core::validation::Evidence, CliError> {
    Ok(gather(store, rev, ledger, only)?.0)
}

/// [`evidence`], and the commit that added each approval.
///
/// Long because one walk of the change's history finds each approval, the commit that added
/// it and its author as known at the base, which the counts need together.
fn gather(
    store: &crate::store::Store,
    rev: &str,
    ledger: &crate::core::ledger::Ledger,
    only: Option<&BTreeSet<Id>>,
) -> Result<
    (
        crate::core::validation::Evidence,
        BTreeMap<Id, crate::store::AddedBy>,
    ),
    CliError,
> {
    use crate::core::validation::{self, Approver, Evidence, Signature};
    let mut evidence = Evidence::default();
    let mut added = BTreeMap::new();
    if ledger.approvals.is_empty() {
        return Ok((evidence, added));
    }
    let policy = ledger
        .network
        .as_ref()
        .map(|n| n.validation.clone())
        .unwrap_or_default();
    let wanted =
        |a: &crate::core::record::Approval| only.is_none_or(|o| o.contains(&a.record.value));
    let commit_signed = policy.signed && !policy.record_signatures;
    // The base of the change that brought each approval: an email (or an agent) that the
    // same change added identifies nobody in it, so the approver must be known there too.
    let bases = store.approval_bases(rev)?;
    let mut agents_at: HashMap<crate::store::Oid, Vec<crate::core::record::Agent>> = HashMap::new();
    if ledger.approvals.iter().any(|a| a.by.is_none()) {
        let allowed = validation::allowed_signers(ledger);
        // One verification per commit, however many approvals it adds.
        let mut verified: HashMap<crate::store::Oid, Signature> = HashMap::new();
        let by_id: BTreeMap<&str, &crate::core::record::Approval> = ledger
            .approvals
            .iter()
            .map(|a| (a.id.value.as_str(), a))
            .collect();
        for (id, by) in store.approval_authors(rev)? {
            let Ok(id) = Id::parse(&id) else {
                continue;
            };
            let known_at_base = |agents_at: &mut HashMap<_, Vec<crate::core::record::Agent>>,
                                 agent: &Id|
             -> Result<bool, CliError> {
                let Some(&base) = bases.get(id.as_str()) else {
                    return Ok(true);
                };
                if let std::collections::hash_map::Entry::Vacant(e) = agents_at.entry(base) {
                    e.insert(store.agents_at(base)?);
                }
                Ok(agents_at[&base].iter().any(|a| {
                    a.id.value == *agent
                        && a.emails
                            .iter()
                            .any(|e| e.value.eq_ignore_ascii_case(&by.email))
                }))
            };
            let who = match agent_by_email(ledger, &by.email) {
                Some(agent) if known_at_base(&mut agents_at, agent)? => {
                    Approver::Agent(agent.clone())
                }
                _ => Approver::Unknown(by.email.clone()),
            };
            added.insert(id.clone(), by.clone());
            evidence.approvers.insert(id.clone(), who);
            let check = by_id
                .get(id.as_str())
                .is_some_and(|a| a.by.is_none() && wanted(a));
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
    }
    let signed: Vec<_> = ledger
        .approvals
        .iter()
        .filter(|a| wanted(a))
        .filter_map(|a| Some((a, a.by.as_ref()?, a.signature.as_ref()?)))
        .collect();
    if !signed.is_empty() {
        let mut ids = Vec::new();
        let mut jobs = Vec::new();
        for (a, by, body) in signed {
            let Some(&base) = bases.get(a.id.value.as_str()) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) = agents_at.entry(base) {
                e.insert(store.agents_at(base)?);
            }
            let keys = validation::ssh_keys(&agents_at[&base], &by.value);
            ids.push(a.id.value.clone());
            jobs.push(crate::store::VerifyJob {
                principal: by.value.clone(),
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
                message: validation::approval_message(a, &by.value),
                body: body.clone(),
            });
        }
        for (id, judged) in ids.into_iter().zip(store.ssh_verify_all(&jobs)?) {
            evidence.in_record.insert(id, judged);
        }
    }
    Ok((evidence, added))
}

/// An unsigned approval whose approver a merge may have lost: the commit that added it is
/// not the `ovn approve` commit of its record (a squash, or a rewrite by someone else), so
/// the author the approval is credited to may be the merger, not the approver.
pub(super) struct Lost {
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
pub(super) fn signed_by(
    store: &crate::store::Store,
    base: &str,
    approval: &Approval,
) -> Result<Option<(Id, crate::core::validation::RecordSignature)>, CliError> {
    use crate::core::validation;
    let (Some(by), Some(body)) = (&approval.by, &approval.signature) else {
        return Ok(None);
    };
    let agents = store.agents_at(store.resolve(base)?.id())?;
    let keys = validation::ssh_keys(&agents, &by.value);
    let message = validation::approval_message(approval, &by.value);
    let judged = store.ssh_verify(&by.value, &keys, &message, body)?;
    Ok(Some((by.value.clone(), judged)))
}

/// Every contribution's validation status.
type Statuses = BTreeMap<Id, crate::core::validation::Status>;
/// The approvals that do not count.
type Voids = Vec<crate::core::validation::VoidApproval>;

/// [`statuses`], and the unsigned approvals whose approver a merge may have lost.
pub(super) fn statuses_and_lost(
    store: &crate::store::Store,
    rev: &str,
    ledger: &crate::core::ledger::Ledger,
) -> Result<(Statuses, Voids, Vec<Lost>), CliError> {
    use crate::core::validation::Void;
    let (evidence, added) = gather(store, rev, ledger, None)?;
    let (statuses, voids, counted) = crate::core::validation::judge_all(ledger, &evidence);
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
pub(super) fn statuses(
    store: &crate::store::Store,
    rev: &str,
    ledger: &crate::core::ledger::Ledger,
) -> Result<
    (
        BTreeMap<Id, crate::core::validation::Status>,
        Vec<crate::core::validation::VoidApproval>,
    ),
    CliError,
> {
    let evidence = evidence(store, rev, ledger, None)?;
    let (statuses, voids, _) = crate::core::validation::judge_all(ledger, &evidence);
    Ok((statuses, voids))
}
