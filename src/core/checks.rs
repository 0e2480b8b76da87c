//! Ledger-wide checks: the rules that need more than one record.
//!
//! Each check is one function from the ledger to diagnostics, listed in [`CHECKS`]; adding a
//! rule (the value-equation checks, say) means writing one function and one line here. Checks
//! only see records that passed their own file checks, and reference checks accept ids of
//! broken records, so one mistake is reported once rather than cascading.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rust_decimal::Decimal;

use super::diag::{Code, Diagnostic, Span};
use super::ledger::{Ledger, NETWORK_FILE, RecordType};
use super::parse::suggest;
use super::record::{At, FileId, Kind};
use super::value::Id;

/// A named ledger-wide check.
pub struct Check {
    /// A short name for documentation.
    pub name: &'static str,
    /// The check itself.
    pub run: fn(&Ledger, &mut Vec<Diagnostic>),
}

/// Every ledger-wide check, in the order they run.
pub const CHECKS: &[Check] = &[
    Check {
        name: "duplicate ids",
        run: duplicate_ids,
    },
    Check {
        name: "references",
        run: references,
    },
    Check {
        name: "unique emails",
        run: unique_emails,
    },
    Check {
        name: "project parents",
        run: parent_cycles,
    },
    Check {
        name: "hours per day",
        run: hours_per_day,
    },
    Check {
        name: "payouts",
        run: payouts,
    },
    Check {
        name: "corrected once",
        run: corrected_once,
    },
    Check {
        name: "correction loops",
        run: correction_loops,
    },
    Check {
        name: "rule skills",
        run: rule_skills,
    },
    Check {
        name: "approvals",
        run: approvals,
    },
    Check {
        name: "validation policy",
        run: validation_policy,
    },
    Check {
        name: "payout line",
        run: super::chain::check,
    },
    Check {
        name: "payments",
        run: super::payment::check,
    },
    Check {
        name: "incoming lines",
        run: super::incoming::check,
    },
    Check {
        name: "cascades",
        run: super::cascade::check,
    },
    Check {
        name: "after leaving",
        run: super::leave::check,
    },
    Check {
        name: "exchange rates",
        run: super::fx::check,
    },
];

/// Runs every check, and returns the names of those that found a problem, in [`CHECKS`]
/// order. They are independent of each other, so they run side by side (each into its own
/// list, appended in [`CHECKS`] order; the caller sorts diagnostics anyway).
pub fn run(ledger: &Ledger, diags: &mut Vec<Diagnostic>) -> Vec<&'static str> {
    use rayon::prelude::*;
    let found: Vec<Vec<Diagnostic>> = CHECKS
        .par_iter()
        .map(|check| {
            let mut out = Vec::new();
            (check.run)(ledger, &mut out);
            out
        })
        .collect();
    let names = CHECKS
        .iter()
        .zip(&found)
        .filter(|(_, found)| !found.is_empty())
        .map(|(check, _)| check.name)
        .collect();
    diags.extend(found.into_iter().flatten());
    names
}

/// Most hours one agent can contribute on one day.
pub const MAX_HOURS_PER_DAY: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

fn duplicate_ids(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    for (kind, id, files) in ledger.index.duplicates() {
        let paths: Vec<&str> = files.iter().map(|&f| ledger.path(f)).collect();
        for &file in &files[1..] {
            let span = ledger
                .contributions
                .iter()
                .find(|c| c.file == file)
                .map(|c| c.id.span);
            diags.push(
                Diagnostic::new(
                    Code::DuplicateId,
                    ledger.path(file),
                    span,
                    format!("{} id `{id}` is used by {} files", kind.noun(), files.len()),
                )
                .with_hint(format!(
                    "ids are never reused; give this record a new id (file name and `id`); the files: {}",
                    paths.join(", ")
                )),
            );
        }
    }
}

/// Reports `reference` if no record of `kind` has that id.
fn reference(
    ledger: &Ledger,
    diags: &mut Vec<Diagnostic>,
    file: &str,
    field: &str,
    kind: RecordType,
    reference: &At<Id>,
) {
    let id = reference.value.as_str();
    if ledger.index.contains(kind, id)
        || (kind == RecordType::Contribution && ledger.elsewhere.may_hold(id))
    {
        return;
    }
    let noun = kind.noun();
    // Suggestions only for the small record types; contribution ids are random.
    let near = (kind != RecordType::Contribution)
        .then(|| suggest(id, ledger.index.ids(kind).map(Id::as_str)))
        .flatten();
    let hint = match (near, kind) {
        (Some(near), _) => format!("did you mean `{near}`?"),
        (None, RecordType::Contribution) => "no contribution has this id".to_owned(),
        (None, _) => format!("no {noun} has this id; add {}/{id}.toml", kind.folder()),
    };
    diags.push(
        Diagnostic::new(
            Code::UnknownReference,
            file,
            Some(reference.span),
            format!("`{field}` refers to unknown {noun} `{id}`"),
        )
        .with_hint(hint),
    );
}

/// Every reference a record makes to another (agents, projects, agreements, resources,
/// contributions), each reported where it is made when nothing has that id.
///
/// Long because it is the one list of every field that names another record, kind by kind,
/// so that a new reference field has one obvious place to be checked.
fn references(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    use RecordType::{Agent, Agreement, Contribution, Project, Resource};
    if let Some(network) = &ledger.network
        && let Some(leftover) = &network.leftover
    {
        reference(ledger, diags, NETWORK_FILE, "leftover", Agent, leftover);
    }
    for p in &ledger.projects {
        let path = ledger.path(p.file);
        if let Some(a) = &p.agreement {
            reference(ledger, diags, path, "agreement", Agreement, a);
        }
        if let Some(parent) = &p.parent {
            reference(ledger, diags, path, "parent", Project, parent);
        }
        for s in &p.stewards {
            reference(ledger, diags, path, "stewards", Agent, s);
        }
    }
    for r in &ledger.resources {
        let path = ledger.path(r.file);
        for o in &r.owners {
            reference(ledger, diags, path, "owners.agent", Agent, &o.agent);
        }
        for s in &r.stewards {
            reference(ledger, diags, path, "stewards", Agent, s);
        }
    }
    for a in &ledger.agreements {
        let path = ledger.path(a.file);
        if let Some(l) = &a.leftover {
            reference(ledger, diags, path, "leftover", Agent, l);
        }
        for (id, rate) in &a.rates.agent {
            reference(
                ledger,
                diags,
                path,
                "rates.agent",
                Agent,
                &At {
                    value: id.clone(),
                    span: rate.span,
                },
            );
        }
        for (id, rate) in &a.rates.project {
            reference(
                ledger,
                diags,
                path,
                "rates.project",
                Project,
                &At {
                    value: id.clone(),
                    span: rate.span,
                },
            );
        }
        for b in &a.buckets {
            if let Some(to) = &b.to {
                reference(ledger, diags, path, "to", Agent, to);
            }
            if let Some(p) = &b.to_project {
                reference(ledger, diags, path, "to_project", Project, p);
            }
            for rule in &b.rules {
                if let Some(p) = &rule.project {
                    reference(ledger, diags, path, "rules.project", Project, p);
                }
                if let Some(g) = &rule.agent {
                    reference(ledger, diags, path, "rules.agent", Agent, g);
                }
            }
        }
    }
    // A million contributions name a few hundred agents and projects, each id shared by
    // address: one looked up and found is not looked up again (one that is missing is, so
    // every record naming it is reported).
    let mut found: HashSet<(bool, usize)> = HashSet::default();
    for c in &ledger.contributions {
        let path = ledger.path(c.file);
        for (field, kind, id) in [("agent", Agent, &c.agent), ("project", Project, &c.project)] {
            let key = (kind == Agent, id.value.addr());
            if !found.contains(&key) {
                if ledger.index.contains(kind, id.value.as_str()) {
                    found.insert(key);
                } else {
                    reference(ledger, diags, path, field, kind, id);
                }
            }
        }
        if let Some(r) = &c.resource {
            reference(ledger, diags, path, "resource", Resource, r);
        }
        for (field, target) in [("reverses", c.reverses()), ("supersedes", c.supersedes())] {
            let Some(target) = target else { continue };
            if target.value == c.id.value {
                diags.push(Diagnostic::new(
                    Code::InvalidValue,
                    path,
                    Some(target.span),
                    format!("a contribution cannot name itself in `{field}`"),
                ));
            } else {
                reference(ledger, diags, path, field, Contribution, target);
            }
        }
    }
}

/// A record is corrected at most once (domain §7): two records that reverse or supersede
/// the same one would both count, and what was paid on it could follow only one of them.
/// Each correction after the first (by id, so by when it was written) is reported, naming
/// the first; a correction of a correction is a chain, and fine.
fn corrected_once(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    type Naming<'l> = (&'l Id, FileId, &'static str, Span);
    let mut by_target: HashMap<&Id, Vec<Naming<'_>>> = HashMap::default();
    for c in &ledger.contributions {
        for (field, target) in [("reverses", c.reverses()), ("supersedes", c.supersedes())] {
            // Naming itself is reported by the references check.
            if let Some(t) = target
                && t.value != c.id.value
            {
                by_target
                    .entry(&t.value)
                    .or_default()
                    .push((&c.id.value, c.file, field, t.span));
            }
        }
    }
    let mut twice: Vec<(&Id, Vec<Naming<'_>>)> = by_target
        .into_iter()
        .filter(|(_, list)| list.len() > 1)
        .collect();
    twice.sort_by(|a, b| a.0.cmp(b.0));
    for (target, mut list) in twice {
        list.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let (first, first_file, first_field, _) = list[0];
        for &(_, file, _, span) in &list[1..] {
            let (verb, hint) = if first_field == "reverses" {
                (
                    "reversed",
                    "it no longer counts; to count it again, log a new contribution (ovn log), and remove this record".to_owned(),
                )
            } else {
                (
                    "superseded",
                    format!(
                        "correct the correction instead (ovn log ... --supersedes {first}, or ovn revert {first}), and remove this record"
                    ),
                )
            };
            diags.push(
                Diagnostic::new(
                    Code::CorrectedTwice,
                    ledger.path(file),
                    Some(span),
                    format!(
                        "contribution `{target}` is already {verb} by {first} ({}); a record is corrected once",
                        ledger.path(first_file)
                    ),
                )
                .with_hint(hint),
            );
        }
    }
}

/// Corrections never loop (A supersedes B, B supersedes A, or longer): every record of a
/// loop is replaced by another, so none of them counts and the work they record vanishes
/// from payouts without a word. Only hand-written records can loop (`ovn log` names an
/// existing record from a new one). Each loop is reported once, on its smallest id.
fn correction_loops(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    // Each record names at most one target (both is an invalid-value of its own).
    let mut next: BTreeMap<&Id, (&At<Id>, FileId, &'static str)> = BTreeMap::new();
    for c in &ledger.contributions {
        for (field, target) in [("reverses", c.reverses()), ("supersedes", c.supersedes())] {
            if let Some(t) = target
                && t.value != c.id.value
            {
                next.entry(&c.id.value).or_insert((t, c.file, field));
            }
        }
    }
    // Each record walked once: 1 while on the current path, 2 when done.
    let mut state: HashMap<&Id, u8> = HashMap::default();
    for &start in next.keys() {
        let mut path: Vec<&Id> = Vec::new();
        let mut at = start;
        loop {
            match state.get(at) {
                Some(2) => break,
                Some(_) => {
                    let from = path.iter().position(|p| *p == at).unwrap_or(0);
                    let cycle = &path[from..];
                    report_loop(ledger, &next, cycle, diags);
                    break;
                }
                None => {}
            }
            let Some((t, _, _)) = next.get(at) else { break };
            state.insert(at, 1);
            path.push(at);
            at = &t.value;
        }
        for p in path {
            state.insert(p, 2);
        }
    }
}

/// Reports one loop of corrections on its smallest id, at the field that goes on.
fn report_loop(
    ledger: &Ledger,
    next: &BTreeMap<&Id, (&At<Id>, FileId, &'static str)>,
    cycle: &[&Id],
    diags: &mut Vec<Diagnostic>,
) {
    let Some(first) = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, id)| **id)
        .map(|(i, _)| i)
    else {
        return;
    };
    let ordered: Vec<&Id> = cycle[first..]
        .iter()
        .chain(&cycle[..first])
        .copied()
        .collect();
    let (target, file, field) = next[ordered[0]];
    let mut chain = String::new();
    for id in &ordered {
        let (_, _, f) = next[*id];
        chain.push_str(&format!("{id} {f} "));
    }
    chain.push_str(ordered[0].as_str());
    diags.push(
        Diagnostic::new(
            Code::CorrectionLoop,
            ledger.path(file),
            Some(target.span),
            format!("corrections loop: {chain}; none of these records counts"),
        )
        .with_hint(format!(
            "a correction names the record it corrects, never one that corrects it: remove `{field}` from the record written by mistake"
        )),
    );
}

fn unique_emails(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    // Keyed by file, not id: a copied agent file with a stale id still shares the email.
    let mut owner: BTreeMap<String, (&Id, FileId)> = BTreeMap::new();
    for a in &ledger.agents {
        for email in &a.emails {
            let key = email.value.to_lowercase();
            match owner.get(&key) {
                Some(&(first, file)) if file != a.file => diags.push(
                    Diagnostic::new(
                        Code::DuplicateEmail,
                        ledger.path(a.file),
                        Some(email.span),
                        format!("email {:?} also belongs to agent `{first}`", email.value),
                    )
                    .with_hint("an email maps a git identity to exactly one agent; remove it from one of them"),
                ),
                Some(_) => {}
                None => {
                    owner.insert(key, (&a.id.value, a.file));
                }
            }
        }
    }
}

fn parent_cycles(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let parent: HashMap<&Id, &At<Id>> = ledger
        .projects
        .iter()
        .filter_map(|p| p.parent.as_ref().map(|parent| (&p.id.value, parent)))
        .collect();
    let mut reported: BTreeSet<&Id> = BTreeSet::new();
    for p in &ledger.projects {
        let mut seen = vec![&p.id.value];
        let mut at = &p.id.value;
        while let Some(next) = parent.get(at) {
            at = &next.value;
            if at == &p.id.value {
                // Report each cycle once, on its smallest id.
                if seen.iter().all(|s| *s >= &p.id.value) && reported.insert(&p.id.value) {
                    let chain: Vec<&str> = seen
                        .iter()
                        .map(|s| s.as_str())
                        .chain([at.as_str()])
                        .collect();
                    diags.push(
                        Diagnostic::new(
                            Code::ParentCycle,
                            ledger.path(p.file),
                            p.parent.as_ref().map(|x| x.span),
                            format!("project parents loop: {}", chain.join(" -> ")),
                        )
                        .with_hint("remove `parent` from one of these projects"),
                    );
                }
                break;
            }
            if seen.contains(&at) {
                break;
            }
            seen.push(at);
        }
    }
}

fn hours_per_day<'l>(ledger: &'l Ledger, diags: &mut Vec<Diagnostic>) {
    // Corrections do not add hours: a reversed or superseded record no longer counts, and a
    // reversal carries no hours of its own.
    let replaced: HashSet<&Id> = ledger
        .contributions
        .iter()
        .flat_map(|c| c.reverses().into_iter().chain(c.supersedes()))
        .map(|r| &r.value)
        .chain(&ledger.elsewhere.replaced)
        .collect();
    // Totals first, files only for the rare day over the limit: a million contributions
    // should not each cost a list.
    let counts = |c: &&super::record::Contribution| {
        c.hours.is_some()
            && c.kind != Kind::Use
            && c.reverses().is_none()
            && (replaced.is_empty() || !replaced.contains(&c.id.value))
    };
    // Days are keyed by a number per agent, not by the agent's id: a record's agent id is
    // shared by address with the others naming that agent, so its text is hashed once per
    // address rather than once per record.
    let mut by_addr: HashMap<usize, u32> = HashMap::default();
    let mut by_text: HashMap<&Id, u32> = HashMap::default();
    let mut agent_no = |id: &'l Id| -> u32 {
        *by_addr.entry(id.addr()).or_insert_with(|| {
            let next = by_text.len() as u32;
            *by_text.entry(id).or_insert(next)
        })
    };
    let mut totals: HashMap<(u32, chrono::NaiveDate), Decimal> = HashMap::default();
    for c in ledger.contributions.iter().map(|c| &**c).filter(counts) {
        let hours = c.hours.as_ref().map_or(Decimal::ZERO, |h| h.value);
        *totals
            .entry((agent_no(&c.agent.value), c.date.value))
            .or_default() += hours;
    }
    totals.retain(|_, total| *total > MAX_HOURS_PER_DAY);
    type Day = (Decimal, Vec<(FileId, Span)>);
    let mut days: HashMap<(&Id, chrono::NaiveDate), Day> = HashMap::default();
    if !totals.is_empty() {
        for c in ledger.contributions.iter().map(|c| &**c).filter(counts) {
            let key = (&c.agent.value, c.date.value);
            let total = totals.get(&(agent_no(&c.agent.value), c.date.value));
            if let (Some(total), Some(hours)) = (total, &c.hours) {
                let day = days.entry(key).or_insert_with(|| (*total, Vec::new()));
                day.1.push((c.file, hours.span));
            }
        }
    }
    let mut over: Vec<_> = days
        .into_iter()
        .filter(|(_, (total, _))| *total > MAX_HOURS_PER_DAY)
        .collect();
    over.sort_by(|a, b| a.0.cmp(&b.0));
    for ((agent, date), (total, mut files)) in over {
        files.sort_unstable();
        let (last, span) = files[files.len() - 1];
        let others: Vec<&str> = files[..files.len() - 1]
            .iter()
            .map(|&(f, _)| ledger.path(f))
            .collect();
        diags.push(
            Diagnostic::new(
                Code::DayOverflow,
                ledger.path(last),
                Some(span),
                format!(
                    "{agent} has {total} hours on {date} across {} contributions; a day has 24 hours",
                    files.len()
                ),
            )
            .with_hint(if others.is_empty() {
                "split the work over the days it was done".to_owned()
            } else {
                format!("the other contributions that day: {}", others.join(", "))
            }),
        );
    }
}

fn payouts(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    use RecordType::{Agent, Agreement, Contribution, Project};
    let mut events: BTreeMap<(&Id, chrono::NaiveDate, Decimal, Option<&str>), &str> =
        BTreeMap::new();
    for p in &ledger.payouts {
        let path = ledger.path(p.file);
        reference(ledger, diags, path, "project", Project, &p.project);
        reference(ledger, diags, path, "agreement", Agreement, &p.agreement);
        for l in &p.lines {
            match &l.project {
                Some(sub) => reference(ledger, diags, path, "lines.project", Project, sub),
                None => reference(ledger, diags, path, "lines.agent", Agent, &l.agent),
            }
        }
        for s in &p.settled {
            reference(
                ledger,
                diags,
                path,
                "settled.contribution",
                Contribution,
                &s.contribution,
            );
            reference(ledger, diags, path, "settled.agent", Agent, &s.agent);
        }
        for s in &p.overpaid {
            reference(
                ledger,
                diags,
                path,
                "overpaid.contribution",
                Contribution,
                &s.contribution,
            );
            reference(ledger, diags, path, "overpaid.agent", Agent, &s.agent);
        }
        let key = (
            &p.project.value,
            p.date.value,
            p.amount.value.normalize(),
            p.memo.as_deref(),
        );
        // A sub-payout is its parent's revenue event, not one of its own.
        if p.parent.is_none()
            && let Some(first) = events.insert(key, path)
        {
            diags.push(
                Diagnostic::new(
                    Code::DuplicatePayout,
                    path,
                    Some(p.id.span),
                    format!(
                        "this revenue event ({} on {}, {}{}) is already recorded in {first}",
                        p.project.value,
                        p.date.value,
                        p.amount.value,
                        p.memo
                            .as_deref()
                            .map(|m| format!(", {m:?}"))
                            .unwrap_or_default()
                    ),
                )
                .with_hint("a revenue event is paid out once; remove one of the two records"),
            );
        }
    }
}

/// A rule or rate naming a skill that nothing else in the ledger uses, when a known skill is
/// one typo away: the rule would silently select nothing. (A skill nobody has logged yet is
/// fine: agreements are often written before the work.)
fn rule_skills(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    // Most agreements select no skill: then the million contributions' skills are not
    // gathered at all.
    let selects_a_skill = ledger.agreements.iter().any(|a| {
        a.buckets
            .iter()
            .any(|b| b.rules.iter().any(|r| r.skill.is_some()))
    });
    if !selects_a_skill {
        return;
    }
    // Hashed for the membership test; sorted only when a suggestion is needed.
    let mut known: HashSet<&str> = ledger
        .contributions
        .iter()
        .filter_map(|c| c.skill.as_deref())
        .collect();
    known.extend(ledger.elsewhere.skills.iter().map(String::as_str));
    for a in &ledger.agreements {
        known.extend(a.rates.skill.keys().map(String::as_str));
    }
    let mut sorted: Vec<&str> = Vec::new();
    for a in &ledger.agreements {
        for b in &a.buckets {
            for r in &b.rules {
                let Some(skill) = r.skill.as_deref() else {
                    continue;
                };
                if known.contains(skill) {
                    continue;
                }
                if sorted.is_empty() {
                    sorted = known.iter().copied().collect();
                    sorted.sort_unstable();
                }
                if let Some(near) = suggest(skill, sorted.iter().copied().filter(|k| *k != skill)) {
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownReference,
                            ledger.path(a.file),
                            Some(b.name.span),
                            format!(
                                "a rule of bucket {:?} selects skill `{skill}`, which no contribution or rate has",
                                b.name.value
                            ),
                        )
                        .with_hint(format!("did you mean `{near}`?")),
                    );
                }
            }
        }
    }
}

/// The built-in kind a rule's `kind` most likely meant, when it is not one itself but is
/// one slip away (`materials`, `Work`, `mony`, `wrok`): such a rule would select only
/// contributions of that odd kind, which is almost always nothing, and nothing would say so
/// until a payout left the material out. Kinds of one's own (`care`, `cite`) stay allowed; only
/// a word this close to a built-in one is taken for a typo. Deterministic: the candidates are
/// tried in a fixed order and the nearest first one wins.
pub fn near_builtin_kind(word: &str) -> Option<&'static str> {
    const BUILT_IN: [&str; 4] = ["material", "money", "use", "work"];
    if BUILT_IN.contains(&word) {
        return None;
    }
    let lower = word.to_lowercase();
    let plural = |k: &str| lower == format!("{k}s") || lower == format!("{k}es");
    BUILT_IN
        .iter()
        .map(|&k| {
            let d = if lower == k || plural(k) {
                0
            } else {
                strsim::damerau_levenshtein(&lower, k)
            };
            (d, k)
        })
        // One edit for a short word, two for a long one: `user` is a slip, `care` is a kind.
        .filter(|&(d, k)| d <= if k.len() >= 5 { 2 } else { 1 } && d < k.len())
        .min()
        .map(|(_, k)| k)
}

/// Rules of two buckets of one agreement that can select the same contribution: same kind,
/// and no filter (`project`, `skill`, `agent`, dates) that keeps them apart. Each bucket
/// claims for itself, so such a contribution is paid from both, which is rarely meant (a
/// network paying work by role needs a `skill` on every rule). Warnings, not problems: a
/// bonus on top can be meant, and is what a `once` claim is for (the founders' pattern), so a
/// rule claiming `once` is never taken for an overlap. Read from the agreements alone, so the
/// answer is the same however many contributions were loaded; one per pair of rules, at the
/// later bucket's name, in agreement and bucket order.
pub fn overlapping_rules(ledger: &Ledger) -> Vec<Diagnostic> {
    use super::record::{ClaimKind, Rule};
    fn apart<T: PartialEq>(a: Option<&T>, b: Option<&T>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a != b)
    }
    let overlap = |a: &Rule, b: &Rule| {
        a.kind == b.kind
            && !apart(a.project.as_ref(), b.project.as_ref())
            && !apart(a.skill.as_ref(), b.skill.as_ref())
            && !apart(a.agent.as_ref(), b.agent.as_ref())
            && !matches!((a.from, b.until), (Some(f), Some(u)) if f > u)
            && !matches!((b.from, a.until), (Some(f), Some(u)) if f > u)
    };
    let mut out = Vec::new();
    for agreement in &ledger.agreements {
        // (bucket number, bucket, rule number, rule) of every rule making a lasting claim.
        let lasting: Vec<_> = agreement
            .buckets
            .iter()
            .enumerate()
            .flat_map(|(n, b)| {
                b.rules
                    .iter()
                    .enumerate()
                    .filter(move |(_, r)| r.claim.unwrap_or(b.claim) != ClaimKind::Once)
                    .map(move |(m, r)| (n + 1, b, m + 1, r))
            })
            .collect();
        for (i, &(n1, b1, m1, r1)) in lasting.iter().enumerate() {
            for &(n2, b2, m2, r2) in &lasting[i + 1..] {
                if n1 == n2 || !overlap(r1, r2) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        Code::InvalidAgreement,
                        ledger.path(agreement.file),
                        Some(b2.name.span),
                        format!(
                            "buckets {:?} and {:?} both claim contributions of kind `{}` (buckets[{n1}].rules[{m1}] and buckets[{n2}].rules[{m2}]): such a contribution is paid from both",
                            b1.name.value, b2.name.value, r1.kind
                        ),
                    )
                    .with_hint(
                        "if that is not meant, narrow one rule with a filter such as `skill = \"...\"` (or `project`, `agent`, `from`/`until`); a bonus on top is a bucket with `claim = \"once\"`",
                    ),
                );
            }
        }
    }
    out
}

/// Every approval names an existing contribution, and a signed one an existing signer.
fn approvals(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    for a in &ledger.approvals {
        let file = ledger.path(a.file);
        reference(
            ledger,
            diags,
            file,
            "record",
            RecordType::Contribution,
            &a.record,
        );
        // Without this an unknown signer is only noticed when a status counts approvals.
        if let Some(by) = &a.by {
            reference(ledger, diags, file, "by", RecordType::Agent, by);
        }
    }
}

/// A policy that no contribution could ever meet is a mistake: more approvals than there are
/// other agents, or stewards required of a network where no project has one.
fn validation_policy(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let Some(network) = &ledger.network else {
        return;
    };
    let v = &network.validation;
    let others = ledger.agents.len().saturating_sub(1);
    if v.approvals as usize > others && !ledger.agents.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                NETWORK_FILE,
                None,
                format!(
                    "`validation.approvals` asks for {} approvals, but a contributor has at most {others} other agent{} to approve",
                    v.approvals,
                    if others == 1 { "" } else { "s" }
                ),
            )
            .with_hint("lower `approvals` in [validation], or add agents".to_owned()),
        );
    }
    if v.stewards && v.approvals == 0 {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                NETWORK_FILE,
                None,
                "`validation.stewards = true` needs `approvals` of at least 1",
            )
            .with_hint("set `approvals = 1` (or more) in [validation]".to_owned()),
        );
    }
    if v.signed && v.approvals == 0 {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                NETWORK_FILE,
                None,
                "`validation.signed = true` needs `approvals` of at least 1",
            )
            .with_hint("set `approvals = 1` (or more) in [validation]".to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::near_builtin_kind;

    #[test]
    fn a_kind_one_slip_from_a_built_in_one_is_named() {
        assert_eq!(near_builtin_kind("materials"), Some("material"));
        assert_eq!(near_builtin_kind("Work"), Some("work"));
        assert_eq!(near_builtin_kind("mony"), Some("money"));
        assert_eq!(near_builtin_kind("wrok"), Some("work"));
        assert_eq!(near_builtin_kind("uses"), Some("use"));
    }

    #[test]
    fn built_in_and_own_kinds_are_left_alone() {
        for kind in [
            "work", "money", "material", "use", "care", "cite", "walk", "teaching",
        ] {
            assert_eq!(near_builtin_kind(kind), None, "{kind}");
        }
    }
}
