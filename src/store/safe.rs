//! Reading and writing the working tree without following what a hostile tree may hold:
//! symbolic links (to `/proc/self/environ`, to a FIFO, to `/dev/zero`, out of the
//! repository), FIFOs, devices and sockets are never opened, and no file is read past its
//! bound ([`max_bytes`]) + 1 bytes.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

use super::StoreError;
use crate::core::parse::max_bytes;

/// What reading one working-tree file gave.
#[derive(Debug)]
pub enum Opened {
    /// A regular file's bytes: at most its bound + 1 of them (more means too large; the core
    /// reports it).
    Bytes(Vec<u8>),
    /// Not a regular file: what it is. It was not read.
    NotAFile(&'static str),
    /// A regular file the file system says is larger than its bound: its size. It was not
    /// read.
    TooLarge(u64),
}

/// What a file type is, in words, if it is not a regular file or a directory.
pub fn special(t: &FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_file() || t.is_dir() {
        None
    } else {
        Some("not a regular file")
    }
}

/// Opens `path` for reading without following a symbolic link in its last component and
/// without blocking on a FIFO; `Ok(Err(what))` for something that is not a regular file.
fn open_nofollow(path: &Path) -> std::io::Result<Result<File, &'static str>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Without O_NOFOLLOW: look first (a race remains, on systems without the flag).
        if let Some(what) = special(&std::fs::symlink_metadata(path)?.file_type()) {
            return Ok(Err(what));
        }
    }
    match options.open(path) {
        Ok(file) => Ok(Ok(file)),
        // ELOOP: the last component is a symbolic link.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Ok(Err("a symbolic link")),
        Err(e) => Err(e),
    }
}

/// Reads a working-tree file safely: a symbolic link, FIFO, device or socket is reported, not
/// opened or read; a regular file over `limit` bytes (the ledger file's
/// [`crate::core::parse::max_bytes`]) is reported by its size, not read; any other is read up
/// to `limit` + 1 bytes (a file growing, or whose size the file system does not know, is
/// still cut there).
pub fn read(path: &Path, limit: usize) -> std::io::Result<Opened> {
    read_checked(path, true, limit)
}

fn read_checked(path: &Path, by_size: bool, limit: usize) -> std::io::Result<Opened> {
    let file = match open_nofollow(path)? {
        Ok(file) => file,
        Err(what) => return Ok(Opened::NotAFile(what)),
    };
    // What was opened, not what the path names now: no race between looking and opening.
    let meta = file.metadata()?;
    if let Some(what) = special(&meta.file_type()) {
        return Ok(Opened::NotAFile(what));
    }
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if by_size && meta.len() > limit as u64 {
        return Ok(Opened::TooLarge(meta.len()));
    }
    let limit = limit as u64 + 1;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(Opened::Bytes(bytes))
}

/// [`read`] of `ledger_path` below `root`, for a path that did not come from a listing that
/// stays off links: every folder on the way must be a real directory, not a link to one.
pub fn read_under(root: &Path, ledger_path: &str) -> std::io::Result<Opened> {
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = ledger_path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        let t = std::fs::symlink_metadata(&at)?.file_type();
        if let Some(what) = special(&t) {
            return Ok(Opened::NotAFile(what));
        }
        if !t.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
    }
    // Bytes to the limit and one more, even for a large file: the caller's parse reports it.
    read_checked(&root.join(ledger_path), false, max_bytes(ledger_path))
}

/// [`read_under`] for readers that need bytes: `Ok(None)` when the file is not there, an
/// error when it is not a regular file.
pub fn read_bytes(root: &Path, ledger_path: &str) -> Result<Option<Vec<u8>>, StoreError> {
    match read_under(root, ledger_path) {
        Ok(Opened::Bytes(bytes)) => Ok(Some(bytes)),
        // Not given by `read_under`, which reads to the limit whatever the size.
        Ok(Opened::TooLarge(size)) => Err(StoreError::io(
            &root.join(ledger_path),
            "cannot read",
            std::io::Error::other(format!("{size} bytes, over the size limit")),
        )),
        Ok(Opened::NotAFile(what)) => Err(StoreError::NotAFile {
            path: ledger_path.to_owned(),
            what,
        }),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::IsADirectory
                    | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(StoreError::io(&root.join(ledger_path), "cannot read", e)),
    }
}

/// Refuses a write whose target, below `root`, goes through a symbolic link (or anything but
/// a directory) in any component: `contributions/2027 -> ../../outside` must not let a write
/// land outside the repository. Components that do not exist yet are fine (they will be
/// created as directories); the last component may be absent or a regular file.
pub fn check_write_target(root: &Path, ledger_path: &str) -> Result<(), StoreError> {
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = ledger_path.split('/').collect();
    for (n, part) in parts.iter().enumerate() {
        at.push(part);
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(&at, "cannot inspect", e)),
        };
        let last = n + 1 == parts.len();
        let what = special(&meta.file_type())
            .or((!last && !meta.is_dir()).then_some("not a directory"))
            .or((last && meta.is_dir()).then_some("a directory"));
        if let Some(what) = what {
            return Err(StoreError::UnsafeWrite {
                path: parts[..=n].join("/"),
                what,
            });
        }
    }
    Ok(())
}
