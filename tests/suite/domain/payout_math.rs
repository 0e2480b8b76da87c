//! The value equation on inline ledgers: the worked example of the domain notes, Slicing Pie,
//! debts, leftovers, and the exactness properties (each a property test).

use crate::common;
use crate::common::inline::{d, ledger as load, payout_every_way, raw};

use std::str::FromStr;

use ovn::core::ledger::{self, Ledger, RawFile};
use ovn::core::payout::{self, Payout, PayoutError, Request, Settled};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn pay(ledger: &Ledger, project: &str, amount: &str) -> Payout {
    payout::compute(
        ledger,
        &Request {
            project,
            amount: d(amount),
            date: None,
        },
        &[],
    )
    .unwrap()
}

fn totals(p: &Payout) -> Vec<(String, String)> {
    p.totals
        .iter()
        .map(|(a, v)| (a.to_string(), v.to_string()))
        .collect()
}

fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn the_worked_example() {
    let ledger = load(common::BASE);
    let p = pay(&ledger, "drone", "3000.00");
    assert_eq!(
        totals(&p),
        s(&[
            ("ana", "1150.00"),
            ("ben", "1501.06"),
            ("cy", "48.94"),
            ("fablab-fund", "300.00")
        ])
    );
    assert_eq!(p.sum(), d("3000.00"));
    let reimbursement = &p.buckets[1];
    assert_eq!(reimbursement.budget, d("900.00"));
    assert_eq!(reimbursement.paid, d("400.00"));
    assert_eq!(reimbursement.returned, d("500.00"));
    assert_eq!(p.buckets[2].budget, d("2300.00"));
    // Recording it settles ben's money claim: a second payout repays nothing more.
    let settled = p.settled();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].amount, d("400.00"));
    let again = payout::compute(
        &ledger,
        &Request {
            project: "drone",
            amount: d("3000.00"),
            date: None,
        },
        &settled,
    )
    .unwrap();
    assert_eq!(again.buckets[1].paid, Decimal::ZERO);
    assert_eq!(again.sum(), d("3000.00"));
    assert!(
        again
            .left_out
            .iter()
            .any(|l| l.reason == payout::Reason::DebtSettled)
    );
}

#[test]
fn the_example_ledger_reproduces_the_worked_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fablab");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push(RawFile {
                    path: rel,
                    bytes: std::fs::read(e.path()).unwrap(),
                });
            }
        }
    }
    let loaded = ledger::load(&files);
    assert!(loaded.diagnostics.is_empty());
    let p = pay(&loaded.ledger, "drone", "3000.00");
    assert_eq!(
        totals(&p),
        s(&[
            ("ana", "1150.00"),
            ("ben", "1501.06"),
            ("cy", "48.94"),
            ("fablab-fund", "300.00")
        ])
    );
}

const PIE: &[(&str, &str)] = &[
    (
        "ovn.toml",
        "format = 1\nname = \"Pie\"\ncurrency = \"USD\"\n",
    ),
    ("agents/ann.toml", "id = \"ann\"\nname = \"Ann\"\n"),
    ("agents/bo.toml", "id = \"bo\"\nname = \"Bo\"\n"),
    (
        "projects/app.toml",
        "id = \"app\"\nname = \"App\"\nagreement = \"pie\"\n",
    ),
    (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Slicing Pie\"\n\n[rates]\nagent = { ann = \"50\", bo = \"40\" }\n\n[[buckets]]\nname = \"pie\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\nmultiplier = \"2\"\n\n[[buckets.rules]]\nkind = \"money\"\nmultiplier = \"4\"\n",
    ),
    (
        "contributions/2026/01/05/01p0000000000000000000000a.toml",
        "id = \"01p0000000000000000000000a\"\nagent = \"ann\"\ndate = 2026-01-05\nproject = \"app\"\nkind = \"work\"\ndescription = \"Prototype\"\nhours = \"10\"\n",
    ),
    (
        "contributions/2026/01/06/01p0000000000000000000000b.toml",
        "id = \"01p0000000000000000000000b\"\nagent = \"bo\"\ndate = 2026-01-06\nproject = \"app\"\nkind = \"work\"\ndescription = \"Backend\"\nhours = \"20\"\n",
    ),
    (
        "contributions/2026/01/07/01p0000000000000000000000c.toml",
        "id = \"01p0000000000000000000000c\"\nagent = \"bo\"\ndate = 2026-01-07\nproject = \"app\"\nkind = \"money\"\ndescription = \"Servers\"\namount = \"250\"\n",
    ),
];

#[test]
fn slicing_pie() {
    // Slices: ann 10 h × 50 × 2 = 1000; bo 20 h × 40 × 2 + 250 × 4 = 2600. Total 3600.
    let ledger = load(PIE);
    let p = pay(&ledger, "app", "1000.00");
    assert_eq!(totals(&p), s(&[("ann", "277.78"), ("bo", "722.22")]));
    assert_eq!(p.sum(), d("1000.00"));
}

#[test]
fn sensorica_style_network_investment_costs_then_participants() {
    // 5% to the network; an investment repaid with 20% interest from 10% of revenue;
    // costs reimbursed; the rest to participants.
    let agreement = "id = \"s-ve\"\nname = \"SENSORICA style\"\nleftover = \"fund\"\n\n[rates]\nwork = \"25\"\n\n[[buckets]]\nname = \"network\"\nshare = \"5%\"\nto = \"fund\"\n\n[[buckets]]\nname = \"investment\"\nshare = \"10%\"\nclaim = \"debt\"\ncap = \"1.2\"\n\n[[buckets.rules]]\nkind = \"money\"\n\n[[buckets]]\nname = \"costs\"\nshare = \"20%\"\nclaim = \"debt\"\n\n[[buckets.rules]]\nkind = \"material\"\n\n[[buckets]]\nname = \"participants\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n";
    let files: Vec<(&str, &str)> = vec![
        ("ovn.toml", "format = 1\nname = \"S\"\ncurrency = \"CAD\"\n"),
        (
            "agents/fund.toml",
            "id = \"fund\"\nname = \"Fund\"\nkind = \"organization\"\n",
        ),
        ("agents/iva.toml", "id = \"iva\"\nname = \"Iva\"\n"),
        ("agents/max.toml", "id = \"max\"\nname = \"Max\"\n"),
        (
            "projects/p.toml",
            "id = \"p\"\nname = \"P\"\nagreement = \"s-ve\"\n",
        ),
        ("agreements/s-ve.toml", agreement),
        (
            "contributions/2026/02/01/01s0000000000000000000000a.toml",
            "id = \"01s0000000000000000000000a\"\nagent = \"iva\"\ndate = 2026-02-01\nproject = \"p\"\nkind = \"money\"\ndescription = \"Investment\"\namount = \"1000\"\n",
        ),
        (
            "contributions/2026/02/02/01s0000000000000000000000b.toml",
            "id = \"01s0000000000000000000000b\"\nagent = \"max\"\ndate = 2026-02-02\nproject = \"p\"\nkind = \"material\"\ndescription = \"Parts\"\namount = \"150\"\n",
        ),
        (
            "contributions/2026/02/03/01s0000000000000000000000c.toml",
            "id = \"01s0000000000000000000000c\"\nagent = \"max\"\ndate = 2026-02-03\nproject = \"p\"\nkind = \"work\"\ndescription = \"Assembly\"\nhours = \"12\"\n",
        ),
    ];
    let ledger = load(&files);
    let first = pay(&ledger, "p", "5000.00");
    // network 250; investment 500 of 1200 owed; costs 150 (of a 1000 budget, 850 back);
    // participants: the rest, 4100, all to max's work.
    assert_eq!(
        totals(&first),
        s(&[("fund", "250.00"), ("iva", "500.00"), ("max", "4250.00")])
    );
    // The next payout repays what is still owed: 700 of iva's 1200, and no more costs.
    let second = payout::compute(
        &ledger,
        &Request {
            project: "p",
            amount: d("10000.00"),
            date: None,
        },
        &first.settled(),
    )
    .unwrap();
    assert_eq!(second.buckets[1].paid, d("700.00"));
    assert_eq!(second.buckets[1].returned, d("300.00"));
    assert_eq!(second.buckets[2].paid, Decimal::ZERO);
    let third = payout::compute(
        &ledger,
        &Request {
            project: "p",
            amount: d("100.00"),
            date: None,
        },
        &[first.settled(), second.settled()].concat(),
    )
    .unwrap();
    assert_eq!(
        third.buckets[1].paid,
        Decimal::ZERO,
        "never repaid more than owed"
    );
}

#[test]
fn leftovers_go_to_a_named_agent_or_are_refused() {
    // Only a 10% bucket: 90% is left over.
    let mut files: Vec<(&str, &str)> = PIE.to_vec();
    files[4] = (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Part\"\n\n[[buckets]]\nname = \"team\"\nshare = \"10%\"\n\n[[buckets.rules]]\nkind = \"money\"\n",
    );
    let refusal = |files: &[(&str, &str)]| {
        payout::compute(
            &load(files),
            &Request {
                project: "app",
                amount: d("100.00"),
                date: None,
            },
            &[],
        )
        .unwrap_err()
    };
    let err = refusal(&files);
    assert!(
        matches!(err, PayoutError::NoLeftoverAgent { rest: false, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("or end with a `share = \"rest\"` bucket"),
        "{err}"
    );
    // A rest bucket with nothing to pay: advising one would be wrong.
    let mut with_rest = files.clone();
    with_rest[4] = (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Part\"\n\n[[buckets]]\nname = \"team\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"care\"\n",
    );
    let err = refusal(&with_rest);
    assert!(
        matches!(err, PayoutError::NoLeftoverAgent { rest: true, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("its `rest` bucket found no validated claims"),
        "{err}"
    );
    assert!(!err.to_string().contains("end with"), "{err}");
    files[0] = (
        "ovn.toml",
        "format = 1\nname = \"Pie\"\ncurrency = \"USD\"\nleftover = \"ann\"\n",
    );
    let ledger = load(&files);
    let p = pay(&ledger, "app", "100.00");
    let last = p.lines.last().unwrap();
    assert_eq!(
        (last.agent.as_str(), last.bucket.as_str(), last.amount),
        ("ann", "leftover", d("90.00"))
    );
    assert_eq!(p.sum(), d("100.00"));
}

#[test]
fn bad_requests_are_refused() {
    let ledger = load(common::BASE);
    let req = |project, amount: &str| Request {
        project,
        amount: d(amount),
        date: None,
    };
    assert_eq!(
        payout::compute(&ledger, &req("drone", "0"), &[]).unwrap_err(),
        PayoutError::NotPositive
    );
    assert_eq!(
        payout::compute(&ledger, &req("drone", "-5"), &[]).unwrap_err(),
        PayoutError::NotPositive
    );
    assert_eq!(
        payout::compute(&ledger, &req("drone", "10.001"), &[]).unwrap_err(),
        PayoutError::TooPrecise { minor_units: 2 }
    );
    let e = payout::compute(&ledger, &req("drones", "10"), &[]).unwrap_err();
    assert_eq!(e.to_string(), "no project `drones` (did you mean `drone`?)");
}

/// A ledger of `n` agents with random work, money and use contributions under the worked
/// example's agreement (debt reimbursement, equity, a pooled printer).
fn random_ledger(spec: &[(u8, u8, u32)]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = common::BASE
        .iter()
        .filter(|(p, _)| !p.starts_with("contributions/"))
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    let agents = ["ana", "ben", "cy"];
    for (i, (agent, kind, qty)) in spec.iter().enumerate() {
        let id = format!("01r{i:023}");
        let day = 1 + (i % 28);
        let agent = agents[*agent as usize % 3];
        let body = match kind % 4 {
            0 => format!(
                "kind = \"work\"\ndescription = \"w\"\nhours = \"{}.{}\"\n",
                1 + qty % 11,
                qty % 100
            ),
            1 => format!(
                "kind = \"work\"\ndescription = \"w\"\nhours = \"{}\"\nskill = \"electronics\"\n",
                1 + qty % 8
            ),
            2 => format!(
                "kind = \"money\"\ndescription = \"m\"\namount = \"{}.{:02}\"\n",
                1 + qty % 5000,
                qty % 100
            ),
            _ => format!(
                "kind = \"use\"\ndescription = \"u\"\nresource = \"printer\"\nhours = \"{}\"\n",
                1 + qty % 9
            ),
        };
        let text = format!(
            "id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-04-{day:02}\nproject = \"drone\"\n{body}"
        );
        files.push((format!("contributions/2026/04/{day:02}/{id}.toml"), text));
    }
    files
}

fn load_owned(files: &[(String, String)]) -> Ledger {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    load(&refs)
}

fn spec() -> impl Strategy<Value = Vec<(u8, u8, u32)>> {
    prop::collection::vec((0u8..3, 0u8..4, 1u32..100_000), 0..40)
}

fn amount() -> impl Strategy<Value = Decimal> {
    (1i64..100_000_000).prop_map(|c| Decimal::new(c, 2))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Sums exactly; every bucket sums to its budget; nothing negative; each line within one
    /// minor unit of its exact share; debts never over their balance.
    #[test]
    fn payouts_are_exact(spec in spec(), revenue in amount()) {
        let ledger = load_owned(&random_ledger(&spec));
        let p = payout::compute(&ledger, &Request { project: "drone", amount: revenue, date: None }, &[]).unwrap();
        prop_assert_eq!(p.sum(), revenue);
        let unit = Decimal::new(1, 2);
        let mut budgets = Decimal::ZERO;
        for b in &p.buckets {
            prop_assert_eq!(b.paid + b.returned, b.budget);
            let lines: Decimal = b.lines.iter().map(|l| l.2).sum();
            prop_assert_eq!(lines, b.paid);
            let claims: Decimal = b.claims.iter().map(|c| c.amount).sum();
            if !b.claims.is_empty() {
                prop_assert_eq!(claims, b.paid);
            }
            for (_, exact, amount) in &b.lines {
                prop_assert!(*amount >= Decimal::ZERO);
                prop_assert!((*amount - *exact).abs() < unit, "{} vs {}", amount, exact);
            }
            for c in &b.claims {
                if let Some(o) = c.outstanding {
                    prop_assert!(c.amount <= o);
                }
            }
            budgets += b.paid;
        }
        prop_assert!(budgets <= revenue);
        for l in &p.lines {
            prop_assert!(l.amount > Decimal::ZERO);
        }
    }

    /// Recording payouts one after another never repays a debt beyond what it is owed.
    #[test]
    fn debts_are_never_overpaid(spec in spec(), revenues in prop::collection::vec(amount(), 1..5)) {
        let ledger = load_owned(&random_ledger(&spec));
        let mut settled: Vec<Settled> = Vec::new();
        for revenue in revenues {
            let request = Request { project: "drone", amount: revenue, date: None };
            let p = payout_every_way(&ledger, &request, &settled);
            prop_assert_eq!(p.sum(), revenue);
            // What a review compares: the same lines and totals without the claims.
            let brief = payout::compute_with(&ledger, &request, &settled, payout::Options { brief: true, ..Default::default() }).unwrap();
            prop_assert_eq!(&brief.totals, &p.totals);
            prop_assert_eq!(brief.lines.len(), p.lines.len());
            for (b, f) in brief.buckets.iter().zip(&p.buckets) {
                prop_assert_eq!(&b.lines, &f.lines);
                prop_assert_eq!((b.paid, b.returned), (f.paid, f.returned));
                prop_assert!(b.claims.is_empty());
            }
            settled.extend(p.settled());
        }
        let mut per: std::collections::BTreeMap<String, Decimal> = Default::default();
        for s in &settled {
            *per.entry(s.contribution.to_string()).or_default() += s.amount;
        }
        for c in &ledger.contributions {
            if let Some(amount) = c.amount {
                let paid = per.get(c.id.value.as_str()).copied().unwrap_or_default();
                prop_assert!(paid <= amount, "{} paid {} of {}", c.id.value, paid, amount);
            }
        }
    }

    /// The order of files does not matter, and scaling every claim by a constant (hours and
    /// rates) changes nothing.
    #[test]
    fn order_and_scale_do_not_matter(spec in spec(), revenue in amount(), seed in any::<u64>()) {
        let files = random_ledger(&spec);
        let base = payout::compute(&load_owned(&files), &Request { project: "drone", amount: revenue, date: None }, &[]).unwrap();
        let mut shuffled = files.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let again = payout::compute(&load_owned(&shuffled), &Request { project: "drone", amount: revenue, date: None }, &[]).unwrap();
        prop_assert_eq!(&again, &base);
        // Doubling every rate doubles every equity claim: the split stays the same.
        let doubled: Vec<(String, String)> = files.iter().map(|(p, t)| {
            if p == "agreements/drone-ve.toml" {
                (p.clone(), t.replace("work = \"30\"", "work = \"60\"").replace("electronics = \"45\"", "electronics = \"90\""))
            } else if p == "resources/printer.toml" {
                (p.clone(), t.replace("use_rate = \"8\"", "use_rate = \"16\""))
            } else {
                (p.clone(), t.clone())
            }
        }).collect();
        let scaled = payout::compute(&load_owned(&doubled), &Request { project: "drone", amount: revenue, date: None }, &[]).unwrap();
        prop_assert_eq!(&scaled.lines, &base.lines);
    }

    /// Each equity share is proportional to its claim: an agent with twice the hours of
    /// another (same rate) gets twice as much, within a minor unit.
    #[test]
    fn proportional(h in 1u32..=120, revenue in amount()) {
        let mut files = random_ledger(&[]);
        for (i, (agent, hours)) in [("ben", h), ("cy", 2 * h)].iter().enumerate() {
            let id = format!("01q{i:023}");
            files.push((format!("contributions/2026/05/01/{id}.toml"), format!("id = \"{id}\"\nagent = \"{agent}\"\ndate = 2026-05-01\nproject = \"drone\"\nkind = \"work\"\ndescription = \"w\"\nhours = \"{}.{}\"\n", hours / 10, hours % 10)));
        }
        let p = payout::compute(&load_owned(&files), &Request { project: "drone", amount: revenue, date: None }, &[]).unwrap();
        let equity = &p.buckets[2];
        let ben = equity.lines.iter().find(|l| l.0.as_str() == "ben").map(|l| l.2).unwrap_or_default();
        let cy = equity.lines.iter().find(|l| l.0.as_str() == "cy").map(|l| l.2).unwrap_or_default();
        prop_assert!((cy - ben * Decimal::TWO).abs() <= Decimal::new(3, 2), "ben {} cy {}", ben, cy);
    }
}

#[test]
fn formulas_value_claims_exactly() {
    // The Slicing Pie again, written with formulas instead of multipliers.
    let mut files: Vec<(&str, &str)> = PIE.to_vec();
    files[4] = (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Slicing Pie\"\n\n[rates]\nagent = { ann = \"50\", bo = \"40\" }\n\n[[buckets]]\nname = \"pie\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\nformula = \"hours * rate * 2\"\n\n[[buckets.rules]]\nkind = \"money\"\nformula = \"amount * 4\"\n",
    );
    let ledger = load(&files);
    let p = pay(&ledger, "app", "1000.00");
    assert_eq!(totals(&p), s(&[("ann", "277.78"), ("bo", "722.22")]));
    // A formula that divides by a field that is zero fails with a clear error.
    files[4] = (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Slicing Pie\"\n\n[[buckets]]\nname = \"pie\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\nformula = \"100 / amount\"\n",
    );
    let ledger = load(&files);
    let err = payout::compute(
        &ledger,
        &Request {
            project: "app",
            amount: d("10"),
            date: None,
        },
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
}

/// A token of the arithmetic `--explain` prints.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(Decimal),
    Mul,
    Add,
    Sub,
    Open,
    Close,
}

/// A number as `--explain` prints it: `12.50`, or `50%` for one half.
fn number(word: &str) -> Option<Decimal> {
    let (digits, percent) = match word.strip_suffix('%') {
        Some(d) => (d, true),
        None => (word, false),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let n = Decimal::from_str(digits).ok()?;
    Some(if percent { n / Decimal::ONE_HUNDRED } else { n })
}

/// Evaluates the arithmetic of one side of an explain equation: numbers, `×`, `+`, `−` and
/// parentheses, in the usual precedence; words (`h`, `cap`, `already repaid`) and
/// parenthesised words (`(the work rate)`) say where a number comes from and are dropped.
/// `None` when the text holds no number.
fn eval_side(text: &str) -> Option<Decimal> {
    let mut toks = Vec::new();
    for word in text.split_whitespace() {
        let inner = word.trim_start_matches('(');
        for _ in 0..word.len() - inner.len() {
            toks.push(Tok::Open);
        }
        let core = inner.trim_end_matches(')');
        match core {
            "×" => toks.push(Tok::Mul),
            "+" => toks.push(Tok::Add),
            "−" => toks.push(Tok::Sub),
            _ => toks.extend(number(core).map(Tok::Num)),
        }
        for _ in 0..inner.len() - core.len() {
            toks.push(Tok::Close);
        }
    }
    // Groups of words only: `( )` once their words are dropped.
    while let Some(i) = toks.windows(2).position(|w| w == [Tok::Open, Tok::Close]) {
        toks.drain(i..i + 2);
    }
    if !toks.iter().any(|t| matches!(t, Tok::Num(_))) {
        return None;
    }
    fn expr(t: &[Tok], i: &mut usize) -> Decimal {
        let mut v = term(t, i);
        while let Some(op @ (Tok::Add | Tok::Sub)) = t.get(*i).copied() {
            *i += 1;
            let r = term(t, i);
            v = if op == Tok::Add { v + r } else { v - r };
        }
        v
    }
    fn term(t: &[Tok], i: &mut usize) -> Decimal {
        let mut v = factor(t, i);
        while t.get(*i) == Some(&Tok::Mul) {
            *i += 1;
            v *= factor(t, i);
        }
        v
    }
    fn factor(t: &[Tok], i: &mut usize) -> Decimal {
        let tok = t[*i];
        *i += 1;
        match tok {
            Tok::Num(n) => n,
            Tok::Open => {
                let v = expr(t, i);
                assert_eq!(t.get(*i), Some(&Tok::Close), "{t:?}");
                *i += 1;
                v
            }
            other => panic!("unexpected {other:?} in {t:?}"),
        }
    }
    let mut i = 0;
    let v = expr(&toks, &mut i);
    assert_eq!(i, toks.len(), "trailing tokens in {text:?}: {toks:?}");
    Some(v)
}

/// Checks every equation of an explanation: in each `; `-separated clause of a claim line,
/// the sides of `a = b = c` are equal, and `x → y` rounds x to y (within half a unit).
/// Returns how many equations it checked.
fn check_explain(text: &str, unit: Decimal) -> usize {
    let mut checked = 0;
    for line in text.lines().filter(|l| l.starts_with("   ")) {
        // A formula is evaluated by its own evaluator: its line names it, not arithmetic.
        if line.contains(" with hours ") {
            continue;
        }
        let Some((_, body)) = line.split_once(": ") else {
            continue;
        };
        for clause in body.split("; ") {
            if !clause.contains(" = ") && !clause.starts_with("owed ") {
                continue;
            }
            let mut previous: Option<Decimal> = None;
            for part in clause.split(" = ") {
                let (left, right) = match part.split_once(" → ") {
                    Some((a, b)) => {
                        let (a, b) = (eval_side(a), eval_side(b));
                        if let (Some(a), Some(b)) = (a, b) {
                            assert!(
                                (a - b).abs() * Decimal::TWO <= unit,
                                "{a} does not round to {b} in {line:?}"
                            );
                            checked += 1;
                        }
                        (a, b)
                    }
                    None => {
                        let v = eval_side(part);
                        (v, v)
                    }
                };
                if let (Some(p), Some(l)) = (previous, left) {
                    assert_eq!(p, l, "false equation in {line:?}");
                    checked += 1;
                }
                previous = right.or(previous);
            }
        }
    }
    checked
}

/// The random ledgers with the reimbursement bucket capped (`cap`), work selected by it as
/// well (so `hours × rate × cap` debts appear), and rates that do not round evenly.
fn capped_ledger(spec: &[(u8, u8, u32)], cap: &str) -> Vec<(String, String)> {
    random_ledger(spec)
        .into_iter()
        .map(|(p, t)| match p.as_str() {
            "agreements/drone-ve.toml" => {
                let t = t
                    .replace(
                        "claim = \"debt\"\n",
                        &format!("claim = \"debt\"\ncap = \"{cap}\"\n"),
                    )
                    .replace(
                        "kind = \"money\"\n",
                        "kind = \"money\"\n\n[[buckets.rules]]\nkind = \"work\"\n",
                    )
                    .replace("work = \"30\"", "work = \"30.35\"");
                (p, t)
            }
            "resources/printer.toml" => (p, t.replace("use_rate = \"8\"", "use_rate = \"8.333\"")),
            _ => (p, t),
        })
        .collect()
}

#[test]
fn explain_states_true_arithmetic_for_capped_and_repaid_debts() {
    // The shapes of issue 14: a capped money debt, and a capped work debt partly repaid.
    let spec = [(1, 2, 99_899), (1, 0, 909), (2, 3, 4)];
    let ledger = load_owned(&capped_ledger(&spec, "1.2"));
    let mut settled: Vec<Settled> = Vec::new();
    let mut checked = 0;
    let mut all = String::new();
    for revenue in ["500.00", "700.00", "100000.00"] {
        let p = payout::compute(&ledger, &req("drone", revenue), &settled).unwrap();
        let text = ovn::cli::payout::explain(&p);
        checked += check_explain(&text, Decimal::new(1, 2));
        all.push_str(&text);
        settled.extend(p.settled());
    }
    assert!(checked > 10, "{checked}");
    // The value is never equated with its capped or repaid balance any more.
    assert!(all.contains("× cap 1.2 = "), "{all}");
    assert!(all.contains("already repaid = "), "{all}");
}

#[test]
fn the_evaluator_refuses_false_arithmetic() {
    let unit = Decimal::new(1, 2);
    assert_eq!(
        check_explain(
            "   a x: 10 h × 30 (the work rate) = 300; owed 300 × cap 1.2 = 360",
            unit
        ),
        2
    );
    let false_line = "   a x: 1000.00 × cap 1.2 = 1000; debt outstanding 1200.00";
    assert!(std::panic::catch_unwind(|| check_explain(false_line, unit)).is_err());
    let false_line = "   a x: 10 h × 30 × cap 1.2 − 100.00 already repaid = 300";
    assert!(std::panic::catch_unwind(|| check_explain(false_line, unit)).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every equation `--explain` prints holds, over the random ledgers of the properties
    /// above (plain and capped, with earlier recorded payouts repaying debts).
    #[test]
    fn explain_equations_hold(
        spec in spec(),
        cap in prop::sample::select(vec!["1", "1.2", "1.15"]),
        revenues in prop::collection::vec(amount(), 1..4),
    ) {
        let unit = Decimal::new(1, 2);
        for files in [random_ledger(&spec), capped_ledger(&spec, cap)] {
            let ledger = load_owned(&files);
            let mut settled: Vec<Settled> = Vec::new();
            for revenue in &revenues {
                let request = Request { project: "drone", amount: *revenue, date: None };
                let p = payout::compute(&ledger, &request, &settled).unwrap();
                check_explain(&ovn::cli::payout::explain(&p), unit);
                settled.extend(p.settled());
            }
        }
    }
}

fn req<'a>(project: &'a str, amount: &str) -> Request<'a> {
    Request {
        project,
        amount: d(amount),
        date: None,
    }
}

/// The largest values `ovn check` accepts (see `core::bounds`), as written in a file.
const MAX_AMOUNT: &str = "1000000000000";

/// A money amount from the smallest to the largest allowed, the extremes often.
fn extreme_amount() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(MAX_AMOUNT.to_owned()),
        Just("999999999999.99".to_owned()),
        Just("0.01".to_owned()),
        (0u64..1_000_000_000_000, 0u32..100).prop_map(|(a, c)| format!("{a}.{c:02}")),
    ]
}

/// Hours from the smallest to the largest allowed.
fn extreme_hours() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("100000".to_owned()),
        Just("99999.9999".to_owned()),
        Just("0.0001".to_owned()),
        (0u32..100_000, 1u32..10_000).prop_map(|(h, f)| format!("{h}.{f:04}")),
    ]
}

/// The worked example's agreement and printer at the largest rates, caps and multipliers,
/// with contributions of extreme amounts and hours.
fn extreme_ledger(
    contributions: &[(u8, u8, String, String)],
    rate: &str,
    formula: bool,
) -> Vec<(String, String)> {
    // A formula can reach past the largest claim value: a clean error then.
    let money = if formula {
        "kind = \"money\"\nformula = \"amount * 100\"\n"
    } else {
        "kind = \"money\"\n"
    };
    let mut files: Vec<(String, String)> = common::BASE
        .iter()
        .filter(|(p, _)| !p.starts_with("contributions/"))
        .map(|(p, t)| {
            let t = match *p {
                "agreements/drone-ve.toml" => t
                    .replace("work = \"30\"", &format!("work = \"{rate}\""))
                    .replace("electronics = \"45\"", "electronics = \"10000000\"")
                    .replace("claim = \"debt\"\n", "claim = \"debt\"\ncap = \"10\"\n")
                    .replace(
                        "kind = \"work\"\n",
                        "kind = \"work\"\nmultiplier = \"10\"\n",
                    )
                    .replace("kind = \"money\"\n", money),
                "resources/printer.toml" => {
                    t.replace("use_rate = \"8\"", &format!("use_rate = \"{rate}\""))
                }
                _ => (*t).to_owned(),
            };
            ((*p).to_owned(), t)
        })
        .collect();
    let agents = ["ana", "ben", "cy"];
    for (i, (agent, kind, amount, hours)) in contributions.iter().enumerate() {
        let id = format!("01x{i:023}");
        let agent = agents[*agent as usize % 3];
        let body = match kind % 4 {
            0 => format!("kind = \"work\"\ndescription = \"w\"\nhours = \"{hours}\"\n"),
            1 => format!(
                "kind = \"work\"\ndescription = \"w\"\nhours = \"{hours}\"\nskill = \"electronics\"\n"
            ),
            2 => format!("kind = \"money\"\ndescription = \"m\"\namount = \"{amount}\"\n"),
            _ => format!(
                "kind = \"use\"\ndescription = \"u\"\nresource = \"printer\"\nhours = \"{hours}\"\n"
            ),
        };
        // One year each: extreme hours pass 24 on their day anyway (`day-overflow`, which
        // the test allows), but no two records share a day.
        let year = 2000 + i;
        files.push((
            format!("contributions/{year}/01/01/{id}.toml"),
            format!("id = \"{id}\"\nagent = \"{agent}\"\ndate = {year}-01-01\nproject = \"drone\"\n{body}"),
        ));
    }
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// At the largest values the reader accepts (amounts and revenue 10^12, hours 10^5,
    /// rates 10^7, caps and multipliers 10), every payout, and every later one that sees
    /// what the earlier ones settled, sums exactly to its revenue with each bucket exact and
    /// no debt overpaid; a revenue beyond the bound is a clean error, never a panic.
    #[test]
    fn extreme_payouts_are_exact_or_refused(
        contributions in prop::collection::vec((0u8..3, 0u8..4, extreme_amount(), extreme_hours()), 0..10),
        rate in prop::sample::select(vec!["30", "10000000", "9999999.999999"]),
        formula in any::<bool>(),
        revenues in prop::collection::vec(
            prop_oneof![
                Just(Decimal::from_str(MAX_AMOUNT).unwrap()),
                Just(Decimal::new(1, 2)),
                (1i64..=100_000_000_000_000).prop_map(|c| Decimal::new(c, 2)),
                (1i64..1_000_000).prop_map(|c| Decimal::from_str(MAX_AMOUNT).unwrap() + Decimal::new(c, 2)),
            ],
            1..4,
        ),
    ) {
        let files = extreme_ledger(&contributions, rate, formula);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        let loaded = ledger::load(&raw(&refs));
        // Only the daily-hours check may object (more than 24 hours of work on one day);
        // every value is within its bound. The payout math is proven on the records anyway.
        prop_assert!(loaded.diagnostics.iter().all(|d| d.code.as_str() == "day-overflow"), "{:#?}", loaded.diagnostics);
        let ledger = loaded.ledger;
        let unit = Decimal::new(1, 2);
        let mut settled: Vec<Settled> = Vec::new();
        for revenue in revenues {
            let request = Request { project: "drone", amount: revenue, date: None };
            let result = payout::compute(&ledger, &request, &settled);
            if revenue > Decimal::from_str(MAX_AMOUNT).unwrap() {
                prop_assert_eq!(result.unwrap_err(), PayoutError::RevenueTooLarge);
                continue;
            }
            let p = match result {
                // Only the formula may pass the largest claim value, and it says so.
                Err(PayoutError::Formula { message, .. }) if formula => {
                    prop_assert!(message.contains("the largest claim value"), "{}", message);
                    continue;
                }
                other => other.unwrap(),
            };
            prop_assert_eq!(p.sum(), revenue);
            for b in &p.buckets {
                prop_assert_eq!(b.paid + b.returned, b.budget);
                prop_assert_eq!(b.lines.iter().map(|l| l.2).sum::<Decimal>(), b.paid);
                for (_, exact, amount) in &b.lines {
                    prop_assert!(*amount >= Decimal::ZERO);
                    prop_assert!((*amount - *exact).abs() < unit, "{} vs {}", amount, exact);
                }
                for c in &b.claims {
                    if let Some(o) = c.outstanding {
                        prop_assert!(c.amount <= o);
                    }
                }
            }
            // The explanation of extreme payouts is true as well.
            check_explain(&ovn::cli::payout::explain(&p), unit);
            settled.extend(p.settled());
        }
    }
}

#[test]
fn a_formula_past_the_largest_claim_value_is_a_clean_error() {
    let mut files: Vec<(&str, &str)> = PIE.to_vec();
    files[4] = (
        "agreements/pie.toml",
        "id = \"pie\"\nname = \"Slicing Pie\"\n\n[[buckets]]\nname = \"pie\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"money\"\nformula = \"amount * 100000000000000\"\n",
    );
    let ledger = load(&files);
    let err = payout::compute(&ledger, &req("app", "10"), &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("is more than 20000000000000, the largest claim value"),
        "{text}"
    );
    assert!(matches!(err, PayoutError::Formula { .. }), "{err:?}");
}

/// The contributions that more than one bucket pays a lasting claim on are told by the
/// payout itself, grouped by those buckets, whether it lists its claims or not (a preview
/// without `--explain` does not): they are the ones its listed claims show in two buckets,
/// a `once` bonus on top not counting. Each bucket counts its claims either way.
#[test]
fn contributions_claimed_twice_are_told_with_or_without_the_claims_listed() {
    let agreement = common::BASE
        .iter()
        .find(|(p, _)| *p == "agreements/drone-ve.toml")
        .map(|(_, t)| common::with_role_bucket(t))
        .unwrap()
        .replace(
            "[[buckets]]\nname = \"equity\"",
            "[[buckets]]\nname = \"bonus\"\nshare = \"5%\"\nclaim = \"once\"\n\n\
             [[buckets.rules]]\nkind = \"work\"\n\n[[buckets]]\nname = \"equity\"",
        );
    let ledger = crate::common::inline::ledger_on_base(&[("agreements/drone-ve.toml", &agreement)]);
    let request = Request {
        project: "drone",
        amount: d("3000"),
        date: None,
    };
    let p = payout_every_way(&ledger, &request, &[]);
    // From the listed claims: each contribution's buckets with a lasting claim on it.
    let mut buckets_of: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for b in &p.buckets {
        for c in b
            .claims
            .iter()
            .filter(|c| c.kind != ovn::core::record::ClaimKind::Once)
        {
            let seen = buckets_of.entry(c.contribution.as_str()).or_default();
            if seen.last() != Some(&b.name.as_str()) {
                seen.push(&b.name);
            }
        }
    }
    let mut listed: Vec<(Vec<&str>, &str)> = buckets_of
        .into_iter()
        .filter(|(_, b)| b.len() > 1)
        .map(|(c, b)| (b, c))
        .collect();
    listed.sort();
    let mut told: Vec<(Vec<&str>, &str)> = p
        .claimed_twice
        .iter()
        .flat_map(|t| {
            let names: Vec<&str> = t.buckets.iter().map(String::as_str).collect();
            t.contributions
                .iter()
                .map(move |c| (names.clone(), c.as_str()))
        })
        .collect();
    told.sort();
    assert_eq!(told, listed);
    assert_eq!(
        told,
        vec![(vec!["development", "equity"], "01aaaaaaaaaaaaaaaaaaaaaaa1")],
        "the electronics work, and not for the bonus"
    );
    assert!(p.buckets.iter().any(|b| b.name == "bonus" && b.claimed > 0));
}
