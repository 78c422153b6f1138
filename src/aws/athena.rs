//! Athena over a CloudTrail table: one aggregating query ([`crate::select::warehouse::athena_sql`]),
//! StartQueryExecution, GetQueryExecution polled with backoff, GetQueryResults paged; each
//! row (a distinct call shape with its count) goes to the mapper. The bytes Athena scanned (what
//! it bills) are reported.

use std::time::{Duration, Instant};

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use super::{explain, is_throttled, load_config, AwsError, AwsOptions};
use crate::mapping::mapper::EventMapper;
use crate::select::warehouse::{athena_sql, row, AthenaTable};
use crate::usage::completeness::{Gap, GapKind};
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

/// Runs the query for `selection` and aggregates its rows.
pub async fn collect(
    opts: &AthenaOptions,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, AthenaStats), AwsError> {
    let started = Instant::now();
    let role = selection.role.as_ref().ok_or_else(|| AwsError::BadSource("athena:// needs --role".into()))?;
    let sql = athena_sql(&opts.table, role, &selection.range);
    let config = load_config(&opts.aws, opts.region.as_deref()).await?;
    let client = aws_sdk_athena::Client::new(&config);
    let mut stats = AthenaStats { sql: sql.clone(), ..AthenaStats::default() };

    let mut start = client
        .start_query_execution()
        .query_string(&sql)
        .query_execution_context(QueryExecutionContext::builder().database(&opts.table.database).build());
    if let Some(w) = &opts.table.workgroup {
        start = start.work_group(w);
    }
    if let Some(o) = &opts.table.output {
        start = start.result_configuration(ResultConfiguration::builder().output_location(o).build());
    }
    let id = start
        .send()
        .await
        .map_err(|e| {
            AwsError::Call(explain(
                &e,
                "athena:StartQueryExecution (and glue:GetTable, s3 access to the trail and results buckets)",
                "starting the Athena query",
            ))
        })?
        .query_execution_id()
        .unwrap_or_default()
        .to_string();
    stats.query_execution_id = id.clone();
    // Once the query runs, a failure (failed or cancelled query, results that cannot be read)
    // is a gap: the rows read so far are kept and the run is incomplete.
    let mut usage = Usage::default();
    let spinner = opts.progress.task("athena query", None, "");
    let outcome: Result<(), AwsError> = async {
        // Poll with backoff: 0.25 s doubling to 5 s.
        let mut wait = Duration::from_millis(250);
        loop {
            stats.polls += 1;
            let out = match client.get_query_execution().query_execution_id(&id).send().await {
                Ok(o) => o,
                Err(e) if is_throttled(&e) => {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => {
                    return Err(AwsError::Call(explain(&e, "athena:GetQueryExecution", "waiting for the Athena query")))
                }
            };
            let exec = out.query_execution();
            let status = exec.and_then(|q| q.status());
            if let Some(s) = exec.and_then(|q| q.statistics()) {
                stats.data_scanned_bytes = s.data_scanned_in_bytes().unwrap_or(0);
                stats.engine_execution_ms = s.engine_execution_time_in_millis().unwrap_or(0);
            }
            let state = status.and_then(|s| s.state()).cloned();
            spinner.message(format!(
                "athena query {id}: {} · {:.1} MB scanned",
                state.as_ref().map_or("?", |s| s.as_str()),
                stats.data_scanned_bytes as f64 / 1e6
            ));
            match state {
                Some(QueryExecutionState::Succeeded) => break,
                Some(QueryExecutionState::Failed) | Some(QueryExecutionState::Cancelled) => {
                    let reason = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given");
                    let hint = if reason.contains("timestamp") && reason.contains("cannot be resolved") {
                        " (the table has no `timestamp` partition column: add &partition=none to the source URL)"
                    } else {
                        ""
                    };
                    spinner.finish();
                    return Err(AwsError::Call(format!(
                        "the Athena query {id} {}: {reason}{hint}",
                        state.map_or("failed".into(), |s| s.as_str().to_lowercase())
                    )));
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }

        let mut token: Option<String> = None;
        let mut names: Vec<String> = Vec::new();
        let mut n = 0usize;
        let source = format!("athena query {id}");
        loop {
            let mut req = client.get_query_results().query_execution_id(&id).max_results(1000);
            if let Some(t) = &token {
                req = req.next_token(t);
            }
            let page = match req.send().await {
                Ok(p) => p,
                Err(e) if is_throttled(&e) => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(e) => {
                    return Err(AwsError::Call(explain(
                        &e,
                        "athena:GetQueryResults (and s3:GetObject on the results location)",
                        "reading the Athena results",
                    )))
                }
            };
            stats.pages += 1;
            let Some(set) = page.result_set() else { break };
            if names.is_empty() {
                names = set
                    .result_set_metadata()
                    .map(|m| m.column_info().iter().map(|c| c.name().to_string()).collect())
                    .unwrap_or_default();
            }
            for (i, r) in set.rows().iter().enumerate() {
                let values: Vec<Option<String>> =
                    r.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect();
                // The first row of the first page repeats the column names.
                if stats.pages == 1
                    && i == 0
                    && values
                        .iter()
                        .zip(&names)
                        .all(|(v, name)| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(name)))
                {
                    continue;
                }
                n += 1;
                stats.rows += 1;
                usage.ingest_row(&source, n, &row(&names, values), selection, &mapper);
            }
            spinner.message(format!("athena query {id}: {} rows read", stats.rows));
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
            Gap::new(GapKind::Query, format!("athena query {id}"), e.to_string())
                .window(selection.range.from, selection.range.to),
        );
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((usage, stats))
}
