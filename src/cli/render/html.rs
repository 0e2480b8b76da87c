//! HTML for the site (`ovn site`): escaping, and the tables its sections are made of.
//!
//! The page is written as text, not through a template engine: every piece of ledger text goes
//! through [`escape`] (content and attribute values alike), and numbers are laid out by
//! [`thead`] and [`row`] in right-aligned cells. Bars are plain CSS widths ([`bar`]), so the
//! page needs no script.

use std::fmt::Write as _;

use rust_decimal::Decimal;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A bar as wide as `fraction` of its cell.
pub fn bar(fraction: Decimal) -> String {
    let f = fraction.clamp(Decimal::ZERO, Decimal::ONE);
    let mut w = (f * Decimal::ONE_HUNDRED).round_dp(2);
    w.rescale(2);
    format!("<span class=\"track\"><span class=\"bar\" style=\"width:{w}%\"></span></span>")
}

/// Starts a table with its header; `numeric` columns are right-aligned.
pub fn thead(out: &mut String, columns: &[(&str, bool)]) {
    out.push_str("<table><thead><tr>");
    for (c, n) in columns {
        let class = if *n { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// One row: `(text, numeric)` cells, already escaped where they are text.
pub fn row(out: &mut String, cells: &[(String, bool)], class: &str) {
    if class.is_empty() {
        out.push_str("<tr>");
    } else {
        let _ = write!(out, "<tr class=\"{class}\">");
    }
    for (c, n) in cells {
        if *n {
            let _ = write!(out, "<td class=\"n\">{c}</td>");
        } else {
            let _ = write!(out, "<td>{c}</td>");
        }
    }
    out.push_str("</tr>\n");
}
