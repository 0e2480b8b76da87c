//! Markdown for text `ovn` did not write: shown as text and never as markup, on one line.
//!
//! Pull-request comments and README tables are read on GitHub and its likes, where a name
//! with `<img …>`, `[link](…)`, `|` or a bare `https://…` would become markup, break a table
//! row or make a link. Every markdown writer of the command line (payout, report, review) puts
//! foreign text through [`text`] or [`code`], and tables through [`table`].

use std::fmt::Write as _;

use crate::core::render::{escaped, one_line, visible};

/// How a markdown cell shows the control, bidirectional and zero-width characters of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controls {
    /// As visible escapes (`\u{1b}`, `\t`), as [`one_line`] prints them: every markdown
    /// `ovn` writes but the one below.
    Escaped,
    /// Replaced (`U+FFFD`, a tab by a space), as [`visible`] prints them: the review's
    /// governance and who-did-what tables, so that their markdown shows the same text as the
    /// terminal sections printed beside them.
    Replaced,
}

/// Text for markdown output (a pull-request comment, a README table), shown as text and never
/// as markup: HTML (`<img …>`, `<b>`, entities) and link, image, emphasis, code and table
/// syntax are escaped, a line break becomes a space (a table row stays one row), and
/// control, bidirectional and zero-width characters are escaped as in [`one_line`]. The one
/// function every markdown writer uses for text it did not write itself.
pub fn text(text: &str) -> String {
    cell(text, Controls::Escaped)
}

/// [`text`], with the control characters shown as `controls` says.
pub fn cell(text: &str, controls: Controls) -> String {
    let shown;
    let text = match controls {
        Controls::Escaped => text,
        Controls::Replaced => {
            shown = visible(text);
            &shown
        }
    };
    let text = one_line(&text.replace("\r\n", " ").replace(['\n', '\r'], " "));
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Parentheses need nothing: without `[` and `]` they cannot make a link.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // Bare `https://…` and `www.…` are made links by GitHub: an escape inside breaks them.
    out.replace("://", ":\\/\\/").replace("www.", "www\\.")
}

/// A name for markdown output in a code span (`` `agents/ana.toml` ``), or as escaped text
/// when a code span cannot hold it (a backtick, a character that needs escaping).
pub fn code(name: &str) -> String {
    let plain = escaped(name);
    if plain.contains('`') || plain != name {
        return text(&plain);
    }
    format!("`{}`", plain.replace('|', "\\|"))
}

/// A markdown table: the `header` as given (names of our own), `numeric` columns aligned
/// right, every cell of `rows` through [`text`], and the `total` row's non-empty cells in
/// bold.
pub fn table(
    out: &mut String,
    header: &[String],
    numeric: &[bool],
    rows: &[Vec<String>],
    total: Option<&[String]>,
) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let aligns: Vec<&str> = numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", aligns.join(" | "));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| text(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if let Some(total) = total {
        let cells: Vec<String> = total
            .iter()
            .map(|c| {
                if c.is_empty() {
                    String::new()
                } else {
                    format!("**{}**", text(c))
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_ways_of_showing_controls_differ_only_in_controls() {
        assert_eq!(cell("a|b <i>", Controls::Escaped), "a\\|b &lt;i&gt;");
        assert_eq!(cell("a|b <i>", Controls::Replaced), "a\\|b &lt;i&gt;");
        assert_eq!(cell("a\u{1b}b", Controls::Escaped), "a\\\\u{1b}b");
        assert_eq!(cell("a\u{1b}b", Controls::Replaced), "a\u{FFFD}b");
        assert_eq!(cell("a\tb", Controls::Replaced), "a b");
    }
}
