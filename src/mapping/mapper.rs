//! Turns one CloudTrail event into the IAM actions it needed and the resources they were used
//! on, validated against the [`ActionCatalog`]. Nothing is guessed: an event that does not map
//! to a catalog action comes back as [`Mapping::Unmapped`] with the reason.

use std::collections::BTreeSet;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::ingest::event::{Event, Resource};
use crate::mapping::arn::literal;
use crate::mapping::catalog::{Action, ActionCatalog, OverrideAction, ResourceSource};

pub use super::implied::is_tagging_action;
use super::params::*;
pub use super::params::{percent_decode, queue_url_to_arn};
use super::resources::*;

/// How the resources of an [`ActionUse`] were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resolution {
    /// Taken from the event: `resources[]` or an ARN-valued request parameter.
    Event,
    /// Built from request parameters with the action's ARN templates.
    Parameters,
    /// The resource could not be determined; the ARN template with `*` for unknown parts is used.
    Wildcard,
    /// The action has no resource-level permissions: `*`.
    NotScoped,
    /// Needed on a resource the event does not name and iamtrim cannot resolve from it (the role
    /// of an instance profile): never granted (no `role/*`), reported as needed.
    Unresolved,
}

/// One action an event needed, and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionUse {
    /// Canonical action name, `s3:GetObject`.
    pub action: String,
    /// Resource ARNs (sorted, deduplicated), or `["*"]`.
    pub resources: Vec<String>,
    /// Where the resources came from.
    pub resolution: Resolution,
    /// Set for permissions CloudTrail does not log but the call needed (iam:PassRole): why.
    pub implied_by: Option<String>,
}

/// Why an event could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unmapped {
    /// The eventSource matches no IAM service prefix.
    UnknownEventSource,
    /// The event name is no action of the service and no reviewed override covers it.
    NoSuchAction {
        /// The IAM prefix the event source maps to.
        prefix: String,
    },
    /// The Service Reference's actions for the operation each depend on what the request does
    /// (a PartiQL verb, a field), and the record does not show it: nothing is granted.
    TriggerNotShown {
        /// The IAM prefix the event source maps to.
        prefix: String,
    },
}

impl Unmapped {
    /// A sentence for reports.
    pub fn reason(&self) -> String {
        match self {
            Unmapped::UnknownEventSource => "event source matches no IAM service prefix".to_string(),
            Unmapped::NoSuchAction { prefix } => {
                format!("no `{prefix}` action or reviewed override matches the event name")
            }
            Unmapped::TriggerNotShown { prefix } => format!(
                "every `{prefix}` action AWS lists for the operation depends on what the request does, and the record does not show it"
            ),
        }
    }
}

/// The result of mapping one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// The event needed these actions.
    Actions(Vec<ActionUse>),
    /// The call needs no IAM permission (reason from the override table).
    NoPermission(String),
    /// The event could not be mapped.
    Unmapped(Unmapped),
}

/// What the mapper reads of a record, and all it reads: the event source and name, where the
/// call was made (partition, region and account, as [`Context`] derives them), and the record's
/// `resources` and `requestParameters` as raw JSON. The mapper is given a `Call`, never the
/// record, so two records with equal calls map alike: the key of the mapping memo
/// ([`super::memo`]).
#[derive(Debug)]
pub struct Call<'a> {
    pub(super) event_source: &'a str,
    pub(super) event_name: &'a str,
    pub(super) ctx: Context<'a>,
    pub(super) resources: Option<&'a RawValue>,
    pub(super) request_parameters: Option<&'a RawValue>,
}

impl<'a> Call<'a> {
    /// The call `event` records.
    pub fn of(event: &'a Event<'_>) -> Call<'a> {
        Call {
            event_source: &event.event_source,
            event_name: &event.event_name,
            ctx: Context::new(event),
            resources: event.raw_resources,
            request_parameters: event.request_parameters,
        }
    }

    /// The call's `requestParameters` as a JSON object (empty when absent, `null` or not an
    /// object); an error when they cannot be read (nested deeper than the parser's limit): the
    /// caller must then not map the call, since its resources would be lost.
    pub(crate) fn request_parameters(&self) -> Result<Map<String, Value>, serde_json::Error> {
        let Some(raw) = self.request_parameters else { return Ok(Map::new()) };
        Ok(match serde_json::from_str::<Value>(raw.get())? {
            Value::Object(m) => m,
            _ => Map::new(),
        })
    }

    /// The record's `resources[]` (see [`Event::resources`]).
    fn resources(&self) -> Vec<Resource<'a>> {
        crate::ingest::event::resources_of(self.resources)
    }
}

/// Maps CloudTrail events to IAM actions and resources.
#[derive(Debug, Clone, Copy)]
pub struct EventMapper<'c> {
    pub(super) catalog: &'c ActionCatalog,
}

impl<'c> EventMapper<'c> {
    /// A mapper over `catalog`.
    pub fn new(catalog: &'c ActionCatalog) -> Self {
        EventMapper { catalog }
    }

    /// The catalog this mapper validates against.
    pub fn catalog(&self) -> &'c ActionCatalog {
        self.catalog
    }

    /// The actions an event needs, without resolving resources (cheap; for coverage).
    pub fn actions_for(&self, event_source: &str, event_name: &str) -> Result<Vec<&'c Action>, MappingHint> {
        let Some(prefix) = self.catalog.prefix_for_event_source(event_source) else {
            return Err(MappingHint::Unmapped(Unmapped::UnknownEventSource));
        };
        let name = normalize_event_name(prefix, event_name);
        if let Some(ov) =
            self.catalog.override_for(prefix, event_name).or_else(|| self.catalog.override_for(prefix, name))
        {
            if ov.actions.is_empty() {
                return Err(MappingHint::NoPermission(ov.reason.clone()));
            }
            // overrides.json is checked against the catalog by action-maps/generate.py and a test.
            return Ok(ov.actions.iter().filter_map(|a| self.catalog.action_by_name(&a.action)).collect());
        }
        if let Some(a) = self.catalog.action(prefix, name) {
            return Ok(vec![a]);
        }
        match self.catalog.authorized_for(prefix, name) {
            Some(entries) => {
                use crate::mapping::catalog::Trigger;
                let granted = |always: bool| -> Vec<&'c Action> {
                    entries
                        .iter()
                        .filter(|e| if always { e.when == Trigger::Always } else { e.when != Trigger::Never })
                        .filter_map(|e| self.catalog.action_by_name(&e.action))
                        .collect()
                };
                let always = granted(true);
                Ok(if always.is_empty() { granted(false) } else { always })
            }
            None => Err(MappingHint::Unmapped(Unmapped::NoSuchAction { prefix: prefix.to_string() })),
        }
    }

    /// Maps one event: actions from the override table or the catalog, resources from the event.
    /// Parameters that cannot be read count as none; see [`EventMapper::map_with`].
    pub fn map(&self, event: &Event<'_>) -> Mapping {
        let call = Call::of(event);
        self.map_with(&call, &call.request_parameters().unwrap_or_default())
    }

    /// Maps one call whose parameters are already read ([`Call::request_parameters`]).
    pub(crate) fn map_with(&self, call: &Call<'_>, params: &Map<String, Value>) -> Mapping {
        let Some(prefix) = self.catalog.prefix_for_event_source(call.event_source) else {
            return Mapping::Unmapped(Unmapped::UnknownEventSource);
        };
        let params = &*unwrap_request(call.event_name, params);
        let name = normalize_event_name(prefix, call.event_name);
        let ctx = &call.ctx;

        let ov = self.catalog.override_for(prefix, call.event_name).or_else(|| self.catalog.override_for(prefix, name));
        if let Some(ov) = ov {
            if ov.actions.is_empty() {
                return Mapping::NoPermission(ov.reason.clone());
            }
            let uses = ov
                .actions
                .iter()
                .filter_map(|oa| {
                    let action = self.catalog.action_by_name(&oa.action)?;
                    Some(self.resolve(action, Some(oa), call, params))
                })
                .collect::<Vec<_>>();
            let extras = if prefix == "s3" { self.s3_header_extras(&uses, params) } else { Vec::new() };
            return Mapping::Actions(uses.into_iter().chain(extras).collect());
        }
        match self.catalog.action(prefix, name) {
            Some(action) => {
                let main = self.resolve(action, None, call, params);
                let tagging = self.tags_on_create(action, &main, params, ctx);
                let mut uses = vec![main];
                uses.extend(tagging);
                uses.extend(self.passed_role(
                    prefix,
                    action.name.split_once(':').map_or(name, |(_, n)| n),
                    params,
                    ctx,
                ));
                if prefix == "s3" {
                    let extras = self.s3_header_extras(&uses, params);
                    uses.extend(extras);
                }
                Mapping::Actions(uses)
            }
            None => match self.catalog.authorized_for(prefix, name) {
                Some(entries) => {
                    let uses = self.map_authorized(entries, call, params);
                    if uses.is_empty() {
                        Mapping::Unmapped(Unmapped::TriggerNotShown { prefix: prefix.to_string() })
                    } else {
                        Mapping::Actions(uses)
                    }
                }
                None => Mapping::Unmapped(Unmapped::NoSuchAction { prefix: prefix.to_string() }),
            },
        }
    }

    /// The resources of `action` for this event: per the override entry `ov` when given, else
    /// from the event's resources and parameters.
    pub(super) fn resolve(
        &self,
        action: &Action,
        ov: Option<&OverrideAction>,
        call: &Call<'_>,
        params: &Map<String, Value>,
    ) -> ActionUse {
        let ctx = &call.ctx;
        let done = |resources: BTreeSet<String>, resolution| ActionUse {
            action: action.name.clone(),
            resources: prune_covered_prefixes(resources),
            resolution,
            implied_by: None,
        };
        if !action.has_resources() {
            return done(BTreeSet::from(["*".to_string()]), Resolution::NotScoped);
        }
        let prefix = action.prefix();
        let fits = |arn: &str| self.catalog.classify_arn(prefix, arn).is_some_and(|t| action.accepts_type(t));

        // An override that says where the resource comes from is the only source considered.
        if let Some(ov) = ov {
            if ov.source == Some(ResourceSource::S3CopySource) {
                let found: BTreeSet<String> = copy_source_arn(params, ctx).into_iter().filter(|a| fits(a)).collect();
                return if found.is_empty() { self.wildcard(action, ctx) } else { done(found, Resolution::Parameters) };
            }
            if ov.source == Some(ResourceSource::RequestParameters) {
                let lookup = |var: &str| parameter_values(var, params);
                let found = self.build_from_parameters(action, ctx, &lookup);
                return if found.is_empty() { self.wildcard(action, ctx) } else { done(found, Resolution::Parameters) };
            }
            if !ov.params.is_empty() {
                let lookup = |var: &str| ov.params.get(var).map(|p| string_values(params.get(p))).unwrap_or_default();
                let mut found: BTreeSet<String> = ov
                    .params
                    .values()
                    .flat_map(|p| string_values(params.get(p)))
                    .filter(|v| v.starts_with("arn:") && fits(v))
                    .collect();
                if found.is_empty() {
                    found = self.build_from_parameters(action, ctx, &lookup);
                }
                return if found.is_empty() { self.wildcard(action, ctx) } else { done(found, Resolution::Parameters) };
            }
        }

        let listed = call.resources();
        let mut from_event: BTreeSet<String> = listed
            .iter()
            .filter_map(|r| r.arn.as_deref().map(|a| literal(a).into_owned()))
            .chain(arn_parameters(params))
            .filter(|a| fits(a))
            .collect();
        from_event.extend(derived_arns(params, ctx).into_iter().filter(|a| fits(a)));

        let lookup = |var: &str| parameter_values(var, params);
        let built = self.build_from_parameters(action, ctx, &lookup);
        let resolution = if from_event.is_empty() { Resolution::Parameters } else { Resolution::Event };
        from_event.extend(built);
        if from_event.is_empty() {
            return self.wildcard(action, ctx);
        }
        let missing = self.missing_required(action, &from_event, ctx);
        from_event.extend(missing);
        done(from_event, resolution)
    }

    /// IAM authorizes a call on every resource type the action requires. When the event named
    /// only some of them, the others get their templates with the event's partition, region and
    /// account and `*` for the rest. A type is covered when a resolved ARN falls under its
    /// template (an index ARN is under its table's), so nothing is added for it.
    fn missing_required(&self, action: &Action, resolved: &BTreeSet<String>, ctx: &Context) -> Vec<String> {
        let mut out = Vec::new();
        for rt in action.resource_types.iter().filter(|r| r.required) {
            let templates = self.catalog.templates(action.prefix(), &rt.name);
            if templates.iter().any(|t| resolved.iter().any(|arn| t.matches(arn))) {
                continue;
            }
            out.extend(scoped_wildcards(templates, ctx));
        }
        out
    }

    /// Builds ARNs from request parameters: for each resource type of the action whose request
    /// variables can all be filled, the filled templates. When several types can be built, the
    /// ones that use the most request values win (an index over its table).
    fn build_from_parameters(
        &self,
        action: &Action,
        ctx: &Context,
        lookup: &dyn Fn(&str) -> Vec<String>,
    ) -> BTreeSet<String> {
        let mut best: (usize, BTreeSet<String>) = (0, BTreeSet::new());
        for rt in &action.resource_types {
            for template in self.catalog.templates(action.prefix(), &rt.name) {
                let vars: Vec<&str> = template.request_variables().collect();
                if vars.is_empty() {
                    continue;
                }
                let values: Vec<Vec<String>> = vars.iter().map(|v| lookup(v)).collect();
                if values.iter().any(Vec::is_empty) {
                    continue;
                }
                let arns = fill_all(template, ctx, &vars, &values);
                if arns.is_empty() {
                    continue;
                }
                match vars.len().cmp(&best.0) {
                    std::cmp::Ordering::Greater => best = (vars.len(), arns),
                    std::cmp::Ordering::Equal => best.1.extend(arns),
                    std::cmp::Ordering::Less => {}
                }
            }
        }
        best.1
    }

    /// The templates of the action's required resource types with the event's partition, region
    /// and account and `*` for the rest. When the catalog marks no type required, the call may
    /// have named no resource at all and only `*` is sure to allow it.
    pub(super) fn wildcard(&self, action: &Action, ctx: &Context) -> ActionUse {
        let mut out = BTreeSet::new();
        for rt in action.resource_types.iter().filter(|r| r.required) {
            out.extend(scoped_wildcards(self.catalog.templates(action.prefix(), &rt.name), ctx));
        }
        if out.is_empty() {
            out.insert("*".to_string());
        }
        ActionUse {
            action: action.name.clone(),
            resources: out.into_iter().collect(),
            resolution: Resolution::Wildcard,
            implied_by: None,
        }
    }
}

/// A cheap answer about an event pair, from [`EventMapper::actions_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingHint {
    /// Needs no permission.
    NoPermission(String),
    /// Does not map.
    Unmapped(Unmapped),
}

/// Lambda event names carry the API version (`GetFunction20150331v2`, `ListFunctions20150331`);
/// the operation is the name without it.
pub(crate) fn normalize_event_name<'n>(prefix: &str, name: &'n str) -> &'n str {
    if prefix != "lambda" {
        return name;
    }
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    // optional trailing `v<digits>`
    let digits_end = end;
    while end > 0 && bytes[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end > 0 && end < digits_end && bytes[end - 1] == b'v' {
        end -= 1;
    } else {
        end = digits_end;
    }
    // eight-digit date
    if end >= 8 && bytes[end - 8..end].iter().all(u8::is_ascii_digit) && end > 8 {
        return &name[..end - 8];
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_version_suffixes_are_stripped() {
        for (name, want) in [
            ("GetFunction20150331v2", "GetFunction"),
            ("UpdateFunctionCode20150331v2", "UpdateFunctionCode"),
            ("ListFunctions20150331", "ListFunctions"),
            ("AddPermission20150331", "AddPermission"),
            ("Invoke", "Invoke"),
            ("GetFunction", "GetFunction"),
        ] {
            assert_eq!(normalize_event_name("lambda", name), want);
        }
        assert_eq!(normalize_event_name("s3", "GetObject20150331"), "GetObject20150331");
    }

    #[test]
    fn queue_urls_become_arns() {
        let ctx = Some("eu-west-1");
        assert_eq!(
            queue_url_to_arn("https://sqs.us-east-1.amazonaws.com/123456789012/jobs", ctx).as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:jobs")
        );
        assert_eq!(
            queue_url_to_arn("https://queue.amazonaws.com/123456789012/jobs", ctx).as_deref(),
            Some("arn:aws:sqs:eu-west-1:123456789012:jobs")
        );
        assert_eq!(queue_url_to_arn("not a url", ctx), None);
    }

    #[test]
    fn nested_parameter_paths_reach_array_elements() {
        let params: Map<String, Value> =
            serde_json::from_str(r#"{"instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":"i-2"}]}}"#).unwrap();
        assert_eq!(path_values(&params, "instancesSet.items[].instanceId"), ["i-1", "i-2"]);
        assert!(path_values(&params, "instancesSet.missing[].instanceId").is_empty());
    }

    #[test]
    fn only_parameters_that_name_a_resource_give_arns() {
        let params: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "functionName": "arn:aws:lambda:us-east-1:1:function:f",
            "resourceArns": ["arn:aws:sns:us-east-1:1:t"],
            "SecretId": "arn:aws:secretsmanager:us-east-1:1:secret:s",
            "description": "copied from arn:aws:s3:::other",
            "Description": "arn:aws:s3:::other-bucket",
            "comment": "arn:aws:iam::1:role/admin",
            "message": "arn:aws:sqs:us-east-1:1:q",
            "policyDocument": "arn:aws:s3:::*"
        }))
        .unwrap();
        let mut got = arn_parameters(&params);
        got.sort();
        assert_eq!(
            got,
            [
                "arn:aws:lambda:us-east-1:1:function:f",
                "arn:aws:secretsmanager:us-east-1:1:secret:s",
                "arn:aws:sns:us-east-1:1:t"
            ]
        );
    }

    #[test]
    fn covered_prefixes_are_pruned() {
        let set: BTreeSet<String> =
            ["arn:aws:dynamodb:r:1:table/t", "arn:aws:dynamodb:r:1:table/t/index/i", "arn:aws:dynamodb:r:1:table/tt"]
                .into_iter()
                .map(String::from)
                .collect();
        assert_eq!(
            prune_covered_prefixes(set),
            ["arn:aws:dynamodb:r:1:table/t/index/i", "arn:aws:dynamodb:r:1:table/tt"]
        );
    }

    #[test]
    fn percent_decoding_handles_copy_sources() {
        assert_eq!(percent_decode("src%2Fdir%20a/key"), "src/dir a/key");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
