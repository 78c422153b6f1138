//! Hostile log content. Anyone who can call an API controls strings that land in CloudTrail; they
//! flow into the policy, its Terraform, CloudFormation and SAM forms, markdown and the terminal.
//! Whatever they hold, grants are exactly what was observed, every artifact parses back (with
//! HashiCorp's HCL parser, a YAML 1.1 and a YAML 1.2 parser, a CommonMark renderer) to the same
//! strings, and nothing reaches the terminal as a control sequence.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use iamtrim::evaluator::PolicySet;
use iamtrim::model::Policy;

use crate::util::{iamtrim, root, s};

const ROLE: &str = "dev-app-role";
const BUCKET: &str = "hostile-bucket";

/// Pieces attackers put in names: IAM wildcards and variables, HCL and YAML syntax, markdown,
/// HTML, quotes, escapes, terminal controls, line separators, non-ASCII.
const PIECES: &[&str] = &[
    "*",
    "?",
    "$",
    "${",
    "}",
    "${aws:username}",
    "%{",
    "%{if x}",
    "$${",
    "\"",
    "\\",
    "'",
    "`",
    "``",
    "\n",
    "\r",
    "\t",
    "\u{0}",
    "\u{7}",
    "\u{8}",
    "\u{c}",
    "\u{1b}[2J",
    "\u{1b}]0;pwned\u{7}",
    "\u{7f}",
    "\u{85}",
    "\u{9b}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{202e}",
    "!Ref ",
    ": ",
    " #",
    "- ",
    "&anchor",
    "*alias",
    "|",
    "> ",
    "<details>",
    "</details>",
    "<!--",
    "# ",
    "[x](y)",
    "é",
    "日本",
    "🦀",
    "%2A",
    "..",
    " ",
    "~",
    "null",
    "true",
    "0x1F",
    "1e3",
    "@",
    "a",
    "key",
    "/",
    "=",
    "\u{fffd}",
];

/// Names from a fixed-seed generator (repeatable; a failure names its name), plus the
/// hand-picked cases.
fn hostile_names() -> Vec<String> {
    let mut seed: u64 = 0x0bad_5eed;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut names: BTreeSet<String> = [
        "*",
        "a*",
        "invoice-??.pdf",
        "x${aws:username}",
        "$",
        "${*}",
        "`</details>`",
        "line\n  self-check: allows 9/9",
        "\u{1b}[2J",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    while names.len() < 150 {
        let n = 1 + next() % 6;
        let name: String = (0..n).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
        // S3 keys are not empty; the name must be one S3 accepts in a request.
        if !name.is_empty() && !name.starts_with('/') {
            names.insert(name);
        }
    }
    names.into_iter().collect()
}

fn record(key: &str, i: usize) -> String {
    let mut r = serde_json::json!({
        "eventVersion": "1.08", "eventTime": format!("2026-10-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60), "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "us-east-1", "recipientAccountId": "123456789012", "eventType": "AwsApiCall", "userAgent": key,
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/dev-app-role/s", "accountId": "123456789012",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/dev-app-role", "userName": ROLE, "accountId": "123456789012"}}},
        "requestParameters": {"bucketName": BUCKET, "key": key}
    });
    if i % 3 == 0 {
        // It failed after authorization: still evidence, still exact.
        r["errorCode"] = serde_json::Value::String("NoSuchKey".into());
    }
    r.to_string() + "\n"
}

fn logs(dir: &Path, names: &[String]) -> std::path::PathBuf {
    let f = dir.join("hostile.jsonl");
    std::fs::write(&f, names.iter().enumerate().map(|(i, n)| record(n, i)).collect::<String>()).unwrap();
    f
}

fn venv(tool: &str) -> String {
    let venv = std::env::var("IAMTRIM_TEST_VENV")
        .unwrap_or_else(|_| panic!("IAMTRIM_TEST_VENV is not set: run the tests with scripts/test"));
    format!("{venv}/bin/{tool}")
}

fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("run a round-trip tool");
    assert!(
        out.status.success(),
        "{:?}: {}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the tool prints JSON")
}

fn strings(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

/// No byte of `text` can act on a terminal: no control character but newline and tab.
fn assert_terminal_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\n' && *c != '\t') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}'))
        .collect();
    assert!(bad.is_empty(), "{what} holds control characters {bad:?}:\n{text}");
}

#[test]
fn a_key_named_star_grants_that_one_key_not_the_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("star.jsonl");
    let names = ["*".to_string(), "x${aws:username}".to_string()];
    std::fs::write(&f, names.iter().enumerate().map(|(i, n)| record(n, i)).collect::<String>()).unwrap();
    let r = iamtrim(&["generate", "--logs", s(&f), "--role", ROLE]);
    assert_eq!(r.code, 0, "a `${{` in a name does not fail the run: {}", r.stderr);
    let policy: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let resources = strings(&policy["Statement"][0]["Resource"]);
    assert_eq!(
        resources,
        BTreeSet::from([
            format!("arn:aws:s3:::{BUCKET}/${{*}}"),
            format!("arn:aws:s3:::{BUCKET}/x${{$}}{{aws:username}}")
        ])
    );
    let set = PolicySet::new(vec![Policy::parse("generated", &r.stdout).unwrap()]);
    let allows = |key: &str| set.evaluate("s3:GetObject", &format!("arn:aws:s3:::{BUCKET}/{key}")).decision.is_allow();
    assert!(allows("*") && allows("x${aws:username}"));
    assert!(!allows("secret.txt") && !allows("xalice") && !allows("x"), "no other key");
}

#[test]
fn hostile_names_round_trip_through_every_format_and_grant_exactly_themselves() {
    let names = hostile_names();
    let dir = tempfile::tempdir().unwrap();
    let f = logs(dir.path(), &names);
    let mut files = Vec::new();
    for (format, style, file) in [
        ("json", "resource", "p.json"),
        ("terraform", "resource", "p.tf"),
        ("terraform", "document", "p.doc.tf"),
        ("cloudformation", "resource", "p.cfn.yaml"),
        ("sam", "resource", "p.sam.yaml"),
    ] {
        let out = dir.path().join(file);
        let r = iamtrim(&[
            "generate",
            "--logs",
            s(&f),
            "--role",
            ROLE,
            "--resources",
            "exact",
            "--format",
            format,
            "--terraform-style",
            style,
            "--output",
            s(&out),
            "--explain",
        ]);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert_terminal_safe("stderr", &r.stderr);
        assert!(
            r.stderr.contains(&format!("self-check: allows {n}/{n} observed calls", n = names.len())),
            "{}",
            r.stderr
        );
        files.push(out);
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let granted: BTreeSet<String> =
        json["Statement"].as_array().unwrap().iter().flat_map(|st| strings(&st["Resource"])).collect();
    assert_eq!(granted.len(), names.len(), "one exact resource per name");

    // The evaluator allows exactly the observed names: each one, and no name made from one by
    // reading its * or ? as a wildcard.
    let set = PolicySet::new(vec![Policy::parse("generated", &serde_json::to_string(&json).unwrap()).unwrap()]);
    let allows = |key: &str| set.evaluate("s3:GetObject", &format!("arn:aws:s3:::{BUCKET}/{key}")).decision.is_allow();
    for n in &names {
        assert!(allows(n), "the observed name {n:?} is refused");
        for variant in [n.replace('*', "ZZ"), n.replace('?', "Z"), n.replace("${aws:username}", "alice")] {
            if &variant != n && !names.contains(&variant) {
                assert!(!allows(&variant), "{variant:?} is allowed because {n:?} was observed");
            }
        }
    }

    // HashiCorp's HCL parser reads back the same strings from both Terraform styles.
    let hcl = run_json(Command::new("node").arg(root().join("scripts/roundtrip-hcl.js")).args([&files[1], &files[2]]));
    for tf in [&files[1], &files[2]] {
        assert_eq!(strings(&hcl[s(tf)]), granted, "{} reads back differently", tf.display());
    }
    let fmt = Command::new("node")
        .arg(root().join("scripts/hcl-fmt-check.js"))
        .args([&files[1], &files[2]])
        .output()
        .unwrap();
    assert!(fmt.status.success(), "terraform fmt would change the output: {}", String::from_utf8_lossy(&fmt.stdout));
    // YAML 1.1 (PyYAML) and YAML 1.2 (ruamel) read back the same strings; cfn-lint accepts the template.
    let yaml = run_json(
        Command::new(venv("python")).arg(root().join("scripts/roundtrip-yaml.py")).args([&files[3], &files[4]]),
    );
    for y in [&files[3], &files[4]] {
        for parser in ["yaml1.1", "yaml1.2"] {
            assert_eq!(strings(&yaml[s(y)][parser]), granted, "{} read by {parser} differs", y.display());
        }
    }
    // cfn-lint checks each Resource against an ARN pattern whose `.+` stops at a newline (E3510):
    // names with a newline are flagged there and nowhere else; without them the template is clean.
    let lint = Command::new(venv("cfn-lint")).arg(&files[3]).args(["--ignore-checks", "E3510"]).output().unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    let one_line: Vec<String> = names.iter().filter(|n| !n.contains('\n')).cloned().collect();
    let sub = tempfile::tempdir().unwrap();
    let cfn = sub.path().join("one-line.cfn.yaml");
    let r = iamtrim(&[
        "generate",
        "--logs",
        s(&logs(sub.path(), &one_line)),
        "--role",
        ROLE,
        "--resources",
        "exact",
        "--format",
        "cloudformation",
        "--output",
        s(&cfn),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lint = Command::new(venv("cfn-lint")).arg(&cfn).output().unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    // IAM takes policy documents of printable Latin-1 and tab/newline/return only: the JSON
    // writes everything else as \u escapes.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n'), "the policy JSON is printable ASCII");
}

#[test]
fn markdown_and_terminal_diffs_show_hostile_names_literally() {
    let names = hostile_names();
    let dir = tempfile::tempdir().unwrap();
    let f = logs(dir.path(), &names);
    // A current policy that grants none of it, so every name is listed as used but not granted.
    let current = dir.path().join("current.json");
    std::fs::write(
        &current,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#,
    )
    .unwrap();
    let md = dir.path().join("diff.md");
    let r = iamtrim(&[
        "diff",
        "--logs",
        s(&f),
        "--role",
        ROLE,
        "--current",
        s(&current),
        "--format",
        "markdown",
        "--output",
        s(&md),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rendered = run_json(Command::new(venv("python")).arg(root().join("scripts/render-markdown.py")).arg(&md));
    let (html, text) = (rendered["html"].as_str().unwrap(), rendered["text"].as_str().unwrap());
    // Nothing a name held became markup: one <details> block (iamtrim's own), no other HTML.
    assert_eq!(html.matches("<details>").count(), 1, "{html}");
    assert_eq!(html.matches("</details>").count(), 1, "{html}");
    assert!(!html.contains("<!--") && !html.contains("<a href"), "{html}");
    assert_eq!(html.matches("<h3>").count(), 1, "a name opened a heading: {html}");
    // Every name shows literally (its control characters as visible escapes).
    for n in &names {
        let shown = iamtrim::text::visible(&format!("arn:aws:s3:::{BUCKET}/{}", iamtrim::arn::literal(n))).into_owned();
        assert!(text.contains(&shown), "{n:?} is not shown literally as {shown:?}");
    }
    let t = iamtrim(&["diff", "--logs", s(&f), "--role", ROLE, "--current", s(&current)]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert_terminal_safe("the terminal diff", &t.stdout);
    assert_terminal_safe("stderr", &t.stderr);
    // A name cannot forge a line of the summary.
    let forged = iamtrim(&["generate", "--logs", s(&f), "--role", ROLE]);
    assert_eq!(forged.stderr.lines().filter(|l| l.contains("self-check: allows")).count(), 1, "{}", forged.stderr);
}

/// A bounded fuzz run inside the test command: real records (the examples and the panther
/// corpus) mutated at random (bytes flipped, cut short, hostile pieces spliced in, string values
/// replaced) go through the reader, the mapper, the aggregation, the synthesizer and every
/// emitter. Nothing panics, the counts reconcile, and every policy passes its self-check.
#[test]
fn fuzzed_records_never_panic_always_reconcile_and_pass_the_self_check() {
    use iamtrim::source::{read_stream, Item};
    let catalog = iamtrim::catalog::ActionCatalog::embedded();
    let mapper = iamtrim::mapper::EventMapper::new(catalog);
    let mut records: Vec<String> = crate::util::example_records().iter().map(|r| r.to_string()).collect();
    let panther: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(crate::util::panther()).unwrap()).unwrap();
    records.extend(panther["Records"].as_array().unwrap().iter().map(|r| r.to_string()));
    let mut seed: u64 = 0xf022_1e55;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let all = iamtrim::usage::Selection {
        principal: None,
        range: iamtrim::filter::TimeRange::unbounded(),
        ..Default::default()
    };
    for round in 0..150 {
        let mut doc = String::new();
        for _ in 0..60 {
            let mut r = records[(next() % records.len() as u64) as usize].clone();
            match next() % 5 {
                0 => {
                    // Flip a byte (kept UTF-8: replace one ASCII character with another).
                    let i = (next() % r.len() as u64) as usize;
                    if r.is_char_boundary(i) && r.is_char_boundary(i + 1) {
                        r.replace_range(i..i + 1, &char::from(b' ' + (next() % 94) as u8).to_string());
                    }
                }
                1 => {
                    let mut i = (next() % r.len() as u64) as usize;
                    while !r.is_char_boundary(i) {
                        i -= 1;
                    }
                    r.truncate(i);
                }
                2 => {
                    let mut i = (next() % r.len() as u64) as usize;
                    while !r.is_char_boundary(i) {
                        i -= 1;
                    }
                    r.insert_str(i, PIECES[(next() % PIECES.len() as u64) as usize]);
                }
                3 => {
                    // Every string value of the request parameters becomes a hostile name.
                    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&r) {
                        if let Some(params) = v.get_mut("requestParameters").and_then(|p| p.as_object_mut()) {
                            for val in params.values_mut().filter(|x| x.is_string()) {
                                let n = 1 + next() % 4;
                                *val = serde_json::Value::String(
                                    (0..n).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect(),
                                );
                            }
                        }
                        r = v.to_string();
                    }
                }
                _ => {}
            }
            doc.push_str(&r.replace('\n', " "));
            doc.push('\n');
        }
        let mut usage = iamtrim::usage::Usage::default();
        read_stream(std::io::Cursor::new(doc.as_bytes()), "fuzz.jsonl", &mut |item: Item<'_>| {
            usage.ingest("fuzz.jsonl", item, &all, &mapper)
        });
        let usage = usage.finish();
        assert!(usage.reconciles(), "round {round}: counts do not reconcile");
        for mode in [iamtrim::synth::ResourceMode::Exact, iamtrim::synth::ResourceMode::Prefix] {
            let opts = iamtrim::synth::SynthOptions { resources: mode, ..Default::default() };
            let (policy, _) = iamtrim::synth::synthesize_with(&usage.actions, catalog, &opts);
            let check = iamtrim::synth::self_check(&policy, &usage);
            assert!(check.refused.is_empty(), "round {round}: the policy refuses {:?}", check.refused);
            for format in [
                iamtrim::emit::Format::Json,
                iamtrim::emit::Format::TerraformResource,
                iamtrim::emit::Format::TerraformDocument,
                iamtrim::emit::Format::CloudFormation,
                iamtrim::emit::Format::Sam,
            ] {
                assert!(!iamtrim::emit::render(&policy, format, ROLE).is_empty());
            }
            let report = iamtrim::report::RunReport::new(ROLE, "fuzz", &usage, &policy, catalog);
            assert_terminal_safe("the summary", &iamtrim::text::terminal_safe(&report.summary(100)));
        }
    }
}
