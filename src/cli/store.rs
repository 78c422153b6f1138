//! The usage store from the command line: `--store` day by day, `store info`, `store forget`.

use super::*;

/// The source as the store keys it: local paths (absolute), or the remote source with the
/// regions and accounts that narrow it.
#[cfg(feature = "store")]
pub(super) fn store_source_key(input: &InputArgs) -> String {
    let mut key = store_source(input);
    let counted = crate::mapping::evidence::CountedErrors::new(&input.count_errors);
    if !counted.is_empty() {
        key.push_str(&format!(" count-errors={}", counted.codes().collect::<Vec<_>>().join(",")));
    }
    key
}

/// The source part of [`store_source_key`].
#[cfg(feature = "store")]
pub(super) fn store_source(input: &InputArgs) -> String {
    match &input.source {
        None => {
            let paths: Vec<String> = input
                .logs
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string())
                .collect();
            format!("logs:{}", paths.join(","))
        }
        Some(src) => {
            let mut key = src.clone();
            if input.all_regions {
                key.push_str(" regions=all");
            } else if !input.regions.is_empty() {
                key.push_str(&format!(" regions={}", input.regions.join(",")));
            }
            if !input.accounts.is_empty() {
                key.push_str(&format!(" accounts={}", input.accounts.join(",")));
            }
            key
        }
    }
}

/// `--store`: the window day by day, each day from the store when it holds it, else from the
/// source (and stored when the day is whole and over).
#[cfg(feature = "store")]
pub(super) fn collect_with_store(
    path: Option<&Path>,
    input: &InputArgs,
    selection: &Selection,
    mapper: &EventMapper<'_>,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    use crate::usage::store::UsageStore;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => UsageStore::default_path().ok_or_else(|| {
            CliError::BadSource("--store: no data directory (set XDG_DATA_HOME or HOME, or give a path)".into())
        })?,
    };
    let (Some(from), Some(to)) =
        (selection.range.from, selection.range.to.or_else(|| selection.range.from.map(|_| chrono::Utc::now())))
    else {
        return Err(CliError::BadSource(
            "--store keeps usage per day: give a window with --days N or --from (and --to)".into(),
        ));
    };
    let store = UsageStore::open(&path)?;
    let role = selection.role.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default();
    let key = store_source_key(input);
    let mut read_day = |range: &TimeRange| -> Result<usage::Usage, CliError> {
        let day_selection = Selection { range: *range, ..selection.clone() };
        read_source(input, &day_selection, mapper).map(|(u, _, _)| u)
    };
    let (total, days) =
        crate::app::store_days::collect(&store, &role, &key, (from, to), chrono::Utc::now(), &mut read_day).map_err(
            |e| match e {
                crate::app::store_days::StoreDaysError::Source(e) => e,
                crate::app::store_days::StoreDaysError::Store(e) => CliError::Store(e),
            },
        )?;
    let list = |v: &[chrono::NaiveDate]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    eprintln!(
        "store {}: {} days from the store ({} records), {} days read from the source ({} files, {} records; {} days stored, today, partial and incomplete days never are{})",
        days.store,
        days.days_from_store.len(),
        days.records_from_store,
        days.days_read.len(),
        days.files_read_from_source,
        days.records_read_from_source,
        days.days_stored,
        if days.days_not_stored_incomplete.is_empty() {
            String::new()
        } else {
            format!("; not stored as incomplete: {}", list(&days.days_not_stored_incomplete))
        }
    );
    Ok((total, serde_json::to_value(&days).unwrap_or_default()))
}

#[cfg(not(feature = "store"))]
pub(super) fn collect_with_store(
    _path: Option<&Path>,
    _input: &InputArgs,
    _selection: &Selection,
    _mapper: &EventMapper<'_>,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    Err(CliError::BadSource("--store: this build has no usage store (built without the `store` feature)".into()))
}

/// The store at `path` (default: the user's data dir), which must exist already.
#[cfg(feature = "store")]
pub(super) fn open_existing_store(path: Option<&Path>) -> Result<(PathBuf, crate::usage::store::UsageStore), CliError> {
    use crate::usage::store::UsageStore;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => UsageStore::default_path()
            .ok_or_else(|| CliError::BadSource("no data directory: pass --store PATH".into()))?,
    };
    if !path.exists() {
        return Err(CliError::NothingReadable(format!(
            "no usage store at {} (a run with --store creates it)",
            path.display()
        )));
    }
    let store = UsageStore::open(&path)?;
    Ok((path, store))
}

/// `iamtrim store info`.
#[cfg(feature = "store")]
pub(super) fn store_info(path: Option<&Path>, json: bool) -> Result<ExitCode, CliError> {
    let (path, store) = open_existing_store(path)?;
    let entries = store.info()?;
    if json {
        write_out(None, &(serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n"))?;
        return Ok(ExitCode::Success);
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut out = format!("usage store {} ({:.1} kB)\n", path.display(), size as f64 / 1e3);
    if entries.is_empty() {
        out.push_str("  empty\n");
    }
    for e in &entries {
        let stale = if e.stale_days > 0 {
            format!(" ({} stored by another iamtrim version: read again when needed)", e.stale_days)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {} · {}\n    {} days, {} to {}, {} records of the role{stale}\n",
            e.role, e.source, e.days, e.first_day, e.last_day, e.records_matched
        ));
        out.push_str(&format!("    complete (served): {} days", e.complete_days));
        if !e.incomplete_days.is_empty() {
            out.push_str(&format!("; not known complete (never served, read again): {}", e.incomplete_days.join(", ")));
        }
        out.push('\n');
    }
    write_out(None, &out)?;
    Ok(ExitCode::Success)
}

/// `iamtrim store forget`.
#[cfg(feature = "store")]
pub(super) fn store_forget(
    path: Option<&Path>,
    role: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ExitCode, CliError> {
    let day = |flag: &str, v: Option<&str>| {
        v.map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CliError::BadSource(format!("{flag} `{d}`: expected a date (2026-10-01)")))
        })
        .transpose()
    };
    let (from, to) = (day("--from", from)?, day("--to", to)?);
    let (path, store) = open_existing_store(path)?;
    let n = store.forget(role, from, to)?;
    eprintln!("iamtrim: store {}: dropped {n} stored days of {role}", path.display());
    Ok(ExitCode::Success)
}

#[cfg(not(feature = "store"))]
pub(super) fn store_forget(
    _path: Option<&Path>,
    _role: &str,
    _from: Option<&str>,
    _to: Option<&str>,
) -> Result<ExitCode, CliError> {
    Err(CliError::BadSource("this build has no usage store (built without the `store` feature)".into()))
}

#[cfg(not(feature = "store"))]
pub(super) fn store_info(_path: Option<&Path>, _json: bool) -> Result<ExitCode, CliError> {
    Err(CliError::BadSource("this build has no usage store (built without the `store` feature)".into()))
}
