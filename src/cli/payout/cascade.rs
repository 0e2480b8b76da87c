//! `ovn payout` of a project whose agreement pays projects (`to_project`): the preview,
//! record and verification of a whole cascade.
//!
//! Kept apart from the single payout so that path stays exactly as it was: a project that
//! pays no project never comes here, and its output is unchanged to the byte. Each level is
//! shown with the single payout's own table and explanation, indented two spaces per level,
//! so a reader who knows one payout reads a cascade. The arithmetic is `core::cascade`.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::{Format, JsonPayout, PayoutArgs, explain, table};
use crate::cli::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::context::Context;
use crate::core::cascade::{self, Cascade, Level};
use crate::core::ledger::Ledger;
use crate::core::payout::{Request, money};
use crate::core::record::PayoutRecord;
use crate::core::value::Id;
use crate::core::{render, write};
use crate::ops;
use crate::store::{Outcome, Plan, ResolvedRev, Store};

/// How a sub-payout is introduced: which line of which payout it shares.
fn origin(c: &Cascade, level: &Level) -> String {
    match level.parent {
        Some((parent, line)) => {
            let p = &c.levels[parent].payout;
            format!(
                "sub-payout of line {} ({:?}) of {}'s payout",
                line + 1,
                p.lines[line].bucket,
                p.project
            )
        }
        None => String::new(),
    }
}

/// Indents every line of `text` by two spaces per `depth`.
fn indented(text: &str, depth: usize) -> String {
    let pad = "  ".repeat(depth);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_owned()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

/// The table (and with --explain the explanation) of every level, indented per level.
fn text(c: &Cascade, ledger: &Ledger, at: &str, pending: &[Id], explained: bool) -> String {
    let mut out = String::new();
    for (n, level) in c.levels.iter().enumerate() {
        let p = &level.payout;
        let shown_at = if n == 0 {
            at.to_owned()
        } else {
            origin(c, level)
        };
        let mut part = table(p, &shown_at, if n == 0 { pending } else { &[] });
        for (line, l) in p.lines.iter().enumerate() {
            if let Some(sub) = cascade::line_project(ledger, p, line) {
                let _ = writeln!(
                    part,
                    "line {} ({:?}, {}) pays project {sub}: shared by its own agreement below",
                    line + 1,
                    l.bucket,
                    money(l.amount, p.minor_units)
                );
            }
        }
        if explained {
            let _ = write!(part, "\n{}", explain(p));
        }
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&indented(&part, level.depth));
    }
    out
}

/// One sub-payout in JSON: where it comes from and the payout itself.
#[derive(Serialize)]
struct JsonSub<'a> {
    depth: usize,
    parent_project: &'a str,
    parent_line: usize,
    #[serde(flatten)]
    payout: JsonPayout<'a>,
}

/// A cascade in JSON: the top payout's fields, and its sub-payouts in level order.
#[derive(Serialize)]
struct JsonCascade<'a> {
    #[serde(flatten)]
    payout: JsonPayout<'a>,
    sub_payouts: Vec<JsonSub<'a>>,
}

impl<'a> JsonCascade<'a> {
    fn new(c: &'a Cascade, commit: &'a str, pending: &[Id], explain: bool) -> Self {
        JsonCascade {
            payout: JsonPayout::new(c.top(), commit, pending, explain),
            sub_payouts: c.levels[1..]
                .iter()
                .map(|l| {
                    let (parent, line) = l.parent.unwrap_or_default();
                    JsonSub {
                        depth: l.depth,
                        parent_project: c.levels[parent].payout.project.as_str(),
                        parent_line: line + 1,
                        payout: JsonPayout::new(&l.payout, commit, &[], explain),
                    }
                })
                .collect(),
        }
    }
}

/// A cascade previewed or recorded: what `ovn payout` resolved and loaded (the ledger once,
/// for every level).
pub(super) struct Run<'a> {
    pub(super) store: &'a Store,
    pub(super) ctx: &'a Context,
    pub(super) ledger: &'a Ledger,
    pub(super) rev: &'a ResolvedRev,
    /// Whether `rev` is the validated branch (then pending contributions are listed).
    pub(super) validated: bool,
}

impl Run<'_> {
    /// Computes the cascade of `request`, then records it or shows it.
    pub(super) fn run(
        &self,
        request: &Request<'_>,
        args: &PayoutArgs,
        out: &mut impl Write,
    ) -> Result<u8, CliError> {
        let detail = ops::payout::Detail::of(args.explain, args.record);
        let computed =
            ops::payout::compute_cascade(self.store, self.rev, self.ledger, request, detail)?;
        if args.record {
            return record(self, &computed, args, out);
        }
        let pending = if self.validated {
            ops::payout::pending(self.store, self.rev, self.ledger, request.project)
        } else {
            Vec::new()
        };
        let at = if self.validated {
            format!("{} at {}", self.rev.name(), self.rev.short())
        } else {
            self.rev.short()
        };
        let shown = Preview {
            ledger: self.ledger,
            at: &at,
            commit: &self.rev.id(),
            pending: &pending,
        };
        render(args, &computed.cascade, &shown, out)?;
        Ok(EXIT_OK)
    }
}

/// What a preview of a cascade shows, and how.
struct Preview<'a> {
    ledger: &'a Ledger,
    at: &'a str,
    commit: &'a str,
    pending: &'a [Id],
}

/// Writes the preview of `c` in the format asked for.
fn render(
    args: &PayoutArgs,
    c: &Cascade,
    shown: &Preview<'_>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    match args.format {
        Format::Table => write!(
            out,
            "{}",
            text(c, shown.ledger, shown.at, shown.pending, args.explain)
        )?,
        Format::Markdown => {
            let body = text(c, shown.ledger, shown.at, shown.pending, args.explain);
            write!(out, "```text\n{body}```\n")?;
        }
        Format::Csv => {
            writeln!(out, "project,agent,bucket,amount")?;
            for l in &c.levels {
                for line in &l.payout.lines {
                    writeln!(
                        out,
                        "{},{},{},{}",
                        l.payout.project,
                        line.agent,
                        render::csv_field(&line.bucket),
                        money(line.amount, l.payout.minor_units)
                    )?;
                }
            }
        }
        Format::Json => {
            let json = JsonCascade::new(c, shown.commit, shown.pending, args.explain);
            serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// `ovn payout --record` of a cascade: every level's record in one commit, linked line by
/// line, once per revenue event.
fn record(
    run: &Run<'_>,
    computed: &ops::payout::ComputedCascade,
    args: &PayoutArgs,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let Run {
        store,
        ctx,
        ledger,
        rev,
        ..
    } = *run;
    let c = &computed.cascade;
    let top = c.top();
    let date = top.date.unwrap_or_else(|| ctx.now.date_naive());
    let commit = rev.id();
    let event = ops::payout::Event {
        project: &top.project,
        date,
        amount: top.amount,
        memo: args.memo.as_deref(),
    };
    event.not_recorded(store, rev, ledger, top.minor_units)?;
    let ids = c
        .levels
        .iter()
        .map(|_| crate::cli::writing::new_id(ctx))
        .collect::<Result<Vec<Id>, CliError>>()?;
    let stamp = cascade::Stamp {
        ids,
        date,
        memo: args.memo.clone(),
        commit: commit.clone(),
    };
    let records = cascade::records(ledger, &computed.settled, c, &stamp);
    let files: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|r| {
            (
                format!("payouts/{}/{}.toml", date.format("%Y"), r.id.value),
                write::payout(r).into_bytes(),
            )
        })
        .collect();
    let message = format!(
        "payout: {} {} {} on {date}{}, with {} sub-payout{}",
        top.project,
        money(top.amount, top.minor_units),
        top.currency,
        args.memo
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default(),
        records.len() - 1,
        if records.len() == 2 { "" } else { "s" }
    );
    let projects: Vec<&Id> = c.levels.iter().map(|l| &l.payout.project).collect();
    let outcome = commit_all(store, ctx, files, &message, |branch| {
        event.not_on_branch(branch)?;
        for p in &projects {
            ops::payout::all_seen(ledger, branch, p.as_str(), rev.name())?;
        }
        Ok(())
    })?;
    said(c, &stamp, &outcome, args, out)
}

/// What `--record` of a cascade says: the records and the commit, or in JSON the ids and the
/// cascade.
fn said(
    c: &Cascade,
    stamp: &cascade::Stamp,
    outcome: &Outcome,
    args: &PayoutArgs,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let commit = &stamp.commit;
    let top_id = &stamp.ids[0];
    if args.format == Format::Json {
        #[derive(Serialize)]
        struct JsonRecordedCascade<'a> {
            ids: Vec<&'a str>,
            commit: Option<String>,
            branch: Option<&'a str>,
            payout: JsonCascade<'a>,
        }
        let json = JsonRecordedCascade {
            ids: stamp.ids.iter().map(Id::as_str).collect(),
            commit: outcome.commit.map(|c| c.to_string()),
            branch: outcome.branch.as_deref(),
            payout: JsonCascade::new(c, commit, &[], args.explain),
        };
        serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(EXIT_OK);
    }
    crate::cli::writing::report(
        out,
        &format!(
            "Recorded payout {top_id} and {} sub-payout{} (computed at {})",
            c.levels.len() - 1,
            if c.levels.len() == 2 { "" } else { "s" },
            &commit[..12.min(commit.len())]
        ),
        outcome,
    )?;
    for note in super::unrated(c.top()) {
        writeln!(out, "{note}")?;
    }
    for (n, level) in c.levels.iter().enumerate().skip(1) {
        let (parent, line) = level.parent.unwrap_or_default();
        writeln!(
            out,
            "{}sub-payout {} of project {} ({} {}): line {} of {}",
            "  ".repeat(level.depth),
            stamp.ids[n],
            level.payout.project,
            money(level.payout.amount, level.payout.minor_units),
            level.payout.currency,
            line + 1,
            stamp.ids[parent]
        )?;
        for note in super::unrated(&level.payout) {
            writeln!(out, "{}{note}", "  ".repeat(level.depth))?;
        }
    }
    Ok(EXIT_OK)
}

/// Commits `files` on the current branch in one safe write (see `commit_payout`).
fn commit_all(
    store: &Store,
    ctx: &Context,
    files: Vec<(String, Vec<u8>)>,
    message: &str,
    check: impl Fn(&Ledger) -> Result<(), CliError>,
) -> Result<Outcome, CliError> {
    let options = crate::cli::writing::options(store, ctx, false)?;
    let (outcome, ()) = store.transact(&options, |view| -> Result<Plan<()>, CliError> {
        let recorded = ops::load::files(&view.read_folders(&["payouts"])?);
        check(recorded.ledger())?;
        Ok(Plan {
            files: files.clone(),
            message: message.to_owned(),
            value: (),
        })
    })?;
    Ok(outcome)
}

/// Whether `rec` is part of a cascade (a sub-payout, or a payout with a line paying a
/// project).
pub(super) fn is_part(rec: &PayoutRecord) -> bool {
    rec.parent.is_some() || rec.lines.iter().any(|l| l.project.is_some())
}

/// `ovn payout verify` of a payout that is part of a cascade: the whole cascade, from its
/// top, is re-derived at the top's pinned commit, and every record must match byte for byte
/// (links included, since they are part of the text).
pub(super) fn verify(
    store: &Store,
    head: &ResolvedRev,
    ledger: &Ledger,
    rec: &PayoutRecord,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let Some(top) = cascade::top_of(ledger, rec.id.value.as_str()) else {
        return Err(CliError::usage(
            format!("no payout record `{}`", rec.id.value),
            None,
        ));
    };
    let pinned = store.resolve_rev(&top.commit)?;
    let then = ops::load::whole(store, &pinned)?;
    super::refuse_problems(
        store,
        &pinned.id(),
        &then.diagnostics,
        &top.commit,
        "a payout",
    )?;
    let request = Request {
        project: top.project.value.as_str(),
        amount: top.amount.value,
        date: Some(top.date.value),
    };
    let detail = ops::payout::Detail::REDERIVE;
    let computed = ops::payout::compute_cascade(store, &pinned, &then.ledger, &request, detail)?;
    let c = &computed.cascade;
    let ids = cascade::recorded_ids(ledger, top, c);
    // A level whose record is missing gets a placeholder id, so the others still compare.
    let stamp = cascade::Stamp {
        ids: ids
            .iter()
            .map(|i| i.clone().unwrap_or_else(|| top.id.value.clone()))
            .collect(),
        date: top.date.value,
        memo: top.memo.clone(),
        commit: top.commit.clone(),
    };
    let again = cascade::records(&then.ledger, &computed.settled, c, &stamp);
    let (mismatches, lines) = compare(store, head, ledger, &again, &ids)?;
    if mismatches.is_empty() {
        writeln!(
            out,
            "payout {} matches: its cascade from {} re-derived at {} byte for byte ({} payouts, {} lines, {} {})",
            rec.id.value,
            top.id.value,
            &top.commit[..12.min(top.commit.len())],
            again.len(),
            lines,
            top.amount.value,
            top.currency
        )?;
        return Ok(EXIT_OK);
    }
    writeln!(
        out,
        "payout {} does NOT match: its cascade from {} re-derived at {} differs:",
        rec.id.value,
        top.id.value,
        &top.commit[..12.min(top.commit.len())]
    )?;
    for m in mismatches {
        writeln!(out, "{m}")?;
    }
    Ok(EXIT_PROBLEMS)
}

/// Compares each re-derived record of a cascade (`again`) with the one recorded at `head`
/// under the id its parent's line names (`ids`): what differs, and how many lines there are.
fn compare(
    store: &Store,
    head: &ResolvedRev,
    ledger: &Ledger,
    again: &[PayoutRecord],
    ids: &[Option<Id>],
) -> Result<(Vec<String>, usize), CliError> {
    let mut mismatches = Vec::new();
    let mut lines = 0;
    for (n, want) in again.iter().enumerate() {
        let Some(id) = &ids[n] else {
            mismatches.push(format!(
                "level {} (project {}) has no recorded sub-payout: its parent's line names none",
                n + 1,
                want.project.value
            ));
            continue;
        };
        let Some(got) = ledger.payouts.iter().find(|p| &p.id.value == id) else {
            mismatches.push(format!("sub-payout {id} is not in the ledger"));
            continue;
        };
        let recorded = store
            .read_file_at(&head.id(), ledger.path(got.file))?
            .unwrap_or_default();
        let text = write::payout(want);
        lines += want.lines.len();
        if text.as_bytes() != recorded.as_slice() {
            let mut diff = format!("payout {id} (project {}):", want.project.value);
            for line in super::line_diff(&String::from_utf8_lossy(&recorded), &text) {
                let _ = write!(diff, "\n{line}");
            }
            mismatches.push(diff);
        }
    }
    Ok((mismatches, lines))
}
