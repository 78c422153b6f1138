//! `iamtrim review`: the roles of a template under review against what they did, as a
//! pull-request comment, SARIF pointing at the template's lines, and JSON, with the proof that
//! the trimmed policy grants nothing new.

use std::process::Command;

use serde_json::Value;

use crate::util::{examples, iamtrim, read_json, root, s};

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
    let o = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/validate-json.py"))
        .args(["--sarif", s(&out)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
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
