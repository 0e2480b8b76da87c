//! Payments: the record that a payout line was actually paid, and what is still owed.
//!
//! A recorded payout says who is *owed* what; money leaves the network's account later, in
//! one or several transfers. Each transfer is a payment record
//! (`payments/<yyyy>/<id>.toml`) naming the payout, the line it pays (the line's agent and
//! bucket, which identify a payout line) and an amount, with the date, the method and the
//! bank's reference. It is its own file, like every record, so two treasurers paying
//! different lines on two branches never conflict.
//!
//! The rule that matters is pure and holds on any snapshot: the payments of a line sum to at
//! most what the line owes. It is checked on the merged ledger, not when a payment is
//! written, because two payments recorded on two branches (each within the outstanding
//! amount when written) can overpay the line together once merged: the same "recorded in
//! parallel" class of mistake the payout line guards against (see [`super::chain`]). A
//! payment's amount is always positive; money an agent gives back is a *refund* (`refund =
//! true`), which counts against what the line was paid. A line overpaid by two
//! parallel payments is made whole by recording the excess returned as a refund; neither
//! payment is ever edited or deleted, so the books keep both transfers.
//!
//! Everything here is a function of the ledger; writing files and committing is elsewhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_spanned::Spanned;
use toml::de::DeTable;

use super::diag::{Code, Diagnostic};
use super::ledger::{Ledger, RecordType};
use super::parse::{DecimalRule, Fields, Need};
use super::read::Source;
use super::record::{At, FileId, PayoutRecord};
use super::value::Id;
use super::write::quote;

/// A recorded payment of (part of) one payout line, or a refund of one
/// (`payments/<yyyy>/<id>.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// The recorded payout whose line it pays.
    pub payout: At<Id>,
    /// The agent of the line.
    pub agent: At<Id>,
    /// The bucket of the line (`leftover` for the leftover line).
    pub bucket: At<String>,
    /// How much was paid (always positive).
    pub amount: At<Decimal>,
    /// Its currency (the network's).
    pub currency: String,
    /// The day the money moved.
    pub date: At<NaiveDate>,
    /// How it was paid (`bank transfer`, `cash`, ...).
    pub method: String,
    /// The bank's or the processor's reference, if any.
    pub reference: Option<String>,
    /// A note.
    pub memo: Option<String>,
    /// Whether this is money the agent gave back (it counts against the line's paid total).
    pub refund: bool,
}

impl Payment {
    /// What this record adds to its line's paid total: its amount, negative for a refund.
    pub fn signed(&self) -> Decimal {
        if self.refund {
            -self.amount.value
        } else {
            self.amount.value
        }
    }

    /// The path the record is filed under.
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}.toml",
            RecordType::Payment.folder(),
            self.date.value.format("%Y"),
            self.id.value
        )
    }
}

/// Reads `payments/<yyyy>/<id>.toml`.
pub fn read(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Payment> {
    let mut f = Fields::new(src.path, src.base, "payment", table, true, diags);
    let what = format!("{} amounts have", src.settings.currency);
    let money = DecimalRule::money(src.settings.minor_units, &what, false);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let payout = f.id("payout", Need::Required("\"<payout id>\""));
    let agent = f.id("agent", Need::Required("\"ana\""));
    let bucket = f.text("bucket", Need::Required("\"equity\""));
    let amount = f.decimal("amount", Need::Required("\"100.00\""), money);
    let currency = f.text("currency", Need::Required("\"EUR\""));
    if let Some(c) = &currency
        && c.value != src.settings.currency
    {
        f.report(
            Code::InvalidValue,
            Some(c.span),
            format!(
                "a payment is in the network currency {}, not {:?}",
                src.settings.currency, c.value
            ),
            Some(
                "payout lines are owed in the network currency; convert before recording"
                    .to_owned(),
            ),
        );
    }
    let date = f.date("date", Need::Required("2026-12-01"));
    let method = f.text("method", Need::Required("\"bank transfer\""));
    let reference = f.text("reference", Need::Optional);
    let memo = f.text("memo", Need::Optional);
    let refund = f.boolean("refund", Need::Optional);
    f.finish();
    Some(Payment {
        file: src.file,
        id: id?,
        payout: payout?,
        agent: agent?,
        bucket: bucket?,
        amount: amount?,
        currency: currency?.value,
        date: date?,
        method: method?.value,
        reference: reference.map(|r| r.value),
        memo: memo.map(|m| m.value),
        refund: refund.is_some_and(|r| r.value),
    })
}

/// The canonical text of a payment record (fields in the documented order; absent optional
/// fields not written).
pub fn write(p: &Payment) -> String {
    let mut out = String::with_capacity(256);
    let amount = p.amount.value.to_string();
    let fields = [
        ("id", Some(p.id.value.as_str())),
        ("payout", Some(p.payout.value.as_str())),
        ("agent", Some(p.agent.value.as_str())),
        ("bucket", Some(p.bucket.value.as_str())),
        ("amount", Some(amount.as_str())),
        ("currency", Some(p.currency.as_str())),
    ];
    for (key, value) in fields.into_iter().filter_map(|(k, v)| Some((k, v?))) {
        let _ = writeln!(out, "{key} = {}", quote(value));
    }
    let _ = writeln!(out, "date = {}", p.date.value.format("%Y-%m-%d"));
    let rest = [
        ("method", Some(p.method.as_str())),
        ("reference", p.reference.as_deref()),
        ("memo", p.memo.as_deref()),
    ];
    for (key, value) in rest.into_iter().filter_map(|(k, v)| Some((k, v?))) {
        let _ = writeln!(out, "{key} = {}", quote(value));
    }
    if p.refund {
        let _ = writeln!(out, "refund = true");
    }
    out
}

/// Whether `account` can be the asset account payments are booked from: an hledger-style
/// name, `assets:` and one or more components of lowercase letters, digits and `-`, each
/// starting with a letter (so it is a valid beancount account once capitalised).
pub fn check_account(account: &str) -> Result<(), String> {
    let mut parts = account.split(':');
    let good = parts.next() == Some("assets")
        && account.len() <= 200
        && account.contains(':')
        && parts.all(|p| {
            p.starts_with(|c: char| c.is_ascii_lowercase())
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if good {
        Ok(())
    } else {
        Err(format!(
            "`payment_account` must be an asset account such as \"assets:bank\" or \"assets:bank:checking\" (lowercase letters, digits and `-`, parts separated by `:`), found {:?}",
            super::render::visible(account)
        ))
    }
}

/// One payout line with what it owes, what payments paid on it, and what is outstanding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineBalance {
    /// The payout.
    pub payout: Id,
    /// The payout's date (the revenue event's).
    pub date: NaiveDate,
    /// The payout's project.
    pub project: Id,
    /// Its number in the payout, from 1, in the payout's order (as `ovn pay --line` takes it).
    pub number: usize,
    /// The line's agent.
    pub agent: Id,
    /// The line's bucket.
    pub bucket: String,
    /// What the line owes (its amount).
    pub owed: Decimal,
    /// What payments paid on it, refunds deducted.
    pub paid: Decimal,
    /// How many payment records (refunds included) name it.
    pub payments: usize,
}

impl LineBalance {
    /// `owed - paid`: what is still to pay (negative when overpaid).
    pub fn outstanding(&self) -> Decimal {
        self.owed - self.paid
    }
}

/// The key of a payout line: payout, agent, bucket.
type LineKey<'l> = (&'l str, &'l str, &'l str);

/// What payments paid per line, refunds deducted, and how many records name it.
fn paid_by_line(ledger: &Ledger) -> BTreeMap<LineKey<'_>, (Decimal, usize)> {
    let mut paid: BTreeMap<LineKey<'_>, (Decimal, usize)> = BTreeMap::new();
    for p in &ledger.payments {
        let key = (
            p.payout.value.as_str(),
            p.agent.value.as_str(),
            p.bucket.value.as_str(),
        );
        let e = paid.entry(key).or_default();
        // Bounded by the reader (amounts up to 10^12), so a sum of records cannot overflow
        // before a ledger holds billions of them; saturate rather than panic all the same.
        e.0 = e.0.checked_add(p.signed()).unwrap_or(e.0);
        e.1 += 1;
    }
    paid
}

/// The lines of `payout`, each (agent, bucket) once with its amounts summed, in the payout's
/// order.
fn lines_of(payout: &PayoutRecord) -> Vec<(&Id, &str, Decimal)> {
    let mut out: Vec<(&Id, &str, Decimal)> = Vec::new();
    // A line that pays a project is settled by its sub-payout, whose lines are paid instead.
    for l in payout.lines.iter().filter(|l| l.project.is_none()) {
        match out
            .iter_mut()
            .find(|(a, b, _)| **a == l.agent.value && *b == l.bucket)
        {
            Some(e) => e.2 += l.amount,
            None => out.push((&l.agent.value, l.bucket.as_str(), l.amount)),
        }
    }
    out
}

/// Every line of every recorded payout that pays money (reconciliations have none), with
/// what is paid and outstanding, by payout date, payout id, then in the payout's order.
pub fn balances(ledger: &Ledger) -> Vec<LineBalance> {
    let paid = paid_by_line(ledger);
    let mut payouts: Vec<&PayoutRecord> = ledger.payouts.iter().collect();
    payouts.sort_by(|a, b| (a.date.value, &a.id.value).cmp(&(b.date.value, &b.id.value)));
    let mut out = Vec::new();
    for p in payouts {
        for (i, (agent, bucket, owed)) in lines_of(p).into_iter().enumerate() {
            let (sum, n) = paid
                .get(&(p.id.value.as_str(), agent.as_str(), bucket))
                .copied()
                .unwrap_or_default();
            out.push(LineBalance {
                payout: p.id.value.clone(),
                date: p.date.value,
                project: p.project.value.clone(),
                // The line's place among the record's `[[lines]]`, those paying a
                // project (not listed) counted.
                number: p
                    .lines
                    .iter()
                    .position(|l| l.agent.value == *agent && l.bucket == bucket)
                    .map_or(i + 1, |n| n + 1),
                agent: agent.clone(),
                bucket: bucket.to_owned(),
                owed,
                paid: sum,
                payments: n,
            });
        }
    }
    out
}

/// The balances of the lines of `payout`, in the payout's order.
pub fn payout_balances(ledger: &Ledger, payout: &str) -> Vec<LineBalance> {
    balances(ledger)
        .into_iter()
        .filter(|b| b.payout.as_str() == payout)
        .collect()
}

/// The lines `query` selects: of the payouts of its projects and dates (the payout's date),
/// and with agents, the lines of those agents; in [`balances`] order.
pub fn selected(ledger: &Ledger, query: &super::report::Query) -> Vec<LineBalance> {
    balances(ledger)
        .into_iter()
        .filter(|b| query.project(&b.project) && query.dated(b.date) && query.agent(&b.agent))
        .collect()
}

/// What one agent is owed, was paid and has outstanding over a set of lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentBalance {
    /// The agent.
    pub agent: Id,
    /// How many lines.
    pub lines: usize,
    /// What the lines owe.
    pub owed: Decimal,
    /// What payments paid on them, refunds deducted.
    pub paid: Decimal,
}

impl AgentBalance {
    /// `owed - paid`.
    pub fn outstanding(&self) -> Decimal {
        self.owed - self.paid
    }
}

/// `lines` summed per agent, by agent id.
pub fn by_agent(lines: &[LineBalance]) -> Vec<AgentBalance> {
    let mut out: BTreeMap<&Id, AgentBalance> = BTreeMap::new();
    for l in lines {
        let e = out.entry(&l.agent).or_insert_with(|| AgentBalance {
            agent: l.agent.clone(),
            lines: 0,
            owed: Decimal::ZERO,
            paid: Decimal::ZERO,
        });
        e.lines += 1;
        e.owed += l.owed;
        e.paid += l.paid;
    }
    out.into_values().collect()
}

/// The ledger-wide payment checks: a payment names a recorded payout, a line that payout
/// has, and the payments of a line (refunds deducted) never pay more than it owes nor
/// refund more than was paid.
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let payouts: BTreeMap<&str, &PayoutRecord> = ledger
        .payouts
        .iter()
        .map(|p| (p.id.value.as_str(), p))
        .collect();
    // Per line: the running total and the payment files, in path order.
    let mut lines: BTreeMap<LineKey<'_>, (Decimal, Vec<FileId>)> = BTreeMap::new();
    for p in &ledger.payments {
        let path = ledger.path(p.file);
        if !ledger
            .index
            .contains(RecordType::Agent, p.agent.value.as_str())
        {
            diags.push(Diagnostic::new(
                Code::UnknownReference,
                path,
                Some(p.agent.span),
                format!("unknown agent `{}` in field `agent`", p.agent.value),
            ));
        }
        let Some(payout) = payouts.get(p.payout.value.as_str()) else {
            // A payout whose record is broken is reported on its own.
            if !ledger
                .index
                .contains(RecordType::Payout, p.payout.value.as_str())
            {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownReference,
                        path,
                        Some(p.payout.span),
                        format!("unknown payout `{}` in field `payout`", p.payout.value),
                    )
                    .with_hint("a payment pays a line of a recorded payout (`ovn report payouts`)"),
                );
            }
            continue;
        };
        let known = lines_of(payout);
        if !known
            .iter()
            .any(|(a, b, _)| **a == p.agent.value && *b == p.bucket.value)
        {
            let list: Vec<String> = known.iter().map(|(a, b, _)| format!("{a}/{b}")).collect();
            diags.push(
                Diagnostic::new(
                    Code::UnknownReference,
                    path,
                    Some(p.bucket.span),
                    format!(
                        "payout `{}` has no line for agent `{}` in bucket {:?}",
                        p.payout.value, p.agent.value, p.bucket.value
                    ),
                )
                .with_hint(if list.is_empty() {
                    "this payout pays nobody (a reconciliation): it has no line to pay".to_owned()
                } else {
                    format!("its lines (agent/bucket): {}", list.join(", "))
                }),
            );
            continue;
        }
        let e = lines
            .entry((
                p.payout.value.as_str(),
                p.agent.value.as_str(),
                p.bucket.value.as_str(),
            ))
            .or_default();
        e.0 = e.0.checked_add(p.signed()).unwrap_or(e.0);
        e.1.push(p.file);
    }
    overpaid(ledger, &payouts, lines, diags);
}

/// The lines whose payments (refunds deducted) sum above what they owe, or below zero: one
/// report each, on the line's last payment, naming the others.
fn overpaid(
    ledger: &Ledger,
    payouts: &BTreeMap<&str, &PayoutRecord>,
    lines: BTreeMap<LineKey<'_>, (Decimal, Vec<FileId>)>,
    diags: &mut Vec<Diagnostic>,
) {
    for ((payout, agent, bucket), (paid, files)) in lines {
        let Some(owed) = payouts.get(payout).and_then(|p| {
            lines_of(p)
                .into_iter()
                .find(|(a, b, _)| a.as_str() == agent && *b == bucket)
                .map(|l| l.2)
        }) else {
            continue;
        };
        if paid >= Decimal::ZERO && paid <= owed {
            continue;
        }
        let last = files[files.len() - 1];
        let others: Vec<&str> = files[..files.len() - 1]
            .iter()
            .map(|&f| ledger.path(f))
            .collect();
        let span = ledger
            .payments
            .iter()
            .find(|p| p.file == last)
            .map(|p| p.amount.span);
        let (message, hint) = if paid > owed {
            (
                format!(
                    "the payments of {agent}'s line {bucket:?} of payout {payout} sum to {paid}, more than the {owed} it owes"
                ),
                "a line is never paid more than it owes; payments recorded in parallel (on two branches) can overpay it together: record the excess the agent returns with `ovn pay --refund`",
            )
        } else {
            (
                format!(
                    "the refunds of {agent}'s line {bucket:?} of payout {payout} exceed what was paid on it by {}",
                    -paid
                ),
                "a refund returns money that was paid; refund at most what the line's payments paid",
            )
        };
        let mut hint = hint.to_owned();
        if !others.is_empty() {
            hint.push_str(&format!(
                "; the other payments of the line: {}",
                others.join(", ")
            ));
        }
        diags.push(
            Diagnostic::new(Code::Overpayment, ledger.path(last), span, message).with_hint(hint),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{RawFile, load};

    fn file(path: &str, text: &str) -> RawFile {
        RawFile {
            path: path.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    const PAYOUT: &str = "id = \"p1\"\nproject = \"drone\"\nagreement = \"ve\"\ndate = 2026-11-30\namount = \"100.00\"\ncurrency = \"EUR\"\ncommit = \"0123456789012345678901234567890123456789\"\ndigest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"60.00\"\n\n[[lines]]\nagent = \"ben\"\nbucket = \"equity\"\namount = \"40.00\"\n";

    fn ledger(payments: &[(&str, &str)]) -> crate::core::ledger::Loaded {
        let mut files = vec![
            file("ovn.toml", "format = 1\nname = \"N\"\ncurrency = \"EUR\"\n"),
            file("agents/ana.toml", "id = \"ana\"\nname = \"Ana\"\n"),
            file("agents/ben.toml", "id = \"ben\"\nname = \"Ben\"\n"),
            file(
                "projects/drone.toml",
                "id = \"drone\"\nname = \"Drone\"\nagreement = \"ve\"\n",
            ),
            file(
                "agreements/ve.toml",
                "id = \"ve\"\nname = \"VE\"\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\n[[buckets.rules]]\nkind = \"work\"\n",
            ),
            file("payouts/2026/p1.toml", PAYOUT),
        ];
        for (id, body) in payments {
            files.push(file(
                &format!("payments/2026/{id}.toml"),
                &format!("id = \"{id}\"\n{body}"),
            ));
        }
        load(&files)
    }

    fn pay(agent: &str, amount: &str, extra: &str) -> String {
        format!(
            "payout = \"p1\"\nagent = \"{agent}\"\nbucket = \"equity\"\namount = \"{amount}\"\ncurrency = \"EUR\"\ndate = 2026-12-01\nmethod = \"bank transfer\"\n{extra}"
        )
    }

    fn codes(l: &crate::core::ledger::Loaded) -> Vec<&'static str> {
        l.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn partial_payments_leave_the_rest_outstanding() {
        let a = pay("ana", "20.00", "reference = \"TX-1\"\n");
        let b = pay("ana", "30.00", "");
        let l = ledger(&[("q1", &a), ("q2", &b)]);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let b = balances(&l.ledger);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].agent.as_str(), b[0].paid, b[0].payments),
            ("ana", Decimal::new(5000, 2), 2)
        );
        assert_eq!(b[0].outstanding(), Decimal::new(1000, 2));
        assert_eq!(b[1].outstanding(), Decimal::new(4000, 2));
    }

    #[test]
    fn two_payments_that_together_overpay_a_line_are_rejected() {
        let a = pay("ana", "60.00", "");
        let l = ledger(&[("q1", &a), ("q2", &a)]);
        assert_eq!(codes(&l), ["overpayment"]);
        assert_eq!(l.diagnostics[0].path, "payments/2026/q2.toml");
        assert!(
            l.diagnostics[0]
                .message
                .contains("sum to 120.00, more than the 60.00")
        );
        // Returning the excess makes the line whole again, without touching either payment.
        let r = pay("ana", "60.00", "refund = true\n");
        let l = ledger(&[("q1", &a), ("q2", &a), ("q3", &r)]);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    }

    #[test]
    fn unknown_payouts_lines_and_bad_amounts_are_located() {
        let l = ledger(&[("q1", &pay("cy", "1.00", ""))]);
        assert_eq!(codes(&l), ["unknown-reference", "unknown-reference"]);
        let l = ledger(&[("q1", &pay("ana", "1.00", "").replace("\"p1\"", "\"p9\""))]);
        assert_eq!(codes(&l), ["unknown-reference"]);
        let l = ledger(&[("q1", &pay("ana", "0", ""))]);
        assert_eq!(codes(&l), ["not-positive"]);
        let l = ledger(&[("q1", &pay("ana", "-5.00", ""))]);
        assert_eq!(codes(&l), ["not-positive"]);
        let l = ledger(&[("q1", &pay("ana", "1.00", "").replace("\"EUR\"", "\"USD\""))]);
        assert_eq!(codes(&l), ["invalid-value"]);
        let l = ledger(&[("q1", &pay("ana", "1.00", "refund = true\n"))]);
        assert_eq!(codes(&l), ["overpayment"]);
    }

    #[test]
    fn the_payment_account_is_an_asset_account() {
        for good in ["assets:bank", "assets:bank:checking-2"] {
            assert_eq!(check_account(good), Ok(()), "{good}");
        }
        for bad in [
            "assets",
            "bank",
            "assets:",
            "assets:Bank",
            "assets:2nd",
            "assets:a b",
            "liabilities:x",
            "assets:a\u{1b}",
        ] {
            let e = check_account(bad).unwrap_err();
            assert!(!e.contains('\u{1b}'), "{e}");
        }
    }

    #[test]
    fn the_canonical_text_reads_back_the_same() {
        let text = format!(
            "id = \"q1\"\n{}",
            pay(
                "ana",
                "20.00",
                "reference = \"TX \\\"1\\\"\"\nmemo = \"m\"\n"
            )
        );
        let l = ledger(&[("q1", &text["id = \"q1\"\n".len()..])]);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(write(&l.ledger.payments[0]), text);
    }
}
