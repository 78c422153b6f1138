//! The review of a template's roles (`iamtrim review`) as a pull-request comment (Markdown: a
//! verdict line, a table per role, the no-new-access proof, details folded), SARIF 2.1.0 whose
//! results point at the template lines that grant what was never used, JSON, and text for a
//! terminal.

use std::fmt::Write as _;

use serde::Serialize;

use crate::output::diff::PolicyDiff;
use crate::output::text::{md_cell, md_code};
use crate::policy::access_check::{AccessAnalyzerCheck, CheckDocuments, CheckReason};
use crate::policy::containment::NoNewAccess;
use crate::policy::PolicyDocument;
use crate::usage::completeness::Gap;

/// A statement of the template that grants actions never used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedGrant {
    /// The template.
    pub file: String,
    /// The statement's line.
    pub line: usize,
    /// Its policy.
    pub policy: String,
    /// Its Sid (or `#N`).
    pub sid: String,
    /// How many of the actions it grants were never used.
    pub unused: usize,
    /// The first of them.
    pub examples: Vec<String>,
}

/// One role of a template, reviewed.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewedRole {
    /// The template.
    pub file: String,
    /// Its kind.
    pub kind: &'static str,
    /// The role's logical ID or address.
    pub id: String,
    /// Where it is declared.
    pub line: usize,
    /// The principal whose activity it was matched to (none: no activity found).
    pub principal: Option<String>,
    /// How (`its name`, `its generated name`, `--map`).
    pub matched_by: String,
    /// Records of its calls.
    pub records: u64,
    /// Its policies in the template.
    pub policies: Vec<String>,
    /// Values the template leaves unknown in them.
    pub unknowns: Vec<String>,
    /// Policies that could not be read (their grants are unknown).
    pub unreadable: Vec<String>,
    /// Its policies against its activity.
    pub diff: Option<PolicyDiff>,
    /// Statements that grant what was never used.
    pub unused_grants: Vec<UnusedGrant>,
    /// The trimmed policy.
    pub trimmed: Option<PolicyDocument>,
    /// The trimmed policy as a patch of the template.
    pub patch: Option<String>,
    /// The patch's language: `yaml`, `json` (a JSON template, CDK's) or `hcl` (Terraform).
    pub patch_language: Option<&'static str>,
    /// The offline proof that the trimmed policy grants nothing the template's does not.
    pub no_new_access: Option<NoNewAccess>,
    /// IAM Access Analyzer's `CheckNoNewAccess` answer (`--check-no-new-access`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_analyzer: Option<AccessAnalyzerCheck>,
    /// What Access Analyzer would be asked for this role.
    #[serde(skip)]
    pub check_documents: Option<CheckDocuments>,
}

impl ReviewedRole {
    /// Used and not granted: it would break.
    pub fn would_break(&self) -> usize {
        self.diff.as_ref().map_or(0, |d| d.used_not_granted.len())
    }

    /// Granted and never used.
    pub fn unused(&self) -> usize {
        self.diff.as_ref().map_or(0, |d| d.unused_granted.len())
    }

    /// True when the role has a trimmed policy that neither the offline proof nor Access
    /// Analyzer proved within the current policies.
    pub fn new_access_not_disproven(&self) -> bool {
        self.no_new_access.as_ref().is_some_and(|n| !n.proven)
            && !self.access_analyzer.as_ref().is_some_and(|a| a.passed())
    }

    /// True when Access Analyzer was asked and did not answer PASS (FAIL, or the check did not run).
    pub fn access_analyzer_failed(&self) -> bool {
        self.access_analyzer.as_ref().is_some_and(|a| !a.passed())
    }

    /// Anything a reviewer must look at: it would break, it grants what was never used, the
    /// trimmed policy is not proven within the current ones, or Access Analyzer did not pass it.
    pub fn has_findings(&self) -> bool {
        self.would_break() > 0 || self.unused() > 0 || self.new_access_not_disproven() || self.access_analyzer_failed()
    }

    fn verdict(&self) -> String {
        match &self.diff {
            None => "no activity found: nothing to review against (give --map ID=ROLE)".into(),
            Some(_) if self.would_break() > 0 => {
                format!("would break: {} used actions not granted", self.would_break())
            }
            Some(_) if self.unused() > 0 => format!("trim: {} granted actions never used", self.unused()),
            Some(_) => "least privilege: everything granted was used".into(),
        }
    }
}

/// The review.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// False when the read had gaps: nothing is then "never used".
    pub complete: bool,
    /// What could not be read.
    pub gaps: Vec<Gap>,
    /// Records read.
    pub records_read: u64,
    /// Each role of the templates.
    pub roles: Vec<ReviewedRole>,
}

impl Review {
    /// `review --format json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    fn headline(&self) -> String {
        let breaks: usize = self.roles.iter().map(ReviewedRole::would_break).sum();
        let unused: usize = self.roles.iter().map(ReviewedRole::unused).sum();
        let unproven = self.roles.iter().filter(|r| r.new_access_not_disproven()).count();
        let aa_failed = self.roles.iter().filter(|r| r.access_analyzer_failed()).count();
        let inactive = self.roles.iter().filter(|r| r.diff.is_none()).count();
        let mut parts = vec![format!("{} roles", self.roles.len())];
        if breaks > 0 {
            parts.push(format!("{breaks} used actions not granted (would break)"));
        }
        parts.push(format!(
            "{unused} granted actions {}",
            if self.complete { "never used" } else { "not seen in what could be read" }
        ));
        if unproven > 0 {
            parts.push(format!("{unproven} trimmed policies not proven within the current ones"));
        }
        if aa_failed > 0 {
            parts.push(format!("{aa_failed} not passed by IAM Access Analyzer CheckNoNewAccess"));
        }
        if inactive > 0 {
            parts.push(format!("{inactive} roles without activity"));
        }
        parts.join(" · ")
    }

    /// `review --format markdown`: for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let icon = if self.roles.iter().any(|r| r.would_break() > 0 || r.access_analyzer_failed()) {
            "❌"
        } else if self.roles.iter().any(|r| r.unused() > 0) {
            "⚠️"
        } else {
            "✅"
        };
        let _ = writeln!(s, "### {icon} iamtrim review: {}\n", md_cell(&self.headline()));
        if !self.complete {
            let _ = writeln!(
                s,
                "> **INCOMPLETE**: {} gap(s) in the read; nothing below is \"never used\".\n",
                self.gaps.len()
            );
        }
        let _ = writeln!(s, "| role | template | activity | used | unused | would break | no new access |\n|---|---|---|---:|---:|---:|---|");
        for r in &self.roles {
            let mut proof = match &r.no_new_access {
                Some(n) if n.proven => "✅ proven".to_string(),
                Some(n) => format!("❌ {} counterexample(s)", n.counterexamples.len() + n.more),
                None => "—".into(),
            };
            if let Some(a) = &r.access_analyzer {
                proof.push_str(&format!(" · Access Analyzer {} {}", if a.passed() { "✅" } else { "❌" }, a.result));
            }
            let used = r.diff.as_ref().map_or(0, |d| d.used_granted.len());
            let _ = writeln!(
                s,
                "| {} | {}:{} | {} | {} | {} | {} | {} |",
                md_code(&r.id),
                md_cell(&r.file),
                r.line,
                r.principal.as_deref().map(md_code).unwrap_or_else(|| "none".into()),
                used,
                r.unused(),
                r.would_break(),
                proof
            );
        }
        for r in &self.roles {
            let _ = writeln!(s, "\n<details><summary>{} · {}</summary>\n", md_code(&r.id), md_cell(&r.verdict()));
            if let Some(d) = &r.diff {
                if !d.used_not_granted.is_empty() {
                    let _ = writeln!(s, "**Used and not granted (would break):**\n");
                    for a in &d.used_not_granted {
                        let on = if a.resources.is_empty() {
                            md_cell(&a.note)
                        } else {
                            format!("on {}", md_cell(&a.resources.join(", ")))
                        };
                        let _ = writeln!(s, "- {} {on}", md_code(&a.action));
                    }
                }
            }
            if !r.unused_grants.is_empty() {
                let _ = writeln!(s, "\n**Statements granting what was never used:**\n");
                for g in &r.unused_grants {
                    let _ = writeln!(
                        s,
                        "- {}:{} {} {}: {} actions never used ({})",
                        md_cell(&g.file),
                        g.line,
                        md_cell(&g.policy),
                        md_code(&g.sid),
                        g.unused,
                        md_cell(&g.examples.join(", "))
                    );
                }
            }
            if let Some(n) = &r.no_new_access {
                if !n.proven {
                    let _ = writeln!(s, "\n**Not proven within the current policies:**\n");
                    for c in &n.counterexamples {
                        let _ =
                            writeln!(s, "- {} on {}: {}", md_code(&c.action), md_code(&c.resource), md_cell(&c.why));
                    }
                }
            }
            if let Some(a) = &r.access_analyzer {
                let _ = writeln!(s, "\n**IAM Access Analyzer CheckNoNewAccess: {}**\n", a.result);
                if !a.message.is_empty() {
                    let _ = writeln!(s, "{}\n", md_cell(&a.message));
                }
                for reason in &a.reasons {
                    let _ = writeln!(s, "- {}", md_cell(&reason_text(reason)));
                }
                if let Some(e) = &a.error {
                    let _ = writeln!(s, "- ⚠️ not checked: {}", md_cell(e));
                }
                for l in &a.left_out {
                    let _ = writeln!(s, "- sent narrower: {}", md_cell(l));
                }
            }
            for u in r.unknowns.iter() {
                let _ = writeln!(s, "- unknown until deploy: {}", md_code(u));
            }
            for u in &r.unreadable {
                let _ = writeln!(s, "- ⚠️ {}", md_cell(u));
            }
            if let Some(p) = &r.patch {
                let lang = r.patch_language.unwrap_or("yaml");
                let how = if lang == "json" && r.kind != "CDK" {
                    format!(" (in place of the `Policies` and `ManagedPolicyArns` of {})", md_code(&r.id))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "\n**Trimmed policy, as a patch of the template{how}:**\n\n```{lang}\n{}```",
                    p.replace("```", "'''")
                );
            }
            let _ = writeln!(s, "\n</details>");
        }
        s
    }

    /// `review --format terminal`.
    pub fn to_terminal(&self) -> String {
        let mut s = format!("review: {}\n", self.headline());
        for r in &self.roles {
            let _ = writeln!(
                s,
                "{} ({}:{}) · {} · {}",
                crate::output::text::visible(&r.id),
                crate::output::text::visible(&r.file),
                r.line,
                r.principal.as_deref().map(crate::output::text::visible).unwrap_or_else(|| "no activity".into()),
                r.verdict()
            );
            for g in &r.unused_grants {
                let _ = writeln!(
                    s,
                    "  line {}: {} {}: {} actions never used",
                    g.line,
                    crate::output::text::visible(&g.policy),
                    g.sid,
                    g.unused
                );
            }
            if let Some(n) = &r.no_new_access {
                let _ = writeln!(
                    s,
                    "  no new access: {}",
                    if n.proven {
                        format!("proven over {} grants", n.checked)
                    } else {
                        format!("NOT proven ({} counterexamples)", n.counterexamples.len() + n.more)
                    }
                );
            }
            if let Some(a) = &r.access_analyzer {
                let _ = writeln!(
                    s,
                    "  IAM Access Analyzer CheckNoNewAccess: {}{}",
                    a.result,
                    if a.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", crate::output::text::visible(&a.message))
                    }
                );
                for reason in &a.reasons {
                    let _ = writeln!(s, "    {}", crate::output::text::visible(&reason_text(reason)));
                }
                if let Some(e) = &a.error {
                    let _ = writeln!(s, "    not checked: {}", crate::output::text::visible(e));
                }
                for l in &a.left_out {
                    let _ = writeln!(s, "    sent narrower: {}", crate::output::text::visible(l));
                }
            }
        }
        s
    }

    /// `review --format sarif`: a result per statement that grants what was never used (at its
    /// line), per role that would break (at the role), per trimmed policy not proven.
    pub fn to_sarif(&self) -> String {
        let rules = [
            (
                "IAMTRIM101",
                "unused-grant",
                "A statement of the template grants actions the role never used.",
                "warning",
                "5.0",
            ),
            (
                "IAMTRIM102",
                "would-break",
                "The role used actions its policies in the template do not grant: it would break.",
                "error",
                "7.0",
            ),
            (
                "IAMTRIM103",
                "new-access-not-disproven",
                "The trimmed policy is not proven to grant nothing the template's policies do not.",
                "warning",
                "4.0",
            ),
            (
                "IAMTRIM104",
                "access-analyzer-not-passed",
                "IAM Access Analyzer CheckNoNewAccess did not pass the trimmed policy against the template's policies (or could not be asked).",
                "error",
                "6.0",
            ),
        ];
        let result = |rule: usize, file: &str, line: usize, message: String, key: &str| {
            serde_json::json!({
                "ruleId": rules[rule].0, "ruleIndex": rule, "level": rules[rule].3,
                "message": {"text": message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": file}, "region": {"startLine": line.max(1)}}}],
                "partialFingerprints": {"iamtrimReview/v1": key},
            })
        };
        let mut results = Vec::new();
        for r in &self.roles {
            for g in &r.unused_grants {
                results.push(result(
                    0,
                    &g.file,
                    g.line,
                    format!(
                        "{} {} grants {} actions {} never used, e.g. {}",
                        g.policy,
                        g.sid,
                        g.unused,
                        r.id,
                        g.examples.join(", ")
                    ),
                    &format!("{}|{}|{}", r.id, g.policy, g.sid),
                ));
            }
            if r.would_break() > 0 {
                let actions: Vec<&str> =
                    r.diff.iter().flat_map(|d| &d.used_not_granted).map(|a| a.action.as_str()).collect();
                results.push(result(
                    1,
                    &r.file,
                    r.line,
                    format!(
                        "{} used {} actions its policies here do not grant: {}",
                        r.id,
                        actions.len(),
                        actions.join(", ")
                    ),
                    &format!("{}|break", r.id),
                ));
            }
            if let Some(a) = r.access_analyzer.as_ref().filter(|a| !a.passed()) {
                let why = a.error.clone().unwrap_or_else(|| {
                    std::iter::once(a.message.clone())
                        .chain(a.reasons.iter().map(reason_text))
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                results.push(result(
                    3,
                    &r.file,
                    r.line,
                    format!(
                        "IAM Access Analyzer CheckNoNewAccess for the trimmed policy of {}: {}: {why}",
                        r.id, a.result
                    ),
                    &format!("{}|access-analyzer", r.id),
                ));
            }
            if let Some(n) = r.no_new_access.as_ref().filter(|_| r.new_access_not_disproven()) {
                results.push(result(
                    2,
                    &r.file,
                    r.line,
                    format!(
                        "the trimmed policy of {} is not proven within its current policies ({} counterexamples)",
                        r.id,
                        n.counterexamples.len() + n.more
                    ),
                    &format!("{}|proof", r.id),
                ));
            }
        }
        let sarif = serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "iamtrim", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/iamtrim/iamtrim",
                    "rules": rules.iter().map(|(id, name, text, level, sev)| serde_json::json!({
                        "id": id, "name": name, "shortDescription": {"text": text}, "fullDescription": {"text": text},
                        "defaultConfiguration": {"level": level}, "properties": {"security-severity": sev, "tags": ["security", "iam", "least-privilege"]}})).collect::<Vec<_>>()}},
                "results": results,
            }],
        });
        serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
    }
}

/// One Access Analyzer reason, with the statement of the trimmed policy it names.
fn reason_text(r: &CheckReason) -> String {
    match (&r.statement_id, r.statement_index) {
        (Some(id), _) => format!("{} (statement {id})", r.description),
        (None, Some(i)) => format!("{} (statement {i})", r.description),
        _ => r.description.clone(),
    }
}
