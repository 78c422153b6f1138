//! What a role did: records read from a source, filtered to the role and window, mapped to
//! actions and aggregated. Every record read ends in exactly one count, so
//! `records_read = records_rejected + records_filtered + records_matched` and
//! `records_matched = records_mapped + records_denied + records_not_evidence + records_unmapped + records_no_permission`.
//! What could not be read is kept as [`Gap`]s: a run with any is incomplete.

pub mod completeness;
#[cfg(feature = "store")]
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ingest::event::Event;
use crate::ingest::source::{self, Discovery, Item, Location, Rejection};
use crate::mapping::evidence::{CountedErrors, Outcome};
use crate::mapping::mapper::{EventMapper, Mapping, Resolution};
use crate::select::warehouse::{call_shape, CallShape, Row};
use crate::select::{RoleFilter, TimeRange};
use crate::usage::completeness::{Gap, GapKind};

/// What to keep.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only sessions of this role (all principals when `None`).
    pub role: Option<RoleFilter>,
    /// Only this window.
    pub range: TimeRange,
    /// Error codes the user opted in as evidence (`--count-error`), beyond the reviewed table.
    pub counted_errors: CountedErrors,
    /// How much of one document and one record is read at most.
    pub limits: crate::ingest::source::ReadLimits,
}

/// Distinct principals counted in [`Usage::principals_seen`]; the rest are counted together.
pub const MAX_PRINCIPALS_SEEN: usize = 10_000;
/// Rejections listed one by one (the first in file and position order); the rest are counted in
/// [`Usage::rejections_not_listed`], so a file of ten million bad records takes no more memory
/// than one of a thousand.
pub const MAX_LISTED_REJECTIONS: usize = 1000;
/// Distinct keys kept in each map of log-derived names (denied, unmapped, no-permission and
/// not-evidence events, matched roles); more are counted under one overflow key.
pub const MAX_DISTINCT: usize = 10_000;
/// Distinct call contexts kept per action; more are counted as one context of unknown region,
/// endpoint and caller, which no condition can be derived from.
pub const MAX_CONTEXTS: usize = 1000;

/// The key beyond [`MAX_DISTINCT`] events.
fn overflow_event() -> EventKey {
    EventKey {
        source: "(more events)".into(),
        name: format!("(more than {MAX_DISTINCT} distinct names; counted together)"),
    }
}

/// Adds `n` to `key` in `map`, or to `overflow` when the map already holds [`MAX_DISTINCT`] keys.
fn add_bounded<K: Ord, V: std::ops::AddAssign<u64> + Default>(
    map: &mut BTreeMap<K, V>,
    key: K,
    n: u64,
    overflow: impl FnOnce() -> K,
) {
    if let Some(v) = map.get_mut(&key) {
        *v += n;
    } else if map.len() < MAX_DISTINCT {
        *map.entry(key).or_default() += n;
    } else {
        *map.entry(overflow()).or_default() += n;
    }
}
/// The key under which principals past [`MAX_PRINCIPALS_SEEN`] are counted.
pub const OTHER_PRINCIPALS: &str = "(other principals)";

/// Why matched-principal records were left out, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilteredCounts {
    /// Made by another principal.
    pub other_principal: u64,
    /// Outside the time window.
    pub outside_window: u64,
    /// Not a call made with the principal's permissions (`AwsServiceEvent`, `AwsConsoleSignIn`, ...).
    pub not_api_call: u64,
}

impl FilteredCounts {
    /// All filtered records.
    pub fn total(&self) -> u64 {
        self.other_principal + self.outside_window + self.not_api_call
    }
}

/// An eventSource/eventName pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventKey {
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub name: String,
}

/// How one action was used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionUsage {
    /// Resources it was used on (`*` for actions without resource-level permissions).
    pub resources: BTreeSet<String>,
    /// Calls that needed it.
    pub calls: u64,
    /// Calls whose resource could not be determined (the template with `*` was used).
    pub unresolved: u64,
    /// The events that needed it, with counts.
    #[serde(with = "pairs")]
    pub events: BTreeMap<EventKey, u64>,
    /// First and last time seen.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last time seen.
    pub last_seen: Option<DateTime<Utc>>,
    /// Why the action is needed although CloudTrail does not log it (implied permissions).
    pub implied_by: BTreeSet<String>,
    /// How the calls were made (region, VPC endpoint, calling service), with counts: the
    /// evidence for `--conditions`.
    #[serde(with = "pairs")]
    pub contexts: BTreeMap<CallContext, u64>,
}

/// Where and how a call was made, as CloudTrail records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CallContext {
    /// `awsRegion`.
    pub region: Option<String>,
    /// `vpcEndpointId`.
    pub vpc_endpoint: Option<String>,
    /// `userIdentity.invokedBy`, when a service made the call with the role's credentials.
    pub invoked_by: Option<String>,
}

impl CallContext {
    fn is(&self, region: Option<&str>, vpce: Option<&str>, invoked_by: Option<&str>) -> bool {
        self.region.as_deref() == region
            && self.vpc_endpoint.as_deref() == vpce
            && self.invoked_by.as_deref() == invoked_by
    }
}

/// A count with the reason that goes with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonedCount {
    /// Records.
    pub count: u64,
    /// Why (unmapped) or what was refused (denied: the actions the call needed, when known).
    pub detail: String,
}

/// A failed call that is not evidence: its error code and event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ErrorKey {
    /// `errorCode`.
    #[serde(rename = "errorCode")]
    pub code: String,
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub name: String,
}

/// The aggregate of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Files opened.
    pub files_read: u64,
    /// Files skipped without opening because of their delivery date.
    pub files_skipped_by_date: u64,
    /// Files in the directories given that are not logs.
    pub files_ignored: u64,
    /// Entries named like logs that were skipped: not regular files (FIFOs, devices, sockets),
    /// or files reached a second time through a link.
    #[serde(default)]
    pub files_not_regular: u64,
    /// Records read (each unreadable file counts as one).
    pub records_read: u64,
    /// Records that could not be used.
    pub records_rejected: u64,
    /// Records left out by the selection.
    pub filtered: FilteredCounts,
    /// Records of the role in the window.
    pub records_matched: u64,
    /// Matched records mapped to actions.
    pub records_mapped: u64,
    /// Matched records refused by authorization.
    pub records_denied: u64,
    /// Matched records of calls that failed before authorization, or with an error code not
    /// known to come after it: no evidence of a permission (see `action-maps/error-codes.json`).
    #[serde(default)]
    pub records_not_evidence: u64,
    /// Matched records that could not be mapped.
    pub records_unmapped: u64,
    /// Matched records of calls that need no permission.
    pub records_no_permission: u64,
    /// The first [`MAX_LISTED_REJECTIONS`] rejections, sorted by file and location.
    pub rejections: Vec<Rejection>,
    /// Rejections beyond those listed (counted, not kept).
    #[serde(default)]
    pub rejections_not_listed: u64,
    /// Action -> how it was used.
    pub actions: BTreeMap<String, ActionUsage>,
    /// Denied calls.
    #[serde(with = "pairs")]
    pub denied: BTreeMap<EventKey, ReasonedCount>,
    /// Calls that could not be mapped.
    #[serde(with = "pairs")]
    pub unmapped: BTreeMap<EventKey, ReasonedCount>,
    /// Calls that need no permission.
    #[serde(with = "pairs")]
    pub no_permission: BTreeMap<EventKey, ReasonedCount>,
    /// Failed calls not counted as evidence, by error code and event.
    #[serde(default, with = "pairs")]
    pub not_evidence: BTreeMap<ErrorKey, u64>,
    /// What could not be read, by kind and place.
    #[serde(default, with = "pairs")]
    pub gaps: BTreeMap<(GapKind, String), Gap>,
    /// Records of other principals, by principal (the role ARN of a session, else the
    /// principal's ARN or type): to say whose activity the logs hold when the role has none.
    #[serde(default, with = "pairs")]
    pub principals_seen: BTreeMap<String, u64>,
    /// Matched records by the ARN of the role whose session made them: a bare role name may match
    /// roles of several accounts.
    #[serde(default, with = "pairs")]
    pub matched_roles: BTreeMap<String, u64>,
    /// First matched event.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last matched event.
    pub last_seen: Option<DateTime<Utc>>,
}

/// Maps whose keys are structs, kept as lists of (key, value) pairs (JSON keys are strings).
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(m: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

fn min_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn add_reasoned(map: &mut BTreeMap<EventKey, ReasonedCount>, key: EventKey, count: u64, detail: &str) {
    let key = if map.len() >= MAX_DISTINCT && !map.contains_key(&key) { overflow_event() } else { key };
    let e = map.entry(key).or_default();
    e.count += count;
    if e.detail.is_empty() {
        e.detail = detail.to_string();
    }
}

impl Usage {
    /// Counts reconcile as documented on the module.
    pub fn reconciles(&self) -> bool {
        self.records_read == self.records_rejected + self.filtered.total() + self.records_matched
            && self.records_matched
                == self.records_mapped
                    + self.records_denied
                    + self.records_not_evidence
                    + self.records_unmapped
                    + self.records_no_permission
            && self.records_rejected == self.rejections.len() as u64 + self.rejections_not_listed
    }

    /// True when everything was read: no gap.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Records a gap a source found (a failed region, query, ...).
    pub fn add_gap(&mut self, gap: Gap) {
        match self.gaps.get_mut(&(gap.kind, gap.location.clone())) {
            Some(g) => g.absorb(&gap),
            None => {
                self.gaps.insert((gap.kind, gap.location.clone()), gap);
            }
        }
    }

    /// The gaps, in kind and place order.
    pub fn gap_list(&self) -> Vec<Gap> {
        self.gaps.values().cloned().collect()
    }

    /// True when at least one record could be read.
    pub fn anything_readable(&self) -> bool {
        self.records_read > self.records_rejected
    }

    /// Handles one item from a source.
    pub fn ingest(&mut self, file: &str, item: Item<'_>, selection: &Selection, mapper: &EventMapper<'_>) {
        self.ingest_weighted(file, item, 1, selection, mapper)
    }

    /// Handles one item that stands for `weight` (at least 1) records of the same shape (a row
    /// of an aggregating query: Athena, CloudTrail Lake); every count grows by `weight`, except
    /// that a rejected item counts as one record.
    pub fn ingest_weighted(
        &mut self,
        file: &str,
        item: Item<'_>,
        weight: u64,
        selection: &Selection,
        mapper: &EventMapper<'_>,
    ) {
        let weight = weight.max(1);
        self.records_read += weight;
        let (location, json) = match item {
            Item::Rejected(mut r) => {
                if r.file.is_empty() {
                    r.file = file.to_string();
                }
                return self.reject_n(r, weight);
            }
            Item::Record { location, json } => (location, json),
        };
        let reject = |reason: String| Rejection { file: file.to_string(), location, reason };
        let event = match Event::from_json(json) {
            Ok(e) => e,
            Err(e) => return self.reject_n(reject(describe_record_error(&e)), weight),
        };
        if let Some(role) = &selection.role {
            if !role.matches(&event) {
                self.filtered.other_principal += weight;
                self.count_principal(&event, weight);
                return;
            }
        }
        let time = match event.time() {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                return self.reject_n(
                    reject(format!(
                        "eventTime `{}` is not an RFC 3339 time ({e})",
                        event.event_time.as_deref().unwrap_or("")
                    )),
                    weight,
                )
            }
            None if selection.range.is_bounded() => {
                return self.reject_n(reject("no eventTime, so the date range cannot be applied".to_string()), weight)
            }
            None => None,
        };
        if let Some(t) = time {
            if !selection.range.contains(t) {
                self.filtered.outside_window += weight;
                return;
            }
        }
        if !event.is_principal_call() {
            self.filtered.not_api_call += weight;
            return;
        }
        // Parameters that cannot be read (nested deeper than the parser's limit) would map to a
        // resource template with `*`: the record is rejected instead, never widened.
        let params = match EventMapper::request_parameters(&event) {
            Ok(p) => p,
            Err(e) => {
                return self.reject_n(
                    reject(format!("requestParameters cannot be read ({e}): the record is not used")),
                    weight,
                )
            }
        };
        self.records_matched += weight;
        self.first_seen = min_time(self.first_seen, time);
        self.last_seen = max_time(self.last_seen, time);
        if let Some(arn) = event.issuer_role_arn() {
            match self.matched_roles.get_mut(arn.as_ref()) {
                Some(n) => *n += weight,
                None => add_bounded(&mut self.matched_roles, arn.into_owned(), weight, || "(more roles)".to_string()),
            }
        }
        let key = EventKey { source: event.event_source.to_string(), name: event.event_name.to_string() };

        match crate::mapping::evidence::outcome(
            event.error_code.as_deref(),
            event.error_message.as_deref(),
            &selection.counted_errors,
        ) {
            Outcome::Succeeded | Outcome::FailedAfterAuthorization(_) => {}
            Outcome::Denied => {
                self.records_denied += weight;
                let needed = match mapper.actions_for(&event.event_source, &event.event_name) {
                    Ok(actions) => actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                    Err(_) => String::new(),
                };
                return add_reasoned(&mut self.denied, key, weight, &needed);
            }
            Outcome::NotEvidence(code) => {
                self.records_not_evidence += weight;
                let k = ErrorKey { code: code.to_string(), source: key.source, name: key.name };
                add_bounded(&mut self.not_evidence, k, weight, || ErrorKey {
                    code: "(more codes)".into(),
                    source: overflow_event().source,
                    name: overflow_event().name,
                });
                return;
            }
        }
        // A call a service made with the role's permissions (SSE-KMS decrypts by S3, ...).
        let invoked_by = event.user_identity.invoked_by.as_deref().filter(|s| s.ends_with(".amazonaws.com"));
        let on_behalf = invoked_by.map(|svc| {
            format!("{} called by {svc} on the role's behalf, with the role's permissions", event.event_name)
        });
        let (region, vpce) = (event.aws_region.as_deref(), event.vpc_endpoint_id.as_deref().filter(|v| !v.is_empty()));
        match mapper.map_with(&event, &params) {
            Mapping::Actions(uses) => {
                self.records_mapped += weight;
                for mut u in uses {
                    if u.implied_by.is_none() {
                        u.implied_by = on_behalf.clone();
                    }
                    let a = self.actions.entry(u.action).or_default();
                    a.calls += weight;
                    a.unresolved += weight * u64::from(u.resolution == Resolution::Wildcard);
                    a.resources.extend(u.resources);
                    *a.events.entry(key.clone()).or_default() += weight;
                    a.first_seen = min_time(a.first_seen, time);
                    a.last_seen = max_time(a.last_seen, time);
                    a.implied_by.extend(u.implied_by);
                    // Few distinct contexts per action: a scan beats building an owned key per call.
                    let full = a.contexts.len() >= MAX_CONTEXTS;
                    match a.contexts.iter_mut().find(|(c, _)| c.is(region, vpce, invoked_by)) {
                        Some((_, n)) => *n += weight,
                        None if full => *a.contexts.entry(CallContext::default()).or_default() += weight,
                        None => {
                            let c = CallContext {
                                region: region.map(str::to_string),
                                vpc_endpoint: vpce.map(str::to_string),
                                invoked_by: invoked_by.map(str::to_string),
                            };
                            a.contexts.insert(c, weight);
                        }
                    }
                }
            }
            Mapping::NoPermission(reason) => {
                self.records_no_permission += weight;
                add_reasoned(&mut self.no_permission, key, weight, &reason);
            }
            Mapping::Unmapped(why) => {
                self.records_unmapped += weight;
                add_reasoned(&mut self.unmapped, key, weight, &why.reason());
            }
        }
    }

    /// Feeds result row `n` (1-based) of an aggregating query (`source`: Athena, CloudTrail Lake)
    /// to this usage: the record it stands for, weighted by its count (first and last time both
    /// seen); a row that does not decode is rejected, naming it.
    pub fn ingest_row(&mut self, source: &str, n: usize, row: &Row, selection: &Selection, mapper: &EventMapper<'_>) {
        let location = Location::ResultRow(n);
        match call_shape(row) {
            Ok(CallShape { record, calls, last: Some(last) }) => {
                self.ingest_weighted(source, Item::Record { location, json: &record }, calls - 1, selection, mapper);
                self.ingest_weighted(source, Item::Record { location, json: &last }, 1, selection, mapper);
            }
            Ok(CallShape { record, calls, last: None }) => {
                self.ingest_weighted(source, Item::Record { location, json: &record }, calls, selection, mapper)
            }
            Err(reason) => {
                let r = Rejection { file: source.to_string(), location, reason };
                self.ingest(source, Item::Rejected(r), selection, mapper)
            }
        }
    }

    fn reject(&mut self, r: Rejection) {
        self.records_rejected += 1;
        self.add_gap(Gap::of_rejection(&r));
        self.rejections.push(r);
        if self.rejections.len() >= 2 * MAX_LISTED_REJECTIONS {
            self.trim_rejections();
        }
    }

    /// Keeps the first [`MAX_LISTED_REJECTIONS`] rejections in (file, location) order and counts
    /// the rest; which are kept does not depend on how the work was split between threads.
    fn trim_rejections(&mut self) {
        self.rejections.sort();
        if self.rejections.len() > MAX_LISTED_REJECTIONS {
            self.rejections_not_listed += (self.rejections.len() - MAX_LISTED_REJECTIONS) as u64;
            self.rejections.truncate(MAX_LISTED_REJECTIONS);
        }
    }

    /// Counts a record of another principal under its role ARN (sessions), else its ARN or type.
    fn count_principal(&mut self, event: &Event<'_>, weight: u64) {
        let issuer = event.issuer_role_arn();
        let who: &str = match (&issuer, event.user_identity.arn.as_deref(), event.user_identity.kind.as_deref()) {
            (Some(role), _, _) => role,
            (None, Some(arn), _) => arn,
            (None, None, Some(kind)) => kind,
            (None, None, None) => "(no principal)",
        };
        if let Some(n) = self.principals_seen.get_mut(who) {
            *n += weight;
        } else if self.principals_seen.len() < MAX_PRINCIPALS_SEEN {
            self.principals_seen.insert(who.to_string(), weight);
        } else {
            *self.principals_seen.entry(OTHER_PRINCIPALS.to_string()).or_default() += weight;
        }
    }

    /// Rejects an item that stood for `weight` records: it is one record read and rejected
    /// (what it stood for is not known), so the counts still reconcile.
    fn reject_n(&mut self, r: Rejection, weight: u64) {
        self.records_read -= weight - 1;
        self.reject(r);
    }

    /// Adds another partial aggregate into this one.
    pub fn merge(mut self, other: Usage) -> Usage {
        self.files_read += other.files_read;
        self.files_skipped_by_date += other.files_skipped_by_date;
        self.files_ignored += other.files_ignored;
        self.files_not_regular += other.files_not_regular;
        self.records_read += other.records_read;
        self.records_rejected += other.records_rejected;
        self.filtered.other_principal += other.filtered.other_principal;
        self.filtered.outside_window += other.filtered.outside_window;
        self.filtered.not_api_call += other.filtered.not_api_call;
        self.records_matched += other.records_matched;
        self.records_mapped += other.records_mapped;
        self.records_denied += other.records_denied;
        self.records_not_evidence += other.records_not_evidence;
        self.records_unmapped += other.records_unmapped;
        self.records_no_permission += other.records_no_permission;
        self.rejections.extend(other.rejections);
        self.rejections_not_listed += other.rejections_not_listed;
        if self.rejections.len() >= 2 * MAX_LISTED_REJECTIONS {
            self.trim_rejections();
        }
        for (name, u) in other.actions {
            let a = self.actions.entry(name).or_default();
            a.resources.extend(u.resources);
            a.calls += u.calls;
            a.unresolved += u.unresolved;
            for (k, n) in u.events {
                *a.events.entry(k).or_default() += n;
            }
            a.first_seen = min_time(a.first_seen, u.first_seen);
            a.last_seen = max_time(a.last_seen, u.last_seen);
            a.implied_by.extend(u.implied_by);
            for (c, n) in u.contexts {
                let c = if a.contexts.len() >= MAX_CONTEXTS && !a.contexts.contains_key(&c) {
                    CallContext::default()
                } else {
                    c
                };
                *a.contexts.entry(c).or_default() += n;
            }
        }
        for (target, src) in [
            (&mut self.denied, other.denied),
            (&mut self.unmapped, other.unmapped),
            (&mut self.no_permission, other.no_permission),
        ] {
            for (k, v) in src {
                add_reasoned(target, k, v.count, &v.detail);
            }
        }
        for (k, n) in other.not_evidence {
            add_bounded(&mut self.not_evidence, k, n, || ErrorKey {
                code: "(more codes)".into(),
                source: overflow_event().source,
                name: overflow_event().name,
            });
        }
        for (_, g) in other.gaps {
            self.add_gap(g);
        }
        for (p, n) in other.principals_seen {
            if let Some(m) = self.principals_seen.get_mut(&p) {
                *m += n;
            } else if self.principals_seen.len() < MAX_PRINCIPALS_SEEN {
                self.principals_seen.insert(p, n);
            } else {
                *self.principals_seen.entry(OTHER_PRINCIPALS.to_string()).or_default() += n;
            }
        }
        for (r, n) in other.matched_roles {
            add_bounded(&mut self.matched_roles, r, n, || "(more roles)".to_string());
        }
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = max_time(self.last_seen, other.last_seen);
        self
    }

    /// Sorts what order-dependent parts there are, so results do not depend on thread timing.
    pub fn finish(mut self) -> Usage {
        self.trim_rejections();
        self
    }
}

/// Makes serde's message for a record that is valid JSON but not a CloudTrail record read well.
pub fn describe_record_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if let Some(field) = msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        return format!("not a CloudTrail record: missing `{field}`");
    }
    if e.is_syntax() || e.is_eof() {
        return format!("invalid JSON ({msg})");
    }
    format!("not a CloudTrail record ({msg})")
}

/// Reads the files found by [`source::discover`] (in parallel, one file per task) and
/// aggregates what the selection keeps. `progress` is called after each file with the number
/// of files done.
pub fn collect_local(
    found: Discovery,
    selection: &Selection,
    mapper: &EventMapper<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Usage {
    let done = std::sync::atomic::AtomicU64::new(0);
    // One aggregate per rayon split (not per file), merged at the end: few partial copies of
    // the role's resource sets are alive at once.
    let mut usage = found
        .files
        .par_iter()
        .fold(Usage::default, |mut u, path| {
            u.files_read += 1;
            let name = path.display().to_string();
            source::read_file_with(path, &selection.limits, &mut |item| u.ingest(&name, item, selection, mapper));
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            u
        })
        .reduce(Usage::default, Usage::merge);
    usage.files_skipped_by_date += found.skipped_by_date as u64;
    usage.files_ignored += found.ignored as u64;
    usage.files_not_regular += found.not_regular as u64;
    for r in found.errors {
        usage.records_read += 1;
        usage.reject(r);
    }
    usage.finish()
}
