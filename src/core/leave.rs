//! Leaving: what a departure does to the claims an agent made before it, exactly.
//!
//! People come and go. An agent's record keeps its departures (`[[departures]]`: the day it
//! `left`, whether as a `good` or a `bad` leaver, and the day it `rejoined`, if it did), and an
//! agreement says what leaving does (`[leaving.good]`, `[leaving.bad]`): for each contribution
//! kind, whether the leaver's equity claims made before the departure are kept, forfeited, or
//! bought back at a stated factor. All three are one number, a factor between 0 and 1 that
//! multiplies the claim's weight (keep is 1, forfeit is 0, buy-back is the factor written), so
//! a term can only lower a weight; what a leaver loses leaves the pro-rata denominator and
//! goes to the others in proportion. Debt claims (reimbursements of money and materials) and
//! once claims are obligations, not shares: they are always paid in full, whatever the terms.
//!
//! A term applies to a payout dated after the departure (on the day itself the leaver still
//! holds what they had), to claims on contributions dated before it. A forfeit is for good: a
//! return (`rejoined`) opens a new period whose contributions count again, but does not restore
//! what the departure took. Several departures multiply their factors. A computation without a
//! date (a preview) applies every recorded departure. An agreement without terms keeps
//! everything, so payouts of ledgers that never used this are unchanged.
//!
//! The module is pure: the readers and writers of the two TOML shapes, the rule saying
//! whether an agent was away on a day (which `ovn check` and `ovn log` use to refuse work by
//! someone who has left), and the factor a payout applies. The payout calls [`factor`] once
//! per equity claim, and only when the agreement has terms and the agent has departures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use toml::de::DeValue;

use super::diag::{Code, Diagnostic};
use super::ledger::Ledger;
use super::parse::{Fields, Need, is_name_word};
use super::record::{Agent, At, Kind};
use super::value::Id;

/// How an agent left: on good terms, or not (Slicing Pie's good and bad leavers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Left on good terms (resigned for a good reason, laid off, retired).
    Good,
    /// Left on bad terms (resigned without a good reason, dismissed for cause).
    Bad,
}

impl Reason {
    /// The word used in records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Good => "good",
            Reason::Bad => "bad",
        }
    }

    /// Reads `good` or `bad`.
    pub fn from_word(word: &str) -> Option<Reason> {
        match word {
            "good" => Some(Reason::Good),
            "bad" => Some(Reason::Bad),
            _ => None,
        }
    }
}

/// One departure of an agent, and its return if it came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// The day the agent left: from this day on it contributes nothing until it rejoins.
    pub left: At<NaiveDate>,
    /// Good or bad leaver.
    pub reason: Reason,
    /// Why, in a few words (free text).
    pub note: Option<String>,
    /// The day it came back, if it did (on or after `left`).
    pub rejoined: Option<At<NaiveDate>>,
}

impl Departure {
    /// Whether the agent was away on `day`: on or after the day it left and before it
    /// rejoined.
    pub fn away_on(&self, day: NaiveDate) -> bool {
        day >= self.left.value && self.rejoined.as_ref().is_none_or(|r| day < r.value)
    }
}

/// The departure during which an agent with `departures` was away on `day`, if any.
pub fn away_on(departures: &[Departure], day: NaiveDate) -> Option<&Departure> {
    departures.iter().find(|d| d.away_on(day))
}

/// The departure an agent has not come back from, if any (the last one, when it has no
/// `rejoined`).
pub fn still_away(departures: &[Departure]) -> Option<&Departure> {
    departures.last().filter(|d| d.rejoined.is_none())
}

/// What leaving does to a leaver's equity claims of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// Kept whole (factor 1): the default.
    Keep,
    /// Dropped to nothing (factor 0).
    Forfeit,
    /// Converted at a stated factor (0 to 1): the weight is multiplied by it.
    BuyBack(Decimal),
}

impl Term {
    /// The factor the term multiplies a weight by.
    pub fn factor(self) -> Decimal {
        match self {
            Term::Keep => Decimal::ONE,
            Term::Forfeit => Decimal::ZERO,
            Term::BuyBack(f) => f,
        }
    }

    /// The text written in an agreement: `keep`, `forfeit` or `buy-back 0.5`.
    pub fn text(self) -> String {
        match self {
            Term::Keep => "keep".to_owned(),
            Term::Forfeit => "forfeit".to_owned(),
            Term::BuyBack(f) => format!("buy-back {f}"),
        }
    }

    /// Reads a term's text, or says why it is none.
    pub fn parse(text: &str) -> Result<Term, String> {
        match text {
            "keep" => return Ok(Term::Keep),
            "forfeit" => return Ok(Term::Forfeit),
            _ => {}
        }
        let Some(rest) = text.strip_prefix("buy-back ") else {
            return Err("is not `keep`, `forfeit` or `buy-back FACTOR`".to_owned());
        };
        let factor: Decimal = rest
            .trim()
            .parse()
            .map_err(|_| format!("has {:?}, which is not a decimal factor", rest.trim()))?;
        if factor < Decimal::ZERO || factor > Decimal::ONE || factor.scale() > 12 {
            return Err("has a factor outside 0 to 1 (at most 12 decimal places)".to_owned());
        }
        Ok(Term::BuyBack(factor))
    }
}

/// An agreement's leaver terms: for good and bad leavers, a term per contribution kind word
/// (`work`, `money`, `material`, `use` or any other kind). A kind not named is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    /// `[leaving.good]`.
    pub good: BTreeMap<String, Term>,
    /// `[leaving.bad]`.
    pub bad: BTreeMap<String, Term>,
}

impl Terms {
    /// Whether no term lowers any weight (everything is kept).
    pub fn keeps_all(&self) -> bool {
        self.good
            .values()
            .chain(self.bad.values())
            .all(|t| *t == Term::Keep)
    }

    /// The term for a leaver of `reason` on claims of `kind`.
    pub fn term(&self, reason: Reason, kind: &Kind) -> Term {
        let map = match reason {
            Reason::Good => &self.good,
            Reason::Bad => &self.bad,
        };
        map.get(kind.as_str()).copied().unwrap_or(Term::Keep)
    }
}

/// The factor departures apply to one claim, and why in words (for `--explain` and the
/// payout's JSON): `× 0 forfeited (bad leaver on 2026-03-01)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The product of every applying departure's factor.
    pub factor: Decimal,
    /// Why, in words.
    pub why: String,
}

/// The factor `departures` apply, under `terms`, to an equity claim on a contribution of
/// `kind` dated `day`, in a payout dated `at` (`None`: undated, every departure applies).
/// `None` when no departure applies, or every applying term keeps the claim.
pub fn factor(
    departures: &[Departure],
    terms: &Terms,
    kind: &Kind,
    day: NaiveDate,
    at: Option<NaiveDate>,
) -> Option<Applied> {
    let mut factor = Decimal::ONE;
    let mut why = String::new();
    for d in departures {
        let left = d.left.value;
        if day >= left || at.is_some_and(|a| a <= left) {
            continue;
        }
        let term = terms.term(d.reason, kind);
        if term == Term::Keep {
            continue;
        }
        // Factors are at most 1 with at most 12 places: the product stays exact and small.
        factor = factor.checked_mul(term.factor()).unwrap_or(Decimal::ZERO);
        if !why.is_empty() {
            why.push_str(", ");
        }
        let what = match term {
            Term::Forfeit => "forfeited".to_owned(),
            Term::BuyBack(f) => format!("bought back at {}", f.normalize()),
            Term::Keep => "kept".to_owned(),
        };
        let _ = write!(why, "{what} ({} leaver on {left})", d.reason.as_str());
    }
    (!why.is_empty()).then(|| Applied {
        factor: factor.normalize(),
        why,
    })
}

/// The leavers of a ledger under one agreement's terms, as a payout dated `at` sees them:
/// built only when the terms lower some weight and some agent has left, so a payout of any
/// other ledger pays nothing for the look-up.
pub struct Leavers<'l> {
    terms: &'l Terms,
    at: Option<NaiveDate>,
    by_agent: BTreeMap<&'l Id, &'l [Departure]>,
}

impl<'l> Leavers<'l> {
    /// The leavers among `agents` under `terms` for a payout dated `at`, if any term can apply.
    pub fn of(agents: &'l [Agent], terms: &'l Terms, at: Option<NaiveDate>) -> Option<Leavers<'l>> {
        if terms.keeps_all() {
            return None;
        }
        let by_agent: BTreeMap<&Id, &[Departure]> = agents
            .iter()
            .filter(|a| {
                a.departures
                    .iter()
                    .any(|d| at.is_none_or(|at| at > d.left.value))
            })
            .map(|a| (&a.id.value, &a.departures[..]))
            .collect();
        (!by_agent.is_empty()).then_some(Leavers {
            terms,
            at,
            by_agent,
        })
    }

    /// The factor applied to `agent`'s equity claim on a contribution of `kind` dated `day`.
    pub fn applied(&self, agent: &Id, kind: &Kind, day: NaiveDate) -> Option<Applied> {
        let departures = self.by_agent.get(agent)?;
        factor(departures, self.terms, kind, day, self.at)
    }

    /// One line per departure whose terms a payout applies (`left AGENT DATE REASON`), for
    /// the payout's digest: written only then, so other payouts' digests are unchanged.
    pub fn digest_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (agent, departures) in &self.by_agent {
            for d in departures.iter() {
                let applies = self.at.is_none_or(|at| at > d.left.value);
                let map = match d.reason {
                    Reason::Good => &self.terms.good,
                    Reason::Bad => &self.terms.bad,
                };
                if applies && map.values().any(|t| *t != Term::Keep) {
                    out.push(format!(
                        "left {agent} {} {}",
                        d.left.value,
                        d.reason.as_str()
                    ));
                }
            }
        }
        out
    }
}

/// The "after leaving" check: a contribution by an agent dated while it had left (on or after
/// the day it left, before it rejoined) is an error, located at the contribution's `date`.
/// Reversals are exempt: undoing a record adds no work.
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let leavers: BTreeMap<&Id, &[Departure]> = ledger
        .agents
        .iter()
        .filter(|a| !a.departures.is_empty())
        .map(|a| (&a.id.value, &a.departures[..]))
        .collect();
    if leavers.is_empty() {
        return;
    }
    for c in &ledger.contributions {
        if c.reverses().is_some() {
            continue;
        }
        let Some(d) = leavers
            .get(&c.agent.value)
            .and_then(|d| away_on(d, c.date.value))
        else {
            continue;
        };
        let until = match &d.rejoined {
            Some(r) => format!(" until it rejoined on {}", r.value),
            None => String::new(),
        };
        diags.push(
            Diagnostic::new(
                Code::AfterLeaving,
                ledger.path(c.file),
                Some(c.date.span),
                format!(
                    "contribution by {agent} dated {}, but {agent} left on {} ({} leaver){until}",
                    c.date.value,
                    d.left.value,
                    d.reason.as_str(),
                    agent = c.agent.value,
                ),
            )
            .with_hint(format!(
                "date it before {} if the work was done before leaving, or record the return first: ovn agent rejoin {} --date DATE",
                d.left.value, c.agent.value
            )),
        );
    }
}

/// A change of an agent's departures in a few words, for `ovn review`: `ben left on
/// 2026-03-01 (bad leaver)`, `ben rejoined on 2026-06-01`, or the lists before and after.
pub fn change_text(agent: &Id, before: &[Departure], after: &[Departure]) -> String {
    let word = |d: &Departure| match &d.rejoined {
        Some(r) => format!(
            "left {} ({}), rejoined {}",
            d.left.value,
            d.reason.as_str(),
            r.value
        ),
        None => format!("left {} ({})", d.left.value, d.reason.as_str()),
    };
    let (Some(new), true) = (after.last(), after.len() >= before.len()) else {
        let list = |ds: &[Departure]| match ds.is_empty() {
            true => "(none)".to_owned(),
            false => ds.iter().map(word).collect::<Vec<_>>().join("; "),
        };
        return format!("departures of {agent}: {} -> {}", list(before), list(after));
    };
    if after.len() == before.len() + 1 && after[..before.len()] == *before {
        return format!(
            "{agent} left on {} ({} leaver)",
            new.left.value,
            new.reason.as_str()
        );
    }
    match (&new.rejoined, after.len() == before.len()) {
        (Some(r), true) if after[..after.len() - 1] == before[..before.len() - 1] => {
            format!("{agent} rejoined on {}", r.value)
        }
        _ => format!(
            "departures of {agent}: {} -> {}",
            before.iter().map(word).collect::<Vec<_>>().join("; "),
            after.iter().map(word).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// Whether any agent's departures differ between two readings of the changed agent files
/// (`ovn review`: such a change may move any project's payout under leaver terms).
pub fn departures_changed(old: &[Agent], new: &[Agent]) -> bool {
    let of = |l: &[Agent], id: &Id| {
        l.iter()
            .find(|a| a.id.value == *id)
            .map(|a| a.departures.clone())
            .unwrap_or_default()
    };
    old.iter()
        .chain(new)
        .any(|a| of(old, &a.id.value) != of(new, &a.id.value))
}

/// Reads an agent's `[[departures]]`: each a `left` date, a `reason` (`good` or `bad`), an
/// optional `note` and an optional `rejoined` date. Departures come in date order, each
/// after the return from the one before; only the last may be without a return.
pub fn read_departures(f: &mut Fields<'_, '_>) -> Vec<Departure> {
    let mut out: Vec<Departure> = Vec::new();
    for (i, t) in f.tables("departures").into_iter().enumerate() {
        let mut d = f.nested(format!("departures #{}", i + 1), t);
        let left = d.date("left", Need::Required("2026-03-01"));
        let reason = d.word("reason", Need::Required("\"good\""), &["good", "bad"]);
        let note = d.text("note", Need::Optional);
        let rejoined = d.date("rejoined", Need::Optional);
        let (Some(left), Some(reason)) = (left, reason) else {
            d.finish();
            continue;
        };
        if let Some(r) = &rejoined
            && r.value < left.value
        {
            d.report(
                Code::InvalidValue,
                Some(r.span),
                format!("`rejoined` ({}) is before `left` ({})", r.value, left.value),
                Some("an agent rejoins on or after the day it left".to_owned()),
            );
        }
        if let Some(prev) = out.last() {
            let back = prev.rejoined.as_ref().map(|r| r.value);
            if back.is_none_or(|b| left.value < b) {
                d.report(
                    Code::InvalidValue,
                    Some(left.span),
                    match back {
                        Some(b) => format!(
                            "`left` ({}) is before the return from the departure before ({b})",
                            left.value
                        ),
                        None => format!(
                            "`left` ({}) follows a departure with no `rejoined`",
                            left.value
                        ),
                    },
                    Some(
                        "departures come in date order, each after the return from the last"
                            .to_owned(),
                    ),
                );
            }
        }
        d.finish();
        out.push(Departure {
            left,
            reason: Reason::from_word(&reason.value).unwrap_or(Reason::Good),
            note: note.map(|n| n.value),
            rejoined,
        });
    }
    out
}

/// Writes an agent's departures as `[[departures]]` tables (nothing when there are none).
pub fn write_departures(out: &mut String, departures: &[Departure]) {
    for d in departures {
        out.push_str("\n[[departures]]\n");
        let _ = writeln!(out, "left = {}", d.left.value.format("%Y-%m-%d"));
        let _ = writeln!(out, "reason = \"{}\"", d.reason.as_str());
        if let Some(n) = &d.note {
            let _ = writeln!(out, "note = {}", super::write::quote(n));
        }
        if let Some(r) = &d.rejoined {
            let _ = writeln!(out, "rejoined = {}", r.value.format("%Y-%m-%d"));
        }
    }
}

/// Reads an agreement's `[leaving]` table: `good` and `bad` sub-tables mapping contribution
/// kind words to terms.
pub fn read_terms(f: &mut Fields<'_, '_>) -> Terms {
    let mut terms = Terms::default();
    let Some(t) = f.table("leaving") else {
        return terms;
    };
    let mut l = f.nested("leaving".to_owned(), t);
    for (which, reason) in [("good", Reason::Good), ("bad", Reason::Bad)] {
        let Some(t) = l.table(which) else { continue };
        let mut s = l.nested(format!("leaving.{which}"), t);
        for (key, value_span, value) in s.rest() {
            if !is_name_word(&key.value) {
                s.report(
                    Code::InvalidValue,
                    Some(key.span),
                    format!(
                        "{:?} is not a contribution kind (lowercase letters, digits, `-`)",
                        key.value
                    ),
                    None,
                );
                continue;
            }
            let field = format!("leaving.{which}.{}", key.value);
            let parsed = match &value {
                DeValue::String(text) => Term::parse(text),
                _ => Err("is not a string".to_owned()),
            };
            match parsed {
                Ok(term) => {
                    let map = match reason {
                        Reason::Good => &mut terms.good,
                        Reason::Bad => &mut terms.bad,
                    };
                    map.insert(key.value, term);
                }
                Err(why) => s.report(
                    Code::InvalidValue,
                    Some(value_span),
                    format!("`{field}` {why}"),
                    Some(
                        "write \"keep\", \"forfeit\" or \"buy-back 0.5\" (a factor from 0 to 1)"
                            .to_owned(),
                    ),
                ),
            }
        }
        s.finish();
    }
    l.finish();
    terms
}

/// Writes an agreement's leaver terms (nothing when there are none).
pub fn write_terms(out: &mut String, terms: &Terms) {
    for (which, map) in [("good", &terms.good), ("bad", &terms.bad)] {
        if map.is_empty() {
            continue;
        }
        let _ = write!(out, "\n[leaving.{which}]\n");
        for (kind, term) in map {
            let _ = writeln!(out, "{kind} = \"{}\"", term.text());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn left(on: &str, reason: Reason, back: Option<&str>) -> Departure {
        Departure {
            left: At::new(day(on)),
            reason,
            note: None,
            rejoined: back.map(|b| At::new(day(b))),
        }
    }

    fn slicing_pie() -> Terms {
        let mut t = Terms::default();
        t.bad.insert("work".to_owned(), Term::Forfeit);
        t.bad
            .insert("material".to_owned(), Term::BuyBack(Decimal::new(5, 1)));
        t
    }

    #[test]
    fn terms_read_back_as_written() {
        assert_eq!(Term::parse("keep"), Ok(Term::Keep));
        assert_eq!(Term::parse("forfeit"), Ok(Term::Forfeit));
        assert_eq!(
            Term::parse("buy-back 0.25"),
            Ok(Term::BuyBack(Decimal::new(25, 2)))
        );
        for bad in [
            "buy-back",
            "buy-back 1.5",
            "buy-back -1",
            "buy-back x",
            "lose",
        ] {
            assert!(Term::parse(bad).is_err(), "{bad}");
        }
        let t = Term::BuyBack(Decimal::new(25, 2));
        assert_eq!(Term::parse(&t.text()), Ok(t));
    }

    #[test]
    fn a_bad_leaver_forfeits_work_made_before_leaving_in_later_payouts() {
        let d = [left("2026-03-01", Reason::Bad, None)];
        let t = slicing_pie();
        let a = factor(
            &d,
            &t,
            &Kind::Work,
            day("2026-02-01"),
            Some(day("2026-04-01")),
        );
        let a = a.unwrap();
        assert_eq!(a.factor, Decimal::ZERO);
        assert_eq!(a.why, "forfeited (bad leaver on 2026-03-01)");
        // Money is kept; a payout on or before the leaving day applies nothing.
        assert_eq!(factor(&d, &t, &Kind::Money, day("2026-02-01"), None), None);
        assert_eq!(
            factor(
                &d,
                &t,
                &Kind::Work,
                day("2026-02-01"),
                Some(day("2026-03-01"))
            ),
            None
        );
        let m = factor(&d, &t, &Kind::Material, day("2026-02-01"), None).unwrap();
        assert_eq!(m.factor, Decimal::new(5, 1));
    }

    #[test]
    fn a_good_leaver_keeps_and_work_after_a_return_counts_again() {
        let t = slicing_pie();
        let good = [left("2026-03-01", Reason::Good, None)];
        assert_eq!(
            factor(&good, &t, &Kind::Work, day("2026-02-01"), None),
            None
        );
        let back = [left("2026-03-01", Reason::Bad, Some("2026-05-01"))];
        assert_eq!(
            factor(&back, &t, &Kind::Work, day("2026-05-02"), None),
            None
        );
        // What the departure took stays taken.
        assert!(factor(&back, &t, &Kind::Work, day("2026-02-01"), None).is_some());
    }

    #[test]
    fn away_runs_from_leaving_until_the_return() {
        let d = [left("2026-03-01", Reason::Bad, Some("2026-05-01"))];
        assert!(away_on(&d, day("2026-02-28")).is_none());
        assert!(away_on(&d, day("2026-03-01")).is_some());
        assert!(away_on(&d, day("2026-04-30")).is_some());
        assert!(away_on(&d, day("2026-05-01")).is_none());
        assert!(still_away(&d).is_none());
        let open = [left("2026-03-01", Reason::Good, None)];
        assert!(still_away(&open).is_some());
        assert!(away_on(&open, day("2030-01-01")).is_some());
    }

    #[test]
    fn terms_write_in_kind_order() {
        let mut out = String::new();
        write_terms(&mut out, &slicing_pie());
        assert_eq!(
            out,
            "\n[leaving.bad]\nmaterial = \"buy-back 0.5\"\nwork = \"forfeit\"\n"
        );
        assert!(!slicing_pie().keeps_all());
        assert!(Terms::default().keeps_all());
    }
}
