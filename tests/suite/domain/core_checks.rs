//! The pure core on inline ledgers (no git): checks that need more than one fixture file to
//! show, and properties of `load` itself.

use crate::common::inline::{on_base, raw};

use ovn::core::diag::Code;
use ovn::core::ledger::{self, RawFile};
use proptest::prelude::*;

/// The worked example with `extra` added (a file replaces the base's at its path).
fn files(extra: &[(&str, &str)]) -> Vec<RawFile> {
    on_base(raw(extra))
}

fn codes(extra: &[(&str, &str)]) -> Vec<(String, Code, String)> {
    ledger::load(&files(extra))
        .diagnostics
        .into_iter()
        .map(|d| (d.path, d.code, d.message))
        .collect()
}

const C: &str = "contributions/2026/03/20/01cccccccccccccccccccccc01.toml";
const C2: &str = "contributions/2026/03/20/01cccccccccccccccccccccc02.toml";

#[test]
fn the_base_ledger_is_clean() {
    let loaded = ledger::load(&files(&[]));
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    assert_eq!(loaded.ledger.agents.len(), 4);
    assert_eq!(loaded.ledger.contributions.len(), 5);
    assert_eq!(loaded.ledger.network.unwrap().currency, "EUR");
}

#[test]
fn a_misspelt_required_field_is_one_problem() {
    let text = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ana\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhourz = \"2\"\n";
    let found = codes(&[(C, text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::UnknownField);
    assert!(found[0].2.contains("`hours` is missing"), "{}", found[0].2);
}

#[test]
fn a_share_over_100_percent_is_one_problem() {
    let text = "id = \"x-ve\"\nname = \"X\"\n\n[[buckets]]\nname = \"all\"\nshare = \"110%\"\nto = \"ana\"\n";
    let found = codes(&[("agreements/x-ve.toml", text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::InvalidValue);
}

#[test]
fn an_owner_listed_twice_is_refused() {
    let text = "id = \"saw\"\nname = \"Saw\"\nownership = \"pooled\"\nowners = [\n  { agent = \"ana\", share = \"60%\" },\n  { agent = \"ana\", share = \"40%\" },\n]\n";
    let found = codes(&[("resources/saw.toml", text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::OwnerShares);
    assert!(found[0].2.contains("listed twice"));
}

#[test]
fn a_copied_agent_file_reports_its_id_and_the_shared_email() {
    let copy =
        "id = \"cy\"\nname = \"Cy Dubois\"\nkind = \"person\"\nemails = [\"cy@fablab.example\"]\n";
    let found: Vec<Code> = codes(&[("agents/dee.toml", copy)])
        .into_iter()
        .map(|c| c.1)
        .collect();
    assert_eq!(found, vec![Code::IdMismatch, Code::DuplicateEmail]);
}

#[test]
fn corrected_records_do_not_count_towards_the_day() {
    // ana already has 20 h on 2026-03-10; an 8 h record superseded by a 3 h one is fine.
    let day = "contributions/2026/03/10/";
    let eight = "id = \"01eeeeeeeeeeeeeeeeeeeeee01\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"8\"\n";
    let three = "id = \"01eeeeeeeeeeeeeeeeeeeeee02\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"3\"\nsupersedes = \"01eeeeeeeeeeeeeeeeeeeeee01\"\n";
    let p1 = format!("{day}01eeeeeeeeeeeeeeeeeeeeee01.toml");
    let p2 = format!("{day}01eeeeeeeeeeeeeeeeeeeeee02.toml");
    assert_eq!(codes(&[(&p1, eight)]).len(), 1, "28 h is too many");
    assert!(
        codes(&[(&p1, eight), (&p2, three)]).is_empty(),
        "23 h after the correction"
    );
    // `use` hours are the resource's, not the agent's.
    let use_ = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"use\"\ndescription = \"x\"\nresource = \"printer\"\nhours = \"20\"\n";
    assert!(codes(&[(&format!("{day}01cccccccccccccccccccccc01.toml"), use_)]).is_empty());
}

/// Agents and projects found once are not looked up again; a missing one is reported for
/// every record that names it, however many share its id.
#[test]
fn every_record_naming_a_missing_agent_is_reported() {
    let one = "id = \"01cccccccccccccccccccccc01\"\nagent = \"zed\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"1\"\n";
    let two = one.replace("cc01\"", "cc02\"");
    let mut unknown: Vec<String> = codes(&[(C, one), (C2, &two)])
        .into_iter()
        .filter(|f| f.1 == Code::UnknownReference)
        .map(|f| f.0)
        .collect();
    unknown.sort();
    assert_eq!(unknown, vec![C.to_owned(), C2.to_owned()]);
}

#[test]
fn exactly_24_hours_is_allowed() {
    let four = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"4\"\n";
    let path = "contributions/2026/03/10/01cccccccccccccccccccccc01.toml";
    assert!(codes(&[(path, four)]).is_empty());
    let more = four.replace("\"4\"", "\"4.0001\"");
    assert_eq!(codes(&[(path, &more)])[0].1, Code::DayOverflow);
}

#[test]
fn contributions_of_other_kinds_need_hours_or_an_amount() {
    let care = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ana\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"care\"\ndescription = \"Hosted the meetup\"\n";
    let found = codes(&[(C, care)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::MissingField);
    let with_hours = care.replace(
        "description = \"Hosted the meetup\"\n",
        "description = \"Hosted\"\nhours = \"3\"\n",
    );
    assert!(codes(&[(C, &with_hours)]).is_empty());
    let with_resource = format!("{with_hours}resource = \"printer\"\n");
    assert_eq!(codes(&[(C, &with_resource)])[0].1, Code::UnknownField);
}

#[test]
fn a_reversal_needs_no_amount_but_must_name_a_real_record() {
    let rev = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ben\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Wrong receipt\"\nreverses = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\n";
    assert!(codes(&[(C, rev)]).is_empty());
    let bad = rev.replace("01aaaaaaaaaaaaaaaaaaaaaaa4", "01zzzzzzzzzzzzzzzzzzzzzzz9");
    assert_eq!(codes(&[(C, &bad)])[0].1, Code::UnknownReference);
    let own = rev.replace("01aaaaaaaaaaaaaaaaaaaaaaa4", "01cccccccccccccccccccccc01");
    assert_eq!(codes(&[(C, &own)])[0].1, Code::InvalidValue);
}

#[test]
fn money_in_another_currency_follows_that_currency() {
    let yen = "id = \"01cccccccccccccccccccccc01\"\nagent = \"ben\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Parts from Japan\"\namount = \"1200.5\"\ncurrency = \"JPY\"\n";
    let found = codes(&[(C, yen)]);
    assert_eq!(found[0].1, Code::TooPrecise);
    assert!(
        found[0].2.contains("JPY amounts have no decimal places"),
        "{}",
        found[0].2
    );
    // With a whole amount and a rate (without one, `missing-rate`), nothing to say.
    let whole = yen.replace("1200.5", "1200") + "rate = \"0.0062\"\n";
    assert!(codes(&[(C, &whole)]).is_empty());
}

proptest! {
    /// The diagnostics of a ledger do not depend on the order its files are given in.
    #[test]
    fn load_is_order_independent(seed in any::<u64>()) {
        let bad = "id = \"01cccccccccccccccccccccc01\"\nagent = \"anna\"\ndate = 2026-03-21\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"2.123456\"\n";
        let bad2 = "id = \"01cccccccccccccccccccccc02\"\nagent = \"ben\"\ndate = 2026-03-20\nproject = \"drones\"\nkind = \"Work\"\ndescription = \"\"\n";
        let mut fs = files(&[(C, bad), (C2, bad2), ("agents/x.txt", "x")]);
        let reference = ledger::load(&fs).diagnostics;
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..fs.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            fs.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(ledger::load(&fs).diagnostics, reference);
    }
}

#[test]
fn a_misspelt_record_folder_is_reported_once() {
    let found = codes(&[
        ("Agents/dee.toml", "id = \"dee\"\nname = \"Dee\"\n"),
        ("Agents/eve.toml", "id = \"eve\"\nname = \"Eve\"\n"),
        ("contribution/x.toml", "x = 1\n"),
        ("docs/notes.md", "not a ledger folder, not a near miss"),
    ]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, "Agents/");
    assert!(
        found[0].2.contains("its 2 files are not read"),
        "{}",
        found[0].2
    );
    assert_eq!(found[1].0, "contribution/");
}

#[test]
fn escaped_forbidden_characters_are_caught_too() {
    let text = "id = \"dee\"\nname = \"Dee \\u202Eevil\"\n";
    let found = codes(&[("agents/dee.toml", text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::ForbiddenChar);
    assert!(found[0].2.contains("RIGHT-TO-LEFT OVERRIDE"));
}

#[test]
fn an_unsupported_format_stops_the_check() {
    let toml = "format = 2\nname = \"Fablab Commons\"\ncurrency = \"EUR\"\n";
    let found = codes(&[("ovn.toml", toml), ("agents/x.toml", "nonsense = true\n")]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].2.contains("format 2 is not supported"));
}

#[test]
fn a_rule_cap_needs_a_debt_claim() {
    let text = "id = \"x-ve\"\nname = \"X\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"money\"\ncap = \"1.2\"\n";
    let found = codes(&[("agreements/x-ve.toml", text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::InvalidAgreement);
    let debt = text.replace("share = \"rest\"\n", "share = \"rest\"\nclaim = \"debt\"\n");
    assert!(codes(&[("agreements/x-ve.toml", &debt)]).is_empty());
    let low = debt.replace("\"1.2\"", "\"0.9\"");
    assert_eq!(
        codes(&[("agreements/x-ve.toml", &low)])[0].1,
        Code::InvalidAgreement
    );
}

#[test]
fn a_bare_number_share_is_a_wrong_type() {
    let text =
        "id = \"x-ve\"\nname = \"X\"\n\n[[buckets]]\nname = \"all\"\nshare = 10\nto = \"ana\"\n";
    let found = codes(&[("agreements/x-ve.toml", text)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::WrongType);
}

#[test]
fn a_formula_that_does_not_parse_is_reported_where_it_fails() {
    let text = "id = \"x-ve\"\nname = \"X\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\nformula = \"hours * rat\"\n";
    let loaded = ledger::load(&files(&[("agreements/x-ve.toml", text)]));
    assert_eq!(loaded.diagnostics.len(), 1, "{:#?}", loaded.diagnostics);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.code, Code::InvalidAgreement);
    assert!(d.message.contains("unknown name `rat`"), "{}", d.message);
    let loc = d.locate(Some(text));
    assert_eq!((loc.line, loc.column), (10, 20));
    let zero = text.replace("hours * rat", "hours / 0");
    let loaded = ledger::load(&files(&[("agreements/x-ve.toml", &zero)]));
    assert!(loaded.diagnostics[0].message.contains("divides by zero"));
}

#[test]
fn a_rule_with_a_misspelt_skill_is_reported_but_a_new_skill_is_not() {
    let agreement = |skill: &str| {
        format!(
            "id = \"x-ve\"\nname = \"X\"\n\n[[buckets]]\nname = \"all\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\nskill = \"{skill}\"\n"
        )
    };
    let typo = agreement("electornics");
    let found = codes(&[("agreements/x-ve.toml", &typo)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::UnknownReference);
    assert!(found[0].2.contains("skill `electornics`"));
    // A skill nobody has logged yet, and that is no typo of one, is fine.
    assert!(codes(&[("agreements/x-ve.toml", &agreement("teaching"))]).is_empty());
}

#[test]
fn a_signed_approval_must_name_a_known_agent() {
    const AP: &str = "approvals/2026/11/24/01zzzzzzzzzzzzzzzzzzzzzzz1.toml";
    let approval = |by: &str| {
        format!(
            "id = \"01zzzzzzzzzzzzzzzzzzzzzzz1\"\nrecord = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\ndigest = \"sha256:{}\"\ndate = 2026-11-24\nby = \"{by}\"\nsignature = \"U1NIU0lHAAAAAQ==\"\n",
            "0".repeat(64)
        )
    };
    assert!(codes(&[(AP, &approval("cy"))]).is_empty());
    let found = codes(&[(AP, &approval("cyy"))]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, AP);
    assert_eq!(found[0].1, Code::UnknownReference);
    assert!(
        found[0].2.contains("`by` refers to unknown agent `cyy`"),
        "{}",
        found[0].2
    );
}

#[test]
fn corrections_that_loop_are_reported_once_but_a_chain_is_fine() {
    let c = |n: u8, extra: &str| {
        let id = format!("01cccccccccccccccccccccc0{n}");
        (
            format!("contributions/2026/03/20/{id}.toml"),
            format!(
                "id = \"{id}\"\nagent = \"ana\"\ndate = 2026-03-20\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"1\"\n{extra}"
            ),
        )
    };
    // A chain: 3 corrects 2, which corrects 1.
    let chain = [
        c(1, ""),
        c(2, "supersedes = \"01cccccccccccccccccccccc01\"\n"),
        c(3, "reverses = \"01cccccccccccccccccccccc02\"\n"),
    ];
    let refs: Vec<(&str, &str)> = chain
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    assert!(codes(&refs).is_empty(), "{:#?}", codes(&refs));
    // A loop of three, entered from a fourth record that corrects one of them.
    let looped = [
        c(1, "supersedes = \"01cccccccccccccccccccccc03\"\n"),
        c(2, "supersedes = \"01cccccccccccccccccccccc01\"\n"),
        c(3, "reverses = \"01cccccccccccccccccccccc02\"\n"),
        c(4, "supersedes = \"01cccccccccccccccccccccc05\"\n"),
        c(5, ""),
    ];
    let refs: Vec<(&str, &str)> = looped
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let found = codes(&refs);
    let loops: Vec<_> = found
        .iter()
        .filter(|f| f.1 == Code::CorrectionLoop)
        .collect();
    assert_eq!(loops.len(), 1, "{found:#?}");
    assert_eq!(loops[0].0, looped[0].0);
    assert!(
        loops[0].2.contains(
            "01cccccccccccccccccccccc01 supersedes 01cccccccccccccccccccccc03 reverses 01cccccccccccccccccccccc02 supersedes 01cccccccccccccccccccccc01"
        ),
        "{}",
        loops[0].2
    );
}
