//! Exports: the ledger in the formats other tools read — the treasurer's books as an hledger
//! or ledger-cli journal or a beancount file, recorded payouts as CSV and JSON for
//! spreadsheets and payment batches (ValueFlows JSON-LD for other commons tools is
//! [`super::valueflows`]).
//!
//! Each export is a pure function from a valid ledger and a query to text; writing it to a
//! file (atomically) is the CLI's job. The books are decided once, as data, in [`books`]
//! (which record books what, in which account), and [`mod@journal`] only spells them in each
//! syntax, so the three journals cannot drift apart. A reimbursement, for example, settles
//! the liability its advance booked, so money a member advanced is expensed once:
//!
//! ```text
//! 2026-03-12 * (01aaa...4) Contribution ben | Bought motors
//!     expenses:projects:drone:money   400.00 EUR   spent for the project...
//!     liabilities:members:ben        -400.00 EUR   ...and owed to ben
//! 2026-11-30 * (01m86fyz80begts8jfgcvg5g7q) Payout drone | Invoice 114
//!     assets:receivable:drone        3000.00 EUR   the revenue event, to be received
//!     income:projects:drone         -3000.00 EUR   the project's revenue
//!     liabilities:members:ben         400.00 EUR   the reimbursement line settles the debt...
//!     liabilities:payable:ben        -400.00 EUR   ...and is owed to ben until paid
//!     ...
//! ```
//!
//! Every figure is the record's own (claims as `ovn report claims` works them out), already
//! exact to the minor unit, so the journals balance by construction;
//! `tests/suite/cli/export.rs` has the real hledger, ledger and bean-check read them and
//! agree with the reports to the cent. CSV and JSON list the payout records as they are.

use std::collections::BTreeSet;

pub mod books;
pub mod journal;
pub mod parts;

pub use journal::Dialect;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::ledger::Ledger;
use super::payment::Payment;
use super::payout::{PayoutError, money};
use super::record::PayoutRecord;
use super::report::Query;

/// Why an export cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Two ids become the same beancount account name (`a_b` and `a-b`).
    #[error(
        "ids `{first}` and `{second}` both become the beancount account component `{account}` (beancount allows no `_`)"
    )]
    AccountClash {
        /// The first id.
        first: String,
        /// The second id.
        second: String,
        /// The account name both map to.
        account: String,
    },
    /// The claims the books hold cannot be worked out (as `ovn report claims` would say).
    #[error("{0}")]
    Claims(#[from] PayoutError),
}

/// The recorded payouts a query selects (by project and date), by date then id.
/// Reconciliations (amount zero) move no money and are left out.
pub fn selected_payouts<'l>(ledger: &'l Ledger, query: &Query) -> Vec<&'l PayoutRecord> {
    let mut out: Vec<&PayoutRecord> = ledger
        .payouts
        .iter()
        .filter(|p| !p.amount.value.is_zero())
        .filter(|p| query.project(&p.project.value) && query.dated(p.date.value))
        .collect();
    out.sort_by(|a, b| (a.date.value, &a.id.value).cmp(&(b.date.value, &b.id.value)));
    out
}

/// The payments of the selected payouts that the query's dates select (by the payment's own
/// date), by date then id.
pub fn selected_payments<'l>(
    ledger: &'l Ledger,
    payouts: &[&PayoutRecord],
    query: &Query,
) -> Vec<&'l Payment> {
    let ids: BTreeSet<&str> = payouts.iter().map(|p| p.id.value.as_str()).collect();
    let mut out: Vec<&Payment> = ledger
        .payments
        .iter()
        .filter(|p| ids.contains(p.payout.value.as_str()) && query.dated(p.date.value))
        .collect();
    out.sort_by(|a, b| (a.date.value, &a.id.value).cmp(&(b.date.value, &b.id.value)));
    out
}

/// The hledger name of the account payments are booked from.
fn payment_account(ledger: &Ledger) -> &str {
    ledger
        .network
        .as_ref()
        .map_or(super::record::Network::DEFAULT_PAYMENT_ACCOUNT, |n| {
            n.payment_account()
        })
}

/// A payment's description and its comment line (method, reference, memo), on one line each.
fn payment_text(p: &Payment) -> (String, String) {
    let word = if p.refund { "Refund" } else { "Payment" };
    let mut note = format!(
        "bucket: {}, method: {}",
        one_line(&p.bucket.value),
        one_line(&p.method)
    );
    if let Some(r) = &p.reference {
        note.push_str(&format!(", reference: {}", one_line(r)));
    }
    if let Some(m) = &p.memo {
        note.push_str(&format!(", memo: {}", one_line(m)));
    }
    (format!("{word} {}", p.agent.value), note)
}

fn minor_units(ledger: &Ledger) -> u32 {
    ledger.network.as_ref().map_or(2, |n| n.minor_units)
}

fn network_name(ledger: &Ledger) -> &str {
    ledger.network.as_ref().map_or("", |n| n.name.as_str())
}

/// Text safe on one journal line: no comment or line breaks (`;` and newlines), and no
/// other control character (a record's text is never sent raw to a terminal).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ';' => ',',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// The opening comment of a journal (hledger's, ledger-cli's and beancount's share the `;`
/// comment): what it is, from which commit, and how to read it.
fn journal_header(ledger: &Ledger, commit: &str) -> String {
    format!(
        "; {}: the treasurer's books, exported by ovn from ledger commit {commit}\n\
         ; Revenue is income of its project; what members advanced is owed to them until a payout\n\
         ; line settles it; each line is owed to its agent until paid. Accounts: ovn-ledger(5).\n\n",
        one_line(network_name(ledger))
    )
}

fn settings(ledger: &Ledger) -> books::Settings<'_> {
    books::Settings {
        minor_units: minor_units(ledger),
        bank: payment_account(ledger),
    }
}

/// The books as an hledger or ledger-cli journal: accounts and commodities declared (so
/// `hledger check --strict` and `ledger --pedantic` pass), then one balanced transaction per
/// debt-holding contribution (and, with `hours`, per contribution with hours), payout and
/// payment, in date order. See [`books`] for what each books.
pub fn journal(
    ledger: &Ledger,
    query: &Query,
    commit: &str,
    dialect: Dialect,
    hours: bool,
) -> Result<String, ExportError> {
    let entries = books::entries(ledger, query, &settings(ledger), hours)?;
    let mut out = journal::write(
        &entries,
        minor_units(ledger),
        dialect,
        &journal_header(ledger, commit),
    );
    // The rates that converted contributions in other currencies (hledger and ledger-cli
    // read the same `P` directive).
    out.push_str(&super::fx::hledger_prices(&super::fx::prices(ledger)));
    Ok(out)
}

/// The books as a beancount file: the same entries as [`fn@journal`], accounts opened on the
/// first day, the records' ids, agreement, commit and digest as metadata. Fails when two
/// ids become the same account name.
pub fn beancount(
    ledger: &Ledger,
    query: &Query,
    commit: &str,
    hours: bool,
) -> Result<String, ExportError> {
    let entries = books::entries(ledger, query, &settings(ledger), hours)?;
    let mut out = journal::beancount(
        &entries,
        minor_units(ledger),
        &format!("{}: payouts", network_name(ledger)),
        &journal_header(ledger, commit),
    )?;
    out.push_str(&super::fx::beancount_prices(&super::fx::prices(ledger)));
    Ok(out)
}

/// The parts of the books of each day folder `wanted` names (see [`parts`]), in path
/// order, in `syntax`; with `hours`, contributions' hours too. Hours are written with the
/// finest places these folders use.
pub fn folder_parts<'l>(
    ledger: &'l Ledger,
    query: &Query,
    syntax: parts::Syntax,
    hours: bool,
    wanted: impl Fn(&str) -> bool + Sync,
) -> Result<Vec<(&'l str, parts::Packed)>, ExportError> {
    use rayon::prelude::*;
    let folders = books::contributions_by_folder(ledger, query, &settings(ledger), hours, wanted)?;
    let places = folders
        .iter()
        .map(|(_, _, entries)| parts::scale(entries))
        .max()
        .unwrap_or(0);
    let corrected = super::payout::corrected(ledger);
    let mu = minor_units(ledger);
    Ok(folders
        .into_par_iter()
        .map(|(folder, range, entries)| {
            let mut part = parts::part(&entries, syntax, mu, places);
            part.prices = super::fx::prices_of(ledger, &ledger.contributions[range], &corrected);
            (folder, parts::Packed::new(&part))
        })
        .collect())
}

/// The books of `ledger` (at `commit`) in `syntax` (and `dialect`, for a journal) from the
/// parts of every day folder (in path order, from [`folder_parts`] now or earlier): the
/// same text as [`fn@journal`] or [`beancount`], or `None` when the parts do not fit
/// together (see [`parts::assemble`]); those then say it.
pub fn from_parts(
    ledger: &Ledger,
    query: &Query,
    commit: &str,
    dialect: Dialect,
    syntax: parts::Syntax,
    folders: Vec<parts::Packed>,
) -> Option<parts::Assembled> {
    let records = books::record_entries(ledger, query, &settings(ledger));
    let books = parts::Books {
        syntax,
        dialect,
        minor_units: minor_units(ledger),
        header: &journal_header(ledger, commit),
        title: &format!("{}: payouts", network_name(ledger)),
    };
    parts::assemble(folders, &records, &books)
}

/// The columns of the CSV export, one row per payout line. Stable: new columns only ever go
/// at the end.
pub const CSV_COLUMNS: &str =
    "date,payout,project,agreement,memo,agent,bucket,amount,currency,commit";

/// Every line of every selected payout as CSV (see [`CSV_COLUMNS`]).
pub fn csv(ledger: &Ledger, query: &Query) -> String {
    let mu = minor_units(ledger);
    let mut out = format!("{CSV_COLUMNS}\n");
    for p in selected_payouts(ledger, query) {
        for l in &p.lines {
            let cells = [
                p.date.value.to_string(),
                p.id.value.to_string(),
                p.project.value.to_string(),
                p.agreement.value.to_string(),
                p.memo.clone().unwrap_or_default(),
                l.agent.value.to_string(),
                l.bucket.clone(),
                money(l.amount, mu),
                p.currency.clone(),
                p.commit.clone(),
            ];
            let cells: Vec<String> = cells.iter().map(|c| super::render::csv_field(c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
    }
    out
}

/// The selected payouts as JSON: every field of the records, amounts as decimal strings.
pub fn json(ledger: &Ledger, query: &Query, commit: &str) -> Value {
    let mu = minor_units(ledger);
    let payouts: Vec<Value> = selected_payouts(ledger, query)
        .into_iter()
        .map(|p| {
            json!({
                "id": p.id.value.as_str(),
                "date": p.date.value.to_string(),
                "project": p.project.value.as_str(),
                "agreement": p.agreement.value.as_str(),
                "amount": money(p.amount.value, mu),
                "currency": p.currency,
                "memo": p.memo,
                "commit": p.commit,
                "digest": p.digest,
                "lines": p.lines.iter().map(|l| json!({
                    "agent": l.agent.value.as_str(),
                    "bucket": l.bucket,
                    "amount": money(l.amount, mu),
                })).collect::<Vec<_>>(),
                "settled": p.settled.iter().map(|s| json!({
                    "contribution": s.contribution.value.as_str(),
                    "agent": s.agent.value.as_str(),
                    "claim": s.claim.as_str(),
                    "amount": money(s.amount, mu),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "network": network_name(ledger),
        "currency": ledger.network.as_ref().map(|n| n.currency.as_str()),
        "commit": commit,
        "payouts": payouts,
    })
}
