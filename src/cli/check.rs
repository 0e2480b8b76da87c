//! `ovn check`: judge the ledger and report every problem.
//!
//! Checking is the core's (`core::validation`): this module loads (the working tree, or a
//! revision with `--at`, where summarised day folders stand in for their records), reads the
//! text of the files a problem points into for excerpts, and renders in one of three forms.
//! `--staged` reads git's index instead (what a pre-commit hook must judge: the commit, not
//! the files around it), through the store like a revision, so its excerpts are the staged
//! text too.
//! `--history` is a different question (what changed commit by commit) and lives in `history`.

use crate::context::Context;
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::core::diag::Location;

use crate::core::render::{self, JsonDiagnostic};
use crate::ops::{self, load::Need};

/// Check every record of the ledger and report all problems at once.
///
/// Reads the working tree (or, with --at, any commit straight from git objects, without
/// touching the working tree or index) and checks TOML syntax, fields and types, exact
/// decimals, dates, ids and file names, references between records, duplicate ids, hours per
/// agent per day, resource ownership shares, value-equation buckets, file encoding and stray
/// files. Symbolic links, FIFOs, devices and submodules in the ledger are reported, never
/// followed or read, and no file over 64 KiB (a payout record: 8 MiB) is read. Every problem
/// has a stable code (see ovn-ledger(5)), a path:line:col, the offending text and a hint;
/// file names are printed escaped. A contribution in another currency with no exchange rate
/// for its date is an error (missing-rate: write its rate on it, or add a rate record;
/// payouts leave it out until then). It also warns, without failing, when rules of two buckets of one agreement can
/// claim the same contribution (warning[claimed-twice]: it would be paid from both). ovn check
/// never writes anything.
///
/// On the working tree, the answer is kept in the cache (.git/ovn/cache) under a stamp of
/// the files it read: each one's path, type, inode, size and modification and change times,
/// as git's index keeps them. While none changed, ovn check prints it again without reading
/// a file (an edit changes the change time, even one that keeps the size and modification
/// time). No answer is kept when a file changed within 2 seconds of the check, or when a
/// stray file is present (whether it is read depends on .gitignore). When a file changed,
/// only the day folders whose files' stat data changed are read again: each read remembers
/// every day folder's stat data and the git tree id its files hash to, and takes the
/// unchanged ones from the cache. Where git's core.fsmonitor names a hook program (such as
/// watchman's fsmonitor-watchman sample), ovn check asks it first, as git does (protocol 2,
/// with the token the last check stored), which files changed: when none of the ledger's
/// did, the stored answer is printed without looking at any file, and otherwise only the
/// day folders it names are looked at again. A hook that fails, times out, says "/" or
/// prints what does not parse means every file is looked at. The hook is trusted as git
/// trusts it; only git's own configuration (not the repository's files) can name one.
/// A day folder the check does not remember yet (the first check in a fresh clone), whose
/// files' stat data is exactly what git's index holds for them (the rule git status trusts),
/// is taken from git's objects (through the cache) instead of opening every file, unless
/// git may convert files on checkout here (core.autocrlf, or any attributes file): then
/// every file is read from disk. --no-cache reads every file and runs no hook.
///
/// With --staged, checks what is staged for the next commit (git's index) instead of the
/// working tree: a contribution whose new agent file was left untracked fails, as it would once
/// committed. Staged links and submodules are reported, never followed; a path with an
/// unresolved merge conflict is refused, and so is a record HEAD holds and the working tree
/// still has unchanged but git's index lost (a git command that read the index while an ovn
/// write was staging leaves this; the commit would delete it: `ovn recover` stages it
/// again). This is what a pre-commit hook runs. It reads git's
/// index itself, a split index (core.splitIndex) too, and works out each day folder's tree id
/// from its staged entries, so the folders a commit does not change come from the cache and
/// only the changed ones are read. With a split index, its shared part (which git never
/// changes) is digested once, so after a `git add` only git's small index file and the day
/// folders it touches are read. Its answer is kept under a stamp of git's index file (its
/// inode, size and modification and change times: git writes a new index file for every
/// change) and HEAD's commit, and printed again without reading the index while both are
/// unchanged; not when the index changed within 2 seconds of the check, nor when a record
/// HEAD holds is missing from the index (the working tree then decides the verdict).
///
/// With --history, checks history instead of one snapshot: along the validated branch's
/// first-parent history (its merges as the network accepted them), no commit modified or
/// deleted a contribution, payout or approval that its first parent already had, i.e. a
/// validated record; and every governance change it brought (to [validation], agents' emails
/// and keys, agents, stewards, agreements) was validated under its first parent's rules, as
/// ovn review judges them. The last verified commit is remembered in .git/ovn/verified: the next run
/// starts there, and reports a validated branch that no longer descends from it (a
/// force-push rewrote it). With a RANGE (BASE..HEAD, BASE an ancestor of HEAD), checks HEAD's
/// first-parent history after BASE and remembers nothing. Every payout recorded at the tip
/// must also pin a commit of the tip's history (a rewrite that orphans it, or a branch
/// squashed away, leaves a payout nobody can re-derive), in a fresh clone too. This is the
/// only thing ovn check writes, and only inside .git. In a shallow clone whose history stops
/// before BASE (or the root), it refuses: run git fetch --unshallow first.
// The brackets above are TOML's tables, shown as they are by `--help`, not doc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn check                    check the working tree
  ovn check --at main          check the ledger as committed on main
  ovn check --format short     one line per problem, for editors and grep
  ovn check --staged           what the next commit will hold (a pre-commit hook)
  ovn check --history          validated records were never rewritten (for CI)
  ovn check --history v1..main the same, for a range of history

Exit status: 0 no problems, 1 problems found, 2 usage error, 3 environment error.")]
pub struct CheckArgs {
    /// Check the ledger as committed at REV (a commit id, branch, tag or HEAD~N)
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,

    /// Check history: no validated record modified or deleted along the validated branch
    #[arg(long, value_name = "RANGE", num_args = 0..=1, default_missing_value = "", conflicts_with = "at")]
    pub history: Option<String>,

    /// Check what is staged for the next commit (git's index), not the working tree
    #[arg(long, conflicts_with_all = ["at", "history"])]
    pub staged: bool,

    /// How to print problems
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,
}

/// Output formats of `ovn check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style blocks with the offending line and a hint, then a summary
    Human,
    /// one `path:line:col: error[code]: message` line per problem
    Short,
    /// a JSON object with the summary and every problem
    Json,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    commit: Option<String>,
    files: usize,
    records: usize,
    problems: Vec<JsonDiagnostic<'a>>,
    /// Advice that does not fail the check (see [`as_warning`]).
    warnings: Vec<JsonDiagnostic<'a>>,
}

/// The code of the warning `ovn check` gives: a contribution two buckets can claim.
const CLAIMED_TWICE: &str = "claimed-twice";

/// A rendered diagnostic as a warning: the same place, excerpt and hint, but its own code
/// and no effect on the verdict or the exit status.
pub(super) fn as_warning(rendered: &str) -> String {
    rendered.replacen(
        "error[invalid-agreement]",
        &format!("warning[{CLAIMED_TWICE}]"),
        1,
    )
}

/// The ledger as staged; a path with an unresolved conflict is refused, as `git commit`
/// refuses it (nothing is staged for it to check), and so is a committed record that git's
/// index lost to a `git commit` racing an `ovn` write (this commit would delete it).
/// `looked` says whether the working tree was looked at for such records.
fn staged(
    store: &crate::store::Store,
    ctx: &Context,
    looked: &Cell<bool>,
) -> Result<crate::core::ledger::Loaded, CliError> {
    use crate::cache::CachedRead;
    // Through the cache: a commit that changes one day folder reads that folder alone.
    let staged = store.load_index(ctx.index_file.as_deref())?;
    let refused = &staged.refused;
    looked.set(refused.looked);
    if let Some(first) = refused.unmerged.first() {
        return Err(CliError::usage(
            format!(
                "{} has an unresolved merge conflict in git's index ({} such path{})",
                crate::core::render::escaped(first),
                refused.unmerged.len(),
                if refused.unmerged.len() == 1 { "" } else { "s" }
            ),
            Some("resolve the conflict and `git add` the file, then check again".to_owned()),
        ));
    }
    if let Some(first) = refused.unstaged.first() {
        let n = refused.unstaged.len();
        return Err(CliError::problems(
            format!(
                "{} is committed and unchanged in the working tree but missing from git's index, so this commit would delete it ({n} such record{}): a git command that read the index while an ovn write was staging leaves this",
                crate::core::render::escaped(first),
                if n == 1 { "" } else { "s" }
            ),
            Some(
                "run `ovn recover` to stage it again, then commit; to delete it on purpose, `git rm` the file"
                    .to_owned(),
            ),
        ));
    }
    Ok(staged.loaded)
}

/// The staged text of every file a diagnostic points into, for excerpts.
fn staged_texts(
    store: &crate::store::Store,
    ctx: &Context,
    diagnostics: &[crate::core::diag::Diagnostic],
) -> std::collections::HashMap<String, String> {
    let mut paths: Vec<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    // Excerpts are a help, not the verdict: a file that cannot be read again has none.
    let digests = crate::cache::staged::IndexDigests::of(store);
    let digests = digests
        .as_ref()
        .map(|d| d as &dyn crate::store::SharedDigests);
    let files = store
        .read_staged_files(ctx.index_file.as_deref(), &paths, digests)
        .unwrap_or_default();
    files
        .into_iter()
        .map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

/// Runs `ovn check`.
pub fn run(
    args: CheckArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let store = super::open(cwd, ctx)?;
    if let Some(range) = &args.history {
        return super::history::run(&store, range, out);
    }
    if args.at.is_none() && !args.staged {
        // The working tree: replayed while no file it reads changed (see the cache's
        // `worktree`).
        let question = crate::cache::key::question("check", &args);
        let attributes = ctx.user_attributes.as_deref();
        return crate::cache::worktree::answer(
            &store,
            attributes,
            &question,
            out,
            |buf, reader| judge(&store, &args, ctx, buf, Some(reader), &Cell::new(false)),
        );
    }
    if args.staged {
        // Replayed while git's index file and HEAD are unchanged (see the cache's `staged`).
        let question = crate::cache::key::question("check", &args);
        let index = ctx.index_file.as_deref();
        return crate::cache::staged::answer(&store, index, &question, out, |buf, looked| {
            judge(&store, &args, ctx, buf, None, looked)
        });
    }
    judge(&store, &args, ctx, out, None, &Cell::new(false))
}

/// Loads the ledger `args` names and renders the verdict on it; for `--staged`, says in
/// `looked` whether the working tree was looked at.
///
/// Long because it renders each of the three formats; it reads top to bottom.
fn judge(
    store: &crate::store::Store,
    args: &CheckArgs,
    ctx: &Context,
    out: &mut impl Write,
    worktree: Option<&crate::cache::worktree::Reader<'_>>,
    looked: &Cell<bool>,
) -> Result<u8, CliError> {
    let (loaded, commit) = match &args.at {
        Some(rev) => {
            let rev = store.resolve_rev(rev)?;
            // The verdict needs no record: summarised folders stand in for theirs.
            let loaded = ops::load::load(store, &rev, Need::Checks)?.for_need();
            (loaded, Some(rev.id()))
        }
        None if args.staged => (staged(store, ctx, looked)?, None),
        // Through the cache's reader where there is one: only changed day folders are read.
        None => match worktree {
            Some(reader) => (reader.load()?, None),
            None => (ops::load::worktree(store)?, None),
        },
    };
    // Advice beside the verdict: rules of two buckets that can claim one contribution.
    let warnings = crate::core::checks::overlapping_rules(&loaded.ledger);
    let pointed: Vec<crate::core::diag::Diagnostic> = loaded
        .diagnostics
        .iter()
        .chain(&warnings)
        .cloned()
        .collect();
    let texts = if args.staged {
        staged_texts(store, ctx, &pointed)
    } else {
        super::problem_texts(store, commit.as_deref(), &pointed)
    };
    // Each file's lines indexed once: a file may draw thousands of problems.
    let lines: std::collections::HashMap<&str, crate::core::diag::Lines<'_>> = texts
        .iter()
        .map(|(path, text)| (path.as_str(), crate::core::diag::Lines::new(text)))
        .collect();
    let locate = |d: &crate::core::diag::Diagnostic| d.locate_in(lines.get(d.path.as_str()));
    let located: Vec<Location> = loaded.diagnostics.iter().map(locate).collect();
    let warned: Vec<Location> = warnings.iter().map(locate).collect();
    let problems = loaded.diagnostics.len();
    let records = loaded.ledger.record_count();
    match args.format {
        Format::Human => {
            for (d, loc) in loaded.diagnostics.iter().zip(&located) {
                writeln!(out, "{}", render::human(d, loc))?;
            }
            for (d, loc) in warnings.iter().zip(&warned) {
                writeln!(out, "{}", as_warning(&render::human(d, loc)))?;
            }
            let at = commit
                .as_deref()
                .map(|c| format!(" at {}", &c[..12]))
                .unwrap_or_default();
            let warned = match warnings.len() {
                0 => String::new(),
                1 => ", 1 warning".to_owned(),
                n => format!(", {n} warnings"),
            };
            if problems == 0 {
                writeln!(out, "ok: {records} records{at}, no problems{warned}")?;
            } else {
                let mut paths: Vec<&str> =
                    loaded.diagnostics.iter().map(|d| d.path.as_str()).collect();
                paths.dedup();
                let s = if problems == 1 { "" } else { "s" };
                let fs = if paths.len() == 1 { "" } else { "s" };
                writeln!(
                    out,
                    "error: {problems} problem{s} in {} file{fs} ({records} records{at})",
                    paths.len()
                )?;
            }
        }
        Format::Short => {
            for (d, loc) in loaded.diagnostics.iter().zip(&located) {
                writeln!(out, "{}", render::short(d, loc))?;
            }
            for (d, loc) in warnings.iter().zip(&warned) {
                writeln!(out, "{}", as_warning(&render::short(d, loc)))?;
            }
        }
        Format::Json => {
            let report = JsonReport {
                ok: problems == 0,
                commit,
                files: loaded.ledger.file_count(),
                records,
                problems: loaded
                    .diagnostics
                    .iter()
                    .zip(&located)
                    .map(|(d, loc)| JsonDiagnostic::new(d, loc))
                    .collect(),
                warnings: warnings
                    .iter()
                    .zip(&warned)
                    .map(|(d, loc)| JsonDiagnostic {
                        code: CLAIMED_TWICE,
                        ..JsonDiagnostic::new(d, loc)
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    super::discard(loaded);
    Ok(if problems == 0 {
        EXIT_OK
    } else {
        EXIT_PROBLEMS
    })
}
