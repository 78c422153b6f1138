//! `iamtrim replay`: later calls against a policy learned earlier.

use super::*;
use crate::app::diff::load_policy;

/// `iamtrim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Activity to replay (typically the days after those the policy was learned from).
    #[command(flatten)]
    pub input: InputArgs,
    /// The policy to replay against: policy files (JSON, e.g. what `generate` wrote), or AWS
    /// managed policies by ARN or name.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE|ARN|NAME")]
    pub policy: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: ReplayFormat,
    /// Write the result here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Output format of `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayFormat {
    /// For people.
    Terminal,
    /// For machines.
    Json,
}

pub(super) fn run_replay(args: &ReplayArgs) -> Result<ExitCode, CliError> {
    check_outputs(&[args.output.as_deref()], None)?;
    // A policy that cannot be read fails before the logs are read.
    let identity = args.policy.iter().map(|p| load_policy(p)).collect::<Result<Vec<_>, _>>()?;
    let set = crate::policy::evaluator::PolicySet { identity, boundary: None };
    let collected = collect(&args.input, None)?;
    let reference = crate::app::diff::reference_policy(&collected.usage, ActionCatalog::embedded());
    report_run(&collected, &args.input, &reference, true, None)?;
    let report = crate::app::replay::replay(
        collected.role.as_str(),
        &collected.window,
        &collected.usage,
        &set,
        args.policy.clone(),
    );
    let text = match args.format {
        ReplayFormat::Json => report.to_json(),
        ReplayFormat::Terminal => report.to_text(),
    };
    write_out(args.output.as_deref(), &text)?;
    if !report.refused.is_empty() {
        messages::line!(
            "iamtrim: the policy refuses {} action/resource pairs of {} calls (exit 3)",
            report.refused.len(),
            report.calls - report.allowed_calls
        );
        return Ok(ExitCode::DiffFound);
    }
    Ok(incomplete_ending(&collected.usage, args.input.allow_incomplete, "calls in the gaps were not replayed"))
}
