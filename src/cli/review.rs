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
    /// cdk.out/*.template.json, or `terraform show -json PLAN`; the kind is read from the content.
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
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: ReviewFormat,
    /// Write the review here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn pairs(values: &[String], flag: &str) -> Result<std::collections::BTreeMap<String, String>, CliError> {
    values
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| CliError::BadSource(format!("{flag} `{v}`: expected NAME=VALUE")))
        })
        .collect()
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
    check_outputs(&[args.output.as_deref()], None)?;
    let mut templates = Vec::new();
    for t in &args.templates {
        let text =
            std::fs::read_to_string(t).map_err(|e| CliError::BadSource(format!("--template {}: {e}", t.display())))?;
        templates.push((t.display().to_string(), text));
    }
    let opts = crate::app::review::ReviewOptions {
        map: pairs(&args.map, "--map")?,
        ctx: crate::policy::template::DeployContext {
            account: args.input.accounts.first().cloned(),
            region: args.input.regions.first().cloned(),
            stack_name: args.stack_name.clone(),
            parameters: pairs(&args.parameters, "--parameter")?,
            ..Default::default()
        },
        generate: crate::app::GenerateOptions::default(),
    };
    let (collected, _) = collect_every_principal(&args.input)?;
    let review = crate::app::review::review(&templates, &collected.usage, ActionCatalog::embedded(), &opts)
        .map_err(|e| CliError::BadSource(e.to_string()))?;
    let text = match args.format {
        ReviewFormat::Markdown => review.to_markdown(),
        ReviewFormat::Sarif => review.to_sarif(),
        ReviewFormat::Json => review.to_json(),
        ReviewFormat::Terminal => review.to_terminal(),
    };
    write_out(args.output.as_deref(), &text)?;
    for r in &review.roles {
        for u in &r.unreadable {
            messages::warning!("{u}");
        }
    }
    if !review.complete && !args.input.allow_incomplete {
        return Ok(ExitCode::Incomplete);
    }
    let findings = review
        .roles
        .iter()
        .any(|r| r.would_break() > 0 || r.unused() > 0 || r.no_new_access.as_ref().is_some_and(|n| !n.proven));
    Ok(if findings { ExitCode::DiffFound } else { ExitCode::Success })
}
