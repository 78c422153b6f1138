//! Athena over a CloudTrail table: one aggregating query ([`crate::select::warehouse::athena_sql`]),
//! StartQueryExecution, GetQueryExecution polled with backoff, GetQueryResults paged; each
//! row (a distinct call shape with its count) goes to the mapper. The bytes Athena scanned (what
//! it bills) are reported.

use std::time::Instant;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use super::query::{self, failure, CallFailure, QueryService, QueryState, ResultPage};
use super::{load_config, AwsError, AwsOptions};
use crate::mapping::mapper::EventMapper;
use crate::select::warehouse::{athena_sql, row, AthenaTable};
use crate::usage::{Selection, Usage};

/// What to run.
#[derive(Debug, Clone)]
pub struct AthenaOptions {
    /// The table and where results go.
    pub table: AthenaTable,
    /// Region of the workgroup (default: the profile's).
    pub region: Option<String>,
    /// Where progress is shown.
    pub progress: crate::progress::ProgressSink,
    /// Credentials and endpoint.
    pub aws: AwsOptions,
}

/// Counters of the run, printed and kept in the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AthenaStats {
    /// The query execution.
    pub query_execution_id: String,
    /// The SQL sent.
    pub sql: String,
    /// Bytes the query scanned (what Athena bills).
    pub data_scanned_bytes: i64,
    /// Engine time, milliseconds.
    pub engine_execution_ms: i64,
    /// Polls of GetQueryExecution.
    pub polls: u64,
    /// GetQueryResults pages.
    pub pages: u64,
    /// Result rows (distinct call shapes).
    pub rows: u64,
    /// Wall seconds.
    pub seconds: f64,
}

/// One line: the query, what it scanned and cost, the rows and pages read.
impl std::fmt::Display for AthenaStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "athena: query {} scanned {:.1} MB (billed by bytes scanned; about ${:.4} at $5 per TB), {} distinct call shapes in {} pages, {:.1} s",
            self.query_execution_id,
            self.data_scanned_bytes as f64 / 1e6,
            self.data_scanned_bytes as f64 / 1e12 * 5.0,
            self.rows,
            self.pages,
            self.seconds
        )
    }
}

/// Runs the query for `selection` and aggregates its rows.
pub async fn collect(
    opts: &AthenaOptions,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, AthenaStats), AwsError> {
    let started = Instant::now();
    // One principal, or every one kept apart (the audit).
    let role = selection.principal.as_ref();
    if role.is_none() && selection.split_by != Some(crate::select::SplitBy::Principal) {
        return Err(AwsError::BadSource(
            "athena:// needs one principal (--role, --user, --principal or --permission-set)".into(),
        ));
    }
    let sql = athena_sql(&opts.table, role, &selection.range, selection.split_by);
    let config = load_config(&opts.aws, opts.region.as_deref()).await?;
    let mut query = AthenaQuery {
        client: aws_sdk_athena::Client::new(&config),
        table: &opts.table,
        stats: AthenaStats { sql, ..AthenaStats::default() },
        names: Vec::new(),
    };
    let (id, usage, counters) = query::run(&mut query, selection, &mapper, &opts.progress).await?;
    let mut stats = query.stats;
    stats.query_execution_id = id;
    stats.polls = counters.polls;
    stats.pages = counters.pages;
    stats.rows = counters.rows;
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((usage, stats))
}

/// One Athena query: StartQueryExecution, GetQueryExecution, GetQueryResults.
struct AthenaQuery<'a> {
    client: aws_sdk_athena::Client,
    table: &'a AthenaTable,
    stats: AthenaStats,
    /// The result's column names, from the first page.
    names: Vec<String>,
}

impl QueryService for AthenaQuery<'_> {
    const NAME: &'static str = "athena";

    async fn start(&mut self) -> Result<String, CallFailure> {
        let mut start = self
            .client
            .start_query_execution()
            .query_string(&self.stats.sql)
            .query_execution_context(QueryExecutionContext::builder().database(&self.table.database).build());
        if let Some(w) = &self.table.workgroup {
            start = start.work_group(w);
        }
        if let Some(o) = &self.table.output {
            start = start.result_configuration(ResultConfiguration::builder().output_location(o).build());
        }
        let out = start.send().await.map_err(|e| {
            failure(
                &e,
                "athena:StartQueryExecution (and glue:GetTable, s3 access to the trail and results buckets)",
                "starting the Athena query",
            )
        })?;
        Ok(out.query_execution_id().unwrap_or_default().to_string())
    }

    async fn state(&mut self, id: &str) -> Result<QueryState, CallFailure> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| failure(&e, "athena:GetQueryExecution", "waiting for the Athena query"))?;
        let exec = out.query_execution();
        let status = exec.and_then(|q| q.status());
        if let Some(s) = exec.and_then(|q| q.statistics()) {
            self.stats.data_scanned_bytes = s.data_scanned_in_bytes().unwrap_or(0);
            self.stats.engine_execution_ms = s.engine_execution_time_in_millis().unwrap_or(0);
        }
        let state = status.and_then(|s| s.state()).cloned();
        Ok(match state {
            Some(QueryExecutionState::Succeeded) => QueryState::Succeeded,
            Some(s @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                let reason = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given");
                let hint = if reason.contains("timestamp") && reason.contains("cannot be resolved") {
                    " (the table has no `timestamp` partition column: add &partition=none to the source URL)"
                } else {
                    ""
                };
                QueryState::Ended(format!("the Athena query {id} {}: {reason}{hint}", s.as_str().to_lowercase()))
            }
            _ => QueryState::Running(format!(
                "{} · {:.1} MB scanned",
                state.as_ref().map_or("?", |s| s.as_str()),
                self.stats.data_scanned_bytes as f64 / 1e6
            )),
        })
    }

    async fn page(&mut self, id: &str, page: u64, token: Option<&str>) -> Result<ResultPage, CallFailure> {
        let mut req = self.client.get_query_results().query_execution_id(id).max_results(1000);
        if let Some(t) = token {
            req = req.next_token(t);
        }
        let out = req.send().await.map_err(|e| {
            failure(
                &e,
                "athena:GetQueryResults (and s3:GetObject on the results location)",
                "reading the Athena results",
            )
        })?;
        let Some(set) = out.result_set() else { return Ok(ResultPage { rows: Vec::new(), next: None }) };
        if self.names.is_empty() {
            self.names = set
                .result_set_metadata()
                .map(|m| m.column_info().iter().map(|c| c.name().to_string()).collect())
                .unwrap_or_default();
        }
        let mut rows = Vec::with_capacity(set.rows().len());
        for (i, r) in set.rows().iter().enumerate() {
            let values: Vec<Option<String>> = r.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect();
            // The first row of the first page repeats the column names.
            if page == 1
                && i == 0
                && values
                    .iter()
                    .zip(&self.names)
                    .all(|(v, name)| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(name)))
            {
                continue;
            }
            rows.push(row(&self.names, values));
        }
        Ok(ResultPage { rows, next: out.next_token().map(str::to_string) })
    }
}
