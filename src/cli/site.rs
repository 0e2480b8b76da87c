//! `ovn site DIR`: a static, self-contained HTML transparency page.
//!
//! One file, `DIR/index.html`, with its styles inline and no script, font, image or other
//! asset from anywhere: it works offline, from a file system, and on any static host, and it
//! shows the same thing in every browser. Every figure comes from the `core::report`
//! functions the `ovn report` commands print, at one commit that the page names (and links,
//! with --commit-url), so anyone can re-derive it. The bars are plain CSS widths. The file is
//! written atomically, like `ovn export -o`.

use crate::context::Context;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use rust_decimal::Decimal;

use super::render::html::{bar, escape, row, thead};
use super::render::table::ResourceCells;
use super::render::{hours, percent};
use super::report::{Common, Format, Period, Projects, load_for_export};
use super::{CliError, EXIT_OK};
use crate::core::ledger::Ledger;
use crate::core::payout::money;
use crate::core::report::{self, Dimension, Query};

/// Write a static, self-contained HTML transparency page of the ledger.
///
/// Writes DIR/index.html (creating DIR if needed): contributions over time, each project's
/// shares as bar charts, the claims (equity, debts owed and repaid, once claims pending),
/// every recorded payout with its lines and the commit it was computed at, each agent's
/// paid-to-date, and the resources with their use. The page has no external assets and no
/// script: it works offline and on any static host. Every figure is computed at one commit,
/// which the page names; with --commit-url the commit ids become links.
///
/// Reads the validated branch, or --at REV. The page is written to a temporary file and
/// renamed into place, so a published page is never half-written.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn site public                      write public/index.html
  ovn site public --commit-url 'https://codeberg.org/fablab/ledger/commit/{commit}'

Exit status: 0 success, 1 the ledger has problems, 2 usage error, 3 environment error
(including a directory that cannot be written).")]
pub struct SiteArgs {
    /// The directory to write index.html into
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Read the ledger at REV instead of the validated branch
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,

    /// Link commit ids to this URL, with {commit} replaced by the full commit id
    #[arg(long, value_name = "URL")]
    pub commit_url: Option<String>,
}

/// Runs `ovn site`.
pub fn run(
    args: SiteArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    if let Some(url) = &args.commit_url
        && !url.contains("{commit}")
    {
        return Err(CliError::usage(
            format!("--commit-url {url:?} has no {{commit}} placeholder"),
            Some("for example https://example.org/ledger/commit/{commit}".to_owned()),
        ));
    }
    if args.dir.exists() && !args.dir.is_dir() {
        return Err(environment(&args.dir, "it is not a directory"));
    }
    let common = Common {
        projects: Projects::default(),
        agent: Vec::new(),
        period: Period {
            at: args.at.clone(),
            ..Period::default()
        },
        format: Format::Table,
        chart: false,
    };
    let (ledger, query, commit) = load_for_export(&common, cwd, ctx)?;
    let html = page(&ledger, &query, &commit, args.commit_url.as_deref())
        .map_err(|e| CliError::usage(e, None))?;
    std::fs::create_dir_all(&args.dir).map_err(|e| environment(&args.dir, e))?;
    let path = args.dir.join("index.html");
    super::export::write_atomically(&path, |w| w.write_all(html.as_bytes()))?;
    writeln!(
        out,
        "Wrote {} (computed at {})",
        path.display(),
        &commit[..12]
    )?;
    Ok(EXIT_OK)
}

fn environment(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::environment(format!("cannot write {}: {e}", path.display()), None)
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:2px solid #2a7a4b;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}tr.total td{font-weight:600;border-top:2px solid #999}
.track{display:block;min-width:10rem;background:#eef5f0;border-radius:2px}.bar{display:block;height:.8rem;background:#2a7a4b;border-radius:2px}
code{font-size:.9em;background:#f3f3f3;padding:0 .2rem}.muted{color:#595959;font-size:.9em}.id{color:#595959;font-size:.85em;font-family:ui-monospace,monospace}
nav a{margin-right:1rem}
";

fn commit_link(commit: &str, url: Option<&str>) -> String {
    let short = escape(&commit.chars().take(12).collect::<String>());
    match url {
        Some(u) => format!(
            "<a href=\"{}\"><code>{short}</code></a>",
            escape(&u.replace("{commit}", commit))
        ),
        None => format!("<code title=\"{}\">{short}</code>", escape(commit)),
    }
}

/// An agent as people know it: the name from its record, then its id, both escaped (names
/// are free text from a pull request). An id with no record (never on a valid ledger) shows
/// alone.
fn who(ledger: &Ledger, id: &str) -> String {
    match ledger.agents.iter().find(|a| a.id.value.as_str() == id) {
        Some(a) if a.name.trim() != id => format!(
            "{} <span class=\"id\">{}</span>",
            escape(a.name.trim()),
            escape(id)
        ),
        _ => format!("<span class=\"id\">{}</span>", escape(id)),
    }
}

/// A cell of an agent ([`who`]).
fn agent(ledger: &Ledger, id: &str) -> (String, bool) {
    (who(ledger, id), false)
}

/// A cell of text (escaped), of a number, of an amount of money.
fn text(s: &str) -> (String, bool) {
    (escape(s), false)
}

fn number(s: String) -> (String, bool) {
    (s, true)
}

fn amount(d: Decimal, mu: u32) -> (String, bool) {
    (money(d, mu), true)
}

/// The whole page: a header, one section a report, a footer, each written by its own step
/// from the same ledger and query.
fn page(ledger: &Ledger, query: &Query, commit: &str, url: Option<&str>) -> Result<String, String> {
    let mu = ledger.network.as_ref().map_or(2, |n| n.minor_units);
    let mut out = String::new();
    header(&mut out, ledger, commit, url);
    over_time(&mut out, ledger, query, mu)?;
    shares(&mut out, ledger, query, mu)?;
    claims(&mut out, ledger, query, mu)?;
    payouts(&mut out, ledger, query, mu, url);
    resources(&mut out, ledger, query, mu);
    let _ = write!(
        out,
        "<footer class=\"muted\"><p>Generated by ovn {} from commit {}. Reproduce it with <code>ovn site DIR --at {}</code>.</p></footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        commit_link(commit, url),
        escape(commit)
    );
    Ok(out)
}

/// The document's head, the title and the commit every figure is computed at, the navigation.
fn header(out: &mut String, ledger: &Ledger, commit: &str, url: Option<&str>) {
    let currency = ledger
        .network
        .as_ref()
        .map_or("EUR", |n| n.currency.as_str());
    let name = ledger.network.as_ref().map_or("", |n| n.name.as_str());
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} — open value ledger</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<p class=\"muted\">Every figure on this page is computed by ovn from the ledger at commit {}; anyone can re-derive it with <code>ovn report … --at {}</code>. Amounts in {}.</p>\n<nav><a href=\"#time\">Over time</a><a href=\"#shares\">Shares</a><a href=\"#claims\">Claims</a><a href=\"#payouts\">Payouts</a><a href=\"#resources\">Resources</a></nav>\n</header>\n",
        escape(name),
        escape(name),
        commit_link(commit, url),
        escape(commit),
        escape(currency)
    );
}

/// Contributions over time: one row a month, with a bar of its claim value.
fn over_time(out: &mut String, ledger: &Ledger, query: &Query, mu: u32) -> Result<(), String> {
    let by_month =
        report::contributions(ledger, query, &[Dimension::Month]).map_err(|e| e.to_string())?;
    let max = by_month
        .rows
        .iter()
        .map(|r| r.totals.value)
        .max()
        .unwrap_or_default();
    out.push_str("<section id=\"time\">\n<h2>Contributions over time</h2>\n");
    thead(
        out,
        &[
            ("month", false),
            ("contributions", true),
            ("hours", true),
            ("amount", true),
            ("claim value", true),
            ("", false),
        ],
    );
    for r in &by_month.rows {
        let f = if max.is_zero() {
            Decimal::ZERO
        } else {
            r.totals.value / max
        };
        row(
            out,
            &[
                text(&r.keys[0]),
                number(r.totals.count.to_string()),
                number(hours(r.totals.hours)),
                amount(r.totals.amount, mu),
                amount(r.totals.value, mu),
                (bar(f), false),
            ],
            "",
        );
    }
    row(
        out,
        &[
            text("total"),
            number(by_month.total.count.to_string()),
            number(hours(by_month.total.hours)),
            amount(by_month.total.amount, mu),
            amount(by_month.total.value, mu),
            text(""),
        ],
        "total",
    );
    out.push_str("</tbody></table>\n<p class=\"muted\">Bars: claim value per month, relative to the largest month. Reversed and superseded contributions do not count.</p>\n</section>\n");
    Ok(())
}

/// Each project's shares: every agent's part of the claim value, with a bar.
fn shares(out: &mut String, ledger: &Ledger, query: &Query, mu: u32) -> Result<(), String> {
    out.push_str("<section id=\"shares\">\n<h2>Shares per project</h2>\n<p class=\"muted\">Each agent's part of the claim value its contributions hold under the project's value equation (the agent is who contributed).</p>\n");
    // One pass over the contributions for every project: grouped by project, then agent.
    let shares = report::contributions(ledger, query, &[Dimension::Project, Dimension::Agent])
        .map_err(|e| e.to_string())?;
    for p in ledger
        .projects
        .iter()
        .filter(|p| query.project(&p.id.value))
    {
        let rows: Vec<&report::ContributionRow> = shares
            .rows
            .iter()
            .filter(|r| r.keys[0] == p.id.value.as_str())
            .collect();
        let total: Decimal = rows.iter().map(|r| r.totals.value).sum();
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"muted\">({}{})</span></h3>",
            escape(&p.name),
            escape(p.id.value.as_str()),
            p.agreement
                .as_ref()
                .map(|a| format!(", agreement {}", escape(a.value.as_str())))
                .unwrap_or_default()
        );
        thead(
            out,
            &[
                ("agent", false),
                ("contributions", true),
                ("hours", true),
                ("claim value", true),
                ("share", true),
                ("", false),
            ],
        );
        for a in rows {
            let share = (!total.is_zero()).then(|| a.totals.value / total);
            row(
                out,
                &[
                    agent(ledger, &a.keys[1]),
                    number(a.totals.count.to_string()),
                    number(hours(a.totals.hours)),
                    amount(a.totals.value, mu),
                    number(percent(share)),
                    (bar(share.unwrap_or_default()), false),
                ],
                "",
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

/// The claims per project and agent: equity, debts owed and repaid, once claims pending.
fn claims(out: &mut String, ledger: &Ledger, query: &Query, mu: u32) -> Result<(), String> {
    let claims = report::claims(ledger, query, None).map_err(|e| e.to_string())?;
    out.push_str("<section id=\"claims\">\n<h2>Claims</h2>\n<p class=\"muted\">Equity shares in every payout; debts are repaid until settled (times their cap); once claims share in the next recorded payout. Only recorded payouts settle claims.</p>\n");
    thead(out, &report::CLAIM_COLUMNS);
    for c in &claims.rows {
        row(
            out,
            &[
                text(c.project.as_str()),
                agent(ledger, c.agent.as_str()),
                amount(c.equity, mu),
                number(percent(c.equity_share)),
                amount(c.debt_owed, mu),
                amount(c.debt_repaid, mu),
                amount(c.debt_outstanding, mu),
                amount(c.once_pending, mu),
            ],
            "",
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
    Ok(())
}

/// Every recorded payout with its lines and the commit it was computed at, then each agent's
/// paid-to-date.
fn payouts(out: &mut String, ledger: &Ledger, query: &Query, mu: u32, url: Option<&str>) {
    let payouts = report::payouts(ledger, query);
    out.push_str("<section id=\"payouts\">\n<h2>Payouts</h2>\n");
    if payouts.payouts.is_empty() {
        out.push_str("<p>No payout has been recorded yet.</p>\n");
    }
    for p in ledger
        .payouts
        .iter()
        .filter(|p| payouts.payouts.iter().any(|r| r.id == p.id.value))
    {
        let _ = writeln!(
            out,
            "<h3>{} — {} {} for {}{}</h3>\n<p class=\"muted\">Payout <code>{}</code> by agreement {}, computed at commit {} (digest <code>{}</code>); re-derive it with <code>ovn payout verify {}</code>.</p>",
            p.date.value,
            money(p.amount.value, mu),
            escape(&p.currency),
            escape(p.project.value.as_str()),
            p.memo
                .as_deref()
                .map(|m| format!(": {}", escape(m)))
                .unwrap_or_default(),
            escape(p.id.value.as_str()),
            escape(p.agreement.value.as_str()),
            commit_link(&p.commit, url),
            escape(&p.digest),
            escape(p.id.value.as_str()),
        );
        thead(
            out,
            &[
                ("agent", false),
                ("bucket", false),
                ("amount", true),
                ("", false),
            ],
        );
        for l in &p.lines {
            let f = if p.amount.value.is_zero() {
                Decimal::ZERO
            } else {
                l.amount / p.amount.value
            };
            row(
                out,
                &[
                    agent(ledger, l.agent.value.as_str()),
                    text(&l.bucket),
                    amount(l.amount, mu),
                    (bar(f), false),
                ],
                "",
            );
        }
        row(
            out,
            &[
                text("total"),
                text(""),
                amount(p.amount.value, mu),
                text(""),
            ],
            "total",
        );
        out.push_str("</tbody></table>\n");
    }
    if !payouts.paid.is_empty() {
        out.push_str("<h3>Paid to date</h3>\n");
        thead(
            out,
            &[
                ("agent", false),
                ("payouts", true),
                ("paid", true),
                ("share", true),
                ("", false),
            ],
        );
        for a in &payouts.paid {
            row(
                out,
                &[
                    agent(ledger, a.agent.as_str()),
                    number(a.payouts.to_string()),
                    amount(a.amount, mu),
                    number(percent(a.share)),
                    (bar(a.share.unwrap_or_default()), false),
                ],
                "",
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

/// The resources: ownership, owners, stewards, use rate, hours of use by project, value.
fn resources(out: &mut String, ledger: &Ledger, query: &Query, mu: u32) {
    let resources = report::resources(ledger, query);
    out.push_str("<section id=\"resources\">\n<h2>Resources</h2>\n");
    thead(
        out,
        &[
            ("resource", false),
            ("ownership", false),
            ("owners", false),
            ("stewards", false),
            ("use rate", true),
            ("hours of use", true),
            ("value earned", true),
        ],
    );
    for r in &resources {
        let cells = ResourceCells::of(r);
        let uses = r
            .uses
            .iter()
            .map(|u| format!("{} {}", u.project, hours(u.hours)))
            .collect::<Vec<_>>()
            .join(", ");
        row(
            out,
            &[
                (
                    format!(
                        "{} <span class=\"muted\">({})</span>",
                        escape(&r.name),
                        escape(r.id.as_str())
                    ),
                    false,
                ),
                text(r.ownership.as_str()),
                (
                    r.owners
                        .iter()
                        .map(|(a, s)| {
                            format!("{} {}", who(ledger, a.as_str()), escape(&s.to_string()))
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    false,
                ),
                (
                    r.stewards
                        .iter()
                        .map(|a| who(ledger, a.as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    false,
                ),
                number(cells.use_rate),
                (
                    format!(
                        "{}{}",
                        hours(r.hours),
                        if uses.is_empty() {
                            String::new()
                        } else {
                            format!(" <span class=\"muted\">({})</span>", escape(&uses))
                        }
                    ),
                    true,
                ),
                number(r.value.map(|v| money(v, mu)).unwrap_or_default()),
            ],
            "",
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}
