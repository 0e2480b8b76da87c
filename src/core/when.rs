//! Dates as hledger and git users type them on the command line, resolved against a given
//! today (the core has no clock: the caller passes `Context::now`'s date, which `OVN_NOW`
//! pins in tests).
//!
//! A day is `2026-12-01`, `2026-12-1`, `today` or `yesterday`. A period is a year (`2026`),
//! a month (`2026-12`), `this month`, `last month`, `this year` or `last year`; where a flag
//! bounds a range, a period stands for its first day as a start (`--since 2026-12` is
//! 2026-12-01) and its last day as an end (`--until 2026-12` is 2026-12-31), as hledger
//! reads them. A flag that names one day (`--date`) takes days only: a month is no day.
//! The ledger's own files keep the strict `YYYY-MM-DD`.

use chrono::{Datelike, NaiveDate};

/// Which day of a period a flag means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// A start (`--since`): the period's first day.
    Start,
    /// An end (`--until`): the period's last day.
    End,
    /// One day (`--date`): periods are refused.
    Day,
}

/// Why a text is not a date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Not one of the forms.
    #[error("is not a date")]
    NotADate,
    /// A period where one day is needed.
    #[error("is a period, not a day")]
    Period,
}

/// The forms, for hints.
pub const FORMS: &str = "2026-12-01, 2026-12-1, today, yesterday; for --since and --until also 2026, 2026-12, this month, last month, this year, last year";

/// Reads `text` as a day, or as the `edge` day of a period, with `today` for relative forms.
pub fn parse(text: &str, today: NaiveDate, edge: Edge) -> Result<NaiveDate, WhenError> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let (first, last) = match words.as_slice() {
        ["today"] => return Ok(today),
        ["yesterday"] => return today.pred_opt().ok_or(WhenError::NotADate),
        ["this", "month"] => month(today.year(), today.month()),
        ["last", "month"] => {
            let (y, m) = match today.month() {
                1 => (today.year() - 1, 12),
                m => (today.year(), m - 1),
            };
            month(y, m)
        }
        ["this", "year"] => year(today.year()),
        ["last", "year"] => year(today.year() - 1),
        [one] => return numeric(one, edge),
        _ => None,
    }
    .ok_or(WhenError::NotADate)?;
    pick(first, last, edge)
}

/// Reads `text` as one day (see [`Edge::Day`]): what a `--date` flag takes.
pub fn day(text: &str, today: NaiveDate) -> Result<NaiveDate, WhenError> {
    parse(text, today, Edge::Day)
}

/// `YYYY`, `YYYY-M` and `YYYY-M-D` (one or two digits for month and day).
fn numeric(text: &str, edge: Edge) -> Result<NaiveDate, WhenError> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, most: usize| {
        (!s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let y = parts
        .first()
        .filter(|y| y.len() == 4)
        .and_then(|y| number(y, 4))
        .and_then(|y| i32::try_from(y).ok())
        .ok_or(WhenError::NotADate)?;
    let (first, last) = match parts.as_slice() {
        [_] => year(y),
        [_, m] => month(y, number(m, 2).ok_or(WhenError::NotADate)?),
        [_, m, d] => {
            let m = number(m, 2).ok_or(WhenError::NotADate)?;
            let d = number(d, 2).ok_or(WhenError::NotADate)?;
            let day = NaiveDate::from_ymd_opt(y, m, d).ok_or(WhenError::NotADate)?;
            return Ok(day);
        }
        _ => None,
    }
    .ok_or(WhenError::NotADate)?;
    pick(first, last, edge)
}

fn pick(first: NaiveDate, last: NaiveDate, edge: Edge) -> Result<NaiveDate, WhenError> {
    match edge {
        Edge::Start => Ok(first),
        Edge::End => Ok(last),
        Edge::Day => Err(WhenError::Period),
    }
}

fn year(y: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(y, 1, 1)?,
        NaiveDate::from_ymd_opt(y, 12, 31)?,
    ))
}

fn month(y: i32, m: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = match m {
        12 => NaiveDate::from_ymd_opt(y.checked_add(1)?, 1, 1)?,
        m => NaiveDate::from_ymd_opt(y, m + 1, 1)?,
    };
    Some((first, next.pred_opt()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_their_first_day_as_a_start_and_last_day_as_an_end() {
        let today = d("2026-03-15");
        let both = |t: &str| {
            (
                parse(t, today, Edge::Start).unwrap().to_string(),
                parse(t, today, Edge::End).unwrap().to_string(),
            )
        };
        assert_eq!(both("2026"), ("2026-01-01".into(), "2026-12-31".into()));
        assert_eq!(both("2026-12"), ("2026-12-01".into(), "2026-12-31".into()));
        assert_eq!(both("2028-2"), ("2028-02-01".into(), "2028-02-29".into()));
        assert_eq!(
            both("last month"),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        assert_eq!(
            both("This Month"),
            ("2026-03-01".into(), "2026-03-31".into())
        );
        assert_eq!(
            both("last year"),
            ("2025-01-01".into(), "2025-12-31".into())
        );
        assert_eq!(
            both("2026-12-1"),
            ("2026-12-01".into(), "2026-12-01".into())
        );
        let january = d("2026-01-10");
        assert_eq!(
            parse("last month", january, Edge::Start),
            Ok(d("2025-12-01"))
        );
    }

    #[test]
    fn days_and_what_is_refused() {
        let today = d("2026-03-01");
        assert_eq!(parse("today", today, Edge::Day), Ok(today));
        assert_eq!(parse("yesterday", today, Edge::Day), Ok(d("2026-02-28")));
        assert_eq!(parse("2026-3-1", today, Edge::Day), Ok(today));
        assert_eq!(parse("2026-03", today, Edge::Day), Err(WhenError::Period));
        for bad in [
            "",
            "26-3-1",
            "2026-13",
            "2026-02-30",
            "2026-1-1-1",
            "2026-001-1",
            "+2026",
            "next month",
            "2026-",
            "-2026",
            "２０２６",
        ] {
            assert_eq!(
                parse(bad, today, Edge::Start),
                Err(WhenError::NotADate),
                "{bad}"
            );
        }
    }
}
