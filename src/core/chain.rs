//! The payout line: the recorded payouts of a project form one line, and a fork in it is
//! caught.
//!
//! Each payout record names the payouts of its project it follows (`follows`): the head of
//! the project's line in the ledger it was computed on, none for the first. Two payouts
//! recorded without seeing each other (on two clones or branches that are then merged or
//! rebased, or computed `--at` an older commit) both follow the same payout, so the line has
//! two heads: both repaid the same debts. The rule is pure and holds on any snapshot: the
//! payouts of a project have at most one head (a payout no other follows). A fork is
//! reported with every claim it overpaid; the way out is a *reconciliation*, a payout record
//! of amount zero that follows every head and states each overpaid claim (`[[overpaid]]`),
//! so the overpayment stays on the record and later payouts, which see the debt repaid,
//! never build on it silently.
//!
//! Records written before `follows` existed have no such field. They are assumed to form
//! one line in the order of their paths (year, then id; ids grow with the time of
//! recording), each following the one before; forks among them cannot be told apart and are
//! not reported. A record with `follows` may follow any of them.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use super::diag::{Code, Diagnostic};
use super::ledger::Ledger;
use super::payout;
use super::record::{ClaimKind, PayoutRecord};
use super::value::Id;

/// The payouts of one project, as a graph of who follows whom.
struct Graph<'l> {
    /// The project's payouts, in path order.
    nodes: Vec<&'l PayoutRecord>,
    /// For each node, the nodes it follows (explicitly, or the legacy line's previous one).
    parents: Vec<Vec<usize>>,
}

impl<'l> Graph<'l> {
    fn of(ledger: &'l Ledger, project: &str) -> Graph<'l> {
        let nodes: Vec<&PayoutRecord> = ledger
            .payouts
            .iter()
            .filter(|p| p.project.value.as_str() == project)
            .collect();
        let by_id: FxHashMap<&Id, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.id.value, i))
            .collect();
        let mut last_legacy = None;
        let parents = nodes
            .iter()
            .enumerate()
            .map(|(i, p)| match &p.follows {
                Some(f) => f
                    .value
                    .iter()
                    .filter_map(|id| by_id.get(&id.value).copied())
                    .filter(|&j| j != i)
                    .collect(),
                None => last_legacy.replace(i).into_iter().collect(),
            })
            .collect();
        Graph { nodes, parents }
    }

    /// The nodes that never reach a first payout by following (a loop of `follows`, or
    /// behind one), in path order.
    fn looping(&self) -> Vec<usize> {
        let mut children = vec![Vec::new(); self.nodes.len()];
        for (i, ps) in self.parents.iter().enumerate() {
            for &p in ps {
                children[p].push(i);
            }
        }
        let mut seen = vec![false; self.nodes.len()];
        let mut todo: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.parents[i].is_empty())
            .collect();
        while let Some(i) = todo.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                todo.extend(&children[i]);
            }
        }
        (0..self.nodes.len()).filter(|&i| !seen[i]).collect()
    }

    /// The nodes no other node follows, in path order.
    fn heads(&self) -> Vec<usize> {
        let mut followed = vec![false; self.nodes.len()];
        for ps in &self.parents {
            for &p in ps {
                followed[p] = true;
            }
        }
        (0..self.nodes.len()).filter(|&i| !followed[i]).collect()
    }
}

/// The heads of `project`'s payout line in `ledger`, in path order: none before its first
/// payout, one on a line, two or more on a fork.
pub fn heads<'l>(ledger: &'l Ledger, project: &str) -> Vec<&'l PayoutRecord> {
    let g = Graph::of(ledger, project);
    g.heads().into_iter().map(|i| g.nodes[i]).collect()
}

/// What a new payout of `project` recorded on `ledger` follows: its line's heads (empty for
/// the first payout).
pub fn follows_for_new(ledger: &Ledger, project: &str) -> Vec<Id> {
    heads(ledger, project)
        .into_iter()
        .map(|p| p.id.value.clone())
        .collect()
}

/// A debt or once claim repaid beyond what it is owed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overpaid {
    /// The contribution the claim comes from.
    pub contribution: Id,
    /// The agent paid.
    pub agent: Id,
    /// `debt` or `once`.
    pub kind: ClaimKind,
    /// What it is owed in all (a debt with its cap; a once claim its value).
    pub owed: Decimal,
    /// What recorded payouts repaid in all.
    pub repaid: Decimal,
    /// `repaid - owed`.
    pub excess: Decimal,
    /// Of `excess`, what reconciliations already state.
    pub stated: Decimal,
}

/// Every debt and once claim of `project` that its recorded payouts repaid beyond what it is
/// owed, sorted by contribution then agent, with what reconciliations already state of it.
/// Empty when the claims cannot be worked out (a broken agreement is reported on its own).
pub fn overpaid(ledger: &Ledger, project: &str) -> Vec<Overpaid> {
    let settled = payout::settled_by_records(ledger);
    let Ok(claims) = payout::claims(ledger, project, None, &settled) else {
        return Vec::new();
    };
    let mut stated: FxHashMap<(&Id, &Id, ClaimKind), Decimal> = FxHashMap::default();
    for p in ledger
        .payouts
        .iter()
        .filter(|p| p.project.value.as_str() == project)
    {
        for s in &p.overpaid {
            let e = stated
                .entry((&s.contribution.value, &s.agent.value, s.claim))
                .or_default();
            *e = e.saturating_add(s.amount);
        }
    }
    // One claim per (contribution, agent, kind): a contribution some buckets select twice
    // owes the sum, and was paid once under that key.
    let mut by_key: std::collections::BTreeMap<(Id, Id, &str), (ClaimKind, Decimal, Decimal)> =
        std::collections::BTreeMap::new();
    for c in claims {
        let owed = match c.kind {
            ClaimKind::Debt => c.owed.unwrap_or(c.value),
            ClaimKind::Once => c.value,
            ClaimKind::Equity => continue,
        };
        let e = by_key
            .entry((c.contribution.clone(), c.agent.clone(), c.kind.as_str()))
            .or_insert((c.kind, Decimal::ZERO, c.paid));
        e.1 = e.1.saturating_add(owed);
    }
    by_key
        .into_iter()
        .filter(|(_, (_, owed, repaid))| repaid > owed)
        .map(|((contribution, agent, _), (kind, owed, repaid))| {
            let stated = stated
                .get(&(&contribution, &agent, kind))
                .copied()
                .unwrap_or_default();
            Overpaid {
                contribution,
                agent,
                kind,
                owed,
                repaid,
                excess: repaid - owed,
                stated,
            }
        })
        .collect()
}

/// One line per claim of `project` repaid beyond what it is owed to an agent `keep` keeps,
/// once a reconciliation of the project states any, saying so and which reconciliations
/// state it (for the notes of `ovn payout` and
/// `ovn report claims`).
pub fn overpaid_notes(
    ledger: &Ledger,
    project: &str,
    minor_units: u32,
    keep: impl Fn(&Id) -> bool,
) -> Vec<String> {
    // Only a reconciliation leaves a valid ledger with overpaid claims: without one, the
    // project's claims are not worked out again (a preview over a large project would pay
    // for it).
    let reconciled = ledger
        .payouts
        .iter()
        .any(|p| p.project.value.as_str() == project && !p.overpaid.is_empty());
    if !reconciled {
        return Vec::new();
    }
    let money = |d: Decimal| {
        let mut d = d;
        d.rescale(minor_units);
        d
    };
    overpaid(ledger, project)
        .into_iter()
        .filter(|o| keep(&o.agent))
        .map(|o| {
            let by: Vec<&str> = ledger
                .payouts
                .iter()
                .filter(|p| p.project.value.as_str() == project)
                .filter(|p| {
                    p.overpaid.iter().any(|s| {
                        s.contribution.value == o.contribution
                            && s.agent.value == o.agent
                            && s.claim == o.kind
                    })
                })
                .map(|p| p.id.value.as_str())
                .collect();
            let stated = if by.is_empty() {
                "stated by no reconciliation".to_owned()
            } else {
                format!("stated by reconciliation {}", by.join(", "))
            };
            format!(
                "overpaid: {} on {} ({}) was repaid {} of {} owed, {} beyond ({stated})",
                o.agent,
                o.contribution,
                o.kind.as_str(),
                money(o.repaid),
                money(o.owed),
                money(o.excess)
            )
        })
        .collect()
}

/// The ledger-wide check: each project's payouts form one line. A `follows` naming no
/// payout of the project is a broken reference; a line with two heads is a fork, reported
/// on each head (at its `follows`) and on each claim the fork overpaid beyond what
/// reconciliations state (at the last `[[settled]]` entry that paid it).
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let mut projects: Vec<&Id> = ledger.payouts.iter().map(|p| &p.project.value).collect();
    projects.sort_unstable();
    projects.dedup();
    let by_id: FxHashMap<&Id, &PayoutRecord> =
        ledger.payouts.iter().map(|p| (&p.id.value, p)).collect();
    for p in &ledger.payouts {
        let Some(follows) = &p.follows else { continue };
        for f in &follows.value {
            let target = by_id.get(&f.value);
            let problem = match target {
                None => format!("`follows` names payout `{}`, which does not exist", f.value),
                Some(q) if q.project.value != p.project.value => format!(
                    "`follows` names payout `{}`, which is a payout of project `{}`, not `{}`",
                    f.value, q.project.value, p.project.value
                ),
                Some(q) if q.id.value == p.id.value => "a payout cannot follow itself".to_owned(),
                Some(_) => continue,
            };
            diags.push(
                Diagnostic::new(Code::UnknownReference, ledger.path(p.file), Some(f.span), problem)
                    .with_hint(
                        "`follows` names the payouts of the same project this one was computed after; `ovn payout --record` writes it",
                    ),
            );
        }
    }
    for project in projects {
        let g = Graph::of(ledger, project.as_str());
        for i in g.looping() {
            let p = g.nodes[i];
            diags.push(
                Diagnostic::new(
                    Code::PayoutFork,
                    ledger.path(p.file),
                    Some(p.follows.as_ref().map_or(p.id.span, |f| f.span)),
                    format!(
                        "payout `{}` of project `{project}` follows payouts that loop back to it: the line has no start",
                        p.id.value
                    ),
                )
                .with_hint("`follows` names the payouts this one was computed after; the first payout follows none"),
            );
        }
        let heads = g.heads();
        if heads.len() < 2 {
            continue;
        }
        fork(ledger, project, &g, &heads, diags);
    }
}

/// Reports a fork of `project`'s line: each head, then each claim overpaid.
fn fork(
    ledger: &Ledger,
    project: &Id,
    g: &Graph<'_>,
    heads: &[usize],
    diags: &mut Vec<Diagnostic>,
) {
    let hint = format!(
        "record `ovn payout reconcile -p {project}`: a reconciliation follows every head and states each overpaid claim (see PAYOUT LINE in ovn-ledger(5))"
    );
    for &h in heads {
        let p = g.nodes[h];
        let others: Vec<String> = heads
            .iter()
            .filter(|&&o| o != h)
            .map(|&o| {
                format!(
                    "`{}` ({})",
                    g.nodes[o].id.value,
                    ledger.path(g.nodes[o].file)
                )
            })
            .collect();
        let after = match g.parents[h].as_slice() {
            [] => "as the first payout of the project".to_owned(),
            ps => format!(
                "after {}",
                ps.iter()
                    .map(|&q| format!("`{}`", g.nodes[q].id.value))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        };
        let span = p.follows.as_ref().map_or(p.id.span, |f| f.span);
        diags.push(
            Diagnostic::new(
                Code::PayoutFork,
                ledger.path(p.file),
                Some(span),
                format!(
                    "payout `{}` of project `{project}` was computed {after} without seeing payout {}: the project's payouts fork",
                    p.id.value,
                    others.join(", ")
                ),
            )
            .with_hint(hint.clone()),
        );
    }
    for o in overpaid(ledger, project.as_str()) {
        let unstated = o.excess - o.stated.min(o.excess);
        if unstated.is_zero() {
            continue;
        }
        // At the last entry that paid it, in path order.
        let at = g.nodes.iter().rev().find_map(|p| {
            p.settled
                .iter()
                .find(|s| {
                    s.contribution.value == o.contribution
                        && s.agent.value == o.agent
                        && s.claim == o.kind
                })
                .map(|s| (p, s.contribution.span))
        });
        let Some((p, span)) = at else { continue };
        diags.push(
            Diagnostic::new(
                Code::PayoutFork,
                ledger.path(p.file),
                Some(span),
                format!(
                    "the {} claim of {} on contribution `{}` is repaid {} in all but owed {}: overpaid by {} through the fork",
                    o.kind.as_str(),
                    o.agent,
                    o.contribution,
                    o.repaid,
                    o.owed,
                    unstated
                ),
            )
            .with_hint(hint.clone()),
        );
    }
}

/// What a reconciliation of `project`'s fork states: the heads it follows and, for each
/// claim the fork overpaid, what no earlier reconciliation states yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    /// The project.
    pub project: Id,
    /// The heads of the line, in path order.
    pub follows: Vec<Id>,
    /// The agreement of the last head (a record names one).
    pub agreement: Id,
    /// Each overpaid claim, `excess` less what is already stated.
    pub overpaid: Vec<Overpaid>,
}

/// The reconciliation `project`'s line needs, or `None` when it has no fork.
pub fn reconciliation(ledger: &Ledger, project: &str) -> Option<Reconciliation> {
    let heads = heads(ledger, project);
    let last = heads.last()?;
    if heads.len() < 2 {
        return None;
    }
    let overpaid = overpaid(ledger, project)
        .into_iter()
        .filter(|o| o.excess > o.stated)
        .collect();
    Some(Reconciliation {
        project: last.project.value.clone(),
        follows: heads.iter().map(|p| p.id.value.clone()).collect(),
        agreement: last.agreement.value.clone(),
        overpaid,
    })
}

/// What identifies a reconciliation record besides what it states.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// Its id.
    pub id: Id,
    /// Its date.
    pub date: chrono::NaiveDate,
    /// Its memo.
    pub memo: Option<String>,
    /// The commit it was made at.
    pub commit: String,
}

/// The payout record of `r`: amount zero, no lines, `follows` every head and
/// one `[[overpaid]]` entry per claim, with a digest of what it was derived from (the
/// project's payouts, by id, and what they settled and stated).
pub fn reconciliation_record(ledger: &Ledger, r: &Reconciliation, stamp: Stamp) -> PayoutRecord {
    use super::record::{At, SettledClaim};
    use std::fmt::Write as _;

    let network = ledger.network.as_ref();
    let minor_units = network.map_or(2, |n| n.minor_units);
    let fixed = |d: Decimal| {
        let mut d = d;
        d.rescale(minor_units);
        d
    };
    let mut text = format!("ovn reconciliation v1\nproject {}\n", r.project);
    for p in ledger
        .payouts
        .iter()
        .filter(|p| p.project.value == r.project)
    {
        let _ = writeln!(text, "payout {} {}", p.id.value, p.digest);
        for (word, claims) in [("settled", &p.settled), ("overpaid", &p.overpaid)] {
            for s in claims {
                let _ = writeln!(
                    text,
                    "{word} {} {} {} {}",
                    s.contribution.value,
                    s.agent.value,
                    s.claim.as_str(),
                    s.amount.normalize()
                );
            }
        }
    }
    let digest = super::value::sha256_text(&text);
    PayoutRecord {
        file: 0,
        id: At::new(stamp.id),
        project: At::new(r.project.clone()),
        agreement: At::new(r.agreement.clone()),
        date: At::new(stamp.date),
        amount: At::new(fixed(Decimal::ZERO)),
        currency: network.map_or("EUR", |n| n.currency.as_str()).to_owned(),
        memo: stamp.memo,
        commit: stamp.commit,
        digest,
        follows: Some(At::new(r.follows.iter().cloned().map(At::new).collect())),
        parent: None,
        lines: Vec::new(),
        settled: Vec::new(),
        overpaid: r
            .overpaid
            .iter()
            .map(|o| SettledClaim {
                contribution: At::new(o.contribution.clone()),
                agent: At::new(o.agent.clone()),
                claim: o.kind,
                amount: fixed(o.excess - o.stated),
            })
            .collect(),
        source: None,
    }
}
