//! What every writing command shares: the transaction options, judging new records with the
//! checks of `ovn check`, the errors for bad input (with suggestions), and the one-line report.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;

use super::CliError;
use crate::context::Context;
use crate::core::diag::Diagnostic;
use crate::core::ledger::{Loaded, RawFile, RecordType};
use crate::core::parse::{TextProblem, suggest, text_problem};
use crate::core::record::Contribution;
use crate::core::render;
use crate::core::value::Id;
use crate::ops::write::Base;
use crate::store::{Identity, Mode, Outcome, Plan, Store, StoreError, View, WriteOptions};

/// How long a write waits for another `ovn` writer of the same repository.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a write did not happen.
pub enum Refusal {
    /// Bad input or a failing repository.
    Cli(CliError),
    /// The new records would break checks of `ovn check`: the problems and the files they
    /// point into.
    Problems(Vec<Diagnostic>, Vec<RawFile>),
}

impl From<CliError> for Refusal {
    fn from(e: CliError) -> Refusal {
        Refusal::Cli(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Cli(e.into())
    }
}

/// A new record id: the context's clock and 80 random bits from the operating system.
pub fn new_id(ctx: &Context) -> Result<Id, CliError> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(|e| {
        CliError::environment(
            format!("cannot get random bytes from the operating system: {e}"),
            None,
        )
    })?;
    let millis = u64::try_from(ctx.now.timestamp_millis()).unwrap_or(0);
    Ok(crate::core::newid::contribution_id(millis, random))
}

/// The transaction options for a write, resolving the git identity that authors the commit.
pub fn options(store: &Store, ctx: &Context, no_commit: bool) -> Result<WriteOptions, CliError> {
    let identity = Identity::resolve(store.repo(), ctx);
    let (mode, identity) = if no_commit {
        (Mode::NoCommit, identity.ok())
    } else {
        (Mode::Commit, Some(identity?))
    };
    Ok(WriteOptions {
        mode,
        identity,
        failpoint: ctx.failpoint.clone(),
        lock_timeout: LOCK_TIMEOUT,
        replace: false,
    })
}

/// Judges `added` against `base` ([`Base::problems`]): refuses when they bring any problem
/// `ovn check` would report.
pub fn judge(view: &View<'_>, base: &Base, added: &[RawFile]) -> Result<(), Refusal> {
    match base.problems(view, added)? {
        None => Ok(()),
        Some((problems, files)) => Err(Refusal::Problems(problems, files)),
    }
}

/// `text` as the new file `path`, once judged against `base` ([`judge`]): the file a write
/// plans.
pub fn judged(
    view: &View<'_>,
    base: &Base,
    path: &str,
    text: String,
) -> Result<(String, Vec<u8>), Refusal> {
    let bytes = text.into_bytes();
    let added = [RawFile {
        path: path.to_owned(),
        bytes: bytes.clone(),
    }];
    judge(view, base, &added)?;
    Ok((path.to_owned(), bytes))
}

/// Turns a refusal into the command's error, printing diagnostics as `ovn check` does.
pub fn refuse(refusal: Refusal) -> CliError {
    match refusal {
        Refusal::Cli(e) => e,
        Refusal::Problems(problems, files) => {
            let mut err = std::io::stderr().lock();
            for d in &problems {
                let text = files
                    .iter()
                    .find(|f| f.path == d.path)
                    .map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
                let _ = writeln!(err, "{}", render::human(d, &d.locate(text.as_deref())));
            }
            let n = problems.len();
            CliError::problems(
                format!(
                    "nothing written: the new record would bring {n} problem{} to the ledger",
                    if n == 1 { "" } else { "s" }
                ),
                None,
            )
        }
    }
}

/// Prints the one line a write reports: what, where, and the commit.
pub fn report(out: &mut impl Write, what: &str, outcome: &Outcome) -> Result<(), CliError> {
    let paths = outcome.paths.join(", ");
    let commit = match (&outcome.commit, &outcome.branch) {
        (Some(c), Some(b)) => format!("commit {} on {b}", &c.to_string()[..12]),
        (Some(c), None) => format!("commit {}", &c.to_string()[..12]),
        (None, _) => "not committed (--no-commit)".to_owned(),
    };
    writeln!(out, "{what} in {paths}, {commit}")?;
    if let Some(h) = &outcome.hint {
        let _ = writeln!(std::io::stderr(), "hint: {h}");
    }
    Ok(())
}

/// The code given to `--currency`, upper-cased, or why it is not one.
pub fn currency_code(text: &str) -> Result<String, CliError> {
    let code = text.trim().to_ascii_uppercase();
    if !crate::core::value::is_currency_code(&code) {
        return Err(CliError::usage(
            format!("--currency {code:?} is not a currency code"),
            Some("give a three-letter ISO 4217 code such as EUR, USD or CHF".to_owned()),
        ));
    }
    Ok(code)
}

/// A user-given id, validated.
pub fn parse_id(flag: &str, text: &str) -> Result<Id, CliError> {
    Id::parse(text).map_err(|e| {
        let lower = text.to_lowercase();
        let hint = (lower != text && Id::parse(&lower).is_ok())
            .then(|| format!("ids are lowercase: {lower}"))
            .or_else(|| {
                Some(
                    "ids are lowercase letters, digits, `-` and `_`, such as ana or drone-ve"
                        .to_owned(),
                )
            });
        CliError::usage(format!("{flag} {text:?} is not a valid id: {e}"), hint)
    })
}

/// A new record's id (`flag` names it in errors) and its display name, the id by default.
pub fn id_and_name(flag: &str, id: &str, name: Option<&str>) -> Result<(Id, String), CliError> {
    let id = parse_id(flag, id)?;
    let name = match name {
        Some(n) => text("--name", n)?,
        None => id.to_string(),
    };
    Ok((id, name))
}

/// The agents `--steward` names, each existing, in order and once.
pub fn stewards(loaded: &Loaded, given: &[String]) -> Result<Vec<Id>, CliError> {
    let mut stewards = Vec::new();
    for s in given {
        let s = existing(loaded, RecordType::Agent, "--steward", s)?;
        if !stewards.contains(&s) {
            stewards.push(s);
        }
    }
    Ok(stewards)
}

/// A reference to an existing record of `kind`, with a suggestion when it is a near miss.
pub fn existing(loaded: &Loaded, kind: RecordType, flag: &str, text: &str) -> Result<Id, CliError> {
    let id = parse_id(flag, text)?;
    if loaded.ledger.index.contains(kind, id.as_str()) {
        return Ok(id);
    }
    Err(unknown(loaded, kind, text))
}

/// The error for a contribution id that no committed contribution has.
pub fn no_contribution(target: &Id) -> CliError {
    CliError::usage(
        format!("no contribution has the id {target}"),
        Some("give the id of a committed contribution (its file name without .toml)".to_owned()),
    )
}

/// The contribution `target`, read from its file `found` into `loaded`: one a correction can
/// start from, or refused when its file has problems of its own (it did not read).
pub fn contribution_in(
    loaded: &Loaded,
    target: &Id,
    found: &str,
) -> Result<Contribution, CliError> {
    loaded
        .ledger
        .contributions
        .iter()
        .find(|c| c.id.value == *target)
        .map(|c| (**c).clone())
        .ok_or_else(|| {
            CliError::usage(
                format!("contribution {target} ({found}) has problems of its own"),
                Some("run `ovn check` and fix the record first".to_owned()),
            )
        })
}

/// The error for an unknown record, with a suggestion or the way to add one.
pub fn unknown(loaded: &Loaded, kind: RecordType, text: &str) -> CliError {
    let ids: Vec<&str> = loaded.ledger.index.names(kind).collect();
    unknown_among(kind, text, &ids)
}

/// The error for an unknown record among the known `ids` of its kind (see [`unknown`]).
pub fn unknown_among(kind: RecordType, text: &str, ids: &[&str]) -> CliError {
    let noun = kind.noun();
    let hint = match suggest(text, ids.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None if ids.is_empty() => {
            format!("the ledger has no {noun} yet; add one with `ovn {noun} add ID`")
        }
        None if ids.len() <= 12 => format!("known {}s: {}", noun, ids.join(", ")),
        None => format!("add it with `ovn {noun} add {text}`"),
    };
    CliError::usage(format!("unknown {noun} `{text}`"), Some(hint))
}

/// Free text for a record (a name, description, unit, link, memo, comment): judged by the
/// reader's own rule for text fields ([`text_problem`]), so that what a command writes is
/// never refused when read back.
pub fn text(flag: &str, value: &str) -> Result<String, CliError> {
    match text_problem(value) {
        None => Ok(value.trim().to_owned()),
        Some(TextProblem::Empty) => Err(CliError::usage(
            format!("{flag} is empty"),
            Some("say in a few words what it is".to_owned()),
        )),
        Some(problem) => Err(CliError::usage(
            format!("{flag} {problem}"),
            Some("control and bidirectional-override characters are not allowed in the ledger; retype the text".to_owned()),
        )),
    }
}

/// A date given on the command line: `YYYY-MM-DD`, `today` or `yesterday`, not in the future.
pub fn date(flag: &str, value: &str, today: NaiveDate) -> Result<NaiveDate, CliError> {
    let date = match value.trim().to_ascii_lowercase().as_str() {
        "today" => today,
        "yesterday" => today.pred_opt().unwrap_or(today),
        other => crate::core::when::day(other, today).map_err(|_| {
            CliError::usage(
                format!("{flag} {value:?} is not a date"),
                Some(
                    "give a real calendar day as YYYY-MM-DD (e.g. 2026-03-10), today or yesterday"
                        .to_owned(),
                ),
            )
        })?,
    };
    if date > today {
        return Err(CliError::usage(
            format!("{flag} {date} is in the future (today is {today})"),
            Some("record contributions once they are made".to_owned()),
        ));
    }
    Ok(date)
}

/// Opens the ledger and checks it can be written to.
pub fn open_for_writing(cwd: &Path, ctx: &Context) -> Result<Store, CliError> {
    let store = super::open(cwd, ctx)?;
    // A bare repository takes commits straight into its objects (see `Store::transact`).
    if store.root().is_none() && !store.repo().is_bare() {
        return Err(StoreError::NotCheckedOut {
            path: store.describe(),
        }
        .into());
    }
    Ok(store)
}

/// Adds one agent, project or resource: `build` makes the record's text and a short summary
/// from the current ledger; it is judged like every write and committed as `<noun>: add ...`.
pub fn add_record(
    store: &Store,
    options: &WriteOptions,
    kind: RecordType,
    id: &Id,
    build: impl Fn(&Loaded) -> Result<(String, String), CliError>,
) -> Result<(Outcome, String), CliError> {
    let path = format!("{}/{id}.toml", kind.folder());
    store
        .transact(options, |view: &View<'_>| {
            let base = Base::read(view, &[], &[])?;
            let loaded = base.loaded();
            if loaded.ledger.index.contains(kind, id.as_str()) {
                return Err(Refusal::Cli(CliError::usage(
                    format!("{} `{id}` already exists ({path})", kind.noun()),
                    Some("ids are never reused; choose another id, or edit the file to change the record".to_owned()),
                )));
            }
            if loaded.ledger.network.is_none() {
                return Err(Refusal::Cli(CliError::usage(
                    "ovn.toml has problems, so nothing can be recorded",
                    Some("run `ovn check` and fix ovn.toml first".to_owned()),
                )));
            }
            let (text, summary) = build(loaded)?;
            let file = judged(view, &base, &path, text)?;
            Ok(Plan {
                files: vec![file],
                message: format!("{}: add {summary}\n", kind.noun()),
                value: summary,
            })
        })
        .map_err(refuse)
}

/// What a write of whole files ([`write_files`]) plans: each file (new, or replacing the one
/// at its path) with its text, the commit message, and the summary the command prints.
pub struct Files {
    /// Ledger-relative paths and their new texts.
    pub files: Vec<(String, String)>,
    /// The commit message (one line is enough).
    pub message: String,
    /// What was done, in a few words, for the command's report.
    pub summary: String,
}

/// How a [`write_files`] ended.
pub enum Written {
    /// Committed (or written with `--no-commit`).
    Done(Outcome, String),
    /// A dry run: judged, nothing written; the files it would write.
    Dry(Files),
}

/// Why a [`write_files`] transaction stopped without writing.
enum Stop {
    Refused(Refusal),
    Dry(Files),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Refused(e.into())
    }
}

impl From<CliError> for Stop {
    fn from(e: CliError) -> Stop {
        Stop::Refused(Refusal::Cli(e))
    }
}

/// Writes the files `build` plans from the current ledger (new records, or records edited
/// in place) as one write: judged together against the small folders like every write
/// ([`Base::problems`], a replaced file standing in for the one at its path) and committed
/// once, or, for a dry run, judged and not written.
pub fn write_files(
    store: &Store,
    options: &WriteOptions,
    dry_run: bool,
    build: impl Fn(&Loaded) -> Result<Files, CliError>,
) -> Result<Written, CliError> {
    write_files_reading(store, options, dry_run, &[], build)
}

/// [`write_files`] judged against `folders` too (besides the small folders): for an edit
/// whose rule reaches records there (a departure and the contributions after it).
pub fn write_files_reading(
    store: &Store,
    options: &WriteOptions,
    dry_run: bool,
    folders: &[&str],
    build: impl Fn(&Loaded) -> Result<Files, CliError>,
) -> Result<Written, CliError> {
    let result = store.transact(options, |view: &View<'_>| -> Result<Plan<String>, Stop> {
        let base = Base::read(view, folders, &[])?;
        let loaded = base.loaded();
        if loaded.ledger.network.is_none() {
            return Err(CliError::usage(
                "ovn.toml has problems, so nothing can be recorded",
                Some("run `ovn check` and fix ovn.toml first".to_owned()),
            )
            .into());
        }
        let planned = build(loaded)?;
        let added: Vec<RawFile> = planned
            .files
            .iter()
            .map(|(path, text)| RawFile {
                path: path.clone(),
                bytes: text.clone().into_bytes(),
            })
            .collect();
        judge(view, &base, &added).map_err(Stop::Refused)?;
        if dry_run {
            return Err(Stop::Dry(planned));
        }
        Ok(Plan {
            files: added.into_iter().map(|f| (f.path, f.bytes)).collect(),
            message: planned.message,
            value: planned.summary,
        })
    });
    match result {
        Ok((outcome, summary)) => Ok(Written::Done(outcome, summary)),
        Err(Stop::Dry(files)) => Ok(Written::Dry(files)),
        Err(Stop::Refused(r)) => Err(refuse(r)),
    }
}

/// What an edit of one record ([`edit_record`]) did.
pub struct Edited {
    /// The write's outcome.
    pub outcome: Outcome,
    /// What changed, in a few words (`emails +dee@x.example`).
    pub summary: String,
    /// Whether the file was not in the canonical layout before (its comments and layout are
    /// not kept: the record is written again as `ovn` writes it).
    pub relaid: bool,
}

/// Edits the record of `kind` called `id`: `find` finds it in the current ledger, `change`
/// changes a copy and says what it changed, `text` writes it. Refused: an unknown id (with a
/// suggestion), an edit that changes nothing, and anything the checks of `ovn check` would
/// refuse; else one commit `<noun>: edit ID (CHANGES)` replaces the file. The file is
/// written again in the canonical layout (the one `ovn` writes), which keeps a file `ovn`
/// wrote byte for byte outside the changed fields.
#[allow(clippy::too_many_arguments)]
pub fn edit_record<R: Clone + PartialEq>(
    store: &Store,
    options: &WriteOptions,
    kind: RecordType,
    id: &str,
    find: impl for<'a> Fn(&'a crate::core::ledger::Ledger, &str) -> Option<&'a R>,
    change: impl Fn(&Loaded, &mut R) -> Result<Vec<String>, CliError>,
    text: fn(&R) -> String,
) -> Result<Edited, CliError> {
    let how = EditAs {
        verb: "edit",
        dry_run: false,
        folders: &[],
    };
    match edit_record_as(store, options, kind, id, find, change, text, how)? {
        Edit::Done(edited) => Ok(edited),
        Edit::Dry(_) => Err(CliError::usage("an edit has no dry run", None)),
    }
}

/// How [`edit_record_as`] names its commit (`<noun>: VERB ID (CHANGES)`) and whether it only
/// judges the edit.
pub struct EditAs<'a> {
    /// The verb of the commit message (`edit`, `leave`, `rejoin`).
    pub verb: &'a str,
    /// Judge the edit, write nothing.
    pub dry_run: bool,
    /// Folders the edit is judged against besides the small ones (see
    /// [`write_files_reading`]).
    pub folders: &'a [&'a str],
}

/// What [`edit_record_as`] did: the edit, or for a dry run the file it would write.
pub enum Edit {
    /// Written and committed.
    Done(Edited),
    /// Judged, not written: the path, its new text, and what changed.
    Dry(Files),
}

/// [`edit_record`] under another verb, or as a dry run.
#[allow(clippy::too_many_arguments)]
pub fn edit_record_as<R: Clone + PartialEq>(
    store: &Store,
    options: &WriteOptions,
    kind: RecordType,
    id: &str,
    find: impl for<'a> Fn(&'a crate::core::ledger::Ledger, &str) -> Option<&'a R>,
    change: impl Fn(&Loaded, &mut R) -> Result<Vec<String>, CliError>,
    text: fn(&R) -> String,
    how: EditAs<'_>,
) -> Result<Edit, CliError> {
    let given = parse_id(&format!("{} id", kind.noun()), id)?;
    let relaid = std::cell::Cell::new(false);
    let options = WriteOptions {
        replace: true,
        ..options.clone()
    };
    let written = write_files_reading(store, &options, how.dry_run, how.folders, |loaded| {
        // A unique prefix stands for the whole id.
        let ids = loaded.ledger.index.names(kind);
        let id = crate::ops::ids::resolve(kind.noun(), given.as_str(), ids)?
            .unwrap_or_else(|| given.to_string());
        let Some(record) = find(&loaded.ledger, &id) else {
            return Err(unknown(loaded, kind, &id));
        };
        let path = format!("{}/{id}.toml", kind.folder());
        let before = match store.root() {
            Some(_) => store.read_worktree_file(&path)?,
            None => None,
        };
        let mut edited = record.clone();
        let changes = change(loaded, &mut edited)?;
        if changes.is_empty() || edited == *record {
            return Err(CliError::usage(
                format!("nothing to change: {} `{id}` is already so", kind.noun()),
                Some(format!(
                    "say what to change; `ovn {} edit --help` lists the fields",
                    kind.noun()
                )),
            ));
        }
        relaid.set(
            before
                .as_deref()
                .is_some_and(|b| b != text(record).as_bytes()),
        );
        let summary = format!("{id} ({})", changes.join("; "));
        Ok(Files {
            files: vec![(path.clone(), text(&edited))],
            message: format!("{}: {} {summary}\n", kind.noun(), how.verb),
            summary,
        })
    })?;
    match written {
        Written::Done(outcome, summary) => Ok(Edit::Done(Edited {
            outcome,
            summary,
            relaid: relaid.get(),
        })),
        Written::Dry(files) => Ok(Edit::Dry(files)),
    }
}

/// `list` with `add` appended and `remove` taken out (each compared by `same`), or the
/// error naming what was asked twice, missing, or there already; with the words of the change.
pub fn add_remove<T: Clone>(
    list: &mut Vec<T>,
    add: &[T],
    remove: &[T],
    same: impl Fn(&T, &T) -> bool,
    show: impl Fn(&T) -> String,
    field: &str,
) -> Result<Vec<String>, CliError> {
    let mut changes = Vec::new();
    for r in remove {
        let before = list.len();
        list.retain(|x| !same(x, r));
        if list.len() == before {
            return Err(CliError::usage(
                format!("--remove-{field} {}: not among the {field}s", show(r)),
                Some(format!(
                    "the {field}s are: {}",
                    if list.is_empty() {
                        "(none)".to_owned()
                    } else {
                        list.iter().map(&show).collect::<Vec<_>>().join(", ")
                    }
                )),
            ));
        }
        changes.push(format!("{field}s -{}", show(r)));
    }
    for a in add {
        if list.iter().any(|x| same(x, a)) {
            return Err(CliError::usage(
                format!("--add-{field} {}: already among the {field}s", show(a)),
                None,
            ));
        }
        list.push(a.clone());
        changes.push(format!("{field}s +{}", show(a)));
    }
    Ok(changes)
}

/// Prints what an edit did (as [`report`]), and a note on stderr when the file lost its
/// own layout or comments.
pub fn report_edit(out: &mut impl Write, noun: &str, edited: &Edited) -> Result<(), CliError> {
    report(
        out,
        &format!("Edited {noun} {}", edited.summary),
        &edited.outcome,
    )?;
    if edited.relaid {
        let _ = writeln!(
            std::io::stderr(),
            "note: {} was written again in the layout ovn writes; its comments and own layout are not kept",
            edited.outcome.paths.join(", ")
        );
    }
    Ok(())
}

/// `--add-steward` and `--remove-steward` applied to `stewards` (added ones must be agents;
/// see [`add_remove`]), with the words of the change.
pub fn edit_stewards(
    loaded: &Loaded,
    stewards: &mut Vec<crate::core::record::At<Id>>,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, CliError> {
    let add = self::stewards(loaded, add)?;
    let remove = remove
        .iter()
        .map(|s| parse_id("--remove-steward", s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ids: Vec<Id> = stewards.iter().map(|s| s.value.clone()).collect();
    let changes = add_remove(
        &mut ids,
        &add,
        &remove,
        |x, y| x == y,
        |x| x.to_string(),
        "steward",
    )?;
    *stewards = ids.into_iter().map(crate::core::record::At::new).collect();
    Ok(changes)
}
