//! `ovn import csv|timeclock|timedot FILE`: contributions from a spreadsheet or a time
//! tracker, in one commit.
//!
//! The rows are read and checked by the pure [`crate::core::import`] and written by
//! [`crate::ops::import`] (one transaction, judged like every write: one commit holding every
//! new record, or nothing). This module reads the file (bounded), the flags and the header,
//! and prints the answer: what was imported, what a dry run would write, or every bad row as
//! `FILE:ROW:COLUMN`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::import::{self, MAX_BYTES, RowError};
use crate::core::value::Id;
use crate::core::vfimport::{self, NodeError};
use crate::ops;
use crate::ops::import::{Answer, Rows, Stop};

/// Import contributions from other tools, in one commit.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[allow(missing_docs)]
    #[command(subcommand)]
    pub format: ImportFormat,
}

/// What to import.
#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    #[allow(missing_docs)]
    Csv(CsvArgs),
    /// Import work from hledger's timeclock format: `i DATE TIME PROJECT  DESCRIPTION` then
    /// `o DATE TIME`, one contribution per pair.
    ///
    /// Each clock-in/clock-out pair is AGENT's work on PROJECT on the clock-in date, its hours
    /// the time between (minutes kept as hours rounded to 4 places), its description the text
    /// after two spaces (or "time on PROJECT"). Checked, written in one commit and idempotent
    /// as `ovn import csv` is.
    Timeclock(TimeArgs),
    /// Import work from hledger's timedot format: a date line, then `PROJECT  QUANTITY` lines.
    ///
    /// A quantity is dots (each a quarter of an hour; spaces ignored) or hours (1.5, 1.5h,
    /// 90m). Each entry line is AGENT's work on PROJECT that day, described by the text after
    /// the date (or "time on PROJECT"). Checked, written in one commit and idempotent as `ovn
    /// import csv` is.
    Timedot(TimeArgs),
    #[allow(missing_docs)]
    Valueflows(VfArgs),
}

/// Import agents, projects, resources and contributions from a ValueFlows JSON-LD file.
///
/// Reads what `ovn export valueflows` writes, JSON-LD in the shape of the ValueFlows
/// examples (a @graph of vf: terms, or bare terms under an @vocab), and the JSON answer of a
/// ValueFlows GraphQL server such as hREA ({"data": {"economicEvents": {"edges": ...}}}).
/// Persons and organizations become agents (an organization that receives events, or that
/// our export classifies as one, a project), economic resources resources, economic events
/// contributions (work, use, transfers of money or material, citations), an event that
/// vf:corrects another a reversal. Records keep the ids of our own export (so export,
/// import and export again give the same document when the ledger sets the same base_uri);
/// other tools' records get ids derived from theirs. Claims follow from events; processes,
/// plans, payouts, approvals and agreements the ledger lacks are left out, and said so.
///
/// Every bad node is reported as FILE: JSON-PATH: message (e.g. @graph[12].vf:hasBeginning),
/// then all new records are judged together by the checks of ovn check: if anything is bad,
/// nothing is written. All new records are written in ONE commit; records already in the
/// ledger are left as they are, so importing the same file again adds nothing. At most
/// 16 MiB and 500000 nodes.
// The brackets above are a JSON path's, shown as they are by `--help`, not doc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn export valueflows > ledger.jsonld       then, in another ledger:
  ovn import valueflows ledger.jsonld --dry-run
  ovn import valueflows hrea-events.json      an hREA GraphQL answer

Exit status: 0 success, 1 a node or the resulting ledger has problems, 2 usage error,
3 environment error.")]
pub struct VfArgs {
    /// The JSON-LD (or GraphQL JSON) file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Show what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The arguments of the time formats.
#[derive(Debug, Args)]
pub struct TimeArgs {
    /// The file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Whose time it is
    #[arg(short, long, value_name = "AGENT")]
    pub agent: String,

    /// Show what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Import contributions from a CSV file (a spreadsheet, a time tracker's export).
///
/// The first row is the header. Columns are found by name: date, agent, description
/// (required), project, kind (default work), hours (2.5, 2h30m or 1:30), amount, currency,
/// quantity, unit, resource, skill, evidence (links separated by spaces); other columns are
/// ignored, and --column FIELD=NAME maps a column of another name. --from toggl|clockify|
/// harvest maps the columns of that tracker's detailed CSV export (Toggl's Email, Project,
/// Description, Start date and Duration; Clockify's Email, Project, Description, Start Date
/// and Duration (decimal), with the workspace's date format set to YYYY-MM-DD; Harvest's
/// First Name and Last Name, Project, Notes, Date and Hours). An agent is found by its id, an
/// email or its name, a project by its id or its name; hours may be H:MM:SS. Each row is checked as
/// `ovn log` checks its flags, then all records are judged together by the checks of ovn
/// check. Every bad row is reported as FILE:ROW:COLUMN: message (ROW is the file's line), and
/// if any row is bad nothing is written (exit status 1).
///
/// All new records are written in ONE commit. A row's id is derived from its content, so
/// importing the same file again adds nothing (identical rows in one file are kept apart by
/// their order). At most 50000 rows and 16 MiB.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn import csv hours.csv --dry-run          show what would be written
  ovn import csv toggl.csv --column agent=User --column hours=Duration -p drone
  ovn import csv Toggl_time_entries.csv --from toggl

Exit status: 0 success, 1 a row or the resulting ledger has problems, 2 usage error,
3 environment error.")]
pub struct CsvArgs {
    /// The CSV file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Map a column: FIELD=NAME takes FIELD (date, agent, hours, ...) from the column NAME
    /// (NAME may join columns: "First Name+Last Name")
    #[arg(long = "column", value_name = "FIELD=NAME")]
    pub columns: Vec<String>,

    /// Read a time tracker's detailed CSV export as it is: toggl, clockify or harvest
    #[arg(long, value_name = "TRACKER")]
    pub from: Option<String>,

    /// The project of rows that name none
    #[arg(short, long, value_name = "PROJECT")]
    pub project: Option<String>,

    /// Show what would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `ovn import`.
pub fn run(
    args: ImportArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match args.format {
        ImportFormat::Csv(args) => csv(args, cwd, ctx, out),
        ImportFormat::Timeclock(args) => time(args, import::timeclock, cwd, ctx, out),
        ImportFormat::Timedot(args) => time(args, import::timedot, cwd, ctx, out),
        ImportFormat::Valueflows(args) => valueflows(args, cwd, ctx, out),
    }
}

/// `ovn import valueflows`: the document read ([`vfimport::read`]), then written by
/// [`ops::import::valueflows`].
fn valueflows(
    args: VfArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let name = args.file.display().to_string();
    let text = read_file(&args.file, "JSON")?;
    let graph = vfimport::read(&text).map_err(|e| nodes_error(&name, &e))?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    let answer = ops::import::valueflows(
        &store,
        &options,
        &name,
        &graph,
        args.dry_run,
        super::log::summary,
    )
    .map_err(|stop| match stop {
        Stop::Nodes(errors) => nodes_error(&name, &errors),
        stop => stopped(stop),
    })?;
    let mut err = std::io::stderr().lock();
    for note in &graph.left_out {
        let _ = writeln!(err, "note: left out {note}");
    }
    answered(answer, out)
}

/// Every bad node as `FILE: PATH: message` on standard error, then the error.
fn nodes_error(name: &str, errors: &[NodeError]) -> CliError {
    let mut err = std::io::stderr().lock();
    for e in errors {
        match e.path.as_str() {
            "" => writeln!(err, "{name}: {}", e.message),
            path => writeln!(err, "{name}: {path}: {}", e.message),
        }
        .ok();
    }
    let n = errors.len();
    CliError::problems(
        format!(
            "nothing written: {n} problem{} in {name}",
            if n == 1 { "" } else { "s" }
        ),
        None,
    )
}

/// `ovn import timeclock|timedot`: the file's entries as rows, then as `ovn import csv`.
fn time(
    args: TimeArgs,
    parse: import::TimeReader,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let name = args.file.display().to_string();
    let text = read_file(&args.file, "CSV")?;
    let agent = writing::parse_id("--agent", &args.agent)?;
    let entries = parse(&text, agent.as_str()).map_err(|e| rows_error(&name, &e))?;
    let header: Vec<String> = import::TIME_HEADER.iter().map(|s| s.to_string()).collect();
    let map = import::mapping(&header, &[], true).map_err(|e| CliError::usage(e, None))?;
    let mut columns = HashMap::new();
    let rows = entries
        .into_iter()
        .map(|(line, cells, cols)| {
            columns.insert(line, cols);
            (line, cells)
        })
        .collect();
    let input = Rows {
        name,
        rows,
        map,
        project: None,
        dry_run: args.dry_run,
    };
    write_rows(&input, &columns, cwd, ctx, out)
}

/// Reads FILE whole, refusing more than [`MAX_BYTES`] or text that is not UTF-8 (`what` the
/// file should be saved as).
fn read_file(path: &Path, what: &str) -> Result<String, CliError> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::environment(format!("cannot read {shown}: {e}"), None))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::environment(format!("cannot read {shown}: {e}"), None))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(CliError::usage(
            format!("{shown} is larger than {} MiB", MAX_BYTES >> 20),
            Some("split the file".to_owned()),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        CliError::usage(
            format!(
                "{shown} is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to() + 1
            ),
            Some(format!("save the file as UTF-8 {what}")),
        )
    })
}

fn overrides(columns: &[String]) -> Result<Vec<(String, String)>, CliError> {
    columns
        .iter()
        .map(|c| match c.split_once('=') {
            Some((f, n)) => Ok((f.trim().to_owned(), n.trim().to_owned())),
            None => Err(CliError::usage(
                format!("--column {c:?} is not FIELD=NAME"),
                Some("e.g. --column hours=Duration".to_owned()),
            )),
        })
        .collect()
}

/// `ovn import csv`: the file's header and rows, mapped, then written by [`write_rows`].
fn csv(args: CsvArgs, cwd: &Path, ctx: &Context, out: &mut impl Write) -> Result<u8, CliError> {
    let name = args.file.display().to_string();
    // A tracker's mapping first, so that --column can change any of it.
    let mut mapped: Vec<(String, String)> = match args.from.as_deref() {
        None => Vec::new(),
        Some(from) => import::preset(&from.to_ascii_lowercase())
            .ok_or_else(|| {
                CliError::usage(
                    format!("--from {from:?} is not a time tracker ovn knows"),
                    Some(format!("known: {}", import::PRESETS.join(", "))),
                )
            })?
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect(),
    };
    mapped.extend(overrides(&args.columns)?);
    let text = read_file(&args.file, "CSV")?;
    let project = args
        .project
        .as_deref()
        .map(|p| writing::parse_id("--project", p))
        .transpose()?;
    let mut rows = import::parse_csv(&text).map_err(|e| rows_error(&name, &[e]))?;
    if rows.is_empty() {
        return Err(CliError::usage(format!("{name} is empty"), None));
    }
    let mut data = rows.split_off(1);
    let mut header = rows.remove(0).1;
    import::join_columns(&mut header, &mut data, &mapped);
    let map = import::mapping(&header, &mapped, args.from.is_none())
        .map_err(|e| CliError::usage(format!("{name}: {e}"), None))?;
    let input = Rows {
        name,
        rows: data,
        map,
        project,
        dry_run: args.dry_run,
    };
    write_rows(&input, &Default::default(), cwd, ctx, out)
}

/// Writes the rows ([`ops::import::rows`]) and says what happened. `columns` holds, for
/// rows made from a time file, each cell's column in its line (for errors).
fn write_rows(
    input: &Rows,
    columns: &HashMap<usize, Vec<usize>>,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, false)?;
    match ops::import::rows(&store, &options, input, super::log::summary) {
        Ok(answer) => answered(answer, out),
        Err(Stop::Rows(mut errors)) => {
            // Rows made from a time file: the column in the line, not in the made row.
            for e in &mut errors {
                if let Some(cols) = columns.get(&e.row) {
                    e.column = e
                        .column
                        .checked_sub(1)
                        .and_then(|c| cols.get(c))
                        .copied()
                        .unwrap_or(0);
                }
            }
            Err(rows_error(&input.name, &errors))
        }
        Err(stop) => Err(stopped(stop)),
    }
}

/// Prints what an import did.
fn answered(answer: Answer, out: &mut impl Write) -> Result<u8, CliError> {
    match answer {
        Answer::Imported(head, outcome) => {
            // One line, not the paths of thousands of files (the commit lists them).
            let commit = match (&outcome.commit, &outcome.branch) {
                (Some(c), Some(b)) => format!("commit {} on {b}", &c.to_string()[..12]),
                (Some(c), None) => format!("commit {}", &c.to_string()[..12]),
                (None, _) => "not committed".to_owned(),
            };
            writeln!(out, "Imported {head}, {commit}")?;
        }
        Answer::Nothing(head) => writeln!(out, "Nothing to import: {head}")?,
        Answer::DryRun(head, lines) => {
            writeln!(out, "Would import {head}:")?;
            for l in lines {
                writeln!(out, "  {l}")?;
            }
        }
    }
    Ok(EXIT_OK)
}

/// The error for an import that wrote nothing (bad rows are the format's to show).
fn stopped(stop: Stop) -> CliError {
    match stop {
        Stop::Failed(e) => e.into(),
        Stop::Unknown(kind, text, known) => {
            let ids: Vec<&str> = known.iter().map(Id::as_str).collect();
            writing::unknown_among(kind, &text, &ids)
        }
        Stop::Rows(errors) => rows_error("", &errors),
        Stop::Nodes(errors) => nodes_error("", &errors),
        Stop::Problems(lines, problems, files) => {
            // Say which record each problem file comes from, then show the problems.
            let mut err = std::io::stderr().lock();
            for line in &lines {
                let _ = writeln!(err, "{line}");
            }
            writing::refuse(Refusal::Problems(problems, files))
        }
    }
}

/// Every bad row as `FILE:ROW:COLUMN: message` on standard error, then the error.
fn rows_error(name: &str, errors: &[RowError]) -> CliError {
    let mut err = std::io::stderr().lock();
    let mut errors = errors.to_vec();
    errors.sort_by_key(|e| (e.row, e.column));
    for e in &errors {
        let _ = writeln!(err, "{name}:{}:{}: {}", e.row, e.column, e.message);
    }
    let n = errors.len();
    CliError::problems(
        format!(
            "nothing written: {n} problem{} in {name}",
            if n == 1 { "" } else { "s" }
        ),
        None,
    )
}
