//! The pure core: record types, reading and checking a ledger. No I/O, no git, no clock, no
//! environment: everything here is a function of its inputs, so it is tested without git and
//! gives the same answer on every machine.

pub mod append;
pub mod bounds;
pub mod cascade;
pub mod chain;
pub mod checks;
pub mod codec;
pub mod decay;
pub mod diag;
pub mod duration;
pub mod export;
pub mod fast;
pub mod formula;
pub mod freeze;
pub mod fx;
pub mod governance;
pub mod import;
pub mod incoming;
pub mod leave;
pub mod ledger;
pub mod newid;
pub mod parse;
pub mod payment;
pub mod payout;
pub mod read;
pub mod record;
pub mod render;
pub mod report;
pub mod review;
pub mod site;
pub mod summary;
pub mod template;
pub mod validation;
pub mod value;
pub mod valueflows;
pub mod vfimport;
pub mod when;
pub mod write;
