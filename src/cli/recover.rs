//! `ovn recover`: finish or clear a write a killed `ovn` left unfinished, and stage again
//! committed records a racing git command removed from the index.
//!
//! The journal and the decision (did the branch move? then finish; else roll back) are the
//! store's transaction code, which every write also runs on its way in; this command only
//! makes that step explicit and says what it did, for a user who saw a write killed.

use crate::context::Context;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::Args;

use super::{CliError, EXIT_OK};

/// Finish an ovn write that was interrupted (killed), or clear what it left; stage again
/// committed records a racing git command removed from the index.
///
/// A write keeps a journal in .git/ovn while it writes the record files, stages them and
/// moves the branch. If the process was killed in between, `ovn status` says so, and git
/// commands that write the index may fail because the write's .git/index.lock is still
/// there. ovn recover does what the next ovn write would do first: when the commit did not
/// land it puts git's index back as it was and removes the record files no commit holds;
/// when it landed it makes sure the files are in place and staged exactly as committed;
/// either way it removes the lock files that write left, and only those (never a lock a
/// running git holds).
///
/// git reads the index without its lock: a `git commit` or `git add` that read it just
/// before an ovn write staged a record, and wrote it back just after, leaves that record
/// committed and in the working tree but removed from the index ("unstaged" in `ovn
/// status`), so the next `git commit` would delete it. ovn recover stages such records
/// again when the file is exactly as committed. With nothing to do it says so and changes
/// nothing.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ovn status && ovn recover && git status")]
pub struct RecoverArgs {}

/// How long to wait for another ovn write to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `ovn recover`.
pub fn run(
    _args: RecoverArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let store = super::open(cwd, ctx)?;
    let interrupted = store.recover_now(LOCK_TIMEOUT)?;
    let restaged = store.restage_unstaged()?;
    for path in &restaged {
        writeln!(
            out,
            "Staged {} again: committed and in the working tree, it had been removed from git's index.",
            crate::core::render::escaped(path)
        )?;
    }
    match interrupted {
        None if !restaged.is_empty() => {}
        None => writeln!(out, "No interrupted ovn write: nothing to do.")?,
        Some(i) if i.landed => writeln!(
            out,
            "Finished the interrupted write of {} on {}: {} in place and staged as committed.",
            short(i.commit),
            i.branch,
            i.paths.join(", ")
        )?,
        Some(i) => writeln!(
            out,
            "Cleared an interrupted write that committed nothing (its commit {} never reached {}); what it had written and staged is gone.",
            short(i.commit),
            i.branch
        )?,
    }
    Ok(EXIT_OK)
}

fn short(oid: crate::store::Oid) -> String {
    oid.to_string()[..12].to_owned()
}
