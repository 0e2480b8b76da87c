//! `ovn revert`: cancel a contribution with a new record that reverses it.
//!
//! A validated record is never edited or deleted (history is the audit trail), so a mistake is
//! undone by a reversing record. What recorded payouts already paid on it stays paid and is
//! said in a note (`already_paid`), not netted: money paid is not taken back by a ledger
//! entry. Like `log`, the new record is judged by the checks of `ovn check` before its commit.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use clap::Args;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::cache::CorrectionsRead;
use crate::context::Context;
use crate::core::record::{At, Contribution, Kind};
use crate::core::value::Id;
use crate::core::write;
use crate::ops::write::Base;
use crate::store::{Plan, View};

/// Cancel a contribution by recording one that reverses it.
///
/// History is never rewritten: the contribution ID stays where it is, and a new record with
/// `reverses = "ID"` says it no longer counts (for payouts, and for the hours of its day). The
/// reversal names the same agent, project and kind, carries the reason as its description, is
/// dated today (or --date), and is committed alone on the current branch as
/// "revert: ID (what it recorded)". To replace a contribution with a corrected one instead,
/// use `ovn log ... --supersedes ID`.
///
/// A record is corrected once: one already reversed or superseded is refused (revert the
/// latest correction of its chain instead). What recorded payouts already paid on it stays
/// paid: the output says so, as `ovn report claims` and later payouts do ("reversed after
/// 200.00 was repaid to ben"); nothing is netted out as a negative line.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ovn revert 01kk0b7c00q8m2t5v9x3c6n1hd --reason \"Logged the motor receipt twice\"")]
pub struct RevertArgs {
    /// The id of the contribution to reverse (its file name without .toml)
    #[arg(value_name = "ID")]
    pub id: String,

    /// Why it no longer counts (becomes the reversal's description)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,

    /// The day of the reversal: YYYY-MM-DD, today or yesterday [default: today]
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,

    /// Write the record file but do not commit it
    #[arg(long)]
    pub no_commit: bool,
}

/// Runs `ovn revert`.
pub fn run(
    args: RevertArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let target = writing::parse_id("contribution id", args.id.trim())?;
    let reason = writing::text("--reason", &args.reason)?;
    let today = ctx.now.date_naive();
    let date = match &args.date {
        Some(d) => writing::date("--date", d, today)?,
        None => today,
    };
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let id = writing::new_id(ctx)?;
    let day_folder = format!("contributions/{}", date.format("%Y/%m/%d"));
    let path = format!("{day_folder}/{id}.toml");

    let result = store.transact(
        &options,
        |view: &View<'_>| -> Result<Plan<(String, Vec<String>)>, Refusal> {
            // The whole id, when a unique prefix of it was given.
            let (target, found) = crate::ops::ids::contribution(view, target.as_str())
                .map_err(CliError::from)?
                .ok_or_else(|| writing::no_contribution(&target))?;
            let base = Base::read(view, &[&day_folder], &[&found])?;
            let loaded = base.loaded();
            let network = super::log::network(loaded)?;
            let original = writing::contribution_in(loaded, &target, &found)?;
            if original.reverses().is_some() {
                return Err(CliError::usage(
                    format!("{target} is itself a reversal"),
                    Some("to count the original again, log it again with `ovn log`".to_owned()),
                )
                .into());
            }
            let all = view.load_corrections()?;
            super::supersede::corrected_once(&all.ledger, &target)?;
            let paid = already_paid(&all.ledger, &target);
            let reversal = reversal(&original, id.clone(), date, reason.clone());
            let file = writing::judged(view, &base, &path, write::contribution(&reversal))?;
            let summary = super::log::summary(&original, &network.currency);
            Ok(Plan {
                files: vec![file],
                message: format!("revert: {target} ({summary})\n\n{reason}\n"),
                value: (format!("{target} ({summary})"), paid),
            })
        },
    );
    let (outcome, (summary, paid)) = result.map_err(writing::refuse)?;
    writing::report(out, &format!("Reverted {summary} with {id}"), &outcome)?;
    for p in paid {
        writeln!(out, "{p}")?;
    }
    Ok(EXIT_OK)
}

/// The record `id`, dated `date`, that reverses `original` for `reason`: the same agent,
/// project and kind (and resource, for use of one).
fn reversal(original: &Contribution, id: Id, date: NaiveDate, reason: String) -> Contribution {
    let mut c = Contribution {
        resource: match original.kind {
            Kind::Use => original.resource.clone(),
            _ => None,
        },
        ..Contribution::new(
            At::new(id),
            original.agent.clone(),
            date,
            original.project.clone(),
            original.kind.clone(),
            reason,
        )
    };
    c.set_reverses(Some(At::new(original.id.value.clone())));
    c
}

/// What recorded payouts already paid on `target` (or on the records it corrects), one
/// sentence per agent and claim: it stays paid after the reversal, and is shown, not netted.
fn already_paid(
    ledger: &crate::core::ledger::Ledger,
    target: &crate::core::value::Id,
) -> Vec<String> {
    use crate::core::payout;
    let settled = payout::settled_by_records(ledger);
    let minor_units = ledger.network.as_ref().map_or(2, |n| n.minor_units);
    let mut sums: std::collections::BTreeMap<(String, &'static str), rust_decimal::Decimal> =
        std::collections::BTreeMap::new();
    for s in payout::follow_corrections(ledger, &settled).iter() {
        if s.contribution == *target {
            *sums
                .entry((s.agent.to_string(), s.kind.as_str()))
                .or_default() += s.amount;
        }
    }
    sums.into_iter()
        .map(|((agent, kind), amount)| {
            format!(
                "Note: recorded payouts already paid {} to {agent} on its {kind} claim; that stays paid (ovn report claims shows it)",
                payout::money(amount, minor_units)
            )
        })
        .collect()
}
