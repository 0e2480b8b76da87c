//! Freeze: a bucket's equity weights fixed as of a date (Slicing Pie's break-even), and what
//! later work is paid as instead.
//!
//! A Slicing Pie company stops growing the pie once it breaks even: from then on people are
//! paid for their time rather than given more slices. In a value equation that is a property
//! of one bucket, written where its other terms are:
//!
//! ```toml
//! [[buckets]]
//! name = "pie"
//! share = "rest"
//! freeze = { from = 2026-06-01, after = "debt", rate = "25" }
//! ```
//!
//! An equity claim of the bucket on a contribution dated on or after `from` earns no equity
//! weight. With `after = "debt"` it becomes a debt of hours × `rate` plus the contribution's
//! amount (no multiplier: a debt is money owed, not slices), repaid like every debt — settled
//! by recorded payouts, never overpaid — and *ahead of* the bucket's equity: the bucket's
//! budget goes to those debts first ([`ahead`]), and only what they do not need is shared by
//! the frozen weights. With `after = "none"` such work is not counted at all. Debt and once
//! claims of the bucket are untouched, and so is every equity claim dated before `from`, whose
//! weight is its value as it always was: no contribution dated on or after the freeze can
//! change an equity weight.
//!
//! "Fixed as of that date" must hold exactly, so a frozen bucket takes no `decay` or
//! `lookback` (which would keep moving weights with the payout date), and a balanced bucket
//! (which shares equity claims only) may freeze only with `after = "none"`; both are refused
//! when the agreement is read, at the field that conflicts.
//!
//! Everything here is a pure function of the terms and the contribution: the payout engine
//! ([`super::payout`]) calls [`frozen`] for each claim it selects and [`ahead`] when it splits
//! a budget, so a bucket without a freeze is computed exactly as before.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_spanned::Spanned;
use toml::de::DeTable;

use super::diag::Code;
use super::parse::{DecimalRule, Fields, Need};
use super::record::ClaimKind;

/// A bucket's freeze: from which day its equity weights are fixed, and what later work is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freeze {
    /// The first day whose contributions earn no equity weight in the bucket.
    pub from: NaiveDate,
    /// What an equity claim dated on or after `from` becomes.
    pub after: After,
}

/// What work after a freeze is paid as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// A debt of hours × `rate` (plus the contribution's amount), repaid ahead of equity.
    Debt {
        /// The value of an hour of frozen work.
        rate: Decimal,
    },
    /// Not counted.
    Uncounted,
}

impl After {
    /// The word used in records: `debt` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            After::Debt { .. } => "debt",
            After::Uncounted => "none",
        }
    }

    /// The debt rate, when later work is paid as debt.
    pub fn rate(self) -> Option<Decimal> {
        match self {
            After::Debt { rate } => Some(rate),
            After::Uncounted => None,
        }
    }
}

/// The words `after` may take.
pub const AFTER: &[&str] = &["debt", "none"];

impl Freeze {
    /// Whether a contribution dated `day` is on or after the freeze.
    pub fn applies(&self, day: NaiveDate) -> bool {
        day >= self.from
    }

    /// The terms in words, for `ovn agreement show` and `--explain`: `frozen from 2026-06-01,
    /// later work as debt at 25/h`.
    pub fn words(&self) -> String {
        match self.after {
            After::Debt { rate } => format!(
                "frozen from {}, later work as debt at {}/h",
                self.from,
                rate.normalize()
            ),
            After::Uncounted => format!("frozen from {}, later work not counted", self.from),
        }
    }

    /// The debt a frozen claim becomes: `hours` × the freeze rate, plus `amount`, and how it
    /// arose (when `explain`); `None` when later work is not counted, or on overflow (which
    /// the bounds on hours, rates and amounts rule out).
    pub fn debt(
        &self,
        hours: Option<Decimal>,
        amount: Option<Decimal>,
        explain: bool,
    ) -> Option<(Decimal, String)> {
        let rate = self.after.rate()?;
        let mut value = Decimal::ZERO;
        let mut how = String::new();
        if let Some(h) = hours {
            value = h.checked_mul(rate)?;
            if explain {
                how = format!("{h} h × {} (frozen rate)", rate.normalize());
            }
        }
        if let Some(a) = amount {
            value = value.checked_add(a)?;
            if explain {
                how = match how.is_empty() {
                    true => a.to_string(),
                    false => format!("{how} + {a}"),
                };
            }
        }
        if explain {
            how = format!("frozen from {}, as debt: {how}", self.from);
        }
        Some((value, how))
    }
}

/// The freeze that applies to a claim of kind `claim` on a contribution dated `day` in a
/// bucket frozen by `freeze`, if any: only equity claims on or after the date are frozen.
pub fn frozen(freeze: Option<&Freeze>, claim: ClaimKind, day: NaiveDate) -> Option<&Freeze> {
    freeze.filter(|f| claim == ClaimKind::Equity && f.applies(day))
}

/// The exact shares of a budget among debts that are repaid ahead of the rest of a bucket:
/// `owed[i]` is the outstanding balance of a claim that goes first, `None` for the others.
/// When the budget covers every balance, each takes its balance; otherwise the budget is
/// shared in proportion to the balances (each below its balance). Returns the shares (`None`
/// for the others) and what is left for the others; `None` when no claim goes first, so the
/// caller splits as it always has.
pub fn ahead(budget: Decimal, owed: &[Option<Decimal>]) -> Option<(Vec<Option<Decimal>>, Decimal)> {
    let mut total = Decimal::ZERO;
    for o in owed.iter().flatten() {
        total = total.checked_add(*o)?;
    }
    if owed.iter().all(Option::is_none) {
        return None;
    }
    if total <= budget {
        return Some((owed.to_vec(), budget - total));
    }
    let shares = owed
        .iter()
        .map(|o| {
            o.map(|o| match budget.checked_mul(o) {
                Some(p) => p / total,
                None => budget * (o / total),
            })
        })
        .collect();
    Some((shares, Decimal::ZERO))
}

/// What a bucket's freeze did in one payout, for `--explain` and JSON: its terms, and the
/// contributions on or after the date that its rules selected as equity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The terms.
    pub freeze: Freeze,
    /// How many contributions were dated on or after the freeze.
    pub contributions: usize,
    /// Their hours, in all.
    pub hours: Decimal,
}

impl Summary {
    /// A bucket's freeze before any claim is seen.
    pub fn of(freeze: &Freeze) -> Summary {
        Summary {
            freeze: freeze.clone(),
            contributions: 0,
            hours: Decimal::ZERO,
        }
    }

    /// Counts one frozen contribution with its hours.
    pub fn count(&mut self, hours: Option<Decimal>) {
        self.contributions += 1;
        if let Some(h) = hours {
            self.hours = self.hours.checked_add(h).unwrap_or(self.hours);
        }
    }

    /// The sentence `--explain` prints: `frozen from 2026-06-01: equity weights as of that
    /// date; 12h after it paid as debt at 25/h`.
    pub fn text(&self) -> String {
        let f = &self.freeze;
        let head = format!("frozen from {}: equity weights as of that date", f.from);
        let how = match f.after {
            After::Debt { rate } => {
                format!("paid as debt at {}/h, ahead of equity", rate.normalize())
            }
            After::Uncounted => "not counted".to_owned(),
        };
        match self.contributions {
            0 => format!("{head}; nothing after it yet (later work {how})"),
            1 if self.hours.is_zero() => format!("{head}; 1 contribution after it {how}"),
            n if self.hours.is_zero() => format!("{head}; {n} contributions after it {how}"),
            _ => format!("{head}; {}h after it {how}", self.hours.normalize()),
        }
    }
}

/// What [`read`] needs to know of the bucket the freeze is on, to refuse terms that cannot
/// hold together.
pub struct Context {
    /// The bucket is paid `to` one agent (it has no claims to freeze).
    pub paid_to_one: bool,
    /// The bucket's claim kind (a freeze fixes equity weights).
    pub claim: ClaimKind,
    /// Whether any rule of the bucket gives equity claims.
    pub any_equity_rule: bool,
    /// The bucket, or one of its rules, has `decay` or `lookback`.
    pub aged: bool,
    /// The bucket is balanced.
    pub balanced: bool,
}

/// Reads a bucket's `freeze = { from = ..., after = ..., rate = ... }`, each problem reported
/// at its field: a `from` that is not a date, an unknown `after`, a `rate` missing for debt,
/// not above zero, or given with `none`, and a freeze the bucket cannot take (see
/// [`Context`]).
pub fn read<'i>(b: &mut Fields<'i, '_>, n: usize, context: &Context) -> Option<Freeze> {
    let span = b.peek_span("freeze")?;
    let table: Spanned<DeTable<'i>> = b.table("freeze")?;
    let mut f = b.nested(format!("buckets[{n}].freeze"), table);
    let from = f.date("from", Need::Required("2026-06-01"));
    let after = f.word("after", Need::Required("\"debt\""), AFTER);
    let rate_rule = DecimalRule {
        what: "freeze rates have",
        ..DecimalRule::RATE
    };
    let rate = f.decimal("rate", Need::Optional, rate_rule);
    let after = match (after, rate) {
        (Some(a), Some(r)) if a.value == "debt" => Some(After::Debt { rate: r.value }),
        (Some(a), None) if a.value == "debt" => {
            if !f.failed {
                f.report(
                    Code::MissingField,
                    Some(a.span),
                    format!("buckets[{n}].freeze: `after = \"debt\"` needs a `rate`"),
                    Some(
                        "add rate = \"25\": the value of an hour of work after the freeze"
                            .to_owned(),
                    ),
                );
            }
            None
        }
        (Some(_), Some(r)) => {
            f.report(
                Code::InvalidAgreement,
                Some(r.span),
                format!("buckets[{n}].freeze: `rate` goes with `after = \"debt\"`"),
                Some("remove `rate`, or set after = \"debt\"".to_owned()),
            );
            None
        }
        (Some(_), None) => Some(After::Uncounted),
        (None, _) => None,
    };
    let ok = f.finish();
    let problem = if context.paid_to_one {
        Some("a bucket paid `to` one agent has no claims to freeze")
    } else if context.claim != ClaimKind::Equity && !context.any_equity_rule {
        Some("a freeze fixes equity weights, and this bucket has no equity claims")
    } else if context.aged {
        Some(
            "a frozen bucket's weights are fixed as of the freeze date: it takes no `decay` or `lookback`",
        )
    } else if context.balanced && after.is_some_and(|a| a != After::Uncounted) {
        Some(
            "a balanced bucket shares equity claims only: freeze it with after = \"none\", or pay later work as debt from another bucket",
        )
    } else {
        None
    };
    if let Some(message) = problem {
        b.report(
            Code::InvalidAgreement,
            Some(span),
            format!("buckets[{n}].freeze: {message}"),
            None,
        );
        return None;
    }
    match (ok, from, after) {
        (true, Some(from), Some(after)) => Some(Freeze {
            from: from.value,
            after,
        }),
        _ => {
            b.failed = true;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn only_equity_claims_on_or_after_the_date_are_frozen() {
        let f = Freeze {
            from: day("2026-06-01"),
            after: After::Debt { rate: dec("25") },
        };
        assert!(frozen(Some(&f), ClaimKind::Equity, day("2026-06-01")).is_some());
        assert!(frozen(Some(&f), ClaimKind::Equity, day("2026-05-31")).is_none());
        assert!(frozen(Some(&f), ClaimKind::Debt, day("2026-07-01")).is_none());
        assert!(frozen(Some(&f), ClaimKind::Once, day("2026-07-01")).is_none());
        assert!(frozen(None, ClaimKind::Equity, day("2026-07-01")).is_none());
    }

    #[test]
    fn a_frozen_claim_is_hours_at_the_rate_plus_its_amount() {
        let f = Freeze {
            from: day("2026-06-01"),
            after: After::Debt { rate: dec("25") },
        };
        let (v, how) = f.debt(Some(dec("12")), None, true).unwrap();
        assert_eq!(v, dec("300"));
        assert_eq!(
            how,
            "frozen from 2026-06-01, as debt: 12 h × 25 (frozen rate)"
        );
        let (v, _) = f.debt(Some(dec("2")), Some(dec("40.50")), false).unwrap();
        assert_eq!(v, dec("90.50"));
        let none = Freeze {
            after: After::Uncounted,
            ..f
        };
        assert!(none.debt(Some(dec("2")), None, false).is_none());
    }

    #[test]
    fn debts_ahead_take_their_balance_or_share_a_short_budget() {
        assert_eq!(ahead(dec("100"), &[None, None]), None);
        let (s, left) = ahead(dec("1000"), &[Some(dec("300")), None, Some(dec("200"))]).unwrap();
        assert_eq!(s, vec![Some(dec("300")), None, Some(dec("200"))]);
        assert_eq!(left, dec("500"));
        let (s, left) = ahead(dec("100"), &[Some(dec("300")), None, Some(dec("100"))]).unwrap();
        assert_eq!(s, vec![Some(dec("75")), None, Some(dec("25"))]);
        assert_eq!(left, Decimal::ZERO);
    }

    #[test]
    fn the_summary_says_what_the_freeze_did() {
        let mut s = Summary::of(&Freeze {
            from: day("2026-06-01"),
            after: After::Debt { rate: dec("25") },
        });
        let none = Summary::of(&Freeze {
            from: day("2026-06-01"),
            after: After::Uncounted,
        });
        assert_eq!(
            none.text(),
            "frozen from 2026-06-01: equity weights as of that date; nothing after it yet (later work not counted)"
        );
        s.count(Some(dec("8")));
        s.count(Some(dec("4")));
        assert_eq!(
            s.text(),
            "frozen from 2026-06-01: equity weights as of that date; 12h after it paid as debt at 25/h, ahead of equity"
        );
    }
}
