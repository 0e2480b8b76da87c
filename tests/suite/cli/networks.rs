//! Networks of networks end to end (`ovn payout --from-payout`, `payout verify --source` and
//! `--receiver`) on real git repositories built from `examples/open-alliance` and
//! `examples/fablab`: the whole flow with its figures, the example's script, and hostile
//! input (a source path through a symbolic link, a pinned commit the source lacks, an
//! ambiguous payout id, a line that does not name this network, one line taken in twice on
//! two branches), each a clear error with nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Sandbox, commit_count, copy_tree, run};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A repository `work/name` holding the example folder `folder`, committed on `main`.
fn example(s: &Sandbox, name: &str, folder: &str) -> PathBuf {
    let dir = s.repo(name);
    copy_tree(&examples().join(folder), &dir);
    let _ = std::fs::remove_file(dir.join("README.md"));
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", name]);
    dir
}

/// The three ledgers and the alliance's recorded grant of 3000.00 (its payout id).
struct Alliance {
    alliance: PathBuf,
    fablab: PathBuf,
    repair: PathBuf,
    grant: String,
}

/// The file of the payout the last commit of `dir` added, and its text.
fn last_payout(s: &Sandbox, dir: &Path) -> (String, String) {
    let path = s.git(
        dir,
        &["log", "-1", "--format=", "--name-only", "--", "payouts"],
    );
    let path = path.trim();
    let id = path
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".toml")
        .to_owned();
    (id, std::fs::read_to_string(dir.join(path)).unwrap())
}

fn ok(s: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(s, dir, args);
    assert_eq!(code, 0, "ovn {args:?}: {out}{err}");
    out
}

fn alliance(s: &Sandbox) -> Alliance {
    let alliance = example(s, "alliance", "open-alliance/alliance");
    let fablab = example(s, "fablab", "fablab");
    let repair = example(s, "repair-cafe", "open-alliance/repair-cafe");
    ok(
        s,
        &alliance,
        &[
            "payout",
            "3000",
            "-p",
            "grants",
            "--date",
            "2026-11-30",
            "--record",
        ],
    );
    let (grant, text) = last_payout(s, &alliance);
    // 10% to the alliance's fund, the rest by hours: fablab 20 h, repair-cafe 10 h.
    assert!(
        text.contains(
            "agent = \"alliance-fund\"\nbucket = \"alliance\"\namount = \"300.00\"\n\n[[lines]]\nagent = \"fablab\"\nbucket = \"members\"\namount = \"1800.00\"\n\n[[lines]]\nagent = \"repair-cafe\"\nbucket = \"members\"\namount = \"900.00\""
        ),
        "{text}"
    );
    Alliance {
        alliance,
        fablab,
        repair,
        grant,
    }
}

fn from(grant: &str) -> String {
    format!("../alliance:{grant}")
}

#[test]
fn a_grant_flows_from_the_alliance_into_each_member_and_verifies_both_ways() {
    let s = Sandbox::new();
    let a = alliance(&s);
    // The fablab takes its line in, amount left out: the line's 1800.00, found by the agent
    // of kind network named "Fablab Commons" in the alliance's ledger.
    let out = ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    assert!(
        out.contains(&format!(
            "taken in: line 2 of payout {} (to fablab, bucket members, 1800.00)",
            a.grant
        )),
        "{out}"
    );
    let (fablab_payout, text) = last_payout(&s, &a.fablab);
    let alliance_head = s.git(&a.alliance, &["rev-parse", "HEAD"]);
    assert!(text.contains("amount = \"1800.00\"\n"), "{text}");
    assert!(
        text.contains(&format!("memo = \"line 2 of payout {}\"", a.grant)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "[source]\ncommit = \"{}\"\npayout = \"{}\"\nline = 2\nagent = \"fablab\"\nbucket = \"members\"\namount = \"1800.00\"\n",
            alliance_head.trim(),
            a.grant
        )),
        "{text}"
    );
    // The repair café takes its line in from a ref fetched into its own repository, with
    // the amount given (it must be the line's), and shares it by its own equation.
    s.git(
        &a.repair,
        &[
            "fetch",
            "-q",
            "../alliance",
            "main:refs/remotes/alliance/main",
        ],
    );
    ok(
        &s,
        &a.repair,
        &[
            "payout",
            "900",
            "-p",
            "repairs",
            "--from-payout",
            &format!("alliance/main:{}", &a.grant[..12]),
            "--record",
        ],
    );
    let (repair_payout, text) = last_payout(&s, &a.repair);
    assert!(
        text.contains("agent = \"rc-fund\"\nbucket = \"fund\"\namount = \"180.00\"\n\n[[lines]]\nagent = \"lea\"\nbucket = \"repairers\"\namount = \"480.00\"\n\n[[lines]]\nagent = \"omar\"\nbucket = \"repairers\"\namount = \"240.00\""),
        "{text}"
    );
    // Verification: locally, from the source (path or ref), and from the paying side.
    let out = ok(&s, &a.fablab, &["payout", "verify", &fablab_payout]);
    assert!(out.contains("matches: re-derived"), "{out}");
    assert!(out.contains("source not checked"), "{out}");
    let out = ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "verify",
            &fablab_payout,
            "--source",
            "../alliance",
        ],
    );
    assert!(
        out.contains(&format!(
            "source matches: line 2 of payout {} re-derived from the paying ledger",
            a.grant
        )),
        "{out}"
    );
    let out = ok(
        &s,
        &a.repair,
        &[
            "payout",
            "verify",
            &repair_payout,
            "--source",
            "alliance/main",
        ],
    );
    assert!(out.contains("source matches: line 3"), "{out}");
    let out = ok(
        &s,
        &a.alliance,
        &["payout", "verify", &a.grant, "--receiver", "../fablab"],
    );
    assert_eq!(
        out,
        format!("line 2 to fablab (1800.00): taken in by payout {fablab_payout}, matches\n")
    );
    let out = ok(
        &s,
        &a.alliance,
        &["payout", "verify", &a.grant, "--receiver", "../repair-cafe"],
    );
    assert!(
        out.contains("line 3 to repair-cafe (900.00): taken in"),
        "{out}"
    );
    ok(&s, &a.fablab, &["check"]);
    ok(&s, &a.repair, &["check"]);

    // The same line is not taken in twice, even on another day.
    let before = commit_count(&s, &a.fablab);
    let (code, _, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--date",
            "2026-12-24",
            "--record",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "line 2 of payout {} is already taken in by payout {fablab_payout}",
            a.grant
        )),
        "{err}"
    );
    assert_eq!(commit_count(&s, &a.fablab), before, "nothing written");
    // A preview of it says the same, as `--record` would refuse it.
    let (code, out, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--date",
            "2026-12-24",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "line 2 of payout {} is already taken in by payout {fablab_payout}",
            a.grant
        )),
        "{err}"
    );
}

#[test]
fn the_example_script_runs_the_whole_flow() {
    let s = Sandbox::new();
    let mut cmd = Command::new("bash");
    crate::common::hermetic(&mut cmd, &s.home());
    let out = cmd
        .arg(examples().join("open-alliance/run.sh"))
        .arg(env!("CARGO_BIN_EXE_ovn"))
        .arg(s.work().join("run"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("source matches").count(), 2, "{text}");
    assert_eq!(text.matches(", matches").count(), 2, "{text}");
    assert!(text.contains("already taken in"), "{text}");
}

#[test]
fn an_amount_other_than_the_lines_is_refused() {
    let s = Sandbox::new();
    let a = alliance(&s);
    let before = commit_count(&s, &a.fablab);
    let (code, _, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "1500",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("AMOUNT 1500.00 is not what line 2 of payout"),
        "{err}"
    );
    assert_eq!(commit_count(&s, &a.fablab), before);
}

#[cfg(unix)]
#[test]
fn a_source_path_through_a_symbolic_link_is_refused() {
    let s = Sandbox::new();
    let a = alliance(&s);
    std::os::unix::fs::symlink(&a.alliance, s.work().join("link")).unwrap();
    let before = commit_count(&s, &a.fablab);
    let (code, _, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &format!("../link:{}", a.grant),
            "--record",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("link is a symbolic link"), "{err}");
    assert_eq!(commit_count(&s, &a.fablab), before, "nothing written");
}

#[test]
fn a_pinned_commit_the_source_lacks_is_an_error() {
    let s = Sandbox::new();
    let a = alliance(&s);
    ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    let (id, _) = last_payout(&s, &a.fablab);
    // The repair café's repository never had the alliance's commits.
    let (code, out, err) = run(
        &s,
        &a.fablab,
        &["payout", "verify", &id, "--source", "../repair-cafe"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("the paying ledger's repository has no commit"),
        "{err}"
    );
}

#[test]
fn an_ambiguous_payout_id_is_refused() {
    let s = Sandbox::new();
    let a = alliance(&s);
    ok(
        &s,
        &a.alliance,
        &[
            "payout",
            "600",
            "-p",
            "grants",
            "--date",
            "2026-11-30",
            "--memo",
            "second",
            "--record",
        ],
    );
    let before = commit_count(&s, &a.fablab);
    let (code, _, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            "../alliance:01",
            "--record",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is the start of several payout ids"), "{err}");
    assert_eq!(commit_count(&s, &a.fablab), before);
}

#[test]
fn a_line_that_does_not_name_this_network_is_refused() {
    let s = Sandbox::new();
    let a = alliance(&s);
    let before = commit_count(&s, &a.fablab);
    let cases: [(&[&str], &str); 3] = [
        (
            &["--as", "alliance-fund"],
            "agent `alliance-fund` of the paying ledger is of kind organization, not network",
        ),
        (&["--line", "3"], "line 3 of payout"),
        (&["--line", "9"], "has no line 9"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["payout", "-p", "lab", "--from-payout"];
        let source = from(&a.grant);
        args.push(&source);
        args.extend_from_slice(extra);
        args.push("--record");
        let (code, _, err) = run(&s, &a.fablab, &args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
    // The repair café takes in from the alliance as "repair-cafe"; asked as the fablab's
    // ledger names no network of its name.
    let (code, _, err) = run(
        &s,
        &a.repair,
        &[
            "payout",
            "-p",
            "repairs",
            "--from-payout",
            &from(&a.grant),
            "--as",
            "fablab",
            "--line",
            "3",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pays `repair-cafe`, not `fablab`"), "{err}");
    assert_eq!(commit_count(&s, &a.fablab), before);
}

#[test]
fn a_line_taken_in_on_two_branches_is_a_duplicate_for_check() {
    let s = Sandbox::new();
    let a = alliance(&s);
    s.git(&a.fablab, &["checkout", "-q", "-b", "other"]);
    ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    s.git(&a.fablab, &["checkout", "-q", "main"]);
    ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--date",
            "2026-11-25",
            "--record",
        ],
    );
    s.git(&a.fablab, &["merge", "-q", "--no-edit", "other"]);
    let (code, out, err) = run(&s, &a.fablab, &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("duplicate-payout"), "{out}");
    assert!(
        out.contains(&format!(
            "line 2 of payout {} of the paying network is already taken in",
            a.grant
        )),
        "{out}"
    );
}

#[test]
fn verify_names_what_differs_from_the_source() {
    let s = Sandbox::new();
    let a = alliance(&s);
    ok(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    let (id, text) = last_payout(&s, &a.fablab);
    let path = a.fablab.join(format!("payouts/2026/{id}.toml"));
    let tampered = text.replace("bucket = \"members\"", "bucket = \"grants\"");
    assert_ne!(tampered, text);
    std::fs::write(&path, tampered).unwrap();
    s.git(&a.fablab, &["commit", "-q", "-am", "tamper"]);
    let (code, out, err) = run(
        &s,
        &a.fablab,
        &["payout", "verify", &id, "--source", "../alliance"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("source does NOT match"), "{out}");
    assert!(
        out.contains("bucket: pinned \"grants\", paying ledger \"members\""),
        "{out}"
    );
}

#[test]
fn a_paying_payout_pinned_to_a_commit_its_repository_lacks_is_refused() {
    let s = Sandbox::new();
    let a = alliance(&s);
    let path = a.alliance.join(format!("payouts/2026/{}.toml", a.grant));
    let text = std::fs::read_to_string(&path).unwrap();
    let head = s.git(&a.alliance, &["rev-parse", "HEAD~1"]);
    let forged = text.replace(head.trim(), &"0".repeat(40));
    assert_ne!(forged, text);
    std::fs::write(&path, forged).unwrap();
    s.git(
        &a.alliance,
        &["commit", "-q", "-am", "orphan the pinned commit"],
    );
    let before = commit_count(&s, &a.fablab);
    let (code, _, err) = run(
        &s,
        &a.fablab,
        &[
            "payout",
            "-p",
            "lab",
            "--from-payout",
            &from(&a.grant),
            "--record",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "was computed at commit {}, which its repository does not have",
            "0".repeat(40)
        )),
        "{err}"
    );
    assert_eq!(commit_count(&s, &a.fablab), before, "nothing written");
}

#[test]
fn verify_with_a_source_needs_revenue_taken_in() {
    let s = Sandbox::new();
    let a = alliance(&s);
    let (code, _, err) = run(
        &s,
        &a.alliance,
        &["payout", "verify", &a.grant, "--source", "../fablab"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("takes no revenue in from another network"),
        "{err}"
    );
}

#[test]
fn a_member_network_is_added_with_its_ledger() {
    let s = Sandbox::new();
    let a = alliance(&s);
    ok(
        &s,
        &a.alliance,
        &[
            "agent",
            "add",
            "seed-net",
            "--name",
            "Seed Network",
            "--kind",
            "network",
            "--ledger",
            "https://git.example/seed-net/ledger.git",
        ],
    );
    let text = std::fs::read_to_string(a.alliance.join("agents/seed-net.toml")).unwrap();
    assert_eq!(
        text,
        "id = \"seed-net\"\nname = \"Seed Network\"\nkind = \"network\"\nemails = []\nledger = \"https://git.example/seed-net/ledger.git\"\n"
    );
    let out = ok(&s, &a.alliance, &["agent", "show", "seed-net"]);
    assert!(out.contains("  kind        network\n"), "{out}");
    assert!(
        out.contains("  ledger      https://git.example/seed-net/ledger.git\n"),
        "{out}"
    );
}
