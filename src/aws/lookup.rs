//! CloudTrail LookupEvents: management events of the last 90 days, 50 a page, at most
//! 2 requests per second per account and region. Regions are fetched concurrently, each paced
//! on its own; throttling is retried with backoff; pages are cached per UTC day
//! ([`super::cache`]) so an interrupted run resumes and a re-run fetches only what is new.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::primitives::DateTime as AwsDateTime;
use chrono::{DateTime, Duration as ChronoDuration, NaiveTime, Utc};

use super::cache::{CachedPage, PageCache};
use super::{explain, is_throttling, load_config, AwsError, AwsOptions};
use crate::ingest::source::{Item, Location};
use crate::mapping::mapper::EventMapper;
use crate::usage::completeness::{Gap, GapKind};
use crate::usage::{Selection, Usage};

/// How far back LookupEvents holds events.
pub(crate) const RETENTION_DAYS: i64 = 90;
/// Events per page, the API's maximum.
pub(crate) const PAGE_SIZE: i32 = 50;
/// How long after a day ends its events may still appear in LookupEvents; a day is cached as
/// complete only after this.
pub const SETTLE: ChronoDuration = ChronoDuration::hours(1);

/// What to fetch.
#[derive(Debug, Clone)]
pub struct LookupOptions {
    /// Regions to read.
    pub regions: Vec<String>,
    /// Account, when known (else asked of STS, for the cache key).
    pub account: Option<String>,
    /// Cache root; `None` disables the cache.
    pub cache_root: Option<PathBuf>,
    /// Requests per second per region.
    pub rate: f64,
    /// Where progress is shown (one task per region).
    pub progress: crate::progress::ProgressSink,
    /// Credentials and endpoint.
    pub aws: AwsOptions,
}

/// One line: `lookup REGION: N requests (T throttled), ...`.
impl std::fmt::Display for RegionStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = if self.seconds > 0.0 { self.requests as f64 / self.seconds } else { 0.0 };
        write!(
            f,
            "lookup {}: {} requests ({} throttled), {} pages fetched, {} from cache, {} events, {:.1} s ({:.2} requests/s)",
            self.region,
            self.requests,
            self.throttled,
            self.pages_fetched,
            self.pages_cached,
            self.events,
            self.seconds,
            rate
        )
    }
}

/// Counters of one region.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RegionStats {
    /// The region read (`us-east-1`).
    pub region: String,
    /// LookupEvents requests sent, retries included.
    pub requests: u64,
    /// Requests answered with throttling.
    pub throttled: u64,
    /// Pages fetched.
    pub pages_fetched: u64,
    /// Pages read from the cache.
    pub pages_cached: u64,
    /// Events received.
    pub events: u64,
    /// Seconds spent.
    pub seconds: f64,
    /// Set when the region could not be read (the run goes on with the others, and the run is
    /// incomplete: a gap from the first day not read to the end of the window).
    pub error: Option<String>,
    /// Days of the window read to their end.
    pub days_read: usize,
    /// The first failure to write the page cache (the run goes on without it).
    pub cache_error: Option<String>,
}

/// The days (UTC) to fetch for a window: every day the window touches, clamped to the
/// retention period, each as [start, end] inclusive.
pub fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    while day <= to.date_naive() {
        let start = day.and_time(NaiveTime::MIN).and_utc();
        let end = (start + ChronoDuration::days(1) - ChronoDuration::seconds(1)).min(to.max(start));
        out.push((day.format("%Y-%m-%d").to_string(), start, end));
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

/// Paces requests to `rate` per second.
struct Pacer {
    interval: Duration,
    next: Instant,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        Pacer { interval: Duration::from_secs_f64(1.0 / rate.max(0.01)), next: Instant::now() }
    }
    async fn wait(&mut self) {
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next = Instant::now().max(self.next) + self.interval;
    }
}

/// Fetches the window of `selection` from every region and aggregates it. Returns the usage
/// and per-region counters; a region that fails is reported in its counters and skipped.
pub async fn collect(
    opts: &LookupOptions,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, Vec<RegionStats>), AwsError> {
    let now = Utc::now();
    let oldest = now - ChronoDuration::days(RETENTION_DAYS);
    let from = selection.range.from.unwrap_or(oldest).max(oldest);
    let to = selection.range.to.unwrap_or(now).min(now);
    let first_region = opts.regions.first().map(String::as_str);
    let base = load_config(&opts.aws, first_region).await?;
    let account = match &opts.account {
        Some(a) => a.clone(),
        None => super::caller_account(&base).await?,
    };
    let day_list = if from <= to { days(from, to) } else { Vec::new() };

    let mut tasks = tokio::task::JoinSet::new();
    for region in &opts.regions {
        let bar = opts.progress.task(region, Some(day_list.len() as u64), "days");
        let region = region.clone();
        let opts = opts.clone();
        let selection = selection.clone();
        let day_list = day_list.clone();
        let account = account.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let mut stats = RegionStats { region: region.clone(), ..RegionStats::default() };
            let mut usage = Usage::default();
            let result = fetch_region(
                &opts,
                &region,
                &account,
                &day_list,
                now,
                &selection,
                mapper,
                &mut usage,
                &mut stats,
                bar.as_ref(),
            )
            .await;
            bar.finish();
            if let Err(e) = result {
                stats.error = Some(e.to_string());
            }
            stats.seconds = started.elapsed().as_secs_f64();
            (usage, stats)
        });
    }
    let mut usage = Usage::default();
    let mut stats = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (u, s) = done.map_err(|e| AwsError::Call(format!("region task failed: {e}")))?;
        usage = usage.merge(u);
        stats.push(s);
    }
    stats.sort_by(|a, b| a.region.cmp(&b.region));
    // A region that failed leaves the days it did not finish unread.
    for s in &stats {
        if let Some(e) = &s.error {
            let first_unread = day_list.get(s.days_read).map(|d| d.1).unwrap_or(from);
            let gap = Gap::new(GapKind::LookupRegion, format!("lookup {}", s.region), e.clone())
                .window(Some(first_unread), Some(to))
                .regions([s.region.clone()])
                .accounts([account.clone()]);
            usage.add_gap(gap);
        }
    }
    // LookupEvents keeps 90 days: an older start cannot be read (an hour of slack for `--days 90`).
    if let Some(asked) = selection.range.from.filter(|f| *f + ChronoDuration::hours(1) < oldest) {
        let reason = format!("LookupEvents keeps {RETENTION_DAYS} days: events before {} cannot be read from it (read trail files with --source s3:// for older days)", oldest.format("%Y-%m-%d"));
        usage.add_gap(
            Gap::new(GapKind::Retention, "lookup", reason)
                .window(Some(asked), Some(oldest))
                .regions(opts.regions.clone())
                .accounts([account.clone()]),
        );
    }
    Ok((usage.finish(), stats))
}

#[allow(clippy::too_many_arguments)]
async fn fetch_region(
    opts: &LookupOptions,
    region: &str,
    account: &str,
    day_list: &[(String, DateTime<Utc>, DateTime<Utc>)],
    now: DateTime<Utc>,
    selection: &Selection,
    mapper: EventMapper<'static>,
    usage: &mut Usage,
    stats: &mut RegionStats,
    bar: &dyn crate::progress::Task,
) -> Result<(), AwsError> {
    let config = load_config(&opts.aws, Some(region)).await?;
    let client_config = aws_sdk_cloudtrail::config::Builder::from(&config)
        .retry_config(aws_sdk_cloudtrail::config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_cloudtrail::Client::from_conf(client_config);
    let cache = PageCache::new(opts.cache_root.as_deref(), account, region);
    let mut pacer = Pacer::new(opts.rate);

    for (day, start, end) in day_list {
        let name = format!("lookup:{region}:{day}");
        let mut state = cache.load(day);
        let mut index = 0usize;
        // A day's events are merged into the region's only once the day is read to its end, so
        // a day fetched again from its start (expired token) is never counted twice.
        let mut day_usage = Usage::default();
        let ingest = |page: &CachedPage, usage: &mut Usage, index: &mut usize| {
            for json in &page.events {
                usage.ingest(&name, Item::Record { location: Location::LookupEvent(*index), json }, selection, &mapper);
                *index += 1;
            }
        };
        for page in &state.pages {
            ingest(page, &mut day_usage, &mut index);
        }
        stats.pages_cached += state.pages.len() as u64;
        stats.events += index as u64;
        if !state.complete {
            let mut token = state.pages.last().and_then(|p| p.next_token.clone());
            let mut restarted = false;
            if state.pages.is_empty() || token.is_some() {
                loop {
                    let page = match fetch_page(&client, &mut pacer, *start, *end, token.clone(), stats).await {
                        Ok(p) => p,
                        Err(PageError::InvalidToken) if !restarted => {
                            // The saved token expired: fetch the day again from its start.
                            restarted = true;
                            let _ = cache.clear(day);
                            day_usage = Usage::default();
                            stats.events -= index as u64;
                            index = 0;
                            state.pages.clear();
                            token = None;
                            continue;
                        }
                        Err(PageError::InvalidToken) => {
                            return Err(AwsError::Call(format!(
                                "LookupEvents in {region}: NextToken rejected twice for {day}"
                            )))
                        }
                        Err(PageError::Other(e)) => return Err(AwsError::Call(e)),
                    };
                    let before = index;
                    ingest(&page, &mut day_usage, &mut index);
                    stats.events += (index - before) as u64;
                    stats.pages_fetched += 1;
                    bar.message(format!("{} events, {} pages", stats.events, stats.pages_fetched + stats.pages_cached));
                    if let Err(e) = cache.store(day, state.pages.len(), &page) {
                        stats.cache_error.get_or_insert_with(|| e.to_string());
                    }
                    token = page.next_token.clone();
                    state.pages.push(page);
                    if token.is_none() {
                        break;
                    }
                }
            }
            // A day is final once it ended (plus delivery delay) before this run started.
            let day_end = *start + ChronoDuration::days(1);
            if day_end + SETTLE < now {
                let _ = cache.mark_complete(day);
            }
        }
        *usage = std::mem::take(usage).merge(day_usage);
        stats.days_read += 1;
        bar.advance(1);
    }
    Ok(())
}

enum PageError {
    InvalidToken,
    Other(String),
}

/// One page, paced, retrying throttling and transient failures with exponential backoff.
async fn fetch_page(
    client: &aws_sdk_cloudtrail::Client,
    pacer: &mut Pacer,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    token: Option<String>,
    stats: &mut RegionStats,
) -> Result<CachedPage, PageError> {
    const MAX_ATTEMPTS: u32 = 10;
    let mut backoff = Duration::from_millis(500);
    for attempt in 1..=MAX_ATTEMPTS {
        pacer.wait().await;
        stats.requests += 1;
        let result = client
            .lookup_events()
            .start_time(AwsDateTime::from_secs(start.timestamp()))
            .end_time(AwsDateTime::from_secs(end.timestamp()))
            .max_results(PAGE_SIZE)
            .set_next_token(token.clone())
            .send()
            .await;
        match result {
            Ok(out) => {
                let events = out.events().iter().filter_map(|e| e.cloud_trail_event().map(str::to_string)).collect();
                return Ok(CachedPage {
                    events,
                    next_token: out.next_token().filter(|t| !t.is_empty()).map(str::to_string),
                });
            }
            Err(err) => {
                let code = err.code().unwrap_or("").to_string();
                if code == "InvalidNextTokenException" {
                    return Err(PageError::InvalidToken);
                }
                let transient = is_throttling(&code)
                    || matches!(
                        err,
                        aws_sdk_cloudtrail::error::SdkError::DispatchFailure(_)
                            | aws_sdk_cloudtrail::error::SdkError::TimeoutError(_)
                            | aws_sdk_cloudtrail::error::SdkError::ResponseError(_)
                    )
                    || err.raw_response().is_some_and(|r| r.status().is_server_error());
                if is_throttling(&code) {
                    stats.throttled += 1;
                }
                if !transient || attempt == MAX_ATTEMPTS {
                    return Err(PageError::Other(explain(
                        &err,
                        "cloudtrail:LookupEvents",
                        &format!("reading LookupEvents in {}", stats.region),
                    )));
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(20));
            }
        }
    }
    Err(PageError::Other("unreachable".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_the_window_in_whole_utc_days() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let d = days(t("2026-10-01T08:00:00Z"), t("2026-10-03T12:00:00Z"));
        let names: Vec<&str> = d.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["2026-10-01", "2026-10-02", "2026-10-03"]);
        assert_eq!(d[0].1, t("2026-10-01T00:00:00Z"));
        assert_eq!(d[0].2, t("2026-10-01T23:59:59Z"));
        assert_eq!(d[2].2, t("2026-10-03T12:00:00Z"), "the last day ends at the window's end");
    }
}
