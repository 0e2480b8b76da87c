//! The validated branch: the one `validated_branch` in `ovn.toml` names, where merged means
//! reviewed.
//!
//! Every command that reads "the validated branch" asks here, so they all agree on which
//! branch it is and which commit it is at. The name is read from `ovn.toml` as committed at
//! `HEAD` (what the branch being worked on says), or from the working tree before the first
//! commit; with neither, or an `ovn.toml` that does not parse, it is
//! [`Network::DEFAULT_BRANCH`]. An uncommitted edit of `ovn.toml` does not move it: what is
//! reviewed and paid out follows commits.
//!
//! The branch is the local one (`main`) when it exists, else its upstream (`origin/main`, in
//! a clone that never made a local `main`). The local branch wins even when its upstream has
//! moved on, as in git, because `ovn` never talks to the network and reads what the user has;
//! but it says so ([`Validated::warning`]), since a payout computed on a stale `main` would
//! miss what the team has since merged.

use super::Error;
use crate::core::ledger::{self, NETWORK_FILE, RawFile};
use crate::core::record::Network;
use crate::store::{ResolvedRev, Store, StoreError, Upstream};

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

/// The validated branch as found: what commands read, and how it stands against its
/// upstream.
#[derive(Clone, Debug)]
pub struct Validated {
    /// What commands read: the local branch (`main`), or else its upstream (`origin/main`).
    pub rev: ResolvedRev,
    /// The branch's name in `ovn.toml`.
    pub branch: String,
    /// The upstream, when there is one.
    pub upstream: Option<Upstream>,
    /// With both a local branch and an upstream: commits the local branch has that the
    /// upstream has not (unpushed), and commits the upstream has that it has not.
    pub ahead_behind: Option<(usize, usize)>,
}

impl Validated {
    /// Whether the local branch is read (else its upstream is, there being no local one).
    pub fn is_local(&self) -> bool {
        self.rev.name() == self.branch
    }

    /// What to tell the user when the local branch is behind its upstream (what is read
    /// misses what the team merged since), with what to run; `None` when it is up to date.
    pub fn warning(&self, current: Option<&str>) -> Option<String> {
        let (upstream, (ahead, behind)) = (self.upstream.as_ref()?, self.ahead_behind?);
        if behind == 0 {
            return None;
        }
        let b = &self.branch;
        let u = &upstream.name;
        let commits = |n: usize| format!("{n} commit{}", if n == 1 { "" } else { "s" });
        let update = if ahead > 0 {
            format!("reconcile them (`git switch {b} && git pull`) before you rely on it")
        } else if current == Some(b.as_str()) {
            "update it: `git pull --ff-only`".to_owned()
        } else {
            format!("update it: `git fetch {} {b}:{b}`", upstream.remote)
        };
        let state = if ahead > 0 {
            format!(
                "has diverged from {u} ({} only on {u}, {} only on {b})",
                commits(behind),
                commits(ahead)
            )
        } else {
            format!("is {} behind {u}", commits(behind))
        };
        Some(format!(
            "the validated branch {b} {state}; reading {b} as it is here; {update}"
        ))
    }
}

/// Finds the validated branch: its local branch, else its upstream (see the module); a
/// usage error when this repository has neither.
pub fn find(store: &Store) -> Result<Validated, Error> {
    let branch = name(store);
    let upstream = store.upstream(&branch);
    let local = store.local_branch(&branch);
    let rev = match (local, &upstream) {
        (Some(local), _) => ResolvedRev::new(branch.clone(), local),
        (None, Some(up)) => ResolvedRev::new(up.name.clone(), up.commit),
        (None, None) => return Err(missing(&branch)),
    };
    match store.resolve(&rev.id()) {
        Ok(_) => {}
        // A branch whose commit cannot be read is damage, not a missing branch.
        Err(e @ (StoreError::CorruptObject { .. } | StoreError::CorruptPack { .. })) => {
            return Err(e.into());
        }
        Err(_) => return Err(missing(&branch)),
    }
    // An upstream that cannot be compared (damaged) only loses the warning.
    let ahead_behind = match (local, &upstream) {
        (Some(local), Some(up)) => store.ahead_behind(local, up.commit).ok(),
        _ => None,
    };
    Ok(Validated {
        rev,
        branch,
        upstream,
        ahead_behind,
    })
}

/// The error for a validated branch this repository has neither locally nor on a remote.
fn missing(branch: &str) -> Error {
    Error::usage(
        format!("the validated branch `{branch}` does not exist in this repository"),
        Some(format!(
            "fetch it (`git fetch origin {branch}:{branch}`), or read another commit with --at HEAD"
        )),
    )
}

/// The validated branch, resolved once (see [`find`]).
pub fn resolve(store: &Store) -> Result<ResolvedRev, Error> {
    find(store).map(|v| v.rev)
}
