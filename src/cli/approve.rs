//! `ovn approve`: record peer approvals of contributions, in one commit.
//!
//! Several ids make one commit so a reviewer's batch lands or fails whole. Whether a
//! contribution can be approved (it exists, is not reversed, not the approver's own, not yet
//! approved by them) depends on the whole ledger, so the transaction reads it all. Whose
//! approvals count is `ops::approvals`, which `status`, `review` and payouts ask too.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use clap::Args;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::{Ledger, RawFile};
use crate::core::record::{Approval, At};
use crate::core::render::escaped;
use crate::core::validation::agent_by_email;
use crate::core::value::Id;
use crate::core::write;
use crate::ops::approvals;
use crate::ops::write::Base;
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
    let targets = targets(&args.ids)?;
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

    let result = store.transact(&options, |view: &View<'_>| -> Result<Plan<()>, Refusal> {
        // Whether a contribution is reversed can only be told from the whole ledger.
        let base = Base::whole(view)?;
        let loaded = base.loaded();
        super::log::network(loaded)?;
        let me = approver(&loaded.ledger, email.as_deref())?;
        let sign = args.sign
            || args.key.is_some()
            || loaded
                .ledger
                .network
                .as_ref()
                .is_some_and(|n| n.validation.record_signatures);
        // Abbreviated ids stand for the one contribution each starts.
        let targets = whole_ids(&loaded.ledger, &targets)?;
        let mine = my_approvals(&store, &loaded.ledger, me, &targets)?;
        let mut files = Vec::new();
        let mut added = Vec::new();
        for (target, id) in targets.iter().zip(&ids) {
            if !loaded
                .ledger
                .contributions
                .iter()
                .any(|c| &c.id.value == target)
            {
                return Err(elsewhere(&store, target).into());
            }
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
        writing::judge(view, &base, &added)?;
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
    });
    let (outcome, ()) = result.map_err(writing::refuse)?;
    let n = targets.len();
    writing::report(
        out,
        &format!("Approved {n} contribution{}", if n == 1 { "" } else { "s" }),
        &outcome,
    )?;
    Ok(EXIT_OK)
}

/// The contributions the ids name, each once.
fn targets(given: &[String]) -> Result<Vec<Id>, CliError> {
    let mut targets = Vec::new();
    for id in given {
        let id = writing::parse_id("contribution id", id.trim())?;
        if targets.contains(&id) {
            return Err(CliError::usage(format!("{id} is given twice"), None));
        }
        targets.push(id);
    }
    Ok(targets)
}

/// The contributions `given` names, each a whole id or a unique prefix of one
/// ([`crate::ops::ids::resolve`]), each once; an unknown id is left as given (and refused
/// as unknown with the rest).
fn whole_ids(ledger: &Ledger, given: &[Id]) -> Result<Vec<Id>, CliError> {
    let mut out: Vec<Id> = Vec::new();
    for g in given {
        let ids = ledger.contributions.iter().map(|c| c.id.value.as_str());
        let id = crate::ops::ids::resolve("contribution", g.as_str(), ids)?
            .and_then(|s| Id::parse(&s).ok())
            .unwrap_or_else(|| g.clone());
        if out.contains(&id) {
            return Err(CliError::usage(format!("{id} is given twice"), None));
        }
        out.push(id);
    }
    Ok(out)
}

/// The error for a contribution this branch lacks, naming the branches that have it: an
/// approval is committed on the pull request's own branch, so it merges with the work.
fn elsewhere(store: &crate::store::Store, target: &Id) -> CliError {
    let found = store
        .branches_with_contribution(target.as_str(), 4)
        .unwrap_or_default();
    let Some((first, remote)) = found.first() else {
        return writing::no_contribution(target);
    };
    let names: Vec<String> = found.iter().map(|(b, _)| escaped(b)).collect();
    // A remote-tracking branch is switched to by its name without the remote (git creates
    // the local branch that tracks it).
    let local = match first.split_once('/') {
        Some((_, branch)) if *remote => branch,
        _ => first.as_str(),
    };
    CliError::usage(
        format!(
            "no contribution has the id {target} on this branch; it is on {}",
            names.join(", ")
        ),
        Some(format!(
            "approve on the pull request's branch, so the approval merges with the work: git switch {}, then ovn approve {target}",
            escaped(local)
        )),
    )
}

/// The agent approving: the one whose `emails` hold the git identity `email`.
fn approver<'l>(ledger: &'l Ledger, email: Option<&str>) -> Result<&'l Id, CliError> {
    let Some(email) = email else {
        return Err(CliError::usage(
            "who approves? there is no git identity to find your agent by",
            Some("set git config user.email to an email listed on your agent".to_owned()),
        ));
    };
    agent_by_email(ledger, email).ok_or_else(|| {
        CliError::usage(
            format!("your git identity <{email}> belongs to no single agent of this ledger"),
            Some(format!(
                "approvals count for the agent whose `emails` list your git email: add \"{email}\" to your agent"
            )),
        )
    })
}

/// The contribution `target`, when `me` may approve it: it exists, is not `me`'s, is not
/// reversed, and `me` has no approval of it that counts yet (`mine`).
fn approvable<'l>(
    ledger: &'l Ledger,
    me: &Id,
    mine: &BTreeMap<Id, Id>,
    target: &Id,
) -> Result<&'l crate::core::record::Contribution, CliError> {
    let c = ledger
        .contributions
        .iter()
        .find(|c| &c.id.value == target)
        .ok_or_else(|| writing::no_contribution(target))?;
    if &c.agent.value == me {
        return Err(CliError::usage(
            format!("{target} is your own contribution: self-approval never counts"),
            Some("ask another agent to approve it".to_owned()),
        ));
    }
    if let Some(r) = ledger
        .contributions
        .iter()
        .find(|r| r.reverses().is_some_and(|x| &x.value == target))
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
    ledger: &Ledger,
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
    let evidence = approvals::evidence(store, "HEAD", ledger, Some(&only))?;
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
    ledger: &Ledger,
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
