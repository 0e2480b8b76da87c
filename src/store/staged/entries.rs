//! git's index read straight from its bytes, split index included, for `--staged`.
//!
//! libgit2 reads an index of a million entries into one allocation per entry (a few hundred
//! milliseconds) and cannot read a split index at all (`core.splitIndex`, the setting that
//! makes `ovn log` cheap in a large checkout), so a pre-commit hook in such a checkout could
//! not run `ovn check --staged`. This reader holds the file's bytes and lists each entry as a
//! few fields and a slice of its name, nothing copied.
//!
//! Only what it fully understands is read: versions 2 and 3 with SHA-1 ids, and of the
//! required extensions (a lower-case signature) only the split index's `link`, whose shared
//! part is merged the way git merges it (entries the delete bitmap names dropped, those the
//! replace bitmap names given the split file's first entries, nameless, in order; the split
//! file's other entries added). Anything else (version 4, a sparse index, an extension or
//! bitmap that does not read, a shared file whose checksum is not the one the link names)
//! gives `None`, and the caller falls back to libgit2, which reads what it can and says what
//! it cannot. The trailing checksum is not verified, as git itself does not on a read (only
//! `git fsck` does): hashing 100 MB would cost more than the rest of the read.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use git2::Oid;

/// Length of a SHA-1 id and of the index's checksum.
pub(super) const HASH: usize = 20;
/// `git add -N` (intent to add), in the extended flags.
const INTENT_TO_ADD: u16 = 1 << 13;
/// `git update-index --skip-worktree`, in the extended flags.
const SKIP_WORKTREE: u16 = 1 << 14;
/// `git update-index --assume-unchanged`, in the flags.
const ASSUME_VALID: u16 = 1 << 15;

/// The stat data of an entry no file backs (one libgit2 listed): never equal to a file's.
pub(super) const NO_STAT: [u8; 40] = [0; 40];

/// One entry of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry<'a> {
    /// Repository-relative path, as stored (not necessarily UTF-8).
    pub path: &'a [u8],
    /// git's file mode (`0o100644`, `0o120000`, ...).
    pub mode: u32,
    /// The blob (or, for a submodule, commit) id.
    pub id: Oid,
    /// The merge stage: 0, or 1 to 3 for a conflict.
    pub stage: u8,
    /// Staged with `git add -N`: no content, not in a commit.
    pub intent: bool,
    /// The `lstat` data git saw when it last hashed the file, as stored: change and
    /// modification times (seconds, nanoseconds), device, inode, mode, owner, group and
    /// size, 32 big-endian bits each.
    pub stat: &'a [u8; 40],
    /// Marked assume-unchanged or skip-worktree: git does not look at the file, so its
    /// stat data proves nothing.
    pub unwatched: bool,
}

/// The bytes of an index and, for a split index, of its shared part (read when the index
/// is found to link to one).
pub(super) struct Files {
    own: Vec<u8>,
    shared: OnceLock<Option<Vec<u8>>>,
    index: PathBuf,
    git_dir: PathBuf,
}

/// One file of the index, parsed: its entries, for a split index the link, and the cached
/// trees' extension (`TREE`) as it is stored.
pub(super) struct Parsed<'a> {
    pub(super) entries: Vec<Entry<'a>>,
    pub(super) link: Option<Link>,
    pub(super) tree: Option<&'a [u8]>,
}

/// The subtrees git's cache-tree extension (`TREE`) holds as valid: for each, by its
/// repository-relative path, how many index entries it covers, how many subtrees it has, and
/// the id of the tree git writes for it.
///
/// `git add` invalidates only the folders above the path it adds (their count becomes -1),
/// and `git commit` writes every valid subtree's id as it stands, unhashed: so a folder the
/// extension holds as valid is, by git's own rule, the tree the commit will hold, and ovn
/// need not hash its entries. What is not proven sound is not used: the extension is parsed
/// strictly (any flaw and it is ignored whole), a valid folder must have only valid
/// subfolders whose counts fit in its own, and the caller uses a folder's id only when its
/// count is the number of entries it finds there.
#[derive(Debug, Default)]
pub(super) struct Trees {
    valid: std::collections::HashMap<Vec<u8>, (usize, usize, Oid)>,
}

impl Trees {
    /// The tree id of `folder` when the extension holds it as valid, with no subfolder and
    /// covering exactly `entries` entries.
    pub(super) fn valid(&self, folder: &[u8], entries: usize) -> Option<Oid> {
        match self.valid.get(folder) {
            Some(&(count, 0, id)) if count == entries => Some(id),
            _ => None,
        }
    }

    /// How many subtrees are held as valid.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.valid.len()
    }
}

/// The valid folders of the extension's `data` (see [`Trees`]) for an index of `total`
/// entries; `None` when it does not read, or holds a valid folder with an invalid subfolder,
/// subfolders covering more entries than it, or more entries than the index has.
pub(super) fn read_trees(data: &[u8], total: usize) -> Option<Trees> {
    let nodes = crate::store::index::tree::read(data)?;
    let mut below = vec![0usize; nodes.len()];
    let mut all_valid = vec![true; nodes.len()];
    for node in &nodes {
        if let Some(parent) = node.parent {
            below[parent] = below[parent].checked_add(node.count.unwrap_or(0))?;
            all_valid[parent] &= node.count.is_some();
        }
    }
    let mut trees = Trees::default();
    for (i, node) in nodes.into_iter().enumerate() {
        let (Some(count), Some(id)) = (node.count, node.id) else {
            continue;
        };
        if count > total || !all_valid[i] || below[i] > count {
            return None;
        }
        let id = Oid::from_bytes(&id).ok()?;
        if trees
            .valid
            .insert(node.path, (count, node.subtrees, id))
            .is_some()
        {
            return None;
        }
    }
    Some(trees)
}

/// The `link` extension: the shared index's id and what of it is deleted or replaced.
pub(super) struct Link {
    pub(super) shared: [u8; HASH],
    pub(super) delete: Vec<u32>,
    pub(super) replace: Vec<u32>,
}

/// Reads the index at `index` (a split index's shared part is found in `git_dir`, else
/// beside the index, as git finds it). An error only when the file cannot be read.
pub(super) fn read(index: &Path, git_dir: &Path) -> std::io::Result<Files> {
    Ok(Files {
        own: std::fs::read(index)?,
        shared: OnceLock::new(),
        index: index.to_path_buf(),
        git_dir: git_dir.to_path_buf(),
    })
}

impl Files {
    /// Every entry, sorted by path and stage as git keeps them, and the subtrees the cached
    /// trees' extension holds as valid (none when it is absent or does not read); `None`
    /// when the index is not one this reader understands (see the module's comment).
    pub(super) fn entries(&self) -> Option<(Vec<Entry<'_>>, Trees)> {
        let own = parse(&self.own)?;
        let tree = own.tree;
        let entries = match own.link {
            None => own.entries,
            // Split, but with no shared part yet: the file holds every entry.
            Some(link) if link.shared == [0; HASH] => {
                (link.delete.is_empty() && link.replace.is_empty()).then_some(own.entries)?
            }
            Some(link) => {
                let shared = self
                    .shared
                    .get_or_init(|| self.shared_bytes(&link.shared))
                    .as_ref()?;
                let base = parse(shared)?;
                if base.link.is_some() {
                    return None;
                }
                merge(base.entries, own.entries, &link)?
            }
        };
        // The extension lives in the file git wrote last (a split index's own, small file):
        // its checksum is cheap to check there, and a damaged one is not trusted.
        let trees = tree
            .filter(|_| self.own_checksum_holds())
            .and_then(|data| read_trees(data, entries.len()))
            .unwrap_or_default();
        Some((entries, trees))
    }

    /// The bytes of the shared index `id`, when found and its checksum is `id` (the name is
    /// the checksum: any other file is not the one linked to).
    fn shared_bytes(&self, id: &[u8; HASH]) -> Option<Vec<u8>> {
        let bytes = self
            .shared_paths(id)?
            .into_iter()
            .find_map(|path| std::fs::read(path).ok())?;
        let sum = bytes.len().checked_sub(HASH).map(|at| &bytes[at..]);
        (sum == Some(&id[..])).then_some(bytes)
    }

    /// Where git looks for the shared index `id`: in the git directory, else beside the
    /// index.
    pub(super) fn shared_paths(&self, id: &[u8; HASH]) -> Option<[PathBuf; 2]> {
        let name = format!("sharedindex.{}", Oid::from_bytes(id).ok()?);
        let beside = self.index.parent().unwrap_or(&self.git_dir).join(&name);
        Some([self.git_dir.join(&name), beside])
    }

    /// The index's own file, parsed (for a split index, the small file git writes at every
    /// change); `None` when it does not read.
    pub(super) fn own(&self) -> Option<Parsed<'_>> {
        parse(&self.own)
    }

    /// Whether the own file's checksum holds (see [`Files::entries`] on the cached trees).
    pub(super) fn own_checksum_holds(&self) -> bool {
        self.own.len() > 1 << 20 || checksum_holds(&self.own)
    }

    /// The index file's own checksum and bytes (for an index with no shared part, the whole
    /// index).
    pub(super) fn own_bytes(&self) -> Option<(Oid, &[u8])> {
        let id = Oid::from_bytes(&self.own[self.own.len().checked_sub(HASH)?..]).ok()?;
        Some((id, &self.own))
    }

    /// The shared part's id and bytes, once [`Files::entries`] has read them.
    pub(super) fn shared(&self) -> Option<(Oid, &[u8])> {
        let bytes = self.shared.get()?.as_deref()?;
        let id = Oid::from_bytes(&bytes[bytes.len().checked_sub(HASH)?..]).ok()?;
        Some((id, bytes))
    }
}

/// Whether the last bytes of `bytes` are the SHA-1 of the rest (or all zero: git's
/// `index.skipHash`).
fn checksum_holds(bytes: &[u8]) -> bool {
    use sha1::{Digest, Sha1};
    let Some(at) = bytes.len().checked_sub(HASH) else {
        return false;
    };
    let sum = &bytes[at..];
    sum == [0; HASH] || Sha1::digest(&bytes[..at]).as_slice() == sum
}

/// A split index's entries: the shared ones (`base`) with the link's deletions and
/// replacements, and the split file's (`own`: the replacements first, nameless, then the
/// added ones), as git's `merge_base_index` makes them.
///
/// In place: a million entries are not copied to drop a few or add one.
fn merge<'a>(base: Vec<Entry<'a>>, own: Vec<Entry<'a>>, link: &Link) -> Option<Vec<Entry<'a>>> {
    let mut out = base;
    // The bitmaps' positions come in ascending order; one past the entries is corrupt.
    if link.delete.last().is_some_and(|&i| i as usize >= out.len()) {
        return None;
    }
    let mut own = own.into_iter();
    for &i in &link.replace {
        // Replaced and deleted at once, or no entry for it: git calls that corrupt.
        if link.delete.binary_search(&i).is_ok() {
            return None;
        }
        let slot = out.get_mut(i as usize)?;
        let new = own.next()?;
        if !new.path.is_empty() {
            return None;
        }
        *slot = Entry {
            path: slot.path,
            ..new
        };
    }
    if !link.delete.is_empty() {
        let mut at = 0u32;
        let mut deleted = link.delete.iter().peekable();
        out.retain(|_| {
            let gone = deleted.next_if_eq(&&at).is_some();
            at += 1;
            !gone
        });
    }
    let added: Vec<Entry<'a>> = own.collect();
    if added.is_empty() {
        return Some(out);
    }
    if added.iter().any(|e| e.path.is_empty()) {
        return None;
    }
    // An added entry takes the place of a kept one with its path and stage, as git's add
    // with "ok to replace" does.
    fn key<'e>(e: &Entry<'e>) -> (&'e [u8], u8) {
        (e.path, e.stage)
    }
    out.retain(|e| added.binary_search_by(|a| key(a).cmp(&key(e))).is_err());
    // A few, each moved into its place (a sort would take a scratch copy of half of them).
    if added.len() <= 64 && out.is_sorted_by_key(key) {
        for e in added {
            let at = out.partition_point(|x| key(x) <= key(&e));
            out.insert(at, e);
        }
        return Some(out);
    }
    out.extend(added);
    out.sort_by(|a, b| key(a).cmp(&key(b)));
    Some(out)
}

/// The entries and link of one index file, or `None` where it is not one this reader
/// understands.
pub(super) fn parse(bytes: &[u8]) -> Option<Parsed<'_>> {
    let (body, version, count) = header(bytes)?;
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(body.get(at..at + 4)?.try_into().ok()?))
    };
    let count = count as usize;
    // Never trusted to be small: an entry is at least 64 bytes.
    let mut entries = Vec::with_capacity(count.min(body.len() / 64));
    let mut at = 12;
    for _ in 0..count {
        let (entry, len) = entry(body.get(at..)?, version)?;
        entries.push(entry);
        at += len;
    }
    let mut link = None;
    let mut tree = None;
    while at < body.len() {
        let sig = body.get(at..at + 4)?;
        let size = word(at + 4)? as usize;
        let data = body.get(at + 8..(at + 8).checked_add(size)?)?;
        if sig == b"link" {
            link = Some(read_link(data)?);
        } else if sig == b"TREE" {
            tree = Some(data);
        } else if sig[0].is_ascii_lowercase() {
            // A required extension this reader does not know (a sparse index's `sdir`).
            return None;
        }
        at += 8 + size;
    }
    Some(Parsed {
        entries,
        link,
        tree,
    })
}

/// An index file's body (its bytes without the trailing checksum), version and count of
/// entries; `None` when it is not an index of version 2 or 3. The entries start at byte 12.
pub(super) fn header(bytes: &[u8]) -> Option<(&[u8], u32, u32)> {
    let body = bytes.get(..bytes.len().checked_sub(HASH)?)?;
    if body.get(..4)? != b"DIRC" {
        return None;
    }
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(body.get(at..at + 4)?.try_into().ok()?))
    };
    let version = word(4)?;
    (2..=3)
        .contains(&version)
        .then_some((body, version, word(8)?))
}

/// One entry at the start of `bytes` (an index of `version`), and its length with padding.
pub(super) fn entry(bytes: &[u8], version: u32) -> Option<(Entry<'_>, usize)> {
    let fixed = bytes.get(..62)?;
    let mode = u32::from_be_bytes(fixed[24..28].try_into().ok()?);
    let id = Oid::from_bytes(&fixed[40..60]).ok()?;
    let flags = u16::from_be_bytes([fixed[60], fixed[61]]);
    let extended = flags & 0x4000 != 0;
    if extended && version < 3 {
        return None;
    }
    let (name_at, more) = if extended {
        (64, u16::from_be_bytes(bytes.get(62..64)?.try_into().ok()?))
    } else {
        (62, 0)
    };
    // The flags hold the name's length below 0xfff; a longer name is found by its NUL.
    let short = usize::from(flags & 0xfff);
    let len = if short < 0xfff {
        (*bytes.get(name_at + short)? == 0).then_some(short)?
    } else {
        bytes.get(name_at..)?.iter().position(|&b| b == 0)?
    };
    let path = &bytes[name_at..name_at + len];
    let padded = (name_at + len + 8) / 8 * 8;
    if bytes.len() < padded {
        return None;
    }
    let entry = Entry {
        path,
        mode,
        id,
        stage: ((flags >> 12) & 3) as u8,
        intent: more & INTENT_TO_ADD != 0,
        stat: fixed[..40].try_into().ok()?,
        unwatched: flags & ASSUME_VALID != 0 || more & SKIP_WORKTREE != 0,
    };
    Some((entry, padded))
}

/// The `link` extension's data: the shared index's id, then (when present) the delete and
/// replace bitmaps.
fn read_link(data: &[u8]) -> Option<Link> {
    let shared: [u8; HASH] = data.get(..HASH)?.try_into().ok()?;
    let rest = &data[HASH..];
    if rest.is_empty() {
        return Some(Link {
            shared,
            delete: Vec::new(),
            replace: Vec::new(),
        });
    }
    let (delete, used) = ewah(rest)?;
    let (replace, used2) = ewah(&rest[used..])?;
    (used + used2 == rest.len()).then_some(Link {
        shared,
        delete,
        replace,
    })
}

/// The positions of the set bits of a bitmap in git's EWAH form (`ewah/ewah_io.c`), and the
/// bytes it took: its size in bits, its count of 64-bit words, the words (runs of a repeated
/// bit, each followed by literal words), and the position of the last run word; big-endian.
fn ewah(bytes: &[u8]) -> Option<(Vec<u32>, usize)> {
    let word32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let bits = word32(0)?;
    let words = word32(4)? as usize;
    let end = 8usize.checked_add(words.checked_mul(8)?)?;
    let word64 = |k: usize| -> Option<u64> {
        let at = 8 + 8 * k;
        Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    word32(end)?;
    let mut out = Vec::new();
    let (mut k, mut pos) = (0usize, 0u64);
    while k < words {
        let rlw = word64(k)?;
        let run = (rlw >> 1) & 0xffff_ffff;
        let literals = (rlw >> 33) as usize;
        // Never past the bitmap's size (a hostile run would otherwise list billions).
        if pos + run * 64 > u64::from(bits) + 63 {
            return None;
        }
        if rlw & 1 == 1 {
            // A run of set bits: never written for a split index's bitmaps, but valid.
            for b in 0..run * 64 {
                out.push(u32::try_from(pos + b).ok()?);
            }
        }
        pos += run * 64;
        for l in 0..literals {
            let lit = word64(k + 1 + l)?;
            for b in 0..64 {
                if lit >> b & 1 == 1 {
                    out.push(u32::try_from(pos + b).ok()?);
                }
            }
            pos += 64;
        }
        k += 1 + literals;
    }
    if k != words || out.last().is_some_and(|&last| last >= bits) {
        return None;
    }
    Some((out, end + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ewah_bitmap_reads_as_git_writes_it() {
        // Bits 1 and 70 of 71: a run word (no run, two literals), then the literals.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&71u32.to_be_bytes());
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(&(2u64 << 33).to_be_bytes());
        bytes.extend_from_slice(&2u64.to_be_bytes());
        bytes.extend_from_slice(&(1u64 << 6).to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(ewah(&bytes), Some((vec![1, 70], bytes.len())));
        // A run of 64 zero bits, then one literal.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&66u32.to_be_bytes());
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&((1u64 << 33) | (1 << 1)).to_be_bytes());
        bytes.extend_from_slice(&3u64.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(ewah(&bytes), Some((vec![64, 65], bytes.len())));
        assert_eq!(ewah(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn what_is_not_an_index_is_not_read() {
        assert!(parse(b"").is_none());
        assert!(parse(&[0; 40]).is_none());
        let mut v4 = b"DIRC\0\0\0\x04\0\0\0\0".to_vec();
        v4.extend_from_slice(&[0; HASH]);
        assert!(parse(&v4).is_none());
        let mut v2 = b"DIRC\0\0\0\x02\0\0\0\0".to_vec();
        v2.extend_from_slice(&[0; HASH]);
        assert!(parse(&v2).is_some_and(|p| p.entries.is_empty()));
        // An entry count larger than the file.
        let mut many = b"DIRC\0\0\0\x02\xff\xff\xff\xff".to_vec();
        many.extend_from_slice(&[0; HASH]);
        assert!(parse(&many).is_none());
    }
}
