//! Loading a ledger: one entry point whose result says whether it is the whole ledger or a
//! part of it.
//!
//! A quick load (see [`Store::load_revision_for`]) stands for the day folders the cache has
//! summarised with their summaries, and holds only the contributions a command asked for. Such
//! a ledger answers for its checks, its record count and the contributions it holds, never for
//! a sum over all contributions. When it had the type of a whole ledger, each caller had to
//! remember to look at `Ledger::elsewhere`; here the answer is a [`Loaded::Full`] or a
//! [`Loaded::Partial`], and only the former gives a whole ledger ([`Loaded::whole`]).
//!
//! Commands also read small parts of a ledger on purpose (a revision's agents, its payouts,
//! one day folder, the files a change touched) to judge one rule without reading a million
//! records. [`part`] and [`files`] make those: a [`Part`] holds the records of the files it
//! was given and nothing says it is more; its checks are not the ledger's.

use crate::cache::{CachedRead, Scope, Tally};
use crate::core::diag::Diagnostic;
use crate::core::ledger::{self, Ledger, NETWORK_FILE, RawFile};
use crate::store::{ResolvedRev, Store, StoreError};

/// What a command needs of the ledger it loads.
#[derive(Clone, Copy, Debug)]
pub enum Need<'a> {
    /// Every record.
    Whole,
    /// The verdict and the counts; no contribution (`ovn check`).
    Checks,
    /// The contributions of these projects and every correction (a payout of them, a report
    /// of contributions put together from kept parts).
    Projects(&'a [&'a str]),
}

/// A loaded revision: the whole ledger, or a part that answers for the need it was loaded for.
pub enum Loaded {
    /// Every record was read.
    Full(ledger::Loaded),
    /// Summarised folders stand in for their contributions.
    Partial(Partial),
}

/// A quick load's ledger: its diagnostics and record count are the whole ledger's, its
/// contributions only those the [`Need`] asked for.
pub struct Partial(ledger::Loaded);

impl Partial {
    /// The ledger's problems (the same as a whole load finds).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.0.diagnostics
    }

    /// The ledger as loaded: every record but the contributions of summarised folders that
    /// the need did not ask for. Sums over all contributions must not be taken from it.
    pub fn ledger(&self) -> &Ledger {
        &self.0.ledger
    }
}

impl Loaded {
    fn of(loaded: ledger::Loaded) -> Loaded {
        if loaded.ledger.elsewhere.records > 0 {
            Loaded::Partial(Partial(loaded))
        } else {
            Loaded::Full(loaded)
        }
    }

    /// The ledger's problems.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Loaded::Full(l) => &l.diagnostics,
            Loaded::Partial(p) => p.diagnostics(),
        }
    }

    /// The ledger as loaded, whole or not: what answers for the [`Need`] it was loaded for.
    pub fn ledger(&self) -> &Ledger {
        match self {
            Loaded::Full(l) => &l.ledger,
            Loaded::Partial(p) => p.ledger(),
        }
    }

    /// The whole ledger, if this is one.
    pub fn whole(self) -> Option<ledger::Loaded> {
        match self {
            Loaded::Full(l) => Some(l),
            Loaded::Partial(_) => None,
        }
    }

    /// The load, whole or partial, for a caller that uses it only for the [`Need`] it asked
    /// for (a payout of the projects it named, the verdict of a check).
    pub fn for_need(self) -> ledger::Loaded {
        match self {
            Loaded::Full(l) => l,
            Loaded::Partial(Partial(l)) => l,
        }
    }
}

/// Loads the ledger at `rev` for `need` (quickly from the cache's summaries when it can, else
/// whole; see [`Store::load_revision_for`]).
pub fn load(store: &Store, rev: &ResolvedRev, need: Need<'_>) -> Result<Loaded, StoreError> {
    load_counting(store, rev, need, None)
}

/// [`load`] for a command that counts `tally`'s question over the ledger next (a report, a
/// journal): should the cache be cold, it is counted while the cache is filled (see
/// [`Store::load_revision_counting`]).
pub fn load_counting(
    store: &Store,
    rev: &ResolvedRev,
    need: Need<'_>,
    tally: Option<&dyn Tally>,
) -> Result<Loaded, StoreError> {
    let id = rev.id();
    let (loaded, _) = match need {
        Need::Whole => store.load_revision(&id),
        Need::Checks => store.load_revision_counting(&id, Scope::Checks, tally),
        Need::Projects(projects) => {
            store.load_revision_counting(&id, Scope::Projects(projects), tally)
        }
    }
    .map_err(|e| rev.named(e))?;
    Ok(Loaded::of(loaded))
}

/// The whole ledger at `rev`.
pub fn whole(store: &Store, rev: &ResolvedRev) -> Result<ledger::Loaded, StoreError> {
    let (loaded, _) = store.load_revision(&rev.id()).map_err(|e| rev.named(e))?;
    Ok(loaded)
}

/// Only a quick load of the contributions of `projects` at `rev`: `None` when the cache is off
/// or cannot answer, without loading in full (a caller that plans its whole loads itself).
pub fn quickly(
    store: &Store,
    rev: &ResolvedRev,
    projects: &[&str],
) -> Result<Option<Loaded>, StoreError> {
    let loaded = store
        .try_load_quickly(&rev.id(), Scope::Projects(projects))
        .map_err(|e| rev.named(e))?;
    Ok(loaded.map(|(loaded, _)| Loaded::of(loaded)))
}

/// The ledger in the working tree, whole.
pub fn worktree(store: &Store) -> Result<ledger::Loaded, StoreError> {
    store.load_worktree()
}

/// Records a command reads on purpose to judge one rule: never the whole ledger, and its
/// checks are not the ledger's (a part has no agents to refer to, say).
pub struct Part(Ledger);

impl Part {
    /// The records read.
    pub fn ledger(&self) -> &Ledger {
        &self.0
    }

    /// The records read, to keep.
    pub fn into_ledger(self) -> Ledger {
        self.0
    }
}

/// What to read of a revision for a [`Part`].
#[derive(Clone, Copy, Debug)]
pub enum Pick<'a> {
    /// The files directly in a folder (`agents`, a day folder).
    Folder(&'a str),
    /// The files of a folder and of every folder below it (`payouts`).
    Tree(&'a str),
}

/// The records of the picked folders at `rev`, parsed with its `ovn.toml` (whose settings
/// shape every parse).
pub fn part(store: &Store, rev: &str, picks: &[Pick<'_>]) -> Result<Part, StoreError> {
    let mut files = Vec::new();
    for pick in picks {
        files.extend(match pick {
            Pick::Folder(folder) => store.read_folder_at(rev, folder)?,
            Pick::Tree(folder) => store.read_tree_at(rev, folder)?,
        });
    }
    if let Some(bytes) = store.read_file_at(rev, NETWORK_FILE)? {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        });
    }
    Ok(files_part(&files))
}

/// The records of files a command has in hand (a change's sides, a transaction's folders).
pub fn files(files: &[RawFile]) -> Part {
    files_part(files)
}

fn files_part(files: &[RawFile]) -> Part {
    Part(ledger::load(files).ledger)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_standing_for_summarised_records_is_partial() {
        let whole = ledger::Loaded::default();
        assert!(matches!(Loaded::of(whole), Loaded::Full(_)));
        let mut part = ledger::Loaded::default();
        part.ledger.elsewhere.records = 3;
        let loaded = Loaded::of(part);
        assert!(matches!(loaded, Loaded::Partial(_)));
        assert!(
            loaded.whole().is_none(),
            "a part never passes for the whole"
        );
    }
}
