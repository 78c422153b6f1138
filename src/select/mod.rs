//! Stage 2: which records belong to the run: the principal that made them ([`principal`]), and
//! the time window; pushed down into Athena and CloudTrail Lake as an aggregating query ([`warehouse`]).

pub mod principal;
pub mod split;
pub mod warehouse;

use chrono::{DateTime, Utc};

use crate::ingest::event::Event;
use crate::ingest::record::RejectReason;
pub use crate::ingest::window::{BadTime, TimeRange};
pub use principal::{BadPrincipal, PrincipalFilter, PrincipalKind};
pub use split::SplitBy;

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

/// Admits `event` to a run of `principal` (every principal when `None`) over `range`; the checks run
/// in the order the counts are kept: principal, time, event type.
pub fn admit(principal: Option<&PrincipalFilter>, range: &TimeRange, event: &Event) -> Admission {
    if principal.is_some_and(|p| !p.matches(event)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_admitted_only_when_it_is_the_roles_call_in_the_window() {
        let role = PrincipalFilter::parse("app").unwrap();
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
