//! What IAM itself says of a principal's use (its "last accessed" data, the access advisor):
//! the answer of `GenerateServiceLastAccessedDetails` with `ACTION_LEVEL` granularity, then
//! `GetServiceLastAccessedDetails`, for each service the principal's policies allow: when it
//! last authenticated to it, and for services IAM tracks action by action, when it last used
//! each tracked action. IAM sees what the logs may not (data events that are not logged, a
//! trail that covers other regions, up to 400 days back), but only per service or tracked
//! action, and not which resource. The audit shows it beside the logs' answer and never mixes
//! the two (the audit use case).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// IAM's last-accessed data of one principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAccessed {
    /// The principal's ARN, as IAM was asked.
    pub arn: String,
    /// When IAM's job finished (its data is as of then; IAM reports use within about four hours).
    pub job_completed: Option<DateTime<Utc>>,
    /// Each service the principal's policies allow.
    pub services: Vec<ServiceAccess>,
}

/// One service of [`LastAccessed`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccess {
    /// The service prefix (`s3`).
    pub namespace: String,
    /// The service's name (`Amazon S3`).
    pub name: String,
    /// The last time the principal authenticated to it (none in IAM's tracking period: never).
    pub last_authenticated: Option<DateTime<Utc>>,
    /// Where it did.
    pub region: Option<String>,
    /// The tracked actions, for the services IAM tracks action by action; `None` when IAM
    /// reports the service as a whole only.
    pub actions: Option<Vec<ActionAccess>>,
}

/// One tracked action of a [`ServiceAccess`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAccess {
    /// `s3:GetObject`.
    pub action: String,
    /// The last time the principal used it (none: not in IAM's tracking period).
    pub last_accessed: Option<DateTime<Utc>>,
    /// Where.
    pub region: Option<String>,
}

impl ServiceAccess {
    /// The tracked action `action` (`s3:GetObject`, case-insensitively), when IAM tracks it.
    pub fn action(&self, action: &str) -> Option<&ActionAccess> {
        self.actions.as_ref()?.iter().find(|a| a.action.eq_ignore_ascii_case(action))
    }
}

impl LastAccessed {
    /// The service `namespace` (`s3`), when IAM reported it.
    pub fn service(&self, namespace: &str) -> Option<&ServiceAccess> {
        self.services.iter().find(|s| s.namespace.eq_ignore_ascii_case(namespace))
    }
}

/// `s3` and `GetObject` (as IAM names a tracked action) -> `s3:GetObject`; a name that already
/// has its prefix is kept.
pub fn action_name(namespace: &str, name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("{namespace}:{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracked_actions_are_named_with_their_service_prefix_and_found_case_insensitively() {
        assert_eq!(action_name("s3", "GetObject"), "s3:GetObject");
        assert_eq!(action_name("s3", "s3:GetObject"), "s3:GetObject");
        let s = ServiceAccess {
            namespace: "s3".into(),
            actions: Some(vec![ActionAccess { action: "s3:GetObject".into(), ..ActionAccess::default() }]),
            ..ServiceAccess::default()
        };
        assert!(s.action("s3:getobject").is_some());
        assert!(s.action("s3:PutObject").is_none());
        let whole = ServiceAccess { namespace: "sqs".into(), ..ServiceAccess::default() };
        assert!(whole.action("sqs:SendMessage").is_none(), "a service IAM reports as a whole has no tracked action");
    }
}
