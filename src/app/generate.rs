//! Generating a policy from usage: synthesize, then fit the managed-policy size limit (tighten
//! prefix generalization step by step, then split), then check the result against every call.

use crate::mapping::catalog::ActionCatalog;
use crate::policy::{PolicyDocument, MANAGED_POLICY_LIMIT};
use crate::synth::{self, ConditionNote, ResourceMode, SelfCheck, SynthOptions, Widening};
use crate::usage::Usage;

/// How to shape the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerateOptions {
    /// Resource generalization, conditions.
    pub synth: SynthOptions,
    /// The size a managed policy holds (characters, white space not counted).
    pub limit: Option<usize>,
}

/// A generated policy and everything a reviewer should know about how it was shaped.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The whole policy.
    pub policy: PolicyDocument,
    /// The policy as managed policies of at most the limit each (one when it fits).
    pub parts: Vec<PolicyDocument>,
    /// Resources generalized, and why.
    pub widenings: Vec<Widening>,
    /// Steps taken to fit the size limit, in order.
    pub fit_steps: Vec<String>,
    /// Conditions added (and left out) with their evidence, when asked for.
    pub conditions: Vec<ConditionNote>,
    /// The policy evaluated against every observed call; `refused` must be empty.
    pub self_check: SelfCheck,
    /// Things to tell the user that are not errors.
    pub notices: Vec<String>,
}

/// Generates the policy for `usage`: the least widening that fits one managed policy (prefix
/// generalization tightened by halving `--max-arns-per-statement`), else a split into several;
/// no action is ever dropped.
pub fn generate(usage: &Usage, catalog: &ActionCatalog, opts: &GenerateOptions) -> Generated {
    let limit = opts.limit.unwrap_or(MANAGED_POLICY_LIMIT);
    let synth_opts = opts.synth;
    let mut notices = Vec::new();
    if synth_opts.resources == ResourceMode::Service {
        notices.push("--resources service grants every action on `*`: the policy is not resource-scoped".to_string());
    }
    // The ARNs are read into containers once, for every threshold the size loop tries.
    let prepared = synth::PreparedResources::of(&usage.actions);
    let (mut policy, mut widenings) = synth::synthesize_prepared(&usage.actions, &prepared, catalog, &synth_opts);
    let mut size = policy.size();
    let mut fit_steps = Vec::new();
    if size > limit && synth_opts.resources == ResourceMode::Prefix {
        let before = size;
        let mut threshold = synth_opts.max_arns_per_statement.max(1);
        while size > limit && threshold > 1 {
            threshold = (threshold / 2).max(1);
            let (p, w) = synth::synthesize_prepared(
                &usage.actions,
                &prepared,
                catalog,
                &SynthOptions { max_arns_per_statement: threshold, ..synth_opts },
            );
            policy = p;
            widenings = w;
            size = policy.size();
        }
        fit_steps.push(format!(
            "prefix generalization tightened to --max-arns-per-statement {threshold}: {before} -> {size} characters"
        ));
    }
    let parts = if size > limit { synth::split(&policy, limit) } else { vec![policy.clone()] };
    if parts.len() > 1 {
        fit_steps.push(format!("split into {} managed policies of at most {limit} characters", parts.len()));
        if parts.len() > 10 {
            notices.push(format!(
                "{} managed policies are more than the 10 a role takes by default (20 with a quota increase)",
                parts.len()
            ));
        }
    }
    let conditions = if synth_opts.conditions { synth::condition_notes(&policy, &usage.actions) } else { Vec::new() };
    let self_check = synth::self_check(&policy, usage);
    Generated { policy, parts, widenings, fit_steps, conditions, self_check, notices }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::ActionUsage;

    fn usage_with_keys(n: usize) -> Usage {
        let mut u = Usage::default();
        for action in ["s3:GetObject", "s3:PutObject"] {
            let a: &mut ActionUsage = u.actions.entry(action.to_string()).or_default();
            for i in 0..n {
                a.resources.insert(format!("arn:aws:s3:::bucket/dir-{}/sub/key-{i:04}.csv", i % 7));
            }
            a.calls = n as u64;
        }
        u
    }

    #[test]
    fn a_policy_that_fits_is_left_alone_and_checked() {
        let g = generate(&usage_with_keys(5), ActionCatalog::embedded(), &GenerateOptions::default());
        assert_eq!(g.parts.len(), 1);
        assert!(g.fit_steps.is_empty() && g.widenings.is_empty());
        assert!(g.self_check.refused.is_empty());
        assert_eq!(g.self_check.allowed_calls, 10);
    }

    #[test]
    fn the_size_loop_tightens_prefixes_until_the_policy_fits() {
        // 400 keys in 7 directories: over the limit exact; halving the threshold collapses them.
        let opts = GenerateOptions {
            synth: SynthOptions { max_arns_per_statement: 500, ..SynthOptions::default() },
            limit: None,
        };
        let g = generate(&usage_with_keys(400), ActionCatalog::embedded(), &opts);
        assert_eq!(g.parts.len(), 1, "{:?}", g.fit_steps);
        assert!(g.policy.size() <= MANAGED_POLICY_LIMIT);
        assert!(
            g.fit_steps[0].starts_with("prefix generalization tightened to --max-arns-per-statement"),
            "{:?}",
            g.fit_steps
        );
        assert!(!g.widenings.is_empty());
        assert!(g.self_check.refused.is_empty(), "every call still allowed after widening");
    }

    #[test]
    fn exact_resources_are_split_never_widened_and_nothing_is_dropped() {
        let opts = GenerateOptions {
            synth: SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() },
            limit: Some(2000),
        };
        let u = usage_with_keys(100);
        let g = generate(&u, ActionCatalog::embedded(), &opts);
        assert!(g.parts.len() > 1, "split");
        assert!(g.widenings.is_empty(), "exact is never widened");
        assert!(g.fit_steps.iter().any(|s| s.starts_with("split into")), "{:?}", g.fit_steps);
        let granted: usize = g.parts.iter().flat_map(|p| &p.statement).map(|s| s.resource.len() * s.action.len()).sum();
        assert_eq!(granted, 200, "every action on every key, in some part");
        assert!(g.parts.iter().all(|p| p.size() <= 2000));
    }

    #[test]
    fn service_mode_says_it_is_not_resource_scoped() {
        let opts = GenerateOptions {
            synth: SynthOptions { resources: ResourceMode::Service, ..SynthOptions::default() },
            limit: None,
        };
        let g = generate(&usage_with_keys(3), ActionCatalog::embedded(), &opts);
        assert!(g.notices[0].contains("not resource-scoped"));
        assert_eq!(g.policy.statement[0].resource, ["*"]);
    }
}
