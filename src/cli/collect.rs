//! Reading the activity of a run from its source, and the summary and checks every run ends with
//! (nothing readable, no activity, two accounts, INCOMPLETE).

use super::*;

/// The activity of a run, and whose it is.
pub(super) struct Collected {
    pub(super) role: PrincipalFilter,
    pub(super) window: String,
    pub(super) usage: usage::Usage,
    /// With `--split-by`: the usage as read, its groups kept apart (`usage` has them merged).
    pub(super) split: Option<usage::Usage>,
    pub(super) source_stats: Option<crate::output::source_stats::SourceStats>,
    /// No log file was found at all (local source).
    pub(super) no_files: bool,
    /// The source's notes and warnings, printed after the run's summary (whose first line says
    /// INCOMPLETE when something could not be read).
    pub(super) notices: Vec<crate::app::collect::Notice>,
}

/// Reads the activity `input` names (printing the source's notes and counters).
pub(super) fn collect(input: &InputArgs, split_by: Option<crate::select::SplitBy>) -> Result<Collected, CliError> {
    let (role, range) = role_and_window(input)?;
    let limits = crate::ingest::source::ReadLimits {
        max_document: usize::from(input.max_document_mb) << 20,
        max_record: usize::from(input.max_record_mb) << 20,
    };
    let selection = Selection {
        principal: Some(role.clone()),
        range,
        counted_errors: crate::mapping::evidence::CountedErrors::new(&input.count_errors),
        limits,
        split_by,
    };
    if split_by.is_some() && input.store.is_some() {
        return Err(CliError::BadSource("--split-by needs what the usage store does not keep: each day's aggregate is stored without its sessions, user agents and addresses. Leave out --store".into()));
    }
    let collected = input.read(&selection)?;
    for stats in &collected.stats {
        messages::line!("{stats}");
    }
    let window = if range.is_bounded() || input.store.is_some() {
        range.to_string()
    } else {
        "all events in the logs".to_string()
    };
    debug_assert!(collected.usage.reconciles());
    let source_stats = collected.report_stats().cloned();
    let (usage, split) = match split_by {
        Some(_) => (collected.usage.clone().unsplit(), Some(collected.usage)),
        None => (collected.usage, None),
    };
    one_account(&role, &usage)?;
    Ok(Collected { role, window, usage, split, source_stats, no_files: collected.no_files, notices: collected.notices })
}

/// A bare role name matches in every account; when it matched roles of more than one, the
/// activity of different roles would be merged: refuse, and name the ARNs to choose from.
pub(super) fn one_account(role: &PrincipalFilter, usage: &usage::Usage) -> Result<(), CliError> {
    // A permission set's roles are in every account it is assigned to: one policy for all.
    if role.account().is_some() || role.kind() == crate::select::PrincipalKind::PermissionSet {
        return Ok(());
    }
    let mut by_account: std::collections::BTreeMap<String, (Vec<&str>, u64)> = std::collections::BTreeMap::new();
    for (arn, n) in &usage.matched_roles {
        let account = crate::mapping::arn::Arn::parse(arn).map(|a| a.account.to_string()).unwrap_or_default();
        let e = by_account.entry(account).or_default();
        e.0.push(arn);
        e.1 += n;
    }
    if by_account.len() < 2 {
        return Ok(());
    }
    let list: Vec<String> = by_account
        .iter()
        .map(|(account, (arns, n))| {
            format!("  account {}: {} ({n} records)", visible(account), visible(&arns.join(", ")))
        })
        .collect();
    Err(CliError::Ambiguous(format!(
        "{} name `{}` matched {}s in {} accounts; iamtrim never merges two accounts' activity. Pass one ARN with --{}:\n{}",
        role.kind().noun(),
        role.name(),
        role.kind().noun(),
        by_account.len(),
        if role.kind() == crate::select::PrincipalKind::User { "user" } else { "role" },
        list.join("\n")
    )))
}

/// The message for a role with no event in what was read: what was read, the principals seen
/// most, and the role names closest to the one asked for.
pub(super) fn no_activity(c: &Collected) -> CliError {
    let usage = &c.usage;
    let mut seen: Vec<(&String, &u64)> = usage.principals_seen.iter().collect();
    seen.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = seen.iter().take(5).map(|(p, n)| format!("{} ({n})", visible(p))).collect();
    let wanted = c.role.name().to_ascii_lowercase();
    let mut names: Vec<(usize, String)> = usage
        .principals_seen
        .keys()
        .filter_map(|p| {
            let marker = match c.role.kind() {
                crate::select::PrincipalKind::User => ":user/",
                crate::select::PrincipalKind::FederatedUser => ":federated-user/",
                _ => ":role/",
            };
            p.split_once(marker).map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_string())
        })
        .map(|n| match c.role.kind() {
            crate::select::PrincipalKind::PermissionSet => {
                crate::select::principal::permission_set_of_role(&n).map(str::to_string).unwrap_or(n)
            }
            _ => n,
        })
        .map(|n| (edit_distance(&wanted, &n.to_ascii_lowercase()), n))
        .filter(|(d, n)| *d <= (n.len().max(wanted.len()) / 3).max(2))
        .collect();
    names.sort();
    names.dedup();
    let closest: Vec<String> = names.into_iter().take(3).map(|(_, n)| visible(&n).into_owned()).collect();
    let mut message = format!(
        "no event of {} in {}: {} records read, {} rejected, {} of other principals, {} outside the window",
        c.role.describe(),
        c.window,
        usage.records_read,
        usage.records_rejected,
        usage.filtered.other_principal,
        usage.filtered.outside_window
    );
    if !top.is_empty() {
        message.push_str(&format!("\n  principals seen most: {}", top.join(", ")));
    }
    if !closest.is_empty() {
        message.push_str(&format!("\n  closest {} names: {}", c.role.kind().noun(), closest.join(", ")));
    }
    message.push_str("\n  nothing is generated or compared from no events");
    if let Some(line) = incomplete_line(usage, false, "and the role has no event in what could be read") {
        message.push('\n');
        message.push_str(&line);
    }
    CliError::NoActivity { message, incomplete: !usage.is_complete() }
}

/// Levenshtein distance, for suggesting role names.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The last line of a run that could not read everything (its first line says so too).
pub(super) fn incomplete_line(usage: &usage::Usage, allow: bool, what: &str) -> Option<String> {
    if usage.is_complete() {
        return None;
    }
    let n = usage.gaps.len();
    let tail = if allow { "(--allow-incomplete: exit 0)" } else { "(exit 4; --allow-incomplete to accept)" };
    Some(format!("iamtrim: INCOMPLETE: {n} gap{} (listed above): {what} {tail}", if n == 1 { "" } else { "s" }))
}

/// Prints the last line of an incomplete run; returns the exit status it leads to.
pub(super) fn incomplete_ending(usage: &usage::Usage, allow: bool, what: &str) -> ExitCode {
    match incomplete_line(usage, allow, what) {
        None => ExitCode::Success,
        Some(line) => {
            messages::line!("{line}");
            if allow {
                ExitCode::Success
            } else {
                ExitCode::Incomplete
            }
        }
    }
}

/// Builds the run report, prints its summary (unless `quiet` and everything was read), and
/// fails when nothing at all was readable or the role has no event in what was (after writing
/// the report to `report_path`, when given, so a script sees what was and was not read).
pub(super) fn report_run(
    c: &Collected,
    input: &InputArgs,
    policy: &crate::policy::PolicyDocument,
    quiet: bool,
    report_path: Option<&Path>,
) -> Result<RunReport, CliError> {
    let mut report = RunReport::new(c.role.as_str(), &c.window, &c.usage, policy, ActionCatalog::embedded());
    report.principal_kind = c.role.kind().noun().to_string();
    report.source_stats = c.source_stats.clone();
    let usage = &c.usage;
    if !quiet || !usage.rejections.is_empty() || !usage.is_complete() {
        messages::write(&report.summary(100));
    }
    for notice in &c.notices {
        match notice {
            crate::app::collect::Notice::Note(n) => messages::note!("{n}"),
            crate::app::collect::Notice::Warning(w) => messages::warning!("{w}"),
        }
    }
    if c.no_files && usage.records_read == usage.records_rejected {
        let listed: Vec<String> = input.logs.iter().map(|p| p.display().to_string()).collect();
        return Err(if usage.rejections.is_empty() {
            CliError::NoLogFiles(listed.join(", "))
        } else {
            CliError::NothingReadableUnder(listed.join(", "))
        });
    }
    if usage.records_read > 0 && !usage.anything_readable() {
        return Err(CliError::AllRejected(usage.records_rejected));
    }
    if usage.records_matched == 0 {
        if let Some(path) = report_path {
            write_out(Some(path), &(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"))?;
        }
        return Err(no_activity(c));
    }
    Ok(report)
}
