//! Shared helpers for end-to-end tests: real git repositories in temporary directories and
//! an `ovn` command with the clock, identity and git configuration pinned, so commit ids and
//! output are the same on every machine.

#![allow(dead_code, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use tempfile::TempDir;

/// The pinned clock for commits made by `ovn` in tests.
pub const NOW: &str = "2026-11-24T10:00:00+01:00";

/// Applies a hermetic environment: no user or system git config, a fixed identity and time.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .env("GIT_AUTHOR_NAME", "Ana Lima")
        .env("GIT_AUTHOR_EMAIL", "ana@fablab.example")
        .env("GIT_COMMITTER_NAME", "Ana Lima")
        .env("GIT_COMMITTER_EMAIL", "ana@fablab.example")
        .env("GIT_AUTHOR_DATE", "2026-11-24T10:00:00+01:00")
        .env("GIT_COMMITTER_DATE", "2026-11-24T10:00:00+01:00")
        .env("OVN_NOW", NOW)
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
}

/// A temporary directory holding a home directory and a work area.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    /// A fresh sandbox.
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("ovn-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Sandbox { dir }
    }

    /// The work area (where repositories go).
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The fake home directory.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `ovn` with the hermetic environment, started in `dir`.
    pub fn ovn(&self, dir: &Path) -> Command {
        let mut cmd = Command::cargo_bin("ovn").expect("ovn binary");
        hermetic(&mut cmd, &self.home());
        cmd.current_dir(dir);
        cmd
    }

    /// Runs `git` in `dir` with the hermetic environment; panics on failure.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &self.home());
        let out = cmd.args(args).current_dir(dir).output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A new git repository at `work/name` with branch `main`.
    pub fn repo(&self, name: &str) -> PathBuf {
        let dir = self.work().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q", "-b", "main"]);
        dir
    }
}

/// Writes `files` (path, contents) under `root`, creating folders.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A small valid ledger: the worked example of the domain (network, agents ana, ben, cy and
/// fablab-fund, project drone with its value equation, the pooled printer, and the four
/// contributions).
pub const BASE: &[(&str, &str)] = &[
    (
        "ovn.toml",
        "format = 1\nname = \"Fablab Commons\"\ncurrency = \"EUR\"\nvalidated_branch = \"main\"\nleftover = \"fablab-fund\"\n",
    ),
    (
        "agents/ana.toml",
        "id = \"ana\"\nname = \"Ana Lima\"\nkind = \"person\"\nemails = [\"ana@fablab.example\"]\n",
    ),
    (
        "agents/ben.toml",
        "id = \"ben\"\nname = \"Ben Okafor\"\nkind = \"person\"\nemails = [\"ben@fablab.example\"]\n",
    ),
    (
        "agents/cy.toml",
        "id = \"cy\"\nname = \"Cy Dubois\"\nkind = \"person\"\nemails = [\"cy@fablab.example\"]\n",
    ),
    (
        "agents/fablab-fund.toml",
        "id = \"fablab-fund\"\nname = \"Fablab infrastructure fund\"\nkind = \"organization\"\nemails = []\n",
    ),
    (
        "projects/drone.toml",
        "id = \"drone\"\nname = \"Open Drone\"\nagreement = \"drone-ve\"\nstewards = [\"ana\", \"ben\"]\n",
    ),
    (
        "resources/printer.toml",
        "id = \"printer\"\nname = \"Prusa MK4\"\nownership = \"pooled\"\nowners = [\n  { agent = \"ana\", share = \"50%\" },\n  { agent = \"cy\", share = \"50%\" },\n]\nstewards = [\"cy\"]\nuse_rate = \"8\"\n",
    ),
    (
        "agreements/drone-ve.toml",
        "id = \"drone-ve\"\nname = \"Drone value equation\"\nkind = \"value-equation\"\n\n[rates]\nwork = \"30\"\nskill = { electronics = \"45\" }\n\n[[buckets]]\nname = \"network\"\nshare = \"10%\"\nto = \"fablab-fund\"\n\n[[buckets]]\nname = \"reimbursement\"\nshare = \"30%\"\nclaim = \"debt\"\n\n[[buckets.rules]]\nkind = \"money\"\n\n[[buckets.rules]]\nkind = \"material\"\n\n[[buckets]]\nname = \"equity\"\nshare = \"rest\"\nclaim = \"equity\"\n\n[[buckets.rules]]\nkind = \"work\"\n\n[[buckets.rules]]\nkind = \"use\"\n",
    ),
    (
        "contributions/2026/03/10/01aaaaaaaaaaaaaaaaaaaaaaa1.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa1\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Routed the motor board\"\nhours = \"20\"\nskill = \"electronics\"\n",
    ),
    (
        "contributions/2026/03/11/01aaaaaaaaaaaaaaaaaaaaaaa2.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa2\"\nagent = \"ben\"\ndate = 2026-03-11\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Frame design and test flights\"\nhours = \"20\"\n",
    ),
    (
        "contributions/2026/03/12/01aaaaaaaaaaaaaaaaaaaaaaa3.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa3\"\nagent = \"ben\"\ndate = 2026-03-12\nproject = \"drone\"\nkind = \"work\"\ndescription = \"Firmware tuning\"\nhours = \"10\"\n",
    ),
    (
        "contributions/2026/03/12/01aaaaaaaaaaaaaaaaaaaaaaa4.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa4\"\nagent = \"ben\"\ndate = 2026-03-12\nproject = \"drone\"\nkind = \"money\"\ndescription = \"Bought motors and sensors\"\namount = \"400.00\"\n",
    ),
    (
        "contributions/2026/03/13/01aaaaaaaaaaaaaaaaaaaaaaa5.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaaa5\"\nagent = \"cy\"\ndate = 2026-03-13\nproject = \"drone\"\nkind = \"use\"\ndescription = \"Printed the arms\"\nresource = \"printer\"\nhours = \"10\"\n",
    ),
];

/// A repository holding [`BASE`], committed on `main`.
pub fn base_repo(sandbox: &Sandbox, name: &str) -> PathBuf {
    let dir = sandbox.repo(name);
    write_files(&dir, BASE);
    sandbox.git(&dir, &["add", "-A"]);
    sandbox.git(&dir, &["commit", "-q", "-m", "base ledger"]);
    dir
}

/// Runs `ovn ARGS` in `dir`: exit code, stdout and stderr.
pub fn run(s: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = s.ovn(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The id of the payout [`repo_with_payout`] records (fixed, so outputs are stable).
pub const PAYOUT_ID: &str = "01pa0000000000000000000001";

/// A repository holding [`BASE`] and, in a second commit, the worked example's 3000.00 payout
/// dated 2026-11-30 with `memo`, computed at the first commit. Returns the repository and
/// that commit's id.
pub fn repo_with_payout(s: &Sandbox, memo: &str) -> (PathBuf, String) {
    use ovn::core::ledger::{self, RawFile};
    use ovn::core::payout::{self, Request};
    use ovn::core::value::Id;

    let dir = base_repo(s, "l");
    let head = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let raw: Vec<RawFile> = BASE
        .iter()
        .map(|(p, t)| RawFile {
            path: (*p).to_owned(),
            bytes: t.as_bytes().to_vec(),
        })
        .collect();
    let ledger = ledger::load(&raw).ledger;
    let request = Request {
        project: "drone",
        amount: rust_decimal::Decimal::new(3000, 0),
        date: Some("2026-11-30".parse().unwrap()),
    };
    let p = payout::compute(&ledger, &request, &[]).unwrap();
    let digest = payout::digest(&ledger, &p, &[]);
    let rec = payout::record(
        &p,
        Id::parse(PAYOUT_ID).unwrap(),
        "2026-11-30".parse().unwrap(),
        Some(memo.to_owned()),
        head.clone(),
        digest,
    );
    let path = format!("payouts/2026/{PAYOUT_ID}.toml");
    write_files(
        &dir,
        &[(&path as &str, &ovn::core::write::payout(&rec) as &str)],
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "payout"]);
    (dir, head)
}

/// A repository `work/name` holding the bundled fablab example, committed.
#[allow(dead_code)]
pub fn fablab_repo(s: &Sandbox, name: &str) -> PathBuf {
    let dir = s.repo(name);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fablab"),
        &dir,
    );
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "fablab"]);
    dir
}
