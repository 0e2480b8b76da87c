//! `ovn init`: create a ledger.
//!
//! The arguments are checked here with the reader's own rules (a currency code, a network
//! name free of control characters), so a new ledger never fails its first `ovn check`; the
//! all-or-nothing creation and commit is the store's ([`crate::store::init`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::value::is_currency_code;
use crate::store::{self, NewLedger};

/// Create a new ledger and commit it.
///
/// Writes ovn.toml and the record folders (agents/, projects/, resources/, agreements/,
/// contributions/) into DIR and commits exactly those files. DIR may be inside an existing git
/// repository (a ledger can live in a subdirectory of a project's code repository); otherwise a
/// new repository is created with the branch `main`. The validated branch is the repository's
/// current branch. Refuses, changing nothing, where a ledger already exists (DIR or a parent
/// has ovn.toml), inside a bare repository, or over record folders that hold files.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ovn init fablab --name \"Fablab Commons\" --currency EUR")]
pub struct InitArgs {
    /// Directory of the new ledger (created if missing) [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Name of the network [default: the directory's name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Currency of all amounts, an ISO 4217 code such as EUR, USD, CHF, JPY
    #[arg(long, value_name = "CODE")]
    pub currency: String,

    /// Decimal places of the currency, when not its usual ones (0 to 6) [default: from the currency, e.g. EUR 2, JPY 0]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=6))]
    pub minor_units: Option<u32>,
}

/// Runs `ovn init`.
pub fn run(
    args: InitArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let dir = match &args.dir {
        Some(d) => cwd.join(d),
        None => cwd.to_path_buf(),
    };
    let currency = args.currency.trim().to_ascii_uppercase();
    if !is_currency_code(&currency) {
        return Err(CliError::usage(
            format!("--currency {:?} is not a currency code", args.currency),
            Some("give a three-letter ISO 4217 code such as EUR, USD or CHF".to_owned()),
        ));
    }
    let name = match args.name {
        Some(name) => name,
        None => std::path::absolute(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "ledger".to_owned()),
    };
    // The rule the reader applies to the network's `name`.
    if let Some(problem) = crate::core::parse::text_problem(&name) {
        return Err(CliError::usage(
            format!("--name {problem}"),
            Some("give the network a name of a few words, without control characters".to_owned()),
        ));
    }
    let outcome = store::init(
        &dir,
        &NewLedger {
            name: name.clone(),
            currency: currency.clone(),
            minor_units: args.minor_units,
        },
        ctx,
    )?;
    let place = if outcome.created_repository {
        "a new git repository".to_owned()
    } else if outcome.prefix.is_empty() {
        "the existing repository".to_owned()
    } else {
        format!("the existing repository, under {}/", outcome.prefix)
    };
    writeln!(
        out,
        "Created ledger {name:?} ({currency}) at {} in {place}",
        // Through components: `ovn init` in the current directory joins an empty path, which
        // would print a trailing slash.
        outcome
            .root
            .components()
            .collect::<std::path::PathBuf>()
            .display()
    )?;
    writeln!(
        out,
        "Committed {} files as {} on branch {}",
        outcome.files.len(),
        &outcome.commit.to_string()[..12],
        outcome.branch
    )?;
    writeln!(
        out,
        "Next: add agents, projects and contributions (see ovn-ledger(5)), then run `ovn check`."
    )?;
    Ok(EXIT_OK)
}
