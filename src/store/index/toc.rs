//! Where a split index's shared part has its entries: a small table of contents, so a write
//! reads a few hundred entries of it instead of all of them.
//!
//! Before a write adds entries to a split index it must make sure no entry of the shared index
//! is a file where a folder of a new path is, or the reverse (git merges added entries without
//! that check). Over a million files the shared index is 120 MB, and a record's day folder
//! sorts at its end: reading up to there was most of what a log cost in such a checkout. The
//! entries are sorted by path, but they vary in length, so finding one needs to know where
//! entries start. This table keeps that for every `step`-th entry (4,096 of them at most), and
//! a lookup is a binary search over them and a scan of one stretch of `step` entries.
//!
//! A shared index never changes once written (its name is the checksum of its bytes; git
//! writes a new one under a new name), so the table is made once, by one full pass, and kept
//! in `ovn/sharedindex.toc` for the next write. It is only ever trusted for the file it was
//! made from (the same name, size and inode), and only whole (its own SHA-1 closes it). Each entry it points to must still read as one, else it is made again.

use std::fs::{self, File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sha1::{Digest, Sha1};

use super::{HASH, Input, below, next_entry, window};

/// Where the table is kept, in the git directory.
const FILE: &str = "ovn/sharedindex.toc";
const MAGIC: &[u8] = b"ovn sharedindex toc 1\n";
/// Entries listed at most: the table stays a few dozen kilobytes.
const SAMPLES: u32 = 4096;
/// Entries between two listed ones at least (a small index is scanned whole anyway).
const MIN_STEP: u32 = 8;
/// The read buffer of a lookup: a few entries for a probe, a stretch for a scan.
const WINDOW: usize = 64 << 10;

/// Where every `step`-th entry of one shared index starts.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Toc {
    version: u32,
    count: u32,
    step: u32,
    /// The file offset of entry `k * step`, for every k.
    offsets: Vec<u64>,
}

/// What identifies the shared index file named `name`: the name (the checksum of its
/// bytes), its size and inode. Not its times: git touches the file each time it writes the
/// split index that links to it, to keep it from expiring.
pub(super) fn stamp(name: &[u8; HASH], meta: &Metadata) -> Vec<u8> {
    let mut out = name.to_vec();
    for v in [meta.len(), meta.ino(), meta.dev()] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

/// The table kept for the file `stamp` identifies, if there is one and it is whole.
pub(super) fn load(git_dir: &Path, stamp: &[u8]) -> Option<Toc> {
    let path = git_dir.join(FILE);
    // Never more than the largest table: four-byte fields, then the offsets.
    let most = MAGIC.len() + stamp.len() + 16 + 8 * (SAMPLES as usize + 1) + HASH;
    if fs::metadata(&path).ok()?.len() > most as u64 {
        return None;
    }
    let bytes = fs::read(&path).ok()?;
    let (body, sum) = bytes.split_at(bytes.len().checked_sub(HASH)?);
    if Sha1::digest(body).as_slice() != sum {
        return None;
    }
    let rest = body.strip_prefix(MAGIC)?.strip_prefix(stamp)?;
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(
            rest.get(4 * i..4 * i + 4)?.try_into().ok()?,
        ))
    };
    let (version, count, step, n) = (word(0)?, word(1)?, word(2)?, word(3)?);
    let offsets: Vec<u64> = rest
        .get(16..)?
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let sound = (2..=3).contains(&version)
        && step >= MIN_STEP
        && n == count.div_ceil(step)
        && offsets.len() == n as usize
        && rest.len() == 16 + 8 * offsets.len()
        && offsets.windows(2).all(|w| w[0] < w[1]);
    sound.then_some(Toc {
        version,
        count,
        step,
        offsets,
    })
}

/// Keeps `toc` for the file `stamp` identifies: written aside, then renamed into place. Best
/// effort: without it the next write makes it again.
pub(super) fn save(git_dir: &Path, stamp: &[u8], toc: &Toc) {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(stamp);
    let n = toc.offsets.len() as u32;
    for v in [toc.version, toc.count, toc.step, n] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    for o in &toc.offsets {
        bytes.extend_from_slice(&o.to_be_bytes());
    }
    let sum = Sha1::digest(&bytes);
    bytes.extend_from_slice(&sum);
    // Where a write's other temporary files go, cleared by the next write if left behind.
    let tmp_dir = git_dir.join("ovn/tmp");
    let tmp = tmp_dir.join(format!("sharedindex.toc.{}", std::process::id()));
    let saved = fs::create_dir_all(&tmp_dir)
        .and_then(|()| fs::write(&tmp, &bytes))
        .and_then(|()| fs::rename(&tmp, git_dir.join(FILE)));
    if saved.is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

/// The table of the index `file`, by one pass over its entries; None for an index this
/// module cannot read through (another version, an entry that does not read as one).
pub(super) fn build(file: &File) -> std::io::Result<Option<Toc>> {
    let mut input = Input::at(file, 0, window(file.metadata()?.len()))?;
    if !input.fill(12)? {
        return Ok(None);
    }
    let header = input.take(12);
    let version = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if &header[..4] != b"DIRC" || !(2..=3).contains(&version) {
        return Ok(None);
    }
    let count = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let step = count.div_ceil(SAMPLES).max(MIN_STEP);
    let mut offsets = Vec::with_capacity(count.div_ceil(step) as usize);
    for k in 0..count {
        if k % step == 0 {
            offsets.push(input.position());
        }
        // A shared index has no empty name (only a split index's replacements do).
        let Some((_, 1.., len)) = next_entry(&mut input, version)? else {
            return Ok(None);
        };
        input.take(len);
    }
    Ok(Some(Toc {
        version,
        count,
        step,
        offsets,
    }))
}

/// Whether an entry of the index `file` that `toc` describes is a file where a folder of a
/// `new` path is, or the reverse. None when the table does not fit the file (an entry it
/// points to does not read as one): then it must be made again.
///
/// Such an entry is either a folder of a new path P, found at that exact path, or inside P,
/// sorting from `P/` up to `P0` ('0' follows '/'): those stretches are all that is read.
pub(super) fn clashes(
    file: &File,
    toc: &Toc,
    new: &[(Vec<u8>, Vec<u8>)],
) -> std::io::Result<Option<bool>> {
    let mut ranges: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (p, _) in new {
        for (i, _) in p.iter().enumerate().filter(|(_, b)| **b == b'/') {
            let dir = &p[..i];
            ranges.push((dir.to_vec(), [dir, b"\0"].concat()));
        }
        ranges.push(([p, b"/".as_slice()].concat(), [p, b"0".as_slice()].concat()));
    }
    for (from, to) in &ranges {
        // The first listed entry at or after `from`; the stretch before it may hold `from`.
        let (mut lo, mut hi) = (0, toc.offsets.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let Some(path) = path_at(file, toc, mid)? else {
                return Ok(None);
            };
            if path.as_slice() < from.as_slice() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let start = lo.saturating_sub(1);
        let mut input = Input::at(file, toc.offsets.get(start).copied().unwrap_or(0), WINDOW)?;
        for _ in (start as u64 * u64::from(toc.step))..u64::from(toc.count) {
            let Some((name_at, nul @ 1.., len)) = next_entry(&mut input, toc.version)? else {
                return Ok(None);
            };
            let path = &input.window()[name_at..name_at + nul];
            if path >= to.as_slice() {
                break;
            }
            if new.iter().any(|(p, _)| below(p, path) || below(path, p)) {
                return Ok(Some(true));
            }
            input.take(len);
        }
    }
    Ok(Some(false))
}

/// The path of listed entry `k`; None when no entry reads there.
fn path_at(file: &File, toc: &Toc, k: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut input = Input::at(file, toc.offsets[k], WINDOW)?;
    Ok(match next_entry(&mut input, toc.version)? {
        Some((name_at, nul @ 1.., _)) => Some(input.window()[name_at..name_at + nul].to_vec()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index file (libgit2's writing) holding `paths`, all with one blob.
    fn index_of(dir: &Path, paths: &[String]) -> File {
        let path = dir.join("index");
        let mut index = git2::Index::open(&path).unwrap();
        let id = git2::Oid::hash_object(git2::ObjectType::Blob, b"x").unwrap();
        for p in paths {
            index
                .add(&git2::IndexEntry {
                    ctime: git2::IndexTime::new(0, 0),
                    mtime: git2::IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100644,
                    uid: 0,
                    gid: 0,
                    file_size: 1,
                    id,
                    flags: p.len().min(0xfff) as u16,
                    flags_extended: 0,
                    path: p.as_bytes().to_vec(),
                })
                .unwrap();
        }
        index.write().unwrap();
        File::open(&path).unwrap()
    }

    fn new(path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![(path.as_bytes().to_vec(), Vec::new())]
    }

    #[test]
    fn a_lookup_finds_what_a_full_scan_finds() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths: Vec<String> = (0..3000)
            .map(|i| {
                format!(
                    "contributions/2024/{:02}/{:02}/{i:05}.toml",
                    i / 250 + 1,
                    i % 28 + 1
                )
            })
            .collect();
        // Files where folders of new paths would be, at the start, middle and end.
        paths.extend(
            [
                "a",
                "contributions/2024/06/30",
                "contributions/2024/07/05.toml",
                "zz/top",
            ]
            .map(str::to_owned),
        );
        // A name longer than the flags can hold.
        paths.push(format!("contributions/2024/03/long-{}", "n".repeat(5000)));
        let file = index_of(dir.path(), &paths);
        let toc = build(&file).unwrap().unwrap();
        assert!(toc.offsets.len() > 100, "{}", toc.offsets.len());
        let probes = [
            "a/b.toml",
            "a.toml",
            "contributions/2024/06/30/x.toml",
            "contributions/2024/06/3/x.toml",
            "contributions/2024/06/01/x.toml",
            "contributions/2024/07/05.toml/y",
            "contributions/2024/01/02",
            "contributions/2024",
            "contributions/2024/03/long-nnn",
            "contributions/2025/01/01/x.toml",
            "zz/top/x",
            "zz/topx",
            "0",
            "~",
        ];
        for probe in probes {
            let p = probe.as_bytes();
            let full = paths
                .iter()
                .any(|e| below(p, e.as_bytes()) || below(e.as_bytes(), p));
            assert_eq!(
                clashes(&file, &toc, &new(probe)).unwrap(),
                Some(full),
                "{probe}"
            );
        }
        // Several new paths at once.
        let both = [new("b/x.toml"), new("contributions/2024/06/30/x.toml")].concat();
        assert_eq!(clashes(&file, &toc, &both).unwrap(), Some(true));
    }

    #[test]
    fn a_table_is_kept_whole_for_its_file_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ovn")).unwrap();
        let paths: Vec<String> = (0..100).map(|i| format!("f/{i:03}")).collect();
        let file = index_of(dir.path(), &paths);
        let toc = build(&file).unwrap().unwrap();
        let stamp = stamp(&[7; HASH], &file.metadata().unwrap());
        save(dir.path(), &stamp, &toc);
        assert_eq!(load(dir.path(), &stamp), Some(toc));
        // Another file (or the same one changed), or a damaged table: none.
        let other = super::stamp(&[8; HASH], &file.metadata().unwrap());
        assert_eq!(load(dir.path(), &other), None);
        let kept = dir.path().join(FILE);
        let mut bytes = std::fs::read(&kept).unwrap();
        let last = bytes.len() - HASH - 1;
        bytes[last] ^= 1;
        std::fs::write(&kept, &bytes).unwrap();
        assert_eq!(load(dir.path(), &stamp), None);
    }

    #[test]
    fn a_table_that_does_not_fit_its_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<String> = (0..100).map(|i| format!("f/{i:03}")).collect();
        let file = index_of(dir.path(), &paths);
        // Each entry is 72 bytes; 8 bytes in, one reads as an entry with an empty name,
        // which a shared index never has.
        for shift in [4, 8] {
            let mut toc = build(&file).unwrap().unwrap();
            for o in toc.offsets.iter_mut().skip(1) {
                *o += shift;
            }
            assert_eq!(
                clashes(&file, &toc, &new("f/050/x")).unwrap(),
                None,
                "{shift}"
            );
        }
    }
}
