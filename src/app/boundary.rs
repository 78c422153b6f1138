//! A permissions boundary for a team (`iamtrim boundary`): what a set of principals used, with
//! resources at the container level (the partition, accounts and regions seen; S3 buckets), so
//! that the roles the team creates stay within it. Checked against every call of every principal.

use std::collections::BTreeSet;

use crate::mapping::catalog::ActionCatalog;
use crate::policy::evaluator::{glob, PolicySet};
use crate::policy::PolicyDocument;
use crate::synth::{ResourceMode, SelfCheck, SynthOptions};
use crate::usage::Usage;

/// The boundary and what it was made from.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// The boundary policy.
    pub policy: PolicyDocument,
    /// The principals it covers (ARN without path) and their records.
    pub principals: Vec<(String, u64)>,
    /// Accounts and regions seen in the ARNs it grants.
    pub accounts: BTreeSet<String>,
    /// Regions seen.
    pub regions: BTreeSet<String>,
    /// The boundary evaluated on every call of every principal: `refused` must be empty.
    pub self_check: SelfCheck,
}

/// `arn:aws:dynamodb:us-east-1:1:table/t` -> `arn:aws:dynamodb:us-east-1:1:*`; S3 objects ->
/// `arn:aws:s3:::bucket/*`, buckets kept; `*` kept.
pub fn container(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return arn.to_string();
    }
    if parts[2] == "s3" && parts[3].is_empty() && parts[4].is_empty() {
        return match parts[5].split_once('/') {
            Some((bucket, _)) => format!("arn:{}:s3:::{bucket}/*", parts[1]),
            None => arn.to_string(),
        };
    }
    format!("arn:{}:{}:{}:{}:*", parts[1], parts[2], parts[3], parts[4])
}

/// The boundary of the groups of `all` (a usage read with `--split-by principal`) whose ARN or
/// name matches one of `patterns` (`*`, `?`). `None` when no principal matched.
pub fn boundary(all: &Usage, patterns: &[String], catalog: &ActionCatalog) -> Option<Boundary> {
    let mut picked = Usage::default();
    let mut principals = Vec::new();
    for (key, group) in all.split_groups() {
        let name = key.rsplit('/').next().unwrap_or(&key);
        if patterns.iter().any(|p| glob(p, &key, true) || glob(p, name, true)) {
            principals.push((key, group.counts.records_matched));
            picked = picked.merge(group.into_owned());
        }
    }
    if principals.is_empty() {
        return None;
    }
    let mut actions = picked.actions.clone();
    let (mut accounts, mut regions) = (BTreeSet::new(), BTreeSet::new());
    for u in actions.values_mut() {
        let wide: BTreeSet<String> = u.resources.iter().map(|r| container(r)).collect();
        for r in &wide {
            let parts: Vec<&str> = r.splitn(6, ':').collect();
            if parts.len() == 6 {
                if !parts[3].is_empty() && parts[3] != "*" {
                    regions.insert(parts[3].to_string());
                }
                if !parts[4].is_empty() && parts[4] != "*" {
                    accounts.insert(parts[4].to_string());
                }
            }
        }
        u.resources = wide;
    }
    let opts = SynthOptions { resources: ResourceMode::Exact, ..SynthOptions::default() };
    let (policy, _) = crate::synth::synthesize_with(&actions, catalog, &opts);
    let self_check = crate::synth::replay(&PolicySet::new(vec![crate::policy::model::Policy::from(&policy)]), &picked);
    Some(Boundary { policy, principals, accounts, regions, self_check })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_cut_to_their_container() {
        for (arn, c) in [
            ("arn:aws:dynamodb:us-east-1:111122223333:table/orders", "arn:aws:dynamodb:us-east-1:111122223333:*"),
            ("arn:aws:s3:::bucket/key/deep", "arn:aws:s3:::bucket/*"),
            ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket"),
            ("arn:aws-us-gov:iam::111122223333:role/app", "arn:aws-us-gov:iam::111122223333:*"),
            ("arn:aws:logs:eu-west-1:111122223333:log-group:/a:log-stream:x", "arn:aws:logs:eu-west-1:111122223333:*"),
            ("*", "*"),
        ] {
            assert_eq!(container(arn), c, "{arn}");
        }
    }
}
