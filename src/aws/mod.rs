//! Sources that read CloudTrail activity from AWS: the LookupEvents API ([`lookup`]), trail
//! log files in S3 ([`s3`]), and queries that aggregate where the data lies: Athena over a
//! trail table ([`athena`]) and CloudTrail Lake ([`lake`]), both run by the one start/poll/page loop in
//! `query.rs`. IAM Access Analyzer's no-new-access check ([`access_analyzer`]). Credentials and region come from the standard chain (environment,
//! shared config and credentials files, SSO, container and instance roles), narrowed by
//! `--profile`, `--region` and `--endpoint-url`.

pub mod access_analyzer;
pub mod athena;
pub mod cache;
pub mod iam;
pub mod lake;
pub mod lookup;
mod query;
pub mod s3;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::error::ProvideErrorMetadata;

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Named profile of the shared config files.
    pub profile: Option<String>,
    /// Endpoint for every service (a moto server, a VPC endpoint, ...).
    pub endpoint_url: Option<String>,
}

/// Errors from the AWS sources.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No credentials in the chain.
    #[error("no AWS credentials found: use --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login` ({0})")]
    NoCredentials(String),
    /// No region configured.
    #[error("no AWS region: pass --region or set AWS_REGION (or a region in the profile)")]
    NoRegion,
    /// A call failed in a way the run cannot go on from.
    #[error("{0}")]
    Call(String),
    /// The source argument is malformed.
    #[error("{0}")]
    BadSource(String),
}

/// Loads the SDK configuration for `region` (or the chain's region when `None`).
pub(crate) async fn load_config(opts: &AwsOptions, region: Option<&str>) -> Result<SdkConfig, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    match config.credentials_provider() {
        None => return Err(AwsError::NoCredentials("no provider".into())),
        Some(p) => {
            use aws_sdk_s3::config::ProvideCredentials;
            if let Err(e) = p.provide_credentials().await {
                return Err(AwsError::NoCredentials(e.to_string()));
            }
        }
    }
    Ok(config)
}

/// The account the credentials belong to (STS GetCallerIdentity, which needs no permission).
pub(crate) async fn caller_account(config: &SdkConfig) -> Result<String, AwsError> {
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts.get_caller_identity().send().await.map_err(|e| {
        AwsError::Call(explain(&e, "sts:GetCallerIdentity (needs no permission)", "identifying the account"))
    })?;
    out.account().map(str::to_string).ok_or_else(|| AwsError::Call("STS GetCallerIdentity returned no account".into()))
}

/// A sentence for an SDK error: what was being done, the service's error code and message,
/// and for access errors the permission iamtrim needs.
pub fn explain<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>, permission: &str, what: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("error");
            let msg = e.message().unwrap_or("");
            if is_access_denied(code) {
                format!("access denied {what}: iamtrim needs {permission} ({code}: {msg}); see docs/permissions.md")
            } else {
                format!("{what}: {code}: {msg}")
            }
        }
        SdkError::DispatchFailure(d) => {
            format!("{what}: cannot reach AWS ({d:?}); check the network, --region and --endpoint-url")
        }
        SdkError::TimeoutError(_) => format!("{what}: timed out"),
        other => format!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(other)),
    }
}

/// Error codes that mean the caller lacks a permission.
pub(crate) fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" | "Forbidden" | "403"
    )
}

/// Throttled answers [`retry_throttled`] waits out before it gives the throttling error back.
pub(crate) const THROTTLED_RETRIES: u32 = 8;

/// Makes `call` until it answers with anything but throttling, waiting with the query loop's
/// backoff between tries, at most [`THROTTLED_RETRIES`] times (beyond the SDK's own retries).
pub(crate) async fn retry_throttled<T, E, R, F, Fut>(mut call: F) -> Result<T, aws_sdk_s3::error::SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, aws_sdk_s3::error::SdkError<E, R>>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e) if is_throttled(&e) && attempt < THROTTLED_RETRIES => {
                tokio::time::sleep(query::backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// True when an SDK call failed with a throttling error (any service: the SDKs share the error type).
pub(crate) fn is_throttled<E: ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(is_throttling)
}

/// True for error codes that say "slow down".
pub(crate) fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "RequestThrottled"
            | "RequestThrottledException"
    )
}

/// The regions `--all-regions` covers in `partition`: the regions enabled by default plus the
/// opt-in ones (a region the account has not enabled is reported and skipped).
pub(crate) fn all_regions(partition: &str) -> &'static [&'static str] {
    crate::mapping::arn::Partition::named(partition).map(|p| p.regions).unwrap_or(&[])
}
