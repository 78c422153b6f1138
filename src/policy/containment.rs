//! The offline proof that a proposed (trimmed) policy grants nothing the current one does not:
//! every catalog action each proposed Allow statement covers, on each of its resource patterns,
//! must be allowed by one current Allow statement whose resource patterns contain that pattern
//! and whose conditions are all among the proposed statement's, with no current Deny that could
//! touch it. Anything the proof cannot show (a `NotResource`, a condition the current grant
//! has and the proposed one lacks, a value a template left unknown, a Deny of the current
//! policies) is a counterexample: "no new access" is said only when it is proven.

use std::collections::BTreeSet;

use crate::mapping::catalog::ActionCatalog;
use crate::policy::evaluator::{covers_action, expand_actions, PolicySet};
use crate::policy::model::{Effect, Resources, Statement};

/// The answer of [`no_new_access`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoNewAccess {
    /// True when every grant of the proposed policies is proven within the current ones.
    pub proven: bool,
    /// (action, resource pattern) pairs checked.
    pub checked: usize,
    /// Grants of the proposed policies not proven within the current ones (the first 50).
    pub counterexamples: Vec<Counterexample>,
    /// Counterexamples beyond those listed.
    pub more: usize,
}

/// One grant the proof cannot place within the current policies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Counterexample {
    /// The action.
    pub action: String,
    /// The proposed resource pattern.
    pub resource: String,
    /// Why it is not proven.
    pub why: String,
}

const LISTED: usize = 50;

/// True when every text glob pattern `inner` matches is matched by `outer` (`*` any run, `?` one
/// character). A wildcard of `inner` is covered only by a wildcard of `outer` at least as wide.
pub(crate) fn glob_contains(outer: &[u8], inner: &[u8]) -> bool {
    // dp[i][j]: outer[i..] contains inner[j..].
    let (n, m) = (outer.len(), inner.len());
    let mut dp = vec![vec![false; m + 1]; n + 1];
    dp[n][m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            dp[i][j] = match outer[i] {
                b'*' => dp[i + 1][j] || (j < m && dp[i][j + 1]),
                b'?' => j < m && inner[j] != b'*' && dp[i + 1][j + 1],
                c => j < m && inner[j] == c && dp[i + 1][j + 1],
            };
        }
    }
    dp[0][0]
}

/// True when ARN pattern `outer` matches every ARN `inner` matches, segment by segment as IAM
/// matches them (`*` alone contains everything; a variable or a placeholder in `outer` contains
/// nothing but itself).
pub fn resource_contains(outer: &str, inner: &str) -> bool {
    if outer == "*" {
        return true;
    }
    if outer.contains("${") {
        return outer == inner && !outer.contains("${unknown:");
    }
    let inner = inner_as_glob(inner);
    let o: Vec<&str> = outer.splitn(6, ':').collect();
    let i: Vec<&str> = inner.splitn(6, ':').collect();
    if o.len() < 6 || i.len() < 6 {
        return glob_contains(outer.as_bytes(), inner.as_bytes());
    }
    o.iter().zip(&i).all(|(a, b)| glob_contains(a.as_bytes(), b.as_bytes()))
}

/// A proposed pattern with its policy variables read as `*` (over-approximated: the proof then
/// needs the current grant to cover every value).
fn inner_as_glob(p: &str) -> String {
    if !p.contains("${") {
        return p.to_string();
    }
    let mut out = String::new();
    let mut rest = p;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Could `outer` and `inner` name a common resource? (Either contains the other, or both have
/// wildcards: said yes, to be safe.)
fn may_overlap(a: &str, b: &str) -> bool {
    a == "*"
        || b == "*"
        || resource_contains(a, b)
        || resource_contains(b, a)
        || (a.contains(['*', '?', '$']) && b.contains(['*', '?', '$']))
}

/// Proves (or refutes) that `proposed` grants nothing `current` does not, over every action of
/// `catalog`. The boundary of either is left aside: the role keeps its boundary, and a proposed
/// policy within the current identity policies stays within them under any boundary.
pub fn no_new_access(current: &PolicySet, proposed: &PolicySet, catalog: &ActionCatalog) -> NoNewAccess {
    let mut found: BTreeSet<Counterexample> = BTreeSet::new();
    let mut checked = 0;
    let current_statements: Vec<&Statement> = current.identity.iter().flat_map(|p| &p.statements).collect();
    for st in proposed.identity.iter().flat_map(|p| &p.statements).filter(|s| s.effect == Effect::Allow) {
        let patterns = match &st.resources {
            Resources::Only(r) => r.clone(),
            Resources::AllBut(r) => {
                found.insert(Counterexample {
                    action: format!("{:?}", st.actions),
                    resource: format!("NotResource {}", r.join(" ")),
                    why: "a NotResource grant is not proven within any current grant".into(),
                });
                continue;
            }
        };
        for action in expand_actions(&st.actions, catalog) {
            let relevant: Vec<&&Statement> =
                current_statements.iter().filter(|c| covers_action(&c.actions, &action)).collect();
            for pattern in &patterns {
                checked += 1;
                if let Some(d) = relevant.iter().find(|c| {
                    c.effect == Effect::Deny
                        && matches!(&c.resources, Resources::Only(r) if r.iter().any(|x| may_overlap(x, pattern)))
                }) {
                    found.insert(Counterexample {
                        action: action.clone(),
                        resource: pattern.clone(),
                        why: format!(
                            "the current policies deny it on {} (statement {}): the proof does not reason about denies",
                            resource_list(&d.resources),
                            d.sid
                        ),
                    });
                    continue;
                }
                let covering = relevant.iter().any(|c| {
                    c.effect == Effect::Allow
                        && matches!(&c.resources, Resources::Only(r) if r.iter().any(|x| resource_contains(x, pattern)))
                        && c.conditions.iter().all(|cc| st.conditions.contains(cc))
                });
                if !covering {
                    let allows: Vec<String> = relevant
                        .iter()
                        .filter(|c| c.effect == Effect::Allow)
                        .map(|c| {
                            let cond = if c.conditions.is_empty() { "" } else { " under conditions" };
                            format!("{}{cond}", resource_list(&c.resources))
                        })
                        .collect();
                    let why = if allows.is_empty() {
                        "the current policies do not allow this action".to_string()
                    } else {
                        format!("the current policies allow it only on {}", allows.join("; "))
                    };
                    found.insert(Counterexample { action: action.clone(), resource: pattern.clone(), why });
                }
            }
        }
    }
    let more = found.len().saturating_sub(LISTED);
    NoNewAccess { proven: found.is_empty(), checked, counterexamples: found.into_iter().take(LISTED).collect(), more }
}

fn resource_list(r: &Resources) -> String {
    match r {
        Resources::Only(r) => r.join(", "),
        Resources::AllBut(r) => format!("everything but {}", r.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::Policy;

    fn set(statements: &str) -> PolicySet {
        PolicySet::new(vec![
            Policy::parse("p", &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)).unwrap()
        ])
    }

    #[test]
    fn resource_patterns_contain_as_iam_matches_them() {
        for (outer, inner, contains) in [
            ("*", "arn:aws:s3:::b/k", true),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/in/*", true),
            ("arn:aws:s3:::b/in/*", "arn:aws:s3:::b/*", false),
            ("arn:aws:s3:::b/?", "arn:aws:s3:::b/*", false),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k?", true),
            ("arn:aws:sqs:*:123456789012:q", "arn:aws:sqs:us-east-1:123456789012:q", true),
            ("arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sqs:*:123456789012:q", false),
            ("arn:aws:s3:::b/${unknown:Stage}/*", "arn:aws:s3:::b/dev/*", false),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", true),
            ("arn:aws:s3:::b/x", "*", false),
        ] {
            assert_eq!(resource_contains(outer, inner), contains, "{outer} ⊇ {inner}");
        }
    }

    #[test]
    fn the_proof_holds_only_where_every_grant_is_within_a_current_one() {
        let catalog = ActionCatalog::embedded();
        let current = set(r#"{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::b/*"},
               {"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}},
               {"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:1:key/${unknown:Key.KeyId}"},
               {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/locked/*"}"#);
        let cases: &[(&str, &str, bool)] = &[
            (
                "a narrower resource",
                r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/in/*"}"#,
                true,
            ),
            (
                "a wildcard action within the grant",
                r#"{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/k"}"#,
                true,
            ),
            ("a wider resource", r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}"#, false),
            ("an action not granted", r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}"#, false),
            (
                "the current grant's condition, kept",
                r#"{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:1:q","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}"#,
                true,
            ),
            (
                "the current grant's condition, dropped",
                r#"{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:1:q"}"#,
                false,
            ),
            (
                "a key the template left unknown",
                r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:1:key/abc"}"#,
                false,
            ),
            (
                "an action a current Deny touches",
                r#"{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}"#,
                false,
            ),
            (
                "NotResource",
                r#"{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/secret"}"#,
                false,
            ),
        ];
        for (name, proposed, proven) in cases {
            let answer = no_new_access(&current, &set(proposed), catalog);
            assert_eq!(answer.proven, *proven, "{name}: {:?}", answer.counterexamples);
            if !proven {
                assert!(!answer.counterexamples.is_empty() && !answer.counterexamples[0].why.is_empty(), "{name}");
            }
        }
        let wider = no_new_access(&current, &set(cases[2].1), catalog);
        assert_eq!(wider.counterexamples[0].action, "s3:GetObject");
        assert!(wider.counterexamples[0].why.contains("only on arn:aws:s3:::b/*"), "{:?}", wider.counterexamples);
    }
}
