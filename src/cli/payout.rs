//! `ovn payout`: share a revenue event by the project's value equation, preview it, record
//! it, and re-derive a recorded one.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::context::Context;
use crate::core::bounds;
use crate::core::chain;
use crate::core::diag::Diagnostic;
use crate::core::ledger::Ledger;
use crate::core::payout::{self, Payout, Request, money};
use crate::core::record::At;
use crate::core::value::{Id, parse_decimal_text};
use crate::core::{render, write};
use crate::ops;
use crate::store::{Outcome, Plan, ResolvedRev, Store};

mod cascade;

/// Share a revenue event among contributors by the project's value equation.
///
/// Computes how AMOUNT (in the network currency) is paid out under the agreement of the
/// project: its buckets in order, the claims of the contributions its rules select, debts
/// capped at what is still owed, and what no bucket paid going to the named leftover agent.
/// The result always sums exactly to AMOUNT; rounding is to the currency's minor unit by
/// largest remainder, ties broken by agent id (see ovn-ledger(5), VALUE EQUATIONS).
///
/// By default the ledger is read as merged on the validated branch (`validated_branch` in
/// ovn.toml): merged means reviewed. Contributions on the current branch that are not merged
/// yet are listed as left out (pending review). --at REV reads any other commit. When the
/// network asks for approvals (`[validation]` in ovn.toml), merged contributions without them
/// are left out too (awaiting approval); see ovn-approve(1). The policy and the agents'
/// emails and keys are those in force: a change to them merged without being validated under
/// the rules before it does not apply (see ovn review, governance changes).
///
/// A preview writes nothing. With --record the payout is written as a payout record
/// (payouts/YYYY/ID.toml) in one commit on the current branch, pinning the ledger commit
/// and a digest of its inputs; later payouts see what it settled (debts shrink, once claims
/// are spent). `ovn payout verify ID` re-derives a recorded payout from its pinned commit.
///
/// The revenue event is dated --date, by default today, for a preview and a record alike:
/// contributions dated after it are left out of both, so a preview shows exactly the lines
/// the same command with --record records.
///
/// A bucket may pay a project (`to_project`): its line is that project's revenue, shared by
/// the project's own agreement in a sub-payout, recursively. Every level is shown, indented
/// two spaces per level (with --explain, each step of each level); --record writes the
/// payout and every sub-payout in one commit, linked line by line; `verify` of any of them
/// re-derives the whole cascade (see Sub-projects and cascades in ovn-ledger(5)).
///
/// A record names the payout of the project it follows, so two payouts computed without
/// seeing each other are caught as a fork (see PAYOUT LINE in ovn-ledger(5)); --record
/// refuses a revision that lacks a payout of the project the current branch has. Recording
/// and verifying read git objects only, never the cache.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Examples:
  ovn payout 3000 -p drone                       preview a revenue of 3000.00
  ovn payout 3000 -p drone --explain             show how every line arises
  ovn payout 3000 -p drone --format markdown     a table for a pull-request comment
  ovn payout 3000 -p drone --record --date 2026-11-30 --memo \"Invoice 2026-114\"
  ovn payout verify 01jq0c8d4m2k6v8x0z2b4n6r8t  re-derive a recorded payout
  ovn payout reconcile -p drone                 join a fork of drone's payouts

Exit status: 0 success (verify: it matches), 1 the ledger has problems (verify: it does not
match), 2 usage error, 3 environment error."
)]
pub struct PayoutArgs {
    /// The revenue amount, in the network currency (e.g. 3000 or 1250.50)
    #[arg(value_name = "AMOUNT", allow_negative_numbers = true)]
    pub amount: Option<String>,

    /// The project whose revenue it is [default: the only project, if there is one]
    #[arg(short, long, value_name = "PROJECT")]
    pub project: Option<String>,

    /// Read the ledger at REV instead of the validated branch
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,

    /// Show how each line arises: claims, rates, weights, caps, decay factors (with each
    /// claim's age), balanced targets, a bucket's freeze and rounding
    #[arg(long)]
    pub explain: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,

    /// Record the payout as a payout record, in one commit on the current branch
    #[arg(long)]
    pub record: bool,

    /// Date of the revenue event (2026-12-01, 2026-12-1, today, yesterday) [default: today,
    /// for a preview and a record alike]; contributions dated after it are left out
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,

    /// A note identifying the revenue event, such as an invoice number
    #[arg(long, value_name = "TEXT")]
    pub memo: Option<String>,

    /// Take the revenue in from the line another network's payout pays this network:
    /// SOURCE is a path to that network's repository (read from git objects, no symbolic
    /// link followed) or a ref of this repository (after `git fetch`), ID its payout's id or
    /// a unique prefix; AMOUNT may be left out (it is the line's)
    #[arg(long, value_name = "SOURCE:ID")]
    pub from_payout: Option<String>,

    /// With --from-payout: the id naming this network in the paying ledger [default: the
    /// agent of kind network named as this network is]
    #[arg(long = "as", value_name = "AGENT", requires = "from_payout")]
    pub as_agent: Option<String>,

    /// With --from-payout: which line of the paying payout (from 1), when several pay this
    /// network
    #[arg(long, value_name = "N", requires = "from_payout")]
    pub line: Option<u32>,

    /// Re-derive a recorded payout
    #[command(subcommand)]
    pub command: Option<PayoutCommand>,
}

/// Subcommands of `ovn payout`.
#[derive(Debug, Subcommand)]
pub enum PayoutCommand {
    /// Re-derive a recorded payout from its pinned commit and compare it byte for byte (for
    /// a payout of a cascade: the whole cascade, from its top)
    Verify {
        /// The payout record's id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
        /// Find the payout record at REV [default: HEAD]
        #[arg(long, value_name = "REV")]
        at: Option<String>,
        /// For revenue taken in from another network: also re-derive the incoming line from
        /// the paying network's repository (a path, or a ref of this repository)
        #[arg(long, value_name = "SOURCE", conflicts_with = "receiver")]
        source: Option<String>,
        /// For a payout paying member networks: check which of its lines the receiving
        /// network's repository (a path, or a ref of this repository) took in, and that they
        /// match
        #[arg(long, value_name = "RECEIVER")]
        receiver: Option<String>,
    },
    /// Join a fork of a project's payouts: record a reconciliation stating each overpaid claim
    ///
    /// When two payouts of a project were computed without seeing each other (recorded on two
    /// branches, then merged or rebased), both repaid the same debts and `ovn check` reports
    /// `payout-fork`. A reconciliation, computed at HEAD and committed on the current branch,
    /// is a payout record of amount zero that follows every head of the project's payout line
    /// and states, as `[[overpaid]]`, what each claim was repaid beyond what it is owed. The
    /// line is one again; later payouts see those debts repaid (they take nothing more), and
    /// `ovn payout` and `ovn report claims` keep showing the overpayment. Recovering the money
    /// is the network's business; the record says how much, from whom.
    Reconcile {
        /// The project whose payouts fork [default: the only project, if there is one]
        #[arg(short, long, value_name = "PROJECT")]
        project: Option<String>,
        /// Date of the reconciliation (2026-12-01, 2026-12-1, today, yesterday) [default: today]
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// A note, such as how the overpayment is being recovered
        #[arg(long, value_name = "TEXT")]
        memo: Option<String>,
    },
}

/// Output formats of `ovn payout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// a table of agents by bucket, with totals, then notes
    Table,
    /// a JSON object (amounts as decimal strings)
    Json,
    /// one `agent,bucket,amount` row per line, for spreadsheets and payment batches
    Csv,
    /// a Markdown table, ready for a pull-request comment
    Markdown,
}

/// Runs `ovn payout`: parse, resolve, load, compute, then record or render.
///
/// Somewhat over a hundred lines because a payout ends one of three ways (a cascade, a
/// record, a preview), each using what every step before it worked out; it reads in order.
pub fn run(
    args: PayoutArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let mut store = super::open(cwd, ctx)?;
    // What is recorded and verified never comes from the cache: a damaged or crafted cache
    // entry (whose CRC only proves it is whole) must not change a payout that is committed
    // or say a recorded one matches. A record or a verification reads git objects only.
    if args.record || args.command.is_some() {
        store.set_cache(false);
    }
    if let Some(command) = &args.command {
        return subcommand(&store, cwd, ctx, command, out);
    }
    let (args, given, date) = checked(args, ctx.now.date_naive())?;
    let (rev, validated) = super::resolve_at(&store, args.at.as_deref())?;
    // A preview of a named project under the default policy reads that project's records
    // (and the corrections) only; recording, a policy asking for approvals, or choosing the
    // project needs the whole ledger.
    let quick = match &args.project {
        Some(p) if !args.record => Some([p.as_str()]),
        _ => None,
    };
    let loaded = ops::payout::load(&store, &rev, quick.as_ref().map(|p| &p[..]))?;
    // A missing exchange rate leaves its contribution out (said in the notes), not the payout.
    refuse_problems(
        &store,
        &rev.id(),
        &loaded.diagnostics,
        rev.name(),
        "a payout",
    )?;
    let ledger = loaded.ledger;
    let project = pick_project(&ledger, args.project.as_deref())?;
    // Revenue taken in from another network: the amount is the line's.
    let (args, source, amount) = match super::incoming::take(&store, cwd, &ledger, &rev, &args)? {
        Some(s) => super::incoming::request(args, s, given, &ledger)?,
        None => (args, None, given.ok_or_else(no_amount)?),
    };
    let request = Request {
        project: &project,
        amount,
        // One default for a preview and a record (today), so that the same command shows
        // with and without --record the lines it records: a contribution dated after the
        // revenue event is left out of both.
        date: Some(date.unwrap_or_else(|| ctx.now.date_naive())),
    };
    // A project whose agreement pays projects: the whole cascade (see core::cascade).
    if crate::core::cascade::pays_projects(&ledger, &project) {
        let preview = cascade::Run {
            store: &store,
            ctx,
            ledger: &ledger,
            rev: &rev,
            validated,
        };
        return preview.run(&request, &args, out);
    }
    let ops::payout::Computed {
        payout: result,
        settled,
        unapproved,
    } = ops::payout::compute(
        &store,
        &rev,
        &ledger,
        &request,
        ops::payout::Detail::of(args.explain, args.record),
    )?;
    ops::payout::keep_for_review(
        &store,
        &rev,
        &project,
        amount,
        &result,
        args.date.is_some(),
        &unapproved,
    );
    if args.record {
        let recording = Recording {
            settled: &settled,
            source: source.as_ref(),
        };
        return record(&store, ctx, &ledger, &result, recording, &args, &rev, out);
    }
    let pending = if validated {
        ops::payout::pending(&store, &rev, &ledger, &project)
    } else {
        Vec::new()
    };
    let at = if validated {
        format!("{} at {}", rev.name(), rev.short())
    } else {
        rev.short()
    };
    // Claims a fork overpaid stay in view, whoever previews the next payout.
    let overpaid = chain::overpaid_notes(&ledger, &project, result.minor_units, |_| true);
    let shown = Shown {
        result: &result,
        at: &at,
        commit: &rev.id(),
        pending: &pending,
        overpaid: &overpaid,
    };
    render(&args, &shown, out)?;
    super::discard(ledger);
    Ok(EXIT_OK)
}

/// Runs `ovn payout verify` or `ovn payout reconcile`.
fn subcommand(
    store: &Store,
    cwd: &Path,
    ctx: &Context,
    command: &PayoutCommand,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    match command {
        PayoutCommand::Verify {
            id,
            at,
            source,
            receiver,
        } => {
            let at = at.as_deref().unwrap_or("HEAD");
            match receiver {
                Some(receiver) => {
                    super::incoming::verify_receiver(store, cwd, id, at, receiver, out)
                }
                None => verify(store, cwd, id, at, source.as_deref(), out),
            }
        }
        PayoutCommand::Reconcile {
            project,
            date,
            memo,
        } => reconcile(store, ctx, project.as_deref(), date.as_deref(), memo, out),
    }
}

/// The day of a revenue event, as the other commands' day flags read it (`2026-12-1`,
/// `today`, `yesterday`; see `core::when`).
fn revenue_date(text: &str, today: NaiveDate) -> Result<NaiveDate, CliError> {
    crate::core::when::day(text.trim(), today).map_err(|e| {
        CliError::usage(
            format!("--date {text:?} {e}"),
            Some("write a day: 2026-12-01, 2026-12-1, today or yesterday".to_owned()),
        )
    })
}

/// The request checked before anything is read: the amount, the date, and a memo only with
/// --record (judged as the reader judges the field, so a record the ledger would refuse is
/// never committed).
fn checked(
    args: PayoutArgs,
    today: NaiveDate,
) -> Result<(PayoutArgs, Option<Decimal>, Option<NaiveDate>), CliError> {
    // Taken in from another network's payout, the amount may come from the line.
    let amount = match &args.amount {
        Some(text) => Some(revenue("", text)?),
        None if args.from_payout.is_some() => None,
        None => return Err(no_amount()),
    };
    let date = match &args.date {
        Some(text) => Some(revenue_date(text, today)?),
        None => None,
    };
    // A preview may be dated (contributions after the date are left out); a memo only means
    // something on a record.
    if !args.record && args.memo.is_some() {
        return Err(CliError::usage(
            "--memo goes with --record",
            Some("a preview writes nothing; add --record to record the payout".to_owned()),
        ));
    }
    let args = PayoutArgs {
        memo: args
            .memo
            .as_deref()
            .map(|m| super::writing::text("--memo", m))
            .transpose()?,
        ..args
    };
    Ok((args, amount, date))
}

fn no_amount() -> CliError {
    CliError::usage(
        "give the revenue AMOUNT, e.g. `ovn payout 3000 -p drone`",
        None,
    )
}

/// What a preview shows.
struct Shown<'a> {
    result: &'a Payout,
    /// The revision read, as the table names it.
    at: &'a str,
    /// Its full commit id (JSON).
    commit: &'a str,
    pending: &'a [Id],
    overpaid: &'a [String],
}

/// Writes a preview in the format asked for.
fn render(args: &PayoutArgs, s: &Shown<'_>, out: &mut impl Write) -> Result<(), CliError> {
    let result = s.result;
    match args.format {
        // The same three parts, framed for a terminal or for Markdown.
        Format::Table | Format::Markdown => {
            let md = args.format == Format::Markdown;
            if md {
                write!(out, "{}", markdown(result, s.at, s.pending))?;
            } else {
                write!(out, "{}", table(result, s.at, s.pending))?;
            }
            let bullet = if md { "- " } else { "" };
            for n in s.overpaid {
                writeln!(out, "{bullet}{n}")?;
            }
            if args.explain {
                let explained = explain(result);
                if md {
                    write!(out, "\n```text\n{explained}```\n")?;
                } else {
                    write!(out, "\n{explained}")?;
                }
            }
        }
        Format::Csv => {
            writeln!(out, "agent,bucket,amount")?;
            for l in &result.lines {
                writeln!(
                    out,
                    "{},{},{}",
                    l.agent,
                    render::csv_field(&l.bucket),
                    money(l.amount, result.minor_units)
                )?;
            }
        }
        Format::Json => {
            let json = JsonPayout::new(result, s.commit, s.pending, args.explain);
            serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// A revenue amount given on the command line (`flag` names it, empty for the AMOUNT of
/// `ovn payout`): a plain decimal no larger than [`bounds::MAX_AMOUNT`], refused before the
/// ledger is read.
pub(super) fn revenue(flag: &str, text: &str) -> Result<Decimal, CliError> {
    let what = if flag.is_empty() {
        format!("{text:?}")
    } else {
        format!("{flag} {text:?}")
    };
    let amount = parse_decimal_text(text.trim()).map_err(|_| {
        CliError::usage(
            format!("{what} is not an amount"),
            Some("write a plain decimal such as 3000 or 1250.50".to_owned()),
        )
    })?;
    if amount > bounds::MAX_AMOUNT {
        let what = if flag.is_empty() {
            format!("the revenue amount {amount}")
        } else {
            what
        };
        return Err(CliError::usage(
            format!(
                "{what} is more than {}, the largest revenue ovn computes exactly",
                bounds::MAX_AMOUNT
            ),
            Some("see Largest values in ovn-ledger(5)".to_owned()),
        ));
    }
    Ok(amount)
}

fn store_texts(
    store: &Store,
    commit: crate::store::Oid,
    diags: &[Diagnostic],
) -> std::collections::HashMap<String, String> {
    super::problem_texts(store, Some(&commit.to_string()), diags)
}

/// Refuses a payout, a report, an export or the site (`what`, as the message names it: "a
/// payout") on a ledger (read at `commit`, named `rev`) with a problem it cannot work around
/// ([`crate::core::diag::stopping`]): a missing exchange rate only leaves its contribution
/// out, and is said there.
pub(super) fn refuse_problems(
    store: &Store,
    commit: &str,
    diags: &[Diagnostic],
    rev: &str,
    what: &str,
) -> Result<(), CliError> {
    let stopping = crate::core::diag::stopping(diags);
    if stopping.is_empty() {
        return Ok(());
    }
    Err(ledger_problems(
        super::problem_texts(store, Some(commit), &stopping),
        &stopping,
        rev,
        what,
    ))
}

/// An error listing the ledger's problems: what `what` names ("a payout", "a report") is
/// never worked out from a broken ledger.
pub(super) fn ledger_problems(
    texts: std::collections::HashMap<String, String>,
    diags: &[Diagnostic],
    rev: &str,
    what: &str,
) -> CliError {
    let mut message = format!(
        "the ledger at {rev} has {} problem{}; {what} needs a valid ledger:",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    );
    for d in diags.iter().take(20) {
        let loc = d.locate(texts.get(&d.path).map(String::as_str));
        let _ = write!(message, "\n  {}", render::short(d, &loc));
    }
    if diags.len() > 20 {
        let _ = write!(message, "\n  ... and {} more", diags.len() - 20);
    }
    CliError::problems(
        message,
        Some(format!("run `ovn check --at {rev}` for details")),
    )
}

fn pick_project(ledger: &Ledger, asked: Option<&str>) -> Result<String, CliError> {
    if let Some(p) = asked {
        return Ok(p.to_owned());
    }
    match ledger.projects.as_slice() {
        [only] => Ok(only.id.value.to_string()),
        [] => Err(CliError::usage("the ledger has no projects", None)),
        many => Err(CliError::usage(
            "which project? give -p PROJECT",
            Some(format!(
                "projects: {}",
                many.iter()
                    .map(|p| p.id.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

fn bucket_columns(p: &Payout) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for l in &p.lines {
        if !names.contains(&l.bucket) {
            names.push(l.bucket.clone());
        }
    }
    names
}

/// Rows: agent, amount per bucket column (empty where none), total; then the totals row.
fn rows(p: &Payout) -> (Vec<String>, Vec<Vec<String>>) {
    let mu = p.minor_units;
    let columns = bucket_columns(p);
    let mut header = vec!["agent".to_owned()];
    header.extend(columns.iter().cloned());
    header.push("total".to_owned());
    let mut rows = Vec::new();
    for (agent, total) in &p.totals {
        let mut row = vec![agent.to_string()];
        for c in &columns {
            let sum: Decimal = p
                .lines
                .iter()
                .filter(|l| &l.agent == agent && &l.bucket == c)
                .map(|l| l.amount)
                .sum();
            row.push(if sum.is_zero() {
                String::new()
            } else {
                money(sum, mu)
            });
        }
        row.push(money(*total, mu));
        rows.push(row);
    }
    let mut total_row = vec!["total".to_owned()];
    for c in &columns {
        let sum: Decimal = p
            .lines
            .iter()
            .filter(|l| &l.bucket == c)
            .map(|l| l.amount)
            .sum();
        total_row.push(money(sum, mu));
    }
    total_row.push(money(p.sum(), mu));
    rows.push(total_row);
    (header, rows)
}

/// The note for one group of [`Payout::claimed_twice`]: the buckets, the first few ids, the
/// fix.
fn claimed_twice_note(buckets: &[String], ids: &[Id]) -> String {
    const SHOWN: usize = 3;
    let mut named: Vec<String> = ids.iter().take(SHOWN).map(|i| i.to_string()).collect();
    if ids.len() > SHOWN {
        named.push(format!("and {} more", ids.len() - SHOWN));
    }
    let quoted: Vec<String> = buckets.iter().map(|b| format!("{b:?}")).collect();
    format!(
        "{} claimed by buckets {} ({}): paid from each; if that is not meant, add a filter such as `skill` to one of their rules",
        if ids.len() == 1 {
            "1 contribution is".to_owned()
        } else {
            format!("{} contributions are", ids.len())
        },
        quoted.join(" and "),
        named.join(", ")
    )
}

/// Why a bucket of rules has no claim to pay. "No contribution matches its rules" only when
/// nothing was left out as settled, awaiting approval, pending or dated after the payout: after a payout repaid every debt, or while work
/// awaits approval, that would send the reader looking for a mistake in the rules. The
/// payout does not say which bucket a left-out contribution would have claimed in, so the
/// reasons are counted over the payout, and the notes below name each contribution.
fn empty_bucket(p: &Payout, pending: &[Id]) -> String {
    use std::collections::BTreeMap;
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    // The reasons that leave a bucket empty without anything wrong in its rules.
    use payout::Reason::{AfterPayout, AwaitingApproval, DebtSettled, NoExchangeRate, OncePaid};
    for l in p.left_out.iter().filter(|l| {
        matches!(
            l.reason,
            DebtSettled | OncePaid | AwaitingApproval | AfterPayout | NoExchangeRate
        )
    }) {
        *reasons.entry(l.reason.text()).or_default() += 1;
    }
    if !pending.is_empty() {
        reasons.insert("pending review", pending.len());
    }
    if reasons.is_empty() {
        return "no contribution matches its rules".to_owned();
    }
    let counted: Vec<String> = reasons
        .into_iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    format!(
        "no claim left to pay; left out below: {}",
        counted.join(", ")
    )
}

fn notes(p: &Payout, pending: &[Id]) -> Vec<String> {
    let mu = p.minor_units;
    let mut notes = Vec::new();
    for twice in &p.claimed_twice {
        notes.push(claimed_twice_note(&twice.buckets, &twice.contributions));
    }
    let empty = empty_bucket(p, pending);
    for b in &p.buckets {
        if b.returned > Decimal::ZERO {
            let why = if b.claimed == 0 {
                empty.as_str()
            } else {
                "its debt claims needed less"
            };
            notes.push(format!(
                "bucket {:?}: budget {}, paid {}; {} went back to the pool ({why})",
                b.name,
                money(b.budget, mu),
                money(b.paid, mu),
                money(b.returned, mu)
            ));
        }
    }
    for id in pending {
        notes.push(format!("left out {id}: pending review (not merged yet)"));
    }
    for l in &p.left_out {
        notes.push(format!("left out {}: {}", l.contribution, l.reason.text()));
    }
    for c in &p.paid_before_corrections {
        notes.push(c.text(mu));
    }
    notes
}

fn table(p: &Payout, at: &str, pending: &[Id]) -> String {
    let (header, rows) = rows(p);
    // The agent's column is text, every other one an amount.
    let numeric: Vec<bool> = (0..header.len()).map(|i| i > 0).collect();
    let t = super::render::table::draw(&header, rows, &numeric);
    let mut out = format!(
        "Payout of {} {} for project {} by agreement {} ({at})\n",
        money(p.amount, p.minor_units),
        p.currency,
        p.project,
        p.agreement
    );
    let _ = writeln!(out, "{t}");
    for n in notes(p, pending) {
        let _ = writeln!(out, "{n}");
    }
    out
}

fn markdown(p: &Payout, at: &str, pending: &[Id]) -> String {
    use super::render::markdown::text as markdown_text;
    let (header, rows) = rows(p);
    let mut out = format!(
        "**Payout of {} {} for project `{}`** by agreement `{}` ({at})\n\n",
        money(p.amount, p.minor_units),
        p.currency,
        p.project,
        p.agreement
    );
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let aligns: Vec<&str> = (0..header.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "| {} |", aligns.join(" | "));
    let last = rows.len() - 1;
    for (i, row) in rows.into_iter().enumerate() {
        let row = row.iter().map(|c| markdown_text(c));
        let cells: Vec<String> = if i == last {
            row.map(|c| if c.is_empty() { c } else { format!("**{c}**") })
                .collect()
        } else {
            row.collect()
        };
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let notes = notes(p, pending);
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "- {}", markdown_text(&n));
        }
    }
    out
}

/// How a balanced bucket split its budget: each agent's target share of all it has paid,
/// what they received before, and how far below the target they were.
fn explain_balance(out: &mut String, b: &payout::BucketResult, mu: u32) {
    let everything = b.received.checked_add(b.budget).unwrap_or(Decimal::MAX);
    let _ = writeln!(
        out,
        "   balanced: recorded payouts paid {} from {:?} before; with this budget {}, shared by weight as targets",
        money(b.received, mu),
        b.name,
        money(everything, mu)
    );
    let weights: Decimal = b.balance.iter().map(|r| r.weight).sum();
    for r in &b.balance {
        let _ = writeln!(
            out,
            "   {}: weight {} of {}, target {}; received {}; below target by {}",
            r.agent,
            r.weight.normalize(),
            weights.normalize(),
            r.target.round_dp(6).normalize(),
            money(r.received, mu),
            r.underpaid.round_dp(6).normalize()
        );
    }
    let _ = writeln!(
        out,
        "   the budget is split in proportion to how far below target each agent is (nobody is paid past it)"
    );
}

/// How every line arises, bucket by bucket, for anyone to check by hand.
///
/// About a hundred lines: each bucket's sentences (budget, freeze, balance, every claim with
/// its decay and leaver factors, every line) in the order a reader checks them.
pub fn explain(p: &Payout) -> String {
    let mu = p.minor_units;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "How it is computed ({} {}; the pool starts at the whole amount):",
        money(p.amount, mu),
        p.currency
    );
    for (n, b) in p.buckets.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n{}. bucket {:?}: {} → budget {} (rounded down to the minor unit, never more than the pool)",
            n + 1,
            b.name,
            b.rule,
            money(b.budget, mu)
        );
        if let Some(f) = &b.freeze {
            let _ = writeln!(out, "   {}", f.text());
        }
        if b.claims.is_empty() {
            if let Some((agent, _, amount)) = b.lines.first() {
                let _ = writeln!(out, "   paid whole to {agent}: {}", money(*amount, mu));
            } else {
                let _ = writeln!(
                    out,
                    "   {}: the budget goes back to the pool",
                    empty_bucket(p, &[])
                );
            }
            continue;
        }
        let total: Decimal = b.claims.iter().map(|c| c.weight).sum();
        for c in &b.claims {
            // A debt's `how` carries its own equations (value, owed, repaid) ending at the
            // outstanding balance; other claims weigh their value.
            let equation = match c.outstanding {
                Some(o) => format!("{}; debt outstanding {}", c.how, money(o, mu)),
                None => format!(
                    "{} = {}; {}{}{} weight {}",
                    c.how,
                    c.value.normalize(),
                    // Decay multiplies the value into the weight, with the age that chose it.
                    c.decay
                        .as_ref()
                        .map(|(f, why)| format!("× decay {} ({why}); ", f.normalize()))
                        .unwrap_or_default(),
                    // A departure's leaver terms multiply it too, with the departure.
                    c.leaving
                        .as_ref()
                        .map(|(f, why)| format!("× {} {why}; ", f.normalize()))
                        .unwrap_or_default(),
                    c.kind.as_str(),
                    c.weight.normalize()
                ),
            };
            let _ = writeln!(
                out,
                "   {} {}: {equation}; exact share {} → {}",
                c.agent,
                c.contribution,
                c.exact.round_dp(6).normalize(),
                money(c.amount, mu)
            );
        }
        let _ = writeln!(out, "   claims weigh {} in all", total.normalize());
        if !b.balance.is_empty() {
            explain_balance(&mut out, b, mu);
        }
        for (agent, exact, amount) in &b.lines {
            let _ = writeln!(
                out,
                "   line {agent}: exact {} → {}",
                exact.round_dp(6).normalize(),
                money(*amount, mu)
            );
        }
        if b.returned > Decimal::ZERO {
            let _ = writeln!(
                out,
                "   {} back to the pool (debts are never paid more than owed)",
                money(b.returned, mu)
            );
        }
    }
    if let Some(l) = p.lines.iter().find(|l| l.bucket == payout::LEFTOVER) {
        let _ = writeln!(
            out,
            "\nleftover: {} left in the pool goes to {}",
            money(l.amount, mu),
            l.agent
        );
    }
    let _ = writeln!(
        out,
        "\nRounding: in each bucket every line is rounded down to {}, then the units still missing go one each to the lines with the largest remainders (ties: agent id), so each bucket pays exactly its budget and the payout exactly {}.",
        money(Decimal::new(1, mu), mu),
        money(p.amount, mu)
    );
    out
}

#[derive(Serialize)]
struct JsonLine<'a> {
    agent: &'a str,
    bucket: &'a str,
    amount: String,
}

#[derive(Serialize)]
struct JsonTotal<'a> {
    agent: &'a str,
    amount: String,
}

#[derive(Serialize)]
struct JsonBucket<'a> {
    name: &'a str,
    budget: String,
    paid: String,
    returned: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<Vec<JsonClaim<'a>>>,
    /// A balanced bucket's rows (absent for other buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<JsonBalance<'a>>,
    /// A frozen bucket's freeze (absent for other buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    freeze: Option<JsonFreeze>,
}

/// How a balanced bucket stood with each agent: enough to re-derive its split.
#[derive(Serialize)]
struct JsonBalance<'a> {
    /// What recorded payouts paid from a bucket of this name before.
    received: String,
    /// That plus this budget: what the targets share.
    everything: String,
    agents: Vec<JsonBalanceRow<'a>>,
}

#[derive(Serialize)]
struct JsonBalanceRow<'a> {
    agent: &'a str,
    weight: String,
    received: String,
    target: String,
    shortfall: String,
}

/// A bucket's freeze and the work after it.
#[derive(Serialize)]
struct JsonFreeze {
    from: String,
    after: &'static str,
    rate: Option<String>,
    contributions: usize,
    hours: String,
    text: String,
}

/// The decay factor a claim's age gave it.
#[derive(Serialize)]
struct JsonDecay<'a> {
    factor: String,
    age_months: Option<u32>,
    why: &'a str,
}

#[derive(Serialize)]
struct JsonClaim<'a> {
    contribution: &'a str,
    agent: &'a str,
    claim: &'a str,
    value: String,
    weight: String,
    amount: String,
    how: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decay: Option<JsonDecay<'a>>,
    /// The leaver terms applied, when the agent left before the payout.
    #[serde(skip_serializing_if = "Option::is_none")]
    leaving: Option<JsonLeaving<'a>>,
}

/// A departure's leaver terms on one claim: the factor and why.
#[derive(Serialize)]
struct JsonLeaving<'a> {
    factor: String,
    why: &'a str,
}

#[derive(Serialize)]
struct JsonLeftOut {
    contribution: String,
    reason: &'static str,
}

/// A payment recorded on a contribution corrected since (see `PaidBeforeCorrection`).
#[derive(Serialize)]
struct JsonPaidBeforeCorrection<'a> {
    paid_on: &'a str,
    agent: &'a str,
    claim: &'static str,
    amount: String,
    counts_against: &'a str,
    reversed_by: Option<&'a str>,
    note: String,
}

#[derive(Serialize)]
struct JsonPayout<'a> {
    project: &'a str,
    agreement: &'a str,
    amount: String,
    currency: &'a str,
    date: Option<String>,
    commit: &'a str,
    lines: Vec<JsonLine<'a>>,
    totals: Vec<JsonTotal<'a>>,
    buckets: Vec<JsonBucket<'a>>,
    left_out: Vec<JsonLeftOut>,
    paid_before_corrections: Vec<JsonPaidBeforeCorrection<'a>>,
    /// Contributions paid from more than one bucket (see `Payout::claimed_twice`).
    claimed_twice: Vec<JsonClaimedTwice<'a>>,
}

/// Contributions that several buckets paid a lasting claim on.
#[derive(Serialize)]
struct JsonClaimedTwice<'a> {
    buckets: Vec<&'a str>,
    contributions: Vec<&'a str>,
}

impl<'a> JsonPayout<'a> {
    /// The JSON of a payout. About a hundred lines because it is the schema
    /// (`schemas/payout.json`) field by field, in its order.
    fn new(p: &'a Payout, commit: &'a str, pending: &[Id], explain: bool) -> Self {
        let mu = p.minor_units;
        let mut left_out: Vec<JsonLeftOut> = pending
            .iter()
            .map(|id| JsonLeftOut {
                contribution: id.to_string(),
                reason: "pending review",
            })
            .collect();
        left_out.extend(p.left_out.iter().map(|l| JsonLeftOut {
            contribution: l.contribution.to_string(),
            reason: l.reason.text(),
        }));
        JsonPayout {
            project: p.project.as_str(),
            agreement: p.agreement.as_str(),
            amount: money(p.amount, mu),
            currency: &p.currency,
            date: p.date.map(|d| d.to_string()),
            commit,
            lines: p
                .lines
                .iter()
                .map(|l| JsonLine {
                    agent: l.agent.as_str(),
                    bucket: &l.bucket,
                    amount: money(l.amount, mu),
                })
                .collect(),
            totals: p
                .totals
                .iter()
                .map(|(a, v)| JsonTotal {
                    agent: a.as_str(),
                    amount: money(*v, mu),
                })
                .collect(),
            buckets: p
                .buckets
                .iter()
                .map(|b| JsonBucket {
                    name: &b.name,
                    budget: money(b.budget, mu),
                    paid: money(b.paid, mu),
                    returned: money(b.returned, mu),
                    claims: explain.then(|| {
                        b.claims
                            .iter()
                            .map(|c| JsonClaim {
                                contribution: c.contribution.as_str(),
                                agent: c.agent.as_str(),
                                claim: c.kind.as_str(),
                                value: c.value.normalize().to_string(),
                                weight: c.weight.normalize().to_string(),
                                amount: money(c.amount, mu),
                                how: &c.how,
                                decay: c.decay.as_ref().map(|(f, why)| JsonDecay {
                                    factor: f.normalize().to_string(),
                                    age_months: c.age,
                                    why,
                                }),
                                leaving: c.leaving.as_ref().map(|(f, why)| JsonLeaving {
                                    factor: f.normalize().to_string(),
                                    why,
                                }),
                            })
                            .collect()
                    }),
                    balance: json_balance(b, mu),
                    freeze: b.freeze.as_ref().map(|f| JsonFreeze {
                        from: f.freeze.from.to_string(),
                        after: f.freeze.after.as_str(),
                        rate: f.freeze.after.rate().map(|r| r.normalize().to_string()),
                        contributions: f.contributions,
                        hours: f.hours.normalize().to_string(),
                        text: f.text(),
                    }),
                })
                .collect(),
            left_out,
            paid_before_corrections: p
                .paid_before_corrections
                .iter()
                .map(|c| JsonPaidBeforeCorrection {
                    paid_on: c.paid_on.as_str(),
                    agent: c.agent.as_str(),
                    claim: c.kind.as_str(),
                    amount: money(c.amount, mu),
                    counts_against: c.counts_against.as_str(),
                    reversed_by: c.reversed_by.as_ref().map(Id::as_str),
                    note: c.text(mu),
                })
                .collect(),
            claimed_twice: p
                .claimed_twice
                .iter()
                .map(|twice| JsonClaimedTwice {
                    buckets: twice.buckets.iter().map(String::as_str).collect(),
                    contributions: twice.contributions.iter().map(Id::as_str).collect(),
                })
                .collect(),
        }
    }
}

/// A balanced bucket's rows for JSON, exact (normalised decimals), or `None` for another
/// bucket.
fn json_balance(b: &payout::BucketResult, mu: u32) -> Option<JsonBalance<'_>> {
    if b.balance.is_empty() {
        return None;
    }
    Some(JsonBalance {
        received: money(b.received, mu),
        everything: money(b.received.checked_add(b.budget).unwrap_or(Decimal::MAX), mu),
        agents: b
            .balance
            .iter()
            .map(|r| JsonBalanceRow {
                agent: r.agent.as_str(),
                weight: r.weight.normalize().to_string(),
                received: money(r.received, mu),
                target: r.target.normalize().to_string(),
                shortfall: r.underpaid.normalize().to_string(),
            })
            .collect(),
    })
}

/// `ovn payout --record`: writes the payout record in one commit on the current branch,
/// once per revenue event.
#[allow(clippy::too_many_arguments)]
fn record(
    store: &Store,
    ctx: &Context,
    ledger: &Ledger,
    result: &Payout,
    recording: Recording<'_>,
    args: &PayoutArgs,
    rev: &ResolvedRev,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let Recording { settled, source } = recording;
    let date = result.date.unwrap_or_else(|| ctx.now.date_naive());
    let commit = rev.id();
    // The same revenue event must not be recorded twice: look at the payouts of the ledger
    // read and of the current branch.
    let event = ops::payout::Event {
        project: &result.project,
        date,
        amount: result.amount,
        memo: args.memo.as_deref(),
    };
    event.not_recorded(store, rev, ledger, result.minor_units)?;
    if let Some(s) = source {
        ops::incoming::not_taken(store, rev, ledger, s)?;
    }
    let id = super::writing::new_id(ctx)?;
    let digest = payout::digest(ledger, result, settled);
    // Revenue taken in: the record pins its source, and its digest covers it.
    let digest = match source {
        Some(s) => crate::core::incoming::sealed(&digest, s),
        None => digest,
    };
    let mut rec = payout::record(
        result,
        id.clone(),
        date,
        args.memo.clone(),
        commit.clone(),
        digest,
    );
    // The payout follows the head of the project's payout line in the ledger it was
    // computed on (see core::chain).
    rec.follows = Some(At::new(
        chain::follows_for_new(ledger, result.project.as_str())
            .into_iter()
            .map(At::new)
            .collect(),
    ));
    rec.source = source.cloned();
    let text = write::payout(&rec);
    let path = format!("payouts/{}/{id}.toml", date.format("%Y"));
    let message = format!(
        "payout: {} {} {} on {date}{}",
        result.project,
        money(result.amount, result.minor_units),
        result.currency,
        args.memo
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    // Under the lock, look once more for the same event on the branch itself.
    let outcome = commit_payout(store, ctx, (&path, &text), &message, |branch| {
        event.not_on_branch(branch)?;
        if let Some(s) = source {
            ops::incoming::not_taken_in(branch, s)?;
        }
        ops::payout::all_seen(ledger, branch, result.project.as_str(), rev.name())?;
        Ok(())
    })?;
    if args.format == Format::Json {
        // The record and the payout it holds, for a script that records and then pays.
        let json = JsonRecorded {
            id: id.as_str(),
            path: &path,
            commit: outcome.commit.map(|c| c.to_string()),
            branch: outcome.branch.as_deref(),
            payout: JsonPayout::new(result, &commit, &[], args.explain),
        };
        serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
        writeln!(out)?;
        if let Some(h) = &outcome.hint {
            let _ = writeln!(std::io::stderr(), "hint: {h}");
        }
    } else {
        super::writing::report(
            out,
            &format!("Recorded payout {id} (computed at {})", &commit[..12]),
            &outcome,
        )?;
        for note in unrated(result) {
            writeln!(out, "{note}")?;
        }
        if let Some(s) = source {
            super::incoming::report_taken(s, result.minor_units, out)?;
        }
    }
    Ok(EXIT_OK)
}

/// The notes of the contributions `p` left out for want of an exchange rate (a `missing-rate`
/// error of `ovn check`), which a record says as a preview does: the payout went ahead
/// without them, and they take part in a later one once a rate is recorded.
pub(super) fn unrated(p: &Payout) -> impl Iterator<Item = String> + '_ {
    p.left_out
        .iter()
        .filter(|l| l.reason == payout::Reason::NoExchangeRate)
        .map(|l| format!("left out {}: {}", l.contribution, l.reason.text()))
}

/// What a record holds besides the payout: what recorded payouts settled (its digest covers
/// them) and, for revenue taken in from another network, the line it came from.
struct Recording<'a> {
    settled: &'a [payout::Settled],
    source: Option<&'a crate::core::incoming::Source>,
}

/// `ovn payout --record --format json`: where the record went, and the payout it holds.
#[derive(Serialize)]
struct JsonRecorded<'a> {
    id: &'a str,
    path: &'a str,
    /// The commit that recorded it (none with --no-commit).
    commit: Option<String>,
    branch: Option<&'a str>,
    payout: JsonPayout<'a>,
}

/// Commits the payout record `file` (its path and text) on the current branch, with the same
/// safe write as `ovn log`: locked, judged on the branch tip, compare-and-swap, recoverable.
/// Under the lock, `check` judges the branch's payouts first.
fn commit_payout(
    store: &Store,
    ctx: &Context,
    (path, text): (&str, &str),
    message: &str,
    check: impl Fn(&Ledger) -> Result<(), CliError>,
) -> Result<Outcome, CliError> {
    let options = super::writing::options(store, ctx, false)?;
    let (outcome, ()) = store.transact(&options, |view| -> Result<Plan<()>, CliError> {
        let recorded = ops::load::files(&view.read_folders(&["payouts"])?);
        check(recorded.ledger())?;
        Ok(Plan {
            files: vec![(path.to_owned(), text.as_bytes().to_vec())],
            message: message.to_owned(),
            value: (),
        })
    })?;
    Ok(outcome)
}

/// Loads the ledger at `rev` for a reconciliation: its only problems may be forks of the
/// payout line (the very thing a reconciliation joins).
fn load_forked(store: &Store, rev: &ResolvedRev) -> Result<Ledger, CliError> {
    let loaded = ops::load::whole(store, rev)?;
    let other: Vec<Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code != crate::core::diag::Code::PayoutFork && d.code.stops_payouts())
        .cloned()
        .collect();
    if !other.is_empty() {
        return Err(ledger_problems(
            store_texts(store, rev.commit(), &other),
            &other,
            rev.name(),
            "a reconciliation",
        ));
    }
    Ok(loaded.ledger)
}

/// `ovn payout reconcile`: records the reconciliation of a fork of the project's payout
/// line, computed at HEAD, on the current branch.
fn reconcile(
    store: &Store,
    ctx: &Context,
    project: Option<&str>,
    date: Option<&str>,
    memo: &Option<String>,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let date = match date {
        Some(text) => revenue_date(text, ctx.now.date_naive())?,
        None => ctx.now.date_naive(),
    };
    let head = store.resolve_rev("HEAD")?;
    let ledger = load_forked(store, &head)?;
    let project = pick_project(&ledger, project)?;
    let Some(r) = chain::reconciliation(&ledger, &project) else {
        return Err(CliError::usage(
            format!(
                "the payouts of project `{project}` form one line: there is no fork to reconcile"
            ),
            None,
        ));
    };
    let id = super::writing::new_id(ctx)?;
    let commit = head.id();
    let stamp = chain::Stamp {
        id: id.clone(),
        date,
        memo: memo.clone(),
        commit: commit.clone(),
    };
    let rec = chain::reconciliation_record(&ledger, &r, stamp);
    let text = write::payout(&rec);
    let path = format!("payouts/{}/{id}.toml", date.format("%Y"));
    let message = format!(
        "payout: reconcile {project} ({} payouts joined, {} claim{} overpaid)",
        r.follows.len(),
        r.overpaid.len(),
        if r.overpaid.len() == 1 { "" } else { "s" }
    );
    let outcome = commit_payout(store, ctx, (&path, &text), &message, |branch| {
        Ok(ops::payout::all_seen(&ledger, branch, &project, "HEAD")?)
    })?;
    super::writing::report(
        out,
        &format!(
            "Recorded reconciliation {id} of {} payouts of {project} (computed at {})",
            r.follows.len(),
            &commit[..12]
        ),
        &outcome,
    )?;
    let mu = ledger.network.as_ref().map_or(2, |n| n.minor_units);
    for o in &r.overpaid {
        writeln!(
            out,
            "  overpaid: {} claim of {} on {}: repaid {}, owed {}, {} beyond",
            o.kind.as_str(),
            o.agent,
            o.contribution,
            money(o.repaid, mu),
            money(o.owed, mu),
            money(o.excess - o.stated, mu)
        )?;
    }
    Ok(EXIT_OK)
}

/// `payout verify` of a reconciliation: re-derived at its pinned commit.
fn verify_reconciliation(
    store: &Store,
    rec: &crate::core::record::PayoutRecord,
) -> Result<String, CliError> {
    let then = load_forked(store, &store.resolve_rev(&rec.commit)?)?;
    let r = chain::reconciliation(&then, rec.project.value.as_str()).ok_or_else(|| {
        CliError::problems(
            format!(
                "payout {} is a reconciliation, but at {} the payouts of `{}` do not fork",
                rec.id.value,
                &rec.commit[..12.min(rec.commit.len())],
                rec.project.value
            ),
            None,
        )
    })?;
    let stamp = chain::Stamp {
        id: rec.id.value.clone(),
        date: rec.date.value,
        memo: rec.memo.clone(),
        commit: rec.commit.clone(),
    };
    Ok(write::payout(&chain::reconciliation_record(
        &then, &r, stamp,
    )))
}

fn verify(
    store: &Store,
    cwd: &Path,
    id: &str,
    at: &str,
    source: Option<&str>,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let head = store.resolve_rev(at)?;
    let loaded = ops::load::whole(store, &head)?;
    // A unique prefix stands for the whole id, as everywhere an id is taken.
    let payouts = loaded.ledger.payouts.iter().map(|p| p.id.value.as_str());
    let whole = ops::ids::resolve("payout", id, payouts)?.unwrap_or_else(|| id.to_owned());
    let id = whole.as_str();
    let Some(rec) = loaded
        .ledger
        .payouts
        .iter()
        .find(|p| p.id.value.as_str() == id)
    else {
        return Err(CliError::usage(
            format!("no payout record `{id}` at {at}"),
            None,
        ));
    };
    if source.is_some() && rec.source.is_none() {
        return Err(CliError::usage(
            format!(
                "payout {id} takes no revenue in from another network: --source has nothing to check"
            ),
            None,
        ));
    }
    if cascade::is_part(rec) {
        return cascade::verify(store, &head, &loaded.ledger, rec, out);
    }
    let recorded = store
        .read_file_at(&head.id(), loaded.ledger.path(rec.file))?
        .unwrap_or_default();
    // The head's ledger is not needed again: dropped before the pinned commit is loaded, so
    // the two are never held at once.
    let rec = rec.clone();
    let rec = &rec;
    drop(loaded);
    if store.resolve(&rec.commit).is_err() {
        return Err(CliError::problems(
            format!(
                "payout {id} was computed at commit {}, which this repository does not have: a rewritten history orphaned it, or it was never fetched",
                rec.commit
            ),
            Some(
                "fetch the commit if a remote still has it; otherwise the payout cannot be re-derived: run `ovn check --history` and see PAYOUT LINE in ovn-ledger(5)".to_owned(),
            ),
        ));
    }
    let text = if rec.amount.value.is_zero() {
        verify_reconciliation(store, rec)?
    } else {
        rederive(store, rec)?
    };
    if text.as_bytes() == recorded.as_slice() {
        writeln!(
            out,
            "payout {id} matches: re-derived at {} byte for byte ({} lines, {} {})",
            &rec.commit[..12],
            rec.lines.len(),
            rec.amount.value,
            rec.currency
        )?;
        if let Some(s) = &rec.source {
            return super::incoming::verify_source(store, cwd, s, source, out);
        }
        return Ok(EXIT_OK);
    }
    writeln!(
        out,
        "payout {id} does NOT match its re-derivation at {}:",
        &rec.commit[..12]
    )?;
    for line in line_diff(&String::from_utf8_lossy(&recorded), &text) {
        writeln!(out, "{line}")?;
    }
    Ok(EXIT_PROBLEMS)
}

/// The lines of a recorded payout that its re-derivation lacks (`- `), then those it adds
/// (`+ `), each escaped for the terminal (the record is the repository's, so anyone's). The
/// lines are looked up in sets: a payout record may hold hundreds of thousands.
pub(super) fn line_diff(recorded: &str, derived: &str) -> Vec<String> {
    let old: Vec<&str> = recorded.lines().collect();
    let new: Vec<&str> = derived.lines().collect();
    let (in_old, in_new): (HashSet<&str>, HashSet<&str>) =
        (old.iter().copied().collect(), new.iter().copied().collect());
    let gone = old
        .iter()
        .filter(|l| !in_new.contains(*l))
        .map(|l| ("-", l));
    let added = new
        .iter()
        .filter(|l| !in_old.contains(*l))
        .map(|l| ("+", l));
    gone.chain(added)
        .map(|(sign, l)| format!("{sign} {}", render::visible(l)))
        .collect()
}

/// The text of payout record `rec` re-derived at its pinned commit.
pub(super) fn rederive(
    store: &Store,
    rec: &crate::core::record::PayoutRecord,
) -> Result<String, CliError> {
    let pinned = store.resolve_rev(&rec.commit)?;
    let then = ops::load::whole(store, &pinned)?;
    refuse_problems(
        store,
        &pinned.id(),
        &then.diagnostics,
        &rec.commit,
        "a payout",
    )?;
    let request = Request {
        project: rec.project.value.as_str(),
        amount: rec.amount.value,
        date: Some(rec.date.value),
    };
    let ops::payout::Computed {
        payout: result,
        settled,
        ..
    } = ops::payout::compute(
        store,
        &pinned,
        &then.ledger,
        &request,
        ops::payout::Detail::REDERIVE,
    )?;
    let digest = payout::digest(&then.ledger, &result, &settled);
    let digest = match &rec.source {
        Some(s) => crate::core::incoming::sealed(&digest, s),
        None => digest,
    };
    let mut again = payout::record(
        &result,
        rec.id.value.clone(),
        rec.date.value,
        rec.memo.clone(),
        rec.commit.clone(),
        digest,
    );
    again.source = rec.source.clone();
    // A record written before `follows` existed is re-derived as it was written.
    if rec.follows.is_some() {
        again.follows = Some(At::new(
            chain::follows_for_new(&then.ledger, rec.project.value.as_str())
                .into_iter()
                .map(At::new)
                .collect(),
        ));
    }
    Ok(write::payout(&again))
}
