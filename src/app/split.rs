//! One policy per workload (`generate --split-by`): the groups a shared role's calls were kept
//! in, each generated and self-checked on its own, the actions every group shares, and a check
//! that the split policies together allow every call the role made.

use std::collections::BTreeSet;

use crate::mapping::catalog::ActionCatalog;
use crate::policy::evaluator::PolicySet;
use crate::synth::SelfCheck;
use crate::usage::Usage;

use super::generate::{generate, GenerateOptions, Generated};

/// One group's policy.
#[derive(Debug, Clone)]
pub struct SplitGroup {
    /// The group (a stable session name, user agent, source IP or calling service), as read
    /// from the logs: show it through `output::text::visible`.
    pub name: String,
    /// Records of the group's calls.
    pub calls: u64,
    /// The actions its policy grants.
    pub actions: BTreeSet<String>,
    /// The policy, its parts, widenings and self-check.
    pub generated: Generated,
}

/// Every group's policy, and what they share.
#[derive(Debug, Clone)]
pub struct SplitPolicies {
    /// The groups, in name order.
    pub groups: Vec<SplitGroup>,
    /// Actions every group's policy grants (a candidate for a shared base policy).
    pub shared: BTreeSet<String>,
    /// The split policies together, evaluated on every call of the whole run: `refused` must
    /// be empty.
    pub union_check: SelfCheck,
}

/// Generates one policy per group of `all` (a `--split-by` usage, before
/// [`Usage::unsplit`]).
pub fn split(all: &Usage, catalog: &ActionCatalog, opts: &GenerateOptions) -> SplitPolicies {
    let groups: Vec<SplitGroup> = all
        .split_groups()
        .into_iter()
        .map(|(name, usage)| SplitGroup {
            calls: usage.counts.records_matched,
            actions: usage.actions.keys().cloned().collect(),
            generated: generate(&usage, catalog, opts),
            name,
        })
        .collect();
    let shared = groups
        .iter()
        .map(|g| g.actions.clone())
        .reduce(|a, b| a.intersection(&b).cloned().collect())
        .unwrap_or_default();
    let policies = groups.iter().map(|g| crate::policy::model::Policy::from(&g.generated.policy)).collect();
    let union_check = crate::synth::replay(&PolicySet::new(policies), &all.clone().unsplit());
    SplitPolicies { groups, shared, union_check }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::source::{Item, Location};
    use crate::select::{PrincipalFilter, SplitBy};
    use crate::usage::Selection;

    fn record(session: &str, source: &str, name: &str, params: &str) -> String {
        format!(
            r#"{{"eventTime":"2026-10-01T10:00:00Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","recipientAccountId":"111122223333","requestParameters":{params},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/shared/{session}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/shared"}}}}}}}}"#
        )
    }

    #[test]
    fn each_workload_gets_a_policy_of_its_own_calls_and_together_they_allow_every_call() {
        let catalog = ActionCatalog::embedded();
        let mapper = crate::mapping::mapper::EventMapper::new(catalog);
        let selection = Selection {
            principal: Some(PrincipalFilter::role("shared").unwrap()),
            split_by: Some(SplitBy::Session),
            ..Selection::default()
        };
        let records = [
            record(
                "orders",
                "sqs.amazonaws.com",
                "SendMessage",
                r#"{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/orders"}"#,
            ),
            record(
                "orders",
                "logs.amazonaws.com",
                "PutLogEvents",
                r#"{"logGroupName":"/aws/lambda/orders","logStreamName":"s"}"#,
            ),
            record("billing", "dynamodb.amazonaws.com", "GetItem", r#"{"tableName":"invoices"}"#),
            record(
                "billing",
                "logs.amazonaws.com",
                "PutLogEvents",
                r#"{"logGroupName":"/aws/lambda/billing","logStreamName":"s"}"#,
            ),
            record("GitHubActions-8812345678", "s3.amazonaws.com", "ListBuckets", "null"),
            record("GitHubActions-8812349999", "s3.amazonaws.com", "ListBuckets", "null"),
        ];
        let mut usage = Usage::default();
        for (i, r) in records.iter().enumerate() {
            usage.ingest("f.json", Item::Record { location: Location::Record(i), json: r }, &selection, &mapper);
        }
        assert!(usage.reconciles());
        let names: Vec<&str> = usage.groups.keys().map(String::as_str).collect();
        assert_eq!(names, ["GitHubActions-*", "billing", "orders"]);
        let s = split(&usage, catalog, &GenerateOptions::default());
        for g in &s.groups {
            assert!(g.generated.self_check.refused.is_empty(), "{}", g.name);
            assert_eq!(g.generated.self_check.allowed_calls, g.generated.self_check.calls, "{}", g.name);
        }
        assert_eq!(s.groups[0].calls, 2, "both CI runs are one group");
        assert!(s.groups[2].actions.contains("sqs:SendMessage") && !s.groups[1].actions.contains("sqs:SendMessage"));
        assert!(s.shared.is_empty(), "{:?}", s.shared);
        assert!(s.union_check.refused.is_empty());
        assert_eq!(s.union_check.allowed_calls, s.union_check.calls);
        let all = usage.unsplit();
        assert!(all.reconciles());
        assert_eq!(all.counts.records_matched, 6);
    }

    #[test]
    fn past_the_group_limit_the_groups_kept_do_not_depend_on_the_reading_order() {
        let catalog = ActionCatalog::embedded();
        let mapper = crate::mapping::mapper::EventMapper::new(catalog);
        let selection = Selection {
            principal: Some(PrincipalFilter::role("shared").unwrap()),
            split_by: Some(SplitBy::Session),
            ..Selection::default()
        };
        let n = crate::usage::MAX_GROUPS + 50;
        let records: Vec<String> =
            (0..n).map(|i| record(&format!("job-{i:03}"), "s3.amazonaws.com", "ListBuckets", "null")).collect();
        let read = |order: Vec<usize>| {
            let mut u = Usage::default();
            for i in order {
                let item = Item::Record { location: Location::Record(i), json: &records[i] };
                u.ingest("f.json", item, &selection, &mapper);
            }
            u
        };
        let forward = read((0..n).collect());
        // Backwards, in two parts merged afterwards (as two threads would).
        let back = read((0..n / 2).rev().collect()).merge(read((n / 2..n).rev().collect()));
        let keys = |u: &Usage| u.groups.iter().map(|(k, g)| (k.clone(), g.counts.records_matched)).collect::<Vec<_>>();
        assert_eq!(keys(&forward), keys(&back));
        assert_eq!(forward.groups.len(), crate::usage::MAX_GROUPS + 1);
        assert_eq!(forward.groups[crate::usage::OTHER_GROUPS].counts.records_matched, 50);
        assert!(forward.groups.contains_key("job-000") && !forward.groups.contains_key("job-149"));
        assert!(forward.reconciles() && back.reconciles());
        assert_eq!(forward.unsplit().counts.records_matched, n as u64);
    }
}
