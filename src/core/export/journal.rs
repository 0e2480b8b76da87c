//! The books in the syntax hledger and ledger-cli share (and beancount, in its own).
//!
//! hledger's journal format grew out of ledger-cli's, and the two still read the same
//! transactions, codes, comments and `key: value` tags; they part on one directive: hledger
//! declares a commodity's display style as `commodity 1000.00 EUR`, ledger-cli as
//! `commodity EUR` with a `format` line under it (which hledger also reads, but the first is
//! what hledger users write). So one writer serves both, with a [`Dialect`]. Beancount
//! differs in more (capitalised account components, `open` directives, quoted strings,
//! metadata lines) and has its own writer, [`beancount`] below, over the same entries.
//!
//! Accounts and commodities are declared first, so `hledger check --strict`, `ledger
//! --pedantic` and `bean-check` accept the file as written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::books::{Account, Commodity, Entry};
use super::{ExportError, one_line};
use crate::core::payout::money;

/// Which of the two related syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// hledger's journal.
    Hledger,
    /// ledger-cli's journal.
    Ledger,
}

/// How amounts are written: money to its minor unit, hours to the finest place any of them
/// uses (so every journal shows them exactly).
pub(super) struct Places {
    pub(super) money: u32,
    pub(super) hours: u32,
}

impl Places {
    pub(super) fn of(entries: &[Entry], minor_units: u32) -> Places {
        let hours = entries
            .iter()
            .flat_map(|e| &e.postings)
            .filter(|p| p.commodity == Commodity::Hours)
            .map(|p| p.amount.normalize().scale())
            .max()
            .unwrap_or(0);
        Places {
            money: minor_units,
            hours,
        }
    }

    pub(super) fn amount(&self, amount: Decimal, commodity: &Commodity) -> String {
        match commodity {
            Commodity::Money(_) => money(amount, self.money),
            Commodity::Hours => money(amount, self.hours),
        }
    }

    pub(super) fn of_commodity(&self, commodity: &Commodity) -> u32 {
        match commodity {
            Commodity::Money(_) => self.money,
            Commodity::Hours => self.hours,
        }
    }
}

/// The books in hledger's or ledger-cli's syntax, after `header`.
pub fn write(entries: &[Entry], minor_units: u32, dialect: Dialect, header: &str) -> String {
    let places = Places::of(entries, minor_units);
    let mut out = header.to_owned();
    let mut accounts = BTreeSet::new();
    let mut commodities = BTreeSet::new();
    for p in entries.iter().flat_map(|e| &e.postings) {
        accounts.insert(p.account.hledger());
        commodities.insert(p.commodity.clone());
    }
    // `ledger --pedantic` wants every metadata tag declared.
    let tags = if dialect == Dialect::Ledger {
        tags(entries)
    } else {
        BTreeSet::new()
    };
    declare(&mut out, &places, dialect, &commodities, &accounts, &tags);
    for e in entries {
        transaction(&mut out, e, &places);
    }
    out
}

/// The metadata tags of `entries`: the first `key:` of each comment, and the posting tags.
pub(super) fn tags(entries: &[Entry]) -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    for e in entries {
        tags.extend(e.comment.split_once(':').map(|(k, _)| k.to_owned()));
        tags.extend(
            e.postings
                .iter()
                .filter_map(|p| p.tag.as_ref())
                .map(|t| t.0.to_owned()),
        );
    }
    tags
}

/// The declarations of a journal: commodities, accounts and (ledger-cli) tags.
pub(super) fn declare(
    out: &mut String,
    places: &Places,
    dialect: Dialect,
    commodities: &BTreeSet<Commodity>,
    accounts: &BTreeSet<String>,
    tags: &BTreeSet<String>,
) {
    for c in commodities {
        // hledger wants a decimal mark in the style: whole hours are shown with one place.
        let style = money(Decimal::new(100_000, 0), places.of_commodity(c).max(1));
        let _ = match dialect {
            Dialect::Hledger => writeln!(out, "commodity {style} {}", c.symbol()),
            Dialect::Ledger => writeln!(
                out,
                "commodity {}\n    format {style} {}",
                c.symbol(),
                c.symbol()
            ),
        };
    }
    for a in accounts {
        let _ = writeln!(out, "account {a}");
    }
    if dialect == Dialect::Ledger {
        for t in tags {
            let _ = writeln!(out, "tag {t}");
        }
    }
}

/// One transaction in hledger's and ledger-cli's shared syntax.
pub(super) fn transaction(out: &mut String, e: &Entry, places: &Places) {
    let note = e
        .note
        .as_deref()
        .map(|n| format!(" | {n}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n{} * ({}) {}{note}\n    ; {}",
        e.date,
        e.code,
        one_line(&e.payee),
        one_line(&e.comment)
    );
    for p in &e.postings {
        let _ = write!(
            out,
            "    {}  {} {}",
            p.account.hledger(),
            places.amount(p.amount, &p.commodity),
            p.commodity.symbol()
        );
        if let Some((k, v)) = &p.tag {
            let _ = write!(out, "  ; {k}: {}", one_line(v));
        }
        out.push('\n');
    }
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

/// An hledger account name (`assets:bank`) as a beancount one (`Assets:Bank`).
fn bean_head(account: &str) -> String {
    account
        .split(':')
        .map(component)
        .collect::<Vec<_>>()
        .join(":")
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

/// Beancount names of accounts, refusing two ids that become the same component.
#[derive(Default)]
pub(super) struct Names {
    pub(super) seen: BTreeMap<String, String>,
}

impl Names {
    pub(super) fn account(&mut self, a: &Account) -> Result<String, ExportError> {
        let mut name = bean_head(&a.head);
        for id in &a.parts {
            let c = component(id);
            match self.seen.get(&c) {
                Some(other) if other != id => {
                    return Err(ExportError::AccountClash {
                        first: other.clone(),
                        second: id.clone(),
                        account: c,
                    });
                }
                _ => {
                    self.seen.insert(c.clone(), id.clone());
                }
            }
            name.push(':');
            name.push_str(&c);
        }
        Ok(name)
    }
}

/// The books as a beancount file, after `header`: the title, the operating currencies,
/// every account opened (with its commodities) on the books' first day, then the entries
/// with their records' fields as metadata. Fails when two ids become the same account name.
pub fn beancount(
    entries: &[Entry],
    minor_units: u32,
    title: &str,
    header: &str,
) -> Result<String, ExportError> {
    let places = Places::of(entries, minor_units);
    let mut names = Names::default();
    let mut out = header.to_owned();
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut commodities = BTreeSet::new();
    for p in entries.iter().flat_map(|e| &e.postings) {
        commodities.insert(p.commodity.clone());
        accounts
            .entry(names.account(&p.account)?)
            .or_default()
            .insert(p.commodity.symbol().to_owned());
    }
    let first = entries.iter().map(|e| e.date).min();
    bean_declare(&mut out, title, &commodities, &accounts, first);
    for e in entries {
        bean_transaction(&mut out, e, &places, &mut names)?;
    }
    Ok(out)
}

/// The opening of a beancount file: the title, the operating currencies, and every account
/// opened with its commodities on the books' `first` day.
pub(super) fn bean_declare(
    out: &mut String,
    title: &str,
    commodities: &BTreeSet<Commodity>,
    accounts: &BTreeMap<String, BTreeSet<String>>,
    first: Option<NaiveDate>,
) {
    let _ = writeln!(out, "option \"title\" {}", bean_string(title));
    for c in commodities {
        if let Commodity::Money(c) = c {
            let _ = writeln!(out, "option \"operating_currency\" \"{c}\"");
        }
    }
    if let Some(first) = first {
        out.push('\n');
        for (a, cur) in accounts {
            let cur: Vec<&str> = cur.iter().map(String::as_str).collect();
            let _ = writeln!(out, "{first} open {a} {}", cur.join(","));
        }
    }
}

/// One transaction in beancount's syntax.
pub(super) fn bean_transaction(
    out: &mut String,
    e: &Entry,
    places: &Places,
    names: &mut Names,
) -> Result<(), ExportError> {
    let _ = writeln!(
        out,
        "\n{} * {} {}",
        e.date,
        bean_string(&e.payee),
        bean_string(&e.narration)
    );
    for (k, v) in &e.meta {
        let _ = writeln!(out, "  {k}: {}", bean_string(v));
    }
    for p in &e.postings {
        let _ = writeln!(
            out,
            "  {}  {} {}",
            names.account(&p.account)?,
            places.amount(p.amount, &p.commodity),
            p.commodity.symbol()
        );
        if let Some((k, v)) = &p.tag {
            let _ = writeln!(out, "    {k}: {}", bean_string(v));
        }
    }
    Ok(())
}
