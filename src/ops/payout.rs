//! The rules around a payout that are not its arithmetic (which is `core::payout`): which
//! ledger a payout reads, which contributions it leaves out for awaiting approvals, what the
//! current branch adds that is not validated yet, that a revenue event is recorded once, and
//! that a payout does not land where the branch has payouts it did not see.
//!
//! They were written inside the `ovn payout` command, the recorded-once rule twice (against
//! the ledger read, then against the branch under the write lock) with two predicates kept
//! equal by hand; here it is one predicate, [`Event::is`], used by both checks.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::Error;
use super::load::{self, Loaded, Need};
use crate::cache::totals;
use crate::core::cascade::{self, Cascade};
use crate::core::ledger::{self, Ledger};
use crate::core::parse::Settings;
use crate::core::payout::{self, Payout, Reason, Request, Settled, money};
use crate::core::record::PayoutRecord;
use crate::core::validation::Status;
use crate::core::value::Id;
use crate::store::{ResolvedRev, Store, StoreError};

/// Loads the ledger a payout reads at `rev`. With `projects` (a preview of named projects)
/// only their contributions and the corrections are needed, and a quick load may stand for
/// the rest; but a policy asking for approvals needs the whole ledger (approvals and
/// statuses are not in a quick load), and so does a payout without named projects.
pub fn load(
    store: &Store,
    rev: &ResolvedRev,
    projects: Option<&[&str]>,
) -> Result<ledger::Loaded, StoreError> {
    let loaded = match projects {
        Some(projects) => load::load(store, rev, Need::Projects(projects))?,
        None => Loaded::Full(load::whole(store, rev)?),
    };
    match loaded {
        Loaded::Partial(p)
            if p.ledger()
                .network
                .as_ref()
                .is_some_and(|n| n.validation.approvals > 0) =>
        {
            load::whole(store, rev)
        }
        // A cascade reads the contributions of every project it reaches: the part is loaded
        // again for all of them (every level then computes on that one ledger).
        Loaded::Partial(p) if projects.is_some_and(|named| reaches_more(p.ledger(), named)) => {
            let named = projects.unwrap_or_default();
            let mut all: Vec<String> = named
                .iter()
                .flat_map(|n| cascade::reachable(p.ledger(), n))
                .collect();
            all.sort();
            all.dedup();
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            Ok(load::load(store, rev, Need::Projects(&all))?.for_need())
        }
        // A payout reads only the projects it named: the part answers for them.
        loaded => Ok(loaded.for_need()),
    }
}

/// Whether a payout of one of `named` cascades into a project not among them.
fn reaches_more(ledger: &Ledger, named: &[&str]) -> bool {
    named.iter().any(|n| {
        cascade::reachable(ledger, n)
            .iter()
            .any(|r| !named.contains(&r.as_str()))
    })
}

/// Contributions merged at `rev` that still await the approvals the network's policy asks
/// for (none when the policy asks for none: merged is validated). The policy, identities and
/// stewards are those in force ([`super::rules`]): a governance change that reached the
/// branch without being validated does not apply.
pub fn unapproved(
    store: &Store,
    rev: &ResolvedRev,
    ledger: &Ledger,
) -> Result<HashSet<Id>, StoreError> {
    Ok(awaiting(store, rev, ledger)?.into_keys().collect())
}

/// Whether the network asks for approvals under the validation rules in force (`rules`, from
/// [`super::rules::rules`], as [`awaiting`] reads them; `None` when they are the ledger's
/// own): when it does not, no contribution awaits any. Read from the network's settings
/// alone, so a ledger loaded quickly, or holding no contribution, tells as well as the
/// whole one.
pub fn approvals_asked(ledger: &Ledger, rules: Option<&Ledger>) -> bool {
    let Some(network) = ledger.network.as_ref() else {
        return false;
    };
    // The rules in force replace the network's validation settings (see `rules::applied`).
    let validation = rules
        .and_then(|r| r.network.as_ref())
        .map_or(&network.validation, |n| &n.validation);
    validation.approvals > 0
}

/// [`unapproved`], each with its status: how many approvals it has and needs, whether a
/// steward's is missing (what the site says each lacks).
pub fn awaiting(
    store: &Store,
    rev: &ResolvedRev,
    ledger: &Ledger,
) -> Result<HashMap<Id, Status>, StoreError> {
    let in_force = super::rules::rules(store, rev.commit())?
        .map(|rules| super::rules::applied(ledger, &rules));
    let ledger = in_force.as_ref().unwrap_or(ledger);
    if ledger
        .network
        .as_ref()
        .is_none_or(|n| n.validation.approvals == 0)
    {
        return Ok(Default::default());
    }
    Ok(super::approvals::statuses(store, &rev.id(), ledger)?
        .0
        .into_iter()
        .filter(|(_, s)| matches!(s, Status::AwaitingApproval { .. }))
        .collect())
}

/// A payout as `ovn payout` previews, records and re-derives it, with what it was computed
/// from.
pub struct Computed {
    /// The payout.
    pub payout: Payout,
    /// What recorded payouts settled (a record's digest covers it).
    pub settled: Vec<Settled>,
    /// The contributions left out as awaiting approvals.
    pub unapproved: HashSet<Id>,
}

/// How much of a payout its caller shows or keeps, beyond each agent's lines and the notes
/// (the amounts are the same either way).
#[derive(Clone, Copy, Debug)]
pub struct Detail {
    /// Each claim says in words how it arose (what `--explain` shows).
    pub words: bool,
    /// Each bucket lists its claims with their amounts (what `--explain` shows, and what a
    /// record settles claim by claim).
    pub claims: bool,
}

impl Detail {
    /// What a payout shown as `--explain` asks (`explain`) or recorded (`record`) needs.
    pub fn of(explain: bool, record: bool) -> Detail {
        Detail {
            words: explain,
            claims: explain || record,
        }
    }

    /// What re-deriving a recorded payout needs: the claims it settled, no words.
    pub const REDERIVE: Detail = Detail {
        words: false,
        claims: true,
    };

    fn options<'a>(self, unapproved: &'a HashSet<Id>) -> payout::Options<'a> {
        payout::Options {
            unapproved: Some(unapproved),
            unexplained: !self.words,
            unlisted: !self.claims,
            ..Default::default()
        }
    }
}

/// The payout `request` asks for on `ledger` (read at `rev`): only validated contributions
/// count, so with a policy asking for approvals those still awaiting them are left out (and
/// listed); what recorded payouts settled counts against the claims. `detail` says how much
/// of it is worked out beyond the lines.
pub fn compute(
    store: &Store,
    rev: &ResolvedRev,
    ledger: &Ledger,
    request: &Request<'_>,
    detail: Detail,
) -> Result<Computed, Error> {
    let settled = payout::settled_by_records(ledger);
    let unapproved = unapproved(store, rev, ledger)?;
    let payout = payout::compute_with(ledger, request, &settled, detail.options(&unapproved))
        .map_err(|e| Error::usage(e.to_string(), None))?;
    Ok(Computed {
        payout,
        settled,
        unapproved,
    })
}

/// A cascade (a payout whose agreement pays projects, and their sub-payouts) as `ovn payout`
/// previews, records and re-derives it, with what it was computed from.
pub struct ComputedCascade {
    /// The payouts, the top one first.
    pub cascade: Cascade,
    /// What recorded payouts settled (each level's digest covers it, with what the earlier
    /// levels settled).
    pub settled: Vec<Settled>,
}

/// The cascade `request` starts on `ledger` (read at `rev`), every level computed on that one
/// ledger with the rules of [`compute`] (`detail` as there).
pub fn compute_cascade(
    store: &Store,
    rev: &ResolvedRev,
    ledger: &Ledger,
    request: &Request<'_>,
    detail: Detail,
) -> Result<ComputedCascade, Error> {
    let settled = payout::settled_by_records(ledger);
    let unapproved = unapproved(store, rev, ledger)?;
    let cascade = cascade::compute(ledger, request, &settled, detail.options(&unapproved))
        .map_err(|e| Error::usage(e.to_string(), None))?;
    Ok(ComputedCascade { cascade, settled })
}

/// Contributions to `project` on `HEAD` that the validated branch does not have yet
/// (pending review), sorted; `ledger` (read on the validated branch) gives the currency.
pub fn pending(store: &Store, validated: &ResolvedRev, ledger: &Ledger, project: &str) -> Vec<Id> {
    let Ok(added) = store.added_files(&validated.id(), "HEAD", "contributions") else {
        return Vec::new();
    };
    let settings = ledger
        .network
        .as_ref()
        .map(|n| Settings {
            currency: n.currency.clone(),
            minor_units: n.minor_units,
        })
        .unwrap_or_default();
    let ids: BTreeSet<Id> = added
        .iter()
        .filter_map(|f| ledger::contribution_alone(&f.path, &f.bytes, &settings))
        .filter(|c| c.project.value.as_str() == project)
        .map(|c| c.id.value)
        .collect();
    ids.into_iter().collect()
}

/// Keeps the totals of `result` (a payout of `amount` to `project` at `rev`) for the next
/// review on top of `rev`, when it is the computation a review makes of this revision: no
/// contribution left out as awaiting approval (`unapproved`) or, where the payout is
/// `dated`, as dated after it.
pub fn keep_for_review(
    store: &Store,
    rev: &ResolvedRev,
    project: &str,
    amount: Decimal,
    result: &Payout,
    dated: bool,
    unapproved: &HashSet<Id>,
) {
    // Kept only where the date changed nothing (no contribution dated after it).
    let undated = !dated
        && !result
            .left_out
            .iter()
            .any(|l| l.reason == Reason::AfterPayout);
    if undated && unapproved.is_empty() {
        let kept = Ok(Some(result.totals.clone()));
        totals::put(store, rev.commit(), project, amount, &kept);
        totals::prune(store);
    }
}

/// A revenue event: a payout of `amount` to `project` on `date`, named by `memo`. The same
/// event is paid out once.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The project paid.
    pub project: &'a Id,
    /// The day of the revenue.
    pub date: NaiveDate,
    /// The revenue (compared by value: 3000 is 3000.00).
    pub amount: Decimal,
    /// The note naming it, such as an invoice number.
    pub memo: Option<&'a str>,
}

impl Event<'_> {
    /// Whether payout record `p` records this event.
    pub fn is(&self, p: &PayoutRecord) -> bool {
        // A sub-payout shares its parent's revenue event (see core::cascade).
        p.parent.is_none()
            && p.project.value == *self.project
            && p.date.value == self.date
            && p.amount.value.normalize() == self.amount.normalize()
            && p.memo.as_deref() == self.memo
    }

    /// Refuses the event when it is recorded already ([`Event::recorded`]); `minor_units`
    /// shows its amount.
    pub fn not_recorded(
        &self,
        store: &Store,
        rev: &ResolvedRev,
        ledger: &Ledger,
        minor_units: u32,
    ) -> Result<(), Error> {
        let Some(existing) = self.recorded(store, rev, ledger) else {
            return Ok(());
        };
        Err(Error::usage(
            format!(
                "this revenue event ({} on {}, {}{}) is already recorded as payout {existing}",
                self.project,
                self.date,
                money(self.amount, minor_units),
                self.memo.map(|m| format!(", {m:?}")).unwrap_or_default(),
            ),
            Some(
                "a revenue event is paid out once; use another --memo if it is a different event"
                    .to_owned(),
            ),
        ))
    }

    /// Refuses the event when `branch` (the payouts of the branch it is recorded on, read
    /// under the write's lock) records it already.
    pub fn not_on_branch(&self, branch: &Ledger) -> Result<(), Error> {
        match branch.payouts.iter().find(|p| self.is(p)) {
            Some(other) => Err(Error::usage(
                format!(
                    "this revenue event is already recorded on the branch as payout {}",
                    other.id.value
                ),
                None,
            )),
            None => Ok(()),
        }
    }

    /// The payout recording this event among those of `ledger` (read at `rev`) and those the
    /// current branch adds on top of `rev`, if any.
    pub fn recorded(&self, store: &Store, rev: &ResolvedRev, ledger: &Ledger) -> Option<Id> {
        if let Some(p) = ledger.payouts.iter().find(|p| self.is(p)) {
            return Some(p.id.value.clone());
        }
        let added = store.added_files(&rev.id(), "HEAD", "payouts").ok()?;
        let added = load::files(&added);
        added
            .ledger()
            .payouts
            .iter()
            .find(|p| self.is(p))
            .map(|p| p.id.value.clone())
    }
}

/// Refuses a payout computed on `ledger` (read at `rev`) that would land on a branch whose
/// payouts of `project` (`branch`) include one `ledger` lacks: it would repay what that one
/// already repaid, and fork the project's payout line.
pub fn all_seen(ledger: &Ledger, branch: &Ledger, project: &str, rev: &str) -> Result<(), Error> {
    let unseen: Vec<&str> = branch
        .payouts
        .iter()
        .filter(|p| p.project.value.as_str() == project)
        .filter(|p| !ledger.payouts.iter().any(|q| q.id.value == p.id.value))
        .map(|p| p.id.value.as_str())
        .collect();
    if unseen.is_empty() {
        return Ok(());
    }
    Err(Error::usage(
        format!(
            "the ledger at {rev} lacks payout{} {} of project `{project}` that this branch has: a payout computed there would repay what {} already repaid",
            if unseen.len() == 1 { "" } else { "s" },
            unseen.join(", "),
            if unseen.len() == 1 { "it" } else { "they" }
        ),
        Some(
            "compute it where every recorded payout of the project is: --at HEAD, or merge this branch into the validated branch first".to_owned(),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::RawFile;

    fn payout(amount: &str, memo: &str) -> PayoutRecord {
        let text = format!(
            "id = \"01pa0000000000000000000001\"\nproject = \"drone\"\nagreement = \"drone-ve\"\n\
             date = 2026-11-30\namount = \"{amount}\"\ncurrency = \"EUR\"\nmemo = \"{memo}\"\n\
             commit = \"4ccf833f990b4ccf833f990b4ccf833f990b0000\"\n\
             digest = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n\
             follows = []\n\n[[lines]]\nagent = \"ana\"\nbucket = \"equity\"\namount = \"{amount}\"\n"
        );
        let files = [
            RawFile {
                path: "ovn.toml".into(),
                bytes: b"format = 1\nname = \"N\"\ncurrency = \"EUR\"\nleftover = \"ana\"\n"
                    .to_vec(),
            },
            RawFile {
                path: "payouts/2026/01pa0000000000000000000001.toml".into(),
                bytes: text.into_bytes(),
            },
        ];
        let mut part = load::files(&files).into_ledger();
        assert_eq!(part.payouts.len(), 1, "the sample payout reads");
        part.payouts.remove(0)
    }

    /// The revenue event of the sample payout with memo "Invoice 1".
    fn invoice_1(drone: &Id) -> Event<'_> {
        Event {
            project: drone,
            date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            amount: Decimal::new(3000, 0),
            memo: Some("Invoice 1"),
        }
    }

    #[test]
    fn a_revenue_event_is_its_project_day_amount_by_value_and_memo() {
        let drone = Id::parse("drone").unwrap();
        let event = invoice_1(&drone);
        assert!(event.is(&payout("3000.00", "Invoice 1")), "3000 is 3000.00");
        assert!(!event.is(&payout("3000.01", "Invoice 1")));
        assert!(!event.is(&payout("3000.00", "Invoice 2")));
        let other_day = Event {
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            ..event
        };
        assert!(!other_day.is(&payout("3000.00", "Invoice 1")));
    }

    #[test]
    fn an_event_the_branch_records_is_refused_under_the_lock() {
        let drone = Id::parse("drone").unwrap();
        let event = invoice_1(&drone);
        let mut branch = Ledger::default();
        branch.payouts.push(payout("3000.00", "Invoice 2"));
        assert!(event.not_on_branch(&branch).is_ok(), "another event");
        branch.payouts.push(payout("3000.00", "Invoice 1"));
        let refused = event.not_on_branch(&branch).unwrap_err().to_string();
        assert_eq!(
            refused,
            "this revenue event is already recorded on the branch as payout 01pa0000000000000000000001"
        );
    }
}
