//! The one loop Athena and CloudTrail Lake share: start the query, poll it with backoff until it
//! ends, page its results into the usage. Throttled calls are retried with backoff and counted.
//! A query that cannot be started is an error; once it runs, a failure (a failed, cancelled or
//! timed-out query, results that cannot be read) is a gap: the rows read so far are kept and the
//! run is incomplete.

use std::time::Duration;

use super::AwsError;
use crate::mapping::mapper::EventMapper;
use crate::select::warehouse::Row;
use crate::usage::completeness::{Gap, GapKind};
use crate::usage::{Selection, Usage};

/// Why a call of a query service did not answer.
pub(super) enum CallFailure {
    /// Throttled: retried after a pause.
    Throttled,
    /// Anything else: the message names the permission or the cause.
    Failed(AwsError),
}

/// The failure of an SDK call: throttling, or an error naming `permission` and what was being
/// done.
pub(super) fn failure<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>, permission: &str, doing: &str) -> CallFailure
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if super::is_throttled(e) {
        CallFailure::Throttled
    } else {
        CallFailure::Failed(AwsError::Call(super::explain(e, permission, doing)))
    }
}

/// Where a running query is.
pub(super) enum QueryState {
    /// Queued or running; the text says how far (state, bytes or events scanned).
    Running(String),
    /// Done: the results can be read.
    Succeeded,
    /// Failed, cancelled or timed out, and why.
    Ended(String),
}

/// One page of results, and the token of the next.
pub(super) struct ResultPage {
    /// The rows, column names lowercase; a header row is not among them.
    pub(super) rows: Vec<Row>,
    /// The next page's token; `None` on the last page.
    pub(super) next: Option<String>,
}

/// Calls counted by [`run`], copied into each service's stats.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct QueryCounters {
    /// Status polls.
    pub(super) polls: u64,
    /// Result pages.
    pub(super) pages: u64,
    /// Throttled calls (retried).
    pub(super) throttled: u64,
    /// Result rows (distinct call shapes).
    pub(super) rows: u64,
}

/// A service that runs one SQL query: Athena or CloudTrail Lake.
pub(super) trait QueryService {
    /// `athena` or `lake`: names the query in progress, in rejections and in gaps.
    const NAME: &'static str;
    /// Starts the query; returns its ID.
    async fn start(&mut self) -> Result<String, CallFailure>;
    /// Asks where the query is.
    async fn state(&mut self, id: &str) -> Result<QueryState, CallFailure>;
    /// Reads one page of results (`page` counts from 1).
    async fn page(&mut self, id: &str, page: u64, token: Option<&str>) -> Result<ResultPage, CallFailure>;
}

/// The pause before retry `attempt` (from 0) of a throttled call: 0.25 s doubling to 4 s.
pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.min(4)))
}

/// Awaits `$call` until it answers or fails with something else than throttling, counting the
/// throttled answers in `$counters`.
macro_rules! retrying {
    ($counters:expr, $call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call.await {
                Ok(v) => break Ok::<_, AwsError>(v),
                Err(CallFailure::Throttled) => {
                    $counters.throttled += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(CallFailure::Failed(e)) => break Err(e),
            }
        }
    }};
}

/// Runs `service`'s query and aggregates its rows for `selection`; returns the query ID, the usage
/// (with a gap when the query failed after it started) and the calls counted.
pub(super) async fn run<Q: QueryService>(
    service: &mut Q,
    selection: &Selection,
    mapper: &EventMapper<'_>,
    progress: &crate::progress::ProgressSink,
) -> Result<(String, Usage, QueryCounters), AwsError> {
    let mut counters = QueryCounters::default();
    let id = retrying!(counters, service.start())?;
    let name = Q::NAME;
    let mut usage = Usage::default();
    let spinner = progress.task(&format!("{name} query"), None, "");
    let outcome: Result<(), AwsError> = async {
        // Poll with backoff: 0.25 s doubling to 5 s.
        let mut wait = Duration::from_millis(250);
        loop {
            counters.polls += 1;
            match retrying!(counters, service.state(&id))? {
                QueryState::Succeeded => break,
                QueryState::Ended(why) => return Err(AwsError::Call(why)),
                QueryState::Running(how_far) => {
                    spinner.message(format!("{name} query {id}: {how_far}"));
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        let source = format!("{name} query {id}");
        let mut token: Option<String> = None;
        loop {
            let page = counters.pages + 1;
            let ResultPage { rows, next } = retrying!(counters, service.page(&id, page, token.as_deref()))?;
            counters.pages = page;
            for row in &rows {
                counters.rows += 1;
                usage.ingest_row(&source, counters.rows as usize, row, selection, mapper);
            }
            spinner.message(format!("{name} query {id}: {} rows read", counters.rows));
            token = next;
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
            Gap::new(GapKind::Query, format!("{name} query {id}"), e.to_string())
                .window(selection.range.from, selection.range.to),
        );
    }
    Ok((id, usage, counters))
}
