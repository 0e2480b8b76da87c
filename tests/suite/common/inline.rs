//! Inline ledgers for the tests of the pure core: files given as text, loaded without git.
//!
//! The `domain` and `robustness` tests each used to turn (path, text) pairs into `RawFile`s and
//! load them with a copy of the same few lines; these are the one copy. A ledger "on the base"
//! is [`BASE`] with some files added or replaced, which is how most of them describe a case.

use std::str::FromStr;

use ovn::core::ledger::{self, Ledger, RawFile};
use rust_decimal::Decimal;

use super::BASE;

/// A decimal from its text (test literals only; panics on a typo).
pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// (path, text) pairs as the files a read of git would give.
pub fn raw<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Vec<RawFile> {
    files
        .iter()
        .map(|(p, t)| RawFile {
            path: p.as_ref().to_owned(),
            bytes: t.as_ref().as_bytes().to_vec(),
        })
        .collect()
}

/// [`BASE`] followed by `extra`, where a file replaces an earlier one with the same path (and
/// takes the place of the later one).
pub fn on_base(extra: Vec<RawFile>) -> Vec<RawFile> {
    let mut all = raw(BASE);
    all.extend(extra);
    let last: std::collections::BTreeMap<String, usize> = all
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    let keep: std::collections::BTreeSet<usize> = last.into_values().collect();
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, f)| f)
        .collect()
}

/// Loads `files`, which must be a clean ledger (the test fails with the diagnostics if not).
pub fn ledger<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Ledger {
    clean(&raw(files))
}

/// Loads [`BASE`] with `extra` added, which must be a clean ledger.
pub fn ledger_on_base(extra: &[(&str, &str)]) -> Ledger {
    clean(&on_base(raw(extra)))
}

fn clean(files: &[RawFile]) -> Ledger {
    let loaded = ledger::load(files);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    loaded.ledger
}
