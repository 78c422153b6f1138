//! Every principal CloudTrail attributes (IAM users with their groups, federated users,
//! permission sets across accounts, role sessions; root refused), every partition (GovCloud and
//! China ARNs in every output format), and one policy per workload of a shared role.

use serde_json::{json, Value};

use crate::s3::moto_url;
use crate::util::{iamtrim, iamtrim_env, read_json, s, AWS_TEST_ENV};

const ACCOUNT: &str = "123456789012";

/// A CloudTrail record of `identity` calling `source` `name`.
fn record(identity: Value, source: &str, name: &str, region: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.10", "eventTime": "2026-10-02T10:00:00Z", "eventSource": source, "eventName": name,
        "awsRegion": region, "recipientAccountId": identity["accountId"], "eventType": "AwsApiCall",
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "userIdentity": identity, "requestParameters": params,
    })
}

fn user(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"), "accountId": ACCOUNT, "userName": name})
}

fn federated(name: &str, issuer: &str) -> Value {
    json!({"type": "FederatedUser", "principalId": format!("{ACCOUNT}:{name}"), "arn": format!("arn:aws:sts::{ACCOUNT}:federated-user/{name}"),
        "accountId": ACCOUNT, "sessionContext": {"sessionIssuer": {"type": "IAMUser", "principalId": "AIDAEXAMPLE",
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{issuer}"), "accountId": ACCOUNT, "userName": issuer}}})
}

fn session(partition: &str, account: &str, role_path: &str, session: &str) -> Value {
    let role = role_path.rsplit('/').next().unwrap();
    json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLE:{session}"),
        "arn": format!("arn:{partition}:sts::{account}:assumed-role/{role}/{session}"), "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
        "arn": format!("arn:{partition}:iam::{account}:role/{role_path}"), "accountId": account, "userName": role}}})
}

fn write_logs(dir: &std::path::Path, records: &[Value]) -> std::path::PathBuf {
    let f = dir.join("trail.json");
    std::fs::write(&f, json!({"Records": records}).to_string()).unwrap();
    f
}

fn actions_of(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap_or_default().to_string()).collect()
}

const USER: &str = "alice-principals";
const OWN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetObject"],"Resource":"*"}]}"#;
const GROUP_INLINE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#;
const GROUP_ATTACHED: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:DeleteTable"],"Resource":"*"}]}"#;

fn user_records() -> Vec<Value> {
    vec![
        record(user(USER), "s3.amazonaws.com", "ListBuckets", "us-east-1", json!({"Host": "s3.amazonaws.com"})),
        record(
            user(USER),
            "sqs.amazonaws.com",
            "SendMessage",
            "us-east-1",
            json!({"queueUrl": format!("https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs")}),
        ),
        record(user(USER), "dynamodb.amazonaws.com", "GetItem", "us-east-1", json!({"tableName": "orders"})),
        // A federated user alice created: its calls need alice's grants too.
        record(
            federated("bob-principals", USER),
            "s3.amazonaws.com",
            "GetObject",
            "us-east-1",
            json!({"bucketName": "reports", "key": "q3.pdf"}),
        ),
        // Another user, and root: neither is alice.
        record(user("carol"), "ec2.amazonaws.com", "DescribeInstances", "us-east-1", Value::Null),
        record(
            json!({"type": "Root", "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "accountId": ACCOUNT}),
            "iam.amazonaws.com",
            "ListUsers",
            "us-east-1",
            Value::Null,
        ),
    ]
}

/// The user, its group (with an inline and an attached customer managed policy) in moto; the
/// account's authorization details as `aws iam get-account-authorization-details` writes them
/// (documents URL-encoded, as the API returns them).
fn moto_user_and_auth_details() -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto_url())
            .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let iam = aws_sdk_iam::Client::new(&config);
        if iam.get_user().user_name(USER).send().await.is_err() {
            iam.create_user().user_name(USER).send().await.expect("create user");
            iam.put_user_policy().user_name(USER).policy_name("own").policy_document(OWN).send().await.expect("user policy");
            iam.create_group().group_name("devs-principals").send().await.expect("create group");
            iam.put_group_policy().group_name("devs-principals").policy_name("queues").policy_document(GROUP_INLINE).send().await.expect("group policy");
            let p = iam.create_policy().policy_name("devs-tables").policy_document(GROUP_ATTACHED).send().await.expect("policy");
            iam.attach_group_policy().group_name("devs-principals").policy_arn(p.policy().unwrap().arn().unwrap()).send().await.expect("attach");
            iam.add_user_to_group().group_name("devs-principals").user_name(USER).send().await.expect("add to group");
        }
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut policies = Vec::new();
        let mut marker = None;
        loop {
            let page = iam
                .get_account_authorization_details()
                .set_filter(Some(vec![
                    aws_sdk_iam::types::EntityType::User,
                    aws_sdk_iam::types::EntityType::Group,
                    aws_sdk_iam::types::EntityType::LocalManagedPolicy,
                ]))
                .set_marker(marker)
                .send()
                .await
                .expect("GetAccountAuthorizationDetails");
            for u in page.user_detail_list() {
                users.push(json!({
                    "UserName": u.user_name(), "Arn": u.arn(), "GroupList": u.group_list(),
                    "UserPolicyList": u.user_policy_list().iter().map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()})).collect::<Vec<_>>(),
                    "AttachedManagedPolicies": u.attached_managed_policies().iter().map(|a| json!({"PolicyName": a.policy_name(), "PolicyArn": a.policy_arn()})).collect::<Vec<_>>(),
                }));
            }
            for g in page.group_detail_list() {
                groups.push(json!({
                    "GroupName": g.group_name(), "Arn": g.arn(),
                    "GroupPolicyList": g.group_policy_list().iter().map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()})).collect::<Vec<_>>(),
                    "AttachedManagedPolicies": g.attached_managed_policies().iter().map(|a| json!({"PolicyName": a.policy_name(), "PolicyArn": a.policy_arn()})).collect::<Vec<_>>(),
                }));
            }
            for p in page.policies() {
                policies.push(json!({
                    "PolicyName": p.policy_name(), "Arn": p.arn(), "DefaultVersionId": p.default_version_id(),
                    "PolicyVersionList": p.policy_version_list().iter().map(|v| json!({"Document": v.document(), "VersionId": v.version_id(), "IsDefaultVersion": v.is_default_version()})).collect::<Vec<_>>(),
                }));
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
        json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": [], "Policies": policies})
    })
}

#[test]
fn an_iam_user_is_diffed_against_its_own_and_its_groups_policies_from_iam_and_offline() {
    let details = moto_user_and_auth_details();
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), &user_records());
    let url = moto_url();
    let online = iamtrim_env(
        &["diff", "--user", USER, "--logs", s(&logs), "--endpoint-url", &url, "--format", "json"],
        AWS_TEST_ENV,
    );
    assert_eq!(online.code, 0, "{}", online.stderr);
    let v: Value = serde_json::from_str(&online.stdout).unwrap();
    let policies: Vec<&str> = v["current_policies"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(
        policies,
        ["own (inline)", "queues (group devs-principals inline)", "devs-tables (group devs-principals attached)"]
    );
    let used = actions_of(&v, "used_granted");
    for a in ["s3:ListAllMyBuckets", "sqs:SendMessage", "dynamodb:GetItem", "s3:GetObject"] {
        assert!(used.contains(&a.to_string()), "{a} (the federated user's call counts for its user): {used:?}");
    }
    let unused = actions_of(&v, "unused_granted");
    assert!(
        unused.contains(&"dynamodb:DeleteTable".to_string()) && unused.contains(&"sqs:DeleteQueue".to_string()),
        "{unused:?}"
    );
    assert!(!used.contains(&"ec2:DescribeInstances".to_string()), "another user's call");
    // The summary names the kind of principal and the federated user whose calls it includes.
    let g = iamtrim(&["generate", "--user", USER, "--logs", s(&logs)]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert!(g.stderr.contains("iamtrim: user alice-principals"), "{}", g.stderr);
    assert!(g.stderr.contains(&format!("arn:aws:sts::{ACCOUNT}:federated-user/bob-principals (1)")), "{}", g.stderr);

    // Offline, from the same account's authorization details: the same diff.
    let file = dir.path().join("auth.json");
    std::fs::write(&file, serde_json::to_string_pretty(&details).unwrap()).unwrap();
    let offline =
        iamtrim(&["diff", "--user", USER, "--logs", s(&logs), "--auth-details", s(&file), "--format", "json"]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let o: Value = serde_json::from_str(&offline.stdout).unwrap();
    for key in ["current_policies", "used_granted", "unused_granted", "used_not_granted"] {
        assert_eq!(o[key], v[key], "{key}");
    }
    // A user the file does not hold is named, with the users it holds.
    let missing = iamtrim(&["diff", "--user", "nobody", "--logs", s(&logs), "--auth-details", s(&file)]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no event of user nobody") || missing.stderr.contains("user `nobody` is not in"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_federated_user_gets_its_own_calls_and_its_diff_points_at_the_federating_user() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), &user_records());
    let bob = format!("arn:aws:sts::{ACCOUNT}:federated-user/bob-principals");
    let r = iamtrim(&["generate", "--principal", &bob, "--logs", s(&logs)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let policy: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1, "{policy}");
    assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
    assert_eq!(policy["Statement"][0]["Resource"], json!(["arn:aws:s3:::reports/q3.pdf"]));
    assert!(r.stderr.contains("federated user") && r.stderr.contains("records: 6 read"), "{}", r.stderr);
    let d = iamtrim(&["diff", "--principal", &bob, "--logs", s(&logs), "--auth-details", s(&logs)]);
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(d.stderr.contains("Diff the federating user with --user"), "{}", d.stderr);
}

#[test]
fn root_is_refused_with_the_reason_and_nothing_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), &user_records());
    for args in [
        vec!["generate", "--principal", "arn:aws:iam::123456789012:root"],
        vec!["generate", "--role", "arn:aws:iam::123456789012:root"],
        vec!["diff", "--principal", "arn:aws-us-gov:iam::123456789012:root"],
    ] {
        let mut full = args.clone();
        full.extend(["--logs", s(&logs)]);
        let r = iamtrim(&full);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert!(r.stderr.contains("no IAM policy applies to root"), "{}", r.stderr);
    }
    let none = iamtrim(&["generate", "--logs", s(&logs)]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("--role") && none.stderr.contains("--permission-set"), "{}", none.stderr);
}

#[test]
fn a_permission_set_gets_one_policy_for_its_roles_in_every_account() {
    let dir = tempfile::tempdir().unwrap();
    let sso = |account: &str, hash: &str| {
        session(
            "aws",
            account,
            &format!("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_DataEngineer_{hash}"),
            "alice@example.com",
        )
    };
    let records = vec![
        record(
            sso("111111111111", "0123456789abcdef"),
            "athena.amazonaws.com",
            "StartQueryExecution",
            "eu-west-1",
            json!({"workGroup": "analytics", "queryString": "SELECT 1"}),
        ),
        record(
            sso("222222222222", "fedcba9876543210"),
            "athena.amazonaws.com",
            "StartQueryExecution",
            "eu-west-1",
            json!({"workGroup": "analytics", "queryString": "SELECT 2"}),
        ),
        record(
            sso("222222222222", "fedcba9876543210"),
            "sqs.amazonaws.com",
            "SendMessage",
            "eu-west-1",
            json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/222222222222/etl"}),
        ),
        // Another permission set's role, and a role whose name only starts the same.
        record(
            session("aws", "111111111111", "AWSReservedSSO_Admin_0123456789abcdef", "alice@example.com"),
            "iam.amazonaws.com",
            "CreateUser",
            "us-east-1",
            json!({"userName": "x"}),
        ),
        record(
            session("aws", "111111111111", "AWSReservedSSO_DataEngineer_Extra_0123456789abcdef", "s"),
            "s3.amazonaws.com",
            "ListBuckets",
            "us-east-1",
            Value::Null,
        ),
    ];
    let logs = write_logs(dir.path(), &records);
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--permission-set", "DataEngineer", "--logs", s(&logs), "--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("permission set DataEngineer"), "{}", r.stderr);
    assert!(r.stderr.contains("accounts 111111111111, 222222222222"), "{}", r.stderr);
    for arn in [
        "arn:aws:athena:eu-west-1:111111111111:workgroup/analytics",
        "arn:aws:athena:eu-west-1:222222222222:workgroup/analytics",
        "arn:aws:sqs:eu-west-1:222222222222:etl",
    ] {
        assert!(r.stdout.contains(arn), "{arn}: {}", r.stdout);
    }
    assert!(!r.stdout.contains("iam:CreateUser") && !r.stdout.contains("s3:ListBuckets"), "{}", r.stdout);
    let rep = read_json(&report);
    assert_eq!(rep["principal_kind"], "permission set");
    assert_eq!(rep["matched_principals"].as_array().unwrap().len(), 2);
    assert_eq!(rep["records_matched"], 3);
}

/// GovCloud or China records of every ARN-bearing shape: an S3 object, a DynamoDB table, an SQS
/// queue URL, a Lambda function, a KMS key from `resources[]`, a log group, an IAM role passed.
fn partition_records(partition: &str, region: &str) -> Vec<Value> {
    let who = || session(partition, ACCOUNT, "app", "i-0abc1234def567890");
    let host = if partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
    let mut kms = record(who(), "kms.amazonaws.com", "Decrypt", region, Value::Null);
    kms["resources"] = json!([{"type": "AWS::KMS::Key", "ARN": format!("arn:{partition}:kms:{region}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")}]);
    vec![
        record(who(), "s3.amazonaws.com", "GetObject", region, json!({"bucketName": "data", "key": "in/a.csv"})),
        record(who(), "dynamodb.amazonaws.com", "GetItem", region, json!({"tableName": "orders"})),
        record(
            who(),
            "sqs.amazonaws.com",
            "SendMessage",
            region,
            json!({"queueUrl": format!("https://sqs.{region}.{host}/{ACCOUNT}/jobs")}),
        ),
        record(who(), "lambda.amazonaws.com", "Invoke", region, json!({"functionName": "resize"})),
        kms,
        record(who(), "logs.amazonaws.com", "CreateLogGroup", region, json!({"logGroupName": "/app/web"})),
        record(
            who(),
            "ec2.amazonaws.com",
            "RunInstances",
            region,
            json!({"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}, "iamInstanceProfile": {"arn": format!("arn:{partition}:iam::{ACCOUNT}:instance-profile/web")}}),
        ),
        record(
            who(),
            "states.amazonaws.com",
            "CreateStateMachine",
            region,
            json!({"name": "flow", "roleArn": format!("arn:{partition}:iam::{ACCOUNT}:role/flow-role")}),
        ),
    ]
}

#[test]
fn govcloud_and_china_arns_are_built_in_their_partition_in_every_output_format() {
    for (partition, region) in [("aws-us-gov", "us-gov-west-1"), ("aws-cn", "cn-north-1"), ("aws-us-gov", "")] {
        let dir = tempfile::tempdir().unwrap();
        let mut records = partition_records(partition, if region.is_empty() { "us-gov-east-1" } else { region });
        if region.is_empty() {
            // No region in the records: the principal's ARN says the partition.
            for r in &mut records {
                r.as_object_mut().unwrap().remove("awsRegion");
            }
        }
        let logs = write_logs(dir.path(), &records);
        let principal = format!("arn:{partition}:iam::{ACCOUNT}:role/app");
        for format in ["json", "terraform", "cloudformation", "sam"] {
            let r = iamtrim(&["generate", "--principal", &principal, "--logs", s(&logs), "--format", format]);
            assert_eq!(r.code, 0, "{partition} {format}: {}", r.stderr);
            assert!(!r.stdout.contains("arn:aws:"), "{partition} {region} {format}: {}", r.stdout);
            let ours = format!("arn:{partition}:");
            // With or without a region, each resource keeps its name.
            let shapes: &[&str] = &[
                "s3:::data/in/a.csv",
                "dynamodb:",
                ":table/orders",
                "sqs:",
                ":jobs",
                "lambda:",
                "function:resize",
                "kms:",
                "logs:",
                "log-group:/app/web",
                "iam::123456789012:role/flow-role",
            ];
            for shape in shapes {
                assert!(r.stdout.contains(shape), "{partition} {format}: {shape} missing in {}", r.stdout);
            }
            let arns = r.stdout.matches("arn:").count();
            assert_eq!(
                r.stdout.matches(ours.as_str()).count(),
                arns,
                "{partition} {format}: every ARN in {ours}: {}",
                r.stdout
            );
        }
    }
}

/// Three Lambda functions sharing one role, with CI runs and per-run session names.
fn shared_role_records() -> Vec<Value> {
    let f = |s: &str| session("aws", ACCOUNT, "shared", s);
    let mut out = Vec::new();
    for i in 0..3 {
        out.push(record(
            f("orders-api"),
            "dynamodb.amazonaws.com",
            "PutItem",
            "us-east-1",
            json!({"tableName": "orders"}),
        ));
        out.push(record(
            f("orders-api"),
            "logs.amazonaws.com",
            "CreateLogStream",
            "us-east-1",
            json!({"logGroupName": "/aws/lambda/orders-api", "logStreamName": format!("2026/10/02/[$LATEST]{i:032x}")}),
        ));
        out.push(record(
            f("invoice-mailer"),
            "ses.amazonaws.com",
            "SendEmail",
            "us-east-1",
            json!({"source": "billing@example.com"}),
        ));
        out.push(record(f("invoice-mailer"), "logs.amazonaws.com", "CreateLogStream", "us-east-1", json!({"logGroupName": "/aws/lambda/invoice-mailer", "logStreamName": format!("2026/10/02/[$LATEST]{i:032x}")})));
        out.push(record(
            f("thumbnailer"),
            "s3.amazonaws.com",
            "GetObject",
            "us-east-1",
            json!({"bucketName": "uploads", "key": format!("img-{i}.png")}),
        ));
        out.push(record(f("thumbnailer"), "logs.amazonaws.com", "CreateLogStream", "us-east-1", json!({"logGroupName": "/aws/lambda/thumbnailer", "logStreamName": format!("2026/10/02/[$LATEST]{i:032x}")})));
    }
    out
}

#[test]
fn a_shared_role_is_split_into_one_self_checked_policy_per_function() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path(), &shared_role_records());
    let out = dir.path().join("split");
    let r = iamtrim(&[
        "generate",
        "--role",
        "shared",
        "--logs",
        s(&logs),
        "--split-by",
        "session",
        "--output-dir",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    files.sort();
    assert_eq!(files, ["shared-invoice-mailer.json", "shared-orders-api.json", "shared-thumbnailer.json"]);
    for (group, has, lacks) in [
        ("orders-api", "dynamodb:PutItem", ["ses:SendEmail", "s3:GetObject"]),
        ("invoice-mailer", "ses:SendEmail", ["dynamodb:PutItem", "s3:GetObject"]),
        ("thumbnailer", "s3:GetObject", ["dynamodb:PutItem", "ses:SendEmail"]),
    ] {
        let policy = std::fs::read_to_string(out.join(format!("shared-{group}.json"))).unwrap();
        assert!(policy.contains(has) && policy.contains(&format!("/aws/lambda/{group}:")), "{group}: {policy}");
        for other in lacks {
            assert!(!policy.contains(other), "{group} has {other}: {policy}");
        }
        // Each policy allows its own function's calls (the table's self-check column).
        assert!(r.stdout.lines().any(|l| l.starts_with(group) && l.contains("6/6")), "{group}: {}", r.stdout);
        // Replaying the function's calls against its policy refuses none.
        let only: Vec<Value> = shared_role_records()
            .into_iter()
            .filter(|x| x["userIdentity"]["arn"].as_str().unwrap().ends_with(&format!("/{group}")))
            .collect();
        let fn_logs = dir.path().join(format!("{group}.json"));
        std::fs::write(&fn_logs, json!({"Records": only}).to_string()).unwrap();
        let replay = iamtrim(&[
            "replay",
            "--role",
            "shared",
            "--logs",
            s(&fn_logs),
            "--policy",
            s(&out.join(format!("shared-{group}.json"))),
        ]);
        assert_eq!(replay.code, 0, "{group}: {}", replay.stderr);
    }
    assert!(r.stdout.contains("shared by all 3 groups (1): logs:CreateLogStream"), "{}", r.stdout);
    assert!(r.stdout.contains("together the 3 policies allow 18/18 calls"), "{}", r.stdout);
    // The union of the split policies allows every call the single policy was made from.
    let single = iamtrim(&[
        "replay",
        "--role",
        "shared",
        "--logs",
        s(&logs),
        "--policy",
        s(&out.join("shared-orders-api.json")),
        "--policy",
        s(&out.join("shared-invoice-mailer.json")),
        "--policy",
        s(&out.join("shared-thumbnailer.json")),
    ]);
    assert_eq!(single.code, 0, "{}", single.stderr);
}

#[test]
fn per_run_session_names_are_one_group_and_split_is_refused_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let f = |s: &str| session("aws", ACCOUNT, "ci", s);
    let records: Vec<Value> = [
        "GitHubActions-8812345678",
        "GitHubActions-8812349999",
        "botocore-session-1712345678",
        "botocore-session-1712399999",
    ]
    .iter()
    .map(|s| record(f(s), "s3.amazonaws.com", "ListBuckets", "us-east-1", Value::Null))
    .collect();
    let logs = write_logs(dir.path(), &records);
    let out = dir.path().join("split");
    let r =
        iamtrim(&["generate", "--role", "ci", "--logs", s(&logs), "--split-by", "session", "--output-dir", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.lines().any(|l| l.starts_with("GitHubActions-*") && l.contains("  2  ")), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.starts_with("botocore-session-*")), "{}", r.stdout);
    assert!(out.join("ci-GitHubActions-any.json").is_file());
    let by_ua =
        iamtrim(&["generate", "--role", "ci", "--logs", s(&logs), "--split-by", "user-agent", "--output-dir", s(&out)]);
    assert!(by_ua.stdout.lines().any(|l| l.starts_with("aws-cli ")), "{}", by_ua.stdout);
    let no_dir = iamtrim(&["generate", "--role", "ci", "--logs", s(&logs), "--split-by", "session"]);
    assert_eq!(no_dir.code, 2, "{}", no_dir.stderr);
    let stored = iamtrim(&[
        "generate",
        "--role",
        "ci",
        "--logs",
        s(&logs),
        "--store",
        s(&dir.path().join("u.sqlite")),
        "--days",
        "3",
        "--split-by",
        "session",
        "--output-dir",
        s(&out),
    ]);
    assert_eq!(stored.code, 2, "{}", stored.stderr);
    assert!(stored.stderr.contains("--split-by needs what the usage store does not keep"), "{}", stored.stderr);
}
