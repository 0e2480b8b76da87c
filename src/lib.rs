//! `ovn`: a local-first ledger for Open Value Networks, kept as TOML records in git.
//!
//! The crate's layers, each in its own module:
//! - [`core`]: record types, reading, checking and (later) the value equation. Pure: no I/O.
//! - [`store`]: the git repository: finding a ledger, reading its files from the working tree
//!   or from any revision's objects, and writing commits.
//! - [`cache`]: every cache kept under `.git/ovn/cache` (folders, summaries, picks, report
//!   parts, totals, answers) and the keys they are kept under; never changes an answer.
//! - [`cli`]: the `ovn` command line, one module per subcommand.

pub mod cache;
pub mod cli;
pub mod context;
pub mod core;
pub mod store;
