//! The named records (agents, projects, resources, agreements) as `show` and `list` print
//! them: a table, CSV or JSON for a list, sentences or JSON for one record.
//!
//! Each kind of record is described once here, by the cells of its row, its JSON object and
//! the lines of its `show`, so `ovn agent list --format json` and `ovn agent show ana
//! --format json` give the same object for ana, and the four commands print alike. Every
//! text read from a record goes through [`one_line`] (ids, paths and emails through
//! [`escaped`]) in every format, as the review's outputs do: a name a pull request wrote is
//! data, and a control or bidirectional character in it reaches no terminal, spreadsheet or
//! script as itself. Decimals are strings in JSON, as everywhere in `ovn`.

use std::fmt::Write as _;
use std::io::Write;

use clap::ValueEnum;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::core::ledger::Ledger;
use crate::core::record::{
    Agent, Agreement, Base, Bucket, Budget, Policy, Project, Resource, Rule,
};
use crate::core::render::{escaped, one_line};
use crate::core::value::Id;

/// Output formats of the `list` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// a plain table, one record a row
    Table,
    /// comma-separated values with a header row, for spreadsheets
    Csv,
    /// a JSON object with one array of records
    Json,
}

/// Output formats of the `show` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// a heading and one line a field
    Human,
    /// the record as a JSON object (as in the list's JSON)
    Json,
}

/// A list of records of one kind, ready to print in any [`ListFormat`].
pub struct Listing {
    /// The plural noun: the JSON key and the word of the empty message (`agents`).
    pub plural: &'static str,
    /// The column names.
    pub header: &'static [&'static str],
    /// One row of cells a record.
    pub rows: Vec<Vec<String>>,
    /// One JSON object a record.
    pub objects: Vec<Value>,
}

/// Prints `listing` as `format` says; an empty table says so in a sentence instead, with
/// `add` (the command that adds one).
pub fn print_list(
    out: &mut impl Write,
    listing: &Listing,
    format: ListFormat,
    add: &str,
) -> std::io::Result<()> {
    match format {
        ListFormat::Table if listing.rows.is_empty() => {
            writeln!(out, "No {} yet: add one with `{add}`.", listing.plural)
        }
        ListFormat::Table => {
            let header: Vec<String> = listing.header.iter().map(|h| (*h).to_owned()).collect();
            let numeric = vec![false; header.len()];
            let table = super::table::draw(&header, listing.rows.iter().cloned(), &numeric);
            writeln!(out, "{table}")
        }
        ListFormat::Csv => {
            let header: Vec<String> = listing
                .header
                .iter()
                .map(|h| h.to_ascii_lowercase().replace(' ', "_"))
                .collect();
            write!(out, "{}", super::csv::rows(&header, &listing.rows))
        }
        ListFormat::Json => print_json(out, &json!({ listing.plural: listing.objects })),
    }
}

/// Prints `value` as pretty JSON and a line break.
pub fn print_json(out: &mut impl Write, value: &Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)
}

fn ids<'a>(items: impl IntoIterator<Item = &'a Id>) -> Vec<String> {
    items.into_iter().map(|i| escaped(i.as_str())).collect()
}

fn joined(items: &[String]) -> String {
    items.join(", ")
}

fn or_none(s: String) -> String {
    if s.is_empty() { "(none)".to_owned() } else { s }
}

fn dec(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Lines `label  value`, the labels padded to one width, each under a two-space indent.
fn fields(out: &mut String, rows: &[(&str, String)]) {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<width$}  {value}");
    }
}

/// The agents, one row each: id, name, kind, emails, joined.
pub fn agents(ledger: &Ledger) -> Listing {
    Listing {
        plural: "agents",
        header: &["ID", "NAME", "KIND", "EMAILS", "JOINED"],
        rows: ledger
            .agents
            .iter()
            .map(|a| {
                vec![
                    escaped(a.id.value.as_str()),
                    one_line(&a.name),
                    a.kind.as_str().to_owned(),
                    joined(&emails(a)),
                    a.joined.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
        objects: ledger
            .agents
            .iter()
            .map(|a| agent_json(ledger, a))
            .collect(),
    }
}

fn emails(a: &Agent) -> Vec<String> {
    a.emails.iter().map(|e| escaped(&e.value)).collect()
}

/// An agent as a JSON object.
pub fn agent_json(ledger: &Ledger, a: &Agent) -> Value {
    json!({
        "id": escaped(a.id.value.as_str()),
        "name": one_line(&a.name),
        "kind": a.kind.as_str(),
        "emails": emails(a),
        "keys": a.keys.iter().map(|k| one_line(k)).collect::<Vec<_>>(),
        "joined": a.joined.map(|d| d.to_string()),
        "ledger": a.ledger.as_deref().map(one_line),
        "path": escaped(ledger.path(a.file)),
    })
}

/// `ovn agent show`: the agent's fields, then what it stewards and owns.
pub fn agent_human(ledger: &Ledger, a: &Agent) -> String {
    let id = &a.id.value;
    let stewards: Vec<&Id> = ledger
        .projects
        .iter()
        .filter(|p| p.stewards.iter().any(|s| s.value == *id))
        .map(|p| &p.id.value)
        .chain(
            ledger
                .resources
                .iter()
                .filter(|r| r.stewards.iter().any(|s| s.value == *id))
                .map(|r| &r.id.value),
        )
        .collect();
    let owns: Vec<String> = ledger
        .resources
        .iter()
        .filter_map(|r| {
            let o = r.owners.iter().find(|o| o.agent.value == *id)?;
            Some(format!(
                "{} {}",
                escaped(r.id.value.as_str()),
                o.share.value
            ))
        })
        .collect();
    let mut out = format!("agent {} ({})\n", escaped(id.as_str()), one_line(&a.name));
    // A network's ledger, shown only where one is named.
    let ledger_line = a.ledger.as_deref().map(|l| ("ledger", one_line(l)));
    fields(
        &mut out,
        &[
            ("kind", a.kind.as_str().to_owned()),
            ("emails", or_none(joined(&emails(a)))),
            (
                "keys",
                or_none(joined(
                    &a.keys.iter().map(|k| one_line(k)).collect::<Vec<_>>(),
                )),
            ),
            (
                "joined",
                a.joined
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(not given)".to_owned()),
            ),
            ("steward of", or_none(joined(&ids(stewards)))),
            ("owns", or_none(joined(&owns))),
            ("file", escaped(ledger.path(a.file))),
        ]
        .into_iter()
        .chain(ledger_line)
        .collect::<Vec<_>>(),
    );
    out
}

/// The projects, one row each: id, name, agreement, parent, stewards.
pub fn projects(ledger: &Ledger) -> Listing {
    Listing {
        plural: "projects",
        header: &["ID", "NAME", "AGREEMENT", "PARENT", "STEWARDS"],
        rows: ledger
            .projects
            .iter()
            .map(|p| {
                vec![
                    escaped(p.id.value.as_str()),
                    one_line(&p.name),
                    opt_id(p.agreement.as_ref().map(|a| &a.value)),
                    opt_id(p.parent.as_ref().map(|a| &a.value)),
                    joined(&ids(p.stewards.iter().map(|s| &s.value))),
                ]
            })
            .collect(),
        objects: ledger
            .projects
            .iter()
            .map(|p| project_json(ledger, p))
            .collect(),
    }
}

fn opt_id(id: Option<&Id>) -> String {
    id.map(|i| escaped(i.as_str())).unwrap_or_default()
}

/// A project as a JSON object.
pub fn project_json(ledger: &Ledger, p: &Project) -> Value {
    json!({
        "id": escaped(p.id.value.as_str()),
        "name": one_line(&p.name),
        "agreement": p.agreement.as_ref().map(|a| escaped(a.value.as_str())),
        "parent": p.parent.as_ref().map(|a| escaped(a.value.as_str())),
        "stewards": ids(p.stewards.iter().map(|s| &s.value)),
        "path": escaped(ledger.path(p.file)),
    })
}

/// `ovn project show`: the project's fields and its sub-projects.
pub fn project_human(ledger: &Ledger, p: &Project) -> String {
    let children = ids(ledger
        .projects
        .iter()
        .filter(|c| c.parent.as_ref().is_some_and(|x| x.value == p.id.value))
        .map(|c| &c.id.value));
    let mut out = format!(
        "project {} ({})\n",
        escaped(p.id.value.as_str()),
        one_line(&p.name)
    );
    fields(
        &mut out,
        &[
            (
                "agreement",
                or_none(opt_id(p.agreement.as_ref().map(|a| &a.value))),
            ),
            (
                "parent",
                or_none(opt_id(p.parent.as_ref().map(|a| &a.value))),
            ),
            (
                "stewards",
                or_none(joined(&ids(p.stewards.iter().map(|s| &s.value)))),
            ),
            ("projects", or_none(joined(&children))),
            ("file", escaped(ledger.path(p.file))),
        ],
    );
    out
}

/// The resources, one row each: id, name, ownership, owners, stewards, use rate.
pub fn resources(ledger: &Ledger) -> Listing {
    Listing {
        plural: "resources",
        header: &["ID", "NAME", "OWNERSHIP", "OWNERS", "STEWARDS", "USE RATE"],
        rows: ledger
            .resources
            .iter()
            .map(|r| {
                vec![
                    escaped(r.id.value.as_str()),
                    one_line(&r.name),
                    r.ownership.as_str().to_owned(),
                    joined(&owners(r)),
                    joined(&ids(r.stewards.iter().map(|s| &s.value))),
                    r.use_rate.map(dec).unwrap_or_default(),
                ]
            })
            .collect(),
        objects: ledger
            .resources
            .iter()
            .map(|r| resource_json(ledger, r))
            .collect(),
    }
}

fn owners(r: &Resource) -> Vec<String> {
    r.owners
        .iter()
        .map(|o| format!("{} {}", escaped(o.agent.value.as_str()), o.share.value))
        .collect()
}

/// A resource as a JSON object.
pub fn resource_json(ledger: &Ledger, r: &Resource) -> Value {
    json!({
        "id": escaped(r.id.value.as_str()),
        "name": one_line(&r.name),
        "ownership": r.ownership.as_str(),
        "owners": r.owners.iter().map(|o| json!({
            "agent": escaped(o.agent.value.as_str()),
            "share": o.share.value.to_string(),
        })).collect::<Vec<_>>(),
        "stewards": ids(r.stewards.iter().map(|s| &s.value)),
        "use_rate": r.use_rate.map(dec),
        "path": escaped(ledger.path(r.file)),
    })
}

/// `ovn resource show`: the resource's fields.
pub fn resource_human(ledger: &Ledger, r: &Resource) -> String {
    let mut out = format!(
        "resource {} ({})\n",
        escaped(r.id.value.as_str()),
        one_line(&r.name)
    );
    fields(
        &mut out,
        &[
            ("ownership", r.ownership.as_str().to_owned()),
            ("owners", or_none(joined(&owners(r)))),
            (
                "stewards",
                or_none(joined(&ids(r.stewards.iter().map(|s| &s.value)))),
            ),
            (
                "use rate",
                r.use_rate
                    .map(|d| format!("{} an hour", dec(d)))
                    .unwrap_or_else(|| "(none)".to_owned()),
            ),
            ("file", escaped(ledger.path(r.file))),
        ],
    );
    out
}

/// The projects whose agreement is `id`.
fn governed<'a>(ledger: &'a Ledger, id: &Id) -> Vec<&'a Id> {
    ledger
        .projects
        .iter()
        .filter(|p| p.agreement.as_ref().is_some_and(|a| a.value == *id))
        .map(|p| &p.id.value)
        .collect()
}

/// The agreements, one row each: id, name, kind, how many buckets, the projects it governs.
pub fn agreements(ledger: &Ledger) -> Listing {
    Listing {
        plural: "agreements",
        header: &["ID", "NAME", "KIND", "BUCKETS", "PROJECTS"],
        rows: ledger
            .agreements
            .iter()
            .map(|a| {
                vec![
                    escaped(a.id.value.as_str()),
                    one_line(&a.name),
                    one_line(&a.kind),
                    a.buckets.len().to_string(),
                    joined(&ids(governed(ledger, &a.id.value))),
                ]
            })
            .collect(),
        objects: ledger
            .agreements
            .iter()
            .map(|a| agreement_json(ledger, a))
            .collect(),
    }
}

/// A bucket's budget in a few words: `10% of total`, `rest`, `150.00`.
fn budget(b: &Bucket) -> String {
    match &b.budget {
        Budget::Share { share, of } => format!(
            "{share} of {}",
            if *of == Base::Remaining {
                "remaining"
            } else {
                "total"
            }
        ),
        Budget::Rest => "rest".to_owned(),
        Budget::Amount(a) => a.to_string(),
    }
}

/// A rule in a few words: its kind, then each filter and valuation it sets.
fn rule_words(r: &Rule) -> String {
    let mut parts = vec![one_line(&r.kind)];
    let mut add = |label: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{label} {v}"));
        }
    };
    add(
        "project",
        r.project.as_ref().map(|p| escaped(p.value.as_str())),
    );
    add("skill", r.skill.as_deref().map(one_line));
    add("agent", r.agent.as_ref().map(|p| escaped(p.value.as_str())));
    add("from", r.from.map(|d| d.to_string()));
    add("until", r.until.map(|d| d.to_string()));
    add("rate", r.rate.map(dec));
    add("multiplier", r.multiplier.map(dec));
    add("formula", r.formula.as_ref().map(|f| one_line(&f.source)));
    add("claim", r.claim.map(|c| c.as_str().to_owned()));
    add("cap", r.cap.map(dec));
    parts.extend(age_words(r.decay.as_ref(), r.lookback.as_ref()));
    parts.join(", ")
}

/// A decay schedule and a lookback in words: `decay 1 until 1y, 0.5 until 2y, then 0`.
fn age_words(
    decay: Option<&crate::core::decay::Schedule>,
    lookback: Option<&crate::core::decay::Age>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = decay {
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|st| match &st.until {
                Some(u) => format!("{} until {u}", dec(st.factor)),
                None => format!("{} after", dec(st.factor)),
            })
            .collect();
        let last_open = s.steps.last().is_some_and(|st| st.until.is_none());
        let tail = if last_open { "" } else { " then 0" };
        out.push(format!("decay {}{tail}", steps.join(" / ")));
    }
    if let Some(l) = lookback {
        out.push(format!("lookback {l}"));
    }
    out
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "kind": one_line(&r.kind),
        "project": r.project.as_ref().map(|p| escaped(p.value.as_str())),
        "skill": r.skill.as_deref().map(one_line),
        "agent": r.agent.as_ref().map(|p| escaped(p.value.as_str())),
        "from": r.from.map(|d| d.to_string()),
        "until": r.until.map(|d| d.to_string()),
        "rate": r.rate.map(dec),
        "multiplier": r.multiplier.map(dec),
        "formula": r.formula.as_ref().map(|f| one_line(&f.source)),
        "claim": r.claim.map(|c| c.as_str()),
        "cap": r.cap.map(dec),
        "decay": r.decay.as_ref().map(schedule_json),
        "lookback": r.lookback.as_ref().map(|a| a.to_string()),
    })
}

/// A decay schedule's steps, youngest first.
fn schedule_json(s: &crate::core::decay::Schedule) -> Value {
    s.steps
        .iter()
        .map(|st| json!({"until": st.until.as_ref().map(|a| a.to_string()), "factor": dec(st.factor)}))
        .collect()
}

/// A bucket's freeze: its date, what later work is, and the debt rate (or null).
fn freeze_json(f: &crate::core::freeze::Freeze) -> Value {
    json!({
        "from": f.from.to_string(),
        "after": f.after.as_str(),
        "rate": f.after.rate().map(dec),
    })
}

fn bucket_json(b: &Bucket) -> Value {
    let (share, of, amount) = match &b.budget {
        Budget::Share { share, of } => (
            Some(share.to_string()),
            Some(if *of == Base::Remaining {
                "remaining"
            } else {
                "total"
            }),
            None,
        ),
        Budget::Rest => (Some("rest".to_owned()), None, None),
        Budget::Amount(a) => (None, None, Some(a.to_string())),
    };
    let mut out = json!({
        "name": one_line(&b.name.value),
        "share": share,
        "of": of,
        "amount": amount,
        "to": b.to.as_ref().map(|t| escaped(t.value.as_str())),
        "claim": b.claim.as_str(),
        "cap": b.cap.map(dec),
        "policy": match b.policy {
            Policy::Proportional => "proportional",
            Policy::Balanced => "balanced",
        },
        "decay": b.decay.as_ref().map(schedule_json),
        "lookback": b.lookback.as_ref().map(|a| a.to_string()),
        "rules": b.rules.iter().map(rule_json).collect::<Vec<_>>(),
    });
    // Only a frozen bucket has the key, so other agreements print as they did.
    if let (Some(f), Some(map)) = (&b.freeze, out.as_object_mut()) {
        map.insert("freeze".to_owned(), freeze_json(f));
    }
    out
}

fn rate_map<'a>(pairs: impl Iterator<Item = (&'a str, Decimal)>) -> Value {
    Value::Object(
        pairs
            .map(|(k, v)| (one_line(k), Value::String(dec(v))))
            .collect(),
    )
}

/// An agreement as a JSON object: its fields, rates and buckets, and the projects it governs.
pub fn agreement_json(ledger: &Ledger, a: &Agreement) -> Value {
    json!({
        "id": escaped(a.id.value.as_str()),
        "name": one_line(&a.name),
        "kind": one_line(&a.kind),
        "from": a.from.map(|d| d.to_string()),
        "until": a.until.map(|d| d.to_string()),
        "leftover": a.leftover.as_ref().map(|l| escaped(l.value.as_str())),
        "rates": {
            "work": a.rates.work.map(dec),
            "skill": rate_map(a.rates.skill.iter().map(|(k, v)| (k.as_str(), *v))),
            "agent": rate_map(a.rates.agent.iter().map(|(k, v)| (k.as_str(), v.value))),
            "project": rate_map(a.rates.project.iter().map(|(k, v)| (k.as_str(), v.value))),
        },
        "buckets": a.buckets.iter().map(bucket_json).collect::<Vec<_>>(),
        "projects": ids(governed(ledger, &a.id.value)),
        "path": escaped(ledger.path(a.file)),
    })
}

/// `ovn agreement show`: the agreement's fields, its rates, then its buckets in order with
/// their rules.
pub fn agreement_human(ledger: &Ledger, a: &Agreement) -> String {
    let mut out = format!(
        "agreement {} ({})\n",
        escaped(a.id.value.as_str()),
        one_line(&a.name)
    );
    let mut rates: Vec<String> = a
        .rates
        .work
        .map(|w| format!("work {}", dec(w)))
        .into_iter()
        .collect();
    rates.extend(
        a.rates
            .skill
            .iter()
            .map(|(k, v)| format!("skill {} {}", one_line(k), dec(*v))),
    );
    rates.extend(
        a.rates
            .agent
            .iter()
            .map(|(k, v)| format!("agent {} {}", escaped(k.as_str()), dec(v.value))),
    );
    rates.extend(
        a.rates
            .project
            .iter()
            .map(|(k, v)| format!("project {} {}", escaped(k.as_str()), dec(v.value))),
    );
    let applies = match (a.from, a.until) {
        (None, None) => "always".to_owned(),
        (Some(f), None) => format!("from {f}"),
        (None, Some(u)) => format!("until {u}"),
        (Some(f), Some(u)) => format!("from {f} until {u}"),
    };
    fields(
        &mut out,
        &[
            ("kind", one_line(&a.kind)),
            (
                "projects",
                or_none(joined(&ids(governed(ledger, &a.id.value)))),
            ),
            ("applies", applies),
            (
                "leftover",
                a.leftover
                    .as_ref()
                    .map(|l| escaped(l.value.as_str()))
                    .unwrap_or_else(|| "(the network's)".to_owned()),
            ),
            ("rates", or_none(rates.join(", "))),
            ("file", escaped(ledger.path(a.file))),
        ],
    );
    let _ = writeln!(out, "  buckets");
    for (i, b) in a.buckets.iter().enumerate() {
        let mut about = vec![budget(b)];
        match &b.to {
            Some(to) => about.push(format!("to {}", escaped(to.value.as_str()))),
            None => about.push(b.claim.as_str().to_owned()),
        }
        if let Some(cap) = b.cap {
            about.push(format!("cap {}", dec(cap)));
        }
        if b.policy == Policy::Balanced {
            about.push("balanced".to_owned());
        }
        about.extend(age_words(b.decay.as_ref(), b.lookback.as_ref()));
        about.extend(b.freeze.as_ref().map(|f| f.words()));
        let _ = writeln!(
            out,
            "    {}. {}: {}",
            i + 1,
            one_line(&b.name.value),
            about.join(", ")
        );
        for r in &b.rules {
            let _ = writeln!(out, "         {}", rule_words(r));
        }
    }
    out
}
