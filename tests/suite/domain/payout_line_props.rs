//! The payout line as a property: payouts recorded on random branches (some computed at an
//! older state of their branch, as `--record --at` does), merged in random orders. Whatever
//! happens, either every debt's total repayment stays within what it is owed, or the
//! ledger's checks fail naming each overpaid claim (`payout-fork`). Driven through the core
//! as `ovn payout --record` drives it (the same refusal rule), on the worked example.

use crate::common::inline::{on_base, raw};

use std::collections::BTreeMap;

use ovn::core::chain;
use ovn::core::diag::Code;
use ovn::core::ledger::{self, Loaded};
use ovn::core::payout::{self, Request};
use ovn::core::record::{At, ClaimKind};
use ovn::core::value::Id;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A branch: its payout files now, and every earlier state (for `--at`).
#[derive(Clone, Default)]
struct Branch {
    payouts: BTreeMap<String, String>,
    history: Vec<BTreeMap<String, String>>,
}

#[derive(Clone, Debug)]
enum Op {
    /// Record a payout of `amount` on `branch`, computed `back` states ago (0: its tip).
    Record {
        branch: usize,
        back: usize,
        amount: u32,
    },
    /// Merge (or rebase: the files are the same) `from` into `into`.
    Merge { into: usize, from: usize },
}

const BRANCHES: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..BRANCHES, prop_oneof![3 => Just(0usize), 1 => 1..3usize], 50u32..3000)
            .prop_map(|(branch, back, amount)| Op::Record { branch, back, amount }),
        2 => (0..BRANCHES, 0..BRANCHES).prop_map(|(into, from)| Op::Merge { into, from }),
    ]
}

/// The worked example with `payouts` added.
fn load(payouts: &BTreeMap<String, String>) -> Loaded {
    let payouts: Vec<(&String, &String)> = payouts.iter().collect();
    ledger::load(&on_base(raw(&payouts)))
}

/// `ovn payout AMOUNT -p drone --record`, computed on `at` and landing on `tip`; `None`
/// when it refuses (a ledger with problems, or `at` lacking a payout `tip` has).
fn record(
    at: &BTreeMap<String, String>,
    tip: &BTreeMap<String, String>,
    amount: u32,
    n: usize,
) -> Option<(String, String)> {
    if tip.keys().any(|k| !at.contains_key(k)) {
        return None;
    }
    let loaded = load(at);
    if !loaded.diagnostics.is_empty() {
        return None;
    }
    let ledger = loaded.ledger;
    let settled = payout::settled_by_records(&ledger);
    let date = "2026-11-30".parse().unwrap();
    let request = Request {
        project: "drone",
        amount: Decimal::from(amount),
        date: Some(date),
    };
    let p = payout::compute(&ledger, &request, &settled).ok()?;
    let digest = payout::digest(&ledger, &p, &settled);
    let id = format!("01pa{n:022}");
    let mut rec = payout::record(
        &p,
        Id::parse(&id).unwrap(),
        date,
        Some(format!("event {n}")),
        "4ccf833f990b4ccf833f990b4ccf833f990b0000".to_owned(),
        digest,
    );
    rec.follows = Some(At::new(
        chain::follows_for_new(&ledger, "drone")
            .into_iter()
            .map(At::new)
            .collect(),
    ));
    Some((
        format!("payouts/2026/{id}.toml"),
        ovn::core::write::payout(&rec),
    ))
}

/// Either no debt is repaid beyond what it is owed, or the checks name each one that is.
fn judge(payouts: &BTreeMap<String, String>) -> Result<(), TestCaseError> {
    let loaded = load(payouts);
    let owed: BTreeMap<(Id, Id), Decimal> = {
        let base = load(&BTreeMap::new()).ledger;
        payout::claims(&base, "drone", None, &[])
            .unwrap()
            .into_iter()
            .filter(|c| c.kind == ClaimKind::Debt)
            .map(|c| {
                (
                    (c.contribution.clone(), c.agent.clone()),
                    c.owed.unwrap_or(c.value),
                )
            })
            .collect()
    };
    let mut repaid: BTreeMap<(Id, Id), Decimal> = BTreeMap::new();
    for p in &loaded.ledger.payouts {
        for s in &p.settled {
            *repaid
                .entry((s.contribution.value.clone(), s.agent.value.clone()))
                .or_default() += s.amount;
        }
    }
    for ((contribution, agent), paid) in &repaid {
        let due = owed[&(contribution.clone(), agent.clone())];
        if *paid > due {
            let named = loaded.diagnostics.iter().any(|d| {
                d.code == Code::PayoutFork
                    && d.message.contains(&format!(
                        "claim of {agent} on contribution `{contribution}` is repaid {paid} in all but owed {due}"
                    ))
            });
            prop_assert!(
                named,
                "{contribution} of {agent} repaid {paid} of {due}, unreported: {:#?}",
                loaded.diagnostics
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_debt_is_never_overpaid_unnoticed(ops in prop::collection::vec(op(), 1..10)) {
        let mut branches = vec![Branch::default(); BRANCHES];
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Record { branch, back, amount } => {
                    let b = &branches[branch];
                    let at = b
                        .history
                        .len()
                        .checked_sub(back)
                        .filter(|_| back > 0)
                        .map_or(&b.payouts, |i| &b.history[i]);
                    if let Some((path, text)) = record(at, &b.payouts, amount, n) {
                        let b = &mut branches[branch];
                        b.history.push(b.payouts.clone());
                        b.payouts.insert(path, text);
                    }
                }
                Op::Merge { into, from } => {
                    let theirs = branches[from].payouts.clone();
                    let b = &mut branches[into];
                    b.history.push(b.payouts.clone());
                    b.payouts.extend(theirs);
                }
            }
        }
        let mut all = BTreeMap::new();
        for b in &branches {
            judge(&b.payouts)?;
            all.extend(b.payouts.clone());
        }
        judge(&all)?;
    }
}

/// A small payout record of drone: 100.00 to ana, following `follows` (`None`: a record
/// written before the field existed).
fn small(n: u32, follows: Option<&[u32]>) -> (String, String) {
    let id = format!("01pa{n:022}");
    let follows = follows.map_or(String::new(), |f| {
        let ids: Vec<String> = f.iter().map(|m| format!("\"01pa{m:022}\"")).collect();
        format!("follows = [{}]\n", ids.join(", "))
    });
    (
        format!("payouts/2026/{id}.toml"),
        format!(
            "id = \"{id}\"\nproject = \"drone\"\nagreement = \"drone-ve\"\ndate = 2026-11-30\namount = \"100.00\"\ncurrency = \"EUR\"\nmemo = \"event {n}\"\ncommit = \"4ccf833f990b4ccf833f990b4ccf833f990b0000\"\ndigest = \"sha256:{}\"\n{follows}\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"100.00\"\n",
            "0".repeat(64)
        ),
    )
}

fn codes(records: &[(String, String)]) -> Vec<(Code, String)> {
    let payouts: BTreeMap<String, String> = records.iter().cloned().collect();
    load(&payouts)
        .diagnostics
        .into_iter()
        .map(|d| (d.code, d.path))
        .collect()
}

#[test]
fn records_without_follows_are_one_line_in_path_order() {
    // Two old records and a new one after the last: one line.
    assert_eq!(
        codes(&[small(1, None), small(2, None), small(3, Some(&[2]))]),
        []
    );
    // A new one after the first old one: the second old one already follows it.
    let found = codes(&[small(1, None), small(2, None), small(3, Some(&[1]))]);
    assert_eq!(
        found,
        [
            (Code::PayoutFork, small(2, None).0),
            (Code::PayoutFork, small(3, None).0)
        ]
    );
    // A new first payout beside old ones: two starts.
    assert_eq!(
        codes(&[small(1, None), small(2, Some(&[]))]).len(),
        2,
        "two roots are a fork"
    );
}

#[test]
fn follows_must_name_payouts_of_the_project_and_never_loop() {
    let found = codes(&[small(1, Some(&[9]))]);
    assert_eq!(found, [(Code::UnknownReference, small(1, None).0)]);
    let found = codes(&[small(1, Some(&[2])), small(2, Some(&[1]))]);
    assert!(
        found.iter().filter(|(c, _)| *c == Code::PayoutFork).count() == 2,
        "{found:?}"
    );
    // Joined again by a record following both heads: one line.
    assert_eq!(
        codes(&[
            small(1, Some(&[])),
            small(2, Some(&[1])),
            small(3, Some(&[1])),
            small(4, Some(&[2, 3]))
        ]),
        []
    );
}

#[test]
fn only_a_reconciliation_has_amount_zero_or_overpaid_claims() {
    let (path, text) = small(2, Some(&[1]));
    let zero = text
        .replace(
            "amount = \"100.00\"\ncurrency",
            "amount = \"0.00\"\ncurrency",
        )
        .replace(
            "\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"100.00\"\n",
            "",
        );
    let found = codes(&[small(1, Some(&[])), (path.clone(), zero)]);
    assert_eq!(found, [(Code::NotPositive, path.clone())]);
    let overpaid = format!(
        "{text}\n[[overpaid]]\ncontribution = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"1.00\"\n"
    );
    let found = codes(&[small(1, Some(&[])), (path.clone(), overpaid)]);
    assert_eq!(found, [(Code::InvalidValue, path)]);
}

#[test]
fn a_reconciliation_joins_two_starts_and_its_claims_must_exist() {
    let (path, text) = small(3, Some(&[1, 2]));
    let reconciliation = text
        .replace(
            "amount = \"100.00\"\ncurrency",
            "amount = \"0.00\"\ncurrency",
        )
        .replace(
            "\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"100.00\"\n",
            "",
        );
    let starts = [small(1, Some(&[])), small(2, Some(&[]))];
    assert_eq!(codes(&starts).len(), 2);
    let mut joined = starts.to_vec();
    joined.push((path.clone(), reconciliation.clone()));
    assert_eq!(codes(&joined), []);
    joined.pop();
    joined.push((
        path.clone(),
        format!(
            "{reconciliation}\n[[overpaid]]\ncontribution = \"01zzzzzzzzzzzzzzzzzzzzzzzz\"\nagent = \"ben\"\nclaim = \"debt\"\namount = \"1.00\"\n"
        ),
    ));
    assert_eq!(codes(&joined), [(Code::UnknownReference, path)]);
}
