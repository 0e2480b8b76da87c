//! `ovn site` from kept parts: what each day folder adds to the page (its contributions'
//! sums by month and by member, its claims by project and holder, the use of resources),
//! reused while the folder (and everything else the page's figures depend on) is unchanged.
//!
//! The page counts day folder by day folder and adds the folders up in path order
//! ([`site::folder_parts`], [`site::view_from`]), so the view built from kept parts is the
//! view counted from scratch, with or without a cache. The parts are kept and read by the
//! reports' driver (`super::reports::by_parts`), so they are keyed alike: by a digest of
//! every ledger entry other than the contributions (agents, projects, agreements, rates,
//! payouts: they fix the claims), the day folder's path and tree id, and the correction
//! targets its records may hold. Parts are only counted and read when the network asks for
//! no approvals under the rules in force: then no contribution awaits any and a part
//! depends on nothing else (the caller counts the whole ledger otherwise).
//!
//! Adding 1,500 folders' parts (a million records) took most of a page after a new commit.
//! So the sums as they stand at the end of the month before the last are kept as a
//! checkpoint ([`Checkpoint`]), keyed by the context digest and every part key added before
//! it, in order: a new commit's folders (today's) seldom reach that far back, and the next
//! page resumes from the latest month end whose checkpoint is kept, adding only the parts
//! after it. Every figure is set back as it stood, never added again month by month: a sum
//! of values a formula divided need not be exact, so only the same additions in the same
//! order give the same page.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::files::AnswerCache;
use super::key;
use super::reports::{Error, Question, by_parts_keyed, checkpoint_at, month_ends};
use super::tally::{Asked, Counting, Tally};
use crate::core::codec::{get_str, get_u64, put_str, put_u64};
use crate::core::ledger::Ledger;
use crate::core::report::ClaimSums;
use crate::core::site::{self, Adder, Checkpoint, FolderPart, Sums, View};
use crate::core::value::Id;
use crate::store::Store;

/// The question the page asks of each day folder (see [`view`]): what it adds to the page,
/// kept as its bytes.
pub fn question() -> Question<Vec<u8>> {
    Question {
        month_key: Box::new(key::site_month),
        count: Box::new(|l, wanted| {
            site::folder_parts(l, &Default::default(), wanted, |part| {
                let mut bytes = Vec::new();
                encode(&part, &mut bytes);
                bytes
            })
            .map_err(|e| e.to_string())
        }),
        encode: |bytes, out| out.extend_from_slice(bytes),
        // Read once, as they are added up.
        decode: |bytes| Some(bytes.to_vec()),
    }
}

/// What counts the page's parts while a cold cache is filled (see [`super::tally`]), for the
/// load before [`view`]: only when `asked` (given the ledger's records other than
/// contributions) says the page is put together from parts.
pub fn tally(asked: Box<Asked>) -> Box<dyn Tally> {
    Box::new(Counting::new(question()).when(asked))
}

/// The site's view of `ledger` (loaded at `commit`, quickly or in full) when the network
/// asks for no approvals, using and filling the part cache. `None` when a summarised
/// folder's part is not kept, or counting fails on a quick load: the caller then loads in
/// full and asks again, which always answers.
pub fn view(store: &Store, commit: &str, ledger: &Ledger) -> Result<Option<View>, Error> {
    // The parts are handled as their bytes (checked when read) and decoded one at a time
    // while they are added up: decoded all at once they would take several times the room.
    let keyed = by_parts_keyed(store, commit, ledger, &question())?;
    let Some(keyed) = keyed else {
        return Ok(None);
    };
    let ends = month_ends(&keyed);
    let checkpoints = AnswerCache::checkpoints(store).filter(|_| !ends.is_empty());
    // Adding resumes from the latest month's end a checkpoint is kept for.
    let resumed = checkpoints.as_ref().and_then(|cache| {
        ends.iter().rev().find_map(|(end, chain)| {
            let (_, bytes) = cache.get(&key::site_checkpoint(chain))?;
            Some((*end, Adder::resume(ledger, decode_checkpoint(&bytes)?)?))
        })
    });
    let (start, mut adder) = resumed.unwrap_or_else(|| (0, Adder::new(ledger)));
    let keep = checkpoint_at(&ends, start);
    for (at, (_, _, bytes)) in keyed.parts.iter().enumerate().skip(start) {
        if let (Some(cache), Some((end, chain))) = (&checkpoints, keep)
            && *end == at
        {
            let bytes = encode_checkpoint(&adder.checkpoint());
            cache.put(&key::site_checkpoint(chain), 0, &bytes);
        }
        // A kept part that does not read is a miss, as one not kept: the caller loads the
        // ledger in full, which counts every folder again (and keeps the new parts).
        if read(bytes, &mut adder).is_none() {
            return Ok(None);
        }
    }
    Ok(Some(adder.view(&Default::default())))
}

/// Where [`read`] hands what a part holds, as borrowed text and numbers.
trait Sink {
    fn month(&mut self, _month: &str, _s: &Sums) {}
    fn member(&mut self, _agent: &str, _month: &str, _logged: &Sums, _held: Decimal) {}
    fn claims(&mut self, _project: &str, _agent: &str, _s: &ClaimSums) {}
    fn uses(&mut self, _resource: &str, _project: &str, _hours: Decimal) {}
    fn span(&mut self, _span: (NaiveDate, NaiveDate)) {}
}

impl Sink for Adder<'_> {
    fn month(&mut self, month: &str, s: &Sums) {
        Adder::month(self, month, s);
    }
    fn member(&mut self, agent: &str, month: &str, logged: &Sums, held: Decimal) {
        Adder::member(self, agent, month, logged, held);
    }
    fn claims(&mut self, project: &str, agent: &str, s: &ClaimSums) {
        Adder::claims(self, project, agent, s);
    }
    fn uses(&mut self, resource: &str, project: &str, hours: Decimal) {
        Adder::uses(self, resource, project, hours);
    }
    fn span(&mut self, span: (NaiveDate, NaiveDate)) {
        Adder::span(self, span);
    }
}

/// Appends the encoding of a part to `out` (for the part cache).
fn encode(part: &FolderPart, out: &mut Vec<u8>) {
    put_u64(out, part.months.len() as u64);
    for (m, s) in &part.months {
        put_str(out, m);
        sums(s, out);
    }
    put_u64(out, part.members.len() as u64);
    for (agent, m, s, held) in &part.members {
        put_str(out, agent.as_str());
        put_str(out, m);
        sums(s, out);
        put_decimal(out, *held);
    }
    put_u64(out, part.claims.len() as u64);
    for (project, agent, s) in &part.claims {
        put_str(out, project.as_str());
        put_str(out, agent.as_str());
        claim_sums(s, out);
    }
    put_u64(out, part.uses.len() as u64);
    for (resource, project, hours) in &part.uses {
        put_str(out, resource.as_str());
        put_str(out, project.as_str());
        put_decimal(out, *hours);
    }
    put_span(part.span, out);
}

/// Appends a span of dates (none, or the first and last as days since the Unix epoch).
fn put_span(span: Option<(NaiveDate, NaiveDate)>, out: &mut Vec<u8>) {
    match span {
        Some((first, last)) => {
            put_u64(out, 1);
            put_u64(out, u64::from(first.to_epoch_days().cast_unsigned()));
            put_u64(out, u64::from(last.to_epoch_days().cast_unsigned()));
        }
        None => put_u64(out, 0),
    }
}

/// A span as [`put_span`] wrote it; `None` when it does not read.
fn get_span(input: &mut &[u8]) -> Option<Option<(NaiveDate, NaiveDate)>> {
    match get_u64(input)? {
        0 => Some(None),
        1 => Some(Some((date(input)?, date(input)?))),
        _ => None,
    }
}

/// Appends an agent's claims in a project, each figure exactly.
fn claim_sums(s: &ClaimSums, out: &mut Vec<u8>) {
    for d in s.figures() {
        put_decimal(out, d);
    }
}

/// Claims as [`claim_sums`] wrote them.
fn get_claim_sums(input: &mut &[u8]) -> Option<ClaimSums> {
    super::reports::claim_sums_read(input, decimal)
}

fn sums(s: &Sums, out: &mut Vec<u8>) {
    put_u64(out, s.count as u64);
    for d in [s.hours, s.amount, s.value] {
        put_decimal(out, d);
    }
}

/// Appends a decimal in a few bytes: its scale and sign, then its mantissa's two halves
/// (most figures are small, many are zero: a folder's part is written for every day of a
/// ledger, so its size is the cache's).
fn put_decimal(out: &mut Vec<u8>, d: Decimal) {
    put_u64(
        out,
        u64::from(d.scale()) << 1 | u64::from(d.is_sign_negative()),
    );
    let m = d.mantissa().unsigned_abs();
    put_u64(out, m as u64);
    put_u64(out, (m >> 64) as u64);
}

/// Reads what [`encode`] wrote into `to`; `None` if it does not parse (an id that is not
/// one, a number that is no decimal, bytes left over), maybe after handing `to` a part of
/// it (so `to` is then thrown away).
fn read(mut input: &[u8], to: &mut impl Sink) -> Option<()> {
    let input = &mut input;
    let id = |s: &str| Id::check(s).is_ok();
    for _ in 0..get_u64(input)? {
        let m = get_str(input)?;
        to.month(m, &get_sums(input)?);
    }
    for _ in 0..get_u64(input)? {
        let agent = get_str(input)?;
        let m = get_str(input)?;
        let s = get_sums(input)?;
        let held = decimal(input)?;
        if !id(agent) {
            return None;
        }
        to.member(agent, m, &s, held);
    }
    for _ in 0..get_u64(input)? {
        let project = get_str(input)?;
        let agent = get_str(input)?;
        let s = get_claim_sums(input)?;
        if !(id(project) && id(agent)) {
            return None;
        }
        to.claims(project, agent, &s);
    }
    for _ in 0..get_u64(input)? {
        let resource = get_str(input)?;
        let project = get_str(input)?;
        let hours = decimal(input)?;
        if !(id(resource) && id(project)) {
            return None;
        }
        to.uses(resource, project, hours);
    }
    if let Some(span) = get_span(input)? {
        to.span(span);
    }
    input.is_empty().then_some(())
}

fn get_sums(input: &mut &[u8]) -> Option<Sums> {
    Some(Sums {
        count: usize::try_from(get_u64(input)?).ok()?,
        hours: decimal(input)?,
        amount: decimal(input)?,
        value: decimal(input)?,
    })
}

/// A decimal as [`put_decimal`] wrote it; `None` for a scale or mantissa no decimal has.
fn decimal(input: &mut &[u8]) -> Option<Decimal> {
    let flags = get_u64(input)?;
    let low = u128::from(get_u64(input)?);
    let high = u128::from(get_u64(input)?);
    let m = i128::try_from(high << 64 | low).ok()?;
    let scale = u32::try_from(flags >> 1).ok()?;
    let mut d = Decimal::try_from_i128_with_scale(m, scale).ok()?;
    d.set_sign_negative(flags & 1 == 1);
    Some(d)
}

/// A date as [`encode`] wrote it (days since the Unix epoch).
fn date(input: &mut &[u8]) -> Option<NaiveDate> {
    let days = u32::try_from(get_u64(input)?).ok()?.cast_signed();
    NaiveDate::from_epoch_days(days)
}

/// A checkpoint as the cache keeps it: every figure exactly (scale and sign included), so
/// that adding resumed from it goes on as if it had never stopped.
fn encode_checkpoint(c: &Checkpoint) -> Vec<u8> {
    let mut out = Vec::new();
    put_u64(&mut out, c.months.len() as u64);
    for (m, s) in &c.months {
        put_str(&mut out, m);
        sums(s, &mut out);
    }
    put_u64(&mut out, c.members.len() as u64);
    for (agent, logged, months) in &c.members {
        put_str(&mut out, agent.as_str());
        sums(logged, &mut out);
        put_u64(&mut out, months.len() as u64);
        for (m, s, held) in months {
            put_str(&mut out, m);
            sums(s, &mut out);
            put_decimal(&mut out, *held);
        }
    }
    put_u64(&mut out, c.claims.len() as u64);
    for (project, agent, s) in &c.claims {
        put_str(&mut out, project.as_str());
        put_str(&mut out, agent.as_str());
        claim_sums(s, &mut out);
    }
    put_u64(&mut out, c.uses.len() as u64);
    for (resource, project, hours) in &c.uses {
        put_str(&mut out, resource.as_str());
        put_str(&mut out, project.as_str());
        put_decimal(&mut out, *hours);
    }
    put_span(c.span, &mut out);
    out
}

/// A checkpoint as [`encode_checkpoint`] wrote it; `None` when it does not read whole (an
/// id that is not one, a number that is no decimal, bytes left over).
fn decode_checkpoint(mut input: &[u8]) -> Option<Checkpoint> {
    let input = &mut input;
    let id = |input: &mut &[u8]| Id::parse(get_str(input)?).ok();
    let mut c = Checkpoint::default();
    for _ in 0..get_u64(input)? {
        c.months
            .push((get_str(input)?.to_owned(), get_sums(input)?));
    }
    for _ in 0..get_u64(input)? {
        let agent = id(input)?;
        let logged = get_sums(input)?;
        let mut months = Vec::new();
        for _ in 0..get_u64(input)? {
            let m = get_str(input)?.to_owned();
            months.push((m, get_sums(input)?, decimal(input)?));
        }
        c.members.push((agent, logged, months));
    }
    for _ in 0..get_u64(input)? {
        c.claims
            .push((id(input)?, id(input)?, get_claim_sums(input)?));
    }
    for _ in 0..get_u64(input)? {
        c.uses.push((id(input)?, id(input)?, decimal(input)?));
    }
    c.span = get_span(input)?;
    input.is_empty().then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part read back into its values.
    impl Sink for FolderPart {
        fn month(&mut self, month: &str, s: &Sums) {
            self.months.push((month.to_owned(), s.clone()));
        }
        fn member(&mut self, agent: &str, month: &str, logged: &Sums, held: Decimal) {
            let agent = Id::parse(agent).unwrap();
            self.members
                .push((agent, month.to_owned(), logged.clone(), held));
        }
        fn claims(&mut self, project: &str, agent: &str, s: &ClaimSums) {
            let (project, agent) = (Id::parse(project).unwrap(), Id::parse(agent).unwrap());
            self.claims.push((project, agent, s.clone()));
        }
        fn uses(&mut self, resource: &str, project: &str, hours: Decimal) {
            let (r, p) = (Id::parse(resource).unwrap(), Id::parse(project).unwrap());
            self.uses.push((r, p, hours));
        }
        fn span(&mut self, span: (NaiveDate, NaiveDate)) {
            self.span = Some(span);
        }
    }

    fn decode(bytes: &[u8]) -> Option<FolderPart> {
        let mut part = FolderPart::default();
        read(bytes, &mut part).map(|()| part)
    }

    #[test]
    fn a_part_reads_back_as_written_and_a_cut_one_does_not() {
        let id = |s: &str| Id::parse(s).unwrap();
        let s = Sums {
            count: 3,
            hours: Decimal::new(25, 1),
            amount: Decimal::new(1000, 2),
            value: Decimal::new(7, 0),
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let part = FolderPart {
            months: vec![("2026-03".into(), s.clone())],
            members: vec![(id("ana"), "2026-03".into(), s, Decimal::new(15, 1))],
            claims: vec![(
                id("p"),
                id("ana"),
                ClaimSums {
                    equity: Decimal::ONE,
                    debt_owed: Decimal::TWO,
                    debt_repaid: Decimal::ZERO,
                    debt_outstanding: Decimal::TWO,
                    once_pending: Decimal::TEN,
                },
            )],
            uses: vec![(id("printer"), id("p"), Decimal::new(6, 0))],
            span: Some((day, day)),
        };
        let mut bytes = Vec::new();
        encode(&part, &mut bytes);
        assert_eq!(decode(&bytes), Some(part));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
    }

    /// A checkpoint reads back as it was kept, every figure exactly; one cut short, with
    /// bytes left over, or naming an id that is not one does not read.
    #[test]
    fn a_checkpoint_reads_back_exactly_and_a_damaged_one_does_not() {
        let id = |s: &str| Id::parse(s).unwrap();
        let third = Decimal::ONE / Decimal::from(3);
        let s = Sums {
            count: 2,
            hours: Decimal::new(25, 1),
            amount: Decimal::new(1000, 2),
            value: third,
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let checkpoint = Checkpoint {
            months: vec![("2026-03".into(), s.clone())],
            members: vec![(
                id("ana"),
                s.clone(),
                vec![("2026-03".into(), s, Decimal::new(-15, 1))],
            )],
            claims: vec![(
                id("p"),
                id("ana"),
                ClaimSums {
                    equity: third,
                    ..ClaimSums::default()
                },
            )],
            uses: vec![(id("printer"), id("p"), Decimal::new(6, 0))],
            span: Some((day, day)),
        };
        let bytes = encode_checkpoint(&checkpoint);
        let back = decode_checkpoint(&bytes).unwrap();
        assert_eq!(back, checkpoint);
        assert_eq!(
            back.claims[0].2.equity.serialize(),
            third.serialize(),
            "scale and all"
        );
        for cut in 0..bytes.len() {
            assert_eq!(decode_checkpoint(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_checkpoint(&longer), None);
        let mut bad = encode_checkpoint(&checkpoint);
        let at = bad.windows(3).position(|w| w == b"ana").unwrap();
        bad[at] = b' ';
        assert_eq!(decode_checkpoint(&bad), None, "not an id");
    }

    #[test]
    fn decimals_read_back_exactly_scale_and_sign_included() {
        let mut negative_zero = Decimal::new(0, 3);
        negative_zero.set_sign_negative(true);
        for d in [
            Decimal::ZERO,
            Decimal::new(150, 2),
            Decimal::new(-7, 28),
            Decimal::MAX,
            Decimal::MIN,
            negative_zero,
        ] {
            let mut bytes = Vec::new();
            put_decimal(&mut bytes, d);
            let back = decimal(&mut bytes.as_slice()).unwrap();
            assert_eq!(back.serialize(), d.serialize(), "{d}");
        }
        // A scale past 28 or a mantissa past 96 bits is no decimal.
        for (flags, low, high) in [(29 << 1, 1, 0), (0, 0, 1 << 33)] {
            let mut bytes = Vec::new();
            for n in [flags, low, high] {
                put_u64(&mut bytes, n);
            }
            assert_eq!(decimal(&mut bytes.as_slice()), None);
        }
    }
}
