//! The terminal table of reports and payouts: rules above and below and under the header only,
//! numbers aligned right, and the same bytes on every terminal.
//!
//! A table that adapted to the terminal's width would print different bytes in a terminal, a
//! pipe and a CI log; these never adapt, so output can be diffed and tested byte for byte.

use comfy_table::{CellAlignment, LineStyle, Table, TableStyle};

use crate::core::report::ResourceRow;

/// Rules above and below the table and under the header only: quiet, and the same bytes on
/// every terminal (the table never adapts to the terminal width).
pub const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// A table of `header` and `rows` in [`STYLE`], the `numeric` columns aligned right, as
/// text: its lines without the padding the last column leaves at their ends (trailing
/// spaces that editors strip, diffs flag and a reader cannot see), no final newline.
pub fn draw(
    header: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
    numeric: &[bool],
) -> String {
    let t = grid(header, rows, numeric);
    t.lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn grid(header: &[String], rows: impl IntoIterator<Item = Vec<String>>, numeric: &[bool]) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .force_no_tty()
        .set_header(header.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for (i, numeric) in numeric.iter().enumerate() {
        if *numeric && let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// How a resource is described in every report of resources (`ovn report resources`, the
/// site): its owners with their shares, its stewards, its use rate.
pub struct ResourceCells {
    /// `agent share` pairs, comma separated.
    pub owners: String,
    /// Steward ids, comma separated.
    pub stewards: String,
    /// The use rate per hour, or empty.
    pub use_rate: String,
}

impl ResourceCells {
    /// The cells of `r`.
    pub fn of(r: &ResourceRow) -> ResourceCells {
        ResourceCells {
            owners: r
                .owners
                .iter()
                .map(|(a, s)| format!("{a} {s}"))
                .collect::<Vec<_>>()
                .join(", "),
            stewards: r
                .stewards
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            use_rate: r
                .use_rate
                .map(|x| x.normalize().to_string())
                .unwrap_or_default(),
        }
    }
}
