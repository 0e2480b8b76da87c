//! A split index's shared part digested once, so that listing the index after a change
//! reads what changed rather than the whole index.
//!
//! With `core.splitIndex` git keeps most entries in a shared file, named by its checksum
//! and never written again, and at every `git add` writes only a small file of what
//! changed since (entries replaced or deleted by position, entries added). At a million
//! records the shared file is 120 MB: reading and parsing it was most of a pre-commit
//! hook's 0.3 s after `git add` of one record. So the first listing digests it
//! ([`SharedDigest::of`]): for each day folder under the ledger, its entries' positions and
//! bytes in the file and the id of the tree git writes for it; every other entry under the
//! ledger as stored. A later listing reads the small file and the digest
//! ([`SharedDigest::plan`]), and from the shared file only the day folders the small file
//! touches, or that a cache does not hold, by their byte ranges. Whoever lists keeps the
//! digests ([`SharedDigests`]: the cache layer), under the shared file's id and the
//! ledger's place in the repository.
//!
//! An index with no shared part is digested the same way, whole and under its own
//! checksum, when a listing of it is given up (a cold cache is then filled and the index
//! listed again): the second listing reads the digest, not the index.
//!
//! Whatever does not fit (a digest that does not read, a shared file of another size or
//! checksum, a position past the shared entries, or anything git itself calls corrupt in
//! the small file) gives `None`, and the whole index is read as before. The changes are
//! merged exactly as `entries::merge` merges them for the whole index.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use git2::Oid;
use rayon::prelude::*;

use super::entries::{self, Entry, HASH, Link, Trees};
use super::{day_folder_of, plain_file, same, strip, tree_id};
use crate::core::codec::{get_u64, put_u64};

/// Keeps digests of shared indexes between listings (the cache layer).
pub trait SharedDigests: Sync {
    /// The digest kept for the shared index `shared` of a ledger at `prefix`, if any.
    fn get(&self, shared: Oid, prefix: &str) -> Option<Vec<u8>>;
    /// Keeps the digest of the shared index `shared` of a ledger at `prefix`; failing to keep
    /// it is not an error.
    fn put(&self, shared: Oid, prefix: &str, digest: &[u8]);
}

/// The format of an encoded digest; a digest of another format does not read.
const FORMAT: u64 = 1;

/// A day folder of the shared index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Folder {
    /// Its path in the repository (the ledger's place included), as stored.
    path: Vec<u8>,
    /// The position of its first entry, and how many it has.
    first: u32,
    count: u32,
    /// Where its entries' bytes are in the file, and how many there are.
    offset: u64,
    len: u64,
    /// The id of the tree git writes for it, when every entry is a regular file with
    /// content under a UTF-8 name (see `plain_file`); a folder without one is listed entry
    /// by entry.
    tree: Option<Oid>,
}

/// What a listing needs of one shared index (see the module's comment).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SharedDigest {
    /// The index format's version, which decides how an entry reads.
    version: u32,
    /// How many entries the shared index holds.
    entries: u32,
    /// The file's size.
    size: u64,
    /// The day folders under the ledger, in path order.
    folders: Vec<Folder>,
    /// Every other entry under the ledger: its position and its bytes as stored.
    others: Vec<(u32, Vec<u8>)>,
}

/// A day folder's entries, at hand or still in the shared file.
pub(super) enum Held<'a> {
    /// At hand, in path order.
    Here(Cow<'a, [Entry<'a>]>),
    /// In the shared file: `count` entries in `len` bytes from `offset`.
    Shared { offset: u64, len: u64, count: u32 },
}

/// A day folder of the index, as a listing takes it.
pub(super) struct Group<'a> {
    /// Its path in the repository, as stored.
    pub(super) path: &'a [u8],
    /// The id of the tree git writes for it, when it may stand for its files (see
    /// [`Folder::tree`]).
    pub(super) tree: Option<Oid>,
    /// Its entries.
    pub(super) held: Held<'a>,
}

/// The index's entries under the ledger, as a listing takes them: the day folders, and the
/// other entries (in path order).
pub(super) struct Grouped<'a> {
    pub(super) others: Vec<Entry<'a>>,
    pub(super) folders: Vec<Group<'a>>,
}

/// What the small file of a split index changes in the day folders of a digest: the edits
/// of each folder it touches, and the folders it adds.
pub(super) struct Plan<'a> {
    digest: &'a SharedDigest,
    /// By folder (its place in the digest): replaced entries (position in the folder, the
    /// entry git gave), deleted positions, added entries.
    edits: BTreeMap<usize, Edits<'a>>,
    /// Day folders only the small file has entries in, by path.
    new: BTreeMap<&'a [u8], Vec<Entry<'a>>>,
    /// The other entries under the ledger, changes made.
    others: Vec<Entry<'a>>,
}

/// What the small file changes in one day folder of the digest.
#[derive(Default)]
struct Edits<'a> {
    replaced: Vec<(u32, Entry<'a>)>,
    deleted: Vec<u32>,
    added: Vec<Entry<'a>>,
}

/// A shared index's file, found and checked against a digest.
pub(super) struct SharedFile {
    file: File,
    path: PathBuf,
    version: u32,
}

/// An entry's place in the index's order: its path, then its stage.
fn key<'e>(e: &Entry<'e>) -> (&'e [u8], u8) {
    (e.path, e.stage)
}

impl SharedDigest {
    /// The digest of the shared index `bytes` (its checksum already checked) for a ledger at
    /// `prefix` (empty, or a folder path ending in `/`); `None` when an entry does not read or
    /// the day folders are not in path order.
    pub(super) fn of(bytes: &[u8], prefix: &[u8]) -> Option<SharedDigest> {
        let (body, version, count) = entries::header(bytes)?;
        let mut folders: Vec<Folder> = Vec::new();
        let mut others = Vec::new();
        // The folder being walked, and whether every entry so far may stand in its tree.
        let mut open: Option<(Folder, bool)> = None;
        let mut at = 12usize;
        for pos in 0..count {
            let (e, len) = entries::entry(body.get(at..)?, version)?;
            let rel = strip(e.path, prefix);
            let folder = rel.and_then(day_folder_of);
            let path = folder.map(|f| &e.path[..prefix.len() + f.len()]);
            if open
                .as_ref()
                .is_some_and(|(f, _)| !path.is_some_and(|p| same(&f.path, p)))
            {
                folders.extend(close(open.take()));
            }
            match (rel, folder, path) {
                (Some(rel), Some(folder), Some(path)) => {
                    let (f, whole) = open.get_or_insert_with(|| {
                        let folder = Folder {
                            path: path.to_vec(),
                            first: pos,
                            count: 0,
                            offset: at as u64,
                            len: 0,
                            tree: None,
                        };
                        (folder, true)
                    });
                    f.count += 1;
                    f.len += len as u64;
                    *whole &= plain_file(&e, &rel[folder.len() + 1..], rel);
                }
                (Some(_), _, _) => others.push((pos, body[at..at + len].to_vec())),
                _ => {}
            }
            at += len;
        }
        folders.extend(close(open));
        if !folders.windows(2).all(|w| w[0].path < w[1].path) {
            return None;
        }
        // The trees of the folders that may stand for their files, hashed on all cores.
        let trees: Option<Vec<Option<Oid>>> = folders
            .par_iter()
            .map(|f| {
                if f.tree.is_none() {
                    return Some(None);
                }
                let at = usize::try_from(f.offset).ok()?;
                let held = read_entries(body.get(at..)?, version, f.count, f.len)?;
                Some(Some(tree_id(&held)))
            })
            .collect();
        for (f, tree) in folders.iter_mut().zip(trees?) {
            f.tree = tree;
        }
        Some(SharedDigest {
            version,
            entries: count,
            size: bytes.len() as u64,
            folders,
            others,
        })
    }

    /// The digest as kept.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for n in [FORMAT, self.version.into(), self.entries.into(), self.size] {
            put_u64(&mut out, n);
        }
        put_u64(&mut out, self.folders.len() as u64);
        for f in &self.folders {
            put_bytes(&mut out, &f.path);
            for n in [f.first.into(), f.count.into(), f.offset, f.len] {
                put_u64(&mut out, n);
            }
            match f.tree {
                Some(id) => {
                    out.push(1);
                    out.extend_from_slice(id.as_bytes());
                }
                None => out.push(0),
            }
        }
        put_u64(&mut out, self.others.len() as u64);
        for (pos, bytes) in &self.others {
            put_u64(&mut out, (*pos).into());
            put_bytes(&mut out, bytes);
        }
        out
    }

    /// A digest as [`SharedDigest::encode`] keeps it; `None` when it does not read whole, or
    /// does not hold together (folders out of order or overlapping, a range past the file,
    /// an entry that does not read).
    pub(super) fn decode(mut input: &[u8]) -> Option<SharedDigest> {
        let input = &mut input;
        let u32_of = |input: &mut &[u8]| get_u64(input).and_then(|n| u32::try_from(n).ok());
        if get_u64(input)? != FORMAT {
            return None;
        }
        let version = u32_of(input)?;
        let entries = u32_of(input)?;
        let size = get_u64(input)?;
        if !(2..=3).contains(&version) {
            return None;
        }
        let n = usize::try_from(get_u64(input)?).ok()?;
        // Never trusted to be small: a folder takes at least 7 bytes.
        let mut folders = Vec::with_capacity(n.min(input.len() / 7));
        let (mut next_pos, mut next_byte) = (0u64, 12u64);
        for _ in 0..n {
            let path = get_bytes(input)?.to_vec();
            let (first, count) = (u32_of(input)?, u32_of(input)?);
            let (offset, len) = (get_u64(input)?, get_u64(input)?);
            let (&flag, rest) = input.split_first()?;
            *input = rest;
            let tree = match flag {
                0 => None,
                1 => {
                    let (id, rest) = input.split_at_checked(HASH)?;
                    *input = rest;
                    Some(Oid::from_bytes(id).ok()?)
                }
                _ => return None,
            };
            let end_pos = u64::from(first).checked_add(count.into())?;
            let end_byte = offset.checked_add(len)?;
            let in_order = folders.last().is_none_or(|l: &Folder| l.path < path);
            if u64::from(first) < next_pos
                || offset < next_byte
                || count == 0
                || end_pos > entries.into()
                || end_byte > size.checked_sub(HASH as u64)?
                || !in_order
            {
                return None;
            }
            (next_pos, next_byte) = (end_pos, end_byte);
            folders.push(Folder {
                path,
                first,
                count,
                offset,
                len,
                tree,
            });
        }
        let n = usize::try_from(get_u64(input)?).ok()?;
        let mut others: Vec<(u32, Vec<u8>)> = Vec::with_capacity(n.min(input.len() / 64));
        for _ in 0..n {
            let pos = u32_of(input)?;
            let bytes = get_bytes(input)?;
            let (_, len) = entries::entry(bytes, version)?;
            let in_order = others.last().is_none_or(|(p, _)| *p < pos);
            if len != bytes.len() || pos >= entries || !in_order {
                return None;
            }
            others.push((pos, bytes.to_vec()));
        }
        input.is_empty().then_some(SharedDigest {
            version,
            entries,
            size,
            folders,
            others,
        })
    }

    /// The shared file this digest is of, among `paths` (where git looks for it): the first
    /// of its size whose checksum is `id`; `None` when there is none.
    pub(super) fn file(&self, id: &[u8; HASH], paths: &[PathBuf]) -> Option<SharedFile> {
        // git's `index.skipHash` writes no checksum: zeros name no file's content.
        if id == &[0; HASH] {
            return None;
        }
        paths.iter().find_map(|path| {
            let file = File::open(path).ok()?;
            if file.metadata().ok()?.len() != self.size {
                return None;
            }
            let mut sum = [0; HASH];
            read_at(&file, &mut sum, self.size - HASH as u64).ok()?;
            (&sum == id).then(|| SharedFile {
                file,
                path: path.clone(),
                version: self.version,
            })
        })
    }

    /// What `own` (the small file's entries, in the order it stores them) and its `link`
    /// change in the shared entries, for a ledger at `prefix`; `None` where git would call
    /// the index corrupt (see `entries::merge`, whose rules this follows).
    pub(super) fn plan<'a>(
        &'a self,
        own: Vec<Entry<'a>>,
        link: &Link,
        prefix: &[u8],
    ) -> Option<Plan<'a>> {
        if link.delete.last().is_some_and(|&i| i >= self.entries) {
            return None;
        }
        let mut others: Vec<(u32, Option<Entry<'a>>)> = Vec::with_capacity(self.others.len());
        for (pos, bytes) in &self.others {
            others.push((*pos, Some(entries::entry(bytes, self.version)?.0)));
        }
        let mut edits: BTreeMap<usize, Edits<'a>> = BTreeMap::new();
        // Where a position of the shared entries is: a folder (by its place), another entry
        // under the ledger, or outside the ledger.
        let find = |pos: u32| -> (Option<usize>, Option<usize>) {
            let at = self.folders.partition_point(|f| f.first <= pos);
            let folder = at
                .checked_sub(1)
                .filter(|&n| pos - self.folders[n].first < self.folders[n].count);
            let other = self.others.binary_search_by_key(&pos, |(p, _)| *p).ok();
            (folder, other)
        };
        let mut own = own.into_iter();
        let mut places = Vec::with_capacity(link.replace.len());
        for &i in &link.replace {
            if i >= self.entries || link.delete.binary_search(&i).is_ok() {
                return None;
            }
            let new = own.next()?;
            if !new.path.is_empty() {
                return None;
            }
            places.push((find(i), i, new));
        }
        for ((folder, other), i, new) in places {
            if let Some(n) = folder {
                let at = i - self.folders[n].first;
                edits.entry(n).or_default().replaced.push((at, new));
            } else if let Some(k) = other
                && let Some(slot) = others[k].1.as_mut()
            {
                *slot = Entry {
                    path: slot.path,
                    ..new
                };
            }
        }
        for &i in &link.delete {
            match find(i) {
                (Some(n), _) => {
                    let at = i - self.folders[n].first;
                    edits.entry(n).or_default().deleted.push(at);
                }
                (None, Some(k)) => others[k].1 = None,
                (None, None) => {}
            }
        }
        let mut kept: Vec<Entry<'a>> = others.into_iter().filter_map(|(_, e)| e).collect();
        let mut added_others = Vec::new();
        let mut new: BTreeMap<&'a [u8], Vec<Entry<'a>>> = BTreeMap::new();
        for e in own {
            if e.path.is_empty() {
                return None;
            }
            let Some(rel) = strip(e.path, prefix) else {
                continue;
            };
            let Some(folder) = day_folder_of(rel) else {
                added_others.push(e);
                continue;
            };
            let path = &e.path[..prefix.len() + folder.len()];
            match self
                .folders
                .binary_search_by(|f| f.path.as_slice().cmp(path))
            {
                Ok(n) => edits.entry(n).or_default().added.push(e),
                Err(_) => new.entry(path).or_default().push(e),
            }
        }
        add(&mut kept, added_others);
        for entries in new.values_mut() {
            entries.sort_by(|a, b| key(a).cmp(&key(b)));
        }
        Some(Plan {
            digest: self,
            edits,
            new,
            others: kept,
        })
    }
}

impl<'a> Plan<'a> {
    /// Where the entries of the day folders to be edited are in the shared file (offset and
    /// length), in path order: what [`Plan::grouped`] is given read.
    pub(super) fn touched(&self) -> Vec<(u64, u64)> {
        let folders = &self.digest.folders;
        self.edits
            .keys()
            .map(|&n| (folders[n].offset, folders[n].len))
            .collect()
    }

    /// The index's entries under the ledger, grouped: each folder [`Plan::touched`] names
    /// made from its bytes in `read` (in the same order) with its edits, and its tree
    /// taken from the small file's cached `trees` or hashed; the others left in the shared
    /// file. `None` when a folder's bytes do not read as its entries.
    pub(super) fn grouped<'b>(self, read: &'b [Vec<u8>], trees: &Trees) -> Option<Grouped<'b>>
    where
        'a: 'b,
    {
        let Plan {
            digest,
            edits,
            new,
            others,
        } = self;
        let mut touched: Vec<(usize, Vec<Entry<'b>>)> = Vec::with_capacity(edits.len());
        for ((n, edits), bytes) in edits.into_iter().zip(read) {
            let f = &digest.folders[n];
            let mut held = read_entries(bytes, digest.version, f.count, f.len)?;
            let Edits {
                replaced,
                deleted,
                added,
            } = edits;
            for (at, new) in replaced {
                let slot = held.get_mut(at as usize)?;
                *slot = Entry {
                    path: slot.path,
                    ..new
                };
            }
            let mut at = 0u32;
            held.retain(|_| {
                let gone = deleted.contains(&at);
                at += 1;
                !gone
            });
            add(&mut held, added);
            touched.push((n, held));
        }
        let mut touched = touched.into_iter().peekable();
        let mut folders: Vec<Group<'b>> = Vec::with_capacity(digest.folders.len() + new.len());
        for (n, f) in digest.folders.iter().enumerate() {
            let group = match touched.next_if(|(t, _)| *t == n) {
                Some((_, held)) => Group {
                    path: &f.path,
                    tree: super::tree_of(&f.path, &held, trees),
                    held: Held::Here(Cow::Owned(held)),
                },
                None => Group {
                    path: &f.path,
                    tree: f.tree,
                    held: Held::Shared {
                        offset: f.offset,
                        len: f.len,
                        count: f.count,
                    },
                },
            };
            folders.push(group);
        }
        for (path, held) in new {
            folders.push(Group {
                path,
                tree: super::tree_of(path, &held, trees),
                held: Held::Here(Cow::Owned(held)),
            });
        }
        folders.sort_by(|a, b| a.path.cmp(b.path));
        // A folder deleted whole stays out, as in a listing of the whole index.
        folders.retain(|g| !matches!(&g.held, Held::Here(h) if h.is_empty()));
        Some(Grouped { others, folders })
    }
}

/// The checksum in the last bytes of the index file at `path`, read alone; `None` when the
/// file cannot be read or is too short.
pub(super) fn checksum_of(path: &std::path::Path) -> Option<[u8; HASH]> {
    let file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let mut sum = [0; HASH];
    read_at(&file, &mut sum, size.checked_sub(HASH as u64)?).ok()?;
    Some(sum)
}

/// Adds `added` to `entries` (in path and stage order), each in place of a kept entry with
/// its path and stage, as git's merge of a split index does (see `entries::merge`).
fn add<'a>(entries: &mut Vec<Entry<'a>>, added: Vec<Entry<'a>>) {
    if added.is_empty() {
        return;
    }
    entries.retain(|e| !added.iter().any(|a| key(a) == key(e)));
    entries.extend(added);
    entries.sort_by(|a, b| key(a).cmp(&key(b)));
}

impl SharedFile {
    /// The entries of a folder the digest left in the file (see [`Held::Shared`]), as
    /// bytes to read them from ([`SharedFile::entries`]).
    pub(super) fn bytes(&self, offset: u64, len: u64) -> Result<Vec<u8>, std::io::Error> {
        let len = usize::try_from(len).map_err(std::io::Error::other)?;
        let mut buf = vec![0; len];
        read_at(&self.file, &mut buf, offset)?;
        Ok(buf)
    }

    /// The `count` entries in `bytes` (read by [`SharedFile::bytes`]); `None` when they do
    /// not read as that many entries filling them.
    pub(super) fn entries<'b>(&self, bytes: &'b [u8], count: u32) -> Option<Vec<Entry<'b>>> {
        read_entries(bytes, self.version, count, bytes.len() as u64)
    }

    /// The file's path, to name it in an error.
    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// The `count` entries at the start of `bytes` (an index of `version`), which must take
/// exactly `len` bytes.
fn read_entries(bytes: &[u8], version: u32, count: u32, len: u64) -> Option<Vec<Entry<'_>>> {
    let len = usize::try_from(len).ok()?;
    let bytes = bytes.get(..len)?;
    let mut out = Vec::with_capacity((count as usize).min(len / 62));
    let mut at = 0;
    for _ in 0..count {
        let (e, used) = entries::entry(bytes.get(at..)?, version)?;
        out.push(e);
        at += used;
    }
    (at == len).then_some(out)
}

/// Closes the folder being walked: its tree is worked out later when it may stand for its
/// files (marked here with a placeholder).
fn close(open: Option<(Folder, bool)>) -> Option<Folder> {
    let (mut folder, whole) = open?;
    let utf8 = std::str::from_utf8(&folder.path).is_ok();
    folder.tree = (whole && utf8).then_some(Oid::ZERO_SHA1);
    Some(folder)
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn get_bytes<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = usize::try_from(get_u64(input)?).ok()?;
    let (bytes, rest) = input.split_at_checked(n)?;
    *input = rest;
    Some(bytes)
}

/// Reads `buf.len()` bytes of `file` from `offset`.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Reads `buf.len()` bytes of `file` from `offset`.
#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared index git wrote for a few day folders and other files.
    fn shared_index() -> (tempfile::TempDir, Vec<u8>, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let git = |args: &[&str]| super::super::tests::git(dir, args);
        git(&["init", "-q"]);
        for path in [
            "ovn.toml",
            "agents/ana.toml",
            "contributions/2026/01/01/a.toml",
            "contributions/2026/01/01/b.toml",
            "contributions/2026/01/02/c.toml",
            "src/main.rs",
            "sub/ovn.toml",
            "sub/contributions/2026/01/03/d.toml",
        ] {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, path).unwrap();
        }
        git(&["add", "-A"]);
        git(&["update-index", "--split-index"]);
        let shared = std::fs::read_dir(dir.join(".git"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("sharedindex."))
            .unwrap();
        let bytes = std::fs::read(&shared).unwrap();
        (tmp, bytes, shared)
    }

    /// A digest reads back as it was kept, and one cut short, or of another format, does
    /// not read at all; it is of one shared file, found by its size and checksum.
    #[test]
    fn a_digest_reads_back_whole_or_not_at_all() {
        let (_tmp, bytes, path) = shared_index();
        let digest = SharedDigest::of(&bytes, b"").unwrap();
        assert_eq!(digest.folders.len(), 2);
        assert!(digest.folders.iter().all(|f| f.tree.is_some()));
        // `ovn.toml`, the agent and the files outside any day folder (the ledger below
        // `sub/` is not this one's).
        assert_eq!(digest.others.len(), 5);
        let encoded = digest.encode();
        assert_eq!(SharedDigest::decode(&encoded).as_ref(), Some(&digest));
        for cut in 0..encoded.len() {
            assert_eq!(SharedDigest::decode(&encoded[..cut]), None, "cut at {cut}");
        }
        let mut other = encoded.clone();
        other[0] = 2;
        assert_eq!(SharedDigest::decode(&other), None);
        let mut longer = encoded;
        longer.push(0);
        assert_eq!(SharedDigest::decode(&longer), None);

        let id: [u8; HASH] = bytes[bytes.len() - HASH..].try_into().unwrap();
        assert!(digest.file(&id, std::slice::from_ref(&path)).is_some());
        assert!(
            digest
                .file(&[0; HASH], std::slice::from_ref(&path))
                .is_none()
        );
        let mut shorter = bytes.clone();
        shorter.remove(12);
        std::fs::write(&path, shorter).unwrap();
        assert!(digest.file(&id, &[path]).is_none(), "another size");

        // Under a ledger kept in a subfolder, only its entries are digested.
        let under = SharedDigest::of(&bytes, b"sub/").unwrap();
        assert_eq!((under.folders.len(), under.others.len()), (1, 1));
        assert_eq!(under.folders[0].path, b"sub/contributions/2026/01/03");
    }
}
