//! `iamtrim audit` of the examples' account: every principal in one pass, findings as a
//! security reviewer reads them, audit.json against its committed schema, audit.sarif against
//! the SARIF 2.1.0 schema, and report.html opened in headless Chromium.

use std::process::Command;

use serde_json::Value;

use crate::util::{examples, iamtrim, read_json, root, s};

fn auth_details() -> std::path::PathBuf {
    examples().join("auth-details.json")
}

/// Runs the README's audit into a fresh directory; returns it and the run.
fn audit(extra: &[&str]) -> (tempfile::TempDir, crate::util::Run) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let (ex, auth) = (examples(), auth_details());
    let mut args = vec!["audit", "--logs", s(&ex), "--auth-details", s(&auth), "--out", s(&out)];
    args.extend_from_slice(extra);
    let r = iamtrim(&args);
    (dir, r)
}

fn principal<'a>(a: &'a Value, name: &str) -> &'a Value {
    a["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not audited"))
}

fn kinds(p: &Value) -> Vec<String> {
    p["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_examples_account_is_audited_in_one_pass_with_the_findings_a_reviewer_needs() {
    let (dir, r) = audit(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = dir.path().join("report");
    for f in ["report.html", "audit.json", "audit.sarif", "audit.md", "audit.csv"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let a = read_json(&out.join("audit.json"));
    assert_eq!(a["schema"], "iamtrim-audit/1");
    assert_eq!(a["complete"], true);
    // The logs were read once: every record is in the count, the IAM file beside them is not a log.
    assert_eq!(a["records_read"], 965);
    let names: Vec<&str> = a["principals"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dev-app-role", "ci-deploy-role", "shared-lambda-role", "legacy-report-role", "alice", "bob"]);
    assert!(!r.stderr.contains("AWSServiceRoleForSupport"), "service-linked roles are left out by default");

    let dev = principal(&a, "dev-app-role");
    assert_eq!(dev["records"], 608);
    let risky: Vec<&str> = dev["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "risky-unused-permission")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    for a in ["iam:PassRole", "sts:AssumeRole", "lambda:UpdateFunctionCode"] {
        assert!(risky.contains(&a), "{a} is a risky unused grant of dev-app-role: {risky:?}");
    }
    let pass = dev["findings"].as_array().unwrap().iter().find(|f| f["subject"] == "iam:PassRole").unwrap();
    assert!(pass["message"].as_str().unwrap().contains("on *"), "{pass}");
    assert!(dev["unused"].as_u64().unwrap() > 100 && dev["used"].as_u64().unwrap() >= 15, "{dev}");
    let used = dev["used_actions"].as_array().unwrap();
    let get = used.iter().find(|u| u["action"] == "s3:GetObject").unwrap();
    assert!(get["last_used"].as_str().unwrap().starts_with("2026-10-07"), "{get}");
    assert!(dev["generated_policy"]["Statement"].as_array().unwrap().len() > 5);
    assert_eq!(dev["by_access_level"][0]["access_level"], "Permissions management");

    assert!(kinds(principal(&a, "ci-deploy-role")).contains(&"full-admin-grant".to_string()));
    for idle in ["legacy-report-role", "bob"] {
        let p = principal(&a, idle);
        assert_eq!(p["records"], 0);
        assert_eq!(kinds(p)[0], "no-activity", "{idle}");
        assert!(p["generated_policy"].is_null());
    }
    let alice = principal(&a, "alice");
    assert!(alice["records"].as_u64().unwrap() > 0);
    let policies: Vec<&str> = alice["policies"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(policies.contains(&"developers-inline (group developers inline)"), "{policies:?}");
    assert!(policies.contains(&"acme-developer-read (group developers attached)"), "{policies:?}");
    // The shared role's path is in its ARN; its activity was matched all the same.
    let shared = principal(&a, "shared-lambda-role");
    assert_eq!(shared["arn"], "arn:aws:iam::123456789012:role/service-role/shared-lambda-role");
    assert_eq!(shared["records"], 315);

    // The same findings in every format.
    let md = std::fs::read_to_string(out.join("audit.md")).unwrap();
    assert!(
        md.contains("| risky-unused-permission | IAMTRIM001 |")
            && md.contains("`arn:aws:iam::123456789012:role/dev-app-role`"),
        "{md}"
    );
    let csv = std::fs::read_to_string(out.join("audit.csv")).unwrap();
    let findings: usize =
        a["principals"].as_array().unwrap().iter().map(|p| p["findings"].as_array().unwrap().len().max(1)).sum();
    assert_eq!(csv.lines().count(), findings + 1, "{csv}");
    let sarif = read_json(&out.join("audit.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let total: usize =
        a["principals"].as_array().unwrap().iter().map(|p| p["findings"].as_array().unwrap().len()).sum();
    assert_eq!(results.len(), total);
    assert!(r.stderr.contains("6 principals (4 with activity)"), "{}", r.stderr);
}

#[test]
fn audit_json_and_sarif_validate_against_their_schemas() {
    let (dir, r) = audit(&["--format", "json,sarif"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = dir.path().join("report");
    assert!(!out.join("report.html").exists(), "only the formats asked for");
    let schema = root().join("docs/audit.schema.json");
    let validate = crate::util::validate_json;
    let (ok, said) = validate(&["--schema", s(&schema), s(&out.join("audit.json"))]);
    assert!(ok, "{said}");
    let (ok, said) = validate(&["--sarif", s(&out.join("audit.sarif"))]);
    assert!(ok, "{said}");
    // The validator does find errors: a SARIF without its version is refused.
    let mut broken = read_json(&out.join("audit.sarif"));
    broken.as_object_mut().unwrap().remove("version");
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    let (ok, said) = validate(&["--sarif", s(&bad)]);
    assert!(!ok && said.contains("version"), "{said}");
    // Stable fingerprints: a second run gives the same ones.
    let (dir2, _) = audit(&["--format", "sarif"]);
    let prints = |p: &std::path::Path| -> Vec<Value> {
        read_json(p)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&out.join("audit.sarif")), prints(&dir2.path().join("report/audit.sarif")));
    let sarif = read_json(&out.join("audit.sarif"));
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(rule["properties"]["security-severity"].as_str().unwrap().parse::<f64>().is_ok(), "{rule}");
    }
}

#[test]
fn fail_on_thresholds_end_a_ci_run_with_exit_3() {
    let (_d, r) = audit(&["--format", "json", "--fail-on", "risky-unused"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let (_d, r) = audit(&["--format", "json", "--fail-on", "unused-above=100"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_d, r) = audit(&["--format", "json", "--fail-on", "unused-above=50"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let (_d, r) = audit(&["--format", "json", "--fail-on", "everything"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Patterns choose the principals.
    let (d, r) = audit(&["--format", "json", "--include", "*-role", "--exclude", "ci-*"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = read_json(&d.path().join("report/audit.json"));
    let names: Vec<&str> = a["principals"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dev-app-role", "shared-lambda-role", "legacy-report-role"]);
    let r = iamtrim(&["audit", "--logs", s(&examples()), "--auth-details", s(&auth_details()), "--role", "x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_html_report_renders_in_chromium_with_its_charts_and_findings() {
    let (dir, r) = audit(&["--format", "html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = dir.path().join("report/report.html");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("http://") && !text.contains("https://") && !text.contains("src="),
        "self-contained, no network"
    );
    let profile = tempfile::tempdir().unwrap();
    let chromium = |extra: &[&str]| {
        let o = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap_or_else(|e| panic!("chromium: {e}; scripts/test installs it (Debian package chromium)"));
        (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (dom, log) = chromium(&["--dump-dom", "--virtual-time-budget=2000"]);
    // The page's script ran to its end, and nothing was logged as an error by it.
    assert!(dom.contains("data-ready=\"yes\""), "the script did not run: {log}");
    for line in log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")) {
        assert!(!line.contains("Uncaught") && !line.to_lowercase().contains("error"), "console: {line}");
    }
    for needle in [
        "arn:aws:iam::123456789012:role/dev-app-role",
        "legacy-report-role",
        "id=\"overview-chart\"",
        "class=\"bar-used\"",
        "risky-unused-permission",
        "IAMTRIM002",
        "Copy</button>",
    ] {
        assert!(dom.contains(needle), "{needle} not in the rendered page");
    }
    // A screenshot of the rendered page, as README shows it.
    let shot = dir.path().join("report.png");
    let _ = chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1280,1600", "--hide-scrollbars"]);
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
}

#[test]
fn an_incomplete_read_says_so_everywhere_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for f in crate::util::example_files().iter().take(10) {
        std::fs::copy(f, logs.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(logs.join("broken.json"), "{\"Records\": [ {\"eventSource\": ").unwrap();
    let out = dir.path().join("report");
    let r = iamtrim(&["audit", "--logs", s(&logs), "--auth-details", s(&auth_details()), "--out", s(&out)]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let a = read_json(&out.join("audit.json"));
    assert_eq!(a["complete"], false);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("INCOMPLETE"));
    let md = std::fs::read_to_string(out.join("audit.md")).unwrap();
    assert!(md.contains("not seen in what could be read"));
    let dev = principal(&a, "dev-app-role");
    assert!(
        dev["findings"].as_array().unwrap().iter().all(|f| !f["message"].as_str().unwrap().contains("never used")),
        "{dev}"
    );
}

#[test]
fn a_team_boundary_covers_every_call_of_its_principals_at_the_container_level() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("boundary.json");
    let ex = examples();
    let r = iamtrim(&["boundary", "--logs", s(&ex), "--principals", "dev-app-*", "*shared*", "--output", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("boundary for 2 principals"), "{}", r.stderr);
    assert!(r.stderr.contains("accounts 123456789012 · regions us-east-1"), "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("arn:aws:dynamodb:us-east-1:123456789012:*"), "{text}");
    assert!(text.contains("arn:aws:s3:::acme-invoices/*"), "{text}");
    assert!(!text.contains(":table/orders"), "resources are cut to their container: {text}");
    assert!(!text.contains("cloudformation:UpdateStack"), "the CI role's calls are not in it: {text}");
    // Each principal's own calls, replayed against the boundary: none refused.
    for role in ["dev-app-role", "shared-lambda-role"] {
        let replay = iamtrim(&["replay", "--role", role, "--logs", s(&ex), "--policy", s(&out)]);
        assert_eq!(replay.code, 0, "{role}: {}", replay.stderr);
    }
    for format in ["terraform", "cloudformation", "sam"] {
        let f = iamtrim(&["boundary", "--logs", s(&ex), "--principals", "dev-app-role", "--format", format, "--quiet"]);
        assert_eq!(f.code, 0, "{format}: {}", f.stderr);
        assert!(
            f.stdout.contains("team-boundary") || f.stdout.contains("TeamBoundary") || format == "sam",
            "{format}: {}",
            f.stdout
        );
    }
    let none = iamtrim(&["boundary", "--logs", s(&ex), "--principals", "nobody-*"]);
    assert_eq!(none.code, 5, "{}", none.stderr);
    let bad = iamtrim(&["boundary", "--logs", s(&ex), "--principals", "x", "--name", "a b"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn audits_kept_in_the_store_show_each_principals_trend_and_what_changed_since_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.sqlite");
    let ex = examples();
    let run = |auth: &std::path::Path, out: &str| {
        let out = dir.path().join(out);
        let r = iamtrim(&[
            "audit",
            "--logs",
            s(&ex),
            "--auth-details",
            s(auth),
            "--store",
            s(&db),
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-07",
            "--out",
            s(&out),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        (r, out)
    };
    let (r, first) = run(&auth_details(), "first");
    assert!(r.stderr.contains("7 days read from the source (98 files, 965 records"), "{}", r.stderr);
    assert!(r.stderr.contains("the first of this source"), "{}", r.stderr);
    let a1 = read_json(&first.join("audit.json"));
    assert!(a1.get("previous_audit").is_none());
    let dev1 = principal(&a1, "dev-app-role");
    assert_eq!(dev1["trend"].as_array().unwrap().len(), 1);
    assert!(dev1.get("changes").is_none());

    // A week later the dev-era managed policies of dev-app-role are gone.
    let mut details = read_json(&auth_details());
    for role in details["RoleDetailList"].as_array_mut().unwrap() {
        if role["RoleName"] == "dev-app-role" {
            role["AttachedManagedPolicies"] = serde_json::json!([]);
        }
    }
    let trimmed = dir.path().join("trimmed-auth-details.json");
    std::fs::write(&trimmed, details.to_string()).unwrap();
    let (r, second) = run(&trimmed, "second");
    // Every day came from the store: the logs were not read again, and nothing was lost.
    assert!(r.stderr.contains("7 days from the store (965 records), 0 days read from the source"), "{}", r.stderr);
    let a2 = read_json(&second.join("audit.json"));
    assert_eq!(a2["records_read"], 965);
    assert_eq!(principal(&a2, "dev-app-role")["records"], 608);
    assert!(a2["previous_audit"].as_str().unwrap().starts_with("20"), "{a2}");
    let dev = principal(&a2, "dev-app-role");
    let granted: Vec<u64> = dev["trend"].as_array().unwrap().iter().map(|t| t["granted"].as_u64().unwrap()).collect();
    assert!(granted.len() == 2 && granted[1] < granted[0], "{granted:?}");
    let c = &dev["changes"];
    assert!(c["granted_delta"].as_i64().unwrap() < 0, "{c}");
    let gone: Vec<&str> = c["no_longer_granted"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(gone.contains(&"s3:DeleteBucket") && gone.contains(&"dynamodb:DeleteTable"), "{gone:?}");
    assert!(c["newly_granted"].as_array().unwrap().is_empty(), "{c}");
    let ci = &principal(&a2, "ci-deploy-role")["changes"];
    assert_eq!((ci["granted_delta"].as_i64(), ci["new_findings"].as_array().unwrap().len()), (Some(0), 0), "{ci}");

    // Shown where people look, and still valid against the schema.
    let html = std::fs::read_to_string(second.join("report.html")).unwrap();
    assert!(html.contains("trend-chart") && html.contains("id=\"since-last-audit\""), "html");
    let md = std::fs::read_to_string(second.join("audit.md")).unwrap();
    assert!(md.contains("## Since the last audit"), "{md}");
    let (ok, said) = crate::util::validate_json(&[
        "--schema",
        s(&root().join("docs/audit.schema.json")),
        s(&second.join("audit.json")),
    ]);
    assert!(ok, "{said}");
}
