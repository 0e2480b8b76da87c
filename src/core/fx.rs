//! Contributions in another currency: exchange rates, and the one exact conversion every
//! payout, report and export shares.
//!
//! A contribution's `amount` may be in another currency than the network's (its `currency`
//! field). Its claim is valued in the network currency, so the amount is converted, at a rate
//! that is either written on the contribution itself (`rate`) or taken from the dated rate
//! records (`rates/<yyyy>/<id>.toml`, one rate each: `date`, `from`, `to`, `rate`), the latest
//! one dated on or before the contribution's date. A rate always reads the same way: one unit
//! of `from` (the contribution's currency) is `rate` units of `to` (the network currency), so
//! `amount × rate` is the value; no record ever holds an inverse rate.
//!
//! The conversion is exact and rounded once: `amount × rate` is computed exactly (checked
//! decimal arithmetic), then rounded half to even to the network currency's minor units, and
//! only that rounded amount enters the claim. Rounding once, at the end, and to the minor unit,
//! means a converted claim is money like any other: a debt owes a whole number of minor units,
//! a payout still sums exactly to its revenue and never pays a debt more than it owes.
//!
//! A missing rate is a located error (`missing-rate`, at the contribution, naming the currency
//! pair and the date): `ovn check` fails on it, so a change bringing one cannot pass review,
//! and `ovn log` refuses to write one. It concerns one contribution, though, not the ledger:
//! a payout (and a report) leaves that contribution out with the reason instead of stopping
//! for everyone ([`Code::stops_payouts`]); it takes part once a rate is recorded. Rate
//! records are one file each, like every record, so two treasurers adding rates on two
//! branches never conflict; two rates of the same pair on the same day are refused.
//!
//! Everything here is a function of the ledger; nothing reads a clock or a network.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_spanned::Spanned;
use toml::de::DeTable;

use super::bounds;
use super::diag::{Code, Diagnostic};
use super::ledger::{Ledger, RecordType};
use super::parse::{DecimalRule, Fields, Need};
use super::read::Source;
use super::record::{At, Contribution, FileId};
use super::value::{Id, is_currency_code};

/// The most decimal places an exchange rate may have.
pub const RATE_PLACES: u32 = 10;

/// The largest exchange rate: 10^6 (one unit of a currency worth a million of another).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// How an exchange rate is read: positive, at most [`RATE_PLACES`] places and [`MAX_RATE`].
pub const RATE_RULE: DecimalRule<'static> = DecimalRule {
    scale: RATE_PLACES,
    positive: true,
    what: "exchange rates have",
    record_hint: false,
    max: MAX_RATE,
};

/// A dated exchange rate (`rates/<yyyy>/<id>.toml`): from its date on, until a later one,
/// one unit of `from` is `rate` units of `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRate {
    /// The file it was read from.
    pub file: FileId,
    /// Unique id (the file name), such as `usd-eur-2026-01-31`.
    pub id: At<Id>,
    /// The first day it applies.
    pub date: At<NaiveDate>,
    /// The currency converted from (a contribution's).
    pub from: At<String>,
    /// The currency converted to (the network's).
    pub to: At<String>,
    /// Units of `to` per unit of `from`.
    pub rate: At<Decimal>,
}

impl ExchangeRate {
    /// The path the record is filed under.
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}.toml",
            RecordType::Rate.folder(),
            self.date.value.format("%Y"),
            self.id.value
        )
    }
}

/// The order the ledger keeps its rates in: by pair, then date, then id, so the rate of a
/// day is found by binary search.
pub fn order(a: &ExchangeRate, b: &ExchangeRate) -> std::cmp::Ordering {
    (&a.from.value, &a.to.value, a.date.value, &a.id.value).cmp(&(
        &b.from.value,
        &b.to.value,
        b.date.value,
        &b.id.value,
    ))
}

/// Reads `rates/<yyyy>/<id>.toml`.
pub fn read(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ExchangeRate> {
    let mut f = Fields::new(src.path, src.base, "exchange rate", table, true, diags);
    let id = f.id("id", Need::Required("\"usd-eur-2026-01-31\""));
    let date = f.date("date", Need::Required("2026-01-31"));
    let from = f.text("from", Need::Required("\"USD\""));
    let to = f.text("to", Need::Required("\"EUR\""));
    let rate = f.decimal("rate", Need::Required("\"0.9231\""), RATE_RULE);
    for code in [&from, &to].into_iter().flatten() {
        if !is_currency_code(&code.value) {
            f.report(
                Code::InvalidValue,
                Some(code.span),
                format!(
                    "a currency must be a three-letter uppercase code, found {:?}",
                    code.value
                ),
                None,
            );
        }
    }
    if let Some(t) = &to
        && is_currency_code(&t.value)
        && t.value != src.settings.currency
    {
        f.report(
            Code::InvalidValue,
            Some(t.span),
            format!(
                "a rate converts to the network currency {}, not {:?}",
                src.settings.currency, t.value
            ),
            Some(format!(
                "claims are valued in {}: write to = \"{}\" and the rate as {} per unit of `from`",
                src.settings.currency, src.settings.currency, src.settings.currency
            )),
        );
    }
    if let (Some(a), Some(b)) = (&from, &to)
        && a.value == b.value
    {
        f.report(
            Code::InvalidValue,
            Some(a.span),
            format!(
                "a rate converts between two currencies, not {} to itself",
                a.value
            ),
            None,
        );
    }
    f.finish();
    Some(ExchangeRate {
        file: src.file,
        id: id?,
        date: date?,
        from: from?,
        to: to?,
        rate: rate?,
    })
}

/// Reads a contribution's optional `rate` (the contribution reader's hook): only an amount in
/// another currency than the network's has one.
pub fn read_rate(
    f: &mut Fields<'_, '_>,
    currency: Option<&At<String>>,
    settings: &super::parse::Settings,
) -> Option<Decimal> {
    let rate = f.decimal("rate", Need::Optional, RATE_RULE)?;
    let foreign = currency.is_some_and(|c| c.value != settings.currency);
    if !foreign {
        f.report(
            Code::InvalidValue,
            Some(rate.span),
            format!(
                "`rate` converts an amount in another currency, and this one is in the network currency {}",
                settings.currency
            ),
            Some("remove `rate`, or set `currency` to the amount's currency".to_owned()),
        );
    }
    Some(rate.value)
}

/// `amount × rate`, exact, rounded half to even to `minor_units` places: the one rounding of a
/// conversion, at its end. `None` when the product does not fit a decimal.
pub fn convert(amount: Decimal, rate: Decimal, minor_units: u32) -> Option<Decimal> {
    let exact = amount.checked_mul(rate)?;
    Some(exact.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven))
}

/// Where a conversion's rate comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin<'l> {
    /// The contribution's own `rate`.
    Record,
    /// A dated rate record.
    Dated(&'l ExchangeRate),
}

/// A contribution's amount in the network currency, and how it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion<'l> {
    /// The contribution's currency.
    pub currency: &'l str,
    /// Its amount, in that currency.
    pub original: Decimal,
    /// Units of the network currency per unit of `currency`.
    pub rate: Decimal,
    /// Where the rate comes from.
    pub origin: Origin<'l>,
    /// The amount converted, rounded to the network currency's minor units.
    pub converted: Decimal,
}

impl Conversion<'_> {
    /// How the converted amount arose, for explanations. `alone` (the whole claim value):
    /// the equation, `250.00 USD × 0.9231 = 230.775 → 230.78` (`→` rounds, as everywhere
    /// in explanations); within a longer sum, the converted amount and its currency in words,
    /// `230.78 (converted from USD)`, so the sum's own equation still reads true.
    pub fn how(&self, minor_units: u32, alone: bool) -> String {
        let converted = super::payout::money(self.converted, minor_units);
        if !alone {
            return format!("{converted} (converted from {})", self.currency);
        }
        let exact = self.original.checked_mul(self.rate);
        match exact {
            Some(e) if e != self.converted => format!(
                "{} {} × {} = {} → {converted}",
                self.original,
                self.currency,
                self.rate,
                e.normalize()
            ),
            _ => format!(
                "{} {} × {} = {converted}",
                self.original, self.currency, self.rate
            ),
        }
    }
}

/// Why an amount cannot be converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unconverted {
    /// No rate on the record and no rate record of the pair dated on or before the day.
    Missing {
        /// The contribution's currency.
        from: String,
        /// The network currency.
        to: String,
        /// The contribution's date.
        date: NaiveDate,
    },
    /// The converted amount is beyond [`bounds::MAX_AMOUNT`] (or beyond a decimal).
    TooLarge,
}

/// The latest rate of `from` to `to` dated on or before `date`, from the ledger's rate
/// records (kept in [`order`]).
pub fn dated<'l>(
    ledger: &'l Ledger,
    from: &str,
    to: &str,
    date: NaiveDate,
) -> Option<&'l ExchangeRate> {
    fn key(r: &ExchangeRate) -> (&str, &str) {
        (r.from.value.as_str(), r.to.value.as_str())
    }
    let rates = &ledger.rates;
    let start = rates.partition_point(|r| key(r) < (from, to));
    let end = rates
        .partition_point(|r| key(r) < (from, to) || (key(r) == (from, to) && r.date.value <= date));
    (end > start).then(|| &rates[end - 1])
}

/// The network currency and its minor units (EUR and 2 without a valid `ovn.toml`).
fn network_currency(ledger: &Ledger) -> (&str, u32) {
    ledger
        .network
        .as_ref()
        .map_or(("EUR", 2), |n| (n.currency.as_str(), n.minor_units))
}

/// Whether `c` holds an amount that needs converting: an amount with a `currency` other than
/// the network's.
pub fn is_foreign(ledger: &Ledger, c: &Contribution) -> bool {
    c.amount.is_some()
        && c.currency()
            .is_some_and(|cur| cur != network_currency(ledger).0)
}

/// The conversion of `c`'s amount into the network currency: `Ok(None)` when there is nothing
/// to convert (no amount, or already in the network currency).
pub fn conversion<'l>(
    ledger: &'l Ledger,
    c: &'l Contribution,
) -> Result<Option<Conversion<'l>>, Unconverted> {
    let (network, minor_units) = network_currency(ledger);
    let (Some(amount), Some(currency)) = (c.amount, c.currency()) else {
        return Ok(None);
    };
    if currency == network {
        return Ok(None);
    }
    let (rate, origin) = match c.rate() {
        Some(r) => (r, Origin::Record),
        None => {
            let r = dated(ledger, currency, network, c.date.value).ok_or_else(|| {
                Unconverted::Missing {
                    from: currency.to_owned(),
                    to: network.to_owned(),
                    date: c.date.value,
                }
            })?;
            (r.rate.value, Origin::Dated(r))
        }
    };
    let converted = convert(amount, rate, minor_units)
        .filter(|v| *v <= bounds::MAX_AMOUNT)
        .ok_or(Unconverted::TooLarge)?;
    Ok(Some(Conversion {
        currency,
        original: amount,
        rate,
        origin,
        converted,
    }))
}

/// The ledger-wide rules of exchange rates: every contribution in another currency (not
/// corrected away) has a rate (`missing-rate`, see [`missing`]) and converts within the
/// bounds, and no pair has two rates on one day.
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    for pair in ledger.rates.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if (&a.from.value, &a.to.value, a.date.value) == (&b.from.value, &b.to.value, b.date.value)
        {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    ledger.path(b.file),
                    Some(b.date.span),
                    format!(
                        "two {}→{} rates are dated {}",
                        b.from.value, b.to.value, b.date.value
                    ),
                )
                .with_hint(format!(
                    "keep one rate a day per pair; the other: {}",
                    ledger.path(a.file)
                )),
            );
        }
    }
    if !ledger.contributions.iter().any(|c| c.currency().is_some()) {
        return;
    }
    let corrected = super::payout::corrected(ledger);
    for c in &ledger.contributions {
        if !is_foreign(ledger, c) || corrected.contains(&c.id.value) {
            continue;
        }
        match conversion(ledger, c) {
            Ok(_) => {}
            Err(Unconverted::TooLarge) => diags.push(Diagnostic::new(
                Code::OutOfRange,
                ledger.path(c.file),
                Some(c.date.span),
                format!(
                    "contribution `{}` converts to more than {} in the network currency, the largest amount ovn computes exactly",
                    c.id.value,
                    bounds::MAX_AMOUNT
                ),
            )),
            Err(Unconverted::Missing { from, to, .. }) => {
                diags.push(missing(ledger.path(c.file), c, &from, &to));
            }
        }
    }
}

/// The `missing-rate` error of contribution `c` (in `path`), at its `date` (the day a rate is
/// looked up for), naming the currency pair and the day, with the two ways to fix it.
pub fn missing(path: &str, c: &Contribution, from: &str, to: &str) -> Diagnostic {
    let date = c.date.value;
    Diagnostic::new(
        Code::MissingRate,
        path,
        Some(c.date.span),
        format!(
            "contribution `{}` is in {from} (field `currency`), and no {from}→{to} rate is dated on or before {date}",
            c.id.value
        ),
    )
    .with_hint(format!(
        "write its rate on it (rate = \"…\", {to} per {from}), or add a rate record {}; until then payouts leave it out",
        rate_record(from, to, date)
    ))
}

/// The rate record that would convert an amount in `from` on `date`, as a hint names it:
/// `rates/2026/usd-eur-2026-03-20.toml with from = "USD", to = "EUR", date = 2026-03-20`.
pub fn rate_record(from: &str, to: &str, date: NaiveDate) -> String {
    format!(
        "rates/{}/{}-{}-{date}.toml with from = \"{from}\", to = \"{to}\", date = {date}",
        date.format("%Y"),
        from.to_lowercase(),
        to.to_lowercase()
    )
}

/// What a payout digest adds for the conversions of `project`'s contributions at dated rates
/// (a rate on the record is in the contribution's own text already): one line each, by
/// contribution id; empty when none is converted, so other digests stay as they were.
pub fn digest_lines(ledger: &Ledger, project: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for c in &ledger.contributions {
        if c.currency().is_none() || c.project.value.as_str() != project {
            continue;
        }
        if let Ok(Some(Conversion {
            origin: Origin::Dated(r),
            ..
        })) = conversion(ledger, c)
        {
            lines.push(format!(
                "exchange {} {} {} {} {}\n",
                c.id.value,
                r.from.value,
                r.to.value,
                r.date.value,
                r.rate.value.normalize()
            ));
        }
    }
    lines.sort();
    lines.concat()
}

/// A rate used by a conversion, as a price: (date, from, rate, to).
pub type Price = (NaiveDate, String, Decimal, String);

/// The rates the ledger's conversions use, as prices on the day each applies (a dated record
/// on its date, a contribution's own rate on the contribution's date), sorted and once each.
/// Contributions corrected away convert nothing. Empty for a ledger in one currency.
pub fn prices(ledger: &Ledger) -> Vec<Price> {
    if !ledger.contributions.iter().any(|c| c.currency().is_some()) {
        return Vec::new();
    }
    let corrected = super::payout::corrected(ledger);
    prices_of(ledger, &ledger.contributions, &corrected)
        .into_iter()
        .collect()
}

/// [`prices`] of some of the ledger's contributions (one day folder's: the union of every
/// folder's is the ledger's), given the ids corrected away.
pub fn prices_of(
    ledger: &Ledger,
    contributions: &[Box<Contribution>],
    corrected: &rustc_hash::FxHashSet<&Id>,
) -> BTreeSet<Price> {
    let mut out: BTreeSet<Price> = BTreeSet::new();
    if !contributions.iter().any(|c| c.currency().is_some()) {
        return out;
    }
    let network = network_currency(ledger).0;
    for c in contributions {
        if corrected.contains(&c.id.value) {
            continue;
        }
        if let Ok(Some(conv)) = conversion(ledger, c) {
            let date = match conv.origin {
                Origin::Record => c.date.value,
                Origin::Dated(r) => r.date.value,
            };
            out.insert((
                date,
                conv.currency.to_owned(),
                conv.rate.normalize(),
                network.to_owned(),
            ));
        }
    }
    out
}

/// The prices as hledger `P` directives (with their commodities declared, for
/// `hledger check --strict`), or nothing when there are none.
pub fn hledger_prices(prices: &[Price]) -> String {
    let mut out = String::new();
    if prices.is_empty() {
        return out;
    }
    out.push_str("\n; Exchange rates of the contributions in other currencies\n");
    let from: BTreeSet<&str> = prices.iter().map(|p| p.1.as_str()).collect();
    for c in from {
        let _ = writeln!(out, "commodity {c}");
    }
    for (date, from, rate, to) in prices {
        let _ = writeln!(out, "P {date} {from} {rate} {to}");
    }
    out
}

/// The prices as beancount `price` directives, or nothing when there are none.
pub fn beancount_prices(prices: &[Price]) -> String {
    let mut out = String::new();
    if prices.is_empty() {
        return out;
    }
    out.push_str("\n; Exchange rates of the contributions in other currencies\n");
    for (date, from, rate, to) in prices {
        let _ = writeln!(out, "{date} price {from} {rate} {to}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn converts_exactly_then_rounds_half_to_even_once() {
        // 100.00 USD at 1.0825: exactly 108.25.
        assert_eq!(
            convert(dec("100.00"), dec("1.0825"), 2),
            Some(dec("108.25"))
        );
        // 10.50 × 0.5 = 5.25 exactly; 10.50 × 0.3 = 3.15.
        assert_eq!(convert(dec("10.50"), dec("0.5"), 2), Some(dec("5.25")));
        // 0.05 × 0.5 = 0.025: half to even gives 0.02, and 0.035 gives 0.04.
        assert_eq!(convert(dec("0.05"), dec("0.5"), 2), Some(dec("0.02")));
        assert_eq!(convert(dec("0.07"), dec("0.5"), 2), Some(dec("0.04")));
        // Rounded once at the end: 3 × 0.3333 = 0.9999 → 1.00 (rounding the rate first to
        // 0.33 would give 0.99).
        assert_eq!(convert(dec("3"), dec("0.3333"), 2), Some(dec("1.00")));
        // To a currency without minor units.
        assert_eq!(convert(dec("12.34"), dec("161.5"), 0), Some(dec("1993")));
        // A product past a decimal is None, not a panic.
        assert_eq!(convert(Decimal::MAX, dec("2"), 2), None);
    }

    #[test]
    fn rounding_never_moves_more_than_half_a_unit() {
        for (a, r) in [
            ("1234.56", "0.9231"),
            ("0.01", "0.0001"),
            ("999999.99", "1.0000000001"),
        ] {
            let exact = dec(a) * dec(r);
            let got = convert(dec(a), dec(r), 2).unwrap();
            assert!((got - exact).abs() <= dec("0.005"), "{a} × {r}");
            assert!(got.scale() <= 2);
        }
    }

    #[test]
    fn prices_are_written_for_hledger_and_beancount() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let prices = vec![(d, "USD".to_owned(), dec("0.9231"), "EUR".to_owned())];
        assert_eq!(
            hledger_prices(&prices),
            "\n; Exchange rates of the contributions in other currencies\ncommodity USD\nP 2026-01-31 USD 0.9231 EUR\n"
        );
        assert_eq!(
            beancount_prices(&prices),
            "\n; Exchange rates of the contributions in other currencies\n2026-01-31 price USD 0.9231 EUR\n"
        );
        assert_eq!(hledger_prices(&[]), "");
        assert_eq!(beancount_prices(&[]), "");
    }
}
