//! The `ovn` command line: parsing, dispatch, exit codes and error printing.
//!
//! One module per subcommand, each with an `XxxArgs` clap struct and a `run` function (the jj
//! layout). The clap definitions are the single source of `--help` and of the man pages in
//! `man/` (a test regenerates and compares them).

pub mod agent;
pub mod agreement;
pub mod approve;
pub mod check;
pub mod completions;
pub mod export;
mod history;
pub mod import;
mod incoming;
pub mod init;
pub mod log;
pub mod man;
pub mod pay;
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
mod writing;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};

use crate::cache::{answers, key, reports};
use crate::context::Context;
use crate::store::{ErrorKind, ResolvedRev, Store, StoreError};

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
  NO_COLOR, CLICOLOR, CLICOLOR_FORCE
                     colour errors on a terminal or not (NO_COLOR=1 never, CLICOLOR_FORCE=1
                     always, CLICOLOR=0 not on a terminal)
  OVN_NOW            pin the clock (RFC 3339), for reproducible commits and tests: it is
                     also the today of relative dates (yesterday, last month)
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
/// ovn.toml); with none there, the only ovn.toml git tracks in the repository (a ledger in a
/// subfolder of a code repository is found from its top or from src/; several are listed,
/// to choose one with -C). It never touches the network.
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
    Agreement(agreement::AgreementArgs),
    #[allow(missing_docs)]
    Payout(payout::PayoutArgs),
    #[allow(missing_docs)]
    Pay(pay::PayArgs),
    #[allow(missing_docs)]
    Report(report::ReportArgs),
    #[allow(missing_docs)]
    Export(export::ExportArgs),
    #[allow(missing_docs)]
    Import(import::ImportArgs),
    #[allow(missing_docs)]
    Site(site::SiteArgs),
    #[allow(missing_docs)]
    Approve(approve::ApproveArgs),
    #[allow(missing_docs)]
    Review(review::ReviewArgs),
    #[allow(missing_docs)]
    Completions(completions::CompletionsArgs),
    #[allow(missing_docs)]
    Man(man::ManArgs),
}

/// The clap command tree (used for man pages and completions).
pub fn command() -> clap::Command {
    Cli::command()
}

/// A failure to report on stderr: its kind (which [`exit_code`] turns into the exit status),
/// a one-line message and, where there is some, advice. Errors of the layers below keep
/// their type (and their source) until the message is printed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The store failed; [`StoreError::kind`] says whether the user or the environment.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the command's output failed (a reader that closed the pipe among others).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The request cannot be done as asked (a bad value, an unknown id).
    #[error("{message}")]
    Usage {
        /// One-line message.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The ledger has problems that stop the command.
    #[error("{message}")]
    Problems {
        /// One-line message (it may go on over indented lines, one per problem).
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The machine or the file system failed.
    #[error("{message}")]
    Environment {
        /// One-line message.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError::Usage {
            message: message.into(),
            hint,
        }
    }

    /// The ledger's problems stop the command.
    pub fn problems(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError::Problems {
            message: message.into(),
            hint,
        }
    }

    /// The environment failed.
    pub fn environment(message: impl Into<String>, hint: Option<String>) -> CliError {
        CliError::Environment {
            message: message.into(),
            hint,
        }
    }

    /// Advice for the user, where there is some.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Store(e) => e.hint(),
            CliError::Output(_) => None,
            CliError::Usage { hint, .. }
            | CliError::Problems { hint, .. }
            | CliError::Environment { hint, .. } => hint.clone(),
        }
    }

    /// Whether the error is only the reader of the output going away (`ovn check | head`):
    /// an I/O error of kind [`std::io::ErrorKind::BrokenPipe`] anywhere in its chain.
    pub fn is_broken_pipe(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            cause = e.source();
        }
        false
    }
}

/// The exit status of a failed command: the one place where kinds of error become codes (the
/// same table as `ovn --help`, README and the man pages):
///
/// - 1 ([`EXIT_PROBLEMS`]): the ledger has problems;
/// - 2 ([`EXIT_USAGE`]): bad usage, or a request that cannot be done as asked (a store error of
///   [`ErrorKind::Usage`]);
/// - 3 ([`EXIT_ENVIRONMENT`]): the environment failed: not in a ledger, git or the file system
///   (a store error of [`ErrorKind::Environment`], output that cannot be written).
///
/// A closed output pipe is no failure at all: [`main`] exits 0 ([`EXIT_OK`]) without a word.
pub fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Problems { .. } => EXIT_PROBLEMS,
        CliError::Usage { .. } => EXIT_USAGE,
        CliError::Store(e) => match e.kind() {
            ErrorKind::Usage => EXIT_USAGE,
            ErrorKind::Environment => EXIT_ENVIRONMENT,
        },
        CliError::Output(_) | CliError::Environment { .. } => EXIT_ENVIRONMENT,
    }
}

/// Runs `ovn` with the process arguments and environment; returns the exit status, which
/// the binary exits with.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let ctx = Context::from_env();
    let color = ctx.as_ref().is_ok_and(|c| c.color);
    let result = ctx
        .map_err(|message| CliError::environment(message, None))
        .and_then(|ctx| run(cli, &ctx));
    match result {
        Ok(status) => status,
        // `ovn check | head` closes the pipe early; that is not an error worth a message.
        Err(e) if e.is_broken_pipe() => EXIT_OK,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}: {e}", paint(color, "1;31", "error"));
            if let Some(hint) = e.hint() {
                let _ = writeln!(err, "  {}: {hint}", paint(color, "1;36", "hint"));
            }
            exit_code(&e)
        }
    }
}

/// `word` in the SGR colour `sgr` (`1;31` bold red) when `color`, else as it is: the label of
/// a line on stderr (`error`, `hint`, `warning`); the message itself stays plain.
fn paint(color: bool, sgr: &str, word: &str) -> String {
    if color {
        format!("\x1b[{sgr}m{word}\x1b[0m")
    } else {
        word.to_owned()
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
    // The command's context: the cache is on unless `--no-cache` says otherwise.
    let ctx = &Context {
        cache: !cli.no_cache,
        ..ctx.clone()
    };
    if reads_validated(&cli.command) {
        warn_if_stale(&cwd, ctx);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let status = match cli.command {
        Command::Init(args) => init::run(args, &cwd, ctx, &mut out)?,
        Command::Check(args) if args.at.is_some() && args.history.is_none() => {
            let question = key::question("check", &args);
            let at = args.at.clone().unwrap_or_default();
            memo(&cwd, ctx, &question, &[&at], &mut out, |buf| {
                check::run(args, &cwd, ctx, buf)
            })?
        }
        Command::Check(args) => check::run(args, &cwd, ctx, &mut out)?,
        Command::Log(args) => log::run(args, &cwd, ctx, &mut out)?,
        Command::Revert(args) => revert::run(args, &cwd, ctx, &mut out)?,
        Command::Status(args) => status::run(args, &cwd, ctx, &mut out)?,
        Command::Recover(args) => recover::run(args, &cwd, ctx, &mut out)?,
        Command::Agent(args) => agent::run(args, &cwd, ctx, &mut out)?,
        Command::Project(args) => project::run(args, &cwd, ctx, &mut out)?,
        Command::Resource(args) => resource::run(args, &cwd, ctx, &mut out)?,
        Command::Agreement(args) => agreement::run(args, &cwd, ctx, &mut out)?,
        Command::Payout(args) if args.command.is_none() && !args.record => {
            // A preview is dated today unless --date says otherwise: the day is part of it.
            let question = key::dated_question("payout", &args, ctx.now.date_naive());
            let at: Vec<String> = args.at.iter().cloned().collect();
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            memo(&cwd, ctx, &question, &at, &mut out, |buf| {
                payout::run(args, &cwd, ctx, buf)
            })?
        }
        Command::Payout(args) => payout::run(args, &cwd, ctx, &mut out)?,
        Command::Report(args) => {
            let question = if args.relative_dates() {
                key::dated_question("report", &args, ctx.now.date_naive())
            } else {
                key::question("report", &args)
            };
            let at: Vec<String> = args.at().map(str::to_owned).into_iter().collect();
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            memo(&cwd, ctx, &question, &at, &mut out, |buf| {
                report::run(args, &cwd, ctx, buf)
            })?
        }
        Command::Export(args) => export::run(args, &cwd, ctx, &mut out)?,
        Command::Import(args) => import::run(args, &cwd, ctx, &mut out)?,
        Command::Site(args) => site::run(args, &cwd, ctx, &mut out)?,
        Command::Approve(args) => approve::run(args, &cwd, ctx, &mut out)?,
        Command::Pay(args) => pay::run(args, &cwd, ctx, &mut out)?,
        Command::Review(args) => {
            // The range pins the answer: both ends' commits (a bad range is computed, to fail).
            let ends = match &args.range {
                Some(range) => review::parse_range(range).ok().map(|(b, h)| vec![b, h]),
                None => Some(Vec::new()),
            };
            match ends {
                Some(ends) => {
                    let question = key::question("review", &args);
                    let ends: Vec<&str> = ends.iter().map(String::as_str).collect();
                    memo(&cwd, ctx, &question, &ends, &mut out, |buf| {
                        review::run(args, &cwd, ctx, buf)
                    })?
                }
                None => review::run(args, &cwd, ctx, &mut out)?,
            }
        }
        Command::Completions(args) => completions::run(args, &cwd, ctx, &mut out)?,
        Command::Man(args) => man::run(args, &cwd, ctx, &mut out)?,
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

pub use crate::ops::discard;

impl From<crate::ops::Error> for CliError {
    fn from(e: crate::ops::Error) -> CliError {
        match e {
            crate::ops::Error::Store(e) => e.into(),
            crate::ops::Error::Usage { message, hint } => CliError::usage(message, hint),
            crate::ops::Error::Problems { message, hint } => CliError::problems(message, hint),
        }
    }
}

/// The revision a read-only command reads, resolved once: `--at REV`, or else the validated
/// branch (see [`crate::ops::branch`]); the flag says which (outputs name the validated
/// branch).
pub fn resolve_at(store: &Store, at: Option<&str>) -> Result<(ResolvedRev, bool), CliError> {
    match at {
        Some(rev) => Ok((store.resolve_rev(rev)?, false)),
        None => Ok((crate::ops::branch::resolve(store)?, true)),
    }
}

/// `ovn log "Did stuff" 2h`: when the text given as a duration is none but the description
/// is one, the arguments were swapped; says so, with the command in the right order, rather
/// than `e` ("not a duration").
pub(crate) fn swapped(e: CliError, duration: &str, description: &str) -> CliError {
    use crate::core::duration;
    if duration::parse(description).is_err() || duration::parse(duration).is_ok() {
        return e;
    }
    CliError::usage(
        format!(
            "the duration comes before the description: {description:?} is a duration, {:?} is not",
            crate::core::render::visible(duration)
        ),
        Some(format!(
            "ovn log {description} {:?}",
            crate::core::render::visible(duration)
        )),
    )
}

/// Whether `command` reads the validated branch (no `--at`, no range given): the commands
/// that warn when it is behind its upstream.
fn reads_validated(command: &Command) -> bool {
    match command {
        Command::Payout(a) => a.command.is_none() && a.at.is_none(),
        Command::Report(a) => a.at().is_none(),
        Command::Export(a) => a.period.at.is_none(),
        Command::Site(a) => a.at.is_none(),
        Command::Review(a) => a.range.is_none(),
        Command::Check(a) => a.history.as_deref() == Some(""),
        Command::Status(_) => true,
        _ => false,
    }
}

/// Says on stderr when the validated branch is behind its upstream (see
/// [`crate::ops::branch::Validated::warning`]). Said once, before the command runs, so an
/// answer from the cache gets it too; a ledger or branch that cannot be found says nothing
/// here (the command itself fails as it would).
fn warn_if_stale(cwd: &Path, ctx: &Context) {
    let Ok(store) = open(cwd, ctx) else { return };
    let Ok(found) = crate::ops::branch::find(&store) else {
        return;
    };
    let current = store.branch().ok();
    if let Some(warning) = found.warning(current.as_deref()) {
        let label = paint(ctx.color, "1;33", "warning");
        let _ = writeln!(std::io::stderr().lock(), "{label}: {warning}");
    }
}

/// Opens the ledger around `cwd`, with the cache as the command's context says.
pub fn open(cwd: &Path, ctx: &Context) -> Result<Store, CliError> {
    let mut store = Store::discover(cwd)?;
    store.set_cache(ctx.cache);
    store.set_fill_window(ctx.fill_window);
    store.set_failpoint(ctx.failpoint.clone());
    Ok(store)
}

/// Answers a read-only `question` at the revisions `at` through the answer cache (see
/// [`crate::cache::answers`]). No revision named means the validated branch, whose commit
/// then pins the answer; a ledger that cannot be opened, or a branch that cannot be worked
/// out, is simply computed (to fail as it would).
fn memo(
    cwd: &Path,
    ctx: &Context,
    question: &str,
    at: &[&str],
    out: &mut impl Write,
    compute: impl FnOnce(&mut Vec<u8>) -> Result<u8, CliError>,
) -> Result<u8, CliError> {
    let (store, revs) = pins(cwd, ctx, at);
    let revs: Vec<&str> = revs.iter().map(String::as_str).collect();
    answers::answer(store.as_ref(), question, &revs, out, compute)
}

/// What pins a read-only answer (see [`memo`]): the store, when the ledger opens, and the
/// revisions `at`, or the validated branch when none is named. No store when nothing can
/// pin the answer (it is then simply computed).
pub(crate) fn pins(cwd: &Path, ctx: &Context, at: &[&str]) -> (Option<Store>, Vec<String>) {
    let store = open(cwd, ctx).ok();
    let validated = match (&store, at) {
        (Some(store), []) => crate::ops::branch::resolve(store)
            .ok()
            .map(|b| b.name().to_owned()),
        _ => None,
    };
    match (validated, at) {
        (Some(branch), _) => (store, vec![branch]),
        (None, []) => (None, Vec::new()),
        (None, at) => (store, at.iter().map(|r| (*r).to_owned()).collect()),
    }
}

impl From<reports::Error> for CliError {
    fn from(e: reports::Error) -> CliError {
        match e {
            reports::Error::Store(e) => e.into(),
            reports::Error::Query(message) => CliError::usage(message, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_found_by_its_kind_not_its_words() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(CliError::from(pipe()).is_broken_pipe());
        let store = StoreError::io(Path::new("out"), "cannot write", pipe());
        assert!(CliError::from(store).is_broken_pipe());
        assert!(!CliError::usage("Broken pipe", None).is_broken_pipe());
        assert!(!CliError::from(std::io::Error::other("Broken pipe")).is_broken_pipe());
    }

    #[test]
    fn kinds_become_the_documented_exit_codes() {
        assert_eq!(exit_code(&CliError::problems("p", None)), 1);
        assert_eq!(exit_code(&CliError::usage("u", None)), 2);
        assert_eq!(exit_code(&CliError::environment("e", None)), 3);
        assert_eq!(exit_code(&CliError::from(StoreError::DetachedHead)), 2);
        assert_eq!(exit_code(&CliError::from(StoreError::NoIdentity)), 3);
        let output = CliError::from(std::io::Error::other("disk full"));
        assert_eq!(exit_code(&output), 3);
        assert_eq!(output.to_string(), "cannot write output: disk full");
    }
}
