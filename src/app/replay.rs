//! The replay use case: calls read from logs evaluated against a policy learned earlier, to
//! measure whether it keeps working. Prints nothing.

use crate::output::replay::ReplayReport;
use crate::policy::evaluator::PolicySet;
use crate::usage::Usage;

/// Evaluates every call in `usage` (the role's, in `window`) against `policies`.
pub fn replay(role: &str, window: &str, usage: &Usage, policies: &PolicySet, names: Vec<String>) -> ReplayReport {
    let check = crate::synth::replay(policies, usage);
    ReplayReport::new(role, window, names, usage.gap_list(), &check)
}
