//! `iamtrim audit`: every role and user of an account in one pass over the logs, their current
//! policies from one authorization-details document, and the report in every format.

use super::*;

/// `audit --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum AuditFormat {
    /// `report.html`: one self-contained page for people.
    Html,
    /// `audit.json`: the versioned schema in docs/audit.schema.json.
    Json,
    /// `audit.sarif`: SARIF 2.1.0 for code scanning.
    Sarif,
    /// `audit.md`: for a ticket or a pull request.
    Md,
    /// `audit.csv`: one row per principal and finding.
    Csv,
}

impl AuditFormat {
    fn file(self) -> &'static str {
        match self {
            AuditFormat::Html => "report.html",
            AuditFormat::Json => "audit.json",
            AuditFormat::Sarif => "audit.sarif",
            AuditFormat::Md => "audit.md",
            AuditFormat::Csv => "audit.csv",
        }
    }
}

/// `iamtrim audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Activity to read (every principal's; --role and the other principal flags are refused:
    /// use --include).
    #[command(flatten)]
    pub input: InputArgs,
    /// The account's roles, users, groups and policies: the output of `aws iam
    /// get-account-authorization-details`. Without it they are read from IAM
    /// (iam:GetAccountAuthorizationDetails) with the credentials of --profile.
    #[arg(long, value_name = "FILE")]
    pub auth_details: Option<PathBuf>,
    /// Also ask IAM for each principal's last-accessed data (GenerateServiceLastAccessedDetails
    /// with ACTION_LEVEL, then GetServiceLastAccessedDetails) and show it beside the logs'
    /// answer. The default when the policies are read from IAM; with --auth-details, only when
    /// asked.
    #[arg(long, conflicts_with = "no_last_accessed")]
    pub last_accessed: bool,
    /// Do not ask IAM for last-accessed data, although the policies are read from IAM.
    #[arg(long)]
    pub no_last_accessed: bool,
    /// Only principals whose name or ARN matches (repeatable; `*` and `?`).
    #[arg(long = "include", value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out principals whose name or ARN matches (repeatable).
    #[arg(long = "exclude", value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Also audit service-linked roles (path /aws-service-role/), which their service manages.
    #[arg(long)]
    pub include_service_linked: bool,
    /// Write the reports in this directory.
    #[arg(long, value_name = "DIR", default_value = "iamtrim-audit")]
    pub out: PathBuf,
    /// Formats to write (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "html,json,sarif,md,csv")]
    pub format: Vec<AuditFormat>,
    /// Exit 3 when a finding of these kinds is found: risky-unused, full-admin, used-not-granted,
    /// no-activity, unused-service, mostly-unused, unlogged-use, or `unused-above=N` (a principal with more
    /// than N% of its granted actions unused). Repeatable or comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub fail_on: Vec<String>,
}

/// What `--fail-on` asks for.
enum FailRule {
    Kind(crate::output::audit::FindingKind),
    UnusedAbove(f64),
}

fn fail_rules(specs: &[String]) -> Result<Vec<FailRule>, CliError> {
    use crate::output::audit::FindingKind;
    specs
        .iter()
        .map(|s| {
            if let Some(n) = s.strip_prefix("unused-above=") {
                return n
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
                    .filter(|n| (0.0..=100.0).contains(n))
                    .map(FailRule::UnusedAbove)
                    .ok_or_else(|| CliError::BadSource(format!("--fail-on {s}: expected unused-above=N, N a percentage")));
            }
            let name = if s == "risky-unused" { "risky-unused-permission" } else if s == "full-admin" { "full-admin-grant" } else { s };
            FindingKind::ALL
                .iter()
                .find(|k| k.name() == name)
                .map(|k| FailRule::Kind(*k))
                .ok_or_else(|| CliError::BadSource(format!("--fail-on `{s}`: expected risky-unused, full-admin, used-not-granted, no-activity, unused-service, mostly-unused, unlogged-use or unused-above=N")))
        })
        .collect()
}

pub(super) fn run_audit(args: &AuditArgs) -> Result<ExitCode, CliError> {
    if args.input.role.is_some()
        || args.input.user.is_some()
        || args.input.principal.is_some()
        || args.input.permission_set.is_some()
    {
        return Err(CliError::BadSource("audit reads every principal: choose them with --include and --exclude, not --role, --user, --principal or --permission-set".into()));
    }
    let rules = fail_rules(&args.fail_on)?;
    check_outputs(&[], Some(&args.out))?;
    let (details, policies_from) = account_policies(args)?;
    let (collected, range) = collect_every_principal(&args.input)?;
    let collected = super::kept_until_exit(collected);
    let window = if range.is_bounded() { range.to_string() } else { "all events in the logs".to_string() };
    let opts = crate::app::audit::AuditOptions {
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        service_linked: args.include_service_linked,
        generate: crate::app::GenerateOptions::default(),
        window,
        window_from: range.from,
        policies_from: policies_from.clone(),
    };
    let last_accessed = if args.last_accessed || (args.auth_details.is_none() && !args.no_last_accessed) {
        last_accessed_answers(args, &details, &opts)?
    } else {
        Default::default()
    };
    let audit = crate::app::audit::audit(&collected.usage, &details, ActionCatalog::embedded(), &opts, &last_accessed)
        .map_err(|e| CliError::BadSource(format!("{policies_from}: {e}")))?;
    let mut audit = super::kept_until_exit(audit);
    if let Some(store) = &args.input.store {
        keep_in_history(store.as_deref(), &args.input, &mut audit)?;
    }
    let all = [AuditFormat::Html, AuditFormat::Json, AuditFormat::Sarif, AuditFormat::Md, AuditFormat::Csv];
    let formats: Vec<AuditFormat> = if args.format.is_empty() { all.to_vec() } else { args.format.clone() };
    let artifact = policies_from.clone();
    // The formats are made and written side by side (audit.json streamed to its file), then
    // reported in the order given; the first that could not be written is the error.
    use rayon::prelude::*;
    let written: Vec<Result<(), CliError>> = formats
        .par_iter()
        .map(|f| {
            let path = args.out.join(f.file());
            let text = match f {
                AuditFormat::Json => return super::write_streamed(&path, |out| audit.write_json(out)),
                AuditFormat::Html => crate::output::audit_html::render(&audit),
                AuditFormat::Sarif => audit.to_sarif(&artifact),
                AuditFormat::Md => audit.to_markdown(),
                AuditFormat::Csv => audit.to_csv(),
            };
            write_out(Some(&path), &text)
        })
        .collect();
    for (f, result) in formats.iter().zip(written) {
        result?;
        let path = args.out.join(f.file());
        messages::line!("  wrote {}", path.display());
    }
    let sm = &audit.summary;
    messages::line!(
        "{}audit · {} · {} principals ({} with activity) · {} of {} granted actions unused ({:.1}%) · {} risky permissions unused",
        if audit.complete { "iamtrim: " } else { "iamtrim: INCOMPLETE: " },
        audit.window,
        sm.principals,
        sm.with_activity,
        sm.unused,
        sm.granted,
        sm.unused_percent,
        sm.risky_unused
    );
    messages::line!(
        "  records: {} read, {} of principals' calls (one pass for all principals)",
        audit.records_read,
        audit.records_matched
    );
    for k in crate::output::audit::FindingKind::ALL {
        let n = sm.findings.get(k.name()).copied().unwrap_or(0);
        if n > 0 {
            messages::line!("  {} {}: {n} finding{}", k.rule_id(), k.name(), if n == 1 { "" } else { "s" });
        }
    }
    let errors: Vec<&str> =
        audit.principals.iter().filter_map(|p| p.last_accessed.as_ref()?.error.as_deref()).collect();
    if let Some(first) = errors.first() {
        messages::warning!(
            "IAM's last-accessed data is missing for {} principal(s), shown as such in the report; the first: {first}",
            errors.len()
        );
    }
    if !audit.unknown_principals.is_empty() {
        messages::note!(
            "{} principals made calls but are not in the authorization details (listed in the report)",
            audit.unknown_principals.len()
        );
    }
    let failed = rules.iter().any(|r| match r {
        FailRule::Kind(k) => audit.findings().any(|f| f.kind == *k),
        FailRule::UnusedAbove(n) => audit.complete && audit.principals.iter().any(|p| p.unused_percent > *n),
    });
    if !audit.complete && !args.input.allow_incomplete {
        messages::line!("iamtrim: INCOMPLETE: {} gap(s): nothing is called unused, only not seen in what could be read (exit 4; --allow-incomplete to accept)", audit.gaps.len());
        return Ok(ExitCode::Incomplete);
    }
    Ok(if failed { ExitCode::DiffFound } else { ExitCode::Success })
}

/// The account's policies: `--auth-details FILE`, else IAM's GetAccountAuthorizationDetails;
/// with where they came from, as the report names it.
fn account_policies(
    args: &AuditArgs,
) -> Result<(crate::policy::authorization::AuthorizationDetails, String), CliError> {
    match &args.auth_details {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::BadSource(format!("--auth-details {name}: {e}")))?;
            let details = crate::policy::authorization::AuthorizationDetails::parse(&text)
                .map_err(|e| CliError::BadSource(format!("--auth-details {name}: {e}")))?;
            Ok((details, name))
        }
        None => account_policies_from_iam(&args.input),
    }
}

#[cfg(feature = "aws")]
fn account_policies_from_iam(
    input: &InputArgs,
) -> Result<(crate::policy::authorization::AuthorizationDetails, String), CliError> {
    let details = crate::app::remote::account_authorization_details(&input.remote_options(), &progress_sink())?;
    let p = details.principals();
    messages::note!(
        "the current policies of {} roles and {} users were read from IAM (iam:GetAccountAuthorizationDetails)",
        p.iter().filter(|p| p.kind == "role").count(),
        p.iter().filter(|p| p.kind == "user").count()
    );
    Ok((details, "iam:GetAccountAuthorizationDetails".to_string()))
}

#[cfg(not(feature = "aws"))]
fn account_policies_from_iam(
    _input: &InputArgs,
) -> Result<(crate::policy::authorization::AuthorizationDetails, String), CliError> {
    Err(CliError::NotBuiltIn("cannot read IAM (built without the `aws` feature): pass --auth-details FILE"))
}

/// IAM's last-accessed data of every principal the audit covers.
#[cfg(feature = "aws")]
fn last_accessed_answers(
    args: &AuditArgs,
    details: &crate::policy::authorization::AuthorizationDetails,
    opts: &crate::app::audit::AuditOptions,
) -> Result<crate::app::audit::LastAccessedAnswers, CliError> {
    let principals = crate::app::audit::audited_principals(details, opts);
    let mut answers = crate::app::audit::LastAccessedAnswers::new();
    let mut by_partition: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for p in &principals {
        by_partition.entry(p.partition.as_str()).or_default().push(p.arn.clone());
    }
    for (partition, arns) in by_partition {
        answers.extend(crate::app::remote::last_accessed(
            &args.input.remote_options(),
            partition,
            &arns,
            &progress_sink(),
        )?);
    }
    Ok(answers)
}

#[cfg(not(feature = "aws"))]
fn last_accessed_answers(
    _args: &AuditArgs,
    _details: &crate::policy::authorization::AuthorizationDetails,
    _opts: &crate::app::audit::AuditOptions,
) -> Result<crate::app::audit::LastAccessedAnswers, CliError> {
    Err(CliError::NotBuiltIn("cannot ask IAM for last-accessed data (built without the `aws` feature)"))
}

/// `--store`: gives the audit each principal's trend and what changed since the last audit of
/// the same source, and keeps it in the store.
#[cfg(feature = "store")]
fn keep_in_history(
    store: Option<&std::path::Path>,
    input: &InputArgs,
    audit: &mut crate::output::audit::Audit,
) -> Result<(), CliError> {
    let path = crate::app::collect::store_path(store)?;
    let history =
        crate::app::audit_history::AuditHistory::open(&path).map_err(crate::app::collect::CollectError::from)?;
    let source = crate::app::collect::store_key(
        &input.spec(),
        &input.remote_options(),
        &crate::mapping::evidence::CountedErrors::new(&input.count_errors),
    );
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    history.apply_and_keep(audit, &source, &now).map_err(crate::app::collect::CollectError::from)?;
    match &audit.previous_audit {
        Some(at) => {
            messages::note!("audit kept in {}; compared with the last audit of this source ({at})", path.display())
        }
        None => messages::note!(
            "audit kept in {}: the first of this source, the next one shows what changed",
            path.display()
        ),
    }
    Ok(())
}

#[cfg(not(feature = "store"))]
fn keep_in_history(
    _store: Option<&std::path::Path>,
    _input: &InputArgs,
    _audit: &mut crate::output::audit::Audit,
) -> Result<(), CliError> {
    Err(CliError::NotBuiltIn("--store: this build has no usage store (built without the `store` feature)"))
}

/// Reads the activity of every principal once, kept apart per principal (printing the source's
/// counters and notes). `--store` is refused: it keeps one principal's days.
pub(super) fn collect_every_principal(
    input: &InputArgs,
) -> Result<(crate::app::collect::Collected, TimeRange), CliError> {
    let range = window(input)?;
    let selection = Selection {
        principal: None,
        range,
        counted_errors: crate::mapping::evidence::CountedErrors::new(&input.count_errors),
        limits: crate::ingest::source::ReadLimits {
            max_document: usize::from(input.max_document_mb) << 20,
            max_record: usize::from(input.max_record_mb) << 20,
        },
        split_by: Some(crate::select::SplitBy::Principal),
    };
    let collected = input.read(&selection)?;
    for stats in &collected.stats {
        messages::line!("{stats}");
    }
    for notice in &collected.notices {
        match notice {
            crate::app::collect::Notice::Note(n) => messages::note!("{n}"),
            crate::app::collect::Notice::Warning(w) => messages::warning!("{w}"),
        }
    }
    Ok((collected, range))
}
