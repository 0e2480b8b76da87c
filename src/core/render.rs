//! Text forms of diagnostics: rustc-style blocks for people, one line each for editors and
//! grep, and a serialisable value for JSON. Pure functions of a diagnostic and its location.
//!
//! Beside them, the pure text formatting the core and the store need themselves: names and
//! free text made safe to print on a terminal ([`escaped`], [`one_line`], [`visible`]), used
//! in the store's error messages too, and the CSV field the exports quote with. What only the
//! command line prints (markdown, tables, HTML) lives in `cli::render`.

use serde::Serialize;

use super::diag::{Diagnostic, Location};

/// Renders a diagnostic as a rustc-style block with an excerpt and caret.
pub fn human(d: &Diagnostic, loc: &Location) -> String {
    let mut out = format!("error[{}]: {}\n", d.code, visible(&d.message));
    let line_no = loc.line.to_string();
    let pad = " ".repeat(line_no.len());
    out.push_str(&format!(
        "{pad}--> {}:{}:{}\n",
        escaped(&d.path),
        loc.line,
        loc.column
    ));
    if let Some(ex) = &loc.excerpt {
        let text = visible(&ex.text);
        // Carets are placed under characters; tabs were made visible as one char each.
        let lead = " ".repeat(ex.caret_column - 1);
        let carets = "^".repeat(ex.caret_width);
        out.push_str(&format!(
            "{pad} |\n{line_no} | {text}\n{pad} | {lead}{carets}\n"
        ));
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!("{pad} = help: {}\n", visible(hint)));
    }
    out
}

/// Renders `path:line:col: error[code]: message` on one line.
pub fn short(d: &Diagnostic, loc: &Location) -> String {
    format!(
        "{}:{}:{}: error[{}]: {}",
        escaped(&d.path),
        loc.line,
        loc.column,
        d.code,
        visible(&d.message)
    )
}

/// Replaces characters that would disturb a terminal by visible escapes, so an excerpt of a
/// file with a forbidden character is itself safe to print.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' {
            out.push(' ');
        } else if c == '\u{FEFF}' {
            // An invisible byte-order mark: leave it out.
        } else if needs_escape(c) {
            // Zero-width characters too: they would hide a difference between two names.
            out.push('\u{FFFD}');
        } else {
            out.push(c);
        }
    }
    out
}

/// A name (a file path, an id, a folder) made safe to print on one line of a terminal:
/// control, bidirectional and zero-width characters become visible escapes (`\r`, `\n`,
/// `\t`, `\u{1b}`, `\u{202e}`, `\u{200b}`), and `\` becomes `\\` so an escape cannot be
/// forged. Ordinary names come back unchanged. Every renderer (table, short, JSON, markdown)
/// prints paths through this one function.
pub fn escaped(name: &str) -> String {
    escape(name, true)
}

/// Free text (a description, a memo, a message) made safe to print on one line of a
/// terminal: as [`escaped`], but a backslash is left as it is.
pub fn one_line(text: &str) -> String {
    escape(text, false)
}

fn escape(name: &str, backslash: bool) -> String {
    if name
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && (b != b'\\' || !backslash))
    {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\\' if backslash => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Whether a character must not reach a terminal as itself: controls, bidirectional
/// formatting, zero-width and other invisible format characters.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || super::value::forbidden_chars(c.encode_utf8(&mut [0; 4]))
            .next()
            .is_some()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}' | '\u{061C}' | '\u{00AD}' | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// A CSV field, quoted when it must be (RFC 4180): a comma, a quote or a line break (`\n`
/// or `\r`) puts it in quotes, a quote doubled. The one quoting of every CSV `ovn` writes:
/// the exports here in the core, the reports and payouts of the command line.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A diagnostic in the shape `--format json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// Stable code.
    pub code: &'a str,
    /// Ledger-relative path, through [`escaped`] (unchanged for every ordinary name).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The offending line.
    pub excerpt: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    /// Builds the JSON shape of `d` at `loc`.
    pub fn new(d: &'a Diagnostic, loc: &'a Location) -> Self {
        JsonDiagnostic {
            code: d.code.as_str(),
            path: escaped(&d.path),
            line: loc.line,
            column: loc.column,
            // As on a terminal: a script may print them.
            message: one_line(&d.message),
            hint: d.hint.as_deref().map(one_line),
            excerpt: loc.excerpt.as_ref().map(|e| e.text.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_it_must() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        // A carriage return alone is a line break to a spreadsheet: quoted too.
        assert_eq!(csv_field("a\rb"), "\"a\rb\"");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
    }
}
