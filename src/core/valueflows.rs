//! The ledger in ValueFlows 1.0 terms: `ovn export valueflows` writes it as JSON-LD.
//!
//! Only terms the ValueFlows 1.0 vocabulary declares are used (a copy of it,
//! `tests/suite/data/vf-1.0.ttl`, is checked against every term this module writes, each on
//! a kind of node the vocabulary allows it on). Where VF has no word for something `ovn`
//! records, it goes into `vf:note` rather than into a vocabulary of our own, so a VF tool
//! reads everything it understands and loses nothing it does not:
//!
//! - agents are `vf:Person` or `vf:Organization`; a project is a `vf:Organization` that
//!   receives its contributions; resources are `vf:EconomicResource`s;
//! - a contribution is a `vf:EconomicEvent` (work, use, transfer, cite...), its quantities
//!   `vf:Measure`s with `vf:hasNumericalValue` and `vf:hasUnit`, the unit a `vf:Unit` node
//!   (with its OM identifier where OM has one); kinds, skills and ownership are
//!   `vf:resourceClassifiedAs`/`vf:classifiedAs` URIs under the network's base;
//! - the use of a resource is provided by its owners (one event per owner, the hours split
//!   by share, since `vf:provider` takes one agent), of a commons by the network's fund; the
//!   note then says who recorded it (`recorded by: ID`), which no VF property says, so
//!   `ovn import valueflows` can give the contribution back to its agent;
//! - what a contributor is owed is a `vf:Claim` triggered by the event, with its money value
//!   where the record states one (work and use are valued by the agreement);
//! - corrections follow VF: a reversal is an event of the reversed one's action and
//!   negated quantities that `vf:corrects` it; a replacement backs the original out the same
//!   way and is then an event of its own (VF's "back out and re-enter");
//! - agreements are `vf:Agreement`s; a recorded payout is the revenue transfer to the
//!   project and one transfer per line, realizing the agreement and settling the claims it
//!   paid; an approval is a `vf:Agreement` that the approved event realizes, dated and
//!   noted.
//!
//! Every id starts with the network's base URI (`base_uri` in `ovn.toml`, by default derived
//! from the repository's first commit), so two networks' graphs merge without collisions.
//! The document is written node by node, so a million contributions never sit in memory as
//! one value; the order is the ledger's, so the bytes are deterministic.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::ledger::Ledger;
use super::record::{AgentKind, Contribution, Kind, Ownership};
use super::report::Query;
use super::value::Id;

/// The ValueFlows 1.0 namespace.
pub const VF: &str = "https://w3id.org/valueflows/ont/vf#";
/// The prefix of every id in the document: the context maps it to the base URI.
pub const ID: &str = "ledger:";
/// XML Schema datatypes.
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
/// The Ontology of units of Measure 2.0, which `vf:omUnitIdentifier` points into.
pub const OM2: &str = "http://www.ontology-of-units-of-measure.org/resource/om-2/";

/// Whether `uri` can start the ids of an export: an absolute URI (a scheme, then text with
/// no spaces, quotes, angle brackets or other characters an IRI forbids) that ends in `/`,
/// `#` or `:`, so the ids appended to it stay separate path segments.
pub fn check_base_uri(uri: &str) -> Result<(), String> {
    let scheme_end = uri.find(':').unwrap_or(0);
    let scheme = &uri[..scheme_end];
    let good_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !good_scheme {
        return Err(format!(
            "`base_uri` must be an absolute URI such as \"https://example.org/ledger/\", found {uri:?}"
        ));
    }
    if let Some(c) = uri
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "<>\"{}|\\^`".contains(*c))
    {
        return Err(format!("`base_uri` cannot contain {c:?}"));
    }
    if !uri.ends_with(['/', '#', ':']) {
        return Err(format!(
            "`base_uri` must end in `/`, `#` or `:` so ids can follow it, found {uri:?}"
        ));
    }
    Ok(())
}

/// The base URI of a network that sets none: `urn:ovn:<root commit>:`, with the ledger's
/// folder when it is not the repository's root, unique without coordination.
pub fn default_base_uri(root_commit: &str, folder: &str) -> String {
    let folder = folder.trim_matches('/');
    if folder.is_empty() {
        format!("urn:ovn:{root_commit}:")
    } else {
        format!("urn:ovn:{root_commit}:{}:", segment(folder))
    }
}

/// Text as one URI path segment: unreserved characters as they are, everything else
/// percent-encoded (UTF-8), so free text (a skill, a unit) cannot break out of its id.
pub fn segment<S: Borrow<str> + ?Sized>(text: &S) -> String {
    let text: &str = text.borrow();
    let mut out = String::with_capacity(text.len());
    push_segment(&mut out, text);
    out
}

/// Appends [`segment`] of `text` to `out`.
fn push_segment<S: Borrow<str> + ?Sized>(out: &mut String, text: &S) {
    let text: &str = text.borrow();
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Ids are mostly unreserved: copied a run at a time, not a character at a time.
    let mut run = 0;
    for (at, c) in text.char_indices() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
            continue;
        }
        out.push_str(&text[run..at]);
        for &b in c.encode_utf8(&mut [0; 4]).as_bytes() {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        run = at + c.len_utf8();
    }
    out.push_str(&text[run..]);
}

/// The ValueFlows action of a contribution kind: `work`, `use`, `transfer` for money and
/// material given to the project, `cite` for citations, and for other kinds `work` when they
/// carry hours, else `transfer`.
pub fn action(kind: &Kind, has_hours: bool) -> &'static str {
    match kind {
        Kind::Work => "work",
        Kind::Use => "use",
        Kind::Money | Kind::Material => "transfer",
        Kind::Other(k) if k == "cite" => "cite",
        Kind::Other(k) if k == "consume" => "consume",
        Kind::Other(_) if has_hours => "work",
        Kind::Other(_) => "transfer",
    }
}

/// The OM 2.0 unit of a quantity's unit word, where OM has one.
fn om_unit(unit: &str) -> Option<&'static str> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "pcs" | "pc" | "piece" | "pieces" | "unit" | "units" | "each" | "ea" | "item" | "items" => {
            "one"
        }
        "kg" | "kilogram" | "kilograms" => "kilogram",
        "g" | "gram" | "grams" => "gram",
        "t" | "tonne" | "tonnes" => "tonne",
        "m" | "metre" | "meter" | "metres" | "meters" => "metre",
        "cm" => "centimetre",
        "mm" => "millimetre",
        "m2" | "m²" => "squareMetre",
        "m3" | "m³" => "cubicMetre",
        "l" | "litre" | "liter" | "litres" | "liters" => "litre",
        "ml" => "millilitre",
        "h" | "hour" | "hours" => "hour",
        "kwh" => "kilowattHour",
        _ => return None,
    })
}

/// A unit the document uses, declared once at its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// What the unit is called (the record's word, or the currency).
    pub label: String,
    /// Its name in OM 2.0, where OM has one.
    pub om: Option<String>,
}

/// Some contributions rendered (one day folder's, say): the text of their nodes, each
/// preceded by the `,\n` that separates it from the node before, and the units they use,
/// which the document declares at its end. A day folder's part depends only on its records
/// and the ledger's other entries (and, for a correction, the record it corrects), so it
/// can be kept while they are unchanged and put into the document as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    /// The nodes' text (JSON), each starting with `,\n`.
    pub text: Vec<u8>,
    /// The units the nodes measure in, by id.
    pub units: BTreeMap<String, Unit>,
}

/// What rendering any contribution reads of the whole ledger: the contributions by id
/// (a correction backs out the record it names, wherever that is) and the approvals by the
/// record they approve. Made once, shared by every part.
pub struct Shared<'l> {
    corrected: HashMap<&'l str, &'l Contribution>,
    approvals: HashMap<&'l str, Vec<&'l super::record::Approval>>,
}

impl<'l> Shared<'l> {
    /// The maps of `ledger`.
    pub fn of(ledger: &'l Ledger) -> Shared<'l> {
        let corrected: HashMap<&str, &Contribution> = if ledger
            .contributions
            .iter()
            .any(|c| c.reverses().is_some() || c.supersedes().is_some())
        {
            ledger
                .contributions
                .iter()
                .map(|c| (c.id.value.as_str(), &**c))
                .collect()
        } else {
            HashMap::new()
        };
        let mut approvals: HashMap<&str, Vec<&super::record::Approval>> = HashMap::new();
        for a in &ledger.approvals {
            approvals
                .entry(a.record.value.as_str())
                .or_default()
                .push(a);
        }
        Shared {
            corrected,
            approvals,
        }
    }

    /// Whether the record a correction names is at hand (a quick load may not hold it).
    pub fn holds(&self, id: &str) -> bool {
        self.corrected.contains_key(id)
    }
}

/// The part of `contributions` (a run of `ledger`'s, in its order): the events, claims,
/// corrections and approvals of those `query` selects, as [`export`] writes them.
pub fn part(
    ledger: &Ledger,
    query: &Query,
    shared: &Shared<'_>,
    contributions: &[Box<Contribution>],
) -> Part {
    // About a kilobyte a contribution: reserved once rather than grown (and copied) by
    // doubling; pages never written are never touched.
    let mut text = Vec::with_capacity(contributions.len() * 1024);
    let mut doc = Doc {
        out: &mut text,
        // Every node of a part is written with its separator; the document drops the
        // first one when the part's first node is the document's first.
        first: false,
        ledger,
        currency: currency(ledger),
        units: BTreeMap::new(),
    };
    // Writing to memory cannot fail.
    let _ = doc.contributions(query, shared, contributions);
    let units = std::mem::take(&mut doc.units);
    Part { text, units }
}

fn currency(ledger: &Ledger) -> &str {
    ledger
        .network
        .as_ref()
        .map_or("EUR", |n| n.currency.as_str())
}

/// Who provides one event of a contribution, and its part of the quantities: one part for
/// most contributions; for the use of a pooled resource one per owner.
struct Provider {
    provider: Option<Id>,
    share: Decimal,
    /// Told apart by the owner's id when there are several parts.
    suffix: Option<Id>,
}

/// The writer: the open document, the ids' base, and the units met so far.
struct Doc<'a, W: Write + ?Sized> {
    out: &'a mut W,
    first: bool,
    ledger: &'a Ledger,
    currency: &'a str,
    units: BTreeMap<String, Unit>,
}

/// Writes the ledger as ValueFlows 1.0 JSON-LD to `out`: the agents, projects, resources and
/// agreements, the contributions a query selects as events (with their claims, corrections
/// and approvals), the recorded payouts as transfers, and the units they use. Ids start with
/// `base` (see [`check_base_uri`]). The contributions are rendered in parts on all cores, a
/// few at a time, so the document is never held whole.
pub fn export<W: Write + ?Sized>(
    ledger: &Ledger,
    query: &Query,
    base: &str,
    out: &mut W,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    /// Contributions per part, and parts rendered at once (a few megabytes of text).
    const RUN: usize = 2048;
    const AT_ONCE: usize = 16;
    let mut doc = Document::begin(ledger, query, base, out)?;
    let shared = Shared::of(ledger);
    for batch in ledger.contributions.chunks(RUN * AT_ONCE) {
        let parts: Vec<Part> = batch
            .par_chunks(RUN)
            .map(|run| part(ledger, query, &shared, run))
            .collect();
        for p in parts {
            doc.put(p)?;
        }
    }
    doc.finish(query)
}

/// A document being written: begun with the ledger's agents, projects, resources and
/// agreements, then given the contributions' parts in the ledger's order, then finished
/// with the payouts and the units. The same bytes as [`export`], whatever the parts.
pub struct Document<'a, W: Write + ?Sized>(Doc<'a, W>);

impl<'a, W: Write + ?Sized> Document<'a, W> {
    /// Writes the document's head and the nodes that are not contributions' or payouts'.
    pub fn begin(
        ledger: &'a Ledger,
        query: &Query,
        base: &str,
        out: &'a mut W,
    ) -> std::io::Result<Document<'a, W>> {
        // `ledger:` abbreviates the base in every id, so a large export does not repeat it.
        let context = json!({ "ledger": base, "vf": VF, "xsd": XSD });
        writeln!(out, "{{\n  \"@context\": {context},")?;
        // The document is named by its base, not by the commit it was read at: the same
        // records give the same document, so export -> import -> export is byte-identical.
        // The commit is the user's to keep (`--at` names it).
        writeln!(
            out,
            "  \"@id\": {},\n  \"@graph\": [",
            Value::String(ID.to_owned())
        )?;
        let mut doc = Doc {
            out,
            first: true,
            ledger,
            currency: currency(ledger),
            units: BTreeMap::new(),
        };
        doc.agents(query)?;
        doc.resources()?;
        doc.agreements()?;
        Ok(Document(doc))
    }

    /// Writes the nodes of a part (the next contributions in the ledger's order).
    pub fn put(&mut self, part: Part) -> std::io::Result<()> {
        self.put_text(&part.text, part.units)
    }

    /// [`Document::put`] of a part's text and units where they lie (a kept part, read).
    pub fn put_text(
        &mut self,
        mut text: &[u8],
        units: BTreeMap<String, Unit>,
    ) -> std::io::Result<()> {
        let doc = &mut self.0;
        if text.is_empty() {
            return Ok(());
        }
        if doc.first {
            // The document's first node has no separator before it.
            text = text.strip_prefix(b",\n").unwrap_or(text);
            doc.first = false;
        }
        doc.out.write_all(text)?;
        for (id, unit) in units {
            doc.units.entry(id).or_insert(unit);
        }
        Ok(())
    }

    /// Writes the payouts, the units and the document's end.
    pub fn finish(mut self, query: &Query) -> std::io::Result<()> {
        let doc = &mut self.0;
        doc.payouts(query)?;
        doc.declare_units()?;
        writeln!(doc.out, "\n  ]\n}}")
    }
}

fn date_time(d: NaiveDate) -> Value {
    json!({ "@value": format!("{d}T00:00:00Z"), "@type": "xsd:dateTimeStamp" })
}

fn iri(id: String) -> Value {
    json!({ "@id": id })
}

/// A node written as text rather than built as a [`Value`]: a contribution's nodes are a
/// million maps of owned keys at a million records, which cost more than writing them. The
/// members' text is appended to one buffer as they are set, then written in key order, as
/// serde_json writes a `Value`'s (sorted) map, the strings escaped as serde_json escapes
/// them, so the bytes are those of `json!`.
#[derive(Default)]
struct Obj {
    /// Every member's JSON text, one after another (a replaced member's stays, unused).
    buf: String,
    /// Each member's key and where its text lies in `buf`.
    members: Vec<(&'static str, Range<usize>)>,
}

impl Obj {
    /// Sets member `key` to the JSON text `value` appends, replacing it if already set.
    fn put(&mut self, key: &'static str, value: impl FnOnce(&mut String)) {
        let start = self.buf.len();
        value(&mut self.buf);
        let text = start..self.buf.len();
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some(member) => member.1 = text,
            None => self.members.push((key, text)),
        }
    }

    /// Sets member `key` to `value` as a JSON string.
    fn put_text(&mut self, key: &'static str, value: &str) {
        self.put(key, |b| push_text(b, value));
    }

    /// Writes the object's text, members in key order.
    fn write_to<W: Write + ?Sized>(mut self, out: &mut W) -> std::io::Result<()> {
        self.members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.write_all(b"{")?;
        for (n, (k, v)) in self.members.iter().enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\"")?;
            out.write_all(k.as_bytes())?;
            out.write_all(b"\":")?;
            out.write_all(&self.buf.as_bytes()[v.clone()])?;
        }
        out.write_all(b"}")
    }
}

/// Appends `s` as JSON text, escaped as serde_json escapes it.
fn push_text(out: &mut String, s: &str) {
    // serde_json escapes only quotes, backslashes and control characters; most text has none.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Appends `"ledger:<kind>/<segment>/<segment>..."`, each of `segments` percent-encoded: a
/// JSON string with nothing to escape.
fn push_id<'s>(out: &mut String, kind: &str, segments: impl IntoIterator<Item = &'s str>) {
    out.push('"');
    out.push_str(ID);
    out.push_str(kind);
    for s in segments {
        out.push('/');
        push_segment(out, s);
    }
    out.push('"');
}

/// Appends `{"@id": ...}` of the id of `id` under `kind` (see [`push_id`]).
fn push_iri<S: Borrow<str> + ?Sized>(out: &mut String, kind: &str, id: &S) {
    out.push_str("{\"@id\":");
    push_id(out, kind, [id.borrow()]);
    out.push('}');
}

/// Appends a day as an `xsd:dateTimeStamp` literal, as JSON text.
fn push_date_time(out: &mut String, d: NaiveDate) {
    use std::fmt::Write as _;
    // Writing to a string cannot fail.
    let _ = write!(
        out,
        "{{\"@type\":\"xsd:dateTimeStamp\",\"@value\":\"{d}T00:00:00Z\"}}"
    );
}

/// Appends the id of a contribution's event as a JSON string: `/correction` for the back-out
/// of the record a replacement corrects, then the owner's id where the event is one of
/// several.
fn push_event_id(out: &mut String, id: &str, correction: bool, suffix: Option<&Id>) {
    let segments = [
        Some(id),
        correction.then_some("correction"),
        suffix.map(Id::as_str),
    ];
    push_id(out, "contribution", segments.into_iter().flatten());
}

impl<W: Write + ?Sized> Doc<'_, W> {
    fn node(&mut self, v: Value) -> std::io::Result<()> {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        write!(self.out, "{sep}    {v}")
    }

    /// [`Doc::node`] for a node written as text ([`Obj`]).
    fn node_text(&mut self, v: Obj) -> std::io::Result<()> {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        self.out.write_all(sep.as_bytes())?;
        self.out.write_all(b"    ")?;
        v.write_to(self.out)
    }

    fn id<S: Borrow<str> + ?Sized>(&self, kind: &str, id: &S) -> String {
        format!("{ID}{kind}/{}", segment(id))
    }

    fn taxonomy<S: Borrow<str> + ?Sized>(&self, scheme: &str, term: &S) -> Value {
        iri(format!("{ID}taxonomy/{scheme}/{}", segment(term)))
    }

    /// Appends a measure of `value` in the unit `unit/<kind>[/<segment of name>]` (JSON
    /// text), remembering the unit for the declarations (`unit` makes it, the first time).
    fn push_measure(
        &mut self,
        out: &mut String,
        value: Decimal,
        (kind, name): (&str, Option<&str>),
        unit: impl FnOnce() -> Unit,
    ) {
        use std::fmt::Write as _;
        out.push_str(concat!(
            "{\"@type\":\"vf:Measure\",\"vf:hasNumericalValue\":",
            "{\"@type\":\"xsd:decimal\",\"@value\":\""
        ));
        // A decimal's digits, sign and point need no escaping; writing to a string cannot fail.
        let _ = write!(out, "{}", value.normalize());
        out.push_str("\"},\"vf:hasUnit\":{\"@id\":\"");
        let id = out.len();
        out.push_str(ID);
        out.push_str("unit/");
        out.push_str(kind);
        if let Some(name) = name {
            out.push('/');
            push_segment(out, name);
        }
        if !self.units.contains_key(&out[id..]) {
            self.units.insert(out[id..].to_owned(), unit());
        }
        out.push_str("\"}}");
    }

    /// [`Doc::push_measure`] of a number of hours.
    fn push_hours(&mut self, out: &mut String, value: Decimal) {
        self.push_measure(out, value, ("hour", None), || Unit {
            label: "hour".to_owned(),
            om: Some("hour".to_owned()),
        });
    }

    /// [`Doc::push_measure`] of an amount of money.
    fn push_money(&mut self, out: &mut String, value: Decimal, currency: &str) {
        self.push_measure(out, value, ("currency", Some(currency)), || Unit {
            label: currency.to_owned(),
            om: None,
        });
    }

    /// [`Doc::push_money`] as a value, for the payouts' nodes (few, so still built as values).
    fn money_value(&mut self, value: Decimal, currency: &str) -> Value {
        let mut text = String::new();
        self.push_money(&mut text, value, currency);
        serde_json::from_str(&text).unwrap_or_default()
    }

    /// [`Doc::push_measure`] of a quantity of material in `unit`.
    fn push_quantity(&mut self, out: &mut String, value: Decimal, unit: &str) {
        self.push_measure(out, value, ("quantity", Some(unit)), || Unit {
            label: unit.to_owned(),
            om: om_unit(unit).map(str::to_owned),
        });
    }

    fn agents(&mut self, query: &Query) -> std::io::Result<()> {
        let ledger = self.ledger;
        for a in ledger.agents.iter().filter(|a| query.agent(&a.id.value)) {
            let kind = match a.kind {
                AgentKind::Organization | AgentKind::Network => "vf:Organization",
                AgentKind::Person => "vf:Person",
            };
            let v = json!({
                "@id": self.id("agent", &a.id.value),
                "@type": kind,
                "vf:name": a.name,
            });
            self.node(v)?;
        }
        for p in ledger
            .projects
            .iter()
            .filter(|p| query.project(&p.id.value))
        {
            let mut v = json!({
                "@id": self.id("project", &p.id.value),
                "@type": "vf:Organization",
                "vf:name": p.name,
                "vf:classifiedAs": self.taxonomy("agent", "project"),
            });
            let mut note = Vec::new();
            if let Some(a) = &p.agreement {
                note.push(format!("agreement: {}", a.value));
            }
            if let Some(parent) = &p.parent {
                note.push(format!("part of: {}", parent.value));
            }
            if !note.is_empty() {
                v["vf:note"] = json!(note.join("\n"));
            }
            self.node(v)?;
        }
        Ok(())
    }

    fn resources(&mut self) -> std::io::Result<()> {
        let ledger = self.ledger;
        for r in &ledger.resources {
            let mut v = json!({
                "@id": self.id("resource", &r.id.value),
                "@type": "vf:EconomicResource",
                "vf:name": r.name,
                "vf:classifiedAs": self.taxonomy("ownership", r.ownership.as_str()),
            });
            if r.ownership == Ownership::Individual
                && let [owner] = r.owners.as_slice()
            {
                v["vf:primaryAccountable"] = iri(self.id("agent", &owner.agent.value));
            }
            let mut note: Vec<String> = Vec::new();
            if !r.owners.is_empty() {
                let owners: Vec<String> = r
                    .owners
                    .iter()
                    .map(|o| format!("{} {}", o.agent.value, o.share.value))
                    .collect();
                note.push(format!("owners: {}", owners.join(", ")));
            }
            if let Some(rate) = r.use_rate {
                note.push(format!("use rate: {} {} per hour", rate, self.currency));
            }
            if !note.is_empty() {
                v["vf:note"] = json!(note.join("\n"));
            }
            self.node(v)?;
        }
        Ok(())
    }

    fn agreements(&mut self) -> std::io::Result<()> {
        let ledger = self.ledger;
        for a in &ledger.agreements {
            let buckets: Vec<&str> = a.buckets.iter().map(|b| b.name.value.as_str()).collect();
            let v = json!({
                "@id": self.id("agreement", &a.id.value),
                "@type": "vf:Agreement",
                "vf:name": a.name,
                "vf:note": format!("{}; buckets: {}", a.kind, buckets.join(", ")),
            });
            self.node(v)?;
        }
        Ok(())
    }

    /// Who provides a contribution's event(s): the contributor; for the use of a resource
    /// its owners by share, of a commons the network's fund (the leftover agent).
    fn parts(&self, c: &Contribution) -> Vec<Provider> {
        let one = |provider: Option<Id>| {
            vec![Provider {
                provider,
                share: Decimal::ONE,
                suffix: None,
            }]
        };
        if c.kind != Kind::Use {
            return one(Some(c.agent.value.clone()));
        }
        let resource = c
            .resource
            .as_ref()
            .and_then(|r| self.ledger.resources.iter().find(|x| x.id.value == r.value));
        let Some(resource) = resource else {
            return one(Some(c.agent.value.clone()));
        };
        match resource.owners.as_slice() {
            _ if resource.ownership == Ownership::Commons => one(self
                .ledger
                .network
                .as_ref()
                .and_then(|n| n.leftover.as_ref())
                .map(|l| l.value.clone())),
            [] => one(Some(c.agent.value.clone())),
            [owner] => one(Some(owner.agent.value.clone())),
            owners => owners
                .iter()
                .map(|o| Provider {
                    provider: Some(o.agent.value.clone()),
                    share: o.share.value.fraction(),
                    suffix: Some(o.agent.value.clone()),
                })
                .collect(),
        }
    }

    /// The fields of the event(s) of contribution `c`, quantities times `sign`: one map per
    /// part, with the part's id suffix.
    fn events(&mut self, c: &Contribution, sign: Decimal) -> Vec<(Option<Id>, Obj)> {
        let action = action(&c.kind, c.hours.is_some());
        let mut kinds = String::from("[");
        push_iri(&mut kinds, "taxonomy/kind", c.kind.as_str());
        if let Some(s) = &c.skill {
            kinds.push(',');
            push_iri(&mut kinds, "taxonomy/skill", s);
        }
        kinds.push(']');
        let mut out = Vec::new();
        for part in self.parts(c) {
            let mut m = Obj::default();
            m.put_text("@type", "vf:EconomicEvent");
            m.put("vf:action", |b| {
                b.push_str("{\"@id\":\"vf:");
                b.push_str(action);
                b.push_str("\"}");
            });
            if let Some(p) = &part.provider {
                m.put("vf:provider", |b| push_iri(b, "agent", p));
            }
            m.put("vf:receiver", |b| push_iri(b, "project", &c.project.value));
            m.put("vf:resourceClassifiedAs", |b| b.push_str(&kinds));
            if let Some(h) = &c.hours {
                let h = h
                    .value
                    .checked_mul(part.share)
                    .and_then(|h| h.checked_mul(sign))
                    .unwrap_or(h.value);
                m.put("vf:effortQuantity", |b| self.push_hours(b, h));
            }
            let signed = |v: Decimal| v.checked_mul(sign).unwrap_or(v);
            if c.kind == Kind::Material {
                if let (Some(q), Some(u)) = (c.quantity(), c.unit()) {
                    m.put("vf:resourceQuantity", |b| {
                        self.push_quantity(b, signed(q), u);
                    });
                }
            } else if let Some(a) = c.amount {
                let cur = c.currency().unwrap_or(self.currency);
                m.put("vf:resourceQuantity", |b| {
                    self.push_money(b, signed(a), cur)
                });
            }
            if let Some(r) = &c.resource {
                m.put("vf:resourceInventoriedAs", |b| {
                    push_iri(b, "resource", &r.value);
                });
            }
            out.push((part.suffix, m));
        }
        out
    }

    /// The description and evidence of a contribution, the one `vf:note` an event has; for
    /// the use of a resource provided by others (its owners, the fund), also who recorded it,
    /// which no other field of the event says.
    fn note(&self, c: &Contribution) -> String {
        let mut note = c.description.clone();
        for e in c.evidence() {
            note.push_str("\nevidence: ");
            note.push_str(e);
        }
        if c.kind == Kind::Use
            && self
                .parts(c)
                .iter()
                .any(|p| p.provider.as_ref() != Some(&c.agent.value))
        {
            note.push_str("\nrecorded by: ");
            note.push_str(c.agent.value.as_str());
        }
        note
    }

    /// Each selected contribution of `contributions` as its event(s), with its claims, then
    /// its approvals. A reversal or a replacement first backs the corrected event out (its
    /// quantities negated, dated at the correction, `vf:corrects` it).
    fn contributions(
        &mut self,
        query: &Query,
        shared: &Shared<'_>,
        contributions: &[Box<Contribution>],
    ) -> std::io::Result<()> {
        for c in contributions.iter().filter(|c| {
            query.project(&c.project.value)
                && query.agent(&c.agent.value)
                && query.dated(c.date.value)
        }) {
            let target = c.reverses().or(c.supersedes());
            if let Some(x) = target {
                let original = shared.corrected.get(x.value.as_str()).copied();
                self.backout(c, &x.value, original)?;
            }
            if c.reverses().is_none() {
                self.event_and_claims(c)?;
            }
            for a in shared
                .approvals
                .get(c.id.value.as_str())
                .into_iter()
                .flatten()
            {
                self.approval(a, c)?;
            }
        }
        Ok(())
    }

    /// The events that back `original` out: for a reversal they are the reversal itself,
    /// for a replacement `<replacement>/correction`.
    fn backout(
        &mut self,
        c: &Contribution,
        target: &Id,
        original: Option<&Contribution>,
    ) -> std::io::Result<()> {
        let correction = c.reverses().is_none();
        let events = match original {
            Some(o) => self.events(o, Decimal::NEGATIVE_ONE),
            None => vec![(None, Obj::default())],
        };
        for (suffix, mut m) in events {
            let suffix = suffix.as_ref();
            m.put("@id", |b| {
                push_event_id(b, c.id.value.as_str(), correction, suffix)
            });
            m.put_text("@type", "vf:EconomicEvent");
            m.put("vf:corrects", |b| {
                b.push_str("{\"@id\":");
                push_event_id(b, target.as_str(), false, suffix);
                b.push('}');
            });
            m.put("vf:hasPointInTime", |b| push_date_time(b, c.date.value));
            let note = if c.reverses().is_some() {
                self.note(c)
            } else {
                format!("backs out {target}, superseded by {}", c.id.value)
            };
            m.put_text("vf:note", &note);
            self.node_text(m)?;
        }
        Ok(())
    }

    fn event_and_claims(&mut self, c: &Contribution) -> std::io::Result<()> {
        let shares: Vec<(Option<Id>, Decimal)> = self
            .parts(c)
            .into_iter()
            .map(|p| (p.provider, p.share))
            .collect();
        let events = self.events(c, Decimal::ONE);
        let note = self.note(c);
        for ((suffix, mut m), (claimant, share)) in events.into_iter().zip(shares) {
            let mut event = String::new();
            push_event_id(&mut event, c.id.value.as_str(), false, suffix.as_ref());
            m.put("@id", |b| b.push_str(&event));
            m.put("vf:hasPointInTime", |b| push_date_time(b, c.date.value));
            m.put_text("vf:note", &note);
            self.node_text(m)?;
            let Some(claimant) = claimant else { continue };
            let mut claim = Obj::default();
            claim.put("@id", |b| {
                push_id(b, "claim", [c.id.value.as_str(), claimant.as_str()]);
            });
            claim.put_text("@type", "vf:Claim");
            claim.put("vf:action", |b| b.push_str("{\"@id\":\"vf:transfer\"}"));
            claim.put("vf:provider", |b| push_iri(b, "project", &c.project.value));
            claim.put("vf:receiver", |b| push_iri(b, "agent", &claimant));
            claim.put("vf:triggeredBy", |b| {
                b.push_str("{\"@id\":");
                b.push_str(&event);
                b.push('}');
            });
            if let Some(a) = c.amount.and_then(|a| a.checked_mul(share)) {
                let cur = c.currency().unwrap_or(self.currency);
                claim.put("vf:resourceQuantity", |b| self.push_money(b, a, cur));
            } else {
                claim.put_text("vf:note", "valued by the project's agreement");
            }
            self.node_text(claim)?;
        }
        Ok(())
    }

    /// An approval: an agreement, by its approver, that the approved event counts.
    fn approval(&mut self, a: &super::record::Approval, c: &Contribution) -> std::io::Result<()> {
        let mut note = format!("approval of contribution {} ({})", c.id.value, a.digest);
        if let Some(by) = &a.by {
            note.push_str(", signed by ");
            note.push_str(by.value.as_str());
        }
        if let Some(comment) = &a.comment {
            note.push_str(": ");
            note.push_str(comment);
        }
        let mut v = Obj::default();
        v.put("@id", |b| push_id(b, "approval", [a.id.value.as_str()]));
        v.put_text("@type", "vf:Agreement");
        v.put("vf:created", |b| push_date_time(b, a.date.value));
        v.put("vf:realizes", |b| {
            b.push_str("{\"@id\":");
            push_event_id(b, c.id.value.as_str(), false, None);
            b.push('}');
        });
        v.put_text("vf:note", &note);
        self.node_text(v)
    }

    /// Each recorded payout: the revenue received by the project, then one transfer per line
    /// from the project to its agent, realizing the agreement; an agent's first line settles
    /// the claims the payout paid that agent.
    fn payouts(&mut self, query: &Query) -> std::io::Result<()> {
        let ledger = self.ledger;
        for p in super::export::selected_payouts(ledger, query) {
            let pid = self.id("payout", &p.id.value);
            let agreement = iri(self.id("agreement", &p.agreement.value));
            let mut note = format!(
                "revenue of {}; computed at commit {}, inputs {}",
                p.project.value, p.commit, p.digest
            );
            if let Some(m) = &p.memo {
                note = format!("{m}\n{note}");
            }
            let v = json!({
                "@id": pid,
                "@type": "vf:EconomicEvent",
                "vf:action": { "@id": "vf:transfer" },
                "vf:receiver": iri(self.id("project", &p.project.value)),
                "vf:resourceQuantity": self.money_value(p.amount.value, &p.currency),
                "vf:hasPointInTime": date_time(p.date.value),
                "vf:realizationOf": agreement,
                "vf:note": note,
            });
            self.node(v)?;
            let mut settled_for: Vec<&Id> = Vec::new();
            for (n, l) in p.lines.iter().enumerate() {
                let amount = l.amount;
                let mut v = json!({
                    "@id": format!("{pid}/line/{}", n + 1),
                    "@type": "vf:EconomicEvent",
                    "vf:action": { "@id": "vf:transfer" },
                    "vf:provider": iri(self.id("project", &p.project.value)),
                    "vf:receiver": iri(self.id("agent", &l.agent.value)),
                    "vf:resourceQuantity": self.money_value(amount, &p.currency),
                    "vf:hasPointInTime": date_time(p.date.value),
                    "vf:realizationOf": agreement,
                    "vf:note": format!("bucket: {}", l.bucket),
                });
                if !settled_for.contains(&&l.agent.value) {
                    settled_for.push(&l.agent.value);
                    let claims: Vec<Value> = p
                        .settled
                        .iter()
                        .filter(|s| s.agent.value == l.agent.value)
                        .map(|s| {
                            iri(format!(
                                "{ID}claim/{}/{}",
                                segment(&s.contribution.value),
                                segment(&s.agent.value)
                            ))
                        })
                        .collect();
                    if !claims.is_empty() {
                        v["vf:settles"] = json!(claims);
                    }
                }
                self.node(v)?;
            }
        }
        Ok(())
    }

    fn declare_units(&mut self) -> std::io::Result<()> {
        let units = std::mem::take(&mut self.units);
        for (id, u) in units {
            let mut v = json!({
                "@id": id,
                "@type": "vf:Unit",
                "vf:label": u.label,
                "vf:symbol": if u.om.as_deref() == Some("hour") { "h".to_owned() } else { u.label.clone() },
            });
            if let Some(om) = &u.om {
                v["vf:omUnitIdentifier"] =
                    json!({ "@value": format!("{OM2}{om}"), "@type": "xsd:anyURI" });
            }
            self.node(v)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_uris() {
        assert!(check_base_uri("https://fablab.example/ledger/").is_ok());
        assert!(check_base_uri("urn:ovn:abc:").is_ok());
        assert!(check_base_uri("https://x.example/l#").is_ok());
        assert!(check_base_uri("https://x.example/l").is_err());
        assert!(check_base_uri("ledger/").is_err());
        assert!(check_base_uri("https://x.example/a b/").is_err());
        assert!(check_base_uri("https://x.example/\"/").is_err());
        assert!(check_base_uri(":/").is_err());
        assert_eq!(default_base_uri("abc", ""), "urn:ovn:abc:");
        assert_eq!(default_base_uri("abc", "ledger/"), "urn:ovn:abc:ledger:");
    }

    #[test]
    fn a_node_written_as_text_is_the_one_json_writes() {
        let hostile = "a \"quote\", a \\ and \u{1} \n\t</script> é 🦀";
        let id = Id::parse("01kdy02100c3nn0qbbet707xt2").expect("an id");
        let mut m = Obj::default();
        m.put_text("vf:note", hostile);
        m.put_text("@type", "vf:EconomicEvent");
        m.put("vf:hasPointInTime", |b| push_date_time(b, NaiveDate::MIN));
        m.put_text("@id", "ledger:x");
        m.put("vf:action", |b| {
            b.push_str("{\"@id\":");
            push_text(b, hostile);
            b.push('}');
        });
        m.put("vf:provider", |b| push_iri(b, "agent", hostile));
        m.put("vf:corrects", |b| {
            b.push_str("{\"@id\":");
            push_event_id(b, hostile, true, Some(&id));
            b.push('}');
        });
        m.put_text("@type", "vf:Claim");
        let want = json!({
            "@id": "ledger:x",
            "@type": "vf:Claim",
            "vf:action": { "@id": hostile },
            "vf:corrects": {
                "@id": format!("ledger:contribution/{}/correction/{id}", segment(hostile))
            },
            "vf:hasPointInTime": date_time(NaiveDate::MIN),
            "vf:note": hostile,
            "vf:provider": iri(format!("ledger:agent/{}", segment(hostile))),
        });
        let mut got = Vec::new();
        m.write_to(&mut got).expect("written");
        assert_eq!(String::from_utf8(got).expect("UTF-8"), want.to_string());
    }

    #[test]
    fn a_measure_written_as_text_is_the_one_json_writes() {
        let ledger = Ledger::default();
        let mut out: Vec<u8> = Vec::new();
        let mut doc = Doc {
            out: &mut out,
            first: false,
            ledger: &ledger,
            currency: "EUR",
            units: BTreeMap::new(),
        };
        let mut text = String::new();
        doc.push_quantity(&mut text, Decimal::new(-1500, 3), "m²");
        let want = json!({
            "@type": "vf:Measure",
            "vf:hasNumericalValue": { "@type": "xsd:decimal", "@value": "-1.5" },
            "vf:hasUnit": { "@id": "ledger:unit/quantity/m%C2%B2" },
        });
        assert_eq!(text, want.to_string());
        let unit = &doc.units["ledger:unit/quantity/m%C2%B2"];
        assert_eq!(
            (unit.label.as_str(), unit.om.as_deref()),
            ("m²", Some("squareMetre"))
        );
    }

    #[test]
    fn segments_cannot_break_out() {
        assert_eq!(segment("electronics"), "electronics");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("m²"), "m%C2%B2");
        assert_eq!(segment("\"><"), "%22%3E%3C");
        assert_eq!(segment(""), "");
        assert_eq!(segment("é🦀a b~"), "%C3%A9%F0%9F%A6%80a%20b~");
        // Every byte of the text, escaped or not, byte for byte.
        for text in ["01kdy02100c3nn0qbbet707xt2", "a\u{0}b", "ü-ü", "%41"] {
            let want: String = text
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            assert_eq!(segment(text), want, "{text:?}");
        }
    }
}
