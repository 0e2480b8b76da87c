//! A small JSON Schema validator for the schemas in `schemas/`: the keywords they use
//! (`type`, `properties`, `required`, `additionalProperties`, `items`, `enum`, `anyOf`,
//! `$ref` into `$defs` (a JSON pointer), `minLength`, `maxLength`, `minimum`), and a panic on any other, so a
//! schema can never rely on a keyword that goes unchecked here. Written for the tests rather
//! than taken from a crate: `cargo test` runs offline and without python, and CI checks the
//! same schemas with python's `jsonschema` as well.

use serde_json::Value;

/// Every place where `value` breaks `schema` (empty when it conforms), as JSON pointers with
/// what was wrong.
pub fn errors(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, schema, value, "", &mut out);
    out
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        panic!("a schema is an object at {at}: {schema}");
    };
    for (key, rule) in s {
        match key.as_str() {
            "$schema" | "title" | "description" | "$defs" => {}
            "$ref" => {
                // A JSON pointer within the schema, into `$defs` (a definition, or a part of
                // one such as `#/$defs/payout/properties/lines`).
                let pointer = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .filter(|p| p.starts_with("/$defs/"))
                    .unwrap_or_else(|| panic!("only #/$defs/ references: {rule}"));
                let target = root
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("no {pointer}"));
                check(root, target, value, at, out);
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type at {at}: {rule}"),
                };
                if !types.iter().any(|t| is(t, value)) {
                    out.push(format!("{at}: {value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|e| e.contains(value)) {
                    out.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "anyOf" => {
                let options = rule.as_array().expect("anyOf is a list");
                if !options.iter().any(|o| {
                    let mut e = Vec::new();
                    check(root, o, value, at, &mut e);
                    e.is_empty()
                }) {
                    out.push(format!("{at}: {value} matches none of anyOf"));
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for r in rule.as_array().expect("required is a list") {
                        let r = r.as_str().expect("required names are strings");
                        if !obj.contains_key(r) {
                            out.push(format!("{at}: missing {r:?}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    for (k, sub) in rule.as_object().expect("properties is an object") {
                        if let Some(v) = obj.get(k) {
                            check(root, sub, v, &format!("{at}/{k}"), out);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = s.get("properties").and_then(Value::as_object);
                    for (k, v) in obj {
                        if known.is_some_and(|p| p.contains_key(k)) {
                            continue;
                        }
                        match rule {
                            Value::Bool(true) => {}
                            Value::Bool(false) => out.push(format!("{at}: unexpected {k:?}")),
                            sub => check(root, sub, v, &format!("{at}/{k}"), out),
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        check(root, rule, v, &format!("{at}/{i}"), out);
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let Some(text) = value.as_str() {
                    let n = text.chars().count() as u64;
                    let bound = rule.as_u64().expect("a length is a number");
                    if (key == "minLength" && n < bound) || (key == "maxLength" && n > bound) {
                        out.push(format!("{at}: {value} breaks {key} {bound}"));
                    }
                }
            }
            "minimum" => {
                if let (Some(n), Some(m)) = (value.as_f64(), rule.as_f64())
                    && n < m
                {
                    out.push(format!("{at}: {value} is below {m}"));
                }
            }
            other => panic!("the schema uses `{other}`, which this validator does not check"),
        }
    }
}

fn is(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        other => panic!("unknown type {other}"),
    }
}
