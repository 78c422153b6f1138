//! `iamtrim boundary`: the permissions boundary that covers what a set of principals used.

use super::*;

/// `iamtrim boundary`.
#[derive(Debug, Args)]
pub struct BoundaryArgs {
    /// Activity to read (every principal's, once).
    #[command(flatten)]
    pub input: InputArgs,
    /// The principals the boundary is for: role or user names or ARNs, `*` and `?` allowed
    /// (`team-a-*`), matched case-insensitively.
    #[arg(long, required = true, num_args = 1.., value_name = "PATTERN")]
    pub principals: Vec<String>,
    /// Output format: the policy JSON, Terraform, a CloudFormation template, or a SAM `Policies:` block.
    #[arg(long, value_enum, default_value = "json")]
    pub format: PolicyFormat,
    /// With `--format terraform`: an `aws_iam_policy` resource or an `aws_iam_policy_document`.
    #[arg(long, value_enum, default_value = "resource")]
    pub terraform_style: TerraformStyle,
    /// Write the boundary here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The name of the boundary (Terraform and CloudFormation resource names).
    #[arg(long, default_value = "team-boundary")]
    pub name: String,
}

pub(super) fn run_boundary(args: &BoundaryArgs) -> Result<ExitCode, CliError> {
    if args.input.role.is_some()
        || args.input.user.is_some()
        || args.input.principal.is_some()
        || args.input.permission_set.is_some()
    {
        return Err(CliError::BadSource(
            "boundary takes its principals with --principals PATTERN..., not --role, --user, --principal or --permission-set".into(),
        ));
    }
    if !args.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || args.name.is_empty() {
        return Err(CliError::BadSource(format!("--name `{}`: letters, digits, - and _ only", visible(&args.name))));
    }
    check_outputs(&[args.output.as_deref()], None)?;
    let (collected, _) = collect_every_principal(&args.input)?;
    let Some(b) = crate::app::boundary::boundary(&collected.usage, &args.principals, ActionCatalog::embedded()) else {
        return Err(CliError::NoActivity {
            message: format!(
                "no principal matching {} made a call in what was read: no boundary is written from no events",
                args.principals.iter().map(|p| format!("`{}`", visible(p))).collect::<Vec<_>>().join(", ")
            ),
            incomplete: !collected.usage.gaps.is_empty(),
        });
    };
    messages::line!(
        "iamtrim: boundary for {} principals ({} records): {}",
        b.principals.len(),
        b.principals.iter().map(|(_, n)| n).sum::<u64>(),
        b.principals.iter().map(|(p, n)| format!("{} ({n})", visible(p))).collect::<Vec<_>>().join(", ")
    );
    messages::line!(
        "  accounts {} · regions {} · {} statements, {} characters",
        b.accounts.iter().cloned().collect::<Vec<_>>().join(", "),
        b.regions.iter().cloned().collect::<Vec<_>>().join(", "),
        b.policy.statement.len(),
        b.policy.size()
    );
    messages::line!(
        "  self-check: allows {}/{} calls of these principals ({} action/resource pairs)",
        b.self_check.allowed_calls,
        b.self_check.calls,
        b.self_check.pairs
    );
    if !b.self_check.refused.is_empty() {
        return Err(CliError::SelfCheck { refused: b.self_check.refused.len() });
    }
    let format = emit_format(args.format, args.terraform_style);
    write_out(args.output.as_deref(), &crate::output::emit::render(&b.policy, format, &args.name))?;
    Ok(incomplete_ending(&collected.usage, args.input.allow_incomplete, "the boundary covers only what was read"))
}
