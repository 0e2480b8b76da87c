//! `ovn agreement`: write an agreement from a template, show one, list them.
//!
//! Agreements are the one record people write by hand: a value equation is a small program
//! the project agrees on. So `add` does not ask for buckets on the command line; it writes a
//! commented template ([`crate::core::template`]) that is a valid agreement as it stands, for
//! the user to edit, and commits it like every other write (`super::writing::write_files`:
//! judged by the checks of `ovn check`, one commit, nothing on refusal). With `--project` the
//! same commit makes the project use it. `show` and `list` read the small folders at one
//! revision ([`crate::ops::records`]) and print through [`super::render::records`].

use std::io::Write;
use std::path::Path;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, Subcommand};

use super::render::records::{self, ListFormat, ShowFormat};
use super::writing::{self, Files, Written};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::{Ledger, RecordType};
use crate::core::record::At;
use crate::core::template::{self, TEMPLATES};
use crate::core::write;
use crate::store::WriteOptions;

/// Manage the ledger's agreements: the value equations that share projects' revenue.
///
/// An agreement is a file agreements/ID.toml: an ordered list of buckets, each taking part
/// of a revenue and sharing it among the contributions its rules select (ovn-ledger(5),
/// AGREEMENTS). `ovn agreement add` writes one from a template for you to edit.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agreement add drone-ve --template sensorica
  ovn agreement list
  ovn agreement show drone-ve")]
pub struct AgreementArgs {
    /// What to do
    #[command(subcommand)]
    pub command: AgreementCommand,
}

/// `ovn agreement` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    #[allow(missing_docs)]
    Add(AgreementAddArgs),
    /// Show an agreement: its rates, its buckets in order with their rules, and the projects
    /// that use it.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn agreement show drone-ve
  ovn agreement show drone-ve --format json")]
    Show(ShowArgs),
    /// List the agreements: id, name, kind, number of buckets and the projects that use each.
    ///
    /// Reads what is committed on the current branch, or at --at REV.
    #[command(after_help = "\
Examples:
  ovn agreement list
  ovn agreement list --format csv > agreements.csv")]
    List(ListArgs),
}

/// Add an agreement from a template: write agreements/ID.toml and commit it.
///
/// The file is a commented value equation that passes ovn check as written: edit it to say
/// what the project agreed (rates, buckets, rules), check it with ovn check, and commit the
/// change. With --project the same commit makes that project use the new agreement (its
/// file is written again in the layout ovn writes). The record is judged by the checks of ovn check before anything is written, and committed on
/// the current branch as "agreement: add ID (NAME, template TEMPLATE)".
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn agreement add drone-ve --name \"Drone value equation\"
  ovn agreement add lab-ve --template sensorica --project lab
  ovn agreement add lab-ve --template sensorica --dry-run    print it, write nothing")]
pub struct AgreementAddArgs {
    /// The agreement's id, such as drone-ve
    #[arg(value_name = "ID")]
    pub id: String,

    /// The template to start from
    #[arg(long, value_name = "TEMPLATE", default_value = "simple", value_parser = templates())]
    pub template: String,

    /// Display name [default: the id]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// A project that is to use the agreement (its `agreement` is set in the same commit)
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,

    /// Print the agreement and write nothing
    #[arg(long, conflicts_with = "no_commit")]
    pub dry_run: bool,

    /// Write the files but do not commit them
    #[arg(long)]
    pub no_commit: bool,
}

/// The templates `--template` accepts, each with its line of help.
fn templates() -> PossibleValuesParser {
    PossibleValuesParser::new(
        TEMPLATES
            .iter()
            .map(|t| PossibleValue::new(t.name).help(t.about)),
    )
}

/// Show one record: `ovn agent|project|resource|agreement show` (each variant gives its own
/// help).
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The record's id
    #[arg(value_name = "ID")]
    pub id: String,

    /// How to print it
    #[arg(long, value_enum, default_value_t = ShowFormat::Human, value_name = "FORMAT")]
    pub format: ShowFormat,

    /// Read the ledger at this revision (a branch, tag or commit) [default: HEAD]
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,
}

/// List records of one kind: `ovn agent|project|resource|agreement list` (each variant gives
/// its own help).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// How to print them
    #[arg(long, value_enum, default_value_t = ListFormat::Table, value_name = "FORMAT")]
    pub format: ListFormat,

    /// Read the ledger at this revision (a branch, tag or commit) [default: HEAD]
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,
}

/// Runs `ovn agreement`.
pub fn run(
    args: AgreementArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match args.command {
        AgreementCommand::Add(add) => run_add(add, cwd, ctx, out),
        AgreementCommand::Show(show) => show_record(
            show,
            cwd,
            ctx,
            out,
            RecordType::Agreement,
            |l, id| l.agreements.iter().find(|a| a.id.value.as_str() == id),
            records::agreement_human,
            records::agreement_json,
        ),
        AgreementCommand::List(list) => list_records(
            list,
            cwd,
            ctx,
            out,
            records::agreements,
            "ovn agreement add ID",
        ),
    }
}

/// `ovn KIND show ID`: the record of `kind` that `find` finds, printed by `human` or
/// `json`; an unknown id is refused with a suggestion.
#[allow(clippy::too_many_arguments)]
pub(crate) fn show_record<R>(
    args: ShowArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
    kind: RecordType,
    find: impl for<'a> Fn(&'a Ledger, &str) -> Option<&'a R>,
    human: fn(&Ledger, &R) -> String,
    json: fn(&Ledger, &R) -> serde_json::Value,
) -> Result<u8, CliError> {
    let ledger = read(cwd, ctx, args.at.as_deref())?;
    // A unique prefix stands for the whole id.
    let ids = ledger.index.names(kind);
    let id = crate::ops::ids::resolve(kind.noun(), &args.id, ids)?.unwrap_or(args.id);
    let record = find(&ledger, &id).ok_or_else(|| unknown(&ledger, kind, &id))?;
    match args.format {
        ShowFormat::Human => write!(out, "{}", human(&ledger, record))?,
        ShowFormat::Json => records::print_json(out, &json(&ledger, record))?,
    }
    Ok(EXIT_OK)
}

/// `ovn KIND list`: the records `listing` lays out, in the format asked; `add` is the
/// command an empty table suggests.
pub(crate) fn list_records(
    args: ListArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
    listing: fn(&Ledger) -> records::Listing,
    add: &str,
) -> Result<u8, CliError> {
    let ledger = read(cwd, ctx, args.at.as_deref())?;
    records::print_list(out, &listing(&ledger), args.format, add)?;
    Ok(EXIT_OK)
}

/// The named records (agents, projects, resources, agreements) at `at`, or at the current
/// branch's commit: what the `show` and `list` commands of every kind read.
pub(crate) fn read(cwd: &Path, ctx: &Context, at: Option<&str>) -> Result<Ledger, CliError> {
    let store = super::open(cwd, ctx)?;
    let rev = store.resolve_rev(at.unwrap_or(crate::ops::records::DEFAULT_REV))?;
    Ok(crate::ops::records::at(&store, &rev)?.into_ledger())
}

/// The error for an id no record of `kind` has, with a suggestion (ids of a hostile ledger
/// are escaped before they are printed).
pub(crate) fn unknown(ledger: &Ledger, kind: RecordType, text: &str) -> CliError {
    let shown = crate::core::render::escaped(text);
    let ids: Vec<String> = ledger
        .index
        .names(kind)
        .map(crate::core::render::escaped)
        .collect();
    let noun = kind.noun();
    let hint = match crate::core::parse::suggest(text, ids.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`?"),
        None if ids.is_empty() => {
            format!("the ledger has no {noun} yet; add one with `ovn {noun} add ID`")
        }
        None => format!("list them with `ovn {noun} list`"),
    };
    CliError::usage(format!("unknown {noun} `{shown}`"), Some(hint))
}

fn run_add(
    args: AgreementAddArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let (id, name) = writing::id_and_name("agreement id", &args.id, args.name.as_deref())?;
    let template = template::find(&args.template).ok_or_else(|| {
        CliError::usage(format!("no template is called {:?}", args.template), None)
    })?;
    let text = template::render(template, &id, &name);
    let path = format!("{}/{id}.toml", RecordType::Agreement.folder());
    let store = writing::open_for_writing(cwd, ctx)?;
    // With --project, the project's file is replaced (its `agreement` set) in the same commit.
    let options = WriteOptions {
        replace: args.project.is_some(),
        ..writing::options(&store, ctx, args.no_commit)?
    };
    let written = writing::write_files(&store, &options, args.dry_run, |loaded| {
        if loaded
            .ledger
            .index
            .contains(RecordType::Agreement, id.as_str())
        {
            return Err(CliError::usage(
                format!("agreement `{id}` already exists ({path})"),
                Some("ids are never reused; choose another id, or edit the file".to_owned()),
            ));
        }
        let mut files = vec![(path.clone(), text.clone())];
        let mut summary = format!("{id} ({name}, template {})", template.name);
        if let Some(p) = args.project.as_deref() {
            let p = writing::existing(loaded, RecordType::Project, "--project", p)?;
            let Some(project) = loaded.ledger.projects.iter().find(|x| x.id.value == p) else {
                return Err(writing::unknown(loaded, RecordType::Project, p.as_str()));
            };
            let mut project = project.clone();
            let was = project.agreement.replace(At::new(id.clone()));
            files.push((
                loaded.ledger.path(project.file).to_owned(),
                write::project(&project),
            ));
            summary.push_str(&match was {
                Some(old) => format!(", for project {p} instead of {}", old.value),
                None => format!(", for project {p}"),
            });
        }
        Ok(Files {
            files,
            message: format!("agreement: add {summary}\n"),
            summary,
        })
    })?;
    match written {
        Written::Dry(files) => {
            write!(out, "{text}")?;
            let others: Vec<&str> = files
                .files
                .iter()
                .skip(1)
                .map(|(p, _)| p.as_str())
                .collect();
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(" and {}", others.join(", "))
            };
            let _ = writeln!(
                std::io::stderr(),
                "dry run: nothing written (would write {path}{also}: agreement {})",
                files.summary
            );
        }
        Written::Done(outcome, summary) => {
            writing::report(out, &format!("Added agreement {summary}"), &outcome)?;
            let _ = writeln!(
                std::io::stderr(),
                "hint: edit {path} to say what the project agreed, check it with `ovn check`, and commit the change"
            );
        }
    }
    Ok(EXIT_OK)
}
