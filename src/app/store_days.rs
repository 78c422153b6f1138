//! A window read day by day through the usage store: each whole past day from the store when it
//! holds it, else from the source, and stored when everything of it was read. The source is a
//! function, so the day reuse is tested without any source at all.

use chrono::{DateTime, Utc};

use crate::ingest::window::TimeRange;
use crate::usage::Usage;

pub use crate::usage::store::StoreDays;

/// Why a day could not be served or kept.
#[derive(Debug, thiserror::Error)]
pub enum StoreDaysError<E> {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::usage::store::StoreError),
    /// The source failed.
    #[error("{0}")]
    Source(E),
}

/// Reads `[from, to]` for `role` and `source_key`: whole past days from `store` when it holds
/// them, the rest with `read_day` (called with each day's part of the window). Only whole past
/// days read without a gap are stored.
pub fn collect<E>(
    store: &crate::usage::store::UsageStore,
    role: &str,
    source_key: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    read_day: &mut dyn FnMut(&TimeRange) -> Result<Usage, E>,
) -> Result<(Usage, StoreDays), StoreDaysError<E>> {
    let mut total = Usage::default();
    let mut days = StoreDays {
        store: store.path().display().to_string(),
        source_key: source_key.to_string(),
        ..StoreDays::default()
    };
    for d in crate::usage::store::window_days(from, to, now) {
        if d.storable {
            if let Some(u) = store.get(role, source_key, d.day)? {
                days.records_from_store += u.records_read_with_groups();
                total = total.merge(u);
                days.days_from_store.push(d.day);
                continue;
            }
        }
        let u = read_day(&TimeRange { from: Some(d.from), to: Some(d.to) }).map_err(StoreDaysError::Source)?;
        days.files_read_from_source += u.counts.files_read;
        days.records_read_from_source += u.records_read_with_groups();
        if d.storable && u.is_complete() {
            store.put(role, source_key, d.day, &u)?;
            days.days_stored += 1;
        } else if d.storable {
            days.days_not_stored_incomplete.push(d.day);
        }
        days.days_read.push(d.day);
        total = total.merge(u);
    }
    Ok((total.finish(), days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::completeness::{Gap, GapKind};
    use crate::usage::Counts;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A source of one record a day; `broken` days have a gap.
    fn source<'c>(calls: &'c mut Vec<String>, broken: &[&str]) -> impl FnMut(&TimeRange) -> Result<Usage, String> + 'c {
        let broken: Vec<String> = broken.iter().map(|s| s.to_string()).collect();
        move |range: &TimeRange| {
            let day = range.from.unwrap().date_naive().to_string();
            calls.push(day.clone());
            let counts = Counts {
                files_read: 1,
                records_read: 1,
                records_matched: 1,
                records_no_permission: 1,
                ..Counts::default()
            };
            let mut u = Usage { counts, ..Usage::default() };
            if broken.contains(&day) {
                u.add_gap(Gap::new(GapKind::File, format!("{day}.json.gz"), "corrupt"));
            }
            Ok(u)
        }
    }

    #[test]
    fn a_second_run_reads_only_the_days_the_store_lacks_and_never_stores_a_day_with_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::usage::store::UsageStore::open(&dir.path().join("u.sqlite")).unwrap();
        let now = t("2026-10-10T00:00:00Z");
        let window = (t("2026-10-01T00:00:00Z"), t("2026-10-03T23:59:59.999Z"));
        let mut calls = Vec::new();
        let (u, days) =
            collect(&store, "app", "logs:x", window, now, &mut source(&mut calls, &["2026-10-02"])).unwrap();
        assert_eq!(calls, ["2026-10-01", "2026-10-02", "2026-10-03"]);
        assert_eq!((days.days_stored, days.days_not_stored_incomplete.len()), (2, 1));
        assert!(!u.is_complete() && u.reconciles());

        let mut again = Vec::new();
        let (u, days) = collect(&store, "app", "logs:x", window, now, &mut source(&mut again, &[])).unwrap();
        assert_eq!(again, ["2026-10-02"], "only the day with a gap is read again");
        assert_eq!(days.days_from_store.len(), 2);
        assert_eq!((u.counts.records_read, days.records_from_store, days.records_read_from_source), (3, 2, 1));
        assert!(u.is_complete());

        let mut third = Vec::new();
        collect(&store, "app", "logs:x", window, now, &mut source(&mut third, &[])).unwrap();
        assert!(third.is_empty(), "every day from the store: {third:?}");
        let mut today = Vec::new();
        collect(&store, "app", "logs:x", (window.0, now), now, &mut source(&mut today, &[])).unwrap();
        assert!(today.contains(&"2026-10-10".to_string()), "today is always read: {today:?}");
    }
}
