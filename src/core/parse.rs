//! Reading record files into records, collecting every problem on the way.
//!
//! Each file is judged on its own here (syntax, fields, types, values); what needs the whole
//! ledger (references, duplicates, daily totals) lives in [`super::checks`]. The parser never
//! stops at the first problem in a file: it reads every field it can, so one run reports all
//! of them. TOML is parsed with `toml`'s spanned document tree, which keeps numbers as their
//! literal text; decimals are built from that text, never from a float.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_spanned::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::bounds;
use super::diag::{Code, Diagnostic, Span};
use super::record::At;
use super::value::{
    DateError, Id, NumberError, Percent, date_from_toml, decimal_from_toml, forbidden_chars,
    toml_type_name,
};

/// Decimal places allowed for hours (0.0001 h is a third of a second).
pub const HOURS_SCALE: u32 = 4;
/// Decimal places allowed for rates, multipliers, caps, quantities and use rates.
pub const RATE_SCALE: u32 = 6;
/// Decimal places allowed in a percent.
pub const PERCENT_SCALE: u32 = 4;

/// What the parser needs to know about the network to judge a record (the currency's minor
/// units bound the precision of amounts).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The network currency.
    pub currency: String,
    /// Its decimal places.
    pub minor_units: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            currency: "EUR".to_owned(),
            minor_units: 2,
        }
    }
}

/// The largest ledger file read, in bytes, but for payout records ([`MAX_PAYOUT_BYTES`]). A
/// record is a few hundred bytes and an agent with keys a few thousand; the bound keeps a
/// hostile file (a 50 MB record, `/dev/zero`) from costing memory, and is checked before a
/// file is read whole.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// The largest payout record read, in bytes. A payout record lists every debt and once claim
/// it settled, about 110 bytes each: a reimbursement bucket of a project with thousands of
/// outstanding expenses settles thousands at once (7,471 and 816 KB at a million
/// contributions). 8 MiB is some 75,000 settled claims, and still bounds what a hostile file
/// costs.
pub const MAX_PAYOUT_BYTES: usize = 8 * 1024 * 1024;

/// The largest the ledger file at `path` (ledger-relative) may be: [`MAX_PAYOUT_BYTES`] in
/// `payouts/`, else [`MAX_FILE_BYTES`].
pub fn max_bytes(path: &str) -> usize {
    if path.starts_with("payouts/") {
        MAX_PAYOUT_BYTES
    } else {
        MAX_FILE_BYTES
    }
}

/// `bytes` as people read a bound: `64 KiB`, `8 MiB`.
pub fn describe_bytes(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// The diagnostic for a file of `size` bytes, over its [`max_bytes`] (a size of that bound
/// + 1 means "at least that": the reader stopped there).
pub fn too_large(path: &str, size: u64) -> Diagnostic {
    let most = max_bytes(path);
    let size = if size > most as u64 + 1 {
        format!("{size} bytes")
    } else {
        "more than that".to_owned()
    };
    let what = if most == MAX_PAYOUT_BYTES {
        "a payout record"
    } else {
        "a ledger file"
    };
    Diagnostic::new(
        Code::TooLarge,
        path,
        None,
        format!(
            "file is larger than the {} {what} may hold ({size}); it was not read",
            describe_bytes(most)
        ),
    )
    .with_hint("a record holds one thing: split it, or move the data out of the ledger")
}

/// The diagnostic for a path that is not a regular file (`what`: "a symbolic link", ...).
pub fn not_a_file(path: &str, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NotAFile,
        path,
        None,
        format!("{what} is not a ledger file; it was not followed or read"),
    )
    .with_hint("replace it with a regular file, or remove it")
}

/// Decodes a file's bytes to text, reporting encoding and character problems.
/// Returns `None` when the file cannot be read as text at all.
pub fn decode<'a>(path: &str, bytes: &'a [u8], diags: &mut Vec<Diagnostic>) -> Option<&'a str> {
    if bytes.len() > max_bytes(path) {
        diags.push(too_large(path, bytes.len() as u64));
        return None;
    }
    let bytes_with_bom = bytes;
    let mut bytes = bytes;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        diags.push(
            Diagnostic::new(
                Code::Bom,
                path,
                None,
                "file starts with a UTF-8 byte-order mark",
            )
            .with_hint("save the file as UTF-8 without BOM"),
        );
        bytes = rest;
    }
    let base = text_offset(bytes_with_bom);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to() + base;
            diags.push(
                Diagnostic::new(
                    Code::InvalidUtf8,
                    path,
                    Some(Span::from_range(at..at + 1)),
                    format!(
                        "file is not valid UTF-8 (bad byte 0x{:02X} at offset {at})",
                        bytes_with_bom[at]
                    ),
                )
                .with_hint("ledger files must be UTF-8; re-save the file with UTF-8 encoding"),
            );
            return None;
        }
    };
    for (offset, c) in forbidden_chars(text) {
        let offset = offset + base;
        let len = c.len_utf8();
        diags.push(
            Diagnostic::new(
                Code::ForbiddenChar,
                path,
                Some(Span::from_range(offset..offset + len)),
                format!("forbidden character {}", char_name(c)),
            )
            .with_hint(FORBIDDEN_HINT),
        );
    }
    Some(text)
}

const FORBIDDEN_HINT: &str = "control and bidirectional-override characters can make a terminal show text other than what is stored; remove it";

/// Names a forbidden character the way a reader can look it up.
/// Why a free-text value (a name, a description, a memo, a comment) is refused. One rule
/// for the reader and for every command flag that fills such a field, so that nothing a
/// command writes is rejected when read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    /// Empty, or only white space.
    #[error("is empty")]
    Empty,
    /// A control or bidirectional-override character (see [`forbidden_chars`]).
    #[error("holds the forbidden character {}", char_name(*.0))]
    Forbidden(char),
}

/// The problem with a free-text value, if any: what the reader refuses in a text field.
pub fn text_problem(text: &str) -> Option<TextProblem> {
    if text.trim().is_empty() {
        return Some(TextProblem::Empty);
    }
    forbidden_chars(text)
        .next()
        .map(|(_, c)| TextProblem::Forbidden(c))
}

fn char_name(c: char) -> String {
    let name = match c {
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\r' => "CARRIAGE RETURN (not before a line feed)",
        '\u{7F}' => "DELETE",
        '\u{1B}' => "ESCAPE",
        c if (c as u32) < 0x20 => "control character",
        _ => "control character",
    };
    format!("U+{:04X} ({name})", u32::from(c))
}

/// The byte offset of the text inside the original bytes (a stripped BOM shifts spans).
pub fn text_offset(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

/// Parses TOML text into a spanned document, reporting a syntax error.
pub fn parse_toml<'i>(
    path: &str,
    text: &'i str,
    base: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<DeTable<'i>>> {
    match DeTable::parse(text) {
        Ok(table) => Some(table),
        Err(e) => {
            let range = e.span().unwrap_or(0..0);
            let span = Span::from_range(range.start + base..range.end + base);
            // A forbidden character is already reported at this spot; one report is enough.
            let already = diags.iter().any(|d| {
                d.code == Code::ForbiddenChar
                    && d.span.is_some_and(|s| {
                        s.start >= span.start && s.start <= span.end.max(span.start)
                    })
            });
            if already {
                return None;
            }
            // An impossible bare date (`2026-02-30`) is a TOML error, but it is a date mistake.
            let token = text.get(range.clone()).unwrap_or_default().trim();
            if token.len() == 10
                && super::value::parse_date_text(token).is_err()
                && super::value::is_date_shape(token)
            {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidDate,
                        path,
                        Some(span),
                        format!("{token} is not a real calendar date"),
                    )
                    .with_hint("that day does not exist in the calendar"),
                );
                return None;
            }
            let message = e.message().trim().trim_end_matches('.').to_owned();
            diags.push(
                Diagnostic::new(
                    Code::Syntax,
                    path,
                    Some(span),
                    format!("invalid TOML: {message}"),
                )
                .with_hint("see ovn-ledger(5) for the record format"),
            );
            None
        }
    }
}

type Entry<'i> = (Spanned<DeString<'i>>, Spanned<DeValue<'i>>);

/// A table being read field by field. Fields are taken out as they are read; whatever is left
/// at [`Fields::finish`] is unknown. Every problem becomes a diagnostic and the getter returns
/// `None`, so reading goes on.
pub struct Fields<'i, 'd> {
    path: &'d str,
    base: usize,
    context: String,
    span: Option<Span>,
    entries: Vec<Option<Entry<'i>>>,
    asked: Vec<&'static str>,
    missing: Vec<(&'static str, &'static str)>,
    diags: &'d mut Vec<Diagnostic>,
    /// Set when any field of this table had a problem.
    pub failed: bool,
}

impl<'i, 'd> Fields<'i, 'd> {
    /// Reads `table`, described as `context` ("agent", "buckets\[2\]") in messages.
    pub fn new(
        path: &'d str,
        base: usize,
        context: impl Into<String>,
        table: Spanned<DeTable<'i>>,
        top_level: bool,
        diags: &'d mut Vec<Diagnostic>,
    ) -> Self {
        let range = table.span();
        let span = (!top_level).then(|| Span::from_range(range.start + base..range.end + base));
        Fields {
            path,
            base,
            context: context.into(),
            span,
            entries: table.into_inner().into_iter().map(Some).collect(),
            asked: Vec::new(),
            missing: Vec::new(),
            diags,
            failed: false,
        }
    }

    fn span_of(&self, range: std::ops::Range<usize>) -> Span {
        Span::from_range(range.start + self.base..range.end + self.base)
    }

    /// Records a problem with this table.
    pub fn report(
        &mut self,
        code: Code,
        span: Option<Span>,
        message: String,
        hint: Option<String>,
    ) {
        self.failed = true;
        let mut d = Diagnostic::new(code, self.path, span.or(self.span), message);
        d.hint = hint;
        self.diags.push(d);
    }

    fn take(&mut self, key: &'static str) -> Option<(Span, DeValue<'i>)> {
        self.asked.push(key);
        let slot = self
            .entries
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|(k, _)| k.get_ref().as_ref() == key))?;
        let (_, value) = slot.take()?;
        let span = self.span_of(value.span());
        Some((span, value.into_inner()))
    }

    /// Notes a missing required field; reported by [`Fields::finish`], unless an unknown
    /// field there is a likely misspelling of it (then one diagnostic says both).
    fn missing(&mut self, key: &'static str, example: &'static str) {
        self.failed = true;
        self.missing.push((key, example));
    }

    /// Whether `key` is present (and not yet taken).
    pub fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .flatten()
            .any(|(k, _)| k.get_ref().as_ref() == key)
    }

    /// The span of `key`'s value, if present and not yet taken.
    pub fn peek_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .flatten()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| self.span_of(v.span()))
    }

    fn wrong_type(&mut self, key: &str, span: Span, want: &str, found: &DeValue<'_>) {
        let hint = match found {
            DeValue::String(s) if want.starts_with("an array") => {
                Some(format!("write a list, even of one: {key} = [{s:?}]"))
            }
            DeValue::Integer(i) if want.starts_with("a string") => {
                Some(format!("quote it: {key} = \"{}\"", i.as_str()))
            }
            _ => None,
        };
        let found = toml_type_name(found);
        self.report(
            Code::WrongType,
            Some(span),
            format!("`{key}` must be {want}, found {found}"),
            hint,
        );
    }

    /// Looks at a string field without taking it.
    pub fn peek_text(&self, key: &str) -> Option<At<String>> {
        self.entries
            .iter()
            .flatten()
            .find_map(|(k, v)| match v.get_ref() {
                DeValue::String(s) if k.get_ref().as_ref() == key => Some(At {
                    value: s.to_string(),
                    span: self.span_of(v.span()),
                }),
                _ => None,
            })
    }

    /// Takes `key` and converts it; reports a missing required field.
    fn get<T>(
        &mut self,
        key: &'static str,
        need: Need,
        convert: impl FnOnce(&mut Self, Span, DeValue<'i>) -> Option<T>,
    ) -> Option<T> {
        match self.take(key) {
            Some((span, value)) => convert(self, span, value),
            None => {
                if let Need::Required(example) = need {
                    self.missing(key, example);
                }
                None
            }
        }
    }

    /// A non-empty string.
    pub fn text(&mut self, key: &'static str, need: Need) -> Option<At<String>> {
        self.get(key, need, |f, span, value| f.conv_text(key, span, value))
    }

    fn conv_text(&mut self, key: &str, span: Span, value: DeValue<'_>) -> Option<At<String>> {
        match value {
            DeValue::String(s) => match text_problem(&s) {
                Some(TextProblem::Empty) => {
                    self.report(
                        Code::InvalidValue,
                        Some(span),
                        format!("`{key}` cannot be empty"),
                        None,
                    );
                    None
                }
                Some(TextProblem::Forbidden(c)) => {
                    // Escapes (`"\u202E"`) get past the scan of the raw file; judge the value
                    // too, unless the raw character was already reported inside this string.
                    let reported = self.diags.iter().any(|d| {
                        d.code == Code::ForbiddenChar
                            && d.path == self.path
                            && d.span
                                .is_some_and(|x| x.start >= span.start && x.end <= span.end)
                    });
                    if !reported {
                        self.report(
                            Code::ForbiddenChar,
                            Some(span),
                            format!("`{key}` holds the forbidden character {}", char_name(c)),
                            Some(FORBIDDEN_HINT.to_owned()),
                        );
                    }
                    None
                }
                None => {
                    // A name with an invisible character looks like another record's name.
                    // (Joiners, U+200C and U+200D, are allowed: Persian and Indic names need them.)
                    if key == "name"
                        && let Some(c) = s
                            .chars()
                            .find(|c| matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}'))
                    {
                        self.report(
                            Code::ForbiddenChar,
                            Some(span),
                            format!(
                                "`name` holds the invisible character U+{:04X}, which would make it look like another name",
                                c as u32
                            ),
                            Some("delete the invisible character".to_owned()),
                        );
                        return None;
                    }
                    Some(At {
                        value: s.into_owned(),
                        span,
                    })
                }
            },
            other => {
                self.wrong_type(key, span, "a string", &other);
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn word(&mut self, key: &'static str, need: Need, allowed: &[&str]) -> Option<At<String>> {
        let at = self.text(key, need)?;
        if allowed.contains(&at.value.as_str()) {
            return Some(at);
        }
        let list = allowed
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = suggest(&at.value, allowed.iter().copied()).map_or_else(
            || format!("use one of {list}"),
            |s| format!("did you mean `{s}`? (one of {list})"),
        );
        self.report(
            Code::InvalidValue,
            Some(at.span),
            format!("`{key}` cannot be {:?}", at.value),
            Some(hint),
        );
        None
    }

    /// A lowercase word like a contribution kind or skill: `[a-z][a-z0-9-]*`.
    pub fn name_word(&mut self, key: &'static str, need: Need) -> Option<At<String>> {
        let at = self.text(key, need)?;
        if is_name_word(&at.value) {
            return Some(at);
        }
        let lower = at.value.to_lowercase().replace([' ', '_'], "-");
        let hint = is_name_word(&lower).then(|| format!("did you mean `{lower}`?"));
        self.report(
            Code::InvalidValue,
            Some(at.span),
            format!(
                "`{key}` must be a lowercase word (letters, digits and `-`), found {:?}",
                at.value
            ),
            hint,
        );
        None
    }

    /// A record id (its own or a reference).
    pub fn id(&mut self, key: &'static str, need: Need) -> Option<At<Id>> {
        self.get(key, need, |f, span, value| f.conv_id(key, span, value))
    }

    fn conv_id(&mut self, key: &str, span: Span, value: DeValue<'_>) -> Option<At<Id>> {
        let at = self.conv_text(key, span, value)?;
        match Id::parse(&at.value) {
            Ok(id) => Some(At { value: id, span }),
            Err(e) => {
                let lower = at.value.to_lowercase();
                let hint = Id::parse(&lower)
                    .ok()
                    .map(|id| format!("ids are lowercase: did you mean `{id}`?"));
                self.report(
                    Code::InvalidId,
                    Some(span),
                    format!("`{key}` is not a valid id: {e}"),
                    hint,
                );
                None
            }
        }
    }

    /// An array of strings (each non-empty).
    pub fn text_list(&mut self, key: &'static str) -> Vec<At<String>> {
        self.list(key, "an array of strings", Self::conv_text)
    }

    /// An array of ids.
    pub fn id_list(&mut self, key: &'static str) -> Vec<At<Id>> {
        self.list(key, "an array of ids", Self::conv_id)
    }

    /// An array (`want` in words, for the report when it is not one) whose items are each
    /// read by `conv`; an item that does not read is reported by `conv` and left out.
    fn list<T>(
        &mut self,
        key: &'static str,
        want: &'static str,
        conv: fn(&mut Self, &str, Span, DeValue<'_>) -> Option<At<T>>,
    ) -> Vec<At<T>> {
        self.get(key, Need::Optional, |f, span, value| match value {
            DeValue::Array(items) => Some(
                items
                    .into_iter()
                    .filter_map(|item| {
                        let span = f.span_of(item.span());
                        conv(f, key, span, item.into_inner())
                    })
                    .collect(),
            ),
            other => {
                f.wrong_type(key, span, want, &other);
                None
            }
        })
        .unwrap_or_default()
    }

    /// An exact decimal with at most `scale` places, positive unless `allow_zero_or_less`.
    pub fn decimal(
        &mut self,
        key: &'static str,
        need: Need,
        rule: DecimalRule<'_>,
    ) -> Option<At<Decimal>> {
        self.get(key, need, |f, span, value| {
            f.conv_decimal(key, span, value, rule)
        })
    }

    /// Reads a decimal value already taken from the table (a rate-table entry).
    pub fn conv_decimal(
        &mut self,
        key: &str,
        span: Span,
        value: DeValue<'_>,
        rule: DecimalRule<'_>,
    ) -> Option<At<Decimal>> {
        let parsed = match decimal_from_toml(&value) {
            Some(parsed) => parsed,
            None => {
                self.wrong_type(
                    key,
                    span,
                    "a decimal (a string like \"2.5\" or a number)",
                    &value,
                );
                return None;
            }
        };
        let d = match parsed {
            Ok(d) => d,
            Err(e) => {
                let (message, hint) = number_error(key, &e);
                self.report(Code::InvalidNumber, Some(span), message, Some(hint));
                return None;
            }
        };
        if d.scale() > rule.scale {
            let places = match rule.scale {
                0 => "no decimal places".to_owned(),
                1 => "at most 1 decimal place".to_owned(),
                n => format!("at most {n} decimal places"),
            };
            self.report(
                Code::TooPrecise,
                Some(span),
                format!(
                    "`{key}` = {d} has {} decimal places, but {} {places}",
                    d.scale(),
                    rule.what
                ),
                Some(format!("round it to {}", d.round_dp(rule.scale))),
            );
            return None;
        }
        if rule.positive && d <= Decimal::ZERO {
            self.report(
                Code::NotPositive,
                Some(span),
                format!("`{key}` must be greater than zero, found {d}"),
                rule.record_hint.then(|| "to correct an earlier record, write a new one with `reverses` or `supersedes` instead of a negative value".to_owned()),
            );
            return None;
        }
        if d > rule.max {
            self.report(
                Code::OutOfRange,
                Some(span),
                format!(
                    "`{key}` = {d} is more than {}, the largest value ovn accepts for it",
                    rule.max
                ),
                Some(out_of_range_hint(rule.max)),
            );
            return None;
        }
        Some(At { value: d, span })
    }

    /// A percent string (`"12.5%"`), greater than 0 and at most 100.
    pub fn percent(&mut self, key: &'static str, need: Need) -> Option<At<Percent>> {
        self.get(key, need, |f, span, value| f.conv_percent(key, span, value))
    }

    fn conv_percent(&mut self, key: &str, span: Span, value: DeValue<'_>) -> Option<At<Percent>> {
        let DeValue::String(s) = &value else {
            self.wrong_type(key, span, "a percent string like \"50%\"", &value);
            return None;
        };
        let p = match Percent::parse(s) {
            Ok(p) => p,
            Err(e) => {
                let (message, hint) = number_error(key, &e);
                self.report(Code::InvalidNumber, Some(span), message, Some(hint));
                return None;
            }
        };
        if p.0.scale() > PERCENT_SCALE {
            self.report(
                Code::TooPrecise,
                Some(span),
                format!("`{key}` = {p} has more than {PERCENT_SCALE} decimal places"),
                None,
            );
            return None;
        }
        if p.0 <= Decimal::ZERO {
            self.report(
                Code::NotPositive,
                Some(span),
                format!("`{key}` must be more than 0%, found {p}"),
                None,
            );
            return None;
        }
        if p.0 > Decimal::ONE_HUNDRED {
            self.report(
                Code::InvalidValue,
                Some(span),
                format!("`{key}` cannot be more than 100%, found {p}"),
                None,
            );
            return None;
        }
        Some(At { value: p, span })
    }

    /// A calendar date.
    pub fn date(&mut self, key: &'static str, need: Need) -> Option<At<NaiveDate>> {
        self.get(key, need, |f, span, value| match date_from_toml(&value) {
            None => {
                f.wrong_type(key, span, "a date like 2026-11-20", &value);
                None
            }
            Some(Ok(date)) => Some(At { value: date, span }),
            Some(Err(DateError::NotADate(text))) => {
                let shaped = super::value::is_date_shape(&text);
                f.report(
                    Code::InvalidDate,
                    Some(span),
                    format!("`{key}` = {text:?} is not a real calendar date"),
                    Some(if shaped {
                        "that day does not exist in the calendar".to_owned()
                    } else {
                        "write dates as YYYY-MM-DD, e.g. 2026-11-20".to_owned()
                    }),
                );
                None
            }
            Some(Err(DateError::NotPlainDate)) => {
                f.report(
                    Code::InvalidDate,
                    Some(span),
                    format!("`{key}` must be a plain date without a time or offset"),
                    Some("write dates as YYYY-MM-DD, e.g. 2026-11-20".to_owned()),
                );
                None
            }
        })
    }

    /// A non-negative integer.
    pub fn integer(&mut self, key: &'static str, need: Need) -> Option<At<u32>> {
        self.get(key, need, |f, span, value| match &value {
            DeValue::Integer(i) if i.radix() == 10 => {
                match i.as_str().replace('_', "").parse::<u32>() {
                    Ok(n) => Some(At { value: n, span }),
                    Err(_) => {
                        f.report(
                            Code::InvalidNumber,
                            Some(span),
                            format!(
                                "`{key}` must be a small non-negative integer, found {}",
                                i.as_str()
                            ),
                            None,
                        );
                        None
                    }
                }
            }
            _ => {
                f.wrong_type(key, span, "an integer", &value);
                None
            }
        })
    }

    /// A boolean (`true` or `false`).
    pub fn boolean(&mut self, key: &'static str, need: Need) -> Option<At<bool>> {
        self.get(key, need, |f, span, value| match &value {
            DeValue::Boolean(b) => Some(At { value: *b, span }),
            _ => {
                f.wrong_type(key, span, "true or false", &value);
                None
            }
        })
    }

    /// A sub-table (inline or `[key]`).
    pub fn table(&mut self, key: &'static str) -> Option<Spanned<DeTable<'i>>> {
        self.get(key, Need::Optional, |f, span, value| match value {
            DeValue::Table(t) => Some(Spanned::new(
                (span.start as usize - f.base)..(span.end as usize - f.base),
                t,
            )),
            other => {
                f.wrong_type(key, span, "a table", &other);
                None
            }
        })
    }

    /// An array of tables (`[[key]]` or an array of inline tables).
    pub fn tables(&mut self, key: &'static str) -> Vec<Spanned<DeTable<'i>>> {
        self.get(key, Need::Optional, |f, span, value| match value {
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    let range = item.span();
                    match item.into_inner() {
                        DeValue::Table(t) => out.push(Spanned::new(range, t)),
                        other => {
                            let span = f.span_of(range);
                            f.wrong_type(key, span, "an array of tables", &other);
                        }
                    }
                }
                Some(out)
            }
            other => {
                f.wrong_type(key, span, "an array of tables", &other);
                None
            }
        })
        .unwrap_or_default()
    }

    /// Reads a nested table with the same path and diagnostics.
    pub fn nested<'s>(
        &'s mut self,
        context: String,
        table: Spanned<DeTable<'i>>,
    ) -> Fields<'i, 's> {
        Fields::new(self.path, self.base, context, table, false, self.diags)
    }

    /// The remaining (unknown) entries of a table, as (key, value span) pairs.
    pub fn rest(&mut self) -> Vec<(At<String>, Span, DeValue<'i>)> {
        let base = self.base;
        let at = |r: std::ops::Range<usize>| Span::from_range(r.start + base..r.end + base);
        self.entries
            .iter_mut()
            .filter_map(Option::take)
            .map(|(k, v)| {
                let key_span = at(k.span());
                let value_span = at(v.span());
                let key = At {
                    value: k.into_inner().into_owned(),
                    span: key_span,
                };
                (key, value_span, v.into_inner())
            })
            .collect()
    }

    /// Reports every field that was not read as unknown, with a suggestion.
    pub fn finish(mut self) -> bool {
        let leftovers: Vec<_> = self.entries.iter_mut().filter_map(Option::take).collect();
        let mut missing = std::mem::take(&mut self.missing);
        let mut known: Vec<&str> = self.asked.clone();
        known.sort_unstable();
        known.dedup();
        for (key, _) in leftovers {
            let name = key.get_ref().to_string();
            let span = self.span_of(key.span());
            let context = self.context.clone();
            // A misspelt required field: one diagnostic, not "missing" plus "unknown".
            if let Some(pos) = missing
                .iter()
                .position(|(m, _)| suggest(&name, [*m]).is_some())
            {
                let (wanted, _) = missing.remove(pos);
                self.report(
                    Code::UnknownField,
                    Some(span),
                    format!("unknown field `{name}` in {context}, and `{wanted}` is missing"),
                    Some(format!("did you mean `{wanted}`?")),
                );
                continue;
            }
            let hint = match suggest(&name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known fields: {}", known.join(", ")),
            };
            self.report(
                Code::UnknownField,
                Some(span),
                format!("unknown field `{name}` in {context}"),
                Some(hint),
            );
        }
        for (key, example) in missing {
            let context = self.context.clone();
            self.report(
                Code::MissingField,
                None,
                format!("missing field `{key}` in {context}"),
                Some(format!("add `{key} = {example}`")),
            );
        }
        !self.failed
    }

    /// Reports `key` as not applicable here (a field of another contribution kind).
    pub fn refuse(&mut self, key: &'static str, why: &str) {
        if let Some((span, _)) = self.take(key) {
            self.report(
                Code::UnknownField,
                Some(span),
                format!("field `{key}` does not apply {why}"),
                Some(format!("remove `{key}`")),
            );
        }
    }
}

/// Whether a field must be present.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Must be present; the text is an example for the hint.
    Required(&'static str),
    /// May be absent.
    Optional,
}

/// Precision and sign rules for a decimal field.
#[derive(Clone, Copy, Debug)]
pub struct DecimalRule<'a> {
    /// Most decimal places allowed.
    pub scale: u32,
    /// Whether it must be greater than zero.
    pub positive: bool,
    /// The subject of the precision message ("EUR amounts have", "hours have").
    pub what: &'a str,
    /// Whether to suggest a correcting record for a negative value (contributions only).
    pub record_hint: bool,
    /// The largest value allowed (see [`super::bounds`]): larger is `out-of-range`.
    pub max: Decimal,
}

impl DecimalRule<'static> {
    /// Hours: positive, 4 places.
    pub const HOURS: DecimalRule<'static> = DecimalRule {
        scale: HOURS_SCALE,
        positive: true,
        what: "hours have",
        record_hint: true,
        max: bounds::MAX_HOURS,
    };
    /// Rates and use rates: positive, 6 places, at most [`bounds::MAX_RATE`].
    pub const RATE: DecimalRule<'static> = DecimalRule {
        scale: RATE_SCALE,
        positive: true,
        what: "rates, multipliers and quantities have",
        record_hint: false,
        max: bounds::MAX_RATE,
    };
    /// Multipliers and caps: as [`DecimalRule::RATE`], at most [`bounds::MAX_FACTOR`].
    pub const FACTOR: DecimalRule<'static> = DecimalRule {
        max: bounds::MAX_FACTOR,
        ..DecimalRule::RATE
    };
    /// Quantities: as [`DecimalRule::RATE`], at most [`bounds::MAX_QUANTITY`].
    pub const QUANTITY: DecimalRule<'static> = DecimalRule {
        max: bounds::MAX_QUANTITY,
        ..DecimalRule::RATE
    };
}

impl<'a> DecimalRule<'a> {
    /// Money in a currency: positive, at most `minor_units` places. `what` names it
    /// ("EUR amounts have").
    pub fn money(minor_units: u32, what: &'a str, record_hint: bool) -> DecimalRule<'a> {
        DecimalRule {
            scale: minor_units,
            positive: true,
            what,
            record_hint,
            max: bounds::MAX_AMOUNT,
        }
    }
}

/// What to do about a value beyond its bound.
fn out_of_range_hint(max: Decimal) -> String {
    if max == bounds::MAX_AMOUNT || max == bounds::MAX_HOURS {
        format!(
            "split it over several records of at most {max} each (the bounds keep every total exact; see Largest values in ovn-ledger(5))"
        )
    } else {
        "the bounds keep every total exact; see Largest values in ovn-ledger(5)".to_owned()
    }
}

fn number_error(key: &str, e: &NumberError) -> (String, String) {
    match e {
        NumberError::NotFinite => (
            format!("`{key}` must be a finite number (nan and inf are not amounts)"),
            "write a plain decimal such as \"12.50\"".to_owned(),
        ),
        NumberError::Malformed => (
            format!("`{key}` is not a plain decimal"),
            "write digits with `.` as the decimal point, e.g. \"12.50\" (no decimal comma, exponent or thousands separator)".to_owned(),
        ),
        NumberError::TooLarge => (
            format!("`{key}` has more digits than an exact decimal can hold (28)"),
            "use fewer digits".to_owned(),
        ),
        NumberError::Percent => (
            format!("`{key}` is not a percent of the form \"12.5%\""),
            "percents are strings ending in `%`, e.g. \"50%\"".to_owned(),
        ),
    }
}

/// Whether `s` is a lowercase word: `[a-z][a-z0-9-]*`, at most 64 characters.
pub fn is_name_word(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3) && d < c.len().max(word.len()))
        .min()
        .map(|(_, c)| c)
}
