//! Adding a few entries to git's index file (`.git/index`) in one pass over its bytes.
//!
//! libgit2 reads the whole index into one allocation per entry and writes it back the same
//! way: over a million files that is more than a second to stage one record. Here the file is
//! copied through with the new entries spliced in at their sorted places, the cached trees
//! kept with the folders above each new entry invalidated as `git add` does ([`tree`]: so
//! neither git nor `ovn check --staged` hashes a million files after a log), the other
//! optional extensions that describe the old entries (the untracked cache, the offset
//! tables, the fsmonitor token) dropped, as git allows and rebuilds on its own, and the
//! checksum written anew. Only what this module fully understands is handled: index versions
//! 2 and 3 with SHA-1 ids, no conflict on the paths added, and of the required extensions only
//! git's split index (`link`). Anything else is left to libgit2 ([`Staged::Unsupported`]),
//! and what libgit2 cannot write either (a sparse index, say) is refused before the commit.
//!
//! A split index (`git update-index --split-index`, or `core.splitIndex`) is what makes a log
//! cheap in a checkout of a million files: `.git/index` then holds only the entries changed
//! since git last wrote `.git/sharedindex.<id>`, which holds the rest and never changes. The
//! new entries join the changed ones there (after the replacements, which git writes first
//! with empty names), the `link` extension is kept as it is, and the shared file is only read,
//! to make sure no entry in it is a file where a folder of a new path is (git merges added
//! entries without that check): through a table of where its entries start ([`toc`]), made
//! once per shared index, so that look costs a few hundred entries rather than a million.
//! libgit2 cannot read a split index at all.
//!
//! The file is replaced under git's own lock: `index.lock` is created exclusively (the lock
//! git and libgit2 honour; see [`IndexLock`]) by the caller before the branch moves, the index
//! is checked under it ([`probe`]) before anything is committed, and after the commit the new
//! index is written next to it and renamed over `index`; only then is the lock released.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use git2::Oid;
use sha1::{Digest, Sha1};

mod toc;
pub(super) mod tree;

/// git's own lock on the index, `index.lock`, held by this process.
///
/// git takes it with an exclusive create before it reads the index and keeps it until the
/// new index is renamed into place; every git and libgit2 process honours it. A write holds it
/// from before the branch moves until the index has the new entries, so a `git commit` run
/// meanwhile fails cleanly ("index.lock exists") instead of committing an index that lacks
/// them. The file appears already holding `marker` (written to a temporary file first and
/// hard-linked into place, which is as exclusive as `O_EXCL`): the journal records the
/// marker, so a later `ovn` can tell a lock a killed `ovn` left from one a live git holds.
/// The new index is written to another temporary file and renamed over `index`; the lock
/// file itself is only ever the marker.
pub struct IndexLock {
    path: PathBuf,
    marker: String,
}

impl IndexLock {
    /// Takes `git_dir/index.lock`, or None when another program holds it. `tmp_dir` (in the
    /// same file system) holds the file it is made from.
    pub fn acquire(
        git_dir: &Path,
        tmp_dir: &Path,
        marker: &str,
    ) -> std::io::Result<Option<IndexLock>> {
        let path = git_dir.join("index.lock");
        fs::create_dir_all(tmp_dir)?;
        let tmp = tmp_dir.join(format!("index-lock.{}", std::process::id()));
        fs::write(&tmp, marker)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        let lock = IndexLock {
            path: path.clone(),
            marker: marker.to_owned(),
        };
        match linked {
            Ok(()) => Ok(Some(lock)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
            // A file system without hard links: an exclusive create, then the marker.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::PermissionDenied | ErrorKind::Unsupported
                ) =>
            {
                match OpenOptions::new().write(true).create_new(true).open(&path) {
                    Ok(mut f) => {
                        f.write_all(marker.as_bytes())?;
                        Ok(Some(lock))
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        // Only while it is still the file this process made (someone may have removed it by
        // hand, and a git started since holds its own).
        if holds_marker(&self.path, &self.marker) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether the lock file at `path` is the one an `ovn` write with this journal `marker`
/// made: only such a lock is ever removed by another `ovn` process.
pub fn holds_marker(path: &Path, marker: &str) -> bool {
    fs::read(path).is_ok_and(|bytes| bytes == marker.as_bytes())
}

/// What [`add`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Staged {
    /// The entries are in the index.
    Done,
    /// The index is one this module leaves to libgit2 (another version, a sparse index, a
    /// conflict on a path, no index yet); nothing was changed.
    Unsupported,
}

/// Whether [`add`] can write the index with `files` in: the same walk over it, written
/// nowhere and with no stat data, run under the lock before anything is committed. The
/// index cannot change while the lock is held, so a yes stays true until [`add`] runs. The
/// checksum is left to [`add`], which hashes the old index anyway: a damaged index is found
/// only after the commit, and then left as it was (with a warning), as before.
pub fn probe(git_dir: &Path, files: &[(String, Oid)]) -> std::io::Result<Staged> {
    let mut new: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(files.len());
    for (path, oid) in files {
        if oid.as_bytes().len() != HASH {
            return Ok(Staged::Unsupported);
        }
        let path = path.as_bytes().to_vec();
        let bytes = entry(&path, oid.as_bytes(), None);
        new.push((path, bytes));
    }
    new.sort_by(|a, b| a.0.cmp(&b.0));
    new.dedup_by(|a, b| a.0 == b.0);
    let input = match File::open(git_dir.join("index")) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Staged::Unsupported),
        Err(e) => return Err(e),
    };
    let mut replaced = vec![false; new.len()];
    let copied = loop {
        (&input).seek(std::io::SeekFrom::Start(0))?;
        let mut reader = Input::new(&input)?;
        match copy(&mut reader, &mut std::io::sink(), &new, &replaced)? {
            Copied::Done { shared, .. } => break Done::Written { shared },
            Copied::Replaces(k) if !replaced[k] => replaced[k] = true,
            Copied::Replaces(_) | Copied::Unsupported => break Done::Unsupported,
        }
    };
    shared_verdict(git_dir, copied, &new)
}

/// Adds (or replaces) the entries for `files` (repository-relative paths and blob ids),
/// with the stat data of the files in `workdir`, to the index of the repository at
/// `git_dir`, under `lock`. The new index is written in `tmp_dir` and renamed over the
/// old one; `probed` says [`probe`] found it writable under this same lock, so its shared
/// part needs no second look.
pub fn add(
    _lock: &IndexLock,
    git_dir: &Path,
    tmp_dir: &Path,
    workdir: &Path,
    files: &[(String, Oid)],
    probed: bool,
) -> std::io::Result<Staged> {
    let index_path = git_dir.join("index");
    fs::create_dir_all(tmp_dir)?;
    let tmp_path = tmp_dir.join(format!("index.{}", std::process::id()));
    let tmp = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp_path)?;
    let result = write_locked(git_dir, &index_path, &tmp, workdir, files, probed);
    drop(tmp);
    match result {
        Ok(Staged::Done) => match fs::rename(&tmp_path, &index_path) {
            Ok(()) => Ok(Staged::Done),
            Err(e) => {
                let _ = fs::remove_file(&tmp_path);
                Err(e)
            }
        },
        other => {
            let _ = fs::remove_file(&tmp_path);
            other
        }
    }
}

/// Writes the new index into `out`.
fn write_locked(
    git_dir: &Path,
    index_path: &Path,
    out: &File,
    workdir: &Path,
    files: &[(String, Oid)],
    probed: bool,
) -> std::io::Result<Staged> {
    let mut new: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(files.len());
    for (path, oid) in files {
        let meta = fs::symlink_metadata(workdir.join(path))?;
        if !meta.is_file() || oid.as_bytes().len() != HASH {
            return Ok(Staged::Unsupported);
        }
        let path = path.as_bytes().to_vec();
        let bytes = entry(&path, oid.as_bytes(), Some(&meta));
        new.push((path, bytes));
    }
    new.sort_by(|a, b| a.0.cmp(&b.0));
    new.dedup_by(|a, b| a.0 == b.0);
    let input = match File::open(index_path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Staged::Unsupported),
        Err(e) => return Err(e),
    };
    // The old checksum is checked on another core while the copy is made: hashing is most
    // of the work, and the two streams are independent. Not worth a thread for a small
    // index (a split index's own file).
    if input.metadata()?.len() < 1 << 20 {
        let copied = copy_with(&input, out, &new)?;
        if !checksum_holds(&input)? {
            return Ok(Staged::Unsupported);
        }
        return verdict(git_dir, copied, &new, probed);
    }
    let copied = std::thread::scope(|scope| {
        let sound = scope.spawn(|| checksum_holds(&input));
        let copied = copy_with(&input, out, &new)?;
        let sound = sound.join().unwrap_or(Ok(false))?;
        Ok::<_, std::io::Error>(if sound { copied } else { Done::Unsupported })
    })?;
    verdict(git_dir, copied, &new, probed)
}

/// Whether a copy that came to `copied` stands; `probed`, its shared part was looked at.
fn verdict(
    git_dir: &Path,
    copied: Done,
    new: &[(Vec<u8>, Vec<u8>)],
    probed: bool,
) -> std::io::Result<Staged> {
    match copied {
        Done::Written { .. } if probed => Ok(Staged::Done),
        copied => shared_verdict(git_dir, copied, new),
    }
}

/// Whether a copy that came to `copied` stands: a split index's shared part must not clash
/// with the new entries.
fn shared_verdict(
    git_dir: &Path,
    copied: Done,
    new: &[(Vec<u8>, Vec<u8>)],
) -> std::io::Result<Staged> {
    Ok(match copied {
        Done::Written { shared: None } => Staged::Done,
        Done::Written {
            shared: Some(shared),
        } => {
            let name = crate::core::value::hex(&shared);
            match File::open(git_dir.join(format!("sharedindex.{name}"))) {
                Ok(file) if !clashes(git_dir, &shared, &file, new)? => Staged::Done,
                Ok(_) => Staged::Unsupported,
                // git could not read the index either: not ours to repair.
                Err(e) if e.kind() == ErrorKind::NotFound => Staged::Unsupported,
                Err(e) => return Err(e),
            }
        }
        Done::Unsupported => Staged::Unsupported,
    })
}

/// What [`copy_with`] came to.
enum Done {
    /// The new index is in the lock file; `shared` names the shared index of a split index.
    Written { shared: Option<[u8; HASH]> },
    /// Nothing to keep.
    Unsupported,
}

/// Whether an entry of the shared index `file` (named `name`) is a file where a folder of a
/// `new` path is, or the reverse; also true of a shared index this module cannot read
/// through. Looked up through its table of contents ([`toc`]), made by one pass over it the
/// first time.
fn clashes(
    git_dir: &Path,
    name: &[u8; HASH],
    file: &File,
    new: &[(Vec<u8>, Vec<u8>)],
) -> std::io::Result<bool> {
    let stamp = toc::stamp(name, &file.metadata()?);
    if let Some(table) = toc::load(git_dir, &stamp)
        && let Some(verdict) = toc::clashes(file, &table, new)?
    {
        return Ok(verdict);
    }
    let Some(table) = toc::build(file)? else {
        return Ok(true);
    };
    let verdict = toc::clashes(file, &table, new)?;
    toc::save(git_dir, &stamp, &table);
    Ok(verdict.unwrap_or(true))
}

/// Whether the index's trailing checksum is the SHA-1 of the rest (or git's all-zero
/// `index.skipHash`).
fn checksum_holds(file: &File) -> std::io::Result<bool> {
    // Positioned reads: the copy moves the file's own offset at the same time.
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let Some(body) = len.checked_sub(HASH as u64) else {
        return Ok(false);
    };
    let mut hash = Sha1::new();
    let mut buf = vec![0; window(body)];
    let mut at = 0;
    while at < body {
        let n = (body - at).min(buf.len() as u64) as usize;
        file.read_exact_at(&mut buf[..n], at)?;
        hash.update(&buf[..n]);
        at += n as u64;
    }
    let mut stored = [0; HASH];
    file.read_exact_at(&mut stored, body)?;
    Ok(stored == [0; HASH] || stored.as_slice() == hash.finalize().as_slice())
}

/// Copies the index into `lock` (the new index's file) with the `new` entries in.
fn copy_with(input: &File, lock: &File, new: &[(Vec<u8>, Vec<u8>)]) -> std::io::Result<Done> {
    // Assumed new; a path the index has already is found on the way, and the copy is made
    // again knowing it (only a write that repairs an interrupted one does that).
    let mut replaced = vec![false; new.len()];
    loop {
        let mut out = HashingWriter {
            inner: std::io::BufWriter::with_capacity(window(input.metadata()?.len()), lock),
            hash: Sha1::new(),
        };
        let mut reader = Input::new(input)?;
        match copy(&mut reader, &mut out, new, &replaced)? {
            Copied::Done { skip_hash, shared } => {
                let sum = out.hash.finalize();
                let mut inner = out.inner;
                let zero = [0u8; HASH];
                inner.write_all(if skip_hash { &zero[..] } else { sum.as_slice() })?;
                inner.flush()?;
                return Ok(Done::Written { shared });
            }
            Copied::Replaces(k) if !replaced[k] => {
                replaced[k] = true;
                drop(out);
                lock.set_len(0)?;
                let mut lock = lock;
                lock.seek(std::io::SeekFrom::Start(0))?;
                let mut file = input;
                file.seek(std::io::SeekFrom::Start(0))?;
            }
            Copied::Replaces(_) | Copied::Unsupported => return Ok(Done::Unsupported),
        }
    }
}

/// Length of a SHA-1 id and of the index's checksum.
const HASH: usize = 20;

/// How much of a file of `len` bytes to hold at a time: a few megabytes of a large index, no
/// more than the whole of a small one (a split index's own file is a few kilobytes, and every
/// fresh megabyte the allocator hands out is a huge page the kernel zeroes first).
fn window(len: u64) -> usize {
    len.clamp(4 << 10, 4 << 20) as usize
}

/// What one copy of the index came to.
enum Copied {
    /// Copied, with the new entries in; the checksum is still to be written (none when the
    /// old index had none). `shared` is the id of the shared index a split index links to.
    Done {
        skip_hash: bool,
        shared: Option<[u8; HASH]>,
    },
    /// New entry `k` is in the index already: copy again, replacing it.
    Replaces(usize),
    /// Not an index this writer handles.
    Unsupported,
}

/// Writes what it is given to `inner`, hashing it.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha1,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The old index, read through a window of a few megabytes (a million entries are never all
/// in memory).
struct Input<'f> {
    file: &'f File,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    base: u64,
    /// The window: `buf[at..end]`.
    at: usize,
    end: usize,
    /// Bytes of the file not yet read into the window.
    left: u64,
    /// Body bytes (all but the checksum) not yet consumed.
    body_left: u64,
}

impl<'f> Input<'f> {
    fn new(file: &'f File) -> std::io::Result<Input<'f>> {
        Input::at(file, 0, window(file.metadata()?.len()))
    }

    /// Reads from `offset` on (the file's own offset moves there), `window` bytes at a time.
    fn at(file: &'f File, offset: u64, window: usize) -> std::io::Result<Input<'f>> {
        let len = file.metadata()?.len();
        let mut f = file;
        f.seek(std::io::SeekFrom::Start(offset))?;
        Ok(Input {
            file,
            buf: vec![0; window],
            base: offset,
            at: 0,
            end: 0,
            left: len.saturating_sub(offset),
            body_left: len.saturating_sub(HASH as u64).saturating_sub(offset),
        })
    }

    /// The file offset of the window's first byte.
    fn position(&self) -> u64 {
        self.base + self.at as u64
    }

    /// Makes at least `n` bytes available in the window; false at the end of the file.
    fn fill(&mut self, n: usize) -> std::io::Result<bool> {
        use std::io::Read;
        if self.end - self.at >= n {
            return Ok(true);
        }
        if n > self.buf.len() {
            self.buf.resize(n.next_power_of_two(), 0);
        }
        self.buf.copy_within(self.at..self.end, 0);
        self.base += self.at as u64;
        self.end -= self.at;
        self.at = 0;
        let mut file = self.file;
        while self.end < n && self.left > 0 {
            let got = file.read(&mut self.buf[self.end..])?;
            if got == 0 {
                break;
            }
            self.end += got;
            self.left -= got as u64;
        }
        Ok(self.end >= n)
    }

    /// The window's bytes (what `fill` made available).
    fn window(&self) -> &[u8] {
        &self.buf[self.at..self.end]
    }

    /// The next `n` bytes of the window (after a successful `fill(n)`), consumed.
    fn take(&mut self, n: usize) -> &[u8] {
        let bytes = &self.buf[self.at..self.at + n];
        self.body_left -= (n as u64).min(self.body_left);
        self.at += n;
        bytes
    }
}

/// Copies the index from `input` to `out` with the `new` entries (sorted by path) spliced
/// in; those marked `replaced` take the place of the old entry with their path.
///
/// Long because it is one pass over git's index format (header, entries with the new ones
/// spliced in, extensions, checksum) that streams a file of 100 MB and more; the format's
/// parts are read in the order they are written.
fn copy(
    input: &mut Input<'_>,
    out: &mut impl Write,
    new: &[(Vec<u8>, Vec<u8>)],
    replaced: &[bool],
) -> std::io::Result<Copied> {
    if !input.fill(12)? {
        return Ok(Copied::Unsupported);
    }
    let header = input.take(12).to_vec();
    let version = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if &header[..4] != b"DIRC" || !(2..=3).contains(&version) {
        return Ok(Copied::Unsupported);
    }
    let count = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
    let added = replaced.iter().filter(|r| !**r).count();
    let Ok(total) = u32::try_from(count + added) else {
        return Ok(Copied::Unsupported);
    };
    out.write_all(&header[..8])?;
    out.write_all(&total.to_be_bytes())?;

    let mut next = 0;
    for _ in 0..count {
        let Some((name_at, nul, len)) = next_entry(input, version)? else {
            return Ok(Copied::Unsupported);
        };
        let flags = u16::from_be_bytes([input.window()[60], input.window()[61]]);
        let stage = (flags >> 12) & 0x3;
        // Empty in a split index's replacements, which come first: no new path sorts before
        // or equals one.
        let path = &input.window()[name_at..name_at + nul];
        // New entries sorting before this one go first.
        while next < new.len() && new[next].0.as_slice() < path {
            out.write_all(&new[next].1)?;
            next += 1;
        }
        let mut replace = false;
        for (k, (p, _)) in new.iter().enumerate() {
            if p.as_slice() == path {
                if stage != 0 {
                    return Ok(Copied::Unsupported);
                }
                if !replaced[k] {
                    return Ok(Copied::Replaces(k));
                }
                replace = true;
            } else if below(p, path) || below(path, p) {
                // A file where a folder of the new path is, or the reverse: libgit2's.
                return Ok(Copied::Unsupported);
            }
        }
        if replace {
            // Its new version goes in its place.
            out.write_all(&new[next].1)?;
            next += 1;
            input.take(len);
        } else {
            let bytes = input.take(len);
            out.write_all(bytes)?;
        }
    }
    for (_, bytes) in &new[next..] {
        out.write_all(bytes)?;
    }
    // Extensions, up to the checksum. Of the required ones (a lower-case signature) only the
    // split index's link is known here, and kept as it is (its bitmaps count entries of the
    // shared index, which does not change); the cached trees are kept, invalidated above the
    // new entries; other optional ones describing the entries are dropped (git rebuilds
    // them); the resolve-undo record is kept.
    let mut shared = None;
    while input.body_left > 0 {
        if !input.fill(8)? {
            return Ok(Copied::Unsupported);
        }
        let head = input.take(8).to_vec();
        let size = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let link = &head[..4] == b"link";
        if (head[0].is_ascii_lowercase() && !link)
            || size as u64 > input.body_left
            || (link && size < HASH)
        {
            return Ok(Copied::Unsupported);
        }
        if &head[..4] == b"TREE" {
            if !copy_trees(input, out, size, new)? {
                return Ok(Copied::Unsupported);
            }
            continue;
        }
        let keep = link || &head[..4] == b"REUC";
        if keep {
            out.write_all(&head)?;
        }
        let mut rest = size;
        while rest > 0 {
            let n = rest.min(1 << 20);
            if !input.fill(n)? {
                return Ok(Copied::Unsupported);
            }
            if link && rest == size {
                let id: [u8; HASH] = input.window()[..HASH].try_into().expect("20 bytes");
                // All zeros: split, but with no shared index yet.
                shared = (id != [0; HASH]).then_some(id);
            }
            let bytes = input.take(n);
            if keep {
                out.write_all(bytes)?;
            }
            rest -= n;
        }
    }
    // The old checksum (checked elsewhere): all zeros is git's `index.skipHash`, kept so.
    if !input.fill(HASH)? {
        return Ok(Copied::Unsupported);
    }
    let skip_hash = input.take(HASH).iter().all(|&b| b == 0);
    if input.fill(1)? {
        return Ok(Copied::Unsupported);
    }
    Ok(Copied::Done { skip_hash, shared })
}

/// Copies the cached trees (`size` bytes of `input`) to `out`, those above a `new` entry
/// invalidated (see [`tree`]); dropped when they do not read. False when the file ends first.
fn copy_trees(
    input: &mut Input<'_>,
    out: &mut impl Write,
    size: usize,
    new: &[(Vec<u8>, Vec<u8>)],
) -> std::io::Result<bool> {
    if !input.fill(size)? {
        return Ok(false);
    }
    let paths: Vec<&[u8]> = new.iter().map(|(p, _)| p.as_slice()).collect();
    let kept = tree::invalidate(input.take(size), &paths);
    if let Some((len, data)) = kept.and_then(|d| Some((u32::try_from(d.len()).ok()?, d))) {
        out.write_all(b"TREE")?;
        out.write_all(&len.to_be_bytes())?;
        out.write_all(&data)?;
    }
    Ok(true)
}

/// Makes the next entry of an index of `version` available in `input`'s window: where its name
/// starts, the name's length and the entry's length. None for an entry that cannot be read.
fn next_entry(
    input: &mut Input<'_>,
    version: u32,
) -> std::io::Result<Option<(usize, usize, usize)>> {
    // The fixed part, the extended flags (version 3), then the name and its padding: 1 to 8
    // NULs, to a multiple of 8 bytes.
    if !input.fill(62)? {
        return Ok(None);
    }
    let flags = u16::from_be_bytes([input.window()[60], input.window()[61]]);
    let extended = flags & 0x4000 != 0;
    if extended && version < 3 {
        return Ok(None);
    }
    let name_at = 62 + if extended { 2 } else { 0 };
    // The flags hold the name's length below 0xfff; a longer name is found by its NUL.
    let short = usize::from(flags & 0xfff);
    let nul = if short < 0xfff {
        if !input.fill(name_at + short + 1)? || input.window()[name_at + short] != 0 {
            return Ok(None);
        }
        short
    } else {
        let mut want = name_at + 0x1000 + 128;
        loop {
            let more = input.fill(want)?;
            let found = input
                .window()
                .get(name_at..)
                .and_then(|w| w.iter().position(|&b| b == 0));
            match found {
                Some(nul) => break nul,
                None if !more => return Ok(None),
                None => want *= 2,
            }
        }
    };
    let len = (name_at + nul + 8) / 8 * 8;
    if !input.fill(len)? {
        return Ok(None);
    }
    Ok(Some((name_at, nul, len)))
}

/// Whether `path` is inside the folder `dir`.
fn below(path: &[u8], dir: &[u8]) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// A version 2 index entry for a regular file: its stat data, mode, id and path (the stat
/// data all zero without `meta`, for [`probe`], which writes nothing).
fn entry(path: &[u8], oid: &[u8], meta: Option<&fs::Metadata>) -> Vec<u8> {
    let mut e = Vec::with_capacity(72 + path.len());
    let Some(meta) = meta else {
        e.resize(40, 0);
        e.extend_from_slice(oid);
        let flags = path.len().min(0xfff) as u16;
        e.extend_from_slice(&flags.to_be_bytes());
        e.extend_from_slice(path);
        let len = 62 + path.len();
        e.resize((len + 8) / 8 * 8, 0);
        return e;
    };
    // Seconds and nanoseconds are 32-bit in the index; git truncates the same way.
    let mut word = |v: u64| e.extend_from_slice(&(v as u32).to_be_bytes());
    word(meta.ctime() as u64);
    word(meta.ctime_nsec() as u64);
    word(meta.mtime() as u64);
    word(meta.mtime_nsec() as u64);
    word(meta.dev());
    word(meta.ino());
    word(if meta.mode() & 0o111 != 0 {
        0o100755
    } else {
        0o100644
    });
    word(u64::from(meta.uid()));
    word(u64::from(meta.gid()));
    word(meta.size());
    e.extend_from_slice(oid);
    let flags = path.len().min(0xfff) as u16;
    e.extend_from_slice(&flags.to_be_bytes());
    e.extend_from_slice(path);
    let len = 62 + path.len();
    e.resize((len + 8) / 8 * 8, 0);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository whose index holds `paths` (libgit2's own writing), and its folders.
    fn repo(paths: &[&str]) -> (tempfile::TempDir, git2::Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let mut index = repo.index().unwrap();
        for p in paths {
            let full = dir.path().join(p);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(&full, format!("{p}\n")).unwrap();
            index.add_path(Path::new(p)).unwrap();
        }
        index.write().unwrap();
        (dir, repo)
    }

    /// Takes the lock, adds `files` unprobed and lets the lock go; None when it is held.
    fn stage(git_dir: &Path, workdir: &Path, files: &[(String, Oid)]) -> Option<Staged> {
        let tmp = git_dir.join("ovn/tmp");
        let lock = IndexLock::acquire(git_dir, &tmp, "ovn test\n").unwrap()?;
        let staged = add(&lock, git_dir, &tmp, workdir, files, false).unwrap();
        drop(lock);
        Some(staged)
    }

    fn entries(repo: &git2::Repository) -> Vec<(String, Oid)> {
        let mut index = repo.index().unwrap();
        index.read(true).unwrap();
        index
            .iter()
            .map(|e| (String::from_utf8(e.path).unwrap(), e.id))
            .collect()
    }

    #[test]
    fn entries_go_in_their_sorted_places_or_replace_their_path() {
        let (dir, repo) = repo(&["a/x.toml", "b/y.toml", "c.toml"]);
        let before = entries(&repo);
        // New files between and after the others, and one already in the index.
        for (p, text) in [
            ("a/w.toml", "w"),
            ("b/z.toml", "z"),
            ("d.toml", "d"),
            ("c.toml", "c2"),
        ] {
            fs::write(dir.path().join(p), text).unwrap();
        }
        let blob = |text: &str| Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).unwrap();
        let files: Vec<(String, Oid)> = [
            ("d.toml", "d"),
            ("a/w.toml", "w"),
            ("c.toml", "c2"),
            ("b/z.toml", "z"),
        ]
        .iter()
        .map(|(p, t)| (p.to_string(), blob(t)))
        .collect();
        let git_dir = repo.path().to_path_buf();
        assert_eq!(probe(&git_dir, &files).unwrap(), Staged::Done);
        assert_eq!(stage(&git_dir, dir.path(), &files), Some(Staged::Done));
        let after = entries(&repo);
        let paths: Vec<&str> = after.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "a/w.toml", "a/x.toml", "b/y.toml", "b/z.toml", "c.toml", "d.toml"
            ]
        );
        assert_eq!(after[4].1, blob("c2"), "replaced");
        assert_eq!(after[1], before[0], "the others as they were");
        assert!(!git_dir.join("index.lock").exists());
    }

    #[test]
    fn what_it_does_not_handle_is_left_untouched() {
        let (dir, repo) = repo(&["a/x.toml"]);
        let git_dir = repo.path().to_path_buf();
        let index = fs::read(git_dir.join("index")).unwrap();
        let blob = Oid::hash_object(git2::ObjectType::Blob, b"f").unwrap();
        // A file where the folder of an entry is.
        fs::remove_dir_all(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a"), "f").unwrap();
        let file = [("a".to_owned(), blob)];
        assert_eq!(probe(&git_dir, &file).unwrap(), Staged::Unsupported);
        assert_eq!(
            stage(&git_dir, dir.path(), &file),
            Some(Staged::Unsupported)
        );
        // Held by another program: not taken, and not removed.
        fs::write(git_dir.join("index.lock"), "").unwrap();
        assert_eq!(stage(&git_dir, dir.path(), &file), None);
        assert!(git_dir.join("index.lock").exists());
        fs::remove_file(git_dir.join("index.lock")).unwrap();
        // A damaged index (its checksum no longer matches).
        let mut damaged = index.clone();
        damaged[20] ^= 1;
        fs::write(git_dir.join("index"), &damaged).unwrap();
        fs::create_dir_all(dir.path().join("b")).unwrap();
        fs::write(dir.path().join("b/y.toml"), "y").unwrap();
        let other = [("b/y.toml".to_owned(), blob)];
        // The probe reads past the checksum (the write hashes the index anyway); the write
        // finds it and leaves the index alone.
        assert_eq!(probe(&git_dir, &other).unwrap(), Staged::Done);
        assert_eq!(
            stage(&git_dir, dir.path(), &other),
            Some(Staged::Unsupported)
        );
        assert_eq!(
            fs::read(git_dir.join("index")).unwrap(),
            damaged,
            "left as it was"
        );
        assert!(!git_dir.join("index.lock").exists());
    }
}
