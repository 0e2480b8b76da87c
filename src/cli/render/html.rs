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

/// A decimal with two places, for SVG coordinates: exact, so the same data writes the same
/// bytes on every machine.
fn coordinate(d: Decimal) -> String {
    let mut d = d.round_dp(2);
    d.rescale(2);
    d.to_string()
}

/// A bar chart of `points` (label, value) as an inline SVG figure, no script: a title and a
/// description for screen readers (first and last label, the highest value, the total), one
/// bar a point with its own title (label and value, written by `show`), the highest value on
/// the axis. Negative values draw as zero. `id` must be unique on the page (it is escaped).
pub fn chart(
    id: &str,
    title: &str,
    points: &[(String, Decimal)],
    show: &dyn Fn(Decimal) -> String,
) -> String {
    const WIDTH: i64 = 360;
    const TOP: i64 = 16;
    const HEIGHT: i64 = 100;
    let id = escape(id);
    let max = points
        .iter()
        .map(|(_, v)| *v)
        .max()
        .unwrap_or_default()
        .max(Decimal::ZERO);
    let total: Decimal = points.iter().map(|(_, v)| *v).sum();
    let mut out = String::new();
    let description = match (points.first(), points.last()) {
        (Some((first, _)), Some((last, _))) => {
            let top = points
                .iter()
                .find(|(_, v)| *v == max)
                .map_or(String::new(), |(k, _)| k.clone());
            if max.is_zero() {
                format!("From {first} to {last}: nothing.")
            } else {
                format!(
                    "From {first} to {last}; highest {} in {top}; {} in all.",
                    show(max),
                    show(total)
                )
            }
        }
        _ => "Nothing to show.".to_owned(),
    };
    let _ = write!(
        out,
        "<figure><svg viewBox=\"0 0 {WIDTH} {}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        TOP + HEIGHT + 16,
        escape(title),
        escape(&description)
    );
    let n = Decimal::from(points.len().max(1));
    let step = Decimal::from(WIDTH) / n;
    let gap = if points.len() > 24 {
        Decimal::ZERO
    } else {
        step / Decimal::from(5)
    };
    for (i, (label, v)) in points.iter().enumerate() {
        if *v <= Decimal::ZERO || max.is_zero() {
            continue;
        }
        let h = *v / max * Decimal::from(HEIGHT);
        let x = step * Decimal::from(i) + gap / Decimal::TWO;
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {}</title></rect>",
            coordinate(x),
            coordinate(Decimal::from(TOP + HEIGHT) - h),
            coordinate(step - gap),
            coordinate(h),
            escape(label),
            escape(&show(*v))
        );
    }
    let base = TOP + HEIGHT;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"0\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"></line><text x=\"0\" y=\"11\">{}</text>",
        escape(&show(max))
    );
    if let (Some((first, _)), Some((last, _))) = (points.first(), points.last()) {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text>",
            base + 14,
            escape(first)
        );
        if points.len() > 1 {
            let _ = write!(
                out,
                "<text x=\"{WIDTH}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                base + 14,
                escape(last)
            );
        }
    }
    let _ = writeln!(
        out,
        "</svg><figcaption>{}</figcaption></figure>",
        escape(title)
    );
    out
}
