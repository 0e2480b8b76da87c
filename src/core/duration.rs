//! Durations as people type them (`2h30m`, `2h30`, `90m`, `1.5h`, `1:30`), turned into exact
//! hours.
//!
//! The ledger stores hours as a decimal with at most 4 places ([`HOURS_SCALE`]). Decimal hours
//! are taken exactly as written (`1.5h`; more than 4 places is refused, never rounded). Minutes
//! are whole numbers, and a duration with minutes is converted to hours rounded half away from
//! zero to 4 places: `20m` is `0.3333` hours (0.12 s less than 20 minutes), `40m` is `0.6667`.
//! Rounding at 4 places keeps every duration within a fifth of a second of what was typed,
//! and the record shows the hours it holds, so nothing is hidden. A bare number (`2`) is
//! refused because it could be hours or minutes.

use rust_decimal::{Decimal, RoundingStrategy};

use super::checks::MAX_HOURS_PER_DAY;
use super::parse::HOURS_SCALE;
use super::value::parse_decimal_text;

/// A duration read from text: its hours, and whether they were rounded to fit 4 places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    /// Hours, normalised (`2.5`, not `2.50`), with at most 4 decimal places.
    pub hours: Decimal,
    /// Whether minutes had to be rounded to 4 decimal places of an hour.
    pub rounded: bool,
}

/// Why a text is not an acceptable duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not one of the accepted forms.
    #[error("is not a duration")]
    Malformed,
    /// A bare number: hours or minutes?
    #[error("has no unit (hours or minutes?)")]
    NoUnit,
    /// Minutes with a fraction (`1.5m`), or minutes/seconds of `h:mm` out of range.
    #[error("has minutes that are not a whole number below 60")]
    BadMinutes,
    /// Decimal hours with more than 4 places.
    #[error("has more than 4 decimal places of an hour")]
    TooPrecise,
    /// Zero or negative.
    #[error("is not more than zero")]
    NotPositive,
    /// More than a day.
    #[error("is more than the 24 hours of a day")]
    TooLong,
}

/// The accepted forms, for hints.
pub const FORMS: &str = "2h30m, 90m, 1.5h or 1:30";

/// Parses a duration: `2h`, `2h30m`, `2h30`, `90m`, `1.5h`, `1:30` (hours:minutes). White space
/// between the parts is allowed; `min` may stand for `m`. The result is more than zero and at
/// most 24 hours.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if compact.starts_with('-') {
        return Err(DurationError::NotPositive);
    }
    let (whole_hours, minutes) = if let Some((h, m)) = compact.split_once(':') {
        let h = digits(h).ok_or(DurationError::Malformed)?;
        if m.len() != 2 {
            return Err(if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
                DurationError::Malformed
            } else {
                DurationError::BadMinutes
            });
        }
        let m = digits(m).ok_or(DurationError::Malformed)?;
        if m >= Decimal::from(60) {
            return Err(DurationError::BadMinutes);
        }
        (h, m)
    } else {
        let (hours_part, rest) = match compact.find('h') {
            Some(i) => (Some(&compact[..i]), &compact[i + 1..]),
            None => (None, compact.as_str()),
        };
        let minutes_part = if rest.is_empty() {
            None
        } else {
            // `2h30`: minutes after hours need no unit (as in `1:30`).
            let bare =
                (hours_part.is_some() && rest.bytes().all(|b| b.is_ascii_digit())).then_some(rest);
            let body = rest
                .strip_suffix("min")
                .or_else(|| rest.strip_suffix('m'))
                .or(bare)
                .ok_or(if hours_part.is_none() && is_number(rest) {
                    DurationError::NoUnit
                } else {
                    DurationError::Malformed
                })?;
            Some(body)
        };
        let hours = match hours_part {
            Some(h) => {
                let h = parse_decimal_text(h).map_err(|_| DurationError::Malformed)?;
                if h.scale() > HOURS_SCALE {
                    return Err(DurationError::TooPrecise);
                }
                h
            }
            None => Decimal::ZERO,
        };
        let minutes = match minutes_part {
            Some(m) => {
                let value = parse_decimal_text(m).map_err(|_| DurationError::Malformed)?;
                if value.scale() > 0 {
                    return Err(DurationError::BadMinutes);
                }
                // `2h90m` is more likely a typo than a way to write 3h30m.
                if hours_part.is_some() && value >= Decimal::from(60) {
                    return Err(DurationError::BadMinutes);
                }
                value
            }
            None => Decimal::ZERO,
        };
        if hours_part.is_none() && minutes_part.is_none() {
            return Err(DurationError::Malformed);
        }
        (hours, minutes)
    };
    let exact = whole_hours + minutes / Decimal::from(60);
    let hours = exact
        .round_dp_with_strategy(HOURS_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    if hours <= Decimal::ZERO {
        return Err(DurationError::NotPositive);
    }
    if hours > MAX_HOURS_PER_DAY {
        return Err(DurationError::TooLong);
    }
    Ok(Duration {
        hours,
        rounded: hours != exact,
    })
}

fn digits(s: &str) -> Option<Decimal> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| parse_decimal_text(s).ok())
        .flatten()
}

fn is_number(s: &str) -> bool {
    parse_decimal_text(s).is_ok()
}

/// Formats hours for messages: `2.5h`.
pub fn show(hours: Decimal) -> String {
    format!("{}h", hours.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(text: &str) -> String {
        parse(text).unwrap().hours.to_string()
    }

    #[test]
    fn the_documented_forms() {
        assert_eq!(hours("2h30m"), "2.5");
        assert_eq!(hours("2h 30m"), "2.5");
        assert_eq!(hours("2h30"), "2.5");
        assert_eq!(hours("1h05"), "1.0833");
        assert_eq!(hours("90m"), "1.5");
        assert_eq!(hours("90min"), "1.5");
        assert_eq!(hours("1.5h"), "1.5");
        assert_eq!(hours("1:30"), "1.5");
        assert_eq!(hours("0:05"), "0.0833");
        assert_eq!(hours("2h"), "2");
        assert_eq!(hours("2H"), "2");
        assert_eq!(hours("24h"), "24");
        assert_eq!(hours("1.25h"), "1.25");
        assert_eq!(hours("0.0001h"), "0.0001");
    }

    #[test]
    fn minutes_round_to_four_places() {
        let d = parse("20m").unwrap();
        assert_eq!(d.hours.to_string(), "0.3333");
        assert!(d.rounded);
        assert_eq!(hours("40m"), "0.6667");
        assert_eq!(hours("1h10m"), "1.1667");
        assert!(!parse("45m").unwrap().rounded);
    }

    #[test]
    fn bad_durations() {
        use DurationError::*;
        assert_eq!(parse("0h"), Err(NotPositive));
        assert_eq!(parse("0m"), Err(NotPositive));
        assert_eq!(parse("-2h"), Err(NotPositive));
        assert_eq!(parse("25h"), Err(TooLong));
        assert_eq!(parse("24h1m"), Err(TooLong));
        assert_eq!(parse("2x"), Err(Malformed));
        assert_eq!(parse("2"), Err(NoUnit));
        assert_eq!(parse("1.5"), Err(NoUnit));
        assert_eq!(parse(""), Err(Malformed));
        assert_eq!(parse("h"), Err(Malformed));
        assert_eq!(parse("1.5m"), Err(BadMinutes));
        assert_eq!(parse("2h90m"), Err(BadMinutes));
        assert_eq!(parse("2h90"), Err(BadMinutes));
        assert_eq!(parse("2h3.5"), Err(Malformed));
        assert_eq!(parse("1:75"), Err(BadMinutes));
        assert_eq!(parse("1:5"), Err(BadMinutes));
        assert_eq!(parse("1.00001h"), Err(TooPrecise));
        assert_eq!(parse("1e2h"), Err(Malformed));
        assert_eq!(parse("nanh"), Err(Malformed));
        assert_eq!(parse("2m30h"), Err(Malformed));
    }
}
