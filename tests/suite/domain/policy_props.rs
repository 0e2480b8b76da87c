//! Decay, lookback and balanced buckets over random ledgers and random schedules, payout after
//! recorded payout: every payout still sums exactly to its revenue, debts are never paid past
//! what is owed, decay never raises a weight, and a balanced bucket never pays anyone past
//! their share of all it has paid while someone else is below theirs.

use crate::common::inline::{d, ledger as load, payout_every_way};

use chrono::NaiveDate;
use ovn::core::ledger::Ledger;
use ovn::core::payout::{self, Request};
use ovn::core::record::ClaimKind;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A decay schedule as TOML: steps of growing ages (months) and factors that never grow
/// (hundredths), the last one open-ended when `open`.
fn schedule_text(steps: &[(u32, u32)], open: bool) -> String {
    let mut months = 0;
    let mut factor = 100;
    let mut out = Vec::new();
    for (i, (add, drop)) in steps.iter().enumerate() {
        months += add;
        factor -= (*drop).min(factor);
        let f = Decimal::new(i64::from(factor), 2);
        if open && i + 1 == steps.len() {
            out.push(format!("{{ factor = \"{f}\" }}"));
        } else {
            out.push(format!("{{ until = \"{months}m\", factor = \"{f}\" }}"));
        }
    }
    format!("decay = [{}]", out.join(", "))
}

/// Agents ana, ben and cy; work and money contributions (agent, kind, day offset, quantity);
/// an agreement with a debt bucket, a balanced bucket with `decay` and an equity bucket with
/// a `lookback`.
fn policy_ledger(spec: &[(u8, bool, u32, u32)], decay: &str, lookback: u32) -> Ledger {
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
                 [[buckets]]\nname = \"shared\"\nshare = \"40%\"\npolicy = \"balanced\"\n{decay}\n\
                 [[buckets.rules]]\nkind = \"work\"\n\n\
                 [[buckets]]\nname = \"recent\"\nshare = \"rest\"\nlookback = \"{lookback}m\"\n\
                 [[buckets.rules]]\nkind = \"work\"\n"
            ),
        ),
    ];
    for a in ["ana", "ben", "cy"] {
        files.push((
            format!("agents/{a}.toml"),
            format!("id = \"{a}\"\nname = \"{a}\"\nkind = \"person\"\nemails = []\n"),
        ));
    }
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for (i, (agent, money, offset, qty)) in spec.iter().enumerate() {
        let id = format!("01p{i:023}");
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
                1 + qty % 11,
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

fn spec() -> impl Strategy<Value = Vec<(u8, bool, u32, u32)>> {
    prop::collection::vec((0u8..3, any::<bool>(), 0u32..2400, 1u32..100_000), 1..30)
}

fn steps() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop::collection::vec((1u32..30, 0u32..60), 1..5)
}

/// Payouts on the days given, each recorded into the ledger before the next is computed.
fn rounds() -> impl Strategy<Value = Vec<(u32, i64)>> {
    prop::collection::vec((0u32..3000, 1i64..10_000_000), 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn policies_keep_payouts_exact_and_fair(
        spec in spec(),
        steps in steps(),
        open in any::<bool>(),
        lookback in 1u32..48,
        rounds in rounds(),
    ) {
        let mut ledger = policy_ledger(&spec, &schedule_text(&steps, open), lookback);
        let unit = Decimal::new(1, 2);
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let mut repaid: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut offsets: Vec<u32> = rounds.iter().map(|r| r.0).collect();
        offsets.sort_unstable();
        for (n, (offset, cents)) in offsets.iter().zip(rounds.iter().map(|r| r.1)).enumerate() {
            let revenue = Decimal::new(cents, 2);
            let date = start + chrono::Days::new(u64::from(*offset));
            let request = Request { project: "p", amount: revenue, date: Some(date) };
            let settled = payout::settled_by_records(&ledger);
            let p = payout_every_way(&ledger, &request, &settled);
            // Exact: the lines sum to the revenue, each bucket's to what it paid.
            prop_assert_eq!(p.sum(), revenue);
            for b in &p.buckets {
                prop_assert_eq!(b.paid + b.returned, b.budget);
                prop_assert_eq!(b.lines.iter().map(|l| l.2).sum::<Decimal>(), b.paid);
                for c in &b.claims {
                    // Decay never raises a weight, and never touches a debt.
                    match c.kind {
                        ClaimKind::Debt => prop_assert!(c.decay.is_none()),
                        _ => prop_assert!(c.weight <= c.value, "{} > {}", c.weight, c.value),
                    }
                    if let Some((factor, _)) = &c.decay {
                        prop_assert!(*factor > Decimal::ZERO && *factor <= Decimal::ONE);
                    }
                    if c.kind == ClaimKind::Debt {
                        *repaid.entry(c.contribution.to_string()).or_default() += c.amount;
                    }
                }
            }
            // Balanced: nobody is paid past their target (but for the rounding unit) while
            // anyone is below theirs; nobody at or above target is paid at all.
            let shared = &p.buckets[1];
            let paid: BTreeMap<&str, Decimal> =
                shared.lines.iter().map(|l| (l.0.as_str(), l.2)).collect();
            for r in &shared.balance {
                let now = paid.get(r.agent.as_str()).copied().unwrap_or_default();
                // (Someone already past their target, as decay or a new claim can leave
                // them, is paid nothing.)
                prop_assert!(now.is_zero() || r.received + now <= r.target + unit,
                    "{} paid {} past target {} (received {})", r.agent, now, r.target, r.received);
                if r.underpaid.is_zero() {
                    prop_assert_eq!(now, Decimal::ZERO);
                }
            }
            if !shared.balance.is_empty() && shared.budget > Decimal::ZERO {
                let under: Decimal = shared.balance.iter().map(|r| r.underpaid).sum();
                prop_assert!(under + unit >= shared.budget, "{} < {}", under, shared.budget);
            }
            let id = ovn::core::value::Id::parse(&format!("01pp{n:022}")).unwrap();
            let record = payout::record(&p, id, date, None, "0".repeat(40), String::new());
            ledger.payouts.push(record);
        }
        // Debts: never more than owed (no cap: the amount).
        for c in &ledger.contributions {
            if let (Some(amount), Some(paid)) = (c.amount, repaid.get(c.id.value.as_str())) {
                prop_assert!(*paid <= amount, "{} repaid {} of {}", c.id.value, paid, amount);
            }
        }
    }
}

/// An agreement reads back its schedule exactly, and a bad schedule is refused at its step
/// and field.
#[test]
fn the_schedule_used_by_the_properties_reads() {
    let ledger = policy_ledger(
        &[(0, false, 10, 5)],
        &schedule_text(&[(12, 50), (12, 25)], true),
        6,
    );
    let shared = &ledger.agreements[0].buckets[1];
    let steps = &shared.decay.as_ref().unwrap().steps;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].factor, d("0.5"));
    assert_eq!(steps[1].until, None);
}

/// The problems `ovn check` reports for an agreement whose bucket reads `bucket` (TOML
/// lines after `name` and `share`), each as (line, message).
fn problems(bucket: &str) -> Vec<(usize, String)> {
    let text = format!(
        "id = \"a\"\nname = \"A\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"30\"\n\n\
         [[buckets]]\nname = \"shared\"\nshare = \"rest\"\n{bucket}\n"
    );
    let files = vec![
        ovn::core::ledger::RawFile {
            path: "ovn.toml".into(),
            bytes: b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"ana\"\n".to_vec(),
        },
        ovn::core::ledger::RawFile {
            path: "agreements/a.toml".into(),
            bytes: text.clone().into_bytes(),
        },
    ];
    let loaded = ovn::core::ledger::load(&files);
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.path == "agreements/a.toml")
        .map(|d| (d.locate(Some(&text)).line, d.message.clone()))
        .collect()
}

#[test]
fn bad_schedules_are_refused_at_their_step_and_field() {
    let rule = "[[buckets.rules]]\nkind = \"work\"\n";
    let found = problems(&format!(
        "decay = [\n  {{ until = \"2y\", factor = \"1.5\" }},\n  {{ until = \"1y\", factor = \"0.5\" }},\n  \
         {{ until = \"3y\", factor = \"0.75\" }},\n  {{ until = \"2 years\", factor = \"0\" }},\n]\n{rule}"
    ));
    assert_eq!(
        found,
        vec![(
            15,
            "`until` = \"2 years\" is not an age such as \"18m\" or \"2y\" (whole months or years)"
                .to_owned()
        ),],
        "a malformed age is told first, alone"
    );
    let found = problems(&format!(
        "decay = [\n  {{ until = \"2y\", factor = \"1.5\" }},\n  {{ until = \"1y\", factor = \"0.5\" }},\n  \
         {{ until = \"3y\", factor = \"0.75\" }},\n]\n{rule}"
    ));
    assert_eq!(
        found,
        vec![
            (12, "buckets[1].decay[1]: a decay factor is between 0 and 1, found 1.5".to_owned()),
            (13, "buckets[1].decay[2]: decay steps go from young to old: `until` = \"1y\" is not after the step before (\"2y\")".to_owned()),
            (14, "buckets[1].decay[3]: decay never raises a weight: factor 0.75 is larger than the step before (0.5)".to_owned()),
        ]
    );
    let found = problems(&format!("lookback = \"12\"\n{rule}"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 11);
    assert!(
        found[0].1.starts_with("`lookback` = \"12\" is not an age"),
        "{found:?}"
    );
    // Debts never decay, on the bucket or on a rule; a balanced bucket shares equity only.
    let found = problems(&format!("claim = \"debt\"\nlookback = \"1y\"\n{rule}"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 12);
    assert!(found[0].1.starts_with("debts never decay"), "{found:?}");
    let found = problems(
        "decay = [{ until = \"1y\", factor = \"1\" }]\n[[buckets.rules]]\nkind = \"money\"\nclaim = \"debt\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 14);
    assert!(found[0].1.starts_with("debts never decay"), "{found:?}");
    let found =
        problems("policy = \"balanced\"\nclaim = \"once\"\n[[buckets.rules]]\nkind = \"work\"\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1.as_str()),
        (
            11,
            "a balanced bucket shares equity claims, not once claims"
        )
    );
    let found = problems("to = \"ana\"\npolicy = \"balanced\"\n");
    assert!(
        found
            .iter()
            .any(|(l, m)| *l == 12 && m == "a bucket paid `to` one agent has nobody to balance"),
        "{found:?}"
    );
}

/// Agents ana, ben and cy; work and money contributions as in [`policy_ledger`]; an agreement
/// with a debt bucket for money and a pie of work frozen `freeze` days after 2020-01-01,
/// later work paid as debt at `rate` (or, without a rate, not counted). With `only_before`,
/// the contributions dated on or after the freeze are left out (the others keep their ids).
fn frozen_ledger(
    spec: &[(u8, bool, u32, u32)],
    freeze: u32,
    rate: Option<Decimal>,
    only_before: bool,
) -> Ledger {
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let from = start + chrono::Days::new(u64::from(freeze));
    let after = match rate {
        Some(r) => format!("after = \"debt\", rate = \"{r}\""),
        None => "after = \"none\"".to_owned(),
    };
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
                 [[buckets]]\nname = \"pie\"\nshare = \"rest\"\n\
                 freeze = {{ from = {from}, {after} }}\n\
                 [[buckets.rules]]\nkind = \"work\"\nmultiplier = \"2\"\n"
            ),
        ),
    ];
    for a in ["ana", "ben", "cy"] {
        files.push((
            format!("agents/{a}.toml"),
            format!("id = \"{a}\"\nname = \"{a}\"\nkind = \"person\"\nemails = []\n"),
        ));
    }
    for (i, (agent, money, offset, qty)) in spec.iter().enumerate() {
        if only_before && *offset >= freeze {
            continue;
        }
        let id = format!("01p{i:023}");
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
                1 + qty % 11,
                qty % 10
            ),
        };
        files.push((
            format!("contributions/{}/{id}.toml", date.format("%Y/%m/%d")),
            format!("id = \"{id}\"\nagent = \"{agent}\"\ndate = {date}\nproject = \"p\"\n{body}"),
        ));
    }
    let ledger = load(&files);
    assert!(ledger.agreements[0].buckets[1].freeze.is_some());
    ledger
}

/// The equity claims of the pie bucket: (contribution, weight).
fn equity_weights(p: &payout::Payout) -> Vec<(String, Decimal)> {
    p.buckets[1]
        .claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Equity)
        .map(|c| (c.contribution.to_string(), c.weight))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Issue 18, freeze: payout after recorded payout, every payout sums exactly, no debt
    /// (money or frozen work) is ever repaid past what is owed, frozen debts are paid in full
    /// before any equity claim of the pie is paid, and no contribution dated on or after the
    /// freeze changes an equity weight: the pie's equity claims are those of the same ledger
    /// without any of them.
    #[test]
    fn a_freeze_keeps_payouts_exact_debts_within_owed_and_weights_fixed(
        spec in spec(),
        freeze in 0u32..2400,
        rate in prop::option::of(1i64..20_000),
        rounds in rounds(),
    ) {
        let rate = rate.map(|r| Decimal::new(r, 2));
        let mut ledger = frozen_ledger(&spec, freeze, rate, false);
        let unfrozen = frozen_ledger(&spec, freeze, rate, true);
        let unit = Decimal::new(1, 2);
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let from = start + chrono::Days::new(u64::from(freeze));
        let mut repaid: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut offsets: Vec<u32> = rounds.iter().map(|r| r.0).collect();
        offsets.sort_unstable();
        for (n, (offset, cents)) in offsets.iter().zip(rounds.iter().map(|r| r.1)).enumerate() {
            let revenue = Decimal::new(cents, 2);
            let date = start + chrono::Days::new(u64::from(*offset));
            let request = Request { project: "p", amount: revenue, date: Some(date) };
            let settled = payout::settled_by_records(&ledger);
            let p = payout_every_way(&ledger, &request, &settled);
            prop_assert_eq!(p.sum(), revenue);
            for b in &p.buckets {
                prop_assert_eq!(b.paid + b.returned, b.budget);
                prop_assert_eq!(b.lines.iter().map(|l| l.2).sum::<Decimal>(), b.paid);
                for c in &b.claims {
                    if c.kind == ClaimKind::Debt {
                        *repaid.entry(c.contribution.to_string()).or_default() += c.amount;
                    }
                }
            }
            let pie = &p.buckets[1];
            let by_id = |id: &str| ledger.contributions.iter().find(|c| c.id.value.as_str() == id).unwrap();
            for c in &pie.claims {
                let day = by_id(c.contribution.as_str()).date.value;
                match c.kind {
                    ClaimKind::Equity => prop_assert!(day < from, "equity after the freeze"),
                    _ => prop_assert!(day >= from && rate.is_some()),
                }
            }
            // Frozen debts go first: equity is paid only once every debt took its balance.
            if pie.claims.iter().any(|c| c.kind == ClaimKind::Equity && c.amount > Decimal::ZERO) {
                for c in pie.claims.iter().filter(|c| c.kind == ClaimKind::Debt) {
                    let owed = c.outstanding.unwrap();
                    prop_assert!(c.amount + unit >= owed, "debt {} paid {} of {}", c.contribution, c.amount, owed);
                }
            }
            // Weights as of the freeze: the same as without any later contribution.
            let without = payout::compute(&unfrozen, &request, &[]).unwrap();
            prop_assert_eq!(equity_weights(&p), equity_weights(&without));
            let id = ovn::core::value::Id::parse(&format!("01pp{n:022}")).unwrap();
            let record = payout::record(&p, id, date, None, "0".repeat(40), String::new());
            ledger.payouts.push(record);
        }
        // Debts: never more than owed (money: its amount; frozen work: hours × rate).
        for c in &ledger.contributions {
            let Some(paid) = repaid.get(c.id.value.as_str()) else { continue };
            let owed = match (c.amount, &c.hours, rate) {
                (Some(amount), _, _) => amount,
                (None, Some(h), Some(r)) => (h.value * r).round_dp(2),
                _ => Decimal::ZERO,
            };
            prop_assert!(*paid <= owed, "{} repaid {} of {}", c.id.value, paid, owed);
        }
    }
}

#[test]
fn bad_freezes_are_refused_at_their_field() {
    let rule = "[[buckets.rules]]\nkind = \"work\"\n";
    let cases: [(&str, &str); 7] = [
        (
            "after = \"loan\", rate = \"25\"",
            "`after` cannot be \"loan\"",
        ),
        (
            "after = \"debt\"",
            "buckets[1].freeze: `after = \"debt\"` needs a `rate`",
        ),
        ("after = \"debt\", rate = \"0\"", "`rate`"),
        ("after = \"debt\", rate = \"-5\"", "`rate`"),
        (
            "after = \"none\", rate = \"5\"",
            "buckets[1].freeze: `rate` goes with `after = \"debt\"`",
        ),
        (
            "after = \"none\", until = 2027-01-01",
            "unknown field `until` in buckets[1].freeze",
        ),
        (
            "after = \"none\"",
            "buckets[1].freeze: a frozen bucket's weights are fixed as of the freeze date: it takes no `decay` or `lookback`",
        ),
    ];
    for (i, (terms, message)) in cases.iter().enumerate() {
        let extra = if i == 6 { "lookback = \"12m\"\n" } else { "" };
        let found = problems(&format!(
            "{extra}freeze = {{ from = 2026-06-01, {terms} }}\n{rule}"
        ));
        assert_eq!(found.len(), 1, "{terms}: {found:?}");
        assert_eq!(found[0].0, 11 + usize::from(i == 6), "{terms}: {found:?}");
        assert!(found[0].1.contains(message), "{terms}: {found:?}");
    }
    // A freeze date that is not a date.
    for from in ["\"June\"", "2026-02-30", "2026-06-01T10:00:00"] {
        let found = problems(&format!(
            "freeze = {{ from = {from}, after = \"none\" }}\n{rule}"
        ));
        assert_eq!(found.len(), 1, "{from}: {found:?}");
        assert_eq!(found[0].0, 11, "{from}: {found:?}");
        // (2026-02-30 is refused by the TOML reader itself, at its line.)
        assert!(
            found[0].1.contains("`from`") || found[0].1.contains("not a real calendar date"),
            "{from}: {found:?}"
        );
    }
    // A bucket paid to one agent, a debt bucket, a balanced bucket paying debt.
    let found = problems("to = \"ana\"\nfreeze = { from = 2026-06-01, after = \"none\" }\n");
    assert!(
        found
            .iter()
            .any(|(l, m)| *l == 12 && m.contains("has no claims to freeze")),
        "{found:?}"
    );
    let found = problems(&format!(
        "claim = \"debt\"\nfreeze = {{ from = 2026-06-01, after = \"none\" }}\n{rule}"
    ));
    assert!(
        found
            .iter()
            .any(|(l, m)| *l == 12 && m.contains("no equity claims")),
        "{found:?}"
    );
    let found = problems(&format!(
        "policy = \"balanced\"\nfreeze = {{ from = 2026-06-01, after = \"debt\", rate = \"5\" }}\n{rule}"
    ));
    assert!(
        found
            .iter()
            .any(|(l, m)| *l == 12 && m.contains("a balanced bucket shares equity claims only")),
        "{found:?}"
    );
    assert!(
        problems(&format!(
            "policy = \"balanced\"\nfreeze = {{ from = 2026-06-01, after = \"none\" }}\n{rule}"
        ))
        .is_empty()
    );
}
