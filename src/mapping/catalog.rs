//! The IAM action catalog and the CloudTrail tables derived from it (`action-maps/`), embedded
//! in the binary so iamtrim runs anywhere.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::mapping::arn::ArnTemplate;
use crate::mapping::kept::KeptAnswers;

/// The catalog's maps: looked up for every record and every granted action, with keys from the
/// bundled tables (foldhash: several times faster than std's SipHash on short strings).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

const CATALOG_JSON: &str = include_str!("../../action-maps/catalog.json");
const EVENT_SOURCES_JSON: &str = include_str!("../../action-maps/event-sources.json");
const OPERATIONS_JSON: &str = include_str!("../../action-maps/operations.json");
const OVERRIDES_JSON: &str = include_str!("../../action-maps/overrides.json");
const PASSROLE_JSON: &str = include_str!("../../action-maps/passrole.json");
const AUTHORIZED_JSON: &str = include_str!("../../action-maps/authorized-actions.json");

/// IAM access level of an action, in the order a reviewer cares about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
pub enum AccessLevel {
    /// Changes who can do what (`iam:PutRolePolicy`, `s3:PutBucketPolicy`).
    #[serde(rename = "Permissions management")]
    PermissionsManagement,
    /// Creates, changes or deletes resources.
    Write,
    /// Tags resources.
    Tagging,
    /// Reads resource contents or configuration.
    Read,
    /// Lists resources.
    List,
}

impl AccessLevel {
    /// The name IAM documentation uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Write => "Write",
            AccessLevel::Tagging => "Tagging",
            AccessLevel::Read => "Read",
            AccessLevel::List => "List",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type an action can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTypeRef {
    /// Resource type key within the service (lower case), e.g. `object`.
    pub name: String,
    /// The catalog marks the type as required for the action.
    pub required: bool,
}

/// One IAM action.
#[derive(Debug, Clone)]
pub struct Action {
    /// Full canonical name, e.g. `s3:GetObject`.
    pub name: String,
    /// Access level.
    pub level: AccessLevel,
    /// Resource types the action can be scoped to; empty means only `*`.
    pub resource_types: Vec<ResourceTypeRef>,
    /// Actions the catalog says this one also needs.
    pub dependent: Vec<String>,
    /// Service-specific condition keys the action supports, of those iamtrim writes
    /// (`kms:ViaService`); global `aws:` keys apply to every action.
    pub conditions: Vec<String>,
}

impl Action {
    /// The service prefix (`s3` of `s3:GetObject`).
    pub fn prefix(&self) -> &str {
        self.name.split_once(':').map_or("", |(p, _)| p)
    }
    /// True when the action supports resource-level permissions.
    pub(crate) fn has_resources(&self) -> bool {
        !self.resource_types.is_empty()
    }
    /// True when the action can be scoped to resource type `name`.
    pub(crate) fn accepts_type(&self, name: &str) -> bool {
        self.resource_types.iter().any(|r| r.name == name)
    }
}

/// One service of the catalog.
#[derive(Debug)]
pub struct Service {
    /// Display name (`Amazon S3`).
    pub name: String,
    actions: FastMap<String, Action>,
    resources: BTreeMap<String, Vec<ArnTemplate>>,
}

/// One action an overridden event needs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct OverrideAction {
    /// `prefix:Action`.
    pub action: String,
    /// Where the resource comes from when not the event's own.
    #[serde(default)]
    pub source: Option<ResourceSource>,
    /// Template variable -> requestParameters member to fill it from.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// Where an overridden action's resource comes from, when not the event's own (`source` in
/// `action-maps/overrides.json`; a value not listed here fails when the table loads).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceSource {
    /// The object named by `x-amz-copy-source` (CopyObject, UploadPartCopy).
    S3CopySource,
    /// Built from the request parameters with the ARN templates, ignoring `resources[]`.
    RequestParameters,
}

/// A reviewed entry of `action-maps/overrides.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Override {
    /// Actions the event needs; empty when it needs no permission.
    pub actions: Vec<OverrideAction>,
    /// Why, for reports.
    pub reason: String,
}

/// The catalog of IAM actions, resource types and CloudTrail mapping tables.
#[derive(Debug)]
pub struct ActionCatalog {
    services: FastMap<String, Service>,
    event_sources: FastMap<String, String>,
    operations: FastMap<String, HashSet<String>>,
    overrides: FastMap<String, Override>,
    passrole: FastMap<String, Vec<String>>,
    authorized: FastMap<String, Vec<AuthorizedAction>>,
    override_operations: FastMap<String, Vec<String>>,
    /// Which catalog this is among those the process built (never reused, renewed when its
    /// content changes): what the mapping memo is keyed by.
    instance: u64,
}

/// A number no catalog of this process had before.
fn new_instance() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub use super::authorized::{AuthorizedAction, Trigger};

#[derive(Deserialize)]
struct RawAuthorized {
    operations: HashMap<String, Vec<AuthorizedAction>>,
    #[serde(default)]
    override_operations: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawPassRole {
    passrole: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawCatalog {
    services: HashMap<String, RawService>,
}

#[derive(Deserialize)]
struct RawService {
    name: String,
    actions: HashMap<String, RawAction>,
    resources: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawAction {
    level: AccessLevel,
    resources: Vec<String>,
    #[serde(default)]
    dependent: Vec<String>,
    #[serde(default)]
    conditions: Vec<String>,
}

#[derive(Deserialize)]
struct RawSources {
    sources: HashMap<String, String>,
}

#[derive(Deserialize)]
struct RawOperations {
    operations: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawOverrides {
    overrides: HashMap<String, Override>,
}

impl ActionCatalog {
    /// The catalog embedded at build time from `action-maps/`.
    pub fn embedded() -> &'static ActionCatalog {
        static CATALOG: OnceLock<ActionCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            // The embedded files are checked by the build's own tests; a parse failure here is a
            // packaging bug, not a user error.
            ActionCatalog::from_json(CATALOG_JSON, EVENT_SOURCES_JSON, OPERATIONS_JSON, OVERRIDES_JSON)
                .and_then(|c| c.with_authorized(AUTHORIZED_JSON))
                .unwrap_or_else(|e| panic!("embedded action-maps are invalid: {e}"))
        })
    }

    /// Builds a catalog from the four `action-maps/` documents.
    pub fn from_json(
        catalog: &str,
        sources: &str,
        operations: &str,
        overrides: &str,
    ) -> Result<ActionCatalog, serde_json::Error> {
        let raw: RawCatalog = serde_json::from_str(catalog)?;
        let services = raw
            .services
            .into_iter()
            .map(|(prefix, s)| {
                let actions = s
                    .actions
                    .into_iter()
                    .map(|(name, a)| {
                        let resource_types = a
                            .resources
                            .into_iter()
                            .map(|r| match r.strip_suffix('*') {
                                Some(n) => ResourceTypeRef { name: n.to_string(), required: true },
                                None => ResourceTypeRef { name: r, required: false },
                            })
                            .collect();
                        let action = Action {
                            name: format!("{prefix}:{name}"),
                            level: a.level,
                            resource_types,
                            dependent: a.dependent,
                            conditions: a.conditions,
                        };
                        (name.to_ascii_lowercase(), action)
                    })
                    .collect();
                let resources = s
                    .resources
                    .into_iter()
                    .map(|(k, ts)| (k, ts.iter().map(|t| ArnTemplate::parse(t)).collect()))
                    .collect();
                (prefix, Service { name: s.name, actions, resources })
            })
            .collect();
        let event_sources = serde_json::from_str::<RawSources>(sources)?.sources;
        let operations = serde_json::from_str::<RawOperations>(operations)?
            .operations
            .into_iter()
            .map(|(p, ops)| (p, ops.into_iter().collect()))
            .collect();
        let overrides = serde_json::from_str::<RawOverrides>(overrides)?.overrides;
        let passrole = serde_json::from_str::<RawPassRole>(PASSROLE_JSON)?.passrole;
        Ok(ActionCatalog {
            services,
            event_sources: event_sources.into_iter().collect(),
            operations,
            overrides: overrides.into_iter().collect(),
            passrole: passrole.into_iter().collect(),
            authorized: FastMap::default(),
            override_operations: FastMap::default(),
            instance: new_instance(),
        })
    }

    /// This catalog's number among those the process built (see [`super::memo`]).
    pub(crate) fn instance(&self) -> u64 {
        self.instance
    }

    /// The service with IAM prefix `prefix`.
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(prefix)
    }

    /// Number of services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of actions over all services.
    pub fn action_count(&self) -> usize {
        self.services.values().map(|s| s.actions.len()).sum()
    }

    /// Looks up `prefix:name`, ignoring the case of the action name as IAM does.
    pub fn action(&self, prefix: &str, name: &str) -> Option<&Action> {
        let svc = self.services.get(prefix)?;
        // Actions are kept by their lowercased names: lowercased on the stack when short and
        // ASCII (every catalog action is), so a lookup allocates nothing.
        let mut buf = [0u8; 128];
        match buf.get_mut(..name.len()) {
            Some(b) if name.is_ascii() => {
                b.copy_from_slice(name.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b).ok().and_then(|lower| svc.actions.get(lower))
            }
            _ => svc.actions.get(&name.to_ascii_lowercase()),
        }
    }

    /// Looks up a full action name `prefix:Name`.
    pub fn action_by_name(&self, full: &str) -> Option<&Action> {
        let (prefix, name) = full.split_once(':')?;
        self.action(prefix, name)
    }

    /// Every service prefix, sorted.
    pub fn prefixes(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.services.keys().map(String::as_str).collect();
        p.sort_unstable();
        p
    }

    /// All actions of a service, in no particular order.
    pub(crate) fn actions_of(&self, prefix: &str) -> impl Iterator<Item = &Action> {
        self.services.get(prefix).into_iter().flat_map(|s| s.actions.values())
    }

    /// The ARN templates of resource type `rtype` of service `prefix`.
    pub fn templates(&self, prefix: &str, rtype: &str) -> &[ArnTemplate] {
        self.services.get(prefix).and_then(|s| s.resources.get(rtype)).map_or(&[], |v| v.as_slice())
    }

    /// The IAM prefix for a CloudTrail `eventSource`: the derived table first, then
    /// `<prefix>.amazonaws.com` when `<prefix>` is a catalog service.
    pub fn prefix_for_event_source<'a>(&'a self, event_source: &'a str) -> Option<&'a str> {
        if let Some(p) = self.event_sources.get(event_source) {
            return Some(p);
        }
        let p = event_source.strip_suffix(".amazonaws.com")?;
        self.services.contains_key(p).then_some(p)
    }

    /// The resource type of service `prefix` that `arn` is an instance of; when several
    /// templates match, the most specific (most literal characters) wins, so
    /// `arn:aws:s3:::b/k` is an `object`, not a `bucket`.
    pub(crate) fn classify_arn(&self, prefix: &str, arn: &str) -> Option<&str> {
        if std::ptr::eq(self, ActionCatalog::embedded()) {
            return classify_known(prefix, arn);
        }
        self.classify_uncached(prefix, arn)
    }

    /// [`ActionCatalog::classify_arn`], worked out.
    fn classify_uncached(&self, prefix: &str, arn: &str) -> Option<&str> {
        let svc = self.services.get(prefix)?;
        let mut best: Option<(&str, usize)> = None;
        let fields = crate::mapping::arn::arn_fields(arn);
        for (rtype, templates) in &svc.resources {
            for t in templates {
                if t.matches_fields(arn, fields.as_ref()) && best.is_none_or(|(_, s)| t.specificity() > s) {
                    best = Some((rtype.as_str(), t.specificity()));
                }
            }
        }
        best.map(|(r, _)| r)
    }

    /// True when AWS documents `name` as an API operation of service `prefix`.
    pub(crate) fn is_documented_operation(&self, prefix: &str, name: &str) -> bool {
        self.operations.get(prefix).is_some_and(|ops| ops.contains(name))
    }

    /// Adds the Service Reference's authorized actions (`action-maps/authorized-actions.json`).
    pub fn with_authorized(mut self, json: &str) -> Result<ActionCatalog, serde_json::Error> {
        let raw: RawAuthorized = serde_json::from_str(json)?;
        self.authorized = raw.operations.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        self.override_operations =
            raw.override_operations.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        self.instance = new_instance();
        Ok(self)
    }

    /// Every operation AWS documents, as (prefix, operation), sorted.
    pub fn documented_operations(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> =
            self.operations.iter().flat_map(|(p, ops)| ops.iter().map(move |o| (p.as_str(), o.as_str()))).collect();
        out.sort_unstable();
        out
    }

    /// An event source CloudTrail writes for `prefix` (the first in name order).
    pub fn event_source_for(&self, prefix: &str) -> Option<&str> {
        self.event_sources.iter().filter(|(_, p)| *p == prefix).map(|(s, _)| s.as_str()).min()
    }

    /// The actions the Service Reference says `prefix:operation` is authorized against, for an
    /// operation whose name is not an action (from the authorized-actions table, or the list kept
    /// beside an override); `None` when the table does not hold it.
    pub fn service_reference_actions(&self, prefix: &str, operation: &str) -> Option<Vec<&str>> {
        let key = format!("{prefix}:{operation}").to_ascii_lowercase();
        if let Some(entries) = self.authorized.get(&key) {
            return Some(entries.iter().map(|e| e.action.as_str()).collect());
        }
        self.override_operations.get(&key).map(|v| v.iter().map(String::as_str).collect())
    }

    /// The Service Reference's actions for `prefix:Operation` when the operation is not an action
    /// itself, with when each is granted.
    pub fn authorized_for(&self, prefix: &str, operation: &str) -> Option<&[AuthorizedAction]> {
        self.authorized.get(&format!("{prefix}:{operation}").to_ascii_lowercase()).map(Vec::as_slice)
    }

    /// All entries of the authorized-actions table, keyed `prefix:operation` (lowercase).
    pub fn authorized(&self) -> &FastMap<String, Vec<AuthorizedAction>> {
        &self.authorized
    }

    /// The reviewed override entry for `prefix:event_name`, if any.
    pub(crate) fn override_for(&self, prefix: &str, event_name: &str) -> Option<&Override> {
        with_joined_key(prefix, event_name, |key| self.overrides.get(key))
    }

    /// The request-parameter paths holding the role a call passes (`action-maps/passrole.json`),
    /// for `prefix:Operation`.
    pub(crate) fn passed_role_parameters(&self, prefix: &str, operation: &str) -> Option<&[String]> {
        with_joined_key(prefix, operation, |key| self.passrole.get(key)).map(Vec::as_slice)
    }

    /// All override entries, keyed `prefix:EventName`.
    pub fn overrides(&self) -> &FastMap<String, Override> {
        &self.overrides
    }
}

/// ARNs classified by the embedded catalog that a thread keeps the answer for.
const CLASSIFIED_KEPT: usize = 4096;
/// Slots of the hashes of ARNs classified per thread ([`KeptAnswers`]): the same bucket or table
/// is named again and again, an object or an item once.
const CLASSIFIED_SEEN_SLOTS: usize = 1 << 12;

/// Resource types of (prefix, ARN), as the embedded catalog classified them.
type Classified = KeptAnswers<(Box<str>, Box<str>), Option<&'static str>, CLASSIFIED_SEEN_SLOTS>;

thread_local! {
    static CLASSIFIED: std::cell::RefCell<Classified> = std::cell::RefCell::default();
}

/// [`ActionCatalog::classify_arn`] of the embedded catalog (which lives as long as the process,
/// so its answers can be kept): an ARN seen before is not classified again.
fn classify_known(prefix: &str, arn: &str) -> Option<&'static str> {
    use std::hash::BuildHasher;
    let catalog = ActionCatalog::embedded();
    let hash = foldhash::fast::FixedState::with_seed(0xc1a5_51f1).hash_one((prefix, arn));
    CLASSIFIED.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(&found) = c.find(hash, |(p, a)| **p == *prefix && **a == *arn) {
            return found;
        }
        let answer = catalog.classify_uncached(prefix, arn);
        if !c.seen_before(hash) {
            return answer;
        }
        if c.len() >= CLASSIFIED_KEPT {
            *c = Classified::default();
        }
        c.keep(hash, (prefix.into(), arn.into()), answer);
        answer
    })
}

/// Calls `f` with `prefix:name`, built on the stack when short (every record is looked up
/// twice or more: no allocation for it).
fn with_joined_key<T>(prefix: &str, name: &str, f: impl FnOnce(&str) -> T) -> T {
    let mut buf = [0u8; 160];
    let len = prefix.len() + 1 + name.len();
    if len > buf.len() {
        return f(&format!("{prefix}:{name}"));
    }
    buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
    buf[prefix.len()] = b':';
    buf[prefix.len() + 1..len].copy_from_slice(name.as_bytes());
    // Two UTF-8 strings joined by an ASCII byte are UTF-8.
    f(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static ActionCatalog {
        ActionCatalog::embedded()
    }

    #[test]
    fn an_arn_classified_again_gets_the_answer_it_got_worked_out() {
        // Every template of every service filled in, each ARN asked three times (worked out,
        // kept, then answered from what was kept), more ARNs than are kept, and the answers of
        // another service's prefix for each.
        let c = catalog();
        let mut asked = 0;
        for round in 0..2 {
            for (prefix, svc) in &c.services {
                for t in svc.resources.values().flatten() {
                    for value in ["x", "abc/def", &format!("v{round}")] {
                        let arn = t.fill(|v| Some(if v == "Partition" { "aws" } else { value })).unwrap_or_default();
                        for p in [prefix.as_str(), "s3"] {
                            let worked_out = c.classify_uncached(p, &arn);
                            for _ in 0..3 {
                                assert_eq!(c.classify_arn(p, &arn), worked_out, "{p} {arn}");
                            }
                            asked += 1;
                        }
                    }
                }
            }
        }
        assert!(asked > 2 * CLASSIFIED_KEPT, "{asked}");
    }

    #[test]
    fn a_template_matches_exactly_the_arns_its_pieces_match_whatever_its_prefilter_skips() {
        // Every template of every service, against ARNs of that service's templates filled in
        // (and cut short, lengthened, or with a resource part of another first letter) and
        // against ARNs of other services.
        let c = catalog();
        let fill = |t: &ArnTemplate, value: &str| {
            t.fill(|v| Some(if matches!(v, "Partition") { "aws" } else { value })).unwrap_or_default()
        };
        let foreign: Vec<String> =
            ["arn:aws:s3:::bucket/key", "arn:aws:dynamodb:us-east-1:1:table/t", "arn:aws:iam::1:role/r"]
                .map(String::from)
                .to_vec();
        let (mut checked, mut matched) = (0, 0);
        for svc in c.services.values() {
            let templates: Vec<&ArnTemplate> = svc.resources.values().flatten().collect();
            let mut arns = foreign.clone();
            for t in &templates {
                for value in ["x", "abc/def", "Zed:1", ""] {
                    let arn = fill(t, value);
                    arns.extend([arn.clone(), format!("{arn}x"), arn.replacen(":x", ":", 1), arn.replace("/x", "/Q")]);
                    if let Some((head, _)) = arn.rsplit_once(':') {
                        arns.push(format!("{head}:"));
                    }
                }
            }
            for t in &templates {
                for arn in &arns {
                    let by_pieces = t.matches_by_pieces(arn);
                    assert_eq!(t.matches(arn), by_pieces, "{t} against {arn}");
                    checked += 1;
                    matched += usize::from(by_pieces);
                }
            }
        }
        assert!(checked > 100_000 && matched > 1_000, "{checked} checked, {matched} matched");
    }

    #[test]
    fn an_override_source_that_is_not_known_fails_when_the_table_loads() {
        let ok: OverrideAction =
            serde_json::from_str(r#"{"action": "s3:GetObject", "source": "s3-copy-source"}"#).unwrap();
        assert_eq!(ok.source, Some(ResourceSource::S3CopySource));
        assert!(
            serde_json::from_str::<OverrideAction>(r#"{"action": "s3:GetObject", "source": "s3-copy-sorce"}"#).is_err()
        );
    }

    #[test]
    fn embedded_catalog_loads_with_expected_size() {
        let c = catalog();
        assert!(c.service_count() > 400, "{} services", c.service_count());
        assert!(c.action_count() > 20_000, "{} actions", c.action_count());
    }

    #[test]
    fn actions_are_found_case_insensitively_with_canonical_names() {
        let c = catalog();
        let a = c.action("s3", "getobject").unwrap();
        assert_eq!(a.name, "s3:GetObject");
        assert_eq!(a.level, AccessLevel::Read);
        assert!(a.accepts_type("object"));
        assert!(!a.accepts_type("bucket"));
        assert!(c.action("s3", "NoSuchAction").is_none());
        assert!(c.action("nosuchservice", "GetObject").is_none());
        assert_eq!(c.action_by_name("iam:PassRole").unwrap().level, AccessLevel::Write);
        assert!(!c.action("ec2", "DescribeInstances").unwrap().has_resources());
    }

    #[test]
    fn event_sources_resolve_including_documented_exceptions() {
        let c = catalog();
        for (source, prefix) in [
            ("s3.amazonaws.com", "s3"),
            ("monitoring.amazonaws.com", "cloudwatch"),
            ("pinpoint.amazonaws.com", "mobiletargeting"),
            ("streams.dynamodb.amazonaws.com", "dynamodb"),
            ("tagging.amazonaws.com", "tag"),
            ("rdsdata.amazonaws.com", "rds-data"),
            ("lambda.amazonaws.com", "lambda"),
        ] {
            assert_eq!(c.prefix_for_event_source(source), Some(prefix), "{source}");
        }
        assert_eq!(c.prefix_for_event_source("nothing.example.com"), None);
    }

    #[test]
    fn arns_classify_to_the_most_specific_type() {
        let c = catalog();
        assert_eq!(c.classify_arn("s3", "arn:aws:s3:::b/k"), Some("object"));
        assert!(std::ptr::eq(c, ActionCatalog::embedded()), "the kept answers are the ones tested here");
        assert_eq!(c.classify_arn("s3", "arn:aws:s3:::b"), Some("bucket"));
        assert_eq!(c.classify_arn("dynamodb", "arn:aws:dynamodb:us-east-1:1:table/t/index/i"), Some("index"));
        assert_eq!(c.classify_arn("dynamodb", "arn:aws:dynamodb:us-east-1:1:table/t"), Some("table"));
        assert_eq!(c.classify_arn("logs", "arn:aws:logs:us-east-1:1:log-group:/a/b:log-stream:s"), Some("log-stream"));
    }

    #[test]
    fn documented_operations_are_known() {
        let c = catalog();
        assert!(c.is_documented_operation("s3", "ListObjectsV2"));
        assert!(!c.is_documented_operation("iam", "NotCreateUser"));
    }
}
