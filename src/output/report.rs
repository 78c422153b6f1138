//! The run report: a JSON document for machines (`--report FILE`) and a summary for people
//! (stderr). Both come from the same [`RunReport`].

use serde::Serialize;

use crate::ingest::source::Rejection;
use crate::mapping::catalog::{AccessLevel, ActionCatalog};
use crate::policy::{PolicyDocument, MANAGED_POLICY_LIMIT};
use crate::usage::{Counts, EventKey, Usage};

/// One rejected record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The file (or S3 object, LookupEvents page, query) the record came from.
    pub file: String,
    /// `Records[3]`, `line 4`, `file`, ...
    pub location: String,
    /// Why it could not be used.
    pub reason: String,
}

impl std::fmt::Display for RejectedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.location == "file" {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.location, self.reason)
        }
    }
}

impl From<&Rejection> for RejectedRecord {
    fn from(r: &Rejection) -> Self {
        RejectedRecord { file: r.file.clone(), location: r.location.to_string(), reason: r.reason.to_string() }
    }
}

/// A pair with a count and a note.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PairCount {
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub event_source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// Records of this call.
    pub count: u64,
    /// Denied: the actions the call needed. Unmapped / no permission: why.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Per-action evidence.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActionDetail {
    /// `s3:GetObject`.
    pub action: String,
    /// IAM access level (every mapped action is in the catalog; written `""` were one not).
    #[serde(serialize_with = "level_or_empty")]
    pub access_level: Option<AccessLevel>,
    /// Calls that needed it.
    pub calls: u64,
    /// Calls whose resource could not be determined (a wildcard ARN was used).
    pub unresolved_calls: u64,
    /// The resource ARNs it was called on (a name written `${*}` was a literal `*`).
    pub resources: Vec<String>,
    /// The events that needed it.
    pub events: Vec<PairCount>,
    /// First seen (RFC 3339).
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// For permissions CloudTrail does not log (iam:PassRole): why they are needed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implied_by: Vec<String>,
}

/// Size of the generated policy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicySize {
    /// Statements in the generated policy.
    pub statements: usize,
    /// Characters, white space excluded.
    pub characters: usize,
    /// The managed policy limit.
    pub managed_policy_limit: usize,
    /// True when it fits.
    pub fits_managed_policy: bool,
}

/// Records matched per principal ARN.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalCount {
    /// Role, user or federated user ARN.
    pub arn: String,
    /// Records matched.
    pub records: u64,
}

/// Everything a run found, reconciled.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The principal asked for, as given (the field keeps its first name, `role`, for scripts).
    pub role: String,
    /// What kind of principal: `role`, `user`, `federated user`, `permission set`.
    pub principal_kind: String,
    /// The principals whose records matched (role, user or federated user ARNs) and how many
    /// records each: a permission set's roles in each account, a user's federated users.
    pub matched_principals: Vec<PrincipalCount>,
    /// The window asked for, or `all`.
    pub window: String,
    /// False when anything could not be read: the policy then covers only what was read, and
    /// nothing may be called unused.
    pub complete: bool,
    /// What could not be read.
    pub gaps: Vec<crate::usage::completeness::Gap>,
    /// First matched event.
    pub first_event: Option<String>,
    /// Last matched event.
    pub last_event: Option<String>,
    /// Files and records, reconciled: read = rejected + filtered + matched, matched = mapped +
    /// denied + not evidence + unmapped + needing no permission.
    #[serde(flatten)]
    pub counts: Counts,
    /// Records left out by role, window or event type (the sum of `filtered`).
    pub records_filtered: u64,
    /// The first 1,000 rejected records (in file and position order), with file, location and reason.
    pub rejected: Vec<RejectedRecord>,
    /// Rejected records beyond those listed in `rejected` (counted, not listed).
    pub rejected_not_listed: u64,
    /// Denied calls (not granted).
    pub denied: Vec<PairCount>,
    /// Calls that did not map to catalog actions.
    pub unmapped: Vec<PairCount>,
    /// Calls that need no permission.
    pub no_permission: Vec<PairCount>,
    /// Permissions calls needed on a resource the event does not name (an instance profile's
    /// role): not granted; grant them by hand once resolved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed_unresolved: Vec<PairCount>,
    /// Failed calls not counted as evidence, by error code and event.
    pub not_evidence: Vec<NotEvidence>,
    /// Actions in the policy, sorted.
    pub actions: Vec<String>,
    /// Evidence per action.
    pub action_details: Vec<ActionDetail>,
    /// Size of the policy.
    pub policy: PolicySize,
    /// Resources generalized, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<crate::synth::Widening>,
    /// Conditions added by `--conditions` (and left out), with their evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<crate::synth::ConditionNote>,
    /// Dependent actions the IAM catalog lists for used actions that are neither in the policy
    /// nor implied by evidence in the events: needed only for some forms of the call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependent_not_added: Vec<DependentNotAdded>,
    /// The generated policy evaluated against every observed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_check: Option<crate::synth::SelfCheck>,
    /// Counters of a remote source (requests, pages, objects, bytes, seconds), when one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_stats: Option<crate::output::source_stats::SourceStats>,
}

/// Failed calls with one error code that prove no permission.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotEvidence {
    /// `errorCode`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub event_source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// Records of this call that failed with this code.
    pub count: u64,
}

/// A used action's catalog dependents that the policy does not carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependentNotAdded {
    /// The used action.
    pub action: String,
    /// Its dependent actions not in the policy.
    pub dependents: Vec<String>,
}

/// Dependent actions the catalog lists for the used actions, less those the policy has (used, or
/// implied by the events: iam:PassRole on a passed role, tagging when the call carried tags).
/// Tagging and iam:PassRole dependents are needed only when the call tags or passes a role, and
/// the events show it did not; the others depend on options the events do not show, so they are
/// listed for a reviewer rather than granted.
pub(crate) fn dependents_not_added(usage: &Usage, catalog: &ActionCatalog) -> Vec<DependentNotAdded> {
    usage
        .actions
        .keys()
        .filter_map(|a| {
            let deps: Vec<String> = catalog
                .action_by_name(a)?
                .dependent
                .iter()
                .filter(|d| {
                    !usage.actions.contains_key(*d)
                        && *d != "iam:PassRole"
                        && !crate::mapping::mapper::is_tagging_action(d)
                })
                .cloned()
                .collect();
            (!deps.is_empty()).then(|| DependentNotAdded { action: a.clone(), dependents: deps })
        })
        .collect()
}

fn pairs(map: &std::collections::BTreeMap<EventKey, crate::usage::ReasonedCount>) -> Vec<PairCount> {
    map.iter()
        .map(|(k, v)| PairCount {
            event_source: k.source.clone(),
            event_name: k.name.clone(),
            count: v.count,
            detail: v.detail.clone(),
        })
        .collect()
}

/// A time as reports write it (RFC 3339, seconds, `Z`).
pub(crate) fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl RunReport {
    /// Builds the report of a run.
    pub fn new(role: &str, window: &str, usage: &Usage, policy: &PolicyDocument, catalog: &ActionCatalog) -> RunReport {
        let size = policy.size();
        RunReport {
            role: role.to_string(),
            principal_kind: "role".to_string(),
            matched_principals: usage
                .matched_roles
                .iter()
                .map(|(arn, n)| PrincipalCount { arn: arn.clone(), records: *n })
                .collect(),
            window: window.to_string(),
            complete: usage.is_complete(),
            gaps: usage.gap_list(),
            first_event: time(usage.first_seen),
            last_event: time(usage.last_seen),
            counts: usage.counts.clone(),
            records_filtered: usage.filtered.total(),
            rejected: usage.rejections.iter().map(RejectedRecord::from).collect(),
            rejected_not_listed: usage.rejections_not_listed,
            denied: pairs(&usage.denied),
            unmapped: pairs(&usage.unmapped),
            no_permission: pairs(&usage.no_permission),
            needed_unresolved: pairs(&usage.needed_unresolved),
            not_evidence: usage
                .not_evidence
                .iter()
                .map(|(k, n)| NotEvidence {
                    error_code: k.code.clone(),
                    event_source: k.source.clone(),
                    event_name: k.name.clone(),
                    count: *n,
                })
                .collect(),
            actions: usage.actions.keys().cloned().collect(),
            action_details: usage
                .actions
                .iter()
                .map(|(name, u)| ActionDetail {
                    action: name.clone(),
                    access_level: catalog.action_by_name(name).map(|a| a.level),
                    calls: u.calls,
                    unresolved_calls: u.unresolved,
                    resources: u.resources.iter().cloned().collect(),
                    events: u
                        .events
                        .iter()
                        .map(|(k, n)| PairCount {
                            event_source: k.source.clone(),
                            event_name: k.name.clone(),
                            count: *n,
                            detail: String::new(),
                        })
                        .collect(),
                    first_seen: time(u.first_seen),
                    last_seen: time(u.last_seen),
                    implied_by: u.implied_by.iter().cloned().collect(),
                })
                .collect(),
            policy: PolicySize {
                statements: policy.statement.len(),
                characters: size,
                managed_policy_limit: MANAGED_POLICY_LIMIT,
                fits_managed_policy: size <= MANAGED_POLICY_LIMIT,
            },
            widened: Vec::new(),
            conditions: Vec::new(),
            dependent_not_added: dependents_not_added(usage, catalog),
            self_check: None,
            source_stats: None,
        }
    }
}

fn level_or_empty<S: serde::Serializer>(level: &Option<AccessLevel>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(level.map_or("", AccessLevel::as_str))
}
