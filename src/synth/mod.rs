//! Synthesizes a least-privilege policy from aggregated usage: one statement per set of
//! resources, actions and resources sorted, readable statement IDs. Same usage in, same bytes out.

mod check;
mod conditions;
mod generalize;
mod split;
mod stable;

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::catalog::{AccessLevel, ActionCatalog};
use crate::policy::{Conditions, Effect, PolicyDocument, Statement, POLICY_VERSION};
use crate::usage::ActionUsage;

pub use check::{replay, self_check, SelfCheck};
use conditions::{action_conditions, ActionConditions};
pub use conditions::{condition_notes, request_context, ConditionNote, CALLED_VIA_SERVICES};
pub use generalize::{container_and_path, generalize, Containers, Widening};
pub use split::split;
pub use stable::{first_varying, Varying};

/// How far resources may be generalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceMode {
    /// Every ARN seen.
    Exact,
    /// Many ARNs in one bucket, table, log group... collapse to their longest common path plus `*`.
    #[default]
    Prefix,
    /// `*` for every action (asked for explicitly).
    Service,
}

/// Synthesis settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// How far resource ARNs are generalized (`--resources`).
    pub resources: ResourceMode,
    /// With [`ResourceMode::Prefix`], more ARNs than this in one container are collapsed.
    pub max_arns_per_statement: usize,
    /// Add conditions from how the calls were made (`--conditions`): `aws:RequestedRegion`,
    /// `aws:SourceVpce`, `kms:ViaService` / `aws:CalledVia`.
    pub conditions: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { resources: ResourceMode::Prefix, max_arns_per_statement: 10, conditions: false }
    }
}

/// Builds the policy that allows exactly the actions used, on the resources used.
pub fn synthesize(actions: &BTreeMap<String, ActionUsage>, catalog: &ActionCatalog) -> PolicyDocument {
    synthesize_with(actions, catalog, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() }).0
}

/// Builds the policy with generalization per `opts`; returns it and what was widened.
pub fn synthesize_with(
    actions: &BTreeMap<String, ActionUsage>,
    catalog: &ActionCatalog,
    opts: &SynthOptions,
) -> (PolicyDocument, Vec<Widening>) {
    synthesize_from(actions, None, catalog, opts)
}

/// Every action's ARNs read once for prefix generalization ([`Containers`]), so that the policy
/// can be synthesized at several thresholds ([`synthesize_prepared`]) without reading them again.
#[derive(Debug, Clone)]
pub struct PreparedResources<'u> {
    containers: BTreeMap<&'u str, Containers<'u>>,
}

impl<'u> PreparedResources<'u> {
    /// The containers of each action of `actions` used on ARNs (not on `*`).
    pub fn of(actions: &'u BTreeMap<String, ActionUsage>) -> PreparedResources<'u> {
        let containers = actions
            .iter()
            .filter(|(_, u)| !u.resources.is_empty() && !u.resources.contains("*"))
            .map(|(name, u)| (name.as_str(), Containers::of(name, &u.resources)))
            .collect();
        PreparedResources { containers }
    }
}

/// [`synthesize_with`] for `actions` whose resources were read once into `prepared`: the same
/// policy and widenings.
pub fn synthesize_prepared(
    actions: &BTreeMap<String, ActionUsage>,
    prepared: &PreparedResources<'_>,
    catalog: &ActionCatalog,
    opts: &SynthOptions,
) -> (PolicyDocument, Vec<Widening>) {
    synthesize_from(actions, Some(prepared), catalog, opts)
}

fn synthesize_from(
    actions: &BTreeMap<String, ActionUsage>,
    prepared: Option<&PreparedResources<'_>>,
    catalog: &ActionCatalog,
    opts: &SynthOptions,
) -> (PolicyDocument, Vec<Widening>) {
    // An action used on `*` anywhere needs `*`; listing ARNs beside it would add nothing.
    // Statements group actions with the same resources (and, with conditions, the same
    // endpoint and calling-service conditions; their requested regions are unioned).
    struct Group<'a> {
        actions: BTreeSet<&'a str>,
        regions: Option<BTreeSet<String>>,
    }
    let mut groups: BTreeMap<(Vec<String>, ActionConditions), Group> = BTreeMap::new();
    let mut widenings = Vec::new();
    for (name, usage) in actions {
        let (resources, w) = match prepared.and_then(|p| p.containers.get(name.as_str())) {
            Some(containers) if opts.resources == ResourceMode::Prefix => containers.generalize(name, opts),
            _ => generalize(name, &usage.resources, opts),
        };
        widenings.extend(w);
        let (conds, regions) =
            if opts.conditions { action_conditions(name, usage, catalog) } else { (ActionConditions::default(), None) };
        let g = groups
            .entry((resources, conds))
            .or_insert_with(|| Group { actions: BTreeSet::new(), regions: Some(BTreeSet::new()) });
        g.actions.insert(name.as_str());
        // A region condition only when every call of every action in the group names one.
        g.regions = match (g.regions.take(), regions) {
            (Some(mut all), Some(r)) if opts.conditions => {
                all.extend(r);
                Some(all)
            }
            _ => None,
        };
    }
    let mut statements: Vec<(Vec<String>, Vec<String>, Conditions)> = groups
        .into_iter()
        .map(|((res, conds), g)| {
            let mut condition = Conditions::new();
            for ((op, key), values) in conds.fixed {
                condition.entry(op).or_default().insert(key, values.into_iter().collect());
            }
            if let Some(regions) = g.regions.filter(|r| !r.is_empty()) {
                condition
                    .entry("StringEquals".into())
                    .or_default()
                    .insert("aws:RequestedRegion".into(), regions.into_iter().collect());
            }
            (g.actions.into_iter().map(str::to_string).collect(), res, condition)
        })
        .collect();
    // Statements ordered by their first action, so a service's statements sit together.
    statements.sort();

    let mut used_sids: BTreeMap<String, usize> = BTreeMap::new();
    let statement = statements
        .into_iter()
        .map(|(action, resource, condition)| {
            let base = sid_for(&action, &resource, catalog);
            let n = used_sids.entry(base.clone()).or_insert(0);
            *n += 1;
            let sid = if *n == 1 { base } else { format!("{base}{n}") };
            Statement { sid, effect: Effect::Allow, action, resource, condition }
        })
        .collect();
    (PolicyDocument { version: POLICY_VERSION.to_string(), statement }, widenings)
}

/// `S3ReadWrite`, `DynamodbRead`, `KmsLambdaWrite`, `AnyResourceRead`: services then access levels.
fn sid_for(actions: &[String], resources: &[String], catalog: &ActionCatalog) -> String {
    let mut prefixes: Vec<&str> = actions.iter().filter_map(|a| a.split_once(':').map(|(p, _)| p)).collect();
    prefixes.dedup();
    let levels: BTreeSet<AccessLevel> =
        actions.iter().filter_map(|a| catalog.action_by_name(a)).map(|a| a.level).collect();
    let mut sid = String::new();
    if resources == ["*"] && prefixes.len() > 3 {
        sid.push_str("AnyResource");
    } else {
        for p in prefixes.iter().take(3) {
            sid.push_str(&pascal(p));
        }
        if prefixes.len() > 3 {
            sid.push_str("More");
        }
    }
    // List/Read/Write/Tagging/Permissions, in that order.
    for level in [
        AccessLevel::List,
        AccessLevel::Read,
        AccessLevel::Write,
        AccessLevel::Tagging,
        AccessLevel::PermissionsManagement,
    ] {
        if levels.contains(&level) {
            sid.push_str(match level {
                AccessLevel::PermissionsManagement => "Permissions",
                other => other.as_str(),
            });
        }
    }
    sid
}

fn pascal(prefix: &str) -> String {
    prefix
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::CallContext;

    fn usage(resources: &[&str]) -> ActionUsage {
        ActionUsage { resources: resources.iter().map(|s| s.to_string()).collect(), calls: 1, ..ActionUsage::default() }
    }

    #[test]
    fn actions_sharing_resources_share_a_statement() {
        let c = ActionCatalog::embedded();
        let mut actions = BTreeMap::new();
        actions.insert("s3:PutObject".to_string(), usage(&["arn:aws:s3:::b/k"]));
        actions.insert("s3:GetObject".to_string(), usage(&["arn:aws:s3:::b/k"]));
        actions.insert("s3:ListBucket".to_string(), usage(&["arn:aws:s3:::b"]));
        actions.insert("ec2:DescribeInstances".to_string(), usage(&["*"]));
        actions.insert("sts:GetSessionToken".to_string(), usage(&["*"]));
        let p = synthesize(&actions, c);
        let got: Vec<(&str, Vec<&str>, Vec<&str>)> = p
            .statement
            .iter()
            .map(|s| {
                (
                    s.sid.as_str(),
                    s.action.iter().map(String::as_str).collect(),
                    s.resource.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("Ec2StsListRead", vec!["ec2:DescribeInstances", "sts:GetSessionToken"], vec!["*"]),
                ("S3ReadWrite", vec!["s3:GetObject", "s3:PutObject"], vec!["arn:aws:s3:::b/k"]),
                ("S3List", vec!["s3:ListBucket"], vec!["arn:aws:s3:::b"]),
            ]
        );
        assert_eq!(p.version, "2012-10-17");
    }

    #[test]
    fn star_absorbs_specific_resources_and_sids_are_unique() {
        let c = ActionCatalog::embedded();
        let mut actions = BTreeMap::new();
        actions.insert("s3:GetObject".to_string(), usage(&["arn:aws:s3:::a/1", "*"]));
        actions.insert("s3:PutObject".to_string(), usage(&["arn:aws:s3:::b/2"]));
        actions.insert("s3:DeleteObject".to_string(), usage(&["arn:aws:s3:::c/3"]));
        let p = synthesize(&actions, c);
        assert_eq!(p.statement.iter().find(|s| s.action == ["s3:GetObject"]).unwrap().resource, ["*"]);
        let sids: BTreeSet<&str> = p.statement.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids.len(), p.statement.len(), "{sids:?}");
        assert!(sids.contains("S3Write") && sids.contains("S3Write2"));
    }

    #[test]
    fn a_role_with_400_actions_splits_into_policies_under_the_limit() {
        let c = ActionCatalog::embedded();
        let names: Vec<String> = c.actions_of("ec2").map(|a| a.name.clone()).take(400).collect();
        assert_eq!(names.len(), 400);
        let mut actions = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            actions.insert(n.clone(), usage(&[&format!("arn:aws:ec2:us-east-1:123456789012:instance/i-{i:08}")]));
        }
        let (p, _) =
            synthesize_with(&actions, c, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() });
        assert!(p.size() > 6_144);
        let parts = split(&p, 6_144);
        assert!(parts.len() > 1);
        assert!(
            parts.iter().all(|d| d.size() <= 6_144),
            "{:?}",
            parts.iter().map(PolicyDocument::size).collect::<Vec<_>>()
        );
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for d in &parts {
            for st in &d.statement {
                for a in &st.action {
                    for r in &st.resource {
                        seen.insert((a.clone(), r.clone()));
                    }
                }
            }
        }
        let want: BTreeSet<(String, String)> =
            actions.iter().flat_map(|(a, u)| u.resources.iter().map(move |r| (a.clone(), r.clone()))).collect();
        assert_eq!(seen, want, "nothing dropped, nothing added");
        // One statement with a huge resource list is cut into parts too.
        let mut big = BTreeMap::new();
        big.insert(
            "s3:GetObject".to_string(),
            usage(
                &(0..400)
                    .map(|i| format!("arn:aws:s3:::bucket-{i}/key"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            ),
        );
        let (p, _) =
            synthesize_with(&big, c, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() });
        let parts = split(&p, 6_144);
        assert!(
            parts.len() > 1 && parts.iter().all(|d| d.size() <= 6_144),
            "{} {:?}",
            p.size(),
            parts.iter().map(PolicyDocument::size).collect::<Vec<_>>()
        );
        assert_eq!(parts.iter().map(|d| d.statement[0].resource.len()).sum::<usize>(), 400);
    }

    fn set(arns: &[String]) -> BTreeSet<String> {
        arns.iter().cloned().collect()
    }

    #[test]
    fn containers_are_buckets_tables_and_log_groups() {
        assert_eq!(container_and_path("arn:aws:s3:::b/a/k.csv"), ("arn:aws:s3:::b/", "a/k.csv"));
        assert_eq!(
            container_and_path("arn:aws:dynamodb:r:1:table/t/index/i"),
            ("arn:aws:dynamodb:r:1:table/t/", "index/i")
        );
        assert_eq!(
            container_and_path("arn:aws:logs:r:1:log-group:/dev/app:log-stream:s/1"),
            ("arn:aws:logs:r:1:log-group:/dev/app:", "log-stream:s/1")
        );
        assert_eq!(container_and_path("arn:aws:lambda:r:1:function:f"), ("arn:aws:lambda:r:1:function:f", ""));
        assert_eq!(
            container_and_path("arn:aws:ssm:r:1:parameter/app/db/url"),
            ("arn:aws:ssm:r:1:parameter/app/", "db/url")
        );
    }

    #[test]
    fn generalization_cases() {
        let opts = SynthOptions::default();
        // Many keys under one prefix collapse to it.
        let keys: Vec<String> =
            (0..50).map(|i| format!("arn:aws:s3:::b/uploads/batch/{:02}/f{i}.csv", i % 28 + 1)).collect();
        let (r, w) = generalize("s3:GetObject", &set(&keys), &opts);
        assert_eq!(r, ["arn:aws:s3:::b/uploads/batch/*"]);
        assert_eq!(w[0].replaced, 50);
        // Dated keys generalize from the date, however few: tomorrow's key is allowed too.
        let dated: Vec<String> = (1..=3).map(|d| format!("arn:aws:s3:::b/uploads/2026/10/{d:02}/report.csv")).collect();
        let (r, w) = generalize("s3:GetObject", &set(&dated), &opts);
        assert_eq!(r, ["arn:aws:s3:::b/uploads/*"]);
        assert!(w[0].reason.starts_with("3 names with a date segment"), "{}", w[0].reason);
        // A log stream named for the day: the group stays, the streams are generalized.
        let streams = set(&["arn:aws:logs:us-east-1:1:log-group:/dev/app:log-stream:2026/10/07/app".to_string()]);
        assert_eq!(
            generalize("logs:CreateLogStream", &streams, &opts).0,
            ["arn:aws:logs:us-east-1:1:log-group:/dev/app:log-stream:*"]
        );
        // One odd name at the top of a bucket never opens the bucket; two dated ones do.
        let one = set(&["arn:aws:s3:::b/2026-10-07.csv".to_string()]);
        assert_eq!(generalize("s3:GetObject", &one, &opts).0, ["arn:aws:s3:::b/2026-10-07.csv"]);
        let two = set(&["arn:aws:s3:::b/2026-10-07.csv".to_string(), "arn:aws:s3:::b/2026-10-08.csv".to_string()]);
        assert_eq!(generalize("s3:GetObject", &two, &opts).0, ["arn:aws:s3:::b/*"]);
        // A varying bucket or function name is never generalized: only paths inside a container.
        let fns = set(&["arn:aws:lambda:us-east-1:1:function:job-20261007".to_string()]);
        assert_eq!(
            generalize("lambda:InvokeFunction", &fns, &opts).0,
            ["arn:aws:lambda:us-east-1:1:function:job-20261007"]
        );
        // --resources exact keeps every name.
        let exact = SynthOptions { resources: ResourceMode::Exact, ..opts };
        assert_eq!(generalize("s3:GetObject", &set(&dated), &exact).0.len(), 3);
        // Keys in two prefixes of one bucket: the common part is the bucket.
        let mut two: Vec<String> = (0..6).map(|i| format!("arn:aws:s3:::b/in/{i}")).collect();
        two.extend((0..6).map(|i| format!("arn:aws:s3:::b/out/{i}")));
        assert_eq!(generalize("s3:GetObject", &set(&two), &opts).0, ["arn:aws:s3:::b/*"]);
        // Two buckets are never merged; each stays exact under the threshold.
        let buckets: Vec<String> =
            (0..8).map(|i| format!("arn:aws:s3:::{}/k{i}", if i % 2 == 0 { "a" } else { "c" })).collect();
        let (r, w) = generalize("s3:GetObject", &set(&buckets), &opts);
        assert_eq!(r.len(), 8);
        assert!(w.is_empty());
        // Cross-region tables are separate containers.
        let tables: Vec<String> = (0..12)
            .map(|i| format!("arn:aws:dynamodb:{}:1:table/t/index/i{i}", if i < 6 { "us-east-1" } else { "eu-west-1" }))
            .collect();
        assert_eq!(generalize("dynamodb:Query", &set(&tables), &opts).0.len(), 12);
        // At most the threshold stays exact; exact mode never widens; service mode is `*`.
        let few: Vec<String> = (0..10).map(|i| format!("arn:aws:s3:::b/k{i}")).collect();
        assert_eq!(generalize("s3:GetObject", &set(&few), &opts).0.len(), 10);
        assert_eq!(
            generalize("s3:GetObject", &set(&keys), &SynthOptions { resources: ResourceMode::Exact, ..opts }).0.len(),
            50
        );
        assert_eq!(
            generalize("s3:GetObject", &set(&keys), &SynthOptions { resources: ResourceMode::Service, ..opts }).0,
            ["*"]
        );
    }

    #[test]
    fn resources_prepared_once_give_the_policy_of_every_threshold_as_read_afresh() {
        let c = ActionCatalog::embedded();
        let mut keys: Vec<String> =
            (0..300).map(|i| format!("arn:aws:s3:::b{}/dir-{}/sub/key-{i:04}.csv", i % 3, i % 7)).collect();
        keys.push("arn:aws:s3:::b0/archive/2026/10/07/r.csv".into());
        keys.push("arn:aws:s3:::b0/".into());
        let streams: Vec<String> = (0..5)
            .map(|i| format!("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:log-stream:2026/10/0{i}/[$LATEST]ab{i}"))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let streams: Vec<&str> = streams.iter().map(String::as_str).collect();
        let actions = BTreeMap::from([
            ("s3:GetObject".to_string(), usage(&keys)),
            ("s3:ListBucket".to_string(), usage(&["arn:aws:s3:::b0", "arn:aws:s3:::b1"])),
            ("logs:PutLogEvents".to_string(), usage(&streams)),
            ("sts:GetCallerIdentity".to_string(), usage(&["*"])),
        ]);
        let prepared = PreparedResources::of(&actions);
        for resources in [ResourceMode::Prefix, ResourceMode::Exact, ResourceMode::Service] {
            for max_arns_per_statement in [1, 2, 5, 20, 100, 1000] {
                let opts = SynthOptions { resources, max_arns_per_statement, ..SynthOptions::default() };
                assert_eq!(
                    synthesize_prepared(&actions, &prepared, c, &opts),
                    synthesize_with(&actions, c, &opts),
                    "{resources:?} {max_arns_per_statement}"
                );
            }
        }
    }

    #[test]
    fn same_usage_gives_identical_bytes() {
        let c = ActionCatalog::embedded();
        let mut a = BTreeMap::new();
        for (i, act) in ["kms:Decrypt", "sqs:SendMessage", "s3:GetObject"].iter().enumerate() {
            a.insert(act.to_string(), usage(&[&format!("arn:aws:x:::{i}")]));
        }
        assert_eq!(synthesize(&a, c).to_pretty_json(), synthesize(&a.clone(), c).to_pretty_json());
    }

    /// (awsRegion, vpcEndpointId, invokedBy, calls).
    type Seen<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, u64);

    fn called(resources: &[&str], contexts: &[Seen]) -> ActionUsage {
        let mut u = usage(resources);
        for (region, vpce, by, n) in contexts {
            let c = CallContext {
                region: region.map(str::to_string),
                vpc_endpoint: vpce.map(str::to_string),
                invoked_by: by.map(str::to_string),
            };
            u.contexts.insert(c, *n);
        }
        u.calls = contexts.iter().map(|c| c.3).sum();
        u
    }

    fn conditions_of<'p>(p: &'p PolicyDocument, action: &str) -> &'p Conditions {
        &p.statement
            .iter()
            .find(|s| s.action.iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("{action} not in {p:?}"))
            .condition
    }

    #[test]
    fn conditions_come_from_how_every_call_was_made() {
        let c = ActionCatalog::embedded();
        let opts = SynthOptions { conditions: true, ..SynthOptions::default() };
        let key = "arn:aws:kms:us-east-1:1:key/k";
        let mut a = BTreeMap::new();
        // Every S3 call through one endpoint, in two regions.
        a.insert(
            "s3:GetObject".to_string(),
            called(
                &["arn:aws:s3:::b/k"],
                &[(Some("us-east-1"), Some("vpce-1"), None, 3), (Some("eu-west-1"), Some("vpce-1"), None, 1)],
            ),
        );
        // Some calls through an endpoint, some not: no endpoint condition.
        a.insert(
            "s3:PutObject".to_string(),
            called(
                &["arn:aws:s3:::b/k"],
                &[(Some("us-east-1"), Some("vpce-1"), None, 3), (Some("us-east-1"), None, None, 1)],
            ),
        );
        // SSE-KMS: every call made by S3 -> kms:ViaService with the region.
        a.insert("kms:Decrypt".to_string(), called(&[key], &[(Some("us-east-1"), None, Some("s3.amazonaws.com"), 5)]));
        // Called by the role itself too: no ViaService.
        a.insert(
            "kms:GenerateDataKey".to_string(),
            called(
                &[key],
                &[(Some("us-east-1"), None, Some("s3.amazonaws.com"), 5), (Some("us-east-1"), None, None, 1)],
            ),
        );
        // Athena reading S3 with the role's credentials -> aws:CalledVia.
        a.insert(
            "s3:ListBucket".to_string(),
            called(&["arn:aws:s3:::lake"], &[(Some("us-east-1"), None, Some("athena.amazonaws.com"), 2)]),
        );
        // A record without awsRegion: no region condition can be proven.
        a.insert("sqs:SendMessage".to_string(), called(&["arn:aws:sqs:us-east-1:1:q"], &[(None, None, None, 1)]));
        let (p, _) = synthesize_with(&a, c, &opts);
        let get = conditions_of(&p, "s3:GetObject");
        assert_eq!(get["StringEquals"]["aws:SourceVpce"], ["vpce-1"]);
        assert_eq!(get["StringEquals"]["aws:RequestedRegion"], ["eu-west-1", "us-east-1"]);
        assert!(!conditions_of(&p, "s3:PutObject")["StringEquals"].contains_key("aws:SourceVpce"));
        assert_eq!(conditions_of(&p, "kms:Decrypt")["StringEquals"]["kms:ViaService"], ["s3.us-east-1.amazonaws.com"]);
        assert!(!conditions_of(&p, "kms:GenerateDataKey")["StringEquals"].contains_key("kms:ViaService"));
        assert_eq!(
            conditions_of(&p, "s3:ListBucket")["ForAnyValue:StringEquals"]["aws:CalledVia"],
            ["athena.amazonaws.com"]
        );
        assert!(conditions_of(&p, "sqs:SendMessage").is_empty());
        // Actions with different conditions never share a statement.
        assert_ne!(
            p.statement.iter().position(|s| s.action.contains(&"s3:GetObject".into())),
            p.statement.iter().position(|s| s.action.contains(&"s3:PutObject".into()))
        );
        // The policy allows every observed call in its own context, and nothing else.
        let usage = crate::usage::Usage { actions: a.clone(), ..Default::default() };
        let check = self_check(&p, &usage);
        assert!(check.refused.is_empty() && check.allowed_calls == check.calls, "{check:?}");
        let set = crate::policy::evaluator::PolicySet::new(vec![crate::policy::model::Policy::parse(
            "p",
            &p.to_pretty_json(),
        )
        .unwrap()]);
        let direct =
            request_context("kms:Decrypt", &CallContext { region: Some("us-east-1".into()), ..CallContext::default() });
        assert!(!set.evaluate_in("kms:Decrypt", key, &direct).decision.may_allow(), "a direct Decrypt is refused");
        let elsewhere = request_context(
            "s3:GetObject",
            &CallContext { region: Some("ap-south-1".into()), vpc_endpoint: Some("vpce-1".into()), invoked_by: None },
        );
        assert!(
            !set.evaluate_in("s3:GetObject", "arn:aws:s3:::b/k", &elsewhere).decision.may_allow(),
            "another region is refused"
        );
        // Evidence: every condition is named, and the ones left out say why.
        let notes = condition_notes(&p, &a);
        assert!(
            notes
                .iter()
                .any(|n| n.key == "aws:SourceVpce" && n.evidence.contains("all 4 calls of s3:GetObject came through")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.sid.is_empty() && n.evidence.contains("s3:PutObject: 3 of 4 calls came through")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.sid.is_empty()
                    && n.evidence.contains("kms:GenerateDataKey: 5 of 6 calls were made by a service")),
            "{notes:?}"
        );
        // Without --conditions, none.
        assert!(synthesize_with(&a, c, &SynthOptions::default()).0.statement.iter().all(|s| s.condition.is_empty()));
    }
}
