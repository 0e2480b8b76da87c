//! Day folders from the cache while a revision is listed, and the cache filled after it is
//! read.
//!
//! Listing a revision walks its tree a level at a time (the store's `list_revision`). At each level, the
//! day folders the cache knows are taken from it instead of being descended into: a folder
//! with an entry gives its file names and its records (decoded later, all cores at once); for
//! a quick load, a contribution folder with a summary stands in the ledger as that summary,
//! with only the records the load's [`Scope`] wants picked from its entry (or from an
//! earlier pick of the same scope). Folders the cache does not have are listed from git as
//! usual, and once read, [`after_read`] caches those whose every file was a clean record,
//! summarises them, and prunes entries no revision in use holds any more.
//!
//! A month's file of summaries or picks is rewritten only when one of its days changed, and
//! always through [`PartCache::merge`], which keeps the parts of the days the revision still
//! holds and drops the others.

use std::collections::{BTreeMap, HashSet};

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::files::{self as cache, Entry, FolderCache, Key, PartCache, ToStore};
use super::key;
use super::load::{Scope, Source, Taken};
use crate::core::ledger::{Outcome, Paths, RecordType};
use crate::core::record::{Contribution, FileId};
use crate::core::summary::{self, FolderSummary};

/// How long a folder entry no read uses any more is kept.
pub(crate) const PRUNE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

impl Scope<'_> {
    /// What the records picked for this scope are kept under (see [`key::picks`]): the
    /// projects, sorted; `None` when nothing is picked.
    fn label(self) -> Option<String> {
        let Scope::Projects(projects) = self else {
            return None;
        };
        let mut names: Vec<&str> = projects.to_vec();
        names.sort_unstable();
        names.dedup();
        Some(names.join(","))
    }

    /// The records of a summarised folder to decode, by position, ascending.
    fn wanted(self, s: &FolderSummary) -> Vec<u32> {
        let Scope::Projects(projects) = self else {
            return Vec::new();
        };
        let hit: Vec<bool> = s.projects.iter().map(|p| projects.contains(&p)).collect();
        (0..s.ids.len() as u32)
            .filter(|&k| {
                hit[s.record_project[k as usize] as usize]
                    || s.corrections.binary_search(&k).is_ok()
            })
            .collect()
    }
}

/// A day folder as the cache has it.
enum Opened {
    /// Its entry, if any, and whether it is cached but not summarised.
    Entry(Key, Option<Entry>, bool),
    /// Its summary, with the records wanted of it (path and record), if any, and their
    /// pick when it was made now (to keep).
    Summarised(
        Key,
        Box<FolderSummary>,
        Option<Vec<(String, Box<Contribution>)>>,
        Option<Vec<u8>>,
    ),
}

impl Opened {
    /// Whether the folder was taken from its summary.
    fn summarised(&self) -> bool {
        matches!(self, Opened::Summarised(..))
    }
}

/// Parts of months' files, by part key, borrowed from the files as read ([`by_part`]).
pub(crate) type Parts<'f> = FxHashMap<&'f str, &'f [u8]>;

/// The parts of `files` (each as [`PartCache::read`] returned it), by part key.
pub(crate) fn by_part(files: &[Vec<u8>]) -> Parts<'_> {
    files.iter().flat_map(|f| PartCache::parts(f)).collect()
}

/// Takes the day folders of one level of the walk (`folders`: path, tree id) that the cache
/// knows out of `folders` and into the listing (their files to `items`, the rest to `taken`); the others stay in `folders`, to be listed
/// from git. `settings` is the blob id of `ovn.toml`; `quick` the scope of a quick load.
///
/// Returns `false` when a quick load should give up: nothing at this level is summarised
/// (a cold cache), so a quick load would only be a full one with extra steps.
pub(crate) fn take_level(
    cache: &FolderCache,
    folders: &mut Vec<(String, Oid)>,
    settings: Oid,
    quick: Option<Scope<'_>>,
    items: &mut Vec<(String, Source)>,
    taken: &mut Taken,
) -> bool {
    // A quick load takes contribution day folders from their summaries, kept one file per
    // month. (A full load reads them too, to summarise cached folders that lost theirs.)
    let label = quick.and_then(Scope::label);
    let is_day = |p: &str| cache::day_folder(p) == Some(RecordType::Contribution);
    let days = folders.iter().any(|(p, _)| is_day(p));
    let summaries = cache.summaries();
    let none_kept = || {
        !day_months(folders)
            .iter()
            .any(|m| summaries.has(&key::summaries(m, settings)))
    };
    if quick.is_some() && days && none_kept() {
        return false;
    }
    let picks = cache.picks();
    let months = Months {
        summaries: &summaries,
        picks: label.as_deref().map(|l| (&picks, l)),
        settings,
    };
    let (opened, old_picks) = open_all(cache, folders, quick, &months);
    // Nothing summarised after all (the months' files damaged): as with none kept.
    if quick.is_some() && days && !opened.iter().flatten().any(Opened::summarised) {
        return false;
    }
    let files: usize = opened
        .iter()
        .flatten()
        .map(|o| match o {
            Opened::Entry(_, hit, _) => hit.as_ref().map_or(0, |e| e.len()),
            Opened::Summarised(_, _, some, _) => some.as_ref().map_or(0, Vec::len),
        })
        .sum();
    items.reserve(files);
    let new_picks = take(folders, opened, items, taken);
    // A month's file is written again when a folder of it was picked now: with the other
    // picks of this revision's folders, the others dropped.
    if let Some(label) = &label
        && !new_picks.is_empty()
    {
        let mut old_picks: FxHashMap<String, Kept> = old_picks.into_iter().collect();
        let months: Vec<(String, Kept, Kept)> = new_picks
            .into_iter()
            .map(|(month, parts)| {
                let old = old_picks.remove(&month).unwrap_or_default();
                (month, parts, old)
            })
            .collect();
        months.into_par_iter().for_each(|(month, parts, old)| {
            picks.merge(&key::picks(&month, settings, label), parts, old, |_| true);
        });
        picks.prune();
    }
    true
}

/// Where a level's months' files are kept: the day folders' summaries and, for a quick load
/// that picks records (`picks`: the store and the scope's label), what it picked.
struct Months<'a> {
    summaries: &'a PartCache,
    picks: Option<(&'a PartCache, &'a str)>,
    settings: Oid,
}

/// The summaries kept for the contribution day folders among `folders`: the files of their
/// months, read on all cores (their parts found by [`by_part`]).
pub(crate) fn read_summaries(
    cache: &FolderCache,
    folders: &[(String, Oid)],
    settings: Oid,
) -> Vec<Vec<u8>> {
    let store = cache.summaries();
    day_months(folders)
        .par_iter()
        .filter_map(|m| store.read(&key::summaries(m, settings)))
        .collect()
}

/// The months of the contribution day folders among `folders` (in path order), once each.
fn day_months(folders: &[(String, Oid)]) -> Vec<&str> {
    let mut months: Vec<&str> = folders
        .iter()
        .filter(|(p, _)| cache::day_folder(p) == Some(RecordType::Contribution))
        .map(|(p, _)| month_of(p))
        .collect();
    months.dedup();
    months
}

/// Parts of a month's file, as stored: (part key, bytes).
type Kept = Vec<(String, Vec<u8>)>;

/// Each folder as the cache has it (`None`: not a day folder), opened (read and checked) on
/// all cores, a month's folders with its files at hand; and for each month with a folder
/// picked now, the picks still current that its file keeps (what [`take_level`] writes back
/// with the new ones).
///
/// A month's files are read into buffers the worker reuses and its folders opened from
/// there (the listing is in path order, so a month's folders are a run): read whole for the
/// level, a million records' summaries and picks took as much fresh memory as they hold,
/// about a fifth of the page faults of a payout after one new commit.
fn open_all(
    cache: &FolderCache,
    folders: &[(String, Oid)],
    quick: Option<Scope<'_>>,
    months: &Months<'_>,
) -> (Vec<Option<Opened>>, Vec<(String, Kept)>) {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (n, (path, _)) in folders.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if month_of(&folders[run.start].0) == month_of(path) => run.end = n + 1,
            _ => runs.push(n..n + 1),
        }
    }
    let opened: Vec<MonthOpened> = runs
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(sums, picks), run| {
                let run = &folders[run];
                let month = month_of(&run[0].0);
                let days = run
                    .iter()
                    .any(|(p, _)| cache::day_folder(p) == Some(RecordType::Contribution));
                let summaries: Parts<'_> = match days {
                    true => {
                        let key = key::summaries(month, months.settings);
                        months.summaries.get_in(&key, sums).into_iter().collect()
                    }
                    false => Parts::default(),
                };
                let picked: Parts<'_> = match months.picks {
                    Some((store, label)) if quick.is_some() && !summaries.is_empty() => {
                        let key = key::picks(month, months.settings, label);
                        store.get_in(&key, picks).into_iter().collect()
                    }
                    _ => Parts::default(),
                };
                let month_parts = MonthParts {
                    settings: months.settings,
                    summaries,
                    picked,
                };
                // A month's folders on all cores too: a ledger may have most of its records
                // in one month.
                let opened: Vec<Option<Opened>> = run
                    .par_iter()
                    .map_init(Vec::new, |buf, (path, id)| {
                        open(cache, path, *id, quick, &month_parts, buf)
                    })
                    .collect();
                let old = kept_picks(month, run, &opened, &month_parts.picked);
                (opened, old)
            },
        )
        .collect();
    let mut all = Vec::with_capacity(folders.len());
    let mut old = Vec::new();
    for (opened, kept) in opened {
        all.extend(opened);
        old.extend(kept);
    }
    (all, old)
}

/// A month's folders as [`open_all`] opened them, and its picks kept (see [`kept_picks`]).
type MonthOpened = (Vec<Option<Opened>>, Option<(String, Kept)>);

/// A month's parts at hand while its folders are opened.
struct MonthParts<'p> {
    settings: Oid,
    summaries: Parts<'p>,
    picked: Parts<'p>,
}

/// One folder as the cache has it (see [`open_all`]), its `month`'s parts at hand; `buf` is
/// scratch space for a pick.
fn open(
    cache: &FolderCache,
    path: &str,
    id: Oid,
    quick: Option<Scope<'_>>,
    month: &MonthParts<'_>,
    buf: &mut Vec<u8>,
) -> Option<Opened> {
    let MonthParts {
        settings,
        summaries,
        picked,
    } = month;
    let key = Key::of_day(path, id, *settings)?;
    let part = key::day(path, id);
    if let Some(scope) = quick
        && key.kind == RecordType::Contribution
        && let Some(summary) = summaries
            .get(part.as_str())
            .and_then(|bytes| FolderSummary::decode(bytes))
    {
        let wanted = scope.wanted(&summary);
        if wanted.is_empty() {
            return Some(Opened::Summarised(key, Box::new(summary), None, None));
        }
        // Picked before (a twentieth of the folder's bytes for one project), or picked now
        // from the folder's entry.
        let kept = picked
            .get(part.as_str())
            .and_then(|p| cache::unpick(path, p))
            .filter(|some| some.len() == wanted.len());
        if let Some(some) = kept {
            return Some(Opened::Summarised(key, Box::new(summary), Some(some), None));
        }
        if let Some(pick) = cache.pick(&key, &wanted, &summary.offsets, buf)
            && let Some(some) = cache::unpick(path, &pick)
        {
            return Some(Opened::Summarised(
                key,
                Box::new(summary),
                Some(some),
                Some(pick),
            ));
        }
    }
    let hit = cache.open(&key);
    // A folder found cached but not summarised (its month's file was lost) is summarised
    // after this load.
    let unsummarised = hit.is_some()
        && key.kind == RecordType::Contribution
        && !summaries.contains_key(part.as_str());
    Some(Opened::Entry(key, hit, unsummarised))
}

/// For a month with a folder picked now (`opened`, the month's `run` of folders): the picks
/// kept in its file for the other folders whose records were taken, which its file keeps
/// when written again (copied out: the file's buffer is reused for the next month).
fn kept_picks(
    month: &str,
    run: &[(String, Oid)],
    opened: &[Option<Opened>],
    picked: &Parts<'_>,
) -> Option<(String, Kept)> {
    let picked_now = |o: &Option<Opened>| matches!(o, Some(Opened::Summarised(_, _, _, Some(_))));
    if !opened.iter().any(picked_now) {
        return None;
    }
    let kept = run
        .iter()
        .zip(opened)
        .filter(|(_, o)| matches!(o, Some(Opened::Summarised(_, _, Some(_), _))))
        .filter_map(|((path, id), _)| {
            let part = key::day(path, *id);
            let bytes = picked.get(part.as_str())?.to_vec();
            Some((part, bytes))
        })
        .collect();
    Some((month.to_owned(), kept))
}

/// Picks made now, by month (part key, pick).
type NewPicks = BTreeMap<String, Kept>;

/// Moves the folders the cache had (`opened`, in the order of `folders`) into the listing
/// (`items`, `taken`), leaving the others in `folders`.
fn take(
    folders: &mut Vec<(String, Oid)>,
    opened: Vec<Option<Opened>>,
    items: &mut Vec<(String, Source)>,
    taken: &mut Taken,
) -> NewPicks {
    let mut new_picks: NewPicks = BTreeMap::new();
    let mut opened = opened.into_iter();
    folders.retain(|(path, _)| match opened.next().flatten() {
        None => true,
        Some(Opened::Entry(key, None, _)) => {
            taken.missed.push(key);
            true
        }
        Some(Opened::Summarised(key, summary, some, pick)) => {
            if let Some(pick) = pick {
                new_picks
                    .entry(month_of(path).to_owned())
                    .or_default()
                    .push((key::day(path, key.tree), pick));
            }
            for (file, c) in some.into_iter().flatten() {
                let n = taken.ready.len() as u32;
                items.push((file, Source::Ready(n)));
                taken.ready.push(Some(c));
            }
            taken.hits.push(key.clone());
            taken.summarised.push((key, *summary));
            false
        }
        Some(Opened::Entry(key, Some(hit), unsummarised)) => {
            if unsummarised {
                taken.unsummarised.push(key.clone());
            }
            let n = taken.entries.len() as u32;
            for (k, file) in hit.names().enumerate() {
                items.push((
                    cache::joined(path, file),
                    Source::Cached {
                        entry: n,
                        record: k as u32,
                    },
                ));
            }
            taken.entries.push(hit);
            taken.hits.push(key);
            false
        }
    });
    new_picks
}

/// After a revision was read (`paths` and their `outcomes`, in path order): caches the
/// day folders the cache `missed`, summarises those and the `unsummarised` ones, and prunes
/// entries neither they nor the `hits` use (when due: at most once an hour). Only after a
/// miss: a warm run touches nothing.
pub(crate) fn after_read(
    cache: &FolderCache,
    paths: &Paths,
    outcomes: &[Outcome],
    hits: &[Key],
    missed: &[Key],
    unsummarised: &[Key],
) {
    if missed.is_empty() && unsummarised.is_empty() {
        return;
    }
    let current: Vec<Key> = hits.iter().chain(missed).cloned().collect();
    fill(cache, paths, outcomes, missed, unsummarised, &current);
    if !cache.prune_due() {
        return;
    }
    // Entries of this revision stay; others go once a week old. Their file names are
    // hashes of their keys, worked out on all cores: on one, the thousands of a large
    // ledger's day folders held up every read after a new commit by a few milliseconds.
    let keep = hits
        .par_iter()
        .chain(missed)
        .map(|k| cache.entry_path(k))
        .collect();
    cache.prune(&keep, PRUNE_AFTER);
}

/// Caches each missed day folder whose every file came out a clean record, and summarises
/// those of contributions (and the `unsummarised` ones, cached already): the summaries go
/// to their months' files, which keep the summaries of the other `current` day folders.
fn fill(
    cache: &FolderCache,
    paths: &Paths,
    outcomes: &[Outcome],
    missed: &[Key],
    unsummarised: &[Key],
    current: &[Key],
) {
    // Nothing would be kept: neither entries nor summaries are worth making.
    if !cache.writes() {
        return;
    }
    let summaries = cache_folders(cache, paths, outcomes, missed, unsummarised);
    write_summaries(cache, encode_summaries(summaries), current);
}

/// Summaries encoded by month: (part key, bytes) of each day folder.
pub(crate) type Fresh = BTreeMap<String, Vec<(String, Vec<u8>)>>;

/// Caches each `missed` day folder whose every file came out a clean record (`paths` and
/// their `outcomes`, in path order, hold at least those folders' files), on all cores, and
/// returns the summaries of those of contributions, and of the `unsummarised` ones (cached
/// already).
pub(crate) fn cache_folders<'k>(
    cache: &FolderCache,
    paths: &Paths,
    outcomes: &[Outcome],
    missed: &'k [Key],
    unsummarised: &'k [Key],
) -> Vec<(&'k Key, FolderSummary)> {
    missed
        .par_iter()
        .map(|k| (k, true))
        .chain(unsummarised.par_iter().map(|k| (k, false)))
        .filter_map(|(key, write)| {
            let (start, end) = folder_range(paths, &key.folder)?;
            cache_folder(cache, paths, key, start, &outcomes[start..end], write)
        })
        .collect()
}

/// [`cache_folders`] for a window of the fill, whose records are not needed after: each
/// folder's outcomes are freed as soon as its entry is written and its summary made, while
/// they are still in the core's cache. Freed all at once after, a window's records had left
/// it, and dropping them was 4-5% of a cold `check --at` at a million, most of it the first
/// touch of each record's id again.
pub(crate) fn cache_folders_freeing<'k>(
    cache: &FolderCache,
    paths: &Paths,
    mut outcomes: Vec<Outcome>,
    missed: &'k [Key],
) -> Vec<(&'k Key, FolderSummary)> {
    let mut ranges: Vec<(&Key, usize, usize)> = missed
        .iter()
        .filter_map(|k| folder_range(paths, &k.folder).map(|(s, e)| (k, s, e)))
        .collect();
    ranges.sort_unstable_by_key(|&(_, start, _)| start);
    // Each folder's outcomes moved out, from the last folder back, so each is moved once.
    let mut each: Vec<(&Key, usize, Vec<Outcome>)> = Vec::with_capacity(ranges.len());
    for &(key, start, end) in ranges.iter().rev() {
        // What is left ends where the folder after this one began: folders do not overlap,
        // and a range that would (or lies past the outcomes) is left out, never cached.
        if end > outcomes.len() {
            continue;
        }
        let mut own = outcomes.split_off(start);
        own.truncate(end - start);
        each.push((key, start, own));
    }
    drop(outcomes);
    each.into_par_iter()
        .filter_map(|(key, start, own)| {
            let kept = cache_folder(cache, paths, key, start, &own, true);
            drop(own);
            kept
        })
        .collect()
}

/// The files of day folder `folder` among `paths`: the range of their positions, or `None`
/// when it has none.
fn folder_range(paths: &Paths, folder: &str) -> Option<(usize, usize)> {
    let prefix = format!("{folder}/");
    let start = paths_from(paths, &prefix);
    let end = start
        + (start..paths.len())
            .take_while(|&i| paths.get(i as FileId).starts_with(&prefix))
            .count();
    (start < end).then_some((start, end))
}

/// Caches day folder `key`, whose files are those of `paths` from `start` on, read as
/// `outcomes` (writing its entry when `write`, else only working out where its records
/// are in the one kept), and makes its summary; `None` when the folder is not cached (a
/// nested folder, a record that is not clean) or holds no contributions.
fn cache_folder<'k>(
    cache: &FolderCache,
    paths: &Paths,
    key: &'k Key,
    start: usize,
    outcomes: &[Outcome],
    write: bool,
) -> Option<(&'k Key, FolderSummary)> {
    let prefix_len = key.folder.len() + 1;
    let names: Vec<&str> = (start..start + outcomes.len())
        .map(|i| &paths.get(i as FileId)[prefix_len..])
        .collect();
    // Nested folders are not records; a folder holding one is never cached.
    if names.iter().any(|n| n.contains('/')) {
        return None;
    }
    let records = match key.kind {
        RecordType::Contribution => outcomes
            .iter()
            .map(Outcome::clean_contribution)
            .collect::<Option<Vec<_>>>()
            .map(ToStore::Contributions),
        RecordType::Approval => outcomes
            .iter()
            .map(Outcome::clean_approval)
            .collect::<Option<Vec<_>>>()
            .map(ToStore::Approvals),
        _ => None,
    }?;
    let offsets = if write {
        cache.put(key, &names, &records)
    } else {
        cache::offsets(&records)
    };
    match &records {
        ToStore::Contributions(v) => Some((key, summary::summarise(v, offsets)?)),
        ToStore::Approvals(_) => None,
    }
}

/// `summaries` encoded (16 bytes a record), by month, for [`write_summaries`].
pub(crate) fn encode_summaries(summaries: Vec<(&Key, FolderSummary)>) -> Fresh {
    let mut fresh = Fresh::new();
    for (key, s) in summaries {
        let mut bytes = Vec::new();
        s.encode(&mut bytes);
        fresh
            .entry(month_of(&key.folder).to_owned())
            .or_default()
            .push((key::day(&key.folder, key.tree), bytes));
    }
    fresh
}

/// The month folder of a day folder (`contributions/2026/03` of `contributions/2026/03/05`).
fn month_of(folder: &str) -> &str {
    folder.rsplit_once('/').map_or("", |(m, _)| m)
}

/// Writes the `fresh` summaries into their months' files (one write a month, the months on
/// all cores), each keeping the summaries it has of the other `current` day folders and
/// dropping the rest.
pub(crate) fn write_summaries(cache: &FolderCache, fresh: Fresh, current: &[Key]) {
    let Some(first) = current.first() else {
        return;
    };
    if fresh.is_empty() {
        return;
    }
    let settings = first.settings;
    let store = cache.summaries();
    fresh.into_par_iter().for_each(|(m, parts)| {
        let file = key::summaries(&m, settings);
        let now: HashSet<String> = current
            .iter()
            .filter(|k| k.kind == RecordType::Contribution && month_of(&k.folder) == m)
            .map(|k| key::day(&k.folder, k.tree))
            .collect();
        let old = store.get(&file);
        store.merge(&file, parts, old, |k| now.contains(k));
    });
    store.prune();
}

/// The first position in `paths` (sorted) at or after `prefix`.
fn paths_from(paths: &Paths, prefix: &str) -> usize {
    let (mut start, mut high) = (0, paths.len());
    while start < high {
        let mid = (start + high) / 2;
        if paths.get(mid as FileId) < prefix {
            start = mid + 1;
        } else {
            high = mid;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::Parser;

    /// A window's folders, cached while each folder's records are freed, give the same
    /// entries and summaries as when the window's records are kept to the end; a folder with
    /// a record that is not clean is cached by neither.
    #[test]
    fn freeing_each_folder_caches_every_folder_as_keeping_them_does() {
        let files: Vec<String> = [
            "contributions/2026/03/01/a1.toml",
            "contributions/2026/03/01/a2.toml",
            "contributions/2026/03/02/b1.toml",
            "contributions/2026/03/03/c1.toml",
            "contributions/2026/03/03/c2.toml",
            "contributions/2026/03/03/c3.toml",
            "contributions/2026/03/04/d1.toml",
        ]
        .map(str::to_owned)
        .to_vec();
        let paths = Paths::from_strs(files.iter().map(String::as_str));
        let parser = Parser::for_part(b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\n", paths)
            .expect("a clean ovn.toml");
        let parse = || -> Vec<Outcome> {
            files
                .iter()
                .enumerate()
                .map(|(n, path)| {
                    let (folder, name) = path.rsplit_once('/').unwrap_or_default();
                    let id = name.trim_end_matches(".toml");
                    let day = &folder[folder.len() - 2..];
                    // d1's agent is not an id: its folder is not clean.
                    let agent = if id == "d1" { "Ada!" } else { "ada" };
                    let text = format!(
                        "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-03-{day}\nproject = \"p\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"{}\"\n",
                        n + 1
                    );
                    parser.parse(n as FileId, text.into_bytes())
                })
                .collect()
        };
        let keys: Vec<Key> = ["01", "02", "03", "04"]
            .iter()
            .enumerate()
            .map(|(n, day)| {
                let tree = Oid::from_bytes(&[n as u8 + 1; 20]).expect("an oid");
                Key::of_day(
                    &format!("contributions/2026/03/{day}"),
                    tree,
                    Oid::ZERO_SHA1,
                )
                .expect("a day folder")
            })
            .collect();
        let (kept_dir, freed_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (kept_cache, freed_cache) = (
            FolderCache::new(kept_dir.path()),
            FolderCache::new(freed_dir.path()),
        );
        let outcomes = parse();
        let mut kept = cache_folders(&kept_cache, parser.paths(), &outcomes, &keys, &[]);
        let mut freed = cache_folders_freeing(&freed_cache, parser.paths(), parse(), &keys);
        kept.sort_by(|a, b| a.0.folder.cmp(&b.0.folder));
        freed.sort_by(|a, b| a.0.folder.cmp(&b.0.folder));
        let folders: Vec<&str> = freed.iter().map(|(k, _)| k.folder.as_str()).collect();
        assert_eq!(
            folders,
            [
                "contributions/2026/03/01",
                "contributions/2026/03/02",
                "contributions/2026/03/03"
            ]
        );
        assert_eq!(kept, freed);
        for key in &keys {
            let (a, b) = (kept_cache.entry_path(key), freed_cache.entry_path(key));
            assert_eq!(a.exists(), b.exists(), "{}", key.folder);
            assert_eq!(b.exists(), key.folder != "contributions/2026/03/04");
            if b.exists() {
                assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
            }
        }
    }
}
