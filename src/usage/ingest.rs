//! Taking in one record (or one row of an aggregating query): parse it, admit it by principal,
//! window and event type, classify its outcome, map it, and count it in exactly one place.

use std::rc::Rc;

use crate::ingest::event::Event;
use crate::ingest::source::{Delivered, Item, Location, RejectReason, Rejection};
use crate::mapping::evidence::Outcome;
use crate::mapping::mapper::{Call, EventMapper, Mapping, Resolution};
use crate::mapping::memo::MappedCall;
use crate::select::warehouse::{call_shape, CallShape, Row};
use crate::select::Admission;
use crate::usage::completeness::Gap;

use super::*;

impl Usage {
    /// Handles one item from a source.
    pub fn ingest(&mut self, file: &str, item: Item<'_>, selection: &Selection, mapper: &EventMapper<'_>) {
        self.ingest_weighted(file, item, 1, selection, mapper)
    }

    /// Handles what a batched reader delivered ([`Delivered`]): the records of a batch are all
    /// parsed before any is mapped, so the parser's code and the mapper's each stay in the
    /// instruction cache while they run (an audit maps every record it reads).
    pub fn ingest_delivered(
        &mut self,
        file: &str,
        delivered: Delivered<'_>,
        selection: &Selection,
        mapper: &EventMapper<'_>,
    ) {
        match delivered {
            Delivered::One(item) => self.ingest(file, item, selection, mapper),
            Delivered::Records(records) => {
                // Parsed and admitted, then mapped, then counted: each stage for the whole batch.
                let mut staged: Vec<_> = records.iter().map(|(_, json)| stage(json, selection)).collect();
                for (event, admission, mapped) in staged.iter_mut().flatten() {
                    if matches!(admission, Admission::Admitted(_)) {
                        *mapped = Some(mapper.map_memoized(&Call::of(event)));
                    }
                }
                for (&(location, _), staged) in records.iter().zip(staged) {
                    self.counts.records_read += 1;
                    self.ingest_staged(file, location, staged, 1, selection, mapper);
                }
            }
        }
    }

    /// Handles one item that stands for `weight` (at least 1) records of the same shape (a row
    /// of an aggregating query: Athena, CloudTrail Lake); every count grows by `weight`, except
    /// that a rejected item counts as one record.
    pub(crate) fn ingest_weighted(
        &mut self,
        file: &str,
        item: Item<'_>,
        weight: u64,
        selection: &Selection,
        mapper: &EventMapper<'_>,
    ) {
        let weight = weight.max(1);
        self.counts.records_read += weight;
        let (location, json) = match item {
            Item::Rejected(mut r) => {
                if r.file.is_empty() {
                    r.file = file.to_string();
                }
                return self.reject_n(r, weight);
            }
            Item::Record { location, json } => (location, json),
            Item::NotALog(_) => {
                self.counts.records_read -= weight;
                self.counts.files_read = self.counts.files_read.saturating_sub(1);
                self.counts.files_ignored += 1;
                return;
            }
        };
        self.ingest_staged(file, location, stage(json, selection), weight, selection, mapper)
    }

    /// Takes in a record parsed (or not), with its admission and, when admitted, its mapping
    /// if it was made already; `records_read` is counted by the caller.
    fn ingest_staged(
        &mut self,
        file: &str,
        location: Location,
        staged: Staged<'_>,
        weight: u64,
        selection: &Selection,
        mapper: &EventMapper<'_>,
    ) {
        let reject = |reason: RejectReason| Rejection { file: file.to_string(), location, reason };
        let (event, admission, mapped) = match staged {
            Ok(s) => s,
            Err(e) => return self.reject_n(reject(describe_record_error(&e)), weight),
        };
        let time = match admission {
            Admission::Admitted(time) => time,
            Admission::OtherPrincipal => {
                self.counts.filtered.other_principal += weight;
                self.count_principal(&event, weight);
                return;
            }
            Admission::OutsideWindow => {
                self.counts.filtered.outside_window += weight;
                return;
            }
            Admission::NotApiCall => {
                self.counts.filtered.not_api_call += weight;
                return;
            }
            Admission::Rejected(reason) => return self.reject_n(reject(reason), weight),
        };
        if let Some(by) = selection.split_by {
            // The matched record is counted in its group (read there, not here).
            let key = by.group_of(&event);
            self.group_limit = by.max_groups();
            self.counts.records_read -= weight;
            let mut new = false;
            let group = match self.groups.get_mut(key.as_ref()) {
                Some(g) => g,
                None => {
                    new = true;
                    self.groups.entry(key.into_owned()).or_default()
                }
            };
            group.counts.records_read += weight;
            group.ingest_admitted(file, location, &event, time, mapped, weight, selection, mapper);
            if new {
                self.trim_groups();
            }
            return;
        }
        self.ingest_admitted(file, location, &event, time, mapped, weight, selection, mapper)
    }

    /// Takes in a record admitted to the run: maps it and counts it in exactly one place.
    #[allow(clippy::too_many_arguments)]
    fn ingest_admitted(
        &mut self,
        file: &str,
        location: Location,
        event: &Event<'_>,
        time: Option<chrono::DateTime<chrono::Utc>>,
        mapped: Option<Rc<MappedCall>>,
        weight: u64,
        selection: &Selection,
        mapper: &EventMapper<'_>,
    ) {
        let reject = |reason: RejectReason| Rejection { file: file.to_string(), location, reason };
        // Parameters that cannot be read (nested deeper than the parser's limit) would map to a
        // resource template with `*`: the record is rejected instead, never widened.
        let mut mapped = mapped.unwrap_or_else(|| mapper.map_memoized(&Call::of(event)));
        // An answer no other record holds (a call the memo did not keep) gives up its resolved
        // resources instead of having them copied.
        let mut given = Rc::get_mut(&mut mapped).and_then(|m| match &mut m.answer {
            Ok(Mapping::Actions(uses)) => Some(
                uses.iter_mut()
                    .map(|u| {
                        if u.resolution == Resolution::Unresolved {
                            None
                        } else {
                            Some(std::mem::take(&mut u.resources))
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        });
        let mapping = match &mapped.answer {
            Ok(m) => m,
            Err(e) => {
                return self.reject_n(
                    reject(RejectReason::Unusable(format!(
                        "requestParameters cannot be read ({e}): the record is not used"
                    ))),
                    weight,
                )
            }
        };
        self.counts.records_matched += weight;
        self.first_seen = min_time(self.first_seen, time);
        self.last_seen = max_time(self.last_seen, time);
        if let Some(arn) = crate::select::principal::principal_arn(event) {
            match self.matched_roles.get_mut(arn.as_ref()) {
                Some(n) => *n += weight,
                None => add_bounded(&mut self.matched_roles, arn.into_owned(), weight, || "(more roles)".to_string()),
            }
        }
        let (source, name) = (event.event_source.as_ref(), event.event_name.as_ref());
        let key = || EventKey { source: source.to_string(), name: name.to_string() };

        match crate::mapping::evidence::outcome(
            event.error_code.as_deref(),
            event.error_message.as_deref(),
            &selection.counted_errors,
        ) {
            Outcome::Succeeded | Outcome::FailedAfterAuthorization(_) => {}
            Outcome::Denied => {
                self.counts.records_denied += weight;
                let needed = match mapper.actions_for(&event.event_source, &event.event_name) {
                    Ok(actions) => actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                    Err(_) => String::new(),
                };
                return add_reasoned(&mut self.denied, key(), weight, &needed);
            }
            Outcome::NotEvidence(code) => {
                self.counts.records_not_evidence += weight;
                let k = ErrorKey { code: code.to_string(), source: source.to_string(), name: name.to_string() };
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
        match mapping {
            Mapping::Actions(uses) => {
                self.counts.records_mapped += weight;
                // What an earlier record of the same call added (its resources, why it was
                // needed) this one would add again: only its counts are taken.
                let first_of_call = mapped.id.is_none_or(|id| self.absorb_call(id));
                for (i, u) in uses.iter().enumerate() {
                    if u.resolution == Resolution::Unresolved {
                        let why = format!("{}: {}", u.action, u.implied_by.as_deref().unwrap_or(""));
                        add_reasoned(&mut self.needed_unresolved, key(), weight, &why);
                        if u.action == "iam:PassRole" && self.instance_profiles.len() < crate::usage::MAX_DISTINCT {
                            for profile in &u.resources {
                                let p = self.instance_profiles.entry(profile.clone()).or_default();
                                p.calls += weight;
                                *p.events.entry(key()).or_default() += weight;
                                p.first_seen = min_time(p.first_seen, time);
                                p.last_seen = max_time(p.last_seen, time);
                                p.implied_by.extend(u.implied_by.clone());
                            }
                        }
                        continue;
                    }
                    let a = match self.actions.get_mut(u.action.as_str()) {
                        Some(a) => a,
                        None => self.actions.entry(u.action.clone()).or_default(),
                    };
                    a.calls += weight;
                    a.unresolved += weight * u64::from(u.resolution == Resolution::Wildcard);
                    if first_of_call {
                        match given.as_mut().and_then(|g| g[i].take()) {
                            Some(resources) => a.resources.extend(resources),
                            None => a.resources.extend(u.resources.iter().cloned()),
                        }
                    }
                    // Few distinct events per action: found by a scan, a key built only for a new one.
                    match a.events.iter_mut().find(|(k, _)| k.source == source && k.name == name) {
                        Some((_, n)) => *n += weight,
                        None => {
                            a.events.insert(key(), weight);
                        }
                    }
                    a.first_seen = min_time(a.first_seen, time);
                    a.last_seen = max_time(a.last_seen, time);
                    // Why the call needed it: the mapping's reason (the same for every record of
                    // the call), else the service that made the call on the role's behalf.
                    match (&u.implied_by, &on_behalf) {
                        (Some(why), _) if first_of_call => insert_new(&mut a.implied_by, why),
                        (None, Some(why)) => insert_new(&mut a.implied_by, why),
                        _ => {}
                    }
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
                self.counts.records_no_permission += weight;
                add_reasoned(&mut self.no_permission, key(), weight, reason);
            }
            Mapping::Unmapped(why) => {
                self.counts.records_unmapped += weight;
                add_reasoned(&mut self.unmapped, key(), weight, &why.reason());
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
                let r = Rejection { file: source.to_string(), location, reason: RejectReason::NotARecord(reason) };
                self.ingest(source, Item::Rejected(r), selection, mapper)
            }
        }
    }

    pub(super) fn reject(&mut self, r: Rejection) {
        self.counts.records_rejected += 1;
        self.add_gap(Gap::of_rejection(&r));
        self.rejections.push(r);
        if self.rejections.len() >= 2 * MAX_LISTED_REJECTIONS {
            self.trim_rejections();
        }
    }

    /// Keeps the first [`MAX_LISTED_REJECTIONS`] rejections in (file, location) order and counts
    /// the rest; which are kept does not depend on how the work was split between threads.
    pub(super) fn trim_rejections(&mut self) {
        self.rejections.sort();
        if self.rejections.len() > MAX_LISTED_REJECTIONS {
            self.rejections_not_listed += (self.rejections.len() - MAX_LISTED_REJECTIONS) as u64;
            self.rejections.truncate(MAX_LISTED_REJECTIONS);
        }
    }

    /// Counts a record of another principal under its role ARN (sessions), else its ARN or type.
    pub(super) fn count_principal(&mut self, event: &Event<'_>, weight: u64) {
        let principal = crate::select::principal::principal_arn(event);
        let who: &str = match (&principal, event.user_identity.kind.as_deref()) {
            (Some(arn), _) => arn,
            (None, Some(kind)) => kind,
            (None, None) => "(no principal)",
        };
        // Most records are of a principal seen already: no key is built for them.
        match self.principals_seen.get_mut(who) {
            Some(n) => *n += weight,
            None => add_bounded(&mut self.principals_seen, who.to_string(), weight, || OTHER_PRINCIPALS.to_string()),
        }
    }

    /// Rejects an item that stood for `weight` records: it is one record read and rejected
    /// (what it stood for is not known), so the counts still reconcile.
    pub(super) fn reject_n(&mut self, r: Rejection, weight: u64) {
        self.counts.records_read -= weight - 1;
        self.reject(r);
    }

    /// Notes that this usage holds what mapped call `id` adds; true when it did not before (at
    /// most [`MAX_ABSORBED_CALLS`] are noted).
    fn absorb_call(&mut self, id: u64) -> bool {
        if self.calls_absorbed.len() >= MAX_ABSORBED_CALLS {
            self.calls_absorbed.clear();
        }
        self.calls_absorbed.insert(id)
    }
}

/// A record parsed (or why it cannot be), with its admission; its mapping is added later, when
/// it is admitted.
type Staged<'a> = Result<(Event<'a>, Admission, Option<Rc<MappedCall>>), serde_json::Error>;

/// Parses and admits one record.
fn stage<'a>(json: &'a str, selection: &Selection) -> Staged<'a> {
    Event::from_json(json).map(|event| {
        let admission = crate::select::admit(selection.principal.as_ref(), &selection.range, &event);
        (event, admission, None)
    })
}

/// Adds `s` to `set` unless it is there (cloned only then).
fn insert_new(set: &mut std::collections::BTreeSet<String>, s: &str) {
    if !set.contains(s) {
        set.insert(s.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::source::{read_reader, read_stream, ReadLimits};
    use crate::mapping::catalog::ActionCatalog;

    /// A trail document of `n` records of three roles (every seventh refused, every eleventh
    /// outside an API call, one not UTF-8 and one whose time is not a time).
    fn document(n: usize) -> Vec<u8> {
        let mut doc = b"{\"Records\":[".to_vec();
        for i in 0..n {
            if i > 0 {
                doc.push(b',');
            }
            let role = format!("app-{}", i % 3);
            let error = if i % 7 == 0 { r#","errorCode":"AccessDenied""# } else { "" };
            let kind = if i % 11 == 0 { "AwsServiceEvent" } else { "AwsApiCall" };
            let time = if i == 40 { "yesterday" } else { "2026-10-01T12:00:00Z" };
            doc.extend_from_slice(
                format!(
                    r#"{{"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventType":"{kind}","awsRegion":"us-east-1","recipientAccountId":"123456789012","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/{role}/s","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::123456789012:role/{role}"}}}}}},"requestParameters":{{"bucketName":"b","key":"k/{}"}}{error}}}"#,
                    i % 5
                )
                .as_bytes(),
            );
            if i == 90 {
                doc.truncate(doc.len() - 1);
                doc.extend_from_slice(&[b',', b'"', b'x', b'"', b':', b'"', 0xff, b'"', b'}']);
            }
        }
        doc.extend_from_slice(b"]}");
        doc
    }

    #[test]
    fn records_taken_in_a_batch_at_a_time_make_the_aggregate_taken_one_by_one() {
        let mapper = EventMapper::new(ActionCatalog::embedded());
        for selection in [
            Selection::default(),
            Selection { split_by: Some(crate::select::SplitBy::Principal), ..Selection::default() },
            Selection { principal: crate::select::PrincipalFilter::role("app-1").ok(), ..Selection::default() },
        ] {
            let doc = document(200);
            let mut one_by_one = Usage::default();
            read_stream(std::io::Cursor::new(&doc[..]), "f.json", &mut |item| {
                one_by_one.ingest("f.json", item, &selection, &mapper)
            });
            let mut batched = Usage::default();
            read_reader(std::io::Cursor::new(&doc[..]), "f.json", &ReadLimits::default(), &mut |d| {
                batched.ingest_delivered("f.json", d, &selection, &mapper)
            });
            let (a, b) = (serde_json::to_value(&one_by_one).unwrap(), serde_json::to_value(&batched).unwrap());
            assert_eq!(a, b);
            assert_eq!(batched.records_read_with_groups(), 200);
            assert_eq!(batched.counts.records_rejected, 2, "{:?}", batched.rejections);
        }
    }
}
