//! Terraform plans (`terraform show -json PLAN`): the roles the plan leaves (`aws_iam_role`, in
//! the root module and every child module) and the policies that reach them: the role's
//! `inline_policy` blocks and `managed_policy_arns`, `aws_iam_role_policy` resources, and
//! `aws_iam_policy` attached by `aws_iam_role_policy_attachment` (matched by the configuration's
//! references when the plan does not know the policy's ARN yet). A policy written with an
//! `aws_iam_policy_document` data source is taken from the data source's `json` when the plan
//! read it. A value Terraform knows only after apply is unknown: a policy whose document is
//! unknown is named as unreadable (its grants are not known), never read as empty or as `*`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::node::Node;
use super::{PolicyOrigin, Template, TemplateError, TemplateKind, TemplatePolicy, TemplateRole};
use crate::policy::managed::ManagedPolicies;
use crate::policy::model::Policy;

/// One resource or data source of the plan.
struct PlanResource<'a> {
    address: String,
    kind: String,
    values: &'a Node,
    line: usize,
}

fn walk<'a>(module: &'a Node, out: &mut Vec<PlanResource<'a>>) {
    for r in module.get("resources").and_then(Node::as_seq).unwrap_or_default() {
        let address = r.get("address").and_then(Node::as_str).unwrap_or_default().to_string();
        let mode = r.get("mode").and_then(Node::as_str).unwrap_or("managed");
        let kind = r.get("type").and_then(Node::as_str).unwrap_or_default();
        let Some(values) = r.get("values") else { continue };
        out.push(PlanResource {
            address,
            kind: if mode == "data" { format!("data.{kind}") } else { kind.to_string() },
            values,
            line: r.line,
        });
    }
    for child in module.get("child_modules").and_then(Node::as_seq).unwrap_or_default() {
        walk(child, out);
    }
}

/// The configuration's references of each resource's attribute (`aws_iam_role.app`), keyed by
/// the resource's full address and the attribute.
fn references(config: Option<&Node>, prefix: &str, out: &mut BTreeMap<(String, String), Vec<String>>) {
    let Some(module) = config else { return };
    for r in module.get("resources").and_then(Node::as_seq).unwrap_or_default() {
        let address = format!("{prefix}{}", r.get("address").and_then(Node::as_str).unwrap_or_default());
        for (k, v) in r.get("expressions").and_then(Node::as_map).unwrap_or_default() {
            let refs: Vec<String> = v
                .get("references")
                .and_then(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .map(|s| format!("{prefix}{s}"))
                .collect();
            out.insert((address.clone(), k.as_str().unwrap_or_default().to_string()), refs);
        }
    }
    for (name, call) in module.get("module_calls").and_then(Node::as_map).unwrap_or_default() {
        let child = format!("{prefix}module.{}.", name.as_str().unwrap_or_default());
        references(call.get("module"), &child, out);
    }
}

/// Reads a plan.
pub(super) fn read(file: &str, root: &Node) -> Result<Template, TemplateError> {
    let planned =
        root.get("planned_values").and_then(|p| p.get("root_module")).ok_or_else(|| TemplateError::Invalid {
            file: file.into(),
            line: 1,
            message: "a plan without planned_values.root_module".into(),
        })?;
    let mut resources = Vec::new();
    walk(planned, &mut resources);
    if let Some(prior) = root.get("prior_state").and_then(|p| p.get("values")).and_then(|v| v.get("root_module")) {
        let mut prior_resources = Vec::new();
        walk(prior, &mut prior_resources);
        // Data sources the plan read (planned_values may leave them out).
        for r in prior_resources.into_iter().filter(|r| r.kind.starts_with("data.")) {
            if !resources.iter().any(|x| x.address == r.address) {
                resources.push(r);
            }
        }
    }
    let mut refs = BTreeMap::new();
    references(root.get("configuration").and_then(|c| c.get("root_module")), "", &mut refs);
    let by_address: BTreeMap<&str, &PlanResource<'_>> = resources.iter().map(|r| (r.address.as_str(), r)).collect();
    // A reference `aws_iam_role.app.name` names resource `aws_iam_role.app` (indexes kept).
    let resolve_ref = |module_ref: &str| -> Option<&PlanResource<'_>> {
        let mut candidate = module_ref.to_string();
        loop {
            if let Some(r) = by_address.get(candidate.as_str()) {
                return Some(r);
            }
            match candidate.rfind('.') {
                Some(i) => candidate.truncate(i),
                None => return None,
            }
        }
    };

    let mut roles: Vec<TemplateRole> = Vec::new();
    for r in resources.iter().filter(|r| r.kind == "aws_iam_role") {
        let mut role = TemplateRole {
            id: r.address.clone(),
            name: r.values.get("name").and_then(Node::as_str).map(str::to_string),
            line: r.line,
            policies: Vec::new(),
            boundary: None,
            unknowns: BTreeMap::new(),
            unreadable: Vec::new(),
        };
        if role.name.is_none() {
            role.unknowns.insert(
                super::unknown(&format!("{}.name", r.address)),
                "the role's name is known only after apply".into(),
            );
        }
        for block in r.values.get("inline_policy").and_then(Node::as_seq).unwrap_or_default() {
            let name = block.get("name").and_then(Node::as_str).unwrap_or("inline");
            if name.is_empty() {
                continue;
            }
            push_document(
                file,
                &mut role,
                &format!("{name} (inline)"),
                PolicyOrigin::Inline,
                block.get("policy"),
                block.line,
            );
        }
        for arn in r.values.get("managed_policy_arns").and_then(Node::as_seq).unwrap_or_default() {
            push_managed(file, &mut role, arn, &resources);
        }
        if let Some(b) = r.values.get("permissions_boundary").filter(|b| !b.is_null() && b.as_str() != Some("")) {
            let mut holder = role.clone();
            holder.policies.clear();
            push_managed(file, &mut holder, b, &resources);
            role.unreadable.extend(holder.unreadable);
            role.boundary = holder.policies.pop().map(|mut p| {
                p.origin = PolicyOrigin::Boundary(p.name.clone());
                p
            });
        }
        roles.push(role);
    }
    // Which role a resource's `role` attribute names: by the configuration's reference, else by
    // the role's name.
    let role_of = |r: &PlanResource<'_>, roles: &[TemplateRole]| -> Option<usize> {
        let via_ref = refs.get(&(r.address.clone(), "role".to_string())).and_then(|list| {
            list.iter().find_map(|x| resolve_ref(x).filter(|t| t.kind == "aws_iam_role").map(|t| t.address.clone()))
        });
        match via_ref {
            Some(address) => roles.iter().position(|x| x.id == address),
            None => {
                let name = r.values.get("role").and_then(Node::as_str)?;
                let name = name.rsplit('/').next().unwrap_or(name);
                roles.iter().position(|x| x.name.as_deref() == Some(name))
            }
        }
    };
    for r in resources.iter().filter(|r| r.kind == "aws_iam_role_policy") {
        let Some(ix) = role_of(r, &roles) else { continue };
        attach(file, &mut roles[ix], r, &refs, &resolve_ref);
    }
    for r in resources.iter().filter(|r| r.kind == "aws_iam_role_policy_attachment") {
        let Some(ix) = role_of(r, &roles) else { continue };
        let target = refs
            .get(&(r.address.clone(), "policy_arn".to_string()))
            .and_then(|list| list.iter().find_map(|x| resolve_ref(x).filter(|t| t.kind == "aws_iam_policy")));
        match target {
            Some(policy) => attach(file, &mut roles[ix], policy, &refs, &resolve_ref),
            None => match r.values.get("policy_arn") {
                Some(arn) => push_managed(file, &mut roles[ix], arn, &resources),
                None => roles[ix].unreadable.push(format!(
                    "{file}:{}: {} attaches a policy whose ARN is known only after apply: its grants are unknown",
                    r.line, r.address
                )),
            },
        }
    }
    Ok(Template { file: file.to_string(), kind: TemplateKind::TerraformPlan, roles })
}

/// The `policy` of a resource, or the `json` of the policy document data source its
/// configuration refers to when the plan does not know the policy yet.
fn policy_node<'a>(
    r: &PlanResource<'a>,
    refs: &BTreeMap<(String, String), Vec<String>>,
    resolve_ref: &dyn Fn(&str) -> Option<&'a PlanResource<'a>>,
) -> Option<&'a Node> {
    if let Some(p) = r.values.get("policy").filter(|p| p.as_str().is_some_and(|s| !s.is_empty())) {
        return Some(p);
    }
    let list = refs.get(&(r.address.clone(), "policy".to_string()))?;
    list.iter()
        .find_map(|x| resolve_ref(x).filter(|t| t.kind == "data.aws_iam_policy_document"))
        .and_then(|d| d.values.get("json"))
        .filter(|j| j.as_str().is_some_and(|s| !s.is_empty()))
}

/// A policy resource of the plan (`aws_iam_role_policy`, or an `aws_iam_policy` attached) as one
/// of `role`'s policies: named by its `name` and address, written where it is declared.
fn attach<'a>(
    file: &str,
    role: &mut TemplateRole,
    policy: &'a PlanResource<'a>,
    refs: &BTreeMap<(String, String), Vec<String>>,
    resolve_ref: &dyn Fn(&str) -> Option<&'a PlanResource<'a>>,
) {
    let name = policy.values.get("name").and_then(Node::as_str).unwrap_or(&policy.address);
    push_document(
        file,
        role,
        &format!("{name} ({})", policy.address),
        PolicyOrigin::Attached(policy.address.clone()),
        policy_node(policy, refs, resolve_ref),
        policy.line,
    );
}

fn push_document(
    file: &str,
    role: &mut TemplateRole,
    name: &str,
    origin: PolicyOrigin,
    doc: Option<&Node>,
    line: usize,
) {
    let Some(node) = doc else {
        role.unreadable.push(format!(
            "{file}:{line}: policy {name} is known only after apply (or refers to what iamtrim cannot read): its grants are unknown"
        ));
        return;
    };
    let text = node.as_str().unwrap_or_default();
    let parsed: Result<Value, String> = if node.as_map().is_some() {
        Ok(node.to_json())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    };
    match parsed.and_then(|v| Policy::from_value(name, &v).map_err(|e| e.to_string())) {
        Ok(policy) => {
            let lines = vec![node.line; policy.statements.len()];
            role.policies.push(TemplatePolicy {
                name: name.to_string(),
                origin,
                line: node.line,
                policy,
                statement_lines: lines,
            });
        }
        Err(e) => role
            .unreadable
            .push(format!("{file}:{}: policy {name} cannot be read ({e}): its grants are unknown", node.line)),
    }
}

fn push_managed(file: &str, role: &mut TemplateRole, arn: &Node, resources: &[PlanResource<'_>]) {
    let Some(text) = arn.as_str() else { return };
    // A policy of the plan whose ARN is known.
    if let Some(p) = resources
        .iter()
        .find(|r| r.kind == "aws_iam_policy" && r.values.get("arn").and_then(Node::as_str) == Some(text))
    {
        let name = p.values.get("name").and_then(Node::as_str).unwrap_or(&p.address).to_string();
        push_document(
            file,
            role,
            &format!("{name} ({})", p.address),
            PolicyOrigin::Attached(p.address.clone()),
            p.values.get("policy"),
            p.line,
        );
        return;
    }
    match ManagedPolicies::embedded().get(text) {
        Some(Ok(mut p)) => {
            p.name = text.rsplit('/').next().unwrap_or(text).to_string();
            let lines = vec![arn.line; p.statements.len()];
            role.policies.push(TemplatePolicy { name: p.name.clone(), origin: PolicyOrigin::Managed(text.into()), line: arn.line, policy: p, statement_lines: lines });
        }
        _ => role.unreadable.push(format!(
            "{file}:{}: managed policy `{text}` is not an AWS managed policy iamtrim has, nor a policy of the plan: its grants are unknown",
            arn.line
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_iam_role.app", "mode": "managed", "type": "aws_iam_role", "name": "app",
       "values": {"name": "shop-app", "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
         "inline_policy": [{"name": "tables", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\",\"Resource\":\"arn:aws:dynamodb:us-east-1:123456789012:table/orders\"}]}"}]}},
      {"address": "aws_iam_policy.queue", "mode": "managed", "type": "aws_iam_policy", "name": "queue",
       "values": {"name": "queue", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":\"*\"}}"}},
      {"address": "aws_iam_role_policy_attachment.queue", "mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "queue",
       "values": {"role": "shop-app"}},
      {"address": "aws_iam_role_policy.later", "mode": "managed", "type": "aws_iam_role_policy", "name": "later",
       "values": {"name": "later"}}
    ],
    "child_modules": [{"address": "module.worker", "resources": [
      {"address": "module.worker.aws_iam_role.this", "mode": "managed", "type": "aws_iam_role", "name": "this", "values": {"inline_policy": []}}
    ]}]
  }},
  "configuration": {"root_module": {"resources": [
    {"address": "aws_iam_role_policy_attachment.queue", "expressions": {
      "role": {"references": ["aws_iam_role.app.name", "aws_iam_role.app"]},
      "policy_arn": {"references": ["aws_iam_policy.queue.arn", "aws_iam_policy.queue"]}}},
    {"address": "aws_iam_role_policy.later", "expressions": {
      "role": {"references": ["aws_iam_role.app.id", "aws_iam_role.app"]},
      "policy": {"references": ["data.aws_iam_policy_document.later.json", "data.aws_iam_policy_document.later"]}}}
  ]}}
}"#;

    #[test]
    fn a_plan_gives_each_role_its_inline_attached_and_managed_policies_and_names_what_is_unknown() {
        let t = super::super::read("plan.json", PLAN, &Default::default()).unwrap();
        assert_eq!(t.kind, TemplateKind::TerraformPlan);
        let ids: Vec<&str> = t.roles.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["aws_iam_role.app", "module.worker.aws_iam_role.this"]);
        let app = &t.roles[0];
        assert_eq!(app.name.as_deref(), Some("shop-app"));
        let names: Vec<&str> = app.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["tables (inline)", "AmazonS3ReadOnlyAccess", "queue (aws_iam_policy.queue)"]);
        assert_eq!(app.policies[0].line, 7, "the line of the policy in the plan");
        // The policy known only after apply is named, never read as empty or as *.
        assert!(
            app.unreadable.iter().any(|u| u.contains("later") && u.contains("grants are unknown")),
            "{:?}",
            app.unreadable
        );
        let worker = &t.roles[1];
        assert_eq!(worker.name, None);
        assert!(worker.unknowns.keys().any(|k| k.contains("module.worker.aws_iam_role.this.name")));
    }
}
