//! The policy evaluator, as a table of cases that read like the IAM documentation
//! ("Policy evaluation logic", "IAM JSON policy elements": Action, NotAction, Resource,
//! NotResource, Condition, policy variables, permissions boundaries).

use iamtrim::evaluator::{Decision, PolicySet, RequestContext};
use iamtrim::model::Policy;

use Decision::*;

struct Case {
    rule: &'static str,
    identity: &'static [&'static str],
    boundary: Option<&'static str>,
    action: &'static str,
    resource: &'static str,
    want: Decision,
}

const fn case(
    rule: &'static str,
    identity: &'static [&'static str],
    action: &'static str,
    resource: &'static str,
    want: Decision,
) -> Case {
    Case { rule, identity, boundary: None, action, resource, want }
}

const fn bounded(
    rule: &'static str,
    identity: &'static [&'static str],
    boundary: &'static str,
    action: &'static str,
    resource: &'static str,
    want: Decision,
) -> Case {
    Case { rule, identity, boundary: Some(boundary), action, resource, want }
}

const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}"#;
const S3_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_DELETE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#;
const NOT_IAM: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#;
const DENY_NOT_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}"#;
const ALLOW_NOT_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}]}"#;
const COND_ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}}]}"#;
const COND_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
const VARIABLE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#;
const ESCAPES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::odd/${*}star"}]}"#;
const LITERAL_A_STAR: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a${*}"}]}"#;
const LITERAL_INVOICE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/invoice-${?}${?}.pdf"}]}"#;
const LITERAL_DOLLAR: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/x${$}{aws:username}"}]}"#;
const QUESTION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get?bject","Resource":"arn:aws:s3:::b/file-?.txt"}]}"#;
const REGION_WILDCARD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:123456789012:table/orders"}]}"#;
const ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/app-*"}]}"#;
const LOWER_ACTION: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}]}"#;
const SHORT_ARN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:*"}]}"#;
const LOGS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/app/*:*"}]}"#;
const NO_RESOURCE_ELEMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetSessionToken"}]}"#;
const BOUNDARY_S3_SQS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sqs:*"],"Resource":"*"}]}"#;
const BOUNDARY_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;
const BOUNDARY_COND: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
const TWO_STATEMENTS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"},{"Sid":"Write","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const DENY_SPECIFIC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/private/*"}]}"#;
const NOT_ACTION_DENY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;
const COND_DENY_SPECIFIC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}"#;
const KMS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"arn:aws:kms:us-east-1:123456789012:key/*"}]}"#;

const OBJ: &str = "arn:aws:s3:::data/reports/q1.csv";

const CASES: &[Case] = &[
    // Default deny and basic allow.
    case("no policy: every request is implicitly denied", &[], "s3:GetObject", OBJ, ImplicitDeny),
    case("an Allow naming the action and a matching resource allows", &[S3_READ], "s3:GetObject", OBJ, Allow),
    case(
        "an Allow on the bucket ARN covers ListBucket on the bucket",
        &[S3_READ],
        "s3:ListBucket",
        "arn:aws:s3:::data",
        Allow,
    ),
    case("an action not named is implicitly denied", &[S3_READ], "s3:PutObject", OBJ, ImplicitDeny),
    case(
        "a resource not matched is implicitly denied",
        &[S3_READ],
        "s3:GetObject",
        "arn:aws:s3:::other/x",
        ImplicitDeny,
    ),
    case(
        "bucket/* does not match the bucket itself",
        &[S3_READ],
        "s3:GetObject",
        "arn:aws:s3:::database",
        ImplicitDeny,
    ),
    case("Action * allows every action", &[ADMIN], "iam:CreateUser", "arn:aws:iam::123456789012:user/x", Allow),
    case("Resource * matches every resource", &[S3_ALL], "s3:DeleteBucket", "arn:aws:s3:::anything", Allow),
    case("s3:* matches every S3 action", &[S3_ALL], "s3:PutBucketPolicy", "arn:aws:s3:::b", Allow),
    case("s3:* matches no other service", &[S3_ALL], "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q", ImplicitDeny),
    case("a missing Resource element means *", &[NO_RESOURCE_ELEMENT], "sts:GetSessionToken", "*", Allow),
    // Action matching.
    case("action names match case-insensitively", &[LOWER_ACTION], "s3:GetObject", OBJ, Allow),
    case("service prefixes match case-insensitively", &[LOWER_ACTION], "S3:GETOBJECT", OBJ, Allow),
    case("? in an action matches one character", &[QUESTION], "s3:GetObject", "arn:aws:s3:::b/file-1.txt", Allow),
    case(
        "? in an action matches exactly one character",
        &[QUESTION],
        "s3:GetObjectAcl",
        "arn:aws:s3:::b/file-1.txt",
        ImplicitDeny,
    ),
    case(
        "Get* matches by prefix",
        &[KMS],
        "kms:GenerateDataKeyWithoutPlaintext",
        "arn:aws:kms:us-east-1:123456789012:key/k1",
        Allow,
    ),
    case(
        "a trailing * needs the prefix",
        &[KMS],
        "kms:Encrypt",
        "arn:aws:kms:us-east-1:123456789012:key/k1",
        ImplicitDeny,
    ),
    // Resource matching.
    case("ARNs match case-sensitively", &[S3_READ], "s3:GetObject", "arn:aws:s3:::DATA/reports/q1.csv", ImplicitDeny),
    case("* in the resource part spans slashes", &[S3_READ], "s3:GetObject", "arn:aws:s3:::data/a/b/c/d.txt", Allow),
    case(
        "? in a resource matches one character",
        &[QUESTION],
        "s3:GetObject",
        "arn:aws:s3:::b/file-22.txt",
        ImplicitDeny,
    ),
    case(
        "* in the region segment matches any region",
        &[REGION_WILDCARD],
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        Allow,
    ),
    case(
        "a region wildcard does not free the account",
        &[REGION_WILDCARD],
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:999999999999:table/orders",
        ImplicitDeny,
    ),
    case(
        "a region wildcard does not cross into the resource",
        &[REGION_WILDCARD],
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/i",
        ImplicitDeny,
    ),
    case(
        "a prefix wildcard in a role name matches roles with that prefix",
        &[ROLES],
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/app-worker",
        Allow,
    ),
    case(
        "a prefix wildcard does not match other roles",
        &[ROLES],
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/admin",
        ImplicitDeny,
    ),
    case(
        "a prefix wildcard matches a role under a path only when the prefix does",
        &[ROLES],
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/team/app-worker",
        ImplicitDeny,
    ),
    case(
        "a short ARN pattern's last segment matches the rest of the ARN",
        &[SHORT_ARN],
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:jobs",
        Allow,
    ),
    case(
        "log-group:/app/*:* matches a stream of the group",
        &[LOGS],
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:log-stream:s1",
        Allow,
    ),
    case(
        "log-group:/app/*:* matches nothing outside /app/",
        &[LOGS],
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:123456789012:log-group:/other:log-stream:s1",
        ImplicitDeny,
    ),
    case(
        "a * resource does not match a request with no resource unless it is *",
        &[S3_READ],
        "s3:ListAllMyBuckets",
        "*",
        ImplicitDeny,
    ),
    case("Resource * matches a request with no resource", &[S3_ALL], "s3:ListAllMyBuckets", "*", Allow),
    case("${*} is a literal asterisk", &[ESCAPES], "s3:GetObject", "arn:aws:s3:::odd/*star", Allow),
    case("${*} does not act as a wildcard", &[ESCAPES], "s3:GetObject", "arn:aws:s3:::odd/lonestar", ImplicitDeny),
    case(
        "the policy for the key a* (written a${*}) allows the key a*",
        &[LITERAL_A_STAR],
        "s3:GetObject",
        "arn:aws:s3:::b/a*",
        Allow,
    ),
    case(
        "the policy for the key a* refuses the key ab",
        &[LITERAL_A_STAR],
        "s3:GetObject",
        "arn:aws:s3:::b/ab",
        ImplicitDeny,
    ),
    case(
        "the policy for invoice-??.pdf (written ${?}${?}) allows that one key",
        &[LITERAL_INVOICE],
        "s3:GetObject",
        "arn:aws:s3:::b/invoice-??.pdf",
        Allow,
    ),
    case(
        "the policy for invoice-??.pdf refuses invoice-07.pdf",
        &[LITERAL_INVOICE],
        "s3:GetObject",
        "arn:aws:s3:::b/invoice-07.pdf",
        ImplicitDeny,
    ),
    case(
        "${$} is a literal dollar: x${aws:username} is a name, not a variable",
        &[LITERAL_DOLLAR],
        "s3:GetObject",
        "arn:aws:s3:::b/x${aws:username}",
        Allow,
    ),
    case(
        "${$}{...} never matches another user's name",
        &[LITERAL_DOLLAR],
        "s3:GetObject",
        "arn:aws:s3:::b/xalice",
        ImplicitDeny,
    ),
    case(
        "a policy variable cannot be decided: the allow is conditional",
        &[VARIABLE],
        "s3:GetObject",
        "arn:aws:s3:::home/alice/notes.txt",
        ConditionalAllow,
    ),
    case(
        "a policy variable still needs the rest of the ARN to match",
        &[VARIABLE],
        "s3:GetObject",
        "arn:aws:s3:::work/alice/notes.txt",
        ImplicitDeny,
    ),
    // Several statements and policies.
    case(
        "statements are evaluated independently (first)",
        &[TWO_STATEMENTS],
        "s3:GetObject",
        "arn:aws:s3:::a/x",
        Allow,
    ),
    case(
        "statements are evaluated independently (second)",
        &[TWO_STATEMENTS],
        "s3:PutObject",
        "arn:aws:s3:::b/x",
        Allow,
    ),
    case(
        "an action allowed only on another statement's resource is denied",
        &[TWO_STATEMENTS],
        "s3:PutObject",
        "arn:aws:s3:::a/x",
        ImplicitDeny,
    ),
    case(
        "any one of several identity policies can allow",
        &[S3_READ, TWO_STATEMENTS],
        "s3:PutObject",
        "arn:aws:s3:::b/x",
        Allow,
    ),
    // Explicit deny.
    case("an explicit Deny overrides an Allow", &[S3_ALL, DENY_DELETE], "s3:DeleteObject", OBJ, ExplicitDeny),
    case(
        "a Deny in another policy still overrides",
        &[ADMIN, DENY_DELETE],
        "s3:DeleteBucket",
        "arn:aws:s3:::data",
        ExplicitDeny,
    ),
    case("a Deny leaves other actions allowed", &[S3_ALL, DENY_DELETE], "s3:GetObject", OBJ, Allow),
    case("a Deny on its own is still a deny", &[DENY_DELETE], "s3:DeleteObject", OBJ, ExplicitDeny),
    case(
        "a Deny on specific resources refuses only those",
        &[S3_ALL, DENY_SPECIFIC],
        "s3:GetObject",
        "arn:aws:s3:::data/private/k",
        ExplicitDeny,
    ),
    case(
        "a Deny on specific resources leaves others allowed",
        &[S3_ALL, DENY_SPECIFIC],
        "s3:GetObject",
        "arn:aws:s3:::data/public/k",
        Allow,
    ),
    // NotAction.
    case("NotAction allows every action it does not list", &[NOT_IAM], "ec2:RunInstances", "*", Allow),
    case("NotAction does not allow what it lists", &[NOT_IAM], "iam:CreateRole", "arn:aws:iam::1:role/r", ImplicitDeny),
    case("NotAction lists by pattern", &[NOT_IAM], "organizations:LeaveOrganization", "*", ImplicitDeny),
    case(
        "a Deny with NotAction refuses everything it does not list",
        &[S3_ALL, NOT_ACTION_DENY],
        "s3:PutObject",
        OBJ,
        ExplicitDeny,
    ),
    case("a Deny with NotAction leaves what it lists alone", &[S3_ALL, NOT_ACTION_DENY], "s3:GetObject", OBJ, Allow),
    case(
        "a Deny with NotAction leaves List* alone too",
        &[S3_ALL, NOT_ACTION_DENY],
        "s3:ListBucket",
        "arn:aws:s3:::data",
        Allow,
    ),
    // NotResource.
    case(
        "a Deny with NotResource refuses every resource it does not list",
        &[S3_ALL, DENY_NOT_RESOURCE],
        "s3:GetObject",
        "arn:aws:s3:::other/x",
        ExplicitDeny,
    ),
    case(
        "a Deny with NotResource leaves listed resources alone",
        &[S3_ALL, DENY_NOT_RESOURCE],
        "s3:GetObject",
        OBJ,
        Allow,
    ),
    case(
        "an Allow with NotResource allows unlisted resources",
        &[ALLOW_NOT_RESOURCE],
        "s3:GetObject",
        "arn:aws:s3:::public/x",
        Allow,
    ),
    case(
        "an Allow with NotResource does not allow listed resources",
        &[ALLOW_NOT_RESOURCE],
        "s3:GetObject",
        "arn:aws:s3:::secret/x",
        ImplicitDeny,
    ),
    // Conditions are not guessed.
    case(
        "an Allow with a condition is conditional",
        &[COND_ALLOW],
        "ec2:StartInstances",
        "arn:aws:ec2:us-east-1:1:instance/i-1",
        ConditionalAllow,
    ),
    case(
        "a conditional Allow does not cover other actions",
        &[COND_ALLOW],
        "ec2:StopInstances",
        "arn:aws:ec2:us-east-1:1:instance/i-1",
        ImplicitDeny,
    ),
    case(
        "a Deny with a condition makes an Allow conditional",
        &[ADMIN, COND_DENY],
        "s3:GetObject",
        OBJ,
        ConditionalDeny,
    ),
    case("a conditional Deny alone does not allow", &[COND_DENY], "s3:GetObject", OBJ, ImplicitDeny),
    case(
        "an unconditional Deny beats a conditional Allow",
        &[COND_ALLOW, r#"{"Statement":{"Effect":"Deny","Action":"ec2:*","Resource":"*"}}"#],
        "ec2:StartInstances",
        "*",
        ExplicitDeny,
    ),
    case(
        "a conditional Deny on one action leaves others plainly allowed",
        &[S3_ALL, COND_DENY_SPECIFIC],
        "s3:GetObject",
        OBJ,
        Allow,
    ),
    case(
        "a conditional Deny on the action makes it conditional",
        &[S3_ALL, COND_DENY_SPECIFIC],
        "s3:PutObject",
        OBJ,
        ConditionalDeny,
    ),
    // Permissions boundaries.
    bounded(
        "a boundary limits an administrator to what it allows",
        &[ADMIN],
        BOUNDARY_S3_SQS,
        "iam:CreateUser",
        "arn:aws:iam::1:user/u",
        ImplicitDeny,
    ),
    bounded("within the boundary, the identity policy decides", &[ADMIN], BOUNDARY_S3_SQS, "s3:GetObject", OBJ, Allow),
    bounded(
        "a boundary grants nothing by itself",
        &[S3_READ],
        BOUNDARY_S3_SQS,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:1:q",
        ImplicitDeny,
    ),
    bounded(
        "both must allow: the identity policy still limits",
        &[S3_READ],
        BOUNDARY_S3_SQS,
        "s3:PutObject",
        OBJ,
        ImplicitDeny,
    ),
    bounded("a Deny in the boundary is an explicit deny", &[ADMIN], BOUNDARY_DENY, "s3:PutObject", OBJ, ExplicitDeny),
    bounded(
        "a Deny in identity policies applies under a boundary",
        &[ADMIN, DENY_DELETE],
        BOUNDARY_S3_SQS,
        "s3:DeleteObject",
        OBJ,
        ExplicitDeny,
    ),
    bounded(
        "a conditional boundary makes the allow conditional",
        &[ADMIN],
        BOUNDARY_COND,
        "s3:GetObject",
        OBJ,
        ConditionalAllow,
    ),
];

#[test]
fn evaluator_cases_read_like_the_iam_documentation() {
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let identity =
            c.identity.iter().enumerate().map(|(j, d)| Policy::parse(&format!("p{j}"), d).unwrap()).collect();
        let boundary = c.boundary.map(|b| Policy::parse("boundary", b).unwrap());
        let set = PolicySet { identity, boundary };
        let got = set.evaluate(c.action, c.resource).decision;
        if got != c.want {
            failures
                .push(format!("case {i} `{}`: {} on {} -> {got:?}, want {:?}", c.rule, c.action, c.resource, c.want));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn evaluations_name_the_statements_that_decided() {
    let set = PolicySet::new(vec![Policy::parse("admin", ADMIN).unwrap(), Policy::parse("deny", DENY_DELETE).unwrap()]);
    let e = set.evaluate("s3:DeleteObject", OBJ);
    assert_eq!(e.decision, ExplicitDeny);
    let names: Vec<(&str, &str)> = e.matched.iter().map(|m| (m.policy.as_str(), m.sid.as_str())).collect();
    assert_eq!(names, [("admin", "#1"), ("deny", "#1")]);
}

/// A case decided with the request's condition keys known.
struct ContextCase {
    rule: &'static str,
    policy: &'static str,
    context: &'static [(&'static str, &'static [&'static str])],
    action: &'static str,
    want: Decision,
}

const fn ctx(
    rule: &'static str,
    policy: &'static str,
    context: &'static [(&'static str, &'static [&'static str])],
    action: &'static str,
    want: Decision,
) -> ContextCase {
    ContextCase { rule, policy, context, action, want }
}

const REGIONS: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}}"#;
const VPCE: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b"}}}}"#;
const VIA_KMS: &str = r#"{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}}"#;
const CALLED_VIA: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":["athena.amazonaws.com"]}}}}"#;
const CALLED_VIA_ALL: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:CalledVia":["athena.amazonaws.com"]}}}}"#;
const REGION_LIKE: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:RequestedRegion":"eu-*"}}}}"#;
const NOT_REGION_DENY: &str = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
const VPCE_IF_EXISTS: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b"}}}}"#;
const NULL_VPCE: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:SourceVpce":"false"}}}}"#;
const MFA_BOOL: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#;
const IP: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#;
const TWO_CONDITIONS: &str = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:SourceVpce":"vpce-1a2b"}}}}"#;

const CONTEXT_CASES: &[ContextCase] = &[
    ctx(
        "StringEquals holds when the key's value is one of the listed values",
        REGIONS,
        &[("aws:RequestedRegion", &["us-east-1"])],
        "s3:GetObject",
        Allow,
    ),
    ctx(
        "StringEquals fails for another value: the statement does not apply",
        REGIONS,
        &[("aws:RequestedRegion", &["ap-south-1"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx(
        "a key absent from the request makes StringEquals false",
        VPCE,
        &[("aws:RequestedRegion", &["us-east-1"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx("condition key names are case-insensitive", VPCE, &[("AWS:SOURCEVPCE", &["vpce-1a2b"])], "s3:GetObject", Allow),
    ctx(
        "condition values are case-sensitive for StringEquals",
        VPCE,
        &[("aws:SourceVpce", &["VPCE-1A2B"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx(
        "kms:ViaService restricts a KMS call to one calling service",
        VIA_KMS,
        &[("kms:ViaService", &["s3.us-east-1.amazonaws.com"])],
        "kms:Decrypt",
        Allow,
    ),
    ctx("kms:ViaService refuses a direct call, which has no such key", VIA_KMS, &[], "kms:Decrypt", ImplicitDeny),
    ctx(
        "ForAnyValue holds when one of the request's values matches",
        CALLED_VIA,
        &[("aws:CalledVia", &["cloudformation.amazonaws.com", "athena.amazonaws.com"])],
        "s3:GetObject",
        Allow,
    ),
    ctx("ForAnyValue fails when the key is absent", CALLED_VIA, &[], "s3:GetObject", ImplicitDeny),
    ctx("ForAllValues holds for an absent key (the empty set)", CALLED_VIA_ALL, &[], "s3:GetObject", Allow),
    ctx(
        "ForAllValues fails when one value is not listed",
        CALLED_VIA_ALL,
        &[("aws:CalledVia", &["cloudformation.amazonaws.com", "athena.amazonaws.com"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx(
        "StringLike matches wildcards",
        REGION_LIKE,
        &[("aws:RequestedRegion", &["eu-central-1"])],
        "s3:GetObject",
        Allow,
    ),
    ctx(
        "a conditional Deny whose condition holds is an explicit deny",
        NOT_REGION_DENY,
        &[("aws:RequestedRegion", &["us-east-1"])],
        "s3:GetObject",
        ExplicitDeny,
    ),
    ctx(
        "a conditional Deny whose condition fails leaves the Allow",
        NOT_REGION_DENY,
        &[("aws:RequestedRegion", &["eu-west-1"])],
        "s3:GetObject",
        Allow,
    ),
    ctx("a negated operator holds when the key is absent", NOT_REGION_DENY, &[], "s3:GetObject", ExplicitDeny),
    ctx("IfExists holds when the key is absent", VPCE_IF_EXISTS, &[], "s3:GetObject", Allow),
    ctx(
        "IfExists still compares a present key",
        VPCE_IF_EXISTS,
        &[("aws:SourceVpce", &["vpce-other"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx(
        "Null false requires the key to be present",
        NULL_VPCE,
        &[("aws:SourceVpce", &["vpce-other"])],
        "s3:GetObject",
        Allow,
    ),
    ctx("Null false fails when the key is absent", NULL_VPCE, &[], "s3:GetObject", ImplicitDeny),
    ctx(
        "Bool compares true/false case-insensitively",
        MFA_BOOL,
        &[("aws:MultiFactorAuthPresent", &["TRUE"])],
        "s3:GetObject",
        Allow,
    ),
    ctx(
        "operators iamtrim does not decide stay conditional",
        IP,
        &[("aws:SourceIp", &["10.1.2.3"])],
        "s3:GetObject",
        ConditionalAllow,
    ),
    ctx(
        "every condition of a statement must hold",
        TWO_CONDITIONS,
        &[("aws:RequestedRegion", &["us-east-1"]), ("aws:SourceVpce", &["vpce-other"])],
        "s3:GetObject",
        ImplicitDeny,
    ),
    ctx(
        "every condition of a statement holding allows",
        TWO_CONDITIONS,
        &[("aws:RequestedRegion", &["us-east-1"]), ("aws:SourceVpce", &["vpce-1a2b"])],
        "s3:GetObject",
        Allow,
    ),
];

#[test]
fn conditions_are_decided_on_a_known_request_context() {
    let mut failures = Vec::new();
    for (i, c) in CONTEXT_CASES.iter().enumerate() {
        let set = PolicySet::new(vec![Policy::parse("p", c.policy).unwrap()]);
        let context = c.context.iter().fold(RequestContext::new(), |r, (k, v)| r.with(k, v));
        let got = set.evaluate_in(c.action, "arn:aws:s3:::data/x", &context).decision;
        if got != c.want {
            failures.push(format!("case {i} `{}`: -> {got:?}, want {:?}", c.rule, c.want));
        }
        // Without a context the same statements are only ever conditional.
        assert_ne!(
            set.evaluate(c.action, "arn:aws:s3:::data/x").decision,
            Allow,
            "case {i} `{}` without a context",
            c.rule
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CONTEXT_CASES.len(),
        failures.join("\n")
    );
}
