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
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
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
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when action pattern `pattern` (`s3:Get*`, `*`) matches `action` (`s3:GetObject`).
pub(crate) fn action_matches(pattern: &str, action: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match (pattern.split_once(':'), action.split_once(':')) {
        (Some((ps, pn)), Some((s, n))) => glob(ps, s, true) && glob(pn, n, true),
        _ => false,
    }
}

/// Resolves the escapes `${*}`, `${?}`, `${$}`; any other policy variable becomes `*` and
/// makes the match conditional (its value is not known here).
fn substitute_variables(pattern: &str) -> (String, bool) {
    if !pattern.contains("${") {
        return (pattern.to_string(), false);
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
    (out, variable)
}

fn glob_literal_escapes(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['\u{1}', '\u{2}']) {
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
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if a.len() < 6 {
        // Not an ARN: match it whole.
        return (glob_literal_escapes(&pattern, arn), variable);
    }
    for (i, seg) in p.iter().enumerate() {
        let text = if i + 1 == p.len() { a[i..].join(":") } else { a[i].to_string() };
        if !glob_literal_escapes(seg, &text) {
            return (false, false);
        }
    }
    (true, variable)
}

/// `None` when the statement does not apply; otherwise whether it applies only conditionally.
fn statement_applies(st: &Statement, action: &str, resource: &str, ctx: Option<&RequestContext>) -> Option<bool> {
    let action_hit = match &st.actions {
        Actions::Only(pats) => pats.iter().any(|p| action_matches(p, action)),
        Actions::AllBut(pats) => !pats.iter().any(|p| action_matches(p, action)),
    };
    if !action_hit {
        return None;
    }
    let (resource_hit, variable) = match &st.resources {
        Resources::Only(pats) => {
            pats.iter().map(|p| resource_matches(p, resource)).fold((false, false), |acc, (m, v)| {
                if m && (!acc.0 || (acc.1 && !v)) {
                    (true, v)
                } else {
                    acc
                }
            })
        }
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

fn evaluate_policies<'p>(
    policies: impl Iterator<Item = &'p Policy>,
    action: &str,
    resource: &str,
    ctx: Option<&RequestContext>,
    matched: &mut Vec<Matched>,
) -> Decision {
    let (mut deny, mut cond_deny, mut allow, mut cond_allow) = (false, false, false, false);
    for p in policies {
        for st in &p.statements {
            if let Some(conditional) = statement_applies(st, action, resource, ctx) {
                let resources = match &st.resources {
                    Resources::Only(r) => r.clone(),
                    Resources::AllBut(r) => r.iter().map(|x| format!("not {x}")).collect(),
                };
                matched.push(Matched {
                    policy: p.name.clone(),
                    sid: st.sid.clone(),
                    effect: st.effect,
                    conditional,
                    resources,
                });
                match (st.effect, conditional) {
                    (Effect::Deny, false) => deny = true,
                    (Effect::Deny, true) => cond_deny = true,
                    (Effect::Allow, false) => allow = true,
                    (Effect::Allow, true) => cond_allow = true,
                }
            }
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

impl PolicySet {
    /// A set of identity policies without a boundary.
    pub fn new(identity: Vec<Policy>) -> PolicySet {
        PolicySet { identity, boundary: None }
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
    let matches_any = |pats: &[String], name: &str| pats.iter().any(|p| action_matches(p, name));
    let mut out = BTreeSet::new();
    match actions {
        Actions::Only(pats) => {
            for prefix in catalog.prefixes() {
                if !pats.iter().any(|p| p == "*" || p.split_once(':').is_some_and(|(s, _)| glob(s, prefix, true))) {
                    continue;
                }
                out.extend(catalog.actions_of(prefix).filter(|a| matches_any(pats, &a.name)).map(|a| a.name.clone()));
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
