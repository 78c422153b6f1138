//! Helpers: run the binary, find the repository's files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/`.
pub fn examples() -> PathBuf {
    root().join("examples")
}

/// One HTTP/1.1 request as a loopback fake reads it off its connection.
pub struct HttpRequest {
    /// The request line (`POST / HTTP/1.1`), its line ending kept.
    pub line: String,
    /// Headers by lower-case name.
    pub headers: std::collections::BTreeMap<String, String>,
    /// Header lines as sent (for a fake that forwards the request).
    pub raw_headers: Vec<String>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

/// Reads the next request of a keep-alive connection; `None` when it closed (or broke).
pub fn read_http_request(reader: &mut impl std::io::BufRead) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let (mut headers, mut raw_headers) = (std::collections::BTreeMap::new(), Vec::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return None;
        }
        let trimmed = h.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((k, v)) = trimmed.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        raw_headers.push(trimmed.to_string());
    }
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(HttpRequest { line, headers, raw_headers, body })
}

/// Runs scripts/validate-json.py (the project venv's jsonschema) with `args`
/// (`--sarif FILE`, or `--schema SCHEMA FILE`): whether it passed, and what it said.
pub fn validate_json(args: &[&str]) -> (bool, String) {
    let o = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/validate-json.py"))
        .args(args)
        .output()
        .expect("run scripts/validate-json.py");
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
}

/// Fails unless `file` is valid SARIF 2.1.0 (the vendored schema).
pub fn assert_valid_sarif(file: &Path) {
    let (ok, said) = validate_json(&["--sarif", s(file)]);
    assert!(ok, "{} is not valid SARIF: {said}", file.display());
}

/// The panther corpus copied into tests/data.
pub fn panther() -> PathBuf {
    root().join("tests/data/panther-analysis-tests.json")
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The command for `iamtrim ARGS` with extra environment variables, isolated from the
/// user's AWS configuration.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamtrim"));
    cmd.args(args).env_remove("RAYON_NUM_THREADS");
    for k in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/iamtrim-test-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/iamtrim-test-credentials");
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Environment with test credentials and a region, as a user with keys in the environment has.
pub const AWS_TEST_ENV: &[(&str, &str)] =
    &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")];

/// Runs `iamtrim ARGS` with extra environment variables.
pub fn iamtrim_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let Output { status, stdout, stderr } = command(args, env).output().expect("run iamtrim");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `iamtrim ARGS`.
pub fn iamtrim(args: &[&str]) -> Run {
    iamtrim_env(args, &[])
}

/// A path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Reads a JSON file.
pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

/// Asserts the report's counts reconcile.
pub fn assert_reconciles(r: &serde_json::Value) {
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("report has no count `{k}`: {r}"));
    assert_eq!(
        n("records_read"),
        n("records_rejected") + n("records_filtered") + n("records_matched"),
        "read = rejected + filtered + matched"
    );
    assert_eq!(
        n("records_matched"),
        n("records_mapped")
            + n("records_denied")
            + n("records_not_evidence")
            + n("records_unmapped")
            + n("records_no_permission"),
        "matched = mapped + denied + not_evidence + unmapped + no_permission"
    );
    assert_eq!(
        n("records_not_evidence"),
        r["not_evidence"].as_array().unwrap().iter().map(|x| x["count"].as_u64().unwrap()).sum::<u64>(),
        "every call not counted as evidence is listed"
    );
    assert_eq!(
        r["complete"].as_bool().unwrap(),
        r["gaps"].as_array().unwrap().is_empty(),
        "complete exactly when there is no gap"
    );
    if n("records_rejected") > 0 {
        assert_eq!(r["complete"], false, "a rejected record is a gap");
    }
    let f = &r["filtered"];
    assert_eq!(
        n("records_filtered"),
        f["other_principal"].as_u64().unwrap()
            + f["outside_window"].as_u64().unwrap()
            + f["not_api_call"].as_u64().unwrap()
    );
    let listed = r["rejected"].as_array().unwrap().len() as u64;
    assert!(listed <= 1000, "at most 1,000 rejections are listed");
    assert_eq!(n("records_rejected"), listed + n("rejected_not_listed"), "every rejection is listed or counted");
}

/// Every record of the examples, as JSON values, in file order.
pub fn example_records() -> Vec<serde_json::Value> {
    use std::io::Read;
    let mut all = Vec::new();
    for f in example_files() {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap()).read_to_string(&mut text).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        all.extend(doc["Records"].as_array().unwrap().iter().cloned());
    }
    all
}

/// The example trail files, in path order.
pub fn example_files() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)
            } else if p.to_string_lossy().ends_with(".json.gz") {
                out.push(p)
            }
        }
    }
    let mut out = Vec::new();
    walk(&examples(), &mut out);
    out
}
