//! What a role's current policies grant against what it used: used and granted, granted but
//! unused (by service and access level), used but not granted (including refused calls), `*`
//! resources that can be narrowed to the ARNs used, and whether the generated policy would
//! refuse anything the role did (it must not).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use crate::mapping::catalog::{AccessLevel, ActionCatalog};
use crate::output::text::{md_cell, md_code, visible};
use crate::policy::evaluator::{Decision, PolicySet};
use crate::policy::PolicyDocument;
use crate::usage::Usage;

pub use crate::policy::managed::ManagedPolicies;

/// An action with resources.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ActionResources {
    /// `s3:GetObject`.
    pub action: String,
    /// Resources (sorted); shared with the [`Narrowing`] of the same action, not copied.
    pub resources: Arc<[String]>,
    /// Why, where it applies (`refused in CloudTrail`, `not granted`, `granted only under conditions`,
    /// `granted only if what the template leaves unknown until deploy matches`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A granted action that was never used.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnusedAction {
    /// `s3:DeleteBucket` (shared by the diffs of every principal granted it, not copied).
    pub action: Arc<str>,
    /// Service prefix.
    pub service: Arc<str>,
    /// Access level (Write when the catalog does not know the action).
    pub access_level: AccessLevel,
}

/// A used action granted on more than it used.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Narrowing {
    /// The action.
    pub action: String,
    /// What the current policies grant it on.
    pub granted: Vec<String>,
    /// What was used (the same list as the action's [`ActionResources`]).
    pub used: Arc<[String]>,
}

/// A refused call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeniedCall {
    /// The action the call needed (empty when it does not map).
    pub action: String,
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub event_source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// How often.
    pub count: u64,
}

/// Counts for one service.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceSummary {
    /// The service prefix (`s3`, `dynamodb`).
    pub service: String,
    /// Actions the current policies grant.
    pub granted: usize,
    /// Of those, used.
    pub used: usize,
}

/// The diff.
/// Serialized with `unused_granted` renamed `not_seen_in_what_could_be_read` when the read was
/// incomplete, so that no consumer reads "unused" from a read that had gaps.
#[derive(Debug, Clone)]
pub struct PolicyDiff {
    /// The role.
    pub role: String,
    /// False when the read had gaps: then nothing is "unused", only "not seen in what could be read".
    pub complete: bool,
    /// What could not be read.
    pub gaps: Vec<crate::usage::completeness::Gap>,
    /// The policies compared against.
    pub current_policies: Vec<String>,
    /// Used and granted.
    pub used_granted: Vec<ActionResources>,
    /// Granted and never used; Permissions management and Write first, then by service.
    pub unused_granted: Vec<UnusedAction>,
    /// Used (or tried) and not granted.
    pub used_not_granted: Vec<ActionResources>,
    /// Calls refused in CloudTrail.
    pub denied: Vec<DeniedCall>,
    /// `*` and wildcard grants that can be narrowed to the ARNs used.
    pub narrowed_resources: Vec<Narrowing>,
    /// Used actions the generated policy would refuse (must be empty).
    pub generated_policy_denies: Vec<ActionResources>,
    /// Per service: granted and used.
    pub services: Vec<ServiceSummary>,
}

impl Serialize for PolicyDiff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PolicyDiff", 11)?;
        st.serialize_field("role", &self.role)?;
        st.serialize_field("complete", &self.complete)?;
        st.serialize_field("gaps", &self.gaps)?;
        st.serialize_field("current_policies", &self.current_policies)?;
        st.serialize_field("used_granted", &self.used_granted)?;
        if self.complete {
            st.serialize_field("unused_granted", &self.unused_granted)?;
        } else {
            st.serialize_field("not_seen_in_what_could_be_read", &self.unused_granted)?;
        }
        st.serialize_field("used_not_granted", &self.used_not_granted)?;
        st.serialize_field("denied", &self.denied)?;
        st.serialize_field("narrowed_resources", &self.narrowed_resources)?;
        st.serialize_field("generated_policy_denies", &self.generated_policy_denies)?;
        st.serialize_field("services", &self.services)?;
        st.end()
    }
}

/// What a policy set grants, once per distinct set: every principal with the same statements
/// (an audit's roles made from one template, the same managed policies) gets the same answer.
struct GrantedActions {
    /// The actions granted.
    names: BTreeSet<String>,
    /// The same, in the order reports list them: access level, service, action.
    in_report_order: Vec<UnusedAction>,
    /// Actions granted per service prefix.
    per_service: BTreeMap<String, usize>,
}

impl GrantedActions {
    fn compute(set: &PolicySet, catalog: &ActionCatalog) -> GrantedActions {
        let names = set.granted_actions(catalog);
        let mut in_report_order: Vec<UnusedAction> = names
            .iter()
            .map(|a| UnusedAction {
                action: a.as_str().into(),
                service: a.split(':').next().unwrap_or("").into(),
                access_level: catalog.action_by_name(a).map_or(AccessLevel::Write, |x| x.level),
            })
            .collect();
        in_report_order
            .sort_by(|a, b| (a.access_level, &a.service, &a.action).cmp(&(b.access_level, &b.service, &b.action)));
        let mut per_service = BTreeMap::new();
        for a in &in_report_order {
            *per_service.entry(a.service.to_string()).or_default() += 1;
        }
        GrantedActions { names, in_report_order, per_service }
    }

    /// The grants of `set`, from the sets already seen when its statements equal one's (for the
    /// embedded catalog, which lives as long as the process).
    fn of(set: &PolicySet, catalog: &ActionCatalog) -> std::sync::Arc<GrantedActions> {
        use std::sync::{Arc, Mutex, OnceLock};
        const KEPT: usize = 64;
        type Seen = Vec<(PolicySet, Arc<GrantedActions>)>;
        static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
        if !std::ptr::eq(catalog, ActionCatalog::embedded()) {
            return Arc::new(Self::compute(set, catalog));
        }
        let same = |a: &PolicySet, b: &PolicySet| {
            a.identity.len() == b.identity.len()
                && a.identity.iter().zip(&b.identity).all(|(x, y)| x.statements == y.statements)
                && a.boundary.as_ref().map(|p| &p.statements) == b.boundary.as_ref().map(|p| &p.statements)
        };
        let seen = SEEN.get_or_init(Default::default);
        let found =
            seen.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(s, _)| same(s, set)).map(|(_, g)| g.clone());
        if let Some(g) = found {
            return g;
        }
        let computed = Arc::new(Self::compute(set, catalog));
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() < KEPT {
            seen.push((set.clone(), computed.clone()));
        }
        computed
    }
}

impl PolicyDiff {
    /// Compares `current` with what `usage` shows; `generated` is checked against every call.
    pub(crate) fn compute(
        role: &str,
        usage: &Usage,
        current: &PolicySet,
        generated: &PolicyDocument,
        catalog: &ActionCatalog,
    ) -> PolicyDiff {
        Self::compute_checked(role, usage, current, generated, None, catalog)
    }

    /// [`PolicyDiff::compute`], with the self-check of `generated` against `usage` when it was
    /// already made (by the generate use case), so every call is not replayed twice.
    pub(crate) fn compute_checked(
        role: &str,
        usage: &Usage,
        current: &PolicySet,
        generated: &PolicyDocument,
        checked: Option<&crate::synth::SelfCheck>,
        catalog: &ActionCatalog,
    ) -> PolicyDiff {
        let mut used_granted = Vec::new();
        let mut used_not_granted = Vec::new();
        let mut narrowed = Vec::new();

        let names: Vec<&str> = usage.actions.keys().map(String::as_str).collect();
        for ((action, u), current) in usage.actions.iter().zip(current.for_actions(&names)) {
            let mut refused = Vec::new();
            let mut conditional = Vec::new();
            let mut granted_on = BTreeSet::new();
            // Statements on `*` decide every resource alike: evaluated once.
            let once = if current.resource_independent() {
                u.resources.iter().next().map(|r| current.evaluate(&crate::mapping::arn::concrete(r)))
            } else {
                None
            };
            for (i, r) in u.resources.iter().enumerate() {
                let each;
                let e = match &once {
                    Some(e) => e,
                    None => {
                        each = current.evaluate(&crate::mapping::arn::concrete(r));
                        &each
                    }
                };
                match e.decision {
                    Decision::Allow => {}
                    d if d.may_allow() => conditional.push(r.clone()),
                    _ => refused.push(r.clone()),
                }
                if once.is_none() || i == 0 {
                    for m in e.matched.iter().filter(|m| m.effect == crate::policy::model::Effect::Allow) {
                        granted_on.extend(m.resources.iter().cloned());
                    }
                }
            }
            if refused.is_empty() {
                let resources: Arc<[String]> = u.resources.iter().cloned().collect();
                let unknown: Vec<&str> =
                    granted_on.iter().filter(|g| crate::policy::template::has_unknown(g)).map(String::as_str).collect();
                let note = if conditional.is_empty() {
                    String::new()
                } else if !unknown.is_empty() {
                    format!(
                        "granted only if what the template leaves unknown until deploy matches ({}) on {}",
                        unknown.join(", "),
                        conditional.join(", ")
                    )
                } else {
                    format!("granted only under conditions on {}", conditional.join(", "))
                };
                used_granted.push(ActionResources { action: action.clone(), resources: Arc::clone(&resources), note });
                // Granted on wildcards broader than what was used?
                let broader: Vec<String> =
                    granted_on.into_iter().filter(|g| g.contains('*') && !u.resources.contains(g)).collect();
                // An action used only on `*` (no resource-level permissions) has nothing to narrow to.
                if !broader.is_empty() && u.resources.iter().any(|r| r != "*") {
                    narrowed.push(Narrowing { action: action.clone(), granted: broader, used: resources });
                }
            } else {
                used_not_granted.push(ActionResources {
                    action: action.clone(),
                    resources: refused.into(),
                    note: "not granted by the current policies".into(),
                });
            }
        }

        let mut denied = Vec::new();
        for (key, d) in &usage.denied {
            let actions: Vec<&str> = d.detail.split(", ").filter(|a| !a.is_empty()).collect();
            if actions.is_empty() {
                denied.push(DeniedCall {
                    action: String::new(),
                    event_source: key.source.clone(),
                    event_name: key.name.clone(),
                    count: d.count,
                });
            }
            for a in actions {
                denied.push(DeniedCall {
                    action: a.to_string(),
                    event_source: key.source.clone(),
                    event_name: key.name.clone(),
                    count: d.count,
                });
                if !used_not_granted.iter().any(|x| x.action == a) && !usage.actions.contains_key(a) {
                    used_not_granted.push(ActionResources {
                        action: a.to_string(),
                        resources: Arc::from([]),
                        note: format!("refused in CloudTrail ({} {} ×{})", key.source, key.name, d.count),
                    });
                }
            }
        }
        denied.sort();
        used_not_granted.sort();

        let granted = GrantedActions::of(current, catalog);
        let used_names: BTreeSet<&str> = usage.actions.keys().map(String::as_str).collect();
        let mut unused: Vec<UnusedAction> = Vec::with_capacity(granted.in_report_order.len());
        unused.extend(granted.in_report_order.iter().filter(|a| !used_names.contains(&*a.action)).cloned());
        let mut per_service: BTreeMap<String, (usize, usize)> =
            granted.per_service.iter().map(|(s, n)| (s.clone(), (*n, 0))).collect();
        for a in used_names.iter().filter(|a| granted.names.contains(**a)) {
            if let Some(e) = per_service.get_mut(a.split(':').next().unwrap_or("")) {
                e.1 += 1;
            }
        }
        PolicyDiff {
            role: role.to_string(),
            complete: usage.is_complete(),
            gaps: usage.gap_list(),
            current_policies: current
                .identity
                .iter()
                .map(|p| p.name.clone())
                .chain(current.boundary.iter().map(|b| format!("{} (permissions boundary)", b.name)))
                .collect(),
            used_granted,
            unused_granted: unused,
            used_not_granted,
            denied,
            narrowed_resources: narrowed,
            generated_policy_denies: checked
                .cloned()
                .unwrap_or_else(|| crate::synth::self_check(generated, usage))
                .refused
                .into_iter()
                .map(|(action, r)| ActionResources { action, resources: Arc::from([r]), note: String::new() })
                .collect(),
            services: per_service
                .into_iter()
                .map(|(service, (granted, used))| ServiceSummary { service, granted, used })
                .collect(),
        }
    }

    /// "granted, never used", or after an incomplete read "not seen in what could be read (N gaps)".
    pub(crate) fn unused_label(&self) -> String {
        if self.complete {
            "granted, never used".to_string()
        } else {
            format!("granted, not seen in what could be read ({} gaps)", self.gaps.len())
        }
    }

    /// JSON with the keys documented in docs/diff.md.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Markdown that fits a pull-request comment.
    pub(crate) fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### iamtrim: {}\n", md_code(&self.role));
        if !self.complete {
            let _ = writeln!(
                s,
                "> **INCOMPLETE**: {} gaps: not everything could be read, so nothing below is called unused.\n",
                self.gaps.len()
            );
            for g in &self.gaps {
                let _ = writeln!(s, "> - {}", md_code(&g.to_string()));
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "Compared with: {}\n",
            self.current_policies.iter().map(|p| md_code(p)).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(
            s,
            "| | count |\n|---|---:|\n| used and granted | {} |\n| {} | {} |\n| used, not granted | {} |\n| refused calls | {} |\n| resources to narrow | {} |\n",
            self.used_granted.len(),
            self.unused_label(),
            self.unused_granted.len(),
            self.used_not_granted.len(),
            self.denied.len(),
            self.narrowed_resources.len()
        );
        let _ = writeln!(s, "| service | granted | used |\n|---|---:|---:|");
        for svc in &self.services {
            let _ = writeln!(s, "| {} | {} | {} |", md_cell(&svc.service), svc.granted, svc.used);
        }
        s.push('\n');
        if !self.used_not_granted.is_empty() {
            let _ = writeln!(s, "**Used but not granted**\n");
            for a in &self.used_not_granted {
                let _ = writeln!(
                    s,
                    "- {} {}{}",
                    md_code(&a.action),
                    a.resources.iter().map(|r| md_code(r)).collect::<Vec<_>>().join(", "),
                    if a.note.is_empty() { String::new() } else { format!(" — {}", md_code(&a.note)) }
                );
            }
            s.push('\n');
        }
        if !self.unused_granted.is_empty() {
            let title = if self.complete {
                "Granted but never used".to_string()
            } else {
                format!("Granted, not seen in what could be read ({} gaps)", self.gaps.len())
            };
            let _ = writeln!(s, "<details><summary><b>{title}</b> ({})</summary>\n", self.unused_granted.len());
            let mut last: (Option<AccessLevel>, Arc<str>) = (None, Arc::from(""));
            for a in &self.unused_granted {
                if (Some(a.access_level), a.service.clone()) != last {
                    last = (Some(a.access_level), a.service.clone());
                    let _ = writeln!(s, "\n*{}* · {}:", a.access_level, md_code(&a.service));
                }
                let _ = write!(s, " {}", md_code(a.action.split(':').nth(1).unwrap_or(&a.action)));
            }
            let _ = writeln!(s, "\n\n</details>\n");
        }
        if !self.narrowed_resources.is_empty() {
            let _ = writeln!(s, "**Resources to narrow**\n");
            for n in &self.narrowed_resources {
                let shown: Vec<String> = n.used.iter().take(5).map(|r| md_code(r)).collect();
                let more = if n.used.len() > 5 { format!(" and {} more", n.used.len() - 5) } else { String::new() };
                let granted: Vec<String> = n.granted.iter().map(|g| md_code(g)).collect();
                let _ = writeln!(s, "- {}: {} → {}{more}", md_code(&n.action), granted.join(", "), shown.join(", "));
            }
            s.push('\n');
        }
        if !self.denied.is_empty() {
            let _ = writeln!(s, "**Refused in CloudTrail**\n");
            for d in &self.denied {
                let _ = writeln!(
                    s,
                    "- {} ({} {} ×{})",
                    md_code(&d.action),
                    md_code(&d.event_source),
                    md_code(&d.event_name),
                    d.count
                );
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "Generated policy: {}",
            if self.generated_policy_denies.is_empty() {
                "allows every call the role made.".to_string()
            } else {
                format!("**would refuse {} calls**", self.generated_policy_denies.len())
            }
        );
        s
    }

    /// Text for a terminal; ANSI colour when `colour`.
    pub(crate) fn to_terminal(&self, colour: bool) -> String {
        let paint = |code: &str, t: &str| if colour { format!("\u{1b}[{code}m{t}\u{1b}[0m") } else { t.to_string() };
        let mut s = String::new();
        if !self.complete {
            let _ = writeln!(
                s,
                "{} ({} gaps): not everything could be read, so nothing below is called unused",
                paint("1;31", "INCOMPLETE"),
                self.gaps.len()
            );
            for g in &self.gaps {
                let _ = writeln!(s, "  not read: {}", visible(&g.to_string()));
            }
        }
        let _ = writeln!(s, "{} {}", paint("1", "role"), visible(&self.role));
        let _ = writeln!(s, "compared with: {}", visible(&self.current_policies.join(", ")));
        for svc in &self.services {
            let _ = writeln!(s, "  {}: {} granted, {} used", svc.service, svc.granted, svc.used);
        }
        let _ = writeln!(s, "{} ({})", paint("32", "used and granted"), self.used_granted.len());
        for a in &self.used_granted {
            let _ = writeln!(
                s,
                "  {}{}",
                visible(&a.action),
                if a.note.is_empty() { String::new() } else { format!("  ({})", visible(&a.note)) }
            );
        }
        let _ = writeln!(s, "{} ({})", paint("31", "used but not granted"), self.used_not_granted.len());
        for a in &self.used_not_granted {
            let _ = writeln!(s, "  {} {}  ({})", visible(&a.action), visible(&a.resources.join(" ")), visible(&a.note));
        }
        let _ = writeln!(
            s,
            "{} ({})",
            paint("33", &self.unused_label().replacen("granted, ", "granted but ", 1)),
            self.unused_granted.len()
        );
        let mut by_group: BTreeMap<(AccessLevel, Arc<str>), Vec<&str>> = BTreeMap::new();
        for a in &self.unused_granted {
            by_group
                .entry((a.access_level, a.service.clone()))
                .or_default()
                .push(a.action.split(':').nth(1).unwrap_or(""));
        }
        for ((level, service), actions) in by_group {
            let shown: Vec<&str> = actions.iter().take(12).copied().collect();
            let more = if actions.len() > 12 { format!(" … +{}", actions.len() - 12) } else { String::new() };
            let _ = writeln!(s, "  {level} · {service} ({}): {}{more}", actions.len(), shown.join(" "));
        }
        let _ = writeln!(s, "{} ({})", paint("36", "resources to narrow"), self.narrowed_resources.len());
        for n in &self.narrowed_resources {
            let _ =
                writeln!(s, "  {}: {} -> {} ARN(s)", visible(&n.action), visible(&n.granted.join(", ")), n.used.len());
        }
        let _ = writeln!(s, "{} ({})", paint("35", "refused in CloudTrail"), self.denied.len());
        for d in &self.denied {
            let _ = writeln!(
                s,
                "  {} ({} {} ×{})",
                visible(&d.action),
                visible(&d.event_source),
                visible(&d.event_name),
                d.count
            );
        }
        let verdict = if self.generated_policy_denies.is_empty() {
            paint("32", "allows every call the role made")
        } else {
            paint("31", &format!("would refuse {} calls", self.generated_policy_denies.len()))
        };
        let _ = writeln!(s, "generated policy: {verdict}");
        s
    }
}
