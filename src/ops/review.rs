//! A review's payout impact: for each project a change touches, every agent's payout before
//! and after it.
//!
//! The arithmetic is the core's (`core::payout`, `core::review::impact`); what lives here is
//! the planning around it, which decides the cost of a review on a large ledger. When no
//! agreement changed, the projects are known from the change itself and only their
//! contributions are needed: both revisions are loaded quickly (from the folders' summaries)
//! side by side. A changed agreement may touch any project that uses it, which only the
//! head's projects can say; that, and anything a quick load cannot answer, loads in full, one
//! revision at a time, so at most one whole ledger is in memory. A revision whose totals were
//! kept by an earlier review or payout is not loaded at all.
//!
//! Under a policy asking for approvals each side pays what `ovn payout` would pay there,
//! with the rules in force ([`super::rules`]) and without what still awaits approvals
//! ([`super::payout::unapproved`]); the totals worked out on each side are kept in the
//! cache ([`crate::cache::totals`]) for the next review on top of the same revision.

use std::collections::{BTreeSet, HashSet};

use crate::store::Oid;
use rust_decimal::Decimal;
use serde::Serialize;

use super::load::{self, Pick};
use crate::cache::totals;
use crate::core::cascade;
use crate::core::diag::{Code, Diagnostic};
use crate::core::fx;
use crate::core::ledger::{self, Ledger, NETWORK_FILE, RawFile, RecordType};
use crate::core::payout::{self, Payout, Request};
use crate::core::record::PayoutRecord;
use crate::core::review::{self, AgentImpact};
use crate::core::value::Id;
use crate::store::{FileChange, ResolvedRev, Store, StoreError};

/// Why a project's payout impact is not shown.
pub const NO_AMOUNT: &str = "no --amount given and no recorded payout to take it from";

/// What a review takes of a payout: each agent's total, none when the project does not exist
/// at the revision, or why it cannot be worked out (kept as such by the cache).
pub use crate::cache::totals::Totals;

/// The payout impact on one project.
#[derive(Clone, Debug, Serialize)]
pub struct Impact {
    /// The project.
    pub project: String,
    /// The revenue the payouts share; `None` when there is none to take.
    pub amount: Option<Decimal>,
    /// Why the impact is not computed, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Each agent's payout before and after.
    pub agents: Vec<AgentImpact>,
    /// Under a policy asking for approvals, what the change's own contributions that still
    /// await approval would change once approved (`None` when none awaits).
    pub awaiting_approval: Option<Awaiting>,
    /// When the project's agreement pays projects (at the head): the projects its cascade
    /// pays through, whose agents `agents` counts in (each agent's total over every level).
    pub sub_projects: Vec<String>,
}

/// The part of a change that counts for nothing yet: its contributions awaiting approval,
/// and each agent's payout at the head without them (`before`) and with them (`after`).
#[derive(Clone, Debug, Serialize)]
pub struct Awaiting {
    /// The contributions of the change, of this project, still awaiting approval, sorted.
    pub contributions: Vec<String>,
    /// What they would change once approved.
    pub agents: Vec<AgentImpact>,
}

/// The projects a change touches and the amounts to pay out, as far as the change's own
/// records say (`looked_up` is `None` when a changed agreement leaves the projects open).
struct Plan {
    projects: BTreeSet<String>,
    agreements: BTreeSet<String>,
    named: Vec<String>,
    looked_up: Option<Vec<Option<Decimal>>>,
    /// The contributions the change adds or changes, with their projects.
    own: Vec<(Id, String)>,
}

impl Plan {
    fn new(
        store: &Store,
        head: &ResolvedRev,
        old: &Ledger,
        new: &Ledger,
        amount: Option<Decimal>,
    ) -> Result<Plan, StoreError> {
        let mut projects: BTreeSet<String> = BTreeSet::new();
        for l in [old, new] {
            projects.extend(l.contributions.iter().map(|c| c.project.value.to_string()));
        }
        let mut agreements: BTreeSet<String> = old
            .agreements
            .iter()
            .chain(&new.agreements)
            .map(|a| a.id.value.to_string())
            .collect();
        // A departure (or a return) moves the payouts of every project whose agreement has
        // leaver terms, as a changed agreement would.
        if crate::core::leave::departures_changed(&old.agents, &new.agents) {
            let small = load::part(
                store,
                &head.id(),
                &[Pick::Tree(RecordType::Agreement.folder())],
            )?;
            agreements.extend(
                small
                    .ledger()
                    .agreements
                    .iter()
                    .filter(|a| !a.leaving.keeps_all())
                    .map(|a| a.id.value.to_string()),
            );
        }
        let named: Vec<String> = projects.iter().cloned().collect();
        // The amounts: --amount, or each project's last recorded payout at the head (its
        // small payouts/ folder read alone, so the base's kept totals can be looked up first).
        let looked_up = match amount {
            _ if !agreements.is_empty() => None,
            _ if projects.is_empty() => None,
            Some(a) => Some(named.iter().map(|_| Some(a)).collect()),
            None => {
                let recorded = load::part(
                    store,
                    &head.id(),
                    &[Pick::Tree(RecordType::Payout.folder())],
                )?;
                let recorded = &recorded.ledger().payouts;
                Some(named.iter().map(|p| last_recorded(recorded, p)).collect())
            }
        };
        let own = new
            .contributions
            .iter()
            .map(|c| (c.id.value.clone(), c.project.value.to_string()))
            .collect();
        Ok(Plan {
            projects,
            agreements,
            named,
            looked_up,
            own,
        })
    }
}

/// Payouts before and after the change from `base` to `head` (whose changed files, read on
/// each side, are `old` and `new`), per affected project, for `amount` or each project's
/// last recorded payout.
pub fn impact(
    store: &Store,
    base: &ResolvedRev,
    head: &ResolvedRev,
    old: &Ledger,
    new: &Ledger,
    amount: Option<Decimal>,
) -> Result<Vec<Impact>, StoreError> {
    let plan = Plan::new(store, head, old, new, amount)?;
    if plan.projects.is_empty() && plan.agreements.is_empty() {
        return Ok(Vec::new());
    }
    // No amount for any project: nothing to pay out on either side, nothing to load.
    if plan
        .looked_up
        .as_ref()
        .is_some_and(|l| l.iter().all(Option::is_none))
    {
        return Ok(plan
            .named
            .into_iter()
            .map(|project| Impact {
                project,
                amount: None,
                note: Some(NO_AMOUNT.to_owned()),
                agents: Vec::new(),
                awaiting_approval: None,
                sub_projects: Vec::new(),
            })
            .collect());
    }
    // A policy asking for approvals (in the files on either side, or in force at the base)
    // needs whole ledgers: approvals and statuses are not in a quick load.
    let approvals = asks(old)
        || asks(new)
        || super::rules::rules(store, base.commit())?.is_some_and(|r| asks(&r));
    let kept_before: Option<Vec<Totals>> = plan.looked_up.as_ref().and_then(|amounts| {
        plan.named
            .iter()
            .zip(amounts)
            .map(|(p, a)| match a {
                Some(a) => totals::get(store, base.commit(), p, *a),
                None => Some(Ok(None)),
            })
            .collect()
    });
    let (after, before) = load_sides(store, base, head, &plan, approvals, kept_before.is_none())?;
    compare(
        store,
        base,
        head,
        plan,
        amount,
        approvals,
        kept_before,
        after,
        before,
    )
}

/// Whether `l`'s policy asks for approvals.
fn asks(l: &Ledger) -> bool {
    l.network
        .as_ref()
        .is_some_and(|n| n.validation.approvals > 0)
}

/// The head's ledger and, when both could be loaded quickly side by side, the base's.
fn load_sides(
    store: &Store,
    base: &ResolvedRev,
    head: &ResolvedRev,
    plan: &Plan,
    approvals: bool,
    need_before: bool,
) -> Result<(ledger::Loaded, Option<ledger::Loaded>), StoreError> {
    let scoped: Vec<&str> = plan.named.iter().map(String::as_str).collect();
    // The contributions of the named projects are all a payout of them reads.
    let quick = |scoped: &[&str]| -> Result<Option<Sides>, StoreError> {
        if approvals || !plan.agreements.is_empty() {
            return Ok(None);
        }
        if !need_before {
            return Ok(load::quickly(store, head, scoped)?.map(|after| (after.for_need(), None)));
        }
        let other = store.reopen()?;
        let (after, before) = std::thread::scope(|scope| {
            let before = scope.spawn(move || load::quickly(&other, base, scoped));
            let after = load::quickly(store, head, scoped);
            (after, before.join())
        });
        Ok(match (after?, before.unwrap_or(Ok(None))?) {
            (Some(after), Some(before)) => Some((after.for_need(), Some(before.for_need()))),
            _ => None,
        })
    };
    let mut sides = quick(&scoped)?;
    // A project paying projects pays through its cascade, which reads the contributions of
    // every project it reaches (on either side): loaded again for them all.
    let mut wider: Vec<String> = Vec::new();
    for side in sides.iter().flat_map(|(a, b)| std::iter::once(a).chain(b)) {
        wider.extend(cascade::reach(&side.ledger, &scoped));
    }
    wider.sort();
    wider.dedup();
    if wider.len() > scoped.len() {
        // Freed before the wider load.
        drop(sides.take());
        let wider: Vec<&str> = wider.iter().map(String::as_str).collect();
        sides = quick(&wider)?;
    }
    Ok(match sides {
        Some(sides) => sides,
        None => (load::whole(store, head)?, None),
    })
}

/// The head's ledger and, when it was loaded beside it, the base's.
type Sides = (ledger::Loaded, Option<ledger::Loaded>);

/// Works the payouts out on both sides (the base's from kept totals, the quick load, or a
/// whole load made now, after the head's is freed) and compares them.
///
/// Long because the order of the steps is what keeps one whole ledger in memory at a time;
/// each step is a few lines.
#[allow(clippy::too_many_arguments)]
fn compare(
    store: &Store,
    base: &ResolvedRev,
    head: &ResolvedRev,
    plan: Plan,
    amount: Option<Decimal>,
    approvals: bool,
    kept_before: Option<Vec<Totals>>,
    after: ledger::Loaded,
    mut before: Option<ledger::Loaded>,
) -> Result<Vec<Impact>, StoreError> {
    let (base_id, head_id) = (base.commit(), head.commit());
    let own = plan.own;
    let mut projects = plan.projects;
    for p in &after.ledger.projects {
        if p.agreement
            .as_ref()
            .is_some_and(|a| plan.agreements.contains(a.value.as_str()))
        {
            projects.insert(p.id.value.to_string());
        }
    }
    let amounts: Vec<(String, Option<Decimal>)> = projects
        .into_iter()
        .map(|project| {
            let a = amount.or_else(|| last_recorded(&after.ledger.payouts, &project));
            (project, a)
        })
        .collect();
    // Kept totals only stand for the base if they are for these very amounts (the head's
    // payouts read in full say the same as read alone, unless they have problems).
    let same_amounts = plan.looked_up.is_some_and(|l| {
        l.len() == amounts.len() && l.iter().zip(&amounts).all(|(a, (_, b))| a == b)
    });
    let kept_before = kept_before.filter(|_| same_amounts);
    // Under a policy asking for approvals, each side pays what `ovn payout` would pay there:
    // contributions still awaiting approval are left out (both ledgers are then whole).
    let unapproved =
        |at: &ResolvedRev, loaded: &ledger::Loaded| -> Result<HashSet<Id>, StoreError> {
            if approvals {
                super::payout::unapproved(store, at, &loaded.ledger)
            } else {
                Ok(HashSet::new())
            }
        };
    let payouts = |loaded: &ledger::Loaded, unapproved: &HashSet<Id>| -> Vec<Totals> {
        amounts
            .iter()
            .map(|(project, a)| match a {
                Some(a) => compute(loaded, unapproved, project, *a),
                None => Ok(None),
            })
            .collect()
    };
    // Kept for the next review on top of either revision.
    let keep = |at: Oid, worked_out: &[Totals]| {
        for ((project, a), t) in amounts.iter().zip(worked_out) {
            if let Some(a) = a {
                totals::put(store, at, project, *a, t);
            }
        }
    };
    let unapproved_after = unapproved(head, &after)?;
    let (payouts_after, payouts_before) = match &before {
        Some(before) => {
            let unapproved_before = unapproved(base, before)?;
            let (a, b) = rayon::join(
                || payouts(&after, &unapproved_after),
                || payouts(before, &unapproved_before),
            );
            keep(base_id, &b);
            (a, Some(b))
        }
        None => (payouts(&after, &unapproved_after), kept_before),
    };
    keep(head_id, &payouts_after);
    // What the change's contributions awaiting approval would pay once approved: the head
    // again, with them counted. Not kept: no revision pays this.
    let awaiting: Vec<(Id, String)> = own
        .into_iter()
        .filter(|(id, _)| unapproved_after.contains(id))
        .collect();
    let payouts_approved =
        (!awaiting.is_empty()).then(|| payouts(&after, &without(&unapproved_after, &awaiting)));
    // The sub-projects each project's payout cascades into, said beside its impact.
    let subs: Vec<Vec<String>> = amounts
        .iter()
        .map(|(project, _)| cascade::sub_projects(&after.ledger, project))
        .collect();
    // Freed while the base loads (or the report is written), rather than before.
    super::discard(after);
    let payouts_before = match payouts_before {
        Some(kept) => kept,
        None => {
            let loaded = match before.take() {
                Some(before) => before,
                None => load::whole(store, base)?,
            };
            let worked_out = payouts(&loaded, &unapproved(base, &loaded)?);
            keep(base_id, &worked_out);
            before = Some(loaded);
            worked_out
        }
    };
    let mut out = impacts(amounts.clone(), payouts_before, payouts_after.clone());
    for (impact, subs) in out.iter_mut().zip(subs) {
        impact.sub_projects = subs;
    }
    if let Some(approved) = payouts_approved {
        awaiting_impacts(&mut out, &amounts, &awaiting, &payouts_after, &approved);
    }
    if let Some(before) = before {
        super::discard(before);
    }
    totals::prune(store);
    Ok(out)
}

/// One [`Impact`] per project, from the totals worked out on each side (`before` holds one
/// entry per project with an amount, in order).
fn impacts(
    amounts: Vec<(String, Option<Decimal>)>,
    before: Vec<Totals>,
    after: Vec<Totals>,
) -> Vec<Impact> {
    let mut before = before.into_iter();
    let mut out = Vec::new();
    for ((project, amount), after) in amounts.into_iter().zip(after) {
        let Some(amount) = amount else {
            out.push(Impact {
                project,
                amount: None,
                note: Some(NO_AMOUNT.to_owned()),
                agents: Vec::new(),
                awaiting_approval: None,
                sub_projects: Vec::new(),
            });
            continue;
        };
        let before = before.next().unwrap_or(Ok(None));
        let (note, agents) = match (before, after) {
            (Ok(b), Ok(a)) => (None, review::impact(b.as_deref(), a.as_deref())),
            (Err(e), _) => (Some(format!("before: {e}")), Vec::new()),
            (_, Err(e)) => (Some(format!("after: {e}")), Vec::new()),
        };
        out.push(Impact {
            project,
            amount: Some(amount),
            note,
            agents,
            awaiting_approval: None,
            sub_projects: Vec::new(),
        });
    }
    out
}

/// `unapproved` but for the `awaiting` contributions.
fn without(unapproved: &HashSet<Id>, awaiting: &[(Id, String)]) -> HashSet<Id> {
    unapproved
        .iter()
        .filter(|id| !awaiting.iter().any(|(a, _)| a == *id))
        .cloned()
        .collect()
}

/// Adds to each project's impact what the change's contributions awaiting approval
/// (`awaiting`, with their projects) would change once approved: the head's totals without
/// them (`after`) against with them (`approved`), one entry per project with an amount.
fn awaiting_impacts(
    out: &mut [Impact],
    amounts: &[(String, Option<Decimal>)],
    awaiting: &[(Id, String)],
    after: &[Totals],
    approved: &[Totals],
) {
    for (((project, _), impact), (a, b)) in amounts
        .iter()
        .zip(out.iter_mut())
        .zip(after.iter().zip(approved))
    {
        let mut contributions: Vec<String> = awaiting
            .iter()
            .filter(|(_, p)| p == project)
            .map(|(id, _)| id.to_string())
            .collect();
        if contributions.is_empty() {
            continue;
        }
        contributions.sort();
        if let (Ok(a), Ok(b)) = (a, b) {
            impact.awaiting_approval = Some(Awaiting {
                contributions,
                agents: review::impact(a.as_deref(), b.as_deref()),
            });
        }
    }
}

/// The `missing-rate` errors of the contributions a change brings, judged with every rate
/// record at `head`: a review reads only the changed files (`new`, their records at the head),
/// and a rate recorded before the change still converts a contribution it adds. Nothing is
/// read when no contribution of the change is in another currency without a rate of its own.
pub fn missing_rates(
    store: &Store,
    head: &str,
    changes: &[FileChange],
    new: &Ledger,
) -> Result<Vec<Diagnostic>, StoreError> {
    let unrated = new
        .contributions
        .iter()
        .any(|c| c.rate().is_none() && fx::is_foreign(new, c));
    if !unrated {
        return Ok(Vec::new());
    }
    let mut files: Vec<RawFile> = changes
        .iter()
        .filter(|c| c.path != NETWORK_FILE)
        .filter_map(|c| {
            c.new.as_ref().map(|bytes| RawFile {
                path: c.path.clone(),
                bytes: bytes.clone(),
            })
        })
        .collect();
    for f in store.read_tree_at(head, RecordType::Rate.folder())? {
        if !files.iter().any(|g| g.path == f.path) {
            files.push(f);
        }
    }
    if let Some(bytes) = store.read_file_at(head, NETWORK_FILE)? {
        files.push(RawFile {
            path: NETWORK_FILE.to_owned(),
            bytes,
        });
    }
    let mut found = ledger::load(&files).diagnostics;
    found.retain(|d| d.code == Code::MissingRate);
    Ok(found)
}

/// The totals of `payout`.
pub fn totals_of(payout: Option<&Payout>) -> Option<Vec<(Id, Decimal)>> {
    payout.map(|p| p.totals.clone())
}

/// The amount of `project`'s last recorded payout (by date, then id) among `payouts`.
fn last_recorded(payouts: &[PayoutRecord], project: &str) -> Option<Decimal> {
    payouts
        .iter()
        .filter(|p| p.project.value.as_str() == project)
        .max_by(|a, b| (a.date.value, &a.id.value).cmp(&(b.date.value, &b.id.value)))
        .map(|p| p.amount.value)
}

/// Each agent's payout of `amount` for `project` on a loaded ledger (none when the project
/// does not exist there), or why it cannot be computed. A project whose agreement pays
/// projects pays through its whole cascade: each agent's total over every level
/// ([`cascade::totals`]), so a sub-project's members are in the comparison too.
fn compute(
    loaded: &ledger::Loaded,
    unapproved: &HashSet<Id>,
    project: &str,
    amount: Decimal,
) -> Result<Option<Vec<(Id, Decimal)>>, String> {
    // A missing exchange rate leaves its contribution out, as `ovn payout` does.
    let stopping = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code.stops_payouts())
        .count();
    if stopping > 0 {
        return Err(format!(
            "{stopping} problem(s) in the ledger (run ovn check)"
        ));
    }
    if !loaded
        .ledger
        .projects
        .iter()
        .any(|p| p.id.value.as_str() == project)
    {
        return Ok(None);
    }
    let request = Request {
        project,
        amount,
        date: None,
    };
    let settled = payout::settled_by_records(&loaded.ledger);
    // Only the totals are compared: no explanations.
    let options = payout::Options {
        brief: true,
        unapproved: Some(unapproved),
        ..Default::default()
    };
    if cascade::pays_projects(&loaded.ledger, project) {
        return cascade::compute(&loaded.ledger, &request, &settled, options)
            .map(|c| Some(cascade::totals(&loaded.ledger, &c)))
            .map_err(|e| e.to_string());
    }
    payout::compute_with(&loaded.ledger, &request, &settled, options)
        .map(|p| totals_of(Some(&p)))
        .map_err(|e| e.to_string())
}
