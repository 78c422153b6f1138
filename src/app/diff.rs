//! The diff use case: a role's current policies (files, AWS managed policies by name or ARN, or
//! IAM) against what its usage shows, with the generated policy checked against every call.
//! Prints nothing.

use std::path::Path;

use crate::mapping::catalog::ActionCatalog;
use crate::output::diff::PolicyDiff;
use crate::policy::evaluator::PolicySet;
use crate::policy::managed::ManagedPolicies;
use crate::policy::model::{Policy, PolicyError};
use crate::policy::PolicyDocument;
use crate::synth;
use crate::usage::Usage;

/// A `--current` or `--boundary` value that gives no policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a valid policy (the error names the statement and field).
    #[error(transparent)]
    Invalid(#[from] PolicyError),
    /// Neither a file nor a managed policy iamtrim knows.
    #[error("`{0}` is neither a policy file nor an AWS managed policy iamtrim knows")]
    Unknown(String),
    /// A template that cannot be read.
    #[error(transparent)]
    Template(#[from] crate::policy::template::TemplateError),
    /// A template none of whose roles is the principal.
    #[error("{file}: {message}")]
    NoTemplateRole {
        /// The template.
        file: String,
        /// Which roles it has and how to choose one.
        message: String,
    },
}

/// The policies `--current` names: policy files (JSON), AWS managed policies by ARN or name,
/// and infrastructure templates (CloudFormation, SAM, CDK, a Terraform plan: the kind read
/// from the content), of which the principal's role is taken. With the notes to show: what of a
/// template's policies is unknown or unreadable.
pub fn load_current(
    values: &[String],
    principal: &str,
    template_role: Option<&str>,
    ctx: &crate::policy::template::DeployContext,
) -> Result<CurrentPolicies, PolicyLoadError> {
    let mut identity = Vec::new();
    let mut boundary = None;
    let mut notes = Vec::new();
    for value in values {
        let path = Path::new(value);
        let text = if path.is_file() {
            std::fs::read_to_string(path).map_err(|source| PolicyLoadError::Read { path: value.to_string(), source })?
        } else {
            identity.push(load_policy(value)?);
            continue;
        };
        // A policy document, else a template.
        let looks_like_policy =
            serde_json::from_str::<serde_json::Value>(&text).ok().is_some_and(|v| v.get("Statement").is_some());
        if looks_like_policy {
            identity.push(Policy::parse(value, &text)?);
            continue;
        }
        let template = crate::policy::template::read(value, &text, ctx)?;
        let role = pick_template_role(&template, principal, template_role)?;
        notes.push(format!(
            "{}: the policies of {} role {} (line {}): {}",
            value,
            template.kind.name(),
            role.id,
            role.line,
            role.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
        for (placeholder, why) in &role.unknowns {
            notes.push(format!(
                "{value}: {placeholder} is unknown ({why}): a grant on it is never counted as covering a call"
            ));
        }
        for u in &role.unreadable {
            notes.push(format!("UNREADABLE {u}"));
        }
        identity.extend(role.policies.iter().map(|p| p.policy.clone()));
        if let Some(b) = &role.boundary {
            boundary = Some(b.policy.clone());
        }
    }
    Ok(CurrentPolicies { identity, boundary, notes })
}

/// What `--current` gave: the identity policies, the boundary a template gives the role, and
/// the notes to show (a line starting `UNREADABLE ` is a warning: those grants are unknown).
#[derive(Debug, Clone)]
pub struct CurrentPolicies {
    /// Identity policies.
    pub identity: Vec<Policy>,
    /// The role's boundary, from a template.
    pub boundary: Option<Policy>,
    /// What to tell the user.
    pub notes: Vec<String>,
}

/// The role of `template` that is `principal` (a role name or ARN): `template_role` (its
/// logical ID or address) when given; else the role whose name is the principal's; else the role
/// whose logical ID CloudFormation put in the principal's generated name (`STACK-ID-SUFFIX`).
pub fn pick_template_role<'t>(
    template: &'t crate::policy::template::Template,
    principal: &str,
    template_role: Option<&str>,
) -> Result<&'t crate::policy::template::TemplateRole, PolicyLoadError> {
    let ids = || template.roles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ");
    let none = |message: String| PolicyLoadError::NoTemplateRole { file: template.file.clone(), message };
    if let Some(want) = template_role {
        return template
            .roles
            .iter()
            .find(|r| r.id == want)
            .ok_or_else(|| none(format!("no role `{want}` (its roles: {})", ids())));
    }
    let name = principal.rsplit('/').next().unwrap_or(principal);
    if let Some(r) = template.roles.iter().find(|r| r.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))) {
        return Ok(r);
    }
    let generated: Vec<&crate::policy::template::TemplateRole> = template
        .roles
        .iter()
        .filter(|r| r.name.is_none() && crate::policy::template::generated_name_fits(name, &r.id))
        .collect();
    match generated.as_slice() {
        [one] => Ok(one),
        _ => Err(none(format!(
            "no role of the template is `{name}` by its name or its generated name (its roles: {}): choose one with --template-role ID",
            ids()
        ))),
    }
}

/// One policy named on the command line: a policy file (JSON), or an AWS managed policy by ARN
/// or name (from the bundled copies).
pub fn load_policy(value: &str) -> Result<Policy, PolicyLoadError> {
    let path = Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyLoadError::Read { path: value.to_string(), source })?;
        return Ok(Policy::parse(value, &text)?);
    }
    match ManagedPolicies::embedded().get(value) {
        Some(p) => Ok(p?),
        None => Err(PolicyLoadError::Unknown(value.to_string())),
    }
}

/// The policy the diff checks every call against: the one `generate` writes with its defaults.
pub fn reference_policy(usage: &Usage, catalog: &ActionCatalog) -> PolicyDocument {
    synth::synthesize_with(&usage.actions, catalog, &synth::SynthOptions::default()).0
}

/// Compares `current` with what `usage` shows for `role`, every call checked against
/// `generated` (from [`reference_policy`]). The diff says whether everything was read
/// (`complete`, `gaps`, set by [`PolicyDiff::compute`]): "unused" holds only for a complete read.
pub fn diff(
    role: &str,
    usage: &Usage,
    current: &PolicySet,
    generated: &PolicyDocument,
    catalog: &ActionCatalog,
) -> PolicyDiff {
    PolicyDiff::compute(role, usage, current, generated, catalog)
}

/// [`diff()`] against the policy [`crate::app::generate()`] made, with its self-check: the calls
/// are not replayed a second time.
pub fn diff_generated(
    role: &str,
    usage: &Usage,
    current: &PolicySet,
    generated: &crate::app::Generated,
    catalog: &ActionCatalog,
) -> PolicyDiff {
    PolicyDiff::compute_checked(role, usage, current, &generated.policy, Some(&generated.self_check), catalog)
}
