//! The IAM policy document iamtrim writes. (Reading and evaluating arbitrary policies belongs
//! to the diff stage and lives beside it.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The policy language version every generated policy uses.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Maximum size of a managed policy, in characters not counting white space.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, overriding any grant.
    Deny,
}

/// One statement of a generated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement ID: letters and digits.
    pub sid: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// Actions, sorted.
    pub action: Vec<String>,
    /// Resource ARNs, sorted, or `["*"]`.
    pub resource: Vec<String>,
    /// Conditions: operator -> condition key -> values (all must hold); empty unless
    /// `--conditions` added some.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: Conditions,
}

/// A statement's `Condition` element: operator -> condition key -> values, sorted.
pub type Conditions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub version: String,
    /// Statements.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// The document as IAM counts its size: characters of its JSON, white space excluded.
    pub fn size(&self) -> usize {
        let compact = serde_json::to_string(self).unwrap_or_default();
        compact.chars().filter(|c| !c.is_whitespace()).count()
    }

    /// Pretty JSON with a trailing newline; byte-identical for equal documents.
    pub fn to_pretty_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Number of distinct actions.
    pub fn action_count(&self) -> usize {
        self.statement.iter().map(|s| s.action.len()).sum()
    }
}
