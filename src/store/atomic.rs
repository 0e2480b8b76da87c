//! Writing a file whole or not at all: the bytes go to a temporary file, which is synced when
//! the caller asks and then renamed over the target, so a reader (or a crash) sees the old file
//! or the whole new one, never a part. Records, exports and the small markers under `.git/ovn`
//! all write this way.
//!
//! The temporary file's name is the caller's: next to the target for a record or an export
//! (a rename within one directory is atomic; a hidden name keeps it out of listings), beside
//! the marker for a marker. `tempfile::NamedTempFile::persist` does the same steps, but it
//! creates files with mode 0600 and adds the temporary name to its errors (`... at path ".x.tmpAb12"`), which would change both the files users get and
//! the messages they read; so this is plain `std`, and the one failure path it returns says
//! which file failed (the temporary one, or the target when the rename fails).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` through the temporary file `tmp` (in the same directory, or at least on the
/// same file system): `fill` writes the content, the file is synced to disk when `sync` is
/// set, and renamed over `path`. On any failure the temporary file is removed and the error
/// comes with the file it concerns: `tmp` while writing, `path` for the rename.
pub fn write<'p>(
    path: &'p Path,
    tmp: &'p Path,
    sync: bool,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), (&'p Path, std::io::Error)> {
    let written = (|| {
        let mut f = BufWriter::new(File::create(tmp)?);
        fill(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        if sync {
            f.sync_all()?;
        }
        Ok(())
    })();
    let result = written
        .map_err(|e| (tmp, e))
        .and_then(|()| std::fs::rename(tmp, path).map_err(|e| (path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// [`write`] of `bytes`.
pub fn write_bytes<'p>(
    path: &'p Path,
    tmp: &'p Path,
    sync: bool,
    bytes: &[u8],
) -> Result<(), (&'p Path, std::io::Error)> {
    write(path, tmp, sync, |f| f.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_target_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        let tmp = dir.path().join(".a.toml.ovn-tmp");
        std::fs::write(&path, "old").unwrap();
        write_bytes(&path, &tmp, true, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!tmp.exists());
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        let tmp = dir.path().join(".a.toml.ovn-tmp");
        std::fs::write(&path, "old").unwrap();
        let (failed, e) = write(&path, &tmp, false, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("stopped"))
        })
        .unwrap_err();
        assert_eq!((failed, e.to_string().as_str()), (tmp.as_path(), "stopped"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!tmp.exists());
    }

    #[test]
    fn a_failed_rename_names_the_target() {
        let dir = tempfile::tempdir().unwrap();
        // A directory that holds a file cannot be replaced by a file.
        let path = dir.path().join("d");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), "").unwrap();
        let tmp = dir.path().join(".d.tmp");
        let (failed, _) = write_bytes(&path, &tmp, false, b"x").unwrap_err();
        assert_eq!(failed, path.as_path());
        assert!(!tmp.exists());
    }
}
