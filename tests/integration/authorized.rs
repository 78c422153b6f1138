//! Operations whose IAM action is not their name, mapped from AWS's Service Reference
//! (`action-maps/authorized-actions.json`): the table checked row by row, the calls the issue
//! names mapped as AWS authorizes them, and the coverage of every documented operation.

use std::collections::BTreeMap;

use iamtrim::catalog::ActionCatalog;

use crate::util::{iamtrim, root, s};

const ACCOUNT: &str = "123456789012";

fn event(source: &str, name: &str, params: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/s"), "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/app")}}},
        "eventTime": "2026-10-01T10:00:00Z", "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
        "requestParameters": params, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
    })
}

/// The exact policy of `events`: action -> resources.
fn granted(events: &[serde_json::Value]) -> (BTreeMap<String, Vec<String>>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("calls.jsonl");
    std::fs::write(&logs, events.iter().map(|e| e.to_string() + "\n").collect::<String>()).unwrap();
    let report = dir.path().join("report.json");
    let r = iamtrim(&["generate", "--logs", s(&logs), "--role", "app", "--resources", "exact", "--report", s(&report)]);
    assert!(r.code == 0 || r.code == 5, "{}", r.stderr);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if r.code == 0 {
        let policy: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        for st in policy["Statement"].as_array().unwrap() {
            for a in st["Action"].as_array().unwrap() {
                let e = out.entry(a.as_str().unwrap().to_string()).or_default();
                e.extend(st["Resource"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()));
                e.sort();
            }
        }
    }
    (out, serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap())
}

#[test]
fn every_row_of_the_authorized_actions_table_names_a_catalog_action_and_one_of_its_rules() {
    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("action-maps/authorized-actions.json")).unwrap())
            .unwrap();
    assert!(table["about"].as_str().is_some_and(|a| !a.is_empty()), "the table says what it is");
    let rules = table["rules"].as_object().unwrap();
    let catalog = ActionCatalog::embedded();
    let mut rows = 0;
    for (operation, entries) in table["operations"].as_object().unwrap() {
        let (prefix, name) = operation.split_once(':').unwrap();
        assert!(catalog.service(prefix).is_some(), "{operation}: no such service");
        assert!(catalog.action(prefix, name).is_none(), "{operation} is an action itself: it needs no row");
        let mut granted_always = 0;
        for e in entries.as_array().unwrap() {
            rows += 1;
            let action = e["action"].as_str().unwrap();
            assert!(catalog.action_by_name(action).is_some(), "{operation}: {action} is not in the catalog");
            let rule = e["rule"].as_str().unwrap();
            assert!(rules.contains_key(rule), "{operation}: {action}: rule `{rule}` is not documented");
            granted_always += usize::from(e["when"] == "always");
        }
        assert!(granted_always <= 1, "{operation}: at most one action is always needed");
    }
    assert!(rows > 400, "{rows} rows");
    // The embedded table loaded (a trigger that is not one iamtrim knows fails the load).
    assert!(catalog.authorized_for("dynamodb", "TransactWriteItems").is_some());
}

#[test]
fn operations_whose_action_is_not_their_name_map_as_the_service_reference_says() {
    let model = "anthropic.claude-3-haiku-20240307-v1:0";
    let (got, _) = granted(&[
        event(
            "dynamodb.amazonaws.com",
            "TransactWriteItems",
            serde_json::json!({"transactItems": [{"put": {"tableName": "orders"}}, {"conditionCheck": {"tableName": "stock"}}]}),
        ),
        event(
            "dynamodb.amazonaws.com",
            "TransactGetItems",
            serde_json::json!({"transactItems": [{"get": {"tableName": "carts"}}]}),
        ),
        event(
            "dynamodb.amazonaws.com",
            "ExecuteStatement",
            serde_json::json!({"statement": "SELECT * FROM \"orders\".\"by-customer\" WHERE c = ?"}),
        ),
        event(
            "dynamodb.amazonaws.com",
            "BatchExecuteStatement",
            serde_json::json!({"statements": [{"statement": "INSERT INTO \"orders\" VALUE {'pk': ?}"}, {"statement": "DELETE FROM audit WHERE pk = ?"}]}),
        ),
        event("bedrock.amazonaws.com", "Converse", serde_json::json!({"modelId": model})),
        event(
            "bedrock.amazonaws.com",
            "ConverseStream",
            serde_json::json!({"modelId": "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "guardrailConfig": {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}}),
        ),
        event("apigateway.amazonaws.com", "GetRestApi", serde_json::json!({"restApiId": "a1b2c3"})),
        event(
            "apigateway.amazonaws.com",
            "CreateDeployment",
            serde_json::json!({"restApiId": "a1b2c3", "stageName": "prod"}),
        ),
        event(
            "sns.amazonaws.com",
            "PublishBatch",
            serde_json::json!({"topicArn": format!("arn:aws:sns:us-east-1:{ACCOUNT}:events"), "publishBatchRequestEntries": [{"id": "1"}]}),
        ),
    ]);
    let table = |t: &str| format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{t}");
    let want: BTreeMap<String, Vec<String>> = [
        ("apigateway:GET", vec!["arn:aws:apigateway:us-east-1::/restapis/a1b2c3".to_string()]),
        ("apigateway:POST", vec!["arn:aws:apigateway:us-east-1::/restapis/a1b2c3/deployments".to_string()]),
        ("bedrock:ApplyGuardrail", vec![format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/gr-1")]),
        ("bedrock:InvokeModel", vec![format!("arn:aws:bedrock:us-east-1::foundation-model/{model}")]),
        (
            "bedrock:InvokeModelWithResponseStream",
            vec![
                "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0".to_string(),
                format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
            ],
        ),
        ("dynamodb:ConditionCheckItem", vec![table("stock")]),
        ("dynamodb:GetItem", vec![table("carts")]),
        ("dynamodb:PartiQLDelete", vec![table("audit")]),
        ("dynamodb:PartiQLInsert", vec![table("orders")]),
        ("dynamodb:PartiQLSelect", vec![table("orders/index/by-customer")]),
        ("dynamodb:PutItem", vec![table("orders")]),
        ("sns:Publish", vec![format!("arn:aws:sns:us-east-1:{ACCOUNT}:events")]),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_string(), r))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn conditional_actions_are_never_granted_without_their_trigger() {
    // No guardrail, no PartiQL statement CloudTrail shows, no update item: none of their actions.
    let (got, report) = granted(&[
        event("bedrock.amazonaws.com", "Converse", serde_json::json!({"modelId": "amazon.nova-lite-v1:0"})),
        event(
            "dynamodb.amazonaws.com",
            "ExecuteStatement",
            serde_json::json!({"statement": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        ),
        event(
            "dynamodb.amazonaws.com",
            "TransactWriteItems",
            serde_json::json!({"transactItems": [{"put": {"tableName": "orders"}}]}),
        ),
    ]);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["bedrock:InvokeModel", "dynamodb:PutItem"]);
    // The statement CloudTrail hid is reported, never guessed.
    let unmapped = report["unmapped"].as_array().unwrap();
    assert_eq!(unmapped.len(), 1, "{unmapped:?}");
    assert_eq!(unmapped[0]["eventName"], "ExecuteStatement");
    assert_eq!(report["records_unmapped"], 1);
}

#[test]
fn the_service_reference_coverage_maps_at_least_95_percent_of_operations_not_named_as_actions() {
    let r = iamtrim(&["coverage", "--service-reference", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let share = &v["not_named_as_action"];
    let (mapped, all) = (share["mapped"].as_u64().unwrap(), share["operations"].as_u64().unwrap());
    assert!(all > 300 && mapped * 100 >= all * 95, "{mapped} of {all}");
    assert!(v["outside_authorized"].as_array().unwrap().is_empty(), "{}", v["outside_authorized"]);
}

#[test]
fn an_instance_profile_passed_by_name_is_reported_as_needed_and_never_granted_as_every_role() {
    let (got, report) = granted(&[event(
        "ec2.amazonaws.com",
        "RunInstances",
        serde_json::json!({"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}, "iamInstanceProfile": {"name": "web"}}),
    )]);
    assert!(got.contains_key("ec2:RunInstances"));
    assert!(!got.contains_key("iam:PassRole"), "{got:?}");
    assert!(got.values().flatten().all(|r| !r.ends_with(":role/*")), "{got:?}");
    let needed = report["needed_unresolved"].as_array().unwrap();
    assert_eq!(needed.len(), 1);
    assert!(
        needed[0]["detail"].as_str().unwrap().contains("iam:PassRole")
            && needed[0]["detail"].as_str().unwrap().contains("instance profile web")
    );
}

#[test]
fn an_s3_write_needs_the_acl_tagging_or_object_lock_permission_only_when_its_headers_ask() {
    let put = |extra: serde_json::Value| {
        let mut params = serde_json::json!({"bucketName": "b", "key": "k.csv"});
        params.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event("s3.amazonaws.com", "PutObject", params)
    };
    let (got, _) = granted(&[put(serde_json::json!({"x-amz-server-side-encryption": "aws:kms"}))]);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["s3:PutObject"]);
    let (got, _) = granted(&[put(serde_json::json!({
        "x-amz-acl": "bucket-owner-full-control",
        "x-amz-tagging": "team=a",
        "x-amz-object-lock-mode": "GOVERNANCE",
        "x-amz-object-lock-retain-until-date": "2027-01-01T00:00:00Z"
    }))]);
    let object = vec!["arn:aws:s3:::b/k.csv".to_string()];
    for action in ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectRetention", "s3:PutObjectTagging"] {
        assert_eq!(got.get(action), Some(&object), "{action}: {got:?}");
    }
    assert!(!got.contains_key("s3:PutObjectLegalHold"), "no legal-hold header, no legal-hold permission");
}

#[test]
fn parameters_nested_in_an_ec2_request_object_give_resources_tags_and_the_passed_role() {
    let (got, _) = granted(&[
        event(
            "ec2.amazonaws.com",
            "CreateFlowLogs",
            serde_json::json!({"CreateFlowLogsRequest": {
                "ResourceType": "VPC", "TrafficType": "ALL", "LogGroupName": "flow",
                "DeliverLogsPermissionArn": format!("arn:aws:iam::{ACCOUNT}:role/flowlogs"),
                "TagSpecification": {"ResourceType": "vpc-flow-log", "Tag": {"Key": "team", "Value": "a"}}
            }}),
        ),
        event(
            "ec2.amazonaws.com",
            "CreateTrafficMirrorSession",
            serde_json::json!({"CreateTrafficMirrorSessionRequest": {"NetworkInterfaceId": "eni-1", "TrafficMirrorFilterId": "tmf-1", "TrafficMirrorTargetId": "tmt-1", "SessionNumber": 1}}),
        ),
    ]);
    assert_eq!(got.get("iam:PassRole"), Some(&vec![format!("arn:aws:iam::{ACCOUNT}:role/flowlogs")]));
    assert!(got.contains_key("ec2:CreateTags"), "the tags in the request object: {got:?}");
    let session = &got["ec2:CreateTrafficMirrorSession"];
    assert!(session.contains(&format!("arn:aws:ec2:us-east-1:{ACCOUNT}:traffic-mirror-filter/tmf-1")), "{session:?}");
    assert!(session.contains(&format!("arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-1")), "{session:?}");
}

#[test]
fn an_action_the_catalog_says_may_pass_a_role_passes_the_role_arn_its_request_names() {
    // backup:StartBackupJob is in no reviewed table; the catalog lists iam:PassRole as its
    // dependent, and its request names the role in a common role parameter.
    let role = format!("arn:aws:iam::{ACCOUNT}:role/backup");
    let (got, _) = granted(&[event(
        "backup.amazonaws.com",
        "StartBackupJob",
        serde_json::json!({"backupVaultName": "v", "resourceArn": format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"), "iamRoleArn": role}),
    )]);
    assert_eq!(got.get("iam:PassRole"), Some(&vec![role]));
    // A bare value in a generic parameter could name anything: no PassRole is made up from it.
    let (got, _) = granted(&[event(
        "backup.amazonaws.com",
        "StartBackupJob",
        serde_json::json!({"backupVaultName": "v", "resourceArn": format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"), "iamRoleArn": "backup"}),
    )]);
    assert!(!got.contains_key("iam:PassRole"), "{got:?}");
}

#[test]
fn a_role_named_with_a_wildcard_in_the_log_is_passed_literally_never_as_every_role() {
    let (got, _) = granted(&[
        event("glue.amazonaws.com", "CreateJob", serde_json::json!({"name": "etl", "role": "*"})),
        event(
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            serde_json::json!({"functionName": "f", "role": format!("arn:aws:iam::{ACCOUNT}:role/app-?")}),
        ),
        event(
            "backup.amazonaws.com",
            "StartBackupJob",
            serde_json::json!({"backupVaultName": "v", "resourceArn": format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"), "iamRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/b*")}),
        ),
    ]);
    assert_eq!(
        got.get("iam:PassRole"),
        Some(&vec![
            format!("arn:aws:iam::{ACCOUNT}:role/${{*}}"),
            format!("arn:aws:iam::{ACCOUNT}:role/app-${{?}}"),
            format!("arn:aws:iam::{ACCOUNT}:role/b${{*}}"),
        ])
    );
}

#[test]
fn table_model_and_guardrail_names_with_wildcards_are_granted_literally_and_pass_the_self_check() {
    let (got, _) = granted(&[
        event(
            "dynamodb.amazonaws.com",
            "TransactWriteItems",
            serde_json::json!({"transactItems": [{"put": {"tableName": "t*"}}]}),
        ),
        event(
            "dynamodb.amazonaws.com",
            "ExecuteStatement",
            serde_json::json!({"statement": "SELECT * FROM \"o?\" WHERE pk = ?"}),
        ),
        event(
            "bedrock.amazonaws.com",
            "Converse",
            serde_json::json!({"modelId": "m*", "guardrailConfig": {"guardrailIdentifier": "g*", "guardrailVersion": "1"}}),
        ),
    ]);
    let table = |t: &str| format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{t}");
    assert_eq!(got["dynamodb:PutItem"], [table("t${*}")]);
    assert_eq!(got["dynamodb:PartiQLSelect"], [table("o${?}")]);
    assert_eq!(got["bedrock:InvokeModel"], ["arn:aws:bedrock:us-east-1::foundation-model/m${*}"]);
    assert_eq!(got["bedrock:ApplyGuardrail"], [format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/g${{*}}")]);
}
