//! `ovn review`: what a ledger change does, for the peers who validate it.
//!
//! The changed files are found by descending the two revisions' trees and skipping equal
//! subtree ids, and every policy check reads only the records it needs (a day folder, one
//! contribution), so a review follows the size of the change. Only the payout impact reads
//! both ledgers whole: a payout depends on every contribution of its project.

use crate::context::Context;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use clap::{Args, ValueEnum};
use rust_decimal::Decimal;
use serde::Serialize;

use super::render::markdown;
use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::core::diag::Diagnostic;
use crate::core::ledger::{Ledger, NETWORK_FILE, RawFile, RecordType, Role, classify};
use crate::core::payout::money;
use crate::core::record::PayoutRecord;
use crate::core::render::{escaped, one_line};
use crate::core::review::{self, FieldChange};
use crate::core::validation::agent_by_email;
use crate::core::value::Id;
use crate::core::write;
use crate::ops::{
    self,
    load::{self, Pick},
    review::Impact,
};
use crate::store::{FileChange, ResolvedRev, Store};

/// Most hours one agent may log on one day before review calls it unusual.
const UNUSUAL_HOURS: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

/// Summarise a ledger change for review: records, policy violations and payout impact.
///
/// Compares two revisions, BASE..HEAD (default: the validated branch, validated_branch in
/// ovn.toml, to HEAD), as a pull request does: from the commit where HEAD's history parted
/// from BASE's (their merge base) to HEAD. Both revisions are read from git objects; nothing
/// is checked out, so review works in bare and sparse clones too.
///
/// It lists the records added, changed (field by field) and removed; the policy violations
/// (edits or deletions of contributions, payouts and approvals that are on the validated
/// branch, changed agreements, self-approvals, approvals by an email no agent lists,
/// references to unknown agents, projects, resources or contributions, more than 12 hours
/// by one agent on one day (after corrections: a reversed or superseded record no longer
/// counts), a payout added that forks its project's payout line or was
/// computed at a commit other than the base's tip); and the payout impact: for each project whose contributions or
/// agreement the change touches, every agent's payout before and after the change and the
/// difference, for the revenue --amount (default: the amount of the project's last recorded
/// payout; a project with neither is named and skipped). For a project whose agreement pays
/// projects (to_project), each agent's total over its whole cascade: the top payout and every
/// sub-payout, so a sub-project's members are listed too. Under a policy asking for
/// approvals each side pays what ovn payout would pay there, and the change's own
/// contributions still awaiting approval are shown apart: which they are, and what they would
/// change once approved.
///
/// The rules that judge a change are the rules before it: approvals and authors are mapped
/// to agents with the base's agents and keys, so an email, key or agent added in the change
/// vouches for nothing in it. Governance changes (to [validation] in ovn.toml, to agents'
/// emails and keys, new or removed agents, projects' stewards, agreements) are listed in their
/// own section with whether each is validated under the base's policy: by merging when it
/// asks for no approvals, else when every commit making it is authored (and, with signed,
/// signed) by an agent the base allows (a steward of the project for its stewards, the agent
/// or a steward for its emails and keys, a steward for the rest).
///
/// Who did what: each added record with the agent its commit's author maps to, whom a
/// contribution is for and its description, what an approval approves. Flagged: records
/// logged for another agent, authors no agent lists, contributions dated more than
/// max_date_skew_days (in [validation], default 90) from their commit, symlinks, gitlinks,
/// and files that are not readable records.
///
/// Exit status 1 when there is a policy violation, a governance change or a flag, so CI can
/// fail on it and a person looks.
// The brackets above are TOML's tables, shown as they are by `--help`, not doc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn review
  ovn review main..ana-week-47 --amount 3000
  ovn review origin/main..HEAD --format markdown > review.md
  ovn review --format json --no-impact

Exit status: 0 no violation, 1 policy violations, governance changes or flags (listed), 2 bad input (a malformed range, \
revisions that share no history, a bad amount), 3 environment error.")]
pub struct ReviewArgs {
    /// BASE..HEAD, revisions as git understands them [default: VALIDATED..HEAD]
    #[arg(value_name = "RANGE")]
    pub range: Option<String>,

    /// The revenue to show the payout impact for [default: each project's last recorded payout]
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Option<String>,

    /// Leave out the payout impact (the only part that reads the whole ledger)
    #[arg(long)]
    pub no_impact: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,
}

/// Output formats of `ovn review`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// plain text for a terminal
    Table,
    /// Markdown, ready to post as a pull-request comment
    Markdown,
    /// a JSON object, for bots
    Json,
}

/// One changed ledger file.
#[derive(Debug, Serialize)]
struct Entry {
    change: &'static str,
    /// Escaped in JSON as on a terminal: a bot may print it.
    #[serde(serialize_with = "escaped_path")]
    path: String,
    /// What the record is, in a few words.
    about: String,
    fields: Vec<FieldChange>,
}

fn escaped_path<S: serde::Serializer>(path: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&escaped(path))
}

/// A revision in JSON: the name it was given and the commit it resolved to, apart, so a bot
/// needs no parsing. `merge_base` (base only): the commit the change is compared with, where
/// HEAD's history parted from BASE's (the base's own commit when HEAD descends from it).
#[derive(Debug, Serialize)]
struct JsonRev {
    #[serde(rename = "ref")]
    name: String,
    commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_base: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    /// As text: `main (536543719fde)`; JSON has [`JsonRev`]s instead.
    #[serde(skip)]
    base: String,
    #[serde(skip)]
    head: String,
    #[serde(rename = "base")]
    base_rev: JsonRev,
    #[serde(rename = "head")]
    head_rev: JsonRev,
    added: Vec<Entry>,
    changed: Vec<Entry>,
    removed: Vec<Entry>,
    violations: Vec<String>,
    /// Governance changes, judged by the base's rules (`review_gov`).
    governance: Vec<crate::core::governance::Change>,
    /// The added records and who added them.
    records: Vec<super::review_gov::Authored>,
    #[serde(skip)]
    impact: Vec<Impact>,
    /// `impact` with every amount in the currency's minor units (filled for JSON only).
    #[serde(rename = "impact")]
    impact_json: Vec<JsonImpact>,
    #[serde(skip)]
    minor_units: u32,
}

/// A project's payout impact in JSON: amounts as decimal strings at the currency's minor
/// units ("3000.00"), as `ovn payout` writes them.
#[derive(Debug, Serialize)]
struct JsonImpact {
    project: String,
    amount: Option<String>,
    note: Option<String>,
    agents: Vec<JsonAgentImpact>,
    awaiting_approval: Option<JsonAwaiting>,
    /// The projects a cascade pays through (only for a project whose agreement pays
    /// projects): `agents` are every level's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sub_projects: Vec<String>,
}

#[derive(Debug, Serialize)]
struct JsonAgentImpact {
    agent: String,
    before: String,
    after: String,
    difference: String,
}

#[derive(Debug, Serialize)]
struct JsonAwaiting {
    contributions: Vec<String>,
    agents: Vec<JsonAgentImpact>,
}

impl JsonImpact {
    fn new(i: &Impact, mu: u32) -> JsonImpact {
        let agents = |v: &[review::AgentImpact]| {
            v.iter()
                .map(|a| JsonAgentImpact {
                    agent: one_line(&a.agent),
                    before: money(a.before, mu),
                    after: money(a.after, mu),
                    difference: money(a.difference, mu),
                })
                .collect()
        };
        JsonImpact {
            project: one_line(&i.project),
            amount: i.amount.map(|a| money(a, mu)),
            note: i.note.as_deref().map(one_line),
            agents: agents(&i.agents),
            awaiting_approval: i.awaiting_approval.as_ref().map(|w| JsonAwaiting {
                contributions: w.contributions.clone(),
                agents: agents(&w.agents),
            }),
            sub_projects: i.sub_projects.iter().map(|p| one_line(p)).collect(),
        }
    }
}

impl Report {
    /// The report with every name and text escaped as on a terminal: a bot may print the
    /// JSON, and paths and texts come from the pull request under review.
    fn escaped_for_json(&self) -> Report {
        let texts = |v: &[String]| v.iter().map(|t| one_line(t)).collect::<Vec<_>>();
        let opt = |t: &Option<String>| t.as_deref().map(one_line);
        let entries = |v: &[Entry]| {
            v.iter()
                .map(|e| Entry {
                    change: e.change,
                    path: e.path.clone(),
                    about: one_line(&e.about),
                    fields: e
                        .fields
                        .iter()
                        .map(|f| crate::core::review::FieldChange {
                            field: one_line(&f.field),
                            old: opt(&f.old),
                            new: opt(&f.new),
                        })
                        .collect(),
                })
                .collect()
        };
        let rev = |r: &JsonRev| JsonRev {
            name: one_line(&r.name),
            commit: r.commit.clone(),
            merge_base: r.merge_base.clone(),
        };
        Report {
            base: one_line(&self.base),
            head: one_line(&self.head),
            base_rev: rev(&self.base_rev),
            head_rev: rev(&self.head_rev),
            added: entries(&self.added),
            changed: entries(&self.changed),
            removed: entries(&self.removed),
            violations: texts(&self.violations),
            governance: self
                .governance
                .iter()
                .map(|g| crate::core::governance::Change {
                    path: escaped(&g.path),
                    what: one_line(&g.what),
                    needs: one_line(&g.needs),
                    verdict: one_line(&g.verdict),
                    ..g.clone()
                })
                .collect(),
            records: self
                .records
                .iter()
                .map(|r| super::review_gov::Authored {
                    path: escaped(&r.path),
                    record: one_line(&r.record),
                    author: one_line(&r.author),
                    agent: opt(&r.agent),
                    approves: opt(&r.approves),
                    description: opt(&r.description),
                    flags: texts(&r.flags),
                })
                .collect(),
            impact: Vec::new(),
            impact_json: self
                .impact
                .iter()
                .map(|i| JsonImpact::new(i, self.minor_units))
                .collect(),
            minor_units: self.minor_units,
        }
    }
}

/// The revisions a review compares, each resolved once.
struct Range {
    /// BASE, as named.
    base: ResolvedRev,
    /// HEAD, as named.
    head: ResolvedRev,
    /// Where HEAD's history parted from BASE's: the side a pull request is compared with.
    fork: ResolvedRev,
    /// The validated branch, when this repository has it.
    validated: Option<ResolvedRev>,
}

impl Range {
    /// `BASE..HEAD`, or the validated branch to `HEAD`.
    fn resolve(store: &Store, range: Option<&str>) -> Result<Range, CliError> {
        let (base, head) = match range {
            Some(range) => {
                let (base, head) = parse_range(range)?;
                let head = store.resolve_rev(&head)?;
                (store.resolve_rev(&base)?, head)
            }
            None => {
                let base = ops::branch::resolve(store)?;
                (base, store.resolve_rev("HEAD")?)
            }
        };
        let Some(fork) = store.merge_base(&base.id(), &head.id())? else {
            return Err(CliError::usage(
                format!(
                    "{} and {} share no history: there is nothing to compare",
                    base.name(),
                    head.name()
                ),
                Some("give a BASE that HEAD was branched from".to_owned()),
            ));
        };
        let validated = match range {
            None => Some(base.clone()),
            Some(_) => ops::branch::resolve(store).ok(),
        };
        Ok(Range {
            fork: ResolvedRev::new(fork.to_string(), fork),
            base,
            head,
            validated,
        })
    }
}

/// Runs `ovn review`: parse, resolve the range, read the change, judge it, work out the
/// payout impact, render.
pub fn run(
    args: ReviewArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let store = super::open(cwd, ctx)?;
    let amount = match &args.amount {
        Some(text) => {
            let a = super::payout::revenue("--amount", text)?;
            if a <= Decimal::ZERO {
                return Err(CliError::usage("--amount must be more than zero", None));
            }
            Some(a)
        }
        None => None,
    };
    let range = Range::resolve(&store, args.range.as_deref())?;
    let (fork_s, head_s) = (range.fork.id(), range.head.id());
    let changes = store.changed_files(&fork_s, &head_s)?;
    let (old, _) = side(&store, &changes, |c| c.old.as_ref(), &fork_s)?;
    let (new, problems) = side(&store, &changes, |c| c.new.as_ref(), &head_s)?;
    let mut report = Report::new(&range, &new);
    report.entries(&changes, &old, &new);
    report.violations.extend(file_problems(&changes, &problems));
    // An amount in another currency no rate converts, judged with the head's rate records.
    let unrated = ops::review::missing_rates(&store, &head_s, &changes, &new)?;
    report.violations.extend(located(&changes, &unrated));
    // A changed agreement whose buckets can pay one contribution twice: said here, where the
    // change is judged, as `ovn check` says it.
    let overlaps = crate::core::checks::overlapping_rules(&new);
    report.violations.extend(
        located(&changes, &overlaps)
            .iter()
            .map(|line| super::check::as_warning(line)),
    );
    report
        .violations
        .extend(validated_edits(&store, &range, &changes)?);
    report
        .violations
        .extend(approval_violations(&store, &range, &new)?);
    // Payouts added: computed at the tip they land on, and not forking their project's line.
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c.old.is_none() && c.new.is_some())
        .map(|c| c.path.as_str())
        .collect();
    report
        .violations
        .extend(payout_violations(&store, &range, &new, &added)?);
    report
        .violations
        .extend(reference_violations(&store, &head_s, &new)?);
    let found = super::review_gov::find(
        &store,
        range.fork.commit(),
        range.head.commit(),
        &changes,
        &old,
        &new,
    )?;
    report.violations.extend(found.flags);
    report.governance = found.governance;
    report.records = found.records;
    if !args.no_impact {
        report.impact = ops::review::impact(&store, &range.fork, &range.head, &old, &new, amount)?;
    }
    match args.format {
        Format::Table => write!(out, "{}", text(&report))?,
        Format::Markdown => write!(out, "{}", markdown(&report))?,
        Format::Json => {
            let json = report.escaped_for_json();
            serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(if report.violations.is_empty() {
        EXIT_OK
    } else {
        EXIT_PROBLEMS
    })
}

/// One side of the change: the changed files as they are at `rev` (`pick` chooses the old or
/// the new bytes), with `rev`'s `ovn.toml` for the settings, and the problems found in them.
fn side(
    store: &Store,
    changes: &[FileChange],
    pick: fn(&FileChange) -> Option<&Vec<u8>>,
    rev: &str,
) -> Result<(Ledger, Vec<Diagnostic>), CliError> {
    let mut files: Vec<RawFile> = changes
        .iter()
        .filter(|c| c.path != NETWORK_FILE)
        .filter_map(|c| {
            pick(c).map(|b| RawFile {
                path: c.path.clone(),
                bytes: b.clone(),
            })
        })
        .collect();
    files.extend(network_at(store, rev)?);
    let loaded = crate::core::ledger::load(&files);
    Ok((loaded.ledger, loaded.diagnostics))
}

/// The problems each changed file has on its own at the head (a misspelt kind in a rule, an
/// unknown field, a malformed number), one line each with its place and hint, as `ovn check`
/// would print them: a file the change breaks counts for less than its author thinks, and
/// the reviewer should not have to run `ovn check` to learn why. Only what a file says about
/// itself is judged here: the ledger-wide checks (references, hours per day, payout lines)
/// need the records around the change, which the side does not hold, and are judged by the
/// violations above and by `ovn check`.
fn file_problems(changes: &[FileChange], diagnostics: &[Diagnostic]) -> Vec<String> {
    use crate::core::diag::Code;
    let ledger_wide = [
        Code::DuplicateId,
        Code::UnknownReference,
        Code::DuplicateEmail,
        Code::ParentCycle,
        Code::DayOverflow,
        Code::DuplicatePayout,
        Code::CorrectedTwice,
        Code::CorrectionLoop,
        Code::PayoutFork,
        Code::CascadeCycle,
        Code::CascadeDepth,
        Code::MissingRate,
    ];
    let own: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.span.is_some() && !ledger_wide.contains(&d.code))
        .cloned()
        .collect();
    located(changes, &own)
}

/// Each diagnostic on one line with its place in the changed file and its hint.
fn located(changes: &[FileChange], diagnostics: &[Diagnostic]) -> Vec<String> {
    // Each changed file's text decoded and its lines indexed once, not once a problem: a
    // file may draw thousands.
    let texts: Vec<(&str, Option<std::borrow::Cow<'_, str>>)> = changes
        .iter()
        .map(|c| {
            (
                c.path.as_str(),
                c.new.as_deref().map(String::from_utf8_lossy),
            )
        })
        .collect();
    // The first change of a path is the one a problem points into.
    let mut lines = std::collections::HashMap::new();
    for (path, text) in &texts {
        lines
            .entry(*path)
            .or_insert_with(|| text.as_deref().map(crate::core::diag::Lines::new));
    }
    diagnostics
        .iter()
        .filter_map(|d| {
            let lines = lines.get(d.path.as_str())?.as_ref()?;
            let loc = d.locate_in(Some(lines));
            let hint = d
                .hint
                .as_deref()
                .map(|h| format!(" ({})", crate::core::render::visible(h)))
                .unwrap_or_default();
            Some(format!("{}{hint}", crate::core::render::short(d, &loc)))
        })
        .collect()
}

/// `ovn.toml` at `rev`, if it has one.
fn network_at(store: &Store, rev: &str) -> Result<Option<RawFile>, CliError> {
    Ok(store.read_file_at(rev, NETWORK_FILE)?.map(|bytes| RawFile {
        path: NETWORK_FILE.to_owned(),
        bytes,
    }))
}

impl Report {
    /// An empty report of `range` (`new`: the change's records at the head, for the currency).
    fn new(range: &Range, new: &Ledger) -> Report {
        let (fork_s, head_s) = (range.fork.short(), range.head.short());
        let base = if range.base.commit() != range.fork.commit() {
            format!("{} (merge base {fork_s})", range.base.name())
        } else {
            format!("{} ({fork_s})", range.base.name())
        };
        Report {
            base,
            head: format!("{} ({head_s})", range.head.name()),
            base_rev: JsonRev {
                name: range.base.name().to_owned(),
                commit: range.base.id(),
                merge_base: Some(range.fork.id()),
            },
            head_rev: JsonRev {
                name: range.head.name().to_owned(),
                commit: range.head.id(),
                merge_base: None,
            },
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
            violations: Vec::new(),
            governance: Vec::new(),
            records: Vec::new(),
            impact: Vec::new(),
            impact_json: Vec::new(),
            minor_units: new.network.as_ref().map_or(2, |n| n.minor_units),
        }
    }

    /// The records added, changed (field by field) and removed.
    fn entries(&mut self, changes: &[FileChange], old: &Ledger, new: &Ledger) {
        for c in changes {
            let text =
                |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
            match (text(&c.old), text(&c.new)) {
                (None, Some(_)) => self.added.push(Entry {
                    change: "added",
                    path: c.path.clone(),
                    about: describe(new, &c.path),
                    fields: Vec::new(),
                }),
                (Some(_), None) => self.removed.push(Entry {
                    change: "removed",
                    path: c.path.clone(),
                    about: describe(old, &c.path),
                    fields: Vec::new(),
                }),
                (Some(a), Some(b)) => self.changed.push(Entry {
                    change: "changed",
                    path: c.path.clone(),
                    about: describe(new, &c.path),
                    fields: review::field_changes(&a, &b),
                }),
                (None, None) => {}
            }
        }
    }
}

/// Edits and deletions of validated records; changed agreements.
fn validated_edits(
    store: &Store,
    range: &Range,
    changes: &[FileChange],
) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| c.old.is_some()) {
        let Role::Record(kind, stem, _) = classify(&c.path) else {
            continue;
        };
        let verb = if c.new.is_some() { "edits" } else { "deletes" };
        match kind {
            RecordType::Contribution
            | RecordType::Payout
            | RecordType::Approval
            | RecordType::Payment => {
                let on_validated = match &range.validated {
                    Some(v) => store.read_file_at(&v.id(), &c.path)?.as_ref() == c.old.as_ref(),
                    None => false,
                };
                if on_validated {
                    out.push(format!(
                        "{verb} validated {} {stem} ({}): validated records are never changed; correct them with a new record (ovn log --supersedes, ovn revert)",
                        kind.noun(),
                        c.path
                    ));
                }
            }
            RecordType::Agreement => out.push(format!(
                "{verb} agreement {stem}: this changes how validated work is paid"
            )),
            _ => {}
        }
    }
    Ok(out)
}

/// Approvals: who added them, and of whose contribution; each that does not count.
fn approval_violations(
    store: &Store,
    range: &Range,
    new: &Ledger,
) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    if new.approvals.is_empty() {
        return Ok(out);
    }
    let (fork_s, head_s) = (range.fork.id(), range.head.id());
    let authors = store.approval_authors(&head_s)?;
    // The base's agents: an email added in the change identifies nobody in it yet.
    let base_agents = agents_at(store, &fork_s)?;
    for a in &new.approvals {
        let Some(by) = authors.get(a.id.value.as_str()) else {
            continue;
        };
        let contribution = match new
            .contributions
            .iter()
            .find(|c| c.id.value == a.record.value)
        {
            Some(c) => Some(c.as_ref().clone()),
            None => contribution_at(store, &head_s, &a.record.value)?,
        };
        let Some(c) = contribution else {
            out.push(format!(
                "approval {} names unknown contribution {}",
                a.id.value, a.record.value
            ));
            continue;
        };
        // Signed in the record: the signature says who approved, not the commit.
        if let Some((signer, judged)) = ops::approvals::signed_by(store, &fork_s, a)? {
            let why = if judged != crate::core::validation::RecordSignature::Good {
                Some(judged.text(&signer))
            } else if signer == c.agent.value {
                Some(format!(
                    "self-approval: {signer} approved their own contribution"
                ))
            } else if write::contribution_digest(&c) != a.digest {
                Some(format!(
                    "it does not match contribution {} as it is now",
                    a.record.value
                ))
            } else {
                None
            };
            if let Some(why) = why {
                out.push(format!(
                    "approval {} of {}: {why}; it does not count",
                    a.id.value, a.record.value
                ));
            }
            continue;
        }
        match agent_by_email(&base_agents, &by.email) {
            None => out.push(format!(
                "approval {} of {} was added by <{}>, which no agent lists: it does not count",
                a.id.value, a.record.value, by.email
            )),
            Some(agent) if *agent == c.agent.value => out.push(format!(
                "self-approval: {agent} approved their own contribution {} (approval {}); it does not count",
                a.record.value, a.id.value
            )),
            Some(_) => {
                if write::contribution_digest(&c) != a.digest {
                    out.push(format!(
                        "approval {} does not match contribution {} as it is now: it does not count",
                        a.id.value, a.record.value
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// References of the new and changed records to records that do not exist at `head`, and
/// agents' unusual hours per day.
fn reference_violations(store: &Store, head: &str, new: &Ledger) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    let mut days: BTreeSet<(String, Id, chrono::NaiveDate)> = BTreeSet::new();
    for c in &new.contributions {
        let path = new.path(c.file).to_owned();
        for (field, kind, id) in [
            ("agent", RecordType::Agent, Some(&c.agent.value)),
            ("project", RecordType::Project, Some(&c.project.value)),
            (
                "resource",
                RecordType::Resource,
                c.resource.as_ref().map(|r| &r.value),
            ),
        ] {
            if let Some(id) = id
                && store
                    .read_file_at(head, &format!("{}/{id}.toml", kind.folder()))?
                    .is_none()
            {
                out.push(format!(
                    "{path}: `{field}` refers to unknown {} {id}",
                    kind.noun()
                ));
            }
        }
        for (field, target) in [("reverses", c.reverses()), ("supersedes", c.supersedes())] {
            if let Some(t) = target
                && !new.contributions.iter().any(|x| x.id.value == t.value)
                && store
                    .find_contribution_at(head, t.value.as_str())?
                    .is_none()
            {
                out.push(format!(
                    "{path}: `{field}` refers to unknown contribution {}",
                    t.value
                ));
            }
        }
        if c.hours.is_some() {
            let folder = path
                .rsplit_once('/')
                .map_or(String::new(), |(d, _)| d.to_owned());
            days.insert((folder, c.agent.value.clone(), c.date.value));
        }
    }
    // Hours after corrections, as `ovn check` counts them: a record reversed or superseded
    // (by the change, or by a record of its own day) no longer counts, nor does a reversal.
    let replaced = |day: &Ledger| -> BTreeSet<Id> {
        new.contributions
            .iter()
            .chain(&day.contributions)
            .flat_map(|c| c.reverses().into_iter().chain(c.supersedes()))
            .map(|r| r.value.clone())
            .collect()
    };
    for (folder, agent, date) in days {
        let day = load::part(store, head, &[Pick::Folder(&folder)])?;
        let gone = replaced(day.ledger());
        let total: Decimal = day
            .ledger()
            .contributions
            .iter()
            .filter(|c| c.agent.value == agent && c.reverses().is_none())
            .filter(|c| c.kind != crate::core::record::Kind::Use && !gone.contains(&c.id.value))
            .filter_map(|c| c.hours.as_ref().map(|h| h.value))
            .sum();
        if total > UNUSUAL_HOURS {
            out.push(format!(
                "{agent} has {} on {date}: more than 12 hours in a day is unusual",
                crate::core::duration::show(total)
            ));
        }
    }
    Ok(out)
}

/// The policy on payouts a change adds (`added` paths): each is computed at the tip of the
/// base it lands on (else it may miss what the base recorded or merged since), and none
/// forks its project's payout line at HEAD (two payouts computed without seeing each
/// other repay the same debts). Reads only HEAD's `payouts/` folder.
fn payout_violations(
    store: &Store,
    range: &Range,
    new: &Ledger,
    added: &[&str],
) -> Result<Vec<String>, CliError> {
    let (base, head) = (range.base.name(), range.head.id());
    let added: Vec<&PayoutRecord> = new
        .payouts
        .iter()
        .filter(|p| added.contains(&new.path(p.file)))
        .collect();
    if added.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let base_s = range.base.id();
    for p in &added {
        if p.commit != base_s {
            out.push(format!(
                "payout {} was computed at {}, not at the tip of {base} ({}) where it lands: it may repay what {base} has since repaid; record it again at the tip",
                p.id.value,
                &p.commit[..12.min(p.commit.len())],
                &base_s[..12]
            ));
        }
    }
    let at_head = load::part(store, &head, &[Pick::Tree(RecordType::Payout.folder())])?;
    let at_head = at_head.ledger();
    let mut projects: Vec<&Id> = added.iter().map(|p| &p.project.value).collect();
    projects.sort_unstable();
    projects.dedup();
    for project in projects {
        let heads = crate::core::chain::heads(at_head, project.as_str());
        if heads.len() > 1 {
            let ids: Vec<&str> = heads.iter().map(|p| p.id.value.as_str()).collect();
            out.push(format!(
                "the payouts of project {project} fork: {} were computed without seeing each other and repay the same debts (ovn check reports payout-fork; ovn payout reconcile joins them)",
                ids.join(" and ")
            ));
        }
    }
    Ok(out)
}

/// `BASE..HEAD` (HEAD may be left out: `main..`).
pub(super) fn parse_range(range: &str) -> Result<(String, String), CliError> {
    let bad = || {
        CliError::usage(
            format!("{range:?} is not a range"),
            Some("write BASE..HEAD, e.g. main..HEAD or origin/main..ana-week-47".to_owned()),
        )
    };
    if range.contains("...") {
        return Err(bad());
    }
    let (base, head) = range.split_once("..").ok_or_else(bad)?;
    if base.is_empty() || head.contains("..") {
        return Err(bad());
    }
    let head = if head.is_empty() { "HEAD" } else { head };
    Ok((base.to_owned(), head.to_owned()))
}

/// What a changed file is, in a few words.
fn describe(l: &Ledger, path: &str) -> String {
    let currency = l.network.as_ref().map_or("", |n| n.currency.as_str());
    if path == NETWORK_FILE {
        return "network settings".to_owned();
    }
    if let Some(c) = l.contributions.iter().find(|c| l.path(c.file) == path) {
        let mut t = super::log::summary(c, currency);
        if let Some(r) = c.reverses() {
            t = format!("reverses {}: {}", r.value, c.description);
        } else if let Some(s) = c.supersedes() {
            t.push_str(&format!(" (supersedes {})", s.value));
        }
        return t;
    }
    if let Some(a) = l.approvals.iter().find(|a| l.path(a.file) == path) {
        return format!("approval of {}", a.record.value);
    }
    if let Some(a) = l.agents.iter().find(|a| l.path(a.file) == path) {
        return format!("agent {} ({})", a.id.value, a.name);
    }
    if let Some(p) = l.projects.iter().find(|p| l.path(p.file) == path) {
        return format!("project {} ({})", p.id.value, p.name);
    }
    if let Some(r) = l.resources.iter().find(|r| l.path(r.file) == path) {
        return format!("resource {} ({})", r.id.value, r.name);
    }
    if let Some(a) = l.agreements.iter().find(|a| l.path(a.file) == path) {
        return format!("agreement {} ({})", a.id.value, a.name);
    }
    if let Some(p) = l.payouts.iter().find(|p| l.path(p.file) == path) {
        return format!(
            "payout {} of {} {} for {}",
            p.id.value, p.amount.value, p.currency, p.project.value
        );
    }
    if let Some(p) = l.payments.iter().find(|p| l.path(p.file) == path) {
        return format!(
            "payment {} {} {} of payout {} to {}",
            if p.refund { "refund of" } else { "of" },
            p.amount.value,
            p.currency,
            p.payout.value,
            p.agent.value
        );
    }
    if let Some(r) = l.rates.iter().find(|r| l.path(r.file) == path) {
        return format!(
            "exchange rate 1 {} = {} {} from {}",
            r.from.value, r.rate.value, r.to.value, r.date.value
        );
    }
    "(a file with problems; run ovn check)".to_owned()
}

/// The agents at a revision (their folder is small), to map approvers' emails.
fn agents_at(store: &Store, rev: &str) -> Result<Ledger, CliError> {
    let agents = load::part(store, rev, &[Pick::Folder(RecordType::Agent.folder())])?;
    Ok(agents.into_ledger())
}

/// One contribution at a revision, found by tree listings.
fn contribution_at(
    store: &Store,
    rev: &str,
    id: &Id,
) -> Result<Option<crate::core::record::Contribution>, CliError> {
    let Some(path) = store.find_contribution_at(rev, id.as_str())? else {
        return Ok(None);
    };
    let mut files = Vec::new();
    if let Some(bytes) = store.read_file_at(rev, &path)? {
        files.push(RawFile { path, bytes });
    }
    if let Some(bytes) = store.read_file_at(rev, NETWORK_FILE)? {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        });
    }
    Ok(load::files(&files)
        .into_ledger()
        .contributions
        .into_iter()
        .next()
        .map(|c| *c))
}

fn signed(d: Decimal, mu: u32) -> String {
    if d > Decimal::ZERO {
        format!("+{}", money(d, mu))
    } else {
        money(d, mu)
    }
}

fn text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Review of {}..{}", r.base, r.head);
    let sections = [
        ("Added", &r.added),
        ("Changed", &r.changed),
        ("Removed", &r.removed),
    ];
    if sections.iter().all(|(_, e)| e.is_empty()) {
        let _ = writeln!(s, "No ledger file changes.");
    }
    for (title, entries) in sections {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title} ({}):", entries.len());
        for e in entries {
            let _ = writeln!(s, "  {}  {}", escaped(&e.path), one_line(&e.about));
            for f in &e.fields {
                let _ = writeln!(
                    s,
                    "      {}: {} -> {}",
                    escaped(&f.field),
                    one_line(f.old.as_deref().unwrap_or("(none)")),
                    one_line(f.new.as_deref().unwrap_or("(none)"))
                );
            }
        }
    }
    s.push_str(&super::review_gov::text(&r.governance, &r.records));
    if r.violations.is_empty() {
        let _ = writeln!(s, "\nPolicy violations: none");
    } else {
        let _ = writeln!(s, "\nPolicy violations ({}):", r.violations.len());
        for v in &r.violations {
            let _ = writeln!(s, "  - {}", one_line(v));
        }
    }
    for i in &r.impact {
        match i.amount {
            Some(a) => {
                let _ = writeln!(
                    s,
                    "\nPayout impact on {} for {}:",
                    i.project,
                    money(a, r.minor_units)
                );
            }
            None => {
                let _ = writeln!(s, "\nPayout impact on {}:", i.project);
            }
        }
        if let Some(n) = &i.note {
            let _ = writeln!(s, "  not computed: {}", one_line(n));
        }
        if let Some(through) = through(i) {
            let _ = writeln!(s, "  {}", one_line(&through));
        }
        impact_table(&mut s, &i.agents, r.minor_units);
        if let Some(w) = &i.awaiting_approval {
            let _ = writeln!(s, "  {}; once approved:", awaiting_line(w));
            impact_table(&mut s, &w.agents, r.minor_units);
        }
    }
    s
}

/// For a project whose agreement pays projects, what its impact counts: every agent of
/// every level of the cascade.
fn through(i: &Impact) -> Option<String> {
    (!i.sub_projects.is_empty()).then(|| {
        format!(
            "through its cascade to {}: each agent's total over every level",
            i.sub_projects.join(", ")
        )
    })
}

/// Each agent's payout before and after, as an aligned table (nothing for no agent).
fn impact_table(s: &mut String, agents: &[review::AgentImpact], mu: u32) {
    if agents.is_empty() {
        return;
    }
    let width = agents
        .iter()
        .map(|a| a.agent.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "  {:<width$} {:>12} {:>12} {:>12}",
        "agent", "before", "after", "difference"
    );
    for a in agents {
        let _ = writeln!(
            s,
            "  {:<width$} {:>12} {:>12} {:>12}",
            a.agent,
            money(a.before, mu),
            money(a.after, mu),
            signed(a.difference, mu)
        );
    }
}

/// What awaits approval, in words: the first few ids and that they count for nothing yet.
fn awaiting_line(w: &ops::review::Awaiting) -> String {
    const SHOWN: usize = 3;
    let mut ids: Vec<String> = w.contributions.iter().take(SHOWN).cloned().collect();
    if w.contributions.len() > SHOWN {
        ids.push(format!("and {} more", w.contributions.len() - SHOWN));
    }
    let n = w.contributions.len();
    format!(
        "{n} contribution{} of this change await{} approval and count{} for nothing until approved ({})",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
        if n == 1 { "s" } else { "" },
        ids.join(", ")
    )
}

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### Ledger review: `{}..{}`\n", r.base, r.head);
    let _ = writeln!(
        s,
        "{} added, {} changed, {} removed; {} policy violation{}.\n",
        r.added.len(),
        r.changed.len(),
        r.removed.len(),
        r.violations.len(),
        if r.violations.len() == 1 { "" } else { "s" }
    );
    if !r.violations.is_empty() {
        let _ = writeln!(s, "#### Policy violations\n");
        for v in &r.violations {
            let _ = writeln!(s, "- :warning: {}", markdown::text(v));
        }
        s.push('\n');
    }
    s.push_str(&super::review_gov::markdown(&r.governance, &r.records));
    let entries: Vec<&Entry> = r.added.iter().chain(&r.changed).chain(&r.removed).collect();
    if !entries.is_empty() {
        let _ = writeln!(s, "#### Records\n\n| change | file | what |\n|---|---|---|");
        for e in &entries {
            let mut what = markdown::text(&e.about);
            for f in &e.fields {
                let _ = write!(
                    what,
                    "<br>{}: {} → {}",
                    markdown::code(&f.field),
                    markdown::text(f.old.as_deref().unwrap_or("(none)")),
                    markdown::text(f.new.as_deref().unwrap_or("(none)"))
                );
            }
            let _ = writeln!(s, "| {} | {} | {what} |", e.change, markdown::code(&e.path));
        }
        s.push('\n');
    }
    for i in &r.impact {
        let amount = i
            .amount
            .map(|a| format!(" for {}", money(a, r.minor_units)))
            .unwrap_or_default();
        let _ = writeln!(s, "#### Payout impact on `{}`{amount}\n", i.project);
        if let Some(n) = &i.note {
            let _ = writeln!(s, "Not computed: {}\n", markdown::text(n));
        }
        if let Some(through) = through(i) {
            let _ = writeln!(s, "{}\n", markdown::text(&through));
        }
        if !i.agents.is_empty() {
            let _ = writeln!(
                s,
                "| agent | before | after | difference |\n|---|--:|--:|--:|"
            );
            for a in &i.agents {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    a.agent,
                    money(a.before, r.minor_units),
                    money(a.after, r.minor_units),
                    signed(a.difference, r.minor_units)
                );
            }
            s.push('\n');
        }
        if let Some(w) = &i.awaiting_approval {
            let _ = writeln!(
                s,
                "{}; once approved:\n\n| agent | before | after | difference |\n|---|--:|--:|--:|",
                markdown::text(&awaiting_line(w))
            );
            for a in &w.agents {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    a.agent,
                    money(a.before, r.minor_units),
                    money(a.after, r.minor_units),
                    signed(a.difference, r.minor_units)
                );
            }
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("main..HEAD").unwrap(),
            ("main".into(), "HEAD".into())
        );
        assert_eq!(
            parse_range("main..").unwrap(),
            ("main".into(), "HEAD".into())
        );
        for bad in ["main", "..HEAD", "a...b", "a..b..c"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
