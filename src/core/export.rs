//! Exports: recorded payouts (and contributions) in the formats other tools read — an hledger
//! journal and a beancount file for the treasurer, CSV and JSON for spreadsheets and payment
//! batches (ValueFlows JSON-LD for other commons tools is [`super::valueflows`]).
//!
//! Each export is a pure function from a valid ledger and a query to text; writing it to a
//! file (atomically) is the CLI's job. A payout becomes one balanced transaction, booked the
//! accrual way so a journal says everything the payout record says and nothing more:
//!
//! ```text
//! 2026-11-30 * (01m86fyz80begts8jfgcvg5g7q) Payout drone | Invoice 114
//!     assets:receivable:drone       3000.00 EUR   the revenue event, to be received
//!     income:projects:drone        -3000.00 EUR   the project's revenue
//!     expenses:payouts:ana          1150.00 EUR   each line shared out...
//!     liabilities:payable:ana      -1150.00 EUR   ...and owed to its agent until paid
//! ```
//!
//! Each payment recorded with `ovn pay` then settles its line's payable from the asset account
//! named by `payment_account` in `ovn.toml` (default `assets:bank`); a refund books the other
//! way. What is left on `liabilities:payable:AGENT` is what is outstanding, the figure `ovn
//! report payouts` shows:
//!
//! ```text
//! 2026-12-01 * (01m8a...) Payment ana | payout 01m86fyz80begts8jfgcvg5g7q
//!     liabilities:payable:ana        150.00 EUR   settles (part of) the line
//!     assets:bank                   -150.00 EUR   from the network's account
//! ```
//!
//! A ledger without payments exports exactly as before. The cash coming in (receivable →
//! bank) is the treasurer's to book. Every figure is the record's own, already exact to the
//! minor unit, so the journals balance by construction; `tests/suite/cli/export.rs` and
//! `tests/suite/cli/pay.rs` have the real `hledger check` and `bean-check` agree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::ledger::Ledger;
use super::payment::Payment;
use super::payout::money;
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

/// Text safe on one journal line: no comment or line breaks (`;`, `#` and newlines).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            ';' => ',',
            c => c,
        })
        .collect()
}

/// The opening comment of a journal (hledger's and beancount's share the `;` comment): what
/// it is, from which commit, and how to read it.
fn journal_header(ledger: &Ledger, commit: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; {}: recorded payouts, exported by ovn from ledger commit {commit}",
        one_line(network_name(ledger))
    );
    let _ = writeln!(
        out,
        "; Revenue is income of its project, to be received; each payout line is an expense owed\n; to its agent until paid. See ovn-export(1).\n"
    );
    out
}

/// The payouts as an hledger journal: accounts and the commodity declared (so
/// `hledger check --strict` passes), then one balanced transaction per payout.
pub fn hledger(ledger: &Ledger, query: &Query, commit: &str) -> String {
    let mu = minor_units(ledger);
    let payouts = selected_payouts(ledger, query);
    let payments = selected_payments(ledger, &payouts, query);
    let bank = payment_account(ledger);
    let mut out = journal_header(ledger, commit);
    let mut accounts = BTreeSet::new();
    if !payments.is_empty() {
        accounts.insert(bank.to_owned());
    }
    let mut commodities = BTreeSet::new();
    for p in &payouts {
        accounts.insert(format!("assets:receivable:{}", p.project.value));
        accounts.insert(format!("income:projects:{}", p.project.value));
        for l in &p.lines {
            accounts.insert(format!("expenses:payouts:{}", l.agent.value));
            accounts.insert(format!("liabilities:payable:{}", l.agent.value));
        }
        commodities.insert(p.currency.clone());
    }
    for c in &commodities {
        let _ = writeln!(out, "commodity {} {c}", money(Decimal::new(100_000, 0), mu));
    }
    for a in &accounts {
        let _ = writeln!(out, "account {a}");
    }
    for p in &payouts {
        let cur = &p.currency;
        let memo = p
            .memo
            .as_deref()
            .map(|m| format!(" | {}", one_line(m)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{} * ({}) Payout {}{memo}\n    ; agreement: {}, commit: {}, digest: {}",
            p.date.value, p.id.value, p.project.value, p.agreement.value, p.commit, p.digest
        );
        let amount = money(p.amount.value, mu);
        let _ = writeln!(
            out,
            "    assets:receivable:{}  {amount} {cur}",
            p.project.value
        );
        let _ = writeln!(
            out,
            "    income:projects:{}  -{amount} {cur}",
            p.project.value
        );
        for l in &p.lines {
            let a = money(l.amount, mu);
            let _ = writeln!(
                out,
                "    expenses:payouts:{}  {a} {cur}  ; bucket: {}",
                l.agent.value,
                one_line(&l.bucket)
            );
            let _ = writeln!(out, "    liabilities:payable:{}  -{a} {cur}", l.agent.value);
        }
    }
    for p in &payments {
        let (what, note) = payment_text(p);
        let a = money(p.signed(), mu);
        let back = money(-p.signed(), mu);
        let cur = &p.currency;
        let _ = writeln!(
            out,
            "\n{} * ({}) {what} | payout {}\n    ; {note}",
            p.date.value, p.id.value, p.payout.value
        );
        let _ = writeln!(out, "    liabilities:payable:{}  {a} {cur}", p.agent.value);
        let _ = writeln!(out, "    {bank}  {back} {cur}");
    }
    out.push_str(&super::fx::hledger_prices(&super::fx::prices(ledger)));
    out
}

/// An id as a beancount account component: first letter upper case, `_` as `-`.
fn component(id: &str) -> String {
    let mut chars = id.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    first
        .into_iter()
        .chain(chars.map(|c| if c == '_' { '-' } else { c }))
        .collect()
}

/// A beancount string literal.
fn bean_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in one_line(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The payouts as a beancount file: accounts opened on the first payout's date, then one
/// balanced transaction per payout, with the payout id, agreement, commit and digest as
/// metadata. Fails when two ids become the same account name.
///
/// About a hundred lines: accounts, payouts and payments in one pass, in the order beancount
/// requires (opens before use).
pub fn beancount(ledger: &Ledger, query: &Query, commit: &str) -> Result<String, ExportError> {
    let mu = minor_units(ledger);
    let payouts = selected_payouts(ledger, query);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut name = |id: &str| -> Result<String, ExportError> {
        let c = component(id);
        match names.get(&c) {
            Some(other) if other != id => Err(ExportError::AccountClash {
                first: other.clone(),
                second: id.to_owned(),
                account: c,
            }),
            _ => {
                names.insert(c.clone(), id.to_owned());
                Ok(c)
            }
        }
    };
    let mut out = journal_header(ledger, commit);
    let _ = writeln!(
        out,
        "option \"title\" {}",
        bean_string(&format!("{}: payouts", network_name(ledger)))
    );
    let payments = selected_payments(ledger, &payouts, query);
    let bank = bean_account(payment_account(ledger));
    let mut currencies = BTreeSet::new();
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &payments {
        accounts
            .entry(bank.clone())
            .or_default()
            .insert(p.currency.clone());
    }
    for p in &payouts {
        currencies.insert(p.currency.clone());
        let proj = name(p.project.value.as_str())?;
        for a in [
            format!("Assets:Receivable:{proj}"),
            format!("Income:Projects:{proj}"),
        ] {
            accounts.entry(a).or_default().insert(p.currency.clone());
        }
        for l in &p.lines {
            let agent = name(l.agent.value.as_str())?;
            for a in [
                format!("Expenses:Payouts:{agent}"),
                format!("Liabilities:Payable:{agent}"),
            ] {
                accounts.entry(a).or_default().insert(p.currency.clone());
            }
        }
    }
    for c in &currencies {
        let _ = writeln!(out, "option \"operating_currency\" \"{c}\"");
    }
    if let Some(first) = payouts.first() {
        out.push('\n');
        // A payment dated before its payout (written by hand) still finds its accounts open.
        let date = payments
            .iter()
            .map(|p| p.date.value)
            .fold(first.date.value, std::cmp::min);
        for (a, cur) in &accounts {
            let cur: Vec<&str> = cur.iter().map(String::as_str).collect();
            let _ = writeln!(out, "{date} open {a} {}", cur.join(","));
        }
    }
    for p in &payouts {
        let cur = &p.currency;
        let proj = name(p.project.value.as_str())?;
        let _ = writeln!(
            out,
            "\n{} * {} {}",
            p.date.value,
            bean_string(&format!("Payout {}", p.project.value)),
            bean_string(p.memo.as_deref().unwrap_or(""))
        );
        let _ = writeln!(out, "  payout: {}", bean_string(p.id.value.as_str()));
        let _ = writeln!(
            out,
            "  agreement: {}",
            bean_string(p.agreement.value.as_str())
        );
        let _ = writeln!(out, "  commit: {}", bean_string(&p.commit));
        let _ = writeln!(out, "  digest: {}", bean_string(&p.digest));
        let amount = money(p.amount.value, mu);
        let _ = writeln!(out, "  Assets:Receivable:{proj}  {amount} {cur}");
        let _ = writeln!(out, "  Income:Projects:{proj}  -{amount} {cur}");
        for l in &p.lines {
            let agent = name(l.agent.value.as_str())?;
            let a = money(l.amount, mu);
            let _ = writeln!(out, "  Expenses:Payouts:{agent}  {a} {cur}");
            let _ = writeln!(out, "    bucket: {}", bean_string(&l.bucket));
            let _ = writeln!(out, "  Liabilities:Payable:{agent}  -{a} {cur}");
        }
    }
    for p in &payments {
        bean_payment(&mut out, p, &name(p.agent.value.as_str())?, &bank, mu);
    }
    out.push_str(&super::fx::beancount_prices(&super::fx::prices(ledger)));
    Ok(out)
}

/// One payment as a beancount transaction: the agent's payable (`agent`, its account
/// component) settled from `bank`, with the record's fields as metadata.
fn bean_payment(out: &mut String, p: &Payment, agent: &str, bank: &str, mu: u32) {
    let (what, _) = payment_text(p);
    let cur = &p.currency;
    let _ = writeln!(
        out,
        "\n{} * {} {}",
        p.date.value,
        bean_string(&what),
        bean_string(p.memo.as_deref().unwrap_or(""))
    );
    let _ = writeln!(out, "  payment: {}", bean_string(p.id.value.as_str()));
    let _ = writeln!(out, "  payout: {}", bean_string(p.payout.value.as_str()));
    let _ = writeln!(out, "  bucket: {}", bean_string(&p.bucket.value));
    let _ = writeln!(out, "  method: {}", bean_string(&p.method));
    if let Some(r) = &p.reference {
        let _ = writeln!(out, "  reference: {}", bean_string(r));
    }
    let _ = writeln!(
        out,
        "  Liabilities:Payable:{agent}  {} {cur}",
        money(p.signed(), mu)
    );
    let _ = writeln!(out, "  {bank}  {} {cur}", money(-p.signed(), mu));
}

/// An hledger account name (`assets:bank`) as a beancount one (`Assets:Bank`).
fn bean_account(account: &str) -> String {
    account
        .split(':')
        .map(component)
        .collect::<Vec<_>>()
        .join(":")
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
