//! `iamtrim generate`: its arguments, the policy shaped to the size limits, and its outputs.

use super::*;

/// `iamtrim generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Activity to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the policy here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write a JSON report (counts, rejected records, denied and unmapped calls, evidence per action).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Kept for scripts: any input that could not be read now exits 4 (INCOMPLETE) by default.
    #[arg(long, conflicts_with = "allow_incomplete")]
    pub strict: bool,
    /// Resource generalization: `exact` (every ARN seen), `prefix` (many ARNs in one bucket,
    /// table or log group collapse to their longest common path plus *), `service` (* for
    /// every action).
    #[arg(long, value_enum, default_value = "prefix")]
    pub resources: ResourcesArg,
    /// With `--resources prefix`: more ARNs than this in one container are collapsed.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_arns_per_statement: usize,
    /// Output format: the policy JSON, Terraform, a CloudFormation template, or a SAM `Policies:` block.
    #[arg(long, value_enum, default_value = "json")]
    pub format: PolicyFormat,
    /// When the policy is over the 6,144-character managed policy limit, write it split into
    /// several policies here (`<role>-1.json`, ...) instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print, for each statement, the events (source, name, count, first and last seen) that
    /// justify each action, and why implied permissions are there.
    #[arg(long)]
    pub explain: bool,
    /// Add conditions from how the calls were made: aws:RequestedRegion (the regions seen),
    /// aws:SourceVpce (when every call came through one VPC endpoint), kms:ViaService or
    /// aws:CalledVia (when every call was made by a service on the role's behalf).
    #[arg(long)]
    pub conditions: bool,
    /// One policy per workload of a shared role, written to --output-dir, with a table of the
    /// groups: by `session` name (per-run suffixes removed; Lambda's is the function name),
    /// `user-agent` (tool and execution environment), `source-ip` or `invoked-by` (the calling
    /// service).
    #[arg(long, value_name = "session|user-agent|source-ip|invoked-by", requires = "output_dir")]
    pub split_by: Option<crate::select::SplitBy>,
    /// With `--format terraform`: an `aws_iam_policy` resource with jsonencode, or an
    /// `aws_iam_policy_document` data source.
    #[arg(long, value_enum, default_value = "resource")]
    pub terraform_style: TerraformStyle,
}

/// `generate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    /// IAM policy JSON.
    Json,
    /// Terraform HCL (`aws_iam_policy` or `aws_iam_policy_document`, see --terraform-style).
    Terraform,
    /// A CloudFormation template (YAML) with an AWS::IAM::ManagedPolicy.
    Cloudformation,
    /// The Policies: block of an AWS::Serverless::Function.
    Sam,
}

/// `--terraform-style`: how the Terraform is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TerraformStyle {
    /// resource "aws_iam_policy" with jsonencode.
    Resource,
    /// data "aws_iam_policy_document".
    Document,
}

/// `--resources`: how far ARNs are generalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResourcesArg {
    /// Every ARN seen.
    Exact,
    /// Collapse many ARNs of one container to a common prefix.
    Prefix,
    /// `*` for every action.
    Service,
}

pub(super) fn generate(args: &GenerateArgs) -> Result<ExitCode, CliError> {
    if let Some(done) = print_query(&args.input, args.split_by) {
        return done;
    }
    check_outputs(&[args.output.as_deref(), args.report.as_deref()], args.output_dir.as_deref())?;
    let c = super::kept_until_exit(collect(&args.input, args.split_by)?);
    let opts = synth::SynthOptions {
        resources: match args.resources {
            ResourcesArg::Exact => synth::ResourceMode::Exact,
            ResourcesArg::Prefix => synth::ResourceMode::Prefix,
            ResourcesArg::Service => synth::ResourceMode::Service,
        },
        max_arns_per_statement: args.max_arns_per_statement.max(1),
        conditions: args.conditions,
    };
    let generated = crate::app::generate(
        &c.usage,
        ActionCatalog::embedded(),
        &crate::app::GenerateOptions { synth: opts, limit: None },
    );
    for notice in &generated.notices {
        messages::warning!("{notice}");
    }
    let crate::app::Generated { policy, parts, widenings, fit_steps, conditions, self_check: check, .. } = generated;
    let mut report = report_run(&c, &args.input, &policy, messages::quiet(), args.report.as_deref())?;
    for step in &fit_steps {
        messages::line!("  to fit the managed policy limit: {step}");
    }
    if !widenings.is_empty() && !messages::quiet() {
        messages::line!("  widened resources (--resources prefix):");
        for w in &widenings {
            messages::line!("    {}: {} ARNs -> {} ({})", w.action, w.replaced, visible(&w.pattern), w.reason);
        }
    }
    report.widened = widenings;
    if opts.conditions {
        let notes = conditions;
        if !messages::quiet() {
            messages::line!("  conditions (--conditions):");
            for n in &notes {
                match n.sid.as_str() {
                    "" => messages::line!("    {}: {}", n.key, visible(&n.evidence)),
                    sid => messages::line!(
                        "    {sid}: {} = {}: {}",
                        n.key,
                        visible(&n.values.join(", ")),
                        visible(&n.evidence)
                    ),
                }
            }
            if notes.is_empty() {
                messages::line!("    none: no call carried a region, endpoint or calling service to condition on");
            }
        }
        report.conditions = notes;
    }
    if args.explain {
        messages::write(&report.explain(&policy));
    }
    // Self-check: the policy must allow every call it was made from.
    if !messages::quiet() || !check.refused.is_empty() {
        messages::line!(
            "  self-check: allows {}/{} observed calls ({} action/resource pairs)",
            check.allowed_calls,
            check.calls,
            check.pairs
        );
    }
    report.self_check = Some(check.clone());
    if !check.refused.is_empty() {
        for (a, r) in &check.refused {
            messages::error!("the generated policy would refuse {a} on {}", visible(r));
        }
        return Err(CliError::SelfCheck { refused: check.refused.len() });
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
        write_out(Some(path), &json)?;
    }
    let format = emit_format(args.format, args.terraform_style);
    if let (Some(split), Some(dir), Some(by)) = (&c.split, &args.output_dir, args.split_by) {
        write_split(split, dir, by, format, &c, &opts)?;
        return Ok(incomplete_ending(&c.usage, args.input.allow_incomplete, "the policies cover only what was read"));
    }
    match (&args.output_dir, parts.len()) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .map_err(|source| CliError::Write { path: dir.display().to_string(), source })?;
            let ext = extension(format);
            let files: Vec<(String, String, usize)> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let name = if parts.len() == 1 {
                        c.role.name().to_string()
                    } else {
                        format!("{}-{}", c.role.name(), i + 1)
                    };
                    (format!("{name}.{ext}"), crate::output::emit::render(part, format, &name), part.size())
                })
                .collect();
            write_parts(dir, c.role.name(), &files)?;
        }
        (None, n) => {
            if n > 1 {
                messages::warning!("the policy does not fit one managed policy; pass --output-dir DIR to write it as {n} policies (the whole policy is on stdout)");
            }
            write_out(args.output.as_deref(), &crate::output::emit::render(&policy, format, c.role.name()))?;
        }
    }
    Ok(incomplete_ending(&c.usage, args.input.allow_incomplete, "the policy covers only what was read"))
}

/// The emitter's format for `--format` and `--terraform-style` (generate and boundary).
pub(super) fn emit_format(format: PolicyFormat, style: TerraformStyle) -> crate::output::emit::Format {
    match (format, style) {
        (PolicyFormat::Json, _) => crate::output::emit::Format::Json,
        (PolicyFormat::Terraform, TerraformStyle::Resource) => crate::output::emit::Format::TerraformResource,
        (PolicyFormat::Terraform, TerraformStyle::Document) => crate::output::emit::Format::TerraformDocument,
        (PolicyFormat::Cloudformation, _) => crate::output::emit::Format::CloudFormation,
        (PolicyFormat::Sam, _) => crate::output::emit::Format::Sam,
    }
}

/// The file extension of a policy written in `format` to `--output-dir`.
fn extension(format: crate::output::emit::Format) -> &'static str {
    match format {
        crate::output::emit::Format::Json => "json",
        crate::output::emit::Format::TerraformResource | crate::output::emit::Format::TerraformDocument => "tf",
        crate::output::emit::Format::CloudFormation | crate::output::emit::Format::Sam => "yaml",
    }
}

/// A group's name as part of a file name and a Terraform or CloudFormation name: letters,
/// digits, `-` and `_` (at most 48), `*` as `any`; a second group with the same name gets `-2`.
fn group_file_name(group: &str, used: &mut std::collections::BTreeSet<String>) -> String {
    let mut s = String::new();
    for ch in group.replace('*', "any").chars() {
        let ok = ch.is_ascii_alphanumeric() || ch == '-' || ch == '_';
        let ch = if ok { ch } else { '-' };
        if !(ch == '-' && (s.is_empty() || s.ends_with('-'))) && s.len() < 48 {
            s.push(ch);
        }
    }
    let s = s.trim_end_matches('-').to_string();
    let s = if s.is_empty() { "group".to_string() } else { s };
    let mut name = s.clone();
    let mut n = 2;
    while !used.insert(name.to_ascii_lowercase()) {
        name = format!("{s}-{n}");
        n += 1;
    }
    name
}

/// `--split-by`: one policy per group (each self-checked) in `dir`, and the table of groups.
fn write_split(
    split: &usage::Usage,
    dir: &Path,
    by: crate::select::SplitBy,
    format: crate::output::emit::Format,
    c: &Collected,
    opts: &synth::SynthOptions,
) -> Result<(), CliError> {
    let s = crate::app::split::split(
        split,
        ActionCatalog::embedded(),
        &crate::app::GenerateOptions { synth: *opts, limit: None },
    );
    for g in &s.groups {
        let check = &g.generated.self_check;
        if !check.refused.is_empty() {
            for (a, r) in &check.refused {
                messages::error!("the policy of group {} would refuse {a} on {}", visible(&g.name), visible(r));
            }
            return Err(CliError::SelfCheck { refused: check.refused.len() });
        }
    }
    if !s.union_check.refused.is_empty() {
        return Err(CliError::SelfCheck { refused: s.union_check.refused.len() });
    }
    let ext = extension(format);
    let mut used = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    let mut rows = Vec::new();
    for g in &s.groups {
        let base = format!("{}-{}", c.role.name(), group_file_name(&g.name, &mut used));
        let parts = &g.generated.parts;
        for (i, part) in parts.iter().enumerate() {
            let name = if parts.len() == 1 { base.clone() } else { format!("{base}-{}", i + 1) };
            files.push((format!("{name}.{ext}"), crate::output::emit::render(part, format, &name), part.size()));
        }
        let own = g.actions.difference(&s.shared).count();
        rows.push(crate::output::split::SplitRow {
            group: g.name.clone(),
            calls: g.calls,
            actions: g.actions.len(),
            own_actions: own,
            self_check: (g.generated.self_check.allowed_calls, g.generated.self_check.calls),
            file: if parts.len() == 1 { format!("{base}.{ext}") } else { format!("{base}-1..{}.{ext}", parts.len()) },
        });
    }
    write_parts(dir, c.role.name(), &files)?;
    let table = crate::output::split::SplitTable {
        split_by: by.name(),
        rule: by.rule(),
        rows,
        shared: s.shared.iter().cloned().collect(),
        union: (s.union_check.allowed_calls, s.union_check.calls),
    };
    print!("{}", table.render());
    Ok(())
}

/// `--output-dir`: writes each part atomically (a temporary name, then a rename), then removes
/// the parts an earlier run wrote for the same role that this run did not (named in the
/// directory's manifest for the role), and nothing else.
pub(super) fn write_parts(dir: &Path, role: &str, files: &[(String, String, usize)]) -> Result<(), CliError> {
    let fail = |path: &Path| {
        let path = path.display().to_string();
        move |source| CliError::Write { path, source }
    };
    let manifest = dir.join(format!(".iamtrim-{role}.manifest"));
    let earlier: Vec<String> =
        std::fs::read_to_string(&manifest).map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default();
    for (name, text, size) in files {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(fail(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(fail(&path))?;
        messages::line!("  wrote {} ({size} characters)", path.display());
    }
    for stale in earlier.iter().filter(|e| !files.iter().any(|(n, _, _)| n == *e)) {
        // Only a plain file name this iamtrim could have written for the role.
        let ours = stale.starts_with(role) && !stale.contains(['/', '\\']) && !stale.starts_with('.');
        let path = dir.join(stale);
        if ours && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&path).map_err(fail(&path))?;
            messages::line!(
                "  removed {} (a part an earlier run wrote; the policy now has {} parts)",
                path.display(),
                files.len()
            );
        }
    }
    let names: String = files.iter().map(|(n, _, _)| format!("{n}\n")).collect();
    let tmp = dir.join(format!(".iamtrim-{role}.manifest.tmp"));
    std::fs::write(&tmp, names).map_err(fail(&tmp))?;
    std::fs::rename(&tmp, &manifest).map_err(fail(&manifest))
}

/// Fails before any source is read when an output file or directory could not be written: a
/// long read should not end in "cannot write".
pub(super) fn check_outputs(files: &[Option<&Path>], dir: Option<&Path>) -> Result<(), CliError> {
    let probe = |dir: &Path| -> Result<(), CliError> {
        let p = dir.join(format!(".iamtrim-probe-{}", std::process::id()));
        let result = std::fs::write(&p, b"");
        let _ = std::fs::remove_file(&p);
        result.map_err(|source| CliError::Write { path: dir.display().to_string(), source })
    };
    for f in files.iter().flatten() {
        if f.is_dir() {
            return Err(CliError::Write {
                path: f.display().to_string(),
                source: std::io::Error::other("is a directory"),
            });
        }
        if f.exists() {
            std::fs::OpenOptions::new()
                .append(true)
                .open(f)
                .map_err(|source| CliError::Write { path: f.display().to_string(), source })?;
        } else {
            let parent = f.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            probe(parent)?;
        }
    }
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|source| CliError::Write { path: d.display().to_string(), source })?;
        probe(d)?;
    }
    Ok(())
}
