//! `--split-by`: which workload made a call, so that one role shared by several Lambda
//! functions, ECS services or CI jobs gets one policy per workload. The group of a call is read
//! from the record (session name, user agent, source IP or calling service) and reduced to its
//! stable part, so that the runs of one workload fall in one group:
//!
//! - session names lose their per-run suffixes: trailing run numbers and IDs (`GitHubActions-
//!   8812345678` -> `GitHubActions-*`, `botocore-session-1712345678` -> `botocore-session-*`,
//!   an ECS task ID or a UUID -> `*`, an EC2 instance ID `i-0abc...` -> `i-*`); a short number
//!   after such an ID (a retry) goes with it. Short numbers alone stay (`worker-1` and
//!   `worker-2` are two workloads). Lambda's session name is the function name and is kept.
//! - user agents keep the SDK or tool name without its version, and the execution environment
//!   and app ID when present (`Boto3 exec-env/AWS_Lambda_python3.12`): the rest varies by call.
//! - source IPs and calling services are kept as they are.

use std::borrow::Cow;

use crate::ingest::event::Event;

/// What `--split-by` groups calls by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitBy {
    /// The session name, reduced to its stable part.
    Session,
    /// The user agent's tool and execution environment.
    UserAgent,
    /// `sourceIPAddress`.
    SourceIp,
    /// `userIdentity.invokedBy` (the service that called on the principal's behalf), or direct.
    InvokedBy,
    /// The principal whose permissions the call used (the audit of every principal): a role
    /// (`arn:PARTITION:iam::ACCOUNT:role/NAME`, without its path), or a user (its federated
    /// users' calls count for it); [`NO_PRINCIPAL`] for the rest.
    Principal,
}

/// The group of calls made by no role or user (root, services, anonymous calls).
pub const NO_PRINCIPAL: &str = "(no role or user)";

impl SplitBy {
    /// The flag's value.
    pub fn name(self) -> &'static str {
        match self {
            SplitBy::Session => "session",
            SplitBy::UserAgent => "user-agent",
            SplitBy::SourceIp => "source-ip",
            SplitBy::InvokedBy => "invoked-by",
            SplitBy::Principal => "principal",
        }
    }

    /// How many groups are kept apart (the rest are counted in one): a hundred workloads of
    /// one role, or ten thousand principals of an account.
    pub fn max_groups(self) -> usize {
        match self {
            SplitBy::Principal => 10_000,
            _ => 100,
        }
    }

    /// How the groups are formed, for the table's footnote.
    pub fn rule(self) -> &'static str {
        match self {
            SplitBy::Session => "session names without their per-run suffixes (run numbers, task, instance and request IDs become *); a Lambda function's session name is its name",
            SplitBy::UserAgent => "the user agent's tool without its version, with its execution environment (exec-env/...) and app ID (app/...)",
            SplitBy::SourceIp => "the source IP address (or the service name CloudTrail writes there)",
            SplitBy::InvokedBy => "the service that made the call on the principal's behalf (invokedBy), else direct",
            SplitBy::Principal => "the role or user whose permissions the call used",
        }
    }

    /// The group of `event`.
    pub fn group_of<'e>(self, event: &'e Event<'_>) -> Cow<'e, str> {
        match self {
            SplitBy::Session => match session_name(event) {
                Some(name) => stable_session_name(name),
                None => Cow::Borrowed(NO_SESSION),
            },
            SplitBy::UserAgent => match event.user_agent.as_deref() {
                Some(ua) if !ua.trim().is_empty() => Cow::Owned(stable_user_agent(ua)),
                _ => Cow::Borrowed("(no user agent)"),
            },
            SplitBy::SourceIp => match event.source_ip_address.as_deref() {
                Some(ip) if !ip.is_empty() => Cow::Borrowed(ip),
                _ => Cow::Borrowed("(no source IP)"),
            },
            SplitBy::InvokedBy => match event.user_identity.invoked_by.as_deref() {
                Some(by) if !by.is_empty() => Cow::Borrowed(by),
                _ => Cow::Borrowed("(direct)"),
            },
            SplitBy::Principal => audited_principal(event).unwrap_or(Cow::Borrowed(NO_PRINCIPAL)),
        }
    }
}

impl std::str::FromStr for SplitBy {
    type Err = String;
    fn from_str(s: &str) -> Result<SplitBy, String> {
        match s {
            "session" => Ok(SplitBy::Session),
            "user-agent" => Ok(SplitBy::UserAgent),
            "source-ip" => Ok(SplitBy::SourceIp),
            "invoked-by" => Ok(SplitBy::InvokedBy),
            _ => Err(format!("`{s}`: expected session, user-agent, source-ip or invoked-by")),
        }
    }
}

/// The role or user a call is audited under: `arn:PARTITION:iam::ACCOUNT:role/NAME` (the role
/// of a session, without its path, which session ARNs omit) or `...:user/NAME` (an IAM user, or
/// the user that federated a federated user).
pub fn audited_principal<'e>(event: &'e Event<'_>) -> Option<Cow<'e, str>> {
    use crate::mapping::arn::Arn;
    let id = &event.user_identity;
    let (arn, kind): (Cow<'e, str>, &str) = match id.kind.as_deref() {
        Some("IAMUser") => (Cow::Borrowed(id.arn.as_deref()?), "user/"),
        Some("FederatedUser") => {
            let issuer = id.session_context.as_ref()?.session_issuer.as_ref()?;
            (Cow::Borrowed(issuer.arn.as_deref().filter(|_| issuer.kind.as_deref() == Some("IAMUser"))?), "user/")
        }
        Some("AssumedRole") | None => (event.issuer_role_arn()?, "role/"),
        _ => return None,
    };
    let parsed = Arn::parse(&arn)?;
    let path = parsed.resource.strip_prefix(kind)?;
    let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
    // An IAM ARN without a path is the key as it is (most principals): kept, not rebuilt.
    if parsed.service == "iam" && parsed.region.is_empty() && path == name {
        return Some(arn);
    }
    Some(Cow::Owned(format!("arn:{}:iam::{}:{kind}{name}", parsed.partition, parsed.account)))
}

/// The group of calls made without a session (an IAM user's own keys).
pub const NO_SESSION: &str = "(no session)";

/// `assumed-role/ROLE/SESSION` -> `SESSION`; `federated-user/NAME` -> `NAME`.
fn session_name<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    let arn = event.user_identity.arn.as_deref()?;
    if let Some((_, rest)) = arn.split_once(":assumed-role/") {
        return rest.split_once('/').map(|(_, s)| s).filter(|s| !s.is_empty());
    }
    arn.split_once(":federated-user/").map(|(_, s)| s)
}

/// A token that differs from run to run: 4 or more digits, or 8 or more hex digits with at least
/// one digit (an ID).
fn is_run_token(t: &str) -> bool {
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    (t.len() >= 4 && digits == t.len()) || (t.len() >= 8 && digits > 0 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The stable part of a session name (see the module's rules).
pub fn stable_session_name(name: &str) -> Cow<'_, str> {
    // Tokens and the separators before them.
    let mut cut = name.len();
    let mut popped_run = false;
    let mut rest = name;
    loop {
        let (head, token) = match rest.rfind(['-', '_', '.', '@', ':', '=', ',', '+']) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => ("", rest),
        };
        let short_number = !token.is_empty() && token.len() <= 3 && token.bytes().all(|b| b.is_ascii_digit());
        let head_is_run = {
            let prev = head.rsplit(['-', '_', '.', '@', ':', '=', ',', '+']).next().unwrap_or(head);
            is_run_token(prev)
        };
        // The groups of a UUID or a dotted ID before an ID already taken go with it.
        let id_part = popped_run
            && token.len() >= 4
            && token.bytes().all(|b| b.is_ascii_hexdigit())
            && token.bytes().any(|b| b.is_ascii_digit());
        if is_run_token(token) || (short_number && head_is_run) || id_part {
            popped_run = true;
            cut = head.len();
            rest = head;
            if head.is_empty() {
                break;
            }
        } else {
            break;
        }
    }
    if !popped_run {
        return Cow::Borrowed(name);
    }
    let stable = &name[..cut];
    if stable.is_empty() {
        Cow::Borrowed("*")
    } else {
        let sep = &name[cut..cut + 1];
        Cow::Owned(format!("{stable}{sep}*"))
    }
}

/// The stable part of a user agent: the first product's name, and `exec-env/...` and `app/...`.
pub fn stable_user_agent(ua: &str) -> String {
    let mut tokens = ua.split_whitespace();
    let first = tokens.next().unwrap_or("");
    let product = first.split('/').next().unwrap_or(first);
    let mut out = vec![product.to_string()];
    for t in ua.split_whitespace().skip(1) {
        if t.starts_with("exec-env/") || t.starts_with("app/") {
            out.push(t.to_string());
        }
    }
    let mut s = out.join(" ");
    if s.len() > 120 {
        let mut end = 120;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_keep_their_stable_part() {
        for (name, stable) in [
            ("orders-worker", "orders-worker"),
            ("worker-1", "worker-1"),
            ("worker-2", "worker-2"),
            ("GitHubActions-8812345678", "GitHubActions-*"),
            ("gitlab-ci-98765-3", "gitlab-ci-*"),
            ("botocore-session-1712345678", "botocore-session-*"),
            ("i-0abc1234def567890", "i-*"),
            ("0123456789abcdef0123456789abcdef", "*"),
            ("3f2b1c9e-8d7a-4e6f-9a0b-1c2d3e4f5a6b", "*"),
            ("deploy-a1b2c3d4e5", "deploy-*"),
            ("alice@example.com", "alice@example.com"),
            ("aws-go-sdk-1700000000000", "aws-go-sdk-*"),
            ("2024", "*"),
            ("decade", "decade"),
        ] {
            assert_eq!(stable_session_name(name), stable, "{name}");
        }
    }

    #[test]
    fn user_agents_keep_the_tool_and_where_it_runs() {
        for (ua, stable) in [
            (
                "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.12.1 exec-env/AWS_Lambda_python3.12 Botocore/1.34.0",
                "Boto3 exec-env/AWS_Lambda_python3.12",
            ),
            ("aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 api/sqs#1.34.3", "aws-sdk-go-v2"),
            ("aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64 prompt/off command/s3.cp", "aws-cli"),
            ("aws-sdk-js/3.600.0 ua/2.1 os/linux lang/js md/nodejs#20 api/s3#3.600.0 app/billing", "aws-sdk-js app/billing"),
            ("console.amazonaws.com", "console.amazonaws.com"),
        ] {
            assert_eq!(stable_user_agent(ua), stable, "{ua}");
        }
    }

    #[test]
    fn each_split_reads_its_field_of_the_record() {
        let json = r#"{"eventSource":"sqs.amazonaws.com","eventName":"SendMessage","userAgent":"aws-cli/2.15.0 Python/3.11",
            "sourceIPAddress":"203.0.113.7","userIdentity":{"type":"AssumedRole",
            "arn":"arn:aws:sts::111122223333:assumed-role/shared/GitHubActions-8812345678","invokedBy":"lambda.amazonaws.com"}}"#;
        let e = Event::from_json(json).unwrap();
        assert_eq!(SplitBy::Session.group_of(&e), "GitHubActions-*");
        assert_eq!(SplitBy::UserAgent.group_of(&e), "aws-cli");
        assert_eq!(SplitBy::SourceIp.group_of(&e), "203.0.113.7");
        assert_eq!(SplitBy::InvokedBy.group_of(&e), "lambda.amazonaws.com");
        let bare = Event::from_json(
            r#"{"eventSource":"s","eventName":"n","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#,
        )
        .unwrap();
        assert_eq!(SplitBy::Session.group_of(&bare), NO_SESSION);
        assert_eq!(SplitBy::InvokedBy.group_of(&bare), "(direct)");
        assert_eq!(SplitBy::UserAgent.group_of(&bare), "(no user agent)");
    }
}
