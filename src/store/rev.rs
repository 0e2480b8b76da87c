//! A revision resolved once per command.
//!
//! A command names a revision once (`--at REV`, a review's `BASE..HEAD`, the validated branch)
//! and reads it many times: the ledger, a file for an excerpt, the approvals, the rules in
//! force. Resolving the name again at each read cost a reference lookup each time and let
//! two reads of "the same" revision disagree if a branch moved in between. A [`ResolvedRev`]
//! is made once, by [`Store::resolve_rev`], and carries the commit id every later read uses
//! and the name the user gave, which messages show.
//!
//! The store's reading functions take a revision as text (any git revision). They are given
//! the commit's full hexadecimal id ([`ResolvedRev::id`]), which resolves without a reference
//! lookup and always to the same commit; the errors that name the revision are given back
//! the user's name by [`ResolvedRev::named`], so no message changes.

use git2::Oid;

use super::{Store, StoreError};

/// A revision resolved to its commit, with the name it was asked by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRev {
    /// The name the user gave (`HEAD`, `main`, a commit id), for messages.
    name: String,
    /// The commit it resolved to.
    commit: Oid,
}

impl ResolvedRev {
    /// A commit known by id, named `name` in messages.
    pub fn new(name: impl Into<String>, commit: Oid) -> ResolvedRev {
        ResolvedRev {
            name: name.into(),
            commit,
        }
    }

    /// The name the user gave.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The commit.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// The commit's full hexadecimal id: the revision to hand the store's readers.
    pub fn id(&self) -> String {
        self.commit.to_string()
    }

    /// The commit's id shortened to 12 digits, as outputs show it.
    pub fn short(&self) -> String {
        let mut id = self.id();
        id.truncate(12);
        id
    }

    /// `e` (from reading this revision by its id) naming the revision as the user did.
    pub fn named(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::NoLedgerAtRevision { rev, prefix } if rev == self.id() => {
                StoreError::NoLedgerAtRevision {
                    rev: self.name.clone(),
                    prefix,
                }
            }
            StoreError::UnknownRevision { rev, reason } if rev == self.id() => {
                StoreError::UnknownRevision {
                    rev: self.name.clone(),
                    reason,
                }
            }
            other => other,
        }
    }
}

impl Store {
    /// Resolves `name` (commit id, branch, tag, `HEAD~2`, ...) once, for a whole command.
    pub fn resolve_rev(&self, name: &str) -> Result<ResolvedRev, StoreError> {
        let commit = self.resolve(name)?.id();
        Ok(ResolvedRev::new(name, commit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_about_the_id_name_the_revision_as_asked() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let rev = ResolvedRev::new("main", oid);
        assert_eq!(rev.short(), "0123456789ab");
        let e = rev.named(StoreError::NoLedgerAtRevision {
            rev: rev.id(),
            prefix: String::new(),
        });
        assert!(
            matches!(&e, StoreError::NoLedgerAtRevision { rev, .. } if rev == "main"),
            "{e:?}"
        );
        // An error about another revision keeps its own name.
        let e = rev.named(StoreError::NoLedgerAtRevision {
            rev: "HEAD".into(),
            prefix: String::new(),
        });
        assert!(matches!(&e, StoreError::NoLedgerAtRevision { rev, .. } if rev == "HEAD"));
    }
}
