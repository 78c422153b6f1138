//! The AWS managed policies bundled with iamtrim (`action-maps/aws-managed-policies.json`), by
//! ARN or name, for diffs that run offline.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::policy::model::{Policy, PolicyError};

const MANAGED_JSON: &str = include_str!("../../action-maps/aws-managed-policies.json");

/// The AWS managed policies bundled with iamtrim, for offline diffs.
#[derive(Debug)]
pub struct ManagedPolicies {
    /// Each policy's document, raw: read when asked for (an audit asks for a few of 1,645).
    by_arn: BTreeMap<Cow<'static, str>, &'static RawValue>,
    /// The policies read so far, by ARN and partition: an audit asks for the same few for
    /// every principal, and copying one is cheaper than reading its JSON again.
    read: std::sync::Mutex<BTreeMap<ReadKey, Result<Policy, PolicyError>>>,
}

/// A policy read: its ARN in the `aws` partition, and the partition its ARNs were moved to.
type ReadKey = (String, Option<&'static str>);

/// Policies kept read in [`ManagedPolicies`]; past that, each is read when asked for.
const KEPT_READ: usize = 256;

/// `aws-managed-policies.json`, borrowed from the bundled text.
#[derive(Deserialize)]
struct RawSet {
    #[serde(borrow)]
    policies: BTreeMap<Cow<'static, str>, RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(borrow)]
    document: &'static RawValue,
}

impl ManagedPolicies {
    /// The bundled set (parsed on first use).
    pub fn embedded() -> &'static ManagedPolicies {
        static SET: std::sync::OnceLock<ManagedPolicies> = std::sync::OnceLock::new();
        SET.get_or_init(|| {
            // The bundled file is checked by the build's tests; one that does not parse is empty.
            let by_arn = serde_json::from_str::<RawSet>(MANAGED_JSON)
                .map(|set| set.policies.into_iter().map(|(k, e)| (k, e.document)).collect())
                .unwrap_or_default();
            ManagedPolicies { by_arn, read: Default::default() }
        })
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.by_arn.len()
    }

    /// True when none are bundled.
    pub fn is_empty(&self) -> bool {
        self.by_arn.is_empty()
    }

    /// The policy with this ARN (`arn:aws:iam::aws:policy/...`) or name (`AmazonS3FullAccess`).
    ///
    /// The bundled copies are the `aws` partition's; asked for another partition's ARN
    /// (`arn:aws-us-gov:iam::aws:policy/...`), the copy is given with its ARNs moved to that
    /// partition, as AWS publishes them there.
    pub fn get(&self, arn_or_name: &str) -> Option<Result<Policy, PolicyError>> {
        let (arn, partition) = match crate::mapping::arn::Arn::parse(arn_or_name) {
            Some(a) if a.partition != "aws" && crate::mapping::arn::Partition::named(a.partition).is_some() => {
                (format!("arn:aws:{}", &arn_or_name[4 + a.partition.len() + 1..]), Some(a.partition))
            }
            Some(_) => (arn_or_name.to_string(), None),
            None if arn_or_name.starts_with("arn:") => return None,
            None => {
                let suffix = format!("/{arn_or_name}");
                (self.by_arn.keys().find(|k| k.ends_with(&suffix))?.to_string(), None)
            }
        };
        let doc = self.by_arn.get(arn.as_str())?.get();
        let key = (arn, partition.and_then(crate::mapping::arn::Partition::named).map(|p| p.name));
        let kept = self.read.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        if let Some(p) = kept {
            return Some(p);
        }
        let policy = Self::read(&key.0, doc, partition);
        let mut kept = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < KEPT_READ {
            kept.insert(key, policy.clone());
        }
        Some(policy)
    }

    /// Reads the bundled document `doc` of `arn`, with its ARNs moved to `partition` when given.
    fn read(arn: &str, doc: &str, partition: Option<&str>) -> Result<Policy, PolicyError> {
        let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
        let moved;
        let text = match partition {
            None => doc,
            Some(p) => {
                moved = doc.replace("\"arn:aws:", &format!("\"arn:{p}:"));
                &moved
            }
        };
        let doc: Value = serde_json::from_str(text).unwrap_or_default();
        Policy::from_value(&name, &doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aws_managed_policy_is_found_under_every_partitions_arn_with_its_arns_in_that_partition() {
        let set = ManagedPolicies::embedded();
        let commercial = set.get("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap().unwrap();
        let gov = set.get("arn:aws-us-gov:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap().unwrap();
        assert_eq!(commercial.statements.len(), gov.statements.len());
        assert!(set.get("arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess").is_some());
        assert!(set.get("arn:aws-evil:iam::aws:policy/AmazonS3ReadOnlyAccess").is_none());
        assert!(set.get("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
        // A policy whose document names ARNs names them in the partition asked for.
        let (arn, _) = set.by_arn.iter().find(|(_, d)| d.get().contains("\"arn:aws:")).unwrap();
        let gov_arn = arn.replacen("arn:aws:", "arn:aws-us-gov:", 1);
        let text = format!("{:?}", set.get(&gov_arn).unwrap().unwrap());
        assert!(!text.contains("arn:aws:") && text.contains("arn:aws-us-gov:"), "{text}");
        // Asked again (now from the policies kept read), each partition gets its own copy.
        let commercial_text = format!("{:?}", set.get(arn).unwrap().unwrap());
        assert!(commercial_text.contains("arn:aws:") && !commercial_text.contains("arn:aws-us-gov:"));
        assert_eq!(format!("{:?}", set.get(&gov_arn).unwrap().unwrap()), text);
        assert_eq!(set.get("AmazonS3ReadOnlyAccess").unwrap().unwrap(), commercial);
    }
}
