//! CloudTrail Lake: the same aggregating query as Athena's, in Lake's SQL
//! ([`crate::select::warehouse::lake_sql`]), run with StartQuery, DescribeQuery polled with backoff and
//! GetQueryResults paged. Lake bills by bytes scanned; they are reported.

use std::time::Instant;

use aws_sdk_cloudtrail::types::QueryStatus;

use super::query::{self, failure, CallFailure, QueryService, QueryState, ResultPage};
use super::{load_config, AwsError, AwsOptions};
use crate::mapping::mapper::EventMapper;
use crate::select::warehouse::lake_sql;
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

/// One line: the query, what it scanned, the rows and pages read.
impl std::fmt::Display for LakeStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lake: query {} scanned {} events, {:.1} MB, {} distinct call shapes in {} pages ({} throttled requests retried), {:.1} s",
            self.query_id,
            self.events_scanned,
            self.bytes_scanned as f64 / 1e6,
            self.rows,
            self.pages,
            self.throttled,
            self.seconds
        )
    }
}

/// Runs the query for `selection` and aggregates its rows.
pub async fn collect(
    opts: &LakeOptions,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, LakeStats), AwsError> {
    let started = Instant::now();
    // One principal, or every one kept apart (the audit).
    let role = selection.principal.as_ref();
    if role.is_none() && selection.split_by != Some(crate::select::SplitBy::Principal) {
        return Err(AwsError::BadSource(
            "lake:// needs one principal (--role, --user, --principal or --permission-set)".into(),
        ));
    }
    let sql = lake_sql(&opts.event_data_store, role, &selection.range, selection.split_by);
    let config = load_config(&opts.aws, opts.region.as_deref()).await?;
    let mut query = LakeQuery {
        client: aws_sdk_cloudtrail::Client::new(&config),
        stats: LakeStats { sql, ..LakeStats::default() },
    };
    let (id, usage, counters) = query::run(&mut query, selection, &mapper, &opts.progress).await?;
    let mut stats = query.stats;
    stats.query_id = id;
    stats.polls = counters.polls;
    stats.pages = counters.pages;
    stats.throttled = counters.throttled;
    stats.rows = counters.rows;
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((usage, stats))
}

/// One CloudTrail Lake query: StartQuery, DescribeQuery, GetQueryResults.
struct LakeQuery {
    client: aws_sdk_cloudtrail::Client,
    stats: LakeStats,
}

impl QueryService for LakeQuery {
    const NAME: &'static str = "lake";

    async fn start(&mut self) -> Result<String, CallFailure> {
        let out = self
            .client
            .start_query()
            .query_statement(&self.stats.sql)
            .send()
            .await
            .map_err(|e| failure(&e, "cloudtrail:StartQuery", "starting the CloudTrail Lake query"))?;
        Ok(out.query_id().unwrap_or_default().to_string())
    }

    async fn state(&mut self, id: &str) -> Result<QueryState, CallFailure> {
        let out = self
            .client
            .describe_query()
            .query_id(id)
            .send()
            .await
            .map_err(|e| failure(&e, "cloudtrail:DescribeQuery", "waiting for the CloudTrail Lake query"))?;
        if let Some(s) = out.query_statistics() {
            self.stats.bytes_scanned = s.bytes_scanned().unwrap_or(0);
            self.stats.events_scanned = s.events_scanned().unwrap_or(0);
        }
        let status = out.query_status().cloned();
        Ok(match status {
            Some(QueryStatus::Finished) => QueryState::Succeeded,
            Some(s @ (QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::TimedOut)) => {
                let reason = out.error_message().unwrap_or("no reason given");
                QueryState::Ended(format!("the CloudTrail Lake query {id} ended {}: {reason}", s.as_str()))
            }
            _ => QueryState::Running(format!(
                "{} · {} events scanned",
                status.as_ref().map_or("?", |s| s.as_str()),
                self.stats.events_scanned
            )),
        })
    }

    async fn page(&mut self, id: &str, _page: u64, token: Option<&str>) -> Result<ResultPage, CallFailure> {
        let mut req = self.client.get_query_results().query_id(id);
        if let Some(t) = token {
            req = req.next_token(t);
        }
        let out = req
            .send()
            .await
            .map_err(|e| failure(&e, "cloudtrail:GetQueryResults", "reading the CloudTrail Lake results"))?;
        // Each row is a list of one-entry maps, column -> value.
        let rows = out
            .query_result_rows()
            .iter()
            .map(|r| r.iter().flat_map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), Some(v.clone())))).collect())
            .collect();
        Ok(ResultPage { rows, next: out.next_token().map(str::to_string) })
    }
}
