//! The ledger's named records (agents, projects, resources, agreements) as the `show` and
//! `list` commands read them.
//!
//! These records live in the small folders, so a command about them reads those folders and
//! `ovn.toml` at one revision ([`at`]) and never a contribution: listing the agents of a
//! million-record ledger costs what it costs in a ten-record one. The revision is the
//! commit the current branch points at unless the command names another, so a record just
//! added with `ovn agent add` is listed at once, and the answer is what is committed, never
//! what the working tree happens to hold.

use super::load::{self, Part, Pick};
use super::write::SMALL_FOLDERS;
use crate::store::{ResolvedRev, Store, StoreError};

/// The revision read when none is named: the current branch's commit.
pub const DEFAULT_REV: &str = "HEAD";

/// The agents, projects, resources and agreements at `rev` (with its `ovn.toml`).
pub fn at(store: &Store, rev: &ResolvedRev) -> Result<Part, StoreError> {
    let picks: Vec<Pick<'_>> = SMALL_FOLDERS.iter().map(|f| Pick::Folder(f)).collect();
    load::part(store, &rev.id().to_string(), &picks).map_err(|e| rev.named(e))
}
