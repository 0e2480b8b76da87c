//! The use cases the commands call: what `ovn` does, without its arguments or its output.
//!
//! A command in `cli/` parses its arguments, resolves the revisions it names once
//! ([`crate::store::ResolvedRev`]), loads through [`load`], calls one function here or in
//! the core, and renders the answer. What used to be written inside commands lives here
//! instead, once: which branch is the validated one ([`branch`]), how a ledger is loaded and
//! whether the result is the whole ledger or a part ([`load`]), what a write is validated
//! against ([`mod@write`]), the rules around a payout (a revenue event is recorded once, what is
//! pending review or awaiting approvals: [`payout`]), whose approvals count ([`approvals`]),
//! the rules in force along the validated branch ([`rules`]) and how a review plans the
//! loads of its payout impact ([`review`]).
//!
//! This layer may use the store, the caches and the core, never the command line: its errors
//! are [`Error`]s or the store's, which the command line maps to exit codes; what it asks of
//! the user (an amount, a project) is handed in as values.

pub mod approvals;
pub mod branch;
pub mod export;
pub mod history;
pub mod ids;
pub mod import;
pub mod incoming;
pub mod load;
pub mod pay;
pub mod payout;
pub mod records;
pub mod review;
pub mod rules;
pub mod write;

use crate::store::StoreError;

/// Why a use case could not be done.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing the repository failed.
    Store(StoreError),
    /// The request cannot be done as asked (exit status 2).
    Usage {
        /// One-line message.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The ledger has problems that stop the request (exit status 1).
    Problems {
        /// The message, listing them.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

impl Error {
    /// A request that cannot be done as asked.
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Store(e) => write!(f, "{e}"),
            Error::Usage { message, .. } | Error::Problems { message, .. } => {
                write!(f, "{message}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Frees `value` on a thread of its own: a loaded million-record ledger takes a noticeable
/// moment to free, which the command's answer need not wait for (when `ovn` exits first,
/// the operating system reclaims it all at once).
pub fn discard<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}
