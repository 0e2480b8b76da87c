//! A guard against damaged loose objects, run before libgit2 reads one.
//!
//! The libgit2 that `libgit2-sys` 0.18.8 bundles (1.9.7, the newest on crates.io) spins for
//! ever at full CPU when a loose object is truncated: its inflate loop waits for input that
//! never comes (libgit2 issue #7342, fixed upstream after that release). `git cat-file`
//! fails at once on the same file. So before an object is handed to libgit2, its loose file,
//! if it has one, is inflated here with flate2 and checked whole: a `TYPE SIZE\0` header,
//! exactly SIZE bytes after it, and the end of the zlib stream. A packed object has no
//! loose file and costs one failed `open`; loose objects are small, and this reads each once.
//!
//! The guard sits where `ovn` reads commits, trees and blobs itself (see its callers); objects
//! libgit2 reaches on its own (a history walk's parents, say) are not guarded, nor objects
//! in an alternate object store.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;

use super::StoreError;

/// Checks the loose file of `oid` under `common_dir/objects`, if there is one.
pub fn verify(common_dir: &Path, oid: Oid) -> Result<(), StoreError> {
    let hex = oid.to_string();
    if hex.len() < 3 {
        return Ok(());
    }
    let path = common_dir.join("objects").join(&hex[..2]).join(&hex[2..]);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(&path, "cannot read", e)),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(&path, "cannot read", e))?;
    check(&bytes).map_err(|reason| StoreError::CorruptObject {
        oid: hex,
        path: PathBuf::from(&path),
        reason,
    })
}

/// A blob, its loose file checked first; a failure names the pack and offset where it can.
pub fn blob<'r>(
    repo: &'r git2::Repository,
    oid: Oid,
    action: &'static str,
) -> Result<git2::Blob<'r>, StoreError> {
    checked(repo, oid, action, git2::Repository::find_blob)
}

/// A tree, as [`blob`].
pub fn tree<'r>(
    repo: &'r git2::Repository,
    oid: Oid,
    action: &'static str,
) -> Result<git2::Tree<'r>, StoreError> {
    checked(repo, oid, action, git2::Repository::find_tree)
}

/// A commit, as [`blob`].
pub fn commit<'r>(
    repo: &'r git2::Repository,
    oid: Oid,
    action: &'static str,
) -> Result<git2::Commit<'r>, StoreError> {
    checked(repo, oid, action, git2::Repository::find_commit)
}

/// The object `find` reads, its loose file checked first; a failure is [`damaged`].
fn checked<'r, T>(
    repo: &'r git2::Repository,
    oid: Oid,
    action: &'static str,
    find: impl FnOnce(&'r git2::Repository, Oid) -> Result<T, git2::Error>,
) -> Result<T, StoreError> {
    verify(repo.commondir(), oid)?;
    find(repo, oid).map_err(|e| damaged(repo, oid, action, e))
}

/// The entry at `path` (`/`-separated) under `tree`, as `Tree::get_path` finds it, with
/// every tree on the way checked first (`get_path` reads them through libgit2).
pub fn entry_at<'r>(
    repo: &'r git2::Repository,
    tree: &git2::Tree<'r>,
    path: &str,
) -> Result<Option<git2::TreeEntry<'static>>, StoreError> {
    let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
    let mut here = tree.clone();
    while let Some(name) = parts.next() {
        let Some(entry) = here.get_name(name).map(|e| e.to_owned()) else {
            return Ok(None);
        };
        if parts.peek().is_none() {
            return Ok(Some(entry));
        }
        if entry.kind() != Some(git2::ObjectType::Tree) {
            return Ok(None);
        }
        here = self::tree(repo, entry.id(), "cannot read a tree")?;
    }
    Ok(None)
}

/// The error for an object libgit2 could not read: a corrupt pack at the object's offset when
/// a pack index names it, libgit2's own error otherwise.
pub fn damaged(
    repo: &git2::Repository,
    oid: Oid,
    action: &'static str,
    e: git2::Error,
) -> StoreError {
    match super::pack::locate(repo.path(), oid) {
        Some((path, offset, problem)) => StoreError::CorruptPack {
            path,
            offset,
            reason: format!(
                "object {oid} cannot be read: {}",
                problem.unwrap_or_else(|| e.message().to_owned())
            ),
        },
        None => StoreError::Git { action, source: e },
    }
}

/// Whether `bytes` are a whole loose object; what is wrong otherwise.
fn check(bytes: &[u8]) -> Result<(), String> {
    let mut z = Decompress::new(true);
    let mut out = vec![0u8; 64 * 1024];
    // The header, then the body's length, counted as it streams by.
    let mut header = Vec::new();
    let mut expected: Option<u64> = None;
    let mut body: u64 = 0;
    loop {
        let before_in = z.total_in();
        let before_out = z.total_out();
        let at = usize::try_from(before_in)
            .unwrap_or(bytes.len())
            .min(bytes.len());
        let status = z
            .decompress(&bytes[at..], &mut out, FlushDecompress::None)
            .map_err(|e| format!("its zlib data is damaged ({e})"))?;
        let produced = usize::try_from(z.total_out() - before_out).unwrap_or(0);
        let mut chunk = &out[..produced];
        if expected.is_none() {
            match chunk.iter().position(|&b| b == 0) {
                Some(nul) => {
                    header.extend_from_slice(&chunk[..nul]);
                    chunk = &chunk[nul + 1..];
                    expected = Some(parse_header(&header)?);
                }
                None => {
                    header.extend_from_slice(chunk);
                    chunk = &[];
                    if header.len() > 64 {
                        return Err("it has no object header".to_owned());
                    }
                }
            }
        }
        body += chunk.len() as u64;
        if let Some(size) = expected
            && body > size
        {
            return Err(format!(
                "it holds more than the {size} bytes its header says"
            ));
        }
        match status {
            Status::StreamEnd => break,
            _ if z.total_in() == before_in && z.total_out() == before_out => {
                // No progress: the input ran out before the stream's end.
                return Err(match expected {
                    Some(size) => format!(
                        "it is truncated ({} bytes on disk; {body} of the {size} bytes its header says inflate from them)",
                        bytes.len()
                    ),
                    None => format!("it is truncated ({} bytes on disk)", bytes.len()),
                });
            }
            _ => {}
        }
    }
    match expected {
        Some(size) if size == body => Ok(()),
        Some(size) => Err(format!(
            "it holds {body} bytes where its header says {size}"
        )),
        None => Err("it has no object header".to_owned()),
    }
}

/// The size in a loose object's header, `TYPE SIZE`.
fn parse_header(header: &[u8]) -> Result<u64, String> {
    let text = std::str::from_utf8(header).map_err(|_| "its header is not text".to_owned())?;
    let (kind, size) = text
        .split_once(' ')
        .ok_or_else(|| format!("its header {text:?} is not `TYPE SIZE`"))?;
    if !matches!(kind, "blob" | "tree" | "commit" | "tag") {
        return Err(format!("its header names no object type ({kind:?})"));
    }
    size.parse()
        .map_err(|_| format!("its header's size {size:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn loose(content: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(format!("blob {}\0", content.len()).as_bytes())
            .unwrap();
        e.write_all(content).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn whole_objects_pass_and_every_truncation_is_caught() {
        let content: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = loose(&content);
        assert_eq!(check(&whole), Ok(()));
        assert_eq!(check(&loose(b"")), Ok(()));
        for cut in 0..whole.len() {
            assert!(check(&whole[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = whole.clone();
        bad[whole.len() / 2] ^= 0xff;
        assert!(check(&bad).is_err());
    }
}
