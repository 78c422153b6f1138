//! Synthesizes a least-privilege policy from aggregated usage: one statement per set of
//! resources, actions and resources sorted, readable statement IDs. Same usage in, same bytes out.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{AccessLevel, ActionCatalog};
use crate::policy::{Effect, PolicyDocument, Statement, POLICY_VERSION};
use crate::usage::ActionUsage;

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
    /// Generalization.
    pub resources: ResourceMode,
    /// With [`ResourceMode::Prefix`], more ARNs than this in one container are collapsed.
    pub max_arns_per_statement: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { resources: ResourceMode::Prefix, max_arns_per_statement: 10 }
    }
}

/// A generalization made, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Widening {
    /// The action.
    pub action: String,
    /// How many ARNs were replaced.
    pub replaced: usize,
    /// The pattern that replaced them.
    pub pattern: String,
    /// Why.
    pub reason: String,
}

/// Splits an ARN into the container that must never be widened across (partition, service,
/// region, account and the resource's first name: bucket, table, log group, function...) and
/// the path below it that may be.
pub fn container_and_path(arn: &str) -> (&str, &str) {
    let Some(resource_start) = arn.match_indices(':').nth(4).map(|(i, _)| i + 1) else { return (arn, "") };
    let resource = &arn[resource_start..];
    // S3 buckets and objects: `bucket/key`.
    let cut = if arn.starts_with("arn:") && arn.split(':').nth(2) == Some("s3") && !resource.contains(':') {
        resource.find('/').map(|i| i + 1)
    } else {
        // `type/name/rest` or `type:name:rest`: keep type and name.
        let sep_at = resource.find(['/', ':']);
        sep_at.and_then(|i| {
            let sep = resource.as_bytes()[i] as char;
            let after = &resource[i + 1..];
            // A name that starts with the separator (log groups `/a/b`) runs to the next other separator.
            let other = if sep == ':' { ':' } else { '/' };
            let skip = usize::from(after.starts_with('/') && sep == ':');
            after[skip..].find(other).map(|j| i + 1 + skip + j + 1)
        })
    };
    match cut {
        Some(c) => arn.split_at(resource_start + c),
        None => (arn, ""),
    }
}

/// Collapses the ARNs of one action per [`SynthOptions`]; returns the resources and widenings.
pub fn generalize(action: &str, resources: &BTreeSet<String>, opts: &SynthOptions) -> (Vec<String>, Vec<Widening>) {
    if resources.contains("*") || resources.is_empty() {
        return (vec!["*".to_string()], Vec::new());
    }
    match opts.resources {
        ResourceMode::Exact => (resources.iter().cloned().collect(), Vec::new()),
        ResourceMode::Service => (
            vec!["*".to_string()],
            vec![Widening { action: action.to_string(), replaced: resources.len(), pattern: "*".into(), reason: "--resources service".into() }],
        ),
        ResourceMode::Prefix => {
            let mut by_container: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for r in resources {
                let (c, p) = container_and_path(r);
                by_container.entry(c).or_default().push(p);
            }
            let mut out = BTreeSet::new();
            let mut widened = Vec::new();
            for (container, paths) in by_container {
                if paths.len() <= opts.max_arns_per_statement || paths.iter().any(|p| p.is_empty()) {
                    out.extend(paths.iter().map(|p| format!("{container}{p}")));
                    continue;
                }
                let mut common = paths[0];
                for p in &paths[1..] {
                    let n = common.bytes().zip(p.bytes()).take_while(|(a, b)| a == b).count();
                    common = &common[..n];
                }
                // Back to a path boundary, so `uploads/2026/10/0` reads `uploads/2026/10/`.
                let keep = common.rfind(['/', ':']).map_or(0, |i| i + 1);
                let pattern = format!("{container}{}*", &common[..keep]);
                widened.push(Widening {
                    action: action.to_string(),
                    replaced: paths.len(),
                    pattern: pattern.clone(),
                    reason: format!("{} ARNs under one container, more than --max-arns-per-statement {}", paths.len(), opts.max_arns_per_statement),
                });
                out.insert(pattern);
            }
            (out.into_iter().collect(), widened)
        }
    }
}

/// Builds the policy that allows exactly the actions used, on the resources used.
pub fn synthesize(actions: &BTreeMap<String, ActionUsage>, catalog: &ActionCatalog) -> PolicyDocument {
    synthesize_with(actions, catalog, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() }).0
}

/// Builds the policy with generalization per `opts`; returns it and what was widened.
pub fn synthesize_with(actions: &BTreeMap<String, ActionUsage>, catalog: &ActionCatalog, opts: &SynthOptions) -> (PolicyDocument, Vec<Widening>) {
    // An action used on `*` anywhere needs `*`; listing ARNs beside it would add nothing.
    let mut groups: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    let mut widenings = Vec::new();
    for (name, usage) in actions {
        let (resources, w) = generalize(name, &usage.resources, opts);
        widenings.extend(w);
        groups.entry(resources).or_default().insert(name.as_str());
    }
    let mut statements: Vec<(Vec<String>, Vec<String>)> =
        groups.into_iter().map(|(res, acts)| (acts.into_iter().map(str::to_string).collect(), res)).collect();
    // Statements ordered by their first action, so a service's statements sit together.
    statements.sort();

    let mut used_sids: BTreeMap<String, usize> = BTreeMap::new();
    let statement = statements
        .into_iter()
        .map(|(action, resource)| {
            let base = sid_for(&action, &resource, catalog);
            let n = used_sids.entry(base.clone()).or_insert(0);
            *n += 1;
            let sid = if *n == 1 { base } else { format!("{base}{n}") };
            Statement { sid, effect: Effect::Allow, action, resource }
        })
        .collect();
    (PolicyDocument { version: POLICY_VERSION.to_string(), statement }, widenings)
}

/// Splits `policy` into managed policies of at most `limit` characters each (white space not
/// counted), keeping statements whole where they fit and cutting a statement's resources
/// into parts where one statement alone is too large. No action or resource is dropped.
pub fn split(policy: &PolicyDocument, limit: usize) -> Vec<PolicyDocument> {
    let empty = PolicyDocument { version: policy.version.clone(), statement: Vec::new() };
    let size_with = |doc: &PolicyDocument, st: &Statement| {
        let mut d = doc.clone();
        d.statement.push(st.clone());
        d.size()
    };
    // Statements too large on their own are cut by resources (then by actions).
    let mut pieces: Vec<Statement> = Vec::new();
    for st in &policy.statement {
        if size_with(&empty, st) <= limit {
            pieces.push(st.clone());
            continue;
        }
        let mut n = 1;
        // Measured with the Sid it will carry.
        let mut part = Statement { sid: format!("{}Part{n}", st.sid), effect: st.effect, action: st.action.clone(), resource: Vec::new() };
        for r in &st.resource {
            let mut trial = part.clone();
            trial.resource.push(r.clone());
            if !part.resource.is_empty() && size_with(&empty, &trial) > limit {
                pieces.push(part.clone());
                n += 1;
                part.sid = format!("{}Part{n}", st.sid);
                part.resource.clear();
            }
            part.resource.push(r.clone());
        }
        part.sid = if n == 1 { st.sid.clone() } else { format!("{}Part{n}", st.sid) };
        pieces.push(part);
    }
    let mut out: Vec<PolicyDocument> = Vec::new();
    for st in pieces {
        match out.last_mut() {
            Some(doc) if size_with(doc, &st) <= limit => doc.statement.push(st),
            _ => {
                let mut d = empty.clone();
                d.statement.push(st);
                out.push(d);
            }
        }
    }
    out
}

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

/// Evaluates `policy` (with the IAM evaluator) on every action and resource in `usage`.
pub fn self_check(policy: &PolicyDocument, usage: &crate::usage::Usage) -> SelfCheck {
    let set = crate::evaluator::PolicySet::new(crate::model::Policy::parse("generated", &policy.to_pretty_json()).into_iter().collect());
    let mut check = SelfCheck { calls: 0, allowed_calls: 0, pairs: 0, refused: Vec::new() };
    for (action, u) in &usage.actions {
        check.calls += u.calls;
        let mut all = true;
        for r in &u.resources {
            check.pairs += 1;
            if !set.evaluate(action, r).decision.is_allow() {
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

/// `S3ReadWrite`, `DynamodbRead`, `KmsLambdaWrite`, `AnyResourceRead`: services then access levels.
fn sid_for(actions: &[String], resources: &[String], catalog: &ActionCatalog) -> String {
    let mut prefixes: Vec<&str> = actions.iter().filter_map(|a| a.split_once(':').map(|(p, _)| p)).collect();
    prefixes.dedup();
    let levels: BTreeSet<AccessLevel> = actions.iter().filter_map(|a| catalog.action_by_name(a)).map(|a| a.level).collect();
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
    for level in [AccessLevel::List, AccessLevel::Read, AccessLevel::Write, AccessLevel::Tagging, AccessLevel::PermissionsManagement] {
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
            .map(|s| (s.sid.as_str(), s.action.iter().map(String::as_str).collect(), s.resource.iter().map(String::as_str).collect()))
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
        let (p, _) = synthesize_with(&actions, c, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() });
        assert!(p.size() > 6_144);
        let parts = split(&p, 6_144);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|d| d.size() <= 6_144), "{:?}", parts.iter().map(PolicyDocument::size).collect::<Vec<_>>());
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
        let want: BTreeSet<(String, String)> = actions.iter().flat_map(|(a, u)| u.resources.iter().map(move |r| (a.clone(), r.clone()))).collect();
        assert_eq!(seen, want, "nothing dropped, nothing added");
        // One statement with a huge resource list is cut into parts too.
        let mut big = BTreeMap::new();
        big.insert("s3:GetObject".to_string(), usage(&(0..400).map(|i| format!("arn:aws:s3:::bucket-{i}/key")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()));
        let (p, _) = synthesize_with(&big, c, &SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() });
        let parts = split(&p, 6_144);
        assert!(parts.len() > 1 && parts.iter().all(|d| d.size() <= 6_144), "{} {:?}", p.size(), parts.iter().map(PolicyDocument::size).collect::<Vec<_>>());
        assert_eq!(parts.iter().map(|d| d.statement[0].resource.len()).sum::<usize>(), 400);
    }

    fn set(arns: &[String]) -> BTreeSet<String> {
        arns.iter().cloned().collect()
    }

    #[test]
    fn containers_are_buckets_tables_and_log_groups() {
        assert_eq!(container_and_path("arn:aws:s3:::b/a/k.csv"), ("arn:aws:s3:::b/", "a/k.csv"));
        assert_eq!(container_and_path("arn:aws:dynamodb:r:1:table/t/index/i"), ("arn:aws:dynamodb:r:1:table/t/", "index/i"));
        assert_eq!(container_and_path("arn:aws:logs:r:1:log-group:/dev/app:log-stream:s/1"), ("arn:aws:logs:r:1:log-group:/dev/app:", "log-stream:s/1"));
        assert_eq!(container_and_path("arn:aws:lambda:r:1:function:f"), ("arn:aws:lambda:r:1:function:f", ""));
        assert_eq!(container_and_path("arn:aws:ssm:r:1:parameter/app/db/url"), ("arn:aws:ssm:r:1:parameter/app/", "db/url"));
    }

    #[test]
    fn generalization_cases() {
        let opts = SynthOptions::default();
        // Many keys under one prefix collapse to it.
        let keys: Vec<String> = (0..50).map(|i| format!("arn:aws:s3:::b/uploads/2026/10/{:02}/f{i}.csv", i % 28 + 1)).collect();
        let (r, w) = generalize("s3:GetObject", &set(&keys), &opts);
        assert_eq!(r, ["arn:aws:s3:::b/uploads/2026/10/*"]);
        assert_eq!(w[0].replaced, 50);
        // Keys in two prefixes of one bucket: the common part is the bucket.
        let mut two: Vec<String> = (0..6).map(|i| format!("arn:aws:s3:::b/in/{i}")).collect();
        two.extend((0..6).map(|i| format!("arn:aws:s3:::b/out/{i}")));
        assert_eq!(generalize("s3:GetObject", &set(&two), &opts).0, ["arn:aws:s3:::b/*"]);
        // Two buckets are never merged; each stays exact under the threshold.
        let buckets: Vec<String> = (0..8).map(|i| format!("arn:aws:s3:::{}/k{i}", if i % 2 == 0 { "a" } else { "c" })).collect();
        let (r, w) = generalize("s3:GetObject", &set(&buckets), &opts);
        assert_eq!(r.len(), 8);
        assert!(w.is_empty());
        // Cross-region tables are separate containers.
        let tables: Vec<String> = (0..12).map(|i| format!("arn:aws:dynamodb:{}:1:table/t/index/i{i}", if i < 6 { "us-east-1" } else { "eu-west-1" })).collect();
        assert_eq!(generalize("dynamodb:Query", &set(&tables), &opts).0.len(), 12);
        // At most the threshold stays exact; exact mode never widens; service mode is `*`.
        let few: Vec<String> = (0..10).map(|i| format!("arn:aws:s3:::b/k{i}")).collect();
        assert_eq!(generalize("s3:GetObject", &set(&few), &opts).0.len(), 10);
        assert_eq!(generalize("s3:GetObject", &set(&keys), &SynthOptions { resources: ResourceMode::Exact, ..opts }).0.len(), 50);
        assert_eq!(generalize("s3:GetObject", &set(&keys), &SynthOptions { resources: ResourceMode::Service, ..opts }).0, ["*"]);
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
}
