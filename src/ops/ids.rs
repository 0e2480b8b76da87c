//! Abbreviated ids: a unique prefix stands for the whole id, as git takes a short commit id.
//!
//! Contribution ids are 26 characters, so people copy a few (`ovn approve 01m92jb1x8`), and
//! names of agents and projects are typed in a hurry. Every command that takes an id
//! resolves it here, by one rule: the exact id wins; else the one id that starts with what
//! was given; else, when several do, an error listing a few of them (escaped: they are file
//! names a pull request may have chosen); else nothing, and the command says the id is
//! unknown in its own words (with a did-you-mean).

use super::Error;
use crate::core::render::escaped;
use crate::core::value::Id;
use crate::store::View;

/// How many candidates an ambiguous prefix lists.
pub const SHOWN: usize = 5;

/// The id `given` stands for among `ids` (of records called `noun`s): itself, or the one
/// id it is a prefix of; `None` when no id starts with it; an error when several do.
pub fn resolve<'a>(
    noun: &str,
    given: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<Option<String>, Error> {
    let mut found: Vec<&str> = Vec::new();
    let mut more = 0usize;
    for id in ids {
        if id == given {
            return Ok(Some(id.to_owned()));
        }
        if !given.is_empty() && id.starts_with(given) {
            if found.len() < SHOWN {
                found.push(id);
            } else {
                more += 1;
            }
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [one] if more == 0 => Ok(Some((*one).to_owned())),
        _ => Err(ambiguous(noun, given, &found, more)),
    }
}

fn ambiguous(noun: &str, given: &str, found: &[&str], more: usize) -> Error {
    let mut list: Vec<String> = found.iter().map(|f| escaped(f)).collect();
    list.sort();
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Error::usage(
        format!(
            "{} is the start of several {noun} ids: {}{tail}",
            escaped(given),
            list.join(", ")
        ),
        Some("give more of the id".to_owned()),
    )
}

/// The committed contribution `given` names (its id, or a unique prefix of one) in the
/// ledger a write builds on: its id and its file; `None` when none has that id or prefix.
pub fn contribution(view: &View<'_>, given: &str) -> Result<Option<(Id, String)>, Error> {
    if let Some(path) = view.find_contribution(given)? {
        return Ok(Id::parse(given).ok().map(|id| (id, path)));
    }
    // Enough to say how many more there are, without reading every day of a large ledger.
    let paths = view.contributions_starting_with(given, 1000)?;
    let stems: Vec<&str> = paths
        .iter()
        .filter_map(|p| p.rsplit('/').next()?.strip_suffix(".toml"))
        .collect();
    let Some(id) = resolve("contribution", given, stems.iter().copied())? else {
        return Ok(None);
    };
    let path = paths.iter().find(|p| p.ends_with(&format!("/{id}.toml")));
    Ok(match (Id::parse(&id), path) {
        (Ok(id), Some(path)) => Some((id, path.clone())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_unique_prefix_then_ambiguous() {
        let ids = ["ana", "anabel", "ben", "bert", "cy"];
        let r = |g: &str| resolve("agent", g, ids.iter().copied());
        assert_eq!(r("ana").unwrap().as_deref(), Some("ana"));
        assert_eq!(r("anab").unwrap().as_deref(), Some("anabel"));
        assert_eq!(r("c").unwrap().as_deref(), Some("cy"));
        assert_eq!(r("zed").unwrap(), None);
        assert_eq!(r("").unwrap(), None);
        let Err(Error::Usage { message, .. }) = r("be") else {
            panic!("ambiguous")
        };
        assert_eq!(message, "be is the start of several agent ids: ben, bert");
    }

    #[test]
    fn an_ambiguous_prefix_lists_a_few_escaped() {
        let many: Vec<String> = (0..9).map(|i| format!("01x{i}")).collect();
        let mut ids: Vec<&str> = many.iter().map(String::as_str).collect();
        ids.push("01x\u{1b}evil");
        let Err(Error::Usage { message, .. }) = resolve("contribution", "01x", ids) else {
            panic!("ambiguous")
        };
        assert_eq!(
            message,
            "01x is the start of several contribution ids: 01x0, 01x1, 01x2, 01x3, 01x4 and 5 more"
        );
    }
}
