//! The policies of the roles an infrastructure template declares, read where they are written:
//! CloudFormation and SAM templates (YAML with the short-form tags, or JSON), CDK's synthesized
//! templates, and Terraform plans (`terraform show -json`). Each statement keeps its file and
//! line. Values a template leaves to deploy time (a generated name, a parameter not given, an
//! import) become a placeholder `${unknown:WHAT}`: the evaluator treats any such policy variable
//! as conditional, so an unknown resource never reads as `*` (a grant on it is never proven, nor
//! counted as covering another). Prints nothing.

pub mod cfn;
pub mod node;
pub mod terraform;

use std::collections::BTreeMap;

use crate::policy::model::Policy;

/// What kind of file a template is, as its content says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateKind {
    /// A CloudFormation template.
    CloudFormation,
    /// A SAM template (`Transform: AWS::Serverless-2016-10-31`).
    Sam,
    /// A CDK-synthesized CloudFormation template (`aws:cdk:path` metadata).
    Cdk,
    /// `terraform show -json PLAN`.
    TerraformPlan,
}

impl TemplateKind {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            TemplateKind::CloudFormation => "CloudFormation",
            TemplateKind::Sam => "SAM",
            TemplateKind::Cdk => "CDK",
            TemplateKind::TerraformPlan => "Terraform plan",
        }
    }
}

/// Where a policy of a template role comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum PolicyOrigin {
    /// Written in the role (or the function) itself.
    Inline,
    /// A managed policy by ARN, from the bundled AWS managed policies.
    Managed(String),
    /// A policy resource of the template attached to the role (its logical ID or address).
    Attached(String),
    /// A SAM policy template, expanded.
    SamTemplate(String),
    /// The role's permissions boundary.
    Boundary(String),
}

/// One policy of a template role, with where each statement is written.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePolicy {
    /// Its name in reports (`PolicyName (inline)`, `AmazonS3ReadOnlyAccess`).
    pub name: String,
    /// Where it comes from.
    pub origin: PolicyOrigin,
    /// The line it is written on (for a managed policy: where it is attached).
    pub line: usize,
    /// The parsed policy (placeholders for what the template leaves unknown).
    pub policy: Policy,
    /// The line of each statement of `policy`, in order.
    pub statement_lines: Vec<usize>,
}

/// A role a template declares.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRole {
    /// Its logical ID (CloudFormation) or address (Terraform).
    pub id: String,
    /// Its name, when the template fixes it (fully known).
    pub name: Option<String>,
    /// The line it is declared on.
    pub line: usize,
    /// Its policies, the boundary apart.
    pub policies: Vec<TemplatePolicy>,
    /// Its permissions boundary.
    pub boundary: Option<TemplatePolicy>,
    /// Values left unknown in its policies (`Bucket.Arn: a generated name`), by placeholder.
    pub unknowns: BTreeMap<String, String>,
    /// What of its policies could not be read at all (a customer managed policy by ARN, a
    /// statement built by a condition): its grants are not all known.
    pub unreadable: Vec<String>,
}

impl TemplateRole {
    /// The policies as the evaluator takes them.
    pub fn policy_set(&self) -> crate::policy::evaluator::PolicySet {
        crate::policy::evaluator::PolicySet {
            identity: self.policies.iter().map(|p| p.policy.clone()).collect(),
            boundary: self.boundary.as_ref().map(|b| b.policy.clone()),
        }
    }
}

/// A template read.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The file.
    pub file: String,
    /// What it is.
    pub kind: TemplateKind,
    /// Its roles (for SAM, a function without its own `Role` has the role SAM generates,
    /// `<Function>Role`).
    pub roles: Vec<TemplateRole>,
}

/// Values a template leaves to deploy time that the reader may be told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployContext {
    /// `AWS::AccountId`.
    pub account: Option<String>,
    /// `AWS::Region`.
    pub region: Option<String>,
    /// `AWS::Partition` (default: the region's, else unknown).
    pub partition: Option<String>,
    /// `AWS::StackName`.
    pub stack_name: Option<String>,
    /// Template parameters (`--parameter Name=Value`); a parameter not given is unknown, even
    /// with a `Default` (the deploy may override it).
    pub parameters: BTreeMap<String, String>,
}

/// A file that is not a template iamtrim reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Not YAML or JSON.
    #[error("{file}: {source}")]
    Parse {
        /// The file.
        file: String,
        /// Where and what.
        source: node::ParseError,
    },
    /// YAML or JSON, but none of the kinds.
    #[error("{file}: not a CloudFormation, SAM or CDK template (no Resources) nor a Terraform plan (no planned_values): give a template, `terraform show -json PLAN` output, or a cdk.out/*.template.json")]
    Unknown {
        /// The file.
        file: String,
    },
    /// A template of a known kind with a part that cannot be read.
    #[error("{file}: line {line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// What.
        message: String,
    },
}

/// A placeholder for a value the template leaves unknown: a policy variable the evaluator never
/// matches as a plain grant. `what` is kept readable (`Bucket.Arn`).
pub fn unknown(what: &str) -> String {
    let clean: String =
        what.chars().map(|c| if c.is_ascii_alphanumeric() || "._:-/".contains(c) { c } else { '_' }).take(80).collect();
    format!("${{unknown:{clean}}}")
}

/// True when IAM role `role_name` may be the name CloudFormation generated for the role of
/// logical ID `logical_id` (`STACK-LogicalId-SUFFIX`).
pub fn generated_name_fits(role_name: &str, logical_id: &str) -> bool {
    role_name.contains(&format!("-{logical_id}-"))
}

/// True when `s` holds a placeholder.
pub fn has_unknown(s: &str) -> bool {
    s.contains("${unknown:")
}

/// Reads `text` (the file `file`) as whichever kind its content is.
pub fn read(file: &str, text: &str, ctx: &DeployContext) -> Result<Template, TemplateError> {
    let root = node::parse(text).map_err(|source| TemplateError::Parse { file: file.to_string(), source })?;
    if root.get("planned_values").is_some() || root.get("resource_changes").is_some() {
        return terraform::read(file, &root);
    }
    if root.get("Resources").is_some() {
        return cfn::read(file, &root, ctx);
    }
    Err(TemplateError::Unknown { file: file.to_string() })
}
