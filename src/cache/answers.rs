//! Replaying answers: a read-only question asked again at the same commits prints the
//! stored output instead of reading a million records again.
//!
//! The key is the whole question (the subcommand's parsed arguments), the ledger's place in
//! the repository, and the commit ids of the revision read and of `HEAD` (payout previews
//! list what `HEAD` adds). Commit ids pin every object a question can read, history
//! included, so a replayed answer is byte for byte what a fresh computation prints. Errors
//! are never stored. A network whose policy asks for signed approvals is never answered from
//! the cache: verifying a signature also depends on the machine's ssh set-up.

use std::io::Write;

use super::{AnswerCache, key};
use crate::core::ledger::{self, NETWORK_FILE, RawFile};
use crate::store::Store;

/// Answers `question` about the ledger of `store` at the revisions `revs` (for a payout
/// preview, the validated branch's name when no `--at` was given): from the answer cache
/// when it holds one for the same commits, else by `compute`, whose output is then stored.
/// Without a store (caching off, or no ledger to pin), it is simply computed.
pub fn answer<E: From<std::io::Error>>(
    store: Option<&Store>,
    question: &str,
    revs: &[&str],
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>) -> Result<u8, E>,
) -> Result<u8, E> {
    let mut buf = Vec::new();
    let Some((cache, key)) = store.and_then(|store| prepare(store, question, revs)) else {
        let status = compute(&mut buf)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    if let Some((status, bytes)) = cache.get(&key) {
        out.write_all(&bytes)?;
        return Ok(status);
    }
    let status = compute(&mut buf)?;
    out.write_all(&buf)?;
    cache.put(&key, status, &buf);
    Ok(status)
}

/// The cache and the full key, or `None` when the question cannot be keyed (caching off, a
/// revision that does not resolve, signed approvals): then it is simply computed.
fn prepare(store: &Store, question: &str, revs: &[&str]) -> Option<(AnswerCache, String)> {
    let cache = AnswerCache::of(store)?;
    let mut pinned = Vec::with_capacity(revs.len() + 1);
    for rev in revs.iter().copied().chain(["HEAD"]) {
        let commit = store.resolve(rev).ok()?.id();
        // Any revision whose policy asks for signed approvals: never replayed.
        let settings = store
            .read_file_at(&commit.to_string(), NETWORK_FILE)
            .ok()??;
        let network = ledger::load(&[RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes: settings,
        }])
        .ledger
        .network?;
        if network.validation.signed {
            return None;
        }
        pinned.push((rev, commit));
    }
    Some((cache, key::answer(store.prefix(), question, &pinned)))
}
