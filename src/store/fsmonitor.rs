//! Asking git's `core.fsmonitor` hook what changed in the working tree since a token.
//!
//! Knowing a million files unchanged by `lstat`-ing each costs seconds; a file system
//! monitor (watchman, say) that watched them all along knows in milliseconds. Git asks one
//! through a hook program named by `core.fsmonitor` (githooks(5), "fsmonitor-watchman";
//! watchman's sample is `.git/hooks/fsmonitor-watchman.sample`), and `ovn` asks the same
//! hook the same way, protocol version 2: it runs `<hook> 2 <token>` in the working tree's
//! root and reads `<new token>\0<path>\0<path>\0...`, the paths (relative to that root)
//! changed since `<token>`. A path `/`, a failure, a hook that takes longer than
//! [`TIMEOUT`], or output that does not parse or is larger than [`MAX_OUTPUT`] all mean
//! "anything may have changed": the caller then looks at every file itself. Nothing the hook
//! says is ever the only reason an answer is printed without a check that it could be wrong
//! the other way: what it reports changed is read again.
//!
//! The hook is trusted as git trusts it: it runs with the user's rights, and only where git's
//! own configuration names it (the repository's `.git/config`, the user's or the system's:
//! nothing a pull request can change). A value git reads as a boolean (`true` asks for git's
//! built-in daemon, which `ovn` does not speak to) names no hook.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Store;

/// How long the hook may take before its answer is "anything may have changed".
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most output read from the hook; more is "anything may have changed".
pub const MAX_OUTPUT: usize = 64 << 20;

/// What the hook said changed since the token it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// Anything may have changed (`/`, or a hook that failed).
    Anything,
    /// Only these paths (relative to the working tree's root; a folder may end in `/`).
    Paths(Vec<String>),
}

/// The hook's answer: the token to ask with next time, and what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The token that marks this moment, for the next question.
    pub token: String,
    /// What changed since the token asked with.
    pub changed: Changed,
}

impl Store {
    /// The hook program `core.fsmonitor` names in git's configuration, if it names one (not
    /// a boolean), resolved against the working tree's root as git resolves it.
    pub fn fsmonitor_hook(&self) -> Option<PathBuf> {
        let config = self.repo.config().ok()?.snapshot().ok()?;
        let value = config.get_string("core.fsmonitor").ok()?;
        if value.is_empty() || config.get_bool("core.fsmonitor").is_ok() {
            return None;
        }
        let workdir = self.repo.workdir()?;
        Some(workdir.join(value))
    }

    /// Asks the `core.fsmonitor` hook what changed since `token` (empty when there is none):
    /// `None` when no hook is configured or it gave no usable token; a report of
    /// [`Changed::Anything`] when it failed in any other way.
    pub fn query_fsmonitor(&self, token: &str) -> Option<Report> {
        let hook = self.fsmonitor_hook()?;
        let workdir = self.repo.workdir()?;
        let output = run(Command::new(&hook)
            .arg("2")
            .arg(token)
            .current_dir(workdir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE"))?;
        parse(&output)
    }
}

/// Runs the hook with nothing on its standard input, its errors dropped, its output read
/// up to [`MAX_OUTPUT`]; `None` when it cannot start, fails, overruns or takes too long (it
/// is then killed).
fn run(command: &mut Command) -> Option<Vec<u8>> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    // Read on a thread so that a hook that never ends is noticed.
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = (&mut stdout)
            .take(MAX_OUTPUT as u64 + 1)
            .read_to_end(&mut out);
        read.ok().map(|_| out)
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(1));
            }
            _ => break None,
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    // The hook has ended; its output ends with it (unless it left a child holding the pipe,
    // whose output is then not waited for).
    let deadline = started + TIMEOUT;
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    if !reader.is_finished() {
        return None;
    }
    let out = reader.join().ok()??;
    (status.success() && out.len() <= MAX_OUTPUT).then_some(out)
}

/// Reads the hook's output: `None` without a token; [`Changed::Anything`] for `/` or a path
/// that is not UTF-8 or not relative.
fn parse(output: &[u8]) -> Option<Report> {
    let mut fields = output.split(|&b| b == 0);
    let token = std::str::from_utf8(fields.next()?).ok()?;
    if token.is_empty() || token.contains('\n') {
        return None;
    }
    let mut paths = Vec::new();
    let mut anything = false;
    for field in fields {
        if field.is_empty() {
            continue;
        }
        match std::str::from_utf8(field) {
            Ok(path) if path != "/" && !path.starts_with('/') => paths.push(path.to_owned()),
            _ => anything = true,
        }
    }
    Some(Report {
        token: token.to_owned(),
        changed: if anything {
            Changed::Anything
        } else {
            Changed::Paths(paths)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_alone_is_nothing_changed() {
        let report = parse(b"c:1:2\0").unwrap();
        assert_eq!(report.token, "c:1:2");
        assert_eq!(report.changed, Changed::Paths(vec![]));
        assert_eq!(parse(b"t").unwrap().changed, Changed::Paths(vec![]));
    }

    #[test]
    fn paths_and_the_root() {
        let report = parse(b"t\0a/b.toml\0c/\0").unwrap();
        assert_eq!(
            report.changed,
            Changed::Paths(vec!["a/b.toml".to_owned(), "c/".to_owned()])
        );
        assert_eq!(parse(b"t\0a\0/\0").unwrap().changed, Changed::Anything);
        assert_eq!(parse(b"t\0\xff\0").unwrap().changed, Changed::Anything);
    }

    #[test]
    fn no_token_is_no_answer() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"\0a\0"), None);
        assert_eq!(parse(b"\xff\0a\0"), None);
        assert_eq!(parse(b"oops\nsomething went wrong\0"), None);
    }
}
