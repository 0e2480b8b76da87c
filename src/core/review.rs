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

/// The top-level fields that differ between two texts of a record, sorted by field name. A
/// text that is not TOML counts as a single field `(text)`.
pub fn field_changes(old: &str, new: &str) -> Vec<FieldChange> {
    let (Ok(a), Ok(b)) = (old.parse::<toml::Table>(), new.parse::<toml::Table>()) else {
        return vec![FieldChange {
            field: "(text)".to_owned(),
            old: Some(old.to_owned()),
            new: Some(new.to_owned()),
        }];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: &toml::Value| v.to_string();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| FieldChange {
                field: k.clone(),
                old: x.map(show),
                new: y.map(show),
            })
        })
        .collect()
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
}
