//! How the commands print: the pieces every output format shares, one module a format.
//!
//! A command turns a core value (a payout, a report, a review) into rows of text cells and
//! hands them to the format's module: [`table`] draws the quiet terminal table of reports and
//! payouts, [`markdown`] writes text that stays text in a pull-request comment or a README,
//! [`csv`] writes RFC 4180 rows, [`html`] escapes and lays out the site's page. The cell formats
//! several of them print alike (a percent, hours) are here, so a figure reads the same in every
//! format.
//!
//! What stays in `core::render` is the text the core and the store need themselves, pure
//! functions of a value: diagnostics, names and free text made safe for a terminal, and the
//! CSV field the core's exports quote with. Only the command line writes markdown, tables and
//! HTML, so they live here.

pub mod csv;
pub mod html;
pub mod markdown;
pub mod records;
pub mod table;

use rust_decimal::Decimal;

/// A fraction as a percent with two decimals (`0.5` → `50.00%`); empty when there is none (a
/// share of nothing).
pub fn percent(f: Option<Decimal>) -> String {
    f.map(|f| {
        let mut p = (f * Decimal::ONE_HUNDRED).round_dp(2);
        p.rescale(2);
        format!("{p}%")
    })
    .unwrap_or_default()
}

/// Hours as written, without trailing zeros (`1.50` → `1.5`).
pub fn hours(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_have_two_decimals_and_nothing_is_empty() {
        assert_eq!(percent(Some(Decimal::new(5, 1))), "50.00%");
        assert_eq!(percent(Some(Decimal::ONE / Decimal::from(3))), "33.33%");
        assert_eq!(percent(Some(Decimal::ZERO)), "0.00%");
        assert_eq!(percent(None), "");
        assert_eq!(hours(Decimal::new(150, 2)), "1.5");
    }
}
