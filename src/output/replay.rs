//! The replay of later calls against a policy learned earlier (`iamtrim replay`): how many the
//! policy allows, and each action and resource it would refuse.

use std::fmt::Write as _;

use serde::Serialize;

use crate::output::text::visible;
use crate::synth::SelfCheck;
use crate::usage::completeness::Gap;

/// A refused call: the action and the resource it was called on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RefusedCall {
    /// `s3:PutObject`.
    pub action: String,
    /// The resource ARN (`*` for actions without resources).
    pub resource: String,
}

/// What `iamtrim replay` found.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The role, as given.
    pub role: String,
    /// The window replayed.
    pub window: String,
    /// The policies replayed against (files or managed policy names).
    pub policies: Vec<String>,
    /// True when every log could be read; a refused call may hide in a gap otherwise.
    pub complete: bool,
    /// What could not be read.
    pub gaps: Vec<Gap>,
    /// Calls of the role in the window (mapped records).
    pub calls: u64,
    /// Calls of actions the policies allow on every resource they were called on.
    pub allowed_calls: u64,
    /// `allowed_calls / calls`, from 0 to 1 (1 when there were no calls).
    pub allowed_share: f64,
    /// Distinct action and resource pairs evaluated.
    pub pairs: u64,
    /// The pairs the policies refuse.
    pub refused: Vec<RefusedCall>,
}

impl ReplayReport {
    /// The report of `check` for `role` over `window`.
    pub fn new(role: &str, window: &str, policies: Vec<String>, gaps: Vec<Gap>, check: &SelfCheck) -> ReplayReport {
        ReplayReport {
            role: role.to_string(),
            window: window.to_string(),
            policies,
            complete: gaps.is_empty(),
            gaps,
            calls: check.calls,
            allowed_calls: check.allowed_calls,
            allowed_share: if check.calls == 0 { 1.0 } else { check.allowed_calls as f64 / check.calls as f64 },
            pairs: check.pairs,
            refused: check
                .refused
                .iter()
                .map(|(action, resource)| RefusedCall { action: action.clone(), resource: resource.clone() })
                .collect(),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// For people: the share allowed, then each refused pair.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "replay of {} for {} over {}: {} of {} calls allowed ({:.1}%), {} action/resource pairs",
            self.policies.iter().map(|p| visible(p).into_owned()).collect::<Vec<_>>().join(", "),
            visible(&self.role),
            self.window,
            self.allowed_calls,
            self.calls,
            self.allowed_share * 100.0,
            self.pairs
        );
        if !self.complete {
            let _ = writeln!(s, "INCOMPLETE: {} gaps; calls in them were not replayed", self.gaps.len());
        }
        if self.refused.is_empty() {
            let _ = writeln!(s, "refused: none");
        } else {
            let _ = writeln!(s, "refused ({}):", self.refused.len());
            for r in &self.refused {
                let _ = writeln!(s, "  {} on {}", r.action, visible(&r.resource));
            }
        }
        s
    }
}
