//! Permissions a call needs that CloudTrail does not log: the catalog's dependent tagging action
//! when the request carries tags, and `iam:PassRole` on the role a call passes
//! (`action-maps/passrole.json`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::mapper::{ActionUse, EventMapper, Resolution};
use super::params::{is_empty_value, path_values};
use super::resources::{scoped_wildcards, Context};
use crate::mapping::arn::has_wildcard;
use crate::mapping::catalog::Action;

/// Request parameters that carry tags applied at creation (EC2's `tagSpecificationSet`, most
/// services' `tags`/`Tags`, ...).
pub(super) const TAG_PARAMETERS: &[&str] = &[
    "tagSpecificationSet",
    "tagSpecifications",
    "TagSpecifications",
    "tagSpecification",
    "tags",
    "Tags",
    "tagList",
    "TagList",
    "tagsList",
    "TagsList",
];

/// Request parameters that name a role a call passes to a service.
pub(super) const ROLE_PARAMETERS: &[&str] = &[
    "roleArn",
    "RoleArn",
    "roleARN",
    "RoleARN",
    "executionRoleArn",
    "ExecutionRoleArn",
    "serviceRole",
    "serviceRoleArn",
    "ServiceRoleArn",
    "iamRole",
    "iamRoleArn",
    "IamRoleArn",
    "credentials",
    "credentialsArn",
    "authorizerCredentials",
    "cloudWatchRoleArn",
];

/// True for a tagging action: `ec2:CreateTags`, `kms:TagResource`, `rds:AddTagsToResource`...
pub fn is_tagging_action(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, n)| n);
    matches!(
        name,
        "CreateTags" | "AddTags" | "AddTagsToResource" | "AddTagsToStream" | "AddTagsToCertificate" | "AddTagsToVault"
    ) || (name.starts_with("Tag") && name[3..].chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}

/// S3 request headers that make a write need another permission on the object it writes (the
/// Service Reference lists these actions for PutObject, CopyObject and CreateMultipartUpload):
/// header prefix -> action.
const S3_HEADER_ACTIONS: &[(&str, &str)] = &[
    ("x-amz-acl", "s3:PutObjectAcl"),
    ("x-amz-grant-", "s3:PutObjectAcl"),
    ("x-amz-tagging", "s3:PutObjectTagging"),
    ("x-amz-object-lock-mode", "s3:PutObjectRetention"),
    ("x-amz-object-lock-retain-until-date", "s3:PutObjectRetention"),
    ("x-amz-object-lock-legal-hold", "s3:PutObjectLegalHold"),
];

impl EventMapper<'_> {
    /// The object permissions an S3 write's headers need beside `s3:PutObject` (an ACL, tags,
    /// object lock), on the objects it writes; none without their header.
    pub(super) fn s3_header_extras(&self, uses: &[ActionUse], params: &Map<String, Value>) -> Vec<ActionUse> {
        let Some(put) = uses.iter().find(|u| u.action == "s3:PutObject") else { return Vec::new() };
        let mut needed: std::collections::BTreeMap<&str, BTreeSet<&str>> = std::collections::BTreeMap::new();
        for (key, value) in params {
            if is_empty_value(value) {
                continue;
            }
            for (header, action) in S3_HEADER_ACTIONS {
                if key.get(..header.len()).is_some_and(|k| k.eq_ignore_ascii_case(header)) {
                    needed.entry(action).or_default().insert(header);
                }
            }
        }
        needed
            .into_iter()
            .filter(|(a, _)| self.catalog.action_by_name(a).is_some())
            .map(|(action, headers)| ActionUse {
                action: action.to_string(),
                resources: put.resources.clone(),
                resolution: put.resolution,
                implied_by: Some(format!(
                    "the write carries {}: IAM authorizes it as {action} on the object as well",
                    headers.into_iter().collect::<Vec<_>>().join(", ")
                )),
            })
            .collect()
    }

    /// The catalog's dependent tagging action (ec2:CreateTags, `*:TagResource`...) of a call that
    /// tags what it creates (its request carries tags), on the resources the call named; the
    /// tagging is authorized separately and CloudTrail logs only the call itself.
    pub(super) fn tags_on_create(
        &self,
        action: &Action,
        main: &ActionUse,
        params: &Map<String, Value>,
        ctx: &Context,
    ) -> Vec<ActionUse> {
        let Some(key) = TAG_PARAMETERS.iter().find(|k| params.get(**k).is_some_and(|v| !is_empty_value(v))) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Only the action's own service's tagging: another service's (`secretsmanager:TagResource`
        // for `rds:CreateDBInstance`) tags what that service creates on an option the event
        // may not carry (`manageMasterUserPassword`), so the tags alone are no trigger for it.
        let own = |d: &&String| d.split_once(':').is_some_and(|(p, _)| p == action.prefix());
        for dep in action.dependent.iter().filter(|d| is_tagging_action(d)).filter(own) {
            let Some(d) = self.catalog.action_by_name(dep) else { continue };
            // EC2 names what it tags (`tagSpecificationSet.items[].resourceType`): those types only.
            let tagged_types: BTreeSet<String> = path_values(params, &format!("{key}.items[].resourceType"))
                .into_iter()
                .chain(path_values(params, &format!("{key}[].ResourceType")))
                .chain(path_values(params, &format!("{key}[].resourceType")))
                .collect();
            let resources: BTreeSet<String> = if !d.has_resources() {
                BTreeSet::from(["*".to_string()])
            } else if !tagged_types.is_empty() {
                let mut out = BTreeSet::new();
                for t in tagged_types.iter().filter(|t| d.accepts_type(t)) {
                    let named: Vec<&String> = main
                        .resources
                        .iter()
                        .filter(|r| self.catalog.classify_arn(d.prefix(), r) == Some(t.as_str()))
                        .collect();
                    if named.is_empty() {
                        out.extend(scoped_wildcards(self.catalog.templates(d.prefix(), t), ctx));
                    } else {
                        out.extend(named.into_iter().cloned());
                    }
                }
                out
            } else {
                let fitting: BTreeSet<String> = main
                    .resources
                    .iter()
                    .filter(|r| self.catalog.classify_arn(d.prefix(), r).is_some_and(|t| d.accepts_type(t)))
                    .cloned()
                    .collect();
                if fitting.is_empty() {
                    d.resource_types
                        .iter()
                        .filter(|r| r.required)
                        .flat_map(|rt| scoped_wildcards(self.catalog.templates(d.prefix(), &rt.name), ctx))
                        .collect()
                } else {
                    fitting
                }
            };
            let resolution =
                if resources.iter().any(|r| has_wildcard(r)) { Resolution::Wildcard } else { Resolution::Parameters };
            out.push(ActionUse {
                action: d.name.clone(),
                resources: if resources.is_empty() { vec!["*".to_string()] } else { resources.into_iter().collect() },
                resolution,
                implied_by: Some(format!(
                    "{} tags what it creates (requestParameters.{key}), which needs {} (a dependent action in the IAM catalog); CloudTrail logs only {}",
                    action.name, d.name, action.name
                )),
            });
        }
        out
    }

    /// iam:PassRole for a call that passes a role (`action-maps/passrole.json`), on that role.
    pub(super) fn passed_role(
        &self,
        prefix: &str,
        name: &str,
        params: &Map<String, Value>,
        ctx: &Context,
    ) -> Option<ActionUse> {
        // The reviewed table first; else, for an action the catalog says may pass a role, the
        // common role parameters, and only role ARNs among their values (a bare value could
        // name something else).
        let generic: Vec<String>;
        let (paths, arns_only) = match self.catalog.passed_role_parameters(prefix, name) {
            Some(p) => (p, false),
            None => {
                let passes =
                    self.catalog.action(prefix, name).is_some_and(|a| a.dependent.iter().any(|d| d == "iam:PassRole"));
                if !passes {
                    return None;
                }
                generic = ROLE_PARAMETERS.iter().map(|p| p.to_string()).collect();
                (generic.as_slice(), true)
            }
        };
        let mut roles = BTreeSet::new();
        let mut profiles = BTreeSet::new();
        let mut found: Vec<&str> = Vec::new();
        for path in paths {
            let profile_path = path.to_ascii_lowercase().contains("instanceprofile");
            let values = path_values(params, path);
            if !values.is_empty() {
                found.push(path);
            }
            for v in values {
                if v.contains(":instance-profile/") || (profile_path && !v.is_empty()) {
                    // The profile's role is not named in the event: it is needed, and never
                    // guessed as `role/*`.
                    profiles.insert(v);
                } else if v.starts_with("arn:") && v.contains(":role/") {
                    roles.insert(v);
                } else if !arns_only && !v.is_empty() && !v.contains(':') {
                    // `v` is literal already (parameter values are read as literal patterns).
                    roles.insert(format!("arn:{}:iam::{}:role/{v}", ctx.partition, ctx.account_or_any()));
                }
            }
        }
        if roles.is_empty() && !profiles.is_empty() {
            let profiles: Vec<String> = profiles.into_iter().collect();
            return Some(ActionUse {
                action: "iam:PassRole".to_string(),
                resources: profiles.clone(),
                resolution: Resolution::Unresolved,
                implied_by: Some(format!(
                    "{prefix}:{name} passes the role of instance profile {}; the event does not name the role (iam:GetInstanceProfile names it): not granted",
                    profiles.join(", ")
                )),
            });
        }
        if roles.is_empty() {
            return None;
        }
        Some(ActionUse {
            action: "iam:PassRole".to_string(),
            resources: roles.into_iter().collect(),
            resolution: Resolution::Parameters,
            implied_by: Some(format!(
                "{prefix}:{name} passes the role ({}); CloudTrail never logs iam:PassRole",
                found.join(", ")
            )),
        })
    }
}
