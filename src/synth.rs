//! Synthesizes a least-privilege policy from aggregated usage: one statement per set of
//! resources, actions and resources sorted, readable statement IDs. Same usage in, same bytes out.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{AccessLevel, ActionCatalog};
use crate::policy::{Effect, PolicyDocument, Statement, POLICY_VERSION};
use crate::usage::ActionUsage;

/// Builds the policy that allows exactly the actions used, on the resources used.
pub fn synthesize(actions: &BTreeMap<String, ActionUsage>, catalog: &ActionCatalog) -> PolicyDocument {
    // An action used on `*` anywhere needs `*`; listing ARNs beside it would add nothing.
    let mut groups: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    for (name, usage) in actions {
        let resources: Vec<String> = if usage.resources.contains("*") || usage.resources.is_empty() {
            vec!["*".to_string()]
        } else {
            usage.resources.iter().cloned().collect()
        };
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
    PolicyDocument { version: POLICY_VERSION.to_string(), statement }
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
    fn same_usage_gives_identical_bytes() {
        let c = ActionCatalog::embedded();
        let mut a = BTreeMap::new();
        for (i, act) in ["kms:Decrypt", "sqs:SendMessage", "s3:GetObject"].iter().enumerate() {
            a.insert(act.to_string(), usage(&[&format!("arn:aws:x:::{i}")]));
        }
        assert_eq!(synthesize(&a, c).to_pretty_json(), synthesize(&a.clone(), c).to_pretty_json());
    }
}
