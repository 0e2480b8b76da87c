//! `ovn status`: what is pending review, and what is not committed.
//!
//! The question is a person's "where am I?", so it answers in sentences, not a table: the
//! branch against the validated branch (named in `ovn.toml`, read from the working tree or
//! else HEAD), the records waiting for approval, an interrupted write, and files git has not
//! committed. The pending records are read from the changed files only, against the ledger
//! at the validated branch.

use crate::context::Context;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::core::render::{escaped, one_line};

use clap::Args;

use super::{CliError, EXIT_OK};
use crate::core::ledger::{NETWORK_FILE, RawFile};
use crate::core::record::Network;
use crate::core::validation::Status;
use crate::ops;
use crate::store::ResolvedRev;

/// Show what is pending review and which record files are not committed.
///
/// Pending review is what the current branch has that the network's validated branch
/// (validated_branch in ovn.toml; its local branch, or else origin's) has not: the record
/// files added, changed or removed since the two branches parted, with what each contribution
/// records. Merging the branch into the validated branch is what validates them. Below that,
/// the ledger files in the working tree or index that are not committed (asked of the `git`
/// program when the index is split, `core.splitIndex`, which libgit2 cannot read). ovn status
/// never writes anything. When an ovn write was killed half-way, it says what that write left
/// and that `ovn recover` finishes it.
///
/// When the network asks for approvals (`[validation]` in ovn.toml), it also lists the
/// contributions on the validated branch that still await them (they do not count in payouts
/// yet), and the approvals that do not count: self-approvals, approvals of a record edited
/// since, approvals added by an email no agent lists, signatures that do not verify, an
/// agent's second approval of a record. It also says which unsigned approvals a squash or
/// rebase merge credited to the merger instead of the approver, with the command that
/// fixes each (a signed approval by the approver: `ovn approve --sign ID`).
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  git switch -c ana-week-47 && ovn log 2h \"Routed the motor board\" && ovn status")]
pub struct StatusArgs {}

/// Runs `ovn status`.
pub fn run(
    _args: StatusArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let store = super::open(cwd, ctx)?;
    // The same settings, and so the same validated branch, as every other command reads.
    let network = ops::branch::settings(&store);
    let validated = ops::branch::name(&store);
    let found = match ops::branch::find(&store) {
        Ok(found) => Some(found),
        Err(ops::Error::Usage { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let pending = store.pending(found.as_ref().map(|f| &f.rev))?;
    let here = match &pending.branch {
        Some(b) => format!("On branch {b}"),
        None => "On a detached HEAD".to_owned(),
    };
    match &pending.validated {
        None => writeln!(
            out,
            "{here}; the validated branch {validated:?} (ovn.toml) does not exist here, so nothing can be compared with it"
        )?,
        Some(v) if pending.branch.as_deref() == Some(v.as_str()) => writeln!(
            out,
            "{here}, the validated branch: what is committed here is validated"
        )?,
        Some(v) => {
            let n = pending.changes.len();
            let s = |n: usize| if n == 1 { "" } else { "s" };
            let behind = if pending.behind > 0 {
                format!(
                    "; {v} has {} commit{} not on this branch",
                    pending.behind,
                    s(pending.behind)
                )
            } else {
                String::new()
            };
            if n == 0 {
                writeln!(out, "{here}: nothing pending review against {v}{behind}")?;
            } else {
                writeln!(
                    out,
                    "{here}: {n} ledger file{} in {} commit{} pending review (not on {v}){behind}",
                    s(n),
                    pending.ahead,
                    s(pending.ahead)
                )?;
                let summaries = summaries(&pending.changes, network.as_ref());
                let width = pending
                    .changes
                    .iter()
                    .map(|c| escaped(&c.path).chars().count())
                    .max()
                    .unwrap_or(0);
                for c in &pending.changes {
                    let about = summaries.get(c.path.as_str()).cloned().unwrap_or_default();
                    writeln!(
                        out,
                        "  {:<7} {:<width$}  {}",
                        c.kind.as_str(),
                        escaped(&c.path),
                        one_line(&about)
                    )?;
                }
            }
        }
    }
    if let Some(v) = found.as_ref().map(|f| &f.rev) {
        // The rules in force: a policy change not validated does not apply.
        let rules = super::effective::rules(&store, v.commit())?;
        let policy = rules
            .as_ref()
            .and_then(|r| r.network.as_ref())
            .or(network.as_ref());
        if policy.is_some_and(|n| n.validation.approvals > 0) {
            awaiting(&store, v, rules.as_ref(), out)?;
        }
    }
    if let Some(i) = store.interrupted() {
        interrupted(&i, out)?;
    }
    let uncommitted = store.uncommitted()?;
    if uncommitted.is_empty() {
        writeln!(out, "No uncommitted ledger files.")?;
    } else {
        writeln!(out, "Not committed:")?;
        for u in &uncommitted {
            writeln!(out, "  {:<10} {}", u.state, escaped(&u.path))?;
        }
        unstaged_advice(&uncommitted, out)?;
    }
    Ok(EXIT_OK)
}

/// What "unstaged" means and how to undo it: the next `git commit` would delete a record.
fn unstaged_advice(
    uncommitted: &[crate::store::Uncommitted],
    out: &mut impl Write,
) -> Result<(), CliError> {
    let n = uncommitted
        .iter()
        .filter(|u| u.state == crate::store::UNSTAGED)
        .count();
    if n == 0 {
        return Ok(());
    }
    let (it, them) = if n == 1 {
        ("it", "it")
    } else {
        ("they", "them")
    };
    writeln!(
        out,
        "  unstaged: committed and in the working tree, but removed from git's index, so the next `git commit` would delete {them} from the ledger (a git command that read the index while an ovn write was staging can leave this). Run `ovn recover` to stage {them} again if {it} should stay."
    )?;
    Ok(())
}

/// What a killed `ovn` write left, said plainly, with the command that finishes it.
fn interrupted(i: &crate::store::Interrupted, out: &mut impl Write) -> Result<(), CliError> {
    let commit = &i.commit.to_string()[..12];
    let lock = if i.index_locked {
        " Its lock on git's index (.git/index.lock) is still there, so `git commit` and `git add` fail until the write is finished."
    } else {
        ""
    };
    let paths = i.paths.join(", ");
    let them = if i.paths.len() == 1 { "it" } else { "them" };
    match (i.landed, i.on_disk) {
        (true, true) => writeln!(
            out,
            "An ovn write was interrupted after its commit {commit} reached {} with {paths}; only its clearing up was left.{lock}",
            i.branch,
        )?,
        (true, false) => {
            writeln!(
                out,
                "An ovn write was interrupted: its commit {commit} is on {}, but it did not finish putting {paths} in the working tree and git's index (until it does, git may list {them} as deleted and staged).{lock}",
                i.branch,
            )?;
            writeln!(
                out,
                "  Run `ovn recover` to finish it (the next ovn write also does). Do not commit with git before: that commit would delete the record."
            )?;
            return Ok(());
        }
        (false, true) => writeln!(
            out,
            "An ovn write was interrupted before its commit reached {}: nothing was committed, but {paths} may still be in the working tree and staged; clearing the write removes {them}.{lock}",
            i.branch
        )?,
        (false, false) => writeln!(
            out,
            "An ovn write was interrupted before its commit reached {}: nothing was committed.{lock}",
            i.branch
        )?,
    }
    writeln!(
        out,
        "  Run `ovn recover` to clear what it left (the next ovn write also does)."
    )?;
    Ok(())
}

/// With a policy that asks for approvals: the contributions on the validated branch that
/// still await them, and the approvals that do not count.
fn awaiting(
    store: &crate::store::Store,
    rev: &ResolvedRev,
    rules: Option<&crate::core::ledger::Ledger>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let loaded = ops::load::whole(store, rev)?;
    let validated = rev.name();
    if !loaded.diagnostics.is_empty() {
        writeln!(
            out,
            "The ledger on {validated} has problems (run `ovn check --at {validated}`), so validation cannot be judged."
        )?;
        return Ok(());
    }
    let in_force = rules.map(|r| super::effective::applied(&loaded.ledger, r));
    let ledger = in_force.as_ref().unwrap_or(&loaded.ledger);
    let (statuses, voids, lost) = super::approve::statuses_and_lost(store, &rev.id(), ledger)?;
    let waiting: Vec<_> = ledger
        .contributions
        .iter()
        .filter_map(|c| match statuses.get(&c.id.value) {
            Some(s @ Status::AwaitingApproval { .. }) => Some((c, s)),
            _ => None,
        })
        .collect();
    let currency = ledger.network.as_ref().map_or("", |n| n.currency.as_str());
    if waiting.is_empty() {
        writeln!(out, "Every contribution on {validated} is validated.")?;
    } else {
        let n = waiting.len();
        writeln!(
            out,
            "{n} contribution{} on {validated} await{} approval (they do not count yet):",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )?;
        for (c, s) in waiting {
            writeln!(
                out,
                "  {}  {}  {}",
                c.id.value,
                super::log::summary(c, currency),
                s.text()
            )?;
        }
    }
    for v in &voids {
        writeln!(
            out,
            "  approval {} of {} does not count: {}",
            v.approval,
            v.record,
            v.why.text()
        )?;
    }
    // A lost approval that does not count matters only while its record awaits approval.
    let lost: Vec<_> = lost
        .into_iter()
        .filter(|l| {
            l.counts_for.is_some()
                || matches!(
                    statuses.get(&l.record),
                    Some(Status::AwaitingApproval { .. })
                )
        })
        .collect();
    lost_approvers(ledger, &lost, validated, out)
}

/// Says which unsigned approvals a merge may have credited to the wrong agent, and the one
/// command that fixes each.
fn lost_approvers(
    ledger: &crate::core::ledger::Ledger,
    lost: &[super::approve::Lost],
    validated: &str,
    out: &mut impl Write,
) -> Result<(), CliError> {
    // A signature is the lasting fix; without any key in the ledger, an approval committed
    // on the validated branch itself keeps its author.
    let keys = ledger.agents.iter().any(|a| {
        a.keys
            .iter()
            .any(|k| crate::core::validation::is_ssh_key(k))
    });
    for l in lost {
        let (short, subject, email) = &l.commit;
        let credited = match &l.counts_for {
            Some(agent) => format!("it counts for {agent}"),
            None => "so it does not count".to_owned(),
        };
        writeln!(
            out,
            "  approval {} of {}: the approver is lost: it is credited to <{email}>, author of commit {short} \"{}\" that added it, which is not the `ovn approve` commit of {} (a squash or rebase merge); {credited}",
            l.approval,
            l.record,
            crate::core::render::visible(subject),
            l.record,
        )?;
        if !l.named.is_empty() {
            writeln!(
                out,
                "    that commit's message names {} as an author of what it squashed",
                l.named
                    .iter()
                    .map(|e| format!("<{e}>"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        let fix = if keys {
            format!("ovn approve --sign {}", l.record)
        } else {
            format!("git switch {validated} && ovn approve {}", l.record)
        };
        writeln!(out, "    fix: the approver runs `{fix}`")?;
    }
    Ok(())
}

/// What each changed record is, in a few words (contributions as `ovn log` describes them).
fn summaries(
    changes: &[crate::store::Change],
    network: Option<&Network>,
) -> HashMap<String, String> {
    let mut files: Vec<RawFile> = changes
        .iter()
        .filter_map(|c| {
            c.bytes.as_ref().map(|b| RawFile {
                path: c.path.clone(),
                bytes: b.clone(),
            })
        })
        .collect();
    if let Some(n) = network
        && !files.iter().any(|f| f.path == NETWORK_FILE)
    {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes: crate::core::write::network(n).into_bytes(),
        });
    }
    let loaded = ops::load::files(&files);
    let l = loaded.ledger();
    let currency = network.map_or("", |n| n.currency.as_str());
    let mut out = HashMap::new();
    for c in &l.contributions {
        let mut text = super::log::summary(c, currency);
        if let Some(r) = &c.reverses {
            text = format!("reverses {}: {}", r.value, c.description);
        } else if let Some(s) = &c.supersedes {
            text.push_str(&format!(" (supersedes {})", s.value));
        }
        out.insert(l.path(c.file).to_owned(), text);
    }
    for a in &l.agents {
        out.insert(
            l.path(a.file).to_owned(),
            format!("agent {} ({})", a.id.value, a.name),
        );
    }
    for p in &l.projects {
        out.insert(
            l.path(p.file).to_owned(),
            format!("project {} ({})", p.id.value, p.name),
        );
    }
    for r in &l.resources {
        out.insert(
            l.path(r.file).to_owned(),
            format!(
                "resource {} ({}, {})",
                r.id.value,
                r.name,
                r.ownership.as_str()
            ),
        );
    }
    for a in &l.agreements {
        out.insert(
            l.path(a.file).to_owned(),
            format!("agreement {} ({})", a.id.value, a.name),
        );
    }
    out
}
