//! What a role did: records read from a source, filtered to the role and window, mapped to
//! actions and aggregated. Every record read ends in exactly one count, so
//! `records_read = records_rejected + records_filtered + records_matched` and
//! `records_matched = records_mapped + records_denied + records_not_evidence + records_unmapped + records_no_permission`.
//! What could not be read is kept as [`Gap`]s: a run with any is incomplete.

pub mod completeness;
mod ingest;
pub mod last_accessed;
mod merge;
#[cfg(feature = "store")]
pub mod store;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ingest::source::{self, Discovery, Rejection};
use crate::mapping::evidence::CountedErrors;
use crate::mapping::mapper::EventMapper;
use crate::select::{PrincipalFilter, TimeRange};
use crate::usage::completeness::{Gap, GapKind};

/// What to keep.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only sessions of this role (all principals when `None`).
    pub principal: Option<PrincipalFilter>,
    /// Only this window.
    pub range: TimeRange,
    /// Error codes the user opted in as evidence (`--count-error`), beyond the reviewed table.
    pub counted_errors: CountedErrors,
    /// How much of one document and one record is read at most.
    pub limits: crate::ingest::source::ReadLimits,
    /// Keep the matched records apart per workload (`--split-by`), in [`Usage::groups`].
    pub split_by: Option<crate::select::SplitBy>,
}

/// Workload groups kept apart by `--split-by`; the calls of further groups are counted in one
/// more ([`crate::select::SplitBy::max_groups`] says it per kind of split).
pub const MAX_GROUPS: usize = 100;
/// The group the calls past [`MAX_GROUPS`] groups are counted in.
pub const OTHER_GROUPS: &str = "(other groups)";

/// Distinct principals counted in [`Usage::principals_seen`]; the rest are counted together.
pub const MAX_PRINCIPALS_SEEN: usize = MAX_DISTINCT;
/// Rejections listed one by one (the first in file and position order); the rest are counted in
/// [`Usage::rejections_not_listed`], so a file of ten million bad records takes no more memory
/// than one of a thousand.
pub const MAX_LISTED_REJECTIONS: usize = 1000;
/// Distinct keys kept in each map of log-derived names (denied, unmapped, no-permission and
/// not-evidence events, matched roles); more are counted under one overflow key.
pub(crate) const MAX_DISTINCT: usize = 10_000;
/// Mapped calls a usage notes it holds ([`Usage::calls_absorbed`]); past that the notes start
/// over (what a call adds is then added again, which its sets keep once).
pub(crate) const MAX_ABSORBED_CALLS: usize = 1 << 16;
/// Distinct call contexts kept per action; more are counted as one context of unknown region,
/// endpoint and caller, which no condition can be derived from.
pub(crate) const MAX_CONTEXTS: usize = 1000;

/// The key beyond [`MAX_DISTINCT`] events.
pub(crate) fn overflow_event() -> EventKey {
    EventKey {
        source: "(more events)".into(),
        name: format!("(more than {MAX_DISTINCT} distinct names; counted together)"),
    }
}

/// Adds `n` to `key` in `map`, or to `overflow` when the map already holds [`MAX_DISTINCT`] keys.
pub(crate) fn add_bounded<K: Ord, V: std::ops::AddAssign<u64> + Default>(
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
pub(crate) const OTHER_PRINCIPALS: &str = "(other principals)";

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
    pub(crate) fn total(&self) -> u64 {
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
    /// Records of the call (weighted, for aggregated query rows).
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

/// The counts of a run, which reconcile: files, and records read = rejected + filtered +
/// matched, matched = mapped + denied + not evidence + unmapped + needing no permission. Kept in
/// the aggregate ([`Usage::counts`]) and written as they are in the run report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
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
}

impl Counts {
    /// Read = rejected + filtered + matched, and matched = mapped + denied + not evidence +
    /// unmapped + needing no permission.
    pub fn reconcile(&self) -> bool {
        self.records_read == self.records_rejected + self.filtered.total() + self.records_matched
            && self.records_matched
                == self.records_mapped
                    + self.records_denied
                    + self.records_not_evidence
                    + self.records_unmapped
                    + self.records_no_permission
    }

    /// Adds `other`'s counts to these.
    pub(crate) fn add(&mut self, other: &Counts) {
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
    }
}

/// The aggregate of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Files and records, reconciled.
    #[serde(flatten)]
    pub counts: Counts,
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
    /// Permissions calls needed on a resource the event does not name (an instance profile's
    /// role): not granted, with the reason.
    #[serde(default, with = "pairs")]
    pub needed_unresolved: BTreeMap<EventKey, ReasonedCount>,
    /// Instance profiles (name or ARN) whose role a call passed without naming it, with the calls
    /// and events: resolved to their roles through IAM when reading from AWS
    /// ([`Usage::resolve_instance_profile`]), else left in `needed_unresolved`.
    #[serde(default)]
    pub instance_profiles: BTreeMap<String, ActionUsage>,
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
    /// With `--split-by`: the matched records of each group, each a usage of its own (its
    /// records read are its records matched); this usage then keeps only the records that were
    /// not matched. [`Usage::unsplit`] puts them back together.
    #[serde(skip)]
    pub groups: BTreeMap<String, Usage>,
    /// How many groups are kept apart ([`crate::select::SplitBy::max_groups`]; 0 before any).
    #[serde(skip)]
    pub(crate) group_limit: usize,
    /// The mapped calls ([`crate::mapping::memo::MappedCall::id`]) whose resources this usage
    /// holds: a record of one of them adds only its counts.
    #[serde(skip)]
    pub(crate) calls_absorbed: std::collections::HashSet<u64, foldhash::fast::FixedState>,
    /// First matched event.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last matched event.
    pub last_seen: Option<DateTime<Utc>>,
}

/// `usage.records_read` reads `usage.counts.records_read`, as in earlier versions where the
/// counts were fields of the aggregate.
impl std::ops::Deref for Usage {
    type Target = Counts;
    fn deref(&self) -> &Counts {
        &self.counts
    }
}

/// Maps whose keys are structs, kept as lists of (key, value) pairs (JSON keys are strings).
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub(crate) fn deserialize<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

pub(crate) fn min_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

pub(crate) fn max_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

pub(crate) fn add_reasoned(map: &mut BTreeMap<EventKey, ReasonedCount>, key: EventKey, count: u64, detail: &str) {
    let key = if map.len() >= MAX_DISTINCT && !map.contains_key(&key) { overflow_event() } else { key };
    let e = map.entry(key).or_default();
    e.count += count;
    if e.detail.is_empty() {
        e.detail = detail.to_string();
    }
}

impl Usage {
    /// The usage of the whole run: the groups of a `--split-by` run merged back.
    pub fn unsplit(mut self) -> Usage {
        let groups = std::mem::take(&mut self.groups);
        groups.into_values().fold(self, |all, g| all.merge(g))
    }

    /// Records read, those counted in the groups of a `--split-by` run included.
    pub fn records_read_with_groups(&self) -> u64 {
        self.counts.records_read + self.groups.values().map(|g| g.counts.records_read).sum::<u64>()
    }

    /// The groups of a `--split-by` run, each with the gaps of the whole read (a gap in the
    /// read makes every group's usage incomplete). A group is lent as it is when the read had
    /// no gap, and copied with the read's gaps added when it had.
    pub fn split_groups(&self) -> Vec<(String, Cow<'_, Usage>)> {
        self.groups
            .iter()
            .map(|(k, g)| {
                if self.gaps.is_empty() {
                    return (k.clone(), Cow::Borrowed(g));
                }
                let mut g = g.clone();
                for gap in self.gaps.values() {
                    g.add_gap(gap.clone());
                }
                (k.clone(), Cow::Owned(g))
            })
            .collect()
    }

    /// The partition of the principals matched (from their ARNs; `aws` when none says one
    /// iamtrim knows): where IAM is asked about them.
    pub fn partition(&self) -> &'static str {
        self.matched_roles
            .keys()
            .filter_map(|arn| crate::mapping::arn::Arn::parse(arn))
            .find_map(|a| crate::mapping::arn::Partition::named(a.partition))
            .map_or("aws", |p| p.name)
    }

    /// Counts reconcile as documented on the module.
    pub fn reconciles(&self) -> bool {
        self.counts.reconcile()
            && self.counts.records_rejected == self.rejections.len() as u64 + self.rejections_not_listed
    }

    /// True when everything was read: no gap.
    pub(crate) fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Records a gap a source found (a failed region, query, ...).
    pub(crate) fn add_gap(&mut self, gap: Gap) {
        match self.gaps.get_mut(&(gap.kind, gap.location.clone())) {
            Some(g) => g.absorb(&gap),
            None => {
                self.gaps.insert((gap.kind, gap.location.clone()), gap);
            }
        }
    }

    /// The gaps, in kind and place order.
    pub(crate) fn gap_list(&self) -> Vec<Gap> {
        self.gaps.values().cloned().collect()
    }

    /// True when at least one record could be read.
    pub(crate) fn anything_readable(&self) -> bool {
        self.counts.records_read > self.counts.records_rejected
    }

    /// Sorts what order-dependent parts there are, so results do not depend on thread timing.
    pub fn finish(mut self) -> Usage {
        self.trim_rejections();
        self
    }
}

/// Makes serde's message for a record that is valid JSON but not a CloudTrail record read well.
pub(crate) fn describe_record_error(e: &serde_json::Error) -> source::RejectReason {
    let msg = e.to_string();
    source::RejectReason::NotARecord(
        if let Some(field) = msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            format!("not a CloudTrail record: missing `{field}`")
        } else if e.is_syntax() || e.is_eof() {
            format!("invalid JSON ({msg})")
        } else {
            format!("not a CloudTrail record ({msg})")
        },
    )
}

/// How far a read of local files is: files done, records read, and (for a read kept apart by
/// workload, the audit's per principal) how many groups were seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadProgress {
    /// Files read.
    pub files: u64,
    /// Records read in them.
    pub records: u64,
    /// Distinct groups (principals, for the audit) seen so far.
    pub groups: u64,
}

/// Reads the files found by [`source::discover`] (in parallel, one file per task) and
/// aggregates what the selection keeps. `progress` is called after each file.
pub(crate) fn collect_local(
    found: Discovery,
    selection: &Selection,
    mapper: &EventMapper<'_>,
    progress: &(dyn Fn(ReadProgress) + Sync),
) -> Usage {
    use std::sync::atomic::{AtomicU64, Ordering};
    let (done, records) = (AtomicU64::new(0), AtomicU64::new(0));
    let groups_seen = std::sync::Mutex::new(std::collections::HashSet::<String>::new());
    // One aggregate per thread at work (not per file, nor per rayon split), merged at the end:
    // a file is read into an aggregate no other file is being read into at the time, taken
    // from a pool and given back, so the pool holds about one per thread and few partial copies
    // of the resource sets are ever merged. Each aggregate remembers how many records and
    // groups it had already reported, so the shared counters add only what is new.
    let pool = std::sync::Mutex::new(Vec::<(Usage, u64, usize)>::new());
    let lock = || pool.lock().unwrap_or_else(|e| e.into_inner());
    found.files.par_iter().for_each(|path| {
        let (mut u, reported_records, reported_groups) = lock().pop().unwrap_or_default();
        u.counts.files_read += 1;
        let name = path.display().to_string();
        source::read_file_batched(path, &selection.limits, &mut |d| u.ingest_delivered(&name, d, selection, mapper));
        let read = u.records_read_with_groups();
        let all = records.fetch_add(read - reported_records, Ordering::Relaxed) + read - reported_records;
        let groups = if u.groups.len() != reported_groups {
            let mut seen = groups_seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.extend(u.groups.keys().cloned());
            seen.len()
        } else {
            groups_seen.lock().map(|s| s.len()).unwrap_or(0)
        };
        let files = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress(ReadProgress { files, records: all, groups: groups as u64 });
        let g = u.groups.len();
        lock().push((u, read, g));
    });
    let aggregates = pool.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut usage = aggregates.into_iter().map(|(u, _, _)| u).reduce(Usage::merge).unwrap_or_default();
    usage.counts.files_skipped_by_date += found.skipped_by_date as u64;
    usage.counts.files_ignored += found.ignored as u64;
    usage.counts.files_not_regular += found.not_regular as u64;
    for r in found.errors {
        usage.counts.records_read += 1;
        usage.reject(r);
    }
    usage.finish()
}
