//! The write behind every `ovn import`: new records from another tool, in one commit or none.
//!
//! A format's reader (pure, in [`crate::core::import`] and [`crate::core::vfimport`]) turns a
//! file into records; this module writes them the way every write is written: inside one
//! transaction (which may run again when the branch moves, so everything is decided from what
//! it reads), against the part of the ledger the records touch ([`Base`]), leaving out the
//! records already there (an import is idempotent: ids are derived from the input, so a
//! second run finds them all), judging the rest together by the checks of `ovn check`, and
//! committing them at once. A dry run runs the same body and stops before the commit, so it
//! shows exactly what would be written. What the command prints is decided by the command:
//! this layer answers with values ([`Answer`], [`Stop`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::core::diag::Diagnostic;
use crate::core::import::{self, RowError};
use crate::core::ledger::{Loaded, RawFile, RecordType};
use crate::core::record::{Contribution, Network};
use crate::core::value::Id;
use crate::core::vfimport::{Graph, NodeError};
use crate::core::write;
use crate::ops::write::Base;
use crate::store::{Outcome, Plan, Store, StoreError, View, WriteOptions};

/// Rows of a table (a CSV file, or a time file read as one) to import as contributions.
pub struct Rows {
    /// The file, as named on the command line.
    pub name: String,
    /// Each row with the line it starts on.
    pub rows: Vec<(usize, Vec<String>)>,
    /// Which column holds each field ([`import::mapping`]).
    pub map: BTreeMap<&'static str, usize>,
    /// The project of rows that name none.
    pub project: Option<Id>,
    /// Show what would be written, and write nothing.
    pub dry_run: bool,
}

/// How a contribution is described in the listing and the commit message: the command's
/// wording, handed in (`describe(contribution, network currency)`).
pub type Describe = fn(&Contribution, &str) -> String;

/// What an import did.
pub enum Answer {
    /// The records were committed: the summary (`3 new contributions from FILE (...)`) and
    /// the write's outcome.
    Imported(String, Outcome),
    /// Every record is already in the ledger: the summary.
    Nothing(String),
    /// A dry run: the summary, and one line per record that would be written.
    DryRun(String, Vec<String>),
}

/// Why an import wrote nothing.
pub enum Stop {
    /// Reading or writing the repository failed, or the request cannot be done as asked.
    Failed(super::Error),
    /// A record named on the command line does not exist: its kind, the text given, and the
    /// ids of that kind the ledger has (for a suggestion).
    Unknown(RecordType, String, Vec<Id>),
    /// Bad rows of the input.
    Rows(Vec<RowError>),
    /// Bad nodes of a ValueFlows document.
    Nodes(Vec<NodeError>),
    /// The new records would bring problems to the ledger: the lines of the records they
    /// point into, the problems, and the files they point into.
    Problems(Vec<String>, Vec<Diagnostic>, Vec<RawFile>),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Failed(e.into())
    }
}

impl From<super::Error> for Stop {
    fn from(e: super::Error) -> Stop {
        Stop::Failed(e)
    }
}

/// The records a format's reader planned: one line and one file per new record, and how
/// many of its records the ledger already had.
pub struct Planned {
    /// `(line, file)` per new record, in the order they are listed.
    pub added: Vec<(String, RawFile)>,
    /// Records of the input already in the ledger.
    pub skipped: usize,
}

/// The ledger's settings, or the error every write gives when `ovn.toml` has problems.
pub fn network(loaded: &Loaded) -> Result<&Network, super::Error> {
    loaded.ledger.network.as_ref().ok_or_else(|| {
        super::Error::usage(
            "ovn.toml has problems, so nothing can be recorded",
            Some("run `ovn check` and fix ovn.toml first".to_owned()),
        )
    })
}

/// Imports `rows` as contributions: each row checked against the ledger, the rows already
/// imported left out, the rest judged together and committed (or, for a dry run, listed).
pub fn rows(
    store: &Store,
    options: &WriteOptions,
    input: &Rows,
    describe: Describe,
) -> Result<Answer, Stop> {
    let Rows {
        name,
        rows: data,
        map,
        project,
        dry_run,
    } = input;
    // The day folders the rows add to: a row's hours are judged with its day's.
    let folders: BTreeSet<String> = data
        .iter()
        .filter_map(|(_, cells)| {
            let date = cells.get(*map.get("date")?)?;
            let d = crate::core::value::parse_date_text(date.trim()).ok()?;
            Some(format!("contributions/{}", d.format("%Y/%m/%d")))
        })
        .collect();
    let wanted: Vec<&str> = folders.iter().map(String::as_str).collect();
    let nouns = ("contribution", "contributions");
    transact(
        store,
        options,
        name,
        nouns,
        *dry_run,
        Some(&wanted),
        |base| {
            let loaded = base.loaded();
            let currency = network(loaded)?.currency.clone();
            if let Some(p) = project
                && !loaded
                    .ledger
                    .index
                    .contains(RecordType::Project, p.as_str())
            {
                let known = loaded.ledger.index.ids(RecordType::Project).cloned();
                return Err(Stop::Unknown(
                    RecordType::Project,
                    p.to_string(),
                    known.collect(),
                ));
            }
            let (mut records, errors) =
                import::contributions(data, map, &loaded.ledger, project.as_ref());
            if !errors.is_empty() {
                return Err(Stop::Rows(errors));
            }
            import::assign_ids(&mut records);
            let there: HashSet<&Id> = loaded
                .ledger
                .contributions
                .iter()
                .map(|c| &c.id.value)
                .collect();
            let total = records.len();
            records.retain(|(_, c)| !there.contains(&c.id.value));
            let skipped = total - records.len();
            let added = records
                .iter()
                .map(|(row, c)| {
                    let path = format!(
                        "contributions/{}/{}.toml",
                        c.date.value.format("%Y/%m/%d"),
                        c.id.value
                    );
                    let line = format!(
                        "{name}:{row}: {path}: {}",
                        describe(c, c.currency().unwrap_or(&currency))
                    );
                    let bytes = write::contribution(c).into_bytes();
                    (line, RawFile { path, bytes })
                })
                .collect();
            Ok(Planned { added, skipped })
        },
    )
}

/// Imports the records of a ValueFlows document ([`crate::core::vfimport::read`]): those already in the
/// ledger left out (an agent, project or resource of the same id must have the same name),
/// the rest judged together and committed (or, for a dry run, listed). A document that
/// corrects contributions is judged against the whole ledger, where the corrected records
/// may be on any day.
pub fn valueflows(
    store: &Store,
    options: &WriteOptions,
    name: &str,
    graph: &Graph,
    dry_run: bool,
    describe: Describe,
) -> Result<Answer, Stop> {
    let folders: BTreeSet<String> = graph
        .contributions
        .iter()
        .map(|(_, c)| format!("contributions/{}", c.date.value.format("%Y/%m/%d")))
        .collect();
    let wanted: Vec<&str> = folders.iter().map(String::as_str).collect();
    let corrects = graph
        .contributions
        .iter()
        .any(|(_, c)| c.reverses().is_some() || c.supersedes().is_some());
    let folders = (!corrects).then_some(wanted.as_slice());
    let nouns = ("record", "records");
    transact(store, options, name, nouns, dry_run, folders, |base| {
        let loaded = base.loaded();
        let network = network(loaded)?;
        plan_graph(name, graph, loaded, network, describe)
    })
}

/// The new records of `graph` against the ledger read: one line and one file each.
///
/// Long because it is one pass over the four kinds of record a document holds, each with
/// its own rule for what "already in the ledger" means, in the order they are listed.
fn plan_graph(
    name: &str,
    graph: &Graph,
    loaded: &Loaded,
    network: &Network,
    describe: Describe,
) -> Result<Planned, Stop> {
    let ledger = &loaded.ledger;
    let index = &ledger.index;
    let mut errors = Vec::new();
    let mut added = Vec::new();
    let mut skipped = 0;
    let mut same_name = |kind: RecordType, path: &str, id: &Id, new: &str, old: Option<&str>| {
        if !index.contains(kind, id.as_str()) {
            return false;
        }
        skipped += 1;
        if let Some(old) = old
            && old != new
        {
            errors.push(NodeError {
                path: path.to_owned(),
                message: format!(
                    "{} `{id}` is already in the ledger, named {:?}, not {:?}",
                    kind.noun(),
                    old,
                    new
                ),
            });
        }
        true
    };
    let mut line = |path: &str, file: String, what: String, bytes: String| {
        let line = format!("{name}: {path}: {file}: {what}");
        added.push((
            line,
            RawFile {
                path: file,
                bytes: bytes.into_bytes(),
            },
        ));
    };
    for (path, a) in &graph.agents {
        let old = ledger.agents.iter().find(|x| x.id.value == a.id.value);
        let old = old.map(|x| x.name.as_str());
        if !same_name(RecordType::Agent, path, &a.id.value, &a.name, old) {
            let what = format!("{} {} ({:?})", a.kind.as_str(), a.id.value, a.name);
            line(
                path,
                format!("agents/{}.toml", a.id.value),
                what,
                write::agent(a),
            );
        }
    }
    for (path, p) in &graph.projects {
        let old = ledger.projects.iter().find(|x| x.id.value == p.id.value);
        let old = old.map(|x| x.name.as_str());
        if !same_name(RecordType::Project, path, &p.id.value, &p.name, old) {
            let what = format!("project {} ({:?})", p.id.value, p.name);
            line(
                path,
                format!("projects/{}.toml", p.id.value),
                what,
                write::project(p),
            );
        }
    }
    for (path, r) in &graph.resources {
        let old = ledger.resources.iter().find(|x| x.id.value == r.id.value);
        let old = old.map(|x| x.name.as_str());
        if !same_name(RecordType::Resource, path, &r.id.value, &r.name, old) {
            let what = format!(
                "{} resource {} ({:?})",
                r.ownership.as_str(),
                r.id.value,
                r.name
            );
            line(
                path,
                format!("resources/{}.toml", r.id.value),
                what,
                write::resource(r),
            );
        }
    }
    for (path, a) in &graph.agreements {
        if index.contains(RecordType::Agreement, a.as_str()) {
            continue;
        }
        errors.push(NodeError {
            path: path.clone(),
            message: format!(
                "agreement `{a}` is not in the ledger; a vf:Agreement does not carry its value equation, so add agreements/{a}.toml first"
            ),
        });
    }
    let there: HashSet<&Id> = ledger.contributions.iter().map(|c| &c.id.value).collect();
    for (path, c) in &graph.contributions {
        if there.contains(&c.id.value) {
            skipped += 1;
            continue;
        }
        let mut c = c.clone();
        if c.currency() == Some(network.currency.as_str()) {
            c.set_currency(None);
        }
        if let Some(a) = c.amount.as_mut() {
            if a.scale() > network.minor_units {
                errors.push(NodeError {
                    path: path.clone(),
                    message: format!(
                        "amount {a} has more than {} decimal places",
                        network.minor_units
                    ),
                });
                continue;
            }
            a.rescale(network.minor_units);
        }
        let file = format!(
            "contributions/{}/{}.toml",
            c.date.value.format("%Y/%m/%d"),
            c.id.value
        );
        let currency = c.currency().unwrap_or(&network.currency);
        let what = describe(&c, currency);
        line(path, file, what, write::contribution(&c));
    }
    if !errors.is_empty() {
        return Err(Stop::Nodes(errors));
    }
    Ok(Planned { added, skipped })
}

/// The transaction every import runs: `plan` decides the new records from the ledger read
/// (`ovn.toml`, the small folders and `folders`, or with `None` the whole ledger); they are
/// judged together and committed as `import: SUMMARY`, the commit message listing one line
/// per record.
pub fn transact(
    store: &Store,
    options: &WriteOptions,
    name: &str,
    (one, many): (&str, &str),
    dry_run: bool,
    folders: Option<&[&str]>,
    mut plan: impl FnMut(&Base) -> Result<Planned, Stop>,
) -> Result<Answer, Stop> {
    let result = store.transact(options, |view: &View<'_>| -> Result<Plan<String>, Halt> {
        let base = match folders {
            Some(folders) => Base::read(view, folders, &[])?,
            None => Base::whole(view)?,
        };
        let Planned { added, skipped } = plan(&base).map_err(Halt::Stop)?;
        let head = format!(
            "{} new {} from {name} ({skipped} already in the ledger)",
            added.len(),
            if added.len() == 1 { one } else { many },
        );
        if added.is_empty() {
            return Err(Halt::Done(Answer::Nothing(head)));
        }
        let (lines, files): (Vec<String>, Vec<RawFile>) = added.into_iter().unzip();
        if let Some((problems, shown)) = base.problems(view, &files)? {
            // The lines of the records the problems point into, to say where they come from.
            let rows = lines
                .iter()
                .zip(&files)
                .filter(|(_, f)| problems.iter().any(|d| d.path == f.path))
                .map(|(l, _)| l.clone())
                .collect();
            return Err(Halt::Stop(Stop::Problems(rows, problems, shown)));
        }
        if dry_run {
            return Err(Halt::Done(Answer::DryRun(head, lines)));
        }
        let mut message = format!("import: {head}\n\n");
        for l in &lines {
            message.push_str(l);
            message.push('\n');
        }
        Ok(Plan {
            files: files.into_iter().map(|f| (f.path, f.bytes)).collect(),
            message,
            value: head,
        })
    });
    match result {
        Ok((outcome, head)) => Ok(Answer::Imported(head, outcome)),
        Err(Halt::Done(answer)) => Ok(answer),
        Err(Halt::Stop(e)) => Err(e),
    }
}

/// How the transaction's body stops short of a commit: with an answer (nothing new, a dry
/// run) or an error.
enum Halt {
    Done(Answer),
    Stop(Stop),
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Halt {
        Halt::Stop(e.into())
    }
}
