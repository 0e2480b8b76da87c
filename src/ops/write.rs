//! What a write is validated against: the part of the ledger a new record is judged with.
//!
//! A write judges its new records by the checks of `ovn check` without reading a million
//! contributions: the rules a new record can break are about the records it refers to
//! (agents, projects, resources, agreements: the small folders), the day it adds hours to
//! (its day folder), and the record it corrects. So every write reads the small folders,
//! the folders and files its record touches, and loads them as one [`Base`], inside the
//! write's transaction (which may run again when the branch moves). The one check a part
//! can get wrong is hours per day, which a record of that day superseded from another day
//! overstates: when that is the only problem, the whole ledger decides ([`Base::problems`]).
//! A write whose rule depends on every record (an approval: is the contribution reversed?)
//! takes the whole ledger as its base ([`Base::whole`]).

use crate::core::append;
use crate::core::diag::Diagnostic;
use crate::core::ledger::{self, Loaded, RawFile};
use crate::store::{StoreError, View};

/// The ledger's small folders (everything but contributions), which every write reads
/// (`rates`: whether a contribution in another currency converts).
pub const SMALL_FOLDERS: [&str; 5] = ["agents", "projects", "resources", "agreements", "rates"];

/// The files a write is validated against, loaded.
pub struct Base {
    files: Vec<RawFile>,
    loaded: Loaded,
}

/// The problems new records would bring, and the files they point into (for showing them).
pub type Problems = (Vec<Diagnostic>, Vec<RawFile>);

impl Base {
    /// `ovn.toml`, the small folders and `folders`, then each file of `files` not read yet.
    pub fn read(view: &View<'_>, folders: &[&str], files: &[&str]) -> Result<Base, StoreError> {
        let mut all: Vec<&str> = SMALL_FOLDERS.to_vec();
        all.extend_from_slice(folders);
        let mut read = view.read_folders(&all)?;
        for path in files {
            if !read.iter().any(|f| f.path == *path)
                && let Some(file) = view.read(path)?
            {
                read.push(file);
            }
        }
        Ok(Base::of(read))
    }

    /// The whole ledger, for a write whose rule depends on every record.
    pub fn whole(view: &View<'_>) -> Result<Base, StoreError> {
        Ok(Base::of(view.read_all()?))
    }

    /// This base with the files of `folders` it has not read yet, loaded again.
    pub fn widened(self, view: &View<'_>, folders: &[&str]) -> Result<Base, StoreError> {
        let mut files = self.files;
        for f in view.read_folders(folders)? {
            if !files.iter().any(|b| b.path == f.path) {
                files.push(f);
            }
        }
        Ok(Base::of(files))
    }

    fn of(files: Vec<RawFile>) -> Base {
        let loaded = ledger::load(&files);
        Base { files, loaded }
    }

    /// The records read.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The problems `added` would bring to the ledger, as `ovn check` would report them;
    /// `None` when it brings none.
    pub fn problems(
        &self,
        view: &View<'_>,
        added: &[RawFile],
    ) -> Result<Option<Problems>, StoreError> {
        let mut problems = append::new_problems(&self.files, &self.loaded, added);
        let mut whole = None;
        if append::only_day_overflow(&problems) {
            let all = view.read_all()?;
            let all_loaded = ledger::load(&all);
            problems = append::new_problems(&all, &all_loaded, added);
            whole = Some(all);
        }
        if problems.is_empty() {
            return Ok(None);
        }
        let mut files = whole.unwrap_or_else(|| self.files.clone());
        files.extend_from_slice(added);
        Ok(Some((problems, files)))
    }
}
