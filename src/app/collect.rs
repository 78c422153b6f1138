//! Reading the activity of a run, once, from the source it names ([`SourceSpec`]): log files on
//! disk, LookupEvents, trail files in S3, an Athena or a CloudTrail Lake query, optionally
//! day by day through the usage store. Returns the usage, the source's counters and the notes
//! a person should read; prints nothing.

use std::fmt;
use std::path::PathBuf;

use crate::ingest::source;
use crate::mapping::catalog::ActionCatalog;
use crate::mapping::mapper::EventMapper;
use crate::output::source_stats::SourceStats;
use crate::progress::ProgressSink;
use crate::select::warehouse::{AthenaTable, BadSource, Partitioning};
use crate::usage::{self, Selection, Usage};

/// Where a run's activity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// CloudTrail log files and directories on disk (searched recursively).
    Files(Vec<PathBuf>),
    /// The CloudTrail LookupEvents API: management events of the last 90 days.
    Lookup,
    /// Trail log files in S3, under `prefix` (data events too).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix, without leading or trailing `/`.
        prefix: String,
    },
    /// An Athena query over a CloudTrail table.
    Athena(AthenaTable),
    /// A CloudTrail Lake query.
    Lake {
        /// The event data store's ID.
        event_data_store: String,
    },
}

/// `--source`: `lookup`, `s3://BUCKET[/PREFIX]`, `athena://DATABASE.TABLE?...` or
/// `lake://EVENT_DATA_STORE`.
impl std::str::FromStr for SourceSpec {
    type Err = BadSource;

    fn from_str(s: &str) -> Result<SourceSpec, BadSource> {
        if s == "lookup" {
            return Ok(SourceSpec::Lookup);
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BadSource(format!("`{s}` names no bucket")));
            }
            return Ok(SourceSpec::S3 { bucket: bucket.into(), prefix: prefix.trim_matches('/').into() });
        }
        if s.starts_with("athena://") {
            return AthenaTable::parse(s).map(SourceSpec::Athena);
        }
        if s.starts_with("lake://") {
            return crate::select::warehouse::parse_lake(s)
                .map(|event_data_store| SourceSpec::Lake { event_data_store });
        }
        Err(BadSource(format!("--source `{s}` is none of `lookup`, s3://, athena:// or lake://")))
    }
}

/// The source as it is written on the command line (for remote sources) or as the list of
/// paths; the usage store keys days by it.
impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Files(paths) => {
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(f, "{}", paths.join(", "))
            }
            SourceSpec::Lookup => f.write_str("lookup"),
            SourceSpec::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            SourceSpec::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            SourceSpec::Athena(t) => {
                write!(f, "athena://{}.{}", t.database, t.table)?;
                let mut params = Vec::new();
                if let Some(w) = &t.workgroup {
                    params.push(format!("workgroup={w}"));
                }
                if let Some(o) = &t.output {
                    params.push(format!("output={o}"));
                }
                if t.partitioning == Partitioning::None {
                    params.push("partition=none".into());
                }
                if !params.is_empty() {
                    write!(f, "?{}", params.join("&"))?;
                }
                Ok(())
            }
            SourceSpec::Lake { event_data_store } => write!(f, "lake://{event_data_store}"),
        }
    }
}

/// LookupEvents requests per second per region: what the API allows.
pub const DEFAULT_LOOKUP_RATE: f64 = 2.0;

/// S3 objects downloaded at once.
pub const DEFAULT_S3_CONCURRENCY: usize = 32;

/// How to reach AWS and how hard to read it (the remote sources' options; ignored for files).
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Named profile of the shared config files.
    pub profile: Option<String>,
    /// Endpoint for every service.
    pub endpoint_url: Option<String>,
    /// LookupEvents: the regions to read (default: the profile's); S3: only these trail regions;
    /// Athena and Lake: the first is the query's region.
    pub regions: Vec<String>,
    /// LookupEvents: every commercial region.
    pub all_regions: bool,
    /// S3: only these accounts; LookupEvents: the first is the cache key's account.
    pub accounts: Vec<String>,
    /// LookupEvents: the page cache directory (default: the user cache dir), unless `no_cache`.
    pub cache: Option<PathBuf>,
    /// LookupEvents: neither read nor write the page cache.
    pub no_cache: bool,
    /// S3: objects downloaded at once.
    pub concurrency: usize,
    /// LookupEvents: requests per second per region.
    pub lookup_rate: f64,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            profile: None,
            endpoint_url: None,
            regions: Vec::new(),
            all_regions: false,
            accounts: Vec::new(),
            cache: None,
            no_cache: false,
            concurrency: DEFAULT_S3_CONCURRENCY,
            lookup_rate: DEFAULT_LOOKUP_RATE,
        }
    }
}

/// What a person should read about a read, beside its counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Worth knowing (what the source cannot show, the part of the window it cannot reach).
    Note(String),
    /// Something went wrong and the run went on (a region not read, a cache not written).
    Warning(String),
}

/// The activity a run read.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The aggregate, with reconciled counts and gaps.
    pub usage: Usage,
    /// The counters of each read, in order (with the store: each day's read, then the store's).
    pub stats: Vec<SourceStats>,
    /// No log file was found at all (local files).
    pub no_files: bool,
    /// Notes and warnings, in the order they arose.
    pub notices: Vec<Notice>,
}

impl Collected {
    /// The counters the run report keeps: the last (the store's, when it was used).
    pub(crate) fn report_stats(&self) -> Option<&SourceStats> {
        self.stats.last()
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// No LookupEvents region could be read.
    #[error("no region could be read: {0}")]
    NoRegionReadable(String),
    /// The async runtime the AWS sources run on could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// An AWS source failed before it read anything.
    #[cfg(feature = "aws")]
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    /// This build has no AWS sources.
    #[error("--source `{0}`: this build has no AWS sources (built without the `aws` feature)")]
    NoAwsSources(String),
    /// The usage store was asked for in a way it cannot serve.
    #[error("{0}")]
    StoreUse(String),
    /// The usage store failed.
    #[cfg(feature = "store")]
    #[error(transparent)]
    Store(#[from] crate::usage::store::StoreError),
}

/// Reads `spec` for `selection`.
pub fn collect(
    spec: &SourceSpec,
    selection: &Selection,
    remote: &RemoteOptions,
    progress: &ProgressSink,
) -> Result<Collected, CollectError> {
    let mapper = EventMapper::new(ActionCatalog::embedded());
    match spec {
        SourceSpec::Files(paths) => {
            let found = source::discover(paths, &selection.range);
            let no_files = found.files.is_empty() && found.skipped_by_date == 0;
            let task = progress.task("reading", Some(found.files.len() as u64), "files");
            let done = std::sync::atomic::AtomicU64::new(0);
            let per_principal = selection.split_by == Some(crate::select::SplitBy::Principal);
            let usage = usage::collect_local(found, selection, &mapper, &|p| {
                let before = done.fetch_max(p.files, std::sync::atomic::Ordering::Relaxed);
                task.advance(p.files.saturating_sub(before));
                task.message(if per_principal {
                    format!("{} records · {} principals seen", p.records, p.groups)
                } else {
                    format!("{} records", p.records)
                });
            });
            task.finish();
            Ok(Collected { usage, stats: Vec::new(), no_files, notices: Vec::new() })
        }
        #[cfg(feature = "aws")]
        remote_spec => crate::app::remote::collect(remote_spec, selection, remote, progress),
        #[cfg(not(feature = "aws"))]
        other => {
            let _ = (remote, progress);
            Err(CollectError::NoAwsSources(other.to_string()))
        }
    }
}

/// The key the usage store files a source's days under: local paths made absolute, or the
/// remote source with the regions and accounts that narrow it, and the error codes counted as
/// evidence (they change what a day's usage holds).
pub fn store_key(
    spec: &SourceSpec,
    remote: &RemoteOptions,
    counted: &crate::mapping::evidence::CountedErrors,
) -> String {
    let mut key = match spec {
        SourceSpec::Files(paths) => {
            let paths: Vec<String> = paths
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string())
                .collect();
            format!("logs:{}", paths.join(","))
        }
        other => {
            let mut key = other.to_string();
            if remote.all_regions {
                key.push_str(" regions=all");
            } else if !remote.regions.is_empty() {
                key.push_str(&format!(" regions={}", remote.regions.join(",")));
            }
            if !remote.accounts.is_empty() {
                key.push_str(&format!(" accounts={}", remote.accounts.join(",")));
            }
            key
        }
    };
    if !counted.is_empty() {
        key.push_str(&format!(" count-errors={}", counted.codes().collect::<Vec<_>>().join(",")));
    }
    key
}

/// The key the usage store files the days of a read kept apart per principal under.
pub const EVERY_PRINCIPAL: &str = "(every principal)";

/// The usage store's database: `path`, else the default in the user's data directory.
#[cfg(feature = "store")]
pub(crate) fn store_path(path: Option<&std::path::Path>) -> Result<std::path::PathBuf, CollectError> {
    match path {
        Some(p) => Ok(p.to_path_buf()),
        None => crate::usage::store::UsageStore::default_path().ok_or_else(|| {
            CollectError::StoreUse("--store: no data directory (set XDG_DATA_HOME or HOME, or give a path)".into())
        }),
    }
}

/// `--store`: reads `spec` for `selection` day by day through the usage store at `path`
/// (default: the user's data dir): each whole past day from the store when it holds it, else
/// from the source, and stored when everything of it was read.
#[cfg(feature = "store")]
pub(crate) fn collect_with_store(
    path: Option<&std::path::Path>,
    spec: &SourceSpec,
    selection: &Selection,
    remote: &RemoteOptions,
    progress: &ProgressSink,
) -> Result<Collected, CollectError> {
    use crate::app::store_days::StoreDaysError;
    use crate::usage::store::UsageStore;
    let path = store_path(path)?;
    let (Some(from), Some(to)) =
        (selection.range.from, selection.range.to.or_else(|| selection.range.from.map(|_| chrono::Utc::now())))
    else {
        return Err(CollectError::StoreUse(
            "--store keeps usage per day: give a window with --days N or --from (and --to)".into(),
        ));
    };
    let store = UsageStore::open(&path)?;
    // A read kept apart per principal (the audit's) is filed under one key of its own.
    let role = match (&selection.principal, selection.split_by) {
        (Some(r), _) => r.as_str().to_string(),
        (None, Some(crate::select::SplitBy::Principal)) => EVERY_PRINCIPAL.to_string(),
        (None, _) => String::new(),
    };
    let key = store_key(spec, remote, &selection.counted_errors);
    let mut stats = Vec::new();
    let mut notices = Vec::new();
    let mut read_day = |range: &crate::ingest::window::TimeRange| -> Result<Usage, CollectError> {
        let day_selection = Selection { range: *range, ..selection.clone() };
        let day = collect(spec, &day_selection, remote, progress)?;
        stats.extend(day.stats);
        notices.extend(day.notices);
        Ok(day.usage)
    };
    let (usage, days) =
        crate::app::store_days::collect(&store, &role, &key, (from, to), chrono::Utc::now(), &mut read_day).map_err(
            |e| match e {
                StoreDaysError::Source(e) => e,
                StoreDaysError::Store(e) => CollectError::Store(e),
            },
        )?;
    stats.push(SourceStats::Store(days));
    Ok(Collected { usage, stats, no_files: false, notices })
}

/// Without the `store` feature there is no usage store.
#[cfg(not(feature = "store"))]
pub(crate) fn collect_with_store(
    _path: Option<&std::path::Path>,
    _spec: &SourceSpec,
    _selection: &Selection,
    _remote: &RemoteOptions,
    _progress: &ProgressSink,
) -> Result<Collected, CollectError> {
    Err(CollectError::StoreUse("--store: this build has no usage store (built without the `store` feature)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_every_principal_reports_files_records_and_principals_seen_as_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let session = |role: &str| {
            format!(
                r#"{{"eventVersion":"1.10","eventTime":"2026-10-02T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","awsRegion":"us-east-1","eventType":"AwsApiCall","recipientAccountId":"111122223333","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{role}/s","accountId":"111122223333","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/{role}","accountId":"111122223333","userName":"{role}"}}}}}},"requestParameters":{{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/q"}}}}"#
            )
        };
        for (i, roles) in [["a", "b"], ["b", "c"], ["c", "c"]].iter().enumerate() {
            let records: Vec<String> = roles.iter().map(|r| session(r)).collect();
            std::fs::write(dir.path().join(format!("{i}.json")), format!(r#"{{"Records":[{}]}}"#, records.join(",")))
                .unwrap();
        }
        let selection = Selection {
            principal: None,
            range: crate::TimeRange::default(),
            counted_errors: crate::mapping::evidence::CountedErrors::new(Vec::<String>::new()),
            limits: crate::ingest::source::ReadLimits::default(),
            split_by: Some(crate::select::SplitBy::Principal),
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let mapper = EventMapper::new(ActionCatalog::embedded());
        let found = source::discover(&[dir.path().to_path_buf()], &selection.range);
        let usage = usage::collect_local(found, &selection, &mapper, &|p| seen.lock().unwrap().push(p));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 3, "once per file");
        let last = seen.iter().max_by_key(|p| p.files).unwrap();
        assert_eq!(
            (last.files, seen.iter().map(|p| p.records).max(), seen.iter().map(|p| p.groups).max()),
            (3, Some(6), Some(3))
        );
        assert_eq!(usage.records_read_with_groups(), 6);
    }

    #[test]
    fn every_kind_of_source_reads_back_as_it_is_written() {
        for written in [
            "lookup",
            "s3://trail-bucket",
            "s3://trail-bucket/org/AWSLogs",
            "athena://cloudtrail.logs",
            "athena://cloudtrail.logs?workgroup=audit&output=s3://results/iamtrim/&partition=none",
            "lake://a1b2c3d4-0000-1111-2222-333344445555",
        ] {
            let spec: SourceSpec = written.parse().unwrap();
            assert_eq!(spec.to_string(), written);
        }
        let s3 = |bucket: &str, prefix: &str| SourceSpec::S3 { bucket: bucket.into(), prefix: prefix.into() };
        assert_eq!("s3://b".parse::<SourceSpec>().unwrap(), s3("b", ""));
        assert_eq!("s3://b/logs/org/".parse::<SourceSpec>().unwrap(), s3("b", "logs/org"));
        assert!("b/logs".parse::<SourceSpec>().is_err());
        assert!("s3:///x".parse::<SourceSpec>().is_err());
    }

    #[test]
    fn a_source_of_no_known_kind_names_the_kinds_there_are() {
        let cases = [
            ("athena", "--source `athena` is none of `lookup`, s3://, athena:// or lake://"),
            ("s3://", "`s3://` names no bucket"),
            ("athena://nodot", "expected athena://DATABASE.TABLE"),
            ("lake://", "expected lake://EVENT_DATA_STORE_ID"),
        ];
        for (written, message) in cases {
            let e = written.parse::<SourceSpec>().unwrap_err();
            assert!(e.0.contains(message), "{written}: {e}");
        }
    }

    #[test]
    fn the_store_key_of_a_remote_source_names_what_narrows_it() {
        let remote =
            RemoteOptions { regions: vec!["eu-west-1".into()], accounts: vec!["1".into()], ..Default::default() };
        let counted = crate::mapping::evidence::CountedErrors::new(&["ThrottlingException".to_string()]);
        let key = store_key(&"lookup".parse().unwrap(), &remote, &counted);
        assert_eq!(key, "lookup regions=eu-west-1 accounts=1 count-errors=throttlingexception");
    }
}
