//! Diagnostics: what `ovn check` reports, as plain data.
//!
//! A diagnostic is data, not a printed string (the beancount lesson): the core produces them
//! with a stable [`Code`], the ledger-relative path and a byte span; the renderer turns them into
//! rustc-style text, one-line `path:line:col` form or JSON. Keeping byte spans (not line/col)
//! lets ledger-wide checks point into files whose text the core no longer holds; the caller
//! resolves them with [`Diagnostic::locate`] against the file's text.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

/// A stable diagnostic code. The string form (`unknown-field`, ...) is part of the public
/// contract: scripts grep for it and `ovn-ledger(5)` documents each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Code {
    /// The file is not valid TOML.
    Syntax,
    /// The file is not valid UTF-8.
    InvalidUtf8,
    /// The file starts with a byte-order mark.
    Bom,
    /// A control or bidirectional-override character.
    ForbiddenChar,
    /// A field the record type does not have.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong TOML type.
    WrongType,
    /// A field's value is not one of the allowed words or is empty.
    InvalidValue,
    /// A malformed decimal, percent, nan or inf.
    InvalidNumber,
    /// More decimal places than allowed (for money: the currency's minor units).
    TooPrecise,
    /// A number beyond the largest value its field allows (see `core::bounds`).
    OutOfRange,
    /// Zero or negative hours, amounts, rates.
    NotPositive,
    /// A date that is not a real calendar date, or not a date at all.
    InvalidDate,
    /// An id with characters outside `[a-z0-9_-]` or too long.
    InvalidId,
    /// The `id` field differs from the file name.
    IdMismatch,
    /// Two records of one type share an id.
    DuplicateId,
    /// A reference to a record that does not exist.
    UnknownReference,
    /// A file in a record folder that is not a record.
    StrayFile,
    /// A contribution filed under a folder that is not its date.
    MisplacedRecord,
    /// More than 24 hours of work by one agent on one day.
    DayOverflow,
    /// Owners' shares of a resource do not sum to 100%, or owners contradict the ownership.
    OwnerShares,
    /// An agreement whose buckets cannot be honoured.
    InvalidAgreement,
    /// A project whose parent chain loops.
    ParentCycle,
    /// The same email claimed by two agents.
    DuplicateEmail,
    /// Two recorded payouts of the same revenue event.
    DuplicatePayout,
    /// Two records correct (reverse or supersede) the same record.
    CorrectedTwice,
    /// A project's recorded payouts fork: two were computed without seeing each other.
    PayoutFork,
    /// Contributions that correct (reverse or supersede) each other in a loop.
    CorrectionLoop,
    /// A symbolic link, FIFO, device, socket or submodule where a file should be: never
    /// followed or read.
    NotAFile,
    /// A file larger than its bound ([`crate::core::parse::max_bytes`]): not read.
    TooLarge,
    /// The payments of a payout line sum to more than it owes (or refund more than it was
    /// paid).
    Overpayment,
    /// Projects whose agreements pay each other (`to_project`) in a loop.
    CascadeCycle,
    /// A chain of projects paying projects longer than a cascade may be.
    CascadeDepth,
    /// A contribution by an agent dated while it had left (on or after `left`, before
    /// `rejoined`).
    AfterLeaving,
    /// A contribution in another currency with no exchange rate for its date (neither on the
    /// record nor a rate record of its pair dated on or before it). The one problem a payout
    /// and the reports work around: they leave that contribution out and say so (see
    /// [`Code::stops_payouts`]).
    MissingRate,
}

impl Code {
    /// Every code, in documentation order (the error corpus has one fixture per entry).
    pub const ALL: &'static [Code] = &[
        Code::Syntax,
        Code::InvalidUtf8,
        Code::Bom,
        Code::ForbiddenChar,
        Code::UnknownField,
        Code::MissingField,
        Code::WrongType,
        Code::InvalidValue,
        Code::InvalidNumber,
        Code::TooPrecise,
        Code::OutOfRange,
        Code::NotPositive,
        Code::InvalidDate,
        Code::InvalidId,
        Code::IdMismatch,
        Code::DuplicateId,
        Code::UnknownReference,
        Code::StrayFile,
        Code::MisplacedRecord,
        Code::DayOverflow,
        Code::OwnerShares,
        Code::InvalidAgreement,
        Code::ParentCycle,
        Code::DuplicateEmail,
        Code::DuplicatePayout,
        Code::CorrectedTwice,
        Code::PayoutFork,
        Code::CorrectionLoop,
        Code::NotAFile,
        Code::TooLarge,
        Code::Overpayment,
        Code::CascadeCycle,
        Code::CascadeDepth,
        Code::AfterLeaving,
        Code::MissingRate,
    ];

    /// The stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::InvalidUtf8 => "invalid-utf8",
            Code::Bom => "bom",
            Code::ForbiddenChar => "forbidden-char",
            Code::UnknownField => "unknown-field",
            Code::MissingField => "missing-field",
            Code::WrongType => "wrong-type",
            Code::InvalidValue => "invalid-value",
            Code::InvalidNumber => "invalid-number",
            Code::TooPrecise => "too-precise",
            Code::OutOfRange => "out-of-range",
            Code::NotPositive => "not-positive",
            Code::InvalidDate => "invalid-date",
            Code::InvalidId => "invalid-id",
            Code::IdMismatch => "id-mismatch",
            Code::DuplicateId => "duplicate-id",
            Code::UnknownReference => "unknown-reference",
            Code::StrayFile => "stray-file",
            Code::MisplacedRecord => "misplaced-record",
            Code::DayOverflow => "day-overflow",
            Code::OwnerShares => "owner-shares",
            Code::InvalidAgreement => "invalid-agreement",
            Code::ParentCycle => "parent-cycle",
            Code::DuplicateEmail => "duplicate-email",
            Code::DuplicatePayout => "duplicate-payout",
            Code::CorrectedTwice => "corrected-twice",
            Code::PayoutFork => "payout-fork",
            Code::CorrectionLoop => "correction-loop",
            Code::NotAFile => "not-a-file",
            Code::TooLarge => "too-large",
            Code::Overpayment => "overpayment",
            Code::CascadeCycle => "cascade-cycle",
            Code::CascadeDepth => "cascade-depth",
            Code::AfterLeaving => "after-leaving",
            Code::MissingRate => "missing-rate",
        }
    }

    /// One line saying what the code means (used by docs and `--explain`-style help).
    pub fn summary(self) -> &'static str {
        match self {
            Code::Syntax => "the file is not valid TOML",
            Code::InvalidUtf8 => "the file is not valid UTF-8",
            Code::Bom => "the file starts with a byte-order mark",
            Code::ForbiddenChar => {
                "a control or bidirectional-override character (could corrupt a reviewer's terminal)"
            }
            Code::UnknownField => "a field this record type does not have",
            Code::MissingField => "a required field is absent",
            Code::WrongType => "a field has the wrong TOML type",
            Code::InvalidValue => "a value that is not allowed for the field",
            Code::InvalidNumber => "a malformed decimal or percent, nan, inf or exponent",
            Code::TooPrecise => "more decimal places than the field allows",
            Code::OutOfRange => "a number larger than the field allows (amounts 10^12, hours 10^5)",
            Code::NotPositive => "zero or negative hours, amount, rate or share",
            Code::InvalidDate => "not a real calendar date",
            Code::InvalidId => "an id outside [a-z0-9_-]{1,64}",
            Code::IdMismatch => "the id field differs from the file name",
            Code::DuplicateId => "two records of one type share an id",
            Code::UnknownReference => "a reference to a record that does not exist",
            Code::StrayFile => "a file in a record folder that is not a record",
            Code::MisplacedRecord => "a contribution filed under a folder that is not its date",
            Code::DayOverflow => "more than 24 hours by one agent on one day",
            Code::OwnerShares => "owners' shares do not sum to 100% or contradict the ownership",
            Code::InvalidAgreement => "a value equation that cannot be honoured",
            Code::ParentCycle => "a project's parent chain loops back to itself",
            Code::DuplicateEmail => "one email claimed by two agents",
            Code::DuplicatePayout => {
                "one revenue event (project, date, amount, memo) recorded twice"
            }
            Code::CorrectedTwice => "two records correct (reverse or supersede) the same record",
            Code::CorrectionLoop => {
                "contributions correct (reverse or supersede) each other in a loop"
            }
            Code::PayoutFork => {
                "a project's payouts fork: two were computed without seeing each other"
            }
            Code::NotAFile => {
                "a symbolic link, FIFO, device or submodule where a file should be (never followed)"
            }
            Code::TooLarge => {
                "a file larger than a ledger file may hold (64 KiB; a payout record 8 MiB)"
            }
            Code::Overpayment => "the payments of a payout line sum to more than it owes",
            Code::CascadeCycle => "projects pay each other (`to_project`) in a loop",
            Code::CascadeDepth => "projects paying projects in a chain deeper than 16 levels",
            Code::AfterLeaving => "a contribution by an agent dated while it had left",
            Code::MissingRate => {
                "a contribution in another currency with no exchange rate for its date"
            }
        }
    }

    /// Whether a ledger with this problem cannot be paid out (nor reported on). Every
    /// problem stops a payout but [`Code::MissingRate`]: that one concerns a single
    /// contribution, which payouts and reports leave out with the reason, so one member's
    /// missing rate never stops everyone else's payout. `ovn check` fails on it all the same,
    /// so a change adding one cannot pass review.
    pub fn stops_payouts(self) -> bool {
        self != Code::MissingRate
    }

    /// Parses the string form back (used by tests and tools).
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl From<Code> for &'static str {
    fn from(code: Code) -> &'static str {
        code.as_str()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The problems of `diags` that stop a payout or a report ([`Code::stops_payouts`]): empty
/// when there are none, so a caller refuses only on what it cannot work around.
pub fn stopping(diags: &[Diagnostic]) -> Vec<Diagnostic> {
    diags
        .iter()
        .filter(|d| d.code.stops_payouts())
        .cloned()
        .collect()
}

/// A byte range within one file. `u32` keeps records small; ledger files are tiny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// Builds a span from a byte range (saturating at `u32::MAX`).
    pub fn from_range(range: Range<usize>) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(range.start),
            end: clamp(range.end),
        }
    }
}

/// One problem found in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Path of the file, relative to the ledger root, with `/` separators.
    pub path: String,
    /// Where in the file, if anywhere in particular.
    pub span: Option<Span>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, if there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at `span` of `path`.
    pub fn new(code: Code, path: &str, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            path: path.to_owned(),
            span,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Resolves the byte span to a line, column and excerpt within `text`. To place many
    /// diagnostics in one file, make its [`Lines`] once and use [`Diagnostic::locate_in`].
    pub fn locate(&self, text: Option<&str>) -> Location {
        self.locate_in(text.map(Lines::new).as_ref())
    }

    /// [`Diagnostic::locate`] in a file whose lines are known: a binary search and a count
    /// of at most a few thousand bytes, however long the file or the line.
    pub fn locate_in(&self, lines: Option<&Lines<'_>>) -> Location {
        let (Some(lines), Some(span)) = (lines, self.span) else {
            return Location {
                line: 1,
                column: 1,
                excerpt: None,
            };
        };
        let text = lines.text;
        let start = floor_char_boundary(text, (span.start as usize).min(text.len()));
        let n = lines
            .starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        let line_start = lines.starts.get(n).copied().unwrap_or(0);
        // The line ends at its newline (one byte before the next line starts).
        let line_end = lines.starts.get(n + 1).map_or(text.len(), |&s| s - 1);
        let mut line_text = text[line_start..line_end].trim_end_matches('\r');
        let mut column = lines.chars_between(line_start, start) + 1;
        // A byte-order mark is invisible: do not count it as a column or echo it.
        let mut shown_from = line_start;
        if line_start == 0 && line_text.starts_with('\u{FEFF}') {
            line_text = &line_text['\u{FEFF}'.len_utf8()..];
            shown_from += '\u{FEFF}'.len_utf8();
            column = column.saturating_sub(1).max(1);
        }
        let shown_to = shown_from + line_text.len();
        let end = (span.end as usize).clamp(start, line_end.max(start));
        let end = floor_char_boundary(text, end.min(shown_to).max(start));
        let excerpt = if line_text.len() <= LONG_LINE {
            Excerpt {
                text: line_text.to_owned(),
                caret_column: column,
                caret_width: lines.chars_between(start, end).max(1),
            }
        } else {
            // A long line (a hostile file may be one line of megabytes) is shown around the
            // caret only, so each excerpt costs the same whatever the line.
            let from = back_chars(text, start.max(shown_from), EXCERPT_CHARS, shown_from);
            let caret_to = forth_chars(text, start, EXCERPT_CHARS, end.max(start));
            let to = forth_chars(text, caret_to, EXCERPT_CHARS, shown_to);
            let lead = if from > shown_from { "\u{2026}" } else { "" };
            let tail = if to < shown_to { "\u{2026}" } else { "" };
            Excerpt {
                text: format!("{lead}{}{tail}", &text[from..to]),
                caret_column: lines.chars_between(from, start) + lead.chars().count() + 1,
                caret_width: lines.chars_between(start, caret_to).max(1),
            }
        };
        Location {
            line: n + 1,
            column,
            excerpt: Some(excerpt),
        }
    }
}

/// Lines longer than this many bytes are excerpted around the caret ([`EXCERPT_CHARS`] on
/// each side) rather than whole.
const LONG_LINE: usize = 1024;

/// Characters a long line's excerpt shows before the caret, and after the underlined part.
const EXCERPT_CHARS: usize = 120;

/// Bytes between the character counts [`Lines`] keeps.
const BLOCK: usize = 4096;

/// A file's text and where its lines start, so that placing each of many diagnostics in it
/// (a hostile file may draw tens of thousands) costs a binary search and a count of at
/// most `BLOCK` bytes, not a scan from the start of the file.
pub struct Lines<'t> {
    text: &'t str,
    /// The byte where each line starts.
    starts: Vec<usize>,
    /// Characters before each [`BLOCK`] bytes of the text.
    chars: Vec<usize>,
}

impl<'t> Lines<'t> {
    /// Indexes `text`.
    pub fn new(text: &'t str) -> Lines<'t> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut chars = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut before = 0;
        for block in bytes.chunks(BLOCK) {
            chars.push(before);
            before += char_starts(block);
        }
        Lines {
            text,
            starts,
            chars,
        }
    }

    /// Characters in `text[from..to]` (both on character boundaries, `from <= to`).
    fn chars_between(&self, from: usize, to: usize) -> usize {
        self.chars_before(to)
            .saturating_sub(self.chars_before(from))
    }

    /// Characters in `text[..at]`.
    fn chars_before(&self, at: usize) -> usize {
        let block = at / BLOCK;
        let counted = self.chars.get(block).copied().unwrap_or(0);
        let bytes = self.text.as_bytes();
        counted + char_starts(bytes.get(block * BLOCK..at).unwrap_or_default())
    }
}

/// Characters that start in `bytes` (every byte but UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// The byte `n` characters before `at`, or `floor` if that is nearer.
fn back_chars(text: &str, at: usize, n: usize, floor: usize) -> usize {
    text[floor..at]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(at, |(i, _)| floor + i)
}

/// The byte `n` characters after `at`, or `ceiling` if that is nearer.
fn forth_chars(text: &str, at: usize, n: usize, ceiling: usize) -> usize {
    if at >= ceiling {
        return at;
    }
    text[at..ceiling]
        .char_indices()
        .nth(n)
        .map_or(ceiling, |(i, _)| at + i)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// A resolved position: 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The offending line, when the file text is known.
    pub excerpt: Option<Excerpt>,
}

/// The source line a diagnostic points at, with the caret position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// The whole line, without its line ending.
    pub text: String,
    /// 1-based column where the caret starts.
    pub caret_column: usize,
    /// How many characters the caret underlines (at least 1).
    pub caret_width: usize,
}

/// Sorts diagnostics into their canonical order: by path, position, code and message.
/// Output order must not depend on file-system order or thread scheduling.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.path, a.span.map(|s| s.start), a.code, &a.message).cmp(&(
            &b.path,
            b.span.map(|s| s.start),
            b.code,
            &b.message,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// How a diagnostic was placed before files had a line index: a scan from the start.
    fn scanned(text: &str, span: Span) -> Location {
        let start = floor_char_boundary(text, (span.start as usize).min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..line_start].matches('\n').count() + 1;
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        let column = text[line_start..start].chars().count() + 1;
        let end = (span.end as usize).clamp(start, line_end.max(start));
        let end = floor_char_boundary(text, end.min(line_start + line_text.len()).max(start));
        let width = text[start..end].chars().count().max(1);
        Location {
            line,
            column,
            excerpt: Some(Excerpt {
                text: line_text.to_owned(),
                caret_column: column,
                caret_width: width,
            }),
        }
    }

    fn at(text: &str, start: usize, end: usize) -> Location {
        let d = Diagnostic::new(
            Code::TooLarge,
            "x.toml",
            Some(Span::from_range(start..end)),
            "m",
        );
        d.locate_in(Some(&Lines::new(text)))
    }

    proptest! {
        /// In lines of ordinary length, the index places a diagnostic exactly where a scan
        /// from the start of the file did: line, column, excerpt and caret.
        #[test]
        fn the_index_places_as_a_scan_did(
            text in "([a-zé€\u{202e} =\"\r\t]{0,30}\n){0,12}[a-zé€ ]{0,30}",
            a in 0usize..500,
            len in 0usize..80,
        ) {
            let span = Span::from_range(a..a + len);
            prop_assert_eq!(at(&text, a, a + len), scanned(&text, span));
        }
    }

    #[test]
    fn a_long_line_is_excerpted_around_the_caret() {
        // One line of 100,000 `x` with a `bad` word in the middle, then a short line.
        let line = format!("{}bad{}", "x".repeat(50_000), "é".repeat(50_000));
        let text = format!("{line}\nnext = 1\n");
        let loc = at(&text, 50_000, 50_003);
        assert_eq!((loc.line, loc.column), (1, 50_001));
        let ex = loc.excerpt.unwrap();
        assert_eq!(
            ex.text,
            format!("\u{2026}{}bad{}\u{2026}", "x".repeat(120), "é".repeat(120))
        );
        assert_eq!((ex.caret_column, ex.caret_width), (122, 3));
        // Columns are still counted in characters past a multi-byte run.
        let loc = at(&text, line.len() - 2, line.len());
        assert_eq!(loc.column, 50_003 + 50_000);
        let ex = loc.excerpt.unwrap();
        assert_eq!(ex.text, format!("\u{2026}{}", "é".repeat(121)));
        assert_eq!((ex.caret_column, ex.caret_width), (122, 1));
        // The short line after it is shown whole.
        let next = line.len() + 1;
        let loc = at(&text, next + 7, next + 8);
        assert_eq!((loc.line, loc.column), (2, 8));
        assert_eq!(loc.excerpt.unwrap().text, "next = 1");
    }
}
