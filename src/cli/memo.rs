//! Replaying answers: a read-only question asked again at the same commits prints the
//! stored output instead of reading a million records again.
//!
//! The key is the whole question (the subcommand's parsed arguments), the ledger's place in
//! the repository, and the commit ids of the revision read and of `HEAD` (payout previews
//! list what `HEAD` adds). Commit ids pin every object a question can read, history
//! included, so a replayed answer is byte for byte what a fresh computation prints. Errors
//! are never stored. A network whose policy asks for signed approvals is never answered from
//! the cache: verifying a signature also depends on the machine's ssh set-up.

use std::io::Write;
use std::path::Path;

use super::CliError;
use crate::core::ledger::{self, NETWORK_FILE, RawFile};
use crate::store::AnswerCache;

/// Answers `question` about the ledger around `cwd` at the revisions `at` (none: the
/// validated branch): from the answer cache when it holds one for the same commits, else by
/// `compute`, whose output is then stored.
pub(super) fn answer(
    cwd: &Path,
    question: &str,
    at: &[&str],
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>) -> Result<u8, CliError>,
) -> Result<u8, CliError> {
    let mut buf = Vec::new();
    let Some((cache, key)) = prepare(cwd, question, at) else {
        let status = compute(&mut buf)?;
        out.write_all(&buf)?;
        return Ok(status);
    };
    if let Some((status, bytes)) = cache.get(&key) {
        out.write_all(&bytes)?;
        return Ok(status);
    }
    let status = compute(&mut buf)?;
    out.write_all(&buf)?;
    cache.put(&key, status, &buf);
    Ok(status)
}

/// The cache and the full key, or `None` when the question cannot be keyed (caching off, no
/// commit to pin, signed approvals): then it is simply computed.
fn prepare(cwd: &Path, question: &str, at: &[&str]) -> Option<(AnswerCache, String)> {
    let store = super::open(cwd).ok()?;
    let cache = store.answer_cache()?;
    let mut revs: Vec<String> = at.iter().map(|r| (*r).to_owned()).collect();
    if revs.is_empty() {
        revs.push(crate::ops::branch::resolve(&store).ok()?.name().to_owned());
    }
    revs.push("HEAD".to_owned());
    let mut pinned = String::new();
    for rev in &revs {
        let commit = store.resolve(rev).ok()?.id().to_string();
        // Any revision whose policy asks for signed approvals: never replayed.
        let settings = store.read_file_at(&commit, NETWORK_FILE).ok()??;
        let network = ledger::load(&[RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes: settings,
        }])
        .ledger
        .network?;
        if network.validation.signed {
            return None;
        }
        pinned.push_str(&format!("rev {rev:?} = {commit}\n"));
    }
    let key = format!(
        "{} answer 1\nledger {:?}\n{question}\n{pinned}",
        crate::store::KEY_PREFIX,
        store.prefix(),
    );
    Some((cache, key))
}
