//! Exact value types: ids, decimals, percents and dates, and how they are read from TOML.
//!
//! Money and hours never pass through a float. A TOML number such as `hours = 2.5` is read from
//! its literal text (the parser keeps it), so `0.1` is exactly one tenth. Strings are the
//! canonical form (`hours = "2.5"`) because other TOML tools would read bare numbers as floats.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::de::DeValue;

/// A record id: 1 to 64 characters of `[a-z0-9_-]`, starting with a letter or digit.
///
/// Lowercase only, because ids are file names and case-insensitive file systems (macOS,
/// Windows) would otherwise let `Ana.toml` and `ana.toml` collide.
///
/// Shared, not owned: the same agent or project id appears in a million contributions, and
/// a clone (for an index, a claim, a report row) costs a count, not an allocation.
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(std::sync::Arc<str>);

impl Ord for Id {
    fn cmp(&self, other: &Id) -> std::cmp::Ordering {
        // As `eq`: shared copies are equal without comparing their text (sorting a bucket's
        // claims by agent meets the same few agents a million times).
        if std::sync::Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Id) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        // Shared copies (a ledger shares each agent and project id) are equal without
        // comparing their text.
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl std::hash::Hash for Id {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the text hashes (equal ids are equal text), so an `Id` and its `&str` find
        // the same entry.
        self.0.hash(state);
    }
}

/// Why a string is not a valid [`Id`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The empty string.
    #[error("an id cannot be empty")]
    Empty,
    /// More than 64 characters.
    #[error("an id has at most 64 characters")]
    TooLong,
    /// A character outside `[a-z0-9_-]` (or a leading `-`/`_`).
    #[error(
        "an id may only hold lowercase letters, digits, `-` and `_`, and must start with a letter or digit (found {0:?})"
    )]
    BadChar(char),
    /// A name Windows reserves for a device (`con`, `nul`, `com1`, ...): a file of that name
    /// cannot be checked out there.
    #[error(
        "Windows reserves this name for a device (con, prn, aux, nul, com0-com9, lpt0-lpt9): its file could not be checked out there"
    )]
    Reserved,
}

/// What each byte may be in an id: 0 nowhere, [`ANYWHERE`] (a lowercase ASCII letter or a
/// digit), or [`INNER`] (`-` and `_`, not first).
static ID_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            ANYWHERE
        } else if c == b'-' || c == b'_' {
            INNER
        } else {
            0
        };
        b += 1;
    }
    t
};
const ANYWHERE: u8 = 1;
const INNER: u8 = 2;

impl Id {
    /// The longest allowed id.
    pub const MAX_LEN: usize = 64;

    /// Validates and wraps `s`.
    pub fn parse(s: &str) -> Result<Id, IdError> {
        Self::check(s)?;
        Ok(Id(s.into()))
    }

    /// Whether `s` is a valid id, without making one (no allocation).
    pub fn check(s: &str) -> Result<(), IdError> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(IdError::TooLong);
        }
        // By bytes, through a table (three ids a record on a cold read of a million): every
        // byte before the first bad one is ASCII, so that byte starts the character to
        // report.
        let bad = s.bytes().enumerate().find(|&(i, b)| {
            let class = ID_BYTES[usize::from(b)];
            class == 0 || (i == 0 && class == INNER)
        });
        if let Some((i, _)) = bad {
            let c = s.get(i..).and_then(|t| t.chars().next());
            return Err(IdError::BadChar(c.unwrap_or(char::REPLACEMENT_CHARACTER)));
        }
        let reserved = matches!(s, "con" | "prn" | "aux" | "nul")
            || (s.len() == 4
                && (s.starts_with("com") || s.starts_with("lpt"))
                && s.as_bytes()[3].is_ascii_digit());
        if reserved {
            return Err(IdError::Reserved);
        }
        Ok(())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the shared text lives: equal for clones of one id (a ledger shares each agent
    /// and project id), so sets of ids met a million times can be keyed by it without
    /// hashing text. Two equal ids read separately have different addresses.
    pub fn addr(&self) -> usize {
        std::sync::Arc::as_ptr(&self.0) as *const u8 as usize
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Id {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Id, IdError> {
        Id::parse(s)
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Why a value is not an acceptable decimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// Not a plain decimal (`1e3`, `12,5`, `abc`, hex ...).
    Malformed,
    /// `nan` or `inf`.
    NotFinite,
    /// More digits than 28 significant digits can hold.
    TooLarge,
    /// A percent string without the `%` sign, or a `%` where a plain decimal is wanted.
    Percent,
}

/// Parses a plain decimal from its literal text: optional sign, digits, optional fraction.
/// Underscores between digits (legal in TOML numbers) are removed. The scale is kept as
/// written, so `"1200.00"` stays `1200.00`.
pub fn parse_decimal_text(text: &str) -> Result<Decimal, NumberError> {
    let lower = text.trim_start_matches(['+', '-']);
    if lower.eq_ignore_ascii_case("nan") || lower.eq_ignore_ascii_case("inf") {
        return Err(NumberError::NotFinite);
    }
    if text.ends_with('%') {
        return Err(NumberError::Percent);
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let body = cleaned.strip_prefix(['+', '-']).unwrap_or(&cleaned);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(NumberError::Malformed);
    }
    let cleaned = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    Decimal::from_str_exact(cleaned).map_err(|_| NumberError::TooLarge)
}

/// Reads a decimal from a TOML value: a string, an integer or a float, always from its text.
/// Returns `None` when the value has another TOML type.
pub fn decimal_from_toml(value: &DeValue<'_>) -> Option<Result<Decimal, NumberError>> {
    match value {
        DeValue::String(s) => Some(parse_decimal_text(s.trim())),
        DeValue::Integer(i) if i.radix() == 10 => Some(parse_decimal_text(i.as_str())),
        DeValue::Integer(_) => Some(Err(NumberError::Malformed)),
        DeValue::Float(f) => Some(parse_decimal_text(f.as_str())),
        _ => None,
    }
}

/// A percentage, kept as the number before the `%` (so `"12.5%"` is `12.5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub Decimal);

impl Percent {
    /// Parses `"50%"`, `"12.5%"`.
    pub fn parse(text: &str) -> Result<Percent, NumberError> {
        let Some(number) = text.trim().strip_suffix('%') else {
            return Err(NumberError::Percent);
        };
        parse_decimal_text(number.trim_end()).map(Percent)
    }

    /// The fraction this percent stands for (`50%` is `0.5`).
    pub fn fraction(self) -> Decimal {
        self.0 / Decimal::ONE_HUNDRED
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// Why a value is not a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Right type, but not `YYYY-MM-DD` or not a real day (`2026-02-30`).
    NotADate(String),
    /// A TOML date-time or time where a plain date is wanted.
    NotPlainDate,
}

/// Reads a calendar date from a TOML local date or a `"YYYY-MM-DD"` string.
/// Returns `None` for other TOML types.
pub fn date_from_toml(value: &DeValue<'_>) -> Option<Result<NaiveDate, DateError>> {
    match value {
        DeValue::String(s) => Some(parse_date_text(s)),
        DeValue::Datetime(dt) => Some(match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| DateError::NotADate(dt.to_string()))
            }
            _ => Err(DateError::NotPlainDate),
        }),
        _ => None,
    }
}

/// Parses strictly `YYYY-MM-DD` (four-digit year, two-digit month and day, a real day).
pub fn parse_date_text(s: &str) -> Result<NaiveDate, DateError> {
    if !is_date_shape(s) {
        return Err(DateError::NotADate(s.to_owned()));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| DateError::NotADate(s.to_owned()))
}

/// Whether `s` looks like `YYYY-MM-DD` (digits and dashes in place), real day or not.
pub fn is_date_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Minor units (decimal places) of a currency code: the ISO 4217 exceptions to the common 2.
pub fn currency_minor_units(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Whether `code` looks like an ISO 4217 code: three uppercase ASCII letters.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The first character that must not appear in a ledger file, with its byte offset.
///
/// Control characters (other than tab, and line feed or a carriage return before one) and
/// bidirectional embedding/override/isolate characters are refused everywhere, comments
/// included: they can make a reviewer's terminal show text other than what is committed
/// ("Trojan Source").
pub fn forbidden_chars(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let bytes = text.as_bytes();
    // Most records are plain printable ASCII: one cheap pass over the bytes proves it. A fold
    // without early exit, so the compiler takes the bytes sixteen at a time.
    let plain = bytes.iter().fold(true, |ok, &b| {
        ok & ((0x20..0x7f).contains(&b) | (b == b'\n') | (b == b'\t'))
    });
    let text = if plain { "" } else { text };
    text.char_indices().filter(move |&(i, c)| match c {
        '\t' | '\n' => false,
        '\r' => bytes.get(i + 1) != Some(&b'\n'),
        c if c.is_control() => true,
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => true,
        _ => false,
    })
}

/// The kind of TOML value, in words, for "found a ..." messages.
pub fn toml_type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// `bytes` in lower-case hexadecimal, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    out
}

/// Appends `bytes` to `out` in lower-case hexadecimal, two digits a byte: as `{:02x}` each,
/// without formatting machinery (a cache entry's file name is a digest in hex, worked out
/// for every day folder a read lists).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// `sha256:` and the SHA-256 of `text` in hex: how a record's digest is written.
pub fn sha256_text(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    push_hex(&mut out, &Sha256::digest(text.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let formatted: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), formatted);
        assert_eq!(hex(&[]), "");
        assert_eq!(
            sha256_text("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn decimals_keep_their_text() {
        assert_eq!(
            parse_decimal_text("1200.00").unwrap().to_string(),
            "1200.00"
        );
        assert_eq!(parse_decimal_text("0.1").unwrap().to_string(), "0.1");
        assert_eq!(parse_decimal_text("1_000").unwrap().to_string(), "1000");
        assert_eq!(parse_decimal_text("-2").unwrap().to_string(), "-2");
        assert_eq!(parse_decimal_text("nan"), Err(NumberError::NotFinite));
        assert_eq!(parse_decimal_text("-inf"), Err(NumberError::NotFinite));
        assert_eq!(parse_decimal_text("1e3"), Err(NumberError::Malformed));
        assert_eq!(parse_decimal_text(".5"), Err(NumberError::Malformed));
        assert_eq!(parse_decimal_text("5."), Err(NumberError::Malformed));
        assert_eq!(parse_decimal_text("50%"), Err(NumberError::Percent));
        assert_eq!(
            parse_decimal_text("123456789012345678901234567890"),
            Err(NumberError::TooLarge)
        );
    }

    proptest::proptest! {
        /// The table says what the rule says, byte by byte, and the first bad character is
        /// the one reported.
        #[test]
        fn id_check_follows_the_rule(s in "[a-z0-9_A-Z.\\-\u{e9}\u{20ac}]{1,12}") {
            let allowed = |i: usize, c: char| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || (i > 0 && (c == '-' || c == '_'))
            };
            let first_bad = s.char_indices().find(|&(i, c)| !allowed(i, c)).map(|(_, c)| c);
            match (Id::check(&s), first_bad) {
                (Err(IdError::BadChar(c)), Some(bad)) => proptest::prop_assert_eq!(c, bad),
                (Ok(()) | Err(IdError::Reserved), None) => {}
                (got, want) => proptest::prop_assert!(false, "{s:?}: {got:?}, first bad {want:?}"),
            }
        }
    }

    #[test]
    fn ids() {
        assert!(Id::parse("ana").is_ok());
        assert!(Id::parse("01jdz8q3m4k2v7x9c5b6n8r0ta").is_ok());
        assert!(Id::parse("fablab-fund_2").is_ok());
        assert_eq!(Id::parse(""), Err(IdError::Empty));
        assert_eq!(Id::parse("Ana"), Err(IdError::BadChar('A')));
        assert_eq!(Id::parse("-a"), Err(IdError::BadChar('-')));
        assert_eq!(Id::parse("a.b"), Err(IdError::BadChar('.')));
        assert_eq!(Id::parse(&"a".repeat(65)), Err(IdError::TooLong));
        for reserved in ["con", "prn", "aux", "nul", "com1", "com0", "lpt9"] {
            assert_eq!(Id::parse(reserved), Err(IdError::Reserved), "{reserved}");
        }
        for fine in [
            "cons",
            "nul1",
            "com",
            "com10",
            "lpt-1",
            "console",
            "auxiliary",
        ] {
            assert!(Id::parse(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn dates_are_real() {
        assert!(parse_date_text("2024-02-29").is_ok());
        assert!(parse_date_text("2026-02-29").is_err());
        assert!(parse_date_text("2026-2-1").is_err());
        assert!(parse_date_text("2026-13-01").is_err());
    }

    #[test]
    fn forbidden() {
        let found: Vec<_> = forbidden_chars("a\tb\r\nc\u{202E}d\re\u{7}").collect();
        assert_eq!(found, vec![(6, '\u{202E}'), (10, '\r'), (12, '\u{7}')]);
    }

    #[test]
    fn percents() {
        assert_eq!(Percent::parse("12.5%").unwrap().0.to_string(), "12.5");
        assert_eq!(Percent::parse("50"), Err(NumberError::Percent));
    }
}
