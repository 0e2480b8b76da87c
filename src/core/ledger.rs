//! A whole ledger: where each file belongs, reading all of them, and the checked result.
//!
//! [`load`] is the one entry point from raw files (path + bytes, from a working tree or from
//! git objects: the core does not care which) to records and diagnostics. Files are parsed in
//! parallel; everything that reaches the output is sorted, so the result never depends on the
//! order the files arrived in or on thread scheduling.
//!
//! There is one reading pipeline, [`load_files`]: the settings from `ovn.toml` first, then
//! one [`Outcome`] per file from a [`Parser`], then the ledger-wide checks. What differs
//! between callers is said in its arguments, not in other functions: how the files arrive (a
//! handle per path, and a `produce` step that turns handles into outcomes: files in memory,
//! a working tree read on all cores, git packs decoded in parallel, a cache's decoded
//! entries) and what stands for contributions not read (`elsewhere`, empty for a whole
//! ledger). [`load`] is the convenience for files already in memory. Above the store,
//! commands load through `ops::load` alone.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::checks;
use super::diag::{self, Code, Diagnostic};
use super::fx::{self, ExchangeRate};
use super::parse::{self, Settings};
use super::payment::{self, Payment};
use super::read::{self, Source};
use super::record::{
    Agent, Agreement, Approval, Contribution, FileId, Network, PayoutRecord, Project, Resource,
};
use super::summary::Elsewhere;
use super::value::Id;

/// The network settings file at the ledger root.
pub const NETWORK_FILE: &str = "ovn.toml";
/// The placeholder that keeps an empty record folder in git.
pub const KEEP_FILE: &str = ".gitkeep";

/// A file as read from a working tree or a git tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFile {
    /// Path relative to the ledger root, `/`-separated.
    pub path: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// The record types, each with its folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    /// `agents/`
    Agent,
    /// `projects/`
    Project,
    /// `resources/`
    Resource,
    /// `agreements/`
    Agreement,
    /// `contributions/<yyyy>/<mm>/<dd>/`
    Contribution,
    /// `payouts/<yyyy>/`
    Payout,
    /// `approvals/<yyyy>/<mm>/<dd>/`
    Approval,
    /// `payments/<yyyy>/`
    Payment,
    /// `rates/<yyyy>/`: exchange rates (see [`super::fx`])
    Rate,
}

impl RecordType {
    /// All record types, in documentation order.
    pub const ALL: [RecordType; 9] = [
        RecordType::Agent,
        RecordType::Project,
        RecordType::Resource,
        RecordType::Agreement,
        RecordType::Contribution,
        RecordType::Payout,
        RecordType::Approval,
        RecordType::Payment,
        RecordType::Rate,
    ];

    /// The top-level folder holding this type.
    pub fn folder(self) -> &'static str {
        match self {
            RecordType::Agent => "agents",
            RecordType::Project => "projects",
            RecordType::Resource => "resources",
            RecordType::Agreement => "agreements",
            RecordType::Contribution => "contributions",
            RecordType::Payout => "payouts",
            RecordType::Approval => "approvals",
            RecordType::Payment => "payments",
            RecordType::Rate => "rates",
        }
    }

    /// The singular noun used in messages.
    pub fn noun(self) -> &'static str {
        match self {
            RecordType::Agent => "agent",
            RecordType::Project => "project",
            RecordType::Resource => "resource",
            RecordType::Agreement => "agreement",
            RecordType::Contribution => "contribution",
            RecordType::Payout => "payout",
            RecordType::Approval => "approval",
            RecordType::Payment => "payment",
            RecordType::Rate => "exchange rate",
        }
    }

    fn from_folder(folder: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.folder() == folder)
    }
}

/// What a path is to the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// `ovn.toml`.
    Network,
    /// A record file of the given type; the file name (without `.toml`) and the date
    /// folders it sits in (`[yyyy, mm, dd]` for contributions, `[yyyy]` for payouts).
    Record(RecordType, String, Vec<String>),
    /// A `.gitkeep` placeholder.
    Keep,
    /// A file in a record folder that cannot be a record, and why.
    Stray(RecordType, &'static str),
    /// In a top-level folder whose name is a near miss of a record folder (`Agents/`,
    /// `contribution/`): records there would silently be left out, so it is reported.
    MisspeltFolder(RecordType),
    /// Outside the ledger's folders (README, payouts/ for now, ...).
    Ignored,
}

/// The record folder `name` is probably a misspelling of (`Agents`, `contribution`), if any.
pub fn near_miss_folder(name: &str) -> Option<RecordType> {
    if RecordType::from_folder(name).is_some() {
        return None;
    }
    let lower = name.to_lowercase();
    RecordType::ALL.into_iter().find(|k| {
        let d = strsim::damerau_levenshtein(&lower, k.folder());
        d <= 1 || (d <= 2 && k.folder().len() >= 10)
    })
}

/// The parts of `text` between `sep` bytes, as `text.split(sep)` gives them, found by a
/// plain scan. Paths and id lists are short, and `split`'s searcher costs more to start on
/// each part than the scan costs for the whole (a few percent of a cold load, where every
/// path of a million-record revision is split more than once). `sep` must be ASCII.
pub fn split_ascii(text: &str, sep: u8) -> SplitAscii<'_> {
    debug_assert!(sep.is_ascii());
    SplitAscii {
        rest: Some(text),
        sep,
    }
}

/// The iterator [`split_ascii`] returns.
#[derive(Clone, Debug)]
pub struct SplitAscii<'t> {
    rest: Option<&'t str>,
    sep: u8,
}

impl<'t> Iterator for SplitAscii<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == self.sep) {
            // An ASCII byte is a character boundary on both sides.
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Whether `text` holds byte `b`, by a plain scan (see [`split_ascii`]).
pub fn holds(text: &str, b: u8) -> bool {
    text.bytes().any(|c| c == b)
}

/// Says what a ledger-relative path is.
pub fn classify(path: &str) -> Role {
    let record = |kind, stem: &str, folders: &[&str]| {
        let folders = folders.iter().map(|f| (*f).to_owned()).collect();
        Role::Record(kind, stem.to_owned(), folders)
    };
    classify_as(path, record).unwrap_or_else(|role| role)
}

/// Whether `path` is a record file: [`classify`] without making the stem and folders
/// (asked for every file of a million-record ledger, more than once).
pub fn is_record(path: &str) -> bool {
    classify_as(path, |_, _, _| ()).is_ok()
}

/// [`classify`], with what `record(type, stem, date folders)` makes of a record file, or
/// `Err` with any other role.
fn classify_as<'p, T>(
    path: &'p str,
    record: impl FnOnce(RecordType, &'p str, &[&'p str]) -> T,
) -> Result<T, Role> {
    if path == NETWORK_FILE {
        return Err(Role::Network);
    }
    // The first five components, the last and how many: all any rule looks at. Not
    // collected into a list: this is asked of every file of a revision (`is_record`), and
    // the allocation was most of its cost.
    let mut parts: [&'p str; 5] = [""; 5];
    let (mut count, mut file) = (0, "");
    for (i, part) in split_ascii(path, b'/').enumerate() {
        if let Some(slot) = parts.get_mut(i) {
            *slot = part;
        }
        (count, file) = (i + 1, part);
    }
    let Some(kind) = RecordType::from_folder(parts[0]) else {
        return match near_miss_folder(parts[0]) {
            Some(kind) if count > 1 => Err(Role::MisspeltFolder(kind)),
            _ => Err(Role::Ignored),
        };
    };
    if file == KEEP_FILE {
        return Err(Role::Keep);
    }
    let Some(stem) = file.strip_suffix(".toml") else {
        return Err(Role::Stray(kind, "it is not a `.toml` record"));
    };
    Err(match kind {
        RecordType::Contribution | RecordType::Approval => {
            let shape = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            if count == 5 && shape(parts[1], 4) && shape(parts[2], 2) && shape(parts[3], 2) {
                return Ok(record(kind, stem, &parts[1..4]));
            } else if kind == RecordType::Contribution {
                Role::Stray(
                    kind,
                    "contributions live in contributions/<yyyy>/<mm>/<dd>/<id>.toml",
                )
            } else {
                Role::Stray(
                    kind,
                    "approvals live in approvals/<yyyy>/<mm>/<dd>/<id>.toml",
                )
            }
        }
        RecordType::Payout | RecordType::Payment | RecordType::Rate => {
            let year =
                count == 3 && parts[1].len() == 4 && parts[1].bytes().all(|b| b.is_ascii_digit());
            if year {
                return Ok(record(kind, stem, &parts[1..2]));
            } else {
                Role::Stray(
                    kind,
                    match kind {
                        RecordType::Payout => "payouts live in payouts/<yyyy>/<id>.toml",
                        RecordType::Rate => "exchange rates live in rates/<yyyy>/<id>.toml",
                        _ => "payments live in payments/<yyyy>/<id>.toml",
                    },
                )
            }
        }
        _ if count == 2 => return Ok(record(kind, stem, &[])),
        _ => Role::Stray(
            kind,
            "records of this type live directly in their folder, not in subfolders",
        ),
    })
}

/// Whether `path` is a file the ledger reads or judges (used by the store to skip the rest).
pub fn is_ledger_path(path: &str) -> bool {
    // What `classify` says, without splitting the path into a list: the store asks it of
    // every file of a revision, a million at a million contributions. Below a record folder
    // nothing is ignored; outside every record folder only a near miss of one is judged.
    if path == NETWORK_FILE {
        return true;
    }
    let first = split_ascii(path, b'/').next().unwrap_or_default();
    if first.len() == path.len() {
        RecordType::from_folder(path).is_some()
    } else {
        RecordType::from_folder(first).is_some() || near_miss_folder(first).is_some()
    }
}

/// The ids of every record file, valid or not, by type: references to a broken record are
/// not reported again as unknown, and duplicates are found by file name.
///
/// A contribution's id is its file name, which the ledger's paths hold already: its entry
/// is the file's number alone, hashed by that name (a tenth of the bytes of an entry that
/// held the id again, at a million contributions).
#[derive(Clone, Debug, Default)]
pub struct Index {
    // Hashed, not ordered: a million contribution ids cost a hash each to insert and to look
    // up, where a tree map compared strings twenty times.
    ids: BTreeMap<RecordType, FxHashMap<Id, FileId>>,
    /// Contribution files, by the id their name gives (see [`Index::stem`]).
    contributions: hashbrown::HashTable<FileId>,
    /// The ledger's paths, shared, for the names of `contributions`.
    paths: Paths,
    /// Files whose id another file of the same type already has (rare, so kept aside rather
    /// than making every entry a list).
    again: Vec<(RecordType, Id, FileId)>,
}

impl Index {
    /// An empty index of the files of `paths`.
    pub fn over(paths: Paths) -> Index {
        Index {
            paths,
            ..Index::default()
        }
    }

    /// The file of the record of type `kind` with this id (the first, if several have it).
    pub fn file(&self, kind: RecordType, id: &str) -> Option<FileId> {
        if kind == RecordType::Contribution
            && let Some(&file) = self
                .contributions
                .find(hash(id), |&f| self.stem(f) == Some(id))
        {
            return Some(file);
        }
        self.ids.get(&kind)?.get(id).copied()
    }

    /// Whether a record of type `kind` with this id exists.
    pub fn contains(&self, kind: RecordType, id: &str) -> bool {
        self.file(kind, id).is_some()
    }

    /// All ids of a type the index holds as [`Id`]s, sorted: every kind but contributions,
    /// whose ids are their file names (see [`Index::names`], which lists every kind).
    pub fn ids(&self, kind: RecordType) -> impl Iterator<Item = &Id> {
        let mut ids: Vec<&Id> = self
            .ids
            .get(&kind)
            .into_iter()
            .flat_map(|m| m.keys())
            .collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// All ids of a type, contributions included, sorted.
    pub fn names(&self, kind: RecordType) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self.ids(kind).map(Id::as_str).collect();
        if kind == RecordType::Contribution {
            names.extend(self.contributions.iter().filter_map(|&f| self.stem(f)));
            names.sort_unstable();
        }
        names.into_iter()
    }

    /// Ids that more than one file claims, with those files (first one first).
    pub fn duplicates(&self) -> Vec<(RecordType, &Id, Vec<FileId>)> {
        let mut groups: BTreeMap<(RecordType, &Id), Vec<FileId>> = BTreeMap::new();
        for (kind, id, file) in &self.again {
            let Some(first) = self.file(*kind, id.as_str()) else {
                continue;
            };
            groups
                .entry((*kind, id))
                .or_insert_with(|| vec![first])
                .push(*file);
        }
        groups
            .into_iter()
            .map(|((kind, id), files)| (kind, id, files))
            .collect()
    }

    fn insert(&mut self, kind: RecordType, id: &Id, file: FileId) {
        let text = id.as_str();
        // The common case, a contribution named by its id: one probe of the table finds a
        // file that has the id already or the slot for this one, and the id is not cloned
        // (a million contributions, loaded and held again by every window of a report).
        if kind == RecordType::Contribution
            && self.stem(file) == Some(text)
            && self
                .ids
                .get(&kind)
                .is_none_or(|ids| !ids.contains_key(text))
        {
            let paths = &self.paths;
            let slot = self.contributions.entry(
                hash(text),
                |&f| stem_of(paths, f) == Some(text),
                |&f| hash(stem_of(paths, f).unwrap_or_default()),
            );
            match slot {
                hashbrown::hash_table::Entry::Occupied(_) => {
                    self.again.push((kind, id.clone(), file));
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(file);
                }
            }
        } else if self.file(kind, text).is_some() {
            self.again.push((kind, id.clone(), file));
        } else {
            // A contribution whose id is not its file name's (from a cache, say) is
            // still found, by the id it came with.
            self.ids.entry(kind).or_default().insert(id.clone(), file);
        }
    }

    /// The id the name of file `file` gives (`contributions/2026/03/01/<id>.toml`).
    fn stem(&self, file: FileId) -> Option<&str> {
        stem_of(&self.paths, file)
    }

    /// Makes room for `n` ids of `kind` at once (growing a large table by doubling would
    /// briefly hold it twice).
    pub fn reserve(&mut self, kind: RecordType, n: usize) {
        if kind == RecordType::Contribution {
            let paths = &self.paths;
            self.contributions
                .reserve(n, |&f| hash(stem_of(paths, f).unwrap_or_default()));
        } else {
            self.ids.entry(kind).or_default().reserve(n);
        }
    }

    /// Number of record files indexed.
    pub fn len(&self) -> usize {
        self.ids.values().map(FxHashMap::len).sum::<usize>()
            + self.contributions.len()
            + self.again.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The hash of an id in [`Index`]'s table of contributions.
fn hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// The file name of file `file` of `paths` without `.toml`; `None` past the end.
fn stem_of(paths: &Paths, file: FileId) -> Option<&str> {
    if file as usize >= paths.len() {
        return None;
    }
    let path = paths.get(file);
    let name = path.rsplit_once('/').map_or(path, |(_, name)| name);
    name.strip_suffix(".toml")
}

/// Every file path of a ledger in one string: a million paths cost their bytes and an offset
/// each, not a heap allocation each. Shared, not copied, when cloned (the index holds them
/// too).
#[derive(Clone, Debug, Default)]
pub struct Paths {
    text: std::sync::Arc<str>,
    ends: std::sync::Arc<[u32]>,
}

impl Paths {
    /// The path of file `file`.
    pub fn get(&self, file: FileId) -> &str {
        let i = file as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// How many paths.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl Paths {
    /// Packs `paths`, in order.
    pub fn from_strs<'a>(paths: impl Iterator<Item = &'a str> + Clone) -> Paths {
        let (count, bytes) = paths.clone().fold((0, 0), |(n, b), p| (n + 1, b + p.len()));
        let mut text = String::with_capacity(bytes);
        let mut ends = Vec::with_capacity(count);
        for p in paths {
            text.push_str(p);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Paths {
            text: text.into(),
            ends: ends.into(),
        }
    }

    /// Every path, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        (0..self.ends.len()).map(|i| self.get(i as FileId))
    }
}

/// A parsed ledger. Only records that passed their own checks are in the lists; a ledger
/// with any diagnostic must not be used to compute money.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// The network settings, when `ovn.toml` is valid.
    pub network: Option<Network>,
    /// Ledger-relative path of every file, indexed by [`FileId`].
    pub paths: Paths,
    /// Agents, sorted by id.
    pub agents: Vec<Agent>,
    /// Projects, sorted by id.
    pub projects: Vec<Project>,
    /// Resources, sorted by id.
    pub resources: Vec<Resource>,
    /// Agreements, sorted by id.
    pub agreements: Vec<Agreement>,
    /// Contributions, sorted by path (date, then id). Boxed so that building the list of a
    /// large ledger moves pointers, not records.
    pub contributions: Vec<Box<Contribution>>,
    /// Recorded payouts, sorted by path (year, then id).
    pub payouts: Vec<PayoutRecord>,
    /// Approvals, sorted by path (year, then id).
    pub approvals: Vec<Approval>,
    /// Payments of payout lines, sorted by path (year, then id).
    pub payments: Vec<Payment>,
    /// Exchange rates, sorted by pair, then date (see [`super::fx::order`]).
    pub rates: Vec<ExchangeRate>,
    /// Every record file's id, including records that failed their checks.
    pub index: Index,
    /// Contributions this ledger stands for without holding them (a quick load's
    /// summarised folders); empty when the ledger was loaded in full. A ledger with any
    /// here answers for its checks and its record count, and for the contributions it
    /// holds, but not for sums over all contributions.
    pub elsewhere: Elsewhere,
}

impl Ledger {
    /// The path of a file.
    pub fn path(&self, file: FileId) -> &str {
        self.paths.get(file)
    }

    /// Number of record files (valid or not).
    pub fn record_count(&self) -> usize {
        self.index.len() + self.elsewhere.records
    }

    /// Number of files read or judged (records, `ovn.toml`, stray files).
    pub fn file_count(&self) -> usize {
        self.paths.len() + self.elsewhere.records
    }

    /// Whether a contribution with this id exists (or, for ids held elsewhere, may: see
    /// [`super::summary::Elsewhere::may_hold`]).
    pub fn has_contribution(&self, id: &str) -> bool {
        self.index.contains(RecordType::Contribution, id) || self.elsewhere.may_hold(id)
    }

    /// This ledger with the contributions `held` (path and record, in path order) held in
    /// full besides its own, indexed, in path order: what a quick load would be had their
    /// folders been read rather than summarised, for counting those folders (a report's
    /// parts) a few at a time. A record of this ledger at a path `held` names too (a
    /// correction a quick load holds already) is kept as it is. The copy stands for nothing
    /// elsewhere (its [`Ledger::elsewhere`] is empty): it answers for the contributions it
    /// holds, not for the ledger's checks or record count. `None` when the files would not
    /// fit a [`FileId`].
    pub fn holding<P: AsRef<str>>(&self, held: Vec<(P, Box<Contribution>)>) -> Option<Ledger> {
        let have: rustc_hash::FxHashSet<&str> = self
            .contributions
            .iter()
            .map(|c| self.path(c.file))
            .collect();
        let mut held: Vec<(P, Box<Contribution>)> = match have.is_empty() {
            // Nothing to leave out (so a tally's ledger, which holds none of the day
            // folders' contributions and is held with every window of a cold report):
            // no path hashed.
            true => held,
            false => held
                .into_iter()
                .filter(|(path, _)| !have.contains(path.as_ref()))
                .collect(),
        };
        if !held.is_sorted_by(|a, b| a.0.as_ref() <= b.0.as_ref()) {
            held.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        }
        let base = self.paths.len();
        FileId::try_from(base.checked_add(held.len())?).ok()?;
        // Appended, so every file id of this ledger names the same path in the copy.
        let paths = Paths::from_strs(
            self.paths
                .iter()
                .chain(held.iter().map(|(path, _)| path.as_ref())),
        );
        let mut index = self.index.clone();
        index.paths = paths.clone();
        index.reserve(RecordType::Contribution, held.len());
        // Two runs in path order, merged by the held records' paths in hand: sorted by the
        // paths their file ids name, each comparison reached into two boxed records, a
        // cache miss each (a tenth of counting a window).
        let mine_sorted = self
            .contributions
            .is_sorted_by(|a, b| self.path(a.file) <= self.path(b.file));
        let mut contributions = Vec::with_capacity(self.contributions.len() + held.len());
        let mut mine = self.contributions.iter().peekable();
        for (n, (path, mut c)) in held.into_iter().enumerate() {
            while let Some(m) = mine.next_if(|m| self.path(m.file) < path.as_ref()) {
                contributions.push(m.clone());
            }
            // In range: checked above.
            c.file = (base + n) as FileId;
            index.insert(RecordType::Contribution, &c.id.value, c.file);
            contributions.push(c);
        }
        contributions.extend(mine.cloned());
        if !mine_sorted {
            contributions.sort_by(|a, b| paths.get(a.file).cmp(paths.get(b.file)));
        }
        Some(Ledger {
            network: self.network.clone(),
            paths,
            agents: self.agents.clone(),
            projects: self.projects.clone(),
            resources: self.resources.clone(),
            agreements: self.agreements.clone(),
            contributions,
            payouts: self.payouts.clone(),
            approvals: self.approvals.clone(),
            payments: self.payments.clone(),
            rates: self.rates.clone(),
            index,
            elsewhere: Elsewhere::default(),
        })
    }
}

/// The result of loading: the ledger and everything wrong with it, sorted.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// The parsed records.
    pub ledger: Ledger,
    /// Every problem, in canonical order.
    pub diagnostics: Vec<Diagnostic>,
    /// The ledger-wide checks (by [`checks::Check::name`]) that found any of `diagnostics`,
    /// in the order they run; [`STOPPED`] when a format the read does not know stopped it.
    /// The others came from reading each file alone. What a quick load may answer for with
    /// problems depends on it (see `cache::quick`).
    pub found_by: Vec<&'static str>,
}

/// What [`Loaded::found_by`] names when a format the read does not know stopped it before
/// any check ran.
pub const STOPPED: &str = "format";

/// One file's outcome: the id its name claims, the record, and its problems.
type FileResult = (Option<(RecordType, Id)>, Option<Parsed>, Vec<Diagnostic>);

// Every variant boxed: a parsed file costs a pointer until it reaches the ledger, and a
// contribution's box moves into the ledger's list as it is, so a million records are never
// held twice while the lists are built.
enum Parsed {
    Agent(Box<Agent>),
    Project(Box<Project>),
    Resource(Box<Resource>),
    Agreement(Box<Agreement>),
    Contribution(Box<Contribution>),
    Payout(Box<PayoutRecord>),
    Approval(Box<Approval>),
    Payment(Box<Payment>),
    Rate(Box<ExchangeRate>),
}

/// Parses and checks a whole ledger from its files in memory: [`load_files`] with every
/// file at hand, parsed on all cores.
pub fn load(files: &[RawFile]) -> Loaded {
    let items: Vec<(String, &RawFile)> = files.iter().map(|f| (f.path.clone(), f)).collect();
    load_files(
        items,
        Elsewhere::default(),
        |f| Some(f.bytes.clone()),
        |parser, handles| {
            handles
                .into_par_iter()
                .enumerate()
                .map(|(pos, f)| {
                    let file = pos as FileId;
                    if parser.needs_bytes(file) {
                        parser.parse(file, f.bytes.clone())
                    } else {
                        parser.judge_path(file)
                    }
                })
                .collect()
        },
    )
}

/// The reading pipeline: parses and checks a ledger whose files the caller delivers in its
/// own way (from memory, from a working tree, from git objects, from a cache).
///
/// `items` pairs each ledger-relative path with a handle; they are sorted by path, and a
/// file's position in that order is its [`FileId`]. `network` reads `ovn.toml`'s bytes
/// (needed first: the settings shape every other parse). `produce` then returns one
/// [`Outcome`] per item, in that sorted order, made with the [`Parser`] it is given.
/// `elsewhere` is what stands for contributions that are summarised, not in `items`
/// (empty for a whole ledger): the checks take them into account as far as summaries can
/// (see [`super::summary`]); the caller proves the rest.
pub fn load_files<T, N, P>(
    mut items: Vec<(String, T)>,
    elsewhere: Elsewhere,
    network: N,
    produce: P,
) -> Loaded
where
    N: FnOnce(&T) -> Option<Vec<u8>>,
    P: FnOnce(&Parser, Vec<T>) -> Vec<Outcome>,
{
    // Git trees list a ledger's paths in order already (its folder and file names sort the
    // same way under git's rules and byte order); checking is one pass, sorting is twenty.
    if !items.is_sorted_by(|a, b| a.0 <= b.0) {
        items.sort_by(|a, b| a.0.cmp(&b.0));
    }
    // The paths go into one string right away; the handles stay in their own list, a new
    // one: collected in place, it would keep the listing's allocation (a path and a handle
    // per file) for the whole read.
    let paths = Paths::from_strs(items.iter().map(|(p, _)| p.as_str()));
    let mut handles: Vec<T> = Vec::with_capacity(items.len());
    handles.extend(items.into_iter().map(|(_, t)| t));
    let mut diagnostics = Vec::new();
    let mut ledger = Ledger {
        elsewhere,
        ..Ledger::default()
    };

    let network_file = (0..paths.len()).find(|&i| paths.get(i as FileId) == NETWORK_FILE);
    let mut settings = Settings::default();
    match network_file {
        Some(pos) => {
            let bytes = network(&handles[pos]).unwrap_or_default();
            let source = Source {
                path: NETWORK_FILE,
                file: pos as FileId,
                base: parse::text_offset(&bytes),
                settings: &settings,
            };
            ledger.network = parse_with(&source, &bytes, &mut diagnostics, read::network);
        }
        None => diagnostics.push(
            Diagnostic::new(
                Code::MissingField,
                NETWORK_FILE,
                None,
                "the ledger has no ovn.toml",
            )
            .with_hint("run `ovn init` to create one"),
        ),
    }
    if let Some(n) = &ledger.network {
        if n.format != Network::FORMAT {
            // Records of another format version would only produce noise: stop here.
            ledger.paths = paths;
            diag::sort(&mut diagnostics);
            return Loaded {
                ledger,
                diagnostics,
                found_by: vec![STOPPED],
            };
        }
        settings = Settings {
            currency: n.currency.clone(),
            minor_units: n.minor_units,
        };
    }

    report_misspelt_folders(&paths, &mut diagnostics);

    let parser = Parser {
        paths,
        settings,
        ids: Default::default(),
    };
    let outcomes = produce(&parser, handles);
    assert_eq!(
        outcomes.len(),
        parser.paths.len(),
        "one outcome per ledger file"
    );
    ledger.paths = parser.paths;

    collect(&mut ledger, outcomes, &mut diagnostics);
    let found_by = checks::run(&ledger, &mut diagnostics);
    diag::sort(&mut diagnostics);
    Loaded {
        ledger,
        diagnostics,
        found_by,
    }
}

/// One report per misspelt folder (`Agents/`), not one per file in it.
fn report_misspelt_folders(paths: &Paths, diagnostics: &mut Vec<Diagnostic>) {
    // As `classify` finds them, judged once per top folder (paths are sorted), not once per
    // path: a million record paths are not worth a million allocations.
    let mut misspelt: BTreeMap<&str, (RecordType, usize)> = BTreeMap::new();
    let mut last: Option<(&str, Option<RecordType>)> = None;
    for path in paths.iter() {
        let Some((top, _)) = path.split_once('/') else {
            continue;
        };
        let kind = match last {
            Some((seen, kind)) if seen == top => kind,
            _ => {
                let kind = near_miss_folder(top);
                last = Some((top, kind));
                kind
            }
        };
        if let Some(kind) = kind {
            misspelt.entry(top).or_insert((kind, 0)).1 += 1;
        }
    }
    for (folder, (kind, count)) in misspelt {
        let (s, are) = if count == 1 { ("", "is") } else { ("s", "are") };
        diagnostics.push(
            Diagnostic::new(
                Code::StrayFile,
                &format!("{folder}/"),
                None,
                format!(
                    "folder `{folder}/` is not a ledger folder; its {count} file{s} {are} not read"
                ),
            )
            .with_hint(format!(
                "did you mean `{}/`? rename the folder",
                kind.folder()
            )),
        );
    }
}

/// Moves each file's outcome (in file order) into the ledger's lists and index, and its
/// problems into `diagnostics`.
fn collect(ledger: &mut Ledger, outcomes: Vec<Outcome>, diagnostics: &mut Vec<Diagnostic>) {
    ledger.index = Index::over(ledger.paths.clone());
    // Sized up front: growing by doubling would briefly hold twice the records.
    let contributions = outcomes
        .iter()
        .filter(|r| match &r.0 {
            Body::Clean(_) => true,
            Body::Other(result) => matches!(result.1, Some(Parsed::Contribution(_))),
            Body::Nothing => false,
        })
        .count();
    ledger.contributions.reserve_exact(contributions);
    ledger
        .index
        .reserve(RecordType::Contribution, contributions);
    // Each outcome is freed as soon as it is moved into the ledger.
    for (pos, outcome) in outcomes.into_iter().enumerate() {
        let (named, parsed, diags) = match outcome.0 {
            Body::Nothing => continue,
            Body::Clean(c) => {
                let id = c.id.value.clone();
                (
                    Some((RecordType::Contribution, id)),
                    Some(Parsed::Contribution(c)),
                    Vec::new(),
                )
            }
            Body::Other(result) => *result,
        };
        diagnostics.extend(diags);
        if let Some((kind, id)) = named {
            ledger.index.insert(kind, &id, pos as FileId);
        }
        match parsed {
            Some(Parsed::Agent(r)) => ledger.agents.push(*r),
            Some(Parsed::Project(r)) => ledger.projects.push(*r),
            Some(Parsed::Resource(r)) => ledger.resources.push(*r),
            Some(Parsed::Agreement(r)) => ledger.agreements.push(*r),
            Some(Parsed::Contribution(r)) => ledger.contributions.push(r),
            Some(Parsed::Payout(r)) => ledger.payouts.push(*r),
            Some(Parsed::Approval(r)) => ledger.approvals.push(*r),
            Some(Parsed::Payment(r)) => ledger.payments.push(*r),
            Some(Parsed::Rate(r)) => ledger.rates.push(*r),
            None => {}
        }
    }
    ledger.rates.sort_by(fx::order);
    ledger.agents.sort_by(|a, b| a.id.value.cmp(&b.id.value));
    ledger.projects.sort_by(|a, b| a.id.value.cmp(&b.id.value));
    ledger.resources.sort_by(|a, b| a.id.value.cmp(&b.id.value));
    ledger
        .agreements
        .sort_by(|a, b| a.id.value.cmp(&b.id.value));
}

/// What reading one file came to: the id its name claims, the record, and its problems.
/// Made by a [`Parser`] (or rebuilt from a cache) and handed back to [`load_files`].
///
/// Two words, whatever the file: a cold read holds one per file until the ledger's lists
/// are built (and a slot for it while the files are read), so the common case, a clean
/// contribution, is its record's box alone (its id is the record's own), and anything else
/// one more box.
pub struct Outcome(Body);

enum Body {
    /// Nothing to the ledger (`ovn.toml`, `.gitkeep`, a file outside the record folders).
    Nothing,
    /// A contribution without any problem, its file name being its id.
    Clean(Box<Contribution>),
    /// Any other outcome.
    Other(Box<FileResult>),
}

impl Outcome {
    /// The outcome of a file the ledger does not read (`ovn.toml`, `.gitkeep`, a file
    /// outside the record folders): nothing.
    pub fn nothing() -> Outcome {
        Outcome(Body::Nothing)
    }

    /// One file's result, in the compact form when it is a clean contribution.
    fn of(result: FileResult) -> Outcome {
        match result {
            (None, None, diags) if diags.is_empty() => Outcome::nothing(),
            (Some((RecordType::Contribution, named)), Some(Parsed::Contribution(c)), diags)
                if diags.is_empty() && named == c.id.value =>
            {
                Outcome(Body::Clean(c))
            }
            result => Outcome(Body::Other(Box::new(result))),
        }
    }

    /// A contribution that was read without any problem before (from a cache), now file
    /// `file` of this ledger.
    pub fn contribution(file: FileId, mut record: Box<Contribution>) -> Outcome {
        record.file = file;
        Outcome(Body::Clean(record))
    }

    /// An approval that was read without any problem before (from a cache), now file `file`.
    pub fn approval(file: FileId, mut record: Box<Approval>) -> Outcome {
        record.file = file;
        let id = record.id.value.clone();
        Outcome::of((
            Some((RecordType::Approval, id)),
            Some(Parsed::Approval(record)),
            Vec::new(),
        ))
    }

    /// The contribution, if the file was one and had no problem at all.
    pub fn clean_contribution(&self) -> Option<&Contribution> {
        match &self.0 {
            Body::Clean(c) => Some(c),
            Body::Other(result) => match &**result {
                (Some(_), Some(Parsed::Contribution(c)), d) if d.is_empty() => Some(c),
                _ => None,
            },
            Body::Nothing => None,
        }
    }

    /// [`Outcome::clean_contribution`], moved out (the outcome is spent either way).
    pub fn into_clean_contribution(self) -> Option<Box<Contribution>> {
        match self.0 {
            Body::Clean(c) => Some(c),
            Body::Other(result) => match *result {
                (Some(_), Some(Parsed::Contribution(c)), d) if d.is_empty() => Some(c),
                _ => None,
            },
            Body::Nothing => None,
        }
    }

    /// The approval, if the file was one and had no problem at all.
    pub fn clean_approval(&self) -> Option<&Approval> {
        match &self.0 {
            Body::Other(result) => match &**result {
                (Some(_), Some(Parsed::Approval(a)), d) if d.is_empty() => Some(a),
                _ => None,
            },
            Body::Clean(_) | Body::Nothing => None,
        }
    }
}

/// Why the store did not read a file of the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unread {
    /// Not a regular file: what it is ("a symbolic link", "a FIFO", "a submodule", ...).
    NotAFile(&'static str),
    /// Larger than its bound ([`parse::max_bytes`]): its size in bytes.
    TooLarge(u64),
}

/// Parses the files of one ledger: pure and shareable across threads, so a store can feed
/// it bytes from wherever and however it reads them.
pub struct Parser {
    paths: Paths,
    settings: Settings,
    /// Agent and project ids seen so far: the same few hundred recur in every contribution,
    /// so each is kept once and shared instead of once per record (a record read by the
    /// scanner for the canonical form takes the shared copy instead of making its own).
    ///
    /// One set per worker thread ([`WorkerIds`]), each with its own copies: with one set
    /// for all, under one lock, every record's clone and drop of an agent's id counted on
    /// the one shared count, which both cores kept taking from each other (4% of a cold
    /// `check --at` at a million went to those counts alone).
    ids: WorkerIds,
}

/// Sets of ids, one per worker of rayon's pool and one for any other thread; each is
/// locked only by its own thread (any extra worker of a larger pool shares the last).
struct WorkerIds(Box<[std::sync::Mutex<rustc_hash::FxHashSet<Id>>]>);

impl Default for WorkerIds {
    fn default() -> WorkerIds {
        let n = rayon::current_num_threads() + 1;
        WorkerIds((0..n).map(|_| Default::default()).collect())
    }
}

/// The copy of id `text` that `set` shares, the one `make` makes (kept in `set`) when it
/// has none; `None` when `make` finds `text` is not an id.
fn shared_in(
    set: &mut rustc_hash::FxHashSet<Id>,
    text: &str,
    make: impl FnOnce() -> Option<Id>,
) -> Option<Id> {
    if let Some(shared) = set.get(text) {
        return Some(shared.clone());
    }
    let id = make()?;
    set.insert(id.clone());
    Some(id)
}

impl WorkerIds {
    /// The calling thread's set.
    fn own(&self) -> std::sync::MutexGuard<'_, rustc_hash::FxHashSet<Id>> {
        let at = rayon::current_thread_index().map_or(0, |i| i + 1);
        self.0[at.min(self.0.len() - 1)]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Parser {
    /// A parser for some files of a ledger (`paths`, sorted) apart from a whole ledger's
    /// load, under the ledger's `ovn.toml` (`network`, its bytes): a part of a revision
    /// parsed on its own, as the cache fills its day folders a window at a time. `None`
    /// when `ovn.toml` has any problem or another format: a whole load reports those.
    pub fn for_part(network: &[u8], paths: Paths) -> Option<Parser> {
        let defaults = Settings::default();
        let source = Source {
            path: NETWORK_FILE,
            file: 0,
            base: parse::text_offset(network),
            settings: &defaults,
        };
        let mut diagnostics = Vec::new();
        let n = parse_with(&source, network, &mut diagnostics, read::network)?;
        if !diagnostics.is_empty() || n.format != Network::FORMAT {
            return None;
        }
        Some(Parser {
            paths,
            settings: Settings {
                currency: n.currency.clone(),
                minor_units: n.minor_units,
            },
            ids: Default::default(),
        })
    }

    /// The ledger's paths, sorted; a file's position is its [`FileId`].
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Whether file `file` must be read to be judged (a record); other files are judged by
    /// their path alone, with [`Parser::judge_path`].
    pub fn needs_bytes(&self, file: FileId) -> bool {
        is_record(self.paths.get(file))
    }

    /// The most bytes file `file` may hold ([`parse::max_bytes`] of its path).
    pub fn max_bytes(&self, file: FileId) -> usize {
        parse::max_bytes(self.paths.get(file))
    }

    /// Parses file `file` from its bytes, a contribution's agent and project ids shared
    /// (the calling worker's copies: see `ids`).
    pub fn parse(&self, file: FileId, bytes: Vec<u8>) -> Outcome {
        // The worker's own set, held while one record is read: no other thread takes it.
        let mut ids = self.ids.own();
        let mut share = |text: &str| shared_in(&mut ids, text, || Id::parse(text).ok());
        let result = parse_file(
            file,
            self.paths.get(file),
            &bytes,
            &self.settings,
            &mut share,
        );
        Outcome::of(result)
    }

    /// Makes the contribution's agent and project ids the shared copies (the calling
    /// worker's, as [`Parser::parse`] makes them), through `seen`, a set of those met so
    /// far: the worker's set is locked once per distinct id rather than once per record.
    pub fn share_ids_with(&self, seen: &mut rustc_hash::FxHashSet<Id>, c: &mut Contribution) {
        for id in [&mut c.agent.value, &mut c.project.value] {
            let shared = match seen.get(id.as_str()) {
                Some(shared) => shared.clone(),
                None => {
                    // The record's own copy is kept when the set has none: always one.
                    let shared = shared_in(&mut self.ids.own(), id.as_str(), || Some(id.clone()))
                        .unwrap_or_else(|| id.clone());
                    seen.insert(shared.clone());
                    shared
                }
            };
            *id = shared;
        }
    }

    /// The outcome of a file the store would not read: not a regular file, or too large.
    /// Its name still claims its id (so references to it are not reported as unknown).
    pub fn unread(&self, file: FileId, why: Unread) -> Outcome {
        let path = self.paths.get(file);
        let diag = match why {
            Unread::NotAFile(what) => parse::not_a_file(path, what),
            Unread::TooLarge(size) => parse::too_large(path, size),
        };
        let named = match classify(path) {
            Role::Record(kind, stem, _) => Id::parse(&stem).ok().map(|id| (kind, id)),
            _ => None,
        };
        Outcome::of((named, None, vec![diag]))
    }

    /// Judges a file that is not read (a stray file is reported; the rest is nothing).
    pub fn judge_path(&self, file: FileId) -> Outcome {
        match classify(self.paths.get(file)) {
            Role::Stray(..) => self.parse(file, Vec::new()),
            _ => Outcome::nothing(),
        }
    }
}

type Reader<T> = fn(
    &Source<'_>,
    serde_spanned::Spanned<toml::de::DeTable<'_>>,
    &mut Vec<Diagnostic>,
) -> Option<T>;

fn parse_with<T>(
    source: &Source<'_>,
    bytes: &[u8],
    diags: &mut Vec<Diagnostic>,
    reader: Reader<T>,
) -> Option<T> {
    let text = parse::decode(source.path, bytes, diags)?;
    let table = parse::parse_toml(source.path, text, source.base, diags)?;
    reader(source, table, diags)
}

/// One contribution file parsed on its own, outside any ledger, under `settings` (the
/// network's currency): the record, or `None` when it does not read as one. Its problems
/// are not reported: a command uses this to list what a branch adds, not to judge it.
pub fn contribution_alone(path: &str, bytes: &[u8], settings: &Settings) -> Option<Contribution> {
    let source = Source {
        path,
        file: 0,
        base: 0,
        settings,
    };
    parse_with(&source, bytes, &mut Vec::new(), read::contribution)
}

/// A record's identity is checked here in one place for every kind: its folder, its file
/// name against its `id`, and its date against its folder. A contribution's agent and
/// project ids are made by `share` (see [`super::fast::contribution_sharing`]).
fn parse_file(
    file: FileId,
    path: &str,
    bytes: &[u8],
    settings: &Settings,
    share: &mut dyn FnMut(&str) -> Option<Id>,
) -> FileResult {
    let mut diags = Vec::new();
    // The name's parts borrowed, not copied: a cold read classifies a million paths.
    let classified = classify_as(path, |kind, stem, folders| {
        let mut dated = [""; 3];
        for (slot, folder) in dated.iter_mut().zip(folders) {
            *slot = folder;
        }
        (kind, stem, dated, folders.len().min(3))
    });
    let (kind, stem, dated, n) = match classified {
        Ok(record) => record,
        Err(Role::Stray(kind, why)) => {
            diags.push(
                Diagnostic::new(
                    Code::StrayFile,
                    path,
                    None,
                    format!("stray file in {}/: {why}", kind.folder()),
                )
                .with_hint("move or delete it (or list it in .gitignore if it is a local file)"),
            );
            return (None, None, diags);
        }
        Err(_) => return (None, None, diags),
    };
    let folders = &dated[..n];
    // Checked now, made later: the record's own id is shared when the two agree.
    let named = match Id::check(stem) {
        Ok(()) => Some(kind),
        Err(e) => {
            diags.push(
                Diagnostic::new(
                    Code::InvalidId,
                    path,
                    None,
                    format!("file name {stem:?} is not a valid {} id: {e}", kind.noun()),
                )
                .with_hint("rename the file to a valid id (lowercase letters, digits, `-`, `_`)"),
            );
            None
        }
    };
    let own_id = |kind| Id::parse(stem).ok().map(|id| (kind, id));
    if bytes.len() > parse::max_bytes(path) {
        // Before any parser sees it (the fast contribution reader included).
        diags.push(parse::too_large(path, bytes.len() as u64));
        return (named.and_then(own_id), None, diags);
    }
    let file_level_id_error = named.is_none().then(|| diags.len() - 1);
    let source = Source {
        path,
        file,
        base: parse::text_offset(bytes),
        settings,
    };
    let parsed = read_record(kind, &source, bytes, &mut diags, share);
    let id = parsed.as_ref().map(Parsed::id);
    // `Dee.toml` with id = "Dee": the field's report (with its caret) says it all.
    if let Some(i) = file_level_id_error
        && diags
            .iter()
            .any(|d| d.code == Code::InvalidId && d.message.starts_with("`id` is not a valid id"))
    {
        diags.remove(i);
    }
    if let Some(id) = id
        && id.value.as_str() != stem
    {
        diags.push(
            Diagnostic::new(
                Code::IdMismatch,
                path,
                Some(id.span),
                format!(
                    "id `{}` does not match the file name `{stem}.toml`",
                    id.value
                ),
            )
            .with_hint(format!("the file name is the id: set id = \"{stem}\"")),
        );
    }
    if let Some(parsed) = &parsed
        && let Some(d) = misplaced(path, kind, stem, folders, parsed)
    {
        diags.push(d);
    }
    // The file name's id is the record's own when they agree: share it, not a second copy.
    let named = match (named, id) {
        (Some(kind), Some(id)) if id.value.as_str() == stem => Some((kind, id.value.clone())),
        (named, _) => named.and_then(own_id),
    };
    (named, parsed, diags)
}

/// Reads a record of type `kind` from its bytes (a contribution by the fast reader when it
/// can: see [`super::fast`]), a contribution's agent and project ids made by `share`.
fn read_record(
    kind: RecordType,
    source: &Source<'_>,
    bytes: &[u8],
    diags: &mut Vec<Diagnostic>,
    share: &mut dyn FnMut(&str) -> Option<Id>,
) -> Option<Parsed> {
    match kind {
        RecordType::Agent => {
            parse_with(source, bytes, diags, read::agent).map(|r| Parsed::Agent(Box::new(r)))
        }
        RecordType::Project => {
            parse_with(source, bytes, diags, read::project).map(|r| Parsed::Project(Box::new(r)))
        }
        RecordType::Resource => {
            parse_with(source, bytes, diags, read::resource).map(|r| Parsed::Resource(Box::new(r)))
        }
        RecordType::Agreement => parse_with(source, bytes, diags, read::agreement)
            .map(|r| Parsed::Agreement(Box::new(r))),
        RecordType::Contribution => super::fast::contribution_sharing(source, bytes, share)
            .or_else(|| {
                let mut c = parse_with(source, bytes, diags, read::contribution)?;
                for id in [&mut c.agent.value, &mut c.project.value] {
                    if let Some(shared) = share(id.as_str()) {
                        *id = shared;
                    }
                }
                Some(c)
            })
            .map(|c| Parsed::Contribution(Box::new(c))),
        RecordType::Payout => {
            parse_with(source, bytes, diags, read::payout).map(|r| Parsed::Payout(Box::new(r)))
        }
        RecordType::Approval => {
            parse_with(source, bytes, diags, read::approval).map(|r| Parsed::Approval(Box::new(r)))
        }
        RecordType::Payment => {
            parse_with(source, bytes, diags, payment::read).map(|r| Parsed::Payment(Box::new(r)))
        }
        RecordType::Rate => {
            parse_with(source, bytes, diags, fx::read).map(|r| Parsed::Rate(Box::new(r)))
        }
    }
}

impl Parsed {
    /// The record's `id` field.
    fn id(&self) -> &super::record::At<Id> {
        match self {
            Parsed::Agent(r) => &r.id,
            Parsed::Project(r) => &r.id,
            Parsed::Resource(r) => &r.id,
            Parsed::Agreement(r) => &r.id,
            Parsed::Contribution(r) => &r.id,
            Parsed::Payout(r) => &r.id,
            Parsed::Approval(r) => &r.id,
            Parsed::Payment(r) => &r.id,
            Parsed::Rate(r) => &r.id,
        }
    }
}

/// Whether `folders` are exactly what `%Y/%m/%d` (`by_day`) or `%Y` formats `date` as, for
/// a year of four digits; `false` (left to the formatter) for any other.
fn folders_spell(date: chrono::NaiveDate, by_day: bool, folders: &[&str]) -> bool {
    use chrono::Datelike;
    let is = |folder: Option<&&str>, value: u32, width: usize| {
        folder.is_some_and(|f| {
            f.len() == width
                && f.bytes().all(|b| b.is_ascii_digit())
                && f.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')) == value
        })
    };
    let Ok(year) = u32::try_from(date.year()) else {
        return false;
    };
    year <= 9999
        && is(folders.first(), year, 4)
        && if by_day {
            folders.len() == 3
                && is(folders.get(1), date.month(), 2)
                && is(folders.get(2), date.day(), 2)
        } else {
            folders.len() == 1
        }
}

/// The report for a dated record whose date folders do not spell its date.
fn misplaced(
    path: &str,
    kind: RecordType,
    stem: &str,
    folders: &[&str],
    parsed: &Parsed,
) -> Option<Diagnostic> {
    let (date, format) = match parsed {
        Parsed::Contribution(c) => (&c.date, "%Y/%m/%d"),
        Parsed::Payout(p) => (&p.date, "%Y"),
        Parsed::Approval(a) => (&a.date, "%Y/%m/%d"),
        Parsed::Payment(p) => (&p.date, "%Y"),
        Parsed::Rate(r) => (&r.date, "%Y"),
        _ => return None,
    };
    // Checked without formatting first: a date formatted per record was 2% of a cold read.
    if folders_spell(date.value, format == "%Y/%m/%d", folders) {
        return None;
    }
    let expected = date.value.format(format).to_string();
    let actual = folders.join("/");
    (expected != actual).then(|| {
        Diagnostic::new(
            Code::MisplacedRecord,
            path,
            Some(date.span),
            format!(
                "{} dated {} is filed under {actual}",
                kind.noun(),
                date.value
            ),
        )
        .with_hint(format!(
            "move it to {}/{expected}/{stem}.toml, or correct the date",
            kind.folder()
        ))
    })
}

#[cfg(test)]
mod outcome_tests {
    use super::*;

    #[test]
    fn an_outcome_is_two_words() {
        // One per file is held through a cold read: a million of them.
        assert!(std::mem::size_of::<Outcome>() <= 16);
    }

    #[test]
    fn a_clean_contribution_is_kept_compact_and_reads_back_the_same() {
        let file = RawFile {
            path: "contributions/2026/03/01/c1.toml".to_owned(),
            bytes: b"id = \"c1\"\nagent = \"ada\"\ndate = 2026-03-01\nproject = \"p\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"1\"\n".to_vec(),
        };
        let outcome = Outcome::of(parse_file(
            0,
            &file.path,
            &file.bytes,
            &Settings::default(),
            &mut |t| Id::parse(t).ok(),
        ));
        assert!(matches!(outcome.0, Body::Clean(_)));
        assert_eq!(
            outcome.clean_contribution().map(|c| c.id.value.as_str()),
            Some("c1")
        );
        // Misnamed: not clean, and its problem is kept.
        let misnamed = RawFile {
            path: "contributions/2026/03/01/c2.toml".to_owned(),
            ..file
        };
        let outcome = Outcome::of(parse_file(
            0,
            &misnamed.path,
            &misnamed.bytes,
            &Settings::default(),
            &mut |t| Id::parse(t).ok(),
        ));
        assert!(outcome.clean_contribution().is_none());
        assert!(matches!(&outcome.0, Body::Other(r) if !r.2.is_empty()));
    }

    /// Records read on one thread share one copy of each agent and project id, whichever
    /// reader read them (the scanner for the canonical form, or the full reader), and an
    /// agent that is not an id is still reported.
    #[test]
    fn a_parser_shares_agent_and_project_ids_between_records() {
        let paths = Paths::from_strs(
            [
                "contributions/2026/03/01/c1.toml",
                "contributions/2026/03/01/c2.toml",
                "contributions/2026/03/01/c3.toml",
                "contributions/2026/03/01/c4.toml",
            ]
            .into_iter(),
        );
        let parser = Parser::for_part(b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\n", paths)
            .expect("a clean ovn.toml");
        let record = |id: &str, agent: &str, tail: &str| {
            format!(
                "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-03-01\nproject = \"p\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"1\"\n{tail}"
            )
            .into_bytes()
        };
        let one = parser.parse(0, record("c1", "ada", ""));
        let two = parser.parse(1, record("c2", "ada", ""));
        // Not in the canonical layout (a comment): the full reader's record.
        let three = parser.parse(2, record("c3", "ada", "# by hand\n"));
        let bad = parser.parse(3, record("c4", "Ada!", ""));
        let [one, two, three] =
            [&one, &two, &three].map(|o| o.clean_contribution().expect("a clean record"));
        for c in [two, three] {
            assert_eq!(c.agent.value.addr(), one.agent.value.addr());
            assert_eq!(c.project.value.addr(), one.project.value.addr());
        }
        assert_eq!(one.agent.value.as_str(), "ada");
        assert_eq!(three.project.value.as_str(), "p");
        assert!(bad.clean_contribution().is_none());
        assert!(
            matches!(&bad.0, Body::Other(r) if r.2.iter().any(|d| d.message.contains("agent"))),
            "the bad agent is reported"
        );
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;

    #[test]
    fn contributions_are_found_by_their_file_names() {
        let paths = Paths::from_strs(
            [
                "agents/ada.toml",
                "contributions/2026/03/01/c1.toml",
                "contributions/2026/03/02/c1.toml",
                "contributions/2026/03/02/c2.toml",
                "contributions/2026/03/03/c3.toml",
            ]
            .into_iter(),
        );
        let mut index = Index::over(paths);
        let id = |s: &str| Id::parse(s).unwrap();
        index.reserve(RecordType::Contribution, 4);
        index.insert(RecordType::Agent, &id("ada"), 0);
        index.insert(RecordType::Contribution, &id("c1"), 1);
        index.insert(RecordType::Contribution, &id("c1"), 2);
        index.insert(RecordType::Contribution, &id("c2"), 3);
        // Not its file name's id: found all the same.
        index.insert(RecordType::Contribution, &id("c9"), 4);
        assert_eq!(index.file(RecordType::Contribution, "c1"), Some(1));
        assert_eq!(index.file(RecordType::Contribution, "c2"), Some(3));
        assert_eq!(index.file(RecordType::Contribution, "c9"), Some(4));
        assert!(!index.contains(RecordType::Contribution, "c3"));
        assert!(!index.contains(RecordType::Contribution, "ada"));
        assert!(index.contains(RecordType::Agent, "ada"));
        assert_eq!(index.len(), 5);
        let names: Vec<&str> = index.names(RecordType::Contribution).collect();
        assert_eq!(names, ["c1", "c2", "c9"]);
        let dups: Vec<(RecordType, String, Vec<FileId>)> = index
            .duplicates()
            .into_iter()
            .map(|(k, id, files)| (k, id.to_string(), files))
            .collect();
        assert_eq!(
            dups,
            [(RecordType::Contribution, "c1".to_owned(), vec![1, 2])]
        );
        // An index without paths holds contributions all the same.
        let mut bare = Index::default();
        bare.insert(RecordType::Contribution, &id("c1"), 7);
        assert_eq!(bare.file(RecordType::Contribution, "c1"), Some(7));
    }
}

#[cfg(test)]
mod folder_tests {
    use super::folders_spell;
    use chrono::NaiveDate;

    /// The shortcut agrees with the formatter wherever it says the folders spell the date.
    #[test]
    fn folders_spell_only_what_the_formatter_writes() {
        for (y, m, d) in [
            (2026, 1, 5),
            (999, 12, 31),
            (9999, 2, 28),
            (10000, 1, 1),
            (-5, 3, 3),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            for (format, by_day) in [("%Y/%m/%d", true), ("%Y", false)] {
                let written = date.format(format).to_string();
                let folders = written.split('/').collect::<Vec<_>>();
                assert_eq!(
                    folders_spell(date, by_day, &folders),
                    (0..=9999).contains(&y)
                );
            }
        }
        let date = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        for wrong in [
            &["2026", "1", "05"][..],
            &["2026", "01", "06"],
            &["2026", "01"],
            &["2025"],
        ] {
            assert!(!folders_spell(date, true, wrong));
        }
        assert!(!folders_spell(date, false, &["2026", "01"]));
        assert!(!folders_spell(date, false, &["+2026"]));
    }
}

#[cfg(test)]
mod classify_tests {
    use super::{Role, classify, holds, is_ledger_path, is_record, split_ascii};
    use proptest::prelude::*;

    /// Paths near the ledger's shapes: record folders, their near misses, dates of every
    /// length, names with and without `.toml`, empty parts.
    fn pathlike() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            Just("contributions".to_owned()),
            Just("approvals".to_owned()),
            Just("payouts".to_owned()),
            Just("agents".to_owned()),
            Just("agentss".to_owned()),
            Just("ovn.toml".to_owned()),
            Just(".gitkeep".to_owned()),
            Just(String::new()),
            "[0-9]{1,5}",
            "[a-z0-9é-]{1,6}(\\.toml)?",
        ];
        prop::collection::vec(part, 1..8).prop_map(|parts| parts.join("/"))
    }

    proptest! {
        /// The plain scan splits as `str::split` does, on paths and on lists of ids.
        #[test]
        fn split_ascii_splits_as_split_does(text in "[a-z/\n\u{e9}\u{20ac}]{0,24}") {
            for sep in [b'/', b'\n'] {
                let want: Vec<&str> = text.split(char::from(sep)).collect();
                prop_assert_eq!(split_ascii(&text, sep).collect::<Vec<_>>(), want);
                prop_assert_eq!(holds(&text, sep), text.contains(char::from(sep)));
            }
        }

        /// On any path of the ledger's shapes, the shortcuts say what `classify` says, and a
        /// record is one exactly when its parts have a record's shape.
        #[test]
        fn classify_and_its_shortcuts_agree(path in pathlike()) {
            let role = classify(&path);
            prop_assert_eq!(is_record(&path), matches!(role, Role::Record(..)));
            prop_assert_eq!(is_ledger_path(&path), role != Role::Ignored);
            if let Role::Record(_, stem, folders) = &role {
                let parts: Vec<&str> = path.split('/').collect();
                let name = format!("{stem}.toml");
                prop_assert_eq!(parts.last().copied(), Some(name.as_str()));
                prop_assert_eq!(folders.len() + 2, parts.len());
            }
        }
    }

    /// The shortcuts say what `classify` says, for every role.
    #[test]
    fn is_record_and_is_ledger_path_agree_with_classify() {
        let paths = [
            "ovn.toml",
            "contributions/2026/01/05/a1.toml",
            "contributions/2026/1/05/a1.toml",
            "contributions/2026/01/05/a1.txt",
            "contributions/2026/01/05/.gitkeep",
            "approvals/2026/01/05/x.toml",
            "approvals/2026/01/x.toml",
            "payouts/2026/p.toml",
            "payouts/p.toml",
            "rates/2026/r.toml",
            "payments/26/r.toml",
            "agents/ana.toml",
            "agents/sub/ana.toml",
            "Agents/ana.toml",
            "Agents",
            "README.md",
            "src/main.rs",
            "",
            "contributions",
            "contributions/",
            "/contributions/2026/01/05/a1.toml",
            "agentss/ana.toml",
            "contribution/2026/01/05/a1.toml",
            "ovn.toml/x",
            "docs/agents/ana.toml",
            "contributions/2026/01/05/a/b/c.toml",
        ];
        for path in paths {
            let role = classify(path);
            assert_eq!(is_record(path), matches!(role, Role::Record(..)), "{path}");
            assert_eq!(is_ledger_path(path), role != Role::Ignored, "{path}");
        }
        assert_eq!(
            classify("contributions/2026/01/05/a1.toml"),
            Role::Record(
                super::RecordType::Contribution,
                "a1".to_owned(),
                vec!["2026".to_owned(), "01".to_owned(), "05".to_owned()]
            )
        );
    }
}
