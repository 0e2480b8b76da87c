//! Property tests with shrinking over hostile input: the record reader (arbitrary bytes, and
//! valid records with a few bytes changed), the formula parser (deep nesting, long sums) and
//! the rendering of hostile names. Nothing panics or overflows the stack; a file that is not
//! read as a record has a diagnostic naming it; what reaches a terminal or a markdown comment
//! holds no control, bidirectional or zero-width character and no markup.

#![allow(clippy::disallowed_methods)]

use crate::common;
use crate::common::inline::on_base;

use ovn::core::diag::{Code, Diagnostic};
use ovn::core::formula::{Formula, Inputs, MAX_FORMULA_DEPTH, MAX_FORMULA_LEN};
use ovn::core::ledger::{self, RawFile, RecordType};
use ovn::core::render;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// The base ledger's files, with `path` replaced by (or added as) `bytes`.
fn ledger_with(path: &str, bytes: Vec<u8>) -> Vec<RawFile> {
    on_base(vec![RawFile {
        path: path.to_owned(),
        bytes,
    }])
}

/// Loads the base ledger with `path` holding `bytes`: the file is either read as the record
/// its name says, or named by a diagnostic that can be located in its text.
fn reads_or_locates(path: &str, kind: RecordType, id: &str, bytes: Vec<u8>) {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let loaded = ledger::load(&ledger_with(path, bytes));
    let mine: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.path == path)
        .collect();
    for d in &mine {
        let loc = d.locate(Some(&text));
        assert!(loc.line >= 1 && loc.column >= 1);
        // Every renderer copes, on one line where it should.
        assert!(!render::short(d, &loc).contains('\n'));
        let _ = render::human(d, &loc);
        serde_json::to_string(&render::JsonDiagnostic::new(d, &loc)).unwrap();
    }
    let read = match kind {
        RecordType::Agent => loaded
            .ledger
            .agents
            .iter()
            .any(|a| a.id.value.as_str() == id),
        _ => loaded
            .ledger
            .contributions
            .iter()
            .any(|c| c.id.value.as_str() == id),
    };
    assert!(
        read || !mine.is_empty(),
        "neither read nor reported: {text:?}"
    );
}

const CONTRIBUTION: &str = "contributions/2026/03/10/01aaaaaaaaaaaaaaaaaaaaaaa1.toml";

/// One edit of a text: replace, insert or delete a byte.
fn edit() -> impl Strategy<Value = (u8, usize, u8)> {
    (0u8..3, any::<usize>(), any::<u8>())
}

fn apply(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, at, b) in edits {
        let at = at % (bytes.len() + 1);
        match op {
            0 if at < bytes.len() => bytes[at] = b,
            1 => bytes.insert(at, b),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

/// Pieces of formulas, hostile ones included.
fn formula_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "(",
        ")",
        "-",
        "+",
        "*",
        "/",
        "hours",
        "rate",
        "amount",
        "1",
        "0",
        "0.5",
        "min(",
        "max(",
        ",",
        " ",
        "x",
        "9999999999999999999999999999",
    ]);
    prop::collection::vec(token, 0..400).prop_map(|t| t.concat())
}

fn inputs() -> Inputs {
    Inputs {
        hours: Decimal::new(15, 1),
        amount: Decimal::new(1000, 0),
        quantity: Decimal::ZERO,
        rate: Some(Decimal::new(30, 0)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_as_a_record_are_read_or_reported(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        reads_or_locates("agents/dee.toml", RecordType::Agent, "dee", bytes.clone());
        reads_or_locates(CONTRIBUTION, RecordType::Contribution, "01aaaaaaaaaaaaaaaaaaaaaaa1", bytes);
    }

    #[test]
    fn valid_records_with_a_few_bytes_changed_are_read_or_reported(
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let base = common::BASE.iter().find(|(p, _)| *p == CONTRIBUTION).unwrap().1;
        let bytes = apply(base.as_bytes().to_vec(), &edits);
        reads_or_locates(CONTRIBUTION, RecordType::Contribution, "01aaaaaaaaaaaaaaaaaaaaaaa1", bytes);
        let agent = common::BASE.iter().find(|(p, _)| *p == "agents/ana.toml").unwrap().1;
        let bytes = apply(agent.as_bytes().to_vec(), &edits);
        reads_or_locates("agents/ana.toml", RecordType::Agent, "ana", bytes);
    }

    #[test]
    fn formulas_parse_within_their_limits_and_evaluate_without_panicking(
        text in formula_text(),
    ) {
        match Formula::parse(&text) {
            Ok(f) => {
                prop_assert!(text.len() <= MAX_FORMULA_LEN);
                let _ = f.eval(&inputs());
                let _ = f.uses_rate();
            }
            Err(e) => prop_assert!(e.at <= text.len().max(MAX_FORMULA_LEN)),
        }
    }

    #[test]
    fn nesting_is_refused_exactly_past_the_limit(
        depth in 0usize..200,
        open in prop::sample::select(vec![("(", ")"), ("-", ""), ("min(", ",1)"), ("-(", ")")]),
    ) {
        let text = format!("{}hours{}", open.0.repeat(depth), open.1.repeat(depth));
        let levels = depth * if open.0 == "-(" { 2 } else { 1 };
        let parsed = Formula::parse(&text);
        if text.len() > MAX_FORMULA_LEN {
            prop_assert!(parsed.is_err());
        } else {
            prop_assert_eq!(parsed.is_ok(), levels <= MAX_FORMULA_DEPTH, "{}", text);
        }
    }

    #[test]
    fn a_formula_in_an_agreement_is_checked_not_crashed_on(text in formula_text()) {
        let path = "agreements/drone-ve.toml";
        let base = common::BASE.iter().find(|(p, _)| *p == path).unwrap().1;
        let hostile = base.replace(
            "[[buckets.rules]]\nkind = \"work\"\n",
            &format!("[[buckets.rules]]\nkind = \"work\"\nformula = \"{text}\"\n"),
        );
        let loaded = ledger::load(&ledger_with(path, hostile.into_bytes()));
        if Formula::parse(&text).is_err() {
            // Located: an empty formula is an `invalid-value`, the rest `invalid-agreement`.
            prop_assert!(loaded.diagnostics.iter().any(|d| d.path == path && d.span.is_some()));
        }
    }

    #[test]
    fn hostile_names_render_escaped(name in "\\PC*|[\\x00-\\x1f\\x7f\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{feff}a/.|<>\\[\\]`*_\\\\]{0,40}") {
        let shown = render::escaped(&name);
        let bad = |c: char| {
            c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        };
        prop_assert!(!shown.chars().any(bad), "{:?}", shown);
        let d = Diagnostic::new(Code::StrayFile, &name, None, format!("about {name}"));
        let loc = d.locate(None);
        let short = render::short(&d, &loc);
        prop_assert!(!short.chars().any(bad), "{:?}", short);
        let human = render::human(&d, &loc);
        prop_assert!(!human.chars().any(|c| c != '\n' && bad(c)), "{:?}", human);
        let json = serde_json::to_string(&render::JsonDiagnostic::new(&d, &loc)).unwrap();
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back["path"].as_str().unwrap(), shown.as_str());
        let md = ovn::cli::render::markdown::text(&name);
        prop_assert!(!md.chars().any(|c| bad(c) || c == '<' || c == '>'), "{:?}", md);
        // Every markup character is escaped by a backslash that is not itself escaped.
        let chars: Vec<char> = md.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '\\' {
                i += 2;
                continue;
            }
            prop_assert!(!"[]`*_|".contains(chars[i]), "{:?} in {:?}", chars[i], md);
            i += 1;
        }
        let code = ovn::cli::render::markdown::code(&name);
        prop_assert!(!code.chars().any(|c| bad(c) || c == '\n'), "{:?}", code);
    }
}
