//! Bad input: each case names the file (and record) on stderr, is counted as rejected, is a gap
//! that makes the run INCOMPLETE (exit 4 unless --allow-incomplete), and the run goes on. Exit 1
//! when nothing at all was readable.

use std::io::Write;
use std::path::Path;
use std::process::Command;

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
    std::fs::write(dir.join("invalid.json"), format!(r#"{{"Records":[{GOOD_RECORD},{{"eventSource": oops}}]}}"#))
        .unwrap();
    // Records missing required fields.
    let missing = [
        GOOD_RECORD.replace(r#""eventSource":"sqs.amazonaws.com","#, ""),
        GOOD_RECORD.replace(r#""eventName":"SendMessage","#, ""),
        r#"{"eventTime":"2026-10-01T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage"}"#
            .to_string(),
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
    assert_eq!(
        find("truncated.json.gz", "gzip")["file"].as_str().map(|f| f.ends_with("truncated.json.gz")),
        Some(true)
    );
    assert_eq!(find("invalid.json", "invalid JSON")["location"], "Records[1]");
    assert_eq!(find("missing-fields.json", "missing `eventSource`")["location"], "Records[0]");
    assert_eq!(find("missing-fields.json", "missing `eventName`")["location"], "Records[1]");
    assert_eq!(find("missing-fields.json", "missing `userIdentity`")["location"], "Records[2]");
    assert_eq!(find("not-utf8.json", "not valid UTF-8")["location"], "Records[0]");
    assert_eq!(find("empty.json", "empty file")["location"], "file");
    // And each is named on stderr with its record.
    for needle in [
        "truncated.json.gz",
        "invalid.json: Records[1]",
        "missing-fields.json: Records[2]",
        "not-utf8.json: Records[0]",
        "empty.json",
    ] {
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
    let r = iamtrim(&[
        "generate",
        "--logs",
        s(&examples()),
        s(&dir.path().join("gone.json")),
        "--role",
        "dev-app-role",
        "--quiet",
    ]);
    assert_eq!(r.code, 4, "a path that cannot be read is a gap: {}", r.stderr);
    assert!(r.stderr.starts_with("iamtrim: INCOMPLETE (1 gap)"), "even --quiet says so: {}", r.stderr);
    assert!(r.stderr.contains("gone.json: cannot open"), "{}", r.stderr);
    assert!(r.stdout.contains("dynamodb:Query"));
}

/// One row of the bad-input matrix: what is put beside a good trail file, how iamtrim is run, and
/// how it must end.
struct BadCase {
    /// What the input is.
    name: &'static str,
    /// Writes the bad input into the directory; returns its file name (named in the messages).
    write: fn(&Path) -> &'static str,
    /// Arguments beside `generate --logs DIR --role dev-app-role --report R`.
    args: &'static [&'static str],
    /// Exit status.
    code: i32,
    /// What stderr must say (the file and the position, the reason).
    says: &'static [&'static str],
    /// records read, rejected, matched; `None` when no report is written (the run stops first).
    counts: Option<(u64, u64, u64)>,
}

fn deep_params() -> String {
    let mut v = String::from("1");
    for _ in 0..200 {
        v = format!("{{\"a\":{v}}}");
    }
    GOOD_RECORD.replace(
        r#""requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/good"}"#,
        &format!("\"requestParameters\":{v}"),
    )
}

fn zeros_gzip() -> Vec<u8> {
    gzip(&vec![0u8; 3 << 20])
}

const BAD_CASES: &[BadCase] = &[
    BadCase {
        name: "a gzip stream cut short",
        write: |d| {
            std::fs::write(
                d.join("cut.json.gz"),
                &gzip(format!(r#"{{"Records":[{GOOD_RECORD},{GOOD_RECORD}]}}"#).as_bytes())[..120],
            )
            .unwrap();
            "cut.json.gz"
        },
        args: &[],
        code: 4,
        says: &["cut.json.gz", "corrupt or truncated gzip data"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "invalid JSON after a good record",
        write: |d| {
            std::fs::write(d.join("invalid.json"), format!(r#"{{"Records":[{GOOD_RECORD},{{"eventSource": oops}}]}}"#))
                .unwrap();
            "invalid.json"
        },
        args: &[],
        code: 4,
        says: &["invalid.json: Records[1]: invalid JSON"],
        counts: Some((3, 1, 2)),
    },
    BadCase {
        name: "a record without eventName",
        write: |d| {
            std::fs::write(
                d.join("missing.json"),
                format!(r#"{{"Records":[{}]}}"#, GOOD_RECORD.replace(r#""eventName":"SendMessage","#, "")),
            )
            .unwrap();
            "missing.json"
        },
        args: &[],
        code: 4,
        says: &["missing.json: Records[0]: not a CloudTrail record: missing `eventName`"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "bytes that are not UTF-8",
        write: |d| {
            let mut b = format!(r#"{{"Records":[{GOOD_RECORD}]}}"#).into_bytes();
            let at = b.len() - 10;
            b.insert(at, 0xff);
            std::fs::write(d.join("latin.json"), b).unwrap();
            "latin.json"
        },
        args: &[],
        code: 4,
        says: &["latin.json: Records[0]: record contains bytes that are not valid UTF-8"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "an empty file",
        write: |d| {
            std::fs::write(d.join("empty.json"), b"").unwrap();
            "empty.json"
        },
        args: &[],
        code: 4,
        says: &["empty.json: empty file"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "JSON that is no CloudTrail log",
        write: |d| {
            std::fs::write(d.join("other.json"), "{\n\"foo\": 1\n}").unwrap();
            "other.json"
        },
        args: &[],
        code: 4,
        says: &["other.json: not a CloudTrail log: no `Records` or `Events` array"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "binary junk",
        write: |d| {
            std::fs::write(d.join("junk.json"), b"\x00\x01\x02 not json at all").unwrap();
            "junk.json"
        },
        args: &[],
        code: 4,
        says: &["junk.json", "not JSON"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "a bad line among JSON Lines",
        write: |d| {
            std::fs::write(d.join("lines.jsonl"), format!("{GOOD_RECORD}\n{{not json\n{GOOD_RECORD}\n")).unwrap();
            "lines.jsonl"
        },
        args: &[],
        code: 4,
        says: &["lines.jsonl: line 2: invalid JSON"],
        counts: Some((4, 1, 3)),
    },
    BadCase {
        name: "lookup-events output without CloudTrailEvent",
        write: |d| {
            std::fs::write(d.join("lookup.json"), "{\n\"Events\": [{\"EventId\": \"x\"}]\n}").unwrap();
            "lookup.json"
        },
        args: &[],
        code: 4,
        says: &["lookup.json: Events[0].CloudTrailEvent: lookup event has no CloudTrailEvent"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "requestParameters nested deeper than the parser reads",
        write: |d| {
            std::fs::write(d.join("deep.jsonl"), deep_params() + "\n").unwrap();
            "deep.jsonl"
        },
        args: &[],
        code: 4,
        says: &["deep.jsonl: line 1:"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "a record over --max-record-mb",
        write: |d| {
            std::fs::write(
                d.join("huge.jsonl"),
                GOOD_RECORD
                    .replace("SendMessage\"", &format!("SendMessage\",\"padding\":\"{}\"", "x".repeat(1_200_000)))
                    + "\n",
            )
            .unwrap();
            "huge.jsonl"
        },
        args: &["--max-record-mb", "1"],
        code: 4,
        says: &["huge.jsonl: line 1: a record of 1200", "over the 1 MiB limit"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "a document over --max-document-mb",
        write: |d| {
            let recs: Vec<&str> = std::iter::repeat_n(GOOD_RECORD, 4000).collect();
            std::fs::write(d.join("big.json"), format!("{{\n\"Records\": [{}]\n}}", recs.join(",\n"))).unwrap();
            "big.json"
        },
        args: &["--max-document-mb", "1"],
        code: 4,
        says: &["big.json: a log document over 1 MiB (decompressed): not read"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "a gzip bomb (zeros)",
        write: |d| {
            std::fs::write(d.join("bomb.json.gz"), zeros_gzip()).unwrap();
            "bomb.json.gz"
        },
        args: &["--max-document-mb", "1"],
        code: 4,
        says: &["bomb.json.gz: a line or document over 1 MiB (decompressed): the rest of the file is not read"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "5,000 empty records",
        write: |d| {
            let recs: Vec<&str> = std::iter::repeat_n("{}", 5000).collect();
            std::fs::write(d.join("empties.json"), format!(r#"{{"Records":[{}]}}"#, recs.join(","))).unwrap();
            "empties.json"
        },
        args: &[],
        code: 4,
        says: &[
            "empties.json: Records[0]: not a CloudTrail record: missing `eventSource`",
            "(1000 listed in --report, the rest counted)",
        ],
        counts: Some((5001, 5000, 1)),
    },
    BadCase {
        name: "an eventTime that is no time, with a window",
        write: |d| {
            std::fs::write(d.join("when.jsonl"), GOOD_RECORD.replace("2026-10-01T10:00:00Z", "yesterday") + "\n")
                .unwrap();
            "when.jsonl"
        },
        args: &["--from", "2026-10-01"],
        code: 4,
        says: &["when.jsonl: line 1: eventTime `yesterday` is not an RFC 3339 time"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "a FIFO named like a log",
        write: |d| {
            let ok = Command::new("mkfifo").arg(d.join("pipe.json")).status().unwrap().success();
            assert!(ok);
            "pipe.json"
        },
        args: &[],
        code: 0,
        says: &["1 skipped as not regular files or reached twice through links"],
        counts: Some((1, 0, 1)),
    },
    BadCase {
        name: "a directory that links to itself and to its parent",
        write: |d| {
            std::os::unix::fs::symlink(".", d.join("self")).unwrap();
            std::fs::create_dir(d.join("sub")).unwrap();
            std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
            "self"
        },
        args: &[],
        code: 0,
        says: &["files: 1 read"],
        counts: Some((1, 0, 1)),
    },
    BadCase {
        name: "a control sequence in a file name",
        write: |d| {
            std::fs::write(d.join("a\u{1b}[2Jb.json"), b"").unwrap();
            "a\\u{1b}[2Jb.json"
        },
        args: &[],
        code: 4,
        says: &["a\\u{1b}[2Jb.json: empty file"],
        counts: Some((2, 1, 1)),
    },
    BadCase {
        name: "--days beyond what a date holds",
        write: |_| "",
        args: &["--days", "4000000000"],
        code: 2,
        says: &["--days 4000000000 reaches before the earliest date"],
        counts: None,
    },
    BadCase {
        name: "--report into a directory that does not exist",
        write: |_| "",
        args: &["--output", "/nonexistent/iamtrim/policy.json"],
        code: 1,
        says: &["cannot write `/nonexistent/iamtrim`"],
        counts: None,
    },
    BadCase {
        name: "a store written by a newer iamtrim",
        write: |d| {
            Command::new("python3").args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 7'); c.commit()"]).arg(d.join("newer.sqlite")).status().unwrap();
            "newer.sqlite"
        },
        args: &["--days", "3", "--store", "STORE"],
        code: 1,
        says: &["newer.sqlite: written by a newer iamtrim (store layout 7"],
        counts: None,
    },
];

#[test]
fn the_bad_input_matrix_ends_each_case_as_documented() {
    let mut failures = Vec::new();
    for case in BAD_CASES {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("good.json"), format!(r#"{{"Records":[{GOOD_RECORD}]}}"#)).unwrap();
        let file = (case.write)(&logs);
        let report = dir.path().join("report.json");
        let store = logs.join("newer.sqlite");
        let mut args = vec!["generate", "--logs", s(&logs), "--role", "dev-app-role", "--report", s(&report)];
        args.extend(case.args.iter().map(|a| if *a == "STORE" { s(&store) } else { a }));
        let r = iamtrim(&args);
        let mut wrong = Vec::new();
        if r.code != case.code {
            wrong.push(format!("exit {} (want {})", r.code, case.code));
        }
        for needle in case.says {
            if !r.stderr.contains(needle) {
                wrong.push(format!("stderr lacks `{needle}`"));
            }
        }
        if r.stderr.contains('\u{1b}') {
            wrong.push("stderr holds an escape character".into());
        }
        match case.counts {
            Some((read, rejected, matched)) => {
                if report.exists() {
                    let rep = read_json(&report);
                    assert_reconciles(&rep);
                    let got = (
                        rep["records_read"].as_u64().unwrap(),
                        rep["records_rejected"].as_u64().unwrap(),
                        rep["records_matched"].as_u64().unwrap(),
                    );
                    if got != (read, rejected, matched) {
                        wrong.push(format!(
                            "counts (read, rejected, matched) {got:?}, want {:?}",
                            (read, rejected, matched)
                        ));
                    }
                    if rejected > 0 && rep["complete"] != false {
                        wrong.push("a rejection did not make the run incomplete".into());
                    }
                } else {
                    wrong.push("no report".into());
                }
            }
            None if report.exists() => wrong.push("a report was written although the run stopped first".into()),
            None => {}
        }
        if !wrong.is_empty() {
            failures.push(format!("{} ({file}): {}\n{}", case.name, wrong.join("; "), r.stderr));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases end wrong:\n{}",
        failures.len(),
        BAD_CASES.len(),
        failures.join("\n---\n")
    );
}
