//! The incremental usage store (`--store`): aggregated usage per role, per source, per UTC day,
//! in an embedded SQLite database. A run over a window reads from its source only the days the
//! store does not hold, so a daily audit over 90 days fetches one new day. Only whole days that
//! ended more than an hour ago are stored (CloudTrail delivers within minutes; LookupEvents
//! settles within the hour); today and partial days at the window's edges are always read.
//! Days stored by another iamtrim version are read again (its mapping may differ). A day is
//! stored only when everything of it was read (no gap); rows from before iamtrim checked that
//! are never served (they are read again, and replaced).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::usage::Usage;

/// How long after a day ends it may still gain events.
pub const SETTLE: Duration = Duration::hours(1);

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or used.
    #[error("usage store {path}: {message}")]
    Db {
        /// The database file.
        path: String,
        /// What failed.
        message: String,
    },
}

/// What a run took from the store and what it read (the totals include both).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreDays {
    /// The database file.
    pub store: String,
    /// The source as the store keys it.
    pub source_key: String,
    /// Days served by the store.
    pub days_from_store: Vec<NaiveDate>,
    /// Days read from the source.
    pub days_read: Vec<NaiveDate>,
    /// Days stored by this run.
    pub days_stored: u64,
    /// Whole past days read with a gap, so not stored.
    pub days_not_stored_incomplete: Vec<NaiveDate>,
    /// Records the stored days stood for.
    pub records_from_store: u64,
    /// Files this run read from the source.
    pub files_read_from_source: u64,
    /// Records this run read from the source.
    pub records_read_from_source: u64,
}

/// One line: days from the store and from the source, and what was stored.
impl std::fmt::Display for StoreDays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[NaiveDate]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "store {}: {} days from the store ({} records), {} days read from the source ({} files, {} records; {} days stored, today, partial and incomplete days never are{})",
            self.store,
            self.days_from_store.len(),
            self.records_from_store,
            self.days_read.len(),
            self.files_read_from_source,
            self.records_read_from_source,
            self.days_stored,
            if self.days_not_stored_incomplete.is_empty() {
                String::new()
            } else {
                format!("; not stored as incomplete: {}", list(&self.days_not_stored_incomplete))
            }
        )
    }
}

/// What the store holds for one role and source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreEntry {
    /// The role, as given.
    pub role: String,
    /// The source (`logs:PATH`, `lookup:REGIONS`, `s3://...`, ...).
    pub source: String,
    /// Days stored.
    pub days: u64,
    /// First day.
    pub first_day: String,
    /// Last day.
    pub last_day: String,
    /// Records of the role over those days.
    pub records_matched: u64,
    /// Days stored by another iamtrim version (read again when needed).
    pub stale_days: u64,
    /// Days stored whole (every file, object, region and query of the day was read): served.
    pub complete_days: u64,
    /// Days whose rows are not known whole (stored before iamtrim checked): never served, read again.
    pub incomplete_days: Vec<String>,
}

/// A day's usage as a row holds it: the aggregate, and for a read kept apart per principal
/// (the audit's), each principal's usage and how many are kept apart.
#[derive(serde::Serialize)]
struct StoredDayRef<'a> {
    #[serde(flatten)]
    usage: &'a Usage,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    split_groups: &'a std::collections::BTreeMap<String, Usage>,
    #[serde(skip_serializing_if = "is_zero")]
    split_group_limit: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What [`StoredDayRef`] wrote, read back.
#[derive(serde::Deserialize)]
struct StoredDay {
    #[serde(flatten)]
    usage: Usage,
    #[serde(default)]
    split_groups: std::collections::BTreeMap<String, Usage>,
    #[serde(default)]
    split_group_limit: usize,
}

impl StoredDay {
    fn into_usage(self) -> Usage {
        let mut u = self.usage;
        u.groups = self.split_groups;
        u.group_limit = self.split_group_limit;
        u
    }
}

/// An open store.
#[derive(Debug)]
pub struct UsageStore {
    conn: Connection,
    path: PathBuf,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The database layout this iamtrim writes (`PRAGMA user_version`): 1 added the `complete`
/// column. A store of a newer layout is refused before anything is read.
pub(crate) const SCHEMA_VERSION: i64 = 1;

impl UsageStore {
    /// The default database: `$XDG_DATA_HOME/iamtrim/usage.sqlite`, else
    /// `~/.local/share/iamtrim/usage.sqlite`.
    pub(crate) fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
        Some(base.join("iamtrim").join("usage.sqlite"))
    }

    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: &Path) -> Result<UsageStore, StoreError> {
        let fail = |message: String| StoreError::Db { path: path.display().to_string(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_dir_all(dir)
                .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        }
        // It holds every principal's activity: readable by its owner only.
        crate::private_files::touch(path).map_err(|e| fail(format!("cannot create {}: {e}", path.display())))?;
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        let schema: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| fail(e.to_string()))?;
        if schema > SCHEMA_VERSION {
            return Err(fail(format!(
                "written by a newer iamtrim (store layout {schema}; this iamtrim reads up to {SCHEMA_VERSION}): upgrade iamtrim, or give another --store"
            )));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS day_usage (
                role TEXT NOT NULL, source TEXT NOT NULL, day TEXT NOT NULL,
                iamtrim_version TEXT NOT NULL, stored_at TEXT NOT NULL, records_matched INTEGER NOT NULL,
                usage TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (role, source, day));",
        )
        .map_err(|e| fail(e.to_string()))?;
        // Stores written before days were checked for gaps have no `complete` column: their rows
        // get 0 and are never served (a day stored from a run with a rejected file may lack
        // activity); they are read again and replaced.
        let has_complete: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('day_usage') WHERE name = 'complete'")
            .and_then(|mut st| st.exists([]))
            .map_err(|e| fail(e.to_string()))?;
        if !has_complete {
            conn.execute_batch("ALTER TABLE day_usage ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;")
                .map_err(|e| fail(e.to_string()))?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};")).map_err(|e| fail(e.to_string()))?;
        Ok(UsageStore { conn, path: path.to_path_buf() })
    }

    fn fail(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db { path: self.path.display().to_string(), message: e.to_string() }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The usage of `day`, when stored by this version.
    pub fn get(&self, role: &str, source: &str, day: NaiveDate) -> Result<Option<Usage>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT usage FROM day_usage WHERE role = ?1 AND source = ?2 AND day = ?3 AND iamtrim_version = ?4 AND complete = 1",
                params![role, source, day.to_string(), VERSION],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        match text {
            None => Ok(None),
            // A row that no longer parses, or holds a gap, is read again from the source, not trusted.
            Some(t) => {
                Ok(serde_json::from_str::<StoredDay>(&t).ok().map(StoredDay::into_usage).filter(Usage::is_complete))
            }
        }
    }

    /// Stores the usage of `day`. A day with a gap is refused: it would be served as if whole.
    pub fn put(&self, role: &str, source: &str, day: NaiveDate, usage: &Usage) -> Result<(), StoreError> {
        if !usage.is_complete() {
            return Err(self.fail(format!(
                "{day} had {} gaps: a day is stored only when everything of it was read",
                usage.gaps.len()
            )));
        }
        let stored = StoredDayRef { usage, split_groups: &usage.groups, split_group_limit: usage.group_limit };
        let json = serde_json::to_string(&stored).map_err(|e| self.fail(e))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO day_usage (role, source, day, iamtrim_version, stored_at, records_matched, usage, complete) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
                params![role, source, day.to_string(), VERSION, Utc::now().to_rfc3339(), usage.counts.records_matched as i64, json],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Drops the stored days of `role` (as given to --role, case-insensitively), all or those
    /// from `from` to `to` inclusive; returns how many were dropped.
    pub fn forget(&self, role: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<u64, StoreError> {
        let from = from.map_or_else(|| "0000-00-00".to_string(), |d| d.to_string());
        let to = to.map_or_else(|| "9999-99-99".to_string(), |d| d.to_string());
        let n = self
            .conn
            .execute(
                "DELETE FROM day_usage WHERE lower(role) = lower(?1) AND day >= ?2 AND day <= ?3",
                params![role, from, to],
            )
            .map_err(|e| self.fail(e))?;
        Ok(n as u64)
    }

    /// What the store holds, per role and source.
    pub fn info(&self) -> Result<Vec<StoreEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT role, source, count(*), min(day), max(day), sum(records_matched), sum(iamtrim_version != ?1),
                        sum(complete = 1), coalesce(group_concat(CASE WHEN complete = 1 THEN NULL ELSE day END, ','), '')
                 FROM day_usage GROUP BY role, source ORDER BY role, source",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![VERSION], |r| {
                Ok(StoreEntry {
                    role: r.get(0)?,
                    source: r.get(1)?,
                    days: r.get::<_, i64>(2)? as u64,
                    first_day: r.get(3)?,
                    last_day: r.get(4)?,
                    records_matched: r.get::<_, i64>(5)? as u64,
                    stale_days: r.get::<_, i64>(6)? as u64,
                    complete_days: r.get::<_, i64>(7)? as u64,
                    incomplete_days: r
                        .get::<_, String>(8)?
                        .split(',')
                        .filter(|d| !d.is_empty())
                        .map(str::to_string)
                        .collect(),
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }
}

/// One UTC day of a window: the day, its part of the window, and whether that part is the
/// whole day and over (so it may be stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowDay {
    /// The day.
    pub day: NaiveDate,
    /// Start of the day's part of the window.
    pub from: DateTime<Utc>,
    /// End (inclusive) of the day's part of the window.
    pub to: DateTime<Utc>,
    /// The whole day is in the window and ended more than [`SETTLE`] before `now`.
    pub storable: bool,
}

/// Splits [from, to] into UTC days.
pub(crate) fn window_days(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Vec<WindowDay> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    while day <= to.date_naive() {
        let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(from);
        let end = start + Duration::days(1) - Duration::milliseconds(1);
        let (f, t) = (start.max(from), end.min(to));
        out.push(WindowDay { day, from: f, to: t, storable: f == start && t == end && end + SETTLE < now });
        day = day.succ_opt().unwrap_or(day);
        if start >= to {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_split_into_days_and_only_whole_past_days_are_storable() {
        let days = window_days(t("2026-10-01T12:00:00Z"), t("2026-10-03T23:59:59.999Z"), t("2026-10-04T00:30:00Z"));
        let got: Vec<(String, bool)> = days.iter().map(|d| (d.day.to_string(), d.storable)).collect();
        // The first day is partial; the last ended 30 minutes ago, within the settle time.
        assert_eq!(got, [("2026-10-01".into(), false), ("2026-10-02".into(), true), ("2026-10-03".into(), false)]);
        assert_eq!(days[0].from, t("2026-10-01T12:00:00Z"));
        assert_eq!(days[1].to, t("2026-10-02T23:59:59.999Z"));
    }

    #[test]
    fn a_store_of_a_newer_layout_is_refused_and_an_old_one_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.sqlite");
        Connection::open(&newer).unwrap().execute_batch("PRAGMA user_version = 99;").unwrap();
        let err = UsageStore::open(&newer).unwrap_err().to_string();
        assert!(err.contains("newer iamtrim (store layout 99; this iamtrim reads up to 1)"), "{err}");
        // A store from before days were checked for gaps: its rows are kept but never served.
        let old = dir.path().join("old.sqlite");
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(
            "CREATE TABLE day_usage (role TEXT NOT NULL, source TEXT NOT NULL, day TEXT NOT NULL, iamtrim_version TEXT NOT NULL,
             stored_at TEXT NOT NULL, records_matched INTEGER NOT NULL, usage TEXT NOT NULL, PRIMARY KEY (role, source, day));",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO day_usage VALUES ('app', 'logs:x', '2026-10-02', ?1, 'now', 3, ?2)",
            params![VERSION, serde_json::to_string(&Usage::default()).unwrap()],
        )
        .unwrap();
        drop(conn);
        let store = UsageStore::open(&old).unwrap();
        assert!(store.get("app", "logs:x", NaiveDate::from_ymd_opt(2026, 10, 2).unwrap()).unwrap().is_none());
        assert_eq!(store.info().unwrap()[0].incomplete_days, ["2026-10-02"]);
    }

    #[test]
    fn usage_round_trips_through_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = UsageStore::open(&dir.path().join("sub/usage.sqlite")).unwrap();
        let counts = crate::usage::Counts { records_read: 5, records_matched: 3, ..Default::default() };
        let mut u = Usage { counts, ..Usage::default() };
        u.actions.entry("s3:GetObject".into()).or_default().calls = 3;
        u.denied.insert(
            crate::usage::EventKey { source: "s3.amazonaws.com".into(), name: "DeleteObject".into() },
            crate::usage::ReasonedCount { count: 1, detail: "s3:DeleteObject".into() },
        );
        let day = NaiveDate::from_ymd_opt(2026, 10, 2).unwrap();
        assert!(store.get("app", "logs:x", day).unwrap().is_none());
        store.put("app", "logs:x", day, &u).unwrap();
        let back = store.get("app", "logs:x", day).unwrap().unwrap();
        assert_eq!((back.records_read, back.records_matched, back.actions["s3:GetObject"].calls), (5, 3, 3));
        assert_eq!(back.denied.values().next().unwrap().count, 1);
        assert!(store.get("other", "logs:x", day).unwrap().is_none());
        let info = store.info().unwrap();
        assert_eq!((info[0].days, info[0].records_matched, info[0].first_day.as_str()), (1, 3, "2026-10-02"));
    }

    #[test]
    fn a_day_kept_apart_per_principal_keeps_every_principal_and_how_many_are_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = UsageStore::open(&dir.path().join("usage.sqlite")).unwrap();
        let mut u = Usage { group_limit: 10_000, ..Usage::default() };
        for i in 0..150 {
            let mut g = Usage::default();
            g.actions.entry(format!("s3:GetObject{i}")).or_default().calls = 1;
            u.groups.insert(format!("arn:aws:iam::1:role/r{i:03}"), g);
        }
        let day = NaiveDate::from_ymd_opt(2026, 10, 2).unwrap();
        store.put("(every principal)", "logs:x", day, &u).unwrap();
        let back = store.get("(every principal)", "logs:x", day).unwrap().unwrap();
        assert_eq!((back.groups.len(), back.group_limit), (150, 10_000));
        // Merged with another day, no principal is folded into "(other groups)".
        let merged = Usage::default().merge(back.clone()).merge(back);
        assert_eq!(merged.groups.len(), 150);
        assert_eq!(merged.groups["arn:aws:iam::1:role/r149"].actions["s3:GetObject149"].calls, 2);
    }
}
