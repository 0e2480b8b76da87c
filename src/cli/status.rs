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

use clap::{Args, ValueEnum};

use super::{CliError, EXIT_OK};
use crate::core::ledger::{NETWORK_FILE, RawFile};
use crate::core::record::Network;
use crate::core::validation::Status;
use crate::ops;
use crate::store::ResolvedRev;

/// Show what is pending review and which record files are not committed.
///
/// Pending review is what the current branch has that the network's validated branch
/// (validated_branch in ovn.toml; its local branch, or else its upstream such as origin/main)
/// has not: the record files added, changed or removed since the two branches parted, with
/// what each contribution records. Merging the branch into the validated branch is what
/// validates them. Like git status, it says how the current branch stands against its
/// upstream (commits not pushed yet, commits to pull), and when a merge, rebase, cherry-pick
/// or revert stopped half-way. Below that, the ledger files in the working tree or index that
/// are not committed (asked of the `git` program when the index is split, `core.splitIndex`,
/// which libgit2 cannot read). ovn status never writes anything, not even the cache (it reads
/// what other commands kept there; --no-cache reads only git). When an ovn write was killed
/// half-way, it says what that write left and that `ovn recover` finishes it.
///
/// When the network asks for approvals (`[validation]` in ovn.toml), it also lists the
/// contributions on the validated branch that still await them (they do not count in payouts
/// yet), and the approvals that do not count: self-approvals, approvals of a record edited
/// since, approvals added by an email no agent lists, signatures that do not verify, an
/// agent's second approval of a record. It also says which unsigned approvals a squash or
/// rebase merge credited to the merger instead of the approver, with the command that
/// fixes each (a signed approval by the approver: `ovn approve --sign ID`).
///
/// --format json prints one object: `branch` and `head` (its commit id); `upstream`, the
/// current branch's (`{"ref", "commit", "ahead", "behind"}`: commits here not there, and
/// there not here) or null; `validated` (`{"branch"` as ovn.toml names it, `"ref"` read,
/// `"commit"`, `"upstream"` shaped as above, or null`}`) or null; `in_progress` (`merge`,
/// `rebase`, `cherry-pick`, `revert`, `git operation`) or null; `pending` (`{"ahead",
/// "behind"` against the validated branch, `"changes": [{"kind", "path", "about"}]}`);
/// `awaiting_approval` (`[{"id", "about", "why"}]`, null when the network asks for no
/// approvals or its ledger has problems); `void_approvals` (`[{"approval", "record",
/// "why"}]`); `interrupted` (`{"branch", "commit", "landed", "paths"}`) or null; and
/// `uncommitted` (`[{"state", "path"}]`). Counts are JSON numbers.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  git switch -c ana-week-47 && ovn log 2h \"Routed the motor board\" && ovn status")]
pub struct StatusArgs {
    /// How to print it
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,

    /// List every entry of every list. Without it, sentences show the first 20 of each list
    /// (files pending review, contributions awaiting approval, approvals that do not count,
    /// lost approvers, uncommitted files) and say how many more there are; JSON always
    /// lists them all
    #[arg(long)]
    pub all: bool,
}

/// How many entries of each list the sentences show without `--all`: a ledger pull request,
/// an import or a new approval policy can make lists of thousands, where a person asking
/// "where am I?" wants the count and a few examples.
const SHOWN: usize = 20;

/// The entries of `list` to print, and how many are left out.
fn shown<T>(list: &[T], all: bool) -> (&[T], usize) {
    match list.get(..SHOWN) {
        Some(first) if !all && list.len() > SHOWN => (first, list.len() - SHOWN),
        _ => (list, 0),
    }
}

/// Says how many entries were left out of a list, and how to see them.
fn more(left: usize, out: &mut impl Write) -> Result<(), CliError> {
    if left > 0 {
        writeln!(
            out,
            "  … and {left} more (`ovn status --all` lists them all)"
        )?;
    }
    Ok(())
}

/// Output formats of `ovn status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// sentences and indented lists
    Human,
    /// one JSON object (see the description)
    Json,
}

/// Everything `ovn status` says, gathered before it is printed in either format.
struct Report {
    pending: crate::store::Pending,
    /// The validated branch's name in `ovn.toml`.
    validated: String,
    found: Option<ops::branch::Validated>,
    head: Option<crate::store::Oid>,
    /// The current branch's upstream and its commits ahead and behind it.
    upstream: Option<(crate::store::Upstream, usize, usize)>,
    /// Whether the repository has any remote (a branch without upstream is then unpushed).
    remotes: bool,
    in_progress: Option<crate::store::InProgress>,
    summaries: HashMap<String, String>,
    /// `None` when the network asks for no approvals.
    awaiting: Option<Awaiting>,
    interrupted: Option<crate::store::Interrupted>,
    uncommitted: Vec<crate::store::Uncommitted>,
}

/// Runs `ovn status`.
pub fn run(
    args: StatusArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let mut store = super::open(cwd, ctx)?;
    // Status writes nothing, not even the cache (its answers would be kept for nothing), but
    // reads the folders other commands kept there (at a million records, half its time).
    store.set_cache_writes(false);
    // Sentences describe only the contributions they show (a million `about`s would be made
    // to print twenty); JSON describes every one.
    let described = if args.all || args.format == Format::Json {
        usize::MAX
    } else {
        SHOWN
    };
    let report = gather(&store, described)?;
    match args.format {
        Format::Human => human(&report, args.all, out)?,
        Format::Json => json(&report, out)?,
    }
    Ok(EXIT_OK)
}

/// Reads everything the status says. What is not committed is asked of the working tree
/// (libgit2's walk of it, or `git status` when the index is split: a second or more at a
/// million files) on another thread, through its own repository handle, while the ledger at
/// the validated branch is read and judged on this one.
fn gather(store: &crate::store::Store, described: usize) -> Result<Report, CliError> {
    let Ok(other) = store.reopen() else {
        let mut report = judged(store, described)?;
        report.uncommitted = store.uncommitted()?;
        return Ok(report);
    };
    let (report, uncommitted) = std::thread::scope(|scope| {
        let listing = scope.spawn(move || other.uncommitted());
        let report = judged(store, described);
        (report, listing.join())
    });
    let mut report = report?;
    report.uncommitted = match uncommitted {
        Ok(listed) => listed?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    Ok(report)
}

/// Everything the status says but the uncommitted files.
fn judged(store: &crate::store::Store, described: usize) -> Result<Report, CliError> {
    // The same settings, and so the same validated branch, as every other command reads.
    let network = ops::branch::settings(store);
    let validated = ops::branch::name(store);
    let found = match ops::branch::find(store) {
        Ok(found) => Some(found),
        Err(ops::Error::Usage { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let pending = store.pending(found.as_ref().map(|f| &f.rev))?;
    let head = store.resolve("HEAD").ok().map(|c| c.id());
    let upstream = match (&pending.branch, head) {
        (Some(b), Some(head)) => match store.upstream(b) {
            Some(up) => {
                let (ahead, behind) = store.ahead_behind(head, up.commit)?;
                Some((up, ahead, behind))
            }
            None => None,
        },
        _ => None,
    };
    let summaries = summaries(&pending.changes, network.as_ref());
    let mut awaiting_approval = None;
    if let Some(v) = found.as_ref().map(|f| &f.rev) {
        // The rules in force: a policy change not validated does not apply.
        let rules = crate::ops::rules::rules(store, v.commit())?;
        let policy = rules
            .as_ref()
            .and_then(|r| r.network.as_ref())
            .or(network.as_ref());
        if policy.is_some_and(|n| n.validation.approvals > 0) {
            awaiting_approval = Some(awaiting(store, v, rules.as_ref(), described)?);
        }
    }
    Ok(Report {
        validated,
        found,
        head,
        upstream,
        remotes: store.has_remotes(),
        in_progress: store.in_progress(),
        summaries,
        awaiting: awaiting_approval,
        interrupted: store.interrupted(),
        uncommitted: Vec::new(),
        pending,
    })
}

/// The status in sentences.
fn human(r: &Report, all: bool, out: &mut impl Write) -> Result<(), CliError> {
    let (pending, validated) = (&r.pending, &r.validated);
    let here = match &pending.branch {
        Some(b) => format!("On branch {b}"),
        None => "On a detached HEAD".to_owned(),
    };
    let s = |n: usize| if n == 1 { "" } else { "s" };
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
                let (changes, left) = shown(&pending.changes, all);
                let width = changes
                    .iter()
                    .map(|c| escaped(&c.path).chars().count())
                    .max()
                    .unwrap_or(0);
                for c in changes {
                    let about = r
                        .summaries
                        .get(c.path.as_str())
                        .cloned()
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "  {:<7} {:<width$}  {}",
                        c.kind.as_str(),
                        escaped(&c.path),
                        one_line(&about)
                    )?;
                }
                more(left, out)?;
            }
        }
    }
    upstream(r, out)?;
    if let Some(op) = r.in_progress {
        in_progress(op, out)?;
    }
    if let (Some(a), Some(v)) = (&r.awaiting, &r.found) {
        awaiting_human(a, v.rev.name(), all, out)?;
    }
    if let Some(i) = &r.interrupted {
        interrupted(i, out)?;
    }
    if r.uncommitted.is_empty() {
        writeln!(out, "No uncommitted ledger files.")?;
    } else {
        writeln!(out, "Not committed:")?;
        let (uncommitted, left) = shown(&r.uncommitted, all);
        for u in uncommitted {
            writeln!(out, "  {:<10} {}", u.state, escaped(&u.path))?;
        }
        more(left, out)?;
        unstaged_advice(&r.uncommitted, out)?;
    }
    Ok(())
}

/// How the current branch stands against its upstream, as git says it (nothing for a
/// repository without remotes, or a detached HEAD).
fn upstream(r: &Report, out: &mut impl Write) -> Result<(), CliError> {
    let commits = |n: usize| format!("{n} commit{}", if n == 1 { "" } else { "s" });
    match (&r.upstream, &r.pending.branch) {
        (Some((up, 0, 0)), _) => writeln!(out, "Up to date with {}.", up.name)?,
        (Some((up, ahead, 0)), _) => writeln!(
            out,
            "Ahead of {} by {}: not pushed yet (`git push`).",
            up.name,
            commits(*ahead)
        )?,
        (Some((up, 0, behind)), _) => writeln!(
            out,
            "Behind {} by {} (`git pull` to update).",
            up.name,
            commits(*behind)
        )?,
        (Some((up, ahead, behind)), _) => writeln!(
            out,
            "Diverged from {}: {} only here, {} only there (`git pull` to reconcile).",
            up.name,
            commits(*ahead),
            commits(*behind)
        )?,
        (None, Some(b)) if r.remotes => writeln!(
            out,
            "Branch {b} has no upstream: not pushed yet (`git push -u origin {b}`)."
        )?,
        (None, _) => {}
    }
    Ok(())
}

/// A git operation stopped half-way: ovn reads commits, so what it holds is not read yet.
fn in_progress(op: crate::store::InProgress, out: &mut impl Write) -> Result<(), CliError> {
    use crate::store::InProgress;
    let next = match op {
        InProgress::Merge => {
            "finish it with `git commit`, or abort it with `git merge --abort`".to_owned()
        }
        InProgress::Other => "`git status` says which and how to finish it".to_owned(),
        op => format!(
            "finish it with `git {0} --continue`, or abort it with `git {0} --abort`",
            op.as_str()
        ),
    };
    writeln!(
        out,
        "A {} is in progress: ovn reads committed records only; {next}.",
        op.as_str()
    )?;
    Ok(())
}

/// The status as one JSON object (the shape is in `ovn status --help`).
fn json(r: &Report, out: &mut impl Write) -> Result<(), CliError> {
    use serde_json::{Value, json};
    let n = |n: usize| Value::from(n);
    let upstream = r.upstream.as_ref().map(|(up, ahead, behind)| {
        json!({"ref": up.name, "commit": up.commit.to_string(), "ahead": n(*ahead), "behind": n(*behind)})
    });
    let validated = r.found.as_ref().map(|f| {
        let up = f.upstream.as_ref().map(|up| {
            let (ahead, behind) = f.ahead_behind.unwrap_or((0, 0));
            json!({"ref": up.name, "commit": up.commit.to_string(), "ahead": n(ahead), "behind": n(behind)})
        });
        json!({
            "branch": f.branch,
            "ref": f.rev.name(),
            "commit": f.rev.id(),
            "upstream": up,
        })
    });
    let changes: Vec<Change<'_>> = r
        .pending
        .changes
        .iter()
        .map(|c| Change {
            about: r.summaries.get(c.path.as_str()).map_or("", String::as_str),
            kind: c.kind.as_str(),
            path: &c.path,
        })
        .collect();
    let (awaiting, voids) = match &r.awaiting {
        Some(Awaiting::Judged { waiting, voids, .. }) => (
            Some(waiting.as_slice()),
            voids
                .iter()
                .map(|(approval, record, why)| json!({"approval": approval, "record": record, "why": why}))
                .collect(),
        ),
        _ => (None, Vec::new()),
    };
    let interrupted = r.interrupted.as_ref().map(|i| {
        json!({"branch": i.branch, "commit": i.commit.to_string(), "landed": i.landed, "paths": i.paths})
    });
    let uncommitted: Vec<Unlisted<'_>> = r
        .uncommitted
        .iter()
        .map(|u| Unlisted {
            path: &u.path,
            state: u.state,
        })
        .collect();
    let status = Json {
        awaiting_approval: awaiting,
        branch: r.pending.branch.as_deref(),
        head: r.head.map(|h| h.to_string()),
        in_progress: r.in_progress.map(|op| op.as_str()),
        interrupted,
        pending: Pending {
            ahead: r.pending.ahead,
            behind: r.pending.behind,
            changes,
        },
        uncommitted,
        upstream,
        validated,
        void_approvals: voids,
    };
    // Written as it is serialised: a list of a million entries is not first built as a tree
    // of JSON values, then as one string.
    serde_json::to_writer_pretty(&mut *out, &status).map_err(std::io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

/// `ovn status --format json`. Every object's members are declared in the order of their
/// names, as `serde_json` writes a map's (the output is the same as when it was one).
#[derive(serde::Serialize)]
struct Json<'a> {
    awaiting_approval: Option<&'a [Waiting]>,
    branch: Option<&'a str>,
    head: Option<String>,
    in_progress: Option<&'static str>,
    interrupted: Option<serde_json::Value>,
    pending: Pending<'a>,
    uncommitted: Vec<Unlisted<'a>>,
    upstream: Option<serde_json::Value>,
    validated: Option<serde_json::Value>,
    void_approvals: Vec<serde_json::Value>,
}

/// `pending` in [`Json`].
#[derive(serde::Serialize)]
struct Pending<'a> {
    ahead: usize,
    behind: usize,
    changes: Vec<Change<'a>>,
}

/// One of `pending.changes` in [`Json`].
#[derive(serde::Serialize)]
struct Change<'a> {
    about: &'a str,
    kind: &'a str,
    path: &'a str,
}

/// One of `uncommitted` in [`Json`].
#[derive(serde::Serialize)]
struct Unlisted<'a> {
    path: &'a str,
    state: &'a str,
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

/// A contribution on the validated branch that awaits approval (its members in the order of
/// their names, as `--format json` writes them).
#[derive(serde::Serialize)]
struct Waiting {
    about: String,
    id: String,
    why: String,
}

/// What validation says of the validated branch, when the network asks for approvals.
enum Awaiting {
    /// Its ledger has problems: validation cannot be judged.
    Problems,
    /// The contributions that await approval, the approvals that do not count (approval,
    /// record, why) and the approvals whose approver a merge may have lost.
    Judged {
        /// The first of them, as many as were asked to be described.
        waiting: Vec<Waiting>,
        /// How many more await approval.
        unlisted: usize,
        voids: Vec<(String, String, String)>,
        lost: Vec<crate::ops::approvals::Lost>,
        /// Whether any agent has an SSH key (the fix for a lost approver is then a signature).
        keys: bool,
    },
}

/// With a policy that asks for approvals: the contributions on the validated branch that
/// still await them (the first `described` described, the others counted), and the
/// approvals that do not count.
fn awaiting(
    store: &crate::store::Store,
    rev: &ResolvedRev,
    rules: Option<&crate::core::ledger::Ledger>,
    described: usize,
) -> Result<Awaiting, CliError> {
    let loaded = ops::load::whole(store, rev)?;
    if loaded.diagnostics.iter().any(|d| d.code.stops_payouts()) {
        return Ok(Awaiting::Problems);
    }
    let in_force = rules.map(|r| crate::ops::rules::applied(&loaded.ledger, r));
    let ledger = in_force.as_ref().unwrap_or(&loaded.ledger);
    let (statuses, voids, lost) =
        crate::ops::approvals::statuses_and_lost(store, &rev.id(), ledger)?;
    let currency = ledger.network.as_ref().map_or("", |n| n.currency.as_str());
    let mut waiting = Vec::new();
    let mut unlisted = 0;
    for c in &ledger.contributions {
        if let Some(s @ Status::AwaitingApproval { .. }) = statuses.get(&c.id.value) {
            if waiting.len() < described {
                waiting.push(Waiting {
                    id: c.id.value.to_string(),
                    about: super::log::summary(c, currency),
                    why: s.text(),
                });
            } else {
                unlisted += 1;
            }
        }
    }
    let voids = voids
        .iter()
        .map(|v| (v.approval.to_string(), v.record.to_string(), v.why.text()))
        .collect();
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
    // A signature is the lasting fix; without any key in the ledger, an approval committed
    // on the validated branch itself keeps its author.
    let keys = ledger.agents.iter().any(|a| {
        a.keys
            .iter()
            .any(|k| crate::core::validation::is_ssh_key(k))
    });
    Ok(Awaiting::Judged {
        waiting,
        unlisted,
        voids,
        lost,
        keys,
    })
}

/// [`Awaiting`] in sentences.
fn awaiting_human(
    a: &Awaiting,
    validated: &str,
    all: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let (waiting, unlisted, voids, lost, keys) = match a {
        Awaiting::Problems => {
            writeln!(
                out,
                "The ledger on {validated} has problems (run `ovn check --at {validated}`), so validation cannot be judged."
            )?;
            return Ok(());
        }
        Awaiting::Judged {
            waiting,
            unlisted,
            voids,
            lost,
            keys,
        } => (waiting, *unlisted, voids, lost, *keys),
    };
    if waiting.is_empty() {
        writeln!(out, "Every contribution on {validated} is validated.")?;
    } else {
        let n = waiting.len() + unlisted;
        writeln!(
            out,
            "{n} contribution{} on {validated} await{} approval (they do not count yet):",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )?;
        // Only those shown were described (every one with --all); the rest are counted.
        for w in waiting {
            writeln!(out, "  {}  {}  {}", w.id, w.about, w.why)?;
        }
        more(unlisted, out)?;
    }
    let (voids, left) = shown(voids, all);
    for (approval, record, why) in voids {
        writeln!(
            out,
            "  approval {approval} of {record} does not count: {why}"
        )?;
    }
    more(left, out)?;
    let (lost, left) = shown(lost, all);
    lost_approvers(keys, lost, validated, out)?;
    more(left, out)
}

/// Says which unsigned approvals a merge may have credited to the wrong agent, and the one
/// command that fixes each.
fn lost_approvers(
    keys: bool,
    lost: &[crate::ops::approvals::Lost],
    validated: &str,
    out: &mut impl Write,
) -> Result<(), CliError> {
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
        if let Some(r) = c.reverses() {
            text = format!("reverses {}: {}", r.value, c.description);
        } else if let Some(s) = c.supersedes() {
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
