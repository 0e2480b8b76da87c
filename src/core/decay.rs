//! Decay and lookback: how a claim's weight depends on its age at the payout date, exactly.
//!
//! A value equation that lives for years must say what old work is worth. An agreement says it
//! with a *schedule*: a short list of steps, each an age and the factor that applies to claims
//! younger than it (`1y` → 1, `2y` → 0.5, `5y` → 0.25, then 0), or with a *lookback* window
//! that counts only claims younger than it. Both are kept as exact decimals and whole calendar
//! months, never as floats or day counts divided by 365.25, so anyone re-deriving a payout
//! from the same commit gets the same factor for every claim.
//!
//! Ages are calendar arithmetic, defined once here: a year is 12 months; a contribution
//! dated D is younger than N months on day P when P is before D + N months, where adding
//! months keeps the day of the month and clamps it to the month's last day (2024-01-31 + 1
//! month is 2024-02-29; 2024-02-29 + 1 year is 2025-02-28). Adding months never goes
//! backwards, so "younger than" is monotone in both dates and the steps of a schedule never
//! overlap. The age shown in explanations is the number of whole months N with D + N months
//! on or before P.
//!
//! A factor never exceeds 1 and never grows with age (checked when the agreement is read), so
//! decay can only lower a claim's weight, never raise it.

use std::fmt;

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

/// A span of calendar months, as an agreement writes it: `18m` or `2y` (a year is 12 months).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Age {
    /// How many units.
    pub count: u32,
    /// Months or years.
    pub unit: AgeUnit,
}

/// The unit an [`Age`] was written in (kept so the canonical writer writes it back as it was).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgeUnit {
    /// `m`: calendar months.
    Months,
    /// `y`: years of 12 months.
    Years,
}

/// Why a text is not an [`Age`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgeError {
    /// Not digits followed by `m` or `y`.
    #[error("is not an age such as \"18m\" or \"2y\" (whole months or years)")]
    Malformed,
    /// Zero months.
    #[error("must be more than zero")]
    Zero,
    /// More than [`Age::MAX_MONTHS`].
    #[error("is more than 1000 years")]
    TooLong,
}

impl Age {
    /// The longest age accepted: 1000 years, far past any claim, and small enough that adding
    /// it to any date stays exact.
    pub const MAX_MONTHS: u32 = 12_000;

    /// Parses `18m` or `2y`: digits, then `m` (months) or `y` (years).
    pub fn parse(text: &str) -> Result<Age, AgeError> {
        let text = text.trim();
        let (digits, unit) = match text.char_indices().last() {
            Some((i, 'm')) => (&text[..i], AgeUnit::Months),
            Some((i, 'y')) => (&text[..i], AgeUnit::Years),
            _ => return Err(AgeError::Malformed),
        };
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AgeError::Malformed);
        }
        let count: u32 = digits.parse().map_err(|_| AgeError::Malformed)?;
        let age = Age { count, unit };
        match age.months() {
            0 => Err(AgeError::Zero),
            m if m > Age::MAX_MONTHS => Err(AgeError::TooLong),
            _ => Ok(age),
        }
    }

    /// The age in months (saturating: a parsed age is at most [`Age::MAX_MONTHS`]).
    pub fn months(self) -> u32 {
        match self.unit {
            AgeUnit::Months => self.count,
            AgeUnit::Years => self.count.saturating_mul(12),
        }
    }

    /// Whether a contribution dated `day` is younger than this age on `at`: `at` is before
    /// `day` plus the age in calendar months.
    pub fn holds(self, day: NaiveDate, at: NaiveDate) -> bool {
        younger_than(day, at, self.months())
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            AgeUnit::Months => 'm',
            AgeUnit::Years => 'y',
        };
        write!(f, "{}{unit}", self.count)
    }
}

/// Whether `at` is before `day` + `months` calendar months (day clamped to the month's end).
/// Past the calendar's end the sum does not exist, and every day is before it.
pub fn younger_than(day: NaiveDate, at: NaiveDate, months: u32) -> bool {
    match day.checked_add_months(Months::new(months)) {
        Some(end) => at < end,
        None => true,
    }
}

/// The whole months from `day` to `at`: the largest N with `day` + N months on or before `at`
/// (0 when `at` is before `day`).
pub fn months_between(day: NaiveDate, at: NaiveDate) -> u32 {
    use chrono::Datelike;
    if at <= day {
        return 0;
    }
    let guess = (at.year() - day.year()) * 12 + at.month() as i32 - day.month() as i32;
    let guess = u32::try_from(guess.max(0)).unwrap_or(0);
    // The calendar difference is right or one too many (when `at`'s day of the month is
    // before `day`'s).
    if younger_than(day, at, guess) {
        guess.saturating_sub(1)
    } else {
        guess
    }
}

/// An age in words for explanations: `1y 3m`, `7m`, `0m`.
pub fn age_text(months: u32) -> String {
    match (months / 12, months % 12) {
        (0, m) => format!("{m}m"),
        (y, 0) => format!("{y}y"),
        (y, m) => format!("{y}y {m}m"),
    }
}

/// One step of a decay schedule: the factor for claims younger than `until` (and at least as
/// old as the step before); the last step may have no `until` and then applies for ever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The age the step ends at (exclusive); `None` only on the last step.
    pub until: Option<Age>,
    /// The factor, between 0 and 1.
    pub factor: Decimal,
}

/// A decay schedule, checked when read: steps in order of age, factors in [0, 1] that never
/// grow. Past the last step's `until` the factor is 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The steps, youngest first.
    pub steps: Vec<Step>,
}

/// The factor a schedule gives one claim, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The factor.
    pub factor: Decimal,
    /// The claim's age in whole months at the payout date.
    pub months: u32,
    /// The step that gave it (`None`: older than every step, factor 0).
    pub step: Option<usize>,
}

impl Schedule {
    /// The factor for a claim dated `day` in a payout on `at`.
    pub fn factor(&self, day: NaiveDate, at: NaiveDate) -> Applied {
        let months = months_between(day, at);
        for (i, s) in self.steps.iter().enumerate() {
            if s.until.is_none_or(|u| u.holds(day, at)) {
                return Applied {
                    factor: s.factor,
                    months,
                    step: Some(i),
                };
            }
        }
        Applied {
            factor: Decimal::ZERO,
            months,
            step: None,
        }
    }

    /// The step in words for explanations: `under 2y`, `from 5y on`, `past 5y`.
    pub fn step_text(&self, applied: &Applied) -> String {
        match applied.step.and_then(|i| self.steps.get(i)) {
            Some(Step { until: Some(u), .. }) => format!("under {u}"),
            Some(Step { until: None, .. }) => match applied
                .step
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| self.steps.get(i))
                .and_then(|s| s.until)
            {
                Some(u) => format!("from {u} on"),
                None => "at any age".to_owned(),
            },
            None => match self.steps.last().and_then(|s| s.until) {
                Some(u) => format!("past {u}"),
                None => "past the last step".to_owned(),
            },
        }
    }
}

/// What is wrong with one step of a schedule: its position, the field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProblem {
    /// The step's position (0-based).
    pub index: usize,
    /// `until` or `factor`.
    pub field: &'static str,
    /// The message.
    pub message: String,
}

/// Checks a schedule's steps, all problems at once: at least one step; every step but the
/// last has `until`; `until` grows strictly from step to step; every factor is in [0, 1] and
/// none is larger than the one before.
pub fn check(steps: &[Step]) -> Vec<StepProblem> {
    let mut out = Vec::new();
    let last = steps.len().saturating_sub(1);
    for (i, s) in steps.iter().enumerate() {
        let problem = |field, message| StepProblem {
            index: i,
            field,
            message,
        };
        if s.factor < Decimal::ZERO || s.factor > Decimal::ONE {
            out.push(problem(
                "factor",
                format!(
                    "a decay factor is between 0 and 1, found {}",
                    s.factor.normalize()
                ),
            ));
        }
        if s.until.is_none() && i != last {
            out.push(problem(
                "until",
                "only the last decay step may leave out `until` (it then applies for ever)"
                    .to_owned(),
            ));
        }
        let Some(prev) = i.checked_sub(1).and_then(|p| steps.get(p)) else {
            continue;
        };
        if let (Some(a), Some(b)) = (prev.until, s.until)
            && b.months() <= a.months()
        {
            out.push(problem(
                "until",
                format!(
                    "decay steps go from young to old: `until` = \"{b}\" is not after the step before (\"{a}\")"
                ),
            ));
        }
        if s.factor > prev.factor {
            out.push(problem(
                "factor",
                format!(
                    "decay never raises a weight: factor {} is larger than the step before ({})",
                    s.factor.normalize(),
                    prev.factor.normalize()
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn schedule() -> Schedule {
        let step = |until: Option<&str>, factor: &str| Step {
            until: until.map(|u| Age::parse(u).unwrap()),
            factor: dec(factor),
        };
        Schedule {
            steps: vec![
                step(Some("1y"), "1"),
                step(Some("2y"), "0.5"),
                step(Some("5y"), "0.25"),
            ],
        }
    }

    #[test]
    fn ages_read_as_written() {
        assert_eq!(Age::parse("18m").unwrap().months(), 18);
        assert_eq!(Age::parse("2y").unwrap().months(), 24);
        assert_eq!(Age::parse("2y").unwrap().to_string(), "2y");
        for bad in ["", "m", "1.5y", "-1y", "1d", "1 y", "y1", "12", "1Y"] {
            assert_eq!(Age::parse(bad), Err(AgeError::Malformed), "{bad:?}");
        }
        assert_eq!(Age::parse("0m"), Err(AgeError::Zero));
        assert_eq!(Age::parse("1001y"), Err(AgeError::TooLong));
        assert_eq!(Age::parse("999999999999y"), Err(AgeError::Malformed));
    }

    #[test]
    fn month_arithmetic_clamps_to_the_end_of_the_month() {
        // Born on 29 February: one year old on 28 February.
        assert!(younger_than(d("2024-02-29"), d("2025-02-27"), 12));
        assert!(!younger_than(d("2024-02-29"), d("2025-02-28"), 12));
        assert!(younger_than(d("2024-01-31"), d("2024-02-28"), 1));
        assert!(!younger_than(d("2024-01-31"), d("2024-02-29"), 1));
        assert_eq!(months_between(d("2024-01-31"), d("2024-02-29")), 1);
        assert_eq!(months_between(d("2024-01-31"), d("2024-02-28")), 0);
        assert_eq!(months_between(d("2025-03-15"), d("2026-06-14")), 14);
        assert_eq!(months_between(d("2025-03-15"), d("2026-06-15")), 15);
        assert_eq!(months_between(d("2026-03-15"), d("2025-06-15")), 0);
        assert_eq!(age_text(15), "1y 3m");
        assert_eq!(age_text(24), "2y");
        assert_eq!(age_text(7), "7m");
    }

    #[test]
    fn a_schedule_steps_down_with_age() {
        let s = schedule();
        let at = d("2027-01-15");
        let f = |day| s.factor(d(day), at).factor;
        assert_eq!(f("2026-01-16"), dec("1"));
        assert_eq!(f("2026-01-15"), dec("0.5"), "exactly one year old");
        assert_eq!(f("2025-01-16"), dec("0.5"));
        assert_eq!(f("2025-01-15"), dec("0.25"));
        assert_eq!(f("2022-01-16"), dec("0.25"));
        assert_eq!(f("2022-01-15"), Decimal::ZERO, "five years old");
        let old = s.factor(d("2020-01-01"), at);
        assert_eq!(s.step_text(&old), "past 5y");
        let mid = s.factor(d("2025-06-01"), at);
        assert_eq!((mid.months, s.step_text(&mid)), (19, "under 2y".to_owned()));
    }

    #[test]
    fn bad_schedules_are_told_step_by_step() {
        let step = |until: Option<&str>, factor: &str| Step {
            until: until.map(|u| Age::parse(u).unwrap()),
            factor: dec(factor),
        };
        assert!(check(&schedule().steps).is_empty());
        assert!(check(&[step(Some("1y"), "1"), step(None, "0.5")]).is_empty());
        let problems = check(&[
            step(Some("2y"), "1.5"),
            step(Some("12m"), "0.5"),
            step(None, "0.75"),
            step(Some("5y"), "-0.1"),
        ]);
        let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.index, p.field)).collect();
        assert_eq!(
            found,
            vec![
                (0, "factor"),
                (1, "until"),
                (2, "until"),
                (2, "factor"),
                (3, "factor"),
            ]
        );
    }
}
