//! Quick loads: a revision loaded with its summarised day folders standing in the ledger as
//! their summaries (see [`super::CachedRead::load_revision_for`]).
//!
//! A summary can prove a ledger clean, never find fault with it: it knows its folder's ids
//! only by hash, its hours only as a day's most, its names only as sets. So every step here
//! either proves that a full load would find nothing more, or gives up (`None`), and the
//! caller loads in full, which reports every problem exactly as `ovn check` does. Problems
//! of the folders read in full are answered here too, when they are of the kinds a
//! summarised folder cannot add to (a commit refused for a broken record or an unknown
//! agent is judged, and its review's payout impact worked out, as quickly as for a clean
//! one; see [`judged_alike`]). The steps:
//! list the revision through the cache ([`super::folders`]), check what the summaries alone
//! can decide ([`elsewhere`]), load the rest, then confirm by name every id the checks took
//! on a hash's word ([`proven`]).

use std::collections::HashSet;

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::files::{FolderCache, Key, day_folder};
use super::load::{self, Scope, Taken};
use crate::core::checks::MAX_HOURS_PER_DAY;
use crate::core::diag::Code;
use crate::core::ledger::{Ledger, Loaded, RecordType};
use crate::core::report::day_folder_of;
use crate::core::summary::{self, Elsewhere, FolderSummary};
use crate::core::value::Id;
use crate::store::{Store, StoreError};

/// The quick load of `rev` for `scope` through `cache`, or `None` when it cannot answer
/// (nothing summarised, or anything only a full load may judge).
pub(crate) fn load_quickly(
    store: &Store,
    rev: &str,
    cache: &FolderCache,
    scope: Scope<'_>,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    let Some(listing) = load::list(store, rev, cache, Some(scope))? else {
        return Ok(None);
    };
    load_listing_quickly(store, listing, cache)
}

/// The quick load of a `listing` made for a quick load (a revision's, or the index's), or
/// `None` when it cannot answer.
pub(crate) fn load_listing_quickly(
    store: &Store,
    listing: load::Listing,
    cache: &FolderCache,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    load_listing_quickly_from(store, listing, cache, None)
}

/// [`load_listing_quickly`], the files the cache does not hold read by `rest` (from git
/// when `None`).
pub(crate) fn load_listing_quickly_from(
    store: &Store,
    mut listing: load::Listing,
    cache: &FolderCache,
    rest: Option<&dyn load::Rest>,
) -> Result<Option<(Loaded, Oid)>, StoreError> {
    let Some(elsewhere) = elsewhere(&listing.taken) else {
        return Ok(None);
    };
    let folders = std::mem::take(&mut listing.taken.summarised);
    let loaded = match rest {
        Some(rest) => load::load_listing_from(listing, cache, elsewhere, rest)?,
        None => load::load_listing(store, listing, cache, elsewhere)?,
    };
    let Some((mut loaded, commit)) = loaded else {
        return Ok(None);
    };
    // Problems are answered quickly only when the summarised folders cannot change them
    // (see `judged_alike`).
    let judged = loaded.diagnostics.is_empty() || judged_alike(&loaded);
    if !judged || !proven(&loaded.ledger, cache, &folders) {
        return Ok(None);
    }
    loaded.ledger.elsewhere.folders = folders.into_iter().map(|(k, s)| (k.folder, s)).collect();
    Ok(Some((loaded, commit)))
}

/// What the summarised folders a listing has `taken` put into the ledger, or `None` when there are
/// none (a cold cache: a quick load would be a full one) or when they hold what only a full
/// load can report: two equal id hashes (maybe one id in two files), a day over the hours
/// limit, a record corrected twice.
fn elsewhere(taken: &Taken) -> Option<Elsewhere> {
    if taken.summarised.is_empty() {
        return None;
    }
    let lists: Vec<&[u64]> = taken.summarised.iter().map(|(_, s)| &s.ids[..]).collect();
    let ids = summary::sorted_hashes(&lists);
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    let mut elsewhere = Elsewhere {
        records: ids.len() - taken.ready.len(),
        ids,
        ..Elsewhere::default()
    };
    for (_, s) in &taken.summarised {
        if s.max_day_hours > MAX_HOURS_PER_DAY {
            return None;
        }
        elsewhere.skills.extend(s.skills.iter().cloned());
        for t in &s.targets {
            if !elsewhere.replaced.insert(t.clone()) {
                return None;
            }
        }
    }
    Some(elsewhere)
}

/// The ledger-wide checks whose problems, on a quick load that [`proven`] holds for, are
/// exactly those of a full load: each judges the records it holds one by one against what
/// the summaries prove of the rest (an id is not used twice across the folders, every name
/// a summarised record uses exists and every contribution named from outside one is found
/// by name, a summarised day stays within 24 hours, no record is corrected both inside and
/// outside the summarised folders, the skills are the summaries' and the records'), never
/// by looking further because something was wrong. A check that may look further does so:
/// a fork of payouts adds up the claims it repaid twice, which needs every contribution.
/// Those stay for a full load to report.
const JUDGED_ALIKE: &[&str] = &[
    "duplicate ids",
    "references",
    "unique emails",
    "project parents",
    "hours per day",
    "payouts",
    "corrected once",
    "rule skills",
    "approvals",
    "validation policy",
];

/// Whether the problems of a quick load are all a full load would report, given that
/// [`proven`] holds. Every problem is an error, so this decides only what a refusal lists,
/// never whether there is one. Problems from reading single files (a file that is not TOML,
/// a field that is not a number) read the same in a full load: a file that did not parse
/// holds no record in either, and is indexed by its name in both, which `proven` looks at.
/// Problems of the ledger-wide checks are alike only from those of [`JUDGED_ALIKE`]. A
/// record filed under another day's folder (a misplaced record) is for a full load to
/// judge: a day's hours are bounded per day folder, and its day may be a summarised
/// folder's.
fn judged_alike(loaded: &Loaded) -> bool {
    loaded.found_by.iter().all(|c| JUDGED_ALIKE.contains(c))
        && !loaded
            .diagnostics
            .iter()
            .any(|d| d.code == Code::MisplacedRecord)
}

/// Whether the checks of `ledger` (loaded with `folders` summarised; clean, or its problems
/// [`judged_alike`]) find nothing more in the whole ledger: every name the summaries use
/// exists, no id is shared across the summarised and the read folders, no correction loops
/// through a summarised folder, and every id taken on its hash's word is found by name in
/// its folder's entry.
fn proven(ledger: &Ledger, cache: &FolderCache, folders: &[(Key, FolderSummary)]) -> bool {
    use crate::core::ledger::RecordType::{Agent, Project, Resource};
    // The "after leaving" check reads every contribution's agent and date, which a summary
    // does not keep: a ledger with a departure is read in full.
    if ledger.agents.iter().any(|a| !a.departures.is_empty()) {
        return false;
    }
    let all_named = folders.par_iter().all(|(_, s)| {
        [
            (Agent, &s.agents),
            (Project, &s.projects),
            (Resource, &s.resources),
        ]
        .into_iter()
        .all(|(kind, ids)| ids.iter().all(|id| ledger.index.contains(kind, id)))
    });
    if !all_named {
        return false;
    }
    let summarised = in_summarised(ledger, folders);
    let read_in_full = || {
        ledger
            .contributions
            .iter()
            .filter(|c| !summarised[c.file as usize])
    };
    // Every contribution file read in full is indexed by its name's id, parsed or not (one
    // that failed to parse holds no record, but a full load would still find its id twice).
    let named_elsewhere = ledger.paths.iter().zip(&summarised).any(|(path, &inside)| {
        let folder = day_folder_of(path);
        let name = path.get(folder.len() + 1..).unwrap_or_default();
        !inside
            && day_folder(folder) == Some(RecordType::Contribution)
            && name
                .strip_suffix(".toml")
                .is_some_and(|id| ledger.elsewhere.may_hold(id))
    });
    // Contributions read in full must not share an id with a summarised one (the index
    // caught those among themselves), nor correct a record a summarised folder corrects.
    let shared = named_elsewhere
        || read_in_full().any(|c| {
            ledger.elsewhere.may_hold(c.id.value.as_str())
                || c.reverses()
                    .into_iter()
                    .chain(c.supersedes())
                    .any(|t| ledger.elsewhere.replaced.contains(&t.value))
        });
    if shared || may_loop(folders, read_in_full()) {
        return false;
    }
    // Every contribution id the checks took on a hash's word: those that corrections
    // outside the summarised folders name, those the summaries could not find in their own
    // folder, and those approvals and payouts name.
    let mut asked: Vec<&Id> = folders.iter().flat_map(|(_, s)| &s.foreign).collect();
    for c in read_in_full() {
        asked.extend(
            c.reverses()
                .into_iter()
                .chain(c.supersedes())
                .map(|t| &t.value),
        );
    }
    asked.extend(ledger.approvals.iter().map(|a| &a.record.value));
    for p in &ledger.payouts {
        asked.extend(
            p.settled
                .iter()
                .chain(&p.overpaid)
                .map(|s| &s.contribution.value),
        );
    }
    asked.retain(|id| !ledger.index.contains(RecordType::Contribution, id.as_str()));
    asked.sort_unstable();
    asked.dedup();
    found_by_name(cache, folders, &asked)
}

/// For each of `ledger`'s files (by file number), whether it lies in one of the summarised
/// `folders` (a record picked from one). Looked up once a run of files in one folder, not
/// once a file and use: a payout's quick load holds its project's tens of thousands of
/// picked records, in path order, and hashing each one's folder for each of the checks
/// above took one core about 15 ms at a million contributions.
fn in_summarised(ledger: &Ledger, folders: &[(Key, FolderSummary)]) -> Vec<bool> {
    let summarised: FxHashSet<&str> = folders.iter().map(|(k, _)| k.folder.as_str()).collect();
    let mut last: Option<(&str, bool)> = None;
    ledger
        .paths
        .iter()
        .map(|path| {
            let folder = day_folder_of(path);
            match last {
                Some((seen, inside)) if seen == folder => inside,
                _ => {
                    let inside = summarised.contains(folder);
                    last = Some((folder, inside));
                    inside
                }
            }
        })
        .collect()
}

/// Whether corrections may loop through a summarised folder (correction-loop, the full
/// checks' to report): the summaries know each correction's id and target by hash. `true`
/// also when a summary cannot tell.
fn may_loop<'a>(
    folders: &[(Key, FolderSummary)],
    read_in_full: impl Iterator<Item = &'a Box<crate::core::record::Contribution>>,
) -> bool {
    let mut edges: Vec<(u64, u64)> = Vec::new();
    for (_, s) in folders {
        let Some(e) = summary::correction_edges(s) else {
            return true;
        };
        edges.extend(e);
    }
    if edges.is_empty() {
        return false;
    }
    for c in read_in_full {
        if let Some(t) = c.reverses().into_iter().chain(c.supersedes()).next() {
            edges.push((
                summary::id_hash(c.id.value.as_str()),
                summary::id_hash(t.value.as_str()),
            ));
        }
    }
    summary::corrections_may_loop(edges.into_iter())
}

/// Whether each id `asked` is a file of a summarised folder: its folder found by its hash
/// in one pass over the summaries, then each such folder's file names read once, the
/// folders on all cores (a ledger correcting many records of earlier days asks for many).
fn found_by_name(cache: &FolderCache, folders: &[(Key, FolderSummary)], asked: &[&Id]) -> bool {
    if asked.is_empty() {
        return true;
    }
    let wanted: FxHashMap<u64, &Id> = asked
        .iter()
        .map(|id| (summary::id_hash(id.as_str()), *id))
        .collect();
    if wanted.len() < asked.len() {
        // Two ids asked for with one hash: too unlikely to be worth telling apart.
        return false;
    }
    let mut by_folder: FxHashMap<u32, Vec<&Id>> = FxHashMap::default();
    let mut found = 0;
    for (n, (_, s)) in folders.iter().enumerate() {
        for h in &s.ids {
            if let Some(id) = wanted.get(h) {
                by_folder.entry(n as u32).or_default().push(id);
                found += 1;
            }
        }
    }
    if found < wanted.len() {
        return false;
    }
    by_folder.into_par_iter().all(|(n, ids)| {
        cache.open(&folders[n as usize].0).is_some_and(|entry| {
            let names: HashSet<&str> = entry.names().collect();
            ids.iter()
                .all(|id| names.contains(format!("{id}.toml").as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::JUDGED_ALIKE;
    use crate::core::checks::CHECKS;

    #[test]
    fn every_check_judged_alike_is_a_check() {
        for name in JUDGED_ALIKE {
            assert!(CHECKS.iter().any(|c| c.name == *name), "{name}");
        }
    }
}
