//! A role's current policies from IAM: inline policies (ListRolePolicies, GetRolePolicy),
//! attached managed policies (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion of the
//! default version) and the permissions boundary (GetRole); a user's, with its groups'. Policy documents come URL-encoded.
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

    let mut marker = None;
    loop {
        let page = client.list_role_policies().role_name(role_name).set_marker(marker).send().await.map_err(|e| {
            AwsError::Call(explain(&e, &format!("iam:ListRolePolicies on role {role_name}"), "listing inline policies"))
        })?;
        for name in page.policy_names() {
            let p = client.get_role_policy().role_name(role_name).policy_name(name).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:GetRolePolicy on role {role_name}"),
                    &format!("reading inline policy {name}"),
                ))
            })?;
            identity.push(parse(&format!("{name} (inline)"), p.policy_document())?);
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }

    let mut marker = None;
    loop {
        let page =
            client.list_attached_role_policies().role_name(role_name).set_marker(marker).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:ListAttachedRolePolicies on role {role_name}"),
                    "listing attached policies",
                ))
            })?;
        for a in page.attached_policies() {
            if let Some(arn) = a.policy_arn() {
                identity.push(managed(&client, arn, offline, &mut notes).await?);
            }
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }

    let boundary = match role.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
        Some(arn) => {
            let mut p = managed(&client, arn, offline, &mut notes).await?;
            p.name = format!("{} (boundary)", p.name);
            Some(p)
        }
        None => None,
    };
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

    let mut marker = None;
    loop {
        let page = client.list_user_policies().user_name(user_name).set_marker(marker).send().await.map_err(|e| {
            AwsError::Call(explain(&e, &format!("iam:ListUserPolicies on user {user_name}"), "listing inline policies"))
        })?;
        for name in page.policy_names() {
            let p = client.get_user_policy().user_name(user_name).policy_name(name).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:GetUserPolicy on user {user_name}"),
                    &format!("reading inline policy {name}"),
                ))
            })?;
            identity.push(parse(&format!("{name} (inline)"), p.policy_document())?);
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
    let mut marker = None;
    loop {
        let page =
            client.list_attached_user_policies().user_name(user_name).set_marker(marker).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:ListAttachedUserPolicies on user {user_name}"),
                    "listing attached policies",
                ))
            })?;
        for a in page.attached_policies() {
            if let Some(arn) = a.policy_arn() {
                identity.push(managed(&client, arn, offline, &mut notes).await?);
            }
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }
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
        let mut marker = None;
        loop {
            let page = client.list_group_policies().group_name(group).set_marker(marker).send().await.map_err(|e| {
                AwsError::Call(explain(
                    &e,
                    &format!("iam:ListGroupPolicies on group {group}"),
                    "listing group inline policies",
                ))
            })?;
            for name in page.policy_names() {
                let p = client.get_group_policy().group_name(group).policy_name(name).send().await.map_err(|e| {
                    AwsError::Call(explain(
                        &e,
                        &format!("iam:GetGroupPolicy on group {group}"),
                        &format!("reading group policy {name}"),
                    ))
                })?;
                identity.push(parse(&format!("{name} (group {group} inline)"), p.policy_document())?);
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
        let mut marker = None;
        loop {
            let page =
                client.list_attached_group_policies().group_name(group).set_marker(marker).send().await.map_err(
                    |e| {
                        AwsError::Call(explain(
                            &e,
                            &format!("iam:ListAttachedGroupPolicies on group {group}"),
                            "listing group attached policies",
                        ))
                    },
                )?;
            for a in page.attached_policies() {
                if let Some(arn) = a.policy_arn() {
                    let mut p = managed(&client, arn, offline, &mut notes).await?;
                    p.name = format!("{} (group {group} attached)", p.name);
                    identity.push(p);
                }
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
    }
    let boundary = match user.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
        Some(arn) => {
            let mut p = managed(&client, arn, offline, &mut notes).await?;
            p.name = format!("{} (boundary)", p.name);
            Some(p)
        }
        None => None,
    };
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
