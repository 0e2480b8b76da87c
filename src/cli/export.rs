//! `ovn export`: the treasurer's books as an hledger or ledger journal or a beancount file,
//! recorded payouts as CSV or JSON, and contributions as ValueFlows JSON-LD; to standard
//! output, or atomically to a file.

use crate::context::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::report::{Common, Period, Projects, load_for_export};
use super::{CliError, EXIT_OK};
use crate::cache::CachedRead as _;
use crate::cache::{self, answers, key};
use crate::core::export;
use crate::core::export::parts::Assembled;
use crate::core::ledger::Ledger;
use crate::ops::load::Need;

/// Export recorded payouts (and contributions) for accounting, spreadsheets and other tools.
///
/// hledger, ledger and beancount: the treasurer's books, one balanced transaction per
/// record that moves value, in accounts documented in ovn-ledger(5) (ACCOUNTS). What a
/// member advanced (a debt claim) is owed to them from the day contributed
/// (liabilities:members:AGENT, against expenses:projects:PROJECT:KIND). A payout is income
/// of its project (income:projects:PROJECT), to be received (assets:receivable:PROJECT);
/// each line is owed to its agent until paid (liabilities:payable:AGENT) and is what it is:
/// a reimbursement settling liabilities:members:AGENT, a transfer to the network's reserve
/// (assets:reserve:FUND), a fee (expenses:fees:AGENT) or an equity distribution
/// (equity:distributions:AGENT). A payment recorded with `ovn pay` settles the payable from
/// `payment_account` (ovn.toml, default assets:bank). With --hours, hours too, in their own
/// commodity HOURS. Record ids are transaction codes (beancount: metadata, with the
/// agreement, the ledger commit and the digest). Accounts and commodities are declared, so
/// `hledger check --strict`, `ledger --pedantic` and `bean-check` accept the file as it is;
/// the treasurer books the cash coming in.
///
/// csv: one row per payout line, with stable columns
/// date,payout,project,agreement,memo,agent,bucket,amount,currency,commit (new columns only
/// ever go at the end). json: every field of the payout records.
///
/// valueflows: the ledger in ValueFlows 1.0 JSON-LD, for hREA, Bonfire and NRP-lineage
/// tools: agents, projects, resources and agreements; the contributions as economic events
/// (work, use provided by the resource's owners, transfer for money and material with their
/// quantities, cite) with their claims, evidence, approvals and corrections (vf:corrects,
/// negated quantities); recorded payouts as transfers settling claims. Ids start with
/// `base_uri` from ovn.toml (default: derived from the repository's first commit; see
/// ovn-ledger(5)), so two networks' graphs never collide.
///
/// Reads the validated branch, or --at REV. With -o FILE the export is written to a
/// temporary file next to FILE and renamed over it once complete, so FILE is never partial.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn export hledger -o payouts.journal && hledger -f payouts.journal balance
  ovn export ledger -o books.ledger && ledger --pedantic -f books.ledger balance
  ovn export beancount --hours -o books.beancount && bean-check books.beancount
  ovn export csv -p drone --since 2026-01-01          payment batch for a spreadsheet
  ovn export valueflows -o ledger.jsonld

Exit status: 0 success, 1 the ledger has problems, 2 usage error, 3 environment error
(including an output file that cannot be written).")]
pub struct ExportArgs {
    /// What to export
    #[arg(value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Write to FILE (atomically: a temporary file renamed over it) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also book each contribution's hours, in their own commodity HOURS (hledger, ledger
    /// and beancount): given to the project (expenses:hours:PROJECT:KIND) by the member
    /// (equity:hours:AGENT) or, for use, by the resource (equity:resources:RESOURCE)
    #[arg(long)]
    pub hours: bool,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub projects: Projects,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub period: Period,
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// an hledger journal: the treasurer's books (see ovn-ledger(5), ACCOUNTS)
    Hledger,
    /// a ledger-cli journal of the same books
    Ledger,
    /// a beancount file of the same books
    Beancount,
    /// one CSV row per payout line
    Csv,
    /// the payout records as JSON
    Json,
    /// the contributions as ValueFlows JSON-LD
    Valueflows,
}

/// Runs `ovn export`.
pub fn run(
    args: ExportArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let common = Common {
        projects: args.projects.clone(),
        agent: Vec::new(),
        period: args.period.clone(),
        format: super::report::Format::Table,
        chart: false,
    };
    if let Some(path) = &args.output {
        check_writable(path)?;
    }
    let books = matches!(
        args.format,
        ExportFormat::Hledger | ExportFormat::Ledger | ExportFormat::Beancount
    );
    if args.hours && !books {
        return Err(CliError::usage(
            "--hours books hours in the journals: hledger, ledger or beancount",
            None,
        ));
    }
    if args.format == ExportFormat::Valueflows {
        // Its day folders' parts are its cache (`cache::valueflows`): a stored answer would
        // write its gigabyte (at a million records) a second time, to save only the copy
        // of the parts the export is bounded by anyway.
        return export(&args, &common, cwd, ctx, args.output.as_deref(), out);
    }
    let Some(path) = &args.output else {
        // To standard output: through the answer cache, streamed both ways (a ValueFlows
        // export of a large ledger is never held whole).
        let question = if args.period.relative() {
            key::dated_question("export", &args, ctx.now.date_naive())
        } else {
            key::question("export", &args)
        };
        let at: Vec<&str> = args.period.at.as_deref().into_iter().collect();
        let (store, revs) = super::pins(cwd, ctx, &at);
        let revs: Vec<&str> = revs.iter().map(String::as_str).collect();
        return answers::stream(store.as_ref(), &question, &revs, out, |w| {
            export(&args, &common, cwd, ctx, None, w)
        });
    };
    export(&args, &common, cwd, ctx, Some(path), out)
}

/// Reads the ledger and writes the export of `args` to FILE (`path`) or `out`.
fn export(
    args: &ExportArgs,
    common: &Common,
    cwd: &Path,
    ctx: &Context,
    path: Option<&Path>,
    mut out: &mut dyn Write,
) -> Result<u8, CliError> {
    // CSV and JSON list the payout records and read no contribution: the verdict's quick
    // load (summaries standing for the day folders) holds all they read.
    // The journals are put together from kept parts, which a quick load (summaries, and the
    // corrections in full) is enough for.
    let need = match args.format {
        ExportFormat::Csv | ExportFormat::Json => Need::Checks,
        ExportFormat::Hledger | ExportFormat::Ledger | ExportFormat::Beancount => {
            Need::Projects(&[])
        }
        // Put together from kept parts too; a folder without one is rendered from the
        // ledger loaded in full.
        ExportFormat::Valueflows => Need::Projects(&[]),
    };
    // Should the cache be cold, its fill counts the books' or the document's parts as it goes.
    let beancount = args.format == ExportFormat::Beancount;
    let tally = |query: &crate::core::report::Query| match args.format {
        ExportFormat::Hledger | ExportFormat::Ledger | ExportFormat::Beancount => {
            Some(cache::books::tally(query, beancount, args.hours))
        }
        ExportFormat::Valueflows => Some(cache::valueflows::tally(query)),
        ExportFormat::Csv | ExportFormat::Json => None,
    };
    let (mut ledger, query, commit) = load_for_export(common, cwd, ctx, need, tally)?;
    let text = match args.format {
        ExportFormat::Hledger | ExportFormat::Ledger | ExportFormat::Beancount => {
            match books(cwd, ctx, &mut ledger, &query, &commit, args)? {
                Books::Parts(journal) => {
                    return emit(path, &mut out, |w| write_pieces(w, journal.pieces()));
                }
                Books::Whole(text) => text,
            }
        }
        ExportFormat::Csv => export::csv(&ledger, &query),
        ExportFormat::Json => pretty(&export::json(&ledger, &query, &commit)),
        ExportFormat::Valueflows => {
            return valueflows(cwd, ctx, &ledger, &query, &commit, path, &mut out);
        }
    };
    emit(path, &mut out, |w| w.write_all(text.as_bytes()))
}

/// Books, put together from parts or rendered whole.
enum Books {
    /// From kept parts, written piece by piece.
    Parts(Assembled),
    /// Rendered whole.
    Whole(String),
}

/// Writes `pieces` to `w` through a buffer (a journal comes in an entry at a time).
fn write_pieces<'a>(
    w: &mut dyn Write,
    pieces: impl Iterator<Item = &'a str>,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    for p in pieces {
        w.write_all(p.as_bytes())?;
    }
    w.flush()
}

/// The books of `args.format` (hledger, ledger or beancount) over `ledger` at `commit`:
/// from kept parts where they fit, else (loading the ledger in full when it was loaded
/// quickly) rendered whole, which also says why books cannot be written.
fn books(
    cwd: &Path,
    ctx: &Context,
    ledger: &mut Ledger,
    query: &crate::core::report::Query,
    commit: &str,
    args: &ExportArgs,
) -> Result<Books, CliError> {
    let dialect = match args.format {
        ExportFormat::Ledger => export::Dialect::Ledger,
        _ => export::Dialect::Hledger,
    };
    let beancount = args.format == ExportFormat::Beancount;
    let store = super::open(cwd, ctx)?;
    let parts =
        |l: &Ledger| cache::books::books(&store, commit, l, query, dialect, beancount, args.hours);
    if let Some(journal) = parts(ledger)? {
        return Ok(Books::Parts(journal));
    }
    if !ledger.elsewhere.folders.is_empty() {
        let (loaded, _) = store.load_revision(commit)?;
        *ledger = loaded.ledger;
        if let Some(journal) = parts(ledger)? {
            return Ok(Books::Parts(journal));
        }
    }
    let whole = if beancount {
        export::beancount(ledger, query, commit, args.hours)
    } else {
        export::journal(ledger, query, commit, dialect, args.hours)
    };
    whole
        .map(Books::Whole)
        .map_err(|e| CliError::usage(e.to_string(), None))
}

/// The ValueFlows export of `query` over `ledger` (loaded at `commit`, quickly or in full)
/// to FILE (`path`) or `out`: streamed, a month of day folders at a time, from kept parts
/// where they are current (a large ledger's events are never one string in memory).
fn valueflows(
    cwd: &Path,
    ctx: &Context,
    ledger: &Ledger,
    query: &crate::core::report::Query,
    commit: &str,
    path: Option<&Path>,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let base = base_uri(cwd, ctx, ledger, commit)?;
    let store = super::open(cwd, ctx)?;
    // A failed read is said as the store says it, not as a write error.
    let mut failed: Option<crate::store::StoreError> = None;
    let status = emit(path, out, |w| {
        let mut full = || store.load_revision(commit).map(|(loaded, _)| loaded.ledger);
        match cache::valueflows::export(&store, commit, ledger, &mut full, query, &base, w) {
            Ok(()) => Ok(()),
            Err(cache::valueflows::Error::Io(e)) => Err(e),
            Err(cache::valueflows::Error::Store(e)) => {
                let message = e.to_string();
                failed = Some(e);
                Err(std::io::Error::other(message))
            }
        }
    });
    match failed {
        Some(e) => Err(e.into()),
        None => status,
    }
}

/// The base URI of the ValueFlows ids (`base_uri`, or derived from the first commit).
fn base_uri(cwd: &Path, ctx: &Context, ledger: &Ledger, commit: &str) -> Result<String, CliError> {
    let store = super::open(cwd, ctx)?;
    let oid = crate::store::Oid::from_str(commit)
        .map_err(|e| CliError::environment(format!("bad commit id {commit}: {e}"), None))?;
    Ok(crate::ops::export::base_uri(&store, ledger, oid)?)
}

/// Sends an export to standard output or, atomically, to FILE.
fn emit(
    path: Option<&Path>,
    out: &mut impl Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<u8, CliError> {
    match path {
        None => write(out)?,
        Some(path) => write_atomically(path, write)?,
    }
    Ok(EXIT_OK)
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn environment(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::environment(format!("cannot write {}: {e}", path.display()), None)
}

/// Fails early (before reading the ledger) when FILE's folder does not exist or FILE is a
/// folder.
fn check_writable(path: &Path) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(environment(path, "it is a directory"));
    }
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(environment(
            path,
            format!("the directory {} does not exist", dir.display()),
        ));
    }
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes the export to a temporary file in FILE's folder, syncs it, and renames it over FILE:
/// readers see the old file or the whole new one, never a part.
pub(super) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".to_owned());
    let tmp = dir.join(format!(".{name}.ovn-{}.tmp", std::process::id()));
    crate::store::atomic::write(path, &tmp, true, write).map_err(|(_, e)| environment(path, e))
}
