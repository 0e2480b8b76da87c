//! `ovn report` end to end on real git repositories: every report in every format on the
//! worked example, the fablab example, charts, recorded payouts, and bad input.

use crate::common;

use std::path::Path;

use crate::common::{Sandbox, base_repo, fablab_repo, run};

/// Runs a report that must succeed; returns its output.
fn ok(s: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(s, dir, args);
    assert_eq!(code, 0, "ovn {args:?} failed: {err}");
    assert_eq!(err, "");
    out
}

fn head(s: &Sandbox, dir: &Path) -> String {
    s.git(dir, &["rev-parse", "HEAD"]).trim()[..12].to_owned()
}

#[test]
fn contributions_by_agent_on_the_worked_example() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let out = ok(&s, &dir, &["report", "contributions"]);
    assert_eq!(
        out,
        format!(
            "\
Contributions by agent (main at {})
────────────────────────────────────────────────────────────────────────
 agent   contributions   hours   use hours   amount     value     share
────────────────────────────────────────────────────────────────────────
 ana                 1      20           0     0.00    900.00    39.47%
 ben                 3      30           0   400.00   1300.00    57.02%
 cy                  1       0          10     0.00     80.00     3.51%
 total               5      50          10   400.00   2280.00   100.00%
────────────────────────────────────────────────────────────────────────
amount and value in EUR; value is the claim value the project's agreement gives the contributions; share is of the value
",
            head(&s, &dir)
        )
    );
    // The same bytes whatever the terminal: no colour, no width adaptation.
    let wide = s
        .ovn(&dir)
        .env("COLUMNS", "20")
        .args(["report", "contributions"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(wide.stdout).unwrap(), out);
}

#[test]
fn contributions_grouped_filtered_and_in_every_format() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let out = ok(
        &s,
        &dir,
        &["report", "contributions", "--by", "project,kind"],
    );
    assert!(
        out.contains(
            " drone     work                3      50           0     0.00   1800.00    78.95%\n"
        ),
        "{out}"
    );
    assert_eq!(
        ok(
            &s,
            &dir,
            &[
                "report",
                "contributions",
                "--by",
                "month",
                "--format",
                "csv"
            ]
        ),
        "month,contributions,hours,use_hours,amount,value,share\n2026-03,5,50,10,400.00,2280.00,100.00%\n"
    );
    assert_eq!(
        ok(
            &s,
            &dir,
            &[
                "report",
                "contributions",
                "--by",
                "kind",
                "--by",
                "skill",
                "--format",
                "csv",
                "--agent",
                "ben",
                "--since",
                "2026-03-12"
            ]
        ),
        "kind,skill,contributions,hours,use_hours,amount,value,share\nmoney,-,1,0,0,400.00,400.00,57.14%\nwork,-,1,10,0,0.00,300.00,42.86%\n"
    );
    let md = ok(
        &s,
        &dir,
        &["report", "contributions", "--format", "markdown"],
    );
    assert!(md.starts_with("**Contributions by agent (main at "), "{md}");
    assert!(
        md.contains(
            "| agent | contributions | hours | use hours | amount | value | share |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n| ana | 1 | 20 | 0 | 0.00 | 900.00 | 39.47% |\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| **total** | **5** | **50** | **10** | **400.00** | **2280.00** | **100.00%** |"
        ),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        &s,
        &dir,
        &["report", "contributions", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(json["report"], "contributions");
    assert_eq!(json["commit"].as_str().unwrap().len(), 40);
    assert_eq!(json["rows"][1]["agent"], "ben");
    assert_eq!(json["rows"][1]["value"], "1300.00");
    assert_eq!(json["rows"][2]["use_hours"], "10");
    assert_eq!(json["total"]["share"], "100.00%");
}

#[test]
fn bar_charts_are_plain_and_deterministic() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let h = head(&s, &dir);
    assert_eq!(
        ok(&s, &dir, &["report", "contributions", "--chart"]),
        format!(
            "Contributions by agent (main at {h})\nshare of claim value (2280.00 EUR)\nana  39.47% ███████████████▊\nben  57.02% ██████████████████████▊\ncy    3.51% █▍\n"
        )
    );
    assert_eq!(
        ok(&s, &dir, &["report", "claims", "--chart"]),
        format!(
            "Claims (main at {h})\nshare of the equity weight of each project\nana  50.00% ████████████████████\nben  47.87% ███████████████████▏\ncy    2.13% ▉\n"
        )
    );
}

#[test]
fn claims_and_what_the_next_payout_would_pay() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let out = ok(&s, &dir, &["report", "claims", "--amount", "3000"]);
    assert_eq!(
        out,
        format!(
            "\
Claims (main at {})
──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 project   agent          equity   equity share   debt owed   debt repaid   debt outstanding   once pending   next payout
──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 drone     ana            940.00         50.00%        0.00          0.00               0.00           0.00       1150.00
 drone     ben            900.00         47.87%      400.00          0.00             400.00           0.00       1501.06
 drone     cy              40.00          2.13%        0.00          0.00               0.00           0.00         48.94
 drone     fablab-fund      0.00          0.00%        0.00          0.00               0.00           0.00        300.00
 total                   1880.00                     400.00          0.00             400.00           0.00       3000.00
──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
in EUR; equity share is of the project's equity weight; debts and once claims are settled by recorded payouts only
next payout: 3000.00 EUR for project drone by agreement drone-ve, as `ovn payout` computes it
",
            head(&s, &dir)
        )
    );
    assert_eq!(
        ok(
            &s,
            &dir,
            &["report", "claims", "--format", "csv", "--agent", "ben,cy"]
        ),
        "project,agent,equity,equity_share,debt_owed,debt_repaid,debt_outstanding,once_pending\ndrone,ben,900.00,47.87%,400.00,0.00,400.00,0.00\ndrone,cy,40.00,2.13%,0.00,0.00,0.00,0.00\n"
    );
}

#[test]
fn recorded_payouts_settle_debts_and_fill_the_payouts_report() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let empty = ok(&s, &dir, &["report", "payouts"]);
    assert!(empty.contains("no recorded payouts"), "{empty}");
    ok(
        &s,
        &dir,
        &[
            "payout",
            "3000",
            "-p",
            "drone",
            "--record",
            "--date",
            "2026-11-30",
            "--memo",
            "Invoice 114, \"spring\"",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&s, &dir, &["report", "payouts", "--format", "json"])).unwrap();
    let payouts = &json["payouts"]["rows"];
    assert_eq!(payouts.as_array().unwrap().len(), 1);
    assert_eq!(payouts[0]["date"], "2026-11-30");
    assert_eq!(payouts[0]["amount"], "3000.00");
    assert_eq!(payouts[0]["memo"], "Invoice 114, \"spring\"");
    let paid = &json["owed_to_date"]["rows"];
    assert_eq!(paid[1]["agent"], "ben");
    assert_eq!(paid[1]["owed"], "1501.06");
    assert_eq!(paid[1]["share"], "50.04%");
    assert_eq!(json["owed_to_date"]["total"]["owed"], "3000.00");
    // CSV: one row per payout, the memo quoted.
    let csv = ok(&s, &dir, &["report", "payouts", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "date,payout,project,agreement,amount,memo,commit");
    assert!(
        lines[1].starts_with("2026-11-30,")
            && lines[1].contains(",drone,drone-ve,3000.00,\"Invoice 114, \"\"spring\"\"\","),
        "{csv}"
    );
    // The agent filter keeps the payouts that paid the agent, and what they were paid.
    let md = ok(
        &s,
        &dir,
        &["report", "payouts", "--agent", "cy", "--format", "markdown"],
    );
    assert!(md.contains("| cy | 1 | 48.94 | 100.00% |"), "{md}");
    // Ben's money is repaid: the claims report says so.
    assert!(
        ok(&s, &dir, &["report", "claims", "--format", "csv"])
            .contains("drone,ben,900.00,47.87%,400.00,400.00,0.00,0.00\n")
    );
    // Before --since: nothing.
    let later = ok(
        &s,
        &dir,
        &[
            "report",
            "payouts",
            "--since",
            "2026-12-01",
            "--format",
            "csv",
        ],
    );
    assert_eq!(later, "date,payout,project,agreement,amount,memo,commit\n");
}

#[test]
fn resources_report() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    assert_eq!(
        ok(&s, &dir, &["report", "resources", "--format", "csv"]),
        "resource,ownership,owners,stewards,use_rate,project,hours,value\nprinter,pooled,\"ana 50%, cy 50%\",cy,8,drone,10,80.00\n"
    );
    // Only the resources an agent owns or stewards.
    assert_eq!(
        ok(
            &s,
            &dir,
            &["report", "resources", "--format", "csv", "--agent", "ben"]
        ),
        "resource,ownership,owners,stewards,use_rate,project,hours,value\n"
    );
}

#[test]
fn reports_on_the_fablab_example() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    assert_eq!(
        ok(
            &s,
            &dir,
            &[
                "report",
                "contributions",
                "--by",
                "project",
                "--format",
                "csv"
            ]
        ),
        "\
project,contributions,hours,use_hours,amount,value,share
drone,9,50,10,400.00,2280.00,5.25%
lab,178,455,114,3157.84,25575.84,58.87%
seedbank,171,433,78,4861.71,15591.21,35.89%
"
    );
    assert_eq!(
        ok(&s, &dir, &["report", "resources", "--format", "csv"]),
        "\
resource,ownership,owners,stewards,use_rate,project,hours,value
greenhouse,pooled,\"zoe 40%, nuria 30%, semillas-coop 30%\",zoe,2.5,seedbank,55,137.50
laser,commons,,\"ingrid, cy\",12,lab,18,216.00
printer,pooled,\"ana 50%, cy 50%\",cy,8,drone,10,80.00
printer,pooled,\"ana 50%, cy 50%\",cy,8,lab,38,304.00
van,individual,joao 100%,joao,5,lab,7,35.00
van,individual,joao 100%,joao,5,seedbank,23,115.00
workshop,commons,,\"cy, lukas\",4,lab,51,204.00
"
    );
    assert_eq!(
        ok(
            &s,
            &dir,
            &[
                "report",
                "claims",
                "-p",
                "lab",
                "--until",
                "2026-06-30",
                "--format",
                "csv"
            ]
        ),
        "\
project,agent,equity,equity_share,debt_owed,debt_repaid,debt_outstanding,once_pending
lab,aisha,168.00,2.01%,0.00,0.00,0.00,252.00
lab,ana,423.00,5.07%,0.00,0.00,0.00,532.50
lab,ben,752.00,9.02%,42.29,0.00,42.29,888.00
lab,chloe,787.50,9.45%,117.88,0.00,117.88,609.00
lab,cy,1390.50,16.68%,36.56,0.00,36.56,611.25
lab,fablab-fund,240.00,2.88%,0.00,0.00,0.00,0.00
lab,ingrid,1206.00,14.46%,336.92,0.00,336.92,1092.00
lab,joao,17.50,0.21%,0.00,0.00,0.00,0.00
lab,lukas,1998.00,23.96%,632.85,0.00,632.85,1815.00
lab,mehmet,1355.00,16.25%,429.20,0.00,429.20,1316.25
"
    );
    // Every report renders in every format.
    for report in ["contributions", "claims", "payouts", "resources"] {
        for format in ["table", "csv", "json", "markdown"] {
            let out = ok(&s, &dir, &["report", report, "--format", format]);
            if format == "json" {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["report"], report);
            }
        }
        ok(&s, &dir, &["report", report, "--chart"]);
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let cases: &[(&[&str], &str)] = &[
        (
            &["report", "contributions", "-p", "dron"],
            "error: no project `dron` (did you mean `drone`?)",
        ),
        (
            &["report", "claims", "--agent", "bne"],
            "error: no agent `bne` (did you mean `ben`?)",
        ),
        (
            &[
                "report",
                "payouts",
                "--since",
                "2026-05-01",
                "--until",
                "2026-04-01",
            ],
            "error: the date range is inverted: --since 2026-05-01 is after --until 2026-04-01",
        ),
        (
            &["report", "resources", "--since", "2026-13-01"],
            "error: --since \"2026-13-01\" is not a date",
        ),
        (
            &["report", "contributions", "--by", "agent,agent"],
            "error: --by agent is given twice",
        ),
        (
            &["report", "contributions", "--chart", "--format", "csv"],
            "error: --chart draws in the terminal",
        ),
        (
            &["report", "claims", "--amount", "lots"],
            "error: --amount \"lots\" is not an amount",
        ),
        (
            &["report", "claims", "--amount", "-5"],
            "error: the revenue amount must be greater than zero",
        ),
        (
            &["report", "contributions", "-p", "Drone!"],
            "error: --project \"Drone!\" is not a valid project id",
        ),
        (&["report", "contributions", "--at", "nope"], "error:"),
    ];
    for (args, message) in cases {
        let (code, out, err) = run(&s, &dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert!(err.starts_with(message), "{args:?}: {err}");
    }
    // An unknown dimension is refused by the parser, with the valid ones.
    let (code, _, err) = run(&s, &dir, &["report", "contributions", "--by", "colour"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("[possible values: agent, project, kind, skill, month]"),
        "{err}"
    );
}

#[test]
fn a_ledger_with_problems_is_not_reported_on() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    common::write_files(&dir, &[("agents/dee.toml", "id = \"dee\"\n")]);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "broken"]);
    let (code, out, err) = run(&s, &dir, &["report", "contributions"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("has 1 problem"), "{err}");
}

#[test]
fn amount_needs_one_project_with_an_agreement() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    common::write_files(
        &dir,
        &[("projects/lab.toml", "id = \"lab\"\nname = \"Lab\"\n")],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "lab"]);
    let (code, _, err) = run(&s, &dir, &["report", "claims", "--amount", "100"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: --amount is the revenue of one project: give --project"),
        "{err}"
    );
    // Two projects named: said before anything is read.
    let two = [
        "report", "claims", "--amount", "100", "-p", "lab", "-p", "drone",
    ];
    let (code, _, err) = run(&s, &dir, &two);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: --amount is the revenue of one project: give --project"),
        "{err}"
    );
    let (code, _, err) = run(
        &s,
        &dir,
        &["report", "claims", "--amount", "100", "-p", "lab"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: project `lab` has no agreement"),
        "{err}"
    );
    // Without --amount, a project without agreement simply has no claims.
    assert_eq!(
        ok(
            &s,
            &dir,
            &["report", "claims", "-p", "lab", "--format", "csv"]
        ),
        "project,agent,equity,equity_share,debt_owed,debt_repaid,debt_outstanding,once_pending\n"
    );
}

#[test]
fn dates_as_hledger_users_write_them_a_period_is_its_first_or_last_day() {
    let s = Sandbox::new();
    let dir = crate::common::base_repo(&s, "l");
    let (code, exact, err) = crate::common::run(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--since",
            "2026-03-11",
            "--until",
            "2026-03-12",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, short, err) = crate::common::run(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--since",
            "2026-3-11",
            "--until",
            "2026-3-12",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(short, exact);
    let month = |since: &str, until: &str| {
        crate::common::run(
            &s,
            &dir,
            &[
                "report",
                "contributions",
                "--since",
                since,
                "--until",
                until,
                "--format",
                "csv",
            ],
        )
    };
    let (code, march, err) = month("2026-03", "2026-03");
    assert_eq!(code, 0, "{err}");
    let (_, all, _) = month("2026-03-01", "2026-03-31");
    assert_eq!(march, all);
    let (_, year, _) = month("2026", "2026");
    assert_eq!(year, all);
    // The clock is pinned at 2026-11-24 (OVN_NOW): last month is October, with nothing.
    let (code, october, err) = month("last month", "last month");
    assert_eq!(code, 0, "{err}");
    let (_, exact_october, _) = month("2026-10-01", "2026-10-31");
    assert_eq!(october, exact_october);
    assert_ne!(october, all);
    let (code, _, err) = month("next month", "2026");
    assert_eq!(code, 2);
    assert!(
        err.contains("--since \"next month\" is not a date"),
        "{err}"
    );
}

/// Issue 20: counts are JSON numbers; amounts, hours and shares stay decimal strings.
#[test]
fn report_counts_are_json_numbers() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "l");
    let json: serde_json::Value = serde_json::from_str(&ok(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--by",
            "agent",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let ben = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "ben")
        .unwrap();
    assert_eq!(ben["contributions"], 3, "{ben}");
    assert_eq!(ben["hours"], "30", "{ben}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&s, &dir, &["report", "payouts", "--format", "json"])).unwrap();
    assert_eq!(json["owed_to_date"]["total"]["payouts"], 0, "{json}");
}

/// Sub-projects roll up into their parents with `--by project` (issue 17): indented under
/// the parent, whose row includes them; `--flat` and the machine formats keep one row per
/// project, as before.
#[test]
fn contributions_by_project_roll_sub_projects_up_as_a_tree() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "fablab");
    let flat = ok(&s, &dir, &["report", "contributions", "--by", "project"]);
    let csv = ok(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--by",
            "project",
            "--format",
            "csv",
        ],
    );
    for (file, parent) in [
        ("projects/lab.toml", "drone"),
        ("projects/seedbank.toml", "lab"),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}parent = \"{parent}\"\n")).unwrap();
    }
    s.git(&dir, &["commit", "-q", "-am", "sub-projects"]);
    let tree = ok(&s, &dir, &["report", "contributions", "--by", "project"]);
    let rows: Vec<(usize, &str)> = tree
        .lines()
        .filter(|l| l.starts_with(' '))
        .map(|l| {
            let name = l.trim_start();
            (l.len() - name.len(), name.split(' ').next().unwrap())
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "project"),
            (1, "drone"),
            (3, "lab"),
            (5, "seedbank"),
            (1, "total")
        ],
        "{tree}"
    );
    // The parent's row counts its sub-projects' contributions; the total counts each once.
    let count = |line: &str| -> usize { line.split_whitespace().nth(1).unwrap().parse().unwrap() };
    let line = |text: &str, name: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap()
            .to_owned()
    };
    let own = |name: &str| count(&line(&flat, name));
    assert_eq!(
        count(&line(&tree, "drone")),
        own("drone") + own("lab") + own("seedbank")
    );
    assert_eq!(count(&line(&tree, "total")), count(&line(&flat, "total")));
    let flat_again = ok(
        &s,
        &dir,
        &["report", "contributions", "--by", "project", "--flat"],
    );
    let strip = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&flat_again), strip(&flat));
    let csv_again = ok(
        &s,
        &dir,
        &[
            "report",
            "contributions",
            "--by",
            "project",
            "--format",
            "csv",
        ],
    );
    assert_eq!(csv_again, csv);
}

/// A report, an export and the site refuse a ledger with a problem, each naming itself in
/// the refusal (they used to say that a payout needs a valid ledger), with and without the
/// cache alike.
#[test]
fn reports_exports_and_the_site_refuse_a_broken_ledger_in_their_own_words() {
    let s = Sandbox::new();
    let dir = fablab_repo(&s, "broken");
    common::write_files(
        &dir,
        &[(
            "contributions/2026/07/01/01brokenbrokenbrokenbroken.toml",
            "id = [\n",
        )],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-qm", "broken"]);
    let site = dir.join("site-out");
    let site = site.to_str().unwrap();
    for (args, what) in [
        (&["report", "contributions"][..], "a report"),
        (&["report", "claims"][..], "a report"),
        (&["export", "hledger"][..], "an export"),
        (&["site", site][..], "the site"),
        (&["payout", "1000", "-p", "drone"][..], "a payout"),
    ] {
        let cached = run(&s, &dir, args);
        let plain = run(&s, &dir, &[&["--no-cache"][..], args].concat());
        assert_eq!(cached, plain, "{args:?}");
        assert_eq!(cached.0, 1, "{args:?}: {cached:?}");
        assert!(
            cached
                .2
                .contains(&format!("has 1 problem; {what} needs a valid ledger:")),
            "{args:?}: {}",
            cached.2
        );
        assert!(
            cached
                .2
                .contains("01brokenbrokenbrokenbroken.toml:1:7: error[syntax]")
        );
    }
}
