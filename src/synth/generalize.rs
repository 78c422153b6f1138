//! Resource generalization: containers that are never widened across, and the longest common
//! path within one when a statement would name too many ARNs.

use std::collections::{BTreeMap, BTreeSet};

use super::stable::{first_varying, Varying};
use super::{ResourceMode, SynthOptions};

/// A generalization made, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Widening {
    /// The action.
    pub action: String,
    /// How many ARNs were replaced.
    pub replaced: usize,
    /// The pattern that replaced them.
    pub pattern: String,
    /// Why they were collapsed (how many ARNs, in which container, over which limit).
    pub reason: String,
}

/// Splits an ARN into the container that must never be widened across (partition, service,
/// region, account and the resource's first name: bucket, table, log group, function...) and
/// the path below it that may be.
pub fn container_and_path(arn: &str) -> (&str, &str) {
    let Some(fields) = crate::mapping::arn::arn_fields(arn) else { return (arn, "") };
    let resource = fields[5];
    let resource_start = arn.len() - resource.len();
    // S3 buckets and objects: `bucket/key`.
    let cut = if fields[0] == "arn" && fields[2] == "s3" && !resource.bytes().any(|b| b == b':') {
        resource.find('/').map(|i| i + 1)
    } else {
        // `type/name/rest` or `type:name:rest`: keep type and name.
        let sep_at = resource.find(['/', ':']);
        sep_at.and_then(|i| {
            let sep = resource.as_bytes()[i] as char;
            let after = &resource[i + 1..];
            // A name that starts with the separator (log groups `/a/b`) runs to the next other separator.
            let other = if sep == ':' { ':' } else { '/' };
            let skip = usize::from(after.starts_with('/') && sep == ':');
            after[skip..].find(other).map(|j| i + 1 + skip + j + 1)
        })
    };
    match cut {
        Some(c) => arn.split_at(resource_start + c),
        None => (arn, ""),
    }
}

/// Collapses the ARNs of one action per [`SynthOptions`]; returns the resources and widenings.
pub fn generalize(action: &str, resources: &BTreeSet<String>, opts: &SynthOptions) -> (Vec<String>, Vec<Widening>) {
    if resources.contains("*") || resources.is_empty() {
        return (vec!["*".to_string()], Vec::new());
    }
    match opts.resources {
        ResourceMode::Exact => (resources.iter().cloned().collect(), Vec::new()),
        ResourceMode::Service => (
            vec!["*".to_string()],
            vec![Widening {
                action: action.to_string(),
                replaced: resources.len(),
                pattern: "*".into(),
                reason: "--resources service".into(),
            }],
        ),
        ResourceMode::Prefix => Containers::of(action, resources).generalize(action, opts),
    }
}

/// One action's ARNs as prefix generalization reads them before its threshold applies: by
/// container, each container's paths with the names that vary with time or per request
/// generalized, and those generalizations. Read once, generalized at several thresholds (the
/// size loop of `generate` halves `--max-arns-per-statement` until the policy fits).
#[derive(Debug, Clone)]
pub struct Containers<'r> {
    by_container: Vec<(&'r str, Vec<String>, Vec<Widening>)>,
}

impl<'r> Containers<'r> {
    /// The containers of `resources` (ARNs, none of them `*`), used by `action`.
    pub fn of(action: &str, resources: &'r BTreeSet<String>) -> Containers<'r> {
        let mut by_container: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in resources {
            let (c, p) = container_and_path(r);
            by_container.entry(c).or_default().push(p);
        }
        let by_container = by_container
            .into_iter()
            .map(|(container, paths)| {
                let (paths, stable) = time_stable(action, container, &paths);
                (container, paths, stable)
            })
            .collect();
        Containers { by_container }
    }

    /// The resources and widenings of prefix generalization with `opts`' threshold.
    pub fn generalize(&self, action: &str, opts: &SynthOptions) -> (Vec<String>, Vec<Widening>) {
        let mut out = BTreeSet::new();
        let mut widened = Vec::new();
        for (container, paths, stable) in &self.by_container {
            widened.extend(stable.iter().cloned());
            if paths.len() <= opts.max_arns_per_statement || paths.iter().any(|p| p.is_empty()) {
                out.extend(paths.iter().map(|p| format!("{container}{p}")));
                continue;
            }
            let mut common = paths[0].as_str();
            for p in &paths[1..] {
                let n = common.bytes().zip(p.bytes()).take_while(|(a, b)| a == b).count();
                common = &common[..n];
            }
            // Back to a path boundary, so `uploads/2026/10/0` reads `uploads/2026/10/`.
            let keep = common.rfind(['/', ':']).map_or(0, |i| i + 1);
            let pattern = format!("{container}{}*", &common[..keep]);
            widened.push(Widening {
                action: action.to_string(),
                replaced: paths.len(),
                pattern: pattern.clone(),
                reason: format!(
                    "{} ARNs under one container, more than --max-arns-per-statement {}",
                    paths.len(),
                    opts.max_arns_per_statement
                ),
            });
            out.insert(pattern);
        }
        (out.into_iter().collect(), widened)
    }
}

/// The paths of one container with every name that varies with time or per request generalized
/// from its first varying segment (`archive/2026/10/07/r.csv` -> `archive/*`), and what was
/// generalized. A pattern that would cover the whole container (the first segment varies) is
/// made only when two or more names share it: one odd name never opens a container.
fn time_stable(action: &str, container: &str, paths: &[&str]) -> (Vec<String>, Vec<Widening>) {
    let mut patterns: BTreeMap<String, (usize, BTreeSet<Varying>)> = BTreeMap::new();
    let mut kept = Vec::new();
    for p in paths {
        match first_varying(p) {
            Some((at, kind)) => {
                let e = patterns.entry(format!("{}*", &p[..at])).or_default();
                e.0 += 1;
                e.1.insert(kind);
            }
            None => kept.push(p.to_string()),
        }
    }
    let mut widenings = Vec::new();
    for (pattern, (n, kinds)) in patterns {
        if pattern == "*" && n < 2 {
            kept.extend(
                paths.iter().filter(|p| first_varying(p).is_some_and(|(at, _)| at == 0)).map(|p| p.to_string()),
            );
            continue;
        }
        let what: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
        widenings.push(Widening {
            action: action.to_string(),
            replaced: n,
            pattern: format!("{container}{pattern}"),
            reason: format!(
                "{n} name{} with {} segment; later names are allowed too, --resources exact keeps names as seen",
                if n == 1 { "" } else { "s" },
                what.join(" or "),
            ),
        });
        kept.push(pattern);
    }
    kept.sort();
    kept.dedup();
    (kept, widenings)
}
