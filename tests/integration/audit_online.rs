//! `iamtrim audit` reading from AWS: the account's policies from IAM's
//! GetAccountAuthorizationDetails (served by moto), and IAM's last-accessed data
//! (GenerateServiceLastAccessedDetails with ACTION_LEVEL, GetServiceLastAccessedDetails; served
//! by the loopback fake in front of moto, throttling, jobs in progress and paging included)
//! shown beside the logs' answer and never mixed with it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::fake_iam::{Behaviour, FakeIam, Service};
use crate::s3::moto_url;
use crate::util::{iamtrim_env, read_json, root, s, AWS_TEST_ENV};

const ACCOUNT: &str = "123456789012";
const APP: &str = "audit-online-app";
const DENIED: &str = "audit-online-denied";
const FAILING: &str = "audit-online-failing";
const USER: &str = "audit-online-user";

const APP_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","dynamodb:GetItem","sqs:SendMessage","sns:Publish"],"Resource":"*"},
  {"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#;
const SMALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

/// The audited principals in moto, created once (the tests of this file run side by side).
fn create_principals() {
    static CREATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CREATED.get_or_init(create_principals_in_moto);
}

fn create_principals_in_moto() {
    crate::s3::runtime().block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto_url())
            .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let iam = aws_sdk_iam::Client::new(&config);
        for (role, policy) in [(APP, APP_POLICY), (DENIED, SMALL_POLICY), (FAILING, SMALL_POLICY)] {
            if iam.get_role().role_name(role).send().await.is_err() {
                iam.create_role().role_name(role).assume_role_policy_document(TRUST).send().await.expect("create role");
                iam.put_role_policy()
                    .role_name(role)
                    .policy_name("inline")
                    .policy_document(policy)
                    .send()
                    .await
                    .expect("role policy");
            }
        }
        if iam.get_user().user_name(USER).send().await.is_err() {
            iam.create_user().user_name(USER).send().await.expect("create user");
            let p = iam
                .create_policy()
                .policy_name("audit-online-user-policy")
                .policy_document(SMALL_POLICY)
                .send()
                .await
                .expect("policy");
            iam.attach_user_policy()
                .user_name(USER)
                .policy_arn(p.policy().unwrap().arn().unwrap())
                .send()
                .await
                .expect("attach");
        }
    });
}

fn record(identity: Value, source: &str, name: &str, time: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.10", "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT, "eventType": "AwsApiCall",
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-sdk-go-v2/1.30.0",
        "userIdentity": identity, "requestParameters": params,
    })
}

fn role_session(role: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": "AROAEXAMPLE:run", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/run"),
        "accountId": ACCOUNT, "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
        "arn": arn("role", role), "accountId": ACCOUNT, "userName": role}}})
}

/// The app's management events: DynamoDB reads only (its S3 object reads are data events the
/// trail does not log).
fn write_logs(dir: &std::path::Path) -> std::path::PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let records: Vec<Value> = (0..3)
        .map(|i| {
            record(
                role_session(APP),
                "dynamodb.amazonaws.com",
                "GetItem",
                &format!("2026-10-0{}T09:00:00Z", i + 2),
                json!({"tableName": "orders"}),
            )
        })
        .collect();
    std::fs::write(logs.join("trail.json"), json!({"Records": records}).to_string()).unwrap();
    logs
}

fn service(ns: &str, name: &str, last: Option<&str>, actions: Option<Vec<(&str, Option<&str>)>>) -> Service {
    Service {
        namespace: ns.into(),
        name: name.into(),
        last_authenticated: last.map(str::to_string),
        region: last.map(|_| "us-east-1".to_string()),
        actions: actions.map(|a| a.into_iter().map(|(n, t)| (n.to_string(), t.map(str::to_string))).collect()),
    }
}

/// What IAM knows of the app: S3 object reads the logs never saw, SNS (reported as a whole)
/// used in the window, SQS used before it, IAM never, DynamoDB as the logs say.
fn iam_data() -> BTreeMap<String, Vec<Service>> {
    let mut data = BTreeMap::new();
    data.insert(
        arn("role", APP),
        vec![
            service(
                "s3",
                "Amazon S3",
                Some("2026-10-03T08:00:00Z"),
                Some(vec![("GetObject", Some("2026-10-03T08:00:00Z")), ("PutObject", None)]),
            ),
            service(
                "dynamodb",
                "Amazon DynamoDB",
                Some("2026-10-04T09:00:00Z"),
                Some(vec![("GetItem", Some("2026-10-04T09:00:00Z"))]),
            ),
            service("sns", "Amazon SNS", Some("2026-10-05T11:00:00Z"), None),
            service("sqs", "Amazon SQS", Some("2026-05-01T12:00:00Z"), None),
            service("iam", "AWS Identity and Access Management", None, Some(vec![("PassRole", None)])),
        ],
    );
    data.insert(arn("user", USER), vec![service("s3", "Amazon S3", None, Some(vec![("ListAllMyBuckets", None)]))]);
    data
}

fn audit(fake: &FakeIam, logs: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> crate::util::Run {
    let mut args = vec![
        "audit",
        "--logs",
        s(logs),
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-07",
        "--endpoint-url",
        &fake.url,
        "--include",
        "audit-online-*",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    iamtrim_env(&args, AWS_TEST_ENV)
}

fn principal<'a>(a: &'a Value, name: &str) -> &'a Value {
    a["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not audited: {a}"))
}

#[test]
fn an_online_audit_reads_the_policies_from_iam_and_shows_last_accessed_data_beside_the_logs() {
    create_principals();
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let behaviour = Behaviour {
        throttle_every: 4,
        polls_in_progress: 2,
        page_size: 2,
        denied: vec![arn("role", DENIED)],
        failing: vec![arn("role", FAILING)],
    };
    let fake = FakeIam::start(&moto_url(), iam_data(), behaviour);
    let out = dir.path().join("report");
    let r = audit(&fake, &logs, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = read_json(&out.join("audit.json"));
    assert_eq!(a["policies_from"], "iam:GetAccountAuthorizationDetails");
    let names: Vec<&str> = a["principals"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, [APP, DENIED, FAILING, USER], "roles then users, from IAM");

    // The policies are IAM's: the app's inline policy grants what moto holds.
    let app = principal(&a, APP);
    assert_eq!(app["records"], 3);
    assert_eq!(app["granted"], 6, "{app}");
    let la = &app["last_accessed"];
    assert!(la["error"].is_null(), "{la}");
    let agreement = |svc: &str| {
        la["services"].as_array().unwrap().iter().find(|x| x["service"] == svc).unwrap_or_else(|| panic!("{svc}: {la}"))
            ["agreement"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(agreement("dynamodb"), "both-used");
    assert_eq!(agreement("s3"), "only-iam-in-window");
    assert_eq!(agreement("sns"), "only-iam-in-window");
    assert_eq!(agreement("sqs"), "iam-before-window");
    assert_eq!(agreement("iam"), "neither-used");
    let unlogged: Vec<&str> =
        la["unlogged_use"].as_array().unwrap().iter().map(|u| u["subject"].as_str().unwrap()).collect();
    assert_eq!(unlogged, ["s3:GetObject", "sns:*"], "an action IAM tracks, and a service it reports as a whole");
    // The logs' answer is kept as the logs' answer: s3:GetObject is in the unused list, and the
    // unlogged-use finding says IAM saw it used.
    let unused: Vec<&str> = app["unused_actions"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(unused.contains(&"s3:GetObject") && unused.contains(&"sns:Publish"), "{unused:?}");
    let findings = app["findings"].as_array().unwrap();
    let get = findings
        .iter()
        .find(|f| f["kind"] == "unlogged-use" && f["subject"] == "s3:GetObject")
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert!(get["message"].as_str().unwrap().contains("2026-10-03"), "{get}");
    // IAM saw no PassRole either: that one is unused on both answers.
    let pass = findings.iter().find(|f| f["subject"] == "iam:PassRole").unwrap();
    assert!(pass["message"].as_str().unwrap().contains("never used"), "{pass}");

    // A principal IAM would not answer for, and one whose job failed: said, and the run goes on.
    let denied = &principal(&a, DENIED)["last_accessed"];
    assert!(denied["error"].as_str().unwrap().contains("iam:GenerateServiceLastAccessedDetails"), "{denied}");
    let failing = &principal(&a, FAILING)["last_accessed"];
    assert!(failing["error"].as_str().unwrap().contains("failed"), "{failing}");
    assert!(r.stderr.contains("last-accessed data is missing for 2 principal(s)"), "{}", r.stderr);
    assert_eq!(principal(&a, USER)["last_accessed"]["services"][0]["agreement"], "neither-used");

    // The wire: ACTION_LEVEL asked for each principal, throttling and jobs in progress were
    // waited out, every page read; the rest went to moto.
    let seen = fake.seen();
    assert_eq!(
        (seen.granularities.len(), seen.jobs),
        (4, 3),
        "4 principals asked, one denied before its job: {seen:?}"
    );
    assert!(seen.granularities.iter().all(|g| g == "ACTION_LEVEL"), "{seen:?}");
    assert!(seen.throttled > 0 && seen.in_progress_answers > 0, "{seen:?}");
    assert!(seen.pages >= 4, "the app's 5 services come 2 a page: {seen:?}");
    assert!(seen.forwarded.iter().any(|f| f == "GetAccountAuthorizationDetails"), "{seen:?}");

    // The outputs still validate, and show both answers.
    let validate = |args: &[&str]| {
        let (ok, said) = crate::util::validate_json(args);
        assert!(ok, "{said}");
    };
    validate(&["--schema", s(&root().join("docs/audit.schema.json")), s(&out.join("audit.json"))]);
    validate(&["--sarif", s(&out.join("audit.sarif"))]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("IAM last accessed") && html.contains("IAM saw use in the window, the logs did not"), "html");
    let md = std::fs::read_to_string(out.join("audit.md")).unwrap();
    assert!(md.contains("unlogged-use"), "{md}");
}

#[test]
fn last_accessed_data_is_asked_for_only_as_the_flags_say() {
    create_principals();
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let fake = FakeIam::start(&moto_url(), iam_data(), Behaviour::default());
    let out = dir.path().join("off");
    let r = audit(&fake, &logs, &out, &["--no-last-accessed", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = read_json(&out.join("audit.json"));
    assert!(principal(&a, APP).get("last_accessed").is_none());
    assert_eq!(fake.seen().granularities.len(), 0);
    // With a file, IAM is asked only with --last-accessed.
    let auth = dir.path().join("auth.json");
    std::fs::write(
        &auth,
        json!({"RoleDetailList": [{"RoleName": APP, "Arn": arn("role", APP), "Path": "/",
            "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": serde_json::from_str::<Value>(APP_POLICY).unwrap()}],
            "AttachedManagedPolicies": []}], "UserDetailList": [], "GroupDetailList": [], "Policies": []})
        .to_string(),
    )
    .unwrap();
    let out = dir.path().join("file");
    let r = audit(&fake, &logs, &out, &["--auth-details", s(&auth), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(principal(&read_json(&out.join("audit.json")), APP).get("last_accessed").is_none());
    let out = dir.path().join("file-la");
    let r = audit(&fake, &logs, &out, &["--auth-details", s(&auth), "--last-accessed", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = read_json(&out.join("audit.json"));
    assert_eq!(a["policies_from"], s(&auth));
    assert_eq!(principal(&a, APP)["last_accessed"]["unlogged_use"].as_array().unwrap().len(), 2);
    assert_eq!(fake.seen().granularities.len(), 1);
}
