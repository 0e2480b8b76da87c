//! The figures of the transparency site (`ovn site`): one pass over a valid ledger that gives
//! every number the page shows, and the plain-language account of each value equation.
//!
//! The page is read by members, not auditors, so it must not show two numbers under one word.
//! Its one notion of **share** is the part of a project's equity claims an agent holds:
//! the claim values the project's value equation gives in its equity buckets, with the use of
//! a resource credited to the resource's owners (as every payout credits it). That is the
//! part of an equity bucket each payout pays the agent, before rounding. Debts and once claims
//! are not shares: they are owed back, and listed beside. Everything here counts only what is
//! validated: a contribution merged but awaiting approvals is listed apart, with what it
//! lacks, and left out of every figure, exactly as a payout leaves it out. What a payout owes
//! a member, what payment records paid and what is outstanding are the payment module's line
//! balances, summed, never computed a second way.
//!
//! Nothing here formats HTML: the command line escapes and lays out. Every list is sorted
//! (members by name, then id; months and projects by key), so the same commit gives the same
//! page on every machine.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use rustc_hash::FxHashMap;

use super::ledger::Ledger;
use super::payment;
use super::payout::{self, PayoutError};
use super::record::{Agreement, Base, Budget, ClaimKind, Contribution, Kind, Rule};
use super::report::{self, ClaimSums};
use super::validation::Status;
use super::value::Id;

/// What the page says a share is; shown on it, so the definition and the figures never part.
pub const SHARE_DEFINITION: &str = "A member's share of a project is their part of the project's equity claims: the claim value its value equation gives, in its equity buckets, to their validated work and other contributions, with the use of a resource credited to the resource's owners (to the network's fund for a commons). It is the part of each equity bucket a payout pays them, before rounding to the cent. Debts (money and materials reimbursed) and once claims are not shares: they are owed back, and shown beside.";

/// Sums of contributions over a month, or over all time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// How many contributions.
    pub count: usize,
    /// Hours of people's time (every kind but `use`).
    pub hours: Decimal,
    /// Amounts in the network currency.
    pub amount: Decimal,
    /// Claim value of the contributions (all kinds of claim; use credited to owners).
    pub value: Decimal,
}

/// One agent's claims in one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    /// The project.
    pub project: Id,
    /// The agent.
    pub agent: Id,
    /// Value of its equity claims.
    pub equity: Decimal,
    /// Its share: its part of the project's equity claims (`None` when there are none).
    pub share: Option<Decimal>,
    /// What its debt claims repay in all (value × cap).
    pub debt_owed: Decimal,
    /// What recorded payouts set against them.
    pub debt_settled: Decimal,
    /// What is still owed on them.
    pub debt_outstanding: Decimal,
    /// Value of once claims no recorded payout has paid yet.
    pub once_pending: Decimal,
}

/// One month of a member's record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberMonth {
    /// The contributions they logged in the month.
    pub logged: Sums,
    /// Value of the claims they hold from contributions dated in the month (use of their
    /// resources by others included).
    pub claims: Decimal,
    /// What recorded payouts dated in the month owe them.
    pub owed: Decimal,
}

/// A payout line owed to a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owed {
    /// The payout record.
    pub payout: Id,
    /// Its date.
    pub date: NaiveDate,
    /// Its project.
    pub project: Id,
    /// What it owes the member, over all its lines.
    pub amount: Decimal,
    /// What payment records paid on those lines, refunds deducted.
    pub paid: Decimal,
}

impl Owed {
    /// `amount - paid`: what is still to pay (negative when overpaid).
    pub fn outstanding(&self) -> Decimal {
        self.amount - self.paid
    }
}

/// Everything the page says of one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The agent id.
    pub agent: Id,
    /// Its name.
    pub name: String,
    /// What they logged, in all.
    pub logged: Sums,
    /// Their claims, one row a project where they hold any.
    pub holdings: Vec<Holding>,
    /// By month (the page's months, every one present).
    pub months: BTreeMap<String, MemberMonth>,
    /// What recorded payouts owe them, by date then payout id.
    pub owed: Vec<Owed>,
    /// How many of their contributions await approval.
    pub awaiting: usize,
}

/// A contribution merged but awaiting approvals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Its position in `ledger.contributions`.
    pub position: usize,
    /// What it lacks, in words.
    pub lacks: String,
}

/// Everything the page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Contributions by month (`YYYY-MM`), every month from the first to the last.
    pub months: Vec<(String, Sums)>,
    /// Sums over every month.
    pub total: Sums,
    /// Claims per project (in ledger order), members by name then id.
    pub projects: Vec<(Id, Vec<Holding>)>,
    /// Every agent, by name then id.
    pub members: Vec<Member>,
    /// Contributions awaiting approval, by date then id.
    pub waiting: Vec<Waiting>,
    /// The resources, with their use (as `ovn report resources` gives them).
    pub resources: Vec<report::ResourceRow>,
}

/// What a contribution that awaits approval lacks, in words.
pub fn lacks(status: &Status) -> String {
    match status {
        Status::AwaitingApproval {
            have,
            need,
            steward_missing,
        } => {
            let more = need.saturating_sub(*have);
            let mut t = match more {
                0 => String::new(),
                1 => "1 more approval by someone other than its contributor".to_owned(),
                n => format!("{n} more approvals by people other than its contributor"),
            };
            if *steward_missing {
                if !t.is_empty() {
                    t.push_str(", and ");
                }
                t.push_str("an approval by a steward of its project");
            }
            format!("{t} (has {have} of {need})")
        }
        other => other.text(),
    }
}

fn month(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// Every month from `first` to `last`, inclusive.
fn months_between(first: NaiveDate, last: NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let (mut y, mut m) = (first.year(), first.month());
    while (y, m) <= (last.year(), last.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The whole view of a valid ledger. `awaiting` holds the statuses of the contributions
/// merged but awaiting approvals (empty when the network asks for none): they count nowhere
/// but in [`View::waiting`] (and in the use of resources, as `ovn report resources` counts
/// them). The contributions are counted day folder by day folder ([`folder_parts`]) and the
/// folders added up ([`view_from`]), so the view the cache puts together from kept parts
/// is this one.
pub fn view(ledger: &Ledger, awaiting: &HashMap<Id, Status>) -> Result<View, PayoutError> {
    let parts = folder_parts(ledger, awaiting, |_| true, |p| p)?;
    Ok(view_from(
        ledger,
        awaiting,
        parts.into_iter().map(|(_, p)| p),
    ))
}

/// What one day folder of contributions adds to the page (see [`folder_parts`]). The cache
/// keeps it per folder, so the page after a new commit counts only the folders that changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderPart {
    /// The contributions that count, by month (`YYYY-MM`), with their claims' value.
    pub months: Vec<(String, Sums)>,
    /// By agent, then month: what the agent logged, and the value of the claims it holds
    /// from contributions dated in the month.
    pub members: Vec<(Id, String, Sums, Decimal)>,
    /// The claims of the contributions that count, summed by project, then holder.
    pub claims: Vec<(Id, Id, ClaimSums)>,
    /// Hours of use by resource, then project (corrected uses aside, uses awaiting approval
    /// included, as `ovn report resources` counts them).
    pub uses: Vec<(Id, Id, Decimal)>,
    /// The first and last dates of the contributions that count.
    pub span: Option<(NaiveDate, NaiveDate)>,
}

/// A month as a number that sorts like it (year × 16 + month), with a day of it to name it
/// by ([`month`]) once, not once per contribution.
type Month = (i32, NaiveDate);

fn month_of(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    // Dates are within ±262,143 years: no overflow.
    d.year() * 16 + d.month().cast_signed()
}

/// One day folder's figures, while they are added up. Agents go by number (see
/// [`Numbers`]), so a folder holds no copy of an id until its part is made.
#[derive(Default)]
struct FolderSums<'l> {
    months: Vec<(Month, Sums)>,
    /// By agent and month: what the agent logged, and the value of the claims it holds.
    members: FxHashMap<(u32, i32), (NaiveDate, Sums, Decimal)>,
    /// By agent and project (its position in `ledger.projects`).
    claims: FxHashMap<(u32, u32), ClaimSums>,
    /// Holders that are not agents of the ledger, numbered after them.
    others: Vec<Id>,
    uses: BTreeMap<(&'l Id, &'l Id), Decimal>,
    span: Option<(NaiveDate, NaiveDate)>,
}

/// The ledger's agents by number (their place in `ledger.agents`).
struct Numbers<'l> {
    ledger: &'l Ledger,
    of: FxHashMap<&'l Id, u32>,
}

impl<'l> Numbers<'l> {
    fn new(ledger: &'l Ledger) -> Numbers<'l> {
        let of = ledger
            .agents
            .iter()
            .enumerate()
            .filter_map(|(n, a)| Some((&a.id.value, u32::try_from(n).ok()?)))
            .collect();
        Numbers { ledger, of }
    }
}

impl FolderSums<'_> {
    fn month(&mut self, m: Month) -> &mut Sums {
        let i = match self.months.iter().position(|x| x.0.0 == m.0) {
            Some(i) => i,
            None => {
                self.months.push((m, Sums::default()));
                self.months.len() - 1
            }
        };
        &mut self.months[i].1
    }

    /// An agent's number: its place among the ledger's agents, else after them among the
    /// folder's other holders (a resource's owner need not be an agent of the ledger).
    fn number(&mut self, numbers: &Numbers<'_>, id: &Id) -> u32 {
        if let Some(&n) = numbers.of.get(id) {
            return n;
        }
        let i = match self.others.iter().position(|o| o == id) {
            Some(i) => i,
            None => {
                self.others.push(id.clone());
                self.others.len() - 1
            }
        };
        u32::try_from(numbers.ledger.agents.len() + i).unwrap_or(u32::MAX)
    }

    fn member(&mut self, numbers: &Numbers<'_>, id: &Id, m: Month) -> (&mut Sums, &mut Decimal) {
        let n = self.number(numbers, id);
        let (_, s, held) = self
            .members
            .entry((n, m.0))
            .or_insert_with(|| (m.1, Sums::default(), Decimal::ZERO));
        (s, held)
    }

    fn part(self, numbers: &Numbers<'_>) -> FolderPart {
        let ledger = numbers.ledger;
        let others = &self.others;
        let name = |n: u32| -> Option<Id> {
            let n = usize::try_from(n).ok()?;
            match ledger.agents.get(n) {
                Some(a) => Some(a.id.value.clone()),
                None => others.get(n - ledger.agents.len()).cloned(),
            }
        };
        let mut months: Vec<(String, Sums)> = self
            .months
            .into_iter()
            .map(|((_, d), s)| (month(d), s))
            .collect();
        months.sort_by(|a, b| a.0.cmp(&b.0));
        let mut members: Vec<(Id, String, Sums, Decimal)> = self
            .members
            .into_iter()
            .filter_map(|((n, _), (d, s, held))| Some((name(n)?, month(d), s, held)))
            .collect();
        members.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut claims: Vec<(Id, Id, ClaimSums)> = self
            .claims
            .into_iter()
            .filter_map(|((n, p), s)| {
                let project = ledger.projects.get(usize::try_from(p).ok()?)?;
                Some((project.id.value.clone(), name(n)?, s))
            })
            .collect();
        claims.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        FolderPart {
            months,
            members,
            claims,
            uses: self
                .uses
                .into_iter()
                .map(|((r, p), h)| (r.clone(), p.clone(), h))
                .collect(),
            span: self.span,
        }
    }
}

/// The part of each day folder of the ledger that `wanted` accepts (by folder path), in
/// path order, as `finish` makes it of the [`FolderPart`] (the cache encodes each at once:
/// a million records' parts are held as their bytes, not as their many small values). Every contribution of a wanted folder must be in the
/// ledger, and so must every correction, wherever it is (they decide what counts and which
/// record a payment counts for). A folder's part depends on its records, the corrections
/// naming them and the ledger's other entries, never on another folder's contributions, so
/// a part kept from an earlier run is the part counted now.
///
/// One pass over the folders' contributions (a folder per core), then one over the claims
/// of every project, each added to the folder of its contribution (by position: no lookup
/// by id, no date formatted per record).
pub fn folder_parts<'l, G: Send>(
    ledger: &'l Ledger,
    awaiting: &HashMap<Id, Status>,
    wanted: impl Fn(&str) -> bool + Sync,
    finish: impl Fn(FolderPart) -> G + Sync,
) -> Result<Vec<(&'l str, G)>, PayoutError> {
    use rayon::prelude::*;
    let currency = ledger.network.as_ref().map(|n| n.currency.as_str());
    let corrected = payout::corrected(ledger);
    let waits = |c: &Contribution| !awaiting.is_empty() && awaiting.contains_key(&c.id.value);
    let numbers = Numbers::new(ledger);
    let runs: Vec<(&str, std::ops::Range<usize>)> = report::folder_runs(ledger)
        .into_iter()
        .filter(|(folder, _)| wanted(folder))
        .collect();
    let mut sums: Vec<FolderSums<'l>> = runs
        .par_iter()
        .map(|(_, range)| {
            let mut f = FolderSums::default();
            for c in &ledger.contributions[range.clone()] {
                let counted = corrected.is_empty() || !corrected.contains(&c.id.value);
                if counted
                    && c.kind == Kind::Use
                    && let (Some(r), Some(h)) = (&c.resource, &c.hours)
                {
                    *f.uses.entry((&r.value, &c.project.value)).or_default() += h.value;
                }
                if !counted || waits(c) {
                    continue;
                }
                let d = c.date.value;
                f.span = Some(f.span.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
                let mut s = Sums {
                    count: 1,
                    ..Sums::default()
                };
                if let Some(h) = &c.hours
                    && c.kind != Kind::Use
                {
                    s.hours = h.value;
                }
                if let Some(a) = c.amount
                    && (c.currency().is_none() || c.currency() == currency)
                {
                    s.amount = a;
                }
                let m = (month_of(d), d);
                add(f.month(m), &s);
                add(f.member(&numbers, &c.agent.value, m).0, &s);
            }
            f
        })
        .collect();
    // Which wanted folder each contribution is in, by position.
    let mut folder_at: Vec<Option<u32>> = vec![None; ledger.contributions.len()];
    for (n, (_, range)) in runs.iter().enumerate() {
        let n = u32::try_from(n).ok();
        for slot in folder_at.get_mut(range.clone()).into_iter().flatten() {
            *slot = n;
        }
    }
    let settled = payout::settled_by_records(ledger);
    let ids: Vec<&str> = ledger
        .projects
        .iter()
        .map(|p| p.id.value.as_str())
        .collect();
    payout::for_each_claims(ledger, &ids, None, &settled, |i, claims| {
        for c in &claims {
            let Some(n) = folder_at.get(c.position).copied().flatten() else {
                continue;
            };
            let (Some(f), Some(contribution)) = (
                sums.get_mut(n as usize),
                ledger.contributions.get(c.position),
            ) else {
                continue;
            };
            // Corrected contributions hold no claim; those awaiting approval count nowhere.
            if waits(contribution) {
                continue;
            }
            let d = contribution.date.value;
            let m = (month_of(d), d);
            let value = c.owed.unwrap_or(c.value);
            f.month(m).value += value;
            *f.member(&numbers, c.agent, m).1 += value;
            let n = f.number(&numbers, c.agent);
            let p = u32::try_from(i).unwrap_or(u32::MAX);
            f.claims.entry((n, p)).or_default().count(c);
        }
        Ok(())
    })?;
    Ok(runs
        .into_par_iter()
        .zip(sums)
        .map(|((folder, _), f)| (folder, finish(f.part(&numbers))))
        .collect())
}

/// The view from the parts of every day folder of the ledger (in path order; see
/// [`folder_parts`]), for `awaiting` as [`view`] takes it. The ledger need not hold the
/// contributions of the folders when `awaiting` is empty (the cache puts the page together
/// from kept parts and a ledger loaded quickly); else it must hold them all.
pub fn view_from(
    ledger: &Ledger,
    awaiting: &HashMap<Id, Status>,
    parts: impl IntoIterator<Item = FolderPart>,
) -> View {
    let mut adder = Adder::new(ledger);
    for part in parts {
        adder.add(&part);
    }
    adder.view(awaiting)
}

/// The view's figures being added up, one day folder's part at a time, in path order (see
/// [`view_from`]). The cache adds a kept part while it decodes it, from borrowed text, so a
/// million records' parts are never all made into values at once.
pub struct Adder<'l> {
    b: Builder<'l>,
    claims: HashMap<Id, BTreeMap<Id, ClaimSums>>,
    uses: BTreeMap<Id, BTreeMap<Id, Decimal>>,
}

impl<'l> Adder<'l> {
    /// Nothing added yet.
    pub fn new(ledger: &'l Ledger) -> Adder<'l> {
        Adder {
            b: Builder::new(ledger),
            claims: HashMap::new(),
            uses: BTreeMap::new(),
        }
    }

    /// A part ([`FolderPart`]) whole.
    pub fn add(&mut self, part: &FolderPart) {
        for (m, s) in &part.months {
            self.month(m, s);
        }
        for (agent, m, logged, held) in &part.members {
            self.member(agent.as_str(), m, logged, *held);
        }
        for (project, agent, s) in &part.claims {
            self.claims(project.as_str(), agent.as_str(), s);
        }
        for (resource, project, h) in &part.uses {
            self.uses(resource.as_str(), project.as_str(), *h);
        }
        if let Some(span) = part.span {
            self.span(span);
        }
    }

    /// A month's sums ([`FolderPart::months`]).
    pub fn month(&mut self, month: &str, s: &Sums) {
        let by_month = &mut self.b.by_month;
        match by_month.get_mut(month) {
            Some(t) => add(t, s),
            None => add(by_month.entry(month.to_owned()).or_default(), s),
        }
    }

    /// What an agent logged in a month and the claims it holds from it
    /// ([`FolderPart::members`]); an agent the ledger does not have is no member.
    pub fn member(&mut self, agent: &str, month: &str, logged: &Sums, held: Decimal) {
        let Some(member) = self.b.members.get_mut(agent) else {
            return;
        };
        add(&mut member.logged, logged);
        let m = match member.months.get_mut(month) {
            Some(m) => m,
            None => member.months.entry(month.to_owned()).or_default(),
        };
        add(&mut m.logged, logged);
        m.claims += held;
    }

    /// An agent's claims in a project ([`FolderPart::claims`]); ids that do not parse are
    /// no one's (a part holds only ids that parse).
    pub fn claims(&mut self, project: &str, agent: &str, s: &ClaimSums) {
        let agents = match self.claims.get_mut(project) {
            Some(a) => a,
            None => match Id::parse(project) {
                Ok(p) => self.claims.entry(p).or_default(),
                Err(_) => return,
            },
        };
        match agents.get_mut(agent) {
            Some(t) => t.add(s),
            None => {
                if let Ok(a) = Id::parse(agent) {
                    agents.entry(a).or_default().add(s);
                }
            }
        }
    }

    /// Hours of use of a resource by a project ([`FolderPart::uses`]).
    pub fn uses(&mut self, resource: &str, project: &str, hours: Decimal) {
        let (Ok(r), Ok(p)) = (Id::parse(resource), Id::parse(project)) else {
            return;
        };
        *self.uses.entry(r).or_default().entry(p).or_default() += hours;
    }

    /// The first and last dates of a part's contributions that count.
    pub fn span(&mut self, (first, last): (NaiveDate, NaiveDate)) {
        self.b.seen(first);
        self.b.seen(last);
    }

    /// The view of everything added, for `awaiting` as [`view`] takes it.
    pub fn view(self, awaiting: &HashMap<Id, Status>) -> View {
        let Adder {
            mut b,
            claims,
            uses,
        } = self;
        let ledger = b.ledger;
        b.awaiting(awaiting);
        b.holdings(claims);
        b.payouts();
        b.resources = report::resources_from(ledger, &report::Query::default(), |id| {
            uses.get(id)
                .into_iter()
                .flatten()
                .map(|(p, h)| (p.clone(), *h))
                .collect()
        });
        b.finish()
    }
}

/// A member's month in a [`Checkpoint`]: the month, what the member logged in it, and the
/// value of the claims it holds from it.
pub type MonthFigures = (String, Sums, Decimal);

/// What an [`Adder`] has added up so far, every figure as it stands, so that adding can go
/// on from it later exactly as if it had never stopped (the cache keeps one at a month's
/// end, so that the page after a new commit adds only the folders after it). Figures are
/// set back, never added again: a sum of values a formula divided may not be exact, and
/// its figures must be those of the same additions in the same order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// The sums by month.
    pub months: Vec<(String, Sums)>,
    /// Each member with anything added: what it logged in all, then by month with the
    /// value of the claims it holds from the month.
    pub members: Vec<(Id, Sums, Vec<MonthFigures>)>,
    /// The claims by project, then holder.
    pub claims: Vec<(Id, Id, ClaimSums)>,
    /// The hours of use by resource, then project.
    pub uses: Vec<(Id, Id, Decimal)>,
    /// The first and last dates of what counted.
    pub span: Option<(NaiveDate, NaiveDate)>,
}

impl<'l> Adder<'l> {
    /// Everything added so far (see [`Checkpoint`]), in order.
    pub fn checkpoint(&self) -> Checkpoint {
        let members = self
            .b
            .members
            .values()
            .filter(|m| m.logged != Sums::default() || !m.months.is_empty())
            .map(|m| {
                let months = m
                    .months
                    .iter()
                    .map(|(k, mm)| (k.clone(), mm.logged.clone(), mm.claims))
                    .collect();
                (m.agent.clone(), m.logged.clone(), months)
            })
            .collect();
        let mut claims: Vec<(Id, Id, ClaimSums)> = self
            .claims
            .iter()
            .flat_map(|(p, agents)| {
                agents
                    .iter()
                    .map(move |(a, s)| (p.clone(), a.clone(), s.clone()))
            })
            .collect();
        claims.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let uses = self
            .uses
            .iter()
            .flat_map(|(r, projects)| {
                projects
                    .iter()
                    .map(move |(p, h)| (r.clone(), p.clone(), *h))
            })
            .collect();
        Checkpoint {
            months: self
                .b
                .by_month
                .iter()
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect(),
            members,
            claims,
            uses,
            span: self.b.span,
        }
    }

    /// Adding over `ledger` resumed from `checkpoint` (made over a ledger with the same
    /// agents); `None` when it names a member `ledger` does not have.
    pub fn resume(ledger: &'l Ledger, checkpoint: Checkpoint) -> Option<Adder<'l>> {
        let mut adder = Adder::new(ledger);
        let Checkpoint {
            months,
            members,
            claims,
            uses,
            span,
        } = checkpoint;
        adder.b.by_month = months.into_iter().collect();
        for (agent, logged, months) in members {
            let member = adder.b.members.get_mut(agent.as_str())?;
            member.logged = logged;
            member.months = months
                .into_iter()
                .map(|(k, logged, claims)| {
                    let m = MemberMonth {
                        logged,
                        claims,
                        owed: Decimal::ZERO,
                    };
                    (k, m)
                })
                .collect();
        }
        for (project, agent, s) in claims {
            adder.claims.entry(project).or_default().insert(agent, s);
        }
        for (resource, project, hours) in uses {
            adder
                .uses
                .entry(resource)
                .or_default()
                .insert(project, hours);
        }
        adder.b.span = span;
        Some(adder)
    }
}

/// A month axis longer than this (a ledger with a stray date centuries away) keeps only the
/// months that have something, so the page stays small whatever the dates.
const MAX_MONTHS: usize = 1200;

/// The view being filled, pass by pass.
struct Builder<'l> {
    ledger: &'l Ledger,
    members: BTreeMap<&'l str, Member>,
    by_month: BTreeMap<String, Sums>,
    /// The first and last dates of what counts and of the payouts.
    span: Option<(NaiveDate, NaiveDate)>,
    waiting: Vec<Waiting>,
    projects: Vec<(Id, Vec<Holding>)>,
    resources: Vec<report::ResourceRow>,
}

impl<'l> Builder<'l> {
    fn new(ledger: &'l Ledger) -> Builder<'l> {
        let members = ledger
            .agents
            .iter()
            .map(|a| {
                (
                    a.id.value.as_str(),
                    Member {
                        agent: a.id.value.clone(),
                        name: a.name.trim().to_owned(),
                        logged: Sums::default(),
                        holdings: Vec::new(),
                        months: BTreeMap::new(),
                        owed: Vec::new(),
                        awaiting: 0,
                    },
                )
            })
            .collect();
        Builder {
            ledger,
            members,
            by_month: BTreeMap::new(),
            span: None,
            waiting: Vec::new(),
            projects: Vec::new(),
            resources: Vec::new(),
        }
    }

    fn seen(&mut self, d: NaiveDate) {
        self.span = Some(self.span.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
    }

    /// The contributions awaiting approval, set apart with what they lack (the parts left
    /// them out of every figure).
    fn awaiting(&mut self, awaiting: &HashMap<Id, Status>) {
        if awaiting.is_empty() {
            return;
        }
        for (i, c) in self.ledger.contributions.iter().enumerate() {
            if let Some(s) = awaiting.get(&c.id.value) {
                self.waiting.push(Waiting {
                    position: i,
                    lacks: lacks(s),
                });
                if let Some(m) = self.members.get_mut(c.agent.value.as_str()) {
                    m.awaiting += 1;
                }
            }
        }
    }

    /// Each project's claims (in ledger order), from the folders' sums by project and
    /// holder: a share is the holder's part of the project's equity claims.
    fn holdings(&mut self, mut claims: HashMap<Id, BTreeMap<Id, ClaimSums>>) {
        let ledger = self.ledger;
        for p in &ledger.projects {
            let project = &p.id.value;
            let sums = claims.remove(project).unwrap_or_default();
            let equity: Decimal = sums.values().map(|s| s.equity).sum();
            let mut rows: Vec<Holding> = sums
                .into_iter()
                .map(|(agent, s)| Holding {
                    project: project.clone(),
                    agent,
                    equity: s.equity,
                    share: (!equity.is_zero()).then(|| s.equity / equity),
                    debt_owed: s.debt_owed,
                    debt_settled: s.debt_repaid,
                    debt_outstanding: s.debt_outstanding,
                    once_pending: s.once_pending,
                })
                .collect();
            sort_by_name(&mut rows, ledger, |r| &r.agent);
            for r in &rows {
                if let Some(m) = self.members.get_mut(r.agent.as_str()) {
                    m.holdings.push(r.clone());
                }
            }
            self.projects.push((project.clone(), rows));
        }
    }

    /// What recorded payouts owe each member and what payment records paid on it (a
    /// payout's lines to one agent added up). The figures are the payment module's line
    /// balances, so the page and `ovn report payouts` can never disagree.
    fn payouts(&mut self) {
        for p in &self.ledger.payouts {
            self.seen(p.date.value);
        }
        let mut to: BTreeMap<(&str, Id), Owed> = BTreeMap::new();
        let balances = payment::balances(self.ledger);
        for b in &balances {
            let Some(agent) = self
                .members
                .get_key_value(b.agent.as_str())
                .map(|(k, _)| *k)
            else {
                continue;
            };
            let e = to.entry((agent, b.payout.clone())).or_insert_with(|| Owed {
                payout: b.payout.clone(),
                date: b.date,
                project: b.project.clone(),
                amount: Decimal::ZERO,
                paid: Decimal::ZERO,
            });
            e.amount += b.owed;
            e.paid += b.paid;
        }
        for ((agent, _), o) in to {
            if let Some(m) = self.members.get_mut(agent) {
                m.months.entry(month(o.date)).or_default().owed += o.amount;
                m.owed.push(o);
            }
        }
    }

    /// The view, every list sorted; every member has every month of the axis.
    fn finish(mut self) -> View {
        let axis: Vec<String> = match self.span {
            Some((a, b)) if months_apart(a, b) <= MAX_MONTHS => months_between(a, b),
            _ => {
                let mut keys: std::collections::BTreeSet<String> =
                    self.by_month.keys().cloned().collect();
                for m in self.members.values() {
                    keys.extend(m.months.keys().cloned());
                }
                keys.into_iter().collect()
            }
        };
        let mut members: Vec<Member> = self.members.into_values().collect();
        for m in &mut members {
            m.owed
                .sort_by(|a, b| (a.date, &a.payout).cmp(&(b.date, &b.payout)));
            for k in &axis {
                m.months.entry(k.clone()).or_default();
            }
        }
        members.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.agent).cmp(&(b.name.to_lowercase(), &b.agent))
        });
        let months: Vec<(String, Sums)> = axis
            .into_iter()
            .map(|k| {
                let s = self.by_month.remove(&k).unwrap_or_default();
                (k, s)
            })
            .collect();
        let mut total = Sums::default();
        for (_, s) in &months {
            add(&mut total, s);
        }
        let contributions = &self.ledger.contributions;
        self.waiting.sort_by(|a, b| {
            let (x, y) = (&contributions[a.position], &contributions[b.position]);
            (x.date.value, &x.id.value).cmp(&(y.date.value, &y.id.value))
        });
        View {
            months,
            total,
            projects: self.projects,
            members,
            waiting: self.waiting,
            resources: self.resources,
        }
    }
}

/// How many months `months_between(a, b)` lists.
fn months_apart(a: NaiveDate, b: NaiveDate) -> usize {
    use chrono::Datelike;
    let n = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
        - i64::from(a.month())
        + 1;
    usize::try_from(n).unwrap_or(0)
}

fn add(to: &mut Sums, s: &Sums) {
    to.count += s.count;
    to.hours += s.hours;
    to.amount += s.amount;
    to.value += s.value;
}

/// Sorts by the agents' names (case aside), then ids: how people look for each other.
fn sort_by_name<T>(rows: &mut [T], ledger: &Ledger, agent: impl Fn(&T) -> &Id) {
    let names: HashMap<&Id, String> = ledger
        .agents
        .iter()
        .map(|a| (&a.id.value, a.name.trim().to_lowercase()))
        .collect();
    rows.sort_by(|a, b| {
        let (x, y) = (agent(a), agent(b));
        (names.get(x), x).cmp(&(names.get(y), y))
    });
}

/// An agent as a sentence names it: `Name (id)`, or the id alone.
fn named(ledger: &Ledger, id: &Id) -> String {
    match ledger.agents.iter().find(|a| a.id.value == *id) {
        Some(a) if !a.name.trim().is_empty() && a.name.trim() != id.as_str() => {
            format!("{} ({id})", a.name.trim())
        }
        _ => id.to_string(),
    }
}

/// A decimal as people write it: no trailing zeros.
fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A value equation in plain language: one sentence for each bucket, in order, then one for
/// what is left. Plain text (the page escapes it).
pub fn explain(ledger: &Ledger, agreement: &Agreement) -> Vec<String> {
    let mut out = Vec::new();
    let mut ends_with_rest = false;
    for (n, b) in agreement.buckets.iter().enumerate() {
        let budget = match &b.budget {
            Budget::Share {
                share,
                of: Base::Total,
            } => format!("takes {share} of the revenue"),
            Budget::Share {
                share,
                of: Base::Remaining,
            } => format!("takes {share} of what is still left at its turn"),
            Budget::Rest => "takes everything still left".to_owned(),
            Budget::Amount(a) => format!("takes a fixed {a} (never more than is left)"),
        };
        ends_with_rest = matches!(b.budget, Budget::Rest);
        let how = match &b.to {
            Some(to) => format!("and pays it all to {}.", named(ledger, &to.value)),
            None => {
                let rules: Vec<String> = b
                    .rules
                    .iter()
                    .map(|r| rule(agreement, b.claim, b.cap, r))
                    .collect();
                let rules = if rules.is_empty() {
                    "no contribution (it has no rule)".to_owned()
                } else {
                    rules.join("; ")
                };
                format!(
                    "and shares it in proportion to the claims of {rules}. {}",
                    claim_words(b.claim, b.cap)
                )
            }
        };
        out.push(format!("{}. “{}” {budget}, {how}", n + 1, b.name.value));
    }
    let leftover = agreement
        .leftover
        .as_ref()
        .or_else(|| ledger.network.as_ref().and_then(|n| n.leftover.as_ref()))
        .map(|l| named(ledger, &l.value));
    out.push(match (leftover, ends_with_rest) {
        (Some(l), true) => format!("Whatever no claim can take (when the last bucket has no claims) goes to {l}."),
        (Some(l), false) => format!("The rest of the revenue, after the last bucket, goes to {l}."),
        (None, _) => "Whatever no claim can take stays unpaid: the agreement and the network name no one to receive it, so `ovn payout` refuses such a payout.".to_owned(),
    });
    out
}

/// What a claim kind means for the one who holds it.
fn claim_words(kind: ClaimKind, cap: Option<Decimal>) -> String {
    match kind {
        ClaimKind::Equity => "These are equity claims: they share in every payout, for ever.".to_owned(),
        ClaimKind::Debt => {
            let cap = cap.map(|c| format!(" times {}", plain(c))).unwrap_or_default();
            format!("These are debts: each is repaid its value{cap} until settled, never more; what the debts do not need goes on to the next buckets.")
        }
        ClaimKind::Once => "These are once claims: each shares in the first recorded payout that includes it, then is spent.".to_owned(),
    }
}

/// One rule: what it selects and how it values it.
fn rule(
    agreement: &Agreement,
    bucket_claim: ClaimKind,
    bucket_cap: Option<Decimal>,
    r: &Rule,
) -> String {
    let kind = Kind::from_word(&r.kind);
    let mut t = match &kind {
        Kind::Work => "work".to_owned(),
        Kind::Money => "money put in".to_owned(),
        Kind::Material => "materials".to_owned(),
        Kind::Use => "the use of resources".to_owned(),
        Kind::Other(k) => format!("“{k}” contributions"),
    };
    if let Some(s) = &r.skill {
        t.push_str(&format!(" with the skill “{s}”"));
    }
    if let Some(p) = &r.project {
        t.push_str(&format!(" to project {}", p.value));
    }
    if let Some(a) = &r.agent {
        t.push_str(&format!(" by {}", a.value));
    }
    match (r.from, r.until) {
        (Some(f), Some(u)) => t.push_str(&format!(" dated {f} to {u}")),
        (Some(f), None) => t.push_str(&format!(" dated from {f}")),
        (None, Some(u)) => t.push_str(&format!(" dated until {u}")),
        (None, None) => {}
    }
    let value = if let Some(f) = &r.formula {
        format!("valued by the formula {}", f.source)
    } else if let Some(rate) = r.rate {
        format!("valued at {} an hour", plain(rate))
    } else {
        match kind {
            Kind::Money | Kind::Material => "valued at their amount".to_owned(),
            Kind::Use => {
                "valued at each resource's use rate an hour, claimed by the resource's owners"
                    .to_owned()
            }
            Kind::Work => format!("valued at their hours × {}", rates(agreement)),
            Kind::Other(_) => format!(
                "valued at their hours × {}, plus their amount",
                rates(agreement)
            ),
        }
    };
    t.push_str(&format!(", {value}"));
    if let Some(m) = r.multiplier {
        t.push_str(&format!(", times {}", plain(m)));
    }
    let kind = r.claim.unwrap_or(bucket_claim);
    if kind != bucket_claim || (r.cap.is_some() && r.cap != bucket_cap) {
        t.push_str(&format!(" (as {} claims", kind.as_str()));
        if let Some(c) = r.cap {
            t.push_str(&format!(", repaid up to {} times", plain(c)));
        }
        t.push(')');
    }
    t
}

/// The agreement's rate table in words: which rate an hour of work gets.
fn rates(agreement: &Agreement) -> String {
    let r = &agreement.rates;
    let mut parts = Vec::new();
    for (a, v) in &r.agent {
        parts.push(format!("{} for {a}'s work", plain(v.value)));
    }
    for (s, v) in &r.skill {
        parts.push(format!("{} for {s}", plain(*v)));
    }
    for (p, v) in &r.project {
        parts.push(format!("{} in project {p}", plain(v.value)));
    }
    let base = match r.work {
        Some(w) => format!("{} an hour", plain(w)),
        None => {
            "the rate of its skill, person or project (there is no general work rate)".to_owned()
        }
    };
    if parts.is_empty() {
        base
    } else {
        format!("{base} ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    fn ledger(files: &[(&str, &str)]) -> Ledger {
        let raw: Vec<RawFile> = files
            .iter()
            .map(|(p, t)| RawFile {
                path: (*p).to_owned(),
                bytes: t.as_bytes().to_vec(),
            })
            .collect();
        let loaded = ledger::load(&raw);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.ledger
    }

    /// A project whose work is logged by ana and whose printer, used by ana, is owned by cy:
    /// the use is cy's claim, and the shares follow it.
    fn example() -> Ledger {
        ledger(&[
            (
                "ovn.toml",
                "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"fund\"\n",
            ),
            (
                "agents/ana.toml",
                "id = \"ana\"\nname = \"Zoë Ana\"\nkind = \"person\"\nemails = []\n",
            ),
            (
                "agents/cy.toml",
                "id = \"cy\"\nname = \"Al Cy\"\nkind = \"person\"\nemails = []\n",
            ),
            (
                "agents/fund.toml",
                "id = \"fund\"\nname = \"Fund\"\nkind = \"organization\"\nemails = []\n",
            ),
            (
                "resources/printer.toml",
                "id = \"printer\"\nname = \"P\"\nownership = \"individual\"\nowners = [{ agent = \"cy\", share = \"100%\" }]\nstewards = [\"cy\"]\nuse_rate = \"10\"\n",
            ),
            (
                "projects/p.toml",
                "id = \"p\"\nname = \"P\"\nagreement = \"ve\"\nstewards = [\"ana\"]\n",
            ),
            (
                "agreements/ve.toml",
                "id = \"ve\"\nname = \"VE\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"20\"\n\n[[buckets]]\nname = \"back\"\nshare = \"20%\"\nof = \"remaining\"\nclaim = \"debt\"\ncap = \"1.5\"\n\n[[buckets.rules]]\nkind = \"money\"\n\n[[buckets]]\nname = \"eq\"\nshare = \"50%\"\nclaim = \"equity\"\n\n[[buckets.rules]]\nkind = \"work\"\nmultiplier = \"2\"\n\n[[buckets.rules]]\nkind = \"use\"\n",
            ),
            (
                "contributions/2026/01/05/01aaaaaaaaaaaaaaaaaaaaaaa1.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa1\"\nagent = \"ana\"\ndate = 2026-01-05\nproject = \"p\"\nkind = \"work\"\ndescription = \"w\"\nhours = \"3\"\n",
            ),
            (
                "contributions/2026/03/05/01aaaaaaaaaaaaaaaaaaaaaaa2.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\nagent = \"ana\"\ndate = 2026-03-05\nproject = \"p\"\nkind = \"use\"\ndescription = \"u\"\nresource = \"printer\"\nhours = \"6\"\n",
            ),
            (
                "contributions/2026/03/06/01aaaaaaaaaaaaaaaaaaaaaaa3.toml",
                "id = \"01aaaaaaaaaaaaaaaaaaaaaaa3\"\nagent = \"cy\"\ndate = 2026-03-06\nproject = \"p\"\nkind = \"money\"\ndescription = \"m\"\namount = \"10.00\"\n",
            ),
        ])
    }

    /// Adding resumed from a checkpoint taken after any folder gives the view of adding
    /// without stopping, byte for byte, even where sums of values a formula divided are not
    /// exact (so a checkpoint that added its figures again in another grouping would not).
    #[test]
    fn adding_resumed_from_a_checkpoint_is_adding_without_stopping() {
        let l = example();
        let none = HashMap::new();
        let mut parts: Vec<FolderPart> = folder_parts(&l, &none, |_| true, |p| p)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(parts.len(), 3);
        // Figures no sum holds exactly: a third at 28 places, and 10^15.
        let third = Decimal::ONE / Decimal::from(3);
        let big = Decimal::from(1_000_000_000_000_000u64);
        let sums = |v: Decimal| Sums {
            count: 1,
            hours: Decimal::ONE,
            amount: Decimal::ZERO,
            value: v,
        };
        for (v, month) in [
            (third, "2026-01"),
            (big, "2026-02"),
            (third, "2026-01"),
            (third, "2026-02"),
        ] {
            parts.push(FolderPart {
                months: vec![(month.to_owned(), sums(v))],
                members: vec![(Id::parse("ana").unwrap(), month.to_owned(), sums(v), v)],
                claims: vec![(
                    Id::parse("p").unwrap(),
                    Id::parse("cy").unwrap(),
                    ClaimSums {
                        equity: v,
                        ..ClaimSums::default()
                    },
                )],
                uses: vec![(Id::parse("printer").unwrap(), Id::parse("p").unwrap(), v)],
                span: None,
            });
        }
        let whole = view_from(&l, &none, parts.clone());
        // Added again month by month, ana's total would not be the one added in order.
        let ana = whole
            .members
            .iter()
            .find(|m| m.agent.as_str() == "ana")
            .unwrap();
        let by_month = ana
            .months
            .values()
            .fold(Decimal::ZERO, |t, m| t + m.logged.value);
        assert_ne!(ana.logged.value, by_month, "the sums are not exact");
        for stop in 0..=parts.len() {
            let mut adder = Adder::new(&l);
            for part in &parts[..stop] {
                adder.add(part);
            }
            let checkpoint = adder.checkpoint();
            let mut resumed = Adder::resume(&l, checkpoint.clone()).unwrap();
            assert_eq!(resumed.checkpoint(), checkpoint, "stopped after {stop}");
            for part in &parts[stop..] {
                resumed.add(part);
            }
            assert_eq!(resumed.view(&none), whole, "stopped after {stop}");
        }
        // A checkpoint naming an agent the ledger lacks is not resumed.
        let mut stray = Checkpoint::default();
        stray
            .members
            .push((Id::parse("zed").unwrap(), Sums::default(), Vec::new()));
        assert!(Adder::resume(&l, stray).is_none());
    }

    #[test]
    fn shares_credit_use_to_owners_and_count_only_what_is_validated() {
        let l = example();
        let v = view(&l, &HashMap::new()).unwrap();
        // ana: 3 h × 20 × 2 = 120; cy: 6 h × 10 = 60 of use, logged by ana.
        let (_, rows) = &v.projects[0];
        let shares: Vec<(&str, Decimal, Option<Decimal>)> = rows
            .iter()
            .map(|r| (r.agent.as_str(), r.equity, r.share))
            .collect();
        // By name: "Al Cy" before "Zoë Ana".
        assert_eq!(
            shares,
            [
                (
                    "cy",
                    Decimal::from(60),
                    Some(Decimal::ONE / Decimal::from(3))
                ),
                (
                    "ana",
                    Decimal::from(120),
                    Some(Decimal::TWO / Decimal::from(3))
                ),
            ]
        );
        assert_eq!(rows[0].debt_owed, Decimal::new(1500, 2));
        // Every month from the first to the last, empty ones too.
        let months: Vec<&str> = v.months.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(v.total.count, 3);
        assert_eq!(v.total.hours, Decimal::from(3));
        assert_eq!(v.total.value, Decimal::from(195));
        let names: Vec<&str> = v.members.iter().map(|m| m.agent.as_str()).collect();
        assert_eq!(names, ["cy", "fund", "ana"]);
        assert_eq!(v.members[2].logged.count, 2);
        assert_eq!(v.members[0].months["2026-03"].claims, Decimal::from(75));

        // ana's work awaits an approval: it counts nowhere, and is listed with its lack.
        let id = l.contributions[0].id.value.clone();
        let status = Status::AwaitingApproval {
            have: 0,
            need: 2,
            steward_missing: true,
        };
        let v = view(&l, &HashMap::from([(id, status)])).unwrap();
        assert_eq!(v.total.count, 2);
        assert_eq!(v.projects[0].1[0].share, Some(Decimal::ONE));
        assert_eq!(v.members[2].awaiting, 1);
        assert_eq!(
            v.waiting,
            [Waiting {
                position: 0,
                lacks: "2 more approvals by people other than its contributor, and an approval by a steward of its project (has 0 of 2)".to_owned()
            }]
        );
    }

    #[test]
    fn value_equations_in_words() {
        let l = example();
        assert_eq!(
            explain(&l, &l.agreements[0]),
            [
                "1. “back” takes 20% of what is still left at its turn, and shares it in proportion to the claims of money put in, valued at their amount. These are debts: each is repaid its value times 1.5 until settled, never more; what the debts do not need goes on to the next buckets.",
                "2. “eq” takes 50% of the revenue, and shares it in proportion to the claims of work, valued at their hours × 20 an hour, times 2; the use of resources, valued at each resource's use rate an hour, claimed by the resource's owners. These are equity claims: they share in every payout, for ever.",
                "The rest of the revenue, after the last bucket, goes to Fund (fund).",
            ]
        );
    }

    /// A stray date centuries away does not make a month axis of thousands of months.
    #[test]
    fn a_stray_date_keeps_the_axis_small() {
        let from = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert_eq!(months_apart(from, to), 119_988);
        let l = example();
        let mut b = Builder::new(&l);
        b.seen(from);
        b.seen(to);
        b.by_month.insert("0001-01".to_owned(), Sums::default());
        b.by_month.insert("9999-12".to_owned(), Sums::default());
        let v = b.finish();
        let months: Vec<&str> = v.months.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(months, ["0001-01", "9999-12"]);
        assert!(v.members.iter().all(|m| m.months.len() == 2));
    }
}
