//! Networks of networks: revenue taken in from a line of another network's payout.
//!
//! A member network is an agent of kind `network` in the ledger that pays it; its own ledger
//! lives in another repository. What that ledger's payout pays it is, in the member's
//! ledger, a revenue event like any other (a payout record shared by a value equation), with
//! one more table, `[source]`, that pins where it came from: the paying ledger's commit, the
//! paying payout's id and digest, the line (by number, with its agent, bucket and amount)
//! and a digest of that line. Anyone with both repositories can then re-derive the line from
//! the paying ledger, and nobody can take the same line in twice without `ovn check`
//! saying so.
//!
//! Everything here is pure: choosing the line, the digests, comparing a pinned source with a
//! re-read one, reading and writing the `[source]` table, and the ledger-wide check. Reading
//! the other repository is `ops::incoming`'s business, through the store. The line digest
//! covers the paying payout's digest, so pinning the line also pins what the whole paying
//! payout was computed from; the receiving record's own digest is its ordinary inputs digest
//! sealed with the source ([`sealed`]), so a record without `[source]` keeps its digest.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::diag::{Code, Diagnostic};
use super::ledger::Ledger;
use super::parse::{DecimalRule, Fields, Need};
use super::record::{At, PaidLine, PayoutRecord};
use super::value::{Id, sha256_text};

/// Where an incoming revenue event came from: one line of a payout recorded in another
/// network's ledger (the `[source]` table of a payout record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The paying ledger's commit the payout was read at (40 hex digits).
    pub commit: String,
    /// The paying payout's id.
    pub payout: At<Id>,
    /// The line's number in the paying payout, from 1.
    pub line: At<u32>,
    /// The agent the line pays: this network, as the paying ledger names it.
    pub agent: Id,
    /// The bucket it was paid from.
    pub bucket: String,
    /// The line's amount (the revenue taken in).
    pub amount: Decimal,
    /// The paying payout's digest.
    pub digest: String,
    /// The digest of the line ([`line_digest`]).
    pub line_digest: String,
}

/// Why no line of a paying payout can be taken in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// No line pays the agent.
    NoLine,
    /// Several lines pay the agent: these numbers (from 1); `--line N` chooses.
    Several(Vec<u32>),
    /// The line asked for does not exist.
    OutOfRange(u32),
    /// The line asked for pays another agent.
    OtherAgent(u32, Id),
}

impl Pick {
    /// The message for payout `payout` and agent `agent`.
    pub fn text(&self, payout: &str, agent: &Id) -> String {
        match self {
            Pick::NoLine => format!("payout {payout} pays no line to `{agent}`"),
            Pick::Several(lines) => format!(
                "payout {payout} pays `{agent}` on lines {}: give --line N",
                lines
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Pick::OutOfRange(n) => format!("payout {payout} has no line {n}"),
            Pick::OtherAgent(n, other) => {
                format!("line {n} of payout {payout} pays `{other}`, not `{agent}`")
            }
        }
    }
}

/// The line of `paying` that pays `agent`: `line` (from 1) when given, else the only one.
pub fn pick<'p>(
    paying: &'p PayoutRecord,
    agent: &Id,
    line: Option<u32>,
) -> Result<(u32, &'p PaidLine), Pick> {
    if let Some(n) = line {
        let l = n
            .checked_sub(1)
            .and_then(|i| paying.lines.get(i as usize))
            .ok_or(Pick::OutOfRange(n))?;
        if l.agent.value != *agent {
            return Err(Pick::OtherAgent(n, l.agent.value.clone()));
        }
        return Ok((n, l));
    }
    let mut found = paying
        .lines
        .iter()
        .zip(1u32..)
        .filter(|(l, _)| l.agent.value == *agent);
    match (found.next(), found.next()) {
        (None, _) => Err(Pick::NoLine),
        (Some((l, n)), None) => Ok((n, l)),
        (Some((_, a)), Some((_, b))) => {
            let mut all = vec![a, b];
            all.extend(found.map(|(_, n)| n));
            Err(Pick::Several(all))
        }
    }
}

/// The `sha256:` digest of line `n` of `paying`: its number, agent, bucket and amount, with
/// the payout's id, currency and digest (so it pins what the whole payout came from).
pub fn line_digest(paying: &PayoutRecord, n: u32, line: &PaidLine) -> String {
    let text = format!(
        "ovn payout line v1\npayout {}\ndigest {}\ncurrency {}\nline {n}\nagent {}\nbucket {:?}\namount {}\n",
        paying.id.value,
        paying.digest,
        paying.currency,
        line.agent.value,
        line.bucket,
        line.amount.normalize()
    );
    sha256_text(&text)
}

/// The source pinning line `n` of `paying`, read at `commit` of the paying ledger.
pub fn source(paying: &PayoutRecord, n: u32, line: &PaidLine, commit: &str) -> Source {
    Source {
        commit: commit.to_owned(),
        payout: At::new(paying.id.value.clone()),
        line: At::new(n),
        agent: line.agent.value.clone(),
        bucket: line.bucket.clone(),
        amount: line.amount,
        digest: paying.digest.clone(),
        line_digest: line_digest(paying, n, line),
    }
}

/// The digest of a receiving payout record: its inputs digest (`base`, what
/// `core::payout::digest` gives) sealed with the source it takes in.
pub fn sealed(base: &str, s: &Source) -> String {
    sha256_text(&format!(
        "ovn incoming v1\n{base}\nsource {} {} {} {}\n",
        s.commit, s.payout.value, s.line.value, s.line_digest
    ))
}

/// What differs between the source a record pins (`pinned`) and the one re-read from the
/// paying ledger (`found`), one sentence each; empty when they agree.
pub fn differences(pinned: &Source, found: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: pinned {a}, paying ledger {b}"));
        }
    };
    differ("agent", pinned.agent.to_string(), found.agent.to_string());
    differ(
        "bucket",
        format!("{:?}", pinned.bucket),
        format!("{:?}", found.bucket),
    );
    differ(
        "amount",
        pinned.amount.normalize().to_string(),
        found.amount.normalize().to_string(),
    );
    differ("payout digest", pinned.digest.clone(), found.digest.clone());
    differ(
        "line digest",
        pinned.line_digest.clone(),
        found.line_digest.clone(),
    );
    out
}

/// The payout of `ledger` that took in line `line` of paying payout `payout` already.
pub fn taken_in<'l>(ledger: &'l Ledger, payout: &Id, line: u32) -> Option<&'l PayoutRecord> {
    ledger.payouts.iter().find(|p| {
        p.source
            .as_ref()
            .is_some_and(|s| s.payout.value == *payout && s.line.value == line)
    })
}

/// `ovn check`: one incoming line taken in by two payout records (on two branches merged
/// later, say) is one revenue event recorded twice (`duplicate-payout`).
pub fn check(ledger: &Ledger, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(&Id, u32), &str> = BTreeMap::new();
    for p in &ledger.payouts {
        let Some(s) = &p.source else { continue };
        let path = ledger.path(p.file);
        if let Some(first) = seen.insert((&s.payout.value, s.line.value), path) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicatePayout,
                    path,
                    Some(s.payout.span),
                    format!(
                        "line {} of payout {} of the paying network is already taken in by {first}",
                        s.line.value, s.payout.value
                    ),
                )
                .with_hint("an incoming line is one revenue event; remove one of the two records"),
            );
        }
    }
}

/// Reads the `[source]` table of a payout record, if it has one; `amount` is the payout's
/// own amount, which the line's must equal.
pub fn read(
    f: &mut Fields<'_, '_>,
    money: DecimalRule<'_>,
    amount: Option<&At<Decimal>>,
) -> Option<Source> {
    let table = f.table("source")?;
    let mut t = f.nested("source".to_owned(), table);
    let commit = t.text("commit", Need::Required("\"<40 hex digits>\""));
    let payout = t.id("payout", Need::Required("\"<payout id>\""));
    let line = t.integer("line", Need::Required("1"));
    let agent = t.id("agent", Need::Required("\"fablab\""));
    let bucket = t.text("bucket", Need::Required("\"members\""));
    let line_amount = t.decimal("amount", Need::Required("\"600.00\""), money);
    let digest = t.text("digest", Need::Required("\"sha256:...\""));
    let line_digest = t.text("line_digest", Need::Required("\"sha256:...\""));
    if let Some(c) = &commit
        && !is_lower_hex(&c.value, 40)
    {
        t.report(
            Code::InvalidValue,
            Some(c.span),
            "`commit` must be a full commit id (40 lowercase hex digits)".to_owned(),
            None,
        );
    }
    for d in [&digest, &line_digest].into_iter().flatten() {
        if !d
            .value
            .strip_prefix("sha256:")
            .is_some_and(|h| is_lower_hex(h, 64))
        {
            t.report(
                Code::InvalidValue,
                Some(d.span),
                "a digest is `sha256:` and 64 lowercase hex digits".to_owned(),
                None,
            );
        }
    }
    if let Some(n) = &line
        && n.value == 0
    {
        t.report(
            Code::InvalidValue,
            Some(n.span),
            "`line` counts from 1".to_owned(),
            None,
        );
    }
    if let (Some(l), Some(total)) = (&line_amount, amount)
        && l.value != total.value
    {
        t.report(
            Code::InvalidValue,
            Some(l.span),
            format!(
                "the incoming line pays {}, but the payout shares {}",
                l.value, total.value
            ),
            Some("a payout taking a line in shares exactly that line's amount".to_owned()),
        );
    }
    if !t.finish() {
        return None;
    }
    Some(Source {
        commit: commit?.value,
        payout: payout?,
        line: line?,
        agent: agent?.value,
        bucket: bucket?.value,
        amount: line_amount?.value,
        digest: digest?.value,
        line_digest: line_digest?.value,
    })
}

/// The `[source]` table's text, as the canonical writer puts it before the lines.
pub fn write(s: &Source) -> String {
    let quote = |v: &str| super::write::quote(v);
    let mut out = String::from("\n[source]\n");
    let _ = writeln!(out, "commit = {}", quote(&s.commit));
    let _ = writeln!(out, "payout = {}", quote(s.payout.value.as_str()));
    let _ = writeln!(out, "line = {}", s.line.value);
    let _ = writeln!(out, "agent = {}", quote(s.agent.as_str()));
    let _ = writeln!(out, "bucket = {}", quote(&s.bucket));
    let _ = writeln!(out, "amount = {}", quote(&s.amount.to_string()));
    let _ = writeln!(out, "digest = {}", quote(&s.digest));
    let _ = writeln!(out, "line_digest = {}", quote(&s.line_digest));
    out
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{self, RawFile};

    const COMMIT: &str = "4ccf833f990b4ccf833f990b4ccf833f990b0000";

    /// A network taking in line 2 of payout 01pa…1 (600.00 to `fablab`) as payout `id`.
    fn receiving(id: &str, bucket: &str) -> String {
        let paying = paying();
        let (n, l) = pick(&paying, &Id::parse("fablab").unwrap(), None).unwrap();
        let mut s = source(&paying, n, l, COMMIT);
        s.bucket = bucket.to_owned();
        format!(
            "id = \"{id}\"\nproject = \"lab\"\nagreement = \"lab-ve\"\ndate = 2026-12-01\n\
             amount = \"600.00\"\ncurrency = \"EUR\"\ncommit = \"{COMMIT}\"\n\
             digest = \"sha256:{}\"\nfollows = []\n{}\n[[lines]]\nagent = \"ana\"\n\
             bucket = \"equity\"\namount = \"600.00\"\n",
            "0".repeat(64),
            write(&s)
        )
    }

    fn files(payouts: &[(&str, String)]) -> ledger::Loaded {
        let mut files = vec![
            RawFile {
                path: "ovn.toml".into(),
                bytes: b"format = 1\nname = \"Fablab Commons\"\ncurrency = \"EUR\"\n".to_vec(),
            },
            RawFile {
                path: "agents/ana.toml".into(),
                bytes: b"id = \"ana\"\nname = \"Ana\"\n".to_vec(),
            },
            RawFile {
                path: "projects/lab.toml".into(),
                bytes: b"id = \"lab\"\nname = \"Lab\"\nagreement = \"lab-ve\"\n".to_vec(),
            },
            RawFile {
                path: "agreements/lab-ve.toml".into(),
                bytes: b"id = \"lab-ve\"\nname = \"Lab\"\n\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\n[[buckets.rules]]\nkind = \"work\"\n".to_vec(),
            },
        ];
        for (id, text) in payouts {
            files.push(RawFile {
                path: format!("payouts/2026/{id}.toml"),
                bytes: text.clone().into_bytes(),
            });
        }
        ledger::load(&files)
    }

    /// The paying payout: 300.00 to the fund, 600.00 to `fablab`, 100.00 to `fablab` again
    /// from another bucket only when `twice`.
    fn paying_with(twice: bool) -> PayoutRecord {
        let mut text = format!(
            "id = \"01pa0000000000000000000001\"\nproject = \"grants\"\nagreement = \"grants-ve\"\n\
             date = 2026-11-30\namount = \"{}\"\ncurrency = \"EUR\"\ncommit = \"{COMMIT}\"\n\
             digest = \"sha256:{}\"\nfollows = []\n\n[[lines]]\nagent = \"fund\"\n\
             bucket = \"alliance\"\namount = \"300.00\"\n\n[[lines]]\nagent = \"fablab\"\n\
             bucket = \"members\"\namount = \"600.00\"\n",
            if twice { "1000.00" } else { "900.00" },
            "1".repeat(64)
        );
        if twice {
            text.push_str(
                "\n[[lines]]\nagent = \"fablab\"\nbucket = \"bonus\"\namount = \"100.00\"\n",
            );
        }
        let loaded = files(&[("01pa0000000000000000000001", text)]);
        loaded.ledger.payouts[0].clone()
    }

    fn paying() -> PayoutRecord {
        paying_with(false)
    }

    #[test]
    fn the_line_is_the_one_paying_the_network_or_the_one_asked_for() {
        let fablab = Id::parse("fablab").unwrap();
        let one = paying();
        assert_eq!(pick(&one, &fablab, None).unwrap().0, 2);
        let two = paying_with(true);
        assert_eq!(
            pick(&two, &fablab, None).unwrap_err(),
            Pick::Several(vec![2, 3])
        );
        assert_eq!(pick(&two, &fablab, Some(3)).unwrap().0, 3);
        assert_eq!(
            pick(&two, &fablab, Some(1)).unwrap_err(),
            Pick::OtherAgent(1, Id::parse("fund").unwrap())
        );
        assert_eq!(
            pick(&two, &fablab, Some(0)).unwrap_err(),
            Pick::OutOfRange(0)
        );
        assert_eq!(
            pick(&two, &fablab, Some(9)).unwrap_err(),
            Pick::OutOfRange(9)
        );
        let other = Id::parse("repair-cafe").unwrap();
        assert_eq!(pick(&one, &other, None).unwrap_err(), Pick::NoLine);
        assert_eq!(
            Pick::Several(vec![2, 3]).text("01pa", &fablab),
            "payout 01pa pays `fablab` on lines 2, 3: give --line N"
        );
    }

    #[test]
    fn the_digests_pin_the_line_and_the_source() {
        let p = paying();
        let (n, l) = pick(&p, &Id::parse("fablab").unwrap(), None).unwrap();
        let s = source(&p, n, l, COMMIT);
        let mut more = l.clone();
        more.amount = Decimal::new(60001, 2);
        assert_ne!(line_digest(&p, n, l), line_digest(&p, n, &more));
        assert_ne!(line_digest(&p, n, l), line_digest(&p, 3, l));
        let base = format!("sha256:{}", "2".repeat(64));
        assert_ne!(sealed(&base, &s), base);
        let mut elsewhere = s.clone();
        elsewhere.line = At::new(3);
        assert_ne!(sealed(&base, &s), sealed(&base, &elsewhere));
        assert!(differences(&s, &s).is_empty());
        let mut found = s.clone();
        found.amount = Decimal::new(500, 0);
        assert_eq!(
            differences(&s, &found),
            vec!["amount: pinned 600, paying ledger 500".to_owned()]
        );
    }

    #[test]
    fn a_source_table_reads_back_as_written() {
        let loaded = files(&[(
            "01rc0000000000000000000001",
            receiving("01rc0000000000000000000001", "members"),
        )]);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let rec = &loaded.ledger.payouts[0];
        let s = rec.source.as_ref().expect("a source");
        assert_eq!(s.line.value, 2);
        assert_eq!(s.agent.as_str(), "fablab");
        let again = crate::core::write::payout(rec);
        assert_eq!(again, receiving("01rc0000000000000000000001", "members"));
    }

    #[test]
    fn a_source_amount_other_than_the_payouts_is_refused() {
        let text = receiving("01rc0000000000000000000001", "members")
            .replace("amount = \"600.00\"\ndigest", "amount = \"500.00\"\ndigest");
        let loaded = files(&[("01rc0000000000000000000001", text)]);
        assert!(
            loaded
                .diagnostics
                .iter()
                .any(|d| d.message.contains("the incoming line pays 500.00")),
            "{:?}",
            loaded.diagnostics
        );
    }

    #[test]
    fn one_line_taken_in_twice_is_a_duplicate() {
        let loaded = files(&[
            (
                "01rc0000000000000000000001",
                receiving("01rc0000000000000000000001", "members"),
            ),
            (
                "01rc0000000000000000000002",
                receiving("01rc0000000000000000000002", "members")
                    .replace("date = 2026-12-01", "date = 2026-12-02"),
            ),
        ]);
        let dups: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::DuplicatePayout)
            .collect();
        assert_eq!(dups.len(), 1, "{:?}", loaded.diagnostics);
        assert!(
            dups[0]
                .message
                .contains("line 2 of payout 01pa0000000000000000000001")
        );
        assert!(dups[0].path.ends_with("01rc0000000000000000000002.toml"));
        let id = Id::parse("01pa0000000000000000000001").unwrap();
        assert!(taken_in(&loaded.ledger, &id, 2).is_some());
        assert!(taken_in(&loaded.ledger, &id, 1).is_none());
    }
}
