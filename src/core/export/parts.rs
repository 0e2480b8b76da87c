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
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::books::{Commodity, Entry};
use super::journal::{self, Dialect, Names, Places};
use crate::core::codec::{get_str, get_u64, put_str, put_u64};
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

/// A [`Part`] as the bytes the part cache keeps. The books hold every day folder's part
/// until they are assembled, and held this way a part costs its bytes, not an allocation per
/// entry (at a million contributions about half the memory); each is read through a
/// `View` when the assembly needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed(Vec<u8>);

impl Packed {
    /// `part`, packed.
    pub fn new(part: &Part) -> Packed {
        let mut out = Vec::with_capacity(part.text.len() + 24 * part.marks.len() + 64);
        encode(part, &mut out);
        Packed(out)
    }

    /// Bytes read back (from the part cache): `None` unless they are a whole part.
    pub fn from_bytes(bytes: &[u8]) -> Option<Packed> {
        view(bytes)?;
        Some(Packed(bytes.to_vec()))
    }

    /// The bytes (what the part cache keeps).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The part again, owned (for tests that change one).
    #[cfg(test)]
    pub(crate) fn unpack(&self) -> Option<Part> {
        let v = view(&self.0)?;
        Some(Part {
            text: v.text.to_owned(),
            marks: v
                .marks
                .iter()
                .map(|&(date, code, start)| Mark {
                    date,
                    code: code.to_owned(),
                    start,
                })
                .collect(),
            accounts: v
                .accounts
                .iter()
                .map(|(a, s)| (a.to_string(), s.iter().map(|s| s.to_string()).collect()))
                .collect(),
            commodities: v.commodities.into_iter().collect(),
            tags: v.tags.iter().map(|t| t.to_string()).collect(),
            components: v
                .components
                .iter()
                .map(|(c, id)| (c.to_string(), id.to_string()))
                .collect(),
            clash: v.clash,
            scale: v.scale,
            hours: v.hours,
            prices: v.prices.into_iter().collect(),
        })
    }
}

/// Writes `part` as [`view`] reads it.
fn encode(part: &Part, out: &mut Vec<u8>) {
    put_str(out, &part.text);
    put_u64(out, part.marks.len() as u64);
    for m in &part.marks {
        put_u64(out, u64::from(m.date.to_epoch_days().cast_unsigned()));
        put_str(out, &m.code);
        put_u64(out, m.start as u64);
    }
    put_u64(out, part.accounts.len() as u64);
    for (a, symbols) in &part.accounts {
        put_str(out, a);
        put_u64(out, symbols.len() as u64);
        for s in symbols {
            put_str(out, s);
        }
    }
    put_u64(out, part.commodities.len() as u64);
    for c in &part.commodities {
        match c {
            Commodity::Money(c) => {
                put_u64(out, 0);
                put_str(out, c);
            }
            Commodity::Hours => put_u64(out, 1),
        }
    }
    put_u64(out, part.tags.len() as u64);
    for t in &part.tags {
        put_str(out, t);
    }
    put_u64(out, part.components.len() as u64);
    for (c, id) in &part.components {
        put_str(out, c);
        put_str(out, id);
    }
    put_u64(out, u64::from(part.clash));
    put_u64(out, u64::from(part.scale));
    put_u64(out, part.hours.map_or(0, |h| u64::from(h) + 1));
    put_u64(out, part.prices.len() as u64);
    for (date, from, rate, to) in &part.prices {
        put_u64(out, u64::from(date.to_epoch_days().cast_unsigned()));
        put_str(out, from);
        out.extend_from_slice(&rate.serialize());
        put_str(out, to);
    }
}

/// A packed part read in place: its strings borrowed from the bytes, so reading one again
/// is cheap.
struct View<'a> {
    text: &'a str,
    /// Each entry's date, record id and where its text starts.
    marks: Vec<(NaiveDate, &'a str, usize)>,
    accounts: Vec<(&'a str, Vec<&'a str>)>,
    commodities: Vec<Commodity>,
    tags: Vec<&'a str>,
    components: Vec<(&'a str, &'a str)>,
    clash: bool,
    scale: u32,
    hours: Option<u32>,
    prices: Vec<Price>,
}

/// Reads what [`encode`] wrote; `None` unless it is all there and holds together (the marks
/// in order, inside the text, each where a character starts).
fn view(mut input: &[u8]) -> Option<View<'_>> {
    let input = &mut input;
    let text = get_str(input)?;
    let n = get_u64(input)?;
    // Bounded by the bytes: every mark takes at least three.
    let mut marks = Vec::with_capacity(usize::try_from(n).ok()?.min(input.len() / 3));
    for _ in 0..n {
        let date = date(input)?;
        let code = get_str(input)?;
        let start = usize::try_from(get_u64(input)?).ok()?;
        if !text.is_char_boundary(start)
            || marks.last().is_some_and(|m: &(_, _, usize)| m.2 > start)
        {
            return None;
        }
        marks.push((date, code, start));
    }
    let mut v = View {
        text,
        marks,
        accounts: Vec::new(),
        commodities: Vec::new(),
        tags: Vec::new(),
        components: Vec::new(),
        clash: false,
        scale: 0,
        hours: None,
        prices: Vec::new(),
    };
    for _ in 0..get_u64(input)? {
        let a = get_str(input)?;
        let mut symbols = Vec::new();
        for _ in 0..get_u64(input)? {
            symbols.push(get_str(input)?);
        }
        v.accounts.push((a, symbols));
    }
    for _ in 0..get_u64(input)? {
        v.commodities.push(match get_u64(input)? {
            0 => Commodity::Money(get_str(input)?.to_owned()),
            1 => Commodity::Hours,
            _ => return None,
        });
    }
    for _ in 0..get_u64(input)? {
        v.tags.push(get_str(input)?);
    }
    for _ in 0..get_u64(input)? {
        let c = get_str(input)?;
        v.components.push((c, get_str(input)?));
    }
    v.clash = get_u64(input)? != 0;
    v.scale = u32::try_from(get_u64(input)?).ok()?;
    v.hours = match get_u64(input)? {
        0 => None,
        h => Some(u32::try_from(h - 1).ok()?),
    };
    for _ in 0..get_u64(input)? {
        let day = date(input)?;
        let from = get_str(input)?.to_owned();
        let (rate, rest) = input.split_first_chunk::<16>()?;
        *input = rest;
        let rate = Decimal::deserialize(*rate);
        v.prices.push((day, from, rate, get_str(input)?.to_owned()));
    }
    input.is_empty().then_some(v)
}

/// A date as [`encode`] wrote it (days since the Unix epoch).
fn date(input: &mut &[u8]) -> Option<NaiveDate> {
    let days = u32::try_from(get_u64(input)?).ok()?.cast_signed();
    NaiveDate::from_epoch_days(days)
}

/// Each entry of `v`: its date, its record's id and its text.
fn entries<'a>(v: &View<'a>) -> Vec<(NaiveDate, &'a str, &'a str)> {
    let text = v.text;
    let ends = v.marks.iter().skip(1).map(|m| m.2).chain([text.len()]);
    v.marks
        .iter()
        .zip(ends)
        .map(|(&(date, code, start), end)| (date, code, &text[start..end]))
        .collect()
}

/// What the declarations are made of, gathered from every part.
#[derive(Default)]
struct Declared<'a> {
    accounts: BTreeMap<String, BTreeSet<String>>,
    commodities: BTreeSet<Commodity>,
    tags: BTreeSet<String>,
    components: BTreeMap<&'a str, &'a str>,
    prices: BTreeSet<Price>,
}

impl<'a> Declared<'a> {
    /// Adds what `v` uses; `None` when one of its account components stands for another
    /// id than before (a beancount clash between parts).
    fn add(&mut self, v: View<'a>) -> Option<()> {
        for (a, symbols) in &v.accounts {
            let known = match self.accounts.get_mut(*a) {
                Some(known) => known,
                None => self.accounts.entry((*a).to_owned()).or_default(),
            };
            for s in symbols {
                if !known.contains(*s) {
                    known.insert((*s).to_owned());
                }
            }
        }
        self.commodities.extend(v.commodities);
        for t in &v.tags {
            if !self.tags.contains(*t) {
                self.tags.insert((*t).to_owned());
            }
        }
        for (c, id) in v.components {
            if *self.components.entry(c).or_insert(id) != id {
                return None;
            }
        }
        self.prices.extend(v.prices);
        Some(())
    }

    /// Adds what `other` gathered (from later parts); `None` on a clash, as [`Declared::add`].
    fn merge(&mut self, other: Declared<'a>) -> Option<()> {
        for (a, symbols) in other.accounts {
            self.accounts.entry(a).or_default().extend(symbols);
        }
        self.commodities.extend(other.commodities);
        self.tags.extend(other.tags);
        for (c, id) in other.components {
            if *self.components.entry(c).or_insert(id) != id {
                return None;
            }
        }
        self.prices.extend(other.prices);
        Some(())
    }
}

/// What a run of parts holds besides its entries' text: their declarations, the finest
/// places of hours they use and were written with, and whether their entries are in the
/// books' order (each part's, and from one part to the next).
struct Scan<'a> {
    declared: Declared<'a>,
    hours: u32,
    written_with: BTreeSet<u32>,
    sorted: bool,
    /// The first and the last entry (date, record id).
    first_mark: Option<(NaiveDate, &'a str)>,
    last_mark: Option<(NaiveDate, &'a str)>,
    /// The earliest date.
    first: Option<NaiveDate>,
}

impl<'a> Scan<'a> {
    /// The scan of no parts: nothing declared, nothing out of order.
    fn empty() -> Scan<'a> {
        Scan {
            declared: Declared::default(),
            hours: 0,
            written_with: BTreeSet::new(),
            sorted: true,
            first_mark: None,
            last_mark: None,
            first: None,
        }
    }

    /// The scan of `parts`, in order; `None` when one does not read or clashes.
    fn of(parts: &'a [Packed]) -> Option<Scan<'a>> {
        let mut scan = Scan::empty();
        for p in parts {
            let v = view(&p.0)?;
            if v.clash {
                return None;
            }
            scan.hours = scan.hours.max(v.scale);
            scan.written_with.extend(v.hours);
            for &(date, code, _) in &v.marks {
                scan.sorted &= scan.last_mark.is_none_or(|l| l <= (date, code));
                scan.first_mark.get_or_insert((date, code));
                scan.last_mark = Some((date, code));
                scan.first = Some(scan.first.map_or(date, |f| f.min(date)));
            }
            scan.declared.add(v)?;
        }
        Some(scan)
    }

    /// This scan followed by `next`'s (of the parts after).
    fn then(mut self, next: Scan<'a>) -> Option<Scan<'a>> {
        self.declared.merge(next.declared)?;
        self.hours = self.hours.max(next.hours);
        self.written_with.extend(next.written_with);
        self.sorted &= next.sorted
            && match (self.last_mark, next.first_mark) {
                (Some(last), Some(first)) => last <= first,
                _ => true,
            };
        self.first_mark = self.first_mark.or(next.first_mark);
        self.last_mark = next.last_mark.or(self.last_mark);
        self.first = match (self.first, next.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(self)
    }
}

/// Books put together from parts by [`assemble`], written out piece by piece
/// ([`Assembled::pieces`]) rather than as one string: at a million contributions the text
/// is tens of megabytes that the parts already hold.
pub struct Assembled {
    parts: Vec<Packed>,
    /// The header and the declarations.
    head: String,
    /// The payouts' and payments' entries.
    rest: Packed,
    /// The entries merged already, when the parts' entries are not in the books' order.
    merged: Option<String>,
    /// The prices, after every entry.
    tail: String,
}

/// Entries (date, record id, text) in the books' order.
type Entries<'a> = Box<dyn Iterator<Item = (NaiveDate, &'a str, &'a str)> + 'a>;

impl Assembled {
    /// The books' text, in order, in pieces.
    pub fn pieces(&self) -> impl Iterator<Item = &str> + '_ {
        let body: Box<dyn Iterator<Item = &str>> = match &self.merged {
            Some(text) => Box::new(std::iter::once(text.as_str())),
            None => Box::new(merge(in_path_order(&self.parts), &self.rest)),
        };
        std::iter::once(self.head.as_str())
            .chain(body)
            .chain(std::iter::once(self.tail.as_str()))
    }
}

impl std::fmt::Display for Assembled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces().try_for_each(|p| f.write_str(p))
    }
}

/// The entries of `parts`, part by part (every part was read before, so reading it again
/// cannot fail).
fn in_path_order(parts: &[Packed]) -> Entries<'_> {
    Box::new(
        parts
            .iter()
            .flat_map(|p| view(&p.0).map(|v| entries(&v)).unwrap_or_default()),
    )
}

/// The texts of `contributions` (in the books' order) and of the entries of `rest`, merged
/// by date: each contribution before the payouts and payments of its day.
fn merge<'a>(contributions: Entries<'a>, rest: &'a Packed) -> impl Iterator<Item = &'a str> {
    let mut c = contributions.peekable();
    let mut r = view(&rest.0)
        .map(|v| entries(&v))
        .unwrap_or_default()
        .into_iter()
        .peekable();
    std::iter::from_fn(move || match (c.peek(), r.peek()) {
        (Some(a), Some(b)) if a.0 > b.0 => r.next().map(|e| e.2),
        (Some(_), _) => c.next().map(|e| e.2),
        (None, _) => r.next().map(|e| e.2),
    })
}

/// The journal of the contributions' `parts` (in path order) and the other `records`
/// (payouts and payments, in order): the same text as rendering all the entries at once,
/// or `None` when the parts cannot be put together (hours written with other places than
/// the journal's, a beancount account clash, or a part that does not read); the caller then
/// renders the whole.
///
/// The parts are read one at a time, for the declarations; their entries are read again as
/// the journal is written (or listed and sorted here, when they are not in the books'
/// order). The journal's layout is in one place here (declarations from every part, then
/// the parts and the other records merged by date), as the whole-ledger writer lays it out,
/// so the two can be read side by side.
pub fn assemble(parts: Vec<Packed>, records: &[Entry], books: &Books<'_>) -> Option<Assembled> {
    // Parts of day folders in path order are in the books' order (contributions by (date,
    // id)) already: their entries are then taken part by part as they are written (a list
    // of a million entries would double what the books hold), and listed and sorted only
    // when they are not. The parts are scanned a run a core (after one new commit the
    // scan was a tenth of `export hledger` on one core at a million), the runs put
    // together in order.
    let run = parts
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let scans: Vec<Option<Scan>> = parts.par_chunks(run).map(Scan::of).collect();
    let mut scan = Scan::empty();
    for next in scans {
        scan = scan.then(next?)?;
    }
    let Scan {
        mut declared,
        hours,
        written_with,
        sorted,
        first,
        ..
    } = scan;
    let hours = hours.max(scale(records));
    if written_with.iter().any(|&h| h != hours) {
        return None;
    }
    let rest = Packed::new(&part(records, books.syntax, books.minor_units, hours));
    let rest_view = view(&rest.0)?;
    if rest_view.clash {
        return None;
    }
    let first = first
        .into_iter()
        .chain(rest_view.marks.first().map(|m| m.0))
        .min();
    declared.add(rest_view)?;

    let mut head = books.header.to_owned();
    let places = Places {
        money: books.minor_units,
        hours,
    };
    match books.syntax {
        Syntax::Journal => {
            let names: BTreeSet<String> = declared.accounts.into_keys().collect();
            let none = BTreeSet::new();
            let tags = if books.dialect == Dialect::Ledger {
                &declared.tags
            } else {
                &none
            };
            let commodities = &declared.commodities;
            journal::declare(&mut head, &places, books.dialect, commodities, &names, tags);
        }
        Syntax::Beancount => {
            let (commodities, accounts) = (&declared.commodities, &declared.accounts);
            journal::bean_declare(&mut head, books.title, commodities, accounts, first);
        }
    }
    let merged = (!sorted).then(|| {
        let mut listed: Vec<(NaiveDate, &str, &str)> = in_path_order(&parts).collect();
        listed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        merge(Box::new(listed.into_iter()), &rest).collect()
    });
    let prices: Vec<Price> = declared.prices.into_iter().collect();
    let tail = match books.syntax {
        Syntax::Journal => fx::hledger_prices(&prices),
        Syntax::Beancount => fx::beancount_prices(&prices),
    };
    Some(Assembled {
        parts,
        head,
        rest,
        merged,
        tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_reads_back_as_written_and_a_cut_one_does_not() {
        let mut part = Part {
            text: "\n2026-03-01 * (a) x\n\n2026-03-01 * (b) y\n".to_owned(),
            clash: false,
            scale: 2,
            hours: Some(2),
            ..Part::default()
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        part.marks = vec![
            Mark {
                date: day,
                code: "a".into(),
                start: 0,
            },
            Mark {
                date: day,
                code: "b".into(),
                start: 19,
            },
        ];
        part.accounts
            .entry("Assets:Bank".into())
            .or_default()
            .insert("EUR".into());
        part.commodities.insert(Commodity::Money("EUR".into()));
        part.commodities.insert(Commodity::Hours);
        part.tags.insert("bucket".into());
        part.components.insert("Ana".into(), "ana".into());
        part.prices
            .insert((day, "USD".into(), Decimal::new(92, 2), "EUR".into()));
        let packed = Packed::new(&part);
        assert_eq!(packed.unpack(), Some(part.clone()));
        assert_eq!(Packed::from_bytes(packed.bytes()), Some(packed.clone()));
        let bytes = packed.bytes();
        assert_eq!(Packed::from_bytes(&bytes[..bytes.len() - 1]), None);
        // Marks out of order, or cutting a character, do not read.
        let mut swapped = part.clone();
        swapped.marks.swap(0, 1);
        assert_eq!(Packed::from_bytes(Packed::new(&swapped).bytes()), None);
        let mut cut = part;
        cut.text = "é".repeat(20);
        cut.marks[1].start = 1;
        assert_eq!(Packed::from_bytes(Packed::new(&cut).bytes()), None);
    }

    /// A part of entries `(day of March 2026, record id)`, each using account `Assets:<id>`
    /// and tag `t<day>`, its hours at `scale` places, and when given a beancount component
    /// and the id it stands for.
    fn part_of(entries: &[(u32, &str)], scale: u32, component: Option<(&str, &str)>) -> Packed {
        let mut part = Part {
            scale,
            hours: Some(scale),
            ..Part::default()
        };
        for &(day, code) in entries {
            let date = NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
            part.marks.push(Mark {
                date,
                code: code.into(),
                start: part.text.len(),
            });
            part.text
                .push_str(&format!("\n2026-03-{day:02} * ({code}) x\n"));
            part.accounts
                .entry(format!("Assets:{code}"))
                .or_default()
                .insert("EUR".into());
            part.tags.insert(format!("t{day}"));
            part.prices
                .insert((date, "USD".into(), Decimal::new(92, 2), "EUR".into()));
        }
        part.commodities.insert(Commodity::Money("EUR".into()));
        if let Some((c, id)) = component {
            part.components.insert(c.into(), id.into());
        }
        Packed::new(&part)
    }

    /// A scan's every field, comparable.
    type Seen = (
        BTreeMap<String, BTreeSet<String>>,
        BTreeSet<Commodity>,
        BTreeSet<String>,
        BTreeMap<String, String>,
        BTreeSet<Price>,
        (u32, BTreeSet<u32>, bool),
        (
            Option<(NaiveDate, String)>,
            Option<(NaiveDate, String)>,
            Option<NaiveDate>,
        ),
    );

    fn seen(s: Scan<'_>) -> Seen {
        let d = s.declared;
        let mark = |m: Option<(NaiveDate, &str)>| m.map(|(d, c)| (d, c.to_owned()));
        (
            d.accounts,
            d.commodities,
            d.tags,
            d.components
                .into_iter()
                .map(|(c, id)| (c.to_owned(), id.to_owned()))
                .collect(),
            d.prices,
            (s.hours, s.written_with, s.sorted),
            (mark(s.first_mark), mark(s.last_mark), s.first),
        )
    }

    #[test]
    fn parts_scanned_in_runs_and_put_together_are_scanned_as_one_run() {
        let in_order = vec![
            part_of(&[(1, "a"), (1, "b")], 1, Some(("Ana", "ana"))),
            part_of(&[], 0, None),
            part_of(&[(2, "a")], 2, Some(("Ana", "ana"))),
            part_of(&[(2, "c"), (5, "a")], 1, None),
            part_of(&[], 0, None),
            part_of(&[(7, "z")], 3, Some(("Ben", "ben"))),
        ];
        // Out of order only from one part to the next (day 5, then day 3).
        let mut across = in_order.clone();
        across.insert(4, part_of(&[(3, "q")], 1, None));
        for parts in [&in_order, &across] {
            let whole = seen(Scan::of(parts).unwrap());
            assert_eq!(whole.5.2, std::ptr::eq(parts, &in_order), "sorted");
            // Split anywhere into two or three runs, put together in order.
            for a in 0..=parts.len() {
                for b in a..=parts.len() {
                    let runs = [&parts[..a], &parts[a..b], &parts[b..]];
                    let mut scan = Scan::empty();
                    for run in runs {
                        scan = scan.then(Scan::of(run).unwrap()).unwrap();
                    }
                    assert_eq!(seen(scan), whole, "runs split at {a} and {b}");
                }
            }
        }
        // A component standing for two ids clashes whichever runs hold the two parts.
        let clash = vec![
            part_of(&[(1, "a")], 0, Some(("Ana", "ana"))),
            part_of(&[(2, "b")], 0, Some(("Ana", "an-a"))),
        ];
        assert!(Scan::of(&clash).is_none());
        let first = Scan::of(&clash[..1]).unwrap();
        assert!(first.then(Scan::of(&clash[1..]).unwrap()).is_none());
    }
}
