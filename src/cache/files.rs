//! The cache's files on disk: where they live (`$GIT_DIR/ovn/cache/`), their formats, how
//! they are checked, written and pruned. Three kinds: folder entries (the records of a day
//! folder, `contributions/<yyyy>/<mm>/<dd>/` or `approvals/...`, already parsed once, keyed
//! by the folder's git tree id), answers (a question's whole output), and files of parts
//! (one per month folder: summaries, picks, report parts; totals use one part).
//!
//! Git trees are content-addressed, so an unchanged day folder has the same tree id in every
//! commit and every clone: once its records are parsed, any later run at any revision that
//! still holds that folder reads them back in one file instead of inflating and parsing each
//! record again. Only what the key pins can be reused: the entry's key is the folder's path,
//! its tree id, the blob id of `ovn.toml` (whose settings shape parsing), the encoding version
//! and the `ovn` version, written in full in the entry and compared on every read, with a
//! CRC-32 over the whole entry. Any mismatch, damage or read error is a miss: the folder is
//! read from git as if there were no cache, and the entry is written anew. Only folders whose
//! every file parsed without a problem are cached, so diagnostics always come from a fresh
//! parse. Nothing in the cache is ever committed; deleting the folder is always safe.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use git2::Oid;

use super::key;
use crate::core::codec;
use crate::core::ledger::{RecordType, split_ascii};
use crate::core::record::{Approval, Contribution};
use crate::store::Store;

/// The folder under the git directory.
pub const CACHE_DIR: &str = "ovn/cache";

pub(super) const MAGIC: &[u8; 8] = b"ovncache";

/// The file whose time says when folder entries were last pruned ([`FolderCache::prune`]).
const PRUNED: &str = "pruned";

/// What the mark says to whoever lists the folder.
const PRUNED_TEXT: &[u8] =
    b"ovn: folder entries no read used were last pruned at this file's time\n";

/// How often folder entries no read uses are looked for, at most.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The records of one folder, in file-name order (the names are kept beside them). Each is
/// an `Option` so the reader can take records out one by one as they move into the ledger.
pub enum Records {
    /// A `contributions/<yyyy>/<mm>/<dd>/` folder.
    Contributions(Vec<Option<Box<Contribution>>>),
    /// An `approvals/<yyyy>/<mm>/<dd>/` folder.
    Approvals(Vec<Option<Box<Approval>>>),
}

/// The records of one folder to store, borrowed from the ledger being loaded.
pub enum ToStore<'a> {
    /// A `contributions/<yyyy>/<mm>/<dd>/` folder.
    Contributions(Vec<&'a Contribution>),
    /// An `approvals/<yyyy>/<mm>/<dd>/` folder.
    Approvals(Vec<&'a Approval>),
}

/// Everything an entry is valid for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The record type of the folder.
    pub kind: RecordType,
    /// The folder, relative to the ledger root (`contributions/2026/03/05`).
    pub folder: String,
    /// The folder's tree id.
    pub tree: Oid,
    /// The blob id of `ovn.toml`.
    pub settings: Oid,
}

impl Key {
    /// The key of the day folder at `folder` (ledger-relative) with tree `tree`, read under
    /// the `ovn.toml` blob `settings`; `None` when `folder` is not a day folder.
    pub(crate) fn of_day(folder: &str, tree: Oid, settings: Oid) -> Option<Key> {
        Some(Key {
            kind: day_folder(folder)?,
            folder: folder.to_owned(),
            tree,
            settings,
        })
    }

    fn text(&self) -> String {
        key::folder(self.kind, &self.folder, self.tree, self.settings)
    }

    fn file_name(&self) -> String {
        key::file_name(&self.text())
    }
}

/// The cache of one repository.
#[derive(Clone, Debug)]
pub struct FolderCache {
    dir: PathBuf,
    /// Whether entries may be written and pruned ([`Store::cache_writes`]).
    writes: bool,
}

impl FolderCache {
    /// The folder cache of the ledger `store` reads (shared by all worktrees of its repository), if caching is on.
    pub fn of(store: &Store) -> Option<FolderCache> {
        let mut cache = git_dir(store).map(FolderCache::new)?;
        cache.writes = store.cache_writes();
        Some(cache)
    }

    /// The cache of the repository whose (common) git directory is `git_dir`.
    pub fn new(git_dir: &Path) -> FolderCache {
        FolderCache {
            dir: git_dir.join(CACHE_DIR),
            writes: true,
        }
    }

    fn path(&self, key: &Key) -> PathBuf {
        let name = key.file_name();
        self.dir.join(&name[..2]).join(&name[2..])
    }

    /// The file an entry for `key` lives in.
    pub fn entry_path(&self, key: &Key) -> PathBuf {
        self.path(key)
    }

    /// Removes folder entries that are not in `keep` and were written more than `age` ago:
    /// entries of folders no revision in use has any more (old settings, old versions, days
    /// since rewritten). Keeps the cache near the size of the ledgers actually read.
    ///
    /// Marks when it ran ([`FolderCache::prune_due`]).
    pub fn prune(&self, keep: &std::collections::HashSet<PathBuf>, age: std::time::Duration) {
        if !self.writes {
            return;
        }
        // The mark first: two runs at once then look once between them. Only its time is
        // read.
        let _ = std::fs::write(self.dir.join(PRUNED), PRUNED_TEXT);
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = std::time::SystemTime::now();
        for shard in shards.flatten() {
            // Two hex digits: the folder entries' shards (the answers live in `answers/`).
            if shard.file_name().len() != 2 {
                continue;
            }
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                if keep.contains(&path) {
                    continue;
                }
                let old = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|d| d > age);
                if old {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }

    /// Whether [`FolderCache::prune`] is due: entries may be written and it has not run in
    /// the last hour (`PRUNE_EVERY`, by its mark's time; a mark from the future counts as
    /// none).
    /// Listing every entry, a stat of each that no read uses, cost a run after a new commit
    /// at a million records about 10 ms, for entries that go only once a week old.
    pub fn prune_due(&self) -> bool {
        let since = std::fs::metadata(self.dir.join(PRUNED))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| std::time::SystemTime::now().duration_since(t).ok());
        self.writes && since.is_none_or(|d| d >= PRUNE_EVERY)
    }

    /// The entry for `key`, checked whole (key and CRC): `None` when absent, damaged, or
    /// made for another key. Its records are decoded later, with `Entry::records`, so
    /// that many entries can be decoded in parallel.
    pub fn open(&self, key: &Key) -> Option<Entry> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        Entry::check(key, bytes)
    }

    /// Stores `records` under `key`, atomically (a whole entry or none). Failing to write is
    /// not an error: the cache only ever saves work.
    ///
    /// Returns where each record starts among the entry's records (for contributions), which
    /// the folder's summary keeps.
    pub fn put(&self, key: &Key, names: &[&str], records: &ToStore<'_>) -> Vec<u32> {
        if !self.writes {
            return offsets(records);
        }
        let (bytes, offsets) = encode(key, names, records);
        write_atomically(&self.path(key), &bytes);
        offsets
    }

    /// The summaries of day folders ([`crate::core::summary::FolderSummary`]), one file per
    /// month folder.
    pub fn summaries(&self) -> PartCache {
        PartCache {
            dir: self.dir.join("summaries"),
            writes: self.writes,
        }
    }

    /// Whether entries may be written: a cold fill that could keep nothing is not worth its
    /// reads.
    pub fn writes(&self) -> bool {
        self.writes
    }
}

/// A checked cache entry: the folder's file names and its records, both still encoded (a
/// million names are not worth a million small strings; they are read as they are used).
pub struct Entry {
    kind: RecordType,
    count: usize,
    names_at: usize,
    bytes: Vec<u8>,
    records_at: usize,
}

/// The git directory whose `ovn/cache/` the caches of `store`'s ledger live in (shared by
/// all worktrees of its repository), unless caching is off.
fn git_dir(store: &Store) -> Option<&Path> {
    store.caching().then(|| store.repo().commondir())
}

/// Checks an entry's bytes whole (CRC, key, names): its record count and where its names
/// and its records start.
fn check_entry(key: &Key, bytes: &[u8]) -> Option<(usize, usize, usize)> {
    let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32fast::hash(body).to_le_bytes() != crc {
        return None;
    }
    let mut input = body.strip_prefix(MAGIC)?;
    if codec::get_str(&mut input)? != key.text() {
        return None;
    }
    let count = usize::try_from(codec::get_u64(&mut input)?).ok()?;
    let names_at = body.len() - input.len();
    // Every name is checked here, so reading them again cannot fail.
    for _ in 0..count {
        codec::get_str(&mut input)?;
    }
    Some((count, names_at, body.len() - input.len()))
}

impl FolderCache {
    /// The contributions at `positions` (ascending) of the entry for `key`, as a pick (see
    /// [`unpick`]): their file names and their encoded records, copied, using `offsets` from
    /// the folder's summary. The entry is read into `buf` (reused from call to call, so
    /// reading many entries touches no fresh memory) and checked whole, as
    /// [`FolderCache::open`] does. `None` if it is absent or damaged.
    pub fn pick(
        &self,
        key: &Key,
        positions: &[u32],
        offsets: &[u32],
        buf: &mut Vec<u8>,
    ) -> Option<Vec<u8>> {
        use std::io::Read as _;
        buf.clear();
        std::fs::File::open(self.path(key))
            .and_then(|mut f| f.read_to_end(buf))
            .ok()?;
        let (count, names_at, records_at) = check_entry(key, buf)?;
        if key.kind != RecordType::Contribution || offsets.len() != count {
            return None;
        }
        let records = &buf[records_at..buf.len() - 4];
        let mut names = &buf[names_at..records_at];
        let mut out = Vec::new();
        codec::put_u64(&mut out, positions.len() as u64);
        let mut next = 0;
        for &k in positions {
            let k = k as usize;
            let mut name = "";
            while next <= k {
                name = codec::get_str(&mut names)?;
                next += 1;
            }
            let start = *offsets.get(k)? as usize;
            let end = offsets.get(k + 1).map_or(records.len(), |&e| e as usize);
            let record = records.get(start..end)?;
            codec::put_str(&mut out, name);
            codec::put_u64(&mut out, record.len() as u64);
            out.extend_from_slice(record);
        }
        Some(out)
    }

    /// Payout totals kept by revision, project and amount (what `ovn review` compares).
    pub fn totals(&self) -> PartCache {
        PartCache {
            dir: self.dir.join("totals"),
            writes: self.writes,
        }
    }

    /// The small records outside day folders, kept by blob id (see `cache::blobs`).
    pub fn blobs(&self) -> PartCache {
        PartCache {
            dir: self.dir.join("blobs"),
            writes: self.writes,
        }
    }

    /// Records picked from cached day folders for a quick load (see [`super::key::picks`]).
    pub fn picks(&self) -> PartCache {
        PartCache {
            dir: self.dir.join("picks"),
            writes: self.writes,
        }
    }
}

/// The records of a pick ([`FolderCache::pick`]) of the day folder `folder`: each file's
/// path (`folder/name`, made here, on the core that decodes the pick, rather than by the
/// one that lists every picked record) and its contribution; `None` if they do not decode.
pub fn unpick(folder: &str, mut input: &[u8]) -> Option<Vec<(String, Box<Contribution>)>> {
    let n = usize::try_from(codec::get_u64(&mut input)?).ok()?;
    let mut out = Vec::with_capacity(n.min(input.len()));
    for _ in 0..n {
        let name = joined(folder, codec::get_str(&mut input)?);
        let len = usize::try_from(codec::get_u64(&mut input)?).ok()?;
        let (mut record, rest) = input.split_at_checked(len)?;
        let c = codec::get_contribution(&mut record)?;
        if !record.is_empty() {
            return None;
        }
        out.push((name, Box::new(c)));
        input = rest;
    }
    input.is_empty().then_some(out)
}

/// `folder/file`, made in one allocation of its size: a quick load makes one for every record
/// it picks or takes from an entry, and with `format!` that took a third longer (a payout
/// preview after one new commit at a million: 3.7-4.3% of the samples against 2.5-3.0%).
pub(crate) fn joined(folder: &str, file: &str) -> String {
    let mut full = String::with_capacity(folder.len() + 1 + file.len());
    full.push_str(folder);
    full.push('/');
    full.push_str(file);
    full
}

impl Entry {
    fn check(key: &Key, bytes: Vec<u8>) -> Option<Entry> {
        let (count, names_at, records_at) = check_entry(key, &bytes)?;
        Some(Entry {
            kind: key.kind,
            count,
            names_at,
            bytes,
            records_at,
        })
    }

    /// How many files the folder holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the folder holds no file.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The file names in the folder, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut input = &self.bytes[self.names_at..self.records_at];
        (0..self.count).map_while(move |_| codec::get_str(&mut input))
    }

    /// The folder's records, one per name, or `None` if they do not decode.
    pub fn records(&self) -> Option<Records> {
        let end = self.bytes.len() - 4;
        let mut input = &self.bytes[self.records_at..end];
        let n = self.count;
        let records = match self.kind {
            RecordType::Contribution => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(Some(Box::new(codec::get_contribution(&mut input)?)));
                }
                Records::Contributions(v)
            }
            RecordType::Approval => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(Some(Box::new(codec::get_approval(&mut input)?)));
                }
                Records::Approvals(v)
            }
            _ => return None,
        };
        input.is_empty().then_some(records)
    }
}

/// Where each contribution of `records` would start among an entry's records (none for
/// approvals), as [`FolderCache::put`] returns them.
pub fn offsets(records: &ToStore<'_>) -> Vec<u32> {
    let ToStore::Contributions(v) = records else {
        return Vec::new();
    };
    let mut scratch = Vec::new();
    let mut at = 0usize;
    v.iter()
        .map(|c| {
            let offset = u32::try_from(at).unwrap_or(u32::MAX);
            scratch.clear();
            codec::put_contribution(&mut scratch, c);
            at += scratch.len();
            offset
        })
        .collect()
}

/// An entry's bytes, and where each record starts among the records.
fn encode(key: &Key, names: &[&str], records: &ToStore<'_>) -> (Vec<u8>, Vec<u32>) {
    // Room for the whole entry at once (a record encodes to about 160 bytes, its name
    // aside): grown from a small buffer, a folder of 700 records was copied five times
    // over, a tenth of a cold fill's memory traffic.
    let count = match records {
        ToStore::Contributions(v) => v.len(),
        ToStore::Approvals(v) => v.len(),
    };
    let names_len: usize = names.iter().map(|n| n.len() + 2).sum();
    let mut out = Vec::with_capacity(256 + names_len + count * ENCODED_RECORD);
    out.extend_from_slice(MAGIC);
    codec::put_str(&mut out, &key.text());
    codec::put_u64(&mut out, names.len() as u64);
    for name in names {
        codec::put_str(&mut out, name);
    }
    let start = out.len();
    let mut offsets = Vec::new();
    match records {
        ToStore::Contributions(v) => {
            offsets.reserve_exact(v.len());
            for c in v {
                offsets.push(u32::try_from(out.len() - start).unwrap_or(u32::MAX));
                codec::put_contribution(&mut out, c);
            }
        }
        ToStore::Approvals(v) => {
            for a in v {
                codec::put_approval(&mut out, a);
            }
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    (out, offsets)
}

/// About how many bytes a record's encoding takes, its name aside (the bench ledger's
/// entries average 162 bytes a record, names included), to size an entry's buffer once.
const ENCODED_RECORD: usize = 160;

/// The record type of a day folder at `path` (`contributions/2026/03/05`), if it is one.
pub fn day_folder(path: &str) -> Option<RecordType> {
    let mut parts = split_ascii(path, b'/');
    let kind = match parts.next()? {
        "contributions" => RecordType::Contribution,
        "approvals" => RecordType::Approval,
        _ => return None,
    };
    let digits = |s: Option<&str>, n: usize| {
        s.is_some_and(|s| s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
    };
    (digits(parts.next(), 4)
        && digits(parts.next(), 2)
        && digits(parts.next(), 2)
        && parts.next().is_none())
    .then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_whole_are_those_copied_out_and_a_damaged_file_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PartCache::new(dir.path());
        let parts = vec![
            ("contributions/2026/03/05 a".to_owned(), b"first".to_vec()),
            ("contributions/2026/03/06 b".to_owned(), Vec::new()),
            ("contributions/2026/03/07 c".to_owned(), vec![0xff; 300]),
        ];
        cache.put("month", &parts);
        cache.put("empty", &[]);
        let file = cache.read("month").unwrap();
        let borrowed: Vec<(String, Vec<u8>)> = PartCache::parts(&file)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_vec()))
            .collect();
        assert_eq!(borrowed, parts);
        assert_eq!(cache.get("month"), parts);
        assert!(PartCache::parts(&cache.read("empty").unwrap()).is_empty());
        assert!(cache.read("other").is_none(), "absent");
        // Stored under another key's name, every byte flipped in turn, cut short: each a miss.
        let path = cache.dir.join(key::file_name("month"));
        std::fs::copy(&path, cache.dir.join(key::file_name("moved"))).unwrap();
        assert!(cache.read("moved").is_none(), "another key");
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x41;
            std::fs::write(&path, &bad).unwrap();
            assert!(cache.read("month").is_none(), "byte {i} flipped");
            assert!(cache.get("month").is_empty());
            std::fs::write(&path, &file[..i]).unwrap();
            assert!(cache.read("month").is_none(), "cut at {i}");
        }
        // A sound CRC over parts that do not fill the file: a miss too.
        let mut long = file[..file.len() - 4].to_vec();
        long.push(0);
        long.extend_from_slice(&crc32fast::hash(&long).to_le_bytes());
        std::fs::write(&path, &long).unwrap();
        assert!(cache.read("month").is_none(), "a byte past the parts");
    }

    #[test]
    fn day_folders() {
        assert_eq!(
            day_folder("contributions/2026/03/05"),
            Some(RecordType::Contribution)
        );
        assert_eq!(
            day_folder("approvals/2026/03/05"),
            Some(RecordType::Approval)
        );
        assert_eq!(day_folder("contributions/2026/03"), None);
        assert_eq!(day_folder("contributions/2026/03/05/x"), None);
        assert_eq!(day_folder("agents/2026/03/05"), None);
        assert_eq!(day_folder("contributions/26/03/05"), None);
    }
}

/// The answer cache: the whole output of a read-only question (`ovn payout` preview,
/// `ovn report`, `ovn check --at`), keyed by the question and the commit ids it was
/// answered at. Commit ids pin every object a question can read, history included, so an
/// answer is replayed only where recomputing it would give the same bytes. Entries are
/// checked like folder entries (full key, CRC) and written atomically.
#[derive(Clone, Debug)]
pub struct AnswerCache {
    dir: PathBuf,
    /// Whether answers may be written and pruned ([`Store::cache_writes`]).
    writes: bool,
}

impl AnswerCache {
    /// The answer cache of the ledger `store` reads, if caching is on.
    pub fn of(store: &Store) -> Option<AnswerCache> {
        let mut cache = git_dir(store).map(AnswerCache::new)?;
        cache.writes = store.cache_writes();
        Some(cache)
    }

    /// What the working tree's reads remember (see `worktree`), in a folder of its own
    /// (`worktree/`), kept and checked as answers are, if caching is on.
    pub fn memories(store: &Store) -> Option<AnswerCache> {
        AnswerCache::in_folder(store, "worktree")
    }

    /// The digests of split indexes' shared parts (see `staged`), in a folder of their own
    /// (`index/`), kept and checked as answers are, if caching is on.
    pub fn index_digests(store: &Store) -> Option<AnswerCache> {
        AnswerCache::in_folder(store, "index")
    }

    /// The site's checkpoints (see `site`), in a folder of their own (`checkpoints/`), kept
    /// and checked as answers are, if caching is on.
    pub fn checkpoints(store: &Store) -> Option<AnswerCache> {
        AnswerCache::in_folder(store, "checkpoints")
    }

    /// Entries kept and checked as answers are, in the cache's folder `name`, if caching is
    /// on.
    fn in_folder(store: &Store, name: &str) -> Option<AnswerCache> {
        git_dir(store).map(|dir| AnswerCache {
            dir: dir.join(CACHE_DIR).join(name),
            writes: store.cache_writes(),
        })
    }

    /// The answer cache of the repository whose (common) git directory is `git_dir`.
    pub fn new(git_dir: &Path) -> AnswerCache {
        AnswerCache {
            dir: git_dir.join(CACHE_DIR).join("answers"),
            writes: true,
        }
    }

    fn path(key: &str, dir: &Path) -> PathBuf {
        dir.join(key::file_name(key))
    }

    /// The file the answer for `key` lives in (for answers streamed in and out, see
    /// [`super::answers::stream`]).
    pub(super) fn file(&self, key: &str) -> PathBuf {
        Self::path(key, &self.dir)
    }

    /// The most answers kept.
    pub const MAX: usize = 256;

    /// Makes room for one more answer.
    pub(super) fn prune(&self) {
        if self.writes {
            keep_newest(&self.dir, Self::MAX - 1);
        }
    }

    /// Whether answers may be written (an answer streamed out is then not kept).
    pub(super) fn writes(&self) -> bool {
        self.writes
    }

    /// The exit status and output stored for `key`, if any (and intact).
    pub fn get(&self, key: &str) -> Option<(u8, Vec<u8>)> {
        let bytes = std::fs::read(Self::path(key, &self.dir)).ok()?;
        let (&status, output) = keyed_body(&bytes, MAGIC, key)?.split_first()?;
        Some((status, output.to_vec()))
    }

    /// Stores an answer, atomically; failing to write is not an error. The answers kept are
    /// bounded: past [`AnswerCache::MAX`], the oldest go.
    pub fn put(&self, key: &str, status: u8, output: &[u8]) {
        if !self.writes {
            return;
        }
        self.prune();
        let mut bytes = Vec::with_capacity(output.len() + key.len() + 32);
        bytes.extend_from_slice(MAGIC);
        codec::put_str(&mut bytes, key);
        bytes.push(status);
        bytes.extend_from_slice(output);
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        write_atomically(&Self::path(key, &self.dir), &bytes);
    }
}

/// What `file` holds past its `magic` and `key` and short of its CRC, when the CRC is that
/// of everything before it and the key is `key`: the checks every kept file passes.
fn keyed_body<'f>(file: &'f [u8], magic: &[u8], key: &str) -> Option<&'f [u8]> {
    let (body, crc) = file.split_at_checked(file.len().checked_sub(4)?)?;
    if crc32fast::hash(body).to_le_bytes() != crc {
        return None;
    }
    let mut input = body.strip_prefix(magic)?;
    (codec::get_str(&mut input)? == key).then_some(input)
}

/// Files of parts, one per month folder: the report cache (what a report question found in
/// each day folder, its groups, so that a report after a new commit only counts the folders
/// that changed) and the summaries of day folders. Each file holds the parts of one month's
/// days, each under its own key (the day folder's tree id and whatever else the part
/// depends on). Checked and written like the other entries; a file whose key or CRC does
/// not match is a miss.
#[derive(Clone, Debug)]
pub struct PartCache {
    dir: PathBuf,
    /// Whether files may be written and pruned ([`Store::cache_writes`]).
    writes: bool,
}

impl PartCache {
    /// The report cache of the ledger `store` reads, if caching is on.
    pub fn of(store: &Store) -> Option<PartCache> {
        let mut cache = git_dir(store).map(PartCache::new)?;
        cache.writes = store.cache_writes();
        Some(cache)
    }

    /// The report cache of the repository whose (common) git directory is `git_dir`.
    pub fn new(git_dir: &Path) -> PartCache {
        PartCache {
            dir: git_dir.join(CACHE_DIR).join("reports"),
            writes: true,
        }
    }

    /// The most files kept (a month of one question each).
    pub const MAX: usize = 4096;

    /// The parts stored under `key` (part key, bytes); none if absent or damaged.
    pub fn get(&self, key: &str) -> Vec<(String, Vec<u8>)> {
        let mut buf = Vec::new();
        self.get_in(key, &mut buf)
            .into_iter()
            .map(|(name, part)| (name.to_owned(), part.to_vec()))
            .collect()
    }

    /// [`PartCache::get`], the file read into `buf` and the parts borrowed from it: a reader
    /// of many files (a gigabyte of ValueFlows parts at a million records) reuses one buffer
    /// rather than copying each part out of a new one.
    pub fn get_in<'b>(&self, key: &str, buf: &'b mut Vec<u8>) -> Vec<(&'b str, &'b [u8])> {
        if !self.read_into(key, buf) {
            return Vec::new();
        }
        PartCache::checked(key, buf).unwrap_or_default()
    }

    /// Whether a file is stored under `key` (sound or not: reading it tells).
    pub fn has(&self, key: &str) -> bool {
        self.dir.join(key::file_name(key)).is_file()
    }

    /// The file stored under `key`, read whole and checked, for [`PartCache::parts`] to
    /// borrow its parts from while it is held; `None` if absent or damaged. (A quick load
    /// reads the summaries of every day folder: copying each part out of its file touched
    /// as much fresh memory again.)
    pub fn read(&self, key: &str) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        (self.read_into(key, &mut buf) && PartCache::checked(key, &buf).is_some()).then_some(buf)
    }

    /// The parts of a file [`PartCache::read`] returned (part key, bytes), in file order.
    pub fn parts(file: &[u8]) -> Vec<(&str, &[u8])> {
        let split = || {
            let mut input = file.get(..file.len().checked_sub(4)?)?;
            input = input.strip_prefix(PARTS_MAGIC)?;
            codec::get_str(&mut input)?;
            PartCache::split(input)
        };
        split().unwrap_or_default()
    }

    /// Reads the file stored under `key` into `buf`, whole; whether it could.
    fn read_into(&self, key: &str, buf: &mut Vec<u8>) -> bool {
        use std::io::Read;
        buf.clear();
        std::fs::File::open(self.dir.join(key::file_name(key)))
            .and_then(|mut f| f.read_to_end(buf))
            .is_ok()
    }

    /// The parts of `file` when it is a sound file of parts stored under `key` (its CRC,
    /// its key, and parts that fill it exactly).
    fn checked<'f>(key: &str, file: &'f [u8]) -> Option<Vec<(&'f str, &'f [u8])>> {
        PartCache::split(keyed_body(file, PARTS_MAGIC, key)?)
    }

    /// The parts of a file's `input` past its key and short of its CRC (count, then each
    /// part's key and bytes); `None` when they do not fill it exactly.
    fn split(mut input: &[u8]) -> Option<Vec<(&str, &[u8])>> {
        let n = codec::get_u64(&mut input)?;
        let mut out = Vec::new();
        for _ in 0..n {
            let name = codec::get_str(&mut input)?;
            let len = usize::try_from(codec::get_u64(&mut input)?).ok()?;
            let (part, rest) = input.split_at_checked(len)?;
            out.push((name, part));
            input = rest;
        }
        input.is_empty().then_some(out)
    }

    /// Stores `parts` under `key`, atomically; failing to write is not an error.
    pub fn put(&self, key: &str, parts: &[(String, Vec<u8>)]) {
        if !self.writes {
            return;
        }
        let mut out = Vec::with_capacity(64 + parts.iter().map(|p| p.1.len() + 64).sum::<usize>());
        out.extend_from_slice(PARTS_MAGIC);
        codec::put_str(&mut out, key);
        codec::put_u64(&mut out, parts.len() as u64);
        for (name, part) in parts {
            codec::put_str(&mut out, name);
            codec::put_u64(&mut out, part.len() as u64);
            out.extend_from_slice(part);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        write_atomically(&self.dir.join(key::file_name(key)), &out);
    }

    /// Writes the file `key` anew after some of its parts changed: the `new` parts, and of
    /// the `old` ones (what the file held) those still `current` that no new part replaces,
    /// in part-key order. Parts of folders the revision read no longer holds are dropped,
    /// so a month's file stays the size of one month. The one way a month's file of
    /// summaries, picks or report parts is updated.
    pub fn merge(
        &self,
        key: &str,
        mut new: Vec<(String, Vec<u8>)>,
        old: impl IntoIterator<Item = (String, Vec<u8>)>,
        current: impl Fn(&str) -> bool,
    ) {
        for (part, bytes) in old {
            if current(&part) && !new.iter().any(|(k, _)| *k == part) {
                new.push((part, bytes));
            }
        }
        new.sort();
        self.put(key, &new);
    }

    /// Removes every file but `key`'s, for a cache that keeps one file (the small records:
    /// their key names only the `ovn` version, so without this an upgrade would leave the
    /// old version's file behind for good). Temporary files are left to their writers.
    pub fn keep_only(&self, key: &str) {
        if !self.writes {
            return;
        }
        let Ok(files) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let name = key::file_name(key);
        for file in files.flatten() {
            let other = file.file_name();
            let other = other.to_string_lossy();
            if other != name && !other.starts_with(".tmp-") {
                let _ = std::fs::remove_file(file.path());
            }
        }
    }

    /// Keeps the newest [`PartCache::MAX`] files.
    pub fn prune(&self) {
        if self.writes {
            keep_newest(&self.dir, Self::MAX);
        }
    }
}

/// Removes all but the `keep` most recently written files of `dir`.
fn keep_newest(dir: &Path, keep: usize) {
    let Ok(files) = std::fs::read_dir(dir) else {
        return;
    };
    // Counted before any is looked at: a stat of each of a few hundred kept totals cost a
    // payout preview after a new commit about 3 ms, when nothing was to go.
    let files: Vec<std::fs::DirEntry> = files.flatten().collect();
    if files.len() <= keep {
        return;
    }
    let mut all: Vec<(std::time::SystemTime, PathBuf)> = files
        .into_iter()
        .filter_map(|f| Some((f.metadata().ok()?.modified().ok()?, f.path())))
        .collect();
    if all.len() <= keep {
        return;
    }
    all.sort();
    for (_, path) in &all[..all.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}

const PARTS_MAGIC: &[u8; 8] = b"ovnparts";

/// Writes `bytes` to `path` through a temporary file renamed over it, so readers see a whole
/// entry or none. Errors are swallowed: a cache that cannot be written only saves less work.
fn write_atomically(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else { return };
    // A name no other process or thread uses.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    // The folder is made only when missing: on some file systems even a `mkdir` of an
    // existing folder costs as much as writing the entry. Failing to write is a miss later.
    let write = || crate::store::atomic::write_bytes(path, &tmp, false, bytes);
    if let Err((_, e)) = write()
        && e.kind() == std::io::ErrorKind::NotFound
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = write();
    }
}
