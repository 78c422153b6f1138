//! The generated policies pass the linters reviewers use: parliament (IAM JSON) and cfn-lint
//! (CloudFormation), from the project venv that scripts/test installs (IAMTRIM_TEST_VENV). On the
//! examples and on every role of the panther corpus with at least 5 events: self-check N/N,
//! parliament without errors, within 6,144 characters or split with a message.

use std::collections::BTreeMap;
use std::process::Command;

use crate::util::{examples, iamtrim, panther, root, s};

fn venv_python() -> String {
    let venv = std::env::var("IAMTRIM_TEST_VENV").unwrap_or_else(|_| {
        panic!("IAMTRIM_TEST_VENV is not set: run the tests with scripts/test, which installs parliament and cfn-lint")
    });
    format!("{venv}/bin/python")
}

/// Role ARNs of the panther corpus with at least `min` events.
fn panther_roles(min: usize) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(panther()).unwrap()).unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in doc["Records"].as_array().unwrap() {
        if let Some(arn) = r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"].as_str() {
            *counts.entry(arn.to_string()).or_default() += 1;
        }
    }
    counts.into_iter().filter(|(_, n)| *n >= min).map(|(a, _)| a).collect()
}

#[test]
fn generated_policies_pass_parliament_and_cfn_lint() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let ex = examples();
    for (format, file, conditions) in [
        ("json", "examples.json", false),
        ("cloudformation", "examples.cfn.yaml", false),
        ("json", "examples.conditions.json", true),
        ("cloudformation", "examples.conditions.cfn.yaml", true),
    ] {
        let out = dir.path().join(file);
        let mut args =
            vec!["generate", "--logs", s(&ex), "--role", "dev-app-role", "--format", format, "--output", s(&out)];
        if conditions {
            args.push("--conditions");
        }
        let r = iamtrim(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        files.push(out);
    }
    let roles = panther_roles(5);
    assert!(roles.len() >= 8, "{roles:?}");
    for (i, role) in roles.iter().enumerate() {
        let out = dir.path().join(format!("panther-{i}.json"));
        let r = iamtrim(&["generate", "--logs", s(&panther()), "--role", role, "--output", s(&out)]);
        assert_eq!(r.code, 0, "{role}: {}", r.stderr);
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains("self-check: allows"))
            .unwrap_or_else(|| panic!("{role}: no self-check line: {}", r.stderr));
        let counts = line.split("allows ").nth(1).unwrap().split(' ').next().unwrap();
        let (a, b) = counts.split_once('/').unwrap();
        assert_eq!(a, b, "{role}: {line}");
        let fits = !r.stderr.contains("over the 6144-character limit") || r.stderr.contains("pass --output-dir");
        assert!(fits, "{role}: neither fits nor says how to split: {}", r.stderr);
        if std::fs::read_to_string(&out).unwrap().contains("\"Statement\": []") {
            continue;
        }
        files.push(out);
    }
    let lint = Command::new(venv_python())
        .arg(root().join("scripts/lint-policies.py"))
        .args(&files)
        .output()
        .expect("run scripts/lint-policies.py");
    let report = String::from_utf8_lossy(&lint.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&lint.stderr));
    assert!(lint.status.success(), "lint errors:\n{report}");
    assert_eq!(report.matches("parliament ").count() + report.matches("cfn-lint ").count(), files.len());
}

#[test]
fn generated_terraform_is_terraform_fmt_clean() {
    let formatter = root().join(".npm-tools/node_modules/@cdktf/hcl-tools");
    assert!(
        formatter.is_dir(),
        "{} is missing: run the tests with scripts/test, which installs it",
        formatter.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let ex = examples();
    let mut files = Vec::new();
    for (style, role, logs, conditions) in [
        ("resource", "dev-app-role", ex.clone(), false),
        ("document", "dev-app-role", ex.clone(), false),
        ("resource", "dev-app-role", ex.clone(), true),
        ("document", "dev-app-role", ex.clone(), true),
        ("resource", "arn:aws:iam::123456789012:role/tester", panther(), false),
        ("document", "arn:aws:iam::123456789012:role/tester", panther(), false),
    ] {
        let out = dir.path().join(format!("{}-{style}.tf", files.len()));
        let mut args = vec![
            "generate",
            "--logs",
            s(&logs),
            "--role",
            role,
            "--format",
            "terraform",
            "--terraform-style",
            style,
            "--output",
            s(&out),
            "--quiet",
        ];
        if conditions {
            args.push("--conditions");
        }
        let r = iamtrim(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        files.push(out);
    }
    let check = Command::new("node")
        .arg(root().join("scripts/hcl-fmt-check.js"))
        .args(&files)
        .output()
        .expect("run node scripts/hcl-fmt-check.js");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}{}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(report.matches("fmt-clean ").count(), files.len(), "{report}");
}
