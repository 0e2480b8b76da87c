//! Everything `ovn` takes from its environment, read in one place.
//!
//! Time and identity come from here so that tests (and reproducible runs) can pin them:
//! `OVN_NOW` fixes the clock, and git's own `GIT_AUTHOR_NAME` / `GIT_AUTHOR_EMAIL` override the
//! configured identity as they do for git; `OVN_FAILPOINT` makes a write abort at a named
//! point, for the crash-safety tests. The rest of the crate never reads the environment
//! (clippy's `disallowed-methods` enforces it), which keeps the core deterministic.

use chrono::{DateTime, FixedOffset, Local};

/// The environment of one `ovn` run.
#[derive(Clone, Debug)]
pub struct Context {
    /// The moment to stamp on commits, in the local time zone (its date is "today").
    pub now: DateTime<FixedOffset>,
    /// Author name override (`GIT_AUTHOR_NAME`).
    pub author_name: Option<String>,
    /// Author email override (`GIT_AUTHOR_EMAIL`).
    pub author_email: Option<String>,
    /// Testing only: abort a write at this named point (`OVN_FAILPOINT`).
    pub failpoint: Option<String>,
    /// Whether the cache in `.git/ovn/cache` is used and filled (on unless `--no-cache`; see
    /// [`crate::cache`]). Answers are the same either way.
    pub cache: bool,
}

/// The environment variable that pins the clock (RFC 3339, e.g. `2026-11-24T10:00:00+01:00`).
pub const NOW_VAR: &str = "OVN_NOW";

/// The environment variable that makes a write abort at a named point (crash-safety tests):
/// `after-objects`, `after-journal`, `after-ref`, `after-tmp`, `after-files`, `after-index`.
pub const FAILPOINT_VAR: &str = "OVN_FAILPOINT";

impl Context {
    /// Reads the process environment.
    #[allow(clippy::disallowed_methods)]
    pub fn from_env() -> Result<Context, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let now = match var(NOW_VAR) {
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map_err(|e| format!("{NOW_VAR}={text:?} is not an RFC 3339 time ({e})"))?,
            None => Local::now().fixed_offset(),
        };
        Ok(Context {
            now,
            author_name: var("GIT_AUTHOR_NAME"),
            author_email: var("GIT_AUTHOR_EMAIL"),
            failpoint: var(FAILPOINT_VAR),
            cache: true,
        })
    }
}
