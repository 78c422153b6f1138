//! `--source s3://...` against the moto server that scripts/test starts
//! (IAMTRIM_TEST_MOTO_URL): the examples uploaded in the trail layout and in the organization
//! layout, with a corrupt object beside them, give byte for byte the policy of the same files
//! on disk; the corrupt object is reported by key and counted.

use aws_sdk_s3::primitives::ByteStream;

use crate::util::{example_files, examples, iamtrim, iamtrim_env, read_json, root, s, AWS_TEST_ENV};

/// The moto server's URL. scripts/test installs and starts moto; running the suite another way
/// without it is an error, never a skip.
pub fn moto_url() -> String {
    std::env::var("IAMTRIM_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!("IAMTRIM_TEST_MOTO_URL is not set: run the tests with scripts/test, which installs and starts the moto server")
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub async fn client() -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
}

/// Creates `bucket` and uploads the examples under `prefix` + their path below examples/
/// (`AWSLogs/123456789012/...`), rewritten by `layout`, plus a corrupt trail object.
fn upload(bucket: &str, layout: impl Fn(&str) -> String) -> String {
    runtime().block_on(async {
        let c = client().await;
        c.create_bucket().bucket(bucket).send().await.expect("create bucket in moto");
        let mut corrupt_key = String::new();
        for f in example_files() {
            let rel = f.strip_prefix(examples()).unwrap().to_string_lossy().replace('\\', "/");
            let key = layout(&rel);
            c.put_object()
                .bucket(bucket)
                .key(&key)
                .body(ByteStream::from(std::fs::read(&f).unwrap()))
                .send()
                .await
                .unwrap();
            if corrupt_key.is_empty() {
                // Same day and delivery time as the first file, another object ID.
                corrupt_key = key.replace(".json.gz", "CORRUPT.json.gz");
                let mut gz = std::fs::read(&f).unwrap();
                gz.truncate(gz.len() / 2);
                c.put_object().bucket(bucket).key(&corrupt_key).body(ByteStream::from(gz)).send().await.unwrap();
                // A digest file, which is not a log, beside them.
                let digest =
                    key.replace("/CloudTrail/", "/CloudTrail-Digest/").replace("_CloudTrail_", "_CloudTrail-Digest_");
                c.put_object().bucket(bucket).key(digest).body(ByteStream::from_static(b"{}")).send().await.unwrap();
            }
        }
        corrupt_key
    })
}

fn expected_policy() -> String {
    std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap()
}

#[test]
fn trail_layout_in_s3_gives_the_local_policy_byte_for_byte() {
    let bucket = "iamtrim-test-trail";
    let corrupt = upload(bucket, |rel| format!("logs/{rel}"));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let src = format!("s3://{bucket}/logs");
    let url = moto_url();
    let r = iamtrim_env(
        &["generate", "--source", &src, "--endpoint-url", &url, "--role", "dev-app-role", "--report", s(&report)],
        AWS_TEST_ENV,
    );
    // The corrupt object is a gap: the policy of the rest is written, the run is INCOMPLETE.
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.stdout, expected_policy());
    let rep = read_json(&report);
    crate::util::assert_reconciles(&rep);
    let rejected = rep["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0]["file"], format!("s3://{bucket}/{corrupt}"));
    assert!(rejected[0]["reason"].as_str().unwrap().contains("gzip"), "{rejected:?}");
    assert!(r.stderr.contains(&corrupt), "the corrupt key is named on stderr: {}", r.stderr);
    assert_eq!(rep["complete"], false);
    assert_eq!(rep["gaps"][0]["where"], format!("s3://{bucket}/{corrupt}"));
    assert_eq!(rep["source_stats"]["objects"], example_files().len() as u64 + 1);
    assert!(r.stderr.contains("files/s"), "{}", r.stderr);
}

#[test]
fn organization_layout_and_date_window_match_local_files() {
    let bucket = "iamtrim-test-org";
    upload(bucket, |rel| rel.replacen("AWSLogs/", "AWSLogs/o-abcd123456/", 1));
    let src = format!("s3://{bucket}");
    let url = moto_url();
    let r = iamtrim_env(
        &[
            "generate",
            "--source",
            &src,
            "--endpoint-url",
            &url,
            "--role",
            "dev-app-role",
            "--quiet",
            "--allow-incomplete",
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, expected_policy());

    // The corrupt object was delivered on 2026-10-01: a window without it is complete.
    let window = ["--from", "2026-10-03", "--to", "2026-10-04"];
    let mut remote =
        vec!["generate", "--source", src.as_str(), "--endpoint-url", url.as_str(), "--role", "dev-app-role", "--quiet"];
    remote.extend(window);
    let ex = examples();
    let mut local = vec!["generate", "--logs", s(&ex), "--role", "dev-app-role", "--quiet"];
    local.extend(window);
    let (r, l) = (iamtrim_env(&remote, AWS_TEST_ENV), iamtrim(&local));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, l.stdout);
    assert!(!r.stdout.contains("uploads/2026/10/05/"));
    // --account narrows to accounts that exist; another account has no logs.
    let r = iamtrim_env(
        &["generate", "--source", &src, "--endpoint-url", &url, "--role", "dev-app-role", "--account", "999999999999"],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no CloudTrail logs under") && r.stderr.contains("999999999999"), "{}", r.stderr);
}

#[test]
fn a_missing_bucket_is_a_clear_error() {
    let url = moto_url();
    let r = iamtrim_env(
        &["generate", "--source", "s3://iamtrim-no-such-bucket", "--endpoint-url", &url, "--role", "dev-app-role"],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("bucket `iamtrim-no-such-bucket` does not exist"), "{}", r.stderr);
}

/// One gzipped trail object holding `records`.
fn trail_object(records: &[serde_json::Value]) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(serde_json::json!({ "Records": records }).to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn an_instance_profile_passed_by_name_is_resolved_to_its_role_through_iam() {
    let url = moto_url();
    let bucket = "iamtrim-test-profiles";
    let role_arn = runtime().block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&url)
            .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let iam = aws_sdk_iam::Client::new(&config);
        let role = iam
            .create_role()
            .role_name("web-instance")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .unwrap();
        iam.create_instance_profile().instance_profile_name("web").send().await.unwrap();
        iam.add_role_to_instance_profile().instance_profile_name("web").role_name("web-instance").send().await.unwrap();
        let c = client().await;
        c.create_bucket().bucket(bucket).send().await.unwrap();
        let record = serde_json::json!({
            "eventVersion": "1.10",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/deployer/s", "accountId": "123456789012",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/deployer"}}},
            "eventTime": "2026-10-01T10:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": "us-east-1",
            "requestParameters": {"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}, "iamInstanceProfile": {"name": "web"}},
            "eventType": "AwsApiCall", "recipientAccountId": "123456789012"
        });
        let key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/10/01/123456789012_CloudTrail_us-east-1_20261001T1005Z_a.json.gz";
        c.put_object().bucket(bucket).key(key).body(ByteStream::from(trail_object(&[record]))).send().await.unwrap();
        role.role().unwrap().arn().to_string()
    });
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let src = format!("s3://{bucket}");
    let r = iamtrim_env(
        &[
            "generate",
            "--source",
            &src,
            "--endpoint-url",
            &url,
            "--role",
            "deployer",
            "--report",
            s(&report),
            "--resources",
            "exact",
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let policy: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let pass = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Action"].as_array().unwrap().iter().any(|a| a == "iam:PassRole"))
        .unwrap_or_else(|| panic!("no iam:PassRole: {}", r.stdout));
    assert_eq!(pass["Resource"], serde_json::json!([role_arn]));
    let rep = read_json(&report);
    assert!(rep.get("needed_unresolved").is_none(), "resolved, so nothing left unresolved: {rep}");
}
