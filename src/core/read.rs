//! One reader per record type: which fields it has, which are required, and the rules a
//! single record must satisfy on its own. Rules that need other records are in
//! [`super::checks`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_spanned::Spanned;
use toml::de::DeTable;

use super::decay::{Age, Schedule, Step};
use super::diag::{Code, Diagnostic};
use super::parse::{DecimalRule, Fields, Need, Settings, is_name_word};
use super::record::{
    Agent, AgentKind, Agreement, Approval, At, Base, Bucket, Budget, ClaimKind, Contribution,
    FileId, Kind, Network, Owner, Ownership, PaidLine, PayoutRecord, Policy, Project, Rates,
    Resource, Rule, SettledClaim, Validation,
};
use super::value::{Id, Percent, currency_minor_units, is_currency_code};

/// The shared inputs of a record reader.
pub struct Source<'a> {
    /// Ledger-relative path.
    pub path: &'a str,
    /// Index of the file.
    pub file: FileId,
    /// Byte offset of the TOML text in the file (3 after a stripped BOM).
    pub base: usize,
    /// The network's currency settings.
    pub settings: &'a Settings,
}

fn money_rule<'a>(settings: &Settings, what: &'a str, record_hint: bool) -> DecimalRule<'a> {
    DecimalRule::money(settings.minor_units, what, record_hint)
}

/// Reads `ovn.toml`.
///
/// Long because every setting is read and located here, in the order ovn-ledger(5) gives.
pub fn network(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Network> {
    let mut f = Fields::new(src.path, src.base, "ovn.toml", table, true, diags);
    let format = f.integer("format", Need::Required("1"));
    if let Some(fmt) = &format
        && fmt.value != Network::FORMAT
    {
        f.report(
            Code::InvalidValue,
            Some(fmt.span),
            format!(
                "ledger format {} is not supported (this ovn reads format {})",
                fmt.value,
                Network::FORMAT
            ),
            Some("upgrade ovn, or check that `format` was not edited by hand".to_owned()),
        );
    }
    let name = f.text("name", Need::Required("\"Fablab Commons\""));
    let currency = f.text("currency", Need::Required("\"EUR\""));
    if let Some(c) = &currency
        && !is_currency_code(&c.value)
    {
        f.report(
            Code::InvalidValue,
            Some(c.span),
            format!(
                "`currency` must be a three-letter uppercase code such as \"EUR\", found {:?}",
                c.value
            ),
            None,
        );
    }
    let minor_units = f.integer("minor_units", Need::Optional);
    if let Some(m) = &minor_units
        && m.value > 6
    {
        f.report(
            Code::InvalidValue,
            Some(m.span),
            format!("`minor_units` must be between 0 and 6, found {}", m.value),
            None,
        );
    }
    let validated_branch = f.text("validated_branch", Need::Optional);
    let leftover = f.id("leftover", Need::Optional);
    let base_uri = f.text("base_uri", Need::Optional);
    if let Some(b) = &base_uri
        && let Err(why) = super::valueflows::check_base_uri(&b.value)
    {
        f.report(Code::InvalidValue, Some(b.span), why, None);
    }
    let payment_account = f.text("payment_account", Need::Optional);
    if let Some(a) = &payment_account
        && let Err(why) = super::payment::check_account(&a.value)
    {
        f.report(Code::InvalidValue, Some(a.span), why, None);
    }
    let validation = match f.table("validation") {
        Some(t) => {
            let mut v = f.nested("validation".to_owned(), t);
            let approvals = v.integer("approvals", Need::Optional);
            let stewards = v.boolean("stewards", Need::Optional);
            // `signed` is true, false, "commit" (= true) or "record".
            let (signed, record_signatures) = if v.peek_text("signed").is_some() {
                let word = v.word("signed", Need::Optional, &["commit", "record"]);
                (word.is_some(), word.is_some_and(|w| w.value == "record"))
            } else {
                let b = v.boolean("signed", Need::Optional);
                (b.is_some_and(|s| s.value), false)
            };
            let skew = v.integer("max_date_skew_days", Need::Optional);
            v.finish();
            Validation {
                approvals: approvals.map_or(0, |a| a.value),
                stewards: stewards.is_some_and(|s| s.value),
                signed,
                record_signatures,
                max_date_skew_days: skew.map(|s| s.value),
            }
        }
        None => Validation::default(),
    };
    // Keep the record even when a field failed, so ledger-wide checks still report what
    // else is wrong with it; a ledger with any diagnostic is never used for money.
    f.finish();
    let currency = currency?.value;
    let explicit = minor_units.is_some();
    Some(Network {
        format: format?.value,
        name: name?.value,
        // An out-of-range value was reported; judge amounts by the currency's usual places.
        minor_units: minor_units
            .filter(|m| m.value <= 6)
            .map_or_else(|| currency_minor_units(&currency), |m| m.value),
        minor_units_explicit: explicit,
        currency,
        validated_branch: validated_branch
            .map_or_else(|| Network::DEFAULT_BRANCH.to_owned(), |b| b.value),
        leftover,
        validation,
        base_uri: base_uri.filter(|b| super::valueflows::check_base_uri(&b.value).is_ok()),
        payment_account: payment_account
            .filter(|a| super::payment::check_account(&a.value).is_ok()),
    })
}

/// Reads `agents/<id>.toml`.
pub fn agent(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Agent> {
    let mut f = Fields::new(src.path, src.base, "agent", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let name = f.text("name", Need::Required("\"Ana Lima\""));
    let kind = f.word(
        "kind",
        Need::Optional,
        &["person", "organization", "network"],
    );
    let emails = f.text_list("emails");
    for email in &emails {
        if !email.value.contains('@') || email.value.chars().any(char::is_whitespace) {
            f.report(
                Code::InvalidValue,
                Some(email.span),
                format!("{:?} is not an email address", email.value),
                Some(
                    "emails are the git identities (`git config user.email`) of this agent"
                        .to_owned(),
                ),
            );
        }
    }
    let keys = f.text_list("keys");
    let joined = f.date("joined", Need::Optional);
    let ledger = f.text("ledger", Need::Optional);
    let departures = super::leave::read_departures(&mut f);
    // Keep the record even when a field failed, so ledger-wide checks still report what
    // else is wrong with it; a ledger with any diagnostic is never used for money.
    f.finish();
    Some(Agent {
        file: src.file,
        id: id?,
        name: name?.value,
        kind: match kind.as_ref().map(|k| k.value.as_str()) {
            Some("organization") => AgentKind::Organization,
            Some("network") => AgentKind::Network,
            _ => AgentKind::Person,
        },
        emails,
        keys: keys.into_iter().map(|k| k.value).collect(),
        joined: joined.map(|d| d.value),
        ledger: ledger.map(|l| l.value),
        departures,
    })
}

/// Reads `projects/<id>.toml`.
pub fn project(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Project> {
    let mut f = Fields::new(src.path, src.base, "project", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let name = f.text("name", Need::Required("\"Open Drone\""));
    let agreement = f.id("agreement", Need::Optional);
    let parent = f.id("parent", Need::Optional);
    let stewards = f.id_list("stewards");
    // Keep the record even when a field failed, so ledger-wide checks still report what
    // else is wrong with it; a ledger with any diagnostic is never used for money.
    f.finish();
    Some(Project {
        file: src.file,
        id: id?,
        name: name?.value,
        agreement,
        parent,
        stewards,
    })
}

/// Reads `resources/<id>.toml`, including the owners' shares rule.
pub fn resource(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Resource> {
    let mut f = Fields::new(src.path, src.base, "resource", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let name = f.text("name", Need::Required("\"Prusa MK4\""));
    let ownership = f.word(
        "ownership",
        Need::Required("\"pooled\""),
        &["commons", "pooled", "individual"],
    );
    let ownership = ownership.map(|o| {
        let kind = match o.value.as_str() {
            "commons" => Ownership::Commons,
            "pooled" => Ownership::Pooled,
            _ => Ownership::Individual,
        };
        At {
            value: kind,
            span: o.span,
        }
    });
    // Ownership problems are about the whole list (or, without one, the ownership word).
    let owners_span = f.peek_span("owners").or(ownership.as_ref().map(|o| o.span));
    let owner_tables = f.tables("owners");
    let mut owners = Vec::new();
    for (i, t) in owner_tables.into_iter().enumerate() {
        let mut o = f.nested(format!("owners[{}]", i + 1), t);
        let agent = o.id("agent", Need::Required("\"ana\""));
        let share = o.percent("share", Need::Optional);
        let ok = o.finish();
        if let (true, Some(agent)) = (ok, agent) {
            owners.push((agent, share));
        } else {
            f.failed = true;
        }
    }
    let stewards = f.id_list("stewards");
    let use_rate = f.decimal("use_rate", Need::Optional, DecimalRule::RATE);
    f.finish();
    let resolved = match ownership.as_ref().map(|o| o.value) {
        Some(kind) => match resolve_owners(kind, owners) {
            Ok(resolved) => resolved,
            Err((message, hint)) => {
                diags.push(
                    Diagnostic::new(Code::OwnerShares, src.path, owners_span, message)
                        .with_hint(hint),
                );
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    Some(Resource {
        file: src.file,
        id: id?,
        name: name?.value,
        ownership: ownership?.value,
        owners: resolved,
        stewards,
        use_rate: use_rate.map(|r| r.value),
    })
}

/// Applies the ownership rule: commons has no owners, individual exactly one holding 100%,
/// pooled one or more whose shares sum to exactly 100%.
fn resolve_owners(
    ownership: Ownership,
    owners: Vec<(At<Id>, Option<At<Percent>>)>,
) -> Result<Vec<Owner>, (String, &'static str)> {
    let hundred = Percent(Decimal::ONE_HUNDRED);
    match ownership {
        Ownership::Commons if owners.is_empty() => Ok(Vec::new()),
        Ownership::Commons => Err((
            "a commons resource cannot have owners".to_owned(),
            "remove `owners`, or make the ownership `pooled` or `individual`",
        )),
        Ownership::Individual => match <[_; 1]>::try_from(owners) {
            Ok([(agent, share)]) => {
                let share = share.unwrap_or(At::new(hundred));
                if share.value != hundred {
                    return Err((
                        format!(
                            "the owner of an individual resource holds 100%, not {}",
                            share.value
                        ),
                        "omit `share` or write share = \"100%\"",
                    ));
                }
                Ok(vec![Owner { agent, share }])
            }
            Err(owners) => Err((
                format!(
                    "an individual resource has exactly one owner, found {}",
                    owners.len()
                ),
                "list one owner, or make the ownership `pooled`",
            )),
        },
        Ownership::Pooled => {
            if owners.is_empty() {
                return Err((
                    "a pooled resource needs at least one owner".to_owned(),
                    "add owners = [{ agent = \"ana\", share = \"50%\" }, ...]",
                ));
            }
            let mut resolved: Vec<Owner> = Vec::new();
            for (agent, share) in owners {
                if resolved.iter().any(|o| o.agent.value == agent.value) {
                    return Err((
                        format!("agent `{}` is listed twice among the owners", agent.value),
                        "list each owner once, with its whole share",
                    ));
                }
                let Some(share) = share else {
                    return Err((
                        format!(
                            "owner `{}` of a pooled resource has no `share`",
                            agent.value
                        ),
                        "write owners as { agent = \"ana\", share = \"50%\" }",
                    ));
                };
                resolved.push(Owner { agent, share });
            }
            let total: Decimal = resolved.iter().map(|o| o.share.value.0).sum();
            if total != Decimal::ONE_HUNDRED {
                return Err((
                    format!("owners' shares sum to {total}%, not 100%"),
                    "adjust the shares so they add up to exactly 100%",
                ));
            }
            Ok(resolved)
        }
    }
}

fn claim_kind(word: &str) -> ClaimKind {
    match word {
        "debt" => ClaimKind::Debt,
        "once" => ClaimKind::Once,
        _ => ClaimKind::Equity,
    }
}

const CLAIMS: &[&str] = &["equity", "debt", "once"];

/// Reads `agreements/<id>.toml` (a value equation), with its own consistency rules.
pub fn agreement(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Agreement> {
    let mut f = Fields::new(src.path, src.base, "agreement", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let name = f.text("name", Need::Required("\"Drone value equation\""));
    let kind = f.word("kind", Need::Optional, &[Agreement::VALUE_EQUATION]);
    let from = f.date("from", Need::Optional);
    let until = f.date("until", Need::Optional);
    if let (Some(a), Some(b)) = (&from, &until)
        && a.value > b.value
    {
        f.report(
            Code::InvalidValue,
            Some(b.span),
            format!("`until` ({}) is before `from` ({})", b.value, a.value),
            None,
        );
    }
    let leftover = f.id("leftover", Need::Optional);
    let rates = match f.table("rates") {
        Some(t) => read_rates(&mut f, t),
        None => Rates::default(),
    };
    let mut buckets = Vec::new();
    let bucket_tables = f.tables("buckets");
    if bucket_tables.is_empty() && !f.failed {
        f.report(
            Code::MissingField,
            None,
            "a value equation needs at least one `[[buckets]]`".to_owned(),
            Some("add [[buckets]] with name = \"...\" and share = \"rest\"".to_owned()),
        );
    }
    for (i, t) in bucket_tables.into_iter().enumerate() {
        if let Some(b) = read_bucket(&mut f, i + 1, t, src.settings) {
            buckets.push(b);
        }
    }
    check_buckets(&mut f, &buckets);
    let leaving = super::leave::read_terms(&mut f);
    // Keep the record even when a field failed, so ledger-wide checks still report what
    // else is wrong with it; a ledger with any diagnostic is never used for money.
    f.finish();
    Some(Agreement {
        file: src.file,
        id: id?,
        name: name?.value,
        kind: kind.map_or_else(|| Agreement::VALUE_EQUATION.to_owned(), |k| k.value),
        from: from.map(|d| d.value),
        until: until.map(|d| d.value),
        leftover,
        rates,
        buckets,
        leaving,
    })
}

fn read_rates<'i>(f: &mut Fields<'i, '_>, table: Spanned<DeTable<'i>>) -> Rates {
    let mut r = f.nested("rates".to_owned(), table);
    let work = r
        .decimal("work", Need::Optional, DecimalRule::RATE)
        .map(|d| d.value);
    let mut rates = Rates {
        work,
        ..Rates::default()
    };
    if let Some(t) = r.table("skill") {
        let mut s = r.nested("rates.skill".to_owned(), t);
        for (key, value_span, value) in s.rest() {
            if !is_name_word(&key.value) {
                s.report(
                    Code::InvalidValue,
                    Some(key.span),
                    format!(
                        "{:?} is not a skill word (lowercase letters, digits, `-`)",
                        key.value
                    ),
                    None,
                );
                continue;
            }
            let field = format!("rates.skill.{}", key.value);
            if let Some(d) = s.conv_decimal(&field, value_span, value, DecimalRule::RATE) {
                rates.skill.insert(key.value, d.value);
            }
        }
        s.finish();
    }
    for (which, map) in [("agent", &mut rates.agent), ("project", &mut rates.project)] {
        let Some(t) = r.table(which) else { continue };
        let mut s = r.nested(format!("rates.{which}"), t);
        for (key, value_span, value) in s.rest() {
            let id = match Id::parse(&key.value) {
                Ok(id) => id,
                Err(e) => {
                    s.report(
                        Code::InvalidId,
                        Some(key.span),
                        format!("{:?} is not a valid id: {e}", key.value),
                        None,
                    );
                    continue;
                }
            };
            let field = format!("rates.{which}.{id}");
            if let Some(d) = s.conv_decimal(&field, value_span, value, DecimalRule::RATE) {
                // The span is the key's: reference errors point at the id.
                map.insert(
                    id,
                    At {
                        value: d.value,
                        span: key.span,
                    },
                );
            }
        }
        s.finish();
    }
    r.finish();
    rates
}

/// Reads `buckets[n]` of an agreement with its `[[rules]]`.
///
/// Long because it is the bucket's schema: one line per field, then the rules that tie them
/// (a budget is a share or an amount, never both; a claim kind its rules agree with).
fn read_bucket<'i>(
    f: &mut Fields<'i, '_>,
    n: usize,
    table: Spanned<DeTable<'i>>,
    settings: &Settings,
) -> Option<Bucket> {
    let mut b = f.nested(format!("buckets[{n}]"), table);
    let name = b.text("name", Need::Required("\"equity\""));
    let had_budget = b.has("share") || b.has("amount");
    let share = b.get_share();
    let money = format!("{} amounts have", settings.currency);
    let amount = b.decimal(
        "amount",
        Need::Optional,
        DecimalRule::money(settings.minor_units, &money, false),
    );
    let of = b.word("of", Need::Optional, &["total", "remaining"]);
    let to = b.id("to", Need::Optional);
    let to_project = b.id("to_project", Need::Optional);
    let claim = b.word("claim", Need::Optional, CLAIMS);
    let bucket_claim = claim
        .as_ref()
        .map_or(ClaimKind::Equity, |c| claim_kind(&c.value));
    let cap = b.decimal("cap", Need::Optional, DecimalRule::FACTOR);
    let ages = read_ages(&mut b, &format!("buckets[{n}]"));
    let policy = b.word("policy", Need::Optional, POLICIES);
    let balanced = policy.as_ref().is_some_and(|p| p.value == "balanced");
    let inherited = Inherited {
        claim: bucket_claim,
        aged: ages.span.is_some(),
        balanced,
    };
    let mut rules = Vec::new();
    let rule_tables = b.tables("rules");
    for (i, t) in rule_tables.into_iter().enumerate() {
        if let Some(rule) = read_rule(&mut b, n, i + 1, inherited, t) {
            rules.push(rule);
        }
    }
    let budget = match (share, amount) {
        (Some(_), Some(a)) => {
            b.report(
                Code::InvalidAgreement,
                Some(a.span),
                "a bucket has either `share` or `amount`, not both".to_owned(),
                None,
            );
            None
        }
        (None, None) if had_budget => None,
        (None, None) => {
            b.report(
                Code::MissingField,
                None,
                format!("bucket {n} needs `share` (\"10%\" or \"rest\") or `amount`"),
                Some("add share = \"rest\" to take what is left".to_owned()),
            );
            None
        }
        (Some(Share::Rest), None) => {
            if let Some(of) = &of {
                b.report(
                    Code::InvalidAgreement,
                    Some(of.span),
                    "`of` goes with a percent share, not `rest`".to_owned(),
                    None,
                );
            }
            Some(Budget::Rest)
        }
        (Some(Share::Percent(p)), None) => Some(Budget::Share {
            share: p.value,
            of: if of.as_ref().is_some_and(|o| o.value == "remaining") {
                Base::Remaining
            } else {
                Base::Total
            },
        }),
        (None, Some(a)) => {
            if let Some(of) = &of {
                b.report(
                    Code::InvalidAgreement,
                    Some(of.span),
                    "`of` goes with a percent share, not `amount`".to_owned(),
                    None,
                );
            }
            Some(Budget::Amount(a.value))
        }
    };
    let claim_kind = claim
        .as_ref()
        .map_or(ClaimKind::Equity, |c| claim_kind(&c.value));
    if let Some(to) = &to
        && !rules.is_empty()
    {
        b.report(
            Code::InvalidAgreement,
            Some(to.span),
            "a bucket paid `to` one agent cannot also have `rules`".to_owned(),
            Some("remove `to` to split the bucket by rules, or remove the rules".to_owned()),
        );
    }
    super::cascade::check_bucket(&mut b, to.as_ref(), to_project.as_ref(), rules.is_empty());
    if to.is_none() && to_project.is_none() && rules.is_empty() && !b.failed {
        b.report(
            Code::InvalidAgreement,
            None,
            format!("bucket {n} has neither `to` nor `rules`: nobody could be paid from it"),
            Some("add [[buckets.rules]] with kind = \"work\", or to = \"<agent>\"".to_owned()),
        );
    }
    if let Some(cap) = &cap {
        check_cap(&mut b, cap, claim_kind);
    }
    let whole = to.is_some() || to_project.is_some();
    check_policies(&mut b, &ages, policy.as_ref(), whole, claim_kind);
    let freeze = super::freeze::read(
        &mut b,
        n,
        &super::freeze::Context {
            paid_to_one: whole,
            claim: claim_kind,
            any_equity_rule: rules.iter().any(|r| r.claim == Some(ClaimKind::Equity)),
            aged: ages.span.is_some()
                || rules
                    .iter()
                    .any(|r| r.decay.is_some() || r.lookback.is_some()),
            balanced,
        },
    );
    let ok = b.finish();
    if !ok {
        f.failed = true;
        return None;
    }
    Some(Bucket {
        name: name?,
        budget: budget?,
        to,
        to_project,
        claim: claim_kind,
        cap: cap.map(|c| c.value),
        rules,
        decay: ages.decay,
        lookback: ages.lookback,
        policy: if balanced {
            Policy::Balanced
        } else {
            Policy::Proportional
        },
        freeze,
    })
}

/// The policies a bucket may name.
const POLICIES: &[&str] = &["proportional", "balanced"];

/// What a rule inherits from its bucket, for the checks that tie them.
#[derive(Clone, Copy)]
struct Inherited {
    claim: ClaimKind,
    /// Whether the bucket sets `decay` or `lookback`.
    aged: bool,
    balanced: bool,
}

/// A bucket's or a rule's `decay` and `lookback`, and where the first of them is written.
#[derive(Default)]
struct Ages {
    decay: Option<Schedule>,
    lookback: Option<Age>,
    span: Option<super::diag::Span>,
}

/// Reads `decay` (an array of steps `{ until = "1y", factor = "1" }`) and `lookback`
/// (`"12m"`) of the table `f` (named `context` in messages), each problem located at its step
/// and field.
fn read_ages(f: &mut Fields<'_, '_>, context: &str) -> Ages {
    let mut ages = Ages::default();
    if let Some(text) = f.text("lookback", Need::Optional) {
        ages.span = Some(text.span);
        match Age::parse(&text.value) {
            Ok(age) => ages.lookback = Some(age),
            Err(e) => f.report(
                Code::InvalidAgreement,
                Some(text.span),
                format!("`lookback` = {:?} {e}", text.value),
                Some("write whole months or years, e.g. lookback = \"12m\" or \"2y\"".to_owned()),
            ),
        }
    }
    let decay_span = f.peek_span("decay");
    if decay_span.is_none() {
        return ages;
    }
    ages.span = ages.span.or(decay_span);
    let factor_rule = DecimalRule {
        positive: false,
        what: "decay factors have",
        ..DecimalRule::FACTOR
    };
    let mut steps = Vec::new();
    let mut spans = Vec::new();
    let mut whole = true;
    for (i, t) in f.tables("decay").into_iter().enumerate() {
        let mut s = f.nested(format!("{context}.decay[{}]", i + 1), t);
        let until = s.text("until", Need::Optional);
        let factor = s.decimal("factor", Need::Required("\"0.5\""), factor_rule);
        let age = until.as_ref().and_then(|u| match Age::parse(&u.value) {
            Ok(age) => Some(age),
            Err(e) => {
                s.report(
                    Code::InvalidAgreement,
                    Some(u.span),
                    format!("`until` = {:?} {e}", u.value),
                    Some("a decay step ends at an age: until = \"1y\" or \"18m\"".to_owned()),
                );
                None
            }
        });
        let ok = s.finish();
        match (ok, factor) {
            (true, Some(factor)) => {
                spans.push((until.map(|u| u.span), factor.span));
                steps.push(Step {
                    until: age,
                    factor: factor.value,
                });
            }
            _ => whole = false,
        }
    }
    if !whole {
        f.failed = true;
        return ages;
    }
    if steps.is_empty() {
        f.report(
            Code::InvalidAgreement,
            decay_span,
            "`decay` has no steps".to_owned(),
            Some("write decay = [{ until = \"1y\", factor = \"1\" }, { until = \"2y\", factor = \"0.5\" }]".to_owned()),
        );
        return ages;
    }
    let problems = super::decay::check(&steps);
    for p in &problems {
        let (until, factor) = spans[p.index];
        let span = if p.field == "factor" {
            Some(factor)
        } else {
            until.or(Some(factor))
        };
        f.report(
            Code::InvalidAgreement,
            span,
            format!("{context}.decay[{}]: {}", p.index + 1, p.message),
            None,
        );
    }
    if problems.is_empty() {
        ages.decay = Some(Schedule { steps });
    }
    ages
}

/// Rules that tie a bucket's `decay`, `lookback` and `policy` to the rest of it: debts never
/// decay (what is owed stays owed), a bucket paid `to` one agent has no claims to age or
/// balance, and a balanced bucket shares equity claims (its targets are shares of all it has
/// paid, which a debt's balance or a once claim does not have).
fn check_policies(
    f: &mut Fields<'_, '_>,
    ages: &Ages,
    policy: Option<&At<String>>,
    paid_to_one: bool,
    claim: ClaimKind,
) {
    if let Some(span) = ages.span {
        if paid_to_one {
            f.report(
                Code::InvalidAgreement,
                Some(span),
                "a bucket paid `to` one agent has no claims for `decay` or `lookback` to weigh"
                    .to_owned(),
                None,
            );
        } else if claim == ClaimKind::Debt {
            f.report(
                Code::InvalidAgreement,
                Some(span),
                "debts never decay: `decay` and `lookback` apply to equity and once claims".to_owned(),
                Some("what is owed stays owed until repaid; move the debt rules to a bucket without decay".to_owned()),
            );
        }
    }
    let Some(policy) = policy.filter(|p| p.value == "balanced") else {
        return;
    };
    if paid_to_one {
        f.report(
            Code::InvalidAgreement,
            Some(policy.span),
            "a bucket paid `to` one agent has nobody to balance".to_owned(),
            None,
        );
    } else if claim != ClaimKind::Equity {
        f.report(
            Code::InvalidAgreement,
            Some(policy.span),
            format!(
                "a balanced bucket shares equity claims, not {} claims",
                claim.as_str()
            ),
            Some("set claim = \"equity\" or remove policy = \"balanced\"".to_owned()),
        );
    }
}

fn check_cap(f: &mut Fields<'_, '_>, cap: &At<Decimal>, claim: ClaimKind) {
    if claim != ClaimKind::Debt {
        f.report(
            Code::InvalidAgreement,
            Some(cap.span),
            "`cap` applies to debt claims only".to_owned(),
            Some("add claim = \"debt\" or remove `cap`".to_owned()),
        );
    } else if cap.value < Decimal::ONE {
        f.report(
            Code::InvalidAgreement,
            Some(cap.span),
            format!(
                "`cap` must be at least 1 (a debt is repaid at least in full), found {}",
                cap.value
            ),
            None,
        );
    }
}

/// Long because it reads every field of a rule in one place, each located and checked, in
/// the order ovn-ledger(5) documents them.
fn read_rule<'i>(
    b: &mut Fields<'i, '_>,
    n: usize,
    m: usize,
    bucket: Inherited,
    table: Spanned<DeTable<'i>>,
) -> Option<Rule> {
    let bucket_claim = bucket.claim;
    let mut r = b.nested(format!("buckets[{n}].rules[{m}]"), table);
    let kind = r.name_word("kind", Need::Required("\"work\""));
    if let Some(k) = &kind
        && let Some(near) = super::checks::near_builtin_kind(&k.value)
    {
        r.report(
            Code::InvalidValue,
            Some(k.span),
            format!(
                "`buckets[{n}].rules[{m}].kind` is {:?}, one slip from the kind `{near}`: this rule would select only contributions of kind {:?}",
                k.value, k.value
            ),
            Some(format!("did you mean `{near}`?")),
        );
    }
    let project = r.id("project", Need::Optional);
    let skill = r.name_word("skill", Need::Optional);
    let agent = r.id("agent", Need::Optional);
    let from = r.date("from", Need::Optional);
    let until = r.date("until", Need::Optional);
    if let (Some(a), Some(z)) = (&from, &until)
        && a.value > z.value
    {
        r.report(
            Code::InvalidValue,
            Some(z.span),
            format!("`until` ({}) is before `from` ({})", z.value, a.value),
            None,
        );
    }
    let rate = r.decimal("rate", Need::Optional, DecimalRule::RATE);
    let multiplier = r.decimal("multiplier", Need::Optional, DecimalRule::FACTOR);
    let formula = r.text("formula", Need::Optional).and_then(|text| {
        match super::formula::Formula::parse(&text.value) {
            Ok(f) => Some(f),
            Err(e) => {
                // Point into the string (past its opening quote) where the mistake is.
                let at = text.span.start + 1 + e.at as u32;
                r.report(
                    Code::InvalidAgreement,
                    Some(super::diag::Span {
                        start: at.min(text.span.end),
                        end: (at + 1).min(text.span.end),
                    }),
                    format!(
                        "the formula {} does not work: {}",
                        super::formula::preview(&text.value),
                        e.message
                    ),
                    Some("a formula uses numbers, hours, amount, quantity, rate, + - * /, parentheses, min(a, b) and max(a, b)".to_owned()),
                );
                None
            }
        }
    });
    let claim_at = r.word("claim", Need::Optional, CLAIMS);
    let claim = claim_at.as_ref().map(|c| claim_kind(&c.value));
    let claim_span = claim_at.map(|c| c.span);
    let cap = r.decimal("cap", Need::Optional, DecimalRule::FACTOR);
    if let Some(cap) = &cap {
        // A rule's claim is its own or, failing that, its bucket's.
        check_cap(&mut r, cap, claim.unwrap_or(bucket_claim));
    }
    let ages = read_ages(&mut r, &format!("buckets[{n}].rules[{m}]"));
    // The bucket reports what is wrong with its own claim kind; a rule, what it adds.
    let debt = claim.unwrap_or(bucket_claim) == ClaimKind::Debt;
    if debt && (ages.span.is_some() || (bucket.aged && claim.is_some())) {
        r.report(
            Code::InvalidAgreement,
            ages.span.or(claim_span),
            "debts never decay: a debt rule takes no `decay` or `lookback`, nor its bucket's"
                .to_owned(),
            Some(
                "what is owed stays owed until repaid; move the debt rule to a bucket without decay"
                    .to_owned(),
            ),
        );
    }
    if let Some(c) = claim.filter(|&c| bucket.balanced && c != ClaimKind::Equity) {
        r.report(
            Code::InvalidAgreement,
            claim_span,
            format!(
                "a balanced bucket shares equity claims, not {} claims",
                c.as_str()
            ),
            Some("move the rule to a bucket without policy = \"balanced\"".to_owned()),
        );
    }
    let ok = r.finish();
    if !ok {
        b.failed = true;
        return None;
    }
    Some(Rule {
        kind: kind?.value,
        project,
        skill: skill.map(|s| s.value),
        agent,
        from: from.map(|d| d.value),
        until: until.map(|d| d.value),
        rate: rate.map(|d| d.value),
        multiplier: multiplier.map(|d| d.value),
        formula,
        claim,
        cap: cap.map(|d| d.value),
        decay: ages.decay,
        lookback: ages.lookback,
    })
}

/// Rules on the bucket list as a whole: unique names, percents of the total within 100%,
/// nothing after a `rest` bucket.
fn check_buckets(f: &mut Fields<'_, '_>, buckets: &[Bucket]) {
    let mut seen = BTreeMap::new();
    for b in buckets {
        if seen.insert(b.name.value.as_str(), ()).is_some() {
            f.report(
                Code::InvalidAgreement,
                Some(b.name.span),
                format!("two buckets are named {:?}", b.name.value),
                Some("bucket names must be unique".to_owned()),
            );
        }
    }
    let mut total = Decimal::ZERO;
    for b in buckets {
        if let Budget::Share {
            share,
            of: Base::Total,
        } = b.budget
        {
            let before = total;
            total += share.0;
            // Point at the bucket that pushes the total over 100%.
            if before <= Decimal::ONE_HUNDRED && total > Decimal::ONE_HUNDRED {
                f.report(
                    Code::InvalidAgreement,
                    Some(b.name.span),
                    format!(
                        "with bucket {:?} the buckets take {}% of the total revenue; at most 100% can be honoured",
                        b.name.value,
                        buckets
                            .iter()
                            .filter_map(|b| match b.budget {
                                Budget::Share { share, of: Base::Total } => Some(share.0),
                                _ => None,
                            })
                            .sum::<Decimal>()
                    ),
                    Some("lower the percent shares, or use of = \"remaining\"".to_owned()),
                );
            }
        }
    }
    if let Some(pos) = buckets.iter().position(|b| b.budget == Budget::Rest)
        && pos + 1 < buckets.len()
    {
        f.report(
            Code::InvalidAgreement,
            Some(buckets[pos].name.span),
            format!(
                "bucket {:?} takes the rest, so the buckets after it can never be paid",
                buckets[pos].name.value
            ),
            Some("make the `rest` bucket the last one".to_owned()),
        );
    }
}

enum Share {
    Percent(At<Percent>),
    Rest,
}

impl Fields<'_, '_> {
    fn get_share(&mut self) -> Option<Share> {
        let Some(at) = self.peek_text("share") else {
            // Absent, or not a string: `percent` reports the wrong type.
            return self.percent("share", Need::Optional).map(Share::Percent);
        };
        if at.value == "rest" {
            let _ = self.text("share", Need::Optional);
            return Some(Share::Rest);
        }
        self.percent("share", Need::Optional).map(Share::Percent)
    }
}

/// Reads `contributions/<yyyy>/<mm>/<dd>/<id>.toml`, with the per-kind field rules.
///
/// Long because it is the record's schema: one line per field, then the per-kind rules.
pub fn contribution(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Contribution> {
    let mut f = Fields::new(src.path, src.base, "contribution", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let agent = f.id("agent", Need::Required("\"ana\""));
    let date = f.date("date", Need::Required("2026-11-20"));
    let project = f.id("project", Need::Required("\"drone\""));
    let kind = f.name_word("kind", Need::Required("\"work\""));
    let description = f.text("description", Need::Required("\"What was done\""));
    let reverses = f.id("reverses", Need::Optional);
    let supersedes = f.id("supersedes", Need::Optional);
    if let (Some(_), Some(s)) = (&reverses, &supersedes) {
        f.report(
            Code::InvalidValue,
            Some(s.span),
            "a contribution either reverses or supersedes another, not both".to_owned(),
            None,
        );
    }
    let correction = reverses.is_some();
    let kind_word = kind.as_ref().map(|k| Kind::from_word(&k.value));
    let currency = f.text("currency", Need::Optional);
    let network_money = format!("{} amounts have", src.settings.currency);
    let own_money = currency
        .as_ref()
        .map(|c| format!("{} amounts have", c.value));
    let money = match (&currency, &own_money) {
        (Some(c), _) if c.value == src.settings.currency => {
            money_rule(src.settings, &network_money, true)
        }
        (Some(c), Some(what)) if is_currency_code(&c.value) => {
            DecimalRule::money(currency_minor_units(&c.value), what, true)
        }
        (Some(c), _) => {
            f.report(
                Code::InvalidValue,
                Some(c.span),
                format!(
                    "`currency` must be a three-letter uppercase code, found {:?}",
                    c.value
                ),
                None,
            );
            money_rule(src.settings, &network_money, true)
        }
        _ => money_rule(src.settings, &network_money, true),
    };
    let needs = |required: bool, example: &'static str| {
        if required && !correction {
            Need::Required(example)
        } else {
            Need::Optional
        }
    };
    let (mut hours, mut skill, mut amount, mut quantity, mut unit, mut resource) =
        (None, None, None, None, None, None);
    match &kind_word {
        Some(Kind::Work) => {
            hours = f.decimal("hours", needs(true, "\"2.5\""), DecimalRule::HOURS);
            skill = f.name_word("skill", Need::Optional);
            for key in ["amount", "quantity", "unit", "resource"] {
                f.refuse(key, "to a `work` contribution");
            }
        }
        Some(Kind::Money) => {
            amount = f.decimal("amount", needs(true, "\"120.50\""), money);
            for key in ["hours", "skill", "quantity", "unit", "resource"] {
                f.refuse(key, "to a `money` contribution");
            }
        }
        Some(Kind::Material) => {
            amount = f.decimal("amount", needs(true, "\"80.00\""), money);
            quantity = f.decimal("quantity", Need::Optional, DecimalRule::QUANTITY);
            unit = f.text("unit", Need::Optional);
            for key in ["hours", "skill", "resource"] {
                f.refuse(key, "to a `material` contribution");
            }
        }
        Some(Kind::Use) => {
            resource = f.id("resource", Need::Required("\"printer\""));
            hours = f.decimal("hours", needs(true, "\"3\""), DecimalRule::HOURS);
            for key in ["amount", "skill", "quantity", "unit"] {
                f.refuse(
                    key,
                    "to a `use` contribution (its value comes from the resource's use rate)",
                );
            }
        }
        Some(Kind::Other(word)) => {
            hours = f.decimal("hours", Need::Optional, DecimalRule::HOURS);
            amount = f.decimal("amount", Need::Optional, money);
            skill = f.name_word("skill", Need::Optional);
            if hours.is_none() && amount.is_none() && !correction && !f.failed {
                f.report(
                    Code::MissingField,
                    None,
                    format!("a `{word}` contribution needs `hours` or `amount` (or both)"),
                    Some("add hours = \"2\" or amount = \"50.00\"".to_owned()),
                );
            }
            for key in ["quantity", "unit", "resource"] {
                f.refuse(key, "to this kind of contribution");
            }
        }
        None => {
            // The kind is broken; still read the rest so its problems are reported too.
            hours = f.decimal("hours", Need::Optional, DecimalRule::HOURS);
            amount = f.decimal("amount", Need::Optional, money);
            skill = f.name_word("skill", Need::Optional);
            quantity = f.decimal("quantity", Need::Optional, DecimalRule::QUANTITY);
            unit = f.text("unit", Need::Optional);
            resource = f.id("resource", Need::Optional);
        }
    }
    if let Some(c) = &currency
        && amount.is_none()
        && !correction
        && !f.failed
    {
        f.report(
            Code::UnknownField,
            Some(c.span),
            "field `currency` only goes with an `amount`".to_owned(),
            Some("remove `currency`".to_owned()),
        );
    }
    let rate = super::fx::read_rate(&mut f, currency.as_ref(), src.settings);
    let evidence = f.text_list("evidence");
    // Keep the record even when a field failed, so ledger-wide checks still report what
    // else is wrong with it; a ledger with any diagnostic is never used for money.
    f.finish();
    Some(Contribution {
        file: src.file,
        id: id?,
        agent: agent?,
        date: date?,
        project: project?,
        kind: kind_word?,
        description: description?.value,
        hours,
        skill: skill.map(|s| s.value),
        amount: amount.map(|a| a.value),
        foreign: super::record::Foreign::of(currency.map(|c| c.value), rate),
        resource,
        rare: super::record::Rare {
            quantity: quantity.map(|q| q.value),
            unit: unit.map(|u| u.value),
            evidence: evidence.into_iter().map(|e| e.value).collect(),
            reverses,
            supersedes,
        }
        .boxed(),
    })
}

/// Whether `s` is exactly `len` lowercase hexadecimal digits.
fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The required `digest` field: `sha256:` and 64 lowercase hex digits.
fn digest_field(f: &mut Fields<'_, '_>, hint: Option<&str>) -> Option<At<String>> {
    let digest = f.text("digest", Need::Required("\"sha256:...\""));
    if let Some(d) = &digest
        && !d
            .value
            .strip_prefix("sha256:")
            .is_some_and(|h| is_lower_hex(h, 64))
    {
        f.report(
            Code::InvalidValue,
            Some(d.span),
            "`digest` must be `sha256:` and 64 lowercase hex digits".to_owned(),
            hint.map(str::to_owned),
        );
    }
    digest
}

/// Reads `payouts/<yyyy>/<id>.toml`: a recorded distribution, whose lines must sum to its
/// amount.
///
/// Long because it is the record's schema, lines and `[[overpaid]]` included, with the
/// checks that tie them to the amount.
pub fn payout(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PayoutRecord> {
    let mut f = Fields::new(src.path, src.base, "payout", table, true, diags);
    let money_what = format!("{} amounts have", src.settings.currency);
    let money = money_rule(src.settings, &money_what, false);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let project = f.id("project", Need::Required("\"drone\""));
    let agreement = f.id("agreement", Need::Required("\"drone-ve\""));
    let date = f.date("date", Need::Required("2026-11-30"));
    // Zero is the amount of a reconciliation (checked below, with `follows`).
    let amount = f.decimal(
        "amount",
        Need::Required("\"3000.00\""),
        DecimalRule {
            positive: false,
            ..money
        },
    );
    let currency = f.text("currency", Need::Required("\"EUR\""));
    if let Some(c) = &currency
        && c.value != src.settings.currency
    {
        f.report(
            Code::InvalidValue,
            Some(c.span),
            format!(
                "a payout is in the network currency {}, not {:?}",
                src.settings.currency, c.value
            ),
            None,
        );
    }
    let memo = f.text("memo", Need::Optional);
    let commit = f.text("commit", Need::Required("\"<40 hex digits>\""));
    if let Some(c) = &commit
        && !is_lower_hex(&c.value, 40)
    {
        f.report(
            Code::InvalidValue,
            Some(c.span),
            "`commit` must be a full commit id (40 lowercase hex digits)".to_owned(),
            None,
        );
    }
    let digest = digest_field(&mut f, None);
    let follows = f.peek_span("follows").map(|span| At {
        value: f.id_list("follows"),
        span,
    });
    let parent = super::cascade::read_parent(&mut f);
    let mut lines = Vec::new();
    let lines_span = f.peek_span("lines");
    for (i, t) in f.tables("lines").into_iter().enumerate() {
        let mut l = f.nested(format!("lines[{}]", i + 1), t);
        // A line pays an agent, or a project through a sub-payout (see core::cascade).
        let to_project = l.has("project") && !l.has("agent");
        let (agent, project, sub) = if to_project {
            let project = l.id("project", Need::Required("\"drone\""));
            let sub = l.id("payout", Need::Required("\"<sub-payout id>\""));
            (project.clone(), project, sub)
        } else {
            (l.id("agent", Need::Required("\"ana\"")), None, None)
        };
        let bucket = l.text("bucket", Need::Required("\"equity\""));
        let amount = l.decimal("amount", Need::Required("\"100.00\""), money);
        if l.finish()
            && let (Some(agent), Some(bucket), Some(amount)) = (agent, bucket, amount)
        {
            lines.push(PaidLine {
                agent,
                bucket: bucket.value,
                amount: amount.value,
                project,
                payout: sub,
            });
        } else {
            f.failed = true;
        }
    }
    let source = super::incoming::read(&mut f, money, amount.as_ref());
    let settled = settled_claims(&mut f, "settled", money);
    let overpaid_span = f.peek_span("overpaid");
    let overpaid = settled_claims(&mut f, "overpaid", money);
    if let Some(total) = &amount {
        let shape = Shape {
            follows: follows.as_ref(),
            lines: &lines,
            settled: &settled,
            overpaid: &overpaid,
            overpaid_span,
        };
        reconciliation_shape(&mut f, total, &shape);
    }
    if let Some(total) = &amount
        && !f.failed
    {
        let sum: Decimal = lines.iter().map(|l| l.amount).sum();
        if sum != total.value {
            f.report(
                Code::InvalidValue,
                lines_span.or(Some(total.span)),
                format!(
                    "the lines sum to {sum}, not to the payout's amount {}",
                    total.value
                ),
                Some(
                    "a payout pays out exactly its amount; recompute it with `ovn payout`"
                        .to_owned(),
                ),
            );
        }
    }
    f.finish();
    Some(PayoutRecord {
        file: src.file,
        id: id?,
        project: project?,
        agreement: agreement?,
        date: date?,
        amount: amount?,
        currency: currency?.value,
        memo: memo.map(|m| m.value),
        commit: commit?.value,
        digest: digest?.value,
        follows,
        parent,
        lines,
        settled,
        overpaid,
        source,
    })
}

/// The `[[settled]]` or `[[overpaid]]` tables of a payout record (`key`): claims, each a
/// contribution, an agent, a claim kind and an amount.
fn settled_claims(
    f: &mut Fields<'_, '_>,
    key: &'static str,
    money: DecimalRule<'_>,
) -> Vec<SettledClaim> {
    let mut out = Vec::new();
    for (i, t) in f.tables(key).into_iter().enumerate() {
        let mut l = f.nested(format!("{key}[{}]", i + 1), t);
        let contribution = l.id("contribution", Need::Required("\"<contribution id>\""));
        let agent = l.id("agent", Need::Required("\"ana\""));
        let claim = l.word("claim", Need::Required("\"debt\""), &["debt", "once"]);
        let amount = l.decimal("amount", Need::Required("\"100.00\""), money);
        if l.finish()
            && let (Some(contribution), Some(agent), Some(claim), Some(amount)) =
                (contribution, agent, claim, amount)
        {
            out.push(SettledClaim {
                contribution,
                agent,
                claim: claim_kind(&claim.value),
                amount: amount.value,
            });
        } else {
            f.failed = true;
        }
    }
    out
}

/// What [`reconciliation_shape`] looks at.
#[derive(Clone, Copy)]
struct Shape<'a> {
    follows: Option<&'a At<Vec<At<Id>>>>,
    lines: &'a [PaidLine],
    settled: &'a [SettledClaim],
    overpaid: &'a [SettledClaim],
    overpaid_span: Option<super::diag::Span>,
}

/// A payout pays a positive amount; an amount of zero is a reconciliation, which joins two
/// or more heads of the project's payout line (`follows`) and pays nothing: no lines, no
/// settled claims. Only a reconciliation states `[[overpaid]]` claims.
fn reconciliation_shape(f: &mut Fields<'_, '_>, amount: &At<Decimal>, shape: &Shape<'_>) {
    let Shape {
        follows,
        lines,
        settled,
        overpaid,
        overpaid_span,
    } = *shape;
    let joins = follows.map_or(0, |f| f.value.len());
    if amount.value < Decimal::ZERO {
        f.report(
            Code::NotPositive,
            Some(amount.span),
            "a payout's `amount` must be greater than zero".to_owned(),
            None,
        );
    } else if amount.value.is_zero() {
        if joins < 2 || !lines.is_empty() || !settled.is_empty() {
            f.report(
                Code::NotPositive,
                Some(amount.span),
                "a payout's `amount` must be greater than zero (zero is a reconciliation: it follows two or more payouts and has no lines or settled claims)".to_owned(),
                Some("reconcile a fork with `ovn payout reconcile`".to_owned()),
            );
        }
    } else if !overpaid.is_empty() {
        f.report(
            Code::InvalidValue,
            overpaid_span,
            "only a reconciliation (amount zero) states `[[overpaid]]` claims".to_owned(),
            Some("reconcile a fork with `ovn payout reconcile`".to_owned()),
        );
    }
}

/// Reads `approvals/<yyyy>/<mm>/<dd>/<id>.toml`.
pub fn approval(
    src: &Source<'_>,
    table: Spanned<DeTable<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Approval> {
    let mut f = Fields::new(src.path, src.base, "approval", table, true, diags);
    let id = f.id("id", Need::Required("\"<file name>\""));
    let record = f.id("record", Need::Required("\"<contribution id>\""));
    let digest = digest_field(
        &mut f,
        Some("`ovn approve` writes it; do not edit approvals by hand"),
    );
    let date = f.date("date", Need::Required("2026-11-30"));
    let comment = f.text("comment", Need::Optional);
    let by = f.id("by", Need::Optional);
    let signature = f.text("signature", Need::Optional);
    // A signature proves `by`; either one alone is meaningless.
    match (&by, &signature) {
        (Some(b), None) => f.report(
            Code::MissingField,
            Some(b.span),
            "`by` names a signer but the approval has no `signature`".to_owned(),
            Some("`ovn approve --sign` writes both; or remove `by`".to_owned()),
        ),
        (None, Some(s)) => f.report(
            Code::MissingField,
            Some(s.span),
            "`signature` needs `by`, the agent who signed".to_owned(),
            Some("`ovn approve --sign` writes both".to_owned()),
        ),
        _ => {}
    }
    if let Some(s) = &signature
        && !super::validation::is_signature_body(&s.value)
    {
        f.report(
            Code::InvalidValue,
            Some(s.span),
            "`signature` must be the base64 body of an SSH signature (starting `U1NIU0lH`), on one line"
                .to_owned(),
            Some("`ovn approve --sign` writes it; do not edit approvals by hand".to_owned()),
        );
    }
    f.finish();
    Some(Approval {
        file: src.file,
        id: id?,
        record: record?,
        digest: digest?.value,
        date: date?,
        comment: comment.map(|c| c.value),
        by,
        signature: signature.map(|s| s.value),
    })
}
