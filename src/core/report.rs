//! Reports: pure functions from a ledger and a query to a report value (the hledger way).
//!
//! Every report answers one question a member of the network asks — who contributed what,
//! who is owed what, where the money went, what the shared equipment earned — from a valid
//! ledger alone, with exact decimals. Rendering (tables, CSV, JSON, charts) is the CLI's job:
//! nothing here knows about terminals or formats. Every list is sorted, so the same ledger
//! gives the same report on every machine.
//!
//! The figures reuse the value equation engine ([`payout::claims`], [`payout::compute`]), so
//! a claim value in a report is exactly the value a payout would give that claim.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::ledger::{Ledger, holds};
use super::payout::{self, PayoutError, Request, Settled};
use super::record::{ClaimKind, Contribution, Kind, Ownership, Project};
use super::value::{Id, Percent};

/// Which records a report looks at. Empty lists mean "all".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only these projects.
    pub projects: Vec<Id>,
    /// Only these agents.
    pub agents: Vec<Id>,
    /// Only records dated on or after this day.
    pub since: Option<NaiveDate>,
    /// Only records dated on or before this day.
    pub until: Option<NaiveDate>,
}

impl Query {
    /// Whether a date is inside `since..=until`.
    pub fn dated(&self, date: NaiveDate) -> bool {
        self.since.is_none_or(|s| date >= s) && self.until.is_none_or(|u| date <= u)
    }

    /// Whether a project passes the filter.
    pub fn project(&self, id: &Id) -> bool {
        self.projects.is_empty() || self.projects.contains(id)
    }

    /// Whether an agent passes the filter.
    pub fn agent(&self, id: &Id) -> bool {
        self.agents.is_empty() || self.agents.contains(id)
    }

    /// Checks the query against the ledger: every named project and agent exists, and the
    /// date range is not inverted.
    pub fn validate(&self, ledger: &Ledger) -> Result<(), QueryError> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(QueryError::InvertedRange { since, until });
        }
        let projects: Vec<&str> = ledger
            .projects
            .iter()
            .map(|p| p.id.value.as_str())
            .collect();
        for p in &self.projects {
            if !projects.contains(&p.as_str()) {
                return Err(QueryError::Unknown {
                    what: "project",
                    id: p.to_string(),
                    suggestion: super::parse::suggest(p.as_str(), projects.iter().copied())
                        .map(str::to_owned),
                });
            }
        }
        let agents: Vec<&str> = ledger.agents.iter().map(|a| a.id.value.as_str()).collect();
        for a in &self.agents {
            if !agents.contains(&a.as_str()) {
                return Err(QueryError::Unknown {
                    what: "agent",
                    id: a.to_string(),
                    suggestion: super::parse::suggest(a.as_str(), agents.iter().copied())
                        .map(str::to_owned),
                });
            }
        }
        Ok(())
    }
}

/// Why a query cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `since` is after `until`.
    #[error("the date range is inverted: --since {since} is after --until {until}")]
    InvertedRange {
        /// The first day asked for.
        since: NaiveDate,
        /// The last day asked for.
        until: NaiveDate,
    },
    /// A filter names a record that does not exist.
    #[error("no {what} `{id}`{}", did_you_mean(.suggestion))]
    Unknown {
        /// `project` or `agent`.
        what: &'static str,
        /// The id asked for.
        id: String,
        /// The closest existing id.
        suggestion: Option<String>,
    },
}

/// A dimension contributions are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// The contributing agent (who logged it).
    Agent,
    /// The project.
    Project,
    /// The kind (work, money, material, use, ...).
    Kind,
    /// The skill (`-` when none).
    Skill,
    /// The month of its date (`2026-03`).
    Month,
}

impl Dimension {
    /// All dimensions, in the order `--by` documents them.
    pub const ALL: [Dimension; 5] = [
        Dimension::Agent,
        Dimension::Project,
        Dimension::Kind,
        Dimension::Skill,
        Dimension::Month,
    ];

    /// The word used on the command line and as a column name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Agent => "agent",
            Dimension::Project => "project",
            Dimension::Kind => "kind",
            Dimension::Skill => "skill",
            Dimension::Month => "month",
        }
    }

    /// Reads a dimension word.
    pub fn parse(word: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == word)
    }

    /// The contribution's group in this dimension, borrowed (reports count a million of them).
    fn part(self, c: &Contribution) -> Part<'_> {
        match self {
            Dimension::Agent => Part::Text(c.agent.value.as_str()),
            Dimension::Project => Part::Text(c.project.value.as_str()),
            Dimension::Kind => Part::Text(c.kind.as_str()),
            Dimension::Skill => Part::Text(c.skill.as_deref().unwrap_or("-")),
            Dimension::Month => Part::Month(c.date.value.with_day(1).unwrap_or(c.date.value)),
        }
    }
}

/// One dimension of a group's key, before it becomes the text a row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Part<'a> {
    Text(&'a str),
    /// The first day of the month.
    Month(NaiveDate),
}

impl Part<'_> {
    fn text(self) -> String {
        match self {
            Part::Text(s) => s.to_owned(),
            Part::Month(d) => d.format("%Y-%m").to_string(),
        }
    }
}

/// Sums over a group of contributions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// How many contributions.
    pub count: usize,
    /// Hours of people's time: every kind except `use`.
    pub hours: Decimal,
    /// Hours of use of resources (the resources' time, not the agent's).
    pub use_hours: Decimal,
    /// Amounts in the network currency (money, material and other kinds).
    pub amount: Decimal,
    /// Claim value under the project's agreement, summed over the buckets that select it.
    pub value: Decimal,
    /// Contributions whose amount is in another currency (not in `amount`).
    pub other_currency: usize,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.count += other.count;
        self.hours += other.hours;
        self.use_hours += other.use_hours;
        self.amount += other.amount;
        self.value += other.value;
        self.other_currency += other.other_currency;
    }
}

/// One group of `ovn report contributions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionRow {
    /// The group's key, one word per dimension of `by`.
    pub keys: Vec<String>,
    /// Its sums.
    pub totals: Totals,
    /// Its part of the total claim value (a fraction; `None` when nothing has a value).
    pub share: Option<Decimal>,
}

/// `ovn report contributions`: totals of contributions, grouped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionReport {
    /// The grouping dimensions, in order.
    pub by: Vec<Dimension>,
    /// The groups, sorted by key.
    pub rows: Vec<ContributionRow>,
    /// Sums over every row.
    pub total: Totals,
}

/// Totals of the contributions that `query` selects, grouped by `by` (no grouping: one row).
/// Reversed and superseded contributions and reversals do not count. A contribution's claim
/// value is the sum of the claims its project's agreement gives it (before any split).
///
/// Counted day folder by day folder ([`contributions_by_folder`]), then added up in path
/// order ([`merge_groups`]): the sums are added in the same order on every machine, and a
/// folder's groups can be kept and reused while the folder is unchanged.
pub fn contributions(
    ledger: &Ledger,
    query: &Query,
    by: &[Dimension],
) -> Result<ContributionReport, PayoutError> {
    let folders = contributions_by_folder(ledger, query, by, |_| true)?;
    Ok(merge_groups(by, folders.into_iter().map(|(_, g)| g)))
}

/// A day folder's groups: the sums by key (one word per dimension), sorted by key.
pub type Groups = Vec<(Vec<String>, Totals)>;

/// The groups of each day folder of the ledger that `wanted` accepts (by folder path), in
/// path order; see [`contributions`]. Every contribution of a wanted folder must be in the
/// ledger, and so must every correction, wherever it is (they decide what counts).
pub fn contributions_by_folder<'l>(
    ledger: &'l Ledger,
    query: &Query,
    by: &[Dimension],
    wanted: impl Fn(&str) -> bool + Sync,
) -> Result<Vec<(&'l str, Groups)>, PayoutError> {
    let currency = ledger.network.as_ref().map(|n| n.currency.as_str());
    let projects: Vec<&str> = ledger
        .projects
        .iter()
        .filter(|p| query.project(&p.id.value))
        .map(|p| p.id.value.as_str())
        .collect();
    let values = payout::contribution_values(ledger, &projects, None)?;
    let corrected = payout::corrected(ledger);
    let runs: Vec<(&str, std::ops::Range<usize>)> = folder_runs(ledger)
        .into_iter()
        .filter(|(folder, _)| wanted(folder))
        .collect();
    Ok(runs
        .into_par_iter()
        .map(|(folder, range)| {
            let mut groups: HashMap<Vec<Part<'_>>, Totals> = HashMap::default();
            let mut key: Vec<Part<'_>> = Vec::with_capacity(by.len());
            let cs = &ledger.contributions[range.clone()];
            for (c, value) in cs.iter().zip(&values[range]).filter(|(c, _)| {
                (corrected.is_empty() || !corrected.contains(&c.id.value))
                    && query.project(&c.project.value)
                    && query.agent(&c.agent.value)
                    && query.dated(c.date.value)
            }) {
                let mut t = Totals {
                    count: 1,
                    ..Totals::default()
                };
                if let Some(h) = &c.hours {
                    if c.kind == Kind::Use {
                        t.use_hours = h.value;
                    } else {
                        t.hours = h.value;
                    }
                }
                if let Some(a) = c.amount {
                    if c.currency().is_none() || c.currency() == currency {
                        t.amount = a;
                    } else {
                        t.other_currency = 1;
                    }
                }
                t.value = *value;
                key.clear();
                key.extend(by.iter().map(|d| d.part(c)));
                // A group is allocated once, when first seen.
                match groups.get_mut(key.as_slice()) {
                    Some(totals) => totals.add(&t),
                    None => {
                        groups.insert(key.clone(), t);
                    }
                }
            }
            let mut out: Groups = groups
                .into_iter()
                .map(|(key, totals)| (key.into_iter().map(Part::text).collect(), totals))
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            (folder, out)
        })
        .collect())
}

/// The day folders of the ledger's contributions (which are sorted by path), each with the
/// positions of its contributions. Found on all cores: a million boxed records are a
/// million cache misses, whatever is read of them.
pub(crate) fn folder_runs(ledger: &Ledger) -> Vec<(&str, std::ops::Range<usize>)> {
    const CHUNK: usize = 1 << 14;
    let chunks: Vec<Vec<(&str, std::ops::Range<usize>)>> = ledger
        .contributions
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(n, chunk)| {
            let mut runs: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
            for (k, c) in chunk.iter().enumerate() {
                let i = n * CHUNK + k;
                let folder = day_folder_of(ledger.path(c.file));
                match runs.last_mut() {
                    Some((f, range)) if *f == folder => range.end = i + 1,
                    _ => runs.push((folder, i..i + 1)),
                }
            }
            runs
        })
        .collect();
    let mut runs: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
    for chunk in chunks {
        for (folder, range) in chunk {
            match runs.last_mut() {
                Some((f, r)) if *f == folder => r.end = range.end,
                _ => runs.push((folder, range)),
            }
        }
    }
    runs
}

/// The folder a contribution's file is in: `contributions/<yyyy>/<mm>/<dd>`, the first 24
/// bytes of every contribution's path (the ledger refuses any other place).
pub fn day_folder_of(path: &str) -> &str {
    match path.get(..24) {
        Some(folder) if path.as_bytes().get(24) == Some(&b'/') && !holds(&path[25..], b'/') => {
            folder
        }
        _ => path.rsplit_once('/').map_or("", |(f, _)| f),
    }
}

/// Adds up the groups of day folders, in the order given, into the report: rows sorted by
/// key, each with its share of the total claim value.
pub fn merge_groups(
    by: &[Dimension],
    folders: impl IntoIterator<Item = Groups>,
) -> ContributionReport {
    // Hashed while adding up, sorted once at the end.
    let mut groups: HashMap<Vec<String>, Totals> = HashMap::default();
    for folder in folders {
        for (key, t) in folder {
            match groups.get_mut(&key) {
                Some(totals) => totals.add(&t),
                None => {
                    groups.insert(key, t);
                }
            }
        }
    }
    let mut groups: Vec<(Vec<String>, Totals)> = groups.into_iter().collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut total = Totals::default();
    for (_, t) in &groups {
        total.add(t);
    }
    let rows = groups
        .into_iter()
        .map(|(keys, totals)| ContributionRow {
            share: fraction(totals.value, total.value),
            keys,
            totals,
        })
        .collect();
    ContributionReport {
        by: by.to_vec(),
        rows,
        total,
    }
}

fn fraction(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| part / whole)
}

/// One agent's claims in one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRow {
    /// The project.
    pub project: Id,
    /// The agent holding the claims.
    pub agent: Id,
    /// Equity weight: the value of its equity claims.
    pub equity: Decimal,
    /// Its part of the project's equity weight (a fraction; `None` when the project has none).
    pub equity_share: Option<Decimal>,
    /// What its debt claims repay in all (value × cap).
    pub debt_owed: Decimal,
    /// What recorded payouts repaid on them.
    pub debt_repaid: Decimal,
    /// What is still owed.
    pub debt_outstanding: Decimal,
    /// Value of once claims no recorded payout has paid yet.
    pub once_pending: Decimal,
    /// What a payout of the requested amount would pay it (`None` without an amount).
    pub next: Option<Decimal>,
}

impl ClaimRow {
    fn new(project: &Id, agent: &Id) -> ClaimRow {
        ClaimRow {
            project: project.clone(),
            agent: agent.clone(),
            equity: Decimal::ZERO,
            equity_share: None,
            debt_owed: Decimal::ZERO,
            debt_repaid: Decimal::ZERO,
            debt_outstanding: Decimal::ZERO,
            once_pending: Decimal::ZERO,
            next: None,
        }
    }
}

/// The columns of the claims report, each with whether it is a number (right-aligned), as
/// `ovn report claims` and the site both show them.
pub const CLAIM_COLUMNS: [(&str, bool); 8] = [
    ("project", false),
    ("agent", false),
    ("equity", true),
    ("equity share", true),
    ("debt owed", true),
    ("debt repaid", true),
    ("debt outstanding", true),
    ("once pending", true),
];

/// `ovn report claims`: who is owed what, per project and agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimsReport {
    /// Rows sorted by project, then agent.
    pub rows: Vec<ClaimRow>,
    /// The payouts a revenue of the requested amount would make, one per project: brief
    /// ([`payout::Options::brief`]), their totals those of the full payout.
    pub next: Vec<payout::Payout>,
    /// Payments recorded on contributions of the projects reported that were corrected
    /// since: where each counts now, and those a reversal left over-repaid.
    pub corrected: Vec<payout::PaidBeforeCorrection>,
}

/// The claims that the contributions selected by `query` (by project and contribution date)
/// hold, per project and agent; rows are kept for the agents `query` names. With `amount`,
/// also what a payout of that amount (dated `query.until`, if given) would pay in each project,
/// exactly as `ovn payout` computes it.
///
/// Counted day folder by day folder ([`claims_by_folder`]), then added up in path order
/// ([`claims_from`]), as [`contributions`] is: a folder's sums can be kept and reused while
/// the folder is unchanged, and are added in the same order either way.
pub fn claims(
    ledger: &Ledger,
    query: &Query,
    amount: Option<Decimal>,
) -> Result<ClaimsReport, PayoutError> {
    // The claims summed and the payout previews worked out side by side: each walks the
    // project's claims on one core (a report of one project's claims with `--amount` waited
    // on both in turn, about 0.1 s at a million records).
    let settled = payout::settled_by_records(ledger);
    let (folders, previews) = rayon::join(
        || claims_by_folder(ledger, query, |_| true),
        || previews(ledger, query, amount, &settled),
    );
    let sums = sum_folders(folders?.into_iter().map(|(_, g)| g));
    claims_with_previews(ledger, query, &sums, previews?, &settled)
}

/// What one agent's claims in one project add up to (the report keeps them per day folder).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimSums {
    /// Value of the equity claims.
    pub equity: Decimal,
    /// What the debt claims repay in all.
    pub debt_owed: Decimal,
    /// What recorded payouts repaid on them.
    pub debt_repaid: Decimal,
    /// What is still owed on them.
    pub debt_outstanding: Decimal,
    /// Value of the once claims no recorded payout has paid.
    pub once_pending: Decimal,
}

impl ClaimSums {
    /// The five figures in the order the caches write them: equity, debt owed, debt repaid,
    /// debt outstanding, once pending.
    pub fn figures(&self) -> [Decimal; 5] {
        [
            self.equity,
            self.debt_owed,
            self.debt_repaid,
            self.debt_outstanding,
            self.once_pending,
        ]
    }

    /// Adds one claim: an equity claim its value, a debt what it owes (its capped value),
    /// what payouts repaid and what is left, a once claim its value while unpaid. The report
    /// and the site count claims through this one rule, so they cannot disagree.
    pub fn count(&mut self, c: &payout::Claim) {
        match c.kind {
            ClaimKind::Equity => self.equity += c.value,
            ClaimKind::Debt => {
                let owed = c.owed.unwrap_or(c.value);
                self.debt_owed += owed;
                self.debt_repaid += c.paid;
                self.debt_outstanding += (owed - c.paid).max(Decimal::ZERO);
            }
            ClaimKind::Once => {
                if c.paid.is_zero() {
                    self.once_pending += c.value;
                }
            }
        }
    }

    /// Adds another agent's (or day folder's) sums to these.
    pub fn add(&mut self, other: &ClaimSums) {
        self.equity += other.equity;
        self.debt_owed += other.debt_owed;
        self.debt_repaid += other.debt_repaid;
        self.debt_outstanding += other.debt_outstanding;
        self.once_pending += other.once_pending;
    }
}

/// A day folder's claims while they are counted: the sums by the project's place among
/// those asked and the agent.
type FolderClaims<'l> = HashMap<(usize, &'l Id), ClaimSums>;

/// A day folder's claims: the sums by project and agent (every agent, whatever the query
/// names: a project's equity share is of all its agents), sorted by project, then agent.
pub type ClaimGroups = Vec<(Id, Id, ClaimSums)>;

/// The claims of each day folder of the ledger that `wanted` accepts (by folder path), in
/// path order; see [`claims`]. Every contribution of a wanted folder must be in the ledger,
/// and so must every correction, wherever it is (they decide what counts and who was paid).
pub fn claims_by_folder<'l>(
    ledger: &'l Ledger,
    query: &Query,
    wanted: impl Fn(&str) -> bool + Sync,
) -> Result<Vec<(&'l str, ClaimGroups)>, PayoutError> {
    let settled = payout::settled_by_records(ledger);
    // The wanted day folders and where their contributions are in the ledger: a claim finds
    // its folder by its contribution's position (a map by id cost a hash of every id).
    let runs: Vec<(&str, std::ops::Range<usize>)> = folder_runs(ledger)
        .into_iter()
        .filter(|(folder, _)| wanted(folder))
        .collect();
    // Each wanted folder's sums, found by the run a claim's contribution is in rather than by
    // the folder's name (a hash of it a claim); a folder in two runs, should the ledger not
    // be in path order, has one.
    let mut slot_of: HashMap<&str, usize> = HashMap::default();
    let slots: Vec<usize> = runs
        .iter()
        .map(|(folder, _)| {
            let next = slot_of.len();
            *slot_of.entry(folder).or_insert(next)
        })
        .collect();
    let mut folders: Vec<(&str, FolderClaims)> = vec![Default::default(); slot_of.len()];
    for (folder, slot) in slot_of {
        folders[slot].0 = folder;
    }
    let place = |position: usize| -> Option<(NaiveDate, usize)> {
        let n = runs.partition_point(|(_, range)| range.end <= position);
        let (_, range) = runs.get(n)?;
        let c = ledger.contributions.get(position)?;
        range
            .contains(&position)
            .then_some((c.date.value, slots[n]))
    };
    let found: Vec<&Id> = ledger
        .projects
        .iter()
        .filter(|p| query.project(&p.id.value))
        .map(|p| &p.id.value)
        .collect();
    let projects: Vec<&str> = found.iter().map(|p| p.as_str()).collect();
    payout::for_each_claims(
        ledger,
        &projects,
        query.until,
        &settled,
        |i, project_claims| {
            for c in project_claims {
                let Some((date, slot)) = place(c.position) else {
                    continue;
                };
                if !query.dated(date) {
                    continue;
                }
                // Hashed while counting (a claim each), sorted once at the end.
                let sums = folders[slot].1.entry((i, c.agent)).or_default();
                sums.count(&c);
            }
            Ok(())
        },
    )?;
    // Every folder counted has its part, if only an empty one: a folder without a claim of
    // the projects asked is then kept as such, not counted again by every report.
    folders.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Ok(folders
        .into_iter()
        .map(|(folder, sums)| {
            let mut sums: Vec<((usize, &Id), ClaimSums)> = sums.into_iter().collect();
            sums.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let groups = sums
                .into_iter()
                .map(|((i, agent), s)| (found[i].clone(), agent.clone(), s))
                .collect();
            (folder, groups)
        })
        .collect())
}

/// The claims report from the claims of day folders (in path order; see
/// [`claims_by_folder`]). With `amount`, the ledger must hold every contribution of the
/// projects `query` selects (a payout of them is worked out); without, only what every
/// report reads (projects, payouts, and every correction).
pub fn claims_from(
    ledger: &Ledger,
    query: &Query,
    amount: Option<Decimal>,
    folders: impl IntoIterator<Item = ClaimGroups>,
) -> Result<ClaimsReport, PayoutError> {
    claims_from_totals(ledger, query, amount, &sum_folders(folders))
}

/// The claims of day folders summed by project and agent.
fn sum_folders(folders: impl IntoIterator<Item = ClaimGroups>) -> ClaimTotals {
    let mut sums = ClaimTotals::default();
    for folder in folders {
        for (project, agent, s) in folder {
            let agents = sums.entry(project).or_default();
            match agents.get_mut(&agent) {
                Some(total) => total.add(&s),
                None => {
                    agents.insert(agent, s);
                }
            }
        }
    }
    sums
}

/// The claims of day folders summed by project and agent (see [`claims_from`]).
pub type ClaimTotals = HashMap<Id, BTreeMap<Id, ClaimSums>>;

/// [`claims_from`] with the folders' claims summed already.
pub fn claims_from_totals(
    ledger: &Ledger,
    query: &Query,
    amount: Option<Decimal>,
    sums: &ClaimTotals,
) -> Result<ClaimsReport, PayoutError> {
    let settled = payout::settled_by_records(ledger);
    let previews = previews(ledger, query, amount, &settled)?;
    claims_with_previews(ledger, query, sums, previews, &settled)
}

/// The projects `query` selects, in the ledger's order.
fn selected<'l>(ledger: &'l Ledger, query: &Query) -> Vec<&'l Project> {
    ledger
        .projects
        .iter()
        .filter(|p| query.project(&p.id.value))
        .collect()
}

/// With `amount`, the payout of that revenue for each project `query` selects (in the
/// ledger's order) after what recorded payouts `settled`, brief: only each agent's total is
/// shown; without, none.
fn previews(
    ledger: &Ledger,
    query: &Query,
    amount: Option<Decimal>,
    settled: &[Settled],
) -> Result<Vec<payout::Payout>, PayoutError> {
    let Some(amount) = amount else {
        return Ok(Vec::new());
    };
    selected(ledger, query)
        .iter()
        .map(|p| {
            let request = Request {
                project: p.id.value.as_str(),
                amount,
                date: query.until,
            };
            let options = payout::Options {
                brief: true,
                ..Default::default()
            };
            payout::compute_with(ledger, &request, settled, options)
        })
        .collect()
}

/// [`claims_from_totals`] with the payout previews worked out already (one a selected
/// project, or none) after what recorded payouts `settled`.
fn claims_with_previews(
    ledger: &Ledger,
    query: &Query,
    sums: &ClaimTotals,
    previews: Vec<payout::Payout>,
    settled: &[Settled],
) -> Result<ClaimsReport, PayoutError> {
    let mut previews = previews.into_iter();
    let mut rows = Vec::new();
    let mut next = Vec::new();
    let projects = selected(ledger, query);
    let ids: Vec<&str> = projects.iter().map(|p| p.id.value.as_str()).collect();
    for p in &projects {
        let mut by_agent: BTreeMap<Id, ClaimRow> = BTreeMap::new();
        for (agent, s) in sums.get(&p.id.value).into_iter().flatten() {
            let mut row = ClaimRow::new(&p.id.value, agent);
            row.equity = s.equity;
            row.debt_owed = s.debt_owed;
            row.debt_repaid = s.debt_repaid;
            row.debt_outstanding = s.debt_outstanding;
            row.once_pending = s.once_pending;
            by_agent.insert(agent.clone(), row);
        }
        let payout = previews.next();
        if let Some(payout) = &payout {
            for (agent, _) in &payout.totals {
                by_agent
                    .entry(agent.clone())
                    .or_insert_with(|| ClaimRow::new(&p.id.value, agent));
            }
        }
        let equity: Decimal = by_agent.values().map(|r| r.equity).sum();
        for (agent, mut row) in by_agent {
            row.equity_share = fraction(row.equity, equity);
            if let Some(payout) = &payout {
                row.next = Some(
                    payout
                        .totals
                        .iter()
                        .find(|(a, _)| *a == agent)
                        .map_or(Decimal::ZERO, |(_, v)| *v),
                );
            }
            if query.agent(&agent) {
                rows.push(row);
            }
        }
        next.extend(payout);
    }
    let mut corrected = payout::paid_before_corrections(ledger, settled);
    corrected.retain(|c| ids.contains(&c.project.as_str()));
    Ok(ClaimsReport {
        rows,
        next,
        corrected,
    })
}

/// One recorded payout, as the payouts report lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRow {
    /// The payout record's id.
    pub id: Id,
    /// The day of the revenue event.
    pub date: NaiveDate,
    /// The project.
    pub project: Id,
    /// The agreement applied.
    pub agreement: Id,
    /// The revenue amount.
    pub amount: Decimal,
    /// Its memo.
    pub memo: Option<String>,
    /// The ledger commit it was computed at.
    pub commit: String,
    /// What it paid the agents the query names (all agents: the whole amount).
    pub to_agents: Decimal,
}

/// One agent's payments to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidToDate {
    /// The agent.
    pub agent: Id,
    /// In how many payouts it was paid.
    pub payouts: usize,
    /// How much in all.
    pub amount: Decimal,
    /// Its part of everything paid in the report (a fraction).
    pub share: Option<Decimal>,
}

/// `ovn report payouts`: the history of recorded payouts and each agent's paid-to-date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutsReport {
    /// Payouts by date, then id.
    pub payouts: Vec<PayoutRow>,
    /// Agents by id.
    pub paid: Vec<PaidToDate>,
    /// Revenue of the payouts listed.
    pub total: Decimal,
}

/// The recorded payouts `query` selects (by project, date, and — with agents — those that
/// paid one of them), and what each agent received in them.
pub fn payouts(ledger: &Ledger, query: &Query) -> PayoutsReport {
    let mut rows = Vec::new();
    let mut shares: Vec<(Id, Id)> = Vec::new();
    let mut paid: BTreeMap<Id, (BTreeSet<&Id>, Decimal)> = BTreeMap::new();
    for p in ledger.payouts.iter().filter(|p| {
        query.project(&p.project.value)
            && query.dated(p.date.value)
            && (query.agents.is_empty() || p.lines.iter().any(|l| query.agent(&l.agent.value)))
    }) {
        let mut to_agents = Decimal::ZERO;
        // A line paying a project is not paid to an agent: its sub-payout's lines are.
        for l in p
            .lines
            .iter()
            .filter(|l| l.project.is_none() && query.agent(&l.agent.value))
        {
            let e = paid.entry(l.agent.value.clone()).or_default();
            e.0.insert(&p.id.value);
            e.1 += l.amount;
            to_agents += l.amount;
        }
        if let Some(parent) = &p.parent {
            shares.push((p.id.value.clone(), parent.payout.value.clone()));
        }
        rows.push(PayoutRow {
            id: p.id.value.clone(),
            date: p.date.value,
            project: p.project.value.clone(),
            agreement: p.agreement.value.clone(),
            amount: p.amount.value,
            memo: p.memo.clone(),
            commit: p.commit.clone(),
            to_agents,
        });
    }
    rows.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let all: Decimal = paid.values().map(|v| v.1).sum();
    // A sub-payout listed with its parent shares revenue the parent already counts.
    let listed: BTreeSet<&Id> = rows.iter().map(|r| &r.id).collect();
    let counted_in_parent: BTreeSet<&Id> = shares
        .iter()
        .filter(|(_, parent)| listed.contains(parent))
        .map(|(id, _)| id)
        .collect();
    PayoutsReport {
        total: rows
            .iter()
            .filter(|r| !counted_in_parent.contains(&r.id))
            .map(|r| r.amount)
            .sum(),
        payouts: rows,
        paid: paid
            .into_iter()
            .map(|(agent, (ids, amount))| PaidToDate {
                agent,
                payouts: ids.len(),
                amount,
                share: fraction(amount, all),
            })
            .collect(),
    }
}

/// Use of a resource by one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceUse {
    /// The project.
    pub project: Id,
    /// Hours of use.
    pub hours: Decimal,
    /// Hours × the resource's use rate (`None` without a use rate).
    pub value: Option<Decimal>,
}

/// One resource in `ovn report resources`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRow {
    /// Its id.
    pub id: Id,
    /// Its name.
    pub name: String,
    /// How it is held.
    pub ownership: Ownership,
    /// Owners and shares.
    pub owners: Vec<(Id, Percent)>,
    /// Stewards.
    pub stewards: Vec<Id>,
    /// Value of an hour of use.
    pub use_rate: Option<Decimal>,
    /// Use by project, sorted by project.
    pub uses: Vec<ResourceUse>,
    /// Hours of use in all.
    pub hours: Decimal,
    /// Value its use earned in all (`None` without a use rate).
    pub value: Option<Decimal>,
}

/// `ovn report resources`: each resource's holders and the use projects made of it.
/// Projects and dates filter the use contributions; agents keep the resources they own or
/// steward. Reversed and superseded uses do not count. The hours are added up day folder
/// by day folder ([`resources_by_folder`]) and the folders added up ([`merge_uses`]), so
/// the report the cache puts together from kept parts is this one.
pub fn resources(ledger: &Ledger, query: &Query) -> Vec<ResourceRow> {
    let folders = resources_by_folder(ledger, query, |_| true);
    resources_from_uses(ledger, query, &merge_uses(folders.into_iter().map(|f| f.1)))
}

/// One day folder's hours of use, by resource and project (sorted by both).
pub type UseHours = Vec<(Id, Id, Decimal)>;

/// Hours of use by resource, then by project.
pub type Uses = BTreeMap<Id, BTreeMap<Id, Decimal>>;

/// The hours of use in each day folder `wanted` says, of the use contributions `query`
/// selects (by project and date; reversed and superseded ones aside), in path order.
pub fn resources_by_folder<'l>(
    ledger: &'l Ledger,
    query: &Query,
    wanted: impl Fn(&str) -> bool + Sync,
) -> Vec<(&'l str, UseHours)> {
    let corrected = payout::corrected(ledger);
    let runs: Vec<(&str, std::ops::Range<usize>)> = folder_runs(ledger)
        .into_iter()
        .filter(|(folder, _)| wanted(folder))
        .collect();
    runs.into_par_iter()
        .map(|(folder, range)| {
            let mut hours: BTreeMap<(&Id, &Id), Decimal> = BTreeMap::new();
            for c in &ledger.contributions[range] {
                if c.kind != Kind::Use
                    || !query.project(&c.project.value)
                    || !query.dated(c.date.value)
                    || (!corrected.is_empty() && corrected.contains(&c.id.value))
                {
                    continue;
                }
                if let (Some(r), Some(h)) = (&c.resource, &c.hours) {
                    *hours.entry((&r.value, &c.project.value)).or_default() += h.value;
                }
            }
            let hours = hours
                .into_iter()
                .map(|((r, p), h)| (r.clone(), p.clone(), h))
                .collect();
            (folder, hours)
        })
        .collect()
}

/// Adds up the hours of use of day folders, in the order given.
pub fn merge_uses(folders: impl IntoIterator<Item = UseHours>) -> Uses {
    let mut uses = Uses::new();
    for folder in folders {
        for (resource, project, h) in folder {
            *uses
                .entry(resource)
                .or_default()
                .entry(project)
                .or_default() += h;
        }
    }
    uses
}

/// The rows of [`resources`] from the hours of use added up ([`merge_uses`]).
pub fn resources_from_uses(ledger: &Ledger, query: &Query, uses: &Uses) -> Vec<ResourceRow> {
    resources_from(ledger, query, |id| {
        uses.get(id)
            .into_iter()
            .flatten()
            .map(|(project, h)| (project.clone(), *h))
            .collect()
    })
}

/// The rows of [`resources`] from the hours of use already added up: `uses` gives a
/// resource's hours by project (sorted by project) of the use contributions `query`
/// selects, reversed and superseded ones aside (the site adds them up day folder by day
/// folder).
pub fn resources_from(
    ledger: &Ledger,
    query: &Query,
    uses: impl Fn(&str) -> Vec<(Id, Decimal)>,
) -> Vec<ResourceRow> {
    ledger
        .resources
        .iter()
        .filter(|r| {
            query.agents.is_empty()
                || r.owners.iter().any(|o| query.agent(&o.agent.value))
                || r.stewards.iter().any(|s| query.agent(&s.value))
        })
        .map(|r| {
            let uses: Vec<ResourceUse> = uses(r.id.value.as_str())
                .into_iter()
                .map(|(project, h)| ResourceUse {
                    project,
                    hours: h,
                    value: r.use_rate.map(|rate| h * rate),
                })
                .collect();
            let total: Decimal = uses.iter().map(|u| u.hours).sum();
            ResourceRow {
                id: r.id.value.clone(),
                name: r.name.clone(),
                ownership: r.ownership,
                owners: r
                    .owners
                    .iter()
                    .map(|o| (o.agent.value.clone(), o.share.value))
                    .collect(),
                stewards: r.stewards.iter().map(|s| s.value.clone()).collect(),
                use_rate: r.use_rate,
                hours: total,
                value: r.use_rate.map(|rate| total * rate),
                uses,
            }
        })
        .collect()
}

/// The ` (did you mean `x`?)` after an unknown id, when a close one exists.
pub(crate) fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}
