//! A compact binary form of records that were read without any problem, so a store can keep
//! them between runs (see the store's folder cache) instead of parsing the TOML again.
//!
//! The form is private to one build of `ovn`: [`VERSION`] changes whenever it does, and a
//! reader refuses anything it does not fully understand (`None`), so a damaged or foreign
//! entry can only cost a re-read, never change a record. Every field is kept, source spans
//! included, so a record from the cache is equal in every respect to one parsed afresh
//! (property-tested).
//!
//! Measured against postcard (serde, through a mirror struct of the same fields) on the
//! 100,000 contributions of the 100k benchmark ledger, release, median of 4 rounds: this
//! codec encodes in 74 ms and decodes in 81 ms to 12.7 MB; postcard 116 ms and 128 ms to
//! 12.5 MB (2% smaller, 55% slower both ways), outside the 10% allowed, so it stays.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::diag::Span;
use super::record::{Approval, At, Contribution, Foreign, Kind, Rare};
use super::value::Id;

/// The version of this encoding; bump it with any change to what is written.
pub const VERSION: u32 = 3;

/// Appends `c` to `out`.
pub fn put_contribution(out: &mut Vec<u8>, c: &Contribution) {
    put_at_id(out, &c.id);
    put_at_id(out, &c.agent);
    put_at_date(out, &c.date);
    put_at_id(out, &c.project);
    put_str(out, c.kind.as_str());
    put_str(out, &c.description);
    put_opt(out, c.hours.as_ref(), |o, h| {
        put_decimal(o, h.value);
        put_span(o, h.span);
    });
    put_opt(out, c.skill.as_deref(), put_str);
    put_opt(out, c.amount, put_decimal);
    put_opt(out, c.currency(), put_str);
    put_opt(out, c.rate(), put_decimal);
    put_opt(out, c.quantity(), put_decimal);
    put_opt(out, c.unit(), put_str);
    put_opt(out, c.resource.as_ref(), put_at_id);
    put_len(out, c.evidence().len());
    for e in c.evidence() {
        put_str(out, e);
    }
    put_opt(out, c.reverses(), put_at_id);
    put_opt(out, c.supersedes(), put_at_id);
}

/// Reads a contribution written by [`put_contribution`] (its `file` is left at 0 for the
/// caller to set), or `None` if the bytes are not one.
pub fn get_contribution(input: &mut &[u8]) -> Option<Contribution> {
    let id = get_at_id(input)?;
    let agent = get_at_id(input)?;
    let date = get_at_date(input)?;
    let project = get_at_id(input)?;
    let kind = Kind::from_word(get_str(input)?);
    let description = get_str(input)?.to_owned();
    let hours = get_opt(input, |i| {
        let value = get_decimal(i)?;
        Some(At {
            value,
            span: get_span(i)?,
        })
    })?;
    let skill = get_opt(input, |i| get_str(i).map(str::to_owned))?;
    let amount = get_opt(input, get_decimal)?;
    let currency = get_opt(input, |i| get_str(i).map(str::to_owned))?;
    let rate = get_opt(input, get_decimal)?;
    let quantity = get_opt(input, get_decimal)?;
    let unit = get_opt(input, |i| get_str(i).map(str::to_owned))?;
    let resource = get_opt(input, get_at_id)?;
    let n = get_len(input)?;
    let mut evidence = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        evidence.push(get_str(input)?.to_owned());
    }
    let reverses = get_opt(input, get_at_id)?;
    let supersedes = get_opt(input, get_at_id)?;
    Some(Contribution {
        file: 0,
        id,
        agent,
        date,
        project,
        kind,
        description,
        hours,
        skill,
        amount,
        foreign: Foreign::of(currency, rate),
        resource,
        rare: Rare {
            quantity,
            unit,
            evidence,
            reverses,
            supersedes,
        }
        .boxed(),
    })
}

/// Appends `a` to `out`.
pub fn put_approval(out: &mut Vec<u8>, a: &Approval) {
    put_at_id(out, &a.id);
    put_at_id(out, &a.record);
    put_str(out, &a.digest);
    put_at_date(out, &a.date);
    put_opt(out, a.comment.as_deref(), put_str);
    put_opt(out, a.by.as_ref(), put_at_id);
    put_opt(out, a.signature.as_deref(), put_str);
}

/// Reads an approval written by [`put_approval`] (`file` left at 0), or `None`.
pub fn get_approval(input: &mut &[u8]) -> Option<Approval> {
    Some(Approval {
        file: 0,
        id: get_at_id(input)?,
        record: get_at_id(input)?,
        digest: get_str(input)?.to_owned(),
        date: get_at_date(input)?,
        comment: get_opt(input, |i| get_str(i).map(str::to_owned))?,
        by: get_opt(input, get_at_id)?,
        signature: get_opt(input, |i| get_str(i).map(str::to_owned))?,
    })
}

/// Appends an unsigned LEB128 number.
pub fn put_u64(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads an unsigned LEB128 number.
pub fn get_u64(input: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
    }
    None
}

/// Appends a length-prefixed string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// Reads a length-prefixed string.
pub fn get_str<'a>(input: &mut &'a [u8]) -> Option<&'a str> {
    std::str::from_utf8(get_bytes(input)?).ok()
}

/// Appends length-prefixed bytes (as [`put_str`] does a string's).
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

/// Reads length-prefixed bytes, unchecked: for a reader that checks them once where many
/// rows repeat them (a string is [`get_str`]'s).
pub fn get_bytes<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = get_len(input)?;
    if input.len() < n {
        return None;
    }
    let (b, rest) = input.split_at(n);
    *input = rest;
    Some(b)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_u64(out, n as u64);
}

fn get_len(input: &mut &[u8]) -> Option<usize> {
    usize::try_from(get_u64(input)?).ok()
}

fn put_span(out: &mut Vec<u8>, span: Span) {
    put_u64(out, u64::from(span.start));
    put_u64(out, u64::from(span.end));
}

fn get_span(input: &mut &[u8]) -> Option<Span> {
    let start = u32::try_from(get_u64(input)?).ok()?;
    let end = u32::try_from(get_u64(input)?).ok()?;
    Some(Span { start, end })
}

fn put_at_id(out: &mut Vec<u8>, id: &At<Id>) {
    put_str(out, id.value.as_str());
    put_span(out, id.span);
}

fn get_at_id(input: &mut &[u8]) -> Option<At<Id>> {
    // Validated again: a damaged entry must not smuggle in an id the parser would refuse.
    let value = Id::parse(get_str(input)?).ok()?;
    Some(At {
        value,
        span: get_span(input)?,
    })
}

fn put_at_date(out: &mut Vec<u8>, date: &At<NaiveDate>) {
    // Days from 0001-01-01, shifted to stay non-negative for any date chrono can hold.
    let days = i64::from(chrono::Datelike::num_days_from_ce(&date.value)) + (1 << 31);
    put_u64(out, days as u64);
    put_span(out, date.span);
}

fn get_at_date(input: &mut &[u8]) -> Option<At<NaiveDate>> {
    let days = i64::try_from(get_u64(input)?).ok()? - (1 << 31);
    let value = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)?;
    Some(At {
        value,
        span: get_span(input)?,
    })
}

/// Writes a decimal exactly (its 16 bytes: mantissa, scale and sign).
pub fn put_decimal(out: &mut Vec<u8>, d: Decimal) {
    out.extend_from_slice(&d.serialize());
}

/// Reads a decimal written by [`put_decimal`].
pub fn get_decimal(input: &mut &[u8]) -> Option<Decimal> {
    if input.len() < 16 {
        return None;
    }
    let (bytes, rest) = input.split_at(16);
    *input = rest;
    let mut raw = [0u8; 16];
    raw.copy_from_slice(bytes);
    // `deserialize` accepts any flags word; refuse scales a parser could never produce, and
    // values no valid record holds (every bound is at most `MAX_AMOUNT`), so a damaged or
    // crafted entry cannot carry a number past the bounds into the arithmetic.
    let d = Decimal::deserialize(raw);
    (d.scale() <= 28 && d.serialize() == raw && d.abs() <= super::bounds::MAX_AMOUNT).then_some(d)
}

fn put_opt<T>(out: &mut Vec<u8>, value: Option<T>, put: impl FnOnce(&mut Vec<u8>, T)) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put(out, v);
        }
    }
}

fn get_opt<T>(input: &mut &[u8], get: impl FnOnce(&mut &[u8]) -> Option<T>) -> Option<Option<T>> {
    let (&tag, rest) = input.split_first()?;
    *input = rest;
    match tag {
        0 => Some(None),
        1 => get(input).map(Some),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_u64(&mut out, n);
            let mut input = out.as_slice();
            assert_eq!(get_u64(&mut input), Some(n));
            assert!(input.is_empty());
        }
    }

    #[test]
    fn signed_approvals_round_trip() {
        let a = Approval {
            file: 0,
            id: At::new(Id::parse("01zz1").unwrap()),
            record: At::new(Id::parse("01zz2").unwrap()),
            digest: format!("sha256:{}", "0".repeat(64)),
            date: At::new(NaiveDate::from_ymd_opt(2026, 3, 12).unwrap()),
            comment: None,
            by: Some(At::new(Id::parse("cy").unwrap())),
            signature: Some("U1NIU0lHAAAA".to_owned()),
        };
        let mut out = Vec::new();
        put_approval(&mut out, &a);
        let mut input = out.as_slice();
        assert_eq!(get_approval(&mut input), Some(a));
        assert!(input.is_empty());
    }

    #[test]
    fn truncated_input_is_refused_not_misread() {
        let mut out = Vec::new();
        put_str(&mut out, "hello");
        for cut in 0..out.len() {
            let mut input = &out[..cut];
            assert_eq!(get_str(&mut input), None, "cut at {cut}");
        }
    }
}
