//! `ovn import` end to end. CSV: the default header, a column mapping, the dry run, every bad
//! row reported as FILE:ROW:COLUMN with nothing written, one commit for all rows, and a
//! second import of the same file adding nothing. ValueFlows: an hREA GraphQL answer and a
//! JSON-LD graph in the ValueFlows examples' shape, bad nodes named by their JSON path with
//! nothing written, and export, import into a fresh ledger, export giving the same document.

use std::path::Path;

use crate::common::{Sandbox, base_repo, commit_count, fablab_repo, ok, run, snapshot};

#[test]
fn a_file_is_imported_in_one_commit_once() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    // The money row needs an amount column.
    let file = s.work().join("hours.csv");
    std::fs::write(
        &file,
        "date,agent,hours,description,project,kind,amount\n2026-03-02,ana,2.5,Soldered the board,drone,work,\n2026-03-02,ben,1h30m,\"Tested, then flew\",drone,,\n2026-03-03,ben,,Bought props,drone,money,35.5\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let commits = commit_count(&s, &dir);
    let before = snapshot(&dir);
    let dry = ok(&s, &dir, &["import", "csv", f, "--dry-run"]);
    assert!(
        dry.starts_with(&format!(
            "Would import 3 new contributions from {f} (0 already in the ledger):\n  {f}:2: contributions/2026/03/02/"
        )),
        "{dry}"
    );
    assert!(dry.contains(": ben 35.50 EUR money on drone\n"), "{dry}");
    assert_eq!(commit_count(&s, &dir), commits);
    crate::common::assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);

    let done = ok(&s, &dir, &["import", "csv", f]);
    assert!(
        done.starts_with(&format!(
            "Imported 3 new contributions from {f} (0 already in the ledger), commit "
        )),
        "{done}"
    );
    assert_eq!(commit_count(&s, &dir), commits + 1);
    let files = s.git(&dir, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().count(), 3, "{files}");
    ok(&s, &dir, &["check"]);
    // The records are what `ovn log` would write.
    let ben = s.git(
        &dir,
        &[
            "grep",
            "-h",
            "-A1",
            "Tested, then flew",
            "HEAD",
            "--",
            "contributions",
        ],
    );
    assert!(ben.contains("hours = \"1.5\""), "{ben}");

    // Again: nothing new, no commit.
    let again = ok(&s, &dir, &["import", "csv", f]);
    assert_eq!(
        again,
        format!("Nothing to import: 0 new contributions from {f} (3 already in the ledger)\n")
    );
    assert_eq!(commit_count(&s, &dir), commits + 1);
    // A file with one more row adds that row only.
    std::fs::write(
        &file,
        std::fs::read_to_string(&file).unwrap() + "2026-03-04,ana,1,Wrote the docs,drone,,\n",
    )
    .unwrap();
    let more = ok(&s, &dir, &["import", "csv", f]);
    assert!(
        more.starts_with(&format!("Imported 1 new contribution from {f} (3 already")),
        "{more}"
    );
}

#[test]
fn identical_rows_are_two_contributions() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("twice.csv");
    std::fs::write(
        &file,
        "date,agent,hours,description\n2026-03-05,ana,1,Cleaned the lab\n2026-03-05,ana,1,Cleaned the lab\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = ok(&s, &dir, &["import", "csv", f, "-p", "drone"]);
    assert!(out.starts_with("Imported 2 new contributions"), "{out}");
    let out = ok(&s, &dir, &["import", "csv", f, "-p", "drone"]);
    assert!(out.starts_with("Nothing to import"), "{out}");
}

#[test]
fn a_column_mapping_reads_a_time_tracker_export() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("toggl.csv");
    std::fs::write(
        &file,
        "User,Start date,Duration,Description,Tags\ncy,2026-03-06,1:15,Printed spare arms,x\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = ok(
        &s,
        &dir,
        &[
            "import",
            "csv",
            f,
            "--column",
            "agent=user",
            "--column",
            "date=Start date",
            "--column",
            "hours=Duration",
            "-p",
            "drone",
        ],
    );
    assert!(out.starts_with("Imported 1 new contribution"), "{out}");
    let (code, _, err) = run(&s, &dir, &["import", "csv", f]);
    assert_eq!(code, 2);
    assert!(err.contains("no column for `date`"), "{err}");
    let (code, _, err) = run(&s, &dir, &["import", "csv", f, "--column", "wage=User"]);
    assert_eq!(code, 2);
    assert!(err.contains("`wage` is not a field"), "{err}");
}

#[test]
fn every_bad_row_is_reported_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("bad.csv");
    std::fs::write(
        &file,
        "date,agent,hours,description,project\n2026-03-02,ana,2,Fine row,drone\n2026-13-02,nobody,25,x,drone\n2026-03-02,ana,abc,,dron\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let commits = commit_count(&s, &dir);
    let before = snapshot(&dir);
    let (code, out, err) = run(&s, &dir, &["import", "csv", f]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "\
{f}:3:1: date \"2026-13-02\" is not a date (write YYYY-MM-DD)
{f}:3:2: no agent `nobody` in the ledger
{f}:3:3: hours \"25\" are not more than 0 and at most 24 hours (2.5, 2h30m or 1:30)
{f}:4:3: hours \"abc\" are not more than 0 and at most 24 hours (2.5, 2h30m or 1:30)
{f}:4:4: the description is empty
{f}:4:5: no project `dron` in the ledger
error: nothing written: 6 problems in {f}
"
        )
    );
    assert_eq!(commit_count(&s, &dir), commits);
    crate::common::assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);
    // Rows fine on their own but too many hours together on one day: the ledger's checks
    // judge them all, and the rows are named.
    std::fs::write(
        &file,
        "date,agent,hours,description,project\n2026-03-02,ana,20,Long day,drone\n2026-03-02,ana,20,Longer day,drone\n",
    )
    .unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "csv", f]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(&format!("{f}:2: contributions/2026/03/02/")),
        "{err}"
    );
    assert!(err.contains("day-overflow"), "{err}");
    assert_eq!(commit_count(&s, &dir), commits);
}

#[test]
fn hostile_files_are_refused_cleanly() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("x.csv");
    std::fs::write(&file, b"date,agent,description\n\xff\xfe,ana,x\n").unwrap();
    let f = file.to_str().unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "csv", f]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not UTF-8"), "{err}");
    std::fs::write(&file, "date,agent,description\n\"2026-03-02,ana,x\n").unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "csv", f]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{f}:2:1: a quoted field is never closed")),
        "{err}"
    );
    let (code, _, err) = run(&s, &dir, &["import", "csv", "/no/such/file.csv"]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn hledger_timeclock_and_timedot() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let clock = s.work().join("work.timeclock");
    std::fs::write(
        &clock,
        "; ana's week\ni 2026/03/02 09:00:00 drone  Wired the board\no 2026/03/02 10:30:00\n",
    )
    .unwrap();
    let f = clock.to_str().unwrap();
    let dry = ok(
        &s,
        &dir,
        &["import", "timeclock", f, "--agent", "ana", "--dry-run"],
    );
    assert!(
        dry.contains(&format!("{f}:2: contributions/2026/03/02/")),
        "{dry}"
    );
    assert!(dry.contains(": ana 1.5h work on drone\n"), "{dry}");
    let out = ok(&s, &dir, &["import", "timeclock", f, "--agent", "ana"]);
    assert!(out.starts_with("Imported 1 new contribution"), "{out}");
    let out = ok(&s, &dir, &["import", "timeclock", f, "--agent", "ana"]);
    assert!(out.starts_with("Nothing to import"), "{out}");

    let dots = s.work().join("week.timedot");
    std::fs::write(
        &dots,
        "2026-03-03 test flights\ndrone  .... ..\ndron   1h\n",
    )
    .unwrap();
    let f = dots.to_str().unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "timedot", f, "-a", "ben"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(&format!("{f}:3:1: no project `dron` in the ledger\n")),
        "{err}"
    );
    std::fs::write(&dots, "2026-03-03 test flights\ndrone  .... ..\n").unwrap();
    let out = ok(
        &s,
        &dir,
        &["import", "timedot", f, "-a", "ben", "--dry-run"],
    );
    assert!(out.contains(": ben 1.5h work on drone\n"), "{out}");
    let (code, _, err) = run(&s, &dir, &["import", "timedot", f, "-a", "nobody"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no agent `nobody`"), "{err}");
}

/// The hREA fixture (see tests/suite/data/README.md).
fn hrea_file() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/suite/data/hrea-events.json")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_hrea_graphql_answer_is_imported_once() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let f = hrea_file();
    let commits = commit_count(&s, &dir);
    let before = snapshot(&dir);
    let (code, dry, err) = run(&s, &dir, &["import", "valueflows", &f, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        dry.starts_with(&format!(
            "Would import 6 new records from {f} (0 already in the ledger):\n  {f}: data.agents.edges[0].node: agents/dana-okoro-"
        )),
        "{dry}"
    );
    // Work from a point in time and from a beginning and an end; money in the symbol's
    // currency; the produce event is no contribution.
    assert!(dry.contains(" 2.5h work on solar-dryer-project-"), "{dry}");
    assert!(dry.contains(" 1.75h work on solar-dryer-project-"), "{dry}");
    assert!(
        dry.contains(" 42.90 EUR money on solar-dryer-project-"),
        "{dry}"
    );
    assert!(
        err.contains("note: left out 1 events of action \"produce\""),
        "{err}"
    );
    assert_eq!(commit_count(&s, &dir), commits);
    crate::common::assert_same_files_but(&before, &snapshot(&dir), &[".git/ovn/"]);

    let out = ok(&s, &dir, &["import", "valueflows", &f]);
    assert!(
        out.starts_with(&format!(
            "Imported 6 new records from {f} (0 already in the ledger), commit "
        )),
        "{out}"
    );
    assert_eq!(commit_count(&s, &dir), commits + 1);
    ok(&s, &dir, &["check"]);
    let again = ok(&s, &dir, &["import", "valueflows", &f]);
    assert_eq!(
        again,
        format!("Nothing to import: 0 new records from {f} (6 already in the ledger)\n")
    );
    assert_eq!(commit_count(&s, &dir), commits + 1);
}

#[test]
fn a_json_ld_graph_in_the_valueflows_examples_shape() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("vf.jsonld");
    // Bare terms under @vocab, references as plain strings, numbers as JSON numbers.
    let doc = r#"{
  "@context": [{"@vocab": "https://w3id.org/valueflows/ont/vf#"}, {"gar": "https://garden.example/"}],
  "@graph": [
    {"@id": "gar:zoe", "@type": "Person", "name": "Zoë Martin"},
    {"@id": "gar:beds", "@type": "Organization", "name": "Raised beds"},
    {"@id": "gar:e1", "@type": "EconomicEvent", "action": "work", "provider": "gar:zoe",
     "receiver": "gar:beds", "effortQuantity": {"hasUnit": "hour", "hasNumericalValue": 3},
     "hasPointInTime": "2026-05-02T10:00:00+02:00", "note": "Built the first bed"},
    {"@id": "gar:e2", "@type": "EconomicEvent", "action": "transfer", "provider": "gar:zoe",
     "receiver": "gar:beds", "resourceQuantity": {"hasUnit": "kilogram", "hasNumericalValue": "12.5"},
     "hasPointInTime": "2026-05-02", "note": "Compost"},
    {"@id": "gar:e3", "@type": "EconomicEvent", "action": "work", "provider": "gar:zoe",
     "receiver": "gar:beds", "corrects": "gar:e1", "hasPointInTime": "2026-05-03",
     "note": "Logged twice"},
    {"@id": "gar:p", "@type": "Process", "name": "Grow"}CLAIM
  ]
}"#;
    // A material needs its money value: without one, the ledger's check refuses the record,
    // named by the node it comes from.
    std::fs::write(&file, doc.replace("CLAIM", "")).unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "valueflows", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(": @graph[3]: contributions/2026/05/02/"),
        "{err}"
    );
    assert!(err.contains("missing field `amount`"), "{err}");
    // The claim the event triggers states it.
    let claim = r#",
    {"@type": "Claim", "triggeredBy": "gar:e2",
     "resourceQuantity": {"hasUnit": "EUR", "hasNumericalValue": 18}}"#;
    std::fs::write(&file, doc.replace("CLAIM", claim)).unwrap();
    let f = file.to_str().unwrap();
    let (code, out, err) = run(&s, &dir, &["import", "valueflows", f, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(" 3h work on raised-beds-"), "{out}");
    assert!(out.contains(" material on raised-beds-"), "{out}");
    assert!(err.contains("note: left out 1 Process nodes"), "{err}");
    let out = ok(&s, &dir, &["import", "valueflows", f]);
    assert!(out.starts_with("Imported 6 new records"), "{out}");
    let compost = s.git(
        &dir,
        &[
            "grep",
            "-h",
            "-A3",
            "Compost",
            "HEAD",
            "--",
            "contributions",
        ],
    );
    assert!(compost.contains("amount = \"18.00\""), "{compost}");
    assert!(
        compost.contains("quantity = \"12.5\"\nunit = \"kilogram\""),
        "{compost}"
    );
    let reversal = s.git(
        &dir,
        &[
            "grep",
            "-h",
            "-A1",
            "Logged twice",
            "HEAD",
            "--",
            "contributions",
        ],
    );
    assert!(reversal.contains("reverses = "), "{reversal}");
    ok(&s, &dir, &["check"]);
}

#[test]
fn bad_nodes_are_named_by_their_json_path_and_nothing_is_written() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let file = s.work().join("bad.jsonld");
    std::fs::write(
        &file,
        r#"{"@context": {"vf": "https://w3id.org/valueflows/ont/vf#"},
 "@graph": [
  {"@id": "urn:x:eve", "@type": "vf:Person", "vf:name": "Eve\u001b[31m"},
  {"@id": "urn:x:e1", "@type": "vf:EconomicEvent", "vf:action": {"@id": "vf:work"},
   "vf:provider": {"@id": "urn:x:eve"}, "vf:receiver": {"@id": "urn:x:eve"},
   "vf:hasBeginning": "yesterday-ish"},
  {"@id": "urn:x:e2", "@type": "vf:EconomicEvent", "vf:action": {"@id": "vf:work"},
   "vf:receiver": {"@id": "urn:x:eve"}, "vf:hasPointInTime": "2026-05-01",
   "vf:effortQuantity": {"vf:hasNumericalValue": 2, "vf:hasUnit": {"@id": "urn:x:parsec"}}}
 ]}"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let commits = commit_count(&s, &dir);
    let (code, out, err) = run(&s, &dir, &["import", "valueflows", f]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(&format!(
            "{f}: @graph[1].vf:hasBeginning: \"yesterday-ish\" is not a date"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}: @graph[0].vf:name: the text holds the forbidden character U+001B"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}: @graph[2].vf:effortQuantity: the effort is not in hours"
        )),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "raw escape printed: {err:?}");
    assert!(err.contains("error: nothing written: "), "{err}");
    assert_eq!(commit_count(&s, &dir), commits);

    // Not JSON at all, and a document too deep: refused with the place, no panic.
    std::fs::write(&file, "{\"@graph\": [\n  {\"@id\": }\n]}").unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "valueflows", f]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not JSON") && err.contains("line 2"), "{err}");
    std::fs::write(&file, "[".repeat(100_000)).unwrap();
    let (code, _, err) = run(&s, &dir, &["import", "valueflows", f]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("recursion limit"), "{err}");
    assert_eq!(commit_count(&s, &dir), commits);
}

/// Export, import into a fresh ledger, export again: the same document. The fresh ledger
/// takes what ValueFlows does not carry from the first: `ovn.toml` (with the first export's
/// base as its `base_uri`, so the ids stay the same) and the agreements (a vf:Agreement has
/// no value equation). The one line that differs is the document's own `@id`, which names
/// the commit exported.
#[test]
fn export_import_export_gives_the_same_document() {
    let s = Sandbox::new();
    let first_dir = fablab_repo(&s, "fablab");
    let first = ok(&s, &first_dir, &["export", "valueflows"]);
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    let base = doc["@context"]["ledger"].as_str().unwrap().to_owned();

    let fresh = s.repo("fresh");
    let ovn_toml = std::fs::read_to_string(first_dir.join("ovn.toml")).unwrap();
    std::fs::write(
        fresh.join("ovn.toml"),
        format!("{ovn_toml}base_uri = \"{base}\"\n"),
    )
    .unwrap();
    std::fs::create_dir(fresh.join("agreements")).unwrap();
    crate::common::copy_tree(&first_dir.join("agreements"), &fresh.join("agreements"));
    s.git(&fresh, &["add", "-A"]);
    s.git(&fresh, &["commit", "-q", "-m", "settings and agreements"]);

    let file = s.work().join("fablab.jsonld");
    std::fs::write(&file, &first).unwrap();
    let f = file.to_str().unwrap();
    let out = ok(&s, &fresh, &["import", "valueflows", f]);
    assert!(out.starts_with("Imported "), "{out}");
    ok(&s, &fresh, &["check"]);
    let second = ok(&s, &fresh, &["export", "valueflows"]);

    assert!(
        first == second,
        "export, import into a fresh ledger, export again: the documents differ"
    );
    // And the import holds everything: again, nothing.
    let again = ok(&s, &fresh, &["import", "valueflows", f]);
    assert!(
        again.starts_with("Nothing to import: 0 new records"),
        "{again}"
    );
}

/// A detailed CSV export of each supported time tracker imports as it is, with `--from`:
/// agents found by email or name, projects by name, Toggl's `HH:MM:SS` durations.
#[test]
fn time_tracker_exports_import_without_editing() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/data");
    for (tracker, file, lines) in [
        (
            "toggl",
            "toggl-detailed.csv",
            &[": ana 1.25h work on drone", ": ben 2.5h work on drone"][..],
        ),
        (
            "clockify",
            "clockify-detailed.csv",
            &[": cy 1.75h work on drone"],
        ),
        (
            "harvest",
            "harvest-detailed.csv",
            &[": ana 3.5h work on drone"],
        ),
    ] {
        let f = data.join(file);
        let f = f.to_str().unwrap();
        let out = ok(
            &s,
            &dir,
            &["import", "csv", f, "--from", tracker, "--dry-run"],
        );
        for line in lines {
            assert!(out.contains(&format!("{line}\n")), "{tracker}: {out}");
        }
        let out = ok(&s, &dir, &["import", "csv", f, "--from", tracker]);
        assert!(out.starts_with("Imported "), "{tracker}: {out}");
        let out = ok(&s, &dir, &["import", "csv", f, "--from", tracker]);
        assert!(out.starts_with("Nothing to import"), "{tracker}: {out}");
    }
    ok(&s, &dir, &["check"]);
    let (code, _, err) = run(&s, &dir, &["import", "csv", "x.csv", "--from", "tempo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("known: toggl, clockify, harvest"), "{err}");
}
