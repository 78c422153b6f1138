//! A loopback stand-in for the CloudTrail LookupEvents API (moto has none), speaking the real
//! wire protocol: HTTP/1.1 POST, AWS JSON 1.1, `X-Amz-Target:
//! com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents` (or the short
//! `CloudTrail_20131101.LookupEvents` the Rust SDK sends), `Events[].CloudTrailEvent`
//! as JSON strings, `NextToken` paging. It also answers STS GetCallerIdentity (query or JSON
//! protocol). The region of a request is read from its SigV4 credential scope.
//!
//! Misbehaviour on purpose: it throttles (HTTP 400 `ThrottlingException`) every
//! `throttle_every`-th request, answers one request with an empty page that still carries a
//! `NextToken`, and can hang once it has served `hang_after_pages` pages (to interrupt a run).

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A region where the caller lacks cloudtrail:LookupEvents.
pub const DENIED_REGION: &str = "ap-south-2";
/// A region whose every LookupEvents request is answered `ExpiredTokenException` (the session
/// expired in the middle of a run), while other regions are served.
pub const EXPIRED_REGION: &str = "eu-north-1";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Region from the credential scope.
    pub region: String,
    /// StartTime (epoch seconds).
    pub start: i64,
    /// NextToken sent, if any.
    pub token: Option<String>,
    /// "page", "throttled", "empty" or "hung".
    pub outcome: &'static str,
    /// When it arrived, since the fake started.
    pub at: Duration,
}

/// Behaviour knobs.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Throttle every n-th LookupEvents request (0: never).
    pub throttle_every: usize,
    /// Answer the first page request of this many days with an empty page and a NextToken.
    pub empty_pages: usize,
    /// After this many pages were served, hang every further request.
    pub hang_after_pages: Option<usize>,
    /// Page size (the API's is 50).
    pub page_size: usize,
}

#[derive(Default)]
struct State {
    /// region -> (event time, CloudTrailEvent JSON), newest first as LookupEvents returns them.
    events: BTreeMap<String, Vec<(i64, String)>>,
    log: Vec<Logged>,
    lookups: usize,
    pages: usize,
    empties_left: usize,
    behaviour: Behaviour,
    /// CloudTrail Lake: the rows a query returns, the statements received, requests so far.
    lake_rows: Vec<serde_json::Value>,
    lake_statements: Vec<String>,
    lake_requests: usize,
    lake_throttled: usize,
    lake_pages: usize,
    /// Athena: the result set (header row first) and column info, the queries received, pages.
    athena_rows: Vec<serde_json::Value>,
    athena_columns: serde_json::Value,
    athena_queries: Vec<String>,
    athena_requests: usize,
    athena_pages: usize,
    athena_throttled: usize,
    /// Athena: when set, GetQueryExecution answers FAILED with this reason.
    athena_failure: Option<String>,
    /// The caller's session in EXPIRED_REGION was renewed: serve it like any region.
    token_renewed: bool,
}

/// The running fake.
pub struct FakeCloudTrail {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeCloudTrail {
    /// Starts serving `events` (CloudTrail records as JSON values; their `awsRegion` decides the
    /// region that returns them; a string value is served as is, for malformed records).
    pub fn start(events: Vec<(String, i64, String)>, behaviour: Behaviour) -> FakeCloudTrail {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut by_region: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for (region, t, json) in events {
            by_region.entry(region).or_default().push((t, json));
        }
        for v in by_region.values_mut() {
            v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        let mut behaviour = behaviour;
        if behaviour.page_size == 0 {
            behaviour.page_size = 50;
        }
        let state = Arc::new(Mutex::new(State {
            events: by_region,
            empties_left: behaviour.empty_pages,
            behaviour,
            ..State::default()
        }));
        let started = Instant::now();
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || serve(conn, st, started));
            }
        });
        FakeCloudTrail { url, state }
    }

    /// Makes every Athena query fail (state FAILED, `reason` as its StateChangeReason).
    pub fn fail_athena_queries(&self, reason: &str) {
        self.state.lock().unwrap().athena_failure = Some(reason.to_string());
    }

    /// Renews the session in [`EXPIRED_REGION`]: its requests are served from now on.
    pub fn renew_token(&self) {
        self.state.lock().unwrap().token_renewed = true;
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// LookupEvents requests received so far.
    pub fn lookups(&self) -> usize {
        self.state.lock().unwrap().lookups
    }

    /// CloudTrail Lake: every query started returns `rows` (QueryResultRows elements), 10 a page.
    pub fn set_lake_rows(&self, rows: Vec<serde_json::Value>) {
        self.state.lock().unwrap().lake_rows = rows;
    }

    /// CloudTrail Lake: the QueryStatement of every StartQuery received.
    pub fn lake_statements(&self) -> Vec<String> {
        self.state.lock().unwrap().lake_statements.clone()
    }

    /// CloudTrail Lake: (GetQueryResults pages served, requests throttled).
    pub fn lake_pages(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap();
        (st.lake_pages, st.lake_throttled)
    }

    /// Athena: every query returns `result` (`{"rows": [...], "column_info": [...]}`, header
    /// row first), paged by the request's MaxResults.
    pub fn set_athena_result(&self, result: serde_json::Value) {
        let mut st = self.state.lock().unwrap();
        st.athena_rows = result["rows"].as_array().cloned().unwrap_or_default();
        st.athena_columns = result["column_info"].clone();
    }

    /// Athena: (queries received, GetQueryResults pages served, requests throttled).
    pub fn athena_log(&self) -> (Vec<String>, usize, usize) {
        let st = self.state.lock().unwrap();
        (st.athena_queries.clone(), st.athena_pages, st.athena_throttled)
    }

    /// Stops hanging: later requests are served again.
    pub fn release(&self) {
        self.state.lock().unwrap().behaviour.hang_after_pages = None;
    }
}

fn serve(conn: TcpStream, state: Arc<Mutex<State>>, started: Instant) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut writer = conn;
    while let Some(crate::util::HttpRequest { headers, body, .. }) = crate::util::read_http_request(&mut reader) {
        let (status, content_type, extra, payload) = respond(&headers, &body, &state, started);
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fake-{}\r\n{extra}\r\n",
            payload.len(),
            started.elapsed().as_nanos()
        );
        if writer.write_all(response.as_bytes()).and_then(|_| writer.write_all(payload.as_bytes())).is_err() {
            return;
        }
    }
}

fn region_of(headers: &BTreeMap<String, String>) -> String {
    headers
        .get("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or("us-east-1")
        .to_string()
}

type Reply = (&'static str, &'static str, String, String);

fn respond(headers: &BTreeMap<String, String>, body: &[u8], state: &Arc<Mutex<State>>, started: Instant) -> Reply {
    let target = headers.get("x-amz-target").cloned().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    if target.ends_with("GetCallerIdentity") {
        let json = r#"{"Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/tester","UserId":"AIDATESTER"}"#;
        return ("200 OK", "application/x-amz-json-1.0", String::new(), json.to_string());
    }
    if text.contains("Action=GetCallerIdentity") {
        let xml =
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
<Arn>arn:aws:iam::123456789012:user/tester</Arn><UserId>AIDATESTER</UserId><Account>123456789012</Account>\
</GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
        return ("200 OK", "text/xml", String::new(), xml.to_string());
    }
    if let Some(op) = target
        .strip_prefix("com.amazonaws.cloudtrail.v20131101.")
        .unwrap_or(&target)
        .strip_prefix("CloudTrail_20131101.")
    {
        if matches!(op, "StartQuery" | "DescribeQuery" | "GetQueryResults") {
            return lake(op, body, state);
        }
    }
    if let Some(op) = target.strip_prefix("AmazonAthena.") {
        return athena(op, body, state);
    }
    // AWS accepts the target with the Smithy namespace (botocore and the AWS CLI send
    // `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`) or without it (the
    // Rust SDK sends `CloudTrail_20131101.LookupEvents`); so does the fake.
    if !matches!(
        target.as_str(),
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents" | "CloudTrail_20131101.LookupEvents"
    ) {
        let err = format!(
            r#"{{"__type":"UnknownOperationException","message":"fake CloudTrail: unknown target `{target}`"}}"#
        );
        return ("400 Bad Request", "application/x-amz-json-1.1", String::new(), err);
    }
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let region = region_of(headers);
    if region == EXPIRED_REGION && !state.lock().unwrap().token_renewed {
        let err =
            r#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#;
        return ("400 Bad Request", "application/x-amz-json-1.1", String::new(), err.to_string());
    }
    if region == DENIED_REGION {
        let err = r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/tester is not authorized to perform: cloudtrail:LookupEvents"}"#;
        return ("400 Bad Request", "application/x-amz-json-1.1", String::new(), err.to_string());
    }
    let start = req["StartTime"].as_f64().unwrap_or(0.0) as i64;
    let end = req["EndTime"].as_f64().unwrap_or(f64::MAX) as i64;
    let token = req["NextToken"].as_str().map(str::to_string);
    let max = req["MaxResults"].as_u64().unwrap_or(50) as usize;

    let hang = {
        let mut st = state.lock().unwrap();
        st.lookups += 1;
        let n = st.lookups;
        let at = started.elapsed();
        if st.behaviour.hang_after_pages.is_some_and(|h| st.pages >= h) {
            st.log.push(Logged { region: region.clone(), start, token: token.clone(), outcome: "hung", at });
            true
        } else if st.behaviour.throttle_every > 0 && n % st.behaviour.throttle_every == 0 {
            st.log.push(Logged { region, start, token, outcome: "throttled", at });
            let err = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string();
            return (
                "400 Bad Request",
                "application/x-amz-json-1.1",
                "x-amzn-ErrorType: ThrottlingException\r\n".to_string(),
                err,
            );
        } else {
            false
        }
    };
    if hang {
        std::thread::sleep(Duration::from_secs(120));
        let err = r#"{"__type":"ServiceUnavailableException","message":"fake hung"}"#.to_string();
        return ("503 Service Unavailable", "application/x-amz-json-1.1", String::new(), err);
    }

    let mut st = state.lock().unwrap();
    let at = started.elapsed();
    let offset = match &token {
        None => 0,
        Some(t) => match t.strip_prefix(&format!("{region}:{start}:")).and_then(|o| o.parse::<usize>().ok()) {
            Some(o) => o,
            None => {
                let err = r#"{"__type":"InvalidNextTokenException","message":"bad token"}"#.to_string();
                return ("400 Bad Request", "application/x-amz-json-1.1", String::new(), err);
            }
        },
    };
    if token.is_none() && st.empties_left > 0 {
        st.empties_left -= 1;
        st.log.push(Logged { region: region.clone(), start, token: None, outcome: "empty", at });
        let json = serde_json::json!({"Events": [], "NextToken": format!("{region}:{start}:0")});
        return ("200 OK", "application/x-amz-json-1.1", String::new(), json.to_string());
    }
    let page_size = st.behaviour.page_size.min(max.max(1));
    let matching: Vec<&(i64, String)> = st
        .events
        .get(&region)
        .map(|v| v.iter().filter(|(t, _)| *t >= start && *t <= end).collect())
        .unwrap_or_default();
    let page: Vec<serde_json::Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .enumerate()
        .map(|(i, (t, json))| serde_json::json!({"EventId": format!("e-{region}-{}", offset + i), "EventTime": *t as f64, "CloudTrailEvent": json}))
        .collect();
    let next = (offset + page.len() < matching.len()).then(|| format!("{region}:{start}:{}", offset + page.len()));
    st.pages += 1;
    st.log.push(Logged { region, start, token, outcome: "page", at });
    let mut json = serde_json::json!({"Events": page});
    if let Some(n) = next {
        json["NextToken"] = serde_json::Value::String(n);
    }
    ("200 OK", "application/x-amz-json-1.1", String::new(), json.to_string())
}

/// CloudTrail Lake's query API: StartQuery gives an ID; DescribeQuery says RUNNING once, then
/// FINISHED with statistics; GetQueryResults pages the rows 10 at a time with a NextToken;
/// every 4th Lake request is throttled.
fn lake(op: &str, body: &[u8], state: &Arc<Mutex<State>>) -> Reply {
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut st = state.lock().unwrap();
    st.lake_requests += 1;
    if st.lake_requests % 4 == 0 {
        st.lake_throttled += 1;
        let err = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string();
        return (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            "x-amzn-ErrorType: ThrottlingException\r\n".to_string(),
            err,
        );
    }
    let json = match op {
        "StartQuery" => {
            st.lake_statements.push(req["QueryStatement"].as_str().unwrap_or_default().to_string());
            serde_json::json!({"QueryId": format!("q-{}", st.lake_statements.len())})
        }
        "DescribeQuery" => {
            let status = if st.lake_requests % 3 == 0 { "RUNNING" } else { "FINISHED" };
            serde_json::json!({"QueryId": req["QueryId"], "QueryStatus": status,
                "QueryStatistics": {"EventsMatched": 608, "EventsScanned": 650, "BytesScanned": 1_234_567, "ExecutionTimeInMillis": 900}})
        }
        _ => {
            let offset: usize = req["NextToken"]
                .as_str()
                .and_then(|t| t.strip_prefix("rows-"))
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let page: Vec<serde_json::Value> = st.lake_rows.iter().skip(offset).take(10).cloned().collect();
            st.lake_pages += 1;
            let mut out = serde_json::json!({"QueryStatus": "FINISHED", "QueryResultRows": page,
                "QueryStatistics": {"ResultsCount": page.len(), "TotalResultsCount": st.lake_rows.len(), "BytesScanned": 1_234_567}});
            if offset + 10 < st.lake_rows.len() {
                out["NextToken"] = serde_json::Value::String(format!("rows-{}", offset + 10));
            }
            out
        }
    };
    ("200 OK", "application/x-amz-json-1.1", String::new(), json.to_string())
}

/// Athena's query API (JSON 1.1, `X-Amz-Target: AmazonAthena.*`): StartQueryExecution gives an
/// ID; GetQueryExecution says RUNNING once, then SUCCEEDED with statistics; GetQueryResults pages
/// the result set (at most 100 rows a page) with a NextToken; every 5th Athena request is throttled.
fn athena(op: &str, body: &[u8], state: &Arc<Mutex<State>>) -> Reply {
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut st = state.lock().unwrap();
    st.athena_requests += 1;
    if st.athena_requests % 5 == 0 {
        st.athena_throttled += 1;
        let err = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string();
        return (
            "400 Bad Request",
            "application/x-amz-json-1.1",
            "x-amzn-ErrorType: ThrottlingException\r\n".to_string(),
            err,
        );
    }
    let json = match op {
        "StartQueryExecution" => {
            st.athena_queries.push(req["QueryString"].as_str().unwrap_or_default().to_string());
            serde_json::json!({"QueryExecutionId": format!("a-{}", st.athena_queries.len())})
        }
        "GetQueryExecution" => {
            let state = if st.athena_requests % 3 == 0 {
                "RUNNING"
            } else if st.athena_failure.is_some() {
                "FAILED"
            } else {
                "SUCCEEDED"
            };
            let mut status = serde_json::json!({"State": state});
            if let (Some(reason), "FAILED") = (&st.athena_failure, state) {
                status["StateChangeReason"] = serde_json::Value::String(reason.clone());
            }
            serde_json::json!({"QueryExecution": {"QueryExecutionId": req["QueryExecutionId"], "Query": st.athena_queries.last(),
                "Status": status, "Statistics": {"DataScannedInBytes": 5_242_880, "EngineExecutionTimeInMillis": 1200}}})
        }
        "GetQueryResults" => {
            // At most 100 a page whatever MaxResults says (a client must follow NextToken).
            let max = (req["MaxResults"].as_u64().unwrap_or(1000) as usize).min(100);
            let offset: usize = req["NextToken"]
                .as_str()
                .and_then(|t| t.strip_prefix("rows-"))
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let page: Vec<serde_json::Value> = st.athena_rows.iter().skip(offset).take(max).cloned().collect();
            st.athena_pages += 1;
            let mut out = serde_json::json!({"ResultSet": {"Rows": page, "ResultSetMetadata": {"ColumnInfo": st.athena_columns}}, "UpdateCount": 0});
            if offset + max < st.athena_rows.len() {
                out["NextToken"] = serde_json::Value::String(format!("rows-{}", offset + max));
            }
            out
        }
        other => {
            let err = format!(r#"{{"__type":"UnknownOperationException","message":"fake Athena: `{other}`"}}"#);
            return ("400 Bad Request", "application/x-amz-json-1.1", String::new(), err);
        }
    };
    ("200 OK", "application/x-amz-json-1.1", String::new(), json.to_string())
}
