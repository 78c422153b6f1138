//! The audit of every principal of an account (`iamtrim audit`): per principal, what is
//! granted, used and unused by access level, risky unused permissions, unused services, the last
//! use of each used action, resources to narrow, the generated policy and the completeness of
//! the read; and the findings, written as JSON (a versioned, documented schema), Markdown, CSV
//! and SARIF 2.1.0. The HTML report is [`crate::output::audit_html`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::mapping::catalog::AccessLevel;
use crate::output::diff::Narrowing;
use crate::output::text::{md_cell, md_code};
use crate::policy::PolicyDocument;
use crate::usage::completeness::Gap;

/// The `schema` value of `audit.json`; `docs/audit.schema.json` describes it. A change that
/// removes or renames a field bumps the number.
pub const AUDIT_SCHEMA: &str = "iamtrim-audit/1";

/// The kinds of finding, each a SARIF rule with a stable ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A granted permission that manages permissions or opens a path to more (iam:PassRole on
    /// `*`, iam:Create*, iam:Attach*, iam:Put*Policy, sts:AssumeRole on `*`, ...), never used.
    #[serde(rename = "risky-unused-permission")]
    RiskyUnused,
    /// `*` on `*`: every action on every resource.
    #[serde(rename = "full-admin-grant")]
    FullAdmin,
    /// A service granted and never used.
    UnusedService,
    /// A principal with no activity in the window: a candidate for deletion, not trimming.
    NoActivity,
    /// Called (or refused) and not granted: it would break under the current policies.
    UsedNotGranted,
    /// Most of what is granted is not used.
    MostlyUnused,
    /// IAM's last-accessed data shows use inside the window that the logs do not hold.
    UnloggedUse,
}

impl FindingKind {
    /// Every kind, in rule order.
    pub const ALL: [FindingKind; 7] = [
        FindingKind::RiskyUnused,
        FindingKind::FullAdmin,
        FindingKind::UnusedService,
        FindingKind::NoActivity,
        FindingKind::UsedNotGranted,
        FindingKind::MostlyUnused,
        FindingKind::UnloggedUse,
    ];

    /// The SARIF `ruleId`: stable across versions.
    pub fn rule_id(self) -> &'static str {
        match self {
            FindingKind::RiskyUnused => "IAMTRIM001",
            FindingKind::FullAdmin => "IAMTRIM002",
            FindingKind::UnusedService => "IAMTRIM003",
            FindingKind::NoActivity => "IAMTRIM004",
            FindingKind::UsedNotGranted => "IAMTRIM005",
            FindingKind::MostlyUnused => "IAMTRIM006",
            FindingKind::UnloggedUse => "IAMTRIM007",
        }
    }

    /// Short name (`risky-unused-permission`).
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::RiskyUnused => "risky-unused-permission",
            FindingKind::FullAdmin => "full-admin-grant",
            FindingKind::UnusedService => "unused-service",
            FindingKind::NoActivity => "no-activity",
            FindingKind::UsedNotGranted => "used-not-granted",
            FindingKind::MostlyUnused => "mostly-unused",
            FindingKind::UnloggedUse => "unlogged-use",
        }
    }

    /// What the rule means, for people.
    pub fn description(self) -> &'static str {
        match self {
            FindingKind::RiskyUnused => "A permission that manages permissions or opens a privilege escalation path is granted and was never used in the window.",
            FindingKind::FullAdmin => "Every action on every resource is granted (Action * on Resource *).",
            FindingKind::UnusedService => "Actions of a service are granted and none was used in the window.",
            FindingKind::NoActivity => "The principal made no call in the window: a candidate for deletion, not for trimming.",
            FindingKind::UsedNotGranted => "The principal called (or tried) an action its current policies do not grant.",
            FindingKind::MostlyUnused => "More than half of the actions granted were not used in the window.",
            FindingKind::UnloggedUse => "IAM's last-accessed data shows use inside the window that the logs do not hold (data events not logged, a trail of other regions): the permissions concerned are not unused on the logs' word, and a policy generated from the logs would not cover that use.",
        }
    }

    /// `properties.security-severity` (0 to 10, as GitHub code scanning reads it).
    pub fn security_severity(self) -> &'static str {
        match self {
            FindingKind::FullAdmin => "9.0",
            FindingKind::RiskyUnused => "8.0",
            FindingKind::UsedNotGranted => "5.0",
            FindingKind::MostlyUnused => "4.0",
            FindingKind::UnloggedUse => "6.0",
            FindingKind::UnusedService => "3.0",
            FindingKind::NoActivity => "3.0",
        }
    }

    /// SARIF level.
    pub fn level(self) -> &'static str {
        match self {
            FindingKind::FullAdmin | FindingKind::RiskyUnused => "error",
            FindingKind::UsedNotGranted | FindingKind::MostlyUnused | FindingKind::UnloggedUse => "warning",
            FindingKind::UnusedService | FindingKind::NoActivity => "note",
        }
    }
}

/// One finding about one principal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The principal's ARN.
    pub principal: String,
    /// The action or service it is about (empty for the principal as a whole).
    pub subject: String,
    /// For people.
    pub message: String,
}

/// Granted, used and unused actions of one access level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelCount {
    /// Access level.
    pub access_level: String,
    /// Actions granted.
    pub granted: usize,
    /// Of those, used.
    pub used: usize,
    /// Of those, not used (not seen, when the read was incomplete).
    pub unused: usize,
}

/// A used action, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsedAction {
    /// `s3:GetObject`.
    pub action: String,
    /// Calls.
    pub calls: u64,
    /// First use (RFC 3339).
    pub first_used: Option<String>,
    /// Last use (RFC 3339).
    pub last_used: Option<String>,
    /// Whether the current policies grant it.
    pub granted: bool,
}

/// The audit of one principal.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalAudit {
    /// `arn:aws:iam::123456789012:role/path/name`.
    pub arn: String,
    /// `role` or `user`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// Records of its calls in the window (0: no activity).
    pub records: u64,
    /// First call in the window.
    pub first_seen: Option<String>,
    /// Last call in the window.
    pub last_seen: Option<String>,
    /// False when the read had gaps: "unused" is then "not seen in what could be read".
    pub complete: bool,
    /// The policies that apply to it.
    pub policies: Vec<String>,
    /// Actions granted.
    pub granted: usize,
    /// Of those, used.
    pub used: usize,
    /// Of those, not used.
    pub unused: usize,
    /// Unused share of the granted actions, in percent (0 when nothing is granted).
    pub unused_percent: f64,
    /// By access level, Permissions management first.
    pub by_access_level: Vec<LevelCount>,
    /// Risky permissions (permissions management, escalation paths) granted and not used; the
    /// findings list the first ones.
    pub risky_unused: usize,
    /// Every risky permission granted and not used, escalation paths first (the findings list
    /// the first ones).
    pub risky_unused_actions: Vec<String>,
    /// Services granted and never used.
    pub unused_services: Vec<String>,
    /// Granted actions never used, Permissions management and Write first.
    pub unused_actions: Vec<std::sync::Arc<str>>,
    /// Each action used, with its last use.
    pub used_actions: Vec<UsedAction>,
    /// Grants wider than what was used.
    pub narrowed_resources: Vec<Narrowing>,
    /// The least-privilege policy of its calls (none without activity).
    pub generated_policy: Option<PolicyDocument>,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// IAM's last-accessed data beside the logs' answer (when it was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed: Option<LastAccessedView>,
    /// Its earlier audits kept in the store and this one, oldest first (with `--store`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
    /// What changed since the last audit kept in the store (with `--store`, from the second
    /// audit on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// How IAM's last-accessed data and the logs agree about one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// Both saw use.
    BothUsed,
    /// Neither: IAM saw no use in its tracking period (up to 400 days), which reaches further
    /// back than the logs.
    NeitherUsed,
    /// IAM saw use inside the window and the logs hold none: the logs do not see everything.
    OnlyIamInWindow,
    /// IAM's last use is older than the window: unused in the window, used before it.
    IamBeforeWindow,
    /// The logs saw use and IAM did not (IAM reports within about four hours; or the calls
    /// failed before authentication).
    OnlyLogs,
}

impl Agreement {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            Agreement::BothUsed => "both saw use",
            Agreement::NeitherUsed => "neither saw use (IAM tracks up to 400 days)",
            Agreement::OnlyIamInWindow => "IAM saw use in the window, the logs did not",
            Agreement::IamBeforeWindow => "used before the window, not in it",
            Agreement::OnlyLogs => "the logs saw use, IAM not yet",
        }
    }
}

/// One granted service: the logs' answer and IAM's, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEvidence {
    /// The service prefix (`s3`).
    pub service: String,
    /// Its name, as IAM gives it.
    pub name: String,
    /// The logs: the last call of any of its actions in the window.
    pub logs_last_used: Option<String>,
    /// IAM: the last time the principal authenticated to it.
    pub iam_last_authenticated: Option<String>,
    /// IAM: where.
    pub iam_region: Option<String>,
    /// Actions IAM tracks one by one in it (0: IAM reports the service as a whole).
    pub iam_tracked_actions: usize,
    /// How the two answers relate.
    pub agreement: Agreement,
}

/// Use IAM saw inside the window that the logs do not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnloggedUse {
    /// The action (`s3:GetObject`), or `SERVICE:*` when IAM reports the service as a whole.
    pub subject: String,
    /// IAM's last use.
    pub iam_last_used: String,
    /// Where.
    pub iam_region: Option<String>,
    /// Granted actions the logs call unused that this use may be (the action itself, or each
    /// unused action of the service).
    pub unused_per_logs: usize,
}

/// IAM's last-accessed data of one principal beside the logs' answer, never mixed with it:
/// `unused_actions` stays the logs' answer, and what IAM contradicts is listed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastAccessedView {
    /// Where it comes from.
    pub source: &'static str,
    /// When IAM's job finished.
    pub as_of: Option<String>,
    /// Why there is none for this principal (a permission missing, a job that failed).
    pub error: Option<String>,
    /// Each service IAM reported, with both answers.
    pub services: Vec<ServiceEvidence>,
    /// Use inside the window the logs do not hold.
    pub unlogged_use: Vec<UnloggedUse>,
}

/// One audit of one principal, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// When the audit ran (RFC 3339).
    pub audited_at: String,
    /// Its window.
    pub window: String,
    /// Actions granted.
    pub granted: usize,
    /// Of those, unused.
    pub unused: usize,
    /// Risky unused permissions.
    pub risky_unused: usize,
    /// Records of its calls.
    pub records: u64,
    /// Whether that read was complete.
    pub complete: bool,
}

/// What changed for one principal since the last audit kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    /// When that audit ran.
    pub since: String,
    /// Granted actions now minus then.
    pub granted_delta: i64,
    /// Unused actions now minus then.
    pub unused_delta: i64,
    /// Risky unused permissions now minus then.
    pub risky_unused_delta: i64,
    /// Findings now that were not then (`rule subject`).
    pub new_findings: Vec<String>,
    /// Findings then that are gone now.
    pub resolved_findings: Vec<String>,
    /// Actions used now that were not then.
    pub newly_used: Vec<String>,
    /// Actions granted now that were not then.
    pub newly_granted: Vec<String>,
    /// Actions granted then that are not now.
    pub no_longer_granted: Vec<String>,
}

/// Principals that made calls but are not in the authorization details (another account's,
/// deleted, or created after the details were read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownPrincipal {
    /// The ARN the calls were counted under.
    pub arn: String,
    /// Records.
    pub records: u64,
}

/// The totals of an audit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditSummary {
    /// Principals audited.
    pub principals: usize,
    /// Of those, with calls in the window.
    pub with_activity: usize,
    /// Actions granted, summed over principals.
    pub granted: usize,
    /// Of those, unused.
    pub unused: usize,
    /// Unused share, in percent.
    pub unused_percent: f64,
    /// Risky permissions granted and not used, summed over principals.
    pub risky_unused: usize,
    /// Findings by kind name.
    pub findings: BTreeMap<String, usize>,
}

/// The audit of an account.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// [`AUDIT_SCHEMA`].
    pub schema: &'static str,
    /// The iamtrim version that wrote it.
    pub iamtrim_version: &'static str,
    /// The window read.
    pub window: String,
    /// False when anything could not be read.
    pub complete: bool,
    /// What could not be read.
    pub gaps: Vec<Gap>,
    /// Records read, filtered and matched.
    pub records_read: u64,
    /// Records of the principals audited and of others.
    pub records_matched: u64,
    /// Totals.
    pub summary: AuditSummary,
    /// Each principal, by ARN.
    pub principals: Vec<PrincipalAudit>,
    /// Activity of principals the authorization details do not hold.
    pub unknown_principals: Vec<UnknownPrincipal>,
    /// Where the current policies came from: the file, or `iam:GetAccountAuthorizationDetails`.
    pub policies_from: String,
    /// When the last audit kept in the store ran (with `--store`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_audit: Option<String>,
}

/// serde_json's pretty format (two spaces per level), begun `level` levels deep: a principal
/// written on its own reads as it does inside the whole audit. The same steps as
/// `serde_json::ser::PrettyFormatter`, which always begins at the top.
struct NestedPretty {
    level: usize,
    has_value: bool,
}

impl NestedPretty {
    fn indent<W: ?Sized + std::io::Write>(&self, out: &mut W) -> std::io::Result<()> {
        for _ in 0..self.level {
            out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + std::io::Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            self.indent(out)?;
        }
        out.write_all(bracket)
    }

    fn next<W: ?Sized + std::io::Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(out)
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        self.next(out, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        self.next(out, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// [`Audit`] as `audit.json` writes it, with each principal already written
/// ([`Audit::to_json`]); its fields are the audit's, in the same order.
#[derive(Serialize)]
struct AuditJson<'a> {
    schema: &'static str,
    iamtrim_version: &'static str,
    window: &'a str,
    complete: bool,
    gaps: &'a [Gap],
    records_read: u64,
    records_matched: u64,
    summary: &'a AuditSummary,
    principals: PrincipalsWritten<'a>,
    unknown_principals: &'a [UnknownPrincipal],
    policies_from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_audit: Option<&'a str>,
}

/// The principals of an audit as `audit.json` lists them, written a few at a time side by side
/// on every core: each as pretty JSON begun two levels deep (in the audit's object, in its
/// `principals` list), which is the text one `to_string_pretty` of the whole writes (tested), in
/// a fraction of the time. While one batch is written out, the next is made: at most two
/// batches are held as text at once.
struct PrincipalsWritten<'a>(&'a [PrincipalAudit]);

/// The `audit.json` text of each of `principals`.
fn principals_as_text(
    principals: &[PrincipalAudit],
) -> Result<Vec<Box<serde_json::value::RawValue>>, serde_json::Error> {
    use rayon::prelude::*;
    use serde::ser::Error;
    principals
        .par_iter()
        .map(|p| {
            let mut text = Vec::new();
            let mut ser =
                serde_json::Serializer::with_formatter(&mut text, NestedPretty { level: 2, has_value: false });
            p.serialize(&mut ser)?;
            let text = String::from_utf8(text).map_err(serde_json::Error::custom)?;
            serde_json::value::RawValue::from_string(text)
        })
        .collect()
}

impl Serialize for PrincipalsWritten<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let failed = |e: serde_json::Error| S::Error::custom(format!("a principal could not be written as JSON: {e}"));
        let batch = 4 * rayon::current_num_threads().max(1);
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut batches = self.0.chunks(batch);
        let mut ready = batches.next().map(principals_as_text).transpose().map_err(failed)?;
        while let Some(written) = ready.take() {
            // The next batch is made on the other cores while this one is written out here.
            let mut next = None;
            let out = rayon::in_place_scope(|scope| {
                if let Some(principals) = batches.next() {
                    let next = &mut next;
                    scope.spawn(move |_| *next = Some(principals_as_text(principals)));
                }
                written.iter().try_for_each(|p| seq.serialize_element(p))
            });
            out?;
            ready = next.transpose().map_err(failed)?;
        }
        seq.end()
    }
}

/// Access levels in the order reports list them.
pub const LEVELS: [AccessLevel; 5] = [
    AccessLevel::PermissionsManagement,
    AccessLevel::Write,
    AccessLevel::Tagging,
    AccessLevel::Read,
    AccessLevel::List,
];

/// The name of an access level as IAM writes it.
pub fn level_name(l: AccessLevel) -> &'static str {
    match l {
        AccessLevel::PermissionsManagement => "Permissions management",
        AccessLevel::Write => "Write",
        AccessLevel::Tagging => "Tagging",
        AccessLevel::Read => "Read",
        AccessLevel::List => "List",
    }
}

impl Audit {
    /// Every finding, principal by principal.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.principals.iter().flat_map(|p| &p.findings)
    }

    /// `audit.json`.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to memory cannot fail, and the text is UTF-8 JSON.
        let _ = self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Audit::to_json`] written to `out` as it is made (`audit.json` is tens of megabytes
    /// for a large account: it is never held whole in memory, and a few principals at a time
    /// are held as text).
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let view = AuditJson {
            schema: self.schema,
            iamtrim_version: self.iamtrim_version,
            window: &self.window,
            complete: self.complete,
            gaps: &self.gaps,
            records_read: self.records_read,
            records_matched: self.records_matched,
            summary: &self.summary,
            principals: PrincipalsWritten(&self.principals),
            unknown_principals: &self.unknown_principals,
            policies_from: &self.policies_from,
            previous_audit: self.previous_audit.as_deref(),
        };
        serde_json::to_writer_pretty(&mut *out, &view)?;
        out.write_all(b"\n")
    }

    /// `audit.csv`: one row per principal and finding (a principal without findings has one
    /// row with an empty finding), fields quoted as RFC 4180 says and cells that a spreadsheet
    /// would run as a formula prefixed with `'`.
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "principal,kind,records,last_seen,granted,used,unused,unused_percent,complete,finding,rule_id,subject,message\n",
        );
        for p in &self.principals {
            let base = [
                csv_cell(&p.arn),
                csv_cell(&p.kind),
                p.records.to_string(),
                csv_cell(p.last_seen.as_deref().unwrap_or("")),
                p.granted.to_string(),
                p.used.to_string(),
                p.unused.to_string(),
                format!("{:.1}", p.unused_percent),
                p.complete.to_string(),
            ]
            .join(",");
            if p.findings.is_empty() {
                let _ = writeln!(s, "{base},,,,");
            }
            for f in &p.findings {
                let _ = writeln!(
                    s,
                    "{base},{},{},{},{}",
                    f.kind.name(),
                    f.kind.rule_id(),
                    csv_cell(&f.subject),
                    csv_cell(&f.message)
                );
            }
        }
        s
    }

    /// `audit.md`: for a ticket or a pull request.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let sm = &self.summary;
        let _ = writeln!(s, "# iamtrim audit · {}\n", md_cell(&self.window));
        if !self.complete {
            let _ = writeln!(
                s,
                "> **INCOMPLETE**: {} gap(s) in the read. Nothing below is \"unused\", only \"not seen in what could be read\".\n",
                self.gaps.len()
            );
        }
        let _ = writeln!(
            s,
            "{} principals, {} with activity · {} of {} granted actions unused ({:.1}%) · {} risky permissions unused\n",
            sm.principals, sm.with_activity, sm.unused, sm.granted, sm.unused_percent, sm.risky_unused
        );
        let _ = writeln!(s, "| finding | rule | count |\n|---|---|---:|");
        for k in FindingKind::ALL {
            let _ =
                writeln!(s, "| {} | {} | {} |", k.name(), k.rule_id(), sm.findings.get(k.name()).copied().unwrap_or(0));
        }
        let _ = writeln!(
            s,
            "\n| principal | records | last seen | granted | used | unused | risky unused |\n|---|---:|---|---:|---:|---:|---:|"
        );
        for p in &self.principals {
            let risky = p.risky_unused;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} ({:.0}%) | {} |",
                md_code(&p.arn),
                p.records,
                p.last_seen.as_deref().map(|t| &t[..t.len().min(10)]).unwrap_or("never"),
                p.granted,
                p.used,
                p.unused,
                p.unused_percent,
                risky
            );
        }
        if let Some(prev) = &self.previous_audit {
            let _ = writeln!(
                s,
                "\n## Since the last audit ({})\n\n| principal | granted | unused | risky unused | new findings | resolved findings |\n|---|---:|---:|---:|---|---|",
                md_cell(prev)
            );
            for p in &self.principals {
                let Some(c) = &p.changes else {
                    let _ = writeln!(s, "| {} | new | | | | |", md_code(&p.arn));
                    continue;
                };
                let _ = writeln!(
                    s,
                    "| {} | {:+} | {:+} | {:+} | {} | {} |",
                    md_code(&p.arn),
                    c.granted_delta,
                    c.unused_delta,
                    c.risky_unused_delta,
                    md_cell(&c.new_findings.join(", ")),
                    md_cell(&c.resolved_findings.join(", "))
                );
            }
        }
        for p in self.principals.iter().filter(|p| !p.findings.is_empty()) {
            let _ = writeln!(s, "\n<details><summary>{} · {} findings</summary>\n", md_code(&p.arn), p.findings.len());
            for f in &p.findings {
                let _ = writeln!(s, "- **{}** {}", f.kind.name(), md_cell(&f.message));
            }
            let _ = writeln!(s, "\n</details>");
        }
        if !self.unknown_principals.is_empty() {
            let _ = writeln!(s, "\nActivity of principals not in the authorization details:\n");
            for u in &self.unknown_principals {
                let _ = writeln!(s, "- {} ({} records)", md_code(&u.arn), u.records);
            }
        }
        s
    }

    /// `audit.sarif`: SARIF 2.1.0, one rule per finding kind, each result with a stable
    /// `partialFingerprints` entry (rule, principal, subject) so code scanning de-duplicates
    /// across runs. Results point at `artifact` (the authorization-details file, or a
    /// placeholder URI naming the account) and name the principal as a logical location.
    pub fn to_sarif(&self, artifact: &str) -> String {
        let rules: Vec<serde_json::Value> = FindingKind::ALL
            .iter()
            .map(|k| {
                serde_json::json!({
                    "id": k.rule_id(),
                    "name": k.name(),
                    "shortDescription": {"text": k.description()},
                    "fullDescription": {"text": k.description()},
                    "defaultConfiguration": {"level": k.level()},
                    "helpUri": "https://github.com/iamtrim/iamtrim#iamtrim-audit",
                    "help": {"text": k.description()},
                    "properties": {"security-severity": k.security_severity(), "tags": ["security", "iam", "least-privilege"]},
                })
            })
            .collect();
        let results: Vec<serde_json::Value> = self
            .findings()
            .map(|f| {
                let index = FindingKind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0);
                serde_json::json!({
                    "ruleId": f.kind.rule_id(),
                    "ruleIndex": index,
                    "level": f.kind.level(),
                    "message": {"text": f.message},
                    "locations": [{
                        "physicalLocation": {"artifactLocation": {"uri": artifact}, "region": {"startLine": 1}},
                        "logicalLocations": [{"fullyQualifiedName": f.principal, "kind": "resource"}],
                    }],
                    "partialFingerprints": {"iamtrimFinding/v1": fingerprint(&[f.kind.rule_id(), &f.principal, &f.subject])},
                    "properties": {"principal": f.principal, "subject": f.subject, "security-severity": f.kind.security_severity()},
                })
            })
            .collect();
        let sarif = serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "iamtrim",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/iamtrim/iamtrim",
                    "rules": rules,
                }},
                "results": results,
                "properties": {"window": self.window, "complete": self.complete},
            }],
        });
        serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
    }
}

/// A hex FNV-1a 64 of the parts (separated by NUL): stable across runs and versions.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`, `@`
/// (a formula to a spreadsheet) is prefixed with `'`.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        for (raw, cell) in [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("line\nbreak", "\"line\nbreak\""),
        ] {
            assert_eq!(csv_cell(raw), cell, "{raw}");
        }
    }

    #[test]
    fn fingerprints_are_stable_and_tell_parts_apart() {
        assert_eq!(
            fingerprint(&["IAMTRIM001", "arn:aws:iam::1:role/a", "iam:PassRole"]),
            fingerprint(&["IAMTRIM001", "arn:aws:iam::1:role/a", "iam:PassRole"])
        );
        assert_ne!(fingerprint(&["a", "bc"]), fingerprint(&["ab", "c"]));
        assert_eq!(fingerprint(&["x"]).len(), 16);
    }

    fn principal(name: &str, full: bool) -> PrincipalAudit {
        let some = |s: &str| full.then(|| s.to_string());
        let list = |items: &[&str]| if full { items.iter().map(|s| s.to_string()).collect() } else { Vec::new() };
        PrincipalAudit {
            arn: format!("arn:aws:iam::123456789012:role/{name}"),
            kind: "role".into(),
            name: name.into(),
            records: 3,
            first_seen: some("2026-10-01T00:00:00Z"),
            last_seen: some("2026-10-02T00:00:00Z"),
            complete: full,
            policies: list(&["inline \"quoted\"", "line\nbreak", "ünïcode ✓"]),
            granted: 10,
            used: 2,
            unused: 8,
            unused_percent: 80.0,
            by_access_level: vec![LevelCount { access_level: "Read".into(), granted: 3, used: 1, unused: 2 }],
            risky_unused: 1,
            risky_unused_actions: list(&["iam:PassRole"]),
            unused_services: list(&["sqs"]),
            unused_actions: list(&["sqs:DeleteQueue", "iam:PassRole"]).into_iter().map(Into::into).collect(),
            used_actions: vec![UsedAction {
                action: "s3:GetObject".into(),
                calls: 2,
                first_used: some("2026-10-01T00:00:00Z"),
                last_used: None,
                granted: true,
            }],
            narrowed_resources: vec![Narrowing {
                action: "s3:GetObject".into(),
                granted: list(&["*"]),
                used: list(&["arn:aws:s3:::b/k"]).into(),
            }],
            generated_policy: full
                .then(|| {
                    serde_json::from_str(
                        r#"{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]}"#,
                    )
                    .unwrap()
                }),
            findings: vec![Finding {
                kind: FindingKind::RiskyUnused,
                principal: name.into(),
                subject: "iam:PassRole".into(),
                message: "granted on `*`\tand never used".into(),
            }],
            last_accessed: full.then(|| LastAccessedView {
                source: "IAM",
                as_of: None,
                error: Some("x".into()),
                services: vec![ServiceEvidence {
                    service: "s3".into(),
                    name: "Amazon S3".into(),
                    logs_last_used: None,
                    iam_last_authenticated: some("2026-10-01T00:00:00Z"),
                    iam_region: None,
                    iam_tracked_actions: 4,
                    agreement: Agreement::BothUsed,
                }],
                unlogged_use: Vec::new(),
            }),
            trend: if full {
                vec![TrendPoint {
                    audited_at: "2026-10-03T00:00:00Z".into(),
                    window: "w".into(),
                    granted: 10,
                    unused: 8,
                    risky_unused: 1,
                    records: 3,
                    complete: true,
                }]
            } else {
                Vec::new()
            },
            changes: full.then(|| Changes {
                since: "2026-10-02T00:00:00Z".into(),
                granted_delta: -1,
                unused_delta: 0,
                risky_unused_delta: 2,
                new_findings: list(&["a"]),
                resolved_findings: Vec::new(),
                newly_used: Vec::new(),
                newly_granted: list(&["b"]),
                no_longer_granted: Vec::new(),
            }),
        }
    }

    #[test]
    fn audit_json_written_a_principal_at_a_time_is_the_pretty_json_of_the_whole() {
        // More principals than two batches written side by side hold (each batch is written
        // out while the next is made), and the last batch left part full.
        let many: Vec<PrincipalAudit> =
            (0..8 * rayon::current_num_threads() + 3).map(|i| principal(&format!("p{i}"), i % 2 == 0)).collect();
        for (principals, previous) in [
            (vec![principal("a", true), principal("b", false), principal("c", true)], Some("2026-10-02".to_string())),
            (vec![principal("only", false)], None),
            (Vec::new(), None),
            (many, None),
        ] {
            let audit = Audit {
                schema: AUDIT_SCHEMA,
                iamtrim_version: "0",
                window: "all events in the logs".into(),
                complete: true,
                gaps: Vec::new(),
                records_read: 5,
                records_matched: 3,
                summary: AuditSummary { findings: BTreeMap::from([("x".to_string(), 1)]), ..AuditSummary::default() },
                principals,
                unknown_principals: vec![UnknownPrincipal { arn: "arn:aws:iam::1:role/z".into(), records: 1 }],
                policies_from: "auth.json".into(),
                previous_audit: previous,
            };
            assert_eq!(audit.to_json(), serde_json::to_string_pretty(&audit).unwrap() + "\n");
        }
    }

    #[test]
    fn every_rule_has_a_distinct_stable_id() {
        let ids: std::collections::BTreeSet<&str> = FindingKind::ALL.iter().map(|k| k.rule_id()).collect();
        assert_eq!(ids.len(), FindingKind::ALL.len());
    }
}
