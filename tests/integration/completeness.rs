//! Never wrong in the dangerous direction. Whatever could not be read (a corrupt file, an S3
//! object that fails, a LookupEvents region whose token expired, a failed Athena query) makes
//! the run INCOMPLETE: the first and last summary lines say so, the report has
//! `complete: false` and the gap, the exit status is 4 unless --allow-incomplete, `diff` refuses
//! to call anything unused, and `--store` does not keep the day. A call proves a permission only
//! when authorization passed; a role is matched exactly.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;

use crate::fake_cloudtrail::{Behaviour, FakeCloudTrail, EXPIRED_REGION};
use crate::util::{
    assert_reconciles, example_records, examples, iamtrim, iamtrim_env, read_json, root, s, AWS_TEST_ENV,
};

const ROLE: &str = "dev-app-role";
const DAY2: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/10/02";
const CORRUPT: &str = "123456789012_CloudTrail_us-east-1_20261002T1200Z_corrupt.json.gz";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// A copy of the examples with a truncated trail file delivered on 2026-10-02.
fn examples_with_corrupt_file(dir: &Path) -> (PathBuf, PathBuf) {
    let logs = dir.join("logs");
    copy_dir(&examples(), &logs);
    let good = std::fs::read_dir(logs.join(DAY2)).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(good).unwrap();
    bytes.truncate(bytes.len() / 2);
    let corrupt = logs.join(DAY2).join(CORRUPT);
    std::fs::write(&corrupt, bytes).unwrap();
    (logs, corrupt)
}

/// The first and last lines of stderr both say INCOMPLETE with the number of gaps.
fn assert_incomplete_lines(stderr: &str, gaps: usize) {
    let plural = if gaps == 1 { "gap" } else { "gaps" };
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("iamtrim: ")).collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with(&format!("iamtrim: INCOMPLETE ({gaps} {plural})"))),
        "first line: {stderr}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with(&format!("iamtrim: INCOMPLETE: {gaps} {plural}"))),
        "last line: {stderr}"
    );
}

/// `diff` on an incomplete read: refused by default; with --allow-incomplete every format says
/// INCOMPLETE first, calls nothing "never used", and `--fail-on unused` does not fire.
fn assert_diff_calls_nothing_unused(source: &[&str], env: &[(&str, &str)]) {
    let mut args = vec!["diff", "--role", ROLE, "--current", "AmazonS3FullAccess"];
    args.extend_from_slice(source);
    let refused = iamtrim_env(&args, env);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "no diff is written: {}", refused.stdout);
    assert!(
        refused.stderr.contains("diff calls a permission unused only when everything was read"),
        "{}",
        refused.stderr
    );

    for format in ["terminal", "markdown", "json"] {
        let mut a = args.clone();
        a.extend(["--allow-incomplete", "--format", format, "--fail-on", "unused"]);
        let r = iamtrim_env(&a, env);
        assert_eq!(r.code, 0, "--fail-on unused never fires on an incomplete read ({format}): {}", r.stderr);
        assert!(!r.stdout.to_lowercase().contains("never used"), "{format} calls something never used:\n{}", r.stdout);
        assert!(r.stdout.replace('_', " ").contains("not seen in what could be read"), "{format}:\n{}", r.stdout);
        match format {
            "json" => {
                let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
                assert_eq!(v["complete"], false);
                assert!(!v["gaps"].as_array().unwrap().is_empty());
                assert!(v.get("unused_granted").is_none(), "no `unused_granted` key on an incomplete read");
                assert!(v["not_seen_in_what_could_be_read"].as_array().is_some());
                let text = r.stdout.trim_start();
                assert!(
                    text.find("\"complete\"").unwrap() < text.find("\"used_granted\"").unwrap(),
                    "completeness comes first"
                );
            }
            "markdown" => assert!(r.stdout.lines().nth(2).unwrap().starts_with("> **INCOMPLETE**"), "{}", r.stdout),
            _ => assert!(r.stdout.starts_with("INCOMPLETE ("), "{}", r.stdout),
        }
    }
}

#[test]
fn a_corrupt_file_among_good_ones_makes_generate_diff_and_the_store_say_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, corrupt) = examples_with_corrupt_file(dir.path());
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--logs", s(&logs), "--role", ROLE, "--report", s(&report)]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_incomplete_lines(&r.stderr, 1);
    assert_eq!(
        r.stdout,
        std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap(),
        "the policy of what was read is still written"
    );
    let rep = read_json(&report);
    assert_reconciles(&rep);
    assert_eq!(rep["complete"], false);
    let gap = &rep["gaps"][0];
    assert_eq!(gap["kind"], "records", "the records before the break were read");
    assert_eq!(gap["where"], s(&corrupt));
    assert_eq!((gap["accounts"][0].as_str(), gap["regions"][0].as_str()), (Some("123456789012"), Some("us-east-1")));
    assert_eq!(gap["to"], "2026-10-02T12:00:00Z");
    assert!(gap["reason"].as_str().unwrap().contains("gzip"), "{gap}");

    assert_diff_calls_nothing_unused(&["--logs", s(&logs)], &[]);
    // On a complete read the same gate fires.
    let whole = iamtrim(&[
        "diff",
        "--role",
        ROLE,
        "--current",
        "AmazonS3FullAccess",
        "--logs",
        s(&examples()),
        "--fail-on",
        "unused",
    ]);
    assert_eq!(whole.code, 3, "{}", whole.stderr);

    // --store keeps only whole days: 2026-10-02 is not stored, and is read again later.
    let db = dir.path().join("usage.sqlite");
    let window = ["--from", "2026-10-01", "--to", "2026-10-03"];
    let stored_report = dir.path().join("s.json");
    let mut args = vec![
        "generate",
        "--logs",
        s(&logs),
        "--role",
        ROLE,
        "--store",
        s(&db),
        "--report",
        s(&stored_report),
        "--quiet",
    ];
    args.extend(window);
    let first = iamtrim(&args);
    assert_eq!(first.code, 4, "{}", first.stderr);
    let stats = &read_json(&stored_report)["source_stats"];
    assert_eq!(stats["days_stored"], 2);
    assert_eq!(stats["days_not_stored_incomplete"], serde_json::json!(["2026-10-02"]));
    let info = iamtrim(&["store", "info", "--store", s(&db)]);
    assert!(info.stdout.contains("complete (served): 2 days"), "{}", info.stdout);

    std::fs::remove_file(&corrupt).unwrap();
    let again = iamtrim(&args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let stats = &read_json(&stored_report)["source_stats"];
    assert_eq!(stats["days_read"], serde_json::json!(["2026-10-02"]));
    assert_eq!(stats["days_from_store"], serde_json::json!(["2026-10-01", "2026-10-03"]));
    // A stored day can be dropped, and is then read again.
    let forget = iamtrim(&[
        "store",
        "forget",
        "--store",
        s(&db),
        "--role",
        "DEV-APP-ROLE",
        "--from",
        "2026-10-03",
        "--to",
        "2026-10-03",
    ]);
    assert_eq!(forget.code, 0, "{}", forget.stderr);
    assert!(forget.stderr.contains("dropped 1 stored days"), "{}", forget.stderr);
    iamtrim(&args);
    assert_eq!(read_json(&stored_report)["source_stats"]["days_read"], serde_json::json!(["2026-10-03"]));
}

#[test]
fn an_s3_object_that_cannot_be_read_is_a_gap() {
    let bucket = "iamtrim-test-glacier";
    let archived = format!("{DAY2}/123456789012_CloudTrail_us-east-1_20261002T1200Z_archived.json.gz");
    crate::s3::runtime().block_on(async {
        let c = crate::s3::client().await;
        c.create_bucket().bucket(bucket).send().await.unwrap();
        for f in crate::util::example_files() {
            let key = f.strip_prefix(examples()).unwrap().to_string_lossy().replace('\\', "/");
            c.put_object()
                .bucket(bucket)
                .key(&key)
                .body(ByteStream::from(std::fs::read(&f).unwrap()))
                .send()
                .await
                .unwrap();
        }
        // A trail object a lifecycle rule moved to Glacier: listed, but GetObject fails.
        let body = std::fs::read(crate::util::example_files()[0].clone()).unwrap();
        c.put_object()
            .bucket(bucket)
            .key(&archived)
            .storage_class(aws_sdk_s3::types::StorageClass::Glacier)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let url = crate::s3::moto_url();
    let src = format!("s3://{bucket}");
    let source = ["--source", src.as_str(), "--endpoint-url", url.as_str()];
    let mut args = vec!["generate", "--role", ROLE, "--report", s(&report)];
    args.extend(source);
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_incomplete_lines(&r.stderr, 1);
    let rep = read_json(&report);
    assert_reconciles(&rep);
    assert_eq!(rep["complete"], false);
    assert_eq!(rep["gaps"][0]["kind"], "s3-object");
    assert_eq!(rep["gaps"][0]["where"], format!("s3://{bucket}/{archived}"));
    assert!(rep["gaps"][0]["reason"].as_str().unwrap().contains("InvalidObjectState"), "{}", rep["gaps"][0]);
    assert_eq!(rep["source_stats"]["objects_failed"], 1);
    assert_diff_calls_nothing_unused(&source, AWS_TEST_ENV);

    // --store: the day of the archived object is not stored; once restored, it is read again.
    let db = dir.path().join("u.sqlite");
    let mut stored = args.clone();
    stored.extend(["--store", s(&db), "--from", "2026-10-01", "--to", "2026-10-03"]);
    let r = iamtrim_env(&stored, AWS_TEST_ENV);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(read_json(&report)["source_stats"]["days_not_stored_incomplete"], serde_json::json!(["2026-10-02"]));
    crate::s3::runtime().block_on(async {
        let c = crate::s3::client().await;
        let restore = aws_sdk_s3::types::RestoreRequest::builder().days(1).build();
        c.restore_object().bucket(bucket).key(&archived).restore_request(restore).send().await.unwrap();
    });
    let r = iamtrim_env(&stored, AWS_TEST_ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read_json(&report)["source_stats"]["days_read"], serde_json::json!(["2026-10-02"]));
}

fn epoch(record: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(record["eventTime"].as_str().unwrap()).unwrap().timestamp()
}

#[test]
fn an_expired_token_in_one_region_is_a_gap_beside_a_healthy_region() {
    let events: Vec<(String, i64, String)> = example_records()
        .into_iter()
        .filter(|r| r["managementEvent"] == true)
        .map(|r| ("us-east-1".to_string(), epoch(&r), r.to_string()))
        .collect();
    let fake = FakeCloudTrail::start(events, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let source = [
        "--source",
        "lookup",
        "--endpoint-url",
        fake.url.as_str(),
        "--region",
        "us-east-1",
        "--region",
        EXPIRED_REGION,
        "--no-cache",
        "--lookup-rate",
        "50",
    ];
    let window = ["--from", "2026-10-01", "--to", "2026-10-07"];
    let mut args = vec!["generate", "--role", ROLE, "--report", s(&report)];
    args.extend(source);
    args.extend(window);
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_incomplete_lines(&r.stderr, 1);
    assert!(
        r.stdout.contains("sqs:SendMessage") || r.stdout.contains("\"Statement\""),
        "the healthy region's policy is written: {}",
        r.stdout
    );
    let rep = read_json(&report);
    assert_eq!(rep["complete"], false);
    let gap = &rep["gaps"][0];
    assert_eq!((gap["kind"].as_str(), gap["where"].as_str()), (Some("lookup-region"), Some("lookup eu-north-1")));
    assert_eq!(
        (gap["from"].as_str(), gap["to"].as_str()),
        (Some("2026-10-01T00:00:00Z"), Some("2026-10-07T23:59:59Z"))
    );
    assert!(gap["reason"].as_str().unwrap().contains("ExpiredTokenException"), "{gap}");
    let mut diff_source: Vec<&str> = source.to_vec();
    diff_source.extend(window);
    assert_diff_calls_nothing_unused(&diff_source, AWS_TEST_ENV);

    // With --store, no day of the window is stored (each lacks the expired region).
    let db = dir.path().join("u.sqlite");
    let mut stored = args.clone();
    stored.extend(["--store", s(&db)]);
    let r = iamtrim_env(&stored, AWS_TEST_ENV);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(read_json(&report)["source_stats"]["days_stored"], 0);
    // Once the session is renewed, the same run reads every day again, and stores them.
    fake.renew_token();
    let r = iamtrim_env(&stored, AWS_TEST_ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stats = &read_json(&report)["source_stats"];
    assert_eq!((stats["days_read"].as_array().unwrap().len(), stats["days_stored"].as_u64()), (7, Some(7)));
}

#[test]
fn a_failing_athena_query_is_a_gap_and_nothing_is_called_unused() {
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    fake.fail_athena_queries("HIVE_BAD_DATA: Error parsing field value for field 3");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let source = ["--source", "athena://cloudtrail.trail?output=s3://results/", "--endpoint-url", fake.url.as_str()];
    let mut args = vec!["generate", "--role", ROLE, "--report", s(&report)];
    args.extend(source);
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_incomplete_lines(&r.stderr, 1);
    assert!(r.stdout.is_empty(), "no policy from nothing read");
    let rep = read_json(&report);
    assert_eq!(rep["complete"], false);
    assert_eq!(rep["gaps"][0]["kind"], "query");
    assert!(rep["gaps"][0]["reason"].as_str().unwrap().contains("HIVE_BAD_DATA"), "{}", rep["gaps"][0]);
    let mut diff = vec!["diff", "--role", ROLE, "--current", "AmazonS3FullAccess"];
    diff.extend(source);
    let d = iamtrim_env(&diff, AWS_TEST_ENV);
    assert_eq!(d.code, 4, "{}", d.stderr);
    assert!(d.stdout.is_empty());
    diff.push("--allow-incomplete");
    let d = iamtrim_env(&diff, AWS_TEST_ENV);
    assert_eq!(d.code, 4, "no event and a gap: still no diff: {}", d.stderr);
    assert!(d.stdout.is_empty() && !d.stderr.contains("never used"));
}

/// A JSON Lines record of `dev-app-role` (account `account`) calling `source`/`name`.
fn record(
    account: &str,
    role: &str,
    source: &str,
    name: &str,
    error: Option<&str>,
    params: serde_json::Value,
) -> String {
    let mut r = serde_json::json!({
        "eventVersion": "1.08", "eventTime": "2026-10-01T10:00:00Z", "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "recipientAccountId": account, "eventType": "AwsApiCall",
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/s"), "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/{role}"), "userName": role, "accountId": account}}},
        "requestParameters": params
    });
    if let Some(code) = error {
        r["errorCode"] = serde_json::Value::String(code.into());
        r["errorMessage"] = serde_json::Value::String("failed".into());
    }
    r.to_string() + "\n"
}

#[test]
fn every_row_of_the_error_code_table_decides_evidence_as_it_says() {
    use iamtrim::evidence::{ErrorClass, ErrorCodeTable};
    let table = ErrorCodeTable::embedded();
    let raw = read_json(&root().join("action-maps/error-codes.json"));
    assert!(raw["about"].as_str().is_some_and(|a| a.len() > 100), "the table says what it is");
    assert_eq!(table.rows().len(), raw["codes"].as_array().unwrap().len(), "every row loads");
    assert!(table.rows().len() >= 100);
    let mapper = iamtrim::mapper::EventMapper::new(iamtrim::catalog::ActionCatalog::embedded());
    let selection = iamtrim::usage::Selection {
        principal: Some(iamtrim::filter::PrincipalFilter::parse(ROLE).unwrap()),
        range: iamtrim::filter::TimeRange::unbounded(),
        ..Default::default()
    };
    for row in table.rows() {
        assert!(row.source.starts_with("https://docs.aws.amazon.com/"), "{}: a source for each row", row.code);
        assert!(!row.why.is_empty(), "{}: a reason", row.code);
        let line = record(
            "123456789012",
            ROLE,
            "sqs.amazonaws.com",
            "SendMessage",
            Some(&row.code),
            serde_json::json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}),
        );
        let mut usage = iamtrim::usage::Usage::default();
        usage.ingest(
            "t",
            iamtrim::source::Item::Record { location: iamtrim::source::Location::Line(1), json: line.trim() },
            &selection,
            &mapper,
        );
        assert!(usage.reconciles(), "{}", row.code);
        let got = (usage.records_denied, usage.records_mapped, usage.records_not_evidence);
        match row.class {
            ErrorClass::Denied => assert_eq!(got, (1, 0, 0), "{} is denied", row.code),
            ErrorClass::AfterAuthorization => {
                assert_eq!(got, (0, 1, 0), "{} came after authorization: evidence", row.code);
                assert!(usage.actions.contains_key("sqs:SendMessage"));
            }
            ErrorClass::BeforeAuthorization => {
                assert_eq!(got, (0, 0, 1), "{} is no evidence", row.code);
                assert!(usage.actions.is_empty(), "{} granted something", row.code);
            }
        }
    }
}

#[test]
fn a_call_that_failed_before_authorization_grants_nothing_and_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("calls.jsonl");
    let lines = [
        // CreateFunction with role `*` failed validation: no iam:PassRole on every role.
        record("123456789012", ROLE, "lambda.amazonaws.com", "CreateFunction20150331", Some("ValidationException"), serde_json::json!({"functionName": "f", "role": "*"})),
        // A successful call whose free-text description holds another function's ARN.
        record(
            "123456789012",
            ROLE,
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            None,
            serde_json::json!({"functionName": "app", "description": "copy of arn:aws:lambda:us-east-1:123456789012:function:admin", "Description": "arn:aws:lambda:us-east-1:123456789012:function:admin"}),
        ),
        record("123456789012", ROLE, "sqs.amazonaws.com", "SendMessage", Some("MadeUpThrottle"), serde_json::json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"})),
    ]
    .concat();
    std::fs::write(&f, lines).unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", ROLE, "--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("iam:PassRole") && !r.stdout.contains("lambda:CreateFunction"), "{}", r.stdout);
    assert!(!r.stdout.contains("function:admin"), "free text named no resource: {}", r.stdout);
    assert!(r.stdout.contains("function:app") && !r.stdout.contains("sqs:"), "{}", r.stdout);
    assert!(
        r.stderr.contains("not counted as evidence")
            && r.stderr.contains("ValidationException ×1 (lambda.amazonaws.com CreateFunction20150331)"),
        "{}",
        r.stderr
    );
    let rep = read_json(&report);
    assert_reconciles(&rep);
    assert_eq!(rep["records_not_evidence"], 2);
    // --count-error opts a code in.
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", ROLE, "--count-error", "MadeUpThrottle"]);
    assert!(r.stdout.contains("sqs:SendMessage"), "{}", r.stdout);
}

#[test]
fn a_role_name_in_two_accounts_is_refused_and_names_match_regardless_of_case() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("two.jsonl");
    let q = serde_json::json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"});
    std::fs::write(
        &f,
        [
            record("111111111111", ROLE, "sqs.amazonaws.com", "SendMessage", None, q.clone()),
            record("222222222222", "Dev-App-Role", "sqs.amazonaws.com", "SendMessage", None, q),
        ]
        .concat(),
    )
    .unwrap();
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", ROLE]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    for needle in [
        "matched roles in 2 accounts",
        "arn:aws:iam::111111111111:role/dev-app-role",
        "arn:aws:iam::222222222222:role/Dev-App-Role",
        "--role",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    let d = iamtrim(&["diff", "--logs", s(&f), "--role", ROLE, "--current", "AmazonSQSFullAccess"]);
    assert_eq!(d.code, 2, "{}", d.stderr);
    let one = iamtrim(&["generate", "--logs", s(&f), "--role", "arn:aws:iam::222222222222:role/dev-app-role"]);
    assert_eq!(one.code, 0, "an ARN picks one account, matched regardless of case: {}", one.stderr);

    let upper = iamtrim(&["generate", "--logs", s(&examples()), "--role", "DEV-APP-ROLE"]);
    assert_eq!(upper.code, 0, "{}", upper.stderr);
    assert_eq!(upper.stdout, std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap());
}

#[test]
fn a_role_with_no_events_fails_and_names_the_principals_and_closest_names() {
    let ex = examples();
    for cmd in ["generate", "diff"] {
        let mut args = vec![cmd, "--logs", s(&ex), "--role", "dev-app-rol"];
        if cmd == "diff" {
            args.extend(["--current", "AmazonS3FullAccess"]);
        }
        let r = iamtrim(&args);
        assert_eq!(r.code, 5, "{cmd}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{cmd}: nothing generated or called unused from no events: {}", r.stdout);
        for needle in [
            "no event of role dev-app-rol in all events in the logs: 965 records read",
            "principals seen most:",
            "closest role names: dev-app-role",
        ] {
            assert!(r.stderr.contains(needle), "{cmd}: {needle}: {}", r.stderr);
        }
    }
}
