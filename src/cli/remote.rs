//! Reading from AWS: LookupEvents, trail files in S3, Athena and CloudTrail Lake, with the counters
//! each prints.

use super::*;

/// The async runtime and AWS options for a command that talks to AWS.
#[cfg(feature = "aws")]
pub(super) fn aws_runtime(input: &InputArgs) -> Result<(tokio::runtime::Runtime, crate::aws::AwsOptions), CliError> {
    let aws = crate::aws::AwsOptions { profile: input.profile.clone(), endpoint_url: input.endpoint_url.clone() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)?;
    Ok((runtime, aws))
}

/// Reads a remote source: returns the usage and the source's counters (also printed).
#[cfg(feature = "aws")]
pub(super) fn remote(
    src: &str,
    args: &InputArgs,
    selection: &Selection,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    use crate::aws::{lookup, s3};
    let (runtime, aws) = aws_runtime(args)?;
    let progress = progress_sink();
    let mapper = EventMapper::new(ActionCatalog::embedded());
    if src == "lookup" {
        eprintln!(
            "note: LookupEvents returns management events only: S3 object, Lambda Invoke and DynamoDB item calls (data events) \
are not in it. Read trail files (--source s3://BUCKET) for those."
        );
        if let Some(from) = selection.range.from {
            let oldest = chrono::Utc::now() - chrono::Duration::days(lookup::RETENTION_DAYS);
            if from < oldest {
                eprintln!(
                    "note: LookupEvents keeps {} days; the window starts {} and is read from {}",
                    lookup::RETENTION_DAYS,
                    from.format("%Y-%m-%d"),
                    oldest.format("%Y-%m-%d")
                );
            }
        }
        let regions = if args.all_regions {
            crate::aws::ALL_REGIONS.iter().map(|r| r.to_string()).collect()
        } else if args.regions.is_empty() {
            let chain = runtime.block_on(crate::aws::load_config(&aws, None))?;
            vec![chain.region().map(|r| r.to_string()).unwrap_or_default()]
        } else {
            args.regions.clone()
        };
        let cache_root =
            if args.no_cache { None } else { args.cache.clone().or_else(crate::aws::cache::PageCache::default_root) };
        let opts = lookup::LookupOptions {
            regions,
            account: args.accounts.first().cloned(),
            cache_root,
            rate: args.lookup_rate,
            progress: progress.clone(),
            aws,
        };
        let (usage, stats) = runtime.block_on(lookup::collect(&opts, selection, mapper))?;
        for s in &stats {
            let rate = if s.seconds > 0.0 { s.requests as f64 / s.seconds } else { 0.0 };
            eprintln!(
                "lookup {}: {} requests ({} throttled), {} pages fetched, {} from cache, {} events, {:.1} s ({:.2} requests/s)",
                s.region, s.requests, s.throttled, s.pages_fetched, s.pages_cached, s.events, s.seconds, rate
            );
            if let Some(e) = &s.error {
                eprintln!("warning: region {} was not read: {e}", s.region);
            }
            if let Some(e) = &s.cache_error {
                eprintln!(
                    "warning: lookup {}: cannot write the page cache ({e}); pages are fetched again next time",
                    s.region
                );
            }
        }
        if stats.iter().all(|s| s.error.is_some()) {
            let first = stats.iter().find_map(|s| s.error.clone()).unwrap_or_default();
            return Err(CliError::NothingReadable(format!("no region could be read: {first}")));
        }
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("s3://") {
        let (bucket, prefix) = s3::parse_url(src)?;
        let opts = s3::S3Options {
            bucket,
            prefix,
            accounts: args.accounts.clone(),
            regions: args.regions.clone(),
            concurrency: args.concurrency,
            progress: progress.clone(),
            aws,
        };
        let (usage, stats) = runtime.block_on(s3::collect(&opts, selection, mapper))?;
        let secs = stats.seconds.max(1e-9);
        eprintln!(
            "s3: {} objects ({} failed) in {} trails, {:.1} MB, {} list requests, {:.2} s: {:.0} files/s, {:.1} MB/s",
            stats.objects,
            stats.objects_failed,
            stats.trails.len(),
            stats.bytes as f64 / 1e6,
            stats.list_requests,
            stats.seconds,
            stats.objects as f64 / secs,
            stats.bytes as f64 / 1e6 / secs
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("athena://") {
        let table = crate::select::warehouse::AthenaTable::parse(src).map_err(|e| CliError::BadSource(e.0))?;
        let opts = crate::aws::athena::AthenaOptions {
            table,
            region: args.regions.first().cloned(),
            progress: progress.clone(),
            aws,
        };
        let (usage, stats) = runtime.block_on(crate::aws::athena::collect(&opts, selection, mapper))?;
        eprintln!(
            "athena: query {} scanned {:.1} MB (billed by bytes scanned; about ${:.4} at $5 per TB), {} distinct call shapes in {} pages, {:.1} s",
            stats.query_execution_id,
            stats.data_scanned_bytes as f64 / 1e6,
            stats.data_scanned_bytes as f64 / 1e12 * 5.0,
            stats.rows,
            stats.pages,
            stats.seconds
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("lake://") {
        let event_data_store = crate::select::warehouse::parse_lake(src).map_err(|e| CliError::BadSource(e.0))?;
        let opts = crate::aws::lake::LakeOptions {
            event_data_store,
            region: args.regions.first().cloned(),
            progress: progress.clone(),
            aws,
        };
        let (usage, stats) = runtime.block_on(crate::aws::lake::collect(&opts, selection, mapper))?;
        eprintln!(
            "lake: query {} scanned {} events, {:.1} MB, {} distinct call shapes in {} pages ({} throttled requests retried), {:.1} s",
            stats.query_id,
            stats.events_scanned,
            stats.bytes_scanned as f64 / 1e6,
            stats.rows,
            stats.pages,
            stats.throttled,
            stats.seconds
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    Err(CliError::BadSource(format!("--source `{src}` is none of `lookup`, s3://, athena:// or lake://")))
}

/// Without the `aws` feature there are no remote sources.
#[cfg(not(feature = "aws"))]
pub(super) fn remote(
    src: &str,
    _args: &InputArgs,
    _selection: &Selection,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    Err(CliError::BadSource(format!(
        "--source `{src}`: this build has no AWS sources (built without the `aws` feature)"
    )))
}
