//! `ovn approve`: record peer approvals of contributions, in one commit.

use std::io::Write;
use std::path::Path;

use clap::Args;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::{self, RawFile};
use crate::core::record::{Approval, At};
use crate::core::validation::agent_by_email;
use crate::core::write;
use crate::store::{Plan, View};

/// Approve contributions of other agents.
///
/// Writes one approval record per ID, approvals/YYYY/MM/DD/APPROVAL-ID.toml, naming the approved
/// contribution and a digest of its content (`sha256:` of its canonical text), and commits
/// them all in one commit on the current branch, "approve: ID...". Merge that commit into the
/// validated branch as any other ledger change.
///
/// Who approved is not written in the record: it is the author of the commit that added it,
/// mapped to an agent through the agents' `emails` (your git user.email, or GIT_AUTHOR_EMAIL).
/// Approving your own contribution is refused, and so is approving an unknown contribution or
/// one that is reversed. An approval counts only while the contribution is unchanged: editing
/// a record voids the approvals given before (the digest no longer matches).
///
/// How many approvals a contribution needs, and whether a project steward must be among them,
/// is the network's policy: `[validation]` in ovn.toml (see ovn-ledger(5)). `ovn status` shows
/// what still awaits approval.
///
/// Where the policy asks for signed approvals (signed = true), an approval counts only when
/// its commit is signed with an SSH key listed in your agent's `keys`. ovn does not sign: write
/// the records with --no-commit and commit them with git, e.g. `git commit -S -m "approve:
/// ..."` with gpg.format=ssh and user.signingkey set.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd 01kk0b9d11r4m2t5v9x3c6n1hq --comment \"Checked the invoice\"
  ovn approve 01kk0b7c00q8m2t5v9x3c6n1hd --no-commit && git commit -S -m \"approve: signed\"

Exit status: 0 approved, 1 the approval would bring problems, 2 bad input (an unknown or \
reversed contribution, your own contribution; nothing written), 3 environment error.")]
pub struct ApproveArgs {
    /// Ids of the contributions to approve
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,

    /// A note for the contributor and other reviewers (kept in each approval record)
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

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
    let store = writing::open_for_writing(cwd)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let email = options.identity.as_ref().map(|i| i.email.clone());
    let mut ids = Vec::new();
    for _ in &targets {
        ids.push(writing::new_id(ctx)?);
    }

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
            let mut files = Vec::new();
            let mut added = Vec::new();
            for (target, id) in targets.iter().zip(&ids) {
                let c = loaded
                    .ledger
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
                    )
                    .into());
                }
                if let Some(r) = loaded
                    .ledger
                    .contributions
                    .iter()
                    .find(|r| r.reverses.as_ref().is_some_and(|x| &x.value == target))
                {
                    return Err(CliError::usage(
                        format!("{target} is reversed by {}: there is nothing to approve", r.id.value),
                        None,
                    )
                    .into());
                }
                let approval = Approval {
                    file: 0,
                    id: At::new(id.clone()),
                    record: At::new(target.clone()),
                    digest: write::contribution_digest(c),
                    date: At::new(today),
                    comment: comment.clone(),
                };
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

/// The validation status of every contribution of `ledger` (read at `rev`), and the
/// approvals that do not count: approvers are the authors of the commits reachable from
/// `rev` that added each approval, mapped to agents by their emails.
pub(super) fn statuses(
    store: &crate::store::Store,
    rev: &str,
    ledger: &crate::core::ledger::Ledger,
) -> Result<
    (
        std::collections::BTreeMap<crate::core::value::Id, crate::core::validation::Status>,
        Vec<crate::core::validation::VoidApproval>,
    ),
    CliError,
> {
    use crate::core::validation::{self, Approver, Signature};
    let mut approvers = std::collections::BTreeMap::new();
    let mut signatures = std::collections::BTreeMap::new();
    let signed = ledger.network.as_ref().is_some_and(|n| n.validation.signed);
    if !ledger.approvals.is_empty() {
        let allowed = validation::allowed_signers(ledger);
        // One verification per commit, however many approvals it adds.
        let mut verified: std::collections::HashMap<git2::Oid, Signature> =
            std::collections::HashMap::new();
        for (id, by) in store.approval_authors(rev)? {
            let Ok(id) = crate::core::value::Id::parse(&id) else {
                continue;
            };
            let who = match agent_by_email(ledger, &by.email) {
                Some(agent) => Approver::Agent(agent.clone()),
                None => Approver::Unknown(by.email),
            };
            approvers.insert(id.clone(), who);
            if signed {
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
                signatures.insert(id, signature);
            }
        }
    }
    Ok(validation::statuses(ledger, &approvers, &signatures))
}
