//! Every cache `ovn` keeps, in one place.
//!
//! Reading a ledger of a million records from git means inflating and parsing a million
//! blobs; most questions are asked again at revisions that share almost all of them. So
//! `ovn` keeps what it worked out under the repository's git directory, in
//! `.git/ovn/cache/` (shared by all worktrees, never committed), and reuses it while what it
//! was worked out from is unchanged:
//!
//! - **folders** (`xx/…`, `files`): the parsed records of a day folder
//!   (`contributions/2026/03/05`, `approvals/…`), so an unchanged folder is not read again;
//! - **summaries** (`summaries/`, `folders`): per day folder, what the ledger checks need
//!   of it (id hashes, names used, hours, corrections), so a quick load (`quick`) can prove
//!   a ledger clean without decoding its records;
//! - **picks** (`picks/`, `folders`): the few records of a summarised folder a payout of
//!   some projects needs, so they are not cut out of the folder's entry again;
//! - **report parts** (`reports/`, [`reports`]): a contributions report's groups, and a
//!   claims report's sums, per day folder, so a report after a new commit only counts the
//!   folders that changed;
//! - **book parts** (`reports/`, [`books`]): the journals' text (hledger, ledger-cli,
//!   beancount) of each day folder's contributions, so an export after a new commit only
//!   renders the folders that changed;
//! - **site parts** (`reports/`, [`site`]): what each day folder adds to the transparency
//!   page (sums by month and member, claims, use of resources), so the page after a new
//!   commit only counts the folders that changed;
//! - **checkpoints** (`checkpoints/`, [`site`], [`reports`]): every sum of the page, or of
//!   a claims report, as it stood at the end of the month before the last, so the page or
//!   report after a new commit adds only the folders after it;
//! - **ValueFlows parts** (`reports/`, [`valueflows`]): the JSON-LD of each day folder's
//!   contributions, packed with zstd, so `export valueflows` after a new commit renders
//!   only the folders that changed and copies the rest;
//! - **totals** (`totals/`, [`totals`]): each agent's payout total at a commit, for a
//!   project and an amount, which `ovn review` compares;
//! - **answers** (`answers/`, [`answers`]): the whole output of a read-only question,
//!   replayed when it is asked again at the same commits;
//! - **working-tree answers** (`answers/`, [`worktree`]): the output of `ovn check` on the
//!   working tree, replayed while every file it reads has the `lstat` data it had;
//! - **staged answers** (`answers/`, [`staged`]): the output of `ovn check --staged`,
//!   replayed while git's index file has the `lstat` data it had and HEAD is the same commit;
//! - **index digests** (`index/`, [`staged`]): a split index's shared part, digested once,
//!   so a staged check reads git's small index file and the day folders it touches;
//! - **small records** (`blobs/`, `blobs`): the files outside the day folders (agents,
//!   projects, agreements, ...) by blob id, so a read after a new commit takes none of them
//!   from git; each is used only when its bytes hash to its id;
//! - **the pruning mark** (`pruned`, `files`): its time is when folder entries no read
//!   used were last looked for, so that is done at most once an hour.
//!
//! A report, journal, page or ValueFlows part of a summarised folder that is not kept (a
//! cold cache, a question asked for the first time) is counted from the folder's entry:
//! `held` decodes the entries a window at a time and puts them beside the quick load's own
//! records, so such a question never holds the whole ledger. When the cache is cold, the
//! fill that reads every record counts the report's, journal's or page's parts itself, a
//! window at a time while it holds the records ([`tally`]), and the entries are decoded
//! only for the few folders a later window's correction changes.
//!
//! **Keys.** [`key`] builds every key and documents, in one table, what each depends on.
//! Git objects are content-addressed, so tree and commit ids pin everything below them; the
//! rest (the `ovn` version and cache generation, `ovn.toml`'s blob id, the question) is
//! named in the key. Every entry holds its full key and a CRC-32 and is compared on read.
//!
//! **Why a cache never changes an answer.** An entry is used only when its key matches in
//! full and its bytes check; anything else (absent, damaged, another version, an id that
//! does not decode) is a miss, and a miss is computed exactly as without a cache. Only
//! clean folders are cached, so diagnostics always come from a fresh parse, and a summary
//! can only prove a ledger clean: whenever a quick load finds or suspects anything, the
//! ledger is loaded in full. Errors are never stored. Writing is atomic (a temporary file
//! renamed) and failing to write is not an error, so deleting the folder is always safe.
//!
//! **Above the store.** The cache depends on the store, never the other way: the store reads
//! git and nothing else, and the cached read of a revision ([`load`]) is the store's listing
//! and reader with the cache's folders taken in, offered on the store as [`CachedRead`].
//!
//! **Turning it off.** `--no-cache` sets [`crate::context::Context::cache`], which the
//! command's [`crate::store::Store`] carries ([`crate::store::Store::set_cache`]): with it
//! off, no cache is read or written and every answer is computed afresh (the tests compare
//! both ways). A command that promises to write nothing (`ovn status`) reads the cache but
//! writes none of it ([`crate::store::Store::set_cache_writes`]): each cache's writes and
//! prunings are gated where they are made (`files`), and no cold fill starts.
//!
//! The encodings of records and summaries themselves ([`crate::core::codec`],
//! [`crate::core::summary`]) stay in the core: they are pure functions of core types, with
//! no file or key in them, and the core's property tests check them against the full
//! reader there.

pub mod answers;
pub(crate) mod blobs;
pub mod books;
mod files;
pub(crate) mod folders;
mod held;
pub mod key;
pub mod load;
pub(crate) mod quick;
pub mod reports;
pub mod site;
pub mod staged;
pub mod tally;
pub mod totals;
pub mod valueflows;
mod window;
pub mod worktree;

pub use files::{
    AnswerCache, CACHE_DIR, Entry, FolderCache, Key, PartCache, Records, ToStore, day_folder,
    offsets, unpick,
};
pub use key::KEY_PREFIX;
pub use load::{CachedRead, CorrectionsRead, Scope};
pub use tally::{Counting, Tally};
