//! A loopback stand-in for IAM's last-accessed API (moto has none), speaking IAM's real wire
//! protocol: HTTP/1.1 POST of a form (`Action=GenerateServiceLastAccessedDetails&Version=
//! 2010-05-08&Arn=...&Granularity=ACTION_LEVEL`), answered in XML (the AWS query protocol),
//! errors as `<ErrorResponse><Error><Code>`. Every other request (GetAccountAuthorizationDetails,
//! STS, ...) is forwarded byte for byte to the moto server behind it, so one `--endpoint-url`
//! reaches both.
//!
//! Misbehaviour on purpose: every `throttle_every`-th last-accessed request is throttled (HTTP
//! 400 `Throttling`); a job answers `IN_PROGRESS` to its first `polls_in_progress` reads; the
//! services of an answer are paged `page_size` at a time with `Marker`/`IsTruncated`; the ARNs
//! in `denied` get `AccessDenied` on GenerateServiceLastAccessedDetails; those in `failing` get a
//! job that ends `FAILED`.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One service of a principal's last-accessed answer.
#[derive(Debug, Clone, Default)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// RFC 3339, or none (never, in the tracking period).
    pub last_authenticated: Option<String>,
    pub region: Option<String>,
    /// (ActionName without prefix, last accessed) for services tracked action by action; `None`
    /// for a service IAM reports as a whole.
    pub actions: Option<Vec<(String, Option<String>)>>,
}

/// Behaviour knobs.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    pub throttle_every: usize,
    pub polls_in_progress: usize,
    pub page_size: usize,
    pub denied: Vec<String>,
    pub failing: Vec<String>,
}

#[derive(Default)]
struct State {
    data: BTreeMap<String, Vec<Service>>,
    behaviour: Behaviour,
    /// job id -> (arn, polls so far)
    jobs: BTreeMap<String, (String, usize)>,
    requests: usize,
    throttled: usize,
    in_progress_answers: usize,
    pages: usize,
    granularities: Vec<String>,
    forwarded: Vec<String>,
}

/// What the fake saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub jobs: usize,
    pub throttled: usize,
    pub in_progress_answers: usize,
    pub pages: usize,
    pub granularities: Vec<String>,
    /// The Action of each request forwarded to moto.
    pub forwarded: Vec<String>,
}

/// The running fake.
pub struct FakeIam {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeIam {
    /// Serves `data` (principal ARN -> its services) in front of the moto server at `upstream`.
    pub fn start(upstream: &str, data: BTreeMap<String, Vec<Service>>, behaviour: Behaviour) -> FakeIam {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut behaviour = behaviour;
        if behaviour.page_size == 0 {
            behaviour.page_size = 100;
        }
        let state = Arc::new(Mutex::new(State { data, behaviour, ..State::default() }));
        let st = state.clone();
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (st, up) = (st.clone(), upstream.clone());
                std::thread::spawn(move || serve(conn, st, &up));
            }
        });
        FakeIam { url, state }
    }

    /// What it saw so far.
    pub fn seen(&self) -> Seen {
        let st = self.state.lock().unwrap();
        Seen {
            jobs: st.jobs.len(),
            throttled: st.throttled,
            in_progress_answers: st.in_progress_answers,
            pages: st.pages,
            granularities: st.granularities.clone(),
            forwarded: st.forwarded.clone(),
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` value.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn serve(conn: TcpStream, state: Arc<Mutex<State>>, upstream: &str) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut writer = conn;
    while let Some(crate::util::HttpRequest { line, raw_headers, body, .. }) =
        crate::util::read_http_request(&mut reader)
    {
        let params = form(&body);
        let action = params.get("Action").cloned().unwrap_or_default();
        let (status, content_type, payload) =
            if matches!(action.as_str(), "GenerateServiceLastAccessedDetails" | "GetServiceLastAccessedDetails") {
                let (s, p) = last_accessed(&action, &params, &state);
                (s.to_string(), "text/xml".to_string(), p.into_bytes())
            } else {
                state.lock().unwrap().forwarded.push(action.clone());
                match forward(upstream, &line, &raw_headers, &body) {
                    Ok(r) => r,
                    Err(e) => {
                        ("502 Bad Gateway".into(), "text/plain".into(), format!("fake IAM: moto: {e}").into_bytes())
                    }
                }
            };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: fake-iam\r\n\r\n",
            payload.len()
        );
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&payload)).is_err() {
            return;
        }
    }
}

/// Sends the request to moto as it came (with `Connection: close`) and reads its whole answer.
fn forward(
    upstream: &str,
    request_line: &str,
    headers: &[String],
    body: &[u8],
) -> std::io::Result<(String, String, Vec<u8>)> {
    let mut up = TcpStream::connect(upstream)?;
    let mut req = request_line.trim_end().to_string() + "\r\n";
    for h in headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("host:") {
            continue;
        }
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str(&format!("Host: {upstream}\r\nConnection: close\r\n\r\n"));
    up.write_all(req.as_bytes())?;
    up.write_all(body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or(std::io::ErrorKind::InvalidData)?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut rest = answer[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").split_once(' ').map_or("200 OK", |x| x.1).to_string();
    let mut content_type = "text/xml".to_string();
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = v.trim().to_string(),
                "transfer-encoding" => chunked = v.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    if chunked {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(end) = rest[at..].windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[at..at + end]).trim(), 16).unwrap_or(0);
            at += end + 2;
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
        rest = out;
    }
    Ok((status, content_type, rest))
}

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn error(code: &str, message: &str) -> (&'static str, String) {
    let status = if code == "NoSuchEntity" { "404 Not Found" } else { "400 Bad Request" };
    let status = if code == "AccessDenied" { "403 Forbidden" } else { status };
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>fake-iam</RequestId></ErrorResponse>",
            xml_escape(message)
        ),
    )
}

fn last_accessed(action: &str, params: &BTreeMap<String, String>, state: &Arc<Mutex<State>>) -> (&'static str, String) {
    let mut st = state.lock().unwrap();
    st.requests += 1;
    if st.behaviour.throttle_every > 0 && st.requests % st.behaviour.throttle_every == 0 {
        st.throttled += 1;
        return error("Throttling", "Rate exceeded");
    }
    if action == "GenerateServiceLastAccessedDetails" {
        let arn = params.get("Arn").cloned().unwrap_or_default();
        st.granularities.push(params.get("Granularity").cloned().unwrap_or_default());
        if st.behaviour.denied.contains(&arn) {
            return error(
                "AccessDenied",
                &format!("User: arn:aws:iam::123456789012:user/tester is not authorized to perform: iam:GenerateServiceLastAccessedDetails on resource: {arn}"),
            );
        }
        let id = format!("job-{}", st.jobs.len() + 1);
        st.jobs.insert(id.clone(), (arn, 0));
        return (
            "200 OK",
            format!(
                "<GenerateServiceLastAccessedDetailsResponse xmlns=\"{NS}\"><GenerateServiceLastAccessedDetailsResult><JobId>{id}</JobId></GenerateServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>fake-iam</RequestId></ResponseMetadata></GenerateServiceLastAccessedDetailsResponse>"
            ),
        );
    }
    let id = params.get("JobId").cloned().unwrap_or_default();
    let in_progress = st.behaviour.polls_in_progress;
    let Some((arn, polls)) = st.jobs.get_mut(&id).map(|(a, p)| {
        *p += 1;
        (a.clone(), *p)
    }) else {
        return error("NoSuchEntity", &format!("no job {id}"));
    };
    let created = "2026-12-01T10:00:00Z";
    if polls <= in_progress {
        st.in_progress_answers += 1;
        return (
            "200 OK",
            format!(
                "<GetServiceLastAccessedDetailsResponse xmlns=\"{NS}\"><GetServiceLastAccessedDetailsResult><JobStatus>IN_PROGRESS</JobStatus><JobType>ACTION_LEVEL</JobType><JobCreationDate>{created}</JobCreationDate><ServicesLastAccessed/><JobCompletionDate>{created}</JobCompletionDate><IsTruncated>false</IsTruncated></GetServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>fake-iam</RequestId></ResponseMetadata></GetServiceLastAccessedDetailsResponse>"
            ),
        );
    }
    if st.behaviour.failing.contains(&arn) {
        return (
            "200 OK",
            format!(
                "<GetServiceLastAccessedDetailsResponse xmlns=\"{NS}\"><GetServiceLastAccessedDetailsResult><JobStatus>FAILED</JobStatus><JobType>ACTION_LEVEL</JobType><JobCreationDate>{created}</JobCreationDate><ServicesLastAccessed/><JobCompletionDate>{created}</JobCompletionDate><IsTruncated>false</IsTruncated><Error><Code>InternalError</Code><Message>the job could not finish</Message></Error></GetServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>fake-iam</RequestId></ResponseMetadata></GetServiceLastAccessedDetailsResponse>"
            ),
        );
    }
    let services = st.data.get(&arn).cloned().unwrap_or_default();
    let offset: usize =
        params.get("Marker").and_then(|m| m.strip_prefix("m-")).and_then(|o| o.parse().ok()).unwrap_or(0);
    let size = st.behaviour.page_size;
    st.pages += 1;
    let mut members = String::new();
    for s in services.iter().skip(offset).take(size) {
        members.push_str("<member>");
        members.push_str(&format!(
            "<ServiceName>{}</ServiceName><ServiceNamespace>{}</ServiceNamespace>",
            xml_escape(&s.name),
            xml_escape(&s.namespace)
        ));
        if let Some(t) = &s.last_authenticated {
            members.push_str(&format!(
                "<LastAuthenticated>{t}</LastAuthenticated><LastAuthenticatedEntity>{}</LastAuthenticatedEntity>",
                xml_escape(&arn)
            ));
        }
        if let Some(r) = &s.region {
            members.push_str(&format!("<LastAuthenticatedRegion>{r}</LastAuthenticatedRegion>"));
        }
        members.push_str(&format!(
            "<TotalAuthenticatedEntities>{}</TotalAuthenticatedEntities>",
            u8::from(s.last_authenticated.is_some())
        ));
        if let Some(actions) = &s.actions {
            members.push_str("<TrackedActionsLastAccessed>");
            for (name, t) in actions {
                members.push_str(&format!("<member><ActionName>{}</ActionName>", xml_escape(name)));
                if let Some(t) = t {
                    members.push_str(&format!(
                        "<LastAccessedTime>{t}</LastAccessedTime><LastAccessedEntity>{}</LastAccessedEntity><LastAccessedRegion>{}</LastAccessedRegion>",
                        xml_escape(&arn),
                        s.region.as_deref().unwrap_or("us-east-1")
                    ));
                }
                members.push_str("</member>");
            }
            members.push_str("</TrackedActionsLastAccessed>");
        }
        members.push_str("</member>");
    }
    let more = offset + size < services.len();
    let marker = if more { format!("<Marker>m-{}</Marker>", offset + size) } else { String::new() };
    (
        "200 OK",
        format!(
            "<GetServiceLastAccessedDetailsResponse xmlns=\"{NS}\"><GetServiceLastAccessedDetailsResult><JobStatus>COMPLETED</JobStatus><JobType>ACTION_LEVEL</JobType><JobCreationDate>{created}</JobCreationDate><ServicesLastAccessed>{members}</ServicesLastAccessed><JobCompletionDate>2026-12-01T10:00:05Z</JobCompletionDate><IsTruncated>{more}</IsTruncated>{marker}</GetServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>fake-iam</RequestId></ResponseMetadata></GetServiceLastAccessedDetailsResponse>"
        ),
    )
}
