//! The value equation: how a revenue amount is shared among contributors, exactly.
//!
//! A payout walks the agreement's buckets in order. The revenue starts as the *pool*; each
//! bucket takes a budget from it (a percent of the total or of what remains, a fixed amount,
//! or the rest). A bucket paid `to` one agent pays it whole. Otherwise its rules turn
//! contributions into *claims* (value = hours × rate, or the amount, or hours × the resource's
//! use rate, times a multiplier), and the budget is split in proportion to the claims' weights:
//! equity and once claims weigh their value, debt claims their outstanding balance and never
//! take more than it. What no claim can take goes back to the pool; what is left at the end
//! goes to the named leftover agent, as its own line. Nothing is dropped or created.
//!
//! Money is `rust_decimal` throughout. Budgets are rounded *down* to the currency's minor
//! unit (the fraction stays in the pool for later buckets); each bucket's exact shares are
//! rounded by largest remainder at the level of its lines (agent × bucket): every line is
//! floored, then the units still missing go one each to the lines with the largest
//! remainders, ties broken by agent id. So every bucket's lines sum exactly to its budget,
//! every line is within one minor unit of its exact share, and the payout sums exactly to the
//! revenue. That exactness needs every sum to fit a decimal at the minor unit: the revenue
//! and every value a ledger holds are bounded ([`super::bounds`]), and a claim value past
//! [`bounds::MAX_CLAIM`] is an error.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

// Fast hashing for the per-claim lookups of large ledgers; nothing iterates these maps.
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::bounds;
use super::decay::{Age, Schedule, age_text};
use super::ledger::Ledger;
use super::record::{
    Agreement, Base, Bucket, Budget, ClaimKind, Contribution, Kind, Ownership, Policy, Project,
    Rule,
};
use super::value::Id;

/// What to pay out.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The project whose revenue it is.
    pub project: &'a str,
    /// The revenue amount, in the network currency.
    pub amount: Decimal,
    /// The day of the revenue event (agreements and rules with dates apply as of it).
    pub date: Option<NaiveDate>,
}

/// What earlier recorded payouts already paid on a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// The contribution the claim comes from.
    pub contribution: Id,
    /// The agent who was paid.
    pub agent: Id,
    /// The claim kind it was paid as.
    pub kind: ClaimKind,
    /// How much was paid.
    pub amount: Decimal,
}

/// Why a contribution of the project took no part in a payout.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Dated before the agreement's `from` or after its `until`.
    OutsideAgreement,
    /// Reversed or superseded by a later record (or itself a reversal).
    Corrected,
    /// A debt fully repaid by earlier payouts.
    DebtSettled,
    /// A once claim already paid by an earlier payout.
    OncePaid,
    /// No rule of any bucket selects it.
    NoRule,
    /// Dated after the payout date.
    AfterPayout,
    /// Merged, but without the approvals the network's policy asks for.
    AwaitingApproval,
    /// Older than the lookback window of every bucket that selects it.
    BeyondLookback,
    /// Old enough that the decay schedule of every bucket that selects it gives it 0.
    DecayedAway,
    /// Dated on or after the freeze of a bucket that does not count later work.
    Frozen,
    /// An amount in another currency with no exchange rate for its date (see
    /// [`super::fx`]; `ovn check` reports it as `missing-rate`).
    NoExchangeRate,
}

impl Reason {
    /// Explains the reason in a few words.
    pub fn text(&self) -> &'static str {
        match self {
            Reason::OutsideAgreement => "outside the agreement's dates",
            Reason::Corrected => "reversed or superseded",
            Reason::DebtSettled => "debt already repaid",
            Reason::OncePaid => "once claim already paid",
            Reason::NoRule => "no rule selects it",
            Reason::AfterPayout => "dated after the payout",
            Reason::AwaitingApproval => "awaiting approval",
            Reason::BeyondLookback => "older than the lookback window",
            Reason::DecayedAway => "decayed to nothing by age",
            Reason::Frozen => "after its bucket's freeze, not counted",
            Reason::NoExchangeRate => "no exchange rate for its currency and date",
        }
    }
}

/// A contribution left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeftOut {
    /// Its id.
    pub contribution: Id,
    /// Why.
    pub reason: Reason,
}

/// One claim in one bucket: its value, weight and what it was paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimShare {
    /// The contribution.
    pub contribution: Id,
    /// The agent it pays (for use of a resource: one of its owners).
    pub agent: Id,
    /// Equity, debt or once.
    pub kind: ClaimKind,
    /// The claim's value (before a debt cap and earlier payments).
    pub value: Decimal,
    /// Its weight in the split (value, or outstanding debt).
    pub weight: Decimal,
    /// For debt: the most it may still take.
    pub outstanding: Option<Decimal>,
    /// Its exact share of the budget.
    pub exact: Decimal,
    /// What it was paid, in minor units.
    pub amount: Decimal,
    /// How the value arose, for `--explain`.
    pub how: String,
    /// The decay factor applied to its value to give its weight, and why (its age and step),
    /// when its rule or bucket has a decay schedule.
    pub decay: Option<(Decimal, String)>,
    /// The claim's age in whole months at the payout date, when a decay schedule weighed it.
    pub age: Option<u32>,
    /// The factor a departure's leaver terms applied to its weight, and why (see
    /// [`super::leave`]), when its agent left before the payout.
    pub leaving: Option<(Decimal, String)>,
}

/// How a balanced bucket stood with one agent before this payout (see [`Policy::Balanced`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// The agent.
    pub agent: Id,
    /// The agent's claims in the bucket, weighed.
    pub weight: Decimal,
    /// What recorded payouts of the project already paid the agent from a bucket of this
    /// name.
    pub received: Decimal,
    /// The agent's share of all the bucket has paid, this payout included: (everything
    /// received + budget) × weight / all weights.
    pub target: Decimal,
    /// How far below the target the agent is (0 when at or above it).
    pub underpaid: Decimal,
}

/// One bucket's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketResult {
    /// Bucket name.
    pub name: String,
    /// How its budget was set, in words.
    pub rule: String,
    /// What it took from the pool.
    pub budget: Decimal,
    /// What it paid out (equal to `budget` unless it gave some back).
    pub paid: Decimal,
    /// What went back to the pool (no claims, or debts that needed less).
    pub returned: Decimal,
    /// Its claims, sorted by agent then contribution (none listed in a payout computed
    /// [`Options::brief`] or [`Options::unlisted`]).
    pub claims: Vec<ClaimShare>,
    /// How many claims took part (as many as `claims` holds when they are listed).
    pub claimed: usize,
    /// Its lines: (agent, exact share, amount), sorted by agent.
    pub lines: Vec<(Id, Decimal, Decimal)>,
    /// For a balanced bucket: every agent with a claim, and what everyone received before
    /// from a bucket of this name (recipients without a claim now included); empty otherwise.
    pub balance: Vec<Balance>,
    /// For a balanced bucket: the sum of `received` over everyone.
    pub received: Decimal,
    /// For a frozen bucket: its freeze, and the work after it.
    pub freeze: Option<super::freeze::Summary>,
}

/// A payment to one agent from one bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Who is paid.
    pub agent: Id,
    /// From which bucket (or `leftover`).
    pub bucket: String,
    /// How much.
    pub amount: Decimal,
}

/// The name of the line that carries what no bucket paid.
pub const LEFTOVER: &str = "leftover";

/// A computed payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    /// The project.
    pub project: Id,
    /// The agreement applied.
    pub agreement: Id,
    /// The revenue amount.
    pub amount: Decimal,
    /// The network currency.
    pub currency: String,
    /// Its minor units.
    pub minor_units: u32,
    /// The revenue date, if given.
    pub date: Option<NaiveDate>,
    /// Every bucket, in order.
    pub buckets: Vec<BucketResult>,
    /// Every non-zero line, in bucket order then agent id, the leftover last.
    pub lines: Vec<Line>,
    /// Total per agent, sorted by agent id.
    pub totals: Vec<(Id, Decimal)>,
    /// Contributions of the project that took no part, sorted.
    pub left_out: Vec<LeftOut>,
    /// Payments recorded on contributions of the project that were corrected since (see
    /// [`paid_before_corrections`]): shown, as a reversal after a repayment leaves an
    /// over-repayment that no line nets out.
    pub paid_before_corrections: Vec<PaidBeforeCorrection>,
    /// The contributions more than one bucket paid a lasting claim on, grouped by the
    /// buckets that claimed them: what `ovn check` warns of in the rules (`claimed-twice`),
    /// here with the contributions it touched.
    pub claimed_twice: Vec<ClaimedTwice>,
}

/// Contributions that more than one bucket paid a lasting claim on (`once` claims are
/// bonuses on top and do not count), all claimed by the same buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedTwice {
    /// The buckets, in the agreement's order.
    pub buckets: Vec<String>,
    /// The contributions, sorted.
    pub contributions: Vec<Id>,
}

impl Payout {
    /// The sum of all lines (always equal to `amount`).
    pub fn sum(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }

    /// What this payout settles on each claim: debt and once claims, per contribution and
    /// agent, for later payouts to take into account.
    pub fn settled(&self) -> Vec<Settled> {
        let mut out: BTreeMap<(Id, Id, ClaimKind), Decimal> = BTreeMap::new();
        for b in &self.buckets {
            for c in &b.claims {
                if c.kind != ClaimKind::Equity && c.amount > Decimal::ZERO {
                    *out.entry((c.contribution.clone(), c.agent.clone(), c.kind))
                        .or_default() += c.amount;
                }
            }
        }
        out.into_iter()
            .map(|((contribution, agent, kind), amount)| Settled {
                contribution,
                agent,
                kind,
                amount,
            })
            .collect()
    }
}

/// Why a payout cannot be computed. Each names the record and field to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayoutError {
    /// No project with that id.
    #[error("no project `{project}`{}", super::report::did_you_mean(.suggestion))]
    UnknownProject {
        /// The id asked for.
        project: String,
        /// The closest existing id.
        suggestion: Option<String>,
    },
    /// The project names no agreement.
    #[error("project `{project}` has no agreement: set `agreement` in projects/{project}.toml")]
    NoAgreement {
        /// The project.
        project: Id,
    },
    /// The agreement does not exist or is not valid.
    #[error(
        "project `{project}` names agreement `{agreement}`, which does not exist (agreements/{agreement}.toml)"
    )]
    UnknownAgreement {
        /// The project.
        project: Id,
        /// The agreement id.
        agreement: Id,
    },
    /// The revenue is zero or negative.
    #[error("the revenue amount must be greater than zero")]
    NotPositive,
    /// More decimal places than the currency has.
    #[error(
        "the revenue amount has more than {minor_units} decimal places, which the currency does not have"
    )]
    TooPrecise {
        /// The currency's minor units.
        minor_units: u32,
    },
    /// A claim needs a rate that nothing provides.
    #[error(
        "contribution `{contribution}` needs a rate for {what} in bucket {bucket:?}: set `rate` on the rule, or a rate in the agreement's [rates] (or the resource's `use_rate`)"
    )]
    NoRate {
        /// The contribution.
        contribution: Id,
        /// The bucket.
        bucket: String,
        /// What kind of rate (`work`, `use of printer`).
        what: String,
    },
    /// An amount in another currency cannot be converted (no rate, or beyond the bounds).
    #[error(
        "contribution `{contribution}` is in {currency} and cannot be converted to the network currency: give it a `rate`, or add a rate record for its date (see Currencies and exchange rates in ovn-ledger(5))"
    )]
    OtherCurrency {
        /// The contribution.
        contribution: Id,
        /// Its currency.
        currency: String,
    },
    /// Use of a commons resource, but nobody receives commons claims.
    #[error(
        "contribution `{contribution}` uses a commons resource, whose claim goes to the network's fund: set `leftover` in ovn.toml or in the agreement"
    )]
    NoCommonsFund {
        /// The contribution.
        contribution: Id,
    },
    /// Money is left in the pool and nobody is named to receive it.
    #[error(
        "{amount} is left after all buckets of `{agreement}` and nobody is named to receive it: {}",
        leftover_hint(*.rest)
    )]
    NoLeftoverAgent {
        /// The amount left.
        amount: Decimal,
        /// The agreement.
        agreement: Id,
        /// Whether the agreement ends with a `rest` bucket (which then had no claims to pay).
        rest: bool,
    },
    /// A rule's formula failed for a contribution.
    #[error("the formula of bucket {bucket:?} fails for contribution `{contribution}`: {message}")]
    Formula {
        /// The contribution.
        contribution: Id,
        /// The bucket.
        bucket: String,
        /// What went wrong.
        message: String,
    },
    /// A number grew beyond what an exact decimal holds.
    #[error("a value is too large to compute exactly")]
    Overflow,
    /// The revenue is more than [`bounds::MAX_AMOUNT`].
    #[error(
        "the revenue amount is more than {max}, the largest ovn computes exactly (see Largest values in ovn-ledger(5))",
        max = bounds::MAX_AMOUNT
    )]
    RevenueTooLarge,
    /// A claim value is more than [`bounds::MAX_CLAIM`] (only a formula can reach it).
    #[error(
        "contribution `{contribution}` has a claim value of {value} in bucket {bucket:?}, more than the largest ovn computes exactly ({max})",
        max = bounds::MAX_CLAIM
    )]
    ClaimTooLarge {
        /// The contribution.
        contribution: Id,
        /// The bucket.
        bucket: String,
        /// The value it came to.
        value: Decimal,
    },
}

/// What the ledger's recorded payouts settled, claim by claim.
pub fn settled_by_records(ledger: &Ledger) -> Vec<Settled> {
    ledger
        .payouts
        .iter()
        .flat_map(|p| &p.settled)
        .map(|s| Settled {
            contribution: s.contribution.value.clone(),
            agent: s.agent.value.clone(),
            kind: s.claim,
            amount: s.amount,
        })
        .collect()
}

/// Which contributions are corrected away: reversed or superseded ones, and reversals
/// themselves. They count in no payout or report.
pub(crate) fn corrected(ledger: &Ledger) -> FxHashSet<&Id> {
    let mut out = FxHashSet::default();
    for c in &ledger.contributions {
        if let Some(r) = c.reverses() {
            out.insert(&r.value);
            out.insert(&c.id.value);
        }
        if let Some(s) = c.supersedes() {
            out.insert(&s.value);
        }
    }
    out
}

/// The correction chains of a ledger: which record supersedes which, and which are reversed.
/// Settlement follows them: what was paid on a record counts against whatever corrects it
/// (domain §7), so a correction never restarts a settled claim.
pub struct Corrections<'l> {
    /// Superseded id → the record superseding it (the smallest id, should a ledger that
    /// `ovn check` rejects name two).
    superseded_by: FxHashMap<&'l Id, &'l Contribution>,
    /// Reversed id → the reversal (likewise).
    reversed_by: FxHashMap<&'l Id, &'l Contribution>,
}

impl<'l> Corrections<'l> {
    /// The chains of `ledger`'s contributions (those it holds: a quick load holds every
    /// correction).
    pub fn of(ledger: &'l Ledger) -> Corrections<'l> {
        let mut superseded_by: FxHashMap<&Id, &Contribution> = FxHashMap::default();
        let mut reversed_by: FxHashMap<&Id, &Contribution> = FxHashMap::default();
        for c in &ledger.contributions {
            let (map, target) = match (c.supersedes(), c.reverses()) {
                (Some(t), _) => (&mut superseded_by, t),
                (None, Some(t)) => (&mut reversed_by, t),
                (None, None) => continue,
            };
            let e = map.entry(&target.value).or_insert(c);
            if c.id.value < e.id.value {
                *e = c;
            }
        }
        Corrections {
            superseded_by,
            reversed_by,
        }
    }

    /// The last record of `id`'s chain of supersedes: `None` when nothing supersedes it.
    pub fn head(&self, id: &Id) -> Option<&'l Contribution> {
        let mut head = *self.superseded_by.get(id)?;
        // Bounded: a loop of supersedes (which the references check cannot rule out) ends.
        for _ in 0..self.superseded_by.len() {
            match self.superseded_by.get(&head.id.value) {
                Some(next) if next.id.value != *id => head = next,
                _ => break,
            }
        }
        Some(head)
    }

    /// The record reversing `id`, if any.
    pub fn reversal(&self, id: &Id) -> Option<&'l Contribution> {
        self.reversed_by.get(id).copied()
    }

    /// The record superseding `id` directly, if any.
    pub fn superseded_by(&self, id: &Id) -> Option<&'l Contribution> {
        self.superseded_by.get(id).copied()
    }
}

/// `settled` with each payment moved to the head of its contribution's correction chain:
/// what was paid on A counts against B when B supersedes A, and against C when C supersedes
/// B. A claim of a contribution (not of a resource's use) has one holder, its contributor:
/// a payment made to the old contributor counts against the corrected claim whoever holds
/// it now, so a correction that changes the agent is paid only what remains (the old agent
/// keeps what it was paid). Borrowed when no payment is on a superseded record.
pub fn follow_corrections<'s>(ledger: &Ledger, settled: &'s [Settled]) -> Cow<'s, [Settled]> {
    if settled.is_empty() {
        return Cow::Borrowed(settled);
    }
    Corrections::of(ledger).follow(settled)
}

impl Corrections<'_> {
    /// [`follow_corrections`] with these chains.
    pub fn follow<'s>(&self, settled: &'s [Settled]) -> Cow<'s, [Settled]> {
        if self.superseded_by.is_empty()
            || !settled
                .iter()
                .any(|s| self.superseded_by.contains_key(&s.contribution))
        {
            return Cow::Borrowed(settled);
        }
        Cow::Owned(
            settled
                .iter()
                .map(|s| match self.head(&s.contribution) {
                    Some(head) => Settled {
                        contribution: head.id.value.clone(),
                        agent: if head.kind == Kind::Use {
                            s.agent.clone()
                        } else {
                            head.agent.value.clone()
                        },
                        kind: s.kind,
                        amount: s.amount,
                    },
                    None => s.clone(),
                })
                .collect(),
        )
    }
}

/// A payment recorded on a contribution that was corrected afterwards: where it counts now.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaidBeforeCorrection {
    /// The project of the record it counts against.
    pub project: Id,
    /// The record the payment was recorded on.
    pub paid_on: Id,
    /// The agent it was paid to.
    pub agent: Id,
    /// The claim kind it was paid as.
    pub kind: ClaimKind,
    /// How much, summed over the recorded payouts.
    pub amount: Decimal,
    /// The record it counts against now (the head of the chain; `paid_on` itself when it
    /// was only reversed).
    pub counts_against: Id,
    /// Who holds that record's claim, when it is not `agent`.
    pub now_held_by: Option<Id>,
    /// The reversal, when the record it counts against is reversed: nothing more is owed on
    /// it, and what was paid stays paid (a visible over-repayment, never a negative line).
    pub reversed_by: Option<Id>,
}

impl PaidBeforeCorrection {
    /// The payment in one sentence, for the notes of payouts and reports: "01… was reversed
    /// (by 01…) after 200.00 was repaid to ben; nothing more is owed on it, and what was paid
    /// stays paid".
    pub fn text(&self, minor_units: u32) -> String {
        let amount = money(self.amount, minor_units);
        let paid = match self.kind {
            ClaimKind::Debt => format!("{amount} was repaid to {}", self.agent),
            _ => format!(
                "{amount} was paid to {} on its {} claim",
                self.agent,
                self.kind.as_str()
            ),
        };
        match &self.reversed_by {
            Some(r) => format!(
                "{} was reversed (by {r}) after {paid}; nothing more is owed on it, and what was paid stays paid",
                self.counts_against
            ),
            None => {
                let mut text = format!(
                    "{} was corrected by {} after {paid}; it counts against the correction",
                    self.paid_on, self.counts_against
                );
                if let Some(h) = &self.now_held_by {
                    text.push_str(&format!(
                        ", whose claim is now {h}'s ({h} is paid only what remains)"
                    ));
                }
                text
            }
        }
    }
}

/// Every payment of `settled` recorded on a contribution that was superseded or reversed
/// since, summed per record, agent and kind, sorted by project, then record.
pub fn paid_before_corrections(ledger: &Ledger, settled: &[Settled]) -> Vec<PaidBeforeCorrection> {
    if settled.is_empty() {
        return Vec::new();
    }
    Corrections::of(ledger).paid_before(settled)
}

impl Corrections<'_> {
    /// [`paid_before_corrections`] with these chains.
    pub fn paid_before(&self, settled: &[Settled]) -> Vec<PaidBeforeCorrection> {
        let chains = self;
        if chains.superseded_by.is_empty() && chains.reversed_by.is_empty() {
            return Vec::new();
        }
        let mut sums: BTreeMap<(&Id, &Id, ClaimKind), Decimal> = BTreeMap::new();
        let corrected =
            |id: &Id| chains.superseded_by.contains_key(id) || chains.reversed_by.contains_key(id);
        for s in settled.iter().filter(|s| corrected(&s.contribution)) {
            let e = sums.entry((&s.contribution, &s.agent, s.kind)).or_default();
            *e = e.checked_add(s.amount).unwrap_or(Decimal::MAX);
        }
        let mut out = Vec::new();
        for ((paid_on, agent, kind), amount) in sums {
            let head = chains.head(paid_on);
            let last = head.map_or(paid_on, |h| &h.id.value);
            let reversal = chains.reversal(last);
            let (project, holder) = match (head, reversal) {
                (_, Some(r)) => (r.project.value.clone(), None),
                (Some(h), None) => (
                    h.project.value.clone(),
                    (h.kind != Kind::Use && h.agent.value != *agent).then(|| h.agent.value.clone()),
                ),
                (None, None) => continue,
            };
            out.push(PaidBeforeCorrection {
                project,
                paid_on: paid_on.clone(),
                agent: agent.clone(),
                kind,
                amount,
                counts_against: last.clone(),
                now_held_by: holder,
                reversed_by: reversal.map(|r| r.id.value.clone()),
            });
        }
        out.sort();
        out
    }
}

/// A claim before the split.
struct Pending<'l> {
    contribution: &'l Contribution,
    agent: Id,
    kind: ClaimKind,
    value: Decimal,
    weight: Decimal,
    outstanding: Option<Decimal>,
    how: String,
    decay: Option<(Decimal, String)>,
    age: Option<u32>,
    /// A debt of work after its bucket's freeze, repaid ahead of the bucket's equity.
    ahead: bool,
    leaving: Option<(Decimal, String)>,
}

/// What a payout lists besides its lines, and what it leaves out: the options of
/// [`compute_with`]. The default is the full payout of every contribution ([`compute`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// Only what each agent is paid: the buckets and their lines, the totals and the leftover
    /// line are those of the full payout, but no claim is listed (each bucket's `claims` is
    /// empty), no explanation is written, and contributions no rule selects or whose claims
    /// are already settled are not listed as left out. For callers that only compare totals
    /// (`ovn review`): spreading each agent's amount over a project's tens of thousands of
    /// claims is most of the work.
    pub brief: bool,
    /// Everything the full payout holds but its words: each claim's `how`, its decay's reason
    /// and its owners' notes are left empty. For callers that show no explanation (a payout
    /// previewed or recorded without `--explain`): writing them for a project's tens of
    /// thousands of claims was a third of the computation.
    pub unexplained: bool,
    /// Everything the full payout holds but its claim by claim list: each bucket's `claims`
    /// is empty (its `claimed` still counts them; the contributions claimed twice and those
    /// left out are still told). For a payout previewed without `--explain`, which shows
    /// each agent's lines: spreading each agent's amount over its claims, and listing them,
    /// was a third of the computation at a million records.
    pub unlisted: bool,
    /// Contributions merged but still awaiting the approvals the network's policy asks for:
    /// left out with [`Reason::AwaitingApproval`] (the payout the network would make).
    pub unapproved: Option<&'a HashSet<Id>>,
}

/// Computes the payout of `request` over a valid ledger (one with no diagnostics).
/// `settled` is what earlier recorded payouts paid, claim by claim. The full payout:
/// [`compute_with`] and the default [`Options`].
pub fn compute(
    ledger: &Ledger,
    request: &Request<'_>,
    settled: &[Settled],
) -> Result<Payout, PayoutError> {
    compute_with(ledger, request, settled, Options::default())
}

/// [`compute`] with [`Options`]: the one computation every payout, preview, verification and
/// review makes. Checks the request and the terms, leaves out the contributions that take no
/// part, selects the claims bucket by bucket (`select`, the engine reports share) and
/// splits each budget, then writes the lines and totals.
pub fn compute_with(
    ledger: &Ledger,
    request: &Request<'_>,
    settled: &[Settled],
    options: Options<'_>,
) -> Result<Payout, PayoutError> {
    let explain = !options.brief;
    // The words of an explanation, only when they may be shown.
    let words = explain && !options.unexplained;
    let terms = Terms::of(ledger, request)?;
    // Payments on a corrected record count against its correction (the chain's head).
    let chains = (!settled.is_empty()).then(|| Corrections::of(ledger));
    let before_corrections = chains.as_ref().map(|c| c.paid_before(settled));
    let settled = match &chains {
        Some(c) => c.follow(settled),
        None => Cow::Borrowed(settled),
    };
    let earlier = Earlier::of(&settled);
    let (eligible, mut left_out) = eligible(
        ledger,
        terms.project,
        terms.agreement,
        request.date,
        options.unapproved,
    );
    let received = received(ledger, terms.project, terms.agreement)?;
    let mut split = Splitting {
        total: request.amount,
        pool: request.amount,
        minor_units: terms.minor_units,
        explain,
        words,
        listed: explain && !options.unlisted,
        earlier: &earlier,
        eligible: eligible.len(),
        buckets: Vec::new(),
        filling: None,
        claims: Vec::new(),
        selected: vec![false; ledger.contributions.len()],
        took_part: vec![false; ledger.contributions.len()],
        claimed_in: vec![None; ledger.contributions.len()],
        claimed_again: FxHashMap::default(),
        spent: BTreeMap::new(),
        as_of: request.date.or_else(|| {
            // Only an agreement that ages claims needs a day to age them at.
            let ages = terms.agreement.buckets.iter().any(|b| {
                b.decay.is_some()
                    || b.lookback.is_some()
                    || b.rules
                        .iter()
                        .any(|r| r.decay.is_some() || r.lookback.is_some())
            });
            ages.then(|| eligible.iter().map(|(_, c)| c.date.value).max())
                .flatten()
        }),
        policy: Policy::Proportional,
        received: &received,
        leavers: super::leave::Leavers::of(&ledger.agents, &terms.agreement.leaving, request.date),
    };
    select(
        ledger,
        terms.agreement,
        terms.project,
        &eligible,
        terms.leftover.as_ref(),
        words,
        &mut split,
    )?;
    // Which contributions are left out, and why, is told with the claims.
    if explain {
        left_out.extend(unselected(&eligible, &split));
    }
    left_out.sort();
    let claimed_twice = claimed_twice(ledger, &split);
    let Splitting { buckets, pool, .. } = split;
    let lines = lines(&buckets, pool, &terms)?;
    let mut totals: BTreeMap<Id, Decimal> = BTreeMap::new();
    for l in &lines {
        *totals.entry(l.agent.clone()).or_default() += l.amount;
    }
    Ok(Payout {
        project: terms.project.id.value.clone(),
        agreement: terms.agreement.id.value.clone(),
        amount: request.amount,
        currency: terms.currency,
        minor_units: terms.minor_units,
        date: request.date,
        buckets,
        lines,
        totals: totals.into_iter().collect(),
        left_out,
        paid_before_corrections: before_corrections
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.project == terms.project.id.value)
            .collect(),
        claimed_twice,
    })
}

/// The contributions `split` found claimed (lasting claims) by more than one bucket,
/// grouped by those buckets, each group's contributions sorted.
fn claimed_twice(ledger: &Ledger, split: &Splitting<'_, '_, '_>) -> Vec<ClaimedTwice> {
    let mut groups: BTreeMap<&[u32], Vec<Id>> = BTreeMap::new();
    for (&position, buckets) in &split.claimed_again {
        if let Some(c) = ledger.contributions.get(position) {
            groups.entry(buckets).or_default().push(c.id.value.clone());
        }
    }
    groups
        .into_iter()
        .map(|(buckets, mut contributions)| {
            contributions.sort_unstable();
            ClaimedTwice {
                buckets: buckets
                    .iter()
                    .filter_map(|&n| split.buckets.get(n as usize))
                    .map(|b| b.name.clone())
                    .collect(),
                contributions,
            }
        })
        .collect()
}

/// What a payout is computed under, checked before any claim is: the currency, the project,
/// its agreement, and who takes what no bucket pays.
struct Terms<'l> {
    currency: String,
    minor_units: u32,
    project: &'l Project,
    agreement: &'l Agreement,
    leftover: Option<Id>,
}

impl<'l> Terms<'l> {
    /// The terms of `request`, or why it cannot be paid out.
    fn of(ledger: &'l Ledger, request: &Request<'_>) -> Result<Terms<'l>, PayoutError> {
        let network = ledger.network.as_ref();
        let currency = network.map_or("EUR", |n| n.currency.as_str()).to_owned();
        let minor_units = network.map_or(2, |n| n.minor_units);
        if request.amount <= Decimal::ZERO {
            return Err(PayoutError::NotPositive);
        }
        if request.amount > bounds::MAX_AMOUNT {
            return Err(PayoutError::RevenueTooLarge);
        }
        if request.amount.normalize().scale() > minor_units {
            return Err(PayoutError::TooPrecise { minor_units });
        }
        let project = find_project(ledger, request.project)?;
        let agreement_id = project
            .agreement
            .as_ref()
            .ok_or_else(|| PayoutError::NoAgreement {
                project: project.id.value.clone(),
            })?;
        let agreement = ledger
            .agreements
            .iter()
            .find(|a| a.id.value == agreement_id.value)
            .ok_or_else(|| PayoutError::UnknownAgreement {
                project: project.id.value.clone(),
                agreement: agreement_id.value.clone(),
            })?;
        Ok(Terms {
            currency,
            minor_units,
            project,
            agreement,
            leftover: fund(ledger, agreement).cloned(),
        })
    }
}

/// Who takes what no bucket pays and holds the claims on commons resources: the agreement's
/// leftover agent, else the network's.
fn fund<'l>(ledger: &'l Ledger, agreement: &'l Agreement) -> Option<&'l Id> {
    agreement
        .leftover
        .as_ref()
        .or(ledger.network.as_ref().and_then(|n| n.leftover.as_ref()))
        .map(|a| &a.value)
}

/// What earlier recorded payouts paid, per (contribution, agent): the sum repaid on debts,
/// and the once claims already paid.
struct Earlier<'s> {
    paid: FxHashMap<(&'s Id, &'s Id), Decimal>,
    once_paid: FxHashSet<(&'s Id, &'s Id)>,
}

impl<'s> Earlier<'s> {
    fn of(settled: &'s [Settled]) -> Earlier<'s> {
        let mut paid: FxHashMap<(&Id, &Id), Decimal> = FxHashMap::default();
        let mut once_paid: FxHashSet<(&Id, &Id)> = FxHashSet::default();
        for s in settled {
            match s.kind {
                ClaimKind::Debt => {
                    *paid.entry((&s.contribution, &s.agent)).or_default() += s.amount
                }
                ClaimKind::Once => {
                    once_paid.insert((&s.contribution, &s.agent));
                }
                ClaimKind::Equity => {}
            }
        }
        Earlier { paid, once_paid }
    }
}

/// Why a contribution of the project takes no part in a payout as of `date` (nor holds a
/// claim in a report), if it does not: corrected since, outside the agreement's dates, dated
/// after the revenue event, or still awaiting approval. The one rule [`compute_with`] and
/// [`claims`] share.
fn excluded(
    c: &Contribution,
    agreement: &Agreement,
    date: Option<NaiveDate>,
    corrected: &FxHashSet<&Id>,
    unapproved: Option<&HashSet<Id>>,
) -> Option<Reason> {
    let day = c.date.value;
    if !corrected.is_empty() && corrected.contains(&c.id.value) {
        Some(Reason::Corrected)
    } else if agreement.from.is_some_and(|f| day < f) || agreement.until.is_some_and(|u| day > u) {
        Some(Reason::OutsideAgreement)
    } else if date.is_some_and(|d| day > d) {
        Some(Reason::AfterPayout)
    } else if unapproved.is_some_and(|u| !u.is_empty() && u.contains(&c.id.value)) {
        Some(Reason::AwaitingApproval)
    } else {
        None
    }
}

/// [`Reason::NoExchangeRate`] for an amount in another currency that [`super::fx`] cannot
/// convert: that contribution is left out, not the whole payout stopped.
fn unconvertible(ledger: &Ledger, c: &Contribution) -> Option<Reason> {
    (c.currency().is_some()
        && super::fx::is_foreign(ledger, c)
        && super::fx::conversion(ledger, c).is_err())
    .then_some(Reason::NoExchangeRate)
}

/// The contributions of `project` that take part (with their positions in the ledger, sorted
/// by id so the result never depends on the order records were read in), and those left out
/// with the reason.
fn eligible<'l>(
    ledger: &'l Ledger,
    project: &Project,
    agreement: &Agreement,
    date: Option<NaiveDate>,
    unapproved: Option<&HashSet<Id>>,
) -> (Vec<(usize, &'l Contribution)>, Vec<LeftOut>) {
    let corrected = corrected(ledger);
    let mut left_out = Vec::new();
    let mut eligible = Vec::new();
    for (position, c) in ledger.contributions.iter().enumerate() {
        if c.project.value != project.id.value {
            continue;
        }
        match excluded(c, agreement, date, &corrected, unapproved)
            .or_else(|| unconvertible(ledger, c))
        {
            Some(reason) => left_out.push(LeftOut {
                contribution: c.id.value.clone(),
                reason,
            }),
            None => eligible.push((position, &**c)),
        }
    }
    eligible.sort_by(|a, b| a.1.id.value.cmp(&b.1.id.value));
    (eligible, left_out)
}

/// The payout's side of [`select`]: each bucket takes its budget from the pool (a bucket paid
/// `to` one agent pays it whole), its claims are weighed against what earlier payouts paid,
/// and the budget is split among them.
struct Splitting<'e, 's, 'l> {
    /// The revenue.
    total: Decimal,
    /// What is left of it.
    pool: Decimal,
    minor_units: u32,
    /// Whether claims are listed and told apart as `--explain` shows them (every claim,
    /// forfeited ones too); not in a brief payout.
    explain: bool,
    /// Whether the explanations' words are written (see [`Options::unexplained`]).
    words: bool,
    /// Whether each bucket's claims are listed (see [`Options::unlisted`]).
    listed: bool,
    earlier: &'e Earlier<'s>,
    /// How many contributions take part (the most claims a bucket can have but for owners).
    eligible: usize,
    buckets: Vec<BucketResult>,
    /// The bucket whose claims are being selected.
    filling: Option<BucketResult>,
    claims: Vec<Pending<'l>>,
    /// By position in the ledger: whether any bucket's rule selected the contribution.
    selected: Vec<bool>,
    /// By position in the ledger: whether the contribution has a claim that takes part.
    took_part: Vec<bool>,
    /// By position in the ledger: the first bucket (by index) with a lasting claim on the
    /// contribution, if any.
    claimed_in: Vec<Option<u32>>,
    /// By position in the ledger: every bucket with a lasting claim on a contribution
    /// claimed in more than one (by index, in order).
    claimed_again: FxHashMap<usize, Vec<u32>>,
    /// Contributions whose claim was already paid in full (once paid, debt settled) or that
    /// age put out of it (beyond the lookback, decayed to nothing).
    spent: BTreeMap<&'l Id, Reason>,
    /// The day claims' ages are measured at: the payout's date, or for an undated
    /// computation the latest date among the contributions taking part.
    as_of: Option<NaiveDate>,
    /// The policy of the bucket being filled.
    policy: Policy,
    /// What recorded payouts paid, by bucket name, then agent (balanced buckets only).
    received: &'e Received,
    /// Who left before the payout, when the agreement's leaver terms can lower a weight.
    leavers: Option<super::leave::Leavers<'l>>,
}

/// What recorded payouts of a project paid, by bucket name, then agent.
type Received = BTreeMap<String, BTreeMap<Id, Decimal>>;

/// What the recorded payouts of `project` paid from each balanced bucket of `agreement`, by
/// bucket name then agent: the lines of the records already in the ledger (the same records
/// that settle debts), so the ledger is read once. Empty when no bucket is balanced.
fn received(
    ledger: &Ledger,
    project: &Project,
    agreement: &Agreement,
) -> Result<Received, PayoutError> {
    let mut out = Received::new();
    let balanced: Vec<&str> = agreement
        .buckets
        .iter()
        .filter(|b| b.policy == Policy::Balanced)
        .map(|b| b.name.value.as_str())
        .collect();
    if balanced.is_empty() {
        return Ok(out);
    }
    for p in ledger
        .payouts
        .iter()
        .filter(|p| p.project.value == project.id.value)
    {
        for l in p
            .lines
            .iter()
            .filter(|l| balanced.contains(&l.bucket.as_str()))
        {
            let e = out
                .entry(l.bucket.clone())
                .or_default()
                .entry(l.agent.value.clone())
                .or_default();
            *e = e.checked_add(l.amount).ok_or(PayoutError::Overflow)?;
        }
    }
    Ok(out)
}

/// A factor applied to a claim's weight, and why in words.
type Factor = (Decimal, String);

impl Splitting<'_, '_, '_> {
    /// The weight after the leaver terms of `agent`'s departures (equity claims only: debts
    /// and once claims are always paid), with the factor applied; `None` when the claim
    /// takes no part. A forfeited claim stays listed with weight 0 so `--explain` can say why.
    fn leaver_terms(
        &self,
        agent: &Id,
        kind: ClaimKind,
        c: &Contribution,
        weight: Decimal,
    ) -> Result<Option<(Decimal, Option<Factor>)>, PayoutError> {
        let leaving = match (&self.leavers, kind) {
            (Some(l), ClaimKind::Equity) => l.applied(agent, &c.kind, c.date.value),
            _ => None,
        };
        let weight = match &leaving {
            Some(a) => weight.checked_mul(a.factor).ok_or(PayoutError::Overflow)?,
            None => weight,
        };
        let shown = leaving.is_some() && self.explain && self.policy == Policy::Proportional;
        if weight < Decimal::ZERO || (weight.is_zero() && !shown) {
            return Ok(None);
        }
        Ok(Some((weight, leaving.map(|a| (a.factor, a.why)))))
    }
}

impl<'l> ClaimSink<'l> for Splitting<'_, '_, 'l> {
    fn bucket(&mut self, bucket: &'l Bucket) -> bool {
        let pool = self.pool;
        let (raw, rule_text) = match &bucket.budget {
            Budget::Share {
                share,
                of: Base::Total,
            } => (
                self.total * share.fraction(),
                format!("{share} of the total"),
            ),
            Budget::Share {
                share,
                of: Base::Remaining,
            } => (
                pool * share.fraction(),
                format!("{share} of the remaining {pool}"),
            ),
            Budget::Amount(a) => (*a, format!("a fixed {a}")),
            Budget::Rest => (pool, "the rest".to_owned()),
        };
        let budget = raw
            .round_dp_with_strategy(self.minor_units, RoundingStrategy::ToZero)
            .min(pool);
        let rule_text = match bucket.policy {
            Policy::Balanced => format!("{rule_text}, balanced"),
            Policy::Proportional => rule_text,
        };
        let mut result = BucketResult {
            name: bucket.name.value.clone(),
            rule: rule_text,
            budget,
            paid: Decimal::ZERO,
            returned: Decimal::ZERO,
            claims: Vec::new(),
            claimed: 0,
            lines: Vec::new(),
            balance: Vec::new(),
            received: Decimal::ZERO,
            freeze: bucket.freeze.as_ref().map(super::freeze::Summary::of),
        };
        self.policy = bucket.policy;
        // A bucket paying a project pays it whole too; its line is shared by a sub-payout.
        if let Some(to) = bucket.to.as_ref().or(bucket.to_project.as_ref()) {
            result.paid = budget;
            result.lines.push((to.value.clone(), budget, budget));
            self.pool -= budget;
            self.buckets.push(result);
            return false;
        }
        self.filling = Some(result);
        self.claims = Vec::with_capacity(self.eligible);
        true
    }

    /// Weighs one claim: its freeze and age first (they decide whether it takes part), then
    /// each holder's weight by claim kind. Long because the kinds share the holder loop.
    fn claim(&mut self, found: Found<'l>, holders: Vec<Holder<'l>>) -> Result<(), PayoutError> {
        let Found {
            position,
            contribution: c,
            kind,
            cap,
            value,
            how,
            decay,
            lookback,
            frozen,
            ..
        } = found;
        self.selected[position] = true;
        if frozen.is_some_and(|f| self.frozen_out(f, c)) {
            return Ok(());
        }
        // Age puts a claim out before any holder is weighed: it is the contribution's age.
        let day = c.date.value;
        if let (Some(window), Some(at)) = (lookback, self.as_of)
            && !window.holds(day, at)
        {
            self.spent.insert(&c.id.value, Reason::BeyondLookback);
            return Ok(());
        }
        let mut age = None;
        let decay = match (decay, self.as_of) {
            (Some(schedule), Some(at)) => {
                let applied = schedule.factor(day, at);
                if applied.factor.is_zero() {
                    self.spent.insert(&c.id.value, Reason::DecayedAway);
                    return Ok(());
                }
                let why = match self.words {
                    true => format!(
                        "age {} on {at}, {}",
                        age_text(applied.months),
                        schedule.step_text(&applied)
                    ),
                    false => String::new(),
                };
                age = Some(applied.months);
                Some((applied.factor, why))
            }
            _ => None,
        };
        let words = self.words;
        for (agent, part, owner_note) in holders {
            let value = value * part;
            let how = match &owner_note {
                Some(note) if words => format!("{how} × {note}"),
                _ => how.clone(),
            };
            let (weight, outstanding, how) = match kind {
                ClaimKind::Equity => (value, None, how),
                ClaimKind::Once => {
                    if self.earlier.once_paid.contains(&(&c.id.value, agent)) {
                        self.spent.insert(&c.id.value, Reason::OncePaid);
                        continue;
                    }
                    (value, None, how)
                }
                ClaimKind::Debt => {
                    // What is owed is money: round it to the minor unit.
                    let exact_owed = value.checked_mul(cap).ok_or(PayoutError::Overflow)?;
                    let owed = exact_owed.round_dp(self.minor_units);
                    let before = self
                        .earlier
                        .paid
                        .get(&(&c.id.value, agent))
                        .copied()
                        .unwrap_or_default();
                    let outstanding = (owed - before).max(Decimal::ZERO);
                    if outstanding.is_zero() {
                        self.spent.insert(&c.id.value, Reason::DebtSettled);
                        continue;
                    }
                    let how = match words {
                        true => debt_how(&how, value, cap, exact_owed, before, self.minor_units),
                        false => how,
                    };
                    (outstanding, Some(outstanding), how)
                }
            };
            // Decay weighs equity and once claims only (debts never decay: refused when the
            // agreement is read); a factor is at most 1, so the weight never grows.
            let weight = match &decay {
                Some((factor, _)) => weight.checked_mul(*factor).ok_or(PayoutError::Overflow)?,
                None => weight,
            };
            let Some((weight, leaving)) = self.leaver_terms(agent, kind, c, weight)? else {
                continue;
            };
            self.took_part[position] = true;
            if kind != ClaimKind::Once {
                self.claimed_by_this_bucket(position);
            }
            self.claims.push(Pending {
                contribution: c,
                agent: agent.clone(),
                kind,
                value,
                weight,
                outstanding,
                how,
                decay: decay.clone(),
                age,
                ahead: frozen.is_some(),
                leaving,
            });
        }
        Ok(())
    }

    fn bucket_done(&mut self) -> Result<(), PayoutError> {
        let Some(mut result) = self.filling.take() else {
            return Ok(());
        };
        let unit = Decimal::new(1, self.minor_units);
        let empty = BTreeMap::new();
        let balance = (self.policy == Policy::Balanced)
            .then(|| self.received.get(&result.name).unwrap_or(&empty));
        split(
            &mut result,
            std::mem::take(&mut self.claims),
            unit,
            self.listed,
            balance,
        )?;
        self.pool -= result.paid;
        self.buckets.push(result);
        Ok(())
    }
}

impl<'l> Splitting<'_, '_, 'l> {
    /// Notes a lasting claim of the bucket being filled on the contribution at `position`:
    /// its first, or one more bucket claiming it.
    fn claimed_by_this_bucket(&mut self, position: usize) {
        // The bucket being filled goes next among the buckets.
        let n = self.buckets.len() as u32;
        match self.claimed_in[position] {
            None => self.claimed_in[position] = Some(n),
            Some(first) if first != n => {
                let buckets = self
                    .claimed_again
                    .entry(position)
                    .or_insert_with(|| vec![first]);
                if buckets.last() != Some(&n) {
                    buckets.push(n);
                }
            }
            Some(_) => {}
        }
    }

    /// Work after the bucket's freeze: counted in its summary, and left out (true) when the
    /// agreement does not pay it; as debt, it is a claim like any other from here.
    fn frozen_out(&mut self, f: &super::freeze::Freeze, c: &'l Contribution) -> bool {
        if let Some(s) = self.filling.as_mut().and_then(|r| r.freeze.as_mut()) {
            s.count(c.hours.as_ref().map(|h| h.value));
        }
        if f.after != super::freeze::After::Uncounted {
            return false;
        }
        self.spent.insert(&c.id.value, Reason::Frozen);
        true
    }
}

/// The contributions that took part but were paid nothing: no bucket's rule selects them, or
/// every claim they hold is already paid in full and no bucket paid anything on them this
/// time.
fn unselected(eligible: &[(usize, &Contribution)], split: &Splitting<'_, '_, '_>) -> Vec<LeftOut> {
    let mut out = Vec::new();
    for &(position, c) in eligible {
        if !split.selected[position] {
            out.push(LeftOut {
                contribution: c.id.value.clone(),
                reason: Reason::NoRule,
            });
        } else if !split.took_part[position]
            && let Some(reason) = split.spent.get(&c.id.value)
        {
            out.push(LeftOut {
                contribution: c.id.value.clone(),
                reason: reason.clone(),
            });
        }
    }
    out
}

/// Every non-zero line, in bucket order then agent id, and what is left in the pool last, to
/// the leftover agent.
fn lines(
    buckets: &[BucketResult],
    pool: Decimal,
    terms: &Terms<'_>,
) -> Result<Vec<Line>, PayoutError> {
    let mut lines: Vec<Line> = Vec::new();
    for b in buckets {
        for (agent, _, amount) in &b.lines {
            if !amount.is_zero() {
                lines.push(Line {
                    agent: agent.clone(),
                    bucket: b.name.clone(),
                    amount: *amount,
                });
            }
        }
    }
    if pool > Decimal::ZERO {
        let agent = terms
            .leftover
            .clone()
            .ok_or_else(|| PayoutError::NoLeftoverAgent {
                amount: pool,
                agreement: terms.agreement.id.value.clone(),
                rest: terms
                    .agreement
                    .buckets
                    .iter()
                    .any(|b| matches!(b.budget, Budget::Rest)),
            })?;
        lines.push(Line {
            agent,
            bucket: LEFTOVER.to_owned(),
            amount: pool,
        });
    }
    Ok(lines)
}

/// How a debt's outstanding balance arises, as equations that hold (`--explain` prints
/// them and a test evaluates them): the claim value, what is owed (value × cap, rounded to
/// the minor unit, `→`) and what earlier recorded payouts already repaid.
fn debt_how(
    how: &str,
    value: Decimal,
    cap: Decimal,
    exact_owed: Decimal,
    before: Decimal,
    minor_units: u32,
) -> String {
    let owed = exact_owed.round_dp(minor_units);
    let mut out = format!("{how} = {}", value.normalize());
    if cap != Decimal::ONE {
        out = format!(
            "{out}; owed {} × cap {cap} = {}",
            value.normalize(),
            exact_owed.normalize()
        );
    } else if exact_owed != owed {
        out = format!("{out}; owed {}", exact_owed.normalize());
    }
    if exact_owed != owed {
        out = format!("{out} → {}", money(owed, minor_units));
    }
    if !before.is_zero() {
        out = format!(
            "{out}; {} − {} already repaid = {}",
            money(owed, minor_units),
            money(before, minor_units),
            money(owed - before, minor_units)
        );
    }
    out
}

fn find_project<'l>(ledger: &'l Ledger, id: &str) -> Result<&'l Project, PayoutError> {
    ledger
        .projects
        .iter()
        .find(|p| p.id.value.as_str() == id)
        .ok_or_else(|| PayoutError::UnknownProject {
            project: id.to_owned(),
            suggestion: super::parse::suggest(
                id,
                ledger.projects.iter().map(|p| p.id.value.as_str()),
            )
            .map(str::to_owned),
        })
}

/// Whether two kinds are the same word, comparing text only for kinds outside the four
/// named ones (a rule's kind is compared with every contribution's).
fn same_kind(a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Other(_), _) | (_, Kind::Other(_)) => a.as_str() == b.as_str(),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Whether `rule` selects contribution `c`.
#[inline]
fn rule_matches(rule: &Rule, c: &Contribution) -> bool {
    rule.kind == c.kind.as_str()
        && rule
            .project
            .as_ref()
            .is_none_or(|p| p.value == c.project.value)
        && rule.agent.as_ref().is_none_or(|a| a.value == c.agent.value)
        && rule
            .skill
            .as_ref()
            .is_none_or(|s| c.skill.as_deref() == Some(s.as_str()))
        && rule.from.is_none_or(|f| c.date.value >= f)
        && rule.until.is_none_or(|u| c.date.value <= u)
}

/// The rate per hour for a contribution: the rule's, else the agreement's rate for the agent,
/// the skill, the project, and finally its default work rate (for `use`: the resource's use
/// rate before the defaults).
fn rate_for<'l>(
    ledger: &'l Ledger,
    agreement: &'l Agreement,
    project: &'l Project,
    rule: &Rule,
    c: &'l Contribution,
) -> Option<(Decimal, RateSource<'l>)> {
    if let Some(r) = rule.rate {
        return Some((r, RateSource::Rule));
    }
    if c.kind == Kind::Use {
        let resource = c.resource.as_ref()?;
        let r = ledger
            .resources
            .iter()
            .find(|r| r.id.value == resource.value)?;
        return r
            .use_rate
            .map(|rate| (rate, RateSource::UseRate(&r.id.value)));
    }
    let rates = &agreement.rates;
    if let Some(r) = rates.agent.get(&c.agent.value) {
        return Some((r.value, RateSource::Agent(&c.agent.value)));
    }
    if let Some(skill) = &c.skill
        && let Some(r) = rates.skill.get(skill)
    {
        return Some((*r, RateSource::Skill(skill)));
    }
    if let Some(r) = rates.project.get(&project.id.value) {
        return Some((r.value, RateSource::Project(&project.id.value)));
    }
    rates.work.map(|r| (r, RateSource::Work))
}

/// Where a rate came from, for explanations (formatted only when one is shown).
#[derive(Clone, Copy, Debug)]
enum RateSource<'a> {
    Rule,
    UseRate(&'a Id),
    Agent(&'a Id),
    Skill(&'a str),
    Project(&'a Id),
    Work,
}

impl fmt::Display for RateSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateSource::Rule => f.write_str("the rule's rate"),
            RateSource::UseRate(r) => write!(f, "{r}'s use rate"),
            RateSource::Agent(a) => write!(f, "{a}'s rate"),
            RateSource::Skill(s) => write!(f, "the {s} rate"),
            RateSource::Project(p) => write!(f, "the {p} rate"),
            RateSource::Work => f.write_str("the work rate"),
        }
    }
}

/// A contribution's claim value under `rule`, and how it arose.
fn claim_value(
    ledger: &Ledger,
    agreement: &Agreement,
    project: &Project,
    rule: &Rule,
    c: &Contribution,
    bucket: &str,
    explain: bool,
) -> Result<(Decimal, String), PayoutError> {
    let conversion = converted(ledger, c)?;
    let amount = conversion.as_ref().map_or(c.amount, |x| Some(x.converted));
    // The explanation is text for people; reports over a million claims skip building it.
    let mut how = String::new();
    if let Some(formula) = &rule.formula {
        let rate = rate_for(ledger, agreement, project, rule, c);
        let inputs = super::formula::Inputs {
            hours: c.hours.as_ref().map_or(Decimal::ZERO, |h| h.value),
            amount: amount.unwrap_or_default(),
            quantity: c.quantity().unwrap_or_default(),
            rate: rate.as_ref().map(|r| r.0),
        };
        let fail = |message: String| PayoutError::Formula {
            contribution: c.id.value.clone(),
            bucket: bucket.to_owned(),
            message,
        };
        let mut value = formula.eval(&inputs).map_err(|e| fail(e.to_string()))?;
        if value < Decimal::ZERO {
            return Err(fail(format!("the claim value {value} is negative")));
        }
        if explain {
            how = format!(
                "{} with hours {}, amount {}, quantity {}{}",
                formula.source,
                inputs.hours,
                inputs.amount,
                inputs.quantity,
                rate.map(|(r, source)| format!(", rate {r} ({source})"))
                    .unwrap_or_default()
            );
        }
        if let Some(m) = rule.multiplier {
            value = value.checked_mul(m).ok_or(PayoutError::Overflow)?;
            if explain {
                how = format!("({how}) × {m}");
            }
        }
        return bounded(value, how, c, bucket);
    }
    let mut value = Decimal::ZERO;
    if let Some(hours) = &c.hours {
        let (rate, source) =
            rate_for(ledger, agreement, project, rule, c).ok_or_else(|| PayoutError::NoRate {
                contribution: c.id.value.clone(),
                bucket: bucket.to_owned(),
                what: match &c.resource {
                    Some(r) if c.kind == Kind::Use => format!("use of {}", r.value),
                    _ => c.kind.as_str().to_owned(),
                },
            })?;
        value += hours.value.checked_mul(rate).ok_or(PayoutError::Overflow)?;
        if explain {
            how = format!("{} h × {rate} ({source})", hours.value);
        }
    }
    if let Some(amount) = amount {
        value = value.checked_add(amount).ok_or(PayoutError::Overflow)?;
        if explain {
            let minor_units = ledger.network.as_ref().map_or(2, |n| n.minor_units);
            let alone = how.is_empty() && rule.multiplier.is_none();
            let shown = match &conversion {
                Some(x) => x.how(minor_units, alone),
                None => amount.to_string(),
            };
            how = if how.is_empty() {
                shown
            } else {
                format!("{how} + {shown}")
            };
        }
    }
    if let Some(m) = rule.multiplier {
        value = value.checked_mul(m).ok_or(PayoutError::Overflow)?;
        if explain {
            how = format!("({how}) × {m}");
        }
    }
    bounded(value, how, c, bucket)
}

/// A claim value within [`bounds::MAX_CLAIM`], or the error naming its contribution: the
/// bound keeps every sum of claims exact (a formula is the only way past it on a valid
/// ledger).
fn bounded(
    value: Decimal,
    how: String,
    c: &Contribution,
    bucket: &str,
) -> Result<(Decimal, String), PayoutError> {
    if value > bounds::MAX_CLAIM {
        return Err(PayoutError::ClaimTooLarge {
            contribution: c.id.value.clone(),
            bucket: bucket.to_owned(),
            value,
        });
    }
    Ok((value, how))
}

/// Who holds a contribution's claim, with their part: the contributor, or for the use of a
/// resource its owners by share (commons: the network's fund, the leftover agent).
fn recipients<'l>(
    ledger: &'l Ledger,
    c: &'l Contribution,
    fund: Option<&'l Id>,
    explain: bool,
) -> Result<Vec<Holder<'l>>, PayoutError> {
    if c.kind != Kind::Use {
        return Ok(vec![(&c.agent.value, Decimal::ONE, None)]);
    }
    let resource = c
        .resource
        .as_ref()
        .and_then(|r| ledger.resources.iter().find(|x| x.id.value == r.value));
    let Some(resource) = resource else {
        return Ok(vec![(&c.agent.value, Decimal::ONE, None)]);
    };
    if resource.ownership == Ownership::Commons {
        let fund = fund.ok_or_else(|| PayoutError::NoCommonsFund {
            contribution: c.id.value.clone(),
        })?;
        return Ok(vec![(
            fund,
            Decimal::ONE,
            explain.then(|| format!("commons {}", resource.id.value)),
        )]);
    }
    Ok(resource
        .owners
        .iter()
        .map(|o| {
            (
                &o.agent.value,
                o.share.value.fraction(),
                explain.then(|| format!("{} of {}", o.share.value, resource.id.value)),
            )
        })
        .collect())
}

/// One agent's part of a bucket in [`split`]: the agent, the exact sum of their claims'
/// shares, the cap on it (their debts' total, when they hold debts only) and their claims'
/// positions, in order.
type AgentSum<'a> = (&'a Id, Decimal, Option<Decimal>, Vec<usize>);

/// Splits a bucket's budget among its claims: debts are capped at what is outstanding
/// (water-filling: a capped debt takes its balance and the rest is split again), or for a
/// balanced bucket (`balance`: what each agent received from it before) by
/// [`balanced_shares`]; the exact shares are summed per agent and rounded by largest
/// remainder, then each agent's amount is spread over its claims the same way.
///
/// Long because the policies share the rounding that follows them; apart, it would be copied.
fn split(
    result: &mut BucketResult,
    claims: Vec<Pending<'_>>,
    unit: Decimal,
    per_claim: bool,
    balance: Option<&BTreeMap<Id, Decimal>>,
) -> Result<(), PayoutError> {
    let budget = result.budget;
    if claims.is_empty() {
        result.returned = budget;
        return Ok(());
    }
    let n = claims.len();
    result.claimed = n;
    let mut exact = vec![Decimal::ZERO; n];
    let mut open: Vec<usize> = (0..n).collect();
    let mut left = budget;
    if let Some(received) = balance {
        // Balanced buckets hold no debts (refused when the agreement is read): every claim
        // takes part, and the budget is spent whole.
        exact = balanced_shares(result, &claims, received)?;
        open.clear();
        left = Decimal::ZERO;
    }
    left = repay_ahead(&claims, &mut exact, &mut open, left);
    while !open.is_empty() {
        let total: Decimal = open.iter().map(|&i| claims[i].weight).sum();
        if total.is_zero() || open.is_empty() {
            break;
        }
        // Debts whose proportional share would exceed their balance take the balance.
        let capped: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&i| {
                claims[i]
                    .outstanding
                    .is_some_and(|o| share(left, claims[i].weight, total) >= o)
            })
            .collect();
        if capped.is_empty() {
            for &i in &open {
                exact[i] = share(left, claims[i].weight, total);
            }
            left = Decimal::ZERO;
            break;
        }
        for &i in &capped {
            let o = claims[i].outstanding.unwrap_or_default();
            exact[i] = o;
            left -= o;
        }
        // Both are in position order (`open` only ever loses entries), so a capped claim
        // is found by bisection: a linear search made a bucket of many debts quadratic.
        open.retain(|i| capped.binary_search(i).is_err());
    }
    // What the claims could not take goes back to the pool (only debts can stop short).
    let paid = budget - left.max(Decimal::ZERO);
    let paid = paid.round_dp_with_strategy(unit.scale(), RoundingStrategy::ToZero);
    result.paid = paid;
    result.returned = budget - paid;

    // Per agent: exact sums, caps (an agent holding only debts cannot pass their total), and
    // their claims in order.
    // Found by hash (an ordered map compared ids' text at every claim), then put in id
    // order; each agent's sums are still added in claim order.
    let mut found: FxHashMap<&Id, usize> = FxHashMap::default();
    let mut agents: Vec<AgentSum<'_>> = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        let k = *found.entry(&c.agent).or_insert_with(|| {
            agents.push((&c.agent, Decimal::ZERO, Some(Decimal::ZERO), Vec::new()));
            agents.len() - 1
        });
        let e = &mut agents[k];
        e.1 += exact[i];
        e.2 = match (e.2, c.outstanding) {
            (Some(a), Some(o)) => Some(a + o),
            _ => None,
        };
        e.3.push(i);
    }
    drop(found);
    agents.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let exacts: Vec<Decimal> = agents.iter().map(|v| v.1).collect();
    let caps: Vec<Option<Decimal>> = agents.iter().map(|v| v.2).collect();
    let rounded = largest_remainder(&exacts, &caps, paid, unit);
    result.lines = agents
        .iter()
        .zip(&exacts)
        .zip(&rounded)
        .map(|((a, e), r)| (a.0.clone(), *e, *r))
        .collect();

    if !per_claim {
        return Ok(());
    }
    // Spread each agent's amount over its claims (for settling debts claim by claim).
    // Each claim's contribution id is cloned here, in claim order, and moved out below:
    // cloned agent by agent, each clone reached a record and its id's count far from the
    // last (at a million records, most of the split's own time went to that line).
    let mut ids: Vec<Option<Id>> = claims
        .iter()
        .map(|p| Some(p.contribution.id.value.clone()))
        .collect();
    let mut shares: Vec<ClaimShare> = Vec::with_capacity(n);
    for ((_, _, _, mine), (_, _, amount)) in agents.iter().zip(&result.lines) {
        let e: Vec<Decimal> = mine.iter().map(|&i| exact[i]).collect();
        let c: Vec<Option<Decimal>> = mine.iter().map(|&i| claims[i].outstanding).collect();
        let r = largest_remainder(&e, &c, *amount, unit);
        for (k, &i) in mine.iter().enumerate() {
            let p = &claims[i];
            shares.push(ClaimShare {
                contribution: ids[i]
                    .take()
                    .unwrap_or_else(|| p.contribution.id.value.clone()),
                agent: p.agent.clone(),
                kind: p.kind,
                value: p.value,
                weight: p.weight,
                outstanding: p.outstanding,
                exact: exact[i],
                amount: r[k],
                how: p.how.clone(),
                decay: p.decay.clone(),
                age: p.age,
                leaving: p.leaving.clone(),
            });
        }
    }
    shares.sort_by(|a, b| (&a.agent, &a.contribution).cmp(&(&b.agent, &b.contribution)));
    result.claims = shares;
    Ok(())
}

/// Work after a bucket's freeze is repaid ahead of its equity ([`super::freeze::ahead`]):
/// those debts take their shares of `left` first (set in `exact`, taken out of `open`), and
/// what they leave is returned for the other claims. Without such debts, nothing changes.
fn repay_ahead(
    claims: &[Pending<'_>],
    exact: &mut [Decimal],
    open: &mut Vec<usize>,
    left: Decimal,
) -> Decimal {
    if !claims.iter().any(|c| c.ahead) {
        return left;
    }
    let owed: Vec<Option<Decimal>> = claims.iter().map(|c| c.ahead.then_some(c.weight)).collect();
    let Some((first, rest)) = super::freeze::ahead(left, &owed) else {
        return left;
    };
    for (i, s) in first.iter().enumerate() {
        if let Some(s) = s {
            exact[i] = *s;
        }
    }
    open.retain(|&i| first[i].is_none());
    rest
}

/// The exact shares of a balanced bucket's claims: SourceCred's BALANCED policy on the
/// bucket's weights. Everything the bucket has paid, this budget included, is shared as the
/// weights would share it (each agent's *target*); each agent's *underpayment* is how far
/// what recorded payouts paid them from a bucket of this name falls below their target (0
/// when it does not); the budget is split in proportion to the underpayments, and each
/// agent's part over their claims in proportion to their weights.
///
/// The underpayments add up to at least the budget (the targets add up to everything
/// received plus the budget), so nobody is paid past their target, and the budget is spent
/// whole; the pro rata split by weight, which the policy falls back to when no one is
/// below target, can only happen for a budget of zero. Everyone who received from the
/// bucket counts in what it has paid, claims now or not (as SourceCred counts everyone's
/// grain); those without a claim have a target of 0.
fn balanced_shares(
    result: &mut BucketResult,
    claims: &[Pending<'_>],
    received: &BTreeMap<Id, Decimal>,
) -> Result<Vec<Decimal>, PayoutError> {
    let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or(PayoutError::Overflow);
    let budget = result.budget;
    let mut weights: BTreeMap<&Id, Decimal> = BTreeMap::new();
    let mut total_weight = Decimal::ZERO;
    for c in claims {
        let w = weights.entry(&c.agent).or_default();
        *w = add(*w, c.weight)?;
        total_weight = add(total_weight, c.weight)?;
    }
    let mut total_received = Decimal::ZERO;
    for r in received.values() {
        total_received = add(total_received, *r)?;
    }
    let everything = add(total_received, budget)?;
    let mut rows = Vec::with_capacity(weights.len());
    let mut total_under = Decimal::ZERO;
    for (&agent, &weight) in &weights {
        let target = share(everything, weight, total_weight);
        let got = received.get(agent).copied().unwrap_or_default();
        let under = target
            .checked_sub(got)
            .ok_or(PayoutError::Overflow)?
            .max(Decimal::ZERO);
        total_under = add(total_under, under)?;
        rows.push(Balance {
            agent: agent.clone(),
            weight,
            received: got,
            target,
            underpaid: under,
        });
    }
    let parts: BTreeMap<&Id, Decimal> = rows
        .iter()
        .map(|r| {
            let part = match total_under.is_zero() {
                true => share(budget, r.weight, total_weight),
                false => share(budget, r.underpaid, total_under),
            };
            (&r.agent, part)
        })
        .collect();
    let exact = claims
        .iter()
        .map(|c| {
            let part = parts.get(&c.agent).copied().unwrap_or_default();
            let mine = weights.get(&c.agent).copied().unwrap_or(Decimal::ONE);
            share(part, c.weight, mine)
        })
        .collect();
    for (agent, &got) in received {
        if !weights.contains_key(agent) {
            rows.push(Balance {
                agent: agent.clone(),
                weight: Decimal::ZERO,
                received: got,
                target: Decimal::ZERO,
                underpaid: Decimal::ZERO,
            });
        }
    }
    rows.sort_by(|a, b| a.agent.cmp(&b.agent));
    result.balance = rows;
    result.received = total_received;
    Ok(exact)
}

/// `amount × weight / total`, exact to 28 significant digits.
fn share(amount: Decimal, weight: Decimal, total: Decimal) -> Decimal {
    // Multiply first where it fits, for precision; divide first where it would overflow.
    match amount.checked_mul(weight) {
        Some(p) => p / total,
        None => amount * (weight / total),
    }
}

/// Rounds `exact` values (in order, ties to the earlier one) to multiples of `unit` summing to
/// `target`: floor each, then give one unit each to the largest remainders, never past a cap.
pub fn largest_remainder(
    exact: &[Decimal],
    caps: &[Option<Decimal>],
    target: Decimal,
    unit: Decimal,
) -> Vec<Decimal> {
    let floor = floor_to(unit);
    let mut out: Vec<Decimal> = exact.iter().map(|&e| floor(e.max(Decimal::ZERO))).collect();
    let mut missing = ((target - out.iter().copied().sum::<Decimal>()) / unit).round();
    if missing <= Decimal::ZERO {
        return out;
    }
    let mut order: Vec<usize> = (0..exact.len()).collect();
    // Largest remainder first; equal remainders in input order (callers sort by agent id).
    // Worked out once: a sort compares each about log n times.
    let remainder: Vec<Decimal> = exact.iter().zip(&out).map(|(e, o)| e - o).collect();
    // As integers at the largest scale when they fit (remainders are below one unit, so
    // they do): the same order, compared without aligning scales each time.
    let scale = remainder.iter().map(|r| r.scale()).max().unwrap_or(0);
    let keys: Option<Vec<i128>> = remainder
        .iter()
        .map(|r| r.mantissa().checked_mul(10i128.pow(scale - r.scale())))
        .collect();
    let first = |&a: &usize, &b: &usize| match &keys {
        Some(k) => k[b].cmp(&k[a]).then(a.cmp(&b)),
        None => remainder[b].cmp(&remainder[a]).then(a.cmp(&b)),
    };
    // Without caps, the `missing` first in that order take one unit each (when there are
    // that many), whatever their order among themselves: finding them is enough, and cheaper
    // than sorting an agent's tens of thousands of claims.
    if caps.iter().all(Option::is_none)
        && let Some(m) = missing.to_usize().filter(|&m| m <= order.len())
    {
        if m < order.len() {
            order.select_nth_unstable_by(m, first);
        }
        for &i in &order[..m] {
            out[i] += unit;
        }
        return out;
    }
    order.sort_unstable_by(first);
    while missing > Decimal::ZERO {
        let before = missing;
        for &i in &order {
            if missing <= Decimal::ZERO {
                break;
            }
            if caps[i].is_some_and(|c| out[i] + unit > c) {
                continue;
            }
            out[i] += unit;
            missing -= Decimal::ONE;
        }
        if missing == before {
            break; // every line is at its cap: cannot happen for a consistent split
        }
    }
    out
}

/// Rounding down to a multiple of `unit` (of a value at least zero): by truncating at its
/// decimal places when `unit` is a power of ten (a minor unit always is), which gives the
/// same value at the same scale as dividing, flooring and multiplying back (zero the plain
/// zero, as that product is), without a division for every claim.
fn floor_to(unit: Decimal) -> impl Fn(Decimal) -> Decimal {
    let places = unit.scale();
    let decimal = unit.mantissa() == 1;
    move |d: Decimal| {
        if !decimal {
            return (d / unit).floor() * unit;
        }
        let mut t = d.trunc_with_scale(places);
        if t.is_zero() {
            // A product with zero is the plain zero.
            return Decimal::ZERO;
        }
        t.rescale(places);
        t
    }
}

/// A `sha256:` digest of everything a payout was computed from: the network settings, the
/// project, its agreement, the resources, the project's contributions (canonical text, by
/// id), what earlier payouts settled, and the request. Two computations with the same digest
/// had the same inputs.
pub fn digest(ledger: &Ledger, payout: &Payout, settled: &[Settled]) -> String {
    use std::fmt::Write as _;

    use super::write;
    let mut text = String::from("ovn payout inputs v1\n");
    if let Some(n) = &ledger.network {
        text.push_str(&write::network(n));
    }
    if let Some(p) = ledger
        .projects
        .iter()
        .find(|p| p.id.value == payout.project)
    {
        text.push_str(&write::project(p));
    }
    if let Some(a) = ledger
        .agreements
        .iter()
        .find(|a| a.id.value == payout.agreement)
    {
        text.push_str(&write::agreement(a));
    }
    for r in &ledger.resources {
        text.push_str(&write::resource(r));
    }
    let mut contributions: Vec<&Contribution> = ledger
        .contributions
        .iter()
        .map(|c| &**c)
        .filter(|c| c.project.value == payout.project)
        .collect();
    contributions.sort_by(|a, b| a.id.value.cmp(&b.id.value));
    for c in contributions {
        text.push_str(&write::contribution(c));
    }
    let mut settled: Vec<String> = settled
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.contribution,
                s.agent,
                s.kind.as_str(),
                s.amount.normalize()
            )
        })
        .collect();
    settled.sort();
    for s in settled {
        let _ = writeln!(text, "settled {s}");
    }
    // A balanced bucket also reads what recorded payouts paid from it (written only then, so
    // the digests of other payouts stay as they were).
    let agreement = ledger
        .agreements
        .iter()
        .find(|a| a.id.value == payout.agreement);
    let project = ledger
        .projects
        .iter()
        .find(|p| p.id.value == payout.project);
    if let (Some(a), Some(p)) = (agreement, project)
        && let Ok(received) = received(ledger, p, a)
    {
        for (bucket, agents) in &received {
            for (agent, amount) in agents {
                let _ = writeln!(text, "received {bucket:?} {agent} {}", amount.normalize());
            }
        }
    }
    // Leaver terms that apply (written only then, so other payouts' digests stay as they were).
    if let Some(a) = agreement
        && let Some(l) = super::leave::Leavers::of(&ledger.agents, &a.leaving, payout.date)
    {
        for line in l.digest_lines() {
            let _ = writeln!(text, "{line}");
        }
    }
    // Conversions at dated rates (written only then, so other digests stay as they were).
    text.push_str(&super::fx::digest_lines(ledger, payout.project.as_str()));
    let _ = writeln!(
        text,
        "request {} {} {}",
        payout.project,
        payout.amount.normalize(),
        payout.date.map(|d| d.to_string()).unwrap_or_default()
    );
    super::value::sha256_text(&text)
}

/// Writes `amount` with exactly `minor_units` decimal places (`300` → `300.00`).
pub fn money(amount: Decimal, minor_units: u32) -> String {
    let mut d = amount;
    d.rescale(minor_units);
    d.to_string()
}

/// The record of a computed payout, ready to be written by the canonical writer.
pub fn record(
    payout: &Payout,
    id: Id,
    date: NaiveDate,
    memo: Option<String>,
    commit: String,
    digest: String,
) -> super::record::PayoutRecord {
    use super::record::{At, PaidLine, PayoutRecord, SettledClaim};
    let mu = payout.minor_units;
    let fixed = |d: Decimal| {
        let mut d = d;
        d.rescale(mu);
        d
    };
    PayoutRecord {
        file: 0,
        id: At::new(id),
        project: At::new(payout.project.clone()),
        agreement: At::new(payout.agreement.clone()),
        date: At::new(date),
        amount: At::new(fixed(payout.amount)),
        currency: payout.currency.clone(),
        memo,
        commit,
        digest,
        follows: None,
        parent: None,
        lines: payout
            .lines
            .iter()
            .map(|l| PaidLine {
                agent: At::new(l.agent.clone()),
                bucket: l.bucket.clone(),
                amount: fixed(l.amount),
                project: None,
                payout: None,
            })
            .collect(),
        settled: payout
            .settled()
            .into_iter()
            .map(|s| SettledClaim {
                contribution: At::new(s.contribution),
                agent: At::new(s.agent),
                claim: s.kind,
                amount: fixed(s.amount),
            })
            .collect(),
        overpaid: Vec::new(),
        source: None,
    }
}

/// One claim a contribution holds under its project's agreement, before any revenue is split:
/// what `ovn report claims` and `ovn report contributions` show. It borrows its ids from the
/// ledger: a report over a million contributions makes a million of them, and a clone of an
/// id is a reference count both cores write to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim<'l> {
    /// The contribution.
    pub contribution: &'l Id,
    /// The contribution's position in `ledger.contributions` (so a caller that sums claims
    /// by the contribution's date or folder finds it without a lookup by id).
    pub position: usize,
    /// Who holds the claim (for use of a resource: one of its owners, or the fund).
    pub agent: &'l Id,
    /// The bucket whose rule selects it.
    pub bucket: &'l str,
    /// Equity, debt or once.
    pub kind: ClaimKind,
    /// Its value (for use of a resource: this owner's part).
    pub value: Decimal,
    /// For debt: what it repays in all (value × cap, rounded to the minor unit).
    pub owed: Option<Decimal>,
    /// What recorded payouts already paid on it (debt and once claims).
    pub paid: Decimal,
}

/// Every claim the contributions of `project` hold under its agreement as of `date` (all
/// dates when `None`): the same selection as [`compute`] (corrected contributions and those
/// outside the agreement's dates take no part; each bucket's first matching rule gives the
/// claim), with what `settled` already paid, whether or not it is settled in full. Sorted
/// by bucket order, then agent and contribution.
pub fn claims<'l>(
    ledger: &'l Ledger,
    project: &str,
    date: Option<NaiveDate>,
    settled: &[Settled],
) -> Result<Vec<Claim<'l>>, PayoutError> {
    let mut all = claims_of(ledger, &[project], date, settled)?;
    Ok(all.pop().unwrap_or_default())
}

/// [`claims`] for several projects at once, in the order given: the ledger's contributions
/// are read once for all of them, not once per project.
pub fn claims_of<'l>(
    ledger: &'l Ledger,
    projects: &[&str],
    date: Option<NaiveDate>,
    settled: &[Settled],
) -> Result<Vec<Vec<Claim<'l>>>, PayoutError> {
    let mut out = Vec::with_capacity(projects.len());
    for_each_claims(ledger, projects, date, settled, |_, claims| {
        out.push(claims);
        Ok(())
    })?;
    Ok(out)
}

/// [`claims_of`], handing each project's claims (with its index in `projects`) to `f` as
/// soon as they are made, so only one project's claims are held at a time.
pub fn for_each_claims<'l>(
    ledger: &'l Ledger,
    projects: &[&str],
    date: Option<NaiveDate>,
    settled: &[Settled],
    mut f: impl FnMut(usize, Vec<Claim<'l>>) -> Result<(), PayoutError>,
) -> Result<(), PayoutError> {
    let (found, by_project) = contributions_of(ledger, projects)?;
    let mut paid: FxHashMap<(&Id, &Id, ClaimKind), Decimal> = FxHashMap::default();
    let settled = follow_corrections(ledger, settled);
    for s in settled.iter() {
        *paid.entry((&s.contribution, &s.agent, s.kind)).or_default() += s.amount;
    }
    // Projects are independent: a few at a time (one per core) are worked out in parallel,
    // then handed over in order, so memory still holds only a few projects' claims.
    let threads = rayon::current_num_threads().max(1);
    for (n, chunk) in found.chunks(threads).enumerate() {
        let results: Vec<Result<Vec<Claim>, PayoutError>> = chunk
            .par_iter()
            .map(|p| {
                let mut sink = ClaimList {
                    minor_units: ledger.network.as_ref().map_or(2, |n| n.minor_units),
                    paid: &paid,
                    out: Vec::new(),
                    start: 0,
                };
                walk_claims(ledger, p, positions(&by_project, p), date, &mut sink)?;
                Ok(sink.out)
            })
            .collect();
        for (k, claims) in results.into_iter().enumerate() {
            f(n * threads + k, claims?)?;
        }
    }
    Ok(())
}

/// The claim value of every contribution of `projects` as of `date`, summed over its claims
/// (its buckets and, for use of a resource, its owners): [`claims_of`] added up per
/// contribution, in the same order, without building the claims (a report over a million
/// contributions needs only the sums). Indexed like `ledger.contributions`; zero for
/// contributions that hold no claim.
pub fn contribution_values(
    ledger: &Ledger,
    projects: &[&str],
    date: Option<NaiveDate>,
) -> Result<Vec<Decimal>, PayoutError> {
    let (found, by_project) = contributions_of(ledger, projects)?;
    let sums: Vec<Result<Vec<(usize, Decimal)>, PayoutError>> = found
        .par_iter()
        .map(|p| {
            let mut sink = ValueSums { sums: Vec::new() };
            walk_claims(ledger, p, positions(&by_project, p), date, &mut sink)?;
            Ok(sink.sums)
        })
        .collect();
    let mut values = vec![Decimal::ZERO; ledger.contributions.len()];
    for sums in sums {
        for (i, value) in sums? {
            values[i] += value;
        }
    }
    Ok(values)
}

/// The projects named, and the positions of the contributions that count (corrected ones
/// do not) by project id, in ledger order.
fn contributions_of<'l>(
    ledger: &'l Ledger,
    projects: &[&str],
) -> Result<(Vec<&'l Project>, ByProject<'l>), PayoutError> {
    let found: Vec<&Project> = projects
        .iter()
        .map(|p| find_project(ledger, p))
        .collect::<Result<_, _>>()?;
    let corrected = corrected(ledger);
    let mut by_project: ByProject<'l> = found
        .iter()
        .map(|p| (p.id.value.as_str(), Vec::new()))
        .collect();
    for (i, c) in ledger.contributions.iter().enumerate() {
        if let Some(list) = by_project.get_mut(c.project.value.as_str())
            && (corrected.is_empty() || !corrected.contains(&c.id.value))
        {
            list.push(i);
        }
    }
    Ok((found, by_project))
}

/// Positions in `ledger.contributions`, by project id.
type ByProject<'l> = FxHashMap<&'l str, Vec<usize>>;

/// The positions of `project`'s contributions.
fn positions<'a>(by_project: &'a ByProject<'_>, project: &Project) -> &'a [usize] {
    by_project
        .get(project.id.value.as_str())
        .map_or(&[][..], Vec::as_slice)
}

/// A claim as [`select`] finds it: a contribution under the first rule of a bucket that
/// selects it, before it is shared among those who hold it.
struct Found<'l> {
    /// The contribution's position in the ledger.
    position: usize,
    contribution: &'l Contribution,
    bucket: &'l Bucket,
    kind: ClaimKind,
    cap: Decimal,
    /// The whole claim's value (each holder takes its part).
    value: Decimal,
    /// How the value arose (empty unless explaining).
    how: String,
    /// The decay schedule of its rule, else of its bucket.
    decay: Option<&'l Schedule>,
    /// The lookback window of its rule, else of its bucket.
    lookback: Option<Age>,
    /// Its bucket's freeze, when the claim is equity dated on or after it (its kind and
    /// value are then the freeze's).
    frozen: Option<&'l super::freeze::Freeze>,
}

/// Who holds a claim, their part of it, and for owners of a resource a note for explanations
/// (borrowed from the ledger: a report counts a million claims, and cloning each holder's id
/// touched a reference count every thread shares).
type Holder<'l> = (&'l Id, Decimal, Option<String>);

/// Where [`select`] puts the claims it finds: the payout splits them, reports list or sum
/// them.
trait ClaimSink<'l> {
    /// A bucket begins; whether its claims are wanted (a bucket paid `to` one agent has none).
    fn bucket(&mut self, bucket: &'l Bucket) -> bool {
        bucket.to.is_none()
    }
    /// One contribution's claim in the bucket, and who holds it.
    fn claim(&mut self, found: Found<'l>, holders: Vec<Holder<'l>>) -> Result<(), PayoutError>;
    /// A claim its contributor holds alone (anything but the use of a resource): as
    /// [`ClaimSink::claim`] with the contributor as the one holder, unless a sink can do
    /// without the list (a report sums a million of them).
    fn claim_own(&mut self, found: Found<'l>) -> Result<(), PayoutError> {
        let holders = vec![(&found.contribution.agent.value, Decimal::ONE, None)];
        self.claim(found, holders)
    }
    /// The bucket's claims are all found.
    fn bucket_done(&mut self) -> Result<(), PayoutError> {
        Ok(())
    }
    /// Whether the claims must come in the order of their contributions' ids. A payout's
    /// split adds shares that division made inexact, so the order of its sums is part of
    /// the answer; a sink that puts each bucket's claims in an order of its own, or keeps
    /// each contribution's sums apart, does not need it (and sorting a million ids cost
    /// a report more than summing them).
    fn in_id_order(&self) -> bool {
        true
    }
}

/// The claim-selection engine, the one both payouts and reports use: bucket by bucket in the
/// agreement's order, the `eligible` contributions (sorted by id) under each bucket's first
/// rule that selects them, with the claim's kind, cap and value and who holds it (the
/// contributor, or for use of a resource its owners, or the `fund` for commons).
fn select<'l>(
    ledger: &'l Ledger,
    agreement: &'l Agreement,
    project: &'l Project,
    eligible: &[(usize, &'l Contribution)],
    fund: Option<&'l Id>,
    explain: bool,
    sink: &mut impl ClaimSink<'l>,
) -> Result<(), PayoutError> {
    for bucket in &agreement.buckets {
        if !sink.bucket(bucket) {
            continue;
        }
        // The rules' kinds as values once, compared cheaply with each contribution's.
        let kinds: Vec<Kind> = bucket
            .rules
            .iter()
            .map(|r| Kind::from_word(&r.kind))
            .collect();
        for &(position, c) in eligible {
            let found = bucket
                .rules
                .iter()
                .zip(&kinds)
                .find(|(r, kind)| same_kind(kind, &c.kind) && rule_matches(r, c));
            let Some((rule, _)) = found else {
                continue;
            };
            let kind = rule.claim.unwrap_or(bucket.claim);
            let frozen = super::freeze::frozen(bucket.freeze.as_ref(), kind, c.date.value);
            let (kind, value, how) = match frozen {
                Some(f) => frozen_claim(ledger, f, c, &bucket.name.value, explain)?,
                None => {
                    let (value, how) = claim_value(
                        ledger,
                        agreement,
                        project,
                        rule,
                        c,
                        &bucket.name.value,
                        explain,
                    )?;
                    (kind, value, how)
                }
            };
            let holders = match c.kind {
                Kind::Use => Some(recipients(ledger, c, fund, explain)?),
                _ => None,
            };
            let found = Found {
                position,
                contribution: c,
                bucket,
                kind,
                cap: match frozen {
                    Some(_) => Decimal::ONE,
                    None => rule.cap.or(bucket.cap).unwrap_or(Decimal::ONE),
                },
                value,
                how,
                decay: rule.decay.as_ref().or(bucket.decay.as_ref()),
                lookback: rule.lookback.or(bucket.lookback),
                frozen,
            };
            match holders {
                Some(holders) => sink.claim(found, holders)?,
                None => sink.claim_own(found)?,
            }
        }
        sink.bucket_done()?;
    }
    Ok(())
}

/// `c`'s amount in the network currency when it is in another one (rounded once, to the
/// minor unit; see [`super::fx`]), `None` when it needs no conversion. Every claim value
/// takes its amount through here, so a frozen debt counts the same amount as a live claim.
fn converted<'l>(
    ledger: &'l Ledger,
    c: &'l Contribution,
) -> Result<Option<super::fx::Conversion<'l>>, PayoutError> {
    match c.currency() {
        Some(currency) => {
            super::fx::conversion(ledger, c).map_err(|_| PayoutError::OtherCurrency {
                contribution: c.id.value.clone(),
                currency: currency.to_owned(),
            })
        }
        None => Ok(None),
    }
}

/// The claim of a contribution dated on or after its bucket's freeze ([`super::freeze`]): a
/// debt of its hours at the freeze rate plus its amount, or, when later work is not counted,
/// nothing (value 0; the sinks leave it out).
fn frozen_claim(
    ledger: &Ledger,
    f: &super::freeze::Freeze,
    c: &Contribution,
    bucket: &str,
    explain: bool,
) -> Result<(ClaimKind, Decimal, String), PayoutError> {
    if f.after == super::freeze::After::Uncounted {
        return Ok((ClaimKind::Equity, Decimal::ZERO, String::new()));
    }
    // A frozen debt takes the amount as every claim does: converted when foreign.
    let amount = converted(ledger, c)?.map_or(c.amount, |x| Some(x.converted));
    let (value, how) = f
        .debt(c.hours.as_ref().map(|h| h.value), amount, explain)
        .ok_or(PayoutError::Overflow)?;
    let (value, how) = bounded(value, how, c, bucket)?;
    Ok((ClaimKind::Debt, value, how))
}

/// A resource's owners by agent id (stable: an owner listed twice keeps its order), the
/// order [`Claim`] lists are sorted in, so sums over a contribution's claims are added in the
/// same order either way.
fn by_agent(mut holders: Vec<Holder<'_>>) -> Vec<Holder<'_>> {
    holders.sort_by(|a, b| a.0.cmp(b.0));
    holders
}

/// Collects [`Claim`]s, sorted within each bucket by agent and contribution.
struct ClaimList<'a, 'p, 'l> {
    minor_units: u32,
    /// What recorded payouts paid, by contribution, agent and kind (ids borrowed from the
    /// settlements, `'p`; the claims borrow from the ledger, `'l`).
    paid: &'a FxHashMap<(&'p Id, &'p Id, ClaimKind), Decimal>,
    out: Vec<Claim<'l>>,
    start: usize,
}

impl<'l> ClaimList<'_, '_, 'l> {
    /// Lists `agent`'s `part` of the claim `found` (work after a freeze that does not count
    /// holds none).
    fn push(&mut self, found: &Found<'l>, agent: &'l Id, part: Decimal) {
        let Found {
            position,
            contribution: c,
            bucket,
            kind,
            cap,
            value,
            frozen,
            ..
        } = *found;
        if frozen.is_some_and(|f| f.after == super::freeze::After::Uncounted) {
            return;
        }
        let value = value * part;
        // No recorded payout (the common case in reports): no lookup at all.
        let earlier = if self.paid.is_empty() {
            Decimal::ZERO
        } else {
            self.paid
                .get(&(&c.id.value, agent, kind))
                .copied()
                .unwrap_or_default()
        };
        self.out.push(Claim {
            contribution: &c.id.value,
            position,
            agent,
            bucket: &bucket.name.value,
            kind,
            value,
            owed: (kind == ClaimKind::Debt).then(|| (value * cap).round_dp(self.minor_units)),
            paid: earlier,
        });
    }
}

impl<'l> ClaimSink<'l> for ClaimList<'_, '_, 'l> {
    fn claim(&mut self, found: Found<'l>, holders: Vec<Holder<'l>>) -> Result<(), PayoutError> {
        for (agent, part, _) in by_agent(holders) {
            self.push(&found, agent, part);
        }
        Ok(())
    }

    fn claim_own(&mut self, found: Found<'l>) -> Result<(), PayoutError> {
        self.push(&found, &found.contribution.agent.value, Decimal::ONE);
        Ok(())
    }

    fn bucket_done(&mut self) -> Result<(), PayoutError> {
        sort_claims(&mut self.out[self.start..]);
        self.start = self.out.len();
        Ok(())
    }

    /// Each bucket's claims are sorted by agent and contribution when it is done (a
    /// contribution's holders, consecutive, keep their order), whatever order they came in.
    fn in_id_order(&self) -> bool {
        false
    }
}

/// Sorts `claims` by agent, then contribution, keeping the order of equal pairs: exactly
/// what a stable sort by the pair does, without comparing two agents' text for every pair
/// of claims (that was about a fifth of counting a window's claims). Each agent is ranked once
/// (found by where its shared text lives, [`Id::addr`]); the claims are placed by rank,
/// in the order they came; and each agent's run is sorted by contribution only when it is
/// not in that order already (claims come in path order, in which a day folder's ids are
/// sorted).
fn sort_claims(claims: &mut [Claim<'_>]) {
    if claims.len() < 2 {
        return;
    }
    // Agents in the order first met, found by address (a few hundred at most, mostly).
    let mut met: FxHashMap<usize, usize> = FxHashMap::default();
    let mut agents: Vec<&Id> = Vec::new();
    let found: Vec<usize> = claims
        .iter()
        .map(|c| {
            *met.entry(c.agent.addr()).or_insert_with(|| {
                agents.push(c.agent);
                agents.len() - 1
            })
        })
        .collect();
    // Ranks by text: equal ids read apart (two addresses) share one.
    let mut by_text: Vec<usize> = (0..agents.len()).collect();
    by_text.sort_by(|&a, &b| agents[a].cmp(agents[b]));
    let mut rank = vec![0usize; agents.len()];
    let mut next = 0;
    for (n, &a) in by_text.iter().enumerate() {
        if n > 0 && agents[by_text[n - 1]] != agents[a] {
            next += 1;
        }
        rank[a] = next;
    }
    // Placed by rank, stably: where each rank's run starts, then each claim in turn.
    let mut starts = vec![0usize; next + 2];
    for &f in &found {
        starts[rank[f] + 1] += 1;
    }
    for r in 1..starts.len() {
        starts[r] += starts[r - 1];
    }
    let runs = starts.clone();
    let mut placed = claims.to_vec();
    for (c, &f) in claims.iter().zip(&found) {
        let at = &mut starts[rank[f]];
        placed[*at] = *c;
        *at += 1;
    }
    claims.copy_from_slice(&placed);
    for run in runs.windows(2) {
        let run = &mut claims[run[0]..run[1]];
        if !run.is_sorted_by(|a, b| a.contribution <= b.contribution) {
            run.sort_by(|a, b| a.contribution.cmp(b.contribution));
        }
    }
}

/// Adds up each contribution's claims (by position in the ledger).
struct ValueSums {
    /// Each claim's part of a value (a contribution may claim in several buckets, and for
    /// use of a resource once per owner), by position, in the order the claims are found:
    /// added up in that order after.
    sums: Vec<(usize, Decimal)>,
}

impl<'l> ClaimSink<'l> for ValueSums {
    fn claim(&mut self, found: Found<'l>, holders: Vec<Holder<'l>>) -> Result<(), PayoutError> {
        for (_, part, _) in by_agent(holders) {
            self.sums.push((found.position, found.value * part));
        }
        Ok(())
    }

    fn claim_own(&mut self, found: Found<'l>) -> Result<(), PayoutError> {
        // The value times a part of one: the value itself, scale included.
        self.sums.push((found.position, found.value));
        Ok(())
    }

    /// A contribution's sums are added in bucket order, whatever order the contributions
    /// come in.
    fn in_id_order(&self) -> bool {
        false
    }
}

/// Every claim the contributions at `positions` (all of `project`, none corrected) hold under
/// its agreement as of `date`, through [`select`] with the contributions [`excluded`] leaves
/// in; nothing for a project without an agreement.
fn walk_claims<'l>(
    ledger: &'l Ledger,
    project: &'l Project,
    positions: &[usize],
    date: Option<NaiveDate>,
    sink: &mut impl ClaimSink<'l>,
) -> Result<(), PayoutError> {
    let Some(agreement_id) = project.agreement.as_ref() else {
        return Ok(());
    };
    let Some(agreement) = ledger
        .agreements
        .iter()
        .find(|a| a.id.value == agreement_id.value)
    else {
        return Ok(());
    };
    let fund = fund(ledger, agreement);
    // Corrected contributions are not among the positions.
    let none = FxHashSet::default();
    let mut eligible: Vec<(usize, &Contribution)> = positions
        .iter()
        .map(|&i| (i, &*ledger.contributions[i]))
        .filter(|(_, c)| {
            excluded(c, agreement, date, &none, None).is_none()
                && unconvertible(ledger, c).is_none()
        })
        .collect();
    if sink.in_id_order() {
        eligible.sort_by(|a, b| a.1.id.value.cmp(&b.1.id.value));
    }
    select(ledger, agreement, project, &eligible, fund, false, sink)
}

/// What to do about money no bucket took: a rest bucket that found no validated claims says
/// so (advising one would be wrong advice), otherwise name both ways out.
fn leftover_hint(rest: bool) -> &'static str {
    if rest {
        "its `rest` bucket found no validated claims to pay; set `leftover` in the agreement or in ovn.toml to name who receives it meanwhile"
    } else {
        "set `leftover` in the agreement or in ovn.toml, or end with a `share = \"rest\"` bucket"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A project `p` whose agreement has one bucket (`bucket`, TOML lines) over work at 10 an
    /// hour, with `work` (agent, date, hours) and earlier payouts (`paid`: agent, amount)
    /// recorded from a bucket named "shared".
    fn policy_ledger(bucket: &str, work: &[(&str, &str, &str)], paid: &[(&str, &str)]) -> Ledger {
        let mut files = vec![
            (
                "ovn.toml".to_owned(),
                "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"ana\"\n".to_owned(),
            ),
            (
                "projects/p.toml".to_owned(),
                "id = \"p\"\nname = \"P\"\nagreement = \"a\"\nstewards = [\"ana\"]\n".to_owned(),
            ),
            (
                "agreements/a.toml".to_owned(),
                format!(
                    "id = \"a\"\nname = \"A\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"10\"\n\n\
                     [[buckets]]\nname = \"shared\"\nshare = \"rest\"\n{bucket}\n\
                     [[buckets.rules]]\nkind = \"work\"\n"
                ),
            ),
        ];
        for a in ["ana", "ben", "cy"] {
            files.push((
                format!("agents/{a}.toml"),
                format!("id = \"{a}\"\nname = \"{a}\"\nkind = \"person\"\nemails = []\n"),
            ));
        }
        for (i, (agent, date, hours)) in work.iter().enumerate() {
            let id = format!("01w{i:023}");
            files.push((
                format!("contributions/{}/{id}.toml", date.replace('-', "/")),
                format!(
                    "id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"p\"\n\
                     kind = \"work\"\ndescription = \"w\"\nhours = \"{hours}\"\n"
                ),
            ));
        }
        if !paid.is_empty() {
            let total: Decimal = paid.iter().map(|(_, a)| dec(a)).sum();
            let mut text = format!(
                "id = \"01pa0000000000000000000001\"\nproject = \"p\"\nagreement = \"a\"\n\
                 date = 2026-01-31\namount = \"{total}\"\ncurrency = \"EUR\"\n\
                 commit = \"4ccf833f990b4ccf833f990b4ccf833f990b0000\"\n\
                 digest = \"sha256:{}\"\nfollows = []\n",
                "0".repeat(64)
            );
            for (agent, amount) in paid {
                text.push_str(&format!(
                    "\n[[lines]]\nagent = \"{agent}\"\nbucket = \"shared\"\namount = \"{amount}\"\n"
                ));
            }
            files.push((
                "payouts/2026/01pa0000000000000000000001.toml".to_owned(),
                text,
            ));
        }
        let raw: Vec<RawFile> = files
            .into_iter()
            .map(|(path, text)| RawFile {
                path,
                bytes: text.into_bytes(),
            })
            .collect();
        let loaded = ledger::load(&raw);
        assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
        loaded.ledger
    }

    fn pay(ledger: &Ledger, amount: &str, date: &str) -> Payout {
        let request = Request {
            project: "p",
            amount: dec(amount),
            date: Some(NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()),
        };
        compute(ledger, &request, &settled_by_records(ledger)).unwrap()
    }

    fn totals(p: &Payout) -> Vec<(String, String)> {
        p.totals
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect()
    }

    /// The worked example of ovn-ledger(5), Balanced payouts, on SourceCred's BALANCED
    /// algorithm: weights 50, 30, 20; earlier receipts 700, 300, 600; budget 400. Everything
    /// paid is then 2000, the targets 1000, 600 and 400; ana and ben are 300 below target, cy
    /// 200 above; the 400 goes 300 : 300 : 0 → 200, 200, 0 (as `balancedReceipts` gives).
    #[test]
    fn balanced_matches_sourcecred_on_the_worked_example() {
        let ledger = policy_ledger(
            "policy = \"balanced\"",
            &[
                ("ana", "2026-01-10", "5"),
                ("ben", "2026-01-10", "3"),
                ("cy", "2026-01-10", "2"),
            ],
            &[("ana", "700.00"), ("ben", "300.00"), ("cy", "600.00")],
        );
        let p = pay(&ledger, "400.00", "2026-06-30");
        assert_eq!(
            totals(&p),
            vec![
                ("ana".into(), "200.00".into()),
                ("ben".into(), "200.00".into())
            ]
        );
        let b = &p.buckets[0];
        let rows: Vec<(&str, Decimal, Decimal, Decimal)> = b
            .balance
            .iter()
            .map(|r| (r.agent.as_str(), r.received, r.target, r.underpaid))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("ana", dec("700.00"), dec("1000"), dec("300")),
                ("ben", dec("300.00"), dec("600"), dec("300")),
                ("cy", dec("600.00"), dec("400"), dec("0")),
            ]
        );
        assert_eq!(b.received, dec("1600.00"));
        assert_eq!(p.sum(), dec("400.00"));
        // Without earlier payouts a balanced bucket pays as the proportional one does.
        let fresh = policy_ledger(
            "policy = \"balanced\"",
            &[
                ("ana", "2026-01-10", "5"),
                ("ben", "2026-01-10", "3"),
                ("cy", "2026-01-10", "2"),
            ],
            &[],
        );
        assert_eq!(
            totals(&pay(&fresh, "400.00", "2026-06-30")),
            vec![
                ("ana".into(), "200.00".into()),
                ("ben".into(), "120.00".into()),
                ("cy".into(), "80.00".into())
            ]
        );
    }

    /// The worked example of ovn-ledger(5), Decay and lookback: a schedule of 1, 0.5 and 0.25
    /// by year, paid on 2027-01-15.
    #[test]
    fn decay_weighs_claims_by_age() {
        let ledger = policy_ledger(
            "decay = [{ until = \"1y\", factor = \"1\" }, { until = \"2y\", factor = \"0.5\" }, \
             { until = \"5y\", factor = \"0.25\" }]",
            &[
                ("ana", "2026-03-01", "10"),
                ("ben", "2025-06-01", "10"),
                ("cy", "2023-01-15", "20"),
                ("cy", "2021-12-31", "20"),
            ],
            &[],
        );
        let p = pay(&ledger, "700.00", "2027-01-15");
        // Weights 100, 50, 50 (cy's second claim is past five years: 0).
        assert_eq!(
            totals(&p),
            vec![
                ("ana".into(), "350.00".into()),
                ("ben".into(), "175.00".into()),
                ("cy".into(), "175.00".into())
            ]
        );
        let factors: Vec<(String, Decimal, String)> = p.buckets[0]
            .claims
            .iter()
            .map(|c| {
                let (f, why) = c.decay.clone().unwrap();
                (c.agent.to_string(), f, why)
            })
            .collect();
        assert_eq!(factors[1].2, "age 1y 7m on 2027-01-15, under 2y");
        assert_eq!(factors[2].1, dec("0.25"));
        assert!(
            p.left_out.iter().any(|l| l.reason == Reason::DecayedAway),
            "{:?}",
            p.left_out
        );
        // Undated (as `ovn review` computes), ages are measured at the latest contribution's
        // date, 2026-03-01: weights 100, 100 (9 months), 50 + 50 (3y 1m and 4y 2m).
        let undated = Request {
            project: "p",
            amount: dec("700.00"),
            date: None,
        };
        let p = compute(&ledger, &undated, &[]).unwrap();
        assert_eq!(
            totals(&p),
            vec![
                ("ana".into(), "233.33".into()),
                ("ben".into(), "233.33".into()),
                // Two exact shares of 116.666…67 sum past one of 233.333…33.
                ("cy".into(), "233.34".into())
            ]
        );
        // A lookback of 12 months counts ana's claim only.
        let window = policy_ledger(
            "lookback = \"12m\"",
            &[("ana", "2026-03-01", "10"), ("ben", "2025-06-01", "10")],
            &[],
        );
        let p = pay(&window, "700.00", "2027-01-15");
        assert_eq!(totals(&p), vec![("ana".into(), "700.00".into())]);
        assert_eq!(p.left_out[0].reason, Reason::BeyondLookback);
    }

    #[test]
    fn kinds_are_the_same_exactly_when_their_words_are() {
        let kinds = [
            Kind::Work,
            Kind::Money,
            Kind::Material,
            Kind::Use,
            Kind::Other("care".to_owned()),
            Kind::Other("cite".to_owned()),
            // Not what a reader makes, but compared by its word all the same.
            Kind::Other("work".to_owned()),
        ];
        for a in &kinds {
            for b in &kinds {
                assert_eq!(same_kind(a, b), a.as_str() == b.as_str(), "{a:?} {b:?}");
            }
        }
    }

    proptest::proptest! {
        /// The rank-and-place sort gives exactly the stable sort by (agent, contribution):
        /// agents met many times, equal ids read apart (two addresses, one text), repeated
        /// contributions, runs in and out of order. Each claim's position tells which it was.
        #[test]
        fn claims_sort_as_a_stable_sort_by_agent_and_contribution(
            picks in proptest::collection::vec((0usize..6, proptest::bool::ANY, 0usize..8), 0..80)
        ) {
            let texts = ["ana", "ben", "cy", "dee", "ana-b", "b"];
            // Two copies of each agent id, read apart.
            let first: Vec<Id> = texts.iter().map(|t| Id::parse(t).unwrap()).collect();
            let second: Vec<Id> = texts.iter().map(|t| Id::parse(t).unwrap()).collect();
            let contributions: Vec<Id> = (0..8)
                .map(|n| Id::parse(&format!("01c{}", 7 - n)).unwrap())
                .collect();
            let claims: Vec<Claim<'_>> = picks
                .iter()
                .enumerate()
                .map(|(position, &(agent, apart, contribution))| Claim {
                    contribution: &contributions[contribution],
                    position,
                    agent: if apart { &second[agent] } else { &first[agent] },
                    bucket: "b",
                    kind: ClaimKind::Equity,
                    value: Decimal::ONE,
                    owed: None,
                    paid: Decimal::ZERO,
                })
                .collect();
            let mut expected = claims.clone();
            expected.sort_by(|a, b| (a.agent, a.contribution).cmp(&(b.agent, b.contribution)));
            let mut sorted = claims;
            sort_claims(&mut sorted);
            let order = |v: &[Claim<'_>]| v.iter().map(|c| c.position).collect::<Vec<_>>();
            proptest::prop_assert_eq!(order(&sorted), order(&expected));
        }
    }

    /// Largest remainder as it was written before it learned to skip the sort and the
    /// divisions: the reference the faster one is held to.
    fn largest_remainder_by_sorting(
        exact: &[Decimal],
        caps: &[Option<Decimal>],
        target: Decimal,
        unit: Decimal,
    ) -> Vec<Decimal> {
        let floor = |d: Decimal| (d / unit).floor() * unit;
        let mut out: Vec<Decimal> = exact.iter().map(|&e| floor(e.max(Decimal::ZERO))).collect();
        let mut missing = ((target - out.iter().copied().sum::<Decimal>()) / unit).round();
        let mut order: Vec<usize> = (0..exact.len()).collect();
        let remainder: Vec<Decimal> = exact.iter().zip(&out).map(|(e, o)| e - o).collect();
        order.sort_by(|&a, &b| remainder[b].cmp(&remainder[a]));
        while missing > Decimal::ZERO {
            let before = missing;
            for &i in &order {
                if missing <= Decimal::ZERO {
                    break;
                }
                if caps[i].is_some_and(|c| out[i] + unit > c) {
                    continue;
                }
                out[i] += unit;
                missing -= Decimal::ONE;
            }
            if missing == before {
                break;
            }
        }
        out
    }

    proptest::proptest! {
        /// The same amounts at the same scales (so printed alike) as the reference, for
        /// minor units and other units, with and without caps, targets short of, at and past
        /// what one unit each can reach, and exact values at every scale.
        #[test]
        fn largest_remainder_gives_what_sorting_every_remainder_gave(
            values in proptest::collection::vec((0i64..i64::MAX, 0u32..=28, proptest::option::of(0i64..100_000)), 0..60),
            unit in proptest::sample::select(vec![(1i64, 0u32), (1, 2), (1, 3), (1, 8), (5, 2), (25, 1), (10, 0)]),
            extra in 0i64..70,
            under in proptest::bool::ANY,
        ) {
            let unit = Decimal::new(unit.0, unit.1);
            // Exact values small enough that a unit's multiple of them stays exact.
            let exact: Vec<Decimal> = values
                .iter()
                .map(|&(m, scale, _)| Decimal::new(m % 10_000_000_000_000, scale))
                .collect();
            let caps: Vec<Option<Decimal>> = values.iter().map(|v| v.2.map(|c| Decimal::new(c, 1))).collect();
            let floors: Decimal = exact.iter().map(|e| (e / unit).floor() * unit).sum();
            let extra = Decimal::from(extra) * unit;
            let target = if under { floors - extra } else { floors + extra };
            let uncapped = vec![None; exact.len()];
            for caps in [&caps, &uncapped] {
                let got = largest_remainder(&exact, caps, target, unit);
                let want = largest_remainder_by_sorting(&exact, caps, target, unit);
                let shown = |v: &[Decimal]| v.iter().map(|d| (d.mantissa(), d.scale())).collect::<Vec<_>>();
                proptest::prop_assert_eq!(shown(&got), shown(&want));
            }
        }
    }
}
