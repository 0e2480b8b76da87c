//! The canonical writer: one text per record, so that write → read → write is byte-identical
//! and two tools writing the same record produce the same diff.
//!
//! Fields come in the documented order; decimals are quoted strings (no TOML reader will
//! turn them into floats); dates are bare TOML dates; optional fields that are absent are not
//! written. The texts are built by hand rather than through a serializer so the layout is
//! part of this file's contract, not of a dependency's version.

use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::decay::{Age, Schedule};
use super::record::{
    Agent, Agreement, Approval, At, Base, Bucket, Budget, ClaimKind, Contribution, Network,
    PayoutRecord, Policy, Project, Resource, Rule,
};
use super::value::Id;

/// Quotes `s` as a TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Control and bidirectional characters are written as escapes, never raw.
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}') =>
            {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Doc(String);

impl Doc {
    fn new() -> Doc {
        Doc(String::with_capacity(256))
    }
    fn str(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.0, "{key} = {}", quote(value));
    }
    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }
    fn id(&mut self, key: &str, value: &At<Id>) {
        self.str(key, value.value.as_str());
    }
    fn opt_id(&mut self, key: &str, value: &Option<At<Id>>) {
        if let Some(v) = value {
            self.id(key, v);
        }
    }
    fn dec(&mut self, key: &str, value: Decimal) {
        self.str(key, &value.to_string());
    }
    fn opt_dec(&mut self, key: &str, value: Option<Decimal>) {
        if let Some(v) = value {
            self.dec(key, v);
        }
    }
    fn date(&mut self, key: &str, value: NaiveDate) {
        let _ = writeln!(self.0, "{key} = {}", value.format("%Y-%m-%d"));
    }
    fn opt_date(&mut self, key: &str, value: Option<NaiveDate>) {
        if let Some(v) = value {
            self.date(key, v);
        }
    }
    fn list<'a>(&mut self, key: &str, items: impl IntoIterator<Item = &'a str>) {
        let items: Vec<String> = items.into_iter().map(quote).collect();
        let _ = writeln!(self.0, "{key} = [{}]", items.join(", "));
    }
    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }
}

/// Writes `ovn.toml`.
pub fn network(n: &Network) -> String {
    let mut d = Doc::new();
    d.line("# Open Value Network ledger: see ovn-ledger(5)");
    let _ = writeln!(d.0, "format = {}", n.format);
    d.str("name", &n.name);
    d.str("currency", &n.currency);
    if n.minor_units_explicit {
        let _ = writeln!(d.0, "minor_units = {}", n.minor_units);
    }
    d.str("validated_branch", &n.validated_branch);
    d.opt_id("leftover", &n.leftover);
    if let Some(b) = &n.base_uri {
        d.str("base_uri", &b.value);
    }
    if let Some(a) = &n.payment_account {
        d.str("payment_account", &a.value);
    }
    if !n.validation.is_default() {
        let v = &n.validation;
        d.line("");
        d.line("[validation]");
        let _ = writeln!(d.0, "approvals = {}", v.approvals);
        let _ = writeln!(d.0, "stewards = {}", v.stewards);
        if v.record_signatures {
            d.line("signed = \"record\"");
        } else {
            let _ = writeln!(d.0, "signed = {}", v.signed);
        }
        if let Some(days) = v.max_date_skew_days {
            let _ = writeln!(d.0, "max_date_skew_days = {days}");
        }
    }
    d.0
}

/// Writes an approval record.
pub fn approval(a: &Approval) -> String {
    let mut d = Doc::new();
    d.id("id", &a.id);
    d.id("record", &a.record);
    d.str("digest", &a.digest);
    d.date("date", a.date.value);
    d.opt_str("comment", a.comment.as_deref());
    d.opt_id("by", &a.by);
    d.opt_str("signature", a.signature.as_deref());
    d.0
}

/// The `sha256:` digest an approval names: of the contribution's canonical text, so an
/// approval survives reformatting but not an edit of any field.
pub fn contribution_digest(c: &Contribution) -> String {
    super::value::sha256_text(&contribution(c))
}

/// Writes an agent record.
pub fn agent(a: &Agent) -> String {
    let mut d = Doc::new();
    d.id("id", &a.id);
    d.str("name", &a.name);
    d.str("kind", a.kind.as_str());
    d.list("emails", a.emails.iter().map(|e| e.value.as_str()));
    if !a.keys.is_empty() {
        d.list("keys", a.keys.iter().map(String::as_str));
    }
    d.opt_date("joined", a.joined);
    d.opt_str("ledger", a.ledger.as_deref());
    super::leave::write_departures(&mut d.0, &a.departures);
    d.0
}

/// Writes a project record.
pub fn project(p: &Project) -> String {
    let mut d = Doc::new();
    d.id("id", &p.id);
    d.str("name", &p.name);
    d.opt_id("agreement", &p.agreement);
    d.opt_id("parent", &p.parent);
    if !p.stewards.is_empty() {
        d.list("stewards", p.stewards.iter().map(|s| s.value.as_str()));
    }
    d.0
}

/// Writes a resource record.
pub fn resource(r: &Resource) -> String {
    let mut d = Doc::new();
    d.id("id", &r.id);
    d.str("name", &r.name);
    d.str("ownership", r.ownership.as_str());
    if !r.owners.is_empty() {
        d.line("owners = [");
        for o in &r.owners {
            let _ = writeln!(
                d.0,
                "  {{ agent = {}, share = {} }},",
                quote(o.agent.value.as_str()),
                quote(&o.share.value.to_string())
            );
        }
        d.line("]");
    }
    if !r.stewards.is_empty() {
        d.list("stewards", r.stewards.iter().map(|s| s.value.as_str()));
    }
    d.opt_dec("use_rate", r.use_rate);
    d.0
}

/// Writes an agreement (value equation).
pub fn agreement(a: &Agreement) -> String {
    let mut d = Doc::new();
    d.id("id", &a.id);
    d.str("name", &a.name);
    d.str("kind", &a.kind);
    d.opt_date("from", a.from);
    d.opt_date("until", a.until);
    d.opt_id("leftover", &a.leftover);
    if !a.rates.is_empty() {
        d.line("");
        d.line("[rates]");
        d.opt_dec("work", a.rates.work);
        let inline = |pairs: Vec<(&str, Decimal)>| {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k} = {}", quote(&v.to_string())))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        };
        if !a.rates.skill.is_empty() {
            let pairs = a
                .rates
                .skill
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect();
            let _ = writeln!(d.0, "skill = {}", inline(pairs));
        }
        for (key, map) in [("agent", &a.rates.agent), ("project", &a.rates.project)] {
            if !map.is_empty() {
                let pairs = map.iter().map(|(k, v)| (k.as_str(), v.value)).collect();
                let _ = writeln!(d.0, "{key} = {}", inline(pairs));
            }
        }
    }
    for b in &a.buckets {
        bucket(&mut d, b);
    }
    super::leave::write_terms(&mut d.0, &a.leaving);
    d.0
}

fn bucket(d: &mut Doc, b: &Bucket) {
    d.line("");
    d.line("[[buckets]]");
    d.str("name", &b.name.value);
    match &b.budget {
        Budget::Share { share, of } => {
            d.str("share", &share.to_string());
            if *of == Base::Remaining {
                d.str("of", "remaining");
            }
        }
        Budget::Rest => d.str("share", "rest"),
        Budget::Amount(amount) => d.dec("amount", *amount),
    }
    d.opt_id("to", &b.to);
    d.opt_id("to_project", &b.to_project);
    if (b.to.is_none() && b.to_project.is_none()) || b.claim != ClaimKind::Equity {
        d.str("claim", b.claim.as_str());
    }
    d.opt_dec("cap", b.cap);
    if b.policy != Policy::Proportional {
        d.str("policy", b.policy.as_str());
    }
    ages(d, b.decay.as_ref(), b.lookback);
    if let Some(f) = &b.freeze {
        let rate = f
            .after
            .rate()
            .map(|r| format!(", rate = {}", quote(&r.to_string())));
        let _ = writeln!(
            d.0,
            "freeze = {{ from = {}, after = {}{} }}",
            f.from,
            quote(f.after.as_str()),
            rate.unwrap_or_default()
        );
    }
    for r in &b.rules {
        rule(d, r);
    }
}

fn rule(d: &mut Doc, r: &Rule) {
    d.line("");
    d.line("[[buckets.rules]]");
    d.str("kind", &r.kind);
    d.opt_id("project", &r.project);
    d.opt_str("skill", r.skill.as_deref());
    d.opt_id("agent", &r.agent);
    d.opt_date("from", r.from);
    d.opt_date("until", r.until);
    d.opt_dec("rate", r.rate);
    d.opt_dec("multiplier", r.multiplier);
    d.opt_str("formula", r.formula.as_ref().map(|f| f.source.as_str()));
    d.opt_str("claim", r.claim.map(ClaimKind::as_str));
    d.opt_dec("cap", r.cap);
    ages(d, r.decay.as_ref(), r.lookback);
}

/// A bucket's or rule's `lookback` and `decay` (one inline array, youngest step first).
fn ages(d: &mut Doc, decay: Option<&Schedule>, lookback: Option<Age>) {
    d.opt_str("lookback", lookback.map(|a| a.to_string()).as_deref());
    if let Some(s) = decay {
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|step| match step.until {
                Some(u) => format!(
                    "{{ until = {}, factor = {} }}",
                    quote(&u.to_string()),
                    quote(&step.factor.to_string())
                ),
                None => format!("{{ factor = {} }}", quote(&step.factor.to_string())),
            })
            .collect();
        let _ = writeln!(d.0, "decay = [{}]", steps.join(", "));
    }
}

/// Writes a contribution record.
pub fn contribution(c: &Contribution) -> String {
    let mut d = Doc::new();
    d.id("id", &c.id);
    d.id("agent", &c.agent);
    d.date("date", c.date.value);
    d.id("project", &c.project);
    d.str("kind", c.kind.as_str());
    d.str("description", &c.description);
    d.opt_dec("hours", c.hours.as_ref().map(|h| h.value));
    d.opt_str("skill", c.skill.as_deref());
    d.opt_dec("amount", c.amount);
    d.opt_str("currency", c.currency());
    d.opt_dec("rate", c.rate());
    d.opt_dec("quantity", c.quantity());
    d.opt_str("unit", c.unit());
    d.opt_id("resource", &c.resource);
    if !c.evidence().is_empty() {
        d.list("evidence", c.evidence().iter().map(String::as_str));
    }
    d.opt_id("reverses", &c.reverses().cloned());
    d.opt_id("supersedes", &c.supersedes().cloned());
    d.0
}

/// Writes a recorded payout.
pub fn payout(p: &PayoutRecord) -> String {
    let mut d = Doc::new();
    d.id("id", &p.id);
    d.id("project", &p.project);
    d.id("agreement", &p.agreement);
    d.date("date", p.date.value);
    d.dec("amount", p.amount.value);
    d.str("currency", &p.currency);
    d.opt_str("memo", p.memo.as_deref());
    d.str("commit", &p.commit);
    d.str("digest", &p.digest);
    if let Some(follows) = &p.follows {
        d.list("follows", follows.value.iter().map(|f| f.value.as_str()));
    }
    if let Some(parent) = &p.parent {
        d.id("parent", &parent.payout);
        d.line(&format!("parent_line = {}", parent.line.value));
    }
    if let Some(s) = &p.source {
        d.0.push_str(&super::incoming::write(s));
    }
    for l in &p.lines {
        d.line("");
        d.line("[[lines]]");
        match &l.project {
            Some(project) => d.id("project", project),
            None => d.id("agent", &l.agent),
        }
        d.str("bucket", &l.bucket);
        d.dec("amount", l.amount);
        d.opt_id("payout", &l.payout);
    }
    for s in &p.settled {
        d.line("");
        d.line("[[settled]]");
        d.id("contribution", &s.contribution);
        d.id("agent", &s.agent);
        d.str("claim", s.claim.as_str());
        d.dec("amount", s.amount);
    }
    for s in &p.overpaid {
        d.line("");
        d.line("[[overpaid]]");
        d.id("contribution", &s.contribution);
        d.id("agent", &s.agent);
        d.str("claim", s.claim.as_str());
        d.dec("amount", s.amount);
    }
    d.0
}
