//! `ovn report contributions`, `claims` and `resources` from kept parts: the groups (the
//! claims' sums by project and agent, the hours of use) each day folder contributed to a
//! question, reused
//! while the folder (and everything else the question reads) is unchanged. Both reports go
//! through one driver (`by_parts`), so they key, read and write their parts alike.
//!
//! A report counts day folder by day folder and adds the folders up in path order
//! ([`report::contributions_by_folder`], [`report::merge_groups`]), so a folder's groups
//! are the same whether they were counted now or kept from an earlier run: the report built
//! from kept parts is the report counted from scratch. A part is keyed by
//! - the question (the filters and `--by`), and a digest of every ledger entry other than
//!   the contributions (`ovn.toml`, agents, projects, agreements, ...), which fix the values;
//! - the day folder's path and tree id, which fix its records;
//! - the ids that corrections anywhere name among its records, which decide which of them
//!   count (and, for claims, which record a payment made before a correction now counts
//!   for: the payments are in the digest, the corrections they follow name the records).
//!   A quick load only knows a summarised folder's ids by hash, so it names every
//!   correction target whose hash one of its records has: never fewer than the true ones,
//!   and more only on a hash collision, which costs a miss, never a wrong part.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use rust_decimal::Decimal;

use super::files::AnswerCache;
use super::tally::{Counting, Tally};
use super::{PartCache, key};
use crate::core::codec::{get_bytes, get_str, get_u64, put_bytes, put_str, put_u64};
use crate::core::ledger::{Ledger, RecordType};
use crate::core::report::{
    self, ClaimGroups, ClaimSums, ClaimTotals, ClaimsReport, ContributionReport, Dimension, Groups,
    Query, ResourceRow, UseHours, day_folder_of,
};
use crate::core::summary::id_hash;
use crate::core::value::Id;
use crate::store::{Store, StoreError};

/// Why a report could not be made.
#[derive(Debug)]
pub enum Error {
    /// Reading the revision failed.
    Store(StoreError),
    /// The query does not fit the ledger (said as a full load says it).
    Query(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

/// The report of `query` grouped `by` over `ledger` (loaded at `commit`), using and filling
/// the report cache. `None` when `ledger` was loaded quickly (some folders summarised) and a
/// summarised folder's part is not kept, or the values cannot be worked out from what the
/// quick load holds: the caller then loads the ledger in full and asks again, which always
/// answers.
pub fn contributions(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    query: &Query,
    by: &[Dimension],
) -> Result<Option<ContributionReport>, Error> {
    let question = Question::contributions(query, by);
    let parts = by_parts(store, commit, ledger, &question)?;
    Ok(parts.map(|parts| report::merge_groups(by, parts)))
}

/// What counts `ovn report contributions` of `query` grouped `by` while a cold cache is
/// filled (see [`super::tally`]), for the load before [`contributions`].
pub fn contributions_tally(query: &Query, by: &[Dimension]) -> Box<dyn Tally> {
    Box::new(Counting::new(Question::contributions(query, by)))
}

/// What counts `ovn report claims` of `query` while a cold cache is filled, for the load
/// before [`claims`].
pub fn claims_tally(query: &Query) -> Box<dyn Tally> {
    Box::new(Counting::new(Question::claims(query)))
}

/// The claims report of `query` over `ledger` (loaded at `commit`, quickly or in full),
/// without a payout preview, using and filling the report cache; `None` as for
/// [`contributions`], and also when a reconciliation recorded overpaid claims of a project
/// reported (its notes work the project's claims out again, which needs its records).
pub fn claims(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    query: &Query,
) -> Result<Option<ClaimsReport>, Error> {
    let quick = !ledger.elsewhere.folders.is_empty();
    let reconciled = ledger
        .payouts
        .iter()
        .any(|p| query.project(&p.project.value) && !p.overpaid.is_empty());
    if quick && reconciled {
        return Ok(None);
    }
    let keyed = by_parts_keyed(store, commit, ledger, &Question::claims(query))?;
    let Some(keyed) = keyed else {
        return Ok(None);
    };
    // Should a kept part not read, the answer is not put together from parts at all: the
    // caller loads in full, which counts every folder again (and keeps the new parts).
    let Some(totals) = sum_claims(store, &keyed, query) else {
        return Ok(None);
    };
    match report::claims_from_totals(ledger, query, None, &totals) {
        Ok(r) => Ok(Some(r)),
        Err(_) if quick => Ok(None),
        Err(e) => Err(Error::Query(e.to_string())),
    }
}

/// `ovn report resources` of `query` over `ledger` (loaded at `commit`, quickly or in
/// full), its hours of use put together from kept parts (using and filling the report
/// cache); `None` as for [`contributions`].
pub fn resources(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    query: &Query,
) -> Result<Option<Vec<ResourceRow>>, Error> {
    let parts = by_parts(store, commit, ledger, &Question::resources(query))?;
    Ok(parts.map(|parts| report::resources_from_uses(ledger, query, &report::merge_uses(parts))))
}

/// What counts `ovn report resources` of `query` while a cold cache is filled, for the
/// load before [`resources`].
pub fn resources_tally(query: &Query) -> Box<dyn Tally> {
    Box::new(Counting::new(Question::resources(query)))
}

/// The result of counting some day folders' parts over a ledger: each folder's part, or why
/// the question cannot be answered (said again, exactly, by a full load).
pub(super) type Counted<'x, G> = Result<Vec<(&'x str, G)>, String>;

/// Counts the parts of the day folders a predicate wants over a ledger (see [`Question`]).
pub(super) type Count<G> =
    dyn for<'x> Fn(&'x Ledger, &(dyn Fn(&str) -> bool + Sync)) -> Counted<'x, G> + Send + Sync;

/// The key of a month's file of parts, given the month and the digest of the ledger's other
/// entries.
pub(super) type MonthKey = dyn Fn(&str, &str) -> String + Send + Sync;

/// One question asked of every day folder (a report's groups, a journal's text, the site's
/// sums): how a month's file of its parts is keyed, how the parts of some of a ledger's
/// folders are counted, and how a part is kept. The driver that answers the question
/// (`by_parts`) and a cold cache's fill that counts it while each window's records are
/// read ([`super::tally`]) both take it from here, so they key and count a part alike.
pub struct Question<G> {
    /// The key of a month's file of parts, given the month and the digest of the ledger's
    /// other entries.
    pub(super) month_key: Box<MonthKey>,
    /// The parts of the folders wanted, counted over a ledger holding them.
    pub(super) count: Box<Count<G>>,
    /// Appends a part's bytes as kept.
    pub(super) encode: fn(&G, &mut Vec<u8>),
    /// A kept part read back; `None` if it does not read.
    pub(super) decode: fn(&[u8]) -> Option<G>,
}

impl Question<Groups> {
    /// `ovn report contributions` of `query` grouped `by`.
    pub fn contributions(query: &Query, by: &[Dimension]) -> Question<Groups> {
        let (q, b) = (query.clone(), by.to_vec());
        let (query, by) = (query.clone(), by.to_vec());
        Question {
            month_key: Box::new(move |month, context| key::report_month(month, context, &q, &b)),
            count: Box::new(move |l, wanted| {
                report::contributions_by_folder(l, &query, &by, wanted).map_err(|e| e.to_string())
            }),
            encode: encode_groups,
            decode: decode_groups,
        }
    }
}

impl Question<PackedClaims> {
    /// `ovn report claims` of `query`, without a payout preview.
    fn claims(query: &Query) -> Question<PackedClaims> {
        let (q, query) = (query.clone(), query.clone());
        Question {
            month_key: Box::new(move |month, context| key::claims_month(month, context, &q)),
            count: Box::new(move |l, wanted| {
                let folders =
                    report::claims_by_folder(l, &query, wanted).map_err(|e| e.to_string())?;
                Ok(folders
                    .into_iter()
                    .map(|(f, g)| (f, pack_claims(&g)))
                    .collect())
            }),
            encode: |p, out| out.extend_from_slice(&p.0),
            // Read as they are summed, and only those after the checkpoint summing resumes
            // from.
            decode: |bytes| Some(PackedClaims(bytes.to_vec())),
        }
    }
}

impl Question<UseHours> {
    /// `ovn report resources` of `query`: each day folder's hours of use.
    fn resources(query: &Query) -> Question<UseHours> {
        let (q, query) = (query.clone(), query.clone());
        Question {
            month_key: Box::new(move |month, context| key::resources_month(month, context, &q)),
            count: Box::new(move |l, wanted| Ok(report::resources_by_folder(l, &query, wanted))),
            encode: encode_uses,
            decode: decode_uses,
        }
    }
}

/// The parts of every day folder of `ledger` (loaded at `commit`) for `question`, in path
/// order: those of the folders held in full counted now, the others read from the report
/// cache, and the months with new parts written back. `None` when a summarised folder's
/// part is not kept and cannot be counted from its cache entry, or counting fails on a
/// quick load (a full load says it exactly).
pub(super) fn by_parts<G: Send>(
    store: &Store,
    commit: &str,
    ledger: &Ledger,
    question: &Question<G>,
) -> Result<Option<Vec<G>>, Error> {
    let keyed = by_parts_keyed(store, commit, ledger, question)?;
    Ok(keyed.map(|k| k.parts.into_iter().map(|(_, _, g)| g).collect()))
}

/// A question's parts in path order (see [`by_parts`]), each with its day folder and the
/// key it is kept under (`None` with caching off, or for a folder whose tree is not
/// listed), and the digest of the ledger's other entries they were counted against (empty
/// with caching off): what a caller keeping more than the parts (the site's checkpoints)
/// keys on.
pub(super) struct Keyed<'l, G> {
    pub(super) context: String,
    pub(super) parts: Vec<(&'l str, Option<String>, G)>,
}

/// [`by_parts`], each part with its folder and key ([`Keyed`]).
///
/// One function of about a hundred lines because its steps (count the new folders, read the
/// kept parts, count the others held in windows, write the months back) share the keys
/// worked out at its start.
pub(super) fn by_parts_keyed<'l, G: Send>(
    store: &Store,
    commit: &str,
    ledger: &'l Ledger,
    question: &Question<G>,
) -> Result<Option<Keyed<'l, G>>, Error> {
    let Question {
        month_key,
        count,
        encode,
        decode,
    } = question;
    let (encode, decode) = (*encode, *decode);
    let quick = !ledger.elsewhere.folders.is_empty();
    let Some(cache) = PartCache::of(store) else {
        return count(ledger, &|_| true)
            .map(|parts| {
                let parts = parts.into_iter().map(|(f, g)| (f, None, g)).collect();
                Some(Keyed {
                    context: String::new(),
                    parts,
                })
            })
            .map_err(Error::Query);
    };
    let (context, trees) = store.contribution_trees(commit)?;

    let named = correction_targets(ledger);
    let part_key = |folder: &str| part_key(folder, &trees, &named);
    let month_key = |month: &str| month_key(month, &context);

    // Every day folder with contributions, by month.
    let summarised: BTreeSet<&str> = ledger
        .elsewhere
        .folders
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    // The folders held in full are counted now (those of the quick load: only the new ones).
    let counted = match count(ledger, &|f| !summarised.contains(f)) {
        Ok(counted) => counted,
        // Said exactly as a full load says it.
        Err(_) if quick => return Ok(None),
        Err(e) => return Err(Error::Query(e)),
    };
    let mut months: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for folder in summarised
        .iter()
        .copied()
        .chain(counted.iter().map(|r| r.0))
    {
        let list = months.entry(folder_of(folder)).or_default();
        if !list.contains(&folder) {
            list.push(folder);
        }
    }

    // Kept parts of the summarised folders (a quick load has no other way to count them).
    let mut parts: Vec<(&str, G)> = Vec::new();
    let mut kept: HashMap<&str, Kept> = HashMap::new();
    let mut absent: Vec<&str> = Vec::new();
    if quick {
        let counted_in: BTreeSet<&str> = counted.iter().map(|(f, _)| folder_of(f)).collect();
        let again = |month: &str| counted_in.contains(month);
        match read_kept(
            &cache,
            &months,
            &summarised,
            &again,
            &part_key,
            &month_key,
            decode,
        ) {
            Some(read) => (parts, absent, kept) = read,
            None => return Ok(None),
        }
    }
    // Summarised folders whose parts are not kept are counted held in full, a window at a
    // time, from their cache entries (see `held`), rather than from a full load.
    let mut held = Vec::new();
    if !absent.is_empty() {
        match count_held(store, commit, ledger, &trees, &absent, &**count)? {
            Some(counted) => held = counted,
            None => return Ok(None),
        }
    }
    write_back(
        &cache,
        &months,
        counted.iter().chain(&held),
        kept,
        &part_key,
        &month_key,
        encode,
    );
    cache.prune();
    parts.extend(counted);
    parts.extend(held);
    parts.sort_by(|a, b| a.0.cmp(b.0));
    let parts = parts
        .into_iter()
        .map(|(f, g)| (f, part_key(f), g))
        .collect();
    Ok(Some(Keyed { context, parts }))
}

/// The kept parts of the `summarised` folders of `months` (a month's folders by month), each
/// month's file read and its parts decoded on all cores: the parts found, the folders
/// whose part is not kept (in path order), and the bytes of the months written again after
/// (a part missing, or `again` says so: a folder counted now), the others' freed as soon as
/// they are decoded. `None` when a folder has no key (its tree is not listed).
fn read_kept<'f, G: Send>(
    cache: &PartCache,
    months: &BTreeMap<&'f str, Vec<&'f str>>,
    summarised: &BTreeSet<&str>,
    again: &(dyn Fn(&str) -> bool + Sync),
    part_key: &(dyn Fn(&str) -> Option<String> + Sync),
    month_key: &(dyn Fn(&str) -> String + Sync),
    decode: fn(&[u8]) -> Option<G>,
) -> Option<Found<'f, G>> {
    // Each file is read into a buffer its worker reuses, and its parts decoded from there:
    // copied out of a new buffer each, every month's parts touched fresh memory twice. Only
    // a month written again keeps its parts.
    let read: Vec<Option<MonthRead<G>>> = months
        .par_iter()
        .map_init(Vec::new, |buf, (month, folders)| {
            let parts = cache.get_in(&month_key(month), buf);
            let decoded: Vec<(&str, Option<G>)> = folders
                .iter()
                .filter(|f| summarised.contains(*f))
                .map(|folder| {
                    let key = part_key(folder)?;
                    let stored = parts.iter().find(|(k, _)| *k == key);
                    Some((*folder, stored.and_then(|(_, b)| decode(b))))
                })
                .collect::<Option<_>>()?;
            let keep = again(month) || decoded.iter().any(|d| d.1.is_none());
            let kept: Kept = match keep {
                true => parts
                    .iter()
                    .map(|(k, b)| ((*k).to_owned(), b.to_vec()))
                    .collect(),
                false => Vec::new(),
            };
            Some((*month, decoded, kept))
        })
        .collect();
    let mut parts = Vec::new();
    let mut absent = Vec::new();
    let mut kept = HashMap::new();
    for read in read {
        let (month, decoded, bytes) = read?;
        for (folder, groups) in decoded {
            match groups {
                Some(groups) => parts.push((folder, groups)),
                None => absent.push(folder),
            }
        }
        if !bytes.is_empty() {
            kept.insert(month, bytes);
        }
    }
    absent.sort_unstable();
    Some((parts, absent, kept))
}

/// Writes again each month with a folder counted now (`new`): what was `kept` of its other
/// folders (when still current: `months` lists each month's folders) and the new parts,
/// encoded a month at a time (all at once, a journal's parts would be held twice). Each
/// part is encoded into one growing buffer and copied out at its size: grown part by part,
/// each part's own buffer would be copied and faulted in at every doubling.
fn write_back<'a, G: 'a>(
    cache: &PartCache,
    months: &BTreeMap<&str, Vec<&str>>,
    new: impl Iterator<Item = &'a (&'a str, G)>,
    mut kept: HashMap<&str, Kept>,
    part_key: &dyn Fn(&str) -> Option<String>,
    month_key: &dyn Fn(&str) -> String,
    encode: fn(&G, &mut Vec<u8>),
) {
    let mut by_month: BTreeMap<&str, Vec<&(&str, G)>> = BTreeMap::new();
    for part in new {
        by_month.entry(folder_of(part.0)).or_default().push(part);
    }
    let mut scratch = Vec::new();
    for (month, parts) in by_month {
        let mut fresh: Vec<(String, Vec<u8>)> = Vec::with_capacity(parts.len());
        for (folder, groups) in parts {
            if let Some(key) = part_key(folder) {
                scratch.clear();
                encode(groups, &mut scratch);
                fresh.push((key, scratch.clone()));
            }
        }
        if fresh.is_empty() {
            continue;
        }
        let current: BTreeSet<String> = months
            .get(month)
            .into_iter()
            .flatten()
            .filter_map(|f| part_key(f))
            .collect();
        let old = kept.remove(month).unwrap_or_default();
        cache.merge(&month_key(month), fresh, old, |k| current.contains(k));
    }
}

/// The parts of the summarised day folders `absent` of `ledger` (quickly loaded at
/// `commit`; in path order), each window of them held in full from the folder cache and
/// counted by `count`; `None` when a window cannot be held or counted (a full load then
/// says why).
fn count_held<'l, G: Send>(
    store: &Store,
    commit: &str,
    ledger: &'l Ledger,
    trees: &HashMap<String, git2::Oid>,
    absent: &[&'l str],
    count: &Count<G>,
) -> Result<Option<Vec<(&'l str, G)>>, Error> {
    let Some(holder) = super::held::Holder::new(store, commit, ledger, trees)? else {
        return Ok(None);
    };
    let mut held: Vec<(&str, G)> = Vec::new();
    let counted = |l: &Ledger, wanted: &(dyn Fn(&str) -> bool + Sync)| {
        let Ok(parts) = count(l, wanted) else {
            return false;
        };
        for (folder, groups) in parts {
            if let Ok(n) = absent.binary_search(&folder) {
                held.push((absent[n], groups));
            }
        }
        true
    };
    Ok(holder
        .each_window(absent, &HashMap::new(), counted)
        .then_some(held))
}

/// The key of `folder`'s part: its tree id (from `trees`) and the correction targets it may
/// hold (`named`, from [`correction_targets`]); `None` when its tree is not listed.
pub(super) fn part_key(
    folder: &str,
    trees: &HashMap<String, git2::Oid>,
    named: &HashMap<&str, BTreeSet<&str>>,
) -> Option<String> {
    let tree = trees.get(folder)?;
    let names: Vec<&str> = named
        .get(folder)
        .map(|n| n.iter().copied().collect())
        .unwrap_or_default();
    Some(key::report_day(folder, *tree, &names))
}

/// The correction targets each day folder of `ledger` may hold (those it holds, for a
/// folder read in full; for a summarised folder, every target whose hash one of its records
/// has: never fewer than the true ones).
pub(super) fn correction_targets(ledger: &Ledger) -> HashMap<&str, BTreeSet<&str>> {
    let mut named: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (target, folders) in target_holders(ledger) {
        for folder in folders {
            named.entry(folder).or_default().insert(target);
        }
    }
    named
}

/// For each record a correction of `ledger` names, every day folder that may hold it: the
/// folder of the record when the ledger holds it in full, and each summarised folder one of
/// whose records has its id's hash (never fewer than the true one; more only on a hash
/// collision, which costs a miss, never a wrong part).
pub(super) fn target_holders(ledger: &Ledger) -> HashMap<&str, BTreeSet<&str>> {
    let targets: FxHashSet<&str> = ledger
        .contributions
        .iter()
        .flat_map(|c| c.reverses().into_iter().chain(c.supersedes()))
        .map(|t| t.value.as_str())
        .collect();
    let mut holders: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    if targets.is_empty() {
        return holders;
    }
    for t in &targets {
        if let Some(file) = ledger.index.file(RecordType::Contribution, t) {
            holders
                .entry(t)
                .or_default()
                .insert(day_folder_of(ledger.path(file)));
        }
    }
    let mut by_hash: FxHashMap<u64, Vec<&str>> = FxHashMap::default();
    for t in &targets {
        by_hash.entry(id_hash(t)).or_default().push(t);
    }
    for (path, s) in &ledger.elsewhere.folders {
        for h in &s.ids {
            for t in by_hash.get(h).into_iter().flatten() {
                holders.entry(t).or_default().insert(path.as_str());
            }
        }
    }
    holders
}

/// The parts kept in one file: (part key, bytes).
type Kept = Vec<(String, Vec<u8>)>;

/// What [`read_kept`] found: the parts of the folders, the folders without one, and the
/// bytes of the months written again.
type Found<'f, G> = (Vec<(&'f str, G)>, Vec<&'f str>, HashMap<&'f str, Kept>);

/// One month's file as [`read_kept`] read it: the month, each summarised folder's part
/// (if kept), and the file's parts when the month is written again.
type MonthRead<'f, G> = (&'f str, Vec<(&'f str, Option<G>)>, Kept);

/// Where each month's parts end in `keyed` (the position after its last), with the digest
/// that keys a checkpoint there: of the ledger's other entries and of every part key up to
/// it (see [`key::site_checkpoint`] and [`key::claims_checkpoint`]). None when a part has
/// no key (caching off, or a folder whose tree is not listed).
pub(super) fn month_ends<G>(keyed: &Keyed<'_, G>) -> Vec<(usize, [u8; 32])> {
    use sha2::{Digest, Sha256};
    let mut chain = Sha256::new();
    chain.update(keyed.context.as_bytes());
    let mut ends = Vec::new();
    for (at, (folder, key, _)) in keyed.parts.iter().enumerate() {
        let Some(key) = key else {
            return Vec::new();
        };
        chain.update((key.len() as u64).to_le_bytes());
        chain.update(key.as_bytes());
        let next = keyed.parts.get(at + 1).map(|(f, _, _)| folder_of(f));
        if next != Some(folder_of(folder)) {
            ends.push((at + 1, chain.clone().finalize().into()));
        }
    }
    ends
}

/// Where a checkpoint is kept among the month ends `ends` ([`month_ends`]) when adding
/// resumes at part `start`: at the end of the month before the last, which the next
/// commit's new folders (today's) seldom reach, unless adding starts past it.
pub(super) fn checkpoint_at(
    ends: &[(usize, [u8; 32])],
    start: usize,
) -> Option<&(usize, [u8; 32])> {
    ends.len()
        .checked_sub(2)
        .map(|k| &ends[k])
        .filter(|(end, _)| *end > start)
}

/// The folder a path is in (`contributions/2026/03/05` for a record in it).
pub(super) fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(f, _)| f)
}

/// Appends the encoding of a folder's groups to `out` (for the report cache).
fn encode_groups(groups: &Groups, out: &mut Vec<u8>) {
    put_u64(out, groups.len() as u64);
    for (key, t) in groups {
        put_u64(out, key.len() as u64);
        for word in key {
            put_str(out, word);
        }
        put_u64(out, t.count as u64);
        put_u64(out, t.other_currency as u64);
        for d in [t.hours, t.use_hours, t.amount, t.value] {
            out.extend_from_slice(&d.serialize());
        }
    }
}

/// Decodes what [`encode_groups`] wrote; `None` if it does not parse.
fn decode_groups(mut input: &[u8]) -> Option<Groups> {
    let input = &mut input;
    let n = usize::try_from(get_u64(input)?).ok()?;
    let mut out = Vec::with_capacity(n.min(input.len()));
    for _ in 0..n {
        let words = get_u64(input)?;
        let key = (0..words)
            .map(|_| get_str(input).map(str::to_owned))
            .collect::<Option<Vec<String>>>()?;
        let count = usize::try_from(get_u64(input)?).ok()?;
        let other_currency = usize::try_from(get_u64(input)?).ok()?;
        let t = report::Totals {
            count,
            other_currency,
            hours: decimal(input)?,
            use_hours: decimal(input)?,
            amount: decimal(input)?,
            value: decimal(input)?,
        };
        out.push((key, t));
    }
    input.is_empty().then_some(out)
}

/// Appends the encoding of a folder's hours of use to `out` (for the report cache).
fn encode_uses(uses: &UseHours, out: &mut Vec<u8>) {
    put_u64(out, uses.len() as u64);
    for (resource, project, h) in uses {
        put_str(out, resource.as_str());
        put_str(out, project.as_str());
        out.extend_from_slice(&h.serialize());
    }
}

/// Decodes what [`encode_uses`] wrote; `None` if it does not parse.
fn decode_uses(mut input: &[u8]) -> Option<UseHours> {
    let input = &mut input;
    let n = usize::try_from(get_u64(input)?).ok()?;
    let mut out = Vec::with_capacity(n.min(input.len()));
    for _ in 0..n {
        let resource = Id::parse(get_str(input)?).ok()?;
        let project = Id::parse(get_str(input)?).ok()?;
        out.push((resource, project, decimal(input)?));
    }
    input.is_empty().then_some(out)
}

/// A day folder's claims as the report cache keeps them ([`encode_claims`]), held so until
/// they are summed: as groups each (project, agent) pair takes two ids and five 16-byte
/// decimals, as bytes mostly its two ids' text and a few bytes a sum.
struct PackedClaims(Vec<u8>);

/// `groups`, packed.
fn pack_claims(groups: &ClaimGroups) -> PackedClaims {
    let mut out = Vec::with_capacity(8 + 40 * groups.len());
    encode_claims(groups, &mut out);
    PackedClaims(out)
}

/// Appends the encoding of a folder's claims to `out` (for the report cache).
fn encode_claims(groups: &ClaimGroups, out: &mut Vec<u8>) {
    put_u64(out, groups.len() as u64);
    for (project, agent, s) in groups {
        put_claim(
            out,
            project.as_str().as_bytes(),
            agent.as_str().as_bytes(),
            s,
        );
    }
}

/// Appends one (project, agent) row of [`encode_claims`].
fn put_claim(out: &mut Vec<u8>, project: &[u8], agent: &[u8], s: &ClaimSums) {
    put_bytes(out, project);
    put_bytes(out, agent);
    for d in s.figures() {
        put_short_decimal(out, d);
    }
}

/// Claims summed by project and agent, the ids borrowed from the parts' bytes (each checked
/// to be an id when first met: see [`add_claims`]).
type Sums<'a> = FxHashMap<&'a [u8], Agents<'a>>;

/// One project's claims summed by agent.
type Agents<'a> = FxHashMap<&'a [u8], ClaimSums>;

/// The claims of `keyed`'s parts summed by project and agent, in the order
/// [`report::claims_from`] adds them (so the sums are its, scale included); `None` if a part
/// does not read.
///
/// Adding 1,500 folders' parts took most of a report after a new commit, so, as the site
/// does (see `site`), the sums as they stand at the end of the month before the last are
/// kept as a checkpoint ([`key::claims_checkpoint`]), and summing resumes from the latest
/// month end whose checkpoint is kept. Each sum is set back exactly (scale and sign), so
/// the additions that follow are the ones a sum from the first part makes.
fn sum_claims(
    store: &Store,
    keyed: &Keyed<'_, PackedClaims>,
    query: &Query,
) -> Option<ClaimTotals> {
    let ends = month_ends(keyed);
    let checkpoints = AnswerCache::checkpoints(store).filter(|_| !ends.is_empty());
    let key = |chain: &[u8; 32]| key::claims_checkpoint(chain, query);
    let kept = checkpoints.as_ref().and_then(|cache| {
        ends.iter().rev().find_map(|(end, chain)| {
            let (_, bytes) = cache.get(&key(chain))?;
            // One that does not read is a miss, as one not kept.
            add_claims(&mut Sums::default(), &bytes)?;
            Some((*end, bytes))
        })
    });
    let (start, restored) = kept.unwrap_or_default();
    let mut sums: Sums<'_> = FxHashMap::default();
    if start > 0 {
        add_claims(&mut sums, &restored)?;
    }
    let keep = checkpoint_at(&ends, start);
    for (at, (_, _, part)) in keyed.parts.iter().enumerate().skip(start) {
        if let (Some(cache), Some((end, chain))) = (&checkpoints, keep)
            && *end == at
        {
            cache.put(&key(chain), 0, &encode_sums(&sums));
        }
        add_claims(&mut sums, &part.0)?;
    }
    totals_of(sums)
}

/// `sums` with their ids parsed; `None` if one is not an id.
fn totals_of(sums: Sums<'_>) -> Option<ClaimTotals> {
    let id = |b: &[u8]| Id::parse(std::str::from_utf8(b).ok()?).ok();
    sums.into_iter()
        .map(|(project, agents)| {
            let agents = agents
                .into_iter()
                .map(|(a, s)| Some((id(a)?, s)))
                .collect::<Option<_>>()?;
            Some((id(project)?, agents))
        })
        .collect()
}

/// Adds the claims `bytes` hold ([`encode_claims`]) to `sums`; `None` if they do not read,
/// or name an id that is not one.
///
/// A cold report at a million records adds about a million rows here, on one core while
/// the other waits, so a row costs as little as it can: its ids are checked only when first
/// met (bytes equal to a key's are that key's id), and a run of rows of one project (a part
/// is sorted by project) looks the project up once.
fn add_claims<'a>(sums: &mut Sums<'a>, bytes: &'a [u8]) -> Option<()> {
    let mut input = bytes;
    let input = &mut input;
    let mut run: Option<(&[u8], &mut Agents<'a>)> = None;
    for _ in 0..get_u64(input)? {
        let project = get_bytes(input)?;
        let agent = get_bytes(input)?;
        let s = claim_sums_read(input, short_decimal)?;
        let agents = match run.take() {
            Some((p, agents)) if p == project => agents,
            _ => match sums.entry(project) {
                Entry::Occupied(agents) => agents.into_mut(),
                Entry::Vacant(slot) => {
                    is_id(project).then_some(())?;
                    slot.insert(Agents::default())
                }
            },
        };
        match agents.entry(agent) {
            Entry::Occupied(total) => total.into_mut().add(&s),
            Entry::Vacant(slot) => {
                is_id(agent).then_some(())?;
                slot.insert(s);
            }
        }
        run = Some((project, agents));
    }
    input.is_empty().then_some(())
}

/// Whether `bytes` are an id's text.
fn is_id(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| Id::check(s).is_ok())
}

/// Claim sums written as five decimals, in [`ClaimSums::figures`]' order, each read by
/// `decimal` (the claims parts' short form, or the site's whole one).
pub(super) fn claim_sums_read(
    input: &mut &[u8],
    decimal: impl Fn(&mut &[u8]) -> Option<Decimal>,
) -> Option<ClaimSums> {
    Some(ClaimSums {
        equity: decimal(input)?,
        debt_owed: decimal(input)?,
        debt_repaid: decimal(input)?,
        debt_outstanding: decimal(input)?,
        once_pending: decimal(input)?,
    })
}

/// `sums` as a checkpoint: encoded as a part is ([`encode_claims`]), sorted by project and
/// agent so that the same sums are the same bytes.
fn encode_sums(sums: &Sums<'_>) -> Vec<u8> {
    let mut rows: Vec<(&[u8], &[u8], &ClaimSums)> = sums
        .iter()
        .flat_map(|(p, agents)| agents.iter().map(move |(a, s)| (*p, *a, s)))
        .collect();
    rows.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut out = Vec::with_capacity(8 + 48 * rows.len());
    put_u64(&mut out, rows.len() as u64);
    for (project, agent, s) in rows {
        put_claim(&mut out, project, agent, s);
    }
    out
}

/// A decimal as [`Decimal::serialize`] wrote it.
fn decimal(input: &mut &[u8]) -> Option<Decimal> {
    let (d, rest) = input.split_first_chunk::<16>()?;
    *input = rest;
    Some(Decimal::deserialize(*d))
}

/// Appends `d` in as few bytes as its digits need (most claim sums are zero or small): a
/// byte counting the 32-bit words of its mantissa that are not high zeros (0-3), its flags
/// word (sign and scale), then those words, as [`Decimal::serialize`] orders them.
fn put_short_decimal(out: &mut Vec<u8>, d: Decimal) {
    let raw = d.serialize();
    let words = (1..4)
        .rev()
        .find(|&w| raw[4 * w..4 * w + 4] != [0; 4])
        .unwrap_or(0);
    out.push(words as u8);
    out.extend_from_slice(&raw[..4 + 4 * words]);
}

/// Reads what [`put_short_decimal`] wrote; `None` unless it is a decimal written so.
fn short_decimal(input: &mut &[u8]) -> Option<Decimal> {
    let (&words, rest) = input.split_first()?;
    if words > 3 {
        return None;
    }
    let len = 4 + 4 * usize::from(words);
    let bytes = rest.get(..len)?;
    *input = &rest[len..];
    // Word by word into `from_parts`, not through a 16-byte array into `deserialize` (five
    // decimals a row of a claims part, a million rows a cold report): a third of the cost.
    let word = |w: usize| {
        bytes
            .get(4 * w..4 * w + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (flags, lo, mid, hi) = (word(0), word(1), word(2), word(3));
    // Only what `serialize` writes reads back: the sign and a scale up to 28, no other
    // flag bit; and no sum past what a ledger can hold, so adding the parts up cannot
    // overflow.
    let (negative, scale) = (flags >> 31 == 1, (flags >> 16) & 0x1F);
    if flags & !0x801F_0000 != 0 || scale > 28 {
        return None;
    }
    let d = if negative && lo | mid | hi == 0 {
        // A negative zero, which `from_parts` makes positive: a sum's sign is kept as is.
        let mut raw = [0; 16];
        raw[..4].copy_from_slice(&flags.to_le_bytes());
        Decimal::deserialize(raw)
    } else {
        Decimal::from_parts(lo, mid, hi, negative, scale)
    };
    within_max_sum(&d).then_some(d)
}

/// `|d| <= MAX_SUM`, by the mantissa against the bound at `d`'s scale (a decimal comparison
/// rescales one side: millions of sums are read for one report).
fn within_max_sum(d: &Decimal) -> bool {
    let mantissa = d.mantissa().unsigned_abs();
    match MAX_SUM_AT.get(d.scale() as usize) {
        Some(&bound) => mantissa <= bound,
        // At 8 places the bound's mantissa (2e29) is past any decimal's (below 2^96).
        None => true,
    }
}

/// [`MAX_SUM`]'s mantissa at scales 0 to 7.
const MAX_SUM_AT: [u128; 8] = {
    let mut at = [0u128; 8];
    let mut scale = 0;
    let mut bound = MAX_SUM.mantissa() as u128;
    while scale < 8 {
        at[scale] = bound;
        bound *= 10;
        scale += 1;
    }
    at
};

/// The most any claim sum can be: the largest claim ([`crate::core::bounds::MAX_CLAIM`], 2e13) times the
/// most records a ledger may hold ([`crate::core::bounds::MAX_RECORDS`], 1e8), 2e21.
const MAX_SUM: Decimal = Decimal::from_parts(3_175_088_128, 1_804_819_339, 108, false, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::bounds;

    #[test]
    fn a_short_decimal_reads_back_exactly_and_a_damaged_one_does_not() {
        let values = [
            Decimal::ZERO,
            Decimal::new(0, 2),
            -Decimal::new(0, 2),
            Decimal::new(1250, 2),
            Decimal::new(-7, 0),
            Decimal::new(1 << 40, 3),
            MAX_SUM,
            -MAX_SUM,
            Decimal::from_i128_with_scale(1 << 70, 28),
        ];
        for d in values {
            let mut out = Vec::new();
            put_short_decimal(&mut out, d);
            let mut input = out.as_slice();
            let back = short_decimal(&mut input).unwrap();
            assert!(input.is_empty());
            // Equal, and the same scale and sign: the same bytes.
            assert_eq!(back.serialize(), d.serialize(), "{d}");
            assert_eq!(short_decimal(&mut &out[..out.len() - 1]), None);
        }
        // The bound is the largest claim times the most records.
        assert_eq!(
            Some(MAX_SUM),
            bounds::MAX_CLAIM.checked_mul(Decimal::from(bounds::MAX_RECORDS))
        );
        // At every scale, up to the bound and no further.
        for scale in 0..=28 {
            let unit = Decimal::new(1, scale);
            let mut at = MAX_SUM;
            at.rescale(scale);
            if at.scale() != scale {
                // Past 7 places the bound has more digits than a decimal holds.
                continue;
            }
            for (d, reads) in [
                (at, true),
                (-at, true),
                (at + unit, false),
                (-at - unit, false),
            ] {
                let mut out = Vec::new();
                put_short_decimal(&mut out, d);
                assert_eq!(short_decimal(&mut out.as_slice()).is_some(), reads, "{d}");
            }
        }
        // Four words, or flag bits `serialize` never sets, do not read.
        assert_eq!(short_decimal(&mut &[4u8, 0, 0, 0, 0][..]), None);
        assert_eq!(short_decimal(&mut &[0u8, 1, 0, 0, 0][..]), None);
        // A flags word reads exactly when `deserialize` keeps it as it is (each bit alone,
        // and each scale, either sign).
        let flag_words = (0..32u32)
            .map(|bit| 1 << bit)
            .chain((0..32u32).map(|scale| scale << 16))
            .chain((0..32u32).map(|scale| 0x8000_0000 | scale << 16));
        for flags in flag_words {
            let mut raw = [0u8; 16];
            raw[..4].copy_from_slice(&flags.to_le_bytes());
            raw[4] = 7;
            let kept = Decimal::deserialize(raw).serialize() == raw;
            let mut bytes = vec![1u8];
            bytes.extend_from_slice(&raw[..8]);
            let read = short_decimal(&mut bytes.as_slice());
            assert_eq!(read.is_some(), kept, "{flags:#x}");
            assert!(read.is_none_or(|d| d.serialize() == raw), "{flags:#x}");
        }
        // Zero and small sums take few bytes.
        let mut out = Vec::new();
        put_short_decimal(&mut out, Decimal::ZERO);
        put_short_decimal(&mut out, Decimal::new(1250, 2));
        assert_eq!(out.len(), 5 + 9);
    }

    #[test]
    fn packed_claims_sum_as_the_groups_do() {
        let id = |s: &str| Id::parse(s).unwrap();
        let sums = |equity: i64, scale: u32| ClaimSums {
            equity: Decimal::new(equity, scale),
            debt_owed: Decimal::new(5, 1),
            debt_repaid: Decimal::ZERO,
            debt_outstanding: Decimal::new(5, 1),
            once_pending: Decimal::ZERO,
        };
        let folders: Vec<ClaimGroups> = vec![
            vec![
                (id("air"), id("ana"), sums(100, 0)),
                (id("air"), id("ben"), sums(250, 2)),
            ],
            vec![],
            vec![
                (id("air"), id("ana"), sums(1, 1)),
                (id("sea"), id("ana"), sums(3, 0)),
            ],
        ];
        let packed: Vec<PackedClaims> = folders.iter().map(pack_claims).collect();
        let mut expected = ClaimTotals::default();
        for (project, agent, s) in folders.into_iter().flatten() {
            let agents = expected.entry(project).or_default();
            match agents.get_mut(&agent) {
                Some(total) => total.add(&s),
                None => {
                    agents.insert(agent, s);
                }
            }
        }
        let sum = |parts: &[PackedClaims]| {
            let mut sums = Sums::default();
            for p in parts {
                add_claims(&mut sums, &p.0)?;
            }
            totals_of(sums)
        };
        let totals = sum(&packed).unwrap();
        assert_eq!(totals, expected);
        // 100 + 0.1, with the scale the sum has.
        assert_eq!(totals[&id("air")][&id("ana")].equity.to_string(), "100.1");
        // A cut part, or one naming an id that is not one, does not read.
        let cut = PackedClaims(packed[0].0[..packed[0].0.len() - 1].to_vec());
        assert_eq!(sum(&[cut]), None);
        let mut bad = packed[0].0.clone();
        let at = bad.windows(3).position(|w| w == b"ana").unwrap();
        bad[at] = b'A';
        assert_eq!(sum(&[PackedClaims(bad)]), None);

        // Summing resumed from a checkpoint after any part is summing from the first part:
        // every figure the same, scale and sign included.
        let bytes = |t: &ClaimTotals| -> Vec<[u8; 16]> {
            let projects: BTreeMap<&Id, _> = t.iter().collect();
            projects
                .values()
                .flat_map(|a| a.values())
                .flat_map(|s| s.figures().map(|d| d.serialize()))
                .collect()
        };
        for at in 0..=packed.len() {
            let mut before = Sums::default();
            for p in &packed[..at] {
                add_claims(&mut before, &p.0).unwrap();
            }
            let checkpoint = encode_sums(&before);
            let mut sums = Sums::default();
            add_claims(&mut sums, &checkpoint).unwrap();
            for p in &packed[at..] {
                add_claims(&mut sums, &p.0).unwrap();
            }
            let resumed = totals_of(sums).unwrap();
            assert_eq!(resumed, totals, "resumed after part {at}");
            assert_eq!(bytes(&resumed), bytes(&totals), "resumed after part {at}");
            // The same sums are the same bytes, whatever order they were met in.
            assert_eq!(encode_sums(&before), checkpoint);
        }
    }
}
