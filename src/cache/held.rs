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
//! Each window is counted while the next is decoded and put beside the quick load and the
//! one before is dropped: three are held at a time, and no step waits on another.

use std::collections::HashMap;

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::files::{FolderCache, Key, Records};
use super::window::WINDOW_FILES;
use crate::core::ledger::Ledger;
use crate::core::record::Contribution;
use crate::store::{Store, StoreError};

/// Records held in full: path and record, in path order.
type Held = Vec<(String, Box<Contribution>)>;

/// What holding a quick load's summarised folders needs, worked out once for every window.
pub(crate) struct Holder<'a> {
    ledger: &'a Ledger,
    trees: &'a HashMap<String, Oid>,
    cache: FolderCache,
    settings: Oid,
    size: usize,
}

impl<'a> Holder<'a> {
    /// The holder of `ledger`'s summarised folders (quickly loaded at `commit`, its day
    /// folders' tree ids in `trees`); `None` when caching is off or the ledger has no
    /// `ovn.toml` (nothing is summarised then).
    pub(crate) fn new(
        store: &Store,
        commit: &str,
        ledger: &'a Ledger,
        trees: &'a HashMap<String, Oid>,
    ) -> Result<Option<Holder<'a>>, StoreError> {
        let Some(cache) = FolderCache::of(store) else {
            return Ok(None);
        };
        let Some(settings) = store.network_blob(commit)? else {
            return Ok(None);
        };
        Ok(Some(Holder {
            ledger,
            trees,
            cache,
            settings,
            size: store.fill_window().unwrap_or(WINDOW_FILES).max(1),
        }))
    }

    /// Holds the summarised day `folders` (in path order) in full a window at a time, each
    /// with the summarised folders `beside` names for it (held, not handed on: the records
    /// its corrections name, say), and hands each window's ledger to `each` with which of
    /// `folders` it holds. `false` when a folder's entry is not in the cache or does not
    /// decode, or `each` says so: the caller then loads the ledger in full, as it would
    /// have. The next window is decoded and held while `each` counts the last one and the
    /// one before is dropped (three windows held at a time), so the cores stay busy
    /// through each step's serial parts.
    pub(crate) fn each_window(
        &self,
        folders: &[&str],
        beside: &HashMap<&str, Vec<&str>>,
        mut each: impl FnMut(&Ledger, &(dyn Fn(&str) -> bool + Sync)) -> bool + Send,
    ) -> bool {
        let windows = self.windows(folders, beside);
        // Decoding a window, putting it beside the quick load and dropping the window
        // counted before all run while `each` counts: none of them waits for the others.
        let hold = |held: &[&str]| {
            read(&self.cache, self.trees, self.settings, held).and_then(|r| self.ledger.holding(r))
        };
        let mut next = windows.first().map(|(_, held)| hold(held));
        let mut done: Option<Ledger> = None;
        for (n, (window, _)) in windows.iter().enumerate() {
            let Some(holding) = next.take().flatten() else {
                return false;
            };
            let wanted: FxHashSet<&str> = window.iter().copied().collect();
            let last = done.take();
            let (following, counted) = rayon::join(
                || {
                    drop(last);
                    windows.get(n + 1).map(|(_, held)| hold(held))
                },
                || each(&holding, &|folder| wanted.contains(folder)),
            );
            if !counted {
                return false;
            }
            next = following;
            done = Some(holding);
        }
        true
    }

    /// `folders` cut into windows of about [`WINDOW_FILES`] records (at least one folder
    /// each), each with the folders it holds: its own and those `beside` names that are
    /// summarised (the others the quick load holds already), in path order.
    fn windows<'f>(
        &self,
        folders: &'f [&'f str],
        beside: &HashMap<&str, Vec<&'f str>>,
    ) -> Vec<(&'f [&'f str], Vec<&'f str>)> {
        let summarised = &self.ledger.elsewhere.folders;
        let find =
            |folder: &str| summarised.binary_search_by(|(path, _)| path.as_str().cmp(folder));
        // How many records a folder holds, from its summary (one id hash a record).
        let files = |folder: &str| find(folder).map_or(1, |n| summarised[n].1.ids.len());
        let mut out = Vec::new();
        let mut at = 0;
        while at < folders.len() {
            let mut end = at;
            let mut count = 0;
            while end < folders.len() && (end == at || count < self.size) {
                count += files(folders[end]);
                end += 1;
            }
            let window = &folders[at..end];
            at = end;
            let mut held: Vec<&str> = window.to_vec();
            for folder in window {
                let more = beside.get(folder).into_iter().flatten();
                held.extend(more.filter(|f| find(f).is_ok()));
            }
            held.sort_unstable();
            held.dedup();
            out.push((window, held));
        }
        out
    }
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
