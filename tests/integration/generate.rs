//! `iamtrim generate` end to end on the shipped examples.

use crate::util::{assert_reconciles, example_records, examples, iamtrim, iamtrim_env, read_json, root, s};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/dev-app-role";

fn generate(extra: &[&str]) -> crate::util::Run {
    let ex = examples();
    let mut args = vec!["generate", "--logs", s(&ex), "--role", "dev-app-role"];
    args.extend_from_slice(extra);
    iamtrim(&args)
}

#[test]
fn examples_yield_the_documented_policy() {
    let r = generate(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expected = std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap();
    assert_eq!(r.stdout, expected, "docs/examples-policy.json is stale: regenerate it with the README command");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains(expected.trim_end()), "README.md does not show the policy the examples yield");
    // Summary on stderr, data on stdout.
    assert!(r.stderr.contains("records: 965 read = 0 rejected + 357 filtered"), "{}", r.stderr);
    assert!(!r.stdout.contains("records:"));
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let a = generate(&[]);
    let b =
        iamtrim_env(&["generate", "--logs", s(&examples()), "--role", "dev-app-role"], &[("RAYON_NUM_THREADS", "1")]);
    let c = generate(&[]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
}

#[test]
fn report_accounts_for_every_record_and_lists_denied_calls() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let r = generate(&["--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = read_json(&report);
    assert_reconciles(&rep);
    assert_eq!(rep["files_read"], 98);
    assert_eq!(rep["records_read"], 965);
    assert_eq!(rep["records_rejected"], 0);
    assert_eq!(rep["filtered"]["other_principal"], 357);
    assert_eq!(rep["records_denied"], 6);
    let denied: Vec<(String, String, u64)> = rep["denied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["eventSource"].as_str().unwrap().into(),
                d["eventName"].as_str().unwrap().into(),
                d["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        denied,
        vec![
            ("ec2.amazonaws.com".into(), "DescribeInstances".into(), 1),
            ("iam.amazonaws.com".into(), "ListRoles".into(), 1),
            ("s3.amazonaws.com".into(), "DeleteObject".into(), 4),
        ]
    );
    let actions: Vec<&str> = rep["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(actions, sorted, "actions are sorted");
    for never in [
        "s3:DeleteObject",
        "iam:ListRoles",
        "ec2:DescribeInstances",
        "sts:GetCallerIdentity",
        "cloudformation:UpdateStack",
        "s3:ListAllMyBuckets",
    ] {
        assert!(!actions.contains(&never), "{never} must not be granted");
    }
    for used in [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "dynamodb:Query",
        "lambda:InvokeFunction",
        "sqs:DeleteMessage",
        "kms:Decrypt",
        "ssm:GetParameter",
    ] {
        assert!(actions.contains(&used), "{used} was used");
    }
    assert_eq!(rep["no_permission"][0]["eventName"], "GetCallerIdentity");
    assert!(rep["unmapped"].as_array().unwrap().is_empty());
    // Failed calls other than authorization failures still prove use: the missing key is granted.
    let get = rep["action_details"].as_array().unwrap().iter().find(|a| a["action"] == "s3:GetObject").unwrap();
    assert!(get["resources"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().ends_with("/missing.csv")));
    assert_eq!(rep["policy"]["managed_policy_limit"], 6144);
    assert_eq!(rep["policy"]["fits_managed_policy"], true);
    // Self-check: the policy allows every observed call.
    assert_eq!(rep["self_check"]["calls"], rep["self_check"]["allowed_calls"]);
    assert!(rep["self_check"]["refused"].as_array().unwrap().is_empty());
    assert!(r.stderr.contains("self-check: allows 602/602 observed calls"), "{}", r.stderr);
    // What was widened, and why.
    let widened: Vec<(&str, &str)> = rep["widened"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["action"].as_str().unwrap(), w["pattern"].as_str().unwrap()))
        .collect();
    // Every name with a date in it is generalized from the date, inside its bucket or log group.
    assert_eq!(
        widened,
        [
            ("logs:CreateLogStream", "arn:aws:logs:us-east-1:123456789012:log-group:/dev/app:log-stream:*"),
            ("s3:GetObject", "arn:aws:s3:::acme-dev-uploads/uploads/*"),
            ("s3:PutObject", "arn:aws:s3:::acme-dev-archive/archive/*"),
            ("s3:PutObject", "arn:aws:s3:::acme-dev-uploads/uploads/*")
        ]
    );
    assert!(r.stderr.contains("7 names with a date segment; later names are allowed too"), "{}", r.stderr);
}

#[test]
fn resource_modes_exact_prefix_and_service() {
    let exact = generate(&["--resources", "exact"]);
    assert_eq!(exact.stdout.matches("arn:aws:s3:::acme-dev-uploads/uploads/2026/10/0").count(), 49 + 42);
    assert!(exact.stderr.contains("over the 6144-character limit"), "{}", exact.stderr);
    // With a threshold of 100 no container is collapsed by count, yet every dated name is
    // generalized from its date (that does not depend on the threshold), so the policy fits
    // without tightening. (The size-fitting loop is tested in app::generate.)
    let loose = generate(&["--max-arns-per-statement", "100"]);
    assert!(
        loose.stderr.contains("(managed policy limit 6144)")
            && !loose.stderr.contains("over the 6144-character limit")
            && !loose.stderr.contains("to fit the managed policy limit"),
        "{}",
        loose.stderr
    );
    assert!(loose.stdout.contains("log-stream:*") && !loose.stdout.contains("log-stream:2026/10/01/app"));
    let service = generate(&["--resources", "service"]);
    assert!(service.stderr.contains("not resource-scoped"), "{}", service.stderr);
    let p: serde_json::Value = serde_json::from_str(&service.stdout).unwrap();
    assert!(p["Statement"].as_array().unwrap().iter().all(|st| st["Resource"] == serde_json::json!(["*"])));
}

#[test]
fn role_arn_and_role_name_select_the_same_sessions() {
    let by_name = generate(&[]);
    let by_arn = iamtrim(&["generate", "--logs", s(&examples()), "--role", ROLE_ARN]);
    assert_eq!(by_arn.code, 0);
    assert_eq!(by_name.stdout, by_arn.stdout);
    let other = iamtrim(&["generate", "--logs", s(&examples()), "--role", "ci-deploy-role"]);
    assert!(
        other.stdout.contains("cloudformation:UpdateStack") && !other.stdout.contains("dynamodb"),
        "{}",
        other.stdout
    );
    let wrong_account =
        iamtrim(&["generate", "--logs", s(&examples()), "--role", "arn:aws:iam::999999999999:role/dev-app-role"]);
    assert!(wrong_account.stderr.contains("no event of role"), "{}", wrong_account.stderr);
}

#[test]
fn date_window_limits_events_and_skips_files_by_their_delivery_time() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    // --resources exact: the policy names every key, so a day leaking in would show.
    let r = generate(&["--from", "2026-10-03", "--to", "2026-10-03", "--report", s(&report), "--resources", "exact"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = read_json(&report);
    assert_reconciles(&rep);
    assert!(rep["files_skipped_by_date"].as_u64().unwrap() >= 30, "{}", rep["files_skipped_by_date"]);
    assert!(rep["first_event"].as_str().unwrap().starts_with("2026-10-03"));
    assert!(rep["last_event"].as_str().unwrap().starts_with("2026-10-03"));
    assert!(r.stdout.contains("uploads/2026/10/03/report-0.csv"));
    assert!(!r.stdout.contains("uploads/2026/10/04/"), "a later day leaked in");
    assert!(!r.stdout.contains("uploads/2026/10/02/"), "an earlier day leaked in");
    // The iam:ListRoles denial happened that day.
    assert_eq!(rep["denied"].as_array().unwrap().len(), 3);

    let exact = generate(&["--from", "2026-10-03T08:00:00Z", "--to", "2026-10-03T08:59:59Z", "--resources", "exact"]);
    assert!(
        exact.stdout.contains("uploads/2026/10/03/report-0.csv") && !exact.stdout.contains("report-1.csv"),
        "{}",
        exact.stdout
    );

    // The examples are from October 2026; the last day before "now" holds none of them.
    let none = generate(&["--days", "1"]);
    assert_eq!(none.code, 5, "no event of the role is not a success: {}", none.stderr);
    assert!(none.stderr.contains("no event of role dev-app-role"), "{}", none.stderr);
    assert!(none.stdout.is_empty(), "no policy from no events");
}

#[test]
fn json_lines_and_lookup_events_output_give_the_same_policy_as_trail_files() {
    let records = example_records();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("records.jsonl");
    std::fs::write(&jsonl, records.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let lookup = dir.path().join("lookup.json");
    let events: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::json!({"EventId": r["eventID"], "EventName": r["eventName"], "CloudTrailEvent": r.to_string()}))
        .collect();
    std::fs::write(&lookup, serde_json::to_string_pretty(&serde_json::json!({"Events": events})).unwrap()).unwrap();

    let trail = generate(&[]);
    for f in [&jsonl, &lookup] {
        let r = iamtrim(&["generate", "--logs", s(f), "--role", "dev-app-role"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, trail.stdout, "{}", f.display());
    }
}

#[test]
fn output_and_report_go_to_files_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("policy.json");
    let r = generate(&["--output", s(&out), "--quiet"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.is_empty(), "--quiet: {}", r.stderr);
    let p = read_json(&out);
    assert_eq!(p["Version"], "2012-10-17");
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for (args, needle) in [
        (vec!["--role", "arn:aws:iam::1:user/bob"], "not a role name or a role ARN"),
        (vec!["--role", "x", "--from", "2026-10-05", "--to", "2026-10-01"], "is after --to"),
        (vec!["--role", "x", "--from", "last tuesday"], "is not a date"),
        (vec!["--role", "x", "--days", "3", "--from", "2026-10-01"], "cannot be used with"),
    ] {
        let ex = examples();
        let mut full = vec!["generate", "--logs", s(&ex)];
        full.extend(args.iter().copied());
        let r = iamtrim(&full);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn explain_names_the_events_behind_each_action() {
    let r = generate(&["--explain", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("statement S3Read"), "{}", r.stderr);
    assert!(r.stderr.contains("  s3:GetObject [Read]: s3.amazonaws.com CopyObject ×7, s3.amazonaws.com GetObject ×49, s3.amazonaws.com HeadObject ×42; first 2026-10-01T08:03:00Z, last 2026-10-07T23:50:00Z"), "{}", r.stderr);
}

#[test]
fn a_policy_over_the_limit_is_split_into_managed_policies_with_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let r = generate(&["--resources", "exact", "--output-dir", s(dir.path())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("to fit the managed policy limit: split into 2 managed policies"), "{}", r.stderr);
    let mut files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    // With the manifest that lets a later run remove parts it no longer writes.
    assert_eq!(names, [".iamtrim-dev-app-role.manifest", "dev-app-role-1.json", "dev-app-role-2.json"]);
    let exact: serde_json::Value = serde_json::from_str(&generate(&["--resources", "exact"]).stdout).unwrap();
    let pairs = |doc: &serde_json::Value| -> std::collections::BTreeSet<(String, String)> {
        let mut out = std::collections::BTreeSet::new();
        for st in doc["Statement"].as_array().unwrap() {
            for a in st["Action"].as_array().unwrap() {
                for r in st["Resource"].as_array().unwrap() {
                    out.insert((a.as_str().unwrap().to_string(), r.as_str().unwrap().to_string()));
                }
            }
        }
        out
    };
    let mut union = std::collections::BTreeSet::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let text = std::fs::read_to_string(f).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let compact: usize = serde_json::to_string(&doc).unwrap().chars().filter(|c| !c.is_whitespace()).count();
        assert!(compact <= 6144, "{} is {compact} characters", f.display());
        union.extend(pairs(&doc));
    }
    assert_eq!(union, pairs(&exact), "the parts hold every action on every resource, nothing else");
    // Without --output-dir the whole policy still goes to stdout, with a warning.
    let r = generate(&["--resources", "exact"]);
    assert!(r.stderr.contains("pass --output-dir DIR to write it as 2 policies"), "{}", r.stderr);
}

#[test]
fn calls_made_on_the_roles_behalf_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("kms.jsonl");
    let event = serde_json::json!({
        "eventTime": "2026-10-01T10:00:00Z", "eventSource": "kms.amazonaws.com", "eventName": "Decrypt", "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/dev-app-role/s", "invokedBy": "s3.amazonaws.com",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/dev-app-role"}}},
        "requestParameters": {"encryptionContext": {"aws:s3:arn": "arn:aws:s3:::b/k"}},
        "resources": [{"ARN": "arn:aws:kms:us-east-1:123456789012:key/k1", "type": "AWS::KMS::Key"}]
    });
    std::fs::write(&f, event.to_string() + "\n").unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", "dev-app-role", "--report", s(&report), "--explain"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("arn:aws:kms:us-east-1:123456789012:key/k1"));
    let rep = read_json(&report);
    assert_eq!(
        rep["action_details"][0]["implied_by"][0],
        "Decrypt called by s3.amazonaws.com on the role's behalf, with the role's permissions"
    );
    assert!(
        r.stderr
            .contains("kms:Decrypt on arn:aws:kms:us-east-1:123456789012:key/k1: Decrypt called by s3.amazonaws.com"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("implied: Decrypt called by s3.amazonaws.com"), "{}", r.stderr);
}

#[test]
fn catalog_dependent_actions_are_added_on_evidence_and_the_rest_listed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("create.jsonl");
    let call = |name: &str, params: serde_json::Value| {
        serde_json::json!({
            "eventTime": "2026-10-01T10:00:00Z", "eventSource": "kms.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
            "recipientAccountId": "123456789012",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/builder/s",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/builder"}}},
            "requestParameters": params
        })
        .to_string()
    };
    let lines =
        [call("CreateKey", serde_json::json!({"description": "k", "tags": [{"tagKey": "team", "tagValue": "a"}]}))];
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", "builder", "--report", s(&report)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let policy: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let actions: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    // The request carried tags: kms:TagResource (catalog dependent of kms:CreateKey) with its reason.
    assert!(actions.contains(&"kms:CreateKey") && actions.contains(&"kms:TagResource"), "{actions:?}");
    assert!(r.stderr.contains("kms:TagResource on arn:aws:kms:us-east-1:123456789012:key/*: kms:CreateKey tags what it creates (requestParameters.tags)"), "{}", r.stderr);
    // The other dependents depend on options the event does not show: listed, not granted.
    assert!(!actions.contains(&"kms:PutKeyPolicy"), "{actions:?}");
    assert!(r.stderr.contains("kms:CreateKey -> iam:CreateServiceLinkedRole, kms:PutKeyPolicy"), "{}", r.stderr);
    let rep = read_json(&report);
    assert_eq!(
        rep["dependent_not_added"][0]["dependents"],
        serde_json::json!(["iam:CreateServiceLinkedRole", "kms:PutKeyPolicy"])
    );
}
