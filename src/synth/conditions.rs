//! `--conditions`: the request context of each observed call, the conditions every call of a
//! statement supports (region, VPC endpoint, calling service), and the evidence for each.

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::catalog::ActionCatalog;
use crate::policy::evaluator::RequestContext;
use crate::policy::PolicyDocument;
use crate::usage::{ActionUsage, CallContext};

/// Services that set `aws:CalledVia` when they call another service with the principal's
/// credentials (IAM User Guide, global condition keys, `aws:CalledVia`).
pub const CALLED_VIA_SERVICES: &[&str] =
    &["athena.amazonaws.com", "cloudformation.amazonaws.com", "dynamodb.amazonaws.com", "kms.amazonaws.com"];

/// `kms:ViaService`'s value for a call made by `invoked_by` (`s3.amazonaws.com`) in `region`:
/// `s3.us-east-1.amazonaws.com`.
pub(super) fn via_service_value(invoked_by: &str, region: &str) -> String {
    let svc = invoked_by.strip_suffix(".amazonaws.com").unwrap_or(invoked_by);
    format!("{svc}.{region}.amazonaws.com")
}

/// The condition keys a call of `action` made in `cc` carried, as far as CloudTrail tells:
/// the requested region, the VPC endpoint, and for calls a service made with the role's
/// credentials `aws:ViaAWSService`, `aws:CalledVia` and (KMS) `kms:ViaService`.
pub fn request_context(action: &str, cc: &CallContext) -> RequestContext {
    let mut ctx = RequestContext::new();
    if let Some(r) = &cc.region {
        ctx = ctx.with("aws:RequestedRegion", &[r]);
    }
    if let Some(v) = &cc.vpc_endpoint {
        ctx = ctx.with("aws:SourceVpce", &[v]);
    }
    match &cc.invoked_by {
        Some(svc) => {
            ctx = ctx.with("aws:ViaAWSService", &["true"]);
            if CALLED_VIA_SERVICES.contains(&svc.as_str()) {
                ctx = ctx.with("aws:CalledVia", &[svc]);
            }
            if let (true, Some(r)) = (action.starts_with("kms:"), &cc.region) {
                ctx = ctx.with("kms:ViaService", &[&via_service_value(svc, r)]);
            }
        }
        None => ctx = ctx.with("aws:ViaAWSService", &["false"]),
    }
    ctx
}

/// The conditions one action can carry, from how every one of its calls was made; the
/// requested regions are kept apart because a statement takes their union.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ActionConditions {
    /// (operator, key) -> values, for `aws:SourceVpce`, `kms:ViaService`, `aws:CalledVia`.
    pub(super) fixed: BTreeMap<(String, String), BTreeSet<String>>,
}

pub(super) fn action_conditions(
    action: &str,
    usage: &ActionUsage,
    catalog: &ActionCatalog,
) -> (ActionConditions, Option<BTreeSet<String>>) {
    let mut out = ActionConditions::default();
    let contexts: Vec<&CallContext> = usage.contexts.keys().collect();
    let regions: Option<BTreeSet<String>> =
        if contexts.is_empty() { None } else { contexts.iter().map(|c| c.region.clone()).collect() };
    if contexts.is_empty() {
        return (out, None);
    }
    // One VPC endpoint for every call.
    let vpces: BTreeSet<Option<&String>> = contexts.iter().map(|c| c.vpc_endpoint.as_ref()).collect();
    if let [Some(v)] = vpces.iter().collect::<Vec<_>>()[..] {
        out.fixed.insert(("StringEquals".into(), "aws:SourceVpce".into()), BTreeSet::from([v.to_string()]));
    }
    // Every call made by a service on the role's behalf.
    if contexts.iter().all(|c| c.invoked_by.is_some()) {
        let supports_via =
            catalog.action_by_name(action).is_some_and(|a| a.conditions.iter().any(|k| k == "kms:ViaService"));
        if supports_via && contexts.iter().all(|c| c.region.is_some()) {
            let values = contexts
                .iter()
                .map(|c| via_service_value(c.invoked_by.as_deref().unwrap_or(""), c.region.as_deref().unwrap_or("")))
                .collect();
            out.fixed.insert(("StringEquals".into(), "kms:ViaService".into()), values);
        } else if contexts.iter().all(|c| c.invoked_by.as_deref().is_some_and(|s| CALLED_VIA_SERVICES.contains(&s))) {
            let values = contexts.iter().filter_map(|c| c.invoked_by.clone()).collect();
            out.fixed.insert(("ForAnyValue:StringEquals".into(), "aws:CalledVia".into()), values);
        }
    }
    (out, regions)
}

/// A condition `--conditions` added (or left out), with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConditionNote {
    /// The statement it is on; empty for a condition left out.
    pub sid: String,
    /// The condition key.
    pub key: String,
    /// Its values (empty for a condition left out).
    pub values: Vec<String>,
    /// The calls that justify it, or why it was left out.
    pub evidence: String,
}

/// What each condition of `policy` rests on, and the conditions left out because the calls
/// did not all agree.
pub fn condition_notes(policy: &PolicyDocument, actions: &BTreeMap<String, ActionUsage>) -> Vec<ConditionNote> {
    let mut notes = Vec::new();
    for st in &policy.statement {
        let calls: u64 = st.action.iter().filter_map(|a| actions.get(a)).map(|u| u.calls).sum();
        let n = st.action.len();
        let what = if n == 1 {
            format!("all {calls} calls of {}", st.action[0])
        } else {
            format!("all {calls} calls of its {n} actions")
        };
        for keys in st.condition.values() {
            for (key, values) in keys {
                let evidence = match key.as_str() {
                    "aws:RequestedRegion" => format!("{what} were made in {} (awsRegion)", values.join(", ")),
                    "aws:SourceVpce" => format!("{what} came through this VPC endpoint (vpcEndpointId)"),
                    _ => {
                        let by: BTreeSet<&str> = st
                            .action
                            .iter()
                            .filter_map(|a| actions.get(a))
                            .flat_map(|u| u.contexts.keys().filter_map(|c| c.invoked_by.as_deref()))
                            .collect();
                        format!(
                            "{what} were made by {} with the role's credentials (userIdentity.invokedBy)",
                            by.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    }
                };
                notes.push(ConditionNote { sid: st.sid.clone(), key: key.clone(), values: values.clone(), evidence });
            }
        }
    }
    for (action, u) in actions {
        let count =
            |f: &dyn Fn(&CallContext) -> bool| u.contexts.iter().filter(|(c, _)| f(c)).map(|(_, n)| n).sum::<u64>();
        let total = count(&|_| true);
        let through = count(&|c| c.vpc_endpoint.is_some());
        if through > 0 && through < total {
            let why = format!(
                "not added for {action}: {through} of {total} calls came through a VPC endpoint, the others did not"
            );
            notes.push(ConditionNote {
                sid: String::new(),
                key: "aws:SourceVpce".into(),
                values: Vec::new(),
                evidence: why,
            });
        }
        let via = count(&|c| c.invoked_by.is_some());
        if via > 0 && via < total {
            let why = format!("not added for {action}: {via} of {total} calls were made by a service on the role's behalf, the others by the role itself");
            notes.push(ConditionNote {
                sid: String::new(),
                key: "kms:ViaService/aws:CalledVia".into(),
                values: Vec::new(),
                evidence: why,
            });
        }
    }
    notes
}
