//! Putting partial aggregates together: one action's uses ([`ActionUsage::absorb`]), two
//! aggregates ([`Usage::merge`]), and an instance profile's role resolved after the read.

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::*;

impl ActionUsage {
    /// Adds `other`'s calls, resources, events and times to these (contexts kept within bounds).
    pub fn absorb(&mut self, mut other: ActionUsage) {
        // Sets of like size (an audit's partial aggregates, thousands of object ARNs each) are
        // merged in one pass; a few ARNs into many (a day into a year) are inserted one by one.
        if other.resources.len() * 8 < self.resources.len() {
            self.resources.extend(other.resources);
        } else {
            self.resources.append(&mut other.resources);
        }
        self.calls += other.calls;
        self.unresolved += other.unresolved;
        for (k, n) in other.events {
            *self.events.entry(k).or_default() += n;
        }
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = max_time(self.last_seen, other.last_seen);
        self.implied_by.extend(other.implied_by);
        for (c, n) in other.contexts {
            let c = if self.contexts.len() >= MAX_CONTEXTS && !self.contexts.contains_key(&c) {
                CallContext::default()
            } else {
                c
            };
            *self.contexts.entry(c).or_default() += n;
        }
    }
}

impl Usage {
    /// The role of `profile` (an instance profile a call passed, named in `instance_profiles`),
    /// resolved through IAM: `iam:PassRole` on `roles` is now granted for those calls, and the
    /// profile leaves the needed-but-unresolved list (`needed_unresolved` keeps only the events
    /// of profiles still unresolved).
    pub fn resolve_instance_profile(&mut self, profile: &str, roles: &[String], how: &str) {
        let Some(mut u) = self.instance_profiles.remove(profile) else { return };
        if roles.is_empty() {
            self.instance_profiles.insert(profile.to_string(), u);
            return;
        }
        u.resources = roles.iter().cloned().collect();
        u.implied_by = BTreeSet::from([format!("the calls passed instance profile {profile}, whose role {how}")]);
        let events: Vec<EventKey> = u.events.keys().cloned().collect();
        self.actions.entry("iam:PassRole".to_string()).or_default().absorb(u);
        // An event is unresolved while any profile it passed is.
        for key in events {
            let still = self.instance_profiles.values().any(|p| p.events.contains_key(&key));
            if !still {
                self.needed_unresolved.remove(&key);
            }
        }
    }

    /// Keeps the groups (at most the group limit) whose names sort first and merges the others into
    /// [`OTHER_GROUPS`]: which groups are kept depends on the names seen, never on the order they
    /// were read in or how the work was split between threads.
    pub(crate) fn trim_groups(&mut self) {
        let limit = if self.group_limit == 0 { MAX_GROUPS } else { self.group_limit };
        if self.groups.len() <= limit {
            return;
        }
        while self.groups.keys().filter(|k| k.as_str() != OTHER_GROUPS).count() > limit {
            let Some(last) = self.groups.keys().rev().find(|k| k.as_str() != OTHER_GROUPS).cloned() else { break };
            let evicted = self.groups.remove(&last).unwrap_or_default();
            let other = self.groups.remove(OTHER_GROUPS).unwrap_or_default();
            self.groups.insert(OTHER_GROUPS.to_string(), other.merge(evicted));
        }
    }

    /// Adds another partial aggregate into this one.
    pub fn merge(mut self, other: Usage) -> Usage {
        self.counts.add(&other.counts);
        self.rejections.extend(other.rejections);
        self.rejections_not_listed += other.rejections_not_listed;
        if self.rejections.len() >= 2 * MAX_LISTED_REJECTIONS {
            self.trim_rejections();
        }
        for (profile, u) in other.instance_profiles {
            self.instance_profiles.entry(profile).or_default().absorb(u);
        }
        for (name, u) in other.actions {
            self.actions.entry(name).or_default().absorb(u);
        }
        for (target, src) in [
            (&mut self.denied, other.denied),
            (&mut self.unmapped, other.unmapped),
            (&mut self.no_permission, other.no_permission),
            (&mut self.needed_unresolved, other.needed_unresolved),
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
            add_bounded(&mut self.principals_seen, p, n, || OTHER_PRINCIPALS.to_string());
        }
        for (r, n) in other.matched_roles {
            add_bounded(&mut self.matched_roles, r, n, || "(more roles)".to_string());
        }
        self.group_limit = self.group_limit.max(other.group_limit);
        let mut absorbed = other.calls_absorbed;
        if absorbed.len() > self.calls_absorbed.len() {
            std::mem::swap(&mut absorbed, &mut self.calls_absorbed);
        }
        self.calls_absorbed.extend(absorbed);
        if self.calls_absorbed.len() > MAX_ABSORBED_CALLS {
            self.calls_absorbed.clear();
        }
        // The groups of both are merged side by side (the last merge of a read, on one thread
        // otherwise, holds every principal's resources twice).
        let pairs: Vec<(String, Usage, Usage)> = other
            .groups
            .into_iter()
            .map(|(k, g)| {
                let mine = self.groups.remove(&k).unwrap_or_default();
                (k, mine, g)
            })
            .collect();
        let merged: Vec<(String, Usage)> = pairs.into_par_iter().map(|(k, mine, g)| (k, mine.merge(g))).collect();
        self.groups.extend(merged);
        self.trim_groups();
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = max_time(self.last_seen, other.last_seen);
        self
    }
}
