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

use super::ledger::Ledger;
use super::payment;
use super::payout::{self, PayoutError};
use super::record::{Agreement, Base, Budget, ClaimKind, Kind, Rule};
use super::report::ClaimSums;
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
/// but in [`View::waiting`]. One pass each over contributions, claims and payouts fills every
/// table of the page at once.
pub fn view(ledger: &Ledger, awaiting: &HashMap<Id, Status>) -> Result<View, PayoutError> {
    let mut b = Builder::new(ledger);
    b.contributions(awaiting);
    b.claims()?;
    b.payouts();
    Ok(b.finish())
}

/// A month axis longer than this (a ledger with a stray date centuries away) keeps only the
/// months that have something, so the page stays small whatever the dates.
const MAX_MONTHS: usize = 1200;

/// The view being filled, pass by pass.
struct Builder<'l> {
    ledger: &'l Ledger,
    members: BTreeMap<&'l Id, Member>,
    by_month: BTreeMap<String, Sums>,
    /// The date of each contribution that counts.
    dates: HashMap<&'l Id, NaiveDate>,
    /// The first and last dates of what counts and of the payouts.
    span: Option<(NaiveDate, NaiveDate)>,
    waiting: Vec<Waiting>,
    projects: Vec<(Id, Vec<Holding>)>,
}

impl<'l> Builder<'l> {
    fn new(ledger: &'l Ledger) -> Builder<'l> {
        let members = ledger
            .agents
            .iter()
            .map(|a| {
                (
                    &a.id.value,
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
            dates: HashMap::new(),
            span: None,
            waiting: Vec::new(),
            projects: Vec::new(),
        }
    }

    fn seen(&mut self, d: NaiveDate) {
        self.span = Some(self.span.map_or((d, d), |(a, b)| (a.min(d), b.max(d))));
    }

    /// What each member logged: the contributions that count (neither corrected nor awaiting
    /// approval); those awaiting are set apart with what they lack.
    fn contributions(&mut self, awaiting: &HashMap<Id, Status>) {
        let ledger = self.ledger;
        let currency = ledger.network.as_ref().map(|n| n.currency.as_str());
        let corrected = payout::corrected(ledger);
        for (i, c) in ledger.contributions.iter().enumerate() {
            if let Some(s) = awaiting.get(&c.id.value) {
                self.waiting.push(Waiting {
                    position: i,
                    lacks: lacks(s),
                });
                if let Some(m) = self.members.get_mut(&c.agent.value) {
                    m.awaiting += 1;
                }
                continue;
            }
            if corrected.contains(&c.id.value) {
                continue;
            }
            let d = c.date.value;
            self.dates.insert(&c.id.value, d);
            self.seen(d);
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
            add(self.by_month.entry(month(d)).or_default(), &s);
            if let Some(m) = self.members.get_mut(&c.agent.value) {
                add(&mut m.logged, &s);
                add(&mut m.months.entry(month(d)).or_default().logged, &s);
            }
        }
    }

    /// The claims of every project, from the contributions that count: use of a resource is
    /// its owners', as payouts credit it, and a debt weighs its capped value.
    fn claims(&mut self) -> Result<(), PayoutError> {
        let ledger = self.ledger;
        let settled = payout::settled_by_records(ledger);
        let ids: Vec<&str> = ledger
            .projects
            .iter()
            .map(|p| p.id.value.as_str())
            .collect();
        payout::for_each_claims(ledger, &ids, None, &settled, |i, claims| {
            let project = &ledger.projects[i].id.value;
            let mut sums: BTreeMap<&Id, ClaimSums> = BTreeMap::new();
            for c in &claims {
                let Some(&d) = self.dates.get(&c.contribution) else {
                    continue;
                };
                let value = c.owed.unwrap_or(c.value);
                let by = month(d);
                self.by_month.entry(by.clone()).or_default().value += value;
                if let Some(m) = self.members.get_mut(&c.agent) {
                    m.months.entry(by).or_default().claims += value;
                }
                sums.entry(&c.agent).or_default().count(c);
            }
            let equity: Decimal = sums.values().map(|s| s.equity).sum();
            let mut rows: Vec<Holding> = sums
                .into_iter()
                .map(|(agent, s)| Holding {
                    project: project.clone(),
                    agent: agent.clone(),
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
                if let Some(m) = self.members.get_mut(&r.agent) {
                    m.holdings.push(r.clone());
                }
            }
            self.projects.push((project.clone(), rows));
            Ok(())
        })
    }

    /// What recorded payouts owe each member and what payment records paid on it (a
    /// payout's lines to one agent added up). The figures are the payment module's line
    /// balances, so the page and `ovn report payouts` can never disagree.
    fn payouts(&mut self) {
        for p in &self.ledger.payouts {
            self.seen(p.date.value);
        }
        let mut to: BTreeMap<(&Id, Id), Owed> = BTreeMap::new();
        let balances = payment::balances(self.ledger);
        for b in &balances {
            let Some(agent) = self.members.get_key_value(&b.agent).map(|(k, _)| *k) else {
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
