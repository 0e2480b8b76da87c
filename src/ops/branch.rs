//! The validated branch: the one `validated_branch` in `ovn.toml` names, where merged means
//! reviewed.
//!
//! Every command that reads "the validated branch" asks here, so they all agree on which
//! branch it is. The name is read from `ovn.toml` as committed at `HEAD` (what the branch
//! being worked on says), or from the working tree before the first commit; with neither,
//! or an `ovn.toml` that does not parse, it is [`Network::DEFAULT_BRANCH`]. An uncommitted
//! edit of `ovn.toml` does not move it: what is reviewed and paid out follows commits.

use super::Error;
use crate::core::ledger::{self, NETWORK_FILE, RawFile};
use crate::core::record::Network;
use crate::store::{ResolvedRev, Store, StoreError};

/// The network settings that name the validated branch: `ovn.toml` at `HEAD`, or in the
/// working tree before the first commit; `None` when neither has a valid one.
pub fn settings(store: &Store) -> Option<Network> {
    let bytes = match store.read_file_at("HEAD", NETWORK_FILE) {
        Ok(Some(bytes)) => bytes,
        _ => store.read_worktree_file(NETWORK_FILE).ok().flatten()?,
    };
    ledger::load(&[RawFile {
        path: NETWORK_FILE.to_owned(),
        bytes,
    }])
    .ledger
    .network
}

/// The validated branch's name (it may not exist in this repository).
pub fn name(store: &Store) -> String {
    settings(store).map_or_else(
        || Network::DEFAULT_BRANCH.to_owned(),
        |n| n.validated_branch,
    )
}

/// The validated branch, resolved once (its local branch, `refs/heads/NAME`); a usage
/// error when this repository does not have it.
pub fn resolve(store: &Store) -> Result<ResolvedRev, Error> {
    let branch = name(store);
    match store.resolve(&format!("refs/heads/{branch}")) {
        Ok(commit) => Ok(ResolvedRev::new(branch, commit.id())),
        // A branch whose commit cannot be read is damage, not a missing branch.
        Err(e @ (StoreError::CorruptObject { .. } | StoreError::CorruptPack { .. })) => {
            Err(e.into())
        }
        Err(_) => Err(Error::usage(
            format!("the validated branch `{branch}` does not exist in this repository"),
            Some(format!(
                "fetch it (`git fetch origin {branch}:{branch}`), or read another commit with --at HEAD"
            )),
        )),
    }
}
