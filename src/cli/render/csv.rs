//! CSV for the reports: a header of keys and rows of fields, quoted as RFC 4180 asks.
//!
//! The quoting itself is [`crate::core::render::csv_field`], in the core because the core's
//! exports (`ovn export csv`) write CSV too: one function quotes every CSV field `ovn` writes,
//! so a comma, a quote or a line break (`\n` or `\r`) in a name is quoted the same everywhere.

use std::fmt::Write as _;

pub use crate::core::render::csv_field as field;

/// `header` (keys of our own, never quoted) and `rows` as CSV lines, every field of the rows
/// quoted where it must be.
pub fn rows(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header.join(","));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| field(c)).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}
