//! The pure parts of reviewing a ledger change: field-by-field differences of one record,
//! and who gains and loses in a payout. The store finds the changed files; the CLI renders.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::value::Id;

/// One field that differs between two versions of a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field (top-level key).
    pub field: String,
    /// Its value before, as TOML text (absent when the field is new).
    pub old: Option<String>,
    /// Its value after, as TOML text (absent when the field was removed).
    pub new: Option<String>,
}

/// The fields that differ between two texts of a record, each by its path: a table's keys
/// (sorted) and an array's items (numbered from 1, as `ovn check` numbers buckets and rules)
/// are followed down to the values that differ, so a one-word change to a rule reads
/// `buckets[2].rules[2].kind: "material" -> "materials"`, not two whole `buckets` arrays. An
/// item added to or removed from an array is one change with its whole value. A text that
/// is not TOML counts as a single field `(text)`.
pub fn field_changes(old: &str, new: &str) -> Vec<FieldChange> {
    let (Ok(a), Ok(b)) = (old.parse::<toml::Table>(), new.parse::<toml::Table>()) else {
        return vec![FieldChange {
            field: "(text)".to_owned(),
            old: Some(old.to_owned()),
            new: Some(new.to_owned()),
        }];
    };
    let mut out = Vec::new();
    tables("", &a, &b, 0, &mut out);
    out
}

/// How deep paths are followed; below, a value is shown whole. Records are shallow, and a
/// hostile file nested thousands deep must not cost a stack frame per level.
const MAX_DEPTH: usize = 16;

fn tables(at: &str, a: &toml::Table, b: &toml::Table, depth: usize, out: &mut Vec<FieldChange>) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let path = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        values(path, a.get(k), b.get(k), depth + 1, out);
    }
}

fn values(
    path: String,
    a: Option<&toml::Value>,
    b: Option<&toml::Value>,
    depth: usize,
    out: &mut Vec<FieldChange>,
) {
    use toml::Value::{Array, Table};
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Table(x)), Some(Table(y))) if depth < MAX_DEPTH => tables(&path, x, y, depth, out),
        (Some(Array(x)), Some(Array(y))) if depth < MAX_DEPTH => {
            for i in 0..x.len().max(y.len()) {
                values(
                    format!("{path}[{}]", i + 1),
                    x.get(i),
                    y.get(i),
                    depth + 1,
                    out,
                );
            }
        }
        _ => out.push(FieldChange {
            field: path,
            old: a.map(|v| v.to_string()),
            new: b.map(|v| v.to_string()),
        }),
    }
}

/// One agent's payout before and after a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgentImpact {
    /// The agent.
    pub agent: String,
    /// What it is paid before.
    pub before: Decimal,
    /// What it is paid after.
    pub after: Decimal,
    /// `after - before`.
    pub difference: Decimal,
}

/// Every agent paid on either side, sorted by agent id, with what changes for them.
pub fn impact(
    before: Option<&[(Id, Decimal)]>,
    after: Option<&[(Id, Decimal)]>,
) -> Vec<AgentImpact> {
    let mut by: BTreeMap<&Id, (Decimal, Decimal)> = BTreeMap::new();
    for (agent, amount) in before.into_iter().flatten() {
        by.entry(agent).or_default().0 += amount;
    }
    for (agent, amount) in after.into_iter().flatten() {
        by.entry(agent).or_default().1 += amount;
    }
    by.into_iter()
        .map(|(agent, (b, a))| AgentImpact {
            agent: agent.to_string(),
            before: b,
            after: a,
            difference: a - b,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_differ_are_listed_once_each() {
        let changes = field_changes(
            "id = \"x\"\nhours = \"2\"\nskill = \"cad\"\n",
            "id = \"x\"\nhours = \"3\"\nnote = \"n\"\n",
        );
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["hours", "note", "skill"]);
        assert_eq!(changes[0].old.as_deref(), Some("\"2\""));
        assert_eq!(changes[1].old, None);
        assert_eq!(changes[2].new, None);
    }

    #[test]
    fn nested_changes_are_listed_by_path() {
        let old = "[[buckets]]\nname = \"a\"\n[[buckets.rules]]\nkind = \"work\"\n[[buckets.rules]]\nkind = \"hours\"\n";
        let new = "[[buckets]]\nname = \"a\"\n[[buckets.rules]]\nkind = \"work\"\n[[buckets.rules]]\nkind = \"material\"\n[[buckets]]\nname = \"b\"\nto = \"x\"\n";
        let changes = field_changes(old, new);
        assert_eq!(
            changes,
            [
                FieldChange {
                    field: "buckets[1].rules[2].kind".to_owned(),
                    old: Some("\"hours\"".to_owned()),
                    new: Some("\"material\"".to_owned()),
                },
                FieldChange {
                    field: "buckets[2]".to_owned(),
                    old: None,
                    new: Some("{ name = \"b\", to = \"x\" }".to_owned()),
                },
            ]
        );
    }

    #[test]
    fn a_deeply_nested_value_is_shown_whole_below_the_limit() {
        let deep = format!("x = {}1{}\n", "[".repeat(40), "]".repeat(40));
        let changes = field_changes("x = 1\n", &deep);
        assert_eq!(changes.len(), 1);
        let deeper = format!("x = {}2{}\n", "[".repeat(40), "]".repeat(40));
        let changes = field_changes(&deep, &deeper);
        assert_eq!(changes.len(), 1);
        assert!(
            changes[0].field.matches('[').count() <= MAX_DEPTH,
            "{changes:?}"
        );
    }
}
