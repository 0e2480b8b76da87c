//! Every cache key, built here and nowhere else.
//!
//! A cache may only hand back what a fresh computation would give, so a key must name
//! everything its entry depends on. Keeping every key in one module makes that a list one
//! can read and check, as cargo's fingerprints do: when something new starts to shape a
//! cached value, the key that must name it is here, beside the others.
//!
//! Every file-level key starts with [`KEY_PREFIX`] (the `ovn` version and the cache's
//! generation), and every entry holds its full key and is compared against it on read, so a
//! key that changes only costs misses. What each key depends on:
//!
//! | entry (under `.git/ovn/cache/`) | key | depends on |
//! |---|---|---|
//! | parsed day folder (`xx/…`) | [`folder`] | version, codec version, record type, folder path, folder tree id, `ovn.toml` blob id |
//! | a month's summaries (`summaries/`) | [`summaries`] | version, codec and summary format versions, month path, `ovn.toml` blob id |
//! | one day's summary, inside it | [`day`] | folder path, folder tree id |
//! | a month's picks (`picks/`) | [`picks`] | version, codec version, month path, `ovn.toml` blob id, projects asked (sorted) |
//! | one day's pick, inside it | [`day`] | folder path, folder tree id |
//! | a stored answer (`answers/`) | [`answer`] | version, the ledger's place in the repository, the command and its parsed arguments (and the day for a payout preview), each revision named and the commit it resolved to (and `HEAD`'s) |
//! | a month's report parts (`reports/`) | [`report_month`] | version, month path, a digest of the ledger's non-contribution entries, the query and `--by` |
//! | one day's report part, inside it | [`report_day`] | folder path, folder tree id, the correction targets its records may hold |
//! | a month's claims report parts (`reports/`) | [`claims_month`] | version, month path, a digest of the ledger's non-contribution entries (agreements, rates, payouts, ...), the query (projects, agents, dates) |
//! | one day's claims part, inside it | [`report_day`] | as a report part's |
//! | a month's resources report parts (`reports/`) | [`resources_month`] | version, month path, a digest of the ledger's non-contribution entries, the query (projects, agents, dates) |
//! | one day's resources part, inside it | [`report_day`] | as a report part's |
//! | a month's book parts (`reports/`) | [`books_month`] | version, month path, a digest of the ledger's non-contribution entries (`ovn.toml`, agents, agreements, rates, payouts, ...), the syntax (journal or beancount), `--hours`, the query (projects, dates) |
//! | one day's book part, inside it | [`report_day`] | as a report part's (the hours' places and beancount's names each part records, and is used only where they fit) |
//! | a month's site parts (`reports/`) | [`site_month`] | version, month path, a digest of the ledger's non-contribution entries (agents, projects, agreements, rates, payouts, ...); counted only when no approvals are asked under the rules in force |
//! | one day's site part, inside it | [`report_day`] | as a report part's |
//! | a site checkpoint (`checkpoints/`) | [`site_checkpoint`] | version, a digest of the ledger's non-contribution entries and of the part key (folder path, tree id, correction targets) of every day folder added before it, in path order |
//! | a claims report's checkpoint (`checkpoints/`) | [`claims_checkpoint`] | as a site checkpoint's, and the query |
//! | a month's ValueFlows parts (`reports/`) | [`valueflows_month`] | version, month path, a digest of the ledger's non-contribution entries (`ovn.toml`, agents, resources, approvals, ...), the query (projects, agents, dates) |
//! | one day's ValueFlows part, inside it | [`valueflows_day`] | folder path, folder tree id, each correction's target with the path and tree id of every folder that may hold it |
//! | payout totals (`totals/`) | [`totals`] | version, commit id, project, amount |
//! | the small records outside day folders (`blobs/`) | [`blobs`] | version (each blob under its id, used only when its bytes hash to it: git ids pin content) |
//! | what the last working-tree read saw (`worktree/`) | [`worktree_memory`] | version, the ledger's root on disk and place in the repository (it holds each day folder's `lstat` digest and the tree id its files hashed to, and the `core.fsmonitor` token) |
//! | a working-tree answer (`answers/`) | [`worktree_answer`] | version, the ledger's root on disk and place in the repository, the question, the working tree's stamp (`lstat` data of every file read) |
//! | a `check --staged` answer (`answers/`) | [`staged_answer`] | version, the ledger's place in the repository, the question, the stamp of git's index file (its path and `lstat` data) and HEAD's commit id |
//! | the digest of an index file (`index/`): a split index's shared part, or a whole index with no shared part | [`shared_index`] | version, the ledger's place in the repository, the file's checksum (a shared part's name; git never changes such a file, and writes any other change to a new file with a checksum of its own) |
//!
//! Commit and tree ids pin content (git objects are content-addressed), which is why so few
//! things need naming. On-disk names are [`file_name`]s of the keys: a hash collision can
//! only cost a miss, because the entry's own copy of the key is compared.

use std::fmt::Debug;

use git2::Oid;
use rust_decimal::Decimal;

use crate::core::codec;
use crate::core::ledger::RecordType;
use crate::core::value::hex;

/// What every file-level cache key starts with: the `ovn` version and the cache's own
/// generation. Builds of one version can still differ in what an answer says (new checks,
/// new notes, new fields), so the generation is bumped with any change to what a cached
/// folder, summary, pick, total, report part or answer means, and an older build's entries
/// are misses. Generation 2: payout lines, corrections, bounds, governance and
/// hostile-content checks. Generation 3: tables without trailing spaces, the validated
/// branch read from its upstream, advice for a `rest` bucket with nothing to pay.
/// Generation 4: a rule's misspelt kind, claims taken by two buckets, review's hours after
/// corrections; payment records (`payments/`) are read and checked.
/// Generation 5: both of generation 4's changes together (each had been built as 4 alone).
/// Generation 6: agents of kind `network`, payouts taking revenue in (`[source]`) and the
/// check that a line is taken in once.
/// Generation 7: both of generation 6's changes together (each had been built as 6 alone):
/// sub-payouts (a line paying a project is neither owed nor counted twice).
/// Generation 8: a contribution's exchange `rate`, and exchange rate records (`rates/`).
/// Generation 9: a missing exchange rate is an error of `ovn check` (`missing-rate`); the
/// payout totals a review keeps for a project paying projects are its whole cascade's.
/// Generation 10: a payout record may hold 8 MiB (other ledger files 64 KiB), so a payout
/// record between the two is read, no longer a `too-large` problem.
pub const KEY_PREFIX: &str = concat!("ovn ", env!("CARGO_PKG_VERSION"), " cache 10");

/// The key of a parsed day folder: its record type, path (`contributions/2026/03/05`) and
/// tree id, and the blob id of `ovn.toml` (whose settings shape parsing).
pub fn folder(kind: RecordType, folder: &str, tree: Oid, settings: Oid) -> String {
    format!(
        "{} codec {} {} {} tree {} settings {}",
        KEY_PREFIX,
        codec::VERSION,
        kind.folder(),
        folder,
        tree,
        settings
    )
}

/// The key of the file holding the summaries of the day folders of `month`
/// (`contributions/2026/03`), read with the settings `settings`.
pub fn summaries(month: &str, settings: Oid) -> String {
    format!(
        "{} codec {} summaries {} {month} settings {settings}",
        KEY_PREFIX,
        codec::VERSION,
        crate::core::summary::FORMAT
    )
}

/// The key of one day folder's part (its summary, or its pick) in its month's file.
pub fn day(folder: &str, tree: Oid) -> String {
    format!("{folder} {tree}")
}

/// The key of the file holding what quick loads picked from the day folders of `month` for
/// `scope` (the projects asked, sorted and joined), read with the settings `settings`. Each
/// part is one folder's pick, under [`day`].
pub fn picks(month: &str, settings: Oid, scope: &str) -> String {
    format!(
        "{} codec {} picks {month} settings {settings} scope {scope}",
        KEY_PREFIX,
        codec::VERSION,
    )
}

/// The question part of an answer's key: the subcommand and its parsed arguments, as
/// `Debug` prints them (every flag that can change an answer is a field of `args`).
pub fn question(command: &str, args: &impl Debug) -> String {
    format!("{command} {args:?}")
}

/// [`question`] for a question whose answer also depends on the day it is asked (a payout
/// preview is dated today unless `--date` says otherwise).
pub fn dated_question(command: &str, args: &impl Debug, day: impl std::fmt::Display) -> String {
    format!("{} on {day}", question(command, args))
}

/// The key of a stored answer: the ledger's place in the repository (`prefix`), the
/// question, and each revision named with the commit it resolved to (`pinned`, in order).
pub fn answer(prefix: &str, question: &str, pinned: &[(&str, Oid)]) -> String {
    let mut key = format!("{KEY_PREFIX} answer 1\nledger {prefix:?}\n{question}\n");
    for (rev, commit) in pinned {
        key.push_str(&format!("rev {rev:?} = {commit}\n"));
    }
    key
}

/// The key of an answer about the working tree: the ledger's root on disk (`root`) and
/// place in the repository (`prefix`), the question, and the working tree's stamp (a digest
/// of the `lstat` data of every entry read, which pins what they hold as a commit id would).
pub fn worktree_answer(root: &str, prefix: &str, question: &str, stamp: &[u8; 32]) -> String {
    let stamp = hex(stamp);
    format!(
        "{KEY_PREFIX} worktree answer 1\nroot {root:?}\nledger {prefix:?}\n{question}\nstamp {stamp}\n"
    )
}

/// The key of a stored `ovn check --staged` answer (see `staged`): the ledger's place in
/// the repository (`prefix`), the question, and the stamp of git's index file and HEAD.
pub fn staged_answer(prefix: &str, question: &str, stamp: &[u8; 32]) -> String {
    let stamp = hex(stamp);
    format!("{KEY_PREFIX} staged answer 1\nledger {prefix:?}\n{question}\nstamp {stamp}\n")
}

/// The key of the digest of an index file (see `staged`): a split index's shared part, or
/// a whole index with no shared part. The file's checksum pins its content, and the
/// ledger's place in the repository (`prefix`) decides which entries are its day folders.
pub fn shared_index(prefix: &str, shared: Oid) -> String {
    format!("{KEY_PREFIX} shared index 1\nledger {prefix:?}\nshared {shared}\n")
}

/// The key of a site checkpoint (see `site`): a digest of the ledger's non-contribution
/// entries and of the key of every day folder's part added before it, in order (each part
/// key names the folder's path and tree id and the correction targets it may hold), which
/// pins every figure the checkpoint holds.
pub fn site_checkpoint(chain: &[u8; 32]) -> String {
    let chain = hex(chain);
    format!("{KEY_PREFIX} site checkpoint 1\nchain {chain}\n")
}

/// The key of a claims report's checkpoint: every sum by project and agent as it stands
/// after the day folders' parts up to a month's end, for `query`. `chain` is as a site
/// checkpoint's ([`site_checkpoint`]): the ledger's non-contribution entries and every part
/// key added before it, in order; with the query (which the parts were counted for) it pins
/// every sum.
pub fn claims_checkpoint(chain: &[u8; 32], query: &impl Debug) -> String {
    let chain = hex(chain);
    format!("{KEY_PREFIX} claims checkpoint 1\nchain {chain}\nquery {query:?}\n")
}

/// The key of what the last read of a working tree saw (see `worktree`): the ledger's root
/// on disk (`root`) and place in the repository (`prefix`). What it holds is checked against
/// the tree each time, so nothing else needs naming.
pub fn worktree_memory(root: &str, prefix: &str) -> String {
    format!("{KEY_PREFIX} worktree memory 1\nroot {root:?}\nledger {prefix:?}\n")
}

/// The key of the file of a month's report parts: the month, the ledger's entries other
/// than contributions (`context`, a digest), the query and the grouping.
pub fn report_month(month: &str, context: &str, query: &impl Debug, by: &impl Debug) -> String {
    format!("{KEY_PREFIX} report contributions {month} {context} {query:?} {by:?}")
}

/// The key of the file of a month's claims report parts (the claims of each day folder by
/// project and agent): the month, the ledger's entries other than contributions (`context`,
/// a digest: agreements, rates and the payouts that repaid claims fix every claim) and the
/// query (its `until` dates the claims, its projects and dates select them).
pub fn claims_month(month: &str, context: &str, query: &impl Debug) -> String {
    format!("{KEY_PREFIX} report claims 2 {month} {context} {query:?}")
}

/// The key of the file of a month's resources report parts (each day folder's hours of use
/// by resource and project): the month, the ledger's entries other than contributions
/// (`context`, a digest) and the query (its projects and dates select the uses).
pub fn resources_month(month: &str, context: &str, query: &impl Debug) -> String {
    format!("{KEY_PREFIX} report resources 1 {month} {context} {query:?}")
}

/// The key of the file of a month's book parts (the journal text of each day folder's
/// contributions): the month, the ledger's entries other than contributions (`context`, a
/// digest: the currency and minor unit, agreements, rates and repaying payouts fix every
/// entry), the syntax (`beancount`, else hledger's and ledger-cli's shared one), `--hours`,
/// and the query (its projects and dates select the entries, its `until` dates the claims).
pub fn books_month(
    month: &str,
    context: &str,
    beancount: bool,
    hours: bool,
    query: &impl Debug,
) -> String {
    let syntax = if beancount { "beancount" } else { "journal" };
    format!("{KEY_PREFIX} books {syntax} hours {hours} {month} {context} {query:?}")
}

/// The key of the file of a month's site parts (what each day folder adds to `ovn site`:
/// sums by month and member, claims by project and holder, use of resources): the month and
/// the ledger's entries other than contributions (`context`, a digest: agreements, rates and
/// repaying payouts fix every claim; the currency which amounts count). The page has no
/// filters. Parts are counted only when the network asks for no approvals under the rules
/// in force (the caller's condition), so what approvals say is not part of them.
pub fn site_month(month: &str, context: &str) -> String {
    format!("{KEY_PREFIX} site {month} {context}")
}

/// The key of the file of a month's ValueFlows parts (the JSON-LD of each day folder's
/// contributions): the month, the ledger's entries other than contributions (`context`, a
/// digest: `ovn.toml` fixes the currency and the fund providing a commons' use, resources
/// their owners, approvals what follows each event), and the query (projects, agents and
/// dates select the contributions). The base URI is not named: parts write ids under
/// `ledger:`, which only the document's head maps to it.
pub fn valueflows_month(month: &str, context: &str, query: &impl Debug) -> String {
    format!("{KEY_PREFIX} valueflows 2 {month} {context} {query:?}")
}

/// The key of one day folder's ValueFlows part: the folder, its tree id, and for each
/// correction among its records the record it names with the path and tree id of every
/// folder that may hold it (`corrects`, sorted): a back-out repeats the corrected record's
/// quantities.
pub fn valueflows_day(folder: &str, tree: Oid, corrects: &[&str]) -> String {
    format!("{folder} {tree} corrects {}", corrects.join(","))
}

/// The key of one day folder's report part: the folder, its tree id, and the correction
/// targets its records may hold (sorted), which decide which of them count.
pub fn report_day(folder: &str, tree: Oid, corrected: &[&str]) -> String {
    format!("{folder} {tree} corrected {}", corrected.join(","))
}

/// The key of the payout totals of `project` for `amount` at `commit`.
pub fn totals(commit: Oid, project: &str, amount: Decimal) -> String {
    format!("{KEY_PREFIX} payout totals at {commit} project {project} amount {amount}")
}

/// The key of the one file of small records kept by blob id (see `cache::blobs`): each
/// part is a blob, named by its id, which its bytes must hash to when read back.
pub fn blobs() -> String {
    format!("{KEY_PREFIX} small records by blob id")
}

/// An entry's file name: 40 hex digits of the SHA-256 of its full key (which the entry also
/// holds and is checked against, so a collision could only cost a miss).
pub fn file_name(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(key.as_bytes());
    hex(&hash[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_key_starts_with_the_prefix() {
        let id = Oid::ZERO_SHA1;
        let keys = [
            folder(RecordType::Contribution, "contributions/2026/03/05", id, id),
            summaries("contributions/2026/03", id),
            picks("contributions/2026/03", id, "air"),
            answer("", "check x", &[("HEAD", id)]),
            worktree_answer("/l", "", "check x", &[0; 32]),
            report_month("contributions/2026/03", "d", &1, &2),
            claims_month("contributions/2026/03", "d", &1),
            books_month("contributions/2026/03", "d", true, false, &1),
            site_month("contributions/2026/03", "d"),
            valueflows_month("contributions/2026/03", "d", &1),
            totals(id, "air", Decimal::new(100, 0)),
        ];
        for key in keys {
            assert!(key.starts_with(KEY_PREFIX), "{key}");
        }
    }

    #[test]
    fn an_answer_key_names_each_revision_and_its_commit() {
        let id = Oid::ZERO_SHA1;
        assert_eq!(
            answer("sub", "report X", &[("main", id), ("HEAD", id)]),
            format!(
                "{KEY_PREFIX} answer 1\nledger \"sub\"\nreport X\nrev \"main\" = {id}\nrev \"HEAD\" = {id}\n"
            )
        );
    }
}
