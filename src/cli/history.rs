//! `ovn check --history`: renders the walk of `ops::history` (what it proves is written
//! there).

use std::io::Write;

use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::ops::history::{self, short};
use crate::store::Store;

/// Runs `ovn check --history [RANGE]`.
pub(super) fn run(store: &Store, range: &str, out: &mut impl Write) -> Result<u8, CliError> {
    let walk = history::walk(store, range)?;
    let (n, label) = (walk.commits, &walk.label);
    let s = if n == 1 { "" } else { "s" };
    let from = match walk.after {
        Some(v) => format!("after {}", short(v)),
        None => "from the root".to_owned(),
    };
    if walk.problems.is_empty() {
        writeln!(
            out,
            "ok: {n} commit{s} of {label} checked ({from} to {}); no validated record was modified or deleted, and every recorded payout's pinned commit is in its history",
            short(walk.head)
        )?;
        return Ok(EXIT_OK);
    }
    for p in &walk.problems {
        writeln!(out, "error: {p}")?;
    }
    let k = walk.problems.len();
    writeln!(
        out,
        "error: {k} problem{} in the history of {label} ({n} commit{s} checked, {from}); validated records are corrected with new records, never rewritten",
        if k == 1 { "" } else { "s" }
    )?;
    Ok(EXIT_PROBLEMS)
}
