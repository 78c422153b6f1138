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
    /// Compare with these policies instead of the role's in IAM: policy files (JSON), AWS
    /// managed policies by ARN or name (resolved from the bundled copies), or infrastructure
    /// templates (CloudFormation or SAM YAML/JSON, CDK's cdk.out/*.template.json, `terraform
    /// show -json PLAN`), of which the role's policies are taken.
    #[arg(long, num_args = 1.., value_name = "FILE|ARN|NAME")]
    pub current: Vec<String>,
    /// With a template in --current: its role to compare (logical ID or Terraform address),
    /// when its name is not the role's.
    #[arg(long, value_name = "ID", requires = "current")]
    pub template_role: Option<String>,
    /// With a template: the stack's name (AWS::StackName).
    #[arg(long, value_name = "NAME", requires = "current")]
    pub stack_name: Option<String>,
    /// With a template: a parameter's value (repeatable); a parameter not given is unknown,
    /// even with a Default.
    #[arg(long = "parameter", value_name = "NAME=VALUE", requires = "current")]
    pub parameters: Vec<String>,
    /// Read the current policies from this file instead of IAM: the output of `aws iam
    /// get-account-authorization-details` (roles, users with their groups, boundaries, and the
    /// customer managed policies they attach).
    #[arg(long, value_name = "FILE", conflicts_with = "current")]
    pub auth_details: Option<PathBuf>,
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
    if let Some(done) = print_query(&args.input, None) {
        return done;
    }
    let catalog = ActionCatalog::embedded();
    check_outputs(&[args.output.as_deref()], None)?;
    let collected = collect(&args.input, None)?;
    let generated = crate::app::diff::reference_policy(&collected.usage, catalog);
    report_run(&collected, &args.input, &generated, true, None)?;
    let complete = collected.usage.is_complete();
    if !complete && !args.input.allow_incomplete {
        messages::error!("diff calls a permission unused only when everything was read; the gaps above were not. Read them again, or pass --allow-incomplete for the diff of what could be read");
        return Ok(incomplete_ending(&collected.usage, false, "no diff written"));
    }
    let current = if let Some(file) = &args.auth_details {
        current_from_auth_details(file, &collected)?
    } else if args.current.is_empty() {
        current_from_iam(args, &collected)?
    } else {
        let ctx = deploy_context(args, &collected)?;
        let crate::app::diff::CurrentPolicies { identity, boundary: from_template, notes } =
            crate::app::diff::load_current(
                &args.current,
                collected.role.as_str(),
                args.template_role.as_deref(),
                &ctx,
            )?;
        for n in notes {
            match n.strip_prefix("UNREADABLE ") {
                Some(u) => messages::warning!("{u}"),
                None => messages::note!("{n}"),
            }
        }
        let boundary = match args.boundary.as_deref() {
            Some(b) => Some(load_policy(b)?),
            None => from_template,
        };
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

/// What a template leaves to deploy time, as far as the run knows it: `--account` and
/// `--region` when given, else the account and partition of the principal's ARN (when the
/// activity names one account).
fn deploy_context(args: &DiffArgs, collected: &Collected) -> Result<crate::policy::template::DeployContext, CliError> {
    let ctx = args.input.given_deploy_context(args.stack_name.as_deref(), &args.parameters)?;
    // The principal's ARN says the account and partition when the activity names one account.
    let accounts: std::collections::BTreeSet<&str> = collected
        .usage
        .matched_roles
        .keys()
        .filter_map(|a| crate::mapping::arn::Arn::parse(a).map(|a| a.account))
        .collect();
    let key = collected.usage.matched_roles.keys().next().filter(|_| accounts.len() == 1).map(String::as_str);
    let ctx = crate::app::review::deploy_context(key, &collected.usage, &ctx);
    Ok(ctx)
}

/// The IAM role names of a permission set's roles that matched (one per account).
fn permission_set_roles(collected: &Collected) -> Vec<String> {
    collected
        .usage
        .matched_roles
        .keys()
        .filter_map(|arn| arn.rsplit('/').next())
        .filter(|n| crate::select::principal::permission_set_of_role(n).is_some())
        .map(str::to_string)
        .collect()
}

/// The refusal for a federated user: its grants are the intersection of the federating user's
/// policies and a session policy CloudTrail does not log.
fn federated_refusal(collected: &Collected) -> CliError {
    CliError::BadSource(format!(
        "{}: a federated user's permissions are those of the IAM user that called GetFederationToken, intersected with the session policy it passed (which CloudTrail does not log). Diff the federating user with --user NAME: its activity includes its federated users'",
        collected.role.describe()
    ))
}

/// The current policies of the principal from `aws iam get-account-authorization-details` output.
fn current_from_auth_details(
    file: &Path,
    collected: &Collected,
) -> Result<crate::policy::evaluator::PolicySet, CliError> {
    use crate::policy::authorization::AuthorizationDetails;
    use crate::select::PrincipalKind;
    if collected.role.kind() == PrincipalKind::FederatedUser {
        return Err(federated_refusal(collected));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::BadSource(format!("--auth-details {}: {e}", file.display())))?;
    let bad = |e: crate::policy::authorization::AuthDetailsError| {
        CliError::BadSource(format!("--auth-details {}: {e}", file.display()))
    };
    let details = AuthorizationDetails::parse(&text).map_err(bad)?;
    let p = &collected.role;
    match p.kind() {
        PrincipalKind::Role => details.role_policies(p.name(), p.account()).map_err(bad),
        PrincipalKind::User => details.user_policies(p.name(), p.account()).map_err(bad),
        PrincipalKind::FederatedUser => Err(federated_refusal(collected)),
        PrincipalKind::PermissionSet => {
            // The permission set's role in the file's account: the same policies in every account.
            let names = permission_set_roles(collected);
            let known = details.role_names();
            let role = names
                .iter()
                .find(|n| known.iter().any(|k| k.eq_ignore_ascii_case(n)))
                .cloned()
                .or_else(|| {
                    known
                        .iter()
                        .find(|k| {
                            crate::select::principal::permission_set_of_role(k)
                                .is_some_and(|s| s.eq_ignore_ascii_case(p.name()))
                        })
                        .map(|k| k.to_string())
                })
                .ok_or_else(|| {
                    CliError::BadSource(format!(
                        "--auth-details {}: no AWSReservedSSO_{}_* role in the file",
                        file.display(),
                        p.name()
                    ))
                })?;
            messages::note!("the permission set's policies are read from its role {role} in the file");
            details.role_policies(&role, None).map_err(bad)
        }
    }
}

#[cfg(feature = "aws")]
pub(super) fn current_from_iam(
    args: &DiffArgs,
    collected: &Collected,
) -> Result<crate::policy::evaluator::PolicySet, CliError> {
    use crate::select::PrincipalKind;
    let runtime = crate::app::remote::runtime()?;
    let aws =
        crate::aws::AwsOptions { profile: args.input.profile.clone(), endpoint_url: args.input.endpoint_url.clone() };
    let p = &collected.role;
    let partition = p.partition().unwrap_or_else(|| collected.usage.partition());
    let (set, notes) = match p.kind() {
        PrincipalKind::Role => {
            runtime.block_on(crate::aws::iam::role_policies(&aws, partition, p.name(), args.offline))?
        }
        PrincipalKind::User => {
            runtime.block_on(crate::aws::iam::user_policies(&aws, partition, p.name(), args.offline))?
        }
        PrincipalKind::FederatedUser => return Err(federated_refusal(collected)),
        PrincipalKind::PermissionSet => {
            // Its role in the credentials' account (each account has its own role name).
            let mut last = None;
            let mut found = None;
            for role in permission_set_roles(collected) {
                match runtime.block_on(crate::aws::iam::role_policies(&aws, partition, &role, args.offline)) {
                    Ok(answer) => {
                        messages::note!("the permission set's policies are read from its role {role}");
                        found = Some(answer);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            match (found, last) {
                (Some(answer), _) => answer,
                (None, Some(e)) => return Err(e.into()),
                (None, None) => return Err(CliError::BadSource("no role of the permission set matched".into())),
            }
        }
    };
    for n in notes {
        messages::note!("{n}");
    }
    Ok(set)
}

#[cfg(not(feature = "aws"))]
pub(super) fn current_from_iam(
    _args: &DiffArgs,
    _collected: &Collected,
) -> Result<crate::policy::evaluator::PolicySet, CliError> {
    Err(CliError::NotBuiltIn("cannot read IAM (built without the `aws` feature): pass --current"))
}
