//! `iamtrim diff`: against a role in IAM (the moto server), against local and bundled policies,
//! exit codes for CI, and the property that a generated policy allows every call it came from.

use iamtrim::catalog::ActionCatalog;
use iamtrim::evaluator::PolicySet;
use iamtrim::filter::TimeRange;
use iamtrim::mapper::EventMapper;
use iamtrim::model::Policy;
use iamtrim::source::{read_file, Item};
use iamtrim::usage::{Selection, Usage};

use crate::s3::moto_url;
use crate::util::{examples, iamtrim, iamtrim_env, panther, s, AWS_TEST_ENV};

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn actions(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
        .iter()
        .map(|x| x["action"].as_str().unwrap().to_string())
        .collect()
}

const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"EverythingButIam","Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
  {"Sid":"NoDeletes","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}"#;
const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","dynamodb:*","sqs:*","kms:*","lambda:*","logs:*","ssm:*","secretsmanager:*","sts:*"],"Resource":"*"}]}"#;

#[test]
fn diff_against_a_role_in_iam_lists_used_unused_and_denied() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto_url())
            .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let iam = aws_sdk_iam::Client::new(&config);
        let boundary = iam.create_policy().policy_name("dev-boundary").policy_document(BOUNDARY).send().await.expect("create boundary");
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        iam.create_role()
            .role_name("dev-app-role")
            .assume_role_policy_document(trust)
            .permissions_boundary(boundary.policy().unwrap().arn().unwrap())
            .send()
            .await
            .expect("create role");
        iam.attach_role_policy().role_name("dev-app-role").policy_arn("arn:aws:iam::aws:policy/AmazonS3FullAccess").send().await.expect("attach AmazonS3FullAccess (MOTO_IAM_LOAD_MANAGED_POLICIES)");
        iam.put_role_policy().role_name("dev-app-role").policy_name("app-inline").policy_document(INLINE).send().await.expect("inline policy");
    });

    let url = moto_url();
    let ex = examples();
    let r = iamtrim_env(
        &["diff", "--role", "dev-app-role", "--logs", s(&ex), "--endpoint-url", &url, "--format", "json"],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    for key in ["used_granted", "unused_granted", "used_not_granted", "denied", "narrowed_resources"] {
        let list = actions(&v, key);
        let mut sorted = list.clone();
        sorted.sort();
        if key != "unused_granted" {
            assert_eq!(list, sorted, "{key} is sorted");
        }
    }
    let policies: Vec<&str> = v["current_policies"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(policies.contains(&"AmazonS3FullAccess") && policies.contains(&"app-inline (inline)"), "{policies:?}");
    assert!(policies.iter().any(|p| p.contains("dev-boundary")), "{policies:?}");

    let used = actions(&v, "used_granted");
    for a in [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "dynamodb:Query",
        "sqs:SendMessage",
        "kms:Decrypt",
        "lambda:InvokeFunction",
    ] {
        assert!(used.contains(&a.to_string()), "{a} used and granted: {used:?}");
    }
    let unused = actions(&v, "unused_granted");
    assert!(unused.contains(&"s3:DeleteBucket".to_string()));
    assert!(!unused.iter().any(|a| a.starts_with("iam:")), "NotAction excludes iam:*");
    assert!(!unused.iter().any(|a| a.starts_with("ec2:")), "the boundary excludes ec2:*");
    assert!(!unused.contains(&"s3:DeleteObject".to_string()), "the inline Deny refuses s3:DeleteObject");
    // Permissions management and Write come first.
    assert_eq!(v["unused_granted"][0]["access_level"], "Permissions management");
    let denied = actions(&v, "denied");
    assert!(denied.contains(&"s3:DeleteObject".to_string()), "{denied:?}");
    let not_granted = actions(&v, "used_not_granted");
    assert!(
        not_granted.contains(&"s3:DeleteObject".to_string()) && not_granted.contains(&"iam:ListRoles".to_string()),
        "{not_granted:?}"
    );
    assert!(!not_granted.contains(&"s3:GetObject".to_string()));
    let narrowed = actions(&v, "narrowed_resources");
    assert!(narrowed.contains(&"s3:GetObject".to_string()), "{narrowed:?}");
    assert!(v["generated_policy_denies"].as_array().unwrap().is_empty());

    // Offline: the AWS managed policy comes from the bundled copy; same answer.
    let off = iamtrim_env(
        &["diff", "--role", "dev-app-role", "--logs", s(&ex), "--endpoint-url", &url, "--format", "json", "--offline"],
        AWS_TEST_ENV,
    );
    assert_eq!(off.code, 0, "{}", off.stderr);
    assert_eq!(actions(&json(&off.stdout), "unused_granted"), unused);
    // CI gate.
    let gate = iamtrim_env(
        &[
            "diff",
            "--role",
            "dev-app-role",
            "--logs",
            s(&ex),
            "--endpoint-url",
            &url,
            "--fail-on",
            "unused",
            "--format",
            "markdown",
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(gate.code, 3, "{}", gate.stderr);
    assert!(gate.stdout.contains("Granted but never used"));
}

#[test]
fn diff_against_bundled_and_local_policies() {
    let ex = examples();
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated.json");
    let g = iamtrim(&[
        "generate",
        "--logs",
        s(&ex),
        "--role",
        "dev-app-role",
        "--output",
        s(&generated),
        "--quiet",
        "--resources",
        "exact",
    ]);
    assert_eq!(g.code, 0);
    // The generated policy: everything used is granted, nothing unused, except the refused calls.
    let r =
        iamtrim(&["diff", "--role", "dev-app-role", "--logs", s(&ex), "--current", s(&generated), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert!(actions(&v, "unused_granted").is_empty());
    assert_eq!(actions(&v, "used_not_granted"), ["ec2:DescribeInstances", "iam:ListRoles", "s3:DeleteObject"]);
    assert!(actions(&v, "narrowed_resources").is_empty(), "an exact policy has nothing to narrow");
    // The default (prefix) policy widened the dated object keys and log streams, and the diff
    // says exactly that.
    let prefixed = dir.path().join("prefixed.json");
    assert_eq!(
        iamtrim(&["generate", "--logs", s(&ex), "--role", "dev-app-role", "--output", s(&prefixed), "--quiet"]).code,
        0
    );
    let v = json(
        &iamtrim(&["diff", "--role", "dev-app-role", "--logs", s(&ex), "--current", s(&prefixed), "--format", "json"])
            .stdout,
    );
    assert_eq!(actions(&v, "narrowed_resources"), ["logs:CreateLogStream", "s3:GetObject", "s3:PutObject"]);
    assert_eq!(v["narrowed_resources"][1]["action"], "s3:GetObject");
    assert_eq!(v["narrowed_resources"][1]["granted"][0], "arn:aws:s3:::acme-dev-uploads/uploads/*");
    assert!(actions(&v, "unused_granted").is_empty());
    // --fail-on not-granted: the refused calls fail it; --fail-on unused passes.
    assert_eq!(
        iamtrim(&[
            "diff",
            "--role",
            "dev-app-role",
            "--logs",
            s(&ex),
            "--current",
            s(&generated),
            "--fail-on",
            "not-granted"
        ])
        .code,
        3
    );
    assert_eq!(
        iamtrim(&[
            "diff",
            "--role",
            "dev-app-role",
            "--logs",
            s(&ex),
            "--current",
            s(&generated),
            "--fail-on",
            "unused"
        ])
        .code,
        0
    );

    // AdministratorAccess by name, bounded by a local file.
    let boundary = dir.path().join("boundary.json");
    std::fs::write(&boundary, BOUNDARY).unwrap();
    let r = iamtrim(&[
        "diff",
        "--role",
        "dev-app-role",
        "--logs",
        s(&ex),
        "--current",
        "AdministratorAccess",
        "--boundary",
        s(&boundary),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let services: Vec<&str> =
        v["services"].as_array().unwrap().iter().map(|x| x["service"].as_str().unwrap()).collect();
    assert_eq!(services, ["dynamodb", "kms", "lambda", "logs", "s3", "secretsmanager", "sqs", "ssm", "sts"]);
    // Terminal format without a terminal has no colour codes.
    let t = iamtrim(&["diff", "--role", "dev-app-role", "--logs", s(&ex), "--current", "AmazonS3FullAccess"]);
    assert!(t.stdout.contains("granted but never used") && !t.stdout.contains('\u{1b}'), "{}", t.stdout);
    // A bad policy names its statement and field.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Alow","Action":"s3:*","Resource":"*"}]}"#)
        .unwrap();
    let r = iamtrim(&["diff", "--role", "dev-app-role", "--logs", s(&ex), "--current", s(&bad)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Statement[0]: `Effect` is `Alow`"), "{}", r.stderr);
    let r = iamtrim(&["diff", "--role", "dev-app-role", "--logs", s(&ex), "--current", "NoSuchManagedPolicy"]);
    assert!(r.stderr.contains("neither a policy file nor an AWS managed policy"), "{}", r.stderr);
}

/// Every record of the examples and the panther corpus, as JSON text.
fn all_records() -> Vec<String> {
    let mut out = Vec::new();
    let mut files = crate::util::example_files();
    files.push(panther());
    for f in files {
        read_file(&f, &mut |item| {
            if let Item::Record { json, .. } = item {
                out.push(json.to_string());
            }
        });
    }
    out
}

#[test]
fn property_a_generated_policy_allows_every_call_it_came_from() {
    let catalog = ActionCatalog::embedded();
    let mapper = EventMapper::new(catalog);
    let records = all_records();
    assert!(records.len() > 1000);
    // A fixed-seed generator: runs are repeatable, and each draws a different subset of events.
    let mut seed: u64 = 0x5eed_1a57;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let all = Selection { principal: None, range: TimeRange::unbounded(), ..Selection::default() };
    for round in 0..60 {
        let take = 1 + (next() % 200) as usize;
        let mut usage = Usage::default();
        for _ in 0..take {
            let json = &records[(next() % records.len() as u64) as usize];
            usage.ingest("corpus", Item::Record { location: iamtrim::source::Location::File, json }, &all, &mapper);
        }
        let policy = iamtrim::synth::synthesize(&usage.actions, catalog);
        if policy.statement.is_empty() {
            continue;
        }
        let set = PolicySet::new(vec![Policy::parse("generated", &policy.to_pretty_json()).unwrap()]);
        for (action, u) in &usage.actions {
            for r in &u.resources {
                let d = set.evaluate(action, r).decision;
                assert!(d.is_allow(), "round {round}: generated policy gives {d:?} for {action} on {r}");
            }
        }
    }
}
