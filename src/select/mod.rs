//! Stage 2: which records belong to the run: the role whose sessions made them, and the time
//! window; pushed down into Athena and CloudTrail Lake as an aggregating query ([`warehouse`]).

pub mod warehouse;

use crate::ingest::event::Event;
pub use crate::ingest::window::{BadTime, TimeRange};

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
}
