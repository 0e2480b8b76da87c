//! Sub-project cascades as properties (issue 17): a random cascade of up to three levels sums
//! exactly to the revenue at every level, each sub-payout to the line it shares, and no debt
//! is ever repaid beyond what it is owed, across the levels of one cascade (a project reached
//! twice) and across cascades recorded one after the other.

use std::collections::BTreeMap;

use crate::common::inline::{d, ledger_on_base};

use ovn::core::cascade;
use ovn::core::payout::{self, Request, Settled};
use ovn::core::value::Id;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// The shape of one random cascade: the top project (the base ledger's drone) pays `lab` a
/// percent; the lab pays `fund` a percent and, with `diamond`, the drone pays `fund` too.
#[derive(Clone, Debug)]
struct Shape {
    to_lab: u32,
    to_fund: u32,
    diamond: Option<u32>,
    /// (agent index, hours or amount in cents, is money) per project.
    lab: Vec<(usize, u32, bool)>,
    fund: Vec<(usize, u32, bool)>,
    revenue: i64,
}

const AGENTS: [&str; 3] = ["ana", "ben", "cy"];

fn contributions(project: &str, list: &[(usize, u32, bool)], files: &mut Vec<(String, String)>) {
    for (n, &(agent, size, money)) in list.iter().enumerate() {
        let id = format!("01{}{n:023}", if project == "lab" { 'a' } else { 'b' });
        let body = if money {
            format!(
                "kind = \"money\"\ndescription = \"Lent\"\namount = \"{}\"\n",
                Decimal::new(i64::from(size), 2)
            )
        } else {
            format!(
                "kind = \"work\"\ndescription = \"Worked\"\nhours = \"{}\"\n",
                size % 8 + 1
            )
        };
        files.push((
            format!("contributions/2026/04/{:02}/{id}.toml", n + 1),
            format!(
                "id = \"{id}\"\nagent = \"{}\"\ndate = 2026-04-{:02}\nproject = \"{project}\"\n{body}",
                AGENTS[agent],
                n + 1
            ),
        ));
    }
}

fn agreement(id: &str, to: &[(&str, u32)]) -> String {
    let mut text = format!("id = \"{id}\"\nname = \"{id}\"\n\n[rates]\nwork = \"25\"\n");
    for (project, share) in to {
        text.push_str(&format!(
            "\n[[buckets]]\nname = \"to-{project}\"\nshare = \"{share}%\"\nto_project = \"{project}\"\n"
        ));
    }
    text.push_str("\n[[buckets]]\nname = \"loans\"\nshare = \"40%\"\nof = \"remaining\"\nclaim = \"debt\"\n\n[[buckets.rules]]\nkind = \"money\"\n");
    text.push_str("\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n");
    text
}

fn files(shape: &Shape) -> Vec<(String, String)> {
    let mut drone_to = vec![("lab", shape.to_lab)];
    if let Some(p) = shape.diamond {
        drone_to.push(("fund", p));
    }
    let mut out = vec![
        (
            "agreements/drone-ve.toml".to_owned(),
            agreement("drone-ve", &drone_to),
        ),
        (
            "agreements/lab-ve.toml".to_owned(),
            agreement("lab-ve", &[("fund", shape.to_fund)]),
        ),
        (
            "agreements/fund-ve.toml".to_owned(),
            agreement("fund-ve", &[]),
        ),
        (
            "projects/lab.toml".to_owned(),
            "id = \"lab\"\nname = \"Lab\"\nagreement = \"lab-ve\"\n".to_owned(),
        ),
        (
            "projects/fund.toml".to_owned(),
            "id = \"fund\"\nname = \"Fund\"\nagreement = \"fund-ve\"\n".to_owned(),
        ),
    ];
    contributions("lab", &shape.lab, &mut out);
    contributions("fund", &shape.fund, &mut out);
    out
}

fn shape() -> impl Strategy<Value = Shape> {
    let list = prop::collection::vec((0..3usize, 1..200_000u32, any::<bool>()), 0..5);
    (
        1..60u32,
        1..60u32,
        prop::option::of(1..40u32),
        list.clone(),
        list,
        1..2_000_000i64,
    )
        .prop_map(|(to_lab, to_fund, diamond, lab, fund, revenue)| Shape {
            to_lab,
            to_fund,
            diamond,
            lab,
            fund,
            revenue,
        })
}

/// What every debt claim of the ledger may be repaid in all (its value, cap 1).
fn owed(ledger: &ovn::core::ledger::Ledger) -> BTreeMap<Id, Decimal> {
    ledger
        .contributions
        .iter()
        .filter_map(|c| c.amount.map(|a| (c.id.value.clone(), a)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_cascade_sums_exactly_at_every_level_and_never_overpays(shape in shape()) {
        let extra = files(&shape);
        let extra: Vec<(&str, &str)> = extra.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let ledger = ledger_on_base(&extra);
        let owed = owed(&ledger);
        let mut settled: Vec<Settled> = Vec::new();
        // Two revenue events one after the other, the second seeing what the first settled.
        for round in 0..2 {
            let revenue = Decimal::new(shape.revenue * (round + 1), 2);
            let request = Request { project: "drone", amount: revenue, date: None };
            let c = cascade::compute(&ledger, &request, &settled, payout::Options::default()).unwrap();
            prop_assert_eq!(c.top().amount, revenue);
            prop_assert!(c.levels.len() <= 4, "{} levels", c.levels.len());
            let mut leaves = Decimal::ZERO;
            for (n, level) in c.levels.iter().enumerate() {
                let p = &level.payout;
                prop_assert!(level.depth <= 2);
                // Every level sums exactly to its budget, every bucket to its own.
                prop_assert_eq!(p.sum(), p.amount);
                for b in &p.buckets {
                    let lines: Decimal = b.lines.iter().map(|l| l.2).sum();
                    prop_assert_eq!(lines, b.paid);
                }
                if let Some((parent, line)) = level.parent {
                    prop_assert!(parent < n);
                    prop_assert_eq!(c.levels[parent].payout.lines[line].amount, p.amount);
                    prop_assert_eq!(
                        cascade::line_project(&ledger, &c.levels[parent].payout, line),
                        Some(&p.project)
                    );
                }
                for (i, l) in p.lines.iter().enumerate() {
                    if cascade::line_project(&ledger, p, i).is_none() {
                        leaves += l.amount;
                    }
                }
                settled.extend(p.settled());
            }
            // What reaches agents is exactly the revenue: nothing lost or made up on the way.
            prop_assert_eq!(leaves, revenue);
            let mut repaid: BTreeMap<&Id, Decimal> = BTreeMap::new();
            for s in &settled {
                *repaid.entry(&s.contribution).or_default() += s.amount;
            }
            for (id, total) in repaid {
                prop_assert!(total <= owed[id], "{id} repaid {total}, owed {}", owed[id]);
            }
        }
    }
}

#[test]
fn a_project_reached_twice_repays_its_debt_once() {
    let shape = Shape {
        to_lab: 50,
        to_fund: 50,
        diamond: Some(30),
        lab: Vec::new(),
        fund: vec![(1, 10_000, true)],
        revenue: 100_000,
    };
    let extra = files(&shape);
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let ledger = ledger_on_base(&extra);
    let request = Request {
        project: "drone",
        amount: d("1000.00"),
        date: None,
    };
    let c = cascade::compute(&ledger, &request, &[], payout::Options::default()).unwrap();
    // drone -> lab -> fund, then drone -> fund: the fund is paid out twice.
    let projects: Vec<&str> = c.levels.iter().map(|l| l.payout.project.as_str()).collect();
    assert_eq!(projects, ["drone", "lab", "fund", "fund"]);
    let loan = "01b00000000000000000000000";
    let repaid: Decimal = c
        .levels
        .iter()
        .flat_map(|l| l.payout.settled())
        .filter(|s| s.contribution.as_str() == loan)
        .map(|s| s.amount)
        .sum();
    assert_eq!(repaid, d("100.00"));
    // The second one saw the first: its loans bucket had nothing left to repay.
    assert!(
        c.levels[3]
            .earlier
            .iter()
            .any(|s| s.contribution.as_str() == loan)
    );
    assert_eq!(c.levels[2].payout.buckets[0].paid, d("100.00"));
    assert_eq!(c.levels[3].payout.buckets[0].paid, Decimal::ZERO);
}
