//! A damaged repository gives a clear error, never a hang (issue 15): a truncated loose
//! object, which the bundled libgit2 would inflate for ever, and a truncated pack, which used
//! to read as "revision HEAD not found". Both are exit 3 with the object or the pack named.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Sandbox, base_repo};

/// Runs `ovn ARGS` in `dir`, killing it if it has not finished in a minute (a hang fails
/// the test instead of stalling the suite): exit code and stderr.
fn run_bounded(s: &Sandbox, dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = s
        .ovn(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "hung".to_owned());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Cuts the loose file of the object `rev` names to half its length.
fn truncate_loose(s: &Sandbox, dir: &Path, rev: &str) -> String {
    let oid = s.git(dir, &["rev-parse", rev]).trim().to_owned();
    let file = dir.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    let len = std::fs::metadata(&file).unwrap().len();
    let mut perms = std::fs::metadata(&file).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    oid
}

fn cache_off(dir: &Path) {
    // Answers cached by an earlier run would not read the objects at all.
    let _ = std::fs::remove_dir_all(dir.join(".git/ovn"));
}

#[test]
fn a_truncated_loose_object_is_an_error_naming_it() {
    let s = Sandbox::new();
    for (rev, commands) in [
        (
            "HEAD:agents/ana.toml",
            &[
                &["check", "--at", "HEAD"][..],
                &["payout", "3000", "-p", "drone"],
                &["log", "2h", "Damaged", "-p", "drone"],
            ][..],
        ),
        (
            "HEAD:contributions",
            &[
                &["check", "--at", "HEAD"][..],
                &["log", "2h", "Damaged", "-p", "drone"],
                &["status"],
            ],
        ),
        (
            "HEAD",
            &[
                &["check", "--at", "HEAD"][..],
                &["payout", "3000", "-p", "drone"],
                &["log", "2h", "Damaged", "-p", "drone"],
                &["status"],
            ],
        ),
    ] {
        let dir = base_repo(&s, &rev.replace([':', '/', '.'], "-"));
        let head = s.git(&dir, &["rev-parse", "HEAD"]);
        let oid = truncate_loose(&s, &dir, rev);
        for args in commands {
            cache_off(&dir);
            let (code, err) = run_bounded(&s, &dir, args);
            assert_eq!(code, Some(3), "{rev} {args:?}: {err}");
            assert!(
                err.contains(&format!("corrupt object {oid}")) && err.contains("truncated"),
                "{rev} {args:?}: {err}"
            );
            assert!(err.contains("git fsck"), "{err}");
        }
        assert_eq!(
            s.git(&dir, &["rev-parse", "HEAD"]),
            head,
            "nothing committed"
        );
    }
}

/// The repository's one pack file.
fn pack_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack")
}

#[test]
fn a_truncated_pack_is_an_error_naming_the_pack_and_offset() {
    let s = Sandbox::new();
    let dir = base_repo(&s, "packed");
    s.git(&dir, &["gc", "-q"]);
    let pack = pack_file(&dir);
    let len = std::fs::metadata(&pack).unwrap().len();
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let name = pack.file_name().unwrap().to_string_lossy().into_owned();
    for args in [
        &["check", "--at", "HEAD"][..],
        &["payout", "3000", "-p", "drone"],
        &["log", "2h", "Damaged", "-p", "drone"],
    ] {
        cache_off(&dir);
        let (code, err) = run_bounded(&s, &dir, args);
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(
            err.contains("corrupt pack")
                && err.contains(&name)
                && err.contains("at offset ")
                && err.contains("truncated"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("not found"), "{err}");
    }
}
