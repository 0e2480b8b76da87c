//! `ovn agent`: manage agents (people and organisations).
//!
//! Only argument checks live here (an email is an address, given once); the write itself is
//! `super::writing::add_record`, shared with `project` and `resource`, so every record a
//! command adds is judged by the checks of `ovn check` and committed the same way. The one
//! rule that needs the ledger (an email belongs to one agent only) runs inside that write.
//!
//! `show` and `list` read the named records at one revision and print them through
//! [`super::render::records`], with the other kinds' (see `super::agreement::show_record`).

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};

use super::agreement::{self, ListArgs, ShowArgs};
use super::render::records;
use super::writing;
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::leave;
use crate::core::ledger::{Loaded, RecordType};
use crate::core::record::{Agent, AgentKind, At};
use crate::core::render;
use crate::core::value::Id;
use crate::core::write;

/// Manage the ledger's agents: the people and organisations who contribute and receive.
///
/// An agent is a file agents/ID.toml. Its emails map git identities to the agent: the author
/// of a commit, and the contributor `ovn log` records by default.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agent add ana --name \"Ana Lima\" --email ana@fablab.example
  ovn agent add fablab-fund --name \"Fablab infrastructure fund\" --kind organization")]
pub struct AgentArgs {
    /// What to do
    #[command(subcommand)]
    pub command: AgentCommand,
}

/// `ovn agent` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    #[allow(missing_docs)]
    Add(AgentAddArgs),
    /// Show an agent: its name, kind, emails, keys and joining day, and what it stewards and owns.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn agent show ana
  ovn agent show ana --format json")]
    Show(ShowArgs),
    /// List the agents: id, name, kind, emails and joining day.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn agent list
  ovn agent list --format csv > agents.csv")]
    List(ListArgs),
    #[allow(missing_docs)]
    Edit(AgentEditArgs),
    #[allow(missing_docs)]
    Leave(AgentLeaveArgs),
    #[allow(missing_docs)]
    Rejoin(AgentRejoinArgs),
}

/// Add an agent: write agents/ID.toml and commit it.
///
/// The id is the agent's short, permanent name in the ledger (lowercase letters, digits, `-`
/// and `_`, such as ana or fablab-fund); the display name defaults to it. Each --email maps a
/// git identity (git config user.email) to the agent; an email can belong to one agent only.
/// The record is judged by the checks of ovn check before anything is written, and committed
/// alone on the current branch as "agent: add ID (NAME)".
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agent add ana --name \"Ana Lima\" --email ana@fablab.example
  ovn agent add dee --email dee@fablab.example --email dee@home.example --joined today
  ovn agent add fablab-fund --name \"Fablab infrastructure fund\" --kind organization")]
pub struct AgentAddArgs {
    /// The agent's id, such as ana
    #[arg(value_name = "ID")]
    pub id: String,

    /// Display name [default: the id]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// A git identity of the agent (git config user.email); repeat for more
    #[arg(long, value_name = "EMAIL")]
    pub email: Vec<String>,

    /// A person, an organization (a group, fund or company) or a network (a member network
    /// whose ledger lives in its own repository)
    #[arg(long, value_enum, default_value_t = KindArg::Person, value_name = "KIND")]
    pub kind: KindArg,

    /// For a network: where its ledger lives, a URL or a path (documentation only: ovn
    /// never reads it from here)
    #[arg(long, value_name = "URL")]
    pub ledger: Option<String>,

    /// An SSH or GPG public key of the agent, for signed approvals; repeat for more
    #[arg(long, value_name = "KEY")]
    pub key: Vec<String>,

    /// When the agent joined the network: YYYY-MM-DD, today or yesterday
    #[arg(long, value_name = "DATE")]
    pub joined: Option<String>,

    /// Write the record file but do not commit it
    #[arg(long)]
    pub no_commit: bool,
}

/// Edit an agent: change agents/ID.toml and commit it.
///
/// Agents are not contributions: their file is edited in place, and `ovn check --history`
/// accepts the change. A change of emails or keys is a governance change: under a policy
/// that asks for approvals it takes effect once made (authored) by the agent itself or a
/// steward, as `ovn review` and `ovn check --history` judge it. The edit is judged by the
/// checks of ovn check, refused when it changes nothing, and committed alone as
/// "agent: edit ID (CHANGES)". The file is written in the layout ovn writes (comments in a
/// hand-written file are not kept; the command says so).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agent edit ana --add-email ana@home.example
  ovn agent edit ana --name \"Ana M. Lima\" --remove-email ana@old.example
  ovn agent edit fablab-fund --kind organization
  ovn agent edit repair-cafe --ledger https://git.example/repair-cafe/ledger.git")]
pub struct AgentEditArgs {
    /// The agent's id
    #[arg(value_name = "ID")]
    pub id: String,

    /// A new display name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// A person, an organization or a network
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<KindArg>,

    /// Add a git identity; repeat for more
    #[arg(long, value_name = "EMAIL")]
    pub add_email: Vec<String>,

    /// Remove a git identity; repeat for more
    #[arg(long, value_name = "EMAIL")]
    pub remove_email: Vec<String>,

    /// Add an SSH or GPG public key; repeat for more
    #[arg(long, value_name = "KEY")]
    pub add_key: Vec<String>,

    /// Remove a key (as written in the record); repeat for more
    #[arg(long, value_name = "KEY")]
    pub remove_key: Vec<String>,

    /// When the agent joined: YYYY-MM-DD, today or yesterday
    #[arg(long, value_name = "DATE")]
    pub joined: Option<String>,

    /// For an agent of kind network: where its ledger lives, a URL or a path (documentation
    /// only: ovn never reads it from here)
    #[arg(long, value_name = "URL", conflicts_with = "no_ledger")]
    pub ledger: Option<String>,

    /// Remove the agent's ledger location
    #[arg(long)]
    pub no_ledger: bool,
}

/// Record that an agent left the network: a [[departures]] entry in agents/ID.toml.
///
/// From --date on, the agent contributes nothing (ovn log refuses it, ovn check reports it)
/// until it rejoins. Payouts dated after --date apply the leaver terms of the project's
/// agreement ([leaving.good] or [leaving.bad], see ovn-ledger(5)) to the equity claims the
/// agent made before leaving: kept, forfeited or bought back at a factor, per contribution
/// kind; debts (money and materials to reimburse) are always repaid in full. A departure is
/// a governance change: ovn review shows it and its payout impact. Refused: an agent that has
/// not rejoined since it last left, a date before its last return, and work it already logged
/// on or after --date. The edit is judged by the checks of ovn check and committed alone as
/// "agent: leave ID (REASON leaver on DATE)".
// The brackets above are TOML's tables, shown as they are by `--help`, not doc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agent leave ben --date 2026-03-01 --reason good --note \"moved abroad\"
  ovn agent leave cy --date 2026-03-01 --reason bad --dry-run")]
pub struct AgentLeaveArgs {
    /// The agent's id (a unique prefix will do)
    #[arg(value_name = "ID")]
    pub id: String,

    /// The day it left: YYYY-MM-DD, today or yesterday
    #[arg(long, value_name = "DATE")]
    pub date: String,

    /// A good leaver (the agreement's [leaving.good] terms) or a bad one ([leaving.bad])
    #[arg(long, value_enum, value_name = "REASON")]
    pub reason: ReasonArg,

    /// Why, in a few words
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Print the record as it would be written, judge it, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Record that an agent who left came back: `rejoined` on its last departure.
///
/// Contributions dated from --date on count again; what the departure forfeited stays
/// forfeited. Committed alone as "agent: rejoin ID (on DATE)".
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agent rejoin ben --date 2026-06-01")]
pub struct AgentRejoinArgs {
    /// The agent's id (a unique prefix will do)
    #[arg(value_name = "ID")]
    pub id: String,

    /// The day it came back: YYYY-MM-DD, today or yesterday (on or after the day it left)
    #[arg(long, value_name = "DATE")]
    pub date: String,

    /// Print the record as it would be written, judge it, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Leaver reasons on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReasonArg {
    /// Left on good terms: the agreement's [leaving.good] terms apply
    Good,
    /// Left on bad terms: the agreement's [leaving.bad] terms apply
    Bad,
}

/// Agent kinds on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A human
    Person,
    /// A group, fund or company
    Organization,
    /// A member network whose ledger lives in its own repository
    Network,
}

/// Runs `ovn agent`.
pub fn run(
    args: AgentArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match args.command {
        AgentCommand::Add(add) => run_add(add, cwd, ctx, out),
        AgentCommand::Show(show) => agreement::show_record(
            show,
            cwd,
            ctx,
            out,
            RecordType::Agent,
            |l, id| l.agents.iter().find(|r| r.id.value.as_str() == id),
            records::agent_human,
            records::agent_json,
        ),
        AgentCommand::List(list) => {
            agreement::list_records(list, cwd, ctx, out, records::agents, "ovn agent add ID")
        }
        AgentCommand::Edit(edit) => run_edit(edit, cwd, ctx, out),
        AgentCommand::Leave(leave) => run_leave(leave, cwd, ctx, out),
        AgentCommand::Rejoin(rejoin) => run_rejoin(rejoin, cwd, ctx, out),
    }
}

fn run_add(
    args: AgentAddArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let (id, name) = writing::id_and_name("agent id", &args.id, args.name.as_deref())?;
    let mut emails: Vec<String> = Vec::new();
    for e in &args.email {
        let e = email("--email", e)?;
        if !emails.iter().any(|x| x.eq_ignore_ascii_case(&e)) {
            emails.push(e);
        }
    }
    let keys = args
        .key
        .iter()
        .map(|k| writing::text("--key", k))
        .collect::<Result<Vec<_>, _>>()?;
    let today = ctx.now.date_naive();
    let joined = args
        .joined
        .as_deref()
        .map(|j| writing::date("--joined", j, today))
        .transpose()?;
    let kind = kind(args.kind);
    let ledger = args
        .ledger
        .as_deref()
        .map(|l| writing::text("--ledger", l))
        .transpose()?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let (outcome, summary) =
        writing::add_record(&store, &options, RecordType::Agent, &id, |loaded| {
            emails_free(loaded, &emails, None)?;
            let agent = Agent {
                file: 0,
                id: At::new(id.clone()),
                name: name.clone(),
                kind,
                emails: emails.iter().cloned().map(At::new).collect(),
                keys: keys.clone(),
                joined,
                ledger: ledger.clone(),
                departures: Vec::new(),
            };
            Ok((write::agent(&agent), format!("{id} ({name})")))
        })?;
    writing::report(out, &format!("Added agent {summary}"), &outcome)?;
    Ok(EXIT_OK)
}

fn kind(arg: KindArg) -> AgentKind {
    match arg {
        KindArg::Person => AgentKind::Person,
        KindArg::Organization => AgentKind::Organization,
        KindArg::Network => AgentKind::Network,
    }
}

/// An email given to `flag`, or why it is none.
fn email(flag: &str, text: &str) -> Result<String, CliError> {
    let e = writing::text(flag, text)?;
    if !e.contains('@') || e.chars().any(char::is_whitespace) {
        return Err(CliError::usage(
            format!("{flag} {:?} is not an email address", render::one_line(&e)),
            Some("give the address git uses: git config user.email".to_owned()),
        ));
    }
    Ok(e)
}

/// Refuses an email another agent than `except` already has: an email maps a git identity
/// to one agent.
fn emails_free(loaded: &Loaded, emails: &[String], except: Option<&Id>) -> Result<(), CliError> {
    for e in emails {
        if let Some(owner) = loaded.ledger.agents.iter().find(|a| {
            Some(&a.id.value) != except && a.emails.iter().any(|x| x.value.eq_ignore_ascii_case(e))
        }) {
            return Err(CliError::usage(
                format!("email {e} already belongs to agent `{}`", owner.id.value),
                Some("an email maps a git identity to exactly one agent".to_owned()),
            ));
        }
    }
    Ok(())
}

/// `ovn agent edit`: every flag read and checked, then one edit ([`writing::edit_record`]).
///
/// About a hundred lines: one short step per flag (read, then applied in the edit), in the
/// order of the flags.
fn run_edit(
    args: AgentEditArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let name = args
        .name
        .as_deref()
        .map(|n| writing::text("--name", n))
        .transpose()?;
    let add = |flag: &str, v: &[String]| -> Result<Vec<String>, CliError> {
        v.iter().map(|e| email(flag, e)).collect()
    };
    let add_email = add("--add-email", &args.add_email)?;
    let remove_email = add("--remove-email", &args.remove_email)?;
    let keys = |flag: &str, v: &[String]| -> Result<Vec<String>, CliError> {
        v.iter().map(|k| writing::text(flag, k)).collect()
    };
    let add_key = keys("--add-key", &args.add_key)?;
    let remove_key = keys("--remove-key", &args.remove_key)?;
    let joined = args
        .joined
        .as_deref()
        .map(|j| writing::date("--joined", j, ctx.now.date_naive()))
        .transpose()?;
    let ledger = args
        .ledger
        .as_deref()
        .map(|l| writing::text("--ledger", l))
        .transpose()?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    let edited = writing::edit_record(
        &store,
        &options,
        RecordType::Agent,
        &args.id,
        |l, id| l.agents.iter().find(|a| a.id.value.as_str() == id),
        |loaded, a: &mut Agent| {
            let mut changes = Vec::new();
            if let Some(n) = &name
                && *n != a.name
            {
                changes.push(format!("name {:?}", n));
                a.name.clone_from(n);
            }
            if let Some(k) = args.kind.map(kind)
                && k != a.kind
            {
                changes.push(format!("kind {}", k.as_str()));
                a.kind = k;
            }
            let mut emails: Vec<String> = a.emails.iter().map(|e| e.value.clone()).collect();
            changes.extend(writing::add_remove(
                &mut emails,
                &add_email,
                &remove_email,
                |x, y| x.eq_ignore_ascii_case(y),
                |e| render::escaped(e),
                "email",
            )?);
            emails_free(loaded, &add_email, Some(&a.id.value))?;
            a.emails = emails.into_iter().map(At::new).collect();
            changes.extend(writing::add_remove(
                &mut a.keys,
                &add_key,
                &remove_key,
                |x, y| x.trim() == y.trim(),
                |k| render::one_line(k.split_whitespace().next().unwrap_or(k)),
                "key",
            )?);
            if let Some(j) = joined
                && Some(j) != a.joined
            {
                changes.push(format!("joined {j}"));
                a.joined = Some(j);
            }
            if let Some(l) = &ledger
                && Some(l) != a.ledger.as_ref()
            {
                // Only a member network has a ledger of its own.
                if a.kind != AgentKind::Network {
                    return Err(CliError::usage(
                        format!(
                            "--ledger is where a member network's ledger lives, and {} is of kind {}",
                            a.id.value,
                            a.kind.as_str()
                        ),
                        Some("add --kind network if it is a network".to_owned()),
                    ));
                }
                changes.push(format!("ledger {}", render::one_line(l)));
                a.ledger = Some(l.clone());
            }
            if args.no_ledger && a.ledger.take().is_some() {
                changes.push("ledger removed".to_owned());
            }
            Ok(changes)
        },
        write::agent,
    )?;
    writing::report_edit(out, "agent", &edited)?;
    Ok(EXIT_OK)
}

/// `ovn agent leave`: a departure appended to the agent's record, refused while the agent is
/// still away from an earlier one or when it would come before its last return.
fn run_leave(
    args: AgentLeaveArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let date = writing::date("--date", &args.date, ctx.now.date_naive())?;
    let note = args
        .note
        .as_deref()
        .map(|n| writing::text("--note", n))
        .transpose()?;
    let reason = match args.reason {
        ReasonArg::Good => leave::Reason::Good,
        ReasonArg::Bad => leave::Reason::Bad,
    };
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    // Judged against every contribution: work already logged on or after --date is refused
    // (the after-leaving check), rather than left for `ovn check` to find.
    let how = writing::EditAs {
        verb: "leave",
        dry_run: args.dry_run,
        folders: &["contributions"],
    };
    let edit = writing::edit_record_as(
        &store,
        &options,
        RecordType::Agent,
        &args.id,
        |l, id| l.agents.iter().find(|a| a.id.value.as_str() == id),
        |_, a: &mut Agent| {
            if let Some(d) = leave::still_away(&a.departures) {
                return Err(CliError::usage(
                    format!(
                        "agent `{}` already left on {} and has not rejoined",
                        a.id.value, d.left.value
                    ),
                    Some(format!(
                        "record the return first: ovn agent rejoin {} --date DATE",
                        a.id.value
                    )),
                ));
            }
            if let Some(back) = a.departures.last().and_then(|d| d.rejoined.as_ref())
                && date < back.value
            {
                return Err(CliError::usage(
                    format!(
                        "--date {date} is before agent `{}` rejoined ({})",
                        a.id.value, back.value
                    ),
                    Some("a departure comes after the return from the last one".to_owned()),
                ));
            }
            a.departures.push(leave::Departure {
                left: At::new(date),
                reason,
                note: note.clone(),
                rejoined: None,
            });
            Ok(vec![format!("{} leaver on {date}", reason.as_str())])
        },
        write::agent,
        how,
    )?;
    report_departure(out, "left", edit)
}

/// `ovn agent rejoin`: `rejoined` set on the agent's open departure.
fn run_rejoin(
    args: AgentRejoinArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let date = writing::date("--date", &args.date, ctx.now.date_naive())?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    let how = writing::EditAs {
        verb: "rejoin",
        dry_run: args.dry_run,
        folders: &[],
    };
    let edit = writing::edit_record_as(
        &store,
        &options,
        RecordType::Agent,
        &args.id,
        |l, id| l.agents.iter().find(|a| a.id.value.as_str() == id),
        |_, a: &mut Agent| {
            let id = a.id.value.clone();
            let Some(d) = a.departures.last_mut().filter(|d| d.rejoined.is_none()) else {
                return Err(CliError::usage(
                    format!("agent `{id}` has not left, so it cannot rejoin"),
                    Some(format!(
                        "record a departure with: ovn agent leave {id} --date DATE --reason good|bad"
                    )),
                ));
            };
            if date < d.left.value {
                return Err(CliError::usage(
                    format!(
                        "--date {date} is before agent `{id}` left ({})",
                        d.left.value
                    ),
                    Some("an agent rejoins on or after the day it left".to_owned()),
                ));
            }
            d.rejoined = Some(At::new(date));
            Ok(vec![format!("on {date}")])
        },
        write::agent,
        how,
    )?;
    report_departure(out, "rejoined", edit)
}

/// Reports a departure or a return: the commit, or for a dry run the record it would write.
fn report_departure(out: &mut impl Write, done: &str, edit: writing::Edit) -> Result<u8, CliError> {
    match edit {
        writing::Edit::Done(edited) => {
            let what = format!("Agent {done}: {}", edited.summary);
            writing::report(out, &what, &edited.outcome)?;
        }
        writing::Edit::Dry(files) => {
            for (path, text) in &files.files {
                writeln!(out, "# {path} (dry run: nothing written)")?;
                write!(out, "{text}")?;
            }
        }
    }
    Ok(EXIT_OK)
}
