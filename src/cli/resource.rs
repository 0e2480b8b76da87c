//! `ovn resource`: manage resources (peer property).
//!
//! The ownership is worked out from the arguments here (none, one or several owners whose
//! shares must make 100%, a positive use rate) so a mistake is named by its flag; the record
//! is written by `super::writing::add_record`, shared with `agent` and `project`, judged by
//! the checks of `ovn check` (owners and stewards are agents) before one commit adds it.
//!
//! `show` and `list` read the named records at one revision and print them through
//! [`super::render::records`], with the other kinds' (see `super::agreement::show_record`).

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;

use super::agreement::{self, ListArgs, ShowArgs};
use super::render::records;
use super::writing;
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::RecordType;
use crate::core::parse::{PERCENT_SCALE, RATE_SCALE};
use crate::core::record::{At, Owner, Ownership, Resource};
use crate::core::value::{Percent, parse_decimal_text};
use crate::core::write;

/// Manage the ledger's resources: equipment, space and designs used by projects.
///
/// A resource is a file resources/ID.toml: commons (held in trust by the network), pooled
/// (co-owned in stated shares) or individual (titled to one agent). Use of a resource is
/// logged with `ovn log --use RESOURCE`, and its claim goes to the owners.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ovn resource add printer --name \"Prusa MK4\" --ownership pooled --owner ana=50% --owner cy=50% --use-rate 8")]
pub struct ResourceArgs {
    /// What to do
    #[command(subcommand)]
    pub command: ResourceCommand,
}

/// `ovn resource` subcommands.
#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    #[allow(missing_docs)]
    Add(ResourceAddArgs),
    /// Show a resource: its name, ownership, owners and shares, stewards and use rate.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn resource show printer
  ovn resource show printer --format json")]
    Show(ShowArgs),
    /// List the resources: id, name, ownership, owners, stewards and use rate.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn resource list
  ovn resource list --format csv > resources.csv")]
    List(ListArgs),
    #[allow(missing_docs)]
    Edit(ResourceEditArgs),
}

/// Add a resource: write resources/ID.toml and commit it.
///
/// Ownership is commons (no owners), pooled (owners with shares summing to 100%) or
/// individual (one owner). Without --ownership it follows from the owners: none is commons,
/// one is individual, several are pooled. Owners and stewards must be agents of the ledger.
/// The record is judged by the checks of ovn check before anything is written, and committed
/// alone on the current branch as "resource: add ID (NAME, OWNERSHIP)".
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn resource add printer --name \"Prusa MK4\" --ownership pooled --owner ana=50% --owner cy=50% --use-rate 8
  ovn resource add lathe --name \"Wood lathe\" --owner ben --use-rate 5
  ovn resource add lab-space --name \"Lab space\" --ownership commons --steward cy")]
pub struct ResourceAddArgs {
    /// The resource's id, such as printer
    #[arg(value_name = "ID")]
    pub id: String,

    /// Display name [default: the id]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// How the resource is held [default: from the owners]
    #[arg(long, value_enum, value_name = "OWNERSHIP")]
    pub ownership: Option<OwnershipArg>,

    /// An owner and their share, such as ana=50% (the share may be left out for an individual owner); repeat for more
    #[arg(long, value_name = "AGENT=SHARE")]
    pub owner: Vec<String>,

    /// An agent who looks after the resource; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub steward: Vec<String>,

    /// The value of one hour of use, such as 8
    #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
    pub use_rate: Option<String>,

    /// Write the record file but do not commit it
    #[arg(long)]
    pub no_commit: bool,
}

/// Edit a resource: change resources/ID.toml and commit it.
///
/// Resources are not contributions: their file is edited in place, and `ovn check
/// --history` accepts the change. Owners are given whole: --owner (repeated) replaces the
/// owners and their shares, checked as in `ovn resource add`, with --ownership or the
/// ownership they imply. The edit is judged by the checks of ovn check, refused when it
/// changes nothing, and committed alone as "resource: edit ID (CHANGES)". The file is
/// written in the layout ovn writes (comments in a hand-written file are not kept; the
/// command says so). Claims of past use follow the owners as they are when a payout is
/// computed.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn resource edit printer --use-rate 9.50
  ovn resource edit printer --owner ana=60% --owner cy=40%
  ovn resource edit lathe --add-steward cy --name \"Wood lathe (big)\"")]
pub struct ResourceEditArgs {
    /// The resource's id
    #[arg(value_name = "ID")]
    pub id: String,

    /// A new display name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// How the resource is held [default: as it is, or from --owner]
    #[arg(long, value_enum, value_name = "OWNERSHIP")]
    pub ownership: Option<OwnershipArg>,

    /// The owners and shares, all of them, such as ana=50%; repeat for more
    #[arg(long, value_name = "AGENT=SHARE")]
    pub owner: Vec<String>,

    /// Add a steward; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub add_steward: Vec<String>,

    /// Remove a steward; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub remove_steward: Vec<String>,

    /// The value of one hour of use, such as 8
    #[arg(
        long,
        value_name = "RATE",
        allow_hyphen_values = true,
        conflicts_with = "no_use_rate"
    )]
    pub use_rate: Option<String>,

    /// The resource has no use rate
    #[arg(long)]
    pub no_use_rate: bool,
}

/// Ownership on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OwnershipArg {
    /// Held in trust by the network; no owners
    Commons,
    /// Co-owned by several agents in stated shares
    Pooled,
    /// Titled to one agent
    Individual,
}

/// Runs `ovn resource`.
pub fn run(
    args: ResourceArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match args.command {
        ResourceCommand::Add(add) => run_add(add, cwd, ctx, out),
        ResourceCommand::Show(show) => agreement::show_record(
            show,
            cwd,
            ctx,
            out,
            RecordType::Resource,
            |l, id| l.resources.iter().find(|r| r.id.value.as_str() == id),
            records::resource_human,
            records::resource_json,
        ),
        ResourceCommand::List(list) => agreement::list_records(
            list,
            cwd,
            ctx,
            out,
            records::resources,
            "ovn resource add ID",
        ),
        ResourceCommand::Edit(edit) => run_edit(edit, cwd, ctx, out),
    }
}

/// `ovn resource add`: every flag is read and checked before the one transaction that
/// writes the record.
fn run_add(
    args: ResourceAddArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let (id, name) = writing::id_and_name("resource id", &args.id, args.name.as_deref())?;
    let owners = owners(&args.owner)?;
    let ownership = ownership(args.ownership, &owners)?;
    let use_rate = args.use_rate.as_deref().map(use_rate).transpose()?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let (outcome, summary) =
        writing::add_record(&store, &options, RecordType::Resource, &id, |loaded| {
            let mut resolved = Vec::new();
            for (agent, share) in &owners {
                let agent = writing::existing(loaded, RecordType::Agent, "--owner", agent)?;
                resolved.push(Owner {
                    agent: At::new(agent),
                    share: At::new(share.unwrap_or(Percent(Decimal::ONE_HUNDRED))),
                });
            }
            let stewards = writing::stewards(loaded, &args.steward)?;
            let resource = Resource {
                file: 0,
                id: At::new(id.clone()),
                name: name.clone(),
                ownership,
                owners: resolved,
                stewards: stewards.into_iter().map(At::new).collect(),
                use_rate,
            };
            Ok((
                write::resource(&resource),
                format!("{id} ({name}, {})", ownership.as_str()),
            ))
        })?;
    writing::report(out, &format!("Added resource {summary}"), &outcome)?;
    Ok(EXIT_OK)
}

/// The owners `--owner AGENT[=SHARE]` names, each once, as given.
fn owners(given: &[String]) -> Result<Vec<(String, Option<Percent>)>, CliError> {
    let mut owners: Vec<(String, Option<Percent>)> = Vec::new();
    for spec in given {
        let (agent, share) = match spec.split_once('=') {
            Some((a, s)) => (a.trim(), Some(share(spec, s)?)),
            None => (spec.trim(), None),
        };
        if owners.iter().any(|(a, _)| a == agent) {
            return Err(CliError::usage(
                format!("--owner {agent} is given twice"),
                None,
            ));
        }
        owners.push((agent.to_owned(), share));
    }
    Ok(owners)
}

/// The ownership `--ownership` says, or the one the owners imply (none: commons, one:
/// individual, several: pooled), checked against the owners and their shares.
fn ownership(
    asked: Option<OwnershipArg>,
    owners: &[(String, Option<Percent>)],
) -> Result<Ownership, CliError> {
    let ownership = match asked {
        Some(OwnershipArg::Commons) => Ownership::Commons,
        Some(OwnershipArg::Pooled) => Ownership::Pooled,
        Some(OwnershipArg::Individual) => Ownership::Individual,
        None => match owners.len() {
            0 => Ownership::Commons,
            1 => Ownership::Individual,
            _ => Ownership::Pooled,
        },
    };
    match ownership {
        Ownership::Commons if !owners.is_empty() => {
            return Err(CliError::usage(
                "a commons resource has no owners (it is held in trust by the network)",
                Some("leave out --owner, or say --ownership pooled or individual".to_owned()),
            ));
        }
        Ownership::Individual if owners.len() != 1 => {
            return Err(CliError::usage(
                "an individual resource has exactly one owner",
                Some("give one --owner AGENT, or say --ownership pooled for several".to_owned()),
            ));
        }
        Ownership::Pooled if owners.is_empty() => {
            return Err(CliError::usage(
                "a pooled resource needs its owners and their shares",
                Some("e.g. --owner ana=50% --owner cy=50%".to_owned()),
            ));
        }
        Ownership::Pooled => {
            if let Some((agent, _)) = owners.iter().find(|(_, s)| s.is_none()) {
                return Err(CliError::usage(
                    format!(
                        "--owner {agent} has no share; each owner of a pooled resource has one"
                    ),
                    Some(format!("e.g. --owner {agent}=50%")),
                ));
            }
            let total: Decimal = owners.iter().filter_map(|(_, s)| s.map(|s| s.0)).sum();
            if total != Decimal::ONE_HUNDRED {
                return Err(CliError::usage(
                    format!("the owners' shares sum to {}%, not 100%", total.normalize()),
                    None,
                ));
            }
        }
        _ => {}
    }
    Ok(ownership)
}

/// `--use-rate`: the value of one hour of use, more than zero.
fn use_rate(r: &str) -> Result<Decimal, CliError> {
    match parse_decimal_text(r.trim()) {
        Ok(v) if v > Decimal::ZERO && v.scale() <= RATE_SCALE => Ok(v),
        _ => Err(CliError::usage(
            format!("--use-rate {r:?} is not a number more than zero (at most 6 decimal places)"),
            Some(
                "the value of one hour of use, in the network's currency, such as 8 or 2.50"
                    .to_owned(),
            ),
        )),
    }
}

fn share(spec: &str, text: &str) -> Result<Percent, CliError> {
    let text = text.trim();
    let with_sign = if text.ends_with('%') {
        text.to_owned()
    } else {
        format!("{text}%")
    };
    match Percent::parse(&with_sign) {
        Ok(p)
            if p.0 > Decimal::ZERO
                && p.0 <= Decimal::ONE_HUNDRED
                && p.0.scale() <= PERCENT_SCALE =>
        {
            Ok(p)
        }
        _ => Err(CliError::usage(
            format!("--owner {spec:?}: the share is not a percent from 0 to 100"),
            Some("write AGENT=SHARE, such as ana=50%".to_owned()),
        )),
    }
}

/// `ovn resource edit`: flags read and checked as `add` checks them, then one edit
/// ([`writing::edit_record`]). Owners change only when --owner or --ownership is given.
fn run_edit(
    args: ResourceEditArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let name = args
        .name
        .as_deref()
        .map(|n| writing::text("--name", n))
        .transpose()?;
    let given = owners(&args.owner)?;
    let new_ownership = if args.owner.is_empty() && args.ownership.is_none() {
        None
    } else {
        Some(ownership(args.ownership, &given)?)
    };
    let rate = match (&args.use_rate, args.no_use_rate) {
        (Some(r), _) => Some(Some(use_rate(r)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    let edited = writing::edit_record(
        &store,
        &options,
        RecordType::Resource,
        &args.id,
        |l, id| l.resources.iter().find(|r| r.id.value.as_str() == id),
        |loaded, r: &mut Resource| {
            let mut changes = Vec::new();
            if let Some(n) = &name
                && *n != r.name
            {
                changes.push(format!("name {n:?}"));
                r.name.clone_from(n);
            }
            if let Some(o) = new_ownership {
                let mut resolved = Vec::new();
                for (agent, share) in &given {
                    let agent = writing::existing(loaded, RecordType::Agent, "--owner", agent)?;
                    resolved.push(Owner {
                        agent: At::new(agent),
                        share: At::new(share.unwrap_or(Percent(Decimal::ONE_HUNDRED))),
                    });
                }
                if o != r.ownership || resolved != r.owners {
                    let shown: Vec<String> = resolved
                        .iter()
                        .map(|x| format!("{}={}", x.agent.value, x.share.value))
                        .collect();
                    changes.push(if shown.is_empty() {
                        format!("{}, no owners", o.as_str())
                    } else {
                        format!("{}, owners {}", o.as_str(), shown.join(" "))
                    });
                    r.ownership = o;
                    r.owners = resolved;
                }
            }
            changes.extend(writing::edit_stewards(
                loaded,
                &mut r.stewards,
                &args.add_steward,
                &args.remove_steward,
            )?);
            if let Some(rate) = rate
                && rate != r.use_rate
            {
                changes.push(match rate {
                    Some(x) => format!("use rate {}", x.normalize()),
                    None => "no use rate".to_owned(),
                });
                r.use_rate = rate;
            }
            Ok(changes)
        },
        write::resource,
    )?;
    writing::report_edit(out, "resource", &edited)?;
    Ok(EXIT_OK)
}
