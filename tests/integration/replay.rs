//! `iamtrim replay`: the policy learned on the first week of the examples, replayed against the
//! two weeks after it (`examples-later/`: new dated keys and log streams, a new Lambda version,
//! no new behaviour).

use crate::util::{examples, iamtrim, root, s};

fn learned(dir: &std::path::Path, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join("learned.json");
    let ex = examples();
    let mut args = vec!["generate", "--logs", s(&ex), "--role", "dev-app-role", "--quiet", "--output", s(&out)];
    args.extend_from_slice(extra);
    let r = iamtrim(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

fn replay(policy: &std::path::Path) -> (i32, serde_json::Value) {
    let later = root().join("examples-later");
    let r =
        iamtrim(&["replay", "--policy", s(policy), "--logs", s(&later), "--role", "dev-app-role", "--format", "json"]);
    (r.code, serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr)))
}

#[test]
fn the_policy_learned_on_one_week_allows_every_call_of_the_next_two() {
    let dir = tempfile::tempdir().unwrap();
    let policy = learned(dir.path(), &[]);
    let (code, v) = replay(&policy);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["calls"], 1204);
    assert_eq!(v["allowed_calls"], 1204);
    assert_eq!(v["allowed_share"], 1.0);
    assert!(v["refused"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["complete"], true);
}

#[test]
fn no_statement_of_the_learned_policy_is_wider_than_its_container() {
    let dir = tempfile::tempdir().unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(learned(dir.path(), &[])).unwrap()).unwrap();
    for st in policy["Statement"].as_array().unwrap() {
        for r in st["Resource"].as_array().unwrap() {
            let r = r.as_str().unwrap();
            assert_ne!(r, "*", "{st}");
            let (container, path) = iamtrim::synth::container_and_path(r);
            assert!(!container.contains('*'), "{r}: the container {container} is widened");
            // A pattern keeps the stable path before the varying segment: `uploads/*`, `log-stream:*`.
            if let Some(stable) = path.strip_suffix('*') {
                assert!(!stable.is_empty() && !stable.contains('*'), "{r}");
            }
        }
    }
}

#[test]
fn a_policy_that_copied_the_names_refuses_the_new_days_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let policy = learned(dir.path(), &["--resources", "exact"]);
    let (code, v) = replay(&policy);
    assert_eq!(code, 3, "refused calls exit 3: {v}");
    let refused: Vec<(&str, &str)> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["resource"].as_str().unwrap()))
        .collect();
    assert!(refused.contains(&(
        "logs:CreateLogStream",
        "arn:aws:logs:us-east-1:123456789012:log-group:/dev/app:log-stream:2026/10/08/app"
    )));
    assert!(refused.contains(&("s3:PutObject", "arn:aws:s3:::acme-dev-archive/archive/2026/10/21/report-0.csv")));
    // Only names that differ by a date are refused: every action is still granted.
    assert!(refused.iter().all(|(_, r)| r.contains("2026/10/")), "{refused:?}");
    assert!((v["allowed_share"].as_f64().unwrap() - 896.0 / 1204.0).abs() < 1e-9, "{v}");
}

#[test]
fn replay_refuses_a_policy_it_cannot_read_before_reading_logs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"Statement":[{"Effect":"Permit","Action":"s3:*"}]}"#).unwrap();
    let ex = examples();
    let r = iamtrim(&["replay", "--policy", s(&bad), "--logs", s(&ex), "--role", "dev-app-role"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("`Effect` is `Permit`"), "{}", r.stderr);
}
