//! `iamtrim diff`: its arguments, the current policies (files, managed names or IAM), the diff.

use super::*;
use crate::app::diff::load_policy;

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For people at a terminal (colour unless NO_COLOR or not a terminal).
    Terminal,
    /// For a pull-request comment.
    Markdown,
    /// For machines.
    Json,
}

/// What makes `diff` exit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Something is granted and never used.
    Unused,
    /// Something used (or tried) is not granted.
    NotGranted,
    /// Either of them.
    Any,
}

/// `iamtrim diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Activity to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Compare with these policies instead of the role's in IAM: policy files (JSON), or AWS
    /// managed policies by ARN or name (resolved from the bundled copies).
    #[arg(long, num_args = 1.., value_name = "FILE|ARN|NAME")]
    pub current: Vec<String>,
    /// With --current: this permissions boundary (file, ARN or name).
    #[arg(long, value_name = "FILE|ARN|NAME", requires = "current")]
    pub boundary: Option<String>,
    /// Resolve AWS managed policies from the bundled copies instead of IAM.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: DiffFormat,
    /// Exit 3 when this part of the diff is not empty.
    #[arg(long, value_enum, value_name = "unused|not-granted|any")]
    pub fail_on: Option<FailOn>,
    /// Write the diff here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub(super) fn run_diff(args: &DiffArgs) -> Result<ExitCode, CliError> {
    if let Some(done) = print_query(&args.input) {
        return done;
    }
    let catalog = ActionCatalog::embedded();
    check_outputs(&[args.output.as_deref()], None)?;
    let collected = collect(&args.input)?;
    let generated = crate::app::diff::reference_policy(&collected.usage, catalog);
    report_run(&collected, &args.input, &generated, true, None)?;
    let complete = collected.usage.is_complete();
    if !complete && !args.input.allow_incomplete {
        messages::error!("diff calls a permission unused only when everything was read; the gaps above were not. Read them again, or pass --allow-incomplete for the diff of what could be read");
        return Ok(incomplete_ending(&collected.usage, false, "no diff written"));
    }
    let current = if args.current.is_empty() {
        current_from_iam(args, &collected.role)?
    } else {
        let identity = args.current.iter().map(|c| load_policy(c)).collect::<Result<Vec<_>, _>>()?;
        let boundary = args.boundary.as_deref().map(load_policy).transpose()?;
        crate::policy::evaluator::PolicySet { identity, boundary }
    };
    let diff = crate::app::diff::diff(collected.role.as_str(), &collected.usage, &current, &generated, catalog);
    let text = match args.format {
        DiffFormat::Json => diff.to_json(),
        DiffFormat::Markdown => diff.to_markdown(),
        DiffFormat::Terminal => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            diff.to_terminal(colour)
        }
    };
    write_out(args.output.as_deref(), &text)?;
    if !diff.generated_policy_denies.is_empty() {
        messages::error!(
            "the generated policy would refuse {} calls the role made (a bug: please report it)",
            diff.generated_policy_denies.len()
        );
        return Ok(ExitCode::Error);
    }
    // Nothing is "unused" after an incomplete read, so --fail-on unused never fires on one.
    let unused = complete && !diff.unused_granted.is_empty();
    let fail = match args.fail_on {
        None => false,
        Some(FailOn::Unused) => unused,
        Some(FailOn::NotGranted) => !diff.used_not_granted.is_empty(),
        Some(FailOn::Any) => unused || !diff.used_not_granted.is_empty(),
    };
    let ending = incomplete_ending(
        &collected.usage,
        true,
        "the diff calls nothing unused, only \"not seen in what could be read\"",
    );
    Ok(if fail { ExitCode::DiffFound } else { ending })
}

#[cfg(feature = "aws")]
pub(super) fn current_from_iam(
    args: &DiffArgs,
    role: &PrincipalFilter,
) -> Result<crate::policy::evaluator::PolicySet, CliError> {
    let runtime = crate::app::remote::runtime()?;
    let aws =
        crate::aws::AwsOptions { profile: args.input.profile.clone(), endpoint_url: args.input.endpoint_url.clone() };
    let (set, notes) = runtime.block_on(crate::aws::iam::role_policies(&aws, role.name(), args.offline))?;
    for n in notes {
        messages::note!("{n}");
    }
    Ok(set)
}

#[cfg(not(feature = "aws"))]
pub(super) fn current_from_iam(
    _args: &DiffArgs,
    _role: &PrincipalFilter,
) -> Result<crate::policy::evaluator::PolicySet, CliError> {
    Err(CliError::NotBuiltIn("cannot read IAM (built without the `aws` feature): pass --current"))
}
