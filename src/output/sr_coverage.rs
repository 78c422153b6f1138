//! `iamtrim coverage --service-reference`: every operation AWS's Service Reference documents,
//! as a synthesized call (its service's event source, the operation as the event name), through
//! the mapper. The share mapped overall and for operations whose name is not an action of their
//! service, and every action emitted for those checked against the operation's AuthorizedActions.

use std::fmt::Write as _;

use serde::Serialize;

use crate::mapping::mapper::{EventMapper, MappingHint};

/// An operation whose mapping emitted an action the Service Reference does not list for it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutsideAuthorized {
    /// `prefix:Operation`.
    pub operation: String,
    /// The action emitted.
    pub action: String,
}

/// The share of one set of operations that maps.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Share {
    /// Operations considered.
    pub operations: u64,
    /// Of those, mapped to actions (or to no permission, by a reviewed override).
    pub mapped: u64,
}

impl Share {
    /// `mapped / operations` (1 when empty).
    pub fn ratio(&self) -> f64 {
        if self.operations == 0 {
            1.0
        } else {
            self.mapped as f64 / self.operations as f64
        }
    }
}

/// What the Service Reference coverage found.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReferenceCoverage {
    /// Every documented operation of a service with a CloudTrail event source.
    pub all: Share,
    /// Operations whose name is not an action of their own service.
    pub not_named_as_action: Share,
    /// Operations of services with no known event source (not counted above).
    pub no_event_source: u64,
    /// The unmapped operations whose name is not an action, sorted.
    pub unmapped_not_named_as_action: Vec<String>,
    /// Actions emitted from the authorized-actions table outside the operation's
    /// AuthorizedActions (must be none).
    pub outside_authorized: Vec<OutsideAuthorized>,
    /// Reviewed overrides whose actions differ from the Service Reference's (CloudTrail's event
    /// name is not always the API operation's: `PutPublicAccessBlock` is S3 Control's account-level
    /// call), with the override's reason.
    pub overrides_differing: Vec<(OutsideAuthorized, String)>,
}

/// Runs every documented operation through `mapper`.
pub fn measure(mapper: &EventMapper<'_>) -> ServiceReferenceCoverage {
    let catalog = mapper.catalog();
    let mut out = ServiceReferenceCoverage {
        all: Share::default(),
        not_named_as_action: Share::default(),
        no_event_source: 0,
        unmapped_not_named_as_action: Vec::new(),
        outside_authorized: Vec::new(),
        overrides_differing: Vec::new(),
    };
    for (prefix, op) in catalog.documented_operations() {
        let Some(source) = catalog.event_source_for(prefix) else {
            out.no_event_source += 1;
            continue;
        };
        let named = catalog.action(prefix, op).is_some();
        let result = mapper.actions_for(source, op);
        let mapped =
            matches!(result, Ok(ref a) if !a.is_empty()) || matches!(result, Err(MappingHint::NoPermission(_)));
        out.all.operations += 1;
        out.all.mapped += u64::from(mapped);
        if named {
            continue;
        }
        out.not_named_as_action.operations += 1;
        out.not_named_as_action.mapped += u64::from(mapped);
        if !mapped {
            out.unmapped_not_named_as_action.push(format!("{prefix}:{op}"));
        }
        if let (Ok(actions), Some(allowed)) = (&result, catalog.service_reference_actions(prefix, op)) {
            for a in actions {
                if !allowed.iter().any(|x| x.eq_ignore_ascii_case(&a.name)) {
                    let o = OutsideAuthorized { operation: format!("{prefix}:{op}"), action: a.name.clone() };
                    match catalog.overrides().get(&format!("{prefix}:{op}")) {
                        Some(ov) => out.overrides_differing.push((o, ov.reason.clone())),
                        None => out.outside_authorized.push(o),
                    }
                }
            }
        }
    }
    out
}

impl ServiceReferenceCoverage {
    /// For people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "service reference: {} of {} operations mapped ({:.1}%); {} of {} whose name is not an action of their service ({:.1}%); {} operations of services with no known event source not counted",
            self.all.mapped,
            self.all.operations,
            self.all.ratio() * 100.0,
            self.not_named_as_action.mapped,
            self.not_named_as_action.operations,
            self.not_named_as_action.ratio() * 100.0,
            self.no_event_source
        );
        let _ =
            writeln!(s, "actions emitted outside the operation's AuthorizedActions: {}", self.outside_authorized.len());
        for o in &self.outside_authorized {
            let _ = writeln!(s, "  {}: {}", o.operation, o.action);
        }
        if !self.overrides_differing.is_empty() {
            let _ = writeln!(
                s,
                "reviewed overrides that differ from the Service Reference ({}):",
                self.overrides_differing.len()
            );
            for (o, why) in &self.overrides_differing {
                let _ = writeln!(s, "  {}: {} ({why})", o.operation, o.action);
            }
        }
        if !self.unmapped_not_named_as_action.is_empty() {
            let _ = writeln!(s, "unmapped, name not an action ({}):", self.unmapped_not_named_as_action.len());
            for o in &self.unmapped_not_named_as_action {
                let _ = writeln!(s, "  {o}");
            }
        }
        s
    }
}
