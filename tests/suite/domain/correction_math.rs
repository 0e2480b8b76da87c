//! Settlement follows corrections, as a property: over random chains of supersedes (new
//! amounts, new agents) between recorded payouts, no payout repays a debt beyond what its
//! latest correction is owed, and payments on every record of a chain count against it.

use crate::common;
use crate::common::inline::{ledger as load, raw};

use std::collections::BTreeMap;

use ovn::core::ledger::{self};
use ovn::core::payout::{self, Request, Settled};
use proptest::prelude::*;
use rust_decimal::Decimal;

const AGENTS: [&str; 3] = ["ana", "ben", "cy"];

/// One step: a recorded payout of a revenue, or a supersede of the latest record of chain
/// `chain` with a new amount and agent.
#[derive(Clone, Debug)]
enum Step {
    Pay(Decimal),
    Supersede {
        chain: usize,
        cents: i64,
        agent: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..500_000).prop_map(|c| Step::Pay(Decimal::new(c, 2))),
        (0usize..8, 1i64..300_000, 0usize..3).prop_map(|(chain, cents, agent)| Step::Supersede {
            chain,
            cents,
            agent
        }),
    ]
}

fn money(
    id: &str,
    agent: &str,
    day: usize,
    cents: i64,
    supersedes: Option<&str>,
) -> (String, String) {
    let mut text = format!(
        "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-04-{day:02}\nproject = \"drone\"\nkind = \"money\"\ndescription = \"m\"\namount = \"{}\"\n",
        Decimal::new(cents, 2)
    );
    if let Some(s) = supersedes {
        text.push_str(&format!("supersedes = \"{s}\"\n"));
    }
    (format!("contributions/2026/04/{day:02}/{id}.toml"), text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_debt_is_never_repaid_beyond_what_its_latest_correction_owes(
        debts in prop::collection::vec((0usize..3, 1i64..300_000), 1..6),
        steps in prop::collection::vec(step(), 1..12),
    ) {
        // The worked example's network, agents and agreement, with some work for equity.
        let mut files: Vec<(String, String)> = common::BASE
            .iter()
            .filter(|(p, _)| !p.starts_with("contributions/") || p.ends_with("a1.toml"))
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        // Per chain: its day, every id in it (oldest first), and what its head owes.
        let mut chains: Vec<(usize, Vec<String>, Decimal)> = Vec::new();
        for (i, (agent, cents)) in debts.iter().enumerate() {
            let id = format!("01d{i:023}");
            files.push(money(&id, AGENTS[*agent], i + 1, *cents, None));
            chains.push((i + 1, vec![id], Decimal::new(*cents, 2)));
        }
        let mut settled: Vec<Settled> = Vec::new();
        let mut n = 0;
        for step in steps {
            match step {
                Step::Pay(revenue) => {
                    let ledger = load(&files);
                    let request = Request { project: "drone", amount: revenue, date: None };
                    let p = payout::compute(&ledger, &request, &settled).unwrap();
                    prop_assert_eq!(p.sum(), revenue);
                    let before = per_chain(&chains, &settled);
                    settled.extend(p.settled());
                    let after = per_chain(&chains, &settled);
                    for (k, (_, ids, owed)) in chains.iter().enumerate() {
                        // A payout adds to a chain only up to what its head still owes.
                        let limit = before[k].max(*owed);
                        prop_assert!(
                            after[k] <= limit,
                            "chain {:?} repaid {} (was {}) on {} owed",
                            ids, after[k], before[k], owed
                        );
                        // Only the head is paid.
                        for s in p.settled() {
                            if ids.contains(&s.contribution.to_string()) {
                                prop_assert_eq!(s.contribution.as_str(), ids.last().unwrap().as_str());
                            }
                        }
                    }
                }
                Step::Supersede { chain, cents, agent } => {
                    let k = chain % chains.len();
                    let (day, ids, owed) = &mut chains[k];
                    let id = format!("01s{n:023}");
                    n += 1;
                    files.push(money(&id, AGENTS[agent], *day, cents, ids.last().map(String::as_str)));
                    ids.push(id);
                    *owed = Decimal::new(cents, 2);
                }
            }
        }
    }
}

/// What `settled` repaid on each chain, whatever record of it the payment names.
fn per_chain(chains: &[(usize, Vec<String>, Decimal)], settled: &[Settled]) -> Vec<Decimal> {
    let mut of: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, (_, ids, _)) in chains.iter().enumerate() {
        for id in ids {
            of.insert(id, k);
        }
    }
    let mut out = vec![Decimal::ZERO; chains.len()];
    for s in settled {
        if let Some(&k) = of.get(s.contribution.as_str()) {
            out[k] += s.amount;
        }
    }
    out
}

/// Two records that supersede each other (written by hand) are a correction-loop for
/// `ovn check`; payouts still count neither, and following their chain ends.
#[test]
fn a_loop_of_supersedes_ends() {
    let mut files: Vec<(String, String)> = common::BASE
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    let a = "01l0000000000000000000000a";
    let b = "01l0000000000000000000000b";
    files.push(money(a, "ben", 1, 10_000, Some(b)));
    files.push(money(b, "ben", 1, 20_000, Some(a)));
    let loaded = ledger::load(&raw(&files));
    let codes: Vec<_> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [ovn::core::diag::Code::CorrectionLoop]);
    let ledger = loaded.ledger;
    let settled = vec![Settled {
        contribution: ovn::core::value::Id::parse(a).unwrap(),
        agent: ovn::core::value::Id::parse("ben").unwrap(),
        kind: ovn::core::record::ClaimKind::Debt,
        amount: Decimal::new(5000, 2),
    }];
    let request = Request {
        project: "drone",
        amount: Decimal::new(3000, 0),
        date: None,
    };
    let p = payout::compute(&ledger, &request, &settled).unwrap();
    assert_eq!(p.sum(), Decimal::new(3000, 0));
    assert!(
        p.settled()
            .iter()
            .all(|s| s.contribution.as_str() != a && s.contribution.as_str() != b)
    );
}
