//! Athena and CloudTrail Lake sources. The SQL is snapshot-tested; the Athena query is run for
//! real on DuckDB over the examples (scripts/athena-duckdb.py, which documents the two dialect
//! differences) and its rows are served by the moto server's Athena (seeded through
//! /moto-api/static/athena/query-results) and by the loopback CloudTrail fake's Lake API
//! (paged, throttled). Both must give the policy of the same events read from files.

use std::process::Command;

use crate::fake_cloudtrail::{Behaviour, FakeCloudTrail};
use crate::s3::moto_url;
use crate::util::{examples, iamtrim, iamtrim_env, read_json, root, s, AWS_TEST_ENV};

const ATHENA: &str = "athena://cloudtrail.trail?output=s3://athena-results/iamtrim/";
const ROLE: &str = "arn:aws:iam::123456789012:role/dev-app-role";

fn snapshot(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/snapshots").join(name)).unwrap()
}

#[test]
fn generated_sql_matches_its_snapshots() {
    for (args, file) in [
        (vec!["--source", ATHENA, "--from", "2026-10-01", "--to", "2026-10-07"], "athena.sql"),
        (
            vec!["--source", "athena://cloudtrail.trail?partition=none", "--from", "2026-10-01", "--to", "2026-10-07"],
            "athena-no-partitions.sql",
        ),
        (
            vec![
                "--source",
                "lake://arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-07",
            ],
            "lake.sql",
        ),
        (
            vec![
                "--source",
                ATHENA,
                "--athena-create-table",
                "s3://acme-trail/AWSLogs/123456789012/CloudTrail/us-east-1/",
            ],
            "athena-create-table.sql",
        ),
    ] {
        let mut full = vec!["generate", "--role", ROLE, "--print-sql"];
        full.extend(args);
        let r = iamtrim(&full);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            r.stdout,
            snapshot(file),
            "{file} changed; if intended: iamtrim {} > tests/snapshots/{file}",
            full[1..].join(" ")
        );
    }
    // diff reads the same source, so it prints the same SQL.
    let g = iamtrim(&["generate", "--role", ROLE, "--source", ATHENA, "--print-sql"]);
    let d = iamtrim(&["diff", "--role", ROLE, "--source", ATHENA, "--print-sql"]);
    assert_eq!((d.code, d.stdout), (0, g.stdout));
    // A quote in a role name cannot break out of the literal.
    let r = iamtrim(&["generate", "--role", "a'b", "--source", ATHENA, "--print-sql"]);
    assert!(r.code != 0 || r.stdout.contains("'a''b'"), "{}", r.stdout);
}

/// Runs the Athena SQL on DuckDB over the examples; seeds moto and/or writes Lake rows.
fn duckdb(sql: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let sql_file = dir.path().join("q.sql");
    std::fs::write(&sql_file, sql).unwrap();
    let python = root().join(".venv/bin/python");
    let out = Command::new(&python)
        .arg(root().join("scripts/athena-duckdb.py"))
        .args(["--sql", s(&sql_file), "--logs", s(&examples())])
        .args(extra)
        .output()
        .unwrap_or_else(|e| {
            panic!("{}: {e}; run the tests with scripts/test, which installs duckdb", python.display())
        });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn local_report() -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim(&["generate", "--logs", s(&examples()), "--role", ROLE, "--report", s(&report), "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    read_json(&report)
}

#[test]
fn athena_sql_run_on_duckdb_and_served_by_moto_gives_the_local_policy() {
    let sql = iamtrim(&["generate", "--role", ROLE, "--source", ATHENA, "--print-sql"]).stdout;
    // Filtered to the role and grouped: 608 calls of the role in 337 distinct shapes, of 965 records.
    let said = duckdb(&sql, &["--seed-moto", &moto_url()]);
    assert!(said.contains("965 records loaded, 337 rows, 608 calls"), "{said}");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim_env(
        &["generate", "--source", ATHENA, "--role", ROLE, "--endpoint-url", &moto_url(), "--report", s(&report)],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap());
    assert!(r.stderr.contains("athena: query ") && r.stderr.contains("337 distinct call shapes"), "{}", r.stderr);
    // Every count of the role's calls equals the local run's.
    let (athena, local) = (read_json(&report), local_report());
    for k in ["records_matched", "records_mapped", "records_denied", "records_unmapped", "records_no_permission"] {
        assert_eq!(athena[k], local[k], "{k}");
    }
    assert_eq!(athena["action_details"], local["action_details"]);
    assert_eq!(athena["records_read"], 608, "the role filter ran in Athena");
    // The query moto received is the snapshot's.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let received = rt.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto_url())
            .credentials_provider(aws_sdk_athena::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        let c = aws_sdk_athena::Client::new(&config);
        let id = athena["source_stats"]["query_execution_id"].as_str().unwrap().to_string();
        let q = c.get_query_execution().query_execution_id(id).send().await.unwrap();
        q.query_execution().and_then(|e| e.query()).unwrap_or_default().to_string()
    });
    assert_eq!(received + "\n", sql);
}

#[test]
fn athena_results_page_through_throttling_and_give_the_local_policy() {
    // moto answers GetQueryResults in one page; the fake pages 100 rows at a time and throttles.
    let sql = iamtrim(&["generate", "--role", ROLE, "--source", ATHENA, "--print-sql"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let rows_file = dir.path().join("athena.json");
    duckdb(&sql, &["--athena-rows", s(&rows_file)]);
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    fake.set_athena_result(serde_json::from_str(&std::fs::read_to_string(&rows_file).unwrap()).unwrap());
    let r = iamtrim_env(&["generate", "--source", ATHENA, "--role", ROLE, "--endpoint-url", &fake.url], AWS_TEST_ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap());
    let (queries, pages, throttled) = fake.athena_log();
    assert_eq!(queries.last().cloned().unwrap() + "\n", sql);
    assert_eq!(pages, 4, "a header and 337 rows, 100 a page");
    assert!(throttled > 0, "the fake throttled some requests");
    assert!(
        r.stderr.contains("scanned 5.2 MB") && r.stderr.contains("337 distinct call shapes in 4 pages"),
        "{}",
        r.stderr
    );
}

#[test]
fn lake_results_page_through_throttling_and_give_the_local_policy() {
    let athena_sql = iamtrim(&["generate", "--role", ROLE, "--source", ATHENA, "--print-sql"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let rows_file = dir.path().join("rows.json");
    duckdb(&athena_sql, &["--lake-rows", s(&rows_file)]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&rows_file).unwrap()).unwrap();
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    fake.set_lake_rows(rows);
    let report = dir.path().join("r.json");
    let r = iamtrim_env(
        &[
            "generate",
            "--source",
            "lake://EXAMPLE-eds",
            "--role",
            ROLE,
            "--endpoint-url",
            &fake.url,
            "--report",
            s(&report),
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap());
    let (pages, throttled) = fake.lake_pages();
    assert_eq!(pages, 34, "337 rows, 10 a page");
    assert!(throttled > 0, "the fake throttled some requests");
    assert!(
        r.stderr.contains("lake: query q-1 scanned 650 events")
            && r.stderr.contains("337 distinct call shapes in 34 pages"),
        "{}",
        r.stderr
    );
    let statements = fake.lake_statements();
    let lake_sql = iamtrim(&["generate", "--role", ROLE, "--source", "lake://EXAMPLE-eds", "--print-sql"]).stdout;
    assert_eq!(statements.last().cloned().unwrap() + "\n", lake_sql);
    let (lake, local) = (read_json(&report), local_report());
    assert_eq!(lake["records_matched"], local["records_matched"]);
    assert_eq!(lake["action_details"], local["action_details"]);
}

/// Runs `iamtrim generate ARGS` over the examples twice, from the local files and from Athena
/// (the query run on DuckDB, its rows served by the fake with paging and throttling), and
/// returns both runs.
fn local_and_athena(args: &[&str]) -> (crate::util::Run, crate::util::Run) {
    let mut print = vec!["generate", "--source", ATHENA, "--print-sql"];
    print.extend_from_slice(args);
    let sql = iamtrim(&print).stdout;
    let dir = tempfile::tempdir().unwrap();
    let rows_file = dir.path().join("athena.json");
    duckdb(&sql, &["--athena-rows", s(&rows_file)]);
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    fake.set_athena_result(serde_json::from_str(&std::fs::read_to_string(&rows_file).unwrap()).unwrap());
    let mut remote = vec!["generate", "--source", ATHENA, "--endpoint-url", &fake.url];
    remote.extend_from_slice(args);
    let athena = iamtrim_env(&remote, AWS_TEST_ENV);
    let (queries, _, _) = fake.athena_log();
    assert_eq!(queries.last().cloned().unwrap() + "\n", sql, "the query run is the one printed");
    let ex = examples();
    let mut local = vec!["generate", "--logs", s(&ex)];
    local.extend_from_slice(args);
    (iamtrim(&local), athena)
}

#[test]
fn a_user_read_through_athena_gets_the_policy_of_the_local_files() {
    let (local, athena) = local_and_athena(&["--user", "alice"]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    assert_eq!(athena.code, 0, "{}", athena.stderr);
    assert_eq!(athena.stdout, local.stdout);
    assert!(
        athena.stdout.contains("s3:ListAllMyBuckets") && athena.stdout.contains("iam:GetRole"),
        "{}",
        athena.stdout
    );
}

#[test]
fn a_shared_role_split_through_athena_gives_the_split_of_the_local_files() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Leaked so the argument lists can borrow them for the whole test.
    let a: &'static str = Box::leak(s(dirs.0.path()).to_string().into_boxed_str());
    let b: &'static str = Box::leak(s(dirs.1.path()).to_string().into_boxed_str());
    for by in ["session", "user-agent", "source-ip", "invoked-by"] {
        let run = |out: &'static str| -> Vec<&'static str> {
            vec!["--role", "shared-lambda-role", "--split-by", by, "--output-dir", out]
        };
        let (local, _) = local_and_athena(&run(a));
        let (_, athena) = local_and_athena(&run(b));
        assert_eq!(local.code, 0, "{by}: {}", local.stderr);
        assert_eq!(athena.code, 0, "{by}: {}", athena.stderr);
        assert_eq!(athena.stdout, local.stdout, "{by}: the same table");
        if by == "session" {
            assert!(
                athena.stdout.contains("orders-api") && athena.stdout.contains("invoice-mailer"),
                "{}",
                athena.stdout
            );
            for f in ["shared-lambda-role-orders-api.json", "shared-lambda-role-invoice-mailer.json"] {
                let (x, y) = (
                    std::fs::read_to_string(dirs.0.path().join(f)).unwrap(),
                    std::fs::read_to_string(dirs.1.path().join(f)).unwrap(),
                );
                assert_eq!(x, y, "{f}");
            }
        }
    }
}

#[test]
fn an_audit_through_athena_finds_what_the_local_audit_finds() {
    // The query of every principal: no principal condition.
    let dir = tempfile::tempdir().unwrap();
    let t = iamtrim_env(&["generate", "--source", ATHENA, "--role", ROLE, "--print-sql"], &[]).stdout;
    let all = t.replace(
        "WHERE lower(useridentity.sessioncontext.sessionissuer.username) = 'dev-app-role'\n  AND useridentity.sessioncontext.sessionissuer.accountid = '123456789012'\n",
        "WHERE TRUE\n",
    );
    assert_ne!(all, t, "{t}");
    let rows_file = dir.path().join("athena.json");
    duckdb(&all, &["--athena-rows", s(&rows_file)]);
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    fake.set_athena_result(serde_json::from_str(&std::fs::read_to_string(&rows_file).unwrap()).unwrap());
    let auth = examples().join("auth-details.json");
    let (remote_out, local_out) = (dir.path().join("remote"), dir.path().join("local"));
    let r = iamtrim_env(
        &[
            "audit",
            "--source",
            ATHENA,
            "--endpoint-url",
            &fake.url,
            "--auth-details",
            s(&auth),
            "--out",
            s(&remote_out),
            "--format",
            "json",
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (queries, _, _) = fake.athena_log();
    assert_eq!(queries.last().cloned().unwrap() + "\n", all, "the audit's query is the role's without the role");
    let ex = examples();
    let l =
        iamtrim(&["audit", "--logs", s(&ex), "--auth-details", s(&auth), "--out", s(&local_out), "--format", "json"]);
    assert_eq!(l.code, 0, "{}", l.stderr);
    let (remote, local) = (read_json(&remote_out.join("audit.json")), read_json(&local_out.join("audit.json")));
    for (a, b) in remote["principals"].as_array().unwrap().iter().zip(local["principals"].as_array().unwrap()) {
        for k in ["arn", "records", "granted", "used", "unused", "findings", "used_actions"] {
            assert_eq!(a[k], b[k], "{} {k}", a["arn"]);
        }
    }
}
