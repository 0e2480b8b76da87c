//! `ovn log ... --supersedes ID`: a correction, which starts from the original.
//!
//! A correction is the same claim with new facts (domain §7): what recorded payouts paid on
//! the original counts against it. So it keeps every field of the original that is not
//! given: the agent, project, kind, date, description, hours, skill, amount and currency,
//! quantity and unit, resource and evidence. The agent, project and kind change only with
//! their flags (`--agent`, `-p`, a kind flag), never because of who runs the command; a kind
//! flag that changes the kind keeps only the fields the new kind takes (hours from work to
//! care, not from work to money). The output says what changed,
//! field by field, and a correction that changes nothing is refused.
//!
//! A record is corrected once: a record already reversed or superseded is refused, naming
//! the correction it has and the record to correct instead (the latest of its chain).

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::log::{self, LogArgs, What};
use super::writing::{self, Refusal};
use super::{CliError, EXIT_OK};
use crate::cache::CorrectionsRead;
use crate::context::Context;
use crate::core::duration;
use crate::core::ledger::{Ledger, Loaded, RecordType};
use crate::core::payout::Corrections;
use crate::core::record::{At, Contribution, Kind, Network};
use crate::core::value::{Id, currency_minor_units};
use crate::core::write;
use crate::ops::write::Base;
use crate::store::{Plan, View};

/// Refuses a second correction of `target` (as `ovn check` would, with `corrected-twice`):
/// names the correction it has, where it is, and what to do instead.
pub(super) fn corrected_once(ledger: &Ledger, target: &Id) -> Result<(), CliError> {
    let chains = Corrections::of(ledger);
    if let Some(r) = chains.reversal(target) {
        return Err(CliError::usage(
            format!(
                "{target} is already reversed by {} ({}); a record is corrected once",
                r.id.value,
                ledger.path(r.file)
            ),
            Some("it no longer counts; to count it again, log a new contribution".to_owned()),
        ));
    }
    if let Some(s) = chains.superseded_by(target) {
        let head = chains.head(target).map_or(&s.id.value, |h| &h.id.value);
        return Err(CliError::usage(
            format!(
                "{target} is already superseded by {} ({}); a record is corrected once",
                s.id.value,
                ledger.path(s.file)
            ),
            Some(format!(
                "correct the latest correction instead: ovn log ... --supersedes {head}, or ovn revert {head}"
            )),
        ));
    }
    Ok(())
}

/// One field a correction changes: its name, the original's value and the new one.
type Change = (&'static str, String, String);

/// Runs `ovn log ... --supersedes ID`: the original's fields, with those given replaced.
///
/// Reads the flags, then, in the write's transaction body (which may run again when the
/// branch moves): reads the original, builds the correction from it and the flags, judges it
/// and plans the commit; then says what changed.
pub(super) fn run(
    args: LogArgs,
    cwd: &Path,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let given = Given::read(&args, ctx)?;
    let target = &given.target;
    let store = writing::open_for_writing(cwd, ctx)?;
    let options = writing::options(&store, ctx, args.no_commit)?;
    let id = writing::new_id(ctx)?;

    let result = store.transact(
        &options,
        |view: &View<'_>| -> Result<Plan<(String, String, Vec<Change>)>, Refusal> {
            let (original, base) = original(view, target)?;
            // The whole id, when a unique prefix of it was given.
            let target = &original.id.value;
            let date = given.date.unwrap_or(original.date.value);
            let day_folder = format!("contributions/{}", date.format("%Y/%m/%d"));
            let base = base.widened(view, &[&day_folder])?;
            let loaded = base.loaded();
            let network = log::network(loaded)?;
            let mut c = starting_from(&original, id.clone(), date);
            given.apply(&args, loaded, &network, &original, &mut c)?;
            let changes = changes(&original, &c, &network.currency);
            if changes.is_empty() {
                return Err(CliError::usage(
                    format!("nothing to correct: every field is as in {target}"),
                    Some("give the fields that change, e.g. a duration, a description, --date or --skill".to_owned()),
                )
                .into());
            }
            let path = format!("{day_folder}/{id}.toml");
            let file = writing::judged(view, &base, &path, write::contribution(&c))?;
            let summary = log::summary(&c, &network.currency);
            let listed: Vec<String> = changes
                .iter()
                .map(|(field, old, new)| format!("{field}: {old} -> {new}"))
                .collect();
            Ok(Plan {
                files: vec![file],
                message: format!(
                    "log: {summary} (supersedes {target})\n\n{}\n\nchanged {}\n",
                    c.description,
                    listed.join("; ")
                ),
                value: (summary, target.to_string(), changes),
            })
        },
    );
    let (outcome, (summary, target, changes)) = result.map_err(writing::refuse)?;
    let rounded = match (given.hours, given.duration_text.as_deref()) {
        (Some(h), Some(d)) if h.rounded => format!("; {d} rounded to {}", duration::show(h.hours)),
        _ => String::new(),
    };
    writing::report(out, &format!("Logged {id} ({summary}{rounded})"), &outcome)?;
    writeln!(out, "Supersedes {target}; changed:")?;
    for (field, old, new) in &changes {
        writeln!(out, "  {field}: {old} -> {new}")?;
    }
    Ok(EXIT_OK)
}

/// The flags of a correction, read and checked before the ledger is.
struct Given {
    target: Id,
    what: Option<What>,
    /// The duration as written, for saying how it was rounded.
    duration_text: Option<String>,
    hours: Option<duration::Duration>,
    description: Option<String>,
    evidence: Vec<String>,
    unit: Option<String>,
    date: Option<NaiveDate>,
    agent: Option<Id>,
}

impl Given {
    fn read(args: &LogArgs, ctx: &Context) -> Result<Given, CliError> {
        let target = writing::parse_id("--supersedes", args.supersedes.as_deref().unwrap_or(""))?;
        let what = log::what_flag(args)?;
        // Two positionals are a duration and a description; one is the duration when it
        // reads as one, else the description; none keeps both.
        let (duration_text, description) = match (&args.duration, &args.description) {
            (Some(d), Some(text)) => (Some(d.as_str()), Some(text.as_str())),
            (Some(x), None) if duration::parse(x).is_ok() => (Some(x.as_str()), None),
            (Some(x), None) => (None, Some(x.as_str())),
            (None, _) => (None, None),
        };
        let hours = duration_text.map(log::parse_duration).transpose()?;
        let description = description
            .map(|d| writing::text("the description", d))
            .transpose()?;
        let (evidence, unit) = log::evidence_and_unit(args)?;
        let today = ctx.now.date_naive();
        let date = args
            .date
            .as_deref()
            .map(|d| writing::date("--date", d, today))
            .transpose()?;
        let agent = log::agent_flag(args)?;
        Ok(Given {
            target,
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

    /// Replaces in `c` (a copy of `original`) what the flags give: the agent, project,
    /// description and evidence, the kind and its fields, the duration and skill; then checks
    /// that the kind has what it needs.
    fn apply(
        &self,
        args: &LogArgs,
        loaded: &Loaded,
        network: &Network,
        original: &Contribution,
        c: &mut Contribution,
    ) -> Result<(), CliError> {
        if let Some(a) = &self.agent {
            c.agent = At::new(writing::existing(
                loaded,
                RecordType::Agent,
                "--agent",
                a.as_str(),
            )?);
        }
        if let Some(p) = &args.project {
            c.project = At::new(writing::existing(
                loaded,
                RecordType::Project,
                "--project",
                p,
            )?);
        }
        if let Some(d) = &self.description {
            c.description = d.clone();
        }
        if !self.evidence.is_empty() {
            c.set_evidence(self.evidence.clone());
        }
        self.apply_kind(args, loaded, network, original, c)?;
        self.apply_time(args, loaded, c)
    }

    /// The kind flag (and the currency with its amount): another kind keeps only the fields
    /// it takes, then takes those the flag gives.
    fn apply_kind(
        &self,
        args: &LogArgs,
        loaded: &Loaded,
        network: &Network,
        original: &Contribution,
        c: &mut Contribution,
    ) -> Result<(), CliError> {
        let currency = match &args.currency {
            Some(code) => {
                let code = super::writing::currency_code(code)?;
                Some((code != network.currency).then_some(code))
            }
            None => None,
        };
        let Some(what) = &self.what else {
            if currency.is_some() {
                return Err(CliError::usage(
                    "--currency goes with an amount",
                    Some(
                        "give the amount again with its flag, e.g. --money 120.50 --currency USD"
                            .to_owned(),
                    ),
                ));
            }
            return Ok(());
        };
        let new_amount = |flag: &str, text: &str, c: &mut Contribution| {
            if let Some(code) = &currency {
                c.set_currency(code.clone());
            }
            let places = c
                .currency()
                .map_or(network.minor_units, currency_minor_units);
            let shown = c
                .currency()
                .map_or_else(|| network.currency.clone(), str::to_owned);
            c.amount = Some(log::amount(flag, text, places, &shown)?);
            Ok::<(), CliError>(())
        };
        let kind = match what {
            What::Work => Kind::Work,
            What::Money(_) => Kind::Money,
            What::Material(_) => Kind::Material,
            What::Use(_) => Kind::Use,
            What::Other(k) => Kind::Other(k.clone()),
        };
        if kind != original.kind {
            keep_only_fields_of(&kind, c);
        }
        c.kind = kind;
        match what {
            What::Work => {}
            What::Money(a) => new_amount("--money", a, c)?,
            What::Material(a) => {
                new_amount("--material", a, c)?;
                if let Some(q) = &args.quantity {
                    c.set_quantity(Some(log::quantity(q)?));
                }
                if self.unit.is_some() {
                    c.set_unit(self.unit.clone());
                }
            }
            What::Use(r) => {
                c.resource = Some(At::new(writing::existing(
                    loaded,
                    RecordType::Resource,
                    "--use",
                    r,
                )?));
            }
            What::Other(_) => {
                if let Some(a) = &args.amount {
                    new_amount("--amount", a, c)?;
                }
            }
        }
        Ok(())
    }

    /// The duration and the skill, where the kind takes them, and what the kind still needs.
    fn apply_time(
        &self,
        args: &LogArgs,
        loaded: &Loaded,
        c: &mut Contribution,
    ) -> Result<(), CliError> {
        let takes_hours = !matches!(c.kind, Kind::Money | Kind::Material);
        let takes_skill = matches!(c.kind, Kind::Work | Kind::Other(_));
        if let Some(h) = &self.hours {
            if !takes_hours {
                return Err(CliError::usage(
                    format!(
                        "{} is a {} contribution, which has no duration",
                        self.target,
                        c.kind.as_str()
                    ),
                    Some(
                        "to change the kind, say so: --kind work, --use RESOURCE or --kind WORD"
                            .to_owned(),
                    ),
                ));
            }
            c.hours = Some(At::new(h.hours));
        }
        if let Some(skill) = args.skill.as_deref() {
            if !takes_skill {
                return Err(CliError::usage(
                    "--skill goes with work and other kinds, not with money, material or use",
                    None,
                ));
            }
            c.skill = log::skill(loaded, Some(skill))?;
        }
        let missing = match &c.kind {
            Kind::Work | Kind::Use if c.hours.is_none() => Some("a duration"),
            Kind::Other(_) if c.hours.is_none() && c.amount.is_none() => {
                Some("a duration or --amount")
            }
            _ => None,
        };
        if let Some(missing) = missing {
            return Err(CliError::usage(
                format!("a `{}` contribution needs {missing}", c.kind.as_str()),
                Some("give it along with the kind flag".to_owned()),
            ));
        }
        Ok(())
    }
}

/// The contribution `target` as committed, with the files its correction is judged against
/// (the small folders and the original's file); refused when it is missing, broken, a
/// reversal, or already corrected.
fn original(view: &View<'_>, given: &Id) -> Result<(Contribution, Base), Refusal> {
    let (target, found) = crate::ops::ids::contribution(view, given.as_str())
        .map_err(CliError::from)?
        .ok_or_else(|| {
            CliError::usage(
                format!("--supersedes {given}: no contribution has this id"),
                Some(
                    "give the id of a committed contribution (its file name without .toml)"
                        .to_owned(),
                ),
            )
        })?;
    let base = Base::read(view, &[], &[&found])?;
    let target = &target;
    let original = writing::contribution_in(base.loaded(), target, &found)?;
    if original.reverses().is_some() {
        return Err(CliError::usage(
            format!("{target} is a reversal, which is not corrected"),
            Some("to count the original again, log it anew with `ovn log`".to_owned()),
        )
        .into());
    }
    corrected_once(&view.load_corrections()?.ledger, target)?;
    Ok((original, base))
}

/// A new record `id` on `date` superseding `original`, with every one of its fields.
fn starting_from(original: &Contribution, id: Id, date: NaiveDate) -> Contribution {
    let mut c = Contribution {
        date: At::new(date),
        ..Contribution::new(
            At::new(id),
            At::new(original.agent.value.clone()),
            date,
            At::new(original.project.value.clone()),
            original.kind.clone(),
            original.description.clone(),
        )
    };
    c.hours = original.hours.as_ref().map(|h| At::new(h.value));
    c.skill = original.skill.clone();
    c.amount = original.amount;
    c.set_currency(original.currency().map(str::to_owned));
    c.set_quantity(original.quantity());
    c.set_unit(original.unit().map(str::to_owned));
    c.resource = original.resource.as_ref().map(|r| At::new(r.value.clone()));
    c.set_evidence(original.evidence().to_vec());
    c.set_supersedes(Some(At::new(original.id.value.clone())));
    c
}

/// Another kind keeps only the fields it takes (hours from work to care, not to money).
fn keep_only_fields_of(kind: &Kind, c: &mut Contribution) {
    if matches!(kind, Kind::Money | Kind::Material) {
        c.hours = None;
    }
    if matches!(kind, Kind::Work | Kind::Use) {
        c.amount = None;
        c.set_currency(None);
    }
    if *kind != Kind::Material {
        c.set_quantity(None);
        c.set_unit(None);
    }
    if *kind != Kind::Use {
        c.resource = None;
    }
    if matches!(kind, Kind::Money | Kind::Material | Kind::Use) {
        c.skill = None;
    }
}

/// The fields `new` changes from `old`, in the order a record lists them.
fn changes(old: &Contribution, new: &Contribution, currency: &str) -> Vec<Change> {
    fn opt<T: ToString>(v: Option<T>) -> String {
        v.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
    }
    let quoted = |s: &str| format!("{s:?}");
    let hours = |c: &Contribution| opt(c.hours.as_ref().map(|h| duration::show(h.value)));
    let amount = |c: &Contribution| {
        opt(c
            .amount
            .map(|a: Decimal| format!("{} {}", a.normalize(), c.currency().unwrap_or(currency))))
    };
    let fields: [(&'static str, String, String); 12] = [
        (
            "agent",
            old.agent.value.to_string(),
            new.agent.value.to_string(),
        ),
        (
            "date",
            old.date.value.to_string(),
            new.date.value.to_string(),
        ),
        (
            "project",
            old.project.value.to_string(),
            new.project.value.to_string(),
        ),
        (
            "kind",
            old.kind.as_str().to_owned(),
            new.kind.as_str().to_owned(),
        ),
        (
            "description",
            quoted(&old.description),
            quoted(&new.description),
        ),
        ("hours", hours(old), hours(new)),
        ("skill", opt(old.skill.as_ref()), opt(new.skill.as_ref())),
        ("amount", amount(old), amount(new)),
        (
            "quantity",
            opt(old.quantity().map(|q| q.normalize())),
            opt(new.quantity().map(|q| q.normalize())),
        ),
        ("unit", opt(old.unit()), opt(new.unit())),
        (
            "resource",
            opt(old.resource.as_ref().map(|r| &r.value)),
            opt(new.resource.as_ref().map(|r| &r.value)),
        ),
        (
            "evidence",
            format!("{:?}", old.evidence()),
            format!("{:?}", new.evidence()),
        ),
    ];
    fields.into_iter().filter(|(_, a, b)| a != b).collect()
}
