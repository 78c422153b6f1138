//! The run report for people: the summary on stderr (INCOMPLETE first and last when something
//! could not be read, every count reconciled, log-derived text shown literally) and `--explain`.

use std::fmt::Write as _;

use super::report::{ActionDetail, RunReport};
use crate::mapping::catalog::AccessLevel;
use crate::output::text::visible;
use crate::policy::PolicyDocument;

impl RunReport {
    /// `--explain`: for each statement of `policy`, the events that justify each action.
    pub fn explain(&self, policy: &PolicyDocument) -> String {
        let mut s = String::new();
        for st in &policy.statement {
            let _ = writeln!(
                s,
                "statement {} ({} resources: {})",
                st.sid,
                st.resource.len(),
                visible(&st.resource.join(", "))
            );
            for a in &st.action {
                let Some(d) = self.action_details.iter().find(|d| &d.action == a) else { continue };
                let events: Vec<String> = d
                    .events
                    .iter()
                    .map(|e| format!("{} {} ×{}", visible(&e.event_source), visible(&e.event_name), e.count))
                    .collect();
                let _ = writeln!(
                    s,
                    "  {a} [{}]: {}; first {}, last {}",
                    d.access_level.map_or("", AccessLevel::as_str),
                    events.join(", "),
                    d.first_seen.as_deref().unwrap_or("?"),
                    d.last_seen.as_deref().unwrap_or("?")
                );
                for why in &d.implied_by {
                    let _ = writeln!(s, "    implied: {}", visible(why));
                }
                if d.resources.len() != st.resource.len() || d.resources != st.resource {
                    let _ = writeln!(
                        s,
                        "    used on {} resource(s): {}",
                        d.resources.len(),
                        visible(&d.resources.iter().take(5).cloned().collect::<Vec<_>>().join(", "))
                    );
                }
            }
        }
        s
    }

    /// `iamtrim: ` or, when something could not be read, `iamtrim: INCOMPLETE (N gaps): `.
    pub(crate) fn headline(&self) -> String {
        if self.complete {
            "iamtrim: ".to_string()
        } else {
            format!("iamtrim: INCOMPLETE ({} gap{}): ", self.gaps.len(), if self.gaps.len() == 1 { "" } else { "s" })
        }
    }

    /// The human summary for stderr. At most `max_listed` rejections are listed one by one.
    pub fn summary(&self, max_listed: usize) -> String {
        let mut s = String::new();
        let _ =
            writeln!(s, "{}{} {} · window {}", self.headline(), self.principal_kind, visible(&self.role), self.window);
        if self.principal_kind != "role" || self.matched_principals.len() > 1 {
            let accounts: std::collections::BTreeSet<&str> = self
                .matched_principals
                .iter()
                .filter_map(|p| crate::mapping::arn::Arn::parse(&p.arn).map(|a| a.account))
                .collect();
            let listed: Vec<String> = self
                .matched_principals
                .iter()
                .take(10)
                .map(|p| format!("{} ({})", visible(&p.arn), p.records))
                .collect();
            let more = self.matched_principals.len().saturating_sub(10);
            let _ = writeln!(
                s,
                "  matched: {}{} · account{} {}",
                listed.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
                if accounts.len() == 1 { "" } else { "s" },
                accounts.iter().map(|a| visible(a).into_owned()).collect::<Vec<_>>().join(", ")
            );
        }
        let _ = write!(
            s,
            "  files: {} read, {} skipped by date, {} not logs",
            self.counts.files_read, self.counts.files_skipped_by_date, self.counts.files_ignored
        );
        if self.counts.files_not_regular > 0 {
            let _ = write!(
                s,
                ", {} skipped as not regular files or reached twice through links",
                self.counts.files_not_regular
            );
        }
        s.push('\n');
        let _ = writeln!(
            s,
            "  records: {} read = {} rejected + {} filtered (other principals {}, outside window {}, not API calls {}) + {} matched",
            self.counts.records_read,
            self.counts.records_rejected,
            self.records_filtered,
            self.counts.filtered.other_principal,
            self.counts.filtered.outside_window,
            self.counts.filtered.not_api_call,
            self.counts.records_matched
        );
        let _ = writeln!(
            s,
            "  matched: {} = {} mapped + {} denied + {} not evidence + {} unmapped + {} needing no permission",
            self.counts.records_matched,
            self.counts.records_mapped,
            self.counts.records_denied,
            self.counts.records_not_evidence,
            self.counts.records_unmapped,
            self.counts.records_no_permission
        );
        if let (Some(a), Some(b)) = (&self.first_event, &self.last_event) {
            let _ = writeln!(s, "  events from {a} to {b}");
        }
        let _ = writeln!(
            s,
            "  policy: {} actions in {} statements, {} characters (managed policy limit {})",
            self.actions.len(),
            self.policy.statements,
            self.policy.characters,
            self.policy.managed_policy_limit
        );
        if !self.policy.fits_managed_policy {
            let _ = writeln!(
                s,
                "warning: the policy is {} characters, over the {}-character limit of a managed policy; split it or widen resources",
                self.policy.characters, self.policy.managed_policy_limit
            );
        }
        let implied: Vec<&ActionDetail> = self.action_details.iter().filter(|a| !a.implied_by.is_empty()).collect();
        if !implied.is_empty() {
            let _ = writeln!(
                s,
                "  permissions with a reason beyond the call (implied, or used by a service on the role's behalf):"
            );
            for a in implied {
                for why in &a.implied_by {
                    let _ = writeln!(s, "    {} on {}: {}", a.action, visible(&a.resources.join(", ")), visible(why));
                }
            }
        }
        if !self.dependent_not_added.is_empty() {
            let _ = writeln!(s, "  dependent actions the IAM catalog lists, not added (needed only for some forms of these calls; review):");
            for d in &self.dependent_not_added {
                let _ = writeln!(s, "    {} -> {}", d.action, d.dependents.join(", "));
            }
        }
        let unresolved: Vec<&ActionDetail> = self.action_details.iter().filter(|a| a.unresolved_calls > 0).collect();
        if !unresolved.is_empty() {
            let _ = writeln!(s, "  resources not determinable from the events (ARN template with * used):");
            for a in unresolved {
                let _ = writeln!(s, "    {} ({} of {} calls)", a.action, a.unresolved_calls, a.calls);
            }
        }
        for (title, list) in [
            ("denied (not granted)", &self.denied),
            ("unmapped (not granted)", &self.unmapped),
            ("need no permission", &self.no_permission),
            ("needed, not granted: the event does not name the resource", &self.needed_unresolved),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "  {title}:");
            for p in list {
                let detail = if p.detail.is_empty() { String::new() } else { format!(" — {}", p.detail) };
                let _ = writeln!(
                    s,
                    "    {} {} ×{}{}",
                    visible(&p.event_source),
                    visible(&p.event_name),
                    p.count,
                    visible(&detail)
                );
            }
        }
        if !self.not_evidence.is_empty() {
            let _ = writeln!(s, "  not counted as evidence (failed before authorization, or an error not known to come after it; --count-error CODE to count one):");
            for n in &self.not_evidence {
                let _ = writeln!(
                    s,
                    "    {} ×{} ({} {})",
                    visible(&n.error_code),
                    n.count,
                    visible(&n.event_source),
                    visible(&n.event_name)
                );
            }
        }
        if !self.gaps.is_empty() {
            let n = self.gaps.len();
            let _ = writeln!(
                s,
                "  not read ({n} gap{}; what they held is in neither the policy nor any \"unused\" list):",
                if n == 1 { "" } else { "s" }
            );
            for g in self.gaps.iter().take(max_listed) {
                let _ = writeln!(s, "    {}", visible(&g.to_string()));
            }
            if self.gaps.len() > max_listed {
                let _ = writeln!(s, "    … and {} more (all in --report)", self.gaps.len() - max_listed);
            }
        }
        if !self.rejected.is_empty() {
            let _ = writeln!(s, "  rejected:");
            for r in self.rejected.iter().take(max_listed) {
                let _ = writeln!(s, "    {}", visible(&r.to_string()));
            }
            let more = self.rejected.len().saturating_sub(max_listed) as u64 + self.rejected_not_listed;
            if more > 0 {
                let _ =
                    writeln!(s, "    … and {more} more ({} listed in --report, the rest counted)", self.rejected.len());
            }
        }
        s
    }
}
