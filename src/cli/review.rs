//! `iamtrim review`: the roles of infrastructure templates against what they did, for a pull
//! request.

use super::*;

/// `review --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    /// A pull-request comment.
    Markdown,
    /// SARIF 2.1.0: results at the template lines (GitHub code scanning annotates the PR).
    Sarif,
    /// For machines.
    Json,
    /// For people at a terminal.
    Terminal,
}

/// `iamtrim review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Activity to read (every principal's, once).
    #[command(flatten)]
    pub input: InputArgs,
    /// A template under review (repeatable): CloudFormation or SAM (YAML or JSON), CDK's
    /// cdk.out/*.template.json (or the cdk.out directory: each of them), or `terraform show -json
    /// PLAN`; the kind is read from the content.
    #[arg(long = "template", required = true, value_name = "FILE")]
    pub templates: Vec<PathBuf>,
    /// A template role's activity is this role's (logical ID or address = role name or ARN;
    /// repeatable), when its name does not say it.
    #[arg(long = "map", value_name = "ID=ROLE")]
    pub map: Vec<String>,
    /// The stack's name (AWS::StackName).
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// A template parameter's value (repeatable); a parameter not given is unknown.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Also ask IAM Access Analyzer (CheckNoNewAccess, one billed call per role; needs
    /// access-analyzer:CheckNoNewAccess) whether each trimmed policy allows anything the
    /// template's policies do not; its PASS/FAIL and reasons go beside the offline proof.
    #[arg(long)]
    pub check_no_new_access: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: ReviewFormat,
    /// Write the review here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the review as SARIF here: the PR comment and code scanning from one run (one
    /// read of the activity, one Access Analyzer call per role).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// The files of `--template`: a directory (CDK's `cdk.out/`) gives its `*.template.json`, in
/// name order; one without any is an error.
fn template_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for t in given {
        if !t.is_dir() {
            files.push(t.clone());
            continue;
        }
        let entries =
            std::fs::read_dir(t).map_err(|e| CliError::BadSource(format!("--template {}: {e}", t.display())))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".template.json")))
            .collect();
        if found.is_empty() {
            return Err(CliError::BadSource(format!(
                "--template {}: a directory without *.template.json (give a template file, or CDK's cdk.out/)",
                t.display()
            )));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

pub(super) fn run_review(args: &ReviewArgs) -> Result<ExitCode, CliError> {
    if args.input.role.is_some()
        || args.input.user.is_some()
        || args.input.principal.is_some()
        || args.input.permission_set.is_some()
    {
        return Err(CliError::BadSource(
            "review reads every role of the templates: match them with --map ID=ROLE, not --role".into(),
        ));
    }
    check_outputs(&[args.output.as_deref(), args.sarif.as_deref()], None)?;
    let mut templates = Vec::new();
    for t in template_files(&args.templates)? {
        let text =
            std::fs::read_to_string(&t).map_err(|e| CliError::BadSource(format!("--template {}: {e}", t.display())))?;
        templates.push((t.display().to_string(), text));
    }
    let opts = crate::app::review::ReviewOptions {
        map: name_value_pairs(&args.map, "--map")?,
        ctx: args.input.given_deploy_context(args.stack_name.as_deref(), &args.parameters)?,
        generate: crate::app::GenerateOptions::default(),
    };
    let (collected, _) = collect_every_principal(&args.input)?;
    let mut review = crate::app::review::review(&templates, &collected.usage, ActionCatalog::embedded(), &opts)
        .map_err(|e| CliError::BadSource(e.to_string()))?;
    if args.check_no_new_access {
        check_no_new_access(&args.input, &mut review)?;
    }
    let text = match args.format {
        ReviewFormat::Markdown => review.to_markdown(),
        ReviewFormat::Sarif => review.to_sarif(),
        ReviewFormat::Json => review.to_json(),
        ReviewFormat::Terminal => review.to_terminal(),
    };
    write_out(args.output.as_deref(), &text)?;
    if let Some(path) = &args.sarif {
        std::fs::write(path, review.to_sarif())
            .map_err(|source| CliError::Write { path: path.display().to_string(), source })?;
    }
    for r in &review.roles {
        for u in &r.unreadable {
            messages::warning!("{u}");
        }
    }
    if !review.complete && !args.input.allow_incomplete {
        return Ok(ExitCode::Incomplete);
    }
    let findings = review.roles.iter().any(crate::output::review::ReviewedRole::has_findings);
    Ok(if findings { ExitCode::DiffFound } else { ExitCode::Success })
}

/// `--check-no-new-access`: IAM Access Analyzer's answer for every trimmed policy; a role it
/// could not check is warned about (and is a finding).
#[cfg(feature = "aws")]
fn check_no_new_access(input: &InputArgs, review: &mut crate::output::review::Review) -> Result<(), CliError> {
    crate::app::remote::check_no_new_access(&input.remote_options(), review, &progress_sink())?;
    for r in &review.roles {
        if let Some(a) = &r.access_analyzer {
            match &a.error {
                Some(e) => messages::warning!("{}: IAM Access Analyzer did not check the trimmed policy: {e}", r.id),
                None => messages::note!("{}: IAM Access Analyzer CheckNoNewAccess: {}", r.id, a.result),
            }
        }
    }
    Ok(())
}

#[cfg(not(feature = "aws"))]
fn check_no_new_access(_input: &InputArgs, _review: &mut crate::output::review::Review) -> Result<(), CliError> {
    Err(CliError::NotBuiltIn(
        "cannot ask IAM Access Analyzer (built without the `aws` feature): leave out --check-no-new-access",
    ))
}
