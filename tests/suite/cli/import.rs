//! `ovn import csv` end to end: the default header, a column mapping, the dry run, every bad
//! row reported as FILE:ROW:COLUMN with nothing written, one commit for all rows, and a
//! second import of the same file adding nothing.

use crate::common::{Sandbox, base_repo, commit_count, ok, run, snapshot};

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
