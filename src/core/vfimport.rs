//! `ovn import valueflows`: agents, projects, resources and contributions from a ValueFlows
//! document.
//!
//! Two families of documents are read. JSON-LD, as `ovn export valueflows` writes it and as
//! the ValueFlows examples are written: a `@graph` of nodes (or one node, or an array of
//! them), terms prefixed `vf:`, written as full IRIs, or bare under an `@vocab`; references
//! `{"@id": ...}` or plain strings. And the JSON answer of a ValueFlows GraphQL server such
//! as hREA: `{"data": {"economicEvents": {"edges": [{"node": {...}}]}}}`, bare field names,
//! references as embedded objects (`"provider": {"id": ..., "name": ...}`). Both become the
//! same list of nodes (`Node`: a JSON path, an id, types and properties by their VF local
//! name), read by one interpreter, so what a node means never depends on how it was spelled.
//!
//! Nodes from our own export keep their ids: `<base>agent/ana` is agent `ana`, an event
//! `<base>contribution/ID` is contribution `ID` (its parts, one per owner of a pooled
//! resource, are summed back into one record; a `/correction` part says what it supersedes),
//! so export, import and export again give the same document. Nodes of other tools get ids
//! derived from their own (a slug of the name and a hash of the foreign id for agents, a
//! time-sortable id whose random part is a hash for events), so importing a file twice
//! finds every record already there and adds nothing.
//!
//! The input is hostile by default: it is bounded (the caller reads at most
//! [`super::import::MAX_BYTES`]; serde_json refuses nesting deeper than 128; at most
//! [`MAX_NODES`] nodes), no JSON value makes it panic, and every problem is reported at
//! once with the JSON path of its node (`@graph[12].vf:hasBeginning`), the texts it quotes
//! escaped. What no ovn record holds (processes, plans, claims, payouts, approvals,
//! agreements the ledger does not have) is left out and said so.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::Digest;

use super::parse::{TextProblem, is_name_word, text_problem};
use super::record::{
    Agent, AgentKind, At, Contribution, Kind, Owner, Ownership, Project, Resource,
};
use super::value::{Id, Percent, is_currency_code};
use super::valueflows::VF;

/// The most nodes one document may hold (embedded ones included).
pub const MAX_NODES: usize = 500_000;

/// One problem with the document, at the JSON path of the node or property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeError {
    /// Where: `@graph[12].vf:hasBeginning`, or empty for the whole document.
    pub path: String,
    /// What is wrong (quoted texts escaped).
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> NodeError {
    NodeError {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// A record read from the document, with the JSON path of its node.
pub type Found<T> = (String, T);

/// What a document holds that ovn records can hold.
#[derive(Debug, Default)]
pub struct Graph {
    /// The base of the document's own ids (`ledger` in its `@context`), when it has one.
    pub base: Option<String>,
    /// Agents.
    pub agents: Vec<Found<Agent>>,
    /// Projects.
    pub projects: Vec<Found<Project>>,
    /// Resources.
    pub resources: Vec<Found<Resource>>,
    /// Agreements the document names by our ids: they must already be in the ledger.
    pub agreements: Vec<Found<Id>>,
    /// Contributions, in the document's order.
    pub contributions: Vec<Found<Contribution>>,
    /// What was left out, one sentence each.
    pub left_out: Vec<String>,
}

/// One node of the document: where it is, its id, its types and its properties, all by
/// their ValueFlows local names (`EconomicEvent`, `hasPointInTime`).
#[derive(Debug)]
struct Node<'a> {
    path: String,
    id: Option<String>,
    types: Vec<String>,
    /// Local name -> (the key as written, the value).
    props: BTreeMap<String, (String, &'a Value)>,
}

impl<'a> Node<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.props.get(name).map(|(_, v)| *v)
    }

    /// The JSON path of property `name` (as the document spells it).
    fn at(&self, name: &str) -> String {
        let key = self.props.get(name).map_or(name, |(k, _)| k.as_str());
        format!("{}.{}", self.path, key.escape_debug())
    }

    fn is(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t == ty)
    }
}

/// The document's prefixes and vocabulary, to expand compact ids and keys.
#[derive(Debug, Default)]
struct Context {
    prefixes: HashMap<String, String>,
    vocab: Option<String>,
}

impl Context {
    fn read(v: Option<&Value>) -> Context {
        let mut c = Context::default();
        let mut add = |o: &serde_json::Map<String, Value>| {
            for (k, v) in o {
                if let Some(s) = v.as_str() {
                    if k == "@vocab" {
                        c.vocab = Some(s.to_owned());
                    } else if !k.starts_with('@') {
                        c.prefixes.insert(k.clone(), s.to_owned());
                    }
                }
            }
        };
        match v {
            Some(Value::Object(o)) => add(o),
            Some(Value::Array(items)) => {
                for i in items {
                    if let Value::Object(o) = i {
                        add(o);
                    }
                }
            }
            _ => {}
        }
        c
    }

    /// `prefix:rest` with a known prefix, expanded.
    fn expand(&self, s: &str) -> String {
        if let Some((p, rest)) = s.split_once(':')
            && !rest.starts_with("//")
            && let Some(full) = self.prefixes.get(p)
        {
            return format!("{full}{rest}");
        }
        s.to_owned()
    }

    /// The ValueFlows local name of a key or type, or `None` for another vocabulary's.
    fn local(&self, s: &str) -> Option<String> {
        let full = self.expand(s);
        for ns in [
            VF,
            "http://w3id.org/valueflows/ont/vf#",
            "https://w3id.org/valueflows#",
        ] {
            if let Some(rest) = full.strip_prefix(ns) {
                return Some(rest.to_owned());
            }
        }
        if let Some(v) = &self.vocab
            && let Some(rest) = full.strip_prefix(v.as_str())
            && !rest.contains([':', '/', '#'])
        {
            return Some(rest.to_owned());
        }
        // Bare words: GraphQL field names, or terms under the default vocabulary.
        (!full.contains([':', '/', '#']) && !full.starts_with('@')).then_some(full)
    }
}

/// Reads a ValueFlows document (JSON-LD or a GraphQL answer): everything an ovn record can
/// hold, or every problem found.
pub fn read(text: &str) -> Result<Graph, Vec<NodeError>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        vec![err(
            "",
            format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
        )]
    })?;
    let mut nodes = Vec::new();
    let cx = Context::read(doc.get("@context"));
    collect_top(&doc, &cx, &mut nodes).map_err(|e| vec![e])?;
    let base = cx.prefixes.get("ledger").cloned();
    Reader::new(&cx, base, &nodes).read()
}

/// The document's nodes: a `@graph`, an array, a GraphQL `data` object, or one node.
fn collect_top<'a>(doc: &'a Value, cx: &Context, out: &mut Vec<Node<'a>>) -> Result<(), NodeError> {
    match doc {
        Value::Object(o) if o.contains_key("@graph") => match &o["@graph"] {
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    collect(v, format!("@graph[{i}]"), None, cx, out)?;
                }
                Ok(())
            }
            v => collect(v, "@graph".to_owned(), None, cx, out),
        },
        Value::Object(o) if o.get("data").is_some_and(Value::is_object) => {
            for (field, v) in o["data"].as_object().into_iter().flatten() {
                let hint = graphql_type(field);
                let path = format!("data.{}", field.escape_debug());
                match v {
                    Value::Object(c) if c.get("edges").is_some_and(Value::is_array) => {
                        for (i, e) in c["edges"].as_array().into_iter().flatten().enumerate() {
                            if let Some(n) = e.get("node") {
                                collect(n, format!("{path}.edges[{i}].node"), hint, cx, out)?;
                            }
                        }
                    }
                    Value::Array(items) => {
                        for (i, n) in items.iter().enumerate() {
                            collect(n, format!("{path}[{i}]"), hint, cx, out)?;
                        }
                    }
                    Value::Object(_) => collect(v, path, hint, cx, out)?,
                    _ => {}
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("[{i}]"), None, cx, out)?;
            }
            Ok(())
        }
        Value::Object(_) => collect(doc, String::new(), None, cx, out),
        _ => Err(err("", "a ValueFlows document is a JSON object or array")),
    }
}

/// The type a GraphQL query field lists (`economicEvents` lists `EconomicEvent`s).
fn graphql_type(field: &str) -> Option<&'static str> {
    Some(match field {
        "economicEvents" | "economicEvent" | "createEconomicEvent" => "EconomicEvent",
        "economicResources" | "economicResource" => "EconomicResource",
        "agents" | "agent" | "myAgent" => "Agent",
        "people" | "person" => "Person",
        "organizations" | "organization" => "Organization",
        "agreements" | "agreement" => "Agreement",
        "units" | "unit" => "Unit",
        "claims" | "claim" => "Claim",
        _ => return None,
    })
}

/// The type of a node embedded as the value of `prop` (GraphQL embeds what it references).
fn embedded_type(prop: &str) -> Option<&'static str> {
    Some(match prop {
        "provider" | "receiver" | "primaryAccountable" | "inScopeOf" => "Agent",
        "resourceInventoriedAs" | "toResourceInventoriedAs" => "EconomicResource",
        "hasUnit" => "Unit",
        _ => return None,
    })
}

/// `v` as a node at `path` (with `hint` as its type when it states none), then the nodes
/// embedded in its properties.
fn collect<'a>(
    v: &'a Value,
    path: String,
    hint: Option<&str>,
    cx: &Context,
    out: &mut Vec<Node<'a>>,
) -> Result<(), NodeError> {
    let Value::Object(o) = v else {
        return Err(err(&path, "a node is a JSON object"));
    };
    if out.len() >= MAX_NODES {
        return Err(err(
            &path,
            format!("more than {MAX_NODES} nodes; split the document"),
        ));
    }
    let id = o
        .get("@id")
        .or_else(|| o.get("id"))
        .and_then(Value::as_str)
        .map(|s| cx.expand(s));
    let mut types = Vec::new();
    for key in ["@type", "__typename", "type"] {
        match o.get(key) {
            Some(Value::String(s)) => types.extend(cx.local(s)),
            Some(Value::Array(a)) => types.extend(
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|s| cx.local(s)),
            ),
            _ => {}
        }
    }
    if types.is_empty() {
        types.extend(hint.map(str::to_owned));
    }
    let mut props = BTreeMap::new();
    for (k, val) in o {
        // GraphQL answers every field asked, `null` when it has no value.
        if k.starts_with('@') || k == "id" || k == "__typename" || val.is_null() {
            continue;
        }
        if let Some(name) = cx.local(k) {
            props.entry(name).or_insert((k.clone(), val));
        }
    }
    let node_path = path.clone();
    let embedded: Vec<(String, &str, &Value)> = props
        .iter()
        .filter_map(|(name, (key, val))| {
            let ty = embedded_type(name)?;
            Some((format!("{node_path}.{}", key.escape_debug()), ty, *val))
        })
        .collect();
    out.push(Node {
        path,
        id,
        types,
        props,
    });
    for (p, ty, val) in embedded {
        match val {
            Value::Object(e) if e.len() > 1 && (e.contains_key("id") || e.contains_key("@id")) => {
                collect(val, p, Some(ty), cx, out)?;
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(e) = item
                        && e.len() > 1
                        && (e.contains_key("id") || e.contains_key("@id"))
                    {
                        collect(item, format!("{p}[{i}]"), Some(ty), cx, out)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A measure's unit, as far as ovn distinguishes units.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Unit {
    /// Time: hours per unit (1 for hours, 1/60 for minutes).
    Time(Decimal),
    /// Money in a currency.
    Money(String),
    /// Anything else, by its label.
    Other(String),
}

/// What one event says, before its parts are joined into a contribution.
#[derive(Debug)]
struct Event {
    path: String,
    /// The contribution it belongs to: its id in our own export (then `own`), else the
    /// event's id (or path); and whether it is the back-out part of a replacement.
    key: String,
    own: bool,
    correction: bool,
    action: String,
    provider: Option<Id>,
    project: Id,
    date: NaiveDate,
    kind: Option<Kind>,
    skill: Option<String>,
    hours: Option<Decimal>,
    money: Option<(Decimal, String)>,
    quantity: Option<(Decimal, String)>,
    resource: Option<Id>,
    note: Vec<String>,
    /// Another tool's agent the event is in the scope of (its id and JSON path): a project.
    foreign_project: Option<(String, String)>,
    /// The id of the event it corrects, as written.
    corrects: Option<String>,
    recorded_by: Option<Id>,
}

/// The interpreter: the nodes by id, and how the document's ids map to ovn ids.
struct Reader<'c, 'a> {
    cx: &'c Context,
    base: Option<String>,
    nodes: &'c [Node<'a>],
    /// The first node of each id (declared nodes come before the ones they embed).
    by_id: HashMap<&'c str, &'c Node<'a>>,
    errors: Vec<NodeError>,
    /// Foreign agents used as the project of events: id -> project id.
    projects_used: BTreeMap<String, (String, Id)>,
    /// What was left out, and how many.
    left: BTreeMap<String, usize>,
}

impl<'c, 'a> Reader<'c, 'a> {
    fn new(cx: &'c Context, base: Option<String>, nodes: &'c [Node<'a>]) -> Reader<'c, 'a> {
        let mut by_id = HashMap::new();
        for n in nodes {
            if let Some(id) = &n.id {
                by_id.entry(id.as_str()).or_insert(n);
            }
        }
        Reader {
            cx,
            base,
            nodes,
            by_id,
            errors: Vec::new(),
            projects_used: BTreeMap::new(),
            left: BTreeMap::new(),
        }
    }

    /// An id of our own export: (`agent`, `ana`) for `<base>agent/ana`.
    fn own<'s>(&self, id: &'s str) -> Option<(&'s str, &'s str)> {
        let rest = id.strip_prefix(self.base.as_deref()?)?;
        rest.split_once('/')
    }

    /// The ovn id of record `kind` named by `id`: ours as it is, another tool's derived.
    fn record_id(&mut self, path: &str, kind: &str, id: &str) -> Option<Id> {
        if let Some((k, rest)) = self.own(id)
            && k == kind
        {
            let text = decode(rest);
            return match Id::parse(&text) {
                Ok(i) => Some(i),
                Err(e) => {
                    self.errors.push(err(
                        path,
                        format!("`{}` is not an ovn id: {e}", text.escape_debug()),
                    ));
                    None
                }
            };
        }
        let name = self
            .by_id
            .get(id)
            .and_then(|n| n.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(kind);
        Some(derived_id(name, id))
    }

    fn reference(&self, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(self.cx.expand(s)),
            Value::Object(o) => o
                .get("@id")
                .or_else(|| o.get("id"))
                .and_then(Value::as_str)
                .map(|s| self.cx.expand(s)),
            Value::Array(a) => a.first().and_then(|v| self.reference(v)),
            _ => None,
        }
    }

    fn text(&mut self, node: &Node<'_>, prop: &str) -> Option<String> {
        let v = node.get(prop)?;
        let s = literal(v)?;
        match text_problem(&s) {
            None => Some(s.trim().to_owned()),
            Some(TextProblem::Empty) => None,
            Some(p) => {
                self.errors
                    .push(err(&node.at(prop), format!("the text {p}")));
                None
            }
        }
    }

    /// Reads every node.
    ///
    /// Long because it is the one pass that sorts nodes by kind in the document's order
    /// (agents, resources, events, what is left out); each kind is read by its own function.
    fn read(mut self) -> Result<Graph, Vec<NodeError>> {
        let mut g = Graph {
            base: self.base.clone(),
            ..Graph::default()
        };
        let mut events = Vec::new();
        let mut claims: HashMap<String, Decimal> = HashMap::new();
        let mut other = std::mem::take(&mut self.left);
        let mut seen_agents = BTreeSet::new();
        let mut seen_resources = BTreeSet::new();
        let nodes = self.nodes;
        for node in nodes {
            let id = node.id.as_deref().unwrap_or("");
            let own = self.own(id).map(|(k, _)| k);
            if node.is("EconomicEvent") {
                if own == Some("payout") {
                    *other.entry("payout transfers".to_owned()).or_default() += 1;
                    continue;
                }
                if let Some(e) = self.event(node) {
                    events.push(e);
                }
            } else if node.is("Person") || node.is("Organization") || node.is("Agent") {
                // An agent met only as what an event is for is a project, not a contributor.
                let last = node.path.rsplit('.').next().unwrap_or("");
                let only_scope = node.path.contains('.')
                    && node.types == ["Agent"]
                    && (last.starts_with("receiver") || last.starts_with("inScopeOf"));
                if only_scope {
                    continue;
                }
                if !seen_agents.insert(id.to_owned()) && !id.is_empty() {
                    continue;
                }
                self.agent(node, &mut g);
            } else if node.is("EconomicResource") {
                if !seen_resources.insert(id.to_owned()) && !id.is_empty() {
                    continue;
                }
                self.resource(node, &mut g);
            } else if node.is("Agreement") {
                match self.own(id) {
                    Some(("agreement", rest)) => match Id::parse(&decode(rest)) {
                        Ok(a) => g.agreements.push((node.path.clone(), a)),
                        Err(_) => *other.entry("agreements".to_owned()).or_default() += 1,
                    },
                    Some(("approval", _)) => *other.entry("approvals".to_owned()).or_default() += 1,
                    _ => *other.entry("agreements".to_owned()).or_default() += 1,
                }
            } else if node.is("Claim") {
                // Claims follow from events; one tells a material's money value.
                let event = node.get("triggeredBy").and_then(|v| self.reference(v));
                let money = node
                    .get("resourceQuantity")
                    .and_then(|m| self.measure(node, "resourceQuantity", m));
                if let (Some(e), Some((q, Unit::Money(_)))) = (event, money) {
                    claims.insert(e, q);
                }
            } else if node.is("Unit") || node.is("Measure") {
            } else {
                let ty = node.types.first().map_or("untyped", String::as_str);
                *other
                    .entry(format!("{} nodes", ty.escape_debug()))
                    .or_default() += 1;
            }
        }
        self.join(events, &claims, &mut g);
        for (what, n) in std::mem::take(&mut self.left) {
            *other.entry(what).or_default() += n;
        }
        for (id, (path, pid)) in std::mem::take(&mut self.projects_used) {
            if g.projects.iter().any(|(_, p)| p.id.value == pid) {
                continue;
            }
            let name = self
                .by_id
                .get(id.as_str())
                .and_then(|n| n.get("name"))
                .and_then(literal)
                .filter(|n| text_problem(n).is_none())
                .unwrap_or_else(|| pid.to_string());
            g.projects.push((path, project(pid, name)));
        }
        for (what, n) in other {
            g.left_out
                .push(format!("{n} {what} (no ovn record holds them)"));
        }
        if self.errors.is_empty() {
            Ok(g)
        } else {
            Err(self.errors)
        }
    }

    fn agent(&mut self, node: &Node<'_>, g: &mut Graph) {
        let id = node.id.clone().unwrap_or_default();
        if id.is_empty() {
            self.errors.push(err(&node.path, "an agent without an id"));
            return;
        }
        let is_project = self.own(&id).is_some_and(|(k, _)| k == "project")
            || node
                .get("classifiedAs")
                .and_then(|v| self.reference(v))
                .is_some_and(|c| self.own(&c) == Some(("taxonomy", "agent/project")));
        let name = self.text(node, "name");
        if is_project {
            let Some(pid) = self.record_id(&node.path, "project", &id) else {
                return;
            };
            let mut p = project(pid.clone(), name.unwrap_or_else(|| pid.to_string()));
            for line in self.text(node, "note").unwrap_or_default().lines() {
                let field = match line.split_once(": ") {
                    Some(("agreement", _)) => &mut p.agreement,
                    Some(("part of", _)) => &mut p.parent,
                    _ => continue,
                };
                let _ = a_id(line).map(|a| *field = Some(At::new(a)));
            }
            g.projects.push((node.path.clone(), p));
            return;
        }
        let Some(aid) = self.record_id(&node.path, "agent", &id) else {
            return;
        };
        let kind = if node.is("Organization") {
            AgentKind::Organization
        } else {
            AgentKind::Person
        };
        g.agents.push((
            node.path.clone(),
            Agent {
                file: 0,
                id: At::new(aid.clone()),
                name: name.unwrap_or_else(|| aid.to_string()),
                kind,
                emails: Vec::new(),
                keys: Vec::new(),
                joined: None,
                ledger: None,
                departures: Vec::new(),
            },
        ));
    }

    fn resource(&mut self, node: &Node<'_>, g: &mut Graph) {
        let Some(id) = node.id.clone() else {
            self.errors
                .push(err(&node.path, "a resource without an id"));
            return;
        };
        let Some(rid) = self.record_id(&node.path, "resource", &id) else {
            return;
        };
        let name = self.text(node, "name").unwrap_or_else(|| rid.to_string());
        let class = node.get("classifiedAs").and_then(|v| self.reference(v));
        let ownership = match class.as_deref().and_then(|c| self.own(c)) {
            Some(("taxonomy", "ownership/pooled")) => Some(Ownership::Pooled),
            Some(("taxonomy", "ownership/individual")) => Some(Ownership::Individual),
            Some(("taxonomy", "ownership/commons")) => Some(Ownership::Commons),
            _ => None,
        };
        let mut owners = Vec::new();
        let mut use_rate = None;
        let note = self.text(node, "note").unwrap_or_default();
        for line in note.lines() {
            if let Some(list) = line.strip_prefix("owners: ") {
                for part in list.split(", ") {
                    let parsed = part.split_once(' ').and_then(|(a, s)| {
                        Some(Owner {
                            agent: At::new(Id::parse(a).ok()?),
                            share: At::new(Percent::parse(s).ok()?),
                        })
                    });
                    match parsed {
                        Some(o) => owners.push(o),
                        None => self.errors.push(err(
                            &node.at("note"),
                            format!("owner {:?} is not `AGENT SHARE%`", part),
                        )),
                    }
                }
            } else if let Some(rate) = line.strip_prefix("use rate: ") {
                use_rate = rate
                    .split(' ')
                    .next()
                    .and_then(|r| Decimal::from_str(r).ok());
            }
        }
        let accountable = node
            .get("primaryAccountable")
            .and_then(|v| self.reference(v));
        let ownership = match (ownership, accountable) {
            (Some(o), _) => o,
            (None, Some(a)) => {
                if let Some(agent) = self.record_id(&node.at("primaryAccountable"), "agent", &a) {
                    owners = vec![Owner {
                        agent: At::new(agent),
                        share: At::new(Percent(Decimal::ONE_HUNDRED)),
                    }];
                }
                Ownership::Individual
            }
            (None, None) => Ownership::Commons,
        };
        g.resources.push((
            node.path.clone(),
            Resource {
                file: 0,
                id: At::new(rid),
                name,
                ownership,
                owners,
                stewards: Vec::new(),
                use_rate,
            },
        ));
    }

    /// A measure's number and unit, or `None` (with an error) when it is not one.
    fn measure(&mut self, node: &Node<'_>, prop: &str, m: &Value) -> Option<(Decimal, Unit)> {
        let path = node.at(prop);
        let Value::Object(o) = m else {
            self.errors.push(err(&path, "a measure is an object"));
            return None;
        };
        let find = |name: &str| {
            o.iter()
                .find(|(k, _)| self.cx.local(k).as_deref() == Some(name))
                .map(|(_, v)| v)
        };
        let number = find("hasNumericalValue").and_then(number);
        let Some(number) = number else {
            self.errors.push(err(
                &format!("{path}.hasNumericalValue"),
                "the measure has no number",
            ));
            return None;
        };
        let unit = find("hasUnit").map(|u| self.unit(u));
        match unit {
            Some(Some(u)) => Some((number, u)),
            _ => {
                self.errors.push(err(
                    &format!("{path}.hasUnit"),
                    "the measure has no unit ovn can read",
                ));
                None
            }
        }
    }

    fn unit(&self, u: &Value) -> Option<Unit> {
        let id = self.reference(u);
        let declared = id.as_deref().and_then(|i| self.by_id.get(i));
        let field = |name: &str| -> Option<String> {
            let from_embedded = match u {
                Value::Object(o) => o
                    .iter()
                    .find(|(k, _)| self.cx.local(k).as_deref() == Some(name))
                    .and_then(|(_, v)| literal(v)),
                _ => None,
            };
            from_embedded.or_else(|| declared.and_then(|n| n.get(name)).and_then(literal))
        };
        if let Some(id) = &id
            && let Some(("unit", rest)) = self.own(id)
        {
            return Some(match rest.split_once('/') {
                None if rest == "hour" => Unit::Time(Decimal::ONE),
                Some(("currency", c)) => Unit::Money(decode(c)),
                Some(("quantity", q)) => Unit::Other(decode(q)),
                _ => Unit::Other(decode(rest)),
            });
        }
        let om = field("omUnitIdentifier");
        let last = |s: &str| -> String {
            s.rsplit(['/', '#', ':'])
                .next()
                .unwrap_or(s)
                .trim()
                .to_owned()
        };
        let words: Vec<String> = [om.as_deref().map(last), id.as_deref().map(last)]
            .into_iter()
            .flatten()
            .chain(field("label"))
            .chain(field("symbol"))
            .collect();
        for w in &words {
            match w.to_ascii_lowercase().as_str() {
                "hour" | "hours" | "h" | "hr" | "hrs" => return Some(Unit::Time(Decimal::ONE)),
                "minute" | "minutes" | "min" => {
                    return Some(Unit::Time(Decimal::ONE / Decimal::from(60)));
                }
                _ => {}
            }
            if is_currency_code(w) {
                return Some(Unit::Money(w.clone()));
            }
        }
        let label = field("label")
            .or_else(|| field("symbol"))
            .or_else(|| id.as_deref().map(last))?;
        (!label.is_empty() && text_problem(&label).is_none()).then_some(Unit::Other(label))
    }

    /// One event node, read (its parts are joined later).
    ///
    /// Long because every property of an event is read here in turn, each reporting its own
    /// problem and going on, so one run shows all of them.
    fn event(&mut self, node: &Node<'_>) -> Option<Event> {
        let before = self.errors.len();
        let id = node.id.clone().unwrap_or_default();
        let (key, own, correction) = match self.own(&id) {
            Some(("contribution", rest)) => {
                let mut parts = rest.split('/');
                let cid = parts.next().unwrap_or("").to_owned();
                (cid, true, parts.next() == Some("correction"))
            }
            _ if id.is_empty() => (node.path.clone(), false, false),
            _ => (id.clone(), false, false),
        };
        let action = node
            .get("action")
            .and_then(|v| self.reference(v))
            .and_then(|a| self.cx.local(&a).or(Some(a)));
        let Some(action) = action else {
            self.errors
                .push(err(&node.at("action"), "an event needs an action"));
            return None;
        };
        let provider = match node.get("provider").and_then(|v| self.reference(v)) {
            Some(p) => self.record_id(&node.at("provider"), "agent", &p),
            None => None,
        };
        let scope = ["inScopeOf", "receiver"]
            .into_iter()
            .find_map(|p| Some((p, node.get(p).and_then(|v| self.reference(v))?)));
        let mut foreign_project = None;
        let project = match scope {
            Some((prop, p)) => {
                let path = node.at(prop);
                let pid = self.record_id(&path, "project", &p);
                if self.own(&p).is_none() {
                    foreign_project = Some((p, path));
                }
                pid
            }
            None => {
                self.errors.push(err(
                    &node.at("receiver"),
                    "an event needs a receiver (the project)",
                ));
                None
            }
        };
        let date = self.date(node);
        let mut kind = None;
        let mut skill = None;
        let classes = match node.get("resourceClassifiedAs") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => vec![v],
            None => vec![],
        };
        for c in classes {
            let Some(c) = self.reference(c) else { continue };
            let Some(("taxonomy", rest)) = self.own(&c) else {
                continue;
            };
            match rest.split_once('/') {
                Some(("kind", k)) if is_name_word(&decode(k)) => {
                    kind = Some(Kind::from_word(&decode(k)))
                }
                Some(("skill", s)) => skill = Some(decode(s)),
                _ => {}
            }
        }
        let mut hours = None;
        if let Some(m) = node.get("effortQuantity") {
            match self.measure(node, "effortQuantity", m) {
                Some((q, Unit::Time(f))) => hours = q.checked_mul(f),
                Some(_) => self.errors.push(err(
                    &node.at("effortQuantity"),
                    "the effort is not in hours or minutes",
                )),
                None => {}
            }
        } else if let (Some(b), Some(e)) =
            (self.time(node, "hasBeginning"), self.time(node, "hasEnd"))
            && matches!(action.as_str(), "work" | "use" | "deliverService")
        {
            let secs = (e - b).num_seconds();
            if secs <= 0 {
                self.errors
                    .push(err(&node.at("hasEnd"), "the event ends before it begins"));
            }
            hours = Decimal::from(secs)
                .checked_div(Decimal::from(3600))
                .map(|h| h.round_dp(4));
        }
        let (mut money, mut quantity) = (None, None);
        if let Some(m) = node.get("resourceQuantity") {
            match self.measure(node, "resourceQuantity", m) {
                Some((q, Unit::Money(c))) => money = Some((q, c)),
                Some((q, Unit::Other(u))) => quantity = Some((q, u)),
                Some((q, Unit::Time(f))) if hours.is_none() => hours = q.checked_mul(f),
                _ => {}
            }
        }
        let resource = match node
            .get("resourceInventoriedAs")
            .and_then(|v| self.reference(v))
        {
            Some(r) => self.record_id(&node.at("resourceInventoriedAs"), "resource", &r),
            None => None,
        };
        let corrects = node.get("corrects").and_then(|v| self.reference(v));
        let mut note: Vec<String> = self
            .text(node, "note")
            .or_else(|| self.text(node, "name"))
            .unwrap_or_default()
            .split('\n')
            .map(str::to_owned)
            .collect();
        let mut recorded_by = None;
        if let Some(a) = note.last().and_then(|l| l.strip_prefix("recorded by: ")) {
            recorded_by = Id::parse(a.trim()).ok();
            note.pop();
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Event {
            path: node.path.clone(),
            key,
            own,
            correction,
            action,
            provider,
            project: project?,
            date: date?,
            kind,
            skill,
            hours,
            money,
            quantity,
            resource,
            note,
            corrects,
            foreign_project,
            recorded_by,
        })
    }

    fn time(
        &mut self,
        node: &Node<'_>,
        prop: &str,
    ) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        let text = literal(node.get(prop)?)?;
        match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t),
            Err(_) => {
                self.errors.push(err(
                    &node.at(prop),
                    format!("{:?} is not a date and time (RFC 3339)", text),
                ));
                None
            }
        }
    }

    /// The day of an event: its point in time, else its beginning or end.
    fn date(&mut self, node: &Node<'_>) -> Option<NaiveDate> {
        let Some(prop) = ["hasPointInTime", "hasBeginning", "hasEnd", "created"]
            .into_iter()
            .find(|p| node.get(p).is_some())
        else {
            self.errors.push(err(
                &node.at("hasPointInTime"),
                "an event needs hasPointInTime or hasBeginning",
            ));
            return None;
        };
        let text = node.get(prop).and_then(literal).unwrap_or_default();
        if let Ok(d) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            return Some(d);
        }
        match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t.date_naive()),
            Err(_) => {
                self.errors.push(err(
                    &node.at(prop),
                    format!("{:?} is not a date (YYYY-MM-DD or RFC 3339)", text),
                ));
                None
            }
        }
    }

    /// The events joined into contributions: the parts of one contribution summed, a
    /// `/correction` part naming what it supersedes, a correcting event a reversal.
    fn join(&mut self, events: Vec<Event>, claims: &HashMap<String, Decimal>, g: &mut Graph) {
        let mut order: Vec<(String, bool)> = Vec::new();
        let mut groups: HashMap<(String, bool), Vec<Event>> = HashMap::new();
        // Each event's contribution id, by the event's id as written (for `vf:corrects`).
        let mut ids: HashMap<String, Id> = HashMap::new();
        for e in &events {
            let id = self.contribution_id(e);
            if let Some(id) = id {
                ids.insert(self.event_key(e), id);
            }
        }
        for e in events {
            let k = (e.key.clone(), e.correction);
            if !groups.contains_key(&k) {
                order.push(k.clone());
            }
            groups.entry(k).or_default().push(e);
        }
        for k in &order {
            if k.1 {
                continue;
            }
            let Some(parts) = groups.get(k) else { continue };
            let supersedes = groups
                .get(&(k.0.clone(), true))
                .and_then(|c| c.first())
                .and_then(|c| self.corrected(c, &ids));
            let reverses = parts.first().and_then(|e| self.corrected(e, &ids));
            if let Some(c) = self.contribution(parts, supersedes, reverses, claims) {
                g.contributions.push(c);
            }
        }
    }

    /// The contribution event `e` corrects, or `None` (with an error when it names an event
    /// the document does not have).
    fn corrected(&mut self, e: &Event, ids: &HashMap<String, Id>) -> Option<Id> {
        let target = e.corrects.as_deref()?;
        if let Some(("contribution", rest)) = self.own(target) {
            return Id::parse(rest.split('/').next().unwrap_or("")).ok();
        }
        match ids.get(target) {
            Some(id) => Some(id.clone()),
            None => {
                self.errors.push(err(
                    &format!("{}.corrects", e.path),
                    format!(
                        "corrects `{}`, an event this document does not hold",
                        target.escape_debug()
                    ),
                ));
                None
            }
        }
    }

    /// The ovn id of an event's contribution: ours as it is, another tool's derived.
    fn contribution_id(&mut self, e: &Event) -> Option<Id> {
        if !e.own {
            return Some(foreign_event_id(&e.key, e.date));
        }
        match Id::parse(&e.key) {
            Ok(id) => Some(id),
            Err(x) => {
                self.errors.push(err(
                    &e.path,
                    format!("`{}` is not an ovn id: {x}", e.key.escape_debug()),
                ));
                None
            }
        }
    }

    /// One contribution from its event parts.
    ///
    /// Long because each action (work, use, transfers of money or material, citations) fills
    /// its own fields; one match over them reads best in order.
    fn contribution(
        &mut self,
        parts: &[Event],
        supersedes: Option<Id>,
        reverses: Option<Id>,
        claims: &HashMap<String, Decimal>,
    ) -> Option<Found<Contribution>> {
        let first = parts.first()?;
        let path = first.path.clone();
        let sum = |f: &dyn Fn(&Event) -> Option<Decimal>| -> Option<Decimal> {
            parts
                .iter()
                .filter_map(f)
                .try_fold(None::<Decimal>, |acc, v| {
                    Some(Some(acc.map_or(Some(v), |a| a.checked_add(v))?))
                })
                .flatten()
        };
        let hours = sum(&|e| e.hours);
        let money = sum(&|e| e.money.as_ref().map(|m| m.0));
        let quantity = sum(&|e| e.quantity.as_ref().map(|m| m.0));
        // Our own export says the kind; another tool's action says it, for the actions that
        // are contributions to a project (a process's produce or consume events are not).
        let kind = match (&first.kind, first.action.as_str()) {
            (Some(k), _) => k.clone(),
            (None, "work" | "deliverService" | "deliver-service") => Kind::Work,
            (None, "use") => Kind::Use,
            (None, "cite") => Kind::Other("cite".to_owned()),
            (
                None,
                "transfer"
                | "transferAllRights"
                | "transfer-all-rights"
                | "transferCustody"
                | "transfer-custody",
            ) if first.quantity.is_some() => Kind::Material,
            (
                None,
                "transfer"
                | "transferAllRights"
                | "transfer-all-rights"
                | "transferCustody"
                | "transfer-custody",
            ) if first.money.is_some() => Kind::Money,
            (None, action) => {
                let what = format!("events of action {:?}", action);
                *self.left.entry(what).or_default() += 1;
                return None;
            }
        };
        if let Some((foreign, path)) = &first.foreign_project {
            self.projects_used
                .entry(foreign.clone())
                .or_insert((path.clone(), first.project.clone()));
        }
        let agent = first.recorded_by.clone().or_else(|| first.provider.clone());
        let Some(agent) = agent else {
            self.errors.push(err(
                &format!("{path}.provider"),
                "an event needs a provider",
            ));
            return None;
        };
        let id = self.contribution_id(first)?;
        // The evidence lines end the note; the description is what comes before them.
        let mut lines: Vec<&str> = first.note.iter().map(String::as_str).collect();
        let mut evidence = Vec::new();
        while let Some(e) = lines.last().and_then(|l| l.strip_prefix("evidence: ")) {
            evidence.insert(0, e.trim().to_owned());
            lines.pop();
        }
        let description = lines.join("\n").trim().to_owned();
        let description = if description.is_empty() {
            format!("{} (a ValueFlows event)", first.action)
        } else {
            description
        };
        let mut c = Contribution::new(
            At::new(id),
            At::new(agent),
            first.date,
            At::new(first.project.clone()),
            kind,
            description,
        );
        c.set_evidence(evidence);
        c.resource = first.resource.clone().map(At::new);
        // A correcting event that is not the back-out of a replacement is a reversal: the
        // record says what it reverses, and nothing it counts.
        if let Some(target) = reverses {
            c.set_reverses(Some(At::new(target)));
            if c.kind != Kind::Use {
                c.resource = None;
            }
            return Some((path, c));
        }
        c.set_supersedes(supersedes.map(At::new));
        c.skill = first.skill.clone();
        c.hours = hours.map(|h| At::new(h.normalize()));
        if let Some((_, cur)) = &first.money {
            c.amount = money;
            c.set_currency(Some(cur.clone()));
        }
        if let Some((_, unit)) = &first.quantity {
            c.set_quantity(quantity.map(|q| q.normalize()));
            c.set_unit(Some(unit.clone()));
            if c.amount.is_none() {
                c.amount = claims.get(&self.event_key(first)).copied();
            }
        }
        Some((path, c))
    }

    /// The id of an event node as other nodes name it (`vf:triggeredBy`, `vf:corrects`).
    fn event_key(&self, e: &Event) -> String {
        match &self.base {
            Some(b) if e.own => format!("{b}contribution/{}", e.key),
            _ => e.key.clone(),
        }
    }
}

/// A project record with only its id and name.
fn project(id: Id, name: String) -> Project {
    Project {
        file: 0,
        id: At::new(id),
        name,
        agreement: None,
        parent: None,
        stewards: Vec::new(),
    }
}

/// The id after `: ` on a note line (`agreement: drone-ve`).
fn a_id(line: &str) -> Option<Id> {
    Id::parse(line.split_once(": ")?.1.trim()).ok()
}

/// A string, number or `{"@value": ...}` as text.
fn literal(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("@value").and_then(literal),
        _ => None,
    }
}

/// A number written as a JSON number, a string or `{"@value": ...}`, exactly.
fn number(v: &Value) -> Option<Decimal> {
    let text = literal(v)?;
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// Percent-decoding of one id segment (invalid escapes are kept as they are).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first 8 hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    super::value::hex(&digest[..4])
}

/// The ovn id of another tool's agent, project or resource: a slug of its name and a hash
/// of its own id, so the same node always gets the same id and two nodes of one name do not
/// collide.
pub fn derived_id(name: &str, foreign: &str) -> Id {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "vf" } else { slug };
    let text = format!("{slug}-{}", short_hash(foreign));
    Id::parse(&text)
        .unwrap_or_else(|_| Id::parse(&format!("vf-{}", short_hash(foreign))).expect("a valid id"))
}

/// The id of another tool's event: its day as the id's time, a hash of its own id as the
/// random part, so importing it again gives the same id.
pub fn foreign_event_id(foreign: &str, date: NaiveDate) -> Id {
    let digest = sha2::Sha256::digest(foreign.as_bytes());
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    let secs = date
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    let millis = u64::try_from(secs).unwrap_or(0).saturating_mul(1000);
    super::newid::contribution_id(millis, random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HREA: &str = include_str!("../../tests/suite/data/hrea-events.json");

    #[test]
    fn graphql_nulls_are_absent_and_the_fixture_reads() {
        let doc = r#"{"data":{"economicEvents":{"edges":[{"node":{"id":"e1","action":{"id":"work"},"provider":{"id":"a1","name":"Dana"},"receiver":{"id":"p1","name":"Dryer"},"resourceQuantity":null,"effortQuantity":{"hasNumericalValue":2,"hasUnit":{"id":"u","label":"hour"}},"hasPointInTime":"2026-04-07T09:30:00Z"}}]}}}"#;
        let g = read(doc).unwrap();
        assert_eq!(g.contributions.len(), 1);
        // Dryer is only what the event is for: a project, not an agent.
        assert_eq!((g.agents.len(), g.projects.len()), (1, 1));
        let g = read(HREA).unwrap();
        assert_eq!(g.contributions.len(), 3);
        assert_eq!(
            g.left_out,
            ["1 events of action \"produce\" (no ovn record holds them)"]
        );
    }

    #[test]
    fn derived_ids_are_stable_and_valid() {
        let a = derived_id("Zoë Martin!", "urn:x:1");
        assert_eq!(a, derived_id("Zoë Martin!", "urn:x:1"));
        assert!(a.as_str().starts_with("zo-martin-"), "{a}");
        assert_ne!(a, derived_id("Zoë Martin!", "urn:x:2"));
        assert!(derived_id("", "x").as_str().starts_with("vf-"));
        assert!(derived_id(&"é".repeat(200), "x").as_str().len() <= Id::MAX_LEN);
        assert_eq!(decode("m%C2%B2"), "m²");
        assert_eq!(decode("100%"), "100%");
    }

    /// Any JSON value, with the keys a reader looks at, nested a few levels.
    fn json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("@graph".to_owned()),
            Just("@id".to_owned()),
            Just("@type".to_owned()),
            Just("@context".to_owned()),
            Just("data".to_owned()),
            Just("edges".to_owned()),
            Just("node".to_owned()),
            Just("id".to_owned()),
            Just("vf:action".to_owned()),
            Just("provider".to_owned()),
            Just("receiver".to_owned()),
            Just("effortQuantity".to_owned()),
            Just("resourceQuantity".to_owned()),
            Just("hasNumericalValue".to_owned()),
            Just("hasUnit".to_owned()),
            Just("hasPointInTime".to_owned()),
            Just("hasBeginning".to_owned()),
            Just("hasEnd".to_owned()),
            Just("corrects".to_owned()),
            Just("note".to_owned()),
            "[a-zA-Z:@]{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![
                Just("EconomicEvent".to_owned()),
                Just("vf:Person".to_owned()),
                Just("work".to_owned()),
                Just("2026-04-07T09:30:00Z".to_owned()),
                Just("ledger:contribution/01knjkta00ch8qc6tyzb99wczs/correction".to_owned()),
                Just("hour".to_owned()),
                ".{0,12}",
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// No JSON value makes the reader panic.
        #[test]
        fn any_json_reads_or_fails(v in json()) {
            let _ = read(&v.to_string());
            let wrapped = serde_json::json!({"@context": {"ledger": "urn:x:"}, "@graph": [v]});
            let _ = read(&wrapped.to_string());
        }

        /// The fixture with bytes cut, repeated or replaced reads or fails, never panics.
        #[test]
        fn a_mutated_fixture_reads_or_fails(at in 0..HREA.len(), len in 0usize..40, with in ".{0,4}") {
            let mut text = HREA.to_owned();
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(at..end, &with);
            let _ = read(&text);
        }
    }
}
