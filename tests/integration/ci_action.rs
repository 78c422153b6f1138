//! The GitHub Action (action.yml) and the pre-commit hook (.pre-commit-hooks.yaml), run here the
//! way CI runs them: the same script, on the examples.

use std::process::Command;

use crate::util::{examples, read_json, root, s};

fn action(env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action.sh")).arg("review").env("IAMTRIM_BIN", env!("CARGO_BIN_EXE_iamtrim"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.current_dir(root()).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn the_actions_review_step_writes_sarif_a_summary_and_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (out, summary) = (dir.path().join("output"), dir.path().join("summary.md"));
    let (sarif, markdown) = (dir.path().join("review.sarif"), dir.path().join("review.md"));
    let template = examples().join("template.yaml");
    let ex = examples();
    let env = [
        ("INPUT_TEMPLATES", s(&template)),
        ("INPUT_LOGS", s(&ex)),
        ("INPUT_ARGS", "--map InvoiceMailerRole=shared-lambda-role"),
        ("INPUT_SARIF", s(&sarif)),
        ("INPUT_MARKDOWN", s(&markdown)),
        ("GITHUB_OUTPUT", s(&out)),
        ("GITHUB_STEP_SUMMARY", s(&summary)),
    ];
    let (code, stderr) = action(&env);
    assert_eq!(code, 0, "findings do not fail the job unless asked: {stderr}");
    let outputs = std::fs::read_to_string(&out).unwrap();
    assert!(outputs.contains("findings=true") && outputs.contains("exit-code=3"), "{outputs}");
    let shown = std::fs::read_to_string(&summary).unwrap();
    assert!(shown.starts_with("### ❌ iamtrim review: `2 roles"), "{shown}");
    assert_eq!(read_json(&sarif)["version"], "2.1.0");
    crate::util::assert_valid_sarif(&sarif);
    let mut failing = env.to_vec();
    failing.push(("INPUT_FAIL_ON_FINDINGS", "true"));
    let (code, _) = action(&failing);
    assert_eq!(code, 1, "fail-on-findings fails the job");
    // action.yml runs these same steps, then uploads the SARIF and comments the markdown.
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for step in ["scripts/action.sh\" install", "scripts/action.sh\" review", "upload-sarif", "gh pr comment"] {
        assert!(yml.contains(step), "{step}");
    }
}

#[test]
fn the_pre_commit_hook_reviews_the_templates_committed_and_leaves_other_files_alone() {
    let hook = root().join("scripts/pre-commit-review.sh");
    let run = |files: &[&str]| {
        let o = Command::new("bash")
            .arg(&hook)
            .args(["--map", "InvoiceMailerRole=shared-lambda-role"])
            .args(files)
            .env("IAMTRIM_BIN", env!("CARGO_BIN_EXE_iamtrim"))
            .env("IAMTRIM_LOGS", s(&examples()))
            .current_dir(root())
            .output()
            .unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let (code, out) = run(&["examples/template.yaml", "Cargo.toml"]);
    assert_eq!(code, 1, "findings fail the commit: {out}");
    assert!(out.contains("DevAppRole (examples/template.yaml:40)"), "{out}");
    let (code, out) = run(&["examples/auth-details.json", "Cargo.toml"]);
    assert_eq!((code, out.as_str()), (0, ""), "no template, nothing to review");
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("entry: scripts/pre-commit-review.sh"));
}
