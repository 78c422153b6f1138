//! IAM Access Analyzer's `CheckNoNewAccess` (REST-JSON `POST /policy/check-no-new-access`): does
//! the trimmed policy allow anything the current one does not? One call per role, each billed
//! by AWS (see docs/permissions.md). Throttling is retried with backoff ([`super::retry_throttled`]).

use super::{explain, load_config, AwsError, AwsOptions};
use crate::policy::access_check::{AccessAnalyzerCheck, CheckDocuments, CheckReason};

/// Asks Access Analyzer, in `region` (or the chain's), about each of `checks` in turn; each gets
/// its own answer, an error naming the permission when the call was refused. `done` is called
/// as each answer is in.
pub async fn check_no_new_access(
    aws: &AwsOptions,
    region: Option<&str>,
    checks: &[&CheckDocuments],
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<AccessAnalyzerCheck>, AwsError> {
    use aws_sdk_accessanalyzer::types::AccessCheckPolicyType;
    let config = load_config(aws, region).await?;
    let client = aws_sdk_accessanalyzer::Client::new(&config);
    let mut out = Vec::with_capacity(checks.len());
    for (i, docs) in checks.iter().enumerate() {
        if let Some(why) = &docs.cannot_check {
            out.push(AccessAnalyzerCheck::not_run(why.clone(), docs.left_out.clone()));
            done(i + 1);
            continue;
        }
        let sent = super::retry_throttled(|| {
            client
                .check_no_new_access()
                .existing_policy_document(&docs.existing)
                .new_policy_document(&docs.new)
                .policy_type(AccessCheckPolicyType::IdentityPolicy)
                .send()
        })
        .await;
        let answer = match sent {
            Err(e) => AccessAnalyzerCheck::not_run(
                explain(&e, "access-analyzer:CheckNoNewAccess", "asking IAM Access Analyzer CheckNoNewAccess"),
                docs.left_out.clone(),
            ),
            Ok(o) if o.result().is_none() => AccessAnalyzerCheck::not_run(
                "IAM Access Analyzer CheckNoNewAccess answered without a result".into(),
                docs.left_out.clone(),
            ),
            Ok(o) => AccessAnalyzerCheck {
                result: o.result().map(|r| r.as_str().to_string()).unwrap_or_default(),
                message: o.message().unwrap_or_default().to_string(),
                reasons: o
                    .reasons()
                    .iter()
                    .map(|r| CheckReason {
                        description: r.description().unwrap_or_default().to_string(),
                        statement_id: r.statement_id().map(str::to_string),
                        statement_index: r.statement_index(),
                    })
                    .collect(),
                left_out: docs.left_out.clone(),
                error: None,
            },
        };
        out.push(answer);
        done(i + 1);
    }
    Ok(out)
}
