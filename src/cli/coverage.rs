//! `iamtrim coverage`: how much of a corpus maps to IAM actions.

use super::*;

/// `iamtrim coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// CloudTrail log files or directories.
    #[arg(long, required_unless_present = "service_reference", num_args = 1.., value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Instead of logs, every operation AWS's Service Reference documents, as a synthesized call:
    /// the share mapped, overall and for operations whose name is not an action of their
    /// service, and any action emitted outside the operation's AuthorizedActions.
    #[arg(long, conflicts_with = "logs")]
    pub service_reference: bool,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run_coverage(args: &CoverageArgs) -> Result<ExitCode, CliError> {
    let mapper = EventMapper::new(ActionCatalog::embedded());
    if args.service_reference {
        let report = crate::output::sr_coverage::measure(&mapper);
        let text =
            if args.json { serde_json::to_string_pretty(&report).unwrap_or_default() + "\n" } else { report.to_text() };
        write_out(None, &text)?;
        return Ok(if report.outside_authorized.is_empty() { ExitCode::Success } else { ExitCode::Error });
    }
    let report = crate::output::coverage::measure(&args.logs, &mapper);
    if report.records_read == 0 {
        return Err(CliError::NoLogFiles(
            args.logs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        ));
    }
    if args.json {
        write_out(None, &(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"))?;
    } else {
        let mut s = String::new();
        use std::fmt::Write as _;
        let _ = writeln!(
            s,
            "records: {} read in {} files, {} rejected",
            report.records_read, report.files_read, report.records_rejected
        );
        for (title, f) in
            [("all principals", &report.all_principals), ("IAM users and roles", &report.iam_users_and_roles)]
        {
            let _ = writeln!(
                s,
                "{title}: {} distinct eventSource/eventName pairs, {} real operations, {} mapped: {:.1}%",
                f.pairs, f.real_operation_pairs, f.mapped_pairs, f.coverage_percent
            );
        }
        let _ = writeln!(s, "actions: {}", report.actions.len());
        for (status, title) in [
            ("unmapped", "unmapped operations"),
            ("not_an_operation", "not operations AWS documents (never mapped)"),
            ("not_an_api_call", "not API calls"),
        ] {
            let list: Vec<_> = report.pair_details.iter().filter(|p| p.status == status).collect();
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{title}:");
            for p in list {
                let _ = writeln!(s, "  {} {} ×{}", visible(&p.source), visible(&p.name), p.count);
            }
        }
        for r in report.rejected.iter().take(100) {
            let _ = writeln!(s, "rejected: {}", visible(&r.to_string()));
        }
        write_out(None, &s)?;
    }
    Ok(ExitCode::Success)
}
