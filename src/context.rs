//! Everything `ovn` takes from its environment, read in one place.
//!
//! Time and identity come from here so that tests (and reproducible runs) can pin them:
//! `OVN_NOW` fixes the clock, and git's own `GIT_AUTHOR_NAME` / `GIT_AUTHOR_EMAIL` override the
//! configured identity as they do for git; `OVN_FAILPOINT` makes a write abort at a named
//! point, for the crash-safety tests, and `OVN_FILL_WINDOW` sets how many files a cold cache
//! is filled with at a time, for the tests of that; `NO_COLOR`, `CLICOLOR` and `CLICOLOR_FORCE` decide
//! whether errors are coloured; git's `GIT_INDEX_FILE` names the index a hook's commit is made
//! from, and `XDG_CONFIG_HOME` / `HOME` where the user's git attributes file is. The rest of
//! the crate never reads the environment
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
    /// Whether `ovn`'s own errors, warnings and hints on stderr are coloured: on a terminal,
    /// unless `NO_COLOR` or `CLICOLOR=0` says otherwise; `CLICOLOR_FORCE` forces it elsewhere
    /// (the conventions at no-color.org and bixense.com/clicolors).
    pub color: bool,
    /// The index `ovn check --staged` reads when git names one (`GIT_INDEX_FILE`, made
    /// absolute against the working directory as git reads it): `git commit -a` and
    /// `git commit FILE` stage into a temporary index and point their hooks at it.
    pub index_file: Option<std::path::PathBuf>,
    /// The attributes file git reads for the user when `core.attributesFile` is not set
    /// (`$XDG_CONFIG_HOME/git/attributes`, else `$HOME/.config/git/attributes`): where it
    /// exists, git may convert files on checkout, so the working tree is read from disk.
    pub user_attributes: Option<std::path::PathBuf>,
    /// Testing only: how many files a cold cache is filled with at a time
    /// (`OVN_FILL_WINDOW`), so that a small ledger spans many windows.
    pub fill_window: Option<usize>,
}

/// Whether to colour stderr, from `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE` (each set and not
/// empty, else `None`) and whether stderr is a terminal. `NO_COLOR` wins; then a
/// `CLICOLOR_FORCE` other than `0`; then a terminal, unless `CLICOLOR=0`.
pub fn color(
    no_color: Option<&str>,
    clicolor: Option<&str>,
    force: Option<&str>,
    terminal: bool,
) -> bool {
    if no_color.is_some() {
        return false;
    }
    if force.is_some_and(|f| f != "0") {
        return true;
    }
    terminal && clicolor != Some("0")
}

/// The environment variable that pins the clock (RFC 3339, e.g. `2026-11-24T10:00:00+01:00`).
pub const NOW_VAR: &str = "OVN_NOW";

/// The environment variable that makes a write abort at a named point (crash-safety tests):
/// `after-objects`, `after-journal`, `after-ref`, `after-tmp`, `after-files`, `after-index`.
pub const FAILPOINT_VAR: &str = "OVN_FAILPOINT";

/// The environment variable that sets how many files a cold cache is filled with at a time
/// (tests make it small).
pub const FILL_WINDOW_VAR: &str = "OVN_FILL_WINDOW";

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
            color: color(
                var("NO_COLOR").as_deref(),
                var("CLICOLOR").as_deref(),
                var("CLICOLOR_FORCE").as_deref(),
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ),
            index_file: var("GIT_INDEX_FILE").map(|file| match std::env::current_dir() {
                Ok(cwd) => cwd.join(file),
                Err(_) => file.into(),
            }),
            user_attributes: var("XDG_CONFIG_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| var("HOME").map(|home| std::path::Path::new(&home).join(".config")))
                .map(|config| config.join("git/attributes")),
            fill_window: var(FILL_WINDOW_VAR).and_then(|v| v.parse().ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::color;

    #[test]
    fn colour_only_on_a_terminal_unless_forced_and_never_with_no_color() {
        assert!(color(None, None, None, true));
        assert!(!color(None, None, None, false));
        assert!(!color(Some("1"), None, Some("1"), true));
        assert!(!color(None, Some("0"), None, true));
        assert!(color(None, Some("0"), Some("1"), false));
        assert!(!color(None, None, Some("0"), false));
    }
}
