//! `ovn log`: record a contribution in one commit, judged first by the checks of `ovn check`.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use clap::Args;
use rust_decimal::Decimal;

use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::context::Context;
use crate::core::duration::{self, DurationError};
use crate::core::ledger::{Loaded, RecordType};
use crate::core::parse::{is_name_word, suggest};
use crate::core::record::{At, Contribution, Kind, Network};
use crate::core::value::{Id, currency_minor_units, parse_decimal_text};
use crate::core::write;
use crate::ops::write::Base;
use crate::store::{Plan, View};

/// Record a contribution: work, money, material, use of a resource, or any other kind.
///
/// Writes one record, contributions/YYYY/MM/DD/ID.toml, and commits exactly that file on the
/// current branch with a message such as "log: ana 2.5h work on drone", authored by your git
/// identity. Whatever you have staged or changed is left as it is. Prints one line: what was
/// recorded, the file and the commit.
///
/// The contributor is the agent whose `emails` contain your git identity (user.email, or
/// GIT_AUTHOR_EMAIL); --agent names another. The project may be left out when the ledger has
/// only one. The date is today unless --date says otherwise; it cannot lie in the future.
///
/// Durations: 2h30m, 2h, 90m, 1.5h or 1:30 (hours:minutes), more than zero and at most 24
/// hours. Decimal hours are kept exactly and may have at most 4 decimal places. Minutes must
/// be whole; a duration with minutes is converted to hours rounded to 4 decimal places (20m is
/// recorded as 0.3333 hours), and the output says so when it rounds. A bare number is refused:
/// write 2h or 2m.
///
/// The new record is judged before anything is written, by the checks of ovn check that
/// concern it: its fields, the records it refers to, and the agent's total for the day (at
/// most 24 hours). If it would bring a problem, the problems are printed as ovn check prints
/// them and nothing is written (exit status 1). Only the records involved are read, so logging
/// takes about as long in a ledger of a million contributions as in an empty one.
///
/// In a checkout the record is also written to the working tree and staged in git's index
/// (rewritten in one pass; over a million files that is most of the time a log takes). With
/// git's split index (`git config core.splitIndex true`, then `git update-index
/// --split-index`) only the small part of the index that holds recent changes is rewritten,
/// and a log in a checkout of a million files takes as long as in a small one; a log in a
/// checkout whose index has grown past 16 MiB without it says so (a `hint:` line on stderr)
/// until core.splitIndex is set either way. In a bare
/// repository (`git clone --bare`) the commit goes straight into git's objects and the branch,
/// with no working tree or index to update. A working tree without the ledger checked out is
/// refused.
///
/// The write holds git's own lock on the index (.git/index.lock) from before the branch
/// moves until the index has the record, as `git commit` does, so a git command run meanwhile
/// fails cleanly instead of committing the record's deletion. If git holds that lock (a `git
/// commit -a` waiting for its editor), the log waits two seconds, then fails (exit status 3)
/// and writes nothing; ovn never removes a lock git holds. An index ovn cannot update (git's
/// sparse index, `git sparse-checkout --sparse-index`) is refused before anything is
/// committed: `git sparse-checkout init --no-sparse-index` turns it off, or --no-commit writes
/// the file only. A log killed half-way leaves either nothing or its commit; `ovn status` says
/// which, and `ovn recover` (or the next write) finishes it.
///
/// The record id is 26 characters of lowercase base32, time-sortable: the first 10 encode
/// when it was written, the rest are random (see ovn-ledger(5)).
///
/// A mistake is corrected with a new record, never by editing a validated one: `ovn log ...
/// --supersedes ID` replaces the record ID, and `ovn revert ID` cancels it.
///
/// A correction starts from the original: every field not given is kept (agent, project,
/// kind, date, description, hours, skill, amount and currency, quantity and unit, resource,
/// evidence; --evidence replaces the list). One positional is the duration if it reads as
/// one, else the description. The agent, project and kind change only when --agent, -p or a
/// kind flag (--money, --material, --use, --kind) says so; a new kind keeps only the fields
/// it takes. The output lists each changed field (`hours: 20h -> 22h`); a correction that
/// changes nothing is refused. What recorded payouts paid on the original counts against
/// the correction, so it is never paid twice. A record is corrected once: correcting one
/// already reversed or superseded is refused; correct its correction instead (a chain). To
/// know that, a correction also reads the ledger's other corrections (quickly from the cache
/// that ovn check fills, else the whole ledger).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ovn log 2h30m \"Routed the motor board\" -p drone --skill electronics
  ovn log 90m \"Reviewed the frame design\" --date yesterday
  ovn log --money 120.50 \"Bought sensors\" -p drone
  ovn log --material 80 --quantity 4 --unit pcs \"Carbon frames\" -p drone
  ovn log --use printer 3h \"Printed arms\" -p drone
  ovn log --kind care 2h \"Hosted the open evening\" -p lab
  ovn log 3h --supersedes 01kmw2p8d5x4r7s9t1v3w5y7z9      (only the hours change)
  ovn log \"Bought sensors (receipt)\" --supersedes 01kmw2p8d5x4r7s9t1v3w5y7z9

Exit status: 0 recorded, 1 the record would bring problems (printed as by ovn check), 2 bad \
input (nothing written), 3 environment error.")]
pub struct LogArgs {
    /// How long: 2h30m, 90m, 1.5h or 1:30 (for work, --use and hour-based --kind)
    #[arg(value_name = "DURATION", allow_hyphen_values = true)]
    pub duration: Option<String>,

    /// What was done, in a few words
    #[arg(value_name = "DESCRIPTION")]
    pub description: Option<String>,

    /// The project [default: the ledger's only project]
    #[arg(short = 'p', long, value_name = "PROJECT")]
    pub project: Option<String>,

    /// Record money put in, in the network's currency (or --currency)
    #[arg(
        long,
        value_name = "AMOUNT",
        group = "what",
        allow_hyphen_values = true
    )]
    pub money: Option<String>,

    /// Record material given, valued at AMOUNT
    #[arg(
        long,
        value_name = "AMOUNT",
        group = "what",
        allow_hyphen_values = true
    )]
    pub material: Option<String>,

    /// Quantity of the material (with --material)
    #[arg(
        long,
        value_name = "N",
        requires = "material",
        allow_hyphen_values = true
    )]
    pub quantity: Option<String>,

    /// Unit of the quantity, such as pcs, kg, sheets (with --material)
    #[arg(long, value_name = "UNIT", requires = "material")]
    pub unit: Option<String>,

    /// Record use of a resource for DURATION (its claim goes to the resource's owners)
    #[arg(long = "use", value_name = "RESOURCE", group = "what")]
    pub use_: Option<String>,

    /// Record another kind of contribution (care, cite, ...), with DURATION and/or --amount
    #[arg(long, value_name = "KIND", group = "what")]
    pub kind: Option<String>,

    /// The money value of a contribution of another --kind
    #[arg(
        long,
        value_name = "AMOUNT",
        requires = "kind",
        allow_hyphen_values = true
    )]
    pub amount: Option<String>,

    /// Currency of the amount, when not the network's (e.g. USD); its amount is converted at
    /// --rate, or at the latest rate record dated on or before the contribution (without
    /// either, nothing is written: ovn check would fail on it, missing-rate)
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,

    /// Exchange rate of --currency: one unit of it is RATE in the network's currency (e.g.
    /// 0.9231 for USD in a EUR network), written on the contribution
    #[arg(long, value_name = "RATE", requires = "currency")]
    pub rate: Option<String>,

    /// The skill applied (work and other kinds), such as electronics
    #[arg(long, value_name = "SKILL")]
    pub skill: Option<String>,

    /// The day of the contribution: YYYY-MM-DD, today or yesterday [default: today]
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,

    /// A link to evidence (a commit, a receipt, a photo); repeat for more
    #[arg(long, value_name = "URL")]
    pub evidence: Vec<String>,

    /// Who contributed [default: the agent whose emails contain your git user.email]
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,

    /// Replace the contribution with this id, keeping every field not given (a correction;
    /// the old record stays in history)
    #[arg(long, value_name = "ID")]
    pub supersedes: Option<String>,

    /// Write the record file but do not commit it
    #[arg(long)]
    pub no_commit: bool,
}

/// What is being recorded, from the flags.
pub(super) enum What {
    Work,
    Money(String),
    Material(String),
    Use(String),
    Other(String),
}

/// Runs `ovn log`: reads and checks the flags, then, in the write's transaction body (which
/// may run again when the branch moves), resolves the agent and project, builds the record,
/// judges it and plans the commit.
pub fn run(args: LogArgs, cwd: &Path, ctx: &Context, out: &mut impl Write) -> Result<u8, CliError> {
    // A correction starts from the original: see `supersede`.
    if args.supersedes.is_some() {
        return super::supersede::run(args, cwd, ctx, out);
    }
    let given = Given::read(&args, ctx)?;
    let date = given.date;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let email = options
        .identity
        .as_ref()
        .map(|i| i.email.clone())
        .or_else(|| ctx.author_email.clone());
    let id = writing::new_id(ctx)?;
    let path = format!("contributions/{}/{id}.toml", date.format("%Y/%m/%d"));
    let day_folder = format!("contributions/{}", date.format("%Y/%m/%d"));

    let result = store.transact(
        &options,
        |view: &View<'_>| -> Result<Plan<String>, Refusal> {
            let base = Base::read(view, &[&day_folder], &[])?;
            let loaded = base.loaded();
            let network = network(loaded)?;
            let agent = match &given.agent {
                Some(a) => writing::existing(loaded, RecordType::Agent, "--agent", a.as_str())?,
                None => agent_of(loaded, email.as_deref())?,
            };
            let project = match &args.project {
                Some(p) => writing::existing(loaded, RecordType::Project, "--project", p)?,
                None => only_project(loaded)?,
            };
            let mut c = Contribution {
                hours: given.hours.map(|h| At::new(h.hours)),
                ..Contribution::new(
                    At::new(id.clone()),
                    At::new(agent),
                    date,
                    At::new(project),
                    Kind::Work,
                    given.description.clone(),
                )
            };
            c.set_evidence(given.evidence.clone());
            let (c, shown_currency) = given.of_kind(c, &args, loaded, &network)?;
            // An amount no rate converts is a `missing-rate` error, refused as the checks
            // refuse it, with the flag that fixes it.
            let file = writing::judged(view, &base, &path, write::contribution(&c))
                .map_err(|r| rate_flag_hint(r, &c, &network.currency))?;
            let summary = summary(&c, &shown_currency);
            let subject = format!("log: {summary}");
            Ok(Plan {
                files: vec![file],
                message: format!("{subject}\n\n{}\n", given.description),
                value: summary,
            })
        },
    );
    let (outcome, summary) = result.map_err(writing::refuse)?;
    let rounded = match (given.hours, given.duration_text.as_deref()) {
        (Some(h), Some(d)) if h.rounded => format!("; {d} rounded to {}", duration::show(h.hours)),
        _ => String::new(),
    };
    writing::report(out, &format!("Logged {id} ({summary}{rounded})"), &outcome)?;
    Ok(EXIT_OK)
}

/// `refusal`, with the hint of its `missing-rate` problem (the new amount in another currency
/// `c` has no rate) pointing at `--rate`, the flag that fixes it, before a rate record.
fn rate_flag_hint(refusal: Refusal, c: &Contribution, network: &str) -> Refusal {
    let Refusal::Problems(mut problems, files) = refusal else {
        return refusal;
    };
    let from = c.currency().unwrap_or_default();
    for d in &mut problems {
        if d.code == crate::core::diag::Code::MissingRate {
            d.hint = Some(format!(
                "give its rate with --rate ({network} per {from}), or first add a rate record {}",
                crate::core::fx::rate_record(from, network, c.date.value)
            ));
        }
    }
    Refusal::Problems(problems, files)
}

/// The flags of a new contribution, read and checked before the ledger is.
struct Given {
    what: What,
    /// The duration as written, for saying how it was rounded.
    duration_text: Option<String>,
    hours: Option<duration::Duration>,
    description: String,
    evidence: Vec<String>,
    unit: Option<String>,
    date: NaiveDate,
    agent: Option<Id>,
}

impl Given {
    fn read(args: &LogArgs, ctx: &Context) -> Result<Given, CliError> {
        let what = what_flag(args)?.unwrap_or(What::Work);
        // One positional is the description, two are a duration and a description.
        let (duration_text, description) = match (&args.duration, &args.description) {
            (Some(d), Some(text)) => (Some(d.as_str()), text.as_str()),
            (Some(text), None) => (None, text.as_str()),
            (None, _) => {
                return Err(CliError::usage(
                    "what was done? give a description",
                    Some("e.g. ovn log 2h \"Routed the motor board\"".to_owned()),
                ));
            }
        };
        let hours = hours(&what, duration_text, description)?;
        check_flags(args, &what, hours.is_some())?;
        let description = writing::text("the description", description)?;
        let (evidence, unit) = evidence_and_unit(args)?;
        let today = ctx.now.date_naive();
        let date = match &args.date {
            Some(d) => writing::date("--date", d, today)?,
            None => today,
        };
        let agent = agent_flag(args)?;
        Ok(Given {
            what,
            duration_text: duration_text.map(str::to_owned),
            hours,
            description,
            evidence,
            unit,
            date,
            agent,
        })
    }

    /// `c` made of the kind the flags ask for, with its fields (skill, amount and currency,
    /// quantity and unit, resource), and the currency its amount is shown in.
    fn of_kind(
        &self,
        mut c: Contribution,
        args: &LogArgs,
        loaded: &Loaded,
        network: &Network,
    ) -> Result<(Contribution, String), CliError> {
        let currency = match &args.currency {
            Some(code) => {
                let code = super::writing::currency_code(code)?;
                (code != network.currency).then_some(code)
            }
            None => None,
        };
        let places = currency
            .as_deref()
            .map_or(network.minor_units, currency_minor_units);
        let shown_currency = currency.clone().unwrap_or_else(|| network.currency.clone());
        let rate = exchange_rate(args.rate.as_deref(), currency.is_some(), &network.currency)?;
        match &self.what {
            What::Work => {
                c.skill = skill(loaded, args.skill.as_deref())?;
            }
            What::Money(a) => {
                c.kind = Kind::Money;
                c.amount = Some(amount("--money", a, places, &shown_currency)?);
                c.set_currency(currency.clone());
            }
            What::Material(a) => {
                c.kind = Kind::Material;
                c.amount = Some(amount("--material", a, places, &shown_currency)?);
                c.set_currency(currency.clone());
                c.set_quantity(args.quantity.as_deref().map(quantity).transpose()?);
                c.set_unit(self.unit.clone());
            }
            What::Use(r) => {
                c.kind = Kind::Use;
                c.resource = Some(At::new(writing::existing(
                    loaded,
                    RecordType::Resource,
                    "--use",
                    r,
                )?));
            }
            What::Other(k) => {
                c.kind = Kind::Other(k.clone());
                c.skill = skill(loaded, args.skill.as_deref())?;
                if let Some(a) = &args.amount {
                    c.amount = Some(amount("--amount", a, places, &shown_currency)?);
                    c.set_currency(currency.clone());
                }
            }
        }
        // Only an amount in another currency carries a rate.
        c.set_rate(rate.filter(|_| c.currency().is_some()));
        Ok((c, shown_currency))
    }
}

/// `--evidence` and `--unit`, checked as the reader checks text: a new record and a
/// correction take them alike.
pub(super) fn evidence_and_unit(args: &LogArgs) -> Result<(Vec<String>, Option<String>), CliError> {
    let evidence = args
        .evidence
        .iter()
        .map(|e| writing::text("--evidence", e))
        .collect::<Result<Vec<_>, _>>()?;
    let unit = args
        .unit
        .as_deref()
        .map(|u| writing::text("--unit", u))
        .transpose()?;
    Ok((evidence, unit))
}

/// `--agent`, an id (whether the agent exists is checked against the ledger).
pub(super) fn agent_flag(args: &LogArgs) -> Result<Option<Id>, CliError> {
    args.agent
        .as_deref()
        .map(|a| writing::parse_id("--agent", a))
        .transpose()
}

/// The duration, where the kind takes one: refused for money and material, asked for when
/// work or use has none.
fn hours(
    what: &What,
    duration_text: Option<&str>,
    description: &str,
) -> Result<Option<duration::Duration>, CliError> {
    let needs_duration = matches!(what, What::Work | What::Use(_));
    let takes_duration = !matches!(what, What::Money(_) | What::Material(_));
    match duration_text {
        Some(d) if !takes_duration => Err(CliError::usage(
            format!("a money or material contribution has no duration (got {d:?})"),
            Some("give only the amount and a description, e.g. ovn log --money 120.50 \"Bought sensors\"".to_owned()),
        )),
        Some(d) => Ok(Some(parse_duration(d).map_err(|e| super::swapped(e, d, description))?)),
        None if needs_duration => {
            let looks_like_duration = duration::parse(description).is_ok();
            Err(CliError::usage(
                if looks_like_duration {
                    "what was done? give a description after the duration".to_owned()
                } else {
                    "how long? give a duration before the description".to_owned()
                },
                Some(format!(
                    "e.g. ovn log 2h30m \"Routed the motor board\" (durations: {})",
                    duration::FORMS
                )),
            ))
        }
        None => Ok(None),
    }
}

/// The flags that go only with some kinds: another kind needs a duration or an amount,
/// `--skill` goes with work and other kinds, `--currency` with an amount.
fn check_flags(args: &LogArgs, what: &What, has_hours: bool) -> Result<(), CliError> {
    if let What::Other(k) = what
        && !has_hours
        && args.amount.is_none()
    {
        return Err(CliError::usage(
            format!("a `{k}` contribution needs a duration or --amount (or both)"),
            Some(format!("e.g. ovn log --kind {k} 2h \"...\"")),
        ));
    }
    if args.skill.is_some() && !matches!(what, What::Work | What::Other(_)) {
        return Err(CliError::usage(
            "--skill goes with work and other kinds, not with money, material or use",
            None,
        ));
    }
    if args.currency.is_some()
        && !(matches!(what, What::Money(_) | What::Material(_)) || args.amount.is_some())
    {
        return Err(CliError::usage("--currency goes with an amount", None));
    }
    Ok(())
}

/// The kind the flags ask for (`--money`, `--material`, `--use`, `--kind`), if any.
pub(super) fn what_flag(args: &LogArgs) -> Result<Option<What>, CliError> {
    Ok(Some(if let Some(a) = &args.money {
        What::Money(a.clone())
    } else if let Some(a) = &args.material {
        What::Material(a.clone())
    } else if let Some(r) = &args.use_ {
        What::Use(r.clone())
    } else if let Some(k) = &args.kind {
        kind_word(k)?
    } else {
        return Ok(None);
    }))
}

/// `--kind WORD`: any lowercase word; the four kinds with flags of their own say so.
fn kind_word(word: &str) -> Result<What, CliError> {
    let word = word.trim();
    match word {
        "work" => return Ok(What::Work),
        "money" | "material" => {
            return Err(CliError::usage(
                format!("use --{word} AMOUNT for a {word} contribution"),
                None,
            ));
        }
        "use" => {
            return Err(CliError::usage(
                "use --use RESOURCE for use of a resource",
                None,
            ));
        }
        _ => {}
    }
    if !is_name_word(word) {
        return Err(CliError::usage(
            format!("--kind {word:?} is not a lowercase word"),
            Some("a kind is lowercase letters, digits and `-`, starting with a letter, such as care or cite".to_owned()),
        ));
    }
    Ok(What::Other(word.to_owned()))
}

pub(super) fn parse_duration(text: &str) -> Result<duration::Duration, CliError> {
    duration::parse(text).map_err(|e| {
        let hint = match e {
            DurationError::NoUnit => format!("write {text}h for hours or {text}m for minutes"),
            DurationError::TooLong => {
                "a day has 24 hours; log work of several days on the days it was done (--date)"
                    .to_owned()
            }
            DurationError::NotPositive => {
                "a correction is a new record: see --supersedes and ovn revert".to_owned()
            }
            DurationError::TooPrecise => {
                "hours have at most 4 decimal places; or give minutes, e.g. 20m".to_owned()
            }
            _ => format!("durations look like {}", duration::FORMS),
        };
        CliError::usage(format!("duration {text:?} {e}"), Some(hint))
    })
}

pub(super) fn amount(
    flag: &str,
    text: &str,
    places: u32,
    currency: &str,
) -> Result<Decimal, CliError> {
    let value = parse_decimal_text(text.trim()).map_err(|_| {
        CliError::usage(
            format!("{flag} {text:?} is not an amount"),
            Some("write a plain decimal with a point, such as 120.50 (no currency sign, no thousands separator)".to_owned()),
        )
    })?;
    if value <= Decimal::ZERO {
        return Err(CliError::usage(
            format!("{flag} {text} is not more than zero"),
            Some("a correction is a new record: see --supersedes and ovn revert".to_owned()),
        ));
    }
    if value.scale() > places {
        return Err(CliError::usage(
            format!(
                "{flag} {text} has {} decimal places; {currency} amounts have at most {places}",
                value.scale()
            ),
            None,
        ));
    }
    // Written with the currency's places, as amounts are in the ledger: 80 EUR is "80.00".
    let mut value = value;
    value.rescale(places);
    Ok(value)
}

pub(super) fn quantity(text: &str) -> Result<Decimal, CliError> {
    match parse_decimal_text(text.trim()) {
        Ok(q) if q > Decimal::ZERO && q.scale() <= crate::core::parse::RATE_SCALE => Ok(q),
        _ => Err(CliError::usage(
            format!(
                "--quantity {text:?} is not a number more than zero (at most 6 decimal places)"
            ),
            None,
        )),
    }
}

/// `--rate`, checked as the record's `rate` is read: only for an amount in another currency.
fn exchange_rate(
    text: Option<&str>,
    foreign: bool,
    network: &str,
) -> Result<Option<Decimal>, CliError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if !foreign {
        return Err(CliError::usage(
            format!(
                "--rate converts an amount in another currency, and --currency is {network}, the network's"
            ),
            Some("leave out --rate".to_owned()),
        ));
    }
    let rule = crate::core::fx::RATE_RULE;
    match parse_decimal_text(text.trim()) {
        Ok(r) if r > Decimal::ZERO && r.scale() <= rule.scale && r <= rule.max => Ok(Some(r)),
        _ => Err(CliError::usage(
            format!(
                "--rate {text:?} is not an exchange rate: a number more than zero, at most {} and {} decimal places",
                rule.max, rule.scale
            ),
            Some(format!(
                "one unit of --currency in {network}, such as 0.9231"
            )),
        )),
    }
}

/// The network settings, which a write needs to be valid.
pub(super) fn network(loaded: &Loaded) -> Result<Network, CliError> {
    loaded.ledger.network.clone().ok_or_else(|| {
        CliError::usage(
            "ovn.toml has problems, so nothing can be recorded",
            Some("run `ovn check` and fix ovn.toml first".to_owned()),
        )
    })
}

/// The agent whose `emails` hold the user's git identity.
fn agent_of(loaded: &Loaded, email: Option<&str>) -> Result<Id, CliError> {
    let Some(email) = email else {
        return Err(CliError::usage(
            "who contributed? there is no git identity to find your agent by",
            Some(
                "give --agent ID, or set git config user.email to an email listed on your agent"
                    .to_owned(),
            ),
        ));
    };
    let matches: Vec<&Id> = loaded
        .ledger
        .agents
        .iter()
        .filter(|a| a.emails.iter().any(|e| e.value.eq_ignore_ascii_case(email)))
        .map(|a| &a.id.value)
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::usage(
            format!("your git identity <{email}> belongs to no agent of this ledger"),
            Some(format!(
                "add yourself with `ovn agent add ID --email {email}`, or add \"{email}\" to `emails` in agents/ID.toml and commit it; or say who contributed with --agent ID"
            )),
        )),
        many => Err(CliError::usage(
            format!(
                "your git identity <{email}> belongs to several agents: {}",
                many.iter()
                    .map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(
                "an email maps to one agent (ovn check reports it); say who with --agent ID"
                    .to_owned(),
            ),
        )),
    }
}

fn only_project(loaded: &Loaded) -> Result<Id, CliError> {
    let ids: Vec<&Id> = loaded.ledger.index.ids(RecordType::Project).collect();
    match ids.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::usage(
            "the ledger has no project to log to",
            Some("add one with `ovn project add ID --name NAME`".to_owned()),
        )),
        many => Err(CliError::usage(
            "which project? the ledger has several",
            Some(format!(
                "give -p PROJECT, one of: {}",
                many.iter()
                    .map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
    }
}

/// A skill word. Skills are free words, but one that is a near miss of a skill named in an
/// agreement (`electronic` for `electronics`) is a typo that would silently get another rate.
pub(super) fn skill(loaded: &Loaded, skill: Option<&str>) -> Result<Option<String>, CliError> {
    let Some(skill) = skill else { return Ok(None) };
    let skill = skill.trim();
    if !is_name_word(skill) {
        return Err(CliError::usage(
            format!("--skill {skill:?} is not a lowercase word"),
            Some("a skill is lowercase letters, digits and `-`, starting with a letter, such as electronics".to_owned()),
        ));
    }
    let mut known: Vec<&str> = Vec::new();
    for a in &loaded.ledger.agreements {
        known.extend(a.rates.skill.keys().map(String::as_str));
        for b in &a.buckets {
            known.extend(b.rules.iter().filter_map(|r| r.skill.as_deref()));
        }
    }
    known.extend(
        loaded
            .ledger
            .contributions
            .iter()
            .filter_map(|c| c.skill.as_deref()),
    );
    if known.contains(&skill) {
        return Ok(Some(skill.to_owned()));
    }
    if let Some(near) = suggest(skill, known.iter().copied()) {
        return Err(CliError::usage(
            format!("unknown skill `{skill}`"),
            Some(format!(
                "did you mean `{near}`? (a skill the ledger knows; a new skill must not be a near miss of a known one)"
            )),
        ));
    }
    Ok(Some(skill.to_owned()))
}

/// `ana 2.5h work on drone`, `ben 120.50 EUR money on drone`, `cy 3h use of printer on drone`.
pub(super) fn summary(c: &Contribution, currency: &str) -> String {
    let mut parts = Vec::new();
    if let Some(h) = &c.hours {
        parts.push(duration::show(h.value));
    }
    if let Some(a) = c.amount {
        parts.push(format!("{a} {}", c.currency().unwrap_or(currency)));
    }
    let what = match (&c.kind, &c.resource) {
        (Kind::Use, Some(r)) => format!("use of {}", r.value),
        (kind, _) => kind.as_str().to_owned(),
    };
    parts.push(what);
    format!(
        "{} {} on {}",
        c.agent.value,
        parts.join(" "),
        c.project.value
    )
}
