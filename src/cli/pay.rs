//! `ovn pay`: record that payout lines were paid, in one commit.
//!
//! Thin: it parses the flags into an [`ops::pay::Request`], and inside the write's
//! transaction (on the branch tip, under the lock) reads the ledger the payment is judged
//! against, lets [`ops::pay::plan`] choose the lines and amounts, judges the new records with
//! the checks of `ovn check`, and commits them. A dry run does the same and stops before the
//! commit.

use std::io::Write;
use std::path::Path;

use clap::Args;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::ledger::RawFile;
use crate::core::payment::{self, Payment};
use crate::core::payout::money;
use crate::core::render::visible;
use crate::core::value::parse_decimal_text;
use crate::ops;
use crate::ops::pay::{Lines, Request};
use crate::store::{Plan, View};

/// Record payments of payout lines (the money actually sent).
///
/// A recorded payout says what each agent is owed; `ovn pay` records that (part of) a line was
/// paid: one payment record per line, payments/YYYY/ID.toml, naming the payout, the line
/// (its agent and bucket), the amount, the date, the method and the bank's reference,
/// committed on the current branch in one commit, "pay: ...". Merge it into the validated
/// branch as any other ledger change.
///
/// PAYOUT is the payout's id or a unique start of it. Name the line with --agent (and
/// --bucket when the agent has lines in several buckets) or --line N (as `ovn report payouts`
/// numbers a payout's lines), or pay every outstanding line with --all. The amount is what is
/// outstanding on the line unless --amount says less (partial payments add up); more than is
/// outstanding is refused, and so is a line with nothing outstanding. `ovn check` rejects a
/// ledger whose payments of a line sum to more than the line owes, which can happen when two
/// people record payments of the same line on two branches: record the money the agent
/// returns with --refund (by default the excess), and the line is whole again. A payment is
/// never edited or deleted once merged (`ovn check --history`).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn pay 01jq0c8d --agent ana --method \"bank transfer\" --reference TX-4411
  ovn pay 01jq0c8d --agent ben --bucket reimbursement --amount 150.00 --method cash
  ovn pay 01jq0c8d --line 2 --date 2026-12-01 --method \"bank transfer\"
  ovn pay 01jq0c8d --all --method \"bank transfer\" --memo \"December batch\" --dry-run
  ovn pay 01jq0c8d --agent ana --refund --method \"bank transfer\"

Exit status: 0 recorded (or shown with --dry-run), 1 the payment would bring problems, 2 bad \
input (an unknown payout or line, nothing outstanding, more than is outstanding; nothing \
written), 3 environment error.")]
pub struct PayArgs {
    /// The payout's id, or a unique start of it
    #[arg(value_name = "PAYOUT")]
    pub payout: String,

    /// Pay the line of this agent
    #[arg(long, value_name = "AGENT", conflicts_with_all = ["line", "all"])]
    pub agent: Option<String>,

    /// With --agent: the line in this bucket (when the agent has several)
    #[arg(long, value_name = "BUCKET", requires = "agent")]
    pub bucket: Option<String>,

    /// Pay line N of the payout (1 is the first, in the payout's order)
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub line: Option<usize>,

    /// Pay every line with something outstanding, each in full, in one commit
    #[arg(long)]
    pub all: bool,

    /// How much [default: what is outstanding on the line; for a refund, what it was overpaid]
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Option<String>,

    /// The day the money moved: YYYY-MM-DD, today or yesterday [default: today]
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,

    /// How it was paid ("bank transfer", "cash", ...)
    #[arg(long, value_name = "TEXT")]
    pub method: String,

    /// The bank's or payment processor's reference
    #[arg(long, value_name = "TEXT")]
    pub reference: Option<String>,

    /// A note kept in each payment record
    #[arg(long, value_name = "TEXT")]
    pub memo: Option<String>,

    /// Record money the agent returned (counts against what the line was paid)
    #[arg(long)]
    pub refund: bool,

    /// Show what would be recorded; write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write the record files but do not commit them
    #[arg(long, conflicts_with = "dry_run")]
    pub no_commit: bool,
}

/// Why the transaction stopped.
enum Stop {
    Refused(Refusal),
    Shown(Vec<Payment>, u32),
}

impl From<Refusal> for Stop {
    fn from(r: Refusal) -> Stop {
        Stop::Refused(r)
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Stop {
        Stop::Refused(e.into())
    }
}

impl From<CliError> for Stop {
    fn from(e: CliError) -> Stop {
        Stop::Refused(e.into())
    }
}

/// Runs `ovn pay`.
pub fn run(args: PayArgs, cwd: &Path, ctx: &Context, out: &mut impl Write) -> Result<u8, CliError> {
    let request = request(&args, ctx)?;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let result = store.transact(
        &options,
        |view: &View<'_>| -> Result<Plan<(Vec<Payment>, u32)>, Stop> {
            let base = ops::pay::base(view)?;
            let ledger = &base.loaded().ledger;
            let planned: Vec<Payment> = ops::pay::plan(ledger, &request, || writing::new_id(ctx))?;
            let mu = ledger.network.as_ref().map_or(2, |n| n.minor_units);
            let added: Vec<RawFile> = planned
                .iter()
                .map(|p| RawFile {
                    path: p.path(),
                    bytes: payment::write(p).into_bytes(),
                })
                .collect();
            writing::judge(view, &base, &added)?;
            if args.dry_run {
                return Err(Stop::Shown(planned, mu));
            }
            Ok(Plan {
                files: added.into_iter().map(|f| (f.path, f.bytes)).collect(),
                message: message(&planned, mu),
                value: (planned, mu),
            })
        },
    );
    match result {
        Ok((outcome, (planned, mu))) => {
            let what = summary(&planned, mu);
            writing::report(out, &format!("Recorded {what}"), &outcome)?;
            Ok(EXIT_OK)
        }
        Err(Stop::Shown(planned, mu)) => {
            writeln!(
                out,
                "Would record {} (nothing written):",
                summary(&planned, mu)
            )?;
            for p in &planned {
                writeln!(out, "  {}", line(p, mu))?;
            }
            Ok(EXIT_OK)
        }
        Err(Stop::Refused(r)) => Err(writing::refuse(r)),
    }
}

/// The request the flags make, each value checked as far as the flags alone allow.
fn request(args: &PayArgs, ctx: &Context) -> Result<Request, CliError> {
    let lines = match (&args.agent, args.line, args.all) {
        (Some(a), None, false) => Lines::Agent(
            writing::parse_id("--agent", a)?,
            args.bucket
                .as_deref()
                .map(|b| writing::text("--bucket", b))
                .transpose()?,
        ),
        (None, Some(n), false) => Lines::Number(n),
        (None, None, true) => Lines::All,
        _ => {
            return Err(CliError::usage(
                "which line? give --agent, --line or --all",
                Some("`ovn report payouts` lists each payout's lines".to_owned()),
            ));
        }
    };
    let amount = args
        .amount
        .as_deref()
        .map(|text| {
            parse_decimal_text(text.trim()).map_err(|_| {
                CliError::usage(
                    format!("--amount {:?} is not an amount", visible(text)),
                    Some("write a plain decimal with a point, such as 120.50 (no currency sign, no thousands separator)".to_owned()),
                )
            })
        })
        .transpose()?;
    let today = ctx.now.date_naive();
    let date = match &args.date {
        Some(d) => writing::date("--date", d, today)?,
        None => today,
    };
    let optional =
        |flag: &str, v: &Option<String>| v.as_deref().map(|t| one_line(flag, t)).transpose();
    Ok(Request {
        payout: args.payout.trim().to_owned(),
        lines,
        amount,
        date,
        method: one_line("--method", &args.method)?,
        reference: optional("--reference", &args.reference)?,
        memo: optional("--memo", &args.memo)?,
        refund: args.refund,
    })
}

/// Free text of a payment: the reader's rule for text, on one line (a method, a bank
/// reference and a memo land on one line of a journal and of a bank batch).
fn one_line(flag: &str, value: &str) -> Result<String, CliError> {
    let text = writing::text(flag, value)?;
    if text.contains(['\n', '\r']) {
        return Err(CliError::usage(
            format!("{flag} spans several lines"),
            Some("write it on one line".to_owned()),
        ));
    }
    Ok(text)
}

/// One payment as the command shows it.
fn line(p: &Payment, mu: u32) -> String {
    format!(
        "{}{} {} to {} ({}) of payout {}, {} {}",
        if p.refund { "refund of " } else { "" },
        money(p.amount.value, mu),
        p.currency,
        p.agent.value,
        visible(&p.bucket.value),
        p.payout.value,
        p.date.value,
        visible(&p.method)
    )
}

/// "payment 01... of 40.00 EUR to ana (equity) of payout ..." or "3 payments of payout ...,
/// 120.00 EUR in all".
fn summary(planned: &[Payment], mu: u32) -> String {
    match planned {
        [one] => format!(
            "{} {}: {}",
            if one.refund { "refund" } else { "payment" },
            one.id.value,
            line(one, mu)
        ),
        many => {
            let total: rust_decimal::Decimal = many.iter().map(|p| p.amount.value).sum();
            format!(
                "{} payments of payout {}, {} {} in all",
                many.len(),
                many.first().map_or("", |p| p.payout.value.as_str()),
                money(total, mu),
                many.first().map_or("", |p| p.currency.as_str())
            )
        }
    }
}

/// The commit message: a summary line, then each payment.
fn message(planned: &[Payment], mu: u32) -> String {
    let mut m = format!("pay: {}\n", summary(planned, mu));
    if planned.len() > 1 {
        m.push('\n');
        for p in planned {
            m.push_str(&line(p, mu));
            m.push('\n');
        }
    }
    m
}
