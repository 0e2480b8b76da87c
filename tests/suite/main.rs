//! The whole integration test suite, as one test binary.
//!
//! Every file under `tests/` used to be its own crate: 32 binaries, each linking `ovn`, git2
//! and the test dependencies again (about 110 MB and a link step apiece), so a one-line change
//! in `src/` relinked the crate 32 times. Here the files are modules of one crate, linked once;
//! cargo finds it by itself (`tests/suite/main.rs` is the binary `suite`), and
//! `architecture::tests_are_one_binary` fails if a file appears directly under `tests/` again.
//!
//! The tree says what each test is about:
//!
//! - `cli::<command>`: one file per `ovn` subcommand (the list in `src/cli/mod.rs`), end to end
//!   on real git repositories in temporary directories: its output, its errors and exit codes,
//!   and what it writes or leaves alone.
//! - `scenarios`: stories that cross several commands (corrections and settlement, the payout
//!   line across branches, governance in review, the largest values).
//! - `robustness`: hostile files, damaged repositories, writes killed or raced.
//! - `domain`: the pure core (`src/core`) on inline ledgers, no git: the value equation, the
//!   reports, checks, the canonical writer and the fast reader, mostly property tests.
//! - `store`: the hand-written git readers and the index writer against git itself.
//! - `cache`: the cache and the quick loads never change an answer.
//! - `architecture`, `diagnostics` (the error corpus, whose fixtures stay in
//!   `tests/diagnostics/<code>/`); the man pages in `man/` are checked by `cli::man`.
//! - `schemas`: every command's `--format json` output against its schema in `schemas/`.
//! - `common`: the shared sandbox (git and `ovn` with the clock and identity pinned), the
//!   example ledgers and the helpers every group uses.
//!
//! Run one group or one file with a filter: `cargo test --test suite cli::payout::`,
//! `cargo test --test suite domain::`. Proptest keeps the failures it found (replayed first on
//! every run) in `tests/proptest-regressions/<group>/<file>.txt`, its default place for a
//! crate whose root is `main.rs`.

mod common;

mod architecture;
mod diagnostics;
mod schemas;

mod cli {
    mod agent;
    mod agreement;
    mod approve;
    mod check;
    mod completions;
    mod export;
    mod import;
    mod init;
    mod log;
    mod man;
    mod networks;
    mod pay;
    mod payout;
    mod project;
    mod recover;
    mod report;
    mod resource;
    mod revert;
    mod review;
    mod site;
    mod status;
}

mod scenarios {
    mod bounds;
    mod corrections;
    mod currencies;
    mod governance;
    mod ledger_in_subfolder;
    mod payout_line;
    mod short_ids;
    mod team_origin;
}

mod robustness {
    mod damaged_repo;
    mod hostile;
    mod hostile_props;
    mod write_safety;
}

mod domain {
    mod cascade_props;
    mod core_checks;
    mod correction_math;
    mod fast_reader;
    mod fx_props;
    mod leave_props;
    mod payout_line_props;
    mod payout_math;
    mod policy_props;
    mod report_math;
    mod roundtrip;
}

mod store {
    mod index_writer;
    mod pack_reader;
}

mod cache {
    mod quick;
    mod quick_equivalence;
    mod results;
    mod site;
    mod tally_equivalence;
    mod valueflows;
    mod window;
}
