//! `ovn check` on the working tree: replayed when no ledger file changed since an answer was
//! stored, and otherwise read again only where something changed.
//!
//! A revision's answer is pinned by its commit id (see [`super::answers`]); a working tree
//! has none, so the answer is pinned by the tree's [`Stamp`] instead: a digest of the
//! `lstat` data of every entry the read lists (as git's index keeps stat data to know a file
//! unchanged without reading it). Whatever the check prints comes from those files (their
//! records, and the excerpts of the files a problem points into), so an equal stamp means an
//! equal answer. The key also names the ledger's place on disk and in the repository, the
//! question (the parsed arguments) and the `ovn` version.
//!
//! When the stamp changed, most of the tree usually did not: a day folder whose own part of
//! the stamp is what it was holds what it held. So each read leaves a memory (one cache
//! entry per working tree, [`key::worktree_memory`]): every day folder's part of the stamp
//! and the id of the git tree its files hash to (each file's blob id as git computes it,
//! hashed into a tree as git writes one). The next read takes a folder whose part is
//! unchanged from the folder cache under that tree id, as `check --at` and `--staged` take a
//! committed or staged folder (summarised, for the quick load), and reads only the other
//! folders from disk, hashing them for the memory and the folder cache. The tree id is
//! computed with every file as mode 100644: a folder holding an executable file gets an id
//! git would not write, which costs a miss against a committed folder, never a wrong answer.
//!
//! Stat data alone still means an `lstat` of every file, which at a million files is most of
//! a second. Where git's `core.fsmonitor` names a hook (watchman's sample, say), the hook is
//! asked first, with the token stored in the memory, which paths changed since the last read
//! (see the store's `fsmonitor`); day folders it does not name keep their remembered parts
//! without being looked at, and when it names no ledger path at all the stored answer is
//! printed without looking at any file. The hook is asked before anything is read, and its
//! new token is stored with what the read saw, so a change made during the read is reported
//! next time. Any failure of the hook is "anything may have changed": the full `lstat` walk.
//!
//! A folder the memory does not know (every folder, on the first check of a fresh clone)
//! may still be known to git: while the tree is walked, its entries' `lstat` data is
//! compared with git's index (see the store's `vouch`), and a folder git's index vouches
//! for is taken as the tree git has for it: filled into the folder cache from git's objects
//! a window at a time when many are missing (as a first `check --at` fills it), so that a
//! fresh clone's first check neither opens every file nor holds every record.
//!
//! What is stored may be trusted later only when it could not change without its stat data
//! changing: not when an entry changed within [`RACY`] of the read (a second change in the
//! same tick of the file system's clock would leave its times as they were: git's "racily
//! clean" rule, with a margin for coarse clocks): such an answer is not stored, and such a
//! folder's tree id is not remembered. An answer is not stored either when a stray file is
//! present (whether it is read depends on `.gitignore`, which the stamp does not cover),
//! and a day folder holding one, or anything but regular files, is always read from disk.
//! Errors are never stored, and with the cache off nothing is read or written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git2::Oid;
use rayon::prelude::*;
use sha1::{Digest, Sha1};

use super::files::{FolderCache, Key, day_folder};
use super::load::{Listing, Rest, Scope, Source, Taken};
use super::{AnswerCache, key};
use crate::core::codec;
use crate::core::ledger::{Loaded, NETWORK_FILE, Outcome, Parser, RecordType, near_miss_folder};
use crate::core::parse::MAX_FILE_BYTES;
use crate::core::record::FileId;
use crate::core::summary::Elsewhere;
use crate::store::read::{Handle, worktree_outcome};
use crate::store::{Changed, FolderStamp, Stamp, Store, StoreError};

/// How long before a read an entry must have last changed for its answer to be stored.
pub const RACY: Duration = Duration::from_secs(2);

/// How a command reads the working tree for [`answer`]: in full, or only the day folders
/// that changed since the last read.
pub struct Reader<'a> {
    store: &'a Store,
    /// Day folders known unchanged, with their tree ids; `None` reads in full.
    trusted: Option<BTreeMap<String, Oid>>,
    /// Of those, the ones git's index vouches for: filled into the cache from git's objects
    /// when it lacks many of them.
    vouched: BTreeSet<String>,
    /// The tree ids of the day folders read whole, for the memory.
    read: Mutex<Vec<(String, Oid)>>,
}

impl Reader<'_> {
    /// Parses and checks the ledger in the working tree: the day folders known unchanged
    /// from the cache, the rest from disk. Exactly what a full read gives.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        if let Some(trusted) = &self.trusted
            && let Some(cache) = FolderCache::of(self.store)
            // Anything the quicker way cannot do is done the plain way, which also reports
            // any error as it always has.
            && let Ok(Some(loaded)) = load(self.store, &cache, trusted, &self.vouched, &self.read)
        {
            return Ok(loaded);
        }
        self.store.load_worktree()
    }
}

/// Answers `question` about the working tree of `store`'s ledger: from the answer cache
/// when the tree's stamp is the one an answer was stored under, else by `compute` (which
/// loads the tree through the [`Reader`] it is given), whose output is then stored when it
/// may be trusted later (see the module's comment). `user_attributes` is the user's default
/// git attributes file (see the store's `index_files`).
pub fn answer<E: From<std::io::Error>>(
    store: &Store,
    user_attributes: Option<&Path>,
    question: &str,
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>, &Reader<'_>) -> Result<u8, E>,
) -> Result<u8, E> {
    let mut buf = Vec::new();
    let started = SystemTime::now();
    let mut reader = Reader {
        store,
        trusted: None,
        vouched: BTreeSet::new(),
        read: Mutex::new(Vec::new()),
    };
    let place = AnswerCache::of(store).and_then(|cache| {
        let root = store.root()?.to_string_lossy().into_owned();
        Some((cache, AnswerCache::memories(store)?, root))
    });
    let Some((cache, memories, root)) = place else {
        let status = compute(&mut buf, &reader)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    let memory_key = key::worktree_memory(&root, store.prefix());
    let memory = memories
        .get(&memory_key)
        .and_then(|(_, b)| Memory::decode(&b));
    // The hook first: whatever changes after this is reported next time.
    let token = memory.as_ref().map_or("", |m| m.token.as_str());
    let report = store.query_fsmonitor(token);
    let changed = match (&report, &memory) {
        (Some(report), Some(memory)) if !memory.token.is_empty() => match &report.changed {
            Changed::Paths(paths) => Some(Touched::of(store.prefix(), paths)),
            Changed::Anything => None,
        },
        _ => None,
    };
    let (stamp, vouched) = walk(store, user_attributes, memory.as_ref(), changed.as_ref());
    let Some(stamp) = stamp else {
        let status = compute(&mut buf, &reader)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    let answer_key = key::worktree_answer(&root, store.prefix(), question, &stamp.digest);
    let new_token = report.map(|r| r.token).unwrap_or_default();
    if !stamp.strays
        && let Some((status, bytes)) = cache.get(&answer_key)
    {
        out.write_all(&bytes)?;
        // Only what the memory would say differently is written.
        let unchanged = memory.as_ref().is_some_and(|m| {
            m.token == new_token && m.digest == stamp.digest && m.days.len() == stamp.days.len()
        });
        if !unchanged {
            let memory = Memory::after(&stamp, memory.as_ref(), &[], new_token, started);
            memories.put(&memory_key, 0, &memory.encode());
        }
        return Ok(status);
    }
    // With no memory yet, every folder is read and hashed, to be remembered, but for those
    // git's index vouches for, settled as the memory's must be.
    let mut trusted = memory
        .as_ref()
        .map(|m| m.trusted(&stamp, started))
        .unwrap_or_default();
    let mut from_index = Vec::new();
    for (day, newest, tree) in vouched {
        if settled(newest, started) {
            trusted.insert(day.clone(), tree);
            from_index.push((day.clone(), tree));
            reader.vouched.insert(day);
        }
    }
    reader.trusted = Some(trusted);
    let status = compute(&mut buf, &reader)?;
    out.write_all(&buf)?;
    if !stamp.strays && settled(stamp.newest, started) {
        cache.put(&answer_key, status, &buf);
    }
    let mut read = reader.read.into_inner().unwrap_or_else(|p| p.into_inner());
    read.extend(from_index);
    let memory = Memory::after(&stamp, memory.as_ref(), &read, new_token, started);
    memories.put(&memory_key, 0, &memory.encode());
    Ok(status)
}

/// The working tree's stamp (`None` when it cannot be made: the read then fails as it
/// would), walking only what the hook's report (`changed`) may have touched when there is
/// one, and the day folders walked that git's index vouches for and the `memory` cannot.
fn walk(
    store: &Store,
    user_attributes: Option<&Path>,
    memory: Option<&Memory>,
    changed: Option<&Touched>,
) -> (Option<Stamp>, Vec<Offered>) {
    // The index is read only once enough folders are offered to it (at a million files it
    // is 200 MB in memory and a fifth of a second: more than a few changed folders cost to
    // read from disk), and goes before the ledger is read.
    let vouched: Mutex<Vec<Offered>> = Mutex::new(Vec::new());
    let index = store.index_files(user_attributes);
    let vouch = index.as_ref().map(|i| i.vouch());
    let offer = |day: &str, newest: (i64, i64), files: &[(String, std::fs::Metadata)]| {
        if let Some(v) = vouch.as_ref().and_then(|v| v.folder(day, files)) {
            let mut found = vouched.lock().unwrap_or_else(|p| p.into_inner());
            found.push((day.to_owned(), newest, v));
        }
    };
    // The first folders offered wait here until there are enough of them.
    let waiting: Mutex<Option<Vec<Waiting>>> = Mutex::new(Some(Vec::new()));
    let shown = |day: &str, part: &FolderStamp, files: &[(String, std::fs::Metadata)]| {
        let remembered = memory
            .and_then(|m| m.days.get(day))
            .is_some_and(|(was, tree)| was == part && tree.is_some());
        if remembered || !part.plain {
            return;
        }
        let mut slot = waiting.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = slot.as_mut() else {
            drop(slot);
            return offer(day, part.newest, files);
        };
        list.push((day.to_owned(), part.newest, files.to_vec()));
        if list.len() < FILL_AT_LEAST {
            return;
        }
        let list = slot.take().unwrap_or_default();
        drop(slot);
        for (day, newest, files) in list {
            offer(&day, newest, &files);
        }
    };
    let stamp = match (changed, memory) {
        (Some(touched), Some(memory)) if touched.is_empty() => Some(memory.stamp()),
        // A tree that cannot be listed is left to the read, to fail as it would.
        (Some(touched), Some(memory)) => store
            .worktree_stamp_showing(
                &|day| {
                    if touched.touches(day) {
                        return None;
                    }
                    memory.days.get(day).map(|(part, _)| *part)
                },
                &shown,
            )
            .ok()
            .flatten(),
        _ => store
            .worktree_stamp_showing(&|_| None, &shown)
            .ok()
            .flatten(),
    };
    drop(vouch);
    drop(index);
    (
        stamp,
        vouched.into_inner().unwrap_or_else(|p| p.into_inner()),
    )
}

/// A day folder offered to git's index before enough were to read it: its path, the latest
/// time of its part of the stamp, and its entries.
type Waiting = (String, (i64, i64), Vec<(String, std::fs::Metadata)>);

/// A day folder git's index vouched for while the tree was walked: its path, the latest
/// time of its part of the stamp, and what the index says it holds.
type Offered = (String, (i64, i64), Oid);

/// The ledger paths a `core.fsmonitor` hook reported changed: the day folders they are in,
/// and the folders above day folders (a change there may be anywhere below).
struct Touched {
    days: std::collections::HashSet<String>,
    above: Vec<String>,
}

impl Touched {
    /// The ledger's part of `paths` (relative to the working tree's root; the ledger lives
    /// at `prefix`).
    fn of(prefix: &str, paths: &[String]) -> Touched {
        let mut touched = Touched {
            days: Default::default(),
            above: Vec::new(),
        };
        for path in paths {
            let path = path.trim_end_matches('/');
            let rel = if prefix.is_empty() {
                Some(path)
            } else {
                path.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
            };
            let Some(rel) = rel else {
                // Above the ledger (its own folder, or the root): anything below.
                if prefix
                    .strip_prefix(path)
                    .is_some_and(|r| path.is_empty() || r.is_empty() || r.starts_with('/'))
                {
                    touched.above.push(String::new());
                }
                continue;
            };
            if !in_ledger(rel) {
                continue;
            }
            let parts: Vec<&str> = rel.splitn(5, '/').collect();
            if parts.len() >= 4 {
                touched.days.insert(parts[..4].join("/"));
            } else {
                touched.above.push(rel.to_owned());
            }
        }
        touched
    }

    fn is_empty(&self) -> bool {
        self.days.is_empty() && self.above.is_empty()
    }

    /// Whether anything in the day folder `day` may have changed.
    fn touches(&self, day: &str) -> bool {
        self.days.contains(day)
            || self.above.iter().any(|a| {
                a.is_empty()
                    || day
                        .strip_prefix(a.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    }
}

/// Whether a ledger-relative path is (or is in, or is above) what the working tree's read
/// lists: `ovn.toml`, the record folders and their near misses.
fn in_ledger(rel: &str) -> bool {
    let top = rel.split('/').next().unwrap_or("");
    rel.is_empty()
        || top == NETWORK_FILE
        || RecordType::ALL.iter().any(|k| k.folder() == top)
        || near_miss_folder(top).is_some()
}

/// What the last read of a working tree saw (see the module's comment).
#[derive(Debug, Default, PartialEq)]
struct Memory {
    /// The `core.fsmonitor` token asked with next (empty: none).
    token: String,
    /// The whole stamp then.
    digest: [u8; 32],
    newest: (i64, i64),
    strays: bool,
    /// Every day folder's part then, and the tree id its files hashed to (when known and
    /// settled).
    days: BTreeMap<String, (FolderStamp, Option<Oid>)>,
}

impl Memory {
    /// The stamp remembered (for a tree the hook says is unchanged).
    fn stamp(&self) -> Stamp {
        Stamp {
            digest: self.digest,
            newest: self.newest,
            strays: self.strays,
            days: self
                .days
                .iter()
                .map(|(d, (p, _))| (d.clone(), *p))
                .collect(),
        }
    }

    /// The day folders of `stamp` whose part is what this memory has, with their tree ids.
    fn trusted(&self, stamp: &Stamp, started: SystemTime) -> BTreeMap<String, Oid> {
        stamp
            .days
            .iter()
            .filter_map(|(day, part)| {
                let (was, tree) = self.days.get(day)?;
                let usable = was == part && part.plain && settled(part.newest, started);
                Some((day.clone(), (*tree)?)).filter(|_| usable)
            })
            .collect()
    }

    /// The memory after a read that saw `stamp`: the tree ids of the folders `read` from
    /// disk, and the ids `old` had for folders whose part did not change; none for a folder
    /// changed within [`RACY`] of the read.
    fn after(
        stamp: &Stamp,
        old: Option<&Memory>,
        read: &[(String, Oid)],
        token: String,
        started: SystemTime,
    ) -> Memory {
        let read: HashMap<&str, Oid> = read.iter().map(|(d, t)| (d.as_str(), *t)).collect();
        let days = stamp
            .days
            .iter()
            .map(|(day, part)| {
                let kept = old
                    .and_then(|m| m.days.get(day))
                    .filter(|(was, _)| was == part)
                    .and_then(|(_, tree)| *tree);
                let tree = read.get(day.as_str()).copied().or(kept);
                let tree = tree.filter(|_| part.plain && settled(part.newest, started));
                (day.clone(), (*part, tree))
            })
            .collect();
        Memory {
            token,
            digest: stamp.digest,
            newest: stamp.newest,
            strays: stamp.strays,
            days,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.days.len() * 96);
        codec::put_str(&mut out, &self.token);
        out.extend_from_slice(&self.digest);
        put_time(&mut out, self.newest);
        out.push(u8::from(self.strays));
        codec::put_u64(&mut out, self.days.len() as u64);
        for (day, (part, tree)) in &self.days {
            codec::put_str(&mut out, day);
            out.extend_from_slice(&part.digest);
            put_time(&mut out, part.newest);
            let flags =
                u8::from(part.strays) | u8::from(part.plain) << 1 | u8::from(tree.is_some()) << 2;
            out.push(flags);
            if let Some(tree) = tree {
                out.extend_from_slice(tree.as_bytes());
            }
        }
        out
    }

    fn decode(mut input: &[u8]) -> Option<Memory> {
        let input = &mut input;
        let token = codec::get_str(input)?.to_owned();
        let digest = take::<32>(input)?;
        let newest = get_time(input)?;
        let (&strays, rest) = input.split_first()?;
        *input = rest;
        let count = codec::get_u64(input)?;
        let mut days = BTreeMap::new();
        for _ in 0..count {
            let day = codec::get_str(input)?.to_owned();
            let digest = take::<32>(input)?;
            let newest = get_time(input)?;
            let (&flags, rest) = input.split_first()?;
            *input = rest;
            let tree = if flags & 4 != 0 {
                Some(Oid::from_bytes(&take::<20>(input)?).ok()?)
            } else {
                None
            };
            let part = FolderStamp {
                digest,
                newest,
                strays: flags & 1 != 0,
                plain: flags & 2 != 0,
            };
            days.insert(day, (part, tree));
        }
        input.is_empty().then_some(Memory {
            token,
            digest,
            newest,
            strays: strays != 0,
            days,
        })
    }
}

fn put_time(out: &mut Vec<u8>, (secs, nanos): (i64, i64)) {
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&nanos.to_le_bytes());
}

fn get_time(input: &mut &[u8]) -> Option<(i64, i64)> {
    let secs = i64::from_le_bytes(take::<8>(input)?);
    let nanos = i64::from_le_bytes(take::<8>(input)?);
    Some((secs, nanos))
}

fn take<const N: usize>(input: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = input.split_first_chunk::<N>()?;
    *input = rest;
    Some(*head)
}

/// The loaded working tree, with the day folders `trusted` names (path, tree id) taken from
/// `cache` (quickly first, as summaries, then in full; those git's index `vouched` for
/// filled into it first when it lacks many), and the rest read from disk; the tree ids of
/// day folders read whole go to `read`. `None` when the ledger cannot be read this
/// way (no plain `ovn.toml`, a cache entry that did not decode).
fn load(
    store: &Store,
    cache: &FolderCache,
    trusted: &BTreeMap<String, Oid>,
    vouched: &BTreeSet<String>,
    read: &Mutex<Vec<(String, Oid)>>,
) -> Result<Option<Loaded>, StoreError> {
    let Some(root) = store.root() else {
        return Ok(None);
    };
    // The folder cache is keyed by `ovn.toml`'s blob id, whose bytes shape every parse.
    let network = match store.read_worktree_file(NETWORK_FILE)? {
        Some(bytes) if bytes.len() <= MAX_FILE_BYTES => bytes,
        _ => return Ok(None),
    };
    let disk = Disk {
        root: root.to_path_buf(),
        network,
        read,
    };
    let settings = blob_id(&disk.network);
    fill_vouched(store, cache, trusted, vouched, settings, &disk.network);
    for quick in [true, false] {
        // A quick load needs summarised folders to stand in; with none it is a full one.
        let Some(listing) = listing(store, cache, trusted, settings, quick)? else {
            continue;
        };
        let loaded = if quick {
            super::quick::load_listing_quickly_from(store, listing, cache, Some(&disk))?
        } else {
            super::load::load_listing_from(listing, cache, Elsewhere::default(), &disk)?
        };
        if let Some((loaded, _)) = loaded {
            return Ok(Some(loaded));
        }
        read.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    Ok(None)
}

/// Day folders git's index may vouch for are asked about only when there are this many,
/// and those that the cache lacks, this many or more, are filled into it from git's objects
/// before the read (below that, reading them from disk costs less than reading the index or
/// opening the pack indexes).
const FILL_AT_LEAST: usize = 32;

/// Fills `cache` with the day folders git's index `vouched` for that it lacks (a fresh
/// clone's first check: all of them), from git's objects a window at a time, as a first
/// `check --at` does, so that the read after takes them as summaries instead of holding
/// every record. A folder whose tree git does not have (staged, never committed) is left
/// to that read; anything that fails here is too.
fn fill_vouched(
    store: &Store,
    cache: &FolderCache,
    trusted: &BTreeMap<String, Oid>,
    vouched: &BTreeSet<String>,
    settings: Oid,
    network: &[u8],
) {
    if vouched.len() < FILL_AT_LEAST {
        return;
    }
    let current: Vec<Key> = trusted
        .iter()
        .filter_map(|(day, tree)| Key::of_day(day, *tree, settings))
        .collect();
    let wanted: Vec<Key> = current
        .iter()
        .filter(|k| vouched.contains(&k.folder))
        .cloned()
        .collect();
    let _ = super::window::fill_folders(
        store,
        cache,
        &wanted,
        &current,
        network,
        FILL_AT_LEAST,
        None,
    );
}

/// The working tree's listing: the `trusted` day folders the cache holds taken from it
/// (summarised for a `quick` load), every other file from disk; `None` when a quick
/// listing gives up.
fn listing(
    store: &Store,
    cache: &FolderCache,
    trusted: &BTreeMap<String, Oid>,
    settings: Oid,
    quick: bool,
) -> Result<Option<Listing>, StoreError> {
    let mut folders: Vec<(String, Oid)> = trusted
        .iter()
        .filter(|(day, _)| day_folder(day).is_some())
        .map(|(d, t)| (d.clone(), *t))
        .collect();
    let offered: Vec<String> = folders.iter().map(|(d, _)| d.clone()).collect();
    let mut items = Vec::new();
    let mut taken = Taken::default();
    let scope = quick.then_some(Scope::Checks);
    // A quick load needs summarised folders to stand in; with none it is a full one.
    let taken_level =
        super::folders::take_level(cache, &mut folders, settings, scope, &mut items, &mut taken);
    if !taken_level || (quick && taken.summarised.is_empty()) {
        return Ok(None);
    }
    // Those left in `folders` the cache did not have: read from disk with the rest.
    let left: std::collections::HashSet<&str> = folders.iter().map(|(d, _)| d.as_str()).collect();
    let from_cache: std::collections::HashSet<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|d| !left.contains(d))
        .collect();
    let (_, paths) = store.list_worktree_skipping(&|rel| from_cache.contains(rel))?;
    items.extend(
        paths
            .into_iter()
            .map(|p| (p, Source::Git(Handle::Blob(Oid::ZERO_SHA1)))),
    );
    Ok(Some(Listing {
        items,
        taken,
        commit: Oid::ZERO_SHA1,
    }))
}

/// Reading the files the cache does not hold from the working tree.
struct Disk<'a> {
    root: PathBuf,
    /// `ovn.toml`, read before the listing.
    network: Vec<u8>,
    /// Where the tree ids of the day folders read go.
    read: &'a Mutex<Vec<(String, Oid)>>,
}

impl Rest for Disk<'_> {
    fn network(&self, _: &Source) -> Result<Vec<u8>, StoreError> {
        Ok(self.network.clone())
    }

    fn read(
        &self,
        parser: &Parser,
        _: &[Source],
        files: &[FileId],
    ) -> Result<(Vec<Outcome>, Vec<Key>), StoreError> {
        let paths = parser.paths();
        let read: Vec<(Outcome, Option<Oid>)> = files
            .par_iter()
            .map(|&file| {
                let mut id = None;
                let outcome = worktree_outcome(&self.root, parser, file, paths.get(file), |b| {
                    id = Some(blob_id(b));
                })?;
                Ok((outcome, id))
            })
            .collect::<Result<_, StoreError>>()?;
        let settings = blob_id(&self.network);
        let mut whole = Vec::new();
        let mut trees = Vec::new();
        // Day folders, each a run of files in path order.
        let mut at = 0;
        while at < files.len() {
            let path = paths.get(files[at]);
            let folder = Path::new(path)
                .parent()
                .and_then(Path::to_str)
                .unwrap_or("");
            let end = at
                + files[at..]
                    .iter()
                    .take_while(|&&f| {
                        paths
                            .get(f)
                            .strip_prefix(folder)
                            .is_some_and(|r| r.starts_with('/'))
                    })
                    .count();
            if let Some(kind) = day_folder(folder)
                && let Some(tree) = tree_of(
                    folder,
                    files[at..end].iter().map(|&f| paths.get(f)),
                    &read[at..end],
                )
            {
                trees.push((folder.to_owned(), tree));
                whole.push(Key {
                    kind,
                    folder: folder.to_owned(),
                    tree,
                    settings,
                });
            }
            at = end.max(at + 1);
        }
        self.read
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(trees);
        Ok((read.into_iter().map(|(o, _)| o).collect(), whole))
    }
}

/// The tree id of the day folder `folder` from its files (`paths`, and what reading each
/// gave): `None` unless each is directly in it and was read whole.
fn tree_of<'a>(
    folder: &str,
    paths: impl Iterator<Item = &'a str>,
    read: &[(Outcome, Option<Oid>)],
) -> Option<Oid> {
    let mut files = Vec::with_capacity(read.len());
    for (path, (_, id)) in paths.zip(read) {
        let name = &path[folder.len() + 1..];
        if name.contains('/') {
            return None;
        }
        files.push((name.as_bytes(), false, (*id)?));
    }
    Some(crate::store::folder_tree_id(files.into_iter()))
}

/// The id git gives a blob of `bytes`.
fn blob_id(bytes: &[u8]) -> Oid {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    Oid::from_bytes(&hasher.finalize()).unwrap_or(Oid::ZERO_SHA1)
}

/// Whether an entry last changed at `newest` (seconds and nanoseconds since the epoch)
/// changed at least [`RACY`] before `started`.
pub(super) fn settled(newest: (i64, i64), started: SystemTime) -> bool {
    let Some(limit) = started
        .checked_sub(RACY)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
    else {
        return false;
    };
    let limit = (
        i64::try_from(limit.as_secs()).unwrap_or(i64::MAX),
        i64::from(limit.subsec_nanos()),
    );
    newest < limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_changed_just_before_the_read_is_not_settled() {
        let started = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(settled((997, 999_999_999), started));
        assert!(!settled((998, 0), started));
        assert!(!settled((999, 500), started));
        assert!(!settled((2_000, 0), started), "a time in the future");
        assert!(settled((i64::MIN, 0), started), "no entry at all");
    }

    #[test]
    fn a_blob_id_is_git_s() {
        assert_eq!(
            blob_id(b"hello\n").to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn a_memory_reads_back_as_written() {
        let part = |n: u8, plain: bool| FolderStamp {
            digest: [n; 32],
            newest: (i64::from(n), -1),
            strays: !plain,
            plain,
        };
        let mut days = BTreeMap::new();
        days.insert(
            "contributions/2026/01/02".to_owned(),
            (part(1, true), Some(Oid::from_bytes(&[7; 20]).unwrap())),
        );
        days.insert("approvals/2026/01/02".to_owned(), (part(2, false), None));
        let memory = Memory {
            token: "c:1:2".to_owned(),
            digest: [9; 32],
            newest: (i64::MIN, 5),
            strays: true,
            days,
        };
        let bytes = memory.encode();
        assert_eq!(Memory::decode(&bytes), Some(memory));
        assert_eq!(Memory::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(Memory::decode(&[bytes.as_slice(), b"x"].concat()), None);
    }

    #[test]
    fn what_a_hook_reports_touches() {
        let paths = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let t = Touched::of(
            "",
            &paths(&["README.md", "contributions/2026/01/02/x.toml"]),
        );
        assert!(t.touches("contributions/2026/01/02"));
        assert!(!t.touches("contributions/2026/01/03"));
        let t = Touched::of("", &paths(&["src/main.rs", ".git/index"]));
        assert!(t.is_empty());
        let t = Touched::of("", &paths(&["contributions/2026/"]));
        assert!(t.touches("contributions/2026/01/03"));
        assert!(!t.touches("contributions/2025/01/03"));
        let t = Touched::of("ledger", &paths(&["ledger/agents/a.toml", "other/x"]));
        assert!(!t.is_empty());
        assert!(!t.touches("contributions/2026/01/03"));
        assert!(Touched::of("ledger", &paths(&["ledger"])).touches("contributions/2026/01/03"));
        assert!(Touched::of("ledger", &paths(&["ledger-x/a"])).is_empty());
    }
}
