//! `ovn export hledger|ledger|beancount` from kept parts: each day folder's contributions
//! rendered once (their text, and the accounts, commodities, tags and prices they use), and
//! reused while the folder (and everything else its text depends on) is unchanged.
//!
//! The journals are put together by [`export::parts`]: the parts' sets declared, their texts
//! merged in date order with the payouts and payments, which are worked out afresh. The
//! parts are kept and read by the reports' driver (`super::reports::by_parts`), so they
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

use super::key;
use super::reports::{Error, Question, by_parts};
use super::tally::{Counting, Tally};
use crate::core::export::parts::{Assembled, Packed, Syntax};
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
) -> Result<Option<Assembled>, Error> {
    let syntax = syntax(beancount);
    let parts = by_parts(store, commit, ledger, &question(query, beancount, hours))?;
    Ok(parts.and_then(|parts| export::from_parts(ledger, query, commit, dialect, syntax, parts)))
}

/// What counts the books of `query` (as beancount or not, with `hours` or not) while a cold
/// cache is filled (see [`super::tally`]), for the load before [`books`].
pub fn tally(query: &Query, beancount: bool, hours: bool) -> Box<dyn Tally> {
    Box::new(Counting::new(question(query, beancount, hours)))
}

/// The books' syntax: beancount's, or the one hledger and ledger-cli share.
fn syntax(beancount: bool) -> Syntax {
    if beancount {
        Syntax::Beancount
    } else {
        Syntax::Journal
    }
}

/// The question the books of `query` ask of each day folder (see [`books`]).
pub fn question(query: &Query, beancount: bool, hours: bool) -> Question<Packed> {
    let (q, query) = (query.clone(), query.clone());
    let syntax = syntax(beancount);
    Question {
        month_key: Box::new(move |month, context| {
            key::books_month(month, context, beancount, hours, &q)
        }),
        count: Box::new(move |l, wanted| {
            export::folder_parts(l, &query, syntax, hours, wanted).map_err(|e| e.to_string())
        }),
        encode,
        decode,
    }
}

/// Keeps a part in the part cache: its packed bytes.
fn encode(part: &Packed, out: &mut Vec<u8>) {
    out.extend_from_slice(part.bytes());
}

/// A kept part read back; `None` unless it is a whole one.
fn decode(input: &[u8]) -> Option<Packed> {
    Packed::from_bytes(input)
}
