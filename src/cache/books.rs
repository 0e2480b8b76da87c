//! `ovn export hledger|ledger|beancount` from kept parts: each day folder's contributions
//! rendered once (their text, and the accounts, commodities, tags and prices they use), and
//! reused while the folder (and everything else its text depends on) is unchanged.
//!
//! The journals are put together by [`export::parts`]: the parts' sets declared, their texts
//! merged in date order with the payouts and payments, which are worked out afresh. The
//! parts are kept and read by the reports' driver ([`super::reports::by_parts`]), so they
//! are keyed alike. A part is keyed by
//! - the syntax (hledger and ledger-cli share one text, beancount has its own), `--hours`,
//!   the query (projects and dates), and a digest of every ledger entry other than the
//!   contributions (`ovn.toml` fixes the currency and minor unit; agreements, rates and the
//!   payouts that repaid debts fix each debt claim; agents and resources name accounts);
//! - the day folder's path and tree id, which fix its records;
//! - the ids that corrections anywhere name among its records (which of them book).
//!
//! What one folder cannot know (the places hours are written with, the whole books'
//! beancount names) each part records, and a part that does not fit is never used: the
//! caller renders the whole instead.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::key;
use super::reports::{Error, by_parts};
use crate::core::codec::{get_str, get_u64, put_str, put_u64};
use crate::core::export::books::Commodity;
use crate::core::export::parts::{Mark, Part, Syntax};
use crate::core::export::{self, Dialect};
use crate::core::ledger::Ledger;
use crate::core::report::Query;
use crate::store::Store;

/// The books of `query` over `ledger` (loaded at `commit`, quickly or in full) in `dialect`
/// (hledger, ledger-cli) or as beancount (`beancount`), with `hours` or not, using and filling
/// the part cache. `None` when a summarised folder's part is not kept, or the parts do not
/// fit together (see [`export::parts::assemble`]): the caller then loads in full and, if it
/// is still `None`, renders the whole books.
pub fn books(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    query: &Query,
    dialect: Dialect,
    beancount: bool,
    hours: bool,
) -> Result<Option<String>, Error> {
    let syntax = if beancount {
        Syntax::Beancount
    } else {
        Syntax::Journal
    };
    let parts = by_parts(
        store,
        commit,
        ledger,
        |month, context| key::books_month(month, context, beancount, hours, query),
        |l, wanted| export::folder_parts(l, query, syntax, hours, wanted),
        encode,
        decode,
    )?;
    Ok(parts.and_then(|parts| export::from_parts(ledger, query, commit, dialect, syntax, &parts)))
}

/// Appends the encoding of a part to `out` (for the part cache).
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

/// Decodes what [`encode`] wrote; `None` if it does not parse.
fn decode(mut input: &[u8]) -> Option<Part> {
    let input = &mut input;
    let text = get_str(input)?.to_owned();
    let mut part = Part::default();
    for _ in 0..get_u64(input)? {
        let date = date(input)?;
        let code = get_str(input)?.to_owned();
        let start = usize::try_from(get_u64(input)?).ok()?;
        // Every mark must cut the text where a character starts.
        if !text.is_char_boundary(start) {
            return None;
        }
        part.marks.push(Mark { date, code, start });
    }
    part.text = text;
    let mut accounts = BTreeMap::new();
    for _ in 0..get_u64(input)? {
        let a = get_str(input)?.to_owned();
        let mut symbols = BTreeSet::new();
        for _ in 0..get_u64(input)? {
            symbols.insert(get_str(input)?.to_owned());
        }
        accounts.insert(a, symbols);
    }
    part.accounts = accounts;
    for _ in 0..get_u64(input)? {
        let c = match get_u64(input)? {
            0 => Commodity::Money(get_str(input)?.to_owned()),
            1 => Commodity::Hours,
            _ => return None,
        };
        part.commodities.insert(c);
    }
    for _ in 0..get_u64(input)? {
        part.tags.insert(get_str(input)?.to_owned());
    }
    for _ in 0..get_u64(input)? {
        let c = get_str(input)?.to_owned();
        part.components.insert(c, get_str(input)?.to_owned());
    }
    part.clash = get_u64(input)? != 0;
    part.scale = u32::try_from(get_u64(input)?).ok()?;
    part.hours = match get_u64(input)? {
        0 => None,
        h => Some(u32::try_from(h - 1).ok()?),
    };
    for _ in 0..get_u64(input)? {
        let day = date(input)?;
        let from = get_str(input)?.to_owned();
        let (rate, rest) = input.split_first_chunk::<16>()?;
        *input = rest;
        let rate = Decimal::deserialize(*rate);
        let to = get_str(input)?.to_owned();
        part.prices.insert((day, from, rate, to));
    }
    // The marks must be in order and inside the text.
    let ordered = part.marks.windows(2).all(|w| w[0].start <= w[1].start);
    let inside = part.marks.last().is_none_or(|m| m.start <= part.text.len());
    (input.is_empty() && ordered && inside).then_some(part)
}

/// A date as [`encode`] wrote it (days since the Unix epoch).
fn date(input: &mut &[u8]) -> Option<NaiveDate> {
    let days = u32::try_from(get_u64(input)?).ok()?.cast_signed();
    NaiveDate::from_epoch_days(days)
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
        let mut bytes = Vec::new();
        encode(&part, &mut bytes);
        assert_eq!(decode(&bytes), Some(part));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
    }
}
