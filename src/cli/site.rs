//! `ovn site DIR`: a static, self-contained HTML transparency page that members read.
//!
//! One file, `DIR/index.html`, with its styles inline and no script, font, image or other
//! asset from anywhere: it works offline, from a file system, and on any static host, and it
//! shows the same thing in every browser. Its figures come from one pass of the core
//! ([`crate::core::site::view`]) over the ledger at one commit, which the page names (and
//! links, with --commit-url), so anyone can re-derive it; the page states its one definition
//! of a share and every share on it follows that definition. People appear by name with
//! their id beside it, and every piece of ledger text is escaped: records come from pull
//! requests and are hostile input. Charts are inline SVG with coordinates written as exact
//! decimals, bars are CSS widths, and tables scroll inside their own box, so the page is read
//! on a phone as on a desktop without a line of script. The file is written atomically, like
//! `ovn export -o`.

use crate::context::Context;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use rust_decimal::Decimal;

use super::render::html::{bar, chart, escape, row, thead};
use super::render::{hours, percent};
use super::{CliError, EXIT_OK};
use crate::cache::{self, answers, key};
use crate::core::ledger::Ledger;
use crate::core::payment;
use crate::core::payout::money;
use crate::core::report::{self, Query};
use crate::core::site::{self, Member, View};
use crate::ops::load::{self, Need};
use crate::store::{ResolvedRev, Store};

/// Write a static, self-contained HTML transparency page of the ledger.
///
/// Writes DIR/index.html (creating DIR if needed), for members to read: what a share is,
/// each project's shares, a section per member (their contributions, claims and what
/// recorded payouts owe them, what payments recorded with `ovn pay` paid and what is
/// outstanding, with charts over time), the contributions awaiting validation and what they
/// lack, each value equation in plain language, contributions over time, every recorded
/// payout with what is paid and outstanding on each line, and the resources with their use. People appear by name, with their id.
/// The page has no external assets and no script: it works offline and on any static host.
/// Every figure is computed at one commit, which the page names; with --commit-url the
/// commit ids become links.
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
    let store = super::open(cwd, ctx)?;
    let (rev, _) = super::resolve_at(&store, args.at.as_deref())?;
    let commit = rev.id();
    // The page is a function of the commit and --commit-url: kept in the answer cache,
    // pinned by the commit read (where it is written is not part of it).
    let question = key::question("site", &args.commit_url);
    let mut html = Vec::new();
    answers::answer(Some(&store), &question, &[&commit], &mut html, |buf| {
        let (ledger, view) = figures(&store, &rev)?;
        *buf = page(&ledger, &view, &commit, args.commit_url.as_deref()).into_bytes();
        super::discard(ledger);
        Ok::<u8, CliError>(EXIT_OK)
    })?;
    std::fs::create_dir_all(&args.dir).map_err(|e| environment(&args.dir, e))?;
    let path = args.dir.join("index.html");
    super::export::write_atomically(&path, |w| w.write_all(&html))?;
    writeln!(
        out,
        "Wrote {} (computed at {})",
        path.display(),
        &commit[..12]
    )?;
    Ok(EXIT_OK)
}

/// The ledger at `rev` and the page's figures. When the network asks for no approvals, the
/// figures are put together from each day folder's kept part ([`cache::site`]), which a
/// quick load (summaries, and the corrections in full) is enough for: after a new commit
/// only the changed folders are read and counted. Contributions awaiting approvals are
/// told from every record, so then the ledger is loaded whole and counted afresh.
fn figures(store: &Store, rev: &ResolvedRev) -> Result<(Ledger, View), CliError> {
    let commit = rev.id();
    let rules = crate::ops::rules::rules(store, rev.commit())?;
    // Should the cache be cold, its fill counts the page's parts as it goes, when the page
    // is put together from them.
    let in_force = rules.clone();
    let tally = cache::site::tally(Box::new(move |l: &Ledger| {
        !crate::ops::payout::approvals_asked(l, in_force.as_ref())
    }));
    let loaded = load::load_counting(store, rev, Need::Projects(&[]), Some(&*tally))?;
    super::payout::refuse_problems(store, &commit, loaded.diagnostics(), rev.name(), "the site")?;
    let mut ledger = loaded.for_need().ledger;
    let quick = !ledger.elsewhere.folders.is_empty();
    if !crate::ops::payout::approvals_asked(&ledger, rules.as_ref()) {
        if let Some(view) = cache::site::view(store, &commit, &ledger)? {
            return Ok((ledger, view));
        }
        if quick {
            ledger = load::whole(store, rev)?.ledger;
            if let Some(view) = cache::site::view(store, &commit, &ledger)? {
                return Ok((ledger, view));
            }
        }
    } else if quick {
        ledger = load::whole(store, rev)?.ledger;
    }
    let awaiting = crate::ops::payout::awaiting(store, rev, &ledger)?;
    let view = site::view(&ledger, &awaiting).map_err(|e| CliError::usage(e.to_string(), None))?;
    Ok((ledger, view))
}

fn environment(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::environment(format!("cannot write {}: {e}", path.display()), None)
}

/// The styles: one column that fits a 390 px phone, tables that scroll inside their own box
/// rather than widening the page, text and links with at least 4.5:1 contrast.
const STYLE: &str = "\
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.45;overflow-wrap:anywhere}
h1{margin-bottom:.2rem;line-height:1.15}h2{margin-top:2.5rem;border-bottom:2px solid #1f6b3f;padding-bottom:.2rem}h3{margin-top:1.8rem}h4{margin:1.2rem 0 .3rem}
a{color:#0b57a4}
.scroll{overflow-x:auto;max-width:100%;margin:.6rem 0 1rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.25rem .5rem;border-bottom:1px solid #ccc;text-align:left;vertical-align:top;overflow-wrap:normal}
td.n,th.n{text-align:right;white-space:nowrap}tr.total td{font-weight:600;border-top:2px solid #767676}
.track{display:block;min-width:3rem;background:#e3efe7;border-radius:2px}.bar{display:block;height:.8rem;background:#1f6b3f;border-radius:2px}
code{font-size:.9em;background:#f3f3f3;padding:0 .2rem;overflow-wrap:anywhere}.muted{color:#555;font-size:.9em}.id{color:#555;font-size:.85em;font-family:ui-monospace,monospace}
nav{display:flex;flex-wrap:wrap;gap:.3rem 1rem}
.definition{border-left:4px solid #1f6b3f;background:#f2f8f4;padding:.6rem .9rem}
figure{margin:.6rem 0 1rem}figure svg{display:block;width:100%;max-width:32rem;height:auto}figcaption{font-size:.9em;color:#555}
svg .axis{stroke:#767676;stroke-width:1}svg rect{fill:#1f6b3f}svg text{fill:#1b1b1b;font-size:11px;font-family:system-ui,sans-serif}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:0 1.5rem}
ol.equation li{margin:.3rem 0}
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

/// The agents' names by id, looked up for every mention.
struct Names<'l>(HashMap<&'l str, &'l str>);

impl<'l> Names<'l> {
    fn of(ledger: &'l Ledger) -> Names<'l> {
        Names(
            ledger
                .agents
                .iter()
                .map(|a| (a.id.value.as_str(), a.name.trim()))
                .collect(),
        )
    }

    /// An agent as people know it: the name from its record, then its id, both escaped
    /// (names are free text from a pull request). An id with no name shows alone.
    fn who(&self, id: &str) -> String {
        match self.0.get(id) {
            Some(name) if !name.is_empty() && *name != id => {
                format!("{} <span class=\"id\">{}</span>", escape(name), escape(id))
            }
            _ => format!("<span class=\"id\">{}</span>", escape(id)),
        }
    }

    /// A cell of an agent, linked to their section.
    fn cell(&self, id: &str) -> (String, bool) {
        (
            format!("<a href=\"#{}\">{}</a>", anchor(id), self.who(id)),
            false,
        )
    }
}

/// The anchor of a member's section.
fn anchor(id: &str) -> String {
    format!("member-{}", escape(id))
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

/// Opens a table in its own scrolling box ([`thead`]); [`close`] ends both.
fn open(out: &mut String, columns: &[(&str, bool)]) {
    out.push_str("<div class=\"scroll\">");
    thead(out, columns);
}

fn close(out: &mut String) {
    out.push_str("</tbody></table></div>\n");
}

/// The whole page: a header, one section a question members ask, a footer, each written by
/// its own step from the same view.
fn page(ledger: &Ledger, view: &View, commit: &str, url: Option<&str>) -> String {
    let mu = ledger.network.as_ref().map_or(2, |n| n.minor_units);
    let names = Names::of(ledger);
    let mut out = String::new();
    header(&mut out, ledger, commit, url);
    out.push_str("<main>\n");
    shares(&mut out, ledger, view, &names, mu);
    members(&mut out, view, &names, mu);
    awaiting(&mut out, ledger, view, &names);
    equations(&mut out, ledger);
    over_time(&mut out, view, mu);
    payouts(&mut out, ledger, &names, mu, url);
    resources(&mut out, view, &names, mu);
    let _ = write!(
        out,
        "</main>\n<footer class=\"muted\"><p>Generated by ovn {} from commit {}. Reproduce it with <code>ovn site DIR --at {}</code>.</p></footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        commit_link(commit, url),
        escape(commit)
    );
    out
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
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} — open value ledger</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<p class=\"muted\">Every figure on this page is computed by ovn from the ledger at commit {}. Anyone can re-derive them from a clone of the ledger, for example the claims with <code>ovn report claims --at {}</code>. Amounts in {}.</p>\n<nav aria-label=\"Sections\"><a href=\"#shares\">Shares</a><a href=\"#members\">Members</a><a href=\"#awaiting\">Awaiting validation</a><a href=\"#equations\">Value equations</a><a href=\"#time\">Over time</a><a href=\"#payouts\">Payouts</a><a href=\"#resources\">Resources</a></nav>\n</header>\n",
        escape(name),
        escape(name),
        commit_link(commit, url),
        escape(commit),
        escape(currency)
    );
}

/// What a share is, then each project's shares and the claims beside them.
fn shares(out: &mut String, ledger: &Ledger, view: &View, names: &Names<'_>, mu: u32) {
    let _ = write!(
        out,
        "<section id=\"shares\">\n<h2>Shares per project</h2>\n<p class=\"definition\" id=\"share\"><strong>What a share is.</strong> {}</p>\n",
        escape(site::SHARE_DEFINITION)
    );
    for (id, rows) in &view.projects {
        let Some(p) = ledger.projects.iter().find(|p| p.id.value == *id) else {
            continue;
        };
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"id\">{}</span></h3>",
            escape(&p.name),
            escape(id.as_str()),
        );
        if rows.is_empty() {
            out.push_str("<p>No validated contribution holds a claim in this project yet.</p>\n");
            continue;
        }
        open(
            out,
            &[
                ("member", false),
                ("share", true),
                ("equity claims", true),
                ("debt outstanding", true),
                ("once pending", true),
                ("", false),
            ],
        );
        for r in rows {
            row(
                out,
                &[
                    names.cell(r.agent.as_str()),
                    number(percent(r.share)),
                    amount(r.equity, mu),
                    amount(r.debt_outstanding, mu),
                    amount(r.once_pending, mu),
                    (bar(r.share.unwrap_or_default()), false),
                ],
                "",
            );
        }
        close(out);
    }
    out.push_str("</section>\n");
}

/// A table of every member, then a section per member.
fn members(out: &mut String, view: &View, names: &Names<'_>, mu: u32) {
    out.push_str("<section id=\"members\">\n<h2>Members</h2>\n<p class=\"muted\">What each member logged (validated contributions only), the claims they hold (use of a resource is its owners' claim, so a member can hold claims on work they did not log), what recorded payouts owe them, what payment records (<code>ovn pay</code>) paid them and what is still outstanding.</p>\n");
    open(
        out,
        &[
            ("member", false),
            ("contributions", true),
            ("hours", true),
            ("amount", true),
            ("claims held", true),
            ("owed", true),
            ("paid", true),
            ("outstanding", true),
        ],
    );
    for m in &view.members {
        let held: Decimal = m.months.values().map(|x| x.claims).sum();
        let (owed, paid) = totals(&m.owed);
        row(
            out,
            &[
                names.cell(m.agent.as_str()),
                number(m.logged.count.to_string()),
                number(hours(m.logged.hours)),
                amount(m.logged.amount, mu),
                amount(held, mu),
                amount(owed, mu),
                amount(paid, mu),
                amount(owed - paid, mu),
            ],
            "",
        );
    }
    close(out);
    for m in &view.members {
        member(out, m, names, mu);
    }
    out.push_str("</section>\n");
}

/// What `owed` lines owe in all and what payments paid on them.
fn totals(owed: &[crate::core::site::Owed]) -> (Decimal, Decimal) {
    owed.iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(o, p), x| {
            (o + x.amount, p + x.paid)
        })
}

/// One member: their claims per project, what payouts owe them, charts over time.
fn member(out: &mut String, m: &Member, names: &Names<'_>, mu: u32) {
    let id = m.agent.as_str();
    let held: Decimal = m.months.values().map(|x| x.claims).sum();
    let (owed, paid) = totals(&m.owed);
    let _ = write!(
        out,
        "<section id=\"{}\">\n<h3>{}</h3>\n<p>Logged {} validated contribution{}: {} hours, {} in money and materials. Holds claims worth {}; recorded payouts owe {}.",
        anchor(id),
        names.who(id),
        m.logged.count,
        if m.logged.count == 1 { "" } else { "s" },
        hours(m.logged.hours),
        money(m.logged.amount, mu),
        money(held, mu),
        money(owed, mu),
    );
    if m.awaiting > 0 {
        let _ = write!(
            out,
            " <a href=\"#awaiting\">{} contribution{} await{} approval</a> and count{} nowhere yet.",
            m.awaiting,
            if m.awaiting == 1 { "" } else { "s" },
            if m.awaiting == 1 { "s" } else { "" },
            if m.awaiting == 1 { "s" } else { "" },
        );
    }
    out.push_str("</p>\n");
    if !m.owed.is_empty() {
        // Its own paragraph, so the owed figure reads the same with or without payments.
        let _ = writeln!(
            out,
            "<p>Payment records (<code>ovn pay</code>, refunds deducted) show {} paid and {} outstanding.</p>",
            money(paid, mu),
            money(owed - paid, mu),
        );
    }
    if !m.holdings.is_empty() {
        open(
            out,
            &[
                ("project", false),
                ("share", true),
                ("equity claims", true),
                ("debt owed", true),
                ("debt settled", true),
                ("debt outstanding", true),
                ("once pending", true),
            ],
        );
        for h in &m.holdings {
            row(
                out,
                &[
                    text(h.project.as_str()),
                    number(percent(h.share)),
                    amount(h.equity, mu),
                    amount(h.debt_owed, mu),
                    amount(h.debt_settled, mu),
                    amount(h.debt_outstanding, mu),
                    amount(h.once_pending, mu),
                ],
                "",
            );
        }
        close(out);
    }
    if !m.owed.is_empty() {
        out.push_str("<h4>Owed from recorded payouts</h4>\n");
        open(
            out,
            &[
                ("date", false),
                ("project", false),
                ("payout", false),
                ("owed", true),
                ("paid", true),
                ("outstanding", true),
            ],
        );
        for o in &m.owed {
            row(
                out,
                &[
                    text(&o.date.to_string()),
                    text(o.project.as_str()),
                    (format!("<code>{}</code>", escape(o.payout.as_str())), false),
                    amount(o.amount, mu),
                    amount(o.paid, mu),
                    amount(o.outstanding(), mu),
                ],
                "",
            );
        }
        close(out);
    }
    if m.logged.count > 0 || !held.is_zero() || !owed.is_zero() {
        charts(out, m, names, mu, !owed.is_zero());
    }
    out.push_str("</section>\n");
}

/// A member's charts over the page's months: hours logged, claims held and, when payouts owe
/// them anything, what they owe in all to the end of each month. Ids and titles are escaped
/// by [`chart`].
fn charts(out: &mut String, m: &Member, names: &Names<'_>, mu: u32, owed: bool) {
    let id = m.agent.as_str();
    let who = names
        .0
        .get(id)
        .copied()
        .filter(|n| !n.is_empty())
        .unwrap_or(id);
    let series = |f: &dyn Fn(&site::MemberMonth) -> Decimal| -> Vec<(String, Decimal)> {
        m.months.iter().map(|(k, v)| (k.clone(), f(v))).collect()
    };
    out.push_str("<div class=\"charts\">\n");
    out.push_str(&chart(
        &format!("member-{id}-hours"),
        &format!("Hours {who} logged, by month"),
        &series(&|v| v.logged.hours),
        &|d| format!("{} h", hours(d)),
    ));
    out.push_str(&chart(
        &format!("member-{id}-claims"),
        &format!("Claims {who} holds, by month of the contribution"),
        &series(&|v| v.claims),
        &|d| money(d, mu),
    ));
    if owed {
        let mut sum = Decimal::ZERO;
        let cumulative: Vec<(String, Decimal)> = m
            .months
            .iter()
            .map(|(k, v)| {
                sum += v.owed;
                (k.clone(), sum)
            })
            .collect();
        out.push_str(&chart(
            &format!("member-{id}-owed"),
            &format!("Owed to {who} by recorded payouts, in all to the end of each month"),
            &cumulative,
            &|d| money(d, mu),
        ));
    }
    out.push_str("</div>\n");
}

/// The contributions merged but awaiting approvals, and what each lacks.
fn awaiting(out: &mut String, ledger: &Ledger, view: &View, names: &Names<'_>) {
    out.push_str("<section id=\"awaiting\">\n<h2>Awaiting validation</h2>\n<p class=\"muted\">A contribution counts once it is merged into the validated branch and, where the network asks for approvals, approved by enough people other than its contributor. Contributions still on other branches are pending review and are not on this page.</p>\n");
    let approvals = ledger
        .network
        .as_ref()
        .map_or(0, |n| n.validation.approvals);
    if approvals == 0 {
        out.push_str("<p>This network asks for no approvals: every merged contribution is validated.</p>\n</section>\n");
        return;
    }
    if view.waiting.is_empty() {
        out.push_str("<p>Every merged contribution has the approvals it needs.</p>\n</section>\n");
        return;
    }
    let currency = ledger.network.as_ref().map_or("", |n| n.currency.as_str());
    open(
        out,
        &[
            ("date", false),
            ("member", false),
            ("project", false),
            ("contribution", false),
            ("lacks", false),
        ],
    );
    for w in &view.waiting {
        let c = &ledger.contributions[w.position];
        let mut what = Vec::new();
        if let Some(h) = &c.hours {
            what.push(format!("{} h", hours(h.value)));
        }
        if let Some(a) = c.amount {
            what.push(format!("{a} {}", c.currency().unwrap_or(currency)));
        }
        what.push(c.kind.as_str().to_owned());
        row(
            out,
            &[
                text(&c.date.value.to_string()),
                names.cell(c.agent.value.as_str()),
                text(c.project.value.as_str()),
                (
                    format!(
                        "{} <span class=\"muted\">{}</span> <span class=\"id\">{}</span>",
                        escape(&what.join(" ")),
                        escape(&c.description),
                        escape(c.id.value.as_str())
                    ),
                    false,
                ),
                text(&w.lacks),
            ],
            "",
        );
    }
    close(out);
    out.push_str("</section>\n");
}

/// Each project's value equation in plain language, generated from its agreement.
fn equations(out: &mut String, ledger: &Ledger) {
    out.push_str("<section id=\"equations\">\n<h2>Value equations</h2>\n<p class=\"muted\">When a project has revenue, its value equation shares it out bucket by bucket, in order. Each bucket takes its budget from what is left; a bucket with claims splits its budget in proportion to their values.</p>\n");
    for p in &ledger.projects {
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"id\">{}</span></h3>",
            escape(&p.name),
            escape(p.id.value.as_str())
        );
        let Some(a) = p
            .agreement
            .as_ref()
            .and_then(|a| ledger.agreements.iter().find(|x| x.id.value == a.value))
        else {
            out.push_str(
                "<p>This project has no value equation yet: its revenue cannot be paid out.</p>\n",
            );
            continue;
        };
        let dates = match (a.from, a.until) {
            (Some(f), Some(u)) => format!(" It applies to contributions dated {f} to {u}."),
            (Some(f), None) => format!(" It applies to contributions dated from {f}."),
            (None, Some(u)) => format!(" It applies to contributions dated until {u}."),
            (None, None) => String::new(),
        };
        let _ = write!(
            out,
            "<p>By agreement “{}” <span class=\"id\">{}</span>.{}</p>\n<ol class=\"equation\">\n",
            escape(&a.name),
            escape(a.id.value.as_str()),
            escape(&dates)
        );
        let sentences = site::explain(ledger, a);
        let (last, buckets) = sentences
            .split_last()
            .map_or((None, &[][..]), |(l, b)| (Some(l), b));
        for s in buckets {
            // The sentence starts with its number, which the list shows.
            let s = s.split_once(". ").map_or(s.as_str(), |(_, rest)| rest);
            let _ = writeln!(out, "<li>{}</li>", escape(s));
        }
        out.push_str("</ol>\n");
        if let Some(l) = last {
            let _ = writeln!(out, "<p>{}</p>", escape(l));
        }
    }
    out.push_str("</section>\n");
}

/// Contributions over time: one row a month, with a bar of its claim value.
fn over_time(out: &mut String, view: &View, mu: u32) {
    let max = view
        .months
        .iter()
        .map(|(_, s)| s.value)
        .max()
        .unwrap_or_default();
    out.push_str("<section id=\"time\">\n<h2>Contributions over time</h2>\n");
    open(
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
    for (k, s) in &view.months {
        let f = if max.is_zero() {
            Decimal::ZERO
        } else {
            s.value / max
        };
        row(
            out,
            &[
                text(k),
                number(s.count.to_string()),
                number(hours(s.hours)),
                amount(s.amount, mu),
                amount(s.value, mu),
                (bar(f), false),
            ],
            "",
        );
    }
    let t = &view.total;
    row(
        out,
        &[
            text("total"),
            number(t.count.to_string()),
            number(hours(t.hours)),
            amount(t.amount, mu),
            amount(t.value, mu),
            text(""),
        ],
        "total",
    );
    close(out);
    out.push_str("<p class=\"muted\">Validated contributions by the month they are dated; claim value is what the projects' value equations give them (debts at their capped value). Bars: claim value relative to the largest month. Reversed and superseded contributions do not count.</p>\n</section>\n");
}

/// Every recorded payout with its lines and the commit it was computed at, then what they
/// owe each member.
fn payouts(out: &mut String, ledger: &Ledger, names: &Names<'_>, mu: u32, url: Option<&str>) {
    let report = report::payouts(ledger, &Query::default());
    out.push_str("<section id=\"payouts\">\n<h2>Payouts</h2>\n<p class=\"muted\">A recorded payout says what a revenue event owes each member under the value equation; payment records (<code>ovn pay</code>) say what was paid on each of its lines, refunds deducted, and what is still outstanding.</p>\n");
    if report.payouts.is_empty() {
        out.push_str("<p>No payout has been recorded yet.</p>\n");
    }
    let mut by_id: BTreeMap<&str, &crate::core::record::PayoutRecord> = BTreeMap::new();
    for p in &ledger.payouts {
        by_id.insert(p.id.value.as_str(), p);
    }
    let balances = payment::balances(ledger);
    let mut lines: BTreeMap<&str, Vec<&payment::LineBalance>> = BTreeMap::new();
    for b in &balances {
        lines.entry(b.payout.as_str()).or_default().push(b);
    }
    for p in report
        .payouts
        .iter()
        .filter_map(|r| by_id.get(r.id.as_str()))
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
        open(
            out,
            &[
                ("member", false),
                ("bucket", false),
                ("owed", true),
                ("paid", true),
                ("outstanding", true),
                ("", false),
            ],
        );
        let (mut paid, mut outstanding) = (Decimal::ZERO, Decimal::ZERO);
        for l in lines.get(p.id.value.as_str()).into_iter().flatten() {
            let f = if p.amount.value.is_zero() {
                Decimal::ZERO
            } else {
                l.owed / p.amount.value
            };
            paid += l.paid;
            outstanding += l.outstanding();
            row(
                out,
                &[
                    names.cell(l.agent.as_str()),
                    text(&l.bucket),
                    amount(l.owed, mu),
                    amount(l.paid, mu),
                    amount(l.outstanding(), mu),
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
                amount(paid, mu),
                amount(outstanding, mu),
                text(""),
            ],
            "total",
        );
        close(out);
    }
    owed_in_all(out, &report.paid, &payment::by_agent(&balances), names, mu);
    out.push_str("</section>\n");
}

/// What recorded payouts owe each member, in all, what payments paid and what is
/// outstanding (`balances`, sorted by agent), with a bar relative to the most owed.
fn owed_in_all(
    out: &mut String,
    paid: &[report::PaidToDate],
    balances: &[payment::AgentBalance],
    names: &Names<'_>,
    mu: u32,
) {
    if !paid.is_empty() {
        out.push_str("<h3>Owed from recorded payouts, paid and outstanding, in all</h3>\n");
        open(
            out,
            &[
                ("member", false),
                ("payouts", true),
                ("owed", true),
                ("paid", true),
                ("outstanding", true),
                ("", false),
            ],
        );
        let most = paid.iter().map(|a| a.amount).max().unwrap_or_default();
        for a in paid {
            let f = if most.is_zero() {
                Decimal::ZERO
            } else {
                a.amount / most
            };
            // Both lists come from the same payouts; an agent missing from one was paid nothing.
            let settled = balances
                .binary_search_by(|b| b.agent.cmp(&a.agent))
                .map_or(Decimal::ZERO, |i| balances[i].paid);
            row(
                out,
                &[
                    names.cell(a.agent.as_str()),
                    number(a.payouts.to_string()),
                    amount(a.amount, mu),
                    amount(settled, mu),
                    amount(a.amount - settled, mu),
                    (bar(f), false),
                ],
                "",
            );
        }
        close(out);
    }
}

/// The resources: ownership, owners, stewards, use rate, hours of use by project, value.
fn resources(out: &mut String, view: &View, names: &Names<'_>, mu: u32) {
    out.push_str("<section id=\"resources\">\n<h2>Resources</h2>\n");
    open(
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
    for r in &view.resources {
        let uses = r
            .uses
            .iter()
            .map(|u| format!("{} {}", u.project, hours(u.hours)))
            .collect::<Vec<_>>()
            .join(", ");
        let list = |ids: &mut dyn Iterator<Item = String>| ids.collect::<Vec<_>>().join(", ");
        row(
            out,
            &[
                (
                    format!(
                        "{} <span class=\"id\">{}</span>",
                        escape(&r.name),
                        escape(r.id.as_str())
                    ),
                    false,
                ),
                text(r.ownership.as_str()),
                (
                    list(&mut r.owners.iter().map(|(a, s)| {
                        format!("{} {}", names.who(a.as_str()), escape(&s.to_string()))
                    })),
                    false,
                ),
                (
                    list(&mut r.stewards.iter().map(|a| names.who(a.as_str()))),
                    false,
                ),
                number(
                    r.use_rate
                        .map(|x| x.normalize().to_string())
                        .unwrap_or_default(),
                ),
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
                    false,
                ),
                number(r.value.map(|v| money(v, mu)).unwrap_or_default()),
            ],
            "",
        );
    }
    close(out);
    out.push_str("</section>\n");
}
