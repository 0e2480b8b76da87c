//! The treasurer's books: what every recorded fact of a ledger books, once, in accounts a
//! plain-text accounting user recognises, before any syntax is chosen.
//!
//! Three journal syntaxes (hledger, ledger-cli, beancount) print the same books, so the
//! booking is decided here, as data ([`Entry`] and [`Posting`]), and the writers in
//! [`mod@super::journal`] only spell it. Each account is one of [`Account`]'s heads followed
//! by ids; `ovn-ledger(5)` ("ACCOUNTS") lists them all.
//!
//! - A **debt claim** is a liability from the day its contribution is dated: the network
//!   owes the member (`liabilities:members:AGENT`) what it repays in all, against the
//!   project's expense of that kind (`expenses:projects:PROJECT:KIND`; what a cap adds above
//!   the claim's value is `...:premium`). So money advanced is expensed once, when spent.
//! - A **payout** is income of its project, to be received; each of its lines is owed to its
//!   agent (`liabilities:payable:AGENT`) until `ovn pay` records it paid, and is, in that
//!   order: a settlement of the agent's debt claims (what the payout's `settled` list repaid
//!   that agent, first on lines of debt buckets), a transfer to the network's reserve (lines
//!   to the fund, the leftover agent: `assets:reserve:AGENT`), a fee (a bucket paying its whole
//!   budget `to` another agent: `expenses:fees:AGENT`), or else an equity distribution
//!   (`equity:distributions:AGENT`).
//! - A **payment** settles its line's payable from the `payment_account` of `ovn.toml`.
//! - On request, **hours** are booked in their own commodity `HOURS`: given to a project
//!   (`expenses:hours:PROJECT:KIND`) by a member (`equity:hours:AGENT`) or, for use, by a
//!   resource (`equity:resources:RESOURCE`); they never mix with money.
//!
//! Every entry balances per commodity by construction (each line's postings sum to its
//! payable; each claim's to its liability), so the journals need no tolerance. Entries are
//! in date order, contributions before payouts before payments on a day, then by id.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{ExportError, one_line, payment_text, selected_payments, selected_payouts};
use crate::core::ledger::Ledger;
use crate::core::payment::Payment;
use crate::core::payout::{self, Claim};
use crate::core::record::{ClaimKind, Contribution, Kind, PayoutRecord};
use crate::core::report::Query;
use crate::core::value::Id;

/// The commodity of hours (`--hours`).
pub const HOURS: &str = "HOURS";

/// An account: a fixed head (hledger spelling, e.g. `liabilities:members`) and the ids or
/// kind words after it, each one component.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Account {
    /// The head, or the whole name of the payment account.
    pub head: String,
    /// Ids (and kind words) after the head.
    pub parts: Vec<String>,
}

impl Account {
    fn new(head: &str, parts: &[&str]) -> Account {
        Account {
            head: head.to_owned(),
            parts: parts.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// The hledger (and ledger-cli) name.
    pub fn hledger(&self) -> String {
        let mut name = self.head.clone();
        for p in &self.parts {
            name.push(':');
            name.push_str(p);
        }
        name
    }
}

/// What an amount counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Commodity {
    /// Money in this currency.
    Money(String),
    /// Hours ([`HOURS`]).
    Hours,
}

impl Commodity {
    /// Its symbol.
    pub fn symbol(&self) -> &str {
        match self {
            Commodity::Money(c) => c,
            Commodity::Hours => HOURS,
        }
    }
}

/// One posting: an amount to an account, with an optional `key: value` tag (the bucket of a
/// payout line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// The account.
    pub account: Account,
    /// The amount (positive: debit).
    pub amount: Decimal,
    /// What it counts.
    pub commodity: Commodity,
    /// A tag on the posting.
    pub tag: Option<(&'static str, String)>,
}

/// Which record an entry books (and where it sorts on its day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A contribution (its debt claims, its hours).
    Contribution,
    /// A recorded payout.
    Payout,
    /// A payment or refund.
    Payment,
}

/// One balanced transaction, with what each syntax shows of its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its day.
    pub date: NaiveDate,
    /// The kind of record.
    pub source: Source,
    /// The record's id (hledger's transaction code).
    pub code: String,
    /// Who or what (`Payout drone`, `Payment ana`, `Contribution ben`).
    pub payee: String,
    /// What follows ` | ` in hledger's description, if anything.
    pub note: Option<String>,
    /// Beancount's narration.
    pub narration: String,
    /// The comment line under hledger's description.
    pub comment: String,
    /// Beancount's metadata.
    pub meta: Vec<(&'static str, String)>,
    /// Its postings.
    pub postings: Vec<Posting>,
}

/// The network's ledger's settings the books need.
pub struct Settings<'l> {
    /// Decimal places of money.
    pub minor_units: u32,
    /// The hledger name of the account payments are made from.
    pub bank: &'l str,
}

/// Every entry of the books the query selects, in order (see the module documentation);
/// with `hours`, contributions' hours too. Fails when claims cannot be worked out (an
/// agreement the ledger lacks).
pub fn entries(
    ledger: &Ledger,
    query: &Query,
    settings: &Settings<'_>,
    hours: bool,
) -> Result<Vec<Entry>, ExportError> {
    let mut out: Vec<Entry> = contributions_by_folder(ledger, query, settings, hours, |_| true)?
        .into_iter()
        .flat_map(|(_, _, entries)| entries)
        .collect();
    out.extend(record_entries(ledger, query, settings));
    out.sort_by(|a, b| (a.date, a.source, &a.code).cmp(&(b.date, b.source, &b.code)));
    Ok(out)
}

/// The entries of the payouts and payments the query selects, in order: the few records
/// the books hold besides contributions, worked out afresh every time.
pub fn record_entries(ledger: &Ledger, query: &Query, settings: &Settings<'_>) -> Vec<Entry> {
    let payouts = selected_payouts(ledger, query);
    let payments = selected_payments(ledger, &payouts, query);
    let mut out: Vec<Entry> = payouts.iter().map(|p| payout(ledger, p)).collect();
    out.extend(payments.iter().map(|p| payment(p, settings.bank)));
    out.sort_by(|a, b| (a.date, a.source, &a.code).cmp(&(b.date, b.source, &b.code)));
    out
}

/// A day folder, the positions of its contributions in the ledger, and their entries.
pub type FolderEntries<'l> = (&'l str, std::ops::Range<usize>, Vec<Entry>);

/// The entries of the contributions of each day folder that `wanted` names, by folder in
/// path order, each folder's in the ledger's order: what one folder books depends only on
/// its records and the ledger's other entries (claims, corrections), so a folder's entries
/// can be kept while it is unchanged. Folders with contributions but nothing to book are
/// listed with no entries.
pub fn contributions_by_folder<'l>(
    ledger: &'l Ledger,
    query: &Query,
    settings: &Settings<'_>,
    hours: bool,
    wanted: impl Fn(&str) -> bool + Sync,
) -> Result<Vec<FolderEntries<'l>>, ExportError> {
    let currency = ledger.network.as_ref().map_or("", |n| n.currency.as_str());
    let money = Commodity::Money(currency.to_owned());
    let debts = debt_claims(ledger, query)?;
    let corrected = if hours {
        payout::corrected(ledger)
    } else {
        FxHashSet::default()
    };
    let runs: Vec<(&str, std::ops::Range<usize>)> = crate::core::report::folder_runs(ledger)
        .into_iter()
        .filter(|(folder, _)| wanted(folder))
        .collect();
    Ok(runs
        .into_par_iter()
        .map(|(folder, range)| {
            let entries = ledger.contributions[range.clone()]
                .iter()
                .filter_map(|c| {
                    contribution(
                        c,
                        &debts,
                        &corrected,
                        query,
                        settings.minor_units,
                        hours,
                        &money,
                    )
                })
                .collect();
            (folder, range, entries)
        })
        .collect())
}

fn posting(account: Account, amount: Decimal, commodity: &Commodity) -> Posting {
    Posting {
        account,
        amount,
        commodity: commodity.clone(),
        tag: None,
    }
}

/// `-d`, never a negative zero.
fn neg(d: Decimal) -> Decimal {
    if d.is_zero() { Decimal::ZERO } else { -d }
}

/// The entry of one contribution: the debt claims it holds (as liabilities to their
/// holders) and, with `hours`, its hours; `None` when it books nothing.
fn contribution(
    c: &Contribution,
    debts: &FxHashMap<&Id, Vec<Claim>>,
    corrected: &FxHashSet<&Id>,
    query: &Query,
    mu: u32,
    hours: bool,
    money: &Commodity,
) -> Option<Entry> {
    let claims = debts.get(&c.id.value);
    let counted_hours = c.hours.as_ref().map(|h| h.value).filter(|_| {
        hours
            && !corrected.contains(&c.id.value)
            && query.project(&c.project.value)
            && query.dated(c.date.value)
    });
    if claims.is_none() && counted_hours.is_none() {
        return None;
    }
    let mut postings = Vec::new();
    for claim in claims.into_iter().flatten() {
        debt_postings(&mut postings, c, claim, mu, money);
    }
    if let Some(h) = counted_hours {
        let kind = c.kind.as_str();
        postings.push(posting(
            Account::new("expenses:hours", &[c.project.value.as_str(), kind]),
            h,
            &Commodity::Hours,
        ));
        let giver = match (&c.kind, &c.resource) {
            (Kind::Use, Some(r)) => Account::new("equity:resources", &[r.value.as_str()]),
            _ => Account::new("equity:hours", &[c.agent.value.as_str()]),
        };
        postings.push(posting(giver, neg(h), &Commodity::Hours));
    }
    Some(Entry {
        date: c.date.value,
        source: Source::Contribution,
        code: c.id.value.to_string(),
        payee: format!("Contribution {}", c.agent.value),
        note: Some(one_line(&c.description)),
        narration: c.description.clone(),
        comment: format!("project: {}, kind: {}", c.project.value, c.kind.as_str()),
        meta: vec![
            ("contribution", c.id.value.to_string()),
            ("project", c.project.value.to_string()),
            ("kind", c.kind.as_str().to_owned()),
        ],
        postings,
    })
}

/// The debt claims of the selected projects, by contribution, for the contributions the
/// query's dates select: exactly those `ovn report claims` adds up.
fn debt_claims<'l>(
    ledger: &'l Ledger,
    query: &Query,
) -> Result<FxHashMap<&'l Id, Vec<Claim<'l>>>, ExportError> {
    let settled = payout::settled_by_records(ledger);
    let projects: Vec<&str> = ledger
        .projects
        .iter()
        .filter(|p| query.project(&p.id.value))
        .map(|p| p.id.value.as_str())
        .collect();
    let mut out: FxHashMap<&Id, Vec<Claim>> = FxHashMap::default();
    payout::for_each_claims(ledger, &projects, query.until, &settled, |_, claims| {
        for c in claims.into_iter().filter(|c| c.kind == ClaimKind::Debt) {
            out.entry(c.contribution).or_default().push(c);
        }
        Ok(())
    })?;
    // Claims follow the query's dates by their contribution's date.
    if query.since.is_some() || query.until.is_some() {
        let dated: FxHashSet<&Id> = ledger
            .contributions
            .iter()
            .filter(|c| out.contains_key(&c.id.value) && query.dated(c.date.value))
            .map(|c| &c.id.value)
            .collect();
        out.retain(|id, _| dated.contains(id));
    }
    Ok(out)
}

/// One debt claim: its value to the project's expense of the contribution's kind, what a
/// cap adds to `premium`, and all it repays owed to its holder.
fn debt_postings(
    out: &mut Vec<Posting>,
    c: &Contribution,
    claim: &Claim,
    mu: u32,
    cur: &Commodity,
) {
    let project = c.project.value.as_str();
    let value = claim.value.round_dp(mu);
    let owed = claim.owed.unwrap_or(value);
    let mut expense = posting(
        Account::new("expenses:projects", &[project, c.kind.as_str()]),
        value,
        cur,
    );
    expense.tag = Some(("bucket", one_line(claim.bucket)));
    out.push(expense);
    if owed != value {
        out.push(posting(
            Account::new("expenses:projects", &[project, "premium"]),
            owed - value,
            cur,
        ));
    }
    out.push(posting(
        Account::new("liabilities:members", &[claim.agent.as_str()]),
        neg(owed),
        cur,
    ));
}

/// Who a payout's agreement sends what no bucket pays (the network's fund): the
/// agreement's leftover agent, else the network's.
fn fund<'l>(ledger: &'l Ledger, p: &PayoutRecord) -> Option<&'l Id> {
    let agreement = ledger
        .agreements
        .iter()
        .find(|a| a.id.value == p.agreement.value);
    agreement
        .and_then(|a| a.leftover.as_ref())
        .or(ledger.network.as_ref().and_then(|n| n.leftover.as_ref()))
        .map(|a| &a.value)
}

/// How a payout's buckets book: whether each named bucket repays debts or pays its whole
/// budget to one agent (from the payout's agreement as the ledger holds it).
fn bucket_kinds<'l>(ledger: &'l Ledger, p: &PayoutRecord) -> BTreeMap<&'l str, (bool, bool)> {
    ledger
        .agreements
        .iter()
        .filter(|a| a.id.value == p.agreement.value)
        .flat_map(|a| &a.buckets)
        .map(|b| {
            (
                b.name.value.as_str(),
                (b.claim == ClaimKind::Debt, b.to.is_some()),
            )
        })
        .collect()
}

/// What part of each line of `p` settles its agent's debt claims: the payout's `settled`
/// debt repaid to each agent, taken first by the lines of debt buckets, then by the others
/// (a bucket may mix rules), never more than a line's amount.
fn settling(p: &PayoutRecord, kinds: &BTreeMap<&str, (bool, bool)>) -> Vec<Decimal> {
    let mut left: BTreeMap<&Id, Decimal> = BTreeMap::new();
    for s in p.settled.iter().filter(|s| s.claim == ClaimKind::Debt) {
        *left.entry(&s.agent.value).or_default() += s.amount;
    }
    let mut out = vec![Decimal::ZERO; p.lines.len()];
    let kind = |l: &crate::core::record::PaidLine| {
        kinds
            .get(l.bucket.as_str())
            .copied()
            .unwrap_or((false, false))
    };
    for debt_first in [true, false] {
        for (i, l) in p.lines.iter().enumerate() {
            let (debt, to) = kind(l);
            if debt != debt_first || to {
                continue;
            }
            if let Some(rest) = left.get_mut(&l.agent.value) {
                let take = (*rest).min(l.amount - out[i]).max(Decimal::ZERO);
                out[i] += take;
                *rest -= take;
            }
        }
    }
    out
}

/// A payout: its revenue, income of the project to be received; each line what it is (see
/// the module documentation), owed to its agent until paid.
fn payout(ledger: &Ledger, p: &PayoutRecord) -> Entry {
    let cur = Commodity::Money(p.currency.clone());
    let project = p.project.value.as_str();
    let fund = fund(ledger, p);
    let kinds = bucket_kinds(ledger, p);
    let settles = settling(p, &kinds);
    // A sub-payout's revenue is its parent's line, booked there as a transfer of income
    // between the projects (below): the money arrived once, so it is receivable once.
    let mut postings = match p.parent {
        Some(_) => Vec::new(),
        None => vec![
            posting(
                Account::new("assets:receivable", &[project]),
                p.amount.value,
                &cur,
            ),
            posting(
                Account::new("income:projects", &[project]),
                neg(p.amount.value),
                &cur,
            ),
        ],
    };
    for (l, settle) in p.lines.iter().zip(settles) {
        // A line paying a project owes nobody: its amount becomes that project's income,
        // shared by its sub-payout's own lines.
        if let Some(child) = &l.project {
            let first = postings.len();
            postings.push(posting(
                Account::new("income:projects", &[project]),
                l.amount,
                &cur,
            ));
            postings[first].tag = Some(("bucket", one_line(&l.bucket)));
            postings.push(posting(
                Account::new("income:projects", &[child.value.as_str()]),
                neg(l.amount),
                &cur,
            ));
            continue;
        }
        let agent = l.agent.value.as_str();
        let first = postings.len();
        if !settle.is_zero() {
            postings.push(posting(
                Account::new("liabilities:members", &[agent]),
                settle,
                &cur,
            ));
        }
        let rest = l.amount - settle;
        if !rest.is_zero() || settle.is_zero() {
            let to = kinds.get(l.bucket.as_str()).is_some_and(|k| k.1);
            let head = if fund == Some(&l.agent.value) {
                "assets:reserve"
            } else if to {
                "expenses:fees"
            } else {
                "equity:distributions"
            };
            postings.push(posting(Account::new(head, &[agent]), rest, &cur));
        }
        postings[first].tag = Some(("bucket", one_line(&l.bucket)));
        postings.push(posting(
            Account::new("liabilities:payable", &[agent]),
            neg(l.amount),
            &cur,
        ));
    }
    Entry {
        date: p.date.value,
        source: Source::Payout,
        code: p.id.value.to_string(),
        payee: format!("Payout {project}"),
        note: p.memo.as_deref().map(one_line),
        narration: p.memo.clone().unwrap_or_default(),
        comment: format!(
            "agreement: {}, commit: {}, digest: {}",
            p.agreement.value, p.commit, p.digest
        ),
        meta: vec![
            ("payout", p.id.value.to_string()),
            ("agreement", p.agreement.value.to_string()),
            ("commit", p.commit.clone()),
            ("digest", p.digest.clone()),
        ],
        postings,
    }
}

/// A payment: its line's payable settled from `bank` (a refund the other way).
fn payment(p: &Payment, bank: &str) -> Entry {
    let cur = Commodity::Money(p.currency.clone());
    let (payee, comment) = payment_text(p);
    let mut meta = vec![
        ("payment", p.id.value.to_string()),
        ("payout", p.payout.value.to_string()),
        ("bucket", p.bucket.value.clone()),
        ("method", p.method.clone()),
    ];
    if let Some(r) = &p.reference {
        meta.push(("reference", r.clone()));
    }
    Entry {
        date: p.date.value,
        source: Source::Payment,
        code: p.id.value.to_string(),
        payee,
        note: Some(format!("payout {}", p.payout.value)),
        narration: p.memo.clone().unwrap_or_default(),
        comment,
        meta,
        postings: vec![
            posting(
                Account::new("liabilities:payable", &[p.agent.value.as_str()]),
                p.signed(),
                &cur,
            ),
            posting(
                Account {
                    head: bank.to_owned(),
                    parts: Vec::new(),
                },
                neg(p.signed()),
                &cur,
            ),
        ],
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

    /// A fund bucket, a host paid `to` cy, and one bucket whose rules mix a debt (money) and
    /// equity (work): ben's 50.00 line there repays his 30.00 advance and distributes 20.00.
    fn ledger() -> Ledger {
        let payout = "id = \"p1\"\nproject = \"drone\"\nagreement = \"ve\"\ndate = 2026-11-30\namount = \"100.00\"\ncurrency = \"EUR\"\ncommit = \"0123456789012345678901234567890123456789\"\ndigest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n\n[[lines]]\nagent = \"fund\"\nbucket = \"network\"\namount = \"10.00\"\n\n[[lines]]\nagent = \"cy\"\nbucket = \"host\"\namount = \"5.00\"\n\n[[lines]]\nagent = \"ana\"\nbucket = \"shares\"\namount = \"35.00\"\n\n[[lines]]\nagent = \"ben\"\nbucket = \"shares\"\namount = \"50.00\"\n\n[[settled]]\ncontribution = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"30.00\"\n";
        let mut files = vec![
            file(
                "ovn.toml",
                "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"fund\"\n",
            ),
            file(
                "projects/drone.toml",
                "id = \"drone\"\nname = \"Drone\"\nagreement = \"ve\"\n",
            ),
            file(
                "agreements/ve.toml",
                "id = \"ve\"\nname = \"VE\"\n[rates]\nwork = \"10\"\n[[buckets]]\nname = \"network\"\nshare = \"10%\"\nto = \"fund\"\n[[buckets]]\nname = \"host\"\namount = \"5.00\"\nto = \"cy\"\n[[buckets]]\nname = \"shares\"\nshare = \"rest\"\n[[buckets.rules]]\nkind = \"money\"\nclaim = \"debt\"\n[[buckets.rules]]\nkind = \"work\"\n",
            ),
            file(
                "contributions/2026/03/01/01aaaaaaaaaaaaaaaaaaaaaaa1.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa1\"\nagent = \"ana\"\ndate = 2026-03-01\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Work\"\nhours = \"2.5\"\n",
            ),
            file(
                "contributions/2026/03/02/01aaaaaaaaaaaaaaaaaaaaaaa2.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\nagent = \"ben\"\ndate = 2026-03-02\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Parts; red\"\namount = \"30.00\"\n",
            ),
            file("payouts/2026/p1.toml", payout),
        ];
        for a in ["ana", "ben", "cy", "fund"] {
            files.push(file(
                &format!("agents/{a}.toml"),
                &format!("id = \"{a}\"\nname = \"{a}\"\n"),
            ));
        }
        let loaded = load(&files);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.ledger
    }

    #[test]
    fn books_from_parts_in_any_order_are_the_books_rendered_whole() {
        use super::super::{Dialect, folder_parts, from_parts, journal};
        use super::super::{beancount, parts::Syntax};
        let l = ledger();
        let q = Query::default();
        for (syntax, whole) in [
            (
                Syntax::Journal,
                journal(&l, &q, "c0ffee", Dialect::Hledger, true).unwrap(),
            ),
            (
                Syntax::Beancount,
                beancount(&l, &q, "c0ffee", true).unwrap(),
            ),
        ] {
            let mut parts: Vec<_> = folder_parts(&l, &q, syntax, true, |_| true)
                .unwrap()
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            assert_eq!(parts.len(), 2);
            let assembled = |parts: &[_]| {
                from_parts(&l, &q, "c0ffee", Dialect::Hledger, syntax, parts.to_vec())
                    .map(|j| j.to_string())
            };
            // In path order the parts are taken as they are; out of order they are sorted.
            assert_eq!(assembled(&parts).as_deref(), Some(whole.as_str()));
            parts.reverse();
            assert_eq!(assembled(&parts).as_deref(), Some(whole.as_str()));
        }
    }

    fn lines(e: &Entry) -> Vec<String> {
        e.postings
            .iter()
            .map(|p| format!("{} {}", p.account.hledger(), p.amount))
            .collect()
    }

    #[test]
    fn each_line_books_as_what_it_is_and_an_advance_is_owed_until_repaid() {
        let l = ledger();
        let settings = Settings {
            minor_units: 2,
            bank: "assets:bank",
        };
        let e = entries(&l, &Query::default(), &settings, true).unwrap();
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(
            lines(&e[0]),
            ["expenses:hours:drone:work 2.5", "equity:hours:ana -2.5"]
        );
        assert_eq!(
            lines(&e[1]),
            [
                "expenses:projects:drone:money 30.00",
                "liabilities:members:ben -30.00"
            ]
        );
        assert_eq!(e[1].note.as_deref(), Some("Parts, red"));
        assert_eq!(
            lines(&e[2]),
            [
                "assets:receivable:drone 100.00",
                "income:projects:drone -100.00",
                "assets:reserve:fund 10.00",
                "liabilities:payable:fund -10.00",
                "expenses:fees:cy 5.00",
                "liabilities:payable:cy -5.00",
                "equity:distributions:ana 35.00",
                "liabilities:payable:ana -35.00",
                "liabilities:members:ben 30.00",
                "equity:distributions:ben 20.00",
                "liabilities:payable:ben -50.00",
            ]
        );
        // Without --hours, no hours; every entry balances.
        let e = entries(&l, &Query::default(), &settings, false).unwrap();
        assert_eq!(e.len(), 2);
        for e in &e {
            let sum: Decimal = e.postings.iter().map(|p| p.amount).sum();
            assert!(sum.is_zero(), "{e:?}");
        }
    }

    #[test]
    fn the_books_from_folder_parts_are_the_books_rendered_whole() {
        use super::super::parts::Syntax;
        use super::super::{Dialect, beancount, folder_parts, from_parts, journal};
        let l = ledger();
        let q = Query::default();
        for hours in [false, true] {
            for (dialect, syntax) in [
                (Dialect::Hledger, Syntax::Journal),
                (Dialect::Ledger, Syntax::Journal),
                (Dialect::Hledger, Syntax::Beancount),
            ] {
                let whole = match syntax {
                    Syntax::Journal => journal(&l, &q, "c0ffee", dialect, hours),
                    Syntax::Beancount => beancount(&l, &q, "c0ffee", hours),
                }
                .unwrap();
                let parts: Vec<_> = folder_parts(&l, &q, syntax, hours, |_| true)
                    .unwrap()
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect();
                assert_eq!(parts.len(), 2, "one part per day folder");
                let joined = from_parts(&l, &q, "c0ffee", dialect, syntax, parts.clone())
                    .map(|j| j.to_string());
                assert_eq!(
                    joined.as_deref(),
                    Some(whole.as_str()),
                    "{dialect:?} {syntax:?}"
                );
                // Parts in any order make the same books; a part written with other places
                // for its hours does not fit.
                let reversed: Vec<_> = parts.iter().rev().cloned().collect();
                let joined =
                    from_parts(&l, &q, "c0ffee", dialect, syntax, reversed).map(|j| j.to_string());
                assert_eq!(joined.as_deref(), Some(whole.as_str()));
                if hours {
                    let mut other = parts.clone();
                    let mut first = other[0].unpack().unwrap();
                    first.hours = Some(3);
                    other[0] = super::super::parts::Packed::new(&first);
                    assert!(from_parts(&l, &q, "c0ffee", dialect, syntax, other).is_none());
                }
            }
        }
    }
}
