//! Trail log files in S3: `s3://BUCKET[/PREFIX]` holding `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`
//! (or the organization layout `AWSLogs/<org-id>/<account>/...`). Only the day prefixes that can
//! hold the window are listed; objects are downloaded with bounded concurrency and parsed on
//! all cores as they arrive, with the same reader as local files.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::{explain, load_config, AwsError, AwsOptions};
use crate::ingest::source::{
    self, is_log_name, trail_file_time, Item, Location, RejectReason, Rejection, DELIVERY_SLACK,
};
use crate::mapping::mapper::EventMapper;
use crate::usage::{Selection, Usage};

/// What to read.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// The bucket the trail delivers to.
    pub bucket: String,
    /// Prefix before `AWSLogs/` (may be empty).
    pub prefix: String,
    /// Only these accounts (all found when empty).
    pub accounts: Vec<String>,
    /// Only these trail regions (all found when empty).
    pub regions: Vec<String>,
    /// Objects in flight at once.
    pub concurrency: usize,
    /// Where progress is shown.
    pub progress: crate::progress::ProgressSink,
    /// Credentials and endpoint.
    pub aws: AwsOptions,
}

/// Counters of an S3 run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct S3Stats {
    /// List requests sent.
    pub list_requests: u64,
    /// Objects listed that can hold the window.
    pub objects: u64,
    /// Objects that could not be downloaded (reported and counted as rejected).
    pub objects_failed: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Seconds spent.
    pub seconds: f64,
    /// Accounts and regions read, as `account/region`.
    pub trails: Vec<String>,
}

/// One line: objects, failures, trails, bytes, requests and rates.
impl std::fmt::Display for S3Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.seconds.max(1e-9);
        write!(
            f,
            "s3: {} objects ({} failed) in {} trails, {:.1} MB, {} list requests, {:.2} s: {:.0} files/s, {:.1} MB/s",
            self.objects,
            self.objects_failed,
            self.trails.len(),
            self.bytes as f64 / 1e6,
            self.list_requests,
            self.seconds,
            self.objects as f64 / secs,
            self.bytes as f64 / 1e6 / secs
        )
    }
}

async fn client_for(opts: &S3Options, region: Option<&str>) -> Result<aws_sdk_s3::Client, AwsError> {
    let config = load_config(&opts.aws, region).await?;
    let conf = aws_sdk_s3::config::Builder::from(&config)
        // Path-style addressing for custom endpoints (moto, S3-compatible stores, VPC endpoints by IP).
        .force_path_style(opts.aws.endpoint_url.is_some())
        .build();
    Ok(aws_sdk_s3::Client::from_conf(conf))
}

/// Finds the bucket (following it to its region) and returns a client for it.
async fn bucket_client(opts: &S3Options) -> Result<aws_sdk_s3::Client, AwsError> {
    let client = client_for(opts, None).await?;
    match client.head_bucket().bucket(&opts.bucket).send().await {
        Ok(_) => Ok(client),
        Err(err) => {
            let raw_region =
                err.raw_response().and_then(|r| r.headers().get("x-amz-bucket-region")).map(str::to_string);
            let status = err.raw_response().map(|r| r.status().as_u16());
            let here = client.config().region().map(|r| r.to_string());
            match (status, raw_region) {
                (Some(301) | Some(400), Some(r)) if Some(&r) != here.as_ref() => {
                    let moved = client_for(opts, Some(&r)).await?;
                    moved.head_bucket().bucket(&opts.bucket).send().await.map_err(|e| {
                        AwsError::Call(explain(&e, &format!("s3:ListBucket on {}", s3_arn(&moved, &opts.bucket)), &format!("opening s3://{} in {r}", opts.bucket)))
                    })?;
                    Ok(moved)
                }
                (Some(404), _) => Err(AwsError::Call(format!("bucket `{}` does not exist (or is not visible to these credentials)", opts.bucket))),
                (Some(403), _) => Err(AwsError::Call(format!(
                    "access denied opening s3://{}: iamtrim needs s3:ListBucket on {} (and s3:GetObject on its objects); see docs/permissions.md",
                    opts.bucket, s3_arn(&client, &opts.bucket)
                ))),
                _ => Err(AwsError::Call(explain(&err, &format!("s3:ListBucket on {}", s3_arn(&client, &opts.bucket)), &format!("opening s3://{}", opts.bucket)))),
            }
        }
    }
}

/// `arn:PARTITION:s3:::PATH` in the partition of the client's region, for messages that name
/// the permission a call needs.
fn s3_arn(client: &aws_sdk_s3::Client, path: &str) -> String {
    let region = client.config().region().map(|r| r.as_ref().to_string()).unwrap_or_default();
    format!("arn:{}:s3:::{path}", crate::mapping::arn::partition_of_region(&region))
}

/// Pages through ListObjectsV2 under `prefix` (with `delimiter`, when given), handing each page
/// to `on_page`.
async fn list_pages(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    stats: &mut S3Stats,
    on_page: &mut dyn FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output),
) -> Result<(), AwsError> {
    let mut token = None;
    loop {
        stats.list_requests += 1;
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_string))
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("s3:ListBucket on {}", s3_arn(client, bucket)),
                    &format!("listing s3://{bucket}/{prefix}"),
                ))
            })?;
        on_page(&page);
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

/// Lists the "directories" right under `prefix`.
async fn list_dirs(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    stats: &mut S3Stats,
) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    list_pages(client, bucket, prefix, Some("/"), stats, &mut |page| {
        for p in page.common_prefixes() {
            if let Some(name) = p.prefix().and_then(|p| p.strip_prefix(prefix)).map(|p| p.trim_end_matches('/')) {
                out.push(name.to_string());
            }
        }
    })
    .await?;
    Ok(out)
}

/// Lists every key under `prefix`, with its size.
async fn list_keys(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    stats: &mut S3Stats,
    out: &mut BTreeSet<(String, u64)>,
) -> Result<(), AwsError> {
    list_pages(client, bucket, prefix, None, stats, &mut |page| {
        for o in page.contents() {
            if let Some(k) = o.key() {
                out.insert((k.to_string(), o.size().unwrap_or(0).max(0) as u64));
            }
        }
    })
    .await
}

/// The day prefixes (`YYYY/MM/DD/`) whose files can hold events of the window.
fn day_prefixes(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::new();
    let mut day = from.date_naive();
    let last = (to + DELIVERY_SLACK).date_naive();
    while day <= last {
        out.push(day.format("%Y/%m/%d/").to_string());
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

/// Lists the trail objects that can hold the window, reads them and aggregates.
pub async fn collect(
    opts: &S3Options,
    selection: &Selection,
    mapper: EventMapper<'static>,
) -> Result<(Usage, S3Stats), AwsError> {
    let started = Instant::now();
    let mut stats = S3Stats::default();
    let client = bucket_client(opts).await?;
    let bucket = opts.bucket.as_str();
    let base = if opts.prefix.is_empty() { "AWSLogs/".to_string() } else { format!("{}/AWSLogs/", opts.prefix) };

    // Accounts directly under AWSLogs/, or under an organization ID.
    let mut account_prefixes = Vec::new();
    for name in list_dirs(&client, bucket, &base, &mut stats).await? {
        if name.starts_with("o-") {
            for acct in list_dirs(&client, bucket, &format!("{base}{name}/"), &mut stats).await? {
                account_prefixes.push((acct.clone(), format!("{base}{name}/{acct}/")));
            }
        } else if name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit()) {
            account_prefixes.push((name.clone(), format!("{base}{name}/")));
        }
    }
    account_prefixes.retain(|(a, _)| opts.accounts.is_empty() || opts.accounts.contains(a));
    if account_prefixes.is_empty() {
        return Err(AwsError::Call(format!(
            "no CloudTrail logs under s3://{bucket}/{base}{}",
            if opts.accounts.is_empty() { String::new() } else { format!(" for account {}", opts.accounts.join(", ")) }
        )));
    }

    let mut keys = BTreeSet::new();
    let mut skipped_by_date = 0u64;
    for (account, prefix) in &account_prefixes {
        let trail = format!("{prefix}CloudTrail/");
        for region in list_dirs(&client, bucket, &trail, &mut stats).await? {
            if !opts.regions.is_empty() && !opts.regions.contains(&region) {
                continue;
            }
            stats.trails.push(format!("{account}/{region}"));
            let region_prefix = format!("{trail}{region}/");
            let mut found = BTreeSet::new();
            match (selection.range.from, selection.range.to) {
                (Some(from), to) => {
                    let to = to.unwrap_or_else(Utc::now);
                    for day in day_prefixes(from, to) {
                        list_keys(&client, bucket, &format!("{region_prefix}{day}"), &mut stats, &mut found).await?;
                    }
                }
                (None, _) => list_keys(&client, bucket, &region_prefix, &mut stats, &mut found).await?,
            }
            for (key, size) in found {
                let name = key.rsplit('/').next().unwrap_or(&key);
                if !is_log_name(name) {
                    continue;
                }
                if let Some(t) = trail_file_time(name) {
                    if !selection.range.may_hold_delivery(t, t) {
                        skipped_by_date += 1;
                        continue;
                    }
                }
                keys.insert((key, size));
            }
        }
    }
    stats.objects = keys.len() as u64;

    let bar: std::sync::Arc<dyn crate::progress::Task> =
        opts.progress.task("s3", Some(keys.len() as u64), "files").into();

    // Downloads on tokio, parsing on rayon: a bounded channel between them keeps memory to
    // about 2 x concurrency objects.
    let concurrency = opts.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Result<Vec<u8>, String>)>(concurrency * 2);
    let bytes_seen = std::sync::Arc::new(AtomicU64::new(0));
    let records_seen = std::sync::Arc::new(AtomicU64::new(0));
    let consumer = {
        let selection = selection.clone();
        let bar = bar.clone();
        let bytes_seen = bytes_seen.clone();
        let records_seen = records_seen.clone();
        std::thread::spawn(move || {
            std::iter::from_fn(move || rx.blocking_recv())
                .par_bridge()
                .map(|(name, body)| {
                    let mut u = Usage::default();
                    u.counts.files_read = 1;
                    match body {
                        Ok(bytes) => source::read_reader(&bytes[..], &name, &selection.limits, &mut |d| {
                            u.ingest_delivered(&name, d, &selection, &mapper)
                        }),
                        Err(reason) => u.ingest(
                            &name,
                            Item::Rejected(Rejection {
                                file: name.clone(),
                                location: Location::File,
                                reason: RejectReason::DownloadFailed(reason),
                            }),
                            &selection,
                            &mapper,
                        ),
                    }
                    let records =
                        records_seen.fetch_add(u.counts.records_read, Ordering::Relaxed) + u.counts.records_read;
                    bar.advance(1);
                    bar.message(format!("{} MB, {} records", bytes_seen.load(Ordering::Relaxed) / 1_000_000, records));
                    u
                })
                .reduce(Usage::default, Usage::merge)
        })
    };

    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (key, _) in keys {
        let permit = semaphore.clone().acquire_owned().await.map_err(|e| AwsError::Call(e.to_string()))?;
        let client = client.clone();
        let tx = tx.clone();
        let bucket = bucket.to_string();
        let bytes_seen = bytes_seen.clone();
        tasks.spawn(async move {
            let body = get_with_retries(&client, &bucket, &key).await;
            if let Ok(b) = &body {
                bytes_seen.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            let _ = tx.send((format!("s3://{bucket}/{key}"), body)).await;
            drop(permit);
        });
        // Reap finished tasks so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    drop(tx);
    let mut usage = consumer.join().map_err(|_| AwsError::Call("the parser thread panicked".into()))?;
    bar.finish();
    usage.counts.files_skipped_by_date += skipped_by_date;
    stats.objects_failed = usage
        .rejections
        .iter()
        .filter(|r| r.location == Location::File && matches!(r.reason, RejectReason::DownloadFailed(_)))
        .count() as u64;
    stats.bytes = bytes_seen.load(Ordering::Relaxed);
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((usage.finish(), stats))
}

/// GetObject and read the whole body, retrying transient failures (the SDK retries the call;
/// this also retries a body that breaks mid-stream).
async fn get_with_retries(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    const ATTEMPTS: u32 = 3;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => match out.body.collect().await {
                Ok(b) => return Ok(b.into_bytes().to_vec()),
                Err(e) => last = format!("body broke off ({e})"),
            },
            Err(e) => {
                let code = e.code().unwrap_or("").to_string();
                last = explain(
                    &e,
                    &format!("s3:GetObject on {}", s3_arn(client, &format!("{bucket}/{key}"))),
                    "GetObject",
                );
                if code == "InvalidObjectState" {
                    return Err(format!(
                        "{last} (the object is archived in a Glacier storage class: restore it to read it)"
                    ));
                }
                if super::is_access_denied(&code) || code == "NoSuchKey" {
                    return Err(last);
                }
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_prefixes_reach_past_the_window_by_the_delivery_slack() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(day_prefixes(t("2026-10-01T10:00:00Z"), t("2026-10-02T12:00:00Z")), ["2026/10/01/", "2026/10/02/"]);
        assert_eq!(day_prefixes(t("2026-10-01T10:00:00Z"), t("2026-10-01T23:30:00Z")), ["2026/10/01/", "2026/10/02/"]);
    }
}
