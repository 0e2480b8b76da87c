//! `ovn report`: contributions, claims, payouts and resources, as tables, CSV, JSON, Markdown
//! or bar charts.
//!
//! Each report is one pure function of `core::report`; this module only parses the query,
//! loads the ledger and renders. Every report becomes a list of `Grid`s (header, rows, a
//! total row, notes), and one renderer per format turns grids into bytes, so the four reports
//! look and behave alike in every format. Tables never adapt to the terminal: the same ledger
//! prints the same bytes in a terminal, a pipe or a CI log.

use crate::context::Context;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::render::table::{self, ResourceCells};
use super::render::{csv, hours, markdown, percent};
use super::{CliError, EXIT_OK};
use crate::cache::CachedRead;
use crate::cache::Tally;
use crate::cache::reports as parts;
use crate::core::ledger::Ledger;
use crate::core::payout::money;
use crate::core::report::{self, Dimension, Query};
use crate::core::value::Id;
use crate::core::when;
use crate::ops::load::Need;
use crate::store::Store;

const AFTER_HELP: &str = "\
Examples:
  ovn report contributions --by agent              hours, money and claim value per agent
  ovn report contributions --by project,month --since 2026-01-01 --format csv
  ovn report contributions --by agent --chart      each agent's share as a bar chart
  ovn report claims -p drone --amount 3000         who is owed what, and what 3000 would pay
  ovn report payouts --agent ana                   payouts to ana, what they owe her and what was paid
  ovn report resources --format markdown           owners, stewards and use, for a README

By default a report reads the ledger as merged on the validated branch (validated_branch in
ovn.toml), like `ovn payout`: merged means reviewed, and the figures are those a payout would
use. --at HEAD reads your current branch, --at REV any commit.

Exit status: 0 success, 1 the ledger has problems, 2 usage error, 3 environment error.";

/// Report on the ledger: contributions, claims, payouts and resources.
///
/// Reports read the ledger as merged on the validated branch (or at --at REV), never write
/// anything, and print the same bytes on every machine. Every report takes the same filters
/// (--project, --agent, --since, --until), --format table|csv|json|markdown, and --chart for
/// a horizontal bar chart of the shares.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ReportArgs {
    /// Which report
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// The reports.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    #[allow(missing_docs)]
    Contributions(ContributionsArgs),
    #[allow(missing_docs)]
    Claims(ClaimsArgs),
    #[allow(missing_docs)]
    Payouts(PayoutsArgs),
    #[allow(missing_docs)]
    Resources(ResourcesArgs),
}

/// `--project`: the projects a report or an export covers. Defined once, for both; apart
/// from [`Period`] only because `ovn report` lists `--agent` between the two.
#[derive(Clone, Debug, Default, Args)]
pub struct Projects {
    /// Only these projects (repeat, or separate with commas)
    #[arg(short, long, value_name = "PROJECT", value_delimiter = ',')]
    pub project: Vec<String>,
}

/// `--since`, `--until` and `--at`: the dates a report or an export covers, and the revision
/// it reads. Defined once, for both.
#[derive(Clone, Debug, Default, Args)]
pub struct Period {
    /// Only records dated on or after DATE: a day (2026-12-01, 2026-12-1, today, yesterday)
    /// or the first day of a period (2026, 2026-12, this month, last month, this year, last
    /// year), as hledger reads them
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Only records dated on or before DATE: a day, or the last day of a period (--until
    /// 2026-12 is 2026-12-31)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// Read the ledger at REV instead of the validated branch
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,
}

impl Period {
    /// Whether --since or --until is relative to today (`yesterday`, `last month`): an
    /// answer then depends on the day, as its cache key must.
    pub fn relative(&self) -> bool {
        [&self.since, &self.until]
            .into_iter()
            .flatten()
            .any(|d| d.bytes().any(|b| b.is_ascii_alphabetic()))
    }
}

/// The filters and output options every report takes.
#[derive(Debug, Args)]
pub struct Common {
    #[allow(missing_docs)]
    #[command(flatten)]
    pub projects: Projects,

    /// Only these agents (repeat, or separate with commas)
    #[arg(short, long, value_name = "AGENT", value_delimiter = ',')]
    pub agent: Vec<String>,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub period: Period,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,

    /// Draw the shares as a horizontal bar chart instead of the table
    #[arg(long)]
    pub chart: bool,
}

/// Totals of contributions: count, hours, money and claim value, grouped.
///
/// Counts the contributions the filters select (reversed and superseded ones, and reversals,
/// do not count), grouped by one or more of agent, project, kind, skill and month. Columns:
/// how many, hours of people's time (every kind but use), hours of use of resources (see
/// `ovn report resources`), amounts in the network currency, the claim value the project's
/// agreement gives them (summed over the buckets that select them, before any split; empty
/// where no agreement values them), and each group's share of the claim value. The agent is
/// who logged the contribution: the claim of a use belongs to the resource's owners, which
/// `ovn report claims` shows.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ContributionsArgs {
    /// Group by these dimensions, in order (repeat, or separate with commas) [default: agent]
    #[arg(long, value_enum, value_name = "DIM", value_delimiter = ',')]
    pub by: Vec<By>,

    /// With --by project: one row per project, as before sub-projects; without it, the
    /// projects form a tree by their `parent` (indented, a parent's row including its
    /// sub-projects') in the table, markdown and chart (CSV and JSON stay flat)
    #[arg(long)]
    pub flat: bool,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub common: Common,
}

/// Claims per project and agent: equity, debt owed and repaid, once claims pending.
///
/// For each project, the claims its agreement gives the contributions the filters select
/// (--since and --until filter by the contribution's date; --until also sets the date a
/// payout would be made, so rules and agreements with dates apply as of it), summed per agent
/// who holds them (for the use of a resource: its owners). Columns: equity weight and its share
/// of the project's equity, what debts repay in all (value × cap), what recorded payouts
/// repaid, what is still owed, and the value of once claims not paid yet. With --amount, also
/// what a payout of that amount would pay each agent now, exactly as `ovn payout` computes it.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ClaimsArgs {
    /// Also show what a payout of AMOUNT would pay (needs one project)
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub amount: Option<String>,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub common: Common,
}

/// Recorded payouts, what they owe each agent, and what was paid (ovn pay).
///
/// Lists the payout records the filters select (by project, by date of the revenue event,
/// and with --agent those that paid one of the agents), then what each agent was paid in
/// them. The CSV format prints the list of payouts only (one row per payout); `ovn export csv`
/// prints every line of every payout.
///
/// Then the settlement of those payouts: each payout line (numbered as `ovn pay --line`
/// takes them) with what it owes, what payments recorded with `ovn pay` paid on it (refunds
/// deducted) and what is outstanding, and the same per agent. With --lines only the
/// settlement is shown, and CSV prints one row per payout line.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct PayoutsArgs {
    /// Show only the payout lines with owed, paid and outstanding, then the same per agent
    #[arg(long)]
    pub lines: bool,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub common: Common,
}

/// Resources: owners, stewards, hours of use by project, and the value their use earned.
///
/// One row per resource and project that used it (a resource nobody used has one row with no
/// project). The value earned is hours × the resource's use rate. --project, --since and
/// --until filter the use contributions; --agent keeps the resources the agent owns or
/// stewards.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ResourcesArgs {
    #[allow(missing_docs)]
    #[command(flatten)]
    pub common: Common,
}

/// Output formats of the reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// a plain table with a total row, then notes
    Table,
    /// comma-separated values with a header row, for spreadsheets
    Csv,
    /// a JSON object (amounts as decimal strings)
    Json,
    /// a Markdown table, ready for a pull-request comment or a README
    Markdown,
}

/// Dimensions of `ovn report contributions --by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// the agent who logged the contribution
    Agent,
    /// the project
    Project,
    /// the kind: work, money, material, use, ...
    Kind,
    /// the skill (`-` when none)
    Skill,
    /// the month of its date, YYYY-MM
    Month,
}

impl By {
    fn dimension(self) -> Dimension {
        match self {
            By::Agent => Dimension::Agent,
            By::Project => Dimension::Project,
            By::Kind => Dimension::Kind,
            By::Skill => Dimension::Skill,
            By::Month => Dimension::Month,
        }
    }
}

/// A rendered table: header, rows, an optional total row, and notes.
#[derive(Debug, Default)]
struct Grid {
    /// Key of the section in JSON.
    key: &'static str,
    /// Title printed above the table (when a report has several).
    title: Option<String>,
    header: Vec<String>,
    /// Which columns are numbers (right-aligned).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
    total: Option<Vec<String>>,
}

impl Grid {
    fn new(key: &'static str, columns: &[(&str, bool)]) -> Grid {
        Grid {
            key,
            header: columns.iter().map(|(c, _)| (*c).to_owned()).collect(),
            numeric: columns.iter().map(|(_, n)| *n).collect(),
            ..Grid::default()
        }
    }
}

/// A report ready to render.
struct Rendered {
    /// Report name in JSON.
    name: &'static str,
    /// The first line of a table.
    heading: String,
    grids: Vec<Grid>,
    notes: Vec<String>,
    /// Bars: label and fraction, and what the fractions are of.
    chart: Option<(String, Vec<(String, Decimal)>)>,
}

/// The ledger a report reads, and where.
struct Source {
    store: Store,
    ledger: Ledger,
    /// `main at 3f1c2a9b8d7e`, or a short commit id.
    at: String,
    commit: String,
}

impl ReportArgs {
    /// Whether --since or --until is relative to today (`yesterday`, `last month`): the
    /// answer then depends on the day, as its cache key must.
    pub fn relative_dates(&self) -> bool {
        let period = match &self.command {
            ReportCommand::Contributions(a) => &a.common.period,
            ReportCommand::Claims(a) => &a.common.period,
            ReportCommand::Payouts(a) => &a.common.period,
            ReportCommand::Resources(a) => &a.common.period,
        };
        [&period.since, &period.until]
            .into_iter()
            .flatten()
            .any(|d| d.bytes().any(|b| b.is_ascii_alphabetic()))
    }

    /// The revision asked for with `--at`, if any.
    pub fn at(&self) -> Option<&str> {
        match &self.command {
            ReportCommand::Contributions(a) => a.common.period.at.as_deref(),
            ReportCommand::Claims(a) => a.common.period.at.as_deref(),
            ReportCommand::Payouts(a) => a.common.period.at.as_deref(),
            ReportCommand::Resources(a) => a.common.period.at.as_deref(),
        }
    }
}

/// Runs `ovn report`.
///
/// Long because the four reports share their arguments' checks, their load (quick where
/// kept parts allow) and their rendering, and differ only in the middle `match`.
pub fn run(
    args: ReportArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let common = match &args.command {
        ReportCommand::Contributions(a) => &a.common,
        ReportCommand::Claims(a) => &a.common,
        ReportCommand::Payouts(a) => &a.common,
        ReportCommand::Resources(a) => &a.common,
    };
    if common.chart && common.format != Format::Table {
        return Err(CliError::usage(
            "--chart draws in the terminal: it does not go with --format",
            Some("drop --format, or drop --chart".to_owned()),
        ));
    }
    let query = query(common, ctx.now.date_naive())?;
    // Usage errors in the arguments come before reading the ledger.
    let by = match &args.command {
        ReportCommand::Contributions(a) => dimensions(&a.by)?,
        _ => Vec::new(),
    };
    let amount = match &args.command {
        ReportCommand::Claims(ClaimsArgs {
            amount: Some(text), ..
        }) => Some(super::payout::revenue("--amount", text)?),
        _ => None,
    };
    // A report of contributions can be put together from kept parts, which a quick load
    // (summaries, and the corrections in full) is enough for; a report of payouts reads no
    // contribution at all (payouts and payments), so the verdict's quick load is enough.
    // Reports of claims without a payout preview, and of resources, are put together from
    // kept parts too. A payout preview of one project reads that project's contributions
    // in full, as `ovn payout` does (the payout of one level: a cascade's other levels are
    // not in the report).
    let at = common.period.at.as_deref();
    // A payout preview is of one project: with several named, or none named in a ledger of
    // several, that is said before the contributions are read (a ledger loaded whole took
    // 1.5 s at a million records to say it).
    let only = match (amount, query.projects.len()) {
        (Some(_), 0) => Some(only_project(cwd, ctx, at)?),
        (Some(_), n) if n > 1 => return Err(one_project()),
        _ => None,
    };
    let previewed: Vec<&str> = match &only {
        Some(project) => vec![project.as_str()],
        None => query.projects.iter().map(Id::as_str).collect(),
    };
    let need = match args.command {
        ReportCommand::Contributions(_) | ReportCommand::Resources(_) => Need::Projects(&[]),
        ReportCommand::Claims(_) if amount.is_none() => Need::Projects(&[]),
        ReportCommand::Claims(_) if previewed.len() == 1 => Need::Projects(&previewed),
        ReportCommand::Payouts(_) => Need::Checks,
        _ => Need::Whole,
    };
    // Should the cache be cold, its fill counts the report's parts as it goes.
    let tally = match &args.command {
        ReportCommand::Contributions(_) => Some(parts::contributions_tally(&query, &by)),
        ReportCommand::Claims(_) if amount.is_none() => Some(parts::claims_tally(&query)),
        ReportCommand::Resources(_) => Some(parts::resources_tally(&query)),
        _ => None,
    };
    let mut source = load(cwd, ctx, at, need, tally.as_deref(), "a report")?;
    query
        .validate(&source.ledger)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let mu = source.ledger.network.as_ref().map_or(2, |n| n.minor_units);
    let currency = source
        .ledger
        .network
        .as_ref()
        .map_or("EUR", |n| n.currency.as_str())
        .to_owned();
    let scope = describe(&query, &source.at);
    let rendered = match &args.command {
        ReportCommand::Contributions(_) => {
            let r = from_parts(&mut source, |store, commit, ledger| {
                parts::contributions(store, commit, ledger, &query, &by)
            })?;
            // Sub-projects roll up into their parents for a reader; machine formats stay
            // flat, so their rows add up.
            let tree = match &args.command {
                ReportCommand::Contributions(a)
                    if !a.flat && matches!(common.format, Format::Table | Format::Markdown) =>
                {
                    crate::core::cascade::project_tree(&source.ledger, &r)
                }
                _ => None,
            };
            contributions(tree.as_ref().unwrap_or(&r), mu, &currency, &scope)
        }
        ReportCommand::Claims(_) => {
            if amount.is_some() {
                let projects = if query.projects.is_empty() {
                    source.ledger.projects.len()
                } else {
                    query.projects.len()
                };
                if projects != 1 {
                    return Err(one_project());
                }
            }
            let r = match amount {
                Some(_) => report::claims(&source.ledger, &query, amount)
                    .map_err(|e| CliError::usage(e.to_string(), None))?,
                None => from_parts(&mut source, |store, commit, ledger| {
                    parts::claims(store, commit, ledger, &query)
                })?,
            };
            let mut rendered = claims(&r, amount, mu, &currency, &scope);
            // A claim a fork overpaid stays in view (see PAYOUT LINE in ovn-ledger(5)).
            let projects: std::collections::BTreeSet<&Id> =
                r.rows.iter().map(|r| &r.project).collect();
            for p in projects {
                rendered.notes.extend(crate::core::chain::overpaid_notes(
                    &source.ledger,
                    p.as_str(),
                    mu,
                    |a| query.agent(a),
                ));
            }
            rendered
        }
        ReportCommand::Payouts(a) => {
            let r = report::payouts(&source.ledger, &query);
            let mut rendered = payouts(&r, &query, mu, &currency, &scope);
            let lines = crate::core::payment::selected(&source.ledger, &query);
            settlement(&mut rendered, &lines, mu, a.lines);
            rendered
        }
        ReportCommand::Resources(_) => {
            let r = from_parts(&mut source, |store, commit, ledger| {
                parts::resources(store, commit, ledger, &query)
            })?;
            resources(&r, mu, &currency, &scope)
        }
    };
    if common.chart {
        write!(out, "{}", chart(&rendered))?;
        return Ok(EXIT_OK);
    }
    match common.format {
        Format::Table => write!(out, "{}", table(&rendered))?,
        Format::Markdown => write!(out, "{}", markdown(&rendered))?,
        Format::Csv => write!(out, "{}", csv(&rendered.grids[0]))?,
        Format::Json => {
            let json = json(&rendered, &source.commit);
            serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    super::discard(source.ledger);
    Ok(EXIT_OK)
}

/// Why `--amount` needs one project.
fn one_project() -> CliError {
    CliError::usage(
        "--amount is the revenue of one project: give --project",
        None,
    )
}

/// The one project of the ledger at `at` (its projects read by a quick load, which holds
/// every project), or why `--amount` needs `--project`.
fn only_project(cwd: &Path, ctx: &Context, at: Option<&str>) -> Result<String, CliError> {
    let source = load(cwd, ctx, at, Need::Projects(&[]), None, "a report")?;
    match source.ledger.projects.as_slice() {
        [one] => Ok(one.id.value.to_string()),
        _ => Err(one_project()),
    }
}

/// What `answer` puts together from kept parts over `source`'s ledger, loading that ledger
/// in full first when its quick load cannot answer (a full load counts every folder, so it
/// always can).
fn from_parts<T>(
    source: &mut Source,
    answer: impl Fn(&Store, &str, &Ledger) -> Result<Option<T>, parts::Error>,
) -> Result<T, CliError> {
    if let Some(r) = answer(&source.store, &source.commit, &source.ledger)? {
        return Ok(r);
    }
    let (loaded, _) = source.store.load_revision(&source.commit)?;
    source.ledger = loaded.ledger;
    answer(&source.store, &source.commit, &source.ledger)?.ok_or_else(|| {
        CliError::environment(
            format!(
                "the report could not be put together at {}",
                &source.commit[..12.min(source.commit.len())]
            ),
            Some("run it again with --no-cache, and report this".to_owned()),
        )
    })
}

/// The ledger, the checked query and the full commit id, for `ovn export`. `need`: what of
/// the ledger the export reads (`Need::Checks` for one of the payout records alone, which a
/// quick load holds whole).
pub(super) fn load_for_export(
    common: &Common,
    cwd: &Path,
    ctx: &Context,
    need: Need<'static>,
    tally: impl FnOnce(&Query) -> Option<Box<dyn Tally>>,
) -> Result<(Ledger, Query, String), CliError> {
    let query = query(common, ctx.now.date_naive())?;
    let tally = tally(&query);
    let at = common.period.at.as_deref();
    let source = load(cwd, ctx, at, need, tally.as_deref(), "an export")?;
    query
        .validate(&source.ledger)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    Ok((source.ledger, query, source.commit))
}

/// Reads the filters; a bad id or date is a usage error.
fn query(common: &Common, today: NaiveDate) -> Result<Query, CliError> {
    let ids = |values: &[String], what: &str| -> Result<Vec<Id>, CliError> {
        let mut out: Vec<Id> = Vec::new();
        for v in values {
            let id = Id::parse(v.trim()).map_err(|e| {
                CliError::usage(
                    format!("--{what} {v:?} is not a valid {what} id: {e}"),
                    None,
                )
            })?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    };
    let date = |value: &Option<String>, flag: &str, edge| -> Result<Option<NaiveDate>, CliError> {
        value
            .as_deref()
            .map(|text| {
                when::parse(text.trim(), today, edge).map_err(|_| {
                    CliError::usage(
                        format!("--{flag} {text:?} is not a date"),
                        Some(format!("write a day or a period: {}", when::FORMS)),
                    )
                })
            })
            .transpose()
    };
    let q = Query {
        projects: ids(&common.projects.project, "project")?,
        agents: ids(&common.agent, "agent")?,
        since: date(&common.period.since, "since", when::Edge::Start)?,
        until: date(&common.period.until, "until", when::Edge::End)?,
    };
    if let (Some(s), Some(u)) = (q.since, q.until)
        && s > u
    {
        return Err(CliError::usage(
            format!("the date range is inverted: --since {s} is after --until {u}"),
            Some("swap the dates".to_owned()),
        ));
    }
    Ok(q)
}

fn dimensions(by: &[By]) -> Result<Vec<Dimension>, CliError> {
    let mut out = Vec::new();
    for b in by {
        let d = b.dimension();
        if out.contains(&d) {
            return Err(CliError::usage(
                format!("--by {} is given twice", d.as_str()),
                None,
            ));
        }
        out.push(d);
    }
    if out.is_empty() {
        out.push(Dimension::Agent);
    }
    Ok(out)
}

/// Loads the ledger at `at`, or on the validated branch; a ledger with problems is refused.
///
/// `need`: what of the ledger the report reads; anything short of `Whole` may be loaded
/// quickly (see `Store::load_revision_for`), summarising the folders the cache has
/// summaries for. `what` names the command in the refusal ("a report", "an export").
fn load(
    cwd: &Path,
    ctx: &Context,
    at: Option<&str>,
    need: Need<'_>,
    tally: Option<&dyn Tally>,
    what: &str,
) -> Result<Source, CliError> {
    let store = super::open(cwd, ctx)?;
    let (rev, validated) = super::resolve_at(&store, at)?;
    let loaded = crate::ops::load::load_counting(&store, &rev, need, tally)?.for_need();
    let commit = rev.id();
    super::payout::refuse_problems(&store, &commit, &loaded.diagnostics, rev.name(), what)?;
    Ok(Source {
        store,
        ledger: loaded.ledger,
        at: if validated {
            format!("{} at {}", rev.name(), rev.short())
        } else {
            rev.short()
        },
        commit,
    })
}

/// `(project drone; since 2026-01-01; main at 3f1c2a9b8d7e)`.
fn describe(q: &Query, at: &str) -> String {
    let list = |ids: &[Id]| ids.iter().map(Id::as_str).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !q.projects.is_empty() {
        parts.push(format!("project {}", list(&q.projects)));
    }
    if !q.agents.is_empty() {
        parts.push(format!("agent {}", list(&q.agents)));
    }
    if let Some(s) = q.since {
        parts.push(format!("since {s}"));
    }
    if let Some(u) = q.until {
        parts.push(format!("until {u}"));
    }
    parts.push(at.to_owned());
    format!("({})", parts.join("; "))
}

fn contributions(r: &report::ContributionReport, mu: u32, currency: &str, scope: &str) -> Rendered {
    let mut columns: Vec<(&str, bool)> = r.by.iter().map(|d| (d.as_str(), false)).collect();
    columns.extend([
        ("contributions", true),
        ("hours", true),
        ("use hours", true),
        ("amount", true),
        ("value", true),
        ("share", true),
    ]);
    let mut g = Grid::new("rows", &columns);
    let cells = |t: &report::Totals, share: Option<Decimal>| {
        vec![
            t.count.to_string(),
            hours(t.hours),
            hours(t.use_hours),
            money(t.amount, mu),
            money(t.value, mu),
            percent(share),
        ]
    };
    for row in &r.rows {
        let mut cells_row = row.keys.clone();
        cells_row.extend(cells(&row.totals, row.share));
        g.rows.push(cells_row);
    }
    let mut total = vec!["total".to_owned()];
    total.extend(std::iter::repeat_n(
        String::new(),
        r.by.len().saturating_sub(1),
    ));
    total.extend(cells(
        &r.total,
        (!r.total.value.is_zero()).then_some(Decimal::ONE),
    ));
    g.total = Some(total);
    let mut notes = vec![format!(
        "amount and value in {currency}; value is the claim value the project's agreement gives the contributions; share is of the value"
    )];
    if r.total.other_currency > 0 {
        notes.push(format!(
            "{} contribution(s) with an amount in another currency are counted but not in amount; their value is the amount converted at its exchange rate (nothing without one)",
            r.total.other_currency
        ));
    }
    let by: Vec<&str> = r.by.iter().map(|d| d.as_str()).collect();
    let bars = if r.total.value.is_zero() {
        (
            "hours".to_owned(),
            r.rows
                .iter()
                .map(|row| {
                    (
                        row.keys.join(" / "),
                        if r.total.hours.is_zero() {
                            Decimal::ZERO
                        } else {
                            row.totals.hours / r.total.hours
                        },
                    )
                })
                .collect(),
        )
    } else {
        (
            format!("claim value ({} {currency})", money(r.total.value, mu)),
            r.rows
                .iter()
                .map(|row| (row.keys.join(" / "), row.share.unwrap_or_default()))
                .collect(),
        )
    };
    Rendered {
        name: "contributions",
        heading: format!("Contributions by {} {scope}", by.join(", ")),
        grids: vec![g],
        notes,
        chart: Some(bars),
    }
}

fn claims(
    r: &report::ClaimsReport,
    amount: Option<Decimal>,
    mu: u32,
    currency: &str,
    scope: &str,
) -> Rendered {
    let mut columns = report::CLAIM_COLUMNS.to_vec();
    if amount.is_some() {
        columns.push(("next payout", true));
    }
    let mut g = Grid::new("rows", &columns);
    for row in &r.rows {
        let mut cells = vec![
            row.project.to_string(),
            row.agent.to_string(),
            money(row.equity, mu),
            percent(row.equity_share),
            money(row.debt_owed, mu),
            money(row.debt_repaid, mu),
            money(row.debt_outstanding, mu),
            money(row.once_pending, mu),
        ];
        if let Some(n) = row.next {
            cells.push(money(n, mu));
        }
        g.rows.push(cells);
    }
    let sum = |f: fn(&report::ClaimRow) -> Decimal| money(r.rows.iter().map(f).sum(), mu);
    let mut total = vec![
        "total".to_owned(),
        String::new(),
        sum(|r| r.equity),
        String::new(),
        sum(|r| r.debt_owed),
        sum(|r| r.debt_repaid),
        sum(|r| r.debt_outstanding),
        sum(|r| r.once_pending),
    ];
    if amount.is_some() {
        total.push(sum(|r| r.next.unwrap_or_default()));
    }
    g.total = Some(total);
    let mut notes = vec![format!(
        "in {currency}; equity share is of the project's equity weight; debts and once claims are settled by recorded payouts only"
    )];
    notes.extend(r.corrected.iter().map(|c| c.text(mu)));
    if let Some(a) = amount {
        for p in &r.next {
            notes.push(format!(
                "next payout: {} {currency} for project {} by agreement {}, as `ovn payout` computes it",
                money(a, mu),
                p.project,
                p.agreement
            ));
        }
    }
    let projects: std::collections::BTreeSet<&Id> = r.rows.iter().map(|r| &r.project).collect();
    let bars = r
        .rows
        .iter()
        .filter(|row| row.equity_share.is_some())
        .map(|row| {
            let label = if projects.len() > 1 {
                format!("{} / {}", row.project, row.agent)
            } else {
                row.agent.to_string()
            };
            (label, row.equity_share.unwrap_or_default())
        })
        .collect();
    Rendered {
        name: "claims",
        heading: format!("Claims {scope}"),
        grids: vec![g],
        notes,
        chart: Some(("the equity weight of each project".to_owned(), bars)),
    }
}

fn payouts(r: &report::PayoutsReport, q: &Query, mu: u32, currency: &str, scope: &str) -> Rendered {
    let mut columns = vec![
        ("date", false),
        ("payout", false),
        ("project", false),
        ("agreement", false),
        ("amount", true),
    ];
    if !q.agents.is_empty() {
        columns.push(("to agents", true));
    }
    columns.extend([("memo", false), ("commit", false)]);
    let mut g = Grid::new("payouts", &columns);
    g.title = Some("Recorded payouts".to_owned());
    for p in &r.payouts {
        let mut cells = vec![
            p.date.to_string(),
            p.id.to_string(),
            p.project.to_string(),
            p.agreement.to_string(),
            money(p.amount, mu),
        ];
        if !q.agents.is_empty() {
            cells.push(money(p.to_agents, mu));
        }
        cells.push(p.memo.clone().unwrap_or_default());
        cells.push(p.commit.chars().take(12).collect());
        g.rows.push(cells);
    }
    let mut total = vec![
        "total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        money(r.total, mu),
    ];
    if !q.agents.is_empty() {
        total.push(money(r.paid.iter().map(|p| p.amount).sum(), mu));
    }
    total.extend([String::new(), String::new()]);
    g.total = Some(total);
    // What recorded payouts allotted, which is owed until `ovn pay` records a payment: the
    // settlement tables below say what was paid.
    let mut paid = Grid::new(
        "owed_to_date",
        &[
            ("agent", false),
            ("payouts", true),
            ("owed", true),
            ("share", true),
        ],
    );
    paid.title = Some("Owed by recorded payouts, to date".to_owned());
    for p in &r.paid {
        paid.rows.push(vec![
            p.agent.to_string(),
            p.payouts.to_string(),
            money(p.amount, mu),
            percent(p.share),
        ]);
    }
    let all: Decimal = r.paid.iter().map(|p| p.amount).sum();
    paid.total = Some(vec![
        "total".to_owned(),
        r.payouts.len().to_string(),
        money(all, mu),
        percent((!all.is_zero()).then_some(Decimal::ONE)),
    ]);
    let mut notes = vec![format!("amounts in {currency}")];
    if r.payouts.is_empty() {
        notes.push("no recorded payouts (record one with `ovn payout ... --record`)".to_owned());
    }
    let bars = r
        .paid
        .iter()
        .map(|p| (p.agent.to_string(), p.share.unwrap_or_default()))
        .collect();
    Rendered {
        name: "payouts",
        heading: format!("Payouts {scope}"),
        grids: vec![g, paid],
        notes,
        chart: Some((
            format!("owed by recorded payouts ({} {currency})", money(all, mu)),
            bars,
        )),
    }
}

/// Adds the settlement of the payouts to their report: each line's owed, paid and
/// outstanding, then per agent; with `only`, in place of the payouts and owed-to-date.
fn settlement(
    rendered: &mut Rendered,
    lines: &[crate::core::payment::LineBalance],
    mu: u32,
    only: bool,
) {
    let mut g = Grid::new(
        "lines",
        &[
            ("payout", false),
            ("date", false),
            ("project", false),
            ("line", true),
            ("agent", false),
            ("bucket", false),
            ("owed", true),
            ("paid", true),
            ("outstanding", true),
        ],
    );
    g.title = Some("Payout lines: owed, paid and outstanding".to_owned());
    let all = crate::core::payment::by_agent(lines);
    for l in lines {
        g.rows.push(vec![
            l.payout.to_string(),
            l.date.to_string(),
            l.project.to_string(),
            l.number.to_string(),
            l.agent.to_string(),
            l.bucket.clone(),
            money(l.owed, mu),
            money(l.paid, mu),
            money(l.outstanding(), mu),
        ]);
    }
    let (owed, paid): (Decimal, Decimal) = all
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(o, p), a| {
            (o + a.owed, p + a.paid)
        });
    g.total = Some(vec![
        "total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        money(owed, mu),
        money(paid, mu),
        money(owed - paid, mu),
    ]);
    let mut a = Grid::new(
        "outstanding",
        &[
            ("agent", false),
            ("lines", true),
            ("owed", true),
            ("paid", true),
            ("outstanding", true),
        ],
    );
    a.title = Some("Outstanding by agent".to_owned());
    for b in &all {
        a.rows.push(vec![
            b.agent.to_string(),
            b.lines.to_string(),
            money(b.owed, mu),
            money(b.paid, mu),
            money(b.outstanding(), mu),
        ]);
    }
    a.total = Some(vec![
        "total".to_owned(),
        lines.len().to_string(),
        money(owed, mu),
        money(paid, mu),
        money(owed - paid, mu),
    ]);
    if only {
        rendered.grids = vec![g, a];
        rendered.chart = None;
    } else if !lines.is_empty() {
        // Without a payout line there is nothing to settle: the report stays as it was.
        rendered.grids.extend([g, a]);
    }
}

fn resources(r: &[report::ResourceRow], mu: u32, currency: &str, scope: &str) -> Rendered {
    let mut g = Grid::new(
        "rows",
        &[
            ("resource", false),
            ("ownership", false),
            ("owners", false),
            ("stewards", false),
            ("use rate", true),
            ("project", false),
            ("hours", true),
            ("value", true),
        ],
    );
    let mut all_hours = Decimal::ZERO;
    let mut all_value = Decimal::ZERO;
    for res in r {
        let cells = ResourceCells::of(res);
        let head = vec![
            res.id.to_string(),
            res.ownership.as_str().to_owned(),
            cells.owners,
            cells.stewards,
            cells.use_rate,
        ];
        let value = |v: Option<Decimal>| v.map(|v| money(v, mu)).unwrap_or_default();
        if res.uses.is_empty() {
            let mut row = head.clone();
            row.extend([String::new(), "0".to_owned(), value(res.value)]);
            g.rows.push(row);
        }
        for u in &res.uses {
            let mut row = head.clone();
            row.extend([u.project.to_string(), hours(u.hours), value(u.value)]);
            g.rows.push(row);
        }
        all_hours += res.hours;
        all_value += res.value.unwrap_or_default();
    }
    g.total = Some(vec![
        "total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        hours(all_hours),
        money(all_value, mu),
    ]);
    let bars = r
        .iter()
        .map(|res| {
            (
                res.id.to_string(),
                if all_hours.is_zero() {
                    Decimal::ZERO
                } else {
                    res.hours / all_hours
                },
            )
        })
        .collect();
    Rendered {
        name: "resources",
        heading: format!("Resources {scope}"),
        grids: vec![g],
        notes: vec![format!(
            "value = hours of use × the resource's use rate, in {currency}; the claims of use belong to the owners (commons: the network's fund)"
        )],
        chart: Some((format!("hours of use ({})", hours(all_hours)), bars)),
    }
}

fn table(r: &Rendered) -> String {
    let mut out = format!("{}\n", r.heading);
    for g in &r.grids {
        if let Some(title) = &g.title {
            let _ = writeln!(out, "\n{title}");
        }
        let rows = g.rows.iter().chain(&g.total).cloned();
        let _ = writeln!(out, "{}", table::draw(&g.header, rows, &g.numeric));
    }
    for n in &r.notes {
        let _ = writeln!(out, "{n}");
    }
    out
}

fn markdown(r: &Rendered) -> String {
    let mut out = format!("**{}**\n", markdown::text(&r.heading));
    for g in &r.grids {
        if let Some(title) = &g.title {
            let _ = writeln!(out, "\n### {}", markdown::text(title));
        }
        out.push('\n');
        markdown::table(&mut out, &g.header, &g.numeric, &g.rows, g.total.as_deref());
    }
    if !r.notes.is_empty() {
        out.push('\n');
        for n in &r.notes {
            let _ = writeln!(out, "- {}", markdown::text(n));
        }
    }
    out
}

fn json_key(column: &str) -> String {
    column.replace(' ', "_")
}

/// Column names as JSON and CSV keys (`use hours` → `use_hours`); rows only, no total.
fn csv(g: &Grid) -> String {
    let header: Vec<String> = g.header.iter().map(|h| json_key(h)).collect();
    csv::rows(&header, &g.rows)
}

/// The columns that count records: JSON numbers. Every other figure (amounts, hours,
/// shares) stays a decimal string, exact as written, as everywhere in `ovn`'s JSON.
const COUNT_COLUMNS: [&str; 2] = ["contributions", "payouts"];

fn json(r: &Rendered, commit: &str) -> serde_json::Value {
    use serde_json::{Map, Value};
    let object = |g: &Grid, row: &[String]| -> Value {
        let mut m = Map::new();
        for (h, c) in g.header.iter().zip(row) {
            let count = COUNT_COLUMNS
                .contains(&h.as_str())
                .then(|| c.parse::<u64>().ok())
                .flatten();
            m.insert(
                json_key(h),
                match count {
                    Some(n) => Value::from(n),
                    None if c.is_empty() => Value::Null,
                    None => Value::String(c.clone()),
                },
            );
        }
        Value::Object(m)
    };
    let mut top = Map::new();
    top.insert("report".to_owned(), Value::String(r.name.to_owned()));
    top.insert("commit".to_owned(), Value::String(commit.to_owned()));
    for g in &r.grids {
        let rows: Vec<Value> = g.rows.iter().map(|row| object(g, row)).collect();
        let total = g.total.as_ref().map(|t| object(g, t));
        if r.grids.len() == 1 {
            top.insert(g.key.to_owned(), Value::Array(rows));
            top.insert("total".to_owned(), total.unwrap_or(Value::Null));
        } else {
            let mut section = Map::new();
            section.insert("rows".to_owned(), Value::Array(rows));
            section.insert("total".to_owned(), total.unwrap_or(Value::Null));
            top.insert(g.key.to_owned(), Value::Object(section));
        }
    }
    top.insert(
        "notes".to_owned(),
        Value::Array(r.notes.iter().cloned().map(Value::String).collect()),
    );
    Value::Object(top)
}

/// Width of a full bar, in characters.
const BAR_WIDTH: u32 = 40;

/// A bar of `fraction` × `BAR_WIDTH` cells in eighths of a block (`█▉▊▋▌▍▎▏`).
pub fn bar(fraction: Decimal) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let f = fraction.clamp(Decimal::ZERO, Decimal::ONE);
    let eighths = (f * Decimal::from(BAR_WIDTH * 8))
        .round()
        .to_u32()
        .unwrap_or(0);
    let mut out: String = std::iter::repeat_n('█', (eighths / 8) as usize).collect();
    if !eighths.is_multiple_of(8) {
        out.push(PARTS[(eighths % 8) as usize]);
    }
    out
}

fn chart(r: &Rendered) -> String {
    let mut out = format!("{}\n", r.heading);
    let Some((of, bars)) = &r.chart else {
        return out;
    };
    let _ = writeln!(out, "share of {of}");
    if bars.is_empty() {
        let _ = writeln!(out, "(nothing to chart)");
        return out;
    }
    let width = bars
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, f) in bars {
        let pad = " ".repeat(width - label.chars().count());
        let line = format!("{label}{pad} {:>7} {}", percent(Some(*f)), bar(*f));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_eighths_of_forty_cells() {
        assert_eq!(bar(Decimal::ONE).chars().count(), 40);
        assert_eq!(bar(Decimal::ZERO), "");
        assert_eq!(bar(Decimal::new(5, 1)), "█".repeat(20));
        // 1/320 of the width is one eighth of a cell.
        assert_eq!(bar(Decimal::ONE / Decimal::from(320)), "▏");
        assert_eq!(bar(Decimal::new(2, 0)), "█".repeat(40));
    }
}
