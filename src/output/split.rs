//! The table `generate --split-by` prints: each group with its calls, actions, the actions only
//! it uses, its self-check and its file; the actions all groups share; and the check of the
//! policies together.

use std::fmt::Write as _;

use crate::output::text::visible;

/// One group's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    /// The group, as read from the logs.
    pub group: String,
    /// Records of its calls.
    pub calls: u64,
    /// Actions its policy grants.
    pub actions: usize,
    /// Of those, not shared by every group.
    pub own_actions: usize,
    /// Its self-check: calls allowed, calls.
    pub self_check: (u64, u64),
    /// The file its policy was written to.
    pub file: String,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitTable {
    /// `session`, `user-agent`, ...
    pub split_by: &'static str,
    /// How groups were formed.
    pub rule: &'static str,
    /// The groups, in name order.
    pub rows: Vec<SplitRow>,
    /// Actions every group uses.
    pub shared: Vec<String>,
    /// The policies together on every call: allowed, calls.
    pub union: (u64, u64),
}

/// At most this many characters of a group's name are shown in its column.
const GROUP_WIDTH: usize = 40;

impl SplitTable {
    /// The table as text (log-derived names made visible and cut to the column).
    pub fn render(&self) -> String {
        let shown: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                let v = visible(&r.group).into_owned();
                if v.chars().count() > GROUP_WIDTH {
                    v.chars().take(GROUP_WIDTH - 1).collect::<String>() + "~"
                } else {
                    v
                }
            })
            .collect();
        let w = shown.iter().map(|s| s.chars().count()).max().unwrap_or(5).max(5);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<w$}  {:>7}  {:>7}  {:>4}  {:>11}  policy",
            self.split_by, "calls", "actions", "own", "self-check"
        );
        for (r, name) in self.rows.iter().zip(&shown) {
            let pad = w + name.len() - name.chars().count();
            let _ = writeln!(
                s,
                "{name:<pad$}  {:>7}  {:>7}  {:>4}  {:>11}  {}",
                r.calls,
                r.actions,
                r.own_actions,
                format!("{}/{}", r.self_check.0, r.self_check.1),
                r.file
            );
        }
        let _ = writeln!(
            s,
            "shared by all {} groups ({}): {}",
            self.rows.len(),
            self.shared.len(),
            if self.shared.is_empty() { "none".to_string() } else { self.shared.join(", ") }
        );
        let _ = writeln!(
            s,
            "together the {} policies allow {}/{} calls of the role",
            self.rows.len(),
            self.union.0,
            self.union.1
        );
        let _ = writeln!(s, "groups: {}", self.rule);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_group_and_what_all_share_with_log_names_made_harmless() {
        let t = SplitTable {
            split_by: "session",
            rule: "r",
            rows: vec![
                SplitRow {
                    group: "orders".into(),
                    calls: 3,
                    actions: 2,
                    own_actions: 1,
                    self_check: (3, 3),
                    file: "app-orders.json".into(),
                },
                SplitRow {
                    group: "x\u{1b}[2J".into(),
                    calls: 1,
                    actions: 1,
                    own_actions: 0,
                    self_check: (1, 1),
                    file: "app-x-2J.json".into(),
                },
            ],
            shared: vec!["logs:PutLogEvents".into()],
            union: (4, 4),
        };
        let out = t.render();
        assert!(out.contains("orders") && out.contains("app-orders.json"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.contains("shared by all 2 groups (1): logs:PutLogEvents"), "{out}");
        assert!(out.contains("together the 2 policies allow 4/4 calls"), "{out}");
    }
}
