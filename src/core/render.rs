//! Text forms of diagnostics: rustc-style blocks for people, one line each for editors and
//! grep, and a serialisable value for JSON. Pure functions of a diagnostic and its location.

use serde::Serialize;

use super::diag::{Diagnostic, Location};

/// Renders a diagnostic as a rustc-style block with an excerpt and caret.
pub fn human(d: &Diagnostic, loc: &Location) -> String {
    let mut out = format!("error[{}]: {}\n", d.code, d.message);
    let line_no = loc.line.to_string();
    let pad = " ".repeat(line_no.len());
    out.push_str(&format!(
        "{pad}--> {}:{}:{}\n",
        d.path, loc.line, loc.column
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
        out.push_str(&format!("{pad} = help: {hint}\n"));
    }
    out
}

/// Renders `path:line:col: error[code]: message` on one line.
pub fn short(d: &Diagnostic, loc: &Location) -> String {
    format!(
        "{}:{}:{}: error[{}]: {}",
        d.path,
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
        } else if super::value::forbidden_chars(c.encode_utf8(&mut [0; 4]))
            .next()
            .is_some()
            || c.is_control()
        {
            out.push('\u{FFFD}');
        } else {
            out.push(c);
        }
    }
    out
}

/// A diagnostic in the shape `--format json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// Stable code.
    pub code: &'a str,
    /// Ledger-relative path.
    pub path: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: &'a str,
    /// How to fix it.
    pub hint: Option<&'a str>,
    /// The offending line.
    pub excerpt: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    /// Builds the JSON shape of `d` at `loc`.
    pub fn new(d: &'a Diagnostic, loc: &'a Location) -> Self {
        JsonDiagnostic {
            code: d.code.as_str(),
            path: &d.path,
            line: loc.line,
            column: loc.column,
            message: &d.message,
            hint: d.hint.as_deref(),
            excerpt: loc.excerpt.as_ref().map(|e| e.text.as_str()),
        }
    }
}
