//! Governance changes: changes to the rules that judge other changes ("the rules that judge a
//! change are the rules before it", as in TUF and gittuf; README, "Review and validation").
//!
//! A change to the validation policy (`[validation]` in `ovn.toml`), to an agent's identity
//! (`emails`, `keys`; a new or removed agent), to a project's `stewards` or to an agreement
//! is a governance change. It is judged with the rules of the base it changes, never with
//! its own: who may make it is read from the base's agents, stewards and policy, so a key,
//! an email or a steward added in the same change vouches for nothing in it.
//!
//! The policy (documented in README, "Reviewing changes"):
//! - under a base policy that asks for no approvals (the default), merging validates it, as
//!   it validates contributions;
//! - under a base policy that asks for approvals, every commit that makes it must be authored
//!   (its author email mapped through the base's agents, and signed with a key the base
//!   lists on that agent when the base asks for signatures) by an agent the base allows:
//!   a steward of the project for its `stewards`, the agent itself or any steward for an
//!   agent's `emails` and `keys`, and any steward for the rest.
//!
//! This module compares records and counts; the store finds the commits and their authors.

use std::collections::BTreeSet;

use serde::Serialize;

use super::ledger::Ledger;
use super::record::Validation;
use super::value::Id;

/// What a governance change changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// `[validation]` in `ovn.toml`.
    Policy,
    /// An agent's `emails`.
    Emails(Id),
    /// An agent's `keys`.
    Keys(Id),
    /// A new agent (with its emails and keys).
    NewAgent(Id),
    /// An agent removed.
    RemovedAgent(Id),
    /// A project's `stewards` (or a new project's).
    Stewards(Id),
    /// An agreement (added, changed or removed).
    Agreement(Id),
    /// An agent's `departures` (it left, or came back): leaver terms change payouts.
    Departures(Id),
}

/// One governance change of a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The file it is in.
    pub path: String,
    /// What changes, in a few words.
    pub what: String,
    /// Who the base allows to make it, in a few words.
    pub needs: String,
    /// Whether it is validated under the base's policy.
    pub validated: bool,
    /// Why it is or is not.
    pub verdict: String,
    #[serde(skip)]
    /// What it changes.
    pub subject: Subject,
}

/// The governance changes between `old` and `new`, the records of the changed files at the
/// base and at the head (and `ovn.toml` on each side), by path then subject. Verdicts are
/// left empty for [`judge`].
///
/// Long because it is the list of what counts as governance, one block per kind (policy,
/// agents' emails and keys, agents added or removed, stewards, agreements), each read side
/// by side; the list is easiest to audit in one place.
pub fn changes(old: &Ledger, new: &Ledger) -> Vec<Change> {
    let mut out = Vec::new();
    let policy = |l: &Ledger| l.network.as_ref().map(|n| n.validation.clone());
    if let (Some(a), Some(b)) = (policy(old), policy(new))
        && a != b
    {
        out.push(pending(
            super::ledger::NETWORK_FILE,
            format!(
                "validation policy: {} -> {}",
                show_policy(&a),
                show_policy(&b)
            ),
            Subject::Policy,
        ));
    }
    for a in &new.agents {
        let path = new.path(a.file);
        let id = &a.id.value;
        match old.agents.iter().find(|o| o.id.value == *id) {
            None => out.push(pending(
                path,
                format!(
                    "new agent {id} (emails {}; {} key{})",
                    list(a.emails.iter().map(|e| e.value.as_str())),
                    a.keys.len(),
                    if a.keys.len() == 1 { "" } else { "s" }
                ),
                Subject::NewAgent(id.clone()),
            )),
            Some(o) => {
                let emails = |x: &super::record::Agent| -> BTreeSet<String> {
                    x.emails
                        .iter()
                        .map(|e| e.value.to_ascii_lowercase())
                        .collect()
                };
                let keys = |x: &super::record::Agent| -> BTreeSet<String> {
                    x.keys.iter().map(|k| k.trim().to_owned()).collect()
                };
                if emails(o) != emails(a) {
                    out.push(pending(
                        path,
                        format!(
                            "emails of {id}: {} -> {}",
                            list(emails(o).iter().map(String::as_str)),
                            list(emails(a).iter().map(String::as_str))
                        ),
                        Subject::Emails(id.clone()),
                    ));
                }
                if o.departures != a.departures {
                    out.push(pending(
                        path,
                        super::leave::change_text(id, &o.departures, &a.departures),
                        Subject::Departures(id.clone()),
                    ));
                }
                if keys(o) != keys(a) {
                    let (was, now) = (keys(o), keys(a));
                    out.push(pending(
                        path,
                        format!(
                            "keys of {id}: {} added, {} removed",
                            now.difference(&was).count(),
                            was.difference(&now).count()
                        ),
                        Subject::Keys(id.clone()),
                    ));
                }
            }
        }
    }
    for a in &old.agents {
        if !new.agents.iter().any(|n| n.id.value == a.id.value) {
            out.push(pending(
                old.path(a.file),
                format!("agent {} removed", a.id.value),
                Subject::RemovedAgent(a.id.value.clone()),
            ));
        }
    }
    for p in &new.projects {
        let ids = |s: &[super::record::At<Id>]| -> BTreeSet<String> {
            s.iter().map(|x| x.value.to_string()).collect()
        };
        let before = old
            .projects
            .iter()
            .find(|o| o.id.value == p.id.value)
            .map(|o| ids(&o.stewards))
            .unwrap_or_default();
        let after = ids(&p.stewards);
        if before != after {
            out.push(pending(
                new.path(p.file),
                format!(
                    "stewards of project {}: {} -> {}",
                    p.id.value,
                    list(before.iter().map(String::as_str)),
                    list(after.iter().map(String::as_str))
                ),
                Subject::Stewards(p.id.value.clone()),
            ));
        }
    }
    for (l, verb) in [(new, "changed"), (old, "removed")] {
        for a in &l.agreements {
            let in_new = new.agreements.iter().find(|n| n.id.value == a.id.value);
            let in_old = old.agreements.iter().find(|o| o.id.value == a.id.value);
            let what = match (verb, in_old, in_new) {
                ("changed", None, Some(_)) => "added",
                ("changed", Some(_), Some(_)) => "changed",
                ("removed", Some(_), None) => "removed",
                _ => continue,
            };
            out.push(pending(
                l.path(a.file),
                format!("agreement {} {what}", a.id.value),
                Subject::Agreement(a.id.value.clone()),
            ));
        }
    }
    out.sort_by(|a, b| (&a.path, &a.subject).cmp(&(&b.path, &b.subject)));
    out
}

fn pending(path: &str, what: String, subject: Subject) -> Change {
    Change {
        path: path.to_owned(),
        what,
        needs: String::new(),
        validated: false,
        verdict: String::new(),
        subject,
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "(none)".to_owned()
    } else {
        v.join(", ")
    }
}

/// `[validation]` in a few words.
pub fn show_policy(v: &Validation) -> String {
    format!(
        "approvals {}, stewards {}, signed {}, max_date_skew_days {}",
        v.approvals,
        v.stewards,
        if v.record_signatures {
            "\"record\"".to_owned()
        } else {
            v.signed.to_string()
        },
        v.date_skew_days()
    )
}

/// Who made one commit of a governance change, as the base knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// The agent the base maps the commit's author email to, or why it maps to none.
    pub agent: Result<Id, String>,
    /// When the base asks for signatures and the commit has none valid by a key the base
    /// lists on that agent: why.
    pub unsigned: Option<String>,
}

/// Judges `change` with the base's rules: `base` holds the base's network (its policy), all
/// its agents and all its projects (their stewards). Fills `needs`, `validated` and `verdict`.
pub fn judge(change: &mut Change, base: &Ledger, authors: &[Author]) {
    let policy = base
        .network
        .as_ref()
        .map(|n| n.validation.clone())
        .unwrap_or_default();
    let any_steward: BTreeSet<&Id> = base
        .projects
        .iter()
        .flat_map(|p| p.stewards.iter().map(|s| &s.value))
        .collect();
    let (allowed, needs): (BTreeSet<&Id>, String) = match &change.subject {
        Subject::Stewards(p) => match base.projects.iter().find(|x| x.id.value == *p) {
            Some(project) => (
                project.stewards.iter().map(|s| &s.value).collect(),
                format!("a steward of {p} at the base"),
            ),
            None => (
                any_steward.clone(),
                "a steward of a project at the base".to_owned(),
            ),
        },
        Subject::Emails(agent)
        | Subject::Keys(agent)
        | Subject::NewAgent(agent)
        | Subject::RemovedAgent(agent) => {
            let mut allowed = any_steward.clone();
            if base.agents.iter().any(|a| a.id.value == *agent) {
                allowed.insert(agent);
            }
            (
                allowed,
                format!("{agent} or a steward, as the base knows them"),
            )
        }
        Subject::Policy | Subject::Agreement(_) | Subject::Departures(_) => (
            any_steward.clone(),
            "a steward of a project at the base".to_owned(),
        ),
    };
    change.needs = needs;
    change.validated = false;
    if policy.approvals == 0 {
        change.validated = true;
        change.verdict = "validated by merging: the base's policy asks for no approvals".to_owned();
        return;
    }
    if authors.is_empty() {
        change.verdict = "no commit of the change makes it".to_owned();
        return;
    }
    for a in authors {
        let why = match (&a.agent, &a.unsigned) {
            (Err(why), _) => why.clone(),
            (Ok(id), _) if !allowed.contains(id) => format!("made by {id}, who may not"),
            (Ok(_), Some(why)) => why.clone(),
            (Ok(_), None) => continue,
        };
        change.verdict = format!("not validated: {why}");
        return;
    }
    let names: BTreeSet<&str> = authors
        .iter()
        .filter_map(|a| a.agent.as_ref().ok().map(Id::as_str))
        .collect();
    change.validated = true;
    change.verdict = format!("validated: made by {}", list(names.into_iter()));
}

/// Makes a validated `change` part of `rules` (a network, agents and projects: the rules in
/// force), taking its new value from `new` (the changed files' records after it). Agreements
/// are not rules of this kind: they are judged, not replaced.
pub fn apply(change: &Change, rules: &mut Ledger, new: &Ledger) {
    let agent_in = |l: &Ledger, id: &Id| l.agents.iter().position(|a| a.id.value == *id);
    match &change.subject {
        Subject::Policy => {
            if let (Some(r), Some(n)) = (rules.network.as_mut(), new.network.as_ref()) {
                r.validation = n.validation.clone();
            }
        }
        Subject::Emails(id) | Subject::Keys(id) => {
            let (Some(r), Some(n)) = (agent_in(rules, id), agent_in(new, id)) else {
                return;
            };
            let from = &new.agents[n];
            match change.subject {
                Subject::Emails(_) => rules.agents[r].emails = from.emails.clone(),
                _ => rules.agents[r].keys = from.keys.clone(),
            }
        }
        Subject::NewAgent(id) => {
            if let Some(n) = agent_in(new, id) {
                let agent = new.agents[n].clone();
                match agent_in(rules, id) {
                    Some(r) => rules.agents[r] = agent,
                    None => rules.agents.push(agent),
                }
            }
        }
        Subject::RemovedAgent(id) => rules.agents.retain(|a| a.id.value != *id),
        Subject::Stewards(id) => {
            let Some(project) = new.projects.iter().find(|p| p.id.value == *id) else {
                return;
            };
            match rules.projects.iter_mut().find(|p| p.id.value == *id) {
                Some(p) => p.stewards = project.stewards.clone(),
                None => rules.projects.push(project.clone()),
            }
        }
        Subject::Agreement(_) | Subject::Departures(_) => {}
    }
}

/// Days between a contribution's date and the day of the commit that added it.
pub fn skew_days(date: chrono::NaiveDate, committed: chrono::NaiveDate) -> i64 {
    (date - committed).num_days().abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    fn load(files: &[(&str, &str)]) -> Ledger {
        let raw: Vec<RawFile> = files
            .iter()
            .map(|(p, t)| RawFile {
                path: (*p).to_owned(),
                bytes: t.as_bytes().to_vec(),
            })
            .collect();
        ledger::load(&raw).ledger
    }

    const NET: &str = "format = 1\nname = \"N\"\ncurrency = \"EUR\"\n";

    #[test]
    fn identity_changes_are_judged_by_the_base() {
        let policy = format!("{NET}[validation]\napprovals = 1\n");
        let old = load(&[
            ("ovn.toml", &policy),
            (
                "agents/ben.toml",
                "id = \"ben\"\nname = \"Ben\"\nemails = [\"ben@x\"]\n",
            ),
            (
                "projects/p.toml",
                "id = \"p\"\nname = \"P\"\nstewards = [\"ana\"]\n",
            ),
        ]);
        let new = load(&[
            ("ovn.toml", &policy),
            (
                "agents/ben.toml",
                "id = \"ben\"\nname = \"Ben\"\nemails = [\"ben@x\", \"eve@x\"]\n",
            ),
            (
                "projects/p.toml",
                "id = \"p\"\nname = \"P\"\nstewards = [\"ana\"]\n",
            ),
        ]);
        let mut found = changes(&old, &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].what, "emails of ben: ben@x -> ben@x, eve@x");
        let by = |agent: Result<Id, String>| {
            vec![Author {
                agent,
                unsigned: None,
            }]
        };
        let eve = by(Err("unknown <eve@x>".to_owned()));
        judge(&mut found[0], &old, &eve);
        assert!(!found[0].validated);
        let ben = by(Ok(Id::parse("ben").unwrap()));
        judge(&mut found[0], &old, &ben);
        assert!(found[0].validated, "{}", found[0].verdict);
        let cy = by(Ok(Id::parse("cy").unwrap()));
        judge(&mut found[0], &old, &cy);
        assert!(!found[0].validated);
    }

    #[test]
    fn under_the_default_policy_the_merge_validates() {
        let old = load(&[("ovn.toml", NET)]);
        let new = load(&[(
            "ovn.toml",
            &format!("{NET}[validation]\napprovals = 2\nsigned = true\n"),
        )]);
        let mut found = changes(&old, &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subject, Subject::Policy);
        judge(&mut found[0], &old, &[]);
        assert!(found[0].validated);
    }
}
