//! Reading many blobs straight from git pack files, on all cores.
//!
//! A ledger of a million records is a million small blobs, and reading them through libgit2
//! costs about 5 µs each on a single thread: libgit2 serialises pack access behind a lock,
//! so a second reader only waits. This module reads the pack files itself. It looks every
//! wanted object up in the pack indexes (version 2), reads the entry headers to learn which
//! bases the deltas are built on, and so knows the delta forest of what is needed before it
//! inflates anything. Then it walks that forest on all cores, each tree depth first from its
//! root: every needed object is inflated exactly once, a delta is applied to its base while
//! the base is still in memory, and only the chain of bases above the current object is
//! kept. Objects nobody needs are never inflated, nor are blobs over the caller's size limit
//! (known from entry and delta headers): those are left to the caller, which judges them by
//! size alone.
//!
//! Bytes come from `pread` of pack windows, never from a map of the whole file (the crate
//! forbids unsafe code, and a 200 MB pack need not be resident to be read). A worker reads a
//! window of the pack around the entry it needs and serves the next entries from it; the
//! window grows while entries are read in pack order (as a `git fast-import` pack is) and
//! shrinks when they are scattered (as after `git gc`), so neither layout costs much.
//!
//! Anything out of the ordinary is left to the caller, which reads it through libgit2 as
//! before: loose objects, objects of another type, a delta whose base is in another pack, a
//! pack whose index is not version 2 or does not match its pack, a repository that does not
//! use SHA-1. Data that is corrupt is an error naming the pack and the entry's offset, never
//! a panic and never wrong bytes: inflated sizes are checked against the headers, and every
//! delta instruction against its base and result.
//!
//! Measured against gitoxide (`gix` 0.91, its pack and object crates, parallel, 2 threads) on
//! the 1M benchmark ledger, interleaved, median of 3, release, a loaded 2-core machine: gix
//! reading every blob at HEAD and summing their lengths took 40.0 s and 332 MiB; `ovn check
//! --at HEAD --no-cache` (this reader, plus parsing and checking every record) 24.5 s and
//! 751 MiB. Reading alone is 1.6 times ovn's whole cold check, far outside the 10% the
//! issue allows, so this reader stays (gix's memory is lower only because nothing is parsed).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::{Decompress, FlushDecompress, Status};
use rayon::prelude::*;

use super::StoreError;
use super::inflate::SmallInflater;

/// Reads many blobs straight from the repository's pack files, in parallel.
pub struct PackReader {
    packs: Vec<Pack>,
}

impl PackReader {
    /// Opens the `.idx` (version 2) / `.pack` pairs under `<git_dir>/objects/pack` and those
    /// of the repositories listed in `objects/info/alternates`. Packs it cannot use are
    /// skipped, never an error: their objects are left to the caller.
    pub fn open(git_dir: &Path) -> Result<PackReader, StoreError> {
        let common = common_dir(git_dir);
        let mut packs = Vec::new();
        // A SHA-256 repository's indexes would not parse anyway; not opening them at all
        // keeps that from depending on a size check.
        if uses_sha1(&common) {
            collect_packs(&common.join("objects"), 0, &mut Vec::new(), &mut packs);
        }
        Ok(PackReader { packs })
    }

    /// How many packs were opened.
    pub fn pack_count(&self) -> usize {
        self.packs.len()
    }

    /// Decodes the blobs `wanted`, calling `sink(i, bytes)` exactly once for each `wanted[i]`
    /// found as a blob in a pack, from worker threads, in no particular order. Returns the
    /// sorted positions it did not deliver (not in any pack: loose objects, another type, a
    /// delta whose base is outside its pack), which the caller reads another way.
    ///
    /// On an error (a corrupt or truncated pack) some blobs may have been delivered already;
    /// the caller must discard everything.
    pub fn read_many(
        &self,
        wanted: &[git2::Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_many_of(OBJ_BLOB, wanted, usize::MAX, sink)
    }

    /// [`PackReader::read_many`] that never inflates a blob larger than `limit` bytes (by its
    /// entry header, or for a delta by the delta's header): such blobs, and the deltas built
    /// on them, are left undelivered, for the caller to judge by their size alone.
    pub fn read_many_up_to(
        &self,
        wanted: &[git2::Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_many_of(OBJ_BLOB, wanted, limit, sink)
    }

    /// [`PackReader::read_many`] for trees: the raw tree objects (entries of mode, name and
    /// id), so a store can walk a big tree on all cores.
    pub fn read_trees(
        &self,
        wanted: &[git2::Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_many_of(OBJ_TREE, wanted, usize::MAX, sink)
    }

    fn read_many_of(
        &self,
        kind: u8,
        wanted: &[git2::Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        if self.packs.is_empty() || wanted.len() >= NONE as usize {
            return Ok((0..wanted.len()).collect());
        }
        // A pack whose tables turn out unsound is not used: its objects stay undelivered.
        let mut indexes: Vec<Option<Index>> = self.packs.iter().map(Pack::index).collect();
        let borrowed: Vec<Option<&Index>> = indexes.iter().map(Option::as_ref).collect();
        let (mut missed, mut items) = self.locate_in(&borrowed, wanted);
        drop(borrowed);
        for (p, pack) in self.packs.iter().enumerate() {
            let items = std::mem::take(&mut items[p]);
            if let (false, Some(index)) = (items.is_empty(), indexes[p].take()) {
                missed.extend(pack.read_wanted(kind, index, items, limit, sink)?);
            }
        }
        missed.sort_unstable();
        Ok(missed)
    }

    /// Finds each of `wanted` in the first pack of `indexes` that has it: the positions no
    /// pack has, and for each pack its items (index place, position in `wanted`).
    fn locate_in(
        &self,
        indexes: &[Option<&Index>],
        wanted: &[git2::Oid],
    ) -> (Vec<usize>, Vec<Vec<(u32, u32)>>) {
        // The ids in id order, so each index is walked once front to back (a million
        // binary searches over a 20 MB table miss the cache at every step).
        let mut order: Vec<(u64, u32)> = wanted
            .par_iter()
            .enumerate()
            .map(|(i, oid)| (oid_key(oid.as_bytes()), i as u32))
            .collect();
        order.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let id = |x: &(u64, u32)| wanted[x.1 as usize].as_bytes();
                id(a).cmp(id(b))
            })
        });
        // (pack, index place) by position: the first pack that has it.
        let mut found: Vec<(u32, u32)> = vec![(NONE, NONE); wanted.len()];
        for (p, index) in indexes.iter().enumerate() {
            let Some(index) = index else {
                continue;
            };
            index.find_sorted(&order, wanted, |i, k| {
                if found[i].0 == NONE {
                    found[i] = (p as u32, k);
                }
            });
        }
        drop(order);
        let mut missed = Vec::new();
        let mut items: Vec<Vec<(u32, u32)>> = vec![Vec::new(); self.packs.len()];
        for (i, &(p, k)) in found.iter().enumerate() {
            match items.get_mut(p as usize) {
                Some(list) => list.push((k, i as u32)),
                None => missed.push(i),
            }
        }
        (missed, items)
    }

    /// The packs with their indexes read and their layouts made once, for many reads in
    /// turn (a ledger read a window of folders at a time): each `read_many_*` of the reader
    /// itself reads every index again and sorts every entry's offset, tens of milliseconds
    /// at a million objects, where a window of blobs takes a few hundred.
    pub fn prepare(&self) -> Prepared<'_> {
        let packs = self
            .packs
            .iter()
            .map(|pack| {
                pack.index().map(|index| {
                    let layout = Layout::new(&index, pack.data_end);
                    (index, layout)
                })
            })
            .collect();
        Prepared {
            reader: self,
            packs,
        }
    }
}

/// A [`PackReader`] ready for many reads: every pack's index and layout held (about 36 bytes
/// an object), so each read only locates its own objects and decodes them.
pub struct Prepared<'a> {
    reader: &'a PackReader,
    /// Each pack's index and layout, or `None` when its tables are not sound (not used).
    packs: Vec<Option<(Index, Layout)>>,
}

impl Prepared<'_> {
    /// [`PackReader::read_many_up_to`], with the indexes and layouts made once.
    pub fn read_many_up_to(
        &self,
        wanted: &[git2::Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_of(OBJ_BLOB, wanted, limit, sink)
    }

    /// [`PackReader::read_trees`], with the indexes and layouts made once.
    pub fn read_trees(
        &self,
        wanted: &[git2::Oid],
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        self.read_of(OBJ_TREE, wanted, usize::MAX, sink)
    }

    fn read_of(
        &self,
        kind: u8,
        wanted: &[git2::Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        let reader = self.reader;
        if reader.packs.is_empty() || wanted.is_empty() || wanted.len() >= NONE as usize {
            return Ok((0..wanted.len()).collect());
        }
        let indexes: Vec<Option<&Index>> = self
            .packs
            .iter()
            .map(|p| p.as_ref().map(|(index, _)| index))
            .collect();
        let (mut missed, items) = reader.locate_in(&indexes, wanted);
        for ((pack, prepared), items) in reader.packs.iter().zip(&self.packs).zip(items) {
            if let (false, Some((index, layout))) = (items.is_empty(), prepared) {
                let forest = Forest::build(pack, kind, index, layout, &items)?;
                drop(items);
                missed.extend(pack.decode(kind, layout, forest, limit, sink)?);
            }
        }
        missed.sort_unstable();
        Ok(missed)
    }
}

/// "No such node / entry / position".
const NONE: u32 = u32::MAX;
/// A node whose object is whole and of the type asked for: the root of a delta tree.
const ROOT: u32 = u32::MAX - 1;
/// A node that cannot be decoded here (another type, or its base is in another pack); its
/// whole subtree is left to the caller.
const SKIP: u32 = u32::MAX - 2;

const OBJ_TREE: u8 = 2;
const OBJ_BLOB: u8 = 3;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// Room for the longest entry header: a 64-bit size (10 bytes) and a 20-byte base id.
const HEADER_MAX: u64 = 32;
/// A worker's first window; it doubles up to [`WINDOW_MAX`] while entries are read in pack
/// order and halves down to [`WINDOW_MIN`] (about a page) while they are scattered.
const WINDOW_START: usize = 64 << 10;
const WINDOW_MIN: usize = 4 << 10;
const WINDOW_MAX: usize = 1 << 20;
/// Roots are handed out in groups of about this many objects, and a subtree this large is
/// split off as a task of its own, so a pack whose deltas form a few huge trees still keeps
/// every core busy. (Tiny in unit tests, so small repositories exercise the splitting.)
const TASK_NODES: u32 = if cfg!(test) { 8 } else { 4096 };
/// Headers are read in runs of this many entries per task.
const HEADER_CHUNK: usize = 4096;
/// Sizes in headers are not trusted for allocation beyond this; larger outputs grow as they
/// are produced (and are checked against the header at the end).
const PREALLOC_MAX: usize = 64 << 20;

/// One `.idx` / `.pack` pair, both open. The index's tables are read only while blobs are
/// being located (see [`Index`]), so they take no memory while the blobs are decoded.
struct Pack {
    path: PathBuf,
    file: File,
    /// Where the last entry ends: the pack's length less its 20-byte checksum.
    data_end: u64,
    idx: File,
    idx_len: u64,
    count: u64,
}

/// A pack index's tables: ids and offsets (not the CRCs).
struct Index {
    fanout: Vec<u32>,
    /// The object ids, sorted, 20 bytes each.
    oids: Vec<u8>,
    /// Each object's offset; with the high bit set, an index into `large`.
    offsets: Vec<u32>,
    large: Vec<u64>,
}

impl Pack {
    /// Opens a pack by its index, or `None` when the pair is not usable.
    fn open(idx_path: &Path) -> Option<Pack> {
        let idx = File::open(idx_path).ok()?;
        let idx_len = idx.metadata().ok()?.len();
        let head = read_vec(&idx, 0, 8 + 256 * 4)?;
        if head[..4] != [0xff, b't', b'O', b'c'] || be32(&head[4..]) != 2 {
            return None;
        }
        let count = u64::from(be32(&head[8 + 255 * 4..]));
        // Header and fanout, ids, CRCs, offsets, then the two checksums; whatever is left
        // is the table of 64-bit offsets, at most one per object.
        let rest = idx_len.checked_sub(8 + 256 * 4 + count * (20 + 4 + 4) + 40)?;
        if rest % 8 != 0 || rest / 8 > count {
            return None;
        }
        let pack_checksum = read_vec(&idx, idx_len - 40, 20)?;

        let path = idx_path.with_extension("pack");
        let file = File::open(&path).ok()?;
        let len = file.metadata().ok()?.len();
        if len < 12 + 20 {
            return None;
        }
        let header = read_vec(&file, 0, 12)?;
        if &header[..4] != b"PACK"
            || !matches!(be32(&header[4..]), 2 | 3)
            || u64::from(be32(&header[8..])) != count
        {
            return None;
        }
        // The index names its pack by checksum: a truncated or replaced pack is not used.
        if read_vec(&file, len - 20, 20)? != pack_checksum {
            return None;
        }
        Some(Pack {
            path,
            file,
            data_end: len - 20,
            idx,
            idx_len,
            count,
        })
    }

    /// Reads the index's tables, or `None` when they are not sound (then the pack is not
    /// used).
    fn index(&self) -> Option<Index> {
        let n = self.count;
        let head = read_vec(&self.idx, 0, 8 + 256 * 4)?;
        let fanout: Vec<u32> = (0..256).map(|i| be32(&head[8 + 4 * i..])).collect();
        if fanout.windows(2).any(|w| w[0] > w[1]) || u64::from(fanout[255]) != n {
            return None;
        }
        let ids_at = 8 + 256 * 4;
        let large_at = ids_at + n * 28;
        let oids = read_vec(&self.idx, ids_at, n * 20)?;
        let offsets: Vec<u32> = read_vec(&self.idx, ids_at + n * 24, n * 4)?
            .chunks_exact(4)
            .map(be32)
            .collect();
        let large: Vec<u64> = read_vec(&self.idx, large_at, self.idx_len - 40 - large_at)?
            .chunks_exact(8)
            .map(be64)
            .collect();
        let index = Index {
            fanout,
            oids,
            offsets,
            large,
        };
        let in_range = |k: usize| {
            let o = index.offsets[k];
            let offset = if o & 0x8000_0000 == 0 {
                u64::from(o)
            } else {
                match index.large.get((o & 0x7fff_ffff) as usize) {
                    Some(&offset) => offset,
                    None => return false,
                }
            };
            (12..self.data_end).contains(&offset)
        };
        (0..index.offsets.len()).all(in_range).then_some(index)
    }
}

impl Index {
    fn count(&self) -> usize {
        self.offsets.len()
    }

    /// The object's place in the index, if the pack has it.
    fn find(&self, oid: &[u8]) -> Option<u32> {
        if oid.len() != 20 {
            return None;
        }
        let first = usize::from(oid[0]);
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1]
        } as usize;
        let mut hi = self.fanout[first] as usize;
        // Comparing the first 8 bytes as a number settles almost every step without a call
        // to memcmp, which a million lookups of twenty steps each would feel.
        let key = be64(oid);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let id = &self.oids[mid * 20..mid * 20 + 20];
            match be64(id).cmp(&key).then_with(|| id[8..].cmp(&oid[8..])) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }

    /// [`Index::find`] for many ids at once: `order` holds (first 8 bytes, position in
    /// `wanted`) sorted by the whole id, and `hit(position, index place)` is called for each
    /// one the pack has. The index is walked once, front to back, each id found by galloping
    /// from where the previous one was.
    fn find_sorted(
        &self,
        order: &[(u64, u32)],
        wanted: &[git2::Oid],
        mut hit: impl FnMut(usize, u32),
    ) {
        let mut cursor = 0;
        for &(key, i) in order {
            let oid = wanted[i as usize].as_bytes();
            if oid.len() != 20 {
                continue;
            }
            let first = usize::from(oid[0]);
            let start = if first == 0 {
                0
            } else {
                self.fanout[first - 1] as usize
            };
            let end = self.fanout[first] as usize;
            let at = self.lower_bound(cursor.max(start), end, key, oid);
            // Not past it: the next id may be the same one, asked for twice.
            cursor = at;
            if at < end && &self.oids[at * 20..at * 20 + 20] == oid {
                hit(i as usize, at as u32);
            }
        }
    }

    /// The first place in `from..to` whose id is not less than `oid` (`key`: its first 8
    /// bytes), or `to`: galloping from `from`, then a binary search of the last stride.
    fn lower_bound(&self, from: usize, to: usize, key: u64, oid: &[u8]) -> usize {
        let less = |k: usize| {
            let id = &self.oids[k * 20..k * 20 + 20];
            be64(id).cmp(&key).then_with(|| id[8..].cmp(&oid[8..])) == std::cmp::Ordering::Less
        };
        let (mut lo, mut step) = (from, 1);
        let mut hi = to;
        while lo < to {
            let probe = lo + step - 1;
            if probe >= to {
                break;
            }
            if !less(probe) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
        // Every place before `lo` is less; the answer is in `lo..=hi`.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if less(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The offset of the object at index place `k` (checked to be in range on open).
    fn offset(&self, k: usize) -> u64 {
        let o = self.offsets[k];
        if o & 0x8000_0000 == 0 {
            u64::from(o)
        } else {
            self.large[(o & 0x7fff_ffff) as usize]
        }
    }
}

impl Pack {
    fn corrupt(&self, offset: u64, reason: impl Into<String>) -> StoreError {
        StoreError::CorruptPack {
            path: self.path.clone(),
            offset,
            reason: reason.into(),
        }
    }

    /// Decodes the wanted objects of this pack (`items`: index place, position in `wanted`)
    /// and returns the positions it could not deliver.
    fn read_wanted(
        &self,
        kind: u8,
        index: Index,
        items: Vec<(u32, u32)>,
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        let mut layout = Layout::new(&index, self.data_end);
        let forest = Forest::build(self, kind, &index, &layout, &items)?;
        // What only locating needed goes before the decoded records start to pile up.
        drop((index, items));
        layout.rank_of = Vec::new();
        self.decode(kind, &layout, forest, limit, sink)
    }

    /// Decodes the objects of `forest` (built over `layout`), delivering the wanted ones to
    /// `sink`, and returns the positions it could not deliver.
    fn decode(
        &self,
        kind: u8,
        layout: &Layout,
        forest: Forest,
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        let mut missed = forest.unreachable_wants();
        let job = Job {
            kind,
            limit: limit as u64,
            too_large: Mutex::new(Vec::new()),
            task: forest.task_size(),
            pack: self,
            layout,
            forest: &forest,
            sink,
            failed: Mutex::new(None),
            stop: AtomicBool::new(false),
        };
        let tasks = forest.root_groups(job.task);
        rayon::scope(|scope| {
            for roots in tasks {
                let job = &job;
                scope.spawn(move |scope| job.run(scope, Start::Roots(roots)));
            }
        });
        match job.failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => {
                missed.extend(
                    job.too_large
                        .into_inner()
                        .unwrap_or_else(|p| p.into_inner()),
                );
                Ok(missed)
            }
        }
    }
}

/// The pack's entries in pack order: an entry ends where the next one starts (the last one
/// at the checksum), and a delta names its base by offset, which becomes a rank here.
struct Layout {
    /// Entry offsets, ascending; an entry's position here is its rank.
    starts: Vec<u64>,
    /// The rank of the object at each index place.
    rank_of: Vec<u32>,
    data_end: u64,
}

impl Layout {
    fn new(index: &Index, data_end: u64) -> Layout {
        let mut by_offset: Vec<(u64, u32)> = (0..index.count())
            .map(|k| (index.offset(k), k as u32))
            .collect();
        by_offset.par_sort_unstable();
        let mut rank_of = vec![0; index.count()];
        for (rank, &(_, k)) in by_offset.iter().enumerate() {
            rank_of[k as usize] = rank as u32;
        }
        Layout {
            starts: by_offset.into_iter().map(|(offset, _)| offset).collect(),
            rank_of,
            data_end,
        }
    }

    /// Where entry `rank` starts and ends.
    fn span(&self, rank: u32) -> (u64, u64) {
        let r = rank as usize;
        let end = self.starts.get(r + 1).copied().unwrap_or(self.data_end);
        (self.starts[r], end)
    }
}

/// One needed entry of the pack.
#[derive(Clone, Copy)]
struct Node {
    rank: u32,
    /// The node of its base, or [`ROOT`] or [`SKIP`].
    base: u32,
    first_child: u32,
    next_sibling: u32,
    /// The first position in `wanted` it answers, or [`NONE`] for a base nobody asked for.
    want: u32,
    /// How many nodes its subtree holds, itself included.
    subtree: u32,
}

/// The wanted entries and every base their deltas need, linked base to deltas.
struct Forest {
    nodes: Vec<Node>,
    /// Further positions of an object asked for more than once (node, position), by node.
    extra: Vec<(u32, u32)>,
    /// Roots (whole objects of the type asked for) in pack order.
    roots: Vec<u32>,
    /// Whether each node is reached from a root (and so will be decoded).
    reached: Vec<bool>,
}

/// What an entry header says about where the object comes from.
enum Link {
    /// A whole object of this type.
    Whole(u8),
    /// A delta on the entry of this rank.
    Delta(u32),
    /// A delta on an object this pack does not have.
    Elsewhere,
}

impl Forest {
    /// The forest of the wanted entries of `kind` (`items`: rank, position asked) and their
    /// bases.
    ///
    /// Long because it is three steps over the same flat arrays (headers read in rounds, the
    /// wanted entries and then the bases they name up the chains; children linked in pack
    /// order, with the roots; subtree sizes by a reverse preorder), kept together so the
    /// arrays are built once and nothing is allocated per object on the 1M-blob path.
    fn build(
        pack: &Pack,
        kind: u8,
        index: &Index,
        layout: &Layout,
        items: &[(u32, u32)],
    ) -> Result<Forest, StoreError> {
        let mut node_of_rank = vec![NONE; index.count()];
        let mut nodes: Vec<Node> = Vec::with_capacity(items.len());
        let mut extra = Vec::new();
        let node = |rank, want| Node {
            rank,
            base: SKIP,
            first_child: NONE,
            next_sibling: NONE,
            want,
            subtree: 1,
        };
        for &(k, pos) in items {
            let rank = layout.rank_of[k as usize];
            match node_of_rank[rank as usize] {
                NONE => {
                    node_of_rank[rank as usize] = nodes.len() as u32;
                    nodes.push(node(rank, pos));
                }
                seen => extra.push((seen, pos)),
            }
        }
        extra.sort_unstable();

        // Headers first, in rounds: the wanted entries, then the bases they name that are
        // not nodes yet, and so on up the chains.
        let mut pending: Vec<u32> = (0..nodes.len() as u32).collect();
        while !pending.is_empty() {
            pending.sort_unstable_by_key(|&i| nodes[i as usize].rank);
            let links: Vec<Vec<Link>> = pending
                .par_chunks(HEADER_CHUNK)
                .map_init(Window::new, |window, chunk| {
                    chunk
                        .iter()
                        .map(|&i| link(pack, index, layout, window, nodes[i as usize].rank))
                        .collect::<Result<Vec<Link>, StoreError>>()
                })
                .collect::<Result<_, _>>()?;
            let mut next = Vec::new();
            for (&i, link) in pending.iter().zip(links.into_iter().flatten()) {
                nodes[i as usize].base = match link {
                    Link::Whole(whole) if whole == kind => ROOT,
                    Link::Whole(_) | Link::Elsewhere => SKIP,
                    Link::Delta(rank) => match node_of_rank[rank as usize] {
                        NONE => {
                            let new = nodes.len() as u32;
                            node_of_rank[rank as usize] = new;
                            nodes.push(node(rank, NONE));
                            next.push(new);
                            new
                        }
                        base => base,
                    },
                };
            }
            pending = next;
        }

        // Children lists in pack order (prepending while going down the ranks), and roots.
        let mut roots = Vec::new();
        for &i in node_of_rank.iter().rev().filter(|&&i| i != NONE) {
            match nodes[i as usize].base {
                ROOT => roots.push(i),
                SKIP => {}
                base => {
                    nodes[i as usize].next_sibling = nodes[base as usize].first_child;
                    nodes[base as usize].first_child = i;
                }
            }
        }
        drop(node_of_rank);
        roots.reverse();

        // Subtree sizes: parents come before their children in a preorder, so adding each
        // node into its base in reverse preorder sums every subtree. Nodes no root reaches
        // (under a skipped node, or in a cycle of a corrupt pack) are not in the preorder.
        let mut order = Vec::with_capacity(nodes.len());
        let mut stack = Vec::new();
        for &root in &roots {
            stack.push(root);
            while let Some(i) = stack.pop() {
                order.push(i);
                let mut child = nodes[i as usize].first_child;
                while child != NONE {
                    stack.push(child);
                    child = nodes[child as usize].next_sibling;
                }
            }
        }
        let mut reached = vec![false; nodes.len()];
        for &i in order.iter().rev() {
            reached[i as usize] = true;
            let Node { base, subtree, .. } = nodes[i as usize];
            if base != ROOT {
                let parent = &mut nodes[base as usize].subtree;
                *parent = parent.saturating_add(subtree);
            }
        }
        Ok(Forest {
            nodes,
            extra,
            roots,
            reached,
        })
    }

    /// The positions whose objects will not be decoded here.
    fn unreachable_wants(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !self.reached[i] && node.want != NONE {
                out.push(node.want as usize);
                out.extend(self.extras(i as u32).map(|p| p as usize));
            }
        }
        out
    }

    /// The further positions node `i` answers.
    fn extras(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        let from = self.extra.partition_point(|&(n, _)| n < i);
        self.extra[from..]
            .iter()
            .take_while(move |&&(n, _)| n == i)
            .map(|&(_, pos)| pos)
    }

    /// How many objects a task takes on: [`TASK_NODES`], or less when there are few objects
    /// (a few thousand trees, say, each much bigger than a blob), so every core gets some.
    fn task_size(&self) -> u32 {
        let tasks_wanted = rayon::current_num_threads() * 8;
        let per_task = (self.reached.len() / tasks_wanted.max(1)) as u32;
        per_task.clamp(1, TASK_NODES)
    }

    /// The roots in pack order, cut into groups of about `task` objects each.
    fn root_groups(&self, task: u32) -> Vec<&[u32]> {
        let mut groups = Vec::new();
        let (mut from, mut weight) = (0, 0u32);
        for (k, &root) in self.roots.iter().enumerate() {
            weight = weight.saturating_add(self.nodes[root as usize].subtree);
            if weight >= task {
                groups.push(&self.roots[from..=k]);
                (from, weight) = (k + 1, 0);
            }
        }
        if from < self.roots.len() {
            groups.push(&self.roots[from..]);
        }
        groups
    }
}

/// Reads entry `rank`'s header and says what it is built on.
fn link(
    pack: &Pack,
    index: &Index,
    layout: &Layout,
    window: &mut Window,
    rank: u32,
) -> Result<Link, StoreError> {
    let (start, end) = layout.span(rank);
    let bytes = window.get(pack, start, end.min(start + HEADER_MAX))?;
    let head = Head::parse(bytes, end - start).map_err(|why| pack.corrupt(start, why))?;
    Ok(match head.base {
        Base::None => Link::Whole(head.kind),
        Base::Offset(distance) => {
            let base = start
                .checked_sub(distance)
                .map(|b| layout.starts.binary_search(&b));
            match base {
                Some(Ok(rank)) => Link::Delta(rank as u32),
                _ => return Err(pack.corrupt(start, "the delta's base is not an entry")),
            }
        }
        Base::Id(oid) => match index.find(&oid) {
            Some(k) => Link::Delta(layout.rank_of[k as usize]),
            None => Link::Elsewhere,
        },
    })
}

/// A parsed entry header.
struct Head {
    kind: u8,
    /// The inflated size: the object's, or the delta's for a delta.
    size: u64,
    /// Where the zlib data starts, from the entry's start.
    data: usize,
    base: Base,
}

enum Base {
    None,
    /// An `OFS_DELTA`: the base starts this many bytes before the entry.
    Offset(u64),
    /// A `REF_DELTA`: the base's id.
    Id([u8; 20]),
}

impl Head {
    /// Parses the header at the start of `bytes`, an entry of `entry_len` bytes (or its
    /// beginning).
    fn parse(bytes: &[u8], entry_len: u64) -> Result<Head, String> {
        let mut at = 0;
        let mut next = || -> Result<u8, String> {
            let b = *bytes
                .get(at)
                .ok_or_else(|| "the entry header runs past the entry".to_owned())?;
            at += 1;
            Ok(b)
        };
        let mut c = next()?;
        let kind = (c >> 4) & 7;
        let mut size = u64::from(c & 15);
        let mut shift = 4;
        while c & 0x80 != 0 {
            c = next()?;
            if shift > 63 - 7 {
                return Err("the entry's size does not fit 64 bits".to_owned());
            }
            size |= u64::from(c & 0x7f) << shift;
            shift += 7;
        }
        let base = match kind {
            1..=4 => Base::None,
            OBJ_OFS_DELTA => {
                // Git's offset encoding: each continuation adds one before shifting, so no
                // value has two spellings.
                c = next()?;
                let mut distance = u64::from(c & 0x7f);
                while c & 0x80 != 0 {
                    c = next()?;
                    distance = distance
                        .checked_add(1)
                        .and_then(|d| d.checked_mul(128))
                        .map(|d| d | u64::from(c & 0x7f))
                        .ok_or_else(|| "the delta's base offset overflows".to_owned())?;
                }
                Base::Offset(distance)
            }
            OBJ_REF_DELTA => {
                let mut oid = [0; 20];
                for b in &mut oid {
                    *b = next()?;
                }
                Base::Id(oid)
            }
            other => return Err(format!("invalid object type {other}")),
        };
        if let Base::Offset(distance) = base {
            // The base comes before the delta, after the pack header.
            if distance == 0 {
                return Err("the delta is its own base".to_owned());
            }
        }
        if at as u64 >= entry_len {
            return Err("the entry has no data after its header".to_owned());
        }
        Ok(Head {
            kind,
            size,
            data: at,
            base,
        })
    }
}

/// Shared state of one pack's decoding.
struct Job<'a> {
    /// The type of object asked for.
    kind: u8,
    /// The largest object inflated; larger ones (and their deltas) are left to the caller.
    limit: u64,
    /// The positions of objects over `limit`, and of the deltas built on them.
    too_large: Mutex<Vec<usize>>,
    /// Objects per task; a subtree this big is split off.
    task: u32,
    pack: &'a Pack,
    layout: &'a Layout,
    forest: &'a Forest,
    sink: &'a (dyn Fn(usize, Vec<u8>) + Sync),
    /// The first error; the others are dropped.
    failed: Mutex<Option<StoreError>>,
    /// Set on the first error so the other tasks stop early.
    stop: AtomicBool,
}

/// Where a task starts.
enum Start<'a> {
    /// These roots, one after the other.
    Roots(&'a [u32]),
    /// A subtree split off another task, from its already decoded top.
    Subtree(u32, Vec<u8>),
}

/// A task's decoding state, reused for all its objects (thousands): the inflaters, the pack
/// window, the delta buffer. Made per task rather than pooled
/// across tasks: with a pool, whose workers hop between threads, the parsing threads ended
/// up waiting on each other's glibc allocator locks (measured over 1,000,000 blobs: 50,000
/// to 180,000 context switches and 3.6 s or more, against 10,000 and 3.0 s per task).
struct Worker {
    inflate: Inflater,
    window: Window,
    /// The current delta's instructions.
    delta: Vec<u8>,
}

impl<'a> Job<'a> {
    fn run<'s>(&'s self, scope: &rayon::Scope<'s>, start: Start<'s>)
    where
        'a: 's,
    {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        let mut window = Window::new();
        window.buf = SPARE_WINDOW.take();
        let mut worker = Worker {
            inflate: Inflater::new(),
            window,
            delta: Vec::new(),
        };
        let result =
            match start {
                Start::Roots(roots) => roots.iter().try_for_each(|&root| {
                    match self.decode_whole(&mut worker, root)? {
                        Some(bytes) => self.walk(scope, &mut worker, root, bytes),
                        None => {
                            self.leave(root);
                            Ok(())
                        }
                    }
                }),
                Start::Subtree(top, bytes) => self.walk(scope, &mut worker, top, bytes),
            };
        SPARE_WINDOW.set(std::mem::take(&mut worker.window.buf));
        if let Err(e) = result {
            self.stop.store(true, Ordering::Relaxed);
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert(e);
        }
    }

    /// Decodes the subtree under `top` (whose bytes are given) depth first, keeping only the
    /// chain of bases above the current object. A big subtree below is handed to a new task.
    fn walk<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        worker: &mut Worker,
        top: u32,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError>
    where
        'a: 's,
    {
        let nodes = &self.forest.nodes;
        // (node, its bytes, its next child to decode)
        let mut stack = vec![(top, bytes, nodes[top as usize].first_child)];
        while let Some(frame) = stack.last_mut() {
            let child = frame.2;
            if child == NONE {
                // Every delta on it is done: the bytes can go to the sink as they are.
                if let Some((node, bytes, _)) = stack.pop() {
                    self.deliver(node, bytes);
                }
                continue;
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let node = nodes[child as usize];
            frame.2 = node.next_sibling;
            let Some(out) = self.decode_delta(worker, child, &frame.1)? else {
                self.leave(child);
                continue;
            };
            if node.first_child == NONE {
                self.deliver(child, out);
            } else if node.subtree >= self.task {
                scope.spawn(move |scope| self.run(scope, Start::Subtree(child, out)));
            } else {
                stack.push((child, out, node.first_child));
            }
        }
        Ok(())
    }

    fn deliver(&self, node: u32, bytes: Vec<u8>) {
        let want = self.forest.nodes[node as usize].want;
        if want == NONE {
            return;
        }
        if !self.forest.extra.is_empty() {
            for pos in self.forest.extras(node) {
                (self.sink)(pos as usize, bytes.clone());
            }
        }
        (self.sink)(want as usize, bytes);
    }

    /// Leaves `top` and its whole subtree to the caller: `top` is over the limit.
    fn leave(&self, top: u32) {
        let nodes = &self.forest.nodes;
        let mut out = Vec::new();
        let mut stack = vec![top];
        while let Some(i) = stack.pop() {
            let node = nodes[i as usize];
            if node.want != NONE {
                out.push(node.want as usize);
                out.extend(self.forest.extras(i).map(|p| p as usize));
            }
            let mut child = node.first_child;
            while child != NONE {
                stack.push(child);
                child = nodes[child as usize].next_sibling;
            }
        }
        let mut left = self.too_large.lock().unwrap_or_else(|p| p.into_inner());
        left.extend(out);
    }

    /// Inflates a root: a whole object; `None` when its header says it is over the limit.
    fn decode_whole(&self, worker: &mut Worker, node: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let (start, end) = self.layout.span(self.forest.nodes[node as usize].rank);
        let entry = worker.window.get(self.pack, start, end)?;
        let corrupt = |why: String| self.pack.corrupt(start, why);
        let head = Head::parse(entry, end - start).map_err(corrupt)?;
        if head.kind != self.kind {
            return Err(corrupt(format!(
                "type {} where {} was read",
                head.kind, self.kind
            )));
        }
        if head.size > self.limit {
            return Ok(None);
        }
        let size = usize::try_from(head.size).map_err(|_| corrupt("too large".to_owned()))?;
        let mut out = Vec::new();
        inflate(&mut worker.inflate, &entry[head.data..], size, &mut out).map_err(corrupt)?;
        Ok(Some(out))
    }

    /// Inflates a delta and applies it to its base's bytes; `None` when the delta, or the
    /// object its header says it makes, is over the limit.
    fn decode_delta(
        &self,
        worker: &mut Worker,
        node: u32,
        base: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (start, end) = self.layout.span(self.forest.nodes[node as usize].rank);
        let entry = worker.window.get(self.pack, start, end)?;
        let corrupt = |why: String| self.pack.corrupt(start, why);
        let head = Head::parse(entry, end - start).map_err(corrupt)?;
        if matches!(head.base, Base::None) {
            return Err(corrupt("a whole object where a delta was read".to_owned()));
        }
        // A delta over the limit may still make a small object (copies take a few bytes
        // each): the caller, reading headers only, tells.
        if head.size > self.limit {
            return Ok(None);
        }
        let size = usize::try_from(head.size).map_err(|_| corrupt("too large".to_owned()))?;
        let data = &entry[head.data..];
        inflate(&mut worker.inflate, data, size, &mut worker.delta).map_err(corrupt)?;
        apply_delta(base, &worker.delta, self.limit).map_err(|why| corrupt(why.to_owned()))
    }
}

/// Inflates zlib streams of a known size: whole, in one call, when the size is small enough
/// to allocate on the header's word (every record, every day folder's tree), by
/// [`SmallInflater`] first and libdeflate for what it declines; streamed with flate2 beyond
/// that, growing the output as it is produced, so a header claiming terabytes costs nothing
/// until the data backs it.
///
/// Whole-buffer inflating is what makes a million small blobs cheap: a streaming inflater
/// builds its Huffman tables and keeps a 32 KiB window per stream, which for a 300-byte blob
/// costs more than the inflating itself (measured: about a third of a cold `check` went to
/// zlib-rs's `inflate` and `inflate_table`).
///
/// Streams that start with a block of deflate's fixed codes (zlib's choice for a short
/// input: most deltas) have a decompressor of their own. libdeflate builds the fixed codes'
/// tables once and keeps them until it meets a block with codes of its own, so with one
/// decompressor for both, the deltas and whole objects that alternate in a pack had every
/// table built again (measured: a fifth of a cold `check` went to building tables).
struct Inflater {
    /// For streams whose first block has codes of its own.
    whole: libdeflater::Decompressor,
    /// For streams whose first block uses the fixed codes.
    fixed: libdeflater::Decompressor,
    /// Made on the first large object only.
    stream: Option<Decompress>,
    /// Tried first on every small stream.
    small: SmallInflater,
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            whole: libdeflater::Decompressor::new(),
            fixed: libdeflater::Decompressor::new(),
            stream: None,
            small: SmallInflater::new(),
        }
    }
}

/// Whether the zlib stream `input` starts with a block of deflate's fixed codes (after the
/// two-byte zlib header, the first byte's bits 1-2 are the block type, 1 for fixed).
fn starts_fixed(input: &[u8]) -> bool {
    input.get(2).is_some_and(|b| (b >> 1) & 3 == 1)
}

/// Objects up to this size are first offered to [`SmallInflater`] (a record is a few hundred
/// bytes, a day folder's tree a few tens of kilobytes); past it libdeflate's tables pay off.
const SMALL_MAX: usize = 64 << 10;

/// Objects up to this size are inflated whole, into a buffer of their header's size.
const WHOLE_MAX: usize = 1 << 20;

/// Inflates the zlib stream at the start of `input` into `out`, which must come to exactly
/// `size` bytes (the header's word). Bytes after the stream are ignored (the entry's end is
/// only known as the next entry's start); the stream's checksum is checked.
fn inflate(z: &mut Inflater, input: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if size > WHOLE_MAX {
        let stream = z.stream.get_or_insert_with(|| Decompress::new(true));
        return inflate_stream(stream, input, size, out);
    }
    out.clear();
    if size <= SMALL_MAX {
        out.resize(size, 0);
        if z.small.zlib(input, out) {
            return Ok(());
        }
        out.clear();
    }
    // One byte more than the header says, so a stream that makes more is caught as such
    // rather than as a full buffer.
    out.resize(size + 1, 0);
    let inflater = if starts_fixed(input) {
        &mut z.fixed
    } else {
        &mut z.whole
    };
    let made = inflater.zlib_decompress(input, out).map_err(|e| match e {
        libdeflater::DecompressionError::InsufficientSpace => {
            format!("inflates to more than the {size} bytes its header says")
        }
        libdeflater::DecompressionError::BadData => {
            "corrupt zlib data (or it ends before the object does)".to_owned()
        }
    })?;
    out.truncate(made);
    if made != size {
        return Err(format!("inflates to {made} bytes, its header says {size}"));
    }
    Ok(())
}

/// [`inflate`] for a large object: streamed, the output grown as it is produced (never more
/// than [`PREALLOC_MAX`] ahead of what the data has made).
fn inflate_stream(
    z: &mut Decompress,
    input: &[u8],
    size: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    z.reset(true);
    out.clear();
    out.reserve_exact(size.min(PREALLOC_MAX));
    loop {
        let (used, made) = (z.total_in(), out.len());
        let rest = input.get(used as usize..).unwrap_or_default();
        let status = z
            .decompress_vec(rest, out, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt zlib data: {e}"))?;
        if out.len() > size {
            return Err(format!(
                "inflates to more than the {size} bytes its header says"
            ));
        }
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                if out.len() == out.capacity() {
                    // Full: either a big object still growing, or only the end of the stream
                    // (which needs no room) is left; a little room tells the two apart.
                    out.reserve((size - out.len()).clamp(64, PREALLOC_MAX));
                } else if z.total_in() == used && out.len() == made {
                    return Err("the zlib data ends before the object does".to_owned());
                }
            }
        }
    }
    if out.len() != size {
        return Err(format!(
            "inflates to {} bytes, its header says {size}",
            out.len()
        ));
    }
    Ok(())
}

/// Applies git delta `delta` to `base`: a base size, a result size, then copy and insert
/// instructions, each checked to stay inside the base and the result. `None`, with nothing
/// made, when the result size is over `limit`.
fn apply_delta(base: &[u8], delta: &[u8], limit: u64) -> Result<Option<Vec<u8>>, &'static str> {
    let mut at = 0;
    let base_size = delta_varint(delta, &mut at)?;
    if base_size != base.len() as u64 {
        return Err("the delta's base size is not its base's");
    }
    let result_size = delta_varint(delta, &mut at)?;
    if result_size > limit {
        return Ok(None);
    }
    let result_size = usize::try_from(result_size).map_err(|_| "the delta is too large")?;
    let mut out = Vec::with_capacity(result_size.min(PREALLOC_MAX));
    while let Some(&op) = delta.get(at) {
        at += 1;
        let piece = if op & 0x80 != 0 {
            // Copy: bits 0-3 say which offset bytes follow, bits 4-6 which size bytes.
            let mut offset = 0usize;
            let mut len = 0usize;
            for i in 0..4 {
                if op & (1 << i) != 0 {
                    let b = *delta.get(at).ok_or("a copy runs past the delta's end")?;
                    offset |= usize::from(b) << (8 * i);
                    at += 1;
                }
            }
            for i in 0..3 {
                if op & (0x10 << i) != 0 {
                    let b = *delta.get(at).ok_or("a copy runs past the delta's end")?;
                    len |= usize::from(b) << (8 * i);
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            offset
                .checked_add(len)
                .and_then(|end| base.get(offset..end))
                .ok_or("a copy reaches outside the base")?
        } else if op != 0 {
            let len = usize::from(op);
            let piece = delta
                .get(at..at + len)
                .ok_or("an insert runs past the delta's end")?;
            at += len;
            piece
        } else {
            return Err("delta opcode 0 is reserved");
        };
        if out.len() + piece.len() > result_size {
            return Err("the delta makes more than its result size");
        }
        out.extend_from_slice(piece);
    }
    if out.len() != result_size {
        return Err("the delta makes less than its result size");
    }
    Ok(Some(out))
}

/// A size in a delta's preamble: little-endian groups of 7 bits.
fn delta_varint(delta: &[u8], at: &mut usize) -> Result<u64, &'static str> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = *delta.get(*at).ok_or("the delta ends in its preamble")?;
        *at += 1;
        if shift > 63 {
            return Err("a delta size does not fit 64 bits");
        }
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
    }
}

thread_local! {
    /// The window buffer a thread's last task used, for its next one: a task reads a few
    /// thousand entries, and a fresh buffer grown to its size for each of the hundreds of
    /// tasks of a million-blob read was written over with zeros (and faulted in) again each
    /// time. Per thread, so no buffer moves between threads' allocators.
    static SPARE_WINDOW: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Bytes of a pack read ahead of the entries a worker needs. See the module's comment for
/// why it adapts its size.
struct Window {
    /// Its first `len` bytes are the window; what follows is only room.
    buf: Vec<u8>,
    /// Where in the pack `buf[..len]` comes from.
    start: u64,
    len: usize,
    /// How many of those bytes were asked for: the hit rate that sizes the next read.
    used: usize,
    size: usize,
}

impl Window {
    fn new() -> Window {
        Window {
            buf: Vec::new(),
            start: 0,
            len: 0,
            used: 0,
            size: WINDOW_START,
        }
    }

    /// Bytes `start..end` of the pack (`end` at most the pack's data end).
    fn get(&mut self, pack: &Pack, start: u64, end: u64) -> Result<&[u8], StoreError> {
        let want = (end - start) as usize;
        if start < self.start || end > self.start + self.len as u64 {
            if self.len > 0 {
                if self.used * 8 < self.len {
                    self.size = (self.size / 2).max(WINDOW_MIN);
                } else if self.used * 2 >= self.len {
                    self.size = (self.size * 2).min(WINDOW_MAX);
                }
            }
            let len = want
                .max(self.size)
                .min(usize::try_from(pack.data_end - start).unwrap_or(usize::MAX));
            if self.buf.len() < len {
                self.buf.resize(len, 0);
            }
            // Forget the old window first, so a failed read leaves none.
            self.len = 0;
            pack.file
                .read_exact_at(&mut self.buf[..len], start)
                .map_err(|e| StoreError::io(&pack.path, "cannot read pack", e))?;
            if self.buf.len() > WINDOW_MAX && len <= WINDOW_MAX {
                // One huge object should not keep its buffer for the rest of the run.
                self.buf.truncate(WINDOW_MAX);
                self.buf.shrink_to_fit();
            }
            (self.start, self.len, self.used) = (start, len, 0);
        }
        self.used += want;
        let from = (start - self.start) as usize;
        Ok(&self.buf[from..from + want])
    }
}

/// Where the pack indexes of the repository at `git_dir` place `oid`, for an error about an
/// object libgit2 could not read: the pack file, the object's offset in it, and what is wrong
/// with the pack when that shows from the outside (missing, shorter than the object's offset,
/// a trailing checksum that is not the one its index names, as after a truncation). Lenient
/// where [`PackReader::open`] is strict: a pack too damaged to read is still named.
pub fn locate(git_dir: &Path, oid: git2::Oid) -> Option<(PathBuf, u64, Option<String>)> {
    let common = common_dir(git_dir);
    let mut indexes: Vec<PathBuf> = std::fs::read_dir(common.join("objects/pack"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    indexes.sort();
    let want = oid.as_bytes();
    for idx_path in indexes {
        let Ok(idx) = std::fs::read(&idx_path) else {
            continue;
        };
        let Some(offset) = idx_offset(&idx, want) else {
            continue;
        };
        let path = idx_path.with_extension("pack");
        let pack_sum = &idx[idx.len() - 40..idx.len() - 20];
        let problem = match File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f))) {
            Err(e) => Some(format!("the pack cannot be opened ({e})")),
            Ok((len, _)) if len < offset + 20 => Some(format!(
                "the pack is truncated: {len} bytes, and the object starts at {offset}"
            )),
            Ok((len, file)) => match read_vec(&file, len - 20, 20) {
                Some(sum) if sum == pack_sum => None,
                _ => Some(
                    "the pack's trailing checksum is not the one its index names (truncated or replaced)"
                        .to_owned(),
                ),
            },
        };
        return Some((path, offset, problem));
    }
    None
}

/// The offset a version 2 pack index `idx` gives `oid`, if it has it.
fn idx_offset(idx: &[u8], oid: &[u8]) -> Option<u64> {
    let fanout_end = 8 + 256 * 4;
    if idx.len() < fanout_end + 40 || idx[..4] != [0xff, b't', b'O', b'c'] || be32(&idx[4..]) != 2 {
        return None;
    }
    let n = be32(&idx[8 + 255 * 4..]) as usize;
    let first = usize::from(*oid.first()?);
    let lo = if first == 0 {
        0
    } else {
        be32(&idx[8 + (first - 1) * 4..]) as usize
    };
    let hi = be32(&idx[8 + first * 4..]) as usize;
    let ids = idx.get(fanout_end..fanout_end.checked_add(n.checked_mul(20)?)?)?;
    let k = (lo..hi.min(n)).find(|&k| ids.get(k * 20..k * 20 + 20) == Some(oid))?;
    let offsets_at = fanout_end + n * 24;
    let o = be32(idx.get(offsets_at + k * 4..offsets_at + k * 4 + 4)?);
    if o & 0x8000_0000 == 0 {
        return Some(u64::from(o));
    }
    let large_at = offsets_at + n * 4 + (o & 0x7fff_ffff) as usize * 8;
    Some(be64(idx.get(large_at..large_at + 8)?))
}

/// Where a repository's objects live: a linked worktree's git directory names the main one
/// in `commondir`.
fn common_dir(git_dir: &Path) -> PathBuf {
    match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) if !text.trim().is_empty() => git_dir.join(text.trim()),
        _ => git_dir.to_path_buf(),
    }
}

/// Whether the repository's objects are named by SHA-1 (`extensions.objectformat` unset or
/// `sha1`).
fn uses_sha1(common: &Path) -> bool {
    let Ok(config) = std::fs::read_to_string(common.join("config")) else {
        return true;
    };
    let mut in_extensions = false;
    for line in config.lines() {
        let mut line = line.trim();
        if let Some(rest) = line.strip_prefix('[') {
            let (section, after) = rest.split_once(']').unwrap_or((rest, ""));
            let name = section.split_whitespace().next().unwrap_or_default();
            in_extensions = name.eq_ignore_ascii_case("extensions");
            line = after.trim();
        }
        if !in_extensions {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        if key.trim().eq_ignore_ascii_case("objectformat") {
            let value = value.split(['#', ';']).next().unwrap_or_default();
            return value.trim().trim_matches('"').eq_ignore_ascii_case("sha1");
        }
    }
    true
}

/// Opens the packs of `objects` and, through its alternates, of other repositories (as git
/// does, up to five levels deep, each directory once).
fn collect_packs(objects: &Path, depth: usize, seen: &mut Vec<PathBuf>, packs: &mut Vec<Pack>) {
    let Ok(canonical) = objects.canonicalize() else {
        return;
    };
    if seen.contains(&canonical) {
        return;
    }
    seen.push(canonical);
    if let Ok(entries) = std::fs::read_dir(objects.join("pack")) {
        let mut indexes: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        indexes.sort();
        packs.extend(indexes.iter().filter_map(|p| Pack::open(p)));
    }
    if depth >= 5 {
        return;
    }
    if let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) {
        for line in text.lines().map(str::trim) {
            // Quoted paths (with escapes) are rare enough to leave to libgit2.
            if line.is_empty() || line.starts_with('#') || line.starts_with('"') {
                continue;
            }
            collect_packs(&objects.join(line), depth + 1, seen, packs);
        }
    }
}

fn read_vec(file: &File, at: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(len).ok()?];
    file.read_exact_at(&mut buf, at).ok()?;
    Some(buf)
}

/// An id's first 8 bytes as a number, to sort ids by without a call to memcmp (an id that
/// is not 20 bytes, which no pack here holds, sorts as 0).
fn oid_key(oid: &[u8]) -> u64 {
    if oid.len() == 20 { be64(oid) } else { 0 }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    u64::from(be32(b)) << 32 | u64::from(be32(&b[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// [`super::apply_delta`] without a limit.
    fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, &'static str> {
        super::apply_delta(base, delta, u64::MAX).map(|made| made.expect("no limit"))
    }

    #[test]
    fn a_delta_over_the_limit_makes_nothing() {
        let base = b"hello, world";
        let delta = [
            12, 13, 0x90, 7, 5, b't', b'h', b'e', b'r', b'e', 0x91, 11, 1,
        ];
        assert_eq!(super::apply_delta(base, &delta, 12), Ok(None));
        assert!(super::apply_delta(base, &delta, 13).unwrap().is_some());
    }

    #[test]
    fn delta_copies_and_inserts() {
        let base = b"hello, world";
        // Copy 7 bytes at 0 ("hello, "), insert "there", then copy the "d" at 11.
        let delta = [12, 13, 0x90, 7, 5, b't', b'h', b'e', b'r', b'e'];
        assert_eq!(
            apply_delta(base, &delta),
            Err("the delta makes less than its result size")
        );
        let delta = [
            12, 13, 0x90, 7, 5, b't', b'h', b'e', b'r', b'e', 0x91, 11, 1,
        ];
        assert_eq!(
            apply_delta(base, &delta).unwrap(),
            b"hello, thered".to_vec()
        );
    }

    #[test]
    fn delta_copy_size_zero_means_64_kib() {
        let base = vec![7u8; 0x10000];
        // base size 0x10000 = varint [0x80, 0x80, 0x04]; result the same; copy with no size
        // bytes and no offset bytes.
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        assert_eq!(apply_delta(&base, &delta).unwrap(), base);
    }

    #[test]
    fn bad_deltas_are_errors() {
        let base = b"abc";
        assert_eq!(
            apply_delta(base, &[4, 1, 1, b'x']),
            Err("the delta's base size is not its base's")
        );
        assert_eq!(
            apply_delta(base, &[3, 1, 0]),
            Err("delta opcode 0 is reserved")
        );
        assert_eq!(
            apply_delta(base, &[3, 2, 0x91, 2, 2]),
            Err("a copy reaches outside the base")
        );
        assert_eq!(
            apply_delta(base, &[3, 2, 0x91, 2]),
            Err("a copy runs past the delta's end")
        );
        assert_eq!(
            apply_delta(base, &[3, 2, 3, b'x']),
            Err("an insert runs past the delta's end")
        );
        assert_eq!(
            apply_delta(base, &[3, 1, 2, b'x', b'y']),
            Err("the delta makes more than its result size")
        );
        assert_eq!(
            apply_delta(base, &[3]),
            Err("the delta ends in its preamble")
        );
        let endless = [0xff; 12];
        assert!(apply_delta(base, &endless).is_err());
    }

    #[test]
    fn inflate_checks_the_size() {
        let mut z = Inflater::new();
        let mut out = Vec::new();
        let data = zlib(b"some record\n");
        inflate(&mut z, &data, 12, &mut out).unwrap();
        assert_eq!(out, b"some record\n");
        assert!(inflate(&mut z, &data, 11, &mut out).is_err());
        assert!(inflate(&mut z, &data, 13, &mut out).is_err());
        assert!(inflate(&mut z, &data[..data.len() - 3], 12, &mut out).is_err());
        let mut flipped = data.clone();
        flipped[4] ^= 0x55;
        assert!(inflate(&mut z, &flipped, 12, &mut out).is_err());
        // The checksum alone is wrong.
        let mut summed = data.clone();
        *summed.last_mut().unwrap() ^= 1;
        assert!(inflate(&mut z, &summed, 12, &mut out).is_err());
        // Bytes after the stream (the next entry's) are not its business.
        let mut followed = data.clone();
        followed.extend_from_slice(b"next entry");
        inflate(&mut z, &followed, 12, &mut out).unwrap();
        assert_eq!(out, b"some record\n");
        // Reused after errors.
        inflate(&mut z, &zlib(b""), 0, &mut out).unwrap();
        assert!(out.is_empty());
        assert!(
            inflate(&mut z, &[], 0, &mut out).is_err(),
            "no stream at all"
        );
    }

    #[test]
    fn streams_of_fixed_and_own_codes_inflate_alike_in_any_order() {
        // A short input is written with deflate's fixed codes, a long varied one with codes
        // of its own.
        let short = b"id = \"x\"\n".to_vec();
        let long: Vec<u8> = (0..3000u32)
            .flat_map(|i| format!("line {} of {}\n", i * 7919 % 1000, i % 13).into_bytes())
            .collect();
        let (a, b) = (zlib(&short), zlib(&long));
        assert!(starts_fixed(&a));
        assert!(!starts_fixed(&b));
        let mut z = Inflater::new();
        let mut out = Vec::new();
        for (data, text) in [
            (&a, &short),
            (&b, &long),
            (&a, &short),
            (&a, &short),
            (&b, &long),
        ] {
            inflate(&mut z, data, text.len(), &mut out).unwrap();
            assert_eq!(&out, text);
        }
        // A damaged fixed-code stream is still caught.
        let mut flipped = a.clone();
        flipped[3] ^= 0x55;
        assert!(inflate(&mut z, &flipped, short.len(), &mut out).is_err());
        assert!(!starts_fixed(&[0x78]));
    }

    /// Past [`WHOLE_MAX`] the stream is inflated piecewise, with the same checks; a header
    /// claiming far more than the data makes allocates nothing near its claim.
    #[test]
    fn large_objects_are_streamed_with_the_same_checks() {
        let mut z = Inflater::new();
        let mut out = Vec::new();
        let big: Vec<u8> = (0..WHOLE_MAX + 5000).map(|i| (i % 251) as u8).collect();
        let data = zlib(&big);
        inflate(&mut z, &data, big.len(), &mut out).unwrap();
        assert_eq!(out, big);
        assert!(inflate(&mut z, &data, big.len() - 1, &mut out).is_err());
        assert!(inflate(&mut z, &data, big.len() + 1, &mut out).is_err());
        assert!(inflate(&mut z, &data[..data.len() / 2], big.len(), &mut out).is_err());
        assert!(inflate(&mut z, &data, 1 << 60, &mut out).is_err());
        assert!(out.capacity() <= 2 * PREALLOC_MAX);
        // A small object after a large one is whole again.
        inflate(&mut z, &zlib(b"x"), 1, &mut out).unwrap();
        assert_eq!(out, b"x");
    }

    #[test]
    fn headers() {
        // A blob of 300 bytes: type 3, size 300 = 0b1_0010_1100 -> 0xbc, 0x12.
        let h = Head::parse(&[0xbc, 0x12, 0x78], 10).unwrap();
        assert_eq!((h.kind, h.size, h.data), (3, 300, 2));
        assert!(matches!(h.base, Base::None));
        // OFS_DELTA of size 5, base 200 bytes back: 200 = (0 + 1) * 128 + 72 -> 0x80, 0x48.
        let h = Head::parse(&[0x65, 0x80, 0x48, 0x78], 10).unwrap();
        assert!(matches!(h.base, Base::Offset(200)));
        assert_eq!(h.data, 3);
        assert!(
            Head::parse(&[0x65, 0x00, 0x78], 10).is_err(),
            "its own base"
        );
        assert!(Head::parse(&[0x85], 10).is_err(), "cut short");
        assert!(Head::parse(&[0x05, 0x78], 10).is_err(), "type 0");
        assert!(Head::parse(&[0x55, 0x78], 10).is_err(), "type 5");
        assert!(Head::parse(&[0x35], 1).is_err(), "no data");
        assert!(Head::parse(&[0xff; 16], 100).is_err(), "size overflow");
    }

    /// Walking the index in id order finds exactly what a binary search per id finds: every
    /// id it holds (twice when asked twice), none it does not, across sparse and dense runs.
    #[test]
    fn sorted_lookup_finds_what_find_finds() {
        // Ids spread over every fanout bucket, some buckets crowded, some empty.
        let mut ids: Vec<[u8; 20]> = (0u32..3000)
            .map(|n| {
                let mut id = [0u8; 20];
                let h = n.wrapping_mul(2_654_435_761);
                id[0] = if n % 3 == 0 {
                    0x42
                } else {
                    (h >> 24) as u8 & 0xf7
                };
                id[1..5].copy_from_slice(&h.to_be_bytes());
                id[19] = n as u8;
                id
            })
            .collect();
        ids.sort();
        ids.dedup();
        let mut fanout = vec![0u32; 256];
        for id in &ids {
            for f in &mut fanout[usize::from(id[0])..] {
                *f += 1;
            }
        }
        let index = Index {
            fanout,
            oids: ids.concat(),
            offsets: vec![12; ids.len()],
            large: Vec::new(),
        };
        let mut wanted: Vec<git2::Oid> = Vec::new();
        for (n, id) in ids.iter().enumerate() {
            if n % 4 != 1 {
                wanted.push(git2::Oid::from_bytes(id).unwrap());
            }
            // Absent: just after a held id, and in the empty buckets (high bit 3 set).
            let mut other = *id;
            other[19] ^= 0x80;
            other[0] |= if n % 5 == 0 { 0x08 } else { 0 };
            wanted.push(git2::Oid::from_bytes(&other).unwrap());
        }
        wanted.push(git2::Oid::from_bytes(&ids[7]).unwrap());
        wanted.push(git2::Oid::ZERO_SHA1);
        wanted.reverse();
        let mut order: Vec<(u64, u32)> = wanted
            .iter()
            .enumerate()
            .map(|(i, oid)| (oid_key(oid.as_bytes()), i as u32))
            .collect();
        order.sort_by(|a, b| {
            wanted[a.1 as usize]
                .as_bytes()
                .cmp(wanted[b.1 as usize].as_bytes())
        });
        let mut got = vec![None; wanted.len()];
        index.find_sorted(&order, &wanted, |i, k| {
            assert!(got[i].replace(k).is_none(), "found once");
        });
        let expected: Vec<Option<u32>> = wanted.iter().map(|o| index.find(o.as_bytes())).collect();
        assert_eq!(got, expected);
        assert_eq!(got.iter().flatten().count(), ids.len() - ids.len() / 4 + 1);
    }

    /// Runs git in `dir` without any user or system configuration.
    fn git(dir: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ana")
            .env("GIT_AUTHOR_EMAIL", "ana@example.org")
            .env("GIT_COMMITTER_NAME", "Ana")
            .env("GIT_COMMITTER_EMAIL", "ana@example.org")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// With tasks of 8 objects, the delta trees of a small repository are split into many
    /// tasks (roots grouped, big subtrees handed off): every blob still comes out once and
    /// exactly as libgit2 reads it.
    #[test]
    fn split_delta_trees_decode_like_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        let mut text = String::new();
        for v in 0..120 {
            text.push_str(&format!(
                "line {v} = \"a record corrected {} times\"\n",
                v % 7
            ));
            let name = format!("v{v:03}.toml");
            std::fs::write(dir.path().join(name), &text).unwrap();
        }
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "versions"]);
        git(dir.path(), &["gc", "--aggressive", "-q"]);
        let repo = git2::Repository::open(dir.path()).unwrap();
        let tree = repo.head().unwrap().peel_to_tree().unwrap();
        let wanted: Vec<git2::Oid> = tree.iter().map(|e| e.id()).collect();
        let reader = PackReader::open(repo.path()).unwrap();

        let pack = &reader.packs[0];
        let index = pack.index().unwrap();
        let layout = Layout::new(&index, pack.data_end);
        let items: Vec<(u32, u32)> = wanted
            .iter()
            .enumerate()
            .map(|(i, oid)| (index.find(oid.as_bytes()).unwrap(), i as u32))
            .collect();
        let forest = Forest::build(pack, OBJ_BLOB, &index, &layout, &items).unwrap();
        let biggest = forest
            .roots
            .iter()
            .map(|&r| forest.nodes[r as usize].subtree);
        assert!(
            biggest.max().unwrap() > TASK_NODES,
            "some subtree is split off"
        );

        let got: Vec<Mutex<Vec<Vec<u8>>>> = wanted.iter().map(|_| Mutex::new(Vec::new())).collect();
        let missed = reader
            .read_many(&wanted, &|i, bytes| got[i].lock().unwrap().push(bytes))
            .unwrap();
        assert!(missed.is_empty());
        for (oid, got) in wanted.iter().zip(got) {
            let got = got.into_inner().unwrap();
            assert_eq!(got, [repo.find_blob(*oid).unwrap().content()], "{oid}");
        }
    }

    #[test]
    fn object_format() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        assert!(uses_sha1(dir.path()), "no config");
        std::fs::write(&config, "[core]\n\tbare = false\n").unwrap();
        assert!(uses_sha1(dir.path()));
        std::fs::write(&config, "[core]\n[extensions]\n\tobjectFormat = sha256\n").unwrap();
        assert!(!uses_sha1(dir.path()));
        std::fs::write(&config, "[Extensions]\nobjectformat = SHA1 ; fine\n").unwrap();
        assert!(uses_sha1(dir.path()));
    }
}
