//! The mapper, as tables that read like the spec: the override table entry by entry, and the
//! ARN builders service by service.

use iamtrim::catalog::ActionCatalog;
use iamtrim::event::Event;
use iamtrim::mapper::{EventMapper, Mapping, Resolution, Unmapped};
use serde_json::json;

const ACCOUNT: &str = "123456789012";

fn event_json(
    source: &str,
    name: &str,
    params: serde_json::Value,
    resources: Option<serde_json::Value>,
    region: &str,
) -> String {
    let mut e = json!({
        "eventTime": "2026-10-01T00:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/s"), "accountId": ACCOUNT},
        "requestParameters": params,
    });
    if let Some(r) = resources {
        e["resources"] = r;
    }
    e.to_string()
}

fn map_in(
    region: &str,
    source: &str,
    name: &str,
    params: serde_json::Value,
    resources: Option<serde_json::Value>,
) -> Mapping {
    let json = event_json(source, name, params, resources, region);
    let event = Event::from_json(&json).expect("valid event");
    EventMapper::new(ActionCatalog::embedded()).map(&event)
}

fn map(source: &str, name: &str, params: serde_json::Value, resources: Option<serde_json::Value>) -> Mapping {
    map_in("us-east-1", source, name, params, resources)
}

/// (action, resources) pairs of a mapping, or a panic naming what it was.
fn uses(m: Mapping) -> Vec<(String, Vec<String>)> {
    match m {
        Mapping::Actions(u) => u.into_iter().map(|u| (u.action, u.resources)).collect(),
        other => panic!("expected actions, got {other:?}"),
    }
}

fn one(action: &str, resources: &[&str]) -> Vec<(String, Vec<String>)> {
    vec![(action.to_string(), resources.iter().map(|s| s.to_string()).collect())]
}

#[test]
fn every_override_entry_maps_to_exactly_its_listed_catalog_actions() {
    let catalog = ActionCatalog::embedded();
    let mapper = EventMapper::new(catalog);
    let mut checked = 0;
    for (key, entry) in catalog.overrides() {
        let (prefix, name) = key.split_once(':').unwrap();
        // Any event source that resolves to the prefix will do.
        let source = format!("{prefix}.amazonaws.com");
        assert_eq!(catalog.prefix_for_event_source(&source), Some(prefix), "{key}: event source");
        let json = event_json(&source, name, json!({}), None, "us-east-1");
        let event = Event::from_json(&json).unwrap();
        let want: Vec<&str> = entry.actions.iter().map(|a| a.action.as_str()).collect();
        for a in &want {
            let found = catalog.action_by_name(a).unwrap_or_else(|| panic!("{key}: {a} is not in the catalog"));
            assert_eq!(&found.name, a, "{key}: the override spells {a} as the catalog does");
        }
        match mapper.map(&event) {
            Mapping::Actions(u) => assert_eq!(u.iter().map(|u| u.action.as_str()).collect::<Vec<_>>(), want, "{key}"),
            Mapping::NoPermission(reason) => {
                assert!(want.is_empty(), "{key}: needs no permission but lists {want:?}");
                assert!(!reason.is_empty());
            }
            Mapping::Unmapped(u) => panic!("{key}: unmapped: {u:?}"),
        }
        assert!(!entry.reason.trim().is_empty(), "{key}: every override says why");
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} overrides");
}

#[test]
fn s3_renames_from_the_reference_facts() {
    let cases: &[(&str, &str)] = &[
        ("ListObjects", "s3:ListBucket"),
        ("ListObjectsV2", "s3:ListBucket"),
        ("HeadBucket", "s3:ListBucket"),
        ("HeadObject", "s3:GetObject"),
        ("ListBuckets", "s3:ListAllMyBuckets"),
        ("DeleteObjects", "s3:DeleteObject"),
        ("GetBucketLifecycle", "s3:GetLifecycleConfiguration"),
        ("PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
        ("PutBucketReplication", "s3:PutReplicationConfiguration"),
        ("CreateMultipartUpload", "s3:PutObject"),
        ("UploadPart", "s3:PutObject"),
        ("CompleteMultipartUpload", "s3:PutObject"),
        ("ListParts", "s3:ListMultipartUploadParts"),
        ("AbortMultipartUpload", "s3:AbortMultipartUpload"),
        ("GetObject", "s3:GetObject"),
    ];
    for (event, action) in cases {
        let got = uses(map("s3.amazonaws.com", event, json!({"bucketName": "b", "key": "k"}), None));
        assert_eq!(got.len(), 1, "{event}");
        assert_eq!(got[0].0, *action, "{event}");
    }
}

#[test]
fn s3_bucket_and_object_arns() {
    assert_eq!(
        uses(map("s3.amazonaws.com", "GetObject", json!({"bucketName": "b", "key": "a/b.txt"}), None)),
        one("s3:GetObject", &["arn:aws:s3:::b/a/b.txt"])
    );
    assert_eq!(
        uses(map("s3.amazonaws.com", "ListObjectsV2", json!({"bucketName": "b", "prefix": "a/"}), None)),
        one("s3:ListBucket", &["arn:aws:s3:::b"])
    );
    assert_eq!(
        uses(map("s3.amazonaws.com", "PutBucketPolicy", json!({"bucketName": "b"}), None)),
        one("s3:PutBucketPolicy", &["arn:aws:s3:::b"])
    );
    // resources[] lists object and bucket; only the object fits s3:GetObject.
    let resources = json!([{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"}, {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}]);
    assert_eq!(
        uses(map("s3.amazonaws.com", "GetObject", json!({"bucketName": "b", "key": "k"}), Some(resources.clone()))),
        one("s3:GetObject", &["arn:aws:s3:::b/k"])
    );
    assert_eq!(
        uses(map("s3.amazonaws.com", "HeadBucket", json!({"bucketName": "b"}), Some(resources))),
        one("s3:ListBucket", &["arn:aws:s3:::b"])
    );
    // Partition follows the region.
    assert_eq!(
        uses(map_in("cn-north-1", "s3.amazonaws.com", "GetObject", json!({"bucketName": "b", "key": "k"}), None)),
        one("s3:GetObject", &["arn:aws-cn:s3:::b/k"])
    );
}

#[test]
fn s3_copy_needs_get_on_the_source_and_put_on_the_target() {
    let got = uses(map(
        "s3.amazonaws.com",
        "CopyObject",
        json!({"bucketName": "dst", "key": "out/k2", "x-amz-copy-source": "src/in%2Fk1?versionId=3"}),
        // Real CopyObject events list the source object in resources[] too.
        Some(
            json!([{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::dst/out/k2"}, {"type": "AWS::S3::Object", "arn": "arn:aws:s3:::src/in/k1"}]),
        ),
    ));
    assert_eq!(
        got,
        vec![
            ("s3:GetObject".to_string(), vec!["arn:aws:s3:::src/in/k1".to_string()]),
            ("s3:PutObject".to_string(), vec!["arn:aws:s3:::dst/out/k2".to_string()]),
        ]
    );
}

#[test]
fn dynamodb_table_and_index_arns() {
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/orders";
    assert_eq!(
        uses(map("dynamodb.amazonaws.com", "GetItem", json!({"tableName": "orders"}), None)),
        one("dynamodb:GetItem", &[table])
    );
    // A query on an index is authorized on the index ARN, even when resources[] names the table.
    assert_eq!(
        uses(map(
            "dynamodb.amazonaws.com",
            "Query",
            json!({"tableName": "orders", "indexName": "by-date"}),
            Some(json!([{"ARN": table}]))
        )),
        one("dynamodb:Query", &["arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-date"])
    );
    assert_eq!(
        uses(map("dynamodb.amazonaws.com", "DescribeTable", json!({"tableName": table}), None)),
        one("dynamodb:DescribeTable", &[table])
    );
}

#[test]
fn lambda_function_names_in_every_form() {
    let f = "arn:aws:lambda:us-east-1:123456789012:function:thumbs";
    for name in ["thumbs", f, "123456789012:function:thumbs"] {
        assert_eq!(
            uses(map("lambda.amazonaws.com", "GetFunction20150331v2", json!({"functionName": name}), None)),
            one("lambda:GetFunction", &[f]),
            "{name}"
        );
    }
    assert_eq!(
        uses(map("lambda.amazonaws.com", "Invoke", json!({"functionName": f}), None)),
        one("lambda:InvokeFunction", &[f])
    );
    assert_eq!(
        uses(map("lambda.amazonaws.com", "Invoke", json!({"functionName": "thumbs", "qualifier": "live"}), None)),
        one("lambda:InvokeFunction", &["arn:aws:lambda:us-east-1:123456789012:function:thumbs:live"])
    );
    assert_eq!(
        uses(map("lambda.amazonaws.com", "ListFunctions20150331", json!({}), None)),
        one("lambda:ListFunctions", &["*"])
    );
}

#[test]
fn sqs_queue_urls_and_batch_operations() {
    let q = "arn:aws:sqs:eu-west-1:123456789012:jobs";
    let url = json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"});
    assert_eq!(uses(map("sqs.amazonaws.com", "SendMessage", url.clone(), None)), one("sqs:SendMessage", &[q]));
    assert_eq!(uses(map("sqs.amazonaws.com", "SendMessageBatch", url.clone(), None)), one("sqs:SendMessage", &[q]));
    assert_eq!(uses(map("sqs.amazonaws.com", "DeleteMessageBatch", url.clone(), None)), one("sqs:DeleteMessage", &[q]));
    assert_eq!(
        uses(map("sqs.amazonaws.com", "ChangeMessageVisibilityBatch", url, None)),
        one("sqs:ChangeMessageVisibility", &[q])
    );
}

#[test]
fn sns_topics_from_arn_parameters() {
    let t = "arn:aws:sns:us-east-1:123456789012:alerts";
    assert_eq!(
        uses(map("sns.amazonaws.com", "Publish", json!({"topicArn": t, "message": "x"}), None)),
        one("sns:Publish", &[t])
    );
}

#[test]
fn kms_keys_by_id_arn_and_alias() {
    let k = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        uses(map("kms.amazonaws.com", "Decrypt", json!({}), Some(json!([{"ARN": k, "type": "AWS::KMS::Key"}])))),
        one("kms:Decrypt", &[k])
    );
    assert_eq!(
        uses(map("kms.amazonaws.com", "DescribeKey", json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}), None)),
        one("kms:DescribeKey", &[k])
    );
    assert_eq!(uses(map("kms.amazonaws.com", "DescribeKey", json!({"keyId": k}), None)), one("kms:DescribeKey", &[k]));
    // An alias does not name the key: the key template with `*`, flagged as a wildcard.
    match map("kms.amazonaws.com", "Encrypt", json!({"keyId": "alias/app"}), None) {
        Mapping::Actions(u) => {
            assert_eq!(u[0].resolution, Resolution::Wildcard);
            assert!(
                u[0].resources.contains(&"arn:aws:kms:us-east-1:123456789012:key/*".to_string()),
                "{:?}",
                u[0].resources
            );
        }
        other => panic!("{other:?}"),
    }
    // ReEncrypt: From on the source key, To on the destination key.
    let k2 = "arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        uses(map(
            "kms.amazonaws.com",
            "ReEncrypt",
            json!({"sourceKeyId": k, "destinationKeyId": k2}),
            Some(json!([{"ARN": k}, {"ARN": k2}]))
        )),
        vec![
            ("kms:ReEncryptFrom".to_string(), vec![k.to_string()]),
            ("kms:ReEncryptTo".to_string(), vec![k2.to_string()])
        ]
    );
}

#[test]
fn secrets_parameters_and_log_groups() {
    assert_eq!(
        uses(map("secretsmanager.amazonaws.com", "GetSecretValue", json!({"secretId": "prod/db"}), None)),
        one("secretsmanager:GetSecretValue", &["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"])
    );
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
    assert_eq!(
        uses(map("secretsmanager.amazonaws.com", "GetSecretValue", json!({"secretId": secret}), None)),
        one("secretsmanager:GetSecretValue", &[secret])
    );
    assert_eq!(
        uses(map("ssm.amazonaws.com", "GetParameter", json!({"name": "/app/db-url"}), None)),
        one("ssm:GetParameter", &["arn:aws:ssm:us-east-1:123456789012:parameter/app/db-url"])
    );
    assert_eq!(
        uses(map("ssm.amazonaws.com", "GetParameters", json!({"names": ["/a/x", "b"]}), None)),
        one(
            "ssm:GetParameters",
            &["arn:aws:ssm:us-east-1:123456789012:parameter/a/x", "arn:aws:ssm:us-east-1:123456789012:parameter/b"]
        )
    );
    assert_eq!(
        uses(map(
            "logs.amazonaws.com",
            "CreateLogStream",
            json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s1"}),
            None
        )),
        one("logs:CreateLogStream", &["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:s1"])
    );
}

#[test]
fn iam_sts_and_ec2_resources() {
    assert_eq!(
        uses(map("iam.amazonaws.com", "GetRole", json!({"roleName": "app"}), None)),
        one("iam:GetRole", &["arn:aws:iam::123456789012:role/app"])
    );
    let role = "arn:aws:iam::999999999999:role/deployer";
    assert_eq!(
        uses(map("sts.amazonaws.com", "AssumeRole", json!({"roleArn": role, "roleSessionName": "s"}), None)),
        one("sts:AssumeRole", &[role])
    );
    assert_eq!(
        uses(map(
            "ec2.amazonaws.com",
            "StopInstances",
            json!({"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}),
            None
        )),
        one(
            "ec2:StopInstances",
            &["arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:us-east-1:123456789012:instance/i-2"]
        )
    );
    assert_eq!(
        uses(map("ec2.amazonaws.com", "DescribeInstances", json!({}), None)),
        one("ec2:DescribeInstances", &["*"])
    );
    assert_eq!(
        uses(map("monitoring.amazonaws.com", "PutMetricData", json!({"namespace": "App"}), None)),
        one("cloudwatch:PutMetricData", &["*"])
    );
}

#[test]
fn calls_needing_no_permission_and_unknown_events() {
    assert!(matches!(map("sts.amazonaws.com", "GetCallerIdentity", json!(null), None), Mapping::NoPermission(_)));
    assert_eq!(
        map("iam.amazonaws.com", "NotCreateUser", json!({}), None),
        Mapping::Unmapped(Unmapped::NoSuchAction { prefix: "iam".into() })
    );
    assert_eq!(
        map("s3.amazonaws.com", "SetQueueAttributes", json!({}), None),
        Mapping::Unmapped(Unmapped::NoSuchAction { prefix: "s3".into() })
    );
    assert_eq!(map("nosuch.example.com", "Anything", json!({}), None), Mapping::Unmapped(Unmapped::UnknownEventSource));
}

#[test]
fn tagging_at_creation_implies_the_catalogs_dependent_tagging_action() {
    let all = |m: Mapping| match m {
        Mapping::Actions(u) => u,
        other => panic!("{other:?}"),
    };
    // RunInstances with tags: ec2:CreateTags (a dependent action in the catalog), on the instance.
    let instance =
        json!([{"ARN": format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc"), "type": "AWS::EC2::Instance"}]);
    let tags = json!({"imageId": "ami-1", "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": "env", "value": "dev"}]}]}});
    let u = all(map("ec2.amazonaws.com", "RunInstances", tags, Some(instance.clone())));
    let create_tags = u.iter().find(|x| x.action == "ec2:CreateTags").expect("ec2:CreateTags implied");
    assert_eq!(create_tags.resources, [format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc")]);
    let why = create_tags.implied_by.as_deref().unwrap();
    assert!(why.contains("requestParameters.tagSpecificationSet") && why.contains("dependent action"), "{why}");
    // Without tags (or with an empty tag set): no CreateTags.
    let u = all(map("ec2.amazonaws.com", "RunInstances", json!({"imageId": "ami-1"}), Some(instance.clone())));
    assert!(!u.iter().any(|x| x.action == "ec2:CreateTags"));
    let u = all(map(
        "ec2.amazonaws.com",
        "RunInstances",
        json!({"imageId": "ami-1", "tagSpecificationSet": {"items": []}}),
        Some(instance),
    ));
    assert!(!u.iter().any(|x| x.action == "ec2:CreateTags"));
    // Tags for a volume the event does not name: the volume template, scoped to the account.
    let volume = json!({"imageId": "ami-1", "tagSpecificationSet": {"items": [{"resourceType": "volume", "tags": [{"key": "env", "value": "dev"}]}]}});
    let u = all(map("ec2.amazonaws.com", "RunInstances", volume, None));
    assert_eq!(
        u.iter().find(|x| x.action == "ec2:CreateTags").unwrap().resources,
        [format!("arn:aws:ec2:us-east-1:{ACCOUNT}:volume/*")]
    );
    // kms:CreateKey with Tags: kms:TagResource; its other dependents are not guessed.
    let u = all(map("kms.amazonaws.com", "CreateKey", json!({"tags": [{"tagKey": "team", "tagValue": "a"}]}), None));
    let actions: Vec<&str> = u.iter().map(|x| x.action.as_str()).collect();
    assert_eq!(actions, ["kms:CreateKey", "kms:TagResource"]);
}

#[test]
fn passing_a_role_implies_iam_passrole_on_it() {
    let with_pass = |m: Mapping| -> (Vec<String>, Vec<String>, Option<String>) {
        match m {
            Mapping::Actions(u) => {
                let pass = u.iter().find(|x| x.action == "iam:PassRole");
                (
                    u.iter().map(|x| x.action.clone()).collect(),
                    pass.map(|p| p.resources.clone()).unwrap_or_default(),
                    pass.and_then(|p| p.implied_by.clone()),
                )
            }
            other => panic!("{other:?}"),
        }
    };
    let role = "arn:aws:iam::123456789012:role/lambda-exec";
    let (actions, roles, why) = with_pass(map(
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        json!({"functionName": "f", "role": role}),
        None,
    ));
    assert_eq!(actions, ["lambda:CreateFunction", "iam:PassRole"]);
    assert_eq!(roles, [role]);
    assert!(why.unwrap().contains("CloudTrail never logs iam:PassRole"));
    let (_, roles, _) = with_pass(map(
        "ecs.amazonaws.com",
        "RegisterTaskDefinition",
        json!({"family": "web", "taskRoleArn": "arn:aws:iam::123456789012:role/task", "executionRoleArn": "arn:aws:iam::123456789012:role/exec"}),
        None,
    ));
    assert_eq!(roles, ["arn:aws:iam::123456789012:role/exec", "arn:aws:iam::123456789012:role/task"]);
    // Glue takes a role name: the ARN is built in the event's account.
    let (_, roles, _) =
        with_pass(map("glue.amazonaws.com", "CreateJob", json!({"name": "etl", "role": "glue-etl"}), None));
    assert_eq!(roles, ["arn:aws:iam::123456789012:role/glue-etl"]);
    // An instance profile does not name its role: the PassRole is needed on a role the event
    // does not show, reported as unresolved and never granted as `role/*`; by ARN or by name.
    for (profile, named) in [
        (
            json!({"arn": "arn:aws:iam::123456789012:instance-profile/web"}),
            "arn:aws:iam::123456789012:instance-profile/web",
        ),
        (json!({"name": "web"}), "web"),
    ] {
        match map("ec2.amazonaws.com", "RunInstances", json!({ "iamInstanceProfile": profile }), None) {
            Mapping::Actions(u) => {
                let p = u.iter().find(|x| x.action == "iam:PassRole").expect("PassRole");
                assert_eq!(p.resources, [named]);
                assert_eq!(p.resolution, Resolution::Unresolved);
                assert!(p.implied_by.as_deref().is_some_and(|w| w.contains("iam:GetInstanceProfile")));
            }
            other => panic!("{other:?}"),
        }
    }
    // No role in the request: no PassRole.
    let (actions, _, _) = with_pass(map(
        "lambda.amazonaws.com",
        "UpdateFunctionConfiguration20150331v2",
        json!({"functionName": "f", "timeout": 30}),
        None,
    ));
    assert_eq!(actions, ["lambda:UpdateFunctionConfiguration"]);
    let (actions, _, _) = with_pass(map(
        "states.amazonaws.com",
        "CreateStateMachine",
        json!({"name": "m", "roleArn": "arn:aws:iam::123456789012:role/sfn"}),
        None,
    ));
    assert_eq!(actions, ["states:CreateStateMachine", "iam:PassRole"]);
}

#[test]
fn every_required_resource_type_of_an_action_is_covered() {
    // rds:DeleteDBCluster requires the cluster and a cluster snapshot (the final one).
    match map("rds.amazonaws.com", "DeleteDBCluster", json!({"dBClusterIdentifier": "aurora-prod"}), None) {
        Mapping::Actions(u) => assert_eq!(
            u[0].resources,
            [
                "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:*",
                "arn:aws:rds:us-east-1:123456789012:cluster:aurora-prod"
            ]
        ),
        other => panic!("{other:?}"),
    }
    // A query on an index is covered by the index ARN: no table wildcard is added.
    assert_eq!(
        uses(map("dynamodb.amazonaws.com", "Query", json!({"tableName": "t", "indexName": "i"}), None)),
        one("dynamodb:Query", &["arn:aws:dynamodb:us-east-1:123456789012:table/t/index/i"])
    );
    // An account that is not 12 digits is unknown: the ARN gets `*` there, never the bad value,
    // and the queue keeps its name (it was widened to `*` before).
    let json = event_json("sqs.amazonaws.com", "SendMessage", json!({"queueName": "q"}), None, "us-east-1")
        .replace("123456789012", "1231231234");
    let e = Event::from_json(&json).unwrap();
    match EventMapper::new(ActionCatalog::embedded()).map(&e) {
        Mapping::Actions(u) => assert_eq!(u[0].resources, ["arn:aws:sqs:us-east-1:*:q"]),
        other => panic!("{other:?}"),
    }
}
