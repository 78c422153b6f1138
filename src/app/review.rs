//! The security review before promotion (`iamtrim review`): for every role of the templates
//! under review, its policies as written there against what the role did (read once for every
//! principal): used and granted, granted and never used, used and not granted (it would break),
//! the statements (file and line) that grant what was never used, the trimmed policy as a patch
//! of the template, and the offline proof that the trimmed policy grants nothing the template's
//! does not (and what IAM Access Analyzer's CheckNoNewAccess would be asked to say the same).
//! Prints nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::mapping::catalog::ActionCatalog;
use crate::output::review::{Review, ReviewedRole, UnusedGrant};
use crate::policy::access_check::documents_for_check;
use crate::policy::containment::no_new_access;
use crate::policy::evaluator::{expand_actions, PolicySet};
use crate::policy::model::Policy;
use crate::policy::template::{DeployContext, Template, TemplateKind, TemplateRole};
use crate::usage::Usage;

use super::generate::{generate, GenerateOptions};

/// How the roles of the templates are matched to their activity, and the deploy context.
#[derive(Debug, Clone, Default)]
pub struct ReviewOptions {
    /// `--map ID=ROLE`: a template role's activity is this role's (name or ARN).
    pub map: BTreeMap<String, String>,
    /// What the templates leave to deploy time, as given.
    pub ctx: DeployContext,
    /// How the trimmed policies are shaped.
    pub generate: GenerateOptions,
}

/// The role name of a principal key (`arn:aws:iam::1:role/NAME` -> `NAME`).
fn role_name(key: &str) -> Option<&str> {
    let (_, rest) = key.split_once(":role/")?;
    Some(rest.rsplit('/').next().unwrap_or(rest))
}

/// The activity key of `role`: by `--map`, by its name, else by CloudFormation's generated name.
fn match_activity<'g>(
    role: &TemplateRole,
    groups: &'g BTreeMap<String, std::borrow::Cow<'_, Usage>>,
    opts: &ReviewOptions,
) -> Option<(&'g str, &'static str)> {
    let by = |want: &str| {
        let want = want.rsplit('/').next().unwrap_or(want);
        groups.keys().find(|k| role_name(k).is_some_and(|n| n.eq_ignore_ascii_case(want)))
    };
    if let Some(m) = opts.map.get(&role.id) {
        return by(m).map(|k| (k.as_str(), "--map"));
    }
    if let Some(name) = &role.name {
        return by(name).map(|k| (k.as_str(), "its name"));
    }
    let generated: Vec<&String> = groups
        .keys()
        .filter(|k| role_name(k).is_some_and(|n| crate::policy::template::generated_name_fits(n, &role.id)))
        .collect();
    match generated.as_slice() {
        [one] => Some((one.as_str(), "its generated name")),
        _ => None,
    }
}

/// The deploy context `given`, completed from the activity: the account and partition of the
/// principal `key` (its ARN), and the one region its resources name, when they name one.
pub fn deploy_context(key: Option<&str>, usage: &Usage, given: &DeployContext) -> DeployContext {
    let mut ctx = given.clone();
    if let Some(arn) = key.and_then(crate::mapping::arn::Arn::parse) {
        ctx.account.get_or_insert_with(|| arn.account.to_string());
        if let Some(p) = crate::mapping::arn::Partition::named(arn.partition) {
            ctx.partition.get_or_insert_with(|| p.name.to_string());
        }
    }
    if ctx.region.is_none() {
        let regions: BTreeSet<String> = usage
            .actions
            .values()
            .flat_map(|u| u.resources.iter())
            .filter_map(|r| crate::mapping::arn::Arn::parse(r).map(|a| a.region.to_string()))
            .filter(|r| !r.is_empty() && r != "*")
            .collect();
        if regions.len() == 1 {
            ctx.region = regions.into_iter().next();
        }
    }
    ctx
}

/// Reviews every role of `templates` (each `(file, text)`) against `usage`, read with
/// `--split-by principal`.
pub fn review(
    templates: &[(String, String)],
    usage: &Usage,
    catalog: &ActionCatalog,
    opts: &ReviewOptions,
) -> Result<Review, crate::policy::template::TemplateError> {
    let groups: BTreeMap<String, std::borrow::Cow<'_, Usage>> =
        usage.split_groups().into_iter().map(|(k, g)| (k.to_ascii_lowercase(), g)).collect();
    let complete = usage.gaps.is_empty();
    let mut roles = Vec::new();
    for (file, text) in templates {
        let first: Template = crate::policy::template::read(file, text, &opts.ctx)?;
        let json = text.trim_start().trim_start_matches('\u{feff}').starts_with('{');
        // The template read again for each deploy context an activity completes (once per
        // context: roles of one account and region share it).
        let mut reads: Vec<(DeployContext, Template)> = Vec::new();
        for r in &first.roles {
            let matched = match_activity(r, &groups, opts);
            let (role, key, how) = match matched {
                Some((key, how)) => {
                    let ctx = deploy_context(Some(key), &groups[key], &opts.ctx);
                    let read = if ctx == opts.ctx {
                        &first
                    } else {
                        let at = match reads.iter().position(|(c, _)| *c == ctx) {
                            Some(at) => at,
                            None => {
                                let again = crate::policy::template::read(file, text, &ctx)?;
                                reads.push((ctx, again));
                                reads.len() - 1
                            }
                        };
                        &reads[at].1
                    };
                    let role = read.roles.iter().find(|x| x.id == r.id).unwrap_or(r).clone();
                    (role, Some(key.to_string()), how)
                }
                None => (r.clone(), None, ""),
            };
            roles.push(review_role(
                file,
                first.kind,
                json,
                &role,
                key.as_deref(),
                how,
                key.as_deref().and_then(|k| groups.get(k)).map(|g| &**g),
                catalog,
                opts,
            ));
        }
    }
    Ok(Review { complete, gaps: usage.gap_list(), records_read: usage.records_read_with_groups(), roles })
}

#[allow(clippy::too_many_arguments)]
fn review_role(
    file: &str,
    kind: TemplateKind,
    json: bool,
    role: &TemplateRole,
    key: Option<&str>,
    how: &str,
    usage: Option<&Usage>,
    catalog: &ActionCatalog,
    opts: &ReviewOptions,
) -> ReviewedRole {
    let current = role.policy_set();
    let mut reviewed = ReviewedRole {
        file: file.to_string(),
        kind: kind.name(),
        id: role.id.clone(),
        line: role.line,
        principal: key.map(str::to_string),
        matched_by: how.to_string(),
        records: 0,
        policies: role.policies.iter().map(|p| p.name.clone()).collect(),
        unknowns: role.unknowns.keys().cloned().collect(),
        unreadable: role.unreadable.clone(),
        diff: None,
        unused_grants: Vec::new(),
        trimmed: None,
        patch: None,
        patch_language: None,
        no_new_access: None,
        access_analyzer: None,
        check_documents: None,
    };
    let Some(usage) = usage.filter(|u| u.counts.records_matched > 0) else {
        return reviewed;
    };
    reviewed.records = usage.counts.records_matched;
    let generated = generate(usage, catalog, &opts.generate);
    let diff = crate::app::diff::diff_generated(key.unwrap_or(&role.id), usage, &current, &generated, catalog);
    let unused: BTreeSet<&str> = diff.unused_granted.iter().map(|a| &*a.action).collect();
    for p in &role.policies {
        for (i, st) in p.policy.statements.iter().enumerate() {
            if st.effect != crate::policy::model::Effect::Allow {
                continue;
            }
            let never: Vec<String> =
                expand_actions(&st.actions, catalog).into_iter().filter(|a| unused.contains(a.as_str())).collect();
            if never.is_empty() {
                continue;
            }
            reviewed.unused_grants.push(UnusedGrant {
                file: file.to_string(),
                line: p.statement_lines.get(i).copied().unwrap_or(p.line),
                policy: p.name.clone(),
                sid: st.sid.clone(),
                unused: never.len(),
                examples: never.iter().take(8).cloned().collect(),
            });
        }
    }
    let trimmed = generated.policy.clone();
    let trimmed_policy = Policy::from(&trimmed);
    reviewed.check_documents = Some(documents_for_check(&current, &trimmed_policy));
    let trimmed_set = PolicySet::new(vec![trimmed_policy]);
    reviewed.no_new_access = Some(no_new_access(&current, &trimmed_set, catalog));
    let (text, language) = patch(kind, json, role, &trimmed);
    reviewed.patch = Some(text);
    reviewed.patch_language = Some(language);
    reviewed.trimmed = Some(trimmed);
    reviewed.diff = Some(diff);
    reviewed
}

/// The trimmed policy as a patch of the template, in its own language (`written_as_json`: the
/// template is JSON, so a YAML snippet could not be pasted), and that language.
fn patch(
    kind: TemplateKind,
    written_as_json: bool,
    role: &TemplateRole,
    policy: &crate::policy::PolicyDocument,
) -> (String, &'static str) {
    let json = serde_json::to_string_pretty(policy).unwrap_or_default();
    let language = match kind {
        TemplateKind::TerraformPlan => "hcl",
        _ if written_as_json || kind == TemplateKind::Cdk => "json",
        _ => "yaml",
    };
    let text = match kind {
        TemplateKind::TerraformPlan => {
            let name: String = role
                .id
                .rsplit('.')
                .next()
                .unwrap_or("role")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                .collect();
            format!(
                "# Replace the policies of {} with:\nresource \"aws_iam_role_policy\" \"{name}_trimmed\" {{\n  name   = \"iamtrim-trimmed\"\n  role   = {}.id\n  policy = <<-EOT\n{}\n  EOT\n}}\n",
                role.id,
                role.id,
                json.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
            )
        }
        TemplateKind::Cdk => format!(
            "// Replace the policies of {} with (the statements of iam.PolicyDocument.fromJson):\n{json}\n",
            role.id
        ),
        // A JSON template: the role's `Policies` as JSON, to paste in place of its `Policies`
        // and `ManagedPolicyArns`.
        _ if written_as_json => {
            let doc = json.lines().map(|l| format!("      {l}")).collect::<Vec<_>>().join("\n");
            format!(
                "\"Policies\": [\n  {{\n    \"PolicyName\": \"iamtrim-trimmed\",\n    \"PolicyDocument\":\n{}\n  }}\n]\n",
                doc
            )
        }
        _ => {
            // JSON is YAML: the document indents under PolicyDocument as it is.
            let doc = json.lines().map(|l| format!("            {l}")).collect::<Vec<_>>().join("\n");
            format!(
                "# {}: replace Policies and ManagedPolicyArns with\n      Policies:\n        - PolicyName: iamtrim-trimmed\n          PolicyDocument:\n{doc}\n",
                role.id
            )
        }
    };
    (text, language)
}
