//! Judging a write before it happens: the problems that adding records would bring.
//!
//! A write (`ovn log`, `ovn agent add`, ...) loads the part of the ledger the new records can
//! interact with (the network, agents, projects, resources and agreements, the day of a new
//! contribution and whatever it corrects), loads it again with the new records added, and
//! keeps the diagnostics that only the second load has. That is exactly what `ovn check`
//! would report against the new records and the ledger-wide checks that involve them
//! (references, duplicate ids and emails, project parents, hours per day), while problems the
//! ledger already had, and artefacts of loading only a part of it, are on both sides and
//! cancel out. The one check that can see the part differently from the whole is hours per
//! day (a record of that day may be superseded from another day), so
//! [`only_day_overflow`] tells the caller when to confirm against the whole ledger.

use std::collections::HashMap;

use super::diag::{Code, Diagnostic, Span};
use super::ledger::{self, Loaded, RawFile};

/// The diagnostics that `base` plus `added` has and `base` alone (already loaded as
/// `base_loaded`) has not, in canonical order. A file of `added` whose path `base` has
/// replaces it (an edited agent, say): what is judged is the ledger as the write leaves it.
pub fn new_problems(base: &[RawFile], base_loaded: &Loaded, added: &[RawFile]) -> Vec<Diagnostic> {
    let mut all = Vec::with_capacity(base.len() + added.len());
    all.extend(
        base.iter()
            .filter(|f| !added.iter().any(|a| a.path == f.path))
            .cloned(),
    );
    all.extend_from_slice(added);
    let combined = ledger::load(&all);
    difference(&combined.diagnostics, &base_loaded.diagnostics)
}

/// Whether every problem is a day-overflow (the one check a partial ledger can overstate).
pub fn only_day_overflow(problems: &[Diagnostic]) -> bool {
    !problems.is_empty() && problems.iter().all(|d| d.code == Code::DayOverflow)
}

/// `after` minus `before`, as multisets of diagnostics.
fn difference<'a>(after: &'a [Diagnostic], before: &'a [Diagnostic]) -> Vec<Diagnostic> {
    type Key<'a> = (Code, &'a str, Option<Span>, &'a str, Option<&'a str>);
    let key =
        |d: &'a Diagnostic| -> Key<'a> { (d.code, &d.path, d.span, &d.message, d.hint.as_deref()) };
    let mut seen: HashMap<Key<'_>, usize> = HashMap::new();
    for d in before {
        *seen.entry(key(d)).or_default() += 1;
    }
    after
        .iter()
        .filter(|d| match seen.get_mut(&key(d)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> RawFile {
        RawFile {
            path: path.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn base() -> Vec<RawFile> {
        vec![
            file(
                "ovn.toml",
                "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nvalidated_branch = \"main\"\n",
            ),
            file(
                "agents/ana.toml",
                "id = \"ana\"\nname = \"Ana\"\nemails = [\"ana@x.example\"]\n",
            ),
            file("projects/drone.toml", "id = \"drone\"\nname = \"Drone\"\n"),
            // A problem the ledger already has: it must not block other writes.
            file(
                "projects/lab.toml",
                "id = \"lab\"\nname = \"Lab\"\nstewards = [\"nobody\"]\n",
            ),
            file(
                "contributions/2026/03/10/a1.toml",
                "id = \"a1\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"drone\"\nkind = \"work\"\ndescription = \"x\"\nhours = \"20\"\n",
            ),
        ]
    }

    fn work(id: &str, hours: &str, project: &str) -> RawFile {
        file(
            &format!("contributions/2026/03/10/{id}.toml"),
            &format!(
                "id = \"{id}\"\nagent = \"ana\"\ndate = 2026-03-10\nproject = \"{project}\"\nkind = \"work\"\ndescription = \"y\"\nhours = \"{hours}\"\n"
            ),
        )
    }

    #[test]
    fn an_acceptable_record_brings_no_problem() {
        let base = base();
        let loaded = ledger::load(&base);
        assert_eq!(loaded.diagnostics.len(), 1);
        assert!(new_problems(&base, &loaded, &[work("a2", "4", "drone")]).is_empty());
    }

    #[test]
    fn the_records_own_problems_and_the_checks_it_breaks() {
        let base = base();
        let loaded = ledger::load(&base);
        let found = new_problems(&base, &loaded, &[work("a2", "5", "dron")]);
        let codes: Vec<Code> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::UnknownReference, Code::DayOverflow]);
        assert!(!only_day_overflow(&found));
        let found = new_problems(&base, &loaded, &[work("a2", "5", "drone")]);
        assert!(only_day_overflow(&found));
    }

    #[test]
    fn a_file_of_the_same_path_replaces_the_one_in_the_base() {
        let base = base();
        let loaded = ledger::load(&base);
        let edited = file(
            "agents/ana.toml",
            "id = \"ana\"\nname = \"Ana Lima\"\nemails = [\"ana@x.example\"]\n",
        );
        assert!(new_problems(&base, &loaded, &[edited]).is_empty());
        let broken = file(
            "projects/drone.toml",
            "id = \"drone\"\nname = \"Drone\"\nparent = \"nope\"\n",
        );
        let found = new_problems(&base, &loaded, &[broken]);
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
