//! Inline ledgers for the tests of the pure core: files given as text, loaded without git.
//!
//! The `domain` and `robustness` tests each used to turn (path, text) pairs into `RawFile`s and
//! load them with a copy of the same few lines; these are the one copy. A ledger "on the base"
//! is [`BASE`] with some files added or replaced, which is how most of them describe a case.

use std::str::FromStr;

use ovn::core::ledger::{self, Ledger, RawFile};
use ovn::core::payout;
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

/// The payout `request` makes on `ledger` after `settled`, computed in full, without its
/// words ([`payout::Options::unexplained`], as a payout recorded without `--explain`) and
/// also without its claims listed ([`payout::Options::unlisted`], as a preview without
/// `--explain`), after asserting that the three are one payout but for what each leaves
/// out: every claim's `how` and its decay's reason (the owners' notes are part of `how`),
/// then the claim by claim lists (each bucket's count of claims and the contributions
/// claimed twice stay). Returns the full one. Fails the test if the full payout explains
/// nothing, which would prove nothing.
pub fn payout_every_way(
    ledger: &Ledger,
    request: &payout::Request<'_>,
    settled: &[payout::Settled],
) -> payout::Payout {
    let full = payout::compute(ledger, request, settled).unwrap();
    let lighter = |unlisted: bool| {
        let options = payout::Options {
            unexplained: true,
            unlisted,
            ..Default::default()
        };
        payout::compute_with(ledger, request, settled, options).unwrap()
    };
    let mut wordless = full.clone();
    let mut claims = 0;
    for c in wordless.buckets.iter_mut().flat_map(|b| &mut b.claims) {
        // A claim of a frozen bucket's uncounted work has no value and no words.
        if !c.value.is_zero() {
            assert!(!c.how.is_empty(), "a claim explained in no words: {c:?}");
        }
        claims += 1;
        c.how.clear();
        if let Some((_, why)) = &mut c.decay {
            why.clear();
        }
    }
    assert_eq!(lighter(false), wordless, "{claims} claims");
    let mut unlisted = full.clone();
    for b in &mut unlisted.buckets {
        assert_eq!(b.claimed, b.claims.len(), "bucket {}", b.name);
        b.claims.clear();
    }
    assert_eq!(lighter(true), unlisted, "{claims} claims");
    full
}
