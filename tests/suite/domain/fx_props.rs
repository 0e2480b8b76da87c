//! Contributions in another currency (issue 17), property-tested on inline ledgers: with
//! random amounts and random exchange rates (on the record or from dated rate records), in
//! networks with 0, 2 or 3 minor units, a payout still sums exactly to its revenue, every line
//! is whole minor units, and no debt is ever repaid more than its converted amount, over a
//! run of payouts that each settle what the one before paid.

use std::collections::BTreeMap;

use crate::common::inline::ledger_on_base;
use ovn::core::fx;
use ovn::core::payout::{self, Request, Settled};
use ovn::core::record::ClaimKind;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

/// One money contribution in USD: cents, the rate's digits and places, and whether the rate
/// is written on the record (else a dated rate record gives it).
type Spec = (i64, u64, u32, bool);

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (
            1i64..10_000_000,
            1u64..10_000_000_000,
            0u32..=10,
            any::<bool>(),
        ),
        1..12,
    )
}

/// The rate `digits × 10^-places`, kept within the bound of 10^6.
fn rate(digits: u64, places: u32) -> Decimal {
    let r = Decimal::new(digits as i64, places);
    if r > fx::MAX_RATE {
        Decimal::new(digits as i64 % 1_000_000 + 1, 0)
    } else {
        r
    }
}

/// The network in `currency`, and `specs` as contributions of ben to drone on successive
/// days of March 2026; the dated ones each have their own USD rate record dated that day.
fn files(currency: &str, specs: &[Spec]) -> (Vec<(String, String)>, BTreeMap<String, Decimal>) {
    let mut files = vec![(
        "ovn.toml".to_owned(),
        format!(
            "format = 1\nname = \"Fablab Commons\"\ncurrency = \"{currency}\"\nvalidated_branch = \"main\"\nleftover = \"fablab-fund\"\n"
        ),
    )];
    // The base ledger's ben 400.00 money contribution is in the network currency, which
    // may have fewer places: give it its currency explicitly.
    files.push((
        "contributions/2026/03/12/01aaaaaaaaaaaaaaaaaaaaaaa4.toml".to_owned(),
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\nagent = \"ben\"\ndate = 2026-03-12\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Bought motors and sensors\"\namount = \"400\"\n".to_owned(),
    ));
    let mut rates = BTreeMap::new();
    for (k, &(cents, digits, places, on_record)) in specs.iter().enumerate() {
        let id = format!("01fx{k:022}");
        let day = k + 1;
        let r = rate(digits, places);
        let amount = Decimal::new(cents, 2);
        let mut text = format!(
            "id = \"{id}\"\nagent = \"ben\"\ndate = 2026-04-{day:02}\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Abroad\"\namount = \"{amount}\"\ncurrency = \"USD\"\n"
        );
        if on_record {
            text.push_str(&format!("rate = \"{r}\"\n"));
        } else {
            files.push((
                format!("rates/2026/usd-{day:02}.toml"),
                format!(
                    "id = \"usd-{day:02}\"\ndate = 2026-04-{day:02}\nfrom = \"USD\"\nto = \"{currency}\"\nrate = \"{r}\"\n"
                ),
            ));
        }
        files.push((format!("contributions/2026/04/{day:02}/{id}.toml"), text));
        rates.insert(id, amount * r);
    }
    (files, rates)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn converted_payouts_sum_exactly_and_never_overpay_a_debt(
        specs in specs(),
        network in prop::sample::select(vec![("EUR", 2u32), ("JPY", 0), ("KWD", 3)]),
        revenues in prop::collection::vec(1i64..100_000_000, 1..4),
    ) {
        let (currency, mu) = network;
        let (files, exact) = files(currency, &specs);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let ledger = ledger_on_base(&refs);
        let unit = Decimal::new(1, mu);
        let mut settled: Vec<Settled> = Vec::new();
        for cents in revenues {
            let revenue = Decimal::new(cents, 2).round_dp_with_strategy(mu, RoundingStrategy::ToZero).max(unit);
            let p = payout::compute(&ledger, &Request { project: "drone", amount: revenue, date: None }, &settled).unwrap();
            prop_assert_eq!(p.sum(), revenue);
            prop_assert!(p.lines.iter().all(|l| l.amount.scale() <= mu && l.amount >= Decimal::ZERO));
            prop_assert!(p.left_out.iter().all(|l| l.reason != payout::Reason::NoExchangeRate));
            settled.extend(p.settled());
            // What every converted debt has been repaid so far: never beyond its amount in
            // the network currency, rounded once (half to even) from amount × rate.
            for (id, exact) in &exact {
                let owed = exact.round_dp_with_strategy(mu, RoundingStrategy::MidpointNearestEven);
                prop_assert!((owed - exact).abs() * Decimal::TWO <= unit);
                let repaid: Decimal = settled
                    .iter()
                    .filter(|s| s.contribution.as_str() == id && s.kind == ClaimKind::Debt)
                    .map(|s| s.amount)
                    .sum();
                prop_assert!(repaid <= owed, "{id}: repaid {repaid} of {owed}");
            }
        }
    }
}

#[test]
fn the_latest_rate_on_or_before_the_day_applies() {
    let files = [
        (
            "rates/2026/usd-a.toml",
            "id = \"usd-a\"\ndate = 2026-03-01\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.9\"\n",
        ),
        (
            "rates/2026/usd-b.toml",
            "id = \"usd-b\"\ndate = 2026-03-10\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.8\"\n",
        ),
        (
            "rates/2026/usd-c.toml",
            "id = \"usd-c\"\ndate = 2026-03-20\nfrom = \"USD\"\nto = \"EUR\"\nrate = \"0.7\"\n",
        ),
        (
            "rates/2026/chf-a.toml",
            "id = \"chf-a\"\ndate = 2026-03-15\nfrom = \"CHF\"\nto = \"EUR\"\nrate = \"1.05\"\n",
        ),
    ];
    let ledger = ledger_on_base(&files);
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let at = |from: &str, d: u32| {
        fx::dated(&ledger, from, "EUR", day(d)).map(|r| r.id.value.to_string())
    };
    assert_eq!(at("USD", 1).as_deref(), Some("usd-a"));
    assert_eq!(at("USD", 9).as_deref(), Some("usd-a"));
    assert_eq!(at("USD", 10).as_deref(), Some("usd-b"));
    assert_eq!(at("USD", 31).as_deref(), Some("usd-c"));
    assert_eq!(
        fx::dated(
            &ledger,
            "USD",
            "EUR",
            chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        ),
        None
    );
    assert_eq!(at("CHF", 14), None);
    assert_eq!(at("CHF", 15).as_deref(), Some("chf-a"));
    assert_eq!(at("GBP", 31), None);
}
