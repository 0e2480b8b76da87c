//! The `ovn` command line: parsing, dispatch, exit codes and error printing.
//!
//! One module per subcommand, each with an `XxxArgs` clap struct and a `run` function (the jj
//! layout). The clap definitions are the single source of `--help` and of the man pages in
//! `man/` (a test regenerates and compares them).

pub mod agent;
pub mod approve;
pub mod check;
mod effective;
pub mod export;
mod history;
pub mod init;
pub mod log;
mod memo;
mod parts;
pub mod payout;
pub mod project;
pub mod recover;
pub mod render;
pub mod report;
pub mod resource;
pub mod revert;
pub mod review;
mod review_gov;
pub mod site;
pub mod status;
mod supersede;
mod totals;
mod writing;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::context::Context;
use crate::store::{ErrorKind, Store, StoreError};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the ledger has problems (`ovn check` found errors).
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit status: bad usage (unknown option, bad value, a request that cannot be done as asked).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the environment failed (not in a ledger, git or file-system error).
pub const EXIT_ENVIRONMENT: u8 = 3;

const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  the ledger has problems (ovn check found errors)
  2  usage error: bad arguments, or a request that cannot be done as asked
  3  environment error: not in a ledger, git or file-system failure

Environment:
  OVN_NOW            pin the clock (RFC 3339), for reproducible commits
  GIT_AUTHOR_NAME    author name of commits ovn makes (else git config user.name)
  GIT_AUTHOR_EMAIL   author email of commits ovn makes (else git config user.email)

Cache:
  Parsed day folders and answers to read-only questions are kept in .git/ovn/cache,
  keyed by git object ids; deleting it is always safe and --no-cache bypasses it.

The ledger format is described in ovn-ledger(5).";

/// ovn: a ledger for Open Value Networks, kept as TOML records in git.
///
/// Contributions (work, money, materials, use of equipment), agents, projects, resources and
/// value-equation agreements are TOML files in a git repository; merging a pull request is
/// peer validation. ovn finds the ledger from the current directory upwards (the nearest
/// ovn.toml) and never touches the network.
#[derive(Debug, Parser)]
#[command(name = "ovn", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Run as if ovn was started in DIR
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,

    /// Neither use nor fill the cache in .git/ovn/cache (results are the same either way)
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
// Parsed once per run: the size of the largest variant (`ovn log`'s flags) does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    // No doc comments here: each subcommand's help comes from its Args struct, so the long
    // description reaches `--help` and the man page.
    #[allow(missing_docs)]
    Init(init::InitArgs),
    #[allow(missing_docs)]
    Check(check::CheckArgs),
    #[allow(missing_docs)]
    Log(log::LogArgs),
    #[allow(missing_docs)]
    Revert(revert::RevertArgs),
    #[allow(missing_docs)]
    Status(status::StatusArgs),
    #[allow(missing_docs)]
    Recover(recover::RecoverArgs),
    #[allow(missing_docs)]
    Agent(agent::AgentArgs),
    #[allow(missing_docs)]
    Project(project::ProjectArgs),
    #[allow(missing_docs)]
    Resource(resource::ResourceArgs),
    #[allow(missing_docs)]
    Payout(payout::PayoutArgs),
    #[allow(missing_docs)]
    Report(report::ReportArgs),
    #[allow(missing_docs)]
    Export(export::ExportArgs),
    #[allow(missing_docs)]
    Site(site::SiteArgs),
    #[allow(missing_docs)]
    Approve(approve::ApproveArgs),
    #[allow(missing_docs)]
    Review(review::ReviewArgs),
}

/// The clap command tree (used for man pages and completions).
pub fn command() -> clap::Command {
    Cli::command()
}

/// A failure to report on stderr, with its exit status.
#[derive(Debug)]
pub struct CliError {
    /// Exit status.
    pub status: u8,
    /// One-line message.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError {
            status: EXIT_USAGE,
            message: message.into(),
            hint,
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        CliError {
            status: match e.kind() {
                ErrorKind::Usage => EXIT_USAGE,
                ErrorKind::Environment => EXIT_ENVIRONMENT,
            },
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError {
            status: EXIT_ENVIRONMENT,
            message: format!("cannot write output: {e}"),
            hint: None,
        }
    }
}

/// Runs `ovn` with the process arguments and environment.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let result = Context::from_env()
        .map_err(|message| CliError {
            status: EXIT_ENVIRONMENT,
            message,
            hint: None,
        })
        .and_then(|ctx| run(cli, &ctx));
    match result {
        Ok(status) => ExitCode::from(status),
        // `ovn check | head` closes the pipe early; that is not an error worth a message.
        Err(e) if e.message.contains("Broken pipe") => ExitCode::from(EXIT_OK),
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {}", e.message);
            if let Some(hint) = e.hint {
                let _ = writeln!(err, "  hint: {hint}");
            }
            ExitCode::from(e.status)
        }
    }
}

/// Runs a parsed command line; returns the exit status.
pub fn run(cli: Cli, ctx: &Context) -> Result<u8, CliError> {
    let cwd = cli.directory.unwrap_or_else(|| PathBuf::from("."));
    if !cwd.is_dir() {
        return Err(CliError::usage(
            format!("-C {}: no such directory", cwd.display()),
            None,
        ));
    }
    CACHE_OFF.store(cli.no_cache, std::sync::atomic::Ordering::Relaxed);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let status = match cli.command {
        Command::Init(args) => init::run(args, &cwd, ctx, &mut out)?,
        Command::Check(args) if args.at.is_some() && args.history.is_none() => {
            let question = format!("check {args:?}");
            let at = args.at.clone().unwrap_or_default();
            memo::answer(&cwd, &question, &[&at], &mut out, |buf| {
                check::run(args, &cwd, buf)
            })?
        }
        Command::Check(args) => check::run(args, &cwd, &mut out)?,
        Command::Log(args) => log::run(args, &cwd, ctx, &mut out)?,
        Command::Revert(args) => revert::run(args, &cwd, ctx, &mut out)?,
        Command::Status(args) => status::run(args, &cwd, &mut out)?,
        Command::Recover(args) => recover::run(args, &cwd, &mut out)?,
        Command::Agent(args) => agent::run(args, &cwd, ctx, &mut out)?,
        Command::Project(args) => project::run(args, &cwd, ctx, &mut out)?,
        Command::Resource(args) => resource::run(args, &cwd, ctx, &mut out)?,
        Command::Payout(args) if args.command.is_none() && !args.record => {
            // A preview is dated today unless --date says otherwise: the day is part of it.
            let question = format!("payout {args:?} on {}", ctx.now.date_naive());
            let at: Vec<String> = args.at.iter().cloned().collect();
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            memo::answer(&cwd, &question, &at, &mut out, |buf| {
                payout::run(args, &cwd, ctx, buf)
            })?
        }
        Command::Payout(args) => payout::run(args, &cwd, ctx, &mut out)?,
        Command::Report(args) => {
            let question = format!("report {args:?}");
            let at: Vec<String> = args.at().map(str::to_owned).into_iter().collect();
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            memo::answer(&cwd, &question, &at, &mut out, |buf| {
                report::run(args, &cwd, buf)
            })?
        }
        Command::Export(args) => export::run(args, &cwd, &mut out)?,
        Command::Site(args) => site::run(args, &cwd, &mut out)?,
        Command::Approve(args) => approve::run(args, &cwd, ctx, &mut out)?,
        Command::Review(args) => {
            // The range pins the answer: both ends' commits (a bad range is computed, to fail).
            let ends = match &args.range {
                Some(range) => review::parse_range(range).ok().map(|(b, h)| vec![b, h]),
                None => Some(Vec::new()),
            };
            match ends {
                Some(ends) => {
                    let question = format!("review {args:?}");
                    let ends: Vec<&str> = ends.iter().map(String::as_str).collect();
                    memo::answer(&cwd, &question, &ends, &mut out, |buf| {
                        review::run(args, &cwd, buf)
                    })?
                }
                None => review::run(args, &cwd, &mut out)?,
            }
        }
    };
    out.flush()?;
    Ok(status)
}

/// The text of every file a diagnostic points into, to show excerpts: read again (from the
/// commit, or the working tree) because loading a ledger does not keep raw files.
pub fn problem_texts(
    store: &Store,
    commit: Option<&str>,
    diagnostics: &[crate::core::diag::Diagnostic],
) -> std::collections::HashMap<String, String> {
    let mut texts = std::collections::HashMap::new();
    for d in diagnostics {
        if texts.contains_key(&d.path) {
            continue;
        }
        let bytes = match (commit, store.root()) {
            (Some(commit), _) => store.read_file_at(commit, &d.path).ok().flatten(),
            // Never through a link, a FIFO or a device: its text would be printed.
            (None, Some(_)) => store.read_worktree_file(&d.path).ok().flatten(),
            (None, None) => None,
        };
        if let Some(bytes) = bytes {
            texts.insert(d.path.clone(), String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    texts
}

/// Frees `value` on a thread of its own: a loaded million-record ledger takes a noticeable
/// moment to free, which the command's answer need not wait for (when `ovn` exits first,
/// the operating system reclaims it all at once).
pub fn discard<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// Set once from `--no-cache` before any command runs; read by [`open`].
static CACHE_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Opens the ledger around `cwd` (with the cache unless `--no-cache` was given).
pub fn open(cwd: &Path) -> Result<Store, CliError> {
    let mut store = Store::discover(cwd)?;
    store.set_cache(!CACHE_OFF.load(std::sync::atomic::Ordering::Relaxed));
    Ok(store)
}
