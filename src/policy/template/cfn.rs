//! CloudFormation, SAM and CDK templates: the roles they declare (`AWS::IAM::Role`, and for each
//! SAM function without a `Role` of its own the role SAM generates) and every policy that
//! reaches them: the role's `Policies`, `ManagedPolicyArns` and `PermissionsBoundary`;
//! `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::RolePolicy` resources attached
//! by `Roles`/`RoleName`; a SAM function's `Policies` (inline statements, managed policy names or
//! ARNs, and SAM policy templates expanded from AWS's published table). Intrinsic functions are
//! resolved where the template says enough (`Ref`, `Fn::Sub`, `Fn::GetAtt` of the resources'
//! names, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, pseudo parameters); the rest
//! becomes a placeholder ([`super::unknown`]).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::node::Node;
use super::{
    unknown, DeployContext, PolicyOrigin, Template, TemplateError, TemplateKind, TemplatePolicy, TemplateRole,
};
use crate::policy::managed::ManagedPolicies;
use crate::policy::model::Policy;

/// `Ref: AWS::NoValue`: removed from the list or mapping it is in.
const NO_VALUE: &str = "\u{0}AWS::NoValue";

/// The SAM policy templates (action-maps/sam-policy-templates.json).
fn sam_templates() -> &'static Value {
    static TABLE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../../action-maps/sam-policy-templates.json")).unwrap_or(Value::Null)
    })
}

/// The node with its short-form tags written out as the long form (`!Sub x` is
/// `{"Fn::Sub": x}`), as JSON.
pub(crate) fn long_form(node: &Node) -> Value {
    use super::node::Value as V;
    let inner = match &node.value {
        V::Scalar { .. } => {
            let mut plain = node.clone();
            plain.tag = None;
            plain.to_json()
        }
        V::Seq(items) => Value::Array(items.iter().map(long_form).collect()),
        V::Map(entries) => Value::Object(
            entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), long_form(v))).collect(),
        ),
    };
    match node.tag.as_deref() {
        None => inner,
        Some("Ref") => json!({ "Ref": inner }),
        Some("Condition") => json!({ "Condition": inner }),
        Some(t) => json!({ format!("Fn::{t}"): inner }),
    }
}

struct Resource<'a> {
    kind: String,
    props: Value,
    node: &'a Node,
    line: usize,
}

/// Resolves intrinsic functions in one template.
struct Resolver<'a> {
    resources: BTreeMap<String, Resource<'a>>,
    mappings: Value,
    ctx: DeployContext,
    partition: Option<String>,
    unknowns: std::cell::RefCell<BTreeMap<String, String>>,
}

impl Resolver<'_> {
    fn unknown(&self, what: &str, why: &str) -> Value {
        let p = unknown(what);
        self.unknowns.borrow_mut().entry(p.clone()).or_insert_with(|| why.to_string());
        Value::String(p)
    }

    fn pseudo(&self, name: &str) -> Option<Value> {
        let known = |v: &Option<String>, why: &str| match v {
            Some(v) => Value::String(v.clone()),
            None => self.unknown(name, why),
        };
        Some(match name {
            "AWS::AccountId" => known(&self.ctx.account, "the account the stack is deployed in (--account)"),
            "AWS::Region" => known(&self.ctx.region, "the region the stack is deployed in (--region)"),
            "AWS::Partition" => known(&self.partition, "the partition (--region or --account's)"),
            "AWS::StackName" => known(&self.ctx.stack_name, "the stack's name (--stack-name)"),
            "AWS::URLSuffix" => Value::String(
                if self.partition.as_deref() == Some("aws-cn") { "amazonaws.com.cn" } else { "amazonaws.com" }.into(),
            ),
            "AWS::StackId" | "AWS::NotificationARNs" => self.unknown(name, "known at deploy time"),
            "AWS::NoValue" => Value::String(NO_VALUE.into()),
            _ => return None,
        })
    }

    fn text(&self, v: &Value, what: &str) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => unknown(what),
        }
    }

    /// The name a resource has when its properties fix it.
    fn name_of(&self, id: &str, prop: &str) -> Value {
        match self.resources.get(id).and_then(|r| r.props.get(prop)) {
            Some(v) => self.eval(v, &BTreeMap::new()),
            None => self.unknown(&format!("{id}.{prop}"), "a name CloudFormation generates at deploy time"),
        }
    }

    fn arn(&self, service: &str, regional: bool, resource: &str) -> Value {
        let p = self.text(&self.pseudo("AWS::Partition").unwrap_or_default(), "AWS::Partition");
        let (r, a) = if regional {
            (
                self.text(&self.pseudo("AWS::Region").unwrap_or_default(), "AWS::Region"),
                self.text(&self.pseudo("AWS::AccountId").unwrap_or_default(), "AWS::AccountId"),
            )
        } else {
            (String::new(), String::new())
        };
        Value::String(format!("arn:{p}:{service}:{r}:{a}:{resource}"))
    }

    fn account(&self) -> String {
        self.text(&self.pseudo("AWS::AccountId").unwrap_or_default(), "AWS::AccountId")
    }

    fn reference(&self, id: &str) -> Value {
        if let Some(v) = self.pseudo(id) {
            return v;
        }
        if let Some(v) = self.ctx.parameters.get(id) {
            return Value::String(v.clone());
        }
        let Some(r) = self.resources.get(id) else {
            return self.unknown(id, "a template parameter not given with --parameter");
        };
        let n = |prop: &str| self.text(&self.name_of(id, prop), &format!("{id}.{prop}"));
        match r.kind.as_str() {
            "AWS::IAM::Role" => self.name_of(id, "RoleName"),
            "AWS::S3::Bucket" => self.name_of(id, "BucketName"),
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => self.name_of(id, "TableName"),
            "AWS::Lambda::Function" | "AWS::Serverless::Function" => self.name_of(id, "FunctionName"),
            "AWS::Logs::LogGroup" => self.name_of(id, "LogGroupName"),
            "AWS::Kinesis::Stream" => self.name_of(id, "Name"),
            "AWS::Events::EventBus" => self.name_of(id, "Name"),
            "AWS::SNS::Topic" => self.arn("sns", true, &n("TopicName")),
            "AWS::StepFunctions::StateMachine" | "AWS::Serverless::StateMachine" => {
                self.arn("states", true, &format!("stateMachine:{}", n("StateMachineName")))
            }
            "AWS::SQS::Queue" => {
                let region = self.text(&self.pseudo("AWS::Region").unwrap_or_default(), "AWS::Region");
                Value::String(format!("https://sqs.{region}.amazonaws.com/{}/{}", self.account(), n("QueueName")))
            }
            "AWS::IAM::ManagedPolicy" => {
                let path =
                    self.resources[id].props.get("Path").map(|p| self.text(&self.eval(p, &BTreeMap::new()), "Path"));
                self.arn(
                    "iam",
                    false,
                    &format!("policy{}{}", path.unwrap_or_else(|| "/".into()), n("ManagedPolicyName")),
                )
                .as_str()
                .map(|s| Value::String(s.replacen(":iam:::", &format!(":iam::{}:", self.account()), 1)))
                .unwrap_or_default()
            }
            _ => self.unknown(id, "the Ref of this resource type is not known before deploy"),
        }
    }

    fn get_att(&self, id: &str, attr: &str) -> Value {
        let Some(r) = self.resources.get(id) else {
            return self.unknown(&format!("{id}.{attr}"), "not a resource of the template");
        };
        let n = |prop: &str| self.text(&self.name_of(id, prop), &format!("{id}.{prop}"));
        let regional = |service: &str, resource: String| self.arn(service, true, &resource);
        match (r.kind.as_str(), attr) {
            ("AWS::S3::Bucket", "Arn") => self.arn("s3", false, &n("BucketName")),
            ("AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable", "Arn") => {
                regional("dynamodb", format!("table/{}", n("TableName")))
            }
            ("AWS::DynamoDB::Table", "StreamArn") => regional(
                "dynamodb",
                format!("table/{}/stream/{}", n("TableName"), unknown(&format!("{id}.StreamLabel"))),
            ),
            ("AWS::SQS::Queue", "Arn") => regional("sqs", n("QueueName")),
            ("AWS::SQS::Queue", "QueueName") => self.name_of(id, "QueueName"),
            ("AWS::SNS::Topic", "TopicArn") => regional("sns", n("TopicName")),
            ("AWS::SNS::Topic", "TopicName") => self.name_of(id, "TopicName"),
            ("AWS::IAM::Role", "Arn") => {
                let path = r.props.get("Path").map(|p| self.text(&self.eval(p, &BTreeMap::new()), "Path"));
                let arn =
                    self.arn("iam", false, &format!("role{}{}", path.unwrap_or_else(|| "/".into()), n("RoleName")));
                Value::String(arn.as_str().unwrap_or_default().replacen(
                    ":iam:::",
                    &format!(":iam::{}:", self.account()),
                    1,
                ))
            }
            ("AWS::Lambda::Function" | "AWS::Serverless::Function", "Arn") => {
                regional("lambda", format!("function:{}", n("FunctionName")))
            }
            ("AWS::Logs::LogGroup", "Arn") => regional("logs", format!("log-group:{}:*", n("LogGroupName"))),
            ("AWS::Kinesis::Stream", "Arn") => regional("kinesis", format!("stream/{}", n("Name"))),
            ("AWS::Events::EventBus", "Arn") => regional("events", format!("event-bus/{}", n("Name"))),
            ("AWS::KMS::Key", "Arn") => regional("kms", format!("key/{}", unknown(&format!("{id}.KeyId")))),
            ("AWS::StepFunctions::StateMachine" | "AWS::Serverless::StateMachine", "Arn") => {
                regional("states", format!("stateMachine:{}", n("StateMachineName")))
            }
            _ => self.unknown(&format!("{id}.{attr}"), "an attribute known at deploy time"),
        }
    }

    /// Evaluates `v`, with `locals` (Fn::Sub variables, SAM template parameters) first.
    fn eval(&self, v: &Value, locals: &BTreeMap<String, Value>) -> Value {
        match v {
            Value::Array(items) => Value::Array(
                items.iter().map(|i| self.eval(i, locals)).filter(|i| i.as_str() != Some(NO_VALUE)).collect(),
            ),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => {
                        let name = self.text(&self.eval(arg, locals), "Ref");
                        locals.get(&name).cloned().unwrap_or_else(|| self.reference(&name))
                    }
                    "Fn::Sub" => self.sub(arg, locals),
                    "Fn::GetAtt" => {
                        let (id, attr) = match arg {
                            Value::String(s) => {
                                s.split_once('.').map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or_default()
                            }
                            Value::Array(a) if a.len() == 2 => (
                                self.text(&self.eval(&a[0], locals), "GetAtt"),
                                self.text(&self.eval(&a[1], locals), "GetAtt"),
                            ),
                            _ => (String::new(), String::new()),
                        };
                        self.get_att(&id, &attr)
                    }
                    "Fn::Join" => match arg.as_array().map(Vec::as_slice) {
                        Some([delim, list]) => {
                            let delim = self.text(&self.eval(delim, locals), "Fn::Join");
                            match self.eval(list, locals) {
                                Value::Array(items) => Value::String(
                                    items.iter().map(|i| self.text(i, "Fn::Join")).collect::<Vec<_>>().join(&delim),
                                ),
                                _ => self.unknown("Fn::Join", "a list known at deploy time"),
                            }
                        }
                        _ => self.unknown("Fn::Join", "not a [delimiter, list]"),
                    },
                    "Fn::Select" => match arg.as_array().map(Vec::as_slice) {
                        Some([i, list]) => {
                            let i = self.text(&self.eval(i, locals), "Fn::Select").parse::<usize>().ok();
                            match (i, self.eval(list, locals)) {
                                (Some(i), Value::Array(items)) if i < items.len() => items[i].clone(),
                                _ => self.unknown("Fn::Select", "an item known at deploy time"),
                            }
                        }
                        _ => self.unknown("Fn::Select", "not an [index, list]"),
                    },
                    "Fn::Split" => match arg.as_array().map(Vec::as_slice) {
                        Some([delim, s]) => {
                            let delim = self.text(&self.eval(delim, locals), "Fn::Split");
                            match self.eval(s, locals) {
                                Value::String(s) if !delim.is_empty() && !super::has_unknown(&s) => {
                                    Value::Array(s.split(delim.as_str()).map(|x| Value::String(x.into())).collect())
                                }
                                _ => self.unknown("Fn::Split", "a string known at deploy time"),
                            }
                        }
                        _ => self.unknown("Fn::Split", "not a [delimiter, string]"),
                    },
                    "Fn::FindInMap" => match arg.as_array().map(Vec::as_slice) {
                        Some([m, k1, k2]) => {
                            let keys: Vec<String> =
                                [m, k1, k2].iter().map(|k| self.text(&self.eval(k, locals), "Fn::FindInMap")).collect();
                            match self
                                .mappings
                                .get(&keys[0])
                                .and_then(|x| x.get(&keys[1]))
                                .and_then(|x| x.get(&keys[2]))
                            {
                                Some(v) if !keys.iter().any(|k| super::has_unknown(k)) => self.eval(v, locals),
                                _ => self.unknown(
                                    &format!("Fn::FindInMap.{}", keys[0]),
                                    "a mapping key known at deploy time",
                                ),
                            }
                        }
                        _ => self.unknown("Fn::FindInMap", "not [map, key, key]"),
                    },
                    k if k.starts_with("Fn::") || k == "Condition" => {
                        self.unknown(k, "a value CloudFormation decides at deploy time")
                    }
                    _ => Value::Object(
                        m.iter()
                            .map(|(k, v)| (k.clone(), self.eval(v, locals)))
                            .filter(|(_, v)| v.as_str() != Some(NO_VALUE))
                            .collect(),
                    ),
                }
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.eval(v, locals)))
                    .filter(|(_, v)| v.as_str() != Some(NO_VALUE))
                    .collect::<Map<String, Value>>(),
            ),
            other => other.clone(),
        }
    }

    /// `Fn::Sub`: `${Name}`, `${Resource.Attr}` and `${!Literal}`, with the variables given.
    fn sub(&self, arg: &Value, locals: &BTreeMap<String, Value>) -> Value {
        let (template, vars) = match arg {
            Value::String(s) => (s.clone(), BTreeMap::new()),
            Value::Array(a) if a.len() == 2 => {
                let vars: BTreeMap<String, Value> = a[1]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), self.eval(v, locals))).collect())
                    .unwrap_or_default();
                (self.text(&a[0], "Fn::Sub"), vars)
            }
            _ => return self.unknown("Fn::Sub", "not a string or [string, variables]"),
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            if let Some(lit) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else if let Some(v) = vars.get(name).or_else(|| locals.get(name)) {
                out.push_str(&self.text(v, name));
            } else if let Some((id, attr)) = name.split_once('.') {
                out.push_str(&self.text(&self.get_att(id, attr), name));
            } else {
                out.push_str(&self.text(&self.reference(name), name));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Value::String(out)
    }
}

/// The lines of a policy document's statements (the document's own line when they are not
/// written one by one).
fn statement_lines(doc: Option<&Node>, fallback: usize) -> Vec<usize> {
    match doc.and_then(|d| d.get("Statement")) {
        Some(st) => match st.as_seq() {
            Some(items) => items.iter().map(|i| i.line).collect(),
            None => vec![st.line],
        },
        None => Vec::new(),
    }
    .into_iter()
    .map(|l| if l == 0 { fallback } else { l })
    .collect()
}

struct Reader<'a> {
    file: &'a str,
    resolver: Resolver<'a>,
    roles: Vec<TemplateRole>,
}

impl Reader<'_> {
    /// A policy document (`doc`, resolved) named `name`, with its statements' lines.
    fn policy(
        &self,
        role: &mut TemplateRole,
        (name, origin): (&str, PolicyOrigin),
        doc_node: Option<&Node>,
        doc: &Value,
        line: usize,
        locals: &BTreeMap<String, Value>,
    ) -> Option<TemplatePolicy> {
        let resolved = self.resolver.eval(doc, locals);
        let mut lines = statement_lines(doc_node, line);
        match Policy::from_value(name, &resolved) {
            Ok(policy) => {
                lines.resize(policy.statements.len(), line);
                Some(TemplatePolicy { name: name.to_string(), origin, line, policy, statement_lines: lines })
            }
            Err(e) => {
                role.unreadable
                    .push(format!("{}:{line}: policy {name} cannot be read ({e}); its grants are unknown", self.file));
                None
            }
        }
    }

    /// A managed policy attached by ARN (or, for SAM, by name).
    fn managed(&self, role: &mut TemplateRole, raw: &Node) -> Option<TemplatePolicy> {
        // A ManagedPolicy of this template, by Ref: its document.
        let long = long_form(raw);
        if let Some(id) = long.get("Ref").and_then(Value::as_str) {
            if let Some(r) = self.resolver.resources.get(id).filter(|r| r.kind == "AWS::IAM::ManagedPolicy") {
                let doc = r.props.get("PolicyDocument").cloned().unwrap_or_default();
                let doc_node = r.node.get("Properties").and_then(|p| p.get("PolicyDocument"));
                return self.policy(
                    role,
                    (id, PolicyOrigin::Attached(id.to_string())),
                    doc_node,
                    &doc,
                    r.line,
                    &BTreeMap::new(),
                );
            }
        }
        let value = self.resolver.eval(&long, &BTreeMap::new());
        let arn = value.as_str().unwrap_or_default().to_string();
        let key = arn.clone();
        match ManagedPolicies::embedded().get(&key) {
            Some(Ok(mut p)) => {
                let lines = vec![raw.line; p.statements.len()];
                p.name = key.rsplit('/').next().unwrap_or(&key).to_string();
                Some(TemplatePolicy {
                    name: p.name.clone(),
                    origin: PolicyOrigin::Managed(key),
                    line: raw.line,
                    policy: p,
                    statement_lines: lines,
                })
            }
            _ => {
                role.unreadable.push(format!(
                    "{}:{}: managed policy `{}` is not an AWS managed policy iamtrim has, nor a policy of the template: its grants are unknown",
                    self.file, raw.line, arn
                ));
                None
            }
        }
    }
}

/// Reads a CloudFormation, SAM or CDK template.
pub(super) fn read(file: &str, root: &Node, ctx: &DeployContext) -> Result<Template, TemplateError> {
    let invalid = |line: usize, message: String| TemplateError::Invalid { file: file.to_string(), line, message };
    let resources_node = root.get("Resources").ok_or_else(|| invalid(1, "no Resources".into()))?;
    let entries =
        resources_node.as_map().ok_or_else(|| invalid(resources_node.line, "Resources is not a mapping".into()))?;
    let sam = match root.get("Transform").map(long_form) {
        Some(Value::String(t)) => t.starts_with("AWS::Serverless"),
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str().is_some_and(|t| t.starts_with("AWS::Serverless"))),
        _ => false,
    };
    let mut resources = BTreeMap::new();
    let mut cdk = false;
    for (k, v) in entries {
        let id = k.as_str().unwrap_or_default().to_string();
        let kind = v.get("Type").and_then(Node::as_str).unwrap_or_default().to_string();
        cdk |= v.get("Metadata").and_then(|m| m.get("aws:cdk:path")).is_some();
        let props = v.get("Properties").map(long_form).unwrap_or(Value::Object(Map::new()));
        resources.insert(id, Resource { kind, props, node: v, line: k.line });
    }
    let kind = if sam {
        TemplateKind::Sam
    } else if cdk {
        TemplateKind::Cdk
    } else {
        TemplateKind::CloudFormation
    };
    let partition = ctx
        .partition
        .clone()
        .or_else(|| ctx.region.as_deref().map(|r| crate::mapping::arn::partition_of_region(r).to_string()));
    let resolver = Resolver {
        resources,
        mappings: root.get("Mappings").map(long_form).unwrap_or_default(),
        ctx: ctx.clone(),
        partition,
        unknowns: Default::default(),
    };
    let mut reader = Reader { file, resolver, roles: Vec::new() };

    // Roles, and the roles SAM generates.
    let ids: Vec<String> = reader.resolver.resources.keys().cloned().collect();
    for id in &ids {
        let r = &reader.resolver.resources[id];
        match r.kind.as_str() {
            "AWS::IAM::Role" => {
                let mut role = new_role(&reader, id, r.line, r.props.get("RoleName"));
                let props = r.node.get("Properties");
                if let Some(list) = props.and_then(|p| p.get("Policies")).and_then(Node::as_seq) {
                    for p in list {
                        let name = p
                            .get("PolicyName")
                            .map(|n| {
                                reader
                                    .resolver
                                    .text(&reader.resolver.eval(&long_form(n), &BTreeMap::new()), "PolicyName")
                            })
                            .unwrap_or_else(|| "inline".into());
                        let doc_node = p.get("PolicyDocument");
                        let doc = doc_node.map(long_form).unwrap_or_default();
                        if let Some(tp) = reader.policy(
                            &mut role,
                            (&format!("{name} (inline)"), PolicyOrigin::Inline),
                            doc_node,
                            &doc,
                            p.line,
                            &BTreeMap::new(),
                        ) {
                            role.policies.push(tp);
                        }
                    }
                }
                if let Some(list) = props.and_then(|p| p.get("ManagedPolicyArns")).and_then(Node::as_seq) {
                    for m in list {
                        if let Some(tp) = reader.managed(&mut role, m) {
                            role.policies.push(tp);
                        }
                    }
                }
                if let Some(b) = props.and_then(|p| p.get("PermissionsBoundary")) {
                    role.boundary = reader.managed(&mut role, b).map(|mut tp| {
                        tp.origin = PolicyOrigin::Boundary(tp.name.clone());
                        tp
                    });
                }
                reader.roles.push(role);
            }
            "AWS::Serverless::Function" if r.props.get("Role").is_none() => {
                let role_id = format!("{id}Role");
                let mut role = new_role(&reader, &role_id, r.line, None);
                // SAM attaches the basic execution role to the role it generates.
                let basic = crate::policy::template::node::Node {
                    value: super::node::Value::Scalar {
                        text: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole".into(),
                        quoted: true,
                    },
                    tag: None,
                    line: r.line,
                };
                if let Some(tp) = reader.managed(&mut role, &basic) {
                    role.policies.push(tp);
                }
                let policies = r.node.get("Properties").and_then(|p| p.get("Policies"));
                let items: Vec<&Node> = match policies {
                    Some(p) if p.as_seq().is_some() => p.as_seq().unwrap_or_default().iter().collect(),
                    Some(p) => vec![p],
                    None => Vec::new(),
                };
                for (i, item) in items.into_iter().enumerate() {
                    sam_policy(&reader, &mut role, id, i, item);
                }
                if let Some(b) = r.node.get("Properties").and_then(|p| p.get("PermissionsBoundary")) {
                    role.boundary = reader.managed(&mut role, b).map(|mut tp| {
                        tp.origin = PolicyOrigin::Boundary(tp.name.clone());
                        tp
                    });
                }
                reader.roles.push(role);
            }
            _ => {}
        }
    }
    // Policy resources attached to the template's roles.
    for id in &ids {
        let r = &reader.resolver.resources[id];
        let (targets, name_key): (Vec<&Node>, &str) = match r.kind.as_str() {
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => (
                r.node
                    .get("Properties")
                    .and_then(|p| p.get("Roles"))
                    .and_then(Node::as_seq)
                    .map(|s| s.iter().collect())
                    .unwrap_or_default(),
                if r.kind == "AWS::IAM::Policy" { "PolicyName" } else { "ManagedPolicyName" },
            ),
            "AWS::IAM::RolePolicy" => {
                (r.node.get("Properties").and_then(|p| p.get("RoleName")).into_iter().collect(), "PolicyName")
            }
            _ => continue,
        };
        let doc_node = r.node.get("Properties").and_then(|p| p.get("PolicyDocument"));
        let doc = r.props.get("PolicyDocument").cloned().unwrap_or_default();
        let name = r
            .props
            .get(name_key)
            .map(|n| reader.resolver.text(&reader.resolver.eval(n, &BTreeMap::new()), name_key))
            .unwrap_or_else(|| id.clone());
        for t in targets {
            let long = long_form(t);
            let role_index = match long.get("Ref").and_then(Value::as_str) {
                Some(rid) => reader.roles.iter().position(|x| x.id == rid),
                None => {
                    let name = reader.resolver.eval(&long, &BTreeMap::new());
                    reader.roles.iter().position(|x| x.name.is_some() && x.name.as_deref() == name.as_str())
                }
            };
            let Some(ix) = role_index else { continue };
            let placeholder = new_role(&reader, "", 0, None);
            let mut role = std::mem::replace(&mut reader.roles[ix], placeholder);
            if let Some(tp) = reader.policy(
                &mut role,
                (&format!("{name} ({id})"), PolicyOrigin::Attached(id.clone())),
                doc_node,
                &doc,
                r.line,
                &BTreeMap::new(),
            ) {
                role.policies.push(tp);
            }
            reader.roles[ix] = role;
        }
    }
    let unknowns = reader.resolver.unknowns.borrow().clone();
    for role in &mut reader.roles {
        for p in role.policies.iter().chain(role.boundary.iter()) {
            let text = format!("{:?}", p.policy.statements);
            for (k, why) in &unknowns {
                if text.contains(k.as_str()) {
                    role.unknowns.insert(k.clone(), why.clone());
                }
            }
        }
    }
    Ok(Template { file: file.to_string(), kind, roles: reader.roles })
}

fn new_role(reader: &Reader<'_>, id: &str, line: usize, name: Option<&Value>) -> TemplateRole {
    let name = name
        .map(|n| reader.resolver.eval(n, &BTreeMap::new()))
        .and_then(|n| n.as_str().map(str::to_string))
        .filter(|n| !super::has_unknown(n));
    TemplateRole {
        id: id.to_string(),
        name,
        line,
        policies: Vec::new(),
        boundary: None,
        unknowns: BTreeMap::new(),
        unreadable: Vec::new(),
    }
}

/// One entry of a SAM function's `Policies`: a managed policy name or ARN, an inline document,
/// or a policy template `{Name: {Parameter: value}}`.
fn sam_policy(reader: &Reader<'_>, role: &mut TemplateRole, function: &str, index: usize, item: &Node) {
    let long = long_form(item);
    let is_intrinsic =
        long.as_object().is_some_and(|m| m.len() == 1 && m.keys().any(|k| k == "Ref" || k.starts_with("Fn::")));
    if item.as_str().is_some() || is_intrinsic {
        if let Some(tp) = reader.managed(role, item) {
            role.policies.push(tp);
        }
        return;
    }
    if item.get("Statement").is_some() {
        let name = format!("{function}RolePolicy{index} (inline)");
        if let Some(tp) =
            reader.policy(role, (&name, PolicyOrigin::Inline), Some(item), &long, item.line, &BTreeMap::new())
        {
            role.policies.push(tp);
        }
        return;
    }
    let Some((template_name, params)) = long.as_object().and_then(|m| m.iter().next()) else {
        role.unreadable.push(format!("{}:{}: a Policies entry iamtrim cannot read", reader.file, item.line));
        return;
    };
    let Some(definition) = sam_templates()["Templates"].get(template_name).map(|t| t["Definition"].clone()) else {
        role.unreadable.push(format!(
            "{}:{}: `{template_name}` is not a SAM policy template iamtrim knows (action-maps/sam-policy-templates.json): its grants are unknown",
            reader.file, item.line
        ));
        return;
    };
    let mut locals = BTreeMap::new();
    if let Some(m) = params.as_object() {
        for (k, v) in m {
            locals.insert(k.clone(), reader.resolver.eval(v, &BTreeMap::new()));
        }
    }
    // A parameter the function does not give is unknown, never empty.
    for p in sam_templates()["Templates"][template_name]["Parameters"].as_object().into_iter().flatten().map(|(k, _)| k)
    {
        if !locals.contains_key(p) {
            locals.insert(
                p.clone(),
                reader
                    .resolver
                    .unknown(&format!("{template_name}.{p}"), "a policy template parameter the function does not give"),
            );
        }
    }
    let mut doc = definition;
    if doc.get("Version").is_none() {
        doc["Version"] = Value::String("2012-10-17".into());
    }
    let name = format!("{template_name} (SAM policy template)");
    if let Some(tp) =
        reader.policy(role, (&name, PolicyOrigin::SamTemplate(template_name.clone())), None, &doc, item.line, &locals)
    {
        role.policies.push(tp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{Actions, Resources};

    fn ctx() -> DeployContext {
        DeployContext {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            stack_name: Some("shop".into()),
            ..DeployContext::default()
        }
    }

    fn read_yaml(text: &str, ctx: &DeployContext) -> Template {
        super::super::read("template.yaml", text, ctx).unwrap()
    }

    fn resources(p: &TemplatePolicy, i: usize) -> Vec<String> {
        match &p.policy.statements[i].resources {
            Resources::Only(r) => r.clone(),
            Resources::AllBut(r) => r.iter().map(|x| format!("not {x}")).collect(),
        }
    }

    const ROLE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: {Type: String, Default: dev}
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-orders"
  Uploads:
    Type: AWS::S3::Bucket
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Join ["-", [!Ref "AWS::StackName", app]]
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
        - !Ref Shared
        - arn:aws:iam::123456789012:policy/not-here
      Policies:
        - PolicyName: tables
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:PutItem]
                Resource: !GetAtt Orders.Arn
              - Effect: Allow
                Action: s3:PutObject
                Resource: !Sub "${Uploads.Arn}/${Env}/*"
  Shared:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sqs:SendMessage
            Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs"
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref AppRole]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: sns:Publish
            Resource: "*"
"#;

    #[test]
    fn a_cloudformation_role_gets_every_policy_that_reaches_it_with_its_lines() {
        let t = read_yaml(ROLE, &ctx());
        assert_eq!(t.kind, TemplateKind::CloudFormation);
        assert_eq!(t.roles.len(), 1);
        let role = &t.roles[0];
        assert_eq!((role.id.as_str(), role.name.as_deref(), role.line), ("AppRole", Some("shop-app"), 12));
        let names: Vec<&str> = role.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["tables (inline)", "AmazonS3ReadOnlyAccess", "Shared", "extra (Extra)"]);
        let tables = &role.policies[0];
        assert_eq!(tables.statement_lines, [25, 28]);
        assert_eq!(resources(tables, 0), ["arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders"]);
        // The bucket's name is generated at deploy time, and Env is a parameter not given: both
        // unknown, never `*`.
        assert_eq!(resources(tables, 1), ["arn:aws:s3:::${unknown:Uploads.BucketName}/${unknown:Env}/*"]);
        assert!(role.unknowns.contains_key("${unknown:Uploads.BucketName}"), "{:?}", role.unknowns);
        assert_eq!(resources(&role.policies[2], 0), ["arn:aws:sqs:us-east-1:123456789012:jobs"]);
        assert!(
            role.unreadable.iter().any(|u| u.contains("not-here") && u.contains("grants are unknown")),
            "{:?}",
            role.unreadable
        );
        // The evaluator never reads an unknown as a grant: the upload is only conditional.
        let set = role.policy_set();
        assert!(!set.evaluate("s3:PutObject", "arn:aws:s3:::anything/dev/x").decision.is_allow());
        assert!(set
            .evaluate("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/shop-orders")
            .decision
            .is_allow());
    }

    #[test]
    fn without_the_deploy_context_pseudo_parameters_stay_unknown() {
        let t = read_yaml(ROLE, &DeployContext::default());
        let role = &t.roles[0];
        assert_eq!(role.name, None, "the name needs the stack name");
        assert_eq!(
            resources(&role.policies[0], 0),
            ["arn:${unknown:AWS::Partition}:dynamodb:${unknown:AWS::Region}:${unknown:AWS::AccountId}:table/${unknown:AWS::StackName}-orders"]
        );
    }

    const SAM: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      TableName: orders
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Policies:
        - AmazonSQSReadOnlyAccess
        - DynamoDBCrudPolicy:
            TableName: !Ref Table
        - S3ReadPolicy:
            BucketName: acme-invoices
        - Statement:
            - Effect: Allow
              Action: ses:SendEmail
              Resource: "*"
        - NoSuchTemplate: {}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt Api.Arn
"#;

    #[test]
    fn a_sam_function_gets_the_role_sam_generates_with_its_policy_templates_expanded() {
        let t = read_yaml(SAM, &ctx());
        assert_eq!(t.kind, TemplateKind::Sam);
        let ids: Vec<&str> = t.roles.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["ApiRole"], "a function with its own Role gets none");
        let role = &t.roles[0];
        let names: Vec<&str> = role.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "AWSLambdaBasicExecutionRole",
                "AmazonSQSReadOnlyAccess",
                "DynamoDBCrudPolicy (SAM policy template)",
                "S3ReadPolicy (SAM policy template)",
                "ApiRolePolicy3 (inline)"
            ]
        );
        let crud = &role.policies[2];
        assert_eq!(crud.line, 15);
        assert_eq!(
            resources(crud, 0),
            [
                "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*"
            ]
        );
        assert!(
            matches!(&crud.policy.statements[0].actions, Actions::Only(a) if a.contains(&"dynamodb:PutItem".to_string()))
        );
        assert_eq!(resources(&role.policies[3], 0), ["arn:aws:s3:::acme-invoices", "arn:aws:s3:::acme-invoices/*"]);
        assert!(role.unreadable.iter().any(|u| u.contains("NoSuchTemplate")), "{:?}", role.unreadable);
    }
}
