//! The cached read of a revision: the store's git listing and reading, with the day folders
//! the cache knows taken from it instead.
//!
//! The store reads git and nothing else ([`Store::load_at`]); this layer sits above it and
//! adds what a cache knows. It lists a revision through the store, which shows it each level
//! of the tree before reading it from git (the store's `list_revision`): day folders with an
//! entry give their files from the cache (`folders::take_level`), and, for a quick
//! load, summarised folders stand in the ledger as their summaries (see `quick`).
//! The files left are read from git by the store's own reader (`Reading`), or for a
//! working tree from disk (the `Rest` a caller gives); the two
//! streams are merged back into path order inside the core's one reading pipeline
//! ([`ledger::load_files`]), and the folders that were missed are cached after.
//!
//! The entry points are the methods of [`CachedRead`] on a [`Store`] (and
//! [`CorrectionsRead`] on a write's [`View`]), so a command asks its store for a revision
//! the same way whether the cache is on or off: with it off (`--no-cache`,
//! [`Store::caching`]) they are the store's git-only read.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::files::{Entry, FolderCache, Key, Records};
use super::tally::Tally;
use crate::core::ledger::{self, Ledger, Loaded, Outcome, Parser};
use crate::core::record::{Contribution, FileId};
use crate::core::summary::{Elsewhere, FolderSummary};
use crate::store::read::{GitHandle, Handle, Reading};
use crate::store::{Refused, SharedDigests, Staged, Store, StoreError, View};

/// What a quick load must hold in full (see [`CachedRead::load_revision_for`]).
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// No contribution: the verdict and the counts are enough (`ovn check`).
    Checks,
    /// The contributions of these projects, and every correction, wherever it is (what a
    /// payout of these projects reads).
    Projects(&'a [&'a str]),
}

/// How one file of a revision is read: from git, or from the cache.
pub(crate) enum Source {
    /// From git, as the store listed it.
    Git(Handle),
    /// Record `record` of cache entry `entry`.
    Cached { entry: u32, record: u32 },
    /// A record already decoded: `Taken::ready[n]`.
    Ready(u32),
}

impl From<Handle> for Source {
    fn from(handle: Handle) -> Source {
        Source::Git(handle)
    }
}

impl GitHandle for Source {
    fn git(&self) -> Option<&Handle> {
        match self {
            Source::Git(handle) => Some(handle),
            Source::Cached { .. } | Source::Ready(_) => None,
        }
    }
}

/// What the cache put into a revision's listing besides its files.
#[derive(Default)]
pub(crate) struct Taken {
    /// Cache entries of day folders, decoded as the ledger is loaded.
    pub(crate) entries: Vec<Entry>,
    /// Records already decoded (the few wanted of a summarised folder), each taken once.
    pub(crate) ready: Vec<Option<Box<Contribution>>>,
    /// Day folders that stand in the ledger as their summaries.
    pub(crate) summarised: Vec<(Key, FolderSummary)>,
    /// Contribution folders found cached but not summarised.
    pub(crate) unsummarised: Vec<Key>,
    /// The keys of `entries`.
    pub(crate) hits: Vec<Key>,
    /// Day folders the cache did not have, to fill after the read.
    pub(crate) missed: Vec<Key>,
}

/// A revision's files, with the cache entries that stand in for some of its day folders.
pub(crate) struct Listing {
    /// Every file (path, how to read it).
    pub(crate) items: Vec<(String, Source)>,
    /// What the cache gave.
    pub(crate) taken: Taken,
    /// The commit listed.
    pub(crate) commit: Oid,
}

/// Reading a revision through the cache: the loads a command asks its [`Store`] for.
pub trait CachedRead {
    /// Parses and checks the ledger at a revision. Day folders whose tree id the folder cache
    /// knows are not read from git at all; the others are, and are cached afterwards when
    /// every file in them was a clean record.
    fn load_revision(&self, rev: &str) -> Result<(Loaded, Oid), StoreError>;

    /// [`CachedRead::load_revision`] for a command that needs the verdict but not every
    /// record: day folders the cache has summarised stand in the ledger as their summaries
    /// (in [`crate::core::ledger::Ledger::elsewhere`]), and only the contributions `scope`
    /// asks for are decoded. The result has the same diagnostics and record count as a full
    /// load, and holds every contribution `scope` names.
    ///
    /// The summaries can prove a ledger clean, never find fault with one: whenever the quick
    /// load cannot prove a rule (two ids that may be one, a day over 24 hours, a name no
    /// record has) or has a diagnostic a summarised folder may add to, the ledger is loaded
    /// in full, so problems are always reported exactly as `ovn check` reports them.
    fn load_revision_for(&self, rev: &str, scope: Scope<'_>) -> Result<(Loaded, Oid), StoreError>;

    /// [`CachedRead::load_revision_for`] for a command that will count `tally`'s question
    /// (a report's parts) over the ledger: should the cache be cold, its fill counts the
    /// question while it holds each window's records (see [`Tally`]), so the parts are kept
    /// before the command asks for them.
    fn load_revision_counting(
        &self,
        rev: &str,
        scope: Scope<'_>,
        tally: Option<&dyn Tally>,
    ) -> Result<(Loaded, Oid), StoreError>;

    /// Only the quick part of [`CachedRead::load_revision_for`]: `None` when the cache is off
    /// or the quick load cannot answer (nothing summarised, or anything a full load must
    /// judge), without loading in full.
    fn try_load_quickly(
        &self,
        rev: &str,
        scope: Scope<'_>,
    ) -> Result<Option<(Loaded, Oid)>, StoreError>;

    /// The ledger as staged in git's index (`index_file` when git names another), checked:
    /// [`Store::load_staged`] with each day folder whose tree (computed from the index's
    /// entries) the cache knows taken from it, a quick load first (summarised folders
    /// standing in for their records, as [`CachedRead::load_revision_for`] with
    /// [`Scope::Checks`]), so a commit that changes one folder reads that folder alone.
    fn load_index(&self, index_file: Option<&Path>) -> Result<Staged, StoreError>;
}

impl CachedRead for Store {
    fn load_revision(&self, rev: &str) -> Result<(Loaded, Oid), StoreError> {
        let Some(cache) = FolderCache::of(self) else {
            return self.load_at(rev);
        };
        match load_with(self, rev, &cache)? {
            Some(done) => Ok(done),
            // A cache entry that passed its checks but did not decode: read without the cache.
            None => self.load_at(rev),
        }
    }

    fn load_revision_for(&self, rev: &str, scope: Scope<'_>) -> Result<(Loaded, Oid), StoreError> {
        self.load_revision_counting(rev, scope, None)
    }

    fn load_revision_counting(
        &self,
        rev: &str,
        scope: Scope<'_>,
        tally: Option<&dyn Tally>,
    ) -> Result<(Loaded, Oid), StoreError> {
        if let Some(cache) = FolderCache::of(self)
            && let Some(done) = load_quickly_filling(self, rev, &cache, scope, tally)?
        {
            return Ok(done);
        }
        self.load_revision(rev)
    }

    fn try_load_quickly(
        &self,
        rev: &str,
        scope: Scope<'_>,
    ) -> Result<Option<(Loaded, Oid)>, StoreError> {
        match FolderCache::of(self) {
            Some(cache) => load_quickly_filling(self, rev, &cache, scope, None),
            None => Ok(None),
        }
    }

    fn load_index(&self, index_file: Option<&Path>) -> Result<Staged, StoreError> {
        let Some(cache) = FolderCache::of(self) else {
            return self.load_staged(index_file);
        };
        let quickly = |listed: Option<(Listing, Refused)>| match listed {
            Some((listing, refused)) => {
                Ok(super::quick::load_listing_quickly(self, listing, &cache)?
                    .map(|(loaded, _)| Staged { loaded, refused }))
            }
            None => Ok::<_, StoreError>(None),
        };
        // The day folders the first listing offered, for a fill should it give up (the
        // index, 120 MB at a million, is then not read a third time).
        let mut offered = None;
        match list_index(self, index_file, &cache, true, Some(&mut offered))? {
            Some(listed) => {
                if let Some(staged) = quickly(Some(listed))? {
                    return Ok(staged);
                }
            }
            // A cold cache (a fresh clone's first commit): the staged folders git has
            // trees for are filled a window at a time, as a first `check --at` does.
            None if fill_index(self, offered, &cache).unwrap_or(false) => {
                let listed = list_index(self, index_file, &cache, true, None)?;
                if let Some(staged) = quickly(listed)? {
                    return Ok(staged);
                }
            }
            None => {}
        }
        // Only a quick listing gives up; were a full one to, the plain read answers.
        let Some((listing, refused)) = list_index(self, index_file, &cache, false, None)? else {
            return self.load_staged(index_file);
        };
        match load_listing(self, listing, &cache, Elsewhere::default())? {
            Some((loaded, _)) => Ok(Staged { loaded, refused }),
            // A cache entry that passed its checks but did not decode: read without the cache.
            None => self.load_staged(index_file),
        }
    }
}

/// The quick load of `rev` for `scope`, the cache filled first a window of day folders at a
/// time when it is cold (or misses many day folders: see `window`); `None` when the quick
/// load cannot answer. A fill counts `tally` too, when given.
fn load_quickly_filling(
    store: &Store,
    rev: &str,
    cache: &FolderCache,
    scope: Scope<'_>,
    tally: Option<&dyn Tally>,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    if let Some(listing) = list(store, rev, cache, Some(scope))? {
        return super::quick::load_listing_quickly(store, listing, cache);
    }
    // One fill at a time: a review loads its two revisions side by side, and they share
    // almost every day folder, so the second waits for the first's fill and lists again.
    let one = FILLING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(listing) = list(store, rev, cache, Some(scope))? {
        drop(one);
        return super::quick::load_listing_quickly(store, listing, cache);
    }
    // Should the fill fail, the full load that follows meets the same problem and reports
    // it.
    let filled = super::window::fill(store, rev, cache, tally).unwrap_or(false);
    drop(one);
    store.fail_at("after-fill");
    if filled {
        super::quick::load_quickly(store, rev, cache, scope)
    } else {
        Ok(None)
    }
}

/// Held while a cold cache is filled (see [`load_quickly_filling`]).
static FILLING: Mutex<()> = Mutex::new(());

/// Fills `cache` with the day folders a listing of the index `offered` (path and tree id,
/// with the blob id of `ovn.toml`) that it lacks and that git has as trees, a window at a
/// time (see `window::fill_folders`); `Ok(false)` when none were offered, there were too few
/// to be worth it or nothing could be done.
fn fill_index(
    store: &Store,
    offered: Option<Days>,
    cache: &FolderCache,
) -> Result<bool, StoreError> {
    let Some((days, settings)) = offered else {
        return Ok(false);
    };
    let filled = super::window::fill_days(store, cache, &days, settings, MANY_MISSED, None)?;
    Ok(filled.is_some())
}

/// Day folders (path and tree id) and the blob id of `ovn.toml`, as a listing offers them.
type Days = (Vec<(String, Oid)>, Oid);

/// The index's files, the day folders `cache` knows taken from it (for a `quick` load,
/// summarised ones as their summaries), and the paths that make it unfit to commit; `None`
/// when a quick listing gives up. There is no commit: the listing's is zero. The day
/// folders the listing offered are kept in `offered`, when given.
fn list_index(
    store: &Store,
    index_file: Option<&Path>,
    cache: &FolderCache,
    quick: bool,
    mut offered: Option<&mut Option<Days>>,
) -> Result<Option<(Listing, Refused)>, StoreError> {
    let scope = quick.then_some(Scope::Checks);
    let mut taken = Taken::default();
    let digests = super::staged::IndexDigests::of(store);
    let listed = store.list_staged::<Source>(
        index_file,
        &mut |folders, settings, items| {
            if let Some(offered) = offered.as_deref_mut() {
                offered.get_or_insert_with(|| (folders.clone(), settings));
            }
            super::folders::take_level(cache, folders, settings, scope, items, &mut taken)
        },
        digests.as_ref().map(|d| d as &dyn SharedDigests),
    )?;
    Ok(listed.map(|(items, refused)| {
        let listing = Listing {
            items,
            taken,
            commit: Oid::ZERO_SHA1,
        };
        (listing, refused)
    }))
}

/// Reading what a write builds on through the cache.
pub trait CorrectionsRead {
    /// A ledger holding at least every correction (every contribution that reverses or
    /// supersedes another), for a write that must know how a record was corrected: at a
    /// commit, a quick load (with the folder cache, only the corrections are decoded; without
    /// it, a full load); in the working tree, a full read.
    fn load_corrections(&self) -> Result<Loaded, StoreError>;
}

impl CorrectionsRead for View<'_> {
    fn load_corrections(&self) -> Result<Loaded, StoreError> {
        match self.commit() {
            Some(commit) => Ok(self
                .store()
                .load_revision_for(&commit.to_string(), Scope::Projects(&[]))?
                .0),
            None => Ok(ledger::load(&self.read_all()?)),
        }
    }
}

/// The full load of `rev` through `cache`; `None` when a cache entry that passed its checks
/// did not decode.
fn load_with(
    store: &Store,
    rev: &str,
    cache: &FolderCache,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    let listing = list(store, rev, cache, None)?.expect("only a quick listing gives up");
    load_listing(store, listing, cache, Elsewhere::default())
}

/// The files of `rev`, the day folders `cache` knows taken from it (for a `quick` load of a
/// scope, summarised ones as their summaries); `None` when a quick listing gives up.
pub(crate) fn list(
    store: &Store,
    rev: &str,
    cache: &FolderCache,
    quick: Option<Scope<'_>>,
) -> Result<Option<Listing>, StoreError> {
    let mut taken = Taken::default();
    let listed = store.list_revision::<Source>(rev, &mut |folders, settings, items| {
        super::folders::take_level(cache, folders, settings, quick, items, &mut taken)
            // Many contribution folders missed: a cache this cold is filled a window at a
            // time first (see `window`) rather than read all at once.
            && (quick.is_none() || missed_days(folders) < MANY_MISSED)
    })?;
    Ok(listed.map(|(items, commit)| Listing {
        items,
        taken,
        commit,
    }))
}

/// Every record of `rev` but the contributions of its day folders, with what the checks say
/// of them: what a [`Tally`] counts each window of a fill beside. Approval day folders the
/// cache holds are taken from it (a fill caches them before any contribution folder: they
/// sort first). `None` when the cache is off or a cache entry that passed its checks did
/// not decode.
pub(crate) fn load_context(store: &Store, rev: &str) -> Result<Option<Ledger>, StoreError> {
    let Some(cache) = FolderCache::of(store) else {
        return Ok(None);
    };
    let mut taken = Taken::default();
    let listed = store.list_revision::<Source>(rev, &mut |folders, settings, items| {
        folders.retain(|(path, _)| {
            super::files::day_folder(path) != Some(crate::core::ledger::RecordType::Contribution)
        });
        super::folders::take_level(&cache, folders, settings, None, items, &mut taken)
    })?;
    let Some((items, commit)) = listed else {
        return Ok(None);
    };
    let listing = Listing {
        items,
        taken,
        commit,
    };
    let loaded = load_listing(store, listing, &cache, Elsewhere::default())?;
    Ok(loaded.map(|(loaded, _)| loaded.ledger))
}

/// Contribution day folders a quick listing may miss and still read from git itself.
const MANY_MISSED: usize = 32;

/// How many of `folders` (those of a level left to list from git) are contribution day
/// folders.
fn missed_days(folders: &[(String, Oid)]) -> usize {
    folders
        .iter()
        .filter(|(p, _)| {
            super::files::day_folder(p) == Some(crate::core::ledger::RecordType::Contribution)
        })
        .count()
}

/// Loads the files of `listing`, those the cache holds from it, with what stands in for
/// the summarised folders (`elsewhere`), and fills the cache after. `None` when a cache
/// entry that passed its checks did not decode.
///
/// Its heart is one closure handed to the core's reading pipeline: decode the cached
/// entries, read the rest from git, merge, fill the cache, all while the parser is borrowed.
pub(crate) fn load_listing(
    store: &Store,
    listing: Listing,
    cache: &FolderCache,
    elsewhere: Elsewhere,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    load_listing_from(listing, cache, elsewhere, &FromGit(store))
}

/// Where the files of a listing the cache does not hold are read from: git (a revision,
/// the index), or the working tree.
pub(crate) trait Rest {
    /// The bytes of `ovn.toml`.
    fn network(&self, handle: &Source) -> Result<Vec<u8>, StoreError>;

    /// The outcomes of `files` (positions in `handles`, in path order), and the keys of
    /// day folders read whole that the cache should be filled with.
    fn read(
        &self,
        parser: &Parser,
        handles: &[Source],
        files: &[FileId],
    ) -> Result<(Vec<Outcome>, Vec<Key>), StoreError>;

    /// The git directory when the rest is read from git's objects, by blob id alone (then
    /// the caller plans the read and may drop its handles before it: see `Reading`).
    fn git_dir(&self) -> Option<&Path> {
        None
    }
}

/// Reading the rest from git's objects.
struct FromGit<'a>(&'a Store);

impl Rest for FromGit<'_> {
    fn network(&self, handle: &Source) -> Result<Vec<u8>, StoreError> {
        self.0.network_bytes(handle)
    }

    fn read(
        &self,
        parser: &Parser,
        handles: &[Source],
        files: &[FileId],
    ) -> Result<(Vec<Outcome>, Vec<Key>), StoreError> {
        let git_dir = self.0.repo().path();
        let reading = Reading::plan(parser, handles, files.to_vec());
        Ok((reading.read(git_dir, parser)?, Vec::new()))
    }

    fn git_dir(&self) -> Option<&Path> {
        Some(self.0.repo().path())
    }
}

/// [`load_listing`], the files the cache does not hold read by `rest`.
///
/// Long because it is one pass of the core's reading pipeline: the cached folders decoded,
/// the rest read (from git by blob id, or through `rest`), the two merged in path order and
/// the missed folders cached, all inside the closure the pipeline calls once.
pub(crate) fn load_listing_from(
    listing: Listing,
    cache: &FolderCache,
    elsewhere: Elsewhere,
    rest: &dyn Rest,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    let Listing {
        items,
        taken,
        commit,
    } = listing;
    let Taken {
        entries,
        mut ready,
        summarised: _,
        unsummarised,
        hits,
        mut missed,
    } = taken;
    let failed: Mutex<Option<StoreError>> = Mutex::new(None);
    let undecodable = AtomicBool::new(false);
    let fail = |e: StoreError| {
        let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    };
    let loaded = ledger::load_files(
        items,
        elsewhere,
        // `ovn.toml`, read first and alone.
        |handle| rest.network(handle).map_err(fail).ok(),
        |parser, handles| {
            // Cached folders first, decoded in parallel; each entry's bytes are freed as
            // soon as it is decoded, and ids are shared on the worker that decoded them.
            let mut decoded: Vec<Option<Records>> = entries
                .into_par_iter()
                .map_init(FxHashSet::default, |seen, e| {
                    let mut records = e.records()?;
                    if let Records::Contributions(v) = &mut records {
                        v.iter_mut()
                            .flatten()
                            .for_each(|c| parser.share_ids_with(seen, c));
                    }
                    Some(records)
                })
                .collect();
            ready
                .par_iter_mut()
                .for_each_init(FxHashSet::default, |seen, c| {
                    if let Some(c) = c {
                        parser.share_ids_with(seen, c);
                    }
                });
            if decoded.iter().any(Option::is_none) {
                undecodable.store(true, Ordering::Relaxed);
            }
            // Everything not in the cache is read from git, in path order; the two
            // streams are then merged back into path order without a third list.
            let to_read: Vec<FileId> = handles
                .iter()
                .enumerate()
                .filter(|(_, h)| matches!(h, Source::Git(_)))
                .map(|(pos, _)| pos as FileId)
                .collect();
            // From git, the read needs the blob ids alone: planned first, and with every file
            // from git (a cold cache) the handles are dropped while the blobs are read, when
            // the read holds the most. The working tree reads by path, handles and all.
            let (read, handles) = match rest.git_dir() {
                Some(git_dir) => {
                    let reading = Reading::plan(parser, &handles, to_read);
                    let n = reading.len();
                    let handles = (n < handles.len()).then_some(handles);
                    let read = super::blobs::read(cache, reading, git_dir, parser);
                    let read = read.unwrap_or_else(|e| {
                        fail(e);
                        (0..n).map(|_| Outcome::nothing()).collect()
                    });
                    (read, handles)
                }
                None => {
                    let read = match rest.read(parser, &handles, &to_read) {
                        Ok((read, whole)) => {
                            missed.extend(whole);
                            read
                        }
                        Err(e) => {
                            fail(e);
                            to_read.iter().map(|_| Outcome::nothing()).collect()
                        }
                    };
                    (read, Some(handles))
                }
            };
            let outcomes = match handles {
                Some(handles) => merge_streams(handles, read, &mut ready, &mut decoded),
                None => read,
            };
            drop(decoded);
            if failed.lock().is_ok_and(|f| f.is_none()) {
                super::folders::after_read(
                    cache,
                    parser.paths(),
                    &outcomes,
                    &hits,
                    &missed,
                    &unsummarised,
                );
            }
            outcomes
        },
    );
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    if undecodable.load(Ordering::Relaxed) {
        return Ok(None);
    }
    Ok(Some((loaded, commit)))
}

/// The outcomes of every file of a revision (`handles`, in path order): those `read` from
/// git (in the same order), and those taken from the cache, decoded (`decoded` entries) or
/// `ready`. Merges the streams back into path order without a third list.
fn merge_streams(
    handles: Vec<Source>,
    read: Vec<Outcome>,
    ready: &mut [Option<Box<Contribution>>],
    decoded: &mut [Option<Records>],
) -> Vec<Outcome> {
    if read.len() == handles.len() {
        return read;
    }
    let mut read = read.into_iter();
    let mut out = Vec::with_capacity(handles.len());
    for (pos, handle) in handles.into_iter().enumerate() {
        let file = pos as FileId;
        let (entry, record) = match handle {
            Source::Cached { entry, record } => (entry, record),
            Source::Ready(i) => {
                let c = ready[i as usize].take();
                out.push(c.map_or_else(Outcome::nothing, |c| Outcome::contribution(file, c)));
                continue;
            }
            Source::Git(_) => {
                out.push(read.next().unwrap_or_else(Outcome::nothing));
                continue;
            }
        };
        let k = record as usize;
        let outcome = match decoded[entry as usize].as_mut() {
            Some(Records::Contributions(v)) => v[k].take().map(|c| Outcome::contribution(file, c)),
            Some(Records::Approvals(v)) => v[k].take().map(|a| Outcome::approval(file, a)),
            None => None,
        };
        out.push(outcome.unwrap_or_else(Outcome::nothing));
    }
    out
}
