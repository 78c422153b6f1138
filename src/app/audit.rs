//! The audit of every principal (`iamtrim audit`): the activity read once and kept apart per
//! principal ([`SplitBy::Principal`](crate::select::SplitBy::Principal)), the current policies
//! of every role and user from one authorization-details document, and for each principal its
//! diff, findings and generated policy ([`crate::output::audit`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::catalog::ActionCatalog;
use crate::output::audit::{
    level_name, Agreement, Audit, AuditSummary, Finding, FindingKind, LastAccessedView, LevelCount, PrincipalAudit,
    ServiceEvidence, UnknownPrincipal, UnloggedUse, UsedAction, AUDIT_SCHEMA, LEVELS,
};
use crate::output::report::time;
use crate::policy::authorization::{AuthDetailsError, AuthorizationDetails, AuthorizedPrincipal};
use crate::policy::evaluator::{glob, PolicySet};
use crate::policy::model::{Actions, Effect, Resources};
use crate::usage::last_accessed::LastAccessed;
use crate::usage::Usage;

use super::generate::{generate, GenerateOptions};

/// Which principals an audit covers, and how their policies are generated.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Only principals whose name or ARN matches one of these (`*` and `?`); all when empty.
    pub include: Vec<String>,
    /// Never principals whose name or ARN matches one of these.
    pub exclude: Vec<String>,
    /// Also service-linked roles (path `/aws-service-role/`), which their service manages.
    pub service_linked: bool,
    /// How generated policies are shaped.
    pub generate: GenerateOptions,
    /// The window read, for the report.
    pub window: String,
    /// Its start, when it has one (else the first record read starts it): IAM's last-accessed
    /// answers are in the window or before it.
    pub window_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the current policies came from (the file, or IAM).
    pub policies_from: String,
}

/// IAM's last-accessed data of the principals, by ARN (as [`AuthorizedPrincipal::arn`]): each
/// its answer, or why there is none.
pub type LastAccessedAnswers = BTreeMap<String, Result<LastAccessed, String>>;

/// Actions that manage permissions or open a privilege escalation path, as patterns: granted
/// and never used, each is a risky finding.
const ESCALATION: &[&str] = &[
    "iam:PassRole",
    "iam:Create*",
    "iam:Attach*",
    "iam:Put*Policy",
    "iam:Update*",
    "iam:AddUserToGroup",
    "iam:SetDefaultPolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "sts:AssumeRole",
    "lambda:UpdateFunctionCode",
    "lambda:CreateFunction",
    "ec2:RunInstances",
    "cloudformation:CreateStack",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
    "ssm:SendCommand",
    "ssm:StartSession",
];

/// Risky unused actions listed one by one per principal; the rest are one more finding.
const MAX_RISKY_LISTED: usize = 25;

/// The principals of `details` an audit with `opts` covers: `--include`/`--exclude` applied,
/// service-linked roles left out unless asked for.
pub fn audited_principals(details: &AuthorizationDetails, opts: &AuditOptions) -> Vec<AuthorizedPrincipal> {
    details
        .principals()
        .into_iter()
        .filter(|p| {
            let matches =
                |patterns: &[String]| patterns.iter().any(|pat| glob(pat, &p.name, true) || glob(pat, &p.arn, true));
            (opts.service_linked || !p.path.starts_with("/aws-service-role/"))
                && (opts.include.is_empty() || matches(&opts.include))
                && !matches(&opts.exclude)
        })
        .collect()
}

/// Audits every principal of `details` (filtered by `opts`) against `usage` (read with
/// `--split-by principal`, its groups keyed by [`crate::select::split::audited_principal`]).
pub fn audit(
    usage: &Usage,
    details: &AuthorizationDetails,
    catalog: &ActionCatalog,
    opts: &AuditOptions,
    last_accessed: &LastAccessedAnswers,
) -> Result<Audit, AuthDetailsError> {
    let complete = usage.gaps.is_empty();
    let groups: BTreeMap<String, std::borrow::Cow<'_, Usage>> =
        usage.split_groups().into_iter().map(|(k, g)| (k.to_ascii_lowercase(), g)).collect();
    let window_from =
        opts.window_from.or_else(|| groups.values().filter_map(|g| g.first_seen).chain(usage.first_seen).min());
    let mut seen = BTreeSet::new();
    let empty = {
        let mut u = Usage::default();
        for g in usage.gaps.values() {
            u.add_gap(g.clone());
        }
        u
    };
    // Each principal's policies are read, and each principal is audited on its own: side by
    // side on every core, in the principals' order.
    use rayon::prelude::*;
    let work: Vec<_> = audited_principals(details, opts)
        .into_par_iter()
        .map(|p| {
            let key = p.audit_key().to_ascii_lowercase();
            let set = match p.kind {
                "role" => details.role_policies(&p.name, Some(&p.account))?,
                _ => details.user_policies(&p.name, Some(&p.account))?,
            };
            Ok((p, key, set))
        })
        .collect::<Vec<_>>()
        .into_iter()
        // The first principal's error in order, whichever thread met it first.
        .collect::<Result<_, _>>()?;
    seen.extend(work.iter().map(|(_, key, _)| key.clone()));
    let principals: Vec<PrincipalAudit> = work
        .par_iter()
        .map(|(p, key, set)| {
            let u = groups.get(key).map_or(&empty, |g| &**g);
            let mut audited = audit_principal(p, u, set, catalog, &opts.generate);
            if let Some(answer) = last_accessed.get(&p.arn) {
                beside_last_accessed(&mut audited, u, set, answer, window_from);
            }
            audited
        })
        .collect();
    let unknown_principals = groups
        .iter()
        .filter(|(k, _)| !seen.contains(*k) && k.as_str() != crate::select::split::NO_PRINCIPAL)
        .map(|(_, g)| UnknownPrincipal {
            arn: g.matched_roles.keys().next().cloned().unwrap_or_default(),
            records: g.counts.records_matched,
        })
        .collect();
    let mut summary = AuditSummary {
        principals: principals.len(),
        with_activity: principals.iter().filter(|p| p.records > 0).count(),
        granted: principals.iter().map(|p| p.granted).sum(),
        unused: principals.iter().map(|p| p.unused).sum(),
        risky_unused: principals.iter().map(|p| p.risky_unused).sum(),
        ..AuditSummary::default()
    };
    summary.unused_percent = percent(summary.unused, summary.granted);
    for k in FindingKind::ALL {
        let n = principals.iter().flat_map(|p| &p.findings).filter(|f| f.kind == k).count();
        summary.findings.insert(k.name().to_string(), n);
    }
    let unsplit_matched = usage.counts.records_matched + groups.values().map(|g| g.counts.records_matched).sum::<u64>();
    let records_read = usage.records_read_with_groups();
    Ok(Audit {
        schema: AUDIT_SCHEMA,
        iamtrim_version: env!("CARGO_PKG_VERSION"),
        window: opts.window.clone(),
        complete,
        gaps: usage.gap_list(),
        records_read,
        records_matched: unsplit_matched,
        summary,
        principals,
        unknown_principals,
        policies_from: opts.policies_from.clone(),
        previous_audit: None,
    })
}

/// Puts IAM's last-accessed answer beside the logs' one: per service how they agree, the use IAM
/// saw in the window that the logs do not hold (an `unlogged-use` finding each), and the risky
/// findings of actions IAM saw used reworded so that none says "never used". The logs' unused
/// actions are left as the logs' answer.
fn beside_last_accessed(
    p: &mut PrincipalAudit,
    usage: &Usage,
    set: &PolicySet,
    answer: &Result<LastAccessed, String>,
    window_from: Option<chrono::DateTime<chrono::Utc>>,
) {
    const SOURCE: &str = "IAM last-accessed data (GenerateServiceLastAccessedDetails, ACTION_LEVEL)";
    let data = match answer {
        Err(e) => {
            p.last_accessed = Some(LastAccessedView {
                source: SOURCE,
                as_of: None,
                error: Some(e.clone()),
                services: Vec::new(),
                unlogged_use: Vec::new(),
            });
            return;
        }
        Ok(d) => d,
    };
    let in_window = |t: chrono::DateTime<chrono::Utc>| window_from.is_none_or(|from| t >= from);
    let logs_last = |prefix: &str| -> Option<chrono::DateTime<chrono::Utc>> {
        usage
            .actions
            .iter()
            .filter(|(a, _)| a.split(':').next().is_some_and(|s| s.eq_ignore_ascii_case(prefix)))
            .fold(None, |t, (_, u)| crate::usage::max_time(t, u.last_seen))
    };
    let logs_used = |action: &str| usage.actions.keys().any(|a| a.eq_ignore_ascii_case(action));
    let mut services = Vec::new();
    let mut unlogged = Vec::new();
    // Unused actions (per the logs) IAM saw used in the window, with when.
    let mut contradicted: BTreeMap<String, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for s in &data.services {
        let logs = logs_last(&s.namespace);
        let agreement = match (logs, s.last_authenticated) {
            (Some(_), Some(_)) => Agreement::BothUsed,
            (None, None) => Agreement::NeitherUsed,
            (None, Some(t)) if in_window(t) => Agreement::OnlyIamInWindow,
            (None, Some(_)) => Agreement::IamBeforeWindow,
            (Some(_), None) => Agreement::OnlyLogs,
        };
        let tracked = s.actions.as_ref().map_or(0, Vec::len);
        match &s.actions {
            Some(actions) => {
                for a in actions {
                    let Some(t) = a.last_accessed.filter(|t| in_window(*t)) else { continue };
                    if logs_used(&a.action) {
                        continue;
                    }
                    let unused = p.unused_actions.iter().filter(|u| u.eq_ignore_ascii_case(&a.action)).count();
                    if unused > 0 {
                        contradicted.insert(a.action.to_ascii_lowercase(), t);
                    }
                    unlogged.push(UnloggedUse {
                        subject: a.action.clone(),
                        iam_last_used: time(Some(t)).unwrap_or_default(),
                        iam_region: a.region.clone(),
                        unused_per_logs: unused,
                    });
                }
            }
            None if agreement == Agreement::OnlyIamInWindow => {
                let t = s.last_authenticated.unwrap_or_default();
                let mut unused = 0;
                for u in &p.unused_actions {
                    if u.split(':').next().is_some_and(|x| x.eq_ignore_ascii_case(&s.namespace)) {
                        contradicted.insert(u.to_ascii_lowercase(), t);
                        unused += 1;
                    }
                }
                unlogged.push(UnloggedUse {
                    subject: format!("{}:*", s.namespace),
                    iam_last_used: time(Some(t)).unwrap_or_default(),
                    iam_region: s.region.clone(),
                    unused_per_logs: unused,
                });
            }
            None => {}
        }
        services.push(ServiceEvidence {
            service: s.namespace.clone(),
            name: s.name.clone(),
            logs_last_used: time(logs),
            iam_last_authenticated: time(s.last_authenticated),
            iam_region: s.region.clone(),
            iam_tracked_actions: tracked,
            agreement,
        });
    }
    // Findings: one per use the logs do not hold; risky findings IAM contradicts say so.
    for u in &unlogged {
        let what = if u.subject.ends_with(":*") {
            format!("authenticated to {}", u.subject.trim_end_matches(":*"))
        } else {
            format!("used {}", u.subject)
        };
        p.findings.push(Finding {
            kind: FindingKind::UnloggedUse,
            principal: p.arn.clone(),
            subject: u.subject.clone(),
            message: format!(
                "IAM's last-accessed data says {} {what} on {}{}, inside the window, but the logs hold no such call: the logs do not see all it does (data events not logged? a trail of other regions?); {} permission(s) the logs call unused may be this use, and a policy generated from the logs does not cover it",
                p.name,
                u.iam_last_used,
                u.iam_region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default(),
                u.unused_per_logs
            ),
        });
    }
    for f in p.findings.iter_mut().filter(|f| f.kind == FindingKind::RiskyUnused) {
        if let Some(t) = contradicted.get(&f.subject.to_ascii_lowercase()) {
            let why = format!(
                "; the logs hold no use of it, but IAM's last-accessed data shows use on {} (see unlogged-use): not unused",
                time(Some(*t)).unwrap_or_default()
            );
            let on_star = set.for_one_action(&f.subject).decide("*", None).is_allow();
            f.message = risky_unused_message(&f.subject, on_star, &p.name, &why);
        }
    }
    p.last_accessed = Some(LastAccessedView {
        source: SOURCE,
        as_of: time(data.job_completed),
        error: None,
        services,
        unlogged_use: unlogged,
    });
}

/// The message of a risky-unused finding: `action`, granted to `name` (on `*` when `on_star`:
/// the policies allow it there), then `why` it is reported (unused in the window, or what IAM's
/// data says).
fn risky_unused_message(action: &str, on_star: bool, name: &str, why: &str) -> String {
    let scope = if on_star { " on *" } else { "" };
    format!("{action} is granted{scope} to {name}{why}")
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// True when a statement allows every action on every resource without condition.
fn full_admin(set: &PolicySet) -> Option<String> {
    for p in &set.identity {
        for st in &p.statements {
            let all_actions = matches!(&st.actions, Actions::Only(a) if a.iter().any(|x| x == "*" || x == "*:*"));
            let all_resources = matches!(&st.resources, Resources::Only(r) if r.iter().any(|x| x == "*"));
            if st.effect == Effect::Allow && all_actions && all_resources && st.conditions.is_empty() {
                return Some(p.name.clone());
            }
        }
    }
    None
}

fn audit_principal(
    p: &AuthorizedPrincipal,
    usage: &Usage,
    set: &PolicySet,
    catalog: &ActionCatalog,
    opts: &GenerateOptions,
) -> PrincipalAudit {
    let records = usage.counts.records_matched;
    // One policy generated, reported and checked against every call by the diff.
    let generated = (records > 0 && !usage.actions.is_empty()).then(|| generate(usage, catalog, opts));
    let diff = match &generated {
        Some(g) => crate::app::diff::diff_generated(&p.arn, usage, set, g, catalog),
        None => {
            let reference = crate::app::diff::reference_policy(usage, catalog);
            crate::app::diff::diff(&p.arn, usage, set, &reference, catalog)
        }
    };
    let generated_policy = generated.map(|g| g.policy);
    let granted_used: BTreeSet<&str> = diff.used_granted.iter().map(|a| a.action.as_str()).collect();
    let unused: Vec<&crate::output::diff::UnusedAction> = diff.unused_granted.iter().collect();
    let granted = granted_used.len() + unused.len();
    let mut levels: Vec<LevelCount> = LEVELS
        .iter()
        .map(|l| LevelCount { access_level: level_name(*l).to_string(), ..LevelCount::default() })
        .collect();
    let at = |l: crate::mapping::catalog::AccessLevel| LEVELS.iter().position(|x| *x == l).unwrap_or(1);
    for a in &granted_used {
        if let Some(l) = catalog.action_by_name(a).map(|x| x.level) {
            let c = &mut levels[at(l)];
            c.granted += 1;
            c.used += 1;
        }
    }
    for a in &unused {
        let c = &mut levels[at(a.access_level)];
        c.granted += 1;
        c.unused += 1;
    }
    let used_services: BTreeSet<&str> = granted_used.iter().filter_map(|a| a.split(':').next()).collect();
    let unused_services: Vec<String> = diff
        .services
        .iter()
        .filter(|s| s.granted > 0 && s.used == 0 && !used_services.contains(s.service.as_str()))
        .map(|s| s.service.clone())
        .collect();
    let mut findings = Vec::new();
    let finding = |kind, subject: &str, message: String| Finding {
        kind,
        principal: p.arn.clone(),
        subject: subject.to_string(),
        message,
    };
    let complete = diff.complete;
    let unused_word = if complete { "never used" } else { "not seen in what could be read" };
    if records == 0 {
        findings.push(finding(
            FindingKind::NoActivity,
            "",
            format!("{} {} made no call in the window ({granted} actions granted): a candidate for deletion, not for trimming", p.kind, p.name),
        ));
    }
    if let Some(policy) = full_admin(set) {
        findings.push(finding(
            FindingKind::FullAdmin,
            "*",
            format!("{} grants every action on every resource (policy {policy})", p.name),
        ));
    }
    // Escalation paths first (they are the ones to remove today), then permissions management.
    let mut risky: Vec<(bool, &str)> = unused
        .iter()
        .filter_map(|a| {
            // Only a pattern of the action's own service can match it (each names its service):
            // the pattern must start with the service and a colon.
            let service = a.action.split(':').next().unwrap_or("");
            let escalation = ESCALATION.iter().any(|pat| {
                pat.as_bytes().get(service.len()) == Some(&b':')
                    && pat.as_bytes()[..service.len()].eq_ignore_ascii_case(service.as_bytes())
                    && glob(pat, &a.action, true)
            });
            let manages = a.access_level == crate::mapping::catalog::AccessLevel::PermissionsManagement;
            (escalation || manages).then_some((!escalation, &*a.action))
        })
        .collect();
    risky.sort();
    let listed: Vec<&str> = risky.iter().take(MAX_RISKY_LISTED).map(|(_, a)| *a).collect();
    for (action, policies) in listed.iter().zip(set.for_actions(&listed)) {
        let on_star = policies.decide("*", None).is_allow();
        findings.push(finding(
            FindingKind::RiskyUnused,
            action,
            risky_unused_message(action, on_star, &p.name, &format!(" and was {unused_word}")),
        ));
    }
    if risky.len() > MAX_RISKY_LISTED {
        let more = risky.len() - MAX_RISKY_LISTED;
        findings.push(finding(
            FindingKind::RiskyUnused,
            "(more)",
            format!("and {more} more permissions-management actions granted to {} and {unused_word} (all in unused_actions)", p.name),
        ));
    }
    if records > 0 && !unused_services.is_empty() {
        let listed: Vec<&str> = unused_services.iter().take(12).map(String::as_str).collect();
        let more = unused_services.len().saturating_sub(listed.len());
        findings.push(finding(
            FindingKind::UnusedService,
            "services",
            format!(
                "{} services granted to {} with no action {}: {}{}",
                unused_services.len(),
                p.name,
                if complete { "used" } else { "seen" },
                listed.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ),
        ));
    }
    if records > 0 && complete && granted > 0 && unused.len() * 2 > granted {
        findings.push(finding(
            FindingKind::MostlyUnused,
            "",
            format!(
                "{} of {granted} actions granted to {} were never used ({:.1}%)",
                unused.len(),
                p.name,
                percent(unused.len(), granted)
            ),
        ));
    }

    for a in &diff.used_not_granted {
        findings.push(finding(
            FindingKind::UsedNotGranted,
            &a.action,
            format!("{} called {} which its policies do not grant", p.name, a.action),
        ));
    }
    let used_actions = usage
        .actions
        .iter()
        .map(|(name, u)| UsedAction {
            action: name.clone(),
            calls: u.calls,
            first_used: time(u.first_seen),
            last_used: time(u.last_seen),
            granted: granted_used.contains(name.as_str()),
        })
        .collect();
    PrincipalAudit {
        arn: p.arn.clone(),
        kind: p.kind.to_string(),
        name: p.name.clone(),
        records,
        first_seen: time(usage.first_seen),
        last_seen: time(usage.last_seen),
        complete,
        policies: diff.current_policies.clone(),
        granted,
        used: granted_used.len(),
        unused: unused.len(),
        unused_percent: percent(unused.len(), granted),
        by_access_level: levels,
        risky_unused: risky.len(),
        risky_unused_actions: risky.iter().map(|(_, a)| a.to_string()).collect(),
        unused_services,
        unused_actions: unused.iter().map(|a| a.action.clone()).collect(),
        used_actions,
        narrowed_resources: diff.narrowed_resources,
        generated_policy,
        findings,
        last_accessed: None,
        trend: Vec::new(),
        changes: None,
    }
}
