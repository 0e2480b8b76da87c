//! Shared helpers for end-to-end tests: real git repositories in temporary directories and
//! an `ovn` command with the clock, identity and git configuration pinned, so commit ids and
//! output are the same on every machine.

#![allow(clippy::disallowed_methods)]

pub mod inline;
pub mod schema;

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
        .env_remove("GIT_WORK_TREE")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
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

/// Runs `git ARGS` in `dir` as `email` (author and committer; the name stays pinned); panics
/// on failure and returns stdout.
pub fn git_as(s: &Sandbox, dir: &Path, email: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &s.home());
    let out = cmd
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_EMAIL", email)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The number of commits on `HEAD`.
pub fn commit_count(s: &Sandbox, dir: &Path) -> usize {
    s.git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// The full id of `HEAD`.
pub fn head(s: &Sandbox, dir: &Path) -> String {
    s.git(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// A throwaway ed25519 key pair in the sandbox's home: (private key path, public key text).
pub fn ssh_key(s: &Sandbox, name: &str) -> (PathBuf, String) {
    let path = s.home().join(format!("key-{name}"));
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(ok.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

/// Takes the blob `spec` names (`HEAD:contributions/...`) out of `dir`'s object database,
/// as a lost object would be, so that only a cache can still answer for its record: where
/// it was and its bytes, to put it back. The test ledgers' objects are loose.
pub fn lose_blob(s: &Sandbox, dir: &Path, spec: &str) -> (PathBuf, Vec<u8>) {
    let blob = s.git(dir, &["rev-parse", spec]);
    let blob = blob.trim();
    let object = dir.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    assert!(object.is_file(), "the test ledger's objects are loose");
    let bytes = std::fs::read(&object).unwrap();
    std::fs::remove_file(&object).unwrap();
    (object, bytes)
}

/// The repository's cache folder.
pub fn cache_dir(dir: &Path) -> PathBuf {
    dir.join(".git/ovn/cache")
}

/// Every file in the repository's cache (entries, not folders), sorted.
pub fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![cache_dir(dir)];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Whether a cache file is a parsed day folder's entry (`xx/…`).
pub fn is_folder_entry(path: &Path) -> bool {
    path.parent().and_then(|d| d.file_name()).is_some_and(|n| {
        n.len() == 2
            && n.to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// Deletes the stored answers and every day folder's entry from the cache but those that
/// name one of `ids` (the folders a quick load asks for a record by name), leaving the
/// summaries: what stands for the other folders' records is then their summaries alone.
pub fn keep_only_folders_naming(dir: &Path, ids: &[&str]) {
    for entry in cache_entries(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        let names = |id: &&str| bytes.windows(id.len()).any(|w| w == id.as_bytes());
        if is_folder_entry(&entry) && !ids.iter().any(names) {
            std::fs::remove_file(&entry).unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(cache_dir(dir).join("answers"));
}

/// A bare `origin` holding the base ledger, and a clone `name` of it.
pub fn origin_and_clone(s: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    let seed = base_repo(s, "seed");
    let origin = s.work().join("origin.git");
    s.git(
        &s.work(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            "origin.git",
        ],
    );
    let clone = s.work().join(name);
    s.git(&s.work(), &["clone", "-q", origin.to_str().unwrap(), name]);
    (origin, clone)
}

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

/// The files the last commit touched, as `git show --name-status` lists them (`A\tpath`).
pub fn last_commit_files(s: &Sandbox, dir: &Path) -> Vec<String> {
    s.git(dir, &["show", "--name-status", "--format=", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The text of the one file the last commit added (the test fails if it did anything else).
pub fn read_added(s: &Sandbox, dir: &Path) -> String {
    let files = last_commit_files(s, dir);
    assert_eq!(files.len(), 1, "one file per write: {files:?}");
    let path = files[0].strip_prefix("A\t").expect("an added file");
    std::fs::read_to_string(dir.join(path)).unwrap()
}

/// The last commit's author and subject: `Name <email> subject`.
pub fn subject(s: &Sandbox, dir: &Path) -> String {
    s.git(dir, &["log", "-1", "--format=%an <%ae> %s"])
        .trim()
        .to_owned()
}

/// Asserts that `git status` shows nothing: the working tree and index match `HEAD`.
pub fn assert_clean(s: &Sandbox, dir: &Path) {
    assert_eq!(
        s.git(dir, &["status", "--porcelain"]),
        "",
        "git status is clean"
    );
}

/// Every path under `dir` (`.git` included), with its contents, to prove that nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                out.push((rel + "/", Vec::new()));
                walk(root, &e.path(), out);
            } else {
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// Asserts that two [`snapshot`]s are equal, naming the paths that differ (not the bytes).
pub fn assert_same_files(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) {
    assert_same_files_but(before, after, &[]);
}

/// Asserts that two [`snapshot`]s are equal outside the folders `skip` (such as `.git/ovn/`,
/// where `ovn` keeps its cache and its write lock), naming the paths that differ.
pub fn assert_same_files_but(
    before: &[(String, Vec<u8>)],
    after: &[(String, Vec<u8>)],
    skip: &[&str],
) {
    let kept = |files: &[(String, Vec<u8>)]| -> std::collections::BTreeMap<String, Vec<u8>> {
        files
            .iter()
            .filter(|(p, _)| !skip.iter().any(|s| p.starts_with(s)))
            .cloned()
            .collect()
    };
    let (before, after) = (kept(before), kept(after));
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(
        changed.is_empty(),
        "files written, changed or removed: {changed:?}"
    );
}

/// The worked example with `[validation] approvals = N` committed on main.
pub fn policy_repo(s: &Sandbox, name: &str, approvals: u32) -> PathBuf {
    let dir = base_repo(s, name);
    let mut toml = std::fs::read_to_string(dir.join("ovn.toml")).unwrap();
    toml.push_str(&format!("\n[validation]\napprovals = {approvals}\n"));
    std::fs::write(dir.join("ovn.toml"), toml).unwrap();
    s.git(&dir, &["commit", "-qam", "policy: one approval"]);
    dir
}

/// Runs `ovn approve IDS` as `email`.
pub fn approve(s: &Sandbox, dir: &Path, email: &str, ids: &[&str]) -> std::process::Output {
    s.ovn(dir)
        .env("GIT_AUTHOR_EMAIL", email)
        .arg("approve")
        .args(ids)
        .output()
        .unwrap()
}

/// Runs `ovn ARGS`, expecting exit 0 (the test fails with stderr and stdout if not); returns
/// stdout.
pub fn ok(s: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(s, dir, args);
    assert_eq!(code, 0, "ovn {args:?} failed: {err}{out}");
    out
}

/// Runs each of `questions` as `ovn EXTRA QUESTION`: each one's (exit code, stdout, stderr).
pub fn answers(
    s: &Sandbox,
    dir: &Path,
    questions: &[&[&str]],
    extra: &[&str],
) -> Vec<(i32, String, String)> {
    questions
        .iter()
        .map(|q| {
            let args: Vec<&str> = extra.iter().chain(q.iter()).copied().collect();
            run(s, dir, &args)
        })
        .collect()
}

/// Replaces `from` with `to` (same length) everywhere in the cache entry `bytes` and
/// recomputes its trailing CRC, so the entry is whole as a file and only its content is
/// crafted. Whether anything was replaced.
pub fn craft_entry(bytes: &mut [u8], from: &[u8], to: &[u8]) -> bool {
    assert_eq!(from.len(), to.len());
    let body = bytes.len() - 4;
    let mut changed = false;
    let mut i = 0;
    while i + from.len() <= body {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            changed = true;
            i += from.len();
        } else {
            i += 1;
        }
    }
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    changed
}

/// The id of the payout [`repo_with_payout`] records (fixed, so outputs are stable).
pub const PAYOUT_ID: &str = "01pa0000000000000000000001";

/// A repository holding [`BASE`] and, in a second commit, the worked example's 3000.00 payout
/// dated 2026-11-30 with `memo`, computed at the first commit. Returns the repository and
/// that commit's id.
pub fn repo_with_payout(s: &Sandbox, memo: &str) -> (PathBuf, String) {
    use ovn::core::ledger;
    use ovn::core::payout::{self, Request};
    use ovn::core::value::Id;

    let dir = base_repo(s, "l");
    let head = s.git(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let ledger = ledger::load(&inline::raw(BASE)).ledger;
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

/// The drone agreement with a second bucket paying electronics work, beside the equity bucket
/// that pays all work: the SENSORICA mistake (a role bucket without a filter on the other).
pub fn with_role_bucket(text: &str) -> String {
    text.replace(
        "[[buckets]]\nname = \"equity\"",
        "[[buckets]]\nname = \"development\"\nshare = \"20%\"\n\n[[buckets.rules]]\nkind = \"work\"\nskill = \"electronics\"\n\n[[buckets]]\nname = \"equity\"",
    )
}

/// Three levels of projects: drone pays its network share to the lab (`to_project`), the lab
/// a fifth of that to the fund project, whose agreement repays ben's loan first.
pub const CASCADE: &[(&str, &str)] = &[
    (
        "projects/lab.toml",
        "id = \"lab\"\nname = \"Lab operations\"\nagreement = \"lab-ve\"\nparent = \"drone\"\n",
    ),
    (
        "projects/fund.toml",
        "id = \"fund\"\nname = \"Network fund\"\nagreement = \"fund-ve\"\nparent = \"lab\"\n",
    ),
    (
        "agreements/lab-ve.toml",
        "id = \"lab-ve\"\nname = \"Lab value equation\"\n\n[rates]\nwork = \"20\"\n\n[[buckets]]\nname = \"fund\"\nshare = \"20%\"\nto_project = \"fund\"\n\n[[buckets]]\nname = \"work\"\nshare = \"rest\"\n\n[[buckets.rules]]\nkind = \"work\"\n",
    ),
    (
        "agreements/fund-ve.toml",
        "id = \"fund-ve\"\nname = \"Fund value equation\"\n\n[[buckets]]\nname = \"loans\"\nshare = \"50%\"\nclaim = \"debt\"\n\n[[buckets.rules]]\nkind = \"money\"\n\n[[buckets]]\nname = \"reserve\"\nshare = \"rest\"\nto = \"fablab-fund\"\n",
    ),
    (
        "contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaab1.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaab1\"\nagent = \"cy\"\ndate = 2026-03-14\nproject = \"lab\"\nkind = \"work\"\ndescription = \"Ran the open evening\"\nhours = \"3\"\n",
    ),
    (
        "contributions/2026/03/14/01aaaaaaaaaaaaaaaaaaaaaab2.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaab2\"\nagent = \"ana\"\ndate = 2026-03-14\nproject = \"lab\"\nkind = \"work\"\ndescription = \"Sorted the workshop\"\nhours = \"1\"\n",
    ),
    (
        "contributions/2026/03/15/01aaaaaaaaaaaaaaaaaaaaaab3.toml",
        "id = \"01aaaaaaaaaaaaaaaaaaaaaab3\"\nagent = \"ben\"\ndate = 2026-03-15\nproject = \"fund\"\nkind = \"money\"\ndescription = \"Lent the fund a float\"\namount = \"20.00\"\n",
    ),
];

/// The worked example with the three levels of [`CASCADE`] (drone's network bucket pays the
/// lab, the lab a fifth of that to the fund), committed as the repository `name`.
pub fn cascade_repo(s: &Sandbox, name: &str) -> PathBuf {
    let dir = base_repo(s, name);
    let drone_ve = dir.join("agreements/drone-ve.toml");
    let text = std::fs::read_to_string(&drone_ve).unwrap();
    std::fs::write(
        &drone_ve,
        text.replace("to = \"fablab-fund\"", "to_project = \"lab\""),
    )
    .unwrap();
    write_files(&dir, CASCADE);
    s.git(&dir, &["add", "-A"]);
    s.git(&dir, &["commit", "-q", "-m", "sub-projects"]);
    dir
}
