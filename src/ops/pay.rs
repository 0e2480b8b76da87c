//! `ovn pay`: which payout lines a request pays, and how much, before anything is written.
//!
//! The rules of a payment live here rather than in the command: a payout is named by a
//! unique prefix of its id; a line by its agent (and bucket, when the agent has several), by
//! its number, or all outstanding lines at once; the amount defaults to what is outstanding
//! and is never more; a line with nothing outstanding is refused. A refund (money an agent
//! returns) is the same record with `refund = true`, at most what the line was paid, by
//! default the excess of an overpaid line: the way out of two payments recorded in parallel.
//!
//! [`plan`] is a pure function of the ledger the write is judged against (read inside the
//! write's transaction, on the branch tip, by [`base`]), so a payment recorded meanwhile on
//! the same branch is counted. Payments recorded on another branch are not: their merge is
//! judged by `ovn check`, whose overpayment rule holds on any snapshot (see
//! `core::payment`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Error;
use super::write::Base;
use crate::core::ledger::{Ledger, RecordType};
use crate::core::payment::{self, LineBalance, Payment};
use crate::core::payout::money;
use crate::core::record::{At, PayoutRecord};
use crate::core::value::Id;
use crate::store::{StoreError, View};

/// Which lines of the payout a request pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lines {
    /// The line of this agent (in this bucket, when given).
    Agent(Id, Option<String>),
    /// The line with this number (1-based, in the payout's order, as reports list them).
    Number(usize),
    /// Every line with something outstanding.
    All,
}

/// A payment request, as the command line gives it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The payout's id or a unique prefix of it.
    pub payout: String,
    /// Which lines.
    pub lines: Lines,
    /// How much (one line only); `None`: what is outstanding (for a refund: the excess).
    pub amount: Option<Decimal>,
    /// The day the money moved.
    pub date: NaiveDate,
    /// How it was paid.
    pub method: String,
    /// The bank's reference.
    pub reference: Option<String>,
    /// A note.
    pub memo: Option<String>,
    /// Whether the agent returns money rather than receives it.
    pub refund: bool,
}

/// The ledger a payment is judged against: the small folders, the payouts and the
/// payments (no contribution is needed to know what a line owes).
pub fn base(view: &View<'_>) -> Result<Base, StoreError> {
    Base::read(
        view,
        &[RecordType::Payout.folder(), RecordType::Payment.folder()],
        &[],
    )
}

/// The payout `given` names: its id, or the one payout whose id starts with it.
pub fn find_payout<'l>(ledger: &'l Ledger, given: &str) -> Result<&'l PayoutRecord, Error> {
    if let Some(p) = ledger.payouts.iter().find(|p| p.id.value.as_str() == given) {
        return Ok(p);
    }
    let found: Vec<&PayoutRecord> = if given.is_empty() {
        Vec::new()
    } else {
        ledger
            .payouts
            .iter()
            .filter(|p| p.id.value.as_str().starts_with(given))
            .collect()
    };
    let shown = crate::core::render::visible(given);
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            let broken = Id::parse(given)
                .is_ok_and(|id| ledger.index.contains(RecordType::Payout, id.as_str()));
            Err(Error::usage(
                if broken {
                    format!("payout {shown} has problems of its own")
                } else {
                    format!("no recorded payout has the id {shown}")
                },
                Some(if broken {
                    "run `ovn check` and fix the record first".to_owned()
                } else {
                    "`ovn report payouts` lists the recorded payouts and their ids".to_owned()
                }),
            ))
        }
        many => Err(Error::usage(
            format!("{} payouts have ids starting with {shown}", many.len()),
            Some(format!(
                "give more of the id: {}",
                many.iter()
                    .map(|p| p.id.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// The refusal of a request for a line that pays a project (see `core::cascade`): it is
/// settled by its sub-payout, whose lines are the ones to pay.
fn project_line(payout: &PayoutRecord, lines: &Lines) -> Option<Error> {
    let (n, line) = payout.lines.iter().enumerate().find(|(n, l)| {
        l.project.is_some()
            && match lines {
                Lines::All => false,
                Lines::Number(k) => *k == n + 1,
                Lines::Agent(agent, bucket) => {
                    l.agent.value == *agent && bucket.as_ref().is_none_or(|k| *k == l.bucket)
                }
            }
    })?;
    let sub = line.payout.as_ref().map_or("", |p| p.value.as_str());
    Some(Error::usage(
        format!(
            "line {} of payout {} pays project `{}`: it is settled by its sub-payout {sub}, not paid",
            n + 1,
            payout.id.value,
            line.agent.value
        ),
        Some(format!(
            "pay the lines of the sub-payout: ovn pay {sub} --all (see `ovn report payouts`)"
        )),
    ))
}

/// The balances of the lines the request selects.
fn selected(
    ledger: &Ledger,
    payout: &PayoutRecord,
    lines: &Lines,
) -> Result<Vec<LineBalance>, Error> {
    let all = payment::payout_balances(ledger, payout.id.value.as_str());
    if let Some(refused) = project_line(payout, lines) {
        return Err(refused);
    }
    let listing = || {
        all.iter()
            .map(|b| {
                format!(
                    "{} {}/{}",
                    b.number,
                    b.agent,
                    crate::core::render::visible(&b.bucket)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if all.is_empty() {
        return Err(Error::usage(
            format!(
                "payout {} pays nobody (a reconciliation): it has no line to pay",
                payout.id.value
            ),
            None,
        ));
    }
    match lines {
        Lines::All => Ok(all),
        Lines::Number(n) => match all.iter().find(|b| b.number == *n) {
            Some(b) => Ok(vec![b.clone()]),
            None => Err(Error::usage(
                format!(
                    "payout {} has no line {n} (it has {})",
                    payout.id.value,
                    all.len()
                ),
                Some(format!("its lines: {}", listing())),
            )),
        },
        Lines::Agent(agent, bucket) => {
            let mine: Vec<&LineBalance> = all
                .iter()
                .filter(|b| b.agent == *agent && bucket.as_ref().is_none_or(|k| *k == b.bucket))
                .collect();
            match mine.as_slice() {
                [one] => Ok(vec![(*one).clone()]),
                [] => Err(Error::usage(
                    match bucket {
                        Some(k) => format!(
                            "payout {} has no line for {agent} in bucket {}",
                            payout.id.value,
                            crate::core::render::visible(k)
                        ),
                        None => format!("payout {} has no line for {agent}", payout.id.value),
                    },
                    Some(format!("its lines: {}", listing())),
                )),
                _ => Err(Error::usage(
                    format!(
                        "{agent} has {} lines in payout {}: say which",
                        mine.len(),
                        payout.id.value
                    ),
                    Some(format!("give --bucket or --line; its lines: {}", listing())),
                )),
            }
        }
    }
}

/// The payment records the request makes on `ledger`, one per line, with ids from `ids`;
/// refused (nothing written) for an unknown payout or line, a line with nothing
/// outstanding, an amount above what is outstanding (for a refund: above what was paid),
/// or an amount given with `All`.
pub fn plan<E: From<Error>>(
    ledger: &Ledger,
    req: &Request,
    mut ids: impl FnMut() -> Result<Id, E>,
) -> Result<Vec<Payment>, E> {
    let currency = ledger.network.as_ref().map(|n| n.currency.clone());
    let mut out = Vec::new();
    for (b, amount) in amounts(ledger, req)? {
        out.push(Payment {
            file: 0,
            id: At::new(ids()?),
            payout: At::new(b.payout),
            agent: At::new(b.agent),
            bucket: At::new(b.bucket),
            amount: At::new(amount),
            currency: currency.clone().unwrap_or_default(),
            date: At::new(req.date),
            method: req.method.clone(),
            reference: req.reference.clone(),
            memo: req.memo.clone(),
            refund: req.refund,
        });
    }
    Ok(out)
}

/// The lines [`plan`] pays and how much on each (rescaled to the currency's places).
///
/// Long because it is the whole rule set of a payment, one refusal after the other.
fn amounts(ledger: &Ledger, req: &Request) -> Result<Vec<(LineBalance, Decimal)>, Error> {
    let Some(network) = &ledger.network else {
        return Err(Error::usage(
            "ovn.toml has problems, so nothing can be recorded",
            Some("run `ovn check` and fix ovn.toml first".to_owned()),
        ));
    };
    let mu = network.minor_units;
    let payout = find_payout(ledger, &req.payout)?;
    if req.lines == Lines::All && req.amount.is_some() {
        return Err(Error::usage(
            "--amount pays one line; --all pays what is outstanding on each",
            Some("drop --amount, or name one line with --agent or --line".to_owned()),
        ));
    }
    if let Some(a) = req.amount {
        if a <= Decimal::ZERO {
            return Err(Error::usage(
                format!("--amount must be greater than zero, not {a}"),
                None,
            ));
        }
        if a.normalize().scale() > mu {
            return Err(Error::usage(
                format!(
                    "--amount {a} has more than the {mu} decimal places of {}",
                    network.currency
                ),
                None,
            ));
        }
    }
    if req.date < payout.date.value {
        return Err(Error::usage(
            format!(
                "--date {} is before the payout's date {}: a line is paid once it is owed",
                req.date, payout.date.value
            ),
            None,
        ));
    }
    let chosen = selected(ledger, payout, &req.lines)?;
    let mut out = Vec::new();
    for b in chosen {
        let outstanding = b.outstanding();
        let what = format!(
            "{}'s line {} of payout {}",
            b.agent,
            crate::core::render::visible(&b.bucket),
            b.payout
        );
        let amount = if req.refund {
            let excess = -outstanding;
            match req.amount {
                Some(a) if a > b.paid => {
                    return Err(Error::usage(
                        format!(
                            "a refund of {} is more than the {} paid on {what}",
                            money(a, mu),
                            money(b.paid, mu)
                        ),
                        None,
                    ));
                }
                Some(a) => a,
                None if excess > Decimal::ZERO => excess,
                // With --all, a refund returns the excess of each overpaid line.
                None if req.lines == Lines::All => continue,
                None => {
                    return Err(Error::usage(
                        format!("{what} is not overpaid: say how much is refunded"),
                        Some("give --amount".to_owned()),
                    ));
                }
            }
        } else {
            if outstanding <= Decimal::ZERO {
                if req.lines == Lines::All {
                    continue;
                }
                return Err(Error::usage(
                    format!(
                        "nothing is outstanding on {what}: {} owed, {} paid",
                        money(b.owed, mu),
                        money(b.paid, mu)
                    ),
                    None,
                ));
            }
            match req.amount {
                Some(a) if a > outstanding => {
                    return Err(Error::usage(
                        format!(
                            "{} is more than the {} outstanding on {what} ({} owed, {} paid)",
                            money(a, mu),
                            money(outstanding, mu),
                            money(b.owed, mu),
                            money(b.paid, mu)
                        ),
                        Some("a line is never paid more than it owes".to_owned()),
                    ));
                }
                Some(a) => a,
                None => outstanding,
            }
        };
        let mut amount = amount;
        amount.rescale(mu);
        out.push((b, amount));
    }
    if out.is_empty() && req.refund {
        return Err(Error::usage(
            format!("no line of payout {} is overpaid", payout.id.value),
            Some(
                "say which line and how much is refunded: --agent or --line, and --amount"
                    .to_owned(),
            ),
        ));
    }
    if out.is_empty() {
        return Err(Error::usage(
            format!(
                "nothing is outstanding on payout {}: every line is paid",
                payout.id.value
            ),
            None,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{RawFile, load};

    fn ledger(payments: &[&str]) -> Ledger {
        let mut files = vec![
            RawFile { path: "ovn.toml".into(), bytes: b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\n".to_vec() },
            RawFile { path: "agents/ana.toml".into(), bytes: b"id = \"ana\"\nname = \"Ana\"\n".to_vec() },
            RawFile { path: "agents/ben.toml".into(), bytes: b"id = \"ben\"\nname = \"Ben\"\n".to_vec() },
            RawFile {
                path: "payouts/2026/p1.toml".into(),
                bytes: b"id = \"p1\"\nproject = \"drone\"\nagreement = \"ve\"\ndate = 2026-11-30\namount = \"100.00\"\ncurrency = \"EUR\"\ncommit = \"0123456789012345678901234567890123456789\"\ndigest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"60.00\"\n\n[[lines]]\nagent = \"ben\"\nbucket = \"equity\"\namount = \"30.00\"\n\n[[lines]]\nagent = \"ben\"\nbucket = \"debt\"\namount = \"10.00\"\n".to_vec(),
            },
        ];
        for (i, amount) in payments.iter().enumerate() {
            files.push(RawFile {
                path: format!("payments/2026/q{i}.toml"),
                bytes: format!("id = \"q{i}\"\npayout = \"p1\"\nagent = \"ana\"\nbucket = \"equity\"\namount = \"{amount}\"\ncurrency = \"EUR\"\ndate = 2026-12-01\nmethod = \"cash\"\n").into_bytes(),
            });
        }
        load(&files).ledger
    }

    fn req(lines: Lines, amount: Option<i64>) -> Request {
        Request {
            payout: "p".to_owned(),
            lines,
            amount: amount.map(|a| Decimal::new(a, 2)),
            date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            method: "cash".to_owned(),
            reference: None,
            memo: None,
            refund: false,
        }
    }

    fn ids() -> impl FnMut() -> Result<Id, Error> {
        let mut n = 0;
        move || {
            n += 1;
            Ok(Id::parse(&format!("n{n}")).unwrap())
        }
    }

    fn ana() -> Lines {
        Lines::Agent(Id::parse("ana").unwrap(), None)
    }

    #[test]
    fn the_default_amount_is_what_is_outstanding() {
        let l = ledger(&["20.00"]);
        let p = plan(&l, &req(ana(), None), ids()).unwrap();
        assert_eq!(p[0].amount.value.to_string(), "40.00");
        let p = plan(&l, &req(Lines::All, None), ids()).unwrap();
        let amounts: Vec<String> = p.iter().map(|p| p.amount.value.to_string()).collect();
        assert_eq!(amounts, ["40.00", "30.00", "10.00"]);
        let p = plan(&l, &req(Lines::Number(3), Some(500)), ids()).unwrap();
        assert_eq!(
            (
                p[0].bucket.value.as_str(),
                p[0].amount.value.to_string().as_str()
            ),
            ("debt", "5.00")
        );
    }

    #[test]
    fn overpaying_and_unknown_lines_are_refused() {
        let l = ledger(&["20.00"]);
        let e = plan(&l, &req(ana(), Some(4001)), ids()).unwrap_err();
        assert!(
            e.to_string()
                .contains("40.01 is more than the 40.00 outstanding"),
            "{e}"
        );
        let ben = Lines::Agent(Id::parse("ben").unwrap(), None);
        assert!(
            plan(&l, &req(ben, None), ids())
                .unwrap_err()
                .to_string()
                .contains("ben has 2 lines")
        );
        let cy = Lines::Agent(Id::parse("cy").unwrap(), None);
        assert!(
            plan(&l, &req(cy, None), ids())
                .unwrap_err()
                .to_string()
                .contains("no line for cy")
        );
        assert!(plan(&l, &req(Lines::Number(4), None), ids()).is_err());
        let l = ledger(&["60.00"]);
        assert!(
            plan(&l, &req(ana(), None), ids())
                .unwrap_err()
                .to_string()
                .contains("nothing is outstanding")
        );
        let mut r = req(ana(), None);
        r.payout = "x".to_owned();
        assert!(
            plan(&l, &r, ids())
                .unwrap_err()
                .to_string()
                .contains("no recorded payout")
        );
    }

    #[test]
    fn a_refund_defaults_to_the_excess_of_an_overpaid_line() {
        let l = ledger(&["60.00", "60.00"]);
        let mut r = req(ana(), None);
        r.refund = true;
        let p = plan(&l, &r, ids()).unwrap();
        assert_eq!(
            (p[0].refund, p[0].amount.value.to_string().as_str()),
            (true, "60.00")
        );
        r.amount = Some(Decimal::new(12001, 2));
        assert!(plan(&l, &r, ids()).is_err());
        // With --all, each overpaid line returns its excess; the others are left alone.
        let mut all = req(Lines::All, None);
        all.refund = true;
        let p = plan(&l, &all, ids()).unwrap();
        assert_eq!(p.len(), 1);
        let l = ledger(&["10.00"]);
        assert!(
            plan(&l, &all, ids())
                .unwrap_err()
                .to_string()
                .contains("is overpaid")
        );
    }
}
