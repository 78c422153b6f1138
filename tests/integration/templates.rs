//! The current policies read where they are written: `diff --current` takes a CloudFormation or
//! SAM template or a Terraform plan (the kind read from the content) and compares the role's
//! policies there with what the role did.

use serde_json::{json, Value};

use crate::util::{examples, iamtrim, read_json, s};

fn actions(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_sam_template_is_read_as_the_roles_current_policies() {
    let ex = examples();
    let template = ex.join("template.yaml");
    let dir = tempfile::tempdir().unwrap();
    let (from_template, from_iam) = (dir.path().join("t.json"), dir.path().join("a.json"));
    let r = iamtrim(&[
        "diff",
        "--logs",
        s(&ex),
        "--role",
        "dev-app-role",
        "--current",
        s(&template),
        "--format",
        "json",
        "--output",
        s(&from_template),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("the policies of SAM role DevAppRole (line 40)"), "{}", r.stderr);
    assert!(r.stderr.contains("${unknown:Stage} is unknown"), "the parameter not given is said: {}", r.stderr);
    let auth = ex.join("auth-details.json");
    let r = iamtrim(&[
        "diff",
        "--logs",
        s(&ex),
        "--role",
        "dev-app-role",
        "--auth-details",
        s(&auth),
        "--format",
        "json",
        "--output",
        s(&from_iam),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (t, a) = (read_json(&from_template), read_json(&from_iam));
    // The template grants what the account grants the role, narrowed where it names its queue.
    assert_eq!(actions(&t, "used_not_granted"), actions(&a, "used_not_granted"));
    assert_eq!(actions(&t, "unused_granted").len(), actions(&a, "unused_granted").len());
    assert_eq!(actions(&t, "used_granted"), actions(&a, "used_granted"));
}

#[test]
fn a_template_role_of_another_name_is_chosen_with_template_role_and_what_it_lacks_would_break() {
    let ex = examples();
    let template = ex.join("template.yaml");
    let r = iamtrim(&["diff", "--logs", s(&ex), "--role", "shared-lambda-role", "--current", s(&template)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("its roles: DevAppRole, InvoiceMailerRole") && r.stderr.contains("--template-role"),
        "{}",
        r.stderr
    );
    let r = iamtrim(&[
        "diff",
        "--logs",
        s(&ex),
        "--role",
        "shared-lambda-role",
        "--current",
        s(&template),
        "--template-role",
        "InvoiceMailerRole",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    // The SAM function's policies (SQSPollerPolicy, S3CrudPolicy, an inline statement) do not
    // cover the orders-api function that shares the role.
    let missing = actions(&d, "used_not_granted");
    for a in ["dynamodb:GetItem", "sqs:SendMessage"] {
        assert!(missing.contains(&a.to_string()), "{a}: {missing:?}");
    }
    let granted = actions(&d, "used_granted");
    for a in ["sqs:ReceiveMessage", "s3:PutObject", "ses:SendEmail"] {
        assert!(granted.contains(&a.to_string()), "{a}: {granted:?}");
    }
}

#[test]
fn a_terraform_plan_is_read_and_a_policy_known_only_after_apply_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let inline = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DescribeTable"], "Resource": ["arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders", "arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders/index/*"]}]});
    let plan = json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [
            {"address": "aws_iam_role.app", "mode": "managed", "type": "aws_iam_role", "name": "app",
             "values": {"name": "dev-app-role", "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
                "inline_policy": [{"name": "tables", "policy": inline.to_string()}]}},
            {"address": "aws_iam_role_policy.later", "mode": "managed", "type": "aws_iam_role_policy", "name": "later", "values": {"name": "later", "role": "dev-app-role"}}
        ]}},
        "resource_changes": []
    });
    let file = dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let ex = examples();
    let r = iamtrim(&["diff", "--logs", s(&ex), "--role", "dev-app-role", "--current", s(&file), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Terraform plan role aws_iam_role.app"), "{}", r.stderr);
    assert!(r.stderr.contains("policy later (aws_iam_role_policy.later) is known only after apply"), "{}", r.stderr);
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    let granted = actions(&d, "used_granted");
    assert!(
        granted.contains(&"dynamodb:GetItem".to_string()) && granted.contains(&"s3:GetObject".to_string()),
        "{granted:?}"
    );
    assert!(actions(&d, "used_not_granted").contains(&"s3:PutObject".to_string()));
}

#[test]
fn the_examples_terraform_plan_is_reviewed_and_not_read_as_a_log() {
    let ex = examples();
    let plan = ex.join("plan.json");
    let r = iamtrim(&["review", "--template", s(&plan), "--logs", s(&ex), "--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["complete"], true, "the plan and the template beside the logs are no gap");
    let role = &v["roles"][0];
    assert_eq!((role["id"].as_str(), role["kind"].as_str()), (Some("aws_iam_role.dev_app"), Some("Terraform plan")));
    let policies: Vec<&str> = role["policies"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(policies, ["dev-app-inline (inline)", "AmazonS3FullAccess", "dev-app-tables (aws_iam_policy.tables)"]);
    assert_eq!(role["no_new_access"]["proven"], true, "{}", role["no_new_access"]);
    let patch = role["patch"].as_str().unwrap();
    assert!(
        patch.contains("resource \"aws_iam_role_policy\" \"dev_app_trimmed\"")
            && patch.contains("role   = aws_iam_role.dev_app.id"),
        "{patch}"
    );
}

#[test]
fn a_cdk_synthesized_template_is_read_with_its_default_policy_and_an_unnamed_bucket_stays_unknown() {
    // cdk.out/AppStack.template.json as `cdk synth` writes it: CDK metadata on every resource,
    // the role's grants in its DefaultPolicy (AWS::IAM::Policy attached by Ref), the managed
    // policy ARN built with Fn::Join and AWS::Partition, GetAtt of a named queue and of a bucket
    // CloudFormation will name, the bootstrap parameter and rule.
    let template = crate::util::root().join("tests/data/cdk.out/AppStack.template.json");
    let ex = examples();
    let r = iamtrim(&["review", "--template", s(&template), "--logs", s(&ex), "--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let roles = v["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1, "{roles:?}");
    let role = &roles[0];
    assert_eq!(role["kind"], "CDK");
    assert_eq!(role["id"], "AppRole2A1B9C3D");
    assert_eq!(role["principal"], "arn:aws:iam::123456789012:role/dev-app-role", "matched by its RoleName");
    assert_eq!(
        role["policies"],
        json!(["AWSLambdaBasicExecutionRole", "AppRoleDefaultPolicy8C7D6E5F (AppRoleDefaultPolicy8C7D6E5F)"]),
        "the managed policy through Fn::Join of the partition, and the DefaultPolicy attached by Ref"
    );
    assert_eq!(role["unknowns"], json!(["${unknown:DataBucketE3889A50.BucketName}"]));
    let diff = &role["diff"];
    // The queue's ARN is known (QueueName, the activity's account and region): a plain grant.
    let granted = |a: &str| diff["used_granted"].as_array().unwrap().iter().find(|x| x["action"] == a).cloned();
    let receive = granted("sqs:ReceiveMessage").unwrap();
    assert!(receive.get("note").is_none_or(|n| n == ""), "{receive}");
    // The bucket CloudFormation names is never `*`: a call on a bucket is at most conditional.
    let get = granted("s3:GetObject").expect("conditional, not plain");
    let note = get["note"].as_str().unwrap();
    assert!(note.starts_with("granted only if what the template leaves unknown until deploy matches ("), "{get}");
    assert!(note.contains("arn:aws:s3:::${unknown:DataBucketE3889A50.BucketName}/*"), "{get}");
    let proof = &role["no_new_access"];
    assert_eq!(proof["proven"], false);
    let on_bucket =
        proof["counterexamples"].as_array().unwrap().iter().find(|c| c["action"] == "s3:GetObject").unwrap();
    assert!(on_bucket["why"].as_str().unwrap().contains("${unknown:DataBucketE3889A50.BucketName}"), "{on_bucket}");
    assert!(role["patch"].as_str().unwrap().starts_with("// Replace the policies of AppRole2A1B9C3D with"), "{role}");
    // The cdk.out directory is read as its templates.
    let dir = template.parent().unwrap();
    let whole = iamtrim(&["review", "--template", s(dir), "--logs", s(&ex), "--format", "json"]);
    assert_eq!(whole.code, 3, "{}", whole.stderr);
    let w: Value = serde_json::from_str(&whole.stdout).unwrap();
    assert_eq!(w["roles"][0]["id"], "AppRole2A1B9C3D");
    let empty = tempfile::tempdir().unwrap();
    let none = iamtrim(&["review", "--template", s(empty.path()), "--logs", s(&ex)]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("a directory without *.template.json"), "{}", none.stderr);
    // diff --current reads it too.
    let d =
        iamtrim(&["diff", "--logs", s(&ex), "--role", "dev-app-role", "--current", s(&template), "--format", "json"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(d.stderr.contains("the policies of CDK role AppRole2A1B9C3D"), "{}", d.stderr);
}
