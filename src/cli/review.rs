//! `ovn review`: what a ledger change does, for the peers who validate it.
//!
//! The changed files are found by descending the two revisions' trees and skipping equal
//! subtree ids, and every policy check reads only the records it needs (a day folder, one
//! contribution), so a review follows the size of the change. Only the payout impact reads
//! both ledgers whole: a payout depends on every contribution of its project.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use clap::{Args, ValueEnum};
use git2::Oid;
use rust_decimal::Decimal;
use serde::Serialize;

use super::render::markdown;
use super::totals::{self, Totals};
use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::core::ledger::{self, Ledger, NETWORK_FILE, RawFile, RecordType, Role, classify};
use crate::core::payout::{self, Payout, Request, money};
use crate::core::record::PayoutRecord;
use crate::core::render::{escaped, one_line};
use crate::core::review::{self, AgentImpact, FieldChange};
use crate::core::validation::agent_by_email;
use crate::core::value::Id;
use crate::core::write;
use crate::store::{FileChange, Scope, Store};

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
/// by one agent on one day, a payout added that forks its project's payout line or was
/// computed at a commit other than the base's tip); and the payout impact: for each project whose contributions or
/// agreement the change touches, every agent's payout before and after the change and the
/// difference, for the revenue --amount (default: the amount of the project's last recorded
/// payout; a project with neither is named and skipped). The impact counts every merged
/// contribution, approvals aside: it shows what the change would do once validated.
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

/// The payout impact for one project.
#[derive(Clone, Debug, Serialize)]
struct Impact {
    project: String,
    amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    agents: Vec<AgentImpact>,
}

#[derive(Debug, Serialize)]
struct Report {
    base: String,
    head: String,
    added: Vec<Entry>,
    changed: Vec<Entry>,
    removed: Vec<Entry>,
    violations: Vec<String>,
    /// Governance changes, judged by the base's rules (`review_gov`).
    governance: Vec<crate::core::governance::Change>,
    /// The added records and who added them.
    records: Vec<super::review_gov::Authored>,
    impact: Vec<Impact>,
    #[serde(skip)]
    minor_units: u32,
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
        Report {
            base: one_line(&self.base),
            head: one_line(&self.head),
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
            impact: self.impact.clone(),
            minor_units: self.minor_units,
        }
    }
}

/// Runs `ovn review`.
///
/// Long because it still holds the review's rules (records added, changed and removed,
/// approvals, payouts, corrections) beside the loading; splitting them into a use case is
/// issue 16's work, done with the other commands'.
pub fn run(args: ReviewArgs, cwd: &Path, out: &mut impl Write) -> Result<u8, CliError> {
    let store = super::open(cwd)?;
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
    let (base, head) = match &args.range {
        Some(range) => parse_range(range)?,
        None => (super::payout::validated_branch(&store)?, "HEAD".to_owned()),
    };
    let head_id = store.resolve(&head)?.id();
    let base_id = store.resolve(&base)?.id();
    let Some(fork) = store.merge_base(&base, &head)? else {
        return Err(CliError::usage(
            format!("{base} and {head} share no history: there is nothing to compare"),
            Some("give a BASE that HEAD was branched from".to_owned()),
        ));
    };
    let fork_s = fork.to_string();
    let head_s = head_id.to_string();
    let validated = super::payout::validated_branch(&store).ok();

    let changes = store.changed_files(&fork_s, &head_s)?;
    let network_at = |rev: &str| -> Result<Option<RawFile>, CliError> {
        Ok(store.read_file_at(rev, NETWORK_FILE)?.map(|bytes| RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        }))
    };
    let side = |pick: fn(&FileChange) -> Option<&Vec<u8>>, rev: &str| -> Result<Ledger, CliError> {
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
        files.extend(network_at(rev)?);
        Ok(ledger::load(&files).ledger)
    };
    let old = side(|c| c.old.as_ref(), &fork_s)?;
    let new = side(|c| c.new.as_ref(), &head_s)?;
    let minor_units = new.network.as_ref().map_or(2, |n| n.minor_units);

    let mut report = Report {
        base: format!("{base} ({})", &fork_s[..12]),
        head: format!("{head} ({})", &head_s[..12]),
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        violations: Vec::new(),
        governance: Vec::new(),
        records: Vec::new(),
        impact: Vec::new(),
        minor_units,
    };
    if base_id != fork {
        report.base = format!("{base} (merge base {})", &fork_s[..12]);
    }

    let about = |ledger: &Ledger, path: &str| -> String { describe(ledger, path) };
    for c in &changes {
        let text =
            |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        match (text(&c.old), text(&c.new)) {
            (None, Some(_)) => report.added.push(Entry {
                change: "added",
                path: c.path.clone(),
                about: about(&new, &c.path),
                fields: Vec::new(),
            }),
            (Some(_), None) => report.removed.push(Entry {
                change: "removed",
                path: c.path.clone(),
                about: about(&old, &c.path),
                fields: Vec::new(),
            }),
            (Some(a), Some(b)) => report.changed.push(Entry {
                change: "changed",
                path: c.path.clone(),
                about: about(&new, &c.path),
                fields: review::field_changes(&a, &b),
            }),
            (None, None) => {}
        }
    }

    // Edits and deletions of validated records; changed agreements.
    for c in changes.iter().filter(|c| c.old.is_some()) {
        let Role::Record(kind, stem, _) = classify(&c.path) else {
            continue;
        };
        let verb = if c.new.is_some() { "edits" } else { "deletes" };
        match kind {
            RecordType::Contribution | RecordType::Payout | RecordType::Approval => {
                let on_validated = match &validated {
                    Some(v) => store.read_file_at(v, &c.path)?.as_ref() == c.old.as_ref(),
                    None => false,
                };
                if on_validated {
                    report.violations.push(format!(
                        "{verb} validated {} {stem} ({}): validated records are never changed; correct them with a new record (ovn log --supersedes, ovn revert)",
                        kind.noun(),
                        c.path
                    ));
                }
            }
            RecordType::Agreement => report.violations.push(format!(
                "{verb} agreement {stem}: this changes how validated work is paid"
            )),
            _ => {}
        }
    }

    // Approvals: who added them, and of whose contribution.
    if !new.approvals.is_empty() {
        let authors = store.approval_authors(&head_s)?;
        // The base's agents: an email added in the change identifies nobody in it yet.
        let head_ledger_agents = agents_at(&store, &fork_s)?;
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
                None => contribution_at(&store, &head_s, &a.record.value)?,
            };
            let Some(c) = contribution else {
                report.violations.push(format!(
                    "approval {} names unknown contribution {}",
                    a.id.value, a.record.value
                ));
                continue;
            };
            // Signed in the record: the signature says who approved, not the commit.
            if let Some((signer, judged)) = super::approve::signed_by(&store, &fork_s, a)? {
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
                    report.violations.push(format!(
                        "approval {} of {}: {why}; it does not count",
                        a.id.value, a.record.value
                    ));
                }
                continue;
            }
            match agent_by_email(&head_ledger_agents, &by.email) {
                None => report.violations.push(format!(
                    "approval {} of {} was added by <{}>, which no agent lists: it does not count",
                    a.id.value, a.record.value, by.email
                )),
                Some(agent) if *agent == c.agent.value => report.violations.push(format!(
                    "self-approval: {agent} approved their own contribution {} (approval {}); it does not count",
                    a.record.value, a.id.value
                )),
                Some(_) => {
                    if write::contribution_digest(&c) != a.digest {
                        report.violations.push(format!(
                            "approval {} does not match contribution {} as it is now: it does not count",
                            a.id.value, a.record.value
                        ));
                    }
                }
            }
        }
    }

    // Payouts added: computed at the tip they land on, and not forking their project's line.
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c.old.is_none() && c.new.is_some())
        .map(|c| c.path.as_str())
        .collect();
    report.violations.extend(payout_violations(
        &store, &base, base_id, &head_s, &new, &added,
    )?);

    // References of the new and changed records, and hours per day.
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
                    .read_file_at(&head_s, &format!("{}/{id}.toml", kind.folder()))?
                    .is_none()
            {
                report.violations.push(format!(
                    "{path}: `{field}` refers to unknown {} {id}",
                    kind.noun()
                ));
            }
        }
        for (field, target) in [("reverses", &c.reverses), ("supersedes", &c.supersedes)] {
            if let Some(t) = target
                && !new.contributions.iter().any(|x| x.id.value == t.value)
                && store
                    .find_contribution_at(&head_s, t.value.as_str())?
                    .is_none()
            {
                report.violations.push(format!(
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
    for (folder, agent, date) in days {
        let mut files = store.read_folder_at(&head_s, &folder)?;
        files.extend(network_at(&head_s)?);
        let day = ledger::load(&files).ledger;
        let total: Decimal = day
            .contributions
            .iter()
            .filter(|c| c.agent.value == agent && c.reverses.is_none())
            .filter_map(|c| c.hours.as_ref().map(|h| h.value))
            .sum();
        if total > UNUSUAL_HOURS {
            report.violations.push(format!(
                "{agent} has {} on {date}: more than 12 hours in a day is unusual",
                crate::core::duration::show(total)
            ));
        }
    }

    let found = super::review_gov::find(&store, fork, head_id, &changes, &old, &new)?;
    report.violations.extend(found.flags);
    report.governance = found.governance;
    report.records = found.records;

    if !args.no_impact {
        report.impact = impact(&store, &fork_s, &head_s, &old, &new, amount)?;
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

/// `BASE..HEAD` (HEAD may be left out: `main..`).
/// The policy on payouts a change adds (`added` paths): each is computed at the tip of the
/// base it lands on (else it may miss what the base recorded or merged since), and none
/// forks its project's payout line at HEAD (two payouts computed without seeing each
/// other repay the same debts). Reads only HEAD's `payouts/` folder.
fn payout_violations(
    store: &Store,
    base: &str,
    base_id: Oid,
    head: &str,
    new: &Ledger,
    added: &[&str],
) -> Result<Vec<String>, CliError> {
    let added: Vec<&PayoutRecord> = new
        .payouts
        .iter()
        .filter(|p| added.contains(&new.path(p.file)))
        .collect();
    if added.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let base_s = base_id.to_string();
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
    let mut files = store.read_tree_at(head, RecordType::Payout.folder())?;
    if let Some(bytes) = store.read_file_at(head, NETWORK_FILE)? {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        });
    }
    let at_head = ledger::load(&files).ledger;
    let mut projects: Vec<&Id> = added.iter().map(|p| &p.project.value).collect();
    projects.sort_unstable();
    projects.dedup();
    for project in projects {
        let heads = crate::core::chain::heads(&at_head, project.as_str());
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
        if let Some(r) = &c.reverses {
            t = format!("reverses {}: {}", r.value, c.description);
        } else if let Some(s) = &c.supersedes {
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
    "(a file with problems; run ovn check)".to_owned()
}

/// The agents at a revision (their folder is small), to map approvers' emails.
fn agents_at(store: &Store, rev: &str) -> Result<Ledger, CliError> {
    let mut files = store.read_folder_at(rev, RecordType::Agent.folder())?;
    if let Some(bytes) = store.read_file_at(rev, NETWORK_FILE)? {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        });
    }
    Ok(ledger::load(&files).ledger)
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
    Ok(ledger::load(&files)
        .ledger
        .contributions
        .into_iter()
        .next()
        .map(|c| *c))
}

/// Payouts before and after, per affected project.
///
/// Long because it plans the loads (kept totals, quick loads side by side, whole ledgers one at
/// a time) around one computation; issue 16 moves the planning into the store's load API.
fn impact(
    store: &Store,
    base: &str,
    head: &str,
    old: &Ledger,
    new: &Ledger,
    amount: Option<Decimal>,
) -> Result<Vec<Impact>, CliError> {
    let mut projects: BTreeSet<String> = BTreeSet::new();
    for l in [old, new] {
        projects.extend(l.contributions.iter().map(|c| c.project.value.to_string()));
    }
    let agreements: BTreeSet<String> = old
        .agreements
        .iter()
        .chain(&new.agreements)
        .map(|a| a.id.value.to_string())
        .collect();
    if projects.is_empty() && agreements.is_empty() {
        return Ok(Vec::new());
    }
    // When no agreement changed, the projects are known now, and only their contributions
    // need reading: both revisions are loaded quickly (from the folders' summaries), side by
    // side. A changed agreement may touch any project that uses it, which only the head's
    // projects can say; that, and anything a quick load cannot answer, loads in full, one
    // revision at a time so that at most one whole ledger is in memory. A revision whose
    // totals are all kept from an earlier review or payout (`totals.rs`) is not loaded.
    let named: Vec<String> = projects.iter().cloned().collect();
    let scoped: Vec<&str> = named.iter().map(String::as_str).collect();
    let (base_id, head_id) = (
        Oid::from_str(base).map_err(|e| CliError::usage(e.message().to_owned(), None))?,
        Oid::from_str(head).map_err(|e| CliError::usage(e.message().to_owned(), None))?,
    );
    // The amounts: --amount, or each project's last recorded payout at the head (its small
    // payouts/ folder read alone, so the base's kept totals can be looked up first).
    let looked_up: Option<Vec<Option<Decimal>>> = match amount {
        _ if !agreements.is_empty() => None,
        Some(a) => Some(named.iter().map(|_| Some(a)).collect()),
        None => {
            let mut files = store.read_tree_at(head, RecordType::Payout.folder())?;
            if let Some(bytes) = store.read_file_at(head, NETWORK_FILE)? {
                files.push(RawFile {
                    path: NETWORK_FILE.to_owned(),
                    bytes,
                });
            }
            let recorded = ledger::load(&files).ledger.payouts;
            Some(named.iter().map(|p| last_recorded(&recorded, p)).collect())
        }
    };
    // No amount for any project: nothing to pay out on either side, nothing to load.
    if looked_up
        .as_ref()
        .is_some_and(|l| l.iter().all(Option::is_none))
    {
        return Ok(named
            .into_iter()
            .map(|project| Impact {
                project,
                amount: None,
                note: Some(NO_AMOUNT.to_owned()),
                agents: Vec::new(),
            })
            .collect());
    }
    // A policy asking for approvals (in the files on either side, or in force at the base)
    // needs whole ledgers: approvals and statuses are not in a quick load.
    let asks = |l: &Ledger| {
        l.network
            .as_ref()
            .is_some_and(|n| n.validation.approvals > 0)
    };
    let approvals = asks(old)
        || asks(new)
        || super::effective::rules(store, base_id)?.is_some_and(|r| asks(&r));
    let kept_before: Option<Vec<Totals>> = looked_up.as_ref().and_then(|amounts| {
        named
            .iter()
            .zip(amounts)
            .map(|(p, a)| match a {
                Some(a) => totals::get(store, base_id, p, *a),
                None => Some(Ok(None)),
            })
            .collect()
    });
    let quick = if approvals {
        None
    } else if agreements.is_empty() && kept_before.is_none() {
        let other = store.reopen()?;
        let (after, before) = std::thread::scope(|scope| {
            let projects = &scoped;
            let before =
                scope.spawn(move || other.try_load_quickly(base, Scope::Projects(projects)));
            let after = store.try_load_quickly(head, Scope::Projects(&scoped));
            (after, before.join())
        });
        match (after?, before.unwrap_or(Ok(None))?) {
            (Some((after, _)), Some((before, _))) => Some((after, Some(before))),
            _ => None,
        }
    } else if agreements.is_empty() {
        store
            .try_load_quickly(head, Scope::Projects(&scoped))?
            .map(|(after, _)| (after, None))
    } else {
        None
    };
    let (after, mut before) = match quick {
        Some((after, before)) => (after, before),
        None => (store.load_revision(head)?.0, None),
    };
    for p in &after.ledger.projects {
        if p.agreement
            .as_ref()
            .is_some_and(|a| agreements.contains(a.value.as_str()))
        {
            projects.insert(p.id.value.to_string());
        }
    }
    let amounts: Vec<(String, Option<Decimal>)> = projects
        .into_iter()
        .map(|project| {
            let a = amount.or_else(|| last_recorded(&after.ledger.payouts, &project));
            (project, a)
        })
        .collect();
    // Kept totals only stand for the base if they are for these very amounts (the head's
    // payouts read in full say the same as read alone, unless they have problems).
    let same_amounts = looked_up.is_some_and(|l| {
        l.len() == amounts.len() && l.iter().zip(&amounts).all(|(a, (_, b))| a == b)
    });
    let kept_before = kept_before.filter(|_| same_amounts);
    // Under a policy asking for approvals, each side pays what `ovn payout` would pay there:
    // contributions still awaiting approval are left out (both ledgers are then whole).
    let unapproved = |at: Oid, loaded: &ledger::Loaded| -> Result<HashSet<Id>, CliError> {
        if approvals {
            super::payout::unapproved(store, &at.to_string(), &loaded.ledger)
        } else {
            Ok(HashSet::new())
        }
    };
    let payouts = |loaded: &ledger::Loaded, unapproved: &HashSet<Id>| -> Vec<Totals> {
        amounts
            .iter()
            .map(|(project, a)| match a {
                Some(a) => compute(loaded, unapproved, project, *a).map(|p| totals::of(p.as_ref())),
                None => Ok(None),
            })
            .collect()
    };
    // Kept for the next review on top of either revision.
    let keep = |at: Oid, worked_out: &[Totals]| {
        for ((project, a), t) in amounts.iter().zip(worked_out) {
            if let Some(a) = a {
                totals::put(store, at, project, *a, t);
            }
        }
    };
    let unapproved_after = unapproved(head_id, &after)?;
    let (payouts_after, payouts_before) = match &before {
        Some(before) => {
            let unapproved_before = unapproved(base_id, before)?;
            let (a, b) = rayon::join(
                || payouts(&after, &unapproved_after),
                || payouts(before, &unapproved_before),
            );
            keep(base_id, &b);
            (a, Some(b))
        }
        None => (payouts(&after, &unapproved_after), kept_before),
    };
    keep(head_id, &payouts_after);
    // Freed while the base loads (or the report is written), rather than before.
    super::discard(after);
    let payouts_before = match payouts_before {
        Some(kept) => kept,
        None => {
            let loaded = match before.take() {
                Some(before) => before,
                None => store.load_revision(base)?.0,
            };
            let worked_out = payouts(&loaded, &unapproved(base_id, &loaded)?);
            keep(base_id, &worked_out);
            before = Some(loaded);
            worked_out
        }
    };
    let mut payouts_before = payouts_before.into_iter();
    let mut out = Vec::new();
    for ((project, amount), after) in amounts.into_iter().zip(payouts_after) {
        let Some(amount) = amount else {
            out.push(Impact {
                project,
                amount: None,
                note: Some(NO_AMOUNT.to_owned()),
                agents: Vec::new(),
            });
            continue;
        };
        let before = payouts_before.next().unwrap_or(Ok(None));
        let (note, agents) = match (before, after) {
            (Ok(b), Ok(a)) => (None, review::impact(b.as_deref(), a.as_deref())),
            (Err(e), _) => (Some(format!("before: {e}")), Vec::new()),
            (_, Err(e)) => (Some(format!("after: {e}")), Vec::new()),
        };
        out.push(Impact {
            project,
            amount: Some(amount),
            note,
            agents,
        });
    }
    if let Some(before) = before {
        super::discard(before);
    }
    totals::prune(store);
    Ok(out)
}

/// Why a project's payout impact is not shown.
const NO_AMOUNT: &str = "no --amount given and no recorded payout to take it from";

/// The amount of `project`'s last recorded payout (by date, then id) among `payouts`.
fn last_recorded(payouts: &[PayoutRecord], project: &str) -> Option<Decimal> {
    payouts
        .iter()
        .filter(|p| p.project.value.as_str() == project)
        .max_by(|a, b| (a.date.value, &a.id.value).cmp(&(b.date.value, &b.id.value)))
        .map(|p| p.amount.value)
}

/// The payout of `amount` for `project` on a loaded ledger (none when the project does not
/// exist there), or why it cannot be computed.
fn compute(
    loaded: &ledger::Loaded,
    unapproved: &HashSet<Id>,
    project: &str,
    amount: Decimal,
) -> Result<Option<Payout>, String> {
    if !loaded.diagnostics.is_empty() {
        return Err(format!(
            "{} problem(s) in the ledger (run ovn check)",
            loaded.diagnostics.len()
        ));
    }
    if !loaded
        .ledger
        .projects
        .iter()
        .any(|p| p.id.value.as_str() == project)
    {
        return Ok(None);
    }
    let request = Request {
        project,
        amount,
        date: None,
    };
    let settled = payout::settled_by_records(&loaded.ledger);
    // Only the totals are compared: no explanations.
    payout::compute_with(
        &loaded.ledger,
        &request,
        &settled,
        payout::Options {
            brief: true,
            unapproved: Some(unapproved),
        },
    )
    .map(Some)
    .map_err(|e| e.to_string())
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
        if !i.agents.is_empty() {
            let width = i
                .agents
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
            for a in &i.agents {
                let _ = writeln!(
                    s,
                    "  {:<width$} {:>12} {:>12} {:>12}",
                    a.agent,
                    money(a.before, r.minor_units),
                    money(a.after, r.minor_units),
                    signed(a.difference, r.minor_units)
                );
            }
        }
    }
    s
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
