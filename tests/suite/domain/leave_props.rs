//! Leaver terms over random ledgers: with a bad leaver whose work is forfeited or bought back
//! at a random factor, every payout still sums exactly to its revenue, the leaver's debts are
//! repaid in full exactly as if it had never left, and the weight it loses goes to the others
//! in proportion to their weights.

use crate::common::inline::ledger as load;

use chrono::NaiveDate;
use ovn::core::ledger::Ledger;
use ovn::core::payout::{self, Payout, Request};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// cy leaves (bad) on 2021-01-01; contributions (agent, money?, day offset before that,
/// quantity); `term` is cy's bad-leaver term for work. Without `departed`, cy never left.
fn leave_ledger(spec: &[(u8, bool, u32, u32)], term: &str, departed: bool) -> Ledger {
    let mut files: Vec<(String, String)> = vec![
        (
            "ovn.toml".into(),
            "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"ana\"\n".into(),
        ),
        (
            "projects/p.toml".into(),
            "id = \"p\"\nname = \"P\"\nagreement = \"a\"\nstewards = [\"ana\"]\n".into(),
        ),
        (
            "agreements/a.toml".into(),
            format!(
                "id = \"a\"\nname = \"A\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"30\"\n\n\
                 [[buckets]]\nname = \"reimbursement\"\nshare = \"30%\"\nclaim = \"debt\"\n\
                 [[buckets.rules]]\nkind = \"money\"\n\n\
                 [[buckets]]\nname = \"equity\"\nshare = \"rest\"\n\
                 [[buckets.rules]]\nkind = \"work\"\n\n\
                 [leaving.bad]\nwork = \"{term}\"\n"
            ),
        ),
    ];
    for a in ["ana", "ben", "cy"] {
        let away = match (a, departed) {
            ("cy", true) => "\n[[departures]]\nleft = 2021-01-01\nreason = \"bad\"\n",
            _ => "",
        };
        files.push((
            format!("agents/{a}.toml"),
            format!("id = \"{a}\"\nname = \"{a}\"\nkind = \"person\"\nemails = []\n{away}"),
        ));
    }
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for (i, (agent, money, offset, qty)) in spec.iter().enumerate() {
        let id = format!("01q{i:023}");
        let agent = ["ana", "ben", "cy"][*agent as usize % 3];
        let date = start + chrono::Days::new(u64::from(*offset));
        let body = match money {
            true => format!(
                "kind = \"money\"\ndescription = \"m\"\namount = \"{}.{:02}\"\n",
                1 + qty % 3000,
                qty % 100
            ),
            false => format!(
                "kind = \"work\"\ndescription = \"w\"\nhours = \"{}.{}\"\n",
                // At most 7.9 hours: three on one day stay within 24.
                1 + qty % 7,
                qty % 10
            ),
        };
        files.push((
            format!("contributions/{}/{id}.toml", date.format("%Y/%m/%d")),
            format!("id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"p\"\n{body}"),
        ));
    }
    load(&files)
}

/// Each agent's summed claim weights in `bucket`.
fn weights(p: &Payout, bucket: &str) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for c in &p.buckets.iter().find(|b| b.name == bucket).unwrap().claims {
        *out.entry(c.agent.to_string()).or_default() += c.weight;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_leavers_lost_weight_goes_to_the_others_in_proportion(
        // Every contribution is dated in 2020, before cy leaves.
        spec in prop::collection::vec((0u8..3, any::<bool>(), 0u32..366, 1u32..100_000), 1..30),
        factor in prop::option::of(0u32..=100),
        cents in 1i64..10_000_000,
    ) {
        let term = match factor {
            None => "forfeit".to_owned(),
            Some(f) => format!("buy-back {}", Decimal::new(i64::from(f), 2)),
        };
        let amount = Decimal::new(cents, 2);
        let request = Request {
            project: "p",
            amount,
            date: NaiveDate::from_ymd_opt(2021, 6, 1),
        };
        let stayed = leave_ledger(&spec, &term, false);
        let left = leave_ledger(&spec, &term, true);
        let before = payout::compute(&stayed, &request, &[]).unwrap();
        let after = payout::compute(&left, &request, &[]).unwrap();
        // Exact sums.
        prop_assert_eq!(after.sum(), amount);
        // Debts (cy's included) are repaid exactly as if cy had never left.
        prop_assert_eq!(&before.buckets[0].lines, &after.buckets[0].lines);
        prop_assert_eq!(before.buckets[1].budget, after.buckets[1].budget);
        // cy's work weighs the term's factor; the others' weights are unchanged.
        let f = factor.map_or(Decimal::ZERO, |f| Decimal::new(i64::from(f), 2));
        let (w0, w1) = (weights(&before, "equity"), weights(&after, "equity"));
        for (agent, w) in &w0 {
            let expected = if agent == "cy" { *w * f } else { *w };
            prop_assert_eq!(w1.get(agent).copied().unwrap_or_default(), expected);
        }
        // The budget is split over the weights that remain: each agent's exact share is
        // budget × its weight / what remains, so the others share cy's loss pro rata.
        let equity = &after.buckets[1];
        let total: Decimal = w1.values().copied().sum();
        if total > Decimal::ZERO {
            for (agent, exact, amount) in &equity.lines {
                let w = w1.get(agent.as_str()).copied().unwrap_or_default();
                let want = equity.budget * w / total;
                prop_assert!((*exact - want).abs() < Decimal::new(1, 12), "{agent}: {exact} vs {want}");
                prop_assert!((*amount - want).abs() < Decimal::new(1, 2), "{agent}: {amount} vs {want}");
            }
        }
        // The leaver never gains from leaving; each other agent never loses.
        let total_of = |p: &Payout, a: &str| {
            p.totals.iter().find(|(x, _)| x.as_str() == a).map_or(Decimal::ZERO, |t| t.1)
        };
        prop_assert!(total_of(&after, "cy") <= total_of(&before, "cy"));
        for a in ["ana", "ben"] {
            prop_assert!(total_of(&after, a) + Decimal::new(1, 2) >= total_of(&before, a));
        }
    }
}
