//! The parts of `ovn review` that judge a change by the rules before it: its governance
//! changes (`core::governance`), and who did what (the author of each added record, mapped
//! to an agent through the *base's* agents), with what a reviewer must look at flagged:
//! records logged for another agent, unknown identities, dates far from the commit's,
//! symlinks, gitlinks and files that are not readable records.
//!
//! How a governance change is judged (the base's rules, identities, verdicts, the rules in
//! force along the validated branch) is `ops::rules`, shared with `ovn check --history`;
//! this module collects what the review shows and renders it.

use std::fmt::Write as _;

use crate::store::Oid;
use serde::Serialize;

use super::CliError;
use super::render::markdown::Controls;
use crate::core::governance::{self, Change};
use crate::core::ledger::{Ledger, RecordType, Role, classify};
use crate::core::record::Validation;
use crate::core::validation::agent_by_email;
use crate::ops::rules::{self, Identities, judged};
use crate::store::{FileChange, Store, Touch};

/// One record the change adds, and who added it.
#[derive(Debug, Serialize)]
pub(super) struct Authored {
    /// The file.
    pub path: String,
    /// What it is: `contribution 01…`, `approval 01…`, `agent ana`.
    pub record: String,
    /// The agent the base maps the adding commit's author to, else `<email>`.
    pub author: String,
    /// For a contribution, the agent it is logged for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// For an approval, the contribution it approves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approves: Option<String>,
    /// For a contribution, its description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What a reviewer must look at (also listed among the policy violations).
    pub flags: Vec<String>,
}

/// What this part of the review found.
#[derive(Debug, Default)]
pub(super) struct Findings {
    /// Governance changes, judged by the base's rules.
    pub governance: Vec<Change>,
    /// The added records and their authors.
    pub records: Vec<Authored>,
    /// One line per thing flagged; each makes the review exit 1.
    pub flags: Vec<String>,
}

/// Governance changes and who did what between `fork` and `head`; `old` and `new` are the
/// changed files' records on each side (with `ovn.toml`), as `review::run` loads them.
///
/// It walks one change once and collects both lists the review prints (governance changes
/// and who did what), each flag next to the fact it is about.
pub(super) fn find(
    store: &Store,
    fork: Oid,
    head: Oid,
    changes: &[FileChange],
    old: &Ledger,
    new: &Ledger,
) -> Result<Findings, CliError> {
    let base = rules::base_in_force(store, fork)?;
    let policy = base
        .network
        .as_ref()
        .map(|n| n.validation.clone())
        .unwrap_or_default();
    let touches = store.range_touches(fork, head)?;
    let mut ids = Identities::new(store, &base);
    let mut found = Findings {
        governance: judged(&mut ids, governance::changes(old, new), &touches)?,
        ..Findings::default()
    };
    for change in &found.governance {
        found.flags.push(format!(
            "governance change: {} ({}; needs {})",
            change.what, change.verdict, change.needs
        ));
    }

    let mut specials = Vec::new();
    for (path, kind) in store.special_entries(fork, head)? {
        found.flags.push(format!(
            "{path}: a {} in the ledger; records are regular files, and nothing it points to is read",
            kind.noun()
        ));
        specials.push(path);
    }

    for c in changes.iter().filter(|c| c.new.is_some()) {
        if specials.contains(&c.path) {
            continue;
        }
        let readable = match classify(&c.path) {
            Role::Network => new.network.is_some(),
            Role::Record(..) | Role::Stray(..) => has_record(new, &c.path),
            _ => true,
        };
        if !readable {
            found.flags.push(format!(
                "{}: not a readable record (run ovn check); it counts for nothing",
                c.path
            ));
        }
        if c.old.is_some() {
            continue;
        }
        let Role::Record(kind, stem, _) = classify(&c.path) else {
            continue;
        };
        let Some(t) = touches
            .get(&c.path)
            .and_then(|ts| ts.iter().find(|t| t.added).or(ts.first()))
        else {
            continue;
        };
        let entry = authored(&mut ids, &base, &policy, new, (&c.path, kind, &stem), t)?;
        for f in &entry.flags {
            found.flags.push(format!("{}: {f}", entry.path));
        }
        found.records.push(entry);
    }
    Ok(found)
}

/// The record a change adds at `path` (a `kind` record named `stem`) and who added it: the
/// commit `t`, mapped to an agent by the base's rules (`ids`, `base`, `policy`), with what a
/// reviewer must look at flagged.
fn authored(
    ids: &mut Identities<'_>,
    base: &Ledger,
    policy: &Validation,
    new: &Ledger,
    (path, kind, stem): (&str, RecordType, &str),
    t: &Touch,
) -> Result<Authored, CliError> {
    let mut entry = Authored {
        path: path.to_owned(),
        record: format!("{} {stem}", kind.noun()),
        author: match agent_by_email(base, &t.email) {
            Some(a) => a.to_string(),
            None => format!("<{}>", t.email),
        },
        agent: None,
        approves: None,
        description: None,
        flags: Vec::new(),
    };
    if kind == RecordType::Approval {
        let approval = new.approvals.iter().find(|a| new.path(a.file) == path);
        if let Some(a) = approval {
            entry.approves = Some(a.record.value.to_string());
        }
        // An approval signed in the record names its approver and is judged by that
        // signature against the base's keys (`review::run`), whoever committed it.
        let signed_in_record =
            approval.and_then(|a| a.by.as_ref().filter(|_| a.signature.is_some()));
        if let Some(by) = signed_in_record {
            entry.author = format!("{} (signed in the record)", by.value);
        }
        // Unknown approvers are already a violation of their own (`review::run`); the
        // commit's signature is checked here, against the base's keys.
        if signed_in_record.is_none()
            && policy.signed
            && agent_by_email(base, &t.email).is_some()
            && let Err(why) = ids.author(t, true)?
        {
            entry
                .flags
                .push(format!("approval {stem} does not count: {why}"));
        }
    } else if let Err(why) = ids.author(t, false)? {
        entry.flags.push(format!("unknown identity: {why}"));
    }
    if let Some(contribution) = new.contributions.iter().find(|x| new.path(x.file) == path) {
        let agent = &contribution.agent.value;
        entry.agent = Some(agent.to_string());
        entry.description = Some(contribution.description.clone());
        if let Some(author) = agent_by_email(base, &t.email)
            && author != agent
        {
            entry.flags.push(format!(
                "logged for {agent} by {author}: only {agent} vouches for their own work"
            ));
        }
        let date = contribution.date.value;
        let skew = governance::skew_days(date, t.date);
        if skew > i64::from(policy.date_skew_days()) {
            entry.flags.push(format!(
                "dated {date}, {skew} days from its commit ({}): more than max_date_skew_days = {}",
                t.date,
                policy.date_skew_days()
            ));
        }
    }
    Ok(entry)
}

/// Whether `l` holds a record read from `path`.
fn has_record(l: &Ledger, path: &str) -> bool {
    let at = |file| l.path(file) == path;
    l.contributions.iter().any(|x| at(x.file))
        || l.approvals.iter().any(|x| at(x.file))
        || l.agents.iter().any(|x| at(x.file))
        || l.projects.iter().any(|x| at(x.file))
        || l.resources.iter().any(|x| at(x.file))
        || l.agreements.iter().any(|x| at(x.file))
        || l.payouts.iter().any(|x| at(x.file))
        || l.payments.iter().any(|x| at(x.file))
        || l.rates.iter().any(|x| at(x.file))
}

/// The two sections for a terminal.
pub(super) fn text(governance: &[Change], records: &[Authored]) -> String {
    // Names, emails, paths and descriptions come from the change: shown with control and
    // bidirectional characters made visible, so they cannot forge lines.
    let v = crate::core::render::visible;
    let mut s = String::new();
    if !governance.is_empty() {
        let _ = writeln!(
            s,
            "\nGovernance changes ({}), judged by the base's rules:",
            governance.len()
        );
        for g in governance {
            let mark = if g.validated { "ok " } else { "NOT" };
            let _ = writeln!(s, "  [{mark}] {}  {}", v(&g.path), v(&g.what));
            let _ = writeln!(s, "        {}; needs {}", v(&g.verdict), v(&g.needs));
        }
    }
    if !records.is_empty() {
        let _ = writeln!(s, "\nWho did what ({}):", records.len());
        for r in records {
            let _ = write!(s, "  {}  by {}", v(&r.record), v(&r.author));
            if let Some(a) = &r.agent {
                let _ = write!(s, ", for {}", v(a));
            }
            if let Some(a) = &r.approves {
                let _ = write!(s, ", approves {}", v(a));
            }
            s.push('\n');
            if let Some(d) = &r.description {
                let _ = writeln!(s, "      {}", v(d));
            }
            for f in &r.flags {
                let _ = writeln!(s, "      ! {}", v(f));
            }
        }
    }
    s
}

/// The two sections in Markdown, control characters shown as the terminal sections show them
/// ([`Controls::Replaced`]).
pub(super) fn markdown(governance: &[Change], records: &[Authored]) -> String {
    let cell = |t: &str| super::render::markdown::cell(t, Controls::Replaced);
    let mut s = String::new();
    if !governance.is_empty() {
        let _ = writeln!(
            s,
            "#### Governance changes (judged by the base's rules)\n\n| | file | change | verdict |\n|---|---|---|---|"
        );
        for g in governance {
            let mark = if g.validated { ":ok:" } else { ":x:" };
            let _ = writeln!(
                s,
                "| {mark} | {} | {} | {}; needs {} |",
                cell(&g.path),
                cell(&g.what),
                cell(&g.verdict),
                cell(&g.needs)
            );
        }
        s.push('\n');
    }
    if !records.is_empty() {
        let _ = writeln!(
            s,
            "#### Who did what\n\n| record | by | for | description | flags |\n|---|---|---|---|---|"
        );
        for r in records {
            let whom = match (&r.agent, &r.approves) {
                (Some(a), _) => cell(a),
                (None, Some(c)) => format!("approves {}", cell(c)),
                _ => String::new(),
            };
            let flags: Vec<String> = r
                .flags
                .iter()
                .map(|f| format!(":warning: {}", cell(f)))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {whom} | {} | {} |",
                cell(&r.record),
                cell(&r.author),
                cell(r.description.as_deref().unwrap_or("")),
                flags.join("<br>")
            );
        }
        s.push('\n');
    }
    s
}
