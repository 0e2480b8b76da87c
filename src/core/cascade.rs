//! Sub-projects and cascades: a bucket that pays a project instead of an agent.
//!
//! A bucket with `to_project = "fund"` takes its budget like any bucket and pays it whole,
//! as `to` does; but the payee is a project, whose own agreement shares that amount in a
//! *sub-payout*, and so on down. The arithmetic of every level is the one of
//! [`payout::compute_with`], called once per level on the same ledger: nothing here
//! re-implements a split, so every level sums exactly to its budget (the line it shares) and
//! the top to the revenue, by the guarantee each payout already gives.
//!
//! The levels are walked depth first, in the order of the lines that pay projects, and each
//! is computed with what the earlier levels of the same cascade settled added to what
//! recorded payouts settled. A project reached twice in one cascade (a network fund paid by
//! a project and by its sub-project) therefore never repays a debt twice, and a record's
//! digest covers exactly the settlements it was computed with.
//!
//! A cascade is recorded as one payout record per level, in one commit: the parent's line
//! names the sub-payout (`project` and `payout` instead of `agent`), the sub-payout its
//! parent payout and line (`parent`, `parent_line`). A line that pays a project is settled
//! by its sub-payout and is never paid with `ovn pay`. The graph of projects paying projects
//! must have no loop, and no chain longer than [`MAX_DEPTH`] levels; [`check`] reports both
//! at the bucket that closes them, and every link between recorded payouts that does not
//! agree.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::diag::{Code, Diagnostic, Span};
use super::ledger::Ledger;
use super::parse::{Fields, Need};
use super::payout::{self, Options, Payout, PayoutError, Request, Settled};
use super::record::{Agreement, At, ParentLine, PayoutRecord};
use super::report::{ContributionReport, ContributionRow, Dimension, Totals};
use super::value::Id;

/// The most levels a cascade has, the top payout included: deep enough for a network of
/// networks of projects, small enough that a chain that long is surely a mistake.
pub const MAX_DEPTH: usize = 16;

/// One payout of a cascade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    /// The payout of this level.
    pub payout: Payout,
    /// 0 for the top payout, 1 for its sub-payouts, and so on.
    pub depth: usize,
    /// For a sub-payout: the index of the parent level in [`Cascade::levels`] and of the
    /// parent's line (in `payout.lines`) it shares.
    pub parent: Option<(usize, usize)>,
    /// What earlier levels of this cascade settled, which this level was computed with on
    /// top of what recorded payouts settled.
    pub earlier: Vec<Settled>,
}

/// A payout and its sub-payouts, depth first in the order of the lines that pay projects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cascade {
    /// The levels; the first is the top payout.
    pub levels: Vec<Level>,
}

impl Cascade {
    /// The top payout.
    pub fn top(&self) -> &Payout {
        &self.levels[0].payout
    }

    /// The children of level `index`, each with the index of the line it shares.
    pub fn children(&self, index: usize) -> impl Iterator<Item = (usize, &Level)> {
        self.levels
            .iter()
            .enumerate()
            .filter(move |(_, l)| l.parent.is_some_and(|(p, _)| p == index))
    }
}

/// Why a cascade cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CascadeError {
    /// One level's payout failed.
    #[error("{}{error}", sub_prefix(.project.as_ref()))]
    Payout {
        /// The sub-project whose payout failed (`None` for the top payout).
        project: Option<Id>,
        /// Why.
        error: PayoutError,
    },
    /// Projects pay each other in a loop (also reported by `ovn check`).
    #[error("projects pay each other in a loop: {}", join(.0))]
    Cycle(Vec<Id>),
    /// A chain of sub-projects longer than [`MAX_DEPTH`] (also reported by `ovn check`).
    #[error("a cascade deeper than {MAX_DEPTH} levels: {}", join(.0))]
    TooDeep(Vec<Id>),
}

fn sub_prefix(project: Option<&Id>) -> String {
    project.map_or_else(String::new, |p| {
        format!("in the sub-payout of project `{p}`: ")
    })
}

fn join(ids: &[Id]) -> String {
    ids.iter().map(Id::as_str).collect::<Vec<_>>().join(" -> ")
}

/// The agreement of `project`, if it has a known one.
fn agreement_of<'l>(ledger: &'l Ledger, project: &str) -> Option<&'l Agreement> {
    let p = ledger
        .projects
        .iter()
        .find(|p| p.id.value.as_str() == project)?;
    let a = p.agreement.as_ref()?;
    ledger.agreements.iter().find(|x| x.id.value == a.value)
}

/// The project a line of `payout` pays, when its bucket is a `to_project` one.
pub fn line_project<'l>(ledger: &'l Ledger, payout: &Payout, line: usize) -> Option<&'l Id> {
    let l = payout.lines.get(line)?;
    let a = ledger
        .agreements
        .iter()
        .find(|a| a.id.value == payout.agreement)?;
    a.buckets
        .iter()
        .find(|b| b.name.value == l.bucket)
        .and_then(|b| b.to_project.as_ref())
        .map(|p| &p.value)
}

/// Whether the agreement of `project` pays any project: then a payout of it is a cascade.
pub fn pays_projects(ledger: &Ledger, project: &str) -> bool {
    agreement_of(ledger, project).is_some_and(|a| a.buckets.iter().any(|b| b.to_project.is_some()))
}

/// `project` and every project its agreement's buckets reach, sorted (what a payout of it
/// reads the contributions of). Stops at [`MAX_DEPTH`] and at loops.
pub fn reachable(ledger: &Ledger, project: &str) -> Vec<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo = vec![(project.to_owned(), 1)];
    while let Some((p, depth)) = todo.pop() {
        if !seen.insert(p.clone()) || depth > MAX_DEPTH {
            continue;
        }
        if let Some(a) = agreement_of(ledger, &p) {
            for q in a.buckets.iter().filter_map(|b| b.to_project.as_ref()) {
                todo.push((q.value.to_string(), depth + 1));
            }
        }
    }
    seen.into_iter().collect()
}

/// Every project a payout of one of `named` reads the contributions of ([`reachable`] from
/// each), sorted, once each.
pub fn reach(ledger: &Ledger, named: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = named.iter().flat_map(|n| reachable(ledger, n)).collect();
    all.sort();
    all.dedup();
    all
}

/// Computes the payout of `request` and, for every line that pays a project, that project's
/// sub-payout of the line's amount on the same date, recursively. `settled` is what recorded
/// payouts settled (as for [`payout::compute_with`]); `options` apply to every level.
pub fn compute(
    ledger: &Ledger,
    request: &Request<'_>,
    settled: &[Settled],
    options: Options<'_>,
) -> Result<Cascade, CascadeError> {
    let top = payout::compute_with(ledger, request, settled, options).map_err(|error| {
        CascadeError::Payout {
            project: None,
            error,
        }
    })?;
    let mut walk = Walk {
        ledger,
        request,
        settled,
        options,
        levels: vec![Level {
            payout: top,
            depth: 0,
            parent: None,
            earlier: Vec::new(),
        }],
        running: Vec::new(),
    };
    walk.running = walk.levels[0].payout.settled();
    let mut path = vec![walk.levels[0].payout.project.clone()];
    walk.descend(0, &mut path)?;
    Ok(Cascade {
        levels: walk.levels,
    })
}

/// The state of [`compute`]'s depth-first walk.
struct Walk<'a, 'r> {
    ledger: &'a Ledger,
    request: &'a Request<'r>,
    settled: &'a [Settled],
    options: Options<'a>,
    levels: Vec<Level>,
    /// What the levels computed so far settled.
    running: Vec<Settled>,
}

impl Walk<'_, '_> {
    fn descend(&mut self, index: usize, path: &mut Vec<Id>) -> Result<(), CascadeError> {
        let subs: Vec<(usize, Id, Decimal)> = (0..self.levels[index].payout.lines.len())
            .filter_map(|n| {
                let p = line_project(self.ledger, &self.levels[index].payout, n)?;
                Some((n, p.clone(), self.levels[index].payout.lines[n].amount))
            })
            .collect();
        for (line, project, amount) in subs {
            if path.contains(&project) {
                let mut cycle = path.clone();
                cycle.push(project);
                return Err(CascadeError::Cycle(cycle));
            }
            if path.len() >= MAX_DEPTH {
                let mut chain = path.clone();
                chain.push(project);
                return Err(CascadeError::TooDeep(chain));
            }
            let mut all = Vec::with_capacity(self.settled.len() + self.running.len());
            all.extend_from_slice(self.settled);
            all.extend_from_slice(&self.running);
            let request = Request {
                project: project.as_str(),
                amount,
                date: self.request.date,
            };
            let sub = payout::compute_with(self.ledger, &request, &all, self.options).map_err(
                |error| CascadeError::Payout {
                    project: Some(project.clone()),
                    error,
                },
            )?;
            let earlier = self.running.clone();
            self.running.extend(sub.settled());
            self.levels.push(Level {
                payout: sub,
                depth: path.len(),
                parent: Some((index, line)),
                earlier,
            });
            let child = self.levels.len() - 1;
            path.push(project);
            self.descend(child, path)?;
            path.pop();
        }
        Ok(())
    }
}

/// Each agent's total over every level of `cascade`, sorted by agent: what the top payout
/// and every sub-payout pay it. A line paying a project is not an agent's: its sub-payout
/// pays it on, to the agents counted here. What a review compares for a project whose
/// agreement pays projects, so a sub-project's members gain or lose with the top's.
pub fn totals(ledger: &Ledger, cascade: &Cascade) -> Vec<(Id, Decimal)> {
    let mut out: BTreeMap<&Id, Decimal> = BTreeMap::new();
    for level in &cascade.levels {
        for (n, line) in level.payout.lines.iter().enumerate() {
            if line_project(ledger, &level.payout, n).is_some() {
                continue;
            }
            let total = out.entry(&line.agent).or_default();
            // Every level sums to a part of the revenue, so the sum stays below it.
            *total = total.saturating_add(line.amount);
        }
    }
    out.into_iter().map(|(a, v)| (a.clone(), v)).collect()
}

/// The projects whose sub-payouts a payout of `project` would make, in the order a cascade
/// walks them (depth first, each once): empty when its agreement pays no project.
pub fn sub_projects(ledger: &Ledger, project: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut todo: Vec<(String, usize)> = vec![(project.to_owned(), 1)];
    while let Some((p, depth)) = todo.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        let Some(a) = agreement_of(ledger, &p) else {
            continue;
        };
        for q in a.buckets.iter().rev().filter_map(|b| b.to_project.as_ref()) {
            let q = q.value.to_string();
            if q != project && !out.contains(&q) {
                todo.push((q, depth + 1));
            }
        }
        if p != project && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// What a recorded cascade is stamped with besides its payouts: an id per level (in
/// [`Cascade::levels`] order), the date, the memo and the commit computed at.
pub struct Stamp {
    /// One id per level.
    pub ids: Vec<Id>,
    /// The day of the revenue event.
    pub date: chrono::NaiveDate,
    /// The memo of the revenue event (every level carries it).
    pub memo: Option<String>,
    /// The full id of the commit the cascade was computed at.
    pub commit: String,
}

/// The payout records of `cascade` (computed on `ledger` with `settled`), one per level in
/// level order, linked line by line, each following the head of its project's payout line
/// (or, for a project met again in the cascade, its earlier sub-payout).
pub fn records(
    ledger: &Ledger,
    settled: &[Settled],
    cascade: &Cascade,
    stamp: &Stamp,
) -> Vec<PayoutRecord> {
    let mut out: Vec<PayoutRecord> = Vec::with_capacity(cascade.levels.len());
    let mut last_of: BTreeMap<&Id, &Id> = BTreeMap::new();
    for (n, level) in cascade.levels.iter().enumerate() {
        let mut inputs = settled.to_vec();
        inputs.extend_from_slice(&level.earlier);
        let digest = payout::digest(ledger, &level.payout, &inputs);
        let id = stamp.ids[n].clone();
        let mut rec = payout::record(
            &level.payout,
            id.clone(),
            stamp.date,
            stamp.memo.clone(),
            stamp.commit.clone(),
            digest,
        );
        let project = &level.payout.project;
        let follows = match last_of.get(project) {
            Some(earlier) => vec![(*earlier).clone()],
            None => super::chain::follows_for_new(ledger, project.as_str()),
        };
        rec.follows = Some(At::new(follows.into_iter().map(At::new).collect()));
        last_of.insert(project, &stamp.ids[n]);
        if let Some((parent, line)) = level.parent {
            rec.parent = Some(ParentLine {
                payout: At::new(stamp.ids[parent].clone()),
                line: At::new(u32::try_from(line + 1).unwrap_or(u32::MAX)),
            });
            if let Some(l) = out.get_mut(parent).and_then(|p| p.lines.get_mut(line)) {
                l.project = Some(At::new(project.clone()));
                l.payout = Some(At::new(id));
            }
        }
        out.push(rec);
    }
    out
}

/// The top of the cascade recorded payout `id` belongs to, following `parent` links in
/// `ledger` (at most [`MAX_DEPTH`] steps; a loop or a missing parent stops the walk there).
pub fn top_of<'l>(ledger: &'l Ledger, id: &str) -> Option<&'l PayoutRecord> {
    let mut at = ledger.payouts.iter().find(|p| p.id.value.as_str() == id)?;
    for _ in 0..MAX_DEPTH {
        let Some(parent) = &at.parent else {
            return Some(at);
        };
        match ledger
            .payouts
            .iter()
            .find(|p| p.id.value == parent.payout.value)
        {
            Some(p) => at = p,
            None => return Some(at),
        }
    }
    Some(at)
}

/// The ids a recorded cascade gave its levels: the top's id, then each sub-payout's as its
/// parent's line names it (`None` where a recorded line names none).
pub fn recorded_ids(ledger: &Ledger, top: &PayoutRecord, cascade: &Cascade) -> Vec<Option<Id>> {
    let mut ids: Vec<Option<Id>> = vec![Some(top.id.value.clone())];
    for level in &cascade.levels[1..] {
        let id = level.parent.and_then(|(parent, line)| {
            let pid = ids.get(parent)?.as_ref()?;
            let rec = ledger.payouts.iter().find(|p| &p.id.value == pid)?;
            rec.lines
                .get(line)?
                .payout
                .as_ref()
                .map(|p| p.value.clone())
        });
        ids.push(id);
    }
    ids
}

/// A bucket's own rule for `to_project`: it pays one project whole, so not also an agent
/// (`to`) nor claims (`rules`).
pub fn check_bucket(
    f: &mut Fields<'_, '_>,
    to: Option<&At<Id>>,
    to_project: Option<&At<Id>>,
    no_rules: bool,
) {
    let Some(p) = to_project else { return };
    if to.is_some() {
        f.report(
            Code::InvalidAgreement,
            Some(p.span),
            "a bucket pays one agent (`to`) or one project (`to_project`), not both".to_owned(),
            Some("remove one of `to` and `to_project`".to_owned()),
        );
    }
    if !no_rules {
        f.report(
            Code::InvalidAgreement,
            Some(p.span),
            "a bucket paid `to_project` cannot also have `rules`: the project's own agreement shares it".to_owned(),
            Some("remove `to_project` to split the bucket by rules, or remove the rules".to_owned()),
        );
    }
}

/// Reads `parent` and `parent_line` of a payout record: both or neither.
pub fn read_parent(f: &mut Fields<'_, '_>) -> Option<ParentLine> {
    let payout = f.id("parent", Need::Optional);
    let line = f.integer("parent_line", Need::Optional);
    match (payout, line) {
        (Some(payout), Some(line)) if line.value >= 1 => Some(ParentLine { payout, line }),
        (Some(_), Some(line)) => {
            f.report(
                Code::InvalidValue,
                Some(line.span),
                "`parent_line` counts the parent's `[[lines]]` from 1".to_owned(),
                None,
            );
            None
        }
        (Some(p), None) => {
            f.report(
                Code::MissingField,
                Some(p.span),
                "a sub-payout names its parent payout and line: `parent_line` is missing"
                    .to_owned(),
                Some("add parent_line = <the parent's line number, from 1>".to_owned()),
            );
            None
        }
        (None, Some(l)) => {
            f.report(
                Code::MissingField,
                Some(l.span),
                "`parent_line` goes with `parent` (the parent payout's id)".to_owned(),
                None,
            );
            None
        }
        (None, None) => None,
    }
}

/// One bucket paying a project: from `project` (whose agreement it is in) to `target`.
struct Edge<'l> {
    target: &'l Id,
    agreement: &'l Agreement,
    span: Span,
}

/// Every project's edges to the projects its agreement pays (known projects only: an unknown
/// one is an `unknown-reference`), by project id.
fn edges(ledger: &Ledger) -> BTreeMap<&Id, Vec<Edge<'_>>> {
    let known: BTreeSet<&Id> = ledger.projects.iter().map(|p| &p.id.value).collect();
    let mut out: BTreeMap<&Id, Vec<Edge<'_>>> = BTreeMap::new();
    for p in &ledger.projects {
        let Some(a) = p
            .agreement
            .as_ref()
            .and_then(|a| ledger.agreements.iter().find(|x| x.id.value == a.value))
        else {
            continue;
        };
        let list = out.entry(&p.id.value).or_default();
        for b in &a.buckets {
            if let Some(t) = b.to_project.as_ref().filter(|t| known.contains(&t.value)) {
                list.push(Edge {
                    target: &t.value,
                    agreement: a,
                    span: t.span,
                });
            }
        }
    }
    out
}

/// The ledger-wide cascade checks: projects that pay each other in a loop
/// (`cascade-cycle`), chains deeper than [`MAX_DEPTH`] (`cascade-depth`), a project paid
/// that has no agreement to share it, and links between recorded payouts and their
/// sub-payouts that do not agree.
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let graph = edges(ledger);
    if !graph.values().all(Vec::is_empty) {
        unshared(ledger, &graph, diags);
        if !cycles(ledger, &graph, diags) {
            depth(ledger, &graph, diags);
        }
    }
    links(ledger, diags);
}

/// A bucket paying a project with no agreement: its sub-payout could not be computed.
fn unshared(ledger: &Ledger, graph: &BTreeMap<&Id, Vec<Edge<'_>>>, diags: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for e in graph.values().flatten() {
        if agreement_of(ledger, e.target.as_str()).is_none()
            && seen.insert((e.agreement.file, e.span))
        {
            diags.push(
                Diagnostic::new(
                    Code::InvalidAgreement,
                    ledger.path(e.agreement.file),
                    Some(e.span),
                    format!(
                        "`to_project` pays project `{}`, which has no agreement to share it",
                        e.target
                    ),
                )
                .with_hint(format!("set `agreement` in projects/{}.toml", e.target)),
            );
        }
    }
}

/// Reports each loop once, at the bucket leaving its smallest project; whether any was
/// found. A depth-first search with three colours: an edge back to a project still on the
/// path closes a loop.
fn cycles(
    ledger: &Ledger,
    graph: &BTreeMap<&Id, Vec<Edge<'_>>>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        OnPath,
        Done,
    }
    let mut colour: BTreeMap<&Id, Colour> = BTreeMap::new();
    let mut reported: BTreeSet<Vec<&Id>> = BTreeSet::new();
    for &start in graph.keys() {
        if colour.contains_key(start) {
            continue;
        }
        // (project, next edge to try); the path is the stack's projects.
        let mut stack: Vec<(&Id, usize)> = vec![(start, 0)];
        colour.insert(start, Colour::OnPath);
        while let Some(&mut (at, ref mut next)) = stack.last_mut() {
            let out = graph.get(at).map_or(&[][..], Vec::as_slice);
            let Some(edge) = out.get(*next) else {
                colour.insert(at, Colour::Done);
                stack.pop();
                continue;
            };
            *next += 1;
            match colour.get(edge.target) {
                Some(Colour::Done) => {}
                Some(Colour::OnPath) => {
                    let from = stack
                        .iter()
                        .position(|(p, _)| *p == edge.target)
                        .unwrap_or(0);
                    let mut cycle: Vec<&Id> = stack[from..].iter().map(|(p, _)| *p).collect();
                    let smallest = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
                    cycle.rotate_left(smallest);
                    if reported.insert(cycle.clone()) {
                        report_cycle(ledger, graph, &cycle, diags);
                    }
                }
                None => {
                    colour.insert(edge.target, Colour::OnPath);
                    stack.push((edge.target, 0));
                }
            }
        }
    }
    !reported.is_empty()
}

/// The diagnostic of one loop (`cycle` starts at its smallest project).
fn report_cycle(
    ledger: &Ledger,
    graph: &BTreeMap<&Id, Vec<Edge<'_>>>,
    cycle: &[&Id],
    diags: &mut Vec<Diagnostic>,
) {
    let next = cycle.get(1).copied().unwrap_or(cycle[0]);
    let Some(edge) = graph
        .get(cycle[0])
        .and_then(|es| es.iter().find(|e| e.target == next))
    else {
        return;
    };
    let named: Vec<&str> = cycle
        .iter()
        .chain([&cycle[0]])
        .map(|p| p.as_str())
        .collect();
    diags.push(
        Diagnostic::new(
            Code::CascadeCycle,
            ledger.path(edge.agreement.file),
            Some(edge.span),
            format!("projects pay each other in a loop: {}", named.join(" -> ")),
        )
        .with_hint(format!(
            "a payout of any of them would never end; pay an agent (`to`) instead of `to_project = \"{next}\"` in one of these buckets"
        )),
    );
}

/// Reports the deepest chain when it is longer than [`MAX_DEPTH`] levels (the graph has no
/// loop). Each project's depth is worked out once.
fn depth(ledger: &Ledger, graph: &BTreeMap<&Id, Vec<Edge<'_>>>, diags: &mut Vec<Diagnostic>) {
    fn deepest<'g>(
        at: &'g Id,
        graph: &'g BTreeMap<&Id, Vec<Edge<'_>>>,
        memo: &mut BTreeMap<&'g Id, (usize, Option<usize>)>,
    ) -> usize {
        if let Some(&(d, _)) = memo.get(at) {
            return d;
        }
        let mut best = (1, None);
        for (n, e) in graph.get(at).into_iter().flatten().enumerate() {
            let d = 1 + deepest(e.target, graph, memo);
            if d > best.0 {
                best = (d, Some(n));
            }
        }
        memo.insert(at, best);
        best.0
    }
    let mut memo = BTreeMap::new();
    let Some((&top, depth)) = graph
        .keys()
        .map(|p| (p, deepest(p, graph, &mut memo)))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
    else {
        return;
    };
    if depth <= MAX_DEPTH {
        return;
    }
    let mut chain = vec![top];
    let mut at = top;
    while let Some(&(_, Some(n))) = memo.get(at) {
        at = graph[at][n].target;
        chain.push(at);
    }
    let edge = &graph[top][memo[top].1.unwrap_or(0)];
    let named: Vec<&str> = chain.iter().map(|p| p.as_str()).collect();
    diags.push(
        Diagnostic::new(
            Code::CascadeDepth,
            ledger.path(edge.agreement.file),
            Some(edge.span),
            format!(
                "a payout of project `{top}` would cascade {depth} levels deep, more than {MAX_DEPTH}: {}",
                named.join(" -> ")
            ),
        )
        .with_hint("pay an agent (`to`) somewhere along this chain"),
    );
}

/// Links between recorded payouts: a sub-payout's parent line names it back, pays its
/// project its amount; a line that pays a project names a sub-payout that names it.
fn links(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let by_id: BTreeMap<&Id, &PayoutRecord> =
        ledger.payouts.iter().map(|p| (&p.id.value, p)).collect();
    for p in &ledger.payouts {
        let path = ledger.path(p.file);
        if let Some(parent) = &p.parent {
            let line = by_id.get(&parent.payout.value).and_then(|q| {
                q.lines
                    .get(usize::try_from(parent.line.value).ok()?.checked_sub(1)?)
            });
            let agrees = line.is_some_and(|l| {
                l.payout.as_ref().is_some_and(|s| s.value == p.id.value)
                    && l.agent.value == p.project.value
                    && l.amount == p.amount.value
            });
            if !by_id.contains_key(&parent.payout.value) {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownReference,
                        path,
                        Some(parent.payout.span),
                        format!(
                            "`parent` refers to unknown payout `{}`",
                            parent.payout.value
                        ),
                    )
                    .with_hint("a sub-payout is recorded in the same commit as its parent"),
                );
            } else if !agrees {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        path,
                        Some(parent.line.span),
                        format!(
                            "line {} of payout `{}` does not pay this sub-payout ({} {} to project `{}`)",
                            parent.line.value, parent.payout.value, p.id.value, p.amount.value, p.project.value
                        ),
                    )
                    .with_hint("a cascade is recorded whole by `ovn payout --record`; do not edit its records"),
                );
            }
        }
        for (n, l) in p.lines.iter().enumerate() {
            let Some(sub) = &l.payout else { continue };
            let back = by_id.get(&sub.value).and_then(|s| s.parent.as_ref());
            let agrees = back.is_some_and(|b| {
                b.payout.value == p.id.value && usize::try_from(b.line.value).ok() == Some(n + 1)
            });
            if !by_id.contains_key(&sub.value) {
                diags.push(Diagnostic::new(
                    Code::UnknownReference,
                    path,
                    Some(sub.span),
                    format!("`lines.payout` refers to unknown payout `{}`", sub.value),
                ));
            } else if !agrees {
                diags.push(Diagnostic::new(
                    Code::InvalidValue,
                    path,
                    Some(sub.span),
                    format!(
                        "sub-payout `{}` does not name line {} of this payout as its parent",
                        sub.value,
                        n + 1
                    ),
                ));
            }
        }
    }
}

/// `ovn report contributions --by project` as the project tree: each project (by its
/// `parent`) after its parent, its id indented two spaces per level, its row summing its own
/// contributions and those of all its sub-projects; a parent with no contribution of its own
/// is listed when a sub-project has some. The total stays the report's (each contribution
/// counted once); a row's share is of it. `None` when the report is not grouped by project
/// alone or no listed project has a parent: the flat report is the tree then.
pub fn project_tree(ledger: &Ledger, report: &ContributionReport) -> Option<ContributionReport> {
    if report.by != [Dimension::Project] {
        return None;
    }
    let parent: BTreeMap<&str, &str> = ledger
        .projects
        .iter()
        .filter_map(|p| Some((p.id.value.as_str(), p.parent.as_ref()?.value.as_str())))
        .collect();
    let own: BTreeMap<&str, &Totals> = report
        .rows
        .iter()
        .filter_map(|r| Some((r.keys.first()?.as_str(), &r.totals)))
        .collect();
    if !own.keys().any(|p| parent.contains_key(p)) {
        return None;
    }
    // Every listed project and its ancestors (a loop of parents is `parent-cycle`: stop there).
    let mut shown: BTreeSet<&str> = BTreeSet::new();
    for &p in own.keys() {
        let mut at = p;
        while shown.insert(at) {
            match parent.get(at) {
                Some(&up) => at = up,
                None => break,
            }
        }
    }
    let mut children: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for &p in &shown {
        let up = parent.get(p).copied().filter(|up| shown.contains(up));
        children.entry(up).or_default().push(p);
    }
    let mut rows = Vec::new();
    let mut stack: Vec<(&str, usize)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|&p| (p, 0))
        .collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    while let Some((p, depth)) = stack.pop() {
        if !placed.insert(p) || depth >= MAX_DEPTH * 4 {
            continue;
        }
        let mut totals = Totals::default();
        let mut below = vec![p];
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(q) = below.pop() {
            if !seen.insert(q) {
                continue;
            }
            if let Some(t) = own.get(q) {
                totals.count += t.count;
                totals.hours += t.hours;
                totals.use_hours += t.use_hours;
                totals.amount += t.amount;
                totals.value += t.value;
                totals.other_currency += t.other_currency;
            }
            below.extend(children.get(&Some(q)).into_iter().flatten());
        }
        let share = (!report.total.value.is_zero()).then(|| totals.value / report.total.value);
        rows.push(ContributionRow {
            keys: vec![format!("{}{p}", "  ".repeat(depth))],
            totals,
            share,
        });
        for &c in children.get(&Some(p)).into_iter().flatten().rev() {
            stack.push((c, depth + 1));
        }
    }
    Some(ContributionReport {
        by: report.by.clone(),
        rows,
        total: report.total.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    /// A ledger of projects `a`, `b`, ... each with an agreement whose buckets pay the
    /// projects listed (`to_project`) and the rest to agent `ana`.
    fn projects(pays: &[(&str, &[&str])]) -> ledger::Loaded {
        let mut files = vec![
            RawFile {
                path: "ovn.toml".to_owned(),
                bytes: b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\n".to_vec(),
            },
            RawFile {
                path: "agents/ana.toml".to_owned(),
                bytes: b"id = \"ana\"\nname = \"Ana\"\n".to_vec(),
            },
        ];
        for (p, to) in pays {
            files.push(RawFile {
                path: format!("projects/{p}.toml"),
                bytes: format!("id = \"{p}\"\nname = \"{p}\"\nagreement = \"{p}-ve\"\n")
                    .into_bytes(),
            });
            let mut a = format!("id = \"{p}-ve\"\nname = \"{p}\"\n");
            for t in *to {
                a.push_str(&format!(
                    "\n[[buckets]]\nname = \"to-{t}\"\nshare = \"10%\"\nto_project = \"{t}\"\n"
                ));
            }
            a.push_str("\n[[buckets]]\nname = \"rest\"\nshare = \"rest\"\nto = \"ana\"\n");
            files.push(RawFile {
                path: format!("agreements/{p}-ve.toml"),
                bytes: a.into_bytes(),
            });
        }
        ledger::load(&files)
    }

    fn codes(l: &ledger::Loaded) -> Vec<(Code, String)> {
        l.diagnostics
            .iter()
            .map(|d| (d.code, d.message.clone()))
            .collect()
    }

    #[test]
    fn a_loop_is_reported_once_naming_it_from_its_smallest_project() {
        let l = projects(&[("c", &["a"]), ("a", &["b"]), ("b", &["c"]), ("d", &["a"])]);
        assert_eq!(
            codes(&l),
            [(
                Code::CascadeCycle,
                "projects pay each other in a loop: a -> b -> c -> a".to_owned()
            )]
        );
        assert_eq!(l.diagnostics[0].path, "agreements/a-ve.toml");
    }

    #[test]
    fn a_project_paying_itself_is_a_loop() {
        let l = projects(&[("a", &["a"])]);
        assert_eq!(
            codes(&l),
            [(
                Code::CascadeCycle,
                "projects pay each other in a loop: a -> a".to_owned()
            )]
        );
    }

    #[test]
    fn a_diamond_is_no_loop_and_sixteen_levels_are_allowed() {
        let l = projects(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert_eq!(codes(&l), []);
        let names: Vec<String> = (0..17).map(|i| format!("p{i:02}")).collect();
        let chain = |n: usize| -> Vec<(String, Vec<String>)> {
            (0..n)
                .map(|i| {
                    let next = if i + 1 < n {
                        vec![names[i + 1].clone()]
                    } else {
                        vec![]
                    };
                    (names[i].clone(), next)
                })
                .collect()
        };
        for (n, deep) in [(16, false), (17, true)] {
            let c = chain(n);
            let refs: Vec<Vec<&str>> = c
                .iter()
                .map(|(_, t)| t.iter().map(String::as_str).collect())
                .collect();
            let pays: Vec<(&str, &[&str])> = c
                .iter()
                .zip(&refs)
                .map(|((p, _), t)| (p.as_str(), t.as_slice()))
                .collect();
            let l = projects(&pays);
            assert_eq!(
                l.diagnostics.iter().any(|d| d.code == Code::CascadeDepth),
                deep,
                "{n}: {:?}",
                codes(&l)
            );
        }
    }

    #[test]
    fn a_cascade_computes_each_level_and_links_them() {
        let l = projects(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        assert_eq!(codes(&l), []);
        let request = Request {
            project: "a",
            amount: Decimal::new(100_000, 2),
            date: None,
        };
        let c = compute(&l.ledger, &request, &[], Options::default()).unwrap();
        type Row<'a> = (&'a str, usize, Option<(usize, usize)>, String);
        let shape: Vec<Row<'_>> = c
            .levels
            .iter()
            .map(|v| {
                (
                    v.payout.project.as_str(),
                    v.depth,
                    v.parent,
                    v.payout.amount.to_string(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("a", 0, None, "1000.00".to_owned()),
                ("b", 1, Some((0, 0)), "100.00".to_owned()),
                ("c", 2, Some((1, 0)), "10.00".to_owned()),
            ]
        );
        assert!(pays_projects(&l.ledger, "a") && !pays_projects(&l.ledger, "c"));
        assert_eq!(reachable(&l.ledger, "b"), ["b", "c"]);
    }

    #[test]
    fn totals_are_every_levels_agents_and_sum_to_the_revenue() {
        // a pays 10% to b and the rest to ana; b pays 10% of that to c; c pays ana whole.
        let l = projects(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
        let request = Request {
            project: "a",
            amount: Decimal::new(100_000, 2),
            date: None,
        };
        let c = compute(&l.ledger, &request, &[], Options::default()).unwrap();
        // ana: 900.00 from a, 90.00 from b, 10.00 from c; the lines to b and c are not hers.
        let t: Vec<(String, Decimal)> = totals(&l.ledger, &c)
            .into_iter()
            .map(|(a, v)| (a.to_string(), v))
            .collect();
        assert_eq!(t, [("ana".to_owned(), Decimal::new(100_000, 2))]);
        assert_eq!(sub_projects(&l.ledger, "a"), ["b", "c"]);
        assert!(sub_projects(&l.ledger, "c").is_empty());
        // A diamond lists d once, depth first in the order of the buckets.
        let l = projects(&[("a", &["b", "c"]), ("b", &["d"]), ("c", &["d"]), ("d", &[])]);
        assert_eq!(sub_projects(&l.ledger, "a"), ["b", "d", "c"]);
        assert_eq!(reach(&l.ledger, &["b", "c"]), ["b", "c", "d"]);
    }
}
