//! The parts of `ovn payout` that reach another network's ledger: `--from-payout` (take a
//! line of its payout in as this network's revenue), `payout verify --source` (re-derive
//! that line from the paying repository) and `payout verify --receiver` (the paying side
//! asking whether its lines to a member network were taken in).
//!
//! Kept apart from `payout.rs` so the command's own flow keeps one hook per feature; the
//! rules are `ops::incoming` and `core::incoming`. The paying payout is re-derived with the
//! same function `ovn payout verify` uses, run on the paying repository's store: a line is
//! taken in only from a payout that is what its value equation gives.

use std::io::Write;
use std::path::Path;

use rust_decimal::Decimal;

use super::payout::PayoutArgs;
use super::{CliError, EXIT_OK, EXIT_PROBLEMS};
use crate::core::incoming::{self, Source};
use crate::core::ledger::Ledger;
use crate::core::payout::money;
use crate::core::record::{AgentKind, Network, PayoutRecord};
use crate::core::render::escaped;
use crate::ops;
use crate::store::{ResolvedRev, Store};

/// With `--from-payout`: the source of the line the paying payout pays this network, read
/// from the paying ledger and checked (the paying payout re-derives, the line is not taken
/// in yet). `here` is this ledger, read at `rev`.
pub(super) fn take(
    store: &Store,
    cwd: &Path,
    here: &Ledger,
    rev: &ResolvedRev,
    args: &PayoutArgs,
) -> Result<Option<Source>, CliError> {
    let Some(from) = &args.from_payout else {
        return Ok(None);
    };
    let (origin, id) = ops::incoming::split(from)?;
    let (paying_store, paying_rev) = ops::incoming::open(store, cwd, origin)?;
    let paying = ops::incoming::paying_ledger(&paying_store, &paying_rev)?;
    let p = ops::incoming::payout(&paying, id, &paying_rev.short())?;
    let agent = ops::incoming::whoami(here, &paying, args.as_agent.as_deref())?;
    let source = ops::incoming::line(p, &agent, args.line, &paying_rev)?;
    let currency = here.network.as_ref().map_or("", |n| n.currency.as_str());
    if p.currency != currency {
        return Err(CliError::usage(
            format!(
                "payout {} is in {}, this network's currency is {currency}",
                p.id.value,
                escaped(&p.currency)
            ),
            None,
        ));
    }
    let differs = paying_differs(&paying_store, &paying, &paying_rev, p)?;
    if !differs.is_empty() {
        return Err(CliError::problems(
            format!(
                "payout {} of the paying ledger does not re-derive at its pinned commit, so none of its lines is taken in:\n{}",
                p.id.value,
                differs.join("\n")
            ),
            Some("run `ovn payout verify ID` in the paying ledger".to_owned()),
        ));
    }
    ops::incoming::not_taken(store, rev, here, &source)?;
    Ok(Some(source))
}

/// The request taking line `s` in: `args` with the memo naming the line unless one is given
/// (two lines taken in on one day for the same amount are two revenue events), the source,
/// and the amount, the line's (an AMOUNT `given` must equal it).
pub(super) fn request(
    args: PayoutArgs,
    s: Source,
    given: Option<Decimal>,
    here: &Ledger,
) -> Result<(PayoutArgs, Option<Source>, Decimal), CliError> {
    let amount = amount(&s, given, here.network.as_ref())?;
    let memo = match args.memo {
        None if args.record => Some(format!(
            "line {} of payout {}",
            s.line.value, s.payout.value
        )),
        memo => memo,
    };
    Ok((PayoutArgs { memo, ..args }, Some(s), amount))
}

/// The amount of revenue taken in: the line's; an AMOUNT given must equal it.
fn amount(
    s: &Source,
    given: Option<Decimal>,
    network: Option<&Network>,
) -> Result<Decimal, CliError> {
    match given {
        Some(given) if given != s.amount => {
            let mu = network.map_or(2, |n| n.minor_units);
            Err(CliError::usage(
                format!(
                    "AMOUNT {} is not what line {} of payout {} pays ({})",
                    money(given, mu),
                    s.line.value,
                    s.payout.value,
                    money(s.amount, mu)
                ),
                Some("leave AMOUNT out to take the line's".to_owned()),
            ))
        }
        _ => Ok(s.amount),
    }
}

/// The lines (`- recorded`, `+ re-derived`) by which payout `p` of `paying` (read at `rev`)
/// differs from its re-derivation at its pinned commit; empty when it matches.
fn paying_differs(
    store: &Store,
    paying: &Ledger,
    rev: &ResolvedRev,
    p: &PayoutRecord,
) -> Result<Vec<String>, CliError> {
    let recorded = store
        .read_file_at(&rev.id(), paying.path(p.file))?
        .unwrap_or_default();
    if store.resolve(&p.commit).is_err() {
        return Err(CliError::problems(
            format!(
                "payout {} of the paying ledger was computed at commit {}, which its repository does not have",
                p.id.value, p.commit
            ),
            None,
        ));
    }
    let again = super::payout::rederive(store, p)?;
    let recorded = String::from_utf8_lossy(&recorded);
    let old: Vec<&str> = recorded.lines().collect();
    let new: Vec<&str> = again.lines().collect();
    let mut out: Vec<String> = old
        .iter()
        .filter(|l| !new.contains(l))
        .map(|l| format!("- {}", escaped(l)))
        .collect();
    out.extend(
        new.iter()
            .filter(|l| !old.contains(l))
            .map(|l| format!("+ {l}")),
    );
    Ok(out)
}

/// What `--record` says after the record: which line it took in.
pub(super) fn report_taken(s: &Source, mu: u32, out: &mut impl Write) -> Result<(), CliError> {
    writeln!(
        out,
        "  taken in: line {} of payout {} (to {}, bucket {}, {}) of the paying ledger at {}",
        s.line.value,
        s.payout.value,
        s.agent,
        escaped(&s.bucket),
        money(s.amount, mu),
        &s.commit[..12]
    )?;
    Ok(())
}

/// `payout verify` of revenue taken in, after the local re-derivation matched: with
/// `origin`, re-derive the line from the paying repository; without, say it was not.
pub(super) fn verify_source(
    store: &Store,
    cwd: &Path,
    pinned: &Source,
    origin: Option<&str>,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let Some(origin) = origin else {
        writeln!(
            out,
            "source not checked: line {} of payout {} of the paying ledger at {} (give --source PATH-OR-REF to re-derive it)",
            pinned.line.value,
            pinned.payout.value,
            &pinned.commit[..12]
        )?;
        return Ok(EXIT_OK);
    };
    let (paying_store, _) = ops::incoming::open(store, cwd, origin)?;
    let (paying, p, found) = ops::incoming::reread(&paying_store, pinned)?;
    let rev = paying_store.resolve_rev(&pinned.commit)?;
    let mut differs = incoming::differences(pinned, &found);
    differs.extend(paying_differs(&paying_store, &paying, &rev, &p)?);
    if differs.is_empty() {
        writeln!(
            out,
            "source matches: line {} of payout {} re-derived from the paying ledger at {} (to {}, {})",
            pinned.line.value,
            pinned.payout.value,
            &pinned.commit[..12],
            pinned.agent,
            pinned.amount
        )?;
        return Ok(EXIT_OK);
    }
    writeln!(
        out,
        "source does NOT match: line {} of payout {} at {}:",
        pinned.line.value,
        pinned.payout.value,
        &pinned.commit[..12]
    )?;
    for d in differs {
        writeln!(out, "  {d}")?;
    }
    Ok(EXIT_PROBLEMS)
}

/// `payout verify ID --receiver R` in the paying ledger: for each line of payout `id` (at
/// `at`) to an agent of kind network, whether the ledger in `origin` took it in, and whether
/// what it pinned matches the line here.
pub(super) fn verify_receiver(
    store: &Store,
    cwd: &Path,
    id: &str,
    at: &str,
    origin: &str,
    out: &mut impl Write,
) -> Result<u8, CliError> {
    let rev = store.resolve_rev(at)?;
    let here = ops::incoming::paying_ledger(store, &rev)?;
    let p = ops::incoming::payout(&here, id, at)?;
    let (receiver_store, receiver_rev) = ops::incoming::open(store, cwd, origin)?;
    let receiver = ops::load::whole(&receiver_store, &receiver_rev)?.ledger;
    let mu = here.network.as_ref().map_or(2, |n| n.minor_units);
    let mut bad = false;
    let mut seen = 0usize;
    // The agents the receiver took lines in as: the lines it missed are theirs (all lines to
    // networks when it took none in).
    let mut agents = std::collections::BTreeSet::new();
    for r in &receiver.payouts {
        let Some(s) = &r.source else { continue };
        if s.payout.value != p.id.value {
            continue;
        }
        seen += 1;
        agents.insert(s.agent.clone());
        let mine = ops::incoming::line(p, &s.agent, Some(s.line.value), &rev)?;
        // The commit read may differ (any commit holding the payout will do).
        let differs = incoming::differences(s, &mine);
        if differs.is_empty() {
            writeln!(
                out,
                "line {} to {} ({}): taken in by payout {}, matches",
                s.line.value,
                s.agent,
                money(s.amount, mu),
                r.id.value
            )?;
        } else {
            bad = true;
            writeln!(
                out,
                "line {} to {}: taken in by payout {}, does NOT match:",
                s.line.value, s.agent, r.id.value
            )?;
            for d in differs {
                writeln!(out, "  {d}")?;
            }
        }
    }
    for (l, n) in p.lines.iter().zip(1u32..) {
        let network = here
            .agents
            .iter()
            .any(|a| a.id.value == l.agent.value && a.kind == AgentKind::Network)
            && (agents.is_empty() || agents.contains(&l.agent.value));
        let taken = receiver.payouts.iter().any(|r| {
            r.source
                .as_ref()
                .is_some_and(|s| s.payout.value == p.id.value && s.line.value == n)
        });
        if network && !taken {
            writeln!(
                out,
                "line {n} to {} ({}): not taken in by that ledger",
                l.agent.value,
                money(l.amount, mu)
            )?;
        }
    }
    if seen == 0 {
        writeln!(
            out,
            "no payout of that ledger takes in a line of payout {}",
            p.id.value
        )?;
    }
    Ok(if bad { EXIT_PROBLEMS } else { EXIT_OK })
}
