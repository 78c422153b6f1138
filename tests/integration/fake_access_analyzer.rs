//! A loopback stand-in for IAM Access Analyzer's `CheckNoNewAccess` (moto has none), speaking
//! its real wire protocol: REST-JSON, `POST /policy/check-no-new-access` with a SigV4
//! `Authorization` for the signing name `access-analyzer`, a JSON body of
//! `existingPolicyDocument`, `newPolicyDocument` (both JSON text) and `policyType`; answers
//! `{"result","message","reasons":[{"description","statementIndex","statementId"}]}`, errors
//! with the `x-amzn-ErrorType` header and a `{"message"}` body, as the service does.
//!
//! Its judgement is deliberately simple (it is not Zelkova): an Allow statement of the new
//! document is new access unless each of its actions and resources is matched (glob) by an
//! Allow statement of the existing one without conditions, and no existing Deny names the
//! action. Misbehaviour on purpose: the first `throttle_first` requests get HTTP 429
//! `ThrottlingException`; with `deny`, every request gets 403 `AccessDeniedException`; a
//! document with two equal Sids gets 400 `InvalidParameterException`, as IAM refuses one.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// Behaviour knobs.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    pub throttle_first: usize,
    pub deny: bool,
}

/// One request as the fake read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub content_type: String,
    pub policy_type: String,
    /// The documents, parsed from their JSON text.
    pub existing: Value,
    pub new: Value,
    /// The fake's answer (`PASS`, `FAIL`, or the error code).
    pub answer: String,
}

#[derive(Default)]
struct State {
    behaviour: Behaviour,
    requests: Vec<Request>,
    throttled: usize,
}

/// The running fake.
pub struct FakeAccessAnalyzer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeAccessAnalyzer {
    pub fn start(behaviour: Behaviour) -> FakeAccessAnalyzer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { behaviour, ..State::default() }));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(conn, st));
            }
        });
        FakeAccessAnalyzer { url, state }
    }

    /// The requests answered (not the throttled ones), in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests throttled.
    pub fn throttled(&self) -> usize {
        self.state.lock().unwrap().throttled
    }
}

fn serve(conn: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut writer = conn;
    while let Some(crate::util::HttpRequest { line, headers, body, .. }) = crate::util::read_http_request(&mut reader) {
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let (status, error_type, payload) = answer(&method, &path, &headers, &body, &state);
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nx-amzn-RequestId: fake-access-analyzer\r\n",
            payload.len()
        );
        if let Some(t) = error_type {
            head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(payload.as_bytes())).is_err() {
            return;
        }
    }
}

fn error(status: &'static str, code: &'static str, message: &str) -> (&'static str, Option<&'static str>, String) {
    (status, Some(code), json!({ "message": message }).to_string())
}

fn answer(
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    state: &Arc<Mutex<State>>,
) -> (&'static str, Option<&'static str>, String) {
    let mut st = state.lock().unwrap();
    if method != "POST" || path != "/policy/check-no-new-access" {
        return error("404 Not Found", "UnknownOperationException", &format!("no operation {method} {path}"));
    }
    let authorization = headers.get("authorization").cloned().unwrap_or_default();
    if !authorization.starts_with("AWS4-HMAC-SHA256 Credential=")
        || !authorization.contains("/access-analyzer/aws4_request")
    {
        return error("403 Forbidden", "UnrecognizedClientException", "the request is not signed for access-analyzer");
    }
    if st.throttled < st.behaviour.throttle_first {
        st.throttled += 1;
        return error("429 Too Many Requests", "ThrottlingException", "Rate exceeded");
    }
    if st.behaviour.deny {
        return error(
            "403 Forbidden",
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: access-analyzer:CheckNoNewAccess",
        );
    }
    let input: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return error("400 Bad Request", "InvalidParameterException", &format!("body is not JSON: {e}")),
    };
    let doc = |field: &str| -> Result<Value, String> {
        let text = input[field].as_str().ok_or(format!("{field} is required"))?;
        let v: Value = serde_json::from_str(text).map_err(|e| format!("{field} is not JSON: {e}"))?;
        let sts = v["Statement"].as_array().ok_or(format!("{field} has no Statement array"))?;
        let mut sids = std::collections::BTreeSet::new();
        for s in sts {
            if let Some(sid) = s["Sid"].as_str() {
                if !sids.insert(sid.to_string()) {
                    return Err(format!("{field}: duplicate Sid {sid}"));
                }
            }
        }
        Ok(v)
    };
    let (existing, new) = match (doc("existingPolicyDocument"), doc("newPolicyDocument")) {
        (Ok(e), Ok(n)) => (e, n),
        (Err(e), _) | (_, Err(e)) => return error("400 Bad Request", "InvalidParameterException", &e),
    };
    let policy_type = input["policyType"].as_str().unwrap_or("").to_string();
    if !matches!(policy_type.as_str(), "IDENTITY_POLICY" | "RESOURCE_POLICY") {
        return error(
            "400 Bad Request",
            "InvalidParameterException",
            "policyType must be IDENTITY_POLICY or RESOURCE_POLICY",
        );
    }
    let mut reasons = Vec::new();
    for (i, st) in new["Statement"].as_array().unwrap().iter().enumerate() {
        if st["Effect"] == "Allow" && !covered(st, &existing) {
            let mut r =
                json!({"description": format!("New access in the statement with index: {i}."), "statementIndex": i});
            if let Some(sid) = st["Sid"].as_str() {
                r["statementId"] = json!(sid);
            }
            reasons.push(r);
        }
    }
    let result = if reasons.is_empty() { "PASS" } else { "FAIL" };
    let message = if reasons.is_empty() {
        "The modified permissions do not grant new access compared to your existing policy."
    } else {
        "The modified permissions grant new access compared to your existing policy."
    };
    st.requests.push(Request {
        method: method.into(),
        path: path.into(),
        authorization,
        content_type: headers.get("content-type").cloned().unwrap_or_default(),
        policy_type,
        existing,
        new,
        answer: result.into(),
    });
    ("200 OK", None, json!({"result": result, "message": message, "reasons": reasons}).to_string())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Every action and resource of the new Allow statement `st` is matched by a plain existing
/// Allow, and no existing Deny names the action.
fn covered(st: &Value, existing: &Value) -> bool {
    if st.get("NotAction").is_some() || st.get("NotResource").is_some() {
        return false;
    }
    let empty = Vec::new();
    let statements = existing["Statement"].as_array().unwrap_or(&empty);
    let resources = if st.get("Resource").is_some() { strings(&st["Resource"]) } else { vec!["*".into()] };
    strings(&st["Action"]).iter().all(|a| {
        let denied =
            statements.iter().any(|e| e["Effect"] == "Deny" && strings(&e["Action"]).iter().any(|p| glob(p, a)));
        !denied
            && resources.iter().all(|r| {
                statements.iter().any(|e| {
                    e["Effect"] == "Allow"
                        && e.get("Condition").is_none()
                        && strings(&e["Action"]).iter().any(|p| glob(p, a))
                        && strings(&e["Resource"]).iter().any(|p| glob(p, r))
                })
            })
    })
}
