//! The AWS managed policies bundled with iamtrim (`action-maps/aws-managed-policies.json`), by
//! ARN or name, for diffs that run offline.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::policy::model::{Policy, PolicyError};

const MANAGED_JSON: &str = include_str!("../../action-maps/aws-managed-policies.json");

/// The AWS managed policies bundled with iamtrim, for offline diffs.
#[derive(Debug)]
pub struct ManagedPolicies {
    by_arn: BTreeMap<String, Value>,
}

impl ManagedPolicies {
    /// The bundled set (parsed on first use).
    pub fn embedded() -> &'static ManagedPolicies {
        static SET: std::sync::OnceLock<ManagedPolicies> = std::sync::OnceLock::new();
        SET.get_or_init(|| {
            let v: Value = serde_json::from_str(MANAGED_JSON).unwrap_or_default();
            let by_arn = v["policies"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v["document"].clone())).collect())
                .unwrap_or_default();
            ManagedPolicies { by_arn }
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
    pub fn get(&self, arn_or_name: &str) -> Option<Result<Policy, PolicyError>> {
        let arn = if arn_or_name.starts_with("arn:") {
            arn_or_name.to_string()
        } else {
            let suffix = format!("/{arn_or_name}");
            self.by_arn.keys().find(|k| k.ends_with(&suffix))?.clone()
        };
        let doc = self.by_arn.get(&arn)?;
        let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
        Some(Policy::from_value(&name, doc))
    }
}
