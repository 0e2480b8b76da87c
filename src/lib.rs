//! `ovn`: a local-first ledger for Open Value Networks, kept as TOML records in git.
//!
//! The crate has five layers, each in its own module, each using only those listed before it:
//! - [`core`]: record types, reading, checking and (later) the value equation. Pure: no I/O.
//! - [`store`]: the git repository: finding a ledger, reading its files from the working tree
//!   or from any revision's objects, and writing commits.
//! - [`cache`]: every cache kept under `.git/ovn/cache` (folders, summaries, picks, report
//!   parts, totals, answers) and the keys they are kept under; never changes an answer.
//! - [`ops`]: the use cases commands call (load a revision, the validated branch, a payout's
//!   rules, a review's impact), over the store, the cache and the core; no arguments, no
//!   printing.
//! - [`cli`]: the `ovn` command line, one module per subcommand: arguments and rendering.
//!
//! No `unsafe` in any of it: everything that reads a ledger, a pull request's files included,
//! is safe Rust.

#![forbid(unsafe_code)]

pub mod cache;
pub mod cli;
pub mod context;
pub mod core;
pub mod ops;
pub mod store;
