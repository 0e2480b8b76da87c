//! A fast reader for contributions in the canonical form `ovn` itself writes
//! ([`super::write::contribution`]): one `key = value` line per field, in the canonical order,
//! plain double-quoted strings without escapes, a bare date, decimals as strings.
//!
//! Almost every record in a ledger is in this form, and reading it with a scanner costs a
//! fraction of a TOML parse (the parse is the largest part of a cold read). The scanner only
//! *accepts*: a record it cannot prove clean in this form, for any reason (a comment, another
//! key order, an escape, a value the rules would question), comes back `None` and is read by the
//! full reader, which reports every problem. When it accepts, the record is exactly what the full
//! reader returns (fields and spans), with no diagnostic; `tests/suite/domain/fast_reader.rs`
//! holds the two readers to that.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::diag::Span;
use super::parse::{DecimalRule, is_name_word};
use super::read::Source;
use super::record::{At, Contribution, Kind, Rare};
use super::value::{Id, forbidden_chars};

/// The optional fields, in canonical order, that the scanner knows. Anything else (a
/// `currency`, a correction) is left to the full reader.
const TAIL: [&str; 7] = [
    "hours", "skill", "amount", "quantity", "unit", "resource", "evidence",
];
const HOURS: usize = 0;
const SKILL: usize = 1;
const AMOUNT: usize = 2;
const QUANTITY: usize = 3;
const UNIT: usize = 4;
const RESOURCE: usize = 5;
const EVIDENCE: usize = 6;

/// A scanned value: its text (a string without its quotes, or a bare date) and the span of
/// the whole value token, as the TOML parser gives it.
#[derive(Clone, Copy)]
struct Value<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl Value<'_> {
    fn span(&self) -> Span {
        Span::from_range(self.start..self.end)
    }
}

/// Reads a canonical contribution, or `None` when the full reader must judge the text.
pub fn contribution(src: &Source<'_>, bytes: &[u8]) -> Option<Contribution> {
    contribution_sharing(src, bytes, &mut |text| Id::parse(text).ok())
}

/// [`contribution`], its agent and project ids made by `share` from their text: a copy
/// shared with other records (a parser's), or `None` when the text is not an id. The
/// same few hundred ids recur in a million records, so one found shared is never made.
///
/// About a hundred lines: one straight scan of the canonical layout, field by field;
/// splitting it would cost the speed it exists for.
pub fn contribution_sharing(
    src: &Source<'_>,
    bytes: &[u8],
    share: &mut dyn FnMut(&str) -> Option<Id>,
) -> Option<Contribution> {
    // A byte-order mark, bad UTF-8 or a forbidden character each get a diagnostic.
    let text = std::str::from_utf8(bytes).ok()?;
    if bytes.starts_with(b"\xEF\xBB\xBF") || forbidden_chars(text).next().is_some() {
        return None;
    }
    let mut s = Scanner { text, pos: 0 };
    let id = s.string_field("id")?;
    let agent = s.string_field("agent")?;
    let date = s.date_field("date")?;
    let project = s.string_field("project")?;
    let kind = s.string_field("kind")?;
    let description = s.string_field("description")?;
    // The string fields by slot; `evidence`, a list, is kept apart.
    let mut tail: [Option<Value<'_>>; EVIDENCE] = [None; EVIDENCE];
    let mut evidence = Vec::new();
    let mut next = 0;
    while s.pos < text.len() {
        let key = s.key()?;
        let slot = next + TAIL[next..].iter().position(|k| *k == key)?;
        next = slot + 1;
        if slot == EVIDENCE {
            evidence = s.string_list()?;
        } else {
            tail[slot] = Some(s.string()?);
        }
        s.end_of_line()?;
    }

    let kind_word = Kind::from_word(name_word(kind.text)?);
    // The fields each kind takes, as the full reader requires and refuses them.
    let (required, allowed): (&[usize], &[usize]) = match kind_word {
        Kind::Work => (&[HOURS], &[HOURS, SKILL]),
        Kind::Money => (&[AMOUNT], &[AMOUNT]),
        Kind::Material => (&[AMOUNT], &[AMOUNT, QUANTITY, UNIT]),
        Kind::Use => (&[HOURS, RESOURCE], &[HOURS, RESOURCE]),
        Kind::Other(_) => (&[], &[HOURS, AMOUNT, SKILL]),
    };
    let present = |slot: usize| tail[slot].is_some();
    if !required.iter().all(|&k| present(k))
        || (0..EVIDENCE).any(|k| present(k) && !allowed.contains(&k))
        || (matches!(kind_word, Kind::Other(_)) && !present(HOURS) && !present(AMOUNT))
    {
        return None;
    }

    let money = DecimalRule::money(src.settings.minor_units, "", true);
    let hours = match tail[HOURS] {
        Some(v) => Some(At {
            value: decimal(v.text, DecimalRule::HOURS)?,
            span: v.span(),
        }),
        None => None,
    };
    let amount = match tail[AMOUNT] {
        Some(v) => Some(decimal(v.text, money)?),
        None => None,
    };
    let quantity = match tail[QUANTITY] {
        Some(v) => Some(decimal(v.text, DecimalRule::QUANTITY)?),
        None => None,
    };
    let skill = match tail[SKILL] {
        Some(v) => Some(name_word(v.text)?.to_owned()),
        None => None,
    };
    let unit = match tail[UNIT] {
        Some(v) => Some(plain_text(v.text)?.to_owned()),
        None => None,
    };
    let resource = match tail[RESOURCE] {
        Some(v) => Some(id_at(v)?),
        None => None,
    };
    let evidence = evidence
        .into_iter()
        .map(|v| plain_text(v.text).map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    Some(Contribution {
        file: src.file,
        id: id_at(id)?,
        agent: At {
            value: share(agent.text)?,
            span: agent.span(),
        },
        date: At {
            value: date_value(date.text)?,
            span: date.span(),
        },
        project: At {
            value: share(project.text)?,
            span: project.span(),
        },
        kind: kind_word,
        description: plain_text(description.text)?.to_owned(),
        hours,
        skill,
        amount,
        foreign: None,
        resource,
        rare: Rare {
            quantity,
            unit,
            evidence,
            ..Rare::default()
        }
        .boxed(),
    })
}

/// A non-empty text value (the full reader refuses blank ones).
fn plain_text(text: &str) -> Option<&str> {
    (!text.trim().is_empty()).then_some(text)
}

fn name_word(text: &str) -> Option<&str> {
    is_name_word(text).then_some(text)
}

fn id_at(v: Value<'_>) -> Option<At<Id>> {
    Some(At {
        value: Id::parse(v.text).ok()?,
        span: v.span(),
    })
}

/// `YYYY-MM-DD`, a real day (the TOML date literal the writer uses).
fn date_value(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

/// Digits with an optional fraction, within the rule's places and sign. Signs, underscores
/// and padding are legal but not canonical, so they go to the full reader.
fn decimal(text: &str, rule: DecimalRule<'_>) -> Option<Decimal> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let d = Decimal::from_str_exact(text).ok()?;
    (d.scale() <= rule.scale && (!rule.positive || d > Decimal::ZERO) && d <= rule.max).then_some(d)
}

struct Scanner<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Scanner<'t> {
    fn rest(&self) -> &'t [u8] {
        &self.text.as_bytes()[self.pos..]
    }

    /// `key = ` at the start of a line; returns the key.
    fn key(&mut self) -> Option<&'t str> {
        let rest = self.rest();
        let len = rest.iter().position(|&b| !b.is_ascii_lowercase())?;
        if len == 0 || !rest[len..].starts_with(b" = ") {
            return None;
        }
        let key = &self.text[self.pos..self.pos + len];
        self.pos += len + 3;
        Some(key)
    }

    fn expect_key(&mut self, key: &str) -> Option<()> {
        (self.key()? == key).then_some(())
    }

    fn end_of_line(&mut self) -> Option<()> {
        (self.rest().first() == Some(&b'\n')).then(|| self.pos += 1)
    }

    /// A basic string without escapes.
    fn string(&mut self) -> Option<Value<'t>> {
        let rest = self.rest();
        if rest.first() != Some(&b'"') {
            return None;
        }
        // memchr compares 16 or 32 bytes at a time: descriptions and ids are most of a
        // record's bytes.
        let len = memchr::memchr3(b'"', b'\\', b'\n', &rest[1..])?;
        if rest[1 + len] != b'"' {
            return None;
        }
        let start = self.pos;
        self.pos += len + 2;
        Some(Value {
            text: &self.text[start + 1..start + 1 + len],
            start,
            end: self.pos,
        })
    }

    fn string_field(&mut self, key: &str) -> Option<Value<'t>> {
        self.expect_key(key)?;
        let v = self.string()?;
        self.end_of_line()?;
        Some(v)
    }

    fn date_field(&mut self, key: &str) -> Option<Value<'t>> {
        self.expect_key(key)?;
        let start = self.pos;
        let len = memchr::memchr(b'\n', self.rest())?;
        self.pos += len;
        self.end_of_line()?;
        Some(Value {
            text: &self.text[start..start + len],
            start,
            end: start + len,
        })
    }

    /// `["a", "b"]`: one or more strings, as the writer lays them out.
    fn string_list(&mut self) -> Option<Vec<Value<'t>>> {
        if self.rest().first() != Some(&b'[') {
            return None;
        }
        self.pos += 1;
        let mut items = vec![self.string()?];
        while self.rest().starts_with(b", ") {
            self.pos += 2;
            items.push(self.string()?);
        }
        if self.rest().first() != Some(&b']') {
            return None;
        }
        self.pos += 1;
        Some(items)
    }
}
