//! Whose activity a run reads: a role (every session of it, web-identity and SAML sessions
//! included), an IAM user (its own calls and the sessions it federated), one federated user, or
//! an IAM Identity Center permission set (its `AWSReservedSSO_<set>_<hash>` role in every
//! account). Root is refused: no policy can scope the root user.

use std::borrow::Cow;

use crate::ingest::event::Event;
use crate::mapping::arn::Arn;

/// What kind of identity a [`PrincipalFilter`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    /// An IAM role: calls made with any session of it.
    Role,
    /// An IAM user: its calls with its keys (and `GetSessionToken` sessions), and the calls of
    /// the federated users it created with `GetFederationToken`, whose permissions it bounds.
    User,
    /// One federated user (`arn:aws:sts::ACCOUNT:federated-user/NAME`).
    FederatedUser,
    /// An IAM Identity Center permission set: its roles in every account it is assigned to.
    PermissionSet,
}

impl PrincipalKind {
    /// `role`, `user`, `federated user`, `permission set`.
    pub fn noun(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
            PrincipalKind::FederatedUser => "federated user",
            PrincipalKind::PermissionSet => "permission set",
        }
    }
}

/// The identity whose activity is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalFilter {
    given: String,
    kind: PrincipalKind,
    account: Option<String>,
    partition: Option<String>,
    name: String,
}

/// A principal that cannot be selected, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPrincipal {
    /// Not the shape the flag takes.
    #[error("`{given}` is not {expected}")]
    Malformed {
        /// What was given.
        given: String,
        /// What the flag takes.
        expected: &'static str,
    },
    /// The root user.
    #[error("`{0}` is the account's root user: no IAM policy applies to root, so there is nothing to generate or trim. Use a role or user for the work root did, and keep root for the tasks only root can do")]
    Root(String),
}

const ROLE_EXPECTED: &str =
    "a role name or a role ARN (arn:aws:iam::123456789012:role/NAME); for users use --user or --principal";
const USER_EXPECTED: &str = "an IAM user name or a user ARN (arn:aws:iam::123456789012:user/NAME)";
const PRINCIPAL_EXPECTED: &str = "a principal ARN: arn:PARTITION:iam::ACCOUNT:role/NAME, :user/NAME, arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION or :federated-user/NAME";
const SET_EXPECTED: &str = "a permission set name (1 to 32 of letters, digits and +=,.@_-)";

/// IAM's rule for role and user names: 1 to 64 of letters, digits and `+=,.@_-`.
fn is_iam_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The prefix of the roles IAM Identity Center creates for a permission set.
const SSO_PREFIX: &str = "AWSReservedSSO_";

/// The permission set a role was created for: `AWSReservedSSO_<set>_<16 hex digits>` -> `set`.
pub fn permission_set_of_role(role_name: &str) -> Option<&str> {
    let rest = role_name.get(..SSO_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(SSO_PREFIX))?;
    let rest = &role_name[rest.len()..];
    let (set, hash) = rest.rsplit_once('_')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !set.is_empty()).then_some(set)
}

impl PrincipalFilter {
    fn new(given: &str, kind: PrincipalKind, arn: Option<&Arn<'_>>, name: &str) -> PrincipalFilter {
        PrincipalFilter {
            given: given.to_string(),
            kind,
            account: arn.map(|a| a.account.to_string()),
            partition: arn.map(|a| a.partition.to_string()),
            name: name.to_string(),
        }
    }

    /// Parses `--role`: `arn:aws:iam::123456789012:role/path/name`, an assumed-role session ARN
    /// (its role), or a name.
    pub fn parse(role: &str) -> Result<PrincipalFilter, BadPrincipal> {
        Self::role(role)
    }

    /// `--role`.
    pub fn role(role: &str) -> Result<PrincipalFilter, BadPrincipal> {
        let role = role.trim();
        let bad = || BadPrincipal::Malformed { given: role.to_string(), expected: ROLE_EXPECTED };
        if role.starts_with("arn:") {
            let p = Self::principal(role).map_err(|e| match e {
                BadPrincipal::Root(_) => e,
                _ => bad(),
            })?;
            return if p.kind == PrincipalKind::Role { Ok(p) } else { Err(bad()) };
        }
        if !is_iam_name(role, 64) {
            return Err(bad());
        }
        Ok(Self::new(role, PrincipalKind::Role, None, role))
    }

    /// `--user`: a user name or ARN.
    pub fn user(user: &str) -> Result<PrincipalFilter, BadPrincipal> {
        let user = user.trim();
        let bad = || BadPrincipal::Malformed { given: user.to_string(), expected: USER_EXPECTED };
        if user.starts_with("arn:") {
            let p = Self::principal(user).map_err(|e| match e {
                BadPrincipal::Root(_) => e,
                _ => bad(),
            })?;
            return if p.kind == PrincipalKind::User { Ok(p) } else { Err(bad()) };
        }
        if !is_iam_name(user, 64) {
            return Err(bad());
        }
        Ok(Self::new(user, PrincipalKind::User, None, user))
    }

    /// `--permission-set NAME`: its `AWSReservedSSO_NAME_<hash>` roles in every account.
    pub fn permission_set(name: &str) -> Result<PrincipalFilter, BadPrincipal> {
        let name = name.trim();
        if !is_iam_name(name, 32) {
            return Err(BadPrincipal::Malformed { given: name.to_string(), expected: SET_EXPECTED });
        }
        Ok(Self::new(name, PrincipalKind::PermissionSet, None, name))
    }

    /// `--principal ARN`: a role, user, assumed-role session (its role) or federated user ARN.
    pub fn principal(arn: &str) -> Result<PrincipalFilter, BadPrincipal> {
        let given = arn.trim();
        let bad = || BadPrincipal::Malformed { given: given.to_string(), expected: PRINCIPAL_EXPECTED };
        let parsed = Arn::parse(given).ok_or_else(bad)?;
        if !parsed.partition.starts_with("aws") || !parsed.region.is_empty() {
            return Err(bad());
        }
        if parsed.account.is_empty() || !parsed.account.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        let last = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
        let (kind, name) = match (parsed.service, parsed.resource) {
            (_, "root") => return Err(BadPrincipal::Root(given.to_string())),
            ("iam", r) if r.starts_with("role/") => (PrincipalKind::Role, last(&r[5..])),
            ("iam", r) if r.starts_with("user/") => (PrincipalKind::User, last(&r[5..])),
            ("sts", r) if r.starts_with("assumed-role/") => {
                let role = r[13..].split('/').next().unwrap_or("");
                (PrincipalKind::Role, role.to_string())
            }
            ("sts", r) if r.starts_with("federated-user/") => (PrincipalKind::FederatedUser, r[15..].to_string()),
            _ => return Err(bad()),
        };
        let max = if kind == PrincipalKind::FederatedUser { 32 } else { 64 };
        if !is_iam_name(&name, max) {
            return Err(bad());
        }
        Ok(Self::new(given, kind, Some(&parsed), &name))
    }

    /// The principal as the user gave it.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// What kind of principal.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The principal's account, when given as an ARN.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The partition of the principal's ARN, when given as an ARN.
    pub fn partition(&self) -> Option<&str> {
        self.partition.as_deref()
    }

    /// The name (without path): role, user, federated user or permission set.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `role app`, `user alice`, `permission set ReadOnly`: for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind.noun(), self.given)
    }

    /// True when the principal made the call. IAM names of roles and users are unique within an
    /// account whatever their path and case, so account and name (case-insensitively) decide; a
    /// name alone matches in any account (the caller refuses a name that matched several
    /// accounts, except for a permission set, whose roles are in every account by design).
    pub fn matches(&self, event: &Event<'_>) -> bool {
        let id = &event.user_identity;
        let same_account = |account: &str| self.account.as_deref().is_none_or(|a| a == account);
        match self.kind {
            PrincipalKind::Role | PrincipalKind::PermissionSet => {
                if id.kind.as_deref().is_some_and(|k| k != "AssumedRole") {
                    return false;
                }
                let Some(arn) = event.issuer_role_arn() else { return false };
                let Some(parsed) = Arn::parse(&arn) else { return false };
                let Some(path) = parsed.resource.strip_prefix("role/") else { return false };
                let name = path.rsplit('/').next().unwrap_or(path);
                match self.kind {
                    PrincipalKind::Role => name.eq_ignore_ascii_case(&self.name) && same_account(parsed.account),
                    _ => permission_set_of_role(name).is_some_and(|set| set.eq_ignore_ascii_case(&self.name)),
                }
            }
            PrincipalKind::User => {
                let user = match id.kind.as_deref() {
                    Some("IAMUser") => id.arn.clone(),
                    // A federated user's permissions are the intersection of the IAM user's that
                    // federated it and the session policy: its calls need the user's grants.
                    Some("FederatedUser") => id
                        .session_context
                        .as_ref()
                        .and_then(|c| c.session_issuer.as_ref())
                        .filter(|i| i.kind.as_deref() == Some("IAMUser"))
                        .and_then(|i| i.arn.clone()),
                    _ => None,
                };
                user_name(user.as_deref())
                    .is_some_and(|(account, name)| name.eq_ignore_ascii_case(&self.name) && same_account(account))
            }
            PrincipalKind::FederatedUser => {
                id.kind.as_deref() == Some("FederatedUser")
                    && id.arn.as_deref().and_then(Arn::parse).is_some_and(|a| {
                        a.resource.strip_prefix("federated-user/") == Some(self.name.as_str())
                            && same_account(a.account)
                    })
            }
        }
    }
}

/// `arn:aws:iam::1:user/path/alice` -> (`1`, `alice`).
fn user_name(arn: Option<&str>) -> Option<(&str, &str)> {
    let parsed = Arn::parse(arn?)?;
    let path = parsed.resource.strip_prefix("user/")?;
    Some((parsed.account, path.rsplit('/').next().unwrap_or(path)))
}

/// The ARN a record's principal is counted under: the role of a session, the user, the
/// federated user; `None` for service and anonymous calls.
pub fn principal_arn<'e>(event: &'e Event<'_>) -> Option<Cow<'e, str>> {
    if let Some(role) = event.issuer_role_arn() {
        return Some(role);
    }
    event.user_identity.arn.as_deref().map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(identity: &str) -> String {
        format!(r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{identity}}}"#)
    }

    fn session(issuer: &str) -> String {
        event(&format!(
            r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/x/s","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"{issuer}"}}}}}}"#
        ))
    }

    fn user(arn: &str) -> String {
        event(&format!(r#"{{"type":"IAMUser","arn":"{arn}","accountId":"111122223333"}}"#))
    }

    fn federated(name: &str, issuer: &str) -> String {
        event(&format!(
            r#"{{"type":"FederatedUser","arn":"arn:aws:sts::111122223333:federated-user/{name}","sessionContext":{{"sessionIssuer":{{"type":"IAMUser","arn":"{issuer}","userName":"x"}}}}}}"#
        ))
    }

    fn web_identity(role: &str) -> String {
        event(&format!(
            r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{role}/web-session","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/{role}"}},"webIdFederationData":{{"federatedProvider":"accounts.google.com","attributes":{{}}}}}}}}"#
        ))
    }

    #[test]
    fn each_kind_of_principal_matches_its_own_calls_and_no_other() {
        let p = |s: &str| PrincipalFilter::principal(s).unwrap();
        let role = p("arn:aws:iam::111122223333:role/app/dev-app");
        let role_name = PrincipalFilter::role("dev-app").unwrap();
        let alice = PrincipalFilter::user("alice").unwrap();
        let alice_arn = p("arn:aws:iam::111122223333:user/team/alice");
        let fed = p("arn:aws:sts::111122223333:federated-user/bob");
        let set = PrincipalFilter::permission_set("ReadOnly").unwrap();
        let session_of = p("arn:aws:sts::111122223333:assumed-role/dev-app/i-0123");
        // (record, [role ARN, role name, user name, user ARN, federated user, permission set, session ARN])
        let cases = [
            (session("arn:aws:iam::111122223333:role/app/dev-app"), [true, true, false, false, false, false, true]),
            (session("arn:aws:iam::999999999999:role/dev-app"), [false, true, false, false, false, false, false]),
            (session("arn:aws:iam::111122223333:role/Dev-App"), [true, true, false, false, false, false, true]),
            (session("arn:aws:iam::111122223333:role/dev-app-2"), [false; 7]),
            (web_identity("dev-app"), [true, true, false, false, false, false, true]),
            (user("arn:aws:iam::111122223333:user/team/alice"), [false, false, true, true, false, false, false]),
            (user("arn:aws:iam::999999999999:user/alice"), [false, false, true, false, false, false, false]),
            (user("arn:aws:iam::111122223333:user/dev-app"), [false; 7]),
            (
                federated("bob", "arn:aws:iam::111122223333:user/alice"),
                [false, false, true, true, true, false, false],
            ),
            (federated("bobby", "arn:aws:iam::111122223333:user/carol"), [false; 7]),
            (
                session("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef"),
                [false, false, false, false, false, true, false],
            ),
            (
                session("arn:aws:iam::444455556666:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_fedcba9876543210"),
                [false, false, false, false, false, true, false],
            ),
            (
                session("arn:aws:iam::111122223333:role/AWSReservedSSO_ReadOnly_Extra_0123456789abcdef"),
                [false; 7],
            ),
            (session("arn:aws:iam::111122223333:role/AWSReservedSSO_ReadOnly_0123"), [false; 7]),
            (event(r#"{"type":"Root","arn":"arn:aws:iam::111122223333:root"}"#), [false; 7]),
            (event(r#"{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}"#), [false; 7]),
        ];
        let filters = [&role, &role_name, &alice, &alice_arn, &fed, &set, &session_of];
        for (json, want) in cases {
            let e = Event::from_json(&json).unwrap();
            for (f, w) in filters.iter().zip(want) {
                assert_eq!(f.matches(&e), w, "{} on {json}", f.describe());
            }
        }
    }

    #[test]
    fn root_is_refused_with_the_reason() {
        for root in ["arn:aws:iam::111122223333:root", "arn:aws-us-gov:iam::111122223333:root"] {
            let err = PrincipalFilter::principal(root).unwrap_err();
            assert!(matches!(err, BadPrincipal::Root(_)), "{root}");
            assert!(err.to_string().contains("no IAM policy applies to root"), "{err}");
            assert!(matches!(PrincipalFilter::role(root), Err(BadPrincipal::Root(_))));
        }
    }

    #[test]
    fn partitions_are_read_from_the_principal_arn() {
        for (arn, partition) in [
            ("arn:aws-us-gov:iam::111122223333:role/app", "aws-us-gov"),
            ("arn:aws-cn:iam::111122223333:user/alice", "aws-cn"),
            ("arn:aws-iso-b:sts::111122223333:assumed-role/app/s", "aws-iso-b"),
            ("arn:aws-eusc:iam::111122223333:role/app", "aws-eusc"),
        ] {
            assert_eq!(PrincipalFilter::principal(arn).unwrap().partition(), Some(partition));
        }
    }

    #[test]
    fn malformed_principals_are_rejected_for_each_flag() {
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "a/b",
            "arn:aws:iam::*:role/x",
            "arn:aws:iam::111122223333:role/",
            "a\nb",
            "x\u{1b}[2J",
            &"r".repeat(65),
        ] {
            assert!(PrincipalFilter::role(bad).is_err(), "role {bad}");
            assert!(PrincipalFilter::user(bad).is_err(), "user {bad}");
            assert!(PrincipalFilter::principal(bad).is_err(), "principal {bad}");
        }
        assert!(PrincipalFilter::role("arn:aws:iam::111122223333:user/x").is_err());
        assert!(PrincipalFilter::user("arn:aws:iam::111122223333:role/x").is_err());
        assert!(PrincipalFilter::principal("dev-app").is_err());
        assert!(PrincipalFilter::principal("arn:aws:iam:us-east-1:111122223333:role/x").is_err());
        assert!(PrincipalFilter::permission_set(&"p".repeat(33)).is_err());
        assert!(PrincipalFilter::permission_set("a b").is_err());
    }

    #[test]
    fn permission_set_names_are_read_from_identity_center_role_names() {
        for (role, set) in [
            ("AWSReservedSSO_AdministratorAccess_0123456789abcdef", Some("AdministratorAccess")),
            ("AWSReservedSSO_Read_Only_0123456789abcdef", Some("Read_Only")),
            ("awsreservedsso_x_0123456789ABCDEF", Some("x")),
            ("AWSReservedSSO__0123456789abcdef", None),
            ("AWSReservedSSO_x_0123", None),
            ("AWSReservedSSO_x_0123456789abcdeg", None),
            ("app", None),
        ] {
            assert_eq!(permission_set_of_role(role), set, "{role}");
        }
    }
}
