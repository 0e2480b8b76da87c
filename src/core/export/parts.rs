//! The journals put together from parts: one day folder's contributions rendered once, as
//! text, and reused while the folder is unchanged.
//!
//! A journal is one long text in date order, headed by declarations that depend on every
//! entry (each account, commodity and tag used; beancount opens every account on the first
//! day). But almost all of it is contributions, and what a contribution books depends only on
//! its own record and on the ledger's other entries (agreements, rates, payouts,
//! corrections). So a day folder's entries can be rendered into a [`Part`]: their text, where
//! each starts with its date and id (to merge them in order), and the sets the declarations
//! are made of. The journal is then the union of the parts' sets, declared, and the parts'
//! texts merged in date order with the payouts and payments, which are few and worked out
//! afresh: a new commit renders only its changed folders again.
//!
//! Two things in a journal are not one folder's own, and [`assemble`] says `None` (the
//! caller then renders everything as one, which always answers) rather than guess:
//! - the places hours are written with are the finest any entry uses, so a part records the
//!   places its text was written with, and every part with hours must agree;
//! - beancount refuses two ids that become one account component, found in the order the
//!   whole books are read, so any such clash, in a part or between parts, is left to the
//!   renderer of the whole.
//!
//! The text of an entry is written by the same functions as [`super::journal::write`] and
//! [`super::journal::beancount`] use, so the two ways give the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::books::{Commodity, Entry};
use super::journal::{self, Dialect, Names, Places};
use crate::core::fx::{self, Price};

/// Which text a part holds: hledger and ledger-cli write transactions alike (they differ
/// only in declarations), beancount its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// hledger's and ledger-cli's transactions.
    Journal,
    /// beancount's.
    Beancount,
}

/// Where one entry's text starts in its part, and where it sorts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The entry's day.
    pub date: NaiveDate,
    /// The record's id (the entries of one day sort by it).
    pub code: String,
    /// The byte offset of its text in the part's text.
    pub start: usize,
}

/// Some entries rendered, with what the declarations need of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    /// The entries' text, one after another in (date, id) order.
    pub text: String,
    /// Where each entry starts, in order.
    pub marks: Vec<Mark>,
    /// The accounts used (journal: hledger names; beancount: its names), each with the
    /// symbols of the commodities posted to it (beancount only).
    pub accounts: BTreeMap<String, BTreeSet<String>>,
    /// The commodities used.
    pub commodities: BTreeSet<Commodity>,
    /// The metadata tags used (what `ledger --pedantic` wants declared).
    pub tags: BTreeSet<String>,
    /// Beancount: each account component used, with the id it stands for.
    pub components: BTreeMap<String, String>,
    /// Beancount: two ids of these entries became one account component.
    pub clash: bool,
    /// The finest places any of its hours uses.
    pub scale: u32,
    /// The places its hours were written with, if it has any hours.
    pub hours: Option<u32>,
    /// The exchange rates its contributions were converted at, as prices.
    pub prices: BTreeSet<Price>,
}

/// The finest places the hours of `entries` use.
pub fn scale(entries: &[Entry]) -> u32 {
    Places::of(entries, 0).hours
}

/// `entries` rendered in `syntax`, money to `minor_units` places and hours to `hours`.
pub fn part(entries: &[Entry], syntax: Syntax, minor_units: u32, hours: u32) -> Part {
    let places = Places {
        money: minor_units,
        hours,
    };
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by(|a, b| (a.date, a.source, &a.code).cmp(&(b.date, b.source, &b.code)));
    let mut out = Part {
        scale: scale(entries),
        ..Part::default()
    };
    let mut names = Names::default();
    for e in order {
        out.marks.push(Mark {
            date: e.date,
            code: e.code.clone(),
            start: out.text.len(),
        });
        for p in &e.postings {
            out.commodities.insert(p.commodity.clone());
            if p.commodity == Commodity::Hours {
                out.hours = Some(hours);
            }
        }
        match syntax {
            Syntax::Journal => {
                for p in &e.postings {
                    out.accounts.entry(p.account.hledger()).or_default();
                }
                journal::transaction(&mut out.text, e, &places);
            }
            Syntax::Beancount => {
                for p in &e.postings {
                    match names.account(&p.account) {
                        Ok(name) => {
                            out.accounts
                                .entry(name)
                                .or_default()
                                .insert(p.commodity.symbol().to_owned());
                        }
                        Err(_) => out.clash = true,
                    }
                }
                if journal::bean_transaction(&mut out.text, e, &places, &mut names).is_err() {
                    out.clash = true;
                }
            }
        }
    }
    out.tags = journal::tags(entries);
    out.components = names.seen;
    out
}

/// What a journal is headed and written with, besides its entries.
pub struct Books<'a> {
    /// The syntax of the parts.
    pub syntax: Syntax,
    /// hledger's or ledger-cli's declarations (journal syntax only).
    pub dialect: Dialect,
    /// Decimal places of money.
    pub minor_units: u32,
    /// The opening comment.
    pub header: &'a str,
    /// Beancount's title.
    pub title: &'a str,
}

/// Each entry of `p`: its date, and where its text starts and ends in the part's text.
fn slices(p: &Part) -> Vec<(NaiveDate, usize, usize)> {
    let ends = p
        .marks
        .iter()
        .skip(1)
        .map(|m| m.start)
        .chain([p.text.len()]);
    p.marks
        .iter()
        .zip(ends)
        .map(|(m, end)| (m.date, m.start, end))
        .collect()
}

/// Each entry of `p`: its date, its record's id and its text.
fn entries(p: &Part) -> Vec<(NaiveDate, &str, &str)> {
    p.marks
        .iter()
        .zip(slices(p))
        .map(|(m, (_, start, end))| (m.date, m.code.as_str(), &p.text[start..end]))
        .collect()
}

/// The journal of the contributions' `parts` (in path order) and the other `records`
/// (payouts and payments, in order): the same text as rendering all the entries at once,
/// or `None` when the parts cannot be put together (hours written with other places than
/// the journal's, or a beancount account clash); the caller then renders the whole.
///
/// Long because it is the whole journal's layout in one place (declarations from every
/// part, then the parts and the other records merged by date), as the whole-ledger writer
/// lays it out, so the two can be read side by side.
pub fn assemble(parts: &[Part], records: &[Entry], books: &Books<'_>) -> Option<String> {
    let hours = parts
        .iter()
        .map(|p| p.scale)
        .chain([scale(records)])
        .max()
        .unwrap_or(0);
    if parts
        .iter()
        .any(|p| p.hours.is_some_and(|h| h != hours) || p.clash)
    {
        return None;
    }
    let rest = part(records, books.syntax, books.minor_units, hours);
    if rest.clash {
        return None;
    }
    let all = || parts.iter().chain([&rest]);
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut commodities = BTreeSet::new();
    let mut tags = BTreeSet::new();
    let mut components: BTreeMap<&str, &str> = BTreeMap::new();
    for p in all() {
        for (a, symbols) in &p.accounts {
            accounts
                .entry(a.clone())
                .or_default()
                .extend(symbols.iter().cloned());
        }
        commodities.extend(p.commodities.iter().cloned());
        tags.extend(p.tags.iter().cloned());
        for (c, id) in &p.components {
            if *components.entry(c).or_insert(id) != id.as_str() {
                return None;
            }
        }
    }
    // Every entry's text, in the books' order: contributions by (date, id), each before the
    // payouts and payments of its day.
    // Parts of day folders in path order are in that order already: their entries are
    // then taken part by part as they are written (a list of a million entries would
    // double what the books hold), and listed and sorted only when they are not.
    let mut last: Option<(NaiveDate, &str)> = None;
    let sorted = parts.iter().flat_map(|p| &p.marks).all(|m| {
        let key = (m.date, m.code.as_str());
        let after = last.is_none_or(|l| l <= key);
        last = Some(key);
        after
    });
    let mut listed: Vec<(NaiveDate, &str, &str)> = Vec::new();
    if !sorted {
        listed = parts.iter().flat_map(entries).collect();
        listed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    }
    let in_order = || -> Box<dyn Iterator<Item = (NaiveDate, &str, &str)> + '_> {
        if sorted {
            Box::new(parts.iter().flat_map(entries))
        } else {
            Box::new(listed.iter().copied())
        }
    };
    let size: usize = all().map(|p| p.text.len()).sum();
    let mut out = String::with_capacity(books.header.len() + size + 64 * accounts.len());
    out.push_str(books.header);
    let places = Places {
        money: books.minor_units,
        hours,
    };
    match books.syntax {
        Syntax::Journal => {
            let names: BTreeSet<String> = accounts.into_keys().collect();
            let none = BTreeSet::new();
            let tags = if books.dialect == Dialect::Ledger {
                &tags
            } else {
                &none
            };
            journal::declare(&mut out, &places, books.dialect, &commodities, &names, tags);
        }
        Syntax::Beancount => {
            let first = in_order()
                .next()
                .map(|t| t.0)
                .into_iter()
                .chain(rest.marks.iter().map(|m| m.date))
                .min();
            journal::bean_declare(&mut out, books.title, &commodities, &accounts, first);
        }
    }
    let mut contributions = in_order().peekable();
    for (date, start, end) in slices(&rest) {
        while let Some((_, _, text)) = contributions.next_if(|t| t.0 <= date) {
            out.push_str(text);
        }
        out.push_str(&rest.text[start..end]);
    }
    for (_, _, text) in contributions {
        out.push_str(text);
    }
    let prices: Vec<Price> = parts
        .iter()
        .flat_map(|p| p.prices.iter().cloned())
        .collect::<BTreeSet<Price>>()
        .into_iter()
        .collect();
    out.push_str(&match books.syntax {
        Syntax::Journal => fx::hledger_prices(&prices),
        Syntax::Beancount => fx::beancount_prices(&prices),
    });
    Some(out)
}
