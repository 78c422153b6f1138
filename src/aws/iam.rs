//! A role's current policies from IAM: inline policies (ListRolePolicies, GetRolePolicy),
//! attached managed policies (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion of the
//! default version) and the permissions boundary (GetRole); a user's, with its groups'. Policy documents come URL-encoded.
//! The whole account at once (GetAccountAuthorizationDetails), and IAM's last-accessed data of each
//! principal (GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails).
//! AWS managed policies resolve from the bundled copies when IAM cannot give them or `offline`.

use super::{explain, load_config, AwsError, AwsOptions};
use crate::policy::evaluator::PolicySet;
use crate::policy::managed::ManagedPolicies;
use crate::policy::model::Policy;

fn decode(doc: &str) -> String {
    crate::mapping::mapper::percent_decode(doc)
}

fn parse(name: &str, encoded: &str) -> Result<Policy, AwsError> {
    Policy::parse(name, &decode(encoded)).map_err(|e| AwsError::Call(e.to_string()))
}

/// `arn:PARTITION:iam::aws:policy/...`: an AWS managed policy, in any partition.
fn is_aws_managed(arn: &str) -> bool {
    crate::mapping::arn::Arn::parse(arn)
        .is_some_and(|a| a.service == "iam" && a.account == "aws" && a.resource.starts_with("policy/"))
}

/// The region IAM is called in for `partition` (IAM is global within a partition).
fn iam_region(partition: &str) -> &'static str {
    crate::mapping::arn::Partition::named(partition).map(|p| p.global_region).unwrap_or("us-east-1")
}

/// A managed policy's document: from IAM, or from the bundled copies for AWS managed ones when
/// `offline` or when IAM does not answer.
async fn managed(
    client: &aws_sdk_iam::Client,
    arn: &str,
    offline: bool,
    notes: &mut Vec<String>,
) -> Result<Policy, AwsError> {
    let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
    let bundled = || ManagedPolicies::embedded().get(arn).map(|r| r.map_err(|e| AwsError::Call(e.to_string())));
    if offline && is_aws_managed(arn) {
        if let Some(p) = bundled() {
            return p;
        }
    }
    let fetched = async {
        let policy = client
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| explain(&e, &format!("iam:GetPolicy on {arn}"), &format!("reading {arn}")))?;
        let version = policy.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
        let v =
            client.get_policy_version().policy_arn(arn).version_id(&version).send().await.map_err(|e| {
                explain(&e, &format!("iam:GetPolicyVersion on {arn}"), &format!("reading {arn} {version}"))
            })?;
        v.policy_version()
            .and_then(|p| p.document())
            .map(str::to_string)
            .ok_or_else(|| format!("{arn} {version} has no document"))
    }
    .await;
    match fetched {
        Ok(doc) => parse(&name, &doc),
        Err(e) if is_aws_managed(arn) => match bundled() {
            Some(p) => {
                notes.push(format!("{name}: IAM did not give it ({e}); used the bundled copy"));
                p
            }
            None => Err(AwsError::Call(e)),
        },
        Err(e) => Err(AwsError::Call(e)),
    }
}

/// Pushes to `$out` the inline policies of one role, user or group: `$list` page by page, then
/// `$get` for each document, named `NAME ($label inline)`. Errors name the permission.
macro_rules! inline_policies {
    ($client:expr, $list:ident, $get:ident, $setter:ident, $entity:expr, $kind:literal, $label:expr, $out:expr) => {{
        let entity: &str = $entity;
        let mut marker = None;
        loop {
            let page = $client.$list().$setter(entity).set_marker(marker).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:{} on {} {entity}", op_name(stringify!($list)), $kind),
                    &format!("listing the inline policies of {} {entity}", $kind),
                ))
            })?;
            for name in page.policy_names() {
                let p = $client.$get().$setter(entity).policy_name(name).send().await.map_err(|e| {
                    AwsError::Call(explain(
                        &e,
                        &format!("iam:{} on {} {entity}", op_name(stringify!($get)), $kind),
                        &format!("reading inline policy {name}"),
                    ))
                })?;
                $out.push(parse(&format!("{name} ({}inline)", $label), p.policy_document())?);
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
    }};
}

/// Pushes to `$out` the managed policies attached to one role, user or group (`$list` page by
/// page), named `NAME ($label attached)` when `$label` is not empty.
macro_rules! attached_policies {
    ($client:expr, $list:ident, $setter:ident, $entity:expr, $kind:literal, $label:expr, $offline:expr, $notes:expr, $out:expr) => {{
        let entity: &str = $entity;
        let label: &str = $label;
        let mut marker = None;
        loop {
            let page = $client.$list().$setter(entity).set_marker(marker).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:{} on {} {entity}", op_name(stringify!($list)), $kind),
                    &format!("listing the policies attached to {} {entity}", $kind),
                ))
            })?;
            for a in page.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    let mut p = managed(&$client, arn, $offline, $notes).await?;
                    if !label.is_empty() {
                        p.name = format!("{} ({label}attached)", p.name);
                    }
                    $out.push(p);
                }
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
    }};
}

/// `list_role_policies` -> `ListRolePolicies`: the IAM action a client method calls.
fn op_name(method: &str) -> String {
    method
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The permissions boundary `arn`, named `NAME (boundary)`.
async fn boundary(
    client: &aws_sdk_iam::Client,
    arn: Option<&str>,
    offline: bool,
    notes: &mut Vec<String>,
) -> Result<Option<Policy>, AwsError> {
    match arn {
        Some(arn) => {
            let mut p = managed(client, arn, offline, notes).await?;
            p.name = format!("{} (boundary)", p.name);
            Ok(Some(p))
        }
        None => Ok(None),
    }
}

/// Fetches every policy of role `role_name`. Returns the set and notes for the user.
pub(crate) async fn role_policies(
    aws: &AwsOptions,
    partition: &str,
    role_name: &str,
    offline: bool,
) -> Result<(PolicySet, Vec<String>), AwsError> {
    let config = load_config(aws, Some(iam_region(partition))).await?;
    let client = aws_sdk_iam::Client::new(&config);
    let mut notes = Vec::new();
    let role = client.get_role().role_name(role_name).send().await.map_err(|e| {
        AwsError::Call(explain(&e, &format!("iam:GetRole on role {role_name}"), &format!("reading role {role_name}")))
    })?;
    let mut identity = Vec::new();
    inline_policies!(client, list_role_policies, get_role_policy, role_name, role_name, "role", "", identity);
    attached_policies!(
        client,
        list_attached_role_policies,
        role_name,
        role_name,
        "role",
        "",
        offline,
        &mut notes,
        identity
    );
    let arn = role.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn());
    let boundary = boundary(&client, arn, offline, &mut notes).await?;
    Ok((PolicySet { identity, boundary }, notes))
}

/// Fetches every policy that applies to IAM user `user_name`: its inline policies
/// (ListUserPolicies, GetUserPolicy), attached ones (ListAttachedUserPolicies), those of each of
/// its groups (ListGroupsForUser, ListGroupPolicies, GetGroupPolicy, ListAttachedGroupPolicies)
/// and its permissions boundary (GetUser).
pub(crate) async fn user_policies(
    aws: &AwsOptions,
    partition: &str,
    user_name: &str,
    offline: bool,
) -> Result<(PolicySet, Vec<String>), AwsError> {
    let config = load_config(aws, Some(iam_region(partition))).await?;
    let client = aws_sdk_iam::Client::new(&config);
    let mut notes = Vec::new();
    let user = client.get_user().user_name(user_name).send().await.map_err(|e| {
        AwsError::Call(explain(&e, &format!("iam:GetUser on user {user_name}"), &format!("reading user {user_name}")))
    })?;
    let mut identity = Vec::new();
    inline_policies!(client, list_user_policies, get_user_policy, user_name, user_name, "user", "", identity);
    attached_policies!(
        client,
        list_attached_user_policies,
        user_name,
        user_name,
        "user",
        "",
        offline,
        &mut notes,
        identity
    );
    let mut groups = Vec::new();
    let mut marker = None;
    loop {
        let page = client.list_groups_for_user().user_name(user_name).set_marker(marker).send().await.map_err(|e| {
            AwsError::Call(explain(
                &e,
                &format!("iam:ListGroupsForUser on user {user_name}"),
                "listing the user's groups",
            ))
        })?;
        groups.extend(page.groups().iter().map(|g| g.group_name().to_string()));
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
    for group in &groups {
        let label = format!("group {group} ");
        inline_policies!(client, list_group_policies, get_group_policy, group_name, group, "group", label, identity);
        attached_policies!(
            client,
            list_attached_group_policies,
            group_name,
            group,
            "group",
            &label,
            offline,
            &mut notes,
            identity
        );
    }
    let arn = user.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn());
    let boundary = boundary(&client, arn, offline, &mut notes).await?;
    Ok((PolicySet { identity, boundary }, notes))
}

/// The roles of each instance profile (`web`, or its ARN), from `iam:GetInstanceProfile` with
/// one client: what a call that passed the profile needs `iam:PassRole` on. The outer error is
/// the client's; each profile has its own answer.
pub async fn instance_profile_roles(
    aws: &AwsOptions,
    partition: &str,
    profiles: &[String],
) -> Result<Vec<Result<Vec<String>, AwsError>>, AwsError> {
    let config = load_config(aws, Some(iam_region(partition))).await?;
    let client = aws_sdk_iam::Client::new(&config);
    let mut out = Vec::with_capacity(profiles.len());
    for profile in profiles {
        let name = profile.rsplit('/').next().unwrap_or(profile);
        let answer = client.get_instance_profile().instance_profile_name(name).send().await.map_err(|e| {
            AwsError::Call(explain(
                &e,
                &format!("iam:GetInstanceProfile on instance profile {name}"),
                &format!("resolving the role of instance profile {name}"),
            ))
        });
        out.push(answer.map(|o| {
            o.instance_profile().map(|p| p.roles().iter().map(|r| r.arn().to_string()).collect()).unwrap_or_default()
        }));
    }
    Ok(out)
}

/// The account's roles, users, groups and managed policies from `iam:GetAccountAuthorizationDetails`
/// (every page; no filter, as `aws iam get-account-authorization-details` asks), written as that
/// command's JSON output with documents as the API gives them (URL-encoded strings), so the
/// offline `--auth-details FILE` and this read are parsed by the same code. `pages` is called
/// after each page with the entities so far.
pub async fn account_authorization_details(
    aws: &AwsOptions,
    partition: &str,
    pages: &(dyn Fn(usize) + Sync),
) -> Result<serde_json::Value, AwsError> {
    use serde_json::{json, Value};
    let config = load_config(aws, Some(iam_region(partition))).await?;
    let client = aws_sdk_iam::Client::new(&config);
    let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> Vec<Value> {
        list.iter().map(|p| json!({"PolicyName": p.policy_name(), "PolicyDocument": p.policy_document()})).collect()
    };
    let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Vec<Value> {
        list.iter().map(|a| json!({"PolicyName": a.policy_name(), "PolicyArn": a.policy_arn()})).collect()
    };
    let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| -> Value {
        match b.and_then(|b| b.permissions_boundary_arn()) {
            Some(arn) => json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}),
            None => Value::Null,
        }
    };
    let (mut roles, mut users, mut groups, mut policies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut marker = None;
    loop {
        let page = client.get_account_authorization_details().set_marker(marker).send().await.map_err(|e| {
            AwsError::Call(explain(
                &e,
                "iam:GetAccountAuthorizationDetails",
                "reading the account's roles, users, groups and policies",
            ))
        })?;
        for r in page.role_detail_list() {
            let mut v = json!({"Path": r.path(), "RoleName": r.role_name(), "Arn": r.arn(),
                "RolePolicyList": inline(r.role_policy_list()), "AttachedManagedPolicies": attached(r.attached_managed_policies())});
            let b = boundary(r.permissions_boundary());
            if !b.is_null() {
                v["PermissionsBoundary"] = b;
            }
            roles.push(v);
        }
        for u in page.user_detail_list() {
            let mut v = json!({"Path": u.path(), "UserName": u.user_name(), "Arn": u.arn(),
                "UserPolicyList": inline(u.user_policy_list()), "GroupList": u.group_list(),
                "AttachedManagedPolicies": attached(u.attached_managed_policies())});
            let b = boundary(u.permissions_boundary());
            if !b.is_null() {
                v["PermissionsBoundary"] = b;
            }
            users.push(v);
        }
        for g in page.group_detail_list() {
            groups.push(json!({"Path": g.path(), "GroupName": g.group_name(), "Arn": g.arn(),
                "GroupPolicyList": inline(g.group_policy_list()), "AttachedManagedPolicies": attached(g.attached_managed_policies())}));
        }
        for p in page.policies() {
            let versions: Vec<Value> = p
                .policy_version_list()
                .iter()
                .map(|v| json!({"VersionId": v.version_id(), "IsDefaultVersion": v.is_default_version(), "Document": v.document()}))
                .collect();
            policies.push(json!({"PolicyName": p.policy_name(), "Arn": p.arn(), "Path": p.path(),
                "DefaultVersionId": p.default_version_id(), "PolicyVersionList": versions}));
        }
        pages(roles.len() + users.len() + groups.len() + policies.len());
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
    Ok(json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}))
}

/// How long [`last_accessed`] waits for IAM's jobs before it reports them unfinished.
const LAST_ACCESSED_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// IAM's last-accessed data of each principal (`arns`): one `GenerateServiceLastAccessedDetails`
/// job per principal with `ACTION_LEVEL` granularity (all started first, so IAM runs them side
/// by side), then `GetServiceLastAccessedDetails` for each until it is `COMPLETED` (polled with
/// backoff, every page read). Throttling is retried with backoff. Each principal has its own
/// answer: a job that failed, or a permission missing, is that principal's error, named.
/// `done` is called as each principal's answer is in.
pub async fn last_accessed(
    aws: &AwsOptions,
    partition: &str,
    arns: &[String],
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Result<crate::usage::last_accessed::LastAccessed, AwsError>>, AwsError> {
    use aws_sdk_iam::types::AccessAdvisorUsageGranularityType;
    let config = load_config(aws, Some(iam_region(partition))).await?;
    let client = aws_sdk_iam::Client::new(&config);
    let mut jobs = Vec::with_capacity(arns.len());
    for arn in arns {
        let job = super::retry_throttled(|| {
            client
                .generate_service_last_accessed_details()
                .arn(arn)
                .granularity(AccessAdvisorUsageGranularityType::ActionLevel)
                .send()
        })
        .await
        .map_err(|e| {
            AwsError::Call(explain(
                &e,
                &format!("iam:GenerateServiceLastAccessedDetails on {arn}"),
                &format!("asking IAM for the last-accessed data of {arn}"),
            ))
        });
        jobs.push(job.map(|j| j.job_id().unwrap_or_default().to_string()));
    }
    let started = std::time::Instant::now();
    let mut out = Vec::with_capacity(arns.len());
    for (i, (arn, job)) in arns.iter().zip(jobs).enumerate() {
        let answer = match job {
            Err(e) => Err(e),
            Ok(job) => job_answer(&client, arn, &job, started).await,
        };
        out.push(answer);
        done(i + 1);
    }
    Ok(out)
}

fn chrono_time(t: &aws_sdk_iam::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Polls one last-accessed job to its end and reads every page of its answer.
async fn job_answer(
    client: &aws_sdk_iam::Client,
    arn: &str,
    job: &str,
    started: std::time::Instant,
) -> Result<crate::usage::last_accessed::LastAccessed, AwsError> {
    use crate::usage::last_accessed::{action_name, ActionAccess, LastAccessed, ServiceAccess};
    use aws_sdk_iam::types::JobStatusType;
    let mut answer = LastAccessed { arn: arn.to_string(), ..LastAccessed::default() };
    let mut marker: Option<String> = None;
    let mut attempt = 0;
    loop {
        let sent = client.get_service_last_accessed_details().job_id(job).set_marker(marker.clone()).send().await;
        let page = match sent {
            Err(e) if super::is_throttled(&e) && started.elapsed() < LAST_ACCESSED_WAIT => {
                tokio::time::sleep(super::query::backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            Err(e) => {
                return Err(AwsError::Call(explain(
                    &e,
                    &format!("iam:GetServiceLastAccessedDetails on {arn}"),
                    &format!("reading the last-accessed data of {arn} (job {job})"),
                )))
            }
            Ok(p) => p,
        };
        match page.job_status() {
            JobStatusType::InProgress => {
                if started.elapsed() >= LAST_ACCESSED_WAIT {
                    return Err(AwsError::Call(format!(
                        "IAM's last-accessed job {job} for {arn} had not finished after {} s",
                        LAST_ACCESSED_WAIT.as_secs()
                    )));
                }
                tokio::time::sleep(super::query::backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            JobStatusType::Failed => {
                let why = page.error().map(|e| format!("{}: {}", e.code(), e.message())).unwrap_or_default();
                return Err(AwsError::Call(format!("IAM's last-accessed job {job} for {arn} failed ({why})")));
            }
            _ => {}
        }
        answer.job_completed = chrono_time(page.job_completion_date());
        for s in page.services_last_accessed() {
            let actions = s.tracked_actions_last_accessed.as_ref().filter(|a| !a.is_empty()).map(|list| {
                list.iter()
                    .map(|a| ActionAccess {
                        action: action_name(s.service_namespace(), a.action_name().unwrap_or_default()),
                        last_accessed: a.last_accessed_time().and_then(chrono_time),
                        region: a.last_accessed_region().map(str::to_string),
                    })
                    .collect()
            });
            answer.services.push(ServiceAccess {
                namespace: s.service_namespace().to_string(),
                name: s.service_name().to_string(),
                last_authenticated: s.last_authenticated().and_then(chrono_time),
                region: s.last_authenticated_region().map(str::to_string),
                actions,
            });
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_methods_name_the_iam_action_they_need() {
        for (method, action) in [
            ("list_role_policies", "ListRolePolicies"),
            ("get_group_policy", "GetGroupPolicy"),
            ("list_attached_user_policies", "ListAttachedUserPolicies"),
        ] {
            assert_eq!(super::op_name(method), action);
        }
    }
}
