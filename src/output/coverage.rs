//! Mapping coverage of a corpus: for every distinct eventSource/eventName pair, whether it maps
//! to catalog actions. Pairs that AWS documents as no operation of the service, and that no
//! override or catalog action covers, are made-up names (test fixtures) and are counted apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;

use crate::ingest::event::Event;
use crate::ingest::source::{self, Item, Rejection};
use crate::ingest::window::TimeRange;
use crate::mapping::mapper::{EventMapper, MappingHint, Unmapped};
use crate::usage::EventKey;

/// What is known of one pair.
#[derive(Debug, Clone, Default)]
struct PairSeen {
    count: u64,
    principal_types: BTreeSet<String>,
    api_call: bool,
}

/// Coverage of one pair.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PairCoverage {
    /// `eventSource`.
    #[serde(rename = "eventSource")]
    pub source: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub name: String,
    /// Records with this pair.
    pub count: u64,
    /// `userIdentity.type` values seen.
    pub principal_types: Vec<String>,
    /// `mapped`, `no_permission`, `unmapped`, `not_an_operation` or `not_an_api_call`.
    pub status: &'static str,
    /// The actions it maps to (empty unless mapped).
    pub actions: Vec<String>,
    /// Why, when not mapped.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Counts for one group of pairs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CoverageFigures {
    /// Distinct pairs.
    pub pairs: usize,
    /// Pairs that are real operations (documented, or mapped) of API calls.
    pub real_operation_pairs: usize,
    /// Real-operation pairs that map to catalog actions (or need no permission).
    pub mapped_pairs: usize,
    /// `mapped_pairs / real_operation_pairs`, in percent.
    pub coverage_percent: f64,
}

/// A coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    /// Files read.
    pub files_read: u64,
    /// Records read.
    pub records_read: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Rejected records with file, location and reason.
    pub rejected: Vec<crate::output::report::RejectedRecord>,
    /// All pairs.
    pub all_principals: CoverageFigures,
    /// Pairs made by IAM users and assumed roles.
    pub iam_users_and_roles: CoverageFigures,
    /// Every distinct pair.
    pub pair_details: Vec<PairCoverage>,
    /// Actions the corpus maps to, sorted.
    pub actions: Vec<String>,
}

#[derive(Default)]
struct Partial {
    files: u64,
    read: u64,
    rejected: Vec<Rejection>,
    pairs: BTreeMap<EventKey, PairSeen>,
}

/// Measures mapping coverage of every record under `paths`, all principals.
pub fn measure(paths: &[PathBuf], mapper: &EventMapper<'_>) -> CoverageReport {
    let found = source::discover(paths, &TimeRange::unbounded());
    let mut total = found
        .files
        .par_iter()
        .map(|path| {
            let mut p = Partial { files: 1, ..Partial::default() };
            let name = path.display().to_string();
            source::read_file(path, &mut |item| {
                p.read += 1;
                match item {
                    Item::NotALog(_) => p.read -= 1,
                    Item::Rejected(r) => p.rejected.push(r),
                    Item::Record { location, json } => match Event::from_json(json) {
                        Err(e) => p.rejected.push(Rejection {
                            file: name.clone(),
                            location,
                            reason: crate::usage::describe_record_error(&e),
                        }),
                        Ok(ev) => {
                            let seen = p
                                .pairs
                                .entry(EventKey {
                                    source: ev.event_source.to_string(),
                                    name: ev.event_name.to_string(),
                                })
                                .or_default();
                            seen.count += 1;
                            seen.api_call |= ev.is_principal_call();
                            seen.principal_types
                                .insert(ev.user_identity.kind.as_deref().unwrap_or("Unknown").to_string());
                        }
                    },
                }
            });
            p
        })
        .reduce(Partial::default, |mut a, b| {
            a.files += b.files;
            a.read += b.read;
            a.rejected.extend(b.rejected);
            for (k, v) in b.pairs {
                let s = a.pairs.entry(k).or_default();
                s.count += v.count;
                s.api_call |= v.api_call;
                s.principal_types.extend(v.principal_types);
            }
            a
        });
    for r in found.errors {
        total.read += 1;
        total.rejected.push(r);
    }
    total.rejected.sort();

    let mut details = Vec::new();
    let mut actions = BTreeSet::new();
    for (key, seen) in &total.pairs {
        let (status, acts, reason) = classify(key, seen, mapper);
        actions.extend(acts.iter().cloned());
        details.push(PairCoverage {
            source: key.source.clone(),
            name: key.name.clone(),
            count: seen.count,
            principal_types: seen.principal_types.iter().cloned().collect(),
            status,
            actions: acts,
            reason,
        });
    }
    let figures = |keep: &dyn Fn(&PairCoverage) -> bool| {
        let kept: Vec<&PairCoverage> = details.iter().filter(|d| keep(d)).collect();
        let real = kept.iter().filter(|d| matches!(d.status, "mapped" | "no_permission" | "unmapped")).count();
        let mapped = kept.iter().filter(|d| matches!(d.status, "mapped" | "no_permission")).count();
        CoverageFigures {
            pairs: kept.len(),
            real_operation_pairs: real,
            mapped_pairs: mapped,
            coverage_percent: if real == 0 { 100.0 } else { (mapped as f64 * 1000.0 / real as f64).round() / 10.0 },
        }
    };
    let all_principals = figures(&|_| true);
    let iam_users_and_roles = figures(&|d| d.principal_types.iter().any(|t| t == "IAMUser" || t == "AssumedRole"));
    CoverageReport {
        files_read: total.files,
        records_read: total.read,
        records_rejected: total.rejected.len() as u64,
        rejected: total.rejected.iter().map(Into::into).collect(),
        all_principals,
        iam_users_and_roles,
        pair_details: details,
        actions: actions.into_iter().collect(),
    }
}

fn classify(key: &EventKey, seen: &PairSeen, mapper: &EventMapper<'_>) -> (&'static str, Vec<String>, String) {
    if !seen.api_call {
        return (
            "not_an_api_call",
            Vec::new(),
            "only events that are not calls made with the principal's permissions".to_string(),
        );
    }
    match mapper.actions_for(&key.source, &key.name) {
        Ok(acts) => ("mapped", acts.iter().map(|a| a.name.clone()).collect(), String::new()),
        Err(MappingHint::NoPermission(reason)) => ("no_permission", Vec::new(), reason),
        Err(MappingHint::Unmapped(why)) => {
            let catalog = mapper.catalog();
            let documented = match &why {
                Unmapped::NoSuchAction { prefix } => catalog
                    .is_documented_operation(prefix, crate::mapping::mapper::normalize_event_name(prefix, &key.name)),
                // A service missing from the tables is a gap of ours, not a made-up name.
                Unmapped::UnknownEventSource | Unmapped::TriggerNotShown { .. } => true,
            };
            if documented {
                ("unmapped", Vec::new(), why.reason())
            } else {
                ("not_an_operation", Vec::new(), format!("{}; AWS documents no such operation", why.reason()))
            }
        }
    }
}
