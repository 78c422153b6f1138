//! Decides whether a set of IAM policies allows an action on a resource, with IAM's rules:
//! actions match case-insensitively with `*` and `?`; ARNs match case-sensitively, segment by
//! segment; an explicit Deny overrides any Allow; `NotAction`/`NotResource` match what they do
//! not list; a permissions boundary limits what identity policies grant. Conditions are not
//! guessed: without a [`RequestContext`] a statement with conditions (or a policy variable in its
//! resource) that matches is reported as conditional, never as a plain allow or deny. With one,
//! the string, ARN, `Bool` and `Null` operators (with `ForAnyValue:`/`ForAllValues:` and
//! `...IfExists`) are decided on the context's keys; other operators stay conditional.

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::catalog::ActionCatalog;
use crate::policy::model::{Actions, Condition, Effect, Policy, Resources, Statement};

/// The outcome for one action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    /// An unconditional Deny matched.
    ExplicitDeny,
    /// Nothing allows it.
    ImplicitDeny,
    /// Only statements with conditions allow it: allowed if their conditions hold.
    ConditionalAllow,
    /// An unconditional Allow matched, but a Deny with conditions may refuse it.
    ConditionalDeny,
    /// An unconditional Allow matched and no Deny can apply.
    Allow,
}

impl Decision {
    /// True for Allow and the conditional outcomes that may allow.
    pub(crate) fn may_allow(self) -> bool {
        matches!(self, Decision::Allow | Decision::ConditionalAllow | Decision::ConditionalDeny)
    }
    /// True only when the call is allowed whatever the conditions.
    pub fn is_allow(self) -> bool {
        self == Decision::Allow
    }
}

/// A statement that matched, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// Policy name.
    pub policy: String,
    /// Statement ID (or `#N`).
    pub sid: String,
    /// Its effect.
    pub effect: Effect,
    /// True when it has conditions (or a policy variable) and so applies only sometimes.
    pub conditional: bool,
    /// Its `Resource` patterns (`NotResource` ones prefixed with `not `).
    pub resources: Vec<String>,
}

/// A decision and the statements that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// Statements that matched.
    pub matched: Vec<Matched>,
}

/// Identity policies and an optional permissions boundary.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Inline and attached managed policies.
    pub identity: Vec<Policy>,
    /// The permissions boundary, when the role has one.
    pub boundary: Option<Policy>,
}

/// The condition keys of one request and their values (several for multivalued keys such as
/// `aws:CalledVia`). Keys are matched case-insensitively, as IAM does.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestContext {
    keys: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    /// An empty context: every condition key is absent.
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// The context with `key` set to `values`.
    pub fn with(mut self, key: &str, values: &[&str]) -> RequestContext {
        self.keys.insert(key.to_ascii_lowercase(), values.iter().map(|v| v.to_string()).collect());
        self
    }

    /// The values of `key`, when the request carries it.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// Decides one condition on `ctx`: `Some(true)`/`Some(false)`, or `None` when the operator is
/// not one iamtrim decides (numeric, date, IP and binary operators).
pub(crate) fn condition_holds(c: &Condition, ctx: &RequestContext) -> Option<bool> {
    let base = c.base_operator();
    if base == "Null" {
        let want_absent = c.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return Some(ctx.get(&c.key).is_none() == want_absent);
    }
    let negated = matches!(
        base,
        "StringNotEquals" | "StringNotEqualsIgnoreCase" | "StringNotLike" | "ArnNotEquals" | "ArnNotLike"
    );
    let matches_one: fn(&str, &str) -> bool = match base {
        "StringEquals" | "StringNotEquals" => |p, v| p == v,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" | "Bool" => |p, v| p.eq_ignore_ascii_case(v),
        "StringLike" | "StringNotLike" | "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => {
            |p, v| glob(p, v, false)
        }
        _ => return None,
    };
    let values = match ctx.get(&c.key) {
        // An absent key: IfExists and ForAllValues hold, negated operators hold, others do not.
        None => {
            return Some(
                c.if_exists()
                    || c.set_operator() == Some("ForAllValues")
                    || (negated && c.set_operator() != Some("ForAnyValue")),
            )
        }
        Some(v) => v,
    };
    // One value satisfies the operator: for a positive operator it matches some policy value,
    // for a negated one it matches none.
    let satisfied = |v: &String| c.values.iter().any(|p| matches_one(p, v)) != negated;
    Some(match c.set_operator() {
        Some("ForAllValues") => values.iter().all(satisfied),
        Some(_) => values.iter().any(satisfied),
        // A single-valued key; for a multivalued one, any value for positive operators and
        // every value for negated ones.
        None if negated => values.iter().all(satisfied),
        None => values.iter().any(satisfied),
    })
}

/// `*` and `?` matching; `*` matches any run of characters, `?` exactly one.
pub(crate) fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // ASCII (nearly every ARN and action) is matched byte by byte without allocating; `?`
    // matches one character, so other text is matched as characters.
    if pattern.is_ascii() && text.is_ascii() {
        glob_units(
            pattern.as_bytes(),
            text.as_bytes(),
            |a, b| if ignore_case { a.eq_ignore_ascii_case(b) } else { a == b },
            b'*',
            b'?',
        )
    } else {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        glob_units(&p, &t, |a, b| if ignore_case { a.eq_ignore_ascii_case(b) } else { a == b }, '*', '?')
    }
}

/// `*` and `?` matching over bytes or characters.
fn glob_units<T: Copy + PartialEq>(p: &[T], t: &[T], eq: impl Fn(&T, &T) -> bool, any: T, one: T) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && eq(&p[pi], &t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == any {
        pi += 1;
    }
    pi == p.len()
}

/// True when action pattern `pattern` (`s3:Get*`, `*`) matches `action` (`s3:GetObject`).
pub(crate) fn action_matches(pattern: &str, action: &str) -> bool {
    split_action_matches(pattern, split_at_colon(action))
}

/// [`action_matches`] with the action already split into service and name. A pattern's service
/// without wildcards (nearly all: `s3:Get*`) is compared as it is, so a pattern of another
/// service is passed over without matching its name.
fn split_action_matches(pattern: &str, action: Option<(&str, &str)>) -> bool {
    if pattern == "*" {
        return true;
    }
    let (Some((ps, pn)), Some((s, n))) = (split_at_colon(pattern), action) else { return false };
    let service = if ps.contains(['*', '?']) { glob(ps, s, true) } else { ps.eq_ignore_ascii_case(s) };
    service && glob(pn, n, true)
}

/// `s` split at its first colon (a byte scan: action names and patterns are short).
fn split_at_colon(s: &str) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == b':')?;
    Some((&s[..at], &s[at + 1..]))
}

/// True when an `Action` (or `NotAction`) element covers `action`.
pub(crate) fn covers_action(actions: &Actions, action: &str) -> bool {
    let split = split_at_colon(action);
    match actions {
        Actions::Only(pats) => pats.iter().any(|p| split_action_matches(p, split)),
        Actions::AllBut(pats) => !pats.iter().any(|p| split_action_matches(p, split)),
    }
}

/// Resolves the escapes `${*}`, `${?}`, `${$}`; any other policy variable becomes `*` and
/// makes the match conditional (its value is not known here).
fn substitute_variables(pattern: &str) -> (std::borrow::Cow<'_, str>, bool) {
    if !pattern.as_bytes().contains(&b'$') || !pattern.contains("${") {
        return (std::borrow::Cow::Borrowed(pattern), false);
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    let mut variable = false;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        match &rest[start + 2..start + end] {
            // A literal character: kept as a placeholder that only matches itself.
            "*" => out.push('\u{1}'),
            "?" => out.push('\u{2}'),
            "$" => out.push('$'),
            _ => {
                out.push('*');
                variable = true;
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    (std::borrow::Cow::Owned(out), variable)
}

fn glob_literal_escapes(pattern: &str, text: &str) -> bool {
    // The placeholders are the bytes 1 and 2, which no other character's UTF-8 holds.
    if !pattern.bytes().any(|b| b == 1 || b == 2) {
        return glob(pattern, text, false);
    }
    // Escaped `*`/`?` match only themselves: compare them as other characters.
    let text = text.replace('*', "\u{1}").replace('?', "\u{2}");
    glob(pattern, &text, false)
}

/// True when resource pattern `pattern` matches `arn`. `*` alone matches every resource. Otherwise
/// both split at their first five colons and each of the first five segments is matched on its
/// own (a wildcard there does not cross a colon); the resource segment may hold colons and
/// slashes; a pattern with fewer segments matches the rest of the ARN with its last one.
/// Returns (matches, conditional), conditional when a policy variable had to be assumed.
pub(crate) fn resource_matches(pattern: &str, arn: &str) -> (bool, bool) {
    let (pattern, variable) = substitute_variables(pattern);
    if pattern == "*" {
        return (true, variable);
    }
    if arn == "*" {
        // A request on "*" (an action with no resource) matches only a `*` resource.
        return (false, false);
    }
    let colons = |s: &str| s.bytes().filter(|&b| b == b':').take(5).count();
    if colons(arn) < 5 {
        // Not an ARN (fewer than six fields): match it whole.
        return (glob_literal_escapes(&pattern, arn), variable);
    }
    // Segment by segment (the pattern's first five colons part it, as `splitn(6, ':')` does);
    // the pattern's last segment meets the rest of the ARN.
    let segments = colons(&pattern) + 1;
    let (mut pattern_rest, mut rest) = (&*pattern, arn);
    for i in 0..segments {
        let (seg, text) = if i + 1 == segments {
            (pattern_rest, rest)
        } else {
            let (seg, pattern_tail) = split_at_colon(pattern_rest).unwrap_or((pattern_rest, ""));
            let (head, tail) = split_at_colon(rest).unwrap_or((rest, ""));
            (pattern_rest, rest) = (pattern_tail, tail);
            (seg, head)
        };
        if !glob_literal_escapes(seg, text) {
            return (false, false);
        }
    }
    (true, variable)
}

/// `None` when the statement does not apply; otherwise whether it applies only conditionally.
fn statement_applies(st: &Statement, action: &str, resource: &str, ctx: Option<&RequestContext>) -> Option<bool> {
    if !covers_action(&st.actions, action) {
        return None;
    }
    statement_applies_to_resource(st, resource, ctx, None)
}

/// Whether a statement whose action already matched applies to `resource`: `None` when not,
/// else whether only conditionally. `index` (of `Resource`'s patterns) narrows the patterns
/// tried to those that can match.
fn statement_applies_to_resource(
    st: &Statement,
    resource: &str,
    ctx: Option<&RequestContext>,
    index: Option<&PrefixIndex>,
) -> Option<bool> {
    let any_of = |matches: &mut dyn Iterator<Item = (bool, bool)>| {
        matches.fold((false, false), |acc, (m, v)| if m && (!acc.0 || (acc.1 && !v)) { (true, v) } else { acc })
    };
    let (resource_hit, variable) = match &st.resources {
        Resources::Only(pats) => match index {
            Some(ix) => any_of(&mut ix.candidates(resource).map(|i| resource_matches(&pats[i], resource))),
            None => any_of(&mut pats.iter().map(|p| resource_matches(p, resource))),
        },
        Resources::AllBut(pats) => {
            let results: Vec<(bool, bool)> = pats.iter().map(|p| resource_matches(p, resource)).collect();
            if results.iter().any(|(m, v)| *m && !*v) {
                (false, false)
            } else {
                (true, results.iter().any(|(m, v)| *m && *v))
            }
        }
    };
    if !resource_hit {
        return None;
    }
    let conditional = match ctx {
        None => !st.conditions.is_empty(),
        Some(ctx) => {
            let mut unknown = false;
            for c in &st.conditions {
                match condition_holds(c, ctx) {
                    Some(true) => {}
                    Some(false) => return None,
                    None => unknown = true,
                }
            }
            unknown
        }
    };
    Some(variable || conditional)
}

/// A statement's `Resource` patterns by the literal text each starts with (up to its first
/// wildcard): a resource can only match the patterns whose literal start it starts with, so a
/// statement of hundreds of ARNs is not globbed whole for each resource. Patterns that start
/// with a wildcard or hold a policy variable are always tried.
#[derive(Debug, Clone, Default)]
struct PrefixIndex {
    lengths: Vec<usize>,
    by_prefix: crate::mapping::catalog::FastMap<String, Vec<usize>>,
    always: Vec<usize>,
}

impl PrefixIndex {
    fn new(patterns: &[String]) -> PrefixIndex {
        let mut ix = PrefixIndex::default();
        for (i, p) in patterns.iter().enumerate() {
            let literal = p.find(['*', '?']).unwrap_or(p.len());
            if p.contains("${") || literal == 0 {
                ix.always.push(i);
            } else {
                ix.by_prefix.entry(p[..literal].to_string()).or_default().push(i);
            }
        }
        let lengths: BTreeSet<usize> = ix.by_prefix.keys().map(String::len).collect();
        ix.lengths = lengths.into_iter().collect();
        ix
    }

    fn candidates<'a>(&'a self, resource: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.always.iter().copied().chain(
            self.lengths
                .iter()
                .filter(move |&&n| n <= resource.len() && resource.is_char_boundary(n))
                .filter_map(move |&n| self.by_prefix.get(&resource[..n]))
                .flatten()
                .copied(),
        )
    }
}

/// The statements of a [`PolicySet`] that cover one action, ready to decide it on many
/// resources ([`PolicySet::for_one_action`]): what [`PolicySet::evaluate`] decides, faster.
#[derive(Debug, Clone, Default)]
pub struct ActionPolicies<'p> {
    identity: Vec<IndexedStatement<'p>>,
    boundary: Option<Vec<IndexedStatement<'p>>>,
}

/// A statement of [`ActionPolicies`] (borrowed from its set): its policy's name, and its
/// resources indexed.
#[derive(Debug, Clone)]
struct IndexedStatement<'p> {
    policy: &'p str,
    st: &'p Statement,
    index: Option<std::sync::Arc<PrefixIndex>>,
}

/// Patterns a statement must have before its `Resource` is indexed.
const INDEX_FROM: usize = 8;

impl ActionPolicies<'_> {
    /// True when every statement applies to every resource (its `Resource` holds `*`): the
    /// evaluation of one resource is then the evaluation of all (without condition keys, a
    /// condition is decided the same whatever the resource).
    pub fn resource_independent(&self) -> bool {
        let everywhere =
            |s: &IndexedStatement<'_>| matches!(&s.st.resources, Resources::Only(r) if r.iter().any(|p| p == "*"));
        self.identity.iter().all(everywhere) && self.boundary.as_ref().is_none_or(|b| b.iter().all(everywhere))
    }

    /// The decision for the action on `resource`, with `ctx`'s condition keys when given.
    pub fn decide(&self, resource: &str, ctx: Option<&RequestContext>) -> Decision {
        self.decide_into(resource, ctx, None)
    }

    /// What [`PolicySet::evaluate`] says of the action on `resource`: the decision and the
    /// statements that made it.
    pub fn evaluate(&self, resource: &str) -> Evaluation {
        let mut matched = Vec::new();
        let decision = self.decide_into(resource, None, Some(&mut matched));
        Evaluation { decision, matched }
    }

    /// The decision, the statements that made it pushed to `matched` when asked for (a replay
    /// of thousands of calls needs the decision alone).
    fn decide_into(
        &self,
        resource: &str,
        ctx: Option<&RequestContext>,
        mut matched: Option<&mut Vec<Matched>>,
    ) -> Decision {
        let mut one = |statements: &[IndexedStatement<'_>]| {
            let mut applied = Vec::new();
            for s in statements {
                if let Some(conditional) = statement_applies_to_resource(s.st, resource, ctx, s.index.as_deref()) {
                    if let Some(m) = matched.as_deref_mut() {
                        m.push(Matched::new(s.policy, s.st, conditional));
                    }
                    applied.push((s.st.effect, conditional));
                }
            }
            tally(applied.into_iter())
        };
        let identity = one(&self.identity);
        match &self.boundary {
            None => identity,
            Some(b) => identity.min(one(b)),
        }
    }
}

impl Matched {
    /// Statement `st` of policy `policy` matched, only conditionally or not.
    fn new(policy: &str, st: &Statement, conditional: bool) -> Matched {
        Matched {
            policy: policy.to_string(),
            sid: st.sid.clone(),
            effect: st.effect,
            conditional,
            resources: match &st.resources {
                Resources::Only(r) => r.clone(),
                Resources::AllBut(r) => r.iter().map(|x| format!("not {x}")).collect(),
            },
        }
    }
}

/// The decision from the statements that apply (effect, only conditionally).
fn tally(applied: impl Iterator<Item = (Effect, bool)>) -> Decision {
    let (mut deny, mut cond_deny, mut allow, mut cond_allow) = (false, false, false, false);
    for (effect, conditional) in applied {
        match (effect, conditional) {
            (Effect::Deny, false) => deny = true,
            (Effect::Deny, true) => cond_deny = true,
            (Effect::Allow, false) => allow = true,
            (Effect::Allow, true) => cond_allow = true,
        }
    }
    if deny {
        Decision::ExplicitDeny
    } else if allow && cond_deny {
        Decision::ConditionalDeny
    } else if allow {
        Decision::Allow
    } else if cond_allow {
        Decision::ConditionalAllow
    } else {
        Decision::ImplicitDeny
    }
}

fn evaluate_policies<'p>(
    policies: impl Iterator<Item = &'p Policy>,
    action: &str,
    resource: &str,
    ctx: Option<&RequestContext>,
    matched: &mut Vec<Matched>,
) -> Decision {
    let mut applied = Vec::new();
    for p in policies {
        for st in &p.statements {
            if let Some(conditional) = statement_applies(st, action, resource, ctx) {
                matched.push(Matched::new(&p.name, st, conditional));
                applied.push((st.effect, conditional));
            }
        }
    }
    tally(applied.into_iter())
}

impl PolicySet {
    /// A set of identity policies without a boundary.
    pub fn new(identity: Vec<Policy>) -> PolicySet {
        PolicySet { identity, boundary: None }
    }

    /// The statements covering `action`, indexed to decide it on many resources: it decides
    /// `action` on every resource exactly as this set does, without matching the other
    /// statements' action patterns again for each resource (what a diff or a self-check of
    /// thousands of resources of one action would do).
    pub fn for_one_action(&self, action: &str) -> ActionPolicies<'_> {
        self.for_actions(&[action]).pop().unwrap_or_default()
    }

    /// [`PolicySet::for_one_action`] of each of `actions`, in their order. Each statement's
    /// patterns are read once for all of them: a pattern whose service is written out (nearly
    /// all: `s3:Get*`) is matched only against the actions of that service, so a policy of
    /// thousands of patterns is not scanned once per action.
    pub fn for_actions(&self, actions: &[&str]) -> Vec<ActionPolicies<'_>> {
        let split: Vec<Option<(&str, &str)>> = actions.iter().map(|a| split_at_colon(a)).collect();
        // The actions of each service (services compared without case, as patterns match them).
        let mut services: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, (s, _)) in split.iter().enumerate().filter_map(|(i, x)| x.map(|x| (i, x))) {
            match services.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(s)) {
                Some((_, v)) => v.push(i),
                None => services.push((s, vec![i])),
            }
        }
        let every: Vec<usize> = (0..actions.len()).collect();
        // Which actions one `Action`/`NotAction` element covers, as `covers_action` decides it.
        let covered = |element: &Actions| -> Vec<bool> {
            let (pats, negated) = match element {
                Actions::Only(p) => (p, false),
                Actions::AllBut(p) => (p, true),
            };
            let mut hit = vec![false; actions.len()];
            for p in pats {
                if p == "*" {
                    hit.iter_mut().for_each(|h| *h = true);
                    break;
                }
                let Some((ps, pn)) = split_at_colon(p) else { continue };
                let literal = !ps.contains(['*', '?']);
                let candidates: &[usize] = if literal {
                    services.iter().find(|(k, _)| k.eq_ignore_ascii_case(ps)).map_or(&[], |(_, v)| v.as_slice())
                } else {
                    &every
                };
                for &i in candidates {
                    if hit[i] {
                        continue;
                    }
                    if let Some((s, n)) = split[i] {
                        hit[i] = (literal || glob(ps, s, true)) && glob(pn, n, true);
                    }
                }
            }
            if negated {
                hit.iter_mut().for_each(|h| *h = !*h);
            }
            hit
        };
        fn index<'p>(p: &'p Policy, covered: &dyn Fn(&Actions) -> Vec<bool>, out: &mut [Vec<IndexedStatement<'p>>]) {
            for st in &p.statements {
                let hit = covered(&st.actions);
                if !hit.contains(&true) {
                    continue;
                }
                // One index of the statement's resources, shared by the actions it covers.
                let index = match &st.resources {
                    Resources::Only(pats) if pats.len() >= INDEX_FROM => {
                        Some(std::sync::Arc::new(PrefixIndex::new(pats)))
                    }
                    _ => None,
                };
                for (i, _) in hit.iter().enumerate().filter(|(_, h)| **h) {
                    out[i].push(IndexedStatement { policy: &p.name, st, index: index.clone() });
                }
            }
        }
        let mut identity: Vec<Vec<IndexedStatement<'_>>> = vec![Vec::new(); actions.len()];
        for p in &self.identity {
            index(p, &covered, &mut identity);
        }
        let boundary: Option<Vec<Vec<IndexedStatement<'_>>>> = self.boundary.as_ref().map(|b| {
            let mut out = vec![Vec::new(); actions.len()];
            index(b, &covered, &mut out);
            out
        });
        let mut boundary = boundary.map(Vec::into_iter);
        identity
            .into_iter()
            .map(|identity| ActionPolicies { identity, boundary: boundary.as_mut().and_then(Iterator::next) })
            .collect()
    }

    /// Decides `action` on `resource` (`*` for actions without resource-level permissions),
    /// with the request's condition keys unknown.
    pub fn evaluate(&self, action: &str, resource: &str) -> Evaluation {
        self.evaluate_with(action, resource, None)
    }

    /// Decides `action` on `resource` for a request carrying `ctx`'s condition keys.
    pub fn evaluate_in(&self, action: &str, resource: &str, ctx: &RequestContext) -> Evaluation {
        self.evaluate_with(action, resource, Some(ctx))
    }

    fn evaluate_with(&self, action: &str, resource: &str, ctx: Option<&RequestContext>) -> Evaluation {
        let mut matched = Vec::new();
        let identity = evaluate_policies(self.identity.iter(), action, resource, ctx, &mut matched);
        let decision = match &self.boundary {
            None => identity,
            Some(b) => {
                let bound = evaluate_policies(std::iter::once(b), action, resource, ctx, &mut matched);
                // Both must allow; the weaker outcome wins (Decision is ordered weakest first).
                identity.min(bound)
            }
        };
        Evaluation { decision, matched }
    }

    /// The catalog actions the policies may allow on some resource: the union of the Allow
    /// statements' actions (wildcards and NotAction expanded), less actions an unconditional
    /// Deny on every resource refuses, within the boundary.
    pub(crate) fn granted_actions(&self, catalog: &ActionCatalog) -> BTreeSet<String> {
        fn allowed(policies: &[&Policy], catalog: &ActionCatalog) -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            let mut denied = BTreeSet::new();
            for p in policies {
                for st in &p.statements {
                    let everywhere = matches!(&st.resources, Resources::Only(r) if r.iter().any(|x| x == "*"))
                        && st.conditions.is_empty();
                    match st.effect {
                        Effect::Allow => out.extend(expand_actions(&st.actions, catalog)),
                        Effect::Deny if everywhere => denied.extend(expand_actions(&st.actions, catalog)),
                        Effect::Deny => {}
                    }
                }
            }
            out.retain(|a| !denied.contains(a));
            out
        }
        let identity: Vec<&Policy> = self.identity.iter().collect();
        let mut granted = allowed(&identity, catalog);
        if let Some(b) = &self.boundary {
            let bound = allowed(&[b], catalog);
            granted.retain(|a| bound.contains(a));
        }
        granted
    }
}

/// Every catalog action an `Action`/`NotAction` element covers.
pub(crate) fn expand_actions(actions: &Actions, catalog: &ActionCatalog) -> BTreeSet<String> {
    // The same managed policies reach many principals of an audit: each statement's actions are
    // expanded once.
    type Key = (bool, Vec<String>);
    static EXPANDED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<Key, std::sync::Arc<BTreeSet<String>>>>,
    > = std::sync::OnceLock::new();
    let key: Key = match actions {
        Actions::Only(p) => (true, p.clone()),
        Actions::AllBut(p) => (false, p.clone()),
    };
    // Only for the embedded catalog, which lives as long as the process (a catalog built and
    // dropped by a caller could leave its address to another).
    if !std::ptr::eq(catalog, ActionCatalog::embedded()) {
        return expand_actions_uncached(actions, catalog);
    }
    let cache = EXPANDED.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return (*hit).clone();
    }
    let expanded = expand_actions_uncached(actions, catalog);
    if let Ok(mut c) = cache.lock() {
        // Bounded: a pathological input does not grow it without end.
        if c.len() < 10_000 {
            c.insert(key, std::sync::Arc::new(expanded.clone()));
        }
    }
    expanded
}

fn expand_actions_uncached(actions: &Actions, catalog: &ActionCatalog) -> BTreeSet<String> {
    let matches_any = |pats: &[String], name: &str| pats.iter().any(|p| action_matches(p, name));
    let mut out = BTreeSet::new();
    match actions {
        Actions::Only(pats) => {
            // Only the patterns of a service are tried on its actions (a policy such as
            // ReadOnlyAccess has hundreds of patterns, a few per service): patterns whose
            // service is written out are filed under it, the others are tried everywhere.
            let mut by_service: std::collections::HashMap<String, Vec<String>> = Default::default();
            let mut any_service: Vec<String> = Vec::new();
            for p in pats {
                match p.split_once(':') {
                    Some((svc, _)) if !svc.contains(['*', '?']) => {
                        by_service.entry(svc.to_ascii_lowercase()).or_default().push(p.clone())
                    }
                    Some(_) => any_service.push(p.clone()),
                    None if p == "*" => any_service.push(p.clone()),
                    None => {}
                }
            }
            for prefix in catalog.prefixes() {
                let mut of_service: Vec<String> =
                    by_service.get(&prefix.to_ascii_lowercase()).cloned().unwrap_or_default();
                of_service.extend(
                    any_service
                        .iter()
                        .filter(|p| *p == "*" || p.split_once(':').is_some_and(|(s, _)| glob(s, prefix, true)))
                        .cloned(),
                );
                if of_service.is_empty() {
                    continue;
                }
                out.extend(
                    catalog.actions_of(prefix).filter(|a| matches_any(&of_service, &a.name)).map(|a| a.name.clone()),
                );
            }
        }
        Actions::AllBut(pats) => {
            for prefix in catalog.prefixes() {
                out.extend(catalog.actions_of(prefix).filter(|a| !matches_any(pats, &a.name)).map(|a| a.name.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_on_every_resource_decide_every_resource_alike() {
        let set = |doc: &str| PolicySet::new(vec![Policy::parse("p", doc).unwrap()]);
        let everywhere = set(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::a/*","*"]},
            {"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#);
        let one = everywhere.for_one_action("s3:GetObject");
        assert!(one.resource_independent());
        let first = one.evaluate("arn:aws:s3:::a/k");
        for r in ["arn:aws:s3:::b/k", "arn:aws:s3:::a", "*", "arn:aws:s3:::${x}/é"] {
            assert_eq!(one.evaluate(r), first, "{r}");
        }
        for doc in [
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::a/*"}]}"#,
        ] {
            assert!(!set(doc).for_one_action("s3:GetObject").resource_independent(), "{doc}");
        }
    }

    #[test]
    fn one_action_decided_over_many_resources_decides_as_the_whole_set() {
        // Enough patterns to be indexed, with wildcards first, in the middle, variables, escapes
        // and a Deny; every resource decided both ways.
        let mut resources: Vec<String> = (0..12).map(|i| format!("\"arn:aws:s3:::bucket-{i}/data/*\"")).collect();
        resources.extend(
            [
                "\"arn:aws:s3:::*-logs/*\"",
                "\"*\"",
                "\"arn:aws:s3:::home/${aws:username}/*\"",
                "\"arn:aws:s3:::lit${*}/k\"",
                "\"arn:aws:s3:::b?/x\"",
            ]
            .map(String::from),
        );
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[
              {{"Effect":"Allow","Action":["s3:GetObject","s3:Put*"],"Resource":[{}]}},
              {{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::only/this","Condition":{{"Bool":{{"aws:SecureTransport":"true"}}}}}},
              {{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bucket-3/data/secret/*"}}]}}"#,
            resources.join(",")
        );
        let set = PolicySet::new(vec![Policy::parse("p", &doc).unwrap()]);
        for action in ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] {
            let fast = set.for_one_action(action);
            for r in [
                "arn:aws:s3:::bucket-3/data/x",
                "arn:aws:s3:::bucket-3/data/secret/x",
                "arn:aws:s3:::bucket-11/data/y",
                "arn:aws:s3:::bucket-1/other",
                "arn:aws:s3:::app-logs/2026/x",
                "arn:aws:s3:::home/alice/f",
                "arn:aws:s3:::lit*/k",
                "arn:aws:s3:::litx/k",
                "arn:aws:s3:::bx/x",
                "arn:aws:s3:::only/this",
                "*",
                "not-an-arn",
            ] {
                assert_eq!(fast.decide(r, None), set.evaluate(action, r).decision, "{action} on {r}");
                assert_eq!(fast.evaluate(r).decision, set.evaluate(action, r).decision, "{action} on {r}");
            }
        }
    }

    #[test]
    fn resource_segments_are_the_ones_splitn_6_gives() {
        // The segment matching as first written, with `splitn(6, ':')`.
        fn by_splitn(pattern: &str, arn: &str) -> (bool, bool) {
            let (pattern, variable) = substitute_variables(pattern);
            if pattern == "*" {
                return (true, variable);
            }
            if arn == "*" {
                return (false, false);
            }
            if arn.splitn(6, ':').count() < 6 {
                return (glob_literal_escapes(&pattern, arn), variable);
            }
            let segments = pattern.splitn(6, ':').count();
            let mut rest = arn;
            for (i, seg) in pattern.splitn(6, ':').enumerate() {
                let text = if i + 1 == segments {
                    rest
                } else {
                    let (head, tail) = rest.split_once(':').unwrap_or((rest, ""));
                    rest = tail;
                    head
                };
                if !glob_literal_escapes(seg, text) {
                    return (false, false);
                }
            }
            (true, variable)
        }
        let patterns = [
            "*",
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b",
            "arn:*:s3:::*",
            "arn:aws:logs:*:*:log-group:/a:*",
            "arn:aws:logs:us-east-1:1:log-group:/a:log-stream:*",
            "arn:aws:iam::*:role/*",
            "arn:aws:s3",
            "arn:aws:s3:::${aws:username}/*",
            "arn:aws:s3:::lit${*}/k",
            "arn:aws:*",
            "not-an-arn*",
            "a:b:c:d:e:f:g",
            "",
        ];
        let arns = [
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::b",
            "arn:aws:s3:::b/k:with:colons",
            "arn:aws:logs:us-east-1:1:log-group:/a:log-stream:s",
            "arn:aws:iam::123456789012:role/path/r",
            "arn:aws:s3:::lit*/k",
            "arn:aws:s3::",
            "not-an-arn-at-all",
            "a:b:c:d:e:f:g",
            "*",
            "",
        ];
        for p in patterns {
            for a in arns {
                assert_eq!(resource_matches(p, a), by_splitn(p, a), "{p} on {a}");
            }
        }
    }

    #[test]
    fn actions_decided_together_are_decided_as_each_alone() {
        // Services written out, in other case, with wildcards and `?`; NotAction; `*`; a boundary.
        let identity = Policy::parse(
            "p",
            r#"{"Statement":[
              {"Effect":"Allow","Action":["S3:Get*","s3:ListBucket","sq?:Send*","*:Describe*","ec2:*"],"Resource":"*"},
              {"Effect":"Allow","NotAction":["iam:*","s3:*"],"Resource":"arn:aws:sqs:*:*:q"},
              {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secret/*"},
              {"Effect":"Allow","Action":"*","Resource":"arn:aws:kms:*:*:key/k"}]}"#,
        )
        .unwrap();
        let boundary = Policy::parse(
            "b",
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","sqs:*","ec2:Describe*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let actions = [
            "s3:GetObject",
            "S3:getobject",
            "s3:PutObject",
            "s3:ListBucket",
            "sqs:SendMessage",
            "sqs:DeleteQueue",
            "ec2:DescribeInstances",
            "rds:DescribeDBInstances",
            "iam:PassRole",
            "kms:Decrypt",
            "no-colon",
            "",
        ];
        let resources = [
            "*",
            "arn:aws:s3:::secret/x",
            "arn:aws:s3:::open/x",
            "arn:aws:sqs:us-east-1:1:q",
            "arn:aws:kms:us-east-1:1:key/k",
        ];
        for set in [
            PolicySet::new(vec![identity.clone()]),
            PolicySet { identity: vec![identity.clone()], boundary: Some(boundary) },
        ] {
            let together = set.for_actions(&actions);
            assert_eq!(together.len(), actions.len());
            for (action, policies) in actions.iter().zip(&together) {
                for r in resources {
                    assert_eq!(policies.decide(r, None), set.evaluate(action, r).decision, "{action} on {r}");
                    assert_eq!(policies.evaluate(r), set.for_one_action(action).evaluate(r), "{action} on {r}");
                }
            }
        }
    }

    #[test]
    fn glob_matches_non_ascii_text_by_characters() {
        assert!(glob("caf?", "café", false));
        assert!(glob("*é*", "xéy", false));
        assert!(!glob("caf?", "cafés", false));
    }

    #[test]
    fn glob_handles_stars_and_question_marks() {
        assert!(glob("Get*", "GetObject", false));
        assert!(glob("*Object", "GetObject", false));
        assert!(glob("G?t*t", "GetObject", false));
        assert!(!glob("Get?", "GetObject", false));
        assert!(glob("getobject", "GetObject", true));
        assert!(!glob("getobject", "GetObject", false));
        assert!(glob("*", "", false));
        assert!(glob("a*b*c", "aXXbYYc", false));
        assert!(!glob("a*b*c", "aXXbYY", false));
    }

    #[test]
    fn expansion_counts_real_catalog_actions() {
        let c = ActionCatalog::embedded();
        let s3_all = expand_actions(&Actions::Only(vec!["s3:*".into()]), c);
        assert!(s3_all.len() > 100 && s3_all.iter().all(|a| a.starts_with("s3:")), "{}", s3_all.len());
        let describe = expand_actions(&Actions::Only(vec!["ec2:Describe*".into()]), c);
        assert!(describe.contains("ec2:DescribeInstances") && !describe.contains("ec2:RunInstances"));
        let not_iam = expand_actions(&Actions::AllBut(vec!["iam:*".into()]), c);
        assert!(not_iam.contains("s3:GetObject") && !not_iam.iter().any(|a| a.starts_with("iam:")));
    }
}
