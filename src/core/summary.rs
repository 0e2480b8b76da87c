//! Summaries of day folders: what the ledger-wide checks need to know about a folder of
//! clean contributions, without the records themselves.
//!
//! A quick load (`cache::CachedRead::load_revision_for`) stands for a cached day folder by its summary
//! instead of its records when a command does not need them: `ovn check` needs none, a
//! payout preview only its project's. The summary is enough to *prove* a ledger clean; it
//! never produces a diagnostic. Whenever it cannot prove a rule holds (two ids that may be
//! equal, a day over 24 hours, a name no record has) the store loads the ledger in full and
//! the full checks say exactly what is wrong, so a quick load and a full load always reach
//! the same verdict.

use rayon::prelude::*;
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::codec;
use super::ledger::split_ascii;
use super::record::{Contribution, Kind};
use super::value::Id;

/// The version of [`FolderSummary::encode`]'s format, part of every stored summary's key.
pub const FORMAT: u32 = 2;

/// What the checks need from one folder of clean contributions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderSummary {
    /// [`id_hash`] of each record's id, in file-name order.
    pub ids: Vec<u64>,
    /// Each record's project, as a position in `projects`.
    pub record_project: Vec<u32>,
    /// Where each record starts among the folder cache entry's records (byte offset), so
    /// a few can be decoded without the rest.
    pub offsets: Vec<u32>,
    /// The projects named, sorted, once each.
    pub projects: Names,
    /// The agents named, sorted, once each.
    pub agents: Names,
    /// The resources named, sorted, once each.
    pub resources: Names,
    /// The skills named, sorted, once each.
    pub skills: Vec<String>,
    /// The records that correct another (`reverses` or `supersedes`), by position.
    pub corrections: Vec<u32>,
    /// The ids those corrections name, each as often as it is named (an id named twice is
    /// a record corrected twice, which only a full load reports).
    pub targets: Vec<Id>,
    /// Those of `targets` that no record of this folder has (corrections of earlier days),
    /// sorted, once each: only these need looking up elsewhere.
    pub foreign: Vec<Id>,
    /// The most hours any agent has on the folder's day, counting every record the
    /// hours-per-day check could count (corrections elsewhere can only lower it).
    pub max_day_hours: Decimal,
}

/// Ids, sorted, kept in one string (a summary is read for every day folder on every quick
/// load: a thousand folders naming two hundred agents each are one string each, not two
/// hundred thousand shared ids).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names(String);

impl Names {
    /// The ids, sorted and distinct, made from `ids`.
    pub fn new(mut ids: Vec<Id>) -> Names {
        ids.sort_unstable();
        ids.dedup();
        let mut text = String::with_capacity(ids.iter().map(|i| i.as_str().len() + 1).sum());
        for id in &ids {
            // Ids never hold a newline.
            text.push_str(id.as_str());
            text.push('\n');
        }
        Names(text)
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        // As written: every id followed by a newline.
        self.0
            .strip_suffix('\n')
            .into_iter()
            .flat_map(|ids| split_ascii(ids, b'\n'))
    }
}

/// A 64-bit hash of an id, the same on every machine (FNV-1a, then a finaliser). Equal ids
/// hash equal; unequal ids almost never do, and when they do the quick load only gives up
/// and loads in full: nothing is ever decided on a hash alone.
pub fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in id.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // murmur3's fmix64: FNV alone leaves the high bits of short keys poorly mixed.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Summarises one day folder's records (all dated that day, every one clean), with their
/// `offsets` in the cache entry. `None` when a record names itself as the one it corrects, or
/// has an amount in a named currency (whether an exchange rate converts it depends on records
/// elsewhere): that is the checks' business, so such a folder is always read in full.
///
/// Somewhat over a hundred lines: one pass over the records gathering every field of the
/// summary at once, which is the point (each record is a pointer to follow).
pub fn summarise(records: &[&Contribution], offsets: Vec<u32>) -> Option<FolderSummary> {
    // One pass over the records (each is a pointer to follow, a cache miss apiece). Names
    // are collected by the address of their shared text (no text hashed or compared per
    // record), then sorted and made distinct by text, once per folder.
    fn sorted(set: HashMap<usize, &Id>) -> Vec<Id> {
        let mut v: Vec<Id> = set.into_values().cloned().collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    fn names(set: HashMap<usize, &Id>) -> Names {
        Names::new(set.into_values().cloned().collect())
    }
    let n = records.len();
    let mut ids = Vec::with_capacity(n);
    let (mut projects, mut agents, mut resources) =
        (HashMap::default(), HashMap::default(), HashMap::default());
    let mut skills: HashSet<&String> = HashSet::default();
    let mut corrections = Vec::new();
    let mut targets: Vec<Id> = Vec::new();
    let mut day: HashMap<usize, Decimal> = HashMap::default();
    let mut max_day_hours = Decimal::ZERO;
    for (k, c) in records.iter().enumerate() {
        if c.currency().is_some() {
            return None;
        }
        ids.push(id_hash(c.id.value.as_str()));
        projects.insert(c.project.value.addr(), &c.project.value);
        agents.insert(c.agent.value.addr(), &c.agent.value);
        if let Some(r) = &c.resource {
            resources.insert(r.value.addr(), &r.value);
        }
        if let Some(skill) = &c.skill {
            skills.insert(skill);
        }
        let named = [c.reverses(), c.supersedes()].into_iter().flatten();
        for t in named {
            if t.value == c.id.value {
                return None;
            }
            if corrections.last() != Some(&(k as u32)) {
                corrections.push(k as u32);
            }
            targets.push(t.value.clone());
        }
        // As the hours-per-day check counts, less what corrections elsewhere take away.
        if let Some(h) = &c.hours
            && c.kind != Kind::Use
            && c.reverses().is_none()
        {
            let total = day.entry(c.agent.value.addr()).or_default();
            *total += h.value;
            max_day_hours = max_day_hours.max(*total);
        }
    }
    // Keyed by address, one agent read twice (not shared) would have two totals: add them
    // up by name in that rare case.
    if agents.len()
        > agents
            .values()
            .map(|a| a.as_str())
            .collect::<HashSet<_>>()
            .len()
    {
        let mut by_name: HashMap<&str, Decimal> = HashMap::default();
        for (addr, total) in &day {
            *by_name.entry(agents[addr].as_str()).or_default() += *total;
        }
        max_day_hours = by_name.into_values().max().unwrap_or_default();
    }
    let place: HashMap<usize, u32> = {
        let list: Vec<Id> = sorted(projects.clone());
        projects
            .iter()
            .map(|(addr, p)| (*addr, list.binary_search(p).unwrap_or(0) as u32))
            .collect()
    };
    let record_project = records
        .iter()
        .map(|c| place[&c.project.value.addr()])
        .collect();
    let foreign = if targets.is_empty() {
        Vec::new()
    } else {
        let own: HashSet<&Id> = records.iter().map(|c| &c.id.value).collect();
        let mut v: Vec<Id> = targets
            .iter()
            .filter(|t| !own.contains(t))
            .cloned()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut skills: Vec<String> = skills.into_iter().cloned().collect();
    skills.sort_unstable();
    Some(FolderSummary {
        ids,
        record_project,
        offsets,
        projects: names(projects),
        agents: names(agents),
        resources: names(resources),
        skills,
        corrections,
        targets,
        foreign,
        max_day_hours,
    })
}

impl FolderSummary {
    /// Appends the summary's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let n = self.ids.len();
        codec::put_u64(out, n as u64);
        for i in 0..n {
            out.extend_from_slice(&self.ids[i].to_le_bytes());
            codec::put_u64(out, u64::from(self.record_project[i]));
            codec::put_u64(out, u64::from(self.offsets[i]));
        }
        for names in [&self.projects, &self.agents, &self.resources] {
            codec::put_str(out, &names.0);
        }
        for list in [&self.targets, &self.foreign] {
            codec::put_u64(out, list.len() as u64);
            for id in list {
                codec::put_str(out, id.as_str());
            }
        }
        codec::put_u64(out, self.skills.len() as u64);
        for s in &self.skills {
            codec::put_str(out, s);
        }
        codec::put_u64(out, self.corrections.len() as u64);
        for &c in &self.corrections {
            codec::put_u64(out, u64::from(c));
        }
        out.extend_from_slice(&self.max_day_hours.serialize());
    }

    /// Decodes a summary that [`FolderSummary::encode`] wrote; `None` if it does not parse.
    pub fn decode(mut input: &[u8]) -> Option<FolderSummary> {
        let input = &mut input;
        let small = |input: &mut &[u8]| u32::try_from(codec::get_u64(input)?).ok();
        let n = usize::try_from(codec::get_u64(input)?).ok()?;
        // Bounded by what the input could hold, so a damaged count cannot ask for much.
        let cap = n.min(input.len() / 10);
        let mut s = FolderSummary {
            ids: Vec::with_capacity(cap),
            record_project: Vec::with_capacity(cap),
            offsets: Vec::with_capacity(cap),
            ..FolderSummary::default()
        };
        for _ in 0..n {
            let (hash, rest) = input.split_first_chunk::<8>()?;
            *input = rest;
            s.ids.push(u64::from_le_bytes(*hash));
            s.record_project.push(small(input)?);
            s.offsets.push(small(input)?);
        }
        let ids = |input: &mut &[u8]| -> Option<Vec<Id>> {
            let k = codec::get_u64(input)?;
            (0..k)
                .map(|_| Id::parse(codec::get_str(input)?).ok())
                .collect()
        };
        let names = |input: &mut &[u8]| -> Option<Names> {
            let text = codec::get_str(input)?;
            // As written: each id valid and followed by a newline.
            let sound = text.is_empty()
                || text
                    .strip_suffix('\n')
                    .is_some_and(|ids| split_ascii(ids, b'\n').all(|id| Id::check(id).is_ok()));
            sound.then(|| Names(text.to_owned()))
        };
        s.projects = names(input)?;
        s.agents = names(input)?;
        s.resources = names(input)?;
        s.targets = ids(input)?;
        s.foreign = ids(input)?;
        let k = codec::get_u64(input)?;
        s.skills = (0..k)
            .map(|_| codec::get_str(input).map(str::to_owned))
            .collect::<Option<_>>()?;
        let k = codec::get_u64(input)?;
        s.corrections = (0..k).map(|_| small(input)).collect::<Option<_>>()?;
        let (hours, rest) = input.split_first_chunk::<16>()?;
        s.max_day_hours = Decimal::deserialize(*hours);
        let projects = s.projects.iter().count();
        let sound = rest.is_empty()
            && s.record_project.iter().all(|&p| (p as usize) < projects)
            && s.corrections.iter().all(|&c| (c as usize) < n);
        sound.then_some(s)
    }
}

/// The corrections of one summarised folder as (id hash, target hash) pairs, or `None`
/// when its targets do not line up one to one with its corrections (never for a folder of
/// clean records, each of which names one target at most).
pub fn correction_edges(s: &FolderSummary) -> Option<impl Iterator<Item = (u64, u64)> + '_> {
    if s.corrections.len() != s.targets.len() {
        return None;
    }
    let mut edges = Vec::with_capacity(s.corrections.len());
    for (&k, t) in s.corrections.iter().zip(&s.targets) {
        edges.push((*s.ids.get(k as usize)?, id_hash(t.as_str())));
    }
    Some(edges.into_iter())
}

/// Whether corrections, as (id hash, target hash) pairs, may loop (correction-loop): a
/// loop of hashes, or one id hash correcting twice (unequal ids with one hash). Either
/// way only a full load can tell.
pub fn corrections_may_loop(edges: impl Iterator<Item = (u64, u64)>) -> bool {
    let mut next: HashMap<u64, u64> = HashMap::default();
    for (from, to) in edges {
        if next.insert(from, to).is_some() {
            return true;
        }
    }
    // Each id walked once: 1 while on the current path, 2 when done.
    let mut state: HashMap<u64, u8> = HashMap::default();
    let mut path = Vec::new();
    for &start in next.keys() {
        let mut at = start;
        let looped = loop {
            match state.get(&at) {
                Some(2) => break false,
                Some(_) => break true,
                None => {}
            }
            let Some(&to) = next.get(&at) else {
                break false;
            };
            state.insert(at, 1);
            path.push(at);
            at = to;
        };
        if looped {
            return true;
        }
        for p in path.drain(..) {
            state.insert(p, 2);
        }
    }
    false
}

/// Every hash of `lists`, sorted: bucketed by their top 16 bits, then each small bucket
/// sorted. Hashes are spread evenly, so this is a few passes over the data where a
/// comparison sort of a million would take twenty.
///
/// On all cores: a quick load after one new commit waited on this, on one core, for a
/// tenth of its time at a million records. The lists are split into a few groups, each
/// bucketed into a buffer of its own; then each range of buckets is gathered from every
/// group's buffer into its own slice of the result and sorted there.
pub fn sorted_hashes(lists: &[&[u64]]) -> Vec<u64> {
    const BUCKETS: usize = 1 << 16;
    let bucket = |h: u64| (h >> 48) as usize;
    let total: usize = lists.iter().map(|l| l.len()).sum();
    // Groups of lists of about equal size, one a core.
    let per_group = total.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let mut groups: Vec<&[&[u64]]> = Vec::new();
    let (mut from, mut size) = (0, 0);
    for (k, list) in lists.iter().enumerate() {
        size += list.len();
        if size >= per_group || k + 1 == lists.len() {
            groups.push(&lists[from..=k]);
            (from, size) = (k + 1, 0);
        }
    }
    // Each group's hashes, bucketed in a buffer of its own, and where each bucket starts
    // in it.
    let bucketed: Vec<(Vec<usize>, Vec<u64>)> = groups
        .par_iter()
        .map(|group| {
            let mut starts = vec![0usize; BUCKETS + 1];
            for &h in group.iter().copied().flatten() {
                starts[bucket(h) + 1] += 1;
            }
            for i in 1..starts.len() {
                starts[i] += starts[i - 1];
            }
            let mut out = vec![0u64; starts[BUCKETS]];
            let mut next = starts.clone();
            for &h in group.iter().copied().flatten() {
                let b = bucket(h);
                out[next[b]] = h;
                next[b] += 1;
            }
            (starts, out)
        })
        .collect();
    // Where each bucket starts in the result: its size summed over the groups.
    let mut starts = vec![0usize; BUCKETS + 1];
    for b in 0..BUCKETS {
        let size: usize = bucketed.iter().map(|(s, _)| s[b + 1] - s[b]).sum();
        starts[b + 1] = starts[b] + size;
    }
    // Ranges of buckets, each gathered into its own slice of the result and sorted.
    let ranges = (rayon::current_num_threads() * 4).clamp(1, BUCKETS);
    let per_range = BUCKETS.div_ceil(ranges);
    let mut out = vec![0u64; total];
    let mut slices = Vec::with_capacity(ranges);
    let mut rest = out.as_mut_slice();
    for lo in (0..BUCKETS).step_by(per_range) {
        let hi = (lo + per_range).min(BUCKETS);
        let (slice, tail) = rest.split_at_mut(starts[hi] - starts[lo]);
        slices.push((lo..hi, slice));
        rest = tail;
    }
    slices.into_par_iter().for_each(|(range, slice)| {
        let mut at = 0;
        for b in range {
            let begin = at;
            for (s, hashes) in &bucketed {
                let part = &hashes[s[b]..s[b + 1]];
                slice[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            slice[begin..at].sort_unstable();
        }
    });
    out
}

/// Contributions a partly loaded ledger stands for without holding them: those of the day
/// folders a quick load took from their summaries. Empty in a full load.
#[derive(Clone, Debug, Default)]
pub struct Elsewhere {
    /// How many records (and files: every file of a summarised folder is a record).
    pub records: usize,
    /// [`id_hash`] of every id held elsewhere, sorted.
    pub ids: Vec<u64>,
    /// Every skill they name.
    pub skills: HashSet<String>,
    /// Every id their corrections name.
    pub replaced: HashSet<Id>,
    /// The summarised day folders (path and summary), in path order.
    pub folders: Vec<(String, FolderSummary)>,
}

impl Elsewhere {
    /// Whether a contribution with this id may be among them. A yes is only a maybe: the
    /// store confirms every id it was asked about against the folders' file names before
    /// it trusts a quick load.
    pub fn may_hold(&self, id: &str) -> bool {
        !self.ids.is_empty() && self.ids.binary_search(&id_hash(id)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_spreads_near_ids() {
        let ids: Vec<String> = (0..10_000)
            .map(|n| format!("01gnna1j0000j32sb4x{n:07}"))
            .collect();
        let mut hashes: Vec<u64> = ids.iter().map(|s| id_hash(s)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), ids.len());
        assert_eq!(id_hash("abc"), id_hash("abc"));
    }

    #[test]
    fn hashes_sort() {
        let a: Vec<u64> = (0..5000u64).map(|n| id_hash(&n.to_string())).collect();
        let b = vec![u64::MAX, 0, 1 << 63, 7];
        let got = sorted_hashes(&[a.as_slice(), b.as_slice(), &[]]);
        let mut want: Vec<u64> = a.iter().chain(&b).copied().collect();
        want.sort_unstable();
        assert_eq!(got, want);
        // Many lists of every size (none, one of them alone, most of the hashes in one),
        // repeats included, gathered alike on one core and on several.
        let mut next = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = || {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            next
        };
        let mut lists: Vec<Vec<u64>> = (0..200)
            .map(|n| (0..n % 37).map(|_| random()).collect())
            .collect();
        lists.push((0..20_000).map(|_| random()).collect());
        lists[7].extend([3, 3, u64::MAX, 0]);
        let refs: Vec<&[u64]> = lists.iter().map(Vec::as_slice).collect();
        let mut want: Vec<u64> = lists.iter().flatten().copied().collect();
        want.sort_unstable();
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                pool.install(|| sorted_hashes(&refs)),
                want,
                "{threads} threads"
            );
        }
        assert_eq!(sorted_hashes(&[]), Vec::<u64>::new());
        assert_eq!(sorted_hashes(&[&[], &[]]), Vec::<u64>::new());
    }

    /// The contributions of one day folder, read as a ledger reads them.
    fn folder(records: &[(&str, &str, &str, &str)]) -> Vec<Contribution> {
        use crate::core::ledger::{RawFile, load};
        let mut files = vec![RawFile {
            path: "ovn.toml".into(),
            bytes: b"format = 1\nname = \"t\"\ncurrency = \"EUR\"\n".to_vec(),
        }];
        for (id, agent, project, extra) in records {
            files.push(RawFile {
                path: format!("contributions/2026/03/05/{id}.toml"),
                bytes: format!(
                    "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-03-05\nproject = \"{project}\"\n{extra}"
                )
                .into_bytes(),
            });
        }
        // The ledger-wide checks may complain (no agents here); every record must parse.
        let loaded = load(&files);
        assert_eq!(
            loaded.ledger.contributions.len(),
            records.len(),
            "{loaded:?}"
        );
        loaded
            .ledger
            .contributions
            .into_iter()
            .map(|c| *c)
            .collect()
    }

    #[test]
    fn a_summary_says_what_the_checks_need() {
        let work = |h: &str| format!("kind = \"work\"\ndescription = \"w\"\nhours = \"{h}\"\n");
        let cs = folder(&[
            ("a1", "ana", "drone", &work("10")),
            ("a2", "ana", "lab", &(work("9") + "skill = \"cad\"\n")),
            ("a3", "ben", "drone", &work("3")),
            // Use of a resource is the resource's time, not the agent's.
            (
                "a4",
                "ana",
                "lab",
                "kind = \"use\"\ndescription = \"u\"\nhours = \"20\"\nresource = \"laser\"\n",
            ),
            // A reversal adds no hours; it names a record here and one of another day.
            (
                "a5",
                "ana",
                "drone",
                "kind = \"work\"\ndescription = \"r\"\nreverses = \"a1\"\n",
            ),
            (
                "a6",
                "ben",
                "drone",
                &(work("1") + "supersedes = \"old1\"\n"),
            ),
        ]);
        let refs: Vec<&Contribution> = cs.iter().collect();
        let s = summarise(&refs, (0..6).map(|n| n * 100).collect()).unwrap();
        assert_eq!(s.ids, ["a1", "a2", "a3", "a4", "a5", "a6"].map(id_hash));
        let names = |v: &[Id]| v.iter().map(Id::as_str).collect::<Vec<_>>().join(",");
        let list = |n: &Names| n.iter().collect::<Vec<_>>().join(",");
        assert_eq!(list(&s.projects), "drone,lab");
        assert_eq!(s.record_project, [0, 1, 0, 1, 0, 0]);
        assert_eq!(list(&s.agents), "ana,ben");
        assert_eq!(list(&s.resources), "laser");
        assert_eq!(s.skills, ["cad"]);
        assert_eq!(s.corrections, [4, 5]);
        assert_eq!(names(&s.targets), "a1,old1");
        assert_eq!(names(&s.foreign), "old1");
        // ana: 10 + 9 (the use and the reversal do not count).
        assert_eq!(s.max_day_hours, Decimal::from(19));
        assert_eq!(s.offsets, [0, 100, 200, 300, 400, 500]);

        // Ids read separately (not shared) come to the same summary.
        let mut apart: Vec<Contribution> = cs.clone();
        for c in &mut apart {
            c.agent.value = Id::parse(c.agent.value.as_str()).unwrap();
            c.project.value = Id::parse(c.project.value.as_str()).unwrap();
        }
        let refs: Vec<&Contribution> = apart.iter().collect();
        assert_eq!(
            summarise(&refs, (0..6).map(|n| n * 100).collect()).as_ref(),
            Some(&s)
        );

        // A record correcting itself is the checks' to report: no summary.
        let own = folder(&[("b1", "ana", "lab", &(work("1") + "supersedes = \"b1\"\n"))]);
        assert_eq!(summarise(&[&own[0]], vec![0]), None);
    }

    #[test]
    fn encoding_round_trips_and_rejects_damage() {
        let s = FolderSummary {
            ids: vec![1, u64::MAX],
            record_project: vec![0, 1],
            offsets: vec![0, 300],
            projects: Names::new(vec![Id::parse("lab").unwrap(), Id::parse("air").unwrap()]),
            agents: Names::new(vec![Id::parse("ana").unwrap()]),
            resources: Names::default(),
            skills: vec!["cad".to_owned()],
            corrections: vec![1],
            targets: vec![Id::parse("x1").unwrap()],
            foreign: vec![Id::parse("x1").unwrap()],
            max_day_hours: Decimal::new(125, 1),
        };
        let mut bytes = Vec::new();
        s.encode(&mut bytes);
        assert_eq!(FolderSummary::decode(&bytes), Some(s));
        assert_eq!(FolderSummary::decode(&bytes[..bytes.len() - 1]), None);
        bytes.push(0);
        assert_eq!(FolderSummary::decode(&bytes), None);
    }
}
