//! The time window of a run: `--from`/`--to` or `--days`, and whether a trail file delivered
//! at a given time may hold events in it (for skipping files unopened).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::source::DELIVERY_SLACK;

/// An inclusive time window; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// First instant included.
    pub from: Option<DateTime<Utc>>,
    /// Last instant included.
    pub to: Option<DateTime<Utc>>,
}

/// A `--from`/`--to` value that is neither a date nor an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date (2026-10-01) or an RFC 3339 time (2026-10-01T12:00:00Z)")]
pub struct BadTime(pub String);

impl TimeRange {
    /// No limits.
    pub fn unbounded() -> TimeRange {
        TimeRange::default()
    }

    /// From `--from`/`--to` strings: a date means the whole day in UTC (`--to 2026-10-31`
    /// includes that day), an RFC 3339 time means that instant.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<TimeRange, BadTime> {
        let from = from.map(|s| parse_time(s, false)).transpose()?;
        let to = to.map(|s| parse_time(s, true)).transpose()?;
        Ok(TimeRange { from, to })
    }

    /// The last `days` days up to `now`.
    pub fn last_days(days: u32, now: DateTime<Utc>) -> TimeRange {
        Self::try_last_days(days, now).unwrap_or(TimeRange { from: None, to: Some(now) })
    }

    /// The last `days` days up to `now`; `None` when that reaches before the dates a timestamp
    /// can hold.
    pub(crate) fn try_last_days(days: u32, now: DateTime<Utc>) -> Option<TimeRange> {
        let from = Duration::try_days(i64::from(days)).and_then(|d| now.checked_sub_signed(d))?;
        Some(TimeRange { from: Some(from), to: Some(now) })
    }

    /// True when any limit is set.
    pub(crate) fn is_bounded(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// True when `t` is inside the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }

    /// True when files delivered between `start` and `end` may hold events in the window: events
    /// precede their delivery, by at most [`DELIVERY_SLACK`] as assumed here.
    pub(crate) fn may_hold_delivery(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| end >= f) && self.to.is_none_or(|t| start <= t + DELIVERY_SLACK)
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |t: Option<DateTime<Utc>>| {
            t.map_or("…".to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        write!(f, "{} to {}", show(self.from), show(self.to))
    }
}

fn parse_time(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, BadTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| BadTime(s.to_string()))?;
    let start = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).ok_or_else(|| BadTime(s.to_string()))?);
    Ok(if end_of_day { start + Duration::days(1) - Duration::nanoseconds(1) } else { start })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let r = TimeRange::parse(Some("2026-10-01"), Some("2026-10-31")).unwrap();
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(r.contains(t("2026-10-01T00:00:00Z")));
        assert!(r.contains(t("2026-10-31T23:59:59Z")));
        assert!(!r.contains(t("2026-11-01T00:00:00Z")));
        assert!(!r.contains(t("2026-09-30T23:59:59Z")));
        let r = TimeRange::parse(Some("2026-10-01T12:00:00Z"), Some("2026-10-01T13:00:00+01:00")).unwrap();
        assert!(r.contains(t("2026-10-01T12:00:00Z")));
        assert!(!r.contains(t("2026-10-01T12:00:01Z")));
        assert!(TimeRange::parse(Some("yesterday"), None).is_err());
        let open = TimeRange::unbounded();
        assert!(!open.is_bounded() && open.contains(t("1999-01-01T00:00:00Z")));
        let last = TimeRange::last_days(7, t("2026-10-10T00:00:00Z"));
        assert!(last.contains(t("2026-10-03T00:00:00Z")) && !last.contains(t("2026-10-02T23:59:59Z")));
    }

    #[test]
    fn delivery_windows_allow_for_late_delivery() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let r = TimeRange::parse(Some("2026-10-02"), Some("2026-10-02")).unwrap();
        // Delivered before the window opened: cannot hold events in it.
        assert!(!r.may_hold_delivery(t("2026-10-01T23:55:00Z"), t("2026-10-01T23:55:00Z")));
        // Delivered shortly after it closed: may hold the last events.
        assert!(r.may_hold_delivery(t("2026-10-03T00:30:00Z"), t("2026-10-03T00:30:00Z")));
        assert!(!r.may_hold_delivery(t("2026-10-03T03:00:00Z"), t("2026-10-03T03:00:00Z")));
    }
}
