//! `ovn export valueflows` from kept parts: each day folder's contributions rendered once as
//! JSON-LD text (with the units they use) and reused while the folder, and everything else
//! its text depends on, is unchanged. After one new commit only the changed folder is
//! rendered; the rest of the document is copied from the parts, a month at a time, so the
//! export is bounded by writing its gigabyte (at a million records), never held whole.
//!
//! A part holds what [`valueflows::part`] writes for the folder's contributions, its text
//! packed with zstd at its fastest level: at a million records the parts are a gigabyte of
//! JSON-LD, and writing that to the cache on a cold export cost more than packing it (see
//! `PACK_LEVEL`); a month's parts are unpacked on every core, a month ahead of the one
//! being written. It is kept in its month's file of the report cache, keyed by
//! - the query (projects, agents, dates) and a digest of every ledger entry other than the
//!   contributions ([`key::valueflows_month`]): `ovn.toml` fixes the currency and the
//!   fund that provides the use of a commons, resources their owners and shares, approvals
//!   the agreements written after each event;
//! - the day folder's path and tree id, which fix its records;
//! - for each correction among them, the record it names and the path and tree id of every
//!   folder that may hold it ([`key::valueflows_day`]): the back-out of a record repeats its
//!   quantities, so it changes when that record does, wherever it is. A quick load knows a
//!   summarised folder's ids by hash only, so it names every folder one of whose records has
//!   the target's hash: never fewer than the true one, more only on a hash collision, which
//!   costs a miss, never a wrong part.
//!
//! When the cache is cold, the fill that reads every record renders the parts a window at a
//! time while it holds the records (see [`tally`]), so a first export reads the ledger once.
//!
//! The ids are written under `ledger:`, which the document's context maps to the base URI,
//! so no part depends on the base. A folder whose part is not kept is rendered from the
//! ledger when it holds the folder's records and every record they correct; otherwise the
//! ledger is loaded in full (once) and the folder rendered from that: the document never
//! fails for want of a part, and every part written is the one a full load renders.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;

use super::held::Holder;
use super::reports::target_holders;
use super::tally::{Counting, Parts, Tally};
use super::{PartCache, key};
use crate::core::codec::{get_str, get_u64, put_str, put_u64};
use crate::core::ledger::Ledger;
use crate::core::record::Contribution;
use crate::core::report::{Query, day_folder_of, folder_runs};
use crate::core::valueflows::{self, Document, Part, Shared, Unit};
use crate::store::{Store, StoreError};

/// Why an export could not be written.
#[derive(Debug)]
pub enum Error {
    /// Reading the revision failed.
    Store(StoreError),
    /// Writing the output failed.
    Io(io::Error),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

/// One day folder of the document, in its place.
struct Folder<'l> {
    path: &'l str,
    /// Its contributions in the ledger read, when it holds them all (not summarised).
    run: Option<Range<usize>>,
    /// Its part's key.
    key: String,
}

/// Writes the ValueFlows export of `query` over `ledger` (loaded at `commit`, quickly or in
/// full) to `out`, with ids under `base`, from kept parts where they are current, rendering
/// the other folders and keeping their parts. `full` loads the ledger at `commit` in full,
/// for a folder a quick load cannot render; it is called at most once.
pub fn export(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    full: &mut dyn FnMut() -> Result<Ledger, StoreError>,
    query: &Query,
    base: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let quick = !ledger.elsewhere.folders.is_empty();
    let cache = PartCache::of(store);
    let trees = match &cache {
        Some(_) => Some(store.contribution_trees(commit)?),
        None => None,
    };
    // Which folders may hold each record a correction names: worked out once, for the
    // parts' keys and for what is held beside a folder.
    let holders = target_holders(ledger);
    let folders = trees
        .as_ref()
        .and_then(|(_, trees)| folders(ledger, &holders, trees));
    let (Some(cache), Some((context, days)), Some(folders)) = (cache, &trees, folders) else {
        // No cache, or folders that are not the usual day folders: rendered whole.
        if quick {
            let whole = full()?;
            return Ok(valueflows::export(&whole, query, base, out)?);
        }
        return Ok(valueflows::export(ledger, query, base, out)?);
    };
    let shared = Shared::of(ledger);
    // Summarised folders whose parts are not kept are held in full, with the folders that
    // may hold the records their corrections name.
    let holder = Holder::new(store, commit, ledger, days)?;
    let beside = target_folders(ledger, &holders);
    let hold = holder.as_ref().map(|h| (h, &beside));
    // Loaded on the first folder that needs it, with its own maps and runs.
    let loaded: OnceCell<Ledger> = OnceCell::new();
    let whole: OnceCell<Whole> = OnceCell::new();
    let mut doc = Document::begin(ledger, query, base, out)?;
    // The months' new parts are written to the cache on a thread of their own, while the
    // next month is read and rendered: at a million records they are a gigabyte, as much
    // as the document itself.
    std::thread::scope(|scope| -> Result<(), Error> {
        let (keep, kept_months) = std::sync::mpsc::sync_channel::<Month>(2);
        let writer = cache.clone();
        scope.spawn(move || {
            for m in kept_months {
                writer.merge(&m.key, m.fresh, m.old, |k| m.current.contains(k));
            }
        });
        write_months(
            &cache, ledger, &shared, query, context, &folders, &mut doc, &loaded, &whole, full,
            hold, &keep,
        )
    })?;
    cache.prune();
    Ok(doc.finish(query)?)
}

/// The ValueFlows parts of `query`, made while a cold cache is filled (see `tally`): each
/// window's day folders rendered from the records the fill holds, beside the revision's
/// other records, and kept under the keys [`export`] looks for. A folder's key names, for
/// each correction among its records, the folder that holds the record it names (see
/// [`key::valueflows_day`]); a folder whose correction names a record the window does not
/// hold is left for the export, which renders it from the folder's entry as before. So a
/// part kept here is the one the export would render, or is not found: the export's key
/// for that folder names every folder that may hold the corrected record, which is this
/// one folder unless ids' hashes collide.
pub fn tally(query: &Query) -> Box<dyn Tally> {
    Box::new(Counting::new(Rendering {
        query: query.clone(),
    }))
}

/// The [`Parts`] of a ValueFlows export (see [`tally`]).
struct Rendering {
    query: Query,
}

impl Parts for Rendering {
    fn month_key(&self, month: &str, context: &str) -> String {
        key::valueflows_month(month, context, &self.query)
    }

    fn window(
        &self,
        window: &Ledger,
        trees: &HashMap<String, git2::Oid>,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<(String, String, Vec<u8>)> {
        // The window holds whole folders and no summaries: each corrected record it holds
        // has one holder, the folder it is in, as the export's holders have it.
        let holders = target_holders(window);
        let targets = targets(window, &holders, trees);
        let shared = Shared::of(window);
        let runs: Vec<(&str, Range<usize>)> = folder_runs(window)
            .into_iter()
            .filter(|(folder, _)| wanted(folder))
            .collect();
        runs.into_par_iter()
            .filter_map(|(folder, run)| {
                let records = &window.contributions[run];
                if !corrected_held(&shared, records) {
                    return None;
                }
                let names: Vec<&str> = targets
                    .get(folder)
                    .map(|t| t.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                let key = key::valueflows_day(folder, *trees.get(folder)?, &names);
                let part = valueflows::part(window, &self.query, &shared, records);
                Some((folder.to_owned(), key, encode(&part)?))
            })
            .collect()
    }
}

/// A month's parts to keep: its file's key, the new parts, the old ones, and the part keys
/// still current.
struct Month {
    key: String,
    fresh: Vec<(String, Vec<u8>)>,
    old: Vec<(String, Vec<u8>)>,
    current: BTreeSet<String>,
}

/// A month's file of parts as read ahead of the document: the month's folders (a range of
/// the document's), the file's key, what it held (packed, kept beside new parts), and each
/// folder's part, unpacked, where it is kept and decodes.
struct KeptMonth {
    folders: Range<usize>,
    key: String,
    kept: Vec<(String, Vec<u8>)>,
    found: Vec<Option<Decoded>>,
}

/// Writes the document's folders to `doc` a month at a time, from kept parts where they
/// are current, rendering the others (see `render`) and handing the months with new parts
/// to `keep`. The months' files are read and unpacked a month ahead, on a thread of their
/// own, so that unpacking overlaps writing the document.
#[allow(clippy::too_many_arguments)]
fn write_months<'w, W: Write + ?Sized>(
    cache: &PartCache,
    ledger: &Ledger,
    shared: &Shared<'_>,
    query: &Query,
    context: &str,
    folders: &[Folder],
    doc: &mut Document<W>,
    loaded: &'w OnceCell<Ledger>,
    whole: &OnceCell<Whole<'w>>,
    full: &mut dyn FnMut() -> Result<Ledger, StoreError>,
    hold: Hold<'_>,
    keep: &std::sync::mpsc::SyncSender<Month>,
) -> Result<(), Error> {
    std::thread::scope(|scope| {
        // A rendezvous: the reader unpacks the next month while this side writes one, and
        // waits there, so at most two months' parts are unpacked at once.
        let (ahead, months) = std::sync::mpsc::sync_channel::<KeptMonth>(0);
        scope.spawn(move || read_months(cache, context, query, folders, &ahead));
        for m in months {
            let month_folders = &folders[m.folders];
            let missing: Vec<usize> = (0..m.found.len())
                .filter(|&n| m.found[n].is_none())
                .collect();
            let new = render(
                ledger,
                shared,
                query,
                month_folders,
                &missing,
                loaded,
                whole,
                full,
                hold,
            )?;
            // The new parts, packed as they are kept, on every core.
            let new: Vec<(usize, Part, Option<Vec<u8>>)> = new
                .into_par_iter()
                .map(|(n, part)| {
                    let bytes = encode(&part);
                    (n, part, bytes)
                })
                .collect();
            let mut fresh: Vec<(String, Vec<u8>)> = Vec::with_capacity(new.len());
            let mut parts = m.found;
            for (n, part, bytes) in new {
                if let Some(bytes) = bytes {
                    fresh.push((month_folders[n].key.clone(), bytes));
                }
                parts[n] = Some((part.text, part.units));
            }
            for (text, units) in parts.into_iter().flatten() {
                doc.put_text(&text, units)?;
            }
            // The new parts are kept with the month's others still current.
            if !fresh.is_empty() {
                let month = Month {
                    key: m.key,
                    fresh,
                    old: m.kept,
                    current: month_folders.iter().map(|f| f.key.clone()).collect(),
                };
                // The writer only stops when this side does: a failed send loses a cache file.
                let _ = keep.send(month);
            }
        }
        Ok(())
    })
}

/// Reads each month's file of parts in the document's order and hands it to `ahead`, its
/// parts unpacked on every core; stops when the document's side stops taking them.
fn read_months(
    cache: &PartCache,
    context: &str,
    query: &Query,
    folders: &[Folder],
    ahead: &std::sync::mpsc::SyncSender<KeptMonth>,
) {
    // One buffer for every month's file of parts (see `PartCache::get_in`).
    let mut buf = Vec::new();
    let mut at = 0;
    while at < folders.len() {
        let month = month_of(folders[at].path);
        let end = folders[at..]
            .iter()
            .position(|f| month_of(f.path) != month)
            .map_or(folders.len(), |n| at + n);
        let key = key::valueflows_month(month, context, query);
        let kept = cache.get_in(&key, &mut buf);
        let found = folders[at..end]
            .par_iter()
            .map(|f| {
                let (_, bytes) = kept.iter().find(|(k, _)| *k == f.key)?;
                decode(bytes)
            })
            .collect();
        let kept = kept
            .iter()
            .map(|(k, b)| ((*k).to_owned(), b.to_vec()))
            .collect();
        let month = KeptMonth {
            folders: at..end,
            key,
            kept,
            found,
        };
        if ahead.send(month).is_err() {
            return;
        }
        at = end;
    }
}

/// For each record a correction names, the day folders that may hold it.
type Holders<'l> = HashMap<&'l str, BTreeSet<&'l str>>;

/// The ledger loaded in full, with its folders' runs and its maps.
struct Whole<'w> {
    ledger: &'w Ledger,
    runs: HashMap<&'w str, Range<usize>>,
    shared: Shared<'w>,
}

/// What holds summarised folders in full (see `held`), and the folders held beside each.
type Hold<'h> = Option<(&'h Holder<'h>, &'h HashMap<&'h str, Vec<&'h str>>)>;

/// The parts of the folders `missing` (indices into `folders`): rendered from `ledger`
/// where it holds the folder's records and every record they correct, else held in full
/// from the folder cache (`hold`), with the folders that may hold those, else from the ledger
/// loaded in full (`full`, called once, kept in `loaded` and `whole`).
#[allow(clippy::too_many_arguments)]
fn render<'w>(
    ledger: &Ledger,
    shared: &Shared<'_>,
    query: &Query,
    folders: &[Folder],
    missing: &[usize],
    loaded: &'w OnceCell<Ledger>,
    whole: &OnceCell<Whole<'w>>,
    full: &mut dyn FnMut() -> Result<Ledger, StoreError>,
    hold: Hold<'_>,
) -> Result<Vec<(usize, Part)>, StoreError> {
    let here = |f: &Folder| {
        f.run
            .clone()
            .filter(|run| corrected_held(shared, &ledger.contributions[run.clone()]))
    };
    let mut new: Vec<(usize, Part)> = missing
        .par_iter()
        .filter_map(|&n| {
            let run = here(&folders[n])?;
            let part = valueflows::part(ledger, query, shared, &ledger.contributions[run]);
            Some((n, part))
        })
        .collect();
    if new.len() == missing.len() {
        return Ok(new);
    }
    // Summarised folders are held in full a window at a time, from their cache entries
    // (see `held`), where they hold every record their corrections name.
    let done: BTreeSet<usize> = new.iter().map(|(n, _)| *n).collect();
    let summarised: HashMap<&str, usize> = missing
        .iter()
        .filter(|&&n| !done.contains(&n) && folders[n].run.is_none())
        .map(|&n| (folders[n].path, n))
        .collect();
    if let Some((holder, beside)) = hold.filter(|_| !summarised.is_empty()) {
        let mut paths: Vec<&str> = summarised.keys().copied().collect();
        paths.sort_unstable();
        holder.each_window(&paths, beside, |w, wanted| {
            let shared = Shared::of(w);
            let runs: Vec<(&str, Range<usize>)> = folder_runs(w)
                .into_iter()
                .filter(|(folder, _)| wanted(folder))
                .collect();
            let parts: Vec<(usize, Part)> = runs
                .into_par_iter()
                .filter_map(|(folder, run)| {
                    let records = &w.contributions[run];
                    let whole = corrected_held(&shared, records);
                    let part = whole.then(|| valueflows::part(w, query, &shared, records))?;
                    Some((*summarised.get(folder)?, part))
                })
                .collect();
            new.extend(parts);
            true
        });
        if new.len() == missing.len() {
            return Ok(new);
        }
    }
    if loaded.get().is_none() {
        let _ = loaded.set(full()?);
    }
    let Some(l) = loaded.get() else {
        return Ok(new);
    };
    let w = whole.get_or_init(|| Whole {
        ledger: l,
        runs: folder_runs(l).into_iter().collect(),
        shared: Shared::of(l),
    });
    let done: BTreeSet<usize> = new.iter().map(|(n, _)| *n).collect();
    let more: Vec<(usize, Part)> = missing
        .par_iter()
        .filter(|n| !done.contains(n))
        .map(|&n| {
            let run = w.runs.get(folders[n].path).cloned().unwrap_or(0..0);
            let records = w.ledger.contributions.get(run).unwrap_or_default();
            (n, valueflows::part(w.ledger, query, &w.shared, records))
        })
        .collect();
    new.extend(more);
    Ok(new)
}

/// Every day folder of `ledger` (whose day folders' tree ids are `trees`) in the document's order, with its part's key;
/// `None` when a folder with contributions is not a day folder git lists under
/// `contributions/<yyyy>/<mm>/<dd>` (the document is then rendered whole, in the ledger's
/// order, which the parts could not be sure to keep).
fn folders<'l>(
    ledger: &'l Ledger,
    holders: &'l Holders<'l>,
    trees: &HashMap<String, git2::Oid>,
) -> Option<Vec<Folder<'l>>> {
    let summarised: BTreeSet<&str> = ledger
        .elsewhere
        .folders
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    // The records sort by path, so the folders (day folders, files straight in them) sort
    // by path and a slash: `a/` before `a-b/`, as git and the ledger's order have them.
    let mut order: BTreeMap<String, Folder> = BTreeMap::new();
    for path in &summarised {
        order.insert(
            format!("{path}/"),
            Folder {
                path,
                run: None,
                key: String::new(),
            },
        );
    }
    for (path, run) in folder_runs(ledger) {
        let folder = order.entry(format!("{path}/")).or_insert(Folder {
            path,
            run: None,
            key: String::new(),
        });
        if summarised.contains(path) {
            continue;
        }
        if folder.run.is_some() {
            // One folder's records in two places: not a day folder's files.
            return None;
        }
        folder.run = Some(run);
    }
    let targets = targets(ledger, holders, trees);
    let mut out = Vec::with_capacity(order.len());
    for (_, mut folder) in order {
        let tree = trees.get(folder.path)?;
        let names: Vec<&str> = targets
            .get(folder.path)
            .map(|t| t.iter().map(String::as_str).collect())
            .unwrap_or_default();
        folder.key = key::valueflows_day(folder.path, *tree, &names);
        out.push(folder);
    }
    Some(out)
}

/// For each day folder holding corrections, what their back-outs depend on outside it: each
/// target with the path and tree id of every folder that may hold it (sorted).
fn targets<'l>(
    ledger: &'l Ledger,
    holders: &'l Holders<'l>,
    trees: &HashMap<String, git2::Oid>,
) -> HashMap<&'l str, BTreeSet<String>> {
    let mut out: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for (folder, t, places) in places(ledger, holders) {
        let names = out.entry(folder).or_default();
        if places.is_empty() {
            names.insert(format!("{t} nowhere"));
        }
        for p in places {
            let tree = trees
                .get(*p)
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            names.insert(format!("{t} in {p} {tree}"));
        }
    }
    out
}

/// For each day folder holding corrections, the other folders that may hold the records
/// they name (held beside it when it is held in full: see `render`).
fn target_folders<'l>(
    ledger: &'l Ledger,
    holders: &'l Holders<'l>,
) -> HashMap<&'l str, Vec<&'l str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for (folder, _, places) in places(ledger, holders) {
        out.entry(folder)
            .or_default()
            .extend(places.iter().copied().filter(|p| *p != folder));
    }
    out
}

/// Each correction of `ledger`: its day folder, the id it names, and every day folder that
/// may hold that record (its `holders`, see [`target_holders`]).
fn places<'l>(
    ledger: &'l Ledger,
    holders: &'l Holders<'l>,
) -> impl Iterator<Item = (&'l str, &'l str, &'l BTreeSet<&'l str>)> {
    static NOWHERE: BTreeSet<&str> = BTreeSet::new();
    ledger.contributions.iter().filter_map(move |c| {
        let t = c.reverses().or(c.supersedes())?.value.as_str();
        let folder = day_folder_of(ledger.path(c.file));
        Some((folder, t, holders.get(t).unwrap_or(&NOWHERE)))
    })
}

/// Whether `shared` holds every record a correction among `records` names: the back-out of
/// a corrected record repeats its quantities, so a folder is rendered only beside them.
fn corrected_held(shared: &Shared<'_>, records: &[Box<Contribution>]) -> bool {
    records.iter().all(|c| {
        c.reverses()
            .or(c.supersedes())
            .is_none_or(|t| shared.holds(t.value.as_str()))
    })
}

/// The month folder of a day folder (`contributions/2026/03` of `contributions/2026/03/05`).
fn month_of(folder: &str) -> &str {
    folder.rsplit_once('/').map_or("", |(m, _)| m)
}

/// A part's text and units, read back from the cache.
type Decoded = (Vec<u8>, BTreeMap<String, Unit>);

/// The zstd level parts are packed at: the fastest of the usual levels. At a million
/// records it packs the gigabyte of parts about 15 to 1 at well over a gigabyte a second a
/// core, and unpacks four times faster: much less than writing and reading them unpacked.
const PACK_LEVEL: i32 = 1;

/// The encoding of a part (for the part cache): its text's length, the text packed with
/// zstd, and its units; `None` if zstd fails (the part is then not kept).
fn encode(part: &Part) -> Option<Vec<u8>> {
    let packed = zstd::bulk::compress(&part.text, PACK_LEVEL).ok()?;
    let mut out = Vec::with_capacity(packed.len() + 256);
    put_u64(&mut out, part.text.len() as u64);
    put_u64(&mut out, packed.len() as u64);
    out.extend_from_slice(&packed);
    put_u64(&mut out, part.units.len() as u64);
    for (id, u) in &part.units {
        put_str(&mut out, id);
        put_str(&mut out, &u.label);
        match &u.om {
            Some(om) => {
                put_u64(&mut out, 1);
                put_str(&mut out, om);
            }
            None => put_u64(&mut out, 0),
        }
    }
    Some(out)
}

/// Decodes what [`encode`] wrote (the text unpacked, and the units); `None` if it does not
/// parse or unpack to the length it gives.
fn decode(mut input: &[u8]) -> Option<Decoded> {
    let input = &mut input;
    let len = usize::try_from(get_u64(input)?).ok()?;
    let packed_len = usize::try_from(get_u64(input)?).ok()?;
    let (packed, rest) = input.split_at_checked(packed_len)?;
    *input = rest;
    // zstd allocates what the frame says it holds, fallibly, and refuses more than `len`.
    let text = zstd::bulk::decompress(packed, len).ok()?;
    if text.len() != len {
        return None;
    }
    let mut units = BTreeMap::new();
    for _ in 0..get_u64(input)? {
        let id = get_str(input)?.to_owned();
        let label = get_str(input)?.to_owned();
        let om = match get_u64(input)? {
            0 => None,
            1 => Some(get_str(input)?.to_owned()),
            _ => return None,
        };
        units.insert(id, Unit { label, om });
    }
    input.is_empty().then_some((text, units))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_reads_back_as_written_and_a_cut_one_does_not() {
        let mut part = Part {
            text: b",\n    {\"@id\":\"ledger:contribution/a\"}".to_vec(),
            units: BTreeMap::new(),
        };
        part.units.insert(
            "ledger:unit/hour".into(),
            Unit {
                label: "hour".into(),
                om: Some("hour".into()),
            },
        );
        part.units.insert(
            "ledger:unit/currency/EUR".into(),
            Unit {
                label: "EUR".into(),
                om: None,
            },
        );
        let bytes = encode(&part).expect("packs");
        assert_eq!(
            decode(&bytes),
            Some((part.text.clone(), part.units.clone()))
        );
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
        // A text length that is not what the packed text unpacks to is a miss, however
        // large it claims to be.
        let mut rest = bytes.as_slice();
        get_u64(&mut rest).expect("a length");
        for claimed in [
            part.text.len() as u64 - 1,
            part.text.len() as u64 + 1,
            u64::MAX,
        ] {
            let mut lying = Vec::new();
            put_u64(&mut lying, claimed);
            lying.extend_from_slice(rest);
            assert_eq!(decode(&lying), None, "{claimed}");
        }
        assert_eq!(
            month_of("contributions/2026/03/05"),
            "contributions/2026/03"
        );
    }
}
