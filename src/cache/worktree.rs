//! Replaying `ovn check` on the working tree: when no ledger file changed since an answer was
//! stored, its output is printed again instead of reading and parsing every file.
//!
//! A revision's answer is pinned by its commit id (see [`super::answers`]); a working tree
//! has none, so the answer is pinned by the tree's [`Stamp`] instead: a digest of the
//! `lstat` data of every entry the read lists (as git's index keeps stat data to know a file
//! unchanged without reading it). Whatever the check prints comes from those files (their
//! records, and the excerpts of the files a problem points into), so an equal stamp means an
//! equal answer. The key also names the ledger's place on disk and in the repository, the
//! question (the parsed arguments) and the `ovn` version.
//!
//! The stamp is taken before the files are read. An answer is stored only when it may be
//! trusted later: not when an entry changed within [`RACY`] of the read (a second change
//! in the same tick of the file system's clock would leave its times as they were: git's
//! "racily clean" rule, with a margin for coarse clocks), and not when a stray file is
//! present (whether it is read depends on `.gitignore`, which the stamp does not cover).
//! Errors are never stored, and with the cache off nothing is read or written.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AnswerCache, key};
use crate::store::Store;

/// How long before a read an entry must have last changed for its answer to be stored.
pub const RACY: Duration = Duration::from_secs(2);

/// Answers `question` about the working tree of `store`'s ledger: from the answer cache
/// when the tree's stamp is the one an answer was stored under, else by `compute`, whose
/// output is then stored when it may be trusted later (see the module's comment).
pub fn answer<E: From<std::io::Error>>(
    store: &Store,
    question: &str,
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>) -> Result<u8, E>,
) -> Result<u8, E> {
    let mut buf = Vec::new();
    let started = SystemTime::now();
    let keyed = AnswerCache::of(store).and_then(|cache| {
        // A tree that cannot be listed is left to the read, to fail as it would.
        let stamp = store.worktree_stamp().ok()??;
        let root = store.root()?.to_string_lossy().into_owned();
        let key = key::worktree_answer(&root, store.prefix(), question, &stamp.digest);
        Some((cache, key, stamp))
    });
    let Some((cache, key, stamp)) = keyed else {
        let status = compute(&mut buf)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    if !stamp.strays
        && let Some((status, bytes)) = cache.get(&key)
    {
        out.write_all(&bytes)?;
        return Ok(status);
    }
    let status = compute(&mut buf)?;
    out.write_all(&buf)?;
    if !stamp.strays && settled(stamp.newest, started) {
        cache.put(&key, status, &buf);
    }
    Ok(status)
}

/// Whether an entry last changed at `newest` (seconds and nanoseconds since the epoch)
/// changed at least [`RACY`] before `started`.
fn settled(newest: (i64, i64), started: SystemTime) -> bool {
    let Some(limit) = started
        .checked_sub(RACY)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
    else {
        return false;
    };
    let limit = (
        i64::try_from(limit.as_secs()).unwrap_or(i64::MAX),
        i64::from(limit.subsec_nanos()),
    );
    newest < limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_changed_just_before_the_read_is_not_settled() {
        let started = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(settled((997, 999_999_999), started));
        assert!(!settled((998, 0), started));
        assert!(!settled((999, 500), started));
        assert!(!settled((2_000, 0), started), "a time in the future");
        assert!(settled((i64::MIN, 0), started), "no entry at all");
    }
}
