//! Bad input: each case names the file (and record) on stderr, is counted as rejected, is a gap
//! that makes the run INCOMPLETE (exit 4 unless --allow-incomplete), and the run goes on. Exit 1
//! when nothing at all was readable.

use std::io::Write;
use std::path::Path;

use crate::util::{assert_reconciles, examples, iamtrim, read_json, s};

const GOOD_RECORD: &str = r#"{"eventTime":"2026-10-01T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","awsRegion":"us-east-1","recipientAccountId":"123456789012","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/dev-app-role/s","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::123456789012:role/dev-app-role"}}},"requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/good"}}"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A directory holding one good trail file and one file per kind of bad input.
fn bad_dir(dir: &Path) {
    let good = format!(r#"{{"Records":[{GOOD_RECORD}]}}"#);
    std::fs::write(dir.join("good.json.gz"), gzip(good.as_bytes())).unwrap();
    // Truncated gzip: two good records, cut inside the second.
    let two = format!(r#"{{"Records":[{GOOD_RECORD},{}]}}"#, GOOD_RECORD.replace("good", "second"));
    let gz = gzip(two.as_bytes());
    std::fs::write(dir.join("truncated.json.gz"), &gz[..gz.len() * 2 / 3]).unwrap();
    // Invalid JSON in the middle of a log.
    std::fs::write(dir.join("invalid.json"), format!(r#"{{"Records":[{GOOD_RECORD},{{"eventSource": oops}}]}}"#)).unwrap();
    // Records missing required fields.
    let missing = [
        GOOD_RECORD.replace(r#""eventSource":"sqs.amazonaws.com","#, ""),
        GOOD_RECORD.replace(r#""eventName":"SendMessage","#, ""),
        r#"{"eventTime":"2026-10-01T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage"}"#.to_string(),
    ];
    std::fs::write(dir.join("missing-fields.json"), format!(r#"{{"Records":[{}]}}"#, missing.join(","))).unwrap();
    // A record with bytes that are not UTF-8, beside a good one.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(br#"{"Records":["#);
    bytes.extend_from_slice(GOOD_RECORD.replace("good", "bad\u{1}").replace('\u{1}', "").as_bytes());
    let bad_pos = bytes.windows(3).position(|w| w == b"bad").unwrap() + 3;
    bytes.splice(bad_pos..bad_pos, [0xff, 0xfe]);
    bytes.push(b',');
    bytes.extend_from_slice(GOOD_RECORD.replace("good", "utf8ok").as_bytes());
    bytes.extend_from_slice(b"]}");
    std::fs::write(dir.join("not-utf8.json"), bytes).unwrap();
    // An empty file.
    std::fs::write(dir.join("empty.json"), b"").unwrap();
}

#[test]
fn every_kind_of_bad_input_is_named_counted_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    bad_dir(dir.path());
    let report = dir.path().join("report.out");
    let r = iamtrim(&["generate", "--logs", s(dir.path()), "--role", "dev-app-role", "--report", s(&report)]);
    assert_eq!(r.code, 4, "INCOMPLETE: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(lines[0].starts_with("iamtrim: INCOMPLETE (5 gaps): role dev-app-role"), "{}", r.stderr);
    assert!(lines.last().unwrap().starts_with("iamtrim: INCOMPLETE: 5 gaps"), "{}", r.stderr);
    // Good records from every file that has them are used.
    for q in ["good", "utf8ok"] {
        assert!(r.stdout.contains(&format!("arn:aws:sqs:us-east-1:123456789012:{q}")), "{q}: {}", r.stdout);
    }
    let invalid_first = r.stdout.matches("arn:aws:sqs:us-east-1:123456789012:good").count();
    assert_eq!(invalid_first, 1);
    let rep = read_json(&report);
    assert_reconciles(&rep);
    let rejected = rep["rejected"].as_array().unwrap();
    let find = |file: &str, needle: &str| {
        rejected
            .iter()
            .find(|x| x["file"].as_str().unwrap().ends_with(file) && x["reason"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no rejection of {file} with `{needle}` in {rejected:#?}"))
            .clone()
    };
    assert_eq!(find("truncated.json.gz", "gzip")["file"].as_str().map(|f| f.ends_with("truncated.json.gz")), Some(true));
    assert_eq!(find("invalid.json", "invalid JSON")["location"], "Records[1]");
    assert_eq!(find("missing-fields.json", "missing `eventSource`")["location"], "Records[0]");
    assert_eq!(find("missing-fields.json", "missing `eventName`")["location"], "Records[1]");
    assert_eq!(find("missing-fields.json", "missing `userIdentity`")["location"], "Records[2]");
    assert_eq!(find("not-utf8.json", "not valid UTF-8")["location"], "Records[0]");
    assert_eq!(find("empty.json", "empty file")["location"], "file");
    // And each is named on stderr with its record.
    for needle in ["truncated.json.gz", "invalid.json: Records[1]", "missing-fields.json: Records[2]", "not-utf8.json: Records[0]", "empty.json"] {
        assert!(r.stderr.contains(needle), "stderr lacks {needle}: {}", r.stderr);
    }
    assert_eq!(rep["records_rejected"].as_u64().unwrap(), rejected.len() as u64);
    // One gap per file that could not be read whole, naming it.
    assert_eq!(rep["complete"], false);
    let gaps = rep["gaps"].as_array().unwrap();
    for file in ["truncated.json.gz", "invalid.json", "missing-fields.json", "not-utf8.json", "empty.json"] {
        assert!(gaps.iter().any(|g| g["where"].as_str().unwrap().ends_with(file)), "no gap for {file}: {gaps:#?}");
    }
    let missing = gaps.iter().find(|g| g["where"].as_str().unwrap().ends_with("missing-fields.json")).unwrap();
    assert_eq!((missing["kind"].as_str(), missing["records"].as_u64()), (Some("records"), Some(3)));
    // --allow-incomplete: the same policy, still marked INCOMPLETE, exit 0.
    let allowed = iamtrim(&["generate", "--logs", s(dir.path()), "--role", "dev-app-role", "--allow-incomplete"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert_eq!(allowed.stdout, r.stdout);
    assert!(allowed.stderr.lines().last().unwrap().starts_with("iamtrim: INCOMPLETE: 5 gaps"), "{}", allowed.stderr);
}

#[test]
fn strict_turns_rejections_into_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    bad_dir(dir.path());
    let r = iamtrim(&["generate", "--logs", s(dir.path()), "--role", "dev-app-role", "--strict"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stdout.contains("sqs:SendMessage"), "the policy is still written");
    let clean = iamtrim(&["generate", "--logs", s(&examples()), "--role", "dev-app-role", "--strict", "--quiet"]);
    assert_eq!(clean.code, 0);
}

#[test]
fn nothing_readable_is_an_error_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a log").unwrap();
    let r = iamtrim(&["generate", "--logs", s(dir.path()), "--role", "dev-app-role"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no CloudTrail log files"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let only_bad = tempfile::tempdir().unwrap();
    std::fs::write(only_bad.path().join("empty.json"), b"").unwrap();
    std::fs::write(only_bad.path().join("junk.json"), b"\x00\x01 not json").unwrap();
    let r = iamtrim(&["generate", "--logs", s(only_bad.path()), "--role", "dev-app-role"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("empty.json") && r.stderr.contains("junk.json"), "{}", r.stderr);
    assert!(r.stderr.contains("rejected"), "{}", r.stderr);

    let missing = dir.path().join("no-such-dir");
    let r = iamtrim(&["generate", "--logs", s(&missing), "--role", "dev-app-role"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no-such-dir") && r.stderr.contains("cannot open"), "{}", r.stderr);
}

#[test]
fn a_missing_path_beside_good_ones_is_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let r = iamtrim(&["generate", "--logs", s(&examples()), s(&dir.path().join("gone.json")), "--role", "dev-app-role", "--quiet"]);
    assert_eq!(r.code, 4, "a path that cannot be read is a gap: {}", r.stderr);
    assert!(r.stderr.starts_with("iamtrim: INCOMPLETE (1 gap)"), "even --quiet says so: {}", r.stderr);
    assert!(r.stderr.contains("gone.json: cannot open"), "{}", r.stderr);
    assert!(r.stdout.contains("dynamodb:Query"));
}
