//! Payout totals kept by revision: what `ovn review` compares of two payouts.
//!
//! A review's payout impact is each agent's total before and after, for each project the
//! change touches. Those totals depend only on the ledger at a commit (commit ids pin every
//! byte of it), the project and the amount, so once worked out at a revision they are kept
//! (`.git/ovn/cache/totals/`, one small file each) and a later review of another change on
//! top of the same revision reads its side instead of loading the ledger again. `ovn payout`
//! previews keep theirs too when they are that same computation (no date, no contributions
//! left out for awaiting approvals). Like every cache entry, a file is checked against its
//! full key and a CRC, and anything amiss is a miss.

use crate::store::Oid;
use rust_decimal::Decimal;

use super::{FolderCache, key};
use crate::core::codec;
use crate::core::value::Id;
use crate::store::Store;

/// What a review takes of a payout: each agent's total, none when the project does not
/// exist at the revision, or why it cannot be worked out.
pub type Totals = Result<Option<Vec<(Id, Decimal)>>, String>;

/// The totals kept for `project` and `amount` at `commit`, if any.
pub fn get(store: &Store, commit: Oid, project: &str, amount: Decimal) -> Option<Totals> {
    let cache = FolderCache::of(store)?.totals();
    let parts = cache.get(&key::totals(commit, project, amount));
    let (_, bytes) = parts.first()?;
    decode(bytes)
}

/// Keeps `totals` for `project` and `amount` at `commit`; failing to write is not an error.
/// Call [`prune`] once after the last.
pub fn put(store: &Store, commit: Oid, project: &str, amount: Decimal, totals: &Totals) {
    let Some(cache) = FolderCache::of(store).map(|c| c.totals()) else {
        return;
    };
    let part = ("totals".to_owned(), encode(totals));
    cache.put(&key::totals(commit, project, amount), &[part]);
}

/// Keeps the newest kept totals only (listing the folder costs more than writing one).
pub fn prune(store: &Store) {
    if let Some(cache) = FolderCache::of(store) {
        cache.totals().prune();
    }
}

fn encode(totals: &Totals) -> Vec<u8> {
    let mut bytes = Vec::new();
    match totals {
        Ok(None) => codec::put_u64(&mut bytes, 0),
        Ok(Some(lines)) => {
            codec::put_u64(&mut bytes, 1);
            codec::put_u64(&mut bytes, lines.len() as u64);
            for (agent, amount) in lines {
                codec::put_str(&mut bytes, agent.as_str());
                codec::put_decimal(&mut bytes, *amount);
            }
        }
        Err(why) => {
            codec::put_u64(&mut bytes, 2);
            codec::put_str(&mut bytes, why);
        }
    }
    bytes
}

fn decode(mut input: &[u8]) -> Option<Totals> {
    let totals = match codec::get_u64(&mut input)? {
        0 => Ok(None),
        1 => {
            let n = usize::try_from(codec::get_u64(&mut input)?).ok()?;
            let mut lines = Vec::with_capacity(n.min(input.len()));
            for _ in 0..n {
                let agent = Id::parse(codec::get_str(&mut input)?).ok()?;
                lines.push((agent, codec::get_decimal(&mut input)?));
            }
            Ok(Some(lines))
        }
        2 => Err(codec::get_str(&mut input)?.to_owned()),
        _ => return None,
    };
    input.is_empty().then_some(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_survive_encoding_exactly() {
        let lines = vec![
            (Id::parse("ana").unwrap(), Decimal::new(150050, 2)),
            (Id::parse("ben").unwrap(), Decimal::new(3, 0)),
        ];
        for totals in [Ok(Some(lines)), Ok(None), Err("2 problem(s)".to_owned())] {
            let mut bytes = encode(&totals);
            assert_eq!(decode(&bytes), Some(totals.clone()));
            bytes.push(0);
            assert_eq!(decode(&bytes), None, "trailing bytes");
        }
    }
}
