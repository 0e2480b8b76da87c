//! Replaying answers: a read-only question asked again at the same commits prints the
//! stored output instead of reading a million records again.
//!
//! The key is the whole question (the subcommand's parsed arguments), the ledger's place in
//! the repository, and the commit ids of the revision read and of `HEAD` (payout previews
//! list what `HEAD` adds). Commit ids pin every object a question can read, history
//! included, so a replayed answer is byte for byte what a fresh computation prints. Errors
//! are never stored. A network whose policy asks for signed approvals is never answered from
//! the cache: verifying a signature also depends on the machine's ssh set-up.
//!
//! Most answers are small and kept whole in memory ([`answer`]). An export can be the whole
//! ledger (a gigabyte of ValueFlows at a million records), so [`stream`] never holds it:
//! a fresh answer goes to the output and into the entry as it is written, and a stored one
//! is checked (key, then CRC over the file, read in pieces) before a single byte of it is
//! copied out, by the kernel where it can (`std::io::copy` from a file). An entry of either
//! kind has the same layout, so one question could be asked both ways.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;

use super::files::MAGIC;
use super::{AnswerCache, key};
use crate::core::codec;
use crate::core::ledger::{self, NETWORK_FILE, RawFile};
use crate::store::Store;

/// Answers `question` about the ledger of `store` at the revisions `revs` (for a payout
/// preview, the validated branch's name when no `--at` was given): from the answer cache
/// when it holds one for the same commits, else by `compute`, whose output is then stored.
/// Without a store (caching off, or no ledger to pin), it is simply computed.
pub fn answer<E: From<std::io::Error>>(
    store: Option<&Store>,
    question: &str,
    revs: &[&str],
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>) -> Result<u8, E>,
) -> Result<u8, E> {
    let mut buf = Vec::new();
    let Some((cache, key)) = store.and_then(|store| prepare(store, question, revs)) else {
        let status = compute(&mut buf)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    if let Some((status, bytes)) = cache.get(&key) {
        out.write_all(&bytes)?;
        return Ok(status);
    }
    let status = compute(&mut buf)?;
    out.write_all(&buf)?;
    cache.put(&key, status, &buf);
    Ok(status)
}

/// The cache and the full key, or `None` when the question cannot be keyed (caching off, a
/// revision that does not resolve, signed approvals): then it is simply computed.
fn prepare(store: &Store, question: &str, revs: &[&str]) -> Option<(AnswerCache, String)> {
    let cache = AnswerCache::of(store)?;
    let mut pinned = Vec::with_capacity(revs.len() + 1);
    for rev in revs.iter().copied().chain(["HEAD"]) {
        let commit = store.resolve(rev).ok()?.id();
        // Any revision whose policy asks for signed approvals: never replayed.
        let settings = store
            .read_file_at(&commit.to_string(), NETWORK_FILE)
            .ok()??;
        let network = ledger::load(&[RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes: settings,
        }])
        .ledger
        .network?;
        if network.validation.signed {
            return None;
        }
        pinned.push((rev, commit));
    }
    Some((cache, key::answer(store.prefix(), question, &pinned)))
}

/// [`answer`] for a question whose output may be too large to hold: from the answer cache,
/// copied straight from its file once the file is checked whole; else computed by `compute`
/// into `out` and, as it is written, into a new entry, which is kept only when `compute`
/// succeeds with status 0 (a failed or partial answer leaves nothing).
pub fn stream<E: From<io::Error>, W: Write>(
    store: Option<&Store>,
    question: &str,
    revs: &[&str],
    out: &mut W,
    compute: impl FnOnce(&mut dyn Write) -> Result<u8, E>,
) -> Result<u8, E> {
    let Some((cache, key)) = store.and_then(|store| prepare(store, question, revs)) else {
        return compute(out);
    };
    let path = cache.file(&key);
    if let Some((mut file, at, len)) = checked(&path, &key) {
        file.seek(io::SeekFrom::Start(at))?;
        io::copy(&mut file.take(len), out)?;
        return Ok(0);
    }
    cache.prune();
    let mut tee = Tee {
        out,
        fill: cache.writes().then(|| Fill::start(path, &key)).flatten(),
    };
    let status = compute(&mut tee)?;
    if let Some(fill) = tee.fill.take()
        && status == 0
    {
        fill.finish();
    }
    Ok(status)
}

/// The stored answer for `key` at `path` when whole (magic, key, status 0, CRC over all):
/// the open file, where the output starts and how long it is. The file is read once, in
/// pieces, to check it; the caller copies the output from it after.
fn checked(path: &std::path::Path, key: &str) -> Option<(File, u64, u64)> {
    let mut file = File::open(path).ok()?;
    let total = file.metadata().ok()?.len();
    let head = header(key);
    let body = total.checked_sub(4)?;
    if body < head.len() as u64 {
        return None;
    }
    let mut crc = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut first = true;
    let mut left = body;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).ok()?;
        file.read_exact(&mut buf[..n]).ok()?;
        if first && !buf[..n].starts_with(&head) {
            return None;
        }
        first = false;
        crc.update(&buf[..n]);
        left -= n as u64;
    }
    let mut stored = [0u8; 4];
    file.read_exact(&mut stored).ok()?;
    (crc.finalize().to_le_bytes() == stored).then_some((
        file,
        head.len() as u64,
        body - head.len() as u64,
    ))
}

/// What an entry starts with: the magic, the key, and the status 0 (the one a streamed
/// answer is kept with).
fn header(key: &str) -> Vec<u8> {
    let mut head = Vec::with_capacity(key.len() + 16);
    head.extend_from_slice(MAGIC);
    codec::put_str(&mut head, key);
    head.push(0);
    head
}

/// A new entry being written beside the output: a temporary file renamed into place when
/// whole. Failing to write only drops it (the answer is still given). The bytes go in
/// pieces of a mebibyte to a thread of its own, which sums and writes them, so filling the
/// cache costs the answer a copy of its bytes and no more of its time.
struct Fill {
    tmp: PathBuf,
    path: PathBuf,
    piece: Vec<u8>,
    to_writer: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<io::Result<(File, crc32fast::Hasher)>>>,
}

/// How many bytes go to the writer at a time.
const PIECE: usize = 1 << 20;

impl Fill {
    fn start(path: PathBuf, key: &str) -> Option<Fill> {
        let dir = path.parent()?;
        let tmp = dir.join(format!(".tmp-{}-stream", std::process::id()));
        let mut file = File::create(&tmp)
            .or_else(|_| {
                std::fs::create_dir_all(dir)?;
                File::create(&tmp)
            })
            .ok()?;
        let (to_writer, pieces) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let writer = std::thread::spawn(move || {
            let mut crc = crc32fast::Hasher::new();
            for piece in pieces {
                crc.update(&piece);
                file.write_all(&piece)?;
            }
            Ok((file, crc))
        });
        let mut fill = Fill {
            tmp,
            path,
            piece: Vec::with_capacity(PIECE),
            to_writer: Some(to_writer),
            writer: Some(writer),
        };
        fill.write(&header(key)).ok()?;
        Some(fill)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.piece.extend_from_slice(bytes);
        if self.piece.len() >= PIECE {
            self.send()?;
        }
        Ok(())
    }

    /// Hands the bytes gathered so far to the writer.
    fn send(&mut self) -> io::Result<()> {
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(PIECE));
        self.to_writer
            .as_ref()
            .and_then(|w| w.send(piece).ok())
            .ok_or_else(|| io::Error::other("the cache writer stopped"))
    }

    /// What the writer wrote, once it has written everything sent.
    fn written(&mut self) -> Option<(File, crc32fast::Hasher)> {
        self.to_writer = None;
        self.writer.take()?.join().ok()?.ok()
    }

    /// Seals the entry (CRC) and renames it into place.
    fn finish(mut self) {
        if self.send().is_err() {
            return;
        }
        let Some((mut file, crc)) = self.written() else {
            return;
        };
        let crc = crc.finalize();
        if file.write_all(&crc.to_le_bytes()).is_ok()
            && std::fs::rename(&self.tmp, &self.path).is_ok()
        {
            self.tmp = PathBuf::new();
        }
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        self.written();
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes to the output and, while it can, to the entry being filled.
struct Tee<'a, W: Write> {
    out: &'a mut W,
    fill: Option<Fill>,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.out.write(bytes)?;
        if let Some(fill) = &mut self.fill
            && fill.write(&bytes[..n]).is_err()
        {
            self.fill = None;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_entry_is_read_back_only_whole() {
        let dir = std::env::temp_dir().join(format!("ovn-stream-{}", std::process::id()));
        let cache = AnswerCache::new(&dir);
        let key = "question";
        let path = cache.file(key);
        let mut fill = Fill::start(path.clone(), key).unwrap();
        let output = b"line\n".repeat(300_000);
        fill.write(&output).unwrap();
        fill.finish();
        // The same entry the whole-answer cache reads.
        assert_eq!(cache.get(key), Some((0, output.clone())));
        let (mut file, at, len) = checked(&path, key).unwrap();
        file.seek(io::SeekFrom::Start(at)).unwrap();
        let mut back = Vec::new();
        file.take(len).read_to_end(&mut back).unwrap();
        assert_eq!(back, output);
        assert!(checked(&path, "another question").is_none());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[600_000] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(checked(&path, key).is_none(), "a flipped bit is a miss");
        bytes.truncate(10);
        std::fs::write(&path, &bytes).unwrap();
        assert!(checked(&path, key).is_none(), "cut short is a miss");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
