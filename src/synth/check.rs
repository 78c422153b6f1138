//! The self-check: the generated policy evaluated against every call it came from.

use super::conditions::request_context;
use crate::policy::evaluator::{PolicySet, RequestContext};
use crate::policy::PolicyDocument;

/// The generated policy evaluated against every call it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SelfCheck {
    /// Calls observed (mapped records' action uses).
    pub calls: u64,
    /// Of those, allowed.
    pub allowed_calls: u64,
    /// Distinct (action, resource) pairs evaluated.
    pub pairs: u64,
    /// Pairs the policy would refuse (must be none).
    pub refused: Vec<(String, String)>,
}

/// Evaluates `policy` (with the IAM evaluator) on every action and resource in `usage`; when the
/// policy has conditions, in every request context the action was called in.
pub fn self_check(policy: &PolicyDocument, usage: &crate::usage::Usage) -> SelfCheck {
    replay(&PolicySet::new(vec![crate::policy::model::Policy::from(policy)]), usage)
}

/// Evaluates the policies of `set` on every action and resource in `usage` (calls made later
/// than those a policy was learned from, or the same calls for the self-check); when a policy
/// has conditions, in every request context the action was called in.
pub fn replay(set: &PolicySet, usage: &crate::usage::Usage) -> SelfCheck {
    let conditional =
        set.identity.iter().chain(&set.boundary).any(|p| p.statements.iter().any(|s| !s.conditions.is_empty()));
    let mut check = SelfCheck { calls: 0, allowed_calls: 0, pairs: 0, refused: Vec::new() };
    let names: Vec<&str> = usage.actions.keys().map(String::as_str).collect();
    for ((action, u), set) in usage.actions.iter().zip(set.for_actions(&names)) {
        check.calls += u.calls;
        let contexts: Vec<RequestContext> =
            if conditional { u.contexts.keys().map(|c| request_context(action, c)).collect() } else { Vec::new() };
        // The request is the concrete resource: a name written `a${*}` was the key `a*`.
        let allowed = |r: &str| {
            let r = &*crate::mapping::arn::concrete(r);
            if contexts.is_empty() {
                set.decide(r, None).is_allow()
            } else {
                contexts.iter().all(|ctx| set.decide(r, Some(ctx)).is_allow())
            }
        };
        let mut all = true;
        for r in &u.resources {
            check.pairs += 1;
            if !allowed(r) {
                check.refused.push((action.clone(), r.clone()));
                all = false;
            }
        }
        if all {
            check.allowed_calls += u.calls;
        }
    }
    check
}
