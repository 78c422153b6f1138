//! One CloudTrail record, deserialized borrowing from the input buffer; the parts iamtrim
//! does not need are skipped, and `requestParameters` stays raw until a mapper asks for it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A CloudTrail record (`Records[]` element, JSON Lines row, or LookupEvents `CloudTrailEvent`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// `eventTime`, RFC 3339; optional here so records without it can still be counted.
    #[serde(borrow, default)]
    pub event_time: Option<Cow<'a, str>>,
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    #[serde(borrow)]
    pub event_source: Cow<'a, str>,
    /// `eventName`, usually the API operation.
    #[serde(borrow)]
    pub event_name: Cow<'a, str>,
    /// `eventType`: `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, ...
    #[serde(borrow, default)]
    pub event_type: Option<Cow<'a, str>>,
    /// `awsRegion`.
    #[serde(borrow, default)]
    pub aws_region: Option<Cow<'a, str>>,
    /// `recipientAccountId`: the account that received the call.
    #[serde(borrow, default)]
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `errorCode`, when the call failed.
    #[serde(borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    /// `errorMessage`.
    #[serde(borrow, default)]
    pub error_message: Option<Cow<'a, str>>,
    /// Who made the call.
    #[serde(borrow)]
    pub user_identity: UserIdentity<'a>,
    /// `requestParameters`, raw JSON (may be `null`).
    #[serde(borrow, default)]
    pub request_parameters: Option<&'a RawValue>,
    /// `vpcEndpointId`, when the call came through a VPC endpoint.
    #[serde(borrow, default)]
    pub vpc_endpoint_id: Option<Cow<'a, str>>,
    /// `userAgent`: the SDK or tool that made the call.
    #[serde(borrow, default)]
    pub user_agent: Option<Cow<'a, str>>,
    /// `sourceIPAddress`: an IP address, or the service's name for calls a service made.
    #[serde(borrow, default, rename = "sourceIPAddress")]
    pub source_ip_address: Option<Cow<'a, str>>,
    /// `resources[]`: the ARNs CloudTrail names for the call, raw; see [`Event::resources`].
    #[serde(borrow, default, rename = "resources")]
    pub raw_resources: Option<&'a RawValue>,
}

/// `userIdentity`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// `type`: `AssumedRole`, `IAMUser`, `Root`, `AWSService`, ...
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// Principal ARN (`arn:aws:sts::123:assumed-role/Role/session` for roles).
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    /// Account of the principal.
    #[serde(borrow, default)]
    pub account_id: Option<Cow<'a, str>>,
    /// Session context of temporary credentials.
    #[serde(borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
    /// `invokedBy`, when a service called on the principal's behalf.
    #[serde(borrow, default)]
    pub invoked_by: Option<Cow<'a, str>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    /// The role or user that issued the session.
    #[serde(borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    /// `Role`, `IAMUser`, ...
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// Role ARN, including its path.
    #[serde(borrow, default)]
    pub arn: Option<Cow<'a, str>>,
    /// Role name.
    #[serde(borrow, default)]
    pub user_name: Option<Cow<'a, str>>,
    /// Account of the role.
    #[serde(borrow, default)]
    pub account_id: Option<Cow<'a, str>>,
}

/// One `resources[]` element.
#[derive(Debug, Deserialize)]
pub struct Resource<'a> {
    /// The resource's ARN (`ARN`, or `arn` in some services' records).
    #[serde(borrow, rename = "ARN", alias = "arn", default)]
    pub arn: Option<Cow<'a, str>>,
    /// `type`, e.g. `AWS::S3::Object`.
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
}

/// The `resources[]` of a record, from the raw field (see [`Event::resources`]).
pub(crate) fn resources_of<'a>(raw: Option<&'a RawValue>) -> Vec<Resource<'a>> {
    raw.and_then(|raw| serde_json::from_str::<Vec<Resource<'a>>>(raw.get()).ok()).unwrap_or_default()
}

impl<'a> Event<'a> {
    /// Parses one record.
    pub fn from_json(json: &'a str) -> Result<Event<'a>, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// `resources[]`. The field is only a hint for resource ARNs, so one that is not an array of
    /// objects (seen in hand-written fixtures) yields no resources rather than losing the record.
    pub fn resources(&self) -> Vec<Resource<'a>> {
        resources_of(self.raw_resources)
    }

    /// `eventTime` as a UTC timestamp, `None` when absent. CloudTrail writes RFC 3339
    /// (`2026-10-01T12:00:00Z`); query engines (Athena, CloudTrail Lake, SIEM exports) write
    /// `2026-10-01 12:00:00[.fff]` in UTC, which is accepted too.
    pub fn time(&self) -> Option<Result<DateTime<Utc>, chrono::ParseError>> {
        self.event_time.as_deref().map(|t| {
            DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).or_else(|e| {
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").map(|n| n.and_utc()).map_err(|_| e)
            })
        })
    }

    /// The ARN of the role whose session made the call: `sessionIssuer.arn` when present, else
    /// derived from an `assumed-role` principal ARN (without the role path, which that ARN omits).
    pub(crate) fn issuer_role_arn(&self) -> Option<Cow<'_, str>> {
        if let Some(issuer) = self.user_identity.session_context.as_ref().and_then(|c| c.session_issuer.as_ref()) {
            if issuer.kind.as_deref().is_none_or(|k| k == "Role") {
                if let Some(arn) = issuer.arn.as_deref() {
                    return Some(Cow::Borrowed(arn));
                }
            }
        }
        let arn = self.user_identity.arn.as_deref()?;
        let (head, rest) = arn.split_once(":assumed-role/")?;
        let role = rest.split('/').next()?;
        let head = head.replacen(":sts:", ":iam:", 1);
        Some(Cow::Owned(format!("{head}:role/{role}")))
    }

    /// The account that received the call (`recipientAccountId`, else the caller's account).
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or(self.user_identity.account_id.as_deref())
    }

    /// True for events that record a call made with the principal's own permissions:
    /// `AwsApiCall`, `AwsConsoleAction`, or no `eventType` at all (older records).
    pub(crate) fn is_principal_call(&self) -> bool {
        matches!(self.event_type.as_deref(), None | Some("AwsApiCall") | Some("AwsConsoleAction"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSUMED: &str = r#"{"eventVersion":"1.08","eventTime":"2026-10-01T10:00:00Z","eventSource":"s3.amazonaws.com",
        "eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"123456789012",
        "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/app/i-1",
          "accountId":"123456789012","sessionContext":{"sessionIssuer":{"type":"Role",
          "arn":"arn:aws:iam::123456789012:role/service/app","userName":"app","accountId":"123456789012"}}},
        "requestParameters":{"bucketName":"b","key":"k"},
        "resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/k"}]}"#;

    #[test]
    fn parses_borrowing_fields() {
        let e = Event::from_json(ASSUMED).unwrap();
        assert_eq!(e.event_source, "s3.amazonaws.com");
        assert!(matches!(e.event_name, Cow::Borrowed(_)));
        assert_eq!(e.issuer_role_arn().as_deref(), Some("arn:aws:iam::123456789012:role/service/app"));
        assert_eq!(e.account(), Some("123456789012"));
        assert_eq!(e.request_parameters.unwrap().get(), r#"{"bucketName":"b","key":"k"}"#);
        assert_eq!(e.resources()[0].arn.as_deref(), Some("arn:aws:s3:::b/k"));
        assert!(e.time().unwrap().is_ok());
        for (t, ok) in [
            ("2026-10-01T12:00:00Z", true),
            ("2026-10-01 12:00:00.000000000", true),
            ("2026-10-01 12:00:00", true),
            ("yesterday", false),
        ] {
            let json = format!(r#"{{"eventSource":"s","eventName":"n","userIdentity":{{}},"eventTime":"{t}"}}"#);
            assert_eq!(Event::from_json(&json).unwrap().time().unwrap().is_ok(), ok, "{t}");
        }
        assert!(e.is_principal_call());
    }

    #[test]
    fn role_arn_falls_back_to_assumed_role_principal() {
        let json = r#"{"eventSource":"sqs.amazonaws.com","eventName":"SendMessage",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/app/s"}}"#;
        let e = Event::from_json(json).unwrap();
        assert_eq!(e.issuer_role_arn().as_deref(), Some("arn:aws:iam::123456789012:role/app"));
    }

    #[test]
    fn denied_is_decided_by_error_code_or_message() {
        for (code, msg, want) in [
            (Some("AccessDenied"), None, true),
            (Some("Client.UnauthorizedOperation"), None, true),
            (Some("AccessDeniedException"), None, true),
            (Some("NoSuchKey"), None, false),
            (Some("ResourceNotFoundException"), None, false),
            (None, Some("User: x is not authorized to perform: s3:GetObject"), true),
            (None, None, false),
        ] {
            let json = serde_json::json!({"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{},
                "errorCode": code, "errorMessage": msg})
            .to_string();
            assert_eq!(Event::from_json(&json).unwrap().is_denied(), want, "{code:?} {msg:?}");
        }
    }

    #[test]
    fn malformed_resources_are_ignored_not_fatal() {
        let json = r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{},"resources":"{'ARN': 'x'}"}"#;
        assert!(Event::from_json(json).unwrap().resources().is_empty());
    }

    #[test]
    fn missing_required_fields_are_errors() {
        let err = Event::from_json(r#"{"eventSource":"s3.amazonaws.com","userIdentity":{}}"#).unwrap_err();
        assert!(err.to_string().contains("eventName"), "{err}");
        let err = Event::from_json(r#"{"eventSource":"s3.amazonaws.com","eventName":"X"}"#).unwrap_err();
        assert!(err.to_string().contains("userIdentity"), "{err}");
    }
}
