//! `--store`: usage kept per role and day in SQLite; a second run over an overlapping window
//! reads from the source only the days the store does not hold, and gives the policy and counts
//! of a run without the store.

use crate::util::{examples, iamtrim, read_json, s};

fn run(store: &std::path::Path, from: &str, to: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let r = iamtrim(&[
        "generate",
        "--logs",
        s(&examples()),
        "--role",
        "dev-app-role",
        "--from",
        from,
        "--to",
        to,
        "--store",
        s(store),
        "--report",
        s(&report),
        "--quiet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rep = read_json(&report);
    rep["policy_text"] = serde_json::Value::String(r.stdout);
    rep
}

fn days(v: &serde_json::Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect()
}

#[test]
fn a_second_run_reads_only_the_days_the_store_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usage.sqlite");
    let first = run(&db, "2026-10-01", "2026-10-04");
    assert_eq!(days(&first["source_stats"]["days_read"]), ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]);
    assert_eq!(first["source_stats"]["days_stored"], 4);

    let second = run(&db, "2026-10-03", "2026-10-07");
    assert_eq!(days(&second["source_stats"]["days_from_store"]), ["2026-10-03", "2026-10-04"]);
    assert_eq!(days(&second["source_stats"]["days_read"]), ["2026-10-05", "2026-10-06", "2026-10-07"]);
    // Source reads: exactly those of a run over the three new days alone; the stored days'
    // counts come from the store (and the totals still reconcile).
    let fresh = run(&dir.path().join("fresh.sqlite"), "2026-10-05", "2026-10-07");
    assert_eq!(second["source_stats"]["files_read_from_source"], fresh["files_read"]);
    assert_eq!(second["source_stats"]["records_read_from_source"], fresh["records_read"]);
    let stored = run(&dir.path().join("other.sqlite"), "2026-10-03", "2026-10-04");
    assert_eq!(second["source_stats"]["records_from_store"], stored["records_read"]);
    assert_eq!(
        second["records_read"].as_u64().unwrap(),
        fresh["records_read"].as_u64().unwrap() + stored["records_read"].as_u64().unwrap()
    );

    // The same policy and counts of the role's calls as without the store.
    let plain_report = dir.path().join("plain.json");
    let plain = iamtrim(&[
        "generate",
        "--logs",
        s(&examples()),
        "--role",
        "dev-app-role",
        "--from",
        "2026-10-03",
        "--to",
        "2026-10-07",
        "--report",
        s(&plain_report),
        "--quiet",
    ]);
    assert_eq!(second["policy_text"].as_str().unwrap(), plain.stdout);
    let plain = read_json(&plain_report);
    for k in
        ["records_matched", "records_mapped", "records_denied", "records_no_permission", "action_details", "denied"]
    {
        assert_eq!(second[k], plain[k], "{k}");
    }

    // What the store holds.
    let info = iamtrim(&["store", "info", "--store", s(&db)]);
    assert_eq!(info.code, 0, "{}", info.stderr);
    assert!(
        info.stdout.contains("dev-app-role · logs:") && info.stdout.contains("7 days, 2026-10-01 to 2026-10-07"),
        "{}",
        info.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&iamtrim(&["store", "info", "--store", s(&db), "--json"]).stdout).unwrap();
    assert_eq!(json[0]["days"], 7);
    assert_eq!(
        json[0]["records_matched"],
        plain["records_matched"].as_u64().unwrap()
            + run(&dir.path().join("x.sqlite"), "2026-10-01", "2026-10-02")["records_matched"].as_u64().unwrap()
    );
}

#[test]
fn the_store_needs_a_window_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let r = iamtrim(&[
        "generate",
        "--logs",
        s(&examples()),
        "--role",
        "dev-app-role",
        "--store",
        s(&dir.path().join("u.sqlite")),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--store keeps usage per day: give a window"), "{}", r.stderr);
    let r = iamtrim(&["store", "info", "--store", s(&dir.path().join("none.sqlite"))]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no usage store at"), "{}", r.stderr);
}
