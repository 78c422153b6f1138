//! `iamtrim review`: the roles of a template under review against what they did, as a
//! pull-request comment, SARIF pointing at the template's lines, and JSON, with the proof that
//! the trimmed policy grants nothing new.

use serde_json::Value;

use crate::fake_access_analyzer::{Behaviour, FakeAccessAnalyzer};
use crate::util::{examples, iamtrim, iamtrim_env, read_json, root, s, AWS_TEST_ENV};

fn review(extra: &[&str]) -> crate::util::Run {
    let ex = examples();
    let template = ex.join("template.yaml");
    let mut args = vec!["review", "--template", s(&template), "--logs", s(&ex)];
    args.extend_from_slice(extra);
    iamtrim(&args)
}

#[test]
fn the_examples_template_is_reviewed_for_a_pull_request() {
    let r = review(&["--format", "markdown", "--map", "InvoiceMailerRole=shared-lambda-role"]);
    assert_eq!(r.code, 3, "findings end a CI run with 3: {}", r.stderr);
    let md = r.stdout;
    assert!(md.starts_with("### ❌ iamtrim review: `2 roles · "), "{md}");
    // The template path is as given; the rows name the line, the activity and the counts.
    let row = |id: &str| {
        md.lines().find(|l| l.starts_with(&format!("| `{id}` |"))).unwrap_or_else(|| panic!("{id}: {md}")).to_string()
    };
    let dev = row("DevAppRole");
    assert!(
        dev.contains("template.yaml`:40 | `arn:aws:iam::123456789012:role/dev-app-role` | 20 | 519 | 4 | ❌ 1 counterexample(s) |"),
        "{dev}"
    );
    let mailer = row("InvoiceMailerRole");
    assert!(
        mailer.contains("template.yaml`:91 | `arn:aws:iam::123456789012:role/shared-lambda-role` | 5 | 12 | 3 |"),
        "matched by --map: {mailer}"
    );
    assert!(md.contains("**Used and not granted (would break):**") && md.contains("`ssm:GetParametersByPath`"), "{md}");
    assert!(md.contains("`Logs`: 131 actions never used"), "{md}");
    assert!(md.contains("PolicyName: iamtrim-trimmed"), "the patch in the template's language: {md}");
    assert!(md.contains("no new access"), "{md}");
}

#[test]
fn review_sarif_validates_and_points_at_the_statements_that_grant_what_was_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.sarif");
    let r = review(&["--format", "sarif", "--output", s(&out)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    crate::util::assert_valid_sarif(&out);
    let sarif = read_json(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let template = std::fs::read_to_string(examples().join("template.yaml")).unwrap();
    let lines: Vec<&str> = template.lines().collect();
    let mut checked = 0;
    for res in results.iter().filter(|r| r["ruleId"] == "IAMTRIM101") {
        let line = res["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap() as usize;
        let text = lines[line - 1];
        let message = res["message"]["text"].as_str().unwrap();
        // An inline statement's result is at its `- Sid:` line, a managed policy's at its ARN.
        if message.contains("dev-app-inline") {
            let sid = message.split_whitespace().nth(2).unwrap();
            assert!(text.contains(&format!("- Sid: {sid}")), "line {line} `{text}` for {message}");
        } else {
            assert!(text.contains("arn:aws:iam::aws:policy/"), "line {line} `{text}` for {message}");
        }
        checked += 1;
    }
    assert!(checked >= 9, "{results:?}");
    assert!(results.iter().any(|r| r["ruleId"] == "IAMTRIM102"), "the role that would break is a result");
    let prints: Vec<&Value> = results.iter().map(|r| &r["partialFingerprints"]).collect();
    assert!(prints.iter().all(|p| p["iamtrimReview/v1"].is_string()));
}

#[test]
fn review_json_carries_the_proof_and_a_role_without_activity_is_said() {
    let r = review(&["--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let roles = v["roles"].as_array().unwrap();
    let dev = roles.iter().find(|x| x["id"] == "DevAppRole").unwrap();
    assert_eq!(dev["matched_by"], "its name");
    let proof = &dev["no_new_access"];
    // The trimmed policy grants a call the template does not: the proof says so, with the reason.
    assert_eq!(proof["proven"], false);
    assert_eq!(proof["counterexamples"][0]["action"], "ssm:GetParametersByPath");
    let mailer = roles.iter().find(|x| x["id"] == "InvoiceMailerRole").unwrap();
    assert!(mailer["principal"].is_null() && mailer["diff"].is_null(), "no activity matched without --map: {mailer}");
    let bad = review(&["--role", "dev-app-role"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

fn review_with_access_analyzer(fake: &FakeAccessAnalyzer, extra: &[&str]) -> crate::util::Run {
    let ex = examples();
    let template = ex.join("template.yaml");
    let mut args = vec![
        "review",
        "--template",
        s(&template),
        "--logs",
        s(&ex),
        "--map",
        "InvoiceMailerRole=shared-lambda-role",
        "--check-no-new-access",
        "--endpoint-url",
        &fake.url,
    ];
    args.extend_from_slice(extra);
    iamtrim_env(&args, AWS_TEST_ENV)
}

#[test]
fn access_analyzer_is_asked_per_role_with_the_current_policies_merged_and_its_answer_is_beside_the_proof() {
    let fake = FakeAccessAnalyzer::start(Behaviour { throttle_first: 2, ..Behaviour::default() });
    let r = review_with_access_analyzer(&fake, &["--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(fake.throttled(), 2, "throttled calls are retried");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "one call per role with a trimmed policy");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // (role, a statement of its inline policy, one of an AWS managed policy attached to it)
    let roles =
        [("DevAppRole", "\"Sid\":\"Logs\"", "dax:*"), ("InvoiceMailerRole", "ses:SendEmail", "logs:CreateLogStream")];
    for (req, (id, inline, managed)) in requests.iter().zip(roles) {
        assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/policy/check-no-new-access"));
        assert_eq!(req.policy_type, "IDENTITY_POLICY");
        assert!(req.content_type.starts_with("application/json"), "{}", req.content_type);
        assert!(req.authorization.contains("/us-east-1/access-analyzer/aws4_request"), "{}", req.authorization);
        let role = v["roles"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap();
        // The new document is the trimmed policy, statement for statement.
        assert_eq!(req.new["Statement"], role["trimmed"]["Statement"], "{id}");
        let existing = req.existing.to_string();
        assert!(!existing.contains("${unknown:"), "an unknown value is never sent: {existing}");
        // One identity document of every policy of the role: inline statements and managed ones.
        assert!(existing.contains(inline) && existing.contains(managed), "{id}: {existing}");
        let aa = &role["access_analyzer"];
        assert_eq!(aa["result"], req.answer.as_str(), "{id}: the answer as given: {aa}");
        assert!(aa["message"].as_str().unwrap().contains("new access"), "{aa}");
        if req.answer == "FAIL" {
            assert!(
                aa["reasons"][0]["description"].as_str().unwrap().starts_with("New access in the statement"),
                "{aa}"
            );
            assert!(aa["reasons"][0]["statement_index"].is_number(), "{aa}");
        }
        assert!(
            r.stderr.contains(&format!("{id}: IAM Access Analyzer CheckNoNewAccess: {}", req.answer)),
            "{}",
            r.stderr
        );
    }
    // The PR comment shows it in the table and in the details.
    let md = review_with_access_analyzer(&fake, &["--format", "markdown"]).stdout;
    assert!(md.contains("· Access Analyzer "), "{md}");
    assert!(md.contains("**IAM Access Analyzer CheckNoNewAccess: "), "{md}");
}

#[test]
fn access_analyzer_refusing_the_check_names_the_permission_and_fails_the_review() {
    let fake = FakeAccessAnalyzer::start(Behaviour { deny: true, ..Behaviour::default() });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("review.sarif");
    let r = review_with_access_analyzer(&fake, &["--format", "sarif", "--output", s(&out)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("iamtrim needs access-analyzer:CheckNoNewAccess"), "{}", r.stderr);
    assert!(r.stderr.contains("DevAppRole: IAM Access Analyzer did not check the trimmed policy"), "{}", r.stderr);
    crate::util::assert_valid_sarif(&out);
    let sarif = read_json(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let aa: Vec<&Value> = results.iter().filter(|r| r["ruleId"] == "IAMTRIM104").collect();
    assert_eq!(aa.len(), 2, "each role the check could not be made for is a result: {results:?}");
    assert!(aa[0]["message"]["text"].as_str().unwrap().contains("ERROR"), "{:?}", aa[0]);
    assert_eq!(aa[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 40, "at the role's line");
}

#[test]
fn a_pass_from_access_analyzer_is_shown_and_is_no_finding_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("admin.yaml");
    std::fs::write(
        &template,
        "Resources:\n  DevAppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: dev-app-role\n      AssumeRolePolicyDocument: {}\n      Policies:\n        - PolicyName: everything\n          PolicyDocument:\n            Statement:\n              - Sid: Everything\n                Effect: Allow\n                Action: '*'\n                Resource: '*'\n",
    )
    .unwrap();
    let fake = FakeAccessAnalyzer::start(Behaviour::default());
    let ex = examples();
    let args =
        ["review", "--template", s(&template), "--logs", s(&ex), "--check-no-new-access", "--endpoint-url", &fake.url];
    let r = iamtrim_env(&[&args[..], &["--format", "json"]].concat(), AWS_TEST_ENV);
    assert_eq!(r.code, 3, "everything granted is mostly unused: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let role = &v["roles"][0];
    assert_eq!(role["access_analyzer"]["result"], "PASS", "{role}");
    assert_eq!(role["no_new_access"]["proven"], true);
    let sarif: Value =
        serde_json::from_str(&iamtrim_env(&[&args[..], &["--format", "sarif"]].concat(), AWS_TEST_ENV).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["ruleId"] != "IAMTRIM104" && r["ruleId"] != "IAMTRIM103"), "{results:?}");
    let md = iamtrim_env(&[&args[..], &["--format", "markdown"]].concat(), AWS_TEST_ENV).stdout;
    assert!(md.contains("✅ proven · Access Analyzer ✅ PASS"), "{md}");
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn the_readme_shows_the_examples_review_as_printed_with_and_without_map() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for extra in [&["--map", "InvoiceMailerRole=shared-lambda-role"][..], &[]] {
        // README runs it from the repository's root: the template's path as given there.
        let out = review(&[&["--format", "markdown"][..], extra].concat())
            .stdout
            .replace(&format!("{}/", root().display()), "");
        // The verdict line and the table, as README shows them.
        let head: Vec<&str> = out.lines().take_while(|l| !l.starts_with("<details>")).collect();
        let head = head.join("\n");
        assert!(readme.contains(head.trim_end()), "README.md does not show the review as printed:\n{head}");
    }
}

#[test]
fn one_run_writes_the_pull_request_comment_and_the_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("review.sarif");
    let both = review(&["--format", "markdown", "--sarif", s(&sarif)]);
    assert_eq!(both.code, 3, "{}", both.stderr);
    assert!(both.stdout.starts_with("### ❌ iamtrim review:"), "{}", both.stdout);
    let alone = review(&["--format", "sarif"]);
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), alone.stdout, "the same SARIF as --format sarif");
    // With Access Analyzer, each role is asked once for both.
    let fake = FakeAccessAnalyzer::start(Behaviour::default());
    let r = review_with_access_analyzer(&fake, &["--format", "markdown", "--sarif", s(&sarif)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn a_json_template_gets_its_trimmed_policy_as_json_that_pastes_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.json");
    let doc = serde_json::json!({"Resources": {"DevAppRole": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "dev-app-role", "AssumeRolePolicyDocument": {},
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "Policies": [{"PolicyName": "all", "PolicyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}}}});
    std::fs::write(&template, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let ex = examples();
    let r = iamtrim(&["review", "--template", s(&template), "--logs", s(&ex), "--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let role = &v["roles"][0];
    assert_eq!(role["patch_language"], "json");
    let patch = role["patch"].as_str().unwrap();
    // In place of the role's Policies: an object member, valid JSON once inside braces.
    let pasted: Value = serde_json::from_str(&format!("{{{patch}}}")).unwrap_or_else(|e| panic!("{e}: {patch}"));
    assert_eq!(pasted["Policies"][0]["PolicyName"], "iamtrim-trimmed");
    assert_eq!(pasted["Policies"][0]["PolicyDocument"], role["trimmed"]);
    let md = iamtrim(&["review", "--template", s(&template), "--logs", s(&ex), "--format", "markdown"]).stdout;
    assert!(
        md.contains(
            "(in place of the `Policies` and `ManagedPolicyArns` of `DevAppRole`):**\n\n```json\n\"Policies\": ["
        ),
        "{md}"
    );
    // The YAML template keeps its YAML patch.
    let y: Value = serde_json::from_str(&review(&["--format", "json"]).stdout).unwrap();
    assert_eq!(y["roles"][0]["patch_language"], "yaml");
}
