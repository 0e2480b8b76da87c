//! A cold cache filled a window of day folders at a time, so that a first quick load holds a
//! window of the ledger rather than all of it.
//!
//! A quick load ([`super::quick`]) answers from the summaries of day folders; with none
//! (a fresh clone, a cache deleted) it used to give up, and the full load that followed held
//! every record of the ledger at once (560-590 MB at a million) just to fill the cache
//! after. Here the revision is listed down to its day folders only, then the folders the
//! cache lacks are listed, read, parsed and cached a window at a time (each clean folder's
//! entry written and its summary kept, exactly as a full read's fill does, while the next
//! window is read), and the window's records dropped; the summaries (16 bytes a record)
//! are written once a month at the end. The quick load that follows then finds every clean folder
//! summarised.
//!
//! Nothing here judges the ledger: a folder with any problem (a record that does not parse
//! clean, a nested folder) is simply not cached, so the quick load meets it, gives up, and
//! the full load reports it exactly as without a cache. Any error here is left for that
//! load to meet and report too.

use std::path::Path;

use git2::Oid;
use rustc_hash::FxHashSet;

use super::files::{FolderCache, Key, day_folder};
use super::folders::{self, Fresh, PRUNE_AFTER};
use super::key;
use super::tally::{Held, Tally};
use crate::core::ledger::{Outcome, Parser, Paths, RecordType};
use crate::core::record::FileId;
use crate::core::report::day_folder_of;
use crate::store::read::{Handle, Reading};
use crate::store::{PackReader, Prepared, Store, StoreError};

/// Files a window holds (at least, its last day folder taken whole): enough that each
/// window keeps both cores busy and the pack's delta bases are rarely inflated twice (a
/// month's folders share all but 0.01% of their bases), few enough that a window's records
/// are a small part of the ledger. `OVN_FILL_WINDOW` sets another size
/// ([`Store::fill_window`]), so that tests of a few records span many windows.
pub(super) const WINDOW_FILES: usize = 40_000;

/// Day folders whose trees are read at once while the windows are made.
const TREES_AT_ONCE: usize = 64;

/// Fills `cache` with the day folders of `rev` it lacks (contribution folders without a
/// summary, approval folders without an entry), a window at a time, counting `tally`'s
/// question over each window's records when given (see [`super::tally`]). `Ok(false)` when
/// there was nothing to fill or it could not be done (`ovn.toml` with a problem): the
/// caller then loads as it would have.
pub(crate) fn fill(
    store: &Store,
    rev: &str,
    cache: &FolderCache,
    tally: Option<&dyn Tally>,
) -> Result<bool, StoreError> {
    let Some((days, settings)) = list_days(store, rev)? else {
        return Ok(false);
    };
    // The windows are kept on any thread, and a repository handle is not shared between
    // threads: the tally reads through its own.
    let tally = tally.and_then(|tally| {
        let store = std::sync::Mutex::new(store.reopen().ok()?);
        Some(Counted { tally, store, rev })
    });
    let Some(keys) = fill_days(store, cache, &days, settings, 1, tally.as_ref())? else {
        return Ok(false);
    };
    // Once, at the end: entries of this revision stay, others go once a week old.
    let keep = keys.iter().map(|k| cache.entry_path(k)).collect();
    cache.prune(&keep, PRUNE_AFTER);
    Ok(true)
}

/// Fills `cache` with those of the day folders `days` (path and tree id, read under the
/// `ovn.toml` blob `settings`) it lacks, as [`fill_folders`] does (counting `tally`); their
/// keys when it did, `None` when it did nothing.
pub(crate) fn fill_days(
    store: &Store,
    cache: &FolderCache,
    days: &[(String, Oid)],
    settings: Oid,
    at_least: usize,
    tally: Option<&Counted<'_>>,
) -> Result<Option<Vec<Key>>, StoreError> {
    let keys: Vec<Key> = days
        .iter()
        .filter_map(|(path, tree)| Key::of_day(path, *tree, settings))
        .collect();
    let network = store.network_bytes(&Handle::Blob(settings))?;
    let filled = fill_folders(store, cache, &keys, &keys, &network, at_least, tally)?;
    Ok(filled.then_some(keys))
}

/// Fills `cache` with those of the day folders `wanted` it lacks and git has as trees (a
/// folder staged but never committed has none: the read that follows lists it), a window
/// at a time, parsed under `network` (the bytes of the `ovn.toml` the keys
/// name); the months' summary files keep the summaries of the other `current` folders.
/// Each window's cached contribution folders are handed to `tally`, when given, before
/// their records are dropped. `Ok(false)`, with nothing done, when fewer than `at_least`
/// folders are missing (reading the pack indexes once costs more than a few folders read
/// another way) or `ovn.toml` has a problem.
pub(crate) fn fill_folders(
    store: &Store,
    cache: &FolderCache,
    wanted: &[Key],
    current: &[Key],
    network: &[u8],
    at_least: usize,
    tally: Option<&Counted<'_>>,
) -> Result<bool, StoreError> {
    // A cache that may not be written would keep none of what the fill reads.
    if !cache.writes() {
        return Ok(false);
    }
    let Some(settings) = wanted.first().map(|k| k.settings) else {
        return Ok(false);
    };
    let days: Vec<(String, Oid)> = wanted.iter().map(|k| (k.folder.clone(), k.tree)).collect();
    let summary_files = folders::read_summaries(cache, &days, settings);
    let summaries = folders::by_part(&summary_files);
    drop(days);
    let odb = store
        .repo()
        .odb()
        .map_err(StoreError::git("cannot open the object database"))?;
    let todo: Vec<&Key> = wanted
        .iter()
        .filter(|k| match k.kind {
            RecordType::Contribution => {
                !summaries.contains_key(key::day(&k.folder, k.tree).as_str())
            }
            _ => !cache.entry_path(k).exists(),
        })
        .filter(|k| odb.exists(k.tree))
        .collect();
    drop((summaries, odb));
    drop(summary_files);
    if todo.is_empty() || todo.len() < at_least {
        return Ok(false);
    }
    // The settings every record is parsed under; a problem with them is the full load's to
    // report.
    if Parser::for_part(network, Paths::from_strs(std::iter::empty())).is_none() {
        return Ok(false);
    }
    let reader = PackReader::open(store.repo().path())?;
    let packs = reader.prepare();
    let size = store.fill_window().unwrap_or(WINDOW_FILES).max(1);
    let git_dir = store.repo().path();
    let mut fresh = Fresh::new();
    let mut window = Window::default();
    // The window read last, cached and freed while the next one is read: each fills the
    // other's idle moments on the cores (the tail of a read, a folder written alone), at
    // the cost of holding two windows.
    let mut last: Option<Read> = None;
    let mut step = |window: Window, last: &mut Option<Read>| {
        let previous = last.take();
        let (kept, read) = rayon::join(
            || previous.map(|p| p.keep(cache, tally)),
            || window.read(git_dir, &packs, network),
        );
        for (month, parts) in kept.into_iter().flatten() {
            fresh.entry(month).or_default().extend(parts);
        }
        *last = read?;
        Ok::<(), StoreError>(())
    };
    for group in todo.chunks(TREES_AT_ONCE) {
        let folders: Vec<(String, Oid)> =
            group.iter().map(|k| (k.folder.clone(), k.tree)).collect();
        let listed = store.list_day_folders(&packs, &folders)?;
        for (key, (files, nested)) in group.iter().zip(listed) {
            // A folder holding a folder is never cached: the loads that follow read it.
            if nested || files.is_empty() {
                continue;
            }
            window.files.extend(files);
            window.keys.push((*key).clone());
            if window.files.len() >= size {
                step(std::mem::take(&mut window), &mut last)?;
            }
        }
    }
    step(window, &mut last)?;
    step(Window::default(), &mut last)?;
    drop(packs);
    if let Some(c) = tally {
        c.tally.finish();
    }
    folders::write_summaries(cache, fresh, current);
    Ok(true)
}

/// A question counted while a revision's cache is filled (see [`super::tally`]).
pub(crate) struct Counted<'a> {
    tally: &'a dyn Tally,
    /// The store the tally reads through (its own handle: see [`fill`]).
    store: std::sync::Mutex<Store>,
    /// The revision filled.
    rev: &'a str,
}

/// Day folders (path, tree id) and the blob id of `ovn.toml`.
type Days = (Vec<(String, Oid)>, Oid);

/// The day folders of `rev` (path, tree id), in path order, with the blob id of its
/// `ovn.toml`; their files are not listed (each window lists its own). `None` when the
/// revision has no day folder.
fn list_days(store: &Store, rev: &str) -> Result<Option<Days>, StoreError> {
    let mut days: Vec<(String, Oid)> = Vec::new();
    let mut settings = None;
    let kinds = [RecordType::Contribution, RecordType::Approval];
    store.list_revision::<Handle>(rev, &mut |folders, s, _| {
        settings = Some(s);
        folders.retain(|(path, id)| {
            if day_folder(path).is_some() {
                days.push((path.clone(), *id));
                return false;
            }
            // Only the folders above day folders are walked (`<kind>/<yyyy>/<mm>`); the
            // rest of the ledger is the quick load's to list.
            let top = path.split('/').next().unwrap_or_default();
            kinds.iter().any(|k| k.folder() == top) && path.matches('/').count() < 3
        });
        true
    })?;
    days.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(settings.filter(|_| !days.is_empty()).map(|s| (days, s)))
}

/// Day folders whose files are read, parsed and cached together.
#[derive(Default)]
struct Window {
    /// Their files (path, blob), in path order.
    files: Vec<(String, Handle)>,
    /// The folders.
    keys: Vec<Key>,
}

impl Window {
    /// Reads and parses the window's files on all cores; `None` for an empty window.
    fn read(
        self,
        git_dir: &Path,
        packs: &Prepared<'_>,
        network: &[u8],
    ) -> Result<Option<Read>, StoreError> {
        let Window { mut files, keys } = self;
        if keys.is_empty() {
            return Ok(None);
        }
        // Git lists a folder's files in name order, which is path order here; sorted anyway
        // should a tree say otherwise, so the folders' ranges are found by search.
        if !files.is_sorted_by(|a, b| a.0 <= b.0) {
            files.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let paths = Paths::from_strs(files.iter().map(|(p, _)| p.as_str()));
        let handles: Vec<Handle> = files.into_iter().map(|(_, h)| h).collect();
        let Some(parser) = Parser::for_part(network, paths) else {
            return Ok(None);
        };
        let all: Vec<FileId> = (0..handles.len() as FileId).collect();
        let reading = Reading::plan(&parser, &handles, all);
        drop(handles);
        let outcomes = reading.read_in(Some(packs), git_dir, &parser)?;
        Ok(Some(Read {
            parser,
            outcomes,
            keys,
        }))
    }
}

/// A window read: its files' outcomes, in path order, and its folders.
struct Read {
    parser: Parser,
    outcomes: Vec<Outcome>,
    keys: Vec<Key>,
}

impl Read {
    /// Caches each clean folder of the window, hands the contribution folders cached to
    /// `tally` (when given) and returns their summaries, encoded; the records are freed on
    /// return (without a tally, each folder's as soon as it is cached).
    fn keep(self, cache: &FolderCache, tally: Option<&Counted<'_>>) -> Fresh {
        let Read {
            parser,
            outcomes,
            keys,
        } = self;
        let Some(c) = tally else {
            // Each folder's records freed as soon as it is cached.
            let summaries = folders::cache_folders_freeing(cache, parser.paths(), outcomes, &keys);
            return folders::encode_summaries(summaries);
        };
        let summaries = folders::cache_folders(cache, parser.paths(), &outcomes, &keys, &[]);
        let cached: FxHashSet<&str> = summaries.iter().map(|(k, _)| k.folder.as_str()).collect();
        let fresh = folders::encode_summaries(summaries);
        let held = held(parser.paths(), outcomes, &cached);
        let store = c.store.lock().unwrap_or_else(|p| p.into_inner());
        c.tally.window(&store, c.rev, held);
        fresh
    }
}

/// The records of the day folders `cached` among `outcomes` (those of `paths`, in path
/// order), each with its path; the other outcomes are dropped.
fn held<'p>(paths: &'p Paths, outcomes: Vec<Outcome>, cached: &FxHashSet<&str>) -> Held<'p> {
    let mut held = Vec::with_capacity(outcomes.len());
    for (n, outcome) in outcomes.into_iter().enumerate() {
        let path = paths.get(n as FileId);
        if cached.contains(day_folder_of(path))
            && let Some(record) = outcome.into_clean_contribution()
        {
            held.push((path, record));
        }
    }
    held
}
