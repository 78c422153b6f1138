//! Stage 2: which records belong to the run: the role whose sessions made them, and the time
//! window; pushed down into Athena and CloudTrail Lake as an aggregating query ([`warehouse`]).

pub mod warehouse;

use chrono::{DateTime, Utc};

use crate::ingest::event::Event;
use crate::ingest::record::RejectReason;
pub use crate::ingest::window::{BadTime, TimeRange};

/// Whether a record belongs to the run, and when it does not, why: each answer is counted
/// apart, so that records read = rejected + filtered + matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The role's call in the window, at this time (none when the window is unbounded and the
    /// record has no time).
    Admitted(Option<DateTime<Utc>>),
    /// Another principal's record.
    OtherPrincipal,
    /// Outside the window.
    OutsideWindow,
    /// Not a call made with the principal's permissions (`AwsServiceEvent`, a console sign-in).
    NotApiCall,
    /// The record cannot be placed (its time is not a time, or missing while a window is set).
    Rejected(RejectReason),
}

/// Admits `event` to a run of `role` (every principal when `None`) over `range`; the checks run
/// in the order the counts are kept: principal, time, event type.
pub fn admit(role: Option<&RoleFilter>, range: &TimeRange, event: &Event) -> Admission {
    if role.is_some_and(|r| !r.matches(event)) {
        return Admission::OtherPrincipal;
    }
    let time = match event.time() {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return Admission::Rejected(RejectReason::Unusable(format!(
                "eventTime `{}` is not an RFC 3339 time ({e})",
                event.event_time.as_deref().unwrap_or("")
            )))
        }
        None if range.is_bounded() => {
            return Admission::Rejected(RejectReason::Unusable(
                "no eventTime, so the date range cannot be applied".to_string(),
            ))
        }
        None => None,
    };
    if time.is_some_and(|t| !range.contains(t)) {
        return Admission::OutsideWindow;
    }
    if !event.is_principal_call() {
        return Admission::NotApiCall;
    }
    Admission::Admitted(time)
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
    fn a_record_is_admitted_only_when_it_is_the_roles_call_in_the_window() {
        let role = RoleFilter::parse("app").unwrap();
        let window = TimeRange::parse(Some("2026-10-01"), Some("2026-10-02")).unwrap();
        let open = TimeRange::parse(None, None).unwrap();
        let record = |issuer: &str, time: Option<&str>, kind: &str| {
            let time = time.map(|t| format!(r#","eventTime":"{t}""#)).unwrap_or_default();
            format!(
                r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventType":"{kind}"{time},"userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{issuer}/s","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/{issuer}"}}}}}}}}"#
            )
        };
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        // (record, window, admission)
        let cases: Vec<(String, &TimeRange, Admission)> = vec![
            (
                record("app", Some("2026-10-01T10:00:00Z"), "AwsApiCall"),
                &window,
                Admission::Admitted(Some(at("2026-10-01T10:00:00Z"))),
            ),
            (record("other", Some("2026-10-01T10:00:00Z"), "AwsApiCall"), &window, Admission::OtherPrincipal),
            (record("app", Some("2026-10-05T10:00:00Z"), "AwsApiCall"), &window, Admission::OutsideWindow),
            (record("app", Some("2026-10-01T10:00:00Z"), "AwsServiceEvent"), &window, Admission::NotApiCall),
            (record("app", None, "AwsApiCall"), &open, Admission::Admitted(None)),
            (record("other", Some("yesterday"), "AwsApiCall"), &window, Admission::OtherPrincipal),
        ];
        for (json, range, want) in cases {
            let event = Event::from_json(&json).unwrap();
            assert_eq!(admit(Some(&role), range, &event), want, "{json}");
        }
        let no_time = record("app", None, "AwsApiCall");
        let event = Event::from_json(&no_time).unwrap();
        assert!(matches!(admit(Some(&role), &window, &event), Admission::Rejected(RejectReason::Unusable(_))));
        let bad_time = record("app", Some("yesterday"), "AwsApiCall");
        let event = Event::from_json(&bad_time).unwrap();
        assert!(
            matches!(admit(Some(&role), &window, &event), Admission::Rejected(RejectReason::Unusable(m)) if m.contains("yesterday"))
        );
    }
}
