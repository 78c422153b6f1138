//! CloudTrail Lake: the same aggregating query as Athena's, in Lake's SQL
//! ([`crate::select::warehouse::lake_sql`]), run with StartQuery, DescribeQuery polled with backoff and
//! GetQueryResults paged. Lake bills by bytes scanned; they are reported.

use std::time::{Duration, Instant};

use aws_sdk_cloudtrail::types::QueryStatus;

use super::{explain, is_throttled, load_config, AwsError, AwsOptions};
use crate::mapping::mapper::EventMapper;
use crate::select::warehouse::{lake_sql, Row};
use crate::usage::completeness::{Gap, GapKind};
use crate::usage::{Selection, Usage};

/// What to run.
#[derive(Debug, Clone)]
pub struct LakeOptions {
    /// Event data store ID.
    pub event_data_store: String,
    /// Region of the event data store (default: the profile's).
    pub region: Option<String>,
    /// Where progress is shown.
    pub progress: crate::progress::ProgressSink,
    /// Credentials and endpoint.
    pub aws: AwsOptions,
}

/// Counters of the run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LakeStats {
    /// The query.
    pub query_id: String,
    /// The SQL sent.
    pub sql: String,
    /// Bytes scanned (what Lake bills).
    pub bytes_scanned: i64,
    /// Events the query scanned.
    pub events_scanned: i64,
    /// DescribeQuery polls.
    pub polls: u64,
    /// GetQueryResults pages.
    pub pages: u64,
    /// Requests answered with throttling (retried).
    pub throttled: u64,
    /// Result rows (distinct call shapes).
    pub rows: u64,
    /// Wall seconds.
    pub seconds: f64,
}

/// Runs the query for `selection` and aggregates its rows.
pub async fn collect(
    opts: &LakeOptions,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, LakeStats), AwsError> {
    let started = Instant::now();
    let role = selection.role.as_ref().ok_or_else(|| AwsError::BadSource("lake:// needs --role".into()))?;
    let sql = lake_sql(&opts.event_data_store, role, &selection.range);
    let config = load_config(&opts.aws, opts.region.as_deref()).await?;
    let client = aws_sdk_cloudtrail::Client::new(&config);
    let mut stats = LakeStats { sql: sql.clone(), ..LakeStats::default() };
    let backoff = |attempt: u32| Duration::from_millis(250 * 2u64.pow(attempt.min(4)));

    let mut attempt = 0;
    let id = loop {
        match client.start_query().query_statement(&sql).send().await {
            Ok(o) => break o.query_id().unwrap_or_default().to_string(),
            Err(e) if is_throttled(&e) => {
                stats.throttled += 1;
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(AwsError::Call(explain(&e, "cloudtrail:StartQuery", "starting the CloudTrail Lake query")))
            }
        }
    };
    stats.query_id = id.clone();
    // Once the query runs, a failure (failed or cancelled query, results that cannot be read)
    // is a gap: the rows read so far are kept and the run is incomplete.
    let mut usage = Usage::default();
    let spinner = opts.progress.task("lake query", None, "");
    let outcome: Result<(), AwsError> = async {
        let mut wait = Duration::from_millis(250);
        loop {
            stats.polls += 1;
            let out = match client.describe_query().query_id(&id).send().await {
                Ok(o) => o,
                Err(e) if is_throttled(&e) => {
                    stats.throttled += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => {
                    return Err(AwsError::Call(explain(
                        &e,
                        "cloudtrail:DescribeQuery",
                        "waiting for the CloudTrail Lake query",
                    )))
                }
            };
            if let Some(s) = out.query_statistics() {
                stats.bytes_scanned = s.bytes_scanned().unwrap_or(0);
                stats.events_scanned = s.events_scanned().unwrap_or(0);
            }
            let status = out.query_status().cloned();
            spinner.message(format!(
                "lake query {id}: {} · {} events scanned",
                status.as_ref().map_or("?", |s| s.as_str()),
                stats.events_scanned
            ));
            match status {
                Some(QueryStatus::Finished) => break,
                Some(s @ (QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::TimedOut)) => {
                    spinner.finish();
                    let reason = out.error_message().unwrap_or("no reason given");
                    return Err(AwsError::Call(format!(
                        "the CloudTrail Lake query {id} ended {}: {reason}",
                        s.as_str()
                    )));
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }

        let mut token: Option<String> = None;
        let source = format!("lake query {id}");
        let mut attempt = 0;
        loop {
            let mut req = client.get_query_results().query_id(&id);
            if let Some(t) = &token {
                req = req.next_token(t);
            }
            let page = match req.send().await {
                Ok(p) => p,
                Err(e) if is_throttled(&e) => {
                    stats.throttled += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => {
                    return Err(AwsError::Call(explain(
                        &e,
                        "cloudtrail:GetQueryResults",
                        "reading the CloudTrail Lake results",
                    )))
                }
            };
            attempt = 0;
            stats.pages += 1;
            for r in page.query_result_rows() {
                // Each row is a list of one-entry maps, column -> value.
                let row: Row =
                    r.iter().flat_map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), Some(v.clone())))).collect();
                stats.rows += 1;
                usage.ingest_row(&source, stats.rows as usize, &row, selection, &mapper);
            }
            spinner.message(format!("lake query {id}: {} rows read", stats.rows));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(())
    }
    .await;
    spinner.finish();
    if let Err(e) = outcome {
        usage.add_gap(
            Gap::new(GapKind::Query, format!("lake query {id}"), e.to_string())
                .window(selection.range.from, selection.range.to),
        );
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((usage, stats))
}
