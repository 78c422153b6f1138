//! Finding log files under the paths given: directories walked in name order (regular files
//! only, no link followed into a loop, no file read twice), trail files and day directories
//! outside the window skipped unopened by the delivery time in their names.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::record::{Location, RejectReason, Rejection};
use crate::ingest::window::TimeRange;

/// The files found under the paths given, after skipping those outside the date range.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, in path order.
    pub files: Vec<PathBuf>,
    /// Trail files (or day directories' files) skipped because their delivery time is outside the range.
    pub skipped_by_date: usize,
    /// Files in directories that are not logs (other extensions, CloudTrail digest files).
    pub ignored: usize,
    /// Entries named like logs that are not regular files (FIFOs, devices, sockets), and files
    /// reached a second time through a link: skipped.
    pub not_regular: usize,
    /// Paths that could not be listed.
    pub errors: Vec<Rejection>,
}

/// Finds log files under `paths`. Directories are walked recursively in name order; files
/// named explicitly are always read. Files whose name ends in `.json`, `.jsonl`, `.ndjson`
/// (optionally `.gz`) are logs; CloudTrail digest files are ignored. With a date range, trail
/// layout directories (`.../YYYY/MM/DD/`) and trail file names (`..._20261001T1205Z_...`) outside
/// the range are skipped without being opened.
///
/// Walking follows links to files and directories, but never into a directory it is already
/// in or has walked (no loop, `self -> .` or `up -> ..`, runs forever), never reads a file twice,
/// and reads only regular files (a FIFO or device named `*.json` would block or never end).
pub fn discover(paths: &[PathBuf], range: &TimeRange) -> Discovery {
    let mut d = Discovery::default();
    let mut seen = Seen::default();
    for p in paths {
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                if seen.first_visit(&m, p) {
                    walk(p, range, &mut d, &mut seen);
                }
            }
            // Named on the command line: read whatever it is (`--logs <(zcat ...)` is a pipe).
            Ok(m) => {
                if seen.first_visit(&m, p) {
                    d.files.push(p.clone());
                }
            }
            Err(e) => d.errors.push(Rejection {
                file: p.display().to_string(),
                location: Location::File,
                reason: RejectReason::Io(format!("cannot open: {e}")),
            }),
        }
    }
    d
}

/// Directories and files already reached, by device and inode (by canonical path elsewhere).
#[derive(Default)]
pub(super) struct Seen(std::collections::HashSet<String>);

impl Seen {
    /// True the first time `path` (with metadata `m`, links followed) is reached.
    fn first_visit(&mut self, m: &fs::Metadata, path: &Path) -> bool {
        #[cfg(unix)]
        let key = {
            use std::os::unix::fs::MetadataExt;
            let _ = path;
            format!("{}:{}", m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let key = {
            let _ = m;
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
        };
        self.0.insert(key)
    }
}

fn walk(dir: &Path, range: &TimeRange, d: &mut Discovery, seen: &mut Seen) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            d.errors.push(Rejection {
                file: dir.display().to_string(),
                location: Location::File,
                reason: RejectReason::Io(format!("cannot list directory: {e}")),
            });
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = fs::metadata(&path) else {
            // A dangling link: nothing to read.
            d.ignored += 1;
            continue;
        };
        if meta.is_dir() {
            if !seen.first_visit(&meta, &path) {
                continue;
            }
            if let Some((start, end)) = trail_dir_interval(&path) {
                if !range.may_hold_delivery(start, end) {
                    d.skipped_by_date += count_files(&path, seen);
                    continue;
                }
            }
            walk(&path, range, d, seen);
            continue;
        }
        if !is_log_name(name) {
            d.ignored += 1;
            continue;
        }
        if !meta.is_file() || !seen.first_visit(&meta, &path) {
            d.not_regular += 1;
            continue;
        }
        if let Some(t) = trail_file_time(name) {
            if !range.may_hold_delivery(t, t) {
                d.skipped_by_date += 1;
                continue;
            }
        }
        d.files.push(path);
    }
}

fn count_files(dir: &Path, seen: &mut Seen) -> usize {
    fs::read_dir(dir)
        .map(|es| {
            es.filter_map(Result::ok)
                .map(|e| {
                    let p = e.path();
                    if let Some(m) = fs::metadata(&p).ok().filter(fs::Metadata::is_dir) {
                        if seen.first_visit(&m, &p) {
                            count_files(&p, seen)
                        } else {
                            0
                        }
                    } else {
                        usize::from(p.file_name().and_then(|n| n.to_str()).is_some_and(is_log_name))
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// True for names iamtrim reads when walking a directory.
pub fn is_log_name(name: &str) -> bool {
    if name.contains("CloudTrail-Digest") {
        return false;
    }
    let base = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson"].iter().any(|ext| base.ends_with(ext))
}

/// The delivery time in a trail file name
/// (`123456789012_CloudTrail_us-east-1_20261001T1205Z_abcd.json.gz`).
pub fn trail_file_time(name: &str) -> Option<DateTime<Utc>> {
    let (_, rest) = name.split_once("_CloudTrail_")?;
    let stamp = rest.split('_').nth(1)?;
    let t = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ").ok()?;
    Some(Utc.from_utc_datetime(&t))
}

/// The interval of delivery times a trail layout directory can hold: `.../CloudTrail/<region>/YYYY[/MM[/DD]]`.
pub fn trail_dir_interval(path: &Path) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let comps: Vec<&str> = path.components().filter_map(|c| c.as_os_str().to_str()).collect();
    let ct = comps.iter().rposition(|c| *c == "CloudTrail")?;
    let date_parts = comps.get(ct + 2..)?;
    let nums: Vec<u32> = date_parts.iter().map(|s| s.parse().ok()).collect::<Option<_>>()?;
    let (start, end) = match nums.as_slice() {
        [y] => (NaiveDate::from_ymd_opt(*y as i32, 1, 1)?, NaiveDate::from_ymd_opt(*y as i32 + 1, 1, 1)?),
        [y, m] => {
            let s = NaiveDate::from_ymd_opt(*y as i32, *m, 1)?;
            (s, s.checked_add_months(chrono::Months::new(1))?)
        }
        [y, m, d] => {
            let s = NaiveDate::from_ymd_opt(*y as i32, *m, *d)?;
            (s, s.succ_opt()?)
        }
        _ => return None,
    };
    let to_utc = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    Some((to_utc(start), to_utc(end) - Duration::nanoseconds(1)))
}
