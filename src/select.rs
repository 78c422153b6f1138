//! Which records belong to the run: the role whose sessions made them, and the time window.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::ingest::event::Event;
use crate::ingest::source::DELIVERY_SLACK;

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
    pub fn try_last_days(days: u32, now: DateTime<Utc>) -> Option<TimeRange> {
        let from = Duration::try_days(i64::from(days)).and_then(|d| now.checked_sub_signed(d))?;
        Some(TimeRange { from: Some(from), to: Some(now) })
    }

    /// True when any limit is set.
    pub fn is_bounded(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// True when `t` is inside the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }

    /// True when files delivered between `start` and `end` may hold events in the window: events
    /// precede their delivery, by at most [`DELIVERY_SLACK`] as assumed here.
    pub fn may_hold_delivery(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
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

/// IAM's rule for role names: 1 to 64 of letters, digits and `+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The role whose activity is wanted, given as an ARN or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFilter {
    given: String,
    account: Option<String>,
    name: String,
}

/// A `--role` value that is neither a role name nor a role ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role name or a role ARN (arn:aws:iam::123456789012:role/NAME)")]
pub struct BadRole(pub String);

impl RoleFilter {
    /// Parses `--role`: `arn:aws:iam::123456789012:role/path/name` or `name`.
    pub fn parse(role: &str) -> Result<RoleFilter, BadRole> {
        let role = role.trim();
        if role.starts_with("arn:") {
            let arn = crate::mapping::arn::Arn::parse(role).ok_or_else(|| BadRole(role.to_string()))?;
            let path = arn
                .resource
                .strip_prefix("role/")
                .filter(|_| arn.service == "iam")
                .ok_or_else(|| BadRole(role.to_string()))?;
            let name = path.rsplit('/').next().filter(|n| is_role_name(n)).ok_or_else(|| BadRole(role.to_string()))?;
            return Ok(RoleFilter {
                given: role.to_string(),
                account: Some(arn.account.to_string()),
                name: name.to_string(),
            });
        }
        if !is_role_name(role) {
            return Err(BadRole(role.to_string()));
        }
        Ok(RoleFilter { given: role.to_string(), account: None, name: role.to_string() })
    }

    /// The role as the user gave it.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The role's account, when given as an ARN.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The role's name (without path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when a session of this role made the call. Role names are unique within an account
    /// whatever their path and case, so account and name (case-insensitively) decide; a name
    /// alone matches in any account (the caller refuses a name that matched several accounts).
    pub fn matches(&self, event: &Event<'_>) -> bool {
        let Some(arn) = event.issuer_role_arn() else { return false };
        let Some(parsed) = crate::mapping::arn::Arn::parse(&arn) else { return false };
        let Some(path) = parsed.resource.strip_prefix("role/") else { return false };
        let name = path.rsplit('/').next().unwrap_or(path);
        name.eq_ignore_ascii_case(&self.name) && self.account.as_deref().is_none_or(|a| a == parsed.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(identity: &str) -> String {
        format!(r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{identity}}}"#)
    }

    #[test]
    fn role_filter_matches_sessions_of_the_role_only() {
        let issuer = |arn: &str| {
            event(&format!(
                r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/x/s","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{arn}"}}}}}}"#
            ))
        };
        let by_arn = RoleFilter::parse("arn:aws:iam::111122223333:role/app/dev-app").unwrap();
        let by_name = RoleFilter::parse("dev-app").unwrap();
        let cases = [
            (issuer("arn:aws:iam::111122223333:role/app/dev-app"), true, true),
            (issuer("arn:aws:iam::111122223333:role/dev-app"), true, true),
            (issuer("arn:aws:iam::999999999999:role/dev-app"), false, true),
            (issuer("arn:aws:iam::111122223333:role/dev-app-2"), false, false),
            // IAM role names are unique regardless of case.
            (issuer("arn:aws:iam::111122223333:role/Dev-App"), true, true),
            (event(r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev-app"}"#), false, false),
            (
                event(r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/dev-app/i-123"}"#),
                true,
                true,
            ),
            (event(r#"{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}"#), false, false),
        ];
        for (json, want_arn, want_name) in cases {
            let e = Event::from_json(&json).unwrap();
            assert_eq!(by_arn.matches(&e), want_arn, "arn filter on {json}");
            assert_eq!(by_name.matches(&e), want_name, "name filter on {json}");
        }
    }

    #[test]
    fn bad_roles_are_rejected() {
        for bad in [
            "",
            "arn:aws:iam::1:user/x",
            "arn:aws:s3:::bucket",
            "a/b",
            "arn:aws:iam::1:role/",
            "a\nb",
            "a'b",
            "x\u{1b}[2J",
            &"r".repeat(65),
        ] {
            assert!(RoleFilter::parse(bad).is_err(), "{bad}");
        }
    }

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
