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
