//! Summarised day folders held in full a window at a time, to count what their kept parts
//! would hold when those parts are not kept: a report asked for the first time, or any
//! report after a cold cache was filled (see `window`).
//!
//! A quick load stands for most of the ledger with summaries, which prove it clean but hold
//! no contribution; a report's part of such a folder used to need the ledger loaded in
//! full, every record at once (590-870 MB at a million). Here the folders' records are
//! decoded from their cache entries (written by the fill or by an earlier read; never
//! parsed again) a window at a time, and put beside the quick load's own records
//! ([`Ledger::holding`]): the same ledger the report's driver already counts the folders a
//! quick load read in full from, so a part counted here is the part a full load counts.
//! Each window is counted and dropped before the next is decoded.

use std::collections::HashMap;

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::files::{FolderCache, Key, Records};
use super::window::WINDOW_FILES;
use crate::core::ledger::Ledger;
use crate::core::record::Contribution;
use crate::store::{Store, StoreError};

/// What is done with each window: its ledger, and which folders it holds; `false` to stop.
pub(crate) type Each<'e> = dyn FnMut(&Ledger, &(dyn Fn(&str) -> bool + Sync)) -> bool + 'e;

/// Records held in full: path and record, in path order.
type Held = Vec<(String, Box<Contribution>)>;

/// Holds the summarised day `folders` of `ledger` (quickly loaded at `commit`, with the
/// folders' tree ids in `trees`; in path order) in full a window at a time, and hands each
/// window's ledger to `each` with which folders it holds. `Ok(false)` when a folder's entry
/// is not in the cache or does not decode, or `each` says so: the caller then loads the
/// ledger in full, as it would have.
pub(crate) fn each_window(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    trees: &HashMap<String, Oid>,
    folders: &[&str],
    mut each: impl FnMut(&Ledger, &(dyn Fn(&str) -> bool + Sync)) -> bool,
) -> Result<bool, StoreError> {
    let Some(cache) = FolderCache::of(store) else {
        return Ok(false);
    };
    let Some(settings) = store.network_blob(commit)? else {
        return Ok(false);
    };
    let size = store.fill_window().unwrap_or(WINDOW_FILES).max(1);
    // How many records each folder holds, from its summary (one id hash a record).
    let files = |folder: &str| {
        let found = ledger
            .elsewhere
            .folders
            .binary_search_by(|(path, _)| path.as_str().cmp(folder));
        found.map_or(1, |n| ledger.elsewhere.folders[n].1.ids.len())
    };
    let mut at = 0;
    while at < folders.len() {
        let mut end = at;
        let mut count = 0;
        while end < folders.len() && (end == at || count < size) {
            count += files(folders[end]);
            end += 1;
        }
        let window = &folders[at..end];
        at = end;
        let Some(held) = read(&cache, trees, settings, window) else {
            return Ok(false);
        };
        let Some(holding) = ledger.holding(held) else {
            return Ok(false);
        };
        let wanted: FxHashSet<&str> = window.iter().copied().collect();
        if !each(&holding, &|folder| wanted.contains(folder)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The contributions of the day `folders` from their cache entries (path and record, in
/// path order), decoded on all cores; `None` when one is not there or does not decode.
fn read(
    cache: &FolderCache,
    trees: &HashMap<String, Oid>,
    settings: Oid,
    folders: &[&str],
) -> Option<Held> {
    let read: Option<Vec<Held>> = folders
        .par_iter()
        .map(|folder| {
            let key = Key::of_day(folder, *trees.get(*folder)?, settings)?;
            let entry = cache.open(&key)?;
            let Records::Contributions(records) = entry.records()? else {
                return None;
            };
            let names: Vec<&str> = entry.names().collect();
            if names.len() != records.len() {
                return None;
            }
            names
                .into_iter()
                .zip(records)
                .map(|(name, record)| Some((format!("{folder}/{name}"), record?)))
                .collect()
        })
        .collect();
    Some(read?.into_iter().flatten().collect())
}
