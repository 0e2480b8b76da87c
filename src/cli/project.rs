//! `ovn project`: manage projects.
//!
//! Arguments only: the record is written by `super::writing::add_record`, shared with `agent`
//! and `resource`, which judges it with the checks of `ovn check` (an agreement that exists,
//! say) before one commit adds it.
//!
//! `show` and `list` read the named records at one revision and print them through
//! [`super::render::records`], with the other kinds' (see `super::agreement::show_record`).

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};

use super::agreement::{self, ListArgs, ShowArgs};
use super::render::records;
use super::writing;
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::RecordType;
use crate::core::record::{At, Project};
use crate::core::write;

/// Manage the ledger's projects: the ventures contributions are made to.
///
/// A project is a file projects/ID.toml; its agreement (a value equation in agreements/) says
/// how its revenue is shared.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ovn project add drone --name \"Open Drone\" --agreement drone-ve --steward ana")]
pub struct ProjectArgs {
    /// What to do
    #[command(subcommand)]
    pub command: ProjectCommand,
}

/// `ovn project` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    #[allow(missing_docs)]
    Add(ProjectAddArgs),
    /// Show a project: its name, agreement, parent, stewards and sub-projects.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn project show drone
  ovn project show drone --format json")]
    Show(ShowArgs),
    /// List the projects: id, name, agreement, parent and stewards.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn project list
  ovn project list --format json")]
    List(ListArgs),
    #[allow(missing_docs)]
    Edit(ProjectEditArgs),
}

/// Add a project: write projects/ID.toml and commit it.
///
/// The agreement, parent and stewards must exist (a near miss gets a suggestion). The record
/// is judged by the checks of ovn check before anything is written, and committed alone on
/// the current branch as "project: add ID (NAME)".
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn project add drone --name \"Open Drone\" --agreement drone-ve
  ovn project add drone-frame --name \"Drone frame\" --parent drone --steward ben")]
pub struct ProjectAddArgs {
    /// The project's id, such as drone
    #[arg(value_name = "ID")]
    pub id: String,

    /// Display name [default: the id]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The value equation that shares the project's revenue (an agreement id)
    #[arg(long, value_name = "AGREEMENT")]
    pub agreement: Option<String>,

    /// The project this one is part of
    #[arg(long, value_name = "PROJECT")]
    pub parent: Option<String>,

    /// An agent who looks after the project; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub steward: Vec<String>,

    /// Write the record file but do not commit it
    #[arg(long)]
    pub no_commit: bool,
}

/// Edit a project: change projects/ID.toml and commit it.
///
/// Projects are not contributions: their file is edited in place, and `ovn check --history`
/// accepts the change. A change of stewards is a governance change: under a policy that
/// asks for approvals it takes effect once made by a steward of the project as it was. The
/// edit is judged by the checks of ovn check (the agreement, parent and stewards must
/// exist), refused when it changes nothing, and committed alone as "project: edit ID
/// (CHANGES)". The file is written in the layout ovn writes (comments in a hand-written file
/// are not kept; the command says so).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn project edit drone --agreement drone-ve-2
  ovn project edit drone --add-steward cy --remove-steward ben
  ovn project edit frame --no-parent --name \"Drone frame\"")]
pub struct ProjectEditArgs {
    /// The project's id
    #[arg(value_name = "ID")]
    pub id: String,

    /// A new display name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The value equation that is to share the project's revenue (an agreement id)
    #[arg(long, value_name = "AGREEMENT", conflicts_with = "no_agreement")]
    pub agreement: Option<String>,

    /// The project no longer names an agreement
    #[arg(long)]
    pub no_agreement: bool,

    /// The project this one is part of
    #[arg(long, value_name = "PROJECT", conflicts_with = "no_parent")]
    pub parent: Option<String>,

    /// The project is part of no other
    #[arg(long)]
    pub no_parent: bool,

    /// Add a steward; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub add_steward: Vec<String>,

    /// Remove a steward; repeat for more
    #[arg(long, value_name = "AGENT")]
    pub remove_steward: Vec<String>,
}

/// Runs `ovn project`.
pub fn run(
    args: ProjectArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match args.command {
        ProjectCommand::Add(add) => run_add(add, cwd, ctx, out),
        ProjectCommand::Show(show) => agreement::show_record(
            show,
            cwd,
            ctx,
            out,
            RecordType::Project,
            |l, id| l.projects.iter().find(|r| r.id.value.as_str() == id),
            records::project_human,
            records::project_json,
        ),
        ProjectCommand::List(list) => {
            agreement::list_records(list, cwd, ctx, out, records::projects, "ovn project add ID")
        }
        ProjectCommand::Edit(edit) => run_edit(edit, cwd, ctx, out),
    }
}

fn run_add(
    args: ProjectAddArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let (id, name) = writing::id_and_name("project id", &args.id, args.name.as_deref())?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    // An agreement written by hand but not committed yet is the usual reason it is unknown:
    // the project is judged against what is committed, so say so rather than list the others.
    let uncommitted = match args.agreement.as_deref() {
        Some(a) => {
            let id = writing::parse_id("--agreement", a)?;
            let path = format!("agreements/{id}.toml");
            store.read_worktree_file(&path)?.map(|_| path)
        }
        None => None,
    };
    let (outcome, summary) = writing::add_record(
        &store,
        &options,
        RecordType::Project,
        &id,
        |loaded| {
            let agreement = args
                .agreement
                .as_deref()
                .map(|a| {
                    writing::existing(loaded, RecordType::Agreement, "--agreement", a).map_err(
                        |e| match &uncommitted {
                            Some(path) => CliError::usage(
                                format!("agreement `{a}` is not committed: {path} is only in the working tree"),
                                Some(format!(
                                    "commit it first (`git add {path} && git commit -m \"agreement {a}\"`), then add the project"
                                )),
                            ),
                            None => e,
                        },
                    )
                })
                .transpose()?;
            let parent = args
                .parent
                .as_deref()
                .map(|p| writing::existing(loaded, RecordType::Project, "--parent", p))
                .transpose()?;
            let stewards = writing::stewards(loaded, &args.steward)?;
            let project = Project {
                file: 0,
                id: At::new(id.clone()),
                name: name.clone(),
                agreement: agreement.map(At::new),
                parent: parent.map(At::new),
                stewards: stewards.into_iter().map(At::new).collect(),
            };
            Ok((write::project(&project), format!("{id} ({name})")))
        },
    )?;
    writing::report(out, &format!("Added project {summary}"), &outcome)?;
    Ok(EXIT_OK)
}

/// `ovn project edit`: the names given are checked against the ledger inside the one edit
/// ([`writing::edit_record`]).
fn run_edit(
    args: ProjectEditArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let name = args
        .name
        .as_deref()
        .map(|n| writing::text("--name", n))
        .transpose()?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    let edited = writing::edit_record(
        &store,
        &options,
        RecordType::Project,
        &args.id,
        |l, id| l.projects.iter().find(|p| p.id.value.as_str() == id),
        |loaded, p: &mut Project| {
            let mut changes = Vec::new();
            if let Some(n) = &name
                && *n != p.name
            {
                changes.push(format!("name {n:?}"));
                p.name.clone_from(n);
            }
            let agreement = match (&args.agreement, args.no_agreement) {
                (Some(a), _) => Some(Some(writing::existing(
                    loaded,
                    RecordType::Agreement,
                    "--agreement",
                    a,
                )?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            if let Some(a) = agreement
                && p.agreement.as_ref().map(|x| &x.value) != a.as_ref()
            {
                changes.push(match &a {
                    Some(a) => format!("agreement {a}"),
                    None => "no agreement".to_owned(),
                });
                p.agreement = a.map(At::new);
            }
            let parent = match (&args.parent, args.no_parent) {
                (Some(x), _) => Some(Some(writing::existing(
                    loaded,
                    RecordType::Project,
                    "--parent",
                    x,
                )?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            if let Some(x) = parent
                && p.parent.as_ref().map(|y| &y.value) != x.as_ref()
            {
                changes.push(match &x {
                    Some(x) => format!("parent {x}"),
                    None => "no parent".to_owned(),
                });
                p.parent = x.map(At::new);
            }
            changes.extend(writing::edit_stewards(
                loaded,
                &mut p.stewards,
                &args.add_steward,
                &args.remove_steward,
            )?);
            Ok(changes)
        },
        write::project,
    )?;
    writing::report_edit(out, "project", &edited)?;
    Ok(EXIT_OK)
}
