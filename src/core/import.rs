//! `ovn import csv`: contributions from a spreadsheet or a time tracker's CSV export.
//!
//! Pure: text in, contributions or row errors out; reading the file and committing are the
//! command's. The input is hostile by default (a file from anywhere), so it is bounded
//! ([`MAX_BYTES`], [`MAX_ROWS`]), every cell is checked as `ovn log` checks its flags, and
//! every bad cell is reported at once, as `row:column` (the row is the file's line, the
//! column the field's position, both from 1), so one run shows everything to fix.
//!
//! A row's record id is derived from the row itself (its date as the id's time, a SHA-256
//! of its fields, and which occurrence of an identical row it is, as the id's random part),
//! not drawn at random: importing the same file again gives the same ids, which are already
//! in the ledger, so a second import adds nothing. Ids stay time-sortable and filename-safe
//! like every other id.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::Digest;

use super::duration;
use super::ledger::Ledger;
use super::parse::{TextProblem, is_name_word, text_problem};
use super::record::{At, Contribution, Kind};
use super::value::{Id, parse_date_text, parse_decimal_text};

/// The largest file read (16 MiB).
pub const MAX_BYTES: u64 = 16 << 20;
/// The most rows one import writes.
pub const MAX_ROWS: usize = 50_000;

/// One problem with the input, at a row and a column (both from 1; column 0: the whole row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file where the row starts.
    pub row: usize,
    /// The field's position in the row, or 0.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl RowError {
    fn new(row: usize, column: usize, message: impl Into<String>) -> RowError {
        RowError {
            row,
            column,
            message: message.into(),
        }
    }
}

/// The fields of a contribution a column can fill.
pub const FIELDS: [&str; 13] = [
    "date",
    "agent",
    "project",
    "kind",
    "description",
    "hours",
    "amount",
    "currency",
    "quantity",
    "unit",
    "resource",
    "skill",
    "evidence",
];

/// Splits CSV text (RFC 4180: `,` between fields, `"` around a field with commas, quotes or
/// line breaks, `""` for a quote inside) into rows, each with the line it starts on. Blank
/// lines are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push((start, std::mem::take(&mut row)));
                }
                row.clear();
                line += 1;
                start = line;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(RowError::new(
            start,
            row.len() + 1,
            "a quoted field is never closed",
        ));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push((start, row));
    }
    Ok(rows)
}

/// The column mappings of common time trackers' detailed CSV exports (`--from NAME`): which
/// column holds each field. Their agent and project columns hold an email or a name, which
/// [`contributions`] matches against the ledger's agents and projects.
pub fn preset(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match name {
        // Toggl Track: Reports, Detailed, Export CSV (Duration as 01:15:00).
        "toggl" => &[
            ("agent", "Email"),
            ("project", "Project"),
            ("description", "Description"),
            ("date", "Start date"),
            ("hours", "Duration"),
        ],
        // Clockify: Reports, Detailed, Export CSV (dates as the workspace writes them).
        "clockify" => &[
            ("agent", "Email"),
            ("project", "Project"),
            ("description", "Description"),
            ("date", "Start Date"),
            ("hours", "Duration (decimal)"),
        ],
        // Harvest: Reports, Detailed time, Export CSV (the person in two columns).
        "harvest" => &[
            ("agent", "First Name+Last Name"),
            ("project", "Project"),
            ("description", "Notes"),
            ("date", "Date"),
            ("hours", "Hours"),
        ],
        _ => return None,
    })
}

/// The names [`preset`] knows.
pub const PRESETS: [&str; 3] = ["toggl", "clockify", "harvest"];

/// For each mapping of a field to several columns (`First Name+Last Name`) that the header
/// has, a new last column holding them joined by a space, named as the mapping names it, so
/// [`mapping`] finds it like any other.
pub fn join_columns(
    header: &mut Vec<String>,
    rows: &mut [(usize, Vec<String>)],
    overrides: &[(String, String)],
) {
    let norm = |s: &str| s.trim().to_ascii_lowercase();
    for (_, name) in overrides {
        if !name.contains('+') || header.iter().any(|h| norm(h) == norm(name)) {
            continue;
        }
        let parts: Option<Vec<usize>> = name
            .split('+')
            .map(|p| header.iter().position(|h| norm(h) == norm(p)))
            .collect();
        let Some(parts) = parts else { continue };
        header.push(name.clone());
        for (_, cells) in rows.iter_mut() {
            let joined: Vec<&str> = parts
                .iter()
                .filter_map(|i| cells.get(*i).map(|c| c.trim()))
                .filter(|c| !c.is_empty())
                .collect();
            let joined = joined.join(" ");
            // A short row keeps its cells where they are.
            cells.resize(header.len() - 1, String::new());
            cells.push(joined);
        }
    }
}

/// Which column holds each field: the header names (case and spaces ignored) when
/// `by_header` (not for a tracker's [`preset`], whose other columns mean other things), then
/// `overrides` (field, header name) on top.
pub fn mapping(
    header: &[String],
    overrides: &[(String, String)],
    by_header: bool,
) -> Result<BTreeMap<&'static str, usize>, String> {
    let norm = |s: &str| s.trim().to_ascii_lowercase();
    let mut map = BTreeMap::new();
    for field in FIELDS.iter().copied().filter(|_| by_header) {
        if let Some(i) = header.iter().position(|h| norm(h) == field) {
            map.insert(field, i);
        }
    }
    for (field, name) in overrides {
        let Some(field) = FIELDS.iter().find(|f| **f == norm(field)) else {
            return Err(format!(
                "--column {field}={name}: `{field}` is not a field; fields are {}",
                FIELDS.join(", ")
            ));
        };
        let Some(i) = header.iter().position(|h| norm(h) == norm(name)) else {
            return Err(format!(
                "--column {field}={name}: the header has no column `{name}`"
            ));
        };
        map.insert(field, i);
    }
    for needed in ["date", "agent", "description"] {
        if !map.contains_key(needed) {
            return Err(format!(
                "no column for `{needed}`: name a header column {needed}, or map one with --column {needed}=NAME"
            ));
        }
    }
    Ok(map)
}

/// Reads every data row into a contribution (id still empty), checking each cell against
/// `ledger` (agents, projects, resources and the network's currency). `project` is the
/// project of rows that name none. All problems are returned, none are skipped.
pub fn contributions(
    rows: &[(usize, Vec<String>)],
    map: &BTreeMap<&'static str, usize>,
    ledger: &Ledger,
    project: Option<&Id>,
) -> (Vec<(usize, Contribution)>, Vec<RowError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if rows.len() > MAX_ROWS {
        errors.push(RowError::new(
            rows[MAX_ROWS].0,
            0,
            format!("more than {MAX_ROWS} rows; split the file"),
        ));
        return (out, errors);
    }
    for (line, cells) in rows {
        let before = errors.len();
        let c = row(*line, cells, map, ledger, project, &mut errors);
        if let Some(c) = c
            && errors.len() == before
        {
            out.push((*line, c));
        }
    }
    (out, errors)
}

/// One row's contribution, or its problems added to `errors`.
///
/// Long because each field is checked where it is read, one after the other, and every check
/// reports and goes on (so one run shows all problems of a row); split up, the fields would
/// travel between functions as a dozen loose options.
fn row(
    line: usize,
    cells: &[String],
    map: &BTreeMap<&'static str, usize>,
    ledger: &Ledger,
    project: Option<&Id>,
    errors: &mut Vec<RowError>,
) -> Option<Contribution> {
    let cell = |field: &str| -> Option<(usize, &str)> {
        let i = *map.get(field)?;
        let text = cells.get(i).map_or("", |s| s.trim());
        (!text.is_empty()).then_some((i + 1, text))
    };
    let mut err = |col: usize, msg: String| errors.push(RowError::new(line, col, msg));
    let col_of = |field: &str| map.get(field).map_or(0, |i| i + 1);
    let date = match cell("date") {
        Some((col, t)) => parse_date_text(t)
            .map_err(|_| err(col, format!("date {t:?} is not a date (write YYYY-MM-DD)")))
            .ok(),
        None => {
            err(col_of("date"), "the date is empty".to_owned());
            None
        }
    };
    let reference = |field: &str,
                     exists: &dyn Fn(&str) -> Option<Id>,
                     err: &mut dyn FnMut(usize, String)|
     -> Option<Id> {
        let (col, t) = cell(field)?;
        match exists(t) {
            Some(id) => Some(id),
            None => {
                err(
                    col,
                    format!("no {field} `{}` in the ledger", t.escape_debug()),
                );
                None
            }
        }
    };
    let agent = reference("agent", &|t| agent_named(ledger, t), &mut err);
    if cell("agent").is_none() {
        err(col_of("agent"), "the agent is empty".to_owned());
    }
    let project = match cell("project") {
        Some(_) => reference("project", &|t| project_named(ledger, t), &mut err),
        None => match project {
            Some(p) => Some(p.clone()),
            None => {
                err(
                    col_of("project"),
                    "no project: add a project column, or give --project".to_owned(),
                );
                None
            }
        },
    };
    let resource = reference(
        "resource",
        &|t| {
            let found = ledger.resources.iter().find(|r| r.id.value.as_str() == t);
            found.map(|r| r.id.value.clone())
        },
        &mut err,
    );
    let kind = match cell("kind") {
        None => Some(Kind::Work),
        Some((_, t)) if is_name_word(t) => Some(Kind::from_word(t)),
        Some((col, t)) => {
            err(
                col,
                format!(
                    "kind {:?} is not a word such as work, money, material or use",
                    t
                ),
            );
            None
        }
    };
    let description = match cell("description") {
        None => {
            err(col_of("description"), "the description is empty".to_owned());
            None
        }
        Some((col, t)) => match text_problem(t) {
            None => Some(t.to_owned()),
            Some(TextProblem::Empty) => None,
            Some(p) => {
                err(col, format!("the description {p}"));
                None
            }
        },
    };
    let hours = cell("hours").and_then(|(col, t)| {
        let parsed = match parse_decimal_text(t) {
            Ok(h) if h > Decimal::ZERO && h <= Decimal::from(24) && h.scale() <= 4 => {
                Ok(h.normalize())
            }
            Ok(_) => Err(()),
            Err(_) => clock_hours(t)
                .ok_or(())
                .or_else(|()| duration::parse(t).map(|d| d.hours).map_err(|_| ())),
        };
        parsed
            .map_err(|()| {
                err(
                    col,
                    format!(
                        "hours {t:?} are not more than 0 and at most 24 hours (2.5, 2h30m or 1:30)"
                    ),
                )
            })
            .ok()
    });
    let currency_places = ledger.network.as_ref().map_or(2, |n| n.minor_units);
    let amount = cell("amount").and_then(|(col, t)| match parse_decimal_text(t) {
        Ok(a) if a > Decimal::ZERO && a.scale() <= currency_places => {
            let mut a = a;
            a.rescale(currency_places);
            Some(a)
        }
        _ => {
            err(col, format!("amount {t:?} is not more than zero with at most {currency_places} decimal places"));
            None
        }
    });
    let quantity = cell("quantity").and_then(|(col, t)| match parse_decimal_text(t) {
        Ok(q) if q > Decimal::ZERO && q.scale() <= super::parse::RATE_SCALE => Some(q),
        _ => {
            err(
                col,
                format!("quantity {t:?} is not a number more than zero"),
            );
            None
        }
    });
    let text_cell = |field: &str, err: &mut dyn FnMut(usize, String)| -> Option<String> {
        let (col, t) = cell(field)?;
        match text_problem(t) {
            None => Some(t.to_owned()),
            Some(p) => {
                err(col, format!("the {field} {p}"));
                None
            }
        }
    };
    let currency = text_cell("currency", &mut err);
    let unit = text_cell("unit", &mut err);
    let skill = text_cell("skill", &mut err);
    let evidence: Vec<String> = text_cell("evidence", &mut err)
        .map(|e| e.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let (date, agent, project, kind, description) = (date?, agent?, project?, kind?, description?);
    let mut c = Contribution::new(
        At::new(Id::parse("x").ok()?),
        At::new(agent),
        date,
        At::new(project),
        kind,
        description,
    );
    c.hours = hours.map(At::new);
    c.amount = amount;
    c.set_currency(currency);
    c.set_quantity(quantity);
    c.set_unit(unit);
    c.resource = resource.map(At::new);
    c.skill = skill;
    c.set_evidence(evidence);
    Some(c)
}

/// The agent a cell names: by its id, one of its emails or its name (a time tracker's export
/// names people, not ledger ids).
fn agent_named(ledger: &Ledger, text: &str) -> Option<Id> {
    let lower = text.to_lowercase();
    let agents = &ledger.agents;
    agents
        .iter()
        .find(|a| a.id.value.as_str() == text)
        .or_else(|| {
            agents
                .iter()
                .find(|a| a.emails.iter().any(|e| e.value.eq_ignore_ascii_case(text)))
        })
        .or_else(|| agents.iter().find(|a| a.name.to_lowercase() == lower))
        .map(|a| a.id.value.clone())
}

/// The project a cell names: by its id or its name.
fn project_named(ledger: &Ledger, text: &str) -> Option<Id> {
    let lower = text.to_lowercase();
    let projects = &ledger.projects;
    projects
        .iter()
        .find(|p| p.id.value.as_str() == text)
        .or_else(|| projects.iter().find(|p| p.name.to_lowercase() == lower))
        .map(|p| p.id.value.clone())
}

/// `H:MM:SS` (Toggl's durations) as hours, rounded to 4 places; more than 0, at most 24.
fn clock_hours(text: &str) -> Option<Decimal> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let [h, m, s] = [h, m, s].map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (h?, m?, s?);
    if m >= 60 || s >= 60 {
        return None;
    }
    let secs = Decimal::from(h.checked_mul(3600)?.checked_add(m * 60 + s)?);
    let hours = secs
        .checked_div(Decimal::from(3600))?
        .round_dp(4)
        .normalize();
    (hours > Decimal::ZERO && hours <= Decimal::from(24)).then_some(hours)
}

/// The id of an imported row: the date as the time part, and the SHA-256 of the record's
/// fields and of `occurrence` (how many identical rows came before it in the file) as the
/// random part, so the same row imported twice has the same id.
pub fn stable_id(c: &Contribution, occurrence: u32) -> Id {
    let mut h = sha2::Sha256::new();
    let text = super::write::contribution(c);
    // Everything but the (placeholder) id line.
    for line in text.lines().filter(|l| !l.starts_with("id = ")) {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    h.update(occurrence.to_le_bytes());
    let digest = h.finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let millis = date_millis(c.date.value);
    super::newid::contribution_id(millis, random)
}

fn date_millis(d: NaiveDate) -> u64 {
    let secs = d
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    u64::try_from(secs).unwrap_or(0).saturating_mul(1000)
}

/// Gives each contribution its stable id (see [`stable_id`]).
pub fn assign_ids(rows: &mut [(usize, Contribution)]) {
    let mut seen: BTreeMap<Id, u32> = BTreeMap::new();
    for (_, c) in rows.iter_mut() {
        let first = stable_id(c, 0);
        let n = seen.entry(first.clone()).or_insert(0);
        let id = if *n == 0 { first } else { stable_id(c, *n) };
        *n += 1;
        c.id = At::new(id);
    }
}

/// The header of the rows [`timeclock`] and [`timedot`] make.
pub const TIME_HEADER: [&str; 5] = ["date", "agent", "project", "hours", "description"];

/// A row made from a time file: its cells in [`TIME_HEADER`] order, and for each cell the
/// column of the line it came from (for errors).
pub type TimeRow = (usize, Vec<String>, Vec<usize>);

/// A reader of a time file: its text and the agent whose time it is, to rows or errors.
pub type TimeReader = fn(&str, &str) -> Result<Vec<TimeRow>, Vec<RowError>>;

fn hours_text(seconds: i64) -> Option<String> {
    let h = Decimal::from(seconds).checked_div(Decimal::from(3600))?;
    Some(h.round_dp(4).normalize().to_string())
}

fn time_date(text: &str) -> Option<NaiveDate> {
    parse_date_text(&text.replace('/', "-")).ok()
}

/// hledger's timeclock format: `i DATE TIME PROJECT  DESCRIPTION` clocks in, `o DATE TIME`
/// clocks out; each pair is one row of `agent`'s work on the clock-in date. Comment lines
/// start with `#`, `;` or `*`.
pub fn timeclock(text: &str, agent: &str) -> Result<Vec<TimeRow>, Vec<RowError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut open: Option<(usize, chrono::NaiveDateTime, String, String, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let t = line.trim_end();
        if t.is_empty() || t.starts_with(['#', ';', '*']) {
            continue;
        }
        let mut parts = t.splitn(4, ' ');
        let (code, date, time, rest) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let at = time_date(date).and_then(|d| {
            let time = if time.len() == 5 {
                format!("{time}:00")
            } else {
                time.to_owned()
            };
            chrono::NaiveTime::parse_from_str(&time, "%H:%M:%S")
                .ok()
                .map(|t| d.and_time(t))
        });
        let Some(at) = at else {
            errors.push(RowError::new(n, 3, "expected `i|o YYYY-MM-DD HH:MM[:SS]`"));
            continue;
        };
        match code {
            "i" | "I" => {
                if let Some((l, ..)) = &open {
                    errors.push(RowError::new(
                        n,
                        1,
                        format!("clocked in again; line {l} was never clocked out"),
                    ));
                }
                let (project, description) = match rest.split_once("  ") {
                    Some((p, d)) => (p.trim().to_owned(), d.trim().to_owned()),
                    None => (rest.trim().to_owned(), String::new()),
                };
                let col = date.len() + time.len() + 4;
                open = Some((n, at, project, description, col));
            }
            "o" | "O" => match open.take() {
                None => errors.push(RowError::new(n, 1, "clocked out without clocking in")),
                Some((l, start, project, description, col)) => {
                    let secs = (at - start).num_seconds();
                    match hours_text(secs).filter(|_| secs > 0) {
                        Some(h) => {
                            let description = if description.is_empty() {
                                format!("time on {project}")
                            } else {
                                description
                            };
                            rows.push((
                                l,
                                vec![
                                    start.date().to_string(),
                                    agent.to_owned(),
                                    project,
                                    h,
                                    description,
                                ],
                                vec![3, 0, col, 0, col],
                            ));
                        }
                        None => errors.push(RowError::new(n, 3, "clocks out before it clocked in")),
                    }
                }
            },
            _ => errors.push(RowError::new(n, 1, "a timeclock line starts with i or o")),
        }
    }
    if let Some((l, ..)) = open {
        errors.push(RowError::new(l, 1, "never clocked out"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// hledger's timedot format: a date line (`2026-03-02`, optionally followed by a
/// description), then lines `PROJECT  QUANTITY`, the quantity dots (each a quarter hour,
/// spaces ignored) or hours (`1.5`, `1.5h`, `90m`). Each such line is one row of `agent`'s
/// work that day. Comment lines start with `#` or `;`, and `*` lines that are not dates.
pub fn timedot(text: &str, agent: &str) -> Result<Vec<TimeRow>, Vec<RowError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut day: Option<(NaiveDate, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let t = line.trim();
        let first = t
            .trim_start_matches(['*', ' '])
            .split_whitespace()
            .next()
            .unwrap_or("");
        if let Some(d) = time_date(first) {
            let rest = t
                .trim_start_matches(['*', ' '])
                .get(first.len()..)
                .unwrap_or("")
                .trim();
            day = Some((d, rest.to_owned()));
            continue;
        }
        if t.is_empty() || t.starts_with(['#', ';', '*']) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let (project, quantity) = match t.split_once("  ").or_else(|| t.split_once('\t')) {
            Some((p, q)) => (p.trim(), q.trim()),
            None => {
                errors.push(RowError::new(
                    n,
                    indent + 1,
                    "expected `PROJECT  QUANTITY` (two spaces between)",
                ));
                continue;
            }
        };
        let qcol = line.find(quantity).map_or(0, |i| i + 1);
        let Some((date, description)) = &day else {
            errors.push(RowError::new(
                n,
                indent + 1,
                "an entry before any date line",
            ));
            continue;
        };
        let hours = if quantity.chars().all(|c| c == '.' || c == ' ') {
            let dots = quantity.chars().filter(|c| *c == '.').count();
            Some(Decimal::from(dots) / Decimal::from(4))
        } else if let Some(m) = quantity.strip_suffix('m') {
            parse_decimal_text(m)
                .ok()
                .and_then(|m| m.checked_div(Decimal::from(60)))
                .map(|h| h.round_dp(4))
        } else {
            parse_decimal_text(quantity.strip_suffix('h').unwrap_or(quantity)).ok()
        };
        let Some(hours) = hours.filter(|h| *h > Decimal::ZERO) else {
            errors.push(RowError::new(
                n,
                qcol,
                format!("quantity {quantity:?} is not dots or hours (1.5, 1.5h, 90m)"),
            ));
            continue;
        };
        let description = if description.is_empty() {
            format!("time on {project}")
        } else {
            description.clone()
        };
        rows.push((
            n,
            vec![
                date.to_string(),
                agent.to_owned(),
                project.to_owned(),
                hours.normalize().to_string(),
                description,
            ],
            vec![1, 0, indent + 1, qcol, 1],
        ));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_quotes_and_line_breaks() {
        let rows = parse_csv("a,b\r\n\"x, y\",\"say \"\"hi\"\"\nthere\"\n\n1,2").unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".to_owned(), "b".to_owned()]),
                (2, vec!["x, y".to_owned(), "say \"hi\"\nthere".to_owned()]),
                (5, vec!["1".to_owned(), "2".to_owned()]),
            ]
        );
        assert_eq!(parse_csv("a\n\"open").unwrap_err().row, 2);
    }

    #[test]
    fn mapping_by_header_and_flags() {
        let header: Vec<String> = ["Date", "Who", "hours", "Description"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(mapping(&header, &[], true).unwrap_err().contains("`agent`"));
        let m = mapping(&header, &[("agent".to_owned(), "who".to_owned())], true).unwrap();
        assert_eq!((m["date"], m["agent"], m["hours"]), (0, 1, 2));
        assert!(mapping(&header, &[("wage".to_owned(), "who".to_owned())], true).is_err());
    }

    #[test]
    fn presets_joined_columns_and_clock_durations() {
        assert!(PRESETS.iter().all(|p| preset(p).is_some()));
        let mut header: Vec<String> = ["First Name", "Last Name", "Hours"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut rows = vec![(2, vec!["Ana".to_owned(), "Lima".to_owned(), "1".to_owned()])];
        let over = [("agent".to_owned(), "First Name+Last Name".to_owned())];
        join_columns(&mut header, &mut rows, &over);
        assert_eq!(header[3], "First Name+Last Name");
        assert_eq!(rows[0].1[3], "Ana Lima");
        assert_eq!(clock_hours("01:15:00"), Some(Decimal::new(125, 2)));
        assert_eq!(clock_hours("0:00:20"), Some(Decimal::new(56, 4)));
        assert_eq!(clock_hours("25:00:00"), None);
        assert_eq!(clock_hours("1:5:00"), None);
        assert_eq!(clock_hours("99999999999:00:00"), None);
    }

    #[test]
    fn timeclock_pairs() {
        let rows = timeclock(
            "; comment\ni 2026/03/02 09:00:00 drone  Wired the board\no 2026/03/02 10:30:00\ni 2026-03-03 14:00 drone\no 2026-03-03 14:20\n",
            "ana",
        )
        .unwrap();
        assert_eq!(rows[0].0, 2);
        assert_eq!(
            rows[0].1,
            ["2026-03-02", "ana", "drone", "1.5", "Wired the board"]
        );
        assert_eq!(
            rows[1].1,
            ["2026-03-03", "ana", "drone", "0.3333", "time on drone"]
        );
        let errors = timeclock("o 2026-03-02 10:00\ni 2026-03-02 nine drone\n", "ana").unwrap_err();
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn timedot_dots_and_hours() {
        let rows = timedot(
            "# week 10\n2026-03-02 soldering day\ndrone  .... ..\nlab    1.5h\n* 2026-03-03\ndrone  45m\n",
            "ana",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0].1,
            ["2026-03-02", "ana", "drone", "1.5", "soldering day"]
        );
        assert_eq!(rows[1].1[3], "1.5");
        assert_eq!(
            rows[2].1,
            ["2026-03-03", "ana", "drone", "0.75", "time on drone"]
        );
        let errors = timedot("drone  1\n2026-03-02\ndrone  lots\n", "ana").unwrap_err();
        assert_eq!((errors[0].row, errors[1].row, errors[1].column), (1, 3, 8));
    }
}
