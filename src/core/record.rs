//! The record types of a ledger (`ovn-ledger(5)`, sections OVN.TOML to APPROVALS).
//!
//! Records are plain data. Fields that checks point back at carry their byte [`Span`] in an
//! [`At`], so a reference error can show the exact text; equality ignores spans, so a record
//! read back from its canonical text equals the record that was written.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::diag::Span;
use super::value::{Id, Percent};

/// A value together with where it was written. Equality and ordering look at the value only.
#[derive(Clone, Debug, Default)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Where it was written (zero for values built in memory).
    pub span: Span,
}

impl<T> At<T> {
    /// A value with no source position (built in memory, e.g. by `ovn init`).
    pub fn new(value: T) -> At<T> {
        At {
            value,
            span: Span::default(),
        }
    }
}

impl<T: PartialEq> PartialEq for At<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for At<T> {}

/// Index of a file in [`crate::core::ledger::Ledger::paths`].
pub type FileId = u32;

/// The network's settings, from `ovn.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// Format version of the ledger (1).
    pub format: u32,
    /// Display name of the network.
    pub name: String,
    /// ISO 4217-style currency code of all amounts.
    pub currency: String,
    /// Decimal places of the currency.
    pub minor_units: u32,
    /// Whether `minor_units` was written explicitly (the canonical writer keeps it then).
    pub minor_units_explicit: bool,
    /// The branch whose history is validated (merged means reviewed).
    pub validated_branch: String,
    /// Agent who receives payout leftovers, if any.
    pub leftover: Option<At<Id>>,
    /// The review policy (`[validation]`).
    pub validation: Validation,
    /// Where the ids of a ValueFlows export start (`base_uri`), so two networks' graphs
    /// never share an id; absent: derived from the repository's first commit.
    pub base_uri: Option<At<String>>,
    /// The asset account payments are booked from in exports (`payment_account`, an
    /// hledger-style name such as `assets:bank`); absent: [`Network::DEFAULT_PAYMENT_ACCOUNT`].
    pub payment_account: Option<At<String>>,
}

/// The network's review policy: the `[validation]` table of `ovn.toml`. The default (no
/// table) is "merged on the validated branch = validated".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Approvals a contribution needs, by agents other than its contributor.
    pub approvals: u32,
    /// Whether at least one approval must come from a steward of the contribution's project.
    pub stewards: bool,
    /// Whether approvals must be signed with a key listed on the approving agent (`signed =
    /// true`: the approval's commit, or the record itself).
    pub signed: bool,
    /// Whether only signatures inside approval records count (`signed = "record"`, which
    /// implies `signed`): they survive squash and rebase merges, commit signatures do not.
    pub record_signatures: bool,
    /// How many days a contribution's date may lie from the date of the commit that adds it
    /// before review flags it (`max_date_skew_days`; absent: [`Validation::DEFAULT_DATE_SKEW`]).
    pub max_date_skew_days: Option<u32>,
}

impl Validation {
    /// The default of `max_date_skew_days`: a quarter, so late logging of last month's work
    /// passes and a date years away does not.
    pub const DEFAULT_DATE_SKEW: u32 = 90;

    /// `max_date_skew_days`, or its default.
    pub fn date_skew_days(&self) -> u32 {
        self.max_date_skew_days.unwrap_or(Self::DEFAULT_DATE_SKEW)
    }

    /// Whether the policy is the default one (nothing to write).
    pub fn is_default(&self) -> bool {
        *self == Validation::default()
    }
}

/// A peer's approval of a contribution (`approvals/<yyyy>/<mm>/<dd>/<id>.toml`). Who approved
/// is the author of the commit that added the file, unless the record is signed: then it is
/// `by`, proven by `signature` (see [`crate::core::validation::approval_message`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// The approved contribution.
    pub record: At<Id>,
    /// `sha256:` digest of the approved contribution's canonical text; an edit voids it.
    pub digest: String,
    /// The day of the approval.
    pub date: At<NaiveDate>,
    /// What the approver wants to say.
    pub comment: Option<String>,
    /// The approving agent, for a signed approval (always together with `signature`).
    pub by: Option<At<Id>>,
    /// The SSH signature of `by` over the approval's message (`ssh-keygen -Y sign -n
    /// ovn-approval`): its base64 body, one line, without the armor lines.
    pub signature: Option<String>,
}

impl Network {
    /// The current ledger format version.
    pub const FORMAT: u32 = 1;
    /// The default validated branch.
    pub const DEFAULT_BRANCH: &'static str = "main";
    /// The asset account payments are booked from when `payment_account` is absent.
    pub const DEFAULT_PAYMENT_ACCOUNT: &'static str = "assets:bank";

    /// `payment_account`, or its default.
    pub fn payment_account(&self) -> &str {
        self.payment_account
            .as_ref()
            .map_or(Self::DEFAULT_PAYMENT_ACCOUNT, |a| a.value.as_str())
    }
}

/// Whether an agent is a person or an organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum AgentKind {
    /// A human.
    #[default]
    Person,
    /// A group, fund or company.
    Organization,
    /// A member network whose ledger lives in its own repository (see `core::incoming`).
    Network,
}

impl AgentKind {
    /// The word used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Person => "person",
            AgentKind::Organization => "organization",
            AgentKind::Network => "network",
        }
    }
}

/// A person or organisation that contributes or receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// Display name.
    pub name: String,
    /// Person or organisation.
    pub kind: AgentKind,
    /// Git identities (emails) that map to this agent.
    pub emails: Vec<At<String>>,
    /// Public keys (SSH or GPG) for signed approvals.
    pub keys: Vec<String>,
    /// When the agent joined.
    pub joined: Option<NaiveDate>,
    /// For a network: where its ledger lives (a URL or a path; documentation only).
    pub ledger: Option<String>,
    /// When it left and came back, in date order (see [`super::leave`]).
    pub departures: Vec<super::leave::Departure>,
}

/// A venture whose revenue is shared by an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// Display name.
    pub name: String,
    /// The value equation that governs its revenue.
    pub agreement: Option<At<Id>>,
    /// The project it belongs to.
    pub parent: Option<At<Id>>,
    /// Agents who steward it.
    pub stewards: Vec<At<Id>>,
}

/// How a resource is held (peer property).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ownership {
    /// Held in trust by the network; its use earns for the commons fund.
    Commons,
    /// Co-owned by several agents in stated shares.
    Pooled,
    /// Titled to one agent.
    Individual,
}

impl Ownership {
    /// The word used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Commons => "commons",
            Ownership::Pooled => "pooled",
            Ownership::Individual => "individual",
        }
    }
}

/// One owner's share of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The owning agent.
    pub agent: At<Id>,
    /// Its share.
    pub share: At<Percent>,
}

/// Equipment, space or a design used by projects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// Display name.
    pub name: String,
    /// Commons, pooled or individual.
    pub ownership: Ownership,
    /// Owners and shares (empty for commons).
    pub owners: Vec<Owner>,
    /// Agents who look after it.
    pub stewards: Vec<At<Id>>,
    /// Value of one hour of use.
    pub use_rate: Option<Decimal>,
}

/// How a claim is settled by payouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ClaimKind {
    /// Shares in every payout, in proportion to its value.
    #[default]
    Equity,
    /// Paid until its (capped) value is settled.
    Debt,
    /// Shares in the first recorded payout that includes it.
    Once,
}

impl ClaimKind {
    /// The word used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Equity => "equity",
            ClaimKind::Debt => "debt",
            ClaimKind::Once => "once",
        }
    }
}

/// What a percent share is taken of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Base {
    /// The whole revenue amount.
    #[default]
    Total,
    /// What is still in the pool when the bucket's turn comes.
    Remaining,
}

/// How much a bucket takes from the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Budget {
    /// A percent of the total or of the remaining pool.
    Share {
        /// The percentage.
        share: Percent,
        /// Of what.
        of: Base,
    },
    /// Everything left in the pool.
    Rest,
    /// A fixed amount (never more than the pool).
    Amount(Decimal),
}

/// Selects contributions for a bucket and says how to value them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Contribution kind this rule selects.
    pub kind: String,
    /// Only contributions to this project.
    pub project: Option<At<Id>>,
    /// Only contributions with this skill.
    pub skill: Option<String>,
    /// Only contributions by this agent.
    pub agent: Option<At<Id>>,
    /// Only contributions on or after this date.
    pub from: Option<NaiveDate>,
    /// Only contributions on or before this date.
    pub until: Option<NaiveDate>,
    /// Value per hour, overriding the rate table.
    pub rate: Option<Decimal>,
    /// Factor applied to the claim value.
    pub multiplier: Option<Decimal>,
    /// A formula for the claim value, instead of the default one.
    pub formula: Option<super::formula::Formula>,
    /// Claim kind, overriding the bucket's.
    pub claim: Option<ClaimKind>,
    /// Debt cap multiplier, overriding the bucket's.
    pub cap: Option<Decimal>,
    /// Decay by age at the payout date, overriding the bucket's.
    pub decay: Option<super::decay::Schedule>,
    /// Only claims younger than this at the payout date, overriding the bucket's.
    pub lookback: Option<super::decay::Age>,
}

/// One step of a value equation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Name, unique within the agreement.
    pub name: At<String>,
    /// How much it takes.
    pub budget: Budget,
    /// The agent paid the whole budget, if the bucket is not split by rules.
    pub to: Option<At<Id>>,
    /// The project paid the whole budget (`to_project`), whose own agreement shares it in a
    /// sub-payout (see [`crate::core::cascade`]); never together with `to` or rules.
    pub to_project: Option<At<Id>>,
    /// Claim kind of its rules unless they say otherwise.
    pub claim: ClaimKind,
    /// Debt cap multiplier (e.g. 1.2 repays 120%).
    pub cap: Option<Decimal>,
    /// The rules selecting contributions.
    pub rules: Vec<Rule>,
    /// Decay by age at the payout date, for rules that set none.
    pub decay: Option<super::decay::Schedule>,
    /// Only claims younger than this at the payout date, for rules that set none.
    pub lookback: Option<super::decay::Age>,
    /// How the budget is split among the claims.
    pub policy: Policy,
    /// From which day its equity weights are fixed, and what later work is paid as.
    pub freeze: Option<super::freeze::Freeze>,
}

/// How a bucket splits its budget among its claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// In proportion to the claims' weights (debts capped at their balance).
    #[default]
    Proportional,
    /// First to those whose receipts from the bucket fall furthest below their share of all
    /// it has paid (SourceCred's BALANCED policy), then in proportion.
    Balanced,
}

impl Policy {
    /// The word used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Proportional => "proportional",
            Policy::Balanced => "balanced",
        }
    }
}

/// Default rates per hour of work: general, by skill, by agent and by project.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rates {
    /// Default work rate.
    pub work: Option<Decimal>,
    /// Rate per skill.
    pub skill: BTreeMap<String, Decimal>,
    /// Rate per agent.
    pub agent: BTreeMap<Id, At<Decimal>>,
    /// Rate per project.
    pub project: BTreeMap<Id, At<Decimal>>,
}

impl Rates {
    /// Whether no rate is set at all.
    pub fn is_empty(&self) -> bool {
        self.work.is_none()
            && self.skill.is_empty()
            && self.agent.is_empty()
            && self.project.is_empty()
    }
}

/// A value equation: how a project's revenue is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// Display name.
    pub name: String,
    /// Agreement kind (`value-equation`).
    pub kind: String,
    /// First day it applies.
    pub from: Option<NaiveDate>,
    /// Last day it applies.
    pub until: Option<NaiveDate>,
    /// Who receives what no bucket could pay.
    pub leftover: Option<At<Id>>,
    /// Rate table.
    pub rates: Rates,
    /// Buckets, in order.
    pub buckets: Vec<Bucket>,
    /// What leaving does to a leaver's claims (see [`super::leave`]).
    pub leaving: super::leave::Terms,
}

impl Agreement {
    /// The only agreement kind so far.
    pub const VALUE_EQUATION: &'static str = "value-equation";
}

/// What a contribution is: the four kinds with special meaning, or any other word.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Hours of work.
    Work,
    /// Money put in.
    Money,
    /// Materials, valued in money.
    Material,
    /// Hours of use of a resource (the claim goes to its owners).
    Use,
    /// Any other kind (`care`, `cite`, ...), carrying hours and/or an amount.
    Other(String),
}

impl Kind {
    /// Reads a kind word (already validated as `[a-z][a-z0-9-]*`).
    pub fn from_word(word: &str) -> Kind {
        match word {
            "work" => Kind::Work,
            "money" => Kind::Money,
            "material" => Kind::Material,
            "use" => Kind::Use,
            other => Kind::Other(other.to_owned()),
        }
    }

    /// The word used in records.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Work => "work",
            Kind::Money => "money",
            Kind::Material => "material",
            Kind::Use => "use",
            Kind::Other(word) => word,
        }
    }
}

/// A recorded contribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// Who contributed.
    pub agent: At<Id>,
    /// When.
    pub date: At<NaiveDate>,
    /// To which project.
    pub project: At<Id>,
    /// What kind.
    pub kind: Kind,
    /// What was done.
    pub description: String,
    /// Hours (work, use and hour-based kinds).
    pub hours: Option<At<Decimal>>,
    /// Skill applied.
    pub skill: Option<String>,
    /// Money value (money, material, amount-based kinds).
    pub amount: Option<Decimal>,
    /// The currency of `amount` and its exchange rate, when written (see [`Foreign`]).
    /// One box for both because they are rare: inline they would add 32 bytes to every
    /// contribution held in memory (32 MB at a million). Read through
    /// [`Contribution::currency`] and [`Contribution::rate`].
    pub foreign: Option<Box<Foreign>>,
    /// The resource used.
    pub resource: Option<At<Id>>,
    /// The fields few contributions have (see [`Rare`]). One box for them because a
    /// million records are held at once: inline they would add 116 bytes to every one.
    /// Read through [`Contribution::quantity`], [`Contribution::unit`],
    /// [`Contribution::evidence`], [`Contribution::reverses`] and
    /// [`Contribution::supersedes`].
    pub rare: Option<Box<Rare>>,
}

/// A contribution's fields that few records have: a material's quantity and unit, evidence
/// links, and what a correction corrects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rare {
    /// Quantity of material.
    pub quantity: Option<Decimal>,
    /// Unit of the quantity.
    pub unit: Option<String>,
    /// Links to evidence.
    pub evidence: Vec<String>,
    /// The contribution this one reverses.
    pub reverses: Option<At<Id>>,
    /// The contribution this one replaces.
    pub supersedes: Option<At<Id>>,
}

impl Rare {
    /// The box a contribution holds for these fields: none when every one is absent.
    pub fn boxed(self) -> Option<Box<Rare>> {
        (self != Rare::default()).then(|| Box::new(self))
    }
}

impl Contribution {
    /// A contribution with the fields every one has, and every other field empty (to be
    /// filled in by the caller); built in memory, so from no file.
    pub fn new(
        id: At<Id>,
        agent: At<Id>,
        date: NaiveDate,
        project: At<Id>,
        kind: Kind,
        description: String,
    ) -> Contribution {
        Contribution {
            file: 0,
            id,
            agent,
            date: At::new(date),
            project,
            kind,
            description,
            hours: None,
            skill: None,
            amount: None,
            foreign: None,
            resource: None,
            rare: None,
        }
    }
}

impl Contribution {
    /// Currency of `amount`, when written (usually another than the network's).
    pub fn currency(&self) -> Option<&str> {
        self.foreign.as_ref()?.currency.as_deref()
    }

    /// Units of the network currency per unit of [`Contribution::currency`], when written
    /// on the record (see [`super::fx`]); absent: the dated rate records give it.
    pub fn rate(&self) -> Option<Decimal> {
        self.foreign.as_ref()?.rate
    }

    /// Sets `currency`, keeping `rate`.
    pub fn set_currency(&mut self, currency: Option<String>) {
        self.foreign = Foreign::of(currency, self.rate());
    }

    /// Sets `rate`, keeping `currency`.
    pub fn set_rate(&mut self, rate: Option<Decimal>) {
        let currency = self.foreign.take().and_then(|f| f.currency);
        self.foreign = Foreign::of(currency, rate);
    }
}

impl Contribution {
    /// Quantity of material.
    pub fn quantity(&self) -> Option<Decimal> {
        self.rare.as_ref()?.quantity
    }

    /// Unit of the quantity.
    pub fn unit(&self) -> Option<&str> {
        self.rare.as_ref()?.unit.as_deref()
    }

    /// Links to evidence.
    pub fn evidence(&self) -> &[String] {
        self.rare.as_ref().map_or(&[], |r| &r.evidence)
    }

    /// The contribution this one reverses.
    pub fn reverses(&self) -> Option<&At<Id>> {
        self.rare.as_ref()?.reverses.as_ref()
    }

    /// The contribution this one replaces.
    pub fn supersedes(&self) -> Option<&At<Id>> {
        self.rare.as_ref()?.supersedes.as_ref()
    }

    /// Changes the rare fields with `edit` (boxed only while one of them is written).
    pub fn edit_rare(&mut self, edit: impl FnOnce(&mut Rare)) {
        let mut rare = self.rare.take().map(|b| *b).unwrap_or_default();
        edit(&mut rare);
        self.rare = rare.boxed();
    }

    /// Sets `quantity`.
    pub fn set_quantity(&mut self, quantity: Option<Decimal>) {
        self.edit_rare(|r| r.quantity = quantity);
    }

    /// Sets `unit`.
    pub fn set_unit(&mut self, unit: Option<String>) {
        self.edit_rare(|r| r.unit = unit);
    }

    /// Sets `evidence`.
    pub fn set_evidence(&mut self, evidence: Vec<String>) {
        self.edit_rare(|r| r.evidence = evidence);
    }

    /// Sets `reverses`.
    pub fn set_reverses(&mut self, reverses: Option<At<Id>>) {
        self.edit_rare(|r| r.reverses = reverses);
    }

    /// Sets `supersedes`.
    pub fn set_supersedes(&mut self, supersedes: Option<At<Id>>) {
        self.edit_rare(|r| r.supersedes = supersedes);
    }
}

/// A contribution's `currency` and `rate` fields, as written. A rate without a currency is
/// an error the reader reports, but the record still holds it, as it holds every field read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Foreign {
    /// Currency of `amount`, when written.
    pub currency: Option<String>,
    /// Units of the network currency per unit of `currency`, when written on the record.
    pub rate: Option<Decimal>,
}

impl Foreign {
    /// The box a contribution holds for these fields: none when both are absent.
    pub fn of(currency: Option<String>, rate: Option<Decimal>) -> Option<Box<Foreign>> {
        (currency.is_some() || rate.is_some()).then(|| Box::new(Foreign { currency, rate }))
    }
}

/// One payment line of a recorded payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidLine {
    /// Who was paid. For a line that pays a project (`project` set) the project's id, so
    /// that every line has a payee; such a line is settled by its sub-payout, not paid.
    pub agent: At<Id>,
    /// From which bucket (or `leftover`).
    pub bucket: String,
    /// How much.
    pub amount: Decimal,
    /// The project the line pays (a `to_project` bucket), written instead of `agent`.
    pub project: Option<At<Id>>,
    /// For a line that pays a project: the sub-payout that shares it (`payout`).
    pub payout: Option<At<Id>>,
}

/// Where a sub-payout comes from: the payout line (of a `to_project` bucket) whose amount
/// it shares (`parent` and `parent_line` of the record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentLine {
    /// The parent payout.
    pub payout: At<Id>,
    /// Its line, counted from 1 in the order of its `[[lines]]`.
    pub line: At<u32>,
}

/// What a recorded payout paid on one debt or once claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettledClaim {
    /// The contribution the claim comes from.
    pub contribution: At<Id>,
    /// The agent paid.
    pub agent: At<Id>,
    /// `debt` or `once`.
    pub claim: ClaimKind,
    /// How much.
    pub amount: Decimal,
}

/// A recorded distribution of a revenue event (`payouts/<yyyy>/<id>.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRecord {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name).
    pub id: At<Id>,
    /// The project whose revenue it was.
    pub project: At<Id>,
    /// The agreement applied.
    pub agreement: At<Id>,
    /// The day of the revenue event.
    pub date: At<NaiveDate>,
    /// The revenue amount.
    pub amount: At<Decimal>,
    /// Its currency (the network's).
    pub currency: String,
    /// A note identifying the event (an invoice number).
    pub memo: Option<String>,
    /// The ledger commit the payout was computed at (40 hex digits).
    pub commit: String,
    /// `sha256:` digest of the inputs it was computed from.
    pub digest: String,
    /// The payouts of the same project it follows (`follows`, with the span of the whole
    /// list): the head of the project's payout line in the ledger it was computed on (none
    /// for the first payout), or every head a reconciliation joins. `None` for a record
    /// written before the field existed (see [`crate::core::chain`]).
    pub follows: Option<At<Vec<At<Id>>>>,
    /// For a sub-payout of a cascade: the parent payout line it shares.
    pub parent: Option<ParentLine>,
    /// Every line paid.
    pub lines: Vec<PaidLine>,
    /// Debt and once claims it settled.
    pub settled: Vec<SettledClaim>,
    /// For a reconciliation: what each claim was repaid beyond what it is owed, stated so
    /// that it stays on the record (`[[overpaid]]`).
    pub overpaid: Vec<SettledClaim>,
    /// For revenue taken in from another network's payout: the line it came from
    /// (`[source]`).
    pub source: Option<super::incoming::Source>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contribution_stays_small() {
        // A million are held at once by a cold read: every 8 bytes here is 8 MB of its peak.
        let size = std::mem::size_of::<Contribution>();
        assert!(size <= 256, "Contribution is {size} bytes");
    }

    #[test]
    fn currency_and_rate_share_one_box_made_only_when_written() {
        let id = |s: &str| At::new(Id::parse(s).unwrap());
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut c = Contribution::new(id("c1"), id("ada"), day, id("p"), Kind::Money, "x".into());
        assert_eq!((c.currency(), c.rate()), (None, None));
        c.set_rate(Some(Decimal::new(92, 2)));
        c.set_currency(Some("USD".to_owned()));
        assert_eq!(
            (c.currency(), c.rate()),
            (Some("USD"), Some(Decimal::new(92, 2)))
        );
        c.set_rate(None);
        assert_eq!((c.currency(), c.rate()), (Some("USD"), None));
        c.set_currency(None);
        assert!(c.foreign.is_none(), "no box when neither field is written");
    }

    #[test]
    fn rare_fields_are_boxed_only_while_one_is_written() {
        let id = |s: &str| At::new(Id::parse(s).unwrap());
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut c = Contribution::new(id("c2"), id("ada"), day, id("p"), Kind::Work, "x".into());
        let plain = c.clone();
        c.set_reverses(Some(id("c1")));
        c.set_evidence(vec!["https://example.org".to_owned()]);
        assert_eq!(c.reverses().map(|r| r.value.as_str()), Some("c1"));
        assert_eq!(c.evidence(), ["https://example.org".to_owned()]);
        assert_eq!((c.quantity(), c.unit(), c.supersedes()), (None, None, None));
        c.set_reverses(None);
        c.set_evidence(Vec::new());
        assert!(c.rare.is_none());
        assert_eq!(
            c, plain,
            "a record without rare fields equals one that never had them"
        );
    }
}
