//! Reading a remote source (LookupEvents, S3, Athena, CloudTrail Lake) on its own async runtime.

use super::collect::{CollectError, Collected, Notice, RemoteOptions, SourceSpec};
use crate::aws::{athena, lake, lookup, s3, AwsOptions};
use crate::mapping::catalog::ActionCatalog;
use crate::mapping::mapper::EventMapper;
use crate::output::source_stats::SourceStats;
use crate::progress::ProgressSink;
use crate::usage::Selection;

/// The async runtime the AWS calls of one command run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, CollectError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CollectError::Runtime)
}

/// Reads a remote `spec` (not [`SourceSpec::Files`]).
pub(super) fn collect(
    spec: &SourceSpec,
    selection: &Selection,
    remote: &RemoteOptions,
    progress: &ProgressSink,
) -> Result<Collected, CollectError> {
    let runtime = runtime()?;
    let aws = aws_options(remote);
    let mapper = EventMapper::new(ActionCatalog::embedded());
    let mut notices = Vec::new();
    let (mut usage, stats) = match spec {
        SourceSpec::Files(_) => unreachable!("local files are read by app::collect"),
        SourceSpec::Lookup => {
            notices.push(Notice::Note(
                "LookupEvents returns management events only: S3 object, Lambda Invoke and DynamoDB item calls (data events) \
are not in it. Read trail files (--source s3://BUCKET) for those."
                    .into(),
            ));
            if let Some(from) = selection.range.from {
                let oldest = chrono::Utc::now() - chrono::Duration::days(lookup::RETENTION_DAYS);
                if from < oldest {
                    notices.push(Notice::Note(format!(
                        "LookupEvents keeps {} days; the window starts {} and is read from {}",
                        lookup::RETENTION_DAYS,
                        from.format("%Y-%m-%d"),
                        oldest.format("%Y-%m-%d")
                    )));
                }
            }
            let regions = if remote.all_regions {
                // The principal's ARN says the partition; else the profile's region does.
                let partition = match selection.principal.as_ref().and_then(|p| p.partition()) {
                    Some(p) => p.to_string(),
                    None => {
                        let chain = runtime.block_on(crate::aws::load_config(&aws, None))?;
                        crate::mapping::arn::partition_of_region(chain.region().map(|r| r.as_ref()).unwrap_or(""))
                            .to_string()
                    }
                };
                let regions = crate::aws::all_regions(&partition);
                notices.push(Notice::Note(format!(
                    "--all-regions: the {} regions of partition {partition}",
                    regions.len()
                )));
                regions.iter().map(|r| r.to_string()).collect()
            } else if remote.regions.is_empty() {
                let chain = runtime.block_on(crate::aws::load_config(&aws, None))?;
                vec![chain.region().map(|r| r.to_string()).unwrap_or_default()]
            } else {
                remote.regions.clone()
            };
            let cache_root = if remote.no_cache {
                None
            } else {
                remote.cache.clone().or_else(crate::aws::cache::PageCache::default_root)
            };
            let opts = lookup::LookupOptions {
                regions,
                account: remote.accounts.first().cloned(),
                cache_root,
                rate: remote.lookup_rate,
                progress: progress.clone(),
                aws,
            };
            let (usage, stats) = runtime.block_on(lookup::collect(&opts, selection, mapper))?;
            for s in &stats {
                if let Some(e) = &s.error {
                    notices.push(Notice::Warning(format!("region {} was not read: {e}", s.region)));
                }
                if let Some(e) = &s.cache_error {
                    notices.push(Notice::Warning(format!(
                        "lookup {}: cannot write the page cache ({e}); pages are fetched again next time",
                        s.region
                    )));
                }
            }
            if stats.iter().all(|s| s.error.is_some()) {
                let first = stats.iter().find_map(|s| s.error.clone()).unwrap_or_default();
                return Err(CollectError::NoRegionReadable(first));
            }
            (usage, SourceStats::Lookup(stats))
        }
        SourceSpec::S3 { bucket, prefix } => {
            let opts = s3::S3Options {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                accounts: remote.accounts.clone(),
                regions: remote.regions.clone(),
                concurrency: remote.concurrency,
                progress: progress.clone(),
                aws,
            };
            let (usage, stats) = runtime.block_on(s3::collect(&opts, selection, mapper))?;
            (usage, SourceStats::S3(stats))
        }
        SourceSpec::Athena(table) => {
            let opts = athena::AthenaOptions {
                table: table.clone(),
                region: remote.regions.first().cloned(),
                progress: progress.clone(),
                aws,
            };
            let (usage, stats) = runtime.block_on(athena::collect(&opts, selection, mapper))?;
            (usage, SourceStats::Athena(stats))
        }
        SourceSpec::Lake { event_data_store } => {
            let opts = lake::LakeOptions {
                event_data_store: event_data_store.clone(),
                region: remote.regions.first().cloned(),
                progress: progress.clone(),
                aws,
            };
            let (usage, stats) = runtime.block_on(lake::collect(&opts, selection, mapper))?;
            (usage, SourceStats::Lake(stats))
        }
    };
    resolve_instance_profiles(&runtime, &aws_options(remote), &mut usage, &mut notices);
    Ok(Collected { usage, stats: vec![stats], no_files: false, notices })
}

fn aws_options(remote: &RemoteOptions) -> AwsOptions {
    AwsOptions { profile: remote.profile.clone(), endpoint_url: remote.endpoint_url.clone() }
}

/// The roles of the instance profiles calls passed without naming the role, from IAM: each one
/// resolved is granted `iam:PassRole` on its roles; one IAM cannot answer for stays reported as
/// needed and not granted, with a warning naming the permission.
fn resolve_instance_profiles(
    runtime: &tokio::runtime::Runtime,
    aws: &AwsOptions,
    usage: &mut crate::usage::Usage,
    notices: &mut Vec<Notice>,
) {
    let profiles: Vec<String> = usage.instance_profiles.keys().cloned().collect();
    if profiles.is_empty() {
        return;
    }
    let answers = match runtime.block_on(crate::aws::iam::instance_profile_roles(aws, usage.partition(), &profiles)) {
        Ok(a) => a,
        Err(e) => profiles.iter().map(|_| Err(crate::aws::AwsError::Call(e.to_string()))).collect(),
    };
    for (profile, answer) in profiles.iter().zip(answers) {
        match answer {
            Ok(roles) if !roles.is_empty() => {
                usage.resolve_instance_profile(profile, &roles, "iam:GetInstanceProfile names")
            }
            Ok(_) => notices.push(Notice::Warning(format!(
                "instance profile {profile} has no role: iam:PassRole for the calls that passed it is not granted"
            ))),
            Err(e) => notices.push(Notice::Warning(format!(
                "cannot resolve the role of instance profile {profile} ({e}): iam:PassRole for the calls that passed it is not granted"
            ))),
        }
    }
}

/// The partition of the credentials' region (where IAM is asked when no principal says it).
fn chain_partition(runtime: &tokio::runtime::Runtime, aws: &AwsOptions) -> Result<&'static str, CollectError> {
    let chain = runtime.block_on(crate::aws::load_config(aws, None))?;
    Ok(crate::mapping::arn::partition_of_region(chain.region().map(|r| r.as_ref()).unwrap_or("")))
}

/// The account's authorization details read from IAM (`iam:GetAccountAuthorizationDetails`,
/// every page), in the partition of the credentials' region; the progress counts entities.
pub fn account_authorization_details(
    remote: &RemoteOptions,
    progress: &ProgressSink,
) -> Result<crate::policy::authorization::AuthorizationDetails, CollectError> {
    let runtime = runtime()?;
    let aws = aws_options(remote);
    let partition = chain_partition(&runtime, &aws)?;
    let task = progress.task("iam:GetAccountAuthorizationDetails", None, "entities");
    let seen = std::sync::atomic::AtomicU64::new(0);
    let doc = runtime.block_on(crate::aws::iam::account_authorization_details(&aws, partition, &|n| {
        let before = seen.swap(n as u64, std::sync::atomic::Ordering::Relaxed);
        task.advance((n as u64).saturating_sub(before));
    }));
    task.finish();
    crate::policy::authorization::AuthorizationDetails::from_value(doc?).map_err(|e| {
        CollectError::Aws(crate::aws::AwsError::Call(format!("iam:GetAccountAuthorizationDetails answered: {e}")))
    })
}

/// IAM's last-accessed data of each principal (`arns`, all of `partition`): each its answer, or
/// the sentence saying why there is none (the permission it needs, a job that failed).
pub fn last_accessed(
    remote: &RemoteOptions,
    partition: &str,
    arns: &[String],
    progress: &ProgressSink,
) -> Result<crate::app::audit::LastAccessedAnswers, CollectError> {
    let runtime = runtime()?;
    let aws = aws_options(remote);
    let task = progress.task("IAM last-accessed data", Some(arns.len() as u64), "principals");
    let seen = std::sync::atomic::AtomicU64::new(0);
    let answers = runtime.block_on(crate::aws::iam::last_accessed(&aws, partition, arns, &|n| {
        let before = seen.swap(n as u64, std::sync::atomic::Ordering::Relaxed);
        task.advance((n as u64).saturating_sub(before));
    }));
    task.finish();
    Ok(arns.iter().cloned().zip(answers?.into_iter().map(|a| a.map_err(|e| e.to_string()))).collect())
}

/// IAM Access Analyzer's `CheckNoNewAccess` for every role of `review` with a trimmed policy:
/// its answer is put beside the offline proof (`access_analyzer`); a role refused or throttled
/// out gets the reason, naming the permission.
pub fn check_no_new_access(
    remote: &RemoteOptions,
    review: &mut crate::output::review::Review,
    progress: &ProgressSink,
) -> Result<(), CollectError> {
    let runtime = runtime()?;
    let aws = aws_options(remote);
    let asked: Vec<usize> = (0..review.roles.len()).filter(|&i| review.roles[i].check_documents.is_some()).collect();
    let docs: Vec<&crate::policy::access_check::CheckDocuments> =
        asked.iter().filter_map(|&i| review.roles[i].check_documents.as_ref()).collect();
    let task = progress.task("IAM Access Analyzer CheckNoNewAccess", Some(docs.len() as u64), "roles");
    let seen = std::sync::atomic::AtomicU64::new(0);
    let answers = runtime.block_on(crate::aws::access_analyzer::check_no_new_access(
        &aws,
        remote.regions.first().map(String::as_str),
        &docs,
        &|n| {
            let before = seen.swap(n as u64, std::sync::atomic::Ordering::Relaxed);
            task.advance((n as u64).saturating_sub(before));
        },
    ));
    task.finish();
    for (i, answer) in asked.into_iter().zip(answers?) {
        review.roles[i].access_analyzer = Some(answer);
    }
    Ok(())
}
