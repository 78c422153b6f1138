//! Queries for engines that scan CloudTrail where it lies (Athena over the trail bucket,
//! CloudTrail Lake), so only distinct call shapes come back: one row per (event source, name,
//! type, region, account, error, calling service, VPC endpoint, role, request parameters,
//! resources) with a count and first/last time. Each row becomes a CloudTrail record the
//! mapper reads like any other, weighted by its count. No AWS SDK here: the SQL and the row
//! decoding are tested on their own (`src/aws/athena.rs` and `src/aws/lake.rs` run them).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::ingest::window::TimeRange;
use crate::select::{PrincipalFilter, PrincipalKind, SplitBy};

/// The result columns every query returns, in order (Athena lower-cases names; CloudTrail
/// Lake keeps them; rows are read by name, case-insensitively).
pub const COLUMNS: &[&str] = &[
    "eventsource",
    "eventname",
    "eventtype",
    "awsregion",
    "recipientaccountid",
    "errorcode",
    "invokedby",
    "vpcendpointid",
    "rolearn",
    "requestparameters",
    "resources",
    "calls",
    "firstseen",
    "lastseen",
    "identitytype",
    "principalarn",
    "issuertype",
];

/// The column a query adds for `--split-by` (Athena's name; Lake's is camel-cased), so that
/// the rows keep what the groups are read from: the session's ARN, the user agent or the source
/// address (`invoked-by` needs none: `invokedby` is always there).
fn split_column(split: Option<SplitBy>, athena: bool) -> Option<&'static str> {
    match (split?, athena) {
        (SplitBy::Session, true) => Some("useridentity.arn AS sessionarn"),
        (SplitBy::Session, false) => Some("userIdentity.arn AS sessionArn"),
        (SplitBy::UserAgent, true) => Some("useragent AS useragent"),
        (SplitBy::UserAgent, false) => Some("userAgent AS userAgent"),
        (SplitBy::SourceIp, true) => Some("sourceipaddress AS sourceipaddress"),
        (SplitBy::SourceIp, false) => Some("sourceIPAddress AS sourceIPAddress"),
        // Rows keep the identity already (type, principal and issuer ARNs).
        (SplitBy::InvokedBy | SplitBy::Principal, _) => None,
    }
}

/// `SELECT` additions and `GROUP BY` for the split column, when there is one.
fn split_parts(split: Option<SplitBy>, athena: bool) -> (String, &'static str) {
    match split_column(split, athena) {
        Some(c) => (format!(",\n  {c}"), ", 18"),
        None => (String::new(), ""),
    }
}

/// How an Athena CloudTrail table is partitioned, so the query prunes partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Partitioning {
    /// Partition projection on a `timestamp` column formatted `yyyy/MM/dd` (the layout of the
    /// CREATE TABLE in the Athena documentation and of `--athena-create-table`).
    #[default]
    Timestamp,
    /// No partition column: the whole table is scanned (and paid for).
    None,
}

/// `--source athena://DATABASE.TABLE?workgroup=W&output=s3://...&partition=timestamp|none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaTable {
    /// Glue database.
    pub database: String,
    /// The CloudTrail table in that database.
    pub table: String,
    /// Workgroup (its settings may give the output location).
    pub workgroup: Option<String>,
    /// Where Athena writes results (`s3://bucket/prefix/`), unless the workgroup sets it.
    pub output: Option<String>,
    /// Partition pruning.
    pub partitioning: Partitioning,
}

/// A `--source athena://` or `lake://` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSource(pub String);

fn identifier_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl AthenaTable {
    /// Parses `athena://DATABASE.TABLE[?workgroup=W][&output=s3://...][&partition=...]`.
    pub fn parse(url: &str) -> Result<AthenaTable, BadSource> {
        let rest =
            url.strip_prefix("athena://").ok_or_else(|| BadSource(format!("`{url}` is not an athena:// source")))?;
        let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (database, table) =
            name.split_once('.').filter(|(d, t)| identifier_ok(d) && identifier_ok(t)).ok_or_else(|| {
                BadSource(format!("`{url}`: expected athena://DATABASE.TABLE (letters, digits, _ and -)"))
            })?;
        let mut t = AthenaTable {
            database: database.into(),
            table: table.into(),
            workgroup: None,
            output: None,
            partitioning: Partitioning::Timestamp,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (k, v) {
                ("workgroup", w) if !w.is_empty() => t.workgroup = Some(w.to_string()),
                ("output", o) if o.starts_with("s3://") => t.output = Some(o.to_string()),
                ("partition", "timestamp") => t.partitioning = Partitioning::Timestamp,
                ("partition", "none") => t.partitioning = Partitioning::None,
                _ => return Err(BadSource(format!("`{url}`: unknown or empty parameter `{pair}` (workgroup=NAME, output=s3://BUCKET/PREFIX/, partition=timestamp|none)"))),
            }
        }
        Ok(t)
    }
}

/// `--source lake://EVENT_DATA_STORE`: the event data store's ID or ARN.
pub(crate) fn parse_lake(url: &str) -> Result<String, BadSource> {
    let eds = url.strip_prefix("lake://").ok_or_else(|| BadSource(format!("`{url}` is not a lake:// source")))?;
    // The ARN's last segment is the ID the FROM clause takes.
    let id = eds.rsplit('/').next().unwrap_or(eds);
    if !identifier_ok(id) {
        return Err(BadSource(format!("`{url}`: expected lake://EVENT_DATA_STORE_ID (or its ARN)")));
    }
    Ok(id.to_string())
}

/// A SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The engine's names for the identity fields the principal conditions read.
struct IdentityFields<'a> {
    /// `useridentity` / `userIdentity`.
    identity: &'a str,
    /// `useridentity.sessioncontext.sessionissuer` / `userIdentity.sessionContext.sessionIssuer`.
    issuer: &'a str,
    /// `username` / `userName`.
    name: &'a str,
    /// `accountid` / `accountId`.
    account: &'a str,
}

/// The conditions that select the principal's records (the same as
/// [`PrincipalFilter::matches`], which checks every row again): IAM names are unique regardless
/// of case, so they are compared lower-cased.
fn principal_condition(p: &PrincipalFilter, f: &IdentityFields<'_>) -> Vec<String> {
    let (id, issuer, name, account) = (f.identity, f.issuer, f.name, f.account);
    let lower = literal(&p.name().to_ascii_lowercase());
    let in_account =
        |who: &str| p.account().map(|a| format!(" AND {who}.{account} = {}", literal(a))).unwrap_or_default();
    match p.kind() {
        PrincipalKind::Role => {
            let mut c = vec![format!("lower({issuer}.{name}) = {lower}")];
            if let Some(a) = p.account() {
                c.push(format!("{issuer}.{account} = {}", literal(a)));
            }
            c
        }
        PrincipalKind::User => vec![format!(
            "(({id}.type = 'IAMUser' AND lower({id}.{name}) = {lower}{}) OR ({id}.type = 'FederatedUser' AND {issuer}.type = 'IAMUser' AND lower({issuer}.{name}) = {lower}{}))",
            in_account(id),
            in_account(issuer)
        )],
        PrincipalKind::FederatedUser => {
            vec![format!("{id}.type = 'FederatedUser'"), format!("{id}.arn = {}", literal(p.as_str()))]
        }
        PrincipalKind::PermissionSet => {
            let prefix = format!("awsreservedsso_{}_", p.name().to_ascii_lowercase());
            vec![format!("substr(lower({issuer}.{name}), 1, {}) = {}", prefix.len(), literal(&prefix))]
        }
    }
}

/// `column >= 'from'` and `column <= 'to'` for the bounds `range` has, times in `format`.
fn time_bounds(column: &str, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>, format: &str) -> Vec<String> {
    let mut c = Vec::new();
    if let Some(f) = from {
        c.push(format!("{column} >= {}", literal(&f.format(format).to_string())));
    }
    if let Some(t) = to {
        c.push(format!("{column} <= {}", literal(&t.format(format).to_string())));
    }
    c
}

/// The Athena (Trino) query for a CloudTrail table created as the Athena documentation shows
/// (`useridentity` and `resources` structs, `requestparameters` a JSON string, `eventtime` an
/// ISO 8601 string).
pub fn athena_sql(
    t: &AthenaTable,
    role: Option<&PrincipalFilter>,
    range: &TimeRange,
    split: Option<SplitBy>,
) -> String {
    let (split_select, split_group) = split_parts(split, true);
    let issuer = "useridentity.sessioncontext.sessionissuer";
    let fields = IdentityFields { identity: "useridentity", issuer, name: "username", account: "accountid" };
    let mut wh = role.map(|r| principal_condition(r, &fields)).unwrap_or_default();
    wh.extend(time_bounds("eventtime", range.from, range.to, "%Y-%m-%dT%H:%M:%SZ"));
    if t.partitioning == Partitioning::Timestamp {
        // Partition days are delivery days: a record can arrive up to a day after its event.
        let day_after = range.to.map(|to| to + chrono::Duration::days(1));
        wh.extend(time_bounds("\"timestamp\"", range.from, day_after, "%Y/%m/%d"));
    }
    format!(
        "SELECT eventsource, eventname, eventtype, awsregion, recipientaccountid, errorcode,
  useridentity.invokedby AS invokedby, vpcendpointid, {issuer}.arn AS rolearn,
  requestparameters, array_join(transform(resources, r -> r.arn), ' ') AS resources,
  count(*) AS calls, min(eventtime) AS firstseen, max(eventtime) AS lastseen,
  useridentity.type AS identitytype,
  CASE WHEN useridentity.type IN ('IAMUser', 'FederatedUser') THEN useridentity.arn END AS principalarn,
  {issuer}.type AS issuertype{split_select}
FROM \"{}\".\"{}\"
WHERE {}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17{split_group}
ORDER BY 1, 2, 4, 6, 10, 11",
        t.database,
        t.table,
        if wh.is_empty() { "TRUE".to_string() } else { wh.join("\n  AND ") }
    )
}

/// The CloudTrail Lake query for event data store `eds` (camel-case fields, `eventTime` a
/// timestamp, `requestParameters` a map of strings).
pub fn lake_sql(eds: &str, role: Option<&PrincipalFilter>, range: &TimeRange, split: Option<SplitBy>) -> String {
    let (split_select, split_group) = split_parts(split, false);
    let issuer = "userIdentity.sessionContext.sessionIssuer";
    let fields = IdentityFields { identity: "userIdentity", issuer, name: "userName", account: "accountId" };
    let mut wh = role.map(|r| principal_condition(r, &fields)).unwrap_or_default();
    wh.extend(time_bounds("eventTime", range.from, range.to, "%Y-%m-%d %H:%M:%S"));
    format!(
        "SELECT eventSource, eventName, eventType, awsRegion, recipientAccountId, errorCode,
  userIdentity.invokedBy AS invokedBy, vpcEndpointId, {issuer}.arn AS roleArn,
  json_format(CAST(requestParameters AS JSON)) AS requestParameters,
  array_join(transform(resources, r -> r.arn), ' ') AS resources,
  count(*) AS calls, min(eventTime) AS firstSeen, max(eventTime) AS lastSeen,
  userIdentity.type AS identityType,
  CASE WHEN userIdentity.type IN ('IAMUser', 'FederatedUser') THEN userIdentity.arn END AS principalArn,
  {issuer}.type AS issuerType{split_select}
FROM {eds}
WHERE {}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17{split_group}
ORDER BY 1, 2, 4, 6, 10, 11",
        if wh.is_empty() { "TRUE".to_string() } else { wh.join("\n  AND ") }
    )
}

/// The CREATE TABLE of the Athena documentation ("Create a table for CloudTrail logs in Athena
/// using partition projection") for the trail files under `location`
/// (`s3://BUCKET/[PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION/`).
pub(crate) fn athena_create_table(t: &AthenaTable, location: &str) -> String {
    let location = if location.ends_with('/') { location.to_string() } else { format!("{location}/") };
    format!(
        "CREATE EXTERNAL TABLE `{db}`.`{table}` (
  eventversion STRING,
  useridentity STRUCT<
    type: STRING, principalid: STRING, arn: STRING, accountid: STRING, invokedby: STRING,
    accesskeyid: STRING, username: STRING, onbehalfof: STRUCT<userid: STRING, identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      ec2roledelivery: STRING, webidfederationdata: STRUCT<federatedprovider: STRING, attributes: MAP<STRING,STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<reason: STRING, updatedfields: STRING, originalrequestid: STRING, originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<tlsversion: STRING, ciphersuite: STRING, clientprovidedhostheader: STRING>
)
PARTITIONED BY (`timestamp` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{location}'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'projection.timestamp.range'='2013/11/01,NOW',
  'projection.timestamp.type'='date',
  'storage.location.template'='{location}${{timestamp}}'
)
",
        db = t.database,
        table = t.table,
    )
}

/// One result row: column name (lower case) -> value (`None` for SQL NULL).
pub type Row = BTreeMap<String, Option<String>>;

/// A call shape decoded from a row: the CloudTrail record it stands for (JSON), how many calls,
/// and the last time seen (the record carries the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallShape {
    /// A CloudTrail record with the row's fields, `eventTime` the first time seen.
    pub record: String,
    /// Calls of this shape.
    pub calls: u64,
    /// The same record with `eventTime` the last time seen (when it differs).
    pub last: Option<String>,
}

/// `2026-10-01T10:00:00Z` (Athena) or `2026-10-01 10:00:00.000` (Lake) as RFC 3339.
fn rfc3339(t: &str) -> Option<String> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    Some(naive.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Decodes one row into the record it stands for; errors name the column at fault.
pub fn call_shape(row: &Row) -> Result<CallShape, String> {
    let get = |k: &str| row.get(k).cloned().flatten().filter(|v| !v.is_empty());
    let need = |k: &str| get(k).ok_or_else(|| format!("column `{k}` is empty"));
    let calls: u64 = need("calls")?
        .parse()
        .map_err(|_| format!("column `calls` is not a count: `{}`", get("calls").unwrap_or_default()))?;
    let first = need("firstseen")?;
    let first = rfc3339(&first).ok_or_else(|| format!("column `firstseen` is not a time: `{first}`"))?;
    let last = match get("lastseen") {
        Some(l) => Some(rfc3339(&l).ok_or_else(|| format!("column `lastseen` is not a time: `{l}`"))?),
        None => None,
    };
    let params: serde_json::Value = match get("requestparameters") {
        None => serde_json::Value::Null,
        Some(p) => serde_json::from_str(&p).map_err(|e| format!("column `requestparameters` is not JSON ({e})"))?,
    };
    let resources: Vec<serde_json::Value> =
        get("resources").unwrap_or_default().split_whitespace().map(|a| serde_json::json!({"ARN": a})).collect();
    // Role sessions are grouped by role (the session ARN would split every row); users and
    // federated users keep their ARN. Rows of older queries have no identity type: role sessions.
    let kind = get("identitytype").unwrap_or_else(|| "AssumedRole".to_string());
    let mut identity = serde_json::json!({ "type": kind });
    // With --split-by session the row keeps the session's ARN (its name is the group).
    if let Some(arn) = get("principalarn").or_else(|| get("sessionarn")) {
        identity["arn"] = serde_json::Value::String(arn);
    }
    match get("rolearn") {
        Some(issuer) => {
            let issuer_type = get("issuertype").unwrap_or_else(|| "Role".to_string());
            identity["sessionContext"] = serde_json::json!({"sessionIssuer": {"type": issuer_type, "arn": issuer}});
        }
        None if kind == "AssumedRole" => return Err("column `rolearn` is empty".to_string()),
        None => {}
    }
    if let Some(by) = get("invokedby") {
        identity["invokedBy"] = serde_json::Value::String(by);
    }
    let mut record = serde_json::json!({
        "eventTime": first,
        "eventSource": need("eventsource")?,
        "eventName": need("eventname")?,
        "userIdentity": identity,
        "requestParameters": params,
    });
    for (column, field) in [
        ("eventtype", "eventType"),
        ("awsregion", "awsRegion"),
        ("recipientaccountid", "recipientAccountId"),
        ("errorcode", "errorCode"),
        ("vpcendpointid", "vpcEndpointId"),
        ("useragent", "userAgent"),
        ("sourceipaddress", "sourceIPAddress"),
    ] {
        if let Some(v) = get(column) {
            record[field] = serde_json::Value::String(v);
        }
    }
    if !resources.is_empty() {
        record["resources"] = serde_json::Value::Array(resources);
    }
    let text = record.to_string();
    let last = match last {
        Some(l) if l != first && calls > 1 => {
            record["eventTime"] = serde_json::Value::String(l);
            Some(record.to_string())
        }
        _ => None,
    };
    Ok(CallShape { record: text, calls, last })
}

/// Row from column names and values (names lower-cased).
pub fn row(names: &[String], values: Vec<Option<String>>) -> Row {
    names.iter().map(|n| n.to_ascii_lowercase()).zip(values).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_with_clear_errors() {
        let t =
            AthenaTable::parse("athena://cloudtrail.org_trail?workgroup=audit&output=s3://results/iamtrim/").unwrap();
        assert_eq!(
            (t.database.as_str(), t.table.as_str(), t.workgroup.as_deref(), t.output.as_deref()),
            ("cloudtrail", "org_trail", Some("audit"), Some("s3://results/iamtrim/"))
        );
        assert_eq!(t.partitioning, Partitioning::Timestamp);
        assert_eq!(AthenaTable::parse("athena://d.t?partition=none").unwrap().partitioning, Partitioning::None);
        assert!(AthenaTable::parse("athena://nodot").unwrap_err().0.contains("DATABASE.TABLE"));
        assert!(AthenaTable::parse("athena://d.t?colour=red").unwrap_err().0.contains("colour=red"));
        assert!(AthenaTable::parse("athena://d.t; DROP TABLE x").is_err());
        assert_eq!(
            parse_lake("lake://arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/0123abcd-ef").unwrap(),
            "0123abcd-ef"
        );
        assert!(parse_lake("lake://a b").is_err());
    }

    #[test]
    fn literals_escape_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn rows_become_records_with_counts_and_times() {
        let names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        let v = |s: &str| Some(s.to_string());
        let r = row(
            &names,
            vec![
                v("s3.amazonaws.com"),
                v("GetObject"),
                v("AwsApiCall"),
                v("us-east-1"),
                v("123456789012"),
                None,
                None,
                v("vpce-1"),
                v("arn:aws:iam::123456789012:role/app"),
                v(r#"{"bucketName":"b","key":"k"}"#),
                v("arn:aws:s3:::b/k arn:aws:s3:::b"),
                v("42"),
                v("2026-10-01 08:00:00.000"),
                v("2026-10-03T09:00:00Z"),
            ],
        );
        let shape = call_shape(&r).unwrap();
        assert_eq!(shape.calls, 42);
        let rec: serde_json::Value = serde_json::from_str(&shape.record).unwrap();
        assert_eq!(rec["eventTime"], "2026-10-01T08:00:00Z");
        assert_eq!(rec["resources"][1]["ARN"], "arn:aws:s3:::b");
        assert_eq!(rec["vpcEndpointId"], "vpce-1");
        assert_eq!(rec["requestParameters"]["key"], "k");
        assert!(rec.get("errorCode").is_none());
        let last: serde_json::Value = serde_json::from_str(shape.last.as_deref().unwrap()).unwrap();
        assert_eq!(last["eventTime"], "2026-10-03T09:00:00Z");
        let mut bad = r.clone();
        bad.insert("requestparameters".into(), v("{not json"));
        assert!(call_shape(&bad).unwrap_err().contains("requestparameters"));
        bad.insert("calls".into(), v("many"));
        assert!(call_shape(&bad).unwrap_err().contains("calls"));
    }

    #[test]
    fn each_kind_of_principal_is_selected_in_the_query_and_its_rows_keep_the_identity() {
        let range = TimeRange::parse(None, None).unwrap();
        let t = AthenaTable::parse("athena://d.t?partition=none").unwrap();
        let alice = PrincipalFilter::user("arn:aws:iam::111122223333:user/Alice").unwrap();
        let bob = PrincipalFilter::principal("arn:aws:sts::111122223333:federated-user/bob").unwrap();
        let set = PrincipalFilter::permission_set("ReadOnly").unwrap();
        for (p, athena_has, lake_has) in [
            (
                &alice,
                "(useridentity.type = 'IAMUser' AND lower(useridentity.username) = 'alice' AND useridentity.accountid = '111122223333') OR (useridentity.type = 'FederatedUser' AND useridentity.sessioncontext.sessionissuer.type = 'IAMUser'",
                "userIdentity.type = 'IAMUser' AND lower(userIdentity.userName) = 'alice'",
            ),
            (
                &bob,
                "useridentity.arn = 'arn:aws:sts::111122223333:federated-user/bob'",
                "userIdentity.arn = 'arn:aws:sts::111122223333:federated-user/bob'",
            ),
            (
                &set,
                "substr(lower(useridentity.sessioncontext.sessionissuer.username), 1, 24) = 'awsreservedsso_readonly_'",
                "substr(lower(userIdentity.sessionContext.sessionIssuer.userName), 1, 24) = 'awsreservedsso_readonly_'",
            ),
        ] {
            let (a, l) = (athena_sql(&t, Some(p), &range, None), lake_sql("eds", Some(p), &range, None));
            assert!(a.contains(athena_has), "{}: {a}", p.describe());
            assert!(l.contains(lake_has), "{}: {l}", p.describe());
        }
        let names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        let v = |s: &str| Some(s.to_string());
        let mut values = vec![None; COLUMNS.len()];
        for (column, value) in [
            ("eventsource", v("s3.amazonaws.com")),
            ("eventname", v("ListBuckets")),
            ("calls", v("3")),
            ("firstseen", v("2026-10-01T08:00:00Z")),
            ("identitytype", v("IAMUser")),
            ("principalarn", v("arn:aws:iam::111122223333:user/alice")),
        ] {
            values[COLUMNS.iter().position(|c| *c == column).unwrap()] = value;
        }
        let shape = call_shape(&row(&names, values.clone())).unwrap();
        let event = crate::ingest::event::Event::from_json(&shape.record).unwrap();
        assert!(alice.matches(&event) && !set.matches(&event), "{}", shape.record);
        // A role session's row without its role cannot be placed.
        values[COLUMNS.iter().position(|c| *c == "identitytype").unwrap()] = v("AssumedRole");
        assert!(call_shape(&row(&names, values)).unwrap_err().contains("rolearn"));
    }
}
