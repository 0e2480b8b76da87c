//! The report math on inline ledgers: totals, grouping, corrections, claim values, shares,
//! debts repaid by recorded payouts, and consistency with the value equation.

use crate::common::inline::{d, ledger_on_base as load};

use ovn::core::payout::{self, Request};
use ovn::core::report::{self, Dimension, Query, QueryError};
use ovn::core::value::Id;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn id(s: &str) -> Id {
    Id::parse(s).unwrap()
}

const REVERSAL: (&str, &str) = (
    "contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaaa6.toml",
    "id = \"01aaaaaaaaaaaaaaaaaaaaaaa6\"\nagent = \"ben\"\ndate = 2026-03-14\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Firmware tuning was logged twice\"\nreverses = \"01aaaaaaaaaaaaaaaaaaaaaaa3\"\n",
);

#[test]
fn contribution_totals_of_the_worked_example() {
    let ledger = load(&[]);
    let r = report::contributions(&ledger, &Query::default(), &[Dimension::Agent]).unwrap();
    let rows: Vec<(String, usize, String, String, String, String)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row.keys.join("/"),
                row.totals.count,
                row.totals.hours.to_string(),
                row.totals.amount.to_string(),
                row.totals.value.to_string(),
                row.totals.use_hours.to_string(),
            )
        })
        .collect();
    let s = |a: &str, n, h: &str, m: &str, v: &str, u: &str| {
        (
            a.to_owned(),
            n,
            h.to_owned(),
            m.to_owned(),
            v.to_owned(),
            u.to_owned(),
        )
    };
    assert_eq!(
        rows,
        vec![
            s("ana", 1, "20", "0", "900", "0"),
            s("ben", 3, "30", "400.00", "1300.00", "0"),
            // cy logged the printer's use: the hours are the printer's, the value its owners'.
            s("cy", 1, "0", "0", "80.00", "10"),
        ]
    );
    assert_eq!(r.total.value, d("2280"));
    let shares: Decimal = r.rows.iter().map(|r| r.share.unwrap()).sum();
    assert!((shares - Decimal::ONE).abs() < d("0.000000000001"));
}

#[test]
fn corrected_contributions_do_not_count() {
    let ledger = load(&[REVERSAL]);
    let r = report::contributions(&ledger, &Query::default(), &[]).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.total.count, 4);
    assert_eq!(r.total.hours, d("40"));
    assert_eq!(r.total.value, d("1980"));
}

#[test]
fn filters_and_grouping() {
    let ledger = load(&[]);
    let q = Query {
        agents: vec![id("ben")],
        since: Some("2026-03-12".parse().unwrap()),
        ..Query::default()
    };
    let r = report::contributions(&ledger, &q, &[Dimension::Kind, Dimension::Month]).unwrap();
    let keys: Vec<Vec<String>> = r.rows.iter().map(|r| r.keys.clone()).collect();
    assert_eq!(
        keys,
        vec![
            vec!["money".to_owned(), "2026-03".to_owned()],
            vec!["work".to_owned(), "2026-03".to_owned()]
        ]
    );
    assert_eq!(r.total.count, 2);
}

#[test]
fn queries_are_validated() {
    let ledger = load(&[]);
    let inverted = Query {
        since: Some("2026-05-01".parse().unwrap()),
        until: Some("2026-04-01".parse().unwrap()),
        ..Query::default()
    };
    assert!(matches!(
        inverted.validate(&ledger),
        Err(QueryError::InvertedRange { .. })
    ));
    let unknown = Query {
        projects: vec![id("dron")],
        ..Query::default()
    };
    assert_eq!(
        unknown.validate(&ledger).unwrap_err().to_string(),
        "no project `dron` (did you mean `drone`?)"
    );
}

#[test]
fn claims_match_the_value_equation_and_shrink_with_recorded_payouts() {
    let ledger = load(&[]);
    let r = report::claims(&ledger, &Query::default(), Some(d("3000"))).unwrap();
    let ben = r.rows.iter().find(|r| r.agent.as_str() == "ben").unwrap();
    assert_eq!(
        (
            ben.equity,
            ben.debt_owed,
            ben.debt_repaid,
            ben.debt_outstanding
        ),
        (d("900"), d("400.00"), d("0"), d("400.00"))
    );
    assert_eq!(ben.next, Some(d("1501.06")));
    let request = Request {
        project: "drone",
        amount: d("3000"),
        date: None,
    };
    let p = payout::compute(&ledger, &request, &[]).unwrap();
    // The report keeps the next payout brief (its totals are all it shows): the full one's
    // lines and totals, without the claims.
    let brief = payout::Options {
        brief: true,
        ..Default::default()
    };
    let next = payout::compute_with(&ledger, &request, &[], brief).unwrap();
    assert_eq!(r.next, vec![next.clone()]);
    assert_eq!(next.totals, p.totals);
    assert!(next.buckets.iter().all(|b| b.claims.is_empty()));
    assert!(p.buckets.iter().any(|b| !b.claims.is_empty()));
    // Record the payout: ben's debt is repaid.
    let rec = payout::record(
        &p,
        id("01pa0000000000000000000001"),
        "2026-11-30".parse().unwrap(),
        None,
        "0".repeat(40),
        "sha256:".to_owned() + &"0".repeat(64),
    );
    let text = ovn::core::write::payout(&rec);
    let ledger = load(&[("payouts/2026/01pa0000000000000000000001.toml", &text)]);
    let r = report::claims(&ledger, &Query::default(), None).unwrap();
    let ben = r.rows.iter().find(|r| r.agent.as_str() == "ben").unwrap();
    assert_eq!(
        (ben.debt_repaid, ben.debt_outstanding),
        (d("400.00"), d("0"))
    );
    let paid = report::payouts(&ledger, &Query::default());
    assert_eq!(paid.total, d("3000.00"));
    let amounts: Vec<(String, String)> = paid
        .paid
        .iter()
        .map(|p| (p.agent.to_string(), p.amount.to_string()))
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("ana".to_owned(), "1150.00".to_owned()),
            ("ben".to_owned(), "1501.06".to_owned()),
            ("cy".to_owned(), "48.94".to_owned()),
            ("fablab-fund".to_owned(), "300.00".to_owned()),
        ]
    );
}

#[test]
fn resource_use_and_value() {
    let ledger = load(&[]);
    let r = report::resources(&ledger, &Query::default());
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].hours, r[0].value), (d("10"), Some(d("80"))));
    let none = report::resources(
        &ledger,
        &Query {
            projects: vec![id("drone")],
            until: Some("2026-03-01".parse().unwrap()),
            ..Query::default()
        },
    );
    assert!(none[0].uses.is_empty());
}

/// The per-contribution sums a report uses are the claims added up, for every project, with
/// and without a cut-off date and a correction.
#[test]
fn contribution_values_are_the_sums_of_the_claims() {
    for extra in [&[][..], &[REVERSAL][..]] {
        let ledger = load(extra);
        let projects: Vec<&str> = ledger
            .projects
            .iter()
            .map(|p| p.id.value.as_str())
            .collect();
        for date in [None, Some("2026-03-11".parse().unwrap())] {
            let values = payout::contribution_values(&ledger, &projects, date).unwrap();
            let mut sums: std::collections::HashMap<Id, Decimal> = Default::default();
            for claims in payout::claims_of(&ledger, &projects, date, &[]).unwrap() {
                for claim in claims {
                    *sums.entry(claim.contribution.clone()).or_default() += claim.value;
                }
            }
            assert_eq!(values.len(), ledger.contributions.len());
            for (c, value) in ledger.contributions.iter().zip(&values) {
                let sum = sums.get(&c.id.value).copied().unwrap_or_default();
                assert_eq!(*value, sum, "contribution {}", c.id.value);
            }
            assert!(values.iter().any(|v| !v.is_zero()));
        }
    }
}

proptest! {
    /// However the contributions are grouped, the groups sum to the ungrouped totals and the
    /// shares to one.
    #[test]
    fn groups_sum_to_the_total(dims in proptest::sample::subsequence(Dimension::ALL.to_vec(), 0..=5)) {
        let ledger = load(&[]);
        let all = report::contributions(&ledger, &Query::default(), &[]).unwrap();
        let r = report::contributions(&ledger, &Query::default(), &dims).unwrap();
        prop_assert_eq!(&r.total, &all.total);
        let value: Decimal = r.rows.iter().map(|r| r.totals.value).sum();
        prop_assert_eq!(value, all.total.value);
        let shares: Decimal = r.rows.iter().map(|r| r.share.unwrap()).sum();
        prop_assert!((shares - Decimal::ONE).abs() < d("0.000000000001"));
    }
}

/// The day folder of a contribution's path (`contributions/2026/03/05`).
fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(f, _)| f)
}

proptest! {
    /// A ledger that holds some day folders in full beside what a quick load holds (every
    /// correction, the other records), as `ovn` builds one a window at a time when a
    /// report's parts are not kept ([`ovn::core::ledger::Ledger::holding`]), counts those
    /// folders exactly as the whole ledger does: the same contributions report groups and
    /// the same claims, whichever folders are held.
    #[test]
    fn folders_held_beside_a_quick_load_count_as_in_the_whole_ledger(
        pick in proptest::collection::vec(any::<bool>(), 16),
        by in proptest::sample::subsequence(Dimension::ALL.to_vec(), 0..=3),
    ) {
        use crate::common::inline::{on_base, raw};
        use ovn::core::ledger;
        let files = on_base(raw(&[REVERSAL]));
        let whole = ledger::load(&files).ledger;
        let mut folders: Vec<&str> = whole
            .contributions
            .iter()
            .map(|c| folder_of(whole.path(c.file)))
            .collect();
        folders.dedup();
        let held: std::collections::BTreeSet<&str> = folders
            .iter()
            .zip(pick.iter().cycle())
            .filter(|(_, p)| **p)
            .map(|(f, _)| *f)
            .collect();
        // The quick load's side: everything but the held folders' records, whose
        // corrections it holds anyway.
        let quick_files: Vec<_> = files
            .iter()
            .filter(|f| {
                !held.contains(folder_of(&f.path))
                    || String::from_utf8_lossy(&f.bytes).contains("reverses")
            })
            .cloned()
            .collect();
        let quick = ledger::load(&quick_files).ledger;
        let records: Vec<(String, Box<ovn::core::record::Contribution>)> = whole
            .contributions
            .iter()
            .filter(|c| held.contains(folder_of(whole.path(c.file))))
            .map(|c| (whole.path(c.file).to_owned(), c.clone()))
            .collect();
        let holding = quick.holding(records).unwrap();
        let paths = |l: &ledger::Ledger| -> Vec<String> {
            l.contributions
                .iter()
                .map(|c| l.path(c.file).to_owned())
                .filter(|p| held.contains(folder_of(p)))
                .collect()
        };
        prop_assert_eq!(paths(&holding), paths(&whole));
        prop_assert!(holding.contributions.is_sorted_by(|a, b| holding.path(a.file) <= holding.path(b.file)));
        for c in &holding.contributions {
            prop_assert_eq!(
                holding.index.file(ovn::core::ledger::RecordType::Contribution, c.id.value.as_str()),
                Some(c.file)
            );
        }
        let wanted = |f: &str| held.contains(f);
        let q = Query::default();
        let strip = |v: Vec<(&str, report::Groups)>| -> Vec<(String, report::Groups)> {
            v.into_iter().map(|(f, g)| (f.to_owned(), g)).collect()
        };
        prop_assert_eq!(
            strip(report::contributions_by_folder(&holding, &q, &by, wanted).unwrap()),
            strip(report::contributions_by_folder(&whole, &q, &by, wanted).unwrap())
        );
        let strip = |v: Vec<(&str, report::ClaimGroups)>| -> Vec<(String, report::ClaimGroups)> {
            v.into_iter().map(|(f, g)| (f.to_owned(), g)).collect()
        };
        prop_assert_eq!(
            strip(report::claims_by_folder(&holding, &q, wanted).unwrap()),
            strip(report::claims_by_folder(&whole, &q, wanted).unwrap())
        );
    }
}
