//! Agreement templates: the commented value equations `ovn agreement add` starts from.
//!
//! A template is a TOML file beside this one (`templates/<name>.toml`), included in the
//! binary, so it is read and reviewed as the file a user gets rather than as Rust strings.
//! [`TEMPLATES`] is the one list of them: a new template is a file and one line there. Each
//! has three placeholders, `@TITLE@` (in a comment), `@ID@` and `@NAME@` (TOML values), which
//! [`render`] fills with the id and the quoted name, so what comes out is one agreement the
//! ledger's reader accepts as written (a test below loads every template into a ledger and
//! finds no problem). Templates name no agent: an agreement that paid a fund by name would be
//! refused in a ledger that has no such agent, so those lines are comments to fill in.

use super::value::Id;
use super::write::quote;

/// An agreement template: its name on the command line, a line about it, and its text.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// The name given to `--template`.
    pub name: &'static str,
    /// What it is, in a few words (for `--help`).
    pub about: &'static str,
    /// The text, with the placeholders `@TITLE@`, `@ID@` and `@NAME@`.
    pub text: &'static str,
}

/// Every template, in the order `--help` lists them.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "simple",
        about: "money and materials reimbursed first, the rest shared by work and use",
        text: include_str!("templates/simple.toml"),
    },
    Template {
        name: "sensorica",
        about: "SENSORICA's pattern: investments repaid with a premium, costs, then fluid equity weighted by skill",
        text: include_str!("templates/sensorica.toml"),
    },
    Template {
        name: "slicing-pie",
        about: "Mike Moyer's Slicing Pie: time ×2, cash ×4; a bad leaver forfeits non-cash slices",
        text: include_str!("templates/slicing-pie.toml"),
    },
    Template {
        name: "sourcecred-balanced",
        about: "SourceCred's grain policies: a balanced bucket with decay, then recent work",
        text: include_str!("templates/sourcecred-balanced.toml"),
    },
];

/// The template called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// The agreement `id` named `name` as `template` writes it.
pub fn render(template: &Template, id: &Id, name: &str) -> String {
    template
        .text
        .replace("@TITLE@", &format!("Agreement {id}"))
        .replace("@ID@", &quote(id.as_str()))
        .replace("@NAME@", &quote(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{RawFile, load};

    fn file(path: &str, text: &str) -> RawFile {
        RawFile {
            path: path.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_template_is_an_agreement_the_ledger_accepts_as_written() {
        for t in TEMPLATES {
            let id = Id::parse("new-ve").unwrap();
            let text = render(t, &id, "A \"quoted\" name \\ with a backslash");
            assert!(!text.contains('@'), "{}: a placeholder is left", t.name);
            let loaded = load(&[
                file(
                    "ovn.toml",
                    "format = 1\nname = \"N\"\ncurrency = \"EUR\"\nvalidated_branch = \"main\"\n",
                ),
                file("agreements/new-ve.toml", &text),
                file(
                    "projects/p.toml",
                    "id = \"p\"\nname = \"P\"\nagreement = \"new-ve\"\n",
                ),
            ]);
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:?}",
                t.name,
                loaded.diagnostics
            );
            let a = &loaded.ledger.agreements[0];
            assert_eq!(a.name, "A \"quoted\" name \\ with a backslash");
            assert!(!a.buckets.is_empty());
            // Slicing Pie states its leaver terms; the others keep everything.
            assert_eq!(a.leaving.keeps_all(), t.name != "slicing-pie", "{}", t.name);
        }
    }

    #[test]
    fn templates_have_distinct_names_and_are_found_by_them() {
        for (i, t) in TEMPLATES.iter().enumerate() {
            assert!(TEMPLATES[..i].iter().all(|o| o.name != t.name));
            assert_eq!(find(t.name).map(|f| f.name), Some(t.name));
        }
        assert!(find("slicing").is_none());
    }
}
