//! What `ovn export valueflows` needs beyond the ledger: the base URI its ids start with.
//!
//! A network that sets `base_uri` in `ovn.toml` gets it. One that does not gets an id
//! derived from its repository's first commit (and the ledger's folder), which every clone
//! shares and no other network has, so two networks' graphs merge without collisions and
//! re-exporting the same ledger gives the same ids. The first commit is on the first-parent
//! line from the exported commit; a shallow clone does not have it, and is told to set
//! `base_uri` or fetch the whole history rather than given ids that change with the clone.

use crate::core::ledger::Ledger;
use crate::core::valueflows::default_base_uri;
use crate::store::{Oid, Store, StoreError};

use super::Error;

/// The base URI of the export of `ledger` at `commit`.
pub fn base_uri(store: &Store, ledger: &Ledger, commit: Oid) -> Result<String, Error> {
    if let Some(b) = ledger.network.as_ref().and_then(|n| n.base_uri.as_ref()) {
        return Ok(b.value.clone());
    }
    let chain = match store.first_parent_chain(commit, None) {
        Ok(chain) => chain,
        Err(StoreError::Shallow) => {
            return Err(Error::usage(
                "this clone is shallow, so its first commit (from which the export's ids are derived) is unknown",
                Some("fetch the whole history (git fetch --unshallow), or set `base_uri` in ovn.toml (see ovn-ledger(5))".to_owned()),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let root = chain.first().map_or(commit, |(oid, _)| *oid);
    Ok(default_base_uri(&root.to_string(), store.prefix()))
}
