//! `ovn check --staged` (the pre-commit hook) answered again while git's index file is the
//! one it was answered from.
//!
//! The verdict on what is staged depends on git's index, on HEAD (a record HEAD holds that
//! the index lost is refused) and on git's objects, which never change. Git writes its
//! index whole, to a new file renamed over the old one, so the file's `lstat` data (inode,
//! size, change and modification times to the nanosecond) stand for its content, as they
//! do for git's own index entries; a split index's own file names its shared part by hash.
//! So an answer is stored under a stamp of the index file's `lstat` data and HEAD's commit,
//! and replayed while both are what they were, without reading 120 MB of index at a
//! million files.
//!
//! A split index's shared part (`core.splitIndex`) is also digested here once
//! (`IndexDigests`), so that a check after `git add` reads the small file git rewrote and
//! the day folders it touches, not the 120 MB shared file (see the store's `digest`); and
//! an index with no shared part is digested whole when a cold check lists it twice.
//!
//! Not stored: an answer given from an index written within [`super::worktree::RACY`] (2 s) of the read (a second
//! write in the same tick could keep every field), and one for which the working tree was
//! looked at (HEAD holds a file the index lacks: whether it is still on disk as committed
//! decides the verdict, and no stamp of the index says that).

use std::cell::Cell;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use super::files::AnswerCache;
use super::key;
use super::worktree::settled;
use crate::store::{Oid, SharedDigests, Store};

/// The digests of split indexes' shared parts, kept beside the answers (`index/`), each
/// under [`key::shared_index`]; a few, as git keeps a few shared files.
pub(crate) struct IndexDigests(AnswerCache);

impl IndexDigests {
    /// The digests kept for the repository `store` reads, if caching is on.
    pub(crate) fn of(store: &Store) -> Option<IndexDigests> {
        AnswerCache::index_digests(store).map(IndexDigests)
    }
}

impl SharedDigests for IndexDigests {
    fn get(&self, shared: Oid, prefix: &str) -> Option<Vec<u8>> {
        let (_, bytes) = self.0.get(&key::shared_index(prefix, shared))?;
        Some(bytes)
    }

    fn put(&self, shared: Oid, prefix: &str, digest: &[u8]) {
        self.0.put(&key::shared_index(prefix, shared), 0, digest);
    }
}

/// Answers `question` about the index of `store` (`index_file`, else the repository's):
/// from the answer cache when the index file and HEAD are those an answer was stored under,
/// else by `compute`, which says in the cell it is given whether it looked at the working
/// tree (see the module's comment).
pub fn answer<E: From<std::io::Error>>(
    store: &Store,
    index_file: Option<&Path>,
    question: &str,
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>, &Cell<bool>) -> Result<u8, E>,
) -> Result<u8, E> {
    let started = SystemTime::now();
    let looked = Cell::new(false);
    let mut buf = Vec::new();
    let cache = AnswerCache::of(store);
    let stamp = cache.as_ref().and_then(|_| store.index_stamp(index_file));
    let key = stamp
        .as_ref()
        .map(|(digest, _)| key::staged_answer(store.prefix(), question, digest));
    if let (Some(cache), Some(key)) = (&cache, &key)
        && let Some((status, bytes)) = cache.get(key)
    {
        out.write_all(&bytes)?;
        return Ok(status);
    }
    let status = compute(&mut buf, &looked)?;
    out.write_all(&buf)?;
    if let (Some(cache), Some(key), Some((_, newest))) = (&cache, &key, &stamp)
        && !looked.get()
        && settled(*newest, started)
    {
        cache.put(key, status, &buf);
    }
    Ok(status)
}
