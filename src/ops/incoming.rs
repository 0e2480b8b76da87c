//! Taking in revenue from another network's payout, and checking it both ways.
//!
//! The paying network's ledger is read through the store from git objects only: a local
//! clone given as a path ([`Store::open_foreign`]: no checkout, no upward search, no
//! symbolic link on the way) or a ref of this repository a `git fetch` brought in. What the
//! pure side decides (which line, its digest, what differs) is `core::incoming`; here are the
//! reads around it and the rules: the paying ledger must be valid, the payout id a unique
//! prefix, the line must pay an agent of kind `network` that names this network, and one
//! line is taken in once (among the payouts read and those the current branch adds).
//!
//! Re-deriving the paying payout itself (that its lines are what its value equation gives at
//! its pinned commit) is the same re-derivation as `ovn payout verify`, which the command
//! line runs on the store this module opens.

use std::path::Path;

use super::Error;
use super::load;
use crate::core::incoming::{self, Source};
use crate::core::ledger::Ledger;
use crate::core::record::{AgentKind, PayoutRecord};
use crate::core::render::escaped;
use crate::core::value::Id;
use crate::store::{ResolvedRev, Store};

/// `<repo-path-or-ref>:<payout-id-prefix>` split in two at its last colon (payout ids have
/// none).
pub fn split(text: &str) -> Result<(&str, &str), Error> {
    match text.rsplit_once(':') {
        Some((origin, id)) if !origin.is_empty() && !id.is_empty() => Ok((origin, id)),
        _ => Err(Error::usage(
            format!(
                "{} is not <repository path or ref>:<payout id>",
                escaped(text)
            ),
            Some("for example --from-payout ../open-alliance:01kmz4".to_owned()),
        )),
    }
}

/// The paying ledger's store and the revision to read: `origin` is a path (to another
/// repository, relative to `cwd`) when something is there, else a ref of `here`'s repository
/// (read at the top of its tree), resolved to a commit.
pub fn open(here: &Store, cwd: &Path, origin: &str) -> Result<(Store, ResolvedRev), Error> {
    // A link is "something there": it is refused by the store, never taken for a ref name.
    if std::fs::symlink_metadata(cwd.join(origin)).is_ok() {
        let store = Store::open_foreign(cwd, Path::new(origin))?;
        let rev = store.resolve_rev("HEAD")?;
        return Ok((store, rev));
    }
    let store = here.foreign_here()?;
    let rev = store.resolve_rev(origin)?;
    Ok((store, rev))
}

/// The paying ledger at `rev`, which must be valid: a payout is never taken in from a
/// ledger with problems.
pub fn paying_ledger(store: &Store, rev: &ResolvedRev) -> Result<Ledger, Error> {
    let loaded = load::whole(store, rev)?;
    // Its payouts left out what a missing rate leaves out, and say so: they can be taken in.
    let stopping = crate::core::diag::stopping(&loaded.diagnostics);
    if let Some(d) = stopping.first() {
        return Err(Error::Problems {
            message: format!(
                "the paying ledger at {} has {} problem{} ({} in {}): no payout is taken in from it",
                rev.short(),
                stopping.len(),
                if stopping.len() == 1 { "" } else { "s" },
                d.code,
                escaped(&d.path)
            ),
            hint: Some("run `ovn check` in the paying ledger".to_owned()),
        });
    }
    Ok(loaded.ledger)
}

/// The payout of `paying` that `given` (an id or a unique prefix) names.
pub fn payout<'l>(paying: &'l Ledger, given: &str, at: &str) -> Result<&'l PayoutRecord, Error> {
    let ids = paying.payouts.iter().map(|p| p.id.value.as_str());
    let id = super::ids::resolve("payout", given, ids)?;
    id.and_then(|id| paying.payouts.iter().find(|p| p.id.value.as_str() == id))
        .ok_or_else(|| {
            Error::usage(
                format!("the paying ledger at {at} has no payout {}", escaped(given)),
                Some("`ovn report payouts` in the paying ledger lists them".to_owned()),
            )
        })
}

/// The agent that names this network in the paying ledger: `asked` (`--as`), else the one
/// agent of kind `network` whose name is this network's name. Either must be a network.
pub fn whoami(here: &Ledger, paying: &Ledger, asked: Option<&str>) -> Result<Id, Error> {
    let networks = || {
        paying
            .agents
            .iter()
            .filter(|a| a.kind == AgentKind::Network)
    };
    if let Some(asked) = asked {
        let Some(a) = paying.agents.iter().find(|a| a.id.value.as_str() == asked) else {
            return Err(Error::usage(
                format!("the paying ledger has no agent {}", escaped(asked)),
                None,
            ));
        };
        if a.kind != AgentKind::Network {
            return Err(Error::usage(
                format!(
                    "agent `{}` of the paying ledger is of kind {}, not network: it does not name a network",
                    a.id.value,
                    a.kind.as_str()
                ),
                Some(
                    "a member network is an agent with kind = \"network\" in the paying ledger"
                        .to_owned(),
                ),
            ));
        }
        return Ok(a.id.value.clone());
    }
    let name = here.network.as_ref().map(|n| n.name.as_str()).unwrap_or("");
    let named: Vec<&Id> = networks()
        .filter(|a| a.name == name)
        .map(|a| &a.id.value)
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        _ => {
            let all: Vec<&str> = networks().map(|a| a.id.value.as_str()).collect();
            Err(Error::usage(
                format!(
                    "{} agent of kind network in the paying ledger is named {} (this network's name)",
                    if named.is_empty() {
                        "no"
                    } else {
                        "more than one"
                    },
                    escaped(name)
                ),
                Some(if all.is_empty() {
                    "the paying ledger has no agent of kind network".to_owned()
                } else {
                    format!(
                        "give --as ID, the id that names this network there: one of {}",
                        all.join(", ")
                    )
                }),
            ))
        }
    }
}

/// The source pinning the line of `paying` (read at `rev`) that pays `agent` (`line` when
/// several do).
pub fn line(
    paying: &PayoutRecord,
    agent: &Id,
    line: Option<u32>,
    rev: &ResolvedRev,
) -> Result<Source, Error> {
    let (n, l) = incoming::pick(paying, agent, line).map_err(|why| {
        Error::usage(
            why.text(paying.id.value.as_str(), agent),
            Some("`ovn payout verify ID` in the paying ledger lists its lines".to_owned()),
        )
    })?;
    Ok(incoming::source(paying, n, l, &rev.id()))
}

/// Refuses `source` when a payout of `ledger` (read at `rev`) or one the current branch adds
/// on top of it took that line in already.
pub fn not_taken(
    store: &Store,
    rev: &ResolvedRev,
    ledger: &Ledger,
    source: &Source,
) -> Result<(), Error> {
    not_taken_in(ledger, source)?;
    if let Ok(added) = store.added_files(&rev.id(), "HEAD", "payouts") {
        not_taken_in(load::files(&added).ledger(), source)?;
    }
    Ok(())
}

/// Refuses `source` when a payout of `ledger` took that line in already (also under the
/// write's lock, on the branch).
pub fn not_taken_in(ledger: &Ledger, source: &Source) -> Result<(), Error> {
    match incoming::taken_in(ledger, &source.payout.value, source.line.value) {
        Some(p) => Err(Error::usage(
            format!(
                "line {} of payout {} is already taken in by payout {}",
                source.line.value, source.payout.value, p.id.value
            ),
            Some("an incoming line is one revenue event, taken in once".to_owned()),
        )),
        None => Ok(()),
    }
}

/// The source `pinned` re-read from the paying ledger in `store` at the commit it pins:
/// the paying ledger then, its payout, and the source that ledger gives for the line.
pub fn reread(store: &Store, pinned: &Source) -> Result<(Ledger, PayoutRecord, Source), Error> {
    let rev = store.resolve_rev(&pinned.commit).map_err(|_| {
        Error::Problems {
            message: format!(
                "the paying ledger's repository has no commit {}: fetch it, or give the right repository",
                pinned.commit
            ),
            hint: None,
        }
    })?;
    let paying = paying_ledger(store, &rev)?;
    let p = paying
        .payouts
        .iter()
        .find(|p| p.id.value == pinned.payout.value)
        .cloned()
        .ok_or_else(|| Error::Problems {
            message: format!(
                "the paying ledger at {} has no payout {}",
                rev.short(),
                pinned.payout.value
            ),
            hint: None,
        })?;
    let found = line(&p, &pinned.agent, Some(pinned.line.value), &rev)?;
    Ok((paying, p, found))
}
