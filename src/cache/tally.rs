//! A question's parts counted while a cold cache is filled, from the records the fill has
//! in hand.
//!
//! A report, journal or page asked first in a fresh clone used to go over the ledger
//! twice: the fill (`window`) read and parsed every record, cached its folder and
//! dropped it; then the driver (`reports::by_parts`) found no part kept and
//! decoded every folder's entry again, a window at a time (`held`), to count it:
//! a third of the command's time at a million records. Here the fill hands each window's
//! records, once cached, to the question's [`Tally`], which counts them beside every other
//! record of the ledger (all but the day folders' contributions, read once, at the first
//! window) and keeps the parts in the report cache, under the keys the driver looks for.
//! The driver then finds them kept, exactly as after an earlier run. What a question keeps
//! of a window is its [`Parts`]: a report's, a journal's or the site's `Question`, or the
//! ValueFlows parts (`valueflows::tally`), whose keys name, rather than the targets a
//! folder holds, the folders holding the records its own corrections name.
//!
//! **Why such a part is never wrong.** A part depends on the question, the ledger's other
//! entries, the folder's records and which of them corrections name (see `reports`); a
//! window holds the first three whole, and the last only as far as its own corrections go.
//! So each part is kept under the correction targets the window found in its folder. The
//! driver keys a folder by the targets every correction of the ledger may name in it: for
//! a folder one of whose records a later window corrects, the two keys differ, the part is
//! not found, and the folder is counted again from its entry, as before. A kept part can go
//! unused, never be used wrongly.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use git2::Oid;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::PartCache;
use super::reports::{Question, correction_targets, folder_of, part_key};
use crate::core::ledger::Ledger;
use crate::core::record::Contribution;
use crate::store::Store;

/// Records of whole day folders, path and record, in path order (the paths borrowed from
/// the window that read them).
pub(crate) type Held<'p> = Vec<(&'p str, Box<Contribution>)>;

/// A question counted while a cold cache is filled (see the module's documentation): what
/// the fill calls, in order, when a command hands it one.
pub trait Tally: Sync {
    /// Counts the day folders `held` holds whole (every record of each, cached and clean;
    /// of revision `rev` of `store`) and keeps their parts. The records are dropped when it
    /// returns. The first call reads the revision's records other than the day folders'
    /// contributions, which every window is counted beside; nothing is counted when that
    /// cannot be done (the cache is off, the revision does not read) or the question will
    /// not be asked of the parts.
    fn window(&self, store: &Store, rev: &str, held: Held<'_>);

    /// Writes the parts not yet written, once the last window is counted.
    fn finish(&self);
}

/// How one question's parts are made from a window's records and kept: a report's, a
/// journal's or the site's [`Question`], or the ValueFlows parts (`valueflows`).
pub trait Parts: Sync {
    /// The key of a month's file of parts, given the month and the digest of the ledger's
    /// entries other than contributions.
    fn month_key(&self, month: &str, context: &str) -> String;

    /// The parts of the day folders of `window` that `wanted` names, each held whole beside
    /// the revision's other records (`trees`: every day folder's tree id): day folder, part
    /// key and bytes, in path order. A folder whose part cannot be made here is left out (the
    /// command then makes it from the folder's entry), and so is everything when the question
    /// cannot be answered.
    fn window(
        &self,
        window: &Ledger,
        trees: &HashMap<String, Oid>,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<(String, String, Vec<u8>)>;
}

impl<G: Send> Parts for Question<G> {
    fn month_key(&self, month: &str, context: &str) -> String {
        (self.month_key)(month, context)
    }

    fn window(
        &self,
        window: &Ledger,
        trees: &HashMap<String, Oid>,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<(String, String, Vec<u8>)> {
        // A question that cannot be answered keeps nothing: the driver meets it again.
        let Ok(parts) = (self.count)(window, wanted) else {
            return Vec::new();
        };
        let named = correction_targets(window);
        parts
            .into_iter()
            .filter_map(|(folder, part)| {
                let key = part_key(folder, trees, &named)?;
                let mut bytes = Vec::new();
                (self.encode)(&part, &mut bytes);
                Some((folder.to_owned(), key, bytes))
            })
            .collect()
    }
}

/// The [`Tally`] of one question's [`Parts`].
pub struct Counting<P> {
    question: P,
    /// Whether the question is asked of the parts at all, told from the ledger's records
    /// other than contributions (the site counts from parts only when no approvals are
    /// asked); always, when `None`.
    asked: Option<Box<Asked>>,
    /// What the first window read; `None` when nothing is counted.
    ready: OnceLock<Option<Ready>>,
    /// A month's parts (its path, and part key and bytes each) until the windows pass it:
    /// a month's folders may span two windows, and its file is written once.
    pending: Mutex<Option<Month>>,
}

/// A month's path and its parts (part key, bytes).
type Month = (String, Vec<(String, Vec<u8>)>);

/// Whether a question is asked of the parts, given the ledger's records other than
/// contributions (see [`Counting::when`]).
pub type Asked = dyn Fn(&Ledger) -> bool + Send + Sync;

/// What the first [`Tally::window`] read.
struct Ready {
    /// The revision counted.
    rev: String,
    parts: PartCache,
    /// The digest of the ledger's entries other than contributions (see
    /// [`Store::contribution_trees`]).
    context: String,
    /// Each day folder's tree id.
    trees: HashMap<String, Oid>,
    /// Every record of the revision but the day folders' contributions.
    ledger: Ledger,
}

impl<P: Parts> Counting<P> {
    /// Counts `question` while a cache is filled.
    pub fn new(question: P) -> Counting<P> {
        Counting {
            question,
            asked: None,
            ready: OnceLock::new(),
            pending: Mutex::new(None),
        }
    }

    /// Counts only when `asked` says the command will ask for the parts (told from the
    /// ledger's records other than contributions, read at the first window): counting parts
    /// no one reads would only slow the fill.
    pub fn when(mut self, asked: Box<Asked>) -> Counting<P> {
        self.asked = Some(asked);
        self
    }

    /// Adds a window's parts (day folder, part key, bytes; in path order) to the months
    /// pending, writing each month the windows have passed.
    fn keep(&self, ready: &Ready, parts: Vec<(String, String, Vec<u8>)>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (folder, key, bytes) in parts {
            let month = folder_of(&folder);
            if let Some(done) = pending.take_if(|(m, _)| m.as_str() != month) {
                self.write(ready, done);
            }
            let (_, parts) = pending.get_or_insert_with(|| (month.to_owned(), Vec::new()));
            parts.push((key, bytes));
        }
    }

    /// Writes a month's parts, beside those its file already keeps (of other folders of
    /// the month, say, from an earlier revision: the driver drops them once they are not
    /// current).
    fn write(&self, ready: &Ready, (month, parts): Month) {
        let key = self.question.month_key(&month, &ready.context);
        let old = ready.parts.get(&key);
        ready.parts.merge(&key, parts, old, |_| true);
    }

    /// What counting the windows of `rev` needs, or `None` when nothing is counted.
    fn ready(&self, store: &Store, rev: &str) -> Option<Ready> {
        let parts = PartCache::of(store)?;
        let (context, trees) = store.contribution_trees(rev).ok()?;
        let ledger = super::load::load_context(store, rev).ok()??;
        if self.asked.as_ref().is_some_and(|asked| !asked(&ledger)) {
            return None;
        }
        Some(Ready {
            rev: rev.to_owned(),
            parts,
            context,
            trees,
            ledger,
        })
    }
}

impl<P: Parts> Tally for Counting<P> {
    fn window(&self, store: &Store, rev: &str, held: Held<'_>) {
        if held.is_empty() {
            return;
        }
        // Read at the first window with contributions: the fill reads day folders in path
        // order, so by then it has cached every approval folder, which the read takes from
        // the cache rather than parsing them again.
        let ready = self.ready.get_or_init(|| self.ready(store, rev));
        // One revision per tally: another fill's windows are not counted.
        let Some(ready) = ready.as_ref().filter(|r| r.rev == rev) else {
            return;
        };
        let wanted: FxHashSet<&str> = held.iter().map(|(path, _)| folder_of(path)).collect();
        let Some(mut ledger) = ready.ledger.holding(held) else {
            return;
        };
        let parts = self
            .question
            .window(&ledger, &ready.trees, &|f| wanted.contains(f));
        self.keep(ready, parts);
        // Tens of thousands of small allocations, freed on all cores.
        std::mem::take(&mut ledger.contributions)
            .into_par_iter()
            .for_each(drop);
    }

    fn finish(&self) {
        let Some(Some(ready)) = self.ready.get() else {
            return;
        };
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(done) = pending {
            self.write(ready, done);
        }
    }
}
