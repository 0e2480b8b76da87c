//! The small records kept by blob id: the files outside the day folders (agents, projects,
//! resources, agreements, payouts, ...), which every read of a revision takes from git.
//!
//! A read after a new commit takes its day folders from the cache, but read those few
//! hundred files through libgit2 each time: at a million records (260 such files, most of
//! them deltas in the pack), about 10 ms of a 0.2 s payout preview, as long as
//! `git cat-file --batch` takes for them. They are kept instead in one file of parts, each
//! under its blob id, and a kept blob is used only when its bytes hash to that id again (git
//! blob ids are SHA-1 digests of their content), so what is parsed is exactly what git
//! holds whatever the file says. Only what a read planned for libgit2 is kept (a read of
//! thousands of blobs goes through the pack reader, which this does not touch), none over the
//! bound of most files, and no more than [`MAX_BYTES`] in all. The file's key names only the
//! `ovn` version, so when it is written again any other file there (another version's) goes.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::{ObjectType, Oid};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::files::{FolderCache, PartCache, day_folder};
use super::key;
use super::reports::folder_of;
use crate::core::ledger::{Outcome, Parser};
use crate::core::parse::MAX_FILE_BYTES;
use crate::store::StoreError;
use crate::store::read::{BlobReader, Reading};

/// The most bytes of blobs kept: a ledger's small records are tens of kilobytes; a pull
/// request adding thousands of large files is read from git as before.
pub(crate) const MAX_BYTES: usize = 4 << 20;

/// The blobs a kept `file` holds, by id (the parts whose key is not a blob id are none).
fn by_id(file: &[u8]) -> FxHashMap<Oid, &[u8]> {
    PartCache::parts(file)
        .into_iter()
        .filter_map(|(name, bytes)| Some((Oid::from_str(name).ok()?, bytes)))
        .collect()
}

/// Serves the blobs a kept file holds, each only when its bytes hash to its id.
struct Serve<'k> {
    by_id: FxHashMap<Oid, &'k [u8]>,
}

impl BlobReader for Serve<'_> {
    fn blobs_up_to(
        &self,
        wanted: &[Oid],
        limit: usize,
        sink: &(dyn Fn(usize, Vec<u8>) + Sync),
    ) -> Result<Vec<usize>, StoreError> {
        let missed = wanted
            .par_iter()
            .enumerate()
            .filter_map(|(i, oid)| {
                let found = self
                    .by_id
                    .get(oid)
                    .filter(|b| b.len() <= limit && blob_id(b) == Some(*oid));
                match found {
                    Some(bytes) => {
                        sink(i, bytes.to_vec());
                        None
                    }
                    None => Some(i),
                }
            })
            .collect();
        Ok(missed)
    }
}

/// The git blob id of `bytes`.
fn blob_id(bytes: &[u8]) -> Option<Oid> {
    Oid::hash_object(ObjectType::Blob, bytes).ok()
}

/// Reads `reading` from the git directory `git_dir` as [`Reading::read`] does, the small
/// records taken from `cache` when it holds them (in a read through libgit2 only); when one
/// was read from git, the file is written anew with this read's small records.
pub(crate) fn read(
    cache: &FolderCache,
    reading: Reading,
    git_dir: &Path,
    parser: &Parser,
) -> Result<Vec<Outcome>, StoreError> {
    // A read of thousands goes through the pack reader: nothing to take or keep, and no
    // file to read nor path to look at.
    if !reading.through_libgit2() {
        return reading.read(git_dir, parser);
    }
    // The small records among those read: by position, each read from git once at most.
    let paths = parser.paths();
    let small: Vec<bool> = reading
        .files()
        .iter()
        .zip(reading.wanted())
        .map(|(&file, oid)| !oid.is_zero() && day_folder(folder_of(paths.get(file))).is_none())
        .collect();
    let wanted: Vec<Oid> = reading.wanted().to_vec();
    let store = cache.blobs();
    let name = key::blobs();
    let kept = store.read(&name).unwrap_or_default();
    let serve = Serve {
        by_id: by_id(&kept),
    };
    let read_now: Mutex<Vec<(usize, Vec<u8>)>> = Mutex::new(Vec::new());
    // Bytes read now, counted before they are copied: past the bound, none is kept (a
    // pull request adding thousands of large files must not be held twice).
    let counted = AtomicUsize::new(0);
    let keep = |i: usize, bytes: &[u8]| {
        // One over the bound of most files (a large payout record) would be read from git
        // again each time anyway (see `Serve`): not kept.
        if small.get(i).copied().unwrap_or(false)
            && bytes.len() <= MAX_FILE_BYTES
            && counted.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len() <= MAX_BYTES
        {
            let mut now = read_now.lock().unwrap_or_else(|p| p.into_inner());
            now.push((i, bytes.to_vec()));
        }
    };
    let outcomes = reading.read_keeping(git_dir, parser, &serve, &keep)?;
    let read_now = read_now.into_inner().unwrap_or_else(|p| p.into_inner());
    let within = counted.into_inner() <= MAX_BYTES;
    if !read_now.is_empty() && within && cache.writes() {
        write(&store, &name, &small, &wanted, &serve, read_now);
    }
    Ok(outcomes)
}

/// Writes the kept blobs anew: every small record of this read (`small`, by position among
/// `wanted`), from the file as it was (`serve`) or as just read (`read_now`), unless they
/// are more than [`MAX_BYTES`] in all.
fn write(
    store: &PartCache,
    name: &str,
    small: &[bool],
    wanted: &[Oid],
    serve: &Serve<'_>,
    read_now: Vec<(usize, Vec<u8>)>,
) {
    let mut parts: FxHashMap<Oid, Vec<u8>> = read_now
        .into_iter()
        .map(|(i, bytes)| (wanted[i], bytes))
        .collect();
    for (i, oid) in wanted.iter().enumerate() {
        if small[i]
            && !parts.contains_key(oid)
            && let Some(bytes) = serve.by_id.get(oid)
        {
            parts.insert(*oid, bytes.to_vec());
        }
    }
    if parts.values().map(Vec::len).sum::<usize>() > MAX_BYTES {
        return;
    }
    let mut parts: Vec<(String, Vec<u8>)> = parts
        .into_iter()
        .map(|(oid, bytes)| (oid.to_string(), bytes))
        .collect();
    parts.sort_unstable();
    store.put(name, &parts);
    // Another version's file (its key names the version) is of no use to this one.
    store.keep_only(name);
}
