//! The fast reader for canonical contributions (`core::fast`) against the full TOML reader:
//! whenever the fast reader accepts a text, the full reader reads exactly the same record
//! (every field and every span) with no diagnostic; and it does accept what `ovn` writes.
//! Texts are canonical records and near misses made by editing one byte of them.

use chrono::NaiveDate;
use ovn::core::bounds;
use ovn::core::diag::Diagnostic;
use ovn::core::fast;
use ovn::core::parse::{self, Settings};
use ovn::core::read::{self, Source};
use ovn::core::record::{At, Contribution, Kind};
use ovn::core::value::Id;
use ovn::core::write;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// What the full reader makes of `bytes`: the record and the problems found.
fn full(src: &Source<'_>, bytes: &[u8]) -> (Option<Contribution>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let record = parse::decode(src.path, bytes, &mut diags)
        .and_then(|text| parse::parse_toml(src.path, text, src.base, &mut diags))
        .and_then(|table| read::contribution(src, table, &mut diags));
    (record, diags)
}

/// The property: an accepted text reads the same both ways, spans included (`At`'s equality
/// ignores spans, its `Debug` does not).
fn agree(bytes: &[u8], minor_units: u32) -> bool {
    let settings = Settings {
        currency: "EUR".to_owned(),
        minor_units,
    };
    let src = Source {
        path: "contributions/x.toml",
        file: 7,
        base: parse::text_offset(bytes),
        settings: &settings,
    };
    let Some(fast) = fast::contribution(&src, bytes) else {
        return false;
    };
    let (slow, diags) = full(&src, bytes);
    let text = String::from_utf8_lossy(bytes);
    assert!(
        diags.is_empty(),
        "fast reader accepted a text the full reader questions:\n{text}\n{diags:#?}"
    );
    let slow = slow.expect("the full reader read no record");
    assert_eq!(
        format!("{fast:#?}"),
        format!("{slow:#?}"),
        "the readers differ on\n{text}"
    );
    true
}

fn id() -> impl Strategy<Value = At<Id>> {
    // Not every such string is an id: Windows' device names (`con`, `nul`, `com1`, ...) are
    // refused, and the pattern makes them now and then.
    "[a-z0-9][a-z0-9_-]{0,20}".prop_filter_map("a valid id", |s| Id::parse(&s).ok().map(At::new))
}

/// Free text: mostly plain, sometimes with what needs an escape (which the fast reader
/// leaves to the full one), blanks or non-ASCII letters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ,.'()-]{1,30}",
        1 => "[a-zA-Z0-9 \"\\\\\n\téüß€日本#=\\[\\]-]{0,30}",
    ]
    .prop_filter("non-empty", |s| !s.trim().is_empty())
}

/// A decimal with 0 to 7 places, sometimes zero (which the rules refuse).
fn decimal() -> impl Strategy<Value = Decimal> {
    (0i64..10_000_000, 0u32..=7).prop_map(|(m, s)| Decimal::new(m, s))
}

fn contribution() -> impl Strategy<Value = Contribution> {
    (
        (id(), id(), 2000i32..2100, 1u32..=365, id(), 0..6u8, text()),
        (
            decimal(),
            prop::option::of("[a-z][a-z0-9-]{0,12}"),
            decimal(),
            prop::option::of(decimal()),
            prop::option::of(text()),
            id(),
            prop::collection::vec(text(), 0..3),
            prop::option::of("[a-z][a-z0-9-]{0,8}"),
        ),
    )
        .prop_map(
            |(
                (id, agent, year, day, project, kind, description),
                (hours, skill, amount, quantity, unit, resource, evidence, other),
            )| {
                let date = NaiveDate::from_yo_opt(year, day).unwrap();
                let mut c = Contribution {
                    file: 7,
                    ..Contribution::new(id, agent, date, project, Kind::Work, description)
                };
                c.set_evidence(evidence);
                match kind {
                    0 => {
                        c.hours = Some(At::new(hours));
                        c.skill = skill;
                    }
                    1 => {
                        c.kind = Kind::Money;
                        c.amount = Some(amount);
                    }
                    2 => {
                        c.kind = Kind::Material;
                        c.amount = Some(amount);
                        c.set_quantity(quantity);
                        c.set_unit(unit);
                    }
                    3 => {
                        c.kind = Kind::Use;
                        c.resource = Some(resource);
                        c.hours = Some(At::new(hours));
                    }
                    4 => {
                        c.kind = Kind::from_word(other.as_deref().unwrap_or("care"));
                        c.hours = Some(At::new(hours));
                        c.skill = skill;
                    }
                    _ => {
                        // A shape the fast reader leaves alone: a correction in another currency.
                        c.kind = Kind::Money;
                        c.amount = Some(amount);
                        c.set_currency(Some("USD".to_owned()));
                        c.set_rate(Some(Decimal::new(9231, 4)));
                        c.set_reverses(Some(resource));
                    }
                }
                c
            },
        )
}

/// Whether the full reader would take `c`'s canonical text without a problem and the fast
/// reader is meant to take it too.
fn plainly_canonical(c: &Contribution, minor_units: u32) -> bool {
    // The writer escapes quotes, backslashes and control characters (tabs too).
    let plain = |s: &str| {
        !s.chars()
            .any(|ch| ch == '"' || ch == '\\' || ch.is_control())
    };
    // Positive, within the places and the largest value of the field (`core::bounds`).
    let places =
        |d: &Decimal, most: u32, max: Decimal| *d > Decimal::ZERO && d.scale() <= most && *d <= max;
    plain(&c.description)
        && c.evidence().iter().all(|e| plain(e))
        && c.unit().is_none_or(plain)
        && c.currency().is_none()
        && c.reverses().is_none()
        && c.hours
            .as_ref()
            .is_none_or(|h| places(&h.value, 4, bounds::MAX_HOURS))
        && c.amount
            .as_ref()
            .is_none_or(|a| places(a, minor_units, bounds::MAX_AMOUNT))
        && c.quantity()
            .as_ref()
            .is_none_or(|q| places(q, 6, bounds::MAX_QUANTITY))
}

const EDITS: &[&str] = &[
    "", " ", "\n", "\r\n", "\"", "\\", "#", "=", "0", "-", ".", "'", "[", "]", "x", "\t", "é",
    "\u{202E}", "\u{7}", "\u{FEFF}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonical_records_read_the_same_both_ways(c in contribution(), minor_units in 0u32..=3) {
        let text = write::contribution(&c);
        let accepted = agree(text.as_bytes(), minor_units);
        if plainly_canonical(&c, minor_units) {
            prop_assert!(accepted, "the fast reader refused what ovn writes:\n{}", text);
        }
    }

    #[test]
    fn edited_records_read_the_same_or_go_to_the_full_reader(
        c in contribution(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..3,
        edit in prop::sample::select(EDITS),
        minor_units in 0u32..=3,
    ) {
        let text = write::contribution(&c);
        let at = at.index(text.len() + 1);
        let mut bytes = text.as_bytes()[..at].to_vec();
        bytes.extend_from_slice(edit.as_bytes());
        bytes.extend_from_slice(&text.as_bytes()[(at + cut).min(text.len())..]);
        agree(&bytes, minor_units);
    }
}

#[test]
fn a_byte_order_mark_goes_to_the_full_reader() {
    let text = "\u{FEFF}id = \"a\"\nagent = \"ana\"\ndate = 2026-01-02\nproject = \"p\"\nkind = \"work\"\ndescription = \"d\"\nhours = \"2\"\n";
    assert!(!agree(text.as_bytes(), 2));
    assert!(agree(&text.as_bytes()[3..], 2));
}
