//! `ovn recover`: finish or clear a write a killed `ovn` left unfinished.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::Args;

use super::{CliError, EXIT_OK};

/// Finish an ovn write that was interrupted (killed), or clear what it left.
///
/// A write keeps a journal in .git/ovn from just before its commit until the record file is
/// in the working tree and git's index has it. If the process was killed in between, `ovn
/// status` says so, and git commands that write the index may fail because the write's
/// .git/index.lock is still there. ovn recover does what the next ovn write would do first:
/// when the commit landed it writes the record files and stages them exactly as committed;
/// when it did not, it clears the journal; either way it removes the lock files that write
/// left, and only those (never a lock a running git holds). With nothing to finish it says
/// so and changes nothing.
#[derive(Debug, Args)]
#[command(after_help = "\
Example:
  ovn status && ovn recover && git status")]
pub struct RecoverArgs {}

/// How long to wait for another ovn write to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `ovn recover`.
pub fn run(_args: RecoverArgs, cwd: &Path, out: &mut impl Write) -> Result<u8, CliError> {
    let store = super::open(cwd)?;
    match store.recover_now(LOCK_TIMEOUT)? {
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
