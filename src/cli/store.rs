//! The usage store from the command line: `--store` day by day, `store info`, `store forget`.

use super::*;

/// `iamtrim store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// What the store holds: per role and source, the days stored and the records of the role.
    Info {
        /// The database (default: the user's data dir, e.g. ~/.local/share/iamtrim/usage.sqlite).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Drop the stored days of a role (all, or from --from to --to), so the next run reads them
    /// from the source again.
    Forget {
        /// The database (default: the user's data dir, e.g. ~/.local/share/iamtrim/usage.sqlite).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// The role, as given to --role when the days were stored (case-insensitive).
        #[arg(long)]
        role: String,
        /// First day to drop (UTC date, 2026-10-01).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day to drop, inclusive.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
}

/// The store at `path` (default: the user's data dir), which must exist already.
#[cfg(feature = "store")]
pub(super) fn open_existing_store(path: Option<&Path>) -> Result<(PathBuf, crate::usage::store::UsageStore), CliError> {
    use crate::usage::store::UsageStore;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => UsageStore::default_path()
            .ok_or(CliError::BadSource("no data directory (set XDG_DATA_HOME or HOME): pass --store PATH".into()))?,
    };
    if !path.exists() {
        return Err(CliError::NoStore(path.display().to_string()));
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
    let day = |flag: &'static str, v: Option<&str>| {
        v.map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CliError::BadDate { flag, value: d.to_string() })
        })
        .transpose()
    };
    let (from, to) = (day("--from", from)?, day("--to", to)?);
    let (path, store) = open_existing_store(path)?;
    let n = store.forget(role, from, to)?;
    messages::line!("iamtrim: store {}: dropped {n} stored days of {role}", path.display());
    Ok(ExitCode::Success)
}

#[cfg(not(feature = "store"))]
pub(super) fn store_forget(
    _path: Option<&Path>,
    _role: &str,
    _from: Option<&str>,
    _to: Option<&str>,
) -> Result<ExitCode, CliError> {
    Err(CliError::NotBuiltIn("has no usage store (built without the `store` feature)"))
}

#[cfg(not(feature = "store"))]
pub(super) fn store_info(_path: Option<&Path>, _json: bool) -> Result<ExitCode, CliError> {
    Err(CliError::NotBuiltIn("has no usage store (built without the `store` feature)"))
}
